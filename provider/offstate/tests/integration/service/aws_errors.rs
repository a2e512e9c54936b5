//! What an AWS error becomes: its code and the secret named, the argument at fault pointed at.

use super::*;

#[tokio::test]
async fn aws_errors_name_the_code_and_secret_not_the_value() {
    let h = harness();
    let secret1 = canary();
    let c1 = config("app/err", &secret1, "1");
    let plan = h.plan(&Value::Null, &c1).await;
    h.store.fail_next(offstate_common::StoreError::from_code(
        "AccessDeniedException",
        "not allowed",
    ));
    let applied = h
        .apply(&Value::Null, &undv(&plan.planned_state, &h.ty), &c1)
        .await;
    let d = &applied.diagnostics[0];
    assert!(
        d.detail.contains("AccessDeniedException") && d.detail.contains("app/err"),
        "{}",
        d.detail
    );
    assert!(!format!("{:?}", applied).contains(&secret1));
}

#[tokio::test]
async fn read_and_rotation_errors_point_at_the_argument_at_fault() {
    use offstate_framework::datasource::EphemeralResource as _;
    let h = harness();
    let state = h.create(&config("app/paths", &canary(), "1")).await;
    let eph = terraform_provider_offstate::ephemeral::SecretValueEphemeral::new(h.handle());
    let ety = eph.schema().value_type();
    for (pairs, want) in [
        (
            vec![
                ("secret_id", Value::string("app/paths")),
                (
                    "version_id",
                    Value::string("00000000-0000-0000-0000-000000000000"),
                ),
            ],
            "version_id",
        ),
        (
            vec![
                ("secret_id", Value::string("app/paths")),
                ("version_stage", Value::string("AWSPENDING")),
            ],
            "version_stage",
        ),
        (
            vec![("secret_id", Value::string("app/missing"))],
            "secret_id",
        ),
    ] {
        let resp = open_secret_value(&eph, &object_of(&ety, &pairs)).await;
        let d = resp.diagnostics.iter().next().expect("an error");
        assert_eq!(
            d.attribute.as_ref().map(|p| p.to_string()).as_deref(),
            Some(want)
        );
    }

    let ty = terraform_provider_offstate::rotation::schema().value_type();
    let c = rotation_config(
        state.get("arn").as_str().unwrap(),
        &[("automatically_after_days", window(30))],
    );
    h.store.fail_next_call_of(
        "rotate",
        offstate_common::StoreError::from_code(
            "AccessDeniedException",
            "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.",
        ),
    );
    let applied = h
        .apply_of("offstate_secret_rotation", &ty, &Value::Null, &c, &c, &[])
        .await;
    let errs = errors(&applied.diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "rotation_lambda_arn");
}
