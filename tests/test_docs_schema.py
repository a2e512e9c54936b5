"""docs/ against the real provider schema (`terraform providers schema -json`).

Every argument and attribute a page under docs/ lists exists in the schema with the same type,
Optional/Required, Sensitive and Write-only flags; every schema attribute (and nested block) is
listed; an argument (Optional or Required) is listed among the arguments and a computed-only
attribute only under Attribute Reference; a default stated in the schema's description is the one
the page states; the function's parameters match. The parser reads the bullet form the pages use:

    - `name` (String, Optional, Sensitive, Write-only) Text...
      - `nested` (Number) Text...
    - `min_lower`, `min_upper` (Number) Text...   several names sharing one type

`check_docs(schema, docs_dir)` returns a list of problems, so `python tests/test_docs_schema.py
SCHEMA.json` runs it outside pytest too.

The pages' examples run too: every ```terraform / ```hcl block of README.md and docs/ (`doc_examples`)
is made a complete configuration (`complete_example`: the provider block, the variables and
`offstate_secret`, action and import targets a snippet refers to but does not declare; resources of
other providers become `terraform_data`) and must pass `terraform validate` with no warning but the
dev_overrides one: Terraform 1.11 from PATH, the bundled 1.15 for `action`, `list`, `action_trigger`
and `import { identity }`. Then `terraform plan` against the local endpoint, after making the
secrets the snippet reads or imports (`secrets_read`), their values canaries swept from every
artifact.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"

# page -> (schema kind, type name); kind "provider" has no name.
PAGES = {
    "index.md": ("provider", None),
    "resources/secret.md": ("resource_schemas", "offstate_secret"),
    "resources/secret_rotation.md": ("resource_schemas", "offstate_secret_rotation"),
    "data-sources/secret.md": ("data_source_schemas", "offstate_secret"),
    "data-sources/secrets.md": ("data_source_schemas", "offstate_secrets"),
    "ephemeral-resources/secret_value.md": ("ephemeral_resource_schemas", "offstate_secret_value"),
    "ephemeral-resources/password.md": ("ephemeral_resource_schemas", "offstate_password"),
    "list-resources/secret.md": ("list_resource_schemas", "offstate_secret"),
    "actions/secret_rotate.md": ("action_schemas", "offstate_secret_rotate"),
}

# Headings (## or ###) whose bullets are schema entries.
REFERENCE_HEADING = re.compile(r"^#{2,3} (Schema|Optional|Required|Nested Schema for|Argument Reference|Attribute Reference)")

TYPES = {
    "String": "string",
    "Number": "number",
    "Boolean": "bool",
    "Map of String": ["map", "string"],
    "List of String": ["list", "string"],
    "Set of String": ["set", "string"],
}
BLOCKS = {"Block": "single", "Block Set": "set", "Block List": "list"}
FLAGS = {"Optional", "Required", "Sensitive", "Write-only", "Ephemeral", "optional", "nullable"}

BULLET = re.compile(r"^(?P<indent> *)(?:-|\d+\.) (?P<names>`[a-z_]+`(?:, `[a-z_]+`)*) \((?P<paren>[^()]*)\)(?P<rest>.*)$")
# A schema description's default: "Default 32.", "(default true)", "Default `AWSCURRENT`."
DEFAULT = re.compile(r"\b[Dd]efault:? `?([A-Za-z0-9_]+)`?")


def entries(text: str):
    """(indent, names, type words, flags, text, heading) of each reference bullet, with its continuation lines."""
    lines = text.splitlines()
    out = []
    heading = None
    in_ref = False
    in_code = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```") or line.strip().startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith("#"):
            in_ref = bool(REFERENCE_HEADING.match(line))
            heading = line
        if in_code or not in_ref:
            i += 1
            continue
        # Join a bullet's parenthesis when it runs onto the next line, and drop markdown links in it.
        joined = line
        j = i + 1
        while re.match(r"^ *(?:-|\d+\.) `", joined) and joined.count("(") > joined.count(")") and j < len(lines):
            joined += " " + lines[j].strip()
            j += 1
        joined = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", joined)
        m = BULLET.match(joined)
        if m:
            words = [w.strip() for w in m["paren"].split(",")]
            names = re.findall(r"`([a-z_]+)`", m["names"])
            typ = [w for w in words if w not in FLAGS]
            flags = {w for w in words if w in FLAGS}
            # The description: the rest of the bullet and its indented continuation lines.
            desc = [m["rest"]]
            k = j
            while k < len(lines) and lines[k].startswith(" " * (len(m["indent"]) + 2)) and not re.match(r"^ *(?:-|\d+\.) `", lines[k]):
                desc.append(lines[k].strip())
                k += 1
            out.append((len(m["indent"]), names, typ, flags, " ".join(desc), heading))
        i = j if j > i + 1 else i + 1
    return out


def doc_tree(text: str):
    """{path: entry}, a nested entry's path prefixed with its parent's ("generate.length");
    a "Nested Schema for `x`" heading makes `x` the parent of its bullets."""
    tree = {}
    stack: list[tuple[int, str]] = []
    for indent, names, typ, flags, desc, heading in entries(text):
        m = re.search(r"Nested Schema for `([a-z_]+)`", heading or "")
        base = m.group(1) + "." if m else ""
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] + "." if stack else base
        for n in names:
            tree.setdefault(parent + n, []).append((typ, flags, desc, heading))
        if len(names) == 1:
            stack.append((indent, parent + names[0]))
    return tree


def schema_tree(block: dict, prefix: str = "") -> dict:
    """{path: ("attr", attribute) | ("block", block_type)}; object members as path.member."""
    out = {}
    for n, a in block.get("attributes", {}).items():
        out[prefix + n] = ("attr", a)
        t = a.get("type")
        if isinstance(t, list) and len(t) == 2 and isinstance(t[1], list) and t[1][0] == "object":
            for member, mt in t[1][1].items():
                out[f"{prefix}{n}.{member}"] = ("member", {"type": mt})
    for n, b in block.get("block_types", {}).items():
        out[prefix + n] = ("block", b)
        out.update(schema_tree(b["block"], prefix + n + "."))
    return out


def check_entry(where: str, path: str, docs: list, kind: str, node: dict) -> list[str]:
    problems = []
    for typ, flags, desc, heading in docs:
        here = f"{where}: `{path}`"
        if kind == "block":
            want = BLOCKS.get(" ".join(typ))
            if want is None or want != node["nesting_mode"]:
                problems.append(f"{here} is documented as ({', '.join(typ)}), the schema has a {node['nesting_mode']} block")
            # A block documented Required may be enforced by the provider's validation instead of
            # min_items (offstate_secret_rotation's rotation_rules: "Missing rotation_rules block").
            continue
        t = node.get("type")
        if kind == "member":
            if typ and TYPES.get(" ".join(typ)) != t:
                problems.append(f"{here} is documented as ({', '.join(typ)}), the schema has {json.dumps(t)}")
            continue
        doc_t = " ".join(typ)
        want = TYPES.get(doc_t)
        if doc_t == "List of Object":
            want = ["list", "object"]
            t = t[:1] + [t[1][0]] if isinstance(t, list) and isinstance(t[1], list) else t
        if want != t:
            problems.append(f"{here} is documented as ({doc_t}), the schema has {json.dumps(node.get('type'))}")
        if "Required" in flags and not node.get("required"):
            problems.append(f"{here} is documented Required, the schema does not require it")
        if "Optional" in flags and not node.get("optional"):
            problems.append(f"{here} is documented Optional, the schema does not take it")
        if node.get("required") and "Required" not in flags:
            problems.append(f"{here} is required in the schema, not documented Required")
        if ("Sensitive" in flags) != bool(node.get("sensitive")):
            problems.append(f"{here}: Sensitive documented {'Sensitive' in flags}, schema {bool(node.get('sensitive'))}")
        if ("Write-only" in flags) != bool(node.get("write_only")):
            problems.append(f"{here}: Write-only documented {'Write-only' in flags}, schema {bool(node.get('write_only'))}")
        in_attr_ref = (heading or "").startswith("## Attribute Reference")
        sd = DEFAULT.search(node.get("description", ""))
        dd = DEFAULT.search(desc)
        if sd and not dd and not in_attr_ref:
            problems.append(f"{here}: the schema says default {sd.group(1)}, the page states none")
        if sd and dd and sd.group(1).lower() != dd.group(1).lower():
            problems.append(f"{here}: the page says default {dd.group(1)}, the schema {sd.group(1)}")
    return problems


def check_page(rel: str, block: dict, text: str) -> list[str]:
    docs = doc_tree(text)
    have = schema_tree(block)
    problems = []
    for path, ds in docs.items():
        if path not in have:
            problems.append(f"docs/{rel}: `{path}` is documented but not in the schema")
            continue
        kind, node = have[path]
        problems += check_entry(f"docs/{rel}", path, ds, kind, node)
        if kind == "attr":
            problems += check_section(f"docs/{rel}", path, ds, node)
    for path in have:
        if path not in docs:
            problems.append(f"docs/{rel}: schema attribute `{path}` is not documented")
    return problems


def check_section(where: str, path: str, docs: list, node: dict) -> list[str]:
    """An argument (Optional or Required in the schema) is listed among the arguments (under
    `## Argument Reference`, `### Optional`, `### Required`, a nested schema or its block), and
    one the provider only computes is listed among the attributes only: a reader sets what the
    arguments list and reads what the attributes list."""
    as_attribute = [d for d in docs if (d[3] or "").startswith("## Attribute Reference")]
    as_argument = [d for d in docs if d not in as_attribute]
    settable = node.get("optional") or node.get("required")
    if settable and not as_argument:
        return [f"{where}: `{path}` is an argument in the schema, listed only under Attribute Reference"]
    if not settable and as_argument:
        return [f"{where}: `{path}` is computed only in the schema, listed as an argument"]
    return []


def check_function(name: str, fn: dict, text: str) -> list[str]:
    rel = f"docs/functions/{name}.md"
    args = text.split("## Arguments", 1)[-1].split("\n## ", 1)[0]
    got = entries("## Argument Reference\n" + args)
    want = list(fn.get("parameters", []))
    if fn.get("variadic_parameter"):
        want.append(dict(fn["variadic_parameter"], variadic=True))
    problems = []
    if [e[1][0] for e in got] != [p["name"] for p in want]:
        return [f"{rel}: arguments {[e[1][0] for e in got]}, the schema has {[p['name'] for p in want]}"]
    for (_, names, typ, flags, _, _), p in zip(got, want):
        if TYPES.get(" ".join(typ)) != p["type"]:
            problems.append(f"{rel}: `{names[0]}` documented ({' '.join(typ)}), the schema has {p['type']}")
        if ("optional" in flags) != bool(p.get("variadic")):
            problems.append(f"{rel}: `{names[0]}` optional documented {'optional' in flags}, variadic {bool(p.get('variadic'))}")
        if ("nullable" in flags) != bool(p.get("is_nullable")):
            problems.append(f"{rel}: `{names[0]}` nullable documented {'nullable' in flags}, schema {bool(p.get('is_nullable'))}")
    sig = re.search(rf"^{name}\((.*)\) (\w+)$", text, re.M)
    if not sig or sig.group(2) != fn["return_type"]:
        problems.append(f"{rel}: the Signature's return type is not {fn['return_type']}")
    return problems


def check_identity(identity: dict, text: str, rel: str) -> list[str]:
    section = text.split("## Resource Identity", 1)
    if len(section) < 2:
        return [f"docs/{rel}: no Resource Identity section"]
    named = dict(re.findall(r"`([a-z_]+)` \((\w+)\)", section[1].split("\n## ", 1)[0]))
    problems = []
    for n, a in identity["attributes"].items():
        if TYPES.get(named.get(n, "")) != a["type"]:
            problems.append(f"docs/{rel}: identity attribute `{n}` ({a['type']}) not documented as such")
    for n in named:
        if n not in identity["attributes"]:
            problems.append(f"docs/{rel}: identity attribute `{n}` is not in the schema")
    return problems


def check_docs(schema: dict, docs_dir: Path = DOCS) -> list[str]:
    problems = []
    documented = set()
    for rel, (kind, name) in PAGES.items():
        text = (docs_dir / rel).read_text()
        block = schema["provider"]["block"] if kind == "provider" else schema.get(kind, {}).get(name, {}).get("block")
        if block is None:
            problems.append(f"docs/{rel}: {kind} {name} is not in the schema")
            continue
        documented.add((kind, name))
        problems += check_page(rel, block, text)
    for kind in ("resource_schemas", "data_source_schemas", "ephemeral_resource_schemas", "list_resource_schemas", "action_schemas"):
        for name in schema.get(kind, {}):
            if (kind, name) not in documented:
                problems.append(f"{kind} {name} has no page under docs/")
    for name, fn in schema.get("functions", {}).items():
        path = docs_dir / "functions" / f"{name}.md"
        if not path.exists():
            problems.append(f"function {name} has no page under docs/functions/")
            continue
        problems += check_function(name, fn, path.read_text())
    for name, ident in schema.get("resource_identity_schemas", {}).items():
        problems += check_identity(ident, (docs_dir / "resources" / f"{name.removeprefix('offstate_')}.md").read_text(), f"resources/{name.removeprefix('offstate_')}.md")
    return problems


# ----------------------------------------------------------------------------------------------
# the pages' HCL examples

REPO = DOCS.parent
FENCE = re.compile(r"^( *)```(terraform|hcl)\s*$")
# Blocks that are not a Terraform configuration, with the reason.
NOT_CONFIGURATION = {
    "provider_installation": "CLI configuration (~/.terraformrc), not a module",
}
# Terraform 1.14+ syntax: these blocks are validated with the bundled 1.15.
NEEDS_NEW_TERRAFORM = re.compile(r'^(action|list) "|\baction_trigger\b|^\s*identity\s*=', re.M)
# A resource of another provider: kept as terraform_data with its lifecycle block only.
FOREIGN_RESOURCE = re.compile(r'^resource "((?:aws|random|tls)_[a-z0-9_]+)" "([a-z0-9_]+)" \{\n(.*?)^\}\n', re.S | re.M)
FOREIGN_REF = re.compile(r"(?<![.\w])(?:aws|random|tls)_[a-z0-9_]+\.([a-z0-9_]+)\.(?:arn|id)\b")


def doc_examples(repo: Path = REPO) -> list[tuple[str, int, str]]:
    """(page, first line of the code, code) of every ```terraform / ```hcl block in README.md and docs/."""
    out = []
    for f in [repo / "README.md", *sorted((repo / "docs").rglob("*.md"))]:
        lines = f.read_text().splitlines()
        i = 0
        while i < len(lines):
            m = FENCE.match(lines[i])
            if m:
                indent = len(m.group(1))
                j = i + 1
                while not lines[j].strip().startswith("```"):
                    j += 1
                code = "\n".join(line[indent:] for line in lines[i + 1 : j]) + "\n"
                out.append((str(f.relative_to(repo)), i + 2, code))
                i = j
            i += 1
    return out


IMPORT_BLOCK = re.compile(r"^import \{\n(.*?)^\}", re.S | re.M)
SECRET_ARN = re.compile(r"arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:([A-Za-z0-9/_+=.@-]+)-[A-Za-z0-9]{6}")


def secret_name(ref: str) -> str:
    """The secret an import id or identity ARN names (`NAME?value_wo_version=V` too)."""
    m = SECRET_ARN.fullmatch(ref.split("?", 1)[0])
    return m.group(1) if m else ref.split("?", 1)[0]


def import_targets(code: str) -> list[tuple[str, str]]:
    """(offstate_secret name, id or identity ARN) of each import block."""
    out = []
    for body in IMPORT_BLOCK.findall(code):
        to = re.search(r"^\s*to\s*=\s*offstate_secret\.([a-z0-9_]+)", body, re.M)
        ref = re.search(r'^\s*(?:id|identity)\s*=\s*(?:\{\s*arn\s*=\s*)?"([^"]+)"', body, re.M)
        if to and ref:
            out.append((to.group(1), ref.group(1)))
    return out


def secrets_read(code: str) -> set[str]:
    """The secrets a snippet expects to exist: what it imports, reads (`secret_id`) or looks up
    (`data "offstate_secret"`), by name."""
    names = {secret_name(ref) for _, ref in import_targets(code)}
    names |= {secret_name(v) for v in re.findall(r'^\s*secret_id\s*=\s*"([^"]+)"', code, re.M)}
    for body in re.findall(r'^data "offstate_secret" "[a-z0-9_]+" \{\n(.*?)^\}', code, re.S | re.M):
        names |= {secret_name(v) for v in re.findall(r'^\s*(?:name|arn)\s*=\s*"([^"]+)"', body, re.M)}
    return names


def complete_example(code: str) -> dict[str, str]:
    """{file name: text}: the snippet as a configuration `terraform validate` can check."""
    files = {}
    if re.search(r'^list "', code, re.M):
        files["example.tfquery.hcl"], code = code, ""

    def standin(m: re.Match) -> str:
        life = re.search(r"^  lifecycle \{\n.*?^  \}\n", m.group(3), re.S | re.M)
        return f'resource "terraform_data" "{m.group(2)}" {{\n{life.group(0) if life else ""}}}\n'

    code = FOREIGN_RESOURCE.sub(standin, code)
    code = FOREIGN_REF.sub(r'"arn:aws:lambda:eu-west-1:123456789012:function:\1"', code)
    everything = code + files.get("example.tfquery.hcl", "")
    extra = ""
    if not re.search(r"^terraform \{", code, re.M):
        extra += 'terraform {\n  required_providers {\n    offstate = { source = "offstate/offstate" }\n  }\n}\n'
    if not re.search(r'^provider "offstate"', code, re.M):
        extra += 'provider "offstate" {}\n'
    declared = set(re.findall(r'^variable "([a-z0-9_]+)"', code, re.M))
    for v in sorted(set(re.findall(r"\bvar\.([a-z0-9_]+)", everything)) - declared):
        extra += f'variable "{v}" {{\n  type      = string\n  sensitive = true\n  ephemeral = true\n}}\n'
    declared = set(re.findall(r'^resource "offstate_secret" "([a-z0-9_]+)"', code, re.M))
    imported = {to: secret_name(ref) for to, ref in import_targets(code)}
    for r in sorted(set(re.findall(r"(?<![.\w])offstate_secret\.([a-z0-9_]+)\b", everything)) - declared):
        name = imported.get(r) or f"prod/payments/{r}"
        extra += f'resource "offstate_secret" "{r}" {{\n  name = "{name}"\n}}\n'
    declared = set(re.findall(r'^action "offstate_secret_rotate" "([a-z0-9_]+)"', code, re.M))
    for a in sorted(set(re.findall(r"\baction\.offstate_secret_rotate\.([a-z0-9_]+)\b", everything)) - declared):
        extra += f'action "offstate_secret_rotate" "{a}" {{\n  config {{\n    secret_id = "prod/payments/{a}"\n  }}\n}}\n'
    files["main.tf"] = code
    files["completion.tf"] = extra
    return files


if __name__ == "__main__":
    data = json.loads(Path(sys.argv[1]).read_text())
    if "provider_schemas" in data:
        data = data["provider_schemas"]["registry.terraform.io/offstate/offstate"]
    found = check_docs(data, Path(sys.argv[2]) if len(sys.argv) > 2 else DOCS)
    print("\n".join(found) or "docs match the schema")
    sys.exit(1 if found else 0)
else:
    import base64

    import pytest

    from harness import canary as canaries
    from harness import hcl
    from harness.terraform import PROVIDER_ADDR

    pytestmark = [pytest.mark.e2e, pytest.mark.schema]

    @pytest.fixture
    def schema(ws):
        # The newest Terraform reports list resources, identities and actions too.
        ws.env["OFFSTATE_TERRAFORM"] = "bundled"
        ws.write(hcl.header() + "\n" + hcl.provider(ws.endpoint))
        data = ws.tf("providers", "schema", "-json").json()
        return data["provider_schemas"][PROVIDER_ADDR]

    def test_docs_match_the_schema(schema):
        problems = check_docs(schema)
        assert not problems, "docs/ and the provider schema differ:\n" + "\n".join(problems)

    def test_a_renamed_attribute_is_caught(schema, tmp_path):
        """The check can fail: a page with a documented attribute renamed is reported both ways."""
        for rel in PAGES:
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text((DOCS / rel).read_text())
        (tmp_path / "functions").mkdir()
        (tmp_path / "functions" / "ref.md").write_text((DOCS / "functions" / "ref.md").read_text())
        page = tmp_path / "resources" / "secret.md"
        page.write_text(page.read_text().replace("- `recovery_window_in_days` (Number", "- `recovery_days` (Number"))
        problems = check_docs(schema, tmp_path)
        assert any("`recovery_days` is documented but not in the schema" in p for p in problems), problems
        assert any("`recovery_window_in_days` is not documented" in p for p in problems), problems

    def test_an_attribute_in_the_wrong_section_is_caught(schema, tmp_path):
        """The check can fail: a computed attribute listed as an argument, and an argument listed
        only under Attribute Reference, are each reported."""
        for rel in PAGES:
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text((DOCS / rel).read_text())
        (tmp_path / "functions").mkdir()
        (tmp_path / "functions" / "ref.md").write_text((DOCS / "functions" / "ref.md").read_text())
        page = tmp_path / "resources" / "secret.md"
        text = page.read_text()
        moved = re.search(r"^- `description` \(String, Optional\).*?\n(?=- `)", text, re.S | re.M).group(0)
        text = text.replace(moved, "").replace("## Attribute Reference\n\n", "## Attribute Reference\n\n" + moved, 1)
        text = text.replace("## Argument Reference\n\n", "## Argument Reference\n\n- `version_id` (String) The current version.\n", 1)
        page.write_text(text)
        problems = check_docs(schema, tmp_path)
        assert any("`description` is an argument in the schema, listed only under Attribute Reference" in p for p in problems), problems
        assert any("`version_id` is computed only in the schema, listed as an argument" in p for p in problems), problems


    def _examples():
        return [
            pytest.param(page, line, code, id=f"{page}:{line}")
            for page, line, code in doc_examples()
            if not any(k in code for k in NOT_CONFIGURATION)
        ]

    def _validate(ws, code: str, page: str = "", line: int = 1) -> list[str]:
        """The diagnostics of `terraform validate` on the completed snippet, but dev_overrides';
        one in the snippet itself (main.tf) is placed at its line of the page."""
        if NEEDS_NEW_TERRAFORM.search(code):
            ws.env["OFFSTATE_TERRAFORM"] = "bundled"
        files = complete_example(code)
        for name, text in files.items():
            ws.write(text, name)
        args = ["validate", "-json"] + (["-query"] if "example.tfquery.hcl" in files else [])
        res = ws.tf(*args, expect=None)
        try:
            diags = json.loads(res.stdout)["diagnostics"]
        except (ValueError, KeyError):
            return [f"terraform validate exited {res.rc}: {res.stderr[-2000:]}"]
        out = []
        for d in diags:
            if d["summary"] == "Provider development overrides are in effect":
                continue
            where = d.get("range", {})
            at = f"{where.get('filename')}:{where.get('start', {}).get('line')}"
            if where.get("filename") == "main.tf" and page:
                at = f"{page}:{line + where['start']['line'] - 1}"
            out.append(f"{d['severity']}: {d['summary']} ({at}): {d.get('detail', '')}")
        if res.rc != 0 and not out:
            out.append(f"terraform validate exited {res.rc}: {res.stderr[-2000:]}")
        return out

    @pytest.mark.parametrize("page, line, code", _examples())
    def test_docs_example_validates(ws, page, line, code):
        problems = _validate(ws, code, page, line)
        assert not problems, "\n".join(problems) + f"\n(the completed configuration is in {ws.dir})"

    def test_docs_examples_are_found():
        """The extraction sees the pages' blocks: a page that loses its fence style loses its test."""
        found = doc_examples()
        pages = {page for page, _, _ in found}
        for rel in list(PAGES) + ["functions/ref.md", "../README.md"]:
            page = str((DOCS / rel).resolve().relative_to(REPO))
            assert page in pages, f"{page}: no ```terraform block found"
        for key in NOT_CONFIGURATION:
            assert any(key in code for _, _, code in found), f"NOT_CONFIGURATION: no block has {key!r} any more"

    def test_a_broken_docs_example_is_caught(ws):
        """The check can fail: an argument renamed in a page's example, and an example that only
        warns (value_wo_version without a value), are reported."""
        page, _, code = next(e for e in doc_examples() if e[0] == "docs/resources/secret.md" and "recovery_window_in_days = 7" in e[2])
        problems = _validate(ws, code.replace("recovery_window_in_days = 7", "recovery_days = 7"))
        assert any("Unsupported argument" in p and "recovery_days" in p for p in problems), problems
        problems = _validate(ws, 'resource "offstate_secret" "a" {\n  name             = "a"\n  value_wo_version = "1"\n}\n')
        assert any(p.startswith("warning: value_wo_version without value_wo") for p in problems), problems

    @pytest.mark.parametrize("page, line, code", _examples())
    def test_docs_example_plans(ws, sm, page, line, code):
        """`terraform plan` against the local endpoint, with the secrets the snippet reads or
        imports made first (their values canaries, swept from every artifact): the checks that
        need known values (name, replica region, value_wo_version, json_key ...) run too. The
        snippet's `prod/payments/` names are moved under this test's prefix."""
        code = code.replace("prod/payments/", f"{ws.prefix}/")
        arns = {}
        for name in sorted(secrets_read(code)):
            value = ws.canary(name.rsplit("/", 1)[-1])
            doc = json.dumps({"username": "app", "password": value.reveal()})
            ws.watch(canaries.Canary(doc))
            arns[name] = sm.create_secret(Name=name, SecretString=doc)["ARN"]
        code = SECRET_ARN.sub(lambda m: arns.get(m.group(1), m.group(0)), code)
        if NEEDS_NEW_TERRAFORM.search(code):
            ws.env["OFFSTATE_TERRAFORM"] = "bundled"
        ws.env["AWS_ENDPOINT_URL"] = ws.endpoint  # Secrets Manager and STS (allowed_account_ids)
        files = complete_example(code)
        for name, text in files.items():
            ws.write(text, name)
        for v in re.findall(r'^variable "([a-z0-9_]+)" \{', "".join(files.values()), re.M):
            if not re.search(rf'^variable "{v}" \{{[^}}]*^\s*default\s*=', "".join(files.values()), re.M):
                c = ws.canary(v)
                ws.set_var(v, base64.b64encode(c.reveal().encode()).decode() if v.endswith("_b64") else c)
        ws.plan()
