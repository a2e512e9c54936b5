//! [`MemoryStore`]: an in-process [`SecretStore`] with Secrets Manager's semantics, for the unit
//! tests of the provider and the scrubber.
//!
//! Modelled behaviour (the same the moto test checks against the AWS store):
//! - a put makes the new version `AWSCURRENT`, the previous current `AWSPREVIOUS`, and drops the
//!   label-less versions (AWS deprecates them);
//! - idempotency by client request token: same token and same value returns the same version and
//!   changes nothing; same token and another value is `ResourceExistsException`;
//! - scheduled deletion (7..=30 days) and restore; a create with the name of a secret scheduled
//!   for deletion, and value calls on it, are `InvalidRequestException`s
//!   ([`StoreError::ScheduledForDeletion`]);
//! - errors carry real AWS codes, classified by [`StoreError::from_code`];
//! - rotation: RotateSecret records the Lambda and rules and turns rotation on; with
//!   `rotate_immediately` a stand-in "Lambda" re-puts the current value as a new version (so
//!   `AWSCURRENT` moves, as after a real rotation); CancelRotateSecret turns it off and, as on AWS,
//!   fails on a secret that never had a Lambda;
//! - resource policies: must be a JSON object with a `Statement`; with `block_public_policy` a
//!   statement that allows `"Principal": "*"` is a `PublicPolicyException`;
//! - replicas: added as `InSync`, the primary region refused, removal of unknown regions ignored.
//!
//! Test helpers: [`MemoryStore::fail_next`] injects an error, [`MemoryStore::calls`] records which
//! operations ran (to assert, say, that a refresh never read a value).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use async_trait::async_trait;

use super::{
    CreateSecret, Deletion, FetchedValue, ListFilter, MetadataUpdate, PolicyValidationError,
    PutValue, Replica, ReplicaStatus, RotateRequest, Rotation, SecretMeta, SecretStore, StoreError,
    VersionInfo, VersionSelector, AWSCURRENT, AWSPREVIOUS,
};
use crate::name::validate_name;
use crate::SecretValue;

/// An in-memory Secrets Manager for one account and region.
#[derive(Debug)]
pub struct MemoryStore {
    region: String,
    account: String,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    secrets: Vec<Secret>,
    counter: u64,
    calls: Vec<&'static str>,
    injected: VecDeque<StoreError>,
    injected_for: VecDeque<(&'static str, StoreError)>,
    /// See [`MemoryStore::lag_forced_deletes`].
    forced_delete_lag: usize,
    /// See [`MemoryStore::stall_rotations`].
    stalled_rotations: bool,
}

#[derive(Debug)]
struct Secret {
    arn: String,
    name: String,
    description: Option<String>,
    kms_key_id: Option<String>,
    tags: BTreeMap<String, String>,
    deleted_date: Option<SystemTime>,
    created_date: SystemTime,
    last_changed_date: SystemTime,
    /// Oldest first.
    versions: Vec<Version>,
    rotation: Rotation,
    policy: Option<String>,
    replicas: Vec<ReplicaStatus>,
    /// A forced delete still in progress: the secret shows as scheduled for deletion for this
    /// many more DescribeSecret calls, then is gone.
    purge_after_describes: Option<usize>,
}

#[derive(Debug)]
struct Version {
    id: String,
    stages: Vec<String>,
    value: SecretValue,
    binary: bool,
    created_date: SystemTime,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new("us-east-1", "123456789012")
    }
}

impl MemoryStore {
    /// An empty store; ARNs use this region and account.
    pub fn new(region: impl Into<String>, account: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            account: account.into(),
            state: Mutex::new(State::default()),
        }
    }

    /// Makes the next call (of any operation) fail with `error`. Several calls queue up.
    pub fn fail_next(&self, error: StoreError) {
        self.lock().injected.push_back(error);
    }

    /// Makes the next call of `operation` (`"put_policy"`, ...) fail with `error`; calls of
    /// other operations go through. Several queue up.
    pub fn fail_next_call_of(&self, operation: &'static str, error: StoreError) {
        self.lock().injected_for.push_back((operation, error));
    }

    /// Makes each later forced delete (`Deletion::Immediate`) take effect as on AWS, where it is
    /// "an asynchronous background process": the secret stays visible as scheduled for deletion,
    /// and its name taken, for `describes` DescribeSecret calls after the delete.
    pub fn lag_forced_deletes(&self, describes: usize) {
        self.lock().forced_delete_lag = describes;
    }

    /// Makes each later RotateSecret with `rotate_immediately` start a rotation that does not
    /// finish, as when the rotation Lambda fails before its createSecret step: the call returns
    /// the new version's id, and no version gets it (AWSCURRENT stays where it was).
    pub fn stall_rotations(&self) {
        self.lock().stalled_rotations = true;
    }

    /// The operations called so far, in order (`"create"`, `"describe"`, `"get_value"`, ...).
    pub fn calls(&self) -> Vec<&'static str> {
        self.lock().calls.clone()
    }

    /// How many times `operation` was called.
    pub fn call_count(&self, operation: &str) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|c| **c == operation)
            .count()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in another test thread must not hide this store's state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the call and pops an injected error.
    fn enter(&self, operation: &'static str) -> Result<MutexGuard<'_, State>, StoreError> {
        let mut state = self.lock();
        state.calls.push(operation);
        if let Some(i) = state
            .injected_for
            .iter()
            .position(|(op, _)| *op == operation)
        {
            if let Some((_, e)) = state.injected_for.remove(i) {
                return Err(e);
            }
        }
        match state.injected.pop_front() {
            Some(e) => Err(e),
            None => Ok(state),
        }
    }
}

fn not_found() -> StoreError {
    StoreError::from_code(
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret.",
    )
}

fn marked_for_deletion() -> StoreError {
    StoreError::from_code(
        "InvalidRequestException",
        "You can't perform this operation on the secret because it was marked for deletion.",
    )
}

fn invalid_parameter(message: &str) -> StoreError {
    StoreError::from_code("InvalidParameterException", message)
}

/// Secrets Manager's limit of tags per secret; `aws:` tags do not count (TagResource's
/// documentation). The error's wording is this fake's own.
const MAX_TAGS: usize = 50;

fn check_tag_count(tags: &BTreeMap<String, String>) -> Result<(), StoreError> {
    let counted = tags.keys().filter(|k| !k.starts_with("aws:")).count();
    if counted > MAX_TAGS {
        return Err(invalid_parameter(&format!(
            "A secret can have at most {MAX_TAGS} tags; this request would give it {counted}."
        )));
    }
    Ok(())
}

impl State {
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn find(&self, secret_id: &str) -> Option<usize> {
        self.secrets
            .iter()
            .position(|s| s.arn == secret_id || s.name == secret_id)
    }

    fn get(&mut self, secret_id: &str) -> Result<&mut Secret, StoreError> {
        let i = self.find(secret_id).ok_or_else(not_found)?;
        Ok(&mut self.secrets[i])
    }

    fn live(&mut self, secret_id: &str) -> Result<&mut Secret, StoreError> {
        let s = self.get(secret_id)?;
        if s.deleted_date.is_some() {
            return Err(marked_for_deletion());
        }
        Ok(s)
    }

    /// A version id in the UUID shape AWS uses, unique in this store.
    fn new_version_id(&mut self) -> String {
        let n = self.next();
        format!("00000000-0000-4000-8000-{n:012x}")
    }
}

fn check_token(token: &Option<String>) -> Result<(), StoreError> {
    match token {
        Some(t) if !(32..=64).contains(&t.len()) => Err(invalid_parameter(
            "ClientRequestToken must be between 32 and 64 characters long.",
        )),
        _ => Ok(()),
    }
}

/// Secrets Manager's limit on a value (SecretString or SecretBinary), in bytes.
const MAX_VALUE_BYTES: usize = 65_536;

fn check_value(value: &SecretValue, binary: bool) -> Result<(), StoreError> {
    if value.len() > MAX_VALUE_BYTES {
        // AWS's answer, so that callers meet the limit in unit tests as they would in AWS
        // (moto has no such limit).
        let member = if binary {
            "secretBinary"
        } else {
            "secretString"
        };
        return Err(StoreError::from_code(
            "ValidationException",
            format!("1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to {MAX_VALUE_BYTES}"),
        ));
    }
    if !binary && !value.is_utf8() {
        return Err(invalid_parameter(
            "A SecretString must be valid UTF-8; send the value as binary instead.",
        ));
    }
    Ok(())
}

impl Secret {
    fn meta(&self) -> SecretMeta {
        let version_stages: BTreeMap<String, Vec<String>> = self
            .versions
            .iter()
            .filter(|v| !v.stages.is_empty())
            .map(|v| (v.id.clone(), v.stages.clone()))
            .collect();
        SecretMeta {
            arn: self.arn.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            kms_key_id: self.kms_key_id.clone(),
            tags: self.tags.clone(),
            deleted_date: self.deleted_date,
            current_version_id: SecretMeta::current_of(&version_stages),
            version_stages,
            rotation: self.rotation.clone(),
            created_date: Some(self.created_date),
            last_changed_date: Some(self.last_changed_date),
            replicas: self.replicas.clone(),
        }
    }

    /// Adds a version, or returns the existing one for a repeated token with the same value.
    fn put(&mut self, id: String, value: SecretValue, binary: bool) -> Result<String, StoreError> {
        if let Some(existing) = self.versions.iter().find(|v| v.id == id) {
            return if existing.binary == binary && existing.value.ct_eq(&value) {
                Ok(id)
            } else {
                Err(StoreError::from_code(
                    "ResourceExistsException",
                    format!(
                        "You can't use ClientRequestToken {id} because that value is already in use for a version of secret {}.",
                        self.arn
                    ),
                ))
            };
        }
        for v in &mut self.versions {
            v.stages.retain(|s| s != AWSPREVIOUS);
            if let Some(i) = v.stages.iter().position(|s| s == AWSCURRENT) {
                v.stages[i] = AWSPREVIOUS.to_owned();
            }
        }
        self.versions.retain(|v| !v.stages.is_empty());
        let now = SystemTime::now();
        self.versions.push(Version {
            id: id.clone(),
            stages: vec![AWSCURRENT.to_owned()],
            value,
            binary,
            created_date: now,
        });
        self.last_changed_date = now;
        Ok(id)
    }
}

#[async_trait]
impl SecretStore for MemoryStore {
    async fn create(&self, request: CreateSecret) -> Result<SecretMeta, StoreError> {
        let mut state = self.enter("create")?;
        validate_name(&request.name).map_err(|e| invalid_parameter(&e.to_string()))?;
        check_token(&request.client_request_token)?;
        check_tag_count(&request.tags)?;
        if let Some(value) = &request.value {
            check_value(value, request.binary)?;
        }
        if let Some(i) = state.find(&request.name) {
            let secret = &mut state.secrets[i];
            if secret.deleted_date.is_some() {
                return Err(StoreError::from_code(
                    "InvalidRequestException",
                    "You can't create this secret because a secret with this name is already scheduled for deletion.",
                ));
            }
            // A retried create with the same token and value is a success, as on AWS.
            if let (Some(token), Some(value)) = (&request.client_request_token, request.value) {
                if secret.versions.iter().any(|v| &v.id == token) {
                    secret.put(token.clone(), value, request.binary)?;
                    return Ok(secret.meta());
                }
            }
            return Err(StoreError::from_code(
                "ResourceExistsException",
                format!(
                    "The operation failed because the secret {} already exists.",
                    request.name
                ),
            ));
        }
        let n = state.next();
        let suffix: String = format!("{n:06}")
            .bytes()
            .map(|b| char::from(b'a' + (b - b'0')))
            .collect();
        let now = SystemTime::now();
        let mut secret = Secret {
            arn: format!(
                "arn:aws:secretsmanager:{}:{}:secret:{}-{}",
                self.region, self.account, request.name, suffix
            ),
            name: request.name,
            description: request.description,
            kms_key_id: request.kms_key_id,
            tags: request.tags,
            deleted_date: None,
            created_date: now,
            last_changed_date: now,
            versions: Vec::new(),
            rotation: Rotation::default(),
            policy: None,
            replicas: Vec::new(),
            purge_after_describes: None,
        };
        if let Some(value) = request.value {
            let id = match request.client_request_token {
                Some(t) => t,
                None => state.new_version_id(),
            };
            secret.put(id, value, request.binary)?;
        }
        let meta = secret.meta();
        state.secrets.push(secret);
        Ok(meta)
    }

    async fn describe(&self, secret_id: &str) -> Result<Option<SecretMeta>, StoreError> {
        let mut state = self.enter("describe")?;
        let Some(i) = state.find(secret_id) else {
            return Ok(None);
        };
        let meta = state.secrets[i].meta();
        match &mut state.secrets[i].purge_after_describes {
            Some(0) => {
                state.secrets.remove(i);
                return Ok(None);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        Ok(Some(meta))
    }

    async fn list_versions(&self, secret_id: &str) -> Result<Vec<VersionInfo>, StoreError> {
        let mut state = self.enter("list_versions")?;
        let secret = state.get(secret_id)?;
        Ok(secret
            .versions
            .iter()
            .filter(|v| !v.stages.is_empty())
            .map(|v| VersionInfo {
                version_id: v.id.clone(),
                stages: v.stages.clone(),
                created_date: Some(v.created_date),
            })
            .collect())
    }

    async fn put_value(&self, request: PutValue) -> Result<String, StoreError> {
        let mut state = self.enter("put_value")?;
        check_token(&request.client_request_token)?;
        check_value(&request.value, request.binary)?;
        let id = match request.client_request_token {
            Some(t) => t,
            None => state.new_version_id(),
        };
        state
            .live(&request.secret_id)?
            .put(id, request.value, request.binary)
    }

    async fn get_value(
        &self,
        secret_id: &str,
        version: VersionSelector,
    ) -> Result<FetchedValue, StoreError> {
        let mut state = self.enter("get_value")?;
        let secret = state.live(secret_id)?;
        let found = secret.versions.iter().find(|v| match &version {
            VersionSelector::Current => v.stages.iter().any(|s| s == AWSCURRENT),
            VersionSelector::Stage(stage) => v.stages.iter().any(|s| s == stage),
            VersionSelector::Id(id) => &v.id == id,
        });
        let v = found.ok_or_else(|| {
            StoreError::from_code(
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret value for the requested version.",
            )
        })?;
        Ok(FetchedValue {
            arn: secret.arn.clone(),
            name: secret.name.clone(),
            version_id: v.id.clone(),
            stages: v.stages.clone(),
            value: v.value.clone(),
            binary: v.binary,
        })
    }

    async fn update_metadata(
        &self,
        secret_id: &str,
        update: MetadataUpdate,
    ) -> Result<(), StoreError> {
        let mut state = self.enter("update_metadata")?;
        let secret = state.live(secret_id)?;
        if let Some(d) = update.description {
            secret.description = Some(d);
        }
        if let Some(k) = update.kms_key_id {
            secret.kms_key_id = Some(k);
        }
        secret.last_changed_date = SystemTime::now();
        Ok(())
    }

    async fn tag(
        &self,
        secret_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let mut state = self.enter("tag")?;
        let secret = state.get(secret_id)?;
        let mut after = secret.tags.clone();
        after.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        check_tag_count(&after)?;
        secret.tags = after;
        Ok(())
    }

    async fn untag(&self, secret_id: &str, keys: &[String]) -> Result<(), StoreError> {
        let mut state = self.enter("untag")?;
        let secret = state.get(secret_id)?;
        for k in keys {
            secret.tags.remove(k);
        }
        Ok(())
    }

    async fn delete(&self, secret_id: &str, deletion: Deletion) -> Result<(), StoreError> {
        let mut state = self.enter("delete")?;
        let i = state.find(secret_id).ok_or_else(not_found)?;
        let secret = &state.secrets[i];
        if !secret.replicas.is_empty() {
            return Err(StoreError::from_code(
                "InvalidRequestException",
                format!(
                    "You can't delete secret {} because it's replicated to other Regions. Remove the replicas first with RemoveRegionsFromReplication.",
                    secret.name
                ),
            ));
        }
        match deletion {
            Deletion::Immediate if state.forced_delete_lag > 0 => {
                let lag = state.forced_delete_lag;
                let secret = &mut state.secrets[i];
                secret.deleted_date = Some(SystemTime::now());
                secret.purge_after_describes = Some(lag);
            }
            Deletion::Immediate => {
                state.secrets.remove(i);
            }
            Deletion::RecoveryWindow(days) => {
                if !(7..=30).contains(&days) {
                    return Err(invalid_parameter(
                        "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
                    ));
                }
                let secret = &mut state.secrets[i];
                if secret.deleted_date.is_some() {
                    return Err(StoreError::from_code(
                        "InvalidRequestException",
                        "You tried to perform the operation on a secret that's currently marked deleted.",
                    ));
                }
                secret.deleted_date = Some(SystemTime::now());
            }
        }
        Ok(())
    }

    async fn restore(&self, secret_id: &str) -> Result<(), StoreError> {
        let mut state = self.enter("restore")?;
        state.get(secret_id)?.deleted_date = None;
        Ok(())
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<SecretMeta>, StoreError> {
        let state = self.enter("list")?;
        let prefixed = |s: &str, p: &Option<String>| p.as_deref().is_none_or(|p| s.starts_with(p));
        // Creation order, as ListSecrets lists by default; by name when limited (`SortBy=name`).
        let mut secrets: Vec<&Secret> = state.secrets.iter().collect();
        if filter.limit.is_some() {
            secrets.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Ok(secrets
            .into_iter()
            .filter(|s| filter.include_planned_deletion || s.deleted_date.is_none())
            .filter(|s| prefixed(&s.name, &filter.name_prefix))
            .filter(|s| {
                filter.tag_key.is_none() || s.tags.keys().any(|k| prefixed(k, &filter.tag_key))
            })
            .filter(|s| {
                filter.tag_value.is_none()
                    || s.tags.values().any(|v| prefixed(v, &filter.tag_value))
            })
            // ListSecrets entries carry no replication status; only DescribeSecret does.
            .map(|s| SecretMeta {
                replicas: Vec::new(),
                ..s.meta()
            })
            .take(filter.limit.unwrap_or(usize::MAX))
            .collect())
    }

    async fn rotate(
        &self,
        secret_id: &str,
        request: RotateRequest,
    ) -> Result<Option<String>, StoreError> {
        let mut state = self.enter("rotate")?;
        check_token(&request.client_request_token)?;
        if let Some(days) = request.automatically_after_days {
            if !(1..=1000).contains(&days) {
                return Err(invalid_parameter(
                    "RotationRules.AutomaticallyAfterDays must be within 1-1000.",
                ));
            }
            if request.schedule_expression.is_some() {
                return Err(invalid_parameter(
                    "You can't specify both AutomaticallyAfterDays and ScheduleExpression.",
                ));
            }
        }
        let token = match request.client_request_token.clone() {
            Some(t) => t,
            None => state.new_version_id(),
        };
        let stalled = state.stalled_rotations;
        let secret = state.live(secret_id)?;
        let lambda = request
            .lambda_arn
            .clone()
            .or_else(|| secret.rotation.lambda_arn.clone());
        if lambda.is_none() {
            return Err(StoreError::from_code(
                "InvalidRequestException",
                "You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured and you didn't include such an ARN as a parameter in this call.",
            ));
        }
        // Without RotationRules, AWS keeps the recorded ones ("rotate now" with the
        // configured rotation: `aws secretsmanager rotate-secret --secret-id ID`).
        let has_rules = request.automatically_after_days.is_some()
            || request.schedule_expression.is_some()
            || request.duration.is_some();
        let (automatically_after_days, duration, schedule_expression) = if has_rules {
            (
                request.automatically_after_days,
                request.duration,
                request.schedule_expression,
            )
        } else {
            (
                secret.rotation.automatically_after_days,
                secret.rotation.duration.clone(),
                secret.rotation.schedule_expression.clone(),
            )
        };
        secret.rotation = Rotation {
            enabled: true,
            lambda_arn: lambda,
            automatically_after_days,
            duration,
            schedule_expression,
        };
        if !request.rotate_immediately {
            return Ok(None);
        }
        if stalled {
            return Ok(Some(token));
        }
        let current = secret
            .versions
            .iter()
            .find(|v| v.stages.iter().any(|s| s == AWSCURRENT))
            .map(|v| (v.value.clone(), v.binary));
        match current {
            Some((value, binary)) => secret.put(token, value, binary).map(Some),
            None => Ok(None),
        }
    }

    async fn cancel_rotation(&self, secret_id: &str) -> Result<(), StoreError> {
        let mut state = self.enter("cancel_rotation")?;
        let secret = state.live(secret_id)?;
        if secret.rotation.lambda_arn.is_none() {
            return Err(StoreError::from_code(
                "InvalidRequestException",
                "You tried to cancel rotation on a secret that doesn't have a Lambda function ARN configured.",
            ));
        }
        secret.rotation.enabled = false;
        Ok(())
    }

    async fn put_policy(
        &self,
        secret_id: &str,
        policy: &str,
        block_public_policy: bool,
    ) -> Result<(), StoreError> {
        let mut state = self.enter("put_policy")?;
        let secret = state.live(secret_id)?;
        let findings = check_policy(policy);
        if let Some(f) = findings.iter().find(|f| f.check_name == "ValidatePolicy") {
            return Err(StoreError::from_code(
                "MalformedPolicyDocumentException",
                f.message.clone(),
            ));
        }
        if block_public_policy && !findings.is_empty() {
            return Err(StoreError::from_code(
                "PublicPolicyException",
                "You can't attach a resource-based policy that allows broad access to the secret.",
            ));
        }
        secret.policy = Some(policy.to_owned());
        Ok(())
    }

    async fn get_policy(&self, secret_id: &str) -> Result<Option<String>, StoreError> {
        let mut state = self.enter("get_policy")?;
        Ok(state.get(secret_id)?.policy.clone())
    }

    async fn delete_policy(&self, secret_id: &str) -> Result<(), StoreError> {
        let mut state = self.enter("delete_policy")?;
        state.live(secret_id)?.policy = None;
        Ok(())
    }

    async fn validate_policy(
        &self,
        secret_id: Option<&str>,
        policy: &str,
    ) -> Result<Vec<PolicyValidationError>, StoreError> {
        let mut state = self.enter("validate_policy")?;
        if let Some(id) = secret_id {
            state.get(id)?;
        }
        Ok(check_policy(policy))
    }

    async fn replicate(
        &self,
        secret_id: &str,
        replicas: &[Replica],
        _force_overwrite: bool,
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        let mut state = self.enter("replicate")?;
        let primary = self.region.clone();
        let secret = state.live(secret_id)?;
        for r in replicas {
            if r.region == primary {
                return Err(invalid_parameter(
                    "Invalid replica region: it is the primary region of the secret.",
                ));
            }
            if secret.replicas.iter().any(|x| x.region == r.region) {
                return Err(invalid_parameter(&format!(
                    "The secret is already replicated to {}.",
                    r.region
                )));
            }
        }
        for r in replicas {
            secret.replicas.push(ReplicaStatus::new(
                r.region.clone(),
                r.kms_key_id.clone(),
                Some("InSync".to_owned()),
            ));
        }
        Ok(secret.replicas.clone())
    }

    async fn remove_replica_regions(
        &self,
        secret_id: &str,
        regions: &[String],
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        let mut state = self.enter("remove_replica_regions")?;
        let secret = state.live(secret_id)?;
        secret.replicas.retain(|r| !regions.contains(&r.region));
        Ok(secret.replicas.clone())
    }
}

/// What the in-memory ValidateResourcePolicy finds: a document that is not a JSON object with a
/// `Statement` (`ValidatePolicy`), or a statement allowing everyone (`BlockPublicPolicy`).
fn check_policy(policy: &str) -> Vec<PolicyValidationError> {
    let finding = |check: &str, message: &str| PolicyValidationError {
        check_name: check.to_owned(),
        message: message.to_owned(),
    };
    let doc: serde_json::Value = match serde_json::from_str(policy) {
        Ok(v) => v,
        Err(_) => return vec![finding("ValidatePolicy", "The policy is not valid JSON.")],
    };
    let statements = match doc.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(o @ serde_json::Value::Object(_)) => vec![o.clone()],
        _ => {
            return vec![finding(
                "ValidatePolicy",
                "The policy must be a JSON object with a Statement.",
            )]
        }
    };
    let public = statements.iter().any(|st| {
        let allows = st.get("Effect").and_then(|e| e.as_str()) == Some("Allow");
        let everyone = match st.get("Principal") {
            Some(serde_json::Value::String(p)) => p == "*",
            Some(serde_json::Value::Object(m)) => m.get("AWS").is_some_and(|a| {
                a == "*" || a.as_array().is_some_and(|l| l.iter().any(|x| x == "*"))
            }),
            _ => false,
        };
        allows && everyone
    });
    if public {
        vec![finding(
            "BlockPublicPolicy",
            "The policy allows broad access to the secret.",
        )]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN_A: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
    const TOKEN_B: &str = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

    fn value(s: &str) -> SecretValue {
        SecretValue::from_string(s.to_owned())
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    async fn create(store: &MemoryStore, name: &str, v: Option<&str>) -> SecretMeta {
        store
            .create(CreateSecret {
                name: name.to_owned(),
                value: v.map(value),
                ..Default::default()
            })
            .await
            .unwrap()
    }

    #[test]
    fn values_over_the_aws_limit_are_refused_as_aws_does() {
        block_on(async {
            let store = MemoryStore::default();
            let at_limit = "x".repeat(65_536);
            create(&store, "ok", Some(&at_limit)).await;
            let over = || value(&"x".repeat(65_537));
            let e = store
                .create(CreateSecret {
                    name: "big".into(),
                    value: Some(over()),
                    ..Default::default()
                })
                .await
                .unwrap_err();
            assert_eq!(e.code(), "ValidationException");
            assert!(store.describe("big").await.unwrap().is_none());
            let e = store
                .put_value(PutValue {
                    secret_id: "ok".into(),
                    value: over(),
                    binary: true,
                    ..Default::default()
                })
                .await
                .unwrap_err();
            assert_eq!(e.code(), "ValidationException");
            assert!(e.message().contains("secretBinary"));
        });
    }

    #[test]
    fn create_describe_and_stage_moves() {
        block_on(async {
            let store = MemoryStore::default();
            let meta = create(&store, "prod/db", Some("one")).await;
            assert!(meta
                .arn
                .starts_with("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-"));
            let v1 = meta.current_version_id.clone().unwrap();

            let by_arn = store.describe(&meta.arn).await.unwrap().unwrap();
            assert_eq!(by_arn, meta);
            assert_eq!(store.describe("nope").await.unwrap(), None);

            let v2 = store
                .put_value(PutValue {
                    secret_id: "prod/db".into(),
                    value: value("two"),
                    client_request_token: Some(TOKEN_A.into()),
                    ..Default::default()
                })
                .await
                .unwrap();
            assert_eq!(v2, TOKEN_A);
            let v3 = store
                .put_value(PutValue {
                    secret_id: "prod/db".into(),
                    value: value("three"),
                    ..Default::default()
                })
                .await
                .unwrap();
            let versions = store.list_versions("prod/db").await.unwrap();
            let stages: Vec<(&str, Vec<String>)> = versions
                .iter()
                .map(|v| (v.version_id.as_str(), v.stages.clone()))
                .collect();
            // v1 lost its last label and is gone, as AWS deprecates it.
            assert_eq!(
                stages,
                vec![
                    (v2.as_str(), vec![AWSPREVIOUS.to_owned()]),
                    (v3.as_str(), vec![AWSCURRENT.to_owned()])
                ]
            );
            assert_ne!(v1, v3);
            let meta = store.describe("prod/db").await.unwrap().unwrap();
            assert_eq!(meta.current_version_id.as_deref(), Some(v3.as_str()));

            let cur = store
                .get_value("prod/db", VersionSelector::Current)
                .await
                .unwrap();
            assert_eq!(cur.value.expose_str().unwrap(), "three");
            let prev = store
                .get_value("prod/db", VersionSelector::Stage(AWSPREVIOUS.into()))
                .await
                .unwrap();
            assert_eq!(prev.value.expose_str().unwrap(), "two");
            let by_id = store
                .get_value("prod/db", VersionSelector::Id(v2.clone()))
                .await
                .unwrap();
            assert_eq!(by_id.version_id, v2);
            let missing = store
                .get_value("prod/db", VersionSelector::Id(v1))
                .await
                .unwrap_err();
            assert!(missing.is_not_found());
        });
    }

    #[test]
    fn idempotent_put_by_token() {
        block_on(async {
            let store = MemoryStore::default();
            create(&store, "s", Some("one")).await;
            let put = |v: &str, token: &str| PutValue {
                secret_id: "s".into(),
                value: value(v),
                client_request_token: Some(token.into()),
                ..Default::default()
            };
            let a = store.put_value(put("two", TOKEN_A)).await.unwrap();
            let again = store.put_value(put("two", TOKEN_A)).await.unwrap();
            assert_eq!(a, again);
            assert_eq!(
                store.list_versions("s").await.unwrap().len(),
                2,
                "no new version"
            );
            let err = store.put_value(put("other", TOKEN_A)).await.unwrap_err();
            assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err:?}");
            assert!(!err.to_string().contains("other"));
            // Binary with the same bytes is a different request.
            let mut bin = put("two", TOKEN_A);
            bin.binary = true;
            assert!(store.put_value(bin).await.is_err());
            store.put_value(put("three", TOKEN_B)).await.unwrap();
            let short = store.put_value(put("x", "short")).await.unwrap_err();
            assert!(matches!(short, StoreError::InvalidParameter { .. }));
        });
    }

    #[test]
    fn create_conflicts_and_idempotent_create() {
        block_on(async {
            let store = MemoryStore::default();
            let req = CreateSecret {
                name: "s".into(),
                value: Some(value("v")),
                client_request_token: Some(TOKEN_A.into()),
                ..Default::default()
            };
            let first = store.create(req.clone()).await.unwrap();
            let retried = store.create(req.clone()).await.unwrap();
            assert_eq!(first, retried);
            let mut other = req.clone();
            other.value = Some(value("different"));
            assert!(matches!(
                store.create(other).await,
                Err(StoreError::AlreadyExists { .. })
            ));
            let mut no_token = req;
            no_token.client_request_token = None;
            assert!(matches!(
                store.create(no_token).await,
                Err(StoreError::AlreadyExists { .. })
            ));
            let bad = store
                .create(CreateSecret {
                    name: "bad name".into(),
                    ..Default::default()
                })
                .await
                .unwrap_err();
            assert!(matches!(bad, StoreError::InvalidParameter { .. }));
            let not_utf8 = store
                .create(CreateSecret {
                    name: "b".into(),
                    value: Some(SecretValue::from_bytes(vec![0xff])),
                    ..Default::default()
                })
                .await
                .unwrap_err();
            assert!(matches!(not_utf8, StoreError::InvalidParameter { .. }));
            let binary = store
                .create(CreateSecret {
                    name: "b".into(),
                    value: Some(SecretValue::from_bytes(vec![0xff])),
                    binary: true,
                    ..Default::default()
                })
                .await
                .unwrap();
            let got = store
                .get_value(&binary.arn, VersionSelector::Current)
                .await
                .unwrap();
            assert!(got.binary);
            assert_eq!(got.value.expose_secret(), &[0xff]);
            let empty = create(&store, "empty", None).await;
            assert_eq!(empty.current_version_id, None);
            assert!(store
                .get_value("empty", VersionSelector::Current)
                .await
                .unwrap_err()
                .is_not_found());
        });
    }

    #[test]
    fn scheduled_deletion_and_restore() {
        block_on(async {
            let store = MemoryStore::default();
            create(&store, "s", Some("v")).await;
            let bad_window = store
                .delete("s", Deletion::RecoveryWindow(3))
                .await
                .unwrap_err();
            assert!(matches!(bad_window, StoreError::InvalidParameter { .. }));
            store
                .delete("s", Deletion::RecoveryWindow(7))
                .await
                .unwrap();
            let meta = store.describe("s").await.unwrap().unwrap();
            assert!(meta.is_scheduled_for_deletion());

            let again = store
                .create(CreateSecret {
                    name: "s".into(),
                    ..Default::default()
                })
                .await
                .unwrap_err();
            assert!(
                matches!(again, StoreError::ScheduledForDeletion { .. }),
                "{again:?}"
            );
            let put = store
                .put_value(PutValue {
                    secret_id: "s".into(),
                    value: value("w"),
                    ..Default::default()
                })
                .await
                .unwrap_err();
            assert!(matches!(put, StoreError::ScheduledForDeletion { .. }));
            let get = store
                .get_value("s", VersionSelector::Current)
                .await
                .unwrap_err();
            assert!(matches!(get, StoreError::ScheduledForDeletion { .. }));
            let twice = store
                .delete("s", Deletion::RecoveryWindow(7))
                .await
                .unwrap_err();
            assert!(matches!(twice, StoreError::ScheduledForDeletion { .. }));

            assert!(store.list(&ListFilter::default()).await.unwrap().is_empty());
            let with_deleted = ListFilter {
                include_planned_deletion: true,
                ..Default::default()
            };
            assert_eq!(store.list(&with_deleted).await.unwrap().len(), 1);

            store.restore("s").await.unwrap();
            assert!(!store
                .describe("s")
                .await
                .unwrap()
                .unwrap()
                .is_scheduled_for_deletion());
            store.delete("s", Deletion::Immediate).await.unwrap();
            assert_eq!(store.describe("s").await.unwrap(), None);
            assert!(store
                .delete("s", Deletion::Immediate)
                .await
                .unwrap_err()
                .is_not_found());
            assert!(store.restore("s").await.unwrap_err().is_not_found());
        });
    }

    #[test]
    fn at_most_fifty_tags_per_secret_as_on_aws() {
        block_on(async {
            let store = MemoryStore::default();
            let tags = |n: usize, prefix: &str| -> BTreeMap<String, String> {
                (0..n)
                    .map(|i| (format!("{prefix}{i:02}"), "v".to_owned()))
                    .collect()
            };
            let create_with = |name: &str, tags: BTreeMap<String, String>| CreateSecret {
                name: name.to_owned(),
                tags,
                ..Default::default()
            };
            let e = store
                .create(create_with("over", tags(51, "k")))
                .await
                .unwrap_err();
            assert_eq!(e.code(), "InvalidParameterException");
            assert!(store.describe("over").await.unwrap().is_none());
            // 50, and aws: tags, which do not count.
            let mut full = tags(50, "k");
            full.insert("aws:cloudformation:stack-name".into(), "s".into());
            store.create(create_with("full", full)).await.unwrap();
            // Changing a value keeps the count; a new key is one too many.
            store.tag("full", &tags(1, "k")).await.unwrap();
            let e = store.tag("full", &tags(1, "new")).await.unwrap_err();
            assert_eq!(e.code(), "InvalidParameterException");
            assert_eq!(
                store.describe("full").await.unwrap().unwrap().tags.len(),
                51
            );
        });
    }

    #[test]
    fn tags_metadata_list_and_helpers() {
        block_on(async {
            let store = MemoryStore::default();
            create(&store, "app/a", None).await;
            create(&store, "app/b", None).await;
            create(&store, "other", None).await;
            let tags: BTreeMap<String, String> = [
                ("env".to_owned(), "prod".to_owned()),
                ("team".to_owned(), "pay".to_owned()),
            ]
            .into();
            store.tag("app/a", &tags).await.unwrap();
            store.untag("app/a", &["team".to_owned()]).await.unwrap();
            store
                .update_metadata(
                    "app/a",
                    MetadataUpdate {
                        description: Some("d".into()),
                        kms_key_id: Some("alias/k".into()),
                    },
                )
                .await
                .unwrap();
            let a = store.describe("app/a").await.unwrap().unwrap();
            assert_eq!(a.tags, [("env".to_owned(), "prod".to_owned())].into());
            assert_eq!(a.description.as_deref(), Some("d"));
            assert_eq!(a.kms_key_id.as_deref(), Some("alias/k"));

            let names = |v: Vec<SecretMeta>| v.into_iter().map(|m| m.name).collect::<Vec<_>>();
            let by_prefix = ListFilter {
                name_prefix: Some("app/".into()),
                ..Default::default()
            };
            assert_eq!(
                names(store.list(&by_prefix).await.unwrap()),
                ["app/a", "app/b"]
            );
            let by_tag = ListFilter {
                tag_key: Some("env".into()),
                tag_value: Some("pr".into()),
                ..Default::default()
            };
            assert_eq!(names(store.list(&by_tag).await.unwrap()), ["app/a"]);

            store.fail_next(StoreError::from_code("ThrottlingException", "slow down"));
            assert!(matches!(
                store.describe("app/a").await,
                Err(StoreError::Throttled { .. })
            ));
            assert!(store.describe("app/a").await.is_ok());
            assert_eq!(store.call_count("describe"), 3);
            assert_eq!(store.call_count("get_value"), 0);
            assert_eq!(store.calls().first(), Some(&"create"));
        });
    }

    /// RotateSecret with nothing but `rotate_immediately` rotates with the recorded Lambda and
    /// rules and keeps them; with rotations stalled, the new version never appears.
    #[test]
    fn rotate_now_keeps_the_configured_rotation() {
        block_on(async {
            let store = MemoryStore::default();
            let v1 = create(&store, "r", Some("v"))
                .await
                .current_version_id
                .unwrap();
            let configure = RotateRequest {
                lambda_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:rot".into()),
                schedule_expression: Some("rate(10 days)".into()),
                duration: Some("3h".into()),
                ..Default::default()
            };
            store.rotate("r", configure).await.unwrap();
            let configured = store.describe("r").await.unwrap().unwrap().rotation;
            let now = RotateRequest {
                rotate_immediately: true,
                client_request_token: Some("t".repeat(36)),
                ..Default::default()
            };
            let v2 = store.rotate("r", now.clone()).await.unwrap().unwrap();
            assert_eq!(v2, "t".repeat(36));
            let meta = store.describe("r").await.unwrap().unwrap();
            assert_eq!(meta.current_version_id.as_deref(), Some(v2.as_str()));
            assert_ne!(v2, v1);
            assert_eq!(meta.rotation, configured);

            store.stall_rotations();
            let stalled = RotateRequest {
                client_request_token: Some("u".repeat(36)),
                ..now
            };
            let v3 = store.rotate("r", stalled).await.unwrap().unwrap();
            let meta = store.describe("r").await.unwrap().unwrap();
            assert_eq!(meta.current_version_id.as_deref(), Some(v2.as_str()));
            assert!(!meta.version_stages.contains_key(&v3));
        });
    }

    #[test]
    fn rotation_policy_and_replicas() {
        block_on(async {
            let store = MemoryStore::default();
            let meta = create(&store, "r", Some("v")).await;
            let v1 = meta.current_version_id.unwrap();
            let no_lambda = store
                .rotate("r", RotateRequest::default())
                .await
                .unwrap_err();
            assert!(matches!(no_lambda, StoreError::InvalidParameter { .. }));
            assert!(store.cancel_rotation("r").await.is_err());
            let bad_days = RotateRequest {
                lambda_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:rot".into()),
                automatically_after_days: Some(1001),
                ..Default::default()
            };
            assert!(store.rotate("r", bad_days).await.is_err());
            let req = RotateRequest {
                lambda_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:rot".into()),
                automatically_after_days: Some(30),
                duration: Some("3h".into()),
                rotate_immediately: true,
                ..Default::default()
            };
            let rotated = store.rotate("r", req).await.unwrap().unwrap();
            let meta = store.describe("r").await.unwrap().unwrap();
            assert_ne!(rotated, v1);
            assert_eq!(meta.current_version_id.as_deref(), Some(rotated.as_str()));
            assert!(meta.rotation.enabled);
            assert_eq!(meta.rotation.automatically_after_days, Some(30));
            assert_eq!(meta.rotation.duration.as_deref(), Some("3h"));
            let later = RotateRequest {
                schedule_expression: Some("rate(10 days)".into()),
                ..Default::default()
            };
            assert_eq!(store.rotate("r", later).await.unwrap(), None);
            let meta = store.describe("r").await.unwrap().unwrap();
            assert_eq!(meta.current_version_id.as_deref(), Some(rotated.as_str()));
            assert_eq!(
                meta.rotation.schedule_expression.as_deref(),
                Some("rate(10 days)")
            );
            store.cancel_rotation("r").await.unwrap();
            assert!(!store.describe("r").await.unwrap().unwrap().rotation.enabled);

            assert_eq!(store.get_policy("r").await.unwrap(), None);
            let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
            let err = store.put_policy("r", public, true).await.unwrap_err();
            assert_eq!(err.code(), "PublicPolicyException");
            assert!(matches!(
                store.put_policy("r", "{", false).await,
                Err(StoreError::InvalidParameter { .. })
            ));
            store.put_policy("r", public, false).await.unwrap();
            assert_eq!(
                store.get_policy("r").await.unwrap().as_deref(),
                Some(public)
            );
            let found = store.validate_policy(Some("r"), public).await.unwrap();
            assert_eq!(found[0].check_name, "BlockPublicPolicy");
            let fine = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
            assert!(store.validate_policy(None, fine).await.unwrap().is_empty());
            store.delete_policy("r").await.unwrap();
            assert_eq!(store.get_policy("r").await.unwrap(), None);

            let replicas = [
                Replica {
                    region: "eu-west-1".into(),
                    kms_key_id: None,
                },
                Replica {
                    region: "us-west-2".into(),
                    kms_key_id: Some("alias/k".into()),
                },
            ];
            let st = store.replicate("r", &replicas, false).await.unwrap();
            assert_eq!(st.len(), 2);
            assert!(store.replicate("r", &replicas[..1], false).await.is_err());
            let primary = Replica {
                region: "us-east-1".into(),
                kms_key_id: None,
            };
            assert!(store.replicate("r", &[primary], false).await.is_err());
            let meta = store.describe("r").await.unwrap().unwrap();
            assert_eq!(meta.replicas[1].region, "us-west-2");
            assert_eq!(meta.replicas[1].kms_key_id.as_deref(), Some("alias/k"));
            assert_eq!(meta.replicas[1].status.as_deref(), Some("InSync"));
            let left = store
                .remove_replica_regions("r", &["eu-west-1".to_owned()])
                .await
                .unwrap();
            assert_eq!(left.len(), 1);
            assert_eq!(store.describe("r").await.unwrap().unwrap().replicas, left);
        });
    }

    #[test]
    fn debug_of_store_never_shows_values() {
        block_on(async {
            let store = MemoryStore::default();
            create(&store, "s", Some("canary-mem-51c2")).await;
            let fetched = store
                .get_value("s", VersionSelector::Current)
                .await
                .unwrap();
            for text in [format!("{store:?}"), format!("{fetched:?}")] {
                assert!(!text.contains("canary-mem-51c2"), "{text}");
            }
        });
    }
}
