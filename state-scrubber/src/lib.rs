//! state-scrubber: find plaintext secrets in Terraform states and plans (`audit`).
//!
//! The crate's invariant: a secret value never reaches any output. Findings carry no value, only a
//! masked preview and keyed digests; errors carry positions, never input bytes.

pub mod audit;
pub mod baseline;
pub mod cli;
pub mod detect;
pub mod document;
pub mod finding;
pub mod input;
pub mod json;
pub mod migrate;
pub mod planfile;
pub mod progress;
pub mod report;
pub mod rules;
pub mod s3;
pub mod scrub;
pub mod table;

/// Errors that stop a whole run (per-file problems are reported per file instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Rules(#[from] rules::RuleError),
    #[error(transparent)]
    Table(#[from] table::TableError),
    #[error(transparent)]
    Baseline(#[from] baseline::BaselineError),
}
