//! From detections to findings: where a value is ([`Pos`], [`Site`]), the finding made for
//! each detection, and the findings' order and columns.

use super::error::plain_key;
use super::same_value::SAME_VALUE_RULE;
use super::scanner::{Scanned, Scanner};
use crate::detect::{attribute_path, pointer, Step};
use crate::finding::{preview, Address, Finding, MaskedStep, QuotedPath, Severity};
use std::borrow::Cow;

/// Findings in file order (stable: several findings on one value keep their order), their
/// columns counted in characters.
pub(super) fn sort_findings(mut s: Scanned, src: &[u8]) -> Scanned {
    s.findings.sort_by_key(|f| (f.line, f.column));
    char_columns(src, &mut s.findings);
    s
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

#[derive(Debug, Clone, Copy)]
pub(super) struct Pos {
    pub(super) line: u32,
    pub(super) column: u32,
}

impl Pos {
    /// Where `node` starts in the file.
    pub(super) fn of(node: &crate::json::Node) -> Pos {
        Pos {
            line: node.line,
            column: node.column,
        }
    }

    /// Where the member name `key` starts. The parser keeps no column for a member name: it
    /// is counted from its start (which is after the opening quote: the column of the quote,
    /// 1-based).
    pub(super) fn of_key(src: &[u8], dom: &crate::json::Dom, key: crate::json::NodeId) -> Pos {
        let n = dom.node(key);
        let line_start = memchr::memrchr(b'\n', &src[..n.start]).map_or(0, |i| i + 1);
        Pos {
            line: n.line,
            column: (n.start - line_start) as u32,
        }
    }
}

/// A value to report: where it is and what was found.
pub(super) struct Site<'a> {
    pub(super) section: &'a str,
    pub(super) address: &'a Address,
    /// Pointer of the unit in the file and the path below it.
    pub(super) unit_pointer: &'a str,
    pub(super) rel: &'a [Step<'a>],
    /// Attribute path (relative to the resource's attributes).
    pub(super) attr: &'a [Step<'a>],
    pub(super) pos: Pos,
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
        | ["deferred_changes", _, "resource_change", "change", "before" | "after", "id"]
        // `terraform test -verbose -json`: a run's plan, message i of the UI stream.
        | [_, "test_plan", "resource_changes" | "resource_drift", _, "change", "before" | "after", "id"] => {
            true
        }
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

/// Whether a value is what the provider finds the resource by: its `id` or identity
/// ([`is_id_attribute`]), or a top-level `identifier`/`*_identifier` (`aws_db_instance`'s
/// `identifier`, `aws_rds_cluster`'s `cluster_identifier`).
fn names_the_resource(pointer: &str, attribute_path: &str) -> bool {
    is_id_attribute(pointer)
        || (!attribute_path.contains(['.', '['])
            && (attribute_path == "identifier" || attribute_path.ends_with("_identifier")))
}

/// A `same-value` copy of a secret in an identifier ([`names_the_resource`]): a database whose
/// password is its name (`identifier`, `id`, `username` all equal to `password`). The copy is a
/// leak of the same secret and stays reported, but at low severity: it cannot be rewritten
/// while the provider finds the resource by it, and the secret itself is reported (at its own
/// severity) where it was found, so the same value is not three more high findings.
fn demote_identifier_copy(f: &mut Finding) {
    f.severity = f.severity.min(Severity::Low);
    f.reasons.push(format!(
        "`{}` is what the provider finds the resource by: the copy is reported at low severity, the secret at its own where it was found",
        f.attribute_path
    ));
    f.fix = "rotate the secret where it was found, and replace the resource with one whose identifier is not a secret: the copy stays in the state as long as the resource is found by it".to_string();
}

/// Whether the attribute at `attribute_path` names a user or login (`username`, `user`,
/// `master_username`, `administrator_login`, `admin_user`): a name that is shown, not kept secret.
fn names_a_user(attribute_path: &str) -> bool {
    let last = attribute_path.rsplit('.').next().unwrap_or("");
    let last = last.split('[').next().unwrap_or("").to_ascii_lowercase();
    ["user", "username", "user_name", "login", "login_name"]
        .iter()
        .any(|n| last == *n || last.ends_with(&format!("_{n}")))
}

/// The fix of a `same-value` copy of a secret in a user name ([`names_a_user`]): the secret's own
/// fix (a password's write-only twin) takes it out of state where it was found, not here.
pub const USER_NAME_COPY_FIX: &str = "a user name is not kept secret: state and plans store it in plaintext whatever is done about the secret it equals, and consoles, logs and connection strings show it. Give the user a name of its own, neither the secret nor made from it (a new name may replace the user or the resource), then rotate the secret";

/// The content rule for AWS access key IDs (`AKIA...`), which identify a key without being one.
const AWS_ACCESS_KEY_ID_RULE: &str = "aws-access-key-id";

impl<'e> Scanner<'e> {
    pub(super) fn push_dets(&mut self, site: &Site<'_>) {
        let shown = self.shown(site.unit_pointer, site.rel, site.attr);
        for d in std::mem::take(&mut self.dets) {
            let address = site.address.display();
            let attribute_path = shown.attribute_path.clone();
            let json_pointer = shown.json_pointer.clone();
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
                masked_path: shown.masked,
                masked_steps: shown.steps.clone(),
                quoted_paths: d.quoted_path.into_iter().collect(),
            };
            if f.rule_id == SAME_VALUE_RULE
                && names_the_resource(&f.json_pointer, &f.attribute_path)
            {
                demote_identifier_copy(&mut f);
            } else if f.rule_id == SAME_VALUE_RULE && names_a_user(&f.attribute_path) {
                f.fix = USER_NAME_COPY_FIX.to_string();
            }
            f.set_fingerprints(self.fp_key);
            // A member name in JSON held in the string (`{"ghp_...": ...}` in a
            // `container_definitions`) is shown as one on the path is (after the fingerprints,
            // which keep their inner pointer as before).
            if let Some(inner) = &f.inner_pointer {
                if let Some(masked) = mask_pointer_names(inner, |k| self.secret_key(k)) {
                    f.inner_pointer = Some(masked);
                }
            }
            self.findings.push(f);
        }
    }

    /// Whether a member name in a value could be a secret (a token used as a map key,
    /// `{(var.token) = ...}`): not a plain name as errors show one ([`plain_key`], on its pointer
    /// token), and random-looking or matched by a content rule. Attribute names and tag keys
    /// (`user_name`, `Name`, `kubernetes.io/cluster/x`, `Cost Center`) are not.
    pub(super) fn secret_key(&self, key: &str) -> bool {
        let mut token = String::new();
        crate::json::push_pointer_token(&mut token, key);
        !plain_key(&token)
            && (crate::rules::looks_random(key) || self.engine.analyze_map_key(key).is_some())
    }

    /// The finding for a member name in a value that a content rule matches (a GitHub token as a
    /// key of `input` or `triggers_replace`): it is in the file as written, marked or not.
    pub(super) fn key_detection(&self, key: &str) -> Option<crate::detect::Detection> {
        let mut token = String::new();
        crate::json::push_pointer_token(&mut token, key);
        if plain_key(&token) {
            return None;
        }
        self.engine.analyze_map_key(key)
    }

    /// `steps` as findings show them: each member name that [`Self::secret_key`] picks shown by
    /// its length, as a value's preview, and the indices of those names. The fingerprint, made
    /// from the shown path, is then stable across runs and holds nothing of the key.
    fn shown_steps<'a>(&self, steps: &[Step<'a>]) -> (Vec<Step<'a>>, Vec<usize>) {
        let mut masked = Vec::new();
        let shown = steps
            .iter()
            .enumerate()
            .map(|(i, s)| match s {
                Step::Key(k) if self.secret_key(k) => {
                    masked.push(i);
                    Step::Key(Cow::Owned(preview(k)))
                }
                other => other.clone(),
            })
            .collect();
        (shown, masked)
    }

    /// The pointer (`unit` and `rel`) and attribute path (`attr`, the end of the same path) of
    /// a value as findings show them ([`Self::shown_steps`]), with each masked member name
    /// ([`MaskedStep`]) so that [`crate::finding::number_masked_steps`] can tell two names of
    /// one length apart.
    pub(super) fn shown(&self, unit: &str, rel: &[Step<'_>], attr: &[Step<'_>]) -> Shown {
        let (rel_shown, in_rel) = self.shown_steps(rel);
        let (attr_shown, in_attr) = self.shown_steps(attr);
        let mut steps: Vec<MaskedStep> = Vec::new();
        for &i in &in_rel {
            let mut group = unit.to_string();
            for (j, s) in rel[..i].iter().enumerate() {
                group.push('/');
                match s {
                    Step::Key(k) if in_rel.contains(&j) => {
                        group.push('\0');
                        group.push_str(&self.engine.value_digest(k));
                    }
                    Step::Key(k) => crate::json::push_pointer_token(&mut group, k),
                    Step::Idx(n) => group.push_str(&n.to_string()),
                }
            }
            group.push('\0');
            let (Step::Key(name), Step::Key(as_shown)) = (&rel[i], &rel_shown[i]) else {
                continue;
            };
            group.push_str(as_shown);
            steps.push(MaskedStep {
                group,
                digest: self.engine.value_digest(name),
                pointer_end: unit.len() + pointer(&rel_shown[..=i]).len(),
                path_end: None,
            });
        }
        // `attr` is the end of the path `rel` is: its masked names are the last ones of `rel`.
        for (m, &j) in steps.iter_mut().rev().zip(in_attr.iter().rev()) {
            // A masked name is never an identifier: shown as `["…(12 chars)"]`.
            m.path_end = Some(attribute_path(&attr_shown[..=j]).len() - 2);
        }
        Shown {
            json_pointer: format!("{unit}{}", pointer(&rel_shown)),
            attribute_path: attribute_path(&attr_shown),
            masked: !in_rel.is_empty() || !in_attr.is_empty(),
            steps,
        }
    }
}

impl Scanner<'_> {
    /// The attribute path `attr` (the end of `rel`, below `unit`) as its findings show it, to
    /// quote in another finding's reasons: member names that could be secrets masked, never as
    /// written.
    pub(super) fn quoted(&self, unit: &str, rel: &[Step<'_>], attr: &[Step<'_>]) -> QuotedPath {
        let shown = self.shown(unit, rel, attr);
        QuotedPath {
            path: shown.attribute_path,
            steps: shown.steps,
        }
    }
}

/// `pointer` with each member name that `secret` picks shown as its [`preview`] (tokens of at
/// most 3 digits, array indices, are left alone); `None` when none is.
pub(super) fn mask_pointer_names(pointer: &str, secret: impl Fn(&str) -> bool) -> Option<String> {
    let mut out = String::new();
    let mut any = false;
    for raw in crate::scrub::rewrite::pointer_tokens(pointer) {
        out.push('/');
        let index = raw.len() <= 3 && raw.bytes().all(|b| b.is_ascii_digit());
        if !index && secret(&raw) {
            any = true;
            crate::json::push_pointer_token(&mut out, &preview(&raw));
        } else {
            crate::json::push_pointer_token(&mut out, &raw);
        }
    }
    any.then_some(out)
}

/// A value's place as findings show it: see [`Scanner::shown`].
pub(super) struct Shown {
    pub(super) json_pointer: String,
    pub(super) attribute_path: String,
    /// A member name on the path is shown masked (`Finding::masked_path`).
    pub(super) masked: bool,
    pub(super) steps: Vec<MaskedStep>,
}
