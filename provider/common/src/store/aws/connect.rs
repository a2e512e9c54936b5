//! `AwsSecretsManager` and how it is built: the configuration checked, aws-config loaded, the
//! credentials chain wrapped, the role assumed, the client made; and the account it acts in.

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_secretsmanager::Client;

use super::config::{
    is_role_arn, validate_endpoint, validate_region, AwsStoreConfig, ConnectError, CONNECT_TIMEOUT,
    DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_MAX_ATTEMPTS,
};
use super::environment::{environment_problems, profile_problems, EnvProblem};
use super::errors::{map_sdk_error, TooManyRequests};
use super::observe::{observed_credentials, observing_http_client};
use super::withholding::Withholding;
use crate::store::StoreError;

/// Secrets Manager through the AWS SDK. `Debug` shows the region only: the SDK's configuration
/// holds the credentials providers, and the assume-role one prints its request (`ExternalId`).
#[derive(Clone)]
pub struct AwsSecretsManager {
    pub(super) client: Client,
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
            if !is_role_arn(&role.role_arn) {
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
