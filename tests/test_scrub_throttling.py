"""`scrub --write` and `restore --write` get through a Secrets Manager that throttles a large share
of calls (a busy account: the request rates are per account and Region, shared by every caller).

The FaultProxy (harness/faults.py) answers 60 % of requests with AWS's ThrottlingException (HTTP 400
JSON 1.1). Each call gets the SDK's 5 attempts, so about one call in 13 (0.6^5) was throttled
through all of them, and a scrub of 30 values (well over a hundred calls) failed on the first with
`ThrottlingException: Rate exceeded`, every run. Now state-scrubber makes such a call again (after
a backoff, with fewer calls in flight: scrub/pace.rs), a bounded number of times.

Asserted: scrub exits 0; every value is in moto (read directly, not through the proxy) under the
version its reference pins; the proxy did throttle and the SDK did retry; restore through the same
proxy gives every value back. Not timed. Swept for canaries: every artifact and the working
directory (the state written by `restore --write` to stdout is kept in memory, never written).
"""

from __future__ import annotations

import hmac
import json
import os
import subprocess

import pytest

from harness import canary as canaries
from harness.endpoint import REGION
from harness.faults import FaultProxy
from test_scrub_pipeline import SCRUBBER, parse_ref, pipe_ws, secret_names  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e]

VALUES = 30
RATE = 0.6


def state(values: list[canaries.Canary]) -> dict:
    return {
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 3,
        "lineage": "7d3c1f0e-2a4b-4c5d-8e6f-0a1b2c3d4e5f",
        "outputs": {},
        "resources": [{
            "mode": "managed", "type": "terraform_data", "name": f"app{i}",
            "provider": 'provider["terraform.io/builtin/terraform"]',
            "instances": [{
                "schema_version": 0,
                "attributes": {"id": f"id{i}", "input": {"value": v.reveal(), "type": "string"},
                               "output": None, "triggers_replace": None},
                "sensitive_attributes": [[{"type": "get_attr", "value": "input"}]],
            }],
        } for i, v in enumerate(values)],
        "check_results": None,
    }


def run(ws, name: str, *args: str) -> tuple[int, str]:
    ws.seq += 1
    stem = ws.artifacts / f"{ws.seq:02d}-{name}"
    p = subprocess.run([str(SCRUBBER), *args], cwd=ws.dir, env=dict(ws.env), capture_output=True, timeout=900)
    stem.with_suffix(".stdout").write_bytes(p.stdout)
    stem.with_suffix(".stderr").write_bytes(p.stderr)
    return p.returncode, p.stderr.decode(errors="replace")


def test_scrub_and_restore_get_through_heavy_throttling(pipe_ws, sm):
    ws = pipe_ws
    values = [ws.canary(f"t{i}") for i in range(VALUES)]
    path = ws.dir / "terraform.tfstate"
    original = state(values)
    path.write_text(json.dumps(original, indent=2))
    os.chmod(path, 0o600)

    proxy = FaultProxy(ws.endpoint, rate=RATE, seed=7, kinds=("throttle400",),
                       log_path=ws.artifacts / "proxy.log").start()
    try:
        store = ["--endpoint", proxy.url, "--region", REGION, "--prefix", ws.prefix]
        rc, err = run(ws, "scrub", "scrub", "terraform.tfstate", "--write", *store)
        assert rc == 0, canaries.redact(f"scrub exit {rc}:\n{err}", ws.canaries)
        figures = proxy.figures()
        assert figures["faults"].get("throttle400", 0) >= VALUES, figures
        assert figures["retries_seen"] > 0, figures

        scrubbed = json.loads(path.read_text())
        assert not any(v.reveal() in path.read_text() for v in values), "plaintext left in the state"
        names = set()
        for i, v in enumerate(values):
            ref = scrubbed["resources"][i]["instances"][0]["attributes"]["input"]["value"]
            name, version = parse_ref(ref)
            assert version, f"value {i}: the reference pins no version"
            got = sm.get_secret_value(SecretId=name, VersionId=version)["SecretString"]
            assert hmac.compare_digest(got.encode(), v.reveal().encode()), f"value {i}: not the original (not shown)"
            names.add(name)
        assert len(names) == VALUES
        assert names <= set(secret_names(sm, ws.prefix))

        p = subprocess.run([str(SCRUBBER), "restore", "-", "--write", *store], input=path.read_bytes(),
                           cwd=ws.dir, env=dict(ws.env), capture_output=True, timeout=900)
        ws.seq += 1
        (ws.artifacts / f"{ws.seq:02d}-restore.stderr").write_bytes(p.stderr)
        err = p.stderr.decode(errors="replace")
        assert p.returncode == 0, canaries.redact(f"restore exit {p.returncode}:\n{err}", ws.canaries)
        restored = json.loads(p.stdout)
        for i, v in enumerate(values):
            got = restored["resources"][i]["instances"][0]["attributes"]["input"]["value"]
            assert isinstance(got, str) and hmac.compare_digest(got.encode(), v.reveal().encode()), (
                f"restore: value {i} is not the original (not shown)")
    finally:
        proxy.stop()

    findings, searched = canaries.search_paths([ws.artifacts, ws.dir], ws.canaries)
    assert searched, "nothing swept"
    assert not findings, "canary found (values not shown):\n" + "\n".join(f"  {f}" for f in findings)
