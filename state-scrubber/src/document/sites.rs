//! Values kept until the end of the file (address keys, outputs and variables, free text) and
//! reported there if they equal (or hold) a value found secret elsewhere in it.

use super::findings::Pos;
use super::same_value::{SameValue, SAME_VALUE_RULE};
use crate::detect::{attribute_path, pointer, Engine, Step};
use crate::finding::{
    mask_address, number_masked_keys, preview, Address, Finding, MaskedStep, QuotedPath, ValueType,
};
use std::borrow::Cow;

/// A string address key (index, deposed or module instance key) that no content rule picked.
/// After the scan it is masked and reported if it equals a value found secret anywhere in the
/// file (a `random_password` result used as a `for_each` key has no token shape; only the value
/// found elsewhere says it is a secret). The key itself is kept only as its salted digest.
pub(super) struct KeySite {
    pub(super) digest: String,
    pub(super) preview: String,
    pub(super) member: &'static str,
    pub(super) section: String,
    pub(super) address: Address,
    pub(super) unit: String,
    pub(super) pos: Pos,
}

/// Shorter keys are only masked, not reported on their own (`eu`, `blue`, `prod` would match a
/// short value found secret by chance); see `SameValue::MIN_LEN`.
pub(super) const KEY_SITE_MIN_LEN: usize = 8;

/// Mask every address key equal to a value found secret in this file, in every finding, and
/// report each such key (at its own node) that no content rule reported already.
///
/// Keys are compared by the per-run salted digest (`value_group`), never by the value. The
/// lookup is a hash map keyed by that digest: it is a MAC under a random salt that is never
/// written, so how long a lookup takes says nothing about a value.
pub(super) fn mask_secret_keys(
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
        let address = mask_address(&mut f.resource, is_secret);
        if address {
            f.address = f.resource.display();
            if document == super::DocKind::Identities.as_str() {
                // The pointer's first token is the address (`/ADDRESS/NAME`): masked too.
                let mut tokens = crate::scrub::rewrite::pointer_tokens(&f.json_pointer);
                if let Some(first) = tokens.first_mut() {
                    *first = f.address.clone();
                }
                f.json_pointer = tokens.iter().fold(String::new(), |mut p, t| {
                    p.push('/');
                    crate::json::push_pointer_token(&mut p, t);
                    p
                });
            }
        }
        if mask_secret_names(f, is_secret) || address {
            f.set_fingerprints(fp_key);
        }
        // A name in JSON held in the string, after the fingerprints (see `push_dets`).
        if let Some(inner) = &f.inner_pointer {
            let masked = super::findings::mask_pointer_names(inner, |k| is_secret(k).is_some());
            if let Some(masked) = masked {
                f.inner_pointer = Some(masked);
            }
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
        // In `terraform state identities -json` the key is in the member name, the address:
        // the pointer is that member's (`/ADDRESS`, masked), as for a key a content rule picked.
        let json_pointer = if document == super::DocKind::Identities.as_str() {
            let mut p = site.unit.clone();
            p.push('/');
            crate::json::push_pointer_token(&mut p, &address);
            p
        } else {
            format!("{}{}", site.unit, pointer(&steps))
        };
        let mut f = Finding {
            file: file.to_string(),
            archive: None,
            member: None,
            document: document.to_string(),
            section: site.section,
            address,
            resource: site.address,
            attribute_path: attribute_path(&steps),
            json_pointer,
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
            masked_path: false,
            masked_steps: Vec::new(),
            quoted_paths: Vec::new(),
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
        let quoted = QuotedPath {
            path: src.attribute_path.clone(),
            steps: src.masked_steps.clone(),
        };
        findings[at].reasons[0] = reason;
        findings[at].quoted_paths = vec![quoted];
    }
}

/// Mask in `f`'s pointer and attribute path each member name that `secret` picks (a value found
/// secret in this file: `{(var.pin) = ...}`), however short. While the scan masks names that
/// look random or that a content rule matches (12 characters or more), a 6-character password
/// used as a map key was shown whole in every report. Each is shown as its [`preview`], recorded
/// as a [`MaskedStep`] for [`crate::finding::number_masked_steps`]. True if one was.
///
/// Pointer tokens of at most 3 digits are left alone: an array index, and no secret.
fn mask_secret_names(f: &mut Finding, secret: impl Fn(&str) -> Option<String>) -> bool {
    if f.json_pointer.is_empty() {
        return false;
    }
    let tokens = crate::scrub::rewrite::pointer_tokens(&f.json_pointer);
    let mut pointer = String::new();
    let mut path = f.attribute_path.clone();
    let mut path_from = 0;
    let mut masked = Vec::new();
    for raw in &tokens {
        let digest = (!(raw.len() <= 3 && raw.bytes().all(|b| b.is_ascii_digit())))
            .then(|| secret(raw))
            .flatten();
        let Some(digest) = digest else {
            pointer.push('/');
            crate::json::push_pointer_token(&mut pointer, raw);
            continue;
        };
        let shown = preview(raw);
        let group = format!("{pointer}\0{shown}");
        pointer.push('/');
        crate::json::push_pointer_token(&mut pointer, &shown);
        let path_end = mask_path_name(&mut path, &mut path_from, raw, &shown);
        masked.push(MaskedStep {
            group,
            digest,
            pointer_end: pointer.len(),
            path_end,
        });
    }
    if masked.is_empty() {
        return false;
    }
    f.json_pointer = pointer;
    f.attribute_path = path;
    f.masked_path = true;
    f.masked_steps.extend(masked);
    true
}

/// Replace in `path`, at or after `from`, the first step that is the member name `raw`
/// (`["raw"]`, or `raw` as an identifier step) with `["shown"]`; `from` moves past it. The
/// offset just after the shown name (before `"]`), if the path holds the name.
fn mask_path_name(path: &mut String, from: &mut usize, raw: &str, shown: &str) -> Option<usize> {
    let quoted = format!("[{}]", serde_json::to_string(raw).ok()?);
    let with = format!("[{}]", serde_json::to_string(shown).ok()?);
    let bracket = path[*from..]
        .find(&quoted)
        .map(|i| (*from + i, quoted.len()));
    let ident = attribute_path(&[Step::Key(Cow::Borrowed(raw))]) == raw;
    let bare = ident
        .then(|| {
            let mut at = *from;
            while let Some(i) = path[at..].find(raw) {
                let (s, e) = (at + i, at + i + raw.len());
                let before_ok = s == 0 || path.as_bytes()[s - 1] == b'.';
                let after_ok = e == path.len() || matches!(path.as_bytes()[e], b'.' | b'[');
                if before_ok && after_ok {
                    // The dot before an identifier step goes with it.
                    return Some(if s > 0 {
                        (s - 1, raw.len() + 1)
                    } else {
                        (s, raw.len())
                    });
                }
                at = s + 1;
            }
            None
        })
        .flatten();
    let (start, len) = match (bracket, bare) {
        (Some(b), Some(i)) => {
            if b.0 <= i.0 {
                b
            } else {
                i
            }
        }
        (Some(b), None) => b,
        (None, Some(i)) => i,
        (None, None) => return None,
    };
    path.replace_range(start..start + len, &with);
    *from = start + with.len();
    Some(start + with.len() - 2)
}

/// A string in an output or a variable (named by the user, so the name says nothing) in which no
/// layer found anything. After the scan it is reported if it equals a value found secret
/// elsewhere in the file: `output "tok" { value = var.api_token }` copies a token that a key name
/// or a mark recognised elsewhere. Kept as its salted digest only.
pub(super) struct ValueSite {
    pub(super) digest: String,
    pub(super) preview: String,
    pub(super) at: SiteAt,
}

/// Where a [`ValueSite`] or a [`TextSite`] is, and the fix its finding gives.
pub(super) struct SiteAt {
    pub(super) section: String,
    pub(super) address: Address,
    pub(super) json_pointer: String,
    pub(super) attribute_path: String,
    /// A member name in the path is shown masked (see `Finding::masked_path`).
    pub(super) masked: bool,
    /// The masked member names (see `Finding::masked_steps`).
    pub(super) masked_steps: Vec<MaskedStep>,
    pub(super) fix: &'static str,
    pub(super) pos: Pos,
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
        masked_path: at.masked,
        masked_steps: at.masked_steps,
        quoted_paths: vec![QuotedPath {
            path: src.attribute_path.clone(),
            steps: src.masked_steps.clone(),
        }],
    };
    f.set_fingerprints(fp_key);
    f
}

/// Report every [`ValueSite`] whose value equals one found secret in this file (by salted
/// digest, as [`mask_secret_keys`] compares keys).
pub(super) fn same_named_values(
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
pub(super) struct TextSite {
    pub(super) text: String,
    pub(super) at: SiteAt,
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
pub(super) fn secrets_in_text(
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
