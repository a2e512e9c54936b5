//! The same value as a secret elsewhere in one resource instance.

use crate::detect::{Detection, Engine};
use crate::finding::QuotedPath;

/// Rule id of a value found secret because it equals one found secret in the same instance.
pub const SAME_VALUE_RULE: &str = "same-value";

/// The values found secret in one resource instance, to recognise the same value elsewhere in it.
/// Values are compared by their per-run salted digest (`value_group`), in constant time, and only
/// where the lengths match (the length is in every finding's preview anyway).
#[derive(Default)]
pub(super) struct SameValue {
    /// (length in bytes, digest, where in the instance as its finding shows it, why it is a
    /// secret)
    sources: Vec<(usize, String, QuotedPath, Detection)>,
}

impl SameValue {
    /// Shorter values are too likely to recur by chance (`true`, a port, a region).
    pub(super) const MIN_LEN: usize = 8;

    pub(super) fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// The detections at `attr`: the attribute path as their findings show it (member names
    /// that could be secrets masked, never as written; see `Scanner::shown`).
    pub(super) fn add(&mut self, attr: &QuotedPath, dets: &[Detection]) {
        for d in dets.iter().filter(|d| d.value_len >= Self::MIN_LEN) {
            self.sources
                .push((d.value_len, d.value_group.clone(), attr.clone(), d.clone()));
        }
    }

    /// A detection for `value` if it equals a source.
    pub(super) fn check(&self, engine: &Engine, value: &str) -> Option<Detection> {
        if value.len() < Self::MIN_LEN || !self.sources.iter().any(|s| s.0 == value.len()) {
            return None;
        }
        let digest = engine.value_digest(value);
        let (_, _, quoted, src) = self
            .sources
            .iter()
            .filter(|s| s.0 == value.len() && ct_eq(s.1.as_bytes(), digest.as_bytes()))
            .max_by_key(|s| (s.3.severity, s.3.confidence))?;
        let at = match &src.inner_pointer {
            Some(p) => format!("`{}` (at {p} inside it)", quoted.path),
            None => format!("`{}`", quoted.path),
        };
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
            quoted_path: Some(quoted.clone()),
        })
    }
}

/// Equality that takes the same time wherever the inputs differ.
pub(super) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
