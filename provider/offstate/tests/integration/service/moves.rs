//! `moved` from the hashicorp/aws resources (MoveResourceState).

use super::*;

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
    // Nor with a trigger not known until apply (another resource's version_id): it may be
    // set by then, and a plan keeping version_id would contradict the apply that writes.
    let mut unknown_trigger = config(32, None);
    unknown_trigger.set("value_wo_version", Value::Unknown);
    let later = h
        .plan_private(&prior, &unknown_trigger, &read.private)
        .await;
    assert!(undv(&later.planned_state, &h.ty)
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
    // The identity comes with the move (Terraform 1.12+ records it): the secret's ARN.
    let ity = Type::Object([("arn".to_string(), Type::String)].into_iter().collect());
    let identity = moved
        .target_identity
        .as_ref()
        .and_then(|i| i.identity_data.clone());
    assert_eq!(
        undv(&identity, &ity),
        Value::object([("arn", Value::string(&arn))])
    );
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
