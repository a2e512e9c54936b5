"""The test-only stand-in for hashicorp/aws (tests/aws-standin), installed from a filesystem mirror.

Terraform loads the schema of every provider named in state, so a test that moves
`aws_secretsmanager_secret` into `offstate_secret` needs a `registry.terraform.io/hashicorp/aws`.
The stand-in serves the real 6.x schemas of the three Secrets Manager resources (secret, version, policy) and keeps
`secret_string` in state in plaintext, like the real provider. It is installed by `terraform init`
from a filesystem mirror (the way test_install.py installs offstate), while offstate itself keeps
coming from the session's dev_overrides.
"""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path

import pytest

from . import terraform as tfh

AWS_ADDR = "registry.terraform.io/hashicorp/aws"
# A 6.x version number, so `version = "~> 6.0"` constraints in configurations resolve to it.
VERSION = "6.0.0"


def standin_binary() -> Path:
    p = os.environ.get("OFFSTATE_AWS_STANDIN_BIN")
    return Path(p) if p else tfh.REPO / "target" / "release" / "terraform-provider-aws"


def _platform() -> str:
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    return f"{platform.system().lower()}_{arch or platform.machine().lower()}"


def install(session_dir: Path, binary: Path, offstate_plugin_dir: Path) -> Path:
    """Write a filesystem mirror holding the stand-in as hashicorp/aws and offstate (the session's
    wrapper, so its stderr is still an artifact) as offstate/offstate, and a CLI config using it.
    (`terraform init` refuses to run for a provider under dev_overrides, and this workspace needs
    init for hashicorp/aws.)"""
    mirror = session_dir / "aws-mirror"
    pkg = mirror / "registry.terraform.io" / "hashicorp" / "aws" / VERSION / _platform()
    pkg.mkdir(parents=True, exist_ok=True)
    shutil.copy2(binary, pkg / f"terraform-provider-aws_v{VERSION}")
    ours = mirror / "registry.terraform.io" / "offstate" / "offstate" / "0.1.0" / _platform()
    ours.mkdir(parents=True, exist_ok=True)
    shutil.copy2(offstate_plugin_dir / tfh.PROVIDER_NAME, ours / f"{tfh.PROVIDER_NAME}_v0.1.0")
    rc = session_dir / "terraformrc-aws-standin"
    rc.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        f'    include = ["{AWS_ADDR}", "{tfh.PROVIDER_ADDR}"]\n'
        "  }\n"
        "}\n"
    )
    return rc


@pytest.fixture(scope="session")
def aws_standin_env(session_dir, tf_env) -> dict[str, str]:
    """tf_env with a CLI config under which `terraform init` installs the stand-in as hashicorp/aws."""
    from harness.terraform import require

    b = standin_binary()
    require(b.is_file() and os.access(b, os.X_OK), f"aws stand-in {b} not built (cargo build --release)")
    offstate_dir = Path(
        next(line.split("=", 1)[1].strip().strip('"') for line in Path(tf_env["TF_CLI_CONFIG_FILE"]).read_text().splitlines() if "offstate/offstate" in line)
    )
    rc = install(session_dir, b, offstate_dir)
    env = dict(tf_env)
    env["TF_CLI_CONFIG_FILE"] = str(rc)
    return env
