//! Inputs found by the `hcl` fuzz target (`state-scrubber/fuzz`), minimized, in `tests/fuzz/`.
//! The target's oracle, applied to each: planning does not panic, and a rewritten file is
//! Terraform text again (it plans without error).

use hcl_migrate::{plan_migration, Options};
use std::path::Path;

fn check(name: &str, text: &str) -> hcl_migrate::MigrationPlan {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("main.tf");
    std::fs::write(&file, text).expect("write");
    let opts = Options {
        recursive: false,
        ..Options::default()
    };
    let plan = match plan_migration(dir.path(), &opts) {
        Ok(plan) => plan,
        Err(_) => return hcl_migrate::MigrationPlan::default(),
    };
    if let Some(change) = plan.files.first() {
        std::fs::write(&file, &change.rewritten).expect("write");
        if let Err(e) = plan_migration(dir.path(), &opts) {
            panic!(
                "{name}: the rewritten file does not parse: {e}\n{}",
                change.rewritten
            );
        }
    }
    plan
}

#[test]
fn every_fuzz_finding_rewrites_to_valid_hcl() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/fuzz") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("utf-8 input");
        check(&path.display().to_string(), &text);
        n += 1;
    }
    assert!(n > 0, "no input in {}", dir.display());
}

/// `resource "aws_secretsmanager_secret_version" "" {}` made `removed { from =
/// aws_secretsmanager_secret_version. }`. A label that is not an identifier is invalid
/// Terraform: such blocks are left alone.
#[test]
fn blocks_whose_labels_are_not_identifiers_are_left_alone() {
    for label in ["", "1st", "a b", "x.y", "a}"] {
        let text = format!(
            "resource \"aws_secretsmanager_secret\" \"db\" {{\n  name = \"db\"\n}}\n\n\
             resource \"aws_secretsmanager_secret_version\" \"{label}\" {{\n  \
             secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = var.pw\n}}\n\n\
             resource \"random_password\" \"{label}\" {{\n  length = 20\n}}\n"
        );
        let plan = check(label, &text);
        for change in &plan.files {
            assert!(
                !change.rewritten.contains("_version.\n")
                    && !change.rewritten.contains("password.\n"),
                "{label:?}: {}",
                change.rewritten
            );
        }
    }
    // A valid identifier with a hyphen still migrates.
    let text = "resource \"aws_secretsmanager_secret\" \"db-main\" {\n  name = \"db\"\n}\n\n\
                resource \"aws_secretsmanager_secret_version\" \"db-main\" {\n  \
                secret_id     = aws_secretsmanager_secret.db-main.id\n  secret_string = var.pw\n}\n";
    let plan = check("db-main", text);
    assert!(
        plan.files
            .iter()
            .any(|c| c.rewritten.contains("offstate_secret")),
        "the valid pair migrates"
    );
}
