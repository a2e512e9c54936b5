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
