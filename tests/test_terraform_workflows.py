"""Terraform workflows around offstate_secret that a platform team uses, end to end: `import`
blocks with `-generate-config-out`, `ignore_changes`, `-refresh-only`, `moved` / `state mv` /
`removed`, `-target`, workspaces, `for_each` with `-parallelism`, values at the size limit, and an
apply interrupted by Ctrl-C.

Real Terraform, moto, canary sweep of every artifact."""

from __future__ import annotations

import hmac
import os
import re
import signal
import subprocess
import time

import pytest

from harness import canary as canaries
from harness import hcl
from harness import store
from harness import terraform as tfh
from test_rotation import rotation_lambda  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e]

ADDR = "offstate_secret.s"


def error_diagnostics(res) -> list[dict]:
    return [
        line["diagnostic"]
        for line in res.json_lines()
        if line.get("diagnostic", {}).get("severity") == "error"
    ]


def test_ignore_changes_on_the_trigger_writes_nothing_when_something_else_changes(ws, sm):
    """`ignore_changes = [value_wo_version]` freezes the trigger: a later trigger change is not
    planned, and an update planned for another reason (a tag) must not write the value either.
    Terraform sends ApplyResourceChange the configuration as written (ignore_changes is applied
    to the plan only), so an apply that decides from the configuration writes what the plan did
    not announce: "Provider produced inconsistent result after apply"."""
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()

    def write(version: str, tags: dict) -> None:
        body = hcl.secret(name=name, value_wo_version=version, recovery_window_in_days=0, tags=tags)
        body = body.rstrip().rstrip("}") + "  lifecycle {\n    ignore_changes = [value_wo_version]\n  }\n}\n"
        ws.write(hcl.config(ws.endpoint, body))

    write("1", {"team": "a"})
    ws.apply()
    v1 = ws.attributes(ADDR)["version_id"]

    other = ws.canary("other")
    ws.set_var("secret", other)
    write("2", {"team": "a"})
    ws.assert_no_changes("the trigger change is ignored")

    write("2", {"team": "b"})
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    assert "version_id" not in plan.change(ADDR)["after_unknown"], "an ignored trigger must not plan a write"
    ws.apply(plan)
    assert store.tags(sm, name) == {"team": "b"}
    assert store.stages(sm, name) == {"AWSCURRENT": v1}, "no value may be written"
    store.assert_value(sm, name, value)
    a = ws.attributes(ADDR)
    assert a["version_id"] == v1 and a["value_wo_version"] == "1"
    ws.assert_no_changes("after the tag change")
    ws.sweep()


def test_ignore_changes_on_generate_generates_nothing_when_something_else_changes(ws, sm):
    name = ws.name()
    ws.canary("unused")  # the generated value is read back and watched below

    def write(length: int, description: str) -> None:
        ws.write(
            hcl.config(
                ws.endpoint,
                'resource "offstate_secret" "s" {\n'
                f'  name = "{name}"\n'
                f'  description = "{description}"\n'
                "  recovery_window_in_days = 0\n"
                f"  generate {{\n    length = {length}\n  }}\n"
                "  lifecycle {\n    ignore_changes = [generate]\n  }\n"
                "}\n",
                variables=(),
            )
        )

    write(20, "one")
    ws.apply()
    ws.watch(canaries.Canary(store.read_value(sm, name)))
    v1 = ws.attributes(ADDR)["version_id"]
    write(30, "two")
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    assert "version_id" not in plan.change(ADDR)["after_unknown"]
    ws.apply(plan)
    assert store.stages(sm, name) == {"AWSCURRENT": v1}, "no value may be generated"
    ws.assert_no_changes("after the description change")
    ws.sweep()


def test_import_block_with_generate_config_out_plans_clean(ws, sm):
    """`terraform plan -generate-config-out`: the generated block has no value argument (there
    is none to read) and the import then applies with no change to the secret."""
    before = ws.canary("before")
    name = ws.name()
    sm.create_secret(Name=name, SecretString=before.reveal(), Description="imported", Tags=[{"Key": "k", "Value": "v"}])
    v0 = store.stages(sm, name)["AWSCURRENT"]
    ws.write(hcl.config(ws.endpoint, f'import {{\n  to = {ADDR}\n  id = "{name}"\n}}\n', variables=()))
    res = ws.tf("plan", "-input=false", "-generate-config-out=generated.tf", expect=(0, 2))
    generated = (ws.dir / "generated.tf").read_text()
    # Terraform writes a write-only argument as `= null # sensitive`: nothing to read.
    for wo in ("value_wo", "binary_wo"):
        assert [line.split("=", 1)[1].strip() for line in generated.splitlines() if line.strip().startswith(wo + " ")] == [
            "null # sensitive"
        ], generated
    assert "generate {" not in generated, generated
    assert "recovery_window_in_days        = 30" in generated, generated
    ws.validate()
    plan = ws.plan()
    ch = plan.change(ADDR)
    assert ch["actions"] == ["no-op"], plan.summary()
    ws.apply(plan)
    assert store.stages(sm, name) == {"AWSCURRENT": v0}
    ws.assert_no_changes("after the import")
    # Manage the value from now on: add value_wo with a trigger.
    value = ws.canary("value")
    ws.set_var("secret", value)
    text = generated.replace("value_wo         = null # sensitive", "value_wo         = var.secret")
    text = text.replace("value_wo_version = null", 'value_wo_version = "1"')
    ws.write(text, "generated.tf")
    ws.write(hcl.config(ws.endpoint, "", variables=("secret",)))
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    ws.apply(plan)
    store.assert_value(sm, name, value)
    ws.assert_no_changes("after the first write")
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    ws.sweep()


@pytest.mark.parametrize("mode", ["trigger", "compare"])
def test_values_at_the_size_limit(ws, sm, mode):
    """65,536 bytes is Secrets Manager's limit, in bytes: a value of exactly that many bytes of
    two-byte characters is written and read back; one more character is refused at plan with a
    diagnostic that holds no part of the value."""
    name = ws.name()
    c = ws.canary("big")
    head = c.reveal()
    if len(head.encode()) % 2:
        head += "-"
    pad = 65_536 - len(head.encode())
    exact = ws.watch(canaries.Canary(head + "é" * (pad // 2)))
    over = ws.watch(canaries.Canary(head + "é" * (pad // 2) + "ü"))
    kw = {"value_wo_version": "1"} if mode == "trigger" else {"compare_value": True}
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, recovery_window_in_days=0, **kw)))
    ws.set_var("secret", exact)
    ws.apply()
    store.assert_value(sm, name, exact)
    ws.assert_no_changes("at the limit")

    ws.set_var("secret", over)
    if mode == "trigger":
        ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, recovery_window_in_days=0, value_wo_version="2")))
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    errors = error_diagnostics(res)
    assert [e["summary"] for e in errors] == ["Secret value too large"], [e["summary"] for e in errors]
    assert "65538 bytes" in errors[0]["detail"], errors[0]["detail"][:200]
    store.assert_value(sm, name, exact)
    ws.sweep()


@pytest.mark.parametrize("kind", ["control", "emoji", "whitespace"])
def test_odd_values_round_trip_exactly(ws, sm, kind):
    name = ws.name()
    c = ws.canary("odd")
    odd = {
        "control": "\x01\x02\x1b[31m\r\n\t\x7f",
        "emoji": "\U0001f511 \u202e\u200b\ufeff",
        "whitespace": "  \n ",
    }[kind]
    value = ws.watch(canaries.Canary(odd + c.reveal() + odd))
    ws.set_var("secret", value)
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, recovery_window_in_days=0, compare_value=True)))
    ws.apply()
    got = store.read_value(sm, name)
    assert hmac.compare_digest(got.encode(), value.reveal().encode()), f"lengths {len(got)} {len(value.reveal())}"
    ws.assert_no_changes("compare mode, same odd value")
    ws.sweep()


def test_a_nul_character_round_trips(ws, sm):
    """A NUL cannot come through an environment variable; an HCL escape puts one in the value."""
    name = ws.name()
    c = ws.canary("nul")
    value = ws.watch(canaries.Canary(c.reveal() + "\x00x"))
    ws.set_var("secret", c)
    ws.write(
        hcl.config(
            ws.endpoint,
            hcl.secret(name=name, value_var=None, recovery_window_in_days=0, compare_value=True,
                       raw={"value_wo": '"${var.secret}\\u0000x"'}),
        )
    )
    ws.apply()
    got = store.read_value(sm, name)
    assert hmac.compare_digest(got.encode(), value.reveal().encode()), f"lengths {len(got)} {len(value.reveal())}"
    ws.assert_no_changes("compare mode, same value with a NUL")
    ws.sweep()


def test_ignore_changes_on_description_and_tags_keeps_them_in_aws(ws, sm):
    """An update planned for another reason must leave ignored arguments as they are in AWS."""
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()

    def write(description: str, tags: dict, version: str) -> None:
        body = hcl.secret(name=name, value_wo_version=version, recovery_window_in_days=0,
                          description=description, tags=tags)
        body = body.rstrip().rstrip("}") + "  lifecycle {\n    ignore_changes = [description, tags]\n  }\n}\n"
        ws.write(hcl.config(ws.endpoint, body))

    write("one", {"team": "a"}, "1")
    ws.apply()
    write("two", {"team": "b"}, "2")
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    ws.apply(plan)
    d = sm.describe_secret(SecretId=name)
    assert d.get("Description") == "one", "an ignored description must not be sent"
    assert store.tags(sm, name) == {"team": "a"}, "ignored tags must not be sent"
    store.assert_value(sm, name, value)
    ws.assert_no_changes("ignored description and tags")
    ws.sweep()


def test_empty_value_is_refused_at_plan(ws, sm):
    name = ws.name()
    ws.canary("unused")
    ws.set_var("secret", "")
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, recovery_window_in_days=0, value_wo_version="1")))
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    assert [e["summary"] for e in error_diagnostics(res)] == ["Empty secret value"], res.stdout[-2000:]
    assert store.status(sm, name) == "gone"
    ws.sweep()


def test_refresh_only_apply_after_a_value_changed_outside(ws, sm):
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    ws.write(
        hcl.config(
            ws.endpoint,
            hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0, description="d"),
            'output "v" {\n  value = offstate_secret.s.version_id\n}\n',
        )
    )
    ws.apply()
    outside = ws.canary("outside")
    v2 = sm.put_secret_value(SecretId=name, SecretString=outside.reveal())["VersionId"]
    sm.update_secret(SecretId=name, Description="changed")
    plan = ws.plan("-refresh-only")
    assert plan.rc == 2
    drift = plan.drift(ADDR)
    assert drift is not None and drift["after"]["version_id"] == v2
    ws.apply(plan)
    a = ws.attributes(ADDR)
    assert a["version_id"] == v2 and a["description"] == "changed"
    # The description is set back; the value is kept (trigger unchanged).
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    assert "version_id" not in plan.change(ADDR)["after_unknown"]
    ws.apply(plan)
    store.assert_value(sm, name, outside)
    ws.assert_no_changes("after the refresh-only apply and the update")
    ws.sweep()


# ----------------------------------------------------------------------------------------------
# addresses: moved, state mv, removed, -target, workspaces


def test_moved_block_state_mv_and_removed_keep_the_secret(ws, sm):
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret("a", name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    arn, v1 = ws.attributes("offstate_secret.a")["arn"], store.stages(sm, name)["AWSCURRENT"]

    # moved: a -> b, then into a for_each key.
    ws.write(
        hcl.config(
            ws.endpoint,
            hcl.secret("b", name=name, value_wo_version="1", recovery_window_in_days=0),
            "moved {\n  from = offstate_secret.a\n  to   = offstate_secret.b\n}\n",
        )
    )
    plan = ws.plan()
    assert plan.actions("offstate_secret.b") == ["no-op"], plan.summary()
    ws.apply(plan)
    body = hcl.secret("m", name=name, value_wo_version="1", recovery_window_in_days=0)
    body = body.replace('resource "offstate_secret" "m" {\n', 'resource "offstate_secret" "m" {\n  for_each = toset(["k"])\n')
    ws.write(hcl.config(ws.endpoint, body, 'moved {\n  from = offstate_secret.b\n  to   = offstate_secret.m["k"]\n}\n'))
    plan = ws.plan()
    assert plan.actions('offstate_secret.m["k"]') == ["no-op"], plan.summary()
    ws.apply(plan)

    # terraform state mv back to a plain address.
    ws.tf("state", "mv", 'offstate_secret.m["k"]', "offstate_secret.c")
    ws.write(hcl.config(ws.endpoint, hcl.secret("c", name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.assert_no_changes("after state mv")

    # removed { destroy = false }: forgotten, the secret stays.
    ws.write(hcl.config(ws.endpoint, "removed {\n  from = offstate_secret.c\n  lifecycle {\n    destroy = false\n  }\n}\n"))
    plan = ws.plan()
    assert plan.actions("offstate_secret.c") == ["forget"], plan.summary()
    ws.apply(plan)
    assert ws.attributes("offstate_secret.c") is None
    assert store.status(sm, name) == "active" and store.stages(sm, name) == {"AWSCURRENT": v1}
    store.assert_value(sm, name, value)
    assert sm.describe_secret(SecretId=name)["ARN"] == arn
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    ws.sweep()


def test_target_applies_only_the_targeted_secret(ws, sm):
    value = ws.canary("value")
    ws.set_var("secret", value)
    a, b = ws.name("a"), ws.name("b")
    ws.write(
        hcl.config(
            ws.endpoint,
            hcl.secret("a", name=a, value_wo_version="1", recovery_window_in_days=0),
            hcl.secret("b", name=b, value_wo_version="1", recovery_window_in_days=0),
        )
    )
    ws.apply(None, "-target=offstate_secret.a")
    assert store.status(sm, a) == "active" and store.status(sm, b) == "gone"
    ws.write(
        hcl.config(
            ws.endpoint,
            hcl.secret("a", name=a, value_wo_version="2", recovery_window_in_days=0),
            hcl.secret("b", name=b, value_wo_version="1", recovery_window_in_days=0),
        )
    )
    plan = ws.plan("-target=offstate_secret.b")
    assert plan.actions("offstate_secret.b") == ["create"] and plan.actions("offstate_secret.a") == [], plan.summary()
    ws.apply(plan)
    assert len(store.stages(sm, a)) == 1, "the untargeted secret must not be written"
    ws.apply()
    assert len(store.stages(sm, a)) == 2
    ws.assert_no_changes("after the full apply")
    ws.sweep()


def test_workspaces_keep_separate_secrets(ws, sm):
    value = ws.canary("value")
    ws.set_var("secret", value)
    base = ws.name()
    body = (
        'resource "offstate_secret" "s" {\n'
        f'  name = "{base}-${{terraform.workspace}}"\n'
        "  value_wo = var.secret\n"
        '  value_wo_version = "1"\n'
        "  recovery_window_in_days = 0\n"
        "}\n"
    )
    ws.write(hcl.config(ws.endpoint, body))
    ws.apply()
    ws.tf("workspace", "new", "staging")
    other = ws.canary("other")
    ws.set_var("secret", other)
    plan = ws.plan()
    assert plan.actions(ADDR) == ["create"], plan.summary()
    ws.apply(plan)
    store.assert_value(sm, f"{base}-staging", other)
    store.assert_value(sm, f"{base}-default", value)
    ws.tf("workspace", "select", "default")
    ws.assert_no_changes("back in default")
    # The same fixed name in two workspaces: the plan of the second sees the first's secret.
    ws.write(hcl.config(ws.endpoint, body.replace("-${terraform.workspace}", "-default")))
    ws.tf("workspace", "select", "staging")
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    errors = error_diagnostics(res)
    assert [(e["summary"], e.get("address")) for e in errors] == [("Secret name already exists", ADDR)], errors
    store.assert_value(sm, f"{base}-default", value)
    ws.write(hcl.config(ws.endpoint, body))
    ws.destroy()
    ws.tf("workspace", "select", "default")
    ws.destroy()
    assert store.status(sm, f"{base}-staging") == "gone" and store.status(sm, f"{base}-default") == "gone"
    ws.sweep()


@pytest.mark.parametrize("parallelism", ["1", "10"])
def test_for_each_over_many_secrets(ws, sm, parallelism):
    value = ws.canary("value")
    ws.set_var("secret", value)
    keys = [f"k{i:02d}" for i in range(15)]
    body = (
        "locals {\n  keys = " + hcl.lit(keys).replace(", ", ",") .replace("[", "[").replace("]", "]") + "\n}\n"
        'resource "offstate_secret" "s" {\n'
        "  for_each = toset(local.keys)\n"
        f'  name = "{ws.prefix}/${{each.key}}"\n'
        '  value_wo = "${var.secret}-${each.key}"\n'
        '  value_wo_version = "1"\n'
        "  recovery_window_in_days = 0\n"
        "}\n"
    )
    ws.write(hcl.config(ws.endpoint, body))
    ws.apply(None, f"-parallelism={parallelism}")
    for k in keys:
        got = store.read_value(sm, f"{ws.prefix}/{k}")
        assert hmac.compare_digest(got.encode(), f"{value.reveal()}-{k}".encode()), k
    ws.write(hcl.config(ws.endpoint, body.replace('"1"', '"2"')))
    ws.apply(None, f"-parallelism={parallelism}")
    assert all(len(store.stages(sm, f"{ws.prefix}/{k}")) == 2 for k in keys)
    ws.assert_no_changes("after the rotation of every key")
    ws.destroy(f"-parallelism={parallelism}")
    assert all(store.status(sm, f"{ws.prefix}/{k}") == "gone" for k in keys)
    ws.sweep()


# ----------------------------------------------------------------------------------------------
# lifecycle meta-arguments


def test_prevent_destroy_and_replace_triggered_by(ws, sm):
    value = ws.canary("value")
    ws.set_var("secret", value)
    name, other = ws.name("a"), ws.name("t")
    trig = hcl.secret("t", value_var=None, name=other, recovery_window_in_days=0, description="one")

    def write(prevent: bool, description: str = "one") -> None:
        body = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)
        life = "  lifecycle {\n    replace_triggered_by = [offstate_secret.t.description]\n"
        if prevent:
            life += "    prevent_destroy = true\n"
        body = body.rstrip().rstrip("}") + life + "  }\n}\n"
        ws.write(hcl.config(ws.endpoint, body, trig.replace('"one"', f'"{description}"')))

    write(True)
    ws.apply()
    arn = ws.attributes(ADDR)["arn"]
    write(True, "two")
    res = ws.tf("plan", "-input=false", expect=1)
    assert "prevent_destroy" in res.output
    write(False, "two")
    plan = ws.plan()
    assert plan.actions(ADDR) == ["delete", "create"], plan.summary()
    ws.apply(plan)
    assert ws.attributes(ADDR)["arn"] != arn
    store.assert_value(sm, name, value)
    ws.assert_no_changes("after the triggered replace")
    ws.sweep()


def test_older_state_without_newer_attributes_upgrades(ws, sm):
    """A state written by an older provider build of the same schema version lacks attributes
    added since (policy, replica, ...) and may carry one since dropped: plan must read it."""
    import json

    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    st = ws.state()
    attrs = st["resources"][0]["instances"][0]["attributes"]
    for k in ("policy", "block_public_policy", "replica", "replica_status", "force_overwrite_replica_secret",
              "compare_value", "binary_wo", "name_prefix"):
        attrs.pop(k, None)
    attrs["rotation_enabled"] = False
    st["serial"] += 1
    (ws.dir / "terraform.tfstate").write_text(json.dumps(st))
    ws.assert_no_changes("after the upgrade of an older state")
    # `terraform show -json` reads the state as written, without the provider: only an apply
    # rewrites it in the current schema.
    ws.apply()
    assert "rotation_enabled" not in ws.attributes(ADDR)
    ws.assert_no_changes("after the apply that rewrote the state")
    assert len(store.stages(sm, name)) == 1
    ws.sweep()


def test_ignore_changes_on_rotation_rules_sends_nothing_when_something_else_changes(ws, sm, rotation_lambda):
    """An update of offstate_secret_rotation planned for rotate_immediately alone calls nothing;
    with ignored rotation_rules it sent them, with RotateSecret rotating at once."""
    from test_rotation import ROT, SECRET, rotation

    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    secret = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)

    def write(days: int, immediately: bool) -> None:
        body = rotation(f"{SECRET}.arn", lambda_arn=rotation_lambda, rules={"automatically_after_days": days},
                        rotate_immediately=immediately)
        body = body.rstrip().rstrip("}") + "  lifecycle {\n    ignore_changes = [rotation_rules]\n  }\n}\n"
        ws.write(hcl.config(ws.endpoint, secret, body))

    write(30, False)
    ws.apply()
    v1 = store.stages(sm, name)["AWSCURRENT"]
    write(60, False)
    ws.assert_no_changes("ignored rotation_rules")
    write(60, True)
    plan = ws.plan()
    assert plan.actions(ROT) == ["update"], plan.summary()
    ws.apply(plan)
    assert sm.describe_secret(SecretId=name)["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert store.stages(sm, name).get("AWSCURRENT") == v1, "nothing may rotate"
    store.assert_value(sm, name, c)
    ws.assert_no_changes("after the rotate_immediately change")
    ws.destroy()
    ws.sweep()


# ----------------------------------------------------------------------------------------------
# Ctrl-C during an apply


@pytest.mark.parametrize("presses", [1, 2])
@pytest.mark.parametrize("op", ["CreateSecret", "PutSecretValue"])
def test_an_apply_interrupted_by_ctrl_c_is_finished_by_the_next_apply(ws, sm, op, presses):
    """SIGINT to terraform while a CreateSecret (or a PutSecretValue of a trigger change) is in
    flight: Terraform stops the provider and waits. The next apply must converge: every secret
    exists once with its value, no second version of an interrupted write, no changes after."""
    import threading

    from harness.faults import FaultProxy
    from reliability.reliability_support import start_tf

    value = ws.canary("value")
    ws.set_var("secret", value)
    keys = [f"k{i}" for i in range(6)]

    def config(endpoint: str, trigger: str) -> str:
        return hcl.config(
            endpoint,
            'resource "offstate_secret" "s" {\n'
            f"  for_each = toset({hcl.lit(keys)})\n"
            f'  name = "{ws.prefix}/${{each.key}}"\n'
            '  value_wo = "${var.secret}-${each.key}"\n'
            f'  value_wo_version = "{trigger}"\n'
            "  recovery_window_in_days = 0\n"
            "}\n",
        )

    if op == "PutSecretValue":
        ws.write(config(ws.endpoint, "1"))
        ws.apply()
    reached, release = threading.Event(), threading.Event()
    seen = []

    def hold(name: str) -> bool:
        if name == op:
            seen.append(name)
            if len(seen) == 2:
                reached.set()
                release.wait(30)
        return False

    proxy = FaultProxy(ws.endpoint, rate=0.0, log_path=ws.artifacts / "proxy.log", after_upstream=hold).start()
    try:
        ws.write(config(proxy.url, "2"))
        run = start_tf(ws, "apply", "-input=false", "-auto-approve", "-parallelism=1")
        assert reached.wait(120), f"apply never reached the second {op}"
        run.proc.send_signal(signal.SIGINT)
        if presses == 2:  # a second Ctrl-C: Terraform exits at once, without the state of what is in flight
            time.sleep(0.5)
            run.proc.send_signal(signal.SIGINT)
            res = run.wait(60)
            ws.providers_killed = True  # Terraform quits without ending its providers
        time.sleep(2)
        release.set()
        if presses == 1:
            res = run.wait(180)
    finally:
        release.set()
        proxy.stop()
    assert res.rc != 0, "an interrupted apply exits non-zero"
    assert "panic" not in res.output.lower()
    state = ws.dir / "terraform.tfstate"
    if presses == 2 and state.exists() and not state.read_text().strip():
        # Terraform 1.11 may exit ("Two interrupts received. Exiting immediately. Note that data
        # loss may have occurred.") between truncating the state and writing it (seen): the
        # user's way back is the backup it made first. The writes of the lost run are then
        # recognised by their idempotency tokens (PutSecretValue) or adopted (CreateSecret).
        backup = ws.dir / "terraform.tfstate.backup"
        if backup.exists():
            state.write_bytes(backup.read_bytes())
        else:  # the first apply: no state before it
            state.unlink()
    ws.write(config(ws.endpoint, "2"))
    if op == "CreateSecret" and presses == 2:
        # Terraform exited without the state of what its last seconds created: a create that had
        # finished (its create-pending tag removed) made a secret no state holds, and a finished
        # secret is never taken over (it may be another state's), so the apply says "already
        # exists" and to import it. One still tagged (its create stopped before the end) is adopted.
        res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=None)
        refused = [
            e["address"].split('"')[1]
            for e in error_diagnostics(res)
            if e["summary"] == "Secrets Manager CreateSecret failed" and "already exists" in e["detail"]
        ]
        assert len(refused) == len(error_diagnostics(res)), [e["summary"] for e in error_diagnostics(res)]
        for k in refused:
            tags = sm.describe_secret(SecretId=f"{ws.prefix}/{k}").get("Tags", [])
            assert not any(t["Key"] == "offstate:create-pending" for t in tags), f"{k}: tagged, not adopted"
            ws.tf("import", "-input=false", f'{ADDR}["{k}"]', f"{ws.prefix}/{k}?value_wo_version=2")
    ws.apply()
    for k in keys:
        n = f"{ws.prefix}/{k}"
        got = store.read_value(sm, n)
        assert hmac.compare_digest(got.encode(), f"{value.reveal()}-{k}".encode()), k
        want = 1 if op == "CreateSecret" else 2
        assert len(sm.list_secret_version_ids(SecretId=n)["Versions"]) == want, (k, store.stages(sm, n))
    ws.assert_no_changes("after the interrupted apply was finished")
    ws.destroy()
    ws.sweep()


# ----------------------------------------------------------------------------------------------
# ephemeral reads feeding write-only arguments in the same apply


def test_a_binary_secret_copied_through_an_ephemeral_read_keeps_its_bytes(ws, sm):
    c = ws.canary("bin")
    raw = b"\x00\xff\xfe" + c.reveal().encode() + b"\x80\x81"
    src, dst = ws.name("src"), ws.name("dst")
    sm.create_secret(Name=src, SecretBinary=raw)
    import base64

    ws.watch(canaries.Canary(base64.b64encode(raw).decode()))
    ws.write(
        hcl.config(
            ws.endpoint,
            f'ephemeral "offstate_secret_value" "src" {{\n  secret_id = "{src}"\n}}\n'
            'resource "offstate_secret" "dst" {\n'
            f'  name = "{dst}"\n'
            "  recovery_window_in_days = 0\n"
            "  binary_wo = ephemeral.offstate_secret_value.src.value\n"
            '  value_wo_version = "bin-1"\n'
            "}\n",
            variables=(),
        )
    )
    ws.apply()
    got = sm.get_secret_value(SecretId=dst)["SecretBinary"]
    assert hmac.compare_digest(got, raw), f"lengths {len(got)} {len(raw)}"
    assert ws.attributes("offstate_secret.dst")["value_wo_version"] == "bin-1"
    ws.assert_no_changes("binary copy")
    ws.destroy()  # opens the ephemeral read again: the source goes after
    sm.delete_secret(SecretId=src, ForceDeleteWithoutRecovery=True)
    ws.sweep()


def test_import_with_a_trigger_and_generate_config_out(ws, sm):
    """`id = "NAME?value_wo_version=1"`: the generated block carries the trigger; adding value_wo
    to it writes nothing (the value is adopted)."""
    before = ws.canary("before")
    name = ws.name()
    sm.create_secret(Name=name, SecretString=before.reveal())
    v0 = store.stages(sm, name)["AWSCURRENT"]
    ws.set_var("secret", ws.canary("new"))
    ws.write(hcl.config(ws.endpoint, f'import {{\n  to = {ADDR}\n  id = "{name}?value_wo_version=1"\n}}\n'))
    ws.tf("plan", "-input=false", "-generate-config-out=generated.tf", expect=(0, 2))
    generated = (ws.dir / "generated.tf").read_text()
    assert re.search(r'\n  value_wo_version += "1"\n', generated), generated
    ws.write(re.sub(r"\n  value_wo( +)= null # sensitive", r"\n  value_wo\1= var.secret", generated), "generated.tf")
    plan = ws.plan()
    assert plan.actions(ADDR) == ["no-op"], plan.summary()
    ws.apply(plan)
    assert store.stages(sm, name) == {"AWSCURRENT": v0}
    store.assert_value(sm, name, before)
    ws.assert_no_changes("adopted")
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    ws.sweep()


def test_ignore_changes_on_value_wo_writes_once_and_says_so_on_a_trigger_change(ws, sm):
    """Terraform never has a prior value of a write-only argument, so `ignore_changes =
    [value_wo]` removes the value from every plan after the create: the create writes it, a
    later trigger change writes nothing, with a warning on value_wo_version (the apply used to
    take the value from the configuration as written, against a plan that announced no write)."""
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()

    def write(version: str) -> None:
        body = hcl.secret(name=name, value_wo_version=version, recovery_window_in_days=0)
        body = body.rstrip().rstrip("}") + "  lifecycle {\n    ignore_changes = [value_wo]\n  }\n}\n"
        ws.write(hcl.config(ws.endpoint, body))

    write("1")
    ws.apply()
    store.assert_value(sm, name, value)
    v1 = store.stages(sm, name)["AWSCURRENT"]
    ws.set_var("secret", ws.canary("other"))
    write("2")
    res = ws.tf("plan", "-input=false", "-json", expect=0)
    warnings = [d for d in (x.get("diagnostic") for x in res.json_lines()) if d and d["severity"] == "warning"]
    assert [d["summary"] for d in warnings if d.get("address") == ADDR] == ["No value to write"], [
        d["summary"] for d in warnings
    ]
    ws.apply()
    assert store.stages(sm, name) == {"AWSCURRENT": v1}
    store.assert_value(sm, name, value)
    assert ws.attributes(ADDR)["value_wo_version"] == "2"
    ws.assert_no_changes("trigger recorded")
    ws.sweep()


def test_a_state_without_identity_gets_one(ws, sm):
    """A state written before the provider had a resource identity (or by Terraform < 1.12)
    has none: the next refresh must supply it, with no change planned."""
    import json

    tfh.require(True, "")
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    st = ws.state()
    inst = st["resources"][0]["instances"][0]
    arn = inst["attributes"]["arn"]
    for k in ("identity", "identity_schema_version"):
        inst.pop(k, None)
    for k in ("tags_all", "recovery_window_in_days", "replica_status"):
        inst["attributes"].pop(k, None)
    st["serial"] += 1
    (ws.dir / "terraform.tfstate").write_text(json.dumps(st))
    plan = ws.plan()
    assert plan.actions(ADDR) in (["no-op"], ["update"]), plan.summary()
    ws.apply(plan)
    inst = ws.state()["resources"][0]["instances"][0]
    if "identity" in inst:  # Terraform >= 1.12 records it
        assert inst["identity"] == {"arn": arn}, inst["identity"]
    assert inst["attributes"]["recovery_window_in_days"] == 0
    assert len(store.stages(sm, name)) == 1
    ws.assert_no_changes("after the identity came back")
    ws.sweep()


@pytest.mark.parametrize("outside", ["deleted", "scheduled"])
def test_refresh_only_after_the_secret_went_outside(ws, sm, outside):
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    if outside == "deleted":
        sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    else:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    plan = ws.plan("-refresh-only")
    assert plan.rc == 2 and plan.drift(ADDR) is not None and plan.drift(ADDR)["actions"] == ["delete"], plan.summary()
    ws.apply(plan)
    assert ws.attributes(ADDR) is None
    if outside == "deleted":
        plan = ws.plan()
        assert plan.actions(ADDR) == ["create"], plan.summary()
        ws.apply(plan)
        store.assert_value(sm, name, value)
    else:
        res = ws.tf("plan", "-input=false", "-json", expect=1)
        assert [e["summary"] for e in error_diagnostics(res)] == ["Secret scheduled for deletion"] or any(
            "scheduled for deletion" in e["detail"] for e in error_diagnostics(res)
        ), [e["summary"] for e in error_diagnostics(res)]
        sm.restore_secret(SecretId=name)
        ws.tf("import", "-input=false", ADDR, f"{name}?value_wo_version=1")
        plan = ws.plan()  # an import records the default window, 30: an update of that alone
        assert plan.actions(ADDR) == ["update"] and "version_id" not in plan.change(ADDR)["after_unknown"], plan.summary()
        ws.apply(plan)
        ws.assert_no_changes("restored and imported with its trigger")
        store.assert_value(sm, name, value)
    ws.destroy()
    ws.sweep()


def test_binary_values_at_the_size_limit(ws, sm):
    import base64

    name = ws.name()
    c = ws.canary("bin")
    head = c.reveal().encode()
    exact = head + b"\xfe" * (65_536 - len(head))
    over = exact + b"\x00"
    ws.watch(canaries.Canary(base64.b64encode(exact).decode()))
    ws.watch(canaries.Canary(base64.b64encode(over).decode()))
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_var=None, recovery_window_in_days=0,
                                                value_wo_version="1", raw={"binary_wo": "var.secret"})))
    ws.set_var("secret", base64.b64encode(exact).decode())
    ws.apply()
    assert hmac.compare_digest(sm.get_secret_value(SecretId=name)["SecretBinary"], exact)
    ws.set_var("secret", base64.b64encode(over).decode())
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_var=None, recovery_window_in_days=0,
                                                value_wo_version="2", raw={"binary_wo": "var.secret"})))
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    errors = error_diagnostics(res)
    assert [(e["summary"], "65537 bytes" in e["detail"]) for e in errors] == [("Secret value too large", True)], [
        e["summary"] for e in errors
    ]
    # Terraform validates the configuration on destroy too: the value must fit for that as well.
    res = ws.tf("destroy", "-input=false", "-auto-approve", expect=1)
    assert "Secret value too large" in res.output
    ws.set_var("secret", base64.b64encode(exact).decode())
    ws.destroy()
    ws.sweep()


@pytest.mark.parametrize("shape", ["two-blocks", "for_each"])
def test_resources_with_the_same_name_do_not_share_one_secret(ws, sm, shape):
    """Objects of one configuration naming the same secret (a for_each whose keys map to one
    name, a copy-pasted block): every create but one must fail, as CreateSecret does, not adopt
    the secret another made moments before in the same apply (adoption is for a secret an
    interrupted earlier apply of that very object left behind). Sharing it, a destroy of either
    deleted the other's secret."""
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    if shape == "two-blocks":
        blocks = [hcl.secret(r, name=name, value_wo_version="1", recovery_window_in_days=0) for r in ("a", "b")]
        n = 2
    else:
        n = 5
        blocks = [
            'resource "offstate_secret" "m" {\n'
            f"  for_each = toset({hcl.lit([f'k{i}' for i in range(n)])})\n"
            f'  name = "{name}"\n'
            "  value_wo = var.secret\n"
            '  value_wo_version = "1"\n'
            "  recovery_window_in_days = 0\n"
            "}\n"
        ]
    ws.write(hcl.config(ws.endpoint, *blocks))
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=None)
    errors = error_diagnostics(res)
    st = ws.state() if (ws.dir / "terraform.tfstate").exists() else {"resources": []}
    arns = [i["attributes"]["arn"] for r in st["resources"] for i in r["instances"]]
    assert len(arns) == len(set(arns)) == 1, f"{len(arns)} objects hold {len(set(arns))} secret(s)"
    assert res.rc == 1 and [e["summary"] for e in errors] == ["Secret name already exists"] * (n - 1), [
        e["summary"] for e in errors
    ]
    store.assert_value(sm, name, value)
    assert len(store.stages(sm, name)) == 1
    ws.destroy()
    assert store.status(sm, name) == "gone"
    ws.sweep()


def test_a_read_of_a_secret_created_in_the_same_run_by_its_name_says_to_use_the_arn(ws, sm):
    """`secret_id = offstate_secret.src.name` is known at plan, so Terraform opens the read then,
    before the secret exists: the error says to use `.arn` (unknown until apply), which works."""
    ws.canary("unused")
    src, dst = ws.name("src"), ws.name("dst")

    def write(attr: str) -> None:
        ws.write(
            hcl.config(
                ws.endpoint,
                'resource "offstate_secret" "src" {\n'
                f'  name = "{src}"\n  recovery_window_in_days = 0\n  generate {{\n    length = 24\n  }}\n}}\n'
                f'ephemeral "offstate_secret_value" "read" {{\n  secret_id = offstate_secret.src.{attr}\n}}\n'
                'resource "offstate_secret" "dst" {\n'
                f'  name = "{dst}"\n  recovery_window_in_days = 0\n'
                "  value_wo = ephemeral.offstate_secret_value.read.value\n"
                "  value_wo_version = offstate_secret.src.version_id\n}\n",
                variables=(),
            )
        )

    write("name")
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    errors = error_diagnostics(res)
    assert [e["summary"] for e in errors] == ["Secrets Manager GetSecretValue failed"], [e["summary"] for e in errors]
    assert "offstate_secret.NAME.arn" in errors[0]["detail"], "the error must say to use the ARN"
    assert src not in errors[0]["detail"], "the error repeats secret_id"
    assert store.status(sm, src) == "gone"
    write("arn")
    ws.apply()
    ws.watch(canaries.Canary(store.read_value(sm, src)))
    assert hmac.compare_digest(store.read_value(sm, dst).encode(), store.read_value(sm, src).encode())
    ws.assert_no_changes("read by ARN")
    ws.destroy()
    ws.sweep()


def test_import_by_identity_with_generate_config_out(ws, sm):
    """`import { identity = { arn = ... } }` with -generate-config-out (Terraform 1.12+: the
    bundled one, as test_breadth's identity import)."""
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    before = ws.canary("before")
    name = ws.name()
    arn = sm.create_secret(Name=name, SecretString=before.reveal(), Tags=[{"Key": "k", "Value": "v"}])["ARN"]
    ws.write(hcl.config(ws.endpoint, f'import {{\n  to = {ADDR}\n  identity = {{ arn = "{arn}" }}\n}}\n', variables=()))
    ws.tf("plan", "-input=false", "-generate-config-out=generated.tf", expect=(0, 2))
    generated = (ws.dir / "generated.tf").read_text()
    assert f'name                           = "{name}"' in generated, generated
    plan = ws.plan()
    assert plan.actions(ADDR) == ["no-op"], plan.summary()
    ws.apply(plan)
    assert ws.state()["resources"][0]["instances"][0].get("identity") == {"arn": arn}
    ws.assert_no_changes("after the identity import")
    ws.tf("state", "rm", ADDR)
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    ws.sweep()


def test_a_write_whose_state_was_lost_is_not_written_twice(ws, sm):
    """The state of an apply that wrote a new version is lost (provider or terraform killed
    after PutSecretValue, a double Ctrl-C, a state restored from its backup). The next apply
    refreshes first, so the state's version_id is then the version that apply wrote: the write
    for the same trigger must be recognised, not made again. A second copy of the value would
    push the real previous value out of AWSPREVIOUS."""
    first, second = ws.canary("first"), ws.canary("second")
    name = ws.name()
    ws.set_var("secret", first)
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    before = (ws.dir / "terraform.tfstate").read_bytes()
    ws.set_var("secret", second)
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="2", recovery_window_in_days=0)))
    ws.apply()
    written = store.stages(sm, name)
    # The state of that apply is lost: the one before it comes back.
    (ws.dir / "terraform.tfstate").write_bytes(before)
    ws.apply()
    assert store.stages(sm, name) == written, "the version written for trigger 2 must not be written again"
    store.assert_value(sm, name, first, "AWSPREVIOUS")
    store.assert_value(sm, name, second)
    assert ws.attributes(ADDR)["version_id"] == written["AWSCURRENT"]
    ws.assert_no_changes("after the converging apply")
    # The next trigger change writes as usual.
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="3", recovery_window_in_days=0)))
    ws.apply()
    assert len(sm.list_secret_version_ids(SecretId=name)["Versions"]) == 3
    store.assert_value(sm, name, second, "AWSPREVIOUS")
    ws.sweep()


def test_a_secret_another_workspace_created_is_not_taken_over(ws, sm):
    """Two workspaces (two states) whose configurations create the same fixed name with the same
    settings and value. The second apply took the first's secret over, as if an interrupted
    apply of its own had left it (only a plan warning said the name existed): both states held
    one secret and destroying either deleted the other's. The first create removed its
    create-pending tag once done, so the second apply fails with "already exists" and the first
    workspace keeps its secret alone."""
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    arn = ws.attributes(ADDR)["arn"]
    tags = {t["Key"] for t in sm.describe_secret(SecretId=name).get("Tags", [])}
    assert "offstate:create-pending" not in tags, tags
    assert "offstate:create-pending" not in ws.attributes(ADDR)["tags_all"]

    ws.tf("workspace", "new", "other")
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    errors = error_diagnostics(res)
    assert [e["summary"] for e in errors] == ["Secrets Manager CreateSecret failed"], [e["summary"] for e in errors]
    assert "already exists" in errors[0]["detail"] and "terraform import" in errors[0]["detail"]
    assert ADDR not in ws.tf("state", "list").output, "the other workspace holds the secret"
    ws.destroy()
    assert store.status(sm, name) == "active", "destroying the other workspace deleted the secret"
    store.assert_value(sm, name, value)
    assert len(store.stages(sm, name)) == 1

    ws.tf("workspace", "select", "default")
    ws.assert_no_changes("the first workspace, after the other's failed apply and destroy")
    assert ws.attributes(ADDR)["arn"] == arn
    ws.destroy()
    assert store.status(sm, name) == "gone"
    ws.sweep()


def test_fifty_tags_apply_and_more_are_refused_by_the_plan(ws, sm):
    """Secrets Manager allows 50 tags per secret. 50 (tags and default_tags merged) apply, without
    the create-pending tag that would be the 51st; 51 are an error of the plan on `tags` that says
    how many come from default_tags (moto does not enforce the limit, AWS does at apply)."""
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()

    def write(own: int) -> None:
        tags = {f"k{i:02}": "v" for i in range(own)}
        ws.write(hcl.config(ws.endpoint,
                            hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0, tags=tags),
                            provider_attrs={"default_tags": {"team": "payments"}}))

    write(50)
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    errors = error_diagnostics(res)
    assert [e["summary"] for e in errors] == ["Too many tags"], [e["summary"] for e in errors]
    detail = errors[0]["detail"]
    assert "would have 51" in detail and "1 from the provider's default_tags" in detail, detail
    assert store.status(sm, name) == "gone"
    write(49)
    ws.apply()
    tags = store.tags(sm, name)
    assert len(tags) == 50 and "offstate:create-pending" not in tags, sorted(tags)
    store.assert_value(sm, name, value)
    ws.assert_no_changes("50 tags")
    ws.destroy()
    ws.sweep()
