"""A Secrets Manager endpoint (or a gateway before it) that answers a write with an error quoting
the request body, in the encodings such components really use: base64 of the whole body (the
value then sits at any byte alignment), JSON re-encoded by Python (`ensure_ascii`: `\\u00e9`) or
Go (`<`, `>`, `&` as `\\u003c`...), percent-encoded, or the value put in the error *code*. The
provider (a value from configuration, and one it generates) and `state-scrubber scrub --write`
must name the code and withhold the rest; the sweep searches every artifact (trace logs, the
provider's stderr, scrub's output) for the value in each of those forms.

tests/test_bad_input.py covers the plain echo (the body as it is); this file the encoded ones.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from harness import canary as canaries
from harness import hcl
from harness import terraform as tfh
from harness import relay as relay_core

REGION = "us-east-1"
SCRUBBER = Path(os.environ.get("OFFSTATE_SCRUBBER_BIN") or tfh.REPO / "target" / "release" / "state-scrubber")
WRITES = {"CreateSecret", "PutSecretValue", "UpdateSecret"}

# A value every encoding changes: `<>&` (Go), non-ASCII (Python), `"` and `\\` (every JSON
# encoder), `/`, spaces and `+` (forms), so that no 16 bytes of it survive any of them as they are.
_SPICE = ['<', '>', '&', 'é', '"', '\\', '/', ' ', '+', '%', 'ü', '<']


def tricky(c: canaries.Canary, kind: str) -> str:
    """The canary spiced for `kind`. For base64 it stays plain: an escape (`\\"`) in the body
    moves the rest of the value to another byte alignment, so a spiced value sits at every
    alignment whatever the name's length, and the misaligned case would not be tested."""
    raw = c.reveal()
    if kind.startswith("base64"):
        return raw
    return "".join(ch + _SPICE[i % len(_SPICE)] for i, ch in enumerate(raw))


def specials(kind: str) -> str:
    """`override_special` for the generated value (HCL-escaped), plain for base64 as above."""
    return "<>&/+ %" if kind.startswith("base64") else '<>&\\"\\\\/+ %'


def encoded(kind: str, body: bytes) -> tuple[str, str]:
    """(code, message) of an error echoing `body` in the form `kind`."""
    doc = json.loads(body)
    value = doc.get("SecretString") or doc.get("SecretBinary") or ""
    if kind == "base64-body":
        return "ValidationException", "request rejected, body (base64): " + base64.b64encode(body).decode()
    if kind == "base64url-body":
        return "ValidationException", "request rejected: " + base64.urlsafe_b64encode(body).decode().rstrip("=")
    if kind == "python-json":
        return "ValidationException", "could not parse " + json.dumps(doc)
    if kind == "go-json":
        go = json.dumps(doc, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return "ValidationException", "could not parse " + go
    if kind == "form":
        return "ValidationException", "rejected " + urllib.parse.urlencode(doc)
    if kind == "code":
        return "Rejected#" + value.replace(":", ""), "rejected"
    if kind.startswith(("cut-head", "cut-tail")):  # 12 bytes of the value (or -N), where the cut fell
        keep = cut_kept(kind)
        text = body.decode()
        esc = json.dumps(value, ensure_ascii=False)[1:-1]
        at = text.index(esc)
        if kind.startswith("cut-head"):
            return "ValidationException", "request rejected: " + text[:at + keep]
        return "ValidationException", "...(cut) " + text[at + len(esc) - keep:] + " rejected"
    raise AssertionError(kind)


def cut_kept(kind: str) -> int:
    """How many bytes of the value a `cut-head`/`cut-tail` echo keeps: 12, or N of `cut-head-N`."""
    parts = kind.split("-")
    return int(parts[2]) if len(parts) > 2 else 12


def answer(kind: str, body: bytes) -> tuple[int, str, bytes]:
    """(status, content type, body) of the gateway's answer to a write, for `kind`."""
    import html

    if kind == "retried-500":  # retried by the SDK: every attempt echoes, the last one is shown
        b64 = base64.b64encode(body).decode()
        doc = {"__type": "InternalServiceError", "message": "upstream failed on " + b64}
        return 500, "application/x-amz-json-1.1", json.dumps(doc).encode()
    if kind == "html-502":  # a load balancer's page, the body HTML-escaped and wrapped
        text = html.escape(body.decode())
        lines = "<br>\n".join(text[i:i + 40] for i in range(0, len(text), 40))
        return 502, "text/html", f"<html><body><h1>502 Bad Gateway</h1><pre>{lines}</pre></body></html>".encode()
    if kind == "ok-200-echo":  # a fake answering the request itself
        return 200, "application/x-amz-json-1.1", body
    code, message = encoded(kind, body)
    return 400, "application/x-amz-json-1.1", json.dumps({"__type": code, "message": message}).encode()


class EchoGateway(relay_core.Relay):
    """Forwards to moto, except WRITES, answered 400 with an echo of the request in `kind`. Each
    value it sees is registered with the workspace (the raw value and its percent-encoded forms),
    so that the sweep searches for the generated ones too. `echoed` counts the echoes (and the
    mangled reads)."""

    def __init__(self, ws, upstream: str, kind: str, mangle_read=None):
        super().__init__(upstream, bodies=False)
        self.ws, self.kind, self.echoed = ws, kind, 0
        # mangle_read(answer: dict) -> bytes: what a GetSecretValue answer is turned into
        self.mangle_read = mangle_read
        self.start()

    def reply(self, seen, body: bytes):
        if seen.operation not in WRITES:
            return None
        doc = json.loads(body)
        value = doc.get("SecretString")
        if value:
            self.watch(value)
        if doc.get("SecretString") or doc.get("SecretBinary"):
            self.echoed += 1
            return answer(self.kind, body)
        return None

    def transform(self, seen, status: int, data: bytes) -> bytes:
        if seen.operation == "GetSecretValue" and status == 200 and self.mangle_read is not None:
            self.echoed += 1
            return self.mangle_read(json.loads(data))
        return data

    def watch(self, value: str) -> None:
        known = {c.reveal() for c in self.ws.canaries}
        forms = [value, urllib.parse.quote_plus(value), urllib.parse.quote(value, safe="")]
        if self.kind.startswith("cut-"):  # the 12 bytes of it the cut keeps are a leak too
            esc = json.dumps(value, ensure_ascii=False)[1:-1]
            keep = cut_kept(self.kind)
            forms.append(esc[:keep] if self.kind.startswith("cut-head") else esc[-keep:])
        for form in forms:
            if form not in known:
                self.ws.watch(canaries.wrap(form))


def apply_through(gw: EchoGateway, value: str, *blocks: str, expect: int | None = 1):
    """`terraform apply` of `blocks` in the gateway's workspace, its provider talking to `gw`,
    with `value` as `var.secret` and the trace log on; the result of the apply."""
    gw.ws.set_var("secret", value)
    gw.ws.write(hcl.config(gw.url, *blocks))
    gw.ws.env["TF_LOG"] = "trace"
    return gw.ws.apply(expect=expect)


def withheld(output: str) -> int:
    """How many diagnostics in `output` withhold the service's message (Terraform wraps a
    diagnostic's text at 78 columns when not on a terminal, so the words are joined first)."""
    return " ".join(output.split()).count("(message withheld")


KINDS = ["base64-body", "base64url-body", "python-json", "go-json", "form", "code", "cut-head", "cut-tail"]
# answers whose message is not the service's: the apply fails (or not), the value is never shown
OTHER = ["retried-500", "html-502", "ok-200-echo"]


@pytest.mark.parametrize("kind", KINDS)
def test_provider_write_echoed_encoded(ws, moto, kind):
    """Three secrets whose names differ in length by one byte (so base64 of the body puts the
    value at each alignment) from configuration, and one generated with every special
    character: each create fails with the service's code, never the value in any form."""
    gw = EchoGateway(ws, moto.url, kind)
    try:
        value = ws.watch(canaries.wrap(tricky(ws.canary("text"), kind)))
        blocks = [
            hcl.secret(f"s{i}", name=ws.name("x" * (i + 1)), value_wo_version="1", recovery_window_in_days=0)
            for i in range(3)
        ]
        blocks.append(
            'resource "offstate_secret" "g" {\n'
            f'  name = "{ws.name("generated")}"\n'
            "  recovery_window_in_days = 0\n"
            "  generate {\n"
            "    length  = 64\n"
            "    special = true\n"
            f'    override_special = "{specials(kind)}"\n'
            "  }\n"
            "}\n"
        )
        res = apply_through(gw, value, *blocks)
        assert gw.echoed >= 4, "every create reached the gateway"
        # (booleans first: pytest would show the output, value included, on a failing `in`)
        if kind == "code":
            replaced = "WithheldErrorCode" in res.output
            assert replaced, "the echoing code is replaced"
        else:
            named = res.output.count("ValidationException") >= 4
            assert named, "each create names the code"
    finally:
        gw.stop()


def legacy_state(value: str) -> str:
    return json.dumps({
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 1,
        "lineage": "3f1b0c9e-echo-0000-0000-000000000001",
        "outputs": {},
        "resources": [{
            "mode": "managed",
            "type": "aws_db_instance",
            "name": "db",
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [{
                "schema_version": 2,
                "attributes": {"id": "db-1", "identifier": "db-1", "username": "app", "password": value},
                "sensitive_attributes": [],
            }],
        }],
    }, indent=2)


@pytest.mark.parametrize("kind", KINDS)
def test_scrub_write_echoed_encoded(ws, moto, kind):
    """`state-scrubber scrub --write` moving a password into a gateway that echoes the write:
    exit 2, the state left as it was, and neither stdout nor stderr holds the value in any form.
    The legacy state (plaintext by definition) lives outside the swept folders."""
    if not SCRUBBER.is_file():
        tfh.require(False, f"{SCRUBBER} not built (cargo build --release -p state-scrubber)")
    gw = EchoGateway(ws, moto.url, kind)
    try:
        value = ws.watch(canaries.wrap(tricky(ws.canary("password"), kind)))
        src = ws.root / "legacy"
        src.mkdir()
        state = src / "terraform.tfstate"
        state.write_text(legacy_state(value.reveal()))
        before = state.read_bytes()
        ws.seq += 1
        stem = ws.artifacts / f"{ws.seq:02d}-state-scrubber-scrub"
        argv = [str(SCRUBBER), "scrub", str(state), "--store", "aws-secretsmanager", "--prefix", ws.prefix,
                "--endpoint", gw.url, "--region", REGION, "--write"]
        p = subprocess.run(argv, env=dict(ws.env, TF_LOG="trace"), capture_output=True, timeout=300, check=False)
        stem.with_suffix(".stdout").write_bytes(p.stdout)
        stem.with_suffix(".stderr").write_bytes(p.stderr)
        # the sweep wants a trace log among the artifacts; scrub writes none, say so in one
        stem.with_suffix(".tflog").write_text("state-scrubber writes no Terraform log\n")
        assert gw.echoed >= 1, "the write reached the gateway"
        assert p.returncode == 2, f"scrub exited {p.returncode}"
        unchanged = state.read_bytes() == before
        assert unchanged, "a failed write left the state as it was"
        text = (p.stdout + p.stderr).decode(errors="replace")
        if kind == "code":
            replaced = "WithheldErrorCode" in text
            assert replaced, "the echoing code is replaced"
        else:
            named = "ValidationException" in text
            assert named, "the error names the code"
    finally:
        gw.stop()


@pytest.mark.parametrize("spice", ['"\\', "'\\", "'\"\\", "\\n\t"])
def test_redact_masks_a_value_as_pytest_shows_it(spice):
    """A failing `assert "x" in output` shows repr(output): a value with a backslash (doubled
    there) and a quote is in none of the sweep's forms, so the report hooks must mask its repr
    too. A generated value (no hex run for the tail rule to mask) was shown whole before."""
    import secrets

    letters = "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ"
    half = lambda: "".join(secrets.choice(letters) for _ in range(24))  # noqa: E731
    value = half() + spice + half()
    v = canaries.wrap(value)
    for shown in (repr("Error: " + value + " rejected"), repr("it's " + value), repr('say "' + value)):
        out = canaries.redact(shown, [v])
        leaked = any(value[i:i + 12] in out for i in range(0, 12)) or any(
            value[-12 - i:len(value) - i] in out for i in range(0, 12))
        assert not leaked, "a piece of the value is still shown"


# GetSecretValue answers that do not parse, with the value where the parser may quote it: in a
# timestamp (the SDK says what it found instead of a number), after a bad escape, cut short.
READS = {
    "value-as-date": lambda a: json.dumps(dict(a, CreatedDate=a["SecretString"])).encode(),
    "value-as-stages": lambda a: json.dumps(dict(a, VersionStages=a["SecretString"])).encode(),
    "bad-escape-after": lambda a: json.dumps(a).replace('"SecretString": "', '"SecretString": "\\q', 1).encode(),
    "cut-short": lambda a: json.dumps(a).encode()[:-3],
    "value-unquoted": lambda a: json.dumps(dict(a, SecretString="@@")).replace('"@@"', a["SecretString"]).encode(),
}


@pytest.mark.parametrize("read", list(READS))
def test_read_of_a_malformed_answer(ws, sm, moto, read):
    """`offstate_secret_value` (ephemeral, then a json_key lookup) through a gateway mangling
    GetSecretValue's answer: the read fails, naming the call, never quoting the body."""
    value = ws.canary("stored")
    name = ws.name()
    sm.create_secret(Name=name, SecretString=value.reveal())
    gw = EchoGateway(ws, moto.url, "none", mangle_read=READS[read])
    try:
        ws.write(hcl.config(
            gw.url,
            f'ephemeral "offstate_secret_value" "read" {{\n  secret_id = "{name}"\n}}\n'
            f'ephemeral "offstate_secret_value" "key" {{\n  secret_id = "{name}"\n  json_key = "password"\n}}\n'
            'resource "offstate_secret" "dst" {\n'
            f'  name = "{ws.name("dst")}"\n'
            "  recovery_window_in_days = 0\n"
            "  value_wo         = ephemeral.offstate_secret_value.read.value\n"
            '  value_wo_version = "1"\n'
            "}\n",
            variables=(),
        ))
        ws.env["TF_LOG"] = "trace"
        ws.apply(expect=1)
        assert gw.echoed >= 1, "a read reached the gateway"
    finally:
        gw.stop()


@pytest.mark.parametrize("kind", OTHER)
def test_provider_write_answered_otherwise(ws, moto, kind):
    """A 500 retried with every attempt echoing, an HTML 502 page quoting the body, a 200 that
    is the request itself: whatever the apply ends in, the value is in no artifact."""
    gw = EchoGateway(ws, moto.url, kind)
    try:
        value = ws.watch(canaries.wrap(tricky(ws.canary("text"), "base64")))
        apply_through(gw, value, hcl.secret("s", name=ws.name(), value_wo_version="1", recovery_window_in_days=0), expect=None)
        assert gw.echoed >= 1, "the create reached the gateway"
    finally:
        gw.stop()


class _Base64Recorder(EchoGateway):
    """EchoGateway (kind base64-body) that also watches each echo it sends: the base64 text of
    the whole body is what a diagnostic would show, and the sweep's own base64 needles need 12
    bytes or more of a value, so a short value in it would go unnoticed."""

    def reply(self, seen, body: bytes):
        out = super().reply(seen, body)
        if out is not None:
            self.ws.watch(canaries.wrap(base64.b64encode(body).decode()))
        return out


@pytest.mark.parametrize("length", [4, 7])
def test_provider_write_of_a_short_value_echoed_in_base64(ws, moto, length):
    """A value of 4 to 7 bytes (`hunter2`) in a create that a gateway answers with the base64 of
    the whole body: the provider decoded an echo only for values of 8 bytes or more, so the
    diagnostic showed the base64 of the body, value included. Three names one byte apart put the
    value at each alignment; each create must fail with the code and the message withheld."""
    gw = _Base64Recorder(ws, moto.url, "base64-body")
    try:
        value = ws.watch(canaries.wrap("P" + secrets.token_hex(4)[: length - 1]))
        blocks = [
            hcl.secret(f"s{i}", name=ws.name("x" * (i + 1)), value_wo_version="1", recovery_window_in_days=0)
            for i in range(3)
        ]
        res = apply_through(gw, value, *blocks)
        assert gw.echoed >= 3, "every create reached the gateway"
        assert withheld(res.output) >= 3, "each create's message is withheld"
    finally:
        gw.stop()


@pytest.mark.parametrize("kind", ["cut-head-7", "cut-tail-7"])
def test_provider_write_of_a_short_value_echoed_cut(ws, moto, kind):
    """A 9-byte value in a create that a gateway answers with the request cut where 7 bytes of
    the value are left (at the end of the message, or after an ellipsis): only 8 of a value's
    first or last bytes counted as a cut echo, so the diagnostic and the trace log showed 7 of
    its 9 bytes. The create must fail with the message withheld, and the 7 bytes be nowhere."""
    gw = EchoGateway(ws, moto.url, kind)
    try:
        value = ws.watch(canaries.wrap("Q" + secrets.token_hex(4)))
        res = apply_through(gw, value, hcl.secret("s", name=ws.name(), value_wo_version="1", recovery_window_in_days=0))
        assert gw.echoed >= 1, "the create reached the gateway"
        assert withheld(res.output) >= 1, "the create's message is withheld"
    finally:
        gw.stop()
