"""Issue 5, end to end for repeated pairs: `aws_secretsmanager_secret` + `_version` under
`for_each` or `count` become one repeated `offstate_secret`, every instance moved, none replaced.

Real Terraform, moto, the test-only `hashicorp/aws` stand-in (tests/aws-standin) and the offstate
provider. The journey: apply the pairs (plaintext `secret_string` in state); `state-scrubber
migrate --write`; a plan that moves every instance and forgets every version, with no create,
delete or replacement; apply; the same ARNs; every value still the one set before; a plan with
no changes; `state-scrubber audit` of the state clean.

Sweep: everything after the migration's apply (state, `terraform show -json`, logs, outputs, every
state-scrubber output). The "before" artifacts and the migration's `.backup` hold the plaintext
by design (the old provider stored it) and are set aside; the `.backup` is checked to be the
"before" state.
"""

from __future__ import annotations

import hmac
import json
import re

import pytest

from harness import canary as canaries
from harness import hcl
from harness.aws_standin import aws_standin_env  # noqa: F401 - fixture
from test_migration_e2e import aws_config, json_plan, mig_ws, scrubber, set_aside  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e]

KEYS = ["api", "db"]


def repeated_pairs(kind: str, prefix: str) -> str:
    if kind == "for_each":
        return f"""
variable "app_secrets" {{
  type      = map(string)
  sensitive = true
}}

resource "aws_secretsmanager_secret" "app" {{
  for_each = toset({hcl.lit(KEYS)})

  name                    = "{prefix}/${{each.key}}"
  recovery_window_in_days = 0
}}

resource "aws_secretsmanager_secret_version" "app" {{
  for_each = aws_secretsmanager_secret.app

  secret_id     = each.value.id
  secret_string = var.app_secrets[each.key]
}}

output "arns" {{
  value = {{ for k, s in aws_secretsmanager_secret.app : k => s.arn }}
}}
"""
    return f"""
variable "app_secrets" {{
  type      = list(string)
  sensitive = true
}}

resource "aws_secretsmanager_secret" "app" {{
  count = {len(KEYS)}

  name                    = "{prefix}/n${{count.index}}"
  recovery_window_in_days = 0
}}

resource "aws_secretsmanager_secret_version" "app" {{
  count = {len(KEYS)}

  secret_id     = aws_secretsmanager_secret.app[count.index].id
  secret_string = var.app_secrets[count.index]
}}

output "arns" {{
  value = aws_secretsmanager_secret.app[*].arn
}}
"""


@pytest.mark.parametrize("kind", ["for_each", "count"])
def test_repeated_pairs_move_every_instance(mig_ws, sm, kind):  # noqa: F811
    ws = mig_ws
    prefix = f"{ws.prefix}/{kind}"
    values = [ws.canary(k) for k in KEYS]
    if kind == "for_each":
        doc = json.dumps({k: c.reveal() for k, c in zip(KEYS, values)})
        names = [f"{prefix}/{k}" for k in KEYS]
        addresses = [f'offstate_secret.app["{k}"]' for k in KEYS]
    else:
        doc = json.dumps([c.reveal() for c in values])
        names = [f"{prefix}/n{i}" for i in range(len(KEYS))]
        addresses = [f"offstate_secret.app[{i}]" for i in range(len(KEYS))]
    ws.watch(canaries.wrap(doc))
    ws.env["TF_VAR_app_secrets"] = doc

    ws.write(aws_config(ws.endpoint) + repeated_pairs(kind, prefix))
    ws.init()
    ws.apply()
    state_file = ws.dir / "terraform.tfstate"
    before_state = state_file.read_bytes()
    arns_before = json.loads(before_state)["outputs"]["arns"]["value"]
    assert scrubber(ws, "audit", "terraform.tfstate", expect=None).returncode == 1, "the before state holds plaintext"
    set_aside(list(ws.artifacts.iterdir()), ws.root / "pre-migration")

    scrubber(ws, "migrate", ".", "--write")
    migrated = (ws.dir / "main.tf").read_text()
    assert 'resource "offstate_secret" "app"' in migrated
    assert "aws_secretsmanager_secret_version" not in migrated.split("removed {")[0], "the version resource is left"
    block = migrated.split('resource "offstate_secret" "app"')[1].split("\n}\n")[0]
    assert re.search(rf"^\s*{kind}\s*=", block, re.M), f"offstate_secret.app lost its {kind}"
    assert "from = aws_secretsmanager_secret.app" in migrated and "to   = offstate_secret.app" in migrated
    assert scrubber(ws, "migrate", ".").stdout == b"", "a second run changes nothing"
    ws.tf("fmt", "-check")

    ws.init()
    rc, changes, _ = json_plan(ws)
    assert rc == 2
    assert not {a for a in changes.values() if a in ("create", "delete", "replace")}, changes
    for address in addresses:
        assert changes.get(address) == "update", changes
    assert sum(1 for a in changes if a.startswith("aws_secretsmanager_secret_version.app")) == len(KEYS), changes
    ws.apply()

    backup = ws.dir / "terraform.tfstate.backup"
    assert backup.read_bytes() == before_state, "the .backup is the before state"
    set_aside([backup], ws.root / "pre-migration")
    arns_after = ws.state()["outputs"]["arns"]["value"]
    assert arns_after == (
        {k: arns_before[k] for k in KEYS} if kind == "for_each" else arns_before
    ), "every instance keeps its secret"
    for name, value in zip(names, values):
        got = sm.get_secret_value(SecretId=name)["SecretString"]
        assert hmac.compare_digest(got.encode(), value.reveal().encode()), f"{name}: value changed (not shown)"
    assert not any(r.get("type") == "aws_secretsmanager_secret_version" for r in ws.state()["resources"])

    rc, changes, outputs = json_plan(ws)
    assert rc == 0 and not changes, changes
    assert scrubber(ws, "audit", "terraform.tfstate", expect=None).returncode == 0, "plaintext left in the state"

    ws.show_json()
    findings, searched = canaries.search_paths([ws.dir, ws.artifacts, ws.scrubber_out], ws.canaries)
    assert any(p.suffix == ".tflog" and p.stat().st_size for p in searched), "no trace log was written"
    assert not findings, "canary found (values not shown):\n" + "\n".join(f"  {f}" for f in findings[:50])
