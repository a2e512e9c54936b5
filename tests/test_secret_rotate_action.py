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


# ----------------------------------------------------------------------------------------------
# A rotation that fails ends the action at once, with the secret and the AWS error code.
#
# Secrets Manager is moto behind a relay (harness/relay.py) that answers some calls itself: an
# AWS error for RotateSecret, or a RotateSecret that "started" (moto would finish a rotation at
# once) followed by the secret deleted, or DescribeSecret refused, while the action waits.

ROTATION_STARTED = "started"


def _started(relay_seen, sm, name, then=None):
    """A RotateSecret answer as AWS gives while its Lambda runs: the new version's id, nothing
    done in moto; `then(sm, name)` runs first (the secret deleted meanwhile, say)."""
    from harness.relay import aws_json

    def answer(seen):
        relay_seen.append(seen.operation)
        if then is not None:
            then(sm, name)
        return aws_json({"ARN": name, "Name": name, "VersionId": seen.request.get("ClientRequestToken")})

    return answer


FAILURES = {
    # RotateSecret refused outright.
    "rotate-access-denied": ("RotateSecret", "AccessDeniedException"),
    "no-rotation-lambda": ("RotateSecret", "InvalidRequestException"),
    # Deleted with a recovery window before the action (DescribeSecret still answers).
    "scheduled-for-deletion-before": ("DescribeSecret", "scheduled for deletion"),
    # The rotation started, then the secret went away, or became unreadable, while waiting.
    "scheduled-for-deletion-while-waiting": (ROTATION_STARTED, "DeletedDate"),
    "deleted-while-waiting": (ROTATION_STARTED, "ResourceNotFoundException"),
    "describe-access-denied-while-waiting": (ROTATION_STARTED, "AccessDeniedException"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failed_rotation_ends_the_action_promptly(ws, sm, rotation_lambda, failure):  # noqa: F811
    import time

    from harness.relay import Relay, aws_json_error

    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    _, code = FAILURES[failure]
    with Relay(ws.endpoint) as relay:
        ws.write(
            hcl.config(
                relay.url,
                hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0),
                rotation(
                    f"{SECRET}.arn",
                    lambda_arn=rotation_lambda,
                    rules={"automatically_after_days": 30},
                    rotate_immediately=False,
                ),
                action(f"{SECRET}.arn", timeout="10m"),
                provider_attrs={"max_retries": 1},
            )
        )
        ws.apply()
        before = store.stages(sm, name)
        rotated: list[str] = []
        if failure == "rotate-access-denied":
            relay.answer["RotateSecret"] = lambda seen: aws_json_error(
                "AccessDeniedException",
                f"User: arn:aws:sts::123456789012:assumed-role/ci/run is not authorized to perform: "
                f"secretsmanager:RotateSecret on resource: {name} because no identity-based policy allows it",
            )
        elif failure == "no-rotation-lambda":
            relay.answer["RotateSecret"] = lambda seen: aws_json_error(
                "InvalidRequestException", "No Lambda rotation function ARN is associated with this secret."
            )
        elif failure == "scheduled-for-deletion-before":
            sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
        elif failure == "scheduled-for-deletion-while-waiting":
            relay.answer["RotateSecret"] = _started(
                rotated, sm, name, lambda sm, n: sm.delete_secret(SecretId=n, RecoveryWindowInDays=7)
            )
        elif failure == "deleted-while-waiting":
            relay.answer["RotateSecret"] = _started(
                rotated, sm, name, lambda sm, n: sm.delete_secret(SecretId=n, ForceDeleteWithoutRecovery=True)
            )
        else:
            relay.answer["RotateSecret"] = _started(rotated, sm, name)
            relay.answer["DescribeSecret"] = lambda seen: (
                aws_json_error("AccessDeniedException", "not authorized to perform: secretsmanager:DescribeSecret")
                if rotated
                else None
            )
        start = time.monotonic()
        # Refreshing would see the deleted secret gone from the configuration's point of view
        # and plan to create it again, and Terraform invokes nothing while a plan has changes.
        extra = ["-refresh=false"] if failure == "scheduled-for-deletion-before" else []
        seen_before = len(relay.seen)
        res = ws.apply(None, f"-invoke={ACTION}", *extra, expect=None)
        took = time.monotonic() - start
    assert res.rc == 1, ws.describe_failure(res, "expected exit 1")
    assert took < 60, f"the action took {took:.0f}s to fail (the wait's timeout is 10m)"
    out = " ".join(res.output.split())
    assert f'"{name}"' in out, ws.describe_failure(res, "the secret is not named")
    assert code in out, ws.describe_failure(res, f"{code} is not named")
    invoked = relay.operations()[seen_before:]
    assert ("RotateSecret" in invoked) == (failure != "scheduled-for-deletion-before"), invoked
    if failure in ("rotate-access-denied", "no-rotation-lambda"):
        assert store.stages(sm, name) == before
    try:
        sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    except sm.exceptions.ResourceNotFoundException:
        pass
    ws.sweep()
