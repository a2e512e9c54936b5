"""`state-scrubber audit` of a saved binary plan made by the real Terraform (`plan -out`).

Only the built-in `terraform_data` resource is used: no provider is downloaded or built, no
Secrets Manager is needed. A sensitive variable gets a random canary through TF_VAR_ (never argv
or a .tf file); the plan is applied and planned again with a changed input, so the saved plan
holds the canary in its variables, in the resource change (before and after) and in the prior
state inside the zip. The audit must report each place, by member and JSON pointer, and print
the canary nowhere (stdout and stderr, text/JSON/SARIF, plain, JSON-escaped and base64 forms).
A sensitive variable of type number (a PIN) reaches a sensitive output: the number is reported
(layer 1, `value_type` number) and printed nowhere either. SARIF locates every finding of the
saved plan at the file `tfplan` itself (a path in the repository), naming the member apart.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest

from harness import canary as canaries
from harness import terraform as tfh


SCRUBBER = Path(os.environ.get("OFFSTATE_SCRUBBER_BIN", tfh.REPO / "target" / "release" / "state-scrubber"))

CONFIG = """
variable "db_password" {
  type      = string
  sensitive = true
}

variable "suffix" {
  type    = string
  default = ""
}

variable "pin" {
  type      = number
  sensitive = true
}

resource "terraform_data" "x" {
  input = "${var.db_password}${var.suffix}"
}

output "pin" {
  value     = var.pin
  sensitive = true
}

output "pw" {
  value     = terraform_data.x.output
  sensitive = true
}
"""


def _env(tmp: Path, canary: canaries.Canary, pin: str) -> dict[str, str]:
    cli_config = tmp / "terraformrc"
    cli_config.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.pop("OFFSTATE_TERRAFORM_LAUNCHED", None)
    env.update(
        {
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_VAR_db_password": canary.reveal(),
            "TF_VAR_pin": pin,
        }
    )
    return env


def _tf(wd: Path, env: dict[str, str], *args: str) -> None:
    res = subprocess.run(
        tfh.terraform_command() + list(args), cwd=wd, env=env, capture_output=True, timeout=300, check=False
    )
    # Terraform's own output is not searched here (not this test's subject); it is never shown
    # unredacted either (conftest masks canaries in failure reports).
    assert res.returncode == 0, f"terraform {args[0]} failed: {canaries.redact(res.stderr.decode(errors='replace'))[-2000:]}"


def _audit(wd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATE_SCRUBBER")}
    env["NO_COLOR"] = "1"
    return subprocess.run([str(SCRUBBER), "audit", *args], cwd=wd, env=env, capture_output=True, timeout=120, check=False)


def test_audit_reads_a_real_saved_plan_and_never_prints_the_canary(tmp_path):
    tfh.require(SCRUBBER.is_file(), f"{SCRUBBER} not built (cargo build --release -p state-scrubber)")
    tfh.require((tfh.REPO / "tools" / "terraform").is_file(), "no terraform launcher in tools/")
    wd = tmp_path / "ws"
    wd.mkdir()
    (wd / "main.tf").write_text(CONFIG)
    canary = canaries.make_canary("dbpw")
    # A number of 15 digits, the first not 0 (printed nowhere, like the canary).
    pin = str(secrets.choice(range(1, 10))) + "".join(secrets.choice("0123456789") for _ in range(14))
    pin_canary = canaries.wrap(pin)
    env = _env(tmp_path, canary, pin)

    _tf(wd, env, "init", "-no-color")
    _tf(wd, env, "plan", "-no-color", "-out", "tfplan")
    _tf(wd, env, "apply", "-no-color", "tfplan")
    _tf(wd, env, "plan", "-no-color", "-var", "suffix=-2", "-out", "tfplan")

    # The saved plan holds the canary (in the plan member and the prior state): the test's premise.
    leaks = canaries.search_bytes("tfplan", (wd / "tfplan").read_bytes(), [canary])
    members = {f.artifact for f in leaks}
    assert {"tfplan!tfplan", "tfplan!tfstate"} <= members, sorted(members)

    res = _audit(wd, "tfplan", "--format", "json")
    assert res.returncode == 1, canaries.redact(res.stderr.decode(errors="replace"))
    report = json.loads(res.stdout)
    places = {(f["file"], f["json_pointer"]) for f in report["findings"]}
    for want in [
        ("tfplan!/tfplan", "/variables/db_password/value"),
        ("tfplan!/tfplan", "/resource_changes/0/change/before/input"),
        ("tfplan!/tfplan", "/resource_changes/0/change/after/input"),
        ("tfplan!/tfstate", "/resources/0/instances/0/attributes/input/value"),
    ]:
        assert want in places, f"{want} not among {sorted(places)}"
    assert report["summary"]["errors"] == 0
    addresses = {f["address"] for f in report["findings"]}
    assert {"var.db_password", "terraform_data.x"} <= addresses, sorted(addresses)

    # The directory walk reads it too (beside the state the apply wrote).
    walk = _audit(wd, ".", "--format", "json")
    assert walk.returncode == 1, canaries.redact(walk.stderr.decode(errors="replace"))
    files = {f["file"] for f in json.loads(walk.stdout)["files"]}
    assert {"./tfplan!/tfplan", "./tfplan!/tfstate", "./tfplan!/tfstate-prev", "./terraform.tfstate"} <= files, sorted(files)

    # The number marked sensitive: in the state the apply wrote and in the prior state in the zip.
    numbers = {(f["file"], f["json_pointer"]) for f in json.loads(walk.stdout)["findings"] if f.get("value_type") == "number"}
    assert {("./terraform.tfstate", "/outputs/pin/value"), ("./tfplan!/tfstate", "/outputs/pin/value")} <= numbers, sorted(numbers)

    # SARIF: every result of the saved plan is located at the file `tfplan` (what a repository
    # holds), the member named in the message and properties and nested in run.artifacts.
    sarif_run = _audit(wd, "tfplan", "--format", "sarif")
    assert sarif_run.returncode == 1
    sarif = json.loads(sarif_run.stdout)
    run = sarif["runs"][0]
    assert run["results"]
    for r in run["results"]:
        loc = r["locations"][0]["physicalLocation"]["artifactLocation"]
        assert loc["uri"] == "tfplan", loc
        member = r["properties"]["member"]
        assert f"member `{member}`" in r["message"]["text"]
        nested = run["artifacts"][r["properties"]["memberArtifactIndex"]]
        assert nested["location"]["uri"] == member and nested["parentIndex"] == loc["index"]
    assert b"%21" not in sarif_run.stdout

    runs = [res, walk, sarif_run]
    for fmt in ["text", "json", "sarif", "html"]:
        for target in ["tfplan", "."]:
            r = _audit(wd, target, "--format", fmt, "--verbose")
            assert r.returncode == 1, f"{fmt} {target}: exit {r.returncode}"
            runs.append(r)
    for i, r in enumerate(runs):
        for stream, data in (("stdout", r.stdout), ("stderr", r.stderr)):
            found = canaries.search_bytes(f"run{i}.{stream}", data, [canary, pin_canary])
            assert not found, f"the canary reached the audit's output: {found}"
