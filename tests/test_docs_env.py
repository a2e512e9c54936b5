"""The provider's own environment variables are documented.

Every `OFFSTATE_*` name the provider's code reads (`provider/*/src`, outside its unit tests) is
named in docs/index.md, where the provider's other environment variables are. Test-only names
are not: those in a crate's `tests/` or a `tests.rs` file, and `OFFSTATE_TEST_*` (the variables
a unit test sets for the child process it re-runs itself as). Build-time variables (`build.rs`)
and the example binaries' (`examples/`) are not read by the provider at run time.

No binary, Terraform or endpoint is needed: `python tests/test_docs_env.py` runs it too.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INDEX = REPO / "docs" / "index.md"
NAME = re.compile(r'"(OFFSTATE_[A-Z0-9_]+)"')


def read_by_the_provider(repo: Path = REPO) -> dict[str, list[str]]:
    """Each OFFSTATE_* string literal of the provider's non-test source -> the files it is in."""
    found: dict[str, list[str]] = {}
    for path in sorted((repo / "provider").glob("*/src/**/*.rs")):
        rel = path.relative_to(repo)
        if path.name == "tests.rs" or "tests" in rel.parts[3:-1]:
            continue
        text = path.read_text(encoding="utf-8")
        # A unit-test module at the end of a file (`#[cfg(test)] mod tests {`): not the provider.
        cut = re.search(r"^#\[cfg\(test\)\]\s*\n\s*mod tests\b", text, re.M)
        if cut:
            text = text[: cut.start()]
        for name in NAME.findall(text):
            if not name.startswith("OFFSTATE_TEST_"):
                found.setdefault(name, []).append(str(rel))
    return found


def undocumented(repo: Path = REPO) -> list[str]:
    index = (repo / "docs" / "index.md").read_text(encoding="utf-8")
    return [
        f"{name} (read in {', '.join(files)}) is not named in docs/index.md"
        for name, files in sorted(read_by_the_provider(repo).items())
        if f"`{name}`" not in index
    ]


def test_the_scan_finds_the_provider_variables():
    # The scan itself: the attempt timeout is read in provider.rs, outside its tests.
    assert "OFFSTATE_AWS_ATTEMPT_TIMEOUT" in read_by_the_provider()


def test_every_environment_variable_the_provider_reads_is_documented():
    problems = undocumented()
    assert not problems, "\n".join(problems)


if __name__ == "__main__":
    problems = undocumented()
    print("\n".join(problems) or "ok")
    sys.exit(1 if problems else 0)
