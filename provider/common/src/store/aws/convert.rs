//! Conversions between SDK types and the store's: times, tags, rotation, replicas, the metadata
//! of DescribeSecret and ListSecrets (`meta_of!`), a value as a `SecretString`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_sdk_secretsmanager::types::{ReplicationStatusType, RotationRulesType, Tag};

use crate::store::{ReplicaStatus, Rotation, StoreError};
use crate::SecretValue;

pub(super) fn time(dt: Option<&aws_smithy_types::DateTime>) -> Option<SystemTime> {
    dt.and_then(|d| SystemTime::try_from(*d).ok())
}

pub(super) fn tags_of(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

pub(super) fn sdk_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub(super) fn rotation_of(
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
pub(super) use meta_of;

pub(super) fn replicas_of(statuses: &[ReplicationStatusType]) -> Vec<ReplicaStatus> {
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

pub(super) fn string_value(value: &SecretValue) -> Result<String, StoreError> {
    // The SDK wants an owned String; this copy is not zeroed on drop (nor are the SDK's own
    // buffers), which is the SDK's limit, not a leak to any output.
    value.expose_str().map(str::to_owned).map_err(|_| {
        StoreError::from_code(
            "InvalidParameterException",
            "the value is not valid UTF-8, so it cannot be a SecretString; store it as binary",
        )
    })
}
