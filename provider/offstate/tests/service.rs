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

const TYPE: &str = "offstate_secret";

fn canary() -> String {
    format!("canary-{}", uuid_like())
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
    let store = Arc::new(MemoryStore::default());
    let handle = Handle::with(Configured {
        store: store.clone(),
        default_tags: BTreeMap::from([("team".to_string(), "payments".to_string())]),
        ignore_tags: Default::default(),
    });
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

    /// ImportResourceState of `id`, checked for errors.
    async fn import_raw(&self, id: &str) -> pb::import_resource_state::Response {
        let r = self
            .svc
            .import_resource_state(Request::new(pb::import_resource_state::Request {
                type_name: TYPE.into(),
                id: id.into(),
                client_capabilities: caps(),
                identity: None,
            }))
            .await
            .unwrap()
            .into_inner();
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

#[tokio::test]
async fn schema_marks_value_wo_write_only_and_sensitive() {
    let h = harness();
    let r = h
        .svc
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    let s = &r.resource_schemas[TYPE];
    let a = s
        .block
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .find(|a| a.name == "value_wo")
        .unwrap();
    assert!(a.write_only && a.sensitive && a.optional && !a.computed);
    assert!(r.server_capabilities.unwrap().move_resource_state);
    // The role's external id is a shared secret of sorts: kept out of plan output.
    let assume_role = r
        .provider
        .as_ref()
        .unwrap()
        .block
        .as_ref()
        .unwrap()
        .block_types
        .iter()
        .find(|b| b.type_name == "assume_role")
        .unwrap();
    let external_id = assume_role
        .block
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .find(|a| a.name == "external_id")
        .unwrap();
    assert!(external_id.sensitive && external_id.optional);
}

/// A trigger is stored in plan and state: one that is the value, or a digest of it as
/// Terraform's functions compute it, is refused on `value_wo_version`; any other is fine.
#[tokio::test]
async fn a_trigger_derived_from_the_value_is_refused() {
    use base64::Engine;
    let h = harness();
    let value = "Tr1gger-canary-5c1d9e";
    let bytes = value.as_bytes();
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let sha256 = <sha2::Sha256 as sha2::Digest>::digest(bytes);
    let sha512 = <sha2::Sha512 as sha2::Digest>::digest(bytes);
    let derived = [
        value.to_string(),
        hex(&<md5::Md5 as md5::Digest>::digest(bytes)),
        hex(&<sha1::Sha1 as sha1::Digest>::digest(bytes)).to_uppercase(),
        hex(&sha256),
        hex(&sha512),
        b64(&sha256),
        b64(&sha512),
    ];
    for trigger in &derived {
        let errs = h.validate(&config("app/db", value, trigger), true).await;
        assert_eq!(
            errs,
            vec![(
                "value_wo_version".to_string(),
                "value_wo_version is derived from the value".to_string()
            )],
            "{trigger}"
        );
    }
    // binary_wo: a digest of the decoded bytes or of the base64 text.
    let raw = [0u8, 1, 2, 250, 251, 252];
    let text = b64(&raw);
    for trigger in [
        hex(&<sha2::Sha256 as sha2::Digest>::digest(raw)),
        hex(&<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())),
    ] {
        let mut c = config("app/bin", "x", &trigger);
        c.set("value_wo", Value::Null);
        c.set("binary_wo", Value::string(&text));
        let errs = h.validate(&c, true).await;
        assert_eq!(errs.len(), 1, "{trigger}: {errs:?}");
        assert_eq!(errs[0].0, "value_wo_version");
    }
    for fine in [
        "1",
        "2026-11-25",
        &hex(&<sha2::Sha256 as sha2::Digest>::digest(b"other")),
    ] {
        assert!(
            h.validate(&config("app/db", value, fine), true)
                .await
                .is_empty(),
            "{fine}"
        );
    }
}

#[tokio::test]
async fn write_only_needs_the_client_capability() {
    let h = harness();
    let c = config("app/db", "x", "1");
    let errs = h.validate(&c, false).await;
    assert_eq!(
        errs,
        vec![(
            "value_wo".to_string(),
            "Write-only attribute not allowed".to_string()
        )]
    );
    assert!(h.validate(&c, true).await.is_empty());
    // Without a value set, an old client is fine.
    let mut no_value = c.clone();
    no_value.set("value_wo", Value::Null);
    no_value.set("value_wo_version", Value::Null);
    assert!(h.validate(&no_value, false).await.is_empty());
}

#[tokio::test]
async fn bad_input_is_a_diagnostic_on_the_attribute() {
    let h = harness();
    let base = config("app/db", "x", "1");
    let with = |k: &str, v: Value| {
        let mut c = base.clone();
        c.set(k, v);
        c
    };
    let num = |n: i64| Value::Number(offstate_framework::value::Number::Int(n));
    let cases = vec![
        (
            with("name", Value::string("bad name!")),
            "name",
            "Invalid secret name",
        ),
        (
            with("name", Value::string("a".repeat(513))),
            "name",
            "Invalid secret name",
        ),
        (
            with("name", Value::string("")),
            "name",
            "Invalid secret name",
        ),
        (
            with("name_prefix", Value::string("pre-")),
            "name_prefix",
            "Conflicting configuration arguments",
        ),
        (
            with("recovery_window_in_days", num(3)),
            "recovery_window_in_days",
            "Invalid recovery window",
        ),
        (
            with("recovery_window_in_days", num(31)),
            "recovery_window_in_days",
            "Invalid recovery window",
        ),
        (
            with("value_wo_version", Value::Null),
            "value_wo_version",
            "Missing required argument",
        ),
        (
            with("value_wo", Value::string("v".repeat(65_537))),
            "value_wo",
            "Secret value too large",
        ),
    ];
    for (c, attr, summary) in cases {
        let errs = h.validate(&c, true).await;
        assert!(
            errs.iter().any(|(p, s)| p == attr && s == summary),
            "expected {summary:?} at {attr}, got {errs:?}"
        );
    }
    for ok in [0, 7, 30] {
        assert!(h
            .validate(&with("recovery_window_in_days", num(ok)), true)
            .await
            .is_empty());
    }
}

#[tokio::test]
async fn unknown_region_is_a_provider_diagnostic() {
    let h = harness();
    let pty = terraform_provider_offstate::provider::schema().value_type();
    let Type::Object(attrs) = pty.clone() else {
        unreachable!()
    };
    let mut c = Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect());
    c.set("region", Value::string("mars-north-1"));
    let r = h
        .svc
        .validate_provider_config(Request::new(pb::validate_provider_config::Request {
            config: dv(&c, &pty),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        errors(&r.diagnostics),
        vec![("region".to_string(), "Invalid AWS region".to_string())]
    );
}

/// ValidateProviderConfig of a provider block with `set` on top of all-null attributes: the
/// (attribute path, summary) of each error.
async fn provider_config_errors(set: &[(&str, Value)]) -> Vec<(String, String)> {
    let h = harness();
    let pty = terraform_provider_offstate::provider::schema().value_type();
    let Type::Object(attrs) = pty.clone() else {
        unreachable!()
    };
    let mut c = Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect());
    for (name, v) in set {
        c.set(name, v.clone());
    }
    let r = h
        .svc
        .validate_provider_config(Request::new(pb::validate_provider_config::Request {
            config: dv(&c, &pty),
        }))
        .await
        .unwrap()
        .into_inner();
    errors(&r.diagnostics)
}

fn string_set(items: &[&str]) -> Value {
    Value::Set(items.iter().map(|s| Value::string(*s)).collect())
}

/// The assume_role block with `set` on top of all-null attributes and a valid role ARN.
fn assume_role(set: &[(&str, Value)]) -> Value {
    let pty = terraform_provider_offstate::provider::schema().value_type();
    let Type::Object(attrs) = pty else {
        unreachable!()
    };
    let Type::Object(role_attrs) = attrs["assume_role"].clone() else {
        unreachable!()
    };
    let mut role = Value::Object(
        role_attrs
            .keys()
            .map(|k| (k.clone(), Value::Null))
            .collect(),
    );
    role.set(
        "role_arn",
        Value::string("arn:aws:iam::123456789012:role/deploy"),
    );
    for (name, v) in set {
        role.set(name, v.clone());
    }
    role
}

#[tokio::test]
async fn account_id_lists_are_checked() {
    let e = |p: &str, s: &str| (p.to_string(), s.to_string());
    assert_eq!(
        provider_config_errors(&[("allowed_account_ids", string_set(&["123456789012"]))]).await,
        vec![]
    );
    assert_eq!(
        provider_config_errors(&[(
            "forbidden_account_ids",
            string_set(&["123456789012", "000000000000"])
        )])
        .await,
        vec![]
    );
    assert_eq!(
        provider_config_errors(&[("allowed_account_ids", string_set(&["12345678901"]))]).await,
        vec![e("allowed_account_ids", "Invalid AWS account ID")]
    );
    assert_eq!(
        provider_config_errors(&[("forbidden_account_ids", string_set(&["12345678901x"]))]).await,
        vec![e("forbidden_account_ids", "Invalid AWS account ID")]
    );
    assert_eq!(
        provider_config_errors(&[
            ("allowed_account_ids", string_set(&["123456789012"])),
            ("forbidden_account_ids", string_set(&["210987654321"])),
        ])
        .await,
        vec![
            e("allowed_account_ids", "Conflicting account ID lists"),
            e("forbidden_account_ids", "Conflicting account ID lists"),
        ]
    );
    // An empty list is no list: no conflict.
    assert_eq!(
        provider_config_errors(&[
            ("allowed_account_ids", string_set(&["123456789012"])),
            ("forbidden_account_ids", string_set(&[])),
        ])
        .await,
        vec![]
    );
}

#[tokio::test]
async fn assume_role_session_arguments_are_checked() {
    let e = |p: &str, s: &str| (p.to_string(), s.to_string());
    let num = |n: i64| Value::Number(offstate_framework::value::Number::Int(n));
    let good = assume_role(&[
        ("duration_seconds", num(3600)),
        ("session_name", Value::string("ci@deploy-42_a+b=c,d.e-f")),
        ("external_id", Value::string("tenant:42/a_b+c=d,e.f@g-h")),
        (
            "policy",
            Value::string(r#"{"Version":"2012-10-17","Statement":[]}"#),
        ),
        (
            "policy_arns",
            string_set(&["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
        ),
        (
            "tags",
            Value::Map([("team".to_string(), Value::string("payments"))].into()),
        ),
    ]);
    assert_eq!(
        provider_config_errors(&[("assume_role", good)]).await,
        vec![]
    );
    for (set, path, summary) in [
        (
            ("duration_seconds", num(899)),
            "assume_role.duration_seconds",
            "Invalid session duration",
        ),
        (
            ("duration_seconds", num(43_201)),
            "assume_role.duration_seconds",
            "Invalid session duration",
        ),
        (
            ("session_name", Value::string("café-deploy")),
            "assume_role.session_name",
            "Invalid session name",
        ),
        (
            ("session_name", Value::string("x")),
            "assume_role.session_name",
            "Invalid session name",
        ),
        (
            ("session_name", Value::string("s".repeat(65))),
            "assume_role.session_name",
            "Invalid session name",
        ),
        (
            ("external_id", Value::string("has space")),
            "assume_role.external_id",
            "Invalid external ID",
        ),
        (
            ("external_id", Value::string("e".repeat(1225))),
            "assume_role.external_id",
            "Invalid external ID",
        ),
        (
            ("policy", Value::string("Allow everything")),
            "assume_role.policy",
            "Invalid session policy",
        ),
        (
            ("policy", Value::string("[]")),
            "assume_role.policy",
            "Invalid session policy",
        ),
        (
            (
                "policy_arns",
                string_set(&["arn:aws:iam::123456789012:role/x"]),
            ),
            "assume_role.policy_arns",
            "Invalid policy ARN",
        ),
    ] {
        assert_eq!(
            provider_config_errors(&[("assume_role", assume_role(std::slice::from_ref(&set)))])
                .await,
            vec![e(path, summary)],
            "{set:?}"
        );
    }
}

#[tokio::test]
async fn lifecycle_never_returns_the_value() {
    let h = harness();
    let secret1 = canary();
    let c1 = config("app/db", &secret1, "1");

    // create
    let plan = h.plan(&Value::Null, &c1).await;
    assert!(
        errors(&plan.diagnostics).is_empty(),
        "{:?}",
        plan.diagnostics
    );
    assert_clean(&plan.planned_state, &h.ty, &secret1);
    let planned = undv(&plan.planned_state, &h.ty);
    assert!(planned.get("arn").is_unknown());
    assert_eq!(planned.get("recovery_window_in_days").as_i64(), Some(30));
    assert_eq!(planned.get("tags_all").as_string_map().unwrap().len(), 2);
    let applied = h.apply(&Value::Null, &planned, &c1).await;
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "{:?}",
        applied.diagnostics
    );
    assert_clean(&applied.new_state, &h.ty, &secret1);
    let s1 = undv(&applied.new_state, &h.ty);
    let v1 = s1.get("version_id").as_str().unwrap().to_string();
    let got = h
        .store
        .get_value("app/db", VersionSelector::Current)
        .await
        .unwrap();
    assert!(got.value.ct_eq(&SecretValue::from_string(secret1.clone())));

    // refresh, then plan again: no change
    let read = h.read(&s1).await;
    assert_clean(&read.new_state, &h.ty, &secret1);
    assert_eq!(undv(&read.new_state, &h.ty), s1);
    let plan2 = h.plan(&s1, &c1).await;
    assert_eq!(
        undv(&plan2.planned_state, &h.ty),
        s1,
        "second plan must be a no-op"
    );
    assert!(plan2.requires_replace.is_empty());

    // new trigger: in-place update writes a new version
    let secret2 = canary();
    let c2 = config("app/db", &secret2, "2");
    let plan3 = h.plan(&s1, &c2).await;
    assert_clean(&plan3.planned_state, &h.ty, &secret2);
    assert!(plan3.requires_replace.is_empty());
    let p3 = undv(&plan3.planned_state, &h.ty);
    assert!(p3.get("version_id").is_unknown());
    let a3 = h.apply(&s1, &p3, &c2).await;
    assert!(errors(&a3.diagnostics).is_empty(), "{:?}", a3.diagnostics);
    assert_clean(&a3.new_state, &h.ty, &secret2);
    let s2 = undv(&a3.new_state, &h.ty);
    assert_ne!(s2.get("version_id").as_str().unwrap(), v1);
    let prev = h
        .store
        .get_value("app/db", VersionSelector::Stage("AWSPREVIOUS".into()))
        .await
        .unwrap();
    assert_eq!(prev.version_id, v1);

    // rename: replace
    let c3 = config("app/db2", &secret2, "2");
    let plan4 = h.plan(&s2, &c3).await;
    assert_eq!(plan4.requires_replace.len(), 1);

    // import by name and ARN: no value, trigger adoptable
    for id in [
        "app/db".to_string(),
        s2.get("arn").as_str().unwrap().to_string(),
        "app/db?value_wo_version=2".to_string(),
    ] {
        let r = h.import_raw(&id).await;
        assert_clean(&r.imported_resources[0].state, &h.ty, &secret2);
    }
    assert_eq!(
        h.store.call_count("get_value"),
        2,
        "only the test's own reads call GetSecretValue"
    );

    // upgrade: a stored state holding a value (written by a buggy client) comes back without it
    let mut raw =
        serde_json::json!({"id": "x", "arn": "x", "name": "app/db", "recovery_window_in_days": 30});
    raw["value_wo"] = serde_json::Value::String(secret2.clone());
    let up = h
        .svc
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: TYPE.into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: serde_json::to_vec(&raw).unwrap(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(errors(&up.diagnostics).is_empty(), "{:?}", up.diagnostics);
    assert_clean(&up.upgraded_state, &h.ty, &secret2);

    // destroy
    let plan5 = h.plan(&s2, &Value::Null).await;
    assert!(errors(&plan5.diagnostics).is_empty());
    let d = h.apply(&s2, &Value::Null, &Value::Null).await;
    assert!(errors(&d.diagnostics).is_empty(), "{:?}", d.diagnostics);
    let meta = h.store.describe("app/db").await.unwrap().unwrap();
    assert!(
        meta.is_scheduled_for_deletion(),
        "window 30 schedules deletion"
    );
}

#[tokio::test]
async fn drift_shows_as_version_id_and_deletion_removes_from_state() {
    let h = harness();
    let secret1 = canary();
    let c1 = config("app/drift", &secret1, "1");
    let plan = h.plan(&Value::Null, &c1).await;
    let applied = h
        .apply(&Value::Null, &undv(&plan.planned_state, &h.ty), &c1)
        .await;
    let s1 = undv(&applied.new_state, &h.ty);
    h.put_outside("app/drift", "changed-outside").await;
    let read = undv(&h.read(&s1).await.new_state, &h.ty);
    assert_ne!(read.get("version_id"), s1.get("version_id"));
    // The plan after refresh is a no-op: the outside value is not overwritten.
    let plan2 = undv(&h.plan(&read, &c1).await.planned_state, &h.ty);
    assert_eq!(plan2, read);

    h.store
        .delete("app/drift", offstate_common::store::Deletion::Immediate)
        .await
        .unwrap();
    let gone = h.read(&read).await;
    assert!(undv(&gone.new_state, &h.ty).is_null());
}

#[tokio::test]
async fn aws_errors_name_the_code_and_secret_not_the_value() {
    let h = harness();
    let secret1 = canary();
    let c1 = config("app/err", &secret1, "1");
    let plan = h.plan(&Value::Null, &c1).await;
    h.store.fail_next(offstate_common::StoreError::from_code(
        "AccessDeniedException",
        "not allowed",
    ));
    let applied = h
        .apply(&Value::Null, &undv(&plan.planned_state, &h.ty), &c1)
        .await;
    let d = &applied.diagnostics[0];
    assert!(
        d.detail.contains("AccessDeniedException") && d.detail.contains("app/err"),
        "{}",
        d.detail
    );
    assert!(!format!("{:?}", applied).contains(&secret1));
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

fn adopt_marker(private: &[u8]) -> bool {
    !private.is_empty()
        && serde_json::from_slice::<serde_json::Value>(private).unwrap()["adopt_value"]
            == serde_json::Value::Bool(true)
}

#[tokio::test]
async fn generate_after_a_move_from_aws_adopts_the_current_value() {
    let h = harness();
    let legacy = canary();
    let made = h
        .store
        .create(offstate_common::store::CreateSecret {
            name: "moved/db".into(),
            description: Some("classic".into()),
            value: Some(SecretValue::from_string(legacy.clone())),
            ..Default::default()
        })
        .await
        .unwrap();
    let v0 = made.current_version_id.clone().unwrap();
    let is_legacy = |got: &SecretValue| got.ct_eq(&SecretValue::from_string(legacy.clone()));

    // MoveResourceState from hashicorp/aws marks the state in private.
    let source = serde_json::json!({
        "id": made.arn, "arn": made.arn, "name": "moved/db", "name_prefix": "",
        "description": "classic", "kms_key_id": "", "recovery_window_in_days": 0,
        "tags": {}, "tags_all": {}, "policy": "", "force_overwrite_replica_secret": false,
    });
    let moved = h
        .move_from_aws("aws_secretsmanager_secret", 0, TYPE, &source)
        .await;
    assert!(
        errors(&moved.diagnostics).is_empty(),
        "{:?}",
        moved.diagnostics
    );
    assert!(
        adopt_marker(&moved.target_private),
        "the move marks the state"
    );
    let moved_state = undv(&moved.target_state, &h.ty);
    assert!(moved_state.get("generate").is_null());

    // Refresh keeps the marker and fills version_id.
    let read = h
        .svc
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: TYPE.into(),
            current_state: moved.target_state.clone(),
            private: moved.target_private.clone(),
            client_capabilities: caps(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&read.diagnostics).is_empty(),
        "{:?}",
        read.diagnostics
    );
    assert!(adopt_marker(&read.private));
    let prior = undv(&read.new_state, &h.ty);
    assert_eq!(prior.get("version_id").as_str(), Some(v0.as_str()));

    let config = |length: i64, version: Option<&str>| {
        obj(&[
            ("name", Value::string("moved/db")),
            ("description", Value::string("classic")),
            (
                "recovery_window_in_days",
                Value::Number(offstate_framework::value::Number::Int(0)),
            ),
            ("replica", Value::Set(Vec::new())),
            ("generate", generate_block(length)),
            ("value_wo_version", Value::opt_string(version)),
        ])
    };
    let c1 = config(32, None);

    // Without the marker (an import, say) the same configuration writes.
    let unmarked = h.plan(&prior, &c1).await;
    assert!(undv(&unmarked.planned_state, &h.ty)
        .get("version_id")
        .is_unknown());
    // With a trigger set, the move's marker does not stop the write either.
    let triggered = h
        .plan_private(&prior, &config(32, Some("1")), &read.private)
        .await;
    assert!(undv(&triggered.planned_state, &h.ty)
        .get("version_id")
        .is_unknown());
    // Nor with value_wo (value_wo_version null -> "1" writes, as before).
    let value = canary();
    let mut with_value = config(32, Some("1"));
    with_value.set("generate", Value::Null);
    with_value.set("value_wo", Value::string(&value));
    let valued = h.plan_private(&prior, &with_value, &read.private).await;
    assert!(undv(&valued.planned_state, &h.ty)
        .get("version_id")
        .is_unknown());

    // With the marker: no write planned, generate recorded, the marker kept for apply.
    let plan = h.plan_private(&prior, &c1, &read.private).await;
    assert!(
        errors(&plan.diagnostics).is_empty(),
        "{:?}",
        plan.diagnostics
    );
    let planned = undv(&plan.planned_state, &h.ty);
    assert_eq!(planned.get("version_id").as_str(), Some(v0.as_str()));
    assert_eq!(planned.get("generate"), c1.get("generate"));
    assert!(plan.requires_replace.is_empty());
    assert!(adopt_marker(&plan.planned_private));

    let applied = h
        .apply_private(&prior, &planned, &c1, &plan.planned_private)
        .await;
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "{:?}",
        applied.diagnostics
    );
    assert!(
        applied.private.is_empty(),
        "the first apply clears the marker"
    );
    let s1 = undv(&applied.new_state, &h.ty);
    assert_eq!(s1.get("version_id").as_str(), Some(v0.as_str()));
    assert_eq!(s1.get("generate"), c1.get("generate"));
    assert_eq!(h.store.call_count("put_value"), 0, "nothing written");
    assert_eq!(
        h.store.call_count("get_value"),
        0,
        "the value is never read"
    );
    let versions = h.store.list_versions("moved/db").await.unwrap();
    assert_eq!(versions.len(), 1, "no new version");
    let got = h
        .store
        .get_value("moved/db", VersionSelector::Current)
        .await
        .unwrap();
    assert!(is_legacy(&got.value), "the moved value is adopted");

    // The next plan has no changes.
    let again = h.plan_private(&s1, &c1, &applied.private).await;
    assert_eq!(undv(&again.planned_state, &h.ty), s1);

    // A later change of generate generates, as for any secret.
    let c2 = config(40, None);
    let plan2 = h.plan_private(&s1, &c2, &applied.private).await;
    let p2 = undv(&plan2.planned_state, &h.ty);
    assert!(p2.get("version_id").is_unknown());
    let a2 = h.apply_private(&s1, &p2, &c2, &plan2.planned_private).await;
    assert!(errors(&a2.diagnostics).is_empty(), "{:?}", a2.diagnostics);
    let s2 = undv(&a2.new_state, &h.ty);
    assert_ne!(s2.get("version_id").as_str(), Some(v0.as_str()));
    assert_eq!(h.store.call_count("put_value"), 1);
    let got = h
        .store
        .get_value("moved/db", VersionSelector::Current)
        .await
        .unwrap();
    assert!(!is_legacy(&got.value));
    assert_eq!(got.value.len(), 40);
}

fn replica(region: &str) -> Value {
    Value::object([
        ("region", Value::string(region)),
        ("kms_key_id", Value::Null),
    ])
}

fn window(days: i64) -> Value {
    Value::Number(offstate_framework::value::Number::Int(days))
}

#[tokio::test]
async fn destroying_a_replicated_secret_removes_its_replicas_first() {
    // Secrets Manager refuses to delete a primary secret that has replicas
    // (the in-memory store does too). Both the replicas the configuration
    // manages and one added outside Terraform must go first.
    let h = harness();
    let mut c = config("app/replicated", &canary(), "1");
    c.set("replica", Value::Set(vec![replica("us-west-2")]));
    let state = h.create(&c).await;
    h.replicate_outside("app/replicated", "eu-west-1").await;
    let state = undv(&h.read(&state).await.new_state, &h.ty);
    let destroyed = h.destroy(&state).await;
    assert!(
        errors(&destroyed.diagnostics).is_empty(),
        "{:?}",
        destroyed.diagnostics
    );
    let calls = h.store.calls();
    let tail: Vec<_> = calls.iter().rev().take(2).rev().copied().collect();
    assert_eq!(tail, ["remove_replica_regions", "delete"]);
    let meta = h.store.describe("app/replicated").await.unwrap().unwrap();
    assert!(meta.is_scheduled_for_deletion() && meta.replicas.is_empty());
}

#[tokio::test]
async fn replicas_of_a_secret_that_manages_none_are_left_alone() {
    // A state without replicas (a move from hashicorp/aws, a configuration
    // without `replica`) does not take in replicas made outside Terraform:
    // they show in replica_status, and the plan does not remove them.
    let h = harness();
    let c = config("app/unmanaged", &canary(), "1");
    let state = h.create(&c).await;
    h.replicate_outside("app/unmanaged", "eu-west-1").await;
    let read = undv(&h.read(&state).await.new_state, &h.ty);
    assert!(read.get("replica").elements().is_empty());
    let status = read.get("replica_status").as_string_map().unwrap();
    assert_eq!(status.get("eu-west-1").map(String::as_str), Some("InSync"));
    let plan = undv(&h.plan(&read, &c).await.planned_state, &h.ty);
    assert_eq!(plan, read);
}

#[tokio::test]
async fn a_secret_deleted_without_recovery_window_can_be_recreated_at_once() {
    // On AWS a forced delete finishes in the background; until then the
    // name is taken. The destroy waits, so the next create of the name works.
    let h = harness();
    h.store.lag_forced_deletes(3);
    let mut c = config("app/recreated", &canary(), "1");
    c.set("recovery_window_in_days", window(0));
    let state = h.create(&c).await;
    let destroyed = h.destroy(&state).await;
    assert!(
        errors(&destroyed.diagnostics).is_empty(),
        "{:?}",
        destroyed.diagnostics
    );
    assert!(h.store.describe("app/recreated").await.unwrap().is_none());
    let again = h.create(&c).await;
    assert_ne!(again.get("arn"), state.get("arn"));
}

#[tokio::test]
async fn an_empty_description_or_kms_key_is_no_change() {
    // "" means unset to Secrets Manager: it is not sent, and a refresh that
    // finds nothing does not plan an update on every run.
    let h = harness();
    let mut c = config("app/blank", &canary(), "1");
    c.set("description", Value::string(""));
    c.set("kms_key_id", Value::string(""));
    let state = h.create(&c).await;
    let meta = h.store.describe("app/blank").await.unwrap().unwrap();
    assert_eq!((meta.description, meta.kms_key_id), (None, None));
    let read = undv(&h.read(&state).await.new_state, &h.ty);
    let plan = undv(&h.plan(&read, &c).await.planned_state, &h.ty);
    assert_eq!(plan, read);
    // Going from "" to null sends nothing either.
    c.set("description", Value::Null);
    c.set("kms_key_id", Value::Null);
    let plan = undv(&h.plan(&read, &c).await.planned_state, &h.ty);
    h.apply(&read, &plan, &c).await;
    assert_eq!(h.store.call_count("update_metadata"), 0);
}

#[tokio::test]
async fn name_prefix_matching_the_imported_name_does_not_replace() {
    let h = harness();
    let name = "app-20261126034512000000000001";
    h.store
        .create(offstate_common::store::CreateSecret {
            name: name.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let imported = h.import(name).await;
    let mut c = obj(&[("name_prefix", Value::string("app-"))]);
    c.set("replica", Value::Set(Vec::new()));
    let plan = h.plan(&imported, &c).await;
    assert!(
        plan.requires_replace.is_empty(),
        "{:?}",
        plan.requires_replace
    );
    assert_eq!(
        undv(&plan.planned_state, &h.ty).get("name").as_str(),
        Some(name)
    );
    // Another prefix is another secret.
    c.set("name_prefix", Value::string("db-"));
    let plan = h.plan(&imported, &c).await;
    assert_eq!(plan.requires_replace.len(), 1);
    // No prefix in the configuration keeps the name (hashicorp/aws's
    // default `terraform-` recorded by a move, say).
    let mut moved = imported.clone();
    moved.set("name_prefix", Value::string("terraform-"));
    c.set("name_prefix", Value::Null);
    let plan = h.plan(&moved, &c).await;
    assert!(
        plan.requires_replace.is_empty(),
        "{:?}",
        plan.requires_replace
    );
}

fn compare_config(name: &str, value: Value) -> Value {
    obj(&[
        ("name", Value::string(name)),
        ("value_wo", value),
        ("compare_value", Value::Bool(true)),
        ("replica", Value::Set(Vec::new())),
    ])
}

#[tokio::test]
async fn compare_mode_plans_a_write_for_a_value_unknown_until_apply() {
    let h = harness();
    let state = h
        .create(&compare_config("app/cmp-unknown", Value::string(canary())))
        .await;
    let plan = h
        .plan(&state, &compare_config("app/cmp-unknown", Value::Unknown))
        .await;
    assert!(undv(&plan.planned_state, &h.ty)
        .get("version_id")
        .is_unknown());
}

#[tokio::test]
async fn compare_mode_applies_what_was_planned() {
    let h = harness();
    let value = canary();
    let c = compare_config("app/cmp", Value::string(&value));
    let state = h.create(&c).await;
    let puts = h.store.call_count("put_value");

    // Planned: no write (the value is current), with a description change.
    let mut c2 = c.clone();
    c2.set("description", Value::string("changed"));
    let planned = undv(&h.plan(&state, &c2).await.planned_state, &h.ty);
    assert_eq!(planned.get("version_id"), state.get("version_id"));
    // The value changes in AWS between plan and apply: apply keeps to the plan.
    h.put_outside("app/cmp", "changed-outside").await;
    let applied = h.apply(&state, &planned, &c2).await;
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "{:?}",
        applied.diagnostics
    );
    let after = undv(&applied.new_state, &h.ty);
    assert_eq!(after.get("version_id"), planned.get("version_id"));
    assert_eq!(
        h.store.call_count("put_value"),
        puts + 1,
        "only the test's own put"
    );

    // The next plan, after refresh, writes the configured value back.
    let read = undv(&h.read(&after).await.new_state, &h.ty);
    let planned = undv(&h.plan(&read, &c2).await.planned_state, &h.ty);
    assert!(planned.get("version_id").is_unknown());
    // Planned a write, but the value is current again by apply: nothing is written.
    h.put_outside("app/cmp", &value).await;
    let applied = h.apply(&read, &planned, &c2).await;
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "{:?}",
        applied.diagnostics
    );
    assert_eq!(
        h.store.call_count("put_value"),
        puts + 2,
        "only the test's own puts"
    );
}

#[tokio::test]
async fn a_policy_naming_a_principal_iam_does_not_know_yet_is_retried() {
    // A role made in the same apply takes a while to reach Secrets Manager,
    // which answers "unsupported principal" meanwhile.
    let h = harness();
    for _ in 0..2 {
        h.store.fail_next_call_of(
            "put_policy",
            offstate_common::StoreError::from_code(
                "MalformedPolicyDocumentException",
                "This resource policy contains an unsupported principal.",
            ),
        );
    }
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/new"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    let mut c = config("app/policy", &canary(), "1");
    c.set("policy", Value::string(policy));
    let state = h.create(&c).await;
    assert_eq!(h.store.call_count("put_policy"), 3);
    assert_eq!(state.get("policy").as_str(), Some(policy));

    // Any other refusal is final, and the state does not claim the policy.
    let mut c = config("app/policy2", &canary(), "1");
    c.set("policy", Value::string(policy));
    let plan = h.plan(&Value::Null, &c).await;
    h.store.fail_next_call_of(
        "put_policy",
        offstate_common::StoreError::from_code(
            "MalformedPolicyDocumentException",
            "The policy is not valid JSON.",
        ),
    );
    let applied = h
        .apply(&Value::Null, &undv(&plan.planned_state, &h.ty), &c)
        .await;
    assert_eq!(errors(&applied.diagnostics).len(), 1);
    assert_eq!(h.store.call_count("put_policy"), 4);
    assert!(undv(&applied.new_state, &h.ty).get("policy").is_null());
}

#[tokio::test]
async fn a_bad_value_is_refused_before_anything_changes() {
    let h = harness();
    let mut c = config("app/binary", &canary(), "1");
    // Known at validate time: an error on the argument it came from.
    c.set("value_wo", Value::Null);
    c.set("binary_wo", Value::string("not base64!"));
    assert_eq!(
        h.validate(&c, true).await,
        [("binary_wo".to_string(), "Invalid binary_wo".to_string())]
    );
    c.set("binary_wo", Value::string(""));
    assert_eq!(
        h.validate(&c, true).await,
        [("binary_wo".to_string(), "Empty secret value".to_string())]
    );
    // Known only at apply (it was unknown at plan): the update fails with
    // nothing changed, not after the description and tags went through.
    let state = h.create(&config("app/binary", &canary(), "1")).await;
    let mut c2 = config("app/binary", &canary(), "2");
    c2.set("value_wo", Value::Null);
    c2.set("binary_wo", Value::Unknown);
    c2.set("description", Value::string("changed"));
    let planned = undv(&h.plan(&state, &c2).await.planned_state, &h.ty);
    c2.set("binary_wo", Value::string("not base64!"));
    let before = h.store.calls().len();
    let applied = h.apply(&state, &planned, &c2).await;
    assert_eq!(
        errors(&applied.diagnostics),
        [("binary_wo".to_string(), "Invalid binary_wo".to_string())]
    );
    let calls = h.store.calls();
    assert!(
        calls[before..].iter().all(|c| *c == "describe"),
        "{:?}",
        &calls[before..]
    );
    assert_eq!(undv(&applied.new_state, &h.ty), state);
}

#[tokio::test]
async fn a_bad_generated_name_points_at_name_prefix() {
    let h = harness();
    let mut c = config("unused", &canary(), "1");
    c.set("name", Value::Null);
    c.set("name_prefix", Value::string("bad prefix "));
    let plan = h.plan(&Value::Null, &c).await;
    let applied = h
        .apply(&Value::Null, &undv(&plan.planned_state, &h.ty), &c)
        .await;
    let errs = errors(&applied.diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "name_prefix");
}

#[tokio::test]
async fn an_interrupted_value_update_run_again_writes_no_second_version() {
    // Terraform saves the state after ApplyResourceChange returns; a crash in
    // between leaves the old state, and the next apply repeats the update.
    let h = harness();
    let first = canary();
    let state = h.create(&config("app/rerun", &first, "1")).await;
    for (label, mut c2) in [
        ("value_wo", config("app/rerun", &canary(), "2")),
        ("generate", config("app/rerun", "unused", "3")),
    ] {
        if label == "generate" {
            c2.set("value_wo", Value::Null);
            c2.set("generate", generate_block(24));
        }
        let current = undv(&h.read(&state).await.new_state, &h.ty);
        let planned = undv(&h.plan(&current, &c2).await.planned_state, &h.ty);
        let once = h.apply(&current, &planned, &c2).await;
        assert!(
            errors(&once.diagnostics).is_empty(),
            "{:?}",
            once.diagnostics
        );
        let versions = h.store.list_versions("app/rerun").await.unwrap().len();
        // The state of the first run is lost; the same change is applied again.
        let again = h.apply(&current, &planned, &c2).await;
        assert!(
            errors(&again.diagnostics).is_empty(),
            "{label}: {:?}",
            again.diagnostics
        );
        assert_eq!(
            undv(&again.new_state, &h.ty).get("version_id"),
            undv(&once.new_state, &h.ty).get("version_id"),
            "{label}"
        );
        assert_eq!(
            h.store.list_versions("app/rerun").await.unwrap().len(),
            versions,
            "{label}: a second version was written"
        );
        let previous = h
            .store
            .get_value(
                "app/rerun",
                offstate_common::store::VersionSelector::Stage("AWSPREVIOUS".into()),
            )
            .await
            .unwrap();
        assert_eq!(
            Some(previous.version_id.as_str()),
            current.get("version_id").as_str(),
            "{label}: AWSPREVIOUS is not the version the change replaced"
        );
    }
}

#[tokio::test]
async fn a_kms_key_swapped_outside_terraform_shows_as_drift() {
    let h = harness();
    let key = |id: &str| format!("arn:aws:kms:us-east-1:123456789012:key/{id}");
    let mut c = config("app/kms", &canary(), "1");
    c.set(
        "kms_key_id",
        Value::string("1111aaaa-0000-0000-0000-000000000001"),
    );
    let state = h.create(&c).await;
    let set_key = |key: String| {
        h.store.update_metadata(
            "app/kms",
            offstate_common::store::MetadataUpdate {
                kms_key_id: Some(key),
                ..Default::default()
            },
        )
    };
    // The same key spelt as an ARN by AWS: no drift.
    set_key(key("1111aaaa-0000-0000-0000-000000000001"))
        .await
        .unwrap();
    let read = undv(&h.read(&state).await.new_state, &h.ty);
    assert_eq!(read.get("kms_key_id"), c.get("kms_key_id"));
    // Another key: drift, and the plan puts the configured one back.
    set_key(key("2222bbbb-0000-0000-0000-000000000002"))
        .await
        .unwrap();
    let read = undv(&h.read(&state).await.new_state, &h.ty);
    assert_eq!(
        read.get("kms_key_id").as_str(),
        Some(key("2222bbbb-0000-0000-0000-000000000002").as_str())
    );
    let plan = undv(&h.plan(&read, &c).await.planned_state, &h.ty);
    assert_eq!(plan.get("kms_key_id"), c.get("kms_key_id"));
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

#[tokio::test]
async fn unknown_arguments_are_no_conflict_in_the_validate_walk() {
    // In `terraform validate` (and the validate walk before every plan) each
    // input variable is unknown: `a = var.a` and `b = var.b` may well leave one
    // of them null at plan, when Terraform validates again with known values.
    use offstate_framework::datasource::{DataSource as _, EphemeralResource as _};
    use terraform_provider_offstate::{data, ephemeral, rotation};
    let h = harness();
    let u = Value::Unknown;

    let mut c = obj(&[("name", u.clone()), ("name_prefix", u.clone())]);
    c.set("value_wo", u.clone());
    c.set("binary_wo", u.clone());
    assert_eq!(h.validate(&c, true).await, []);
    let c = obj(&[("name", Value::string("a")), ("value_wo", u.clone())]);
    assert_eq!(
        h.validate(&c, true).await,
        [],
        "value_wo may be null at plan"
    );
    // Known values still conflict.
    let c = obj(&[
        ("name", Value::string("a")),
        ("name_prefix", Value::string("b")),
    ]);
    assert_eq!(
        h.validate(&c, true).await,
        [(
            "name_prefix".to_string(),
            "Conflicting configuration arguments".to_string()
        )]
    );

    let rot = rotation::schema().value_type();
    let c = rotation_config(
        "app/db",
        &[
            ("automatically_after_days", u.clone()),
            ("schedule_expression", u.clone()),
        ],
    );
    let r = h
        .svc
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "offstate_secret_rotation".into(),
            config: dv(&c, &rot),
            client_capabilities: caps(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&r.diagnostics), []);

    let handle = || h.handle();
    let eph = ephemeral::SecretValueEphemeral::new(handle())
        .schema()
        .value_type();
    let c = object_of(
        &eph,
        &[
            ("secret_id", Value::string("app/db")),
            ("version_id", u.clone()),
            ("version_stage", u.clone()),
        ],
    );
    let r = h
        .svc
        .validate_ephemeral_resource_config(Request::new(
            pb::validate_ephemeral_resource_config::Request {
                type_name: "offstate_secret_value".into(),
                config: dv(&c, &eph),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&r.diagnostics), []);

    let ds = data::SecretData::new(handle()).schema().value_type();
    let c = object_of(&ds, &[("arn", u.clone()), ("name", u.clone())]);
    let r = h
        .svc
        .validate_data_resource_config(Request::new(pb::validate_data_resource_config::Request {
            type_name: "offstate_secret".into(),
            config: dv(&c, &ds),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&r.diagnostics), []);
}

#[tokio::test]
async fn a_listed_object_is_what_import_makes_of_the_secret() {
    // `terraform query -generate-config-out` writes the listed object as
    // configuration and imports the secret: the two must agree, replicas
    // included (ListSecrets does not report them; DescribeSecret does), or the
    // plan after the import removes the replicas.
    use offstate_framework::datasource::{ListRequest, ListResource as _, ListResponse};
    let h = harness();
    let state = h.create(&config("app/listed", &canary(), "1")).await;
    h.replicate_outside("app/listed", "eu-west-1").await;
    let list = terraform_provider_offstate::list::SecretList::new(h.handle());
    let cfg = object_of(&list.schema().value_type(), &[]);
    let mut resp = ListResponse::default();
    list.list(
        &ListRequest {
            config: &cfg,
            include_resource_object: true,
            limit: 10,
        },
        &mut resp,
    )
    .await;
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let listed = resp.results[0].resource_object.clone().unwrap();
    let imported = h.import(state.get("arn").as_str().unwrap()).await;
    assert_eq!(listed.get("replica"), imported.get("replica"));
    assert_eq!(listed.get("replica").elements().len(), 1);
}

#[tokio::test]
async fn an_ephemeral_read_by_label_sees_a_value_written_since() {
    // "Read the current password, write a new one, read it again" in one
    // apply (one provider process): the second read must see the new value.
    use offstate_framework::datasource::EphemeralResource as _;
    let h = harness();
    let (first, second) = (canary(), canary());
    h.create(&config("app/eph", &first, "1")).await;
    let eph = terraform_provider_offstate::ephemeral::SecretValueEphemeral::new(h.handle());
    let cfg = object_of(
        &eph.schema().value_type(),
        &[("secret_id", Value::string("app/eph"))],
    );
    let open = || async {
        let resp = open_secret_value(&eph, &cfg).await;
        assert!(resp.diagnostics.is_empty());
        resp.result
    };
    let got = open().await;
    assert!(
        got.get("value").as_str() == Some(first.as_str()),
        "first read"
    );
    h.put_outside("app/eph", &second).await;
    let got = open().await;
    assert!(
        got.get("value").as_str() == Some(second.as_str()),
        "the second read returned the old value"
    );
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

#[tokio::test]
async fn a_rotation_configured_but_not_read_back_is_recorded() {
    // RotateSecret succeeded and DescribeSecret failed: the state must still
    // record the rotation (a warning, not an error, which would taint and
    // replace it), or the next apply rotates again.
    let h = harness();
    h.create(&config("app/rot", &canary(), "1")).await;
    let ty = terraform_provider_offstate::rotation::schema().value_type();
    let c = rotation_config("app/rot", &[("automatically_after_days", window(30))]);
    let plan = h
        .plan_of("offstate_secret_rotation", &ty, &Value::Null, &c, &c, &[])
        .await;
    assert_eq!(errors(&plan.diagnostics), []);
    h.store.fail_next_call_of(
        "describe",
        offstate_common::StoreError::from_code("ThrottlingException", "Rate exceeded"),
    );
    let applied = h
        .apply_of(
            "offstate_secret_rotation",
            &ty,
            &Value::Null,
            &undv(&plan.planned_state, &ty),
            &c,
            &[],
        )
        .await;
    assert_eq!(errors(&applied.diagnostics), []);
    assert_eq!(applied.diagnostics.len(), 1, "a warning says what happened");
    let state = undv(&applied.new_state, &ty);
    assert_eq!(state.get("rotation_enabled"), &Value::Bool(true));
    assert!(state.is_wholly_known());
}

#[tokio::test]
async fn an_unknown_provider_setting_is_named_in_the_error() {
    let svc = ProviderService::new(OffstateProvider::default());
    let pty = terraform_provider_offstate::provider::schema().value_type();
    let mut c = object_of(&pty, &[("region", Value::string("eu-west-1"))]);
    c.set("endpoint", Value::Unknown);
    let r = svc
        .configure_provider(Request::new(pb::configure_provider::Request {
            config: dv(&c, &pty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        errors(&r.diagnostics),
        [(
            "endpoint".to_string(),
            "Provider configuration not known".to_string()
        )]
    );
}

#[tokio::test]
async fn a_rotation_moves_from_the_aws_provider() {
    let h = harness();
    let state = h.create(&config("app/moved-rot", &canary(), "1")).await;
    let arn = state.get("arn").as_str().unwrap().to_string();
    let lambda = "arn:aws:lambda:us-east-1:123456789012:function:rot";
    h.store
        .rotate(
            &arn,
            offstate_common::store::RotateRequest {
                lambda_arn: Some(lambda.into()),
                automatically_after_days: Some(30),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let source = serde_json::json!({
        "id": arn, "secret_id": arn, "rotation_lambda_arn": lambda, "rotation_enabled": true,
        "rotate_immediately": true,
        "rotation_rules": [{"automatically_after_days": 30, "duration": "", "schedule_expression": ""}],
    });
    let ty = terraform_provider_offstate::rotation::schema().value_type();
    let moved = h
        .move_from_aws(
            "aws_secretsmanager_secret_rotation",
            1,
            "offstate_secret_rotation",
            &source,
        )
        .await;
    assert_eq!(errors(&moved.diagnostics), []);
    let read = h
        .svc
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "offstate_secret_rotation".into(),
            current_state: moved.target_state.clone(),
            client_capabilities: caps(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&read.diagnostics), []);
    let prior = undv(&read.new_state, &ty);
    let mut c = rotation_config(&arn, &[("automatically_after_days", window(30))]);
    c.set("rotate_immediately", Value::Null);
    let mut proposed = c.clone();
    for k in ["id", "rotation_enabled", "rotate_immediately"] {
        proposed.set(k, prior.get(k).clone());
    }
    let plan = h
        .plan_of("offstate_secret_rotation", &ty, &prior, &proposed, &c, &[])
        .await;
    assert_eq!(errors(&plan.diagnostics), []);
    assert!(
        plan.requires_replace.is_empty(),
        "{:?}",
        plan.requires_replace
    );
    assert_eq!(
        undv(&plan.planned_state, &ty),
        prior,
        "the move plans no change"
    );
}

#[tokio::test]
async fn stop_provider_ends_the_wait_for_a_forced_delete() {
    // Ctrl-C in Terraform sends StopProvider: a destroy waiting for a forced
    // delete to finish must return then, not after two minutes.
    let h = harness();
    let mut c = config("app/stopped", &canary(), "1");
    c.set("recovery_window_in_days", window(0));
    let state = h.create(&c).await;
    h.store.lag_forced_deletes(usize::MAX / 2);
    let stop = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        h.svc
            .stop_provider(Request::new(pb::stop_provider::Request {}))
            .await
            .unwrap();
    };
    let (destroyed, ()) = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        tokio::join!(h.destroy(&state), stop)
    })
    .await
    .expect("the destroy returned after StopProvider");
    assert_eq!(errors(&destroyed.diagnostics), []);
}

#[tokio::test]
async fn read_and_rotation_errors_point_at_the_argument_at_fault() {
    use offstate_framework::datasource::EphemeralResource as _;
    let h = harness();
    let state = h.create(&config("app/paths", &canary(), "1")).await;
    let eph = terraform_provider_offstate::ephemeral::SecretValueEphemeral::new(h.handle());
    let ety = eph.schema().value_type();
    for (pairs, want) in [
        (
            vec![
                ("secret_id", Value::string("app/paths")),
                (
                    "version_id",
                    Value::string("00000000-0000-0000-0000-000000000000"),
                ),
            ],
            "version_id",
        ),
        (
            vec![
                ("secret_id", Value::string("app/paths")),
                ("version_stage", Value::string("AWSPENDING")),
            ],
            "version_stage",
        ),
        (
            vec![("secret_id", Value::string("app/missing"))],
            "secret_id",
        ),
    ] {
        let resp = open_secret_value(&eph, &object_of(&ety, &pairs)).await;
        let d = resp.diagnostics.iter().next().expect("an error");
        assert_eq!(
            d.attribute.as_ref().map(|p| p.to_string()).as_deref(),
            Some(want)
        );
    }

    let ty = terraform_provider_offstate::rotation::schema().value_type();
    let c = rotation_config(
        state.get("arn").as_str().unwrap(),
        &[("automatically_after_days", window(30))],
    );
    h.store.fail_next_call_of(
        "rotate",
        offstate_common::StoreError::from_code(
            "AccessDeniedException",
            "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.",
        ),
    );
    let applied = h
        .apply_of("offstate_secret_rotation", &ty, &Value::Null, &c, &c, &[])
        .await;
    let errs = errors(&applied.diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "rotation_lambda_arn");
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
