//! What a provider implements: its own configuration and the list of its
//! resources. Resources get at the configured client through whatever shared
//! handle the provider gives them when it builds them.

use std::sync::Arc;

use async_trait::async_trait;

use crate::action::Action;
use crate::datasource::{DataSource, EphemeralResource, Function, ListResource};
use crate::diagnostics::Diagnostics;
use crate::resource::{ClientCapabilities, Resource};
use crate::schema::Schema;
use crate::value::Value;

pub struct ConfigureRequest<'a> {
    pub terraform_version: &'a str,
    /// The provider block; may contain unknown values when it depends on
    /// resources not yet created.
    pub config: &'a Value,
    pub client_capabilities: ClientCapabilities,
}

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider's local name, `offstate`: every type name starts with it.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    async fn validate_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    async fn configure(&self, req: &ConfigureRequest<'_>) -> Diagnostics;
    fn resources(&self) -> Vec<Arc<dyn Resource>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }
    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        Vec::new()
    }
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }
    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        Vec::new()
    }
    /// `action` blocks (Terraform 1.14).
    fn actions(&self) -> Vec<Arc<dyn Action>> {
        Vec::new()
    }
    /// StopProvider (Terraform got an interrupt): end the provider's waits early and start no
    /// further attempt of a remote call (retries are the implementation's to stop, e.g. the AWS
    /// SDK's: the framework does not cancel running RPCs). A request already sent to a remote
    /// API finishes on its own (answer or attempt timeout), so its outcome is not lost.
    fn stop(&self) {}
}
