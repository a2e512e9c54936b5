//! `AwsSecretsManager` and how it is built: the configuration checked, aws-config loaded, the
//! credentials chain wrapped, the role assumed, the client made; and the account it acts in.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_secretsmanager::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, InterceptorContext,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

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
    /// Set by [`AwsSecretsManager::stop_retries`].
    stopped: StopRetries,
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
            // Its STS client signs with `base`, which registers what it hands over.
            let provider = AssumedRole::new(role, &sdk, base);
            sdk = sdk
                .into_builder()
                .credentials_provider(Withholding::wrap(SharedCredentialsProvider::new(provider)))
                .build();
        }

        let stopped = StopRetries::default();
        let mut conf = aws_sdk_secretsmanager::config::Builder::from(&sdk)
            .retry_partition(retry_partition())
            .retry_classifier(TooManyRequests)
            .retry_classifier(stopped.clone())
            .interceptor(stopped.clone());
        if let Some(endpoint) = &cfg.endpoint {
            conf = conf.endpoint_url(endpoint.clone());
        }
        Ok(Self {
            client: Client::from_conf(conf.build()),
            region,
            sdk,
            stopped,
        })
    }

    /// No Secrets Manager call of this store starts another attempt from now on (Terraform's
    /// StopProvider): an attempt that fails is not retried, and a retry waiting out its backoff
    /// fails when the backoff ends. The attempt in flight runs to its end (its answer, or the
    /// attempt timeout), so an answer already on its way is not lost.
    pub fn stop_retries(&self) {
        self.stopped.0.store(true, Ordering::SeqCst);
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

/// The retry partition of the Secrets Manager client: its own, with no retry quota. The SDK's
/// standard mode shares one token bucket per process (500 tokens, 5 a retry, a token back per
/// first-attempt success, none back for a retry of a call that failed in the end) among every
/// call to the service: under sustained throttling, as `terraform apply -parallelism=50` on 200
/// secrets meets it, the bucket ran dry after a few dozen retried calls and every later throttled
/// call failed at its first attempt ("not enough retry quota"): 27 of 30 failed creates in such
/// a run had had 1 to 4 attempts of 5. A call's retries stay bounded by `max_attempts` and its
/// exponential backoff with jitter; StopProvider still ends them (`StopRetries`).
fn retry_partition() -> aws_sdk_secretsmanager::config::retry::RetryPartition {
    use aws_sdk_secretsmanager::config::retry::{RetryPartition, TokenBucket};
    RetryPartition::custom("offstate-secretsmanager")
        .token_bucket(TokenBucket::unlimited())
        .build()
}

/// Refuses retries once [`AwsSecretsManager::stop_retries`] was called: as a retry classifier it
/// forbids retrying the attempt that just ended; as an interceptor it fails an attempt after the
/// first before it is sent (one whose backoff began before the stop).
#[derive(Clone, Debug, Default)]
struct StopRetries(Arc<AtomicBool>);

impl StopRetries {
    fn stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl ClassifyRetry for StopRetries {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        if self.stopped() {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "provider stopped"
    }
}

impl Intercept for StopRetries {
    fn name(&self) -> &'static str {
        "provider stopped"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        if attempt > 1 && self.stopped() {
            return Err(format!(
                "Terraform stopped the provider (interrupted): attempt {attempt} not sent"
            )
            .into());
        }
        Ok(())
    }
}

/// STS `AssumeRole` with every argument of the provider's `assume_role`, as aws-config's
/// `AssumeRoleProvider` makes it, plus the two that one cannot send (`TransitiveTagKeys`,
/// `SourceIdentity`). The client's identity cache keeps the credentials until they near their
/// expiry. `Debug` shows the role only: the request holds `ExternalId`.
struct AssumedRole {
    role_arn: String,
    request: aws_sdk_sts::operation::assume_role::builders::AssumeRoleFluentBuilder,
}

impl std::fmt::Debug for AssumedRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumedRole")
            .field("role_arn", &self.role_arn)
            .finish_non_exhaustive()
    }
}

impl AssumedRole {
    /// `sdk` gives STS's region, endpoint, retries and HTTP client; `base` (else `sdk`'s own
    /// provider) signs the call.
    fn new(
        role: &super::config::AssumeRole,
        sdk: &aws_config::SdkConfig,
        base: Option<SharedCredentialsProvider>,
    ) -> Self {
        use aws_sdk_sts::types::{PolicyDescriptorType, Tag};
        let mut conf = sdk
            .clone()
            .into_builder()
            .identity_cache(aws_config::identity::IdentityCache::no_cache());
        if let Some(base) = base {
            conf = conf.credentials_provider(base);
        }
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&conf.build()).build(),
        );
        // aws-config's default name: a session named after the moment it started.
        let session_name = role.session_name.clone().unwrap_or_else(|| {
            let millis = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            format!("assume-role-provider-{millis}")
        });
        let tags: Vec<Tag> = role
            .tags
            .iter()
            .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
            .collect();
        let policy_arns: Vec<PolicyDescriptorType> = role
            .policy_arns
            .iter()
            .map(|arn| PolicyDescriptorType::builder().arn(arn).build())
            .collect();
        let request = sts
            .assume_role()
            .role_arn(&role.role_arn)
            .role_session_name(session_name)
            .set_external_id(role.external_id.clone())
            .set_policy(role.policy.clone())
            .set_policy_arns((!policy_arns.is_empty()).then_some(policy_arns))
            .set_duration_seconds(
                role.duration
                    .map(|d| i32::try_from(d.as_secs()).unwrap_or(i32::MAX)),
            )
            .set_tags((!tags.is_empty()).then_some(tags))
            .set_transitive_tag_keys(
                (!role.transitive_tag_keys.is_empty()).then(|| role.transitive_tag_keys.clone()),
            )
            .set_source_identity(role.source_identity.clone());
        AssumedRole {
            role_arn: role.role_arn.clone(),
            request,
        }
    }

    async fn credentials(&self) -> aws_credential_types::provider::Result {
        use aws_credential_types::provider::error::CredentialsError;
        use aws_sdk_sts::error::SdkError;
        use aws_sdk_sts::operation::assume_role::AssumeRoleError;
        tracing::debug!(role_arn = %self.role_arn, "assuming the role");
        let out = match self.request.clone().send().await {
            Ok(out) => out,
            Err(err) => {
                // What aws-config calls a configuration error: retrying will not help.
                let config = matches!(&err, SdkError::ServiceError(e) if matches!(
                    e.err(),
                    AssumeRoleError::RegionDisabledException(_)
                        | AssumeRoleError::MalformedPolicyDocumentException(_)
                ));
                return Err(if config {
                    CredentialsError::invalid_configuration(err)
                } else {
                    CredentialsError::provider_error(err)
                });
            }
        };
        let Some(c) = out.credentials else {
            return Err(CredentialsError::unhandled(
                "STS answered AssumeRole without credentials",
            ));
        };
        let expiry = std::time::SystemTime::try_from(c.expiration).map_err(|_| {
            CredentialsError::unhandled("STS answered AssumeRole with an unusable expiration")
        })?;
        Ok(aws_credential_types::Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            Some(expiry),
            "AssumeRoleProvider",
        ))
    }
}

impl aws_credential_types::provider::ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(self.credentials())
    }
}
