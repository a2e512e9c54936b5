"""Bad input gets an error diagnostic on the right attribute (Terraform turns the provider's
attribute path into the source range of that attribute), before anything reaches AWS."""

from __future__ import annotations

import re

import pytest

from harness import hcl

pytestmark = [pytest.mark.e2e, pytest.mark.bad_input]

ADDR = "offstate_secret.s"


def attr_lines(text: str, attrs: list[str]) -> set[int]:
    """1-based line numbers where one of `attrs` is assigned."""
    out = set()
    for i, line in enumerate(text.splitlines(), 1):
        if any(re.match(rf"\s*{re.escape(a)}\s*=", line) for a in attrs):
            out.add(i)
    return out


def error_diagnostics_validate(ws) -> list[dict]:
    res = ws.validate(expect=None)
    data = res.json() if res.stdout.strip().startswith("{") else {}
    return [d for d in data.get("diagnostics", []) if d.get("severity") == "error"]


def error_diagnostics_plan(ws) -> list[dict]:
    res = ws.tf("plan", "-input=false", "-json", expect=None)
    assert res.rc != 0, "plan succeeded on bad input"
    return [
        m["diagnostic"]
        for m in res.json_lines()
        if m.get("type") == "diagnostic" and m["diagnostic"].get("severity") == "error"
    ]


def matching(diags: list[dict], lines: set[int], attrs: list[str]) -> list[dict]:
    """Diagnostics that point at one of the attributes (by source range) or name it."""
    out = []
    for d in diags:
        line = (d.get("range") or {}).get("start", {}).get("line")
        text = f"{d.get('summary', '')} {d.get('detail', '')}"
        if line in lines or any(re.search(rf"\b{re.escape(a)}\b", text) for a in attrs):
            out.append(d)
    return out


def brief(diags: list[dict]) -> str:
    return "\n".join(
        f"  line {(d.get('range') or {}).get('start', {}).get('line')}: {d.get('summary')}: {d.get('detail', '')[:200]}"
        for d in diags
    ) or "  (no error diagnostics)"


LONG = "a" * 513

# (id, resource attrs, provider attrs, attributes the diagnostic may point at, phase)
CASES = [
    ("name-bad-chars", {"name": "bad name with spaces!"}, {}, ["name"], "validate"),
    ("name-bad-char-hash", {"name": "db#creds"}, {}, ["name"], "validate"),
    ("name-too-long", {"name": LONG}, {}, ["name"], "validate"),
    ("name-empty", {"name": ""}, {}, ["name"], "validate"),
    ("name-prefix-bad-chars", {"name_prefix": "bad prefix!"}, {}, ["name_prefix"], "validate"),
    ("window-1", {"name": "ok", "recovery_window_in_days": 1}, {}, ["recovery_window_in_days"], "validate"),
    ("window-6", {"name": "ok", "recovery_window_in_days": 6}, {}, ["recovery_window_in_days"], "validate"),
    ("window-31", {"name": "ok", "recovery_window_in_days": 31}, {}, ["recovery_window_in_days"], "validate"),
    ("window-negative", {"name": "ok", "recovery_window_in_days": -1}, {}, ["recovery_window_in_days"], "validate"),
    ("name-and-prefix", {"name": "ok", "name_prefix": "ok-"}, {}, ["name", "name_prefix"], "validate"),
    # value_wo comes from a variable, unknown to `terraform validate` (it may still be null):
    # the missing trigger is reported once the value is known, at plan.
    ("value-without-version", {"name": "ok", "value_wo_version": None}, {}, ["value_wo", "value_wo_version"], "plan"),
    ("unknown-region", {"name": "ok"}, {"region": "xx-nowhere-9"}, ["region"], "plan"),
]


@pytest.mark.parametrize("case_id,attrs,prov,expect_attrs,phase", CASES, ids=[c[0] for c in CASES])
def test_bad_input_has_a_diagnostic_on_the_attribute(ws, sm, case_id, attrs, prov, expect_attrs, phase):
    c = ws.canary()
    ws.set_var("secret", c)
    attrs = dict(attrs)
    if "value_wo_version" not in attrs:
        attrs["value_wo_version"] = "1"
    if "name" in attrs and attrs["name"] == "ok":
        attrs["name"] = ws.name()
    text = hcl.config(ws.endpoint, hcl.secret(**attrs), provider_attrs=prov)
    ws.write(text)
    lines = attr_lines(text, expect_attrs)

    diags = error_diagnostics_validate(ws)
    hits = matching(diags, lines, expect_attrs)
    if not hits and phase == "plan":
        diags = error_diagnostics_plan(ws)
        hits = matching(diags, lines, expect_attrs)
    assert hits, f"{case_id}: no error diagnostic on {expect_attrs} (lines {sorted(lines)}); got:\n{brief(diags)}"
    assert ws.attributes(ADDR) is None
    if "name" in attrs and attrs["name"]:
        # nothing was created on the way
        assert not sm.list_secrets(Filters=[{"Key": "name", "Values": [ws.prefix]}])["SecretList"]
    ws.sweep()


GOOD = [
    ("window-0", {"recovery_window_in_days": 0}),
    ("window-7", {"recovery_window_in_days": 7}),
    ("window-30", {"recovery_window_in_days": 30}),
    ("name-all-allowed-chars", {"name": "a/b_c+d=e.f@g-h"}),
    ("name-512", {"name": "b" * 512}),
    ("version-number", {"value_wo_version": 3}),
    ("no-value-no-version", {"value_wo_version": None, "value_var": None}),
]


@pytest.mark.parametrize("case_id,attrs", GOOD, ids=[g[0] for g in GOOD])
def test_good_input_validates(ws, case_id, attrs):
    c = ws.canary()
    ws.set_var("secret", c)
    attrs = {"name": ws.name(), "value_wo_version": "1", **attrs}
    ws.write(hcl.config(ws.endpoint, hcl.secret(**attrs)))
    res = ws.validate(expect=None)
    assert res.rc == 0, f"{case_id}: valid input rejected:\n{brief(res.json().get('diagnostics', []))}"
    ws.sweep()


def test_arguments_from_variables_are_judged_once_known(ws):
    # `terraform validate` (and the validate walk before each plan) sees every variable as
    # unknown: two arguments from variables that leave one of them null must not "conflict".
    body = (
        'variable "name" {\n  type    = string\n  default = null\n}\n'
        'variable "prefix" {\n  type    = string\n  default = "tf-vars-"\n}\n'
        'resource "offstate_secret" "s" {\n'
        "  name                    = var.name\n"
        "  name_prefix             = var.prefix\n"
        "  recovery_window_in_days = 0\n"
        "}\n"
    )
    ws.write(hcl.config(ws.endpoint, body, variables=()))
    assert error_diagnostics_validate(ws) == []
    plan = ws.plan()
    assert plan.actions(ADDR) == ["create"], plan.summary()
    # Known values that conflict are still refused, at plan.
    ws.write(hcl.config(ws.endpoint, body.replace("default = null", 'default = "tf-vars-name"'), variables=()))
    diags = error_diagnostics_plan(ws)
    assert any("conflicts with" in (d.get("detail") or "") for d in diags), brief(diags)


def test_a_service_error_echoing_the_request_does_not_show_the_value(ws, sm, moto):
    """A Secrets Manager endpoint (here a proxy in front of moto) that answers CreateSecret and
    PutSecretValue with a ValidationException quoting the request body: the JSON body holds a
    value with a quote and a backslash JSON-escaped, and a binary value in base64. The provider's
    error names the code and withholds the message; the canary sweep checks every artifact."""
    import base64

    from harness import canary as canaries
    from harness.faults import ECHO, FaultProxy

    proxy = FaultProxy(moto.url, rate=1.0, kinds=(ECHO,), only_ops={"CreateSecret", "PutSecretValue"},
                       log_path=ws.artifacts / "echo-proxy.log").start()
    try:
        text = ws.watch(canaries.Canary('q"b\\' + ws.canary("text").reveal()))
        raw = ws.canary("binary")
        ws.set_var("secret", text)
        ws.set_var("binary", base64.b64encode(raw.reveal().encode()).decode())
        ws.write(hcl.config(
            proxy.url,
            hcl.secret("t", name=ws.name(), value_wo_version="1", recovery_window_in_days=0),
            hcl.secret("b", value_var=None, name=ws.name(), value_wo_version="1", recovery_window_in_days=0,
                       raw={"binary_wo": "var.binary"}),
            variables=("secret", "binary"),
        ))
        res = ws.apply(expect=1)
        out = res.output
        assert out.count("ValidationException") >= 2, "both creates fail with the service's code"
        assert "message withheld" in out, "the echoed message is replaced"
    finally:
        proxy.stop()


GENERATE_JSON_CASES = [
    # json_key without json_template: the value would be the bare password, not the object asked for.
    ("json-key-without-template", 'json_key = "pw"', "json_key"),
    # A template field where the password goes: its configured value would be replaced.
    ("template-field-is-the-default-key", 'json_template = { username = "app", password = "x" }', "json_template"),
    ("template-field-is-json-key", 'json_template = { username = "app", pw = "x" }\n    json_key = "pw"', "json_template"),
]


@pytest.mark.parametrize("case_id,settings,attr", GENERATE_JSON_CASES, ids=[c[0] for c in GENERATE_JSON_CASES])
def test_generate_json_settings_that_cannot_apply_are_refused(ws, sm, case_id, settings, attr):
    ws.canary()  # nothing secret is configured here; the sweep still runs
    name = ws.name()
    text = hcl.config(
        ws.endpoint,
        f'resource "offstate_secret" "s" {{\n  name = "{name}"\n  generate {{\n    {settings}\n  }}\n}}\n',
        variables=(),
    )
    ws.write(text)
    diags = error_diagnostics_validate(ws)
    lines = attr_lines(text, [attr])
    hits = [d for d in diags if (d.get("range") or {}).get("start", {}).get("line") in lines]
    assert hits, f"{case_id}: no error diagnostic on generate.{attr} (lines {sorted(lines)}); got:\n{brief(diags)}"
    ws.sweep()
