"""Issue 7: `state-scrubber audit` over an organisation's states, end to end.

- S3 (moto_server on a free loopback port, started here): a versioned bucket with 2,000 state
  objects of three versions each. 50 objects had a password only in their first version (since
  migrated to write-only), 20 still have one in the current version. Without `--all-versions` only
  the 20 are found; with it the 50 old versions are found too, named `s3://bucket/key?versionId=V`.
  Objects the directory walk would skip (`.terraform/providers/...`, `.git/...`, `main.tf`) are
  not read. The progress line shows on a terminal, and not with `--quiet` or with `CI` set.
- A directory of 3,000 states (30 with a secret, and skipped directories with secrets in them).
- `--format html` rendered in headless Chromium: a screenshot that is not blank; no canary (plain,
  JSON-escaped, base64, hex, digests) in the HTML or in any other output.

Every planted secret is a canary; every output of every run is searched for all of them. In CI a
missing moto_server or chromium fails these tests instead of skipping them.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import struct
import subprocess
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness import canary as canaries
from harness import endpoint as ep
from harness import terraform as tfh

SCRUBBER = tfh.REPO / "target" / "release" / "state-scrubber"
BUCKET = "org-terraform-states"
N_OBJECTS = 2000
VERSIONS = 3
OLD_ONLY = {i for i in range(N_OBJECTS) if i % 40 == 3}  # 50: a secret in version 1 only
CURRENT = {i for i in range(N_OBJECTS) if i % 100 == 11}  # 20: a secret in every version

pytestmark = pytest.mark.harness


def require(ok: bool, reason: str) -> None:
    tfh.require(ok, reason)


def key(i: int) -> str:
    return f"org/team-{i % 25:02d}/svc-{i:04d}/terraform.tfstate"


def state(serial: int, password: str | None, extra: str = "") -> str:
    """A small v4 state: an RDS instance (password or none) and a bucket."""
    return json.dumps(
        {
            "version": 4,
            "terraform_version": "1.9.8",
            "serial": serial,
            "lineage": "3f0e2a9c-0000-4000-8000-000000000000",
            "outputs": {"endpoint": {"value": f"db-{extra}.example.internal:5432", "type": "string"}},
            "resources": [
                {
                    "mode": "managed",
                    "type": "aws_db_instance",
                    "name": "main",
                    "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                    "instances": [
                        {
                            "schema_version": 2,
                            "attributes": {
                                "id": f"db-{extra}",
                                "engine": "postgres",
                                "username": "app",
                                "password": password,
                                "password_wo": None,
                                "port": 5432,
                                "tags": {"team": extra},
                            },
                            "sensitive_attributes": [],
                        }
                    ],
                },
                {
                    "mode": "managed",
                    "type": "aws_s3_bucket",
                    "name": "logs",
                    "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                    "instances": [{"schema_version": 0, "attributes": {"id": f"logs-{extra}", "arn": f"arn:aws:s3:::logs-{extra}"}}],
                },
            ],
        },
        indent=2,
    )


def run(args: list[str], env: dict[str, str], stderr_tty: bool = False, timeout: float = 300) -> tuple[int, bytes, bytes]:
    """Run state-scrubber; stderr on a pseudo-terminal when asked. Returns (code, stdout, stderr)."""
    if not stderr_tty:
        p = subprocess.run([str(SCRUBBER), *args], env=env, capture_output=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen([str(SCRUBBER), *args], env=env, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    err = bytearray()
    out_box: list[bytes] = []
    t = threading.Thread(target=lambda: out_box.append(p.stdout.read()))
    t.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            err += chunk
        elif p.poll() is not None:
            break
    os.close(master)
    p.wait(timeout=max(1.0, deadline - time.monotonic()))
    t.join()
    return p.returncode, out_box[0] if out_box else b"", bytes(err)


def no_canary(outputs: dict[str, bytes], secrets: list[canaries.Canary]) -> None:
    found = []
    for name, data in outputs.items():
        found.extend(canaries.search_bytes(name, data, secrets))
    assert not found, f"secret values in the output: {[str(f) for f in found[:10]]}"


# ----------------------------------------------------------------------------------------------
# S3


@pytest.fixture(scope="module")
def s3_world(tmp_path_factory):
    require(SCRUBBER.is_file(), f"{SCRUBBER} not built (cargo build --release -p state-scrubber)")
    require(ep.moto_command() is not None, "moto_server not installed (pip install 'moto[server]')")
    d = tmp_path_factory.mktemp("org-audit-s3")
    server = ep.MotoServer(d / "moto.log")
    try:
        server.start()
    except RuntimeError as e:
        require(False, str(e))
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name=ep.REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=32, s3={"addressing_style": "path"}),
    )
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    secrets: dict[int, canaries.Canary] = {i: canaries.make_canary(f"s3-{i}") for i in OLD_ONLY | CURRENT}
    versions: dict[int, list[str]] = {}

    def put(i: int) -> None:
        vs = []
        for v in range(1, VERSIONS + 1):
            pw = None
            if i in CURRENT or (i in OLD_ONLY and v == 1):
                pw = secrets[i].reveal()
            r = s3.put_object(Bucket=BUCKET, Key=key(i), Body=state(v, pw, f"svc{i}").encode())
            vs.append(r["VersionId"])
        versions[i] = vs

    t0 = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(N_OBJECTS)))
    # Objects the walk filters would not read: must not be listed as states, secrets and all.
    hidden = canaries.make_canary("s3-hidden")
    for k in [
        "org/team-00/svc-x/.terraform/providers/registry.terraform.io/terraform.tfstate",
        "org/.git/terraform.tfstate",
        "org/team-00/svc-x/main.tf",
    ]:
        s3.put_object(Bucket=BUCKET, Key=k, Body=state(1, hidden.reveal(), "hidden").encode())
    setup_s = time.monotonic() - t0

    env = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("CI", "NO_COLOR")
    }
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": ep.REGION,
            "AWS_ENDPOINT_URL_S3": server.url,
            "AWS_CONFIG_FILE": str(d / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(d / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    world = {
        "server": server,
        "s3": s3,
        "env": env,
        "dir": d,
        "versions": versions,
        "secrets": list(secrets.values()) + [hidden],
        "setup_s": setup_s,
    }
    yield world
    server.stop()


def files_of(report: dict) -> list[str]:
    return [f["file"] for f in report["files"]]


def test_s3_current_versions_only_without_all_versions(s3_world):
    env = dict(s3_world["env"])
    t0 = time.monotonic()
    # On a terminal (a pty) outside CI: the progress line is shown on stderr.
    code, out, err = run([
        "audit", f"s3://{BUCKET}/org/", "--format", "json", "--concurrency", "16"
    ], env, stderr_tty=True)
    took = time.monotonic() - t0
    no_canary({"stdout": out, "stderr": err}, s3_world["secrets"])
    assert code == 1, err.decode(errors="replace")[-2000:]
    rep = json.loads(out)
    files = files_of(rep)
    assert len(files) == N_OBJECTS, (len(files), rep["errors"][:5])
    assert files == sorted(files), "listing order (keys ascending)"
    assert all("?versionId=" not in f for f in files)
    assert not any(".terraform" in f or ".git" in f or f.endswith("main.tf") for f in files)
    flagged = {f["file"] for f in rep["findings"]}
    assert flagged == {f"s3://{BUCKET}/{key(i)}" for i in CURRENT}
    assert rep["summary"]["states_with_findings"] == len(CURRENT)
    assert rep["summary"]["top_fixes"][0]["target"] == "aws_db_instance.password"
    assert rep["summary"]["top_fixes"][0]["findings"] == len(CURRENT)
    assert "password_wo" in rep["summary"]["top_fixes"][0]["to"]
    text = err.decode(errors="replace")
    assert "scanned " in text and "states/s" in text and "findings" in text, f"no progress line on a tty ({took:.1f} s): {text[-500:]!r}"
    print(f"S3 setup {s3_world['setup_s']:.1f} s; scan of {N_OBJECTS} current objects {took:.1f} s")


def test_s3_all_versions_finds_secrets_only_in_old_versions(s3_world):
    env = dict(s3_world["env"], CI="true")
    t0 = time.monotonic()
    code, out, err = run(["audit", f"s3://{BUCKET}/org/", "--all-versions", "--format", "json"], env)
    took = time.monotonic() - t0
    no_canary({"stdout": out, "stderr": err}, s3_world["secrets"])
    assert code == 1, err.decode(errors="replace")[-2000:]
    # CI is set: no progress noise, nothing on stderr at all.
    assert err == b"", err[-500:]
    rep = json.loads(out)
    files = files_of(rep)
    assert len(files) == N_OBJECTS * VERSIONS
    vs = s3_world["versions"]
    want = {f"s3://{BUCKET}/{key(i)}?versionId={vs[i][0]}" for i in OLD_ONLY}
    want |= {f"s3://{BUCKET}/{key(i)}?versionId={v}" for i in CURRENT for v in vs[i]}
    flagged = {f["file"] for f in rep["findings"]}
    assert flagged == want
    assert len(rep["findings"]) == len(OLD_ONLY) + VERSIONS * len(CURRENT)
    # Every version of every object was read, each once.
    assert set(files) == {f"s3://{BUCKET}/{key(i)}?versionId={v}" for i in range(N_OBJECTS) for v in vs[i]}
    assert rep["summary"]["states_scanned"] == N_OBJECTS * VERSIONS
    print(f"S3 --all-versions: {len(files)} versions in {took:.1f} s")


def test_s3_quiet_and_errors(s3_world):
    env = dict(s3_world["env"])
    # --quiet on a terminal: no progress line, no report; the exit status tells.
    code, out, err = run(["audit", f"s3://{BUCKET}/org/team-11/", "--quiet"], env, stderr_tty=True)
    assert code == 1 and out == b"" and b"scanned" not in err, err[-300:]
    # A bucket that does not exist: exit 2, the URL named; a prefix with nothing: a note.
    code, out, err = run(["audit", "s3://no-such-bucket-here/x/"], env)
    assert code == 2 and b"s3://no-such-bucket-here/x/" in err and b"NoSuchBucket" in err, err
    code, out, err = run(["audit", f"s3://{BUCKET}/nothing-here/"], env)
    assert code == 0 and b"no state" in err, err
    # --endpoint overrides the environment; a bad one is a usage error.
    env2 = {k: v for k, v in env.items() if k != "AWS_ENDPOINT_URL_S3"}
    code, out, err = run(["audit", f"s3://{BUCKET}/org/team-11/", "--endpoint", s3_world["server"].url, "--concurrency", "2"], env2)
    assert code == 1, err
    code, out, err = run(["audit", f"s3://{BUCKET}/org/", "--endpoint", "localhost:1"], env2)
    assert code == 2 and b"--endpoint" in err, err


def test_s3_overlapping_urls_scan_each_object_once(s3_world):
    """The same prefix named twice, or one inside another, listed every object again: each was
    scanned and reported twice (double counts, duplicate SARIF results)."""
    env = dict(s3_world["env"], CI="true")
    code, out, err = run(["audit", f"s3://{BUCKET}/org/team-11/", "--format", "json"], env)
    assert code == 1, err
    once = json.loads(out)
    code, out, err = run([
        "audit", f"s3://{BUCKET}/org/team-11/", f"s3://{BUCKET}/org/", f"s3://{BUCKET}/org/team-11/",
        "--format", "json",
    ], env)
    assert code == 1, err
    no_canary({"stdout": out, "stderr": err}, s3_world["secrets"])
    rep = json.loads(out)
    files = files_of(rep)
    assert len(files) == len(set(files)) == N_OBJECTS, (len(files), len(set(files)))
    assert set(files_of(once)) <= set(files)
    fps = [(f["file"], f["fingerprint"]) for f in rep["findings"]]
    assert len(fps) == len(set(fps)), "a finding reported twice"
    assert rep["summary"]["states_scanned"] == N_OBJECTS


# ----------------------------------------------------------------------------------------------
# A directory of thousands of states


def test_directory_of_thousands_of_states(tmp_path):
    require(SCRUBBER.is_file(), f"{SCRUBBER} not built (cargo build --release -p state-scrubber)")
    tmp_path.chmod(0o700)
    root = tmp_path / "states"
    n = 3000
    with_secret = set(range(5, n, 100))  # 30
    secrets = {i: canaries.make_canary(f"dir-{i}") for i in with_secret}
    for i in range(n):
        p = root / f"account-{i % 30:02d}" / f"stack-{i:04d}" / "terraform.tfstate"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(state(1, secrets[i].reveal() if i in secrets else None, f"s{i}"))
    hidden = canaries.make_canary("dir-hidden")
    for skipped in [".git/terraform.tfstate", "node_modules/x/terraform.tfstate", "a/.terraform/providers/terraform.tfstate"]:
        p = root / skipped
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(state(1, hidden.reveal(), "hidden"))
    env = {k: v for k, v in os.environ.items() if k not in ("CI",)}
    t0 = time.monotonic()
    code, out, err = run(["audit", str(root), "--format", "json", "--jobs", "4"], dict(env, CI="1"))
    took = time.monotonic() - t0
    allc = list(secrets.values()) + [hidden]
    no_canary({"stdout": out, "stderr": err}, allc)
    assert code == 1, err[-1000:]
    rep = json.loads(out)
    assert len(rep["files"]) == n and not rep["errors"]
    flagged = {Path(f["file"]).parent.name for f in rep["findings"]}
    assert flagged == {f"stack-{i:04d}" for i in with_secret}
    assert rep["summary"]["by_state"][0]["findings"] == 1
    # The text report ends with the summary people read.
    code, out, err = run(["audit", str(root), "--color", "never"], dict(env, CI="1"))
    no_canary({"stdout": out, "stderr": err}, allc)
    text = out.decode()
    assert code == 1
    assert "Summary\n  by severity:  30 high" in text, text[-1500:]
    assert "`aws_db_instance.password` → password_wo + password_wo_version  (in 30 states)" in text
    assert text.rstrip().endswith(f"30 findings (30 high) in {n} files scanned")
    print(f"directory of {n} states: {took:.2f} s")


# ----------------------------------------------------------------------------------------------
# HTML in a real browser


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "headless_shell"):
        p = shutil.which(name)
        if p:
            return p
    return None


def png_facts(data: bytes) -> tuple[int, int, int, float]:
    """(width, height, distinct byte values, share of non-zero bytes) of the filtered pixel data."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w, h = 8, bytearray(), 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            w, h = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(bytes(idat))
    nonzero = sum(1 for b in raw[:: max(1, len(raw) // 200000)] if b) / max(1, len(raw[:: max(1, len(raw) // 200000)]))
    return w, h, len(set(raw)), nonzero


def test_html_report_renders_in_chromium_without_values(s3_world, tmp_path):
    browser = chromium()
    require(browser is not None, "chromium not installed (apt-get install -y chromium)")
    tmp_path.chmod(0o700)
    env = dict(s3_world["env"], CI="true")
    # An attribute name with markup, to see that the page escapes what comes from a state.
    d = tmp_path / "local"
    d.mkdir()
    evil = canaries.make_canary("html-local")
    st = json.loads(state(1, evil.reveal(), "local"))
    st["outputs"]["<script>alert(1)</script>"] = {"value": evil.reveal(), "type": "string", "sensitive": True}
    (d / "terraform.tfstate").write_text(json.dumps(st, indent=2))
    code, out, err = run(["audit", str(d), f"s3://{BUCKET}/org/", "--all-versions", "--format", "html"], env)
    assert code == 1, err[-1000:]
    html_path = tmp_path / "report.html"
    html_path.write_bytes(out)
    no_canary({"report.html": out, "stderr": err}, s3_world["secrets"] + [evil])
    html = out.decode()
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html.lower(), "no script of ours, and state content escaped"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for external in ("http://", "https://", "src=", "@import", "url("):
        # The SVG namespace is the one URL allowed (it loads nothing).
        assert html.replace('xmlns="http://www.w3.org/2000/svg"', "").find(external) == -1, external
    assert "<svg" in html and "Findings per state" in html and "Top fixes" in html
    assert "aws_db_instance.password" in html and "password_wo" in html

    shot = tmp_path / "report.png"
    profile = tmp_path / "chromium-profile"
    cmd = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--hide-scrollbars", f"--user-data-dir={profile}", "--window-size=1400,1800",
        f"--screenshot={shot}", html_path.as_uri(),
    ]
    p = subprocess.run(cmd, capture_output=True, timeout=120)
    assert p.returncode == 0 and shot.is_file(), p.stderr.decode(errors="replace")[-2000:]
    data = shot.read_bytes()
    w, h, distinct, nonzero = png_facts(data)
    assert (w, h) == (1400, 1800), (w, h)
    assert len(data) > 40_000, f"screenshot is {len(data)} bytes: blank?"
    assert distinct > 64 and nonzero > 0.02, (distinct, nonzero)
    keep = os.environ.get("STATE_SCRUBBER_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
        shutil.copy(html_path, keep + ".html")
