//! state-scrubber: find plaintext secrets in Terraform states and plans (`audit`).
//!
//! The crate's invariant: a secret value never reaches any output. Findings carry no value, only a
//! masked preview and keyed digests; errors carry positions, never input bytes.

pub mod audit;
pub mod aws_advice;
pub mod baseline;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod detect;
pub mod document;
pub mod finding;
pub mod input;
pub mod json;
pub mod migrate;
pub mod output;
pub mod planfile;
pub mod progress;
pub mod report;
pub mod rules;
pub mod s3;
pub mod scrub;
pub mod table;

/// Registers the credentials to be masked (as `[withheld]`) in every error and warning this
/// program prints or reports ([`report::printable`], the S3 errors of [`s3::scan`]): those of
/// the environment (proxy passwords included), those the AWS SDK will read from files (the default shared config and
/// credentials files or `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`, every profile of them,
/// web identity and container token files, SSO and `aws login` caches:
/// `offstate_common::store::credential_files`, as the provider does), and every credential the
/// AWS SDK resolves or sends from now on (`offstate_common::store::aws::observe_credentials`). A
/// service, STS or a proxy that echoes the request in its error text (its `X-Amz-Security-Token`
/// header, a form body such as AssumeRoleWithWebIdentity's) shows none of them. Called before
/// an AWS client is made (Secrets Manager for scrub/restore, S3 for `audit s3://`), once: a
/// command that makes no AWS call (an audit of local files, migrate) has no credential to show
/// and does not pay for reading the caches (up to 64 files, some milliseconds).
pub fn withhold_credentials() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use offstate_common::withheld::withhold;
        offstate_common::store::aws::observe_credentials(withhold);
        // The environment's keys and proxy passwords, and the tokens sent only in a request body
        // (a web identity JWT, SSO OIDC's refresh token and client secret), which the observer
        // never sees: read from their files now.
        offstate_common::store::credential_files::withhold(&[], &[], None);
    });
}

/// `text` with every credential registered by [`withhold_credentials`] (or seen since) replaced
/// by `[withheld]`.
pub fn withheld(text: &str) -> std::borrow::Cow<'_, str> {
    offstate_common::withheld::scrub(text)
}

/// Errors that stop a whole run (per-file problems are reported per file instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Rules(#[from] rules::RuleError),
    #[error(transparent)]
    Table(#[from] table::TableError),
    #[error(transparent)]
    Baseline(#[from] baseline::BaselineError),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// Options that contradict what the run reads (found once the inputs are listed).
    #[error("{0}")]
    Usage(String),
}
