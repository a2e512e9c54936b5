"""Canaries: random secret values planted by a test, and the search for them in every artifact.

A finding names the artifact and the byte offset, never the canary: the report of a leak must not
be a leak itself. `redact()` is what the pytest hooks in conftest.py run over every failure report
and every captured output, so even a careless `assert x in out` cannot print a canary.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import secrets
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

MASK = "[CANARY]"

# Every canary made in this process, so that the report hooks can redact them all.
_REGISTRY: list["Canary"] = []
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Needle:
    form: str  # how the secret was encoded: "plain", "json", "base64@1", ...; never the secret
    data: bytes


class Canary:
    """One secret value. `str(canary)` and `repr(canary)` are masked; `.reveal()` is the way out."""

    def __init__(self, value: str):
        self._value = value
        self.needles = _needles(value)
        with _LOCK:
            _REGISTRY.append(self)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return MASK

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return MASK


def make_canary(label: str = "canary") -> Canary:
    """A random value of 48+ characters; the hex part alone is 128 bits."""
    return Canary(f"offstate-{label}-{secrets.token_hex(16)}")


def wrap(value: str) -> Canary:
    """Register a value built from canaries (a JSON document, say) so it is searched for too."""
    return Canary(value)


def all_canaries() -> list[Canary]:
    with _LOCK:
        return list(_REGISTRY)


# ----------------------------------------------------------------------------------------------
# encodings


def _json_escaped(s: str) -> list[str]:
    """The body of a JSON string literal, as Python and as Go (which also escapes <, >, &) write it."""
    py = json.dumps(s)[1:-1]
    py_ascii = json.dumps(s, ensure_ascii=True)[1:-1]
    go = py_ascii.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return list(dict.fromkeys([py, json.dumps(s, ensure_ascii=False)[1:-1], go]))


def _base64_needles(data: bytes) -> list[tuple[str, bytes]]:
    """base64 of `data` at each of the three byte alignments it can have inside a larger blob.

    For alignment k, encode k padding bytes + data and keep only the characters whose six bits all
    come from `data`: those appear verbatim in the base64 of any blob holding `data` at an offset
    congruent to k mod 3.
    """
    out: list[tuple[str, bytes]] = []
    n = len(data)
    for k in range(3):
        enc = base64.b64encode(bytes(k) + data)
        start = -(-k * 8 // 6)  # ceil: characters touched by the padding bytes
        end = (k + n) * 8 // 6  # floor: last character that is complete within data
        core = enc[start:end]
        if len(core) < 16:
            continue
        out.append((f"base64@{k}", core))
        url = core.translate(bytes.maketrans(b"+/", b"-_"))
        if url != core:
            out.append((f"base64url@{k}", url))
    return out


def _needles(value: str) -> list[Needle]:
    raw = value.encode()
    found: dict[bytes, str] = {raw: "plain"}
    for i, esc in enumerate(_json_escaped(value)):
        found.setdefault(esc.encode(), f"json{i}")
    # base64 of the plain value and of its JSON-escaped forms
    for src_form, src in [("plain", raw)] + [(f"json{i}", e.encode()) for i, e in enumerate(_json_escaped(value))]:
        for form, b in _base64_needles(src):
            found.setdefault(b, f"{form}({src_form})")
    # raw bytes as a Rust `{:?}` of a byte slice, a serde_json byte array, or hex
    found.setdefault(", ".join(str(b) for b in raw).encode(), "decimal-bytes")
    found.setdefault(",".join(str(b) for b in raw).encode(), "decimal-bytes-compact")
    found.setdefault(raw.hex().encode(), "hex")
    found.setdefault(raw.hex().upper().encode(), "HEX")
    # a digest of the value is a leak too: "never the value, never a hash of it"
    for algo in ("sha256", "sha1", "md5", "sha512"):
        d = hashlib.new(algo, raw).digest()
        found.setdefault(d.hex().encode(), f"{algo}-hex")
        found.setdefault(d.hex().upper().encode(), f"{algo}-HEX")
        found.setdefault(base64.b64encode(d).rstrip(b"="), f"{algo}-base64")
    return [Needle(form, data) for data, form in found.items()]


# ----------------------------------------------------------------------------------------------
# search


@dataclass(frozen=True)
class Finding:
    artifact: str  # a path, or "path!member" inside a zip
    offset: int
    form: str

    def __str__(self) -> str:
        return f"{self.artifact} at byte offset {self.offset} ({self.form})"


def search_bytes(name: str, data: bytes, canaries: list[Canary], depth: int = 0) -> list[Finding]:
    out: list[Finding] = []
    for c in canaries:
        for n in c.needles:
            i = data.find(n.data)
            while i != -1:
                out.append(Finding(name, i, n.form))
                i = data.find(n.data, i + 1)
    # A saved plan is a zip; its members are stored deflated, so look inside (recursively).
    if depth < 3 and data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for info in z.infolist():
                    if info.is_dir():
                        continue
                    out.extend(search_bytes(f"{name}!{info.filename}", z.read(info), canaries, depth + 1))
        except (zipfile.BadZipFile, OSError, RuntimeError) as e:
            out.append(Finding(name, 0, f"unreadable zip ({type(e).__name__}): cannot prove it clean"))
    return out


def search_paths(roots: list[Path], canaries: list[Canary]) -> tuple[list[Finding], list[Path]]:
    """Search every regular file under `roots`. Returns (findings, files searched)."""
    findings: list[Finding] = []
    searched: list[Path] = []
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
        for p in paths:
            try:
                data = p.read_bytes()
            except OSError:
                continue
            searched.append(p)
            findings.extend(search_bytes(str(p), data, canaries))
    return findings, searched


_HEX_RUN = re.compile(r"[0-9a-f]{8,}")


def redact(text: str, canaries: list[Canary] | None = None) -> str:
    """Replace every encoding of every known canary with a mask.

    Also masks any run of 8+ hex digits taken from a canary's random part: pytest shortens long
    strings in assertion messages ('offstate-can...640a12f1971c8'), which would show a piece.
    """
    if not text:
        return text
    cs = canaries if canaries is not None else all_canaries()
    for c in cs:
        for n in c.needles:
            try:
                s = n.data.decode()
            except UnicodeDecodeError:
                continue
            if s in text:
                text = text.replace(s, f"{MASK}<{n.form}>")
        # as pytest shows a string holding it: repr, with `\\` doubled and a quote maybe escaped
        # (a value with a backslash and a quote is in none of the forms above)
        r = repr(c.reveal())[1:-1]
        for s in dict.fromkeys([r, r.replace("\\'", "'"), r.replace("'", "\\'").replace("\\\\'", "\\'")]):
            if s and s in text:
                text = text.replace(s, f"{MASK}<repr>")
    tails = [m.group(0) for c in cs for m in _HEX_RUN.finditer(c.reveal())]
    if tails:
        text = _HEX_RUN.sub(lambda m: MASK if any(m.group(0) in t for t in tails) else m.group(0), text)
    return text
