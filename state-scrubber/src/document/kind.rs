//! What a file is: the kinds of artifact read ([`DocKind`]), Terraform's other JSON outputs that
//! are told apart and refused ([`OtherDocument`]), and the checks that recognise a document
//! before (or instead of) reading it.

use crate::json::{Dom, Kind as JKind, NodeId, Parser, SyntaxError};
use std::borrow::Cow;

/// UTF-16 text: JSON's first characters (ASCII) with a NUL byte after (little endian) or before
/// (big endian) each of them, after the byte order mark if there is one (FF FE alone, followed by
/// UTF-8, is just binary data).
pub(super) fn looks_utf16(src: &[u8]) -> bool {
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
    /// Terraform's machine-readable UI, `terraform plan|apply|query|test -json` (see
    /// `ui::is_ui_stream`).
    UiStream,
    /// `terraform state identities -json` (see `identities::is_identities_document`).
    Identities,
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
            DocKind::UiStream => "terraform_json_ui",
            DocKind::Identities => "terraform_state_identities_json",
        }
    }
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
    pub(super) fn of(format_version: bool, skipped: &[String]) -> Option<OtherDocument> {
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
