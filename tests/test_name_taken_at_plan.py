"""A `name` that CreateSecret would refuse is reported by the plan, before anything is deleted.

The plan of a create with a known `name` calls DescribeSecret for it (never a value):

- a name scheduled for deletion (a `terraform destroy` with a recovery window, then `apply`) is an
  error on `name` with what to do (restore-secret then import, wait, or another name): before,
  the plan looked fine and the apply failed;
- `terraform plan -replace` of a secret whose recovery window is above 0 is an error: the apply
  would delete the secret (scheduling its deletion, so the name stays taken) and then fail to
  create it, leaving no secret in the state. Terraform shows only the errors of a replace's
  second PlanResourceChange, so a warning there would never be seen. With
  `recovery_window_in_days = 0` applied first, the same replace goes through;
- a name that exists outside the state (a create, or a tainted secret's replace, which Terraform
  plans alike) is a warning on `name`.

Real Terraform, moto, canary sweep of every artifact."""

from __future__ import annotations

import pytest

from harness import hcl
from harness import store

pytestmark = [pytest.mark.e2e, pytest.mark.lifecycle]

ADDR = "offstate_secret.s"


def flat(text: str) -> str:
    """Terraform wraps diagnostics at the terminal width: one line, single spaces."""
    return " ".join(text.replace("│", " ").split())


def test_a_name_scheduled_for_deletion_is_an_error_at_plan(ws, sm):
    ws.set_var("secret", ws.canary())
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=7)))
    ws.apply()
    arn = ws.attributes(ADDR)["arn"]
    ws.destroy()
    assert store.status(sm, name) == "scheduled"

    res = ws.tf("plan", "-input=false", expect=1)
    text = flat(res.output)
    assert "Error: Secret name scheduled for deletion" in text, ws.describe_failure(res, "no error at plan")
    assert f"aws secretsmanager restore-secret --secret-id {name}" in text, ws.describe_failure(res, "what to do")
    assert 'with offstate_secret.s' in text, ws.describe_failure(res, "the error must point at the resource")
    assert store.status(sm, name) == "scheduled", "the plan changed the secret"
    assert sm.describe_secret(SecretId=name)["ARN"] == arn
    ws.sweep()


def test_replace_with_a_recovery_window_is_refused_at_plan(ws, sm):
    ws.set_var("secret", ws.canary())
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=30)))
    ws.apply()
    arn = ws.attributes(ADDR)["arn"]
    version = store.stages(sm, name)["AWSCURRENT"]

    res = ws.tf("plan", "-input=false", f"-replace={ADDR}", expect=1)
    text = flat(res.output)
    assert "Error: Replacing this secret would fail" in text, ws.describe_failure(res, "no error at plan")
    assert "recovery_window_in_days = 30" in text and "name_prefix" in text, ws.describe_failure(res, "what to do")
    assert store.status(sm, name) == "active", "the plan changed the secret"
    assert sm.describe_secret(SecretId=name)["ARN"] == arn
    assert store.stages(sm, name)["AWSCURRENT"] == version

    # What the error says to do: apply the window 0 on its own, then replace.
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    plan = ws.plan(f"-replace={ADDR}")
    assert plan.actions(ADDR) == ["delete", "create"], plan.summary()
    ws.apply(plan)
    assert ws.attributes(ADDR)["arn"] != arn
    assert store.status(sm, name) == "active"
    ws.sweep()


def test_a_name_taken_outside_the_state_is_a_warning_at_plan(ws, sm):
    ws.set_var("secret", ws.canary())
    name = ws.name()
    sm.create_secret(Name=name)  # no value
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    res = ws.tf("plan", "-input=false", "-detailed-exitcode", expect=2)
    text = flat(res.output)
    assert "Warning: Secret name already exists" in text, ws.describe_failure(res, "no warning at plan")
    assert "terraform import" in text, ws.describe_failure(res, "what to do")
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    ws.sweep()


def test_a_tainted_secrets_replace_warns_at_plan(ws, sm):
    ws.set_var("secret", ws.canary())
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=30)))
    ws.apply()
    ws.tf("taint", ADDR)
    res = ws.tf("plan", "-input=false", "-detailed-exitcode", expect=2)
    text = flat(res.output)
    assert "Warning: Secret name already exists" in text, ws.describe_failure(res, "no warning at plan")
    assert "terraform untaint" in text, ws.describe_failure(res, "what to do")
    assert store.status(sm, name) == "active"
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    ws.sweep()



def test_create_before_destroy_with_the_same_name_keeps_the_secret(ws, sm):
    """`create_before_destroy` and a fixed name (window 0, so the plan is clean): the replacement
    is created while the old secret holds the name. The create took it over as an interrupted
    create of its own, and the old object's delete then deleted the secret the new object held.
    A completed secret is never taken over now (it lost its create-pending tag when its create
    finished: it may be another state's): the create fails with "already exists", as
    CreateSecret does, and Terraform keeps the old object; the secret, its value and the state
    stay."""
    canary = ws.canary()
    ws.set_var("secret", canary)
    name = ws.name()
    block = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)
    block = block[: block.rstrip().rfind("}")] + "  lifecycle {\n    create_before_destroy = true\n  }\n}\n"
    ws.write(hcl.config(ws.endpoint, block))
    ws.apply()
    arn = ws.attributes(ADDR)["arn"]

    res = ws.tf("apply", "-input=false", "-auto-approve", f"-replace={ADDR}", expect=1)
    text = flat(res.output)
    assert "already exists" in text, ws.describe_failure(res, "no already-exists error")
    assert store.status(sm, name) == "active", "the secret was deleted"
    assert sm.describe_secret(SecretId=name)["ARN"] == arn
    store.assert_value(sm, name, canary)
    assert ws.attributes(ADDR)["arn"] == arn
    ws.assert_no_changes("after the failed replace")
    ws.sweep()
