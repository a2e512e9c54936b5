//! `state-scrubber scrub` and `restore`: move the secrets the audit finds in a state into Secrets
//! Manager and rewrite the state to references (or to null where a write-only twin takes over),
//! and put them back.
//!
//! Order of work, so that nothing is lost at any point: every secret that would be written to
//! is checked (its metadata, and the version its idempotency token names: [`place`]), and a
//! refusal stops the run before anything is stored;
//! every value is stored, read back and compared; then the manifest is stored; only then is the
//! state rewritten, in one atomic step. A crash before the rename leaves the old state and
//! values that a re-run finds already stored. A dry run given a store makes the same checks
//! through the same code, and reports what --write would refuse.
//!
//! The library entry points ([`scrub`], [`restore::restore`]) take any
//! [`SecretStore`], so tests use `MemoryStore`; the CLI connects to AWS.

pub mod cli;
pub mod interrupt;
pub mod lock;
pub mod names;
pub mod pace;
pub mod plan;
pub mod restore;
pub mod rewrite;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use futures::StreamExt as _;

use offstate_common::store::SecretStore;

use crate::detect::Engine;
use crate::document::{shown_pointer, DocError, DocKind, Scanner};
use crate::finding::DEFAULT_FINGERPRINT_KEY;
use crate::json::has_lone_surrogate;
use crate::table::Table;
use plan::{Action, Item, Planner, Selection};
use rewrite::{go_json_string, Doc, Edit, RewriteError};
use store::{ManifestEntry, PutError, Stored};

/// Why a scrub or restore stopped. Messages name the file, JSON paths, addresses and secret
/// names, never a value.
#[derive(Debug, thiserror::Error)]
pub enum ScrubError {
    #[error(transparent)]
    Document(#[from] DocError),
    #[error("{file}: a {kind} file is not a state; scrub and restore work on Terraform state files (v3, v4)")]
    NotState { file: String, kind: &'static str },
    /// It said "a opentofu_encrypted_state file is not a state", as if it were some other file.
    #[error("{file}: an OpenTofu-encrypted state (`encrypted_data`): scrub and restore read the state decrypted. With the encryption configured, `tofu state pull > s.json`, scrub s.json, then `tofu state push s.json` (which encrypts it again)")]
    Encrypted { file: String },
    #[error("{file}: the backend cache (`.terraform/terraform.tfstate`), not a state: its credentials came from -backend-config and Terraform needs them as they are. Give them through the backend's environment variables instead and run `terraform init -reconfigure`, which writes this file again without them")]
    BackendCache { file: String },
    #[error("{file}: the state has no `lineage`, which names its secrets' manifest. Terraform keeps a state's lineage as it is (`terraform state push` of the state does not give it one): `terraform state pull > s.json`, set `\"lineage\"` in s.json to a new UUID (`uuidgen`) and `\"serial\"` one higher, `terraform state push s.json`, then scrub again")]
    NoLineage { file: String },
    /// The path is shown with a key that could be a secret masked (as audit's errors show it).
    #[error("{file}: at JSON path {}: {message}", shown_pointer(pointer))]
    At {
        file: String,
        pointer: String,
        message: String,
    },
    /// `pointer` is empty for the manifest, which has no place in the state.
    #[error("{file}: {address}{}: secret {secret}: {error}", json_path(pointer))]
    Store {
        file: String,
        address: String,
        pointer: String,
        secret: String,
        error: Box<PutError>,
    },
    /// Secrets --write would write to and will not, found before the first store (by a dry run
    /// too: [`place`]). Names them, the places of their values and what to do; never a value.
    #[error("{file}: {}", refused_message(refusals))]
    Refused {
        file: String,
        refusals: Vec<Refusal>,
    },
    #[error("{file}: {error}")]
    Rewrite { file: String, error: RewriteError },
    #[error("{file}: {message}")]
    Other { file: String, message: String },
    /// SIGINT or SIGTERM (`--write`): stopped between two store calls, before the state was
    /// written. Names the secrets already stored, never a value.
    #[error("{file}: {}", interrupted_message(*signal, stored, in_flight))]
    Interrupted {
        file: String,
        signal: i32,
        /// Secrets this run stored (created, or given a new version) before it stopped.
        stored: Vec<String>,
        /// The secrets whose store calls were cut short: each may or may not hold its value now.
        in_flight: Vec<String>,
    },
}

impl ScrubError {
    /// A verdict --write cannot get past by trying again ([`PutError::is_refusal`]), as opposed to
    /// a failure to read Secrets Manager: a dry run exits 2 with it, and shows the plan with a
    /// note for the other.
    pub fn is_refusal(&self) -> bool {
        match self {
            ScrubError::Refused { .. } => true,
            ScrubError::Store { error, .. } => error.is_refusal(),
            _ => false,
        }
    }
}

/// A secret --write would write to and will not ([`PutError::is_refusal`]): a value's (its
/// address and JSON path) or the scrub manifest (no JSON path). Holds no value.
#[derive(Debug)]
pub struct Refusal {
    pub address: String,
    pub pointer: String,
    pub secret: String,
    pub error: PutError,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}{}: secret {}: {}",
            self.address,
            json_path(&self.pointer),
            self.secret,
            self.error
        )
    }
}

fn refused_message(refusals: &[Refusal]) -> String {
    let n = refusals.len();
    let list: Vec<String> = refusals.iter().map(|r| r.to_string()).collect();
    format!(
        "--write stores nothing: {n} of the secrets it would write to {} it: {}",
        if n == 1 { "refuses" } else { "refuse" },
        list.join("; ")
    )
}

/// What --write meets at a name it writes to, from the secret's metadata (DescribeSecret, no
/// value), before anything is stored ([`place`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// No secret by that name: --write creates it.
    Absent,
    /// This state's secret (its lineage, not scheduled for deletion, the `--kms-key-id` asked
    /// for): --write adds a version to it unless its current one holds the value already.
    Ours,
    /// An older state's value that the current version holds already: nothing is stored.
    Current,
    /// --write refuses it, and why ([`PutError`]'s text: what to do, never a value).
    Refused(String),
}

/// `SIGINT`, `SIGTERM`, or the number.
pub fn signal_name(signal: i32) -> String {
    match signal {
        2 => "SIGINT".into(),
        15 => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}

/// ` (JSON path `/a/b`)`, or nothing for an empty pointer.
fn json_path(pointer: &str) -> String {
    if pointer.is_empty() {
        String::new()
    } else {
        format!(" (JSON path {})", shown_pointer(pointer))
    }
}

fn interrupted_message(signal: i32, stored: &[String], in_flight: &[String]) -> String {
    let mut s = format!(
        "stopped by {} before the state was written: the state file is as it was",
        signal_name(signal)
    );
    if stored.is_empty() {
        s.push_str("; no value was stored in Secrets Manager by this run");
    } else {
        let _ = write!(
            s,
            "; {} value(s) were already stored in Secrets Manager: {}",
            stored.len(),
            stored.join(", ")
        );
    }
    match in_flight {
        [] => {}
        [n] => {
            let _ = write!(
                s,
                "; the store call for {n} was cut short (the value may or may not be there)"
            );
        }
        names => {
            let _ = write!(
                s,
                "; the store call for each of {} was cut short (the value may or may not be there)",
                names.join(", ")
            );
        }
    }
    s.push_str(
        ". Run the same command again: it finds the values already stored and stores nothing twice",
    );
    s
}

/// What to scrub and how.
#[derive(Debug, Clone)]
pub struct ScrubOptions {
    pub prefix: String,
    pub name_template: String,
    pub selection: Selection,
    /// Store values and produce the rewritten state; otherwise plan only (no store call).
    pub write: bool,
    /// `--kms-key-id`: the key of every secret scrub creates (the manifest's included).
    pub kms_key_id: Option<String>,
    /// `--tag KEY=VALUE`, in the order given: added to scrub's own tags.
    pub tags: Vec<(String, String)>,
    /// A stop request (SIGINT/SIGTERM, [`interrupt`]): honoured between two store calls, and by
    /// cutting short the store call under way, never while the manifest is saved.
    pub stop: interrupt::Stop,
    /// `--config`: content rules added to the built-in ones, and findings left in place.
    pub config: Option<crate::config::Config>,
}

impl ScrubOptions {
    pub fn new(prefix: impl Into<String>) -> Self {
        ScrubOptions {
            prefix: prefix.into(),
            name_template: names::DEFAULT_TEMPLATE.to_string(),
            selection: Selection::default(),
            write: false,
            kms_key_id: None,
            tags: vec![],
            stop: interrupt::Stop::default(),
            config: None,
        }
    }
}

/// The outcome of a scrub. Its `Debug` shows the rewritten state by its length only
/// ([`state_bytes`]).
pub struct ScrubReport {
    pub file: String,
    pub kind: DocKind,
    pub lineage: String,
    pub serial_before: u64,
    pub serial_after: u64,
    pub items: Vec<Item>,
    /// What the store did for each item (write mode).
    pub stored: Vec<Stored>,
    /// The rewritten state (write mode, when something changed).
    pub output: Option<Vec<u8>>,
    /// Name of the manifest secret (write mode).
    pub manifest: Option<String>,
    pub write: bool,
    /// Findings left alone on purpose, and why (addresses and paths only).
    pub notes: Vec<String>,
    /// What this scrub changed in the manifest (write mode): [`state_written`] or
    /// [`state_not_written`] finishes it once the state write succeeded or was refused.
    pub manifest_change: Option<store::ManifestChange>,
    /// For each item, what --write meets at its secret ([`place`]); empty when Secrets Manager
    /// was not read.
    pub checks: Vec<Check>,
    /// The manifest's name and what --write meets there, when Secrets Manager was read.
    pub manifest_check: Option<(String, Check)>,
    /// A dry run's verdict: the error --write would stop with before storing anything
    /// ([`ScrubError::Refused`]). --write returns it as its error instead.
    pub refused: Option<ScrubError>,
    /// `--kms-key-id` and `--tag`: what every secret scrub creates gets besides its own tags.
    pub settings: store::SecretSettings,
}

/// `output` of a report in its `Debug`: the length only. The state a scrub writes holds every
/// value it left in place (not selected, identifiers, numbers) and the one a restore writes holds
/// them all, in plaintext: a derived `Debug` printed its bytes wherever a report is debugged, as
/// in a test's `unwrap_err()` on a run that succeeded.
pub(crate) fn state_bytes(output: &Option<Vec<u8>>) -> Option<String> {
    output.as_ref().map(|o| format!("<{} bytes>", o.len()))
}

impl std::fmt::Debug for ScrubReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Every field named: a new one does not compile until it is shown here (or masked).
        let ScrubReport {
            file,
            kind,
            lineage,
            serial_before,
            serial_after,
            items,
            stored,
            output,
            manifest,
            write,
            notes,
            manifest_change,
            checks,
            manifest_check,
            refused,
            settings,
        } = self;
        f.debug_struct("ScrubReport")
            .field("file", file)
            .field("kind", kind)
            .field("lineage", lineage)
            .field("serial_before", serial_before)
            .field("serial_after", serial_after)
            .field("items", items)
            .field("stored", stored)
            .field("output", &state_bytes(output))
            .field("manifest", manifest)
            .field("write", write)
            .field("notes", notes)
            .field("manifest_change", manifest_change)
            .field("checks", checks)
            .field("manifest_check", manifest_check)
            .field("refused", refused)
            .field("settings", settings)
            .finish()
    }
}

/// The longest `--prefix`: its names get a module path, an address and an attribute path
/// appended, and the manifest's pages `/.offstate-manifest/LINEAGE/page-DIGEST`.
pub const MAX_PREFIX_LEN: usize = 256;

/// Check `--prefix` before anything else: secret names are `PREFIX/...`, and a prefix that
/// Secrets Manager cannot take would be changed silently in the value names (`prod payments` ->
/// `prod_payments/...-DIGEST`) but not in the manifest's, which AWS then refuses after every
/// value is stored; `restore` would not recognise the references either. Returns the prefix
/// without trailing `/`.
pub fn check_prefix<'p>(prefix: &'p str, file: &str) -> Result<&'p str, ScrubError> {
    let p = prefix.trim_end_matches('/');
    let why = if p.is_empty() {
        Some(
            "is empty; secret names start with it (for example prod/payments/scrubbed)".to_string(),
        )
    } else if let Some(c) = p.chars().find(|c| !offstate_common::name::is_name_char(*c)) {
        Some(format!(
            "has the character {c:?}; a secret name takes ASCII letters, digits and /_+=.@- only"
        ))
    } else if p.split('/').any(str::is_empty) {
        Some("has an empty path segment (a leading `/` or `//`)".to_string())
    } else if p.len() > MAX_PREFIX_LEN {
        Some(format!(
            "is {} characters long; at most {MAX_PREFIX_LEN} leave room for the rest of a secret name (512 at most)",
            p.len()
        ))
    } else {
        None
    };
    match why {
        Some(why) => Err(ScrubError::Other {
            file: file.to_string(),
            message: format!("--prefix {why}"),
        }),
        None => Ok(p),
    }
}

/// Tags per secret in Secrets Manager.
pub const MAX_TAGS: usize = 50;
/// Tags scrub sets itself on a value's secret (`offstate:*`).
const OWN_TAGS: usize = 4;

/// Check `--kms-key-id` and `--tag` before anything else (a dry run too), and give the settings
/// every created secret gets. Tag rules are Secrets Manager's (key 1 to 128 characters, value
/// up to 256, letters, digits, spaces and `_.:/=+-@`; `aws:` reserved); `offstate:` is
/// reserved for scrub's own tags, which restore and a re-run rely on.
pub fn secret_settings(
    opts: &ScrubOptions,
    file: &str,
) -> Result<store::SecretSettings, ScrubError> {
    let bad = |message: String| ScrubError::Other {
        file: file.to_string(),
        message,
    };
    if let Some(k) = &opts.kms_key_id {
        if k.is_empty() || k.len() > 2048 || k.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad(
                "--kms-key-id takes a key id, key ARN, alias name (alias/NAME) or alias ARN".into(),
            ));
        }
    }
    let tag_char = |c: char| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c);
    let mut tags = BTreeMap::new();
    for (k, v) in &opts.tags {
        let why = if k.is_empty() || k.chars().count() > 128 {
            Some("a key of 1 to 128 characters")
        } else if k.to_ascii_lowercase().starts_with("aws:") {
            Some("a key not starting with `aws:` (AWS reserves it)")
        } else if k.starts_with("offstate:") {
            Some("a key not starting with `offstate:` (scrub sets those tags itself)")
        } else if v.chars().count() > 256 {
            Some("a value of at most 256 characters")
        } else if !k.chars().chain(v.chars()).all(tag_char) {
            Some("letters, digits, spaces and _.:/=+-@ only")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(bad(format!("--tag {k:?}: a tag takes {why}")));
        }
        if tags.insert(k.clone(), v.clone()).is_some() {
            return Err(bad(format!("--tag {k:?} is given twice")));
        }
    }
    if tags.len() + OWN_TAGS > MAX_TAGS {
        return Err(bad(format!(
            "{} --tag options: a secret takes {MAX_TAGS} tags, and scrub sets {OWN_TAGS} itself",
            tags.len()
        )));
    }
    Ok(store::SecretSettings {
        kms_key_id: opts.kms_key_id.clone(),
        tags,
    })
}

/// A state parsed for scrub, and its secrets.
pub(crate) struct ParsedState<'a> {
    pub doc: Doc<'a>,
    pub kind: DocKind,
    /// With `--config`'s rules; the findings its `[[allow]]` entries cover are left out.
    pub findings: Vec<crate::finding::Finding>,
    pub lineage: String,
    pub serial: u64,
    /// How many findings `--config` allowed.
    pub allowed: usize,
}

#[cfg(test)]
thread_local! {
    /// How many times [`parse_state`] ran on this thread: tests count parses.
    pub(crate) static PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

pub(crate) fn parse_state<'a>(
    src: &'a [u8],
    file: &str,
    config: Option<&crate::config::Config>,
) -> Result<ParsedState<'a>, ScrubError> {
    #[cfg(test)]
    PARSES.with(|p| p.set(p.get() + 1));
    let engine = Engine::with_config(config).map_err(|e| ScrubError::Other {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    // Numbers marked sensitive too: the planner leaves them in place with a note (a reference, a
    // string, cannot stand in for a number), rather than skipping what audit reports unsaid.
    let mut scanned = Scanner::new(&engine, DEFAULT_FINGERPRINT_KEY, file.to_string())
        .with_numbers(true)
        .scan(src)?;
    let found = scanned.findings.len();
    if let Some(config) = config {
        scanned.findings.retain(|f| !config.allows(f));
    }
    let allowed = found - scanned.findings.len();
    if scanned.kind == DocKind::BackendConfig {
        return Err(ScrubError::BackendCache {
            file: file.to_string(),
        });
    }
    if scanned.kind == DocKind::Encrypted {
        return Err(ScrubError::Encrypted {
            file: file.to_string(),
        });
    }
    if !matches!(scanned.kind, DocKind::StateV4 | DocKind::StateV3) {
        return Err(ScrubError::NotState {
            file: file.to_string(),
            kind: scanned.kind.as_str(),
        });
    }
    let doc = Doc::parse(src).map_err(|e| ScrubError::At {
        file: file.to_string(),
        pointer: e.pointer.clone(),
        message: format!("{}:{}: {}", e.line, e.column, e.message),
    })?;
    check_unambiguous(&doc, doc.root, &mut Vec::new()).map_err(|(pointer, message)| {
        ScrubError::At {
            file: file.to_string(),
            pointer,
            message: message.into(),
        }
    })?;
    // A lineage that is there but not a string is not missing: say what it is, where.
    if let Some(id) = doc.node_at("/lineage") {
        let found = match doc.kind(id) {
            crate::json::Kind::Str { .. } => None,
            crate::json::Kind::Null => Some("null"),
            crate::json::Kind::Bool(_) => Some("a boolean"),
            crate::json::Kind::Number => Some("a number"),
            crate::json::Kind::Array => Some("an array"),
            crate::json::Kind::Object => Some("an object"),
        };
        if let Some(found) = found {
            return Err(ScrubError::At {
                file: file.to_string(),
                pointer: "/lineage".to_string(),
                message: format!(
                    "`lineage` is {found}, not a string (Terraform writes a UUID there): the state was edited or written by another tool; give it its lineage back as a string"
                ),
            });
        }
    }
    let lineage = doc
        .str_at("/lineage")
        .filter(|l| !l.is_empty())
        .ok_or_else(|| ScrubError::NoLineage {
            file: file.to_string(),
        })?;
    let serial: u64 = doc
        .node_at("/serial")
        .filter(|&id| doc.kind(id) == crate::json::Kind::Number)
        .and_then(|id| rewrite::parse_serial(doc.raw(id)))
        .ok_or_else(|| serial_error(file, RewriteError::Serial))?;
    // Before anything is stored: the manifest names the serial the write gives (serial + 1).
    if serial == u64::MAX {
        return Err(serial_error(file, RewriteError::SerialAtMaximum));
    }
    Ok(ParsedState {
        doc,
        kind: scanned.kind,
        findings: scanned.findings,
        lineage,
        serial,
        allowed,
    })
}

/// Bad input names the file and the JSON path, as every other refusal of the state's content does.
fn serial_error(file: &str, error: RewriteError) -> ScrubError {
    ScrubError::At {
        file: file.to_string(),
        pointer: "/serial".to_string(),
        message: error.to_string(),
    }
}

/// Refuse JSON that readers understand differently, before it is scrubbed: a key twice in
/// one object (Go's encoding/json, so Terraform, keeps the last; this parser and the audit
/// read the first, so the value Terraform uses would be left in plaintext), and a `\u` escape
/// of half a UTF-16 surrogate pair (no character: Terraform reads U+FFFD, and the check that
/// the rewrite parses back fails on it). Terraform writes neither. Returns the JSON path and
/// why; the message holds no part of the string.
fn check_unambiguous(
    doc: &Doc<'_>,
    id: crate::json::NodeId,
    path: &mut Vec<String>,
) -> Result<(), (String, &'static str)> {
    use crate::json::Kind;
    const LONE: &str = "the string holds a lone UTF-16 surrogate escape (one of \\ud800-\\udfff without its pair), which is no character (Terraform never writes one, and reads it as U+FFFD); correct that string, then run again";
    const TWICE: &str = "this key appears more than once in its object; Terraform keeps the last, and rewriting one occurrence could leave a value behind in plaintext: remove the extra member, then run again";
    let node = doc.dom.node(id);
    match node.kind {
        Kind::Str { escaped: true } if has_lone_surrogate(&doc.src[node.start..node.end]) => {
            Err((rewrite::pointer_join(path), LONE))
        }
        Kind::Object => {
            let mut seen = std::collections::HashSet::new();
            for (k, v) in doc.dom.members(id) {
                let kn = doc.dom.node(k);
                let key = doc
                    .dom
                    .str(doc.src, k)
                    .map(|c| c.into_owned())
                    .unwrap_or_default();
                path.push(key.clone());
                if matches!(kn.kind, Kind::Str { escaped: true })
                    && has_lone_surrogate(&doc.src[kn.start..kn.end])
                {
                    return Err((rewrite::pointer_join(path), LONE));
                }
                if !seen.insert(key) {
                    return Err((rewrite::pointer_join(path), TWICE));
                }
                check_unambiguous(doc, v, path)?;
                path.pop();
            }
            Ok(())
        }
        Kind::Array => {
            for (i, v) in doc.dom.elements(id).enumerate() {
                path.push(i.to_string());
                check_unambiguous(doc, v, path)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Scrub one state. In dry-run mode (`opts.write == false`) no store is needed and nothing is
/// written; the rewrite is still computed and verified so that a dry run fails where a real run
/// would. A dry run given a store reads it as --write does ([`place`]): the names --write uses,
/// what it meets at each ([`ScrubReport::checks`]), and in [`ScrubReport::refused`] the error
/// --write would stop with before storing anything (--write returns that error).
pub async fn scrub(
    src: &[u8],
    file: &str,
    opts: &ScrubOptions,
    store: Option<&dyn SecretStore>,
) -> Result<ScrubReport, ScrubError> {
    let parsed = parse_for_scrub(src, file, opts)?;
    scrub_parsed(src, file, opts, store, &parsed).await
}

/// The state `src` parsed and scanned for [`scrub_parsed`], after `--prefix`, `--kms-key-id`
/// and `--tag` are checked (their errors come first, as in [`scrub`]).
pub(crate) fn parse_for_scrub<'a>(
    src: &'a [u8],
    file: &str,
    opts: &ScrubOptions,
) -> Result<ParsedState<'a>, ScrubError> {
    check_prefix(&opts.prefix, file)?;
    secret_settings(opts, file)?;
    let parsed = parse_state(src, file, opts.config.as_ref())?;
    check_selection(&parsed, &opts.selection, file, opts.config.as_ref())?;
    check_secret_keys(&parsed, &opts.selection, file)?;
    Ok(parsed)
}

/// A selected finding in an instance whose index key, or a module instance key on its path, is
/// a secret (audit masks it: a content rule recognises it, or it equals a value found secret,
/// `for_each = toset(var.passwords)`) refuses the scrub, before anything is stored, in a dry run
/// too. The key is part of the address: scrub cannot replace it, so the secret would stay in
/// the state next to the references it wrote (for a key equal to the value, the very value it
/// moved), and the manifest, which locates each value by its instance, would hold it. The
/// message shows the addresses with their keys masked, as audit does.
fn check_secret_keys(
    parsed: &ParsedState<'_>,
    sel: &Selection,
    file: &str,
) -> Result<(), ScrubError> {
    use crate::finding::KeyPlace;
    let keyed: BTreeSet<&str> = parsed
        .findings
        .iter()
        .filter(|f| sel.selects(f))
        .filter(|f| {
            f.resource
                .masked
                .iter()
                .any(|m| matches!(m.place, KeyPlace::Index | KeyPlace::Module(_)))
        })
        .map(|f| f.address.as_str())
        .collect();
    if keyed.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = keyed.into_iter().collect();
    Err(ScrubError::Other {
        file: file.to_string(),
        message: format!(
            "{} keyed by a secret value (masked: {}); nothing was stored or written. An instance \
             or module key is part of the resource address, which Terraform writes in the state, in \
             plans and in every tool's output; scrub cannot move it to Secrets Manager, and it would \
             stay in the state in plaintext. Change the configuration: key the instances by a name \
             (`for_each = {{ for name, s in ... : name => s }}`) and pass the secret as a value, apply, \
             rotate the secret (it is in the state and its history), then scrub. To scrub the rest \
             first, leave these out with --exclude and the address without its key \
             (`--exclude aws_db_instance.db`, `--exclude module.app`)",
            if shown.len() == 1 {
                "an instance is".to_string()
            } else {
                format!("{} instances are", shown.len())
            },
            shown.join(", "),
        ),
    })
}

/// `--only` / `--exclude` patterns that select nothing in this state are refused, before
/// anything is stored: a mistyped address made a CI scrub print "nothing to scrub" and exit 0.
/// A pattern is known when it selects a finding, or names a resource or output of the state (the
/// resource, an instance of it, one of its attributes, or a module or type prefix: a re-run on
/// a state scrubbed already finds no finding there, and must not fail), or is a rule id
/// `state-scrubber rules` lists. The pattern is shown with each key that a content rule
/// recognises masked, as reports mask such keys in addresses.
fn check_selection(
    parsed: &ParsedState<'_>,
    sel: &Selection,
    file: &str,
    config: Option<&crate::config::Config>,
) -> Result<(), ScrubError> {
    let addresses = state_addresses(&parsed.doc);
    let names_something = |p: &str| {
        parsed.findings.iter().any(|f| plan::matches(p, f))
            || addresses.iter().any(|a| address_related(p, a))
    };
    let unknown: Vec<(&str, &str)> = [("--only", &sel.only), ("--exclude", &sel.exclude)]
        .into_iter()
        .flat_map(|(option, patterns)| patterns.iter().map(move |p| (option, p.as_str())))
        .filter(|(_, p)| !names_something(p))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    // Rule ids: only when a pattern is unknown otherwise (the engine is built again).
    let other = |e: &dyn std::fmt::Display| ScrubError::Other {
        file: file.to_string(),
        message: e.to_string(),
    };
    let engine = Engine::with_config(config).map_err(|e| other(&e))?;
    let table = Table::builtin().map_err(|e| other(&e))?;
    let ids: std::collections::HashSet<String> =
        crate::catalog::list(&engine.rules, &table, config)
            .into_iter()
            .map(|l| l.id)
            .collect();
    let unknown: Vec<String> = unknown
        .into_iter()
        .filter(|(_, p)| !ids.contains(*p))
        .map(|(option, p)| {
            let keys_masked =
                crate::finding::mask_module_keys(p, |k| engine.analyze_address_key(k).is_some()).0;
            let shown = if engine.analyze_address_key(&keys_masked).is_some() {
                crate::finding::preview(p)
            } else {
                keys_masked
            };
            format!("{option} '{shown}'")
        })
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(ScrubError::Other {
        file: file.to_string(),
        message: format!(
            "{} name{} nothing in this state (no finding, resource, instance or output) and {} not a rule id; nothing was stored or written. \
             They take resource addresses or address prefixes (`module.db`, `aws_db_instance.main`), \
             `ADDRESS.ATTRIBUTE`, or rule ids (`state-scrubber rules` lists them)",
            unknown.join(", "),
            if unknown.len() == 1 { "s" } else { "" },
            if unknown.len() == 1 { "is" } else { "are" },
        ),
    })
}

/// A resource or output of the state, for [`address_related`].
struct Named {
    /// `module.a["k"].aws_x.y`, `data.aws_x.y` (no instance key), `output.NAME`.
    address: String,
    /// The names of its instances' attributes; `None` for an output.
    attributes: Option<BTreeSet<String>>,
    /// Its instances' keys as an address writes them (`0`, `"prod"`); empty when none has one.
    keys: BTreeSet<String>,
}

/// The resources and outputs of the state, v4 and v3.
fn state_addresses(doc: &Doc<'_>) -> Vec<Named> {
    use crate::json::Kind;
    let (src, dom) = (doc.src, &doc.dom);
    let s = |id, k: &str| {
        dom.get(src, id, k)
            .and_then(|n| dom.str(src, n))
            .map(|c| c.into_owned())
    };
    let mut out = Vec::new();
    let outputs = |id: crate::json::NodeId, out: &mut Vec<Named>| {
        if doc.kind(id) == Kind::Object {
            for (k, _) in dom.members(id) {
                if let Some(k) = dom.str(src, k) {
                    out.push(Named {
                        address: format!("output.{k}"),
                        attributes: None,
                        keys: BTreeSet::new(),
                    });
                }
            }
        }
    };
    // The attribute names of an `attributes` object (v3's and v4's `attributes_flat` are flat:
    // `tags.%`, `tags.Name`, named by their first segment).
    let attributes = |id: Option<crate::json::NodeId>, names: &mut BTreeSet<String>| {
        let Some(id) = id.filter(|&id| doc.kind(id) == Kind::Object) else {
            return;
        };
        for (k, _) in dom.members(id) {
            if let Some(k) = dom.str(src, k) {
                names.insert(k.split('.').next().unwrap_or_default().to_string());
            }
        }
    };
    if let Some(outs) = doc.node_at("/outputs") {
        outputs(outs, &mut out);
    }
    if let Some(resources) = doc.node_at("/resources") {
        for r in dom.elements(resources) {
            let module = s(r, "module").unwrap_or_default();
            let data = s(r, "mode").as_deref() == Some("data");
            let (t, n) = (
                s(r, "type").unwrap_or_default(),
                s(r, "name").unwrap_or_default(),
            );
            let head = format!("{}{t}.{n}", if data { "data." } else { "" });
            let mut names = BTreeSet::new();
            let mut keys = BTreeSet::new();
            if let Some(instances) = dom.get(src, r, "instances") {
                for i in dom.elements(instances) {
                    attributes(dom.get(src, i, "attributes"), &mut names);
                    attributes(dom.get(src, i, "attributes_flat"), &mut names);
                    // Written as Terraform writes it in an address (and audit in a finding's).
                    match dom.get(src, i, "index_key") {
                        Some(k) if matches!(doc.kind(k), Kind::Str { .. }) => {
                            if let Some(key) = dom.str(src, k) {
                                keys.insert(serde_json::to_string(&*key).unwrap_or_default());
                            }
                        }
                        Some(k) if doc.kind(k) == Kind::Number => {
                            keys.insert(doc.raw(k).to_string());
                        }
                        _ => {}
                    }
                }
            }
            let address = if module.is_empty() {
                head
            } else {
                format!("{module}.{head}")
            };
            out.push(Named {
                address,
                attributes: Some(names),
                keys,
            });
        }
    }
    // v3: modules[] with a path (`["root", "a"]`) and resources keyed `[data.]TYPE.NAME[.N]`.
    if let Some(modules) = doc.node_at("/modules") {
        for m in dom.elements(modules) {
            let path: Vec<String> = dom
                .get(src, m, "path")
                .map(|p| {
                    dom.elements(p)
                        .skip(1)
                        .filter_map(|e| dom.str(src, e).map(|c| format!("module.{c}.")))
                        .collect()
                })
                .unwrap_or_default();
            let module = path.concat();
            if let Some(rs) = dom.get(src, m, "resources") {
                for (k, r) in dom.members(rs) {
                    if let Some(k) = dom.str(src, k) {
                        // `aws_x.y.1`: the instance `aws_x.y[1]` of `aws_x.y`.
                        let (k, key) = match k.rsplit_once('.') {
                            Some((head, n)) if n.bytes().all(|b| b.is_ascii_digit()) => {
                                (head, Some(n))
                            }
                            _ => (&*k, None),
                        };
                        let mut names = BTreeSet::new();
                        let primary = dom.get(src, r, "primary");
                        attributes(
                            primary.and_then(|p| dom.get(src, p, "attributes")),
                            &mut names,
                        );
                        if let Some(deposed) = dom.get(src, r, "deposed") {
                            for d in dom.elements(deposed) {
                                attributes(dom.get(src, d, "attributes"), &mut names);
                            }
                        }
                        out.push(Named {
                            address: format!("{module}{k}"),
                            attributes: Some(names),
                            keys: key.map(str::to_string).into_iter().collect(),
                        });
                    }
                }
            }
            if let Some(outs) = dom.get(src, m, "outputs") {
                outputs(outs, &mut out);
            }
        }
    }
    out
}

/// `pattern` names `named` (a resource or output of the state), a part of it (an instance,
/// an attribute), or a module or type prefix of it. `ADDRESS[KEY]` names it only when `KEY` is
/// one of its instances' keys, written as in an address (`["prod"]` names nothing when the
/// instances are `["production"]`, nor `[0]` when they are `[1]`, nor any key when they have
/// none); `ADDRESS.ATTRIBUTE` and `ADDRESS[KEY].ATTRIBUTE` only when `ATTRIBUTE` (its first
/// segment) is one of the resource's attributes: a mistyped attribute
/// (`aws_db_instance.main.pasword`) names nothing.
fn address_related(pattern: &str, named: &Named) -> bool {
    let follows = |rest: &str| rest.starts_with('.') || rest.starts_with('[');
    let address = named.address.as_str();
    if pattern == address || address.strip_prefix(pattern).is_some_and(follows) {
        return true;
    }
    let Some(rest) = pattern.strip_prefix(address) else {
        return false;
    };
    // An output's value: not checked further.
    let Some(names) = &named.attributes else {
        return follows(rest);
    };
    let rest = match rest.strip_prefix('[') {
        Some(inside) => {
            let after = named.keys.iter().find_map(|k| {
                inside
                    .strip_prefix(k.as_str())
                    .and_then(|r| r.strip_prefix(']'))
            });
            match after {
                Some("") => return true,
                Some(after) => after,
                None => return false,
            }
        }
        None => rest,
    };
    match rest.strip_prefix('.') {
        Some(attribute) => names.contains(attribute.split(['.', '[']).next().unwrap_or_default()),
        None => false,
    }
}

/// True when [`scrub_parsed`] of `parsed` would move no value (no selected finding holds a
/// plaintext value to move): `--write` then says "nothing to scrub" without connecting to
/// Secrets Manager (no region or credentials needed). Its errors are [`scrub_parsed`]'s.
pub(crate) fn selects_nothing(
    parsed: &ParsedState<'_>,
    file: &str,
    opts: &ScrubOptions,
) -> Result<bool, ScrubError> {
    let prefix = check_prefix(&opts.prefix, file)?;
    let table = Table::builtin().map_err(|e| ScrubError::Other {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let planner = Planner {
        doc: &parsed.doc,
        file,
        prefix,
        template: &opts.name_template,
        lineage: &parsed.lineage,
        table: &table,
    };
    Ok(planner
        .plan(&parsed.findings, &opts.selection, &mut Vec::new())?
        .is_empty())
}

/// [`scrub`] of a state parsed already ([`parse_for_scrub`] of `src`): a dry run plans offline,
/// then again with Secrets Manager to read, and scanning a large state twice took a third of
/// its time.
pub(crate) async fn scrub_parsed(
    src: &[u8],
    file: &str,
    opts: &ScrubOptions,
    store: Option<&dyn SecretStore>,
    parsed: &ParsedState<'_>,
) -> Result<ScrubReport, ScrubError> {
    let prefix = check_prefix(&opts.prefix, file)?;
    let settings = secret_settings(opts, file)?;
    let ParsedState {
        doc,
        kind,
        findings,
        lineage,
        serial,
        allowed,
    } = parsed;
    let (kind, lineage, serial, allowed) = (*kind, lineage.clone(), *serial, *allowed);
    let table = Table::builtin().map_err(|e| ScrubError::Other {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let planner = Planner {
        doc,
        file,
        prefix,
        template: &opts.name_template,
        lineage: &lineage,
        table: &table,
    };
    let mut notes = Vec::new();
    if let (Some(config), 1..) = (&opts.config, allowed) {
        notes.push(format!(
            "{allowed} finding{} left in place: allowed by {}",
            if allowed == 1 { "" } else { "s" },
            config.file
        ));
    }
    let mut items = planner.plan(findings, &opts.selection, &mut notes)?;
    let mut report = ScrubReport {
        notes,
        file: file.to_string(),
        kind,
        lineage: lineage.clone(),
        serial_before: serial,
        serial_after: serial,
        items: vec![],
        stored: vec![],
        output: None,
        manifest: None,
        write: opts.write,
        manifest_change: None,
        checks: vec![],
        manifest_check: None,
        refused: None,
        settings: settings.clone(),
    };
    if items.is_empty() {
        report.items = items;
        return Ok(report);
    }
    // Refused before anything is stored (and in a dry run too): Secrets Manager would refuse it
    // halfway through, after the values before it were written.
    if let Some(it) = items
        .iter()
        .find(|it| it.value.len() > store::MAX_VALUE_BYTES)
    {
        let what = if it.attribute_path.is_empty() {
            it.address.clone()
        } else {
            format!("{}.{}", it.address, it.attribute_path)
        };
        return Err(ScrubError::At {
            file: file.to_string(),
            pointer: it.pointer.clone(),
            message: format!(
                "{what}: the value is {} bytes; a Secrets Manager secret holds at most {} bytes. Leave it out with --exclude '{what}' (and move it by hand), then scrub the rest",
                it.value.len(),
                store::MAX_VALUE_BYTES,
            ),
        });
    }

    // Where each value goes, and what --write meets there: the same code for a dry run (given a
    // store to read) and for --write, so the names a dry run shows are the names --write stores
    // under, and what it says --write refuses is what --write refuses.
    let mut placement = match store {
        Some(store) => Some(
            place(
                store, prefix, &lineage, serial, &mut items, &settings, file, &opts.stop,
            )
            .await?,
        ),
        None => None,
    };
    if let Some(p) = &mut placement {
        report.checks = p.checks.clone();
        report.manifest_check = Some((p.manifest_name.clone(), p.manifest_check.clone()));
        if !p.refusals.is_empty() {
            // Before the first store: --write stops here with nothing stored; a dry run says so.
            let refused = ScrubError::Refused {
                file: file.to_string(),
                refusals: std::mem::take(&mut p.refusals),
            };
            if opts.write {
                return Err(refused);
            }
            report.refused = Some(refused);
        }
        if p.own_names > 0 {
            let verb = if opts.write {
                "are stored"
            } else {
                "would be stored"
            };
            report.notes.push(format!(
                "serial {serial} is older than the newest state of lineage {lineage} scrubbed under this prefix (it was given serial {}): {} value(s) that differ from the current ones {verb} under their own names (NAME/.offstate-serial/{serial}), so the current versions stay AWSCURRENT",
                p.newest.unwrap_or_default(),
                p.own_names,
            ));
        }
    } else if !opts.write {
        report.notes.push(format!(
            "Secrets Manager was not read: the names below are those of a state at least as new as the newest one of lineage {lineage} scrubbed under this prefix; for an older state of the lineage (Terraform's backup, an older copy) --write stores the values that differ from the current ones under NAME/.offstate-serial/{serial}"
        ));
    }

    if opts.write {
        let store = store.ok_or_else(|| ScrubError::Other {
            file: file.to_string(),
            message: "--write needs a secret store".into(),
        })?;
        let placement = placement.expect("placed with the store");
        let serial_s = serial.to_string();
        let manifest_name = store::manifest_name(prefix, &lineage);
        let manifest_error = manifest_error(file, &manifest_name);
        let absent: Vec<bool> = placement
            .checks
            .iter()
            .map(|c| *c == Check::Absent)
            .collect();
        let progress = std::sync::Mutex::new(Progress::default());
        // Set by the first failure: no value is started after it, the ones under way finish
        // (none is cut short), and the first failure in item order is the error, as when the
        // values were stored one after the other.
        let failed = std::sync::atomic::AtomicBool::new(false);
        let stop = &opts.stop;
        let all = futures::stream::iter(items.iter().zip(placement.current).enumerate())
            .take_while(|_| {
                std::future::ready(
                    !failed.load(std::sync::atomic::Ordering::SeqCst) && stop.requested().is_none(),
                )
            })
            .map(|(i, (it, current))| {
                let (progress, failed, lineage, settings) =
                    (&progress, &failed, &lineage, &settings);
                let (serial_s, absent) = (&serial_s, absent[i]);
                async move {
                    if let Some(version) = current {
                        // An older state's value that is the current one already.
                        return Ok((version, Stored::Unchanged));
                    }
                    progress
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .started(i);
                    let mut tags = BTreeMap::new();
                    tags.insert(store::TAG_LINEAGE.to_string(), store::tag_value(lineage));
                    tags.insert(
                        store::TAG_ADDRESS.to_string(),
                        store::tag_value(&it.address),
                    );
                    tags.insert(
                        store::TAG_ATTRIBUTE.to_string(),
                        store::tag_value(&it.attribute_path),
                    );
                    tags.insert(store::TAG_MANAGED_BY.to_string(), "state-scrubber".into());
                    let token = store::token(&[lineage, serial_s, &it.pointer]);
                    let description = format!(
                        "Moved out of Terraform state by state-scrubber: {} {}",
                        it.address, it.attribute_path
                    );
                    let r = store::put_idempotent(
                        store,
                        &it.secret_name,
                        &it.value,
                        tags,
                        &description,
                        token,
                        settings,
                        absent,
                    )
                    .await;
                    let stored = r.as_ref().ok().map(|(_, s)| *s);
                    progress
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .done(i, stored);
                    if r.is_err() {
                        failed.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    r
                }
            })
            .buffered(IN_FLIGHT)
            .collect::<Vec<_>>();
        let results = tokio::select! {
            r = all => r,
            signal = stop.wait() => {
                let p = progress.lock().unwrap_or_else(|e| e.into_inner());
                let names = |set: &std::collections::BTreeSet<usize>| {
                    set.iter().map(|&i| items[i].secret_name.clone()).collect()
                };
                return Err(interrupted(file, signal, names(&p.stored), names(&p.in_flight)));
            }
        };
        // The last point to stop at: once the manifest is being saved, it is saved, and the
        // CLI takes this scrub's entries out again if a stop request came meanwhile.
        if let Some(signal) = opts.stop.requested() {
            let p = progress.lock().unwrap_or_else(|e| e.into_inner());
            let stored = p
                .stored
                .iter()
                .map(|&i| items[i].secret_name.clone())
                .collect();
            return Err(interrupted(file, signal, stored, vec![]));
        }
        let mut versions = Vec::with_capacity(results.len());
        for (i, r) in results.into_iter().enumerate() {
            let (version, stored) = r.map_err(|e| store_error(file, &items[i], e))?;
            versions.push(version);
            report.stored.push(stored);
        }
        for (it, version) in items.iter_mut().zip(versions) {
            it.version_id = Some(version);
        }
        // The serial the rewrite below gives the state (`rewrite::apply`: serial + 1).
        let entries: Vec<ManifestEntry> = items
            .iter()
            .map(|it| manifest_entry(it, serial + 1))
            .collect();
        let (_, change) = store::save_manifest(store, prefix, &lineage, entries, &settings)
            .await
            .map_err(|e| match opts.stop.requested() {
                // A stop request ended a throttled call's backoffs ([`pace::Paced::with_stop`]):
                // the call was not carried out, and the run ends by the signal, the state as it was.
                Some(signal) => interrupted(
                    file,
                    signal,
                    items.iter().map(|it| it.secret_name.clone()).collect(),
                    vec![],
                ),
                None => manifest_error(e),
            })?;
        report.manifest = Some(manifest_name);
        report.manifest_change = Some(change);
    }

    let edits = edits_for(&items);
    let (out, new_serial) =
        rewrite::apply(src, doc, &edits).map_err(|error| ScrubError::Rewrite {
            file: file.to_string(),
            error,
        })?;
    debug_assert_eq!(new_serial, serial + 1);
    report.serial_after = new_serial;
    if opts.write {
        report.output = Some(out);
    }
    report.items = items;
    Ok(report)
}

fn store_error(file: &str, it: &Item, error: PutError) -> ScrubError {
    ScrubError::Store {
        file: file.to_string(),
        address: it.address.clone(),
        pointer: it.pointer.clone(),
        secret: it.secret_name.clone(),
        error: Box::new(error),
    }
}

fn interrupted(file: &str, signal: i32, stored: Vec<String>, in_flight: Vec<String>) -> ScrubError {
    ScrubError::Interrupted {
        file: file.to_string(),
        signal,
        stored,
        in_flight,
    }
}

/// Where the values of a scrub go, and what --write meets there ([`place`]).
#[derive(Debug)]
pub struct Placement {
    /// The serial the newest scrubbed state of the lineage was given (from the manifest).
    pub newest: Option<u64>,
    /// Values of an older state stored under a name of their own.
    pub own_names: usize,
    /// For each item: the version of its secret that is AWSCURRENT and holds its value already
    /// (an older state's value that is the current one); `None`: it is stored.
    pub current: Vec<Option<String>>,
    /// For each item: what --write meets at the name it stores the value under.
    pub checks: Vec<Check>,
    /// The scrub manifest's name, and what --write meets there when it saves it.
    pub manifest_name: String,
    pub manifest_check: Check,
    /// Every refusal in `checks` and `manifest_check`, in the order --write would meet them (the
    /// values in order, then the manifest, which it saves last).
    pub refusals: Vec<Refusal>,
}

/// The values --write has under way and has stored, by item index: what a stop request
/// names.
#[derive(Default)]
struct Progress {
    in_flight: std::collections::BTreeSet<usize>,
    /// Created, or given a new version (not those that held the value already).
    stored: std::collections::BTreeSet<usize>,
}

impl Progress {
    fn started(&mut self, i: usize) {
        self.in_flight.insert(i);
    }
    fn done(&mut self, i: usize, stored: Option<Stored>) {
        self.in_flight.remove(&i);
        if stored.is_some_and(|s| s != Stored::Unchanged) {
            self.stored.insert(i);
        }
    }
}

/// What [`place`] found for one value, before it is applied to its item.
enum Looked {
    /// An older state's value that is the current version of its secret already.
    Current(String),
    /// What the name holds; `own`: the older state's own name the value goes under instead.
    At {
        own: Option<String>,
        /// Whether a secret (this state's) is there, or why --write may not write to it.
        found: Result<bool, PutError>,
    },
}

/// Secrets Manager calls under way at once, one value each: every call is a round trip of
/// tens of milliseconds to AWS, and a state holds hundreds of values, each three or four calls
/// in a row. Bounded: the write calls have low quotas (PutSecretValue, and TagResource, 50
/// requests per second per Region each, not adjustable: AWS Secrets Manager quotas), which a
/// few values at a time stay near; a throttled call is retried by the SDK, with backoff, and
/// one still throttled after that is made again and shrinks the calls in flight
/// ([`pace::Paced`], which --write and restore call through).
pub const IN_FLIGHT: usize = 8;

/// A store error on the scrub manifest `name`, as the error of the scrub of `file`.
fn manifest_error<'a>(file: &'a str, name: &'a str) -> impl Fn(PutError) -> ScrubError + Copy + 'a {
    move |error| ScrubError::Store {
        file: file.to_string(),
        address: "the scrub manifest".into(),
        pointer: String::new(),
        secret: name.to_string(),
        error: Box::new(error),
    }
}

/// Decide the secret name of every item, and check every secret --write would write to, reading
/// only (metadata, and for an older state the current values).
///
/// Names: a state older than the newest one the manifest records for the lineage (Terraform's
/// `.backup`, an older copy) must not move AWSCURRENT of the names the newer state's values are
/// under, so a value that differs from the current one goes under a name of its own
/// (`store::older_state_name`), and one that is the same points at the current version.
///
/// Checks: every name a value goes to, and the manifest's, through [`store::existing`] (the
/// owner tag, a deletion scheduled, the KMS key against `--kms-key-id`), the very checks
/// [`store::put_idempotent`] makes before it writes; and on a secret that is there, the version
/// the idempotency token names ([`store::check_token`]: a copy of the state at this serial). A
/// refusal ([`PutError::is_refusal`]) is
/// collected, and the others are checked still; any other failure to read stops here.
///
/// `--write` and a dry run (given a store) both call this, so the dry run shows the names
/// --write uses, and says what it would refuse: --write stops at the refusals before it stores
/// anything.
#[allow(clippy::too_many_arguments)]
pub async fn place(
    store: &dyn SecretStore,
    prefix: &str,
    lineage: &str,
    serial: u64,
    items: &mut [Item],
    settings: &store::SecretSettings,
    file: &str,
    stop: &interrupt::Stop,
) -> Result<Placement, ScrubError> {
    let manifest_name = store::manifest_name(prefix, lineage);
    let manifest_error = manifest_error(file, &manifest_name);
    // What scrub tags its secrets with, and finds on those it may write to.
    let owner = store::tag_value(lineage);
    let head = tokio::select! {
        r = store::existing(store, &manifest_name, &owner, settings) => r,
        signal = stop.wait() => return Err(interrupted(file, signal, vec![], vec![])),
    };
    let (manifest_check, manifest_refused) = match head {
        Ok(None) => (Check::Absent, None),
        Ok(Some(_)) => (Check::Ours, None),
        Err(e) if e.is_refusal() => (Check::Refused(e.to_string()), Some(e)),
        Err(e) => return Err(manifest_error(e)),
    };
    let loaded = tokio::select! {
        m = store::load_manifest(store, &manifest_name) => m,
        signal = stop.wait() => return Err(interrupted(file, signal, vec![], vec![])),
    };
    let newest = match loaded {
        Ok(m) => m.as_ref().and_then(store::newest_serial),
        // A manifest --write refuses already (scheduled for deletion, someone else's): it stops
        // at that, and the names below are those of a current state.
        Err(_) if manifest_refused.is_some() => None,
        Err(e) => return Err(manifest_error(e)),
    };
    let older = newest.is_some_and(|n| serial + 1 < n);
    let mut placement = Placement {
        newest,
        own_names: 0,
        current: Vec::with_capacity(items.len()),
        checks: Vec::with_capacity(items.len()),
        manifest_name: manifest_name.clone(),
        manifest_check,
        refusals: vec![],
    };
    // Read IN_FLIGHT names at a time, the answers taken in item order; the first failure to
    // read (not a refusal) stops it, as it stops --write.
    let owner = owner.as_str();
    let serial_s = serial.to_string();
    let serial_s = serial_s.as_str();
    let all = async {
        let mut answers = futures::stream::iter(items.iter())
            .map(|it| async move {
                if older {
                    match store::current_if_same(
                        store,
                        &it.secret_name,
                        &it.value,
                        lineage,
                        settings,
                    )
                    .await
                    {
                        Ok(Some(version)) => return Looked::Current(version),
                        Ok(None) => {
                            let own = store::older_state_name(&it.secret_name, serial);
                            let token = store::token(&[lineage, serial_s, &it.pointer]);
                            let found =
                                writable(store, &own, owner, settings, &it.value, &token).await;
                            return Looked::At {
                                own: Some(own),
                                found,
                            };
                        }
                        Err(e) => {
                            return Looked::At {
                                own: None,
                                found: Err(e),
                            }
                        }
                    }
                }
                Looked::At {
                    own: None,
                    found: writable(
                        store,
                        &it.secret_name,
                        owner,
                        settings,
                        &it.value,
                        &store::token(&[lineage, serial_s, &it.pointer]),
                    )
                    .await,
                }
            })
            .buffered(IN_FLIGHT);
        let mut looked = Vec::with_capacity(items.len());
        while let Some(l) = answers.next().await {
            let failed = matches!(&l, Looked::At { found: Err(e), .. } if !e.is_refusal());
            looked.push(l);
            if failed {
                break;
            }
        }
        looked
    };
    let looked = tokio::select! {
        l = all => l,
        signal = stop.wait() => return Err(interrupted(file, signal, vec![], vec![])),
    };
    for (it, l) in items.iter_mut().zip(looked) {
        let found = match l {
            Looked::Current(version) => {
                // Known without writing: the reference (and the dry run) can name the
                // version.
                it.version_id = Some(version.clone());
                placement.current.push(Some(version));
                placement.checks.push(Check::Current);
                continue;
            }
            Looked::At { own, found } => {
                if let Some(own) = own {
                    it.secret_name = own;
                    placement.own_names += 1;
                }
                found
            }
        };
        let check = match found {
            Ok(false) => Check::Absent,
            Ok(true) => Check::Ours,
            Err(e) if e.is_refusal() => {
                let check = Check::Refused(e.to_string());
                placement.refusals.push(Refusal {
                    address: it.address.clone(),
                    pointer: it.pointer.clone(),
                    secret: it.secret_name.clone(),
                    error: e,
                });
                check
            }
            Err(e) => return Err(store_error(file, it, e)),
        };
        placement.current.push(None);
        placement.checks.push(check);
    }
    if let Some(e) = manifest_refused {
        placement.refusals.push(Refusal {
            address: "the scrub manifest".into(),
            pointer: String::new(),
            secret: manifest_name,
            error: e,
        });
    }
    Ok(placement)
}

/// Whether the secret at `name` is there, or why --write may not write `value` to it: the checks
/// of [`store::existing`] and, on a secret that is there, the version the idempotency `token`
/// names ([`store::check_token`]: a copy of this state at this serial), so that a copy is
/// refused before anything is stored rather than at its put. Read only when DescribeSecret
/// lists that version (it lists those with a staging label): a scrub of a new serial, the usual
/// case, costs no call more, and an identical re-run one GetSecretValue per value. A copy's
/// version pushed out of the labels (two later scrubs) is still refused at its put.
async fn writable(
    store: &dyn SecretStore,
    name: &str,
    owner: &str,
    settings: &store::SecretSettings,
    value: &offstate_common::SecretValue,
    token: &str,
) -> Result<bool, PutError> {
    match store::existing(store, name, owner, settings).await? {
        Some(meta) if meta.version_stages.contains_key(token) => {
            store::check_token(store, name, value, token)
                .await
                .map(|()| true)
        }
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// After the scrubbed state was written (replaced, or printed for `terraform state push`):
/// delete the manifest pages the new head no longer lists. Returns warnings (pages that could
/// not be deleted, and how to delete them); never a value.
pub async fn state_written(store: &dyn SecretStore, report: &ScrubReport) -> Vec<String> {
    let Some(c) = &report.manifest_change else {
        return vec![];
    };
    store::delete_stale_pages(store, &c.name, &c.lineage, &store::stale_pages(c)).await
}

/// When the state write was refused (the file changed meanwhile, or is read-only): take this
/// scrub's entries out of the manifest again. They name the serial the write would have
/// given, which the state never got from this scrub; Terraform may write that serial next,
/// and restore would take the entries for its state's. The stored values stay (a re-run finds
/// them). Returns warnings, as [`state_written`].
pub async fn state_not_written(
    store: &dyn SecretStore,
    report: &ScrubReport,
) -> Result<Vec<String>, ScrubError> {
    let Some(c) = &report.manifest_change else {
        return Ok(vec![]);
    };
    let stale = store::undo_manifest(store, c)
        .await
        .map_err(|error| ScrubError::Store {
            file: report.file.clone(),
            address: "the scrub manifest".into(),
            pointer: String::new(),
            secret: c.name.clone(),
            error: Box::new(error),
        })?;
    Ok(store::delete_stale_pages(store, &c.name, &c.lineage, &stale).await)
}

fn manifest_entry(it: &Item, serial: u64) -> ManifestEntry {
    let (action, twin, version) = match &it.action {
        Action::Reference => ("reference", None, None),
        Action::NullForTwin { twin, version } => ("null", Some(twin.clone()), version.clone()),
    };
    ManifestEntry {
        pointer: it.pointer.clone(),
        address: it.address.clone(),
        attribute: it.attribute_path.clone(),
        locator: it.locator.clone(),
        action: action.into(),
        twin,
        reference: it.reference().to_string(),
        version_attribute: version,
        serial: Some(serial),
    }
}

fn edits_for(items: &[Item]) -> Vec<Edit> {
    let mut edits = Vec::new();
    for it in items {
        match &it.action {
            Action::Reference => edits.push(Edit {
                pointer: it.pointer.clone(),
                json: go_json_string(&it.reference().to_string()),
            }),
            Action::NullForTwin { version, .. } => {
                edits.push(Edit {
                    pointer: it.pointer.clone(),
                    json: "null".into(),
                });
                if let Some(v) = version {
                    // Two nulled attributes may share a trigger (`passwords` and
                    // `authentication_mode.passwords`): edit it once.
                    if !edits.iter().any(|e| e.pointer == v.pointer) {
                        edits.push(Edit {
                            pointer: v.pointer.clone(),
                            json: v.after.clone(),
                        });
                    }
                }
            }
        }
    }
    edits
}

/// What the diffs of `scrub` and `restore` show for a value: nothing of it, not even its length
/// (a 4-digit PIN was visible as `<secret: 4 chars>`), as Terraform shows `(sensitive value)`.
pub const MASKED: &str = "<secret>";

/// What a dry run says --write does with a secret.
fn check_text(c: &Check) -> String {
    match c {
        Check::Absent => "to be created on --write".into(),
        Check::Ours => "there already, this state's: --write adds a version unless its current one holds this value".into(),
        Check::Current => "already there (its current version holds this value)".into(),
        Check::Refused(why) => format!("--write refuses it: {why}"),
    }
}

/// What a dry run says --write does with the scrub manifest.
fn manifest_check_text(c: &Check) -> String {
    match c {
        Check::Ours | Check::Current => {
            "there already, this state's: --write adds this scrub's entries to it".into()
        }
        c => check_text(c),
    }
}

/// What a dry run says every secret --write creates is made with: its tags (scrub's own, then
/// `--tag`'s) and its KMS key. A tag policy or an SCP that requires a tag or a key refuses
/// CreateSecret; the dry run is where to see it coming.
fn settings_text(settings: &store::SecretSettings) -> String {
    let mut tags = vec![
        format!("{} (this state's lineage)", store::TAG_LINEAGE),
        format!("{} (the resource)", store::TAG_ADDRESS),
        format!("{} (the attribute)", store::TAG_ATTRIBUTE),
        format!("{}=state-scrubber", store::TAG_MANAGED_BY),
    ];
    tags.extend(settings.tags.iter().map(|(k, v)| format!("{k}={v}")));
    let key = match &settings.kms_key_id {
        Some(k) => format!("KMS key {k}"),
        None => "the AWS managed key (aws/secretsmanager; --kms-key-id picks another)".into(),
    };
    let existing = if settings.tags.is_empty() {
        String::new()
    } else {
        "; a secret there already, this state's, gets the --tag tags it lacks".into()
    };
    format!(
        "secrets created on --write: tags {}; {key}{existing}",
        tags.join(", ")
    )
}

/// The redacted, reviewable diff of a scrub.
pub fn render(r: &ScrubReport) -> String {
    let mut s = String::new();
    for note in &r.notes {
        let _ = writeln!(s, "note: {note}");
    }
    if r.items.is_empty() {
        let _ = writeln!(
            s,
            "{}: nothing to scrub (no selected finding holds a plaintext value)",
            r.file
        );
        return s;
    }
    let _ = writeln!(s, "--- {} (serial {})", r.file, r.serial_before);
    let _ = writeln!(
        s,
        "+++ {} (serial {}, lineage {})",
        r.file, r.serial_after, r.lineage
    );
    for (i, it) in r.items.iter().enumerate() {
        let path = if it.attribute_path.is_empty() {
            "(value)"
        } else {
            it.attribute_path.as_str()
        };
        let _ = writeln!(
            s,
            "~ {} {}  [{}; {}]",
            it.address,
            path,
            it.severity.as_str(),
            it.rules.join(", ")
        );
        let _ = writeln!(s, "    - {MASKED}");
        let reference = it.reference().to_string();
        let pending = if it.version_id.is_none() {
            " (version id assigned on --write)"
        } else {
            ""
        };
        match &it.action {
            Action::Reference => {
                let _ = writeln!(s, "    + {reference}{pending}");
            }
            Action::NullForTwin { twin, version } => {
                let v = version
                    .as_ref()
                    .map(|v| format!("; {} {} -> {}", v.attribute, v.before, v.after))
                    .unwrap_or_default();
                let _ = writeln!(s, "    + null (write-only twin {twin}{v})");
                let _ = writeln!(s, "      value kept at {reference}{pending}");
            }
        }
        if let Some(st) = r.stored.get(i) {
            let _ = writeln!(s, "      secret {}: {}", it.secret_name, st.as_str());
        } else if !r.write {
            let what = match r.checks.get(i) {
                Some(c) => check_text(c),
                None if it.version_id.is_some() => check_text(&Check::Current),
                None => "to be stored on --write".into(),
            };
            let _ = writeln!(s, "      secret {}: {what}", it.secret_name);
        }
        let _ = writeln!(s, "      JSON path {}", it.pointer);
    }
    let resources: std::collections::BTreeSet<&str> =
        r.items.iter().map(|i| i.address.as_str()).collect();
    if r.write {
        let _ = writeln!(
            s,
            "{} value(s) in {} resource(s) stored in Secrets Manager and read back{}",
            r.items.len(),
            resources.len(),
            r.manifest
                .as_deref()
                .map(|m| format!("; manifest {m}"))
                .unwrap_or_default()
        );
    } else if let Some(ScrubError::Refused { refusals, .. }) = &r.refused {
        if let Some((name, c)) = &r.manifest_check {
            let _ = writeln!(s, "manifest {name}: {}", manifest_check_text(c));
        }
        let _ = writeln!(
            s,
            "dry run: --write would refuse {} of the secrets it writes to (above), and store nothing; nothing was written",
            refusals.len()
        );
    } else {
        if let Some((name, c)) = &r.manifest_check {
            let _ = writeln!(s, "manifest {name}: {}", manifest_check_text(c));
        }
        let _ = writeln!(s, "{}", settings_text(&r.settings));
        let _ = writeln!(
            s,
            "dry run: {} value(s) in {} resource(s) would move to Secrets Manager; serial {} -> {}; nothing was written (use --write)",
            r.items.len(),
            resources.len(),
            r.serial_before,
            r.serial_after
        );
    }
    s
}
