//! The life of an `offstate_secret`: create, update, read, drift, destroy; no response carries
//! the value.

use super::*;

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

#[tokio::test]
async fn the_aws_managed_key_by_any_spelling_is_no_drift() {
    // Unsetting kms_key_id sends UpdateSecret with the AWS managed key's alias, and AWS may
    // report that alias back: read as a key of its own, it made a diff against the null
    // configuration on every plan (and an UpdateSecret on every apply).
    let h = harness();
    let mut c = config("app/kms-default", &canary(), "1");
    c.set(
        "kms_key_id",
        Value::string("1111aaaa-0000-0000-0000-000000000001"),
    );
    let state = h.create(&c).await;
    c.set("kms_key_id", Value::Null);
    let plan = undv(&h.plan(&state, &c).await.planned_state, &h.ty);
    let applied = undv(&h.apply(&state, &plan, &c).await.new_state, &h.ty);
    let meta = h.store.describe("app/kms-default").await.unwrap().unwrap();
    assert_eq!(meta.kms_key_id.as_deref(), Some("alias/aws/secretsmanager"));
    let read = undv(&h.read(&applied).await.new_state, &h.ty);
    assert!(
        read.get("kms_key_id").is_null(),
        "{:?}",
        read.get("kms_key_id")
    );
    let again = undv(&h.plan(&read, &c).await.planned_state, &h.ty);
    assert_eq!(
        again, read,
        "the AWS managed key reported by its alias is a diff"
    );

    // Configured as its alias (as hashicorp/aws users often write it) while AWS reports no
    // key (a secret created without one): no diff either.
    let mut c = config("app/kms-alias", &canary(), "1");
    let state = h.create(&c).await;
    c.set("kms_key_id", Value::string("alias/aws/secretsmanager"));
    let mut recorded = state.clone();
    recorded.set("kms_key_id", Value::string("alias/aws/secretsmanager"));
    let read = undv(&h.read(&recorded).await.new_state, &h.ty);
    assert_eq!(read.get("kms_key_id"), c.get("kms_key_id"));
    let plan = undv(&h.plan(&read, &c).await.planned_state, &h.ty);
    assert_eq!(
        plan, read,
        "alias/aws/secretsmanager against no key is a diff"
    );
    // A key of its own added outside Terraform still shows.
    h.store
        .update_metadata(
            "app/kms-alias",
            offstate_common::store::MetadataUpdate {
                kms_key_id: Some("arn:aws:kms:us-east-1:123456789012:key/2222".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let read = undv(&h.read(&recorded).await.new_state, &h.ty);
    assert_eq!(
        read.get("kms_key_id").as_str(),
        Some("arn:aws:kms:us-east-1:123456789012:key/2222")
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

/// Credentials now acting in another account (another profile, `assume_role` into another
/// account) make DescribeSecret of the old ARN answer ResourceNotFound (moto does): the refresh
/// dropped the resource, the next plan showed a lone create and the secret stayed behind with
/// its value. It is now an error naming both accounts; the account is asked for once per
/// process, and only when a secret is not found.
#[tokio::test]
async fn a_secret_of_another_account_is_not_dropped_at_refresh() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use terraform_provider_offstate::provider::Account;
    let h = harness();
    let state = h.create(&config("app/accounts", &canary(), "1")).await;
    assert!(state
        .get("arn")
        .as_str()
        .unwrap()
        .contains(":123456789012:"));

    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let account = Account::asking(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok("210987654321".to_string()) })
    });
    let other = harness_as(
        Arc::new(MemoryStore::new("us-east-1", "210987654321")),
        Some(account),
    );
    for _ in 0..2 {
        let read = other.read(&state).await;
        let errs = errors(&read.diagnostics);
        assert_eq!(
            errs,
            [(String::new(), "Secret in another account".to_string())]
        );
        let detail = &read.diagnostics[0].detail;
        assert!(
            detail.contains("123456789012") && detail.contains("210987654321"),
            "{detail}"
        );
        assert!(!detail.contains("  "), "{detail}");
    }
    assert_eq!(
        asked.load(Ordering::SeqCst),
        1,
        "STS asked once per process"
    );

    // Same account: a secret deleted outside leaves the state (no error).
    let same = harness_as(h.store.clone(), Some(Account::known("123456789012")));
    h.store
        .delete("app/accounts", offstate_common::store::Deletion::Immediate)
        .await
        .unwrap();
    let gone = same.read(&state).await;
    assert!(
        errors(&gone.diagnostics).is_empty(),
        "{:?}",
        gone.diagnostics
    );
    assert!(undv(&gone.new_state, &h.ty).is_null());
}

/// When the account cannot be learnt (STS unreachable), a secret not found leaves the state as
/// before, with a warning that the account was not checked; found secrets never ask.
#[tokio::test]
async fn an_unknown_account_drops_the_missing_secret_with_a_warning() {
    use terraform_provider_offstate::provider::Account;
    let h = harness();
    let state = h.create(&config("app/no-sts", &canary(), "1")).await;
    let failing = Account::asking(|| {
        Box::pin(async {
            Err(offstate_common::StoreError::Other {
                code: "InvalidClientTokenId".into(),
                message: "no STS here".into(),
            })
        })
    });
    let other = harness_as(
        Arc::new(MemoryStore::new("us-east-1", "210987654321")),
        Some(failing),
    );
    let read = other.read(&state).await;
    assert!(
        errors(&read.diagnostics).is_empty(),
        "{:?}",
        read.diagnostics
    );
    assert!(read
        .diagnostics
        .iter()
        .any(|d| d.summary == "Secret's account not checked"
            && d.detail.contains("InvalidClientTokenId")
            && !d.detail.contains("  ")));
    assert!(undv(&read.new_state, &h.ty).is_null());
}
