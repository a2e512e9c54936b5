"""When offstate_secret writes a new version, end to end: what the plan announces (an unknown
`version_id`) is what the apply does, and a write happens only where the mode in use asks for one.

- A `value_wo_version` taken from a resource created in the same run (the documented
  `value_wo_version = offstate_secret.source.version_id`) is unknown at plan: the plan must
  announce the write, also where the state has no trigger yet (a secret imported, or managed so
  far without a value). A plan that keeps `version_id` and an apply that writes is Terraform's
  "Provider produced inconsistent final plan".
- Going from trigger mode to compare mode (removing `value_wo_version`, setting `compare_value`)
  writes only when the value differs, as compare mode always does: a second copy of the same
  value would push the real previous value out of `AWSPREVIOUS`.
- A `replica` in the secret's own region is refused by the plan, before anything is created.
  Refused by ReplicateSecretToRegions instead, the create failed after CreateSecret: the secret
  was left tainted, and the next apply replaced it, deleting it with its recovery window and then
  failing to create the name again ("scheduled for deletion").

Real Terraform, moto, canary sweep of every artifact."""

from __future__ import annotations

import pytest

from harness import hcl
from harness import store

pytestmark = [pytest.mark.e2e]

ADDR = "offstate_secret.s"


def source_block(name: str) -> str:
    """A secret created in the same run: its version_id is unknown until apply."""
    return (
        'resource "offstate_secret" "src" {\n'
        f'  name = "{name}"\n'
        "  recovery_window_in_days = 0\n"
        "  generate {\n    length = 24\n  }\n"
        "}\n"
    )


@pytest.mark.parametrize("start", ["no-value", "imported"])
def test_unknown_trigger_on_a_secret_without_one_plans_the_write(ws, sm, start):
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    plain = hcl.secret(name=name, value_var=None, recovery_window_in_days=0)
    if start == "imported":
        before = ws.canary("before")  # in Secrets Manager only; the import must not read it
        sm.create_secret(Name=name, SecretString=before.reveal())
        ws.write(hcl.config(ws.endpoint, plain, f'import {{\n  to = {ADDR}\n  id = "{name}"\n}}\n'))
    else:
        ws.write(hcl.config(ws.endpoint, plain))
    ws.apply()
    a0 = ws.attributes(ADDR)
    assert a0["value_wo_version"] is None

    # The value with a trigger known only once offstate_secret.src exists.
    ws.write(
        hcl.config(
            ws.endpoint,
            hcl.secret(
                name=name,
                recovery_window_in_days=0,
                raw={"value_wo_version": "offstate_secret.src.version_id"},
            ),
            source_block(name + "-src"),
        )
    )
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    ch = plan.change(ADDR)
    assert ch["after_unknown"].get("version_id") is True, "the plan must announce a new version"
    ws.apply(plan)

    a1 = ws.attributes(ADDR)
    assert a1["value_wo_version"] == store.stages(sm, name + "-src")["AWSCURRENT"]
    assert a1["version_id"] == store.stages(sm, name)["AWSCURRENT"]
    assert a1["version_id"] != a0["version_id"]
    store.assert_value(sm, name, value)
    ws.assert_no_changes("after writing with the new trigger")
    ws.sweep()


def test_switching_from_trigger_to_compare_mode_writes_only_a_different_value(ws, sm):
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    v1 = ws.attributes(ADDR)["version_id"]

    # Same value, now compared instead of triggered: nothing to write.
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, compare_value=True, recovery_window_in_days=0)))
    plan = ws.plan()
    assert "version_id" not in plan.change(ADDR)["after_unknown"], "the same value must not be planned as a write"
    ws.apply(plan)
    assert store.stages(sm, name) == {"AWSCURRENT": v1}, "no second copy of the same value"
    assert ws.attributes(ADDR)["version_id"] == v1
    ws.assert_no_changes("compare mode, same value")

    # A different value is written, as compare mode does.
    other = ws.canary("other")
    ws.set_var("secret", other)
    plan = ws.plan()
    assert plan.change(ADDR)["after_unknown"].get("version_id") is True, plan.summary()
    ws.apply(plan)
    store.assert_value(sm, name, other)
    store.assert_value(sm, name, value, "AWSPREVIOUS")
    ws.assert_no_changes("after writing the different value")
    ws.sweep()


def test_a_replica_in_the_secrets_own_region_is_refused_by_the_plan(ws, sm):
    value = ws.canary("value")
    ws.set_var("secret", value)
    name = ws.name()
    body = hcl.secret(name=name, value_wo_version="1")  # the default recovery window (30 days)
    body = body.rstrip().rstrip("}") + '  replica {\n    region = "us-east-1"\n  }\n}\n'
    ws.write(hcl.config(ws.endpoint, body))  # the provider's region is us-east-1
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    errors = [line["diagnostic"] for line in res.json_lines() if line.get("diagnostic", {}).get("severity") == "error"]
    assert len(errors) == 1, res.stdout
    assert "us-east-1" in errors[0]["detail"] and "replica" in errors[0]["summary"].lower(), errors
    assert errors[0].get("address") == ADDR, errors  # Terraform shows a block set's error on the resource
    assert store.status(sm, name) == "gone", "nothing may be created"
    ws.sweep()
