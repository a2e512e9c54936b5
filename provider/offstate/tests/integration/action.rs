//! `action "offstate_secret_rotate"` over the tfplugin6 service (PlanAction, InvokeAction's
//! stream of progress and completed events) with the in-memory store, whose RotateSecret
//! stand-in finishes a rotation at once, or never after `stall_rotations`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use offstate_common::store::memory::MemoryStore;
use offstate_common::store::{CreateSecret, RotateRequest, SecretStore as _};
use offstate_common::StoreError;
use offstate_framework::codec::encode_msgpack;
use offstate_framework::wire::ProviderService;
use offstate_framework::Value;
use offstate_proto::tfplugin6 as pb;
use pb::invoke_action::event::Type as Kind;
use pb::provider_server::Provider as _;
use terraform_provider_offstate::action::{schema, TYPE_NAME};
use terraform_provider_offstate::provider::{Configured, Handle};
use terraform_provider_offstate::OffstateProvider;
use tonic::Request;

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:rot-db";

fn canary() -> String {
    crate::planted::plant(format!("canary-{}", uuid::Uuid::new_v4().simple()))
}

fn service(store: &Arc<MemoryStore>) -> ProviderService<OffstateProvider> {
    let handle = Handle::with(Configured {
        store: store.clone(),
        default_tags: BTreeMap::new(),
        ignore_tags: Default::default(),
    });
    ProviderService::new(OffstateProvider::with_handle(handle))
}

/// A store holding secret `app/db` with the value `value`, its rotation configured (a
/// Lambda and a schedule) when `rotation`. Returns the AWSCURRENT version.
async fn secret(store: &MemoryStore, value: &str, rotation: bool) -> String {
    let meta = store
        .create(CreateSecret {
            name: "app/db".into(),
            value: Some(value.to_string().into()),
            ..Default::default()
        })
        .await
        .unwrap();
    if rotation {
        let configure = RotateRequest {
            lambda_arn: Some(LAMBDA.into()),
            automatically_after_days: Some(30),
            ..Default::default()
        };
        store.rotate("app/db", configure).await.unwrap();
    }
    meta.current_version_id.unwrap()
}

fn config(pairs: &[(&str, Value)]) -> Value {
    let mut v = Value::object([
        ("secret_id", Value::Null),
        ("wait", Value::Null),
        ("timeout", Value::Null),
    ]);
    for (k, val) in pairs {
        v.set(k, val.clone());
    }
    v
}

fn dv(v: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: encode_msgpack(v, &schema().value_type()).unwrap(),
        json: vec![],
    })
}

/// One InvokeAction: its progress messages and the completed event's diagnostics (as
/// `summary: detail`, with `@path` when there is one).
async fn invoke(store: &Arc<MemoryStore>, c: Value) -> (Vec<String>, Vec<String>) {
    let stream = service(store)
        .invoke_action(Request::new(pb::invoke_action::Request {
            action_type: TYPE_NAME.into(),
            config: dv(&c),
            client_capabilities: None,
        }))
        .await
        .unwrap()
        .into_inner();
    let events: Vec<_> = stream.collect().await;
    let (mut progress, mut completed) = (Vec::new(), None);
    for e in events {
        assert!(completed.is_none(), "an event after the completed one");
        match e.unwrap().r#type.unwrap() {
            Kind::Progress(p) => progress.push(p.message),
            Kind::Completed(c) => completed = Some(c.diagnostics),
        }
    }
    let diags: Vec<String> = completed
        .expect("a completed event")
        .iter()
        .map(|d| {
            let at = d
                .attribute
                .as_ref()
                .map_or(String::new(), |p| format!(" @{}", p.steps.len()));
            format!("{}: {}{at}", d.summary, d.detail)
        })
        .collect();
    // Before any test's assertion prints these: no value planted by `canary()` in any of them.
    assert_no_canary(&progress, "canary-");
    assert_no_canary(&diags, "canary-");
    (progress, diags)
}

fn assert_no_canary(texts: &[String], canary: &str) {
    assert!(
        !texts.iter().any(|t| t.contains(canary)),
        "the secret value is in an event"
    );
}

/// Invoked: RotateSecret starts a rotation, and the action ends once its version holds
/// AWSCURRENT; progress names the secret and the versions, never the value, which is never
/// read.
#[tokio::test]
async fn rotates_and_waits_for_awscurrent() {
    let store = Arc::new(MemoryStore::default());
    let value = canary();
    let before = secret(&store, &value, true).await;
    let (progress, diags) = invoke(&store, config(&[("secret_id", Value::string("app/db"))])).await;
    assert_eq!(diags, Vec::<String>::new());
    let meta = store.describe("app/db").await.unwrap().unwrap();
    let after = meta.current_version_id.clone().unwrap();
    assert_ne!(after, before);
    assert!(progress[0].contains("\"app/db\"") && progress[0].contains(&before));
    assert!(progress.last().unwrap().contains(&after), "{progress:?}");
    assert!(progress.last().unwrap().contains("is AWSCURRENT"));
    assert_no_canary(&progress, &value);
    assert_eq!(store.call_count("get_value"), 0);
    // The configured rotation is used and kept.
    assert_eq!(meta.rotation.lambda_arn.as_deref(), Some(LAMBDA));
    assert_eq!(meta.rotation.automatically_after_days, Some(30));

    // Again: another rotation (a new token each time).
    let (_, diags) = invoke(&store, config(&[("secret_id", Value::string("app/db"))])).await;
    assert_eq!(diags, Vec::<String>::new());
    let again = store.describe("app/db").await.unwrap().unwrap();
    assert_ne!(again.current_version_id.unwrap(), after);
}

/// No rotation configured: an error on secret_id naming the secret and the resource to
/// add, and RotateSecret is not called.
#[tokio::test]
async fn a_secret_without_rotation_is_an_error_naming_the_fix() {
    let store = Arc::new(MemoryStore::default());
    let value = canary();
    let before = secret(&store, &value, false).await;
    let (progress, diags) = invoke(&store, config(&[("secret_id", Value::string("app/db"))])).await;
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].starts_with("Secret rotation not configured"));
    assert!(diags[0].contains("\"app/db\"") && diags[0].contains("offstate_secret_rotation"));
    assert!(diags[0].ends_with(" @1"), "on secret_id: {diags:?}");
    assert_no_canary(&progress, &value);
    assert_no_canary(&diags, &value);
    assert_eq!(store.call_count("rotate"), 0);
    let meta = store.describe("app/db").await.unwrap().unwrap();
    assert_eq!(meta.current_version_id.unwrap(), before);
}

/// RotateSecret refused (AWS's answer when no rotation is configured, or one is still in
/// progress): the diagnostic names the API, the error code, the secret and the resource to
/// add.
#[tokio::test]
async fn a_refused_rotate_names_the_code_and_the_secret() {
    let store = Arc::new(MemoryStore::default());
    secret(&store, &canary(), true).await;
    store.fail_next_call_of(
        "rotate",
        StoreError::from_code(
            "InvalidRequestException",
            "A previous rotation isn't complete. That rotation will be reattempted.",
        ),
    );
    let (_, diags) = invoke(&store, config(&[("secret_id", Value::string("app/db"))])).await;
    assert_eq!(diags.len(), 1, "{diags:?}");
    for part in [
        "RotateSecret",
        "InvalidRequestException",
        "\"app/db\"",
        "offstate_secret_rotation",
    ] {
        assert!(diags[0].contains(part), "{part} missing: {diags:?}");
    }
}

/// A rotation that does not finish: after `timeout`, an error naming the version, where
/// AWSCURRENT still is and the Lambda's log group.
#[tokio::test]
async fn a_rotation_that_does_not_finish_times_out() {
    let store = Arc::new(MemoryStore::default());
    let before = secret(&store, &canary(), true).await;
    store.stall_rotations();
    let started = Instant::now();
    let (progress, diags) = invoke(
        &store,
        config(&[
            ("secret_id", Value::string("app/db")),
            ("timeout", Value::string("1s")),
        ]),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].starts_with("Rotation did not finish"), "{diags:?}");
    assert!(diags[0].contains(&before), "names AWSCURRENT: {diags:?}");
    assert!(diags[0].contains("/aws/lambda/rot-db"), "{diags:?}");
    assert!(progress
        .iter()
        .any(|p| p.starts_with("Waiting for version")));
}

/// `wait = false`: done once the rotation started.
#[tokio::test]
async fn without_wait_the_action_ends_when_the_rotation_starts() {
    let store = Arc::new(MemoryStore::default());
    secret(&store, &canary(), true).await;
    store.stall_rotations();
    let (progress, diags) = invoke(
        &store,
        config(&[
            ("secret_id", Value::string("app/db")),
            ("wait", Value::Bool(false)),
        ]),
    )
    .await;
    assert_eq!(diags, Vec::<String>::new());
    assert!(progress.last().unwrap().starts_with("Not waiting"));
    assert_eq!(store.call_count("describe"), 1);
}

#[tokio::test]
async fn a_missing_secret_is_an_error() {
    let store = Arc::new(MemoryStore::default());
    let (_, diags) = invoke(&store, config(&[("secret_id", Value::string("app/none"))])).await;
    assert_eq!(diags.len(), 1);
    assert!(diags[0].starts_with("Secret not found") && diags[0].ends_with(" @1"));
    assert!(
        diags[0].contains("ResourceNotFoundException"),
        "{}",
        diags[0]
    );
}

/// A sensitive value given as `secret_id` by mistake reaches the provider without its mark:
/// no diagnostic repeats it, nor AWS's message quoting it; they point at `secret_id`, whose
/// source line Terraform shows. (`invoke` fails on any `canary-` text in an event.)
#[tokio::test]
async fn errors_do_not_repeat_the_secret_id() {
    let store = Arc::new(MemoryStore::default());
    let planted = canary();
    let (_, diags) = invoke(&store, config(&[("secret_id", Value::string(&planted))])).await;
    assert_eq!(diags.len(), 1);
    store.fail_next(offstate_common::StoreError::from_code(
        "ValidationException",
        format!("Value '{planted}' at 'secretId' failed to satisfy constraint"),
    ));
    let (_, diags) = invoke(&store, config(&[("secret_id", Value::string(&planted))])).await;
    assert_eq!(diags.len(), 1);
    assert!(
        diags[0].contains("ValidationException") && diags[0].contains("<secret_id>"),
        "{}",
        diags[0]
    );
}

/// PlanAction validates nothing more and calls nothing, unknown values included.
#[tokio::test]
async fn plan_calls_nothing() {
    let store = Arc::new(MemoryStore::default());
    let resp = service(&store)
        .plan_action(Request::new(pb::plan_action::Request {
            action_type: TYPE_NAME.into(),
            config: dv(&config(&[("secret_id", Value::Unknown)])),
            client_capabilities: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty());
    assert!(store.calls().is_empty());
}

/// A secret scheduled for deletion (DeleteSecret with a recovery window: DescribeSecret still
/// answers, with a DeletedDate) cannot rotate: refused before RotateSecret, nothing changed.
#[tokio::test]
async fn a_secret_scheduled_for_deletion_is_refused_before_rotate_secret() {
    let store = Arc::new(MemoryStore::default());
    secret(&store, &canary(), true).await;
    store
        .delete(
            "app/db",
            offstate_common::store::Deletion::RecoveryWindow(7),
        )
        .await
        .unwrap();
    let rotations = store.call_count("rotate");
    let (_, diags) = invoke(&store, config(&[("secret_id", Value::string("app/db"))])).await;
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(
        diags[0].starts_with("Secret scheduled for deletion"),
        "{diags:?}"
    );
    assert!(diags[0].ends_with(" @1"), "on secret_id: {diags:?}");
    assert_eq!(
        store.call_count("rotate"),
        rotations,
        "RotateSecret not called"
    );
}

/// Deleted with a recovery window while the action waits: no rotation of it can finish, so
/// the action ends when the wait sees the DeletedDate, not at the timeout.
#[tokio::test]
async fn a_secret_deleted_while_waiting_ends_the_wait_at_once() {
    let store = Arc::new(MemoryStore::default());
    secret(&store, &canary(), true).await;
    store.stall_rotations();
    let deleter = store.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        deleter
            .delete(
                "app/db",
                offstate_common::store::Deletion::RecoveryWindow(7),
            )
            .await
            .unwrap();
    });
    let started = Instant::now();
    let (_, diags) = invoke(
        &store,
        config(&[
            ("secret_id", Value::string("app/db")),
            ("timeout", Value::string("20s")),
        ]),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "ended after {:?}",
        started.elapsed()
    );
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(
        diags[0].starts_with("Secret deleted during rotation"),
        "{diags:?}"
    );
}
