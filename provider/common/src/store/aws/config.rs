//! What `AwsSecretsManager::connect` is given: `AwsStoreConfig` and its `AssumeRole` step, the
//! defaults of its retries and timeouts, and the errors of a configuration it cannot use
//! (`ConnectError`), with the region and endpoint syntax checks.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

use super::environment::{EnvProblem, ProfileProblem};

#[cfg(doc)]
use super::connect::AwsSecretsManager;
#[cfg(doc)]
use super::environment::{environment_problems, profile_problems};

/// Attempts per call (first try included) when [`AwsStoreConfig::max_attempts`] is unset. Higher
/// than the SDK's 3 because `terraform apply` on many secrets meets Secrets Manager's per-account
/// rate limits.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Time one attempt may take (connect, send, wait for and read the answer) when
/// [`AwsStoreConfig::attempt_timeout`] is unset. The SDK sets no read timeout of its own, so
/// without this a connection that stops answering (a dropped NAT entry, a stuck proxy) hangs the
/// call, and `terraform apply` with it, forever. Secrets Manager answers in well under a second;
/// an attempt that times out is retried like any transient error.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect timeout (the SDK's default, kept when the timeout configuration is replaced).
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// How to reach Secrets Manager. Every field is optional; `Default` means "as the AWS CLI would".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsStoreConfig {
    /// Region; else `AWS_REGION` / `AWS_DEFAULT_REGION` / the profile's region.
    pub region: Option<String>,
    /// Shared-config profile; else `AWS_PROFILE` / `default`.
    pub profile: Option<String>,
    /// Secrets Manager endpoint URL (for example a local moto server); overrides the
    /// `AWS_ENDPOINT_URL*` variables. Applies to Secrets Manager only, not to STS.
    pub endpoint: Option<String>,
    /// Role to assume (with the credentials found as above) before calling Secrets Manager.
    pub assume_role: Option<AssumeRole>,
    /// Attempts per call, first try included; else [`DEFAULT_MAX_ATTEMPTS`].
    pub max_attempts: Option<u32>,
    /// Time limit of one attempt; else [`DEFAULT_ATTEMPT_TIMEOUT`].
    pub attempt_timeout: Option<Duration>,
    /// FIPS endpoints (`secretsmanager-fips.REGION.amazonaws.com`, STS's too); else
    /// `AWS_USE_FIPS_ENDPOINT` or the profile's `use_fips_endpoint`. (No dual-stack switch:
    /// Secrets Manager's regular endpoints already answer over IPv6.)
    pub use_fips: Option<bool>,
    /// Shared config files to read instead of the default (`~/.aws/config` / `AWS_CONFIG_FILE`),
    /// in order; empty: the default.
    pub shared_config_files: Vec<PathBuf>,
    /// Shared credentials files to read instead of the default (`~/.aws/credentials` /
    /// `AWS_SHARED_CREDENTIALS_FILE`), in order; empty: the default.
    pub shared_credentials_files: Vec<PathBuf>,
    /// A PEM file of CA certificates trusted besides the system's (a TLS-inspecting proxy's, a
    /// private endpoint's); else `AWS_CA_BUNDLE`, as the AWS CLI and hashicorp/aws read it.
    pub ca_bundle: Option<PathBuf>,
}

/// An STS `AssumeRole` step. `Debug` withholds `external_id` (the schema marks it sensitive).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AssumeRole {
    /// ARN of the role.
    pub role_arn: String,
    /// Session name (shows in CloudTrail); else the SDK makes one.
    pub session_name: Option<String>,
    /// External id the role's trust policy asks for.
    pub external_id: Option<String>,
    /// Session duration (900 s up to the role's maximum).
    pub duration: Option<Duration>,
    /// A session policy (JSON) that narrows what the role may do in this session.
    pub policy: Option<String>,
    /// ARNs of managed policies that narrow the session the same way.
    pub policy_arns: Vec<String>,
    /// Session tags.
    pub tags: BTreeMap<String, String>,
    /// Keys of `tags` that pass on to the sessions this one assumes in turn (role chaining).
    pub transitive_tag_keys: Vec<String>,
    /// Source identity (shows in CloudTrail, and stays with the session through role chaining).
    pub source_identity: Option<String>,
}

impl std::fmt::Debug for AssumeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRole")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field(
                "external_id",
                &self.external_id.as_ref().map(|_| "[withheld]"),
            )
            .field("duration", &self.duration)
            .field("policy", &self.policy)
            .field("policy_arns", &self.policy_arns)
            .field("tags", &self.tags)
            .field("transitive_tag_keys", &self.transitive_tag_keys)
            .field("source_identity", &self.source_identity)
            .finish()
    }
}

/// A configuration [`AwsSecretsManager::connect`] cannot use.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// `region` is not a region name.
    #[error(transparent)]
    InvalidRegion(#[from] InvalidRegion),
    /// No region was set and none was found in the environment or the profile.
    #[error(
        "no AWS region: set region in the configuration, AWS_REGION, or a region in the profile"
    )]
    NoRegion,
    /// `endpoint` is not an `http://` or `https://` URL with a host.
    #[error("endpoint must be an http:// or https:// URL with a host")]
    InvalidEndpoint,
    /// `max_attempts` is 0.
    #[error("max_attempts must be at least 1")]
    InvalidMaxAttempts,
    /// `assume_role.role_arn` is empty or not an ARN.
    #[error("assume_role.role_arn must be an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)")]
    InvalidRoleArn,
    /// A shared config or credentials file named in the configuration cannot be read.
    #[error("shared AWS file {path}: {reason}")]
    ProfileFile {
        /// The file.
        path: String,
        /// Why it cannot be read.
        reason: String,
    },
    /// Environment variables the SDK would ignore or cannot use (a malformed proxy URL, a FIPS
    /// or dual-stack switch that is not a boolean): see [`environment_problems`].
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Environment(Vec<EnvProblem>),
    /// The `profile` configured (other than `default`) is in none of the shared files. The SDK
    /// would fail at the first call instead, quoting the name in its credentials chain's error:
    /// the name is not repeated here (a provider argument may hold an ephemeral value put there
    /// by mistake).
    #[error("the profile that `profile` names is not defined in the shared config and credentials files")]
    UndefinedProfile,
    /// Settings of the selected profile the SDK reads but would ignore (a FIPS or dual-stack
    /// switch that is not a boolean): see [`profile_problems`].
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Profile(Vec<ProfileProblem>),
    /// The CA bundle cannot be read or holds no usable certificate.
    #[error("CA bundle {path}{from}: {reason}", from = if *.from_env { " (AWS_CA_BUNDLE)" } else { "" })]
    CaBundle {
        /// The file.
        path: String,
        /// Whether the path came from `AWS_CA_BUNDLE`.
        from_env: bool,
        /// What is wrong with it.
        reason: String,
    },
}

/// A region name that is not syntactically one (see [`validate_region`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{region:?} is not an AWS region name (like eu-west-1 or us-gov-west-1)")]
pub struct InvalidRegion {
    /// The rejected name (a region is configuration, not a secret).
    pub region: String,
}

/// Checks the syntax of a region name: lowercase letters and digits in three or more
/// `-`-separated parts, the first two to four letters, the last a number (`eu-west-1`,
/// `us-gov-west-1`, `us-isob-east-1`, `eusc-de-east-1`). Whether the region exists is AWS's
/// call.
pub fn validate_region(region: &str) -> Result<(), InvalidRegion> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && (2..=4).contains(&parts[0].len())
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1].iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts.last().is_some_and(|p| {
            !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(InvalidRegion {
            region: region.to_owned(),
        })
    }
}

/// Whether `arn` is an IAM role ARN as STS AssumeRole takes it:
/// `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`, with a 12-digit account, a name, and 20 to 2048
/// characters in all (AssumeRole's `RoleArn`).
pub fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    (20..=2048).contains(&arn.len())
        && !partition.is_empty()
        && partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .and_then(|r| r.rsplit('/').next())
            .is_some_and(|name| !name.is_empty())
        && !arn.contains(char::is_whitespace)
}

pub(super) fn validate_endpoint(endpoint: &str) -> Result<(), ConnectError> {
    let rest = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .ok_or(ConnectError::InvalidEndpoint)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(ConnectError::InvalidEndpoint);
    }
    Ok(())
}
