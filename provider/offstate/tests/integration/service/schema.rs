//! The resource schema: `value_wo` write-only and sensitive, and the write-only client
//! capability.

use super::*;

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
