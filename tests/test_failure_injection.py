"""Failure injection between the provider and Secrets Manager, and values at their limits.

A relay (an HTTP server on loopback, set as the provider's `endpoint`) forwards to moto, except
for the operations a test points it at, which it answers badly: a 500/503 or an HTML page echoing
the request body (which holds SecretString), ThrottlingException every time, a 400
ValidationException quoting the value, a 200 that is malformed JSON holding the value, an answer
cut off mid-body, or no answer at all. Also: moto killed in the middle of an apply and started
again (empty), and `terraform apply` interrupted by SIGINT (Terraform sends StopProvider) while a
write is in flight or failing (no attempt is started after the stop). Then values at and over the
65,536-byte limit, empty, blank, non-ASCII, with NULs and control characters, and generator
settings at their bounds.

For each: Terraform ends with an error naming the secret and the AWS error code (or the
attribute), the state stays consistent (re-applied with the relay passing everything, the apply
converges: the secret exists once, holds the configured value, the previous value is kept in
AWSPREVIOUS) and the canary sweep finds the value in no artifact (trace logs, the provider's
stderr, plans, state, command output, the relay's own log).
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from harness import canary as canaries
from harness import endpoint as ep
from harness import hcl
from harness import relay as relay_core
from harness import store
from harness import terraform as tfh

pytestmark = [pytest.mark.e2e]

ADDR = "offstate_secret.s"
# Per-attempt timeout of the provider's AWS calls (s): a stalled call costs this long.
ATTEMPT_TIMEOUT_S = 2


class Relay(relay_core.Relay):
    """Forwards to `upstream` (changeable: moto restarted elsewhere), answering the operations in
    `rules` ({operation: kind}) with the fault `kind` (relay_core.FAULTS) instead. Keeps a log of
    operation names and what it did (never a body) under the test's artifacts, so the sweep
    searches it too. A value seen in a write is registered with the workspace (a generated one is
    searched for too)."""

    def __init__(self, ws, upstream: str):
        super().__init__(upstream, bodies=False, log_path=ws.artifacts / "relay.log")
        self.ws = ws
        self.start()

    def observe(self, seen, body: bytes) -> None:
        value = relay_core.secret_string(body)
        if value:
            self.watch(value)

    def watch(self, value: str) -> None:
        if len(value) < 16 or any(c.reveal() == value for c in self.ws.canaries):
            return
        self.ws.watch(canaries.wrap(value))


@pytest.fixture
def relay(ws, moto):
    r = Relay(ws, moto.url)
    ws.env["OFFSTATE_AWS_ATTEMPT_TIMEOUT"] = str(ATTEMPT_TIMEOUT_S)
    yield r
    r.stop()


def spiced(c: canaries.Canary) -> canaries.Canary:
    """The canary with characters every encoder changes (quote, backslash, <>&, non-ASCII)."""
    raw = c.reveal()
    return canaries.wrap(raw[:20] + '"\\<>&é/' + raw[20:])


GENERATED = (
    'resource "offstate_secret" "g" {{\n'
    '  name = "{name}"\n'
    "  recovery_window_in_days = 0\n"
    "  generate {{\n"
    "    length = 64\n"
    "  }}\n"
    "}}\n"
)


# what each kind's error must name (besides the secret): the code, or what the SDK saw
NAMED = {
    "echo500-json": ("InternalFailure",),
    "echo503-text": ("HTTP503",),
    "echo500-html": ("HTTP500",),
    "throttle": ("ThrottlingException",),
    "validation-quotes-value": ("ValidationException",),
    "malformed-200": ("UnreadableResponse",),
    "wrong-type-200": ("UnreadableResponse",),
    "malformed-after": ("UnreadableResponse",),
    "cut-echo": ("ResponseError",),
    "stall": ("TimeoutError",),
}
WRITE_KINDS = list(NAMED)


def errors_of(res) -> list[str]:
    """The error diagnostics' summary+detail as one string each (from the -no-color output)."""
    blocks = re.split(r"(?m)^Error: ", res.stderr)[1:]
    return [" ".join(b.split()) for b in blocks]


def assert_names(res, secret_name: str, words: tuple[str, ...], op: str) -> None:
    errs = errors_of(res)
    assert errs, "the apply failed with an error diagnostic"
    about = [e for e in errs if secret_name in e]
    shown = lambda es: canaries.redact(repr([e[:600] for e in es]))  # noqa: E731
    assert about, f"an error names the secret {secret_name}: {shown(errs)}"
    named = any(any(w in e for w in words) for e in about)
    assert named, f"the error names one of {words}: {shown(about)}"
    assert any(op in e for e in about), f"the error names the call {op}: {shown(about)}"


@pytest.mark.parametrize("kind", WRITE_KINDS)
def test_create_answered_badly_fails_clearly_and_converges(ws, sm, relay, kind):
    """CreateSecret answered with `kind`: the apply fails naming the secret and the error; nothing
    half-made is lost: with the relay passing everything, the next apply converges."""
    value = ws.watch(spiced(ws.canary("create")))
    ws.set_var("secret", value)
    relay.rules = {"CreateSecret": kind}
    ws.write(hcl.config(relay.url, hcl.secret("s", name=ws.name("s"), value_wo_version="1",
                                              recovery_window_in_days=0),
                        GENERATED.format(name=ws.name("g"))))
    t0 = time.monotonic()
    res = ws.tf("apply", "-input=false", "-auto-approve", expect=1, timeout=300)
    took = time.monotonic() - t0
    assert relay.faulted["CreateSecret"] >= 2, "both creates reached the relay"
    assert_names(res, ws.name("s"), NAMED[kind], "CreateSecret")
    assert_names(res, ws.name("g"), NAMED[kind], "CreateSecret")
    assert took < 120, f"the failing apply took {took:.0f}s"
    relay.rules = {}
    relay.release.set()
    res = ws.apply(expect=None)
    if kind.endswith("-after"):
        # Both were created; `s` (same value, still tagged create-pending) is adopted, `g` (its
        # value generated then) is not: the error says how to keep it.
        errs = errors_of(res)
        advice = (len(errs) == 1 and ws.name("g") in errs[0] and "terraform import" in errs[0]
                  and "is not adopted when its value is generated" in errs[0])
        assert advice, canaries.redact(repr(errs))
        ws.tf("import", "-input=false", "offstate_secret.g", ws.name("g"))
        res = ws.apply(expect=None)
    assert res.rc == 0, ws.describe_failure(res, "re-apply with the relay passing everything")
    store.assert_value(sm, ws.name("s"), value)
    assert store.stages(sm, ws.name("g")).get("AWSCURRENT"), "the generated secret has a value"
    if kind.endswith("-after"):
        assert store.stages(sm, ws.name("g")).get("AWSPREVIOUS"), "a new value generated after the import"
    ws.assert_no_changes("after the re-apply")


@pytest.mark.parametrize("kind", WRITE_KINDS)
def test_update_answered_badly_keeps_the_old_value_and_converges(ws, sm, relay, kind):
    """PutSecretValue answered with `kind` after a good create: the apply fails naming the secret
    and the error; the state keeps the old version_id; re-applied, the new value is AWSCURRENT and
    the old one AWSPREVIOUS (no value lost)."""
    old, new = ws.canary("old"), ws.watch(spiced(ws.canary("new")))
    ws.set_var("secret", old)
    ws.write(hcl.config(relay.url, hcl.secret("s", name=ws.name("s"), value_wo_version="1",
                                              recovery_window_in_days=0)))
    ws.apply()
    v1 = ws.attributes(ADDR)["version_id"]
    ws.set_var("secret", new)
    ws.write(hcl.config(relay.url, hcl.secret("s", name=ws.name("s"), value_wo_version="2",
                                              recovery_window_in_days=0)))
    relay.rules = {"PutSecretValue": kind}
    res = ws.tf("apply", "-input=false", "-auto-approve", expect=1, timeout=300)
    assert relay.faulted["PutSecretValue"] >= 1, "the write reached the relay"
    assert_names(res, ws.name("s"), NAMED[kind], "PutSecretValue")
    attrs = ws.attributes(ADDR)
    assert attrs is not None, "the secret is still in the state"
    assert attrs["version_id"] == v1, "a failed write leaves version_id as it was"
    if not kind.endswith("-after"):  # else moto did write it
        store.assert_value(sm, ws.name("s"), old)
    relay.rules = {}
    relay.release.set()
    res = ws.apply(expect=None)
    assert res.rc == 0, ws.describe_failure(res, "re-apply with the relay passing everything")
    store.assert_value(sm, ws.name("s"), new)
    store.assert_value(sm, ws.name("s"), old, stage="AWSPREVIOUS")
    versions = sm.list_secret_version_ids(SecretId=ws.name("s"), IncludeDeprecated=True)["Versions"]
    assert len(versions) == 2, f"one version per value, got {len(versions)}"
    ws.assert_no_changes("after the re-apply")


def test_update_whose_answer_is_lost_after_the_write_converges_without_a_second_version(ws, sm, relay):
    """PutSecretValue reaches moto, which writes the version, and then no answer comes (each
    attempt: the SDK retries with the same ClientRequestToken). The apply fails with a timeout;
    re-applied, the apply converges without pushing the old value out of AWSPREVIOUS."""
    old, new = ws.canary("old"), ws.canary("new")
    ws.set_var("secret", old)
    ws.write(hcl.config(relay.url, hcl.secret("s", name=ws.name("s"), value_wo_version="1",
                                              recovery_window_in_days=0)))
    ws.apply()
    ws.set_var("secret", new)
    ws.write(hcl.config(relay.url, hcl.secret("s", name=ws.name("s"), value_wo_version="2",
                                              recovery_window_in_days=0)))
    relay.rules = {"PutSecretValue": "stall-after"}
    res = ws.tf("apply", "-input=false", "-auto-approve", expect=1, timeout=300)
    assert_names(res, ws.name("s"), ("TimeoutError",), "PutSecretValue")
    relay.rules = {}
    relay.release.set()
    res = ws.apply(expect=None)
    assert res.rc == 0, ws.describe_failure(res, "re-apply with the relay passing everything")
    store.assert_value(sm, ws.name("s"), new)
    store.assert_value(sm, ws.name("s"), old, stage="AWSPREVIOUS")
    versions = sm.list_secret_version_ids(SecretId=ws.name("s"), IncludeDeprecated=True)["Versions"]
    assert len(versions) == 2, f"one version per value, got {len(versions)}"
    assert ws.attributes(ADDR)["version_id"] == store.stages(sm, ws.name("s"))["AWSCURRENT"]
    ws.assert_no_changes("after the re-apply")


READ_CONFIG = (
    'ephemeral "offstate_secret_value" "read" {{\n  secret_id = "{src}"\n}}\n'
    'resource "offstate_secret" "dst" {{\n'
    '  name = "{dst}"\n'
    "  recovery_window_in_days = 0\n"
    "  value_wo         = ephemeral.offstate_secret_value.read.value\n"
    '  value_wo_version = "1"\n'
    "}}\n"
)


@pytest.mark.parametrize("kind", ["cut-answer", "stall", "echo500-json"])
def test_read_answered_badly_fails_clearly(ws, sm, relay, kind):
    """GetSecretValue (an ephemeral offstate_secret_value feeding another secret) whose answer,
    holding the value, is cut in half / never comes / is a 500: the apply fails naming the call,
    and the value read is in no artifact."""
    value = ws.canary("stored")
    src = ws.name("src")
    sm.create_secret(Name=src, SecretString=value.reveal())
    relay.rules = {"GetSecretValue": kind}
    ws.write(hcl.config(relay.url, READ_CONFIG.format(src=src, dst=ws.name("dst")), variables=()))
    res = ws.tf("apply", "-input=false", "-auto-approve", expect=1, timeout=300)
    assert relay.faulted["GetSecretValue"] >= 1, "the read reached the relay"
    errs = errors_of(res)
    assert any("GetSecretValue" in e for e in errs), canaries.redact(repr(errs))
    relay.rules = {}
    relay.release.set()
    ws.apply()
    store.assert_value(sm, ws.name("dst"), value)


@pytest.mark.parametrize("kind", ["cut-answer", "stall"])
def test_compare_mode_read_answered_badly_fails_clearly(ws, sm, relay, kind):
    """Without value_wo_version the plan compares the configured value with the stored one
    (GetSecretValue): that read's answer cut in half / never coming fails the plan naming the
    call; nothing is written."""
    old, new = ws.canary("old"), ws.canary("new")
    ws.set_var("secret", old)
    ws.write(hcl.config(relay.url, hcl.secret("s", name=ws.name("s"), compare_value=True, recovery_window_in_days=0)))
    ws.apply()
    ws.set_var("secret", new)
    relay.rules = {"GetSecretValue": kind}
    res = ws.tf("apply", "-input=false", "-auto-approve", expect=1, timeout=300)
    assert relay.faulted["GetSecretValue"] >= 1, "the comparison read reached the relay"
    errs = errors_of(res)
    assert any("GetSecretValue" in e for e in errs), canaries.redact(repr(errs))
    store.assert_value(sm, ws.name("s"), old)
    relay.rules = {}
    relay.release.set()
    ws.apply()
    store.assert_value(sm, ws.name("s"), new)
    store.assert_value(sm, ws.name("s"), old, stage="AWSPREVIOUS")


# ----------------------------------------------------------------------------------------------
# moto killed mid-apply; terraform interrupted


def test_moto_killed_mid_apply_then_restarted(ws, relay, tmp_path):
    """A private moto dies right after the second CreateSecret of three (its answer lost): the
    apply fails naming the calls that could not be made; moto started again (empty, as a
    restarted emulator is) behind the same endpoint, the next apply creates all three."""
    m1 = ep.MotoServer(ws.artifacts / "moto-1.log").start()
    m2 = None
    try:
        relay.upstream = m1.url
        value = ws.canary("restart")
        ws.set_var("secret", value)
        blocks = [hcl.secret(f"s{i}", name=ws.name(f"s{i}"), value_wo_version="1", recovery_window_in_days=0)
                  for i in range(3)]
        ws.write(hcl.config(relay.url, *blocks))
        creates = []

        def kill_on_second_create(op):
            if op != "CreateSecret":
                return False
            creates.append(op)
            if len(creates) == 2:
                m1.stop()
                return True
            return False

        relay.after_upstream = kill_on_second_create
        res = ws.tf("apply", "-input=false", "-parallelism=1", "-auto-approve", expect=1, timeout=400)
        assert len(creates) >= 2, "moto was killed during the apply"
        errs = errors_of(res)
        assert errs, "the apply failed with an error diagnostic"
        unclear = [e for e in errs if not any(w in e for w in ("DispatchFailure", "ResponseError", "TimeoutError"))]
        assert not unclear, f"each error names what failed: {canaries.redact(repr([e[:400] for e in unclear]))}"
        relay.after_upstream = None
        m2 = ep.MotoServer(ws.artifacts / "moto-2.log").start()
        relay.upstream = m2.url
        res = ws.apply(expect=None)
        assert res.rc == 0, ws.describe_failure(res, "re-apply against the restarted moto")
        sm2 = ep.client(m2.url)
        for i in range(3):
            store.assert_value(sm2, ws.name(f"s{i}"), value)
        ws.assert_no_changes("after the re-apply")
    finally:
        m1.stop()
        if m2 is not None:
            m2.stop()


@pytest.fixture
def started():
    """Processes start_tf began: one still running when the test ends (it failed before finish())
    is interrupted, then killed, so no terraform outlives its test."""
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


def start_tf(ws, started: list, *argv: str):
    """`terraform ARGV` in the background with the artifacts Workspace.tf keeps; returns
    (process, finish) where finish() waits and returns the Result. The process is added to
    `started` (the fixture), which ends it if the test does not."""
    argv = list(argv)
    argv.insert(1, "-no-color")
    ws.seq += 1
    stem = ws.artifacts / f"{ws.seq:02d}-{argv[0]}"
    env = dict(ws.env, TF_LOG_PATH=str(stem.with_suffix(".tflog")),
               OFFSTATE_PROVIDER_STDERR=str(stem.with_suffix(".provider.stderr")))
    proc = subprocess.Popen(tfh.terraform_command() + argv, cwd=ws.dir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    started.append(proc)

    def finish(timeout: float = 300) -> tfh.Result:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        stem.with_suffix(".stdout").write_bytes(out)
        stem.with_suffix(".stderr").write_bytes(err)
        return tfh.Result(argv, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"), stem)

    return proc, finish


@pytest.mark.parametrize("answer", ["late", "lost"])
@pytest.mark.parametrize("op", ["CreateSecret", "PutSecretValue"])
def test_sigint_while_a_write_is_in_flight(ws, sm, relay, started, op, answer):
    """Ctrl-C (SIGINT to terraform, which sends StopProvider) while CreateSecret/PutSecretValue
    is held by the relay after moto carried it out; the relay then answers ("late") or never
    does ("lost": each attempt times out, and Stop ends the retries). Terraform ends, the state
    and Secrets Manager agree after one more apply, the new value is AWSCURRENT and, for an
    update, the old one AWSPREVIOUS."""
    old, new = ws.canary("old"), ws.canary("new")
    if op == "PutSecretValue":
        ws.set_var("secret", old)
        ws.write(hcl.config(relay.url, hcl.secret("s", name=ws.name("s"), value_wo_version="1",
                                                  recovery_window_in_days=0)))
        ws.apply()
    ws.set_var("secret", new)
    ws.write(hcl.config(relay.url, hcl.secret("s", name=ws.name("s"), value_wo_version="2",
                                              recovery_window_in_days=0)))
    held = threading.Event()

    def hold(o):
        if o == op and not held.is_set():
            held.set()
            time.sleep(1.5)  # the SIGINT lands while the answer is held
        return False

    if answer == "late":
        relay.after_upstream = hold
    else:
        relay.rules = {op: "stall-after"}
        held = relay.entered
    proc, finish = start_tf(ws, started, "apply", "-input=false", "-auto-approve")
    assert held.wait(120), f"{op} reached the relay"
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGINT)  # tools/terraform execs terraform: this pid is terraform's
    res = finish()
    relay.after_upstream = None
    relay.rules = {}
    relay.release.set()
    assert res.rc in (0, 1), ws.describe_failure(res, "terraform ends after SIGINT")
    assert "panic" not in res.output.lower(), "no panic"
    res = ws.apply(expect=None)
    assert res.rc == 0, ws.describe_failure(res, "apply after the interrupted one")
    store.assert_value(sm, ws.name("s"), new)
    if op == "PutSecretValue":
        store.assert_value(sm, ws.name("s"), old, stage="AWSPREVIOUS")
    assert ws.attributes(ADDR)["version_id"] == store.stages(sm, ws.name("s"))["AWSCURRENT"]
    ws.assert_no_changes("after the apply that followed the interrupted one")


@pytest.mark.parametrize("kind", ["echo500-json", "stall"])
def test_sigint_ends_the_sdk_retries(ws, sm, relay, started, kind):
    """Ctrl-C while every PutSecretValue is answered with a 500 (echoing the value) or never
    answered: after StopProvider the SDK starts no further attempt (it would make 5, one per
    ATTEMPT_TIMEOUT_S when stalled, 30 s each by default), so Terraform ends within a few seconds
    with an error naming the secret and the call, the state keeps the old version and a re-apply
    converges."""
    old, new = ws.canary("old"), ws.canary("new")
    ws.set_var("secret", old)
    ws.write(hcl.config(relay.url, hcl.secret("s", name=ws.name("s"), value_wo_version="1",
                                              recovery_window_in_days=0)))
    ws.apply()
    before = ws.attributes(ADDR)["version_id"]
    ws.set_var("secret", new)
    ws.write(hcl.config(relay.url, hcl.secret("s", name=ws.name("s"), value_wo_version="2",
                                              recovery_window_in_days=0)))
    relay.rules = {"PutSecretValue": kind}
    proc, finish = start_tf(ws, started, "apply", "-input=false", "-auto-approve")
    deadline = time.monotonic() + 120
    while relay.faulted["PutSecretValue"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert relay.faulted["PutSecretValue"], "PutSecretValue reached the relay"
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGINT)  # tools/terraform execs terraform: this pid is terraform's
    at_stop, stopped = relay.faulted["PutSecretValue"], time.monotonic()
    res = finish()
    took = time.monotonic() - stopped
    # An attempt starting while the interrupt travels to the provider is allowed.
    after = relay.faulted["PutSecretValue"] - at_stop
    relay.rules = {}
    relay.release.set()
    assert after <= 1, f"{after} PutSecretValue attempts after the SIGINT ({at_stop} before)"
    # Measured 0.2-0.5 s (500) and 1.7 s (stall; without the stop's end of retries: 20.9 s); the
    # margin is for a loaded CI machine. The attempt count above is the sharp check.
    assert took < ATTEMPT_TIMEOUT_S + 10, f"terraform ended {took:.1f}s after the SIGINT"
    assert res.rc == 1, ws.describe_failure(res, "the interrupted apply fails")
    assert "panic" not in res.output.lower(), "no panic"
    assert_names(res, ws.name("s"), NAMED[kind] + ("stopped",), "PutSecretValue")
    assert ws.attributes(ADDR)["version_id"] == before, "the state keeps the old version"
    ws.apply()
    store.assert_value(sm, ws.name("s"), new)
    store.assert_value(sm, ws.name("s"), old, stage="AWSPREVIOUS")
    ws.assert_no_changes("after the apply that followed the interrupted one")


# ----------------------------------------------------------------------------------------------
# values at their limits


def value_config(ws, expr: str = "var.secret", trigger: str = "1", **attrs) -> str:
    attrs.setdefault("recovery_window_in_days", 0)
    return hcl.config(ws.endpoint, hcl.secret("s", value_var=None, name=ws.name("s"), value_wo_version=trigger,
                                              raw={"value_wo": expr}, **attrs))


def stored(sm, name: str) -> str:
    return sm.get_secret_value(SecretId=name)["SecretString"]


@pytest.mark.parametrize("size", ["limit", "limit-multibyte"])
def test_value_of_65536_bytes_is_written_whole(ws, sm, size):
    """65,536 bytes (ASCII; and ending in a 4-byte character) is accepted and stored as it is."""
    c = ws.canary("big")
    tail = "\U0001F511" if size == "limit-multibyte" else ""
    raw = c.reveal()
    body = (raw * (65536 // len(raw) + 1))[: 65536 - len(tail.encode())]
    value = ws.watch(canaries.wrap(body + tail))
    assert len(value.reveal().encode()) == 65536
    ws.set_var("secret", value)
    ws.write(value_config(ws))
    ws.apply()
    same = stored(sm, ws.name("s")) == value.reveal()
    assert same, "the 65,536-byte value is stored whole"
    ws.assert_no_changes()


@pytest.mark.parametrize("how", ["ascii", "multibyte", "update"])
def test_value_over_65536_bytes_is_refused_at_plan(ws, sm, how):
    """65,537 bytes (or 32,769 two-byte characters: under the limit in characters, over it in
    bytes) is refused at plan, at value_wo, before any call; an update leaves the old value."""
    c = ws.canary("huge")
    raw = c.reveal()
    if how == "multibyte":
        body = raw + "é" * ((65537 - len(raw)) // 2 + 1)
    else:
        body = (raw * (65537 // len(raw) + 1))[:65537]
    value = ws.watch(canaries.wrap(body))
    if how == "update":
        old = ws.canary("old")
        ws.set_var("secret", old)
        ws.write(value_config(ws))
        ws.apply()
    ws.set_var("secret", value)
    ws.write(value_config(ws, trigger="2"))
    res = ws.tf("plan", "-input=false", expect=1)
    errs = errors_of(res)
    assert any("65536 bytes" in e and "value_wo" in e for e in errs), canaries.redact(repr(errs))
    if how == "update":
        store.assert_value(sm, ws.name("s"), old)
    else:
        names = [x["Name"] for x in sm.list_secrets(Filters=[{"Key": "name", "Values": [ws.name("s")]}])["SecretList"]]
        assert ws.name("s") not in names, "nothing was created"


@pytest.mark.parametrize("expr,why", [('""', "empty"), ('"${var.secret}"', "empty-variable")])
def test_empty_value_is_refused_at_plan(ws, expr, why):
    ws.canary("unused")  # the sweep wants one; nothing secret is used here
    ws.set_var("secret", "")
    ws.write(value_config(ws, expr=expr))
    res = ws.tf("plan", "-input=false", expect=1)
    errs = errors_of(res)
    assert any("empty" in e and "value_wo" in e for e in errs), repr(errs)


@pytest.mark.parametrize("kind", ["blank", "newlines", "unicode", "unicode-variable", "nul-and-controls"])
def test_unusual_values_are_stored_exactly(ws, sm, kind):
    """Whitespace only, CR/LF, non-ASCII (combining marks, RTL, astral), NUL and control characters
    (ESC sequences, DEL): stored byte for byte; the plan after is clean; the canary inside each
    (where there is one) is in no artifact."""
    c = ws.canary("odd")
    raw = c.reveal()
    if kind == "blank":
        ws.set_var("secret", "   \t  ")
        expr, want = "var.secret", "   \t  "
    elif kind == "newlines":
        expr, want = '"\\r\\n${var.secret}\\n\\n"', "\r\n" + raw + "\n\n"
    elif kind == "unicode":
        expr = '"e\u0301\u202e${var.secret}\U0001F510\u05d0\u0645"'
        want = "e\u0301\u202e" + raw + "\U0001F510\u05d0\u0645"
    elif kind == "unicode-variable":  # through TF_VAR_ (cty makes it NFC too)
        want = "e\u0301\u202e" + raw + "\U0001F510\u05d0\u0645\ufeff"
        ws.set_var("secret", ws.watch(canaries.wrap(want)))
        expr = "var.secret"
    else:  # HCL knows \\n \\r \\t \\" \\\\ \\uNNNN \\UNNNNNNNN only
        expr = '"\\u0000${var.secret}\\u0000\\u001b[31m\\u0007\\u007f\\u0008\\u000c\\u0001"'
        want = "\x00" + raw + "\x00\x1b[31m\x07\x7f\b\f\x01"
    if kind not in ("blank", "unicode-variable"):
        ws.set_var("secret", c)
        ws.watch(canaries.wrap(want))
    ws.write(value_config(ws, expr=expr))
    ws.apply()
    got = stored(sm, ws.name("s"))
    if kind.startswith("unicode"):  # every cty string is NFC: Terraform's doing, not ours
        import unicodedata

        want = unicodedata.normalize("NFC", want)
    same = got == want
    assert same, f"the {kind} value is stored exactly (lengths {len(got)}, {len(want)})"
    ws.assert_no_changes()


# the argument that is given the value too (var.other: sensitive, not ephemeral, as those must be)
SAME_AS = {
    "name": {"name": "var.other"},
    "description": {"description": "var.other"},
    "tag-value": {"tags": '{ env = "x", team = var.other }'},
    "tag-key": {"tags": "{ (var.other) = \"x\" }"},
    "binary-as-description": {"description": "var.other"},
    "inside-description": {"description": '"password: ${var.other}"'},
}


@pytest.mark.parametrize("where", list(SAME_AS))
def test_value_equal_to_another_argument_is_refused_at_plan(ws, sm, where):
    """A value that is also the name, the description, a tag value or a tag key, or is inside the
    description, would be in the state in plain text under that argument: the plan is refused at
    value_wo (binary_wo), naming the argument and not the value, and nothing is created (the
    canary is in no artifact)."""
    c = ws.canary("same")
    binary = where.startswith("binary")
    value = canaries.wrap(base64.b64encode(c.reveal().encode()).decode()) if binary else c
    ws.watch(value)
    ws.set_var("secret", value)
    ws.set_var("other", value)
    raw = dict(SAME_AS[where])
    raw["binary_wo" if binary else "value_wo"] = "var.secret"
    attrs = {} if "name" in raw else {"name": ws.name("s")}
    other = 'variable "other" {\n  type      = string\n  sensitive = true\n}\n'
    ws.write(hcl.config(ws.endpoint, other, hcl.secret("s", value_var=None, value_wo_version="1",
                                                       recovery_window_in_days=0, raw=raw, **attrs)))
    res = ws.tf("plan", "-input=false", expect=1)
    errs = errors_of(res)
    argument = {"tag-value": 'tags["team"]', "tag-key": "a key of tags"}.get(where, where.split("-")[-1])
    refused = any("also given as another argument" in e and argument in e for e in errs)
    assert refused, canaries.redact(repr(errs))
    assert sm.list_secrets(Filters=[{"Key": "name", "Values": [ws.prefix]}])["SecretList"] == []


# ----------------------------------------------------------------------------------------------
# generator settings at their bounds

GEN_OK = {
    "length-1": "length = 1",
    "length-4096-mins-fill-it": "length = 4096\n    min_lower = 1024\n    min_upper = 1024\n"
                                "    min_numeric = 1024\n    min_special = 1024",
    "one-character-left": 'length = 16\n    lower = false\n    upper = false\n    numeric = false\n'
                          '    override_special = "#"',
    "multibyte-specials": 'length = 4096\n    lower = false\n    upper = false\n    numeric = false\n'
                          '    override_special = "\\u00e9\\U0001F511\\u0000"',
}
GEN_BAD = {  # settings -> what the error says
    "length-0": ("length = 0", "length must be a whole number from 1 to 4096"),
    "length-4097": ("length = 4097", "length must be a whole number from 1 to 4096"),
    "length-negative": ("length = -1", "length must be a whole number from 1 to 4096"),
    "length-fraction": ("length = 1.5", "length must be a whole number from 1 to 4096"),
    "min-4097": ("min_lower = 4097", "min_lower must be a whole number from 0 to 4096"),
    "mins-over-length": ("length = 4\n    min_lower = 3\n    min_upper = 2", "the minimums add up to 5"),
    "no-class": ("lower = false\n    upper = false\n    numeric = false\n    special = false",
                 "no characters are left"),
    "all-excluded": ('numeric = false\n    special = false\n    exclude_characters = '
                     '"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"', "no characters are left"),
    "min-of-an-emptied-class": ('min_numeric = 1\n    exclude_characters = "0123456789"',
                                "a minimum of 1 is asked of a character class with no characters left"),
}


def generated(ws, settings: str) -> str:
    return hcl.config(ws.endpoint, 'resource "offstate_secret" "g" {\n'
                      f'  name = "{ws.name("g")}"\n  recovery_window_in_days = 0\n'
                      f"  generate {{\n    {settings}\n  }}\n}}\n", variables=())


@pytest.mark.parametrize("case", list(GEN_OK))
def test_generator_at_its_bounds_writes_a_value_that_fits(ws, sm, case):
    """Generated values at the bounds are written, within 65,536 bytes, and never shown."""
    ws.canary("unused")  # the generated value itself is watched below
    ws.write(generated(ws, GEN_OK[case]))
    ws.apply()
    got = sm.get_secret_value(SecretId=ws.name("g"))["SecretString"]
    if len(got) >= 16:
        ws.watch(canaries.wrap(got))
    want = {"length-1": 1, "length-4096-mins-fill-it": 4096, "one-character-left": 16,
            "multibyte-specials": 4096}[case]
    assert len(got) == want, f"{case}: {len(got)} characters"
    assert len(got.encode()) <= 65536
    ws.assert_no_changes()


@pytest.mark.parametrize("case", list(GEN_BAD))
def test_generator_settings_that_cannot_work_are_refused_at_plan(ws, sm, case):
    """Each impossible setting is one error at plan saying why; nothing is created."""
    settings, why = GEN_BAD[case]
    ws.canary("unused")
    ws.write(generated(ws, settings))
    res = ws.tf("plan", "-input=false", expect=1)
    errs = errors_of(res)
    assert len(errs) == 1 and why in errs[0], repr(errs)


# (code, message) Secrets Manager answers for credentials that stopped working mid-apply, and
# what the error must then say to do (never "allow this action": no permission is missing).
CREDENTIAL_FAULTS = {
    "session-expired": ("ExpiredTokenException", "The security token included in the request is expired",
                        "session has expired"),
    "clock-skew": ("InvalidSignatureException",
                   "Signature expired: 20261128T000000Z is now earlier than 20261128T000500Z "
                   "(20261128T001000Z - 5 min.)", "clock differs from AWS's"),
}


@pytest.mark.parametrize("case", list(CREDENTIAL_FAULTS))
def test_credentials_failing_mid_apply_name_the_fix_and_the_next_apply_converges(ws, sm, relay, case):
    """Three secrets; after the first CreateSecret goes through, every Secrets Manager call is
    refused as a session that expired (or a clock more than 5 minutes off) would be. The errors
    name the code and what to do about it (new credentials; the clock), not a permission to grant;
    with the credentials working again, the next apply converges: each secret once, with its value."""
    code, message, advice = CREDENTIAL_FAULTS[case]
    names = [f"c{i}" for i in range(3)]
    values = {n: ws.canary(n) for n in names}
    for n, v in values.items():
        ws.set_var(n, v)
    ws.write(hcl.config(relay.url, *(hcl.secret(n, value_var=n, name=ws.name(n), value_wo_version="1",
                                                recovery_window_in_days=0) for n in names),
                        variables=names))
    gate = threading.Lock()
    passed = []

    def expired(seen):
        with gate:
            if seen.operation == "CreateSecret" and not passed:
                passed.append(seen)
                return None  # the first create goes through
            return relay_core.aws_json_error(code, message)

    for op in ("CreateSecret", "PutSecretValue", "DescribeSecret", "TagResource", "UntagResource",
               "ListSecretVersionIds"):
        relay.answer[op] = expired
    res = ws.tf("apply", "-input=false", "-auto-approve", "-parallelism=1", expect=1, timeout=300)
    errs = errors_of(res)
    shown = canaries.redact(repr([e[:900] for e in errs]))
    assert errs and all(code in e for e in errs), f"every error names {code}: {shown}"
    assert all(advice in e for e in errs), f"every error says what to do ({advice!r}): {shown}"
    assert not any("allow this Secrets Manager action" in e for e in errs), f"no permission is missing: {shown}"
    relay.answer.clear()
    res = ws.apply(expect=None)
    assert res.rc == 0, ws.describe_failure(res, "re-apply with working credentials")
    for n, v in values.items():
        store.assert_value(sm, ws.name(n), v)
        versions = sm.list_secret_version_ids(SecretId=ws.name(n), IncludeDeprecated=True)["Versions"]
        assert len(versions) == 1, f"{n}: one version, got {len(versions)}"
    ws.assert_no_changes("after the re-apply")
