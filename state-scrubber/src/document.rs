//! Reads one artifact (state v4/v3, `terraform show -json` of a state or plan, backend cache,
//! OpenTofu-encrypted state) in one pass and turns its values into findings.
//!
//! The top level is streamed; each unit (one resource, one resource change, the outputs, the
//! configuration) is parsed into a small tree, analysed and dropped.

use std::borrow::Cow;

use crate::detect::{attribute_path, pointer, Ctx, Detection, Engine, Mark, Step};
use crate::finding::{
    mask_address, mask_module_keys, masked_key, module_keys, number_masked_keys, preview, Address,
    Finding, KeyPlace, MaskedKey, ValueType,
};
use crate::json::{pointer_of, Dom, Kind as JKind, NodeId, Parser, SyntaxError};
use crate::table::{Row, Table, Treat, GENERIC_FIX, ROOT_OUTPUT};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Mutex;

/// Findings in file order (stable: several findings on one value keep their order), their
/// columns counted in characters.
fn sort_findings(mut s: Scanned, src: &[u8]) -> Scanned {
    s.findings.sort_by_key(|f| (f.line, f.column));
    char_columns(src, &mut s.findings);
    s
}

/// UTF-16 text: JSON's first characters (ASCII) with a NUL byte after (little endian) or before
/// (big endian) each of them, after the byte order mark if there is one (FF FE alone, followed by
/// UTF-8, is just binary data).
fn looks_utf16(src: &[u8]) -> bool {
    let ascii = |b: u8| (0x20..0x7F).contains(&b) || b"\t\r\n".contains(&b);
    let head = |s: &[u8]| -> Vec<[u8; 2]> {
        s[..s.len().min(64)]
            .chunks_exact(2)
            .map(|c| [c[0], c[1]])
            .collect()
    };
    let le = |s: &[u8]| {
        let h = head(s);
        h.len() >= 2 && h.iter().all(|c| ascii(c[0]) && c[1] == 0)
    };
    let be = |s: &[u8]| {
        let h = head(s);
        h.len() >= 2 && h.iter().all(|c| c[0] == 0 && ascii(c[1]))
    };
    match src {
        [0xFF, 0xFE, rest @ ..] => le(rest),
        [0xFE, 0xFF, rest @ ..] => be(rest),
        _ => le(src) || be(src),
    }
}

/// The parser counts columns in bytes; a finding's column is in characters (Unicode code
/// points), the unit SARIF's `columnKind: unicodeCodePoints` declares (SARIF 2.1.0 §3.14.27
/// allows only that or UTF-16 code units) and the one editors show for most text. One pass over
/// the lines that hold findings; `findings` must be sorted by (line, byte column).
fn char_columns(src: &[u8], findings: &mut [Finding]) {
    if findings.is_empty() || src.is_ascii() {
        return;
    }
    let mut newlines = memchr::memchr_iter(b'\n', src);
    let mut line = 1u32;
    let mut line_start = 0usize;
    // Within a line: the byte offset counted up to, and the characters before it.
    let mut counted = (0usize, 0u32);
    for f in findings.iter_mut() {
        while line < f.line {
            match newlines.next() {
                Some(i) => {
                    line += 1;
                    line_start = i + 1;
                    counted = (line_start, 0);
                }
                None => return,
            }
        }
        if counted.0 < line_start {
            counted = (line_start, 0);
        }
        let end = (line_start + f.column.saturating_sub(1) as usize).min(src.len());
        if end >= counted.0 {
            let chars = src[counted.0..end]
                .iter()
                .filter(|&&b| b & 0xC0 != 0x80)
                .count() as u32;
            counted = (end, counted.1 + chars);
        }
        f.column = counted.1 + 1;
    }
}

pub const OUTPUT_FIX: &str = "stop exporting the secret from the root module (outputs are stored in state in plaintext even when sensitive); pass it on with `ephemeral = true` outputs or read it where needed with `ephemeral \"offstate_secret_value\"`";
pub const MODULE_OUTPUT_FIX: &str = "a v3 state (Terraform <= 0.11) stores every module's outputs; Terraform >= 0.12 drops child module outputs when it next writes the state: upgrade, delete old copies (backups, bucket versions) and rotate the secret";
pub const PRIVATE_FIX: &str = "the provider keeps the value in the instance's private data (`private`, base64): report it to the provider's maintainers, rotate the secret, and delete old copies of the state";
pub const CHECK_FIX: &str = "a failed condition's message is stored in state and plans: do not interpolate the secret into `error_message`, and rotate it";
pub const VARIABLE_FIX: &str = "declare the variable `ephemeral = true` (Terraform >= 1.10) so plans do not store it, and feed it only to write-only arguments";

/// What a file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    StateV4,
    StateV3,
    ShowState,
    Plan,
    BackendConfig,
    Encrypted,
    /// `terraform output -json` (see [`is_output_document`]).
    Outputs,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::StateV4 => "state_v4",
            DocKind::StateV3 => "state_v3",
            DocKind::ShowState => "show_json_state",
            DocKind::Plan => "show_json_plan",
            DocKind::BackendConfig => "backend_config",
            DocKind::Encrypted => "opentofu_encrypted_state",
            DocKind::Outputs => "terraform_output_json",
        }
    }
}

/// Why a file could not be read as an artifact. Messages never include input bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocError {
    #[error("{file}:{}:{}: invalid JSON at {}: {}", .err.line, .err.column, ptr(&.err.pointer), .err.message)]
    Syntax { file: String, err: SyntaxError },
    #[error("{file}: empty file")]
    Empty { file: String },
    #[error("{file}: binary data, not JSON (byte offset {offset})")]
    Binary { file: String, offset: usize },
    #[error("{file}: a binary plan file (zip), not read (it holds the plan's values, sensitive ones included, in plaintext); convert it with `terraform show -json PLANFILE > plan.json` and audit that, and do not keep saved plans")]
    BinaryPlan { file: String },
    /// Windows PowerShell 5.1's `>` and `Out-File` write UTF-16; Terraform writes UTF-8.
    #[error("{file}: UTF-16 text, not UTF-8 (Windows PowerShell's `>` writes UTF-16); convert it with `iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8`, or write it as UTF-8 in the first place: `terraform show -json PLANFILE | Out-File -Encoding utf8 plan.json`")]
    Utf16 { file: String },
    #[error("{file}:{line}:{column}: not a JSON object (a state or plan is a JSON object)")]
    NotObject {
        file: String,
        line: u32,
        column: u32,
    },
    #[error("{file}: invalid UTF-8 in a string at {line}:{column}")]
    Utf8 {
        file: String,
        line: u32,
        column: u32,
    },
    #[error(
        "{file}:{line}:{column}: unsupported state format version {version} (supported: 1 to 4)"
    )]
    StateVersion {
        file: String,
        line: u32,
        column: u32,
        version: String,
    },
    #[error(
        "{file}:{line}:{column}: unsupported format_version {version} (supported: 0.x and 1.x)"
    )]
    FormatVersion {
        file: String,
        line: u32,
        column: u32,
        version: String,
    },
    #[error("{file}: not a Terraform state, plan, backend cache or `terraform output -json` (no `version` or `format_version` member, and not `{{NAME: {{sensitive, type, value}}}}`)")]
    Unrecognized { file: String },
    /// Terraform's JSON, but one of its outputs that holds no state or plan (see
    /// [`OtherDocument`]): read as a state it would pass as clean whatever it holds.
    #[error("{file}: {}, not a state or plan: not scanned; audit the state (`terraform.tfstate`, or `terraform show -json > state.json`) or the plan (`terraform show -json PLANFILE > plan.json`, or PLANFILE itself) instead", .what.as_str())]
    NotStateOrPlan { file: String, what: OtherDocument },
    /// Keys that occur more than once, read every way (see [`Scanner::readings`]), needed
    /// more readings of one unit than the bound: what is left unread could hide a secret.
    #[error("{file}: at {pointer}: keys occur more than once in too many places to read every occurrence (over {MAX_READINGS} readings of one resource); Terraform never writes a key twice: remove the extra members, then run again")]
    Ambiguous { file: String, pointer: String },
    /// A member Terraform writes with one shape has another: nothing under it could be scanned,
    /// and reporting the file clean would be wrong.
    #[error("{file}:{line}:{column}: unexpected structure at {pointer}: {expected}")]
    Shape {
        file: String,
        line: u32,
        column: u32,
        pointer: String,
        expected: &'static str,
    },
}

/// Terraform's JSON outputs that are neither a state nor a plan, told apart by their top-level
/// members (Terraform 1.11's `internal/command/jsonprovider`, `jsonfunction`, `views/validate.go`
/// and `command/version.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherDocument {
    /// `terraform providers schema -json`: `format_version`, `provider_schemas`.
    ProvidersSchema,
    /// `terraform metadata functions -json`: `format_version`, `function_signatures`.
    Functions,
    /// `terraform validate -json`: `format_version`, `valid`, `error_count`, `warning_count`,
    /// `diagnostics`.
    Validate,
    /// `terraform version -json`: `terraform_version`, `platform`, `provider_selections`,
    /// `terraform_outdated` (no `format_version`).
    Version,
    /// Any other `format_version` document with members but none a state or plan has.
    Other,
}

impl OtherDocument {
    pub fn as_str(self) -> &'static str {
        match self {
            OtherDocument::ProvidersSchema => {
                "the output of `terraform providers schema -json` (provider schemas)"
            }
            OtherDocument::Functions => {
                "the output of `terraform metadata functions -json` (function signatures)"
            }
            OtherDocument::Validate => "the output of `terraform validate -json` (diagnostics)",
            OtherDocument::Version => "the output of `terraform version -json`",
            OtherDocument::Other => {
                "a Terraform JSON document (`format_version`) with none of a state's or plan's members (`values`, `planned_values`, `resource_changes`, ...)"
            }
        }
    }

    /// What a document is by its top-level keys that no state or plan reading took up
    /// (`skipped`), if it is one of these: with `format_version`, anything but
    /// `terraform_version` there (`{"format_version": "1.0"}` alone is what `terraform show
    /// -json` prints for an empty or absent state, and holds nothing); without it, only
    /// `terraform version -json`'s members.
    fn of(format_version: bool, skipped: &[String]) -> Option<OtherDocument> {
        let has = |k: &str| skipped.iter().any(|s| s == k);
        if !format_version {
            return (has("platform") && (has("terraform_outdated") || has("provider_selections")))
                .then_some(OtherDocument::Version);
        }
        if has("provider_schemas") {
            Some(OtherDocument::ProvidersSchema)
        } else if has("function_signatures") {
            Some(OtherDocument::Functions)
        } else if has("valid") && (has("diagnostics") || has("error_count")) {
            Some(OtherDocument::Validate)
        } else if skipped.iter().any(|k| k != "terraform_version") {
            Some(OtherDocument::Other)
        } else {
            None
        }
    }
}

/// Is `src` what `terraform output -json` prints (`views/output.go`): an object whose every
/// member is `{"sensitive": BOOL, "type": TYPE, "value": ANY}`, those three keys and no other,
/// TYPE in Terraform's JSON type encoding (see [`is_type_encoding`]); `{}` when there are no
/// outputs. Told apart strictly: a state's or plan's first member (`version`, `format_version`)
/// is no such object, so the check stops there. JSON that does not parse is not one (the
/// normal reading reports its error).
pub fn is_output_document(src: &[u8]) -> bool {
    let mut p = Parser::new(src);
    let mut dom = Dom::default();
    let mut check = || -> Result<bool, SyntaxError> {
        p.begin_object()?;
        let mut first = true;
        while p.next_key(first)?.is_some() {
            first = false;
            if p.peek_kind()? != b'{' {
                return Ok(false);
            }
            p.begin_object()?;
            let mut seen = [false; 3];
            let mut first_member = true;
            while let Some((ks, ke, esc)) = p.next_key(first_member)? {
                first_member = false;
                let key = crate::json::str_of(&src[ks..ke], esc).unwrap_or(Cow::Borrowed(""));
                match key.as_ref() {
                    "sensitive" => {
                        dom.clear();
                        let id = p.parse_into(&mut dom)?;
                        if !matches!(dom.node(id).kind, JKind::Bool(_)) {
                            return Ok(false);
                        }
                        seen[0] = true;
                    }
                    "type" => {
                        dom.clear();
                        let id = p.parse_into(&mut dom)?;
                        if !is_type_encoding(src, &dom, id) {
                            return Ok(false);
                        }
                        seen[1] = true;
                    }
                    "value" => {
                        p.skip_value()?;
                        seen[2] = true;
                    }
                    _ => return Ok(false),
                }
            }
            if seen != [true; 3] {
                return Ok(false);
            }
        }
        p.finish()?;
        Ok(true)
    };
    check().unwrap_or(false)
}

/// cty's JSON encoding of a type, as Terraform writes it: `"string"`, `"number"`, `"bool"`,
/// `"dynamic"`, `["list"|"set"|"map", T]`, `["tuple", [T, ...]]`, `["object", {NAME: T, ...}]`
/// with optionally a third element, the optional attributes' names.
fn is_type_encoding(src: &[u8], dom: &Dom, id: NodeId) -> bool {
    match dom.node(id).kind {
        JKind::Str { .. } => dom
            .str(src, id)
            .is_some_and(|t| matches!(t.as_ref(), "string" | "number" | "bool" | "dynamic")),
        JKind::Array => {
            let e: Vec<NodeId> = dom.elements(id).collect();
            let Some(head) = e.first().and_then(|&h| dom.str(src, h)) else {
                return false;
            };
            match (head.as_ref(), &e[1..]) {
                ("list" | "set" | "map", [t]) => is_type_encoding(src, dom, *t),
                ("tuple", [ts]) => {
                    dom.node(*ts).kind == JKind::Array
                        && dom.elements(*ts).all(|t| is_type_encoding(src, dom, t))
                }
                ("object", [attrs, optional @ ..]) if optional.len() <= 1 => {
                    dom.node(*attrs).kind == JKind::Object
                        && dom
                            .members(*attrs)
                            .all(|(_, t)| is_type_encoding(src, dom, t))
                        && optional.iter().all(|&o| {
                            dom.node(o).kind == JKind::Array
                                && dom
                                    .elements(o)
                                    .all(|n| matches!(dom.node(n).kind, JKind::Str { .. }))
                        })
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// Does the top-level object have a member only Terraform's JSON has (`lineage`, `serial`,
/// `terraform_version`, `resources`, `modules`, `format_version`, `backend`)? Asked of a walked
/// file whose `version` is not a state version: `{"version": "2.1", ...}` in an `explanation.json`
/// is somebody else's JSON, while a state from a newer Terraform is still an error. A file that
/// does not parse counts as Terraform's (its error stands).
pub fn has_terraform_markers(src: &[u8]) -> bool {
    const MARKERS: &[&str] = &[
        "lineage",
        "serial",
        "terraform_version",
        "resources",
        "modules",
        "format_version",
        "backend",
    ];
    let mut p = Parser::new(src);
    if p.begin_object().is_err() {
        return true;
    }
    let mut first = true;
    loop {
        match p.next_key(first) {
            Ok(Some((ks, ke, esc))) => {
                first = false;
                let key = crate::json::str_of(&src[ks..ke], esc).unwrap_or(Cow::Borrowed(""));
                if MARKERS.contains(&key.as_ref()) {
                    return true;
                }
                if p.skip_value().is_err() {
                    return true;
                }
            }
            Ok(None) => return false,
            Err(_) => return true,
        }
    }
}

/// `1`, `0.12`, `1.2.3`: up to three dot-separated numbers of up to three digits. Only such a
/// version is quoted back in an error; anything else in a version field may be any input bytes.
fn is_version_number(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() <= 3
        && parts
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A version as an error message may show it.
fn shown_version(v: &str) -> String {
    if is_version_number(v) {
        v.to_string()
    } else {
        "(not a version number)".to_string()
    }
}

fn ptr(p: &str) -> Cow<'_, str> {
    if p.is_empty() {
        Cow::Borrowed("the document root")
    } else {
        Cow::Owned(format!("`{p}`"))
    }
}

/// The result of scanning one artifact.
#[derive(Debug)]
pub struct Scanned {
    pub kind: DocKind,
    pub findings: Vec<Finding>,
    pub bytes: usize,
    /// What was not fully checked, and why (no value in it).
    pub notes: Vec<String>,
}

/// The note for `n` values whose JSON-in-string decoding stopped at the depth budget.
fn too_deep_note(n: usize) -> Option<String> {
    (n > 0).then(|| {
        format!(
            "{n} value(s) hold JSON nested too deeply in strings (over 4 levels, or 512 deep in all): decoding stopped there and the rest was checked as text only"
        )
    })
}

/// How many readings of one unit [`Scanner::readings`] makes at most: one per occurrence of a
/// key that occurs more than once (the most occurrences of any), times as much again for such
/// keys inside an occurrence not read yet. Real files have none: Terraform never writes them.
pub const MAX_READINGS: usize = 16;

/// The notes for what readers may read differently (see [`json::Ambiguities`]), naming JSON
/// paths only.
fn ambiguity_notes(a: &crate::json::Ambiguities) -> Vec<String> {
    let more = |kept: usize, all: usize| {
        if all > kept {
            format!(", and {} more", all - kept)
        } else {
            String::new()
        }
    };
    let mut notes = Vec::new();
    if a.duplicate_key_count > 0 {
        let places: Vec<String> = a
            .duplicate_keys
            .iter()
            .map(|(p, n)| format!("{} ({n} times)", ptr(p)))
            .collect();
        notes.push(format!(
            "a key occurs more than once in its object at {}{}: Terraform (Go's encoding/json) reads only the last occurrence, other readers the first; every occurrence was scanned. Terraform never writes a key twice: the file was edited by hand or by another tool",
            places.join(", "),
            more(a.duplicate_keys.len(), a.duplicate_key_count)
        ));
    }
    if a.lone_surrogate_count > 0 {
        let places: Vec<String> = a
            .lone_surrogates
            .iter()
            .map(|p| ptr(p).into_owned())
            .collect();
        notes.push(format!(
            "a string holds a lone UTF-16 surrogate escape (one of \\ud800-\\udfff without its pair) at {}{}: it is no character, and was read as U+FFFD, as Terraform reads it. Terraform never writes one: the file was edited by hand or by another tool",
            places.join(", "),
            more(a.lone_surrogates.len(), a.lone_surrogate_count)
        ));
    }
    notes
}

/// Keys of an object that is streamed rather than parsed into a tree (the top level, `values`,
/// modules), counted to report one that occurs more than once. Every occurrence is read.
#[derive(Default)]
struct StreamKeys(std::collections::HashMap<String, usize>);

impl StreamKeys {
    fn add(&mut self, key: &str) {
        *self.0.entry(key.to_string()).or_default() += 1;
    }
    /// At the end of the object (the parser's path is the object's).
    fn report(self, p: &mut Parser<'_>) {
        let mut twice: Vec<(String, usize)> = self.0.into_iter().filter(|(_, n)| *n > 1).collect();
        twice.sort();
        for (key, n) in twice {
            let mut at = pointer_of(p.src(), &p.path);
            at.push('/');
            crate::json::push_pointer_token(&mut at, &key);
            p.ambiguities.duplicate_key(|| at, n);
        }
    }
}

/// Where a member has the wrong shape (see [`DocError::Shape`]). The pointer is made of the
/// fixed member names and indices above the unit, never of a value.
#[derive(Debug, Clone)]
struct Shape {
    pointer: String,
    line: u32,
    column: u32,
    expected: &'static str,
}

impl Shape {
    fn error(self, file: &str) -> DocError {
        DocError::Shape {
            file: file.to_string(),
            line: self.line,
            column: self.column,
            pointer: self.pointer,
            expected: self.expected,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Pos {
    line: u32,
    column: u32,
}

impl Pos {
    /// Where `node` starts in the file.
    fn of(node: &crate::json::Node) -> Pos {
        Pos {
            line: node.line,
            column: node.column,
        }
    }
}

/// A string address key (index, deposed or module instance key) that no content rule picked.
/// After the scan it is masked and reported if it equals a value found secret anywhere in the
/// file (a `random_password` result used as a `for_each` key has no token shape; only the value
/// found elsewhere says it is a secret). The key itself is kept only as its salted digest.
struct KeySite {
    digest: String,
    preview: String,
    member: &'static str,
    section: String,
    address: Address,
    unit: String,
    pos: Pos,
}

/// Shorter keys are only masked, not reported on their own (`eu`, `blue`, `prod` would match a
/// short value found secret by chance); see `SameValue::MIN_LEN`.
const KEY_SITE_MIN_LEN: usize = 8;

/// Mask every address key equal to a value found secret in this file, in every finding, and
/// report each such key (at its own node) that no content rule reported already.
///
/// Keys are compared by the per-run salted digest (`value_group`), never by the value. The
/// lookup is a hash map keyed by that digest: it is a MAC under a random salt that is never
/// written, so how long a lookup takes says nothing about a value.
fn mask_secret_keys(
    engine: &Engine,
    fp_key: &[u8],
    file: &str,
    document: &str,
    findings: &mut Vec<Finding>,
    sites: Vec<KeySite>,
) {
    use std::collections::HashMap;
    if findings.is_empty() {
        return;
    }
    // The strongest finding of each secret value.
    let mut secrets: HashMap<String, usize> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        let e = secrets.entry(f.value_group.clone()).or_insert(i);
        let cur = &findings[*e];
        if (f.severity, f.confidence) > (cur.severity, cur.confidence) {
            *e = i;
        }
    }
    let is_secret = |k: &str| {
        let d = engine.value_digest(k);
        secrets.contains_key(&d).then_some(d)
    };
    for f in findings.iter_mut() {
        if mask_address(&mut f.resource, is_secret) {
            f.address = f.resource.display();
            f.set_fingerprints(fp_key);
        }
    }
    let mut extra = Vec::new();
    // Each key's finding and the finding of the secret it equals: the reason names the latter's
    // address once masked keys are numbered.
    let mut sources = Vec::new();
    for mut site in sites {
        let Some(&src_index) = secrets.get(&site.digest) else {
            continue;
        };
        sources.push((findings.len() + extra.len(), src_index));
        let src = &findings[src_index];
        mask_address(&mut site.address, is_secret);
        let address = site.address.display();
        let steps = [Step::Key(Cow::Borrowed(site.member))];
        let mut f = Finding {
            file: file.to_string(),
            archive: None,
            member: None,
            document: document.to_string(),
            section: site.section,
            address,
            resource: site.address,
            attribute_path: attribute_path(&steps),
            json_pointer: format!("{}{}", site.unit, pointer(&steps)),
            inner_pointer: None,
            inner_identity: None,
            decoded: vec![],
            kind: src.kind,
            value_type: ValueType::String,
            rule_id: SAME_VALUE_RULE.to_string(),
            rule_name: "an address key equal to a secret in this file".to_string(),
            layer: src.layer,
            layer_name: src.layer_name,
            // The first reason is written below.
            reasons: vec![
                String::new(),
                "the value is an instance or module key, part of the address".to_string(),
            ],
            severity: src.severity,
            confidence: src.confidence,
            fix: crate::detect::ADDRESS_KEY_FIX.to_string(),
            line: site.pos.line,
            column: site.pos.column,
            fingerprint: String::new(),
            legacy_fingerprint: String::new(),
            value_group: site.digest,
            preview: site.preview,
        };
        f.set_fingerprints(fp_key);
        extra.push(f);
    }
    findings.extend(extra);
    number_masked_keys(findings, fp_key);
    for (at, src) in sources {
        let src = &findings[src];
        let reason = format!(
            "layer {}: the same value as `{}` of {} in this file (equal salted digests), which is a secret: {}",
            src.layer,
            src.attribute_path,
            src.address,
            src.reasons.join("; ")
        );
        findings[at].reasons[0] = reason;
    }
}

/// A string in an output or a variable (named by the user, so the name says nothing) in which no
/// layer found anything. After the scan it is reported if it equals a value found secret
/// elsewhere in the file: `output "tok" { value = var.api_token }` copies a token that a key name
/// or a mark recognised elsewhere. Kept as its salted digest only.
struct ValueSite {
    digest: String,
    preview: String,
    at: SiteAt,
}

/// Where a [`ValueSite`] or a [`TextSite`] is, and the fix its finding gives.
struct SiteAt {
    section: String,
    address: Address,
    json_pointer: String,
    attribute_path: String,
    fix: &'static str,
    pos: Pos,
}

/// The address of an output or a variable `name` declared by `decl` in `module` (`mode` says
/// which), and its marks: all of it when `decl` says `sensitive = true`, none otherwise.
fn declared(
    src: &[u8],
    dom: &Dom,
    decl: NodeId,
    module: &str,
    mode: &str,
    name: &str,
) -> (Address, Marks) {
    let sensitive = dom
        .get(src, decl, "sensitive")
        .is_some_and(|n| dom.node(n).kind == JKind::Bool(true));
    let address = Address {
        module: module.to_string(),
        mode: mode.into(),
        name: name.to_string(),
        ..Default::default()
    };
    let marks = if sensitive {
        Marks::all()
    } else {
        Marks::default()
    };
    (address, marks)
}

/// Keep in `secrets` (by salted digest) the strongest finding of each secret value: `i` when it
/// is the first of its value or outranks the one kept (by severity, then confidence).
fn keep_strongest<'f>(
    secrets: &mut std::collections::HashMap<&'f str, usize>,
    findings: &'f [Finding],
    i: usize,
) {
    let f = &findings[i];
    let e = secrets.entry(f.value_group.as_str()).or_insert(i);
    let cur = &findings[*e];
    if (f.severity, f.confidence) > (cur.severity, cur.confidence) {
        *e = i;
    }
}

/// The `same-value` finding at `at` for the secret `src` found elsewhere in the file: `src`'s
/// kind, layer, severity and confidence; a first reason saying that the value at `at` is (or
/// `holds`) the same value as `src`'s, followed by `src`'s reasons.
#[allow(clippy::too_many_arguments)]
fn same_value_finding(
    fp_key: &[u8],
    file: &str,
    document: &str,
    src: &Finding,
    holds: bool,
    rule_name: &str,
    at: SiteAt,
    value_group: String,
    preview: String,
) -> Finding {
    let mut reasons = vec![format!(
        "layer {}: {}the same value as `{}` of {} in this file (equal salted digests), which is a secret:",
        src.layer,
        if holds { "holds " } else { "" },
        src.attribute_path,
        src.address
    )];
    reasons.extend(src.reasons.iter().cloned());
    let mut f = Finding {
        file: file.to_string(),
        archive: None,
        member: None,
        document: document.to_string(),
        section: at.section,
        address: at.address.display(),
        resource: at.address,
        attribute_path: at.attribute_path,
        json_pointer: at.json_pointer,
        inner_pointer: None,
        inner_identity: None,
        decoded: vec![],
        kind: src.kind,
        // A string: a number's digest is in its own domain (`finding::number_group`).
        value_type: ValueType::String,
        rule_id: SAME_VALUE_RULE.to_string(),
        rule_name: rule_name.to_string(),
        layer: src.layer,
        layer_name: src.layer_name,
        reasons,
        severity: src.severity,
        confidence: src.confidence,
        fix: at.fix.to_string(),
        line: at.pos.line,
        column: at.pos.column,
        fingerprint: String::new(),
        legacy_fingerprint: String::new(),
        value_group,
        preview,
    };
    f.set_fingerprints(fp_key);
    f
}

/// Report every [`ValueSite`] whose value equals one found secret in this file (by salted
/// digest, as [`mask_secret_keys`] compares keys).
fn same_named_values(
    fp_key: &[u8],
    file: &str,
    document: &str,
    findings: &mut Vec<Finding>,
    sites: Vec<ValueSite>,
) {
    use std::collections::HashMap;
    if findings.is_empty() || sites.is_empty() {
        return;
    }
    let mut secrets: HashMap<&str, usize> = HashMap::new();
    for i in 0..findings.len() {
        // (Sites are at least `SameValue::MIN_LEN` long, so equal digests mean a source as
        // long.)
        keep_strongest(&mut secrets, findings, i);
    }
    let mut seen = std::collections::HashSet::new();
    let mut extra = Vec::new();
    for site in sites {
        if !seen.insert(site.at.json_pointer.clone()) {
            continue; // read twice (a duplicated key elsewhere in the unit)
        }
        let Some(&i) = secrets.get(site.digest.as_str()) else {
            continue;
        };
        extra.push(same_value_finding(
            fp_key,
            file,
            document,
            &findings[i],
            false,
            "same value as a secret elsewhere in this file",
            site.at,
            site.digest,
            site.preview,
        ));
    }
    findings.extend(extra);
}

/// Free text (a failed condition's message, generated configuration) in which no content rule
/// found anything: `error_message = "token ${var.api_token} rejected"` holds a token that only
/// a key name elsewhere in the file gave away. After the scan it is reported if a value found
/// secret in the file occurs in it. The text is kept in memory until then, never written.
struct TextSite {
    text: String,
    at: SiteAt,
}

/// Longer texts are not searched for secrets found elsewhere (the search digests every
/// substring of each secret's length).
const TEXT_SITE_MAX_CHARS: usize = 4096;
/// At most this many substrings are digested per file (about a second of work).
const TEXT_SITE_BUDGET: usize = 1 << 21;

/// Report every [`TextSite`] that contains a value found secret in this file: every substring of
/// the length of a secret (in characters, from its preview) is digested under the run's salt and
/// looked up, so values are never compared in the clear. Returns how many texts were not
/// searched (over [`TEXT_SITE_MAX_CHARS`], or past [`TEXT_SITE_BUDGET`]).
fn secrets_in_text(
    engine: &Engine,
    fp_key: &[u8],
    file: &str,
    document: &str,
    findings: &mut Vec<Finding>,
    sites: Vec<TextSite>,
) -> usize {
    use std::collections::{BTreeSet, HashMap};
    if findings.is_empty() || sites.is_empty() {
        return 0;
    }
    let mut budget = TEXT_SITE_BUDGET;
    let mut unsearched = 0;
    let mut secrets: HashMap<&str, usize> = HashMap::new();
    let mut lengths = BTreeSet::new();
    for (i, f) in findings.iter().enumerate() {
        // `…(26 chars)`, `ghp_…(40 chars)`: the whole value's length in characters.
        let Some(n) = f
            .preview
            .rsplit_once('(')
            .and_then(|(_, tail)| tail.strip_suffix(" chars)")?.parse::<usize>().ok())
            .filter(|n| *n >= SameValue::MIN_LEN)
        else {
            continue;
        };
        lengths.insert(n);
        keep_strongest(&mut secrets, findings, i);
    }
    let mut seen = std::collections::HashSet::new();
    let mut extra = Vec::new();
    for site in sites {
        if !seen.insert(site.at.json_pointer.clone()) {
            continue;
        }
        let chars: Vec<(usize, char)> = site.text.char_indices().collect();
        let cost: usize = lengths
            .iter()
            .filter(|&&n| n <= chars.len())
            .map(|&n| chars.len() - n + 1)
            .sum();
        if chars.len() > TEXT_SITE_MAX_CHARS || cost > budget {
            unsearched += 1;
            continue;
        }
        budget -= cost;
        let found = lengths
            .iter()
            .filter(|&&n| n <= chars.len())
            .find_map(|&n| {
                (0..=chars.len() - n).find_map(|start| {
                    let from = chars[start].0;
                    let to = chars.get(start + n).map_or(site.text.len(), |c| c.0);
                    secrets
                        .get(engine.value_digest(&site.text[from..to]).as_str())
                        .copied()
                })
            });
        let Some(i) = found else { continue };
        extra.push(same_value_finding(
            fp_key,
            file,
            document,
            &findings[i],
            true,
            "text holding a secret found elsewhere in this file",
            site.at,
            engine.value_digest(&site.text),
            preview(&site.text),
        ));
    }
    findings.extend(extra);
    unsearched
}

/// A value to report: where it is and what was found.
struct Site<'a> {
    section: &'a str,
    address: &'a Address,
    /// Pointer of the unit in the file and the path below it.
    unit_pointer: &'a str,
    rel: &'a [Step<'a>],
    /// Attribute path (relative to the resource's attributes).
    attr: &'a [Step<'a>],
    pos: Pos,
}

/// The bulk units, analysed by workers on large files.
#[derive(Debug, Clone, Copy)]
enum JobKind {
    V4Resource,
    V3Module,
    Show(&'static str),
    Change(&'static str),
    Deferred,
}

/// Several units parsed into one tree, for a worker.
#[derive(Default)]
struct Batch {
    dom: Dom,
    units: Vec<(JobKind, NodeId, String)>,
    bytes: usize,
}

impl Batch {
    fn clear(&mut self) {
        self.dom.clear();
        self.units.clear();
        self.bytes = 0;
    }
}

struct Workers {
    tx: SyncSender<Batch>,
    /// Batches the workers are done with, for reuse.
    back: Receiver<Batch>,
    batch: Batch,
}

/// Files at least this large are analysed by several threads.
const PARALLEL_MIN_BYTES: usize = 8 << 20;

pub struct Scanner<'e> {
    /// First string that is not valid UTF-8 (line, column): the file is rejected, not half-read.
    utf8: Option<(u32, u32)>,
    /// First member with the wrong shape (see [`DocError::Shape`]).
    shape: Option<Shape>,
    /// First unit whose duplicated keys needed more than [`MAX_READINGS`] readings.
    ambiguous: Option<String>,
    workers: Option<Workers>,
    engine: &'e Engine,
    fp_key: &'e [u8],
    file: String,
    findings: Vec<Finding>,
    dets: Vec<Detection>,
    key_sites: Vec<KeySite>,
    /// Also read the provider-private data of state instances (see [`Scanner::with_private`]).
    private: bool,
    /// Also report numbers the artifact marks sensitive (see [`Scanner::with_numbers`]).
    numbers: bool,
    /// While reading outputs and variables: the fix for their values, which are then kept as
    /// [`ValueSite`]s when nothing was found in them.
    named: Option<&'static str>,
    value_sites: Vec<ValueSite>,
    /// Free text in which nothing was found (see [`TextSite`]).
    text_sites: Vec<TextSite>,
}

impl<'e> Scanner<'e> {
    /// Also report values in a state instance's `private` (base64 of the provider's private
    /// data, decoded, and read as JSON when it is). For `audit` only: such a finding points at
    /// the base64 string, which a rewrite must not replace (Terraform would no longer read the
    /// state), so a scanner whose findings feed a rewrite leaves it off.
    pub fn with_private(mut self, on: bool) -> Self {
        self.private = on;
        self
    }

    /// Also report the numbers the artifact itself marks sensitive (layer 1 only, see
    /// [`Engine::analyze_marked_number`]). For `audit`: such a finding points at a JSON number,
    /// and a rewrite that puts a string reference in place of each finding's value (scrub) must
    /// not get one it cannot handle, so a scanner whose findings feed a rewrite leaves it off
    /// unless the rewrite reads [`Finding::value_type`].
    pub fn with_numbers(mut self, on: bool) -> Self {
        self.numbers = on;
        self
    }

    pub fn new(engine: &'e Engine, fp_key: &'e [u8], file: String) -> Self {
        Scanner {
            utf8: None,
            shape: None,
            ambiguous: None,
            workers: None,
            engine,
            fp_key,
            file,
            findings: Vec::new(),
            dets: Vec::new(),
            key_sites: Vec::new(),
            private: false,
            numbers: false,
            named: None,
            value_sites: Vec::new(),
            text_sites: Vec::new(),
        }
    }

    fn syntax(&self, err: SyntaxError) -> DocError {
        DocError::Syntax {
            file: self.file.clone(),
            err,
        }
    }

    /// Scan a whole artifact, on this thread. Findings come out in file order.
    pub fn scan(self, src: &[u8]) -> Result<Scanned, DocError> {
        self.scan_parallel(src, 1)
    }

    /// [`Scanner::scan`] with up to `threads` threads for a large file.
    pub fn scan_parallel(mut self, src: &[u8], threads: usize) -> Result<Scanned, DocError> {
        // audit (the scanner that reads `private`, whose findings feed no rewrite) reads a plan
        // saved through setup-terraform's wrapper, its lines blanked (positions unchanged).
        let blanked;
        let original = src;
        let wrapper = self.private && is_wrapper_log(src);
        let src = if wrapper {
            blanked = blank_wrapper_lines(src);
            &blanked[..]
        } else {
            src
        };
        let wrapper_note = wrapper.then(|| WRAPPER_NOTE.to_string());
        if wrapper {
            // The echo is read from the file as it is (`src` has it blanked).
            self.command_lines(original);
        }
        let r = self.scan_inner(src, threads);
        r.map(|mut s| {
            s.notes.extend(wrapper_note);
            s
        })
    }

    /// The `-var` and `-backend-config` arguments of the wrapper's `[command]` lines (see
    /// [`command_args`]), each analysed like a plan's variable or a backend cache's config value
    /// of that name, reported at its line and column.
    fn command_lines(&mut self, src: &[u8]) {
        for (line_no, line) in (1u32..).zip(src.split(|&b| b == b'\n')) {
            let l = line.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(line);
            let indent = l.len() - l.trim_ascii_start().len();
            let Some(rest) = l[indent..].strip_prefix(b"[command]") else {
                continue;
            };
            let Ok(text) = std::str::from_utf8(rest) else {
                continue;
            };
            // Columns in characters, from the start of the line.
            let offset = String::from_utf8_lossy(&line[..line.len() - rest.len()])
                .chars()
                .count();
            for arg in command_args(text.trim_end_matches('\r')) {
                let (address, fix) = match arg.flag {
                    CommandFlag::Var => (
                        Address {
                            mode: "variable".into(),
                            name: arg.name.clone(),
                            ..Default::default()
                        },
                        COMMAND_VAR_FIX,
                    ),
                    CommandFlag::BackendConfig => (
                        Address {
                            mode: "backend".into(),
                            ..Default::default()
                        },
                        COMMAND_BACKEND_FIX,
                    ),
                };
                let mut dets = Vec::new();
                self.engine.analyze(
                    &arg.value,
                    &Ctx {
                        row: None,
                        key: Some(&arg.name),
                        mark: None,
                        default_fix: fix,
                    },
                    &mut dets,
                );
                if dets.is_empty() {
                    continue;
                }
                // Named by the argument, never by its value: `[command] -var db_password`.
                let locator = format!("[command] {} {}", arg.flag.as_str(), arg.name);
                let attr = match arg.flag {
                    CommandFlag::Var => vec![],
                    CommandFlag::BackendConfig => vec![Step::Key(Cow::Owned(arg.name.clone()))],
                };
                self.dets = dets;
                self.push_dets(&Site {
                    section: "command_line",
                    address: &address,
                    unit_pointer: &locator,
                    rel: &[],
                    attr: &attr,
                    pos: Pos {
                        line: line_no,
                        column: (offset + arg.column) as u32 + 1,
                    },
                });
            }
        }
    }

    fn scan_inner(mut self, src: &[u8], threads: usize) -> Result<Scanned, DocError> {
        if threads < 2 || src.len() < PARALLEL_MIN_BYTES {
            let r = self.scan_here(src);
            let deep = self.engine.take_too_deep();
            let sites = std::mem::take(&mut self.key_sites);
            return r.map(|mut s| {
                s.notes.extend(too_deep_note(deep));
                self.finish_keys(&mut s, sites);
                sort_findings(s, src)
            });
        }
        let engines: Vec<Engine> = (1..threads).map(|_| self.engine.fork()).collect();
        let fp_key = self.fp_key;
        let file = self.file.clone();
        let private = self.private;
        let numbers = self.numbers;
        let (tx, rx) = sync_channel::<Batch>(2);
        let (back_tx, back_rx) = channel::<Batch>();
        let rx = Mutex::new(rx);
        std::thread::scope(|scope| {
            let handles: Vec<_> = engines
                .into_iter()
                .map(|engine| {
                    let rx = &rx;
                    let back_tx = back_tx.clone();
                    let file = file.clone();
                    scope.spawn(move || {
                        let mut sc = Scanner::new(&engine, fp_key, file)
                            .with_private(private)
                            .with_numbers(numbers);
                        loop {
                            let job = rx.lock().map(|r| r.recv());
                            let Ok(Ok(mut batch)) = job else { break };
                            for (kind, id, unit) in &batch.units {
                                sc.dispatch(*kind, src, &batch.dom, *id, unit);
                            }
                            batch.clear();
                            let _ = back_tx.send(batch);
                        }
                        (
                            sc.findings,
                            sc.key_sites,
                            (sc.utf8, sc.shape, sc.ambiguous),
                            engine.take_too_deep(),
                        )
                    })
                })
                .collect();
            self.workers = Some(Workers {
                tx,
                back: back_rx,
                batch: Batch::default(),
            });
            let r = self.scan_here(src);
            // Dropping the sender ends the workers' loops.
            self.workers = None;
            let mut extra = Vec::new();
            let mut utf8 = None;
            let mut shape = None;
            let mut ambiguous = None;
            let mut deep = self.engine.take_too_deep();
            let mut sites = std::mem::take(&mut self.key_sites);
            for h in handles {
                let (f, k, u, d) = h.join().expect("worker panicked");
                extra.extend(f);
                sites.extend(k);
                utf8 = utf8.or(u.0);
                shape = shape.or(u.1);
                ambiguous = ambiguous.or(u.2);
                deep += d;
            }
            if let (Some(pointer), Ok(_)) = (ambiguous.or(self.ambiguous.take()), &r) {
                return Err(DocError::Ambiguous {
                    file: self.file.clone(),
                    pointer,
                });
            }
            if let (Some(s), Ok(_)) = (shape.or(self.shape.take()), &r) {
                return Err(s.error(&self.file));
            }
            if let (Some((line, column)), Ok(_)) = (utf8, &r) {
                return Err(DocError::Utf8 {
                    file: self.file.clone(),
                    line,
                    column,
                });
            }
            r.map(|mut s| {
                if s.kind != DocKind::Encrypted {
                    for f in &mut extra {
                        f.document = s.kind.as_str().to_string();
                    }
                    s.findings.extend(extra);
                }
                s.notes.extend(too_deep_note(deep));
                self.finish_keys(&mut s, sites);
                sort_findings(s, src)
            })
        })
    }

    /// See [`mask_secret_keys`] and [`same_named_values`].
    fn finish_keys(&mut self, s: &mut Scanned, sites: Vec<KeySite>) {
        if s.kind == DocKind::Encrypted {
            return;
        }
        mask_secret_keys(
            self.engine,
            self.fp_key,
            &self.file,
            s.kind.as_str(),
            &mut s.findings,
            sites,
        );
        same_named_values(
            self.fp_key,
            &self.file,
            s.kind.as_str(),
            &mut s.findings,
            std::mem::take(&mut self.value_sites),
        );
        let unsearched = secrets_in_text(
            self.engine,
            self.fp_key,
            &self.file,
            s.kind.as_str(),
            &mut s.findings,
            std::mem::take(&mut self.text_sites),
        );
        if unsearched > 0 {
            s.notes.push(format!(
                "{unsearched} condition message(s) or generated configuration(s) not searched for values found secret elsewhere in the file (too long, or too many to search); content rules were applied"
            ));
        }
    }

    fn scan_here(&mut self, src: &[u8]) -> Result<Scanned, DocError> {
        let file = self.file.clone();
        let body = src.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(src);
        let first = body.iter().position(|b| !b" \t\r\n".contains(b));
        let Some(first) = first else {
            return Err(DocError::Empty { file });
        };
        if body.starts_with(b"PK\x03\x04") {
            return Err(DocError::BinaryPlan { file });
        }
        if looks_utf16(src) {
            return Err(DocError::Utf16 { file });
        }
        let head = &body[..body.len().min(8192)];
        if let Some(offset) = head.iter().position(|&b| b == 0) {
            return Err(DocError::Binary { file, offset });
        }
        let mut p = Parser::new(src);
        if body[first] != b'{' {
            let (line, column) = p.position();
            if body[first] >= 0x80 || (body[first] < 0x20 && !b"\t\r\n".contains(&body[first])) {
                return Err(DocError::Binary {
                    file,
                    offset: first,
                });
            }
            return Err(DocError::NotObject { file, line, column });
        }
        if is_output_document(src) {
            // `terraform output -json`: the root outputs alone, read as a state's are, at
            // `/NAME/value`.
            let mut dom = Dom::default();
            self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                s.outputs(src, dom, id, unit, "outputs", "")
            })
            .map_err(|e| self.syntax(e))?;
            p.finish().map_err(|e| self.syntax(e))?;
            let notes = ambiguity_notes(&p.ambiguities);
            return self.conclude(DocKind::Outputs, src.len(), notes);
        }

        let mut version: Option<(String, Pos)> = None;
        let mut format_version: Option<(String, Pos)> = None;
        let mut seen_plan = false;
        let mut seen_values = false;
        let mut seen_backend = false;
        // OpenTofu's envelope is `{meta, encrypted_data, encryption_version}` and nothing else
        // (internal/encryption/base.go `basedata`); those keys next to anything else do not make
        // a plaintext state "encrypted, not scanned".
        let mut envelope_keys = false;
        let mut other_keys = false;
        // Top-level keys nothing below reads (they tell Terraform's other JSON outputs apart,
        // see [`OtherDocument`]), and whether any key was read as a state's or plan's member.
        let mut skipped: Vec<String> = Vec::new();
        let mut seen_member = false;
        // Every `variables` member (a key twice is read twice), analysed once the configuration
        // said which variables are sensitive.
        let mut variables: Vec<(Dom, NodeId, String)> = Vec::new();
        let mut sensitive_vars: Vec<String> = Vec::new();
        let mut dom = Dom::default();

        p.begin_object().map_err(|e| self.syntax(e))?;
        let mut first_key = true;
        let mut top_keys = StreamKeys::default();
        while let Some((ks, ke, kesc)) = p.next_key(first_key).map_err(|e| self.syntax(e))? {
            first_key = false;
            p.push_key(ks, ke);
            let key = crate::json::str_of(&src[ks..ke], kesc).unwrap_or(Cow::Borrowed(""));
            top_keys.add(&key);
            if !matches!(
                key.as_ref(),
                "meta" | "encrypted_data" | "encryption_version"
            ) {
                other_keys = true;
            }
            let mut read = !matches!(
                key.as_ref(),
                "version" | "format_version" | "encrypted_data" | "encryption_version"
            );
            let r: Result<(), SyntaxError> = match key.as_ref() {
                "version" => {
                    let (line, column) = p.position();
                    dom.clear();
                    let id = p.parse_into(&mut dom).map_err(|e| self.syntax(e))?;
                    let v = match dom.node(id).kind {
                        JKind::Number => dom.raw(src, id).to_string(),
                        _ => "(not a number)".to_string(),
                    };
                    if !matches!(v.as_str(), "1" | "2" | "3" | "4") {
                        return Err(DocError::StateVersion {
                            file,
                            line,
                            column,
                            version: shown_version(&v),
                        });
                    }
                    version = Some((v, Pos { line, column }));
                    Ok(())
                }
                "format_version" => {
                    let (line, column) = p.position();
                    dom.clear();
                    let id = p.parse_into(&mut dom).map_err(|e| self.syntax(e))?;
                    let v = dom.str(src, id).map(|s| s.into_owned()).unwrap_or_default();
                    // 0.x: Terraform 0.12 to 0.15; 1.x since 1.0. A 2.x would change meanings.
                    let supported = v == "1" || v.starts_with("1.") || v.starts_with("0.");
                    if !supported || !is_version_number(&v) {
                        return Err(DocError::FormatVersion {
                            file,
                            line,
                            column,
                            version: if v.is_empty() {
                                "(not a string)".into()
                            } else {
                                shown_version(&v)
                            },
                        });
                    }
                    format_version = Some((v, Pos { line, column }));
                    Ok(())
                }
                "encrypted_data" | "encryption_version" => {
                    envelope_keys = true;
                    p.skip_value()
                }
                "resources" if format_version.is_none() => {
                    self.stream_array(&mut p, &mut dom, JobKind::V4Resource)
                }
                // Condition results: a failed check's message is text made from the
                // configuration's `error_message`, which may interpolate any value that is not
                // marked sensitive (Terraform refuses marked ones).
                "checks" => self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                    s.checks(src, dom, id, unit, "checks")
                }),
                "check_results" if format_version.is_none() => {
                    self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                        s.checks(src, dom, id, unit, "check_results")
                    })
                }
                "outputs" if format_version.is_none() => {
                    self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                        s.outputs(src, dom, id, unit, "outputs", "")
                    })
                }
                "modules" => self.stream_array(&mut p, &mut dom, JobKind::V3Module),
                "backend" => {
                    seen_backend = true;
                    self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                        s.backend(src, dom, id, unit)
                    })
                }
                // Terraform 1.15's pluggable state storage (`terraform { state_store "T" {
                // provider "P" {...} } }`) is cached in the same file instead of `backend`.
                "state_store" => {
                    seen_backend = true;
                    self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                        s.state_store(src, dom, id, unit)
                    })
                }
                "values" => {
                    seen_values = true;
                    self.stream_values(&mut p, &mut dom, "values")
                }
                "planned_values" => {
                    seen_plan = true;
                    self.stream_values(&mut p, &mut dom, "planned_values")
                }
                "prior_state" => {
                    seen_plan = true;
                    self.stream_prior_state(&mut p, &mut dom)
                }
                "resource_changes" | "resource_drift" => {
                    seen_plan = true;
                    let section = if key == "resource_drift" {
                        "resource_drift"
                    } else {
                        "resource_changes"
                    };
                    self.stream_array(&mut p, &mut dom, JobKind::Change(section))
                }
                "deferred_changes" => {
                    seen_plan = true;
                    self.stream_array(&mut p, &mut dom, JobKind::Deferred)
                }
                "action_invocations" | "deferred_action_invocations" => {
                    seen_plan = true;
                    let deferred = key == "deferred_action_invocations";
                    self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                        s.actions(src, dom, id, unit, deferred)
                    })
                }
                "output_changes" => {
                    seen_plan = true;
                    self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                        s.output_changes(src, dom, id, unit)
                    })
                }
                // Read whatever the order of the keys (`jq` or a script may have moved
                // `format_version` after it); whether the file is a plan is decided at the end.
                "variables" => {
                    let unit = pointer_of(src, &p.path);
                    let mut vdom = Dom::default();
                    match p.parse_into(&mut vdom) {
                        Ok(id) => {
                            variables.push((vdom, id, unit));
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
                "configuration" => {
                    seen_plan = true;
                    let unit = pointer_of(src, &p.path);
                    dom.clear();
                    match p.parse_into(&mut dom) {
                        Ok(id) => {
                            let dom = &dom;
                            self.readings(dom, &unit, |s| {
                                s.configuration(src, dom, id, &unit, &mut sensitive_vars)
                            });
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
                _ => {
                    read = false;
                    skipped.push(key.to_string());
                    p.skip_value()
                }
            };
            seen_member |= read;
            r.map_err(|e| self.syntax(e))?;
            p.pop();
        }
        top_keys.report(&mut p);
        p.finish().map_err(|e| self.syntax(e))?;

        if !(format_version.is_some() || seen_plan) {
            variables.clear();
        }
        seen_plan |= !variables.is_empty();
        for (vdom, id, unit) in &variables {
            self.readings(vdom, unit, |s| {
                s.variables(src, vdom, *id, unit, &sensitive_vars)
            });
        }

        let kind = if envelope_keys && !other_keys {
            DocKind::Encrypted
        } else if format_version.is_some() {
            if seen_plan {
                DocKind::Plan
            } else if let Some(what) = (!seen_member)
                .then(|| OtherDocument::of(true, &skipped))
                .flatten()
            {
                return Err(DocError::NotStateOrPlan { file, what });
            } else {
                DocKind::ShowState
            }
        } else if let Some((v, _)) = &version {
            // Only the backend cache (`.terraform/terraform.tfstate`) has a `backend`; Terraform
            // writes it in the v3 layout, `modules` with an empty root module included.
            if seen_backend {
                DocKind::BackendConfig
            } else if v == "4" {
                DocKind::StateV4
            } else {
                DocKind::StateV3
            }
        } else if seen_values && seen_plan {
            DocKind::Plan
        } else if let Some(what) = OtherDocument::of(false, &skipped) {
            return Err(DocError::NotStateOrPlan { file, what });
        } else {
            return Err(DocError::Unrecognized { file });
        };
        let _ = format_version.as_ref().map(|(_, p)| (p.line, p.column));
        let _ = version.as_ref().map(|(_, p)| (p.line, p.column));
        let mut notes = ambiguity_notes(&p.ambiguities);
        if envelope_keys && other_keys {
            notes.push(
                "encrypted_data/encryption_version next to plaintext keys: not an OpenTofu-encrypted state, scanned as plaintext"
                    .to_string(),
            );
        }
        self.conclude(kind, src.len(), notes)
    }

    /// The end of a reading: the errors found on the way (shape, UTF-8, ambiguous keys), else
    /// the findings, marked with the document's kind.
    fn conclude(
        &mut self,
        kind: DocKind,
        bytes: usize,
        notes: Vec<String>,
    ) -> Result<Scanned, DocError> {
        if let Some(s) = self.shape.take() {
            return Err(s.error(&self.file));
        }
        if let Some((line, column)) = self.utf8 {
            return Err(DocError::Utf8 {
                file: self.file.clone(),
                line,
                column,
            });
        }
        if let Some(pointer) = self.ambiguous.take() {
            return Err(DocError::Ambiguous {
                file: self.file.clone(),
                pointer,
            });
        }
        let mut findings = std::mem::take(&mut self.findings);
        if kind == DocKind::Encrypted {
            findings.clear();
        }
        for f in &mut findings {
            f.document = kind.as_str().to_string();
        }
        Ok(Scanned {
            kind,
            findings,
            bytes,
            notes,
        })
    }

    /// Parse the next value as one unit and hand it to `f` with its pointer.
    fn unit(
        &mut self,
        p: &mut Parser<'_>,
        dom: &mut Dom,
        f: impl Fn(&mut Self, &[u8], &Dom, NodeId, &str),
    ) -> Result<(), SyntaxError> {
        dom.clear();
        let id = p.parse_into(dom)?;
        let unit = pointer_of(p.src(), &p.path);
        let (src, dom) = (p.src(), &*dom);
        self.readings(dom, &unit, |s| f(s, src, dom, id, &unit));
        Ok(())
    }

    /// Analyse a unit with `f` once per reading of its duplicated keys, so that every
    /// occurrence is seen, whichever holds a secret (see [`Dom::get`]). The first reading is
    /// Terraform's (the last occurrence of each key); the j-th next one reads the j-th
    /// occurrence of every duplicated key asked for (the last of those with fewer), and a
    /// reading that reaches more duplicated keys inside an occurrence read only now adds its
    /// own. A value found in several readings is reported once (its highest severity). A tree
    /// with no duplicated key is read once, as before.
    fn readings(&mut self, dom: &Dom, unit: &str, mut f: impl FnMut(&mut Self)) {
        if !dom.has_duplicate_keys() {
            f(self);
            return;
        }
        type Choice = std::collections::HashMap<(NodeId, String), usize>;
        let engine = self.engine;
        // Values past the depth budget count once, in the first reading.
        let deep_before = engine.take_too_deep();
        let mut deep_first = None;
        let first = self.findings.len();
        let first_site = self.key_sites.len();
        let mut queue: Vec<Choice> = vec![Choice::new()];
        let mut done = 0;
        while let Some(choice) = queue.pop() {
            if done == MAX_READINGS {
                self.ambiguous.get_or_insert_with(|| ptr(unit).into_owned());
                break;
            }
            done += 1;
            let (before, before_site) = (self.findings.len(), self.key_sites.len());
            dom.set_choice(choice.clone());
            f(self);
            deep_first.get_or_insert(engine.take_too_deep());
            if done > 1 {
                self.merge_reading(first, before, first_site, before_site);
            }
            let asked = dom.take_asked();
            let most = asked.values().copied().max().unwrap_or(0);
            // Last pushed, first read: the earlier occurrences in order.
            for j in (0..most.saturating_sub(1)).rev() {
                let mut next = choice.clone();
                for (at, &n) in &asked {
                    next.insert(at.clone(), j.min(n - 1));
                }
                queue.push(next);
            }
        }
        dom.set_choice(Choice::new());
        engine.take_too_deep();
        engine.add_too_deep(deep_before + deep_first.unwrap_or(0));
    }

    /// Findings `[before..]` of a later reading of a unit whose earlier readings made
    /// `[first..before]`: a value already reported (same place) is reported once, with the
    /// higher severity; address keys likewise.
    fn merge_reading(
        &mut self,
        first: usize,
        before: usize,
        first_site: usize,
        before_site: usize,
    ) {
        type Place = (u32, u32, Option<String>);
        let place = |f: &Finding| -> Place { (f.line, f.column, f.inner_pointer.clone()) };
        let mut seen: std::collections::HashMap<Place, usize> = self.findings[first..before]
            .iter()
            .enumerate()
            .map(|(i, f)| (place(f), first + i))
            .collect();
        let new: Vec<Finding> = self.findings.drain(before..).collect();
        for f in new {
            match seen.get(&place(&f)) {
                Some(&i) if i < before => {
                    if f.severity > self.findings[i].severity {
                        self.findings[i] = f;
                    }
                }
                _ => {
                    seen.insert(place(&f), self.findings.len());
                    self.findings.push(f);
                }
            }
        }
        let sites: std::collections::HashSet<(u32, u32, &'static str)> = self.key_sites
            [first_site..before_site]
            .iter()
            .map(|k| (k.pos.line, k.pos.column, k.member))
            .collect();
        let new: Vec<KeySite> = self.key_sites.drain(before_site..).collect();
        self.key_sites.extend(
            new.into_iter()
                .filter(|k| !sites.contains(&(k.pos.line, k.pos.column, k.member))),
        );
    }

    /// Stream an array, handing each element as a unit to the workers (or analysing it here when
    /// there are none or they are busy).
    fn stream_array(
        &mut self,
        p: &mut Parser<'_>,
        dom: &mut Dom,
        kind: JobKind,
    ) -> Result<(), SyntaxError> {
        if p.peek_kind()? == b'n' {
            return p.skip_value();
        }
        p.begin_array()?;
        let mut i = 0;
        while p.next_element(i == 0)? {
            p.push_index(i);
            if let Some(w) = &mut self.workers {
                // Units go to the workers in batches of about 1 MB of input: one channel
                // operation per unit would cost more than analysing it.
                let start = p.offset();
                let id = p.parse_into(&mut w.batch.dom)?;
                let unit = pointer_of(p.src(), &p.path);
                w.batch.units.push((kind, id, unit));
                w.batch.bytes += p.offset() - start;
                if w.batch.bytes >= 1 << 20 {
                    self.flush(p.src());
                }
            } else {
                dom.clear();
                let id = p.parse_into(dom)?;
                let unit = pointer_of(p.src(), &p.path);
                self.dispatch(kind, p.src(), dom, id, &unit);
            }
            p.pop();
            i += 1;
        }
        self.flush(p.src());
        Ok(())
    }

    /// Hand the current batch to a worker, or analyse it here if they are all busy.
    fn flush(&mut self, src: &[u8]) {
        let Some(w) = &mut self.workers else { return };
        if w.batch.units.is_empty() {
            return;
        }
        let spare = w.back.try_recv().unwrap_or_default();
        let batch = std::mem::replace(&mut w.batch, spare);
        let inline = match w.tx.try_send(batch) {
            Ok(()) => None,
            Err(TrySendError::Full(b)) | Err(TrySendError::Disconnected(b)) => Some(b),
        };
        if let Some(mut b) = inline {
            for (kind, id, unit) in &b.units {
                self.dispatch(*kind, src, &b.dom, *id, unit);
            }
            b.clear();
            if let Some(w) = &mut self.workers {
                w.batch = b;
            }
        }
    }

    /// Is `id` an object (or, with `null_ok`, null)? If not, remember the first such place: the
    /// file is an error (see [`DocError::Shape`]).
    fn expect(
        &mut self,
        dom: &Dom,
        id: NodeId,
        want: JKind,
        null_ok: bool,
        pointer: impl FnOnce() -> String,
        expected: &'static str,
    ) -> bool {
        let k = dom.node(id).kind;
        let ok = match (want, k) {
            (_, JKind::Null) => null_ok,
            (JKind::Object, JKind::Object) | (JKind::Array, JKind::Array) => true,
            _ => false,
        };
        if !ok && self.shape.is_none() {
            let n = dom.node(id);
            self.shape = Some(Shape {
                pointer: pointer(),
                line: n.line,
                column: n.column,
                expected,
            });
        }
        ok
    }

    /// Analyse one unit (once per reading of its duplicated keys, see [`Scanner::readings`]).
    fn dispatch(&mut self, kind: JobKind, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        self.readings(dom, unit, |s| s.dispatch_once(kind, src, dom, id, unit));
    }

    fn dispatch_once(&mut self, kind: JobKind, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        let expected = match kind {
            JobKind::V4Resource => "a resource is an object",
            JobKind::V3Module => "a module is an object",
            JobKind::Show(_) => "a resource is an object",
            JobKind::Change(_) | JobKind::Deferred => "a resource change is an object",
        };
        if !self.expect(dom, id, JKind::Object, false, || unit.to_string(), expected) {
            return;
        }
        match kind {
            JobKind::V4Resource => self.v4_resource(src, dom, id, unit),
            JobKind::V3Module => self.v3_module(src, dom, id, unit),
            JobKind::Show(section) => self.show_resource(src, dom, id, unit, section),
            JobKind::Change(section) => self.change(src, dom, id, unit, section),
            JobKind::Deferred => {
                if let Some(rc) = dom.get(src, id, "resource_change") {
                    self.change(
                        src,
                        dom,
                        rc,
                        &format!("{unit}/resource_change"),
                        "deferred_changes",
                    )
                }
            }
        }
    }

    /// `values` / `planned_values`: `{outputs, root_module}`.
    fn stream_values(
        &mut self,
        p: &mut Parser<'_>,
        dom: &mut Dom,
        section: &'static str,
    ) -> Result<(), SyntaxError> {
        if p.peek_kind()? == b'n' {
            return p.skip_value();
        }
        p.begin_object()?;
        let mut first = true;
        let mut keys = StreamKeys::default();
        while let Some((s, e, esc)) = p.next_key(first)? {
            first = false;
            p.push_key(s, e);
            let k = crate::json::str_of(&p.src()[s..e], esc).unwrap_or_default();
            keys.add(&k);
            match k.as_ref() {
                "outputs" => {
                    let sec = format!("{section}.outputs");
                    self.unit(p, dom, |s, src, dom, id, unit| {
                        s.outputs(src, dom, id, unit, &sec, "")
                    })?
                }
                "root_module" => self.stream_module(p, dom, section, "")?,
                _ => p.skip_value()?,
            }
            p.pop();
        }
        keys.report(p);
        Ok(())
    }

    fn stream_prior_state(&mut self, p: &mut Parser<'_>, dom: &mut Dom) -> Result<(), SyntaxError> {
        if p.peek_kind()? == b'n' {
            return p.skip_value();
        }
        p.begin_object()?;
        let mut first = true;
        let mut keys = StreamKeys::default();
        while let Some((s, e, esc)) = p.next_key(first)? {
            first = false;
            p.push_key(s, e);
            let k = crate::json::str_of(&p.src()[s..e], esc).unwrap_or_default();
            keys.add(&k);
            match k.as_ref() {
                "values" => self.stream_values(p, dom, "prior_state")?,
                "checks" => self.unit(p, dom, |s, src, dom, id, unit| {
                    s.checks(src, dom, id, unit, "prior_state.checks")
                })?,
                _ => p.skip_value()?,
            }
            p.pop();
        }
        keys.report(p);
        Ok(())
    }

    /// A module of `terraform show -json`: `{resources, child_modules, address}`.
    fn stream_module(
        &mut self,
        p: &mut Parser<'_>,
        dom: &mut Dom,
        section: &'static str,
        _module: &str,
    ) -> Result<(), SyntaxError> {
        if p.peek_kind()? == b'n' {
            return p.skip_value();
        }
        p.begin_object()?;
        let mut first = true;
        let mut keys = StreamKeys::default();
        while let Some((s, e, esc)) = p.next_key(first)? {
            first = false;
            p.push_key(s, e);
            let k = crate::json::str_of(&p.src()[s..e], esc).unwrap_or_default();
            keys.add(&k);
            match k.as_ref() {
                "resources" => self.stream_array(p, dom, JobKind::Show(section))?,
                "child_modules" => {
                    if p.peek_kind()? == b'n' {
                        p.skip_value()?;
                    } else {
                        p.begin_array()?;
                        let mut i = 0;
                        while p.next_element(i == 0)? {
                            p.push_index(i);
                            self.stream_module(p, dom, section, "")?;
                            p.pop();
                            i += 1;
                        }
                    }
                }
                _ => p.skip_value()?,
            }
            p.pop();
        }
        keys.report(p);
        Ok(())
    }

    // ---- units -------------------------------------------------------------------------------

    fn push_dets(&mut self, site: &Site<'_>) {
        for d in self.dets.drain(..) {
            let address = site.address.display();
            let attribute_path = attribute_path(site.attr);
            let json_pointer = format!("{}{}", site.unit_pointer, pointer(site.rel));
            // A resource's `id` that is an AWS access key ID (`aws_iam_access_key`) is the key's
            // identifier, like a user name; the credential is `secret`. In every layout: v4
            // attributes, flatmaps, v3 `primary.id` and `primary.attributes.id`.
            if d.rule_id == AWS_ACCESS_KEY_ID_RULE && is_id_attribute(&json_pointer) {
                continue;
            }
            let mut f = Finding {
                file: self.file.clone(),
                archive: None,
                member: None,
                document: String::new(),
                section: site.section.to_string(),
                address,
                resource: site.address.clone(),
                attribute_path,
                json_pointer,
                inner_pointer: d.inner_pointer,
                inner_identity: d.inner_identity,
                decoded: d.decoded.iter().map(|s| s.to_string()).collect(),
                kind: d.kind,
                value_type: d.value_type,
                rule_id: d.rule_id,
                rule_name: d.rule_name,
                layer: d.layer.number(),
                layer_name: d.layer,
                reasons: d.reasons,
                severity: d.severity,
                confidence: d.confidence,
                fix: d.fix,
                line: site.pos.line,
                column: site.pos.column,
                fingerprint: String::new(),
                legacy_fingerprint: String::new(),
                value_group: d.value_group,
                preview: d.preview,
            };
            f.set_fingerprints(self.fp_key);
            self.findings.push(f);
        }
    }

    /// Index keys, deposed keys and module instance keys are part of `address`, which every
    /// report, baseline, SARIF location and scrub secret name prints. Each one that a content
    /// rule recognises is reported (at its own node, attribute path = the member's name) and
    /// masked in `address` before anything else uses it. `keys` names the members holding them:
    /// `index_key`/`index`, `deposed`/`deposed_key` (a string each), and `module` /
    /// `module_address` / `address` (a path whose `["KEY"]` steps are checked).
    fn address_keys(
        &mut self,
        src: &[u8],
        dom: &Dom,
        address: &mut Address,
        section: &str,
        unit: &str,
        keys: &[(&'static str, NodeId)],
    ) {
        let engine = self.engine;
        let mut found: Vec<(&'static str, NodeId, Vec<Detection>)> = Vec::new();
        let mut unpicked: Vec<(&'static str, NodeId, String)> = Vec::new();
        for &(member, node) in keys {
            let mut dets = Vec::new();
            match member {
                "index_key" | "index" | "deposed" | "deposed_key" => {
                    if !matches!(dom.node(node).kind, JKind::Str { .. }) {
                        continue;
                    }
                    let Some(raw) = dom.str(src, node) else {
                        continue;
                    };
                    let Some(d) = engine.analyze_address_key(&raw) else {
                        unpicked.push((member, node, raw.into_owned()));
                        continue;
                    };
                    let place = if member.starts_with("index") {
                        address.index_key = Some(masked_key(&raw));
                        KeyPlace::Index
                    } else {
                        address.deposed = Some(preview(&raw));
                        KeyPlace::Deposed
                    };
                    address.masked.push(MaskedKey {
                        place,
                        digest: engine.value_digest(&raw),
                    });
                    dets.push(d);
                }
                _ => {
                    let (masked, picked) = mask_module_keys(&address.module, |k| {
                        engine.analyze_address_key(k).is_some()
                    });
                    for k in module_keys(&address.module) {
                        if !picked.iter().any(|(_, p)| *p == k) {
                            unpicked.push((member, node, k));
                        }
                    }
                    if picked.is_empty() {
                        continue;
                    }
                    address.module = masked;
                    for (ordinal, k) in &picked {
                        address.masked.push(MaskedKey {
                            place: KeyPlace::Module(*ordinal),
                            digest: engine.value_digest(k),
                        });
                    }
                    dets.extend(
                        picked
                            .iter()
                            .filter_map(|(_, k)| engine.analyze_address_key(k)),
                    );
                }
            }
            found.push((member, node, dets));
        }
        for (member, node, raw) in unpicked {
            if raw.len() < KEY_SITE_MIN_LEN {
                continue;
            }
            let n = dom.node(node);
            self.key_sites.push(KeySite {
                digest: engine.value_digest(&raw),
                preview: preview(&raw),
                member,
                section: section.to_string(),
                address: address.clone(),
                unit: unit.to_string(),
                pos: Pos::of(n),
            });
        }
        for (member, node, dets) in found {
            let n = dom.node(node);
            let steps = [Step::Key(Cow::Borrowed(member))];
            self.dets = dets;
            self.push_dets(&Site {
                section,
                address,
                unit_pointer: unit,
                rel: &steps,
                attr: &steps,
                pos: Pos::of(n),
            });
        }
    }

    /// Walk the values under `id` (relative path prefix `rel`), applying rows and marks.
    #[allow(clippy::too_many_arguments)]
    fn values<'s>(
        &mut self,
        src: &'s [u8],
        dom: &Dom,
        id: NodeId,
        section: &str,
        address: &Address,
        unit: &str,
        rel_prefix: &[Step<'s>],
        rows: &[&Row],
        marks: &Marks,
        mark: Mark,
        default_fix: &str,
    ) {
        let engine = self.engine;
        // Rows with a condition (`when`) apply only if the object says so (e.g. SecureString).
        let rows: Vec<&Row> = rows
            .iter()
            .copied()
            .filter(|r| {
                r.when.as_ref().is_none_or(|(k, v)| {
                    dom.get(src, id, k)
                        .and_then(|n| dom.str(src, n))
                        .is_some_and(|s| s == v.as_str())
                })
            })
            .collect();
        // Rows of attributes that mirror a marked one (`sensitive:ATTR`) apply leaf by leaf.
        let (mirrors, rows): (Vec<&Row>, Vec<&Row>) =
            rows.into_iter().partition(|r| r.when_sensitive.is_some());
        let rows = &rows[..];
        let mut path: Vec<Step<'s>> = Vec::new();
        let mut bad: Option<(u32, u32)> = None;
        let mut hits: Vec<(Vec<Step<'s>>, Pos, Vec<Detection>)> = Vec::new();
        let mut hit_nodes: Vec<NodeId> = Vec::new();
        // Outputs and variables: strings nothing was found in (see `ValueSite`).
        let named = self.named;
        let mut misses: Vec<(NodeId, Vec<Step<'s>>, Pos, String, String)> = Vec::new();
        let mut dynamic = Vec::new();
        walk_nodes(
            src,
            dom,
            id,
            &mut path,
            &mut dynamic,
            None,
            &mut |path, dynamic, key, node| {
                let Some(value) = dom.str(src, node) else {
                    let n = dom.node(node);
                    bad.get_or_insert((n.line, n.column));
                    return;
                };
                let keys = || -> Vec<&str> {
                    path.iter()
                        .filter_map(|s| match s {
                            Step::Key(k) => Some(k.as_ref()),
                            Step::Idx(_) => None,
                        })
                        .collect()
                };
                let mut row = if rows.is_empty() {
                    None
                } else {
                    Table::lookup(rows, &keys())
                };
                if !mirrors.is_empty() && row.is_none_or(|r| r.treat != Treat::Secret) {
                    let applying: Vec<&Row> = mirrors
                        .iter()
                        .copied()
                        .filter(|r| marks.covers_mirror(r, path, dynamic))
                        .collect();
                    row = Table::lookup(&applying, &keys()).or(row);
                }
                let marked = (!marks.is_empty() && marks.covers(path, dynamic)).then_some(mark);
                let mut dets = Vec::new();
                engine.analyze(
                    &value,
                    &Ctx {
                        row,
                        key,
                        mark: marked,
                        default_fix,
                    },
                    &mut dets,
                );
                if !dets.is_empty() {
                    let n = dom.node(node);
                    hit_nodes.push(node);
                    hits.push((path.to_vec(), Pos::of(n), dets));
                } else if named.is_some() && value.len() >= SameValue::MIN_LEN {
                    let n = dom.node(node);
                    misses.push((
                        node,
                        path.to_vec(),
                        Pos::of(n),
                        engine.value_digest(&value),
                        preview(&value),
                    ));
                }
            },
        );
        if bad.is_some() && self.utf8.is_none() {
            self.utf8 = bad;
        }
        // The same value elsewhere in the instance (an output that mirrors an input, a copy in
        // tags or triggers) is as secret as where it was recognised.
        let mut same = SameValue::default();
        for (path, _, dets) in &hits {
            same.add(&attribute_path(path), dets);
        }
        if !same.is_empty() {
            hit_nodes.sort_unstable();
            let mut path: Vec<Step<'s>> = Vec::new();
            walk_nodes(
                src,
                dom,
                id,
                &mut path,
                &mut dynamic,
                None,
                &mut |path, _, _, node| {
                    if hit_nodes.binary_search(&node).is_ok() {
                        return;
                    }
                    let Some(d) = dom.str(src, node).and_then(|v| same.check(engine, &v)) else {
                        return;
                    };
                    misses.retain(|m| m.0 != node);
                    let n = dom.node(node);
                    hits.push((path.to_vec(), Pos::of(n), vec![d]));
                },
            );
        }
        // Numbers the artifact marks sensitive (layer 1 only; `with_numbers`). After the
        // same-value step: a number is no source for equal strings.
        if self.numbers && !marks.is_empty() {
            let mut path: Vec<Step<'s>> = Vec::new();
            walk_leaves(
                src,
                dom,
                id,
                &mut path,
                &mut dynamic,
                None,
                Leaf::Number,
                &mut |path, dynamic, key, node| {
                    if !marks.covers(path, dynamic) {
                        return;
                    }
                    let row = if rows.is_empty() {
                        None
                    } else {
                        let keys: Vec<&str> = path
                            .iter()
                            .filter_map(|s| match s {
                                Step::Key(k) => Some(k.as_ref()),
                                Step::Idx(_) => None,
                            })
                            .collect();
                        Table::lookup(rows, &keys)
                    };
                    let ctx = Ctx {
                        row,
                        key,
                        mark: Some(mark),
                        default_fix,
                    };
                    let exact = marks.covers_exactly(path, dynamic);
                    if let Some(d) = engine.analyze_marked_number(dom.raw(src, node), &ctx, exact) {
                        let n = dom.node(node);
                        hits.push((path.to_vec(), Pos::of(n), vec![d]));
                    }
                },
            );
        }
        if let Some(fix) = named {
            for (_, path, pos, digest, preview) in misses {
                let mut rel: Vec<Step<'_>> = rel_prefix.to_vec();
                rel.extend(path.iter().cloned());
                self.value_sites.push(ValueSite {
                    digest,
                    preview,
                    at: SiteAt {
                        section: section.to_string(),
                        address: address.clone(),
                        json_pointer: format!("{unit}{}", pointer(&rel)),
                        attribute_path: attribute_path(&path),
                        fix,
                        pos,
                    },
                });
            }
        }
        for (path, pos, dets) in hits {
            let mut rel: Vec<Step<'_>> = rel_prefix.to_vec();
            rel.extend(path.iter().cloned());
            self.dets = dets;
            self.push_dets(&Site {
                section,
                address,
                unit_pointer: unit,
                rel: &rel,
                attr: &path,
                pos,
            });
        }
    }

    fn v4_resource(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        let module = member_string(src, dom, id, "module").unwrap_or_default();
        let (mut address, table_type) = resource_head(src, dom, id, module);
        let rows = self.engine.table.for_type(&table_type);
        let Some(instances) = dom.get(src, id, "instances") else {
            return;
        };
        if !self.expect(
            dom,
            instances,
            JKind::Array,
            true,
            || format!("{unit}/instances"),
            "`instances` is an array",
        ) {
            return;
        }
        if let Some(node) = dom.get(src, id, "module") {
            // Once per resource: the module path is the same for every instance.
            self.address_keys(
                src,
                dom,
                &mut address,
                "resources",
                unit,
                &[("module", node)],
            );
        }
        for (i, inst) in dom.elements(instances).enumerate() {
            if !self.expect(
                dom,
                inst,
                JKind::Object,
                false,
                || format!("{unit}/instances/{i}"),
                "an instance is an object",
            ) {
                return;
            }
            for (member, expected) in [
                ("attributes", "`attributes` is an object"),
                ("attributes_flat", "`attributes_flat` is an object"),
            ] {
                if let Some(a) = dom.get(src, inst, member) {
                    let at = || format!("{unit}/instances/{i}/{member}");
                    if !self.expect(dom, a, JKind::Object, true, at, expected) {
                        return;
                    }
                }
            }
            // The module's masked keys stay; the instance's are this instance's own.
            address
                .masked
                .retain(|m| matches!(m.place, KeyPlace::Module(_)));
            address.index_key = dom
                .get(src, inst, "index_key")
                .map(|k| index_display(src, dom, k));
            address.deposed = dom
                .get(src, inst, "deposed")
                .and_then(|n| dom.str(src, n))
                .map(|c| c.into_owned());
            let keys: Vec<(&'static str, NodeId)> = ["index_key", "deposed"]
                .into_iter()
                .filter_map(|k| dom.get(src, inst, k).map(|n| (k, n)))
                .collect();
            self.address_keys(
                src,
                dom,
                &mut address,
                "resources",
                &format!("{unit}/instances/{i}"),
                &keys,
            );
            let marks = dom
                .get(src, inst, "sensitive_attributes")
                .map(|m| Marks::from_state(src, dom, m))
                .unwrap_or_default();
            let ipath = format!("{unit}/instances/{i}");
            if let Some(attrs) = dom.get(src, inst, "attributes") {
                let rel = [Step::Key(Cow::Borrowed("attributes"))];
                self.values(
                    src,
                    dom,
                    attrs,
                    "resources",
                    &address,
                    &ipath,
                    &rel,
                    &rows,
                    &marks,
                    Mark::SensitiveAttributes,
                    GENERIC_FIX,
                );
            }
            if let Some(flat) = dom.get(src, inst, "attributes_flat") {
                self.flat(
                    src,
                    dom,
                    flat,
                    "resources",
                    &address,
                    &format!("{ipath}/attributes_flat"),
                    &rows,
                );
            }
            if let Some(ident) = dom.get(src, inst, "identity") {
                self.identity(
                    src,
                    dom,
                    ident,
                    "resources.identity",
                    &address,
                    &ipath,
                    "identity",
                );
            }
            if self.private {
                if let Some(node) = dom.get(src, inst, "private") {
                    self.private(src, dom, node, &address, &ipath);
                }
            }
        }
    }

    /// A state instance's `private`: base64 (Go's standard encoding of `[]byte`) of what the
    /// provider keeps for itself, JSON for both SDKs (SDKv2: timeouts and schema version; the
    /// plugin framework: `{key: base64 of JSON}` of whatever the provider stores). Decoded, then
    /// read like a JSON-in-a-string value (keys give context, content rules apply, nested base64
    /// text is decoded).
    fn private(&mut self, src: &[u8], dom: &Dom, node: NodeId, address: &Address, unit: &str) {
        use base64::Engine as _;
        let Some(raw) = dom.str(src, node) else {
            return;
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(raw.trim()) else {
            return;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            return;
        };
        let mut dets = Vec::new();
        self.engine.analyze(
            &text,
            &Ctx {
                row: None,
                key: Some("private"),
                mark: None,
                default_fix: PRIVATE_FIX,
            },
            &mut dets,
        );
        if dets.is_empty() {
            return;
        }
        for d in &mut dets {
            d.decoded.insert(0, "base64");
        }
        let n = dom.node(node);
        let rel = [Step::Key(Cow::Borrowed("private"))];
        self.dets = dets;
        self.push_dets(&Site {
            section: "resources.private",
            address,
            unit_pointer: unit,
            rel: &rel,
            attr: &[],
            pos: Pos::of(n),
        });
    }

    /// A resource identity (Terraform 1.12+: a state instance's `identity`, a show resource's
    /// `identity`, a change's `before_identity` / `after_identity` / `importing.identity`): what
    /// the provider finds the object by, which is meant to be IDs. Key names and content rules
    /// apply as anywhere (no table row: the attribute names are not the schema's). Reported in a
    /// section of its own, with the attribute path inside the identity.
    #[allow(clippy::too_many_arguments)]
    fn identity(
        &mut self,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        section: &str,
        address: &Address,
        unit: &str,
        member: &'static str,
    ) {
        if dom.node(id).kind != JKind::Object {
            return;
        }
        let rel: Vec<Step<'_>> = member
            .split('/')
            .map(|m| Step::Key(Cow::Borrowed(m)))
            .collect();
        self.values(
            src,
            dom,
            id,
            section,
            address,
            unit,
            &rel,
            &[],
            &Marks::default(),
            Mark::SensitiveAttributes,
            GENERIC_FIX,
        );
    }

    /// A flatmap (`attributes_flat` in v4, `primary.attributes` in v3): keys like `a.0.b`.
    #[allow(clippy::too_many_arguments)]
    fn flat(
        &mut self,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        section: &str,
        address: &Address,
        unit: &str,
        rows: &[&Row],
    ) {
        // As in `values`: a row with a condition applies only when the (top-level, hence
        // dot-free) flatmap key says so; a flatmap carries no sensitivity marks, so rows that
        // mirror a marked attribute never apply.
        let rows: Vec<&Row> = rows
            .iter()
            .copied()
            .filter(|r| {
                r.when_sensitive.is_none()
                    && r.when.as_ref().is_none_or(|(k, v)| {
                        dom.get(src, id, k)
                            .and_then(|n| dom.str(src, n))
                            .is_some_and(|s| s == v.as_str())
                    })
            })
            .collect();
        let rows = &rows[..];
        let mut same = SameValue::default();
        let mut hit: Vec<usize> = Vec::new();
        for (i, (k, v)) in dom.members(id).enumerate() {
            let (Some(key), Some(value)) = (dom.str(src, k), dom.str(src, v)) else {
                let n = dom.node(v);
                self.utf8.get_or_insert((n.line, n.column));
                continue;
            };
            if key.ends_with(".#") || key.ends_with(".%") || key == "%" || key == "#" {
                continue;
            }
            let steps = flat_steps(&key);
            let keys: Vec<&str> = steps
                .iter()
                .filter_map(|s| match s {
                    Step::Key(k) => Some(k.as_ref()),
                    _ => None,
                })
                .collect();
            let row = Table::lookup(rows, &keys);
            let last = keys.last().copied();
            let mut dets = Vec::new();
            self.engine.analyze(
                &value,
                &Ctx {
                    row,
                    key: last,
                    mark: None,
                    default_fix: GENERIC_FIX,
                },
                &mut dets,
            );
            if dets.is_empty() {
                continue;
            }
            hit.push(i);
            same.add(&attribute_path(&steps), &dets);
            let n = dom.node(v);
            let rel = [Step::Key(Cow::Owned(key.to_string()))];
            self.dets = dets;
            self.push_dets(&Site {
                section,
                address,
                unit_pointer: unit,
                rel: &rel,
                attr: &steps,
                pos: Pos::of(n),
            });
        }
        if same.is_empty() {
            return;
        }
        // The same value under another key of the instance (see `values`).
        for (i, (k, v)) in dom.members(id).enumerate() {
            if hit.binary_search(&i).is_ok() {
                continue;
            }
            let (Some(key), Some(value)) = (dom.str(src, k), dom.str(src, v)) else {
                continue;
            };
            if key.ends_with(".#") || key.ends_with(".%") || key == "%" || key == "#" {
                continue;
            }
            let Some(d) = same.check(self.engine, &value) else {
                continue;
            };
            let steps = flat_steps(&key);
            let n = dom.node(v);
            let rel = [Step::Key(Cow::Owned(key.to_string()))];
            self.dets = vec![d];
            self.push_dets(&Site {
                section,
                address,
                unit_pointer: unit,
                rel: &rel,
                attr: &steps,
                pos: Pos::of(n),
            });
        }
    }

    /// Root outputs: `{name: {value, type, sensitive}}`.
    /// Outputs `{name: {value, type, sensitive}}` of the root module (`module` empty) or, in a
    /// v3 state, of the child module `module`.
    fn outputs(
        &mut self,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        unit: &str,
        section: &str,
        module: &str,
    ) {
        let rows = self.engine.table.for_type(ROOT_OUTPUT);
        let _ = rows;
        for (k, out) in dom.members(id) {
            let Some(name) = dom.str(src, k) else {
                continue;
            };
            let Some(value) = dom.get(src, out, "value") else {
                continue;
            };
            let (address, marks) = declared(src, dom, out, module, "output", &name);
            let fix = if module.is_empty() {
                OUTPUT_FIX
            } else {
                MODULE_OUTPUT_FIX
            };
            let rel = [
                Step::Key(Cow::Owned(name.to_string())),
                Step::Key(Cow::Borrowed("value")),
            ];
            self.named = Some(fix);
            self.values_keyed(
                src,
                dom,
                value,
                section,
                &address,
                unit,
                &rel,
                &[],
                &marks,
                Mark::SensitiveOutput,
                fix,
                &name,
            );
            self.named = None;
        }
    }

    /// Like `values`, but a bare string value gets `key` as its key context.
    #[allow(clippy::too_many_arguments)]
    fn values_keyed<'s>(
        &mut self,
        src: &'s [u8],
        dom: &Dom,
        id: NodeId,
        section: &str,
        address: &Address,
        unit: &str,
        rel: &[Step<'s>],
        rows: &[&Row],
        marks: &Marks,
        mark: Mark,
        fix: &str,
        key: &str,
    ) {
        let dets = if matches!(dom.node(id).kind, JKind::Str { .. }) {
            let Some(value) = dom.str(src, id) else {
                let n = dom.node(id);
                self.utf8.get_or_insert((n.line, n.column));
                return;
            };
            let mut dets = Vec::new();
            self.engine.analyze(
                &value,
                &Ctx {
                    row: rows.first().copied(),
                    key: Some(key),
                    mark: (!marks.is_empty()).then_some(mark),
                    default_fix: fix,
                },
                &mut dets,
            );
            if dets.is_empty() {
                if let Some(fix) = self.named.filter(|_| value.len() >= SameValue::MIN_LEN) {
                    let n = dom.node(id);
                    self.value_sites.push(ValueSite {
                        digest: self.engine.value_digest(&value),
                        preview: preview(&value),
                        at: SiteAt {
                            section: section.to_string(),
                            address: address.clone(),
                            json_pointer: format!("{unit}{}", pointer(rel)),
                            attribute_path: String::new(),
                            fix,
                            pos: Pos::of(n),
                        },
                    });
                }
                return;
            }
            dets
        } else if dom.node(id).kind == JKind::Number {
            // A number is reported only when marked (and the mark is on this value itself).
            if !self.numbers || marks.is_empty() {
                return;
            }
            let ctx = Ctx {
                row: rows.first().copied(),
                key: Some(key),
                mark: Some(mark),
                default_fix: fix,
            };
            let Some(d) = self
                .engine
                .analyze_marked_number(dom.raw(src, id), &ctx, true)
            else {
                return;
            };
            vec![d]
        } else {
            self.values(
                src, dom, id, section, address, unit, rel, rows, marks, mark, fix,
            );
            return;
        };
        let n = dom.node(id);
        self.dets = dets;
        self.push_dets(&Site {
            section,
            address,
            unit_pointer: unit,
            rel,
            attr: &[],
            pos: Pos::of(n),
        });
    }

    /// `terraform show -json` resource: `{address, mode, type, name, index, values, sensitive_values}`.
    fn show_resource(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str, section: &str) {
        let mut address = show_address(src, dom, id);
        self.show_address_keys(src, dom, id, &mut address, section, unit);
        let table_type = if address.mode == "data" {
            format!("data.{}", address.resource_type)
        } else {
            address.resource_type.clone()
        };
        let rows = self.engine.table.for_type(&table_type);
        let marks = dom
            .get(src, id, "sensitive_values")
            .map(|m| Marks::from_shape(src, dom, m))
            .unwrap_or_default();
        if let Some(values) = dom.get(src, id, "values") {
            let rel = [Step::Key(Cow::Borrowed("values"))];
            self.values(
                src,
                dom,
                values,
                section,
                &address,
                unit,
                &rel,
                &rows,
                &marks,
                Mark::SensitiveValues,
                GENERIC_FIX,
            );
        }
        if let Some(ident) = dom.get(src, id, "identity") {
            let sec = format!("{section}.identity");
            self.identity(src, dom, ident, &sec, &address, unit, "identity");
        }
    }

    /// [`Self::address_keys`] for a `terraform show -json` resource or resource change.
    fn show_address_keys(
        &mut self,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        address: &mut Address,
        section: &str,
        unit: &str,
    ) {
        let mut keys: Vec<(&'static str, NodeId)> = ["index", "deposed", "deposed_key"]
            .into_iter()
            .filter_map(|k| dom.get(src, id, k).map(|n| (k, n)))
            .collect();
        // The module part of the address is cut from `address`; `module_address` repeats it.
        if let Some(n) = dom.get(src, id, "module_address") {
            keys.push(("module_address", n));
        } else if let Some(n) = dom.get(src, id, "address") {
            keys.push(("address", n));
        }
        self.address_keys(src, dom, address, section, unit, &keys);
    }

    /// Plan resource change: `{address, mode, type, name, index, change: {before, after, ...}}`.
    fn change(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str, section: &str) {
        let mut address = show_address(src, dom, id);
        self.show_address_keys(src, dom, id, &mut address, section, unit);
        let table_type = if address.mode == "data" {
            format!("data.{}", address.resource_type)
        } else {
            address.resource_type.clone()
        };
        let rows = self.engine.table.for_type(&table_type);
        let Some(change) = dom.get(src, id, "change") else {
            return;
        };
        for (side, sens) in [("before", "before_sensitive"), ("after", "after_sensitive")] {
            let Some(values) = dom.get(src, change, side) else {
                continue;
            };
            let marks = dom
                .get(src, change, sens)
                .map(|m| Marks::from_shape(src, dom, m))
                .unwrap_or_default();
            let sec = format!("{section}.{side}");
            let rel = [
                Step::Key(Cow::Borrowed("change")),
                Step::Key(Cow::Borrowed(side)),
            ];
            self.values(
                src,
                dom,
                values,
                &sec,
                &address,
                unit,
                &rel,
                &rows,
                &marks,
                Mark::PlanSensitive,
                GENERIC_FIX,
            );
        }
        for (member, rel) in [
            ("before_identity", "change/before_identity"),
            ("after_identity", "change/after_identity"),
            ("importing.identity", "change/importing/identity"),
        ] {
            let node = match member.split_once('.') {
                Some((a, b)) => dom.get(src, change, a).and_then(|n| dom.get(src, n, b)),
                None => dom.get(src, change, member),
            };
            if let Some(ident) = node {
                let sec = format!("{section}.{member}");
                self.identity(src, dom, ident, &sec, &address, unit, rel);
            }
        }
        // The ID an `import` block (or `terraform plan` with `-generate-config-out`) imports
        // the object by: an ID as a rule, but whatever the configuration wrote there (an
        // `id = var.x` with a credential in it) is kept in the plan in plaintext.
        if let Some(imported) = dom
            .get(src, change, "importing")
            .and_then(|n| dom.get(src, n, "id"))
        {
            let rel = [
                Step::Key(Cow::Borrowed("change")),
                Step::Key(Cow::Borrowed("importing")),
                Step::Key(Cow::Borrowed("id")),
            ];
            let sec = format!("{section}.importing.id");
            self.values(
                src,
                dom,
                imported,
                &sec,
                &address,
                unit,
                &rel,
                &[],
                &Marks::default(),
                Mark::PlanSensitive,
                GENERIC_FIX,
            );
        }
        // `terraform plan -generate-config-out`: the HCL Terraform wrote for an imported
        // resource, every attribute that is not marked sensitive as a literal.
        if let Some(g) = dom.get(src, change, "generated_config") {
            let rel = [
                Step::Key(Cow::Borrowed("change")),
                Step::Key(Cow::Borrowed("generated_config")),
            ];
            let sec = format!("{section}.generated_config");
            self.text(
                src,
                dom,
                g,
                &sec,
                &address,
                unit,
                &rel,
                &[],
                "the generated configuration holds the value as a literal: replace it with a reference (a write-only argument, `ephemeral \"offstate_secret_value\"`) before applying, and rotate it",
            );
        }
    }

    /// Plan `action_invocations` (Terraform 1.14+): `[{address, type, name, config_values,
    /// config_sensitive, ...}]`, the values of each invoked action's configuration, in plaintext
    /// (`config_sensitive` marks the sensitive ones). `deferred_action_invocations` wraps each in
    /// `{reason, action_invocation}`.
    fn actions(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str, deferred: bool) {
        if dom.node(id).kind != JKind::Array {
            return;
        }
        let section = if deferred {
            "deferred_action_invocations"
        } else {
            "action_invocations"
        };
        for (i, item) in dom.elements(id).enumerate() {
            let (inv, at) = if deferred {
                match dom.get(src, item, "action_invocation") {
                    Some(n) => (n, format!("{unit}/{i}/action_invocation")),
                    None => continue,
                }
            } else {
                (item, format!("{unit}/{i}"))
            };
            if dom.node(inv).kind != JKind::Object {
                continue;
            }
            let s = |k: &str| member_string(src, dom, inv, k).unwrap_or_default();
            let (rtype, name, full) = (s("type"), s("name"), s("address"));
            // The module part is what precedes `action.TYPE.NAME`; the instance key that may
            // follow is left out (its module keys are checked below, as for resources).
            let tail = format!("action.{rtype}.{name}");
            let module = full
                .find(&tail)
                .map(|i| full[..i].trim_end_matches('.').to_string())
                .unwrap_or_default();
            let mut address = Address {
                module,
                mode: "action".into(),
                resource_type: rtype,
                name,
                ..Default::default()
            };
            if let Some(n) = dom.get(src, inv, "address") {
                self.address_keys(src, dom, &mut address, section, &at, &[("address", n)]);
            }
            let Some(values) = dom.get(src, inv, "config_values") else {
                continue;
            };
            let marks = dom
                .get(src, inv, "config_sensitive")
                .map(|m| Marks::from_shape(src, dom, m))
                .unwrap_or_default();
            let rel = [Step::Key(Cow::Borrowed("config_values"))];
            self.values(
                src,
                dom,
                values,
                section,
                &address,
                &at,
                &rel,
                &[],
                &marks,
                Mark::PlanSensitive,
                GENERIC_FIX,
            );
        }
    }

    /// Condition results: `terraform show -json`'s `checks` (`[{address: {to_display}, instances:
    /// [{problems: [{message}]}]}]`) and state v4's `check_results` (`[{config_addr, objects:
    /// [{failure_messages: [..]}]}]`). Only the messages are text from the configuration; the
    /// rest is addresses and statuses. Each message is checked as free text (content rules), and
    /// the check is named by its configuration address (which has no instance keys).
    fn checks(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str, section: &str) {
        if dom.node(id).kind != JKind::Array {
            return;
        }
        let state = section == "check_results";
        for (i, check) in dom.elements(id).enumerate() {
            let config = if state {
                dom.get(src, check, "config_addr")
            } else {
                dom.get(src, check, "address")
                    .and_then(|a| dom.get(src, a, "to_display"))
            };
            let config = config
                .and_then(|n| dom.str(src, n))
                .map(|c| c.into_owned())
                .unwrap_or_default();
            let address = Address {
                mode: "check".into(),
                name: config.strip_prefix("check.").unwrap_or(&config).to_string(),
                ..Default::default()
            };
            let (objects, messages) = if state {
                ("objects", "failure_messages")
            } else {
                ("instances", "problems")
            };
            let Some(objs) = dom.get(src, check, objects) else {
                continue;
            };
            for (j, obj) in dom.elements(objs).enumerate() {
                let Some(msgs) = dom.get(src, obj, messages) else {
                    continue;
                };
                for (k, m) in dom.elements(msgs).enumerate() {
                    let mut attr = vec![
                        Step::Key(Cow::Borrowed(objects)),
                        Step::Idx(j),
                        Step::Key(Cow::Borrowed(messages)),
                        Step::Idx(k),
                    ];
                    let node = if state {
                        m
                    } else {
                        attr.push(Step::Key(Cow::Borrowed("message")));
                        match dom.get(src, m, "message") {
                            Some(n) => n,
                            None => continue,
                        }
                    };
                    let mut rel = vec![Step::Idx(i)];
                    rel.extend(attr.iter().cloned());
                    self.text(
                        src, dom, node, section, &address, unit, &rel, &attr, CHECK_FIX,
                    );
                }
            }
        }
    }

    /// One string that is free text (a message, generated configuration): content rules only,
    /// no key context. `rel` is its path below `unit`, `attr` the attribute path reported.
    #[allow(clippy::too_many_arguments)]
    fn text(
        &mut self,
        src: &[u8],
        dom: &Dom,
        node: NodeId,
        section: &str,
        address: &Address,
        unit: &str,
        rel: &[Step<'_>],
        attr: &[Step<'_>],
        fix: &'static str,
    ) {
        if !matches!(dom.node(node).kind, JKind::Str { .. }) {
            return;
        }
        let n = dom.node(node);
        let Some(value) = dom.str(src, node) else {
            self.utf8.get_or_insert((n.line, n.column));
            return;
        };
        let mut dets = Vec::new();
        self.engine.analyze(
            &value,
            &Ctx {
                row: None,
                key: None,
                mark: None,
                default_fix: fix,
            },
            &mut dets,
        );
        if dets.is_empty() {
            if value.len() >= SameValue::MIN_LEN {
                self.text_sites.push(TextSite {
                    text: value.into_owned(),
                    at: SiteAt {
                        section: section.to_string(),
                        address: address.clone(),
                        json_pointer: format!("{unit}{}", pointer(rel)),
                        attribute_path: attribute_path(attr),
                        fix,
                        pos: Pos::of(n),
                    },
                });
            }
            return;
        }
        self.dets = dets;
        self.push_dets(&Site {
            section,
            address,
            unit_pointer: unit,
            rel,
            attr,
            pos: Pos::of(n),
        });
    }

    fn output_changes(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        for (k, ch) in dom.members(id) {
            let Some(name) = dom.str(src, k) else {
                continue;
            };
            let address = Address {
                mode: "output".into(),
                name: name.to_string(),
                ..Default::default()
            };
            for (side, sens) in [("before", "before_sensitive"), ("after", "after_sensitive")] {
                let Some(values) = dom.get(src, ch, side) else {
                    continue;
                };
                let marks = dom
                    .get(src, ch, sens)
                    .map(|m| Marks::from_shape(src, dom, m))
                    .unwrap_or_default();
                let sec = format!("output_changes.{side}");
                let rel = [
                    Step::Key(Cow::Owned(name.to_string())),
                    Step::Key(Cow::Borrowed(side)),
                ];
                self.named = Some(OUTPUT_FIX);
                self.values_keyed(
                    src,
                    dom,
                    values,
                    &sec,
                    &address,
                    unit,
                    &rel,
                    &[],
                    &marks,
                    Mark::PlanSensitive,
                    OUTPUT_FIX,
                    &name,
                );
                self.named = None;
            }
        }
    }

    fn variables(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str, sensitive: &[String]) {
        for (k, var) in dom.members(id) {
            let Some(name) = dom.str(src, k) else {
                continue;
            };
            let Some(value) = dom.get(src, var, "value") else {
                continue;
            };
            let address = Address {
                mode: "variable".into(),
                name: name.to_string(),
                ..Default::default()
            };
            let marks = if sensitive.iter().any(|s| s == name.as_ref()) {
                Marks::all()
            } else {
                Marks::default()
            };
            let rel = [
                Step::Key(Cow::Owned(name.to_string())),
                Step::Key(Cow::Borrowed("value")),
            ];
            self.named = Some(VARIABLE_FIX);
            self.values_keyed(
                src,
                dom,
                value,
                "variables",
                &address,
                unit,
                &rel,
                &[],
                &marks,
                Mark::SensitiveVariable,
                VARIABLE_FIX,
                &name,
            );
            self.named = None;
        }
    }

    /// Plan `configuration`: literal `constant_value`s of resources and provider blocks, variable
    /// defaults; collects the names of sensitive root variables.
    fn configuration(
        &mut self,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        unit: &str,
        sensitive_vars: &mut Vec<String>,
    ) {
        if let Some(pc) = dom.get(src, id, "provider_config") {
            for (k, prov) in dom.members(pc) {
                let Some(key) = dom.str(src, k) else { continue };
                let name = dom
                    .get(src, prov, "name")
                    .and_then(|n| dom.str(src, n))
                    .map(|c| c.into_owned())
                    .unwrap_or_else(|| key.to_string());
                let Some(expr) = dom.get(src, prov, "expressions") else {
                    continue;
                };
                let address = Address {
                    mode: "provider".into(),
                    name: key.to_string(),
                    ..Default::default()
                };
                let rows = self.engine.table.for_type(&format!("provider.{name}"));
                let rel = [
                    Step::Key(Cow::Borrowed("provider_config")),
                    Step::Key(Cow::Owned(key.to_string())),
                    Step::Key(Cow::Borrowed("expressions")),
                ];
                self.expressions(src, dom, expr, &address, unit, &rel, &[], &rows, &[]);
            }
        }
        if let Some(root) = dom.get(src, id, "root_module") {
            if let Some(vars) = dom.get(src, root, "variables") {
                for (k, v) in dom.members(vars) {
                    if dom
                        .get(src, v, "sensitive")
                        .is_some_and(|n| dom.node(n).kind == JKind::Bool(true))
                    {
                        if let Some(n) = dom.str(src, k) {
                            sensitive_vars.push(n.into_owned());
                        }
                    }
                }
            }
            let rel = vec![Step::Key(Cow::Borrowed("root_module"))];
            self.config_module(src, dom, root, unit, rel, String::new());
        }
    }

    /// A literal in a module's configuration: `decl` is the block (a variable or an output)
    /// named `name` under the module's `section`, `value` its literal at `tail` below it. It is
    /// read as the `configuration` section, marked sensitive as a whole when the block says
    /// `sensitive = true`.
    #[allow(clippy::too_many_arguments)]
    fn config_literal<'s>(
        &mut self,
        src: &'s [u8],
        dom: &Dom,
        decl: NodeId,
        value: NodeId,
        unit: &str,
        rel: &[Step<'s>],
        module_addr: &str,
        mode: &str,
        section: &'static str,
        name: &str,
        tail: &[&'static str],
        mark: Mark,
        fix: &str,
    ) {
        let (address, marks) = declared(src, dom, decl, module_addr, mode, name);
        let mut rel2 = rel.to_vec();
        rel2.push(Step::Key(Cow::Borrowed(section)));
        rel2.push(Step::Key(Cow::Owned(name.to_string())));
        rel2.extend(tail.iter().map(|t| Step::Key(Cow::Borrowed(*t))));
        self.values_keyed(
            src,
            dom,
            value,
            "configuration",
            &address,
            unit,
            &rel2,
            &[],
            &marks,
            mark,
            fix,
            name,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn config_module<'s>(
        &mut self,
        src: &'s [u8],
        dom: &Dom,
        module: NodeId,
        unit: &str,
        rel: Vec<Step<'s>>,
        module_addr: String,
    ) {
        if let Some(res) = dom.get(src, module, "resources") {
            for (i, r) in dom.elements(res).enumerate() {
                let (address, table_type) = resource_head(src, dom, r, module_addr.clone());
                let exprs = dom.get(src, r, "expressions");
                // A row with a condition (`type=SecureString`) is left out when the condition's
                // argument is a literal that says otherwise; an argument computed from a
                // reference could say anything, so the row stays.
                let rows: Vec<&Row> = self
                    .engine
                    .table
                    .for_type(&table_type)
                    .into_iter()
                    .filter(|row| {
                        row.when.as_ref().is_none_or(|(k, v)| {
                            exprs
                                .and_then(|e| dom.get(src, e, k))
                                .and_then(|e| dom.get(src, e, "constant_value"))
                                .is_none_or(|n| dom.str(src, n).is_some_and(|s| s == v.as_str()))
                        })
                    })
                    .collect();
                let mut rel_r = rel.clone();
                rel_r.push(Step::Key(Cow::Borrowed("resources")));
                rel_r.push(Step::Idx(i));
                if let Some(expr) = exprs {
                    let mut rel2 = rel_r.clone();
                    rel2.push(Step::Key(Cow::Borrowed("expressions")));
                    self.expressions(src, dom, expr, &address, unit, &rel2, &[], &rows, &[]);
                }
                self.meta_expressions(src, dom, r, &address, unit, &rel_r);
                // A provisioner's arguments (`local-exec` commands, `remote-exec` inline
                // scripts) are in no state and no planned value: this literal is their only
                // copy in the plan. Terraform's JSON config has `{type, expressions}` per
                // provisioner and no `connection` block (jsonconfig `provisioner`).
                if let Some(provs) = dom.get(src, r, "provisioners") {
                    for (j, prov) in dom.elements(provs).enumerate() {
                        let Some(expr) = dom.get(src, prov, "expressions") else {
                            continue;
                        };
                        let mut rel2 = rel_r.clone();
                        rel2.push(Step::Key(Cow::Borrowed("provisioners")));
                        rel2.push(Step::Idx(j));
                        rel2.push(Step::Key(Cow::Borrowed("expressions")));
                        self.expressions(src, dom, expr, &address, unit, &rel2, &[], &[], &[]);
                    }
                }
            }
        }
        if let Some(vars) = dom.get(src, module, "variables") {
            for (k, v) in dom.members(vars) {
                let Some(name) = dom.str(src, k) else {
                    continue;
                };
                let Some(def) = dom.get(src, v, "default") else {
                    continue;
                };
                self.config_literal(
                    src,
                    dom,
                    v,
                    def,
                    unit,
                    &rel,
                    &module_addr,
                    "variable",
                    "variables",
                    &name,
                    &["default"],
                    Mark::SensitiveVariable,
                    VARIABLE_FIX,
                );
            }
        }
        // `output "x" { value = "literal" }`: the literal is in the plan here, in every module,
        // whether or not the output is ever stored.
        if let Some(outs) = dom.get(src, module, "outputs") {
            for (k, o) in dom.members(outs) {
                let Some(name) = dom.str(src, k) else {
                    continue;
                };
                let Some(cv) = dom
                    .get(src, o, "expression")
                    .and_then(|e| dom.get(src, e, "constant_value"))
                else {
                    continue;
                };
                self.config_literal(
                    src,
                    dom,
                    o,
                    cv,
                    unit,
                    &rel,
                    &module_addr,
                    "output",
                    "outputs",
                    &name,
                    &["expression", "constant_value"],
                    Mark::SensitiveOutput,
                    // The literal is in the configuration: only moving it out of the
                    // configuration takes it out of the plan.
                    GENERIC_FIX,
                );
            }
        }
        if let Some(calls) = dom.get(src, module, "module_calls") {
            for (k, call) in dom.members(calls) {
                let Some(name) = dom.str(src, k) else {
                    continue;
                };
                let addr = if module_addr.is_empty() {
                    format!("module.{name}")
                } else {
                    format!("{module_addr}.module.{name}")
                };
                let mut rel_c = rel.clone();
                rel_c.push(Step::Key(Cow::Borrowed("module_calls")));
                rel_c.push(Step::Key(Cow::Owned(name.to_string())));
                let child = dom.get(src, call, "module");
                // `module.gh`: the call, printed as Terraform names it (pseudo mode `module`,
                // like `provider` and `variable`); the input is the attribute.
                let address = Address {
                    module: module_addr.clone(),
                    mode: "module".into(),
                    name: name.to_string(),
                    ..Default::default()
                };
                // Module inputs: a literal passed to a module (that perhaps only feeds a
                // provider block inside it) is in the plan only here. The child declares
                // which of its variables are sensitive.
                if let Some(expr) = dom.get(src, call, "expressions") {
                    let sensitive: Vec<String> = child
                        .and_then(|m| dom.get(src, m, "variables"))
                        .map(|vars| {
                            dom.members(vars)
                                .filter(|(_, v)| {
                                    dom.get(src, *v, "sensitive")
                                        .is_some_and(|n| dom.node(n).kind == JKind::Bool(true))
                                })
                                .filter_map(|(k, _)| dom.str(src, k).map(|n| n.into_owned()))
                                .collect()
                        })
                        .unwrap_or_default();
                    let mut rel2 = rel_c.clone();
                    rel2.push(Step::Key(Cow::Borrowed("expressions")));
                    self.expressions(src, dom, expr, &address, unit, &rel2, &[], &[], &sensitive);
                }
                self.meta_expressions(src, dom, call, &address, unit, &rel_c);
                let Some(m) = child else {
                    continue;
                };
                let mut rel2 = rel_c;
                rel2.push(Step::Key(Cow::Borrowed("module")));
                self.config_module(src, dom, m, unit, rel2, addr);
            }
        }
    }

    /// A resource's or module call's `count` and `for_each` (`count_expression`,
    /// `for_each_expression`, next to `expressions`): a literal map or list given to `for_each`
    /// is in the plan here as well as in every instance that uses `each.value`. `rel` points at
    /// the resource or call.
    fn meta_expressions<'s>(
        &mut self,
        src: &'s [u8],
        dom: &Dom,
        owner: NodeId,
        address: &Address,
        unit: &str,
        rel: &[Step<'s>],
    ) {
        for meta in ["count_expression", "for_each_expression"] {
            if let Some(expr) = dom.get(src, owner, meta) {
                let seed = [Step::Key(Cow::Borrowed(meta))];
                self.expressions(src, dom, expr, address, unit, rel, &seed, &[], &[]);
            }
        }
    }

    /// Expressions of a configuration block at `id`, which is at `rel` + `seed` (a block that is
    /// not keyed by argument is given its member name as `seed`): only `constant_value`s hold
    /// values. An argument named in `sensitive` (a module input whose variable is declared
    /// sensitive) is marked.
    #[allow(clippy::too_many_arguments)]
    fn expressions<'s>(
        &mut self,
        src: &'s [u8],
        dom: &Dom,
        id: NodeId,
        address: &Address,
        unit: &str,
        rel: &[Step<'s>],
        seed: &[Step<'s>],
        rows: &[&Row],
        sensitive: &[String],
    ) {
        let engine = self.engine;
        let mut path: Vec<Step<'s>> = seed.to_vec();
        let mut bad: Option<(u32, u32)> = None;
        let mut hits: Vec<ExprHit<'s>> = Vec::new();
        walk_nodes(
            src,
            dom,
            id,
            &mut path,
            &mut Vec::new(),
            None,
            &mut |path, _, key, node| {
                // keep only leaves under a constant_value
                let Some(cv) = path
                    .iter()
                    .position(|s| matches!(s, Step::Key(k) if k == "constant_value"))
                else {
                    return;
                };
                let Some(value) = dom.str(src, node) else {
                    let n = dom.node(node);
                    bad.get_or_insert((n.line, n.column));
                    return;
                };
                let attr: Vec<Step<'s>> = path
                    .iter()
                    .enumerate()
                    .filter(|(i, s)| {
                        *i != cv && !matches!(s, Step::Idx(_))
                            || (*i > cv && matches!(s, Step::Idx(_)))
                    })
                    .map(|(_, s)| s.clone())
                    .collect();
                let keys: Vec<&str> = path[..cv]
                    .iter()
                    .filter_map(|s| match s {
                        Step::Key(k) => Some(k.as_ref()),
                        _ => None,
                    })
                    .collect();
                let row = Table::lookup(rows, &keys);
                let key = if cv + 1 == path.len() {
                    keys.last().copied()
                } else {
                    key
                };
                let marked = matches!(path.first(), Some(Step::Key(k))
                    if sensitive.iter().any(|s| s == k.as_ref()));
                let mut dets = Vec::new();
                engine.analyze(
                    &value,
                    &Ctx {
                        row,
                        key,
                        mark: marked.then_some(Mark::SensitiveVariable),
                        // The literal is in the configuration itself: declaring the child's
                        // variable ephemeral would not take it out of the plan.
                        default_fix: GENERIC_FIX,
                    },
                    &mut dets,
                );
                if !dets.is_empty() {
                    let n = dom.node(node);
                    hits.push((path.to_vec(), attr, Pos::of(n), dets));
                }
            },
        );
        if bad.is_some() && self.utf8.is_none() {
            self.utf8 = bad;
        }
        for (path, attr, pos, dets) in hits {
            let mut r: Vec<Step<'_>> = rel.to_vec();
            r.extend(path.iter().cloned());
            self.dets = dets;
            self.push_dets(&Site {
                section: "configuration",
                address,
                unit_pointer: unit,
                rel: &r,
                attr: &attr,
                pos,
            });
        }
    }

    /// Backend cache `.terraform/terraform.tfstate`: `{backend: {type, config}}`.
    fn backend(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        let btype = dom
            .get(src, id, "type")
            .and_then(|n| dom.str(src, n))
            .map(|c| c.into_owned())
            .unwrap_or_default();
        let Some(config) = dom.get(src, id, "config") else {
            return;
        };
        let address = Address {
            mode: "backend".into(),
            resource_type: btype.clone(),
            ..Default::default()
        };
        let rows = self.engine.table.for_type(&format!("backend.{btype}"));
        let rel = [Step::Key(Cow::Borrowed("config"))];
        self.values(
            src,
            dom,
            config,
            "backend",
            &address,
            unit,
            &rel,
            &rows,
            &Marks::default(),
            Mark::SensitiveAttributes,
            "pass backend credentials through environment variables, not -backend-config",
        );
    }

    /// Backend cache with a state store: `{state_store: {type, config, provider: {source,
    /// version, config}}}`. Both configs are what `init` was given, credentials included: the
    /// store's own, and those of the provider block nested in it (read with the provider's rows).
    fn state_store(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        const FIX: &str = "pass state store and provider credentials through environment variables, not in the state_store block or -backend-config";
        let stype = member_string(src, dom, id, "type").unwrap_or_default();
        let address = Address {
            mode: "state_store".into(),
            resource_type: stype,
            ..Default::default()
        };
        if let Some(config) = dom.get(src, id, "config") {
            let rel = [Step::Key(Cow::Borrowed("config"))];
            self.values(
                src,
                dom,
                config,
                "state_store",
                &address,
                unit,
                &rel,
                &[],
                &Marks::default(),
                Mark::SensitiveAttributes,
                FIX,
            );
        }
        let Some(provider) = dom.get(src, id, "provider") else {
            return;
        };
        let Some(config) = dom.get(src, provider, "config") else {
            return;
        };
        // `registry.terraform.io/hashicorp/aws` -> `aws`.
        let name = member_string(src, dom, provider, "source")
            .and_then(|s| s.rsplit('/').next().map(str::to_string))
            .unwrap_or_default();
        let rows = self.engine.table.for_type(&format!("provider.{name}"));
        let rel = [
            Step::Key(Cow::Borrowed("provider")),
            Step::Key(Cow::Borrowed("config")),
        ];
        self.values(
            src,
            dom,
            config,
            "state_store.provider",
            &address,
            unit,
            &rel,
            &rows,
            &Marks::default(),
            Mark::SensitiveAttributes,
            FIX,
        );
    }

    /// State v3 module: `{path, outputs, resources: {"type.name.N": {type, primary: {attributes}}}}`.
    fn v3_module(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        let module = dom
            .get(src, id, "path")
            .map(|p| {
                dom.elements(p)
                    .skip(1)
                    .filter_map(|n| dom.str(src, n))
                    .map(|n| format!("module.{n}"))
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .unwrap_or_default();
        // A v3 state keeps every module's outputs (v4 only the root module's): a child module's
        // output of a password is in the file as plainly as a root one.
        if let Some(outs) = dom.get(src, id, "outputs") {
            self.outputs(
                src,
                dom,
                outs,
                &format!("{unit}/outputs"),
                "outputs",
                &module,
            );
        }
        let Some(res) = dom.get(src, id, "resources") else {
            return;
        };
        let at = || format!("{unit}/resources");
        if !self.expect(
            dom,
            res,
            JKind::Object,
            true,
            at,
            "`resources` is an object",
        ) {
            return;
        }
        for (k, r) in dom.members(res) {
            let Some(key) = dom.str(src, k) else { continue };
            let mut parts: Vec<&str> = key.split('.').collect();
            let mode = if parts.first() == Some(&"data") {
                parts.remove(0);
                "data"
            } else {
                "managed"
            };
            let index_key = (parts.len() == 3).then(|| parts[2].to_string());
            let rtype = dom
                .get(src, r, "type")
                .and_then(|n| dom.str(src, n))
                .map(|c| c.into_owned())
                .unwrap_or_else(|| parts.first().unwrap_or(&"").to_string());
            let address = Address {
                module: module.clone(),
                mode: mode.into(),
                resource_type: rtype.clone(),
                name: parts.get(1).unwrap_or(&"").to_string(),
                index_key,
                deposed: None,
                masked: vec![],
            };
            let table_type = if mode == "data" {
                format!("data.{rtype}")
            } else {
                rtype
            };
            let rows = self.engine.table.for_type(&table_type);
            let mut rp = String::new();
            crate::json::push_pointer_token(&mut rp, &key);
            // `primary`, then the deposed objects (a create_before_destroy replacement whose old
            // object is still there: the same attributes, often the old password). v3 gives
            // them no key; Terraform makes one up when it upgrades the state, so the address
            // shows the position.
            let mut objects: Vec<(NodeId, String, Address)> = Vec::new();
            if let Some(primary) = dom.get(src, r, "primary") {
                objects.push((
                    primary,
                    format!("{unit}/resources/{rp}/primary"),
                    address.clone(),
                ));
            }
            if let Some(deposed) = dom.get(src, r, "deposed") {
                for (i, obj) in dom.elements(deposed).enumerate() {
                    objects.push((
                        obj,
                        format!("{unit}/resources/{rp}/deposed/{i}"),
                        Address {
                            deposed: Some(i.to_string()),
                            ..address.clone()
                        },
                    ));
                }
            }
            for (obj, up, address) in objects {
                if dom.node(obj).kind != JKind::Object {
                    continue;
                }
                if let Some(idn) = dom.get(src, obj, "id") {
                    let rel = [Step::Key(Cow::Borrowed("id"))];
                    self.values_keyed(
                        src,
                        dom,
                        idn,
                        "resources",
                        &address,
                        &up,
                        &rel,
                        &[],
                        &Marks::default(),
                        Mark::SensitiveAttributes,
                        GENERIC_FIX,
                        "id",
                    );
                }
                let before = self.findings.len();
                if let Some(attrs) = dom.get(src, obj, "attributes") {
                    self.flat(
                        src,
                        dom,
                        attrs,
                        "resources",
                        &address,
                        &format!("{up}/attributes"),
                        &rows,
                    );
                }
                // `primary.id` repeats `attributes.id` (`random_string`'s id is its result): as
                // secret as that, which `flat` saw with the rest of the instance.
                let same_id = match (
                    dom.get(src, obj, "id").and_then(|n| dom.str(src, n)),
                    dom.get(src, obj, "attributes")
                        .and_then(|a| dom.get(src, a, "id"))
                        .and_then(|n| dom.str(src, n)),
                ) {
                    (Some(a), Some(b)) => ct_eq(a.as_bytes(), b.as_bytes()),
                    _ => false,
                };
                let id_ptr = format!("{up}/id");
                if same_id && !self.findings.iter().any(|f| f.json_pointer == id_ptr) {
                    let attr_id = format!("{up}/attributes/id");
                    if let Some(f) = self.findings[before..]
                        .iter()
                        .filter(|f| f.json_pointer == attr_id && f.inner_pointer.is_none())
                        .max_by_key(|f| (f.severity, f.confidence))
                    {
                        let n = dom.node(dom.get(src, obj, "id").expect("compared above"));
                        let mut f = f.clone();
                        f.json_pointer = id_ptr;
                        f.attribute_path = String::new();
                        f.line = n.line;
                        f.column = n.column;
                        f.set_fingerprints(self.fp_key);
                        self.findings.push(f);
                    }
                }
            }
        }
    }
}

/// Callback of [`walk_nodes`]: path, the indices in it of the `value` steps of dynamic values
/// (see [`is_dynamic_value`]), key context, string node.
type NodeFn<'f, 's> = dyn FnMut(&[Step<'s>], &[usize], Option<&str>, NodeId) + 'f;

/// A value found in configuration expressions: path, attribute path, position, detections.
type ExprHit<'s> = (Vec<Step<'s>>, Vec<Step<'s>>, Pos, Vec<Detection>);

/// Is `id` a value of type `dynamic` as state v4 stores it: `{"value": V, "type": T}` with T a cty
/// type (`"string"`, `["object", {...}]`, ...)? `terraform_data.input`/`output`, a
/// `kubernetes_manifest`'s `manifest`, `terraform_remote_state.outputs`. T is never a secret, and
/// Terraform's paths (`sensitive_attributes`) do not name the `value` step.
pub fn is_dynamic_value(src: &[u8], dom: &Dom, id: NodeId) -> bool {
    if dom.node(id).kind != JKind::Object || dom.len(id) != 2 || dom.get(src, id, "value").is_none()
    {
        return false;
    }
    let Some(t) = dom.get(src, id, "type") else {
        return false;
    };
    let head = match dom.node(t).kind {
        JKind::Str { .. } => Some(t),
        JKind::Array => dom.elements(t).next(),
        _ => None,
    };
    let Some(name) = head.and_then(|h| dom.str(src, h)) else {
        return false;
    };
    match dom.node(t).kind {
        JKind::Array => matches!(name.as_ref(), "list" | "set" | "map" | "object" | "tuple"),
        _ => matches!(name.as_ref(), "string" | "number" | "bool" | "dynamic"),
    }
}

/// Visit string leaves with their node ids (for positions). `over` is the key context given by a
/// `{"name": K, "value": V}` pair; otherwise the callback uses the last key of the path. The type
/// of a dynamic value is not visited, and its value has the attribute's name as key context.
fn walk_nodes<'s>(
    src: &'s [u8],
    dom: &Dom,
    id: NodeId,
    path: &mut Vec<Step<'s>>,
    dynamic: &mut Vec<usize>,
    over: Option<&str>,
    f: &mut NodeFn<'_, 's>,
) {
    walk_leaves(src, dom, id, path, dynamic, over, Leaf::String, f)
}

/// Which leaves [`walk_leaves`] visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaf {
    String,
    Number,
}

/// [`walk_nodes`] over the leaves of one JSON type.
#[allow(clippy::too_many_arguments)]
fn walk_leaves<'s>(
    src: &'s [u8],
    dom: &Dom,
    id: NodeId,
    path: &mut Vec<Step<'s>>,
    dynamic: &mut Vec<usize>,
    over: Option<&str>,
    leaf: Leaf,
    f: &mut NodeFn<'_, 's>,
) {
    match dom.node(id).kind {
        JKind::Str { .. } if leaf == Leaf::String => {
            let key = over.or_else(|| last_key(path));
            f(path, dynamic, key, id)
        }
        JKind::Number if leaf == Leaf::Number => {
            let key = over.or_else(|| last_key(path));
            f(path, dynamic, key, id)
        }
        JKind::Array => {
            for (i, el) in dom.elements(id).enumerate() {
                path.push(Step::Idx(i));
                walk_leaves(src, dom, el, path, dynamic, over, leaf, f);
                path.pop();
            }
        }
        JKind::Object if is_dynamic_value(src, dom, id) => {
            let Some(v) = dom.get(src, id, "value") else {
                return;
            };
            let key = over.or_else(|| last_key(path)).map(str::to_string);
            dynamic.push(path.len());
            path.push(Step::Key(Cow::Borrowed("value")));
            walk_leaves(src, dom, v, path, dynamic, key.as_deref(), leaf, f);
            path.pop();
            dynamic.pop();
        }
        JKind::Object => {
            let pair_name = if dom.len(id) <= 4 && !crate::detect::pair_is_reference(src, dom, id) {
                ["name", "Name", "key", "Key"]
                    .iter()
                    .find_map(|k| dom.get(src, id, k))
                    .and_then(|n| dom.str(src, n))
            } else {
                None
            };
            for (k, v) in dom.members(id) {
                let Some(kname) = dom.str(src, k) else {
                    continue;
                };
                let is_value = matches!(kname.as_ref(), "value" | "Value");
                path.push(Step::Key(kname));
                let o = if is_value { pair_name.as_deref() } else { None };
                walk_leaves(src, dom, v, path, dynamic, o, leaf, f);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The path of a flatmap key (`a.0.b`).
fn flat_steps(key: &str) -> Vec<Step<'static>> {
    key.split('.')
        .map(|s| match s.parse::<usize>() {
            Ok(i) => Step::Idx(i),
            Err(_) => Step::Key(Cow::Owned(s.to_string())),
        })
        .collect()
}

fn last_key<'a>(path: &'a [Step<'_>]) -> Option<&'a str> {
    path.iter().rev().find_map(|s| match s {
        Step::Key(k) => Some(k.as_ref()),
        Step::Idx(_) => None,
    })
}

/// A string member of the object `id`, if it is one.
fn member_string(src: &[u8], dom: &Dom, id: NodeId, key: &str) -> Option<String> {
    dom.get(src, id, key)
        .and_then(|n| dom.str(src, n))
        .map(|c| c.into_owned())
}

/// A resource object's address (no instance key yet) from its `mode`, `type` and `name`, and the
/// type its attribute table rows are kept under (`data.T` for a data source). State v4
/// resources and a plan's `configuration` resources share this shape.
fn resource_head(src: &[u8], dom: &Dom, id: NodeId, module: String) -> (Address, String) {
    let mode = member_string(src, dom, id, "mode").unwrap_or_else(|| "managed".into());
    let resource_type = member_string(src, dom, id, "type").unwrap_or_default();
    let table_type = if mode == "data" {
        format!("data.{resource_type}")
    } else {
        resource_type.clone()
    };
    let address = Address {
        module,
        mode,
        resource_type,
        name: member_string(src, dom, id, "name").unwrap_or_default(),
        index_key: None,
        deposed: None,
        masked: vec![],
    };
    (address, table_type)
}

fn index_display(src: &[u8], dom: &Dom, id: NodeId) -> String {
    match dom.node(id).kind {
        JKind::Str { .. } => {
            serde_json::to_string(dom.str(src, id).as_deref().unwrap_or("")).unwrap_or_default()
        }
        _ => dom.raw(src, id).to_string(),
    }
}

fn show_address(src: &[u8], dom: &Dom, id: NodeId) -> Address {
    let s = |k: &str| {
        dom.get(src, id, k)
            .and_then(|n| dom.str(src, n))
            .map(|c| c.into_owned())
    };
    let mode = s("mode").unwrap_or_else(|| "managed".into());
    let rtype = s("type").unwrap_or_default();
    let name = s("name").unwrap_or_default();
    let full = s("address").unwrap_or_default();
    // The module part is what precedes `[data.]type.name` in the address.
    let tail = if mode == "data" {
        format!("data.{rtype}.{name}")
    } else {
        format!("{rtype}.{name}")
    };
    let module = full
        .find(&tail)
        .map(|i| full[..i].trim_end_matches('.').to_string())
        .unwrap_or_default();
    Address {
        module,
        mode,
        resource_type: rtype,
        name,
        index_key: dom
            .get(src, id, "index")
            .map(|k| index_display(src, dom, k)),
        deposed: s("deposed").or_else(|| s("deposed_key")),
        masked: vec![],
    }
}

/// Whether `pointer` is a resource instance's `id`: what every SDKv2 provider reads, imports and
/// deletes the resource by. State v4 `attributes`/`attributes_flat`, v3 `primary`/`deposed` and
/// their `attributes`; in `show -json` output, a resource's `values` (state, `planned_values`,
/// `prior_state`, any module depth) and a change's `before`/`after`. Also every member of a
/// resource identity (Terraform 1.12+), which is the same kind of name.
pub(crate) fn is_id_attribute(pointer: &str) -> bool {
    let tokens = crate::scrub::rewrite::pointer_tokens(pointer);
    let t: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let v4 = ["attributes", "attributes_flat"];
    match t.as_slice() {
        ["resources", _, "instances", _, "identity", ..] => true,
        ["resources", _, "instances", _, attrs, "id"] => v4.contains(attrs),
        ["modules", _, "resources", _, "primary" | "deposed", "id"]
        | ["modules", _, "resources", _, "primary", "attributes", "id"]
        | ["modules", _, "resources", _, "deposed", _, "id"]
        | ["modules", _, "resources", _, "deposed", _, "attributes", "id"]
        | [.., "resources", _, "values", "id"]
        | ["resource_changes" | "resource_drift", _, "change", "before" | "after", "id"]
        | ["deferred_changes", _, "resource_change", "change", "before" | "after", "id"] => true,
        // A resource identity (1.12+) is what the provider finds the object by, every member
        // (the arm above: a state instance's): a show resource's `identity`, a change's
        // `before_identity` etc.
        _ => (0..t.len()).any(|i| {
            let at = |j: usize, s: &str| t.get(i + j) == Some(&s);
            (at(0, "resources") && at(2, "identity"))
                || (at(0, "change")
                    && (at(1, "before_identity")
                        || at(1, "after_identity")
                        || (at(1, "importing") && (at(2, "identity") || at(2, "id")))))
        }),
    }
}

/// The content rule for AWS access key IDs (`AKIA...`), which identify a key without being one.
const AWS_ACCESS_KEY_ID_RULE: &str = "aws-access-key-id";

/// Rule id of a value found secret because it equals one found secret in the same instance.
pub const SAME_VALUE_RULE: &str = "same-value";

/// The values found secret in one resource instance, to recognise the same value elsewhere in it.
/// Values are compared by their per-run salted digest (`value_group`), in constant time, and only
/// where the lengths match (the length is in every finding's preview anyway).
#[derive(Default)]
struct SameValue {
    /// (length in bytes, digest, where in the instance, why it is a secret)
    sources: Vec<(usize, String, String, Detection)>,
}

impl SameValue {
    /// Shorter values are too likely to recur by chance (`true`, a port, a region).
    const MIN_LEN: usize = 8;

    fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    fn add(&mut self, attr: &str, dets: &[Detection]) {
        for d in dets.iter().filter(|d| d.value_len >= Self::MIN_LEN) {
            let at = match &d.inner_pointer {
                Some(p) => format!("`{attr}` (at {p} inside it)"),
                None => format!("`{attr}`"),
            };
            self.sources
                .push((d.value_len, d.value_group.clone(), at, d.clone()));
        }
    }

    /// A detection for `value` if it equals a source.
    fn check(&self, engine: &Engine, value: &str) -> Option<Detection> {
        if value.len() < Self::MIN_LEN || !self.sources.iter().any(|s| s.0 == value.len()) {
            return None;
        }
        let digest = engine.value_digest(value);
        let (_, _, at, src) = self
            .sources
            .iter()
            .filter(|s| s.0 == value.len() && ct_eq(s.1.as_bytes(), digest.as_bytes()))
            .max_by_key(|s| (s.3.severity, s.3.confidence))?;
        let mut reasons = vec![format!(
            "layer {}: the same value as {at} in this resource instance (equal salted digests), which is a secret:",
            src.layer.number()
        )];
        reasons.extend(src.reasons.iter().map(|r| format!("{at}: {r}")));
        Some(Detection {
            value_type: crate::finding::ValueType::String,
            layer: src.layer,
            rule_id: SAME_VALUE_RULE.to_string(),
            rule_name: "same value as a secret in this resource instance".to_string(),
            kind: src.kind,
            severity: src.severity,
            confidence: src.confidence,
            reasons,
            fix: src.fix.clone(),
            inner_pointer: None,
            inner_identity: None,
            decoded: vec![],
            preview: crate::finding::preview(value),
            value_group: digest,
            value_len: value.len(),
        })
    }
}

/// Equality that takes the same time wherever the inputs differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Paths the artifact marks sensitive. `all` marks everything below the unit.
#[derive(Debug, Default)]
pub struct Marks {
    all: bool,
    paths: Vec<Vec<MarkStep>>,
}

#[derive(Debug, Clone, PartialEq)]
enum MarkStep {
    Key(String),
    Idx(usize),
}

impl Marks {
    fn all() -> Marks {
        Marks {
            all: true,
            paths: vec![],
        }
    }
    fn is_empty(&self) -> bool {
        !self.all && self.paths.is_empty()
    }

    /// `sensitive_attributes`: `[[{"type":"get_attr","value":"a"},{"type":"index","value":{"value":0,"type":"number"}}]]`.
    fn from_state(src: &[u8], dom: &Dom, id: NodeId) -> Marks {
        let mut m = Marks::default();
        for path in dom.elements(id) {
            let mut steps = Vec::new();
            for step in dom.elements(path) {
                let ty = dom.get(src, step, "type").and_then(|n| dom.str(src, n));
                let Some(v) = dom.get(src, step, "value") else {
                    continue;
                };
                match ty.as_deref() {
                    Some("get_attr") => {
                        if let Some(s) = dom.str(src, v) {
                            steps.push(MarkStep::Key(s.into_owned()));
                        }
                    }
                    Some("index") => {
                        let inner = dom.get(src, v, "value").unwrap_or(v);
                        match dom.node(inner).kind {
                            JKind::Number => steps.push(MarkStep::Idx(
                                dom.raw(src, inner).parse().unwrap_or(usize::MAX),
                            )),
                            JKind::Str { .. } => {
                                if let Some(s) = dom.str(src, inner) {
                                    steps.push(MarkStep::Key(s.into_owned()));
                                }
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            if steps.is_empty() {
                m.all = true;
            } else {
                m.paths.push(steps);
            }
        }
        m
    }

    /// `sensitive_values` / `*_sensitive`: a shape with `true` at sensitive subtrees.
    fn from_shape(src: &[u8], dom: &Dom, id: NodeId) -> Marks {
        let mut m = Marks::default();
        let mut path = Vec::new();
        fn rec(src: &[u8], dom: &Dom, id: NodeId, path: &mut Vec<MarkStep>, m: &mut Marks) {
            match dom.node(id).kind {
                JKind::Bool(true) => {
                    if path.is_empty() {
                        m.all = true;
                    } else {
                        m.paths.push(path.clone());
                    }
                }
                JKind::Object => {
                    for (k, v) in dom.members(id) {
                        if let Some(k) = dom.str(src, k) {
                            path.push(MarkStep::Key(k.into_owned()));
                            rec(src, dom, v, path, m);
                            path.pop();
                        }
                    }
                }
                JKind::Array => {
                    for (i, v) in dom.elements(id).enumerate() {
                        path.push(MarkStep::Idx(i));
                        rec(src, dom, v, path, m);
                        path.pop();
                    }
                }
                _ => {}
            }
        }
        rec(src, dom, id, &mut path, &mut m);
        m
    }

    /// Does a mark cover the leaf at `path`? Marks are Terraform's paths, which do not name the
    /// `value` step of a dynamic value (`dynamic`: indices of those steps in `path`), so the path is
    /// matched both as written and without those steps.
    fn covers(&self, path: &[Step<'_>], dynamic: &[usize]) -> bool {
        if self.all {
            return true;
        }
        self.covers_steps(path.iter().map(StepRef::of))
            || (!dynamic.is_empty() && self.covers_steps(cty_path(path, dynamic)))
    }

    /// Does a mark name the leaf at `path` itself (not an object or list above it)? `all` names
    /// the unit, which is a leaf only when `path` is empty (an output or variable whose value is
    /// a number).
    fn covers_exactly(&self, path: &[Step<'_>], dynamic: &[usize]) -> bool {
        let exact = |steps: &mut dyn Iterator<Item = StepRef<'_>>| {
            let steps: Vec<StepRef<'_>> = steps.collect();
            (self.all && steps.is_empty())
                || self.paths.iter().any(|mp| {
                    mp.len() == steps.len()
                        && mp.iter().zip(&steps).all(|(m, s)| match (m, s) {
                            (MarkStep::Key(x), StepRef::Key(y)) => x == y,
                            (MarkStep::Idx(x), StepRef::Idx(y)) => x == y,
                            _ => false,
                        })
                })
        };
        exact(&mut path.iter().map(StepRef::of))
            || (!dynamic.is_empty() && exact(&mut cty_path(path, dynamic)))
    }

    fn covers_steps<'a>(&self, steps: impl Iterator<Item = StepRef<'a>> + Clone) -> bool {
        self.all
            || self.paths.iter().any(|mp| {
                let mut it = steps.clone();
                mp.iter().all(|m| match (m, it.next()) {
                    (MarkStep::Key(x), Some(StepRef::Key(y))) => x == y,
                    (MarkStep::Idx(x), Some(StepRef::Idx(y))) => *x == y,
                    _ => false,
                })
            })
    }

    /// For a row that mirrors another attribute (`sensitive:ATTR`): is the counterpart of the leaf
    /// at `path` under ATTR marked? `terraform_data.output.value.password` (Terraform's path
    /// `output.password`) mirrors `input.password`.
    fn covers_mirror(&self, row: &Row, path: &[Step<'_>], dynamic: &[usize]) -> bool {
        let Some(from) = &row.when_sensitive else {
            return false;
        };
        if self.is_empty() {
            return false;
        }
        // Consume the row's keys (and the indices between them) from Terraform's path.
        let mut rest = cty_path(path, dynamic).peekable();
        for k in &row.path {
            while matches!(rest.peek(), Some(StepRef::Idx(_))) {
                rest.next();
            }
            if rest.next() != Some(StepRef::Key(k)) {
                return false;
            }
        }
        self.covers_steps(from.iter().map(|k| StepRef::Key(k)).chain(rest))
    }
}

/// A borrowed path step, for comparing paths without building them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum StepRef<'a> {
    Key(&'a str),
    Idx(usize),
}

impl<'a> StepRef<'a> {
    fn of(s: &'a Step<'_>) -> StepRef<'a> {
        match s {
            Step::Key(k) => StepRef::Key(k.as_ref()),
            Step::Idx(i) => StepRef::Idx(*i),
        }
    }
}

/// Terraform's path of a leaf: `path` without the `value` steps of dynamic values.
fn cty_path<'a>(
    path: &'a [Step<'_>],
    dynamic: &'a [usize],
) -> impl Iterator<Item = StepRef<'a>> + Clone {
    path.iter()
        .enumerate()
        .filter(|(i, _)| !dynamic.contains(i))
        .map(|(_, s)| StepRef::of(s))
}

/// The note on a plan read out of setup-terraform's wrapper output.
const WRAPPER_NOTE: &str = "read as the output of hashicorp/setup-terraform's wrapper: its `[command]` line was read for `-var` and `-backend-config` values, and its `::` workflow-command lines were left out (set `terraform_wrapper: false` to save the plan alone)";

const COMMAND_VAR_FIX: &str = "do not pass secrets with `-var` on the command line (hashicorp/setup-terraform's wrapper echoes it into the saved output, and CI logs keep it): set `TF_VAR_<name>` from a secret store, declare the variable `ephemeral = true` (Terraform >= 1.10), and rotate the value";
const COMMAND_BACKEND_FIX: &str = "do not pass backend credentials with `-backend-config` on the command line (hashicorp/setup-terraform's wrapper echoes it into the saved output, and the backend cache keeps it): use the backend's environment variables or an instance role, and rotate the credential";

/// The flags of a `[command]` line whose `NAME=VALUE` may carry a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CommandFlag {
    Var,
    BackendConfig,
}

impl CommandFlag {
    fn as_str(self) -> &'static str {
        match self {
            CommandFlag::Var => "-var",
            CommandFlag::BackendConfig => "-backend-config",
        }
    }

    /// `-var`, `--var` (Go's flag package takes either), and the same for `-backend-config`.
    fn of(token: &str) -> Option<CommandFlag> {
        match token
            .strip_prefix("--")
            .or_else(|| token.strip_prefix('-'))?
        {
            "var" => Some(CommandFlag::Var),
            "backend-config" => Some(CommandFlag::BackendConfig),
            _ => None,
        }
    }
}

/// One `-var NAME=VALUE` / `-backend-config NAME=VALUE` of a `[command]` line.
#[derive(Debug, PartialEq, Eq)]
struct CommandArg {
    flag: CommandFlag,
    name: String,
    value: String,
    /// Where `NAME` starts in the line after `[command]`, in characters.
    column: usize,
}

/// The words of a `[command]` line and where each starts (in characters). @actions/exec echoes
/// `[command]TOOL ARG ARG...` with the arguments joined by spaces as the shell left them (no
/// quotes on Linux and macOS; on Windows, one with a space or `"` is put in `"..."` with `\"`
/// inside). Quotes that do reach the echo (`-var='k=v'` passed on by a tool that does not go
/// through a shell, Windows' quoting) group a word and are removed: `'...'` literally, `"..."`
/// with `\"` and `\\` escapes. A quote with no closing one later on the line is a character
/// of the word (an unquoted secret may hold one).
fn command_words(line: &str) -> Vec<Word> {
    let chars: Vec<char> = line.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i == chars.len() {
            break;
        }
        let mut word = Word::default();
        while i < chars.len() && !chars[i].is_whitespace() {
            let c = chars[i];
            let close = (c == '\'' || c == '"')
                .then(|| {
                    let mut j = i + 1;
                    while j < chars.len() {
                        if c == '"' && chars[j] == '\\' && j + 1 < chars.len() {
                            j += 2;
                            continue;
                        }
                        if chars[j] == c {
                            return Some(j);
                        }
                        j += 1;
                    }
                    None
                })
                .flatten();
            match close {
                Some(end) => {
                    let mut j = i + 1;
                    while j < end {
                        if c == '"'
                            && chars[j] == '\\'
                            && matches!(chars.get(j + 1), Some('"' | '\\'))
                        {
                            j += 1;
                        }
                        word.push(chars[j], j);
                        j += 1;
                    }
                    i = end + 1;
                }
                None => {
                    word.push(c, i);
                    i += 1;
                }
            }
        }
        words.push(word);
    }
    words
}

/// A word of a `[command]` line, with where each of its characters is on the line.
#[derive(Debug, Default, Clone)]
struct Word {
    chars: Vec<char>,
    at: Vec<usize>,
}

impl Word {
    fn push(&mut self, c: char, at: usize) {
        self.chars.push(c);
        self.at.push(at);
    }

    fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// The characters from `from` on, without one pair of matching quotes around them.
    fn rest_unquoted(&self, from: usize) -> Word {
        let (mut a, mut b) = (from.min(self.chars.len()), self.chars.len());
        if b >= a + 2
            && ['\'', '"']
                .iter()
                .any(|&q| self.chars[a] == q && self.chars[b - 1] == q)
        {
            a += 1;
            b -= 1;
        }
        Word {
            chars: self.chars[a..b].to_vec(),
            at: self.at[a..b].to_vec(),
        }
    }
}

/// The `-var` and `-backend-config` `NAME=VALUE` arguments of a `[command]` line, in all the
/// forms Terraform takes them: `-var NAME=VALUE`, `-var=NAME=VALUE`, `--var ...`, quoted or
/// not (see [`command_words`]); a value in quotes of its own (`NAME="VALUE"`) loses them. A
/// `-backend-config` without `=` names a file, and is not a value.
fn command_args(line: &str) -> Vec<CommandArg> {
    let words = command_words(line);
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].text();
        i += 1;
        let (flag, arg) = if let Some(f) = CommandFlag::of(&w) {
            let Some(next) = words.get(i) else {
                break;
            };
            i += 1;
            (f, next.rest_unquoted(0))
        } else if let Some((f, head)) = w
            .split_once('=')
            .and_then(|(head, _)| Some((CommandFlag::of(head)?, head)))
        {
            (f, words[i - 1].rest_unquoted(head.chars().count() + 1))
        } else {
            continue;
        };
        let Some(eq) = arg.chars.iter().position(|&c| c == '=') else {
            continue;
        };
        let name: String = arg.chars[..eq].iter().collect();
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
        if !valid {
            continue;
        }
        out.push(CommandArg {
            flag,
            name,
            value: arg.rest_unquoted(eq + 1).text(),
            column: arg.at[0],
        });
    }
    out
}

/// Does `src` start (after a byte-order mark and blank space) with the `[command]` line that
/// hashicorp/setup-terraform's wrapper prints before Terraform's own output, with a JSON object
/// on a following line?
fn is_wrapper_log(src: &[u8]) -> bool {
    let body = src.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(src);
    let start = body
        .iter()
        .position(|b| !b" \t\r\n".contains(b))
        .unwrap_or(body.len());
    let body = &body[start..];
    body.starts_with(b"[command]")
        && body
            .split(|&b| b == b'\n')
            .skip(1)
            .find(|l| !is_wrapper_line(l) && l.iter().any(|b| !b" \t\r".contains(b)))
            .is_some_and(|l| l.trim_ascii_start().starts_with(b"{"))
}

/// A line the wrapper adds: its `[command]` echo, or a GitHub workflow command (`::debug::`,
/// `::set-output`, ...). Terraform's JSON is one line that starts with `{`.
fn is_wrapper_line(line: &[u8]) -> bool {
    let l = line.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(line);
    let l = l.trim_ascii_start();
    l.starts_with(b"[command]") || l.starts_with(b"::")
}

/// `src` with the wrapper's lines turned into spaces (line breaks kept, so every position and
/// line number is the file's own). The workflow commands repeat Terraform's output
/// (`::debug::stdout: ...`); the plan itself is read once, on its own line.
fn blank_wrapper_lines(src: &[u8]) -> Vec<u8> {
    let mut out = src.to_vec();
    let mut at = 0;
    for line in src.split(|&b| b == b'\n') {
        if is_wrapper_line(line) {
            for b in &mut out[at..at + line.len()] {
                if *b != b'\r' {
                    *b = b' ';
                }
            }
        }
        at += line.len() + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATE: &str = r#"{"version": 4, "terraform_version": "1.9.5", "serial": 1, "lineage": "x",
 "outputs": {"o": {"value": "Zq8Lm2Xv9Rk4Tp7W", "type": "string", "sensitive": true}},
 "resources": [{"mode": "managed", "type": "aws_db_instance", "name": "m", "instances": [{"index_key": "a\u003c",
  "attributes": {"password": "Zq8Lm2Xv9Rk4Tp7W", "tags": {"k": "v"}, "n": [1.5e3, -2, true, null]},
  "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]]}]}], "check_results": null}"#;

    /// Every form of `-var` / `-backend-config` the shell (or Windows' quoting in @actions/exec)
    /// leaves in the `[command]` echo gives its name and value; other arguments give none.
    #[test]
    fn command_line_arguments_in_every_quoting_form() {
        use CommandFlag::{BackendConfig as B, Var as V};
        let t = |flag, name: &str, value: &str, column| CommandArg {
            flag,
            name: name.to_string(),
            value: value.to_string(),
            column,
        };
        let cases: &[(&str, Vec<CommandArg>)] = &[
            ("/t/terraform plan -var k=v1", vec![t(V, "k", "v1", 23)]),
            ("/t/terraform plan -var=k=v=2", vec![t(V, "k", "v=2", 23)]),
            ("/t/terraform plan --var k=v", vec![t(V, "k", "v", 24)]),
            ("/t/terraform plan -var='k=v'", vec![t(V, "k", "v", 24)]),
            ("/t/terraform plan -var \"k=v\"", vec![t(V, "k", "v", 24)]),
            ("/t/terraform plan '-var=k=a b'", vec![t(V, "k", "a b", 24)]),
            ("/t/terraform plan -var k='v'", vec![t(V, "k", "v", 23)]),
            ("/t/terraform plan -var k=\"v\"", vec![t(V, "k", "v", 23)]),
            (
                "\"C:\\t f\\terraform.exe\" plan \"-var=k=a \\\"b\"",
                vec![t(V, "k", "a \"b", 34)],
            ),
            ("/t/terraform plan -var k=it's", vec![t(V, "k", "it's", 23)]),
            (
                "/t/terraform init -backend-config=access_key=a -backend-config secret_key=b",
                vec![t(B, "access_key", "a", 34), t(B, "secret_key", "b", 63)],
            ),
            (
                "/t/terraform init -backend-config=backend.hcl -var-file=x.tfvars -var",
                vec![],
            ),
            ("/t/terraform show -json tfplan", vec![]),
        ];
        for (line, want) in cases {
            assert_eq!(&command_args(line), want, "{line}");
        }
    }

    /// Every truncation and every single-byte corruption of a state is either read or rejected
    /// with a positioned error: never a panic.
    #[test]
    fn truncations_and_corruptions_never_panic() {
        let engine = Engine::new().unwrap();
        let src = STATE.as_bytes();
        let full = Scanner::new(&engine, b"k", "f".into()).scan(src).unwrap();
        assert_eq!(full.findings.len(), 2);
        for n in 0..src.len() {
            let r = Scanner::new(&engine, b"k", "f".into()).scan(&src[..n]);
            assert!(r.is_err(), "prefix {n} accepted");
        }
        for i in 0..src.len() {
            for b in [b'"', b'\\', b'{', b']', 0u8, 0xFF, b'x'] {
                let mut v = src.to_vec();
                v[i] = b;
                let _ = Scanner::new(&engine, b"k", "f".into()).scan(&v);
            }
        }
    }
}
