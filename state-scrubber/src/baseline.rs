//! Baselines: accepted findings, recognised by fingerprint (never by value) and file.
//!
//! The fingerprint is file-independent (a state's addresses repeat across the states built from
//! one module), so an entry also names its file: it accepts the finding in that file only. Files
//! are compared normalised ([`normalize_file`]): `./a/x.tfstate`, `a//x.tfstate` and the absolute
//! path below the current directory are one file; an S3 object is one file across its versions.
//! An entry whose `file` is empty or missing (written by hand) accepts the finding in every file.

use std::collections::HashSet;
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

#[derive(Debug, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub tool: String,
    pub findings: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub fingerprint: String,
    pub rule_id: String,
    pub address: String,
    pub attribute_path: String,
    /// Where the finding was accepted; empty: everywhere.
    #[serde(default)]
    pub file: String,
}

/// `file` as baselines compare it: S3 URLs without `?versionId=`; local paths relative to the
/// current directory when below it, without `.` steps or repeated separators, `/`-separated.
pub fn normalize_file(file: &str) -> String {
    if file.starts_with("s3://") {
        return file
            .split_once("?versionId=")
            .map_or(file, |(k, _)| k)
            .to_string();
    }
    if file == "-" || file.is_empty() {
        return file.to_string();
    }
    let path = Path::new(file);
    // Asked once per process (every finding is normalised; the CLI never changes directory).
    static CWD: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let cwd = CWD.get_or_init(|| std::env::current_dir().ok());
    let path = match (cwd, path.is_absolute()) {
        (Some(cwd), true) => path.strip_prefix(cwd).unwrap_or(path),
        _ => path,
    };
    let mut parts: Vec<String> = Vec::new();
    let mut absolute = false;
    for c in path.components() {
        match c {
            Component::RootDir => absolute = true,
            Component::CurDir => {}
            Component::ParentDir if parts.last().is_some_and(|p| p != "..") => {
                parts.pop();
            }
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// A loaded baseline, ready to answer "is this finding accepted?".
pub struct Matcher {
    in_file: HashSet<(String, String)>,
    anywhere: HashSet<String>,
}

impl Matcher {
    /// By the finding's fingerprint, or by the one earlier versions wrote (see
    /// [`Finding::legacy_fingerprint`]); an update of the baseline writes the current one.
    pub fn accepts(&self, f: &Finding) -> bool {
        let file = normalize_file(&f.file);
        [&f.fingerprint, &f.legacy_fingerprint]
            .into_iter()
            .filter(|fp| !fp.is_empty())
            .any(|fp| {
                self.anywhere.contains(fp) || self.in_file.contains(&(fp.clone(), file.clone()))
            })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline {path}: {message}")]
    Read { path: String, message: String },
    #[error("baseline {path}: not a state-scrubber baseline (line {line}, column {column})")]
    Format {
        path: String,
        line: usize,
        column: usize,
    },
    /// JSON, but not a baseline this version reads: what it is instead, or which member is
    /// wrong (by JSON pointer; never a value).
    #[error("baseline {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("baseline {path}: cannot write: {message}")]
    Write { path: String, message: String },
}

impl Baseline {
    pub fn from_findings<'a>(findings: impl Iterator<Item = &'a Finding>) -> Baseline {
        Self::build(findings, Vec::new())
    }

    /// The update of `old` after a run that scanned `scanned` (file labels, without errors) and
    /// found `current` (findings not accepted) and `accepted` (findings `old` accepted): what is
    /// still there, what is new, and `old`'s entries for files not scanned this time and those
    /// that apply everywhere. Entries of scanned files whose finding is gone are dropped.
    pub fn updated<'a>(
        old: &Baseline,
        scanned: &[String],
        current: impl Iterator<Item = &'a Finding>,
        accepted: impl Iterator<Item = &'a Finding>,
    ) -> Baseline {
        let scanned: HashSet<String> = scanned.iter().map(|f| normalize_file(f)).collect();
        let anywhere: HashSet<&str> = old
            .findings
            .iter()
            .filter(|e| e.file.is_empty())
            .map(|e| e.fingerprint.as_str())
            .collect();
        let kept: Vec<Entry> = old
            .findings
            .iter()
            .filter(|e| e.file.is_empty() || !scanned.contains(&normalize_file(&e.file)))
            .cloned()
            .collect();
        // A finding accepted by an everywhere entry stays accepted by it alone.
        let accepted = accepted.filter(|f| {
            !anywhere.contains(f.fingerprint.as_str())
                && !anywhere.contains(f.legacy_fingerprint.as_str())
        });
        Self::build(current.chain(accepted), kept)
    }

    /// The entries for a file among `scanned` (file labels, read without an error) that accept
    /// none of `accepted` (the findings this baseline accepted in the run): their finding is gone
    /// (the secret removed, the resource destroyed) or moved. An update drops them
    /// ([`Baseline::updated`]); until then each would accept a new secret found at the same
    /// place (the fingerprint never depends on the value). Entries that apply everywhere are not
    /// counted: one run need not read every file.
    pub fn stale(&self, scanned: &[String], accepted: &[Finding]) -> usize {
        let scanned: HashSet<String> = scanned.iter().map(|f| normalize_file(f)).collect();
        let used: HashSet<(&str, String)> = accepted
            .iter()
            .flat_map(|f| {
                let file = normalize_file(&f.file);
                [
                    (f.fingerprint.as_str(), file.clone()),
                    (f.legacy_fingerprint.as_str(), file),
                ]
            })
            .collect();
        self.findings
            .iter()
            .filter(|e| !e.file.is_empty())
            .filter(|e| {
                let file = normalize_file(&e.file);
                scanned.contains(&file) && !used.contains(&(e.fingerprint.as_str(), file))
            })
            .count()
    }

    fn build<'a>(findings: impl Iterator<Item = &'a Finding>, kept: Vec<Entry>) -> Baseline {
        let mut seen: HashSet<(String, String)> = kept
            .iter()
            .map(|e| (e.fingerprint.clone(), normalize_file(&e.file)))
            .collect();
        let mut entries = kept;
        entries.extend(
            findings
                .filter(|f| seen.insert((f.fingerprint.clone(), normalize_file(&f.file))))
                .map(|f| Entry {
                    fingerprint: f.fingerprint.clone(),
                    rule_id: f.rule_id.clone(),
                    address: f.address.clone(),
                    attribute_path: f.attribute_path.clone(),
                    file: normalize_file(&f.file),
                }),
        );
        entries.sort_by(|a, b| {
            (&a.file, &a.address, &a.attribute_path).cmp(&(&b.file, &b.address, &b.attribute_path))
        });
        Baseline {
            version: VERSION as u32,
            tool: "state-scrubber".into(),
            findings: entries,
        }
    }

    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|e| BaselineError::Read {
            path: path.display().to_string(),
            message: crate::input::io_message(&e),
        })?;
        // serde_json errors quote no input, only positions.
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| BaselineError::Format {
                path: path.display().to_string(),
                line: e.line(),
                column: e.column(),
            })?;
        let invalid = |message: String| BaselineError::Invalid {
            path: path.display().to_string(),
            message,
        };
        check(&value).map_err(invalid)?;
        // `check` saw every member this reads; serde's own message would quote a value.
        serde_json::from_value(value).map_err(|_| {
            invalid("not a state-scrubber baseline (members of the wrong type)".into())
        })
    }

    /// Writes the baseline atomically ([`crate::output::write_atomically`]: a run that reads and
    /// rewrites the same baseline never leaves it half-written).
    pub fn save(&self, path: &Path) -> Result<(), BaselineError> {
        let text = serde_json::to_string_pretty(self).expect("baseline serialises") + "\n";
        let err = |e: std::io::Error| BaselineError::Write {
            path: path.display().to_string(),
            message: crate::input::io_message(&e),
        };
        // A baseline holds no secret: it keeps the old file's mode, else the usual 0644.
        crate::output::write_atomically(path, ".state-scrubber-baseline-", text.as_bytes())
            .map_err(err)
    }

    pub fn matcher(&self) -> Matcher {
        let mut m = Matcher {
            in_file: HashSet::new(),
            anywhere: HashSet::new(),
        };
        for e in &self.findings {
            if e.file.is_empty() {
                m.anywhere.insert(e.fingerprint.clone());
            } else {
                m.in_file
                    .insert((e.fingerprint.clone(), normalize_file(&e.file)));
            }
        }
        m
    }
}

/// The baseline version this build writes and reads.
pub const VERSION: u64 = 1;

/// Is `v` a baseline this build reads? Else what is wrong with it, in words a user can act on: a
/// file of another kind given to `--baseline` by mistake (a state, a plan, a report) is named as
/// such, a baseline of another version says so, a wrong member is named by its JSON pointer.
/// Without this, a newer baseline was read as if it were version 1, and an object with a
/// `findings` array of the wrong shape could accept nothing while the run passed for a
/// baselined one. No message quotes a value from the file.
fn check(v: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value;
    const WHAT: &str = "a state-scrubber baseline is a JSON object with `version`, `tool` and \
                        `findings`, written by `audit --write-baseline`";
    let Some(obj) = v.as_object() else {
        let kind = match v {
            Value::Array(_) => "a JSON array (a gitleaks report or baseline?)",
            Value::String(_) => "a JSON string",
            Value::Number(_) => "a JSON number",
            Value::Bool(_) => "a JSON boolean",
            _ => "JSON null",
        };
        return Err(format!("{kind}, not a state-scrubber baseline; {WHAT}"));
    };
    let has = |k: &str| obj.contains_key(k);
    if obj.get("tool").and_then(Value::as_str) != Some("state-scrubber") {
        let kind = if has("lineage") || (has("terraform_version") && has("resources")) {
            Some("a Terraform state")
        } else if has("format_version")
            && [
                "resource_changes",
                "planned_values",
                "values",
                "prior_state",
            ]
            .iter()
            .any(|k| has(k))
        {
            Some("a Terraform plan or `terraform show -json` output")
        } else if has("runs") && (has("$schema") || has("version")) {
            Some("a SARIF report")
        } else if obj
            .get("tool")
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str)
            == Some("state-scrubber")
        {
            Some("a state-scrubber JSON report (--format json)")
        } else if has("plugins_used") || has("generated_at") {
            Some("a detect-secrets baseline")
        } else {
            None
        };
        return Err(match kind {
            Some(kind) => format!("{kind}, not a state-scrubber baseline; {WHAT}"),
            None if has("tool") => {
                format!("`tool` is not \"state-scrubber\": not a state-scrubber baseline; {WHAT}")
            }
            None => format!("no `tool`: not a state-scrubber baseline; {WHAT}"),
        });
    }
    match obj.get("version") {
        None => {
            return Err(format!(
                "no `version` (this state-scrubber reads version {VERSION})"
            ))
        }
        Some(n) => match n.as_u64() {
            Some(VERSION) => {}
            Some(n) if n > VERSION => {
                return Err(format!(
                    "version {n}, written by a newer state-scrubber; this one ({}) reads \
                     version {VERSION}: upgrade state-scrubber, or write the baseline again \
                     with this one (--write-baseline)",
                    env!("CARGO_PKG_VERSION")
                ))
            }
            Some(n) => {
                return Err(format!(
                    "unknown version {n}; this state-scrubber reads version {VERSION}"
                ))
            }
            None => {
                return Err(format!(
                    "`version` is not a whole number; this state-scrubber reads version {VERSION}"
                ))
            }
        },
    }
    let Some(findings) = obj.get("findings") else {
        return Err("no `findings` (an array of accepted findings, `[]` for none)".into());
    };
    let Some(findings) = findings.as_array() else {
        return Err("`/findings` is not an array".into());
    };
    for (i, e) in findings.iter().enumerate() {
        let Some(e) = e.as_object() else {
            return Err(format!("`/findings/{i}` is not an object"));
        };
        for (key, required) in [
            ("fingerprint", true),
            ("rule_id", true),
            ("address", true),
            ("attribute_path", true),
            ("file", false),
        ] {
            match e.get(key) {
                None if required => {
                    return Err(format!("`/findings/{i}/{key}` is missing"));
                }
                None | Some(Value::String(_)) => {}
                Some(_) => return Err(format!("`/findings/{i}/{key}` is not a string")),
            }
        }
        // An empty fingerprint accepts nothing: an entry meant to accept a finding would not.
        if e.get("fingerprint").and_then(Value::as_str) == Some("") {
            return Err(format!("`/findings/{i}/fingerprint` is empty"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_normalise() {
        for (given, want) in [
            ("./a/b.tfstate", "a/b.tfstate"),
            ("a//b.tfstate", "a/b.tfstate"),
            ("a/./c/../b.tfstate", "a/b.tfstate"),
            ("../x/b.tfstate", "../x/b.tfstate"),
            ("-", "-"),
            (
                "s3://bk/env/terraform.tfstate?versionId=v1",
                "s3://bk/env/terraform.tfstate",
            ),
        ] {
            assert_eq!(normalize_file(given), want, "{given}");
        }
        let cwd = std::env::current_dir().unwrap();
        let abs = cwd.join("a").join("b.tfstate");
        assert_eq!(normalize_file(&abs.display().to_string()), "a/b.tfstate");
    }
}
