"""offstate_secret_rotation end to end against moto.

What moto can and cannot do here (moto 5.x):
- RotateSecret with a Lambda ARN needs that function registered in moto's Lambda; invoking it
  runs Docker unless moto's Lambda is switched to its stub (`use_docker: false` through
  /moto-api/config), which returns without running anything. So the rotation *configuration*
  is real (RotateSecret, DescribeSecret, CancelRotateSecret through the real wire protocol), the
  Lambda's work is not. A "rotation" is simulated the way a Lambda ends one: PutSecretValue of a
  new value outside Terraform.
- moto reports only RotationRules.AutomaticallyAfterDays (no ScheduleExpression, no Duration), and
  turns rotation on only when AutomaticallyAfterDays > 0; schedule expressions are therefore
  covered by plan and unit tests, not by an apply here.
- rotate_immediately = true against the stub moves AWSCURRENT to an empty pending version in moto;
  the lifecycle test uses rotate_immediately = false.
"""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile

import pytest

from harness import hcl
from harness import store
from harness import terraform as tfh
from harness.endpoint import client
from test_bad_input import attr_lines, brief, error_diagnostics_validate, matching

pytestmark = [pytest.mark.e2e]

ROT = "offstate_secret_rotation.r"
SECRET = "offstate_secret.s"


@pytest.fixture(scope="module")
def rotation_lambda(moto) -> str:
    """A Lambda function registered in moto, whose invocations are moto's no-op stub."""
    req = urllib.request.Request(
        f"{moto.url}/moto-api/config",
        data=json.dumps({"lambda": {"use_docker": False}}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status in (200, 201)
    iam, lam = client(moto.url, "iam"), client(moto.url, "lambda")
    try:
        role = iam.get_role(RoleName="offstate-rotation")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(
            RoleName="offstate-rotation",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
    try:
        return lam.get_function(FunctionName="offstate-rotation")["Configuration"]["FunctionArn"]
    except lam.exceptions.ResourceNotFoundException:
        pass
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return {}\n")
    return lam.create_function(
        FunctionName="offstate-rotation",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": buf.getvalue()},
    )["FunctionArn"]


def rotation(secret_ref: str, *, lambda_arn: str | None, rules: dict, **attrs) -> str:
    body = f"  secret_id = {secret_ref}\n"
    if lambda_arn is not None:
        body += f"  rotation_lambda_arn = {hcl.lit(lambda_arn)}\n"
    for k, v in attrs.items():
        body += f"  {k} = {hcl.lit(v)}\n"
    inner = "".join(f"    {k} = {hcl.lit(v)}\n" for k, v in rules.items())
    body += f"  rotation_rules {{\n{inner}  }}\n"
    return f'resource "offstate_secret_rotation" "r" {{\n{body}}}\n'


def test_rotation_configure_survive_rotation_change_and_cancel(ws, sm, rotation_lambda):
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    secret = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)

    def write(rules: dict):
        ws.write(
            hcl.config(
                ws.endpoint,
                secret,
                rotation(f"{SECRET}.arn", lambda_arn=rotation_lambda, rules=rules, rotate_immediately=False),
            )
        )

    write({"automatically_after_days": 30})
    plan = ws.plan()
    assert plan.actions(ROT) == ["create"], plan.summary()
    ws.apply(plan)

    a = ws.attributes(ROT)
    secret_attrs = ws.attributes(SECRET)
    assert a["id"] == secret_attrs["arn"]
    assert a["rotation_enabled"] is True
    assert a["rotate_immediately"] is False
    assert a["rotation_rules"]["automatically_after_days"] == 30
    d = sm.describe_secret(SecretId=name)
    assert d["RotationEnabled"] is True
    assert d["RotationLambdaARN"] == rotation_lambda
    assert d["RotationRules"]["AutomaticallyAfterDays"] == 30
    ws.assert_no_changes("right after configuring rotation")

    # A rotation happens: the Lambda writes a new AWSCURRENT. Terraform must not write anything
    # back: offstate_secret only sees a new version_id (drift), the rotation resource nothing.
    rotated = ws.canary("rotated")
    sm.put_secret_value(SecretId=name, SecretString=rotated.reveal())
    ws.assert_no_changes("a rotation outside Terraform must not be reverted")
    ws.apply()
    store.assert_value(sm, name, rotated)
    assert ws.attributes(SECRET)["version_id"] == store.stages(sm, name)["AWSCURRENT"]

    # Changing the schedule is an in-place RotateSecret.
    write({"automatically_after_days": 60})
    plan = ws.plan()
    assert plan.actions(ROT) == ["update"], plan.summary()
    assert plan.actions(SECRET) == ["no-op"], plan.summary()
    ws.apply(plan)
    assert sm.describe_secret(SecretId=name)["RotationRules"]["AutomaticallyAfterDays"] == 60
    assert ws.attributes(ROT)["rotation_rules"]["automatically_after_days"] == 60
    ws.assert_no_changes("after the schedule change")
    store.assert_value(sm, name, rotated)

    # Removing the resource cancels rotation; the secret and its value stay.
    ws.write(hcl.config(ws.endpoint, secret))
    plan = ws.plan()
    assert plan.actions(ROT) == ["delete"], plan.summary()
    ws.apply(plan)
    assert sm.describe_secret(SecretId=name)["RotationEnabled"] is False
    store.assert_value(sm, name, rotated)
    ws.assert_no_changes()

    # Rotation cancelled outside Terraform is set up again.
    write({"automatically_after_days": 60})
    ws.apply()
    sm.cancel_rotate_secret(SecretId=name)
    plan = ws.plan()
    assert plan.actions(ROT) == ["create"], plan.summary()
    ws.apply(plan)
    assert sm.describe_secret(SecretId=name)["RotationEnabled"] is True

    ws.destroy()
    assert store.status(sm, name) == "gone"
    ws.sweep()


def test_rotation_import_by_name(ws, sm, rotation_lambda):
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    sm.create_secret(Name=name, SecretString=c.reveal())  # moto cannot rotate a secret with no version
    sm.rotate_secret(
        SecretId=name,
        RotationLambdaARN=rotation_lambda,
        RotationRules={"AutomaticallyAfterDays": 7},
        RotateImmediately=False,
    )
    ws.write(
        hcl.config(
            ws.endpoint,
            rotation(hcl.lit(name), lambda_arn=rotation_lambda, rules={"automatically_after_days": 7}),
            f'import {{\n  to = {ROT}\n  id = {hcl.lit(name)}\n}}\n',
        )
    )
    plan = ws.plan()
    assert plan.actions(ROT) == ["no-op"], plan.summary()
    ws.apply(plan)
    assert ws.attributes(ROT)["rotation_rules"]["automatically_after_days"] == 7
    ws.assert_no_changes("after import")
    ws.destroy()
    assert sm.describe_secret(SecretId=name)["RotationEnabled"] is False
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    ws.sweep()


def test_rotation_schedule_expression_plans(ws, rotation_lambda):
    """schedule_expression + duration validate and plan (moto cannot report them back)."""
    c = ws.canary()
    ws.set_var("secret", c)
    ws.write(
        hcl.config(
            ws.endpoint,
            hcl.secret(name=ws.name(), value_wo_version="1"),
            rotation(
                f"{SECRET}.arn",
                lambda_arn=rotation_lambda,
                rules={"schedule_expression": "cron(0 16 1,15 * ? *)", "duration": "3h"},
            ),
        )
    )
    ws.validate()
    plan = ws.plan()
    assert plan.actions(ROT) == ["create"], plan.summary()
    after = plan.change(ROT)["after"]
    assert after["rotate_immediately"] is True  # the default
    assert after["rotation_rules"] == {
        "automatically_after_days": None,
        "schedule_expression": "cron(0 16 1,15 * ? *)",
        "duration": "3h",
    }
    ws.sweep()


BAD = [
    ({"automatically_after_days": 0}, ["automatically_after_days"]),
    ({"automatically_after_days": 1001}, ["automatically_after_days"]),
    ({"automatically_after_days": 5, "schedule_expression": "rate(5 days)"}, ["schedule_expression"]),
    ({"schedule_expression": "every tuesday"}, ["schedule_expression"]),
    ({"automatically_after_days": 5, "duration": "3"}, ["duration"]),
    ({"automatically_after_days": 5, "duration": "25h"}, ["duration"]),
]


@pytest.mark.parametrize("rules,attrs", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_rotation_bad_rules_point_at_the_attribute(ws, rules, attrs):
    c = ws.canary()
    ws.set_var("secret", c)
    text = hcl.config(
        ws.endpoint,
        rotation(hcl.lit("app/db"), lambda_arn="arn:aws:lambda:us-east-1:123456789012:function:f", rules=rules),
    )
    ws.write(text)
    diags = error_diagnostics_validate(ws)
    hits = matching(diags, attr_lines(text, attrs), attrs)
    assert hits, f"no error diagnostic on {attrs}:\n{brief(diags)}"
    ws.sweep()


def test_rotation_bad_lambda_arn_and_missing_rules(ws):
    c = ws.canary()
    ws.set_var("secret", c)
    text = hcl.config(
        ws.endpoint,
        'resource "offstate_secret_rotation" "r" {\n'
        '  secret_id           = "app/db"\n'
        '  rotation_lambda_arn = "my-function"\n'
        "}\n",
    )
    ws.write(text)
    diags = error_diagnostics_validate(ws)
    assert matching(diags, attr_lines(text, ["rotation_lambda_arn"]), ["rotation_lambda_arn"]), brief(diags)
    assert any("rotation_rules" in f"{d.get('summary')} {d.get('detail')}" for d in diags), brief(diags)
    ws.sweep()


def test_example_rotation_applies(ws, sm, rotation_lambda):
    """examples/rotation/main.tf, as shipped, against the local endpoint."""
    example = (tfh.REPO / "examples" / "rotation" / "main.tf").read_text()
    ws.write(example)
    c = ws.canary()
    ws.set_var("db_password", c)
    ws.set_var("endpoint", ws.endpoint)
    ws.set_var("rotation_lambda_arn", rotation_lambda)
    ws.apply()
    name = "example/rotated-db-password"
    store.assert_value(sm, name, c)
    assert sm.describe_secret(SecretId=name)["RotationEnabled"] is True
    ws.assert_no_changes("the example after apply")
    ws.destroy()
    assert store.status(sm, name) == "gone"
    ws.sweep()


def test_rotation_imported_by_name_is_not_replaced(ws, sm, rotation_lambda):
    # The docs import by name while the configuration says offstate_secret.s.arn: the same
    # secret spelt two ways must not replace the rotation (which would cancel it and, with
    # rotate_immediately, rotate the credential at once).
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    secret = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)
    ws.write(
        hcl.config(
            ws.endpoint,
            secret,
            rotation(f"{SECRET}.arn", lambda_arn=rotation_lambda, rules={"automatically_after_days": 30}),
        )
    )
    ws.apply()
    ws.tf("state", "rm", ROT)
    ws.tf("import", ROT, name)
    plan = ws.plan()
    assert plan.actions(ROT) in (["no-op"], ["update"]), plan.summary()
    ws.apply(plan)
    ws.assert_no_changes("after the import by name")
    assert sm.describe_secret(SecretId=name)["RotationEnabled"] is True
    ws.sweep()


def test_rotation_identity_recorded_restored_and_imported(ws, sm, rotation_lambda):
    """The rotation has a resource identity, the secret's ARN, as
    aws_secretsmanager_secret_rotation has: recorded at create, filled in on a state written
    before it had one, and taken by `import { identity = { arn = ... } }` with
    -generate-config-out, whose generated block plans clean (Terraform 1.12+: the bundled one)."""
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    secret = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)
    rot = rotation(f"{SECRET}.arn", lambda_arn=rotation_lambda, rules={"automatically_after_days": 30})
    ws.write(hcl.config(ws.endpoint, secret, rot))
    ws.apply()
    arn = ws.attributes(SECRET)["arn"]

    def rotation_instance(st: dict) -> dict:
        (r,) = [r for r in st["resources"] if r["type"] == "offstate_secret_rotation"]
        return r["instances"][0]

    assert rotation_instance(ws.state()).get("identity") == {"arn": arn}

    # A state from before the identity: the next refresh supplies it, nothing planned.
    st = ws.state()
    inst = rotation_instance(st)
    inst.pop("identity", None)
    inst.pop("identity_schema_version", None)
    st["serial"] += 1
    (ws.dir / "terraform.tfstate").write_text(json.dumps(st))
    ws.assert_no_changes("a rotation state without identity")
    ws.apply()
    assert rotation_instance(ws.state()).get("identity") == {"arn": arn}

    # Import by identity, with the configuration generated.
    ws.tf("state", "rm", ROT)
    ws.write(hcl.config(ws.endpoint, secret, f'import {{\n  to = {ROT}\n  identity = {{ arn = "{arn}" }}\n}}\n'))
    ws.tf("plan", "-input=false", "-generate-config-out=generated.tf", expect=(0, 2))
    generated = (ws.dir / "generated.tf").read_text()
    assert f'secret_id           = "{arn}"' in generated, generated
    plan = ws.plan()
    assert plan.actions(ROT) == ["no-op"], plan.summary()
    ws.apply(plan)
    assert rotation_instance(ws.state()).get("identity") == {"arn": arn}
    ws.assert_no_changes("after the identity import")
    assert sm.describe_secret(SecretId=name)["RotationEnabled"] is True
    ws.destroy()
    ws.sweep()
