//! Detection rules loaded from the data files in `rules/` (compiled into the binary).
//!
//! - `content.toml`: layer 3, values that are secrets whatever their key.
//! - `context.toml`: layer 4, key-name context plus entropy, and the safe-lists.
//! - `attributes.tsv`: layer 2, secret attributes per provider and resource type (see `table`).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use regex::Regex;
use serde::Deserialize;

use crate::finding::{Kind, Severity};

pub const CONTENT_TOML: &str = include_str!("../rules/content.toml");
pub const CONTEXT_TOML: &str = include_str!("../rules/context.toml");

/// The `fix` of the built-in content rule `id`, if it has one of its own (the help of its rule
/// in SARIF, which is the same for every result).
pub fn builtin_fix(id: &str) -> Option<&'static str> {
    static FIXES: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    FIXES
        .get_or_init(|| {
            toml::from_str::<ContentFile>(CONTENT_TOML)
                .map(|f| {
                    f.rule
                        .into_iter()
                        .filter_map(|r| Some((r.id, r.fix?)))
                        .collect()
                })
                .unwrap_or_default()
        })
        .iter()
        .find(|(rule, _)| rule == id)
        .map(|(_, fix)| fix.as_str())
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("rules file {file}: {message}")]
    Parse { file: &'static str, message: String },
    #[error("rule {id}: invalid regex: {message}")]
    Regex { id: String, message: String },
    #[error("rule {id}: {message}")]
    Invalid { id: String, message: String },
}

#[derive(Debug, Deserialize)]
struct ContentFile {
    rule: Vec<ContentSpec>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ContentSpec {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub severity: Severity,
    pub keywords: Vec<String>,
    pub regex: String,
    #[serde(default)]
    pub secret_group: Option<usize>,
    /// The capture group holding an assignment's key (`DB_PASSWORD` in `DB_PASSWORD=...`): the
    /// match is read as a key rule reads a key and value, and is no secret when the key is
    /// safe-listed (`secret_key_path`), names where the secret is kept with a value that does
    /// not look random (`VAULT_TOKEN_FILE=/run/...`), or the value is safe-listed for key rules.
    #[serde(default)]
    pub key_group: Option<usize>,
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// Public, fixed prefixes that name the token type (`ghp_`, `AKIA`): the only characters of a
    /// value a preview may show, and only when the whole value starts with one of them.
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// What to do about this kind of secret where that differs from keeping the value elsewhere
    /// (a presigned URL is made anew and revoked, not moved into Secrets Manager): it replaces
    /// the general advice on where to keep a value, not a table row's or a site's fix (see
    /// `detect::content_fix`).
    #[serde(default)]
    pub fix: Option<String>,
    /// The rule knows a secret by the name in front of it (`DD_API_KEY=` before 32 hex digits):
    /// it also reads a value under such a key in a document (an ECS or Kubernetes
    /// `{name, value}` pair, a Lambda environment variable) as `KEY=value`.
    #[serde(default)]
    pub by_name: bool,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

pub struct ContentRule {
    pub spec: ContentSpec,
    pub regex: Regex,
}

/// One secret a content rule finds in a text (see [`Rules::content_finds`]).
pub struct ContentFind<'r> {
    pub rule: &'r ContentRule,
    /// Where the secret part of the match is in the text (byte offsets).
    pub span: std::ops::Range<usize>,
}

#[derive(Debug, Deserialize)]
struct ContextFile {
    key: Vec<KeySpec>,
    safe_key: Vec<SafeKeySpec>,
    #[serde(default)]
    reference_key: Vec<SafeKeySpec>,
    safe_value: Vec<SafeValueSpec>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    Weak,
    Medium,
    Strong,
}

impl Strength {
    /// The severity of a key rule's finding: how sure its key name makes the secret.
    pub fn severity(self) -> Severity {
        match self {
            Strength::Strong => Severity::High,
            Strength::Medium => Severity::Medium,
            Strength::Weak => Severity::Low,
        }
    }
}

#[derive(Debug, Deserialize, Clone)]
pub struct KeySpec {
    pub id: String,
    pub name: String,
    pub strength: Strength,
    pub key_regex: String,
    pub min_length: usize,
    pub min_entropy: f64,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct SafeKeySpec {
    pub id: String,
    pub key_regex: String,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct SafeValueSpec {
    pub id: String,
    #[serde(rename = "for")]
    pub applies: Vec<String>,
    pub value_regex: String,
    /// The value only counts as safe at or below this Shannon entropy (bits
    /// per character): a random base64 secret that happens to start with `/`
    /// is not a path.
    #[serde(default)]
    pub max_entropy: Option<f64>,
    /// Not safe when a token in the value looks random (see [`looks_random`]).
    #[serde(default)]
    pub unless_random: bool,
    /// The value only counts as safe under a key this matches (a UUID under `secretVersionId`):
    /// such an entry applies to key rules only, which see the key.
    #[serde(default)]
    pub key_regex: Option<String>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

pub struct KeyRule {
    pub spec: KeySpec,
    pub regex: Regex,
}

pub struct SafeValue {
    pub spec: SafeValueSpec,
    pub regex: Regex,
    pub all: bool,
    /// Compiled [`SafeValueSpec::key_regex`].
    pub key: Option<Regex>,
}

/// All rules of layers 3 and 4, compiled.
pub struct Rules {
    pub content: Vec<ContentRule>,
    /// Keyword automaton; pattern i belongs to rule `keyword_rule[i]`.
    prefilter: AhoCorasick,
    keyword_rule: Vec<usize>,
    pub keys: Vec<KeyRule>,
    pub safe_keys: Vec<(SafeKeySpec, Regex)>,
    /// Keys that name where a secret is kept (`*_FILE`, `*_PARAM`, `*_HEADER`, ...): a key rule
    /// fires on them only for a value that [`looks_random`].
    pub reference_keys: Vec<(SafeKeySpec, Regex)>,
    pub safe_values: Vec<SafeValue>,
}

fn compile(id: &str, re: &str) -> Result<Regex, RuleError> {
    Regex::new(re).map_err(|e| RuleError::Regex {
        id: id.to_string(),
        message: regex_error_words(re, &e),
    })
}

/// What is wrong with a regex and where, without the pattern: regex's own message prints it with
/// a caret under the error, and a `--config` rule's regex may be a literal secret searched for
/// (a leaked password with a `(` in it). The kind and position come from regex-syntax, the parser
/// regex itself runs; an error it does not raise (a compiled size limit) names no pattern.
fn regex_error_words(re: &str, e: &regex::Error) -> String {
    use regex_syntax::ast::parse::Parser;
    use regex_syntax::hir::translate::Translator;

    if !matches!(e, regex::Error::Syntax(_)) {
        return e.to_string();
    }
    let (kind, span) = match Parser::new().parse(re) {
        Err(e) => (e.kind().to_string(), *e.span()),
        Ok(ast) => match Translator::new().translate(re, &ast) {
            Err(e) => (e.kind().to_string(), *e.span()),
            Ok(_) => return "the pattern does not compile".to_string(),
        },
    };
    let at = span.start;
    if re.contains('\n') {
        format!(
            "{kind} (line {}, column {} of the pattern)",
            at.line, at.column
        )
    } else {
        format!("{kind} (column {} of the pattern)", at.column)
    }
}

impl Rules {
    pub fn builtin() -> Result<Rules, RuleError> {
        Self::from_sources(CONTENT_TOML, CONTEXT_TOML)
    }

    /// The built-in rules and, after their content rules, `extra` ones (a `--config` file's).
    pub fn builtin_with(extra: Vec<ContentSpec>) -> Result<Rules, RuleError> {
        Self::from_sources_with(CONTENT_TOML, CONTEXT_TOML, extra)
    }

    pub fn from_sources(content: &str, context: &str) -> Result<Rules, RuleError> {
        Self::from_sources_with(content, context, Vec::new())
    }

    fn from_sources_with(
        content: &str,
        context: &str,
        extra: Vec<ContentSpec>,
    ) -> Result<Rules, RuleError> {
        let mut cf: ContentFile = toml::from_str(content).map_err(|e| RuleError::Parse {
            file: "content.toml",
            message: e.to_string(),
        })?;
        let xf: ContextFile = toml::from_str(context).map_err(|e| RuleError::Parse {
            file: "context.toml",
            message: e.to_string(),
        })?;
        cf.rule.extend(extra);
        Self::build(cf.rule, xf)
    }

    fn build(content: Vec<ContentSpec>, xf: ContextFile) -> Result<Rules, RuleError> {
        let mut ids = std::collections::HashSet::new();
        let mut rules = Vec::new();
        let mut words = Vec::new();
        let mut keyword_rule = Vec::new();
        for spec in content {
            if !ids.insert(spec.id.clone()) {
                return Err(RuleError::Invalid {
                    id: spec.id,
                    message: "duplicate id".into(),
                });
            }
            if spec.keywords.is_empty() {
                return Err(RuleError::Invalid {
                    id: spec.id,
                    message: "a content rule needs at least one keyword".into(),
                });
            }
            if spec.keywords.iter().any(|w| w.trim().is_empty()) {
                return Err(RuleError::Invalid {
                    id: spec.id,
                    message: "an empty keyword would select every text for the regex".into(),
                });
            }
            let regex = compile(&spec.id, &spec.regex)?;
            if regex.is_match("") {
                return Err(RuleError::Invalid {
                    id: spec.id,
                    message: "the regex matches an empty text (a finding of nothing)".into(),
                });
            }
            let groups = regex.captures_len() - 1;
            for (name, group) in [
                ("secret_group", spec.secret_group),
                ("key_group", spec.key_group),
            ] {
                if let Some(n) = group.filter(|&n| n > groups) {
                    return Err(RuleError::Invalid {
                        id: spec.id,
                        message: format!(
                            "{name} {n}: the regex has {groups} capture group{}",
                            if groups == 1 { "" } else { "s" }
                        ),
                    });
                }
            }
            if spec.min_entropy.is_some_and(|m| !(0.0..=8.0).contains(&m)) {
                return Err(RuleError::Invalid {
                    id: spec.id,
                    message: "min_entropy is in bits per byte: from 0 to 8".into(),
                });
            }
            for w in &spec.keywords {
                words.push(w.to_ascii_lowercase());
                keyword_rule.push(rules.len());
            }
            rules.push(ContentRule { spec, regex });
        }
        let prefilter = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&words)
            .map_err(|e| RuleError::Invalid {
                id: "keywords".into(),
                message: e.to_string(),
            })?;
        let mut keys = Vec::new();
        for spec in xf.key {
            if !ids.insert(spec.id.clone()) {
                return Err(RuleError::Invalid {
                    id: spec.id,
                    message: "duplicate id".into(),
                });
            }
            let regex = compile(&spec.id, &spec.key_regex)?;
            keys.push(KeyRule { spec, regex });
        }
        let mut safe_keys = Vec::new();
        for spec in xf.safe_key {
            let re = compile(&spec.id, &spec.key_regex)?;
            safe_keys.push((spec, re));
        }
        let mut reference_keys = Vec::new();
        for spec in xf.reference_key {
            let re = compile(&spec.id, &spec.key_regex)?;
            reference_keys.push((spec, re));
        }
        let mut safe_values = Vec::new();
        for spec in xf.safe_value {
            let regex = compile(&spec.id, &spec.value_regex)?;
            let all = spec.applies.iter().any(|a| a == "all");
            let key = match &spec.key_regex {
                Some(re) => Some(compile(&spec.id, re)?),
                None => None,
            };
            safe_values.push(SafeValue {
                spec,
                regex,
                all,
                key,
            });
        }
        Ok(Rules {
            content: rules,
            prefilter,
            keyword_rule,
            keys,
            safe_keys,
            reference_keys,
            safe_values,
        })
    }

    /// Does `text` contain any content-rule keyword? (The cheap first test of every value.)
    pub fn any_keyword(&self, text: &str) -> bool {
        self.prefilter.is_match(text)
    }

    /// Content rules whose keywords occur in `text`, in file order.
    pub fn candidates(&self, text: &str) -> Vec<usize> {
        let mut hit: Vec<usize> = Vec::new();
        for m in self.prefilter.find_overlapping_iter(text) {
            let r = self.keyword_rule[m.pattern().as_usize()];
            if !hit.contains(&r) {
                hit.push(r);
            }
        }
        hit.sort_unstable();
        hit
    }

    /// The first content rule matching `text` with a non-placeholder secret part.
    pub fn content_match(&self, text: &str) -> Option<&ContentRule> {
        self.candidates(text)
            .into_iter()
            .map(|i| &self.content[i])
            .find(|rule| self.finds(rule, text))
    }

    /// Whether the content rule `id` finds a secret in `text` as a scan would: one of its
    /// keywords is there, its regex matches, and the secret part is no placeholder (built-in
    /// safe values) and random enough. What other rules find does not matter.
    pub fn rule_finds(&self, id: &str, text: &str) -> bool {
        self.candidates(text)
            .into_iter()
            .map(|i| &self.content[i])
            .any(|rule| rule.spec.id == id && self.finds(rule, text))
    }

    /// Every distinct secret the content rules find in `text`: rule by rule in file order and,
    /// within a rule, left to right (so the first is what [`Rules::content_match`] finds). A
    /// secret two rules match (a GitHub token in an `Authorization: token ...` header or
    /// assigned to `GITHUB_TOKEN=`) is found once, by the first rule: a find whose secret part
    /// overlaps one found before, or equals, holds or is held by one found before (the same
    /// token twice in a script), is left out.
    pub fn content_finds(&self, text: &str) -> Vec<ContentFind<'_>> {
        let mut found: Vec<ContentFind<'_>> = Vec::new();
        for rule in self.candidates(text).into_iter().map(|i| &self.content[i]) {
            for span in self.secret_spans(rule, text) {
                let s = &text[span.clone()];
                let known = found.iter().any(|f| {
                    let t = &text[f.span.clone()];
                    (span.start < f.span.end && f.span.start < span.end)
                        || t.contains(s)
                        || s.contains(t)
                });
                if !known {
                    found.push(ContentFind { rule, span });
                }
            }
        }
        found
    }

    /// `rule`'s regex matches `text` with a secret part that is no placeholder and, when the
    /// rule asks, random enough.
    fn finds(&self, rule: &ContentRule, text: &str) -> bool {
        self.secret_spans(rule, text).next().is_some()
    }

    /// Where the secret part of each match of `rule` in `text` is (its `secret_group`, else its
    /// first group, else the whole match), for the matches whose secret part is no placeholder,
    /// random enough when the rule asks, and not a quiet assignment (`key_group`).
    fn secret_spans<'t>(
        &'t self,
        rule: &'t ContentRule,
        text: &'t str,
    ) -> impl Iterator<Item = std::ops::Range<usize>> + 't {
        rule.regex.captures_iter(text).filter_map(move |caps| {
            let group = rule
                .spec
                .secret_group
                .unwrap_or(if caps.len() > 1 { 1 } else { 0 });
            // Without a `secret_group`, the first group that took part: a rule whose
            // alternatives each capture their token in a group of their own (and match a
            // boundary after it) names the token, not the boundary.
            let secret = if rule.spec.secret_group.is_some() {
                caps.get(group)
            } else {
                (1..caps.len()).find_map(|i| caps.get(i))
            }
            .or_else(|| caps.get(0))?;
            let s = secret.as_str();
            let fires = !self.is_example_placeholder(s)
                && !self.is_template_token(s)
                && rule.spec.min_entropy.is_none_or(|min| entropy(s) >= min)
                && rule
                    .spec
                    .key_group
                    .and_then(|n| caps.get(n))
                    .is_none_or(|key| !self.assignment_is_quiet(key.as_str(), s));
            fires.then(|| secret.range())
        })
    }

    /// Is `secret` a documentation template rather than a token: a known token prefix (of any
    /// content rule: `glpat-`, `k8s-aws-v1.`) with nothing after it, or followed by (or, with no
    /// known prefix, all of it) a body whose letters and digits are one repeated character
    /// (`glpat-xxxxxxxxxxxxxxxxxxxx`, `AKIAXXXXXXXXXXXXXXXX`, `sk_live_0000...`, `XXXX-XXXX`)
    /// or that holds a run of eight `x`s (`sk_live_51Hxxxxxxxxxxxxxxxx`). A generated token
    /// of 16 or more characters is never one of these (a run of eight `x` or `X` in 62 random
    /// characters: about 1 in 10^12).
    fn is_template_token(&self, secret: &str) -> bool {
        let s = secret.trim();
        let prefix = self
            .content
            .iter()
            .flat_map(|r| r.spec.prefixes.iter())
            .filter(|p| {
                s.len() >= p.len()
                    && s.is_char_boundary(p.len())
                    && s[..p.len()].eq_ignore_ascii_case(p)
            })
            .map(String::len)
            .max();
        let body = &s[prefix.unwrap_or(0)..];
        let mut alnum = body
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase());
        let one_char = match alnum.next() {
            None => prefix.is_some(),
            Some(first) => alnum.all(|c| c == first),
        };
        one_char || body.to_ascii_lowercase().contains("xxxxxxxx")
    }

    /// An assignment `key = value` found in text that the key rules' lists say is no secret: a
    /// safe-listed key, a key naming where the secret is kept with a value that does not look
    /// random, or a value safe-listed for a strong key rule (a path, a placeholder, a setting).
    fn assignment_is_quiet(&self, key: &str, value: &str) -> bool {
        self.is_safe_key(key)
            || (self.is_reference_key(key) && !looks_random(value))
            || self.is_safe_value_under(key, value, Some(Strength::Strong))
    }

    /// Is `value` safe-listed for a key rule of `strength` (`None`: the "all" lists only)?
    /// Entries that hold only under some keys ([`SafeValueSpec::key_regex`]) are left out.
    pub fn is_safe_value(&self, value: &str, strength: Option<Strength>) -> bool {
        self.safe_value_in(None, value, strength)
    }

    /// [`Rules::is_safe_value`] for a value under `key`: the entries scoped to keys that match
    /// `key` count too.
    pub fn is_safe_value_under(&self, key: &str, value: &str, strength: Option<Strength>) -> bool {
        self.safe_value_in(Some(key), value, strength)
    }

    fn safe_value_in(&self, key: Option<&str>, value: &str, strength: Option<Strength>) -> bool {
        let trimmed = value.trim();
        self.safe_values.iter().any(|s| {
            if let Some(re) = &s.key {
                if !key.is_some_and(|k| re.is_match(k)) {
                    return false;
                }
            }
            let applies = s.all
                || strength.is_some_and(|st| {
                    let name = match st {
                        Strength::Strong => "strong",
                        Strength::Medium => "medium",
                        Strength::Weak => "weak",
                    };
                    s.spec.applies.iter().any(|a| a == name)
                });
            applies && s.holds(trimmed)
        })
    }

    /// Is `secret` a placeholder where it stands for an example: the "all" lists and those `for`
    /// "content" (the secret part of a content-rule match, `postgres://app:changeme@db` in a
    /// script; a provider or backend credential). A table row whose value is `changeme` holds
    /// the live password.
    /// An entry with a `key_regex` is not one: it holds only under a key its regex matches, and
    /// no key is known here.
    pub fn is_example_placeholder(&self, secret: &str) -> bool {
        let trimmed = secret.trim();
        self.safe_values.iter().any(|s| {
            s.key.is_none()
                && (s.all || s.spec.applies.iter().any(|a| a == "content"))
                && s.holds(trimmed)
        })
    }

    pub fn is_safe_key(&self, key: &str) -> bool {
        self.safe_keys.iter().any(|(_, re)| re.is_match(key))
    }

    /// Layer 4: the key rule that makes `value` under `key` a secret.
    pub fn is_reference_key(&self, key: &str) -> bool {
        self.reference_keys.iter().any(|(_, re)| re.is_match(key))
    }

    pub fn key_match(&self, key: &str, value: &str) -> Option<&KeyRule> {
        if self.is_safe_key(key) {
            return None;
        }
        let rule = self.keys.iter().find(|r| r.regex.is_match(key))?;
        self.key_value_fires(rule, key, value).then_some(rule)
    }

    /// Whether `rule`, which matched `key`, fires on `value`: long enough, random enough, not
    /// safe-listed, and random-looking when the key names a reference (`DB_PASSWORD_FILE`).
    pub fn key_value_fires(&self, rule: &KeyRule, key: &str, value: &str) -> bool {
        let v = value.trim();
        v.chars().count() >= rule.spec.min_length
            && entropy(v) >= rule.spec.min_entropy
            && !self.is_safe_value_under(key, v, Some(rule.spec.strength))
            && (!self.is_reference_key(key) || looks_random(v))
    }
}

impl SafeValue {
    /// Whether this safe-list entry covers `v` (already trimmed).
    pub fn holds(&self, v: &str) -> bool {
        self.regex.is_match(v)
            && self.spec.max_entropy.is_none_or(|max| entropy(v) <= max)
            && !(self.spec.unless_random && looks_random(v))
    }
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Whether `v` holds a token that looks generated rather than written: a run of 12 or more
/// letters, digits, `+` and `=` that switches between upper case, lower case and digits at least
/// once every four characters (random alphanumerics, hex and base64 switch about one time in two)
/// and is not mostly words (a capital and three or more lower-case letters with a vowel, the
/// parts of a camelCase name). Paths, secret names, header and table names
/// (`/run/secrets/db-password`, `X-Authorization-Token`, `MyAppTokensTable`) have no such run.
/// Entropy does not separate them (24 random lower-case letters and a 27-letter camelCase name
/// both have about 4 bits per character); a run of random lower-case letters and digits is
/// recognised only about 4 times in 5.
pub fn looks_random(v: &str) -> bool {
    fn class(b: u8) -> u8 {
        match b {
            b'A'..=b'Z' => 0,
            b'a'..=b'z' => 1,
            b'0'..=b'9' => 2,
            _ => 3,
        }
    }
    /// Characters in word-like parts: `[A-Z]?[a-z]{3,}` holding a vowel.
    fn wordy(run: &[u8]) -> usize {
        let mut n = 0;
        let mut i = 0;
        while i < run.len() {
            let start = i;
            if run[i].is_ascii_uppercase() {
                i += 1;
            }
            let lower = i;
            while i < run.len() && run[i].is_ascii_lowercase() {
                i += 1;
            }
            if i - lower >= 3 && run[lower..i].iter().any(|b| b"aeiouy".contains(b)) {
                n += i - start;
            }
            if i == start {
                i += 1;
            }
        }
        n
    }
    v.as_bytes()
        .split(|b| !(b.is_ascii_alphanumeric() || *b == b'+' || *b == b'='))
        .filter(|run| run.len() >= 12)
        .any(|run| {
            let switches = run
                .windows(2)
                .filter(|w| class(w[0]) != class(w[1]))
                .count();
            switches * 4 >= run.len() && wordy(run) * 4 < run.len() * 3
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_compile_with_unique_ids() {
        let r = Rules::builtin().unwrap();
        assert!(r.content.len() >= 20);
        assert!(r.keys.len() >= 4);
    }

    /// A safe value bounded to a key (`key_regex`) was taken as an example placeholder under
    /// any key, or none: a content rule's secret or a provider block's credential matching its
    /// value was let through whatever the key.
    #[test]
    fn a_safe_value_bounded_to_a_key_is_no_placeholder_elsewhere() {
        let context = format!(
            "{}\n[[safe_value]]\nid = \"probe-bounded\"\nfor = [\"all\", \"content\"]\n\
             key_regex = '^probe_key$'\nvalue_regex = '^zz-probe-[a-z]+$'\n",
            include_str!("../rules/context.toml")
        );
        let r = Rules::from_sources(include_str!("../rules/content.toml"), &context).unwrap();
        assert!(r.is_safe_value_under("probe_key", "zz-probe-value", None));
        assert!(!r.is_safe_value_under("password", "zz-probe-value", None));
        assert!(!r.is_example_placeholder("zz-probe-value"));
        // An entry without a key still is one.
        assert!(r.is_example_placeholder("changeme"));
    }

    #[test]
    fn looks_random_table() {
        for (v, want) in [
            ("/run/secrets/postgres-password", false),
            ("prod/payments/db-password", false),
            ("X-Authorization-Token", false),
            ("auth-tokens-prod", false),
            ("XAuthorizationTokenV2Header", false),
            ("MyAppTokensTableProduction", false),
            ("SigningSecretParamV2Prod", false),
            ("my_app_tokens_table_production", false),
            ("argon2id", false),
            ("123456789012", false),
            ("Kq7Wz2Lm9Xv4Rt8P", true),
            ("d41d8cd98f00b204e9800998ecf8427e", true),
            ("Bearer Ab3xY9Qw8Lm2Zp7Rt5Vn1Kc4Hd6Js0Fg2We8Uy3", true),
            ("/Kq7Wz2Lm9Xv4Rt8P", true),
            ("qwhvkzpmtrlsnxbdfgjcy", false),
        ] {
            assert_eq!(looks_random(v), want, "{v}");
        }
    }

    #[test]
    fn entropy_table() {
        for (s, lo, hi) in [
            ("", 0.0, 0.0),
            ("aaaa", 0.0, 0.0),
            ("ab", 1.0, 1.0),
            ("abcd", 2.0, 2.0),
        ] {
            let e = entropy(s);
            assert!(e >= lo && e <= hi, "{s}: {e}");
        }
    }
}
