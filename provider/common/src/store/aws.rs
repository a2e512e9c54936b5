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

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_secretsmanager::config::interceptors::InterceptorContext;
use aws_sdk_secretsmanager::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::types::{
    Filter, FilterNameStringType, ReplicaRegionType, ReplicationStatusType, RotationRulesType,
    SortByType, SortOrderType, Tag,
};
use aws_sdk_secretsmanager::Client;
use thiserror::Error;
use tracing::instrument::WithSubscriber;

use super::{
    CreateSecret, Deletion, FetchedValue, ListFilter, MetadataUpdate, PolicyValidationError,
    PutValue, Replica, ReplicaStatus, RotateRequest, Rotation, SecretMeta, SecretStore, StoreError,
    VersionInfo, VersionSelector, AWSCURRENT,
};
use crate::SecretValue;

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
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

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

/// The largest CA bundle read (the system's bundles are a few hundred KiB). A bigger file is
/// refused rather than read whole: `custom_ca_bundle = "/dev/zero"` would otherwise eat memory
/// until the provider is killed.
const MAX_CA_BUNDLE_BYTES: u64 = 16 << 20;

/// What is wrong with a PEM item, without the file's content: rustls's `Display` of a bad
/// `-----BEGIN` line prints that whole line (as a byte list), and the file may be the wrong one
/// (a credentials file, a private key).
fn pem_error_without_content(e: &rustls::pki_types::pem::Error) -> &'static str {
    use rustls::pki_types::pem::Error;
    match e {
        Error::MissingSectionEnd { .. } => "a section has no matching -----END line",
        Error::IllegalSectionStart { .. } => "a -----BEGIN line is malformed",
        Error::Base64Decode(_) => "a section is not valid base64",
        Error::SectionTooLarge => "a section is too large",
        _ => "it is not valid PEM",
    }
}

/// The certificates of a PEM CA bundle, checked the way the TLS client will load them (the SDK
/// panics on a certificate it cannot parse, so nothing unchecked reaches it).
fn read_ca_bundle(path: &Path, from_env: bool) -> Result<Vec<u8>, ConnectError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    use std::io::Read as _;
    let fail = |reason: String| ConnectError::CaBundle {
        path: path.display().to_string(),
        from_env,
        reason,
    };
    let mut pem = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CA_BUNDLE_BYTES + 1).read_to_end(&mut pem))
        .map_err(|e| fail(e.to_string()))?;
    if pem.len() as u64 > MAX_CA_BUNDLE_BYTES {
        return Err(fail(format!(
            "larger than {} MiB, which no CA bundle is",
            MAX_CA_BUNDLE_BYTES >> 20
        )));
    }
    let mut roots = rustls::RootCertStore::empty();
    for (i, cert) in CertificateDer::pem_slice_iter(&pem).enumerate() {
        let cert = cert.map_err(|e| {
            fail(format!(
                "PEM item {} is not readable: {}",
                i + 1,
                pem_error_without_content(&e)
            ))
        })?;
        roots
            .add(cert)
            .map_err(|e| fail(format!("certificate {} is not usable: {e}", i + 1)))?;
    }
    if roots.is_empty() {
        return Err(fail("no PEM certificate in it".to_owned()));
    }
    Ok(pem)
}

/// The HTTPS client for a CA bundle: `path`, else the file `AWS_CA_BUNDLE` names; `Ok(None)` when
/// there is neither (the SDK's default client, the system's CAs, is then the one to use). For
/// every AWS client offstate makes, so that all of them trust the same CAs.
pub fn ca_bundle_client(
    path: Option<&Path>,
) -> Result<Option<aws_smithy_runtime_api::client::http::SharedHttpClient>, ConnectError> {
    let pem = match path {
        Some(path) => read_ca_bundle(path, false)?,
        None => match std::env::var_os("AWS_CA_BUNDLE").filter(|p| !p.is_empty()) {
            Some(path) => read_ca_bundle(Path::new(&path), true)?,
            None => return Ok(None),
        },
    };
    Ok(Some(https_client_trusting(pem)))
}

/// The SDK's default HTTPS client (rustls with aws-lc, proxies from the environment as its
/// behavior version reads them), trusting `pem`'s CAs besides the system's.
fn https_client_trusting(pem: Vec<u8>) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    https_client(Some(pem))
}

/// The SDK's default HTTPS client, as aws-smithy-runtime 1.16's `default_https_client` builds it
/// for our behavior version (rustls with aws-lc, `ProxyConfig::from_env`), trusting `pem`'s CAs
/// besides the system's when given.
fn https_client(pem: Option<Vec<u8>>) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
    use aws_smithy_http_client::{Builder, Connector};
    let context = pem.map(|pem| {
        TlsContext::builder()
            .with_trust_store(TrustStore::default().with_pem_certificate(pem))
            .build()
            .expect("a TLS context without extra server names always builds")
    });
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut conn = Connector::builder().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ));
        if let Some(context) = &context {
            conn = conn.tls_context(context.clone());
        }
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

/// An environment variable the AWS SDK reads but would ignore, or cannot use, named with what it
/// accepts. Its value is never shown: a proxy URL may hold a password.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{variable} {problem}")]
pub struct EnvProblem {
    /// The variable, spelled as it is set (`HTTPS_PROXY` or `https_proxy`).
    pub variable: &'static str,
    /// What is wrong and what is accepted.
    pub problem: String,
    /// Only worth a warning: `NO_PROXY` entries the SDK cannot match (`*.corp`, `host:443`) are
    /// common where Go tools, Terraform among them, read the same environment and match them;
    /// an empty FIPS / dual-stack switch, or an empty `HTTPS_PROXY` hiding `https_proxy`, is what
    /// CI systems export for an unset input.
    /// The provider goes on (those hosts go through the proxy); a proxy URL or switch the SDK
    /// would drop is an error, as it would connect otherwise than asked.
    pub warning: bool,
}

const PROXY_FORM: &str = "write it as http://[user:password@]host:port (or https:// for a proxy reached over TLS). Its value is not shown: it may hold a password";

/// What is wrong with a proxy URL, as the SDK's HTTP client (hyper-util's proxy matcher, which
/// `aws-smithy-http-client` uses for `ProxyConfig::from_env`) would read it: `http`, `https` or
/// no scheme (taken as `http`), the `http` crate's URI syntax, a host; a value it cannot read is
/// silently dropped (requests go direct, or through `ALL_PROXY`'s proxy where that one is
/// usable: `fallback` names it then), a host-less `:port` is kept and cannot be connected to,
/// and a SOCKS proxy is accepted by the matcher but cannot be connected through by the SDK's
/// connector. Never quotes the value.
fn proxy_url_problem(value: &str, fallback: Option<&str>) -> Option<String> {
    use aws_smithy_http_client::proxy::ProxyConfig;
    let scheme = value
        .split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    // hyper-util strips the userinfo and keeps host and port: both must be there.
    let host_port = |rest: &str| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        authority
            .split_once('@')
            .map_or(authority, |(_, h)| h)
            .to_owned()
    };
    let has_host = |rest: &str| {
        let host_port = host_port(rest);
        !host_port.is_empty() && !host_port.starts_with(':')
    };
    let ignored = match fallback {
        Some(all) => format!(
            "so the AWS SDK would ignore it and send those requests through the proxy in {all} instead"
        ),
        None => "so the AWS SDK would ignore it and send requests without the proxy".to_owned(),
    };
    // `[user:password@]:port`, which the matcher reads as a proxy without a host (kept, not
    // dropped: requests fail to connect, and ALL_PROXY is not used in its place).
    let unreadable = |rest: &str| {
        if host_port(rest).starts_with(':') && ProxyConfig::http(format!("http://{rest}")).is_ok() {
            format!(
                "names no proxy host, so the AWS SDK's requests could not connect; {PROXY_FORM}"
            )
        } else {
            format!("is not a URL the AWS SDK's HTTP client can read, {ignored}; {PROXY_FORM}")
        }
    };
    match scheme.as_deref() {
        Some("http" | "https") => {
            let rest = value.split_once("://").map_or("", |(_, rest)| rest);
            (ProxyConfig::http(value).is_err() || !has_host(rest)).then(|| unreadable(rest))
        }
        Some(s) if s.starts_with("socks") => {
            // The matcher keeps the four schemes it knows, spelled in lower case, and drops any
            // other (`SOCKS5://`, `socks://`) as it drops `ftp://`.
            let (written, rest) = value.split_once("://").unwrap_or_default();
            let kept = matches!(written, "socks4" | "socks4a" | "socks5" | "socks5h")
                && ProxyConfig::http(format!("http://{rest}")).is_ok();
            Some(if kept {
                format!("names a SOCKS proxy, which the AWS SDK's HTTP client cannot connect through; use an HTTP proxy: {PROXY_FORM}")
            } else {
                format!("names a SOCKS proxy, which the AWS SDK's HTTP client cannot use, {ignored}; use an HTTP proxy: {PROXY_FORM}")
            })
        }
        Some(_) => Some(format!(
            "has a scheme other than http:// or https://, {ignored}; {PROXY_FORM}"
        )),
        // No scheme: the whole value must be an authority (host:port), read as http://.
        None => (value.contains(['/', '?', '#'])
            || !has_host(value)
            || ProxyConfig::http(format!("http://{value}")).is_err())
        .then(|| unreadable(value)),
    }
}

/// What is wrong with a `NO_PROXY` list as hyper-util reads it: comma-separated entries, each an
/// IP address, an IP network (`10.0.0.0/8`), a domain (`example.com` or `.example.com`, which
/// also match subdomains) or `*`. Anything else (a URL, a port, a `*.` wildcard, brackets) is
/// taken as a domain name no host has, so the hosts it meant still go through the proxy. The
/// first such entry is quoted unless it holds an `@` (a URL's user and password).
fn no_proxy_problem(list: &str) -> Option<String> {
    let accepted = "entries are host names, .domains (a domain and its subdomains), IP addresses and networks (10.0.0.0/8), or * alone, separated by commas";
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if entry == "*" || entry.parse::<std::net::IpAddr>().is_ok() || is_ip_network(entry) {
            continue;
        }
        let unmatched =
            "would match no host, so the hosts it was meant for would still go through the proxy";
        let why = if entry.contains('@') {
            return Some(format!(
                "has an entry with a user name (@), which {unmatched}; {accepted}. The entry is not shown: it may hold a password"
            ));
        } else if entry.contains("://") {
            "is a URL: write the host name only"
        } else if entry.contains('*') {
            "has a wildcard: write .example.com for a domain and its subdomains"
        } else if entry.contains('/') {
            "is neither an IP network (address/prefix length) nor a host name"
        } else if entry.contains(['[', ']']) || entry.matches(':').count() > 1 {
            "is not an IP address: write IPv6 addresses without brackets or port"
        } else if entry.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            // Taken as a domain name, which an address never matches.
            "is not an IP address: write all four parts, without leading zeros, or a network such as 10.0.0.0/8"
        } else if entry.contains(':') {
            "has a port: write the host only"
        } else if !entry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        {
            "is not a host name"
        } else {
            continue;
        };
        return Some(format!("entry {entry:?} {unmatched} ({why}); {accepted}"));
    }
    None
}

/// `addr/len` as hyper-util reads an IP network (the `ipnet` crate's parser): the prefix length
/// in decimal digits only (at most 2 for IPv4, 3 for IPv6) that fits the address; an IPv4
/// address of four decimal octets of up to 3 digits each (`010.0.0.0/8` is `10.0.0.0/8`,
/// although `010.0.0.1` alone is no address).
fn is_ip_network(entry: &str) -> bool {
    let Some((addr, len)) = entry.split_once('/') else {
        return false;
    };
    let digits =
        |s: &str, max: usize| (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    let v4 = addr.split('.').count() == 4
        && addr
            .split('.')
            .all(|octet| digits(octet, 3) && octet.parse::<u16>().is_ok_and(|n| n < 256));
    if v4 {
        digits(len, 2) && len.parse::<u8>().is_ok_and(|n| n <= 32)
    } else {
        addr.parse::<std::net::Ipv6Addr>().is_ok()
            && digits(len, 3)
            && len.parse::<u8>().is_ok_and(|n| n <= 128)
    }
}

/// The environment variables the AWS SDK reads for this configuration that it would ignore or
/// cannot use, from `var` (`std::env::var(..).ok()` outside tests). Each would otherwise change
/// nothing, silently: a proxy not used, an endpoint that is not FIPS.
///
/// - Proxies, read as `aws-smithy-http-client` 1.5's `ProxyConfig::from_env` (hyper-util's
///   matcher) reads them: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` (used where one of the first
///   two is unset), each before its lower-case spelling, the first one set winning even when
///   empty (an empty upper-case one hiding a lower-case one that is not is a warning: Go's
///   client, Terraform's, reads the first one not empty); none of them when `REQUEST_METHOD` is
///   set (a CGI process), so there any proxy set is an error (Terraform's Go client still uses
///   `HTTPS_PROXY` there). `NO_PROXY` / `no_proxy` matters only when a proxy is in use.
/// - `AWS_USE_FIPS_ENDPOINT` (unless `use_fips_endpoint` is configured) and
///   `AWS_USE_DUALSTACK_ENDPOINT`: `true` or `false` in any case. The SDK drops any other value
///   with a warning, and the profile's setting with it; an empty value too (aws-config reads a
///   set variable, empty or not, before the profile, and `""` is not a boolean), which is only a
///   warning ([`EnvProblem::warning`]): CI systems export unset inputs as empty variables.
pub fn environment_problems(
    fips_configured: bool,
    var: impl Fn(&str) -> Option<String>,
) -> Vec<EnvProblem> {
    let mut problems = Vec::new();
    let first_set = |names: [&'static str; 2]| {
        names
            .into_iter()
            .find_map(|name| var(name).map(|value| (name, value)))
    };
    // The upper-case spelling set but empty hides a lower-case one that is not: hyper-util reads
    // the first one set, Go (Terraform, other tools) the first one not empty.
    let hidden = |names: [&'static str; 2], effect: &str| {
        (var(names[0]).is_some_and(|v| v.is_empty())
            && var(names[1]).is_some_and(|v| !v.is_empty()))
        .then(|| EnvProblem {
            variable: names[0],
            warning: true,
            problem: format!(
                "is set but empty, which hides {} from the AWS SDK's HTTP client (it reads the first of the two that is set; Terraform itself reads the first that is not empty), so {effect}; unset {} or set it as {} is",
                names[1], names[0], names[1]
            ),
        })
    };
    if var("REQUEST_METHOD").is_some() {
        // hyper-util reads no proxy at all in a CGI process (Go's net/http, Terraform's, drops
        // only HTTP_PROXY there): a proxy set for the SDK would be bypassed.
        for names in [
            ["HTTP_PROXY", "http_proxy"],
            ["HTTPS_PROXY", "https_proxy"],
            ["ALL_PROXY", "all_proxy"],
        ] {
            let not_empty = names
                .into_iter()
                .find(|name| var(name).is_some_and(|v| !v.is_empty()));
            if let Some(variable) = not_empty {
                problems.push(EnvProblem {
                    variable,
                    warning: false,
                    problem: "is ignored by the AWS SDK's HTTP client because REQUEST_METHOD is set (it takes the process for a CGI script), so requests would go without the proxy; unset REQUEST_METHOD".to_owned(),
                });
            }
        }
    } else {
        // ALL_PROXY's proxy, where it is usable, is what the client uses in place of an
        // HTTP(S)_PROXY it drops (unset, empty or unreadable): the errors about those say so.
        let all = first_set(["ALL_PROXY", "all_proxy"]).filter(|(_, v)| !v.is_empty());
        let all_usable = all
            .as_ref()
            .filter(|(_, value)| proxy_url_problem(value, None).is_none())
            .map(|(variable, _)| *variable);
        let hidden_effect = match all_usable {
            Some(all) => format!("requests would go through the proxy in {all} instead"),
            None => "requests would go without that proxy".to_owned(),
        };
        let mut usable = [false; 2];
        for (i, names) in [["HTTP_PROXY", "http_proxy"], ["HTTPS_PROXY", "https_proxy"]]
            .into_iter()
            .enumerate()
        {
            problems.extend(hidden(names, &hidden_effect));
            if let Some((variable, value)) = first_set(names).filter(|(_, v)| !v.is_empty()) {
                match proxy_url_problem(&value, all_usable) {
                    None => usable[i] = true,
                    Some(problem) => problems.push(EnvProblem {
                        variable,
                        problem,
                        warning: false,
                    }),
                }
            }
        }
        if !usable.iter().all(|u| *u) {
            problems.extend(hidden(
                ["ALL_PROXY", "all_proxy"],
                "requests would go without that proxy",
            ));
            if let Some((variable, value)) = all {
                match proxy_url_problem(&value, None) {
                    None => usable = [true; 2],
                    Some(problem) => problems.push(EnvProblem {
                        variable,
                        problem,
                        warning: false,
                    }),
                }
            }
        }
        if usable.iter().any(|u| *u) {
            problems.extend(hidden(
                ["NO_PROXY", "no_proxy"],
                "the hosts it lists would go through the proxy",
            ));
            if let Some((variable, problem)) = first_set(["NO_PROXY", "no_proxy"])
                .and_then(|(variable, list)| Some((variable, no_proxy_problem(&list)?)))
            {
                problems.push(EnvProblem {
                    variable,
                    problem,
                    warning: true,
                });
            }
        }
    }
    for (variable, skip) in [
        ("AWS_USE_FIPS_ENDPOINT", fips_configured),
        ("AWS_USE_DUALSTACK_ENDPOINT", false),
    ] {
        let Some(value) = var(variable) else {
            continue;
        };
        if !skip && !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") {
            // Empty is a warning: CI systems export unset inputs as empty variables, and without
            // a profile setting the SDK's result is that of an unset one.
            let (what, warning) = if value.is_empty() {
                ("is set but empty, which the AWS SDK does not read as unset: it ignores it, and the profile's setting (use_fips_endpoint / use_dualstack_endpoint) with it", true)
            } else {
                ("is neither true nor false, so the AWS SDK would ignore it (and the profile's setting with it)", false)
            };
            problems.push(EnvProblem {
                variable,
                warning,
                problem: format!("{what}; set it to true or false, or unset it"),
            });
        }
    }
    problems
}

/// A setting of the selected shared config profile that the AWS SDK reads but would ignore,
/// named with what it accepts. Its value is not shown.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{setting} in profile {profile:?} of the shared config files {problem}")]
pub struct ProfileProblem {
    /// The setting (`use_fips_endpoint`, `use_dualstack_endpoint`).
    pub setting: &'static str,
    /// The selected profile.
    pub profile: String,
    /// What is wrong and what is accepted.
    pub problem: String,
}

/// The FIPS and dual-stack switches of the selected profile of `profiles` that the AWS SDK would
/// ignore: `use_fips_endpoint` (unless `use_fips_endpoint` is configured, which aws-config then
/// never reads) and `use_dualstack_endpoint`, each only where its environment variable
/// (`AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`) is unset, from `var`: a set
/// variable, empty or not, is read instead (and judged by [`environment_problems`]).
/// aws-config 1.x reads the profile's value as it reads the variable's, `true` or `false` in any
/// case, and drops any other with a warning in the log only (`invalid value for FIPS setting`),
/// so `use_fips_endpoint = yes` connected to the regular endpoint. An empty value is not a
/// problem: it asks for nothing, and the SDK's result is that of no setting.
pub fn profile_problems(
    profiles: &aws_config::profile::ProfileSet,
    fips_configured: bool,
    var: impl Fn(&str) -> Option<String>,
) -> Vec<ProfileProblem> {
    let mut problems = Vec::new();
    for (setting, variable, skip) in [
        (
            "use_fips_endpoint",
            "AWS_USE_FIPS_ENDPOINT",
            fips_configured,
        ),
        (
            "use_dualstack_endpoint",
            "AWS_USE_DUALSTACK_ENDPOINT",
            false,
        ),
    ] {
        if skip || var(variable).is_some() {
            continue;
        }
        let Some(value) = profiles.get(setting) else {
            continue;
        };
        if !value.is_empty()
            && !value.eq_ignore_ascii_case("true")
            && !value.eq_ignore_ascii_case("false")
        {
            problems.push(ProfileProblem {
                setting,
                profile: profiles.selected_profile().to_owned(),
                problem: "is neither true nor false, so the AWS SDK would ignore it; set it to true or false, or remove it".to_owned(),
            });
        }
    }
    problems
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

fn validate_endpoint(endpoint: &str) -> Result<(), ConnectError> {
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

/// Secrets Manager through the AWS SDK. `Debug` shows the region only: the SDK's configuration
/// holds the credentials providers, and the assume-role one prints its request (`ExternalId`).
#[derive(Clone)]
pub struct AwsSecretsManager {
    client: Client,
    region: String,
    /// What the client was built from (credentials after `assume_role`): other AWS services
    /// this store asks, STS for [`AwsSecretsManager::account_id`], use the same identity.
    sdk: aws_config::SdkConfig,
}

impl std::fmt::Debug for AwsSecretsManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSecretsManager")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl AwsSecretsManager {
    /// Resolves the configuration (region, profile, endpoint, role, retries) and builds a client.
    /// Makes no network call: credentials are resolved, and the role assumed, on first use, so
    /// credential problems show up as [`StoreError::AccessDenied`] or `Other` from the first call.
    pub async fn connect(cfg: &AwsStoreConfig) -> Result<Self, ConnectError> {
        if let Some(region) = &cfg.region {
            validate_region(region)?;
        }
        if let Some(endpoint) = &cfg.endpoint {
            validate_endpoint(endpoint)?;
        }
        let problems: Vec<EnvProblem> =
            environment_problems(cfg.use_fips.is_some(), |name| std::env::var(name).ok())
                .into_iter()
                .filter(|p| !p.warning)
                .collect();
        if !problems.is_empty() {
            return Err(ConnectError::Environment(problems));
        }
        let max_attempts = cfg.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
        if max_attempts == 0 {
            return Err(ConnectError::InvalidMaxAttempts);
        }
        if let Some(role) = &cfg.assume_role {
            if !role.role_arn.starts_with("arn:") || !role.role_arn.contains(":role/") {
                return Err(ConnectError::InvalidRoleArn);
            }
        }

        // Standard mode: exponential backoff with full jitter and a retry quota.
        let attempt_timeout = cfg.attempt_timeout.unwrap_or(DEFAULT_ATTEMPT_TIMEOUT);
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(max_attempts))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(attempt_timeout)
                    .build(),
            );
        if let Ok(app) = AppName::new("offstate") {
            loader = loader.app_name(app);
        }
        if let Some(region) = &cfg.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &cfg.profile {
            loader = loader.profile_name(profile);
        }
        use aws_runtime::env_config::file::{
            EnvConfigFileKind as ProfileFileKind, EnvConfigFiles as ProfileFiles,
        };
        let mut profile_files = ProfileFiles::default();
        if !cfg.shared_config_files.is_empty() || !cfg.shared_credentials_files.is_empty() {
            let mut files = ProfileFiles::builder()
                .include_default_config_file(cfg.shared_config_files.is_empty())
                .include_default_credentials_file(cfg.shared_credentials_files.is_empty());
            for (kind, paths) in [
                (ProfileFileKind::Config, &cfg.shared_config_files),
                (ProfileFileKind::Credentials, &cfg.shared_credentials_files),
            ] {
                for path in paths {
                    // The SDK skips a file it cannot read; a file named here must exist.
                    if let Err(e) = std::fs::metadata(path) {
                        return Err(ConnectError::ProfileFile {
                            path: path.display().to_string(),
                            reason: e.to_string(),
                        });
                    }
                    files = files.with_file(kind, path);
                }
            }
            profile_files = files.build();
            loader = loader.profile_files(profile_files.clone());
        }
        // The selected profile as aws-config reads it (the same files, the same parser, the
        // same profile): a switch it would drop is an error, as the environment's is.
        // `Default::default()` is aws-types' real file system and environment. A file the SDK
        // cannot parse is ignored by it, and so here.
        if let Ok(profiles) = aws_config::profile::load(
            &Default::default(),
            &Default::default(),
            &profile_files,
            cfg.profile.clone().map(Into::into),
        )
        .await
        {
            // `default` may be absent: the SDK then reads the environment's credentials alone.
            if let Some(name) = cfg.profile.as_deref().filter(|n| *n != "default") {
                if profiles.get_profile(name).is_none() {
                    return Err(ConnectError::UndefinedProfile);
                }
            }
            let problems = profile_problems(&profiles, cfg.use_fips.is_some(), |name| {
                std::env::var(name).ok()
            });
            if !problems.is_empty() {
                return Err(ConnectError::Profile(problems));
            }
        }
        if let Some(fips) = cfg.use_fips {
            loader = loader.use_fips(fips);
        }
        // Every client the SDK makes from this configuration, its own inner ones included,
        // sends through this one: the credentials on the wire are registered.
        loader = loader.http_client(observing_http_client(cfg.ca_bundle.as_deref())?);
        let mut sdk = loader.load().await;
        let region = sdk
            .region()
            .map(|r| r.as_ref().to_owned())
            .ok_or(ConnectError::NoRegion)?;
        // The SDK's chain (environment, profile, credential_process, SSO, web identity,
        // container, instance), registered on first resolution whatever the source.
        let base = sdk.credentials_provider().map(observed_credentials);
        if let Some(base) = &base {
            sdk = sdk
                .into_builder()
                .credentials_provider(base.clone())
                .build();
        }

        if let Some(role) = &cfg.assume_role {
            let mut builder = AssumeRoleProvider::builder(role.role_arn.clone()).configure(&sdk);
            if let Some(name) = &role.session_name {
                builder = builder.session_name(name.clone());
            }
            if let Some(id) = &role.external_id {
                builder = builder.external_id(id.clone());
            }
            if let Some(d) = role.duration {
                builder = builder.session_length(d);
            }
            if let Some(policy) = &role.policy {
                builder = builder.policy(policy.clone());
            }
            if !role.policy_arns.is_empty() {
                builder = builder.policy_arns(role.policy_arns.clone());
            }
            if !role.tags.is_empty() {
                builder = builder.tags(role.tags.clone());
            }
            // Its STS client signs with `base`, which registers what it hands over.
            let provider = match base {
                Some(base) => builder.build_from_provider(base).await,
                None => builder.build().await,
            };
            sdk = sdk
                .into_builder()
                .credentials_provider(Withholding::wrap(SharedCredentialsProvider::new(provider)))
                .build();
        }

        let mut conf =
            aws_sdk_secretsmanager::config::Builder::from(&sdk).retry_classifier(TooManyRequests);
        if let Some(endpoint) = &cfg.endpoint {
            conf = conf.endpoint_url(endpoint.clone());
        }
        Ok(Self {
            client: Client::from_conf(conf.build()),
            region,
            sdk,
        })
    }

    /// The region in use.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The 12-digit id of the AWS account this store acts in: STS `GetCallerIdentity` with the
    /// store's credentials (the assumed role's, when there is one). A network call, made only
    /// when asked (the provider's `allowed_account_ids` / `forbidden_account_ids`). STS's
    /// endpoint comes from `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL`, never from `endpoint`,
    /// which is Secrets Manager's.
    pub async fn account_id(&self) -> Result<String, StoreError> {
        let sts =
            aws_sdk_sts::Client::from_conf(aws_sdk_sts::config::Builder::from(&self.sdk).build());
        let out = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(map_sdk_error)?;
        match out.account {
            Some(account) if !account.is_empty() => Ok(account),
            _ => Err(StoreError::Other {
                code: "GetCallerIdentity".to_owned(),
                message: "STS answered without an account id".to_owned(),
            }),
        }
    }
}

/// Told every credential the store's clients use: the secret access key and session token of
/// every credential its credentials providers hand on ([`Withholding`]: from the environment,
/// a profile, a `credential_process`, SSO, the container or instance endpoint, the assumed
/// role), and every session token sent (`X-Amz-Security-Token`). The provider registers them with
/// its log and diagnostic scrubber, so that a server or proxy that reflects the request in its
/// error text (an STS refusing `assume_role`, a gateway before Secrets Manager) cannot show a
/// credential the SDK obtained itself, which the provider never sees otherwise.
static CREDENTIAL_OBSERVER: std::sync::OnceLock<fn(&str)> = std::sync::OnceLock::new();

/// Sets the function told every credential the store's clients use (the private
/// `CREDENTIAL_OBSERVER`; once per process, later calls do nothing).
/// Call it before [`AwsSecretsManager::connect`].
pub fn observe_credentials(observer: fn(&str)) {
    let _ = CREDENTIAL_OBSERVER.set(observer);
}

/// The HTTP client [`AwsSecretsManager::connect`] gives its SDK configuration, for other AWS
/// clients (state-scrubber's S3): the SDK's HTTPS client trusting `ca_bundle` (else
/// `AWS_CA_BUNDLE`'s file, see [`ca_bundle_client`]), whose connectors tell the observer set by
/// [`observe_credentials`] the credentials every request carries (its session token, a bearer
/// token) before sending it.
pub fn observing_http_client(
    ca_bundle: Option<&Path>,
) -> Result<aws_smithy_runtime_api::client::http::SharedHttpClient, ConnectError> {
    let client = match ca_bundle_client(ca_bundle)? {
        Some(client) => client,
        None => https_client(None),
    };
    Ok(aws_smithy_runtime_api::client::http::SharedHttpClient::new(
        ObservingClient::new(client),
    ))
}

/// `provider` wrapped so that the secret access key and session token of every credential it
/// hands on are told to the observer set by [`observe_credentials`] first (as
/// [`AwsSecretsManager::connect`] wraps the SDK's chain), for other AWS clients (state-scrubber's
/// S3).
pub fn observed_credentials(provider: SharedCredentialsProvider) -> SharedCredentialsProvider {
    Withholding::wrap(provider)
}

/// Request headers that carry a credential: a session token (SigV4), SSO's bearer token
/// (GetRoleCredentials), the instance metadata service's session token, and `Authorization`
/// unless it is a SigV4 signature (`AWS4-...`, different on every request and no secret): the
/// container credentials endpoint's token as the SDK read it for this request (EKS Pod
/// Identity rotates the file `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` names), a bearer token.
const CREDENTIAL_HEADERS: [&str; 4] = [
    "x-amz-security-token",
    "x-amz-sso_bearer_token",
    "x-aws-ec2-metadata-token",
    "authorization",
];

/// The HTTP client of every AWS client the store's configuration makes, the SDK's inner ones
/// included (the profile chain's STS, which signs `role_arn` + `source_profile` /
/// `credential_source` with base credentials it never hands out; SSO; the instance metadata
/// service): its connectors tell [`CREDENTIAL_OBSERVER`] the credentials a request carries
/// ([`CREDENTIAL_HEADERS`], the JWT in an `AssumeRoleWithWebIdentity` form body: see
/// [`web_identity_token`], and the refresh token and client secret in an SSO OIDC `CreateToken`
/// JSON body: see [`oidc_token_secrets`]) before sending it. A secret access key never goes on the wire
/// (it signs); [`Withholding`] reports those.
///
/// The orchestrator asks for a connector on every attempt (the inner client caches its own), so
/// the credentials already reported are kept here, shared by every connector: without that,
/// each request re-registered its tokens (a write lock on the withheld list, a sort).
struct ObservingClient {
    inner: aws_smithy_runtime_api::client::http::SharedHttpClient,
    /// Credentials already reported (the same token is on every request until it expires).
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl std::fmt::Debug for ObservingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservingClient")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl ObservingClient {
    fn new(inner: aws_smithy_runtime_api::client::http::SharedHttpClient) -> Self {
        Self {
            inner,
            seen: Default::default(),
        }
    }

    /// `inner` wrapped, sharing this client's list of what was reported.
    fn connector(
        &self,
        inner: aws_smithy_runtime_api::client::http::SharedHttpConnector,
    ) -> ObservingConnector {
        ObservingConnector {
            inner,
            seen: self.seen.clone(),
        }
    }
}

impl aws_smithy_runtime_api::client::http::HttpClient for ObservingClient {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(
            self.connector(self.inner.http_connector(settings, components)),
        )
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
        cfg: &aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner
            .validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

/// [`ObservingClient`]'s connector. `Debug` shows no credential.
struct ObservingConnector {
    inner: aws_smithy_runtime_api::client::http::SharedHttpConnector,
    /// [`ObservingClient`]'s list of the credentials already reported.
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl std::fmt::Debug for ObservingConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservingConnector")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl ObservingConnector {
    /// Tells `observe` `value` unless it was told already (by any connector of the client).
    fn report(&self, observe: fn(&str), value: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if !seen.iter().any(|s| s == value) {
            observe(value);
            if seen.len() >= 16 {
                seen.clear();
            }
            seen.push(value.to_owned());
        }
    }
}

impl aws_smithy_runtime_api::client::http::HttpConnector for ObservingConnector {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        if let Some(observe) = CREDENTIAL_OBSERVER.get() {
            for name in CREDENTIAL_HEADERS {
                let Some(value) = request.headers().get(name) else {
                    continue;
                };
                if name == "authorization" && value.starts_with("AWS4-") {
                    continue;
                }
                self.report(*observe, value.strip_prefix("Bearer ").unwrap_or(value));
            }
            if let Some(token) = web_identity_token(&request) {
                self.report(*observe, &token);
            }
            for secret in oidc_token_secrets(&request) {
                self.report(*observe, &secret);
            }
        }
        self.inner.call(request)
    }
}

/// The JWT of an STS `AssumeRoleWithWebIdentity` request (its form body's `WebIdentityToken`,
/// percent-decoded), as the SDK is about to send it. The SDK reads the token file
/// (`AWS_WEB_IDENTITY_TOKEN_FILE`, a profile's `web_identity_token_file`, also as the source of
/// a profile's role chain) again at every credentials refresh, and EKS (IRSA) and CI runners
/// rotate it: the token read at ConfigureProvider (`credential_files`) is not the one sent an
/// hour later. Taken from the request itself, it is the one sent whichever path read the file,
/// and whenever the file changed. Only a form body held in memory is read (STS's query
/// protocol: `application/x-www-form-urlencoded`, built whole before it is sent); Secrets
/// Manager's JSON bodies, which hold secret values, are not looked at.
fn web_identity_token(
    request: &aws_smithy_runtime_api::client::orchestrator::HttpRequest,
) -> Option<String> {
    const FIELD: &[u8] = b"WebIdentityToken=";
    let form = request
        .headers()
        .get("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return None;
    }
    let body = request.body().bytes()?;
    let value = body
        .split(|b| *b == b'&')
        .find_map(|pair| pair.strip_prefix(FIELD))?;
    // `%XX` decoded (the query serializer encodes every byte but `A-Za-z0-9-._~`), `+` a space
    // as in any form; a token that is not UTF-8 is not one the SDK read from a token file.
    let mut decoded = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
        match (value[i], hex(value.get(i + 1)), hex(value.get(i + 2))) {
            (b'%', Some(h), Some(l)) => {
                decoded.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                decoded.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    // The SDK sends the file as it is, a final newline included; the token without it is in
    // every form an echo may take (trimmed, escaped, encoded).
    String::from_utf8(decoded)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The credentials in the JSON body of an SSO OIDC `CreateToken` request (`POST .../token`,
/// `application/json`), as the SDK is about to send it: the refresh token and the client
/// secret (and the authorization code, its verifier and the device code of the other grants).
/// The SDK's SSO token provider refreshes an expired access token with them, from the cache
/// file `aws sso login` wrote, and writes the refresh token CreateToken answers back to that
/// file: the one it sends next is one that nothing read at ConfigureProvider
/// (`credential_files`). Nowhere but in this body, which an OIDC endpoint or a proxy before it
/// may echo in an error. (aws-config 1.13 logs a failed CreateToken at debug only, which the
/// provider's logging caps away, and goes on with the expired token: no echo of it reaches a
/// diagnostic today. Registered all the same, so that it stays so if an SDK update surfaces that
/// error.) Only such a body, held in memory and at most 64 KiB, is parsed: Secrets
/// Manager's (`application/x-amz-json-1.1`), which hold secret values, are not looked at, nor
/// STS's forms or state-scrubber's S3 objects (`PUT`).
fn oidc_token_secrets(
    request: &aws_smithy_runtime_api::client::orchestrator::HttpRequest,
) -> Vec<String> {
    const FIELDS: [&str; 5] = [
        "refreshToken",
        "clientSecret",
        "code",
        "codeVerifier",
        "deviceCode",
    ];
    let json = request.headers().get("content-type").is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    });
    let path = request.uri().split(['?', '#']).next().unwrap_or("");
    if !json || request.method() != "POST" || !path.ends_with("/token") {
        return Vec::new();
    }
    let Some(body) = request.body().bytes().filter(|b| b.len() <= 64 * 1024) else {
        return Vec::new();
    };
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(body) else {
        return Vec::new();
    };
    FIELDS
        .iter()
        .filter_map(|f| fields.get(*f)?.as_str())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A credentials provider around another: tells `observe` (the [`CREDENTIAL_OBSERVER`]) the
/// secret access key and session token of every credential before handing it on, and replaces
/// a `credential_process` failure with [`CredentialProcessFailed`].
///
/// [`AwsSecretsManager::connect`] puts one around the SDK's own chain, so that credentials from
/// any source are registered on first resolution: the SDK's STS client inside `assume_role`
/// signs with them (a secret key never goes on the wire, so no connector sees it); and one around
/// the assumed role's provider. `Debug` shows nothing of the inner provider (the assume-role one
/// prints its request, `ExternalId` included).
struct Withholding {
    inner: SharedCredentialsProvider,
    observe: Option<fn(&str)>,
    /// Where [`Withholding::log_sources`] writes: the subscriber in force when the wrapper was
    /// made (at ConfigureProvider, not inside [`quietly`]), so that the line is not lost when the
    /// first resolution happens inside a call that carries a value.
    log: tracing::Dispatch,
}

impl Withholding {
    /// `inner` wrapped, reporting to the process's [`CREDENTIAL_OBSERVER`] (if one is set).
    fn wrap(inner: SharedCredentialsProvider) -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(Withholding {
            inner,
            observe: CREDENTIAL_OBSERVER.get().copied(),
            log: tracing::dispatcher::get_default(Clone::clone),
        })
    }

    /// Logs at debug level (offstate's own target, so `TF_LOG=debug` shows it) the credentials
    /// sources the SDK's default chain tried and what each gave (`Environment: none, Profile:
    /// loaded`), and whether credentials were resolved: names only, never an error text or a
    /// value. The chain's own events say the same but may quote a credential in their error
    /// text, so the provider's logging caps them at warnings and withholds their text. Nothing
    /// when no chain was asked (a provider around the assumed role's).
    fn log_sources(&self, tried: &[(&'static str, &'static str)], resolved: bool) {
        if tried.is_empty() {
            return;
        }
        let tried = tried
            .iter()
            .map(|(name, outcome)| format!("{name}: {outcome}"))
            .collect::<Vec<_>>()
            .join(", ");
        tracing::dispatcher::with_default(&self.log, || {
            if resolved {
                tracing::debug!(
                    tried,
                    "AWS credentials resolved by the SDK's credentials chain"
                );
            } else {
                tracing::debug!(
                    tried,
                    "AWS credentials not resolved by the SDK's credentials chain"
                );
            }
        });
    }
}

/// The sources the SDK's credentials chain tried, read from its events (target
/// `aws_config::meta::credentials::chain`, field `provider`: a source's fixed name such as
/// `Environment` or `WebIdentityToken`) while a [`Withholding`] resolves: a subscriber set for
/// that call only, which hands everything else (and the chain's events that the subscriber it
/// wraps wants) on to that subscriber. Only the name and the kind of outcome are kept; the
/// chain's `context` and `error` fields (an error's text) are not read.
struct ChainSources {
    inner: tracing::Dispatch,
    tried: std::sync::Mutex<Vec<(&'static str, &'static str)>>,
}

/// The chain's target in aws-config 1.x (`meta::credentials::chain`).
const CHAIN_TARGET: &str = "aws_config::meta::credentials::chain";

impl ChainSources {
    fn is_chain(metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target() == CHAIN_TARGET && metadata.is_event()
    }
}

impl tracing::Subscriber for ChainSources {
    fn register_callsite(
        &self,
        metadata: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if Self::is_chain(metadata) {
            tracing::subscriber::Interest::sometimes()
        } else {
            self.inner.register_callsite(metadata)
        }
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        None
    }

    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        Self::is_chain(metadata) || self.inner.enabled(metadata)
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        self.inner.new_span(span)
    }

    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        self.inner.record(span, values)
    }

    fn record_follows_from(&self, span: &tracing::span::Id, follows: &tracing::span::Id) {
        self.inner.record_follows_from(span, follows)
    }

    fn event(&self, event: &tracing::Event<'_>) {
        if Self::is_chain(event.metadata()) {
            struct Fields {
                provider: Option<&'static str>,
                message: String,
            }
            impl tracing::field::Visit for Fields {
                fn record_debug(
                    &mut self,
                    field: &tracing::field::Field,
                    value: &dyn std::fmt::Debug,
                ) {
                    match field.name() {
                        // A `Cow` of one of the chain's fixed names, recorded with Display.
                        "provider" => {
                            let name = format!("{value:?}");
                            self.provider = CHAIN_SOURCES.iter().copied().find(|n| *n == name);
                        }
                        "message" => self.message = format!("{value:?}"),
                        _ => {}
                    }
                }
            }
            let mut fields = Fields {
                provider: None,
                message: String::new(),
            };
            event.record(&mut fields);
            let outcome = match fields.message.as_str() {
                "loaded credentials" => Some("loaded"),
                "provider in chain did not provide credentials" => Some("none"),
                "provider failed to provide credentials" => Some("failed"),
                _ => None,
            };
            if let (Some(provider), Some(outcome)) = (fields.provider, outcome) {
                self.tried
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((provider, outcome));
            }
            if !self.inner.enabled(event.metadata()) {
                return;
            }
        }
        self.inner.event(event)
    }

    fn enter(&self, span: &tracing::span::Id) {
        self.inner.enter(span)
    }

    fn exit(&self, span: &tracing::span::Id) {
        self.inner.exit(span)
    }

    fn clone_span(&self, id: &tracing::span::Id) -> tracing::span::Id {
        self.inner.clone_span(id)
    }

    fn try_close(&self, id: tracing::span::Id) -> bool {
        self.inner.try_close(id)
    }

    // `current_span` keeps its default (unknown): `Span::current()` inside the resolution finds
    // no span (nothing in the SDK's credentials code asks; tracing does not export the type
    // that forwarding it would name). Contextual parents come from the wrapped subscriber.
}

/// The names aws-config 1.x's default credentials chain gives its sources, in the order it tries
/// them (`DefaultCredentialsChain`); a name not among them is not logged.
const CHAIN_SOURCES: [&str; 5] = [
    "Environment",
    "Profile",
    "WebIdentityToken",
    "EcsContainer",
    "Ec2InstanceMetadata",
];

impl std::fmt::Debug for Withholding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Withholding").finish_non_exhaustive()
    }
}

impl aws_credential_types::provider::ProvideCredentials for Withholding {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            // The chain's sources, as it tries them, for a debug line (see `log_sources`).
            // Inside another one's resolution (the base credentials of an assumed role, which
            // its STS client resolves): hand on to what that one hands on to, so that the
            // chain's sources are logged once, by the resolution that asked them.
            let current = tracing::dispatcher::get_default(Clone::clone);
            let inner = match current.downcast_ref::<ChainSources>() {
                Some(outer) => outer.inner.clone(),
                None => current,
            };
            let sources = std::sync::Arc::new(ChainSources {
                inner,
                tried: Default::default(),
            });
            let result = self
                .inner
                .provide_credentials()
                .with_subscriber(tracing::Dispatch::from(sources.clone()))
                .await;
            let tried =
                std::mem::take(&mut *sources.tried.lock().unwrap_or_else(|e| e.into_inner()));
            self.log_sources(&tried, result.is_ok());
            match result {
                Ok(creds) => {
                    if let Some(observe) = self.observe {
                        observe(creds.secret_access_key());
                        if let Some(token) = creds.session_token() {
                            observe(token);
                        }
                    }
                    Ok(creds)
                }
                Err(e) => Err(without_process_output(e)),
            }
        })
    }

    fn fallback_on_interrupt(&self) -> Option<aws_credential_types::Credentials> {
        let creds = self.inner.fallback_on_interrupt()?;
        if let Some(observe) = self.observe {
            observe(creds.secret_access_key());
            if let Some(token) = creds.session_token() {
                observe(token);
            }
        }
        Some(creds)
    }
}

/// How a `credential_process` failed, without what it printed. aws-config's
/// `CredentialProcessProvider` reports every failure as a `CredentialsError::ProviderError`
/// around a plain string (no type of its own to match), and two of those strings quote the
/// process: a non-zero exit puts its whole stderr in ("Error retrieving credentials: external
/// process exited with code {status}. Stderr: {stderr}"), and a JSON parse error may quote its
/// stdout. A process that prints its token on failure, or a credential in malformed output,
/// would have it in the diagnostic. The profile provider wraps that error once more, so the
/// string is found by walking the error's sources.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CredentialProcessFailed {
    /// The process exited unsuccessfully; the status as the SDK reported it (`exit status: 3`,
    /// `signal: 9 (SIGKILL)`), when it did.
    #[error("the profile's credential_process failed{}; its output is withheld, as it may hold a credential (run the command by hand to see it)", .status.as_ref().map(|s| format!(" ({s})")).unwrap_or_default())]
    Exited {
        /// The exit status.
        status: Option<String>,
    },
    /// The process succeeded but its stdout is not the JSON the SDK reads.
    #[error("the profile's credential_process failed: it exited successfully but did not print the credentials JSON the AWS SDK reads (Version 1, AccessKeyId, SecretAccessKey, optional SessionToken and Expiration); its output is withheld, as it may hold a credential (run the command by hand to see it)")]
    Unreadable,
    /// The process could not be run (started at all: `sh` missing, too many open files); it
    /// printed nothing.
    #[error("the profile's credential_process failed: it could not be run{}", .reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default())]
    NotRun {
        /// The operating system's error (`No such file or directory (os error 2)`), when the
        /// SDK's text ends with one.
        reason: Option<String>,
    },
}

/// The messages of aws-config 1.x's `credential_process` module that [`CredentialProcessFailed`]
/// replaces (checked against its source by the unit tests).
const PROCESS_EXITED: &str = "Error retrieving credentials: external process exited with code ";
const PROCESS_OTHER: &str = "Error retrieving credentials from external process";

/// What [`CredentialProcessFailed`] a `credential_process` error's text stands for; `None` when
/// the text is not one of that module's.
fn credential_process_failure(text: &str) -> Option<CredentialProcessFailed> {
    if let Some(rest) = text.strip_prefix(PROCESS_EXITED) {
        // `ExitStatus`'s Display, then ". Stderr: ": only the status is kept, and only when it
        // looks like one (the process's own text comes after it).
        let status = rest
            .split_once(". Stderr: ")
            .map(|(status, _)| status)
            .filter(|s| {
                s.len() <= 48
                    && (s.starts_with("exit status: ") || s.starts_with("signal: "))
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b" :()-".contains(&b))
            })
            .map(str::to_owned);
        return Some(CredentialProcessFailed::Exited { status });
    }
    let rest = text.strip_prefix(PROCESS_OTHER)?;
    if rest.starts_with(", could not parse response")
        || rest.starts_with(": could not decode output")
    {
        Some(CredentialProcessFailed::Unreadable)
    } else {
        // ": {io::Error}": kept when it is an OS error's Display ("... (os error N)"), which
        // quotes neither the command nor anything it printed.
        let reason = rest
            .strip_prefix(": ")
            .filter(|r| {
                r.len() <= 120
                    && r.rsplit_once(" (os error ").is_some_and(|(_, code)| {
                        code.strip_suffix(')')
                            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                    })
                    && r.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b" .,'()-".contains(&b))
            })
            .map(str::to_owned);
        Some(CredentialProcessFailed::NotRun { reason })
    }
}

/// `err`, or a [`CredentialProcessFailed`] in its place when it (or one of its sources) is a
/// `credential_process` failure.
fn without_process_output(
    err: aws_credential_types::provider::error::CredentialsError,
) -> aws_credential_types::provider::error::CredentialsError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cause {
        if let Some(failed) = credential_process_failure(&e.to_string()) {
            return aws_credential_types::provider::error::CredentialsError::provider_error(failed);
        }
        cause = e.source();
    }
    err
}

/// Retries HTTP 429 as throttling whatever the body. The SDK's classifiers
/// retry 500/502/503/504 and the AWS throttling *error codes*, but a 429 from a
/// proxy, gateway or load balancer in front of the endpoint carries no AWS
/// error code (plain-text body), so it failed the call at once: the fault test
/// (`tests/reliability`, kind `throttle429`) found it.
#[derive(Debug)]
struct TooManyRequests;

impl ClassifyRetry for TooManyRequests {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.response() {
            Some(r) if r.status().as_u16() == 429 => RetryAction::throttling_error(),
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "HTTP 429 Too Many Requests"
    }
}

/// Runs an SDK call with no tracing subscriber, so the SDK cannot log a request or response that
/// holds a value (see the module docs).
async fn quietly<F: Future>(call: F) -> F::Output {
    call.with_subscriber(tracing::subscriber::NoSubscriber::default())
        .await
}

/// The one place SDK errors become [`StoreError`]: service errors keep their AWS code and
/// message; failures before or outside the service are named after the SDK's error kind. The
/// raw HTTP response is never formatted (its body is the service's, and `Debug` of the
/// `SdkError` would print it).
fn map_sdk_error<E>(err: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let status = service.raw().status().as_u16();
            let code = e
                .code()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("HTTP{status}"));
            let message = e
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("the service answered HTTP {status} with no message"));
            StoreError::from_code(code, message)
        }
        SdkError::TimeoutError(_) => StoreError::Other {
            code: "TimeoutError".to_owned(),
            message: "the request timed out".to_owned(),
        },
        SdkError::DispatchFailure(_) => StoreError::Other {
            code: "DispatchFailure".to_owned(),
            message: error_chain(&err),
        },
        SdkError::ResponseError(_) => StoreError::Other {
            code: "ResponseError".to_owned(),
            message: error_chain(&err),
        },
        SdkError::ConstructionFailure(_) => StoreError::Other {
            code: "ConstructionFailure".to_owned(),
            message: error_chain(&err),
        },
        _ => StoreError::Other {
            code: "SdkError".to_owned(),
            message: error_chain(&err),
        },
    }
}

/// An error and its causes, each by its `Display`, joined with ": " ("dispatch failure: io error:
/// client error (Connect): tcp connect error: Connection refused (os error 111)"). Unlike
/// `DisplayErrorContext`, no cause is formatted with `Debug`, and a cause whose text the previous
/// one already contains is left out.
///
/// A cause's text stops before the `Debug` of an HTTP response that some SDK errors append to
/// their `Display` (aws-config's `ImdsError::ErrorResponse`: "error response from IMDS (code:
/// 500). Response { status, headers, body: SdkBody { .. b\"...\" } }"): that body is whatever
/// the server (or a proxy before it) answered, credentials it meant to hand over included, and
/// nothing had registered them yet.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![without_response_dump(err.to_string())];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = without_response_dump(cause.to_string());
        if !text.is_empty() && !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// `text` cut before the `Debug` of an `aws_smithy_runtime_api` HTTP response, if it holds one.
fn without_response_dump(text: String) -> String {
    match text.find("Response { status: ") {
        Some(i) => format!(
            "{} (the response is not shown)",
            text[..i].trim_end_matches([' ', '.', ':'])
        ),
        None => text,
    }
}

fn time(dt: Option<&aws_smithy_types::DateTime>) -> Option<SystemTime> {
    dt.and_then(|d| SystemTime::try_from(*d).ok())
}

fn tags_of(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

fn sdk_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn rotation_of(
    enabled: Option<bool>,
    lambda_arn: Option<&str>,
    rules: Option<&RotationRulesType>,
) -> Rotation {
    Rotation {
        enabled: enabled.unwrap_or(false),
        lambda_arn: lambda_arn.map(str::to_owned),
        automatically_after_days: rules.and_then(RotationRulesType::automatically_after_days),
        duration: rules.and_then(|r| r.duration()).map(str::to_owned),
        schedule_expression: rules
            .and_then(|r| r.schedule_expression())
            .map(str::to_owned),
    }
}

/// DescribeSecret's output and ListSecrets' entries have the same accessors but no common type.
macro_rules! meta_of {
    ($x:expr, $stages:ident) => {{
        let x = $x;
        let version_stages: BTreeMap<String, Vec<String>> = x
            .$stages()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        SecretMeta {
            arn: x.arn().unwrap_or_default().to_owned(),
            name: x.name().unwrap_or_default().to_owned(),
            description: x.description().map(str::to_owned),
            kms_key_id: x.kms_key_id().map(str::to_owned),
            tags: tags_of(x.tags()),
            deleted_date: time(x.deleted_date()),
            current_version_id: SecretMeta::current_of(&version_stages),
            version_stages,
            rotation: rotation_of(
                x.rotation_enabled(),
                x.rotation_lambda_arn(),
                x.rotation_rules(),
            ),
            created_date: time(x.created_date()),
            last_changed_date: time(x.last_changed_date()),
            replicas: Vec::new(),
        }
    }};
}

fn replicas_of(statuses: &[ReplicationStatusType]) -> Vec<ReplicaStatus> {
    statuses
        .iter()
        .filter_map(|r| {
            Some(ReplicaStatus {
                region: r.region()?.to_owned(),
                kms_key_id: r.kms_key_id().map(str::to_owned),
                status: r.status().map(|s| s.as_str().to_owned()),
                status_message: r.status_message().map(str::to_owned),
                last_accessed_date: time(r.last_accessed_date()),
            })
        })
        .collect()
}

fn string_value(value: &SecretValue) -> Result<String, StoreError> {
    // The SDK wants an owned String; this copy is not zeroed on drop (nor are the SDK's own
    // buffers), which is the SDK's limit, not a leak to any output.
    value.expose_str().map(str::to_owned).map_err(|_| {
        StoreError::from_code(
            "InvalidParameterException",
            "the value is not valid UTF-8, so it cannot be a SecretString; store it as binary",
        )
    })
}

#[async_trait]
impl SecretStore for AwsSecretsManager {
    async fn create(&self, request: CreateSecret) -> Result<SecretMeta, StoreError> {
        let mut call = self
            .client
            .create_secret()
            .name(&request.name)
            .set_description(request.description.clone())
            .set_kms_key_id(request.kms_key_id.clone())
            .set_client_request_token(request.client_request_token.clone());
        if !request.tags.is_empty() {
            call = call.set_tags(Some(sdk_tags(&request.tags)));
        }
        match &request.value {
            Some(v) if request.binary => {
                call = call.secret_binary(Blob::new(v.expose_secret().to_vec()))
            }
            Some(v) => call = call.secret_string(string_value(v)?),
            None => {}
        }
        let result = quietly(call.send()).await.map_err(map_sdk_error);
        let out = match result {
            Ok(out) => out,
            Err(e) => {
                let e = match &request.value {
                    Some(v) => e.withhold_value(v),
                    None => e,
                };
                // AWS answers InvalidRequestException for a name scheduled for deletion; some
                // emulators (moto) answer ResourceExistsException. Look before reporting.
                if let StoreError::AlreadyExists { code, .. } = &e {
                    if let Ok(Some(meta)) = self.describe(&request.name).await {
                        if meta.is_scheduled_for_deletion() {
                            return Err(StoreError::ScheduledForDeletion {
                                code: code.clone(),
                                message: format!(
                                    "a secret named {} is scheduled for deletion; restore it or wait",
                                    request.name
                                ),
                            });
                        }
                    }
                }
                return Err(e);
            }
        };
        let version_id = out
            .version_id()
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let lacks = match out.arn().filter(|a| !a.is_empty()) {
            None => Some("the secret's ARN"),
            Some(_) if request.value.is_some() && version_id.is_none() => {
                Some("the version id of its value")
            }
            Some(_) => None,
        };
        if let Some(lacks) = lacks {
            // A 200 with less than CreateSecret returns (a proxy, a gateway or an emulator that
            // answered for AWS): recording it would put an empty `arn` and `id` in the state.
            // The secret may exist; DescribeSecret says.
            return match self.describe(&request.name).await? {
                Some(meta)
                    if !meta.arn.is_empty()
                        && (request.value.is_none() || meta.current_version_id.is_some()) =>
                {
                    Ok(meta)
                }
                _ => Err(StoreError::Other {
                    code: "IncompleteResponse".to_owned(),
                    message: format!(
                        "CreateSecret for {} answered without {lacks}, and DescribeSecret does not show it created",
                        request.name
                    ),
                }),
            };
        }
        let version_stages: BTreeMap<String, Vec<String>> = version_id
            .iter()
            .map(|id| (id.clone(), vec![AWSCURRENT.to_owned()]))
            .collect();
        Ok(SecretMeta {
            arn: out.arn().unwrap_or_default().to_owned(),
            name: out.name().unwrap_or(&request.name).to_owned(),
            description: request.description,
            kms_key_id: request.kms_key_id,
            tags: request.tags,
            deleted_date: None,
            current_version_id: version_id,
            version_stages,
            rotation: Rotation::default(),
            created_date: None,
            last_changed_date: None,
            replicas: Vec::new(),
        })
    }

    async fn describe(&self, secret_id: &str) -> Result<Option<SecretMeta>, StoreError> {
        match self
            .client
            .describe_secret()
            .secret_id(secret_id)
            .send()
            .await
        {
            Ok(out) => {
                let mut meta = meta_of!(&out, version_ids_to_stages);
                meta.replicas = replicas_of(out.replication_status());
                Ok(Some(meta))
            }
            Err(e) => match map_sdk_error(e) {
                StoreError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn list_versions(&self, secret_id: &str) -> Result<Vec<VersionInfo>, StoreError> {
        let mut pages = self
            .client
            .list_secret_version_ids()
            .secret_id(secret_id)
            .into_paginator()
            .send();
        let mut versions = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(map_sdk_error)?;
            versions.extend(page.versions().iter().filter_map(|v| {
                Some(VersionInfo {
                    version_id: v.version_id()?.to_owned(),
                    stages: v.version_stages().to_vec(),
                    created_date: time(v.created_date()),
                })
            }));
        }
        Ok(versions)
    }

    async fn put_value(&self, request: PutValue) -> Result<String, StoreError> {
        let mut call = self
            .client
            .put_secret_value()
            .secret_id(&request.secret_id)
            .set_client_request_token(request.client_request_token.clone());
        call = if request.binary {
            call.secret_binary(Blob::new(request.value.expose_secret().to_vec()))
        } else {
            call.secret_string(string_value(&request.value)?)
        };
        let out = quietly(call.send())
            .await
            .map_err(|e| map_sdk_error(e).withhold_value(&request.value))?;
        out.version_id()
            .map(str::to_owned)
            .ok_or_else(|| StoreError::Other {
                code: "MissingVersionId".to_owned(),
                message: "PutSecretValue returned no VersionId".to_owned(),
            })
    }

    async fn get_value(
        &self,
        secret_id: &str,
        version: VersionSelector,
    ) -> Result<FetchedValue, StoreError> {
        let call = self.client.get_secret_value().secret_id(secret_id);
        let call = match version {
            VersionSelector::Current => call,
            VersionSelector::Stage(stage) => call.version_stage(stage),
            VersionSelector::Id(id) => call.version_id(id),
        };
        let mut out = quietly(call.send()).await.map_err(map_sdk_error)?;
        // Move the value out of the SDK's output rather than copying it.
        let (value, binary) = match (out.secret_string.take(), out.secret_binary.take()) {
            (Some(s), _) => (SecretValue::from_string(s), false),
            (None, Some(b)) => (SecretValue::from_bytes(b.into_inner()), true),
            (None, None) => {
                return Err(StoreError::Other {
                    code: "MissingValue".to_owned(),
                    message: "GetSecretValue returned neither SecretString nor SecretBinary"
                        .to_owned(),
                })
            }
        };
        Ok(FetchedValue {
            arn: out.arn.take().unwrap_or_default(),
            name: out.name.take().unwrap_or_default(),
            version_id: out.version_id.take().unwrap_or_default(),
            stages: out.version_stages.take().unwrap_or_default(),
            value,
            binary,
        })
    }

    async fn update_metadata(
        &self,
        secret_id: &str,
        update: MetadataUpdate,
    ) -> Result<(), StoreError> {
        if update.description.is_none() && update.kms_key_id.is_none() {
            return Ok(());
        }
        self.client
            .update_secret()
            .secret_id(secret_id)
            .set_description(update.description)
            .set_kms_key_id(update.kms_key_id)
            .send()
            .await
            .map_err(map_sdk_error)?;
        Ok(())
    }

    async fn tag(
        &self,
        secret_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        if tags.is_empty() {
            return Ok(());
        }
        self.client
            .tag_resource()
            .secret_id(secret_id)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(map_sdk_error)?;
        Ok(())
    }

    async fn untag(&self, secret_id: &str, keys: &[String]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.client
            .untag_resource()
            .secret_id(secret_id)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(map_sdk_error)?;
        Ok(())
    }

    async fn delete(&self, secret_id: &str, deletion: Deletion) -> Result<(), StoreError> {
        let call = self.client.delete_secret().secret_id(secret_id);
        let call = match deletion {
            Deletion::RecoveryWindow(days) => call.recovery_window_in_days(days),
            Deletion::Immediate => call.force_delete_without_recovery(true),
        };
        call.send().await.map_err(map_sdk_error)?;
        Ok(())
    }

    async fn restore(&self, secret_id: &str) -> Result<(), StoreError> {
        self.client
            .restore_secret()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(map_sdk_error)?;
        Ok(())
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<SecretMeta>, StoreError> {
        let filters: Vec<Filter> = [
            (FilterNameStringType::Name, &filter.name_prefix),
            (FilterNameStringType::TagKey, &filter.tag_key),
            (FilterNameStringType::TagValue, &filter.tag_value),
        ]
        .into_iter()
        .filter_map(|(key, value)| {
            value
                .as_ref()
                .map(|v| Filter::builder().key(key).values(v).build())
        })
        .collect();
        let mut call = self
            .client
            .list_secrets()
            .include_planned_deletion(filter.include_planned_deletion);
        if !filters.is_empty() {
            call = call.set_filters(Some(filters));
        }
        let limit = filter.limit.unwrap_or(usize::MAX);
        if filter.limit.is_some() {
            // Name order from the service, so that the first `limit` secrets are the first pages'
            // and the listing can stop there: `terraform query` asks for 100 by default, and an
            // account can hold tens of thousands.
            call = call
                .sort_by(SortByType::Name)
                .sort_order(SortOrderType::Asc)
                .max_results(limit.clamp(1, 100) as i32);
        }
        let mut pages = call.into_paginator().send();
        let mut secrets = Vec::new();
        while secrets.len() < limit {
            let Some(page) = pages.next().await else {
                break;
            };
            let page = page.map_err(map_sdk_error)?;
            secrets.extend(
                page.secret_list()
                    .iter()
                    .map(|entry| meta_of!(entry, secret_versions_to_stages)),
            );
        }
        secrets.truncate(limit);
        Ok(secrets)
    }

    async fn rotate(
        &self,
        secret_id: &str,
        request: RotateRequest,
    ) -> Result<Option<String>, StoreError> {
        let has_rules = request.automatically_after_days.is_some()
            || request.schedule_expression.is_some()
            || request.duration.is_some();
        let rules = has_rules.then(|| {
            RotationRulesType::builder()
                .set_automatically_after_days(request.automatically_after_days)
                .set_schedule_expression(request.schedule_expression.clone())
                .set_duration(request.duration.clone())
                .build()
        });
        let out = self
            .client
            .rotate_secret()
            .secret_id(secret_id)
            .set_rotation_lambda_arn(request.lambda_arn.clone())
            .set_rotation_rules(rules)
            .rotate_immediately(request.rotate_immediately)
            .set_client_request_token(request.client_request_token.clone())
            .send()
            .await
            .map_err(map_sdk_error)?;
        Ok(out.version_id().map(str::to_owned))
    }

    async fn cancel_rotation(&self, secret_id: &str) -> Result<(), StoreError> {
        self.client
            .cancel_rotate_secret()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(map_sdk_error)?;
        Ok(())
    }

    async fn put_policy(
        &self,
        secret_id: &str,
        policy: &str,
        block_public_policy: bool,
    ) -> Result<(), StoreError> {
        self.client
            .put_resource_policy()
            .secret_id(secret_id)
            .resource_policy(policy)
            .block_public_policy(block_public_policy)
            .send()
            .await
            .map_err(map_sdk_error)?;
        Ok(())
    }

    async fn get_policy(&self, secret_id: &str) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .get_resource_policy()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(map_sdk_error)?;
        Ok(out
            .resource_policy()
            .filter(|p| !p.trim().is_empty())
            .map(str::to_owned))
    }

    async fn delete_policy(&self, secret_id: &str) -> Result<(), StoreError> {
        self.client
            .delete_resource_policy()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(map_sdk_error)?;
        Ok(())
    }

    async fn validate_policy(
        &self,
        secret_id: Option<&str>,
        policy: &str,
    ) -> Result<Vec<PolicyValidationError>, StoreError> {
        let out = self
            .client
            .validate_resource_policy()
            .set_secret_id(secret_id.map(str::to_owned))
            .resource_policy(policy)
            .send()
            .await
            .map_err(map_sdk_error)?;
        let mut errors: Vec<PolicyValidationError> = out
            .validation_errors()
            .iter()
            .map(|e| PolicyValidationError {
                check_name: e.check_name().unwrap_or_default().to_owned(),
                message: e.error_message().unwrap_or_default().to_owned(),
            })
            .collect();
        if errors.is_empty() && !out.policy_validation_passed() {
            errors.push(PolicyValidationError {
                check_name: "ValidateResourcePolicy".to_owned(),
                message: "the policy did not pass validation".to_owned(),
            });
        }
        Ok(errors)
    }

    async fn replicate(
        &self,
        secret_id: &str,
        replicas: &[Replica],
        force_overwrite: bool,
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        let regions: Vec<ReplicaRegionType> = replicas
            .iter()
            .map(|r| {
                ReplicaRegionType::builder()
                    .region(&r.region)
                    .set_kms_key_id(r.kms_key_id.clone())
                    .build()
            })
            .collect();
        let out = self
            .client
            .replicate_secret_to_regions()
            .secret_id(secret_id)
            .set_add_replica_regions(Some(regions))
            .force_overwrite_replica_secret(force_overwrite)
            .send()
            .await
            .map_err(map_sdk_error)?;
        Ok(replicas_of(out.replication_status()))
    }

    async fn remove_replica_regions(
        &self,
        secret_id: &str,
        regions: &[String],
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        let out = self
            .client
            .remove_regions_from_replication()
            .secret_id(secret_id)
            .set_remove_replica_regions(Some(regions.to_vec()))
            .send()
            .await
            .map_err(map_sdk_error)?;
        Ok(replicas_of(out.replication_status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn quietly_hides_events_from_the_installed_subscriber() {
        let lines = Lines::default();
        async {
            tracing::trace!("visible");
            quietly(async {
                tracing::trace!("hidden");
                tokio::task::yield_now().await;
                tracing::error!("hidden after a yield");
            })
            .await;
            tracing::trace!("visible again");
        }
        .with_subscriber(lines.clone())
        .await;
        assert_eq!(lines.0.lock().unwrap().len(), 2);
    }

    /// A file under a fresh private directory, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("offstate-aws-test-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TempFile(dir.join(name))
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    #[test]
    fn ca_bundle_errors_name_the_file_never_its_content() {
        let inside = "cnry-7d1f0e9a2b3c4d5e";
        for (name, content) in [
            (
                "bad-begin",
                format!("-----BEGIN CERTIFICATE {inside}\nAAAA\n-----END CERTIFICATE-----\n"),
            ),
            ("no-end", format!("-----BEGIN CERTIFICATE-----\n{inside}\n")),
            (
                "bad-base64",
                format!("-----BEGIN CERTIFICATE-----\n{inside}!!\n-----END CERTIFICATE-----\n"),
            ),
            (
                "credentials",
                format!("[default]\naws_secret_access_key = {inside}\n"),
            ),
        ] {
            let file = TempFile::new(name);
            std::fs::write(&file.0, &content).unwrap();
            let e = read_ca_bundle(&file.0, false).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains(&file.0.display().to_string()),
                "{name}: {text}"
            );
            let bytes: Vec<String> = inside.bytes().map(|b| b.to_string()).collect();
            assert!(
                !text.contains(inside) && !text.contains(&bytes[..8].join(", ")),
                "{name}: the error shows the file's content: {text}"
            );
        }
    }

    #[test]
    fn ca_bundle_larger_than_any_is_refused_unread() {
        let file = TempFile::new("huge");
        // Sparse: no disk is used.
        std::fs::File::create(&file.0)
            .unwrap()
            .set_len(MAX_CA_BUNDLE_BYTES + 1)
            .unwrap();
        let e = read_ca_bundle(&file.0, true).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
        assert!(e.to_string().contains("(AWS_CA_BUNDLE)"), "{e}");
    }

    #[tokio::test]
    async fn debug_of_config_and_store_never_shows_a_credential() {
        let file = TempFile::new("credentials");
        let (key, token, external) = (
            "cnry-key-5a6b7c8d9e0f",
            "cnry-token-1a2b3c4d5e6f",
            "cnry-external-9f8e7d6c",
        );
        std::fs::write(
            &file.0,
            format!("[ci]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = {key}\naws_session_token = {token}\n"),
        )
        .unwrap();
        let cfg = AwsStoreConfig {
            region: Some("eu-west-1".into()),
            profile: Some("ci".into()),
            endpoint: Some("http://127.0.0.1:9".into()),
            shared_credentials_files: vec![file.0.clone()],
            max_attempts: Some(1),
            assume_role: Some(AssumeRole {
                role_arn: "arn:aws:iam::123456789012:role/deploy".into(),
                external_id: Some(external.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        // With an observer, the credentials providers and the HTTP client keep what they saw.
        observe_credentials(report);
        let store = AwsSecretsManager::connect(&cfg).await.unwrap();
        // Credentials are loaded by the first call (which then fails: nothing listens there).
        let _ = store.describe("x").await;
        let plain = AwsSecretsManager::connect(&AwsStoreConfig {
            assume_role: None,
            ..cfg.clone()
        })
        .await
        .unwrap();
        let _ = plain.describe("x").await;
        for text in [
            format!("{cfg:?}"),
            format!("{cfg:#?}"),
            format!("{store:?}"),
            format!("{plain:?}"),
            // The SDK client prints its configuration, the observing HTTP client among it.
            format!("{:?}", plain.client),
        ] {
            for needle in [key, token, external] {
                assert!(!text.contains(needle), "Debug shows a credential: {text}");
            }
        }
    }

    /// Credentials the [`Withholding`] tests saw reported.
    static REPORTED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

    fn report(secret: &str) {
        REPORTED.lock().unwrap().push(secret.to_owned());
    }

    fn process(command: &str) -> Withholding {
        Withholding {
            inner: SharedCredentialsProvider::new(
                aws_config::credential_process::CredentialProcessProvider::new(command.to_owned()),
            ),
            observe: Some(report),
            log: tracing::Dispatch::none(),
        }
    }

    /// The whole text of an error and its sources.
    fn all_text(e: &(dyn std::error::Error + 'static)) -> String {
        let mut out = format!("{e} / {e:?}");
        let mut cause = e.source();
        while let Some(c) = cause {
            out += &format!(" / {c} / {c:?}");
            cause = c.source();
        }
        out
    }

    #[tokio::test]
    async fn withholding_reports_the_secret_key_and_token_it_hands_on() {
        use aws_credential_types::provider::ProvideCredentials;
        let json = r#"{"Version":1,"AccessKeyId":"AKIDPROCESS","SecretAccessKey":"cnry-process-key-1a2b","SessionToken":"cnry-process-token-3c4d","Expiration":"2099-01-01T00:00:00Z"}"#;
        let creds = process(&format!("printf '%s' '{json}'"))
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(creds.secret_access_key(), "cnry-process-key-1a2b");
        let reported = REPORTED.lock().unwrap().clone();
        assert!(
            reported.iter().any(|s| s == "cnry-process-key-1a2b"),
            "{reported:?}"
        );
        assert!(
            reported.iter().any(|s| s == "cnry-process-token-3c4d"),
            "{reported:?}"
        );
        assert!(
            !reported.iter().any(|s| s == "AKIDPROCESS"),
            "the key id is not a secret"
        );
        assert!(!format!("{:?}", process("true")).contains("true"));
    }

    /// Every event it gets, as `target level message field=value...` lines.
    #[derive(Default, Clone)]
    struct Lines(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl tracing::Subscriber for Lines {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            struct Text(String);
            impl tracing::field::Visit for Text {
                fn record_debug(
                    &mut self,
                    field: &tracing::field::Field,
                    value: &dyn std::fmt::Debug,
                ) {
                    self.0 += &format!(" {}={value:?}", field.name());
                }
            }
            let meta = event.metadata();
            let mut text = Text(format!("{} {}", meta.target(), meta.level()));
            event.record(&mut text);
            self.0.lock().unwrap().push(text.0);
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    /// A source with credentials that logs, as a source may, on the way.
    #[derive(Debug)]
    struct Loud;

    impl aws_credential_types::provider::ProvideCredentials for Loud {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            tracing::warn!(target: "aws_config::test_source", "a warning of the source");
            aws_credential_types::provider::future::ProvideCredentials::ready(Ok(
                aws_credential_types::Credentials::new(
                    "AKIDCHAIN",
                    "cnry-chain-key-7a8b9c0d",
                    None,
                    None,
                    "test",
                ),
            ))
        }
    }

    /// With the chain's own events capped and withheld by the provider's logging, a debug line
    /// of offstate's names the sources the chain tried and what each gave, and nothing else;
    /// every other event still reaches the subscriber in force, and the chain's debug events are
    /// not handed on to it beyond what it asks for.
    #[tokio::test]
    async fn withholding_logs_the_sources_the_chain_tried_by_name_only() {
        use aws_config::meta::credentials::CredentialsProviderChain;
        use aws_credential_types::provider::error::CredentialsError;
        use aws_credential_types::provider::ProvideCredentials;
        #[derive(Debug)]
        struct Empty;
        impl ProvideCredentials for Empty {
            fn provide_credentials<'a>(
                &'a self,
            ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
            where
                Self: 'a,
            {
                aws_credential_types::provider::future::ProvideCredentials::ready(Err(
                    CredentialsError::not_loaded("cnry-not-loaded-context-1f2e"),
                ))
            }
        }
        let chain = CredentialsProviderChain::first_try("Environment", Empty)
            .or_else("Profile", Empty)
            .or_else("WebIdentityToken", Loud);
        let ours = Lines::default();
        let outer = Lines::default();
        let withholding = Withholding {
            inner: SharedCredentialsProvider::new(chain),
            observe: None,
            log: tracing::Dispatch::new(ours.clone()),
        };
        withholding
            .provide_credentials()
            .with_subscriber(outer.clone())
            .await
            .unwrap();
        let ours = ours.0.lock().unwrap().clone();
        assert_eq!(
            ours,
            ["offstate_common::store::aws DEBUG message=AWS credentials resolved by the SDK's credentials chain tried=\"Environment: none, Profile: none, WebIdentityToken: loaded\""],
        );
        let outer = outer.0.lock().unwrap().clone();
        assert!(
            outer.iter().any(|l| l.contains("a warning of the source")),
            "{outer:?}"
        );
        // The outer subscriber wants everything: it got the chain's events too, which the
        // provider's logging caps (and withholds); none reached our line.
        assert!(
            outer.iter().any(|l| l.starts_with(CHAIN_TARGET)),
            "{outer:?}"
        );
        // One resolution inside another (an assumed role's STS client resolving its base
        // credentials): one line, from the inner one.
        #[derive(Debug)]
        struct Nested(SharedCredentialsProvider);
        impl ProvideCredentials for Nested {
            fn provide_credentials<'a>(
                &'a self,
            ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
            where
                Self: 'a,
            {
                aws_credential_types::provider::future::ProvideCredentials::new(
                    self.0.provide_credentials(),
                )
            }
        }
        let nested = Lines::default();
        let base = Withholding {
            inner: SharedCredentialsProvider::new(
                CredentialsProviderChain::first_try("Environment", Empty).or_else("Profile", Loud),
            ),
            observe: None,
            log: tracing::Dispatch::new(nested.clone()),
        };
        let outer_withholding = Withholding {
            inner: SharedCredentialsProvider::new(Nested(SharedCredentialsProvider::new(base))),
            observe: None,
            log: tracing::Dispatch::new(nested.clone()),
        };
        let top = Lines::default();
        outer_withholding
            .provide_credentials()
            .with_subscriber(top.clone())
            .await
            .unwrap();
        let nested = nested.0.lock().unwrap().clone();
        assert_eq!(nested.len(), 1, "{nested:?}");
        assert!(
            nested[0].contains("\"Environment: none, Profile: loaded\""),
            "{nested:?}"
        );
        let top = top.0.lock().unwrap().clone();
        assert!(
            top.iter().any(|l| l.contains("a warning of the source")),
            "{top:?}"
        );
        // A chain with no source that answers: the line says so.
        let lines = Lines::default();
        let failing = Withholding {
            inner: SharedCredentialsProvider::new(CredentialsProviderChain::first_try(
                "Environment",
                Empty,
            )),
            observe: None,
            log: tracing::Dispatch::new(lines.clone()),
        };
        assert!(failing.provide_credentials().await.is_err());
        let lines = lines.0.lock().unwrap().clone();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("not resolved") && lines[0].contains("\"Environment: none\""),
            "{lines:?}"
        );
        assert!(!lines[0].contains("cnry"), "{lines:?}");
    }

    /// A fake endpoint for the SDK's clients: answers every request 200 with `answer`, and keeps
    /// `record` of each request (in `seen`), as the request arrived.
    #[derive(Clone)]
    struct FakeEndpoint {
        seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
        answer: &'static str,
        record: fn(&aws_smithy_runtime_api::client::orchestrator::HttpRequest) -> String,
    }

    impl FakeEndpoint {
        fn new(
            answer: &'static str,
            record: fn(&aws_smithy_runtime_api::client::orchestrator::HttpRequest) -> String,
        ) -> Self {
            FakeEndpoint {
                seen: Default::default(),
                answer,
                record,
            }
        }

        /// Answers 200 with no body, keeping nothing.
        fn ok() -> Self {
            Self::new("", |_| String::new())
        }

        fn seen(&self) -> Vec<String> {
            self.seen.lock().unwrap().clone()
        }
    }

    impl std::fmt::Debug for FakeEndpoint {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("FakeEndpoint")
        }
    }

    impl aws_smithy_runtime_api::client::http::HttpConnector for FakeEndpoint {
        fn call(
            &self,
            request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
        ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
            let note = (self.record)(&request);
            self.seen.lock().unwrap().push(note);
            aws_smithy_runtime_api::client::http::HttpConnectorFuture::ready(Ok(
                aws_smithy_runtime_api::http::Response::new(
                    200.try_into().unwrap(),
                    aws_smithy_types::body::SdkBody::from(self.answer),
                ),
            ))
        }
    }

    impl aws_smithy_runtime_api::client::http::HttpClient for FakeEndpoint {
        fn http_connector(
            &self,
            _: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
            aws_smithy_runtime_api::client::http::SharedHttpConnector::new(self.clone())
        }
    }

    /// The orchestrator asks the client for a connector on every attempt: a token already
    /// reported through one is not reported again through the next.
    #[tokio::test]
    async fn observing_client_reports_a_token_once_across_connectors() {
        use aws_smithy_runtime_api::client::http::HttpConnector;
        observe_credentials(report);
        let client = ObservingClient::new(https_client(None));
        let token = "cnry-once-token-5d6e7f80";
        for _ in 0..3 {
            let connector = client.connector(
                aws_smithy_runtime_api::client::http::SharedHttpConnector::new(FakeEndpoint::ok()),
            );
            let mut request = aws_smithy_runtime_api::http::Request::new(
                aws_smithy_types::body::SdkBody::empty(),
            );
            request.headers_mut().insert("X-Amz-Security-Token", token);
            connector.call(request).await.unwrap();
        }
        let reported = REPORTED.lock().unwrap().clone();
        assert_eq!(reported.iter().filter(|s| *s == token).count(), 1);
        assert!(!format!("{client:?}").contains("cnry"));
    }

    #[tokio::test]
    async fn observing_connector_reports_the_credentials_a_request_carries() {
        use aws_smithy_runtime_api::client::http::HttpConnector;
        observe_credentials(report);
        let connector = ObservingClient::new(https_client(None)).connector(
            aws_smithy_runtime_api::client::http::SharedHttpConnector::new(FakeEndpoint::ok()),
        );
        let mut request =
            aws_smithy_runtime_api::http::Request::new(aws_smithy_types::body::SdkBody::empty());
        request
            .headers_mut()
            .insert("X-Amz-Security-Token", "cnry-wire-token-0a1b2c3d");
        request
            .headers_mut()
            .insert("x-amz-sso_bearer_token", "cnry-wire-bearer-4e5f6a7b");
        request
            .headers_mut()
            .insert("x-amz-date", "20260101T000000Z");
        request.headers_mut().insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=cnrysig",
        );
        assert_eq!(
            connector.call(request).await.unwrap().status().as_u16(),
            200
        );
        let mut container =
            aws_smithy_runtime_api::http::Request::new(aws_smithy_types::body::SdkBody::empty());
        container
            .headers_mut()
            .insert("Authorization", "cnry-container-token-8c9d0e1f");
        connector.call(container).await.unwrap();
        let reported = REPORTED.lock().unwrap().clone();
        for token in [
            "cnry-wire-token-0a1b2c3d",
            "cnry-wire-bearer-4e5f6a7b",
            "cnry-container-token-8c9d0e1f",
        ] {
            assert!(reported.iter().any(|s| s == token), "{reported:?}");
        }
        assert!(!reported
            .iter()
            .any(|s| s.starts_with("2026") || s.contains("cnrysig")));
        assert!(!format!("{connector:?}").contains("cnry"));
    }

    /// A fake STS: every request gets an `AssumeRoleWithWebIdentity` success whose credentials
    /// expire at once; each request's body is kept.
    fn web_identity_sts() -> FakeEndpoint {
        FakeEndpoint::new(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                    <AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAWEBIDENTITY00001</AccessKeyId>\
                    <SecretAccessKey>webidentity-test-key</SecretAccessKey><SessionToken>webidentity-test-token</SessionToken>\
                    <Expiration>2020-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult>\
                    </AssumeRoleWithWebIdentityResponse>",
            |request| String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned(),
        )
    }

    /// The SDK reads the web identity token file again at every refresh (EKS rotates it): the
    /// token it sends after the file changed is reported before it goes out, although nothing
    /// read the file in between. The real aws-config provider and STS client, through the
    /// observing client to a fake STS.
    #[tokio::test]
    async fn a_rotated_web_identity_token_is_reported_before_it_is_sent() {
        use aws_config::web_identity_token::{
            StaticConfiguration, WebIdentityTokenCredentialsProvider,
        };
        use aws_credential_types::provider::ProvideCredentials;
        observe_credentials(report);
        let file = TempFile::new("web-identity-token");
        let sts = web_identity_sts();
        let client =
            aws_smithy_runtime_api::client::http::SharedHttpClient::new(ObservingClient::new(
                aws_smithy_runtime_api::client::http::SharedHttpClient::new(sts.clone()),
            ));
        let provider = WebIdentityTokenCredentialsProvider::builder()
            .configure(
                &aws_config::provider_config::ProviderConfig::without_region()
                    .with_region(Some(Region::new("us-east-1")))
                    .with_http_client(client),
            )
            .static_configuration(StaticConfiguration {
                web_identity_token_file: file.0.clone(),
                role_arn: "arn:aws:iam::123456789012:role/ci".to_owned(),
                session_name: "ci".to_owned(),
            })
            .build();
        // A JWT's alphabet, and characters the form body percent-encodes.
        let tokens = [
            "eyJhbGciOiJSUzI1NiJ9.cnry-first-jwt.c2lnbmF0dXJl",
            "eyJhbGciOiJSUzI1NiJ9.cnry-rotated+jwt/=.c2ln_bmF0-dXJl",
        ];
        for token in tokens {
            std::fs::write(&file.0, format!("{token}\n")).unwrap();
            provider.provide_credentials().await.unwrap();
        }
        let bodies = sts.seen();
        assert_eq!(bodies.len(), 2, "{bodies:?}");
        assert!(
            bodies[1].contains(
                "WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.cnry-rotated%2Bjwt%2F%3D.c2ln_bmF0-dXJl"
            ),
            "{bodies:?}"
        );
        let reported = REPORTED.lock().unwrap().clone();
        for token in tokens {
            assert!(reported.iter().any(|s| s == token), "{token}: {reported:?}");
        }
    }

    /// The refresh token and client secret of the SSO cache file in
    /// [`a_renewed_sso_refresh_token_is_reported_before_it_is_sent`].
    const SSO_CACHED: [&str; 2] = [
        "cnry-renewed-refresh-token-9f8e7d6c",
        "cnry-sso-client-secret-6c5b4a39",
    ];

    /// A fake SSO OIDC: every request gets a `CreateToken` success; each request is kept with
    /// whether the credentials in it had been reported when it arrived.
    fn oidc() -> FakeEndpoint {
        FakeEndpoint::new(
            "{\"accessToken\":\"sso-new-access-token-1234\",\"expiresIn\":3600,\
                        \"refreshToken\":\"sso-next-refresh-token-5678\",\"tokenType\":\"Bearer\"}",
            |request| {
                let reported = REPORTED.lock().unwrap().clone();
                let before = SSO_CACHED.iter().all(|s| reported.iter().any(|r| r == s));
                let body = String::from_utf8_lossy(request.body().bytes().unwrap_or_default());
                format!(
                    "{} {} reported-before-sent={before} {body}",
                    request.method(),
                    request.uri()
                )
            },
        )
    }

    /// SSO OIDC's refresh token and client secret go only in CreateToken's JSON body, and the
    /// refresh token is renewed by every refresh (the SDK writes the new one to the cache file):
    /// the one sent is reported before it goes out although nothing read the file before. The
    /// real aws-config SSO token provider and OIDC client, through the observing client to a fake
    /// OIDC; in a child process, whose HOME (where the SDK finds its SSO cache) is a temporary
    /// directory.
    #[test]
    fn a_renewed_sso_refresh_token_is_reported_before_it_is_sent() {
        const CHILD: &str = "OFFSTATE_TEST_SSO_REFRESH_CHILD";
        // sha1("offstate-sso-test"): the cache file name the SDK uses for that session.
        const CACHE: &str = "e4bf82548b975360ff7e0fc23ede43f6b1833890.json";
        if std::env::var_os(CHILD).is_some() {
            use aws_credential_types::provider::token::ProvideToken;
            observe_credentials(report);
            let home = PathBuf::from(std::env::var_os("HOME").unwrap());
            let cache = home.join(".aws/sso/cache");
            std::fs::create_dir_all(&cache).unwrap();
            std::fs::write(
                cache.join(CACHE),
                format!(
                    "{{\"startUrl\":\"https://offstate.awsapps.com/start\",\"region\":\"us-east-1\",\
                     \"accessToken\":\"sso-expired-access-token\",\"expiresAt\":\"2020-01-01T00:00:00Z\",\
                     \"clientId\":\"offstate-test-client\",\"clientSecret\":\"{}\",\
                     \"registrationExpiresAt\":\"2099-01-01T00:00:00Z\",\"refreshToken\":\"{}\"}}",
                    SSO_CACHED[1], SSO_CACHED[0]
                ),
            )
            .unwrap();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let oidc = oidc();
            let client =
                aws_smithy_runtime_api::client::http::SharedHttpClient::new(ObservingClient::new(
                    aws_smithy_runtime_api::client::http::SharedHttpClient::new(oidc.clone()),
                ));
            let sdk = rt.block_on(
                aws_config::defaults(BehaviorVersion::latest())
                    .region(Region::new("us-east-1"))
                    .http_client(client)
                    .no_credentials()
                    .load(),
            );
            let provider = rt.block_on(
                aws_config::sso::SsoTokenProvider::builder()
                    .configure(&sdk)
                    .region(Region::new("us-east-1"))
                    .session_name("offstate-sso-test")
                    .start_url("https://offstate.awsapps.com/start")
                    .build(),
            );
            let token = rt.block_on(provider.provide_token()).unwrap();
            for request in oidc.seen().iter() {
                println!("sso-request {request}");
            }
            println!("sso-token {}", token.token());
            return;
        }
        let dir = std::env::temp_dir().join(format!("offstate-sso-refresh-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "store::aws::tests::a_renewed_sso_refresh_token_is_reported_before_it_is_sent",
                "--nocapture",
                "--test-threads=1",
            ])
            .env_clear()
            .env(CHILD, "1")
            .env("HOME", &dir)
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        let requests: Vec<_> = stdout
            .lines()
            .filter_map(|l| l.split_once("sso-request ").map(|(_, rest)| rest))
            .collect();
        // The refresh happened (the new access token is what the provider gives), with one
        // CreateToken carrying the cached refresh token and client secret, both reported first.
        assert!(
            stdout.contains("sso-token sso-new-access-token-1234"),
            "{stdout}"
        );
        assert_eq!(requests.len(), 1, "{stdout}");
        assert!(requests[0].starts_with("POST "), "{stdout}");
        assert!(
            SSO_CACHED.iter().all(|s| requests[0].contains(s)),
            "{stdout}"
        );
        assert!(
            requests[0].contains("reported-before-sent=true"),
            "{stdout}"
        );
    }

    /// Only an SSO OIDC CreateToken body is read: a Secrets Manager request (whose JSON body holds
    /// a secret value), the same body without POST or `/token`, are not. JSON escapes decoded.
    #[test]
    fn only_an_oidc_token_body_is_read() {
        let request = |method: &str, uri: &str, content_type: &str, body| {
            let mut request = aws_smithy_runtime_api::http::Request::new(body);
            request.set_method(method).unwrap();
            request.set_uri(uri).unwrap();
            request
                .headers_mut()
                .insert("content-type", content_type.to_owned());
            request
        };
        let json = "{\"grantType\":\"refresh_token\",\"refreshToken\":\"rt-\\u00e9\\\"x\",\"clientSecret\":\"cs-1\",\"clientId\":\"id\"}";
        let sdk = |b: &str| aws_smithy_types::body::SdkBody::from(b.to_owned());
        assert_eq!(
            oidc_token_secrets(&request(
                "POST",
                "https://oidc.eu-west-1.amazonaws.com/token",
                "application/json",
                sdk(json)
            )),
            ["rt-\u{e9}\"x", "cs-1"]
        );
        for (method, uri, content_type) in [
            (
                "POST",
                "https://secretsmanager.eu-west-1.amazonaws.com/",
                "application/x-amz-json-1.1",
            ),
            (
                "POST",
                "https://secretsmanager.eu-west-1.amazonaws.com/token",
                "application/x-amz-json-1.1",
            ),
            (
                "PUT",
                "https://bucket.s3.amazonaws.com/token",
                "application/json",
            ),
            (
                "POST",
                "https://oidc.eu-west-1.amazonaws.com/client/register",
                "application/json",
            ),
        ] {
            assert!(
                oidc_token_secrets(&request(method, uri, content_type, sdk(json))).is_empty(),
                "{method} {uri} {content_type}"
            );
        }
    }

    #[tokio::test]
    async fn a_failing_credential_process_is_reported_without_its_output() {
        use aws_credential_types::provider::ProvideCredentials;
        let canary = "cnry-stderr-token-5e6f7a8b";
        for (command, status) in [
            (
                format!("echo token={canary} >&2; exit 4"),
                Some("exit status: 4"),
            ),
            (
                format!("echo token={canary} >&2; kill -9 $$"),
                Some("signal: 9 (SIGKILL)"),
            ),
            (format!("echo 'not json {canary}'"), None),
            (
                format!(r#"printf '{{"Version": 2, "SecretAccessKey": "{canary}"}}'"#),
                None,
            ),
            (
                format!(
                    r#"printf '{{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "{canary}", "Expiration": "x{canary}"}}'"#
                ),
                None,
            ),
        ] {
            let e = process(&command).provide_credentials().await.unwrap_err();
            let text = all_text(&e);
            assert!(!text.contains(canary), "{command}: {text}");
            assert!(
                text.contains("credential_process failed"),
                "{command}: {text}"
            );
            assert!(text.contains("its output is withheld"), "{command}: {text}");
            if let Some(status) = status {
                assert!(text.contains(&format!("({status})")), "{command}: {text}");
            }
            // As the profile provider hands it on: wrapped once more.
            let wrapped = without_process_output(
                aws_credential_types::provider::error::CredentialsError::provider_error(
                    aws_credential_types::provider::error::CredentialsError::provider_error(
                        format!("{PROCESS_EXITED}exit status: 1. Stderr: {canary}"),
                    ),
                ),
            );
            assert!(!all_text(&wrapped).contains(canary));
        }
        // Any other credentials error is handed on as it is.
        let other = without_process_output(
            aws_credential_types::provider::error::CredentialsError::not_loaded("no source"),
        );
        assert!(all_text(&other).contains("no source"));
        // A status that is not one is not kept.
        assert_eq!(
            credential_process_failure(&format!("{PROCESS_EXITED}{canary}. Stderr: x")),
            Some(CredentialProcessFailed::Exited { status: None })
        );
        // Not run at all (no /bin/sh in a distroless image): the OS error is kept, it is no
        // output of the process; anything else in its place is not.
        let not_run = credential_process_failure(&format!(
            "{PROCESS_OTHER}: No such file or directory (os error 2)"
        ))
        .unwrap()
        .to_string();
        assert!(
            not_run.contains("could not be run (No such file or directory (os error 2))"),
            "{not_run}"
        );
        assert!(!not_run.contains("output"), "it has no output: {not_run}");
        let odd = credential_process_failure(&format!("{PROCESS_OTHER}: {canary}"))
            .unwrap()
            .to_string();
        assert!(
            !odd.contains(canary) && odd.contains("could not be run"),
            "{odd}"
        );
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn environment_problems_agree_with_what_the_sdk_reads() {
        let pw = "cnry-proxy-pw-9a8b7c";
        let url = format!("http://user:{pw}@proxy.corp:3128");
        let ok: Vec<Vec<(&str, &str)>> = vec![
            vec![],
            vec![("HTTPS_PROXY", &url), ("HTTP_PROXY", "https://proxy.corp")],
            vec![
                ("HTTPS_PROXY", "proxy.corp:3128"),
                ("http_proxy", "user:pw@proxy.corp:3128"),
            ],
            vec![("HTTPS_PROXY", "HTTP://proxy.corp:3128/")],
            // The first one set wins, even empty: the lower-case one is never read (nor judged).
            vec![("HTTPS_PROXY", ""), ("https_proxy", "")],
            vec![("HTTPS_PROXY", &url), ("https_proxy", "htp://x")],
            // ALL_PROXY is read only where HTTP_PROXY or HTTPS_PROXY is unset.
            vec![
                ("HTTPS_PROXY", &url),
                ("HTTP_PROXY", &url),
                ("ALL_PROXY", "socks5://x"),
            ],
            // A CGI process: the client reads no proxy at all (none set here).
            vec![("REQUEST_METHOD", "GET"), ("HTTPS_PROXY", "")],
            // NO_PROXY matters only with a proxy.
            vec![("NO_PROXY", "*.example.com")],
            vec![
                ("HTTPS_PROXY", &url),
                (
                    "NO_PROXY",
                    " localhost, .corp,example.com,10.0.0.0/8,::1,fd00::/8,*,,my_host ",
                ),
            ],
            vec![
                ("AWS_USE_FIPS_ENDPOINT", "TRUE"),
                ("AWS_USE_DUALSTACK_ENDPOINT", "false"),
            ],
        ];
        for vars in ok {
            assert_eq!(environment_problems(false, env(&vars)), [], "{vars:?}");
        }
        // (environment, the variable named, what the message says)
        type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
        let bad: Vec<Case> = vec![
            (
                vec![("HTTPS_PROXY", "htp://user:PW@proxy.corp:3128")],
                "HTTPS_PROXY",
                "scheme other than",
            ),
            (
                vec![("http_proxy", "http://user:PW@proxy.corp:3128 x")],
                "http_proxy",
                "can read",
            ),
            (
                vec![("HTTPS_PROXY", "http://[::1")],
                "HTTPS_PROXY",
                "can read",
            ),
            (
                vec![("HTTPS_PROXY", "http://user:PW@")],
                "HTTPS_PROXY",
                "can read",
            ),
            (
                vec![("HTTPS_PROXY", "user:PW@proxy.corp:3128/")],
                "HTTPS_PROXY",
                "can read",
            ),
            (
                vec![("HTTPS_PROXY", "proxy.corp:3128?x")],
                "HTTPS_PROXY",
                "can read",
            ),
            (
                vec![("ALL_PROXY", "socks5h://user:PW@proxy.corp:1080")],
                "ALL_PROXY",
                "SOCKS",
            ),
            (
                vec![
                    ("HTTPS_PROXY", &url),
                    ("NO_PROXY", "localhost,*.example.com"),
                ],
                "NO_PROXY",
                "\"*.example.com\"",
            ),
            (
                vec![("HTTP_PROXY", &url), ("no_proxy", "localhost:8443")],
                "no_proxy",
                "has a port",
            ),
            (
                vec![("HTTP_PROXY", &url), ("NO_PROXY", "http://example.com")],
                "NO_PROXY",
                "is a URL",
            ),
            (
                vec![("HTTP_PROXY", &url), ("NO_PROXY", "[::1]")],
                "NO_PROXY",
                "IPv6",
            ),
            (
                vec![("HTTP_PROXY", &url), ("NO_PROXY", "10.0.0.0/33")],
                "NO_PROXY",
                "IP network",
            ),
            (
                vec![("HTTP_PROXY", &url), ("NO_PROXY", "a b")],
                "NO_PROXY",
                "not a host name",
            ),
            (
                vec![("HTTP_PROXY", &url), ("NO_PROXY", "http://u:PW@h")],
                "NO_PROXY",
                "user name",
            ),
            (
                vec![("AWS_USE_FIPS_ENDPOINT", "maybe")],
                "AWS_USE_FIPS_ENDPOINT",
                "true or false",
            ),
            (
                vec![("AWS_USE_DUALSTACK_ENDPOINT", "1")],
                "AWS_USE_DUALSTACK_ENDPOINT",
                "true or false",
            ),
            // A CGI process: the client ignores every proxy, a good one too.
            (
                vec![("REQUEST_METHOD", "POST"), ("https_proxy", &url)],
                "https_proxy",
                "REQUEST_METHOD",
            ),
            // Set but empty: aws-config reads it (not the profile) and drops it.
            (
                vec![("AWS_USE_FIPS_ENDPOINT", "")],
                "AWS_USE_FIPS_ENDPOINT",
                "empty",
            ),
            // An empty upper-case spelling hides the lower-case one from the SDK, not from
            // Terraform (a CI system exporting an unset input over the runner's https_proxy).
            (
                vec![("HTTPS_PROXY", ""), ("https_proxy", &url)],
                "HTTPS_PROXY",
                "hides https_proxy",
            ),
            (
                vec![("ALL_PROXY", ""), ("all_proxy", &url)],
                "ALL_PROXY",
                "hides all_proxy",
            ),
            (
                vec![
                    ("HTTPS_PROXY", &url),
                    ("NO_PROXY", ""),
                    ("no_proxy", "10.0.0.0/8"),
                ],
                "NO_PROXY",
                "hides no_proxy",
            ),
            // ... and in a CGI process the lower-case one is what Terraform uses and the SDK not.
            (
                vec![
                    ("REQUEST_METHOD", "GET"),
                    ("HTTPS_PROXY", ""),
                    ("https_proxy", &url),
                ],
                "https_proxy",
                "REQUEST_METHOD",
            ),
        ];
        for (vars, variable, says) in bad {
            let problems = environment_problems(false, env(&vars));
            assert_eq!(problems.len(), 1, "{vars:?}: {problems:?}");
            let text = problems[0].to_string();
            assert_eq!(problems[0].variable, variable, "{text}");
            // Only NO_PROXY entries and empty switches are warnings: the provider goes on.
            assert_eq!(
                problems[0].warning,
                variable.eq_ignore_ascii_case("NO_PROXY")
                    || says == "empty"
                    || says.starts_with("hides"),
                "{text}"
            );
            assert!(
                text.starts_with(variable) && text.contains(says),
                "{vars:?}: {text}"
            );
            assert!(
                !text.contains("PW") && !text.contains(pw) && !text.contains("proxy.corp"),
                "{text}"
            );
        }
        // A usable ALL_PROXY is what the client uses in place of an HTTP(S)_PROXY it drops or
        // an empty one hides: still an error (or a warning), saying where requests go.
        for (vars, warning) in [
            (
                vec![
                    ("HTTPS_PROXY", "htp://user:PW@proxy.corp:3128"),
                    ("ALL_PROXY", &url),
                ],
                false,
            ),
            (
                vec![
                    ("http_proxy", "user:PW@proxy.corp:3128/"),
                    ("all_proxy", &url),
                ],
                false,
            ),
            (
                vec![
                    ("HTTPS_PROXY", ""),
                    ("https_proxy", &url),
                    ("ALL_PROXY", &url),
                ],
                true,
            ),
        ] {
            let problems = environment_problems(false, env(&vars));
            assert_eq!(problems.len(), 1, "{vars:?}: {problems:?}");
            assert_eq!(problems[0].warning, warning, "{problems:?}");
            let text = problems[0].to_string();
            let all = vars
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("ALL_PROXY"))
                .unwrap()
                .0;
            assert!(
                text.contains(&format!("through the proxy in {all} instead"))
                    && !text.contains("without")
                    && !text.contains("PW")
                    && !text.contains("proxy.corp"),
                "{text}"
            );
        }
        // use_fips_endpoint configured: the variable is not read.
        assert_eq!(
            environment_problems(true, env(&[("AWS_USE_FIPS_ENDPOINT", "maybe")])),
            []
        );
        // Every problem at once, in one error.
        let all = environment_problems(
            false,
            env(&[
                ("HTTPS_PROXY", "htp://x"),
                ("HTTP_PROXY", "ftp://x"),
                ("AWS_USE_DUALSTACK_ENDPOINT", "x"),
            ]),
        );
        assert_eq!(all.len(), 3, "{all:?}");
        let e = ConnectError::Environment(all).to_string();
        assert!(
            e.contains("HTTP_PROXY") && e.contains("HTTPS_PROXY") && e.contains("; "),
            "{e}"
        );
    }

    /// The proxy half of [`environment_problems`] against hyper-util's matcher, which
    /// `ProxyConfig::from_env` hands the SDK's connector: a proxy URL is reported exactly when
    /// the matcher would not use it as an HTTP(S) proxy with a host, and a `NO_PROXY` entry
    /// exactly when it would not keep the host it was written for away from the proxy.
    #[test]
    fn proxy_problems_agree_with_hyper_util() {
        use hyper_util::client::proxy::matcher::Matcher;
        let dst = "https://secretsmanager.eu-west-1.amazonaws.com/";
        let mut disagree = Vec::new();
        for url in [
            "http://proxy.corp:3128",
            "HTTP://proxy.corp:3128/",
            "https://proxy.corp",
            "Https://u:p@proxy.corp:3128/path?q",
            "proxy.corp:3128",
            "u:p@proxy.corp:3128",
            "proxy.corp",
            "http://[::1]:3128",
            "[::1]:3128",
            "http://10.0.0.1:3128",
            "",
            " ",
            "http://proxy.corp:3128 ",
            " http://proxy.corp:3128",
            "http://proxy.corp:3128\n",
            "htp://proxy.corp:3128",
            "socks5://proxy.corp:1080",
            "SOCKS5h://proxy.corp:1080",
            "http://",
            "http://:3128",
            "http://u:p@",
            "http://u:p@:3128",
            "http://[::1",
            "http://proxy.corp:notaport",
            "http://proxy.corp:99999",
            "proxy.corp:3128/",
            "proxy.corp:3128?x",
            "//proxy.corp:3128",
            "/proxy",
            "http:/proxy.corp",
            "http://pro xy:3128",
            "http://u:p/w@proxy.corp:3128",
            "http://u%40x:p%2Fw@proxy.corp:3128",
            "http://u:p@x@proxy.corp:3128",
            "http://proxy.corp:3128#frag",
            ":3128",
            "u:p@:3128",
            "http://u:p@",
            "Socks5://proxy.corp:1080",
            "http://:notaport",
        ] {
            let intercept = Matcher::builder()
                .https(url)
                .build()
                .intercept(&dst.parse().unwrap());
            let usable = intercept.is_some_and(|i| {
                matches!(i.uri().scheme_str(), Some("http" | "https"))
                    && i.uri().host().is_some_and(|h| !h.is_empty())
            });
            let ours = environment_problems(false, env(&[("HTTPS_PROXY", url)]));
            // An empty value is "unset" to both.
            if usable != ours.is_empty() && !url.is_empty() {
                disagree.push(format!(
                    "proxy {url:?}: hyper-util usable={usable}, offstate {ours:?}"
                ));
            }
            // With a usable ALL_PROXY: the matcher uses it in place of a value it drops, and the
            // error says so exactly then (and that requests go direct never).
            let fallback = "http://fallback.corp:3128";
            let falls_back = Matcher::builder()
                .https(url)
                .all(fallback)
                .build()
                .intercept(&dst.parse().unwrap())
                .is_some_and(|i| i.uri().host() == Some("fallback.corp"));
            let ours = environment_problems(
                false,
                env(&[
                    ("HTTPS_PROXY", url),
                    ("HTTP_PROXY", "http://proxy.corp:3128"),
                    ("ALL_PROXY", fallback),
                ]),
            );
            let text = ours
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            let says_fallback = text.contains("through the proxy in ALL_PROXY instead");
            if (falls_back && !url.is_empty()) != says_fallback
                || text.contains("without the proxy")
                || (usable && !ours.is_empty())
            {
                disagree.push(format!(
                    "proxy {url:?} with ALL_PROXY: hyper-util falls back={falls_back}, offstate {text:?}"
                ));
            }
        }
        // (entry, a host it is meant to keep away from the proxy)
        for (entry, host) in [
            ("localhost", "localhost"),
            ("LOCALHOST", "localhost"),
            (".corp", "a.corp"),
            ("corp", "a.b.corp"),
            ("example.com", "example.com"),
            (" example.com ", "sub.example.com"),
            ("my_host", "my_host"),
            ("*", "anything.example"),
            ("10.0.0.0/8", "10.1.2.3"),
            ("10.1.2.3/8", "10.9.9.9"),
            ("10.0.0.0/08", "10.1.2.3"),
            ("10.0.0.0/008", "10.1.2.3"),
            ("10.0.0.0/+8", "10.1.2.3"),
            ("10.0.0.0/33", "10.0.0.1"),
            ("010.0.0.0/8", "10.1.2.3"),
            ("10.0.0.1", "10.0.0.1"),
            ("010.0.0.1", "10.0.0.1"),
            ("10.0.0", "10.0.0.1"),
            ("10.0.0.", "10.0.0.1"),
            ("127.0.0.1:8080", "127.0.0.1"),
            ("::1", "[::1]"),
            ("[::1]", "[::1]"),
            ("fd00::/8", "[fd00::1]"),
            ("fd00::/0128", "[fd00::1]"),
            ("*.example.com", "a.example.com"),
            ("*example.com", "a.example.com"),
            ("localhost:8443", "localhost"),
            ("http://example.com", "example.com"),
            ("example.com/", "example.com"),
            ("169.254.169.254", "169.254.169.254"),
        ] {
            let matcher = Matcher::builder()
                .http("http://proxy.corp:3128")
                .https("http://proxy.corp:3128")
                .no(entry)
                .build();
            let bypassed = matcher
                .intercept(&format!("https://{host}/").parse().unwrap())
                .is_none();
            let ours = environment_problems(
                false,
                env(&[
                    ("HTTPS_PROXY", "http://proxy.corp:3128"),
                    ("NO_PROXY", entry),
                ]),
            );
            if bypassed != ours.is_empty() {
                disagree.push(format!(
                    "NO_PROXY {entry:?} for {host}: hyper-util bypasses={bypassed}, offstate {ours:?}"
                ));
            }
        }
        assert!(disagree.is_empty(), "{disagree:#?}");
    }

    /// aws-config's IMDS error prints the whole response with `Debug`, body bytes included
    /// (`error response from IMDS (code: {status}). {raw:?}`); the chain keeps the status only.
    #[test]
    fn error_chain_does_not_dump_a_response() {
        #[derive(Debug)]
        struct ImdsLike(String);
        impl std::fmt::Display for ImdsLike {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::error::Error for ImdsLike {}
        #[derive(Debug)]
        struct Outer(ImdsLike);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an error occurred while loading credentials")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let mut raw = aws_smithy_runtime_api::http::Response::new(
            500.try_into().unwrap(),
            aws_smithy_types::body::SdkBody::from(
                r#"{"SecretAccessKey": "cnry-imds-body-key-1a2b3c", "Token": "cnry-imds-body-tok"}"#,
            ),
        );
        raw.headers_mut().insert("x-echo", "cnry-imds-header-4d5e");
        let imds = ImdsLike(format!(
            "error response from IMDS (code: {}). {:?}",
            raw.status().as_u16(),
            raw
        ));
        assert!(imds.0.contains("cnry-imds-body-key"), "the test's premise");
        let text = error_chain(&Outer(imds));
        assert!(!text.contains("cnry"), "{text}");
        assert_eq!(
            text,
            "an error occurred while loading credentials: error response from IMDS (code: 500) (the response is not shown)"
        );
        assert_eq!(
            error_chain(&ImdsLike("plain text. No response".into())),
            "plain text. No response"
        );
    }

    /// The child process of the two FIPS / dual-stack tests below: this test binary re-run as
    /// `fips_and_dual_stack_switches_agree_with_aws_config` in a clean environment (HOME `home`,
    /// the shared config file `config`, no credentials file, and `env`); returns what it printed
    /// after `sdk-switches ` (`fips=Some(true) dual_stack=None`).
    fn sdk_switches_of_child(
        home: &std::path::Path,
        config: &std::path::Path,
        env: &[(&str, &str)],
        what: &str,
    ) -> String {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "store::aws::tests::fips_and_dual_stack_switches_agree_with_aws_config",
                "--nocapture",
                "--test-threads=1",
            ])
            .env_clear()
            .env(FIPS_SWITCH_CHILD, "1")
            .env("HOME", home)
            .env("AWS_CONFIG_FILE", config)
            .env("AWS_SHARED_CREDENTIALS_FILE", home.join("none"))
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout
            .lines()
            .find_map(|l| l.split_once("sdk-switches ").map(|(_, rest)| rest))
            .unwrap_or_else(|| panic!("child said nothing for {what}: {stdout}"))
            .to_owned()
    }

    /// The value after `key` (`fips=`) in a line of [`sdk_switches_of_child`].
    fn switch_in<'l>(line: &'l str, key: &str) -> Option<&'l str> {
        line.split(key).nth(1).and_then(|r| r.split(' ').next())
    }

    const FIPS_SWITCH_CHILD: &str = "OFFSTATE_TEST_FIPS_SWITCH_CHILD";

    /// The FIPS and dual-stack half of [`environment_problems`] against aws-config itself: each
    /// value is given to a child process (this test, re-run) whose shared config file turns both
    /// switches on, and the loaded `SdkConfig` says whether the SDK honoured the variable. No
    /// problem must be reported exactly when it did.
    #[test]
    fn fips_and_dual_stack_switches_agree_with_aws_config() {
        if std::env::var_os(FIPS_SWITCH_CHILD).is_some() {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let sdk = rt.block_on(
                aws_config::defaults(BehaviorVersion::latest())
                    .region(Region::new("us-east-1"))
                    .load(),
            );
            println!(
                "sdk-switches fips={:?} dual_stack={:?}",
                sdk.use_fips(),
                sdk.use_dual_stack()
            );
            return;
        }
        let dir = std::env::temp_dir().join(format!("offstate-fips-switch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config");
        std::fs::write(
            &config,
            "[default]\nuse_fips_endpoint = true\nuse_dualstack_endpoint = true\n",
        )
        .unwrap();
        let mut disagree = Vec::new();
        for value in ["", "true", "TRUE", "False", "maybe", " true", "1"] {
            let line = sdk_switches_of_child(
                &dir,
                &config,
                &[
                    ("AWS_USE_FIPS_ENDPOINT", value),
                    ("AWS_USE_DUALSTACK_ENDPOINT", value),
                ],
                &format!("{value:?}"),
            );
            let expected = Some(value.eq_ignore_ascii_case("true"));
            for (variable, key) in [
                ("AWS_USE_FIPS_ENDPOINT", "fips="),
                ("AWS_USE_DUALSTACK_ENDPOINT", "dual_stack="),
            ] {
                let honoured = switch_in(&line, key) == Some(format!("{expected:?}").as_str());
                let problems = environment_problems(false, env(&[(variable, value)]));
                if honoured != problems.is_empty() {
                    disagree.push(format!(
                        "{variable}={value:?}: SDK {line:?}, offstate {problems:?}"
                    ));
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert!(disagree.is_empty(), "{disagree:#?}");
    }

    /// The profile half: each value written as both switches of the shared config file's
    /// profile, no variable set, given to the same child; [`profile_problems`] (on the profile as
    /// `aws_config::profile::load` reads it, as [`AwsSecretsManager::connect`] does) reports a
    /// problem exactly when the SDK dropped a value that was written.
    #[test]
    fn fips_and_dual_stack_profile_settings_agree_with_aws_config() {
        use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
        let dir = std::env::temp_dir().join(format!(
            "offstate-fips-profile-switch-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut disagree = Vec::new();
        for value in [
            "",
            "true",
            "TRUE",
            "False",
            "maybe",
            " true ",
            "1",
            "yes",
            "true # on",
            "tru\te",
        ] {
            for (profile, header) in [("default", "[default]"), ("ci", "[profile ci]")] {
                std::fs::write(
                    &config,
                    format!(
                        "{header}\nuse_fips_endpoint = {value}\nuse_dualstack_endpoint = {value}\n"
                    ),
                )
                .unwrap();
                let line = sdk_switches_of_child(
                    &dir,
                    &config,
                    &[("AWS_PROFILE", profile)],
                    &format!("{value:?} in {profile}"),
                );
                let files = EnvConfigFiles::builder()
                    .include_default_config_file(false)
                    .include_default_credentials_file(false)
                    .with_file(EnvConfigFileKind::Config, &config)
                    .build();
                let profiles = rt
                    .block_on(aws_config::profile::load(
                        &Default::default(),
                        &Default::default(),
                        &files,
                        Some(profile.into()),
                    ))
                    .unwrap();
                let problems = profile_problems(&profiles, false, |_| None);
                for (setting, key) in [
                    ("use_fips_endpoint", "fips="),
                    ("use_dualstack_endpoint", "dual_stack="),
                ] {
                    let dropped = switch_in(&line, key) == Some("None") && !value.trim().is_empty();
                    let reported: Vec<_> =
                        problems.iter().filter(|p| p.setting == setting).collect();
                    if dropped == reported.is_empty()
                        || reported.iter().any(|p| p.profile != profile)
                    {
                        disagree.push(format!(
                            "{setting} = {value:?} in {profile}: SDK {line:?}, offstate {problems:?}"
                        ));
                    }
                }
            }
        }
        // A variable set, empty or not, is read instead of the profile; use_fips_endpoint
        // configured, the profile's is never read.
        std::fs::write(
            &config,
            "[default]\nuse_fips_endpoint = maybe\nuse_dualstack_endpoint = maybe\n",
        )
        .unwrap();
        let files = EnvConfigFiles::builder()
            .include_default_config_file(false)
            .with_file(EnvConfigFileKind::Config, &config)
            .build();
        let profiles = rt
            .block_on(aws_config::profile::load(
                &Default::default(),
                &Default::default(),
                &files,
                Some("default".into()),
            ))
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(disagree.is_empty(), "{disagree:#?}");
        assert_eq!(profile_problems(&profiles, false, |_| None).len(), 2);
        let only_dual_stack = profile_problems(&profiles, true, |_| None);
        assert_eq!(only_dual_stack.len(), 1);
        assert_eq!(
            only_dual_stack[0].to_string(),
            "use_dualstack_endpoint in profile \"default\" of the shared config files is neither true nor false, so the AWS SDK would ignore it; set it to true or false, or remove it"
        );
        assert_eq!(
            profile_problems(&profiles, false, |name| (name == "AWS_USE_FIPS_ENDPOINT")
                .then(String::new))
            .len(),
            1
        );
        assert!(profile_problems(&profiles, false, |_| Some("true".into())).is_empty());
    }

    #[test]
    fn regions_table() {
        for ok in [
            "us-east-1",
            "eu-west-1",
            "eu-central-2",
            "ap-southeast-4",
            "us-gov-west-1",
            "us-isob-east-1",
            "cn-north-1",
            "il-central-1",
            "eusc-de-east-1",
        ] {
            assert_eq!(validate_region(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "us_east_1",
            "useast1",
            "us-east-1a",
            "europe-east-1",
            "us--1",
            "us-east-",
            " us-east-1",
            "us-east-123",
        ] {
            assert!(validate_region(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn endpoints_table() {
        assert_eq!(validate_endpoint("http://127.0.0.1:4566"), Ok(()));
        assert_eq!(
            validate_endpoint("https://secretsmanager.eu-west-1.amazonaws.com/"),
            Ok(())
        );
        for bad in [
            "127.0.0.1:4566",
            "ftp://x",
            "http://",
            "http:///x",
            "https://a b",
        ] {
            assert_eq!(
                validate_endpoint(bad),
                Err(ConnectError::InvalidEndpoint),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn connect_validates_before_loading() {
        let bad = |cfg: AwsStoreConfig| async move {
            AwsSecretsManager::connect(&cfg).await.unwrap_err()
        };
        assert!(matches!(
            bad(AwsStoreConfig {
                region: Some("nowhere".into()),
                ..Default::default()
            })
            .await,
            ConnectError::InvalidRegion(_)
        ));
        assert_eq!(
            bad(AwsStoreConfig {
                region: Some("eu-west-1".into()),
                max_attempts: Some(0),
                ..Default::default()
            })
            .await,
            ConnectError::InvalidMaxAttempts
        );
        assert_eq!(
            bad(AwsStoreConfig {
                region: Some("eu-west-1".into()),
                endpoint: Some("localhost:4566".into()),
                ..Default::default()
            })
            .await,
            ConnectError::InvalidEndpoint
        );
        assert_eq!(
            bad(AwsStoreConfig {
                region: Some("eu-west-1".into()),
                assume_role: Some(AssumeRole {
                    role_arn: "admin".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await,
            ConnectError::InvalidRoleArn
        );
    }

    /// A FIPS or dual-stack switch of the selected profile that the SDK would drop is refused
    /// as the environment's is; the profile's other settings, another profile's, an empty value
    /// and `use_fips_endpoint` configured are not.
    #[tokio::test]
    async fn connect_refuses_a_profile_switch_the_sdk_would_drop() {
        if std::env::var_os("AWS_USE_FIPS_ENDPOINT").is_some()
            || std::env::var_os("AWS_USE_DUALSTACK_ENDPOINT").is_some()
        {
            return; // the variables are read instead of the profile
        }
        let file = TempFile::new("profile-switches");
        std::fs::write(
            &file.0,
            "[profile odd]\nregion = eu-west-1\nuse_fips_endpoint = yes\nuse_dualstack_endpoint = false\n\
             [profile fine]\nuse_fips_endpoint = TRUE\nuse_dualstack_endpoint =\n",
        )
        .unwrap();
        let connect = |profile: &str, use_fips: Option<bool>| {
            let cfg = AwsStoreConfig {
                region: Some("eu-west-1".into()),
                profile: Some(profile.into()),
                endpoint: Some("http://127.0.0.1:9".into()),
                shared_config_files: vec![file.0.clone()],
                shared_credentials_files: vec![file.0.clone()],
                use_fips,
                ..Default::default()
            };
            async move { AwsSecretsManager::connect(&cfg).await }
        };
        match connect("odd", None).await {
            Err(ConnectError::Profile(problems)) => {
                assert_eq!(problems.len(), 1, "{problems:?}");
                assert_eq!(problems[0].setting, "use_fips_endpoint");
                assert_eq!(problems[0].profile, "odd");
                assert!(!problems[0].to_string().contains("yes"), "{problems:?}");
            }
            other => panic!("{other:?}"),
        }
        connect("odd", Some(false)).await.unwrap();
        connect("fine", None).await.unwrap();
    }

    #[tokio::test]
    async fn connect_with_explicit_settings_makes_no_call() {
        let store = AwsSecretsManager::connect(&AwsStoreConfig {
            region: Some("eu-west-1".into()),
            endpoint: Some("http://127.0.0.1:9".into()),
            assume_role: Some(AssumeRole {
                role_arn: "arn:aws:iam::123456789012:role/deploy".into(),
                session_name: Some("offstate".into()),
                external_id: Some("ext".into()),
                duration: Some(Duration::from_secs(900)),
                policy: Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into()),
                policy_arns: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
                tags: [("team".to_string(), "payments".to_string())].into(),
            }),
            max_attempts: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
        assert_eq!(store.region(), "eu-west-1");
    }
}
