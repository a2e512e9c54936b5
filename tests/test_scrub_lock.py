"""`scrub --write` and Terraform's state lock, both ways, with the real Terraform.

Terraform's local backend holds an fcntl lock on `terraform.tfstate` while a plan or an apply
runs (an apply waiting at its "Enter a value" prompt included) and writes who holds it to
`.terraform.tfstate.lock.info`. state-scrubber takes the same lock (state-scrubber/src/scrub/lock.rs):

1. Terraform holds it (an apply at its prompt): scrub exits 2 at once, naming Terraform's lock
   (operation, who); nothing is stored in Secrets Manager and the state is byte for byte as it was.
2. scrub holds it (held mid-run: the proxy in front of moto stops scrub's first CreateSecret
   answer until the test lets it go):
   - `terraform plan` fails with Terraform's own "Error acquiring the state lock", showing
     scrub's lock info;
   - a `terraform plan -lock-timeout=...` started meanwhile waits on the file it opened. Scrub
     replaces the state by a rename; the file that plan holds is no longer at the path, and scrub
     overwrote it with a text that is not a state right after the rename. The waiting plan gets the
     lock and fails to load the state, writing nothing (a plain read of the old file would have
     planned against the plaintext state, and an apply would have written into a file no path
     names);
   - scrub ends 0, its lock info is gone, and a plan then reads the scrubbed state.
3. The same waiting plan, with scrub SIGKILLed after its rename (no destructor runs): the old file
   holds that text already, and Terraform takes over the lock info the killed scrub left.

Every artifact (Terraform's stdout, stderr and trace logs, scrub's output, the proxy's log, the
work directory with the scrubbed state) is swept for the canary at the end. One Terraform command
runs without a trace log: the apply at its prompt, the only one that reads the plaintext state
(Terraform's debug lines print the dynamic value it reads; the plan waiting for the lock never
reads that state, as the test shows).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest

from harness import canary as canaries
from harness import terraform as tfh
from harness.endpoint import REGION
from harness.faults import FaultProxy
from test_scrub_pipeline import CONFIG, SCRUBBER, pipe_ws, secret_names  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e]

LOCK_INFO = ".terraform.tfstate.lock.info"


class Background:
    """A command run in the background with its stdout/stderr collected by threads (so a prompt
    can be waited for), both saved as artifacts when it ends."""

    def __init__(self, ws, name: str, argv: list[str], env: dict[str, str]):
        ws.seq += 1
        self.stem = ws.artifacts / f"{ws.seq:02d}-{name}"
        self.out = bytearray()
        self.err = bytearray()
        self.proc = subprocess.Popen(argv, cwd=ws.dir, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.readers = [threading.Thread(target=self._read, args=(s, b), daemon=True)
                        for s, b in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self.readers:
            t.start()

    @staticmethod
    def _read(stream, buf: bytearray) -> None:
        for chunk in iter(lambda: stream.read1(4096), b""):
            buf.extend(chunk)

    def wait_for(self, text: bytes, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while text not in self.out and text not in self.err:
            if self.proc.poll() is not None or time.monotonic() > end:
                self.finish(timeout=5)
                pytest.fail(f"{self.stem.name}: never printed {text!r} (exit {self.proc.returncode})\n"
                            f"{bytes(self.err[-2000:]).decode(errors='replace')}", pytrace=False)
            time.sleep(0.05)

    def finish(self, stdin: bytes = b"", timeout: float = 120) -> int:
        try:
            if stdin:
                self.proc.stdin.write(stdin)
            self.proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass
        rc = self.proc.wait(timeout=timeout)
        for t in self.readers:
            t.join(timeout=10)
        self.stem.with_suffix(".stdout").write_bytes(bytes(self.out))
        self.stem.with_suffix(".stderr").write_bytes(bytes(self.err))
        return rc

    def text(self) -> str:
        return (bytes(self.out) + bytes(self.err)).decode(errors="replace")


def terraform_bg(ws, name: str, *args: str, trace: bool = True) -> Background:
    env = dict(ws.env)
    if trace:
        env["TF_LOG"] = "trace"
        env["TF_LOG_PATH"] = str(ws.artifacts / f"{ws.seq + 1:02d}-{name}.tflog")
    else:
        env.pop("TF_LOG", None)
        env.pop("TF_LOG_PATH", None)
    return Background(ws, name, tfh.terraform_command() + list(args), env)


def scrub_bg(ws, name: str, endpoint: str, prefix: str, backup: str | None = None) -> Background:
    argv = [str(SCRUBBER), "scrub", "terraform.tfstate", "--write", "--prefix", prefix]
    if backup is not None:
        argv += ["--backup", backup]
    argv += ["--endpoint", endpoint, "--region", REGION]
    return Background(ws, name, argv, dict(ws.env))


def applied_state(ws, canary: str, prefix: str):
    """Apply CONFIG with a canary (labelled `canary`) in it; returns the canary, scrub's prefix
    (`prefix` under the workspace's), the state's and the lock info's paths, and the applied
    state's bytes (which hold the canary in plaintext)."""
    token = ws.canary(canary)
    ws.set_var("api_token", token)
    prefix = f"{ws.prefix}/{prefix}"
    state = ws.dir / "terraform.tfstate"
    info = ws.dir / LOCK_INFO
    ws.write(CONFIG)
    ws.init()
    ws.apply()
    applied = state.read_bytes()
    assert token.reveal().encode() in applied, "the test needs a plaintext value in the state"
    return token, prefix, state, info, applied


def held_at_first_create_secret():
    """A FaultProxy hook that holds scrub's first CreateSecret answer: (reached, release, hook);
    `reached` is set when it is held, which lasts until `release` is set (60 s at most)."""
    reached, release = threading.Event(), threading.Event()

    def hold(op: str) -> bool:
        if op == "CreateSecret" and not reached.is_set():
            reached.set()
            release.wait(60)
        return False

    return reached, release, hold


def plan_waiting_for_the_lock(ws) -> Background:
    """A `terraform plan -lock-timeout=120s` in the background, once its trace log shows it has
    tried the lock."""
    waiter = terraform_bg(ws, "plan-waiting", "plan", "-no-color", "-input=false", "-lock-timeout=120s")
    log = ws.artifacts / f"{ws.seq:02d}-plan-waiting.tflog"
    end = time.monotonic() + 60
    while not (log.exists() and "locking" in log.read_text(errors="replace")):
        assert time.monotonic() < end, "the waiting plan never tried the lock"
        time.sleep(0.05)
    return waiter


def assert_the_waiting_plan_found_no_state(ws, waiter: Background, state, info, scrubbed: bytes) -> None:
    """The waiting plan got the lock and failed on the replaced file, writing nothing, and left no
    lock info; a plan run afterwards reads the scrubbed state. Then every artifact is swept."""
    rc = waiter.finish(timeout=120)
    text = waiter.text()
    assert rc == 1, f"the waiting plan read the replaced file (exit {rc}):\n{canaries.redact(text, ws.canaries)}"
    assert "Unsupported state file format" in text, canaries.redact(text, ws.canaries)
    assert state.read_bytes() == scrubbed, "the waiting plan wrote nothing"
    assert not info.exists(), "no lock info left behind"

    # Run again, Terraform reads the scrubbed state.
    plan = ws.tf("plan", "-input=false")
    assert "terraform_data.app" in plan.stdout
    assert state.read_bytes() == scrubbed
    ws.sweep()


def test_scrub_and_terraform_respect_each_others_lock(pipe_ws, sm):
    ws = pipe_ws
    token, prefix, state, info, applied = applied_state(ws, "lock", "locked")

    # 1. An apply waiting at its prompt holds the lock: scrub stops before storing anything. (The
    # change to confirm is a new resource: replacing terraform_data.app would have Terraform
    # print its old `output`, the plaintext this whole tool is about, in the plan.)
    ws.write('resource "terraform_data" "extra" {\n  input = "not secret"\n}\n', "extra.tf")
    # No trace log for this one: Terraform's own debug lines print a dynamic value it reads from
    # a plaintext state (UpgradeResourceState), one more copy of what scrub exists to remove.
    apply = terraform_bg(ws, "apply-at-prompt", "apply", "-no-color", trace=False)
    apply.wait_for(b"Enter a value:")
    assert info.is_file(), "Terraform wrote its lock info"
    held = scrub_bg(ws, "scrub-while-apply", ws.endpoint, prefix)
    rc = held.finish(timeout=60)
    err = bytes(held.err).decode(errors="replace")
    assert rc == 2, f"scrub exit {rc}: {canaries.redact(err, ws.canaries)}"
    assert "is locked by another process" in err and "OperationTypeApply" in err, canaries.redact(err, ws.canaries)
    assert "nothing was stored or written" in err
    assert not held.out, "nothing on stdout"
    assert state.read_bytes() == applied, "the state is untouched"
    assert secret_names(sm, prefix) == [], "nothing stored while Terraform held the lock"
    apply.finish(stdin=b"no\n")
    assert "Apply cancelled" in apply.text()
    assert not info.exists(), "Terraform let go of its lock"
    assert state.read_bytes() == applied
    ws.remove("extra.tf")

    # 2. scrub holds the lock, stopped at its first CreateSecret answer.
    reached, release, hold = held_at_first_create_secret()
    proxy = FaultProxy(ws.endpoint, rate=0.0, log_path=ws.artifacts / "proxy.log", after_upstream=hold).start()
    try:
        scrub = scrub_bg(ws, "scrub-holding-lock", proxy.url, prefix)
        assert reached.wait(60), "scrub never reached CreateSecret"
        mine = json.loads(info.read_text())
        assert mine["Operation"] == "state-scrubber scrub" and mine["ID"], mine

        refused = ws.tf("plan", "-input=false", "-lock-timeout=0s", expect=1)
        assert "Error acquiring the state lock" in refused.stderr, refused.stderr
        assert "state-scrubber scrub" in refused.stderr and mine["ID"] in refused.stderr, refused.stderr

        # A plan that waits for the lock: it has opened the old file and retries its lock on it.
        waiter = plan_waiting_for_the_lock(ws)
        time.sleep(0.5)  # a retry or two on the held lock

        release.set()
        rc = scrub.finish(timeout=120)
        assert rc == 0, f"scrub exit {rc}: {canaries.redact(scrub.text(), ws.canaries)}"
    finally:
        release.set()
        proxy.stop()
    scrubbed = state.read_bytes()
    assert scrubbed != applied and token.reveal().encode() not in scrubbed
    assert len(secret_names(sm, prefix)) >= 1
    assert_the_waiting_plan_found_no_state(ws, waiter, state, info, scrubbed)


def test_a_scrub_killed_after_its_rename_leaves_the_waiting_plan_no_state(pipe_ws, sm):
    """A plan waiting with -lock-timeout gets the lock as soon as scrub dies, however it dies.
    Scrub is stopped after its rename (its `--backup` is a FIFO no one reads, so it waits
    opening it) and SIGKILLed: no destructor runs. The old file must already hold no state by
    then. Before the fix it was overwritten only when the lock was dropped at the end of a
    normal run, so the waiting plan read the plaintext state from it (an apply would have
    written into a file no path names)."""
    import os
    import stat
    import tempfile

    ws = pipe_ws
    token, prefix, state, info, _ = applied_state(ws, "killed", "killed")
    old_ino = state.stat().st_ino

    reached, release, hold = held_at_first_create_secret()

    with tempfile.TemporaryDirectory(prefix="scrub-lock-fifo-") as fifo_dir:
        fifo = os.path.join(fifo_dir, "backup")
        os.mkfifo(fifo, 0o600)
        proxy = FaultProxy(ws.endpoint, rate=0.0, log_path=ws.artifacts / "proxy.log", after_upstream=hold).start()
        try:
            scrub = scrub_bg(ws, "scrub-killed", proxy.url, prefix, backup=fifo)
            assert reached.wait(60), "scrub never reached CreateSecret"
            waiter = plan_waiting_for_the_lock(ws)
            release.set()
            end = time.monotonic() + 60
            while state.stat().st_ino == old_ino:
                assert scrub.proc.poll() is None, "scrub ended before its rename"
                assert time.monotonic() < end, "scrub never renamed"
                time.sleep(0.02)
            time.sleep(0.3)
            assert scrub.proc.poll() is None, "scrub waits on its --backup FIFO"
            assert stat.S_ISFIFO(os.stat(fifo).st_mode)
            scrub.proc.kill()
            scrub.finish(timeout=30)
        finally:
            release.set()
            proxy.stop()
    scrubbed = state.read_bytes()
    assert token.reveal().encode() not in scrubbed
    # The killed scrub's lock info was left; the waiting plan takes it over and removes it.
    assert_the_waiting_plan_found_no_state(ws, waiter, state, info, scrubbed)


@pytest.mark.parametrize("sig,code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_scrub_stopped_by_a_signal_leaves_the_old_state_and_the_lock_free(pipe_ws, sm, sig, code):
    """Ctrl-C (or a SIGTERM from CI) during `scrub --write`: scrub, held at its first
    CreateSecret answer, stops there, ending by the signal (130/143 in a shell); the state
    is byte for byte the applied one; scrub's lock info is gone; it says which secret's call was cut short (by name); Terraform
    then takes the lock at once (a plan with -lock-timeout=0s), and a second scrub finishes,
    finding that value already stored. Before, the signal killed scrub where it stood, leaving
    its lock info behind."""
    import signal as signals

    ws = pipe_ws
    token, prefix, state, info, applied = applied_state(ws, f"signal-{code}", f"signal{code}")

    reached, release, hold = held_at_first_create_secret()
    proxy = FaultProxy(ws.endpoint, rate=0.0, log_path=ws.artifacts / "proxy.log", after_upstream=hold).start()
    try:
        scrub = scrub_bg(ws, f"scrub-{sig}", proxy.url, prefix)
        assert reached.wait(60), "scrub never reached CreateSecret"
        mine = json.loads(info.read_text())
        assert mine["Operation"] == "state-scrubber scrub", mine
        scrub.proc.send_signal(getattr(signals, sig))
        rc = scrub.finish(timeout=60)
    finally:
        release.set()
        proxy.stop()
    err = bytes(scrub.err).decode(errors="replace")
    # Ended by the signal itself (a shell shows 128 + its number), so that a script running scrub
    # stops with it: bash goes on after a command that exited 130.
    assert rc == -(code - 128), f"scrub exit {rc}: {canaries.redact(err, ws.canaries)}"
    assert f"stopped by {sig} before the state was written" in err, canaries.redact(err, ws.canaries)
    assert "was cut short" in err and prefix + "/" in err, canaries.redact(err, ws.canaries)
    assert state.read_bytes() == applied, "the old state, byte for byte"
    assert not info.exists(), "scrub's lock info is gone"

    # Terraform takes the lock at once (no waiting), and leaves no lock info after a plan. No
    # trace log: this plan reads the plaintext state (see test 1's apply).
    plan = terraform_bg(ws, f"plan-after-{sig}", "plan", "-no-color", "-input=false", "-lock-timeout=0s",
                        trace=False)
    rc = plan.finish(timeout=120)
    assert rc == 0, canaries.redact(plan.text(), ws.canaries)
    assert "Error acquiring the state lock" not in plan.text()
    assert state.read_bytes() == applied, "a plan writes nothing"
    assert not info.exists()

    # A second scrub takes the lock too, and finds the value whose call was cut short.
    again = scrub_bg(ws, f"scrub-after-{sig}", ws.endpoint, prefix)
    rc = again.finish(timeout=120)
    assert rc == 0, f"scrub exit {rc}: {canaries.redact(again.text(), ws.canaries)}"
    assert "already there" in bytes(again.out).decode(errors="replace")
    scrubbed = state.read_bytes()
    assert token.reveal().encode() not in scrubbed
    assert not info.exists()
    ws.sweep()
