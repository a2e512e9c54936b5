//! A scan configuration: an organisation's own content rules and allow-list entries, read from
//! `--config FILE` or, when that is not given, `.state-scrubber.toml` in the current directory
//! (as gitleaks reads `.gitleaks.toml`).
//!
//! ```toml
//! # Content rules beside the built-in ones (rules/content.toml): the same fields.
//! [[rule]]
//! id = "acme-deploy-token"
//! name = "ACME deploy token"
//! kind = "token"
//! severity = "high"
//! keywords = ["acmedt_"]
//! regex = '\b(acmedt_[a-z0-9]{32})\b'
//!
//! # Findings never reported. Each entry says why, and every field it gives must match
//! # (a field is a list of globs: `*` any run of characters, `?` one).
//! [[allow]]
//! reason = "random_id is an identifier here, not a secret"
//! resources = ["random_id.*", "module.*.random_id.*"]
//! ```
//!
//! Errors name the file and the entry, never a value: a rule's examples are someone's idea of a
//! secret.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::finding::Finding;
use crate::rules::{ContentSpec, Rules};

/// The file read when `--config` is not given, if it exists in the current directory.
pub const DEFAULT_FILE: &str = ".state-scrubber.toml";

/// Largest configuration file read (a rules file, not a data set).
const MAX_BYTES: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {file}: {message}")]
    Read { file: String, message: String },
    #[error("config {file}: {message}")]
    Parse { file: String, message: String },
    #[error("config {file}: {what}: {message}")]
    Entry {
        file: String,
        what: String,
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    rule: Vec<ContentSpec>,
    #[serde(default)]
    allow: Vec<AllowSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowSpec {
    reason: String,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    attributes: Vec<String>,
    #[serde(default)]
    files: Vec<String>,
}

/// One `[[allow]]` entry: a finding matches when, for each field the entry gives, one of its
/// globs matches the finding's rule id, resource address, attribute path or file.
#[derive(Debug, Clone)]
pub struct Allow {
    pub reason: String,
    rules: Vec<String>,
    resources: Vec<String>,
    attributes: Vec<String>,
    files: Vec<String>,
}

impl Allow {
    /// The entry's globs by field name, in the order a finding is described.
    pub fn fields(&self) -> [(&'static str, &[String]); 4] {
        [
            ("rules", &self.rules),
            ("resources", &self.resources),
            ("attributes", &self.attributes),
            ("files", &self.files),
        ]
    }

    pub fn allows(&self, f: &Finding) -> bool {
        let any = |globs: &[String], text: &str| {
            globs.is_empty() || globs.iter().any(|g| glob_match(g, text))
        };
        // A file as reported (`./s/x.tfstate` when `audit ./s` was run) or as baselines compare it
        // (`s/x.tfstate`): the entry must not depend on how the path was typed.
        let file = || {
            any(&self.files, &f.file) || any(&self.files, &crate::baseline::normalize_file(&f.file))
        };
        any(&self.rules, &f.rule_id)
            && any(&self.resources, &f.address)
            && any(&self.attributes, &f.attribute_path)
            && file()
    }
}

/// A loaded configuration.
#[derive(Clone)]
pub struct Config {
    /// The file as given (or [`DEFAULT_FILE`]), for reports.
    pub file: String,
    /// Its content rules, checked (compiled, examples matched) when loaded.
    pub rules: Vec<ContentSpec>,
    /// The built-in rules and these, compiled once: every engine of the run shares them.
    pub compiled: Arc<Rules>,
    pub allow: Vec<Allow>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("file", &self.file)
            .field("rules", &self.rules.len())
            .field("allow", &self.allow)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// `--config FILE` when given; else [`DEFAULT_FILE`] in the current directory if it exists;
    /// else `None`.
    pub fn discover(given: Option<&Path>) -> Result<Option<Config>, ConfigError> {
        match given {
            Some(path) => Config::load(path).map(Some),
            None => {
                let path = PathBuf::from(DEFAULT_FILE);
                // There in any form: a dangling symlink or a directory is an error, not a run
                // without the organisation's rules (`is_file` is false for both).
                if std::fs::symlink_metadata(&path).is_ok() {
                    Config::load(&path).map(Some)
                } else {
                    Ok(None)
                }
            }
        }
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = crate::input::path_label(path);
        let read_error = |e: std::io::Error| ConfigError::Read {
            file: file.clone(),
            message: crate::input::io_message(&e),
        };
        let meta = std::fs::metadata(path).map_err(read_error)?;
        if meta.len() > MAX_BYTES {
            return Err(ConfigError::Read {
                file,
                message: format!("{} bytes: larger than {MAX_BYTES}", meta.len()),
            });
        }
        // At most one byte past the limit, whatever the length said: a device or a pipe
        // (`/dev/zero`, `<(...)`) says 0.
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_BYTES + 1).read_to_end(&mut bytes))
            .map_err(read_error)?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(ConfigError::Read {
                file,
                message: format!("larger than {MAX_BYTES} bytes"),
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| ConfigError::Parse {
            file: file.clone(),
            message: "not UTF-8 text".into(),
        })?;
        Config::parse(&text, file)
    }

    /// Parses and checks a configuration's text; `file` names it in errors.
    pub fn parse(text: &str, file: String) -> Result<Config, ConfigError> {
        let parsed: ConfigFile = toml::from_str(text).map_err(|e| ConfigError::Parse {
            file: file.clone(),
            // toml's message quotes the offending line: it may be a rule's example.
            message: toml_error_words(&e),
        })?;
        let entry = |what: String, message: String| ConfigError::Entry {
            file: file.clone(),
            what,
            message,
        };
        // Compiles the rules with the built-in ones: a bad regex, a missing keyword or an id the
        // built-in rules already use is an error here, once, rather than in every worker.
        let compiled = Rules::builtin_with(parsed.rule.clone())
            .map_err(|e| entry("rules".into(), e.to_string()))?;
        for spec in &parsed.rule {
            // The ids of the other layers (marks, the attribute table, same-value): a finding of
            // this rule would be theirs to allow entries, baselines and scrub --only/--exclude.
            // (The built-in content and key rules' ids are refused by the compile above.)
            let id_error = if spec.id.is_empty() {
                Some("an id must not be empty")
            } else if spec.id.chars().any(char::is_control) {
                Some("an id must not hold a control character")
            } else if spec.id.starts_with("mark.") || spec.id.starts_with("attr.") {
                Some(
                    "`mark.` and `attr.` ids are the built-in layers' (see `state-scrubber rules`)",
                )
            } else if spec.id == "same-value" {
                Some("the id of a built-in rule (see `state-scrubber rules`)")
            } else {
                None
            };
            if let Some(message) = id_error {
                return Err(entry(format!("rule {}", spec.id), message.into()));
            }
            // A preview shows a value's start when it begins with one of the rule's prefixes. The
            // built-in ones are token types' public prefixes (`ghp_`, `AKIA`); a file in the
            // repository audited could list every two-letter string and have the report show the
            // first characters of every secret. A configured rule's preview shows the length only.
            if !spec.prefixes.is_empty() {
                return Err(entry(
                    format!("rule {}", spec.id),
                    "`prefixes` is for the built-in rules only: a configured rule's findings show \
                     the value's length and nothing of it"
                        .into(),
                ));
            }
            check_examples(&compiled, spec).map_err(|m| entry(format!("rule {}", spec.id), m))?;
        }
        let mut allow = Vec::new();
        for (i, a) in parsed.allow.into_iter().enumerate() {
            let what = format!("allow entry {}", i + 1);
            if a.reason.trim().is_empty() {
                return Err(entry(what, "`reason` is empty: say why".into()));
            }
            if a.rules.is_empty()
                && a.resources.is_empty()
                && a.attributes.is_empty()
                && a.files.is_empty()
            {
                return Err(entry(
                    what,
                    "gives none of `rules`, `resources`, `attributes`, `files`: it would allow \
                     every finding"
                        .into(),
                ));
            }
            for (field, globs) in [
                ("rules", &a.rules),
                ("resources", &a.resources),
                ("attributes", &a.attributes),
                ("files", &a.files),
            ] {
                if globs
                    .iter()
                    // `?*` matches every rule id, address and file as surely as `*`, and `*.*`
                    // every resource address (`aws_x.y`, `module.m.aws_x.y["k"]`) and every file
                    // with an extension: a glob must name something, a letter or a digit.
                    .any(|g| !g.chars().any(char::is_alphanumeric))
                {
                    return Err(entry(
                        what,
                        format!("`{field}` has a glob with no letter or digit (`*`, `?*`, `*.*`): it would match every finding; leave the field out instead"),
                    ));
                }
            }
            allow.push(Allow {
                reason: a.reason,
                rules: a.rules,
                resources: a.resources,
                attributes: a.attributes,
                files: a.files,
            });
        }
        Ok(Config {
            file,
            rules: parsed.rule,
            compiled: Arc::new(compiled),
            allow,
        })
    }

    /// Whether an `[[allow]]` entry covers `f`.
    pub fn allows(&self, f: &Finding) -> bool {
        self.allow.iter().any(|a| a.allows(f))
    }
}

/// A rule's `examples` must each be found by it and its `negative_examples` not, as a scan finds
/// them in the run's compiled rules (keywords, regex, no placeholder; literal text: the built-in
/// rules' `{{r:...}}` templates are for the project's own files). The message names the example
/// by its position only.
fn check_examples(rules: &Rules, spec: &ContentSpec) -> Result<(), String> {
    for (i, ex) in spec.examples.iter().enumerate() {
        if !rules.rule_finds(&spec.id, ex) {
            return Err(format!(
                "example {} is not found by the rule (its keywords and regex)",
                i + 1
            ));
        }
    }
    for (i, ex) in spec.negative_examples.iter().enumerate() {
        if rules.rule_finds(&spec.id, ex) {
            return Err(format!("negative example {} is found by the rule", i + 1));
        }
    }
    Ok(())
}

/// toml's error without the source line it quotes (the line may hold an example secret): its
/// first line (`TOML parse error at line L, column C`) and what is wrong, with any string serde
/// quotes in it (`invalid type: string "...", expected a sequence`) and the name or value it
/// found unknown or repeated (``unknown variant `…` ``, ``unknown field `…` ``, ``duplicate key
/// `…` ``: a secret pasted into the wrong place) left out. The position says where.
fn toml_error_words(e: &toml::de::Error) -> String {
    let message = without_named_values(&without_quoted_strings(e.message().trim()));
    // Some messages run over lines (`invalid array` / ``expected `]` ``): one line, for a log.
    let message = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
    match e.span() {
        Some(_) => {
            let first = e.to_string();
            let head = first.lines().next().unwrap_or("TOML parse error").trim();
            format!("{head}: {message}")
        }
        None => message,
    }
}

/// `string "..."` (serde's `Unexpected::Str`, Debug-quoted) becomes `a string`.
fn without_quoted_strings(message: &str) -> String {
    const QUOTED: &str = "string \"";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(QUOTED) {
        out.push_str(&rest[..at]);
        out.push_str("a string");
        let body = &rest[at + QUOTED.len()..];
        let mut escaped = false;
        let end = body
            .char_indices()
            .find(|&(_, c)| {
                let close = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                close
            })
            .map_or(body.len(), |(i, _)| i + 1);
        rest = &body[end..];
    }
    out.push_str(rest);
    out
}

/// What toml and serde name from the file, left out (the position says where):
/// ``unknown variant `X`, expected …`` becomes `unknown variant, expected …`, and the same for
/// `unknown field`; ``duplicate key `K` in table `T` `` becomes `duplicate key in table `T``
/// when T is `rule` or `allow` (else `in a table`); ``dotted key `K` attempted …`` loses K;
/// ``integer `N` `` (and floating point, boolean, character: serde's unexpected value) loses N.
/// A name is printed raw, so it may hold a backtick or a newline: it is cut up to the last
/// place the schema's own words follow, and where they do not, the message ends there.
fn without_named_values(message: &str) -> String {
    let mut out = message.to_string();
    for (lead, ends) in [
        (
            "unknown variant `",
            &["`, expected ", "`, there are no "][..],
        ),
        ("unknown field `", &["`, expected ", "`, there are no "]),
        ("dotted key `", &["` attempted to extend"]),
    ] {
        if let Some(at) = out.find(lead) {
            let body = at + lead.len();
            let name = " `".len();
            match ends.iter().filter_map(|e| out[body..].rfind(e)).max() {
                Some(len) => out.replace_range(body - name..body + len + 1, ""),
                None => out.truncate(body - name),
            }
        }
    }
    const DUPLICATE: &str = "duplicate key";
    if let Some(at) = out.find(&format!("{DUPLICATE} `")) {
        let rest = &out[at..];
        let table = if rest.ends_with("` in document root") {
            " in document root".to_string()
        } else if let Some(t) = rest.rfind("` in table `") {
            match rest[t + "` in table `".len()..].strip_suffix('`') {
                Some(t @ ("rule" | "allow")) => format!(" in table `{t}`"),
                _ => " in a table".to_string(),
            }
        } else {
            String::new()
        };
        out.truncate(at + DUPLICATE.len());
        out.push_str(&table);
    }
    for lead in [
        "integer `",
        "floating point `",
        "boolean `",
        "character `",
        "but was `",
    ] {
        while let Some(at) = out.find(lead) {
            let body = at + lead.len();
            let end = match lead {
                // One character, which may be a backtick.
                "character `" => out[body..]
                    .chars()
                    .next()
                    .map(|c| body + c.len_utf8())
                    .filter(|&e| out[e..].starts_with('`')),
                _ => out[body..].find('`').map(|len| body + len),
            };
            match end {
                Some(end) => out.replace_range(body - " `".len()..end + 1, ""),
                None => {
                    out.truncate(body - " `".len());
                    break;
                }
            }
        }
    }
    out
}

/// `*` matches any run of characters (none included), `?` one character; the whole text must
/// match. Not globset (which `--exclude` uses): addresses and attribute paths hold `[...]`
/// (`aws_x.y["k"]`, `settings[0].password`), which it would read as a character class.
pub fn glob_match(glob: &str, text: &str) -> bool {
    let (g, t): (Vec<char>, Vec<char>) = (glob.chars().collect(), text.chars().collect());
    let (mut gi, mut ti) = (0, 0);
    // Where the last `*` was, and the text position it is tried from next.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match g.get(gi) {
            Some('*') => {
                star = Some((gi, ti));
                gi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                gi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sg, st)) => {
                    gi = sg + 1;
                    ti = st + 1;
                    star = Some((sg, st + 1));
                }
                None => return false,
            },
        }
    }
    g[gi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        for (g, t, want) in [
            ("random_id.*", "random_id.x", true),
            ("random_id.*", "module.a.random_id.x", false),
            ("*random_id.*", "module.a.random_id.x[\"k\"]", true),
            (
                "module.*.aws_iam_access_key.ci",
                "module.a.b.aws_iam_access_key.ci",
                true,
            ),
            ("tags.*", "tags.Name", true),
            ("tags.*", "tags_all.Name", false),
            ("key-?oken", "key-token", true),
            ("key-?oken", "key-tooken", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("", "", true),
            ("*", "", true),
            ("é*", "étoile", true),
        ] {
            assert_eq!(glob_match(g, t), want, "{g:?} on {t:?}");
        }
    }

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "cfg.toml".into())
    }

    #[test]
    fn a_config_with_a_rule_and_allow_entries_loads() {
        let c = parse(
            r#"
[[rule]]
id = "acme-deploy-token"
name = "ACME deploy token"
kind = "token"
severity = "high"
keywords = ["acmedt_"]
regex = '\b(acmedt_[a-z0-9]{32})\b'
examples = ["token acmedt_0123456789abcdef0123456789abcdef here"]
negative_examples = ["acmedt_short"]

[[allow]]
reason = "identifiers"
resources = ["random_id.*"]

[[allow]]
reason = "labels are public"
rules = ["key-*"]
attributes = ["labels.*"]
"#,
        )
        .unwrap();
        assert_eq!(c.rules.len(), 1);
        assert_eq!(c.allow.len(), 2);
        assert_eq!(c.allow[1].reason, "labels are public");
    }

    /// Every error names the file and the entry; none quotes an example (the text of the
    /// example below would show as `SECRETEXAMPLE`).
    #[test]
    fn errors_name_the_entry_and_never_an_example() {
        let rule = |extra: &str| {
            format!(
                "[[rule]]\nid = \"x\"\nname = \"X\"\nkind = \"token\"\nseverity = \"high\"\n\
                 keywords = [\"xtok_\"]\nregex = 'xtok_[a-z]{{8}}'\n{extra}"
            )
        };
        for (text, want) in [
            (
                rule("examples = [\"SECRETEXAMPLE xtok_ABC\"]\n"),
                "config cfg.toml: rule x: example 1 is not found",
            ),
            (
                rule("negative_examples = [\"SECRETEXAMPLE xtok_abcdefgh\"]\n"),
                "config cfg.toml: rule x: negative example 1 is found",
            ),
            (
                rule("").replace("xtok_[a-z]{8}", "xtok_[a-z"),
                "config cfg.toml: rules: rule x: invalid regex",
            ),
            (
                rule("").replace("id = \"x\"", "id = \"aws-access-key-id\""),
                "duplicate id",
            ),
            (
                rule("").replace("keywords = [\"xtok_\"]", "keywords = []"),
                "at least one keyword",
            ),
            (
                "[[allow]]\nreason = \"r\"\n".to_string(),
                "allow entry 1: gives none of",
            ),
            (
                rule("prefixes = [\"xtok_\"]\n"),
                "config cfg.toml: rule x: `prefixes` is for the built-in rules only",
            ),
            (
                "[[allow]]\nreason = \"\"\nrules = [\"a\"]\n".to_string(),
                "allow entry 1: `reason` is empty",
            ),
            (
                "[[allow]]\nreason = \"r\"\nresources = [\"*\"]\n".to_string(),
                "`resources` has a glob with no letter or digit",
            ),
            (
                "[[allow]]\nreason = \"r\"\nrules = [\"a*\", \"?*\"]\n".to_string(),
                "`rules` has a glob with no letter or digit",
            ),
            (
                "[[allow]]\nreason = \"r\"\nresources = [\"*.*\"]\n".to_string(),
                "`resources` has a glob with no letter or digit",
            ),
            (
                "[[allow]]\nreason = \"r\"\nfiles = [\"./*.*\"]\n".to_string(),
                "`files` has a glob with no letter or digit",
            ),
            (
                "[[allow]]\nreason = \"r\"\nresource = [\"a.b\"]\n".to_string(),
                "config cfg.toml: TOML parse error at line",
            ),
            (
                "[[rule]]\nid = \"x\"\nexamples = [\"SECRETEXAMPLE\"\n".to_string(),
                "config cfg.toml: TOML parse error at line",
            ),
            (
                "x = [\n".to_string(),
                "TOML parse error at line 1, column 7: invalid array: expected `]`",
            ),
            (
                rule("examples = \"SECRETEXAMPLE \\\" SECRETEXAMPLE\"\n"),
                "invalid type: a string, expected a sequence",
            ),
            (
                rule("").replace("\"token\"", "\"SECRETEXAMPLE\""),
                "line 4, column 8: unknown variant, expected one of `password`",
            ),
            (
                rule("").replace("\"high\"", "\"SECRETEXAMPLE\""),
                "unknown variant, expected one of `low`",
            ),
            (
                rule("SECRETEXAMPLE = 1\n"),
                "line 8, column 1: unknown field, expected one of `id`",
            ),
            (
                "[SECRETEXAMPLE]\n".to_string(),
                "unknown field, expected `rule` or `allow`",
            ),
            (
                "[[allow]]\nreason = \"r\"\nSECRETEXAMPLE = 1\nSECRETEXAMPLE = 2\n".to_string(),
                "line 4, column 1: duplicate key in table `allow`",
            ),
            // An id a built-in layer gives its findings (a mark, the attribute table, same-value):
            // the configured rule's findings were indistinguishable from them, to allow entries,
            // baselines and scrub --only alike, and `rules` listed the id twice. An id must also
            // be something to name: not empty, no control character.
            (
                rule("").replace("id = \"x\"", "id = \"mark.sensitive_attributes\""),
                "rule mark.sensitive_attributes: `mark.` and `attr.` ids",
            ),
            (
                rule("").replace("id = \"x\"", "id = \"attr.aws_db_instance.password\""),
                "`mark.` and `attr.` ids",
            ),
            (
                rule("").replace("id = \"x\"", "id = \"same-value\""),
                "rule same-value: the id of a built-in rule",
            ),
            (
                rule("").replace("id = \"x\"", "id = \"\""),
                "rule : an id must not be empty",
            ),
            (
                rule("").replace("id = \"x\"", "id = \"a\\u001b[2Jb\""),
                "an id must not hold a control character",
            ),
            // serde quotes a number or a boolean it did not expect: a numeric secret pasted
            // unquoted (a PIN, an account number) was printed whole.
            (
                rule("examples = [\"a\", 7777123]\n").replace("7777123", "1234509876"),
                "invalid type: integer, expected a string",
            ),
            (
                rule("examples = 1234509876.5\n"),
                "invalid type: floating point, expected a sequence",
            ),
            // Checks a rule's parts make sense: else it found nothing, or everything, silently.
            (
                rule("secret_group = 2\n"),
                "rule x: secret_group 2: the regex has 0 capture groups",
            ),
            (
                rule("secret_group = 2\n").replace("xtok_[a-z]{8}", "xtok_([a-z]{8})"),
                "rule x: secret_group 2: the regex has 1 capture group",
            ),
            (
                rule("").replace("xtok_[a-z]{8}", "(?:SECRETEXAMPLE)?"),
                "rule x: the regex matches an empty text",
            ),
            (
                rule("").replace("[\"xtok_\"]", "[\"xtok_\", \" \"]"),
                "rule x: an empty keyword would select every text",
            ),
            (
                rule("min_entropy = 9.5\n"),
                "rule x: min_entropy is in bits per byte: from 0 to 8",
            ),
            (
                rule("min_entropy = nan\n"),
                "rule x: min_entropy is in bits per byte",
            ),
            (
                rule("secret_group = -1234509876\n"),
                "invalid value: integer, expected usize",
            ),
            (
                "[[allow]]\nreason = 0x4995AC74\nrules = [\"a\"]\n".to_string(),
                "invalid type: integer, expected a string",
            ),
            // A name holding a backtick ended the quote early: the rest was printed.
            (
                rule("").replace("\"token\"", "\"to`SECRETEXAMPLE\""),
                "unknown variant, expected one of `password`",
            ),
            (
                rule("\"a`SECRETEXAMPLE\" = 1\n"),
                "line 8, column 1: unknown field, expected one of `id`",
            ),
            (
                "[[allow]]\nreason = \"r\"\n\"a`SECRETEXAMPLE\" = 1\n\"a`SECRETEXAMPLE\" = 1\n"
                    .to_string(),
                "line 4, column 1: duplicate key in table `allow`",
            ),
            (
                "\"a\\nSECRETEXAMPLE\" = 1\n\"a\\nSECRETEXAMPLE\" = 1\n".to_string(),
                "line 2, column 1: duplicate key in document root",
            ),
            // toml names the table of a duplicate key, and the key a dotted key ran into.
            (
                "[SECRETEXAMPLE]\na = 1\na = 2\n".to_string(),
                "line 3, column 1: duplicate key in a table",
            ),
            (
                "SECRETEXAMPLE.b = 1\nSECRETEXAMPLE.b.c = 1\n".to_string(),
                "line 2, column 1: dotted key attempted to extend non-table type (integer)",
            ),
            (
                rule("").replace("xtok_[a-z]{8}", "SECRETEXAMPLE(x"),
                "rule x: invalid regex: unclosed group (column 14 of the pattern)",
            ),
            (
                rule("").replace("'xtok_[a-z]{8}'", "'''\nSECRETEXAMPLE\n[x'''"),
                "invalid regex: unclosed character class (line 2, column 1 of the pattern)",
            ),
            (
                rule("").replace("xtok_[a-z]{8}", "SECRETEXAMPLE\\p{NotAClass}"),
                "invalid regex: Unicode property not found (column 14 of the pattern)",
            ),
        ] {
            let e = parse(&text).unwrap_err().to_string();
            // Never printed as is: it may hold the planted text.
            let shown = e
                .replace("SECRETEXAMPLE", "<planted>")
                .replace("12345098", "<planted>")
                .replace("1234545780", "<planted>");
            assert!(e.contains(want), "{shown}\n-- wanted: {want}");
            assert!(!e.contains("SECRETEXAMPLE"), "{shown}");
            assert!(
                !e.contains("12345098") && !e.contains("1234545780"),
                "{shown}"
            );
        }
    }

    /// Whatever is wrong with the file, the error quotes nothing of it: a configuration holding
    /// the planted text in a rule's example and negative example, an allow entry's reason and
    /// globs, mutated at random (characters deleted; TOML's punctuation, numbers, a backtick, a
    /// bidi control and the planted text inserted; lines repeated and swapped). A seeded LCG: the
    /// same cases on every run. (6000 such files through the binary: exit 0 or 2, no leak.)
    #[test]
    fn mutated_files_never_have_their_text_quoted() {
        const PLANT: &str = "QzKpWxLmVj";
        let lower = PLANT.to_lowercase();
        let base = format!(
            "[[rule]]\nid = \"acme\"\nname = \"ACME\"\nkind = \"token\"\nseverity = \"high\"\n\
             keywords = [\"acme_\"]\nregex = 'acme_[a-z0-9]{{10}}'\n\
             examples = [\"acme_{lower}\"]\nnegative_examples = [\"{PLANT}\"]\n\n\
             [[allow]]\nreason = \"r {PLANT}\"\nrules = [\"acme\", \"{PLANT}*\"]\n\
             files = [\"envs/{PLANT}/*\"]\n"
        );
        parse(&base).expect("the base loads");
        let tokens = [
            "\"",
            "'",
            "[",
            "]",
            "{",
            "}",
            "=",
            ",",
            ".",
            "\n",
            "#",
            "`",
            "\\",
            "\"\"\"",
            "'''",
            "[[",
            "]]",
            "\n[x]\n",
            " = ",
            "1",
            "-1",
            "1.5",
            "true",
            "0x1F",
            PLANT,
            "{ a = 1 }",
            "\u{202e}",
        ];
        let fragments = [&PLANT[..5], &PLANT[5..], &lower[..5], &lower[5..]];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) as usize) % n.max(1)
        };
        let (mut loaded, mut refused) = (0, 0);
        for case in 0..600 {
            let mut t: Vec<char> = base.chars().collect();
            for _ in 0..1 + next(4) {
                let i = next(t.len() + 1);
                match next(20) {
                    0..=5 if i < t.len() => {
                        t.remove(i);
                    }
                    0..=13 => {
                        let tok = tokens[next(tokens.len())];
                        t.splice(i..i, tok.chars());
                    }
                    _ => {
                        let text: String = t.iter().collect();
                        let mut lines: Vec<&str> = text.split('\n').collect();
                        let (j, k) = (next(lines.len()), next(lines.len()));
                        if next(2) == 0 {
                            lines.insert(j, lines[j]);
                        } else {
                            lines.swap(j, k);
                        }
                        t = lines.join("\n").chars().collect();
                    }
                }
            }
            let text: String = t.iter().collect();
            match parse(&text) {
                Ok(_) => loaded += 1,
                Err(e) => {
                    refused += 1;
                    let e = e.to_string();
                    // Neither the error nor the file is printed: both may hold the plant.
                    assert!(
                        !fragments.iter().any(|f| e.contains(f)),
                        "case {case}: the error quotes the file"
                    );
                }
            }
        }
        // Both paths were taken.
        assert!(
            loaded > 20 && refused > 300,
            "{loaded} loaded, {refused} refused"
        );
    }

    /// The size limit holds for what is read, not what the file says it holds: a device or a
    /// pipe (`--config /dev/zero`, `--config <(...)`) has no length, and was read to the end
    /// (/dev/zero: until memory ran out).
    #[cfg(unix)]
    #[test]
    fn an_endless_file_is_refused_at_the_limit() {
        let e = Config::load(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("larger than"), "{e}");
    }

    /// An example is checked as a scan reads it: a placeholder secret part (`changeme`) is not
    /// found by any content rule in a scan, so it is not "found by the rule" here either. The
    /// check said the opposite of the scan: `examples = ["acme_pw=changeme"]` loaded and found
    /// nothing; the same as a negative example was exit 2.
    #[test]
    fn examples_are_matched_as_a_scan_matches_them() {
        let rule = |field: &str| {
            format!(
                "[[rule]]\nid = \"acme-pw\"\nname = \"ACME\"\nkind = \"password\"\n\
                 severity = \"high\"\nkeywords = [\"acme_pw=\"]\nregex = 'acme_pw=(\\S+)'\n\
                 {field} = [\"acme_pw=changeme\"]\n"
            )
        };
        let e = parse(&rule("examples")).unwrap_err().to_string();
        assert!(e.contains("example 1 is not found"), "{e}");
        parse(&rule("negative_examples")).unwrap();
    }

    /// The README's example configuration is one this version reads.
    #[test]
    fn the_readme_example_loads() {
        let readme = include_str!("../README.md");
        let section = &readme[readme.find("### Configuration").expect("section")..];
        let start = section.find("```toml\n").expect("toml block") + "```toml\n".len();
        let block = &section[start..start + section[start..].find("```").unwrap()];
        let c = parse(block).unwrap();
        assert_eq!((c.rules.len(), c.allow.len()), (1, 2));
    }
}
