//! The plan of a create with a known `name` asks DescribeSecret whether CreateSecret would take
//! the name: scheduled for deletion is an error on `name`, a live secret a warning (an error
//! when the plan is the second call of a replace whose delete keeps the name taken), not found
//! or a failed DescribeSecret nothing.

use super::*;
use offstate_common::store::Deletion;
use offstate_common::StoreError;

fn warnings(diags: &[pb::Diagnostic]) -> Vec<(String, String)> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Warning as i32)
        .map(|d| {
            let at = d
                .attribute
                .as_ref()
                .and_then(|p| p.steps.first())
                .and_then(|s| match &s.selector {
                    Some(pb::attribute_path::step::Selector::AttributeName(a)) => Some(a.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            (at, d.summary.clone())
        })
        .collect()
}

/// The summaries only: a detail could carry a leaked value into a failure message.
fn summaries(diags: &[pb::Diagnostic]) -> Vec<&str> {
    diags.iter().map(|d| d.summary.as_str()).collect()
}

fn details(diags: &[pb::Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.detail.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_name_scheduled_for_deletion_is_an_error_on_name() {
    let h = harness();
    let mut c = config("app/scheduled", &canary(), "1");
    c.set("recovery_window_in_days", window(7));
    let state = h.create(&c).await;
    assert_eq!(errors(&h.destroy(&state).await.diagnostics), []);

    let plan = h.plan(&Value::Null, &c).await;
    assert_eq!(
        errors(&plan.diagnostics),
        [(
            "name".to_string(),
            "Secret name scheduled for deletion".to_string()
        )]
    );
    let detail = details(&plan.diagnostics);
    assert!(
        detail.contains("aws secretsmanager restore-secret --secret-id app/scheduled"),
        "{detail}"
    );
    assert_eq!(h.store.call_count("create"), 1, "the plan created nothing");
}

#[tokio::test]
async fn a_name_taken_outside_the_state_is_a_warning_on_name() {
    let h = harness();
    h.store
        .create(offstate_common::store::CreateSecret {
            name: "app/taken".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let plan = h
        .plan(&Value::Null, &config("app/taken", &canary(), "1"))
        .await;
    assert_eq!(errors(&plan.diagnostics), []);
    assert_eq!(
        warnings(&plan.diagnostics),
        [("name".to_string(), "Secret name already exists".to_string())]
    );
    assert!(details(&plan.diagnostics).contains("terraform import"));
}

#[tokio::test]
async fn a_free_name_or_a_failed_describe_gives_no_diagnostic() {
    let h = harness();
    let c = config("app/free", &canary(), "1");
    let plan = h.plan(&Value::Null, &c).await;
    assert!(
        plan.diagnostics.is_empty(),
        "{:?}",
        summaries(&plan.diagnostics)
    );
    assert_eq!(h.store.calls(), ["describe"]);

    // Taken, but DescribeSecret fails: the check is advice, the plan goes on.
    h.create(&c).await;
    for e in [
        StoreError::from_code("AccessDeniedException", "no"),
        StoreError::from_code("ThrottlingException", "slow down"),
        StoreError::from_code("DispatchFailure", "connection refused"),
    ] {
        h.store.fail_next_call_of("describe", e);
        let plan = h.plan(&Value::Null, &c).await;
        assert!(
            plan.diagnostics.is_empty(),
            "{:?}",
            summaries(&plan.diagnostics)
        );
        assert!(plan.planned_state.is_some());
    }
    // name_prefix: the name is not known at plan, nothing is asked.
    let before = h.store.calls().len();
    let mut p = c.clone();
    p.set("name", Value::Null);
    p.set("name_prefix", Value::string("app/free"));
    let plan = h.plan(&Value::Null, &p).await;
    assert!(
        plan.diagnostics.is_empty(),
        "{:?}",
        summaries(&plan.diagnostics)
    );
    assert_eq!(h.store.calls().len(), before);
}

/// Terraform's two PlanResourceChange calls of a replace: the first with the prior state, the
/// second with a null prior state and the first call's planned private.
async fn replace_plan(
    h: &Harness,
    prior: &Value,
    config: &Value,
) -> pb::plan_resource_change::Response {
    let first = h.plan(prior, config).await;
    assert_eq!(errors(&first.diagnostics), []);
    h.plan_private(&Value::Null, config, &first.planned_private)
        .await
}

#[tokio::test]
async fn replacing_a_secret_whose_delete_keeps_the_name_is_an_error_on_name() {
    let h = harness();
    let mut c = config("app/replaced", &canary(), "1");
    c.set("recovery_window_in_days", window(30));
    let state = h.create(&c).await;
    let second = replace_plan(&h, &state, &c).await;
    assert_eq!(
        errors(&second.diagnostics),
        [(
            "name".to_string(),
            "Replacing this secret would fail".to_string()
        )]
    );
    assert!(details(&second.diagnostics).contains("recovery_window_in_days = 30"));
    // Its way out (window 0, then replace) fails under create_before_destroy, which the
    // provider is not told of: the error says so.
    assert!(details(&second.diagnostics).contains("Under create_before_destroy"));

    // With recovery_window_in_days = 0 in the state, the delete frees the name: no diagnostic.
    c.set("recovery_window_in_days", window(0));
    let planned = undv(&h.plan(&state, &c).await.planned_state, &h.ty);
    let state = undv(&h.apply(&state, &planned, &c).await.new_state, &h.ty);
    let second = replace_plan(&h, &state, &c).await;
    assert!(
        second.diagnostics.is_empty(),
        "{:?}",
        summaries(&second.diagnostics)
    );

    // A replace (here a name change) onto a name another secret holds: an error, as the
    // warning of a replace's second call is never shown.
    h.create(&config("app/other", &canary(), "1")).await;
    let mut renamed = c.clone();
    renamed.set("name", Value::string("app/other"));
    let second = replace_plan(&h, &state, &renamed).await;
    assert_eq!(
        errors(&second.diagnostics),
        [("name".to_string(), "Secret name already exists".to_string())]
    );

    // A tainted object's replace is planned like a create (no private state): a warning.
    h.store
        .delete("app/other", Deletion::Immediate)
        .await
        .unwrap();
    let plan = h.plan(&Value::Null, &c).await;
    assert_eq!(errors(&plan.diagnostics), []);
    assert_eq!(
        warnings(&plan.diagnostics),
        [("name".to_string(), "Secret name already exists".to_string())]
    );
}

#[tokio::test]
async fn apply_keeps_no_replace_marker_in_private_state() {
    let h = harness();
    let c = config("app/marker", &canary(), "1");
    let state = h.create(&c).await;
    let mut c2 = config("app/marker", &canary(), "2");
    c2.set("description", Value::string("d2"));
    let plan = h.plan(&state, &c2).await;
    assert!(!plan.planned_private.is_empty());
    let applied = h
        .apply_private(
            &state,
            &undv(&plan.planned_state, &h.ty),
            &c2,
            &plan.planned_private,
        )
        .await;
    assert_eq!(errors(&applied.diagnostics), []);
    assert!(applied.private.is_empty(), "{:?}", applied.private);
}

/// `create_before_destroy` on a replace that keeps the name (window 0, so the plan is clean), as
/// Terraform runs it in one provider process: the create meets the secret it replaces, with the
/// same settings and value, and takes it over as an interrupted create of its own; then the old
/// object's delete comes. That delete used to delete the secret the new object now held (window
/// 0: gone). Now it leaves the secret alone with a warning, and only the old object goes.
#[tokio::test]
async fn a_delete_spares_a_secret_a_create_of_the_same_run_took_over() {
    let earlier = harness();
    let value = canary();
    let mut c = config("app/cbd", &value, "1");
    c.set("recovery_window_in_days", window(0));
    // The old object was created by an earlier apply: another provider process, whose removal
    // of the create-pending tag failed (no UntagResource permission), so the secret still looks
    // like one an interrupted create left. (Without the tag the create is refused:
    // a_secret_another_state_completed_is_not_taken_over.)
    let old = earlier.create(&c).await;
    earlier.store.tag("app/cbd", &pending_tag()).await.unwrap();
    let h = harness_on(earlier.store.clone());
    // Terraform's apply-time plan of the replacement: a create, no private state.
    let plan = h.plan(&Value::Null, &c).await;
    let created = h
        .apply_private(
            &Value::Null,
            &undv(&plan.planned_state, &h.ty),
            &c,
            &plan.planned_private,
        )
        .await;
    assert_eq!(errors(&created.diagnostics), []);
    let new = undv(&created.new_state, &h.ty);
    assert_eq!(
        new.get("arn"),
        old.get("arn"),
        "the create took the secret over"
    );

    let deleted = h.destroy(&old).await;
    assert_eq!(errors(&deleted.diagnostics), []);
    assert_eq!(
        warnings(&deleted.diagnostics),
        [(
            String::new(),
            "Secret kept: the new object holds it".to_string()
        )]
    );
    assert!(!details(&deleted.diagnostics).contains(&value));
    assert_eq!(h.store.call_count("delete"), 0, "DeleteSecret was called");
    let meta = h.store.describe("app/cbd").await.unwrap().unwrap();
    assert!(!meta.is_scheduled_for_deletion());

    // Another run (another provider process) deletes it as usual.
    let other = harness_on(h.store.clone());
    assert_eq!(errors(&other.destroy(&new).await.diagnostics), []);
    assert_eq!(h.store.call_count("delete"), 1);
}

/// Two objects of one configuration naming the same secret (a for_each whose keys map to one
/// name), created by one provider process: the second create took over the secret the first
/// had just made, as if an interrupted apply had left it, and both objects held it (the destroy
/// of either deleting the other's). It fails now, as CreateSecret does.
#[tokio::test]
async fn a_second_create_of_the_same_name_in_one_run_fails() {
    let h = harness();
    let value = canary();
    let mut c = config("app/twice", &value, "1");
    c.set("recovery_window_in_days", window(0));
    let first = h.create(&c).await;
    let plan = h.plan(&Value::Null, &c).await;
    let second = h
        .apply_private(
            &Value::Null,
            &undv(&plan.planned_state, &h.ty),
            &c,
            &plan.planned_private,
        )
        .await;
    assert_eq!(
        summaries(&second.diagnostics),
        ["Secret name already exists"]
    );
    assert!(undv(&second.new_state, &h.ty).is_null());
    assert!(first.get("arn").as_str().is_some());
    // A later run (another process) still adopts a secret an interrupted create left behind
    // (carrying the create-pending tag, as the first create's would had it been interrupted).
    h.store.tag("app/twice", &pending_tag()).await.unwrap();
    let later = harness_on(h.store.clone());
    let plan = later.plan(&Value::Null, &c).await;
    let adopted = later
        .apply_private(
            &Value::Null,
            &undv(&plan.planned_state, &h.ty),
            &c,
            &plan.planned_private,
        )
        .await;
    assert_eq!(errors(&adopted.diagnostics), []);
    assert_eq!(undv(&adopted.new_state, &h.ty).get("arn"), first.get("arn"));
}

fn shows_pending_tag(state: &Value, attr: &str) -> bool {
    state
        .get(attr)
        .as_string_map()
        .unwrap_or_default()
        .contains_key(secret::CREATE_PENDING_TAG)
}

fn pending_tag() -> BTreeMap<String, String> {
    BTreeMap::from([(secret::CREATE_PENDING_TAG.to_string(), "true".to_string())])
}

/// The apply of a create of `c` by `h`, as Terraform runs it: plan, then apply.
async fn plan_and_apply(h: &Harness, c: &Value) -> pb::apply_resource_change::Response {
    let plan = h.plan(&Value::Null, c).await;
    h.apply_private(
        &Value::Null,
        &undv(&plan.planned_state, &h.ty),
        c,
        &plan.planned_private,
    )
    .await
}

/// Two states (two workspaces, two provider processes) whose configurations create the same
/// fixed name with the same settings and value. The second create used to take over the
/// secret the first had made and still held, as if an interrupted apply of its own had left it:
/// both states held one secret and destroying either deleted the other's. The first create
/// removed its create-pending tag, so the second meets a completed secret and fails.
#[tokio::test]
async fn a_secret_another_state_completed_is_not_taken_over() {
    let a = harness();
    let value = canary();
    let mut c = config("app/shared", &value, "1");
    c.set("recovery_window_in_days", window(0));
    let first = a.create(&c).await;
    assert!(!shows_pending_tag(&first, "tags_all"));
    let meta = a.store.describe("app/shared").await.unwrap().unwrap();
    assert!(
        !meta.tags.contains_key(secret::CREATE_PENDING_TAG),
        "the finished create left its tag: {:?}",
        meta.tags
    );

    let b = harness_on(a.store.clone());
    let second = plan_and_apply(&b, &c).await;
    assert_eq!(
        errors(&second.diagnostics),
        [(
            "name".to_string(),
            "Secrets Manager CreateSecret failed".to_string()
        )]
    );
    let detail = details(&second.diagnostics);
    assert!(
        detail.contains("already exists"),
        "{}",
        summaries(&second.diagnostics).join(", ")
    );
    assert!(!detail.contains(&value));
    assert!(undv(&second.new_state, &b.ty).is_null());
    assert_eq!(a.store.list_versions("app/shared").await.unwrap().len(), 1);
    // A's secret is untouched and still A's alone.
    assert!(a
        .read(&first)
        .await
        .diagnostics
        .iter()
        .all(|d| d.severity != pb::diagnostic::Severity::Error as i32));
    assert!(a.store.describe("app/shared").await.unwrap().is_some());
}

/// A create interrupted before it removed its create-pending tag (the provider killed after
/// CreateSecret): the re-run adopts the secret and removes the tag; the state, a refresh and an
/// import never show it.
#[tokio::test]
async fn an_interrupted_create_is_adopted_and_its_tag_removed() {
    let a = harness();
    let value = canary();
    let c = config("app/interrupted", &value, "1");
    // The interrupted run: CreateSecret went through, UntagResource never came.
    a.store
        .fail_next_call_of("untag", StoreError::from_code("AccessDenied", "no untag"));
    let first = plan_and_apply(&a, &c).await;
    assert_eq!(errors(&first.diagnostics), []);
    assert_eq!(
        warnings(&first.diagnostics),
        [(
            String::new(),
            "Secret created, its create-pending tag remains".to_string()
        )]
    );
    assert!(!details(&first.diagnostics).contains(&value));
    let first = undv(&first.new_state, &a.ty);
    assert!(!shows_pending_tag(&first, "tags_all"));
    let meta = a.store.describe("app/interrupted").await.unwrap().unwrap();
    assert!(meta.tags.contains_key(secret::CREATE_PENDING_TAG));
    // Refresh and import do not show it (no drift).
    let read = undv(&a.read(&first).await.new_state, &a.ty);
    assert_eq!(read.get("tags_all"), first.get("tags_all"));
    assert_eq!(read.get("tags"), first.get("tags"));
    let imported = a.import("app/interrupted").await;
    assert!(!shows_pending_tag(&imported, "tags_all"));
    assert!(!shows_pending_tag(&imported, "tags"));

    // Terraform never stored `first`: the re-run, another process, adopts the secret.
    let b = harness_on(a.store.clone());
    let adopted = plan_and_apply(&b, &c).await;
    assert_eq!(errors(&adopted.diagnostics), []);
    let adopted = undv(&adopted.new_state, &b.ty);
    assert_eq!(adopted.get("arn"), first.get("arn"));
    assert_eq!(adopted.get("tags_all"), first.get("tags_all"));
    let meta = b.store.describe("app/interrupted").await.unwrap().unwrap();
    assert!(
        !meta.tags.contains_key(secret::CREATE_PENDING_TAG),
        "the adopter left the tag: {:?}",
        meta.tags
    );
    assert_eq!(
        b.store
            .list_versions("app/interrupted")
            .await
            .unwrap()
            .len(),
        1
    );
}
