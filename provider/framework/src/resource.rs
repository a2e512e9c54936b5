//! What a managed resource implements. The method names are
//! terraform-plugin-framework's (ValidateConfig, ModifyPlan, Create, Read,
//! Update, Delete, ImportState, UpgradeState, MoveState); each takes a typed
//! request and fills a typed response, so a new protocol field adds a struct
//! field and breaks no implementer.
//!
//! The framework does the protocol's chores around these calls: decoding,
//! nulling write-only attributes in everything sent back, marking computed
//! attributes unknown when a change is planned, refusing write-only values
//! from clients that cannot handle them, and turning panics into diagnostics.

use async_trait::async_trait;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::path::AttributePath;
use crate::schema::Schema;
use crate::value::Value;

/// What the client (Terraform or OpenTofu) says it can do. Absent in older
/// clients, which then count as "can do nothing".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientCapabilities {
    pub deferral_allowed: bool,
    pub write_only_attributes_allowed: bool,
}

pub struct ValidateConfigRequest<'a> {
    pub type_name: &'a str,
    /// May contain unknown values: validate what is known.
    pub config: &'a Value,
    pub client_capabilities: ClientCapabilities,
}

pub struct ModifyPlanRequest<'a> {
    pub config: &'a Value,
    pub prior_state: &'a Value,
    pub proposed_new_state: &'a Value,
    pub prior_private: &'a [u8],
    pub client_capabilities: ClientCapabilities,
}

impl ModifyPlanRequest<'_> {
    pub fn is_create(&self) -> bool {
        self.prior_state.is_null()
    }
    pub fn is_destroy(&self) -> bool {
        self.proposed_new_state.is_null()
    }
}

pub struct ModifyPlanResponse {
    /// Starts as the proposed new state with write-only attributes nulled
    /// and, when anything changes, unset computed attributes unknown.
    pub planned_state: Value,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct CreateRequest<'a> {
    /// The configuration, write-only values included.
    pub config: &'a Value,
    pub planned_state: &'a Value,
    pub planned_private: &'a [u8],
}

pub struct CreateResponse {
    /// Null unless the resource sets it. Set it as soon as the remote object
    /// exists, even when a later step fails, so Terraform tracks it.
    pub state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct ReadRequest<'a> {
    /// No configuration here (protocol): the state must say everything Read needs.
    pub current_state: &'a Value,
    pub private: &'a [u8],
    pub client_capabilities: ClientCapabilities,
}

pub struct ReadResponse {
    /// Starts as the current state. Set to null when the object is gone.
    pub state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct UpdateRequest<'a> {
    pub config: &'a Value,
    pub prior_state: &'a Value,
    pub planned_state: &'a Value,
    pub planned_private: &'a [u8],
}

pub struct UpdateResponse {
    /// Starts as the planned state; replace unknown values with results.
    pub state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct DeleteRequest<'a> {
    pub prior_state: &'a Value,
    pub prior_private: &'a [u8],
}

#[derive(Default)]
pub struct DeleteResponse {
    pub diagnostics: Diagnostics,
}

pub struct ImportStateRequest<'a> {
    pub id: &'a str,
    /// The identity from an `import { identity = {...} }` block, when used.
    pub identity: Option<&'a Value>,
    pub client_capabilities: ClientCapabilities,
}

#[derive(Default)]
pub struct ImportStateResponse {
    /// The imported object; Terraform calls Read on it next.
    pub state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct UpgradeStateRequest<'a> {
    pub version: i64,
    /// The stored state as JSON (already parsed).
    pub raw_state: &'a serde_json::Value,
}

#[derive(Default)]
pub struct UpgradeStateResponse {
    pub state: Value,
    pub diagnostics: Diagnostics,
}

pub struct MoveStateRequest<'a> {
    pub source_provider_address: &'a str,
    pub source_type_name: &'a str,
    pub source_schema_version: i64,
    /// Raw JSON of the source object. It may hold plaintext secrets (a
    /// moved `aws_secretsmanager_secret_version`): read what you need, keep
    /// none of the rest.
    pub source_state: &'a serde_json::Value,
    pub source_private: &'a [u8],
}

#[derive(Default)]
pub struct MoveStateResponse {
    /// Null means "not mine": the framework says no mover matched.
    pub target_state: Value,
    pub target_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

/// One attribute of a resource identity.
#[derive(Clone, Debug, PartialEq)]
pub struct IdentityAttribute {
    pub name: String,
    pub ty: crate::types::Type,
    pub description: String,
    pub required_for_import: bool,
    pub optional_for_import: bool,
}

/// Resource identity (protocol 6.9, Terraform 1.12): the attributes that
/// name the remote object, used by `import { identity = {...} }` and
/// `terraform query`.
#[derive(Clone, Debug, PartialEq)]
pub struct IdentitySchema {
    pub version: i64,
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    pub fn value_type(&self) -> crate::types::Type {
        crate::types::Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .collect(),
        )
    }
}

#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The full type name, for example `offstate_secret`.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// The identity schema, for resources that have one.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }

    /// The identity of the object described by `state` (never null for a
    /// resource with an identity schema and a known state).
    fn identity(&self, _state: &Value) -> Option<Value> {
        None
    }

    async fn validate_config(&self, _req: &ValidateConfigRequest<'_>) -> Diagnostics {
        Diagnostics::new()
    }

    async fn modify_plan(&self, _req: &ModifyPlanRequest<'_>, _resp: &mut ModifyPlanResponse) {}

    async fn create(&self, req: &CreateRequest<'_>, resp: &mut CreateResponse);
    async fn read(&self, req: &ReadRequest<'_>, resp: &mut ReadResponse);
    async fn update(&self, req: &UpdateRequest<'_>, resp: &mut UpdateResponse);
    async fn delete(&self, req: &DeleteRequest<'_>, resp: &mut DeleteResponse);

    async fn import_state(&self, _req: &ImportStateRequest<'_>, resp: &mut ImportStateResponse) {
        resp.diagnostics.push(Diagnostic::error(
            "Import not supported",
            format!("{} does not support import.", self.type_name()),
        ));
    }

    /// Called for states written by an older schema version (and for the
    /// current version too: Terraform always asks). The default decodes the
    /// JSON with the current schema, dropping attributes it no longer has.
    async fn upgrade_state(
        &self,
        _req: &UpgradeStateRequest<'_>,
        _resp: &mut UpgradeStateResponse,
    ) {
    }

    /// Accept a `moved` block from another resource type or provider. The
    /// default declines.
    async fn move_state(&self, _req: &MoveStateRequest<'_>, _resp: &mut MoveStateResponse) {}
}
