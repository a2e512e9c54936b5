"""What Secrets Manager (moto) holds, read with boto3; values are compared, never printed."""

from __future__ import annotations

import hmac

import pytest
from botocore.exceptions import ClientError

from .canary import Canary


def read_value(sm, secret_id: str, stage: str = "AWSCURRENT") -> str:
    return sm.get_secret_value(SecretId=secret_id, VersionStage=stage)["SecretString"]


def assert_value(sm, secret_id: str, expected: Canary, stage: str = "AWSCURRENT") -> None:
    try:
        got = read_value(sm, secret_id, stage)
    except ClientError as e:
        pytest.fail(f"{secret_id} {stage}: cannot read the value back: {e.response['Error'].get('Code')}", pytrace=False)
    want = expected.reveal()
    if not hmac.compare_digest(got.encode(), want.encode()):
        pytest.fail(
            f"{secret_id} {stage}: the value in Secrets Manager is not the expected canary "
            f"(lengths {len(got)} and {len(want)}; values not shown)",
            pytrace=False,
        )


def stages(sm, secret_id: str) -> dict[str, str]:
    """{staging label: version id}."""
    out: dict[str, str] = {}
    for v in sm.list_secret_version_ids(SecretId=secret_id, IncludeDeprecated=True)["Versions"]:
        for s in v.get("VersionStages", []):
            out[s] = v["VersionId"]
    return out


def status(sm, secret_id: str) -> str:
    """"active", "scheduled" (deletion pending) or "gone"."""
    try:
        d = sm.describe_secret(SecretId=secret_id)
    except ClientError as e:
        if e.response["Error"].get("Code") == "ResourceNotFoundException":
            return "gone"
        raise
    return "scheduled" if d.get("DeletedDate") else "active"


def tags(sm, secret_id: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=secret_id).get("Tags", [])}
