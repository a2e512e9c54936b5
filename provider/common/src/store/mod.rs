//! [`SecretStore`]: Secrets Manager in domain words, shared by the provider and the scrubber.
//!
//! Two implementations: [`aws::AwsSecretsManager`] (the only code that touches the AWS SDK) and
//! [`memory::MemoryStore`] (an in-process fake with the same semantics, for unit tests).
//! Beside them, [`credential_files`]: the credentials the SDK reads from files, registered to be
//! withheld by both programs before any AWS call.
//!
//! Every `secret_id` argument is a secret name or ARN, as Secrets Manager accepts.
//! Values go in and out only as [`SecretValue`]; no type here prints one.

use std::collections::BTreeMap;
use std::time::SystemTime;

use async_trait::async_trait;
use thiserror::Error;

use crate::SecretValue;

pub mod aws;
pub mod credential_files;
mod delegate;
pub mod memory;
pub mod stoppable;

/// The staging label of the current version.
pub const AWSCURRENT: &str = "AWSCURRENT";
/// The staging label Secrets Manager moves to the version that was current before a put.
pub const AWSPREVIOUS: &str = "AWSPREVIOUS";
/// The staging label of a version being rotated in.
pub const AWSPENDING: &str = "AWSPENDING";

/// Secrets Manager operations offstate needs. Implementations are cheap to share (`Arc<dyn
/// SecretStore>`), and every method is one API call or a paginated series of them.
///
/// A new call is declared without a default body: the wrappers written by
/// [`secret_store_through!`](crate::secret_store_through) (the stop, state-scrubber's pacing)
/// then fail to compile until the macro routes it. With a default body they would compile and
/// run the default, not the wrapped store's own implementation of it.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The region this store acts in, when it knows it. A replica can be judged against it at
    /// plan time: Secrets Manager refuses one in the secret's own region only once the secret
    /// exists.
    fn region(&self) -> Option<&str> {
        None
    }

    /// CreateSecret. With a `value`, the first version is created and carries `AWSCURRENT`.
    /// A name that is scheduled for deletion fails with [`StoreError::ScheduledForDeletion`].
    async fn create(&self, request: CreateSecret) -> Result<SecretMeta, StoreError>;

    /// DescribeSecret. `Ok(None)` when the secret does not exist; a secret scheduled for
    /// deletion is returned, with [`SecretMeta::deleted_date`] set. Reads no value.
    async fn describe(&self, secret_id: &str) -> Result<Option<SecretMeta>, StoreError>;

    /// ListSecretVersionIds (all pages, deprecated versions excluded). Reads no value.
    async fn list_versions(&self, secret_id: &str) -> Result<Vec<VersionInfo>, StoreError>;

    /// PutSecretValue: a new version takes `AWSCURRENT`; the old current one gets `AWSPREVIOUS`.
    /// Returns the new version's id. Repeating a call with the same token and the same value
    /// returns the same version and changes nothing; the same token with a different value fails
    /// with [`StoreError::AlreadyExists`].
    async fn put_value(&self, request: PutValue) -> Result<String, StoreError>;

    /// GetSecretValue for one version.
    async fn get_value(
        &self,
        secret_id: &str,
        version: VersionSelector,
    ) -> Result<FetchedValue, StoreError>;

    /// UpdateSecret without a value: description and/or KMS key. `None` fields stay as they are.
    async fn update_metadata(
        &self,
        secret_id: &str,
        update: MetadataUpdate,
    ) -> Result<(), StoreError>;

    /// TagResource: adds or overwrites these tags.
    async fn tag(&self, secret_id: &str, tags: &BTreeMap<String, String>)
        -> Result<(), StoreError>;

    /// UntagResource: removes these tag keys.
    async fn untag(&self, secret_id: &str, keys: &[String]) -> Result<(), StoreError>;

    /// DeleteSecret, either scheduled after a recovery window or immediate.
    async fn delete(&self, secret_id: &str, deletion: Deletion) -> Result<(), StoreError>;

    /// RestoreSecret: cancels a scheduled deletion.
    async fn restore(&self, secret_id: &str) -> Result<(), StoreError>;

    /// ListSecrets (all pages) matching every set field of `filter`.
    async fn list(&self, filter: &ListFilter) -> Result<Vec<SecretMeta>, StoreError>;

    /// RotateSecret: sets the rotation configuration (Lambda and/or schedule) and, with
    /// [`RotateRequest::rotate_immediately`], starts a rotation now (without it, Secrets Manager
    /// runs only the Lambda's `testSecret` step). Returns the id of the version the rotation
    /// creates, when the service reports one. Never carries a value.
    async fn rotate(
        &self,
        secret_id: &str,
        request: RotateRequest,
    ) -> Result<Option<String>, StoreError>;

    /// CancelRotateSecret: turns automatic rotation off (the Lambda and rules stay recorded).
    async fn cancel_rotation(&self, secret_id: &str) -> Result<(), StoreError>;

    /// PutResourcePolicy: attaches `policy` (a JSON document). With `block_public_policy`,
    /// Secrets Manager refuses a policy that grants broad access.
    async fn put_policy(
        &self,
        secret_id: &str,
        policy: &str,
        block_public_policy: bool,
    ) -> Result<(), StoreError>;

    /// GetResourcePolicy: the attached policy, `None` when there is none.
    async fn get_policy(&self, secret_id: &str) -> Result<Option<String>, StoreError>;

    /// DeleteResourcePolicy.
    async fn delete_policy(&self, secret_id: &str) -> Result<(), StoreError>;

    /// ValidateResourcePolicy: what the service finds wrong with `policy` (empty when it passes).
    /// `secret_id` lets it check the policy against that secret. Endpoints without the
    /// operation answer an error (moto, for one); callers decide whether that is fatal.
    async fn validate_policy(
        &self,
        secret_id: Option<&str>,
        policy: &str,
    ) -> Result<Vec<PolicyValidationError>, StoreError>;

    /// ReplicateSecretToRegions: adds replicas. `force_overwrite` replaces a secret of the same
    /// name in a replica region. Returns the replication status after the call.
    async fn replicate(
        &self,
        secret_id: &str,
        replicas: &[Replica],
        force_overwrite: bool,
    ) -> Result<Vec<ReplicaStatus>, StoreError>;

    /// RemoveRegionsFromReplication: deletes the replicas in `regions`. Returns the replication
    /// status after the call.
    async fn remove_replica_regions(
        &self,
        secret_id: &str,
        regions: &[String],
    ) -> Result<Vec<ReplicaStatus>, StoreError>;
}

/// Input of [`SecretStore::rotate`]. `RotationRules` carries either `automatically_after_days`
/// or `schedule_expression` (AWS refuses both), and optionally `duration`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotateRequest {
    /// ARN of the rotation Lambda; `None` for secrets whose rotation a service manages.
    pub lambda_arn: Option<String>,
    /// Rotate every this many days (1 to 1000).
    pub automatically_after_days: Option<i64>,
    /// `cron(...)` or `rate(...)`.
    pub schedule_expression: Option<String>,
    /// Length of the rotation window, like `3h`.
    pub duration: Option<String>,
    /// Start a rotation now (AWS's default); `false` only tests the Lambda.
    pub rotate_immediately: bool,
    /// Idempotency token of the rotation's new version (32 to 64 characters).
    pub client_request_token: Option<String>,
}

/// One finding of [`SecretStore::validate_policy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyValidationError {
    /// The check that failed (`BlockPublicPolicy`, `ValidatePolicy`, ...).
    pub check_name: String,
    /// What is wrong.
    pub message: String,
}

/// A replica to create: a region and, optionally, the KMS key to encrypt it there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replica {
    /// Region of the replica.
    pub region: String,
    /// KMS key in that region; `None` for the AWS managed key.
    pub kms_key_id: Option<String>,
}

/// The state of one replica, from DescribeSecret's `ReplicationStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplicaStatus {
    /// Region of the replica.
    pub region: String,
    /// KMS key of the replica, as AWS reports it.
    pub kms_key_id: Option<String>,
    /// `InSync`, `InProgress` or `Failed`.
    pub status: Option<String>,
    /// Why, when the status is `Failed`.
    pub status_message: Option<String>,
    /// Last time the replica was read.
    pub last_accessed_date: Option<SystemTime>,
}

impl ReplicaStatus {
    /// A status with the given fields (the struct is non-exhaustive, so other crates build it
    /// here).
    pub fn new(
        region: impl Into<String>,
        kms_key_id: Option<String>,
        status: Option<String>,
    ) -> Self {
        ReplicaStatus {
            region: region.into(),
            kms_key_id,
            status,
            ..Default::default()
        }
    }
}

/// Input of [`SecretStore::create`]. Build it with struct syntax and `..Default::default()` so
/// that new fields do not break callers.
#[derive(Debug, Clone, Default)]
pub struct CreateSecret {
    /// Secret name (see [`crate::name::validate_name`]).
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// KMS key id, ARN or alias; `None` means the AWS managed key `aws/secretsmanager`.
    pub kms_key_id: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// First value; `None` creates a secret with no version.
    pub value: Option<SecretValue>,
    /// Send `value` as `SecretBinary` instead of `SecretString` (a string value must be UTF-8).
    pub binary: bool,
    /// Idempotency token (32 to 64 characters); it becomes the first version's id. `None` lets
    /// the SDK make one. Never derive it from the value: version ids are not secret and end up in
    /// state.
    pub client_request_token: Option<String>,
}

/// Input of [`SecretStore::put_value`].
#[derive(Debug, Clone, Default)]
pub struct PutValue {
    /// Secret name or ARN.
    pub secret_id: String,
    /// The new value.
    pub value: SecretValue,
    /// Send as `SecretBinary` instead of `SecretString`.
    pub binary: bool,
    /// Idempotency token; it becomes the version id. Same caution as
    /// [`CreateSecret::client_request_token`].
    pub client_request_token: Option<String>,
}

/// Input of [`SecretStore::update_metadata`]. `None` leaves a field unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataUpdate {
    /// New description (`Some("")` clears it).
    pub description: Option<String>,
    /// New KMS key; it applies to versions written from now on.
    pub kms_key_id: Option<String>,
}

/// How to delete a secret. (AWS rejects a recovery window together with force-delete, so the
/// two are one enum.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// Schedule the deletion after this many days (7 to 30); `RestoreSecret` works until then.
    RecoveryWindow(i64),
    /// `ForceDeleteWithoutRecovery`: delete now, no restore.
    Immediate,
}

impl Deletion {
    /// The deletion the provider's `recovery_window_in_days` asks for: `0` is immediate, any
    /// other number a recovery window.
    pub fn from_recovery_window_days(days: i64) -> Self {
        if days == 0 {
            Deletion::Immediate
        } else {
            Deletion::RecoveryWindow(days)
        }
    }
}

/// Which version [`SecretStore::get_value`] reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum VersionSelector {
    /// The version with `AWSCURRENT`.
    #[default]
    Current,
    /// The version with this staging label.
    Stage(String),
    /// This version id.
    Id(String),
}

/// Filter of [`SecretStore::list`]. Fields are ANDed; string fields are prefix matches, as
/// ListSecrets' filters are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Name prefix.
    pub name_prefix: Option<String>,
    /// Some tag key starts with this.
    pub tag_key: Option<String>,
    /// Some tag value starts with this.
    pub tag_value: Option<String>,
    /// Include secrets scheduled for deletion.
    pub include_planned_deletion: bool,
    /// Only the first this many secrets in name order (ListSecrets `SortBy=name`), read from as
    /// few pages as that takes; `None` reads every page, in the order Secrets Manager lists them.
    pub limit: Option<usize>,
}

/// What Secrets Manager says about a secret, without its value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecretMeta {
    /// ARN (the provider's `id`).
    pub arn: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// KMS key, as AWS reports it (`None` for the AWS managed key).
    pub kms_key_id: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// When set, the secret is scheduled for deletion (this is when it was deleted, the end of
    /// the recovery window comes later).
    pub deleted_date: Option<SystemTime>,
    /// The version carrying `AWSCURRENT`, from `VersionIdsToStages`; `None` for a secret with no
    /// value yet.
    pub current_version_id: Option<String>,
    /// Every version that has a staging label, and its labels.
    pub version_stages: BTreeMap<String, Vec<String>>,
    /// Rotation settings.
    pub rotation: Rotation,
    /// Creation time.
    pub created_date: Option<SystemTime>,
    /// Last change of the secret or its value.
    pub last_changed_date: Option<SystemTime>,
    /// Replicas and their status (DescribeSecret only; empty in ListSecrets results and for a
    /// secret without replicas).
    pub replicas: Vec<ReplicaStatus>,
}

impl SecretMeta {
    /// Whether the secret is scheduled for deletion.
    pub fn is_scheduled_for_deletion(&self) -> bool {
        self.deleted_date.is_some()
    }

    /// Finds the version that carries `AWSCURRENT` in a `VersionIdsToStages`-like map.
    pub(crate) fn current_of(version_stages: &BTreeMap<String, Vec<String>>) -> Option<String> {
        version_stages
            .iter()
            .find(|(_, stages)| stages.iter().any(|s| s == AWSCURRENT))
            .map(|(id, _)| id.clone())
    }
}

/// Rotation settings of a secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rotation {
    /// Whether rotation is on.
    pub enabled: bool,
    /// The rotation Lambda.
    pub lambda_arn: Option<String>,
    /// `RotationRules.AutomaticallyAfterDays`.
    pub automatically_after_days: Option<i64>,
    /// `RotationRules.Duration`.
    pub duration: Option<String>,
    /// `RotationRules.ScheduleExpression`.
    pub schedule_expression: Option<String>,
}

/// One version of a secret (from ListSecretVersionIds).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionInfo {
    /// Version id.
    pub version_id: String,
    /// Staging labels.
    pub stages: Vec<String>,
    /// Creation time.
    pub created_date: Option<SystemTime>,
}

/// A value read by [`SecretStore::get_value`]. Its `Debug` masks the value.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FetchedValue {
    /// ARN of the secret.
    pub arn: String,
    /// Name of the secret.
    pub name: String,
    /// The version read.
    pub version_id: String,
    /// Its staging labels.
    pub stages: Vec<String>,
    /// The value.
    pub value: SecretValue,
    /// Whether it was stored as `SecretBinary`.
    pub binary: bool,
}

/// A failed store call: the AWS error code and message, classified. No variant ever holds a
/// secret value: the AWS store withholds a service message that contains the value it sent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// `ResourceNotFoundException`: no such secret (or version).
    #[error("{code}: {message}")]
    NotFound {
        /// AWS error code.
        code: String,
        /// AWS message.
        message: String,
    },
    /// `ResourceExistsException`: the name is taken, or an idempotency token was reused with
    /// a different value.
    #[error("{code}: {message}")]
    AlreadyExists {
        /// AWS error code.
        code: String,
        /// AWS message.
        message: String,
    },
    /// `InvalidRequestException` about deletion: the secret is scheduled for deletion (restore it
    /// or wait), or a create used the name of such a secret.
    #[error("{code}: {message}")]
    ScheduledForDeletion {
        /// AWS error code.
        code: String,
        /// AWS message.
        message: String,
    },
    /// `InvalidParameterException`, `ValidationException` or another `InvalidRequestException`.
    #[error("{code}: {message}")]
    InvalidParameter {
        /// AWS error code.
        code: String,
        /// AWS message.
        message: String,
    },
    /// Access denied or bad credentials.
    #[error("{code}: {message}")]
    AccessDenied {
        /// AWS error code.
        code: String,
        /// AWS message.
        message: String,
        /// Set when STS `AssumeRole`, called while the credentials were loaded, answered this
        /// and the store's own call was never made ([`StoreError::assume_role_refused`]): what
        /// it answered, without who called it, which each tool names in its own words
        /// ([`StoreError::message_naming`]); `message` names it in the provider's.
        assume_role: Option<String>,
    },
    /// Throttled, after the SDK's retries.
    #[error("{code}: {message}")]
    Throttled {
        /// AWS error code.
        code: String,
        /// AWS message.
        message: String,
    },
    /// Anything else, including transport failures (code `DispatchFailure`, `TimeoutError`, ...).
    #[error("{code}: {message}")]
    Other {
        /// AWS error code, or a name for a failure before or outside the service.
        code: String,
        /// Message.
        message: String,
    },
}

/// A fault of the credentials (or of where they are sent) behind an [`StoreError::AccessDenied`]:
/// no permission to grant, each has its own fix ([`StoreError::credentials_fault`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialsFault {
    /// `RequestTimeTooSkewed`, `RequestExpired`, or a signature "expired" / "not yet current":
    /// this computer's clock is more than 5 minutes off.
    ClockSkew,
    /// `ExpiredTokenException` / `ExpiredToken`: the session token has expired.
    SessionExpired,
    /// `UnrecognizedClientException` / `InvalidClientTokenId` ("The security token included in
    /// the request is invalid"): an opt-in region not enabled, a global-endpoint session token
    /// there, or a key id mistyped, deleted or of another partition.
    NotRecognised,
    /// `InvalidSignatureException` / `SignatureDoesNotMatch`: the secret access key is wrong.
    SignatureMismatch,
    /// `IncompleteSignature`: the Authorization header was cut or broken on its way.
    IncompleteSignature,
    /// `MissingAuthenticationToken`: the request was not signed.
    Unsigned,
    /// `MissingAuthenticationTokenException` ("Missing Authentication Token"): what AWS's front
    /// door answers for a URL with no API behind it, signed or not: an endpoint URL with a path,
    /// or one of another service.
    NoSuchApi,
    /// `MissingAuthenticationTokenException` answered to STS `AssumeRole` (the provider's
    /// `assume_role`, a profile's `role_arn`): the STS endpoint is such a URL, and the Secrets
    /// Manager endpoint settings have nothing to do with it.
    StsNoSuchApi,
}

/// How the message of an STS `AssumeRole` refusal starts ([`StoreError::assume_role_refused`]):
/// then who called it, then `) `, then what STS answered.
pub const STS_ASSUME_ROLE: &str = "STS AssumeRole (";

/// Who called STS `AssumeRole`, in the provider's words, not knowing which (the SDK does not
/// say): the provider's `assume_role` or a profile's `role_arn` (aws-config's profile chain uses
/// the same STS client crate). state-scrubber has no `assume_role` and names its own
/// ([`StoreError::message_naming`]).
pub const ASSUME_ROLE_CALLERS: &str = "of the provider's assume_role or the profile's role_arn";

// The first sentence(s) of an advice, shared by the provider's words and state-scrubber's
// (`concat!` takes literals only, hence macros).
macro_rules! clock_skew {
    () => {
        "This computer's clock differs from AWS's by more than 5 minutes, and AWS refuses requests signed that far off."
    };
}
macro_rules! session_expired {
    () => {
        "The credentials' session has expired. Get new credentials (aws sso login, or run again what set \
         AWS_SESSION_TOKEN or the profile's keys)"
    };
}
macro_rules! no_such_api {
    () => {
        "AWS answered \"Missing Authentication Token\", its answer for a URL with no API behind it, so the endpoint \
         is probably wrong: the Secrets Manager endpoint URL has a path, or is another service's (an API Gateway \
         stage, another AWS service)."
    };
}

macro_rules! sts_no_such_api {
    () => {
        "STS answered AssumeRole \"Missing Authentication Token\", AWS's answer for a URL with no API behind it, so \
         the STS endpoint is probably wrong: its URL has a path, or is another service's (an API Gateway stage, \
         another AWS service)."
    };
}

/// Advice for a [`CredentialsFault`], the tool-neutral parts: the provider
/// ([`StoreError::credentials_advice`]) and state-scrubber say the rest (what to run again,
/// where the endpoint is set) in their own terms.
pub mod advice {
    /// [`super::CredentialsFault::ClockSkew`], before what to do.
    pub const CLOCK_SKEW: &str = clock_skew!();
    /// [`super::CredentialsFault::SessionExpired`], up to "and run ... again".
    pub const SESSION_EXPIRED: &str = session_expired!();
    /// [`super::CredentialsFault::NoSuchApi`], before where the endpoint is set.
    pub const NO_SUCH_API: &str = no_such_api!();
    /// [`super::CredentialsFault::StsNoSuchApi`], before where the endpoint is set.
    pub const STS_NO_SUCH_API: &str = sts_no_such_api!();
    /// [`super::CredentialsFault::NotRecognised`], all of it.
    pub const NOT_RECOGNISED: &str = "AWS does not recognise these credentials in this region: the region is an opt-in region (af-south-1, \
         ap-east-1, eu-south-2, me-south-1, ...) not enabled for the account, or the session token came from STS's \
         global endpoint, whose tokens hold only in the regions enabled by default (get one from the region's STS \
         endpoint); or the access key id is mistyped or deleted, a session token is missing or belongs to other keys, \
         or the keys are of another partition than the region (aws-cn, aws-us-gov). Check the region, then the \
         credentials in the environment, the profile and its credentials file.";
    /// [`super::CredentialsFault::SignatureMismatch`], all of it.
    pub const SIGNATURE_MISMATCH: &str = "The request's signature does not match the access key id: the secret access key is mistyped or belongs to \
         another key. Check the credentials in the environment, the profile and its credentials file.";
    /// [`super::CredentialsFault::IncompleteSignature`], all of it.
    pub const INCOMPLETE_SIGNATURE: &str = "AWS found the request's signature incomplete or malformed, which no secret access key causes: a proxy or \
         gateway changed or cut the Authorization header, or the access key id holds a character that breaks it \
         (a space, a line break, a quote copied with it). Check the access key id in the environment, the profile \
         and its credentials file, and what stands between this computer and AWS.";
}

impl StoreError {
    /// Classifies an AWS error code (and, for `InvalidRequestException`, its message). Both store
    /// implementations build their errors here so they classify alike.
    pub fn from_code(code: impl Into<String>, message: impl Into<String>) -> Self {
        let code = code.into();
        let message = message.into();
        match code.as_str() {
            "ResourceNotFoundException" => StoreError::NotFound { code, message },
            "ResourceExistsException" => StoreError::AlreadyExists { code, message },
            "InvalidRequestException" if mentions_deletion(&message) => {
                StoreError::ScheduledForDeletion { code, message }
            }
            "InvalidRequestException"
            | "InvalidParameterException"
            | "ValidationException"
            | "MalformedPolicyDocumentException"
            | "PublicPolicyException"
            | "InvalidNextTokenException" => StoreError::InvalidParameter { code, message },
            "AccessDeniedException"
            | "AccessDenied"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch"
            | "ExpiredTokenException"
            | "ExpiredToken"
            | "MissingAuthenticationToken"
            | "MissingAuthenticationTokenException"
            | "IncompleteSignature"
            | "RequestTimeTooSkewed"
            | "RequestExpired" => StoreError::AccessDenied {
                code,
                message,
                assume_role: None,
            },
            "ThrottlingException"
            | "Throttling"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "ProvisionedThroughputExceededException" => StoreError::Throttled { code, message },
            _ => StoreError::Other { code, message },
        }
    }

    /// STS `AssumeRole`, called while the credentials were loaded (the provider's `assume_role`,
    /// a profile's `role_arn`), answered `code` and `answer` ("refused the credentials it was
    /// signed with: ...", "was answered by a URL with no STS API behind it (HTTP 403)"), so the
    /// store's call was never made. Classified by `code` as [`StoreError::from_code`] does; an
    /// [`StoreError::AccessDenied`] keeps `answer` apart from its caller
    /// ([`StoreError::message_naming`]), and its message names the caller in the provider's words
    /// ([`ASSUME_ROLE_CALLERS`]).
    pub fn assume_role_refused(code: impl Into<String>, answer: impl Into<String>) -> Self {
        let answer = answer.into();
        match StoreError::from_code(
            code,
            format!("{STS_ASSUME_ROLE}{ASSUME_ROLE_CALLERS}) {answer}"),
        ) {
            StoreError::AccessDenied { code, message, .. } => StoreError::AccessDenied {
                code,
                message,
                assume_role: Some(answer),
            },
            other => other,
        }
    }

    /// The message, with the caller of a refused STS `AssumeRole`
    /// ([`StoreError::assume_role_refused`]) named as `callers` ("of the profile's role_arn")
    /// in place of the provider's words; any other message as it is.
    pub fn message_naming(&self, callers: &str) -> std::borrow::Cow<'_, str> {
        match self {
            StoreError::AccessDenied {
                assume_role: Some(answer),
                ..
            } => format!("{STS_ASSUME_ROLE}{callers}) {answer}").into(),
            _ => self.message().into(),
        }
    }

    /// The AWS error code (or transport failure name).
    pub fn code(&self) -> &str {
        self.parts().0
    }

    /// The message.
    pub fn message(&self) -> &str {
        self.parts().1
    }

    /// Whether this is [`StoreError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    /// Whether the service (or something in front of it: a proxy, a gateway, a load balancer)
    /// asked to slow down: [`StoreError::Throttled`], another throttling code, HTTP 429 or
    /// HTTP 503 (Service Unavailable). Such a call was not carried out, so it is safe to make
    /// again after a wait. The one classification of throttling: state-scrubber's pacing and its
    /// advice read it here.
    pub fn is_slow_down(&self) -> bool {
        matches!(self, StoreError::Throttled { .. })
            || matches!(
                self.code(),
                "TooManyRequests"
                    | "TooManyRequestsException"
                    | "RequestThrottled"
                    | "RequestThrottledException"
                    | "SlowDown"
                    | "ServiceUnavailable"
                    | "ServiceUnavailableException"
                    | "HTTP429"
                    | "HTTP503"
            )
    }

    /// Which fault of the credentials (or of the endpoint they are sent to) an
    /// [`StoreError::AccessDenied`] is, told apart by code and message: expired, unknown,
    /// mistyped, missing, signed on a clock that is off, or sent to a URL that is no Secrets
    /// Manager (or, for `AssumeRole`, STS) API; `None` for a plain refusal (a permission to grant) and for any other error.
    /// The one classification both the provider ([`StoreError::credentials_advice`]) and
    /// state-scrubber word their advice from.
    pub fn credentials_fault(&self) -> Option<CredentialsFault> {
        let StoreError::AccessDenied {
            code,
            message,
            assume_role,
        } = self
        else {
            return None;
        };
        let m = message.to_ascii_lowercase();
        // AWS's words for a signature dated outside its window: "Signature expired: ... is now
        // earlier than ...", "Signature not yet current: ... is still later than ...".
        if matches!(code.as_str(), "RequestTimeTooSkewed" | "RequestExpired")
            || m.contains("signature expired")
            || m.contains("signature not yet current")
        {
            return Some(CredentialsFault::ClockSkew);
        }
        match code.as_str() {
            "ExpiredTokenException" | "ExpiredToken" => Some(CredentialsFault::SessionExpired),
            "UnrecognizedClientException" | "InvalidClientTokenId" => {
                Some(CredentialsFault::NotRecognised)
            }
            "InvalidSignatureException" | "SignatureDoesNotMatch" => {
                Some(CredentialsFault::SignatureMismatch)
            }
            "IncompleteSignature" => Some(CredentialsFault::IncompleteSignature),
            "MissingAuthenticationToken" => Some(CredentialsFault::Unsigned),
            "MissingAuthenticationTokenException" if assume_role.is_some() => {
                Some(CredentialsFault::StsNoSuchApi)
            }
            "MissingAuthenticationTokenException" => Some(CredentialsFault::NoSuchApi),
            _ => None,
        }
    }

    /// What to do when the credentials themselves are at fault ([`StoreError::credentials_fault`]),
    /// in the provider's words (run Terraform again, `assume_role`, the `endpoint` argument);
    /// `None` for a plain refusal (a permission to grant, which the caller words for its call)
    /// and for any other error. An expired session or a wrong clock is no permission to grant:
    /// "check that the credentials allow this action" sent people to their IAM policies for
    /// either.
    pub fn credentials_advice(&self) -> Option<&'static str> {
        Some(match self.credentials_fault()? {
            CredentialsFault::ClockSkew => concat!(
                clock_skew!(),
                " Set the clock right (turn on time synchronisation: NTP, chrony or systemd-timesyncd) and run Terraform again."
            ),
            CredentialsFault::SessionExpired => concat!(
                session_expired!(),
                " and run Terraform again: what this run completed is in the state, and the next apply goes on from there."
            ),
            CredentialsFault::NotRecognised => advice::NOT_RECOGNISED,
            CredentialsFault::SignatureMismatch => advice::SIGNATURE_MISMATCH,
            CredentialsFault::IncompleteSignature => advice::INCOMPLETE_SIGNATURE,
            CredentialsFault::Unsigned => {
                "The request was not signed with credentials. Check that the environment, the profile or assume_role \
                 provide them."
            }
            CredentialsFault::NoSuchApi => concat!(
                no_such_api!(),
                " Check the provider's endpoint argument, AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL: \
                 Secrets Manager's is https://secretsmanager.REGION.amazonaws.com (or a VPC endpoint's DNS name), with no path."
            ),
            CredentialsFault::StsNoSuchApi => concat!(
                sts_no_such_api!(),
                " Check AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL and the profile's endpoint_url (the provider's endpoint \
                 argument is Secrets Manager's, never STS's): STS's is https://sts.REGION.amazonaws.com (or a VPC \
                 endpoint's DNS name), with no path."
            ),
        })
    }

    /// Replaces the message when it echoes `value` ([`SecretValue::is_echoed_or_cut_in`]: the
    /// value or a piece of it, raw, JSON-escaped, base64, percent-encoded, hex..., or its first or
    /// last bytes) or is longer than
    /// [`MAX_CHECKED_MESSAGE`] (no Secrets Manager message is), and the code when it echoes
    /// `value` or is longer than [`MAX_CHECKED_CODE`] (the SDK takes it from the answer's body
    /// or headers too): defence in depth against a service, a proxy or a fake that echoes its
    /// input into its error. The kind of error is kept.
    pub fn withhold_value(self, value: &SecretValue) -> Self {
        let message = if self.message().len() > MAX_CHECKED_MESSAGE {
            Some(format!(
                "(message withheld: {} bytes, longer than any Secrets Manager message)",
                self.message().len()
            ))
        } else if value.is_echoed_or_cut_in(self.message()) {
            Some("(message withheld: it contained the secret value or a piece of it)".to_owned())
        } else {
            None
        };
        let code = (self.code().len() > MAX_CHECKED_CODE || value.is_echoed_or_cut_in(self.code()))
            .then(|| WITHHELD_CODE.to_owned());
        if message.is_none() && code.is_none() {
            return self;
        }
        let message_withheld = message.is_some();
        let code = code.unwrap_or_else(|| self.code().to_owned());
        let message = message.unwrap_or_else(|| self.message().to_owned());
        match self {
            StoreError::NotFound { .. } => StoreError::NotFound { code, message },
            StoreError::AlreadyExists { .. } => StoreError::AlreadyExists { code, message },
            StoreError::ScheduledForDeletion { .. } => {
                StoreError::ScheduledForDeletion { code, message }
            }
            StoreError::InvalidParameter { .. } => StoreError::InvalidParameter { code, message },
            StoreError::AccessDenied { assume_role, .. } => StoreError::AccessDenied {
                code,
                message,
                // What STS answered is in the message: withheld with it.
                assume_role: assume_role.filter(|_| !message_withheld),
            },
            StoreError::Throttled { .. } => StoreError::Throttled { code, message },
            StoreError::Other { .. } => StoreError::Other { code, message },
        }
    }

    fn parts(&self) -> (&str, &str) {
        match self {
            StoreError::NotFound { code, message }
            | StoreError::AlreadyExists { code, message }
            | StoreError::ScheduledForDeletion { code, message }
            | StoreError::InvalidParameter { code, message }
            | StoreError::AccessDenied { code, message, .. }
            | StoreError::Throttled { code, message }
            | StoreError::Other { code, message } => (code, message),
        }
    }
}

/// The longest service error message [`StoreError::withhold_value`] searches and keeps; Secrets
/// Manager's are a few hundred bytes.
pub const MAX_CHECKED_MESSAGE: usize = 2048;

/// The longest error code [`StoreError::withhold_value`] keeps; AWS codes are a few dozen bytes.
pub const MAX_CHECKED_CODE: usize = 128;

/// The code [`StoreError::withhold_value`] puts in place of one it withholds.
pub const WITHHELD_CODE: &str = "WithheldErrorCode";

/// AWS words an InvalidRequestException about a deleted secret in several ways: "already
/// scheduled for deletion" (CreateSecret), "marked for deletion" (PutSecretValue,
/// GetSecretValue, UpdateSecret), "currently marked deleted" (DeleteSecret).
fn mentions_deletion(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("scheduled for deletion")
        || m.contains("marked for deletion")
        || m.contains("marked deleted")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(e: &StoreError) -> &'static str {
        match e {
            StoreError::NotFound { .. } => "NotFound",
            StoreError::AlreadyExists { .. } => "AlreadyExists",
            StoreError::ScheduledForDeletion { .. } => "ScheduledForDeletion",
            StoreError::InvalidParameter { .. } => "InvalidParameter",
            StoreError::AccessDenied { .. } => "AccessDenied",
            StoreError::Throttled { .. } => "Throttled",
            StoreError::Other { .. } => "Other",
        }
    }

    #[test]
    fn classification_table() {
        let cases: &[(&str, &str, &str)] = &[
            ("ResourceNotFoundException", "Secrets Manager can't find the specified secret.", "NotFound"),
            ("ResourceExistsException", "exists", "AlreadyExists"),
            (
                "InvalidRequestException",
                "You can't create this secret because a secret with this name is already scheduled for deletion.",
                "ScheduledForDeletion",
            ),
            (
                "InvalidRequestException",
                "You can't perform this operation on the secret because it was marked for deletion.",
                "ScheduledForDeletion",
            ),
            (
                "InvalidRequestException",
                "You tried to perform the operation on a secret that's currently marked deleted.",
                "ScheduledForDeletion",
            ),
            ("InvalidRequestException", "You can't use both", "InvalidParameter"),
            ("InvalidParameterException", "bad", "InvalidParameter"),
            ("ValidationException", "bad", "InvalidParameter"),
            ("AccessDeniedException", "no", "AccessDenied"),
            ("UnrecognizedClientException", "no", "AccessDenied"),
            ("ExpiredTokenException", "no", "AccessDenied"),
            ("ThrottlingException", "slow", "Throttled"),
            ("LimitExceededException", "limit", "Other"),
            ("DispatchFailure", "io", "Other"),
        ];
        for (code, message, want) in cases {
            let e = StoreError::from_code(*code, *message);
            assert_eq!(kind(&e), *want, "{code}: {message}");
            assert_eq!(e.code(), *code);
            assert_eq!(e.message(), *message);
            assert_eq!(e.to_string(), format!("{code}: {message}"));
        }
    }

    #[test]
    fn slow_down_answers() {
        for code in [
            "ThrottlingException",
            "Throttling",
            "TooManyRequestsException",
            "TooManyRequests",
            "RequestLimitExceeded",
            "ProvisionedThroughputExceededException",
            "RequestThrottled",
            "RequestThrottledException",
            "SlowDown",
            "HTTP429",
            "HTTP503",
            "ServiceUnavailable",
            "ServiceUnavailableException",
        ] {
            assert!(StoreError::from_code(code, "m").is_slow_down(), "{code}");
        }
        for code in [
            "DispatchFailure",
            "TimeoutError",
            "HTTP500",
            "InternalServiceError",
            "LimitExceededException",
            "ResourceNotFoundException",
            "AccessDeniedException",
        ] {
            assert!(!StoreError::from_code(code, "m").is_slow_down(), "{code}");
        }
        // Throttled whatever the code: withhold_value may have replaced it.
        let withheld = StoreError::Throttled {
            code: WITHHELD_CODE.to_owned(),
            message: "m".to_owned(),
        };
        assert!(withheld.is_slow_down());
    }

    /// A refused STS AssumeRole keeps STS's answer apart from its caller: the provider's text
    /// is the one it always was, another tool names the caller without rewording the message,
    /// and the classification reads the data, not the text.
    #[test]
    fn an_assume_role_refusal_carries_its_answer_apart_from_the_caller() {
        let e = StoreError::assume_role_refused(
            "MissingAuthenticationTokenException",
            "was answered by a URL with no STS API behind it (HTTP 403)",
        );
        assert_eq!(
            e.to_string(),
            "MissingAuthenticationTokenException: STS AssumeRole (of the provider's assume_role or the \
             profile's role_arn) was answered by a URL with no STS API behind it (HTTP 403)"
        );
        assert_eq!(e.message_naming(ASSUME_ROLE_CALLERS), e.message());
        assert_eq!(
            e.message_naming("of the profile's role_arn"),
            "STS AssumeRole (of the profile's role_arn) was answered by a URL with no STS API behind it (HTTP 403)"
        );
        assert_eq!(e.credentials_fault(), Some(CredentialsFault::StsNoSuchApi));
        // The same words from a service are Secrets Manager's endpoint's fault.
        let text = StoreError::from_code(e.code(), e.message());
        assert_eq!(text.credentials_fault(), Some(CredentialsFault::NoSuchApi));
        assert_eq!(text.message_naming("x"), text.message());
        let expired = StoreError::assume_role_refused(
            "ExpiredToken",
            "refused the credentials it was signed with: The security token included in the request is expired",
        );
        assert_eq!(
            expired.credentials_fault(),
            Some(CredentialsFault::SessionExpired)
        );
        assert!(expired
            .message_naming("of X")
            .starts_with("STS AssumeRole (of X) refused the credentials"));
        // Withheld with the message when it echoes a value; kept otherwise.
        let v = SecretValue::from_string("canary-5e6f7a".to_owned());
        let kept = expired.clone().withhold_value(&v);
        assert!(kept == expired);
        let echo = StoreError::assume_role_refused("ExpiredToken", "refused: canary-5e6f7a")
            .withhold_value(&v);
        assert!(!echo.message_naming("of X").contains("canary-5e6f7a"));
    }

    #[test]
    fn credentials_advice_names_the_fix_for_each_credential_fault() {
        // (code, message, a word the advice must hold); none is the permission advice.
        let cases: &[(&str, &str, &str)] = &[
            ("ExpiredTokenException", "The security token included in the request is expired", "aws sso login"),
            ("ExpiredToken", "The security token included in the request is expired", "session has expired"),
            (
                "InvalidSignatureException",
                "Signature expired: 20261128T000000Z is now earlier than 20261128T000500Z (20261128T001000Z - 5 min.)",
                "clock",
            ),
            ("SignatureDoesNotMatch", "Signature not yet current: 20261128T001000Z is still later than 20261128T000500Z", "clock"),
            ("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", "clock"),
            ("InvalidSignatureException", "The request signature we calculated does not match the signature you provided.", "secret access key"),
            ("UnrecognizedClientException", "The security token included in the request is invalid.", "does not recognise"),
            ("InvalidClientTokenId", "The security token included in the request is invalid.", "partition"),
            ("MissingAuthenticationToken", "Request is missing Authentication Token", "not signed"),
            // What AWS answers for a URL with no API behind it (an endpoint with a path): was
            // Other, with no advice.
            ("MissingAuthenticationTokenException", "Missing Authentication Token", "with no path"),
        ];
        for (code, message, word) in cases {
            let e = StoreError::from_code(*code, *message);
            assert_eq!(kind(&e), "AccessDenied", "{code}");
            let advice = e.credentials_advice().unwrap_or_default();
            assert!(advice.contains(word), "{code}: {message}: {advice}");
            assert!(
                !advice.contains("allow this"),
                "{code}: not a permission to grant"
            );
        }
        // A plain refusal is a permission to grant: the caller words it for its call.
        let denied = StoreError::from_code(
            "AccessDeniedException",
            "User: arn:aws:iam::1:user/u is not authorized",
        );
        assert_eq!(denied.credentials_advice(), None);
        assert_eq!(
            StoreError::from_code("ThrottlingException", "signature expired").credentials_advice(),
            None
        );
    }

    #[test]
    fn credentials_advice_names_opt_in_regions_and_a_malformed_signature() {
        // An opt-in region not enabled (or a global-endpoint session token used there) answers
        // "The security token included in the request is invalid": the keys may be fine.
        for code in ["UnrecognizedClientException", "InvalidClientTokenId"] {
            let e = StoreError::from_code(
                code,
                "The security token included in the request is invalid.",
            );
            let advice = e.credentials_advice().unwrap_or_default();
            assert!(advice.contains("opt-in region"), "{code}: {advice}");
            assert!(advice.contains("global endpoint"), "{code}: {advice}");
        }
        // A malformed Authorization header is no mistyped secret access key.
        let e = StoreError::from_code(
            "IncompleteSignature",
            "Authorization header requires 'Credential' parameter.",
        );
        let advice = e.credentials_advice().unwrap_or_default();
        assert!(advice.contains("Authorization header"), "{advice}");
        assert!(
            !advice.contains("secret access key is mistyped"),
            "{advice}"
        );
    }

    #[test]
    fn withhold_value_replaces_escaped_binary_partial_and_oversized_echoes() {
        use base64::Engine;
        let text = SecretValue::from_string(r#"cnry"q\uote-5f0b1c2d3e4f"#.to_owned());
        let body = serde_json::json!({"Name": "app", "SecretString": text.expose_str().unwrap()});
        let bin = SecretValue::from_bytes(b"\x00\x01binary-canary-77aa88bb99cc".to_vec());
        let b64 = base64::engine::general_purpose::STANDARD.encode(bin.expose_secret());
        for (value, message) in [
            (&text, format!("rejected: {body}")),
            (&bin, format!("rejected: {{\"SecretBinary\":\"{b64}\"}}")),
            (
                &text,
                format!("rejected: ...{}", &text.expose_str().unwrap()[5..]),
            ),
            (&bin, format!("too long: {}", &b64[4..24])),
        ] {
            let e =
                StoreError::from_code("ValidationException", message.clone()).withhold_value(value);
            assert!(
                e.message().starts_with("(message withheld"),
                "{}",
                e.message()
            );
            assert_eq!(e.code(), "ValidationException");
        }
        let huge = "x".repeat(MAX_CHECKED_MESSAGE + 1);
        let e = StoreError::from_code("ValidationException", huge).withhold_value(&text);
        assert!(e
            .message()
            .contains("longer than any Secrets Manager message"));
        let fine = StoreError::from_code("ValidationException", "Member must have length <= 65536")
            .withhold_value(&text);
        assert_eq!(fine.message(), "Member must have length <= 65536");
    }

    #[test]
    fn withhold_value_replaces_echoing_messages() {
        let v = SecretValue::from_string("canary-9d1e".to_owned());
        let e = StoreError::from_code("InvalidParameterException", "bad value canary-9d1e here")
            .withhold_value(&v);
        assert!(matches!(e, StoreError::InvalidParameter { .. }));
        assert!(!e.to_string().contains("canary-9d1e"));
        assert_eq!(e.code(), "InvalidParameterException");
        let untouched =
            StoreError::from_code("ResourceNotFoundException", "nope").withhold_value(&v);
        assert_eq!(untouched.message(), "nope");
    }

    #[test]
    fn deletion_from_days() {
        assert_eq!(Deletion::from_recovery_window_days(0), Deletion::Immediate);
        assert_eq!(
            Deletion::from_recovery_window_days(7),
            Deletion::RecoveryWindow(7)
        );
    }

    #[test]
    fn current_of_finds_awscurrent() {
        let mut m = BTreeMap::new();
        m.insert("a".to_owned(), vec![AWSPREVIOUS.to_owned()]);
        m.insert("b".to_owned(), vec![AWSCURRENT.to_owned(), "x".to_owned()]);
        assert_eq!(SecretMeta::current_of(&m).as_deref(), Some("b"));
        assert_eq!(SecretMeta::current_of(&BTreeMap::new()), None);
    }
}
