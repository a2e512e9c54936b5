"""Load (issue 6): `terraform apply -parallelism=50` of N secrets (CI 100, full 500).

Reports the provider's peak RSS (the kernel's VmHWM) and CPU time, sampled from /proc for every
provider process below this terraform, and the Secrets Manager calls per secret seen by the
recording proxy: a create is one CreateSecret (value included), one UntagResource (the
create-pending tag, once the create is done) and two DescribeSecret (the name check of the
create's plan, which Terraform makes again during apply), a refresh one
DescribeSecret, and no phase reads a value (GetSecretValue).
"""

from __future__ import annotations

import collections
import time

import pytest

import reliability_support as rs
from harness.faults import FaultProxy

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

N = 500 if rs.FULL else 100
READS_VALUE = {"GetSecretValue", "BatchGetSecretValue"}


def per_secret(calls) -> dict[str, float]:
    c = collections.Counter(x.operation for x in calls)
    return {op: round(n / N, 3) for op, n in sorted(c.items())}


def test_apply_500_secrets_parallelism_50(ws, sm, moto, provider_bin):
    proxy = FaultProxy(moto.url, rate=0.0, log_path=ws.artifacts / "proxy.log").start()
    try:
        value = ws.canary("load")
        ws.set_var("secret", value)
        keys = [str(i) for i in range(N)]
        ws.write(rs.many_secrets_config(proxy.url, ws.prefix, keys))

        running = rs.start_tf(ws, "apply", "-input=false", "-auto-approve", "-parallelism=50")
        sampler = rs.ProcSampler(provider_bin, running.proc.pid).start()
        t0 = time.monotonic()
        res = running.wait(timeout=1200)
        apply_s = time.monotonic() - t0
        usage = sampler.stop()
        assert res.rc == 0, ws.describe_failure(res, "the load apply failed")
        create_calls = proxy.take()

        t0 = time.monotonic()
        ws.tf("plan", "-input=false", "-detailed-exitcode", "-parallelism=50", expect=0, timeout=1200)
        plan_s = time.monotonic() - t0
        refresh_calls = proxy.take()
    finally:
        proxy.stop()

    create = per_secret(create_calls)
    refresh = per_secret(refresh_calls)
    assert create.get("CreateSecret") == 1.0, f"one CreateSecret per secret: {create}"
    assert create == {"CreateSecret": 1.0, "UntagResource": 1.0, "DescribeSecret": 2.0}, (
        f"a create is one CreateSecret, the removal of its create-pending tag and the plan's name check, twice: {create}"
    )
    assert refresh == {"DescribeSecret": 1.0}, f"refresh is one DescribeSecret per secret: {refresh}"
    assert not (set(create) | set(refresh)) & READS_VALUE

    counts = rs.check_secrets(sm, ws.prefix, keys, value)
    rs.check_state(ws, keys)
    rs.report(
        f"load: {N} secrets, apply -parallelism=50",
        {
            "apply_s": round(apply_s, 1),
            "plan_refresh_s": round(plan_s, 1),
            **usage,
            "calls_per_secret_apply": create,
            "calls_per_secret_refresh": refresh,
            "final_secrets": counts["secrets"],
        },
    )
    ws.sweep()
