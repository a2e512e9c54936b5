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

/// ImportResourceState of `id` as `type_name`: the diagnostics' summaries and details.
async fn import_diagnostics(h: &Harness, type_name: &str, id: &str) -> Vec<(String, String)> {
    let r = h.import_as(type_name, id).await;
    assert!(r.imported_resources.is_empty());
    r.diagnostics
        .iter()
        .map(|d| (d.summary.clone(), d.detail.clone()))
        .collect()
}

#[tokio::test]
async fn import_errors_never_repeat_the_import_id() {
    // A user who pastes a secret where the import id goes (a value for its name) must not get
    // it back in an error, neither from us nor quoted in AWS's message. The id passes the name
    // check (letters, digits, -), as a random password may.
    let h = harness();
    h.create(&config("app/no-rotation", &canary(), "1")).await;
    for type_name in ["offstate_secret_rotation", TYPE] {
        let pasted = canary();
        let shown = |diags: &[(String, String)]| {
            diags
                .iter()
                .any(|(s, d)| s.contains(pasted.as_str()) || d.contains(pasted.as_str()))
        };
        // No such secret.
        let diags = import_diagnostics(&h, type_name, &pasted).await;
        assert_eq!(diags.len(), 1, "{type_name}: one error");
        assert_eq!(diags[0].0, "Cannot import non-existent remote object");
        assert!(
            !shown(&diags),
            "{type_name}: the not-found error repeats the import id"
        );
        // DescribeSecret fails with a message that quotes the id, as a ValidationException does.
        h.store.fail_next_call_of(
            "describe",
            offstate_common::StoreError::from_code(
                "ValidationException",
                format!("1 validation error detected: Value '{pasted}' at 'secretId' failed to satisfy constraint"),
            ),
        );
        let diags = import_diagnostics(&h, type_name, &pasted).await;
        assert_eq!(diags.len(), 1, "{type_name}: one error");
        assert!(
            diags[0].1.contains("ValidationException") && diags[0].1.contains("<import id>"),
            "{type_name}: the error names the code and the import id by its name"
        );
        assert!(
            !shown(&diags),
            "{type_name}: the DescribeSecret error repeats the import id"
        );
    }
    // A secret without rotation is named by the name Secrets Manager gives it.
    let diags = import_diagnostics(&h, "offstate_secret_rotation", "app/no-rotation").await;
    assert_eq!(diags[0].0, "Cannot import: rotation is not enabled");
    assert!(
        diags[0].1.contains("\"app/no-rotation\""),
        "{:?}",
        diags[0].1
    );
}
