"""offstate_secret next to hashicorp/aws's aws_secretsmanager_secret for the same features, end to
end (real Terraform, moto): replicas removed or promoted while the primary stays, and the tag
filters of `data "offstate_secrets"`. Every test plants a canary and sweeps every artifact."""

from __future__ import annotations

import pytest

from harness import endpoint as ep
from harness import hcl
from harness import store

pytestmark = [pytest.mark.e2e]

SECRET = "offstate_secret.s"


def _with_replicas(body: str, *regions: str) -> str:
    blocks = "".join(f'  replica {{\n    region = "{r}"\n  }}\n' for r in regions)
    return body.rstrip().rstrip("}") + blocks + "}\n"


def _regional(moto_url: str, region: str):
    import boto3

    return boto3.client(
        "secretsmanager",
        endpoint_url=moto_url,
        region_name=region,
        aws_access_key_id=ep.DUMMY_CREDS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=ep.DUMMY_CREDS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=ep.DUMMY_CREDS["AWS_SESSION_TOKEN"],
    )


def _regions(sm, name: str) -> list[str]:
    return sorted(r["Region"] for r in sm.describe_secret(SecretId=name).get("ReplicationStatus", []))


def test_a_replica_removed_from_the_set_goes_and_the_rest_stay(ws, sm):
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    base = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)
    ws.write(hcl.config(ws.endpoint, _with_replicas(base, "eu-west-1", "eu-central-1")))
    ws.apply()
    assert _regions(sm, name) == ["eu-central-1", "eu-west-1"]
    arn = ws.attributes(SECRET)["arn"]

    ws.write(hcl.config(ws.endpoint, _with_replicas(base, "eu-central-1")))
    plan = ws.plan()
    # In place: the primary (and its value) is kept, only the one replica goes.
    assert plan.actions(SECRET) == ["update"], plan.summary()
    ws.apply(plan)
    assert _regions(sm, name) == ["eu-central-1"]
    assert ws.attributes(SECRET)["arn"] == arn
    assert sorted(ws.attributes(SECRET)["replica_status"]) == ["eu-central-1"]
    # RemoveRegionsFromReplication deleted the replica itself, at once.
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        _regional(ws.endpoint, "eu-west-1").describe_secret(SecretId=name)
    store.assert_value(sm, name, c)
    ws.assert_no_changes("one replica left")
    ws.destroy()
    ws.sweep()


def test_a_replica_promoted_outside_terraform_is_not_silently_failed(ws, sm):
    """`aws secretsmanager stop-replication-to-replica` makes the replica a standalone secret of
    the same name in its region, and the primary no longer lists it. moto has no
    StopReplicationToReplica: the same end state is made with RemoveRegionsFromReplication and a
    CreateSecret of that name in the region. With the `replica` block still in the
    configuration, the plan replicates again, and Secrets Manager refuses to overwrite the
    promoted secret (its ReplicationStatus says Failed): the apply must say so, not record a
    replica that is not there."""
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    base = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)
    ws.write(hcl.config(ws.endpoint, _with_replicas(base, "eu-west-1")))
    ws.apply()
    eu = _regional(ws.endpoint, "eu-west-1")
    sm.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=["eu-west-1"])
    promoted = ws.canary("promoted")
    eu.create_secret(Name=name, SecretString=promoted.reveal())
    try:
        plan = ws.plan()
        assert plan.actions(SECRET) == ["update"], plan.summary()
        res = ws.apply(plan, expect=None)
        out = " ".join(res.output.split())
        assert res.rc == 1, ws.describe_failure(res, "the failed replication was not reported")
        assert "eu-west-1" in out and "force_overwrite_replica_secret" in out, ws.describe_failure(res, "no region / advice")
        # The promoted secret is left as it was.
        store.assert_value(eu, name, promoted)
        # And the failure stays visible: the next plan replicates again rather than planning nothing.
        again = ws.plan()
        assert again.actions(SECRET) == ["update"], again.summary()
        # The next apply does not take the failed replica over as if it were there.
        res = ws.apply(again, expect=None)
        assert res.rc == 1 and "Replication failed" in res.output, ws.describe_failure(res, "failed replica taken over")
        store.assert_value(eu, name, promoted)
        # force_overwrite_replica_secret replaces the secret in the region by the replica.
        ws.write(hcl.config(ws.endpoint, _with_replicas(hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0, force_overwrite_replica_secret=True), "eu-west-1")))
        ws.apply()
        assert eu.describe_secret(SecretId=name).get("PrimaryRegion") == "us-east-1"
        store.assert_value(eu, name, c)
        assert ws.attributes(SECRET)["replica_status"].get("eu-west-1") == "InSync"
    finally:
        if eu.describe_secret(SecretId=name).get("PrimaryRegion") is None:
            eu.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    store.assert_value(sm, name, c)
    ws.destroy()
    with pytest.raises(eu.exceptions.ResourceNotFoundException):
        eu.describe_secret(SecretId=name)
    ws.sweep()


def test_tag_key_and_tag_value_filters_are_not_paired_and_tags_is(ws, sm):
    """ListSecrets' tag-key and tag-value filters each match any tag of the secret (hashicorp/aws's
    aws_secretsmanager_secrets passes them through the same way): tag_key = "env" with tag_value =
    "prod" also finds a secret tagged env = "dev", stage = "prod". `tags` matches key and value
    together."""
    c = ws.canary()
    ws.set_var("secret", c)
    a, b = ws.name("a"), ws.name("b")
    blocks = [
        hcl.secret("a", name=a, value_wo_version="1", recovery_window_in_days=0, tags={"env": "prod"}),
        hcl.secret("b", name=b, value_wo_version="1", recovery_window_in_days=0, tags={"env": "dev", "stage": "prod"}),
    ]
    ws.write(hcl.config(ws.endpoint, *blocks))
    ws.apply()
    query = (
        'data "offstate_secrets" "split" {\n'
        f"  name_prefix = {hcl.lit(ws.prefix + '/')}\n"
        '  tag_key     = "env"\n'
        '  tag_value   = "prod"\n'
        "}\n"
        'data "offstate_secrets" "paired" {\n'
        f"  name_prefix = {hcl.lit(ws.prefix + '/')}\n"
        '  tags        = { env = "prod" }\n'
        "}\n"
        'output "split" {\n  value = data.offstate_secrets.split.names\n}\n'
        'output "paired" {\n  value = data.offstate_secrets.paired.names\n}\n'
    )
    ws.write(hcl.config(ws.endpoint, *blocks, query))
    ws.apply()
    out = ws.state()["outputs"]
    assert out["split"]["value"] == [a, b], out
    assert out["paired"]["value"] == [a], out
    ws.destroy()
    ws.sweep()


@pytest.mark.parametrize("suffix", ["a+b=c@d.e-f_g", "deep/x/y@z"])
def test_names_with_plus_equals_at_and_slashes_apply_import_and_plan_clean(ws, sm, suffix):
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name(suffix)
    # An empty tag value is a value (hashicorp/aws keeps it too): set, then no drift.
    body = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0, tags={"empty": "", "k": "v"})
    ws.write(hcl.config(ws.endpoint, body))
    ws.apply()
    assert store.tags(sm, name) == {"empty": "", "k": "v"}
    ws.assert_no_changes("name with + = @ / and an empty tag value")
    # Forget it, import it back by that name: same ARN, no changes after.
    arn = ws.attributes(SECRET)["arn"]
    ws.tf("state", "rm", SECRET)
    ws.tf("import", "-input=false", SECRET, f"{name}?value_wo_version=1")
    assert ws.attributes(SECRET)["arn"] == arn
    # Import writes the default window (30); the configuration's 0 is an update of that alone.
    plan = ws.plan()
    ch = plan.change(SECRET)
    diff = sorted(k for k in set(ch["before"]) | set(ch["after"]) if ch["before"].get(k) != ch["after"].get(k))
    assert diff == ["recovery_window_in_days"], diff
    ws.apply(plan)
    ws.assert_no_changes("after import")
    store.assert_value(sm, name, c)
    ws.destroy()
    assert store.status(sm, name) == "gone"
    ws.sweep()


def test_destroy_without_refresh_of_a_secret_deleted_outside(ws, sm):
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, _with_replicas(hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=7), "eu-west-1")))
    ws.apply()
    sm.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=["eu-west-1"])
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    # No refresh: the provider's delete meets ResourceNotFoundException (on the replicas first).
    ws.destroy("-refresh=false")
    assert ws.state().get("resources", []) == []
    ws.sweep()


def test_a_managed_replica_that_fails_later_shows_as_to_be_added(ws, sm):
    """AWS replicates asynchronously: ReplicateSecretToRegions may answer InProgress and the
    replica turn Failed later. The refresh that finds a managed replica Failed plans it again
    (the apply then says why) instead of planning nothing. moto answers Failed at once, so a
    relay rewrites DescribeSecret's ReplicationStatus as AWS would report it."""
    import json as _json

    from harness.relay import Relay, aws_json

    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    with Relay(ws.endpoint) as relay:
        ws.write(hcl.config(relay.url, _with_replicas(hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0), "eu-west-1")))
        ws.apply()
        ws.assert_no_changes("replica in sync")

        def failed(seen):
            import datetime

            doc = sm.describe_secret(SecretId=seen.request.get("SecretId"))
            doc.pop("ResponseMetadata", None)
            doc = _json.loads(_json.dumps(doc, default=lambda d: d.timestamp() if isinstance(d, datetime.datetime) else str(d)))
            for st in doc.get("ReplicationStatus", []):
                st["Status"] = "Failed"
                st["StatusMessage"] = "Replication failed: Secret name already exists in region."
            return aws_json(doc)

        relay.answer["DescribeSecret"] = failed
        plan = ws.plan()
        assert plan.actions(SECRET) == ["update"], plan.summary()
        # Destroyed while the replica still shows Failed: the refresh drops it from `replica`,
        # but Secrets Manager deletes a primary only once it has no replicas (DeleteSecret's
        # reference), so the region, kept in `replica_status`, is still removed first.
        del relay.seen[:]
        ws.destroy()
        ops = [(s.operation, s.request.get("RemoveReplicaRegions")) for s in relay.seen if s.operation in ("RemoveRegionsFromReplication", "DeleteSecret")]
        assert ops[:1] == [("RemoveRegionsFromReplication", ["eu-west-1"])] and ops[-1][0] == "DeleteSecret", ops
        relay.answer.pop("DescribeSecret")
    ws.sweep()


def test_a_create_whose_replication_fails_warns_and_keeps_the_secret(ws, sm):
    """A new secret replicated to a region that already has a secret of its name: the secret is
    created with its value and not tainted (a taint would replace it, deleting it, on the next
    apply); a warning says the replication failed, and the next plan adds the replica again."""
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    eu = _regional(ws.endpoint, "eu-west-1")
    there = ws.canary("there")
    eu.create_secret(Name=name, SecretString=there.reveal())
    try:
        ws.write(hcl.config(ws.endpoint, _with_replicas(hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0), "eu-west-1")))
        res = ws.apply()
        out = " ".join(res.output.split())
        assert "Warning: Replication failed" in out and "eu-west-1" in out, ws.describe_failure(res, "no warning")
        assert not any(r.get("instances", [{}])[0].get("status") == "tainted" for r in ws.state()["resources"])
        store.assert_value(sm, name, c)
        store.assert_value(eu, name, there)
        plan = ws.plan()
        assert plan.actions(SECRET) == ["update"], plan.summary()
    finally:
        eu.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    ws.destroy()
    ws.sweep()
