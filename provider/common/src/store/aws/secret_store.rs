//! `impl SecretStore for AwsSecretsManager`: every store operation as Secrets Manager calls;
//! those that carry or return a value run `quietly`.

use std::collections::BTreeMap;
use std::future::Future;

use async_trait::async_trait;
use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::types::{
    Filter, FilterNameStringType, ReplicaRegionType, RotationRulesType, SortByType, SortOrderType,
};
use tracing::instrument::WithSubscriber;

use super::connect::AwsSecretsManager;
use super::convert::{meta_of, replicas_of, rotation_of, sdk_tags, string_value, tags_of, time};
use super::errors::map_sdk_error;
use crate::store::{
    CreateSecret, Deletion, FetchedValue, ListFilter, MetadataUpdate, PolicyValidationError,
    PutValue, Replica, ReplicaStatus, RotateRequest, Rotation, SecretMeta, SecretStore, StoreError,
    VersionInfo, VersionSelector, AWSCURRENT,
};
use crate::SecretValue;

/// Runs an SDK call with no tracing subscriber, so the SDK cannot log a request or response that
/// holds a value (see the module docs).
pub(super) async fn quietly<F: Future>(call: F) -> F::Output {
    call.with_subscriber(tracing::subscriber::NoSubscriber::default())
        .await
}

#[async_trait]
impl SecretStore for AwsSecretsManager {
    fn region(&self) -> Option<&str> {
        Some(AwsSecretsManager::region(self))
    }

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
