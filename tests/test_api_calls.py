"""Which Secrets Manager operations the provider calls, seen by a recording proxy in front of moto.

The contract: refresh uses DescribeSecret / ListSecretVersionIds and never GetSecretValue; the plan
of a create with a known name calls DescribeSecret for it (is the name free?); import reads no value; a new value is written with PutSecretValue and an idempotency token, in place.
"""

from __future__ import annotations

import pytest

from harness import hcl
from harness import store
from harness.recorder import Recorder

pytestmark = [pytest.mark.e2e, pytest.mark.lifecycle]

ADDR = "offstate_secret.s"
READS_VALUE = {"GetSecretValue", "BatchGetSecretValue"}


@pytest.fixture
def rec(moto):
    r = Recorder(moto.url).start()
    yield r
    r.stop()


def ops(calls) -> list[str]:
    return [c.operation for c in calls]


def members(calls, op: str) -> list[tuple[str, ...]]:
    return [c.members for c in calls if c.operation == op]


def no_value_read(calls, phase: str) -> None:
    bad = sorted(set(ops(calls)) & READS_VALUE)
    assert not bad, f"{phase} called {bad}: the provider must never read a secret value"


def test_operations_of_a_lifecycle(ws, sm, rec):
    c1, c2 = ws.canary("v1"), ws.canary("v2")
    name = ws.name()
    ws.set_var("secret", c1)

    def write(version: str) -> None:
        ws.write(hcl.config(rec.url, hcl.secret(name=name, value_wo_version=version, recovery_window_in_days=0)))

    write("1")
    ws.plan()
    # The plan of a create with a known name asks whether the name is free, nothing more.
    assert ops(rec.take()) == ["DescribeSecret"]
    ws.apply()
    calls = rec.take()
    no_value_read(calls, "create")
    assert any("SecretString" in m for m in members(calls, "CreateSecret")), (
        f"create must write the value with the secret; calls: {ops(calls)}"
    )

    ws.assert_no_changes()
    ws.tf("apply", "-input=false", "-refresh-only", "-auto-approve")
    calls = rec.take()
    no_value_read(calls, "plan/refresh")
    assert "DescribeSecret" in ops(calls), ops(calls)
    assert not set(ops(calls)) & {"PutSecretValue", "UpdateSecret", "CreateSecret", "DeleteSecret"}, (
        f"a refresh wrote something: {ops(calls)}"
    )

    ws.set_var("secret", c2)
    write("2")
    ws.apply()
    calls = rec.take()
    no_value_read(calls, "update")
    puts = members(calls, "PutSecretValue")
    assert len(puts) == 1, f"one PutSecretValue per trigger change; calls: {ops(calls)}"
    assert "ClientRequestToken" in puts[0] and "SecretString" in puts[0]
    assert "VersionStages" not in puts[0], "without VersionStages AWSCURRENT moves and AWSPREVIOUS keeps the old"
    assert not any("SecretString" in m for m in members(calls, "UpdateSecret"))
    assert "CreateSecret" not in ops(calls) and "DeleteSecret" not in ops(calls), ops(calls)
    store.assert_value(sm, name, c2)

    ws.tf("state", "rm", ADDR)
    ws.tf("import", "-input=false", ADDR, name)
    plan = ws.plan()
    calls = rec.take()
    no_value_read(calls, "import")
    # Import cannot know the trigger: value_wo_version (and the local recovery window) differ.
    assert plan.actions(ADDR) == ["update"], plan.summary()
    ws.apply(plan)
    calls = rec.take()
    assert len(members(calls, "PutSecretValue")) == 1, ops(calls)

    ws.destroy()
    calls = rec.take()
    no_value_read(calls, "destroy")
    deletes = members(calls, "DeleteSecret")
    assert len(deletes) == 1 and "ForceDeleteWithoutRecovery" in deletes[0], deletes
    assert store.status(sm, name) == "gone"
    ws.sweep()


def test_query_with_a_limit_reads_one_page(ws, sm, rec):
    """`terraform query` with `limit`: one ListSecrets page in name order (`SortBy=name`), sized to
    the limit, however many secrets the prefix matches; one DescribeSecret per result."""
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"  # `terraform query` is Terraform 1.14+
    c = ws.canary()
    prefix = ws.name()
    for i in reversed(range(120)):  # more than one 100-secret page, created out of name order
        sm.create_secret(Name=f"{prefix}/s{i:03}", SecretString=c.reveal())
    ws.write(hcl.header() + hcl.provider(rec.url))
    ws.write(
        'list "offstate_secret" "found" {\n'
        "  provider         = offstate\n"
        "  include_resource = true\n"
        "  limit            = 3\n"
        f'  config {{\n    name_prefix = "{prefix}/"\n  }}\n'
        "}\n",
        name="main.tfquery.hcl",
    )
    rec.take()
    res = ws.tf("query")
    calls = rec.take()
    no_value_read(calls, "query")
    lists = members(calls, "ListSecrets")
    assert len(lists) == 1, f"one ListSecrets page for 3 results; calls: {ops(calls)}"
    assert {"SortBy", "SortOrder", "MaxResults"} <= set(lists[0]), lists[0]
    assert len(members(calls, "DescribeSecret")) == 3, ops(calls)
    shown = [f"{prefix}/s{i:03}" for i in range(120) if f"{prefix}/s{i:03}" in res.stdout]
    # moto ignores SortBy (AWS honours it): which three it lists is moto's order; three are shown.
    assert len(shown) == 3, res.stdout
    ws.sweep()
