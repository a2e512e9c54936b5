//! The `offstate` provider block: where Secrets Manager is and who we are.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use offstate_common::store::aws::{
    is_role_arn, AssumeRole, AwsSecretsManager, AwsStoreConfig, ConnectError,
};
use offstate_common::store::stoppable::{until_stopped, Stoppable};
use offstate_common::store::StoreError;
use offstate_common::SecretStore;
use offstate_framework::provider::ConfigureRequest;
use offstate_framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Nesting, Resource, Schema, Type,
    Value,
};

use crate::action::SecretRotateAction;
use crate::data::{SecretData, SecretsData};
use crate::ephemeral::{PasswordEphemeral, SecretValueEphemeral};
use crate::function::RefFunction;
use crate::list::SecretList;
use crate::region;
use crate::secret::SecretResource;
use crate::tags::{IgnoreTags, TagFilteredStore};
use offstate_framework::action::Action;
use offstate_framework::datasource::{DataSource, EphemeralResource, Function, ListResource};

/// What resources need once the provider is configured.
pub struct Configured {
    /// Secrets Manager, seen through `ignore_tags` ([`TagFilteredStore`]).
    pub store: Arc<dyn SecretStore>,
    pub default_tags: BTreeMap<String, String>,
    pub ignore_tags: IgnoreTags,
}

impl Configured {
    /// The tags a secret with these configured `tags` carries and this provider manages:
    /// `default_tags`, overridden by `tags`, without the ignored keys.
    pub fn managed_tags(&self, tags: &Value) -> BTreeMap<String, String> {
        let mut all = self.default_tags.clone();
        all.extend(tags.as_string_map().unwrap_or_default());
        self.ignore_tags.strip(&mut all);
        all
    }
}

/// Shared between the provider and its resources; filled by ConfigureProvider.
#[derive(Clone)]
pub struct Handle {
    configured: Arc<OnceLock<Configured>>,
    /// Set by StopProvider.
    stop: Arc<tokio::sync::watch::Sender<bool>>,
    /// ARNs of secrets a create of this process adopted (see `secret::adopt_interrupted_create`).
    adopted: Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>,
    /// Names a create of this process is making or has made, with how many creates claim each
    /// (see [`Handle::claim_name`]).
    claimed: Arc<std::sync::Mutex<std::collections::BTreeMap<String, usize>>>,
    /// The account the credentials act in, set by ConfigureProvider (see [`Account`]).
    account: Arc<OnceLock<Account>>,
}

impl Default for Handle {
    fn default() -> Self {
        Handle {
            configured: Arc::default(),
            stop: Arc::new(tokio::sync::watch::Sender::new(false)),
            adopted: Arc::default(),
            claimed: Arc::default(),
            account: Arc::default(),
        }
    }
}

impl Handle {
    /// Sleeps for `pause`, or less if StopProvider comes first; `false` then.
    pub async fn pause(&self, pause: std::time::Duration) -> bool {
        let mut stopped = self.stop.subscribe();
        tokio::select! {
            () = tokio::time::sleep(pause) => true,
            _ = stopped.wait_for(|s| *s) => false,
        }
    }

    pub fn get(&self) -> Result<&Configured, Diagnostic> {
        self.configured.get().ok_or_else(|| {
            Diagnostic::error(
                "Provider not configured",
                "The offstate provider was used before it was configured. This is a bug in Terraform or the provider.",
            )
        })
    }
    /// Records that a create of this run took over the existing secret `arn`.
    pub fn note_adopted(&self, arn: &str) {
        let mut set = self.adopted.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(arn.to_owned());
    }

    /// Whether a create of this run took over the secret `arn`: Terraform runs one provider
    /// process per apply, so a delete of the same ARN later in the run deletes a secret the
    /// state now holds under the new object.
    pub fn was_adopted(&self, arn: &str) -> bool {
        let set = self.adopted.lock().unwrap_or_else(|e| e.into_inner());
        set.contains(arn)
    }

    /// A create of this process is about to make the secret `name`; undone by
    /// [`Handle::unclaim_name`] when that create fails. Claimed before CreateSecret, so that a
    /// create of the same name running at the same time sees it whichever answer comes first.
    pub fn claim_name(&self, name: &str) {
        let mut map = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(name.to_owned()).or_default() += 1;
    }

    pub fn unclaim_name(&self, name: &str) {
        let mut map = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(name) {
            *n -= 1;
            if *n == 0 {
                map.remove(name);
            }
        }
    }

    /// Whether another create of this process (besides the caller, who claimed the name too)
    /// is making or has made the secret `name`: two objects of one configuration naming the
    /// same secret, which must not both hold it.
    pub fn name_claimed_by_another(&self, name: &str) -> bool {
        let map = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
        map.get(name).is_some_and(|n| *n > 1)
    }

    /// Where [`Handle::account`] learns the account from; the first setting stays.
    pub fn set_account(&self, account: Account) {
        let _ = self.account.set(account);
    }

    /// The account the credentials act in, to be asked; `None` before ConfigureProvider (and in
    /// tests that set none).
    pub fn account(&self) -> Option<&Account> {
        self.account.get()
    }

    /// A handle already holding a store: for tests.
    pub fn with(configured: Configured) -> Self {
        let h = Handle::default();
        let _ = h.configured.set(configured);
        h
    }
}

/// How [`Account`] asks STS (`GetCallerIdentity`).
type AskAccount =
    Box<dyn Fn() -> futures::future::BoxFuture<'static, Result<String, StoreError>> + Send + Sync>;

/// The AWS account the provider's credentials act in, wanted only when a refresh finds no secret
/// behind an ARN (`secret::other_account`): a change of credentials to another account makes
/// DescribeSecret of the old ARN answer ResourceNotFound (moto, LocalStack; AWS itself usually
/// AccessDenied). Known without a call when configure checked `allowed_account_ids` or
/// `forbidden_account_ids`, or from `assume_role.role_arn` (the assumed credentials act in the
/// role's account); otherwise STS `GetCallerIdentity`, asked once per provider process (the answer,
/// or the failure, is kept).
pub struct Account {
    answer: tokio::sync::OnceCell<Result<String, StoreError>>,
    ask: Option<AskAccount>,
}

impl Account {
    /// An account known already.
    pub fn known(id: impl Into<String>) -> Self {
        Account {
            answer: tokio::sync::OnceCell::new_with(Some(Ok(id.into()))),
            ask: None,
        }
    }

    /// An account `ask` finds out, when first wanted.
    pub fn asking(
        ask: impl Fn() -> futures::future::BoxFuture<'static, Result<String, StoreError>>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        Account {
            answer: tokio::sync::OnceCell::new(),
            ask: Some(Box::new(ask)),
        }
    }

    /// The account id, asked for on the first call only.
    pub async fn get(&self) -> Result<&str, &StoreError> {
        let answer = self
            .answer
            .get_or_init(|| async {
                match &self.ask {
                    Some(ask) => ask().await,
                    None => Err(StoreError::Other {
                        code: "GetCallerIdentity".to_owned(),
                        message: "no way to ask for the account".to_owned(),
                    }),
                }
            })
            .await;
        answer.as_ref().map(String::as_str)
    }
}

/// The account of an IAM role ARN (`arn:PARTITION:iam::ACCOUNT:role/NAME`).
fn role_account(role_arn: &str) -> Option<&str> {
    role_arn
        .split(':')
        .nth(4)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

#[derive(Default)]
pub struct OffstateProvider {
    handle: Handle,
}

impl OffstateProvider {
    pub fn new() -> Self {
        Self::default()
    }
    /// A provider whose resources use `handle` (already configured in tests).
    pub fn with_handle(handle: Handle) -> Self {
        OffstateProvider { handle }
    }
}

pub fn schema() -> Schema {
    Schema::new(
        0,
        Block::new("Manages AWS Secrets Manager secrets whose values never enter Terraform state or plans.")
            .attribute(Attribute::optional("region", Type::String).description(
                "AWS region. Defaults to `AWS_REGION` / `AWS_DEFAULT_REGION` or the profile's region.",
            ))
            .attribute(Attribute::optional("profile", Type::String).description("Named profile from the shared AWS config files."))
            .attribute(Attribute::optional("shared_config_files", Type::list(Type::String)).description(
                "Shared config files to read, in order, instead of `~/.aws/config` (or `AWS_CONFIG_FILE`). A leading `~/` is the home directory.",
            ))
            .attribute(Attribute::optional("shared_credentials_files", Type::list(Type::String)).description(
                "Shared credentials files to read, in order, instead of `~/.aws/credentials` (or `AWS_SHARED_CREDENTIALS_FILE`). A leading `~/` is the home directory.",
            ))
            .attribute(Attribute::optional("endpoint", Type::String).description(
                "Secrets Manager endpoint URL. Defaults to `AWS_ENDPOINT_URL_SECRETS_MANAGER`, then `AWS_ENDPOINT_URL`, then AWS.",
            ))
            .attribute(Attribute::optional("use_fips_endpoint", Type::Bool).description(
                "Use the FIPS 140-3 endpoints of Secrets Manager and STS (`secretsmanager-fips.REGION.amazonaws.com`). Defaults to `AWS_USE_FIPS_ENDPOINT` or the profile's `use_fips_endpoint`; ignored where `endpoint` is set.",
            ))
            .attribute(Attribute::optional("custom_ca_bundle", Type::String).description(
                "Path of a PEM file of CA certificates to trust besides the system's (a TLS-inspecting proxy, a private endpoint). Defaults to `AWS_CA_BUNDLE`.",
            ))
            .attribute(
                Attribute::optional("skip_region_validation", Type::Bool)
                    .description("Accept a region name this provider does not know (new or private regions)."),
            )
            .attribute(Attribute::optional("max_retries", Type::Number).description(
                "Attempts per API call, retried with exponential backoff and jitter on throttling and transient errors. Default 5.",
            ))
            .attribute(
                Attribute::optional("default_tags", Type::map(Type::String))
                    .description("Tags added to every secret this provider manages; a resource's own `tags` win on conflict."),
            )
            .attribute(Attribute::optional("allowed_account_ids", Type::set(Type::String)).description(
                "AWS account IDs this provider may act in. When set, configuring the provider asks STS `GetCallerIdentity` which account the credentials (after `assume_role`) belong to, and stops before any Secrets Manager call if it is not listed. Conflicts with `forbidden_account_ids`.",
            ))
            .attribute(Attribute::optional("forbidden_account_ids", Type::set(Type::String)).description(
                "AWS account IDs this provider must not act in, checked the same way as `allowed_account_ids`. Conflicts with it.",
            ))
            .block(
                "ignore_tags",
                Nesting::Single,
                Block::new("Tag keys managed outside Terraform (a tagging policy, a cost tool): never read into `tags`/`tags_all`, never set nor removed.")
                    .attribute(Attribute::optional("keys", Type::set(Type::String)).description("Exact tag keys to ignore."))
                    .attribute(Attribute::optional("key_prefixes", Type::set(Type::String)).description("Tag key prefixes to ignore.")),
                0,
                0,
            )
            .block(
                "assume_role",
                Nesting::Single,
                Block::new("Assume an IAM role before calling Secrets Manager.")
                    .attribute(Attribute::required("role_arn", Type::String).description("ARN of the role to assume."))
                    .attribute(Attribute::optional("session_name", Type::String).description("Session name."))
                    .attribute(Attribute::optional("external_id", Type::String).sensitive().description("External id the role's trust policy requires. Sensitive: not shown in plans."))
                    .attribute(Attribute::optional("duration", Type::String).description("Session duration as hashicorp/aws takes it, a duration string such as `\"1h\"`, `\"15m\"` or `\"900s\"`: 15m to 12h (and at most the role's maximum). Conflicts with `duration_seconds`."))
                    .attribute(Attribute::optional("duration_seconds", Type::Number).description("Session duration in seconds, 900 to 43200 (and at most the role's maximum). Conflicts with `duration`."))
                    .attribute(Attribute::optional("policy", Type::String).description("A session policy (JSON) that narrows what the role may do in this session."))
                    .attribute(Attribute::optional("policy_arns", Type::set(Type::String)).description("ARNs of managed policies that narrow the session the same way."))
                    .attribute(Attribute::optional("tags", Type::map(Type::String)).description("Session tags passed to `AssumeRole`."))
                    .attribute(Attribute::optional("transitive_tag_keys", Type::set(Type::String)).description("Keys of `tags` that pass on to the sessions this one assumes in turn (role chaining)."))
                    .attribute(Attribute::optional("source_identity", Type::String).description("Source identity of the session, recorded in CloudTrail and kept through role chaining.")),
                0,
                0,
            ),
    )
}

#[async_trait]
impl offstate_framework::Provider for OffstateProvider {
    fn type_name(&self) -> &'static str {
        "offstate"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate_config(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        // Unknown until plan: no region can be judged yet.
        let skip = match config.get("skip_region_validation") {
            Value::Unknown => true,
            v => v.as_bool().unwrap_or(false),
        };
        if let Some(r) = config.get("region").as_str() {
            if let Err(why) = region::validate(r, skip) {
                diags.attr_error(
                    AttributePath::attr("region"),
                    "Invalid AWS region",
                    format!("The region given {why}"),
                );
            }
        }
        if let Some(e) = config.get("endpoint").as_str() {
            if !(e.starts_with("https://") || e.starts_with("http://")) {
                diags.attr_error(
                    AttributePath::attr("endpoint"),
                    "Invalid endpoint",
                    "The endpoint must be an http:// or https:// URL.",
                );
            }
        }
        if let Some(n) = config.get("max_retries").as_i64() {
            if !(1..=25).contains(&n) {
                diags.attr_error(
                    AttributePath::attr("max_retries"),
                    "Invalid max_retries",
                    "Use a number from 1 to 25.",
                );
            }
        }
        validate_account_ids(config, &mut diags);
        for name in ["keys", "key_prefixes"] {
            if known_strings(config.get("ignore_tags").get(name))
                .iter()
                .any(|k| k.is_empty())
            {
                diags.attr_error(
                    AttributePath::attr("ignore_tags").then_attr(name),
                    "Empty tag key",
                    "An empty key or prefix would match no tag, or every tag; remove it.",
                );
            }
        }
        let ar = config.get("assume_role");
        let in_role = |name: &str| AttributePath::attr("assume_role").then_attr(name);
        if let Some(arn) = ar.get("role_arn").as_str() {
            // What `connect` refuses, refused here on the attribute (and at validate).
            if !is_role_arn(arn) {
                diags.attr_error(in_role("role_arn"), "Invalid role ARN", ROLE_ARN_SHAPE);
            }
        }
        if let Some(seconds) = ar.get("duration_seconds").as_number() {
            if !seconds
                .as_i64()
                .is_some_and(|s| (900..=43_200).contains(&s))
            {
                diags.attr_error(
                    in_role("duration_seconds"),
                    "Invalid session duration",
                    "duration_seconds must be a whole number of seconds from 900 (15 minutes) to 43200 (12 hours); AWS also caps it at the role's maximum session duration.",
                );
            }
        }
        if let Some(text) = ar.get("duration").as_str() {
            match go_duration_nanos(text) {
                None => diags.attr_error(
                    in_role("duration"),
                    "Invalid session duration",
                    "duration must be a duration string: numbers each followed by a unit (h, m, s, ms, us, ns), like \"1h\", \"15m\", \"900s\" or \"1h30m\".",
                ),
                Some(n) if !(MIN_SESSION_NANOS..=MAX_SESSION_NANOS).contains(&n) => diags.attr_error(
                    in_role("duration"),
                    "Invalid session duration",
                    "duration must be from 15m to 12h; AWS also caps it at the role's maximum session duration.",
                ),
                Some(_) => {}
            }
        }
        if ar.get("duration").is_known_set() && ar.get("duration_seconds").is_known_set() {
            diags.attr_error(
                in_role("duration"),
                "Conflicting configuration arguments",
                "\"duration\": conflicts with \"duration_seconds\". Set the session duration once.",
            );
        }
        // STS's own rules (AssumeRole's RoleSessionName and ExternalId): checked here, on the
        // attribute, instead of coming back from the first call as a request that could not be
        // sent. The messages never repeat the value (an external id is a shared secret).
        if let Some(name) = ar.get("session_name").as_str() {
            let ok = (2..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
            if !ok {
                diags.attr_error(
                    in_role("session_name"),
                    "Invalid session name",
                    "session_name must be 2 to 64 characters: ASCII letters, digits and _+=,.@- (AWS RoleSessionName).",
                );
            }
        }
        if let Some(id) = ar.get("external_id").as_str() {
            let ok = (2..=1224).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b));
            if !ok {
                diags.attr_error(
                    in_role("external_id"),
                    "Invalid external ID",
                    "external_id must be 2 to 1224 characters: ASCII letters, digits and _+=,.@:/- (AWS ExternalId).",
                );
            }
        }
        if let Some(policy) = ar.get("policy").as_str() {
            if !serde_json::from_str::<serde_json::Value>(policy).is_ok_and(|p| p.is_object()) {
                diags.attr_error(
                    in_role("policy"),
                    "Invalid session policy",
                    "policy must be an IAM policy document, a JSON object (use jsonencode or data.aws_iam_policy_document).",
                );
            } else if policy.chars().count() > MAX_POLICY_CHARS {
                diags.attr_error(
                    in_role("policy"),
                    "Invalid session policy",
                    format!("AssumeRole takes a session policy of at most {MAX_POLICY_CHARS} characters (Policy); this one has {}.", policy.chars().count()),
                );
            }
        }
        validate_session_tags(ar.get("tags"), &mut diags);
        // Transitive keys name session tags of this block (STS refuses any other).
        if let Value::Map(tags) = ar.get("tags") {
            let strays = known_strings(ar.get("transitive_tag_keys"))
                .iter()
                .filter(|k| !tags.contains_key(k.as_str()))
                .count();
            if strays > 0 {
                diags.attr_error(
                    in_role("transitive_tag_keys"),
                    "Invalid transitive tag keys",
                    format!("{strays} key(s) of transitive_tag_keys are not keys of tags: a transitive key must name a session tag set here."),
                );
            }
        } else if ar.get("tags").is_null()
            && !known_strings(ar.get("transitive_tag_keys")).is_empty()
        {
            diags.attr_error(
                in_role("transitive_tag_keys"),
                "Invalid transitive tag keys",
                "transitive_tag_keys names session tags, and tags is not set.",
            );
        }
        if let Some(id) = ar.get("source_identity").as_str() {
            // AssumeRole's SourceIdentity: 2 to 64 of [\w+=,.@-], and not starting with aws:.
            let ok = (2..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
                && !id.to_ascii_lowercase().starts_with("aws:");
            if !ok {
                diags.attr_error(
                    in_role("source_identity"),
                    "Invalid source identity",
                    "source_identity must be 2 to 64 characters: ASCII letters, digits and _+=,.@- (AWS SourceIdentity).",
                );
            }
        }
        if ar.get("policy_arns").elements().len() > MAX_POLICY_ARNS {
            diags.attr_error(
                in_role("policy_arns"),
                "Too many policy ARNs",
                format!("AssumeRole takes at most {MAX_POLICY_ARNS} managed session policies (PolicyArns)."),
            );
        }
        for arn in ar.get("policy_arns").elements() {
            if let Some(arn) = arn.as_str() {
                if !(arn.starts_with("arn:") && arn.contains(":policy/")) {
                    // Not repeated: provider arguments take ephemeral values.
                    diags.attr_error(
                        in_role("policy_arns"),
                        "Invalid policy ARN",
                        "An element of policy_arns is not an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME).",
                    );
                }
            }
        }
        diags
    }

    async fn configure(&self, req: &ConfigureRequest<'_>) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let c = req.config;
        if !c.is_wholly_known() {
            let detail = "The offstate provider block depends on a value that is not known until apply (an attribute of a resource created in the same run). \
                          Use values known at plan time (variables, locals, data sources), or create that resource first with -target.";
            let unknown: Vec<&String> = match c {
                Value::Object(attrs) => attrs
                    .iter()
                    .filter(|(_, v)| !v.is_wholly_known())
                    .map(|(k, _)| k)
                    .collect(),
                _ => Vec::new(),
            };
            for k in &unknown {
                diags.attr_error(
                    AttributePath::attr(k.as_str()),
                    "Provider configuration not known",
                    detail,
                );
            }
            if unknown.is_empty() {
                diags.error("Provider configuration not known", detail);
            }
            return diags;
        }
        let env_region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .into_iter()
            .find_map(|k| std::env::var(k).ok().map(|v| (k, v)));
        let skip = c.get("skip_region_validation").as_bool().unwrap_or(false);
        match (c.get("region").as_str(), env_region) {
            // Known only now (it was unknown when the configuration was validated).
            (Some(r), _) => {
                if let Err(why) = region::validate(r, skip) {
                    diags.attr_error(
                        AttributePath::attr("region"),
                        "Invalid AWS region",
                        format!("The region given {why}"),
                    );
                    return diags;
                }
            }
            // From the environment, not the configuration: shown, as the AWS CLI shows it.
            (None, Some((var, r))) => {
                if let Err(why) = region::validate(&r, skip) {
                    diags.error("Invalid AWS region", format!("{var} {r:?} {why}"));
                    return diags;
                }
            }
            (None, None) => {}
        }
        let ar = c.get("assume_role");
        let cfg = AwsStoreConfig {
            region: c.get("region").as_str().map(str::to_string),
            profile: c.get("profile").as_str().map(str::to_string),
            endpoint: c.get("endpoint").as_str().map(str::to_string),
            assume_role: ar.get("role_arn").as_str().map(|arn| AssumeRole {
                role_arn: arn.to_string(),
                session_name: ar.get("session_name").as_str().map(str::to_string),
                external_id: ar.get("external_id").as_str().map(str::to_string),
                duration: session_duration(ar),
                policy: ar.get("policy").as_str().map(str::to_string),
                policy_arns: known_strings(ar.get("policy_arns")),
                tags: ar.get("tags").as_string_map().unwrap_or_default(),
                transitive_tag_keys: known_strings(ar.get("transitive_tag_keys")),
                source_identity: ar.get("source_identity").as_str().map(str::to_string),
            }),
            max_attempts: c.get("max_retries").as_i64().map(|n| n as u32),
            attempt_timeout: attempt_timeout_from_env(),
            use_fips: c.get("use_fips_endpoint").as_bool(),
            shared_config_files: paths(c.get("shared_config_files")),
            shared_credentials_files: paths(c.get("shared_credentials_files")),
            ca_bundle: c
                .get("custom_ca_bundle")
                .as_str()
                .filter(|p| !p.is_empty())
                .map(std::path::PathBuf::from),
        };
        withhold_credentials(&cfg);
        // NO_PROXY entries the SDK cannot match (Go's `*.corp` or `host:443`, which Terraform
        // itself honours), empty FIPS / dual-stack switches and an empty HTTPS_PROXY (or other
        // proxy variable) hiding its lower-case spelling are a warning: refusing to start
        // over a variable shared with other tools (or exported empty by a CI system) would be
        // worse. `connect` refuses the rest.
        for p in offstate_common::store::aws::environment_problems(cfg.use_fips.is_some(), |n| {
            std::env::var(n).ok()
        })
        .into_iter()
        .filter(|p| p.warning)
        {
            diags.push(Diagnostic::warning(
                format!("Environment variable {} not fully used", p.variable),
                format!("{p}."),
            ));
        }
        // Without a region in the configuration, the environment or the profile, aws-config asks
        // the EC2 instance metadata service (IMDS), whose answer may never come (a metadata
        // endpoint that holds the call, a firewall dropping packets): StopProvider ends the
        // wait, as it ends the store's calls.
        let connected = {
            let mut stopped = self.handle.stop.subscribe();
            tokio::select! {
                biased;
                connected = AwsSecretsManager::connect(&cfg) => connected,
                Ok(_) = stopped.wait_for(|s| *s) => {
                    diags.error(
                        "Provider stopped",
                        "Terraform stopped the provider (interrupted) while it was being configured (the AWS region \
                         was being looked up: the profile, the EC2 instance metadata service). Nothing was read or written.",
                    );
                    return diags;
                }
            }
        };
        match connected {
            Ok(store) => {
                // StopProvider ends every call in flight (`Stoppable`) and the SDK's retries.
                let mut stopped = self.handle.stop.subscribe();
                let stoppable = store.clone();
                tokio::spawn(async move {
                    if stopped.wait_for(|s| *s).await.is_ok() {
                        stoppable.stop_retries();
                    }
                });
                let checked = match check_account(&store, c, &self.handle.stop.subscribe()).await {
                    Ok(checked) => checked,
                    Err(d) => {
                        diags.push(d);
                        return diags;
                    }
                };
                let role_account = cfg
                    .assume_role
                    .as_ref()
                    .and_then(|r| role_account(&r.role_arn));
                self.handle
                    .set_account(match checked.as_deref().or(role_account) {
                        Some(id) => Account::known(id),
                        None => {
                            let (sts, stop) = (store.clone(), self.handle.stop.subscribe());
                            Account::asking(move || {
                                let (sts, stop) = (sts.clone(), stop.clone());
                                Box::pin(async move {
                                    tracing::debug!("asking STS GetCallerIdentity for the account");
                                    until_stopped(&stop, false, sts.account_id()).await
                                })
                            })
                        }
                    });
                let ignore_tags = IgnoreTags::from_config(c.get("ignore_tags"));
                let store = Stoppable::wrap(Arc::new(store), self.handle.stop.subscribe());
                let configured = Configured {
                    store: TagFilteredStore::wrap(store, ignore_tags.clone()),
                    default_tags: c.get("default_tags").as_string_map().unwrap_or_default(),
                    ignore_tags,
                };
                if self.handle.configured.set(configured).is_err() {
                    tracing::debug!("provider configured twice; keeping the first configuration");
                }
            }
            Err(ConnectError::Environment(problems)) => {
                // One error per variable, naming it and what it accepts; a proxy URL is never
                // shown (it may hold a password).
                for p in problems {
                    diags.push(Diagnostic::error(
                        format!("Invalid environment variable {}", p.variable),
                        format!("{p}."),
                    ));
                }
            }
            Err(ConnectError::Profile(problems)) => {
                // A FIPS / dual-stack switch of the selected profile that the SDK would drop,
                // refused as the environment variable is; its value is not shown.
                for p in problems {
                    diags.push(Diagnostic::error(
                        format!("Invalid shared config setting {}", p.setting),
                        format!("{p}."),
                    ));
                }
            }
            Err(ConnectError::InvalidRoleArn) => {
                // Unknown when the configuration was validated.
                diags.attr_error(
                    AttributePath::attr("assume_role").then_attr("role_arn"),
                    "Invalid role ARN",
                    ROLE_ARN_SHAPE,
                );
            }
            Err(e) => {
                let attr = match &e {
                    ConnectError::CaBundle {
                        from_env: false, ..
                    } => Some("custom_ca_bundle"),
                    ConnectError::UndefinedProfile => Some("profile"),
                    ConnectError::ProfileFile { path, .. } => [
                        ("shared_config_files", &cfg.shared_config_files),
                        ("shared_credentials_files", &cfg.shared_credentials_files),
                    ]
                    .into_iter()
                    .find(|(_, files)| files.iter().any(|p| p.display().to_string() == *path))
                    .map(|(attr, _)| attr),
                    _ => None,
                };
                // A file named by an argument is not repeated: provider arguments take ephemeral
                // values (`custom_ca_bundle = var.db_password` by mistake names a file that does
                // not exist). Terraform shows the argument's source line.
                let detail = match (&e, attr) {
                    (ConnectError::CaBundle { reason, .. }, Some(attr)) => {
                        format!("The CA bundle file {attr} names: {reason}.")
                    }
                    (ConnectError::ProfileFile { reason, .. }, Some(attr)) => {
                        format!("A file {attr} names: {reason}.")
                    }
                    _ => format!("{e}."),
                };
                let d = Diagnostic::error("Cannot configure Secrets Manager client", detail);
                diags.push(match attr {
                    Some(attr) => d.at(AttributePath::attr(attr)),
                    None => d,
                });
            }
        }
        diags
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(SecretResource::new(self.handle.clone())),
            Arc::new(crate::rotation::RotationResource::new(self.handle.clone())),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![
            Arc::new(SecretData::new(self.handle.clone())),
            Arc::new(SecretsData::new(self.handle.clone())),
        ]
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        vec![
            Arc::new(SecretValueEphemeral::new(self.handle.clone())),
            Arc::new(PasswordEphemeral),
        ]
    }

    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        vec![Arc::new(SecretList::new(self.handle.clone()))]
    }

    fn actions(&self) -> Vec<Arc<dyn Action>> {
        vec![Arc::new(SecretRotateAction::new(self.handle.clone()))]
    }

    /// Ends `Handle::pause`, the store's calls in flight (`Stoppable`, which `configure` wraps
    /// around it; STS's and the region lookup (IMDS) at configure too) and, through the watcher
    /// `configure` starts, its retries.
    fn stop(&self) {
        self.handle.stop.send_replace(true);
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![Arc::new(RefFunction)]
    }
}

/// The credentials this process can see, registered with `offstate_framework::withheld` so
/// that no log line or diagnostic carries them, whoever wrote it: the secret key and session
/// token in the environment, `assume_role.external_id`, the credentials the SDK reads from files
/// (`offstate_common::store::credential_files`: shared config and credentials files, web identity
/// and container token files, SSO and `aws login` caches), and a proxy URL's password. A server or
/// proxy that reflects the request in its error text (the `X-Amz-Security-Token` header, STS's
/// form body with `ExternalId`) would otherwise put them in the error the user sees, and the
/// SDK's own warning ("STS refused to grant assume role") in the log.
fn withhold_credentials(cfg: &AwsStoreConfig) {
    // The environment's keys and proxy passwords, `assume_role.external_id` and the credentials
    // the SDK reads from files (some sent only in a request body, where no header observer sees
    // them).
    offstate_common::store::credential_files::withhold(
        &cfg.shared_config_files,
        &cfg.shared_credentials_files,
        cfg.assume_role
            .as_ref()
            .and_then(|r| r.external_id.as_deref()),
    );
    // An `endpoint` written with a password (`https://user:pw@host/`), which a connect error
    // quotes.
    if let Some(endpoint) = &cfg.endpoint {
        offstate_common::store::credential_files::withhold_url_credentials(endpoint);
    }
}

/// File paths from a list of strings, a leading `~/` taken as `$HOME/`, as hashicorp/aws does.
fn paths(v: &Value) -> Vec<std::path::PathBuf> {
    known_strings(v)
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
            (Some(rest), Some(home)) => std::path::Path::new(&home).join(rest),
            _ => std::path::PathBuf::from(p),
        })
        .collect()
}

/// The known strings of a list or set.
fn known_strings(v: &Value) -> Vec<String> {
    v.elements()
        .iter()
        .filter_map(|e| e.as_str().map(str::to_string))
        .collect()
}

const ROLE_ARN_SHAPE: &str = "role_arn must be an IAM role ARN, arn:PARTITION:iam::ACCOUNT:role/NAME (or role/PATH/NAME), with a 12-digit account ID.";

/// AssumeRole's DurationSeconds range, 15 minutes to 12 hours, in nanoseconds.
const MIN_SESSION_NANOS: i128 = 900 * 1_000_000_000;
const MAX_SESSION_NANOS: i128 = 43_200 * 1_000_000_000;

/// The session duration `assume_role` gives (`duration`, else `duration_seconds`; validate
/// refuses both), in whole seconds as STS takes it (hashicorp/aws truncates the same way).
fn session_duration(ar: &Value) -> Option<std::time::Duration> {
    if let Some(text) = ar.get("duration").as_str() {
        let nanos = go_duration_nanos(text)?.max(0);
        return Some(std::time::Duration::from_secs(
            (nanos / 1_000_000_000) as u64,
        ));
    }
    ar.get("duration_seconds")
        .as_i64()
        .map(|s| std::time::Duration::from_secs(s.max(0) as u64))
}

/// A duration string as Go's `time.ParseDuration` reads it (what hashicorp/aws's
/// `assume_role.duration` takes), in nanoseconds: an optional sign, then one or more decimal
/// numbers (a fraction allowed: `1.5h`), each followed by a unit, `h`, `m`, `s`, `ms`, `us`
/// (`µs`, `μs`) or `ns` (`1h30m`); `0` alone is zero. Anything else, or more than about 292
/// years (Go's limit), is `None`.
fn go_duration_nanos(text: &str) -> Option<i128> {
    const LIMIT: i128 = i64::MAX as i128;
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let whole_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (whole, after) = rest.split_at(whole_len);
        let (fraction, after) = match after.strip_prefix('.') {
            Some(a) => {
                let n = a.bytes().take_while(u8::is_ascii_digit).count();
                a.split_at(n)
            }
            None => ("", after),
        };
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let unit_len = after
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(after.len(), |(i, _)| i);
        let (unit, after) = after.split_at(unit_len);
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3_600 * 1_000_000_000,
            _ => return None,
        };
        // Digits past what fits are refused, as Go refuses an overflow.
        let mut value: i128 = 0;
        for d in whole.bytes() {
            value = value * 10 + i128::from(d - b'0');
            if value > LIMIT {
                return None;
            }
        }
        let mut part = value * scale;
        let mut unit_of_digit = scale;
        for d in fraction.bytes() {
            unit_of_digit /= 10;
            part += i128::from(d - b'0') * unit_of_digit;
        }
        total += part;
        if total > LIMIT {
            return None;
        }
        rest = after;
    }
    Some(if negative { -total } else { total })
}

/// AssumeRole's limits (the STS API reference): session tags, managed session policies, and the
/// inline session policy's length.
const MAX_SESSION_TAGS: usize = 50;
const MAX_TAG_KEY_CHARS: usize = 128;
const MAX_TAG_VALUE_CHARS: usize = 256;
const MAX_POLICY_ARNS: usize = 10;
const MAX_POLICY_CHARS: usize = 2048;

/// A character STS takes in a session tag's key or value: letters, numbers, separators (spaces)
/// and `_.:/=+-@` (`[\p{L}\p{Z}\p{N}_.:/=+\-@]`). Unicode's White_Space less its control
/// characters is exactly \p{Z}: a tab or a line break is white space but not \p{Z}, and STS
/// refuses it. A mark (\p{M}) is no letter: a combining accent (`x` then U+0301; Terraform
/// composes a string, so `e` then U+0301 arrives as `é`) or a vowel sign (U+093E) is refused,
/// which `char::is_alphanumeric` took for some (U+0345, U+093E, and the circled letters,
/// \p{So}): see `session_tag_chars`.
fn tag_char(c: char) -> bool {
    crate::session_tag_chars::is_letter_or_number(c)
        || (c.is_whitespace() && !c.is_control())
        || "_.:/=+-@".contains(c)
}

/// `assume_role.tags`: at most 50, keys of 1 to 128 and values of up to 256 of the characters
/// STS takes. The messages count and never quote (provider arguments take ephemeral values).
fn validate_session_tags(tags: &Value, diags: &mut Diagnostics) {
    let Value::Map(tags) = tags else { return };
    let at = AttributePath::attr("assume_role").then_attr("tags");
    if tags.len() > MAX_SESSION_TAGS {
        diags.attr_error(
            at.clone(),
            "Too many session tags",
            format!(
                "AssumeRole takes at most {MAX_SESSION_TAGS} session tags; tags has {}.",
                tags.len()
            ),
        );
    }
    let bad_keys = tags
        .keys()
        .filter(|k| {
            !(1..=MAX_TAG_KEY_CHARS).contains(&k.chars().count()) || !k.chars().all(tag_char)
        })
        .count();
    let bad_values = tags
        .values()
        .filter_map(Value::as_str)
        .filter(|v| v.chars().count() > MAX_TAG_VALUE_CHARS || !v.chars().all(tag_char))
        .count();
    if bad_keys + bad_values > 0 {
        diags.attr_error(
            at,
            "Invalid session tag",
            format!(
                "{bad_keys} key(s) and {bad_values} value(s) of tags are not what STS takes: a key is 1 to \
                 {MAX_TAG_KEY_CHARS} characters, a value at most {MAX_TAG_VALUE_CHARS}, of letters, digits, \
                 spaces and _.:/=+-@."
            ),
        );
    }
}

/// `allowed_account_ids` and `forbidden_account_ids`: 12-digit ids, not both.
fn validate_account_ids(config: &Value, diags: &mut Diagnostics) {
    let mut set = Vec::new();
    for name in ["allowed_account_ids", "forbidden_account_ids"] {
        let ids = config.get(name);
        for id in known_strings(ids) {
            if !(id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())) {
                // Not repeated: provider arguments take ephemeral values.
                diags.attr_error(
                    AttributePath::attr(name),
                    "Invalid AWS account ID",
                    format!("An element of {name} is not an AWS account ID (12 digits)."),
                );
            }
        }
        if matches!(ids, Value::Unknown) || !ids.elements().is_empty() {
            set.push(name);
        }
    }
    if set.len() == 2 {
        for name in set {
            diags.attr_error(
                AttributePath::attr(name),
                "Conflicting account ID lists",
                "Set allowed_account_ids or forbidden_account_ids, not both.",
            );
        }
    }
}

/// With `allowed_account_ids` or `forbidden_account_ids` set: the account the store's credentials
/// act in, checked before any Secrets Manager call. The error is on the list that refused it.
/// `Some(account)` when the lists made it ask STS.
async fn check_account(
    store: &AwsSecretsManager,
    config: &Value,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Result<Option<String>, Diagnostic> {
    let allowed = known_strings(config.get("allowed_account_ids"));
    let forbidden = known_strings(config.get("forbidden_account_ids"));
    let list = if !allowed.is_empty() {
        "allowed_account_ids"
    } else if !forbidden.is_empty() {
        "forbidden_account_ids"
    } else {
        return Ok(None);
    };
    // STS (AssumeRole first, with assume_role) may stall: StopProvider ends the wait.
    let account = until_stopped(stop, false, store.account_id()).await.map_err(|e| {
        Diagnostic::error(
            "Cannot check the AWS account",
            format!("{list} needs the account the credentials belong to, and sts:GetCallerIdentity failed: {e}. Nothing was read or written. (STS is reached through AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL when set; the provider's endpoint is for Secrets Manager only.)"),
        )
        .at(AttributePath::attr(list))
    })?;
    let refused = if !allowed.is_empty() {
        !allowed.contains(&account)
    } else {
        forbidden.contains(&account)
    };
    if refused {
        let why = if list == "allowed_account_ids" {
            "is not in allowed_account_ids"
        } else {
            "is in forbidden_account_ids"
        };
        return Err(Diagnostic::error(
            "AWS account not allowed",
            format!("The credentials act in AWS account {account}, which {why}. Nothing was read or written. Check the profile, the credentials in the environment and assume_role."),
        )
        .at(AttributePath::attr(list)));
    }
    tracing::debug!(account = %account, "AWS account allowed");
    Ok(Some(account))
}

/// `OFFSTATE_AWS_ATTEMPT_TIMEOUT` (seconds, > 0): the time limit of one Secrets Manager attempt,
/// else the store's default (30 s). Not a schema attribute: it is for tests that inject hung
/// connections and for networks where 30 s is wrong; a bad value is ignored with a warning.
fn attempt_timeout_from_env() -> Option<std::time::Duration> {
    let raw = std::env::var("OFFSTATE_AWS_ATTEMPT_TIMEOUT").ok()?;
    match raw.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => {
            Some(std::time::Duration::from_secs_f64(s))
        }
        _ => {
            tracing::warn!("OFFSTATE_AWS_ATTEMPT_TIMEOUT is not a number of seconds in (0, 3600]; using the default");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `assume_role.duration` reads as Go's `time.ParseDuration` does, and a session is 15m to
    /// 12h: a bad string or one out of range is an error on `duration`, and `duration` with
    /// `duration_seconds` is refused on `duration`.
    #[tokio::test]
    async fn a_session_duration_string_is_read_as_go_reads_it() {
        let s = |n: i128| Some(n * 1_000_000_000);
        for (text, want) in [
            ("1h", s(3600)),
            ("15m", s(900)),
            ("900s", s(900)),
            ("1h30m", s(5400)),
            ("1.5h", s(5400)),
            ("12h", s(43_200)),
            ("+20m", s(1200)),
            ("-1h", s(-3600)),
            ("0", Some(0)),
            ("1h1h", s(7200)),
            ("900000ms", s(900)),
            ("1us", Some(1_000)),
            ("1\u{b5}s", Some(1_000)),
            (".5s", Some(500_000_000)),
            ("1.s", s(1)),
            ("", None),
            ("3600", None),
            ("1 h", None),
            ("1hour", None),
            ("h", None),
            (".s", None),
            ("1.5.2s", None),
            ("-", None),
            ("1d", None),
            ("99999999999999999999h", None),
        ] {
            assert_eq!(go_duration_nanos(text), want, "{text:?}");
        }
        let role = |pairs: &[(&str, Value)]| {
            let mut ar = Value::object([(
                "role_arn",
                Value::string("arn:aws:iam::123456789012:role/ci"),
            )]);
            for (k, v) in pairs {
                ar.set(k, v.clone());
            }
            Value::object([("assume_role", ar)])
        };
        let provider = OffstateProvider::default();
        let errors = |config: Value| {
            let provider = &provider;
            async move {
                let d = offstate_framework::Provider::validate_config(provider, &config).await;
                d.iter()
                    .filter(|d| d.is_error())
                    .map(|d| (d.attribute.clone(), d.summary.clone()))
                    .collect::<Vec<_>>()
            }
        };
        let at = Some(AttributePath::attr("assume_role").then_attr("duration"));
        for bad in ["1 hour", "14m59s", "12h0m1s", "-1h", "3600"] {
            assert_eq!(
                errors(role(&[("duration", Value::string(bad))])).await,
                [(at.clone(), "Invalid session duration".to_string())],
                "{bad}"
            );
        }
        for fine in ["15m", "1h", "900s", "12h", "2h30m"] {
            assert_eq!(
                errors(role(&[("duration", Value::string(fine))])).await,
                [],
                "{fine}"
            );
        }
        let both = role(&[
            ("duration", Value::string("1h")),
            (
                "duration_seconds",
                Value::Number(offstate_framework::value::Number::Int(3600)),
            ),
        ]);
        assert_eq!(
            errors(both).await,
            [(
                at.clone(),
                "Conflicting configuration arguments".to_string()
            )]
        );
        let unknown = role(&[
            ("duration", Value::Unknown),
            (
                "duration_seconds",
                Value::Number(offstate_framework::value::Number::Int(3600)),
            ),
        ]);
        assert_eq!(errors(unknown).await, [], "duration may be null at plan");
        // What reaches STS: whole seconds, from either attribute.
        let ar = |pairs: &[(&str, Value)]| role(pairs).get("assume_role").clone();
        let secs = |n| Some(std::time::Duration::from_secs(n));
        assert_eq!(
            session_duration(&ar(&[("duration", Value::string("30m"))])),
            secs(1800)
        );
        assert_eq!(
            session_duration(&ar(&[("duration", Value::string("900.9s"))])),
            secs(900)
        );
        assert_eq!(
            session_duration(&ar(&[(
                "duration_seconds",
                Value::Number(offstate_framework::value::Number::Int(1800))
            )])),
            secs(1800)
        );
        assert_eq!(session_duration(&ar(&[])), None);
    }

    /// STS's tag pattern is `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: spaces of every kind (\p{Z}) are
    /// taken, a tab or a line break (white space, but \p{Cc}) is not.
    #[test]
    fn a_session_tag_takes_separators_but_no_control_character() {
        for c in [
            'a', 'É', '7', ' ', '\u{a0}', '\u{3000}', '\u{2028}', '_', '@',
        ] {
            assert!(tag_char(c), "{c:?}");
        }
        for c in ['\t', '\n', '\r', '\u{85}', '#', '*'] {
            assert!(!tag_char(c), "{c:?}");
        }
        // \p{L} is no mark: a combining accent, a combining Greek iota (alphanumeric to Rust),
        // a Devanagari vowel sign (the same), a circled letter (\p{So}, the same).
        for c in ['\u{301}', '\u{345}', '\u{93e}', '\u{24b6}'] {
            assert!(!tag_char(c), "{c:?}");
        }
        // An accented letter as one code point, and letters of other scripts, are letters.
        for c in ['é', 'न', 'ж', '中'] {
            assert!(tag_char(c), "{c:?}");
        }
        for value in ["e\u{301}", "\u{928}\u{93e}"] {
            let mut d = Diagnostics::new();
            let tags = Value::Map(BTreeMap::from([("team".to_string(), Value::string(value))]));
            validate_session_tags(&tags, &mut d);
            assert_eq!(d.iter().filter(|d| d.is_error()).count(), 1, "{d:?}");
        }
        let mut d = Diagnostics::new();
        let tags = Value::Map(BTreeMap::from([(
            "team".to_string(),
            Value::string("pay\tments"),
        )]));
        validate_session_tags(&tags, &mut d);
        assert_eq!(d.iter().filter(|d| d.is_error()).count(), 1, "{d:?}");
    }
}
