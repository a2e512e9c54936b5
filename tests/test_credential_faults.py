"""Credentials that stop working: assume_role's STS AssumeRole refused because the credentials it
is signed with expired, or because this computer's clock is more than 5 minutes off. The error
names STS's code and what to do (new credentials; the clock), not a bare dispatch failure, and the
canary sweep finds no credential (keys, session token, external_id are canaries) in any artifact.
(Secrets Manager refusing a call for the same reasons: test_failure_injection.py.)"""

from __future__ import annotations

import pytest

from harness import canary as canaries
from harness import hcl
from test_credentials_leaks import (FakeSts, error_diagnostics, own_value, plant_env_credentials, role_block,
                                    with_in_provider)

pytestmark = [pytest.mark.e2e, pytest.mark.lifecycle]


# STS refusing assume_role's AssumeRole for a fault of the credentials it was signed with, and
# what the error must then say to do.
STS_CREDENTIAL_FAULTS = {
    "session-expired": (403, "ExpiredToken", "The security token included in the request is expired",
                        "session has expired"),
    "clock-skew": (403, "SignatureDoesNotMatch",
                   "Signature expired: 20261128T000000Z is now earlier than 20261128T000500Z "
                   "(20261128T001000Z - 5 min.)", "clock differs from AWS's"),
}


def apply_refused_by_sts(ws, sm, fault: str, name: str, config: str) -> tuple[list[str], str]:
    """`terraform apply` of `config`, which creates the secret `name`, while a fake STS refuses
    AssumeRole with `fault` (a key of STS_CREDENTIAL_FAULTS): the apply fails, STS was asked and
    the secret was not created. Returns the error diagnostics, each its summary and detail on one
    line, and their text redacted (and cut) for an assert's message."""
    status, code, message, _advice = STS_CREDENTIAL_FAULTS[fault]
    sts = FakeSts(status=status, code=code, message=message)
    try:
        ws.env["AWS_ENDPOINT_URL_STS"] = sts.url
        ws.write(config)
        res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    finally:
        sts.close()
    assert sts.calls, "STS was not asked"
    assert not sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]
    details = [" ".join((d.get("summary", "") + " " + d.get("detail", "")).split()) for d in error_diagnostics(res)]
    shown = canaries.redact(repr([d[:700] for d in details]))
    return details, shown


@pytest.mark.parametrize("fault", list(STS_CREDENTIAL_FAULTS))
def test_assume_role_refused_for_expired_credentials_or_a_wrong_clock_names_the_fix(ws, sm, fault):
    """The base credentials expired (or the clock is off) when assume_role asks STS: the error
    names STS's code and what to do, not a bare dispatch failure, and shows no credential."""
    _status, code, _message, advice = STS_CREDENTIAL_FAULTS[fault]
    ws.set_var("secret", own_value(ws))
    plant_env_credentials(ws)
    ws.set_var("ext", ws.canary("externalid"))
    name = ws.name()
    text = hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"),
                      provider_attrs={"max_retries": 1}, variables=("secret", "ext"))
    config = with_in_provider(text, role_block("ext", 'jsonencode({ Version = "2012-10-17", Statement = [] })'))
    details, shown = apply_refused_by_sts(ws, sm, fault, name, config)
    assert details and all(code in d and "AssumeRole" in d for d in details), f"names STS's code: {shown}"
    assert all(advice in d for d in details), f"says what to do ({advice!r}): {shown}"
    assert not any("DispatchFailure" in d for d in details), f"not a bare dispatch failure: {shown}"
    ws.sweep()


def test_a_profile_role_refused_for_expired_base_credentials_names_the_fix_not_assume_role(ws, sm):
    """The role is the profile's (role_arn + source_profile), not the provider's assume_role, and
    STS refuses its AssumeRole because the source profile's session expired: the error names the
    code and the fix, and does not send the user to an `assume_role` block the configuration lacks."""
    ws.set_var("secret", own_value(ws))
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        ws.env.pop(k, None)
    key, token = ws.canary("filekey"), ws.canary("filetoken")
    files = ws.dir.parent / "aws-files"
    files.mkdir(exist_ok=True)
    (files / "config").write_text(
        "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = base\n\n[profile base]\n")
    (files / "credentials").write_text(
        f"[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {key.reveal()}\n"
        f"aws_session_token = {token.reveal()}\n")
    _status, code, _message, advice = STS_CREDENTIAL_FAULTS["session-expired"]
    name = ws.name()
    attrs = {"profile": "deploy", "shared_config_files": [str(files / "config")],
             "shared_credentials_files": [str(files / "credentials")], "max_retries": 1}
    config = hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"), provider_attrs=attrs,
                        variables=("secret",))
    details, shown = apply_refused_by_sts(ws, sm, "session-expired", name, config)
    assert details and all(code in d for d in details), f"names STS's code: {shown}"
    assert all(advice in d for d in details), f"says what to do ({advice!r}): {shown}"
    assert not any("(assume_role)" in d for d in details), f"no assume_role block to blame: {shown}"
    ws.sweep()
