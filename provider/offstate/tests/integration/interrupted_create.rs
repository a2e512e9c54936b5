//! A create interrupted after CreateSecret succeeded and before Terraform
//! stored the state (provider killed, apply cancelled): the re-applied create
//! meets "already exists". offstate adopts the existing secret only when it
//! is exactly what this create would make (same name, description, tags,
//! value, a single version, nobody wrote since); otherwise the error stays,
//! with advice. In-process over the service with the in-memory store, which
//! models Secrets Manager's idempotency-token rules.

use std::collections::BTreeMap;
use std::sync::Arc;

use offstate_common::store::memory::MemoryStore;
use offstate_common::store::{CreateSecret, PutValue, SecretStore, VersionSelector};
use offstate_common::SecretValue;
use offstate_framework::codec::{decode_msgpack, encode_msgpack};
use offstate_framework::wire::ProviderService;
use offstate_framework::{Type, Value};
use offstate_proto::tfplugin6 as pb;
use pb::provider_server::Provider as _;
use terraform_provider_offstate::provider::{Configured, Handle};
use terraform_provider_offstate::{secret, OffstateProvider};
use tonic::Request;

fn ty() -> Type {
    secret::schema().value_type()
}

fn setup() -> (ProviderService<OffstateProvider>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    let handle = Handle::with(Configured {
        store: store.clone(),
        default_tags: BTreeMap::from([("team".to_string(), "payments".to_string())]),
        ignore_tags: Default::default(),
    });
    (
        ProviderService::new(OffstateProvider::with_handle(handle)),
        store,
    )
}

fn config(name: &str, value: Option<&str>) -> Value {
    let Type::Object(attrs) = ty() else {
        unreachable!()
    };
    let mut v = Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect());
    v.set("name", Value::string(name));
    v.set("description", Value::string("d"));
    v.set(
        "tags",
        Value::Map(BTreeMap::from([("env".to_string(), Value::string("prod"))])),
    );
    if let Some(value) = value {
        v.set("value_wo", Value::string(value));
        v.set("value_wo_version", Value::string("1"));
    }
    v
}

fn all_tags() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("env".to_string(), "prod".to_string()),
        ("team".to_string(), "payments".to_string()),
    ])
}

/// What the interrupted run had done: CreateSecret with its own random token and the
/// create-pending tag, which that run never got to remove.
async fn interrupted(store: &MemoryStore, name: &str, value: Option<&str>) -> String {
    let mut tags = all_tags();
    tags.insert(secret::CREATE_PENDING_TAG.to_string(), "true".to_string());
    store
        .create(CreateSecret {
            name: name.into(),
            description: Some("d".into()),
            kms_key_id: None,
            tags,
            value: value.map(|v| SecretValue::from_string(v.to_string())),
            binary: false,
            client_request_token: Some(uuid_v4_like()),
        })
        .await
        .unwrap()
        .arn
}

fn uuid_v4_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

async fn apply_create(
    svc: &ProviderService<OffstateProvider>,
    config: &Value,
) -> (Value, Vec<pb::Diagnostic>) {
    let mut planned = config.clone();
    for k in ["id", "arn", "version_id"] {
        planned.set(k, Value::Unknown);
    }
    planned.set("value_wo", Value::Null);
    let enc = |v: &Value| {
        Some(pb::DynamicValue {
            msgpack: encode_msgpack(v, &ty()).unwrap(),
            json: vec![],
        })
    };
    let r = svc
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "offstate_secret".into(),
            prior_state: enc(&Value::Null),
            planned_state: enc(&planned),
            config: enc(config),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let state = r
        .new_state
        .as_ref()
        .map(|d| decode_msgpack(&d.msgpack, &ty()).unwrap())
        .unwrap_or(Value::Null);
    (state, r.diagnostics)
}

fn errors(d: &[pb::Diagnostic]) -> Vec<String> {
    d.iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect()
}

#[tokio::test]
async fn the_secret_an_interrupted_create_made_is_adopted() {
    let (svc, store) = setup();
    let arn = interrupted(&store, "app/db", Some("v1")).await;
    let (state, diags) = apply_create(&svc, &config("app/db", Some("v1"))).await;
    assert!(errors(&diags).is_empty(), "{:?}", errors(&diags));
    assert_eq!(state.get("arn").as_str(), Some(arn.as_str()));
    assert!(state.get("version_id").as_str().is_some());
    // adopting wrote nothing: still one version, the same value
    assert_eq!(store.list_versions("app/db").await.unwrap().len(), 1);
    let v = store
        .get_value("app/db", VersionSelector::Current)
        .await
        .unwrap();
    assert!(v.value.ct_eq(&SecretValue::from_string("v1".into())));
    // the adopter removed the create-pending tag, and the state never showed it
    let meta = store.describe("app/db").await.unwrap().unwrap();
    assert_eq!(meta.tags, all_tags());
    assert_eq!(state.get("tags_all").as_string_map(), Some(all_tags()));

    // without a value: adopted when it has no version either
    interrupted(&store, "app/empty", None).await;
    let (state, diags) = apply_create(&svc, &config("app/empty", None)).await;
    assert!(errors(&diags).is_empty(), "{:?}", errors(&diags));
    assert!(state.get("arn").as_str().is_some());
}

#[tokio::test]
async fn anything_else_by_that_name_is_still_already_exists() {
    let (svc, store) = setup();

    // another value: Secrets Manager refuses the token check, nothing changes
    interrupted(&store, "other/value", Some("theirs")).await;
    let (_, diags) = apply_create(&svc, &config("other/value", Some("ours"))).await;
    let e = errors(&diags);
    assert!(
        e.len() == 1 && e[0].contains("already exists") && e[0].contains("terraform import"),
        "{e:?}"
    );
    assert!(!e[0].contains("ours") && !e[0].contains("theirs"));
    let v = store
        .get_value("other/value", VersionSelector::Current)
        .await
        .unwrap();
    assert!(v.value.ct_eq(&SecretValue::from_string("theirs".into())));

    // written to since (two versions), even with our value current
    interrupted(&store, "other/versions", Some("old")).await;
    store
        .put_value(PutValue {
            secret_id: "other/versions".into(),
            value: SecretValue::from_string("ours".into()),
            binary: false,
            client_request_token: Some(uuid_v4_like()),
        })
        .await
        .unwrap();
    let (_, diags) = apply_create(&svc, &config("other/versions", Some("ours"))).await;
    assert_eq!(errors(&diags).len(), 1, "{:?}", errors(&diags));

    // other tags or description
    interrupted(&store, "other/tags", Some("ours")).await;
    store
        .tag(
            "other/tags",
            &BTreeMap::from([("owner".to_string(), "someone".to_string())]),
        )
        .await
        .unwrap();
    let (_, diags) = apply_create(&svc, &config("other/tags", Some("ours"))).await;
    assert_eq!(errors(&diags).len(), 1, "{:?}", errors(&diags));
    let mut c = config("other/desc", Some("ours"));
    interrupted(&store, "other/desc", Some("ours")).await;
    c.set("description", Value::string("another"));
    let (_, diags) = apply_create(&svc, &c).await;
    assert_eq!(errors(&diags).len(), 1, "{:?}", errors(&diags));

    // a value configured, none stored (or the reverse)
    interrupted(&store, "other/novalue", None).await;
    let (_, diags) = apply_create(&svc, &config("other/novalue", Some("ours"))).await;
    assert_eq!(errors(&diags).len(), 1, "{:?}", errors(&diags));
    interrupted(&store, "other/hasvalue", Some("x")).await;
    let (_, diags) = apply_create(&svc, &config("other/hasvalue", None)).await;
    assert_eq!(errors(&diags).len(), 1, "{:?}", errors(&diags));

    // generate: the value made now cannot be matched with the one made then
    interrupted(&store, "other/generated", Some("whatever")).await;
    let mut c = config("other/generated", None);
    let Type::Object(attrs) = ty() else {
        unreachable!()
    };
    let Type::Object(gen) = &attrs["generate"] else {
        unreachable!()
    };
    let mut g = Value::Object(gen.keys().map(|k| (k.clone(), Value::Null)).collect());
    g.set(
        "length",
        Value::Number(offstate_framework::value::Number::Int(20)),
    );
    c.set("generate", g);
    let (_, diags) = apply_create(&svc, &c).await;
    assert_eq!(errors(&diags).len(), 1, "{:?}", errors(&diags));

    // scheduled for deletion: its own error, never adopted
    interrupted(&store, "other/deleted", Some("ours")).await;
    store
        .delete(
            "other/deleted",
            offstate_common::store::Deletion::from_recovery_window_days(7),
        )
        .await
        .unwrap();
    let (_, diags) = apply_create(&svc, &config("other/deleted", Some("ours"))).await;
    let e = errors(&diags);
    assert!(
        e.len() == 1 && e[0].contains("scheduled for deletion"),
        "{e:?}"
    );
}
