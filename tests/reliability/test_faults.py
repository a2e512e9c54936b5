"""Faults between the provider and Secrets Manager (issue 6).

N secrets (CI 10, full 50) are applied through the fault-injecting proxy (harness/faults.py) at a
20 % fault rate: throttling (400 ThrottlingException and a bare 429), 500/503, connection resets
before and after moto acted, slow answers and hung connections. The apply either completes or
fails with a clear diagnostic; re-applies (faults still on) converge; then moto, read directly,
holds exactly N secrets under the test's prefix, no duplicate, no orphan, each with its intended
value and a single AWSCURRENT; the state is valid; the canary sweep covers every artifact,
including the proxy's own log.
"""

from __future__ import annotations

import time

import pytest

import reliability_support as rs
from harness.faults import KINDS, FaultProxy

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

N = 50 if rs.FULL else 10
RATE = 0.2
# The provider's per-attempt timeout (OFFSTATE_AWS_ATTEMPT_TIMEOUT): a hung connection costs this
# long, then the SDK retries. The proxy holds a hung request far longer, so only the client-side
# timeout can end it.
ATTEMPT_TIMEOUT_S = 3
HANG_S = 120


@pytest.fixture(params=[RATE, 0.6], ids=["20pct", "60pct"])
def proxy(ws, moto, request):
    """20 %: what the issue asks; 60 %: harsh enough that some calls exhaust their 5 attempts,
    so the failed-apply diagnostic and the re-apply convergence are exercised too."""
    p = FaultProxy(
        moto.url, rate=request.param, seed=rs.SEED, log_path=ws.artifacts / "fault-proxy.log", hang_s=HANG_S
    ).start()
    yield p
    p.stop()


def test_apply_under_faults_converges(ws, sm, proxy):
    value = ws.canary("faults")
    ws.set_var("secret", value)
    ws.env["OFFSTATE_AWS_ATTEMPT_TIMEOUT"] = str(ATTEMPT_TIMEOUT_S)
    keys = [str(i) for i in range(N)]
    ws.write(rs.many_secrets_config(proxy.url, ws.prefix, keys))

    t0 = time.monotonic()
    first = ws.tf("apply", "-input=false", "-auto-approve", "-parallelism=10", expect=None, timeout=900)
    first_s = time.monotonic() - t0
    errors: list[str] = []
    if first.rc != 0:
        why = rs.clear_diagnostic(first)
        assert why is None, ws.describe_failure(first, f"failed without a clear diagnostic: {why}")
        errors = rs.error_summaries(first)

    # Re-apply with faults still on (at 20 %: at 60 % a 50-secret plan fails almost surely,
    # 0.6^5 per call) until it converges (bounded).
    first_rate, proxy.rate = proxy.rate, RATE
    reapplies = plan_failures = 0
    while True:
        plan = ws.plan(expect=None)
        if plan.rc == 0:
            break
        if plan.rc == 1:
            # the plan's own refresh failed under faults: a diagnostic, then plan again
            plan_failures += 1
            assert plan_failures <= 8, "plan keeps failing under faults"
            continue
        reapplies += 1
        assert reapplies <= 8, f"no convergence after {reapplies - 1} re-applies under faults"
        res = ws.tf("apply", "-input=false", "-auto-approve", "-parallelism=10", expect=None, timeout=900)
        if res.rc != 0:
            why = rs.clear_diagnostic(res)
            assert why is None, ws.describe_failure(res, f"failed without a clear diagnostic: {why}")
            errors += rs.error_summaries(res)

    proxy.enabled = False
    counts = rs.check_secrets(sm, ws.prefix, keys, value)
    rs.check_state(ws, keys)
    ws.assert_no_changes("after convergence, faults off")
    figs = proxy.figures()
    rs.report(
        f"faults: {N} secrets, {round(first_rate * 100)} % faults on the first apply, 20 % after, seed {rs.SEED}",
        {
            "first_apply": "ok" if first.rc == 0 else "failed with diagnostic",
            "first_apply_s": round(first_s, 1),
            "reapplies_to_converge": reapplies,
            "plans_failed_under_faults": plan_failures,
            "diagnostics_seen": sorted(set(errors)),
            "faults_injected": figs["faults"],
            "faults_total": figs["faults_total"],
            "requests": figs["requests"],
            "retries_observed": figs["retries_seen"],
            "max_attempt": figs["max_attempt"],
            "final_secrets": counts["secrets"],
            "final_versions": counts["versions"],
            "duplicates": 0,
            "orphans": 0,
        },
    )
    # every kind was exercised (faults are dealt from a deck of all kinds)
    if figs["faults_total"] >= len(KINDS):
        assert set(figs["faults"]) == set(KINDS), f"fault kinds not injected: {set(KINDS) - set(figs['faults'])}"
    ws.sweep()


@pytest.mark.parametrize("kind", KINDS)
def test_each_fault_kind_alone_is_retried(ws, sm, moto, kind):
    """One kind of fault at a time, on a third of the requests: the SDK's retries (5 attempts)
    must absorb it, so the first apply already succeeds: every kind is classified as transient,
    and a CreateSecret whose answer was lost (reset_after) is answered by its retry (same
    idempotency token) without a duplicate or an "already exists"."""
    p = FaultProxy(
        moto.url, rate=0.35, seed=rs.SEED, kinds=(kind,), log_path=ws.artifacts / "fault-proxy.log", hang_s=HANG_S
    ).start()
    try:
        value = ws.canary(kind)
        ws.set_var("secret", value)
        ws.env["OFFSTATE_AWS_ATTEMPT_TIMEOUT"] = str(ATTEMPT_TIMEOUT_S)
        keys = [str(i) for i in range(4)]
        ws.write(rs.many_secrets_config(p.url, ws.prefix, keys))
        res = ws.tf("apply", "-input=false", "-auto-approve", expect=None, timeout=600)
        figs = p.figures()
        assert res.rc == 0, ws.describe_failure(res, f"{kind} at 35 % was not absorbed by retries ({figs})")
        p.enabled = False
        ws.assert_no_changes()
    finally:
        p.stop()
    counts = rs.check_secrets(sm, ws.prefix, keys, value)
    rs.report(f"fault kind {kind} alone, 35 %", {"injected": figs["faults_total"], "retries_observed": figs["retries_seen"],
                                                 "requests": figs["requests"], "final_secrets": counts["secrets"]})
    ws.sweep()
