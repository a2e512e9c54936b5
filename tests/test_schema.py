"""The provider schema as the real Terraform reports it (`terraform providers schema -json`)."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import jsonschema
import pytest

from harness import hcl
from harness.terraform import PROVIDER_ADDR

pytestmark = [pytest.mark.e2e, pytest.mark.schema]


def attr(**props) -> dict:
    """A JSON Schema for one attribute of Terraform's schema JSON; unset flags must be absent or false."""
    schema = {"type": "object", "required": ["type"] if "type" in props else [], "properties": {}}
    for k, v in props.items():
        schema["properties"][k] = {"const": v}
    for flag in ("required", "optional", "computed", "sensitive", "write_only"):
        if flag not in props:
            schema["properties"][flag] = {"const": False}
    return schema


STRING = "string"
MAP_STRING = ["map", "string"]
NUMBER = "number"

# The user-facing contract of DESIGN.md, as JSON Schema over `providers schema -json`.
SECRET_SCHEMA = {
    "type": "object",
    "required": ["block"],
    "properties": {
        "block": {
            "type": "object",
            "required": ["attributes"],
            "properties": {
                "attributes": {
                    "type": "object",
                    "required": [
                        "name", "name_prefix", "description", "kms_key_id", "tags", "tags_all",
                        "recovery_window_in_days", "value_wo", "value_wo_version", "arn", "id", "version_id",
                    ],
                    "properties": {
                        "name": attr(type=STRING, optional=True, computed=True),
                        "name_prefix": {"properties": {"type": {"const": STRING}, "optional": {"const": True}}},
                        "description": {"properties": {"type": {"const": STRING}, "optional": {"const": True}}},
                        "kms_key_id": {"properties": {"type": {"const": STRING}, "optional": {"const": True}}},
                        "tags": {"properties": {"type": {"const": MAP_STRING}, "optional": {"const": True}}},
                        "tags_all": {"properties": {"type": {"const": MAP_STRING}, "computed": {"const": True}}},
                        "recovery_window_in_days": {
                            "properties": {"type": {"const": NUMBER}, "optional": {"const": True}}
                        },
                        "value_wo": attr(type=STRING, optional=True, sensitive=True, write_only=True),
                        "value_wo_version": {
                            "properties": {
                                "type": {"const": STRING},
                                "optional": {"const": True},
                                "write_only": {"const": False},
                                "sensitive": {"const": False},
                            }
                        },
                        "arn": attr(type=STRING, computed=True),
                        "id": {"properties": {"type": {"const": STRING}, "computed": {"const": True}}},
                        "version_id": attr(type=STRING, computed=True),
                    },
                }
            },
        }
    },
}

PROVIDER_SCHEMA = {
    "type": "object",
    "required": ["block"],
    "properties": {
        "block": {
            "type": "object",
            "required": ["attributes", "block_types"],
            "properties": {
                "attributes": {
                    "type": "object",
                    "required": ["region", "profile", "endpoint", "default_tags"],
                    "properties": {
                        "region": {"properties": {"type": {"const": STRING}, "optional": {"const": True}}},
                        "profile": {"properties": {"type": {"const": STRING}, "optional": {"const": True}}},
                        "endpoint": {"properties": {"type": {"const": STRING}, "optional": {"const": True}}},
                        "default_tags": {"properties": {"type": {"const": MAP_STRING}, "optional": {"const": True}}},
                    },
                },
                "block_types": {
                    "type": "object",
                    "required": ["assume_role"],
                    "properties": {
                        "assume_role": {
                            "properties": {
                                "block": {
                                    "properties": {
                                        "attributes": {"required": ["role_arn", "session_name", "external_id"]}
                                    }
                                }
                            }
                        }
                    },
                },
            },
        }
    },
}


@pytest.fixture
def schema(ws):
    # The newest Terraform reports every part of the schema (identity, list resources);
    # the snapshot must not depend on which Terraform is on PATH.
    ws.env["OFFSTATE_TERRAFORM"] = "bundled"
    ws.set_var("secret", ws.canary())
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=ws.name(), value_wo_version="1")))
    data = ws.tf("providers", "schema", "-json").json()
    ws.sweep()
    assert PROVIDER_ADDR in data["provider_schemas"], sorted(data["provider_schemas"])
    return data["provider_schemas"][PROVIDER_ADDR]


def test_value_wo_is_write_only_and_sensitive(schema):
    a = schema["resource_schemas"]["offstate_secret"]["block"]["attributes"]["value_wo"]
    assert a.get("write_only") is True
    assert a.get("sensitive") is True
    assert not a.get("computed"), "a write-only attribute can never be computed"


def test_secret_resource_matches_contract(schema):
    jsonschema.validate(schema["resource_schemas"]["offstate_secret"], SECRET_SCHEMA)


def test_provider_config_matches_contract(schema):
    jsonschema.validate(schema["provider"], PROVIDER_SCHEMA)


def test_only_value_wo_is_write_only(schema):
    for rtype, rs in schema["resource_schemas"].items():
        wo = sorted(n for n, a in rs["block"]["attributes"].items() if a.get("write_only"))
        for n in wo:
            assert rs["block"]["attributes"][n].get("sensitive"), f"{rtype}.{n} is write-only but not sensitive"
    wo = [n for n, a in schema["resource_schemas"]["offstate_secret"]["block"]["attributes"].items() if a.get("write_only")]
    assert sorted(wo) == ["binary_wo", "value_wo"]


def test_every_value_attribute_is_sensitive(schema):
    """Write-only attributes and every attribute that carries a value (ephemeral results) are sensitive;
    data sources carry no value at all."""
    for kind in ("resource_schemas", "ephemeral_resource_schemas"):
        for rtype, rs in schema.get(kind, {}).items():
            for n, a in rs["block"]["attributes"].items():
                if a.get("write_only") or n in ("value", "result"):
                    assert a.get("sensitive"), f"{kind} {rtype}.{n} carries a value but is not sensitive"
    for rtype, rs in schema.get("data_source_schemas", {}).items():
        assert not ({"value", "result", "secret_string"} & set(rs["block"]["attributes"])), rtype


SNAPSHOT = Path(__file__).parent / "snapshots" / "provider-schema.json"


def test_schema_snapshot(schema):
    """The whole schema, as Terraform reports it, against the reviewed snapshot.
    OFFSTATE_UPDATE_SNAPSHOTS=1 rewrites it; review the diff before committing."""
    text = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    if os.environ.get("OFFSTATE_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text)
    assert SNAPSHOT.exists(), "no snapshot yet: run with OFFSTATE_UPDATE_SNAPSHOTS=1"
    want = SNAPSHOT.read_text()
    if text != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True), "snapshot", "now", n=2))
        pytest.fail("provider schema drifted from tests/snapshots/provider-schema.json:\n" + diff[:6000], pytrace=False)
