"""Moving a classic hashicorp/aws Secrets Manager configuration to offstate_secret.

The classic configuration (`aws_secretsmanager_secret` + `aws_secretsmanager_secret_version` with
`secret_string`) is applied with the test-only stand-in for hashicorp/aws (tests/aws-standin,
installed from a filesystem mirror by `terraform init`). Its state holds the plaintext: that is
the point. Then the configuration changes to `offstate_secret` with a `moved` block (the secret)
and a `removed { destroy = false }` block (the version), and a write-only value.

Canary sweep: the legacy canary is, by design, in every artifact made before the move (state,
trace logs), and in the saved plan of the move (its prior state, and the `forget` change of the
removed version). Those artifacts are set aside unswept; everything else from the move on (the
move's plan and apply logs, the new state, later plans) is swept for both canaries. `terraform.tfstate.backup` after the move apply is the previous snapshot, so it
still holds the plaintext: Terraform keeps it, offstate cannot. The test checks that it does
(so the note stays true) and sets it aside too; `state-scrubber` is the tool for it.
"""

from __future__ import annotations

import re
import secrets
import shutil

import pytest

from harness.terraform import sweep_after
from harness import canary as canaries
from harness import hcl
from harness import store
from harness import terraform as tfh
from harness.aws_standin import aws_standin_env  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def aws_ws(request, tmp_path, aws_standin_env, moto):  # noqa: F811
    tmp_path.chmod(0o700)
    label = re.sub(r"[^A-Za-z0-9_.-]", "-", request.node.name)[:60]
    w = tfh.Workspace(tmp_path, aws_standin_env, moto.url, label)
    w.prefix = f"offstate-e2e/{label}-{secrets.token_hex(3)}"
    yield from sweep_after(w)


def header() -> str:
    return (
        "terraform {\n"
        "  required_providers {\n"
        '    offstate = { source = "offstate/offstate" }\n'
        '    aws      = { source = "hashicorp/aws", version = "~> 6.0" }\n'
        "  }\n"
        "}\n"
    )


def aws_provider(endpoint: str) -> str:
    return (
        'provider "aws" {\n'
        '  region                      = "us-east-1"\n'
        '  access_key                  = "testing"\n'
        '  secret_key                  = "testing"\n'
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        '  skip_metadata_api_check     = "true"\n'
        "  endpoints {\n"
        f"    secretsmanager = {hcl.lit(endpoint)}\n"
        "  }\n"
        "}\n"
    )


def legacy(endpoint: str, name: str) -> str:
    return "\n".join(
        [
            header(),
            aws_provider(endpoint),
            'variable "legacy" {\n  type      = string\n  sensitive = true\n}\n',
            'resource "aws_secretsmanager_secret" "x" {\n'
            f"  name                    = {hcl.lit(name)}\n"
            '  description             = "classic"\n'
            "  recovery_window_in_days = 0\n"
            "}\n",
            'resource "aws_secretsmanager_secret_version" "x" {\n'
            "  secret_id     = aws_secretsmanager_secret.x.id\n"
            "  secret_string = var.legacy\n"
            "}\n",
        ]
    )


def migrated(endpoint: str, name: str) -> str:
    return "\n".join(
        [
            header(),
            aws_provider(endpoint),
            hcl.provider(endpoint),
            hcl.secret_variable("secret"),
            hcl.secret(
                "x",
                name=name,
                description="classic",
                recovery_window_in_days=0,
                value_wo_version="1",
            ),
            "moved {\n  from = aws_secretsmanager_secret.x\n  to   = offstate_secret.x\n}\n",
            "removed {\n  from = aws_secretsmanager_secret_version.x\n  lifecycle {\n    destroy = false\n  }\n}\n",
        ]
    )


def set_aside(ws, what, into) -> None:
    into.mkdir(exist_ok=True)
    for p in what:
        if p.exists():
            shutil.move(str(p), str(into / p.name))


def test_move_classic_secret_into_offstate_secret(aws_ws, sm):
    ws = aws_ws
    name = f"{ws.prefix}/moved"
    legacy_value = canaries.make_canary("legacy")  # searched after the move, not before
    ws.env["TF_VAR_legacy"] = legacy_value.reveal()

    # 1. The classic configuration, with the plaintext in state.
    ws.write(legacy(ws.endpoint, name))
    ws.init()
    assert (ws.dir / ".terraform" / "providers" / "registry.terraform.io" / "hashicorp" / "aws").is_dir()
    ws.tf("apply", "-input=false", "-auto-approve")
    store.assert_value(sm, name, legacy_value)
    before = ws.attributes("aws_secretsmanager_secret.x")
    version_before = ws.attributes("aws_secretsmanager_secret_version.x")
    assert version_before["secret_string"] is not None, "the stand-in keeps secret_string in state, as aws does"
    assert canaries.search_bytes("state", (ws.dir / "terraform.tfstate").read_bytes(), [legacy_value])

    # Everything so far holds the legacy plaintext by design: set it aside, unswept.
    pre = ws.root / "pre-move"
    set_aside(ws, list(ws.artifacts.iterdir()), pre)
    del ws.env["TF_VAR_legacy"]
    ws.watch(legacy_value)

    # 2. The move: moved + removed, value_wo from an ephemeral variable.
    new_value = ws.canary("new")
    ws.set_var("secret", new_value)
    ws.write(migrated(ws.endpoint, name))
    plan = ws.plan(expect=None)
    if plan.rc not in (0, 2):
        res_err = (plan.path.parent / "x").name  # keep flake8 quiet; the message is in the artifacts
        del res_err
        stderr = sorted(ws.artifacts.glob("*-plan.stderr"))[-1].read_text()
        pytest.fail(canaries.redact(f"plan of the move failed:\n{stderr[-3000:]}", ws.canaries), pytrace=False)
    actions = plan.actions("offstate_secret.x")
    assert "delete" not in actions and "create" not in actions, plan.summary()
    rc = plan.change("offstate_secret.x")
    assert rc.get("importing") is None
    prev = next(r for r in plan.json.get("resource_changes", []) if r["address"] == "offstate_secret.x")
    assert prev.get("previous_address") == "aws_secretsmanager_secret.x", plan.summary()
    show_seq = ws.seq
    ws.apply(plan)
    # The saved plan of the move holds the prior state, and the `forget` change of the removed
    # version: both carry the legacy plaintext (Terraform writes them; no provider can prevent
    # it). The plan file and its `show -json` are set aside like the pre-move artifacts.
    assert canaries.search_bytes("move plan", plan.path.read_bytes(), [legacy_value])
    set_aside(ws, [plan.path, *ws.artifacts.glob(f"{show_seq:02d}-show.*")], pre)
    ws.plans.remove(plan.path)

    # 3. The state: offstate_secret.x with the same ARN, no aws_* object, no plaintext.
    after = ws.attributes("offstate_secret.x")
    assert after["arn"] == before["arn"], "the move must keep the secret, not replace it"
    assert ws.attributes("aws_secretsmanager_secret.x") is None
    assert ws.attributes("aws_secretsmanager_secret_version.x") is None
    assert not canaries.search_bytes("state", (ws.dir / "terraform.tfstate").read_bytes(), ws.canaries)
    # The trigger changed (null -> "1"), so the new value was written as a new version in place.
    store.assert_value(sm, name, new_value)
    store.assert_value(sm, name, legacy_value, "AWSPREVIOUS")

    # The .backup is the previous snapshot: it still holds the plaintext (see the module doc).
    backup = ws.dir / "terraform.tfstate.backup"
    assert backup.exists() and canaries.search_bytes("backup", backup.read_bytes(), [legacy_value])
    set_aside(ws, [backup], pre)

    ws.assert_no_changes("after the move")
    ws.sweep()
    assert not backup.exists()
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
