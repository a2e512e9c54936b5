//! [`AwsSecretsManager`]: the [`SecretStore`] on AWS Secrets Manager. This is the only module
//! that touches `aws-config` and `aws-sdk-secretsmanager`; SDK errors become [`StoreError`] in
//! one function, `map_sdk_error`.
//!
//! Configuration follows the AWS conventions users already have: the standard credential chain
//! (environment, shared files and `profile`, SSO, web identity, ECS/IMDS), `AWS_REGION` or the
//! profile's region unless `region` is set, `AWS_ENDPOINT_URL_SECRETS_MANAGER` /
//! `AWS_ENDPOINT_URL` (read by aws-config itself) unless `endpoint` is set, an optional
//! `assume_role` through STS, and the SDK's *standard* retry mode (exponential backoff with
//! jitter, retry quota) with a configurable number of attempts.
//!
//! Logging: the SDK's orchestrator writes `trace!(request = ?request, "transmitting request")`,
//! and a CreateSecret/PutSecretValue body holds `SecretString`. In aws-smithy-runtime 1.16 the
//! body is boxed by then and prints as `BoxBody`, but an in-memory body prints its bytes, so that
//! is one SDK refactor away from a leak. Every call that carries or returns a value therefore
//! runs with a no-op tracing subscriber (`quietly`): whatever subscriber the process installs
//! (even at TRACE), the SDK says nothing during those calls. Calls without a value keep the SDK's
//! logs, which help debug credentials and endpoints. Never set the SDK's `LOG_SENSITIVE_BODIES`.
//! One line of ours is written during those calls too: the names of the credentials sources the
//! SDK's chain tried, when it resolves credentials there (see `Withholding::log_sources`).

mod config;
mod connect;
mod convert;
mod environment;
mod errors;
mod https;
mod observe;
mod secret_store;
mod withholding;

#[cfg(test)]
mod tests;

pub use super::ASSUME_ROLE_CALLERS;
pub use config::{
    is_role_arn, validate_region, AssumeRole, AwsStoreConfig, ConnectError, InvalidRegion,
    DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_MAX_ATTEMPTS,
};
pub use connect::AwsSecretsManager;
pub use environment::{environment_problems, profile_problems, EnvProblem, ProfileProblem};
pub use errors::error_chain;
pub use https::ca_bundle_client;
pub use observe::{observe_credentials, observed_credentials, observing_http_client};
pub use withholding::CredentialProcessFailed;

// For the links of the module docs.
#[cfg(doc)]
use super::{SecretStore, StoreError};

/// The target of the module's own log lines (`Withholding::log_sources`):
/// `offstate_common::store::aws`, whichever of its files writes them.
const LOG_TARGET: &str = module_path!();
