//! The `offstate_secret_value` ephemeral resource: a read by label sees a value written since.

use super::*;

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
