//! Replicas: removed before the secret they copy, left alone when the secret manages none.

use super::*;

fn replica(region: &str) -> Value {
    Value::object([
        ("region", Value::string(region)),
        ("kms_key_id", Value::Null),
    ])
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
async fn a_replica_on_the_aws_managed_key_is_not_replaced_for_its_spelling() {
    // AWS reports a replica made without a key as on `alias/aws/secretsmanager`, so an import
    // (and -generate-config-out) wrote that key into the replica block. Removing the line, or a
    // configuration that never had it, planned the replica's replacement: RemoveRegionsFromReplication
    // (the replica deleted at once) and ReplicateSecretToRegions.
    let h = harness();
    let mut c = config("app/replica-key", &canary(), "1");
    c.set("replica", Value::Set(vec![replica("us-west-2")]));
    let state = h.create(&c).await;
    let mut recorded = state.clone();
    let mut on_alias = replica("us-west-2");
    on_alias.set("kms_key_id", Value::string("alias/aws/secretsmanager"));
    recorded.set("replica", Value::Set(vec![on_alias]));
    let before = h.store.calls().len();
    let plan = undv(&h.plan(&recorded, &c).await.planned_state, &h.ty);
    let applied = h.apply(&recorded, &plan, &c).await;
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "{:?}",
        applied.diagnostics
    );
    let calls = h.store.calls();
    assert!(
        !calls[before..]
            .iter()
            .any(|c| *c == "remove_replica_regions" || *c == "replicate"),
        "{:?}",
        &calls[before..]
    );
    let applied = undv(&applied.new_state, &h.ty);
    assert_eq!(applied.get("replica"), c.get("replica"));
    let read = undv(&h.read(&applied).await.new_state, &h.ty);
    let again = undv(&h.plan(&read, &c).await.planned_state, &h.ty);
    assert_eq!(again, read);
}

#[tokio::test]
async fn a_replica_made_outside_terraform_is_taken_over_by_the_block_that_names_it() {
    // A state that manages no replica (a move from hashicorp/aws, whose `replica` blocks do not
    // move) and a configuration whose `replica` block names one that exists: the apply takes it
    // over as it is. ReplicateSecretToRegions for it again is refused (the in-memory store
    // refuses it as Secrets Manager does), and a key written another way (an alias in AWS, a key
    // ARN in the configuration: only KMS could tell) does not delete it and make it again.
    let arn_key = "arn:aws:kms:us-west-2:123456789012:key/1111";
    let other_key = "arn:aws:kms:us-west-2:123456789012:key/2222";
    // (key in AWS, key of the block, replaced, warned): an alias on one side is taken over with
    // a warning that the keys may differ; two key ARNs that differ surely name two keys.
    for (remote, configured, replaced, warned) in [
        (None, None, false, false),
        (Some(arn_key), Some("1111"), false, false),
        (Some("alias/app-west"), Some(arn_key), false, true),
        (Some(other_key), Some(arn_key), true, false),
    ] {
        let h = harness();
        let mut c = config("app/taken-over", &canary(), "1");
        let state = h.create(&c).await;
        h.store
            .replicate(
                "app/taken-over",
                &[offstate_common::store::Replica {
                    region: "us-west-2".into(),
                    kms_key_id: remote.map(str::to_string),
                }],
                false,
            )
            .await
            .unwrap();
        let read = undv(&h.read(&state).await.new_state, &h.ty);
        let mut block = replica("us-west-2");
        block.set(
            "kms_key_id",
            Value::opt_string(configured.map(str::to_string)),
        );
        c.set("replica", Value::Set(vec![block]));
        let before = h.store.calls().len();
        let plan = undv(&h.plan(&read, &c).await.planned_state, &h.ty);
        let applied = h.apply(&read, &plan, &c).await;
        assert!(
            errors(&applied.diagnostics).is_empty(),
            "{remote:?}: {:?}",
            applied.diagnostics
        );
        let calls = h.store.calls();
        let remade: Vec<_> = calls[before..]
            .iter()
            .filter(|c| **c == "remove_replica_regions" || **c == "replicate")
            .copied()
            .collect();
        let expected: &[&str] = if replaced {
            &["remove_replica_regions", "replicate"]
        } else {
            &[]
        };
        assert_eq!(remade, expected, "{remote:?}");
        let warnings: Vec<_> = applied
            .diagnostics
            .iter()
            .filter(|d| d.severity == pb::diagnostic::Severity::Warning as i32)
            .collect();
        assert_eq!(
            warnings.len(),
            usize::from(warned),
            "{remote:?}: {warnings:?}"
        );
        if warned {
            let text = &warnings[0].detail;
            assert!(
                text.contains("\"alias/app-west\"") && text.contains(arn_key),
                "{text}"
            );
        }
        let meta = h.store.describe("app/taken-over").await.unwrap().unwrap();
        let kept: Vec<_> = meta
            .replicas
            .iter()
            .map(|r| (r.region.as_str(), r.kms_key_id.as_deref()))
            .collect();
        let now = if replaced { configured } else { remote };
        assert_eq!(kept, [("us-west-2", now)], "{remote:?}");
        let state = undv(&applied.new_state, &h.ty);
        let read = undv(&h.read(&state).await.new_state, &h.ty);
        let again = undv(&h.plan(&read, &c).await.planned_state, &h.ty);
        assert_eq!(again, read, "{remote:?}: the next plan changes nothing");
    }
}
