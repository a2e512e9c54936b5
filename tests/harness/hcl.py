"""Small builders for the configurations the tests write. Values here are never secrets."""

from __future__ import annotations

import json


def lit(v) -> str:
    """An HCL literal for a Python value (JSON syntax is valid HCL for these)."""
    if isinstance(v, dict):
        inner = ", ".join(f"{json.dumps(k)} = {lit(x)}" for k, x in v.items())
        return "{ " + inner + " }" if inner else "{}"
    return json.dumps(v)


def header() -> str:
    return (
        "terraform {\n"
        "  required_providers {\n"
        '    offstate = { source = "offstate/offstate" }\n'
        "  }\n"
        "}\n"
    )


def provider(endpoint: str | None, region: str | None = "us-east-1", **attrs) -> str:
    body = ""
    if region is not None:
        body += f"  region   = {lit(region)}\n"
    if endpoint is not None:
        body += f"  endpoint = {lit(endpoint)}\n"
    for k, v in attrs.items():
        body += f"  {k} = {lit(v)}\n"
    return f'provider "offstate" {{\n{body}}}\n'


def secret_variable(name: str = "secret") -> str:
    """A sensitive, ephemeral input: its value is recorded in neither the state nor a saved plan."""
    return (
        f'variable "{name}" {{\n'
        "  type      = string\n"
        "  sensitive = true\n"
        "  ephemeral = true\n"
        "}\n"
    )


def secret(resource: str = "s", *, value_var: str | None = "secret", **attrs) -> str:
    """`resource "offstate_secret"`; value_wo comes from var.<value_var> when given.

    Pass `value_wo_version=...` (string or number) with it; `raw={"k": "hcl expr"}` adds
    attributes verbatim.
    """
    raw = attrs.pop("raw", {})
    body = ""
    for k, v in attrs.items():
        if v is not None:
            body += f"  {k} = {lit(v)}\n"
    if value_var is not None:
        body += f"  value_wo = var.{value_var}\n"
    for k, expr in raw.items():
        body += f"  {k} = {expr}\n"
    return f'resource "offstate_secret" "{resource}" {{\n{body}}}\n'


def config(endpoint: str | None, *blocks: str, provider_attrs: dict | None = None, variables=("secret",)) -> str:
    parts = [header(), provider(endpoint, **(provider_attrs or {}))]
    parts += [secret_variable(v) for v in variables]
    parts += list(blocks)
    return "\n".join(parts)
