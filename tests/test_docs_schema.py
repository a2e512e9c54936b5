"""docs/ against the real provider schema (`terraform providers schema -json`).

Every argument and attribute a page under docs/ lists exists in the schema with the same type,
Optional/Required, Sensitive and Write-only flags; every schema attribute (and nested block) is
listed; a default stated in the schema's description is the one the page states; the function's
parameters match. The parser reads the bullet form the pages use:

    - `name` (String, Optional, Sensitive, Write-only) Text...
      - `nested` (Number) Text...
    - `min_lower`, `min_upper` (Number) Text...   several names sharing one type

`check_docs(schema, docs_dir)` returns a list of problems, so `python tests/test_docs_schema.py
SCHEMA.json` runs it outside pytest too.
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
    for path in have:
        if path not in docs:
            problems.append(f"docs/{rel}: schema attribute `{path}` is not documented")
    return problems


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


if __name__ == "__main__":
    data = json.loads(Path(sys.argv[1]).read_text())
    if "provider_schemas" in data:
        data = data["provider_schemas"]["registry.terraform.io/offstate/offstate"]
    found = check_docs(data, Path(sys.argv[2]) if len(sys.argv) > 2 else DOCS)
    print("\n".join(found) or "docs match the schema")
    sys.exit(1 if found else 0)
else:
    import pytest

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
