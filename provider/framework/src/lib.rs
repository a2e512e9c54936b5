//! A framework for Terraform providers speaking plugin protocol 6.10.
//!
//! - [`types`], [`value`], [`codec`]: Terraform's type system, values (known,
//!   null, unknown) and their msgpack/JSON encodings.
//! - [`schema`], [`path`], [`diagnostics`]: what a provider declares and how it
//!   reports problems.
//! - [`provider`], [`resource`], [`datasource`], [`action`]: the traits a
//!   provider author implements, with terraform-plugin-framework's method
//!   names.
//! - [`wire`]: the gRPC service; protocol types stop there.
//!
//! No AWS here: this crate knows Terraform, not Secrets Manager.

pub mod action;
pub mod codec;
pub mod datasource;
pub mod diagnostics;
pub mod logging;
pub mod path;
pub mod provider;
pub mod resource;
pub mod runtime;
pub mod schema;
pub mod types;
pub mod value;
pub mod wire;
/// Credentials never to be shown (the crate offstate-withheld, shared with state-scrubber).
pub use offstate_withheld as withheld;

pub use diagnostics::{Diagnostic, Diagnostics};
pub use path::AttributePath;
pub use provider::Provider;
pub use resource::Resource;
pub use schema::{Attribute, Block, Nesting, Schema};
pub use types::Type;
pub use value::Value;
