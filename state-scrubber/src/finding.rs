//! What a finding says. A finding never holds the secret value: only a masked preview (the
//! length, and a token type's public prefix such as `ghp_` when a content rule declares one) and
//! digests that cannot be reversed.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Password,
    GeneratedSecret,
    Token,
    PrivateKey,
    CertificateKey,
    CloudCredential,
    ConnectionString,
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Password => "password",
            Kind::GeneratedSecret => "generated_secret",
            Kind::Token => "token",
            Kind::PrivateKey => "private_key",
            Kind::CertificateKey => "certificate_key",
            Kind::CloudCredential => "cloud_credential",
            Kind::ConnectionString => "connection_string",
            Kind::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!(
                "unknown severity `{s}` (low, medium, high, critical)"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    /// As JSON reports write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// The detection layer that produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// The artifact marks the value sensitive.
    SensitiveMark,
    /// The attribute is in the table of secret attributes.
    AttributeTable,
    /// The value matches a content rule.
    Content,
    /// Key name plus entropy.
    KeyContext,
}

impl Layer {
    pub fn number(self) -> u8 {
        match self {
            Layer::SensitiveMark => 1,
            Layer::AttributeTable => 2,
            Layer::Content => 3,
            Layer::KeyContext => 4,
        }
    }
}

/// The JSON type of the value a finding is about. Layers 2 to 4 read strings only; layer 1 (what
/// the artifact itself marks sensitive) also reports a number so marked (a PIN, a numeric API
/// key, a sensitive output of type number): it is as plaintext in the state as a string.
/// Booleans are never reported (two possible values: nothing to steal, nothing to rotate).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    #[default]
    String,
    Number,
}

impl ValueType {
    pub fn is_string(&self) -> bool {
        *self == ValueType::String
    }
}

/// Where a resource lives: module path, mode, type, name, index key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// `module.a["x"].module.b`, empty for the root module.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub module: String,
    /// `managed`, `data`, or a pseudo mode: `output`, `variable`, `backend`, `provider`.
    pub mode: String,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty", default)]
    pub resource_type: String,
    pub name: String,
    /// Index key as written in an address: `0` or `"key"`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub index_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub deposed: Option<String>,
    /// The keys masked above, for [`number_masked_keys`]; never written.
    #[serde(skip)]
    pub masked: Vec<MaskedKey>,
}

/// Where in an [`Address`] a masked key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyPlace {
    /// The n-th (from 0) quoted instance key of `module`.
    Module(usize),
    Index,
    Deposed,
}

/// A key masked in an address: where it is, and the per-run salted digest of the key (as in
/// `Finding::value_group`; never written), which tells equal keys apart from different ones of the
/// same length while the address is numbered. The key itself is not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedKey {
    pub place: KeyPlace,
    pub digest: String,
}

impl Address {
    /// The address as Terraform prints it.
    pub fn display(&self) -> String {
        let mut s = String::new();
        if !self.module.is_empty() {
            s.push_str(&self.module);
            s.push('.');
        }
        match self.mode.as_str() {
            "managed" => {
                s.push_str(&self.resource_type);
                s.push('.');
                s.push_str(&self.name);
            }
            "data" => {
                s.push_str("data.");
                s.push_str(&self.resource_type);
                s.push('.');
                s.push_str(&self.name);
            }
            "output" => {
                s.push_str("output.");
                s.push_str(&self.name);
            }
            "variable" => {
                s.push_str("var.");
                s.push_str(&self.name);
            }
            other => {
                s.push_str(other);
                if !self.resource_type.is_empty() {
                    s.push('.');
                    s.push_str(&self.resource_type);
                }
                if !self.name.is_empty() {
                    s.push('.');
                    s.push_str(&self.name);
                }
            }
        }
        if let Some(k) = &self.index_key {
            s.push('[');
            s.push_str(k);
            s.push(']');
        }
        if let Some(d) = &self.deposed {
            s.push_str(" (deposed ");
            s.push_str(d);
            s.push(')');
        }
        s
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// The input as reported (for a member of a saved binary plan, its label
    /// `ARCHIVE!/MEMBER`; see [`Finding::archive`]). Baselines match on it.
    pub file: String,
    /// For a member of a saved binary plan (`terraform plan -out`, a zip): the archive as given,
    /// which is the file a SARIF location names (a repository has no file `tfplan!/tfstate`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub archive: Option<String>,
    /// For a member of a saved binary plan: the member (`tfplan`, `tfstate`, `tfstate-prev`).
    /// `line`, `column` and `json_pointer` are positions in that member's JSON (for `tfplan`, in
    /// the `terraform show -json` document made from it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub member: Option<String>,
    /// What kind of artifact the file is (`state_v4`, `plan`, ...).
    pub document: String,
    /// The part of the artifact: `resources`, `outputs`, `resource_changes.after`, ...
    pub section: String,
    pub address: String,
    pub resource: Address,
    /// Attribute path in Terraform's notation, e.g. `master_user_options[0].master_user_password`.
    pub attribute_path: String,
    /// RFC 6901 pointer to the JSON value in the file.
    pub json_pointer: String,
    /// Pointer inside JSON held in that string value (`secret_string`, `jsonencode(...)`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub inner_pointer: Option<String>,
    /// `inner_pointer` as the fingerprint sees it: an element of an array that is a `{name,
    /// value}` pair is named by its `name`, not its index (see [`push_identity_step`]).
    #[serde(skip)]
    pub inner_identity: Option<String>,
    /// How the value was decoded before matching: `json-in-string`, `base64`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub decoded: Vec<String>,
    pub kind: Kind,
    /// `number` for a number the artifact marks sensitive; absent for a string (every other
    /// finding). A rewrite that replaces strings must not take a number for one.
    #[serde(skip_serializing_if = "ValueType::is_string", default)]
    pub value_type: ValueType,
    pub rule_id: String,
    pub rule_name: String,
    pub layer: u8,
    pub layer_name: Layer,
    /// Every layer that recognised the value, with its reason.
    pub reasons: Vec<String>,
    pub severity: Severity,
    pub confidence: Confidence,
    pub fix: String,
    pub line: u32,
    pub column: u32,
    /// Keyed digest of file-independent identity (address, section, path, place inside the
    /// value): what baselines match. Not the rule, which changes with the layer that saw it.
    pub fingerprint: String,
    /// The fingerprint as versions before 0.2 computed it (with the rule id and the index of a
    /// name/value pair): baselines written then still accept the finding.
    #[serde(skip)]
    pub legacy_fingerprint: String,
    /// Digest of the value under a random per-run salt that is never written: equal values found in
    /// one run share it; it means nothing across runs and cannot be brute-forced offline.
    pub value_group: String,
    /// The length, after the public prefix of a token type when the matching content rule
    /// declares one: `…(24 chars)`, `ghp_…(40 chars)`. No other character of the value.
    pub preview: String,
    /// A member name on the path (a map key in a value) could be a secret and is shown by its
    /// length in `attribute_path` and `json_pointer` (which then point at no value in the
    /// file): scrub leaves such a finding alone. Never written.
    #[serde(skip)]
    pub masked_path: bool,
    /// Each member name shown masked in `attribute_path` and `json_pointer`, for
    /// [`number_masked_steps`]. Never written.
    #[serde(skip)]
    pub masked_steps: Vec<MaskedStep>,
    /// The paths of other findings that `reasons` quote (a `same-value` finding names where
    /// the secret was found), with their masked member names, so that [`number_masked_steps`]
    /// numbers them there as it numbers those findings' own paths. Never written.
    #[serde(skip)]
    pub quoted_paths: Vec<QuotedPath>,
}

/// An attribute path as another finding shows it, quoted in a finding's reasons (between
/// backquotes), and that finding's masked member names in it ([`MaskedStep::path_end`] is an
/// offset in `path`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotedPath {
    pub path: String,
    pub steps: Vec<MaskedStep>,
}

/// A member name in a value that a finding's path shows by its length (see
/// `Finding::masked_path`): which names show the same, which of them are one name, and where
/// the shown name ends, so that two names of one length are told apart. The name itself is not
/// kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaskedStep {
    /// The object the name is a member of (its unit's pointer and the path to it, masked names
    /// above it by their salted digests) and the name as shown: the names of one group show
    /// the same. Never shown.
    pub group: String,
    /// The name's per-run salted digest (as `Finding::value_group`).
    pub digest: String,
    /// Byte offset in `json_pointer` just after the shown name.
    pub pointer_end: usize,
    /// Byte offset in `attribute_path` just after the shown name (before its closing `"]`),
    /// when the attribute path holds it.
    pub path_end: Option<usize>,
}

/// Masked preview of a value: its length in characters, nothing of the value itself (even two
/// characters of a password are a fragment of it).
pub fn preview(value: &str) -> String {
    format!("…({} chars)", value.chars().count())
}

/// [`preview`] of a JSON number: its length as written, and that it is a number. Not in the
/// `…(N chars)` form, which the search for found secrets inside free text reads: a number is
/// looked for nowhere else (short numbers recur by chance: ports, counts, account IDs).
pub fn preview_number(raw: &str) -> String {
    format!("…(number, {} chars)", raw.chars().count())
}

/// [`value_group`] of a JSON number (as written): in its own domain, so that no string's digest
/// equals it and a sensitive number never makes an equal string elsewhere a finding.
pub fn number_group(salt: &[u8; 32], raw: &str) -> String {
    value_group(salt, &format!("\0number\0{raw}"))
}

/// [`preview`] after the longest of `prefixes` the value starts with: the public, fixed prefix a
/// content rule declares for its token type (`ghp_`, `AKIA`, `-----BEGIN`), which says what the
/// value is and nothing of what is secret in it. A value that merely contains such a token shows
/// only its length.
pub fn preview_with_prefix(value: &str, prefixes: &[String]) -> String {
    let head = prefixes
        .iter()
        .filter(|p| !p.is_empty() && value.len() > p.len() && value.starts_with(p.as_str()))
        .max_by_key(|p| p.len());
    match head {
        Some(p) => format!("{p}{}", preview(value)),
        None => preview(value),
    }
}

/// How an address key that is itself a secret is shown: the quoted [`preview`].
pub fn masked_key(raw: &str) -> String {
    format!("\"{}\"", preview(raw))
}

/// `module.a["KEY"].module.b` with each quoted key that `secret` picks shown as [`masked_key`];
/// also the raw keys picked, in order, each with its ordinal among the quoted keys
/// ([`KeyPlace::Module`]). Keys are written as Terraform writes them (JSON-like quoting); one that
/// does not decode is checked as written.
pub fn mask_module_keys(
    module: &str,
    mut secret: impl FnMut(&str) -> bool,
) -> (String, Vec<(usize, String)>) {
    let mut out = String::with_capacity(module.len());
    let mut picked = Vec::new();
    for (ordinal, piece) in module_pieces(module).into_iter().enumerate() {
        out.push_str(piece.before);
        let Some(quoted) = piece.key else { break };
        let raw: String = if piece.closed {
            serde_json::from_str(quoted).unwrap_or_else(|_| quoted[1..quoted.len() - 1].to_string())
        } else {
            // No closing quote (not as Terraform writes addresses): the rest is the key, and
            // it is checked like any other before it is shown.
            quoted[1..].to_string()
        };
        if secret(&raw) {
            out.push_str(&masked_key(&raw));
            picked.push((ordinal, raw));
        } else {
            out.push_str(quoted);
        }
    }
    (out, picked)
}

/// One quoted key of a module path and the text before it (`module.a[`); the last piece holds
/// the text after the last key and no key.
struct ModulePiece<'a> {
    before: &'a str,
    /// `"KEY"` with its quotes (no closing quote if the path ends inside the key).
    key: Option<&'a str>,
    closed: bool,
}

fn module_pieces(module: &str) -> Vec<ModulePiece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = module;
    while let Some(open) = rest.find("[\"") {
        let body = &rest[open + 1..];
        // The closing quote: the first `"` after the opening one not escaped by a backslash.
        let mut end = None;
        let mut escaped = false;
        for (i, c) in body.char_indices().skip(1) {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let key_end = end.map_or(body.len(), |e| e + 1);
        pieces.push(ModulePiece {
            before: &rest[..open + 1],
            key: Some(&body[..key_end]),
            closed: end.is_some(),
        });
        rest = &body[key_end..];
    }
    pieces.push(ModulePiece {
        before: rest,
        key: None,
        closed: false,
    });
    pieces
}

/// Mask in `a` each string key that `secret` picks (it gives the key's salted digest): the index
/// key, the deposed key and the module instance keys, each remembered in `a.masked`. True if one
/// was.
pub fn mask_address(a: &mut Address, secret: impl Fn(&str) -> Option<String>) -> bool {
    let mut changed = false;
    if let Some(k) = &a.index_key {
        // Index keys are kept as Terraform writes them: `0` or a JSON string.
        if let Ok(raw) = serde_json::from_str::<String>(k) {
            if let Some(digest) = secret(&raw) {
                a.index_key = Some(masked_key(&raw));
                a.masked.push(MaskedKey {
                    place: KeyPlace::Index,
                    digest,
                });
                changed = true;
            }
        }
    }
    if let Some(d) = &a.deposed {
        if let Some(digest) = secret(d) {
            a.deposed = Some(preview(d));
            a.masked.push(MaskedKey {
                place: KeyPlace::Deposed,
                digest,
            });
            changed = true;
        }
    }
    if a.module.contains("[\"") {
        let mut digests = Vec::new();
        let (masked, picked) = mask_module_keys(&a.module, |k| match secret(k) {
            Some(d) => {
                digests.push(d);
                true
            }
            None => false,
        });
        if !picked.is_empty() {
            a.module = masked;
            for ((ordinal, _), digest) in picked.into_iter().zip(digests) {
                a.masked.push(MaskedKey {
                    place: KeyPlace::Module(ordinal),
                    digest,
                });
            }
            changed = true;
        }
    }
    changed
}

/// Tell apart masked keys that show the same (`["…(16 chars)"]` for every 16-character key).
///
/// Within one resource (index keys), one resource instance (deposed keys) or one module call
/// (module instance keys), the masked keys are ranked by where their first finding is in the
/// file; the first shows as before, the n-th gets ` #n` (`["…(16 chars) #2"]`). The rank comes
/// from positions only, never from the key (a digest of it, even salted, would be written with a
/// known default key in every baseline), so the same file numbers the same on every run, and
/// the address, the fingerprint and scrub's secret names agree. The salted digests only say
/// which findings share a key, in memory.
pub fn number_masked_keys(findings: &mut [Finding], fp_key: &[u8]) {
    use std::collections::HashMap;
    /// (group, salted digest of the key).
    type Slot = (String, String);
    /// A line and column in the file.
    type Pos = (u32, u32);
    // Each masked key of each finding: (finding, place, group, digest).
    let mut keys: Vec<(usize, KeyPlace, String, String)> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let a = &f.resource;
        if a.masked.is_empty() {
            continue;
        }
        let digest_at = |place: KeyPlace| {
            a.masked
                .iter()
                .find(|m| m.place == place)
                .map(|m| m.digest.as_str())
        };
        // The module path with masked keys replaced by their digests (an identity, never shown),
        // and where in it each quoted key starts: its module call.
        let mut ident = String::new();
        let mut calls = Vec::new();
        for (n, piece) in module_pieces(&a.module).into_iter().enumerate() {
            ident.push_str(piece.before);
            let Some(k) = piece.key else { break };
            calls.push(ident.clone());
            match digest_at(KeyPlace::Module(n)) {
                Some(d) => {
                    ident.push('\0');
                    ident.push_str(d);
                }
                None => ident.push_str(k),
            }
        }
        let resource = format!("{ident}\0{}\0{}\0{}", a.mode, a.resource_type, a.name);
        let instance = format!(
            "{resource}\0{}",
            digest_at(KeyPlace::Index)
                .or(a.index_key.as_deref())
                .unwrap_or("")
        );
        for m in &a.masked {
            let group = match m.place {
                KeyPlace::Module(n) => calls.get(n).cloned().unwrap_or_default(),
                KeyPlace::Index => resource.clone(),
                KeyPlace::Deposed => instance.clone(),
            };
            let tag = match m.place {
                KeyPlace::Module(_) => 'm',
                KeyPlace::Index => 'i',
                KeyPlace::Deposed => 'd',
            };
            let group = format!("{tag}\0{group}");
            keys.push((i, m.place, group, m.digest.clone()));
        }
    }
    if keys.is_empty() {
        return;
    }
    // First position of each (group, key); findings are not sorted yet.
    let mut first: HashMap<Slot, Pos> = HashMap::new();
    for (i, _, group, digest) in &keys {
        let pos = (findings[*i].line, findings[*i].column);
        first
            .entry((group.clone(), digest.clone()))
            .and_modify(|p| *p = (*p).min(pos))
            .or_insert(pos);
    }
    let mut by_group: HashMap<&str, Vec<(Pos, &str)>> = HashMap::new();
    for ((group, digest), pos) in &first {
        by_group
            .entry(group.as_str())
            .or_default()
            .push((*pos, digest.as_str()));
    }
    let mut rank: HashMap<Slot, usize> = HashMap::new();
    for (group, mut members) in by_group {
        members.sort();
        for (n, (_, digest)) in members.into_iter().enumerate() {
            rank.insert((group.to_string(), digest.to_string()), n + 1);
        }
    }
    let mut touched: Vec<usize> = Vec::new();
    for (i, place, group, digest) in keys {
        let n = rank[&(group, digest)];
        touched.push(i);
        if n < 2 {
            continue;
        }
        let a = &mut findings[i].resource;
        let mark = format!(" #{n}");
        match place {
            KeyPlace::Index => {
                // Masked index keys are quoted ([`masked_key`]): the mark goes inside.
                if let Some(k) = &mut a.index_key {
                    match k.strip_suffix('"') {
                        Some(body) if body.starts_with('"') => *k = format!("{body}{mark}\""),
                        _ => k.push_str(&mark),
                    }
                }
            }
            KeyPlace::Deposed => {
                if let Some(d) = &mut a.deposed {
                    d.push_str(&mark);
                }
            }
            KeyPlace::Module(ordinal) => {
                let mut out = String::with_capacity(a.module.len() + mark.len());
                for (o, piece) in module_pieces(&a.module).into_iter().enumerate() {
                    out.push_str(piece.before);
                    let Some(k) = piece.key else { break };
                    match k.strip_suffix('"') {
                        // A masked key always has its closing quote.
                        Some(body) if o == ordinal && piece.closed => {
                            out.push_str(body);
                            out.push_str(&mark);
                            out.push('"');
                        }
                        _ => out.push_str(k),
                    }
                }
                a.module = out;
            }
        }
    }
    touched.dedup();
    for i in touched {
        let f = &mut findings[i];
        f.address = f.resource.display();
        f.set_fingerprints(fp_key);
    }
}

/// Tell apart masked member names that show the same in findings' paths
/// (`input["…(12 chars)"]` for every 12-character name), as [`number_masked_keys`] does for
/// address keys: among the names of one object that show the same, ranked by where their first
/// finding is in the file, the first shows as before and the n-th gets ` #n`
/// (`input["…(12 chars) #2"]`). Positions only, never the name, so one file numbers the same on
/// every run, and two names no longer share a fingerprint (a baseline accepting one of them
/// accepted the other).
pub fn number_masked_steps(findings: &mut [Finding], fp_key: &[u8]) {
    use std::collections::HashMap;
    type Slot<'a> = (&'a str, &'a str);
    /// A line and column in the file.
    type Pos = (u32, u32);
    let mut first: HashMap<Slot<'_>, Pos> = HashMap::new();
    for f in findings.iter() {
        for m in &f.masked_steps {
            let pos = (f.line, f.column);
            first
                .entry((m.group.as_str(), m.digest.as_str()))
                .and_modify(|p| *p = (*p).min(pos))
                .or_insert(pos);
        }
    }
    let mut by_group: HashMap<&str, Vec<(Pos, &str)>> = HashMap::new();
    for ((group, digest), pos) in &first {
        by_group.entry(group).or_default().push((*pos, digest));
    }
    let mut rank: HashMap<(String, String), usize> = HashMap::new();
    for (group, mut members) in by_group {
        if members.len() < 2 {
            continue;
        }
        members.sort();
        for (n, (_, digest)) in members.into_iter().enumerate().skip(1) {
            rank.insert((group.to_string(), digest.to_string()), n + 1);
        }
    }
    if rank.is_empty() {
        return;
    }
    let mark_of = |m: &MaskedStep| {
        rank.get(&(m.group.clone(), m.digest.clone()))
            .map(|n| format!(" #{n}"))
    };
    for f in findings.iter_mut() {
        // A path quoted in the reasons shows the numbers its own finding shows.
        for q in std::mem::take(&mut f.quoted_paths) {
            let mut in_path: Vec<(usize, String)> = q
                .steps
                .iter()
                .filter_map(|m| Some((m.path_end?, mark_of(m)?)))
                .collect();
            if in_path.is_empty() {
                continue;
            }
            let mut path = q.path.clone();
            insert_marks(&mut in_path, &mut path);
            let (old, new) = (format!("`{}`", q.path), format!("`{path}`"));
            for r in &mut f.reasons {
                if r.contains(&old) {
                    *r = r.replace(&old, &new);
                }
            }
        }
        // (offset, mark) in each string, applied from the end so earlier offsets hold.
        let mut in_pointer: Vec<(usize, String)> = Vec::new();
        let mut in_path: Vec<(usize, String)> = Vec::new();
        for m in &f.masked_steps {
            let Some(mark) = mark_of(m) else {
                continue;
            };
            in_pointer.push((m.pointer_end, mark.clone()));
            if let Some(e) = m.path_end {
                in_path.push((e, mark));
            }
        }
        if in_pointer.is_empty() {
            continue;
        }
        insert_marks(&mut in_pointer, &mut f.json_pointer);
        insert_marks(&mut in_path, &mut f.attribute_path);
        f.set_fingerprints(fp_key);
    }
}

/// Insert each (offset, mark) of `marks` into `s`, from the end so that earlier offsets hold.
fn insert_marks(marks: &mut [(usize, String)], s: &mut String) {
    marks.sort_by_key(|m| std::cmp::Reverse(m.0));
    for (at, mark) in marks.iter() {
        if *at <= s.len() && s.is_char_boundary(*at) {
            s.insert_str(*at, mark);
        }
    }
}

/// The raw (decoded) instance keys of a module path, in order.
pub fn module_keys(module: &str) -> Vec<String> {
    let keys = std::cell::RefCell::new(Vec::new());
    mask_module_keys(module, |k| {
        keys.borrow_mut().push(k.to_string());
        false
    });
    keys.into_inner()
}

impl Finding {
    /// Set `fingerprint` and `legacy_fingerprint` from the other fields, under `key`.
    pub fn set_fingerprints(&mut self, key: &[u8]) {
        let identity = self.inner_identity.as_deref();
        // A second or later secret of one value (`/~secret:RULE:N`): versions before 0.2 never
        // reported one, so no old baseline may accept it (a second GitHub token in a script
        // had the legacy fingerprint of the first).
        let inner = match identity {
            Some(id) if id.contains("/~secret:") => id,
            _ => self.inner_pointer.as_deref().unwrap_or(""),
        };
        self.fingerprint = fingerprint(
            key,
            &self.address,
            &self.section,
            &self.attribute_path,
            identity.unwrap_or(inner),
        );
        self.legacy_fingerprint = legacy_fingerprint(
            key,
            &self.address,
            &self.section,
            &self.attribute_path,
            inner,
            &self.rule_id,
        );
    }
}

/// Marks the name of a `{name, value}` pair in an inner identity (`~` is escaped in pointer
/// tokens as `~0`/`~1`, so no pointer token starts with `~n`).
const PAIR_STEP: &str = "~name:";

/// Push one array element's step of an inner identity: `/~name:NAME` for a `{name, value}`
/// pair, the index otherwise.
pub fn push_identity_step(s: &mut String, index: usize, pair_name: Option<&str>) {
    s.push('/');
    match pair_name {
        Some(n) => {
            s.push_str(PAIR_STEP);
            crate::json::push_pointer_token(s, n);
        }
        None => s.push_str(&index.to_string()),
    }
}

type HmacSha256 = Hmac<Sha256>;

/// Default key of the fingerprint HMAC; override with `STATE_SCRUBBER_FINGERPRINT_KEY` to make
/// fingerprints meaningless outside an organisation.
pub const DEFAULT_FINGERPRINT_KEY: &[u8] = b"state-scrubber/fingerprint/v1";

/// A finding's fingerprint: where it is (address, section, attribute path, stable place inside
/// the value), not which rule or layer recognised it. A Terraform upgrade that starts writing
/// `sensitive_attributes` turns a key-name finding into a marked one, and a rule added or tuned
/// may take over a value; neither is a new finding.
pub fn fingerprint(key: &[u8], address: &str, section: &str, path: &str, inner: &str) -> String {
    keyed(key, &["fingerprint/v2", address, section, path, inner])
}

/// The fingerprint of earlier versions, which also digested the rule id (and the index of a
/// name/value pair in `inner`): accepted when reading a baseline.
pub fn legacy_fingerprint(
    key: &[u8],
    address: &str,
    section: &str,
    path: &str,
    inner: &str,
    rule: &str,
) -> String {
    keyed(key, &[address, section, path, inner, rule])
}

fn keyed(key: &[u8], parts: &[&str]) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("hmac takes any key length");
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    hex(&mac.finalize().into_bytes()[..16])
}

/// Per-run salted digest of a value (see `Finding::value_group`).
pub fn value_group(salt: &[u8; 32], value: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(salt).expect("hmac takes any key length");
    mac.update(value.as_bytes());
    hex(&mac.finalize().into_bytes()[..6])
}

pub fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(H[(x >> 4) as usize] as char);
        s.push(H[(x & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_shows_the_length_and_only_a_declared_public_prefix() {
        assert_eq!(preview("short"), "…(5 chars)");
        assert_eq!(preview("abcdefghijklmnop"), "…(16 chars)");
        assert_eq!(preview("\"\\cdéfghijklmnop"), "…(16 chars)");
        let p = ["gh".to_string(), "ghp_".to_string()];
        assert_eq!(preview_with_prefix("ghp_abcdefgh", &p), "ghp_…(12 chars)");
        assert_eq!(preview_with_prefix("token ghp_abcdefgh", &p), "…(18 chars)");
        assert_eq!(preview_with_prefix("abcdefgh", &[]), "…(8 chars)");
    }

    #[test]
    fn fingerprint_is_keyed_and_field_separated() {
        let a = fingerprint(b"k", "aws_db_instance.a", "resources", "password", "");
        let b = fingerprint(b"k2", "aws_db_instance.a", "resources", "password", "");
        let c = fingerprint(b"k", "aws_db_instance.ap", "resources", "assword", "");
        let l = legacy_fingerprint(b"k", "aws_db_instance.a", "resources", "password", "", "r");
        assert_ne!(a, l);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn module_keys_are_masked_when_picked() {
        let (m, picked) = mask_module_keys(
            "module.a[\"eu\"].module.b[\"s3cr\\\"etvaluevalue\"].module.c[0]",
            |k| k.starts_with("s3cr"),
        );
        assert_eq!(m, "module.a[\"eu\"].module.b[\"…(17 chars)\"].module.c[0]");
        assert_eq!(picked, vec![(1, "s3cr\"etvaluevalue".to_string())]);
        let (m, picked) = mask_module_keys("module.a[\"unclosed", |_| false);
        assert_eq!(m, "module.a[\"unclosed");
        assert!(picked.is_empty());
        // An unclosed key is still checked: a secret there is masked, not printed.
        let (m, picked) =
            mask_module_keys("module.a[\"s3cretvaluevalue", |k| k.starts_with("s3cr"));
        assert_eq!(m, "module.a[\"…(16 chars)\"");
        assert_eq!(picked, vec![(0, "s3cretvaluevalue".to_string())]);
    }

    #[test]
    fn addresses_print_like_terraform() {
        let a = Address {
            module: "module.db[\"eu\"]".into(),
            mode: "data".into(),
            resource_type: "aws_ssm_parameter".into(),
            name: "p".into(),
            index_key: Some("0".into()),
            deposed: None,
            masked: vec![],
        };
        assert_eq!(a.display(), "module.db[\"eu\"].data.aws_ssm_parameter.p[0]");
    }
}
