"""Provider configuration: where the endpoint comes from, assume_role, default_tags."""

from __future__ import annotations

import pytest

from harness import hcl
from harness import store

pytestmark = [pytest.mark.e2e, pytest.mark.lifecycle]

ADDR = "offstate_secret.s"


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
