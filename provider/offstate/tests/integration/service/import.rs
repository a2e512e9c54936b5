//! Import: by name (a `name_prefix` it matches is no change), and the list resource's objects,
//! which are what import makes.

use super::*;

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

/// `?value_wo_version=V` in the import id means the value in AWS is version V of the
/// configuration, whatever its value source: a `generate` block with `value_wo_version = "V"`
/// adopts it (as after a move from hashicorp/aws); without the suffix, or with another V in
/// the configuration, the first apply generates. A later settings change generates.
#[tokio::test]
async fn an_import_with_a_trigger_adopts_the_value_under_generate() {
    let h = harness();
    let live = canary();
    let made = h
        .store
        .create(offstate_common::store::CreateSecret {
            name: "app/live".into(),
            value: Some(SecretValue::from_string(live.clone())),
            ..Default::default()
        })
        .await
        .unwrap();
    let v0 = made.current_version_id.clone().unwrap();
    let adopt = |p: &[u8]| {
        !p.is_empty()
            && serde_json::from_slice::<serde_json::Value>(p).unwrap()["adopt_value"]
                == serde_json::Value::Bool(true)
    };
    let config = |length: i64, version: &str| {
        obj(&[
            ("name", Value::string("app/live")),
            ("recovery_window_in_days", window(0)),
            ("replica", Value::Set(Vec::new())),
            ("generate", generate_block(length)),
            ("value_wo_version", Value::string(version)),
        ])
    };
    // Import then refresh, as Terraform does; the private state goes along.
    async fn imported(h: &Harness, id: &str) -> (Value, Vec<u8>) {
        let r = h.import_raw(id).await;
        let i = &r.imported_resources[0];
        let read = h
            .svc
            .read_resource(Request::new(pb::read_resource::Request {
                type_name: TYPE.into(),
                current_state: i.state.clone(),
                private: i.private.clone(),
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
        (undv(&read.new_state, &h.ty), read.private)
    }

    // Without the suffix there is no marker, and generate writes.
    let (plain, plain_private) = imported(&h, "app/live").await;
    assert!(!adopt(&plain_private));
    let p = h
        .plan_private(&plain, &config(24, "1"), &plain_private)
        .await;
    assert!(undv(&p.planned_state, &h.ty).get("version_id").is_unknown());

    let (prior, private) = imported(&h, "app/live?value_wo_version=1").await;
    assert!(adopt(&private), "an import with a trigger marks the state");
    assert_eq!(prior.get("version_id").as_str(), Some(v0.as_str()));
    // Another trigger in the configuration writes.
    let other = h.plan_private(&prior, &config(24, "2"), &private).await;
    assert!(undv(&other.planned_state, &h.ty)
        .get("version_id")
        .is_unknown());

    // The same trigger: the settings are recorded, nothing written or read.
    let c1 = config(24, "1");
    let plan = h.plan_private(&prior, &c1, &private).await;
    assert!(
        errors(&plan.diagnostics).is_empty(),
        "{:?}",
        plan.diagnostics
    );
    let planned = undv(&plan.planned_state, &h.ty);
    assert_eq!(planned.get("version_id").as_str(), Some(v0.as_str()));
    assert_eq!(planned.get("generate"), c1.get("generate"));
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
    assert_eq!(h.store.call_count("put_value"), 0, "nothing written");
    assert_eq!(
        h.store.call_count("get_value"),
        0,
        "the value is never read"
    );
    assert_eq!(h.store.list_versions("app/live").await.unwrap().len(), 1);

    // A later change of the settings generates.
    let c2 = config(32, "1");
    let plan2 = h.plan_private(&s1, &c2, &applied.private).await;
    let p2 = undv(&plan2.planned_state, &h.ty);
    assert!(p2.get("version_id").is_unknown());
    let a2 = h.apply_private(&s1, &p2, &c2, &plan2.planned_private).await;
    assert!(errors(&a2.diagnostics).is_empty(), "{:?}", a2.diagnostics);
    assert_eq!(h.store.call_count("put_value"), 1);
    let got = h
        .store
        .get_value("app/live", VersionSelector::Current)
        .await
        .unwrap();
    assert!(!got.value.ct_eq(&SecretValue::from_string(live.clone())));
    assert_eq!(got.value.len(), 32);
}

/// A secret with no value yet (created without one) imported with `?value_wo_version=V` has
/// nothing to adopt: a `generate` block with `value_wo_version = "V"` generates its first value.
/// Marked, the plan kept `version_id` null and the apply wrote nothing, leaving the secret empty
/// with its settings recorded (no later plan would generate).
#[tokio::test]
async fn an_import_with_a_trigger_of_a_secret_without_a_value_generates() {
    let h = harness();
    h.store
        .create(offstate_common::store::CreateSecret {
            name: "app/empty".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let r = h.import_raw("app/empty?value_wo_version=1").await;
    let i = &r.imported_resources[0];
    assert!(i.private.is_empty(), "no adopt marker without a value");
    let prior = undv(&i.state, &h.ty);
    assert!(prior.get("version_id").is_null());
    let config = obj(&[
        ("name", Value::string("app/empty")),
        ("recovery_window_in_days", window(0)),
        ("replica", Value::Set(Vec::new())),
        ("generate", generate_block(24)),
        ("value_wo_version", Value::string("1")),
    ]);
    let plan = h.plan_private(&prior, &config, &i.private).await;
    assert!(
        errors(&plan.diagnostics).is_empty(),
        "{:?}",
        plan.diagnostics
    );
    let planned = undv(&plan.planned_state, &h.ty);
    assert!(planned.get("version_id").is_unknown(), "a write is planned");
    let applied = h
        .apply_private(&prior, &planned, &config, &plan.planned_private)
        .await;
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "{:?}",
        applied.diagnostics
    );
    assert_eq!(h.store.call_count("put_value"), 1);
    let got = h
        .store
        .get_value("app/empty", VersionSelector::Current)
        .await
        .unwrap();
    assert_eq!(got.value.len(), 24);
}
