"""The provider killed (SIGKILL) at random points during apply (issue 6).

Each run changes the configuration so that the apply has every kind of work to do: the window of
secret keys slides by one (one create, one delete) and the trigger changes (every other secret gets
a new version, from the other of two canaries). While `terraform apply` runs, the provider process
(found through /proc below this terraform, never by name) is SIGKILLed after a random delay spread
over a typical apply's duration. Then an apply without a kill must converge: exit 0, a clean plan,
exactly the configured secrets in moto (none lost, no duplicate, no orphan), each holding the
current canary, and a valid state file. Runs: CI 10, full 100 (OFFSTATE_RELIABILITY=full). One
window needs a hand: killed after a create's last call (UntagResource of its create-pending tag)
and before Terraform heard back, the secret is complete and in no state; it is never taken over
(it may be another state's), so the apply fails with "already exists" and the test imports it, as
the error says (counted as imported_after_crash).

Every other run aims instead of timing: the provider talks to moto through the loopback proxy,
which SIGKILLs the provider right after moto carried out a chosen call (CreateSecret, UntagResource,
PutSecretValue or DeleteSecret) and before the answer goes back: the window where the remote
change happened and Terraform's state does not know it.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import time

import pytest

import reliability_support as rs
from harness.faults import FaultProxy

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

RUNS = 100 if rs.FULL else 10
WINDOW = 4  # secrets per configuration


def keys_of(run: int) -> list[str]:
    return [f"k{i}" for i in range(run, run + WINDOW)]


def kill_provider_later(ws, provider_bin, running, delay: float) -> str:
    """Waits `delay` s, then SIGKILLs the provider below this terraform. Returns what happened."""
    deadline = running.started + delay
    while time.monotonic() < deadline:
        if running.proc.poll() is not None:
            return "apply ended first"
        time.sleep(0.01)
    # The provider may be between two launches (terraform starts it per phase): wait for one.
    until = time.monotonic() + 20
    while time.monotonic() < until and running.proc.poll() is None:
        mine = rs.descendants(running.proc.pid)
        pids = [p for p in rs.provider_pids(provider_bin) if p in mine]
        if pids:
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return "killed"
        time.sleep(0.01)
    return "apply ended first"


class Aim:
    """The proxy's hook: SIGKILL the provider below the running terraform once `op` was done."""

    def __init__(self, provider_bin):
        self.provider_bin = provider_bin
        self.op: str | None = None
        self.root: int | None = None
        self.fired = False

    def __call__(self, op: str) -> bool:
        if self.fired or op != self.op or self.root is None:
            return False
        self.fired = True
        mine = rs.descendants(self.root)
        for pid in rs.provider_pids(self.provider_bin):
            if pid in mine:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return True


def test_sigkill_during_apply_converges(ws, sm, moto, provider_bin):
    ws.providers_killed = True  # a SIGKILLed provider leaves its socket behind
    values = [ws.canary("crash-a"), ws.canary("crash-b")]
    rng = random.Random(rs.SEED)
    aim = Aim(provider_bin)
    proxy = FaultProxy(moto.url, rate=0.0, log_path=ws.artifacts / "proxy.log", after_upstream=aim).start()
    try:
        _runs(ws, sm, proxy, aim, provider_bin, values, rng)
    finally:
        proxy.stop()


def _runs(ws, sm, proxy, aim, provider_bin, values, rng):
    # run 0: an undisturbed apply, to time a typical apply (and have state to change)
    ws.set_var("secret", values[0])
    ws.write(rs.many_secrets_config(proxy.url, ws.prefix, keys_of(0), trigger="0"))
    ws.apply()
    samples = []
    outcomes = collections.Counter()
    killed_apply_rc = collections.Counter()
    converge_s = []
    imported = 0
    for run in range(1, RUNS + 1):
        value = values[run % 2]
        ws.set_var("secret", value)
        keys = keys_of(run)
        ws.write(rs.many_secrets_config(proxy.url, ws.prefix, keys, trigger=str(run)))
        running = rs.start_tf(ws, "apply", "-input=false", "-auto-approve")
        if run % 2 == 0:
            # aimed: right after moto carried out this call, before the provider hears back
            aim.op, aim.fired = rng.choice(["CreateSecret", "UntagResource", "PutSecretValue", "DeleteSecret"]), False
            aim.root = running.proc.pid
            res = running.wait(timeout=300)
            aim.root = None
            what = f"killed after {aim.op}" if aim.fired else "apply ended first"
        else:
            # timed: the delay is spread over a typical apply (measured by the converging applies)
            typical = (sum(samples[-5:]) / len(samples[-5:])) if samples else 4.0
            delay = rng.uniform(0.0, typical)
            what = kill_provider_later(ws, provider_bin, running, delay)
            res = running.wait(timeout=300)
        outcomes[what] += 1
        if what.startswith("killed"):
            killed_apply_rc["failed" if res.rc != 0 else "still succeeded"] += 1
            assert res.rc != -9, ws.describe_failure(res, "terraform hung after the provider was killed")
        rs.check_state(ws, None)

        t0 = time.monotonic()
        imported += _import_completed_creates(ws, sm, str(run))
        took = time.monotonic() - t0
        samples.append(took)
        converge_s.append(took)
        rs.check_state(ws, keys)
        rs.check_secrets(sm, ws.prefix, keys, value)

    ws.assert_no_changes("after the last converging apply")
    rs.report(
        f"crash: {RUNS} runs of SIGKILL during apply, {WINDOW} secrets, seed {rs.SEED}",
        {
            "runs": RUNS,
            "kills": {k: v for k, v in sorted(outcomes.items()) if k.startswith("killed")},
            "apply_ended_before_kill": outcomes["apply ended first"],
            "adopted_after_crash": _adoptions(ws),
            "imported_after_crash": imported,
            "killed_apply_exit": dict(killed_apply_rc),
            "converged": RUNS,
            "converge_apply_s_median": round(sorted(converge_s)[len(converge_s) // 2], 2),
            "lost": 0,
            "duplicates": 0,
            "orphans": 0,
        },
    )
    ws.sweep()


def _import_completed_creates(ws, sm, trigger: str) -> int:
    """The converging apply. A provider killed after a create removed its create-pending tag
    (its last call) and before Terraform heard back leaves a completed secret no state holds:
    it is never taken over (it may be another state's), the apply fails with "already exists"
    and says to import it. Anything else failing fails the test. Returns how many were imported."""
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=None)
    if res.rc == 0:
        return 0
    errors = [
        line["diagnostic"] for line in res.json_lines() if line.get("diagnostic", {}).get("severity") == "error"
    ]
    refused = [
        e["address"]
        for e in errors
        if e["summary"] == "Secrets Manager CreateSecret failed" and "already exists" in e["detail"]
    ]
    assert refused and len(refused) == len(errors), ws.describe_failure(res, "the converging apply failed")
    for address in refused:
        name = f"{ws.prefix}/{address.split(chr(34))[1]}"
        tags = sm.describe_secret(SecretId=name).get("Tags", [])
        assert not any(t["Key"] == "offstate:create-pending" for t in tags), f"{address}: still tagged, not adopted"
        ws.tf("import", "-input=false", address, f"{name}?value_wo_version={trigger}")
    ws.apply()
    return len(refused)


def _adoptions(ws) -> int:
    """How often a converging apply adopted a secret an interrupted create had made."""
    n = 0
    for p in ws.artifacts.glob("*.provider.stderr"):
        n += p.read_text(errors="replace").count("adopted the secret an interrupted create had made")
    return n


def test_secret_left_by_an_interrupted_create_is_adopted_only_when_identical(ws, sm, moto):
    """The deterministic form of the crash window the kills above hit by chance: CreateSecret
    succeeded, the state write never happened. moto holds what that run made (boto3, its own
    random token, and the create-pending tag the run never got to remove); the apply adopts it
    when it is exactly what the configuration makes, and removes the tag, and otherwise fails
    with "already exists" and the import advice, touching nothing."""
    value, other = ws.canary("adopt"), ws.canary("other")
    ws.set_var("secret", value)
    keys = ["same", "differs"]
    pending = [{"Key": "offstate:create-pending", "Value": "true"}]
    sm.create_secret(Name=f"{ws.prefix}/same", SecretString=f"{value.reveal()}-same", Tags=pending)
    sm.create_secret(Name=f"{ws.prefix}/differs", SecretString=f"{other.reveal()}-differs", Tags=pending)
    ws.write(rs.many_secrets_config(moto.url, ws.prefix, keys))
    res = ws.apply(expect=1)
    assert "already exists" in res.output and "terraform import" in res.output, res.output[-2000:]
    state = ws.state()
    adopted = [i["index_key"] for r in state["resources"] for i in r["instances"]]
    assert adopted == ["same"], adopted
    # the differing one was left alone
    got = sm.get_secret_value(SecretId=f"{ws.prefix}/differs")["SecretString"]
    assert got == f"{other.reveal()}-differs"
    assert len(sm.list_secret_version_ids(SecretId=f"{ws.prefix}/same")["Versions"]) == 1
    assert not sm.describe_secret(SecretId=f"{ws.prefix}/same").get("Tags"), "the create-pending tag stayed"
    sm.delete_secret(SecretId=f"{ws.prefix}/differs", ForceDeleteWithoutRecovery=True)
    ws.apply()
    rs.check_secrets(sm, ws.prefix, keys, value)
    ws.assert_no_changes()
    ws.sweep()
