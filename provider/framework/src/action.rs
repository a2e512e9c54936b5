//! Actions (`action "TYPE" "NAME"` blocks, Terraform 1.14): an operation a
//! practitioner runs on purpose, with `terraform apply -invoke=action.TYPE.NAME`
//! or from a resource's `lifecycle { action_trigger { ... } }`. An action has a
//! configuration and no state: Terraform stores nothing of it.
//!
//! The method names are terraform-plugin-framework's `action.Action`
//! (Metadata is [`Action::type_name`], Schema, ValidateConfig, ModifyPlan,
//! Invoke). As there, the protocol's server stream is hidden: Invoke reports
//! progress with [`InvokeResponse::send_progress`], and the framework sends
//! the closing `completed` event with the response's diagnostics once Invoke
//! returns (or panics).

use async_trait::async_trait;

use crate::diagnostics::Diagnostics;
use crate::resource::ClientCapabilities;
use crate::schema::Schema;
use crate::value::Value;

pub struct PlanActionRequest<'a> {
    /// May contain unknown values (they become known by the time of Invoke).
    pub config: &'a Value,
    pub client_capabilities: ClientCapabilities,
}

#[derive(Default)]
pub struct PlanActionResponse {
    pub diagnostics: Diagnostics,
}

pub struct InvokeRequest<'a> {
    /// Wholly known.
    pub config: &'a Value,
    pub client_capabilities: ClientCapabilities,
}

/// Where progress messages go: the InvokeAction stream, while the action runs.
type ProgressSink = Box<dyn Fn(String) + Send + Sync>;

pub struct InvokeResponse {
    pub diagnostics: Diagnostics,
    progress: ProgressSink,
}

impl InvokeResponse {
    /// A response whose progress messages go to `progress` (the framework's
    /// is the InvokeAction stream; a test may collect them).
    pub fn new(progress: impl Fn(String) + Send + Sync + 'static) -> Self {
        InvokeResponse {
            diagnostics: Diagnostics::new(),
            progress: Box::new(progress),
        }
    }

    /// Sends a progress message to Terraform now; the CLI prints it while the
    /// action runs. Terraform records it in its logs and UI: it must never
    /// carry a secret value.
    pub fn send_progress(&self, message: impl Into<String>) {
        (self.progress)(message.into());
    }
}

impl Default for InvokeResponse {
    /// Progress messages are dropped.
    fn default() -> Self {
        InvokeResponse::new(|_| {})
    }
}

#[async_trait]
pub trait Action: Send + Sync + 'static {
    /// The full type name, for example `offstate_secret_rotate`.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// ValidateActionConfig; values may be unknown: validate what is known.
    async fn validate_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// PlanAction: the action is about to be planned (`terraform plan
    /// -invoke=...`, or a plan whose resources trigger it). Nothing to change
    /// in a plan; a place for checks that need the provider configured.
    async fn modify_plan(&self, _req: &PlanActionRequest<'_>, _resp: &mut PlanActionResponse) {}

    /// InvokeAction: do it. Errors go to `resp.diagnostics`.
    async fn invoke(&self, req: &InvokeRequest<'_>, resp: &mut InvokeResponse);
}
