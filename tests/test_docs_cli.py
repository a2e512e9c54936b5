"""state-scrubber's documentation against its command line.

What `state-scrubber SUBCOMMAND --help` lists is what the docs must say, and the other way round:

- the Usage block of state-scrubber/README.md names every option of every subcommand, and no
  option the subcommand lacks; its `a|b|c` value lists are the option's possible values;
- every audit option, short form included (`--output FILE`, `-o`), has a row in the README's
  table of audit options, and the table names no other;
- every `state-scrubber SUBCOMMAND ...` command shown in README.md, state-scrubber/README.md and
  docs/ (code blocks and inline code) names a subcommand that exists and only options it takes;
- every `--option` a help text mentions exists;
- every subcommand's `--help` shows examples of it under `Examples:`, each taking only its options;
- the exit codes the READMEs give: `audit` 0 clean, 1 findings, 2 error; every subcommand 2 on a
  usage error; `--help` 0.

`check(helps, texts)` returns a list of problems, so `python tests/test_docs_cli.py` runs the
documentation checks outside pytest too. It needs the built binary (`make build`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRUBBER = Path(os.environ.get("OFFSTATE_SCRUBBER_BIN") or REPO / "target" / "release" / "state-scrubber")
SCRUBBER_README = REPO / "state-scrubber" / "README.md"

# An option's first line in clap's help: `  -o, --output <FILE>` or `      --write`.
OPTION = re.compile(r"^(?:  (-[A-Za-z]), |      )(--[a-z][a-z0-9-]*)(?: <[^>]+>)?")
# clap's own options, on every subcommand; the docs need not list them.
CLAP_OWN = {"--help", "--version"}
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
SHORT = re.compile(r"(?<![\w-])-[A-Za-z](?![\w-])")


def run_help(*args: str) -> str:
    return subprocess.run([str(SCRUBBER), *args, "--help"], capture_output=True, text=True, check=True).stdout


def parse_help(text: str) -> dict[str, dict]:
    """{"--long": {"short": "-o" or None, "values": [possible values] or None}} of one help text."""
    options: dict[str, dict] = {}
    block: list[str] = []
    current = None

    def close():
        if current is None:
            return
        joined = " ".join(line.strip() for line in block)
        m = re.search(r"\[possible values: ([^\]]+)\]", joined)
        values = [v.strip() for v in m.group(1).split(",")] if m else None
        if "Possible values:" in joined:
            values = [m.group(1) for line in block if (m := re.match(r"^\s+- ([a-z0-9-]+)(?::|$)", line))]
        options[current]["values"] = values

    for line in text.splitlines():
        m = OPTION.match(line)
        if m:
            close()
            current = m.group(2)
            options[current] = {"short": m.group(1)}
            block = [line[m.end():]]
        elif current is not None:
            block.append(line)
    close()
    return options


def subcommands(top_help: str) -> list[str]:
    """The subcommands `state-scrubber --help` lists (clap's `help` left out)."""
    section = top_help.split("Commands:", 1)[1].split("\n\n", 1)[0]
    return [m.group(1) for m in re.finditer(r"^  ([a-z]+) ", section, re.M) if m.group(1) != "help"]


def usage_block(readme: str) -> dict[str, str]:
    """{subcommand: its synopsis} from the ``` block under `## Usage`, continuation lines joined."""
    body = readme.split("\n## Usage\n", 1)[1]
    code = body.split("```", 2)[1]
    out: dict[str, str] = {}
    last = None
    for line in code.splitlines():
        m = re.match(r"^state-scrubber ([a-z]+)\b(.*)$", line)
        if m:
            last = m.group(1)
            out[last] = m.group(2)
        elif last and line.startswith(" "):
            out[last] += " " + line.strip()
    return out


def shown_commands(text: str, subs: list[str]) -> list[tuple[int, str, str]]:
    """(line, subcommand, the rest of the command) of each `state-scrubber WORD ...` in a code
    block or an inline code span, and of each inline span that is a subcommand and an option
    (`migrate --no-recursive`, `scrub - --write`); a command ends at a shell pipe (` | `, `\\|`
    in a table), `;`, `&&`, `)`, a comment or the span's end."""
    out = []
    bare = re.compile(rf"^({'|'.join(subs)}) +(-.*)$")
    in_code = False
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        pieces = [line] if in_code else re.findall(r"`([^`]+)`", line)
        for piece in pieces:
            piece = re.sub(r"(^|\s)#.*$", "", piece) if in_code else piece
            for m in re.finditer(r"(?:^|[\s|(])state-scrubber +([a-z]+)\b(.*)", piece):
                rest = re.split(r"\s\\?\|\s|;|&&|\)", m.group(2), maxsplit=1)[0]
                out.append((n, m.group(1), rest))
            if not in_code and (m := bare.match(piece)):
                out.append((n, m.group(1), re.split(r"\s\\?\|\s|;|&&|\)", m.group(2), maxsplit=1)[0]))
    return out


def check(helps: dict[str, str], texts: dict[str, str]) -> list[str]:
    """Problems between the help texts ({"": top-level, "audit": ..., ...}) and the docs
    ({path: text}; the state-scrubber README under "state-scrubber/README.md")."""
    problems = []
    subs = subcommands(helps[""])
    options = {s: parse_help(helps[s]) for s in subs}
    readme = texts["state-scrubber/README.md"]

    usage = usage_block(readme)
    for s in subs:
        if s not in usage:
            problems.append(f"state-scrubber/README.md: Usage has no `state-scrubber {s}` line")
            continue
        documented = set(FLAG.findall(usage[s]))
        have = set(options[s]) - CLAP_OWN
        for flag in sorted(have - documented):
            problems.append(f"state-scrubber/README.md: Usage of `{s}` lacks {flag}, which `{s} --help` lists")
        for flag in sorted(documented - have):
            problems.append(f"state-scrubber/README.md: Usage of `{s}` shows {flag}, which `{s} --help` does not list")
        for flag, alternatives in re.findall(r"(--[a-z][a-z0-9-]*) ([a-z0-9-]+(?:\|[a-z0-9-]+)+)", usage[s]):
            values = (options[s].get(flag) or {}).get("values")
            if values is not None and set(alternatives.split("|")) != set(values):
                problems.append(f"state-scrubber/README.md: Usage of `{s}` gives {flag} {alternatives}, `--help` {'|'.join(values)}")
    for s in usage:
        if s not in subs:
            problems.append(f"state-scrubber/README.md: Usage shows `state-scrubber {s}`, which is no subcommand")

    # The audit options table: one row per option, with its short form.
    rows = [line for line in readme.splitlines() if re.match(r"^\| `-", line)]
    for flag, o in options.get("audit", {}).items():
        if flag in CLAP_OWN:
            continue
        row = next((r for r in rows if re.search(rf"`{flag}\b", r.split("|")[1])), None)
        if row is None:
            problems.append(f"state-scrubber/README.md: the audit options table has no row for {flag}")
        elif o["short"] and f"`{o['short']}`" not in row.split("|")[1]:
            problems.append(f"state-scrubber/README.md: the audit options table's row for {flag} lacks its short form {o['short']}")
    for row in rows:
        for flag in FLAG.findall(row.split("|")[1]):
            if flag not in options.get("audit", {}):
                problems.append(f"state-scrubber/README.md: the audit options table has a row for {flag}, which `audit --help` does not list")

    def check_shown(where: str, s: str, rest: str):
        if s not in options:
            problems.append(f"{where}: `state-scrubber {s}` is no subcommand")
            return
        shorts = {o["short"] for o in options[s].values() if o["short"]}
        for flag in FLAG.findall(rest):
            if flag not in options[s]:
                problems.append(f"{where}: `state-scrubber {s}` is shown with {flag}, which it does not take")
        for short in SHORT.findall(rest):
            if short not in shorts:
                problems.append(f"{where}: `state-scrubber {s}` is shown with {short}, which it does not take")

    # Every command shown in the docs.
    for path, text in texts.items():
        for line, s, rest in shown_commands(text, subs):
            check_shown(f"{path}:{line}", s, rest)

    # Every subcommand's --help shows examples of it (ripgrep's and gitleaks' do), each a command
    # it takes.
    for s in subs:
        examples = helps[s].split("\nExamples:\n", 1)[1].split("\n\n", 1)[0] if "\nExamples:\n" in helps[s] else ""
        shown = shown_commands("```\n" + examples + "\n```", subs)
        if not any(sub == s for _, sub, _ in shown):
            problems.append(f"`state-scrubber {s} --help` shows no example of `state-scrubber {s}` under Examples:")
        for line, sub, rest in shown:
            check_shown(f"`state-scrubber {s} --help`, example {line - 1}", sub, rest)

    # Options a help text names.
    every = set().union(*(set(o) for o in options.values())) | CLAP_OWN
    for s in ["", *subs]:
        for flag in sorted(set(FLAG.findall(helps[s])) - every):
            problems.append(f"`state-scrubber {s} --help` names {flag}, which no subcommand takes".replace("  ", " "))
    return problems


def docs_texts() -> dict[str, str]:
    files = [REPO / "README.md", SCRUBBER_README, *sorted((REPO / "docs").rglob("*.md"))]
    return {str(f.relative_to(REPO)): f.read_text() for f in files}


def all_helps() -> dict[str, str]:
    top = run_help()
    return {"": top, **{s: run_help(s) for s in subcommands(top)}}


if __name__ == "__main__":
    found = check(all_helps(), docs_texts())
    print("\n".join(found) or "the docs match state-scrubber --help")
    sys.exit(1 if found else 0)
else:
    import json

    import pytest

    from harness import terraform as tfh

    @pytest.fixture(scope="module")
    def helps():
        tfh.require(SCRUBBER.is_file(), f"{SCRUBBER} is not built (make build)")
        return all_helps()

    def test_docs_match_the_command_line(helps):
        problems = check(helps, docs_texts())
        assert not problems, "the docs and `state-scrubber --help` differ:\n" + "\n".join(problems)

    def test_the_help_is_read(helps):
        """The parser sees what the help lists: a change of clap's layout must not make the
        checks above vacuous."""
        assert subcommands(helps[""]) == ["audit", "scrub", "restore", "migrate", "rules"]
        audit = parse_help(helps["audit"])
        assert audit["--output"]["short"] == "-o" and audit["--quiet"]["short"] == "-q", audit
        assert audit["--format"]["values"] == ["text", "json", "sarif", "html"], audit["--format"]
        assert audit["--color"]["values"] == ["auto", "always", "never"], audit["--color"]
        scrub = parse_help(helps["scrub"])
        assert {"--prefix", "--write", "--only", "--exclude", "--tag", "--store"} <= set(scrub), sorted(scrub)
        assert scrub["--store"]["values"] == ["aws-secretsmanager"], scrub["--store"]
        assert parse_help(helps["rules"])["--format"]["values"] == ["text", "json"]
        usage = usage_block(SCRUBBER_README.read_text())
        assert set(usage) == {"audit", "scrub", "restore", "migrate", "rules"}, usage

    def test_drift_is_caught(helps):
        """The check can fail: an option the Usage block loses, one it gains, a value list that
        differs, a table row that goes, an option a shown command lacks and a subcommand
        that does not exist are each reported."""
        texts = docs_texts()
        readme = texts["state-scrubber/README.md"]
        usage = readme.split("\n## Usage\n", 1)[1].split("```", 2)[1]
        drifted = usage.replace(" [--no-recursive]", "").replace("[--write] [--config FILE]", "[--write] [--dry-run] [--config FILE]", 1)
        drifted = drifted.replace("--format text|json|sarif|html", "--format text|json|sarif", 1)
        assert drifted != usage
        broken = readme.replace(usage, drifted).replace("| `--all-versions` |", "| all versions |")
        broken = broken.replace("| `--concurrency N` |", "| `--concurrency N`, `--parallel N` |")
        broken += "\n```sh\nstate-scrubber audit . --fail-on-errors\nstate-scrubber scan .\n```\n"
        no_examples = helps["migrate"].replace("\nExamples:\n", "\n")
        bad_example = helps["rules"].replace("state-scrubber rules --format json", "state-scrubber rules --format json --all", 1)
        assert bad_example != helps["rules"]
        problems = check({**helps, "migrate": no_examples, "rules": bad_example}, {**texts, "state-scrubber/README.md": broken})
        for want in [
            "`state-scrubber migrate --help` shows no example",
            "`state-scrubber rules --help`, example 2: `state-scrubber rules` is shown with --all",
            "Usage of `migrate` lacks --no-recursive",
            "Usage of `scrub` shows --dry-run",
            "Usage of `audit` gives --format text|json|sarif, `--help` text|json|sarif|html",
            "the audit options table has no row for --all-versions",
            "the audit options table has a row for --parallel",
            "is shown with --fail-on-errors, which it does not take",
            "`state-scrubber scan` is no subcommand",
        ]:
            assert any(want in p for p in problems), (want, problems)

    def test_the_json_summary_is_documented(tmp_path):
        """Every member of the JSON report's `summary`, and of a `top_fixes` entry, is named in
        state-scrubber/README.md (`top_fixes`' `fix` was not). No value is shown: only keys."""
        tfh.require(SCRUBBER.is_file(), f"{SCRUBBER} is not built (make build)")
        state = tmp_path / "legacy.tfstate"
        subprocess.run([sys.executable, str(REPO / "examples" / "legacy-state" / "generate_state.py"), str(state)], check=True, capture_output=True)
        res = run("audit", str(state), "--format", "json", cwd=tmp_path)
        assert res.returncode == 1, res.stderr
        summary = json.loads(res.stdout)["summary"]
        assert summary["top_fixes"], "the legacy state has fixes"
        keys = set(summary) | {f"top_fixes.{k}" for k in summary["top_fixes"][0]}
        readme = SCRUBBER_README.read_text()
        section = readme.split("### Summary and HTML", 1)[1].split("\n### ", 1)[0]
        def named(key: str) -> bool:
            # A top_fixes member is named in the entry shown: `{"target": ..., "fix": ...}`.
            member = key.removeprefix("top_fixes.")
            return f"`{key}`" in section or (member != key and f'"{member}"' in section)

        missing = sorted(k for k in keys if not named(k))
        assert not missing, f"the JSON summary members not named under 'Summary and HTML': {missing}"

    def test_audit_of_stdin_typed_at_a_terminal_says_what_it_waits_for(tmp_path):
        """`state-scrubber audit -` on a terminal looked hung, waiting for a state on the
        keyboard: it says so on stderr, then reads what is typed up to Ctrl-D. From a pipe it
        says nothing (test_exit_codes_are_as_documented and the other tests pipe stdin)."""
        import pty
        import time

        tfh.require(SCRUBBER.is_file(), f"{SCRUBBER} is not built (make build)")
        master, slave = pty.openpty()
        proc = subprocess.Popen([str(SCRUBBER), "audit", "-"], cwd=tmp_path, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(slave)
        try:
            # The note comes before anything is typed.
            fd = proc.stderr.fileno()
            os.set_blocking(fd, False)
            said = b""
            deadline = time.monotonic() + 30
            while b"\n" not in said and time.monotonic() < deadline and proc.poll() is None:
                try:
                    said += os.read(fd, 4096)
                except BlockingIOError:
                    time.sleep(0.05)
            assert b"stdin, which is a terminal" in said, said
            # A line pasted at a terminal is cut at 4 KiB (canonical mode): a plan's one-line
            # `terraform show -json` failed as truncated JSON; the note says to pipe it.
            assert b"must be piped: a terminal cuts a line at 4 KiB" in b" ".join(said.split()), said
            os.set_blocking(fd, True)
            # One Ctrl-D at the start of a line ends the input (it took two).
            clean = {"version": 4, "terraform_version": "1.11.0", "serial": 1, "lineage": "tty", "outputs": {}, "resources": []}
            os.write(master, json.dumps(clean).encode() + b"\n\x04")
            out, _ = proc.communicate(timeout=60)
        finally:
            proc.kill()
            os.close(master)
        assert proc.returncode == 0, out
        assert b"0 findings in 1 file scanned" in out, out

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
        return subprocess.run([str(SCRUBBER), *args], cwd=cwd, capture_output=True, text=True, timeout=120)

    def test_exit_codes_are_as_documented(helps, tmp_path):
        """README.md and state-scrubber/README.md: audit exits 0 clean, 1 on findings at or above
        --fail-on, 2 on an error (also when there are findings too); every subcommand exits 2 on a
        usage error and 0 for --help. The legacy state's values are made at run time and never
        shown: only exit codes and stderr's first line are."""
        subprocess.run([sys.executable, str(REPO / "examples" / "legacy-state" / "generate_state.py"), str(tmp_path / "legacy.tfstate")], check=True, capture_output=True)
        clean = {"version": 4, "terraform_version": "1.11.0", "serial": 1, "lineage": "docs-cli", "outputs": {}, "resources": []}
        (tmp_path / "clean.tfstate").write_text(json.dumps(clean))
        (tmp_path / "broken.tfstate").write_text('{"version": 4, "resources": [')
        cases = [
            (["audit", "clean.tfstate"], 0),
            (["audit", "legacy.tfstate"], 1),
            (["audit", "legacy.tfstate", "--format", "json"], 1),
            (["audit", "legacy.tfstate", "--format", "sarif"], 1),
            (["audit", "legacy.tfstate", "--fail-on", "critical"], 1),  # a private key: critical
            (["audit", "legacy.tfstate", "--write-baseline", "base.json"], 0),
            (["audit", "legacy.tfstate", "--baseline", "base.json"], 0),
            (["audit", "no-such.tfstate"], 2),
            (["audit", "broken.tfstate"], 2),
            (["audit", "legacy.tfstate", "broken.tfstate"], 2),  # errors win over findings
            (["audit", "--format", "xml", "clean.tfstate"], 2),
            (["scrub", "clean.tfstate", "--prefix", "docs-cli"], 0),  # nothing to scrub: no call
            (["migrate", "."], 0),
            (["rules"], 0),
            (["rules", "--config", "no-such.toml"], 2),
        ]
        cases += [([s, "--no-such-option"], 2) for s in subcommands(helps[""])]
        cases += [([s, "--help"], 0) for s in subcommands(helps[""])] + [(["--version"], 0), ([], 2)]
        wrong = []
        for args, want in cases:
            res = run(*args, cwd=tmp_path)
            if res.returncode != want:
                first = (res.stderr.strip().splitlines() or [""])[0]
                wrong.append(f"state-scrubber {' '.join(args)}: exit {res.returncode}, documented {want} ({first})")
        assert not wrong, "\n".join(wrong)
