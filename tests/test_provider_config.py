"""Provider configuration: where the endpoint comes from, assume_role, default_tags, the account
guard, ignore_tags, a proxy from the environment."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from harness import hcl
from harness import store
from harness.proxies import ForwardProxy

pytestmark = [pytest.mark.e2e, pytest.mark.lifecycle]

ADDR = "offstate_secret.s"


def error_diagnostics(res) -> list[dict]:
    """The error diagnostics of a `-json` run."""
    return [
        m["diagnostic"]
        for m in res.json_lines()
        if m.get("type") == "diagnostic" and m["diagnostic"].get("severity") == "error"
    ]


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"])
def test_endpoint_from_standard_environment(ws, sm, variable):
    c = ws.canary()
    ws.set_var("secret", c)
    ws.env[variable] = ws.endpoint
    name = ws.name()
    ws.write(hcl.config(None, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    ws.apply()
    store.assert_value(sm, name, c)
    ws.assert_no_changes()
    ws.destroy()
    assert store.status(sm, name) == "gone"
    ws.sweep()


def test_region_from_environment(ws, sm):
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"), provider_attrs={"region": None}))
    ws.apply()
    assert ws.attributes(ADDR)["arn"].startswith("arn:aws:secretsmanager:us-east-1:")
    store.assert_value(sm, name, c)
    ws.sweep()


def test_assume_role(ws, sm):
    """moto's STS answers AssumeRole; AWS_ENDPOINT_URL sends STS and Secrets Manager there."""
    c = ws.canary()
    ws.set_var("secret", c)
    ws.env["AWS_ENDPOINT_URL"] = ws.endpoint
    name = ws.name()
    ws.write(
        hcl.config(None, hcl.secret(name=name, value_wo_version="1"))
        + '\n# assume_role in the provider block\n'
    )
    text = (ws.dir / "main.tf").read_text().replace(
        'provider "offstate" {\n',
        'provider "offstate" {\n'
        "  assume_role {\n"
        '    role_arn     = "arn:aws:iam::123456789012:role/offstate-e2e"\n'
        '    session_name = "offstate-e2e"\n'
        '    external_id  = "e2e-external-id"\n'
        "  }\n",
    )
    ws.write(text)
    ws.apply()
    store.assert_value(sm, name, c)
    ws.assert_no_changes()
    ws.sweep()


MOTO_ACCOUNT = "123456789012"  # the account moto's STS answers for


def account_config(ws, name: str, **lists) -> str:
    """One secret, and the provider with `lists` (allowed_/forbidden_account_ids); STS is moto too."""
    ws.env["AWS_ENDPOINT_URL_STS"] = ws.endpoint
    return hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"), provider_attrs=lists)


@pytest.mark.parametrize(
    "lists",
    [{"allowed_account_ids": [MOTO_ACCOUNT, "000000000000"]}, {"forbidden_account_ids": ["000000000000"]}],
    ids=["allowed", "not-forbidden"],
)
def test_account_guard_lets_the_right_account_through(ws, sm, lists):
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    ws.write(account_config(ws, name, **lists))
    ws.apply()
    store.assert_value(sm, name, c)
    ws.assert_no_changes()
    ws.sweep()


@pytest.mark.parametrize(
    "lists,summary",
    [
        ({"allowed_account_ids": ["000000000000"]}, "is not in allowed_account_ids"),
        ({"forbidden_account_ids": ["000000000000", MOTO_ACCOUNT]}, "is in forbidden_account_ids"),
    ],
    ids=["not-allowed", "forbidden"],
)
def test_account_guard_stops_before_any_secrets_manager_call(ws, sm, lists, summary):
    """The AWS provider's guard against applying to the wrong account: the plan fails at
    ConfigureProvider, on the list's line, naming the account, and nothing reaches Secrets Manager."""
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    text = account_config(ws, name, **lists)
    ws.write(text)
    (attr,) = lists
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.strip().startswith(attr))
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    errors = error_diagnostics(res)
    assert [e["summary"] for e in errors] == ["AWS account not allowed"], res.output
    assert summary in errors[0]["detail"] and MOTO_ACCOUNT in errors[0]["detail"], errors[0]
    assert errors[0].get("range", {}).get("start", {}).get("line") == line, errors[0]
    assert ws.attributes(ADDR) is None
    assert not sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]
    ws.sweep()


def test_account_guard_without_sts_is_an_error_not_a_pass(ws, sm):
    """When the account cannot be known (STS unreachable), the guard refuses: it never lets an
    unchecked account through."""
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    ws.write(account_config(ws, name, allowed_account_ids=[MOTO_ACCOUNT], max_retries=1))
    ws.env["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:9"  # discard port: connection refused
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", "-no-color", expect=1)
    errors = error_diagnostics(res)
    assert [e["summary"] for e in errors] == ["Cannot check the AWS account"], res.output
    assert "GetCallerIdentity" in errors[0]["detail"]
    assert not sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]
    ws.sweep()


def test_assume_role_session_policy_and_tags(ws, sm):
    """assume_role's session arguments reach STS (moto accepts them) and the guard then sees
    the role's account."""
    c = ws.canary()
    ws.set_var("secret", c)
    ws.env["AWS_ENDPOINT_URL"] = ws.endpoint
    name = ws.name()
    text = hcl.config(None, hcl.secret(name=name, value_wo_version="1"), provider_attrs={"allowed_account_ids": [MOTO_ACCOUNT]})
    text = text.replace(
        'provider "offstate" {\n',
        'provider "offstate" {\n'
        "  assume_role {\n"
        '    role_arn         = "arn:aws:iam::123456789012:role/offstate-e2e"\n'
        "    duration_seconds = 900\n"
        '    policy           = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "secretsmanager:*", Resource = "*" }] })\n'
        '    policy_arns      = ["arn:aws:iam::aws:policy/SecretsManagerReadWrite"]\n'
        '    tags             = { team = "payments" }\n'
        "  }\n",
    )
    ws.write(text)
    ws.apply()
    store.assert_value(sm, name, c)
    ws.assert_no_changes()
    ws.sweep()


def with_ignore_tags(text: str) -> str:
    return text.replace(
        'provider "offstate" {\n',
        'provider "offstate" {\n'
        "  ignore_tags {\n"
        '    keys         = ["CostCenter"]\n'
        '    key_prefixes = ["org:"]\n'
        "  }\n",
    )


def test_ignore_tags_leaves_tags_managed_elsewhere_alone(ws, sm):
    """Tags another system puts on the secret (a tagging policy, a cost tool) cause no drift and
    survive updates; without ignore_tags the same change is a diff that would remove them."""
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()

    def write(team: str, ignore: bool = True) -> None:
        text = hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", tags={"team": team}))
        ws.write(with_ignore_tags(text) if ignore else text)

    write("payments")
    ws.apply()
    sm.tag_resource(SecretId=name, Tags=[{"Key": "CostCenter", "Value": "42"}, {"Key": "org:owner", "Value": "sec"}])

    ws.assert_no_changes("tags added outside Terraform under ignore_tags")
    assert ws.attributes(ADDR)["tags_all"] == {"team": "payments"}

    write("billing")
    ws.apply()
    assert store.tags(sm, name) == {"team": "billing", "CostCenter": "42", "org:owner": "sec"}
    assert ws.attributes(ADDR)["tags_all"] == {"team": "billing"}
    store.assert_value(sm, name, c)

    # The control: the provider without ignore_tags sees those tags and would remove them.
    write("billing", ignore=False)
    plan = ws.plan()
    assert plan.actions(ADDR) == ["update"], plan.summary()
    ws.sweep()


def test_ignore_tags_warns_about_an_ignored_key_in_tags(ws, sm):
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    text = hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", tags={"team": "a", "org:owner": "me"}))
    ws.write(with_ignore_tags(text))
    res = ws.tf("plan", "-input=false", "-json", expect=0)
    warnings = [
        m["diagnostic"]
        for m in res.json_lines()
        if m.get("type") == "diagnostic" and m["diagnostic"].get("summary") == "Tag ignored by the provider"
    ]
    assert len(warnings) == 1, res.output
    assert "org:owner" in warnings[0]["snippet"]["code"], warnings[0]
    ws.sweep()


def test_http_proxy_from_the_environment(ws, sm):
    """HTTP_PROXY (and HTTPS_PROXY / NO_PROXY, read the same way) routes the provider's calls
    through a proxy, as the AWS CLI and Go providers do; every Secrets Manager call went through."""
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    proxy = ForwardProxy()
    try:
        for k in ("NO_PROXY", "no_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
            ws.env.pop(k, None)
        ws.env["HTTP_PROXY"] = proxy.url
        ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1")))
        ws.apply()
        store.assert_value(sm, name, c)
        moto_host = urlsplit(ws.endpoint).netloc
        assert proxy.seen and {host for _, host in proxy.seen} == {moto_host}, proxy.seen
        seen = len(proxy.seen)
        # NO_PROXY exempts the endpoint: the next run goes direct.
        ws.env["NO_PROXY"] = "127.0.0.1"
        ws.assert_no_changes()
        assert len(proxy.seen) == seen, proxy.seen[seen:]
    finally:
        proxy.close()
    ws.sweep()


@pytest.fixture
def tls_front(ws, moto):
    from harness.proxies import TlsFront

    front = TlsFront(moto.url, ws.dir.parent / "tls")
    yield front
    front.close()


@pytest.mark.parametrize("how", ["AWS_CA_BUNDLE", "custom_ca_bundle"])
def test_private_ca_endpoint(ws, sm, tls_front, how):
    """An HTTPS endpoint signed by a private CA (a TLS-inspecting proxy, a private endpoint) is
    refused until the CA is given, by AWS_CA_BUNDLE or by custom_ca_bundle."""
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    ws.env.pop("AWS_CA_BUNDLE", None)
    ws.write(hcl.config(tls_front.url, hcl.secret(name=name, value_wo_version="1"), provider_attrs={"max_retries": 1}))
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    errors = error_diagnostics(res)
    assert errors and any("certificate" in e.get("detail", "").lower() for e in errors), res.output
    assert not sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]

    if how == "AWS_CA_BUNDLE":
        ws.env["AWS_CA_BUNDLE"] = str(tls_front.ca_pem)
    else:
        ws.write(
            hcl.config(
                tls_front.url,
                hcl.secret(name=name, value_wo_version="1"),
                provider_attrs={"max_retries": 1, "custom_ca_bundle": str(tls_front.ca_pem)},
            )
        )
    ws.apply()
    store.assert_value(sm, name, c)
    ws.assert_no_changes()
    assert tls_front.requests > 0
    ws.sweep()


@pytest.mark.parametrize("content", ["", "not a certificate\n", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"], ids=["empty", "text", "bad-der"])
def test_bad_ca_bundle_is_a_diagnostic_on_the_attribute(ws, sm, content):
    """A CA bundle that cannot be used is an error naming the argument (not the path: provider
    arguments take ephemeral values), on custom_ca_bundle's line, and never a crash (the SDK panics
    on a certificate it cannot parse; the provider checks first)."""
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    bundle = ws.dir / "bundle.pem"
    bundle.write_text(content)
    text = hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"), provider_attrs={"custom_ca_bundle": str(bundle)})
    ws.write(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.strip().startswith("custom_ca_bundle"))
    res = ws.tf("apply", "-input=false", "-auto-approve", "-json", expect=1)
    errors = error_diagnostics(res)
    assert [e["summary"] for e in errors] == ["Cannot configure Secrets Manager client"], res.output
    assert "custom_ca_bundle" in errors[0]["detail"] and str(bundle) not in errors[0]["detail"], errors[0]
    assert errors[0].get("range", {}).get("start", {}).get("line") == line, errors[0]
    assert "panic" not in res.output.lower()
    assert not sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]
    ws.sweep()


@pytest.mark.parametrize(
    "attrs,host",
    [
        ({}, "secretsmanager.us-east-1.amazonaws.com:443"),
        ({"use_fips_endpoint": True}, "secretsmanager-fips.us-east-1.amazonaws.com:443"),
        ({"use_fips_endpoint": False}, "secretsmanager.us-east-1.amazonaws.com:443"),
    ],
    ids=["default", "fips", "fips-off"],
)
def test_endpoint_variants_reach_the_right_host(ws, attrs, host):
    """With no endpoint set, the provider calls AWS itself: which host it picks shows in the CONNECT
    a proxy receives (and refuses: nothing beyond loopback is reachable here)."""
    c = ws.canary()
    ws.set_var("secret", c)
    proxy = ForwardProxy()
    try:
        for k in ("NO_PROXY", "no_proxy", "https_proxy", "ALL_PROXY", "all_proxy", "AWS_ENDPOINT_URL",
                  "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"):
            ws.env.pop(k, None)
        ws.env["HTTPS_PROXY"] = proxy.url
        if attrs.get("use_fips_endpoint") is False:
            ws.env["AWS_USE_FIPS_ENDPOINT"] = "true"  # the argument wins over the environment
        ws.write(hcl.config(None, hcl.secret(name=ws.name(), value_wo_version="1"), provider_attrs={"max_retries": 1, **attrs}))
        ws.tf("apply", "-input=false", "-auto-approve", "-no-color", expect=1)
    finally:
        proxy.close()
    assert proxy.seen and {h for _, h in proxy.seen} == {host}, proxy.seen
    ws.sweep()


def test_shared_files_named_in_the_provider(ws):
    """shared_config_files / shared_credentials_files replace ~/.aws/config and ~/.aws/credentials:
    the profile's region and keys come from them, with nothing in the environment."""
    import boto3

    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        ws.env.pop(k, None)
    files = ws.dir.parent / "aws-files"
    files.mkdir(exist_ok=True)
    (files / "config").write_text("[profile team]\nregion = eu-west-3\n")
    (files / "credentials").write_text("[team]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = team-files-dummy-key\n")
    attrs = {
        "region": None,
        "profile": "team",
        "shared_config_files": [str(files / "config")],
        "shared_credentials_files": [str(files / "credentials")],
    }
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"), provider_attrs=attrs))
    ws.apply()
    assert ":eu-west-3:" in ws.attributes(ADDR)["arn"]
    sm_paris = boto3.client("secretsmanager", endpoint_url=ws.endpoint, region_name="eu-west-3",
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    store.assert_value(sm_paris, name, c)
    ws.assert_no_changes()

    # A file named there that does not exist is an error on its attribute, not a silent default.
    attrs["shared_credentials_files"] = [str(files / "missing")]
    text = hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1"), provider_attrs=attrs)
    ws.write(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.strip().startswith("shared_credentials_files"))
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    errors = error_diagnostics(res)
    assert [e["summary"] for e in errors] == ["Cannot configure Secrets Manager client"], res.output
    detail = errors[0]["detail"]
    assert "shared_credentials_files" in detail and "missing" not in detail, errors[0]
    assert errors[0]["range"]["start"]["line"] == line, errors[0]
    ws.sweep()
