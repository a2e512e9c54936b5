"""`terraform state pull | state-scrubber scrub - --write | terraform state push -`, end to end.

The pipeline of `state-scrubber scrub --help` run the way a shell user runs it: three processes
joined by real OS pipes (subprocess.Popen, stdout of one is the stdin of the next), the real
Terraform (tools/terraform) with the local backend, moto as Secrets Manager. The configuration
has only the builtin `terraform_data` (no provider to install), fed a sensitive variable set to
a canary, and a sensitive output of it: three plaintext copies in the state (`input.value`,
`output.value` mirroring it, and the root output).

What the pipeline mode of scrub promises, and what is asserted here:
- with `--write`: the rewritten state on stdout and nothing else (the report goes to stderr);
  `terraform state push -` accepts it: same lineage, serial as below, no plaintext left, nothing
  else changed, every reference resolves in moto to the original value, `audit` is clean, and
  `restore` gives back the original state (equal as JSON but for the serial). A second run finds
  nothing and passes the state through unchanged (same serial, no new secret versions).
- without `--write` (dry run): stdout stays empty, exit 0, the redacted diff on stderr; the full
  pipeline then ends in `terraform state push -` refusing the empty input, the state untouched.
- bad input (not JSON, truncated, empty, not a state, a state without lineage), and a store that
  cannot be reached: exit 2, one `error:` line on stderr, nothing on stdout, so a `push` behind it
  would get nothing. These are never pushed.

Serial: scrub emits the state with serial + 1 (its report says so, and push's trace log shows it
received that serial and lineage). Terraform's local backend then stores serial + 2: `state push`
imports the snapshot with its serial forced, then writes it once more through the ordinary path,
which bumps the serial because the snapshot differs from the one it read. The test asserts both.

Canary sweep. One file is set aside unswept, checked to be what it claims: the
`terraform.tfstate.backup` that `state push` leaves (the pre-scrub state, equal as JSON). The
output of `restore --write` necessarily holds the values: it is kept in memory, compared, never
written. Everything else is swept: every command's stdout, stderr and TF_LOG=trace log (init and
apply included), every state-scrubber output, the scrubbed state and its `terraform show -json`.
The pulled plaintext state only ever travels through the pipes.
"""

from __future__ import annotations

import copy
import hmac
import json
import re
import secrets
import shutil
import subprocess
import threading
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import canary as canaries
from harness import terraform as tfh
from harness.endpoint import REGION, free_port
from harness.terraform import require

pytestmark = [pytest.mark.e2e]

SCRUBBER = tfh.REPO / "target" / "release" / "state-scrubber"
REF = "ref+awssecrets://"

CONFIG = """\
variable "api_token" {
  type      = string
  sensitive = true
}

resource "terraform_data" "app" {
  input = var.api_token
}

output "api_token" {
  value     = terraform_data.app.output
  sensitive = true
}

output "plain" {
  value = "nothing secret here"
}
"""

# Where the three copies of the canary sit in the state, and what they become.
INPUT_PTR = ("resources", 0, "instances", 0, "attributes", "input", "value")
OUTPUT_PTR = ("resources", 0, "instances", 0, "attributes", "output", "value")
ROOT_OUTPUT_PTR = ("outputs", "api_token", "value")
SECRET_PTRS = (INPUT_PTR, OUTPUT_PTR, ROOT_OUTPUT_PTR)


# ----------------------------------------------------------------------------------------------
# fixture: a workspace with no provider (terraform_data is builtin), moto cleaned up afterwards


@pytest.fixture
def pipe_ws(request, tmp_path, session_dir, terraform_version, moto, sm):
    """A private Terraform directory with an empty CLI config (nothing to install). Not swept by
    the fixture: the test sweeps itself, with the exclusions in the module doc."""
    require(SCRUBBER.is_file(), f"{SCRUBBER} not built (cargo build --release -p state-scrubber)")
    tmp_path.chmod(0o700)
    rc = session_dir / "scrub-pipeline-terraformrc"
    rc.write_text("")
    home = session_dir / "home"
    home.mkdir(exist_ok=True)
    label = re.sub(r"[^A-Za-z0-9_.-]", "-", request.node.name)[:60]
    w = tfh.Workspace(tmp_path, tfh.base_env(rc, home), moto.url, label)
    w.prefix = f"offstate-e2e/{label}-{secrets.token_hex(3)}"
    yield w
    w.close()
    # moto is shared by the session: delete what this test stored, and check it is gone.
    for page in sm.get_paginator("list_secrets").paginate(Filters=[{"Key": "name", "Values": [w.prefix]}]):
        for s in page["SecretList"]:
            sm.delete_secret(SecretId=s["ARN"], ForceDeleteWithoutRecovery=True)
    assert not secret_names(sm, w.prefix), "secrets of this test left in moto"


def secret_names(sm, prefix: str) -> list[str]:
    out = []
    for page in sm.get_paginator("list_secrets").paginate(Filters=[{"Key": "name", "Values": [prefix]}]):
        out += [s["Name"] for s in page["SecretList"] if s["Name"].startswith(prefix + "/")]
    return sorted(out)


# ----------------------------------------------------------------------------------------------
# real OS pipelines


@dataclass
class Stage:
    argv: list[str]  # as shown: "terraform state pull", "state-scrubber scrub - ..."
    rc: int
    stderr: bytes
    stem: Path


@dataclass
class Pipeline:
    stages: list[Stage]
    stdout: bytes  # of the last stage; written to <stem>.stdout only when keep_stdout

    def rc(self) -> list[int]:
        return [s.rc for s in self.stages]

    def stderr(self, i: int) -> str:
        return self.stages[i].stderr.decode(errors="replace")


def terraform(*args: str) -> list[str]:
    return ["terraform", *args]


def scrubber(*args: str) -> list[str]:
    return ["state-scrubber", *args]


def run_pipeline(ws, *commands: list[str], stdin: bytes | None = None, keep_stdout: bool = True,
                 timeout: float = 300) -> Pipeline:
    """`cmd1 | cmd2 | ...` with real pipes, as a shell runs it. Each stage's stderr (and each
    terraform stage's TF_LOG=trace log) is an artifact; the last stage's stdout is returned and,
    with keep_stdout, kept as an artifact too. `stdin` is fed to the first stage through a pipe
    (else it reads /dev/null)."""
    for c in commands:
        for a in c:
            if canaries.search_bytes("argv", a.encode(), ws.canaries):
                raise AssertionError("test bug: a canary is on a command line")
    ws.seq += 1
    base = ws.artifacts / f"{ws.seq:02d}-pipe"
    procs: list[subprocess.Popen] = []
    stems: list[Path] = []
    errs = []
    prev = subprocess.PIPE if stdin is not None else subprocess.DEVNULL
    for i, c in enumerate(commands):
        words = [w for w in c[1:3] if not w.startswith("-")]
        stem = Path(f"{base}-{i}-{c[0]}-{'-'.join(words)}")  # + ".stderr", ".tflog"
        stems.append(stem)
        env = dict(ws.env)
        if c[0] == "terraform":
            argv = tfh.terraform_command() + c[1:]
            env["TF_LOG_PATH"] = f"{stem}.tflog"
        else:
            argv = [str(SCRUBBER), *c[1:]]
        err = open(f"{stem}.stderr", "wb")
        errs.append(err)
        p = subprocess.Popen(argv, cwd=ws.dir, env=env, stdin=prev, stdout=subprocess.PIPE, stderr=err)
        if procs and procs[-1].stdout is not None:
            procs[-1].stdout.close()  # only the next stage holds the read end (SIGPIPE as in a shell)
        procs.append(p)
        prev = p.stdout
    feeder = None
    if stdin is not None:
        writer, procs[0].stdin = procs[0].stdin, None  # the feeder thread owns the write end

        def feed(w=writer, data=stdin):
            try:
                w.write(data)
            except BrokenPipeError:
                pass
            finally:
                try:
                    w.close()
                except BrokenPipeError:
                    pass
        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
    try:
        out, _ = procs[-1].communicate(timeout=timeout)
        for p in procs[:-1]:
            p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        raise
    finally:
        for e in errs:
            e.close()
        if feeder is not None:
            feeder.join(timeout=10)
    stages = [Stage(c, p.returncode, Path(f"{s}.stderr").read_bytes(), s)
              for c, p, s in zip(commands, procs, stems)]
    if keep_stdout:
        Path(f"{base}.stdout").write_bytes(out)
    Path(f"{base}.cmd").write_text(
        " | ".join(" ".join(c) for c in commands) + "\n" + "exit " + " ".join(str(s.rc) for s in stages) + "\n"
    )
    return Pipeline(stages, out)


def expect_rc(ws, pipe: Pipeline, want: list[int | None]) -> None:
    got = pipe.rc()
    if all(w is None or w == g for w, g in zip(want, got)):
        return
    text = "\n".join(
        f"[{i}] {' '.join(s.argv)} exited {s.rc}\n--- stderr ---\n{s.stderr.decode(errors='replace')[-3000:]}"
        for i, s in enumerate(pipe.stages)
    )
    pytest.fail(canaries.redact(f"pipeline exits {got}, expected {want}\n{text}", ws.canaries), pytrace=False)


# ----------------------------------------------------------------------------------------------
# JSON helpers that never print a value


def at(doc, ptr):
    for k in ptr:
        doc = doc[k]
    return doc


def put(doc, ptr, value) -> None:
    for k in ptr[:-1]:
        doc = doc[k]
    doc[ptr[-1]] = value


def differences(a, b, path: str = "") -> list[str]:
    """JSON pointers where a and b differ (no values)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k} (only in one)")
            else:
                out += differences(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path} (lengths {len(a)} and {len(b)})"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}/{i}")]
    if type(a) is not type(b) or a != b:
        return [path or "/"]
    return []


def parse_ref(ref: str) -> tuple[str, str | None]:
    assert isinstance(ref, str) and ref.startswith(REF), "not a reference"
    u = urllib.parse.urlsplit("x://" + ref[len(REF):])
    name = urllib.parse.unquote(u.netloc + u.path)
    version = urllib.parse.parse_qs(u.query).get("version_id", [None])[0]
    assert not u.fragment, "a scrubbed plain string is referenced whole"
    return name, version


def assert_ref_holds(sm, ref: str, expected: canaries.Canary, what: str) -> tuple[str, str]:
    name, version = parse_ref(ref)
    assert version, f"{what}: the reference pins no version"
    got = sm.get_secret_value(SecretId=name, VersionId=version)["SecretString"]
    assert hmac.compare_digest(got.encode(), expected.reveal().encode()), (
        f"{what}: {name} version {version} does not hold the original value (values not shown)"
    )
    return name, version


def version_counts(sm, names: list[str]) -> dict[str, int]:
    return {n: len(sm.list_secret_version_ids(SecretId=n, IncludeDeprecated=True)["Versions"]) for n in names}


def set_aside(paths, into: Path) -> None:
    into.mkdir(exist_ok=True)
    for p in paths:
        if p.exists():
            shutil.move(str(p), str(into / p.name))


def sweep(ws, roots: list[Path]) -> None:
    ws.show_json()  # the JSON rendering of the scrubbed state is an artifact too
    findings, searched = canaries.search_paths(roots, ws.canaries)
    ws.swept_at = ws.seq
    assert any(p.suffix == ".tflog" and p.stat().st_size for p in searched), "no trace log was written"
    assert any(p.name.endswith("-1-state-scrubber-scrub.stderr") for p in searched), "scrub's stderr not swept"
    assert not findings, "canary found (values not shown):\n" + "\n".join(f"  {f}" for f in findings[:50])


# ----------------------------------------------------------------------------------------------
# the journey


def test_pull_scrub_push_pipeline(pipe_ws, sm):
    ws = pipe_ws
    token = ws.canary("api")
    ws.set_var("api_token", token)
    prefix = f"{ws.prefix}/scrubbed"
    store_args = ["--prefix", prefix, "--endpoint", ws.endpoint, "--region", REGION]
    state_file = ws.dir / "terraform.tfstate"
    pre = ws.root / "pre-scrub"

    # 1. apply: three plaintext copies in the state.
    ws.write(CONFIG)
    ws.init()
    ws.apply()
    applied = state_file.read_bytes()
    orig = json.loads(applied)
    for ptr in SECRET_PTRS:
        assert hmac.compare_digest(str(at(orig, ptr)).encode(), token.reveal().encode()), (
            f"the applied state does not hold the value at {ptr}"
        )
    assert at(orig, INPUT_PTR[:-1])["type"] == "string"

    # The audit sees them through a pipe too (and prints no value: swept).
    aud = run_pipeline(ws, terraform("state", "pull"), scrubber("audit", "-", "--format", "json"))
    expect_rc(ws, aud, [0, 1])
    assert json.loads(aud.stdout)["summary"]["findings"] == 3, "audit of the applied state: 3 findings expected"

    # 2. dry run in the pipeline: nothing on stdout, the diff on stderr, nothing stored.
    dry = run_pipeline(ws, terraform("state", "pull"), scrubber("scrub", "-", *store_args))
    expect_rc(ws, dry, [0, 0])
    assert dry.stdout == b"", "a dry run in pipeline mode must print nothing on stdout"
    report = dry.stderr(1)
    assert "dry run: 3 value(s) in 2 resource(s) would move to Secrets Manager" in report, canaries.redact(report)
    assert f"serial {orig['serial']} -> {orig['serial'] + 1}" in report
    assert "nothing was written (use --write)" in report
    assert report.count("<secret>") == 3
    assert " chars>" not in report, "the dry run shows a value's length"
    assert state_file.read_bytes() == applied, "the dry run changed the state"
    assert secret_names(sm, ws.prefix) == [], "the dry run stored something"

    # ... so a dry run piped into push gives push nothing, and push refuses it.
    dry_push = run_pipeline(ws, terraform("state", "pull"), scrubber("scrub", "-", *store_args),
                            terraform("state", "push", "-"))
    expect_rc(ws, dry_push, [0, 0, 1])
    assert 'Error reading source state "-"' in dry_push.stderr(2), canaries.redact(dry_push.stderr(2))
    assert dry_push.stdout == b""
    assert state_file.read_bytes() == applied, "push of a dry run's (empty) output changed the state"
    assert secret_names(sm, ws.prefix) == []

    # 3. the pipeline with --write.
    run = run_pipeline(ws, terraform("state", "pull"), scrubber("scrub", "-", *store_args, "--write"),
                       terraform("state", "push", "-"))
    expect_rc(ws, run, [0, 0, 0])
    report = run.stderr(1)
    assert "3 value(s) in 2 resource(s) stored in Secrets Manager and read back" in report, canaries.redact(report)
    assert f"manifest {prefix}/.offstate-manifest/" in report
    assert "wrote " not in report, "pipeline mode names no file written"
    lineage = orig["lineage"]
    assert f"+++ (stdin) (serial {orig['serial'] + 1}, lineage {lineage})" in report

    # What push received: the scrubbed state with serial + 1 and the same lineage. Terraform's
    # trace log says so: `state push` imports it with that serial forced, then writes it once
    # more through the ordinary path, which (the snapshot differing from the one it read) bumps
    # the serial again. So the local backend stores serial + 2; that second bump is Terraform's.
    push_log = Path(f"{run.stages[2].stem}.tflog").read_text(errors="replace")
    forced = f'forcing lineage "{lineage}" serial {orig["serial"] + 1} for migration/import'
    assert forced in push_log, "push did not receive the scrubbed state with serial + 1 and the same lineage"
    assert f"incrementing serial to {orig['serial'] + 2}" in push_log

    # 4. the pushed state: same lineage, serial as above, references where the values were.
    pulled = ws.tf("state", "pull")
    st = pulled.json()
    assert st["lineage"] == lineage, "lineage changed"
    assert st["serial"] == orig["serial"] + 2, (
        f"serial {orig['serial']} -> {st['serial']}, expected + 1 (scrub) + 1 (push)"
    )
    assert json.loads(state_file.read_bytes()) == st, "terraform.tfstate is not what state pull shows"
    assert not canaries.search_bytes("pulled state", pulled.stdout.encode(), [token]), "plaintext left in the state"
    refs = {ptr: at(st, ptr) for ptr in SECRET_PTRS}
    stored: dict[str, str] = {}
    for ptr, ref in refs.items():
        name, version = assert_ref_holds(sm, ref, token, "/".join(map(str, ptr)))
        assert name.startswith(prefix + "/"), f"{name} is not under the prefix"
        stored[name] = version
    assert at(st, INPUT_PTR[:-1])["type"] == "string" and at(st, OUTPUT_PTR[:-1])["type"] == "string"
    assert st["outputs"]["api_token"]["sensitive"] is True
    assert st["outputs"]["plain"]["value"] == "nothing secret here"
    # Nothing else changed: the original with the references in (and the new serial) is the new state.
    expected = copy.deepcopy(orig)
    for ptr, ref in refs.items():
        put(expected, ptr, ref)
    expected["serial"] = st["serial"]
    diff = differences(expected, st)
    assert not diff, f"the scrubbed state differs beyond the three values and the serial at: {diff}"
    names = secret_names(sm, ws.prefix)
    assert set(stored) < set(names) and any("/.offstate-manifest/" in n for n in names), names

    # Terraform's backup of the state it replaced is the pre-scrub state: set aside (module doc).
    backup = ws.dir / "terraform.tfstate.backup"
    assert backup.exists(), "state push left no backup"
    diff = differences(orig, json.loads(backup.read_bytes()))
    assert not diff, f"the .backup is not the pre-scrub state; it differs at: {diff}"
    set_aside([backup], pre)

    # 5. audit of the pulled state: clean, from the file and through a pipe.
    p = subprocess.run([str(SCRUBBER), "audit", str(pulled.stem.with_suffix(".stdout"))], env=ws.env,
                       capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    ws.seq += 1
    stem = ws.artifacts / f"{ws.seq:02d}-audit-file"
    stem.with_suffix(".stdout").write_bytes(p.stdout)
    stem.with_suffix(".stderr").write_bytes(p.stderr)
    assert p.returncode == 0, canaries.redact(
        f"audit of the scrubbed state exited {p.returncode}:\n"
        f"{p.stdout.decode(errors='replace')}{p.stderr.decode(errors='replace')}"
    )
    aud = run_pipeline(ws, terraform("state", "pull"), scrubber("audit", "-"))
    expect_rc(ws, aud, [0, 0])

    # 6. a second run finds nothing and passes the state through: same serial, no new version.
    before = version_counts(sm, names)
    again = run_pipeline(ws, terraform("state", "pull"), scrubber("scrub", "-", *store_args, "--write"),
                         terraform("state", "push", "-"))
    expect_rc(ws, again, [0, 0, 0])
    assert "nothing to scrub" in again.stderr(1)
    st2 = ws.tf("state", "pull").json()
    assert st2 == st, f"a second scrub changed the state at: {differences(st, st2)}"
    assert version_counts(sm, names) == before, "a second scrub stored new versions"
    assert not backup.exists(), "the no-op push wrote a backup (so it changed the state)"

    # 7. restore round trip through a pipe: the original state, equal as JSON but for the serial
    # (the pulled one + 1). Its output holds the values: kept in memory only.
    scrubbed_bytes = state_file.read_bytes()
    rest = run_pipeline(ws, terraform("state", "pull"), scrubber("restore", "-", *store_args, "--write"),
                        keep_stdout=False)
    expect_rc(ws, rest, [0, 0])
    assert "3 value(s) restored" in rest.stderr(1), canaries.redact(rest.stderr(1))
    restored = json.loads(rest.stdout)
    assert restored["serial"] == st["serial"] + 1, f"restore: serial {st['serial']} -> {restored['serial']}"
    assert restored["lineage"] == lineage
    diff = differences({**orig, "serial": 0}, {**restored, "serial": 0})
    assert not diff, f"the restored state differs from the original at: {diff}"
    for ptr in SECRET_PTRS:
        assert hmac.compare_digest(str(at(restored, ptr)).encode(), token.reveal().encode())
    del restored, rest
    assert state_file.read_bytes() == scrubbed_bytes, "restore to stdout changed terraform.tfstate"
    assert ws.tf("state", "pull").json() == st, "restore to stdout changed the state"

    # The sweep: no canary in anything but what was set aside. The set-aside backup is the
    # control: the search does find the value in the form Terraform writes it.
    assert [p.name for p in pre.iterdir()] == ["terraform.tfstate.backup"]
    assert len(canaries.search_paths([pre], [token])[0]) >= 3, "the canary search misses the pre-scrub values"
    sweep(ws, [ws.dir, ws.artifacts])


# ----------------------------------------------------------------------------------------------
# bad input: exit 2, nothing on stdout, so a push behind it gets nothing


def synthetic_state(value: str, lineage: str | None = "5b0e3c55-6f1e-4f3b-9d51-2f7f0b1a9c00") -> bytes:
    doc = {
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 3,
        "outputs": {"api_token": {"value": value, "type": "string", "sensitive": True}},
        "resources": [{
            "mode": "managed", "type": "terraform_data", "name": "app",
            "provider": 'provider["terraform.io/builtin/terraform"]',
            "instances": [{
                "schema_version": 0,
                "attributes": {"id": "x", "input": {"value": value, "type": "string"},
                               "output": {"value": value, "type": "string"}, "triggers_replace": None},
                "sensitive_attributes": [[{"type": "get_attr", "value": "input"}]],
            }],
        }],
        "check_results": None,
    }
    if lineage is not None:
        doc["lineage"] = lineage
    return json.dumps(doc, indent=2).encode()


def test_bad_input_into_scrub_stdin_exits_2_with_nothing_on_stdout(pipe_ws, sm):
    ws = pipe_ws
    token = ws.canary("bad")
    whole = synthetic_state(token.reveal())
    cut = whole.find(token.reveal().encode()) + 10  # ends inside the value
    cases = {
        "not JSON": (b"Error: No state file was found!\n", "not a JSON object"),
        "truncated state": (whole[:cut], "truncated"),
        "empty": (b"", "empty"),
        "JSON, not a state": (b'{"hello": "world"}\n', "not a Terraform state"),
        "plan JSON": (json.dumps({"format_version": "1.2", "planned_values": {}}).encode(), "not a state"),
        "state without lineage": (synthetic_state(token.reveal(), lineage=None), "lineage"),
    }
    for what, (data, message) in cases.items():
        for write in ([], ["--write"]):
            p = run_pipeline(ws, scrubber("scrub", "-", "--prefix", f"{ws.prefix}/bad", "--endpoint", ws.endpoint,
                                          "--region", REGION, *write), stdin=data)
            err = p.stderr(0)
            ctx = canaries.redact(f"{what} {write}: exit {p.rc()}, stderr: {err}", ws.canaries)
            assert p.rc() == [2], ctx
            assert p.stdout == b"", f"{what} {write}: something on stdout ({len(p.stdout)} bytes)"
            assert err.startswith("error: (stdin)") and err.count("\n") == 1, ctx
            assert message in err, ctx
    # A state the store cannot take: the store is down (nothing listens on the port).
    closed = free_port()
    p = run_pipeline(ws, scrubber("scrub", "-", "--prefix", f"{ws.prefix}/down", "--endpoint",
                                  f"http://127.0.0.1:{closed}", "--region", REGION, "--write"), stdin=whole)
    err = p.stderr(0)
    ctx = canaries.redact(f"store down: exit {p.rc()}, stderr: {err}", ws.canaries)
    assert p.rc() == [2], ctx
    assert p.stdout == b"", f"store down: something on stdout ({len(p.stdout)} bytes)"
    assert err.startswith("error: (stdin)") and f"{ws.prefix}/down/" in err, ctx
    assert secret_names(sm, ws.prefix) == [], "bad input stored something"
    findings, searched = canaries.search_paths([ws.artifacts], ws.canaries)
    assert len(searched) >= 2 * 2 * len(cases), "artifacts missing"
    assert not findings, "canary found (values not shown):\n" + "\n".join(f"  {f}" for f in findings)



def test_a_state_without_lineage_gets_one_the_way_scrubs_error_says(pipe_ws, sm):
    """A state without `lineage` (hand-made, or edited) is refused: the lineage names the
    manifest. The error said to run `terraform state push` once to give it one, but Terraform
    keeps a pushed state's lineage as it is (empty): following it, scrub refused again. The error
    now gives steps that work, and this follows them with the real Terraform."""
    ws = pipe_ws
    token = ws.canary("nolineage")
    store_args = ["--prefix", f"{ws.prefix}/scrubbed", "--endpoint", ws.endpoint, "--region", REGION]
    state_file = ws.dir / "terraform.tfstate"
    ws.write("terraform {}\n")
    ws.init()
    expect_rc(ws, run_pipeline(ws, terraform("state", "push", "-"), stdin=synthetic_state(token.reveal(), lineage=None)),
              [0])
    assert json.loads(state_file.read_bytes()).get("lineage", "") == ""

    refused = run_pipeline(ws, terraform("state", "pull"), scrubber("scrub", "-", *store_args, "--write"),
                           terraform("state", "push", "-"))
    expect_rc(ws, refused, [0, 2, 1])
    err = refused.stderr(1)
    ctx = canaries.redact(err, ws.canaries)
    assert "no `lineage`" in err and "uuidgen" in err, ctx
    assert "`terraform state pull > s.json`" in err and "`terraform state push s.json`" in err, ctx
    assert secret_names(sm, ws.prefix) == [], "a refused scrub stored something"

    # What the error used to say does not give it one: Terraform pushes the lineage as it is.
    expect_rc(ws, run_pipeline(ws, terraform("state", "pull"), terraform("state", "push", "-")), [0, 0])
    assert json.loads(state_file.read_bytes()).get("lineage", "") == ""

    # What it says now: a new lineage and the serial one higher, pushed (through a pipe here, so
    # the plaintext is in no file of the test's).
    pulled = run_pipeline(ws, terraform("state", "pull"), keep_stdout=False)
    expect_rc(ws, pulled, [0])
    doc = json.loads(pulled.stdout)
    lineage = str(uuid.uuid4())
    doc["lineage"], doc["serial"] = lineage, doc["serial"] + 1
    expect_rc(ws, run_pipeline(ws, terraform("state", "push", "-"), stdin=json.dumps(doc, indent=2).encode()), [0])
    assert json.loads(state_file.read_bytes())["lineage"] == lineage, "Terraform did not take the new lineage"

    done = run_pipeline(ws, terraform("state", "pull"), scrubber("scrub", "-", *store_args, "--write"),
                        terraform("state", "push", "-"))
    expect_rc(ws, done, [0, 0, 0])
    after = json.loads(state_file.read_bytes())
    assert after["lineage"] == lineage
    assert all(str(at(after, p)).startswith(REF) for p in SECRET_PTRS), "a value was not scrubbed"
    assert secret_names(sm, ws.prefix), "nothing stored"
    # Terraform's backups hold the pushed plaintext states: set aside, not swept.
    set_aside(sorted(ws.dir.glob("terraform.tfstate.*backup")), ws.root / "backups-not-swept")
    sweep(ws, [ws.artifacts, ws.dir])


def test_a_workspace_copied_from_the_state_is_named_when_scrubbed_under_its_prefix(pipe_ws, sm):
    """A copy of a state (`terraform state pull` pushed into a new workspace, as here; a copied
    file; the local file `terraform init -migrate-state` leaves behind) keeps its lineage and
    serial; an apply in each with other values gives both the same serial. Scrubbed under one
    prefix, the copy's scrub reused the first one's idempotency tokens (lineage, serial, place)
    with other values and stopped with Secrets Manager's bare ResourceExistsException. It now
    says what happened and what to do, leaves the copy untouched, and the copy scrubs under a
    prefix of its own; the first state still restores its own values.

    Swept: every artifact from the first scrub on, and the working directory (Terraform's
    backups set aside). Not swept: the setup's applies, whose plans show `terraform_data`'s old
    `output` in plaintext (Terraform does not mark it sensitive; nothing of state-scrubber's)."""
    ws = pipe_ws
    first = ws.dir / "terraform.tfstate"
    copy_file = ws.dir / "terraform.tfstate.d" / "staging" / "terraform.tfstate"
    store = ["--endpoint", ws.endpoint, "--region", REGION]
    ws.write(CONFIG)
    ws.set_var("api_token", ws.canary("v0"))
    ws.init()
    ws.apply()
    pulled = run_pipeline(ws, terraform("state", "pull"), keep_stdout=False)
    expect_rc(ws, pulled, [0])
    ws.tf("workspace", "new", "staging")
    expect_rc(ws, run_pipeline(ws, terraform("state", "push", "-"), stdin=pulled.stdout), [0])
    ws.set_var("api_token", ws.canary("staging"))
    ws.apply()
    ws.tf("workspace", "select", "default")
    ws.set_var("api_token", ws.canary("default"))
    ws.apply()
    # Bring the two to one serial: each apply of a new value adds one.
    for n in range(4):
        a, b = json.loads(first.read_bytes()), json.loads(copy_file.read_bytes())
        if a["serial"] == b["serial"]:
            break
        ws.tf("workspace", "select", "default" if a["serial"] < b["serial"] else "staging")
        ws.set_var("api_token", ws.canary(f"again{n}"))
        ws.apply()
    assert a["lineage"] == b["lineage"] and a["serial"] == b["serial"], (a["serial"], b["serial"])
    restored_want = first.read_bytes()

    setup_seq = ws.seq
    shared = f"{ws.prefix}/shared"
    expect_rc(ws, run_pipeline(ws, scrubber("scrub", "--prefix", shared, "--write", *store, "terraform.tfstate")), [0])
    before = copy_file.read_bytes()
    refused = run_pipeline(ws, scrubber("scrub", "--prefix", shared, "--write", *store,
                                        str(copy_file.relative_to(ws.dir))))
    expect_rc(ws, refused, [2])
    err = refused.stderr(0)
    ctx = canaries.redact(err, ws.canaries)
    assert err.startswith("error: terraform.tfstate.d/staging/terraform.tfstate: "), ctx
    assert "another state with this state's lineage and serial" in err, ctx
    assert "scrub each copy under its own --prefix" in err and "JSON path" in err, ctx
    # Refused before its first store (moto's DescribeSecret lists the token's version), not at a put.
    assert "--write stores nothing" in err, ctx
    assert copy_file.read_bytes() == before, "the refused scrub changed the copy"

    own = f"{ws.prefix}/staging"
    expect_rc(ws, run_pipeline(ws, scrubber("scrub", "--prefix", own, "--write", *store,
                                            str(copy_file.relative_to(ws.dir)))), [0])
    assert all(str(at(json.loads(copy_file.read_bytes()), p)).startswith(f"{REF}{own}/") for p in SECRET_PTRS)

    # The first state restores its own values (compared as JSON, the serial aside).
    back = run_pipeline(ws, scrubber("restore", "-", "--prefix", shared, "--write", *store), stdin=first.read_bytes(),
                        keep_stdout=False)
    expect_rc(ws, back, [0])
    got, want = json.loads(back.stdout), json.loads(restored_want)
    got.pop("serial"), want.pop("serial")
    same = got == want
    assert same, "restore of the first state differs from it (paths, no values): " + ", ".join(
        differences(want, got)[:10])
    set_aside(sorted(ws.dir.rglob("terraform.tfstate*backup")), ws.root / "backups-not-swept")
    ws.show_json()
    after_setup = [p for p in sorted(ws.artifacts.iterdir())
                   if not p.name.split("-")[0].isdigit() or int(p.name.split("-")[0]) > setup_seq]
    findings, searched = canaries.search_paths([*after_setup, ws.dir], ws.canaries)
    ws.swept_at = ws.seq
    assert any(p.name.endswith("state-scrubber-scrub.stderr") for p in searched), "scrub's stderr not swept"
    assert not findings, "canary found (values not shown):\n" + "\n".join(f"  {f}" for f in findings[:50])
