//! Restore of an attribute scrub nulled for its write-only twin, once Terraform has written
//! the state again.

use super::*;

/// `aws_db_instance.main` with `password` = `pw` and its write-only twin unset.
fn db_state(pw: &str) -> String {
    let doc = json!({
        "version": 4, "terraform_version": "1.11.4", "serial": 3,
        "lineage": "5d1e0a7b-0000-4000-8000-0000000d0b11", "outputs": {},
        "resources": [{"mode": "managed", "type": "aws_db_instance", "name": "main",
            "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
            "instances": [{"schema_version": 2, "attributes": {
                "id": "db-1", "username": "app", "password": pw,
                "password_wo": null, "password_wo_version": null},
                "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]],
                "identity_schema_version": 0}]}],
        "check_results": null
    });
    serde_json::to_string_pretty(&doc).unwrap() + "\n"
}

/// The scrubbed state as Terraform writes it next: serial + 1, `password_wo_version` = `trigger`.
fn applied(scrubbed: &[u8], trigger: Value) -> Vec<u8> {
    let mut v = json(scrubbed);
    let attrs = &mut v["resources"][0]["instances"][0]["attributes"];
    assert!(attrs["password"].is_null(), "scrub nulled the password");
    assert_eq!(
        attrs["password_wo_version"],
        json!(1),
        "scrub set the trigger"
    );
    attrs["password_wo_version"] = trigger;
    v["serial"] = (v["serial"].as_u64().unwrap() + 1).into();
    serde_json::to_vec_pretty(&v).unwrap()
}

/// Review finding: scrub nulls `password` and sets `password_wo_version` to 1; an apply that
/// writes the password through `password_wo` since (the trigger bumped to 2: a rotation) left
/// `password` null, and restore put the password of before the scrub back into it, without a
/// word: the state then claimed a password the database no longer has (Terraform never reads
/// it back), in plaintext. A trigger that moved from the value scrub set is now "changed since
/// the scrub", left as is with a warning, as a reference that changed is; one still at 1 (the
/// configuration migrated to `password_wo_version = 1`) is restored.
#[test]
fn a_twin_written_again_since_the_scrub_is_not_restored_over() {
    let pw = canary();
    let src = db_state(&pw);
    let store = MemoryStore::default();
    let rt = rt();
    let report = rt
        .block_on(scrub_write(src.as_bytes(), "s.tfstate", &store))
        .unwrap();
    let scrubbed = report.output.expect("scrubbed");

    // Rotated through the twin since: left as is.
    let rotated = applied(&scrubbed, json!(2));
    let back = rt
        .block_on(restore::restore(
            &rotated,
            "s.tfstate",
            "test/app",
            &store,
            true,
        ))
        .unwrap();
    assert!(
        back.restored.is_empty() && back.output.is_none(),
        "restored over a password written again since the scrub"
    );
    let said = back.skipped.join("\n");
    assert!(
        said.contains("aws_db_instance.main password: changed since the scrub")
            && said.contains("password_wo_version is 2"),
        "{said}"
    );
    assert_no_canary(&pw, "warnings", said.as_bytes());
    assert_no_canary(&pw, "render", restore::render(&back).as_bytes());

    // The trigger still where scrub set it (as Terraform writes it back for a number
    // attribute, and for a string one): restored, and the trigger back to null.
    for trigger in [json!(1), json!("1")] {
        let same = applied(&scrubbed, trigger.clone());
        let back = rt
            .block_on(restore::restore(
                &same,
                "s.tfstate",
                "test/app",
                &store,
                true,
            ))
            .unwrap();
        assert_eq!(back.restored.len(), 1, "{trigger}: {:?}", back.skipped);
        let out = json(&back.output.expect("restored"));
        let attrs = &out["resources"][0]["instances"][0]["attributes"];
        assert!(
            attrs["password"].as_str() == Some(pw.as_str()),
            "{trigger}: password restored"
        );
        assert!(attrs["password_wo_version"].is_null(), "{trigger}");
    }
}
