//! Secrets Manager's limit of 50 tags per secret: more is refused by the plan on `tags` (saying
//! how many come from default_tags), and exactly 50 (tags and default_tags merged) is created,
//! without the create-pending tag, which would be the 51st. The in-memory store refuses a 51st
//! tag as Secrets Manager does (moto 5.2 does not).

use super::*;

/// `n` tags of our own (`k00`, `k01`, ...); the harness's provider adds `team` from default_tags.
fn tagged(name: &str, n: usize) -> Value {
    let mut c = config(name, &canary(), "1");
    c.set("recovery_window_in_days", window(0));
    c.set(
        "tags",
        Value::Map(
            (0..n)
                .map(|i| (format!("k{i:02}"), Value::string("v")))
                .collect(),
        ),
    );
    c
}

/// Error diagnostics as (attribute path, summary, detail).
fn error_details(diags: &[pb::Diagnostic]) -> Vec<(String, String, String)> {
    errors(diags)
        .into_iter()
        .zip(
            diags
                .iter()
                .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32),
        )
        .map(|((path, summary), d)| (path, summary, d.detail.clone()))
        .collect()
}

#[tokio::test]
async fn fifty_tags_with_default_tags_are_created_without_the_pending_tag() {
    let h = harness();
    let c = tagged("app/fifty", 49);
    let state = h.create(&c).await;
    let tags = h.store.describe("app/fifty").await.unwrap().unwrap().tags;
    assert_eq!(tags.len(), 50, "49 tags and default_tags' team");
    assert!(!tags.contains_key(secret::CREATE_PENDING_TAG));
    assert_eq!(state.get("tags_all").as_string_map().unwrap(), tags);
    assert_eq!(h.store.call_count("untag"), 0, "no pending tag to remove");
    // The next plan has nothing to do.
    let plan = h.plan(&state, &c).await;
    assert_eq!(errors(&plan.diagnostics), []);
    assert_eq!(
        undv(&plan.planned_state, &h.ty).get("tags_all"),
        state.get("tags_all")
    );
    // One tag fewer: the create is marked (and the mark removed) as before.
    let state49 = h.create(&tagged("app/forty-nine", 48)).await;
    assert_eq!(state49.get("tags_all").as_string_map().unwrap().len(), 49);
    assert_eq!(h.store.call_count("untag"), 1);
    let tags = h
        .store
        .describe("app/forty-nine")
        .await
        .unwrap()
        .unwrap()
        .tags;
    assert!(!tags.contains_key(secret::CREATE_PENDING_TAG));
}

#[tokio::test]
async fn more_than_fifty_tags_are_an_error_of_the_plan_on_tags() {
    let h = harness();
    // 50 of our own and default_tags' team: 51.
    let plan = h.plan(&Value::Null, &tagged("app/over", 50)).await;
    let errs = error_details(&plan.diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let (path, summary, detail) = &errs[0];
    assert_eq!((path.as_str(), summary.as_str()), ("tags", "Too many tags"));
    for said in [
        "at most 50 tags",
        "would have 51",
        "50 from tags and 1 from the provider's default_tags",
    ] {
        assert!(detail.contains(said), "{said:?} not in {detail:?}");
    }
    // 51 of our own, one of them overriding team: all from tags.
    let mut c = tagged("app/over", 50);
    let mut own = c.get("tags").as_string_map().unwrap();
    own.insert("team".into(), "mine".into());
    c.set(
        "tags",
        Value::Map(
            own.into_iter()
                .map(|(k, v)| (k, Value::string(v)))
                .collect(),
        ),
    );
    let plan = h.plan(&Value::Null, &c).await;
    let errs = error_details(&plan.diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0]
            .2
            .contains("would have 51 (tags_all): all of them from tags"),
        "{:?}",
        errs[0].2
    );
    // An update to 51 is refused by its plan too.
    let state = h.create(&tagged("app/grows", 10)).await;
    let plan = h.plan(&state, &tagged("app/grows", 50)).await;
    assert_eq!(
        errors(&plan.diagnostics),
        [("tags".to_string(), "Too many tags".to_string())]
    );
    // Tags unknown at plan are counted at apply, before any call.
    let calls = h.store.calls().len();
    let applied = h
        .apply(
            &Value::Null,
            &undv(
                &h.plan(&Value::Null, &tagged("app/late", 1))
                    .await
                    .planned_state,
                &h.ty,
            ),
            &tagged("app/late", 50),
        )
        .await;
    assert_eq!(
        errors(&applied.diagnostics),
        [("tags".to_string(), "Too many tags".to_string())]
    );
    assert_eq!(
        &h.store.calls()[calls..],
        ["describe"],
        "only the plan's name check"
    );
    // (The planned state an apply gets holds the configuration's tags, tags_all unknown.)
    let mut planned = undv(
        &h.plan(&state, &tagged("app/grows", 10)).await.planned_state,
        &h.ty,
    );
    planned.set("tags", tagged("app/grows", 50).get("tags").clone());
    planned.set("tags_all", Value::Unknown);
    let updated = h.apply(&state, &planned, &tagged("app/grows", 50)).await;
    assert_eq!(
        errors(&updated.diagnostics),
        [("tags".to_string(), "Too many tags".to_string())]
    );
    assert_eq!(undv(&updated.new_state, &h.ty), state, "nothing changed");
}

#[tokio::test]
async fn an_update_to_fifty_tags_and_a_key_swap_at_fifty_apply() {
    let h = harness();
    let state = h.create(&tagged("app/to-fifty", 10)).await;
    let plan = h.plan(&state, &tagged("app/to-fifty", 49)).await;
    let c = tagged("app/to-fifty", 49);
    let applied = h.apply(&state, &undv(&plan.planned_state, &h.ty), &c).await;
    assert_eq!(errors(&applied.diagnostics), []);
    let state = undv(&applied.new_state, &h.ty);
    // Swap one key for another at the limit: the old one goes first.
    let mut swapped = c.clone();
    let mut own = c.get("tags").as_string_map().unwrap();
    own.remove("k00");
    own.insert("other".into(), "v".into());
    swapped.set(
        "tags",
        Value::Map(
            own.into_iter()
                .map(|(k, v)| (k, Value::string(v)))
                .collect(),
        ),
    );
    let plan = h.plan(&state, &swapped).await;
    let applied = h
        .apply(&state, &undv(&plan.planned_state, &h.ty), &swapped)
        .await;
    assert_eq!(errors(&applied.diagnostics), []);
    let tags = h
        .store
        .describe("app/to-fifty")
        .await
        .unwrap()
        .unwrap()
        .tags;
    assert_eq!(tags.len(), 50);
    assert!(tags.contains_key("other") && !tags.contains_key("k00"));
}

#[tokio::test]
async fn a_fifty_tag_secret_left_by_an_interrupted_create_is_not_adopted_and_the_error_says_import()
{
    // Without the pending tag, the secret an interrupted create left cannot be told from one
    // another state completed: "already exists", and the error says why and to import it.
    let h = harness();
    let c = tagged("app/left", 49);
    let plan = h.plan(&Value::Null, &c).await;
    // The interrupted create: CreateSecret succeeded, nothing else happened (no state).
    let planned = undv(&plan.planned_state, &h.ty);
    let earlier = harness_on(h.store.clone());
    let _ = earlier.apply(&Value::Null, &planned, &c).await;
    let applied = h.apply(&Value::Null, &planned, &c).await;
    let errs = error_details(&applied.diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let (path, _, detail) = &errs[0];
    assert_eq!(path, "name");
    assert!(detail.contains("ResourceExistsException"), "{detail}");
    assert!(
        detail.contains("limit of 50 tags") && detail.contains("import it"),
        "{detail}"
    );
    assert!(undv(&applied.new_state, &h.ty).is_null());
}
