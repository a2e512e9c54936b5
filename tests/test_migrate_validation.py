"""`state-scrubber migrate` and variables that `validation` blocks read, against a real Terraform.

Terraform (1.11.4 and 1.15.5, checked) evaluates an ephemeral variable in its own validation
condition and in another variable's (cross-variable validation, 1.9+), and keeps the value out
of the result; an `error_message` built from it is not shown ("Error message refers to ephemeral
values"). So migrate makes a sensitive variable that only feeds write-only arguments and
validation conditions `ephemeral = true`, and leaves one whose `error_message` interpolates it
as it is (with a note).

The journey: migrate --write; `terraform validate`; a plan whose password fails its own
validation and one that fails the other variable's (each names its rule's message, never the
value); a plan with good values, saved, applied; a plan with no changes. The canary sweep covers
every Terraform artifact (trace logs, saved plans, the state) and migrate's own output.
"""

from __future__ import annotations

import subprocess

import pytest

from harness import canary as canaries
from harness import hcl
from harness import terraform as tfh
from harness.terraform import require

pytestmark = [pytest.mark.e2e]

SCRUBBER = tfh.REPO / "target" / "release" / "state-scrubber"


def scrubber(ws, *args: str, expect: int = 0) -> subprocess.CompletedProcess:
    """Run state-scrubber in the working directory; its output is kept in the artifacts (swept)."""
    ws.seq += 1
    stem = ws.artifacts / f"{ws.seq:02d}-state-scrubber-{args[0]}"
    p = subprocess.run(
        [str(SCRUBBER), *args], cwd=ws.dir, env=ws.env, capture_output=True, timeout=300, stdin=subprocess.DEVNULL
    )
    stem.with_suffix(".stdout").write_bytes(p.stdout)
    stem.with_suffix(".stderr").write_bytes(p.stderr)
    if p.returncode != expect:
        pytest.fail(
            canaries.redact(
                f"state-scrubber {' '.join(args)} exited {p.returncode}, expected {expect}\n"
                f"--- stderr ---\n{p.stderr.decode(errors='replace')[-3000:]}",
                ws.canaries,
            ),
            pytrace=False,
        )
    return p


def variable_block(text: str, name: str) -> str:
    start = text.index(f'variable "{name}"')
    return text[start : text.index("\n}\n", start)]


def test_a_variable_read_by_validations_is_made_ephemeral_and_still_validated(ws):
    require(SCRUBBER.is_file(), f"{SCRUBBER} not built (cargo build --release -p state-scrubber)")
    config = "\n".join(
        [
            hcl.header(),
            hcl.provider(ws.endpoint),
            'variable "pw" {\n'
            "  type      = string\n"
            "  sensitive = true\n"
            "\n"
            "  validation {\n"
            '    condition     = !strcontains(var.pw, "-weak-")\n'
            '    error_message = "The password is a weak one."\n'
            "  }\n"
            "}\n",
            "locals {\n  pw_upper = upper(var.pw)\n}\n",
            'variable "user" {\n'
            "  type = string\n"
            "\n"
            "  validation {\n"
            "    condition     = !strcontains(var.pw, var.user) && var.user != local.pw_upper\n"
            '    error_message = "The password must not contain the user name ${var.user}."\n'
            "  }\n"
            "}\n",
            'variable "token" {\n'
            "  type      = string\n"
            "  sensitive = true\n"
            "\n"
            "  validation {\n"
            '    condition     = startswith(var.token, "offstate-")\n'
            '    error_message = "Not a token: ${var.token}."\n'
            "  }\n"
            "}\n",
            hcl.secret(
                "db",
                value_var="pw",
                name=ws.name("db"),
                value_wo_version=1,
                recovery_window_in_days=0,
                raw={"description": "var.user"},
            ),
            hcl.secret("token", value_var="token", name=ws.name("token"), value_wo_version=1, recovery_window_in_days=0),
        ]
    )
    ws.write(config)
    ws.tf("fmt")
    scrubber(ws, "migrate", ".", "--write")
    text = (ws.dir / "main.tf").read_text()
    assert "ephemeral = true" in variable_block(text, "pw"), text
    assert "ephemeral" not in variable_block(text, "user"), text
    # Its error_message interpolates the value: left as it is, and the note says why.
    assert "ephemeral" not in variable_block(text, "token"), text
    again = scrubber(ws, "migrate", ".")
    assert b"`var.token` not made ephemeral" in again.stderr + again.stdout
    assert b"error_message" in again.stderr + again.stdout
    scrubber(ws, "migrate", ".", "--write")
    assert (ws.dir / "main.tf").read_text() == text, "a second run changed main.tf"
    ws.tf("fmt", "-check", "-diff")

    ws.validate()

    # The password fails its own validation, ephemeral as it is now.
    ws.set_var("pw", ws.canary("weak"))
    ws.set_var("user", "admin")
    # The token stays a plain sensitive variable, which a saved plan holds: no canary.
    ws.set_var("token", "offstate-not-a-secret")
    res = ws.tf("plan", "-input=false", expect=1)
    assert "The password is a weak one." in res.stderr, ws.describe_failure(res, "own validation")
    # The user fails its validation, which reads the ephemeral password (directly and through a local).
    ws.set_var("pw", ws.canary("strong"))
    ws.set_var("user", "strong")
    res = ws.tf("plan", "-input=false", expect=1)
    assert "The password must not contain the user name strong." in res.stderr, ws.describe_failure(
        res, "cross-variable validation"
    )

    ws.set_var("user", "admin")
    plan = ws.plan()
    assert plan.rc == 2, plan.summary()
    ws.apply(plan)
    ws.assert_no_changes("after the apply")
