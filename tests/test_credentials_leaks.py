"""AWS credentials never reach a diagnostic, a log line (TF_LOG=trace) or a panic.

Every test here plants random canaries as the credentials themselves (AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, the keys of a shared credentials file, a proxy's password, assume_role's
external_id) and sweeps every artifact of the run for them (plain, JSON-escaped, base64), on the
paths that fail as well as on the one that works: STS refusing AssumeRole, rejecting the session
policy, unreachable or answering garbage; the account guard's GetCallerIdentity failing; a proxy
asking for, or refusing, its credentials; a shared credentials file with a typo; a CA bundle that
is not one. moto does not check signatures, so any secret key is accepted.

The last two tests feed odd settings to the paths added last (endpoint and STS endpoint URLs,
use_fips_endpoint, proxies, CA bundles, shared files, profile names, regions, assume_role's
arguments): each run ends in an error or an apply, never in a panic (a panic's message would reach
Terraform's output; the framework's hook withholds it, but a panic is still a failed run).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest

from harness import hcl
from harness import store
from harness.relay import Server, send

pytestmark = [pytest.mark.e2e, pytest.mark.lifecycle]

ADDR = "offstate_secret.s"
MOTO_ACCOUNT = "123456789012"


def error_diagnostics(res) -> list[dict]:
    return [
        m["diagnostic"]
        for m in res.json_lines()
        if m.get("type") == "diagnostic" and m["diagnostic"].get("severity") == "error"
    ]


def apply_against_echoing_sts(ws, text: str, call: str, *servers):
    """Applies `text` with STS a gateway that echoes each request back in its error: the apply
    fails with an error diagnostic, `call` reached STS, and the sweep finds no canary anywhere.
    `servers` (fake credential endpoints, None allowed) are closed with STS. Returns the apply."""
    sts = FakeSts(**STS_FAILURES["echoing-gateway"])
    try:
        ws.env["AWS_ENDPOINT_URL_STS"] = sts.url
        ws.write(text)
        res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
        assert error_diagnostics(res), res.output
    finally:
        sts.close()
        for srv in servers:
            if srv:
                srv.close()
    assert call in sts.calls, sts.calls
    assert_echo_shown(res)
    ws.sweep()
    return res


# What a Secrets Manager error says in place of a message holding a piece of the value written.
WITHHELD_WHOLE = "(message withheld: it contained the secret value"


def assert_echo_shown(res) -> None:
    """The server's echo reached the error diagnostic, so the sweep checks what the provider
    masked in it: a Secrets Manager call's error (credentials resolved on CreateSecret) that
    holds a piece of the value written is withheld whole, and canaries share their `offstate-`
    prefix, so a test on that path writes a value of `own_value`."""
    hidden = any(WITHHELD_WHOLE in d.get("detail", "") for d in error_diagnostics(res))
    assert not hidden, "the error was withheld whole for a piece of the secret value: the echo is not checked"


def own_value(ws):
    """A secret value canary that shares no prefix with the other canaries (see assert_echo_shown)."""
    import secrets as _secrets

    from harness import canary as canaries

    return ws.watch(canaries.wrap(f"sv{_secrets.token_hex(20)}"))


def plant_env_credentials(ws):
    """AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN set to canaries; returns them."""
    key, token = ws.canary("secretkey"), ws.canary("sessiontoken")
    ws.env["AWS_SECRET_ACCESS_KEY"] = key.reveal()
    ws.env["AWS_SESSION_TOKEN"] = token.reveal()
    return key, token


class FakeSts(Server):
    """An STS that answers every call with one fixed HTTP answer (an AWS error, or garbage).

    `echo=True` puts what it received (the session token header and the form body, which holds
    ExternalId and Policy) into the error message, as a gateway or proxy that reflects the request
    in its error page would: whatever a server says must not carry a credential onwards."""

    def __init__(self, status: int, code: str | None, message: str = "denied", *, echo: bool = False,
                 body: bytes | None = None, ctype: str = "text/xml") -> None:
        super().__init__(methods=("POST",))
        self.calls: list[str] = []
        self.status, self.code, self.message, self.echo = status, code, message, echo
        self.body, self.ctype = body, ctype
        self.start()

    def handle(self, h) -> None:
        form = h.rfile.read(int(h.headers.get("Content-Length", "0"))).decode(errors="replace")
        self.calls.append(next((p[7:] for p in form.split("&") if p.startswith("Action=")), "?"))
        text = self.message
        if self.echo in ("base64", "hex"):  # the request as a gateway logging it encoded quotes it
            import base64 as _b64

            raw = f"X-Amz-Security-Token: {h.headers.get('X-Amz-Security-Token')}\r\n\r\n{form}"
            enc = _b64.b64encode(raw.encode()).decode() if self.echo == "base64" else raw.encode().hex()
            text += f" request({self.echo})=" + enc
        elif self.echo:
            text += f" token={h.headers.get('X-Amz-Security-Token')} body={form}"
            text += f" auth={h.headers.get('Authorization')}"
        data = self.body
        if data is None:
            data = (
                '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                f"<Error><Type>Sender</Type><Code>{self.code}</Code><Message>{escape(text)}</Message></Error>"
                "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
            ).encode()
        elif self.echo:
            data += text.encode()
        send(h, self.status, self.ctype, data)


def role_block(external_id_var: str | None = None, policy: str | None = None) -> str:
    body = '    role_arn     = "arn:aws:iam::123456789012:role/offstate-e2e"\n'
    body += '    session_name = "offstate-e2e"\n'
    if external_id_var:
        body += f"    external_id  = var.{external_id_var}\n"
    if policy:
        body += f"    policy       = {policy}\n"
    return "  assume_role {\n" + body + "  }\n"


def with_in_provider(text: str, block: str) -> str:
    return text.replace('provider "offstate" {\n', 'provider "offstate" {\n' + block, 1)


def test_credentials_from_the_environment_through_assume_role_and_the_guard(ws, sm):
    """The path that works: keys and token from the environment, assume_role (external_id a
    canary too) and the account guard, all at TF_LOG=trace."""
    c = ws.canary()
    ws.set_var("secret", c)
    plant_env_credentials(ws)
    ws.set_var("ext", ws.canary("externalid"))
    ws.env["AWS_ENDPOINT_URL"] = ws.endpoint
    name = ws.name()
    text = hcl.config(None, hcl.secret(name=name, value_wo_version="1"),
                      provider_attrs={"allowed_account_ids": [MOTO_ACCOUNT]}, variables=("secret", "ext"))
    ws.write(with_in_provider(text, role_block("ext")))
    ws.apply()
    store.assert_value(sm, name, c)
    ws.assert_no_changes()
    ws.destroy()
    ws.sweep()


STS_FAILURES = {
    "access-denied": dict(status=403, code="AccessDenied",
                          message="User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole"),
    "malformed-policy": dict(status=400, code="MalformedPolicyDocument", message="Syntax errors in policy."),
    "echoing-gateway": dict(status=403, code="AccessDenied", message="request refused:", echo=True),
    "html-page": dict(status=403, code=None, body=b"<html><body>Forbidden</body></html>", ctype="text/html", echo=True),
    "garbage-200": dict(status=200, code=None, body=b"not xml at all", ctype="text/plain", echo=True),
}


@pytest.mark.parametrize("failure", list(STS_FAILURES))
@pytest.mark.parametrize("with_guard", [False, True], ids=["assume_role", "assume_role+guard"])
def test_sts_refusing_assume_role(ws, sm, failure, with_guard):
    ws.set_var("secret", own_value(ws))
    plant_env_credentials(ws)
    ws.set_var("ext", ws.canary("externalid"))
    sts = FakeSts(**STS_FAILURES[failure])
    try:
        ws.env["AWS_ENDPOINT_URL_STS"] = sts.url
        name = ws.name()
        attrs = {"max_retries": 1}
        if with_guard:
            attrs["allowed_account_ids"] = [MOTO_ACCOUNT]
        text = hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"), provider_attrs=attrs,
                          variables=("secret", "ext"))
        policy = 'jsonencode({ Version = "2012-10-17", Statement = [] })'
        ws.write(with_in_provider(text, role_block("ext", policy)))
        res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
        assert error_diagnostics(res), res.output
        assert "panic" not in res.output.lower()
    finally:
        sts.close()
    assert sts.calls, "STS was not asked"
    assert_echo_shown(res)
    assert not sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]
    ws.sweep()


@pytest.mark.parametrize("path", ["create", "guard"])
def test_external_id_echoed_form_encoded_by_sts(ws, sm, path):
    """An external_id with characters the AssumeRole form body percent-encodes (AWS allows
    `+=,.@:/-`): a gateway echoing that body shows the encoded form, which must be withheld as
    well as the plain one. The echo must reach the error for this to check anything: on the
    create's path (CreateSecret resolving the role's credentials) the secret value's prefix is
    its own, since a Secrets Manager error holding a piece of the value is withheld whole (the
    canaries' `offstate-` prefix the keys and the external ID share would be such a piece); on
    the guard's path (allowed_account_ids) the error quotes STS's message."""
    from harness import canary as canaries

    if path == "create":
        ws.set_var("secret", own_value(ws))
        attrs = {"max_retries": 1}
    else:
        ws.set_var("secret", ws.canary())
        attrs = {"max_retries": 1, "allowed_account_ids": [MOTO_ACCOUNT]}
    plant_env_credentials(ws)
    core = ws.canary("extidcore")
    ws.set_var("ext", canaries.wrap(core.reveal() + "+a/b=c,d@e:f"))
    text = hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"),
                      provider_attrs=attrs, variables=("secret", "ext"))
    res = apply_against_echoing_sts(ws, with_in_provider(text, role_block("ext")), "AssumeRole")
    details = [d.get("detail", "") for d in error_diagnostics(res)]
    assert any("ExternalId=" in d for d in details), "the error quotes the echoed form body (ExternalId)"


@pytest.mark.parametrize("shift", ["", "x", "xy"])
def test_external_id_and_token_echoed_in_base64_by_sts(ws, sm, shift):
    """A gateway in front of STS that quotes the request in base64 (the session token header and
    the form body with the percent-encoded external_id): the withheld list held the plain,
    JSON-escaped and percent-encoded forms only, so the diagnostic showed both credentials in
    base64. A session name one or two bytes longer (`shift`) moves them to each byte alignment.
    The account guard's error quotes STS's message."""
    from harness import canary as canaries

    ws.set_var("secret", ws.canary())
    plant_env_credentials(ws)
    ws.set_var("ext", canaries.wrap(ws.canary("extidb64").reveal() + "+a/b=c,d@e:f"))
    text = hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"),
                      provider_attrs={"max_retries": 1, "allowed_account_ids": [MOTO_ACCOUNT]},
                      variables=("secret", "ext"))
    block = role_block("ext").replace('session_name = "', f'session_name = "s{shift}', 1)
    assert f'"s{shift}offstate-e2e"' in block, "the role block names a session"
    sts = FakeSts(status=403, code="AccessDenied", message="request refused:", echo="base64")
    try:
        ws.env["AWS_ENDPOINT_URL_STS"] = sts.url
        ws.write(with_in_provider(text, block))
        res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    finally:
        sts.close()
    assert "AssumeRole" in sts.calls, sts.calls
    details = [d.get("detail", "") for d in error_diagnostics(res)]
    quoted = any("request(base64)=" in d for d in details)
    assert quoted, "the error quotes the gateway's base64 echo"
    ws.sweep()


@pytest.mark.parametrize("echo", ["base64", "hex"])
def test_short_external_id_and_token_echoed_in_base64_or_hex_by_sts(ws, sm, echo):
    """A gateway in front of STS that quotes the request (the session token header and the form
    body) in base64 or in hex: an external_id of 7 characters was masked in base64 only from 10
    bytes, and no credential in hex, so the diagnostic showed the external_id in both and the
    session token in hex. The sweep looks for the token's hex and base64, and for the
    external_id's hex and the base64 characters that carry it alone at each alignment."""
    import base64 as _b64
    import secrets as _secrets

    from harness import canary as canaries

    ws.set_var("secret", ws.canary())
    plant_env_credentials(ws)
    ext = canaries.wrap(f"x{_secrets.token_hex(3)}")
    ws.set_var("ext", ext)
    raw = ext.reveal().encode()
    ws.watch(canaries.wrap(raw.hex()))
    ws.watch(canaries.wrap(raw.hex().upper()))
    for k in range(3):
        enc = _b64.b64encode(bytes(k) + raw)
        core = enc[-(-k * 8 // 6):(k + len(raw)) * 8 // 6].decode()
        ws.watch(canaries.wrap(core))
        ws.watch(canaries.wrap(core.replace("+", "-").replace("/", "_")))
    text = hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"),
                      provider_attrs={"max_retries": 1, "allowed_account_ids": [MOTO_ACCOUNT]},
                      variables=("secret", "ext"))
    sts = FakeSts(status=403, code="AccessDenied", message="request refused:", echo=echo)
    try:
        ws.env["AWS_ENDPOINT_URL_STS"] = sts.url
        ws.write(with_in_provider(text, role_block("ext")))
        res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    finally:
        sts.close()
    assert "AssumeRole" in sts.calls, sts.calls
    details = [d.get("detail", "") for d in error_diagnostics(res)]
    quoted = any(f"request({echo})=" in d for d in details)
    assert quoted, "the error quotes the gateway's encoded echo"
    ws.sweep()


def test_short_external_id_echoed_by_sts(ws, sm):
    """An external_id of 6 characters (shorter than the 12 from which a withheld string is
    masked wherever it occurs), echoed percent-encoded (`ExternalId=abcd%2Ba&`) by a gateway in
    STS's error: masked as a whole word, it appears in no artifact."""
    import secrets as _secrets
    from urllib.parse import quote

    from harness import canary as canaries

    c = ws.canary()
    ws.set_var("secret", c)
    plant_env_credentials(ws)
    ext = canaries.wrap(f"{_secrets.token_hex(2)}+a")
    ws.set_var("ext", ext)
    # The form body carries it encoded, which the plain canary's needles do not include.
    ws.watch(canaries.wrap(quote(ext.reveal(), safe="")))
    # The account guard's error quotes STS's message (the create's error would not: it is
    # withheld whole for the canary prefix the secret value shares with the keys).
    text = hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"),
                      provider_attrs={"max_retries": 1, "allowed_account_ids": [MOTO_ACCOUNT]},
                      variables=("secret", "ext"))
    apply_against_echoing_sts(ws, with_in_provider(text, role_block("ext")), "AssumeRole")


@pytest.mark.parametrize("failure", ["access-denied", "echoing-gateway", "html-page", "garbage-200", "unreachable"])
def test_account_guard_failing(ws, sm, failure):
    """GetCallerIdentity with the environment's credentials (no role) failing in every way."""
    c = ws.canary()
    ws.set_var("secret", c)
    plant_env_credentials(ws)
    sts = None
    if failure == "unreachable":
        ws.env["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:9"
    else:
        sts = FakeSts(**STS_FAILURES[failure])
        ws.env["AWS_ENDPOINT_URL_STS"] = sts.url
    try:
        name = ws.name()
        ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"),
                            provider_attrs={"max_retries": 1, "allowed_account_ids": [MOTO_ACCOUNT]}))
        res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
        assert [e["summary"] for e in error_diagnostics(res)] == ["Cannot check the AWS account"], res.output
    finally:
        if sts:
            sts.close()
    ws.sweep()


def test_assume_role_sts_unreachable(ws, sm):
    c = ws.canary()
    ws.set_var("secret", c)
    plant_env_credentials(ws)
    ws.set_var("ext", ws.canary("externalid"))
    ws.env["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:9"
    name = ws.name()
    text = hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"), provider_attrs={"max_retries": 1},
                      variables=("secret", "ext"))
    ws.write(with_in_provider(text, role_block("ext")))
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    assert error_diagnostics(res), res.output
    ws.sweep()


@pytest.mark.parametrize("typo", ["none", "colon", "space"])
def test_shared_credentials_file_keys(ws, sm, typo):
    """Keys from a shared credentials file named in the provider; with a typo on the token's line
    (`aws_session_token: ...=` or without '='), which the SDK's profile parser warns about."""
    c = ws.canary()
    ws.set_var("secret", c)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        ws.env.pop(k, None)
    key, token = ws.canary("filekey"), ws.canary("filetoken")
    files = ws.dir.parent / "aws-files"
    files.mkdir(exist_ok=True)
    line = {
        "none": f"aws_session_token = {token.reveal()}\n",
        "colon": f"aws_session_token: {token.reveal()}==\n",
        "space": f"aws_session_token {token.reveal()}\n",
    }[typo]
    (files / "credentials").write_text(
        f"[team]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {key.reveal()}\n{line}"
    )
    attrs = {"profile": "team", "shared_credentials_files": [str(files / "credentials")], "max_retries": 1}
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"), provider_attrs=attrs))
    ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=(0, 1))
    ws.sweep()


@pytest.mark.parametrize("proxy", ["refused", "407", "echoing", "echoing-short"])
def test_proxy_password(ws, sm, proxy):
    """A proxy URL with a password (HTTP_PROXY / HTTPS_PROXY=http://user:PASSWORD@host:port).
    `echoing`: a proxy (or a gateway behind it) that answers with an AWS error quoting the
    Proxy-Authorization header it got, `Basic base64(user:password)`, which the SDK's HTTP client
    (hyper-util) sends with every plain-HTTP request through the proxy: the base64 form of the
    password reaches the diagnostic unless it is withheld too. `echoing-short`: a password of 6
    characters (shorter than the 12 from which a withheld string is masked wherever it occurs),
    which the proxy also quotes decoded (`for user:PASSWORD:`), and which is masked as a word."""
    import base64 as _base64
    import json as _json
    import secrets as _secrets
    from urllib.parse import quote

    from harness import canary as canaries

    c = ws.canary()
    ws.set_var("secret", c)
    if proxy == "echoing-short":
        pw = ws.watch(canaries.wrap(f"{_secrets.token_hex(2)}@x"))
        # Too short for base64 needles: the forms it travels in are searched for (and redacted) too.
        ws.watch(canaries.wrap(quote(pw.reveal(), safe="")))
        ws.watch(canaries.wrap(_base64.b64encode(f"user:{pw.reveal()}".encode()).decode()))
    else:
        pw = ws.canary("proxypw")
    srv = None
    sent: list[str] = []
    if proxy == "refused":
        port = 9
    else:
        def handle(h) -> None:
            h.rfile.read(int(h.headers.get("Content-Length", "0")))
            auth = h.headers.get("Proxy-Authorization")
            sent.append(auth or "")
            if not proxy.startswith("echoing"):
                body = f"auth required; you sent {auth}".encode()
                return send(h, 407, None, body, headers=(("Proxy-Authenticate", 'Basic realm="corp"'),))
            message = f"request refused: Proxy-Authorization={auth}"
            if proxy == "echoing-short" and auth and auth.startswith("Basic "):
                userinfo = _base64.b64decode(auth.removeprefix("Basic ")).decode()
                message = f"request refused for {userinfo}: Proxy-Authorization={auth}"
            if "x-www-form-urlencoded" in h.headers.get("Content-Type", ""):  # STS
                send(h, 403, "text/xml", (
                    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                    f"<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{escape(message)}</Message>"
                    "</Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
                ).encode())
            else:  # Secrets Manager
                body = _json.dumps({"__type": "AccessDeniedException", "Message": message}).encode()
                send(h, 403, "application/x-amz-json-1.1", body)

        srv = Server(handle, methods=("POST", "CONNECT")).start()
        port = srv.server.server_address[1]
    try:
        for k in ("NO_PROXY", "no_proxy", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
            ws.env.pop(k, None)
        url = f"http://user:{quote(pw.reveal(), safe='')}@127.0.0.1:{port}"
        ws.env["HTTP_PROXY"] = url
        ws.env["HTTPS_PROXY"] = url
        ws.env["AWS_ENDPOINT_URL_STS"] = ws.endpoint
        ws.write(hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"),
                            provider_attrs={"max_retries": 1, "allowed_account_ids": [MOTO_ACCOUNT]}))
        res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    finally:
        if srv:
            srv.stop()
    # Booleans: pytest would show `sent` and `details` (the header, the echo) on a failing assert.
    if proxy.startswith("echoing"):
        basic = bool(sent) and all(a.startswith("Basic ") for a in sent)
        assert basic, "the proxy got no Proxy-Authorization"
        details = " ".join(e["detail"] for e in error_diagnostics(res))
        masked = "Proxy-Authorization=Basic [withheld]" in details
        assert masked, "the diagnostic quotes the echoed Proxy-Authorization, masked"
    if proxy == "echoing-short":
        masked = "for user:[withheld]: " in details
        assert masked, "the diagnostic quotes the echoed user:password, masked"
    ws.sweep()


@pytest.mark.parametrize("content", ["credentials", "bad-begin", "key-only"])
def test_ca_bundle_error_does_not_dump_the_file(ws, sm, content):
    """custom_ca_bundle pointed at the wrong file (the credentials file, a private key, a broken
    PEM): the error names the file, never what is in it."""
    c = ws.canary()
    ws.set_var("secret", c)
    inside = ws.canary("bundle")
    bundle = ws.dir.parent / "bundle.pem"
    bundle.write_text({
        "credentials": f"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {inside.reveal()}\n",
        "bad-begin": f"-----BEGIN CERTIFICATE {inside.reveal()}\nAAAA\n-----END CERTIFICATE-----\n",
        "key-only": f"-----BEGIN PRIVATE KEY-----\n{inside.reveal()}\n-----END PRIVATE KEY-----\n",
    }[content])
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"),
                        provider_attrs={"custom_ca_bundle": str(bundle)}))
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    assert [e["summary"] for e in error_diagnostics(res)] == ["Cannot configure Secrets Manager client"], res.output
    ws.sweep()


@pytest.mark.parametrize("sts_answer", ["access-denied", "echoing-gateway"])
@pytest.mark.parametrize("with_guard", [False, True], ids=["profile-role", "profile-role+guard"])
def test_role_from_the_profile_refused(ws, sm, sts_answer, with_guard):
    """A role assumed by the profile itself (role_arn + source_profile + external_id in the shared
    config file, keys in the credentials file), refused by STS: the SDK warns about it with a
    Debug of its assume-role step, external_id included."""
    c = ws.canary()
    ws.set_var("secret", c)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        ws.env.pop(k, None)
    key, token, external = ws.canary("filekey"), ws.canary("filetoken"), ws.canary("profileexternalid")
    files = ws.dir.parent / "aws-files"
    files.mkdir(exist_ok=True)
    (files / "config").write_text(
        "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = base\n"
        f"external_id = {external.reveal()}\n\n[profile base]\n"
    )
    (files / "credentials").write_text(
        f"[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {key.reveal()}\n"
        f"aws_session_token = {token.reveal()}\n"
    )
    sts = FakeSts(**STS_FAILURES[sts_answer])
    try:
        ws.env["AWS_ENDPOINT_URL_STS"] = sts.url
        attrs = {"profile": "deploy", "shared_config_files": [str(files / "config")],
                 "shared_credentials_files": [str(files / "credentials")], "max_retries": 1}
        if with_guard:
            attrs["allowed_account_ids"] = [MOTO_ACCOUNT]  # GetCallerIdentity: a call the SDK logs
        ws.write(hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"), provider_attrs=attrs))
        res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
        assert error_diagnostics(res), res.output
    finally:
        sts.close()
    assert sts.calls, "STS was not asked"
    ws.sweep()


ODD = {
    # provider attributes (HCL literals), environment
    "endpoint-port-out-of-range": ({"endpoint": "http://127.0.0.1:99999"}, {}),
    "endpoint-open-bracket": ({"endpoint": "http://[::1"}, {}),
    "endpoint-bad-escape": ({"endpoint": "http://a%zz/"}, {}),
    "endpoint-unicode-host": ({"endpoint": "http://\u00e9\u00e9.example:1"}, {}),
    "sts-endpoint-not-a-url": ({"allowed_account_ids": [MOTO_ACCOUNT]}, {"AWS_ENDPOINT_URL_STS": "not a url"}),
    "sts-endpoint-bracket": ({"allowed_account_ids": [MOTO_ACCOUNT]}, {"AWS_ENDPOINT_URL_STS": "http://[::1"}),
    "endpoint-env-garbage": ({"endpoint": None}, {"AWS_ENDPOINT_URL": "::::"}),
    "fips-env-garbage": ({}, {"AWS_USE_FIPS_ENDPOINT": "maybe"}),
    "fips-with-guard": ({"use_fips_endpoint": True, "allowed_account_ids": [MOTO_ACCOUNT]},
                        {"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9"}),
    "proxy-bracket": ({}, {"HTTP_PROXY": "http://[::1", "HTTPS_PROXY": "http://[::1"}),
    "proxy-socks": ({}, {"HTTP_PROXY": "socks5://127.0.0.1:9", "HTTPS_PROXY": "socks5://127.0.0.1:9"}),
    "proxy-https-refused": ({}, {"HTTP_PROXY": "https://127.0.0.1:9"}),
    "proxy-no-scheme": ({}, {"HTTP_PROXY": "127.0.0.1:9"}),
    "ca-bundle-dev-null": ({"custom_ca_bundle": "/dev/null"}, {}),
    "ca-bundle-directory": ({"custom_ca_bundle": "/"}, {}),
    "ca-bundle-env-directory": ({}, {"AWS_CA_BUNDLE": "/"}),
    "shared-config-directory": ({"shared_config_files": ["/"]}, {}),
    "shared-config-dev-null": ({"shared_config_files": ["/dev/null"], "profile": "nope"}, {}),
    "profile-empty": ({"profile": ""}, {}),
    "profile-odd-name": ({"profile": "a b]["}, {}),
    "retries-max": ({"max_retries": 25}, {"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9"}),
    "region-env-odd": ({"region": None}, {"AWS_REGION": "zz-\u00e9-1"}),
    "skip-validation-odd-region": ({"region": "xx-yy-9", "skip_region_validation": True}, {}),
}

ODD_ROLES = {
    "empty-session-name": 'session_name = ""',
    "long-unicode-session-name": 'session_name = "' + "\u00e9" * 200 + '"',
    "empty-tag-key": 'tags = { "" = "x" }',
    "long-role-arn": 'role_arn = "arn:aws:iam::123456789012:role/' + "r" * 3000 + '"',
    "policy-arn-odd": 'policy_arns = ["arn:aws:iam::aws:policy/\u00e9 x"]',
    "policy-huge": 'policy = jsonencode({ Version = "2012-10-17", Statement = [for i in range(1000) : { Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::b${i}/*" }] })',
}


def _odd_run(ws, attrs: dict, env: dict, role: str | None = None):
    c = ws.canary()
    ws.set_var("secret", c)
    plant_env_credentials(ws)
    ws.env.update(env)
    attrs = {"max_retries": 1, **attrs}
    text = hcl.config(attrs.pop("endpoint", ws.endpoint), hcl.secret(name=ws.name(), value_wo_version="1"),
                      provider_attrs=attrs)
    if role is not None:
        ws.env.setdefault("AWS_ENDPOINT_URL_STS", ws.endpoint)
        lines = ['    role_arn = "arn:aws:iam::123456789012:role/offstate-e2e"'] if not role.startswith("role_arn") else []
        text = with_in_provider(text, "  assume_role {\n" + "\n".join(lines + ["    " + role]) + "\n  }\n")
    ws.write(text)
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=(0, 1), timeout=180)
    provider_stderr = res.stem.with_suffix(".provider.stderr")
    stderr = provider_stderr.read_text(errors="replace") if provider_stderr.exists() else ""
    for text in (res.output, res.stderr if hasattr(res, "stderr") else "", stderr):
        assert "panicked" not in text and "panic:" not in text, "the provider panicked (see the artifacts)"
    ws.sweep()


@pytest.mark.parametrize("case", list(ODD))
def test_odd_configuration_is_an_error_never_a_panic(ws, sm, case):
    attrs, env = ODD[case]
    _odd_run(ws, dict(attrs), env)


@pytest.mark.parametrize("case", list(ODD_ROLES))
def test_odd_assume_role_is_an_error_never_a_panic(ws, sm, case):
    _odd_run(ws, {}, {}, ODD_ROLES[case])


def test_assumed_role_token_echoed_by_secrets_manager(ws, sm):
    """The session token of the role assume_role obtained (moto's STS makes it: neither the
    test nor the provider's configuration knows it) echoed back by a gateway in front of Secrets
    Manager in a JSON error message: the diagnostic and the log must not show it."""
    import json as _json

    from harness import canary as canaries

    c = ws.canary()
    ws.set_var("secret", c)
    plant_env_credentials(ws)
    seen: list[str] = []

    def handle(h) -> None:
        h.rfile.read(int(h.headers.get("Content-Length", "0")))
        token = h.headers.get("X-Amz-Security-Token") or ""
        seen.append(token)
        body = _json.dumps({"__type": "AccessDeniedException", "Message": f"denied for token {token}"}).encode()
        send(h, 400, "application/x-amz-json-1.1", body)

    srv = Server(handle, methods=("POST",)).start()
    try:
        ws.env["AWS_ENDPOINT_URL_STS"] = ws.endpoint  # moto's STS answers AssumeRole
        gateway = srv.url
        text = hcl.config(gateway, hcl.secret(name=ws.name(), value_wo_version="1"), provider_attrs={"max_retries": 1})
        ws.write(with_in_provider(text, role_block()))
        res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
        assert error_diagnostics(res), res.output
    finally:
        srv.stop()
    tokens = {t for t in seen if t}
    assert tokens, "Secrets Manager got no session token"
    base_token_used = ws.env["AWS_SESSION_TOKEN"] in tokens
    assert not base_token_used, "Secrets Manager was called with the base credentials, not the role's"
    for t in tokens:
        ws.watch(canaries.wrap(t))
    assert_echo_shown(res)
    ws.sweep()


def test_web_identity_token_echoed_by_sts(ws, sm):
    """Web identity (IRSA, GitHub OIDC): AWS_WEB_IDENTITY_TOKEN_FILE's JWT goes to STS in the form
    body of AssumeRoleWithWebIdentity; an STS or gateway echoing that body must not put it in the
    diagnostic or the log."""
    c = ws.canary()
    ws.set_var("secret", c)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        ws.env.pop(k, None)
    jwt = ws.canary("webidentity")
    files = ws.dir.parent / "aws-files"
    files.mkdir(exist_ok=True)
    (files / "token").write_text(jwt.reveal() + "\n")
    ws.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = str(files / "token")
    ws.env["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/ci"
    ws.env["AWS_ROLE_SESSION_NAME"] = "ci"
    text = hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"),
                      provider_attrs={"max_retries": 1, "allowed_account_ids": [MOTO_ACCOUNT]})
    apply_against_echoing_sts(ws, text, "AssumeRoleWithWebIdentity")


@pytest.mark.parametrize("config_path", ["absolute", "home"])
def test_profile_web_identity_token_echoed_by_sts(ws, sm, config_path):
    """Web identity set in a profile (`role_arn` + `web_identity_token_file`, as EKS and CI
    runners write it) rather than through AWS_WEB_IDENTITY_TOKEN_FILE: the file's JWT goes to STS
    in the form body of AssumeRoleWithWebIdentity just the same, and an STS or gateway echoing that
    body must not put it in the diagnostic or the log. `home`: AWS_CONFIG_FILE is written
    `~/...` (quoted in a CI file, so no shell expanded it), which the SDK reads as $HOME/..."""
    c = ws.canary()
    ws.set_var("secret", c)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
              "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME"):
        ws.env.pop(k, None)
    jwt = ws.canary("profilewebid")
    files = ws.dir.parent / "aws-files"
    files.mkdir(exist_ok=True)
    (files / "profile-token").write_text(jwt.reveal() + "\n")
    (files / "webid-config").write_text(
        "[profile ci]\n"
        "role_arn = arn:aws:iam::123456789012:role/ci\n"
        f"web_identity_token_file = {files / 'profile-token'}\n"
        "role_session_name = ci\n"
    )
    if config_path == "home":
        ws.env["HOME"] = str(files)
        ws.env["AWS_CONFIG_FILE"] = "~/webid-config"
    else:
        ws.env["AWS_CONFIG_FILE"] = str(files / "webid-config")
    ws.env["AWS_SHARED_CREDENTIALS_FILE"] = str(files / "none")
    ws.env["AWS_PROFILE"] = "ci"
    text = hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"),
                      provider_attrs={"max_retries": 1, "allowed_account_ids": [MOTO_ACCOUNT]})
    apply_against_echoing_sts(ws, text, "AssumeRoleWithWebIdentity")


@pytest.mark.parametrize("source", ["env", "profile"])
def test_web_identity_token_rotated_after_configure_echoed_by_sts(ws, sm, source):
    """The token file rotated after ConfigureProvider (EKS/IRSA rotates it hourly; the SDK reads
    it again at every credentials refresh): the new JWT, which nothing read at ConfigureProvider,
    goes to STS in the form body of the next AssumeRoleWithWebIdentity, and an STS or gateway
    echoing that body must not put it in the diagnostic or the log.

    The STS stand-in answers the first AssumeRoleWithWebIdentity with credentials that expire
    within the SDK's refresh buffer (10 s) and rotates the file before it answers (as the kubelet
    would in between), then GetCallerIdentity (the account guard, at ConfigureProvider); the
    data source's Secrets Manager call then needs fresh credentials, and the second
    AssumeRoleWithWebIdentity, carrying the rotated token, is refused with the request echoed.
    One provider process configures (terraform plan), so the order is fixed."""
    import datetime
    import urllib.parse

    c = ws.canary()
    ws.set_var("secret", c)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
              "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME"):
        ws.env.pop(k, None)
    first, rotated = ws.canary("webidentity"), ws.canary("rotatedwebidentity")
    files = aws_files(ws)
    token_file = files / "rotating-token"
    token_file.write_text(first.reveal() + "\n")
    if source == "env":
        ws.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = str(token_file)
        ws.env["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/ci"
        ws.env["AWS_ROLE_SESSION_NAME"] = "ci"
    else:
        (files / "webid-config").write_text(
            "[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/ci\n"
            f"web_identity_token_file = {token_file}\nrole_session_name = ci\n")
        ws.env["AWS_CONFIG_FILE"] = str(files / "webid-config")
        ws.env["AWS_SHARED_CREDENTIALS_FILE"] = str(files / "none")
        ws.env["AWS_PROFILE"] = "ci"
    calls: list[str] = []
    tokens: list[str] = []

    def send_xml(h, status: int, xml: str) -> None:
        send(h, status, "text/xml", xml.encode())

    def handle(h) -> None:
        form = h.rfile.read(int(h.headers.get("Content-Length", "0"))).decode(errors="replace")
        fields = dict(urllib.parse.parse_qsl(form))
        action = fields.get("Action", "?")
        calls.append(action)
        ns = 'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"'
        if action == "GetCallerIdentity":
            send_xml(h, 200, f"<GetCallerIdentityResponse {ns}><GetCallerIdentityResult>"
                             "<Arn>arn:aws:sts::123456789012:assumed-role/ci/ci</Arn><UserId>AROAEXAMPLE:ci</UserId>"
                             f"<Account>{MOTO_ACCOUNT}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>")
            return
        tokens.append(fields.get("WebIdentityToken", "").strip())
        if action == "AssumeRoleWithWebIdentity" and len(tokens) == 1:
            token_file.write_text(rotated.reveal() + "\n")
            soon = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5))
            send_xml(h, 200, f"<AssumeRoleWithWebIdentityResponse {ns}><AssumeRoleWithWebIdentityResult>"
                             "<Credentials><AccessKeyId>ASIAEXAMPLEWEBID0001</AccessKeyId>"
                             "<SecretAccessKey>short-lived-key-for-the-test</SecretAccessKey>"
                             "<SessionToken>short-lived-token-for-the-test</SessionToken>"
                             f"<Expiration>{soon.strftime('%Y-%m-%dT%H:%M:%SZ')}</Expiration></Credentials>"
                             "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>")
            return
        text = f"request refused: body={form}"
        send_xml(h, 403, f"<ErrorResponse {ns}><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                         f"<Message>{escape(text)}</Message></Error>"
                         "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>")

    srv = Server(handle, methods=("POST",)).start()
    try:
        ws.env["AWS_ENDPOINT_URL_STS"] = srv.url
        text = hcl.config(ws.endpoint, 'data "offstate_secret" "d" {\n  name = "offstate-e2e-rotation"\n}\n',
                          provider_attrs={"max_retries": 1, "allowed_account_ids": [MOTO_ACCOUNT]})
        ws.write(text)
        res = ws.tf("plan", "-input=false", "-json", expect=1)
    finally:
        srv.stop()
    assert calls == ["AssumeRoleWithWebIdentity", "GetCallerIdentity", "AssumeRoleWithWebIdentity"], calls
    rotated_sent = tokens == [first.reveal(), rotated.reveal()]  # (pytest would show both lists)
    assert rotated_sent, "the SDK did not send the rotated token"
    details = " ".join(e["detail"] for e in error_diagnostics(res))
    assert "WebIdentityToken=[withheld]" in details, res.output
    # TF_LOG=debug names the sources the SDK's chain tried (the chain's own events are withheld),
    # by name only.
    stderr = res.stem.with_suffix(".provider.stderr").read_text(errors="replace")
    source_name = {"env": "Profile: none, WebIdentityToken", "profile": "Profile"}[source]
    for outcome in ("loaded", "failed"):
        assert f'"tried":"Environment: none, {source_name}: {outcome}"' in stderr, outcome
    ws.sweep()


# -- credentials the SDK finds by itself (credential_process, container, instance) -----------------

FAR_FUTURE = "2099-01-01T00:00:00Z"


def clear_static_credentials(ws) -> None:
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        ws.env.pop(k, None)


def aws_files(ws):
    """A folder beside the workspace (never swept: it holds canaries on purpose)."""
    files = ws.dir.parent / "aws-files"
    files.mkdir(exist_ok=True)
    return files


def process_profile(ws, script_text: str) -> dict:
    """A shared config file whose profile `proc` runs `script_text` as its credential_process;
    returns the provider attributes that select it."""
    files = aws_files(ws)
    script = files / "creds.sh"
    script.write_text(script_text)
    script.chmod(0o700)
    (files / "config").write_text(f"[profile proc]\ncredential_process = {script}\n")
    (files / "credentials").write_text("")
    return {"profile": "proc", "shared_config_files": [str(files / "config")],
            "shared_credentials_files": [str(files / "credentials")]}


class JsonServer(Server):
    """A loopback HTTP server answering every GET (and PUT) through `answer(path) -> (status, text)`:
    the container credentials endpoint, or the instance metadata service."""

    def __init__(self, answer) -> None:
        super().__init__(methods=("GET", "PUT"))
        self.answer = answer
        self.start()

    def handle(self, h) -> None:
        status, text = self.answer(h.command, h.path)
        ttl = (("X-aws-ec2-metadata-token-ttl-seconds", "21600"),) if h.command == "PUT" else ()
        send(h, status, "application/json" if text.startswith("{") else "text/plain", text.encode(), headers=ttl)


def plant_sdk_source(ws, source: str, key, token) -> tuple[dict, JsonServer | None]:
    """Base credentials (canaries) that only the SDK's own chain finds: a credential_process, the
    container credentials endpoint, or the instance metadata service. Returns the provider
    attributes to add and the server to close."""
    import json as _json

    clear_static_credentials(ws)
    creds = {"AccessKeyId": "ASIAEXAMPLEBASE00001", "SecretAccessKey": key.reveal(), "Token": token.reveal(),
             "Expiration": FAR_FUTURE}
    if source == "credential_process":
        out = {"Version": 1, "AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": key.reveal(),
               "SessionToken": token.reveal(), "Expiration": FAR_FUTURE}
        return process_profile(ws, "#!/bin/sh\ncat <<'EOF'\n" + _json.dumps(out) + "\nEOF\n"), None
    if source == "container":
        srv = JsonServer(lambda method, path: (200, _json.dumps(creds)))
        ws.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = srv.url + "/creds"
        return {}, srv
    assert source == "imds"

    def imds(method: str, path: str) -> tuple[int, str]:
        if method == "PUT":
            return 200, "imds-session-token-for-the-test"
        if path.rstrip("/").endswith(("security-credentials", "security-credentials-extended")):
            return 200, "e2e-role"
        if path.endswith("/e2e-role"):
            return 200, _json.dumps({"Code": "Success", "Type": "AWS-HMAC", "LastUpdated": "2026-01-01T00:00:00Z",
                                     **creds})
        return 404, "not found"

    srv = JsonServer(imds)
    ws.env.pop("AWS_EC2_METADATA_DISABLED", None)
    ws.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = srv.url
    return {}, srv


SDK_SOURCES = ["credential_process", "container", "imds"]


@pytest.mark.parametrize("source", SDK_SOURCES)
def test_sdk_found_base_credentials_through_assume_role(ws, sm, source):
    """Base credentials from a source only the SDK reads, used for assume_role against moto's STS
    and the account guard: the path that works."""
    c = ws.canary()
    ws.set_var("secret", c)
    key, token = ws.canary("basekey"), ws.canary("basetoken")
    attrs, srv = plant_sdk_source(ws, source, key, token)
    try:
        ws.env["AWS_ENDPOINT_URL_STS"] = ws.endpoint
        name = ws.name()
        text = hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"),
                          provider_attrs={**attrs, "max_retries": 1, "allowed_account_ids": [MOTO_ACCOUNT]})
        ws.write(with_in_provider(text, role_block()))
        ws.apply()
        store.assert_value(sm, name, c)
        ws.destroy()
    finally:
        if srv:
            srv.close()
    ws.sweep()


@pytest.mark.parametrize("source", SDK_SOURCES)
def test_sdk_found_base_credentials_echoed_by_sts(ws, sm, source):
    """The same base credentials, and an STS (or a gateway before it) that echoes the AssumeRole
    request, session token header included, in its error: the provider never saw these
    credentials, the SDK's own STS client sent them, and still they are withheld."""
    ws.set_var("secret", own_value(ws))
    key, token = ws.canary("basekey"), ws.canary("basetoken")
    attrs, srv = plant_sdk_source(ws, source, key, token)
    text = hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"),
                      provider_attrs={**attrs, "max_retries": 1})
    apply_against_echoing_sts(ws, with_in_provider(text, role_block()), "AssumeRole", srv)


def _bad_answer(kind: str, key: str, token: str) -> tuple[int, str]:
    import json as _json

    creds = {"Code": "Success", "AccessKeyId": "ASIAEXAMPLEBASE00001", "SecretAccessKey": key, "Token": token,
             "Expiration": FAR_FUTURE}
    if kind == "error-status":  # a broken agent or a proxy answering 500 with what it had
        return 500, _json.dumps(creds)
    if kind == "truncated":
        return 200, _json.dumps(creds)[:-30]
    if kind == "not-json":
        return 200, f"SecretAccessKey={key} Token={token}"
    if kind == "bad-expiration":
        return 200, _json.dumps({**creds, "Expiration": f"soon-{key}"})
    if kind == "no-token":
        return 200, _json.dumps({k: v for k, v in creds.items() if k != "Token"})
    raise AssertionError(kind)


MALFORMED_SOURCES = [(source, kind) for source in ("container", "imds")
                     for kind in ("error-status", "truncated", "not-json", "bad-expiration", "no-token")]


@pytest.mark.parametrize("source,kind", MALFORMED_SOURCES)
def test_malformed_container_or_instance_credentials_are_not_quoted(ws, sm, source, kind):
    """The container credentials endpoint or the instance metadata service answering with a body
    that holds credentials but is not what the SDK reads (an error status, cut-off or non-JSON
    text, a bad field): the SDK's error must not quote that body into the diagnostic or the log.
    The credentials were never handed on, so nothing registered them."""
    c = ws.canary()
    ws.set_var("secret", c)
    key, token = ws.canary("badbodykey"), ws.canary("badbodytoken")
    clear_static_credentials(ws)
    answer = _bad_answer(kind, key.reveal(), token.reveal())
    if source == "container":
        srv = JsonServer(lambda method, path: answer)
        ws.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = srv.url + "/creds"
    else:
        def imds(method: str, path: str) -> tuple[int, str]:
            if method == "PUT":
                return 200, "imds-session-token-for-the-test"
            if path.rstrip("/").endswith(("security-credentials", "security-credentials-extended")):
                return 200, "e2e-role"
            if path.endswith("/e2e-role"):
                return answer
            return 404, "not found"

        srv = JsonServer(imds)
        ws.env.pop("AWS_EC2_METADATA_DISABLED", None)
        ws.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = srv.url
    try:
        ws.write(hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"),
                            provider_attrs={"max_retries": 1}))
        res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1, timeout=180)
        assert error_diagnostics(res), res.output
    finally:
        srv.close()
    ws.sweep()


PROCESS_FAILURES = {
    # exit status, stdout, stderr: {c} is the canary
    "exit-with-stderr": (3, "", "could not refresh: token={c}"),
    "stdout-not-json": (0, "not json: {c}", ""),
    "stdout-json-bad-version": (0, '{{"Version": "{c}", "AccessKeyId": "A", "SecretAccessKey": "{c}"}}', ""),
}


@pytest.mark.parametrize("failure", list(PROCESS_FAILURES))
def test_failing_credential_process_output_is_withheld(ws, sm, failure):
    """A credential_process that fails, printing a token on stderr (or garbage on stdout): the
    SDK quotes that output in its error; the diagnostic says the process failed, with its exit
    status, and withholds what it printed."""
    c = ws.canary()
    ws.set_var("secret", c)
    printed = ws.canary("processoutput")
    status, out, err = PROCESS_FAILURES[failure]
    clear_static_credentials(ws)
    script = "#!/bin/sh\n"
    if out:
        script += "cat <<'EOF'\n" + out.format(c=printed.reveal()) + "\nEOF\n"
    if err:
        script += "cat >&2 <<'EOF'\n" + err.format(c=printed.reveal()) + "\nEOF\n"
    script += f"exit {status}\n"
    attrs = process_profile(ws, script)
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"),
                        provider_attrs={**attrs, "max_retries": 1}))
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    details = [e["detail"] for e in error_diagnostics(res)]
    assert any("credential_process failed" in d and "its output is withheld" in d for d in details), res.output
    assert not any("Error retrieving credentials" in d for d in details), "the SDK's error text was kept"
    if status:
        assert any(f"exit status: {status}" in d for d in details), res.output
    ws.sweep()


ENV_PROBLEMS = {
    # variables ({pw} is a canary password), the variable the diagnostic names
    "https-proxy-unknown-scheme": ({"HTTPS_PROXY": "htp://user:{pw}@proxy.invalid:3128"}, "HTTPS_PROXY"),
    "http-proxy-space": ({"HTTP_PROXY": "http://user:{pw}@proxy.invalid:3128 x"}, "HTTP_PROXY"),
    "https-proxy-lowercase-path-no-scheme": ({"https_proxy": "user:{pw}@proxy.invalid:3128/"}, "https_proxy"),
    "all-proxy-socks": ({"ALL_PROXY": "socks5://user:{pw}@127.0.0.1:9"}, "ALL_PROXY"),
    # the SDK's client drops the malformed HTTPS_PROXY and uses ALL_PROXY's proxy in its place:
    # still an error, which says so (not that requests would go without a proxy)
    "https-proxy-unknown-scheme-all-proxy-usable": ({"HTTPS_PROXY": "htp://user:{pw}@proxy.invalid:3128",
                                                     "ALL_PROXY": "http://user:{pw}@proxy.invalid:3128"},
                                                    "HTTPS_PROXY"),
    "fips-maybe": ({"AWS_USE_FIPS_ENDPOINT": "maybe"}, "AWS_USE_FIPS_ENDPOINT"),
    "dualstack-maybe": ({"AWS_USE_DUALSTACK_ENDPOINT": "maybe"}, "AWS_USE_DUALSTACK_ENDPOINT"),
    # a CGI environment: the SDK's client ignores every proxy (Terraform's Go client still
    # uses HTTPS_PROXY)
    "cgi-https-proxy": ({"REQUEST_METHOD": "GET", "HTTPS_PROXY": "http://user:{pw}@proxy.invalid:3128"},
                        "HTTPS_PROXY"),
}


@pytest.mark.parametrize("case", list(ENV_PROBLEMS))
def test_malformed_environment_is_an_error_naming_the_variable(ws, sm, case):
    """A proxy variable the HTTP client cannot use, or a FIPS/dual-stack switch that is not a
    boolean, was silently ignored (requests went direct, or to the regular endpoint). Now it is an
    error naming the variable and what it accepts, and a proxy URL is never quoted (it may hold a
    password): nothing in the diagnostic needed masking."""
    c = ws.canary()
    ws.set_var("secret", c)
    pw = ws.canary("proxypw")
    env, var = ENV_PROBLEMS[case]
    for k in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
              "all_proxy", "REQUEST_METHOD"):
        ws.env.pop(k, None)
    ws.env.update({k: v.format(pw=pw.reveal()) for k, v in env.items()})
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"),
                        provider_attrs={"max_retries": 1}))
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    errors = error_diagnostics(res)
    named = [e for e in errors if var in e["summary"] + e["detail"]]
    assert named, res.output
    for e in named:
        assert "[withheld]" not in e["summary"] + e["detail"], "the diagnostic quoted a masked value"
        assert "proxy.invalid" not in e["detail"], "the diagnostic quoted the proxy URL"
        if "ALL_PROXY" in env and var != "ALL_PROXY":
            assert "through the proxy in ALL_PROXY instead" in e["detail"], e["detail"]
            assert "without the proxy" not in e["detail"], e["detail"]
    ws.sweep()


@pytest.mark.parametrize("setting", ["use_fips_endpoint", "use_dualstack_endpoint"])
def test_profile_switch_that_is_not_a_boolean_is_an_error(ws, sm, setting):
    """`use_fips_endpoint = yes` (or the dual-stack switch) in the selected profile of the shared
    config file: aws-config drops it with a warning in the log only, and the provider connected to
    the regular endpoint. Now it is an error naming the setting and the profile, as the
    environment variable's is; a profile that does not select it is not concerned."""
    c = ws.canary()
    ws.set_var("secret", c)
    plant_env_credentials(ws)
    for k in ("AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_PROFILE"):
        ws.env.pop(k, None)
    files = aws_files(ws)
    (files / "switch-config").write_text(f"[profile odd]\n{setting} = yes\n\n[profile fine]\n{setting} = false\n")
    name = ws.name()
    attrs = {"profile": "odd", "shared_config_files": [str(files / "switch-config")], "max_retries": 1}
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"), provider_attrs=attrs))
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    errors = error_diagnostics(res)
    assert [e["summary"] for e in errors] == [f"Invalid shared config setting {setting}"], res.output
    assert 'profile "odd"' in errors[0]["detail"] and "true or false" in errors[0]["detail"], errors[0]
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"),
                        provider_attrs={**attrs, "profile": "fine"}))
    ws.apply()
    store.assert_value(sm, name, c)
    ws.destroy()
    ws.sweep()


NO_PROXY_WARNINGS = {
    # NO_PROXY forms Go (and so Terraform) honours but the SDK's HTTP client matches no host with
    "no-proxy-wildcard": ({"NO_PROXY": "127.0.0.1,localhost,*.example.com"}, "NO_PROXY"),
    "no-proxy-port": ({"no_proxy": "127.0.0.1,localhost:8443"}, "no_proxy"),
    # set but empty (as CI systems export unset inputs): aws-config reads it, not the profile's
    # use_fips_endpoint, and drops it; a warning, not an error
    "fips-empty": ({"NO_PROXY": "127.0.0.1,localhost", "AWS_USE_FIPS_ENDPOINT": ""}, "AWS_USE_FIPS_ENDPOINT"),
    # an empty HTTPS_PROXY (a CI system's unset input) hides the runner's https_proxy from the
    # SDK's HTTP client, which reads the first one set; Terraform reads the first not empty
    "https-proxy-empty-hides-lowercase": ({"NO_PROXY": "127.0.0.1,localhost", "HTTPS_PROXY": "",
                                           "https_proxy": "http://proxy.invalid:9"}, "HTTPS_PROXY"),
}


@pytest.mark.parametrize("case", list(NO_PROXY_WARNINGS))
def test_a_no_proxy_entry_the_sdk_cannot_match_is_a_warning(ws, sm, case):
    """`*.corp` and `host:443` in NO_PROXY are common where Go tools read the same environment
    (Terraform honours them), so they must not stop the provider: the apply goes on (the loopback
    endpoint is listed plainly, so it is reached directly) with a warning naming the variable and
    the entry, and the proxy URL, which holds a canary password, is quoted nowhere."""
    c = ws.canary()
    ws.set_var("secret", c)
    pw = ws.canary("proxypw")
    env, var = NO_PROXY_WARNINGS[case]
    for k in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
              "all_proxy", "REQUEST_METHOD"):
        ws.env.pop(k, None)
    ws.env.update({"HTTP_PROXY": f"http://user:{pw.reveal()}@proxy.invalid:9", **env})
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"),
                        provider_attrs={"max_retries": 1}))
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=0)
    warnings = [
        m["diagnostic"]
        for m in res.json_lines()
        if m.get("type") == "diagnostic" and m["diagnostic"].get("severity") == "warning"
        and var in m["diagnostic"]["summary"]
    ]
    assert warnings, res.output
    assert all("proxy.invalid" not in w["detail"] for w in warnings), "the warning quoted the proxy URL"
    store.assert_value(sm, name, c)
    ws.sweep()


@pytest.mark.parametrize("source", SDK_SOURCES)
def test_profile_role_over_sdk_found_credentials_echoed_by_sts(ws, sm, source):
    """A role the profile assumes itself (role_arn with source_profile = a credential_process, or
    credential_source = EcsContainer / Ec2InstanceMetadata): the SDK's profile chain signs its own
    AssumeRole with the base credentials and never hands them out, so only what goes on the wire
    can tell them. An echoing STS must not put the base session token in the diagnostic."""
    ws.set_var("secret", own_value(ws))
    key, token = ws.canary("basekey"), ws.canary("basetoken")
    attrs, srv = plant_sdk_source(ws, source, key, token)
    files = aws_files(ws)
    role = "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\n"
    if source == "credential_process":
        role += "source_profile = proc\n\n" + (files / "config").read_text()
    else:
        role += "credential_source = " + {"container": "EcsContainer", "imds": "Ec2InstanceMetadata"}[source] + "\n"
        (files / "credentials").write_text("")
    (files / "config").write_text(role)
    attrs = {"profile": "deploy", "shared_config_files": [str(files / "config")],
             "shared_credentials_files": [str(files / "credentials")], "max_retries": 1}
    text = hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"), provider_attrs=attrs)
    apply_against_echoing_sts(ws, text, "AssumeRole", srv)


def test_sso_cached_token_echoed_by_the_portal(ws, sm):
    """SSO (legacy profile: sso_start_url, sso_account_id, sso_role_name): the access token the
    SDK reads from ~/.aws/sso/cache goes to the portal's GetRoleCredentials in a header; a portal
    (or a gateway before it) that echoes the request in its error must not put it in the
    diagnostic or the log."""
    import hashlib
    import json as _json

    ws.set_var("secret", own_value(ws))
    clear_static_credentials(ws)
    access = ws.canary("ssoaccesstoken")
    home = ws.dir.parent / "home"
    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    start_url = "https://offstate-e2e.awsapps.com/start"
    (cache / (hashlib.sha1(start_url.encode()).hexdigest() + ".json")).write_text(_json.dumps(
        {"accessToken": access.reveal(), "expiresAt": FAR_FUTURE, "region": "us-east-1", "startUrl": start_url}))
    files = aws_files(ws)
    (files / "config").write_text(
        f"[profile sso]\nsso_start_url = {start_url}\nsso_region = us-east-1\n"
        "sso_account_id = 123456789012\nsso_role_name = deploy\n")
    (files / "credentials").write_text("")
    calls: list[str] = []

    def handle(h) -> None:
        calls.append(h.path.split("?")[0])
        body = _json.dumps({"message": f"denied: you sent {h.headers.get('x-amz-sso_bearer_token')}"}).encode()
        send(h, 401, "application/json", body, headers=(("x-amzn-ErrorType", "UnauthorizedException"),))

    srv = Server(handle, methods=("GET",)).start()
    try:
        ws.env["HOME"] = str(home)
        ws.env["AWS_ENDPOINT_URL_SSO"] = srv.url
        attrs = {"profile": "sso", "shared_config_files": [str(files / "config")],
                 "shared_credentials_files": [str(files / "credentials")], "max_retries": 1}
        ws.write(hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1"), provider_attrs=attrs))
        res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
        assert error_diagnostics(res), res.output
    finally:
        srv.stop()
    assert "/federation/credentials" in calls, calls
    assert_echo_shown(res)
    ws.sweep()


@pytest.mark.parametrize("port", ["9", "99999"], ids=["refused", "port-out-of-range"])
@pytest.mark.parametrize("where", ["profile", "services-section"])
def test_profile_endpoint_url_password(ws, sm, where, port):
    """A profile's `endpoint_url` (or its `[services]` section's) written with a password
    (`http://user:PASSWORD@host/`): the SDK reads it as it reads AWS_ENDPOINT_URL, and the
    messages and trace log lines that quote the endpoint carried the password, where the same
    URL in AWS_ENDPOINT_URL or the `endpoint` argument was masked. The endpoint refuses
    connections or has a port out of range (an error quoting the URL), so the apply fails with an
    error diagnostic; the sweep finds no canary."""
    from urllib.parse import quote

    c = ws.canary()
    ws.set_var("secret", c)
    pw = ws.canary("endpointpw")
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_STS"):
        ws.env.pop(k, None)
    files = ws.dir.parent / "aws-files"
    files.mkdir(exist_ok=True)
    url = f"http://ci:{quote(pw.reveal(), safe='')}@127.0.0.1:{port}/"
    if where == "profile":
        profile = f"endpoint_url = {url}\n"
        services = ""
    else:
        profile = "services = ep\n"
        services = f"[services ep]\nsecretsmanager =\n  endpoint_url = {url}\n"
    (files / "endpoint-config").write_text(f"[profile ep]\nregion = us-east-1\n{profile}{services}")
    ws.env["AWS_CONFIG_FILE"] = str(files / "endpoint-config")
    ws.env["AWS_PROFILE"] = "ep"
    ws.write(hcl.config(None, hcl.secret(name=ws.name(), value_wo_version="1"),
                        provider_attrs={"max_retries": 1}))
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    assert error_diagnostics(res), "the apply failed without an error diagnostic"
    ws.sweep()
