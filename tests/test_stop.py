"""Ctrl-C (SIGINT to terraform, which sends StopProvider) ends the provider's AWS call in flight
at once, with the default attempt timeout (30 s): a stalled CreateSecret or PutSecretValue, and a
stalled STS AssumeRole (assume_role) while the provider is configured (allowed_account_ids makes
configure ask STS for the account, after AssumeRole).

A relay in front of moto (harness.relay's, Secrets Manager and STS alike) holds the named
operation without forwarding it (its "stall" fault) until the test releases it. Terraform must
exit within seconds of the SIGINT (before the stop cut calls in flight: 29.5 s, the attempt
timeout, for a write; for AssumeRole it waited until the relay let go: 120 s with the relay of
then, 60 s with the stall fault's), with an error that names the call and the secret and says
the provider was stopped; for a write, that the call may have been carried out and what to do.
Released, the next apply converges. The relay keeps no request body and logs operation names
and fault kinds only; the canary sweep covers every artifact.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest

from harness import canary as canaries
from harness import hcl
from harness import store
from harness import terraform as tfh
from harness.relay import Relay

pytestmark = [pytest.mark.e2e]

ADDR = "offstate_secret.s"
ROLE = "arn:aws:iam::123456789012:role/offstate-e2e-stop"
ACCOUNT = "123456789012"  # moto's
# Terraform exits this soon after the SIGINT at most. Measured 0.01-0.02 s; before the stop cut
# calls in flight, 29.5 s (a write: its attempt timeout) and 120 s (AssumeRole: until the relay let
# go; 60 s with the stall fault). Generous for a loaded CI.
EXIT_BOUND_S = 15


@pytest.fixture
def relays(ws, moto):
    """Relays in front of moto (harness.relay: request bodies not kept, operation names and fault
    kinds logged under the test's artifacts) holding the operations in `stall` (Secrets
    Manager's X-Amz-Target or STS's Action) with the "stall" fault: unanswered, unforwarded,
    until `release` is set (or 60 s), then reset. `rules` changes what is held."""
    made: list[Relay] = []

    def make(stall: set[str]) -> Relay:
        r = Relay(moto.url, bodies=False, log_path=ws.artifacts / "stall-relay.log").start()
        made.append(r)
        r.rules = dict.fromkeys(stall, "stall")
        return r

    # The SDK's defaults: no OFFSTATE_AWS_ATTEMPT_TIMEOUT (30 s per attempt).
    ws.env.pop("OFFSTATE_AWS_ATTEMPT_TIMEOUT", None)
    yield make
    for r in made:
        r.stop()


@pytest.fixture
def started():
    """Terraform processes begun in the background: one still running when the test ends is
    interrupted, then killed."""
    procs: list[subprocess.Popen] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()


def interrupted(ws, started: list, relay: Relay, *argv: str) -> tuple[tfh.Result, float]:
    """`terraform ARGV` in the background (artifacts as Workspace.tf keeps them), SIGINT half a
    second after the relay holds a call; returns the result and how long terraform took to exit
    after the SIGINT."""
    argv = [argv[0], "-no-color", *argv[1:]]
    ws.seq += 1
    stem = ws.artifacts / f"{ws.seq:02d}-{argv[0]}"
    env = dict(ws.env, TF_LOG_PATH=str(stem.with_suffix(".tflog")),
               OFFSTATE_PROVIDER_STDERR=str(stem.with_suffix(".provider.stderr")))
    proc = subprocess.Popen(tfh.terraform_command() + argv, cwd=ws.dir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    started.append(proc)
    assert relay.entered.wait(120), f"a call reached the relay and was held: {relay.operations()}"
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGINT)  # tools/terraform execs terraform: this pid is terraform's
    sent = time.monotonic()
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    took = time.monotonic() - sent
    stem.with_suffix(".stdout").write_bytes(out)
    stem.with_suffix(".stderr").write_bytes(err)
    return tfh.Result(argv, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"), stem), took


def errors_of(res) -> list[str]:
    """The error diagnostics' summary+detail as one string each (from the -no-color output)."""
    blocks = re.split(r"(?m)^Error: ", res.stderr)[1:]
    return [" ".join(b.split()) for b in blocks]


def the_error(res, *words: str) -> str:
    errs = errors_of(res)
    about = [e for e in errs if all(w in e for w in words)]
    assert about, f"an error names {words}: {canaries.redact(repr([e[:600] for e in errs]))}"
    return about[0]


@pytest.mark.parametrize("op", ["CreateSecret", "PutSecretValue"])
def test_sigint_during_a_stalled_write_ends_terraform_at_once(ws, sm, relays, started, op):
    old, new = ws.canary("old"), ws.canary("new")
    relay = relays({op})
    if op == "PutSecretValue":
        relay.rules = {}
        ws.set_var("secret", old)
        ws.write(hcl.config(relay.url, hcl.secret("s", name=ws.name("s"), value_wo_version="1",
                                                  recovery_window_in_days=0)))
        ws.apply()
        relay.rules = {op: "stall"}
    before = ws.attributes(ADDR)
    ws.set_var("secret", new)
    ws.write(hcl.config(relay.url, hcl.secret("s", name=ws.name("s"), value_wo_version="2",
                                              recovery_window_in_days=0)))
    res, took = interrupted(ws, started, relay, "apply", "-input=false", "-auto-approve")
    print(f"{op}: terraform exited {took:.2f}s after the SIGINT")
    assert took < EXIT_BOUND_S, f"terraform exited {took:.1f}s after the SIGINT (attempt timeout 30 s)"
    assert res.rc == 1, ws.describe_failure(res, "the interrupted apply fails")
    assert "panic" not in res.output.lower(), "no panic"
    e = the_error(res, op, ws.name("s"), "stopped the provider")
    assert "may already have been carried out" in e and "terraform plan" in e, canaries.redact(e[:600])
    assert relay.ops[op] == 1, f"one {op}, not retried: {relay.operations()}"
    if before is not None:
        assert ws.attributes(ADDR)["version_id"] == before["version_id"], "the state keeps the old version"

    relay.rules = {}
    relay.release.set()
    res = ws.apply(expect=None)
    assert res.rc == 0, ws.describe_failure(res, "apply after the interrupted one")
    store.assert_value(sm, ws.name("s"), new)
    if op == "PutSecretValue":
        store.assert_value(sm, ws.name("s"), old, stage="AWSPREVIOUS")
    ws.assert_no_changes("after the apply that followed the interrupted one")


def test_sigint_during_a_stalled_assume_role_ends_configure_at_once(ws, sm, relays, started):
    sts = relays({"AssumeRole"})
    ws.env["AWS_ENDPOINT_URL_STS"] = sts.url
    ws.set_var("secret", ws.canary())
    text = hcl.config(ws.endpoint, hcl.secret("s", name=ws.name("s"), value_wo_version="1"),
                      provider_attrs={"allowed_account_ids": [ACCOUNT]})
    block = f"  assume_role {{\n    role_arn = {hcl.lit(ROLE)}\n  }}\n"
    ws.write(text.replace('provider "offstate" {\n', 'provider "offstate" {\n' + block, 1))
    res, took = interrupted(ws, started, sts, "plan", "-input=false")
    print(f"AssumeRole: terraform exited {took:.2f}s after the SIGINT")
    assert took < EXIT_BOUND_S, f"terraform exited {took:.1f}s after the SIGINT"
    assert res.rc == 1, ws.describe_failure(res, "the interrupted plan fails")
    assert "panic" not in res.output.lower(), "no panic"
    the_error(res, "allowed_account_ids", "GetCallerIdentity", "stopped the provider")
    assert sts.operations() == ["AssumeRole"], f"STS asked once, Secrets Manager never: {sts.operations()}"

    sts.rules = {}
    sts.release.set()
    plan = ws.plan()
    assert plan.actions(ADDR) == ["create"], "configured with the role, the plan goes through"


def test_sigint_during_a_stalled_imds_region_lookup_ends_configure_at_once(ws, sm, relays, started):
    """No region in the configuration, the environment or the profile: aws-config asks the EC2
    instance metadata service (IMDS) for one while the provider is configured. A metadata endpoint
    that holds the call (AWS_EC2_METADATA_SERVICE_ENDPOINT at the relay, its token and region
    requests stalled) kept configure waiting after the SIGINT until aws-config gave up on IMDS
    (measured 2.5 s after the SIGINT, sent 0.5 s after the first held call; then the error was "no AWS
    region"). StopProvider now ends the lookup (measured 0.01 s): the
    error says the provider was stopped."""
    imds = relays({"PUT /latest/api/token", "GET /latest/meta-data/placement/region"})
    for k in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EC2_METADATA_DISABLED"):
        ws.env.pop(k, None)
    ws.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url
    ws.set_var("secret", ws.canary())
    text = hcl.config(ws.endpoint, hcl.secret("s", name=ws.name("s"), value_wo_version="1"))
    ws.write(text.replace('  region   = "us-east-1"\n', "", 1))
    res, took = interrupted(ws, started, imds, "plan", "-input=false")
    print(f"IMDS region: terraform exited {took:.2f}s after the SIGINT")
    assert took < EXIT_BOUND_S, f"terraform exited {took:.1f}s after the SIGINT"
    assert res.rc == 1, ws.describe_failure(res, "the interrupted plan fails")
    assert "panic" not in res.output.lower(), "no panic"
    the_error(res, "stopped the provider", "region")
    assert imds.ops["PUT /latest/api/token"] >= 1, f"IMDS was asked: {imds.operations()}"

    imds.rules = {}
    imds.release.set()
    ws.env["AWS_REGION"] = "us-east-1"
    plan = ws.plan()
    assert plan.actions(ADDR) == ["create"], "with a region, the plan goes through"
