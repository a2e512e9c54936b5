"""Shared pieces of the reliability tests (issue 6): sizes, figures, provider processes, checks.

Sizes: reduced by default (what `make test` runs in CI, bounded in time), full with
OFFSTATE_RELIABILITY=full (`make reliability`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness import canary as canaries
from harness import terraform as tfh

FULL = os.environ.get("OFFSTATE_RELIABILITY", "").lower() == "full"
SEED = int(os.environ.get("OFFSTATE_RELIABILITY_SEED", "6"))

# Every figure a test reports: printed in the terminal summary (conftest.py here) and returned.
FIGURES: list[tuple[str, dict]] = []


def report(title: str, figures: dict) -> None:
    FIGURES.append((title, figures))
    print(f"\n[{title}] " + json.dumps(figures, sort_keys=True))


# ----------------------------------------------------------------------------------------------
# configuration


def many_secrets_config(endpoint: str, prefix: str, names: list[str] | int, *, trigger: str = "1") -> str:
    """`offstate_secret.s` for each name (for_each); each value is "<canary>-<key>" from the
    ephemeral variable `secret`, so every secret has its own value and a mix-up is visible."""
    keys = [str(i) for i in range(names)] if isinstance(names, int) else names
    return (
        'terraform {\n  required_providers {\n    offstate = { source = "offstate/offstate" }\n  }\n}\n'
        f'provider "offstate" {{\n  region   = "us-east-1"\n  endpoint = "{endpoint}"\n}}\n'
        'variable "secret" {\n  type      = string\n  sensitive = true\n  ephemeral = true\n}\n'
        f"locals {{\n  keys = {json.dumps(keys)}\n}}\n"
        'resource "offstate_secret" "s" {\n'
        "  for_each                = toset(local.keys)\n"
        f'  name                    = "{prefix}/${{each.key}}"\n'
        '  value_wo                = "${var.secret}-${each.key}"\n'
        f'  value_wo_version        = "{trigger}"\n'
        "  recovery_window_in_days = 0\n"
        "}\n"
    )


# ----------------------------------------------------------------------------------------------
# terraform in the background (the crash test kills the provider while apply runs)


class Running:
    def __init__(self, ws, proc: subprocess.Popen, stem: Path, argv: list[str], started: float):
        self.ws, self.proc, self.stem, self.argv, self.started = ws, proc, stem, argv, started

    def wait(self, timeout: float) -> tfh.Result:
        try:
            out, err = self.proc.communicate(timeout=timeout)
            rc = self.proc.returncode
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            rc, err = -9, (err or b"") + f"\n[timed out after {timeout}s]\n".encode()
        self.stem.with_suffix(".stdout").write_bytes(out)
        self.stem.with_suffix(".stderr").write_bytes(err)
        self.stem.with_suffix(".cmd").write_text(f"terraform {' '.join(self.argv)}\nexit {rc}\n")
        return tfh.Result(self.argv, rc, out.decode(errors="replace"), err.decode(errors="replace"), self.stem)


def start_tf(ws, *args: str) -> Running:
    """Like Workspace.tf, without waiting: same artifacts (NN-sub.stdout/.stderr/.tflog/...)."""
    argv = list(args)
    if argv and argv[0] in ("apply", "plan", "destroy") and "-no-color" not in argv:
        argv.insert(1, "-no-color")
    ws.seq += 1
    sub = "-".join(a for a in argv[:2] if not a.startswith("-")) or "terraform"
    stem = ws.artifacts / f"{ws.seq:02d}-{re.sub(r'[^A-Za-z0-9_.-]', '_', sub)}"
    env = dict(ws.env)
    env["TF_LOG_PATH"] = str(stem.with_suffix(".tflog"))
    env["OFFSTATE_PROVIDER_STDERR"] = str(stem.with_suffix(".provider.stderr"))
    proc = subprocess.Popen(
        tfh.terraform_command() + argv,
        cwd=ws.dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    return Running(ws, proc, stem, argv, time.monotonic())


# ----------------------------------------------------------------------------------------------
# provider processes, found through /proc by their executable


def provider_pids(binary: Path) -> list[int]:
    real = os.path.realpath(binary)
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{d}/exe") == real:
                out.append(int(d))
        except OSError:
            continue
    return out


def descendants(root: int) -> set[int]:
    """Pids below `root` (by PPid), so a test only ever touches the processes it started."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = set(), [root]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


class ProcSampler:
    """Samples every provider process below `root` every `interval` s: peak RSS (VmHWM, the kernel's
    own high-water mark) and CPU time (utime+stime) as last seen before it exited."""

    def __init__(self, binary: Path, root: int, interval: float = 0.05):
        self.binary, self.root, self.interval = binary, root, interval
        self.procs: dict[int, dict] = {}
        self._stop = threading.Event()
        self._tick = os.sysconf("SC_CLK_TCK")
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            mine = descendants(self.root)
            for pid in provider_pids(self.binary):
                if pid not in mine:
                    continue
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                hwm = re.search(r"VmHWM:\s+(\d+)", status)
                threads = re.search(r"Threads:\s+(\d+)", status)
                if hwm is None or threads is None:
                    # Exited between the listing and the read: a zombie's status has no memory
                    # lines. Its figures are the ones sampled while it ran.
                    continue
                hwm, threads = int(hwm.group(1)), int(threads.group(1))
                cpu = (int(stat[11]) + int(stat[12])) / self._tick
                p = self.procs.setdefault(pid, {"hwm_kib": 0, "cpu_s": 0.0, "threads": 0})
                p["hwm_kib"] = max(p["hwm_kib"], hwm)
                p["cpu_s"] = max(p["cpu_s"], cpu)
                p["threads"] = max(p["threads"], threads)
            self._stop.wait(self.interval)

    def start(self) -> "ProcSampler":
        self.thread.start()
        return self

    def stop(self) -> dict:
        self._stop.set()
        self.thread.join()
        if not self.procs:
            return {"provider_processes": 0}
        return {
            "provider_processes": len(self.procs),
            "peak_rss_mib": round(max(p["hwm_kib"] for p in self.procs.values()) / 1024, 1),
            "cpu_s_total": round(sum(p["cpu_s"] for p in self.procs.values()), 2),
            "cpu_s_max_process": round(max(p["cpu_s"] for p in self.procs.values()), 2),
            "max_threads": max(p["threads"] for p in self.procs.values()),
        }


# ----------------------------------------------------------------------------------------------
# checks against moto directly (boto3, no proxy)


def list_by_prefix(sm, prefix: str) -> list[dict]:
    """Every secret whose name starts with prefix, including ones scheduled for deletion."""
    out, token = [], None
    while True:
        kw = {"IncludePlannedDeletion": True, "MaxResults": 100, "Filters": [{"Key": "name", "Values": [prefix]}]}
        if token:
            kw["NextToken"] = token
        page = sm.list_secrets(**kw)
        out += [s for s in page["SecretList"] if s["Name"].startswith(prefix)]
        token = page.get("NextToken")
        if not token:
            return out


def check_secrets(sm, prefix: str, keys: list[str], value: canaries.Canary) -> dict:
    """Exactly these secrets under prefix (no duplicate, no orphan, none lost), each holding
    "<canary>-<key>" as AWSCURRENT, with exactly one AWSCURRENT. Returns counts."""
    import hmac

    found = list_by_prefix(sm, prefix)
    names = [s["Name"] for s in found]
    want = {f"{prefix}/{k}" for k in keys}
    dupes = sorted({n for n in names if names.count(n) > 1})
    assert not dupes, f"duplicate secrets: {dupes}"
    missing, extra = sorted(want - set(names)), sorted(set(names) - want)
    assert not missing, f"{len(missing)} secret(s) lost: {missing[:10]}"
    assert not extra, f"{len(extra)} orphan secret(s): {extra[:10]}"
    scheduled = [s["Name"] for s in found if s.get("DeletedDate")]
    assert not scheduled, f"secrets scheduled for deletion: {scheduled[:10]}"
    wrong = []
    versions = 0
    for k in keys:
        name = f"{prefix}/{k}"
        got = sm.get_secret_value(SecretId=name)["SecretString"]
        if not hmac.compare_digest(got.encode(), f"{value.reveal()}-{k}".encode()):
            wrong.append(name)
        vs = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
        versions += len(vs)
        cur = [v for v in vs if "AWSCURRENT" in v.get("VersionStages", [])]
        assert len(cur) == 1, f"{name}: {len(cur)} versions carry AWSCURRENT"
    assert not wrong, f"{len(wrong)} secret(s) do not hold the intended value (values not shown): {wrong[:10]}"
    return {"secrets": len(names), "versions": versions}


def check_state(ws, keys: list[str] | None) -> None:
    """terraform.tfstate is valid JSON and (unless keys is None) holds exactly these instances;
    no value in it."""
    p = ws.dir / "terraform.tfstate"
    text = p.read_text()
    try:
        state = json.loads(text)
    except ValueError as e:
        pytest.fail(f"terraform.tfstate is not valid JSON: {e}", pytrace=False)
    insts = [
        i["index_key"]
        for r in state.get("resources", [])
        if r.get("type") == "offstate_secret"
        for i in r.get("instances", [])
    ]
    assert keys is None or sorted(insts) == sorted(keys), f"state instances {sorted(insts)[:10]}... != configured keys"
    for r in state.get("resources", []):
        for i in r.get("instances", []):
            assert i["attributes"].get("value_wo") is None


def clear_diagnostic(res: tfh.Result) -> str | None:
    """None when a failed apply's output is a clear diagnostic (Terraform's "Error:" naming Secrets
    Manager and an error code); else why not."""
    text = res.stdout + res.stderr
    if "Error:" not in text:
        return "no 'Error:' diagnostic in the output"
    if "panic" in text.lower():
        return "a panic is mentioned"
    if not re.search(r"Secrets Manager|plugin|provider", text):
        return "the diagnostic names neither Secrets Manager nor the provider"
    return None


def error_summaries(res: tfh.Result) -> list[str]:
    """The distinct 'Error: ...' headlines and AWS error codes of a run (safe to print: the
    provider's diagnostics never hold a value, and the sweep proves it)."""
    text = res.stdout + res.stderr
    heads = re.findall(r"Error: ([^\n]+)", text)
    codes = re.findall(r"failed: ([A-Za-z]+(?:Exception|Error|Failure)?):", text)
    return sorted(set(heads) | {f"code {c}" for c in codes})
