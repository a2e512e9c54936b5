//! In-process tests over the tfplugin6 service, with the in-memory store:
//! every RPC's response keeps `value_wo` null, bad input is a diagnostic on
//! the right attribute, and the write-only capability is enforced.

use std::collections::BTreeMap;
use std::sync::Arc;

use offstate_common::store::memory::MemoryStore;
use offstate_common::store::{SecretStore, VersionSelector};
use offstate_common::SecretValue;
use offstate_framework::codec::{decode_msgpack, encode_msgpack};
use offstate_framework::wire::ProviderService;
use offstate_framework::{Type, Value};
use offstate_proto::tfplugin6 as pb;
use pb::provider_server::Provider as _;
use terraform_provider_offstate::provider::{Configured, Handle};
use terraform_provider_offstate::{secret, OffstateProvider};
use tonic::Request;

mod aws_errors;
mod compare;
mod data_source;
mod ephemeral;
mod import;
mod lifecycle;
mod moves;
mod name_at_plan;
mod provider_config;
mod replicas;
mod rotation;
mod schema;
mod tag_limit;
mod validation;

const TYPE: &str = "offstate_secret";

fn canary() -> String {
    crate::planted::plant(format!("canary-{}", uuid_like()))
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{n:x}{:x}", std::process::id())
}

struct Harness {
    svc: ProviderService<OffstateProvider>,
    store: Arc<MemoryStore>,
    ty: Type,
}

fn harness() -> Harness {
    harness_on(Arc::new(MemoryStore::default()))
}

/// A provider (as another process would be) over `store`.
fn harness_on(store: Arc<MemoryStore>) -> Harness {
    harness_as(store, None)
}

/// A provider over `store` whose credentials act in the account `account` finds.
fn harness_as(
    store: Arc<MemoryStore>,
    account: Option<terraform_provider_offstate::provider::Account>,
) -> Harness {
    let handle = Handle::with(Configured {
        store: store.clone(),
        default_tags: BTreeMap::from([("team".to_string(), "payments".to_string())]),
        ignore_tags: Default::default(),
    });
    if let Some(account) = account {
        handle.set_account(account);
    }
    Harness {
        svc: ProviderService::new(OffstateProvider::with_handle(handle)),
        store,
        ty: secret::schema().value_type(),
    }
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    let Type::Object(attrs) = secret::schema().value_type() else {
        unreachable!()
    };
    let mut v = Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect());
    for (k, val) in pairs {
        v.set(k, val.clone());
    }
    v
}

fn dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: encode_msgpack(v, ty).unwrap(),
        json: vec![],
    })
}

fn undv(d: &Option<pb::DynamicValue>, ty: &Type) -> Value {
    match d {
        Some(d) => decode_msgpack(&d.msgpack, ty).unwrap(),
        None => Value::Null,
    }
}

fn caps() -> Option<pb::ClientCapabilities> {
    Some(pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: true,
    })
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<(String, String)> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| {
            let path = d
                .attribute
                .as_ref()
                .map(|p| {
                    p.steps
                        .iter()
                        .map(|s| match &s.selector {
                            Some(pb::attribute_path::step::Selector::AttributeName(a)) => a.clone(),
                            _ => "?".into(),
                        })
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .unwrap_or_default();
            (path, d.summary.clone())
        })
        .collect()
}

/// Every encoded value leaving the provider, searched for the canary and
/// decoded to check `value_wo` is null.
fn assert_clean(v: &Option<pb::DynamicValue>, ty: &Type, canary: &str) {
    if let Some(d) = v {
        let bytes = &d.msgpack;
        assert!(
            !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
            "canary in a response"
        );
        let val = decode_msgpack(bytes, ty).unwrap();
        assert!(
            val.get("value_wo").is_null(),
            "value_wo not null in a response"
        );
    }
}

fn config(name: &str, value: &str, version: &str) -> Value {
    obj(&[
        ("name", Value::string(name)),
        ("description", Value::string("d1")),
        ("value_wo", Value::string(value)),
        ("value_wo_version", Value::string(version)),
        (
            "tags",
            Value::Map(BTreeMap::from([("env".to_string(), Value::string("prod"))])),
        ),
    ])
}

impl Harness {
    async fn plan(&self, prior: &Value, config: &Value) -> pb::plan_resource_change::Response {
        self.plan_private(prior, config, &[]).await
    }

    async fn plan_private(
        &self,
        prior: &Value,
        config: &Value,
        prior_private: &[u8],
    ) -> pb::plan_resource_change::Response {
        // Terraform's proposed new state: config for non-computed, prior for
        // unset computed attributes.
        let mut proposed = config.clone();
        for k in [
            "id",
            "arn",
            "version_id",
            "tags_all",
            "recovery_window_in_days",
        ] {
            if proposed.get(k).is_null() {
                proposed.set(k, prior.get(k).clone());
            }
        }
        if proposed.get("name").is_null() {
            proposed.set("name", prior.get("name").clone());
        }
        self.plan_of(TYPE, &self.ty, prior, &proposed, config, prior_private)
            .await
    }

    async fn apply(
        &self,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> pb::apply_resource_change::Response {
        self.apply_private(prior, planned, config, &[]).await
    }

    async fn apply_private(
        &self,
        prior: &Value,
        planned: &Value,
        config: &Value,
        planned_private: &[u8],
    ) -> pb::apply_resource_change::Response {
        self.apply_of(TYPE, &self.ty, prior, planned, config, planned_private)
            .await
    }

    async fn read(&self, state: &Value) -> pb::read_resource::Response {
        self.svc
            .read_resource(Request::new(pb::read_resource::Request {
                type_name: TYPE.into(),
                current_state: dv(state, &self.ty),
                client_capabilities: caps(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner()
    }

    /// Plan and apply a create of `config`; the new state, after checking for errors.
    async fn create(&self, config: &Value) -> Value {
        let plan = self.plan(&Value::Null, config).await;
        assert!(
            errors(&plan.diagnostics).is_empty(),
            "{:?}",
            plan.diagnostics
        );
        let applied = self
            .apply(&Value::Null, &undv(&plan.planned_state, &self.ty), config)
            .await;
        assert!(
            errors(&applied.diagnostics).is_empty(),
            "{:?}",
            applied.diagnostics
        );
        undv(&applied.new_state, &self.ty)
    }

    /// PlanResourceChange of a resource of `type_name` (value type `ty`).
    async fn plan_of(
        &self,
        type_name: &str,
        ty: &Type,
        prior: &Value,
        proposed: &Value,
        config: &Value,
        prior_private: &[u8],
    ) -> pb::plan_resource_change::Response {
        self.svc
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: type_name.into(),
                prior_state: dv(prior, ty),
                proposed_new_state: dv(proposed, ty),
                config: dv(config, ty),
                prior_private: prior_private.to_vec(),
                client_capabilities: caps(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner()
    }

    /// ApplyResourceChange of a resource of `type_name` (value type `ty`).
    async fn apply_of(
        &self,
        type_name: &str,
        ty: &Type,
        prior: &Value,
        planned: &Value,
        config: &Value,
        planned_private: &[u8],
    ) -> pb::apply_resource_change::Response {
        self.svc
            .apply_resource_change(Request::new(pb::apply_resource_change::Request {
                type_name: type_name.into(),
                prior_state: dv(prior, ty),
                planned_state: dv(planned, ty),
                config: dv(config, ty),
                planned_private: planned_private.to_vec(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner()
    }

    /// MoveResourceState from hashicorp/aws's `source_type` (schema `version`) to `target`.
    async fn move_from_aws(
        &self,
        source_type: &str,
        version: i64,
        target: &str,
        source: &serde_json::Value,
    ) -> pb::move_resource_state::Response {
        self.svc
            .move_resource_state(Request::new(pb::move_resource_state::Request {
                source_provider_address: "registry.terraform.io/hashicorp/aws".into(),
                source_type_name: source_type.into(),
                source_schema_version: version,
                source_state: Some(pb::RawState {
                    json: serde_json::to_vec(source).unwrap(),
                    flatmap: Default::default(),
                }),
                target_type_name: target.into(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner()
    }

    /// A handle on this harness's store, for resources tested through their traits.
    fn handle(&self) -> Handle {
        Handle::with(Configured {
            store: self.store.clone(),
            default_tags: BTreeMap::from([("team".to_string(), "payments".to_string())]),
            ignore_tags: Default::default(),
        })
    }

    /// Replicates `secret` to `region` outside Terraform.
    async fn replicate_outside(&self, secret: &str, region: &str) {
        self.store
            .replicate(
                secret,
                &[offstate_common::store::Replica {
                    region: region.into(),
                    kms_key_id: None,
                }],
                false,
            )
            .await
            .unwrap();
    }

    /// Writes a new AWSCURRENT value of `secret` outside Terraform.
    async fn put_outside(&self, secret: &str, value: &str) {
        self.store
            .put_value(offstate_common::store::PutValue {
                secret_id: secret.into(),
                value: SecretValue::from_string(value.to_string()),
                ..Default::default()
            })
            .await
            .unwrap();
    }

    /// ApplyResourceChange of a destroy (planned state and config null).
    async fn destroy(&self, prior: &Value) -> pb::apply_resource_change::Response {
        self.apply(prior, &Value::Null, &Value::Null).await
    }

    /// ImportResourceState of `id` as `type_name`, whatever its diagnostics.
    async fn import_as(&self, type_name: &str, id: &str) -> pb::import_resource_state::Response {
        self.svc
            .import_resource_state(Request::new(pb::import_resource_state::Request {
                type_name: type_name.into(),
                id: id.into(),
                client_capabilities: caps(),
                identity: None,
            }))
            .await
            .unwrap()
            .into_inner()
    }

    /// ImportResourceState of `id`, checked for errors.
    async fn import_raw(&self, id: &str) -> pb::import_resource_state::Response {
        let r = self.import_as(TYPE, id).await;
        assert!(errors(&r.diagnostics).is_empty(), "{:?}", r.diagnostics);
        r
    }

    /// ImportResourceState of `id`, then ReadResource: the imported state.
    async fn import(&self, id: &str) -> Value {
        let r = self.import_raw(id).await;
        let imported = undv(&r.imported_resources[0].state, &self.ty);
        undv(&self.read(&imported).await.new_state, &self.ty)
    }

    async fn validate(&self, config: &Value, wo_allowed: bool) -> Vec<(String, String)> {
        let r = self
            .svc
            .validate_resource_config(Request::new(pb::validate_resource_config::Request {
                type_name: TYPE.into(),
                config: dv(config, &self.ty),
                client_capabilities: Some(pb::ClientCapabilities {
                    deferral_allowed: false,
                    write_only_attributes_allowed: wo_allowed,
                }),
            }))
            .await
            .unwrap()
            .into_inner();
        errors(&r.diagnostics)
    }
}

/// `generate { length = N }` as Terraform sends the block (every other
/// argument null).
fn generate_block(length: i64) -> Value {
    let Type::Object(attrs) = secret::schema().value_type() else {
        unreachable!()
    };
    let Type::Object(gattrs) = &attrs["generate"] else {
        unreachable!()
    };
    let mut g = Value::Object(gattrs.keys().map(|k| (k.clone(), Value::Null)).collect());
    g.set(
        "length",
        Value::Number(offstate_framework::value::Number::Int(length)),
    );
    g
}

fn window(days: i64) -> Value {
    Value::Number(offstate_framework::value::Number::Int(days))
}

/// An object of `ty` with every attribute null, then `pairs` set.
fn object_of(ty: &Type, pairs: &[(&str, Value)]) -> Value {
    let Type::Object(attrs) = ty else {
        unreachable!()
    };
    let mut v = Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect());
    for (k, val) in pairs {
        v.set(k, val.clone());
    }
    v
}

/// An `offstate_secret_rotation` configuration for `secret_id` with these `rotation_rules`.
fn rotation_config(secret_id: &str, rules: &[(&str, Value)]) -> Value {
    let rot = terraform_provider_offstate::rotation::schema().value_type();
    let Type::Object(attrs) = &rot else {
        unreachable!()
    };
    let (rules_ty, listed) = match attrs["rotation_rules"].clone() {
        Type::List(t) => (*t, true),
        t => (t, false),
    };
    let rules = object_of(&rules_ty, rules);
    let rules = if listed {
        Value::List(vec![rules])
    } else {
        rules
    };
    object_of(
        &rot,
        &[
            ("secret_id", Value::string(secret_id)),
            (
                "rotation_lambda_arn",
                Value::string("arn:aws:lambda:us-east-1:123456789012:function:rot"),
            ),
            ("rotation_rules", rules),
        ],
    )
}

/// OpenEphemeralResource of `offstate_secret_value` with `cfg`, through its trait.
async fn open_secret_value(
    eph: &terraform_provider_offstate::ephemeral::SecretValueEphemeral,
    cfg: &Value,
) -> offstate_framework::datasource::OpenResponse {
    use offstate_framework::datasource::{EphemeralResource as _, OpenRequest, OpenResponse};
    let mut resp = OpenResponse {
        result: cfg.clone(),
        ..Default::default()
    };
    eph.open(
        &OpenRequest {
            config: cfg,
            client_capabilities: Default::default(),
        },
        &mut resp,
    )
    .await;
    resp
}
