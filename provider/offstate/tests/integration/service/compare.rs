//! `compare_value` mode: a write planned and applied as planned.

use super::*;

fn compare_config(name: &str, value: Value) -> Value {
    obj(&[
        ("name", Value::string(name)),
        ("value_wo", value),
        ("compare_value", Value::Bool(true)),
        ("replica", Value::Set(Vec::new())),
    ])
}

#[tokio::test]
async fn compare_mode_plans_a_write_for_a_value_unknown_until_apply() {
    let h = harness();
    let state = h
        .create(&compare_config("app/cmp-unknown", Value::string(canary())))
        .await;
    let plan = h
        .plan(&state, &compare_config("app/cmp-unknown", Value::Unknown))
        .await;
    assert!(undv(&plan.planned_state, &h.ty)
        .get("version_id")
        .is_unknown());
}

#[tokio::test]
async fn compare_mode_applies_what_was_planned() {
    let h = harness();
    let value = canary();
    let c = compare_config("app/cmp", Value::string(&value));
    let state = h.create(&c).await;
    let puts = h.store.call_count("put_value");

    // Planned: no write (the value is current), with a description change.
    let mut c2 = c.clone();
    c2.set("description", Value::string("changed"));
    let planned = undv(&h.plan(&state, &c2).await.planned_state, &h.ty);
    assert_eq!(planned.get("version_id"), state.get("version_id"));
    // The value changes in AWS between plan and apply: apply keeps to the plan.
    h.put_outside("app/cmp", "changed-outside").await;
    let applied = h.apply(&state, &planned, &c2).await;
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "{:?}",
        applied.diagnostics
    );
    let after = undv(&applied.new_state, &h.ty);
    assert_eq!(after.get("version_id"), planned.get("version_id"));
    assert_eq!(
        h.store.call_count("put_value"),
        puts + 1,
        "only the test's own put"
    );

    // The next plan, after refresh, writes the configured value back.
    let read = undv(&h.read(&after).await.new_state, &h.ty);
    let planned = undv(&h.plan(&read, &c2).await.planned_state, &h.ty);
    assert!(planned.get("version_id").is_unknown());
    // Planned a write, but the value is current again by apply: nothing is written.
    h.put_outside("app/cmp", &value).await;
    let applied = h.apply(&read, &planned, &c2).await;
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "{:?}",
        applied.diagnostics
    );
    assert_eq!(
        h.store.call_count("put_value"),
        puts + 2,
        "only the test's own puts"
    );
}

#[tokio::test]
async fn switching_from_trigger_mode_writes_only_a_different_value() {
    let h = harness();
    let value = canary();
    let mut triggered = compare_config("app/cmp-switch", Value::string(&value));
    triggered.set("compare_value", Value::Null);
    triggered.set("value_wo_version", Value::string("1"));
    let state = h.create(&triggered).await;
    let puts = h.store.call_count("put_value");

    // value_wo_version removed, compare_value set, the same value: nothing planned or written.
    let same = compare_config("app/cmp-switch", Value::string(&value));
    let planned = undv(&h.plan(&state, &same).await.planned_state, &h.ty);
    assert_eq!(planned.get("version_id"), state.get("version_id"));
    let applied = h.apply(&state, &planned, &same).await;
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "{:?}",
        applied.diagnostics
    );
    let after = undv(&applied.new_state, &h.ty);
    assert_eq!(after.get("version_id"), state.get("version_id"));
    assert_eq!(
        h.store.call_count("put_value"),
        puts,
        "the same value is not written again"
    );

    // A different value is planned and written.
    let other = compare_config("app/cmp-switch", Value::string(canary()));
    let planned = undv(&h.plan(&state, &other).await.planned_state, &h.ty);
    assert!(planned.get("version_id").is_unknown());
    let applied = h.apply(&state, &planned, &other).await;
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "{:?}",
        applied.diagnostics
    );
    assert_eq!(h.store.call_count("put_value"), puts + 1);
}
