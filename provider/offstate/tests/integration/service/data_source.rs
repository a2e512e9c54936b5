//! `data "offstate_secret"`: what a failed lookup says, and what it does not repeat.

use super::*;
use offstate_framework::datasource::{DataSource as _, ReadDataRequest, ReadDataResponse};
use terraform_provider_offstate::data::SecretData;

async fn read(h: &Harness, pairs: &[(&str, Value)]) -> ReadDataResponse {
    let ds = SecretData::new(h.handle());
    let cfg = object_of(&ds.schema().value_type(), pairs);
    let mut resp = ReadDataResponse {
        state: cfg.clone(),
        ..Default::default()
    };
    ds.read(
        &ReadDataRequest {
            config: &cfg,
            client_capabilities: Default::default(),
        },
        &mut resp,
    )
    .await;
    resp
}

/// A sensitive variable given as `name` by mistake reaches the provider without its mark: the
/// diagnostic points at the argument (Terraform shows the source line, masking a sensitive
/// value) and never repeats what the argument holds.
#[tokio::test]
async fn a_missing_secret_is_an_error_on_the_argument_that_names_it() {
    let h = harness();
    let planted = canary();
    for by in ["name", "arn"] {
        let resp = read(&h, &[(by, Value::string(&planted))]).await;
        let d = resp.diagnostics.iter().next().expect("an error");
        assert_eq!(d.summary, "Secret not found");
        assert_eq!(
            d.attribute.as_ref().map(|p| p.to_string()).as_deref(),
            Some(by)
        );
        assert!(
            d.detail.contains("ResourceNotFoundException"),
            "{}",
            d.summary
        );
        assert!(
            !format!("{:?}", resp.diagnostics).contains(&planted),
            "the {by} argument is repeated in the diagnostic"
        );
    }
}

/// AWS quotes the id it refuses in a ValidationException's message: withheld too.
#[tokio::test]
async fn an_aws_error_names_the_code_not_the_argument() {
    let h = harness();
    let planted = canary();
    h.store.fail_next(offstate_common::StoreError::from_code(
        "ValidationException",
        format!("Value '{planted}' at 'secretId' failed to satisfy constraint"),
    ));
    let resp = read(&h, &[("name", Value::string(&planted))]).await;
    let d = resp.diagnostics.iter().next().expect("an error");
    assert_eq!(
        d.attribute.as_ref().map(|p| p.to_string()).as_deref(),
        Some("name")
    );
    assert!(d.detail.contains("ValidationException"), "{}", d.summary);
    assert!(d.detail.contains("<name>"), "{}", d.summary);
    assert!(
        !format!("{:?}", resp.diagnostics).contains(&planted),
        "the name argument is repeated in the diagnostic"
    );
}

#[tokio::test]
async fn an_existing_secret_is_read_without_its_value() {
    let h = harness();
    let planted = canary();
    h.create(&config("app/ds", &planted, "1")).await;
    let resp = read(&h, &[("name", Value::string("app/ds"))]).await;
    assert!(
        resp.diagnostics.is_empty(),
        "{:?}",
        resp.diagnostics
            .iter()
            .map(|d| &d.summary)
            .collect::<Vec<_>>()
    );
    assert_eq!(resp.state.get("name").as_str(), Some("app/ds"));
    assert!(!format!("{:?}", resp.state).contains(&planted));
    assert_eq!(h.store.call_count("get_value"), 0);
}
