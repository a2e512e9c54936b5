"""`make demo`, the first of README's two commands, run as a new user runs it: tools/demo.sh
against the built binaries, its stdout a file (not a terminal), as in a CI log.

The demo checks itself (the password in Secrets Manager, in no state, plan or `show -json`; each
state-scrubber step's exit code) and exits 1 when a check fails. Its password is made inside the
demo and never printed, so there is nothing here to search for: the demo's own `ok`/`LEAK`
lines are read instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness import terraform as tfh

pytestmark = [pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[1]


def test_make_demo_runs_clean_and_plain_in_a_log():
    scrubber = REPO / "target" / "release" / "state-scrubber"
    tfh.require(scrubber.is_file(), f"{scrubber} is not built (make build)")
    tfh.require(Path(tfh.provider_binary()).is_file(), "the provider is not built (make build)")
    tfh.require(shutil.which("moto_server") is not None, "moto_server is not on PATH")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(PYTHON=sys.executable, OFFSTATE_PROVIDER_BIN=str(tfh.provider_binary()), TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    # Its own process group, killed whole on a timeout or an interrupt: killing bash alone (as
    # subprocess.run's timeout does) skips the demo's trap and left moto_server running.
    proc = subprocess.Popen(["bash", str(REPO / "tools" / "demo.sh")], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        else:
            # Anything the demo left behind in its group (it stops moto_server itself).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    res = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    assert out.count(", as expected") == 4, out[-4000:]
    assert "LEAK" not in out and "FAIL" not in out, out[-4000:]
    assert "ok  password occurrences in terraform.tfstate: 0" in out, out[-4000:]
    # Not a terminal: no escape codes in the log (the step titles were always bold).
    assert "\x1b" not in res.stdout, [line for line in res.stdout.splitlines() if "\x1b" in line][:3]


def test_a_second_demo_in_the_same_directory_waits_its_turn(tmp_path):
    """Two demos at once in one checkout (`make demo` in two terminals, or beside the e2e suite's
    demo test): the second removed the first one's directory, terraform working directory and moto
    log included, and the first failed halfway. Now the second stops at once, naming the running
    one, and touches nothing of it."""
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "moto.log").write_text("the running demo's log\n")
    lock = tmp_path / "demo.lock"
    lock.mkdir()
    (lock / "pid").write_text(f"{os.getpid()}\n")  # a live owner: this test
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    # Binaries that exist (the demo checks them before anything else); the lock comes first.
    env.update(OFFSTATE_DEMO_DIR=str(demo), OFFSTATE_PROVIDER_BIN="/bin/true", PYTHON=sys.executable)
    scrubber = REPO / "target" / "release" / "state-scrubber"
    tfh.require(scrubber.is_file(), f"{scrubber} is not built (make build)")
    res = subprocess.run(["bash", str(REPO / "tools" / "demo.sh")], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, start_new_session=True)
    assert res.returncode == 1, res.stdout[-2000:] + res.stderr[-2000:]
    assert f"another demo (pid {os.getpid()}) is running in this checkout ({demo})" in res.stderr, res.stderr
    assert (demo / "moto.log").read_text() == "the running demo's log\n"
    assert (lock / "pid").read_text() == f"{os.getpid()}\n"
    assert "moto_server" not in res.stdout

    # Its owner gone (a demo killed with SIGKILL), the lock is taken over: stale, not a block.
    dead = subprocess.Popen(["true"])
    dead.wait()
    (lock / "pid").write_text(f"{dead.pid}\n")
    # An interpreter that does not exist: the demo stops at its first use, just after the lock,
    # and its trap removes the lock it took over.
    env["PYTHON"] = str(tmp_path / "no-python")
    res = subprocess.run(["bash", str(REPO / "tools" / "demo.sh")], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, start_new_session=True)
    assert res.returncode != 0 and "another demo" not in res.stderr, res.stderr
    assert not (demo / "moto.log").exists()  # past the lock: its directory made anew
    assert not lock.exists()
