"""Moving a classic hashicorp/aws Secrets Manager configuration to offstate_secret.

The classic configuration (`aws_secretsmanager_secret` + `aws_secretsmanager_secret_version` with
`secret_string`) is applied with the test-only stand-in for hashicorp/aws (tests/aws-standin,
installed from a filesystem mirror by `terraform init`). Its state holds the plaintext: that is
the point. Then the configuration changes to `offstate_secret` with a `moved` block (the secret)
and a `removed { destroy = false }` block (the version), and a write-only value. The second test
moves with a `generate` block instead (what `state-scrubber migrate` writes for a `random_password`):
the move adopts the value the classic configuration wrote, and only a later settings change generates.

Canary sweep: the legacy canary is, by design, in every artifact made before the move (state,
trace logs), and in the saved plan of the move (its prior state, and the `forget` change of the
removed version). Those artifacts are set aside unswept; everything else from the move on (the
move's plan and apply logs, the new state, later plans) is swept for both canaries. `terraform.tfstate.backup` after the move apply is the previous snapshot, so it
still holds the plaintext: Terraform keeps it, offstate cannot. The test checks that it does
(so the note stays true) and sets it aside too; `state-scrubber` is the tool for it.
"""

from __future__ import annotations

import base64
import hmac
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


def migrated_generate(endpoint: str, name: str, length: int) -> str:
    """The shape `state-scrubber migrate` writes when a `random_password` fed the version: no value,
    the password's settings as `generate`."""
    return "\n".join(
        [
            header(),
            aws_provider(endpoint),
            hcl.provider(endpoint),
            'resource "offstate_secret" "x" {\n'
            f"  name                    = {hcl.lit(name)}\n"
            '  description             = "classic"\n'
            "  recovery_window_in_days = 0\n"
            "  generate {\n"
            f"    length  = {length}\n"
            "    special = false\n"
            "  }\n"
            "}\n",
            "moved {\n  from = aws_secretsmanager_secret.x\n  to   = offstate_secret.x\n}\n",
            "removed {\n  from = aws_secretsmanager_secret_version.x\n  lifecycle {\n    destroy = false\n  }\n}\n",
        ]
    )


def private_of(ws, address: str) -> bytes:
    """The provider's private data of a resource instance in terraform.tfstate (b"" when none)."""
    typ, name = address.split(".", 1)
    for r in ws.state().get("resources", []):
        if r.get("mode") == "managed" and r["type"] == typ and r["name"] == name:
            return base64.b64decode(r["instances"][0].get("private") or "")
    raise AssertionError(f"{address} is not in the state")


def set_aside(ws, what, into) -> None:
    into.mkdir(exist_ok=True)
    for p in what:
        if p.exists():
            shutil.move(str(p), str(into / p.name))


def apply_legacy(ws, sm, name: str):
    """Step 1 of both tests: the classic configuration applied, with the plaintext in state.

    Returns the legacy canary (watched from now on), the secret's state attributes and the
    directory where the pre-move artifacts were set aside, unswept."""
    legacy_value = canaries.make_canary("legacy")  # searched after the move, not before
    ws.env["TF_VAR_legacy"] = legacy_value.reveal()
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
    return legacy_value, before, pre


def test_move_classic_secret_into_offstate_secret(aws_ws, sm):
    ws = aws_ws
    name = f"{ws.prefix}/moved"

    # 1. The classic configuration, with the plaintext in state.
    legacy_value, before, pre = apply_legacy(ws, sm, name)

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


def test_move_with_generate_adopts_the_current_value(aws_ws, sm):
    """A moved secret whose configuration gains `generate` (what `state-scrubber migrate` writes for
    a `random_password`) keeps its value: the first apply records the settings and writes nothing.
    A later change of the settings generates, as for any offstate_secret."""
    ws = aws_ws
    name = f"{ws.prefix}/adopted"

    legacy_value, before, pre = apply_legacy(ws, sm, name)
    versions_before = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    current_before = store.stages(sm, name)["AWSCURRENT"]

    # 2. The move, with generate and no value.
    ws.write(migrated_generate(ws.endpoint, name, 40))
    plan = ws.plan(expect=None)
    if plan.rc not in (0, 2):
        stderr = sorted(ws.artifacts.glob("*-plan.stderr"))[-1].read_text()
        pytest.fail(canaries.redact(f"plan of the move failed:\n{stderr[-3000:]}", ws.canaries), pytrace=False)
    actions = plan.actions("offstate_secret.x")
    assert "delete" not in actions and "create" not in actions, plan.summary()
    prev = next(r for r in plan.json.get("resource_changes", []) if r["address"] == "offstate_secret.x")
    assert prev.get("previous_address") == "aws_secretsmanager_secret.x", plan.summary()
    assert prev["change"]["after"]["version_id"] == current_before, "the plan must not write a value"
    show_seq = ws.seq
    ws.apply(plan)
    # The saved plan of the move holds the legacy plaintext (see the module doc): set aside.
    assert canaries.search_bytes("move plan", plan.path.read_bytes(), [legacy_value])
    set_aside(ws, [plan.path, *ws.artifacts.glob(f"{show_seq:02d}-show.*")], pre)
    ws.plans.remove(plan.path)

    # 3. The value is the one the classic configuration wrote: no new version, nothing rotated.
    store.assert_value(sm, name, legacy_value)
    versions_after = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    assert len(versions_after) == len(versions_before), "the move must not write a version"
    assert store.stages(sm, name) == {"AWSCURRENT": current_before}
    after = ws.attributes("offstate_secret.x")
    assert after["arn"] == before["arn"]
    assert after["version_id"] == current_before
    assert (after["generate"] or {}).get("length") == 40, "generate is recorded in state"
    assert b"adopt_value" not in private_of(ws, "offstate_secret.x"), "the first apply clears the move's mark"
    assert ws.attributes("aws_secretsmanager_secret_version.x") is None
    assert not canaries.search_bytes("state", (ws.dir / "terraform.tfstate").read_bytes(), ws.canaries)
    backup = ws.dir / "terraform.tfstate.backup"
    assert backup.exists() and canaries.search_bytes("backup", backup.read_bytes(), [legacy_value])
    set_aside(ws, [backup], pre)

    ws.assert_no_changes("after the adopting move")

    # 4. A change of the settings generates a new value, in place.
    ws.write(migrated_generate(ws.endpoint, name, 48))
    plan = ws.plan()
    assert plan.actions("offstate_secret.x") == ["update"], plan.summary()
    ws.apply(plan)
    stages = store.stages(sm, name)
    assert stages["AWSCURRENT"] != current_before
    assert stages["AWSPREVIOUS"] == current_before
    generated = ws.watch(canaries.Canary(store.read_value(sm, name)))
    assert not hmac.compare_digest(generated.reveal().encode(), legacy_value.reveal().encode())
    assert len(generated.reveal()) == 48 and generated.reveal().isalnum()
    assert ws.attributes("offstate_secret.x")["version_id"] == stages["AWSCURRENT"]
    ws.assert_no_changes("after generating")

    ws.sweep()
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_a_moved_secrets_replica_named_in_the_configuration_is_taken_over(aws_ws, sm):
    """hashicorp/aws keeps `replica` blocks in its state, and they do not move: the moved state
    manages no replica. The configuration that keeps its `replica { region = ... }` block must
    take the replica over as it is, not ask ReplicateSecretToRegions for it again (which Secrets
    Manager refuses: the name already exists in that region). The stand-in has no replicas, so
    the replica hashicorp/aws would have made is made beside it, before the move."""
    ws = aws_ws
    name = f"{ws.prefix}/replicated"
    legacy_value, before, pre = apply_legacy(ws, sm, name)
    sm.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": "us-west-2"}])

    ws.set_var("secret", ws.canary("new"))
    config = migrated(ws.endpoint, name)
    head, tail = config.split('resource "offstate_secret" "x" {\n', 1)
    ws.write(head + 'resource "offstate_secret" "x" {\n  replica {\n    region = "us-west-2"\n  }\n' + tail)
    plan = ws.plan()
    actions = plan.actions("offstate_secret.x")
    assert "delete" not in actions and "create" not in actions, plan.summary()
    show_seq = ws.seq
    ws.apply(plan)
    # The move's saved plan and the .backup hold the legacy plaintext (see the module doc).
    set_aside(ws, [plan.path, *ws.artifacts.glob(f"{show_seq:02d}-show.*"), ws.dir / "terraform.tfstate.backup"], pre)
    ws.plans.remove(plan.path)

    replicas = sm.describe_secret(SecretId=name).get("ReplicationStatus", [])
    assert [(r["Region"], r["Status"]) for r in replicas] == [("us-west-2", "InSync")], replicas
    after = ws.attributes("offstate_secret.x")
    assert after["arn"] == before["arn"]
    assert after["replica_status"] == {"us-west-2": "InSync"}, after["replica_status"]
    assert [r["region"] for r in after["replica"]] == ["us-west-2"]
    ws.assert_no_changes("after taking the replica over")

    ws.sweep()
    sm.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=["us-west-2"])
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
