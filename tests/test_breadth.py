"""Provider breadth, end to end: generated values, binary values, compare mode, ephemeral
reads chained into another secret, data sources, the ref() function, identity import and
moving from aws_secretsmanager_secret. Real Terraform, moto, canary sweep of every artifact."""

from __future__ import annotations

import base64
import hmac
import json

import pytest

from harness import canary as canaries
from harness import hcl
from harness import store

pytestmark = [pytest.mark.e2e]


def test_generate_writes_a_value_nobody_sees(ws, sm):
    name = ws.name()
    block = (
        'resource "offstate_secret" "g" {\n'
        f'  name = "{name}"\n'
        "  recovery_window_in_days = 0\n"
        "  generate {\n"
        "    length      = 40\n"
        "    special     = false\n"
        "    min_numeric = 4\n"
        '    json_template = { username = "app" }\n'
        "  }\n"
        "}\n"
    )
    ws.write(hcl.config(ws.endpoint, block, variables=()))
    ws.apply()
    doc = json.loads(store.read_value(sm, name))
    generated = ws.watch(canaries.Canary(doc["password"]))
    ws.watch(canaries.Canary(store.read_value(sm, name)))
    assert doc["username"] == "app"
    pw = generated.reveal()
    assert len(pw) == 40 and pw.isalnum() and sum(ch.isdigit() for ch in pw) >= 4
    ws.assert_no_changes("generated value is stable")
    v1 = store.stages(sm, name)["AWSCURRENT"]

    # A changed generator setting makes a new value, in place.
    ws.write(hcl.config(ws.endpoint, block.replace("length      = 40", "length      = 48"), variables=()))
    plan = ws.plan()
    assert plan.actions("offstate_secret.g") == ["update"], plan.summary()
    ws.apply(plan)
    assert store.stages(sm, name)["AWSPREVIOUS"] == v1
    ws.watch(canaries.Canary(json.loads(store.read_value(sm, name))["password"]))
    ws.sweep()


def test_ephemeral_read_chains_into_another_secret(ws, sm):
    """A generated secret is read ephemerally and fed into another resource's write-only value."""
    src, dst = ws.name() + "-src", ws.name() + "-dst"
    cfg = hcl.config(
        ws.endpoint,
        'resource "offstate_secret" "src" {\n'
        f'  name = "{src}"\n'
        "  recovery_window_in_days = 0\n"
        "  generate {\n    length = 24\n  }\n"
        "}\n"
        'ephemeral "offstate_secret_value" "read" {\n'
        "  secret_id = offstate_secret.src.arn\n"
        "}\n"
        'resource "offstate_secret" "dst" {\n'
        f'  name = "{dst}"\n'
        "  recovery_window_in_days = 0\n"
        "  value_wo         = ephemeral.offstate_secret_value.read.value\n"
        "  value_wo_version = offstate_secret.src.version_id\n"
        "}\n"
        'ephemeral "offstate_password" "pw" {\n  length = 20\n}\n'
        'resource "offstate_secret" "pw" {\n'
        f'  name = "{dst}-pw"\n'
        "  recovery_window_in_days = 0\n"
        "  value_wo         = ephemeral.offstate_password.pw.result\n"
        '  value_wo_version = "1"\n'
        "}\n",
        variables=(),
    )
    ws.write(cfg)
    ws.apply()
    value = ws.watch(canaries.Canary(store.read_value(sm, src)))
    store.assert_value(sm, dst, value)
    ws.watch(canaries.Canary(store.read_value(sm, f"{dst}-pw")))
    assert len(store.read_value(sm, f"{dst}-pw")) == 20
    ws.assert_no_changes("chained ephemeral read")
    ws.sweep()


def test_json_key_of_an_ephemeral_read(ws, sm):
    c = ws.canary()
    name = ws.name()
    sm.create_secret(Name=name, SecretString=json.dumps({"user": "app", "password": c.reveal()}))
    ws.watch(canaries.Canary(json.dumps({"user": "app", "password": c.reveal()})))
    dst = ws.name() + "-copy"
    ws.write(
        hcl.config(
            ws.endpoint,
            f'ephemeral "offstate_secret_value" "db" {{\n  secret_id = "{name}"\n  json_key = "password"\n}}\n'
            'resource "offstate_secret" "copy" {\n'
            f'  name = "{dst}"\n'
            "  recovery_window_in_days = 0\n"
            "  value_wo         = ephemeral.offstate_secret_value.db.value\n"
            '  value_wo_version = "1"\n'
            "}\n",
            variables=(),
        )
    )
    ws.apply()
    store.assert_value(sm, dst, c)
    ws.sweep()


def test_binary_value(ws, sm):
    c = ws.canary()
    name = ws.name()
    ws.set_var("secret", base64.b64encode(c.reveal().encode()).decode())
    ws.watch(canaries.Canary(base64.b64encode(c.reveal().encode()).decode()))
    ws.write(
        hcl.config(
            ws.endpoint,
            hcl.secret(name=name, value_var=None, value_wo_version="1", recovery_window_in_days=0, raw={"binary_wo": "var.secret"}),
        )
    )
    ws.apply()
    got = sm.get_secret_value(SecretId=name)["SecretBinary"]
    assert hmac.compare_digest(got, c.reveal().encode())
    ws.assert_no_changes("binary")
    ws.sweep()


def test_compare_mode_writes_only_when_the_value_differs(ws, sm):
    c1 = ws.canary()
    name = ws.name()
    ws.set_var("secret", c1)
    body = hcl.secret(name=name, compare_value=True, recovery_window_in_days=0)
    ws.write(hcl.config(ws.endpoint, body))
    ws.apply()
    store.assert_value(sm, name, c1)
    ws.assert_no_changes("same value, no counter")
    c2 = ws.canary()
    ws.set_var("secret", c2)
    plan = ws.plan()
    assert plan.actions("offstate_secret.s") == ["update"], plan.summary()
    ws.apply(plan)
    store.assert_value(sm, name, c2)
    ws.assert_no_changes("after writing the new value")
    ws.sweep()


def test_data_sources_and_ref_function(ws, sm):
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    other = ws.name("other")  # a secret without a value, made outside: what the negated filter finds
    sm.create_secret(Name=other)
    ws.write(
        hcl.config(
            ws.endpoint,
            hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0, tags={"team": "pay"}),
            'data "offstate_secret" "meta" {\n  name = offstate_secret.s.name\n}\n'
            'data "offstate_secrets" "found" {\n'
            f'  name_prefix = "{name}"\n  tags = {{ team = "pay" }}\n'
            "  depends_on = [offstate_secret.s]\n}\n"
            # docs/data-sources/secrets.md: a leading ! is ListSecrets' negation filter.
            'data "offstate_secrets" "others" {\n'
            f'  name_prefix = "!{name}"\n'
            "  depends_on = [offstate_secret.s]\n}\n"
            'output "current" { value = data.offstate_secret.meta.current_version_id }\n'
            'output "names" { value = data.offstate_secrets.found.names }\n'
            'output "others" { value = data.offstate_secrets.others.names }\n'
            'output "ref" { value = provider::offstate::ref(offstate_secret.s.name, "password") }\n'
            # json_key is variadic: omitted, null, or a nested path.
            'output "ref_whole" { value = provider::offstate::ref(offstate_secret.s.name) }\n'
            'output "ref_null" { value = provider::offstate::ref(offstate_secret.s.name, null) }\n'
            'output "ref_nested" { value = provider::offstate::ref(offstate_secret.s.name, "a/b") }\n',
        )
    )
    ws.apply()
    out = json.loads(ws.tf("output", "-json").stdout)
    assert out["current"]["value"] == store.stages(sm, name)["AWSCURRENT"]
    assert out["names"]["value"] == [name]
    assert other in out["others"]["value"] and name not in out["others"]["value"]
    assert out["ref"]["value"] == f"ref+awssecrets://{name}#/password"
    assert out["ref_whole"]["value"] == f"ref+awssecrets://{name}"
    assert out["ref_null"]["value"] == f"ref+awssecrets://{name}"
    assert out["ref_nested"]["value"] == f"ref+awssecrets://{name}#/a/b"
    # A second json_key is refused, naming the third argument.
    ws.write('output "ref_two_keys" { value = provider::offstate::ref("x", "a", "b") }\n', "two_keys.tf")
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    diags = [line["diagnostic"] for line in res.json_lines() if line.get("type") == "diagnostic"]
    assert any("at most one json_key" in d.get("detail", "") for d in diags), res.stdout
    ws.remove("two_keys.tf")
    ws.sweep()


def test_import_by_identity(ws, sm):
    # Identity import needs Terraform 1.12; the bundled one (1.15) has it.
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    name = ws.name()
    c = ws.canary()  # the existing value: import must never read it
    arn = sm.create_secret(Name=name, Description="made outside", SecretString=c.reveal())["ARN"]
    ws.write(
        hcl.config(
            ws.endpoint,
            f'import {{\n  to = offstate_secret.s\n  identity = {{ arn = "{arn}" }}\n}}\n'
            + hcl.secret(name=name, value_var=None, description="made outside"),
            variables=(),
        )
    )
    plan = ws.plan()
    assert plan.actions("offstate_secret.s") == ["no-op"] or "import" in plan.summary(), plan.summary()
    ws.apply(plan)
    ws.assert_no_changes("after identity import")
    ws.sweep()


def test_query_lists_secrets_and_generated_config_plans_clean(ws, sm):
    """`terraform query` (Terraform 1.14+) with -generate-config-out, then plan: import, no changes."""
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    c = ws.canary()
    prefix = ws.name()
    for i in range(3):
        sm.create_secret(Name=f"{prefix}/q{i}", Description=f"q{i}", SecretString=c.reveal(), Tags=[{"Key": "k", "Value": "v"}])
    ws.write(hcl.header() + hcl.provider(ws.endpoint))
    ws.write(
        'list "offstate_secret" "found" {\n'
        "  provider = offstate\n"
        "  include_resource = true\n"
        f'  config {{\n    name_prefix = "{prefix}/"\n  }}\n'
        "}\n",
        name="main.tfquery.hcl",
    )
    res = ws.tf("query", "-generate-config-out=generated.tf")
    for i in range(3):
        assert f"{prefix}/q{i}" in res.stdout, res.stdout
    generated = (ws.dir / "generated.tf").read_text()
    assert generated.count('resource "offstate_secret"') == 3, generated
    assert generated.count("import {") == 3, generated
    ws.remove("main.tfquery.hcl")
    plan = ws.plan()
    changes = plan.json["resource_changes"]
    assert len(changes) == 3, plan.summary()
    for rc in changes:
        assert rc["change"]["actions"] == ["no-op"], plan.summary()
        assert "importing" in rc["change"], rc["address"]
    ws.apply(plan)
    ws.assert_no_changes("after importing generated config")
    ws.sweep()


POLICY = """jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ReadOnly"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::123456789012:root" }
      Action    = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      Resource  = "*"
    }]
  })"""


def test_policy_and_replicas(ws, sm):
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()

    def write(policy: str | None, replica: bool) -> None:
        raw = {"policy": policy} if policy else {}
        body = hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0, raw=raw)
        if replica:
            body = body.rstrip().rstrip("}") + '  replica {\n    region = "eu-west-1"\n  }\n}\n'
        ws.write(hcl.config(ws.endpoint, body))

    write(POLICY, replica=False)
    ws.apply()
    assert "GetSecretValue" in sm.get_resource_policy(SecretId=name)["ResourcePolicy"]
    ws.assert_no_changes("policy as applied")

    # Secrets Manager (or anyone) rewriting the document into an equivalent form is no drift.
    doc = json.loads(sm.get_resource_policy(SecretId=name)["ResourcePolicy"])
    stmt = doc["Statement"][0]
    reordered = {"Statement": {"Resource": ["*"], "Action": list(reversed(stmt["Action"])), "Principal": stmt["Principal"], "Effect": "Allow", "Sid": "ReadOnly"}, "Version": doc["Version"]}
    sm.put_resource_policy(SecretId=name, ResourcePolicy=json.dumps(reordered, indent=4))
    ws.assert_no_changes("an equivalent remote policy document is not drift")

    write(POLICY, replica=True)
    plan = ws.plan()
    assert plan.actions("offstate_secret.s") == ["update"], plan.summary()
    ws.apply(plan)
    regions = [r["Region"] for r in sm.describe_secret(SecretId=name).get("ReplicationStatus", [])]
    assert regions == ["eu-west-1"], regions
    ws.assert_no_changes("replica in place")

    write(None, replica=False)
    ws.apply()
    assert not sm.get_resource_policy(SecretId=name).get("ResourcePolicy")
    assert not sm.describe_secret(SecretId=name).get("ReplicationStatus")
    store.assert_value(sm, name, c)

    # Destroy with a replica in place: the replicas go first (Secrets Manager deletes a primary
    # only without them), then the secret, at once with window 0.
    write(None, replica=True)
    ws.apply()
    ws.destroy()
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        sm.describe_secret(SecretId=name)
    ws.sweep()


def test_empty_description_and_kms_key_are_stable(ws, sm):
    # "" means unset to Secrets Manager: it is not sent, and the refresh that finds no
    # description and the default key plans nothing, run after run.
    c = ws.canary()
    ws.set_var("secret", c)
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0, description="", kms_key_id="")))
    ws.apply()
    meta = sm.describe_secret(SecretId=name)
    assert not meta.get("Description") and not meta.get("KmsKeyId"), meta
    ws.assert_no_changes("empty description and KMS key after apply")
    ws.assert_no_changes("and again")
    store.assert_value(sm, name, c)
    ws.sweep()
