"""The provider's surfaces other than offstate_secret itself, hunted end to end: ephemeral reads
(locals, check blocks, -target, depends_on, for_each, saved plans, JSON values, missing stages,
deleted and binary secrets), data sources, `terraform query`, the ref() function and the
password generator. Real Terraform, moto, every artifact swept for the canaries."""

from __future__ import annotations

import json

import pytest

from harness import canary as canaries
from harness import hcl
from harness import store

pytestmark = [pytest.mark.e2e]


def diagnostics(res) -> list[dict]:
    return [line["diagnostic"] for line in res.json_lines() if line.get("type") == "diagnostic"]


def copy_of(dst: str, expr: str, version="1", resource="copy") -> str:
    return (
        f'resource "offstate_secret" "{resource}" {{\n'
        f'  name = "{dst}"\n'
        "  recovery_window_in_days = 0\n"
        f"  value_wo         = {expr}\n"
        f'  value_wo_version = "{version}"\n'
        "}\n"
    )


@pytest.fixture(params=["path", "bundled"])
def tfv(request, ws):
    if request.param == "bundled":
        ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    return request.param


def test_a_json_secret_decoded_in_locals_feeds_write_only_arguments(ws, sm, tfv):
    """jsondecode() of an ephemeral value in a local, a field of it into value_wo, a missing
    field and a check block over it: the document and its fields appear nowhere."""
    c = ws.canary()
    name = ws.name()
    doc = json.dumps({"username": "app", "password": c.reveal(), "port": 5432})
    ws.watch(canaries.wrap(doc))
    sm.create_secret(Name=name, SecretString=doc)
    body = (
        f'ephemeral "offstate_secret_value" "db" {{\n  secret_id = "{name}"\n}}\n'
        "locals {\n  db = jsondecode(ephemeral.offstate_secret_value.db.value)\n}\n"
        + copy_of(ws.name("copy"), "local.db.password")
        + copy_of(ws.name("whole"), "jsonencode(local.db)", resource="whole")
        + 'check "has_password" {\n'
        "  assert {\n"
        "    condition     = length(local.db.password) > 10\n"
        '    error_message = "short"\n'
        "  }\n"
        "}\n"
    )
    ws.write(hcl.config(ws.endpoint, body, variables=()))
    plan = ws.plan()
    ws.apply(plan)  # the saved plan: the ephemeral read is opened again at apply
    store.assert_value(sm, ws.name("copy"), c)
    ws.watch(canaries.wrap(store.read_value(sm, ws.name("whole"))))
    ws.assert_no_changes("json locals")
    # A field that is not there: Terraform's error must not print the object.
    ws.write(
        hcl.config(ws.endpoint, body.replace("local.db.password)", "local.db.nope)"), variables=())
    )
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    assert diagnostics(res), res.stdout
    ws.sweep()


def read_block(secret_id_expr: str, label="r", **attrs) -> str:
    extra = "".join(f"  {k} = {v}\n" for k, v in attrs.items())
    return f'ephemeral "offstate_secret_value" "{label}" {{\n  secret_id = {secret_id_expr}\n{extra}}}\n'


@pytest.mark.parametrize(
    "case",
    ["missing_stage", "missing_version_id", "scheduled_deletion", "force_deleted", "sensitive_id",
     "json_key_missing", "json_key_not_json", "json_key_scalar", "json_key_binary", "json_key_sensitive"],
)
def test_a_failed_read_names_the_argument_and_shows_no_value(ws, sm, tfv, case):
    c = ws.canary()
    name = ws.name()
    doc = json.dumps({"password": c.reveal()})
    ws.watch(canaries.wrap(doc))
    value = {"json_key_not_json": c.reveal(), "json_key_scalar": json.dumps(c.reveal())}.get(case, doc)
    if case == "json_key_scalar":
        ws.watch(canaries.wrap(value))
    if case == "json_key_binary":
        sm.create_secret(Name=name, SecretBinary=b"\xff\xfe" + c.reveal().encode())
    else:
        sm.create_secret(Name=name, SecretString=value)
    if case == "scheduled_deletion":
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    if case == "force_deleted":
        sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    variables = ()
    attrs = {}
    sid = f'"{name}"'
    want_attr = "secret_id"
    if case == "missing_stage":
        attrs["version_stage"] = '"NOPE"'
        want_attr = "version_stage"
    elif case == "missing_version_id":
        attrs["version_id"] = '"00000000-0000-0000-0000-000000000000"'
        want_attr = "version_id"
    elif case == "sensitive_id":
        ws.set_var("secret", c)
        variables = ("secret",)
        sid = "var.secret"
    elif case.startswith("json_key"):
        attrs["json_key"] = '"nope"' if case != "json_key_sensitive" else "var.secret"
        want_attr = "json_key"
        if case == "json_key_sensitive":
            ws.set_var("secret", ws.canary("key"))
            variables = ("secret",)
    ws.write(hcl.config(ws.endpoint, read_block(sid, **attrs) + copy_of(ws.name("copy"), "ephemeral.offstate_secret_value.r.value"), variables=variables))
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    ds = [d for d in diagnostics(res) if d["severity"] == "error"]
    assert ds, res.stdout
    assert any(f"{want_attr} " in d.get("snippet", {}).get("code", "") for d in ds), res.stdout
    ws.sweep()


def test_ephemeral_reads_with_target_depends_on_for_each_and_a_second_provider(ws, sm, tfv):
    """Twenty secrets read with for_each, a read with depends_on on a secret made in the run, a
    second provider configuration fed by an ephemeral value, a -target plan and apply."""
    cs = [ws.canary(f"n{i}") for i in range(20)]
    prefix = ws.name("many")
    for i, c in enumerate(cs):
        sm.create_secret(Name=f"{prefix}/{i:02d}", SecretString=c.reveal())
    ext = ws.canary("external-id")
    sm.create_secret(Name=ws.name("ext"), SecretString=ext.reveal())
    body = (
        'ephemeral "offstate_secret_value" "many" {\n'
        f'  for_each  = toset([for i in range(20) : format("{prefix}/%02d", i)])\n'
        "  secret_id = each.value\n"
        "}\n"
        'resource "offstate_secret" "joined" {\n'
        f'  name = "{ws.name("joined")}"\n'
        "  recovery_window_in_days = 0\n"
        '  value_wo = join(",", [for k, v in ephemeral.offstate_secret_value.many : v.value])\n'
        '  value_wo_version = "1"\n'
        "}\n"
        'resource "offstate_secret" "made" {\n'
        f'  name = "{ws.name("made")}"\n'
        "  recovery_window_in_days = 0\n"
        "  generate {\n    length = 30\n  }\n"
        "}\n"
        'ephemeral "offstate_secret_value" "after" {\n'
        "  secret_id  = offstate_secret.made.arn\n"
        "  depends_on = [offstate_secret.via_second]\n"
        "}\n"
        + copy_of(ws.name("made-copy"), "ephemeral.offstate_secret_value.after.value", resource="made_copy")
        + f'ephemeral "offstate_secret_value" "ext" {{\n  secret_id = "{ws.name("ext")}"\n}}\n'
        'provider "offstate" {\n'
        "  alias    = \"second\"\n"
        '  region   = "us-east-1"\n'
        f'  endpoint = "{ws.endpoint}"\n'
        "  default_tags = {}\n"
        "  max_retries = length(ephemeral.offstate_secret_value.ext.value) > 0 ? 2 : 3\n"
        "}\n"
        'resource "offstate_secret" "via_second" {\n'
        "  provider = offstate.second\n"
        f'  name = "{ws.name("second")}"\n'
        "  recovery_window_in_days = 0\n"
        "  value_wo = ephemeral.offstate_secret_value.ext.value\n"
        '  value_wo_version = "1"\n'
        "}\n"
    )
    ws.write(hcl.config(ws.endpoint, body, variables=()))
    ws.tf("plan", "-input=false", "-target=offstate_secret.via_second")
    ws.apply(None, "-target=offstate_secret.via_second")
    store.assert_value(sm, ws.name("second"), ext)
    plan = ws.plan()
    ws.apply(plan)
    joined = store.read_value(sm, ws.name("joined"))
    ws.watch(canaries.wrap(joined))
    same = joined == ",".join(c.reveal() for c in cs)  # compared apart: an assert shows its operands
    assert same, "the for_each reads, joined (values not shown)"
    ws.watch(canaries.Canary(store.read_value(sm, ws.name("made"))))
    same = store.read_value(sm, ws.name("made-copy")) == store.read_value(sm, ws.name("made"))
    assert same, "made-copy holds made's value (values not shown)"
    ws.assert_no_changes("after for_each, depends_on and a second provider")
    ws.sweep()


@pytest.mark.parametrize("arg", ["name", "arn"])
def test_data_source_named_by_a_sensitive_variable_does_not_show_it(ws, sm, tfv, arg):
    c = ws.canary()
    ws.set_var("secret", c)
    tag = ws.canary("tag")
    ws.set_var("tagv", tag)
    name = ws.name()
    sm.create_secret(Name=name, SecretString=c.reveal(), Tags=[{"Key": "team", "Value": tag.reveal()}])
    ws.write(
        hcl.config(
            ws.endpoint,
            f'data "offstate_secret" "bad" {{\n  {arg} = var.secret\n}}\n'
            'data "offstate_secrets" "found" {\n'
            "  tag_value = var.tagv\n"
            "}\n"
            'output "found" { value = data.offstate_secrets.found.names }\n'
            'output "id" { value = data.offstate_secrets.found.id }\n',
            variables=(),
        )
        + 'variable "secret" {\n  type = string\n  sensitive = true\n}\n'
        + 'variable "tagv" {\n  type = string\n  sensitive = true\n}\n'
    )
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    ds = [d for d in diagnostics(res) if d["severity"] == "error"]
    assert ds and all(d.get("address") == "data.offstate_secret.bad" for d in ds), res.stdout
    assert any(arg in d["detail"] for d in ds), res.stdout
    ws.sweep()
    # Without the bad one: the tag filter finds the secret. A sensitive (not ephemeral)
    # argument is stored in the state, marked, by Terraform itself; it must not be copied
    # into an unmarked attribute (`id`). The secret's value stays a canary.
    ws.canaries.remove(tag)
    other = ws.name("other")
    sm.create_secret(Name=other, SecretString=c.reveal())
    ws.write(
        hcl.config(
            ws.endpoint,
            'data "offstate_secrets" "found" {\n  tag_value = var.tagv\n}\n'
            f'data "offstate_secret" "meta" {{\n  name = "{other}"\n}}\n'
            'output "found" { value = data.offstate_secrets.found.names }\n'
            'output "id" { value = data.offstate_secrets.found.id }\n'
            'output "versions" { value = data.offstate_secret.meta.versions }\n',
            variables=(),
        )
        + 'variable "tagv" {\n  type = string\n  sensitive = true\n}\n'
    )
    ws.apply()
    out = json.loads(ws.tf("output", "-json").stdout)
    assert out["found"]["value"] == [name]
    assert out["versions"]["value"][0]["stages"] == ["AWSCURRENT"]
    in_id = tag.reveal() in out["id"]["value"]  # apart: an assert shows its operands
    assert not in_id, "the tag filter is in id (value not shown)"
    ws.sweep()


@pytest.mark.parametrize("limit", ["none", "two", "zero", "negative"])
def test_query_json_and_generated_config_hold_no_value(ws, sm, limit):
    """`terraform query -json` and -generate-config-out over secrets holding canaries (JSON,
    plain, binary), filtered by prefix and tag; `limit` on the list block."""
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    prefix = ws.name()
    for i in range(4):
        c = ws.canary(f"q{i}")
        kw = {"SecretBinary": c.reveal().encode()} if i == 3 else {"SecretString": json.dumps({"pw": c.reveal()}) if i == 2 else c.reveal()}
        if i == 2:
            ws.watch(canaries.wrap(json.dumps({"pw": c.reveal()})))
        sm.create_secret(Name=f"{prefix}/q{i}", Description=f"q{i}", Tags=[{"Key": "team", "Value": "pay" if i != 1 else "ops"}], **kw)
    ws.write(hcl.header() + hcl.provider(ws.endpoint))
    lim = {"two": "  limit = 2\n", "zero": "  limit = 0\n", "negative": "  limit = -1\n"}.get(limit, "")
    ws.write(
        'list "offstate_secret" "found" {\n'
        "  provider = offstate\n"
        "  include_resource = true\n"
        + lim
        + f'  config {{\n    name_prefix = "{prefix}/"\n    tag_value = "pay"\n  }}\n'
        "}\n",
        name="main.tfquery.hcl",
    )
    expect = 1 if limit == "negative" else 0
    res = ws.tf("query", "-json", expect=expect)
    if limit == "negative":  # Terraform refuses it before asking the provider
        assert any(d["summary"] == "Invalid limit argument" for d in diagnostics(res)), res.stdout
        ws.sweep()
        return
    results = [line for line in res.json_lines() if line.get("type") == "list_resource_found"]
    names = sorted(r["list_resource_found"]["display_name"] for r in results)
    want = {"none": [f"{prefix}/q{i}" for i in (0, 2, 3)], "two": [f"{prefix}/q0", f"{prefix}/q2"], "zero": []}[limit]
    assert names == want, res.stdout
    res = ws.tf("query", "-generate-config-out=generated.tf", expect=expect)
    if want:
        generated = (ws.dir / "generated.tf").read_text()
        assert generated.count('resource "offstate_secret"') == len(want), generated
        for attr in ("value_wo", "binary_wo", "value_wo_version"):
            lines = [ln.split("=", 1)[1].strip() for ln in generated.splitlines() if ln.strip().startswith(f"{attr} ")]
            assert lines and all(v.startswith("null") for v in lines), generated
    ws.sweep()


def test_ref_keeps_the_marks_of_its_arguments_and_errors_show_no_value(ws, sm, tfv):
    c = ws.canary()
    ws.set_var("secret", c)
    eph = ws.canary("eph")
    ws.set_var("eph", eph)
    ws.write(
        hcl.config(ws.endpoint, variables=("eph",))
        + 'variable "secret" {\n  type = string\n  sensitive = true\n}\n'
        + 'variable "nothing" {\n  type = string\n  default = null\n}\n'
    )
    # Terraform's console prints the last expression of its input only: one per run.
    for expr, shown in [
        ("provider::offstate::ref(var.secret)", "(sensitive value)"),
        ('provider::offstate::ref("db", var.secret)', "(sensitive value)"),
        ('provider::offstate::ref("db", "k")', '"ref+awssecrets://db#/k"'),
    ]:
        res = ws.tf("console", stdin=expr + "\n")
        assert res.stdout.strip() == shown, res.stdout
    for expr, position in [
        ('provider::offstate::ref("")', "secret_id"),
        ("provider::offstate::ref(var.nothing)", "secret_id"),
        ('provider::offstate::ref("db", "")', "json_key"),
        ('provider::offstate::ref("db", "a", var.secret)', "json_key"),
        ("provider::offstate::ref(var.secret, \"\")", "json_key"),
        # `#//password` would name no key: refused on json_key, not handed to vals.
        ('provider::offstate::ref("db", "/password")', "json_key"),
        ('provider::offstate::ref("db", "a//b")', "json_key"),
    ]:
        res = ws.tf("console", stdin=expr + "\n", expect=1)
        assert position in res.stderr, res.stderr
    # An ephemeral argument makes the result ephemeral: refused in an output, fine in value_wo.
    ws.write(hcl.config(ws.endpoint, 'output "r" {\n  value     = provider::offstate::ref(var.eph)\n  sensitive = true\n}\n', variables=("eph",)))
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    assert any("phemeral" in d["summary"] + d.get("detail", "") for d in diagnostics(res)), res.stdout
    name = ws.name()
    ws.write(hcl.config(ws.endpoint, copy_of(name, "provider::offstate::ref(var.eph)"), variables=("eph",)))
    ws.apply()
    ws.watch(canaries.Canary(store.read_value(sm, name)))
    ws.assert_no_changes("ref of an ephemeral")
    ws.sweep()


@pytest.mark.parametrize(
    "settings, attr",
    [
        ("length = 0", None),
        ("length = 4097", "length"),
        ("length = 3.5", "length"),
        ("length = -1", "length"),
        ("length = 4\n  min_lower = 3\n  min_upper = 3", None),
        ("lower = false\n  upper = false\n  numeric = false\n  special = false", None),
        ('override_special = ""\n  min_special = 1\n  lower = true', None),
        ('exclude_characters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"\n  special = false', None),
        ("numeric = false\n  min_numeric = 2", "min_numeric"),
        ("special = false\n  min_special = 1", "min_special"),
        ("length = 1e30", "length"),
        ("length = 18446744073709551617", "length"),
        ("min_numeric = 1e400", "min_numeric"),
    ],
)
def test_impossible_password_settings_fail_validate(ws, sm, tfv, settings, attr):
    ws.write(hcl.config(ws.endpoint, f'ephemeral "offstate_password" "p" {{\n  {settings}\n}}\n', variables=()))
    res = ws.validate(expect=1)
    ds = [d for d in res.json()["diagnostics"] if d["severity"] == "error"]
    assert ds, res.stdout
    if attr:
        assert any(f"{attr} = " in d.get("snippet", {}).get("code", "") for d in ds), res.stdout
    ws.watch(ws.canary())  # nothing secret here; the sweep still runs over the logs


@pytest.mark.parametrize(
    "settings, attr",
    [
        ("length = 5000\n  special = var.flag", "length"),
        ("numeric = false\n  min_numeric = 2\n  length = var.n", "min_numeric"),
        ("length = 4\n  min_lower = 3\n  min_upper = 3\n  upper = var.flag", None),
    ],
)
def test_known_password_settings_fail_validate_with_another_unknown(ws, sm, tfv, settings, attr):
    """`terraform validate` sees every variable unknown: the settings that are known are still
    checked (all were skipped when one was unknown)."""
    variables = 'variable "flag" {\n  type = bool\n}\nvariable "n" {\n  type = number\n}\n'
    ws.write(hcl.config(ws.endpoint, f'ephemeral "offstate_password" "p" {{\n  {settings}\n}}\n', variables=()) + variables)
    res = ws.validate(expect=1)
    ds = [d for d in res.json()["diagnostics"] if d["severity"] == "error"]
    assert ds, res.stdout
    if attr:
        assert any(f"{attr} = " in d.get("snippet", {}).get("code", "") for d in ds), res.stdout
    ws.watch(ws.canary())  # nothing secret here; the sweep still runs over the logs


@pytest.mark.parametrize(
    "attrs, attr",
    [
        ({"secret_id": '""'}, "secret_id"),
        ({"version_id": '""'}, "version_id"),
        ({"version_stage": '""'}, "version_stage"),
        ({"json_key": '""'}, "json_key"),
        ({"version_id": '"x"', "version_stage": '"AWSCURRENT"'}, "version_stage"),
    ],
)
def test_empty_read_arguments_are_refused_on_the_argument(ws, sm, tfv, attrs, attr):
    attrs = dict(attrs)
    c = ws.canary()
    name = ws.name()
    sm.create_secret(Name=name, SecretString=c.reveal())
    sid = attrs.pop("secret_id", f'"{name}"')
    ws.write(hcl.config(ws.endpoint, read_block(sid, **attrs) + copy_of(ws.name("copy"), "ephemeral.offstate_secret_value.r.value"), variables=()))
    res = ws.tf("validate", "-json", expect=None)
    where = "validate"
    if res.rc == 0:
        where = "plan"
        res = ws.tf("plan", "-input=false", "-json", expect=1)
        ds = [d for d in diagnostics(res) if d["severity"] == "error"]
    else:
        ds = [d for d in res.json()["diagnostics"] if d["severity"] == "error"]
    # Refused at validate: an empty version_id came back from moto as the id read (Terraform:
    # "Provider produced invalid ephemeral resource instance"), an empty version_stage read
    # AWSCURRENT; AWS refuses both.
    assert where == "validate", res.stdout
    assert any(f"{attr} " in d.get("snippet", {}).get("code", "") for d in ds), res.stdout
    ws.sweep()


@pytest.mark.parametrize("how", ["name", "arn"])
def test_empty_data_source_argument_is_refused_on_the_argument(ws, sm, how):
    ws.write(hcl.config(ws.endpoint, f'data "offstate_secret" "d" {{\n  {how} = ""\n}}\n', variables=()))
    # Not found (moto; AWS refuses the empty id): an error on the argument at plan.
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    ds = [d for d in diagnostics(res) if d["severity"] == "error"]
    assert any(f"{how} " in d.get("snippet", {}).get("code", "") for d in ds), res.stdout
    ws.watch(ws.canary())


def test_console_shows_ephemeral_values_masked(ws, sm, tfv):
    c = ws.canary()
    name = ws.name()
    doc = json.dumps({"password": c.reveal()})
    ws.watch(canaries.wrap(doc))
    sm.create_secret(Name=name, SecretString=doc)
    ws.write(
        hcl.config(
            ws.endpoint,
            read_block(f'"{name}"')
            + read_block(f'"{name}"', label="k", json_key='"password"')
            + 'ephemeral "offstate_password" "p" {\n  length = 20\n}\n',
            variables=(),
        )
    )
    for expr in [
        "ephemeral.offstate_secret_value.r.value",
        "ephemeral.offstate_secret_value.r",
        "jsondecode(ephemeral.offstate_secret_value.r.value)",
        "jsondecode(ephemeral.offstate_secret_value.r.value).password",
        "ephemeral.offstate_secret_value.k",
        "ephemeral.offstate_password.p",
        "base64encode(ephemeral.offstate_secret_value.k.value)",
        "provider::offstate::ref(ephemeral.offstate_secret_value.k.value)",
    ]:
        res = ws.tf("console", stdin=expr + "\n")
        # The console opens no ephemeral resource (1.11 and 1.15): nothing but a placeholder.
        assert res.stdout.strip() in ("(known after apply)", "(sensitive value)"), res.stdout
    ws.sweep()


def test_a_password_whose_settings_are_known_only_at_apply(ws, sm, tfv):
    """length comes from a secret created in the same run: Terraform opens the ephemeral
    password at apply; the password never reaches the plan or the state."""
    made, copy = ws.name("made"), ws.name("copy")
    ws.write(
        hcl.config(
            ws.endpoint,
            'resource "offstate_secret" "made" {\n'
            f'  name = "{made}"\n'
            "  recovery_window_in_days = 0\n"
            "  generate {\n    length = 16\n  }\n"
            "}\n"
            'ephemeral "offstate_password" "p" {\n'
            "  length      = length(offstate_secret.made.version_id) > 0 ? 24 : 25\n"
            "  special     = false\n"
            "  min_numeric = 3\n"
            "}\n" + copy_of(copy, "ephemeral.offstate_password.p.result", version="1"),
            variables=(),
        )
    )
    plan = ws.plan()
    ws.apply(plan)
    pw = ws.watch(canaries.Canary(store.read_value(sm, copy)))
    ws.watch(canaries.Canary(store.read_value(sm, made)))
    fits = len(pw.reveal()) == 24 and pw.reveal().isalnum() and sum(ch.isdigit() for ch in pw.reveal()) >= 3
    assert fits, "the password has 24 letters and digits, 3 or more digits (value not shown)"
    ws.assert_no_changes("password at apply")
    ws.sweep()


@pytest.mark.parametrize("outside", ["kept", "deleted"])
def test_destroy_of_a_chained_read(ws, sm, tfv, outside):
    """terraform destroy of a source secret, an ephemeral read of it and a copy; also when the
    read's secret was deleted outside first."""
    c = ws.canary()
    ext = ws.name("ext")
    sm.create_secret(Name=ext, SecretString=c.reveal())
    src, dst = ws.name("src"), ws.name("dst")
    ws.write(
        hcl.config(
            ws.endpoint,
            'resource "offstate_secret" "src" {\n'
            f'  name = "{src}"\n'
            "  recovery_window_in_days = 0\n"
            "  generate {\n    length = 24\n  }\n"
            "}\n"
            + read_block("offstate_secret.src.arn", label="src")
            + read_block(f'"{ext}"', label="ext")
            + copy_of(dst, "ephemeral.offstate_secret_value.src.value", version="1")
            + copy_of(dst + "-ext", "ephemeral.offstate_secret_value.ext.value", version="1", resource="copy_ext"),
            variables=(),
        )
    )
    ws.apply()
    ws.watch(canaries.Canary(store.read_value(sm, src)))
    if outside == "deleted":
        sm.delete_secret(SecretId=ext, ForceDeleteWithoutRecovery=True)
    if outside == "kept":
        ws.destroy()
    else:
        # Terraform opens the reads in destroy's refresh too (1.11.4 and 1.15.5): the read of a
        # secret that is gone fails it, on secret_id. -refresh=false destroys without reading
        # (what docs/ephemeral-resources/secret_value.md says to do).
        res = ws.destroy(expect=1)
        assert "GetSecretValue failed" in res.stderr and "secret_id =" in res.stderr, res.stderr
        ws.destroy("-refresh=false")
    assert not ws.state().get("resources"), "destroyed"
    for gone in (src, dst, dst + "-ext"):
        assert not sm.list_secrets(Filters=[{"Key": "name", "Values": [gone]}], IncludePlannedDeletion=True)["SecretList"]
    ws.sweep()


def test_depends_on_does_not_defer_a_read_by_name(ws, sm, tfv):
    """What docs/ephemeral-resources/secret_value.md says: a read by a configured name is opened
    at plan even with depends_on on the offstate_secret that creates it; by its arn it waits."""
    made = ws.name("made")
    gen = (
        'resource "offstate_secret" "made" {\n'
        f'  name = "{made}"\n'
        "  recovery_window_in_days = 0\n"
        "  generate {\n    length = 24\n  }\n"
        "}\n"
    )
    by_name = read_block(f'"{made}"', depends_on="[offstate_secret.made]")
    ws.write(hcl.config(ws.endpoint, gen + by_name + copy_of(ws.name("copy"), "ephemeral.offstate_secret_value.r.value"), variables=()))
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    assert any("offstate_secret.NAME.arn" in d.get("detail", "") for d in diagnostics(res)), res.stdout
    by_arn = read_block("offstate_secret.made.arn")
    ws.write(hcl.config(ws.endpoint, gen + by_arn + copy_of(ws.name("copy"), "ephemeral.offstate_secret_value.r.value"), variables=()))
    ws.apply()
    ws.watch(canaries.Canary(store.read_value(sm, made)))
    same = store.read_value(sm, ws.name("copy")) == store.read_value(sm, made)
    assert same, "copy holds made's value (values not shown)"
    ws.sweep()


def test_a_saved_plan_reads_again_at_apply(ws, sm, tfv):
    """plan -out, a new value written outside, apply of the saved plan: the read is opened again
    at apply and the copy gets the value current then (nothing of the plan's read was kept)."""
    c1, c2 = ws.canary("v1"), ws.canary("v2")
    name, copy = ws.name(), ws.name("copy")
    sm.create_secret(Name=name, SecretString=c1.reveal())
    ws.write(hcl.config(ws.endpoint, read_block(f'"{name}"') + copy_of(copy, "ephemeral.offstate_secret_value.r.value"), variables=()))
    plan = ws.plan()
    sm.put_secret_value(SecretId=name, SecretString=c2.reveal())
    ws.apply(plan)
    store.assert_value(sm, copy, c2)
    ws.assert_no_changes("saved plan")
    ws.sweep()


@pytest.mark.parametrize(
    "attrs, attr",
    [
        ({"version_id": '""'}, "version_id"),
        ({"version_stage": '""'}, "version_stage"),
        ({"secret_id": '""'}, "secret_id"),
        ({"version_id": "VERSION", "version_stage": '"AWSPREVIOUS"'}, "version_stage"),
    ],
)
def test_read_arguments_from_variables_are_judged_once_known(ws, sm, tfv, attrs, attr):
    """`terraform validate` sees variables as unknown: what validate refuses in a literal must be
    refused when a variable brings it (at plan, on the argument), not read in another way."""
    c = ws.canary()
    name = ws.name()
    version = sm.create_secret(Name=name, SecretString=c.reveal())["VersionId"]
    body, variables = "", ""
    for k, v in dict(attrs).items():
        ws.set_var(f"a_{k}", version if v == "VERSION" else json.loads(v))
        variables += f'variable "a_{k}" {{\n  type = string\n}}\n'
        body += f"  {k} = var.a_{k}\n"
    sid = "var.a_secret_id" if "secret_id" in attrs else f'"{name}"'
    body = body.replace("  secret_id = var.a_secret_id\n", "")
    ws.write(
        hcl.config(ws.endpoint, f'ephemeral "offstate_secret_value" "r" {{\n  secret_id = {sid}\n{body}}}\n'
                   + copy_of(ws.name("copy"), "ephemeral.offstate_secret_value.r.value"), variables=())
        + variables
    )
    ws.validate()
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    ds = [d for d in diagnostics(res) if d["severity"] == "error"]
    # Terraform calls ValidateEphemeralResourceConfig again at plan with the values known, and
    # shows what it answers without the block's address or source line (1.11.4 and 1.15.5): the
    # message names the argument.
    assert any(attr in d["summary"] + d.get("detail", "") for d in ds), res.stdout
    assert not any("Provider produced" in d["summary"] for d in ds), res.stdout
    ws.sweep()


def test_data_source_arguments_from_variables_conflict_once_known(ws, sm, tfv):
    name = ws.name()
    arn = sm.create_secret(Name=name, SecretString=ws.canary().reveal())["ARN"]
    ws.set_var("a", arn)
    ws.set_var("n", name + "-other")
    ws.write(
        hcl.config(
            ws.endpoint,
            'variable "a" {\n  type = string\n}\nvariable "n" {\n  type = string\n}\n'
            'data "offstate_secret" "d" {\n  arn  = var.a\n  name = var.n\n}\n'
            'output "n" { value = data.offstate_secret.d.name }\n',
            variables=(),
        )
    )
    ws.validate()
    res = ws.tf("plan", "-input=false", "-json", expect=1)
    ds = [d for d in diagnostics(res) if d["severity"] == "error"]
    assert any("conflicts" in d.get("detail", "") for d in ds), res.stdout
    ws.sweep()


def test_query_with_a_filter_from_an_ephemeral_variable(ws, sm):
    """A list block's filter from an ephemeral variable (a secret there by mistake): the human
    `terraform query` output and the generated configuration do not show it, nor does any log
    or the provider's output. (`terraform query -json` does: Terraform prints input_config, as
    docs/list-resources/secret.md says; not run here.)"""
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    c = ws.canary()
    ws.set_var("secret", c)
    prefix = ws.name()
    sm.create_secret(Name=f"{prefix}/one", SecretString="not-the-canary", Tags=[{"Key": "k", "Value": "v"}])
    ws.write(hcl.header() + hcl.provider(ws.endpoint) + hcl.secret_variable())
    for include in ("true", "false"):
        ws.write(
            'list "offstate_secret" "found" {\n'
            "  provider = offstate\n"
            f"  include_resource = {include}\n"
            "  config {\n    tag_value = var.secret\n  }\n"
            "}\n"
            'list "offstate_secret" "all" {\n'
            "  provider = offstate\n"
            f"  include_resource = {include}\n"
            f'  config {{\n    name_prefix = "{prefix}/"\n  }}\n'
            "}\n",
            name="main.tfquery.hcl",
        )
        res = ws.tf("query")
        assert f"{prefix}/one" in res.stdout, res.stdout
        out = f"generated-{include}.tf"
        # Terraform 1.15.5 asks for the resource objects for -generate-config-out whatever
        # include_resource says.
        ws.tf("query", f"-generate-config-out={out}")
        assert (ws.dir / out).read_text().count('resource "offstate_secret"') == 1
        ws.remove(out)
    ws.sweep()


def test_an_ephemeral_read_configures_a_second_provider(ws, sm, tfv):
    """A second offstate provider configuration assumes a role with an external id read by an
    ephemeral offstate_secret_value of the first; it writes a secret. The external id appears
    in no artifact (logs, provider output, plan, state)."""
    ext = ws.canary("extid")
    ext_name = ws.name("ext")
    sm.create_secret(Name=ext_name, SecretString=ext.reveal())
    ws.env["AWS_ENDPOINT_URL_STS"] = ws.endpoint
    name = ws.name("via-role")
    ws.write(
        hcl.config(
            ws.endpoint,
            read_block(f'"{ext_name}"', label="ext")
            + 'provider "offstate" {\n'
            '  alias    = "role"\n'
            '  region   = "us-east-1"\n'
            f'  endpoint = "{ws.endpoint}"\n'
            "  assume_role {\n"
            '    role_arn    = "arn:aws:iam::123456789012:role/offstate-e2e"\n'
            "    external_id = ephemeral.offstate_secret_value.ext.value\n"
            "  }\n"
            "}\n"
            'ephemeral "offstate_password" "p" {\n  length = 30\n}\n'
            'resource "offstate_secret" "via_role" {\n'
            "  provider = offstate.role\n"
            f'  name = "{name}"\n'
            "  recovery_window_in_days = 0\n"
            "  value_wo = ephemeral.offstate_password.p.result\n"
            '  value_wo_version = "1"\n'
            "}\n",
            variables=(),
        )
    )
    plan = ws.plan()
    ws.apply(plan)
    ws.watch(canaries.Canary(store.read_value(sm, name)))
    ws.assert_no_changes("second provider")
    ws.sweep()
