"""Issue 5, end to end: from "secrets in state" to a scrubbed state, driven by state-scrubber.

Real Terraform, moto as Secrets Manager, the test-only stand-in for hashicorp/aws
(tests/aws-standin) and the offstate provider, both installed from a filesystem mirror.

The journey:

1. "before": `aws_secretsmanager_secret` + `aws_secretsmanager_secret_version.secret_string`
   (from a sensitive variable), `terraform_data` with a sensitive `input`, a sensitive output of
   it, a sensitive output of the database password and a plain output. Applied;
   `state-scrubber audit` finds the plaintext (exit 1).
2. `state-scrubber migrate . --prefix P --write`: the secret pair becomes `offstate_secret`
   (value_wo from the old `secret_string`, value_wo_version = 1) with a `moved` and a
   `removed { destroy = false }` block; `terraform_data.app.input` (no write-only form) moves
   into a new `offstate_secret.app_input` and keeps `provider::offstate::ref(...)` of it; the
   database-password output references `offstate_secret.db` instead of the variable; both
   variables now feed only write-only arguments and become `ephemeral = true`. A second
   run changes nothing; `terraform fmt -check` passes.
3. `state-scrubber scrub terraform.tfstate --prefix Q --write`: every plaintext left in the
   state (`secret_string`, terraform_data's input and the output mirroring it, the sensitive
   outputs) goes to Secrets Manager, and the state holds `ref+awssecrets://...` references, or
   null where the attribute has a write-only twin. A dry run first changes nothing.
4. `terraform plan` of the migrated configuration on the scrubbed state: no replacement, no
   destroy; the move, the forget, one create (`offstate_secret.app_input`) and in-place updates.
   Saved (`-out`) and applied. From here on no plaintext is written anywhere: Terraform's `.backup` is the
   scrubbed state.
5. `terraform plan`: no changes at all (exit 0).
6. `state-scrubber audit` of the final state: exit 0. Every original value is read back with
   boto3: offstate_secret.db's and app_input's values at their names, the scrubbed ones at the
   version each reference pins.

Canary sweep. Exclusions, each checked to be what it claims: everything Terraform wrote before
the scrub (the "before" state, trace logs and outputs) is set aside into `pre-scrub/`, unswept.
Everything else is swept: every state-scrubber output of every step (it never prints a value,
even before the migration), the scrubbed state, the migration apply's state, its `.backup`,
their `terraform show -json`, the logs and outputs of every Terraform command after the scrub.
migrate made both variables `ephemeral = true` (they only feed `value_wo` now), so the saved
plans after the migration hold neither value, and they are swept, zip members included.

A second test, test_migrate_folds_the_secret_policy_without_detaching_it, migrates a pair with an
`aws_secretsmanager_secret_policy` (folded into the offstate_secret, forgotten, never detached);
its own doc says what it sweeps.

Dynamic values (`terraform_data.input`/`output`, stored as `{"value": ..., "type": "string"}`), two
audit bugs this test found and now guards:
A. the `type` member is a cty type, never a secret: audit does not report it (it did: `input.type`),
   and scrub never rewrites it (Terraform could not decode the state);
B. `terraform_data.output` mirrors the sensitive `input` but Terraform marks only `input`: audit
   reports it (the `terraform_data output` row, `sensitive:input`) and scrub moves it too.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from harness.terraform import require
from harness import canary as canaries
from harness import hcl
from harness import store
from harness import terraform as tfh
from harness.aws_standin import aws_standin_env  # noqa: F401 - fixture
from harness.endpoint import REGION

pytestmark = [pytest.mark.e2e]

SCRUBBER = tfh.REPO / "target" / "release" / "state-scrubber"
REF = "ref+awssecrets://"


@pytest.fixture
def mig_ws(request, tmp_path, aws_standin_env, moto, sm):  # noqa: F811
    """A workspace with the stand-in mirror. The offstate provider block is not written (migrate
    does not add one), so the endpoint comes from AWS_ENDPOINT_URL_SECRETS_MANAGER. Not swept by
    the fixture: the test sweeps itself, with the exclusions in the module doc."""
    require(SCRUBBER.is_file(), f"{SCRUBBER} not built (cargo build --release -p state-scrubber)")
    tmp_path.chmod(0o700)
    label = re.sub(r"[^A-Za-z0-9_.-]", "-", request.node.name)[:60]
    w = tfh.Workspace(tmp_path, aws_standin_env, moto.url, label)
    w.prefix = f"offstate-e2e/{label}-{secrets.token_hex(3)}"
    w.env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = moto.url
    w.scrubber_out = tmp_path / "state-scrubber"
    w.scrubber_out.mkdir()
    yield w
    w.close()
    # Leave moto as we found it (it is shared by the session).
    for page in sm.get_paginator("list_secrets").paginate(Filters=[{"Key": "name", "Values": [w.prefix]}]):
        for s in page["SecretList"]:
            sm.delete_secret(SecretId=s["ARN"], ForceDeleteWithoutRecovery=True)


def aws_config(endpoint: str) -> str:
    """`terraform` + `provider "aws"` blocks for the stand-in, pointed at the moto endpoint."""
    return f"""terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }}
  }}
}}

provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = "true"

  endpoints {{
    secretsmanager = {hcl.lit(endpoint)}
  }}
}}
"""


def before_config(endpoint: str, name: str) -> str:
    return aws_config(endpoint) + f"""
variable "db_password" {{
  type      = string
  sensitive = true
}}

variable "api_token" {{
  type      = string
  sensitive = true
}}

# The database password, kept in Secrets Manager the classic way.
resource "aws_secretsmanager_secret" "db" {{
  name                    = {hcl.lit(name)}
  description             = "database password"
  recovery_window_in_days = 0
}}

resource "aws_secretsmanager_secret_version" "db" {{
  secret_id = aws_secretsmanager_secret.db.id
  /* set by the deploy pipeline,
     never by hand */
  secret_string = var.db_password # rotated quarterly
}}

resource "terraform_data" "app" {{
  input = var.api_token
}}

output "api_token" {{
  value     = terraform_data.app.output
  sensitive = true
}}

output "db_password" {{
  value     = var.db_password
  sensitive = true
}}

output "db_secret_arn" {{
  value = aws_secretsmanager_secret.db.arn
}}
"""


def scrubber(ws, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess:
    """Run state-scrubber in the working directory; stdout and stderr are kept (and swept)."""
    ws.seq += 1
    stem = ws.scrubber_out / f"{ws.seq:02d}-{args[0]}"
    p = subprocess.run(
        [str(SCRUBBER), *args], cwd=ws.dir, env=ws.env, capture_output=True, timeout=300, stdin=subprocess.DEVNULL
    )
    stem.with_suffix(".stdout").write_bytes(p.stdout)
    stem.with_suffix(".stderr").write_bytes(p.stderr)
    stem.with_suffix(".cmd").write_text(f"state-scrubber {' '.join(args)}\nexit {p.returncode}\n")
    if expect is not None and p.returncode != expect:
        pytest.fail(
            canaries.redact(
                f"state-scrubber {' '.join(args)} exited {p.returncode}, expected {expect}\n"
                f"--- stderr ---\n{p.stderr.decode(errors='replace')[-3000:]}\n"
                f"--- stdout ---\n{p.stdout.decode(errors='replace')[-3000:]}",
                ws.canaries,
            ),
            pytrace=False,
        )
    return p


def audit_addresses(ws, target: str, expect: int) -> set[str]:
    p = scrubber(ws, "audit", target, "--format", "json", expect=expect)
    doc = json.loads(p.stdout)
    found = set()

    def walk(x):
        if isinstance(x, dict):
            if "rule_id" in x and "address" in x:
                found.add(f"{x['address']} {x.get('attribute_path', '')}".strip())
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(doc)
    return found


def json_plan(ws) -> tuple[int, dict[str, str], dict[str, str]]:
    """`terraform plan -json` without -out (no plan file to hold variable values): exit code,
    {resource address: action}, {output: action}. The machine-readable UI carries no values."""
    res = ws.tf("plan", "-input=false", "-json", "-detailed-exitcode", expect=(0, 2))
    changes: dict[str, str] = {}
    outputs: dict[str, str] = {}
    for m in res.json_lines():
        if m.get("type") == "planned_change":
            changes[m["change"]["resource"]["addr"]] = m["change"]["action"]
        elif m.get("type") == "outputs":
            outputs = {k: v.get("action", "") for k, v in m["outputs"].items()}
    return res.rc, changes, outputs


def set_aside(paths, into: Path) -> None:
    into.mkdir(exist_ok=True)
    for p in paths:
        if p.exists():
            shutil.move(str(p), str(into / p.name))


def parse_ref(ref: str) -> tuple[str, str | None]:
    assert ref.startswith(REF), "not a reference"
    u = urllib.parse.urlsplit("x://" + ref[len(REF) :])
    name = urllib.parse.unquote(u.netloc + u.path)
    version = urllib.parse.parse_qs(u.query).get("version_id", [None])[0]
    assert not u.fragment, "a scrubbed plain string is referenced whole"
    return name, version


def assert_ref_holds(sm, ref: str, expected: canaries.Canary, what: str) -> None:
    name, version = parse_ref(ref)
    assert version, f"{what}: the reference pins no version"
    got = sm.get_secret_value(SecretId=name, VersionId=version)["SecretString"]
    assert hmac.compare_digest(got.encode(), expected.reveal().encode()), (
        f"{what}: {name} version {version} does not hold the original value (values not shown)"
    )


def test_audit_migrate_scrub_apply_plan(mig_ws, sm):
    ws = mig_ws
    name = f"{ws.prefix}/db"
    migrate_prefix = f"{ws.prefix}/migrated"
    prefix = f"{ws.prefix}/scrubbed"
    db = ws.canary("db")
    api = ws.canary("api")
    ws.set_var("db_password", db)
    ws.set_var("api_token", api)
    pre = ws.root / "pre-scrub"

    # 1. before: plaintext in state, and audit says so.
    ws.write(before_config(ws.endpoint, name))
    ws.init()
    ws.apply()
    state_file = ws.dir / "terraform.tfstate"
    before_state = state_file.read_bytes()
    for c in (db, api):
        assert canaries.search_bytes("before state", before_state, [c]), "the before state must hold the value"
    found = audit_addresses(ws, "terraform.tfstate", expect=1)
    for want in (
        "aws_secretsmanager_secret_version.db secret_string",
        "terraform_data.app input.value",
        "terraform_data.app output.value",
        "output.api_token",
        "output.db_password",
    ):
        assert want in found, f"audit of the before state misses {want}: {sorted(found)}"
    assert not any(f.endswith(".type") for f in found), f"a dynamic value's type reported: {sorted(found)}"
    set_aside(list(ws.artifacts.iterdir()), pre)

    # 2. migrate: dry run writes nothing; --write; a second run changes nothing; fmt is happy.
    main_tf = ws.dir / "main.tf"
    original_tf = main_tf.read_bytes()
    dry = scrubber(ws, "migrate", ".", "--prefix", migrate_prefix)
    assert main_tf.read_bytes() == original_tf, "migrate without --write changed main.tf"
    assert b"+resource \"offstate_secret\" \"db\"" in dry.stdout
    assert b"+resource \"offstate_secret\" \"app_input\"" in dry.stdout
    scrubber(ws, "migrate", ".", "--prefix", migrate_prefix, "--write")
    migrated = main_tf.read_text()
    for piece in (
        'resource "offstate_secret" "db"',
        "value_wo         = var.db_password # rotated quarterly",
        "value_wo_version = 1",
        # The version's comments go with its value into the offstate_secret.
        "  /* set by the deploy pipeline,\n     never by hand */\n  value_wo ",
        "from = aws_secretsmanager_secret.db",
        "to   = offstate_secret.db",
        "from = aws_secretsmanager_secret_version.db",
        "destroy = false",
        'resource "offstate_secret" "app_input"',
        f'name             = "{migrate_prefix}/app/input"',
        "value_wo         = var.api_token",
        "input = provider::offstate::ref(offstate_secret.app_input.name)",
        "value     = provider::offstate::ref(offstate_secret.db.name)",
        "value = offstate_secret.db.arn",
    ):
        assert piece in migrated, f"migrated main.tf lacks `{piece}`"
    # Both variables now only feed value_wo: ephemeral, so no saved plan carries them.
    for var in ("db_password", "api_token"):
        block = migrated.split(f'variable "{var}"')[1].split("}")[0]
        assert "ephemeral = true" in block, f"var.{var} not made ephemeral"
    assert "var.api_token" not in migrated.split('resource "terraform_data" "app"')[1], "terraform_data still gets the value"
    again = scrubber(ws, "migrate", ".", "--prefix", migrate_prefix)
    assert again.stdout == b"" and b"nothing to migrate" in again.stderr
    ws.tf("fmt", "-check")

    # 3. scrub the state as it is: a dry run changes nothing, then --write.
    mid = state_file.read_bytes()
    assert mid == before_state
    scrub = ("scrub", "terraform.tfstate", "--store", "aws-secretsmanager", "--prefix", prefix,
             "--endpoint", ws.endpoint, "--region", REGION)
    scrubber(ws, *scrub)
    assert state_file.read_bytes() == mid, "scrub without --write changed the state"
    scrubber(ws, *scrub, "--write")
    assert not list(ws.dir.glob("*.backup")), "no backup was asked for"
    st, mid_st = ws.state(), json.loads(mid)
    assert st["lineage"] == mid_st["lineage"] and st["serial"] == mid_st["serial"] + 1
    scrubbed_refs = {
        "output.api_token": st["outputs"]["api_token"]["value"],
        "output.db_password": st["outputs"]["db_password"]["value"],
    }
    data = ws.attributes("terraform_data.app")
    assert data["input"]["type"] == "string" and data["output"]["type"] == "string", "type descriptors kept"
    scrubbed_refs["terraform_data.app input"] = data["input"]["value"]
    scrubbed_refs["terraform_data.app output"] = data["output"]["value"]
    version = ws.attributes("aws_secretsmanager_secret_version.db")
    assert version["secret_string"] in (None, "") or version["secret_string"].startswith(REF), (
        "secret_string still plaintext after scrub"
    )
    assert scrubber(ws, "audit", "terraform.tfstate", expect=None).returncode == 0, "scrubbed state not clean"
    scrubbed_state = state_file.read_bytes()

    # Values are retrievable before anything else changes (a failure names the value's place).
    assert_ref_holds(sm, scrubbed_refs["output.api_token"], api, "output.api_token")
    assert_ref_holds(sm, scrubbed_refs["output.db_password"], db, "output.db_password")
    assert_ref_holds(sm, scrubbed_refs["terraform_data.app input"], api, "terraform_data.app input")
    assert_ref_holds(sm, scrubbed_refs["terraform_data.app output"], api, "terraform_data.app output")
    restore = scrubber(ws, "restore", "terraform.tfstate", "--prefix", prefix,
                       "--endpoint", ws.endpoint, "--region", REGION)
    assert restore.returncode == 0

    # 4. the migration plan on the scrubbed state: no replacement, no destroy; applied.
    ws.init()
    rc, changes, _ = json_plan(ws)
    assert rc == 2
    assert not {a for a in changes.values() if a in ("delete", "replace")}, changes
    assert changes.get("offstate_secret.db") == "update", changes
    assert changes.get("offstate_secret.app_input") == "create", changes
    assert changes.get("terraform_data.app") == "update", changes
    assert changes.get("aws_secretsmanager_secret_version.db") in ("forget", "remove"), changes
    assert [a for a in changes.values() if a == "create"] == ["create"], changes
    arn_before = json.loads(before_state)["outputs"]["db_secret_arn"]["value"]
    # Applied from a saved plan, which the sweep searches (zip members included): with the
    # variables ephemeral, it holds neither value.
    saved = ws.plan()
    assert saved.rc == 2
    ws.apply(saved)
    assert ws.attributes("offstate_secret.db")["arn"] == arn_before, "the move must keep the secret"
    assert ws.attributes("aws_secretsmanager_secret_version.db") is None
    assert ws.attributes("aws_secretsmanager_secret.db") is None
    backup = ws.dir / "terraform.tfstate.backup"
    assert backup.read_bytes() == scrubbed_state, "Terraform's .backup is the scrubbed state"
    store.assert_value(sm, name, db)
    store.assert_value(sm, f"{migrate_prefix}/app/input", api)
    final = ws.state()
    app_ref = f"{REF}{migrate_prefix}/app/input"
    assert ws.attributes("terraform_data.app")["input"]["value"] == app_ref
    assert final["outputs"]["api_token"]["value"] == app_ref
    assert final["outputs"]["db_password"]["value"] == f"{REF}{name}"

    # 5. nothing left to do.
    rc, changes, outputs = json_plan(ws)
    assert rc == 0 and not changes, changes
    assert all(a == "noop" for a in outputs.values()), outputs
    assert ws.plan().rc == 0, "a saved plan of the final configuration is not empty"

    # 6. audit of the final state: clean (the type descriptors of the dynamic values are no finding).
    left = audit_addresses(ws, "terraform.tfstate", expect=None)
    assert left == set(), f"audit of the final state: {sorted(left)}"
    scrubber(ws, "audit", "terraform.tfstate", "terraform.tfstate.backup", expect=0)

    # The sweep (exclusions in the module doc).
    ws.show_json()
    roots = [ws.dir, ws.artifacts, ws.scrubber_out]
    findings, searched = canaries.search_paths(roots, ws.canaries)
    assert any(p.suffix == ".tflog" and p.stat().st_size for p in searched), "no trace log was written"
    assert any(p.name == "terraform.tfstate.backup" for p in searched), "the .backup was not swept"
    assert not findings, "canary found (values not shown):\n" + "\n".join(f"  {f}" for f in findings[:50])


# ---- the secret's resource policy ------------------------------------------------------------

# What the policy resource attaches: jsonencode's spelling, so the document in Secrets Manager can
# be compared as JSON with this.
APP_READS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AppReads",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        }
    ],
}


def policy_config(endpoint: str, name: str) -> str:
    return aws_config(endpoint) + f"""
variable "db_password" {{
  type      = string
  sensitive = true
}}

resource "aws_secretsmanager_secret" "db" {{
  name                    = {hcl.lit(name)}
  recovery_window_in_days = 0
}}

resource "aws_secretsmanager_secret_version" "db" {{
  secret_id     = aws_secretsmanager_secret.db.id
  secret_string = var.db_password
}}

resource "aws_secretsmanager_secret_policy" "db" {{
  secret_arn          = aws_secretsmanager_secret.db.arn
  block_public_policy = true # no public grants
  # the app role only
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Sid       = "AppReads"
      Effect    = "Allow"
      Principal = {{ AWS = "arn:aws:iam::123456789012:role/app" }}
      Action    = "secretsmanager:GetSecretValue"
      Resource  = "*"
    }}]
  }})
}}

output "db_secret_arn" {{
  value = aws_secretsmanager_secret.db.arn
}}
"""


def attached_policy(sm, secret_id: str) -> dict | None:
    doc = sm.get_resource_policy(SecretId=secret_id).get("ResourcePolicy")
    return json.loads(doc) if doc else None


def test_migrate_folds_the_secret_policy_without_detaching_it(mig_ws, sm):
    """A secret pair with an `aws_secretsmanager_secret_policy`: migrate folds the policy into
    `offstate_secret.db` (`policy`, `block_public_policy`) and turns the policy resource into
    `removed { destroy = false }`. The plan forgets it (never deletes it), the apply attaches the
    policy again through offstate, and a second plan is empty.

    On the way, the stand-in's policy resource is checked as the migration relies on it: import
    by the secret's ARN, and an equivalent document spelled differently in Secrets Manager is no
    change. That respelled document is what the migration starts from, so the final document
    (jsonencode's spelling again) is offstate's PutResourcePolicy.

    Sweep: everything from the migration on (state, `terraform show -json`, the final saved
    plan, logs, every state-scrubber output). The artifacts before it (`state rm`'s backup too)
    and the migration apply's `.backup` hold the plaintext `secret_string` by design (the old
    provider stored it) and are set aside; the `.backup` is checked to be the state the
    migration started from."""
    ws = mig_ws
    name = f"{ws.prefix}/db"
    db = ws.canary("db")
    ws.set_var("db_password", db)

    # 1. before: the pair and its policy, applied with the stand-in.
    ws.write(policy_config(ws.endpoint, name))
    ws.tf("fmt", "-check")
    ws.init()
    ws.apply()
    arn = ws.state()["outputs"]["db_secret_arn"]["value"]
    assert attached_policy(sm, name) == APP_READS, "the stand-in did not attach the policy"
    assert ws.attributes("aws_secretsmanager_secret_policy.db")["id"] == arn

    # The stand-in's import (by the secret's ARN, Read fills in the policy; block_public_policy
    # is not readable, as in hashicorp/aws, so the next apply sets it again).
    ws.tf("state", "rm", "aws_secretsmanager_secret_policy.db")
    ws.tf("import", "-input=false", "aws_secretsmanager_secret_policy.db", arn)
    imported = ws.attributes("aws_secretsmanager_secret_policy.db")
    assert imported["secret_arn"] == arn and json.loads(imported["policy"]) == APP_READS, imported
    rc, changes, _ = json_plan(ws)
    assert (rc, changes) == (2, {"aws_secretsmanager_secret_policy.db": "update"}), changes
    ws.apply()
    rc, changes, _ = json_plan(ws)
    assert rc == 0 and not changes, changes
    # As in hashicorp/aws, the secret's own `policy` is what is attached: the state the move
    # starts from has the policy (offstate's MoveResourceState drops it; the apply sets it again).
    assert json.loads(ws.attributes("aws_secretsmanager_secret.db")["policy"]) == APP_READS

    # A policy detached outside Terraform is gone: the plan attaches it again.
    sm.delete_resource_policy(SecretId=name)
    rc, changes, _ = json_plan(ws)
    assert changes.get("aws_secretsmanager_secret_policy.db") == "create", changes

    # The same document, spelled otherwise (key order, one-element lists, whitespace): no change.
    respelled = {
        "Statement": {
            "Resource": ["*"],
            "Action": ["secretsmanager:GetSecretValue"],
            "Principal": {"AWS": ["arn:aws:iam::123456789012:role/app"]},
            "Effect": "Allow",
            "Sid": "AppReads",
        },
        "Version": "2012-10-17",
    }
    sm.put_resource_policy(SecretId=name, ResourcePolicy=json.dumps(respelled, indent=2))
    rc, changes, _ = json_plan(ws)
    assert rc == 0 and not changes, f"an equivalent policy shows as a change: {changes}"
    # A different one does (the comparison can fail).
    sm.put_resource_policy(SecretId=name, ResourcePolicy=json.dumps({**respelled, "Version": "2008-10-17"}))
    rc, changes, _ = json_plan(ws)
    assert changes.get("aws_secretsmanager_secret_policy.db") == "update", changes
    sm.put_resource_policy(SecretId=name, ResourcePolicy=json.dumps(respelled, indent=2))
    assert scrubber(ws, "audit", "terraform.tfstate", expect=None).returncode == 1, "the before state holds plaintext"
    # Everything so far, `state rm`'s timestamped backup included, is the plaintext era.
    state_rm_backups = list(ws.dir.glob("terraform.tfstate.*.backup"))
    assert state_rm_backups, "terraform state rm wrote no backup (the set-aside below would be moot)"
    set_aside(list(ws.artifacts.iterdir()) + state_rm_backups, ws.root / "pre-migration")

    # 2. migrate: the policy resource folds into offstate_secret.db and is forgotten.
    main_tf = ws.dir / "main.tf"
    dry = scrubber(ws, "migrate", ".")
    assert b"+removed {" in dry.stdout and b"-resource \"aws_secretsmanager_secret_policy\" \"db\"" in dry.stdout
    scrubber(ws, "migrate", ".", "--write")
    migrated = main_tf.read_text()
    secret = migrated.split('resource "offstate_secret" "db"')[1].split("\n}\n")[0]
    for piece in (
        "block_public_policy = true # no public grants",
        "  # the app role only\n  policy = jsonencode({",
        'Sid       = "AppReads"',
    ):
        assert piece in secret, f"offstate_secret.db lacks `{piece}`:\n{secret}"
    assert re.search(r"^  value_wo +=  *var\.db_password$", secret, re.M), secret
    assert 'resource "aws_secretsmanager_secret_policy"' not in migrated
    assert "removed {\n  from = aws_secretsmanager_secret_policy.db\n\n  lifecycle {\n    destroy = false\n  }\n}" in migrated
    assert "ephemeral = true" in migrated.split('variable "db_password"')[1].split("}")[0]
    assert scrubber(ws, "migrate", ".").stdout == b"", "a second run changes nothing"
    ws.tf("fmt", "-check")

    # 3. the plan: the secret moves (an update: the policy is set again), the version and the
    # policy resource are forgotten; nothing is created, deleted or replaced.
    ws.init()
    rc, changes, _ = json_plan(ws)
    assert rc == 2
    assert changes.get("offstate_secret.db") == "update", changes
    assert changes.get("aws_secretsmanager_secret_version.db") in ("forget", "remove"), changes
    assert changes.get("aws_secretsmanager_secret_policy.db") in ("forget", "remove"), changes
    assert not {a for a in changes.values() if a in ("create", "delete", "replace")}, changes
    assert attached_policy(sm, name) == respelled, "planning changed the policy"
    # Applied without a saved plan: one would carry the prior state, which holds the plaintext
    # secret_string hashicorp/aws stored (the first test scrubs it first; this one does not).
    migration_start = (ws.dir / "terraform.tfstate").read_bytes()
    ws.apply()

    # 4. converged: the same secret, its value, the policy attached (in offstate's spelling).
    assert ws.attributes("offstate_secret.db")["arn"] == arn, "the move must keep the secret"
    assert ws.attributes("offstate_secret.db")["block_public_policy"] is True
    assert ws.attributes("aws_secretsmanager_secret_policy.db") is None
    assert ws.attributes("aws_secretsmanager_secret_version.db") is None
    assert attached_policy(sm, name) == APP_READS, "the policy is not attached after the migration"
    store.assert_value(sm, name, db)
    rc, changes, outputs = json_plan(ws)
    assert rc == 0 and not changes, changes
    assert ws.plan().rc == 0, "a saved plan of the final configuration is not empty"
    assert scrubber(ws, "audit", "terraform.tfstate", expect=None).returncode == 0, "plaintext left in the state"

    backup = ws.dir / "terraform.tfstate.backup"
    assert backup.read_bytes() == migration_start, "the .backup is the state the migration started from"
    set_aside([backup], ws.root / "pre-migration")
    ws.show_json()
    findings, searched = canaries.search_paths([ws.dir, ws.artifacts, ws.scrubber_out], ws.canaries)
    assert any(p.suffix == ".tflog" and p.stat().st_size for p in searched), "no trace log was written"
    assert any(p.suffix == ".tfplan" for p in searched), "no saved plan was swept"
    assert not findings, "canary found (values not shown):\n" + "\n".join(f"  {f}" for f in findings[:50])
