//! terraform-provider-offstate: AWS Secrets Manager secrets with write-only
//! values. The protocol lives in `offstate-framework`, Secrets Manager behind
//! `offstate_common::SecretStore`; this crate is the resources in between.

pub mod action;
pub mod data;
pub mod ephemeral;
pub mod function;
pub mod generate;
pub mod list;
pub mod policy;
pub mod provider;
pub mod region;
pub mod rotation;
pub mod secret;
mod session_tag_chars;
pub mod tags;

pub use provider::OffstateProvider;

/// Log targets whose events are written without message or fields
/// (`offstate_framework::logging::init_with`): the AWS SDK's shared config and credentials file
/// parser, whose warnings quote a malformed line, a secret key or session token included; its
/// profile credentials chain, which warns about a role it could not assume with a `Debug` of
/// that step, the profile's `external_id` included (the error itself still reaches the
/// diagnostic); and the default credentials chain, which warns about a failing source with
/// its error, a failing `credential_process`'s stderr included (the diagnostic gets
/// `CredentialProcessFailed` instead, without it).
pub const LOG_CONTENT_TARGETS: &[&str] = &[
    "aws_runtime::env_config",
    "aws_config::profile::credentials",
    "aws_config::meta::credentials::chain",
];
