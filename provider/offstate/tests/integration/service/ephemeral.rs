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

#[tokio::test]
async fn a_read_that_finds_nothing_says_what_is_missing_by_error_codes_not_wording() {
    // GetSecretValue answers ResourceNotFoundException for a missing secret and for a missing
    // version alike; which one it was must not depend on AWS's message text (here worded the
    // other way round on purpose), and no diagnostic repeats secret_id.
    let h = harness();
    h.create(&config("app/eph-missing", &canary(), "1")).await;
    let eph = terraform_provider_offstate::ephemeral::SecretValueEphemeral::new(h.handle());
    let ty = {
        use offstate_framework::datasource::EphemeralResource as _;
        eph.schema().value_type()
    };
    let not_found = |message: &str| {
        offstate_common::StoreError::from_code("ResourceNotFoundException", message)
    };
    let read = |pairs: Vec<(&'static str, Value)>, message: Option<String>| {
        let (h, eph, ty) = (&h, &eph, &ty);
        async move {
            if let Some(m) = message {
                h.store.fail_next_call_of("get_value", not_found(&m));
            }
            let resp = open_secret_value(eph, &object_of(ty, &pairs)).await;
            let diags: Vec<_> = resp.diagnostics.iter().collect();
            assert_eq!(diags.len(), 1, "one error");
            let d = diags[0];
            (
                d.attribute
                    .as_ref()
                    .map(|p| format!("{p:?}"))
                    .unwrap_or_default(),
                d.detail.clone(),
            )
        }
    };
    const HINT: &str = "offstate_secret.NAME.arn";
    // A missing secret, read by a name (a pasted value, say): the hint, whatever the wording.
    let pasted = canary();
    for message in [
        None,
        Some(
            "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"
                .to_string(),
        ),
        Some(format!("Secret {pasted} not found")),
    ] {
        let (at, detail) = read(vec![("secret_id", Value::string(&pasted))], message).await;
        assert!(at.contains("secret_id"), "{at}");
        assert!(
            detail.contains(HINT),
            "a missing secret read by name gets the .arn hint"
        );
        assert!(
            !detail.contains(pasted.as_str()),
            "the detail repeats secret_id"
        );
    }
    // A missing secret read by its ARN: no hint to use the ARN.
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/gone-AbCdEf";
    let (at, detail) = read(vec![("secret_id", Value::string(arn))], None).await;
    assert!(at.contains("secret_id"), "{at}");
    assert!(!detail.contains(HINT), "{detail}");
    // A secret that exists without the version asked for: the version's argument, no hint,
    // even worded as a missing secret.
    for message in [
        None,
        Some("Secrets Manager can't find the specified secret.".to_string()),
    ] {
        let (at, detail) = read(
            vec![
                ("secret_id", Value::string("app/eph-missing")),
                ("version_stage", Value::string("NO-SUCH-LABEL")),
            ],
            message,
        )
        .await;
        assert!(at.contains("version_stage"), "{at}");
        assert!(!detail.contains(HINT), "{detail}");
        assert!(
            detail.contains("no version that version_stage names"),
            "{detail}"
        );
    }
}
