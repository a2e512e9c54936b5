"""Issue 5, end to end: from "secrets in state" to a scrubbed state, driven by state-scrubber.

Real Terraform, moto as Secrets Manager, the test-only stand-in for hashicorp/aws
(tests/aws-standin) and the offstate provider, both installed from a filesystem mirror.

The journey, and why in this order:

1. "before": `aws_secretsmanager_secret` + `aws_secretsmanager_secret_version.secret_string`
   (from a sensitive variable), `terraform_data` with a sensitive `input`, a sensitive output of
   it and a plain output. Applied; `state-scrubber audit` finds the plaintext (exit 1).
2. `state-scrubber migrate . --write`: the secret pair becomes `offstate_secret` (value_wo from
   the old `secret_string`, value_wo_version = 1) with a `moved` and a `removed { destroy = false }`
   block. `terraform_data` and the outputs have no write-only form; migrate leaves them alone.
   A second run changes nothing; `terraform fmt -check` passes.
3. `terraform apply` of the migrated configuration: the move (MoveResourceState, same ARN, no
   replacement), the `forget` of the version, and value_wo_version null -> 1 in place. Only
   this apply removes `secret_string` from the state; scrubbing first would not help, because
   every plan after `migrate` has these changes anyway (a `removed` block always plans `forget`).
4. `state-scrubber scrub terraform.tfstate --store aws-secretsmanager --prefix P --write` on the
   state that apply left: what is still plaintext (terraform_data.app's input and the output that
   mirrors it, the sensitive root output) goes to Secrets Manager and the state holds `ref+awssecrets://...` references.
   Scrubbing after the apply, not before: the apply would write the config-supplied plaintext of
   terraform_data and the output straight back.
5. `terraform plan`: no replacement anywhere, and no change for everything migrate converted.
   NOT "no changes" overall, and that is right, not a gap to paper over: `terraform_data.input`
   and a root output are configuration; their configuration still yields the plaintext, so
   Terraform compares it with the reference in state and plans an in-place update
   (terraform_data) and an output change, which an apply would write back into the state. No
   scrubber can make that plan empty without putting the plaintext back; the fix is in the
   configuration (the audit's `fix:` line). The test asserts exactly those two changes, and does
   not apply them.
6. `state-scrubber audit` of the new state: exit 0. Every original value is read back with boto3
   (offstate_secret's value at its name; the scrubbed ones at the version each reference pins).

Canary sweep. Exclusions, each checked to be what it claims:
- everything Terraform wrote up to and including the migration apply (step 3): the "before"
  state, trace logs and outputs, and the migration apply's logs. These are set aside into
  `pre-scrub/`, unswept. The state of step 3 is not an artifact of its own: scrub rewrites it.
- `terraform.tfstate.backup`: Terraform's copy of the state before the migration apply, i.e. the
  "before" state (checked byte for byte), set aside too. state-scrubber writes no backup unless
  `--backup` is given, and none is.
- no saved plan is made after the migration: a saved plan holds every non-ephemeral input
  variable's value (Terraform, by design); the plans here run with `-json` and no `-out`.
Everything else is swept: every state-scrubber output of every step (it never prints a value,
even before the migration), the scrubbed state and its `terraform show -json`, the logs and outputs
of every Terraform command after the scrub.

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
    # Leave moto as we found it (it is shared by the session).
    for page in sm.get_paginator("list_secrets").paginate(Filters=[{"Key": "name", "Values": [w.prefix]}]):
        for s in page["SecretList"]:
            sm.delete_secret(SecretId=s["ARN"], ForceDeleteWithoutRecovery=True)


def before_config(endpoint: str, name: str) -> str:
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
  secret_id     = aws_secretsmanager_secret.db.id
  secret_string = var.db_password
}}

resource "terraform_data" "app" {{
  input = var.api_token
}}

output "api_token" {{
  value     = terraform_data.app.output
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


def test_audit_migrate_apply_scrub_plan(mig_ws, sm):
    ws = mig_ws
    name = f"{ws.prefix}/db"
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
    ):
        assert want in found, f"audit of the before state misses {want}: {sorted(found)}"
    assert not any(f.endswith(".type") for f in found), f"a dynamic value's type reported: {sorted(found)}"

    # 2. migrate: dry run writes nothing; --write; a second run changes nothing; fmt is happy.
    main_tf = ws.dir / "main.tf"
    original_tf = main_tf.read_bytes()
    dry = scrubber(ws, "migrate", ".")
    assert main_tf.read_bytes() == original_tf, "migrate without --write changed main.tf"
    assert b"+resource \"offstate_secret\" \"db\"" in dry.stdout
    scrubber(ws, "migrate", ".", "--write")
    migrated = main_tf.read_text()
    for piece in (
        'resource "offstate_secret" "db"',
        "value_wo         = var.db_password",
        "value_wo_version = 1",
        "from = aws_secretsmanager_secret.db",
        "to   = offstate_secret.db",
        "from = aws_secretsmanager_secret_version.db",
        "destroy = false",
        'resource "terraform_data" "app"',
        "value = offstate_secret.db.arn",
    ):
        assert piece in migrated, f"migrated main.tf lacks `{piece}`"
    again = scrubber(ws, "migrate", ".")
    assert again.stdout == b"" and b"nothing to migrate" in again.stderr
    ws.tf("fmt", "-check")

    # 3. the migration apply: moves, forgets, no replacement.
    ws.init()
    rc, changes, _ = json_plan(ws)
    assert rc == 2
    assert changes.get("offstate_secret.db") == "update", changes
    assert changes.get("aws_secretsmanager_secret_version.db") in ("forget", "remove"), changes
    assert not {a for a in changes.values() if a in ("create", "delete", "replace")}, changes
    arn_before = json.loads(before_state)["outputs"]["db_secret_arn"]["value"]
    ws.apply()
    assert ws.attributes("offstate_secret.db")["arn"] == arn_before, "the move must keep the secret"
    assert ws.attributes("aws_secretsmanager_secret_version.db") is None
    assert ws.attributes("aws_secretsmanager_secret.db") is None
    store.assert_value(sm, name, db)

    backup = ws.dir / "terraform.tfstate.backup"
    assert backup.read_bytes() == before_state, "the .backup is the before state"
    set_aside([backup, *ws.artifacts.iterdir()], pre)

    # 4. scrub: a dry run changes nothing, then --write.
    mid = state_file.read_bytes()
    scrubber(ws, "scrub", "terraform.tfstate", "--store", "aws-secretsmanager", "--prefix", prefix,
             "--endpoint", ws.endpoint, "--region", REGION)
    assert state_file.read_bytes() == mid, "scrub without --write changed the state"
    scrubber(ws, "scrub", "terraform.tfstate", "--store", "aws-secretsmanager", "--prefix", prefix,
             "--endpoint", ws.endpoint, "--region", REGION, "--write")
    assert not list(ws.dir.glob("*.backup")), "no backup was asked for"
    st, mid_st = ws.state(), json.loads(mid)
    assert st["lineage"] == mid_st["lineage"] and st["serial"] == mid_st["serial"] + 1
    out_ref = st["outputs"]["api_token"]["value"]
    data = ws.attributes("terraform_data.app")
    assert data["input"]["type"] == "string", "the dynamic value's type descriptor is kept"
    input_ref = data["input"]["value"]
    assert ws.attributes("offstate_secret.db")["value_wo"] is None

    # 6 (before the plan, so a failure names the value's place): values retrievable.
    store.assert_value(sm, name, db)
    assert_ref_holds(sm, out_ref, api, "output.api_token")
    assert_ref_holds(sm, input_ref, api, "terraform_data.app input")
    restore = scrubber(ws, "restore", "terraform.tfstate", "--prefix", prefix,
                       "--endpoint", ws.endpoint, "--region", REGION)
    assert restore.returncode == 0

    # 5. the plan: no replacement; nothing for what migrate converted; terraform_data and the
    # output differ from their configuration, which still yields the plaintext (module doc).
    rc, changes, outputs = json_plan(ws)
    assert not {a for a in changes.values() if a in ("create", "delete", "replace")}, changes
    assert "offstate_secret.db" not in changes, changes
    assert changes == {"terraform_data.app": "update"}, changes
    assert outputs.get("db_secret_arn") == "noop" and outputs.get("api_token") == "update", outputs

    # 6. audit of the new state: clean (the type descriptors of the dynamic values are no finding).
    left = audit_addresses(ws, "terraform.tfstate", expect=None)
    assert left == set(), f"audit of the scrubbed state: {sorted(left)}"
    scrubber(ws, "audit", "terraform.tfstate", expect=0)

    # The sweep (exclusions in the module doc): no canary anywhere, terraform_data's output included.
    ws.show_json()
    roots = [ws.dir, ws.artifacts, ws.scrubber_out]
    findings, searched = canaries.search_paths(roots, ws.canaries)
    assert any(p.suffix == ".tflog" and p.stat().st_size for p in searched), "no trace log was written"
    assert not findings, "canary found (values not shown):\n" + "\n".join(f"  {f}" for f in findings[:50])
    assert data["output"]["type"] == "string"
    assert_ref_holds(sm, data["output"]["value"], api, "terraform_data.app output")
