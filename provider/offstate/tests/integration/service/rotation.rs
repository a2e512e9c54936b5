//! The `offstate_secret_rotation` resource: a rotation done but not read back is recorded.

use super::*;

#[tokio::test]
async fn a_rotation_configured_but_not_read_back_is_recorded() {
    // RotateSecret succeeded and DescribeSecret failed: the state must still
    // record the rotation (a warning, not an error, which would taint and
    // replace it), or the next apply rotates again.
    let h = harness();
    h.create(&config("app/rot", &canary(), "1")).await;
    let ty = terraform_provider_offstate::rotation::schema().value_type();
    let c = rotation_config("app/rot", &[("automatically_after_days", window(30))]);
    let plan = h
        .plan_of("offstate_secret_rotation", &ty, &Value::Null, &c, &c, &[])
        .await;
    assert_eq!(errors(&plan.diagnostics), []);
    h.store.fail_next_call_of(
        "describe",
        offstate_common::StoreError::from_code("ThrottlingException", "Rate exceeded"),
    );
    let applied = h
        .apply_of(
            "offstate_secret_rotation",
            &ty,
            &Value::Null,
            &undv(&plan.planned_state, &ty),
            &c,
            &[],
        )
        .await;
    assert_eq!(errors(&applied.diagnostics), []);
    assert_eq!(applied.diagnostics.len(), 1, "a warning says what happened");
    let state = undv(&applied.new_state, &ty);
    assert_eq!(state.get("rotation_enabled"), &Value::Bool(true));
    assert!(state.is_wholly_known());
}
