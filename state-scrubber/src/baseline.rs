//! Baselines: accepted findings, recognised by fingerprint (never by value).

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

#[derive(Debug, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub tool: String,
    pub findings: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Entry {
    pub fingerprint: String,
    pub rule_id: String,
    pub address: String,
    pub attribute_path: String,
    pub file: String,
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
    #[error("baseline {path}: cannot write: {message}")]
    Write { path: String, message: String },
}

impl Baseline {
    pub fn from_findings<'a>(findings: impl Iterator<Item = &'a Finding>) -> Baseline {
        let mut seen = HashSet::new();
        let mut entries: Vec<Entry> = findings
            .filter(|f| seen.insert(f.fingerprint.clone()))
            .map(|f| Entry {
                fingerprint: f.fingerprint.clone(),
                rule_id: f.rule_id.clone(),
                address: f.address.clone(),
                attribute_path: f.attribute_path.clone(),
                file: f.file.clone(),
            })
            .collect();
        entries.sort_by(|a, b| {
            (&a.file, &a.address, &a.attribute_path).cmp(&(&b.file, &b.address, &b.attribute_path))
        });
        Baseline {
            version: 1,
            tool: "state-scrubber".into(),
            findings: entries,
        }
    }

    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|e| BaselineError::Read {
            path: path.display().to_string(),
            message: e.kind().to_string(),
        })?;
        // serde_json errors quote no input, only positions.
        serde_json::from_str(&text).map_err(|e| BaselineError::Format {
            path: path.display().to_string(),
            line: e.line(),
            column: e.column(),
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), BaselineError> {
        let text = serde_json::to_string_pretty(self).expect("baseline serialises") + "\n";
        std::fs::write(path, text).map_err(|e| BaselineError::Write {
            path: path.display().to_string(),
            message: e.kind().to_string(),
        })
    }

    pub fn fingerprints(&self) -> HashSet<&str> {
        self.findings
            .iter()
            .map(|e| e.fingerprint.as_str())
            .collect()
    }
}
