//! Data sources, ephemeral resources, list resources and functions: the
//! other things a provider can offer besides managed resources.
//!
//! Ephemeral results are never persisted by Terraform; data source state is.
//! A data source must therefore never return a secret value — that is what
//! ephemeral resources are for.

use std::time::SystemTime;

use async_trait::async_trait;

use crate::diagnostics::Diagnostics;
use crate::resource::ClientCapabilities;
use crate::schema::Schema;
use crate::types::Type;
use crate::value::Value;

pub struct ReadDataRequest<'a> {
    pub config: &'a Value,
    pub client_capabilities: ClientCapabilities,
}

#[derive(Default)]
pub struct ReadDataResponse {
    /// Starts as the configuration; fill in the computed attributes.
    pub state: Value,
    pub diagnostics: Diagnostics,
}

#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    async fn validate_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    async fn read(&self, req: &ReadDataRequest<'_>, resp: &mut ReadDataResponse);
}

pub struct OpenRequest<'a> {
    pub config: &'a Value,
    pub client_capabilities: ClientCapabilities,
}

#[derive(Default)]
pub struct OpenResponse {
    /// Starts as the configuration; fill in the computed attributes.
    pub result: Value,
    /// Handed back on Renew and Close (not persisted by Terraform, but keep
    /// values out of it all the same).
    pub private: Option<Vec<u8>>,
    pub renew_at: Option<SystemTime>,
    pub diagnostics: Diagnostics,
}

#[derive(Default)]
pub struct RenewResponse {
    pub private: Option<Vec<u8>>,
    pub renew_at: Option<SystemTime>,
    pub diagnostics: Diagnostics,
}

#[async_trait]
pub trait EphemeralResource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    async fn validate_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    async fn open(&self, req: &OpenRequest<'_>, resp: &mut OpenResponse);
    async fn renew(&self, _private: Option<&[u8]>, _resp: &mut RenewResponse) {}
    async fn close(&self, _private: Option<&[u8]>) -> Diagnostics {
        Diagnostics::new()
    }
}

/// A provider function parameter.
#[derive(Clone, Debug)]
pub struct Parameter {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub allow_null: bool,
}

#[derive(Clone, Debug)]
pub struct FunctionDefinition {
    pub parameters: Vec<Parameter>,
    /// A trailing parameter taking zero or more arguments. Terraform sends
    /// each one as its own argument after the positional ones, so
    /// [`Function::call`] gets them appended to `args`.
    pub variadic_parameter: Option<Parameter>,
    pub return_type: Type,
    pub summary: String,
    pub description: String,
}

/// An error from a function call; `argument` is the 0-based argument it
/// concerns, when it concerns one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<i64>,
}

#[async_trait]
pub trait Function: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn definition(&self) -> FunctionDefinition;
    async fn call(&self, args: &[Value]) -> Result<Value, FunctionError>;
}

pub struct ListRequest<'a> {
    pub config: &'a Value,
    pub include_resource_object: bool,
    pub limit: i64,
}

pub struct ListResult {
    pub identity: Value,
    pub display_name: String,
    /// The managed resource's state, when asked for (never holding a value:
    /// write-only attributes are nulled by the framework anyway).
    pub resource_object: Option<Value>,
}

#[derive(Default)]
pub struct ListResponse {
    pub results: Vec<ListResult>,
    pub diagnostics: Diagnostics,
}

/// A `list "TYPE"` block for `terraform query` (Terraform 1.14). Its type
/// name is a managed resource's; identities and objects use that resource's
/// schemas.
#[async_trait]
pub trait ListResource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    /// Schema of the `config { ... }` inside the list block.
    fn schema(&self) -> Schema;
    async fn list(&self, req: &ListRequest<'_>, resp: &mut ListResponse);
}
