"""The Terraform CLI beyond init/plan/apply: every other way Terraform shows, tests or evaluates
what offstate handed it, with a canary in play and the full sweep afterwards.

- the machine-readable UI (`plan -json`, `apply -json` of a saved plan), `show` (human) of a saved
  plan and of the state, `state show`, `state pull`, `graph`, `plan -destroy`, `-replace=`,
  `output -raw`, `console` (stdin-driven), `providers schema -json` under TF_LOG=trace;
- `terraform test`: run blocks that plan and apply, assertions that fail on purpose on the
  secret (Terraform 1.15 prints the compared values of a failed assertion), `expect_failures`
  on a check block and a precondition reading the value, `-verbose` (every run's plan and state)
  and `-json`;
- values where Terraform puts values into error messages: failing conditions over an ephemeral
  read, a `validation` of the ephemeral variable, a value of the wrong type, a value too large for
  Secrets Manager, a JSON key that is not there;
- `-parallelism=10` over 20 secrets and 20 ephemeral reads (interleaved trace logs).

What Terraform does with our values, as observed (Terraform 1.11 and 1.15): a provider function's
result carries the marks of its arguments (the provider cannot mark it), so
`ref(var.secret)` shows as `(sensitive value)`; an ephemeral resource cannot be asserted in
`terraform test` ("Ephemeral resources cannot be asserted"); a failed condition over an ephemeral
value names the expression, not the value; a failed test assertion's diff shows
`(ephemeral value)`.
"""

from __future__ import annotations

import json

import pytest

from harness import canary as canaries
from harness import hcl
from harness import store

pytestmark = [pytest.mark.e2e]


def diagnostics(res) -> list[dict]:
    return [line["diagnostic"] for line in res.json_lines() if line.get("type") == "diagnostic"]


def summaries(res) -> list[str]:
    return [d.get("summary", "") for d in diagnostics(res)]


def reads_config(ws, name: str, *extra: str, fail_check: bool = True) -> str:
    """A secret from var.secret, an ephemeral read of it copied into a second secret, an
    ephemeral password into a third, a check block over the read value (failing on purpose when
    var.fail_check), a precondition over it (enforced when var.strict), and the ref() function."""
    return hcl.config(
        ws.endpoint,
        hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0),
        'ephemeral "offstate_secret_value" "r" {\n'
        "  secret_id = offstate_secret.s.arn\n"
        "}\n"
        'resource "offstate_secret" "copy" {\n'
        f'  name = "{name}-copy"\n'
        "  recovery_window_in_days = 0\n"
        "  value_wo         = ephemeral.offstate_secret_value.r.value\n"
        "  value_wo_version = offstate_secret.s.version_id\n"
        "}\n"
        'ephemeral "offstate_password" "pw" {\n  length = 24\n}\n'
        'resource "offstate_secret" "pw" {\n'
        f'  name = "{name}-pw"\n'
        "  recovery_window_in_days = 0\n"
        "  value_wo         = ephemeral.offstate_password.pw.result\n"
        '  value_wo_version = "1"\n'
        "}\n"
        # Fails on purpose (when var.fail_check): a warning naming the block.
        'variable "fail_check" {\n  type    = bool\n  default = ' + ("true" if fail_check else "false") + "\n}\n"
        'check "differs" {\n'
        "  assert {\n"
        '    condition     = !var.fail_check || ephemeral.offstate_secret_value.r.value == "not-the-value"\n'
        '    error_message = "the secret is not the expected one"\n'
        "  }\n"
        "}\n"
        'variable "strict" {\n  type    = bool\n  default = false\n}\n'
        'resource "terraform_data" "gate" {\n'
        "  lifecycle {\n"
        "    precondition {\n"
        '      condition     = !var.strict || ephemeral.offstate_secret_value.r.value == "not-the-value"\n'
        '      error_message = "the gate is closed"\n'
        "    }\n"
        "  }\n"
        "}\n"
        'output "ref" { value = provider::offstate::ref(offstate_secret.s.name, "password") }\n'
        'output "arn" { value = offstate_secret.s.arn }\n',
        *extra,
    )


def test_every_cli_view_of_a_secret_and_its_reads(ws, sm):
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    ws.write(reads_config(ws, name))

    # plan -json into a saved plan (the secret the check reads is not there yet).
    res = ws.tf("plan", "-input=false", "-json", "-out=01.tfplan")
    assert "Check block assertion known after apply" in summaries(res), summaries(res)
    changes = [line for line in res.json_lines() if line.get("type") == "planned_change"]
    assert len(changes) == 4, [ch["change"]["resource"]["addr"] for ch in changes]
    ws.plans.append(ws.dir / "01.tfplan")
    human = ws.tf("show", "01.tfplan").stdout
    assert human.count("(write-only attribute)") >= 6, human  # value_wo and binary_wo, three secrets
    ws.show_json("01.tfplan")

    # apply -json: the check block's failure is a warning naming the block, not the value.
    res = ws.tf("apply", "-input=false", "-json", "01.tfplan")
    assert any(line.get("type") == "apply_complete" for line in res.json_lines())
    check = [d for d in diagnostics(res) if d["summary"] == "Check block assertion failed"]
    assert [d["detail"] for d in check] == ["the secret is not the expected one"], summaries(res)
    store.assert_value(sm, name, c)
    store.assert_value(sm, f"{name}-copy", c)
    pw = ws.watch(canaries.Canary(store.read_value(sm, f"{name}-pw")))
    assert len(pw.reveal()) == 24

    # Every way of looking at the state.
    assert "value_wo" in ws.tf("show").stdout
    shown = ws.tf("state", "show", "offstate_secret.copy").stdout
    assert f'"{name}-copy"' in shown, shown
    pulled = json.loads(ws.tf("state", "pull").stdout)
    for r in pulled["resources"]:
        if r["type"] == "offstate_secret":
            attrs = r["instances"][0]["attributes"]
            assert attrs["value_wo"] is None and attrs["binary_wo"] is None, r["name"]
    assert sorted(ws.tf("state", "list").stdout.split()) == [
        "offstate_secret.copy",
        "offstate_secret.pw",
        "offstate_secret.s",
        "terraform_data.gate",
    ]
    graph = ws.tf("graph").stdout
    assert "offstate_secret.copy" in graph and "digraph" in graph
    assert ws.tf("output", "-raw", "ref").stdout == f"ref+awssecrets://{name}#/password"
    assert json.loads(ws.tf("output", "-json").stdout)["arn"]["value"].startswith("arn:aws:secretsmanager:")

    # console: the resource (write-only attributes as sensitive), the function over a
    # sensitive argument (Terraform marks the result), the ephemeral read (not opened there).
    res = ws.tf(
        "console",
        stdin='{ s = offstate_secret.s, r = ephemeral.offstate_secret_value.r, f = provider::offstate::ref(var.secret, "k"), g = provider::offstate::ref(offstate_secret.s.name) }\n',
    )
    assert '"value_wo" = (sensitive value)' in res.stdout, res.stdout
    assert '"f" = (sensitive value)' in res.stdout, res.stdout
    assert f'"g" = "ref+awssecrets://{name}"' in res.stdout, res.stdout
    # A function error over a sensitive argument names the parameter, not the value.
    res = ws.tf("console", stdin='provider::offstate::ref(var.secret, "")\n', expect=1)
    assert 'Invalid value for "json_key" parameter' in res.stderr, res.stderr

    # The precondition over the read value, enforced: an error naming the resource only.
    res = ws.tf("plan", "-input=false", "-json", "-var=strict=true", expect=1)
    assert "Resource precondition failed" in summaries(res), summaries(res)
    gate = [d for d in diagnostics(res) if d["summary"] == "Resource precondition failed"][0]
    assert gate["detail"] == "the gate is closed", gate

    # -replace: the copy is written again from a new ephemeral read, through a saved plan.
    v1 = store.stages(sm, f"{name}-copy")["AWSCURRENT"]
    plan = ws.plan("-replace=offstate_secret.copy")
    assert plan.actions("offstate_secret.copy") == ["delete", "create"], plan.summary()
    ws.tf("show", plan.path.name)
    ws.apply(plan)
    assert store.stages(sm, f"{name}-copy")["AWSCURRENT"] != v1
    store.assert_value(sm, f"{name}-copy", c)

    # terraform query -json (1.14+: the bundled Terraform), resource objects included.
    ws.write(
        'list "offstate_secret" "mine" {\n'
        "  provider = offstate\n"
        "  include_resource = true\n"
        f'  config {{\n    name_prefix = "{name}"\n  }}\n'
        "}\n",
        name="mine.tfquery.hcl",
    )
    # A list block takes ephemeral values too: the secret as a name prefix finds nothing. Only
    # the human view: `query -json` (Terraform 1.15.x) prints each list block's input_config with
    # the value in clear, beside "sensitive_attribute_paths": [".name_prefix"] (Terraform's, not
    # ours: docs/list-resources/secret.md says so).
    ws.write(
        'list "offstate_secret" "wrong" {\n'
        "  provider = offstate\n"
        "  config {\n    name_prefix = var.secret\n  }\n"
        "}\n",
        name="wrong.tfquery.hcl",
    )
    saved = ws.env.get("OFFSTATE_TERRAFORM")
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    try:
        ws.tf("query")
        ws.remove("wrong.tfquery.hcl")
        res = ws.tf("query", "-json")
    finally:
        ws.env.pop("OFFSTATE_TERRAFORM")
        if saved is not None:
            ws.env["OFFSTATE_TERRAFORM"] = saved
    ws.remove("mine.tfquery.hcl")
    found = [line["list_resource_found"] for line in res.json_lines() if line.get("type") == "list_resource_found"]
    assert sorted(f["display_name"] for f in found) == [name, f"{name}-copy", f"{name}-pw"], found
    assert {f["address"] for f in found} == {"list.offstate_secret.mine"}, found

    # plan -destroy, human and JSON, then the destroy itself as a saved plan.
    plan = ws.plan("-destroy")
    assert plan.actions("offstate_secret.s") == ["delete"], plan.summary()
    ws.tf("show", plan.path.name)
    ws.tf("plan", "-input=false", "-destroy", "-json")
    ws.apply(plan)
    assert store.status(sm, name) == "gone"

    # The schema, under TF_LOG=trace: what should be sensitive is.
    schema = ws.tf("providers", "schema", "-json").json()
    p = schema["provider_schemas"]["registry.terraform.io/offstate/offstate"]
    for attr in ("value_wo", "binary_wo"):
        a = p["resource_schemas"]["offstate_secret"]["block"]["attributes"][attr]
        assert a.get("sensitive") and a.get("write_only"), (attr, a)
    assert p["ephemeral_resource_schemas"]["offstate_secret_value"]["block"]["attributes"]["value"].get("sensitive")
    assert p["ephemeral_resource_schemas"]["offstate_password"]["block"]["attributes"]["result"].get("sensitive")
    ws.sweep()


TFTEST = """\
run "create" {
  command = apply
  assert {
    condition     = offstate_secret.s.value_wo == null && output.ref == "ref+awssecrets://NAME#/password"
    error_message = "the secret's state is not as expected"
  }
}

run "assert_on_the_variable_fails" {
  command = plan
  assert {
    condition     = var.secret == "not-the-value"
    error_message = "the variable is not the expected value"
  }
}

run "assert_on_a_function_of_the_value_fails" {
  command = plan
  assert {
    condition     = provider::offstate::ref(var.secret) == "not-the-value"
    error_message = "the reference is not the expected one"
  }
}

run "check_block_failure_expected" {
  command = apply
  variables {
    fail_check = true
  }
  expect_failures = [check.differs]
}

run "precondition_failure_expected" {
  command = plan
  variables {
    strict = true
  }
  expect_failures = [terraform_data.gate]
}

# Last: an error stops the file (the later runs would be skipped).
run "assert_on_the_ephemeral_read_is_refused" {
  command = apply
  assert {
    condition     = ephemeral.offstate_secret_value.r.value == "not-the-value"
    error_message = "the read is not the expected value"
  }
}
"""

# run name -> the status `terraform test -json` must give it
EXPECTED_RUNS = {
    "create": "pass",
    "assert_on_the_variable_fails": "fail",
    "assert_on_a_function_of_the_value_fails": "fail",
    "check_block_failure_expected": "pass",
    "precondition_failure_expected": "pass",
    "assert_on_the_ephemeral_read_is_refused": "error",
}


@pytest.mark.parametrize("terraform", ["default", "bundled"])
def test_terraform_test_with_failing_assertions_on_the_value(ws, sm, terraform):
    if terraform == "bundled":
        ws.env["OFFSTATE_TERRAFORM"] = "bundled"  # 1.15: a failed assertion prints a diff of values
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    ws.write(reads_config(ws, name, fail_check=False))
    (ws.dir / "tests").mkdir()
    ws.write(TFTEST.replace("NAME", name), "tests/cli.tftest.hcl")

    res = ws.tf("test", "-no-color", "-verbose", expect=1)
    assert "the variable is not the expected value" in res.output, res.output
    assert "the reference is not the expected one" in res.output, res.output
    # Terraform tore everything down after the file.
    assert store.status(sm, name) == "gone"

    res = ws.tf("test", "-json", expect=1)
    status = {}
    for line in res.json_lines():
        run = line.get("test_run") or {}
        if line.get("type") == "test_run" and run.get("progress") == "complete":
            status[run["run"]] = run["status"]
    assert status == EXPECTED_RUNS, status
    assert store.status(sm, name) == "gone"
    ws.sweep()


def test_values_in_error_messages(ws, sm):
    """Bad values and failing conditions: each diagnostic names the attribute or the block."""
    c = ws.canary()
    ws.set_var("secret", c)
    doc = ws.watch(canaries.wrap(json.dumps({"user": "app", "password": c.reveal(), "port": 5432})))
    src = ws.name() + "-json"
    sm.create_secret(Name=src, SecretString=doc.reveal())
    name = ws.name()

    def plan_errors(*blocks: str, variable: str | None = None) -> list[dict]:
        ws.write(hcl.config(ws.endpoint, *blocks, variables=() if variable else ("secret",)) + (variable or ""))
        res = ws.tf("plan", "-input=false", "-json", expect=1)
        errors = [d for d in diagnostics(res) if d["severity"] == "error"]
        assert errors, res.stdout
        return errors

    def secret_block(resource: str, attr: str, expr: str) -> str:
        return (
            f'resource "offstate_secret" "{resource}" {{\n'
            f'  name = "{name}-{resource}"\n'
            "  recovery_window_in_days = 0\n"
            f"  {attr} = {expr}\n"
            '  value_wo_version = "1"\n'
            "}\n"
        )

    # A validation of the ephemeral variable that fails; its message may not quote it.
    errors = plan_errors(
        hcl.secret(name=name, value_wo_version="1"),
        variable=(
            'variable "secret" {\n'
            "  type      = string\n"
            "  sensitive = true\n"
            "  ephemeral = true\n"
            "  validation {\n"
            "    condition     = length(var.secret) < 10\n"
            '    error_message = "the secret must be short"\n'
            "  }\n"
            "}\n"
        ),
    )
    assert [d["summary"] for d in errors] == ["Invalid value for variable"], errors

    # Wrong type, not base64, too large: Terraform's or our diagnostic, on the attribute.
    errors = plan_errors(secret_block("obj", "value_wo", "{ password = var.secret }"))
    # 1.11 ends at "string required."; 1.15 adds ", but have object.": a type, never the value.
    assert [d["summary"] for d in errors] == ["Incorrect attribute value type"], errors
    assert errors[0]["detail"].startswith('Inappropriate value for attribute "value_wo": string required'), errors
    errors = plan_errors(
        secret_block("bin", "binary_wo", "var.secret"),
        secret_block("big", "value_wo", 'join("", [for i in range(1000) : var.secret], [for i in range(1000) : var.secret])'),
    )
    by_summary = {d["summary"]: d for d in errors}
    assert set(by_summary) == {"Invalid binary_wo", "Secret value too large"}, errors
    assert by_summary["Secret value too large"]["address"] == "offstate_secret.big"
    assert "value_wo" in by_summary["Secret value too large"]["snippet"]["code"]
    assert "65536 bytes" in by_summary["Secret value too large"]["detail"]

    # Reads of a JSON secret: a missing key and a non-string key; failing conditions over them.
    errors = plan_errors(
        f'ephemeral "offstate_secret_value" "missing" {{\n  secret_id = "{src}"\n  json_key = "nope"\n}}\n'
        f'ephemeral "offstate_secret_value" "port" {{\n  secret_id = "{src}"\n  json_key = "port"\n}}\n'
        f'ephemeral "offstate_secret_value" "pw" {{\n  secret_id = "{src}"\n  json_key = "password"\n'
        "  lifecycle {\n    postcondition {\n"
        '      condition     = self.value == "not-the-value"\n'
        '      error_message = "postcondition over the value"\n'
        "    }\n  }\n}\n"
        + secret_block("port", "value_wo", "ephemeral.offstate_secret_value.port.value")
        + 'check "port_is_text" {\n  assert {\n'
        '    condition     = ephemeral.offstate_secret_value.port.value == "5432"\n'
        '    error_message = "the port is not 5432"\n  }\n}\n'
        'check "whole" {\n  assert {\n'
        f'    condition     = jsondecode(ephemeral.offstate_secret_value.pw.value) == {{ password = "x" }}\n'
        '    error_message = "never"\n  }\n}\n'
    )
    by_summary = {d["summary"]: d for d in errors}
    assert set(by_summary) >= {"Cannot select json_key", "Resource postcondition failed"}, errors
    missing = by_summary["Cannot select json_key"]
    assert missing["address"] == "ephemeral.offstate_secret_value.missing", missing
    assert "no key that json_key names" in missing["detail"], missing
    assert by_summary["Resource postcondition failed"]["detail"] == "postcondition over the value"

    # A key holding a number: its JSON text, a string, is what value_wo gets.
    ws.write(
        hcl.config(
            ws.endpoint,
            f'ephemeral "offstate_secret_value" "port" {{\n  secret_id = "{src}"\n  json_key = "port"\n}}\n'
            + secret_block("port", "value_wo", "ephemeral.offstate_secret_value.port.value"),
        )
    )
    ws.apply()
    assert store.read_value(sm, f"{name}-port") == "5432"
    ws.destroy()
    ws.sweep()


def test_parallel_applies_of_twenty_secrets_and_reads(ws, sm):
    """-parallelism=10: twenty values written, read back ephemerally and copied at once; the
    interleaved trace logs of twenty concurrent RPCs hold none of them."""
    keys = [f"k{i:02d}" for i in range(20)]
    values = {k: ws.canary(k) for k in keys}
    ws.set_var("secrets", ws.watch(canaries.wrap(json.dumps({k: v.reveal() for k, v in values.items()}))))
    prefix = ws.name()
    ws.write(
        hcl.config(
            ws.endpoint,
            f"locals {{\n  keys = toset({json.dumps(keys)})\n}}\n"
            'resource "offstate_secret" "s" {\n'
            "  for_each = local.keys\n"
            f'  name = "{prefix}/${{each.key}}"\n'
            "  recovery_window_in_days = 0\n"
            "  value_wo         = jsondecode(var.secrets)[each.key]\n"
            '  value_wo_version = "1"\n'
            "}\n"
            'ephemeral "offstate_secret_value" "r" {\n'
            "  for_each  = local.keys\n"
            "  secret_id = offstate_secret.s[each.key].arn\n"
            "}\n"
            'resource "offstate_secret" "copy" {\n'
            "  for_each = local.keys\n"
            f'  name = "{prefix}/${{each.key}}-copy"\n'
            "  recovery_window_in_days = 0\n"
            "  value_wo         = ephemeral.offstate_secret_value.r[each.key].value\n"
            "  value_wo_version = offstate_secret.s[each.key].version_id\n"
            "}\n",
            variables=("secrets",),
        )
    )
    ws.apply(None, "-parallelism=10")
    for k in (keys[0], keys[7], keys[19]):
        store.assert_value(sm, f"{prefix}/{k}-copy", values[k])
    ws.assert_no_changes("twenty secrets and copies")
    ws.destroy("-parallelism=10")
    assert store.status(sm, f"{prefix}/{keys[3]}") == "gone"
    ws.sweep()


@pytest.mark.parametrize("argument", ["secret_id", "version_id", "version_stage", "json_key"])
def test_an_ephemeral_value_in_a_read_argument_is_not_echoed(ws, sm, argument):
    """Terraform lets an ephemeral resource's arguments take ephemeral values, so
    `secret_id = var.db_password` (meant: the secret's name) hands the provider the password
    unmarked; the read then fails. Terraform shows that argument's source line, never its value;
    our diagnostic must name the argument, not repeat what it held (nor AWS's message quoting
    it)."""
    c = ws.canary()
    ws.set_var("secret", c)
    src = ws.name()
    sm.create_secret(Name=src, SecretString=json.dumps({"password": "not-the-canary"}))
    args = {"secret_id": f'"{src}"', argument: "var.secret"}
    body = "".join(f"  {k} = {v}\n" for k, v in args.items())
    ws.write(hcl.config(ws.endpoint, f'ephemeral "offstate_secret_value" "wrong" {{\n{body}}}\n'))
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    errors = [d for d in diagnostics(res) if d["severity"] == "error"]
    assert len(errors) == 1 and errors[0]["address"] == "ephemeral.offstate_secret_value.wrong", errors
    assert argument in errors[0]["detail"], errors[0]
    ws.sweep()


PROVIDER_ARGUMENTS = {
    "region": ("Invalid AWS region", "  region = var.secret\n"),
    "allowed_account_ids": (
        "Invalid AWS account ID",
        '  region = "us-east-1"\n  allowed_account_ids = [var.secret]\n',
    ),
    "policy_arns": (
        "Invalid policy ARN",
        '  region = "us-east-1"\n'
        "  assume_role {\n"
        '    role_arn    = "arn:aws:iam::123456789012:role/app"\n'
        "    policy_arns = [var.secret]\n"
        "  }\n",
    ),
    # A file argument is a path: a password in it names a file that does not exist.
    "custom_ca_bundle": (
        "Cannot configure Secrets Manager client",
        '  region = "us-east-1"\n  custom_ca_bundle = var.secret\n',
    ),
    "shared_config_files": (
        "Cannot configure Secrets Manager client",
        '  region = "us-east-1"\n  shared_config_files = [var.secret]\n',
    ),
    "shared_credentials_files": (
        "Cannot configure Secrets Manager client",
        '  region = "us-east-1"\n  shared_credentials_files = [var.secret]\n',
    ),
}


@pytest.mark.parametrize("argument", sorted(PROVIDER_ARGUMENTS))
def test_an_ephemeral_value_in_a_provider_argument_is_not_echoed(ws, sm, argument):
    """A provider block takes ephemeral values too, so `region = var.db_password` (a mix-up)
    hands the provider the password. Checking the argument, the provider must name it, not repeat
    what it held: Terraform shows the source line, and the value where it is not sensitive or
    ephemeral."""
    c = ws.canary()
    ws.set_var("secret", c)
    summary, settings = PROVIDER_ARGUMENTS[argument]
    ws.write(
        hcl.header()
        + f'provider "offstate" {{\n  endpoint = "{ws.endpoint}"\n{settings}}}\n'
        + hcl.secret_variable()
        + hcl.secret(name=ws.name(), value_wo_version="1", recovery_window_in_days=0)
    )
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    errors = [d for d in diagnostics(res) if d["severity"] == "error"]
    assert [d["summary"] for d in errors] == [summary], errors
    ws.sweep()


def test_an_ephemeral_value_as_the_profile_is_not_echoed(ws, sm):
    """`profile = var.db_password` (a mix-up) names a profile that does not exist: the SDK's
    credentials chain quoted the name at the first call; ConfigureProvider now refuses it, on
    the argument, without repeating it. (A
    canary of its own: the secret's value is another, so the value scrub cannot hide it.)"""
    c = ws.canary()
    ws.set_var("secret", c)
    ws.set_var("password", ws.canary("password"))
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        ws.env.pop(k, None)
    # Shared files that define other profiles: the SDK's "profile ... was not defined" path.
    files = ws.dir.parent / "aws-profile-files"
    files.mkdir(exist_ok=True)
    (files / "config").write_text("[default]\nregion = us-east-1\n[profile other]\nregion = us-east-1\n")
    (files / "credentials").write_text("[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = other-key\n")
    ws.write(
        hcl.header()
        + f'provider "offstate" {{\n  endpoint = "{ws.endpoint}"\n  region = "us-east-1"\n'
        + f'  shared_config_files = ["{files / "config"}"]\n'
        + f'  shared_credentials_files = ["{files / "credentials"}"]\n'
        + "  profile = var.password\n  max_retries = 1\n}\n"
        + hcl.secret_variable()
        + hcl.secret_variable("password")
        + hcl.secret(name=ws.name(), value_wo_version="1", recovery_window_in_days=0)
    )
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    errors = [d for d in diagnostics(res) if d["severity"] == "error"]
    assert [e["summary"] for e in errors] == ["Cannot configure Secrets Manager client"], errors
    assert "`profile` names is not defined" in errors[0]["detail"], errors[0]
    ws.sweep()
