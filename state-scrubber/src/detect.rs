//! The four detection layers applied to one string value in its context.
//!
//! Order of work per value, cheapest first: is there any reason to look (a table row, a sensitive
//! mark, a content keyword, a secret-looking key, JSON or base64 shape)? Only then the safe-lists,
//! the regexes and the decoders run.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;

use crate::finding::{
    number_group, preview, preview_number, preview_with_prefix, push_identity_step, value_group,
    Confidence, Kind, Layer, Severity, ValueType,
};
use crate::json::{Dom, Kind as JKind, NodeId, Parser};
use crate::rules::{KeyRule, Rules, Strength};
use crate::table::{Row, Table, Treat, GENERIC_FIX};

/// Fix for a secret used as an address key.
pub const MAP_KEY_FIX: &str = "a map or object key is stored as written in state and plans (Terraform keeps the keys of `input`, `triggers_replace`, tags ... in plaintext, marked sensitive or not): key the map by a name and pass the secret as a value (to a write-only argument where one exists), then rotate it";
pub const ADDRESS_KEY_FIX: &str = "a `for_each` or module key is part of the address, which Terraform stores in state and plans and every tool prints: key the instances by a name and pass the secret as a value (to a write-only argument where one exists)";

/// The fix of a content rule's finding: the rule's own `fix` (a presigned URL is made anew and
/// revoked, not moved into Secrets Manager) where `fix` is only the general advice on where to
/// keep a value (a resource's [`GENERIC_FIX`], also a table row's without a write-only twin, or
/// a root output's); else `fix`, which says what to change where the value is (a write-only
/// twin, a map key, a check message, private data, a command line).
fn content_fix(rule: &crate::rules::ContentRule, fix: String) -> String {
    match &rule.spec.fix {
        Some(own) if fix == GENERIC_FIX || fix == crate::document::OUTPUT_FIX => own.clone(),
        _ => fix,
    }
}

/// How many times this process compiled the rules and the table (see [`Engine::compilations`]).
static COMPILATIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The rules and table, plus the per-run salt of `value_group`.
///
/// The compiled rules and the table are shared (`Arc`): every worker of a run forks an engine,
/// and compiling them again per fork made `--jobs 4000` over 4000 small files take 40 s instead
/// of 0.1 s. What a fork owns is only what is cheap and not `Sync`: the key cache and the
/// too-deep counter.
pub struct Engine {
    pub rules: Arc<Rules>,
    pub table: Arc<Table>,
    salt: [u8; 32],
    key_cache: RefCell<HashMap<String, Option<usize>>>,
    /// Values whose JSON-in-string decoding stopped at the depth budget (see [`Depth`]).
    too_deep: Cell<usize>,
}

/// JSON held in a string is decoded and its leaves analysed, recursively. Each decoding has its
/// own nesting limit (`json::MAX_DEPTH`), but the recursion across strings multiplies it: 16
/// levels of 500 nested arrays overflow a 2 MiB worker stack. So the budget is carried across
/// levels: at most [`MAX_STRING_LEVELS`] strings deep, and no new decoding once the nesting so
/// far reaches [`MAX_TOTAL_DEPTH`]. Past it, the value is checked as text (content rules).
#[derive(Debug, Clone, Copy, Default)]
struct Depth {
    /// JSON-in-string levels decoded above this value.
    levels: u32,
    /// Objects and arrays above this value, over all levels.
    nodes: usize,
}

/// The step an inner identity gets for a second or later secret found in one value (see
/// [`Engine::name_secrets_of_one_value`]).
const SECRET_STEP: &str = "/~secret:";

/// At most this many JSON-in-string levels are decoded (real states have one or two).
const MAX_STRING_LEVELS: u32 = 4;
/// No JSON-in-string is decoded below this total nesting depth.
const MAX_TOTAL_DEPTH: usize = 512;

/// Why the artifact itself says a value is sensitive (layer 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    SensitiveAttributes,
    SensitiveValues,
    PlanSensitive,
    SensitiveOutput,
    SensitiveVariable,
}

impl Mark {
    pub fn rule_id(self) -> &'static str {
        match self {
            Mark::SensitiveAttributes => "mark.sensitive_attributes",
            Mark::SensitiveValues => "mark.sensitive_values",
            Mark::PlanSensitive => "mark.plan_sensitive",
            Mark::SensitiveOutput => "mark.sensitive_output",
            Mark::SensitiveVariable => "mark.sensitive_variable",
        }
    }
    pub fn reason(self) -> &'static str {
        match self {
            Mark::SensitiveAttributes => "layer 1: listed in the instance's sensitive_attributes",
            Mark::SensitiveValues => "layer 1: marked true in the resource's sensitive_values",
            Mark::PlanSensitive => "layer 1: marked in the plan's before_sensitive/after_sensitive",
            Mark::SensitiveOutput => "layer 1: the output is declared sensitive",
            Mark::SensitiveVariable => "layer 1: the variable is declared sensitive",
        }
    }
}

/// Context of one value.
pub struct Ctx<'a> {
    /// Table row whose attribute covers this value, if any.
    pub row: Option<&'a Row>,
    /// Key name for layer 4 (last key on the path, or the `name` of a name/value pair).
    pub key: Option<&'a str>,
    pub mark: Option<Mark>,
    /// Fix to give when no table row applies.
    pub default_fix: &'a str,
}

/// A detection on one value (or on one value inside JSON held by it).
#[derive(Debug, Clone)]
pub struct Detection {
    pub layer: Layer,
    pub rule_id: String,
    pub rule_name: String,
    pub kind: Kind,
    /// A string, or a number the artifact marks sensitive ([`Engine::analyze_marked_number`]).
    pub value_type: ValueType,
    pub severity: Severity,
    pub confidence: Confidence,
    pub reasons: Vec<String>,
    pub fix: String,
    pub inner_pointer: Option<String>,
    /// `inner_pointer` with `{name, value}` pairs named by their name (for the fingerprint).
    pub inner_identity: Option<String>,
    pub decoded: Vec<&'static str>,
    pub preview: String,
    pub value_group: String,
    /// Length in bytes of the value `value_group` digests (to compare only values that could be
    /// equal; the preview shows the length anyway).
    pub value_len: usize,
    /// Another finding's path that `reasons` quote (see `Finding::quoted_paths`).
    pub quoted_path: Option<crate::finding::QuotedPath>,
}

struct ContentHit<'r> {
    rule: &'r crate::rules::ContentRule,
    decoded: Vec<&'static str>,
}

impl Engine {
    pub fn new() -> Result<Engine, crate::Error> {
        Self::with_config(None)
    }

    /// [`Engine::new`] with a `--config` file's content rules after the built-in ones.
    pub fn with_config(config: Option<&crate::config::Config>) -> Result<Engine, crate::Error> {
        let mut salt = [0u8; 32];
        rand::Rng::fill(&mut rand::rng(), &mut salt);
        Self::configured(salt, config)
    }

    /// An engine whose `value_group` digests use `salt` (shared by the workers of one run).
    pub fn with_salt(salt: [u8; 32]) -> Result<Engine, crate::Error> {
        Self::configured(salt, None)
    }

    /// [`Engine::with_salt`] with a `--config` file's content rules after the built-in ones.
    pub fn configured(
        salt: [u8; 32],
        config: Option<&crate::config::Config>,
    ) -> Result<Engine, crate::Error> {
        COMPILATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // A configuration compiled its rules with the built-in ones when it was loaded (counted
        // here too: one engine, one compilation).
        let rules = match config {
            Some(c) => Arc::clone(&c.compiled),
            None => Arc::new(Rules::builtin()?),
        };
        Ok(Engine {
            rules,
            table: Arc::new(Table::builtin()?),
            salt,
            key_cache: RefCell::new(HashMap::new()),
            too_deep: Cell::new(0),
        })
    }

    /// How many engines this process compiled so far (rules and table parsed and built), for
    /// tests that bound it: a fork must not compile again.
    #[doc(hidden)]
    pub fn compilations() -> usize {
        COMPILATIONS.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Another engine with the same rules, table and salt (for a worker thread): the compiled
    /// rules are shared, not compiled again; the key cache starts empty.
    pub fn fork(&self) -> Engine {
        Engine {
            rules: Arc::clone(&self.rules),
            table: Arc::clone(&self.table),
            salt: self.salt,
            key_cache: RefCell::new(HashMap::new()),
            too_deep: Cell::new(0),
        }
    }

    /// The per-run salted digest of a value (what a finding's `value_group` holds).
    pub fn value_digest(&self, value: &str) -> String {
        value_group(&self.salt, value)
    }

    /// Layer-4 rule index for a key (cached: keys repeat across resources).
    fn key_rule(&self, key: &str) -> Option<&KeyRule> {
        if let Some(hit) = self.key_cache.borrow().get(key) {
            return hit.map(|i| &self.rules.keys[i]);
        }
        let hit = if self.rules.is_safe_key(key) {
            None
        } else {
            self.rules.keys.iter().position(|r| r.regex.is_match(key))
        };
        let mut cache = self.key_cache.borrow_mut();
        if cache.len() < 100_000 {
            cache.insert(key.to_string(), hit);
        }
        hit.map(|i| &self.rules.keys[i])
    }

    /// The distinct secrets content rules find in `value` ([`Rules::content_finds`]), or, when
    /// there are none, in its base64 text.
    fn content(&self, value: &str) -> Vec<ContentHit<'_>> {
        self.content_or_decoded(value, || decode_base64_text(value))
    }

    /// [`Engine::content`], taking `value`'s base64 text from `decoded` (called only when the
    /// value itself holds no secret a rule finds), for a caller that decoded it already.
    fn content_or_decoded(
        &self,
        value: &str,
        decoded: impl FnOnce() -> Option<String>,
    ) -> Vec<ContentHit<'_>> {
        let finds = self.rules.content_finds(value);
        if !finds.is_empty() {
            return finds
                .into_iter()
                .map(|f| ContentHit {
                    rule: f.rule,
                    decoded: vec![],
                })
                .collect();
        }
        let Some(text) = decoded() else {
            return Vec::new();
        };
        self.rules
            .content_finds(&text)
            .into_iter()
            .map(|f| ContentHit {
                rule: f.rule,
                decoded: vec!["base64"],
            })
            .collect()
    }

    /// A secret of a content rule that finds it by the name in front of it (`by_name`, `K=V`): a value whose key says whose it is (`DD_API_KEY`, a `{name, value}` pair's
    /// name, a Lambda environment variable) with the shape that rule wants (32 hex digits),
    /// as the rule finds `DD_API_KEY=...` in a script. Only a find that is the value, whole:
    /// none that starts in the key, or that is part of a longer value.
    fn named_content(&self, key: Option<&str>, value: &str) -> Option<ContentHit<'_>> {
        let key = key?;
        let v = value.trim();
        if key.is_empty() || v.is_empty() || v.contains('\n') || !self.rules.any_keyword(key) {
            return None;
        }
        let text = format!("{key}={v}");
        let start = key.len() + 1;
        self.rules
            .content_finds(&text)
            .into_iter()
            .find(|f| f.rule.spec.by_name && f.span.start == start && f.span.end == text.len())
            .map(|f| ContentHit {
                rule: f.rule,
                decoded: vec![],
            })
    }

    /// Name each of `dets`, made from the distinct secrets content rules found in one value
    /// (first: the first rule's first secret), for the fingerprint. The first keeps the place
    /// of the value alone, the fingerprint a value's one finding always had; each other one
    /// adds `/~secret:RULE:N`, the Nth secret that rule found in the value (`~` is escaped in
    /// pointer tokens, so no pointer has such a step). Each also says so in a reason.
    fn name_secrets_of_one_value(dets: &mut [Detection], rules: &[&str]) {
        let total = dets.len();
        if total < 2 {
            return;
        }
        for (i, d) in dets.iter_mut().enumerate() {
            let rule = rules[i];
            let n = rules[..=i].iter().filter(|r| **r == rule).count();
            if i > 0 {
                let step = format!("{SECRET_STEP}{rule}:{n}");
                d.inner_identity = Some(match d.inner_identity.take() {
                    Some(id) => format!("{id}{step}"),
                    None => step,
                });
            }
            d.reasons.push(format!(
                "one of {total} distinct secrets content rules find in this value (secret {n} of {rule})"
            ));
        }
    }

    /// How many values since the last call had JSON nested past the depth budget (they were
    /// checked as text only).
    pub fn take_too_deep(&self) -> usize {
        self.too_deep.replace(0)
    }

    /// Count `n` more such values (to put back a count taken with [`Engine::take_too_deep`]).
    pub(crate) fn add_too_deep(&self, n: usize) {
        self.too_deep.set(self.too_deep.get() + n);
    }

    /// Apply the layers to `value` in `ctx`; push what is found to `out`.
    pub fn analyze(&self, value: &str, ctx: &Ctx<'_>, out: &mut Vec<Detection>) {
        self.analyze_at(value, ctx, out, Depth::default());
    }

    fn analyze_at(&self, value: &str, ctx: &Ctx<'_>, out: &mut Vec<Detection>, depth: Depth) {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return;
        }
        // A provider or backend block whose credential is a placeholder word (`test`, as
        // LocalStack and moto take) talks to an emulator; elsewhere such a word under a row is
        // the live password.
        let row = ctx.row.filter(|r| {
            r.treat == Treat::Secret
                && value.chars().count() >= r.min_length
                && !(r.is_block_credential() && self.rules.is_example_placeholder(value))
        });
        let key_rule = ctx.key.and_then(|k| self.key_rule(k));
        // A key a content rule's keyword is in (`DD_API_KEY`): see `named_content`.
        let named_keyword = ctx.key.is_some_and(|k| self.rules.any_keyword(k));
        let looks_json = matches!(trimmed.as_bytes()[0], b'{' | b'[');
        // No content rule matches fewer than 12 characters (keyword plus secret), and an ARN
        // (`arn:aws:secretsmanager:...:secret:prod-db`) names a secret without holding one.
        let has_keyword =
            value.len() >= 12 && !value.starts_with("arn:") && self.rules.any_keyword(value);
        let b64 = looks_base64(trimmed);
        if row.is_none()
            && ctx.mark.is_none()
            && key_rule.is_none()
            && !named_keyword
            && !looks_json
            && !has_keyword
            && !b64
        {
            return;
        }
        if self.rules.is_safe_value(value, None) {
            return;
        }
        let fix = ctx
            .row
            .map(|r| r.fix())
            .unwrap_or_else(|| ctx.default_fix.to_string());

        if row.is_some() || ctx.mark.is_some() {
            // A weak content rule (text assignment) does not replace the table's verdict.
            let mut content = self.content(value);
            if content.is_empty() && row.is_none() {
                content.extend(self.named_content(ctx.key, value));
            }
            content.retain(|c| row.is_none() || c.rule.spec.severity >= Severity::High);
            // Identifiers that providers mark sensitive (admin_username, ...) are not secrets.
            if row.is_none()
                && content.is_empty()
                && ctx.key.is_some_and(|k| self.rules.is_safe_key(k))
            {
                return;
            }
            let mut reasons = Vec::new();
            if let Some(m) = ctx.mark {
                reasons.push(m.reason().to_string());
            }
            if let Some(r) = row {
                reasons.push(r.reason());
            }
            let mut d = Detection {
                value_type: ValueType::String,
                layer: if row.is_some() {
                    Layer::AttributeTable
                } else {
                    Layer::SensitiveMark
                },
                rule_id: row
                    .map(|r| r.rule_id())
                    .unwrap_or_else(|| ctx.mark.map(|m| m.rule_id()).unwrap_or("").to_string()),
                rule_name: row
                    .map(|r| format!("{} {}", r.resource_type, r.attribute))
                    .unwrap_or_else(|| "value marked sensitive by Terraform".to_string()),
                kind: row
                    .map(|r| r.kind)
                    .unwrap_or_else(|| kind_from_key(ctx.key)),
                // A row that mirrors a marked attribute is as sure as the mark it mirrors.
                severity: row.map_or(Severity::Medium, Row::severity),
                confidence: if row.is_some_and(|r| r.when_sensitive.is_none()) {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
                reasons,
                fix,
                inner_pointer: None,
                inner_identity: None,
                decoded: vec![],
                preview: preview(value),
                value_group: value_group(&self.salt, value),
                value_len: value.len(),
                quoted_path: None,
            };
            // An entry of a secret map that is public by its well-known key and its content
            // (a Kubernetes secret's `ca.crt`): still reported, as the row says, at LOW.
            if let Some(why) = row.and_then(|r| r.public_entry(ctx.key, value)) {
                d.severity = Severity::Low;
                d.confidence = Confidence::Low;
                d.reasons.push(format!("layer 2: {why}"));
            }
            let mut content = content.into_iter();
            // The fix where the value is, before a content rule's own replaces it in `d`: the
            // other secrets in the value get theirs from it.
            let site_fix = d.fix.clone();
            if let Some(c) = content.next() {
                d.reasons
                    .push(format!("layer 3: matches content rule {}", c.rule.spec.id));
                d.fix = content_fix(c.rule, std::mem::take(&mut d.fix));
                d.layer = Layer::Content;
                d.rule_id = c.rule.spec.id.clone();
                d.rule_name = c.rule.spec.name.clone();
                d.kind = c.rule.spec.kind;
                d.severity = d.severity.max(c.rule.spec.severity);
                d.confidence = Confidence::High;
                if c.decoded.is_empty() {
                    d.preview = preview_with_prefix(value, &c.rule.spec.prefixes);
                }
                d.decoded = c.decoded;
            } else if let (None, Some(rule), Some(key)) = (row, key_rule, ctx.key) {
                // A mark says "sensitive", not how much: the key name still says "password".
                // Without this, Terraform starting to write `sensitive_attributes` lowered a
                // HIGH key-password finding to MEDIUM.
                // The rule and layer stay the mark's (the strongest evidence, and what
                // `scrub --only mark.*` selects); the fingerprint does not depend on the rule.
                if let Some(k) = self.key_detection(key, value, rule, String::new()) {
                    d.reasons.extend(k.reasons);
                    if k.severity > d.severity {
                        d.severity = k.severity;
                        d.confidence = d.confidence.max(k.confidence);
                    }
                }
            }
            // Other secrets in the value (a marked script holding a key and a token).
            let extras: Vec<Detection> = content
                .map(|c| {
                    let mut x =
                        self.content_detection(value, c.rule, c.decoded, None, site_fix.clone());
                    x.reasons
                        .splice(0..0, ctx.mark.map(|m| m.reason().to_string()));
                    x
                })
                .collect();
            let start = out.len();
            out.push(d);
            if !extras.is_empty() {
                // The first is `d`, of the first content rule (its layer is then Content).
                out.extend(extras);
                let rules: Vec<String> = out[start..].iter().map(|d| d.rule_id.clone()).collect();
                let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
                Self::name_secrets_of_one_value(&mut out[start..], &rules);
            }
            return;
        }

        if has_keyword || b64 || looks_json {
            // JSON held in a string: look at its leaves, with their own keys as context; a rule that
            // is about the whole document (a service-account key) still matches the text.
            let within_budget = depth.levels < MAX_STRING_LEVELS && depth.nodes < MAX_TOTAL_DEPTH;
            if looks_json && !within_budget {
                self.too_deep.set(self.too_deep.get() + 1);
            }
            if looks_json && within_budget {
                if let Ok((dom, root)) = Parser::parse_document(value.as_bytes()) {
                    if let Some(rule) = self.rules.content_match(value) {
                        if rule.spec.id == "gcp-service-account-key" {
                            out.push(self.content_detection(
                                value,
                                rule,
                                vec!["json-in-string"],
                                None,
                                fix,
                            ));
                            return;
                        }
                    }
                    let before = out.len();
                    self.analyze_inner(value.as_bytes(), &dom, root, &fix, out, depth);
                    for d in &mut out[before..] {
                        d.decoded.insert(0, "json-in-string");
                    }
                    return;
                }
            }
            // JSON held in base64 (a provider's private data, a Docker config, a framework
            // provider's private state of `{key: base64 of JSON}`): its leaves, as above. Only
            // when one is found; else the text as a whole, below.
            // (Decoded once: the content rules below read the same text.)
            let mut decoded = None;
            if b64 && !looks_json && within_budget {
                if let Some(text) = decoded
                    .insert(decode_base64_text(trimmed))
                    .as_deref()
                    .filter(|t| matches!(t.trim_start().as_bytes().first(), Some(b'{' | b'[')))
                {
                    let before = out.len();
                    let inner = Depth {
                        levels: depth.levels + 1,
                        nodes: depth.nodes,
                    };
                    self.analyze_at(text, ctx, out, inner);
                    if out.len() > before {
                        for d in &mut out[before..] {
                            d.decoded.insert(0, "base64");
                        }
                        return;
                    }
                }
            }
            let decoded = || decoded.unwrap_or_else(|| decode_base64_text(value));
            let hits = self.content_or_decoded(value, decoded);
            if !hits.is_empty() {
                let rules: Vec<&str> = hits.iter().map(|c| c.rule.spec.id.as_str()).collect();
                let start = out.len();
                for c in &hits {
                    out.push(self.content_detection(
                        value,
                        c.rule,
                        c.decoded.clone(),
                        None,
                        fix.clone(),
                    ));
                }
                Self::name_secrets_of_one_value(&mut out[start..], &rules);
                return;
            }
        }

        if let Some(c) = self.named_content(ctx.key, value) {
            let mut d = self.content_detection(value, c.rule, c.decoded, None, fix);
            d.reasons.push(format!(
                "the value has that rule's shape and its name `{}` says whose it is",
                ctx.key.unwrap_or_default()
            ));
            out.push(d);
            return;
        }
        if let (Some(rule), Some(key)) = (key_rule, ctx.key) {
            if let Some(d) = self.key_detection(key, value, rule, fix) {
                out.push(d);
            }
        }
    }

    /// Layer 3 only, for a string that is part of an address: an index key (`for_each`), a deposed
    /// key or a module instance key. Such strings are printed in every report, baseline and
    /// secret name, so one that a content rule recognises must be reported and then masked.
    pub fn analyze_address_key(&self, value: &str) -> Option<Detection> {
        if value.len() < 12 || self.rules.is_safe_value(value, None) {
            return None;
        }
        let c = self.content(value).into_iter().next()?;
        let mut d =
            self.content_detection(value, c.rule, c.decoded, None, ADDRESS_KEY_FIX.to_string());
        d.reasons
            .push("the value is an instance or module key, part of the address".to_string());
        Some(d)
    }

    /// Layer 3 only, for a member name of an object in a value (`{(var.token) = ...}`,
    /// `triggers_replace = { (token) = ... }`): Terraform writes the key as is, so a key that a
    /// content rule matches is a plaintext secret in the file.
    pub fn analyze_map_key(&self, key: &str) -> Option<Detection> {
        if key.len() < 12 || self.rules.is_safe_value(key, None) {
            return None;
        }
        let c = self.content(key).into_iter().next()?;
        let mut d = self.content_detection(key, c.rule, c.decoded, None, MAP_KEY_FIX.to_string());
        d.reasons
            .push("the value is a member name (a map or object key) in an attribute".to_string());
        // The key's path is the path of the value under it: tell their fingerprints apart.
        d.inner_identity = Some("/~key".to_string());
        Some(d)
    }

    /// Layer 1 for a JSON number (`raw`, as written) that the artifact marks sensitive (`ctx.mark`
    /// must be set): a PIN, a numeric API key or account secret, a `random_integer` fed to a
    /// sensitive output. It is as plaintext in the state as a string, and Terraform's mark is
    /// the user's (or the provider's) own word that it is secret. No content rule or entropy
    /// applies to numbers: only the mark reports one, never layers 2 to 4.
    ///
    /// `exact`: the mark names this value itself (a sensitive output or variable of type
    /// number, a `sensitive_attributes` path or `*_sensitive` entry that ends at it). A mark on
    /// an enclosing object or list covers every number in it, and Terraform marks the whole
    /// value when any part of it is sensitive (an output of a whole `aws_db_instance` holds its
    /// `port` and `allocated_storage`): there, a number is reported only when its key names a
    /// secret (`pin_code` does not, `api_key` does). A safe-listed key (`*_port`, `*_count`,
    /// `*_ttl`, ...) is never reported, as for strings.
    pub fn analyze_marked_number(
        &self,
        raw: &str,
        ctx: &Ctx<'_>,
        exact: bool,
    ) -> Option<Detection> {
        let mark = ctx.mark?;
        let raw = raw.trim();
        if raw.is_empty() || ctx.key.is_some_and(|k| self.rules.is_safe_key(k)) {
            return None;
        }
        let key_rule = ctx.key.and_then(|k| self.key_rule(k));
        if !exact && key_rule.is_none() {
            return None;
        }
        let mut reasons = vec![
            mark.reason().to_string(),
            "the value is a number, stored in plaintext like a string (it is reported by its mark only; no content rule reads numbers)"
                .to_string(),
        ];
        if let (false, Some(rule), Some(key)) = (exact, key_rule, ctx.key) {
            reasons.push(format!(
                "the mark covers the enclosing value; key `{key}` matches {}",
                rule.spec.id
            ));
        }
        let fix = ctx
            .row
            .map(|r| r.fix())
            .unwrap_or_else(|| ctx.default_fix.to_string());
        Some(Detection {
            layer: Layer::SensitiveMark,
            rule_id: mark.rule_id().to_string(),
            rule_name: "value marked sensitive by Terraform".to_string(),
            kind: kind_from_key(ctx.key),
            value_type: ValueType::Number,
            severity: Severity::Medium,
            confidence: Confidence::Medium,
            reasons,
            fix,
            inner_pointer: None,
            inner_identity: None,
            decoded: vec![],
            preview: preview_number(raw),
            value_group: number_group(&self.salt, raw),
            value_len: raw.len(),
            quoted_path: None,
        })
    }

    fn content_detection(
        &self,
        value: &str,
        rule: &crate::rules::ContentRule,
        decoded: Vec<&'static str>,
        inner_pointer: Option<String>,
        fix: String,
    ) -> Detection {
        Detection {
            value_type: ValueType::String,
            layer: Layer::Content,
            rule_id: rule.spec.id.clone(),
            rule_name: rule.spec.name.clone(),
            kind: rule.spec.kind,
            severity: rule.spec.severity,
            confidence: if rule.spec.severity >= Severity::High {
                Confidence::High
            } else {
                Confidence::Medium
            },
            reasons: vec![format!(
                "layer 3: matches content rule {} ({})",
                rule.spec.id, rule.spec.name
            )],
            fix: content_fix(rule, fix),
            inner_identity: inner_pointer.clone(),
            inner_pointer,
            // A base64 value does not start with the decoded token's prefix; no special case.
            preview: preview_with_prefix(value, &rule.spec.prefixes),
            decoded,
            value_group: value_group(&self.salt, value),
            value_len: value.len(),
            quoted_path: None,
        }
    }

    fn key_detection(
        &self,
        key: &str,
        value: &str,
        rule: &KeyRule,
        fix: String,
    ) -> Option<Detection> {
        let v = value.trim();
        let spec = &rule.spec;
        if !self.rules.key_value_fires(rule, key, v) {
            return None;
        }
        let e = crate::rules::entropy(v);
        let severity = spec.strength.severity();
        let confidence = match spec.strength {
            Strength::Strong if e >= 3.0 => Confidence::High,
            Strength::Strong | Strength::Medium => Confidence::Medium,
            Strength::Weak => Confidence::Low,
        };
        Some(Detection {
            value_type: ValueType::String,
            layer: Layer::KeyContext,
            rule_id: spec.id.clone(),
            rule_name: spec.name.clone(),
            kind: kind_from_key(Some(key)),
            severity,
            confidence,
            reasons: vec![format!(
                "layer 4: key `{}` matches {} and the value has {:.1} bits of entropy per character",
                key, spec.id, e
            )],
            fix,
            inner_pointer: None,
            inner_identity: None,
            decoded: vec![],
            preview: preview(value),
            value_group: value_group(&self.salt, value),
            value_len: value.len(),
            quoted_path: None,
        })
    }

    /// Layers 3 and 4 over the leaves of a JSON document held in a string.
    fn analyze_inner(
        &self,
        src: &[u8],
        dom: &Dom,
        root: NodeId,
        fix: &str,
        out: &mut Vec<Detection>,
        depth: Depth,
    ) {
        let mut path: Vec<Step<'_>> = Vec::new();
        walk(src, dom, root, &mut path, None, &mut |path, key, value| {
            let before = out.len();
            let ctx = Ctx {
                row: None,
                key,
                mark: None,
                default_fix: fix,
            };
            let inner = Depth {
                levels: depth.levels + 1,
                nodes: depth.nodes + path.len() + 1,
            };
            self.analyze_at(value, &ctx, out, inner);
            if out.len() > before {
                let p = pointer(path);
                let id = identity(src, dom, root, path);
                for d in &mut out[before..] {
                    d.inner_pointer = Some(match &d.inner_pointer {
                        Some(rest) => format!("{p}{rest}"),
                        None => p.clone(),
                    });
                    let rest = d.inner_identity.take();
                    d.inner_identity = Some(match rest {
                        Some(rest) => format!("{id}{rest}"),
                        None => id.clone(),
                    });
                }
            }
        });
    }
}

/// One step of a path inside a unit tree.
#[derive(Debug, Clone)]
pub enum Step<'s> {
    Key(Cow<'s, str>),
    Idx(usize),
}

pub fn pointer(path: &[Step<'_>]) -> String {
    let mut s = String::new();
    for step in path {
        s.push('/');
        match step {
            Step::Key(k) => crate::json::push_pointer_token(&mut s, k),
            Step::Idx(i) => s.push_str(&i.to_string()),
        }
    }
    s
}

/// [`pointer`] of `path` under `root`, with each array element that is a `{name, value}` pair
/// named by its name instead of its index: adding an environment variable before another one
/// (ECS `container_definitions`) shifts indices, not names, and the fingerprint must not move.
fn identity(src: &[u8], dom: &Dom, root: NodeId, path: &[Step<'_>]) -> String {
    let mut s = String::new();
    let mut cur = Some(root);
    for step in path {
        match step {
            Step::Key(k) => {
                s.push('/');
                crate::json::push_pointer_token(&mut s, k);
                cur = cur.and_then(|c| dom.get(src, c, k));
            }
            Step::Idx(i) => {
                let el = cur.and_then(|c| dom.elements(c).nth(*i));
                let name = el.and_then(|e| pair_name(src, dom, e));
                push_identity_step(&mut s, *i, name.as_deref());
                cur = el;
            }
        }
    }
    s
}

/// The name of a `{"name": K, "value": V}` object (also `Name`, `key`, `Key`; at most 4 members).
fn pair_name<'s>(src: &'s [u8], dom: &Dom, id: NodeId) -> Option<Cow<'s, str>> {
    if !matches!(dom.node(id).kind, JKind::Object)
        || dom.len(id) > 4
        || pair_is_reference(src, dom, id)
    {
        return None;
    }
    ["name", "Name", "key", "Key"]
        .iter()
        .find_map(|k| dom.get(src, id, k))
        .and_then(|n| dom.str(src, n))
}

/// Terraform-style attribute path: `a[0].b["k"]`.
pub fn attribute_path(path: &[Step<'_>]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                let ident = !k.is_empty()
                    && k.chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if ident {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                } else {
                    s.push_str(&format!(
                        "[{}]",
                        serde_json::to_string(k.as_ref()).unwrap_or_default()
                    ));
                }
            }
            Step::Idx(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Callback of [`walk`]: path, key context, value.
pub type LeafFn<'f, 's> = dyn FnMut(&[Step<'s>], Option<&str>, &str) + 'f;

/// Visit every string leaf under `id` with its path and key context. Objects shaped like
/// `{"name": K, "value": V}` (ECS container environments, Helm sets) give V the key K.
pub fn walk<'s>(
    src: &'s [u8],
    dom: &Dom,
    id: NodeId,
    path: &mut Vec<Step<'s>>,
    key: Option<&str>,
    f: &mut LeafFn<'_, 's>,
) {
    match dom.node(id).kind {
        JKind::Str { .. } => {
            if let Some(v) = dom.str(src, id) {
                f(path, key, &v);
            }
        }
        JKind::Array => {
            for (i, el) in dom.elements(id).enumerate() {
                path.push(Step::Idx(i));
                walk(src, dom, el, path, key, f);
                path.pop();
            }
        }
        JKind::Object => {
            let pair_name = pair_name(src, dom, id);
            for (k, v) in dom.members(id) {
                let Some(kname) = dom.str(src, k) else {
                    continue;
                };
                if kname == "Condition" {
                    // An IAM policy's condition keys are context keys
                    // (`token.actions.githubusercontent.com:aud`), not names of what the values
                    // are: its values get content rules only.
                    path.push(Step::Key(kname));
                    walk_keyless(src, dom, v, path, f);
                    path.pop();
                    continue;
                }
                let ctx_key: Cow<'_, str> = match (&pair_name, kname.as_ref()) {
                    (Some(n), "value" | "Value") => Cow::Owned(n.to_string()),
                    _ => Cow::Owned(kname.to_string()),
                };
                path.push(Step::Key(kname));
                walk(src, dom, v, path, Some(&ctx_key), f);
                path.pop();
            }
        }
        _ => {}
    }
}

/// [`walk`] with no key context for any leaf.
fn walk_keyless<'s>(
    src: &'s [u8],
    dom: &Dom,
    id: NodeId,
    path: &mut Vec<Step<'s>>,
    f: &mut LeafFn<'_, 's>,
) {
    match dom.node(id).kind {
        JKind::Str { .. } => {
            if let Some(v) = dom.str(src, id) {
                f(path, None, &v);
            }
        }
        JKind::Array => {
            for (i, el) in dom.elements(id).enumerate() {
                path.push(Step::Idx(i));
                walk_keyless(src, dom, el, path, f);
                path.pop();
            }
        }
        JKind::Object => {
            for (k, v) in dom.members(id) {
                let Some(kname) = dom.str(src, k) else {
                    continue;
                };
                path.push(Step::Key(kname));
                walk_keyless(src, dom, v, path, f);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A `{name, value, type}` pair whose `type` says the value is where the secret is kept, not
/// the secret: CodeBuild's `SECRETS_MANAGER` and `PARAMETER_STORE` environment variables.
pub fn pair_is_reference(src: &[u8], dom: &Dom, id: NodeId) -> bool {
    ["type", "Type"]
        .iter()
        .find_map(|k| dom.get(src, id, k))
        .and_then(|n| dom.str(src, n))
        .is_some_and(|t| {
            t.eq_ignore_ascii_case("SECRETS_MANAGER") || t.eq_ignore_ascii_case("PARAMETER_STORE")
        })
}

fn kind_from_key(key: Option<&str>) -> Kind {
    let k = key.unwrap_or("").to_ascii_lowercase();
    if k.contains("pass") || k.contains("pwd") {
        Kind::Password
    } else if k.contains("private") {
        Kind::PrivateKey
    } else if k.contains("token") || k.contains("key") || k.contains("secret") {
        Kind::Token
    } else if k.contains("conn") {
        Kind::ConnectionString
    } else {
        Kind::Other
    }
}

fn looks_base64(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 24
        && b.len().is_multiple_of(4)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'-' | b'_'))
        && !b.iter().all(|c| c.is_ascii_hexdigit())
}

/// Base64 that decodes to mostly printable UTF-8 text.
fn decode_base64_text(v: &str) -> Option<String> {
    let t = v.trim();
    if !looks_base64(t) {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(t)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(t))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .count();
    (printable * 10 >= text.chars().count() * 9).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::new().unwrap()
    }

    fn run(e: &Engine, key: &str, value: &str) -> Vec<Detection> {
        let mut out = vec![];
        e.analyze(
            value,
            &Ctx {
                row: None,
                key: Some(key),
                mark: None,
                default_fix: "",
            },
            &mut out,
        );
        out
    }

    #[test]
    fn terraform_escapes_and_double_escaped_jsonencode_are_decoded() {
        let e = engine();
        // secret_string = jsonencode({password = "..."}) with a `<` written as \u003c by Terraform.
        let outer = "{\"password\":\"a\\u003cQz9Lm2Xv8Rk4\"}";
        let d = run(&e, "secret_string", outer);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].inner_pointer.as_deref(), Some("/password"));
        assert_eq!(d[0].decoded, vec!["json-in-string"]);
    }

    #[test]
    fn base64_text_is_decoded() {
        let e = engine();
        let script = "#!/bin/sh\nexport DB_PASSWORD=Zq8Lm2Xv9Rk4Tp7W\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(script);
        let d = run(&e, "custom_data", &b64);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].decoded, vec!["base64"]);
        assert!(!d[0].preview.contains("Zq8L"));
    }

    #[test]
    fn json_in_base64_is_read_leaf_by_leaf() {
        use rand::distr::{Alphanumeric, SampleString};
        let e = engine();
        let pw = Alphanumeric.sample_string(&mut rand::rng(), 20);
        let inner = format!("{{\"user\":\"app\",\"password\":\"{pw}\"}}");
        let b64 = base64::engine::general_purpose::STANDARD.encode(&inner);
        // Under a key that says nothing, nested in JSON, and inside base64 in base64.
        for (key, value) in [
            ("private", b64.clone()),
            (
                "private",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{{\"session\":\"{b64}\"}}")),
            ),
        ] {
            let d = run(&e, key, &value);
            assert_eq!(d.len(), 1, "{d:?}");
            assert!(d[0]
                .inner_pointer
                .as_deref()
                .unwrap()
                .ends_with("/password"));
            assert_eq!(d[0].decoded[0], "base64");
            assert!(!d[0].preview.contains(&pw[..8]));
        }
        // Base64 JSON without a secret stays quiet (SDKv2 private data: timeouts).
        let sdk = base64::engine::general_purpose::STANDARD.encode(
            "{\"e2bfb730-ecaa-11e6-8f88-34363bc7c4c0\":{\"create\":600000000000},\"schema_version\":\"1\"}",
        );
        assert!(run(&e, "private", &sdk).is_empty());
    }

    fn random_hex(n: usize) -> String {
        use rand::Rng;
        let mut rng = rand::rng();
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
            .collect()
    }

    /// A Datadog key under a name that says whose it is is the `datadog-api-key` rule's HIGH
    /// finding in every name/value shape (it was key-token's MEDIUM): an ECS container
    /// definition's or a Kubernetes env `{name, value}` pair, a Lambda environment map entry.
    #[test]
    fn a_named_value_gets_the_content_rule_its_name_selects() {
        let e = engine();
        let (api, app) = (random_hex(32), random_hex(40));
        let ecs = format!(
            "[{{\"name\":\"app\",\"environment\":[{{\"name\":\"DD_API_KEY\",\"value\":\"{api}\"}},{{\"name\":\"DD_APP_KEY\",\"value\":\"{app}\"}}]}}]"
        );
        let d = run(&e, "container_definitions", &ecs);
        assert_eq!(d.len(), 2, "{d:?}");
        for (d, at) in d
            .iter()
            .zip(["/0/environment/0/value", "/0/environment/1/value"])
        {
            assert_eq!(d.rule_id, "datadog-api-key");
            assert_eq!(d.severity, Severity::High);
            assert_eq!(d.inner_pointer.as_deref(), Some(at));
            assert!(!d.preview.contains(&api[..8]) && !d.preview.contains(&app[..8]));
        }
        for (key, value) in [("DATADOG_APP_KEY", &app), ("dd_api_key", &api)] {
            let d = run(&e, key, value);
            assert_eq!(d.len(), 1, "{key}");
            assert_eq!(d[0].rule_id, "datadog-api-key", "{key}");
            assert_eq!(d[0].severity, Severity::High, "{key}");
        }
        // A name that is not the key's, a value of another length or with more in it: the
        // content rule does not apply (the key rule still may, at its own severity).
        for (key, value) in [
            ("DD_API_KEY_ID", api.clone()),
            ("DD_API_KEY", random_hex(36)),
            ("DD_API_KEY", format!("{api} extra")),
            ("DD_SITE", api.clone()),
            ("image_digest", api.clone()),
        ] {
            let d = run(&e, key, &value);
            assert!(d.iter().all(|d| d.rule_id != "datadog-api-key"), "{key}");
            assert!(d.iter().all(|d| d.severity < Severity::High), "{key}");
        }
    }

    #[test]
    fn look_alikes_are_not_reported() {
        let e = engine();
        for (k, v) in [
            ("arn", "arn:aws:iam::123456789012:role/app"),
            ("etag", "d41d8cd98f00b204e9800998ecf8427e"),
            (
                "source_code_hash",
                "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            ),
            (
                "public_key",
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGh0dHBzOi8vZXhhbXBsZS5jb20 user@host",
            ),
            ("password", "${var.password}"),
            (
                "kms_key_id",
                "arn:aws:kms:eu-west-1:123456789012:key/6f1c3c2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f",
            ),
            ("id", "6f1c3c2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f"),
        ] {
            assert!(run(&e, k, v).is_empty(), "{k}");
        }
    }
}
