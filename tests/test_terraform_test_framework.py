"""Where values travel beyond plan/apply: `terraform test` with mocks and module runs (and, on
1.15, a setup run's ephemeral outputs feeding later runs), ephemeral values through a child module's output into a second provider configuration and a write-only
argument, a saved plan applied with another ephemeral value, `import` blocks with `for_each`,
`plan -refresh=false`, a state edited by hand (the upgrade path), and sensitive data source
arguments. Real Terraform (1.11 and the bundled 1.15), moto, canary sweep of every artifact.

What Terraform does here, as observed (1.11.4 and 1.15): `mock_provider` refuses ephemeral
resources ("No ephemeral resource types in mock providers"); `expect_failures` covers custom
conditions and variable validations only, so a provider's own validation error (a recovery window
of 3) fails the run whatever the list says; a run with a `module` block needs `terraform get`
and takes its provider configuration from the test file.
"""

from __future__ import annotations

import hmac
import json
import secrets

import pytest

from harness import canary as canaries
from harness import hcl
from harness import store

pytestmark = [pytest.mark.e2e]


def run_status(res) -> dict[str, str]:
    """run name -> status, from `terraform test -json`."""
    out = {}
    for line in res.json_lines():
        run = line.get("test_run") or {}
        if line.get("type") == "test_run" and run.get("progress") == "complete":
            out[run["run"]] = run["status"]
    return out


MODULE = """\
terraform {
  required_providers {
    offstate = { source = "offstate/offstate" }
  }
}
variable "secret" {
  type      = string
  sensitive = true
  ephemeral = true
}
variable "name" {
  type = string
  validation {
    condition     = can(regex("^[A-Za-z0-9/_+=.@-]+$", var.name))
    error_message = "The name has characters Secrets Manager refuses."
  }
}
variable "window" {
  type    = number
  default = 0
}
resource "offstate_secret" "s" {
  name                    = var.name
  recovery_window_in_days = var.window
  value_wo                = var.secret
  value_wo_version        = "1"
  tags                    = { team = "a" }
}
resource "offstate_secret" "g" {
  name                    = "${var.name}-g"
  recovery_window_in_days = 0
  generate {
    length = 20
  }
}
output "arn" { value = offstate_secret.s.arn }
output "ref" { value = provider::offstate::ref(offstate_secret.s.name, "password") }
"""

MOCKED = """\
mock_provider "offstate" {
  mock_resource "offstate_secret" {
    defaults = {
      arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mock-AbCdEf"
    }
  }
}

run "mocked" {
  command = apply
  module {
    source = "./mod"
  }
  variables {
    name = "NAME-mock"
  }
  assert {
    condition     = offstate_secret.s.value_wo == null && output.arn == "arn:aws:secretsmanager:us-east-1:123456789012:secret:mock-AbCdEf"
    error_message = "the mocked secret is not as expected"
  }
}
"""

REAL = """\
provider "offstate" {
  region   = "us-east-1"
  endpoint = "ENDPOINT"
}

variables {
  name = "NAME"
}

run "apply" {
  command = apply
  module {
    source = "./mod"
  }
  assert {
    condition     = offstate_secret.s.value_wo == null && startswith(output.arn, "arn:aws:secretsmanager:")
    error_message = "the secret's state is not as expected"
  }
  assert {
    condition     = output.ref == "ref+awssecrets://NAME#/password"
    error_message = "the reference is not the expected one"
  }
}

run "plan_again_without_refresh" {
  command = plan
  module {
    source = "./mod"
  }
  plan_options {
    refresh = false
  }
  assert {
    condition     = offstate_secret.s.version_id != null && offstate_secret.s.value_wo == null
    error_message = "no version id"
  }
}

run "bad_name_expected" {
  command = plan
  module {
    source = "./mod"
  }
  variables {
    name = "bad name!"
  }
  expect_failures = [var.name]
}

# Last: a provider diagnostic is an error, not an expected failure, and stops the file.
run "provider_validation_is_not_an_expected_failure" {
  command = plan
  module {
    source = "./mod"
  }
  variables {
    window = 3
  }
  expect_failures = [offstate_secret.s]
}
"""


@pytest.mark.parametrize("terraform", ["default", "bundled"])
def test_terraform_test_with_mocks_and_module_runs(ws, sm, terraform):
    if terraform == "bundled":
        ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    ws.write(hcl.header())
    (ws.dir / "mod").mkdir()
    ws.write(MODULE, "mod/main.tf")
    (ws.dir / "tests").mkdir()
    ws.write(MOCKED.replace("NAME", name), "tests/mocked.tftest.hcl")
    ws.write(REAL.replace("NAME", name).replace("ENDPOINT", ws.endpoint), "tests/real.tftest.hcl")
    ws.tf("get")

    res = ws.tf("test", "-no-color", "-verbose", expect=1)
    assert "(write-only attribute)" in res.stdout, "the -verbose state shows the write-only attributes"
    assert store.status(sm, name) == "gone", "torn down after the file"
    res = ws.tf("test", "-json", expect=1)
    assert run_status(res) == {
        "mocked": "pass",
        "apply": "pass",
        "plan_again_without_refresh": "pass",
        "bad_name_expected": "pass",
        "provider_validation_is_not_an_expected_failure": "error",
    }, run_status(res)
    errors = [
        line["diagnostic"]
        for line in res.json_lines()
        if line.get("diagnostic", {}).get("severity") == "error"
    ]
    assert any(d["summary"] == "Invalid recovery window" for d in errors), [d["summary"] for d in errors]
    assert store.status(sm, name) == "gone"
    ws.sweep()


SETUP = """\
terraform {
  required_providers {
    offstate = { source = "offstate/offstate" }
  }
}
provider "offstate" {
  region   = "us-east-1"
  endpoint = "ENDPOINT"
}
ephemeral "offstate_password" "pw" {
  length = 24
}
ephemeral "offstate_secret_value" "src" {
  secret_id = "SRC"
}
output "pw" {
  value     = ephemeral.offstate_password.pw.result
  ephemeral = true
}
output "src" {
  value     = ephemeral.offstate_secret_value.src.value
  ephemeral = true
}
"""

EPHEMERAL_RUNS = """\
run "setup" {
  command = apply
  module {
    source = "./setup"
  }
}

run "from_the_read" {
  command = apply
  variables {
    secret = run.setup.src
  }
  assert {
    condition     = offstate_secret.s.value_wo == null && offstate_secret.s.version_id != null
    error_message = "the secret's state is not as expected"
  }
}

run "from_the_password" {
  command = apply
  variables {
    secret = run.setup.pw
  }
}

run "assert_on_the_value_fails" {
  command = plan
  variables {
    secret = run.setup.src
  }
  assert {
    condition     = var.secret == "not-the-value"
    error_message = "the variable is not the expected value"
  }
}
"""


def test_ephemeral_run_outputs_feed_the_next_runs(ws, sm):
    """Terraform 1.15: a setup run's ephemeral outputs (an offstate_secret_value read, an
    offstate_password) become the ephemeral variable of later runs; a failed assertion on it
    shows "(ephemeral value)" or "(sensitive value)", never the value. 1.11 refuses ephemeral
    outputs in a run's root module."""
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    c = ws.canary()
    name = ws.name()
    sm.create_secret(Name=f"{name}-src", SecretString=c.reveal())
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    (ws.dir / "setup").mkdir()
    ws.write(SETUP.replace("ENDPOINT", ws.endpoint).replace("SRC", f"{name}-src"), "setup/main.tf")
    (ws.dir / "tests").mkdir()
    ws.write(EPHEMERAL_RUNS, "tests/ephemeral.tftest.hcl")
    ws.tf("get")
    res = ws.tf("test", "-no-color", "-verbose", expect=1)
    # Terraform names one of the value's marks, and which one varies from run to run (seen: 1 run
    # in 4 says "(sensitive value)"); either way the value itself is not shown (the sweep).
    assert "(ephemeral value)" in res.stderr or "(sensitive value)" in res.stderr, res.stderr
    res = ws.tf("test", "-json", expect=1)
    assert run_status(res) == {
        "setup": "pass",
        "from_the_read": "pass",
        "from_the_password": "pass",
        "assert_on_the_value_fails": "fail",
    }, run_status(res)
    assert store.status(sm, name) == "gone"
    ws.sweep()


CHILD = """\
terraform {
  required_providers {
    offstate = { source = "offstate/offstate" }
  }
}
variable "secret_id" { type = string }
ephemeral "offstate_secret_value" "r" {
  secret_id = var.secret_id
}
output "value" {
  value     = ephemeral.offstate_secret_value.r.value
  ephemeral = true
}
"""


@pytest.mark.parametrize("terraform", ["default", "bundled"])
def test_an_ephemeral_module_output_configures_a_provider_and_feeds_a_write_only_argument(ws, sm, terraform):
    """A child module's ephemeral output, through locals and jsonencode, becomes the external_id
    of a second (aliased) provider configuration assuming a role, and the value_wo of a secret
    that provider manages; `console` shows it as unknown."""
    if terraform == "bundled":
        ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    c = ws.canary()
    ws.set_var("secret", ws.canary("unused"))
    name = ws.name()
    sm.create_secret(Name=f"{name}-src", SecretString=c.reveal())
    doc = ws.watch(canaries.Canary(json.dumps({"password": c.reveal()}, separators=(",", ":"))))
    ws.env["AWS_ENDPOINT_URL_STS"] = ws.endpoint
    (ws.dir / "child").mkdir()
    ws.write(CHILD, "child/main.tf")
    ws.write(
        hcl.config(
            ws.endpoint,
            f'module "child" {{\n  source    = "./child"\n  secret_id = "{name}-src"\n}}\n'
            "locals {\n  v = module.child.value\n  j = jsonencode({ password = local.v })\n}\n"
            'provider "offstate" {\n'
            '  alias    = "b"\n'
            f'  endpoint = "{ws.endpoint}"\n'
            '  region   = "us-east-1"\n'
            "  assume_role {\n"
            '    role_arn     = "arn:aws:iam::123456789012:role/copier"\n'
            '    session_name = "copier"\n'
            "    external_id  = local.v\n"
            "  }\n"
            "}\n"
            'resource "offstate_secret" "copy" {\n'
            "  provider                = offstate.b\n"
            f'  name                    = "{name}-copy"\n'
            "  recovery_window_in_days = 0\n"
            "  value_wo                = local.j\n"
            "  value_wo_version        = 1\n"
            "}\n",
        )
    )
    ws.tf("get")
    plan = ws.plan()
    assert plan.actions("offstate_secret.copy") == ["create"], plan.summary()
    ws.apply(plan)
    got = store.read_value(sm, f"{name}-copy")
    assert hmac.compare_digest(got.encode(), doc.reveal().encode()), "the copy is not the JSON of the source"
    ws.assert_no_changes()
    res = ws.tf("console", stdin="module.child.value\n")
    assert res.stdout.strip() == "(known after apply)", res.stdout
    ws.destroy()
    ws.sweep()


@pytest.mark.parametrize("terraform", ["default", "bundled"])
def test_saved_plan_applied_with_another_value_import_for_each_and_no_refresh(ws, sm, terraform):
    """A saved plan made with one ephemeral value and applied with another writes the apply's
    value (and the plan file holds neither); `import` with `for_each` over two existing secrets;
    `ref()` in a variable validation, a check and an output's keys; `state show` / `show` of
    imported and created secrets; a trigger change planned with -refresh=false."""
    if terraform == "bundled":
        ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    at_plan, at_apply = ws.canary("plan"), ws.canary("apply")
    ws.set_var("secret", at_plan)
    name = ws.name()
    for k in ("a", "b"):
        sm.create_secret(Name=f"{name}-imp-{k}", SecretString=ws.canary(f"imported-{k}").reveal())
    imports = (
        'locals {\n  keys = toset(["a", "b"])\n}\n'
        "import {\n  for_each = local.keys\n  to       = offstate_secret.imp[each.key]\n"
        f'  id       = "{name}-imp-${{each.key}}"\n}}\n'
        'resource "offstate_secret" "imp" {\n  for_each = local.keys\n'
        f'  name     = "{name}-imp-${{each.key}}"\n  recovery_window_in_days = 0\n}}\n'
    )
    refs = (
        'variable "k" {\n  type    = string\n  default = "password"\n'
        '  validation {\n    condition     = startswith(provider::offstate::ref("x", var.k), "ref+")\n'
        '    error_message = "k"\n  }\n}\n'
        'check "refs" {\n  assert {\n    condition     = provider::offstate::ref(var.secret) != ""\n'
        '    error_message = "ref"\n  }\n}\n'
        'output "refs" {\n  value = { for k, s in offstate_secret.imp : provider::offstate::ref(s.name, k) => s.arn }\n}\n'
    )

    def write(version: str) -> None:
        ws.write(
            hcl.config(
                ws.endpoint,
                hcl.secret(name=name, value_wo_version=version, recovery_window_in_days=0),
                imports,
                refs,
            )
        )

    write("1")
    plan = ws.plan()
    assert plan.actions("offstate_secret.s") == ["create"], plan.summary()
    for k in ("a", "b"):
        change = plan.change(f'offstate_secret.imp["{k}"]')
        assert change.get("importing"), plan.summary()
    ws.set_var("secret", at_apply)
    ws.apply(plan)
    store.assert_value(sm, name, at_apply)
    for k in ("a", "b"):
        assert ws.tf("state", "show", f'offstate_secret.imp["{k}"]').stdout.count("(write-only attribute)") == 2
    ws.tf("show")
    refs_out = json.loads(ws.tf("output", "-json").stdout)["refs"]["value"]
    assert sorted(refs_out) == [f"ref+awssecrets://{name}-imp-a#/a", f"ref+awssecrets://{name}-imp-b#/b"]
    ws.assert_no_changes("after the imports")

    v1 = store.stages(sm, name)["AWSCURRENT"]
    write("2")
    plan = ws.plan("-refresh=false")
    assert plan.actions("offstate_secret.s") == ["update"], plan.summary()
    ws.apply(plan)
    assert store.stages(sm, name)["AWSPREVIOUS"] == v1
    store.assert_value(sm, name, at_apply)
    ws.destroy()
    ws.sweep()


@pytest.mark.parametrize("planted_at", ["value_wo", "unknown_attribute", "generate_member"])
def test_a_hand_edited_state_with_a_value_is_upgraded_without_it(ws, sm, planted_at):
    """A state edited by hand, or written by another provider of the same type name, holding a
    value where this schema has none (value_wo, an attribute or a generate member it does not
    know): UpgradeResourceState drops it, and no later artifact shows it."""
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    path = ws.dir / "terraform.tfstate"
    state = json.loads(path.read_text())
    attrs = state["resources"][0]["instances"][0]["attributes"]
    planted = ws.canary("planted").reveal()
    if planted_at == "value_wo":
        attrs["value_wo"] = planted
    elif planted_at == "unknown_attribute":
        attrs["secret_string"] = planted
    else:
        attrs["generate"] = {"length": 20, "result": planted}
    state["serial"] += 1
    path.write_text(json.dumps(state))
    ws.tf("apply", "-input=false", "-auto-approve", "-refresh-only")
    ws.remove("terraform.tfstate.backup")  # the edited state, the test's own input
    attrs = ws.attributes("offstate_secret.s")
    assert attrs["value_wo"] is None and "secret_string" not in attrs
    assert "result" not in (attrs.get("generate") or {})
    ws.tf("state", "show", "offstate_secret.s")
    ws.plan()
    ws.destroy()
    ws.sweep()


def test_sensitive_filters_of_the_secrets_data_source_are_not_repeated(ws, sm):
    """`data "offstate_secrets"` with a sensitive variable as a filter (data sources refuse
    ephemeral values, not sensitive ones). Terraform keeps the mark on the argument only; the
    data source's `id` was made from the filters and showed the value in clear: "Read complete
    [id=...tag_value=<value>]", the plan's output, `show`, and unmarked in the state. A sensitive
    argument is in the state by Terraform's design (marked, under sensitive_attributes), so this
    token is searched for outside that one place (`show -json` prints it there too, with its mark
    in sensitive_values) rather than swept as a canary."""
    ws.canary("unused")  # the sweep runs; the token below is checked by hand
    token = f"offstate-token-{secrets.token_hex(16)}"
    ws.env["TF_VAR_token"] = token
    name = ws.name()
    sm.create_secret(Name=name, SecretString="not-the-token", Tags=[{"Key": "team", "Value": "a"}])
    ws.write(
        hcl.header()
        + hcl.provider(ws.endpoint)
        + 'variable "token" {\n  type      = string\n  sensitive = true\n}\n'
        + 'data "offstate_secrets" "by_token" {\n  tag_value = var.token\n}\n'
        + f'data "offstate_secrets" "mine" {{\n  name_prefix = "{name}"\n  tags = {{ team = "a" }}\n}}\n'
        + 'output "id" { value = data.offstate_secrets.by_token.id }\n'
        + 'output "names" { value = data.offstate_secrets.mine.names }\n'
    )
    shown = [ws.apply().output, ws.tf("show").output, ws.tf("output", "-json").stdout]
    shown.append(ws.tf("plan", "-input=false").output)
    assert not any(token in text for text in shown), "the sensitive filter is shown in clear"
    out = json.loads(shown[2])
    assert out["names"]["value"] == [name]
    assert out["id"]["value"] == "us-east-1", "id is the region"
    state = ws.state()
    for r in state["resources"]:
        inst = r["instances"][0]
        attrs = dict(inst["attributes"])
        if r["name"] == "by_token":
            assert attrs.pop("tag_value") == token
            assert {"type": "get_attr", "value": "tag_value"} in sum(inst["sensitive_attributes"], [])
        assert token not in json.dumps(attrs), f"{r['name']}: the token is in another attribute"
