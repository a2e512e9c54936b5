//! Why a file could not be read ([`DocError`]), and what its messages may quote.

use super::kind::OtherDocument;
use super::readings::MAX_READINGS;
#[cfg(doc)]
use super::scanner::Scanner;
use crate::json::SyntaxError;
use std::borrow::Cow;

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

/// `1`, `0.12`, `1.2.3`: up to three dot-separated numbers of up to three digits. Only such a
/// version is quoted back in an error; anything else in a version field may be any input bytes.
pub(super) fn is_version_number(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() <= 3
        && parts
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A version as an error message may show it.
pub(super) fn shown_version(v: &str) -> String {
    if is_version_number(v) {
        v.to_string()
    } else {
        "(not a version number)".to_string()
    }
}

/// A JSON pointer as an error or a note shows it: each member name that could be a secret (a
/// key is input too: `{(var.token) = ...}` makes a token a key) is shown by its length only,
/// `…(40 chars)`, as a finding's preview. See [`plain_key`].
pub(crate) fn ptr(p: &str) -> Cow<'_, str> {
    if p.is_empty() {
        return Cow::Borrowed("the document root");
    }
    let shown: Vec<Cow<'_, str>> = p
        .split('/')
        .map(|seg| {
            if plain_key(seg) {
                Cow::Borrowed(seg)
            } else {
                Cow::Owned(format!("…({} chars)", seg.chars().count()))
            }
        })
        .collect();
    Cow::Owned(format!("`{}`", shown.join("/")))
}

/// Whether a pointer segment (an index, or a member name, `~0`/`~1`-escaped) is shown in an
/// error: up to 48 characters of `A-Z a-z 0-9 _ - . : @ + ~`, each run between separators
/// (`_ - . : @ +`) at most 20 long, and no run of 8 or more holding both letters and digits.
/// Terraform's member and attribute names pass (`sensitive_attributes`, `ca_cert_identifier`,
/// `us-east-1`); a token (`ghp_` and 36 more), a random password or key does not, nor does
/// anything with other characters. A few names are masked too (`output_base64sha256`): the
/// line and column still say where.
pub(super) fn plain_key(seg: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-.:@+~".contains(c);
    seg.chars().count() <= 48
        && seg.chars().all(allowed)
        && seg.split(['_', '-', '.', ':', '@', '+']).all(|run| {
            let letters = run.chars().any(|c| c.is_ascii_alphabetic());
            let digits = run.chars().any(|c| c.is_ascii_digit());
            run.len() <= 20 && !(run.len() >= 8 && letters && digits)
        })
}

/// Where a member has the wrong shape (see [`DocError::Shape`]). The pointer is made of the
/// fixed member names and indices above the unit, never of a value.
#[derive(Debug, Clone)]
pub(super) struct Shape {
    pub(super) pointer: String,
    pub(super) line: u32,
    pub(super) column: u32,
    pub(super) expected: &'static str,
}

impl Shape {
    pub(super) fn error(self, file: &str) -> DocError {
        DocError::Shape {
            file: file.to_string(),
            line: self.line,
            column: self.column,
            pointer: self.pointer,
            expected: self.expected,
        }
    }
}
