//! The table of secret attributes that have a write-only twin (`data/write-only.tsv`).
//!
//! Derived from `shared/facts/sensitive-attributes.tsv`: only rows whose twin lives in the same
//! block as the plain attribute and whose first provider release is known.

use std::sync::OnceLock;

/// The raw table, compiled in.
pub const WRITE_ONLY_TSV: &str = include_str!("../data/write-only.tsv");

/// One plain secret attribute and its write-only twin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOnlyRule {
    /// Resource type, e.g. `aws_db_instance`.
    pub resource_type: String,
    /// Path of the plain attribute through nested blocks, e.g. `["self_managed_active_directory", "password"]`.
    pub path: Vec<String>,
    /// The twin's name, in the same block as the plain attribute (`password_wo`).
    pub twin: String,
    /// The version trigger's name in the same block (`password_wo_version`), if the schema has one.
    pub version: Option<String>,
    /// First provider release with the twin.
    pub first_version: String,
    /// Provider source address (`hashicorp/aws`).
    pub provider: String,
}

impl WriteOnlyRule {
    /// The plain attribute's own name (last path element).
    pub fn attribute(&self) -> &str {
        self.path.last().map(String::as_str).unwrap_or_default()
    }
}

/// Parses a table in the `write-only.tsv` layout. Lines starting with `#` and the header are skipped.
pub fn parse_table(text: &str) -> Result<Vec<WriteOnlyRule>, String> {
    let mut rules = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() || line.starts_with("resource_type\t") {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 6 {
            return Err(format!(
                "line {}: expected 6 tab-separated columns, found {}",
                index + 1,
                cols.len()
            ));
        }
        rules.push(WriteOnlyRule {
            resource_type: cols[0].to_owned(),
            path: cols[1].split('.').map(str::to_owned).collect(),
            twin: cols[2].to_owned(),
            version: (cols[3] != "-").then(|| cols[3].to_owned()),
            first_version: cols[4].to_owned(),
            provider: cols[5].to_owned(),
        });
    }
    Ok(rules)
}

/// The compiled-in table. A malformed table is a build defect caught by the table tests.
pub fn write_only_rules() -> &'static [WriteOnlyRule] {
    static RULES: OnceLock<Vec<WriteOnlyRule>> = OnceLock::new();
    RULES.get_or_init(|| parse_table(WRITE_ONLY_TSV).expect("data/write-only.tsv is well-formed"))
}

/// Rules for one resource type.
pub(crate) fn rules_for(resource_type: &str) -> impl Iterator<Item = &'static WriteOnlyRule> + '_ {
    write_only_rules()
        .iter()
        .filter(move |rule| rule.resource_type == resource_type)
}

/// Whether `key` names a write-only argument: a twin from the table, or any `*_wo` argument (the
/// naming convention every provider with write-only arguments follows so far).
pub(crate) fn is_write_only_key(key: &str) -> bool {
    key.ends_with("_wo") || write_only_rules().iter().any(|rule| rule.twin == key)
}

/// Words that make an argument name secret-looking wherever it is.
const SECRET_WORDS: [&str; 10] = [
    "password",
    "secret",
    "token",
    "private_key",
    "api_key",
    "credential",
    "passphrase",
    "bindpass",
    "hmac_key",
    "plaintext",
];

/// Whether an assignment to `key` may hold a secret (used to redact string literals in diffs).
pub(crate) fn is_secret_key(key: &str) -> bool {
    // Names, identifiers and version triggers point at a secret; they are not one.
    const NOT_VALUES: [&str; 8] = [
        "_id",
        "_ids",
        "_arn",
        "_name",
        "_version",
        "_revision",
        "_stage",
        "_stages",
    ];
    let lower = key.to_ascii_lowercase();
    if lower == "secret" || NOT_VALUES.iter().any(|suffix| lower.ends_with(suffix)) {
        return false;
    }
    SECRET_WORDS.iter().any(|word| lower.contains(word))
        || is_write_only_key(key)
        || write_only_rules()
            .iter()
            .any(|rule| rule.attribute() == key)
        || GENERIC_VALUES.contains(&key)
}

/// Arguments that hold a value whatever the block: an SSM parameter's, an output's, a
/// `name`/`value` pair's, a generated `result`, a secret's `data`.
const GENERIC_VALUES: [&str; 5] = ["value", "result", "data", "binary_data", "data_json"];

/// [`is_secret_key`] for an argument of a block of `resource_type` (`None`: of no resource, or
/// of one whose type is not known): a name that is secret only as the table's attribute of
/// some resource types is secret only in blocks of those types. `key` is `tfe_ssh_key`'s private
/// key, and a tag's, an object's, a `tfe_variable`'s or an S3 object's name everywhere else.
pub(crate) fn is_secret_key_in(key: &str, resource_type: Option<&str>) -> bool {
    if !is_secret_key(key) {
        return false;
    }
    let mut table = write_only_rules()
        .iter()
        .filter(|rule| rule.attribute() == key)
        .peekable();
    if table.peek().is_none() || GENERIC_VALUES.contains(&key) || is_write_only_key(key) {
        return true;
    }
    let only_table = {
        let lower = key.to_ascii_lowercase();
        !SECRET_WORDS.iter().any(|word| lower.contains(word))
    };
    !only_table || table.any(|rule| Some(rule.resource_type.as_str()) == resource_type)
}
