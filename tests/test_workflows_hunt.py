"""Terraform features users combine with offstate_secret that test_terraform_workflows.py does not
drive: `moved` into, within and out of a module (and to another type, refused), `removed` of a
module then an `import` block (again after `terraform state rm`), `count` with `depends_on`,
`for_each` with one value per key from an ephemeral map, `create_before_destroy` with `name_prefix`
and a recovery window, two workspaces with one `name_prefix`, a saved plan applied after the secret
changed outside, `-generate-config-out` for a secret with a key, replica, policy and rotation,
fifty secrets at `-parallelism=1`, destroy without the value, imports into `generate` and compare
mode, `terraform test` overrides, and a provider configuration switched to another region or
account.

Real Terraform, moto, canary sweep of every artifact. The same on 1.11 and the bundled 1.15
(run both: OFFSTATE_TERRAFORM=bundled), so nothing here is parametrized over versions. What is
surprising but correct here is in docs/guides/terraform-workflows.md."""

from __future__ import annotations

import base64
import hmac
import json
import re

import pytest

from harness import canary as canaries
from harness import endpoint as ep
from harness import hcl
from harness import store
from test_rotation import rotation_lambda  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e]

ADDR = "offstate_secret.s"


def error_diagnostics(res) -> list[dict]:
    return [
        line["diagnostic"]
        for line in res.json_lines()
        if line.get("diagnostic", {}).get("severity") == "error"
    ]


def module_secret(name: str, window: int = 0) -> str:
    """A child module holding one secret fed by an ephemeral module variable."""
    return (
        'terraform {\n  required_providers {\n    offstate = { source = "offstate/offstate" }\n  }\n}\n'
        'variable "value" {\n  type      = string\n  sensitive = true\n  ephemeral = true\n}\n'
        'variable "name" {\n  type = string\n}\n'
        'resource "offstate_secret" "s" {\n'
        "  name                    = var.name\n"
        "  value_wo                = var.value\n"
        '  value_wo_version        = "1"\n'
        f"  recovery_window_in_days = {window}\n"
        "}\n"
        'output "arn" {\n  value = offstate_secret.s.arn\n}\n'
    )


def test_moved_into_and_out_of_a_module(ws, sm):
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    (ws.dir / "mod").mkdir()
    ws.write(module_secret(name), "mod/main.tf")
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    arn, v1 = ws.attributes(ADDR)["arn"], store.stages(sm, name)["AWSCURRENT"]

    into = (
        'module "m" {\n  source = "./mod"\n  name   = "' + name + '"\n  value  = var.secret\n}\n'
        "moved {\n  from = offstate_secret.s\n  to   = module.m.offstate_secret.s\n}\n"
    )
    ws.write(hcl.config(ws.endpoint, into))
    ws.tf("get")
    plan = ws.plan()
    assert plan.actions("module.m.offstate_secret.s") == ["no-op"], plan.summary()
    ws.apply(plan)
    ws.assert_no_changes("in the module")

    # into a for_each instance of the module, then back out to the root
    each = (
        'module "m" {\n  source   = "./mod"\n  for_each = toset(["k"])\n'
        '  name     = "' + name + '"\n  value    = var.secret\n}\n'
        'moved {\n  from = module.m\n  to   = module.m["k"]\n}\n'
    )
    ws.write(hcl.config(ws.endpoint, each))
    plan = ws.plan()
    assert plan.actions('module.m["k"].offstate_secret.s') == ["no-op"], plan.summary()
    ws.apply(plan)
    out = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0) + (
        'moved {\n  from = module.m["k"].offstate_secret.s\n  to   = offstate_secret.s\n}\n'
    )
    ws.write(hcl.config(ws.endpoint, out))
    plan = ws.plan()
    assert plan.actions(ADDR) == ["no-op"], plan.summary()
    ws.apply(plan)
    assert ws.attributes(ADDR)["arn"] == arn
    assert store.stages(sm, name) == {"AWSCURRENT": v1}
    store.assert_value(sm, name, value)
    ws.tf("state", "show", ADDR)
    ws.tf("state", "pull")
    ws.destroy()
    ws.sweep()


def test_removed_from_a_module_keeps_the_secret_and_an_import_block_takes_it_back(ws, sm):
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    (ws.dir / "mod").mkdir()
    ws.write(module_secret(name, window=30), "mod/main.tf")
    mod = 'module "m" {\n  source = "./mod"\n  name   = "' + name + '"\n  value  = var.secret\n}\n'
    ws.write(hcl.config(ws.endpoint, mod))
    ws.tf("get")
    ws.apply()
    v1 = store.stages(sm, name)["AWSCURRENT"]
    ws.write(hcl.config(ws.endpoint, "removed {\n  from = module.m\n  lifecycle {\n    destroy = false\n  }\n}\n"))
    plan = ws.plan()
    assert plan.actions("module.m.offstate_secret.s") == ["forget"], plan.summary()
    ws.apply(plan)
    assert store.status(sm, name) == "active"

    # Back under management with an import block into the module, trigger in the ID.
    ws.write(hcl.config(ws.endpoint, mod + f'import {{\n  to = module.m.offstate_secret.s\n  id = "{name}?value_wo_version=1"\n}}\n'))
    plan = ws.plan()
    acts = plan.actions("module.m.offstate_secret.s")
    assert acts in (["no-op"], ["update"]), plan.summary()
    assert "version_id" not in plan.change("module.m.offstate_secret.s")["after_unknown"], "no write on import"
    ws.apply(plan)
    assert store.stages(sm, name) == {"AWSCURRENT": v1}
    ws.assert_no_changes("imported back")

    # state rm, then the same import block again.
    ws.tf("state", "rm", "module.m.offstate_secret.s")
    plan = ws.plan()
    assert "version_id" not in plan.change("module.m.offstate_secret.s")["after_unknown"], "no write on import"
    ws.apply(plan)
    assert store.stages(sm, name) == {"AWSCURRENT": v1}
    store.assert_value(sm, name, value)
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    ws.sweep()


def test_count_and_depends_on(ws, sm):
    value = ws.canary("value")
    ws.set_var("secret", value)
    first = ws.name("first")
    body = (
        hcl.secret("first", name=first, value_wo_version="1", recovery_window_in_days=0)
        + 'resource "offstate_secret" "c" {\n'
        "  count                   = var.n\n"
        f'  name                    = "{ws.prefix}/c${{count.index}}"\n'
        '  value_wo                = "${var.secret}-${count.index}"\n'
        '  value_wo_version        = "1"\n'
        "  recovery_window_in_days = 0\n"
        "  depends_on              = [offstate_secret.first]\n"
        "}\n"
        'variable "n" {\n  type = number\n}\n'
    )
    ws.write(hcl.config(ws.endpoint, body))
    ws.env["TF_VAR_n"] = "3"
    ws.apply()
    for i in range(3):
        got = store.read_value(sm, f"{ws.prefix}/c{i}")
        same = hmac.compare_digest(got.encode(), f"{value.reveal()}-{i}".encode())
        assert same, i  # (pytest would show compare_digest's arguments)
    ws.env["TF_VAR_n"] = "1"
    plan = ws.plan()
    assert plan.actions("offstate_secret.c[2]") == ["delete"] and plan.actions("offstate_secret.c[0]") == ["no-op"], plan.summary()
    ws.apply(plan)
    assert store.status(sm, f"{ws.prefix}/c2") == "gone" and store.status(sm, f"{ws.prefix}/c0") == "active"
    ws.assert_no_changes("count 1")
    ws.destroy()
    ws.sweep()


def test_for_each_with_one_value_per_key_from_an_ephemeral_map(ws, sm):
    a, b = ws.canary("a"), ws.canary("b")
    ws.env["TF_VAR_values"] = "{a = " + '"' + a.reveal() + '", b = "' + b.reveal() + '"}'
    body = (
        'variable "values" {\n  type      = map(string)\n  sensitive = true\n  ephemeral = true\n}\n'
        'variable "keys" {\n  type    = set(string)\n  default = ["a", "b"]\n}\n'
        'resource "offstate_secret" "m" {\n'
        "  for_each                = var.keys\n"
        f'  name                    = "{ws.prefix}/${{each.key}}"\n'
        "  value_wo                = var.values[each.key]\n"
        '  value_wo_version        = "1"\n'
        "  recovery_window_in_days = 0\n"
        "}\n"
    )
    ws.write(hcl.config(ws.endpoint, body, variables=()))
    ws.apply()
    store.assert_value(sm, f"{ws.prefix}/a", a)
    store.assert_value(sm, f"{ws.prefix}/b", b)
    ws.assert_no_changes("same map")
    # for_each over the ephemeral map itself: Terraform refuses, without the values.
    ws.write(hcl.config(ws.endpoint, body.replace("for_each                = var.keys", "for_each = var.values"), variables=()))
    res = ws.tf("plan", "-input=false", expect=1)
    assert "ephemeral" in res.output.lower(), ws.describe_failure(res, "no ephemeral error")
    ws.write(hcl.config(ws.endpoint, body, variables=()))
    ws.destroy()
    ws.sweep()


def test_create_before_destroy_with_name_prefix_and_a_recovery_window(ws, sm):
    """A replace of a `name_prefix` secret gets a new name, so a recovery window does not stand
    in its way (unlike a fixed name, refused at plan): with `create_before_destroy` the new
    secret is made first, then the old one is scheduled for deletion; without it, the reverse."""
    value = ws.canary("value")
    ws.set_var("secret", value)
    block = hcl.secret(name_prefix=f"{ws.prefix}/p-", value_wo_version="1", recovery_window_in_days=30)
    cbd = block.rstrip().rstrip("}") + "  lifecycle {\n    create_before_destroy = true\n  }\n}\n"
    ws.write(hcl.config(ws.endpoint, cbd))
    ws.apply()
    old = ws.attributes(ADDR)["name"]
    plan = ws.plan(f"-replace={ADDR}")
    assert plan.actions(ADDR) == ["create", "delete"], plan.summary()
    ws.apply(plan)
    new = ws.attributes(ADDR)["name"]
    assert new != old and new.startswith(f"{ws.prefix}/p-")
    store.assert_value(sm, new, value)
    assert store.status(sm, old) == "scheduled"
    ws.assert_no_changes("after the replace")
    ws.write(hcl.config(ws.endpoint, block))
    plan = ws.plan(f"-replace={ADDR}")
    assert plan.actions(ADDR) == ["delete", "create"], plan.summary()
    ws.apply(plan)
    assert store.status(sm, new) == "scheduled"
    store.assert_value(sm, ws.attributes(ADDR)["name"], value)
    for n in (old, new, ws.attributes(ADDR)["name"]):
        sm.delete_secret(SecretId=n, ForceDeleteWithoutRecovery=True)
    ws.tf("state", "rm", ADDR)
    ws.sweep()


def test_two_workspaces_with_one_name_prefix(ws, sm):
    value, other = ws.canary("value"), ws.canary("other")
    ws.set_var("secret", value)
    ws.write(hcl.config(ws.endpoint, hcl.secret(name_prefix=f"{ws.prefix}/w-", value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    first = ws.attributes(ADDR)["name"]
    ws.tf("workspace", "new", "two")
    ws.set_var("secret", other)
    ws.apply()
    st = json.loads((ws.dir / "terraform.tfstate.d" / "two" / "terraform.tfstate").read_text())
    second = st["resources"][0]["instances"][0]["attributes"]["name"]
    assert first != second
    store.assert_value(sm, first, value)
    store.assert_value(sm, second, other)
    ws.tf("workspace", "select", "default")
    ws.assert_no_changes("the first workspace")
    ws.destroy()
    assert store.status(sm, first) == "gone" and store.status(sm, second) == "active"
    ws.tf("workspace", "select", "two")
    ws.assert_no_changes("the second workspace, after the first's destroy")
    ws.destroy()
    assert store.status(sm, second) == "gone"
    ws.sweep()


@pytest.mark.parametrize("outside", ["value", "deleted"])
def test_a_saved_plan_applied_after_the_secret_changed_outside(ws, sm, outside):
    """A saved plan is not refreshed at apply. A trigger change planned before a value was put
    outside still writes: the outside version becomes AWSPREVIOUS (not lost). A secret deleted
    outside meanwhile fails the apply with AWS's not-found error; the next plan creates it."""
    value, new = ws.canary("value"), ws.canary("new")
    ws.set_var("secret", value)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    ws.set_var("secret", new)
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="2", recovery_window_in_days=0)))
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    if outside == "value":
        theirs = ws.canary("theirs")
        vo = sm.put_secret_value(SecretId=name, SecretString=theirs.reveal())["VersionId"]
        ws.apply(plan)
        stages = store.stages(sm, name)
        assert stages["AWSPREVIOUS"] == vo and ws.attributes(ADDR)["version_id"] == stages["AWSCURRENT"], stages
        store.assert_value(sm, name, new)
        store.assert_value(sm, name, theirs, "AWSPREVIOUS")
    else:
        sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        res = ws.apply(plan, "-json", expect=1)
        errors = error_diagnostics(res)
        assert [e["summary"] for e in errors] == ["Secrets Manager PutSecretValue failed"], [e["summary"] for e in errors]
        assert "ResourceNotFoundException" in errors[0]["detail"], errors[0]["detail"]
        plan = ws.plan()
        assert plan.actions(ADDR) == ["create"], plan.summary()
        ws.apply(plan)
        store.assert_value(sm, name, new)
    ws.assert_no_changes("after the stale plan")
    ws.destroy()
    ws.sweep()


POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Sid":"R","Effect":"Allow",'
    '"Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}'
)


def test_generate_config_out_for_a_secret_with_a_key_replica_policy_and_rotation(ws, sm, rotation_lambda):
    """The generated blocks validate and plan no change. `policy` is generated as null although
    the secret has a resource policy: unset, it is left alone (it stays attached)."""
    before = ws.canary("before")
    name = ws.name()
    kms = ep.client(ws.endpoint, "kms").create_key()["KeyMetadata"]["Arn"]
    arn = sm.create_secret(Name=name, SecretString=before.reveal(), Description="rich", KmsKeyId=kms,
                           Tags=[{"Key": "k", "Value": "v"}, {"Key": "e", "Value": ""}],
                           AddReplicaRegions=[{"Region": "eu-west-1"}])["ARN"]
    sm.put_resource_policy(SecretId=name, ResourcePolicy=POLICY)
    sm.rotate_secret(SecretId=name, RotationLambdaARN=rotation_lambda,
                     RotationRules={"AutomaticallyAfterDays": 7}, RotateImmediately=False)
    v0 = store.stages(sm, name)["AWSCURRENT"]
    ws.write(hcl.config(ws.endpoint,
                        f'import {{\n  to = {ADDR}\n  id = "{name}?value_wo_version=1"\n}}\n'
                        f'import {{\n  to = offstate_secret_rotation.r\n  id = "{arn}"\n}}\n', variables=()))
    ws.tf("plan", "-input=false", "-generate-config-out=generated.tf", expect=(0, 2))
    generated = (ws.dir / "generated.tf").read_text()
    assert "  policy                         = null\n" in generated, generated
    assert 'region     = "eu-west-1"' in generated and f'kms_key_id                     = "{kms}"' in generated, generated
    assert 'value_wo_version = "1"' in generated and "automatically_after_days = 7" in generated, generated
    ws.validate()
    plan = ws.plan()
    assert plan.actions(ADDR) == ["no-op"] and plan.actions("offstate_secret_rotation.r") == ["no-op"], plan.summary()
    ws.apply(plan)
    ws.assert_no_changes("after the import")
    assert store.stages(sm, name)["AWSCURRENT"] == v0
    assert "GetSecretValue" in sm.get_resource_policy(SecretId=name)["ResourcePolicy"]
    ws.tf("state", "rm", ADDR, "offstate_secret_rotation.r")
    sm.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=["eu-west-1"])
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    ws.sweep()


def test_fifty_secrets_with_parallelism_one(ws, sm):
    value = ws.canary("value")
    ws.set_var("secret", value)
    keys = [f"k{i:02d}" for i in range(50)]
    body = (
        'resource "offstate_secret" "m" {\n'
        "  for_each                = toset([for i in range(50) : format(\"k%02d\", i)])\n"
        f'  name                    = "{ws.prefix}/${{each.key}}"\n'
        '  value_wo                = "${var.secret}-${each.key}"\n'
        '  value_wo_version        = "1"\n'
        "  recovery_window_in_days = 0\n"
        "}\n"
    )
    ws.write(hcl.config(ws.endpoint, body))
    ws.apply(None, "-parallelism=1")
    for k in keys:
        got = store.read_value(sm, f"{ws.prefix}/{k}")
        same = hmac.compare_digest(got.encode(), f"{value.reveal()}-{k}".encode())
        assert same, k  # (pytest would show compare_digest's arguments)
    ws.assert_no_changes("50 secrets")
    ws.destroy("-parallelism=1")
    assert all(store.status(sm, f"{ws.prefix}/{k}") == "gone" for k in keys)
    ws.sweep()


def test_destroy_needs_the_ephemeral_variable_but_not_the_real_value(ws, sm):
    """Terraform evaluates the configuration on destroy: a required ephemeral variable must be
    set, and its value passes the provider's checks (an empty one is refused). Any valid
    placeholder does: destroy writes nothing."""
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    v1 = store.stages(sm, name)
    del ws.env["TF_VAR_secret"]
    res = ws.destroy(expect=1)
    assert "No value for required variable" in res.output, ws.describe_failure(res, "another error")
    ws.set_var("secret", "")
    res = ws.destroy(expect=1)
    assert "Empty secret value" in res.output, ws.describe_failure(res, "another error")
    assert store.stages(sm, name) == v1
    ws.set_var("secret", "placeholder")
    ws.destroy()
    assert store.status(sm, name) == "gone"
    ws.sweep()


def import_generate_config(name: str, version: str, id_suffix: str) -> str:
    return ('resource "offstate_secret" "s" {\n'
            f'  name = "{name}"\n  recovery_window_in_days = 0\n  value_wo_version = "{version}"\n'
            "  generate {\n    length = 24\n  }\n}\n"
            f'import {{\n  to = {ADDR}\n  id = "{name}{id_suffix}"\n}}\n')


def state_private(ws, address: str) -> bytes:
    typ, name = address.split(".", 1)
    for r in ws.state().get("resources", []):
        if r.get("mode") == "managed" and r["type"] == typ and r["name"] == name:
            return base64.b64decode(r["instances"][0].get("private") or "")
    raise AssertionError(f"{address} is not in the state")


def test_an_import_with_a_trigger_adopts_the_value_under_a_generate_block(ws, sm):
    """`NAME?value_wo_version=V` says the value in AWS is version V of the configuration, whatever
    its value source: a `generate` block with `value_wo_version = "V"` records its settings and
    writes nothing (a live password applications use is not rotated by the import; before, it
    was). A later `value_wo_version` change generates; the adopted value stays AWSPREVIOUS."""
    before = ws.canary("before")
    name = ws.name()
    sm.create_secret(Name=name, SecretString=before.reveal())
    v0 = store.stages(sm, name)["AWSCURRENT"]
    ws.write(hcl.config(ws.endpoint, import_generate_config(name, "1", "?value_wo_version=1"), variables=()))
    plan = ws.plan()
    change = plan.change(ADDR)
    assert plan.actions(ADDR) == ["update"], plan.summary()  # generate recorded, the window 30 -> 0
    assert not change["after_unknown"].get("version_id") and change["after"]["version_id"] == v0, plan.summary()
    ws.apply(plan)
    assert store.stages(sm, name) == {"AWSCURRENT": v0}, "the import must not write a version"
    assert len(sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]) == 1
    store.assert_value(sm, name, before)
    state = ws.attributes(ADDR)
    assert state["version_id"] == v0 and (state["generate"] or {}).get("length") == 24
    assert b"adopt_value" not in state_private(ws, ADDR), "the first apply clears the mark"
    ws.assert_no_changes("after the adopting import")

    ws.write(hcl.config(ws.endpoint, import_generate_config(name, "2", "?value_wo_version=1"), variables=()))
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"] and plan.change(ADDR)["after_unknown"].get("version_id"), plan.summary()
    ws.apply(plan)
    ws.watch(canaries.Canary(store.read_value(sm, name)))
    assert store.stages(sm, name)["AWSPREVIOUS"] == v0
    store.assert_value(sm, name, before, "AWSPREVIOUS")
    ws.assert_no_changes("after the generate")
    ws.destroy()
    ws.sweep()


def test_a_generate_block_added_to_generated_config_adopts_the_imported_value(ws, sm):
    """`plan -generate-config-out` with `NAME?value_wo_version=1` writes `value_wo_version = "1"`
    and no `generate` (it cannot know one); the import applies as a no-op and keeps the mark. A
    `generate` block (here with `json_template`) added later with the same trigger records its
    settings and writes nothing; the value in AWS, not JSON, is not checked against them."""
    before = ws.canary("before")
    name = ws.name()
    sm.create_secret(Name=name, SecretString=before.reveal())
    v0 = store.stages(sm, name)["AWSCURRENT"]
    ws.write(hcl.config(ws.endpoint, f'import {{\n  to = {ADDR}\n  id = "{name}?value_wo_version=1"\n}}\n', variables=()))
    ws.tf("plan", "-input=false", "-generate-config-out=generated.tf", expect=(0, 2))
    generated = (ws.dir / "generated.tf").read_text()
    assert re.search(r'^  value_wo_version += "1"$', generated, re.M), generated
    assert not re.search(r"^\s*generate\b", generated, re.M), generated
    plan = ws.plan()
    assert plan.actions(ADDR) == ["no-op"], plan.summary()
    ws.apply(plan)
    assert b"adopt_value" in state_private(ws, ADDR), "a no-op import keeps the mark"
    head, _, tail = generated.rpartition("}")
    ws.write(head + '  generate {\n    length = 24\n    json_template = { user = "app" }\n  }\n}' + tail, "generated.tf")
    plan = ws.plan()
    change = plan.change(ADDR)
    assert plan.actions(ADDR) == ["update"], plan.summary()
    assert not change["after_unknown"].get("version_id") and change["after"]["version_id"] == v0, plan.summary()
    ws.apply(plan)
    assert store.stages(sm, name) == {"AWSCURRENT": v0}, "adding generate must not write a version"
    store.assert_value(sm, name, before)
    assert b"adopt_value" not in state_private(ws, ADDR)
    ws.assert_no_changes("after adding generate")
    ws.destroy()
    ws.sweep()


@pytest.mark.parametrize("id_suffix,version", [("", "1"), ("?value_wo_version=1", "2")], ids=["no-trigger", "other-trigger"])
def test_an_import_into_a_generate_block_generates_without_the_same_trigger(ws, sm, id_suffix, version):
    """Imported without `?value_wo_version=V`, or with a V other than the configuration's, a
    `generate` block generates on the first apply: the plan shows `version_id` (known after
    apply). The old value stays AWSPREVIOUS."""
    before = ws.canary("before")
    name = ws.name()
    sm.create_secret(Name=name, SecretString=before.reveal())
    v0 = store.stages(sm, name)["AWSCURRENT"]
    ws.write(hcl.config(ws.endpoint, import_generate_config(name, version, id_suffix), variables=()))
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"] and plan.change(ADDR)["after_unknown"].get("version_id"), plan.summary()
    ws.apply(plan)
    ws.watch(canaries.Canary(store.read_value(sm, name)))
    assert store.stages(sm, name)["AWSPREVIOUS"] == v0
    store.assert_value(sm, name, before, "AWSPREVIOUS")
    ws.assert_no_changes("after the generate")
    ws.destroy()
    ws.sweep()


@pytest.mark.parametrize("same", [True, False])
def test_an_import_block_in_compare_mode_writes_only_another_value(ws, sm, same):
    before = ws.canary("before")
    name = ws.name()
    sm.create_secret(Name=name, SecretString=before.reveal())
    v0 = store.stages(sm, name)["AWSCURRENT"]
    ws.set_var("secret", before if same else ws.canary("new"))
    body = hcl.secret(name=name, recovery_window_in_days=0, compare_value=True) + f'import {{\n  to = {ADDR}\n  id = "{name}"\n}}\n'
    ws.write(hcl.config(ws.endpoint, body))
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()  # the window, 30 -> 0, at least
    assert bool(plan.change(ADDR)["after_unknown"].get("version_id")) == (not same), plan.summary()
    ws.apply(plan)
    assert (store.stages(sm, name) == {"AWSCURRENT": v0}) == same
    ws.assert_no_changes("after the import")
    ws.apply(ws.plan("-destroy"))
    assert store.status(sm, name) == "gone"
    ws.sweep()


def _secret_with_rotation(name, rotation_lambda):
    return hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0) + (
        'resource "offstate_secret_rotation" "r" {\n'
        "  secret_id           = offstate_secret.s.arn\n"
        f'  rotation_lambda_arn = "{rotation_lambda}"\n'
        "  rotate_immediately  = false\n"
        "  rotation_rules {\n    automatically_after_days = 30\n  }\n}\n"
    )


def _refresh_fails(ws, summary, address, *named):
    """A plan whose refresh fails with one error, `summary` at `address`, naming each of `named`;
    returns the error's detail."""
    errors = error_diagnostics(ws.tf("plan", "-input=false", "-json", expect=1))
    assert [(e["summary"], e.get("address")) for e in errors] == [(summary, address)], [e["summary"] for e in errors]
    detail = errors[0]["detail"]
    assert all(n in detail for n in named), detail
    return detail


def _nothing_lost_when_the_rotation_alone_moves(ws, sm, write, block, alias, summary, why, *, name, value, arn):
    """After the secret and its rotation moved to provider `alias` (their refresh failed with
    `summary`): the rotation alone moved fails the same way, the state keeps both, a destroy
    (it refreshes first) fails and deletes nothing, and moving back plans no change."""
    write(block.replace('"offstate_secret_rotation" "r" {\n', f'"offstate_secret_rotation" "r" {{\n  provider = offstate.{alias}\n'))
    _refresh_fails(ws, summary, "offstate_secret_rotation.r")
    assert ws.attributes(ADDR)["arn"] == arn, "the state lost the secret"
    assert ws.attributes("offstate_secret_rotation.r") is not None, "the state lost the rotation"
    ws.destroy(expect=1)
    assert store.status(sm, name) == "active" and sm.describe_secret(SecretId=name)["RotationEnabled"]
    store.assert_value(sm, name, value)
    write(block)
    ws.assert_no_changes(why)
    ws.destroy()
    ws.sweep()


def test_a_secret_whose_provider_moved_to_another_region_is_not_dropped(ws, sm, rotation_lambda):
    """The resource's provider configuration changes region (here `provider = offstate.west`;
    likewise a changed `region`, or a module's `providers`). The refresh, asking the new region
    for the old ARN, found nothing and dropped the secret from the state: the plan showed a
    create alone and the secret in the old region, with its value, was left behind for good.
    The refresh now fails, saying where the secret is; the state and the secret stay."""
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    west = 'provider "offstate" {\n  alias    = "west"\n  region   = "us-west-2"\n  endpoint = "' + ws.endpoint + '"\n}\n'
    block = _secret_with_rotation(name, rotation_lambda)

    def write(body):
        ws.write(hcl.config(ws.endpoint, body, west))

    write(block)
    ws.apply()
    arn = ws.attributes(ADDR)["arn"]
    # Both moved: the secret's refresh fails (and Terraform refreshes nothing that depends on it).
    write(block.replace('" {\n', '" {\n  provider = offstate.west\n'))
    _refresh_fails(ws, "Secret in another region", ADDR, "us-east-1", "us-west-2")
    _nothing_lost_when_the_rotation_alone_moves(
        ws, sm, write, block, "west", "Secret in another region", "the provider configuration changed back",
        name=name, value=value, arn=arn,
    )


OTHER_ACCOUNT = "210987654321"  # moto keeps one backend per account; 123456789012 is its default


@pytest.mark.parametrize("how", ["assume_role", "profile"])
def test_a_secret_whose_credentials_moved_to_another_account_is_not_dropped(ws, sm, rotation_lambda, how):
    """The provider's credentials now act in another account: `assume_role` into it (the
    provider knows the account from the role ARN) or a profile whose role the SDK assumes (the
    provider asks STS GetCallerIdentity). DescribeSecret of the old ARN answers ResourceNotFound
    there (moto; AWS itself usually AccessDenied) and the refresh dropped the secret and its
    rotation from the state: the plan showed a lone create and the secret, with its value, was
    left behind. The refresh now fails naming both accounts; the state and the secret stay."""
    value = ws.canary("value")
    ws.set_var("secret", value)
    ws.env["AWS_ENDPOINT_URL_STS"] = ws.endpoint
    name = ws.name()
    block = _secret_with_rotation(name, rotation_lambda)
    role = f"arn:aws:iam::{OTHER_ACCOUNT}:role/offstate-e2e-other"
    default = {}
    if how == "assume_role":
        extra = f'  assume_role {{\n    role_arn = "{role}"\n  }}\n'
    else:
        # The environment's keys would come before any profile in the SDK's chain: in files.
        profiles = ws.dir / "accounts.ini"
        profiles.write_text(
            "[profile base]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
            f"[profile other]\nrole_arn = {role}\nsource_profile = base\n"
        )
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            ws.env.pop(k, None)
        default = {"profile": "base", "shared_config_files": [str(profiles)]}
        extra = f'  profile             = "other"\n  shared_config_files = ["{profiles}"]\n'
    other = hcl.provider(ws.endpoint).replace("{\n", '{\n  alias = "other"\n', 1).replace("}\n", extra + "}\n")

    def write(body):
        ws.write(hcl.config(ws.endpoint, body, other, provider_attrs=default))

    write(block)
    ws.apply()
    arn = ws.attributes(ADDR)["arn"]
    assert ":123456789012:" in arn, arn
    # Both moved: the secret's refresh fails (and Terraform refreshes nothing that depends on it).
    write(block.replace('" {\n', '" {\n  provider = offstate.other\n'))
    detail = _refresh_fails(ws, "Secret in another account", ADDR, "123456789012", OTHER_ACCOUNT)
    assert "`terraform state rm` this resource" in detail, "the error names the way out"
    # The way out that keeps the state: a plan without refresh goes through (nothing is asked of
    # the other account), so the error never locks the configuration.
    ws.tf("plan", "-input=false", "-refresh=false", "-detailed-exitcode", expect=0)
    _nothing_lost_when_the_rotation_alone_moves(
        ws, sm, write, block, "other", "Secret in another account", "the credentials changed back",
        name=name, value=value, arn=arn,
    )


def test_a_move_to_another_resource_type_of_the_provider_is_refused(ws, sm):
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    arn = ws.attributes(ADDR)["arn"]
    body = ('resource "offstate_secret_rotation" "r" {\n'
            f'  secret_id           = "{arn}"\n'
            '  rotation_lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:x"\n'
            "  rotation_rules {\n    automatically_after_days = 30\n  }\n}\n"
            "moved {\n  from = offstate_secret.s\n  to   = offstate_secret_rotation.r\n}\n")
    ws.write(hcl.config(ws.endpoint, body))
    res = ws.tf("plan", "-input=false", expect=1)
    assert "Unable to move resource state" in res.output, ws.describe_failure(res, "another error")
    assert ws.attributes(ADDR)["arn"] == arn
    store.assert_value(sm, name, value)
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    ws.sweep()


OVERRIDDEN = """\
provider "offstate" {
  region   = "us-east-1"
  endpoint = "ENDPOINT"
}

run "overridden" {
  command = apply
  override_resource {
    target = offstate_secret.s
    values = {
      arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:over-AbCdEf"
    }
  }
  override_data {
    target = data.offstate_secret.d
    values = {
      name = "over"
    }
  }
  assert {
    condition     = offstate_secret.s.arn == "arn:aws:secretsmanager:us-east-1:123456789012:secret:over-AbCdEf" && offstate_secret.s.value_wo == null
    error_message = "not overridden"
  }
}

run "real" {
  command = apply
  assert {
    condition     = startswith(offstate_secret.s.arn, "arn:aws:secretsmanager:us-east-1:")
    error_message = "not real"
  }
}
"""


def test_terraform_test_with_override_resource_and_override_data(ws, sm):
    """`override_resource` / `override_data` for offstate's types in a run with the real
    provider, then a real run in the same file: both pass, the teardown deletes the secret."""
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    body = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0) + (
        'data "offstate_secret" "d" {\n  name = offstate_secret.s.name\n}\n')
    ws.write(hcl.header() + hcl.secret_variable() + body)
    (ws.dir / "tests").mkdir()
    ws.write(OVERRIDDEN.replace("ENDPOINT", ws.endpoint), "tests/o.tftest.hcl")
    res = ws.tf("test", "-no-color")
    assert "2 passed, 0 failed" in res.stdout, ws.describe_failure(res, "not both runs passed")
    assert store.status(sm, name) == "gone", "torn down after the file"
    ws.sweep()



@pytest.mark.parametrize("ignore_tags", [True, False])
def test_a_default_tags_change_reaches_a_secret_whose_tags_are_ignored(ws, sm, ignore_tags):
    """`lifecycle { ignore_changes = [tags] }` (others tag the secret) with the provider's
    default_tags, whose value then changes. The refresh counted the old default tag, its value
    no longer the default's, as the secret's own: it came back in `tags`, where ignore_changes
    kept it, and it overrode the new default: the plan was empty and the new value never
    applied. Without ignore_changes the plan showed it being removed from `tags`."""
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()

    def write(team: str, description: str, env: str) -> None:
        body = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0, description=description,
                          tags={"team": team})
        if ignore_tags:
            body = body.rstrip().rstrip("}") + "  lifecycle {\n    ignore_changes = [tags]\n  }\n}\n"
        ws.write(hcl.config(ws.endpoint, body, provider_attrs={"default_tags": {"env": env}}))

    write("a", "one", "x")
    ws.apply()
    sm.tag_resource(SecretId=name, Tags=[{"Key": "owner", "Value": "other-tool"}])
    write("b", "one", "y")
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    after = plan.change(ADDR)["after"]
    if ignore_tags:
        assert after["tags"] == {"team": "a", "owner": "other-tool"}, after["tags"]
        assert after["tags_all"] == {"env": "y", "team": "a", "owner": "other-tool"}, after["tags_all"]
    else:
        assert plan.change(ADDR)["before"]["tags"] == {"team": "a", "owner": "other-tool"}, "the old default is no own tag"
        assert after["tags_all"] == {"env": "y", "team": "b"}, after["tags_all"]
    ws.apply(plan)
    assert store.tags(sm, name) == after["tags_all"]
    ws.assert_no_changes("the new default applied")
    store.assert_value(sm, name, value)
    ws.destroy()
    ws.sweep()
