//! terraform-provider-offstate: AWS Secrets Manager secrets with write-only
//! values. The protocol lives in `offstate-framework`, Secrets Manager behind
//! `offstate_common::SecretStore`; this crate is the resources in between.

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
pub mod tags;

pub use provider::OffstateProvider;
