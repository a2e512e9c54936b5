//! The `tfplugin6.Provider` gRPC service, dispatching to a [`Provider`] and
//! its [`Resource`]s.
//!
//! Rules kept here, once, for every resource:
//! - user errors are diagnostics, never a failed RPC (`Status` is only for
//!   calls naming a type this provider does not have);
//! - every state or plan sent back has its write-only attributes nulled
//!   (Terraform rejects anything else, OpenTofu would persist it);
//! - a client that did not say `write_only_attributes_allowed` gets a clear
//!   error in ValidateResourceConfig when a write-only attribute is set;
//! - a panic in a handler becomes an error diagnostic naming the RPC, and its
//!   message (which could hold anything) is not repeated.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use offstate_proto::tfplugin6 as pb;
use pb::provider_server::Provider as Rpc;
use tonic::{Request, Response, Status};

use super::convert;
use crate::action::*;
use crate::datasource::*;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::provider::{ConfigureRequest, Provider};
use crate::resource::*;
use crate::schema::Schema;
use crate::types::Type;
use crate::value::Value;

struct ResourceEntry {
    resource: Arc<dyn Resource>,
    schema: Schema,
    ty: Type,
    identity: Option<(IdentitySchema, Type)>,
}

impl ResourceEntry {
    /// The identity of `state`, encoded, when the resource has one.
    fn identity_of(
        &self,
        state: &Value,
        diags: &mut Diagnostics,
    ) -> Option<pb::ResourceIdentityData> {
        let (_, ity) = self.identity.as_ref()?;
        if state.is_null() {
            return None;
        }
        let id = self.resource.identity(state)?;
        identity_data(&id, ity, diags)
    }
}

struct Typed<T: ?Sized> {
    item: Arc<T>,
    schema: Schema,
    ty: Type,
}

pub struct ProviderService<P: Provider> {
    provider: Arc<P>,
    provider_schema: Schema,
    provider_ty: Type,
    resources: HashMap<String, ResourceEntry>,
    data_sources: HashMap<String, Typed<dyn DataSource>>,
    ephemerals: HashMap<String, Typed<dyn EphemeralResource>>,
    lists: HashMap<String, Typed<dyn ListResource>>,
    actions: HashMap<String, Typed<dyn Action>>,
    functions: HashMap<String, (Arc<dyn Function>, FunctionDefinition)>,
}

impl<P: Provider> ProviderService<P> {
    pub fn new(provider: P) -> Self {
        let provider_schema = provider.schema();
        let provider_ty = provider_schema.value_type();
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                let ty = schema.value_type();
                let identity = r.identity_schema().map(|i| {
                    let t = i.value_type();
                    (i, t)
                });
                (
                    r.type_name().to_string(),
                    ResourceEntry {
                        resource: r,
                        schema,
                        ty,
                        identity,
                    },
                )
            })
            .collect();
        fn typed<T: ?Sized>(item: Arc<T>, schema: Schema) -> Typed<T> {
            let ty = schema.value_type();
            Typed { item, schema, ty }
        }
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| (d.type_name().to_string(), typed(d.clone(), d.schema())))
            .collect();
        let ephemerals = provider
            .ephemeral_resources()
            .into_iter()
            .map(|d| (d.type_name().to_string(), typed(d.clone(), d.schema())))
            .collect();
        let lists = provider
            .list_resources()
            .into_iter()
            .map(|d| (d.type_name().to_string(), typed(d.clone(), d.schema())))
            .collect();
        let actions = provider
            .actions()
            .into_iter()
            .map(|d| (d.type_name().to_string(), typed(d.clone(), d.schema())))
            .collect();
        let functions = provider
            .functions()
            .into_iter()
            .map(|f| (f.name().to_string(), (f.clone(), f.definition())))
            .collect();
        ProviderService {
            provider: Arc::new(provider),
            provider_schema,
            provider_ty,
            resources,
            data_sources,
            ephemerals,
            lists,
            actions,
            functions,
        }
    }

    fn data_source(&self, type_name: &str) -> Result<&Typed<dyn DataSource>, Status> {
        self.data_sources
            .get(type_name)
            .ok_or_else(|| Status::not_found(format!("unknown data source type {type_name:?}")))
    }

    fn ephemeral(&self, type_name: &str) -> Result<&Typed<dyn EphemeralResource>, Status> {
        self.ephemerals.get(type_name).ok_or_else(|| {
            Status::not_found(format!("unknown ephemeral resource type {type_name:?}"))
        })
    }

    fn list(&self, type_name: &str) -> Result<&Typed<dyn ListResource>, Status> {
        self.lists
            .get(type_name)
            .ok_or_else(|| Status::not_found(format!("unknown list resource type {type_name:?}")))
    }

    fn action(&self, type_name: &str) -> Result<&Typed<dyn Action>, Status> {
        self.actions
            .get(type_name)
            .ok_or_else(|| Status::not_found(format!("unknown action type {type_name:?}")))
    }

    fn resource(&self, type_name: &str) -> Result<&ResourceEntry, Status> {
        self.resources
            .get(type_name)
            .ok_or_else(|| Status::not_found(format!("unknown resource type {type_name:?}")))
    }

    /// Every function's definition, as GetProviderSchema and GetFunctions
    /// both send them.
    fn function_definitions(&self) -> HashMap<String, pb::Function> {
        self.functions
            .iter()
            .map(|(k, (_, d))| (k.clone(), convert::function(d)))
            .collect()
    }

    /// `get_provider_schema_optional`: every handler works from the tables
    /// built at start-up, never from an earlier GetProviderSchema, so
    /// Terraform may (and, from 1.6, does) ask only the first process of a
    /// command for the schema and answer later starts from its cache, as it
    /// does for terraform-plugin-framework providers.
    fn server_capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            plan_destroy: true,
            get_provider_schema_optional: true,
            move_resource_state: true,
            generate_resource_config: false,
        }
    }
}

/// Runs a handler, turning a panic into an error diagnostic.
async fn guarded<F>(rpc: &'static str, fut: F) -> Result<F::Output, Diagnostic>
where
    F: Future,
{
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(out) => Ok(out),
        Err(_) => {
            tracing::error!(rpc, "handler panicked");
            Err(Diagnostic::error(
                "Provider internal error",
                format!(
                    "The provider failed unexpectedly while handling {rpc}. Nothing was logged about the values \
                     involved. Please report this issue with the Terraform command you ran."
                ),
            ))
        }
    }
}

/// Runs a handler that answers with diagnostics (validators,
/// ConfigureProvider, CloseEphemeralResource); a panic is answered with the
/// error diagnostic [`guarded`] makes of it.
async fn guarded_diagnostics<F>(rpc: &'static str, fut: F) -> Diagnostics
where
    F: Future<Output = Diagnostics>,
{
    guarded(rpc, fut).await.unwrap_or_else(Diagnostics::from)
}

/// Runs a handler that answers through its response: true when it
/// returned (collecting the response's diagnostics is the caller's part);
/// false when it panicked, the error diagnostic then pushed to `diags`.
async fn ran<F>(rpc: &'static str, fut: F, diags: &mut Diagnostics) -> bool
where
    F: Future<Output = ()>,
{
    match guarded(rpc, fut).await {
        Ok(()) => true,
        Err(d) => {
            diags.push(d);
            false
        }
    }
}

/// Decodes a configuration and runs a validator on it: the shape of every
/// Validate*Config RPC.
async fn validate_config<F, Fut>(
    rpc: &'static str,
    config: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
    validator: F,
) -> Vec<pb::Diagnostic>
where
    F: FnOnce(Value) -> Fut,
    Fut: Future<Output = Diagnostics>,
{
    let mut diags = Diagnostics::new();
    if let Some(config) = dec(config, ty, what, &mut diags) {
        diags.extend(guarded_diagnostics(rpc, validator(config)).await);
    }
    convert::diagnostics(&diags)
}

/// The value, or `None` with the error diagnostic pushed to `diags`.
fn ok_or_push<T>(result: Result<T, Diagnostic>, diags: &mut Diagnostics) -> Option<T> {
    result.map_err(|d| diags.push(d)).ok()
}

/// [`convert::decode`] and [`convert::encode`], for handlers that collect
/// diagnostics: a failure is pushed to `diags` and answered with `None`.
fn dec(
    v: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<Value> {
    ok_or_push(convert::decode(v, ty, what), diags)
}

fn enc(v: &Value, ty: &Type, diags: &mut Diagnostics) -> Option<pb::DynamicValue> {
    ok_or_push(convert::encode(v, ty), diags)
}

/// An identity, encoded as `ity` for the wire.
fn identity_data(
    id: &Value,
    ity: &Type,
    diags: &mut Diagnostics,
) -> Option<pb::ResourceIdentityData> {
    enc(id, ity, diags).map(|d| pb::ResourceIdentityData {
        identity_data: Some(d),
    })
}

/// Nulls write-only attributes and encodes: every state or plan leaving the
/// provider goes through here.
fn outgoing(
    mut v: Value,
    entry: &ResourceEntry,
    diags: &mut Diagnostics,
) -> Option<pb::DynamicValue> {
    entry.schema.block.null_write_only(&mut v);
    enc(&v, &entry.ty, diags)
}

#[tonic::async_trait]
impl<P: Provider> Rpc for ProviderService<P> {
    async fn get_metadata(
        &self,
        _req: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(Self::server_capabilities()),
            resources: self
                .resources
                .keys()
                .map(|k| pb::get_metadata::ResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            data_sources: self
                .data_sources
                .keys()
                .map(|k| pb::get_metadata::DataSourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            ephemeral_resources: self
                .ephemerals
                .keys()
                .map(|k| pb::get_metadata::EphemeralMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            list_resources: self
                .lists
                .keys()
                .map(|k| pb::get_metadata::ListResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            functions: self
                .functions
                .keys()
                .map(|k| pb::get_metadata::FunctionMetadata { name: k.clone() })
                .collect(),
            actions: self
                .actions
                .keys()
                .map(|k| pb::get_metadata::ActionMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _req: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(convert::schema(&self.provider_schema)),
            resource_schemas: self
                .resources
                .iter()
                .map(|(k, e)| (k.clone(), convert::schema(&e.schema)))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(k, e)| (k.clone(), convert::schema(&e.schema)))
                .collect(),
            ephemeral_resource_schemas: self
                .ephemerals
                .iter()
                .map(|(k, e)| (k.clone(), convert::schema(&e.schema)))
                .collect(),
            list_resource_schemas: self
                .lists
                .iter()
                .map(|(k, e)| (k.clone(), convert::schema(&e.schema)))
                .collect(),
            functions: self.function_definitions(),
            action_schemas: self
                .actions
                .iter()
                .map(|(k, e)| {
                    (
                        k.clone(),
                        pb::ActionSchema {
                            schema: Some(convert::schema(&e.schema)),
                        },
                    )
                })
                .collect(),
            server_capabilities: Some(Self::server_capabilities()),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = req.into_inner();
        let provider = &self.provider;
        let diagnostics = validate_config(
            "ValidateProviderConfig",
            req.config.as_ref(),
            &self.provider_ty,
            "provider configuration",
            |config| async move { provider.validate_config(&config).await },
        )
        .await;
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics,
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        if let Some(config) = dec(
            req.config.as_ref(),
            &self.provider_ty,
            "provider configuration",
            &mut diags,
        ) {
            let creq = ConfigureRequest {
                terraform_version: &req.terraform_version,
                config: &config,
                client_capabilities: convert::capabilities(req.client_capabilities.as_ref()),
            };
            diags.extend(
                guarded_diagnostics("ConfigureProvider", self.provider.configure(&creq)).await,
            );
        }
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = req.into_inner();
        let entry = self.resource(&req.type_name)?;
        let caps = convert::capabilities(req.client_capabilities.as_ref());
        let mut diags = Diagnostics::new();
        if let Some(config) = dec(
            req.config.as_ref(),
            &entry.ty,
            "resource configuration",
            &mut diags,
        ) {
            if !caps.write_only_attributes_allowed {
                for p in entry.schema.block.write_only_paths_set(&config) {
                    diags.attr_error(
                        p.clone(),
                        "Write-only attribute not allowed",
                        format!(
                            "The resource sets the write-only attribute {p}, and this Terraform client did not \
                             say it supports write-only attributes. They need Terraform 1.11 or later \
                             (or OpenTofu 1.11 or later)."
                        ),
                    );
                }
            }
            let vreq = ValidateConfigRequest {
                type_name: &req.type_name,
                config: &config,
                client_capabilities: caps,
            };
            diags.extend(
                guarded_diagnostics(
                    "ValidateResourceConfig",
                    entry.resource.validate_config(&vreq),
                )
                .await,
            );
        }
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        let entry = self.resource(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let mut upgraded = None;
        if let Some(raw) = ok_or_push(convert::raw_state_json(req.raw_state.as_ref()), &mut diags) {
            let ureq = UpgradeStateRequest {
                version: req.version,
                raw_state: &raw,
            };
            let mut resp = UpgradeStateResponse::default();
            if ran(
                "UpgradeResourceState",
                entry.resource.upgrade_state(&ureq, &mut resp),
                &mut diags,
            )
            .await
            {
                diags.extend(std::mem::take(&mut resp.diagnostics));
                // The resource left it to us: decode with the current schema.
                if resp.state.is_null() && !raw.is_null() && !diags.has_errors() {
                    match crate::codec::from_json_value(&raw, &entry.ty) {
                        Ok((v, dropped)) => {
                            if !dropped.is_empty() {
                                tracing::debug!(type_name = %req.type_name, ?dropped, "dropped attributes not in the schema");
                            }
                            resp.state = v;
                        }
                        Err(e) => diags.push(
                            Diagnostic::error(
                                "Invalid stored state",
                                format!(
                                    "The stored state does not match the schema: {}.",
                                    e.message
                                ),
                            )
                            .at(e.path),
                        ),
                    }
                }
                if !diags.has_errors() {
                    upgraded = outgoing(resp.state, entry, &mut diags);
                }
            }
        }
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: upgraded,
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = req.into_inner();
        let entry = self.resource(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let Some(current) = dec(
            req.current_state.as_ref(),
            &entry.ty,
            "current state",
            &mut diags,
        ) else {
            return Ok(Response::new(pb::read_resource::Response {
                diagnostics: convert::diagnostics(&diags),
                ..Default::default()
            }));
        };
        let rreq = ReadRequest {
            current_state: &current,
            private: &req.private,
            client_capabilities: convert::capabilities(req.client_capabilities.as_ref()),
        };
        let mut resp = ReadResponse {
            state: current.clone(),
            private: req.private.clone(),
            diagnostics: Diagnostics::new(),
        };
        let (new_state, new_identity) = if ran(
            "ReadResource",
            entry.resource.read(&rreq, &mut resp),
            &mut diags,
        )
        .await
        {
            diags.extend(std::mem::take(&mut resp.diagnostics));
            let identity = entry.identity_of(&resp.state, &mut diags);
            (
                outgoing(std::mem::take(&mut resp.state), entry, &mut diags),
                identity,
            )
        } else {
            let identity = entry.identity_of(&current, &mut diags);
            (outgoing(current.clone(), entry, &mut diags), identity)
        };
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics: convert::diagnostics(&diags),
            private: resp.private,
            new_identity,
            ..Default::default()
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        let entry = self.resource(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let decoded = (|| {
            Ok::<_, Diagnostic>((
                convert::decode(req.prior_state.as_ref(), &entry.ty, "prior state")?,
                convert::decode(
                    req.proposed_new_state.as_ref(),
                    &entry.ty,
                    "proposed new state",
                )?,
                convert::decode(req.config.as_ref(), &entry.ty, "configuration")?,
            ))
        })();
        let Some((mut prior, proposed, config)) = ok_or_push(decoded, &mut diags) else {
            return Ok(Response::new(pb::plan_resource_change::Response {
                diagnostics: convert::diagnostics(&diags),
                ..Default::default()
            }));
        };
        entry.schema.block.null_write_only(&mut prior);
        let mut planned = proposed.clone();
        entry.schema.block.null_write_only(&mut planned);
        // When anything changes, computed attributes the configuration
        // leaves unset are unknown until apply (the resource may know better
        // and put the prior value back in modify_plan).
        if !planned.is_null() && planned != prior {
            for name in entry.schema.block.computed_unset(&config) {
                planned.set(&name, Value::Unknown);
            }
        }
        let mreq = ModifyPlanRequest {
            config: &config,
            prior_state: &prior,
            proposed_new_state: &proposed,
            prior_private: &req.prior_private,
            client_capabilities: convert::capabilities(req.client_capabilities.as_ref()),
        };
        let mut resp = ModifyPlanResponse {
            planned_state: planned,
            requires_replace: Vec::new(),
            planned_private: req.prior_private.clone(),
            diagnostics: Diagnostics::new(),
        };
        let mut planned_state = None;
        let mut planned_identity = None;
        if ran(
            "PlanResourceChange",
            entry.resource.modify_plan(&mreq, &mut resp),
            &mut diags,
        )
        .await
        {
            diags.extend(std::mem::take(&mut resp.diagnostics));
            // The identity is known only once the object exists; before
            // that, send none rather than unknowns.
            if !prior.is_null() && !resp.planned_state.is_null() {
                planned_identity = entry.identity_of(&resp.planned_state, &mut diags);
            }
            planned_state = outgoing(std::mem::take(&mut resp.planned_state), entry, &mut diags);
        }
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state,
            planned_identity,
            requires_replace: resp.requires_replace.iter().map(convert::path).collect(),
            planned_private: resp.planned_private,
            diagnostics: convert::diagnostics(&diags),
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        let entry = self.resource(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let decoded = (|| {
            Ok::<_, Diagnostic>((
                convert::decode(req.prior_state.as_ref(), &entry.ty, "prior state")?,
                convert::decode(req.planned_state.as_ref(), &entry.ty, "planned state")?,
                convert::decode(req.config.as_ref(), &entry.ty, "configuration")?,
            ))
        })();
        let Some((prior, planned, config)) = ok_or_push(decoded, &mut diags) else {
            return Ok(Response::new(pb::apply_resource_change::Response {
                diagnostics: convert::diagnostics(&diags),
                ..Default::default()
            }));
        };
        let (state, private) = if planned.is_null() {
            let dreq = DeleteRequest {
                prior_state: &prior,
                prior_private: &req.planned_private,
            };
            let mut resp = DeleteResponse::default();
            if ran(
                "ApplyResourceChange",
                entry.resource.delete(&dreq, &mut resp),
                &mut diags,
            )
            .await
            {
                diags.extend(resp.diagnostics);
            }
            // On a failed delete the object still exists: keep it.
            (
                if diags.has_errors() {
                    prior.clone()
                } else {
                    Value::Null
                },
                req.planned_private.clone(),
            )
        } else if prior.is_null() {
            let creq = CreateRequest {
                config: &config,
                planned_state: &planned,
                planned_private: &req.planned_private,
            };
            let mut resp = CreateResponse {
                state: Value::Null,
                private: Vec::new(),
                diagnostics: Diagnostics::new(),
            };
            if ran(
                "ApplyResourceChange",
                entry.resource.create(&creq, &mut resp),
                &mut diags,
            )
            .await
            {
                diags.extend(resp.diagnostics);
            }
            (resp.state, resp.private)
        } else {
            let ureq = UpdateRequest {
                config: &config,
                prior_state: &prior,
                planned_state: &planned,
                planned_private: &req.planned_private,
            };
            let mut resp = UpdateResponse {
                state: planned.clone(),
                private: req.planned_private.clone(),
                diagnostics: Diagnostics::new(),
            };
            if ran(
                "ApplyResourceChange",
                entry.resource.update(&ureq, &mut resp),
                &mut diags,
            )
            .await
            {
                diags.extend(resp.diagnostics);
            } else {
                resp.state = prior.clone();
            }
            (resp.state, resp.private)
        };
        let new_identity = if state.is_wholly_known() {
            entry.identity_of(&state, &mut diags)
        } else {
            None
        };
        let new_state = if state.is_null() {
            enc(&Value::Null, &entry.ty, &mut diags)
        } else if !state.is_wholly_known() {
            // Terraform rejects unknowns after apply; a failed create or
            // update can leave some. Report instead of sending them.
            if !diags.has_errors() {
                diags.error(
                    "Provider returned an incomplete object",
                    "This is a bug in the provider: some attributes are still unknown after apply.",
                );
            }
            if prior.is_null() {
                None
            } else {
                outgoing(prior, entry, &mut diags)
            }
        } else {
            outgoing(state, entry, &mut diags)
        };
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state,
            private,
            diagnostics: convert::diagnostics(&diags),
            new_identity,
            ..Default::default()
        }))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        let entry = self.resource(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let identity = match (
            &entry.identity,
            req.identity.as_ref().and_then(|i| i.identity_data.as_ref()),
        ) {
            (Some((_, ity)), Some(data)) => dec(Some(data), ity, "import identity", &mut diags),
            _ => None,
        };
        let ireq = ImportStateRequest {
            id: &req.id,
            identity: identity.as_ref(),
            client_capabilities: convert::capabilities(req.client_capabilities.as_ref()),
        };
        let mut resp = ImportStateResponse::default();
        let mut imported = Vec::new();
        if ran(
            "ImportResourceState",
            entry.resource.import_state(&ireq, &mut resp),
            &mut diags,
        )
        .await
        {
            diags.extend(std::mem::take(&mut resp.diagnostics));
            if !diags.has_errors() && !resp.state.is_null() {
                let identity = entry.identity_of(&resp.state, &mut diags);
                if let Some(state) = outgoing(resp.state, entry, &mut diags) {
                    imported.push(pb::import_resource_state::ImportedResource {
                        type_name: req.type_name.clone(),
                        state: Some(state),
                        private: resp.private,
                        identity,
                    });
                }
            }
        }
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported,
            diagnostics: convert::diagnostics(&diags),
            deferred: None,
        }))
    }

    async fn move_resource_state(
        &self,
        req: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let req = req.into_inner();
        let entry = self.resource(&req.target_type_name)?;
        let mut diags = Diagnostics::new();
        let mut target_state = None;
        let mut target_private = Vec::new();
        let mut target_identity = None;
        if let Some(raw) = ok_or_push(
            convert::raw_state_json(req.source_state.as_ref()),
            &mut diags,
        ) {
            let mreq = MoveStateRequest {
                source_provider_address: &req.source_provider_address,
                source_type_name: &req.source_type_name,
                source_schema_version: req.source_schema_version,
                source_state: &raw,
                source_private: &req.source_private,
            };
            let mut resp = MoveStateResponse::default();
            if ran(
                "MoveResourceState",
                entry.resource.move_state(&mreq, &mut resp),
                &mut diags,
            )
            .await
            {
                diags.extend(std::mem::take(&mut resp.diagnostics));
                if resp.target_state.is_null() && !diags.has_errors() {
                    diags.error(
                        "Unable to move resource state",
                        format!(
                            "{} cannot be moved from {} ({}, schema version {}).",
                            req.target_type_name,
                            req.source_type_name,
                            req.source_provider_address,
                            req.source_schema_version
                        ),
                    );
                } else if !diags.has_errors() {
                    target_identity = entry.identity_of(&resp.target_state, &mut diags);
                    target_state = outgoing(resp.target_state, entry, &mut diags);
                    target_private = resp.target_private;
                }
            }
        }
        Ok(Response::new(pb::move_resource_state::Response {
            target_state,
            diagnostics: convert::diagnostics(&diags),
            target_private,
            target_identity,
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _req: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .resources
                .iter()
                .filter_map(|(k, e)| {
                    e.identity
                        .as_ref()
                        .map(|(i, _)| (k.clone(), convert::identity_schema(i)))
                })
                .collect(),
            diagnostics: Vec::new(),
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let req = req.into_inner();
        let entry = self.resource(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let mut upgraded = None;
        match (
            &entry.identity,
            convert::raw_state_json(req.raw_identity.as_ref()),
        ) {
            (Some((_, ity)), Ok(raw)) => match crate::codec::from_json_value(&raw, ity) {
                Ok((v, _)) => upgraded = identity_data(&v, ity, &mut diags),
                Err(e) => diags.error("Invalid stored identity", format!("{e}.")),
            },
            (None, _) => diags.error(
                "No identity",
                format!("{} has no resource identity.", req.type_name),
            ),
            (_, Err(d)) => diags.push(d),
        }
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity: upgraded,
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = req.into_inner();
        let ds = self.data_source(&req.type_name)?;
        let item = &ds.item;
        let diagnostics = validate_config(
            "ValidateDataResourceConfig",
            req.config.as_ref(),
            &ds.ty,
            "data source configuration",
            |config| async move { item.validate_config(&config).await },
        )
        .await;
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics,
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = req.into_inner();
        let ds = self.data_source(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let mut state = None;
        if let Some(config) = dec(
            req.config.as_ref(),
            &ds.ty,
            "data source configuration",
            &mut diags,
        ) {
            let rreq = ReadDataRequest {
                config: &config,
                client_capabilities: convert::capabilities(req.client_capabilities.as_ref()),
            };
            let mut resp = ReadDataResponse {
                state: config.clone(),
                diagnostics: Diagnostics::new(),
            };
            if ran("ReadDataSource", ds.item.read(&rreq, &mut resp), &mut diags).await {
                diags.extend(resp.diagnostics);
                if !diags.has_errors() {
                    ds.schema.block.null_write_only(&mut resp.state);
                    state = enc(&resp.state, &ds.ty, &mut diags);
                }
            }
        }
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics: convert::diagnostics(&diags),
            deferred: None,
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let req = req.into_inner();
        let e = self.ephemeral(&req.type_name)?;
        let item = &e.item;
        let diagnostics = validate_config(
            "ValidateEphemeralResourceConfig",
            req.config.as_ref(),
            &e.ty,
            "ephemeral resource configuration",
            |config| async move { item.validate_config(&config).await },
        )
        .await;
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response { diagnostics },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let req = req.into_inner();
        let e = self.ephemeral(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let mut out = pb::open_ephemeral_resource::Response::default();
        if let Some(config) = dec(
            req.config.as_ref(),
            &e.ty,
            "ephemeral resource configuration",
            &mut diags,
        ) {
            let oreq = OpenRequest {
                config: &config,
                client_capabilities: convert::capabilities(req.client_capabilities.as_ref()),
            };
            let mut resp = OpenResponse {
                result: config.clone(),
                ..Default::default()
            };
            if ran(
                "OpenEphemeralResource",
                e.item.open(&oreq, &mut resp),
                &mut diags,
            )
            .await
            {
                diags.extend(std::mem::take(&mut resp.diagnostics));
                if !diags.has_errors() {
                    out.result = enc(&resp.result, &e.ty, &mut diags);
                    out.private = resp.private;
                    out.renew_at = resp.renew_at.map(prost_types::Timestamp::from);
                }
            }
        }
        out.diagnostics = convert::diagnostics(&diags);
        Ok(Response::new(out))
    }

    async fn renew_ephemeral_resource(
        &self,
        req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        let req = req.into_inner();
        let e = self.ephemeral(&req.type_name)?;
        let mut resp = RenewResponse::default();
        let mut diags = Diagnostics::new();
        if ran(
            "RenewEphemeralResource",
            e.item.renew(req.private.as_deref(), &mut resp),
            &mut diags,
        )
        .await
        {
            diags.extend(std::mem::take(&mut resp.diagnostics));
        }
        Ok(Response::new(pb::renew_ephemeral_resource::Response {
            diagnostics: convert::diagnostics(&diags),
            renew_at: resp.renew_at.map(prost_types::Timestamp::from),
            private: resp.private,
        }))
    }

    async fn close_ephemeral_resource(
        &self,
        req: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        let req = req.into_inner();
        let e = self.ephemeral(&req.type_name)?;
        let diags = guarded_diagnostics(
            "CloseEphemeralResource",
            e.item.close(req.private.as_deref()),
        )
        .await;
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    async fn get_functions(
        &self,
        _req: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response {
            functions: self.function_definitions(),
            diagnostics: Vec::new(),
        }))
    }

    async fn call_function(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let req = req.into_inner();
        let Some((f, def)) = self.functions.get(&req.name) else {
            return Ok(Response::new(pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text: format!("unknown function {:?}", req.name),
                    function_argument: None,
                }),
            }));
        };
        let refuse = |text: String, argument: Option<usize>| {
            Ok(Response::new(pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text,
                    function_argument: argument.map(|i| i as i64),
                }),
            }))
        };
        // Terraform checks the count before calling; kept for other clients.
        let (fixed, got) = (def.parameters.len(), req.arguments.len());
        if got < fixed {
            let more = if def.variadic_parameter.is_some() {
                "at least "
            } else {
                ""
            };
            return refuse(
                format!(
                    "function {:?} takes {more}{fixed} argument(s), got {got}",
                    req.name
                ),
                None,
            );
        }
        // Variadic arguments come one DynamicValue each, after the fixed ones.
        let mut args = Vec::with_capacity(got);
        for (i, arg) in req.arguments.iter().enumerate() {
            let Some(p) = def.parameters.get(i).or(def.variadic_parameter.as_ref()) else {
                return refuse(
                    format!(
                        "function {:?} takes {fixed} argument(s), got {got}",
                        req.name
                    ),
                    Some(i),
                );
            };
            match convert::decode(Some(arg), &p.ty, "function argument") {
                Ok(v) => args.push(v),
                Err(d) => return refuse(d.detail, Some(i)),
            }
        }
        let outcome = match guarded("CallFunction", f.call(&args)).await {
            Ok(r) => r,
            Err(d) => Err(FunctionError {
                text: d.detail,
                argument: None,
            }),
        };
        let mut diags = Diagnostics::new();
        Ok(Response::new(match outcome {
            Ok(v) => match enc(&v, &def.return_type, &mut diags) {
                Some(result) => pb::call_function::Response {
                    result: Some(result),
                    error: None,
                },
                // A result that does not fit the declared return type is the function's
                // bug; Terraform would read a missing result as null, silently.
                None => pb::call_function::Response {
                    result: None,
                    error: Some(pb::FunctionError {
                        text: diags
                            .iter()
                            .map(|d| d.detail.clone())
                            .collect::<Vec<_>>()
                            .join("; "),
                        function_argument: None,
                    }),
                },
            },
            Err(e) => pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text: e.text,
                    function_argument: e.argument,
                }),
            },
        }))
    }

    async fn list_resource(
        &self,
        req: Request<pb::list_resource::Request>,
    ) -> Result<
        Response<
            std::pin::Pin<
                Box<
                    dyn futures::Stream<Item = Result<pb::list_resource::Event, Status>>
                        + Send
                        + 'static,
                >,
            >,
        >,
        Status,
    > {
        let req = req.into_inner();
        let l = self.list(&req.type_name)?;
        let entry = self.resource(&req.type_name)?;
        let mut events = Vec::new();
        let mut diags = Diagnostics::new();
        // The config arrives wrapped: the list block's own attributes plus `config`.
        if let Some(config) = ok_or_push(
            convert::decode_list_config(req.config.as_ref(), &l.ty),
            &mut diags,
        ) {
            let lreq = ListRequest {
                config: &config,
                include_resource_object: req.include_resource_object,
                limit: req.limit,
            };
            let mut resp = ListResponse::default();
            if ran("ListResource", l.item.list(&lreq, &mut resp), &mut diags).await {
                diags.extend(std::mem::take(&mut resp.diagnostics));
                for r in resp.results {
                    let mut d = Diagnostics::new();
                    let identity = entry
                        .identity
                        .as_ref()
                        .and_then(|(_, ity)| identity_data(&r.identity, ity, &mut d));
                    let resource_object =
                        r.resource_object.and_then(|o| outgoing(o, entry, &mut d));
                    events.push(Ok(pb::list_resource::Event {
                        identity,
                        display_name: r.display_name,
                        resource_object,
                        diagnostic: convert::diagnostics(&d),
                    }));
                }
            }
        }
        if !diags.is_empty() {
            events.push(Ok(pb::list_resource::Event {
                diagnostic: convert::diagnostics(&diags),
                ..Default::default()
            }));
        }
        Ok(Response::new(Box::pin(futures::stream::iter(events))))
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = req.into_inner();
        self.list(&req.type_name)?;
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics: Vec::new(),
        }))
    }

    async fn validate_action_config(
        &self,
        req: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        let req = req.into_inner();
        let a = self.action(&req.type_name)?;
        let item = &a.item;
        let diagnostics = validate_config(
            "ValidateActionConfig",
            req.config.as_ref(),
            &a.ty,
            "action configuration",
            |config| async move { item.validate_config(&config).await },
        )
        .await;
        Ok(Response::new(pb::validate_action_config::Response {
            diagnostics,
        }))
    }

    async fn plan_action(
        &self,
        req: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        let req = req.into_inner();
        let a = self.action(&req.action_type)?;
        let mut diags = Diagnostics::new();
        if let Some(config) = dec(
            req.config.as_ref(),
            &a.ty,
            "action configuration",
            &mut diags,
        ) {
            let preq = PlanActionRequest {
                config: &config,
                client_capabilities: convert::capabilities(req.client_capabilities.as_ref()),
            };
            let mut resp = PlanActionResponse::default();
            if ran(
                "PlanAction",
                a.item.modify_plan(&preq, &mut resp),
                &mut diags,
            )
            .await
            {
                diags.extend(resp.diagnostics);
            }
        }
        Ok(Response::new(pb::plan_action::Response {
            diagnostics: convert::diagnostics(&diags),
            deferred: None,
        }))
    }

    /// The stream is the action's progress messages as it sends them, then
    /// one `completed` event with its diagnostics (a user error is a
    /// diagnostic there, never a failed RPC). The action runs as the stream
    /// is read: Terraform dropping the stream (an interrupt) drops the run.
    async fn invoke_action(
        &self,
        req: Request<pb::invoke_action::Request>,
    ) -> Result<
        Response<
            std::pin::Pin<
                Box<
                    dyn futures::Stream<Item = Result<pb::invoke_action::Event, Status>>
                        + Send
                        + 'static,
                >,
            >,
        >,
        Status,
    > {
        use futures::StreamExt;
        use pb::invoke_action::event::{Completed, Progress, Type as Kind};

        let req = req.into_inner();
        let a = self.action(&req.action_type)?;
        let (item, ty) = (Arc::clone(&a.item), a.ty.clone());
        let (tx, rx) = futures::channel::mpsc::unbounded::<pb::invoke_action::Event>();
        let run = async move {
            let mut diags = Diagnostics::new();
            if let Some(config) = dec(req.config.as_ref(), &ty, "action configuration", &mut diags)
            {
                let ireq = InvokeRequest {
                    config: &config,
                    client_capabilities: convert::capabilities(req.client_capabilities.as_ref()),
                };
                let progress = tx.clone();
                let mut resp = InvokeResponse::new(move |message: String| {
                    // Like diagnostics, progress never carries a registered credential (a
                    // message may quote an AWS error's text). A closed stream (Terraform
                    // gone) drops the message.
                    let message = crate::withheld::scrub(&message).into_owned();
                    let _ = progress.unbounded_send(pb::invoke_action::Event {
                        r#type: Some(Kind::Progress(Progress { message })),
                    });
                });
                if ran("InvokeAction", item.invoke(&ireq, &mut resp), &mut diags).await {
                    diags.extend(std::mem::take(&mut resp.diagnostics));
                }
            }
            // Sent through the same channel as the progress, so it comes last.
            let _ = tx.unbounded_send(pb::invoke_action::Event {
                r#type: Some(Kind::Completed(Completed {
                    diagnostics: convert::diagnostics(&diags),
                })),
            });
        };
        // `run` yields nothing itself; polling it alongside the channel makes the
        // action progress while its events are read. The channel ends when
        // `run` has finished and dropped its senders.
        let driver = futures::stream::once(run).filter_map(|()| async { None });
        let events = futures::stream::select(rx, driver).map(Ok);
        Ok(Response::new(Box::pin(events)))
    }

    async fn stop_provider(
        &self,
        _req: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        // Waits and retries end early; a call already sent finishes on its
        // own (each AWS call has its own timeout), so its outcome is recorded.
        tracing::info!("StopProvider: ending waits and retries");
        self.provider.stop();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode_msgpack;
    use crate::schema::Block;
    use async_trait::async_trait;

    /// `join(head, rest...)`: its arguments joined with `,`, a null as `-`.
    struct Join;

    #[async_trait]
    impl Function for Join {
        fn name(&self) -> &'static str {
            "join"
        }
        fn definition(&self) -> FunctionDefinition {
            let p = |name: &str| Parameter {
                name: name.into(),
                ty: Type::String,
                description: String::new(),
                allow_null: true,
            };
            FunctionDefinition {
                parameters: vec![p("head")],
                variadic_parameter: Some(p("rest")),
                return_type: Type::String,
                summary: String::new(),
                description: String::new(),
            }
        }
        async fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
            if args.first().and_then(Value::as_str) == Some("buggy") {
                // Not the declared return type.
                return Ok(Value::List(vec![Value::Bool(true)]));
            }
            let parts: Vec<&str> = args.iter().map(|a| a.as_str().unwrap_or("-")).collect();
            Ok(Value::string(parts.join(",")))
        }
    }

    struct WithJoin;

    #[async_trait]
    impl Provider for WithJoin {
        fn type_name(&self) -> &'static str {
            "test"
        }
        fn schema(&self) -> Schema {
            Schema::new(0, Block::default())
        }
        async fn configure(&self, _req: &ConfigureRequest<'_>) -> Diagnostics {
            Diagnostics::new()
        }
        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            Vec::new()
        }
        fn functions(&self) -> Vec<Arc<dyn Function>> {
            vec![Arc::new(Join)]
        }
    }

    async fn call(args: &[Value]) -> pb::call_function::Response {
        let arguments = args
            .iter()
            .map(|a| pb::DynamicValue {
                msgpack: encode_msgpack(a, &Type::String).unwrap(),
                json: Vec::new(),
            })
            .collect();
        let req = pb::call_function::Request {
            name: "join".into(),
            arguments,
        };
        ProviderService::new(WithJoin)
            .call_function(Request::new(req))
            .await
            .unwrap()
            .into_inner()
    }

    #[tokio::test]
    async fn variadic_parameter_is_declared_and_its_arguments_appended() {
        let svc = ProviderService::new(WithJoin);
        let fns = svc
            .get_functions(Request::new(pb::get_functions::Request {}))
            .await
            .unwrap()
            .into_inner()
            .functions;
        let join = &fns["join"];
        assert_eq!(join.parameters.len(), 1);
        assert_eq!(join.variadic_parameter.as_ref().unwrap().name, "rest");

        let s = Value::string;
        for (args, want) in [
            (vec![s("a")], "a"),
            (vec![s("a"), s("b")], "a,b"),
            (vec![s("a"), Value::Null, s("c")], "a,-,c"),
        ] {
            let resp = call(&args).await;
            assert_eq!(resp.error, None);
            let got = convert::decode(resp.result.as_ref(), &Type::String, "result").unwrap();
            assert_eq!(got.as_str(), Some(want));
        }

        let err = call(&[]).await.error.unwrap();
        assert_eq!(err.function_argument, None);
        assert!(err.text.contains("at least 1"), "{}", err.text);
    }

    #[tokio::test]
    async fn a_result_of_the_wrong_type_is_an_error_not_a_null() {
        // Terraform reads a missing result as null: the caller must see an error.
        let resp = call(&[Value::string("buggy")]).await;
        assert_eq!(resp.result, None);
        let err = resp.error.expect("an error");
        assert!(!err.text.is_empty());
        assert_eq!(err.function_argument, None);
    }

    /// `test_steps`: sends one progress message per step, then fails when
    /// `steps` is "fail" and panics when it is "panic".
    struct Steps;

    #[async_trait]
    impl Action for Steps {
        fn type_name(&self) -> &'static str {
            "test_steps"
        }
        fn schema(&self) -> Schema {
            Schema::new(
                0,
                Block::default().attribute(crate::Attribute::required("steps", Type::String)),
            )
        }
        async fn validate_config(&self, config: &Value) -> Diagnostics {
            let mut d = Diagnostics::new();
            if config.get("steps").as_str() == Some("") {
                d.push(Diagnostic::error("Empty", "steps is empty"));
            }
            d
        }
        async fn modify_plan(&self, req: &PlanActionRequest<'_>, resp: &mut PlanActionResponse) {
            if matches!(req.config.get("steps"), Value::Unknown) {
                resp.diagnostics
                    .push(Diagnostic::warning("Unknown", "steps known at invoke"));
            }
        }
        async fn invoke(&self, req: &InvokeRequest<'_>, resp: &mut InvokeResponse) {
            let steps = req.config.get("steps").as_str().unwrap_or_default();
            for step in ["one", "two"] {
                resp.send_progress(format!("{step} of {steps}"));
                tokio::task::yield_now().await;
            }
            match steps {
                "panic" => panic!("a value the panic message may hold"),
                "fail" => resp
                    .diagnostics
                    .push(Diagnostic::error("Failed", "it failed")),
                _ => {}
            }
        }
    }

    struct WithSteps;

    #[async_trait]
    impl Provider for WithSteps {
        fn type_name(&self) -> &'static str {
            "test"
        }
        fn schema(&self) -> Schema {
            Schema::new(0, Block::default())
        }
        async fn configure(&self, _req: &ConfigureRequest<'_>) -> Diagnostics {
            Diagnostics::new()
        }
        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            Vec::new()
        }
        fn actions(&self) -> Vec<Arc<dyn Action>> {
            vec![Arc::new(Steps)]
        }
    }

    fn steps_config(steps: Value) -> Option<pb::DynamicValue> {
        let ty = Steps.schema().value_type();
        Some(convert::encode(&Value::object([("steps", steps)]), &ty).unwrap())
    }

    /// The events of one InvokeAction, as sent.
    async fn events(
        action_type: &str,
        steps: &str,
    ) -> Result<Vec<pb::invoke_action::Event>, Status> {
        use futures::StreamExt;
        let stream = ProviderService::new(WithSteps)
            .invoke_action(Request::new(pb::invoke_action::Request {
                action_type: action_type.into(),
                config: steps_config(Value::string(steps)),
                client_capabilities: None,
            }))
            .await?
            .into_inner();
        let events: Vec<_> = stream.collect().await;
        Ok(events.into_iter().map(Result::unwrap).collect())
    }

    /// Every text of the events (progress messages, diagnostics' summaries and details), for
    /// what must never be in any of them.
    fn all_text(events: &[pb::invoke_action::Event]) -> String {
        use pb::invoke_action::event::Type as Kind;
        let mut text = String::new();
        for e in events {
            match e.r#type.as_ref().unwrap() {
                Kind::Progress(p) => text.push_str(&p.message),
                Kind::Completed(c) => {
                    for d in &c.diagnostics {
                        text.push_str(&d.summary);
                        text.push_str(&d.detail);
                    }
                }
            }
            text.push('\n');
        }
        text
    }

    /// The events of one InvokeAction, as `progress: MESSAGE` and
    /// `completed: SUMMARY...`.
    async fn invoked(action_type: &str, steps: &str) -> Result<Vec<String>, Status> {
        use pb::invoke_action::event::Type as Kind;
        Ok(events(action_type, steps)
            .await?
            .into_iter()
            .map(|e| match e.r#type.unwrap() {
                Kind::Progress(p) => format!("progress: {}", p.message),
                Kind::Completed(c) => format!(
                    "completed: {}",
                    c.diagnostics
                        .iter()
                        .map(|d| d.summary.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            })
            .collect())
    }

    #[tokio::test]
    async fn an_action_is_declared_in_metadata_and_schema() {
        let svc = ProviderService::new(WithSteps);
        let meta = svc
            .get_metadata(Request::new(pb::get_metadata::Request {}))
            .await
            .unwrap()
            .into_inner();
        let names: Vec<_> = meta.actions.iter().map(|a| a.type_name.as_str()).collect();
        assert_eq!(names, ["test_steps"]);
        let schema = svc
            .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
            .await
            .unwrap()
            .into_inner();
        let block = schema.action_schemas["test_steps"]
            .schema
            .as_ref()
            .and_then(|s| s.block.as_ref())
            .expect("a block");
        assert_eq!(block.attributes[0].name, "steps");
    }

    #[tokio::test]
    async fn invoke_streams_progress_then_one_completed_event() {
        assert_eq!(
            invoked("test_steps", "ok").await.unwrap(),
            ["progress: one of ok", "progress: two of ok", "completed: "]
        );
        assert_eq!(
            invoked("test_steps", "fail").await.unwrap(),
            [
                "progress: one of fail",
                "progress: two of fail",
                "completed: Failed"
            ]
        );
    }

    /// Progress goes through the withheld list as diagnostics do: a message that
    /// quotes a registered credential (say, from an AWS error's text) masks it.
    #[tokio::test]
    async fn progress_never_carries_a_withheld_credential() {
        let token = "wJalrXUtnFEMI-progress-withheld-3f9c";
        crate::withheld::withhold(token);
        let events = events("test_steps", &format!("proxy said {token}"))
            .await
            .unwrap();
        assert_eq!(events.len(), 3);
        let text = all_text(&events);
        assert!(!text.contains(token), "an event holds the token");
        assert!(text.contains(crate::withheld::MASK));
    }

    /// A panic is a diagnostic in the completed event, not a broken stream, and
    /// its message is not repeated.
    #[tokio::test]
    async fn a_panicking_invoke_still_completes() {
        let shown = invoked("test_steps", "panic").await.unwrap();
        assert_eq!(shown.last().unwrap(), "completed: Provider internal error");
        // Details included: the summaries alone would miss the message there.
        let text = all_text(&events("test_steps", "panic").await.unwrap());
        assert!(
            !text.contains("panic message"),
            "an event holds the panic message"
        );
    }

    #[tokio::test]
    async fn an_unknown_action_type_is_not_found() {
        let err = invoked("test_other", "ok").await.expect_err("an error");
        assert_eq!(err.code(), tonic::Code::NotFound);
        let svc = ProviderService::new(WithSteps);
        let err = svc
            .plan_action(Request::new(pb::plan_action::Request {
                action_type: "test_other".into(),
                config: steps_config(Value::string("ok")),
                client_capabilities: None,
            }))
            .await
            .expect_err("an error");
        assert_eq!(err.code(), tonic::Code::NotFound);
    }

    #[tokio::test]
    async fn validate_and_plan_reach_the_action() {
        let svc = ProviderService::new(WithSteps);
        let validated = svc
            .validate_action_config(Request::new(pb::validate_action_config::Request {
                type_name: "test_steps".into(),
                config: steps_config(Value::string("")),
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(validated.diagnostics[0].summary, "Empty");
        let planned = svc
            .plan_action(Request::new(pb::plan_action::Request {
                action_type: "test_steps".into(),
                config: steps_config(Value::Unknown),
                client_capabilities: None,
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(planned.diagnostics.len(), 1);
        assert_eq!(planned.diagnostics[0].summary, "Unknown");
    }
}
