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
