"""`action "offstate_secret_rotate"` end to end: `terraform apply -invoke=...` with the bundled
Terraform (actions need 1.14), against moto.

moto and "rotate now": RotateSecret without a Lambda ARN (what the action sends: the rotation
configured on the secret) makes moto forget the recorded Lambda and move AWSCURRENT to a new,
empty version at once, as if a rotation had finished. AWS keeps the Lambda and runs it. The test
checks what both do alike: AWSCURRENT moves to the version the action reports. moto also turns
rotation on without a Lambda, so a secret without rotation is refused by the action itself, from
DescribeSecret, before RotateSecret is called.
"""

from __future__ import annotations

import pytest

from harness import hcl
from harness import store
from test_rotation import rotation, rotation_lambda  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e]

SECRET = "offstate_secret.s"
ACTION = "action.offstate_secret_rotate.now"


def action(secret_ref: str, **attrs) -> str:
    body = f"    secret_id = {secret_ref}\n"
    for k, v in attrs.items():
        body += f"    {k} = {hcl.lit(v)}\n"
    return f'action "offstate_secret_rotate" "now" {{\n  config {{\n{body}  }}\n}}\n'


def test_invoke_moves_awscurrent_to_a_new_version(ws, sm, rotation_lambda):  # noqa: F811
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    ws.write(
        hcl.config(
            ws.endpoint,
            hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0),
            rotation(
                f"{SECRET}.arn",
                lambda_arn=rotation_lambda,
                rules={"automatically_after_days": 30},
                rotate_immediately=False,
            ),
            action(f"{SECRET}.arn", timeout="2m"),
        )
    )
    ws.apply()
    before = store.stages(sm, name)["AWSCURRENT"]

    plan = ws.tf("plan", "-input=false", f"-invoke={ACTION}")
    assert "offstate_secret_rotate" in plan.stdout, plan.stdout
    res = ws.apply(None, f"-invoke={ACTION}")
    after = store.stages(sm, name)["AWSCURRENT"]
    assert after != before
    # The progress the action sent names the new version (and the CLI shows it).
    assert after in res.stdout, res.stdout
    assert f'"{name}"' in res.stdout, res.stdout
    # An invocation changes no resource: the state still says version 1 of the value was written.
    assert ws.attributes(SECRET)["version_id"] == before

    # moto forgot the Lambda (see the module docstring): CancelRotateSecret would fail on destroy.
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    ws.sweep()


def test_an_action_trigger_rotates_after_an_update(ws, sm, rotation_lambda):  # noqa: F811
    """`lifecycle { action_trigger { events = [after_update] ... } }` on another resource (a
    stand-in for the rotation Lambda's deployment): its update rotates the secret, its creation
    does not."""
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()

    def write(release: str):
        ws.write(
            hcl.config(
                ws.endpoint,
                hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0),
                rotation(
                    f"{SECRET}.arn",
                    lambda_arn=rotation_lambda,
                    rules={"automatically_after_days": 30},
                    rotate_immediately=False,
                ),
                action(f"{SECRET}.arn"),
                'resource "terraform_data" "deploy" {\n'
                f"  input      = {hcl.lit(release)}\n"
                "  depends_on = [offstate_secret_rotation.r]\n"
                "  lifecycle {\n"
                "    action_trigger {\n"
                "      events  = [after_update]\n"
                f"      actions = [{ACTION}]\n"
                "    }\n"
                "  }\n"
                "}\n",
            )
        )

    write("v1")
    ws.apply()
    first = store.stages(sm, name)["AWSCURRENT"]
    write("v2")
    res = ws.apply()
    assert "Actions: 1 invoked" in res.stdout, res.stdout
    assert store.stages(sm, name)["AWSCURRENT"] != first
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    ws.sweep()


def test_invoke_on_a_secret_without_rotation_says_what_to_add(ws, sm):
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    ws.write(
        hcl.config(
            ws.endpoint,
            hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0),
            action(f"{SECRET}.arn"),
        )
    )
    ws.apply()
    before = store.stages(sm, name)
    res = ws.apply(None, f"-invoke={ACTION}", expect=1)
    out = " ".join(res.output.split())
    assert "Secret rotation not configured" in out, out
    assert f'"{name}"' in out and "offstate_secret_rotation" in out, out
    assert store.stages(sm, name) == before
    store.assert_value(sm, name, c)
    ws.destroy()
    ws.sweep()


def test_bad_action_config_is_refused_at_validate(ws):
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    c = ws.canary()
    ws.set_var("secret", c)
    ws.write(hcl.config(ws.endpoint, action(hcl.lit("app/db"), timeout="ten minutes")))
    res = ws.validate(expect=1)
    diags = res.json()["diagnostics"]
    assert any(d["summary"] == "Invalid timeout" for d in diags), diags
    ws.sweep()
