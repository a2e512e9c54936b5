"""assume_role end to end: each option reaches STS AssumeRole as configured, Secrets Manager is then
called with the role's credentials (not the base ones), bad values are refused on their attribute
before STS is asked, and neither the external id nor the role's session token reaches an artifact.

STS and Secrets Manager are moto, behind a relay (harness/relay.py) that keeps in memory what each
request carried: AssumeRole's form body, and which access key and session token signed each
Secrets Manager call. What it keeps is compared, never printed (it holds the external id and the
session tokens, both canaries).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from harness import canary as canaries
from harness import hcl
from harness import store
from harness.relay import Relay

pytestmark = [pytest.mark.e2e, pytest.mark.lifecycle]

ROLE = "arn:aws:iam::123456789012:role/offstate-e2e"
BASE_KEY = "AKIAOFFSTATEBASE0001"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}],
}
POLICY_ARNS = {
    "arn:aws:iam::aws:policy/SecretsManagerReadWrite",
    "arn:aws:iam::123456789012:policy/offstate-narrow",
}
TAGS = {"team": "payments", "cost-center": "cc:42/x"}


def in_provider(text: str, block: str) -> str:
    return text.replace('provider "offstate" {\n', 'provider "offstate" {\n' + block, 1)


def role_block(lines: list[str]) -> str:
    return "  assume_role {\n" + "".join(f"    {l}\n" for l in lines) + "  }\n"


def base_credentials(ws) -> canaries.Canary:
    """The base credentials, from the environment: a known access key id, a canary secret key
    and session token; returns the token."""
    key, token = ws.canary("basesecret"), ws.canary("basetoken")
    ws.env["AWS_ACCESS_KEY_ID"] = BASE_KEY
    ws.env["AWS_SECRET_ACCESS_KEY"] = key.reveal()
    ws.env["AWS_SESSION_TOKEN"] = token.reveal()
    return token


def assumed_credentials(answer: bytes) -> tuple[str, str, str]:
    """(access key id, secret access key, session token) of an AssumeRole answer."""
    root = ET.fromstring(answer)
    found = {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root.iter()}
    return found["AccessKeyId"], found["SecretAccessKey"], found["SessionToken"]


def members(form: dict[str, list[str]], prefix: str) -> dict[str, dict[str, str]]:
    """`Tags.member.1.Key=k&Tags.member.1.Value=v` as {"1": {"Key": "k", "Value": "v"}}."""
    out: dict[str, dict[str, str]] = {}
    for k, v in form.items():
        if k.startswith(prefix + ".member."):
            n, _, field = k[len(prefix) + 8 :].partition(".")
            out.setdefault(n, {})[field] = v[0]
    return out


@pytest.mark.parametrize("duration", ["duration_seconds = 1800", 'duration         = "30m"'])
def test_every_option_reaches_sts_and_secrets_manager_uses_the_role(ws, sm, duration):
    c = ws.canary()
    ws.set_var("secret", c)
    external_id = ws.canary("extid")  # offstate-extid-<hex>: AWS's ExternalId characters
    ws.set_var("external_id", external_id)
    base_token = base_credentials(ws)
    name = ws.name()
    with Relay(ws.endpoint) as relay:
        ws.env["AWS_ENDPOINT_URL_STS"] = relay.url
        text = hcl.config(relay.url, hcl.secret(name=name, value_wo_version="1"), variables=("secret", "external_id"))
        text = in_provider(
            text,
            role_block(
                [
                    f"role_arn         = {hcl.lit(ROLE)}",
                    'session_name     = "offstate-e2e-options"',
                    "external_id      = var.external_id",
                    duration,
                    f"policy           = jsonencode({hcl.lit(POLICY)})",
                    f"policy_arns      = {json.dumps(sorted(POLICY_ARNS))}",
                    f"tags             = {hcl.lit(TAGS)}",
                    'transitive_tag_keys = ["team"]',
                    'source_identity  = "ci-run@offstate"',
                ]
            ),
        )
        ws.write(text)
        ws.apply()
        store.assert_value(sm, name, c)

        calls = relay.calls("AssumeRole")
        assert calls, f"STS was not asked to assume the role: {relay.operations()}"
        for call in calls:
            f = call.form
            assert f.get("RoleArn") == [ROLE], "RoleArn"
            assert f.get("RoleSessionName") == ["offstate-e2e-options"], "RoleSessionName"
            same_id = f.get("ExternalId") == [external_id.reveal()]
            assert same_id, "ExternalId did not reach STS as configured"
            assert f.get("DurationSeconds") == ["1800"], "DurationSeconds"
            assert json.loads(f.get("Policy", ["null"])[0]) == POLICY, "Policy"
            arns = {m.get("arn") for m in members(f, "PolicyArns").values()}
            assert arns == POLICY_ARNS, arns
            tags = {m.get("Key"): m.get("Value") for m in members(f, "Tags").values()}
            assert tags == TAGS, tags
            transitive = [m.get("") for m in members(f, "TransitiveTagKeys").values()]
            assert transitive == ["team"], transitive
            assert f.get("SourceIdentity") == ["ci-run@offstate"], "SourceIdentity"
            assert call.access_key == BASE_KEY, "AssumeRole was not signed with the base credentials"
            base_signed = call.session_token == base_token.reveal()
            assert base_signed, "AssumeRole did not carry the base session token"

        # Every Secrets Manager call is signed by a role session STS handed out, none by the
        # base key; the session tokens are the ones STS answered.
        sessions = {}
        for call in calls:
            key, secret_key, token = assumed_credentials(call.answer)
            sessions[key] = token
            ws.watch(canaries.wrap(secret_key))
            ws.watch(canaries.wrap(token))
        sm_calls = [s for s in relay.seen if s.service == "secretsmanager"]
        assert sm_calls, relay.operations()
        assert not [s.operation for s in sm_calls if s.access_key == BASE_KEY], "called with the base key"
        unknown = [s.operation for s in sm_calls if s.access_key not in sessions]
        assert not unknown, f"signed by a key STS never handed out: {unknown}"
        wrong = [s.operation for s in sm_calls if s.session_token != sessions[s.access_key]]
        assert not wrong, f"not the role session's token: {wrong}"

        # A saved plan, its JSON, the state and every log of these runs are swept (below).
        ws.assert_no_changes()
        ws.destroy()
    ws.sweep()


# (attribute line in assume_role, attribute, diagnostic summary)
BAD = {
    "duration-below-15m": ("duration_seconds = 899", "duration_seconds", "Invalid session duration"),
    "duration-above-12h": ("duration_seconds = 43201", "duration_seconds", "Invalid session duration"),
    "duration-fraction": ("duration_seconds = 900.5", "duration_seconds", "Invalid session duration"),
    "duration-string-not-go": ('duration = "1 hour"', "duration", "Invalid session duration"),
    "duration-string-below-15m": ('duration = "14m59s"', "duration", "Invalid session duration"),
    "duration-string-above-12h": ('duration = "12h0m1s"', "duration", "Invalid session duration"),
    "duration-and-duration-seconds": (
        'duration = "1h"\n    duration_seconds = 3600',
        "duration",
        "Conflicting configuration arguments",
    ),
    "role-arn-not-an-arn": ('role_arn = "offstate-e2e"', "role_arn", "Invalid role ARN"),
    "role-arn-of-a-user": ('role_arn = "arn:aws:iam::123456789012:user/ci"', "role_arn", "Invalid role ARN"),
    "role-arn-of-a-bucket": ('role_arn = "arn:aws:s3:::bucket"', "role_arn", "Invalid role ARN"),
    "role-arn-no-name": ('role_arn = "arn:aws:iam::123456789012:role/"', "role_arn", "Invalid role ARN"),
    "too-many-tags": (
        "tags = { " + ", ".join(f'"k{i}" = "v"' for i in range(51)) + " }",
        "tags",
        "Too many session tags",
    ),
    "tag-key-too-long": ('tags = { "' + "k" * 129 + '" = "v" }', "tags", "Invalid session tag"),
    "tag-value-too-long": ('tags = { k = "' + "v" * 257 + '" }', "tags", "Invalid session tag"),
    "tag-key-empty": ('tags = { "" = "v" }', "tags", "Invalid session tag"),
    "tag-value-semicolon": ('tags = { k = "a;b" }', "tags", "Invalid session tag"),
    # A mark is not \p{L}: a combining accent, and a Devanagari vowel sign (taken before). Not
    # "e\u0301": Terraform composes a string literal (NFC), and é is a letter.
    "tag-value-combining-accent": ('tags = { k = "x\\u0301" }', "tags", "Invalid session tag"),
    "tag-key-vowel-sign": ('tags = { "\\u0928\\u093e\\u092e" = "v" }', "tags", "Invalid session tag"),
    "policy-not-json": ('policy = "Allow everything"', "policy", "Invalid session policy"),
    "policy-a-list": ("policy = jsonencode([1, 2])", "policy", "Invalid session policy"),
    "policy-too-long": (
        'policy = jsonencode({ Version = "2012-10-17", Statement = [for i in range(40) : '
        '{ Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::b${i}/*" }] })',
        "policy",
        "Invalid session policy",
    ),
    "too-many-policy-arns": (
        "policy_arns = [" + ", ".join(f'"arn:aws:iam::aws:policy/p{i}"' for i in range(11)) + "]",
        "policy_arns",
        "Too many policy ARNs",
    ),
    "session-name-space": ('session_name = "two words"', "session_name", "Invalid session name"),
    "transitive-key-not-a-tag": (
        'transitive_tag_keys = ["team"]\n    tags = { env = "e2e" }',
        "transitive_tag_keys",
        "Invalid transitive tag keys",
    ),
    "transitive-key-without-tags": ('transitive_tag_keys = ["team"]', "transitive_tag_keys", "Invalid transitive tag keys"),
    "source-identity-space": ('source_identity = "ci run"', "source_identity", "Invalid source identity"),
    "source-identity-one-char": ('source_identity = "x"', "source_identity", "Invalid source identity"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_values_are_refused_on_their_attribute_before_sts(ws, sm, case):
    line, attr, summary = BAD[case]
    c = ws.canary()
    ws.set_var("secret", c)
    base_credentials(ws)
    lines = [line] if attr == "role_arn" else [f"role_arn = {hcl.lit(ROLE)}", line]
    with Relay(ws.endpoint) as relay:
        ws.env["AWS_ENDPOINT_URL_STS"] = relay.url
        text = in_provider(hcl.config(relay.url, hcl.secret(name=ws.name(), value_wo_version="1")), role_block(lines))
        ws.write(text)
        want_line = next(i for i, l in enumerate(text.splitlines(), 1) if l.strip().startswith(attr + " "))
        for cmd in (("validate", "-json"), ("plan", "-input=false", "-json")):
            res = ws.tf(*cmd, expect=1)
            if cmd[0] == "validate":
                diags = res.json()["diagnostics"]
            else:
                diags = [m["diagnostic"] for m in res.json_lines() if m.get("type") == "diagnostic"]
            errors = [d for d in diags if d.get("severity") == "error"]
            assert [d["summary"] for d in errors] == [summary], (cmd[0], errors)
            got = errors[0].get("range", {}).get("start", {}).get("line")
            assert got == want_line, (cmd[0], got, want_line, errors[0])
        assert not relay.seen, f"a bad assume_role reached AWS: {relay.operations()}"
    ws.sweep()


def test_a_bad_role_arn_from_a_variable_is_refused_at_plan_on_its_line(ws, sm):
    """`terraform validate` sees variables unknown and lets role_arn through; the plan, with the
    value known, refuses it on the attribute, before STS is asked."""
    c = ws.canary()
    ws.set_var("secret", c)
    base_credentials(ws)
    ws.set_var("role", "arn:aws:iam::123456789012:user/ci")
    with Relay(ws.endpoint) as relay:
        ws.env["AWS_ENDPOINT_URL_STS"] = relay.url
        text = hcl.config(relay.url, hcl.secret(name=ws.name(), value_wo_version="1"))
        text = in_provider(text, role_block(["role_arn = var.role"])) + 'variable "role" {\n  type = string\n}\n'
        ws.write(text)
        want_line = next(i for i, l in enumerate(text.splitlines(), 1) if l.strip().startswith("role_arn "))
        ws.validate()
        res = ws.tf("plan", "-input=false", "-json", expect=1)
        errors = [
            m["diagnostic"]
            for m in res.json_lines()
            if m.get("type") == "diagnostic" and m["diagnostic"].get("severity") == "error"
        ]
        assert [d["summary"] for d in errors] == ["Invalid role ARN"], errors
        assert errors[0].get("range", {}).get("start", {}).get("line") == want_line, errors[0]
        assert not relay.seen, f"a bad assume_role reached AWS: {relay.operations()}"
    ws.sweep()
