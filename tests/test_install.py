"""`terraform init` installs the provider the way a user would: from a filesystem mirror.

(The other tests load it with dev_overrides and no init; this one covers the demo's path.)
"""

from __future__ import annotations

import platform
import shutil

import pytest

from harness import hcl
from harness import store
from harness import terraform as tfh

pytestmark = [pytest.mark.e2e]


def _platform() -> str:
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    return f"{platform.system().lower()}_{arch or platform.machine().lower()}"


def test_init_from_filesystem_mirror_then_apply(tmp_path, session_dir, terraform_version, provider_bin, moto, sm):
    tmp_path.chmod(0o700)
    version = "0.1.0"
    mirror = tmp_path / "mirror"
    pkg = mirror / "registry.terraform.io" / "offstate" / "offstate" / version / _platform()
    pkg.mkdir(parents=True)
    shutil.copy2(provider_bin, pkg / f"terraform-provider-offstate_v{version}")
    rc = tmp_path / "terraformrc"
    rc.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/offstate/offstate"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/offstate/offstate"]\n  }\n}\n'
    )
    home = tmp_path / "home"
    home.mkdir()
    ws = tfh.Workspace(tmp_path / "ws", tfh.base_env(rc, home), moto.url, "install")
    c = ws.canary()
    ws.set_var("secret", c)
    name = f"offstate-e2e/install-{tmp_path.name}"
    ws.write(hcl.config(ws.endpoint, hcl.secret(name=name, value_wo_version="1", recovery_window_in_days=0)))
    try:
        try:
            ws.init()
            assert (ws.dir / ".terraform.lock.hcl").exists()
            ws.apply()
            store.assert_value(sm, name, c)
            ws.assert_no_changes()
            ws.destroy()
        finally:
            ws.sweep()
    except BaseException:
        ws.close(check=False)
        raise
    ws.close()
