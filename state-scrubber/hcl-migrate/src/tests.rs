//! Unit tests over the public behaviour: every table row is exercised by a generated example.

use super::*;
use crate::table::{parse_table, write_only_rules, WRITE_ONLY_TSV};

fn migrate_text(files: &[(&str, &str)]) -> (MigrationPlan, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write fixture");
    }
    let plan = plan_migration(dir.path(), &Options::default()).expect("plan");
    (plan, dir)
}

/// The notes of `plan` about a key set twice in one object.
fn set_twice_notes(plan: &MigrationPlan) -> Vec<&Note> {
    plan.notes
        .iter()
        .filter(|n| n.message.contains("is set twice in one object"))
        .collect()
}

/// The messages of `plan`'s warnings of `hazard`, in order.
fn warnings_of(plan: &MigrationPlan, hazard: Hazard) -> Vec<&str> {
    plan.warnings
        .iter()
        .filter(|w| w.hazard == hazard)
        .map(|w| w.message.as_str())
        .collect()
}

/// The messages of `plan`'s notes that contain `part`, in order.
fn notes_containing<'a>(plan: &'a MigrationPlan, part: &str) -> Vec<&'a str> {
    plan.notes
        .iter()
        .filter(|n| n.message.contains(part))
        .map(|n| n.message.as_str())
        .collect()
}

/// [`migrate_text`], and the text `main.tf` is rewritten to ("" when it is not rewritten).
fn migrate_main(files: &[(&str, &str)]) -> (MigrationPlan, String, tempfile::TempDir) {
    let (plan, dir) = migrate_text(files);
    let text = rewritten(&plan, "main.tf").unwrap_or_default();
    (plan, text, dir)
}

fn rewritten(plan: &MigrationPlan, name: &str) -> Option<String> {
    plan.files
        .iter()
        .find(|f| f.path.file_name().is_some_and(|n| n == name))
        .map(|f| f.rewritten.clone())
}

#[test]
fn table_is_well_formed() {
    let rules = parse_table(WRITE_ONLY_TSV).expect("parses");
    assert!(rules.len() >= 50, "{} rows", rules.len());
    let mut seen = std::collections::HashSet::new();
    for rule in &rules {
        let at = format!("{}.{}", rule.resource_type, rule.path.join("."));
        assert!(seen.insert(at.clone()), "duplicate row {at}");
        assert!(
            rule.twin.ends_with("_wo"),
            "{at}: twin {} does not end in _wo",
            rule.twin
        );
        if let Some(version) = &rule.version {
            assert!(
                version.ends_with("_wo_version") || version.ends_with("_wo_revision"),
                "{at}: version attribute {version}"
            );
        }
        assert!(
            rule.first_version.split('.').count() == 3
                && rule
                    .first_version
                    .split('.')
                    .all(|p| p.parse::<u64>().is_ok()),
            "{at}: first version {}",
            rule.first_version
        );
        assert!(
            rule.provider.contains('/'),
            "{at}: provider {}",
            rule.provider
        );
        assert!(
            rule.resource_type.starts_with(
                rule.provider
                    .split('/')
                    .nth(1)
                    .unwrap_or("?")
                    .to_ascii_lowercase()
                    .as_str()
            ),
            "{at}: type does not belong to {}",
            rule.provider
        );
    }
    assert_eq!(rules, write_only_rules());
}

/// Each row, as a resource with the plain attribute (nested blocks built from its path), must
/// migrate to exactly the twin plus its version trigger.
#[test]
fn every_table_row_migrates() {
    for rule in write_only_rules() {
        let depth = rule.path.len();
        let mut input = format!("resource \"{}\" \"example\" {{\n", rule.resource_type);
        let mut expected = input.clone();
        for (level, block) in rule.path[..depth - 1].iter().enumerate() {
            let indent = "  ".repeat(level + 1);
            input.push_str(&format!("{indent}{block} {{\n"));
            expected.push_str(&format!("{indent}{block} {{\n"));
        }
        let indent = "  ".repeat(depth);
        // A set of passwords (aws_elasticache_user) is given as a list of one.
        let value = if rule.resource_type == "aws_elasticache_user" {
            "[var.secret]"
        } else {
            "var.secret"
        };
        input.push_str(&format!("{indent}{} = {value}\n", rule.attribute()));
        match &rule.version {
            Some(version) => {
                let width = version.len().max(rule.twin.len());
                expected.push_str(&format!("{indent}{:width$} = var.secret\n", rule.twin));
                expected.push_str(&format!("{indent}{version:width$} = 1\n"));
            }
            None => expected.push_str(&format!("{indent}{} = var.secret\n", rule.twin)),
        }
        // HCP Terraform variables and Datadog global variables hold a secret only when marked.
        let flag = match rule.resource_type.as_str() {
            "tfe_variable" | "tfe_policy_set_parameter" => Some("sensitive"),
            "datadog_synthetics_global_variable" => Some("secure"),
            _ => None,
        };
        if let Some(flag) = flag {
            input.push_str(&format!("  {flag} = true\n"));
            let width = rule
                .version
                .as_ref()
                .map_or(0, |v| v.len())
                .max(rule.twin.len());
            expected.push_str(&format!("  {flag:width$} = true\n"));
        }
        for level in (0..depth).rev() {
            let indent = "  ".repeat(level);
            input.push_str(&format!("{indent}}}\n"));
            expected.push_str(&format!("{indent}}}\n"));
        }
        let (plan, _dir) = migrate_text(&[("main.tf", &input)]);
        assert_eq!(
            rewritten(&plan, "main.tf").as_deref(),
            Some(expected.as_str()),
            "row {}.{}",
            rule.resource_type,
            rule.path.join(".")
        );
    }
}

#[test]
fn parse_error_names_file_line_and_column_and_no_source_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret_like = ["hun", "ter", "2-not-a-real-secret"].concat();
    std::fs::write(
        dir.path().join("broken.tf"),
        format!("resource \"a\" \"b\" {{\n  password = \"{secret_like}\"\n  x = \n}}\n"),
    )
    .expect("write");
    let err = plan_migration(dir.path(), &Options::default()).expect_err("must fail");
    let text = err.to_string();
    assert!(
        text.contains("broken.tf:3:"),
        "unexpected text (not shown: it may hold a planted value)"
    );
    assert!(
        text.contains("; nothing was written"),
        "the message does not say nothing was written (not shown)"
    );
    assert!(
        !text.contains(&secret_like),
        "the rewritten text holds the secret-like literal"
    );
}

#[test]
fn diff_masks_secret_literals() {
    let secret_like = ["lit", "eral-", "fixture-value"].concat();
    let input = format!("resource \"aws_db_instance\" \"db\" {{\n  username = \"app\"\n  password = \"{secret_like}\"\n}}\n");
    let (plan, _dir) = migrate_text(&[("main.tf", &input)]);
    let diff = plan.unified_diff(&|_, _| false);
    assert!(
        diff.contains("+  password_wo         = \"***\""),
        "unexpected diff (not shown: it may hold a planted value)"
    );
    assert!(
        !diff.contains(&secret_like),
        "the diff prints the secret-like literal"
    );
    assert!(plan
        .warnings
        .iter()
        .any(|w| w.hazard == Hazard::LiteralSecret));
    assert!(plan
        .warnings
        .iter()
        .any(|w| w.hazard == Hazard::MasterPasswordCleared));
}

#[test]
fn write_is_atomic_and_keeps_permissions() {
    let input = "resource \"aws_ssm_parameter\" \"p\" {\n  name  = \"x\"\n  type  = \"SecureString\"\n  value = var.v\n}\n";
    let (plan, dir) = migrate_text(&[("main.tf", input)]);
    let path = dir.path().join("main.tf");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    }
    plan.write().expect("write");
    let written = std::fs::read_to_string(&path).expect("read");
    assert_eq!(written, plan.files[0].rewritten);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".hcl-migrate-"))
        .collect();
    assert!(leftovers.is_empty());
    // A second plan is empty, and writing a stale plan is refused.
    assert!(plan_migration(dir.path(), &Options::default())
        .expect("plan")
        .is_empty());
    assert!(matches!(plan.write(), Err(MigrateError::Stale { .. })));
}

/// A value built at run time, placed as a literal in every secret position we rewrite, must not
/// appear in anything the plan prints.
#[test]
fn canary_never_printed() {
    let canary = format!("cnry-{}-{}", std::process::id(), "q7x2");
    let main = format!(
        r#"resource "aws_secretsmanager_secret" "s" {{
  name = "prod/canary"
}}

resource "aws_secretsmanager_secret_version" "s" {{
  secret_id     = aws_secretsmanager_secret.s.id
  secret_string = <<-EOT
    {canary}
  EOT
}}

resource "aws_db_instance" "db" {{
  identifier = "db"
  password   = "{canary}"
}}

resource "kubernetes_secret_v1" "k" {{
  data = {{
    token = "{canary}"
  }}
}}

resource "aws_ssm_parameter" "p" {{
  name  = "/p"
  type  = "SecureString"
  value = jsonencode({{ key = "{canary}" }})
}}
"#
    );
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    assert_eq!(plan.files.len(), 1);
    let mut printed = plan.unified_diff(&|_, _| false);
    for warning in &plan.warnings {
        printed.push_str(&warning.to_string());
    }
    for note in &plan.notes {
        printed.push_str(&note.to_string());
    }
    for edit in &plan.files[0].edits {
        printed.push_str(&edit.message);
    }
    assert!(
        printed.contains("value_wo"),
        "unexpected output (not shown)"
    );
    assert!(
        !printed.contains(&canary),
        "the canary is printed (output withheld)"
    );
    // The rewrite itself keeps the value where it was put.
    assert_eq!(plan.files[0].rewritten.matches(&canary).count(), 4);
}

#[test]
fn switches_turn_rewrites_off() {
    let main = "data \"aws_secretsmanager_secret_version\" \"d\" {\n  secret_id = \"x\"\n}\n\nprovider \"postgresql\" {\n  password = data.aws_secretsmanager_secret_version.d.secret_string\n}\n";
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.tf"), main).expect("write");
    let off = Options {
        ephemeral: false,
        ..Options::default()
    };
    assert!(plan_migration(dir.path(), &off).expect("plan").is_empty());
    let on = plan_migration(dir.path(), &Options::default()).expect("plan");
    assert!(on.files[0]
        .rewritten
        .starts_with("ephemeral \"aws_secretsmanager_secret_version\" \"d\""));
    assert!(on.files[0]
        .rewritten
        .contains("password = ephemeral.aws_secretsmanager_secret_version.d.secret_string"));
}

/// A sensitive variable's default is printed as context right under the added
/// `ephemeral = true`; it is masked whatever the caller's check says. Other literals on printed
/// lines (context lines included) are masked when the check picks them, heredoc lines whole.
#[test]
fn diff_masks_sensitive_defaults_and_literals_the_check_picks() {
    let default = ["def", "ault-", "fixture-value"].concat();
    let picked = ["pick", "ed-", "fixture-value"].concat();
    let input = format!(
        "resource \"aws_db_instance\" \"db\" {{\n  password = var.pw\n  tags = {{\n    note = \"x-{picked}\"\n  }}\n}}\n\nvariable \"pw\" {{\n  description = <<-EOT\n    {picked}\n  EOT\n  sensitive   = true\n  default     = \"{default}\"\n}}\n"
    );
    let (plan, _dir) = migrate_text(&[("main.tf", &input)]);
    let check = |_: Option<&str>, text: &str| text.contains("picked-");
    let diff = plan.unified_diff(&check);
    assert!(
        diff.contains("+  ephemeral   = true"),
        "unexpected diff (not shown: it may hold a planted value)"
    );
    assert!(
        diff.contains("   default     = \"***\""),
        "unexpected diff (not shown: it may hold a planted value)"
    );
    assert!(
        diff.contains("     note = \"***\""),
        "unexpected diff (not shown: it may hold a planted value)"
    );
    assert!(
        diff.contains("\n     ***\n"),
        "unexpected diff (not shown: it may hold a planted value)"
    );
    assert!(
        !diff.contains(&default) && !diff.contains(&picked),
        "unexpected diff (not shown: it may hold a planted value)"
    );
    // Without the check only the default (and secret arguments) are masked.
    let diff = plan.unified_diff(&|_, _| false);
    assert!(
        !diff.contains(&default),
        "the default is printed (diff withheld)"
    );
    assert!(
        diff.contains(&picked),
        "unexpected diff (not shown: it may hold a planted value)"
    );
}

/// Review finding: literals under quoted keys, in inline objects, and the default of a
/// non-sensitive variable that feeds a migrated argument were printed in the dry-run diff.
#[test]
fn diff_masks_literals_under_quoted_and_inline_keys_and_fed_defaults() {
    let canary = |n: u32| format!("cnry{}{}x{n}", std::process::id(), "k9");
    let main = format!(
        r#"variable "db_pw" {{
  default = "{c1}"
}}
resource "aws_db_instance" "db" {{
  user_data = jsonencode({{ db_password = "{c2}" }})
  password = var.db_pw
  tags = {{ "password" = "{c3}" }}
}}
locals {{
  dbpass = {{ "db-password" = "{c4}" }}
}}
resource "aws_rds_cluster" "c" {{
  master_password = var.db_pw
  environment = {{
    "DB_PASSWORD" = "{c5}"
  }}
}}
"#,
        c1 = canary(1),
        c2 = canary(2),
        c3 = canary(3),
        c4 = canary(4),
        c5 = canary(5),
    );
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let diff = plan.unified_diff(&|_, _| false);
    assert!(
        diff.contains("password_wo"),
        "unexpected diff (not shown: it may hold a planted value)"
    );
    for n in 1..=5 {
        assert!(
            !diff.contains(&canary(n)),
            "canary {n} printed (diff withheld)"
        );
    }
    // The keys themselves stay readable.
    assert!(
        diff.contains("\"DB_PASSWORD\" = \"***\""),
        "unexpected diff (not shown: it may hold a planted value)"
    );
}

/// Review finding: a write-only twin under `ignore_changes` would make the first apply write the
/// configured value over one rotated outside Terraform; such arguments are left alone, with a note.
#[test]
fn arguments_under_ignore_changes_keep_their_plain_form() {
    let cases = [
        "ignore_changes = [secret_string]",
        "ignore_changes = all",
        "ignore_changes = [tags, secret_string]",
    ];
    for lifecycle in cases {
        let main = format!(
            "resource \"aws_secretsmanager_secret_version\" \"v\" {{\n  secret_id     = \"x\"\n  secret_string = var.pw\n\n  lifecycle {{\n    {lifecycle}\n  }}\n}}\n\nresource \"aws_db_instance\" \"db\" {{\n  password = var.pw\n\n  lifecycle {{\n    ignore_changes = [password]\n  }}\n}}\n"
        );
        let (plan, _dir) = migrate_text(&[
            ("main.tf", &main),
            ("variables.tf", "variable \"pw\" {\n  type = string\n}\n"),
        ]);
        assert!(
            rewritten(&plan, "main.tf").is_none(),
            "{lifecycle}: {plan:#?}"
        );
        for attr in ["secret_string", "password"] {
            assert!(
                plan.notes.iter().any(|n| n.message.contains(&format!(
                    ".{attr}` left as it is: `lifecycle {{ ignore_changes"
                ))),
                "{lifecycle}: {:#?}",
                plan.notes
            );
        }
    }
    // Ignoring something else does not stop the rewrite.
    let main = "resource \"aws_db_instance\" \"db\" {\n  password = var.pw\n\n  lifecycle {\n    ignore_changes = [tags]\n  }\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", main)]);
    assert!(rewritten(&plan, "main.tf").is_some_and(|t| t.contains("password_wo ")));
}

/// Review finding: converting a pair that a `replace_triggered_by` names replaces that resource in
/// the migration apply (`offstate_secret` updates in place, `version_id` becomes unknown).
#[test]
fn pairs_named_by_replace_triggered_by_are_not_converted() {
    let pair = "resource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"prod/db\"\n}\n\nresource \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = var.pw\n}\n\n";
    for trigger in [
        "aws_secretsmanager_secret.db",
        "aws_secretsmanager_secret_version.db",
        "aws_secretsmanager_secret_version.db.version_id",
    ] {
        let main = format!(
            "{pair}resource \"terraform_data\" \"app\" {{\n  input = \"x\"\n\n  lifecycle {{\n    replace_triggered_by = [{trigger}]\n  }}\n}}\n"
        );
        let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
        let text = rewritten(&plan, "main.tf").unwrap_or_else(|| main.clone());
        assert!(
            !text.contains("offstate_secret"),
            "{trigger}: unexpected text (not shown)"
        );
        assert!(
            plan.notes.iter().any(|n| n.message.contains("not converted to offstate_secret")
                && n.message.contains("`replace_triggered_by` in `terraform_data.app.lifecycle.replace_triggered_by`")),
            "{trigger}: {:#?}",
            plan.notes
        );
    }
}

/// Review finding: `write` renamed file by file, so a failure on the second file left the first
/// migrated and the module invalid. Now a failure at any step leaves every file as it was.
#[test]
fn a_failed_write_leaves_every_file_as_it_was() {
    let a = "resource \"aws_db_instance\" \"a\" {\n  password = var.pw\n}\n";
    let b = "resource \"aws_rds_cluster\" \"b\" {\n  master_password = var.pw\n}\n";
    for failing in [write::Step::Prepare, write::Step::Rename] {
        let (plan, dir) = migrate_text(&[("a.tf", a), ("b.tf", b)]);
        assert_eq!(plan.files.len(), 2);
        let second = plan.files[1].path.clone();
        let err = plan
            .write_with(&|step, path| {
                if step == failing && path == second {
                    Err(std::io::Error::other("injected"))
                } else {
                    Ok(())
                }
            })
            .expect_err("must fail");
        assert!(matches!(err, MigrateError::Io { .. }), "{failing:?}: {err}");
        for (name, text) in [("a.tf", a), ("b.tf", b)] {
            let now = std::fs::read_to_string(dir.path().join(name)).expect("read");
            assert_eq!(now, text, "{failing:?}: {name} changed");
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(".hcl-migrate-"))
            .collect();
        assert!(leftovers.is_empty(), "{failing:?}: {leftovers:?}");
        // Nothing half done: the plan still applies.
        plan.write().expect("write after the failure");
    }
}

/// Review finding: references in existing `moved` blocks were rewritten to `offstate_secret`,
/// which collides with the `moved` block migrate adds ("Ambiguous move statements"). They are
/// history and stay; an `import` into the pair stops the conversion.
#[test]
fn moved_blocks_keep_their_addresses_and_imports_stop_the_conversion() {
    let pair = "resource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"prod/db\"\n}\n\nresource \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = var.pw\n}\n";
    let moved = "\nmoved {\n  from = aws_secretsmanager_secret.old\n  to   = aws_secretsmanager_secret.db\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", &format!("{pair}{moved}"))]);
    let text = rewritten(&plan, "main.tf").expect("converted");
    assert!(
        text.contains("resource \"offstate_secret\" \"db\""),
        "unexpected text (not shown: it may hold a planted value)"
    );
    assert!(
        text.contains(moved),
        "unexpected text (not shown: it may hold a planted value)"
    );
    assert_eq!(
        text.matches("to   = offstate_secret.db").count(),
        1,
        "unexpected text (not shown: it may hold a planted value)"
    );

    let import = "\nimport {\n  to = aws_secretsmanager_secret.db\n  id = \"prod/db\"\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", &format!("{pair}{import}"))]);
    assert!(
        !text.contains("offstate_secret"),
        "unexpected text (not shown: it may hold a planted value)"
    );
    assert!(
        plan.notes
            .iter()
            .any(|n| n.message.contains("an `import` block (line 11) targets it")),
        "{:#?}",
        plan.notes
    );
}

/// Review finding: a reference in a template's `%{ for x in EXPR }` was not seen (hcl-edit does
/// not visit EXPR), so it dangled after the conversion, or let a data source become ephemeral
/// while an output still read it.
#[test]
fn references_in_template_for_directives_count() {
    let pair = "resource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"prod/db\"\n}\n\nresource \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = var.pw\n}\n";
    let output = "\noutput \"names\" {\n  value = \"%{ for a in [aws_secretsmanager_secret.db.name] }${a}%{ endfor }\"\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", &format!("{pair}{output}"))]);
    let text = rewritten(&plan, "main.tf").expect("converted");
    assert!(
        text.contains("%{ for a in [offstate_secret.db.name] }"),
        "unexpected text (not shown: it may hold a planted value)"
    );

    let data = "data \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id = \"prod/db\"\n}\n\nresource \"aws_rds_cluster\" \"c\" {\n  master_password = data.aws_secretsmanager_secret_version.db.secret_string\n}\n\noutput \"v\" {\n  value = \"%{ for k in [data.aws_secretsmanager_secret_version.db.version_id] }${k}%{ endfor }\"\n}\n";
    let (_, text, _dir) = migrate_main(&[("main.tf", data)]);
    assert!(
        !text.contains("ephemeral \"aws_secretsmanager_secret_version\""),
        "unexpected text (not shown: it may hold a planted value)"
    );
}

/// Review finding: override files were migrated as primary files and `.tf.json` files were not
/// read, so a reference there dangled after the migration. What they mention stays as it is.
#[test]
fn what_override_and_json_files_mention_is_left_alone() {
    let main = "variable \"pw\" {\n  type      = string\n  sensitive = true\n}\n\nresource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"prod/db\"\n}\n\nresource \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = var.pw\n}\n";
    let over =
        "resource \"aws_secretsmanager_secret\" \"db\" {\n  description = \"overridden\"\n}\n";
    let json = "{\n  \"output\": {\n    \"pw\": { \"value\": \"${var.pw}\", \"sensitive\": true }\n  }\n}\n";
    let (plan, text, _dir) = migrate_main(&[
        ("main.tf", main),
        ("main_override.tf", over),
        ("outputs.tf.json", json),
    ]);
    assert!(
        !text.contains("offstate_secret"),
        "unexpected text (not shown: it may hold a planted value)"
    );
    assert!(
        !text.contains("ephemeral = true"),
        "unexpected text (not shown: it may hold a planted value)"
    );
    assert!(rewritten(&plan, "main_override.tf").is_none());
    let notes = info_notes(&plan);
    assert!(
        notes.iter().any(
            |n| n.starts_with("`aws_secretsmanager_secret.db` not converted")
                && n.contains("`main_override.tf` mentions it")
        ),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("`var.pw` not made ephemeral")
                && n.contains("`outputs.tf.json` mentions it")),
        "{notes:#?}"
    );

    let data = "data \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id = \"prod/db\"\n}\n\nresource \"aws_rds_cluster\" \"c\" {\n  master_password = data.aws_secretsmanager_secret_version.db.secret_string\n}\n";
    let json = "{\"output\": {\"v\": {\"value\": \"${data.aws_secretsmanager_secret_version.db.version_id}\"}}}\n";
    let (_, text, _dir) = migrate_main(&[("main.tf", data), ("outputs.tf.json", json)]);
    assert!(
        text.contains("data \"aws_secretsmanager_secret_version\" \"db\""),
        "unexpected text (not shown: it may hold a planted value)"
    );
    assert!(
        !text.contains("ephemeral."),
        "unexpected text (not shown: it may hold a planted value)"
    );
}

#[test]
fn a_byte_order_mark_is_kept_and_not_parsed() {
    let input = "resource \"aws_db_instance\" \"db\" {\n  password = var.db_password\n}\n";
    let (plain, _plain_dir) = migrate_text(&[("main.tf", input)]);
    let expected = rewritten(&plain, "main.tf").expect("rewritten");
    let with_bom = format!("\u{feff}{input}");
    let (plan, dir) = migrate_text(&[("main.tf", &with_bom)]);
    let change = &plan.files[0];
    assert_eq!(change.original, with_bom);
    assert_eq!(change.rewritten, format!("\u{feff}{expected}"));
    assert_eq!(plan.files[0].edits[0].line, plain.files[0].edits[0].line);
    plan.write().expect("write");
    let written = std::fs::read_to_string(dir.path().join("main.tf")).expect("read");
    assert_eq!(written, format!("\u{feff}{expected}"));
    assert!(plan_migration(dir.path(), &Options::default())
        .expect("plan again")
        .is_empty());
}

#[test]
fn crlf_files_get_crlf_in_every_added_line() {
    let input = "resource \"aws_secretsmanager_secret\" \"api\" {\n  name = \"api\"\n}\n\n\
                 resource \"aws_secretsmanager_secret_version\" \"api\" {\n  secret_id     = aws_secretsmanager_secret.api.id\n  secret_string = var.api_key\n}\n\n\
                 resource \"aws_db_instance\" \"db\" { password = var.db_password }\n\n\
                 variable \"db_password\" {\n  sensitive = true\n}\n";
    let (lf, _lf_dir) = migrate_text(&[("main.tf", input)]);
    let expected = rewritten(&lf, "main.tf")
        .expect("rewritten")
        .replace('\n', "\r\n");
    let crlf = input.replace('\n', "\r\n");
    let (plan, dir) = migrate_text(&[("main.tf", &crlf)]);
    assert_eq!(plan.files[0].original, crlf);
    assert_eq!(rewritten(&plan, "main.tf"), Some(expected.clone()));
    plan.write().expect("write");
    let written = std::fs::read_to_string(dir.path().join("main.tf")).expect("read");
    assert_eq!(
        written.matches('\n').count(),
        written.matches("\r\n").count()
    );
    assert!(plan_migration(dir.path(), &Options::default())
        .expect("plan again")
        .is_empty());
}

#[test]
fn added_blocks_go_after_a_comment_trailing_the_closing_brace() {
    let input = "resource \"aws_secretsmanager_secret\" \"api\" {\n  name = \"api\"\n} # end of secret\n\n\
                 resource \"aws_secretsmanager_secret_version\" \"api\" {\n  secret_id     = aws_secretsmanager_secret.api.id\n  secret_string = random_password.pw.result\n}\n\n\
                 resource \"random_password\" \"pw\" {\n  length = 24\n} // one per deploy\n\n\
                 resource \"aws_db_instance\" \"db\" {\n  password_wo         = random_password.pw.result\n  password_wo_version = 1\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", input)]);
    let out = rewritten(&plan, "main.tf").expect("rewritten");
    assert!(out.contains("} # end of secret\n\nmoved {"), "{out}");
    assert!(out.contains("} // one per deploy\n\nremoved {"), "{out}");
}

#[test]
fn an_io_error_is_printed_once_in_the_chain() {
    let err = MigrateError::io(
        "main.tf",
        std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied here"),
    );
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        chain.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    assert_eq!(chain, "main.tf: denied here");
}

/// Every comment of the input, in order, somewhere in `out`; and `out` parses.
fn assert_comments_kept(input: &str, out: &str, comments: &[&str]) {
    hcl_edit::parser::parse_body(out).unwrap_or_else(|e| panic!("{e}\n{out}"));
    let mut from = 0;
    for comment in comments {
        assert!(input.contains(comment), "fixture lacks {comment:?}");
        match out[from..].find(comment) {
            Some(at) => from += at + comment.len(),
            None => panic!("{comment:?} lost or out of order in\n{out}"),
        }
    }
}

#[test]
fn comments_of_a_converted_version_are_kept_in_order() {
    let input = "variable \"pw\" {\n  sensitive = true\n}\n\n\
                 resource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"prod/db\"\n}\n\n\
                 resource \"aws_secretsmanager_secret_version\" \"db\" {\n  # first\n  secret_id = aws_secretsmanager_secret.db.id\n  \
                 /* why this value:\n     the app reads it */\n  secret_string = jsonencode({\n    # the app user\n    username = \"app\" /* fixed */\n    \
                 password = var.pw // rotated\n  }) # whole value\n  # after the value\n  depends_on = [\n    # the secret first\n    aws_secretsmanager_secret.db,\n  ]\n  /* last */\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", input)]);
    let out = rewritten(&plan, "main.tf").expect("rewritten");
    assert!(out.contains("resource \"offstate_secret\" \"db\""), "{out}");
    assert_comments_kept(
        input,
        &out,
        &[
            "# first",
            "/* why this value:\n     the app reads it */",
            "# the app user",
            "/* fixed */",
            "// rotated",
            "# whole value",
            "# after the value",
            "# the secret first",
            "/* last */",
        ],
    );
    assert!(
        out.contains("  value_wo = jsonencode({\n    # the app user\n"),
        "{out}"
    );
}

#[test]
fn comments_of_a_random_password_that_becomes_generate_are_kept() {
    let input = "resource \"random_password\" \"db\" {\n  # long enough for the policy\n  length = 32\n  \
                 /* no quotes:\n     the app's parser breaks */\n  override_special = \"!#$%\" # safe set\n  min_upper = 2 /* at least */\n  # end\n}\n\n\
                 resource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"prod/db\"\n}\n\n\
                 resource \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id = aws_secretsmanager_secret.db.id\n  \
                 secret_string = jsonencode({\n    # the app user\n    username = \"app\" # fixed\n    /* the password */\n    \
                 password = random_password.db.result # made here\n    host = \"db.internal\"\n  })\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", input)]);
    let out = rewritten(&plan, "main.tf").expect("rewritten");
    assert!(out.contains("generate {"), "{out}");
    assert_comments_kept(
        input,
        &out,
        &[
            "# long enough for the policy",
            "/* no quotes:",
            "the app's parser breaks */",
            "# safe set",
            "/* at least */",
            "# end",
        ],
    );
    assert_comments_kept(
        input,
        &out,
        &[
            "# the app user",
            "# fixed",
            "/* the password */",
            "# made here",
        ],
    );
}

#[test]
fn added_blocks_go_after_a_block_comment_trailing_the_closing_brace() {
    let input = "resource \"aws_secretsmanager_secret\" \"api\" {\n  name = \"api\"\n} /* end of\n     secret */\n\n\
                 resource \"aws_secretsmanager_secret_version\" \"api\" {\n  secret_id     = aws_secretsmanager_secret.api.id\n  secret_string = var.api_key\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", input)]);
    let out = rewritten(&plan, "main.tf").expect("rewritten");
    assert!(
        out.contains("} /* end of\n     secret */\n\nmoved {"),
        "{out}"
    );
}

/// The lines of `text` with their endings ("\r\n", "\n" or "" for the last).
fn lines_with_endings(text: &str) -> Vec<(&str, &str)> {
    text.split_inclusive('\n')
        .map(|line| match line.strip_suffix("\r\n") {
            Some(body) => (body, "\r\n"),
            None => match line.strip_suffix('\n') {
                Some(body) => (body, "\n"),
                None => (line, ""),
            },
        })
        .collect()
}

#[test]
fn mixed_line_endings_keep_each_line_and_new_lines_take_the_dominant_one() {
    // Mostly CRLF, with LF lines in the untouched variable and in the pair (an editor's mix).
    let input = "resource \"aws_secretsmanager_secret\" \"api\" {\r\n  name = \"api\"\r\n}\r\n\r\n\
                 resource \"aws_secretsmanager_secret_version\" \"api\" {\r\n  secret_id     = aws_secretsmanager_secret.api.id\n  secret_string = var.api_key\r\n}\r\n\r\n\
                 resource \"aws_db_instance\" \"db\" {\r\n  # the main database\n  identifier = \"db\"\n  password   = var.db_password\r\n}\r\n\r\n\
                 variable \"region\" {\n  default = \"eu-west-1\"\n}\n\r\n\
                 variable \"db_password\" {\r\n  sensitive = true\r\n}\r\n";
    let (plan, dir) = migrate_text(&[("main.tf", input)]);
    let change = &plan.files[0];
    assert_eq!(change.original, input);
    let old = lines_with_endings(input);
    let new = lines_with_endings(&change.rewritten);
    // Lines migrate does not touch keep their ending (the LF lines of `region` among them).
    for line in [
        "variable \"region\" {",
        "  default = \"eu-west-1\"",
        "  # the main database",
    ] {
        let before = old.iter().find(|(l, _)| *l == line).expect("in input");
        let after = new.iter().find(|(l, _)| *l == line).expect("kept");
        assert_eq!(before, after, "{line:?} changed its ending");
    }
    // Every line migrate writes ends in CRLF, the file's dominant ending.
    for (line, ending) in &new {
        if !old.iter().any(|(l, _)| l == line) {
            assert_eq!(*ending, "\r\n", "written line {line:?} ends in {ending:?}");
        }
    }
    assert!(new.iter().any(|(l, _)| l.contains("password_wo_version")));
    assert!(new.iter().any(|(l, _)| l.starts_with("moved {")));
    plan.write().expect("write");
    assert!(plan_migration(dir.path(), &Options::default())
        .expect("plan again")
        .is_empty());

    // Mostly LF: written lines are LF, the CRLF line stays CRLF.
    let input = "variable \"db_password\" {\r\n  sensitive = true\n}\n\n\
                 resource \"aws_db_instance\" \"db\" {\n  password = var.db_password\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", input)]);
    let new = lines_with_endings(&plan.files[0].rewritten);
    assert!(
        new.contains(&("variable \"db_password\" {", "\r\n")),
        "{new:?}"
    );
    assert!(
        new.contains(&("  password_wo_version = 1", "\n")),
        "{new:?}"
    );
}

#[test]
fn a_secret_policy_is_folded_into_the_offstate_secret_or_says_why_not() {
    let pair = |name: &str| {
        format!(
            "resource \"aws_secretsmanager_secret\" \"{name}\" {{\n  name = \"prod/{name}\"\n}}\n\n\
             resource \"aws_secretsmanager_secret_version\" \"{name}\" {{\n  secret_id     = aws_secretsmanager_secret.{name}.id\n  secret_string = var.pw\n}}\n\n"
        )
    };
    let input = format!(
        "{}resource \"aws_secretsmanager_secret_policy\" \"db\" {{\n  secret_arn          = aws_secretsmanager_secret.db.arn\n  \
         block_public_policy = true # no public access\n  # the app role only\n  policy = jsonencode({{\n    Version   = \"2012-10-17\"\n    \
         Statement = [{{ Effect = \"Allow\", Principal = {{ AWS = var.role }}, Action = \"secretsmanager:GetSecretValue\", Resource = \"*\" }}]\n  }})\n  \
         depends_on = [terraform_data.role]\n}}\n\n\
         {}resource \"aws_secretsmanager_secret_policy\" \"api\" {{\n  secret_arn = aws_secretsmanager_secret.api.arn\n  \
         policy     = jsonencode({{ Statement = [{{ Resource = aws_secretsmanager_secret.api.arn }}] }})\n}}\n",
        pair("db"),
        pair("api")
    );
    let (plan, _dir) = migrate_text(&[("main.tf", &input)]);
    let out = rewritten(&plan, "main.tf").expect("rewritten");
    // Folded: the policy is the offstate_secret's, the resource is forgotten, not destroyed.
    let db = &out[out.find("resource \"offstate_secret\" \"db\"").expect("db")..];
    let db = &db[..db.find("\n}\n").expect("end")];
    assert!(
        db.contains("  block_public_policy = true # no public access\n  # the app role only\n  policy = jsonencode({\n    Version   = \"2012-10-17\"\n"),
        "{out}"
    );
    assert!(db.contains("depends_on = [terraform_data.role]"), "{out}");
    assert!(
        out.contains("removed {\n  from = aws_secretsmanager_secret_policy.db\n\n  lifecycle {\n    destroy = false\n  }\n}"),
        "{out}"
    );
    assert!(
        !out.contains("resource \"aws_secretsmanager_secret_policy\" \"db\""),
        "{out}"
    );
    // Not folded (its policy reads the secret, which would read itself): it stays, attached
    // to the offstate_secret, and a note says why.
    assert!(
        out.contains("resource \"aws_secretsmanager_secret_policy\" \"api\" {\n  secret_arn = offstate_secret.api.arn\n"),
        "{out}"
    );
    let notes: Vec<String> = plan.notes.iter().map(ToString::to_string).collect();
    assert!(
        notes.iter().any(
            |n| n.contains("`aws_secretsmanager_secret_policy.api` stays")
                && n.contains("reading itself")
        ),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n
                .contains("attaches the policy of `aws_secretsmanager_secret_policy.db` again")),
        "{notes:#?}"
    );
    hcl_edit::parser::parse_body(&out).expect("parses");
    let (again, _dir2) = migrate_text(&[("main.tf", &out)]);
    assert!(again.is_empty(), "second run changes it");
}

#[test]
fn prefix_sinks_leave_alone_what_override_and_json_files_mention() {
    let main = "variable \"token\" {\n  type      = string\n  sensitive = true\n}\n\n\
                resource \"terraform_data\" \"app\" {\n  input = var.token\n}\n\n\
                resource \"terraform_data\" \"web\" {\n  input = var.token\n}\n\n\
                output \"token\" {\n  value     = var.token\n  sensitive = true\n}\n";
    // Overrides of one sink and of the output, and a .tf.json file that already declares the
    // name a new secret would take.
    let over = "resource \"terraform_data\" \"app\" {\n  triggers_replace = [1]\n}\n";
    let over_json = "{\"output\": {\"token\": {\"description\": \"the API token\"}}}\n";
    let json = "{\n  \"resource\": {\n    \"offstate_secret\": {\n      \"web_input\": { \"name\": \"other\" }\n    }\n  }\n}\n";
    let opts = Options {
        secret_prefix: Some("prod/app".to_owned()),
        ..Options::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in [
        ("main.tf", main),
        ("app_override.tf", over),
        ("outputs_override.tf.json", over_json),
        ("extra.tf.json", json),
    ] {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let plan = plan_migration(dir.path(), &opts).expect("plan");
    let text = rewritten(&plan, "main.tf").unwrap_or_default();
    let notes = info_notes(&plan);
    // The overridden sink stays as it is, with a note naming the file.
    assert!(
        text.contains("resource \"terraform_data\" \"app\" {\n  input = var.token\n}"),
        "{text}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("`terraform_data.app.input`")
                && n.contains("`app_override.tf` mentions it")),
        "{notes:#?}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with("`output.token`")
            && n.contains("`outputs_override.tf.json` mentions it")),
        "{notes:#?}"
    );
    // The other sink moves, into a secret whose label no other file declares.
    assert!(
        !text.contains("\"offstate_secret\" \"web_input\""),
        "{text}"
    );
    assert!(
        text.contains("resource \"offstate_secret\" \"web_input_2\""),
        "{text}"
    );
    assert!(
        text.contains("input = provider::offstate::ref(offstate_secret.web_input_2.name)"),
        "{text}"
    );
}

#[test]
fn sinks_through_an_instance_a_local_or_a_function_are_found() {
    // cloudposse's shape: `random_password.X[0].result` of a counted resource, through a local,
    // into a root output. Each stores the password in the state like the plain reference does.
    let main = "resource \"random_password\" \"a\" {\n  count  = 1\n  length = 20\n}\n\n\
                resource \"random_password\" \"b\" {\n  length = 20\n}\n\n\
                variable \"token\" {\n  type      = string\n  sensitive = true\n}\n\n\
                locals {\n  pw    = random_password.b.result\n  again = local.pw\n  loop  = local.loop\n}\n\n\
                output \"idx\" {\n  value     = random_password.a[0].result\n  sensitive = true\n}\n\n\
                output \"via_local\" {\n  value     = local.again\n  sensitive = true\n}\n\n\
                output \"wrapped\" {\n  value     = nonsensitive((var.token))\n}\n\n\
                output \"splat\" {\n  value     = random_password.a[*].result\n  sensitive = true\n}\n\n\
                output \"loop\" {\n  value = local.loop\n}\n\n\
                output \"length\" {\n  value = random_password.b.length\n}\n\n\
                output \"first\" {\n  value     = coalesce(var.plain, random_password.b.result)\n  sensitive = true\n}\n\n\
                output \"cond\" {\n  value     = var.on ? null : local.pw\n  sensitive = true\n}\n\n\
                output \"one\" {\n  value     = one(random_password.a[*].result)\n  sensitive = true\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", main)]);
    let notes = info_notes(&plan);
    let stored: Vec<&str> = notes
        .iter()
        .filter(|n| n.contains("stores a secret in the state"))
        .map(|n| n.split('`').nth(1).unwrap_or_default())
        .collect();
    // A list (splat), a cycle and a non-secret attribute are not sinks.
    assert_eq!(
        stored,
        [
            "output.idx",
            "output.via_local",
            "output.wrapped",
            "output.first",
            "output.cond",
            "output.one"
        ],
        "{notes:#?}"
    );

    // With a prefix, each moves into an offstate_secret, its expression kept as written.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.tf"), main).expect("write");
    let opts = Options {
        secret_prefix: Some("prod/app".to_owned()),
        ..Options::default()
    };
    let plan = plan_migration(dir.path(), &opts).expect("plan");
    let text = rewritten(&plan, "main.tf").unwrap_or_default();
    for (label, value) in [
        ("output_idx", "random_password.a[0].result"),
        ("output_via_local", "local.again"),
        ("output_wrapped", "nonsensitive((var.token))"),
        (
            "output_first",
            "coalesce(var.plain, random_password.b.result)",
        ),
    ] {
        assert!(
            text.contains(&format!("resource \"offstate_secret\" \"{label}\"")),
            "{text}"
        );
        assert!(
            text.contains(&format!("value_wo         = {value}\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "value     = provider::offstate::ref(offstate_secret.{label}.name)"
            )) || text.contains(&format!(
                "value = provider::offstate::ref(offstate_secret.{label}.name)"
            )),
            "{text}"
        );
    }
    assert!(
        text.contains("value     = random_password.a[*].result"),
        "{text}"
    );
    // What may be null stays, with a note: `value_wo` takes a string.
    assert!(
        text.contains("value     = var.on ? null : local.pw"),
        "{text}"
    );
    assert!(
        text.contains("value     = one(random_password.a[*].result)"),
        "{text}"
    );
    let left: Vec<&str> = info_notes(&plan)
        .into_iter()
        .filter(|n| n.contains("left alone because its value may be another value or null"))
        .map(|n| n.split('`').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(left, ["output.cond", "output.one"]);
    plan.write().expect("write");
    let again = plan_migration(dir.path(), &opts).expect("plan again");
    assert!(again.is_empty(), "second run: {:?}", again.files);
}

#[test]
fn an_offstate_local_name_for_another_provider_stops_what_needs_offstate() {
    let main = "terraform {\n  required_providers {\n    offstate = {\n      source = \"acme/vaultish\"\n    }\n  }\n}\n\n\
                variable \"pw\" {\n  type      = string\n  sensitive = true\n}\n\n\
                resource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"prod/db\"\n}\n\n\
                resource \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = var.pw\n}\n\n\
                resource \"terraform_data\" \"app\" {\n  input = var.pw\n}\n\n\
                resource \"aws_db_instance\" \"db\" {\n  password = var.pw\n}\n";
    let opts = Options {
        secret_prefix: Some("prod/app".to_owned()),
        ..Options::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.tf"), main).expect("write");
    let plan = plan_migration(dir.path(), &opts).expect("plan");
    let text = rewritten(&plan, "main.tf").unwrap_or_default();
    // `offstate_secret` would belong to acme/vaultish: nothing that needs offstate is written.
    assert!(!text.contains("offstate_secret"), "{text}");
    assert!(!text.contains("provider::"), "{text}");
    assert!(
        text.contains("resource \"aws_secretsmanager_secret\" \"db\""),
        "{text}"
    );
    // What needs no offstate still migrates.
    assert!(text.contains("password_wo_version = 1"), "{text}");
    let notes = info_notes(&plan);
    for what in [
        "`aws_secretsmanager_secret.db` not converted",
        "`terraform_data.app.input`",
    ] {
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with(what) && n.contains("`acme/vaultish`")),
            "{what}: {notes:#?}"
        );
    }
}

#[test]
fn a_pair_is_not_converted_onto_an_offstate_secret_label_already_declared() {
    let pair = "resource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"prod/db\"\n}\n\n\
                resource \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = var.pw\n}\n";
    let declared = "resource \"offstate_secret\" \"db\" {\n  name = \"prod/db-new\"\n}\n";
    let json = "{\"resource\": {\"offstate_secret\": {\"db\": {\"name\": \"prod/db-new\"}}}}\n";
    for (name, other) in [("other.tf", declared), ("other.tf.json", json)] {
        let (plan, text, _dir) = migrate_main(&[("main.tf", pair), (name, other)]);
        assert!(
            !text.contains("\"offstate_secret\" \"db\""),
            "{name}: {text}"
        );
        let notes = info_notes(&plan);
        assert!(
            notes.iter().any(
                |n| n.starts_with("`aws_secretsmanager_secret.db` not converted")
                    && n.contains("`offstate_secret.db`")
            ),
            "{name}: {notes:#?}"
        );
    }
}

#[test]
fn block_comments_on_a_twin_line_are_not_other_code() {
    let input = "resource \"aws_db_instance\" \"a\" {\n  password = var.pw /* from vault */\n}\n\n\
                 resource \"aws_db_instance\" \"b\" {\n  /* legacy */ password = var.pw\n}\n\n\
                 resource \"aws_db_instance\" \"c\" {\n  password = jsondecode(\n    var.doc # the JSON\n  )[\"password\"] /* the key,\n  rotated */\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", input)]);
    let out = rewritten(&plan, "main.tf").expect("rewritten");
    assert!(
        out.contains(
            "  password_wo         = var.pw /* from vault */\n  password_wo_version = 1\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("  /* legacy */ password_wo = var.pw\n  password_wo_version      = 1\n"),
        "{out}"
    );
    assert!(
        out.contains("  )[\"password\"] /* the key,\n  rotated */\n  password_wo_version = 1\n"),
        "{out}"
    );
    hcl_edit::parser::parse_body(&out).expect("parses");
}

#[test]
fn a_moved_heredoc_keeps_every_byte_of_its_body() {
    // Four-space indentation moved into a two-space block: a plain heredoc's body is the value
    // itself, and a `<<-` one's relative indentation is too.
    let input = "resource \"aws_secretsmanager_secret\" \"h\" {\n  name = \"h\"\n}\n\n\
                 resource \"aws_secretsmanager_secret_version\" \"h\" {\n    secret_id = aws_secretsmanager_secret.h.id\n    secret_string = <<EOT\n    indented\n  less\nEOT\n}\n\n\
                 resource \"aws_secretsmanager_secret\" \"d\" {\n  name = \"d\"\n}\n\n\
                 resource \"aws_secretsmanager_secret_version\" \"d\" {\n    secret_id = aws_secretsmanager_secret.d.id\n    secret_string = <<-EOT\n      deeper\n  shallow\n    EOT\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", input)]);
    let out = rewritten(&plan, "main.tf").expect("rewritten");
    assert!(out.contains("<<EOT\n    indented\n  less\nEOT\n"), "{out}");
    assert!(
        out.contains("<<-EOT\n      deeper\n  shallow\n    EOT\n"),
        "{out}"
    );
}

#[test]
fn an_inline_commented_json_value_becomes_a_tidy_template() {
    let input = "resource \"random_password\" \"pw\" {\n  length = 20\n}\n\n\
                 resource \"aws_secretsmanager_secret\" \"s\" {\n  name = \"s\"\n}\n\n\
                 resource \"aws_secretsmanager_secret_version\" \"s\" {\n  secret_id     = aws_secretsmanager_secret.s.id\n  \
                 secret_string = jsonencode({ user = \"u\", /* inline */ password = random_password.pw.result })\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", input)]);
    let out = rewritten(&plan, "main.tf").expect("rewritten");
    assert!(
        out.contains("json_template    = { user = \"u\", /* inline */ }\n"),
        "{out}"
    );
}

#[test]
fn a_moved_value_that_names_a_later_pair_names_its_offstate_secret() {
    let input = "resource \"aws_secretsmanager_secret\" \"a\" {\n  name = \"a\"\n}\n\n\
                 resource \"aws_secretsmanager_secret_version\" \"a\" {\n  secret_id     = aws_secretsmanager_secret.a.id\n  \
                 secret_string = jsonencode({ peer = aws_secretsmanager_secret.b.arn, pw = var.pw })\n}\n\n\
                 resource \"aws_secretsmanager_secret_policy\" \"a\" {\n  secret_arn = aws_secretsmanager_secret.a.arn\n  \
                 policy     = jsonencode({ Condition = { peer = aws_secretsmanager_secret.b.arn } })\n}\n\n\
                 resource \"aws_secretsmanager_secret\" \"b\" {\n  name = \"b\"\n}\n\n\
                 resource \"aws_secretsmanager_secret_version\" \"b\" {\n  secret_id     = aws_secretsmanager_secret.b.id\n  secret_string = var.pw\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", input)]);
    let out = rewritten(&plan, "main.tf").expect("rewritten");
    assert!(
        out.contains("value_wo         = jsonencode({ peer = offstate_secret.b.arn,"),
        "{out}"
    );
    assert!(
        out.contains(
            "policy           = jsonencode({ Condition = { peer = offstate_secret.b.arn } })"
        ),
        "{out}"
    );
    assert!(!out.contains("aws_secretsmanager_secret.b.arn"), "{out}");
}

#[test]
fn a_value_passed_to_a_module_is_noted_for_what_migrate_did_not_check() {
    // migrate plans each module on its own and never follows a module input: even when this run
    // makes the child's variable ephemeral, the caller's note must not claim what the variable
    // needs, only that the input was not checked and what to do then.
    let root = "data \"vault_kv_secret_v2\" \"smtp\" {\n  mount = \"kv\"\n  name  = \"smtp\"\n}\n\n\
                data \"vault_kv_secret_v2\" \"db\" {\n  mount = \"kv\"\n  name  = \"db\"\n}\n\n\
                resource \"random_password\" \"api\" {\n  length = 32\n}\n\n\
                module \"mailer\" {\n  source        = \"./modules/mailer\"\n  smtp_password = data.vault_kv_secret_v2.smtp.data[\"password\"]\n  \
                api_key       = random_password.api.result\n}\n\n\
                data \"vault_kv_secret_v2\" \"token\" {\n  mount = \"kv\"\n  name  = \"token\"\n}\n\n\
                locals {\n  token = data.vault_kv_secret_v2.token.data[\"token\"]\n}\n\n\
                module \"db\" {\n  source   = \"./modules/db\"\n  password = data.vault_kv_secret_v2.db.data[\"password\"]\n  \
                token    = local.token\n}\n\n\
                resource \"aws_ssm_parameter\" \"db\" {\n  name  = \"db\"\n  type  = \"SecureString\"\n  \
                value = data.vault_kv_secret_v2.db.data[\"password\"]\n  tags  = { copy = data.vault_kv_secret_v2.db.data[\"password\"] }\n}\n\n\
                resource \"aws_ssm_parameter\" \"token\" {\n  name        = \"token\"\n  type        = \"SecureString\"\n  \
                value       = local.token\n  description = local.token\n}\n";
    let mailer = "variable \"smtp_password\" {\n  type      = string\n  sensitive = true\n}\n\n\
                  variable \"api_key\" {\n  type      = string\n  sensitive = true\n}\n\n\
                  resource \"aws_ssm_parameter\" \"smtp\" {\n  name  = \"smtp\"\n  type  = \"SecureString\"\n  value = var.smtp_password\n}\n\n\
                  resource \"aws_ssm_parameter\" \"api\" {\n  name  = \"api\"\n  type  = \"SecureString\"\n  value = var.api_key\n}\n";
    let db = "variable \"password\" {\n  type      = string\n  sensitive = true\n}\n\n\
              variable \"token\" {\n  type      = string\n  sensitive = true\n}\n";
    let (plan, dir) = migrate_text(&[
        ("main.tf", root),
        ("modules/mailer/main.tf", mailer),
        ("modules/db/main.tf", db),
    ]);
    let prefix = format!("{}/", dir.path().display());
    // This run makes the child's variables ephemeral...
    let mailer_edits: Vec<&str> = plan
        .files
        .iter()
        .filter(|f| f.path.ends_with("modules/mailer/main.tf"))
        .flat_map(|f| f.edits.iter().map(|e| e.message.as_str()))
        .collect();
    for var in ["smtp_password", "api_key"] {
        assert!(
            mailer_edits
                .iter()
                .any(|m| m.starts_with(&format!("`var.{var}` → `ephemeral = true`"))),
            "{mailer_edits:#?}"
        );
    }
    let notes: Vec<String> = plan
        .notes
        .iter()
        .map(|n| n.to_string().replace(&prefix, ""))
        .collect();
    let note = |address: &str| {
        notes
            .iter()
            .find(|n| n.contains(&format!("`{address}` not made ephemeral")))
            .unwrap_or_else(|| panic!("no note for {address}: {notes:#?}"))
            .clone()
    };
    // ...and the caller's notes say what was and was not checked, and what to do: each
    // module input named, nothing claimed about the module's variable.
    let smtp = note("data.vault_kv_secret_v2.smtp");
    assert!(
        smtp.ends_with(
            "`data.vault_kv_secret_v2.smtp` not made ephemeral: it is passed to module `mailer` (input \
             `smtp_password`) at main.tf:17, and migrate does not follow a value into a module, so it did not check that input; \
             every other use takes an ephemeral value. If the module's variable is declared `ephemeral = true`, \
             make `data.vault_kv_secret_v2.smtp` an `ephemeral` block by hand"
        ),
        "{smtp}"
    );
    let api = note("random_password.api");
    assert!(
        api.contains(
            "it is passed to module `mailer` (input `api_key`) at main.tf:18, and migrate does not follow"
        ),
        "{api}"
    );
    assert!(
        !notes.iter().any(|n| n.contains("would need")),
        "{notes:#?}"
    );
    // A use that rules the conversion out by itself is the reason given, not the module input.
    let db = note("data.vault_kv_secret_v2.db");
    assert!(
        db.contains(
            "`data.vault_kv_secret_v2.db` not made ephemeral: it is used in `aws_ssm_parameter.db.tags` at main.tf:40, \
             which is not write-only. Also, it is passed to module `db` (input `password`) at main.tf:32: migrate does \
             not follow a value into a module, so it did not check that input. To make it ephemeral,"
        ),
        "{db}"
    );
    // Also through a local: the local's refusing use is the reason, not its module input.
    let token = note("data.vault_kv_secret_v2.token");
    assert!(
        token.contains(
            "it flows into `local.token` at main.tf:27, and it is used in `aws_ssm_parameter.token.description` at \
             main.tf:47, which is not write-only. Also, it flows into `local.token` at main.tf:27, and it is passed to \
             module `db` (input `token`) at main.tf:33: migrate does not follow"
        ),
        "{token}"
    );
}

#[test]
fn a_sensitive_variable_left_as_it_is_says_which_use_stopped_it_and_what_to_do() {
    // Every path that leaves a sensitive variable without `ephemeral = true` says so: the first
    // use that stopped it (file:line), the module inputs migrate did not check, and what to do.
    let root = "variable \"smtp\" {\n  type      = string\n  sensitive = true\n}\n\n\
                variable \"db\" {\n  type      = string\n  sensitive = true\n}\n\n\
                variable \"shown\" {\n  type      = string\n  sensitive = true\n}\n\n\
                variable \"fine\" {\n  type      = string\n  sensitive = true\n}\n\n\
                module \"mailer\" {\n  source        = \"./modules/mailer\"\n  smtp_password = var.smtp\n  \
                db_password   = var.db\n}\n\n\
                resource \"aws_instance\" \"web\" {\n  ami       = \"ami-1\"\n  user_data = var.db\n}\n\n\
                output \"shown\" {\n  value     = var.shown\n  sensitive = true\n}\n\n\
                resource \"aws_ssm_parameter\" \"fine\" {\n  name  = \"fine\"\n  type  = \"SecureString\"\n  value = var.fine\n}\n";
    let mailer = "variable \"smtp_password\" {\n  type = string\n}\n\n\
                  variable \"db_password\" {\n  type = string\n}\n";
    let (plan, dir) = migrate_text(&[("main.tf", root), ("modules/mailer/main.tf", mailer)]);
    let prefix = format!("{}/", dir.path().display());
    let notes: Vec<String> = plan
        .notes
        .iter()
        .map(ToString::to_string)
        .chain(plan.warnings.iter().map(ToString::to_string))
        .map(|n| n.replace(&prefix, ""))
        .collect();
    let note = |name: &str| {
        notes
            .iter()
            .find(|n| n.contains(&format!("`var.{name}` not made ephemeral")))
            .unwrap_or_else(|| panic!("no note for var.{name}: {notes:#?}"))
            .clone()
    };
    // Only a module input: named with where it is, said to be unchecked, and the step by hand.
    let smtp = note("smtp");
    assert!(smtp.starts_with("main.tf:1: note: "), "{smtp}");
    assert!(
        smtp.ends_with(
            "`var.smtp` not made ephemeral: it is passed to module `mailer` (input `smtp_password`) at main.tf:23, \
             and migrate does not follow a value into a module, so it did not check that input; every other use \
             takes an ephemeral value. If the module's variable is declared `ephemeral = true`, add `ephemeral = true` \
             to `variable \"smtp\"` by hand"
        ),
        "{smtp}"
    );
    // A use that refuses it: that one, with where it is and what to do; the module input it is
    // also passed to is named as not checked.
    let db = note("db");
    assert!(db.starts_with("main.tf:6: note: "), "{db}");
    assert!(
        db.contains(
            "`var.db` not made ephemeral: it is used in `aws_instance.web.user_data` at main.tf:29, which is not write-only."
        ),
        "{db}"
    );
    assert!(db.contains("then run migrate again"), "{db}");
    assert!(
        db.contains(
            "Also, it is passed to module `mailer` (input `db_password`) at main.tf:24: migrate does not follow a \
             value into a module, so it did not check that input."
        ),
        "{db}"
    );
    // An output is a hazard, as it is for a data source.
    let shown = note("shown");
    assert!(shown.starts_with("main.tf:11: warning: "), "{shown}");
    assert!(
        shown.contains("it is used in output `shown` at main.tf:33"),
        "{shown}"
    );
    // A variable every use of which takes an ephemeral value is converted, with no such note.
    assert!(
        !notes
            .iter()
            .any(|n| n.contains("`var.fine` not made ephemeral")),
        "{notes:#?}"
    );
    assert!(
        rewritten(&plan, "main.tf").is_some_and(|t| t
            .split("variable \"fine\"")
            .nth(1)
            .is_some_and(|b| b
                .split('}')
                .next()
                .unwrap_or("")
                .contains("ephemeral = true"))),
        "var.fine not made ephemeral"
    );
}

#[test]
fn an_ssm_parameter_read_by_name_and_passed_to_a_module_says_the_hand_conversion_needs_arn() {
    // The ephemeral `aws_ssm_parameter` is addressed by `arn` (the planner's own conversion
    // renames `name` to `arn`): the step by hand must say so.
    let root = "data \"aws_ssm_parameter\" \"api\" {\n  name = \"/prod/api\"\n}\n\n\
                module \"client\" {\n  source  = \"./modules/client\"\n  api_key = data.aws_ssm_parameter.api.value\n}\n";
    let client = "variable \"api_key\" {\n  type = string\n}\n";
    let (plan, dir) = migrate_text(&[("main.tf", root), ("modules/client/main.tf", client)]);
    let prefix = format!("{}/", dir.path().display());
    let notes: Vec<String> = plan
        .notes
        .iter()
        .map(|n| n.to_string().replace(&prefix, ""))
        .collect();
    let api = notes
        .iter()
        .find(|n| n.contains("`data.aws_ssm_parameter.api` not made ephemeral"))
        .unwrap_or_else(|| panic!("{notes:#?}"));
    assert!(
        api.ends_with(
            "it is passed to module `client` (input `api_key`) at main.tf:7, and migrate does not follow a value \
             into a module, so it did not check that input; every other use takes an ephemeral value. If the \
             module's variable is declared `ephemeral = true`, make `data.aws_ssm_parameter.api` an `ephemeral` \
             block by hand, with `arn` set to the parameter's ARN in place of `name` (the ephemeral \
             `aws_ssm_parameter` is addressed by `arn` only)"
        ),
        "{api}"
    );
}

fn pair_with_required(entry: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n{entry}\n  }}\n}}\n\n\
         resource \"aws_secretsmanager_secret\" \"db\" {{\n  name = \"prod/db\"\n}}\n\n\
         resource \"aws_secretsmanager_secret_version\" \"db\" {{\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = var.pw\n}}\n"
    )
}

#[test]
fn a_private_registry_copy_of_offstate_is_offstate_with_a_note() {
    for source in [
        "registry.example.com/acme/offstate",
        "app.terraform.io/acme/offstate",
        "Registry.Example.com:8443/Acme/OffState",
    ] {
        let main = pair_with_required(&format!(
            "    offstate = {{\n      source = \"{source}\"\n    }}"
        ));
        let (plan, text, _dir) = migrate_main(&[("main.tf", &main)]);
        assert!(
            text.contains("resource \"offstate_secret\" \"db\""),
            "{source}: {text}"
        );
        // The entry there is offstate's: no second `offstate` entry, no `provider =`.
        assert_eq!(text.matches("source =").count(), 1, "{source}: {text}");
        assert!(!text.contains("provider ="), "{source}: {text}");
        let notes = info_notes(&plan);
        assert!(
            notes.iter().any(|n| n.contains(&format!("`{source}`"))
                && n.contains("private registry")
                && n.ends_with(
                    "is another provider, do not apply this: add `offstate/offstate` there under another \
                     local name and migrate again"
                )),
            "{source}: {notes:#?}"
        );
        assert!(
            !notes.iter().any(|n| n.contains("not converted")),
            "{source}: {notes:#?}"
        );
    }
}

#[test]
fn a_private_registry_copy_of_offstate_under_another_local_name_is_called_by_it() {
    let main = pair_with_required(
        "    secrets = {\n      source = \"app.terraform.io/acme/offstate\"\n    }",
    );
    let (plan, text, _dir) = migrate_main(&[("main.tf", &main)]);
    assert!(text.contains("provider = secrets"), "{text}");
    assert_eq!(text.matches("source =").count(), 1, "{text}");
    let notes = info_notes(&plan);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("`app.terraform.io/acme/offstate`")
                && n.contains("private registry")),
        "{notes:#?}"
    );
}

#[test]
fn offstate_on_the_opentofu_registry_is_offstate_without_a_note() {
    let main = pair_with_required(
        "    offstate = {\n      source = \"registry.opentofu.org/offstate/offstate\"\n    }",
    );
    let (plan, text, _dir) = migrate_main(&[("main.tf", &main)]);
    assert!(
        text.contains("resource \"offstate_secret\" \"db\""),
        "{text}"
    );
    assert_eq!(text.matches("source =").count(), 1, "{text}");
    let notes = info_notes(&plan);
    assert!(
        !notes.iter().any(|n| n.contains("private registry")),
        "{notes:#?}"
    );
}

#[test]
fn a_provider_named_offstate_in_another_public_namespace_is_not_offstate() {
    for source in ["acme/offstate", "registry.terraform.io/acme/offstate"] {
        let main = pair_with_required(&format!(
            "    offstate = {{\n      source = \"{source}\"\n    }}"
        ));
        let (plan, text, _dir) = migrate_main(&[("main.tf", &main)]);
        assert!(!text.contains("offstate_secret"), "{source}: {text}");
        let notes = info_notes(&plan);
        assert!(
            notes.iter().any(
                |n| n.starts_with("`aws_secretsmanager_secret.db` not converted")
                    && n.contains(&format!(
                        "`{source}`, a provider named offstate in another namespace"
                    ))
                    && n.ends_with("and migrate again")
            ),
            "{source}: {notes:#?}"
        );
    }
}

fn info_notes(plan: &MigrationPlan) -> Vec<&str> {
    plan.notes.iter().map(|n| n.message.as_str()).collect()
}

/// `main` alone in `main.tf` is rewritten with `n` `generate` blocks.
fn assert_generates(main: &str, n: usize) {
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert_eq!(
        text.matches("generate {").count(),
        n,
        "{text}\n{:#?}",
        info_notes(&plan)
    );
}

#[test]
fn a_random_password_kept_for_keepers_or_lifecycle_says_what_to_remove() {
    let main = "resource \"random_password\" \"keyed\" {\n  length = 24\n  keepers = {\n    rotation = \"2026-01\"\n  }\n}\n\n\
                resource \"random_password\" \"pinned\" {\n  length = 24\n\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n\n\
                resource \"random_password\" \"both\" {\n  length = 24\n  keepers = {\n    rotation = \"2026-01\"\n  }\n\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n\n\
                resource \"random_password\" \"shown\" {\n  length = 24\n  keepers = {\n    rotation = \"2026-01\"\n  }\n}\n\n\
                resource \"aws_db_instance\" \"a\" {\n  password = random_password.keyed.result\n}\n\n\
                resource \"aws_db_instance\" \"b\" {\n  password = random_password.pinned.result\n}\n\n\
                resource \"aws_db_instance\" \"c\" {\n  password = random_password.both.result\n}\n\n\
                resource \"aws_db_instance\" \"d\" {\n  password = random_password.shown.result\n}\n\n\
                output \"shown\" {\n  value     = random_password.shown.result\n  sensitive = true\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", main)]);
    let notes = info_notes(&plan);
    let note = |name: &str| {
        notes
            .iter()
            .find(|n| n.starts_with(&format!("`random_password.{name}` left as a resource")))
            .copied()
            .unwrap_or_else(|| panic!("{name}: {notes:#?}"))
    };
    let keyed = note("keyed");
    assert!(keyed.contains("it has `keepers`"), "{keyed}");
    assert!(
        keyed.contains("remove `keepers` and migrate again")
            && keyed.ends_with(
                "change that where you would have changed a keeper, in every argument the password feeds at \
                 once, so that they keep the same password)"
            ),
        "{keyed}"
    );
    let pinned = note("pinned");
    assert!(pinned.contains("it has a `lifecycle` block"), "{pinned}");
    assert!(
        pinned.contains("remove the `lifecycle` block and migrate again")
            && pinned.ends_with("change the `_wo_version` next to its use)"),
        "{pinned}"
    );
    let both = note("both");
    assert!(
        both.contains("it has `keepers` and a `lifecycle` block")
            && both.contains("remove `keepers` and the `lifecycle` block and migrate again"),
        "{both}"
    );
    // A use that takes no ephemeral value stops it too: the note names it and says both steps.
    let shown = note("shown");
    assert!(
        shown.contains("removing `keepers` would not be enough")
            && shown.contains("output")
            && shown.ends_with("then run migrate again; remove `keepers` as well"),
        "{shown}"
    );
}

#[test]
fn a_random_password_kept_out_of_generate_says_what_to_remove_and_when() {
    let main = "resource \"random_password\" \"db\" {\n  length = 24\n  keepers = {\n    rotation = \"2026-01\"\n  }\n}\n\n\
                resource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"prod/db\"\n}\n\n\
                resource \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = random_password.db.result\n}\n\n\
                resource \"random_password\" \"app\" {\n  length = 24\n\n  lifecycle {\n    ignore_changes = all\n  }\n}\n\n\
                resource \"aws_secretsmanager_secret\" \"app\" {\n  name = \"prod/app\"\n}\n\n\
                resource \"aws_secretsmanager_secret_version\" \"app\" {\n  secret_id     = aws_secretsmanager_secret.app.id\n  secret_string = random_password.app.result\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert!(
        text.contains("resource \"offstate_secret\" \"db\""),
        "{text}"
    );
    assert!(!text.contains("generate {"), "{text}");
    let notes = info_notes(&plan);
    let db = not_generate(&notes, "db");
    assert!(
        db.contains("`value_wo` takes its result instead. To have offstate generate the password")
            && db.contains(
                "remove `keepers` and run migrate again before `--write`, or after undoing it"
            )
            && db.ends_with("change `value_wo_version` where you would have changed a keeper"),
        "{db}"
    );
    assert_eq!(db.matches("takes its result instead").count(), 1, "{db}");
    let app = not_generate(&notes, "app");
    assert!(
        app.contains("it has a `lifecycle` block")
            && app.ends_with(
                "remove the `lifecycle` block and run migrate again before `--write`, or after undoing it: \
                 migrate makes `generate` only while it converts the pair"
            ),
        "{app}"
    );
}

#[test]
fn nested_blocks_that_stop_a_pair_say_what_to_do() {
    let main = [
        pair_with(
            "ignored",
            "",
            "\n  lifecycle {\n    ignore_changes = [secret_string]\n  }\n",
            "var.pw",
        ),
        pair_with(
            "guarded",
            "",
            "\n  lifecycle {\n    prevent_destroy = true\n  }\n",
            "var.pw",
        ),
        pair_with(
            "hooked",
            "",
            "\n  provisioner \"local-exec\" {\n    command = \"true\"\n  }\n",
            "var.pw",
        ),
        pair_with(
            "replicated",
            "\n  dynamic \"replica\" {\n    for_each = []\n    content {\n      region = replica.value\n    }\n  }\n",
            "",
            "var.pw",
        ),
    ]
    .concat();
    let (plan, text, _dir) = migrate_main(&[("main.tf", &main)]);
    assert!(!text.contains("offstate_secret"), "{text}");
    let notes = info_notes(&plan);
    let ignored = not_converted(&notes, "ignored");
    assert!(
        ignored.contains("has `lifecycle { ignore_changes }`")
            && ignored.ends_with(
                "then delete `value_wo` and `value_wo_version` from `offstate_secret.ignored` before applying \
                 (without a value, offstate leaves the value in Secrets Manager alone)"
            ),
        "{ignored}"
    );
    let guarded = not_converted(&notes, "guarded");
    assert!(
        guarded.ends_with(
            "move what it sets into the `lifecycle` block of `aws_secretsmanager_secret.guarded` (migrate keeps \
             that one in `offstate_secret.guarded`) or remove it, and migrate again"
        ),
        "{guarded}"
    );
    let hooked = not_converted(&notes, "hooked");
    assert!(
        hooked.contains("has a `provisioner \"local-exec\"` block")
            && hooked.ends_with(
                "move the `provisioner \"local-exec\"` block to a `terraform_data` resource that depends on \
                 `aws_secretsmanager_secret.hooked` (or remove it), and migrate again"
            ),
        "{hooked}"
    );
    let replicated = not_converted(&notes, "replicated");
    assert!(
        replicated.contains("the `dynamic \"replica\"` block has no offstate_secret counterpart")
            && replicated.ends_with("remove the `dynamic \"replica\"` block, and migrate again"),
        "{replicated}"
    );
}

const PAIR: &str = "resource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"prod/db\"\n}\n\n\
                    resource \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = var.pw\n}\n\n\
                    resource \"aws_db_instance\" \"db\" {\n  password = var.pw\n}\n";

#[test]
fn required_providers_in_a_tf_json_file_with_offstate_is_used_as_it_is() {
    for (json, local) in [
        (
            "{\"terraform\": {\"required_providers\": {\"secrets\": {\"source\": \"offstate/offstate\"}, \"aws\": {\"source\": \"hashicorp/aws\"}}}}",
            "secrets",
        ),
        (
            "{\"terraform\": [{\"required_providers\": [{\"offstate\": {\"source\": \"registry.example.com/acme/offstate\", \"version\": \"~> 1.0\"}}]}]}",
            "offstate",
        ),
    ] {
        let (plan, text, _dir) = migrate_main(&[("main.tf", PAIR), ("versions.tf.json", json)]);
        assert!(text.contains("resource \"offstate_secret\" \"db\""), "{local}: {text}");
        // The module's one `required_providers` is the JSON file's: none is added.
        assert!(!text.contains("required_providers"), "{local}: {text}");
        assert_eq!(text.contains("provider = secrets"), local == "secrets", "{text}");
        let notes = info_notes(&plan);
        if local == "offstate" {
            assert!(
                notes.iter().any(|n| n.contains("(versions.tf.json)")
                    && n.contains("`registry.example.com/acme/offstate`")
                    && n.contains("private registry")),
                "{notes:#?}"
            );
        } else {
            assert!(
                notes
                    .iter()
                    .any(|n| n.contains("(versions.tf.json)") && n.contains("say `provider = secrets`")),
                "{notes:#?}"
            );
        }
    }
}

#[test]
fn required_providers_in_a_tf_json_file_without_offstate_stops_what_needs_offstate() {
    for json in [
        "{\"terraform\": {\"required_providers\": {\"aws\": {\"source\": \"hashicorp/aws\"}}}}",
        "{\"terraform\": {\"required_providers\": {\"offstate\": \"~> 1.0\"}}}",
    ] {
        let (plan, text, _dir) = migrate_main(&[("main.tf", PAIR), ("versions.tf.json", json)]);
        // A second `required_providers` would make the module invalid ("Duplicate required
        // providers configuration"); `offstate_secret` without one would need hashicorp/offstate.
        assert!(!text.contains("offstate_secret"), "{json}: {text}");
        assert!(!text.contains("required_providers"), "{json}: {text}");
        // What needs no offstate still migrates.
        assert!(text.contains("password_wo_version = 1"), "{json}: {text}");
        let notes = info_notes(&plan);
        assert!(
            notes.iter().any(
                |n| n.starts_with("`aws_secretsmanager_secret.db` not converted")
                    && n.contains("`versions.tf.json` holds this module's `required_providers`")
                    && n.ends_with(if json.contains("~>") {
                        "under a local name other than `offstate`, which is `hashicorp/offstate` there \
                         (migrate then writes `provider = <that name>`) and migrate again"
                    } else {
                        "add `\"offstate\": { \"source\": \"offstate/offstate\" }` there and migrate again"
                    })
            ),
            "{json}: {notes:#?}"
        );
    }
}

#[test]
fn a_tf_json_terraform_block_without_required_providers_changes_nothing() {
    let json = "{\"terraform\": {\"backend\": {\"local\": {}}}}";
    let (_, text, _dir) = migrate_main(&[("main.tf", PAIR), ("backend.tf.json", json)]);
    assert!(
        text.contains("resource \"offstate_secret\" \"db\""),
        "{text}"
    );
    assert!(text.contains("source = \"offstate/offstate\""), "{text}");
}

/// The note that says why `aws_secretsmanager_secret.{name}` is not converted.
fn not_converted<'p>(notes: &[&'p str], name: &str) -> &'p str {
    notes
        .iter()
        .find(|n| n.starts_with(&format!("`aws_secretsmanager_secret.{name}` not converted")))
        .copied()
        .unwrap_or_else(|| panic!("{name}: {notes:#?}"))
}

/// The note that says why `random_password.{name}` does not become `generate`.
fn not_generate<'p>(notes: &[&'p str], name: &str) -> &'p str {
    notes
        .iter()
        .find(|n| {
            n.starts_with(&format!(
                "`random_password.{name}` not turned into a `generate` block"
            ))
        })
        .copied()
        .unwrap_or_else(|| panic!("{name}: {notes:#?}"))
}

/// A secret and its version, with `secret` and `version` inside their bodies.
fn pair_with(name: &str, secret: &str, version: &str, value: &str) -> String {
    format!(
        "resource \"aws_secretsmanager_secret\" \"{name}\" {{\n  name = \"prod/{name}\"\n{secret}}}\n\n\
         resource \"aws_secretsmanager_secret_version\" \"{name}\" {{\n  secret_id     = aws_secretsmanager_secret.{name}.id\n  secret_string = {value}\n{version}}}\n\n"
    )
}

#[test]
fn a_secret_argument_offstate_secret_lacks_says_what_to_do() {
    let main = pair_with("west", "  region = \"us-west-2\"\n", "", "var.pw")
        + &pair_with(
            "rotated",
            "  rotation_lambda_arn = var.lambda\n",
            "",
            "var.pw",
        )
        + &pair_with(
            "staged",
            "",
            "  version_stages = [\"AWSCURRENT\"]\n",
            "var.pw",
        );
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let west = not_converted(&notes, "west");
    assert!(
        west.contains("`region` has no offstate_secret counterpart")
            && west.contains("remove `region` and migrate again, then, before applying, give `offstate_secret.west` `provider = offstate.<alias>`")
            && west.ends_with(
                    "apply nothing in between (without `region`, hashicorp/aws would replace the secret in its \
                     provider's region, when that is another one)"
                ),
        "{west}"
    );
    let rotated = not_converted(&notes, "rotated");
    assert!(
        rotated.ends_with(
            "`rotation_lambda_arn` has no offstate_secret counterpart; to convert it, remove `rotation_lambda_arn` \
             and migrate again (`offstate_secret.rotated` then does not manage what it sets)"
        ),
        "{rotated}"
    );
    let staged = not_converted(&notes, "staged");
    assert!(
        staged.ends_with(
            "`aws_secretsmanager_secret_version.staged` sets `version_stages`, which offstate_secret does not have; \
             to convert it, remove `version_stages` and migrate again (the `removed` block the version becomes \
             leaves its labels as they are; each value `offstate_secret` writes becomes AWSCURRENT)"
        ),
        "{staged}"
    );
}

#[test]
fn count_and_for_each_together_say_to_keep_one() {
    let both = "  count    = 2\n  for_each = var.names\n";
    let main = pair_with("secret", both, "", "var.pw")
        + &pair_with("version", "", both, "var.pw")
        + "resource \"random_password\" \"gen\" {\n  length   = 24\n  count    = 2\n  for_each = var.names\n}\n\n"
        + &pair_with("gen", "", "", "random_password.gen.result");
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let step = "which Terraform refuses too (`Invalid combination of \"count\" and \"for_each\"`): keep the one \
                you mean, check with `terraform validate`, and migrate again";
    let secret = not_converted(&notes, "secret");
    assert!(
        secret.contains(&format!("it sets both `count` and `for_each`, {step}")),
        "{secret}"
    );
    let version = not_converted(&notes, "version");
    assert!(
        version.contains(&format!(
            "`aws_secretsmanager_secret_version.version`: it sets both `count` and `for_each`, {step}"
        )),
        "{version}"
    );
    let generate = not_generate(&notes, "gen");
    assert!(
        generate.contains("it sets both `count` and `for_each`, which Terraform refuses too")
            && generate.contains(
                "keep the one of `count` and `for_each` you mean (check with `terraform validate`) and run migrate \
                 again before `--write`"
            ),
        "{generate}"
    );
}

#[test]
fn several_versions_say_which_to_keep_and_how_to_drop_the_others() {
    let main = "resource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"prod/db\"\n}\n\n\
                resource \"aws_secretsmanager_secret_version\" \"blue\" {\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = var.blue\n}\n\n\
                resource \"aws_secretsmanager_secret_version\" \"green\" {\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = var.green\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", main)]);
    let notes = info_notes(&plan);
    let db = not_converted(&notes, "db");
    assert!(
        db.contains(
            "2 versions set its value (`aws_secretsmanager_secret_version.blue` and \
             `aws_secretsmanager_secret_version.green`)"
        ) && db.ends_with(
            "to convert it, keep the version whose value is to stay current, replace each other one by a \
             `removed { from = aws_secretsmanager_secret_version.<name> lifecycle { destroy = false } }` block \
             (Secrets Manager keeps its version; Terraform forgets it), and migrate again"
        ),
        "{db}"
    );
    // The step works: with `green` replaced by its `removed` block, the pair converts.
    let followed = main.replace(
        "resource \"aws_secretsmanager_secret_version\" \"green\" {\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = var.green\n}\n",
        "removed {\n  from = aws_secretsmanager_secret_version.green\n\n  lifecycle {\n    destroy = false\n  }\n}\n",
    );
    let (_, text, _dir) = migrate_main(&[("main.tf", &followed)]);
    assert!(
        text.contains("resource \"offstate_secret\" \"db\""),
        "{text}"
    );
    assert!(
        text.contains("from = aws_secretsmanager_secret_version.green"),
        "{text}"
    );
}

#[test]
fn a_read_of_the_secret_or_its_version_says_what_to_read_instead() {
    let main = pair_with("value", "", "", "var.pw")
        + "output \"value\" {\n  value     = aws_secretsmanager_secret_version.value.secret_string\n  sensitive = true\n}\n\n"
        + &pair_with("id", "", "", "var.pw")
        + "output \"id\" {\n  value = aws_secretsmanager_secret_version.id.id\n}\n\n"
        + &pair_with("stages", "", "", "var.pw")
        + "output \"stages\" {\n  value = aws_secretsmanager_secret_version.stages.version_stages\n}\n\n"
        + &pair_with("tagged", "", "", "var.pw")
        + "output \"tagged\" {\n  value = aws_secretsmanager_secret.tagged.tags_all\n}\n\n"
        + &pair_with("replicas", "", "", "var.pw")
        + "output \"replicas\" {\n  value = aws_secretsmanager_secret.replicas.replica\n}\n\n"
        + "resource \"aws_secretsmanager_secret\" \"many\" {\n  count = 2\n  name  = \"prod/many-${count.index}\"\n}\n\n\
           resource \"aws_secretsmanager_secret_version\" \"many\" {\n  count         = 2\n  secret_id     = aws_secretsmanager_secret.many[count.index].id\n  secret_string = var.pw\n}\n\n\
           output \"first\" {\n  value = [aws_secretsmanager_secret.many[0], aws_secretsmanager_secret_version.many[0]]\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let value = not_converted(&notes, "value");
    assert!(
        value.contains(
            "`aws_secretsmanager_secret_version.value.secret_string` is read in output `value`, and \
             `offstate_secret` keeps no value to read; to convert it, put what `secret_string` is set to there in \
             place of that reference, or remove that use, and migrate again"
        ),
        "{value}"
    );
    let id = not_converted(&notes, "id");
    assert!(
        id.contains("to convert it, read `arn` or `version_id` there in place of `id`"),
        "{id}"
    );
    let stages = not_converted(&notes, "stages");
    assert!(
        stages.contains(
            "`aws_secretsmanager_secret_version.stages.version_stages` is read in output `stages`, and \
             `offstate_secret` has no such attribute; to convert it, read `arn` or `version_id`"
        ),
        "{stages}"
    );
    let tagged = not_converted(&notes, "tagged");
    assert!(
        tagged.contains("to convert it, read `tags` there in its place"),
        "{tagged}"
    );
    let replicas = not_converted(&notes, "replicas");
    assert!(
        replicas.contains(
            "`aws_secretsmanager_secret.replicas.replica` is read in output `replicas`, and `offstate_secret` has \
             no such attribute; to convert it, read `arn`, `name` or another argument it keeps there in its place"
        ),
        "{replicas}"
    );
    let many = not_converted(&notes, "many");
    assert!(
        many.contains(
            "`aws_secretsmanager_secret.many[...]` is read in output `first`, and the whole instance would be an \
             `offstate_secret`, with other attributes; to convert it, read the attribute that use needs (`arn`, \
             `name`, ...) there in its place"
        ) && many.contains(
            "`aws_secretsmanager_secret_version.many[...]` is read in output `first`, and the whole instance would \
             be an `offstate_secret`, with other attributes; to convert it, read `arn` or `version_id` there in its \
             place"
        ),
        "{many}"
    );
    // The write-only twin left for the same read says the same step.
    assert!(
        notes.iter().any(|n| n.starts_with(
            "`aws_secretsmanager_secret_version.value.secret_string` left as it is: it is read in output `value`"
        ) && n.contains(
            "to make it write-only, put what `secret_string` is set to there in place of that reference"
        )),
        "{notes:#?}"
    );
    // The step works: the output reads the variable the version is given, and the pair converts.
    let followed = main.replace(
        "aws_secretsmanager_secret_version.value.secret_string",
        "var.pw",
    );
    let (_, text, _dir) = migrate_main(&[("main.tf", &followed)]);
    assert!(
        text.contains("resource \"offstate_secret\" \"value\""),
        "{text}"
    );
}

#[test]
fn a_random_password_argument_or_heredoc_generate_lacks_says_what_to_change() {
    let main = "resource \"random_password\" \"ordered\" {\n  length     = 24\n  depends_on = [terraform_data.first]\n}\n\n"
        .to_owned()
        + &pair_with("ordered", "", "", "random_password.ordered.result")
        + "resource \"random_password\" \"heredoc\" {\n  length           = 24\n  override_special = <<EOT\n!@#\nEOT\n}\n\n"
        + &pair_with("heredoc", "", "", "random_password.heredoc.result");
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let ordered = not_generate(&notes, "ordered");
    assert!(
        ordered.contains("it has `depends_on`, which `generate` does not take")
            && ordered.ends_with(
                "remove `depends_on` and run migrate again before `--write`, or after undoing it: migrate makes \
                 `generate` only while it converts the pair"
            ),
        "{ordered}"
    );
    let heredoc = not_generate(&notes, "heredoc");
    assert!(
        heredoc.contains("`override_special` is a heredoc, which migrate does not copy into `generate`")
            && heredoc.contains(
                "write `override_special` as a quoted string with the same characters (a heredoc's value ends \
                 with a newline, `\\n` in a quoted string) and run migrate again before `--write`"
            ),
        "{heredoc}"
    );
    // The steps work: without `depends_on`, and with the heredoc as a quoted string, both
    // passwords become `generate`.
    let followed = main
        .replace("  depends_on = [terraform_data.first]\n", "")
        .replace("<<EOT\n!@#\nEOT\n", "\"!@#\\n\"\n");
    let (_, text, _dir) = migrate_main(&[("main.tf", &followed)]);
    assert_eq!(text.matches("generate {").count(), 2, "{text}");
}

#[test]
fn a_random_password_also_used_elsewhere_says_how_that_use_reads_the_secret() {
    let main = "resource \"random_password\" \"db\" {\n  length = 24\n}\n\n".to_owned()
        + &pair_with(
            "db",
            "",
            "",
            "jsonencode({ username = \"app\", password = random_password.db.result })",
        )
        + "resource \"aws_db_instance\" \"db\" {\n  password = random_password.db.result\n}\n\n"
        + "resource \"random_password\" \"shown\" {\n  length = 24\n}\n\n"
        + &pair_with("shown", "", "", "random_password.shown.result")
        + "output \"shown\" {\n  value     = random_password.shown.result\n  sensitive = true\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let db = not_generate(&notes, "db");
    assert!(
        db.contains("it is also used in `aws_db_instance.db.password`")
            && db.contains(
                "make `aws_db_instance.db.password` (and any other such use: migrate names the first) read the \
                 secret instead, from an `ephemeral \"offstate_secret_value\"` block with `secret_id = \
                 aws_secretsmanager_secret.db.arn` (which migrate points at `offstate_secret.db`) and \
                 `json_key = \"password\"`"
            )
            && db.ends_with("or remove that use, and run migrate again before `--write`, or after undoing it: migrate makes `generate` only while it converts the pair"),
        "{db}"
    );
    let shown = not_generate(&notes, "shown");
    assert!(
        shown.contains("remove output `shown` (and any other such use: migrate names the first)")
            && shown.contains("read the password where it is needed from an `ephemeral \"offstate_secret_value\"` block"),
        "{shown}"
    );
    // The step works: the database reads the secret through `offstate_secret_value`, the
    // password becomes `generate`, `password` its write-only twin, and the reader's
    // `secret_id` the new resource's ARN.
    let followed = main.replace(
        "resource \"aws_db_instance\" \"db\" {\n  password = random_password.db.result\n}\n",
        "ephemeral \"offstate_secret_value\" \"db\" {\n  secret_id = aws_secretsmanager_secret.db.arn\n  json_key  = \"password\"\n}\n\n\
         resource \"aws_db_instance\" \"db\" {\n  password = ephemeral.offstate_secret_value.db.value\n}\n",
    );
    let (_, text, _dir) = migrate_main(&[("main.tf", &followed)]);
    assert!(text.contains("generate {"), "{text}");
    assert!(
        text.contains("removed {\n  from = random_password.db"),
        "{text}"
    );
    assert!(
        text.contains("secret_id = offstate_secret.db.arn"),
        "{text}"
    );
    assert!(
        text.contains("password_wo         = ephemeral.offstate_secret_value.db.value"),
        "{text}"
    );
}

/// Terraform merges an override file's `required_providers` into the module's: each entry
/// takes the place of the primary files' entry of the same local name, whole.
#[test]
fn required_providers_in_override_files_are_read_as_terraform_merges_them() {
    // offstate under another local name in override.tf: used, and nothing added.
    let rp = |entries: &str| format!("terraform {{\n  required_providers {{\n{entries}  }}\n}}\n");
    let secrets = rp("    secrets = {\n      source = \"offstate/offstate\"\n    }\n");
    let (plan, text, _dir) = migrate_main(&[("main.tf", PAIR), ("override.tf", &secrets)]);
    assert!(
        text.contains("resource \"offstate_secret\" \"db\""),
        "{text}"
    );
    assert!(text.contains("provider = secrets"), "{text}");
    assert!(!text.contains("required_providers"), "{text}");
    let notes = info_notes(&plan);
    assert!(
        notes.iter().any(|n| n
            .starts_with("`required_providers` (override.tf) names `offstate/offstate` `secrets`")),
        "{notes:#?}"
    );

    // An override entry without `source` replaces the primary `offstate/offstate` entry with
    // hashicorp/offstate: nothing needing offstate is written.
    let main = PAIR.to_owned()
        + "\n"
        + &rp("    offstate = {\n      source = \"offstate/offstate\"\n    }\n");
    let pinned = rp("    offstate = {\n      version = \"~> 1.0\"\n    }\n");
    let (plan, text, _dir) = migrate_main(&[("main.tf", &main), ("versions_override.tf", &pinned)]);
    assert!(!text.contains("offstate_secret"), "{text}");
    assert!(text.contains("password_wo_version = 1"), "{text}");
    let notes = info_notes(&plan);
    assert!(
        notes.iter().any(|n| {
            n.starts_with("`aws_secretsmanager_secret.db` not converted")
            && n.contains(
                "`required_providers` (versions_override.tf) gives the local name `offstate` to \
                 `hashicorp/offstate`"
            )
        }),
        "{notes:#?}"
    );

    // A `.tf.json` override puts offstate/offstate in place of another provider's `offstate`
    // entry: the pair converts, and migrate adds no entry.
    let main =
        PAIR.to_owned() + "\n" + &rp("    offstate = {\n      source = \"acme/offstate\"\n    }\n");
    let json = "{\"terraform\": {\"required_providers\": {\"offstate\": {\"source\": \"offstate/offstate\"}}}}";
    let (_, text, _dir) = migrate_main(&[("main.tf", &main), ("providers_override.tf.json", json)]);
    assert!(
        text.contains("resource \"offstate_secret\" \"db\""),
        "{text}"
    );
    assert!(!text.contains("provider = "), "{text}");
    assert_eq!(text.matches("offstate/offstate").count(), 0, "{text}");

    // The later override file wins: b_override.tf gives `offstate` back to hashicorp/offstate.
    let legacy = rp("    offstate = \"~> 1.0\"\n");
    let (plan, text, _dir) = migrate_main(&[
        ("main.tf", PAIR),
        (
            "a_override.tf",
            &rp("    offstate = {\n      source = \"offstate/offstate\"\n    }\n"),
        ),
        ("b_override.tf", &legacy),
    ]);
    assert!(!text.contains("offstate_secret"), "{text}");
    assert!(
        info_notes(&plan)
            .iter()
            .any(|n| n
                .contains("`required_providers` (b_override.tf) gives the local name `offstate`")),
        "{:#?}",
        info_notes(&plan)
    );
}

/// `main` converts `aws_secretsmanager_secret.{name}` (the step a note gave was followed).
fn assert_converts(main: &str, name: &str) {
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert!(
        text.contains(&format!("resource \"offstate_secret\" \"{name}\"")),
        "{text}\n{:#?}",
        info_notes(&plan)
    );
}

#[test]
fn a_version_with_two_values_or_none_says_what_to_set() {
    let main = pair_with("both", "", "  secret_binary = var.bin\n", "var.pw")
        + "resource \"aws_secretsmanager_secret\" \"none\" {\n  name = \"prod/none\"\n}\n\n\
           resource \"aws_secretsmanager_secret_version\" \"none\" {\n  secret_id = aws_secretsmanager_secret.none.id\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let both = not_converted(&notes, "both");
    assert!(
        both.ends_with(
            "`aws_secretsmanager_secret_version.both` sets both `secret_string` and `secret_binary`; to convert it, \
             keep the one that holds the value the secret is to keep, remove the other and migrate again"
        ),
        "{both}"
    );
    let none = not_converted(&notes, "none");
    assert!(
        none.ends_with(
            "`aws_secretsmanager_secret_version.none` sets neither `secret_string` nor `secret_binary`; to convert \
             it, set the value it holds in `secret_string` (or `secret_binary`) there, and migrate again"
        ),
        "{none}"
    );
    // The steps work: one value each, and both pairs convert.
    let followed = main.replace("  secret_binary = var.bin\n", "").replace(
        "secret_id = aws_secretsmanager_secret.none.id\n",
        "secret_id     = aws_secretsmanager_secret.none.id\n  secret_string = var.pw\n",
    );
    assert_converts(&followed, "both");
    assert_converts(&followed, "none");
}

/// Real-world run (cloudposse-style modules of the `count` era): a version with `secret_id =
/// join("", aws_secretsmanager_secret.N.*.id)` sets the secret's value, but the secret got the
/// note that no version sets one, that it could stay, and how to replace it by hand (which
/// would leave the version naming a resource that is gone). The note now names the version and
/// says which `secret_id` converts; written so, the pair converts.
#[test]
fn a_version_naming_its_secret_through_a_splat_is_named_not_missing() {
    let main = "resource \"aws_secretsmanager_secret\" \"a\" {\n  count = var.on ? 1 : 0\n  name  = \"prod/a\"\n}\n\n\
                resource \"aws_secretsmanager_secret_version\" \"a\" {\n  count         = var.on ? 1 : 0\n  secret_id     = join(\"\", aws_secretsmanager_secret.a.*.id)\n  secret_string = var.pw\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", main)]);
    let notes = info_notes(&plan);
    let a = not_converted(&notes, "a");
    assert!(!a.contains("no `aws_secretsmanager_secret_version`"), "{a}");
    for part in [
        "`aws_secretsmanager_secret_version.a` (at ",
        "main.tf:8) sets its value, but its `secret_id` names it in a form migrate does not follow",
        "`secret_id = aws_secretsmanager_secret.a[count.index].id` with the secret's `count`",
    ] {
        assert!(a.contains(part), "{a}");
    }
    // The step works.
    assert_converts(
        &main.replace(
            "join(\"\", aws_secretsmanager_secret.a.*.id)",
            "aws_secretsmanager_secret.a[count.index].id",
        ),
        "a",
    );
}

/// Review of d50dd24: `secret_id` takes the secret's name as well as its ARN, and a version
/// naming its secret by `aws_secretsmanager_secret.N.name` got the note that its `secret_id` is
/// in a form migrate does not follow (the pair stayed, the version was rewritten on its own). It
/// pairs now, by `.name` as by `.id`. And a `for_each` secret whose version names it through
/// `one([...])` was told to write `[count.index]` with the secret's `count`, which it has not:
/// the step now follows the secret's repetition (`[each.key]`), and written so, the pair converts.
#[test]
fn a_version_naming_its_secret_by_name_pairs_and_the_step_follows_the_secrets_for_each() {
    let by_name = "resource \"aws_secretsmanager_secret\" \"a\" {\n  name = \"prod/a\"\n}\n\n\
                   resource \"aws_secretsmanager_secret_version\" \"a\" {\n  secret_id     = aws_secretsmanager_secret.a.name\n  secret_string = var.pw\n}\n";
    assert_converts(by_name, "a");
    let each = "resource \"aws_secretsmanager_secret\" \"a\" {\n  for_each = toset([\"x\", \"y\"])\n  name     = \"prod/${each.key}\"\n}\n\n\
                resource \"aws_secretsmanager_secret_version\" \"a\" {\n  for_each      = toset([\"x\", \"y\"])\n  secret_id     = one([aws_secretsmanager_secret.a[each.key].id])\n  secret_string = var.pw\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", each)]);
    let notes = info_notes(&plan);
    let a = not_converted(&notes, "a");
    assert!(
        a.contains(
            "`secret_id = aws_secretsmanager_secret.a[each.key].id` with the secret's `for_each`"
        ) && !a.contains("count"),
        "{a}"
    );
    assert_converts(
        &each.replace(
            "one([aws_secretsmanager_secret.a[each.key].id])",
            "aws_secretsmanager_secret.a[each.key].id",
        ),
        "a",
    );
}

#[test]
fn a_secret_without_a_version_says_it_can_stay_or_how_to_move_it_by_hand() {
    let main = "resource \"aws_secretsmanager_secret\" \"lone\" {\n  name = \"prod/lone\"\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", main)]);
    let notes = info_notes(&plan);
    let lone = not_converted(&notes, "lone");
    assert!(
        lone.ends_with(
            "no `aws_secretsmanager_secret_version` in this module sets its value, so the secret's state holds none (hashicorp/aws keeps no value in it) and it can stay as it \
             is; to have offstate manage it anyway, replace it by hand with a `resource \"offstate_secret\" \"lone\"` \
             with the same arguments and no `value_wo` (offstate then leaves the value alone) and a `moved { from = \
             aws_secretsmanager_secret.lone to = offstate_secret.lone }` block, and read `offstate_secret.lone.arn` \
             where `aws_secretsmanager_secret.lone.id` or `.arn` is read"
        ),
        "{lone}"
    );
    // Done by hand, migrate leaves it alone and says nothing more of it.
    let by_hand = "resource \"offstate_secret\" \"lone\" {\n  name = \"prod/lone\"\n}\n\n\
                   moved {\n  from = aws_secretsmanager_secret.lone\n  to   = offstate_secret.lone\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", by_hand)]);
    assert!(
        info_notes(&plan).iter().all(|n| !n.contains("lone")),
        "{:#?}",
        info_notes(&plan)
    );
    assert!(!text.contains("aws_secretsmanager_secret"), "{text}");
}

#[test]
fn a_value_that_reads_the_secret_says_to_write_what_it_reads() {
    let main = "resource \"aws_secretsmanager_secret\" \"regional\" {\n  for_each = var.regions\n  name     = \"prod/${each.key}/endpoint\"\n}\n\n\
                resource \"aws_secretsmanager_secret_version\" \"regional\" {\n  for_each  = aws_secretsmanager_secret.regional\n  secret_id = each.value.id\n  secret_string = jsonencode({\n    name  = each.value.name\n    token = var.tokens[each.key]\n  })\n}\n\n"
        .to_owned()
        + &pair_with(
            "described",
            "",
            "",
            "jsonencode({ secret = aws_secretsmanager_secret.described.name, key = var.pw })",
        );
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let regional = not_converted(&notes, "regional");
    assert!(
        regional.ends_with(
            "to convert it, write in place of each `each.value.<attribute>` in the value what the secret sets that \
             attribute to (its `name` expression, say, with `each.key`: the version's instances have the secret's \
             keys), and migrate again"
        ),
        "{regional}"
    );
    let described = not_converted(&notes, "described");
    assert!(
        described.ends_with(
            "which would be `offstate_secret.described` reading itself (Terraform refuses a self-reference); to \
             convert it, write in place of that reference what the secret sets it to (its `name` expression, say; \
             an `arn` or `id` only as the literal ARN it has now), or remove it, and migrate again"
        ),
        "{described}"
    );
    // The steps work: the name written as the secret sets it, both pairs convert.
    let followed = main
        .replace("each.value.name", "\"prod/${each.key}/endpoint\"")
        .replace(
            "aws_secretsmanager_secret.described.name",
            "\"prod/described\"",
        );
    assert_converts(&followed, "regional");
    assert_converts(&followed, "described");
}

#[test]
fn a_replace_triggered_by_naming_the_pair_says_to_take_it_out_until_applied() {
    let main = pair_with("db", "", "", "var.pw")
        + "resource \"terraform_data\" \"restart\" {\n  input = \"x\"\n\n  lifecycle {\n    replace_triggered_by = [aws_secretsmanager_secret_version.db]\n  }\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let db = not_converted(&notes, "db");
    assert!(
        db.contains("names it, and the apply that converts it would replace that resource; to convert it, remove that reference from `replace_triggered_by` (and the argument, when nothing is left in it), migrate again and apply; then, if a change of the value is still to replace that resource, add `offstate_secret.db` there (a new `value_wo_version` updates it)"),
        "{db}"
    );
    // The step works: without the reference, the pair converts.
    let followed = main.replace(
        "\n\n  lifecycle {\n    replace_triggered_by = [aws_secretsmanager_secret_version.db]\n  }\n",
        "\n",
    );
    assert_converts(&followed, "db");
}

#[test]
fn an_offstate_secret_of_the_same_name_says_to_rename_the_pair() {
    let main = pair_with("db", "", "", "var.pw")
        + "resource \"offstate_secret\" \"db\" {\n  name = \"prod/other\"\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let db = not_converted(&notes, "db");
    assert!(
        db.ends_with(
            "`offstate_secret.db` is declared already; to convert it, rename the pair by hand: give \
             `aws_secretsmanager_secret.db` and its version a name no `offstate_secret` has, in their labels and in \
             every reference, with a `moved { from = aws_secretsmanager_secret.db to = \
             aws_secretsmanager_secret.<new name> }` block and one for the version, apply (it only moves the \
             state), remove those `moved` blocks, and migrate again"
        ),
        "{db}"
    );
    // The step works: renamed (and applied, its `moved` blocks removed), the pair converts.
    let followed = main
        .replace(
            "\"aws_secretsmanager_secret\" \"db\"",
            "\"aws_secretsmanager_secret\" \"app\"",
        )
        .replace(
            "\"aws_secretsmanager_secret_version\" \"db\"",
            "\"aws_secretsmanager_secret_version\" \"app\"",
        )
        .replace(
            "aws_secretsmanager_secret.db.id",
            "aws_secretsmanager_secret.app.id",
        );
    assert_converts(&followed, "app");
}

#[test]
fn a_random_password_not_repeated_like_the_secret_says_how_to_repeat_it() {
    let secret = |name: &str, repeat: &str, index: &str, password: &str| {
        format!(
            "resource \"aws_secretsmanager_secret\" \"{name}\" {{\n{repeat}  name = \"prod/{name}-${{{index}}}\"\n}}\n\n\
             resource \"aws_secretsmanager_secret_version\" \"{name}\" {{\n{repeat}  secret_id     = aws_secretsmanager_secret.{name}[{index}].id\n  secret_string = {password}\n}}\n\n"
        )
    };
    let main = "resource \"random_password\" \"shared\" {\n  length = 24\n}\n\n".to_owned()
        + &secret(
            "shared",
            "  count = 2\n",
            "count.index",
            "random_password.shared.result",
        )
        + "resource \"random_password\" \"keyed\" {\n  for_each = var.other\n  length   = 24\n}\n\n"
        + &secret(
            "keyed",
            "  for_each = var.names\n",
            "each.key",
            "random_password.keyed[each.key].result",
        )
        + "resource \"random_password\" \"single\" {\n  length = 24\n}\n\n"
        + &pair_with("single", "", "", "random_password.single[0].result");
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let shared = not_generate(&notes, "shared");
    assert!(
        shared.contains("one password feeds every instance of `aws_secretsmanager_secret.shared`")
            && shared.ends_with(
                "give `random_password.shared` the `count` of `aws_secretsmanager_secret.shared` and read \
                 `random_password.shared[count.index].result` in the value and run migrate again before `--write`, \
                 or after undoing it: migrate makes `generate` only while it converts the pair; the converting \
                 apply keeps each instance's current value, and a later change of `generate` writes a new one per \
                 instance"
            ),
        "{shared}"
    );
    let keyed = not_generate(&notes, "keyed");
    assert!(
        keyed.contains("it is not repeated like `aws_secretsmanager_secret.keyed` (`for_each`)")
            && keyed.contains(
                "give `random_password.keyed` the `for_each` of `aws_secretsmanager_secret.keyed` (the same \
                 expression) and read `random_password.keyed[each.key].result` in the value"
            ),
        "{keyed}"
    );
    let single = not_generate(&notes, "single");
    assert!(
        single.contains(
            "the value indexes it, which Terraform refuses too for a resource without `count` or `for_each`"
        ) && single.contains(
            "read `random_password.single.result` in the value, with neither `count` nor `for_each` on \
             `random_password.single`"
        ) && !single.contains("each instance's current value"),
        "{single}"
    );
    // The steps work: repeated like the secret (or not indexed), every password becomes `generate`.
    let followed = main
        .replace(
            "resource \"random_password\" \"shared\" {\n",
            "resource \"random_password\" \"shared\" {\n  count  = 2\n",
        )
        .replace(
            "random_password.shared.result",
            "random_password.shared[count.index].result",
        )
        .replace("for_each = var.other", "for_each = var.names")
        .replace(
            "random_password.single[0].result",
            "random_password.single.result",
        );
    assert_generates(&followed, 3);
}

#[test]
fn a_json_field_generate_cannot_hold_says_what_to_change() {
    let main = "resource \"random_password\" \"cache\" {\n  length = 24\n}\n\n".to_owned()
        + &pair_with(
            "cache",
            "",
            "",
            "jsonencode({ host = \"cache.internal\", port = 6379, password = random_password.cache.result })",
        )
        + "resource \"random_password\" \"keyed\" {\n  length = 24\n}\n\n"
        + &pair_with(
            "keyed",
            "",
            "",
            "jsonencode({ api_token = \"abc\", password = random_password.keyed.result })",
        )
        + "resource \"random_password\" \"admin\" {\n  length = 24\n}\n\n"
        + &pair_with(
            "admin",
            "",
            "",
            "jsonencode({ password = random_password.admin.result, root = random_password.twice.result })",
        )
        + "resource \"random_password\" \"twice\" {\n  length = 24\n}\n\n"
        + &pair_with(
            "twice",
            "",
            "",
            "jsonencode({ password = random_password.twice.result, old_password = random_password.twice.result })",
        );
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let cache = not_generate(&notes, "cache");
    assert!(
        cache.contains(
            "To have offstate generate the password (nothing of it in the state), write `port` as a string literal \
             of its value (when it does not change; a number or `true`/`false` then reads as a JSON string, which \
             whatever reads the secret must accept), or take it out of the `jsonencode` object and run migrate again"
        ),
        "{cache}"
    );
    let keyed = not_generate(&notes, "keyed");
    assert!(
        keyed.contains(
            "the `jsonencode` field `api_token` looks secret, and `json_template` keeps it in the state; `value_wo` \
             takes its result instead. To have offstate generate the password (nothing of it in the state), take \
             `api_token` out of the `jsonencode` object (into a secret of its own, say) and run migrate again"
        ),
        "{keyed}"
    );
    let twice = not_generate(&notes, "twice");
    assert!(
        twice.contains(
            "it appears more than once in the value; `value_wo` takes its result instead. To have offstate \
             generate the password (nothing of it in the state), keep it in one field of the `jsonencode` object \
             (`generate` puts the password at one `json_key`; read that field where the others were read) and run \
             migrate again"
        ),
        "{twice}"
    );
    let admin = not_generate(&notes, "admin");
    assert!(
        admin.contains(
            "the `jsonencode` field `root` holds another password, `random_password.twice`; `value_wo` takes its \
             result instead. To have offstate generate the password (nothing of it in the state), move `root` into \
             a secret of its own (`generate` makes one password per secret) and run migrate again"
        ),
        "{admin}"
    );
    // The steps work: a string `port`, no `api_token`, one `password` field, `root` moved out:
    // four `generate`s.
    let followed = main
        .replace("port = 6379", "port = \"6379\"")
        .replace("api_token = \"abc\", ", "")
        .replace(", old_password = random_password.twice.result", "")
        .replace(", root = random_password.twice.result", "");
    assert_generates(&followed, 4);
}

#[test]
fn a_secret_policy_not_folded_says_what_to_change() {
    let policy = |pname: &str, secret: &str, extra: &str, doc: &str| {
        format!(
            "resource \"aws_secretsmanager_secret_policy\" \"{pname}\" {{\n  secret_arn = aws_secretsmanager_secret.{secret}.arn\n  policy     = {doc}\n{extra}}}\n\n"
        )
    };
    let doc = "jsonencode({ Version = \"2012-10-17\", Statement = [] })";
    let selfdoc = "jsonencode({ Version = \"2012-10-17\", Statement = [{ Effect = \"Deny\", Principal = \"*\", Action = \"*\", Resource = aws_secretsmanager_secret.selfref.arn }] })";
    let main = pair_with("both", "  policy = var.policy\n", "", "var.pw")
        + &policy("both", "both", "", doc)
        + &pair_with("extra", "", "", "var.pw")
        + &policy(
            "extra",
            "extra",
            "  provider   = aws.primary\n\n  lifecycle {\n    prevent_destroy = true\n  }\n",
            doc,
        )
        + &pair_with("named", "", "", "var.pw")
        + &policy("named", "named", "", doc)
        + "resource \"terraform_data\" \"after\" {\n  input      = \"x\"\n  depends_on = [aws_secretsmanager_secret_policy.named]\n}\n\n"
        + &pair_with("selfref", "", "", "var.pw")
        + &policy("selfref", "selfref", "", selfdoc)
        + &pair_with("two", "", "", "var.pw")
        + &policy("two_a", "two", "", doc)
        + &policy("two_b", "two", "", doc);
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let stays = |pname: &str| {
        notes
            .iter()
            .find(|n| n.starts_with(&format!("`aws_secretsmanager_secret_policy.{pname}` stays")))
            .copied()
            .unwrap_or_else(|| panic!("{pname}: {notes:#?}"))
    };
    let both = stays("both");
    assert!(
        both.ends_with(
            "`aws_secretsmanager_secret.both` sets `policy` too, and the two replace each other's policy; to fold \
             it, remove `policy` from `aws_secretsmanager_secret.both` (keeping the policy you mean in \
             `aws_secretsmanager_secret_policy.both`) and migrate again"
        ),
        "{both}"
    );
    let extra = stays("extra");
    assert!(
        extra.contains(
            "it sets `provider`, which `offstate_secret` does not take; to fold it, remove `provider` and migrate again"
        ) && extra.ends_with(
            "it has a `lifecycle` block, which migrate does not carry into `offstate_secret`; to fold it, remove \
             the `lifecycle` block and migrate again"
        ),
        "{extra}"
    );
    let named = stays("named");
    assert!(
        named.contains(
            "it is named in `terraform_data.after.depends_on`, and folded it would be a `removed` block; to fold \
             it, name `aws_secretsmanager_secret.named` there in its place (its policy is then set with the secret) \
             or remove that use, and migrate again"
        ),
        "{named}"
    );
    let selfref = stays("selfref");
    assert!(
        selfref.ends_with(
            "which would be `offstate_secret.selfref` reading itself; to fold it, write `\"*\"` in place of that \
             reference (in a secret's resource policy, `Resource = \"*\"` is the secret itself) and migrate again"
        ),
        "{selfref}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with(
            "2 `aws_secretsmanager_secret_policy` resources attach to `aws_secretsmanager_secret.two`"
        ) && n.ends_with(
            "a secret has one resource policy, which each of them replaces in turn: to fold it into `policy`, merge \
             their statements into one of them, replace each other one by a `removed { from = \
             aws_secretsmanager_secret_policy.<name> lifecycle { destroy = false } }` block, and migrate again"
        )),
        "{notes:#?}"
    );
    // The steps work: every policy is folded.
    let followed = main
        .replacen("  policy = var.policy\n", "", 1)
        .replace("  provider   = aws.primary\n\n  lifecycle {\n    prevent_destroy = true\n  }\n", "")
        .replace(
            "depends_on = [aws_secretsmanager_secret_policy.named]",
            "depends_on = [aws_secretsmanager_secret.named]",
        )
        .replace("Resource = aws_secretsmanager_secret.selfref.arn", "Resource = \"*\"")
        .replace(
            &policy("two_b", "two", "", doc),
            "removed {\n  from = aws_secretsmanager_secret_policy.two_b\n\n  lifecycle {\n    destroy = false\n  }\n}\n\n",
        );
    let (plan, text, _dir) = migrate_main(&[("main.tf", &followed)]);
    for pname in ["both", "extra", "named", "selfref", "two_a"] {
        assert!(
            text.contains(&format!(
                "from = aws_secretsmanager_secret_policy.{pname}\n"
            )) && !text.contains(&format!("\"aws_secretsmanager_secret_policy\" \"{pname}\"")),
            "{pname}: {text}\n{:#?}",
            info_notes(&plan)
        );
    }
}

#[test]
fn a_secret_policy_reading_each_value_of_the_secret_says_what_to_write() {
    let main = "resource \"aws_secretsmanager_secret\" \"app\" {\n  for_each = var.apps\n  name     = \"prod/${each.key}\"\n}\n\n\
                resource \"aws_secretsmanager_secret_version\" \"app\" {\n  for_each      = aws_secretsmanager_secret.app\n  secret_id     = each.value.id\n  secret_string = var.pw[each.key]\n}\n\n\
                resource \"aws_secretsmanager_secret_policy\" \"app\" {\n  for_each   = aws_secretsmanager_secret.app\n  secret_arn = each.value.arn\n  policy     = jsonencode({ Version = \"2012-10-17\", Statement = [{ Effect = \"Deny\", Principal = \"*\", Action = \"*\", Resource = each.value.arn }] })\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", main)]);
    let notes = info_notes(&plan);
    assert!(
        notes.iter().any(|n| n.starts_with("`aws_secretsmanager_secret_policy.app` stays")
            && n.contains(
                "its `policy` uses `each.value`, which is the secret's instance there and would be an element of \
                 its `for_each` in `offstate_secret`; to fold it, write in place of each `each.value.<attribute>` in \
                 the policy what the secret sets that attribute to (for its `arn` as a statement's `Resource`, \
                 `\"*\"`, which is the secret itself), and migrate again"
            )),
        "{notes:#?}"
    );
    // The step works: `Resource = "*"`, and the policy is folded.
    let followed = main.replace("Resource = each.value.arn", "Resource = \"*\"");
    let (plan, text, _dir) = migrate_main(&[("main.tf", &followed)]);
    assert!(
        text.contains("from = aws_secretsmanager_secret_policy.app\n"),
        "{text}\n{:#?}",
        info_notes(&plan)
    );
}

#[test]
fn a_value_generate_cannot_read_says_what_form_to_give_it() {
    let main = "resource \"random_password\" \"wrapped\" {\n  length = 24\n}\n\n".to_owned()
        + &pair_with("wrapped", "", "", "\"${random_password.wrapped.result}\"")
        + "resource \"random_password\" \"local\" {\n  length = 24\n}\n\n"
        + &pair_with(
            "local",
            "",
            "",
            "jsonencode(merge(var.extra, { password = random_password.local.result }))",
        )
        + "resource \"random_password\" \"keyexpr\" {\n  length = 24\n}\n\n"
        + &pair_with(
            "keyexpr",
            "",
            "",
            "jsonencode({ (var.key) = random_password.keyexpr.result })",
        );
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let wrapped = not_generate(&notes, "wrapped");
    assert!(
        wrapped.contains(
            "To have offstate generate the password (nothing of it in the state), set the value to \
             `random_password.wrapped.result` itself (with `[count.index]` or `[each.key]` before `.result` when \
             repeated), or to a `jsonencode({ ... })` with it as one field, when whatever reads the secret takes \
             that form and run migrate again"
        ),
        "{wrapped}"
    );
    let local = not_generate(&notes, "local");
    assert!(
        local.contains(
            "`jsonencode` is not given an object; `value_wo` takes its result instead. To have offstate generate \
             the password (nothing of it in the state), write the object in the value itself, `jsonencode({ ... \
             })`, with the password as one field and run migrate again"
        ),
        "{local}"
    );
    let keyexpr = not_generate(&notes, "keyexpr");
    assert!(
        keyexpr.contains(
            "a key of the `jsonencode` object is an expression; `value_wo` takes its result instead. To have \
             offstate generate the password (nothing of it in the state), write each key of the object as a name \
             or a quoted string and run migrate again"
        ),
        "{keyexpr}"
    );
    // The steps work: the bare result, the object in the value and a quoted key all become
    // `generate`.
    let followed = main
        .replace(
            "\"${random_password.wrapped.result}\"",
            "random_password.wrapped.result",
        )
        .replace("(var.key)", "\"password\"")
        .replace(
            "jsonencode(merge(var.extra, { password = random_password.local.result }))",
            "jsonencode({ user = \"app\", password = random_password.local.result })",
        );
    assert_generates(&followed, 3);
}

#[test]
fn what_an_override_or_tf_json_file_mentions_says_to_move_it_into_a_tf_file() {
    let main = pair_with("db", "", "", "var.pw");
    let over = "resource \"aws_secretsmanager_secret\" \"db\" {\n  description = \"orders\"\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", &main), ("main_override.tf", over)]);
    let notes = info_notes(&plan);
    let db = not_converted(&notes, "db");
    assert!(
        db.ends_with(
            "`main_override.tf` mentions it, and migrate does not rewrite override, `.tf.json` or OpenTofu \
             (`.tofu`, `.tofu.json`) files; to change it, move what `main_override.tf` says of it into a `.tf` file (an override's arguments into the block \
             they override, where they replace what it sets; a `.tf.json` block written as HCL) and migrate again"
        ),
        "{db}"
    );
    // The step works: the override's `description` in the secret's block, the pair converts.
    let followed = main.replace(
        "  name = \"prod/db\"\n",
        "  name        = \"prod/db\"\n  description = \"orders\"\n",
    );
    assert_converts(&followed, "db");

    // generate says it as its step, before `--write`.
    let main = "resource \"random_password\" \"db\" {\n  length = 24\n}\n\n".to_owned()
        + &pair_with("db", "", "", "random_password.db.result");
    let json = "{\"output\": {\"len\": {\"value\": \"${length(random_password.db.result)}\", \"sensitive\": true}}}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", &main), ("outputs.tf.json", json)]);
    let notes = info_notes(&plan);
    let db = not_generate(&notes, "db");
    assert!(
        db.contains(
            "`outputs.tf.json` mentions it, and migrate does not rewrite override, `.tf.json` or OpenTofu \
             (`.tofu`, `.tofu.json`) files; `value_wo` takes its result instead. To have offstate generate the password (nothing of it in the state), move \
             what `outputs.tf.json` says of it into a `.tf` file"
        ),
        "{db}"
    );
}

#[test]
fn what_an_opentofu_file_mentions_is_left_alone() {
    // OpenTofu (1.8+) reads `.tofu` and `.tofu.json` files beside the `.tf` ones; Terraform
    // ignores them. An output there reading the password would get null, and a non-ephemeral
    // output of an ephemeral variable is an error, so neither the argument nor the variable
    // may change while migrate does not read those files.
    let main = "variable \"pw\" {\n  type      = string\n  sensitive = true\n}\n\n\
                resource \"aws_db_instance\" \"a\" {\n  username = \"app\"\n  password = var.pw\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert!(
        text.contains("password_wo") && text.contains("ephemeral = true"),
        "{text}"
    );

    let outputs =
        "output \"pw\" {\n  value     = aws_db_instance.a.password\n  sensitive = true\n}\n\n\
                   output \"raw\" {\n  value     = var.pw\n  sensitive = true\n}\n";
    let json = "{\"output\": {\"pw\": {\"value\": \"${aws_db_instance.a.password}\", \"sensitive\": true}, \
                \"raw\": {\"value\": \"${var.pw}\", \"sensitive\": true}}}\n";
    for (name, other) in [("outputs.tofu", outputs), ("outputs.tofu.json", json)] {
        let (plan, text, _dir) = migrate_main(&[("main.tf", main), (name, other)]);
        assert!(text.is_empty(), "{name}: {text}");
        let notes = info_notes(&plan);
        let expected = format!(
            "`{name}` mentions it, and migrate does not rewrite override, `.tf.json` or OpenTofu (`.tofu`, \
             `.tofu.json`) files; to change it, move what `{name}` says of it into a `.tf` file (OpenTofu reads \
             those too; remove a `.tofu` file that stands in for the `.tf` file of its name, or change it by hand \
             as migrate changes that one) and migrate again"
        );
        assert!(
            notes.iter().any(
                |n| n.starts_with("`aws_db_instance.a.password` left as it is")
                    && n.ends_with(&expected)
            ),
            "{name}: {notes:#?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("`var.pw` not made ephemeral")
                    && n.contains(&format!("`{name}`"))),
            "{name}: {notes:#?}"
        );
    }
    drop(plan);

    // `override.tofu` is an override file, and a `.tofu` file's `required_providers` is the
    // module's one for OpenTofu: migrate adds no second one in a `.tf` file.
    assert!(crate::module::is_override("override.tofu"));
    assert!(crate::module::is_override("db_override.tofu.json"));
    let versions =
        "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\" }\n  }\n}\n";
    let (plan, text, _dir) = migrate_main(&[
        ("main.tf", &pair_with("db", "", "", "var.pw")),
        ("versions.tofu", versions),
    ]);
    assert!(!text.contains("required_providers"), "{text}");
    let notes = info_notes(&plan);
    assert!(
        notes.iter().any(|n| n.contains(
            "`versions.tofu` holds this module's `required_providers`, which migrate does not rewrite"
        ) && n.contains("add `offstate = { source = \"offstate/offstate\" }` there")),
        "{notes:#?}"
    );
}

#[test]
fn a_value_reading_another_password_in_its_index_says_what_to_do() {
    let main = "resource \"random_password\" \"idx\" {\n  length = 24\n}\n\n\
                resource \"random_password\" \"other\" {\n  length = 4\n}\n\n"
        .to_owned()
        + &pair_with(
            "idx",
            "",
            "",
            "random_password.idx[length(random_password.other.result) - 4].result",
        );
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let notes = info_notes(&plan);
    let idx = not_generate(&notes, "idx");
    assert!(
        idx.contains(
            "the value reads `random_password` more than once; `value_wo` takes its result instead. To have \
             offstate generate the password (nothing of it in the state), make the value read \
             `random_password.idx.result` alone (no other `random_password`, in an index neither; index it with \
             `count.index` or `each.key` only, when repeated) and run migrate again"
        ),
        "{idx}"
    );
}

/// Real modules write `master_password = var.managed ? null : var.pw` (a replica, an AWS-managed
/// password). The version trigger requires its write-only value (hashicorp/aws: `RequiredWith`
/// both ways), so on the null branch the trigger must be null too, or the provider refuses the
/// configuration the old form accepted.
#[test]
fn a_value_null_on_a_branch_gets_a_version_null_on_that_branch() {
    let main = "variable \"managed\" {\n  type = bool\n}\n\nvariable \"replica\" {\n  type = bool\n}\n\n\
                variable \"pw\" {\n  type      = string\n  sensitive = true\n}\n\n\
                resource \"aws_rds_cluster\" \"c\" {\n  master_password = var.managed ? null : var.pw\n}\n\n\
                resource \"aws_db_instance\" \"db\" {\n  password = (var.replica || var.managed) ? null : (var.pw)\n}\n\n\
                resource \"aws_docdb_cluster\" \"d\" {\n  master_password = (var.managed ? var.pw : null)\n}\n\n\
                resource \"aws_redshift_cluster\" \"r\" {\n  master_password = var.managed ? null : var.replica ? null : var.pw\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    for expected in [
        "  master_password_wo         = var.managed ? null : var.pw\n  master_password_wo_version = var.managed ? null : 1\n",
        "  password_wo         = (var.replica || var.managed) ? null : (var.pw)\n  password_wo_version = (var.replica || var.managed) ? null : 1\n",
        "  master_password_wo         = (var.managed ? var.pw : null)\n  master_password_wo_version = var.managed ? 1 : null\n",
        "  master_password_wo         = var.managed ? null : var.replica ? null : var.pw\n  master_password_wo_version = var.managed ? null : (var.replica ? null : 1)\n",
    ] {
        assert!(text.contains(expected), "{expected}\nnot in\n{text}");
    }
    // The condition, now also in a plain argument, must not become ephemeral; the value may.
    let vars = |name: &str| {
        let start = text
            .find(&format!("variable \"{name}\""))
            .expect("declared");
        text[start..start + text[start..].find("\n}\n").expect("closed")].to_owned()
    };
    assert!(!vars("managed").contains("ephemeral"), "{text}");
    assert!(!vars("replica").contains("ephemeral"), "{text}");
    assert!(vars("pw").contains("ephemeral = true"), "{text}");
    // A condition on the value itself stops it from becoming ephemeral, and the note says why.
    let main = "variable \"pw\" {\n  type      = string\n  sensitive = true\n}\n\n\
                resource \"aws_rds_cluster\" \"c\" {\n  master_password = var.pw == \"\" ? null : var.pw\n}\n";
    let (plan2, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert!(
        text.contains("  master_password_wo_version = var.pw == \"\" ? null : 1\n")
            && !text.contains("ephemeral"),
        "{text}"
    );
    let said = plan2
        .warnings
        .iter()
        .map(|w| &w.message)
        .chain(plan2.notes.iter().map(|n| &n.message))
        .find(|m| m.contains("`var.pw` not made ephemeral"))
        .cloned()
        .unwrap_or_default();
    assert!(
        said.contains("it is used in the condition of `aws_rds_cluster.c.master_password_wo` at ")
            && said.contains("which `master_password_wo_version` repeats and is not write-only"),
        "{said}"
    );
    assert!(plan
        .warnings
        .iter()
        .all(|w| !w.message.contains("not made ephemeral")));
}

/// A version trigger repeats the condition of its value; a literal the value is compared with
/// there is masked in the diff as it is on the value's own line.
#[test]
fn a_condition_copied_into_a_trigger_is_masked_in_the_diff() {
    let secret_like = ["lit", "eral-", "fixture-value"].concat();
    let input = format!(
        "resource \"aws_rds_cluster\" \"c\" {{\n  master_password = var.pw == \"{secret_like}\" ? null : var.pw\n}}\n"
    );
    let (plan, text, _dir) = migrate_main(&[("main.tf", &input)]);
    assert!(
        text.contains("master_password_wo_version = var.pw == \""),
        "unexpected rewrite (not shown: it may hold a planted value)"
    );
    let diff = plan.unified_diff(&|_, _| false);
    assert!(
        diff.contains("+  master_password_wo_version = var.pw == \"***\" ? null : 1"),
        "unexpected diff (not shown: it may hold a planted value)"
    );
    assert!(
        !diff.contains(&secret_like),
        "the diff prints the secret-like literal"
    );
}

/// A module that reads a migrated attribute through the whole resource (`[for p in T.N : p.value]`,
/// `values(T.N)`, an output of the instance) would silently get null there: the attribute is left
/// alone, as for a direct `T.N.value`. Iterating for other attributes, counting instances,
/// `depends_on` and `moved` do not read it.
#[test]
fn a_whole_resource_use_that_may_read_the_value_keeps_the_plain_form() {
    let param = |name: &str| {
        format!(
            "resource \"aws_ssm_parameter\" \"{name}\" {{\n  for_each = var.params\n  name     = each.key\n  type     = \"SecureString\"\n  value    = each.value\n}}\n\n"
        )
    };
    let readers = [
        ("for_value", "output \"o\" {\n  value     = [for p in aws_ssm_parameter.for_value : p.value]\n  sensitive = true\n}\n"),
        ("for_whole", "output \"o\" {\n  value     = { for k, p in aws_ssm_parameter.for_whole : k => p }\n  sensitive = true\n}\n"),
        ("values", "output \"o\" {\n  value     = values(aws_ssm_parameter.values)[*].value\n  sensitive = true\n}\n"),
        ("output", "output \"o\" {\n  value     = aws_ssm_parameter.output\n  sensitive = true\n}\n"),
        ("local", "locals {\n  all = aws_ssm_parameter.local\n}\n"),
    ];
    for (name, reader) in readers {
        let main = param(name) + reader;
        let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
        assert!(rewritten(&plan, "main.tf").is_none(), "{name}: {plan:#?}");
        assert!(
            plan.notes.iter().any(|n| n.message.starts_with(&format!(
                "`aws_ssm_parameter.{name}.value` left as it is: the whole `aws_ssm_parameter.{name}` is used in "
            )) && n.message.contains("which may read `value` of it, and `value` is null once the value is write-only; \
                to make it write-only, read the attributes needed there in place of the whole resource")),
            "{name}: {:#?}",
            plan.notes
        );
    }
    let harmless = [
        ("for_arn", "output \"o\" {\n  value = [for p in aws_ssm_parameter.for_arn : p.arn]\n}\n"),
        ("for_key", "output \"o\" {\n  value = { for k, p in aws_ssm_parameter.for_key : k => p.arn if p.name != \"\" }\n}\n"),
        ("length", "output \"o\" {\n  value = length(aws_ssm_parameter.length)\n}\n"),
        ("splat", "output \"o\" {\n  value = values(aws_ssm_parameter.splat)[*].arn\n}\n"),
        ("dep", "resource \"null_resource\" \"n\" {\n  depends_on = [aws_ssm_parameter.dep]\n}\n"),
        ("moved", "moved {\n  from = aws_ssm_parameter.old\n  to   = aws_ssm_parameter.moved\n}\n"),
    ];
    for (name, reader) in harmless {
        let main = param(name) + reader;
        let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
        assert!(
            rewritten(&plan, "main.tf")
                .is_some_and(|t| t.contains("  value_wo         = each.value\n")),
            "{name}: {plan:#?}"
        );
    }
}

/// Terraform accepts an object that sets a key twice (the last one wins; terraform-google-modules'
/// sql-db examples do it); hcl-edit refuses it, and migrate stopped with exit 2 on the whole tree.
/// The file is now read with the repeated key renamed for the parser only (same length, so every
/// offset holds), its text kept, and a note names the place.
#[test]
fn an_object_key_given_twice_is_read_as_terraform_reads_it() {
    let main = "locals {\n  replicas = [\n    {\n      name = \"a\"\n      key  = null\n      key  = \"k\"\n      \"q\" = 1\n      \"q\" = 2\n      z = 1, z = 2, z = 3\n    },\n  ]\n}\n\n\
                resource \"aws_db_instance\" \"db\" {\n  password = var.pw\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert!(
        text.contains("  password_wo         = var.pw\n  password_wo_version = 1\n")
            && text.contains("      key  = null\n      key  = \"k\"\n      \"q\" = 1\n      \"q\" = 2\n      z = 1, z = 2, z = 3\n"),
        "{text}"
    );
    let lines: Vec<usize> = set_twice_notes(&plan).iter().map(|n| n.line).collect();
    assert_eq!(lines, vec![6, 8, 9, 9], "{:#?}", plan.notes);
    assert!(
        plan.notes.iter().any(|n| n.message
            == "`key` is set twice in one object (Terraform takes the last one); migrate read the file \
                all the same and left the object as it is: remove the one not meant"),
        "{:#?}",
        plan.notes
    );
    // Not valid all the same: a real parse error still stops with file, line and column.
    let (_, err) = {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("bad.tf"),
            "locals {\n  a = { k = 1, k = 2 \n",
        )
        .expect("write");
        (
            dir.path().to_owned(),
            plan_migration(dir.path(), &Options::default()).expect_err("broken"),
        )
    };
    assert!(err.to_string().contains("bad.tf:2:"), "{err}");
}

/// A value that may be null another way (`try(..., null)`, `lookup(..., null)`, a variable whose
/// default is null) cannot have a trigger of its own that is null with it without reading the
/// value in a plain argument: migrate writes `= 1` and warns, naming what to write.
#[test]
fn a_value_that_may_be_null_warns_about_its_trigger() {
    let main = "variable \"pw\" {\n  type      = string\n  default   = null\n  sensitive = true\n}\n\n\
                variable \"set\" {\n  type      = string\n  sensitive = true\n}\n\n\
                variable \"users\" {\n  type = any\n}\n\n\
                resource \"aws_db_instance\" \"a\" {\n  password = var.pw\n}\n\n\
                resource \"aws_redshift_cluster\" \"b\" {\n  master_password = try(var.users.passwords, null)\n}\n\n\
                resource \"aws_rds_cluster\" \"c\" {\n  master_password = lookup(var.users, \"pw\", null)\n}\n\n\
                resource \"aws_docdb_cluster\" \"d\" {\n  master_password = var.set\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert!(text.contains("  password_wo_version = 1\n"), "{text}");
    let warned = warnings_of(&plan, Hazard::TriggerWithoutValue);
    assert_eq!(warned.len(), 3, "{warned:#?}");
    assert!(
        warned[0]
            == "`aws_db_instance.a.password_wo` may be null (`var.pw` defaults to null), and the provider refuses \
                `password_wo_version` without it: where it is null, make `password_wo_version` null too, for example \
                `password_wo_version = var.pw == null ? null : 1` (what that reads then cannot become ephemeral), or \
                give it a value always",
        "{warned:#?}"
    );
    assert!(
        warned[1].contains("(`try` gives null)") && warned[2].contains("(`lookup` gives null)"),
        "{warned:#?}"
    );
    assert!(!warned.iter().any(|w| w.contains("aws_docdb_cluster")));
}

/// `aws_elasticache_user.passwords` is a set of (up to two) passwords; its twin `passwords_wo` is
/// one string. Copying the set into it was a type error Terraform refuses: a one-element list
/// gives its element, anything else is left with a note.
#[test]
fn a_set_of_passwords_becomes_its_one_password_or_stays() {
    let main = "resource \"aws_elasticache_user\" \"one\" {\n  user_id   = \"one\"\n  passwords = [var.pw] # rotated yearly\n}\n\n\
                resource \"aws_elasticache_user\" \"cond\" {\n  user_id   = \"cond\"\n  passwords = var.iam ? null : [ var.pw ]\n}\n\n\
                resource \"aws_elasticache_user\" \"two\" {\n  user_id   = \"two\"\n  passwords = [var.pw, var.next]\n}\n\n\
                resource \"aws_elasticache_user\" \"expr\" {\n  user_id   = \"expr\"\n  passwords = try(var.user.passwords, null)\n}\n\n\
                resource \"aws_elasticache_user\" \"commented\" {\n  user_id = \"commented\"\n  passwords = [\n    var.pw, # the new one\n  ]\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert!(
        text.contains(
            "  passwords_wo         = var.pw # rotated yearly\n  passwords_wo_version = 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  passwords_wo         = var.iam ? null : var.pw\n  passwords_wo_version = var.iam ? null : 1\n"),
        "{text}"
    );
    assert!(
        text.contains("  passwords = [var.pw, var.next]\n"),
        "{text}"
    );
    assert!(
        text.contains("  passwords = try(var.user.passwords, null)\n"),
        "{text}"
    );
    assert!(text.contains("    var.pw, # the new one\n"), "{text}");
    for name in ["two", "expr", "commented"] {
        assert!(
            plan.notes.iter().any(|n| n.message
                == format!(
                    "`aws_elasticache_user.{name}.passwords` left as it is: it is a set of passwords and `passwords_wo` \
                     takes one string; write `passwords_wo = <the password>` and `passwords_wo_version = 1` in its place \
                     by hand (of two passwords, the one to keep)"
                )),
            "{name}: {:#?}",
            plan.notes
        );
    }
}

/// hcl/tfe: a `tfe_variable` that is not `sensitive` is plain configuration (shown in the UI, and
/// read back through `readable_value`, which write-only makes ""): it stays, as a `String` SSM
/// parameter does. One whose `sensitive` is an expression and whose `readable_value` is read stays
/// too. With `sensitive = true`, `readable_value` is null already (hashicorp/terraform-provider-tfe's
/// docs: "`readable_value` will be null if the variable is sensitive"), so a read of it is no
/// reason to keep `value` plain.
#[test]
fn tfe_variables_that_are_not_sensitive_or_read_back_stay() {
    let main = "resource \"tfe_variable\" \"plain\" {\n  key          = \"region\"\n  value        = var.region\n  category     = \"terraform\"\n  workspace_id = var.ws\n}\n\n\
                resource \"tfe_variable\" \"off\" {\n  key          = \"zone\"\n  value        = var.zone\n  category     = \"terraform\"\n  workspace_id = var.ws\n  sensitive    = false\n}\n\n\
                resource \"tfe_variable\" \"read\" {\n  key          = \"name\"\n  value        = var.name\n  category     = \"terraform\"\n  workspace_id = var.ws\n  sensitive    = var.hide\n}\n\n\
                resource \"tfe_variable\" \"null\" {\n  key          = \"pin\"\n  value        = var.pin\n  category     = \"terraform\"\n  workspace_id = var.ws\n  sensitive    = true\n}\n\n\
                resource \"tfe_variable\" \"token\" {\n  key          = \"token\"\n  value        = var.token\n  category     = \"env\"\n  workspace_id = var.ws\n  sensitive    = true\n}\n\n\
                resource \"tfe_policy_set_parameter\" \"p\" {\n  key           = \"k\"\n  value         = var.p\n  policy_set_id = var.ps\n}\n\n\
                resource \"tfe_workspace\" \"w\" {\n  name         = \"ws-${tfe_variable.read.readable_value}\"\n  organization = \"org\"\n}\n\n\
                resource \"tfe_workspace\" \"n\" {\n  name         = \"ws-${tfe_variable.null.readable_value}\"\n  organization = \"org\"\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    for kept in ["var.region", "var.zone", "var.name", "var.p"] {
        assert!(
            text.contains(&format!("value        = {kept}\n"))
                || text.contains(&format!("value         = {kept}\n")),
            "{kept}: {text}"
        );
    }
    for moved in ["var.token", "var.pin"] {
        assert!(
            text.contains(&format!(
                "  value_wo         = {moved}\n  value_wo_version = 1\n"
            )),
            "{moved}: {text}"
        );
    }
    assert!(
        plan.notes.iter().any(|n| n.message.starts_with(
            "`tfe_variable.read.value` left as it is: it is read in `tfe_workspace.w.name`"
        )),
        "{:#?}",
        plan.notes
    );
}

/// vault_kv_secret_v2's computed `data` is `data_json` decoded: once `data_json` is write-only it is
/// empty, so a read of it keeps `data_json` plain. A Datadog global variable that is not `secure`
/// is shown in the UI (configuration, like a non-sensitive tfe_variable) and stays.
#[test]
fn reads_of_a_decoded_copy_and_visible_variables_keep_the_plain_form() {
    let main = "resource \"vault_kv_secret_v2\" \"kv\" {\n  mount     = \"kv\"\n  name      = \"app\"\n  data_json = jsonencode({ token = var.token })\n}\n\n\
                output \"token\" {\n  value     = vault_kv_secret_v2.kv.data[\"token\"]\n  sensitive = true\n}\n\n\
                resource \"datadog_synthetics_global_variable\" \"shown\" {\n  name  = \"SHOWN\"\n  value = var.v\n}\n\n\
                resource \"datadog_synthetics_global_variable\" \"hidden\" {\n  name   = \"HIDDEN\"\n  value  = var.v\n  secure = true\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert!(
        text.contains("  data_json = jsonencode({ token = var.token })\n"),
        "{text}"
    );
    assert!(
        text.contains("  name  = \"SHOWN\"\n  value = var.v\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "  value_wo         = var.v\n  value_wo_version = 1\n  secure           = true\n"
        ),
        "{text}"
    );
    assert!(
        plan.notes.iter().any(|n| n.message.starts_with(
            "`vault_kv_secret_v2.kv.data_json` left as it is: it is read in output `token`"
        )),
        "{:#?}",
        plan.notes
    );
}

/// The same mirror read through a `for` over the whole resource (`sensitive` an expression);
/// with `sensitive = true` the mirror is null already, and `value` becomes write-only.
#[test]
fn a_mirror_read_in_a_for_keeps_the_plain_form() {
    let main = "resource \"tfe_variable\" \"each\" {\n  for_each     = var.vars\n  key          = each.key\n  value        = each.value\n  category     = \"env\"\n  workspace_id = var.ws\n  sensitive    = var.hide\n}\n\n\
                output \"shown\" {\n  value = [for v in tfe_variable.each : v.readable_value]\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", main)]);
    assert!(rewritten(&plan, "main.tf").is_none(), "{plan:#?}");
    let (_, text, _dir) = migrate_main(&[(
        "main.tf",
        &main.replace("sensitive    = var.hide", "sensitive    = true"),
    )]);
    assert!(text.contains("  value_wo         = each.value\n"), "{text}");
}

/// A `jsonencode` object that sets a key twice (the parser reads it under a name of its own,
/// [`crate::module::parse_body`]) is not turned into `generate`: the template would hold that
/// made-up name, or both fields where Terraform's JSON has the last one only.
#[test]
fn a_json_key_given_twice_is_not_copied_into_generate() {
    for value in [
        "jsonencode({ user = \"a\", user = \"b\", password = random_password.twice.result })",
        "jsonencode({ \"user\" = \"a\", \"user\" = \"b\", password = random_password.twice.result })",
        "jsonencode({ password = random_password.twice.result, user = \"a\", user = \"b\" })",
    ] {
        let main = "resource \"random_password\" \"twice\" {\n  length = 24\n}\n\n".to_owned()
            + &pair_with("twice", "", "", value);
        let (plan, text, _dir) = migrate_main(&[("main.tf", &main)]);
        let notes = info_notes(&plan);
        assert!(!text.contains("generate {"), "{value}\n{text}");
        for made_up in ["usea", "usec", "usera"] {
            assert!(!text.contains(made_up), "{value}\n{text}");
        }
        let twice = not_generate(&notes, "twice");
        assert!(
            twice.contains("is set twice in the `jsonencode` object"),
            "{value}\n{twice}"
        );
    }
}

/// The name a repeated key is read under for the parser is none the object has: `{ a = 1, a = 2,
/// b = 3 }` notes `a` once, and not `b`, which is set once.
#[test]
fn a_key_renamed_for_the_parser_meets_no_other_key() {
    for (object, key) in [
        ("{ a = 1, a = 2, b = 3 }", "a"),
        ("{ ab = 1, ab = 2, aa = 3, ac = 4 }", "ab"),
        (
            "{\n    \"k1\" = 1\n    \"k1\" = 2\n    \"ka\" = 3\n  }",
            "a quoted key",
        ),
        ("{ x = { a = 1, a = 2, b = 3 }, b = 4 }", "a"),
    ] {
        let main = format!(
            "locals {{\n  o = {object}\n}}\n\nresource \"aws_db_instance\" \"db\" {{\n  password = var.pw\n}}\n"
        );
        let (plan, text, _dir) = migrate_main(&[("main.tf", &main)]);
        assert!(text.contains(&format!("  o = {object}\n")), "{text}");
        let noted: Vec<&str> = set_twice_notes(&plan)
            .iter()
            .map(|n| n.message.as_str())
            .collect();
        assert_eq!(noted.len(), 1, "{object}: {noted:#?}");
        let named = if key == "a quoted key" {
            key.to_owned()
        } else {
            format!("`{key}`")
        };
        assert!(
            noted[0].starts_with(&format!("{named} is set twice")),
            "{object}: {noted:#?}"
        );
    }
}

/// Around a key set twice, the file is kept byte for byte: CRLF line ends, a heredoc that has the
/// key's text in it, a `for` expression, a non-ASCII key; only the migrated argument changes.
#[test]
fn a_key_set_twice_keeps_the_file_around_it() {
    let main = "locals {\r\n  o = {\r\n    a = <<-EOT\r\n      a = 1\r\n      ab = 2\r\n    EOT\r\n    a = { for k, v in var.m : k => v }\r\n    \"é1\" = 1\r\n    \"é1\" = 2\r\n  }\r\n}\r\n\r\nresource \"aws_db_instance\" \"db\" {\r\n  password = var.pw\r\n}\r\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert_eq!(
        text,
        main.replace(
            "  password = var.pw\r\n",
            "  password_wo         = var.pw\r\n  password_wo_version = 1\r\n"
        ),
        "{:#?}",
        plan.notes
    );
    let lines: Vec<usize> = set_twice_notes(&plan).iter().map(|n| n.line).collect();
    assert_eq!(lines, vec![7, 9], "{:#?}", plan.notes);
}

/// A key set twice is read as Terraform reads it, the last one: a `required_providers` entry
/// `offstate = { source = "acme/vaultish", source = "offstate/offstate" }` is offstate's (the
/// secret becomes `offstate_secret`), and with the two the other way round it is acme/vaultish's
/// (nothing that needs offstate is written). Three of them, and quoted keys, included. Terraform
/// v1.11.4 `terraform providers` names the last source in both orders.
#[test]
fn a_key_set_twice_is_read_as_the_last_one() {
    for (sources, offstate) in [
        (["acme/vaultish", "offstate/offstate"].as_slice(), true),
        (&["offstate/offstate", "acme/vaultish"], false),
        (
            &["acme/vaultish", "acme/vaultish", "offstate/offstate"],
            true,
        ),
        (
            &["offstate/offstate", "offstate/offstate", "acme/vaultish"],
            false,
        ),
        (
            &["acme/vaultish", "offstate/offstate", "acme/vaultish"],
            false,
        ),
    ] {
        for key in ["source", "\"source\""] {
            let entry = sources
                .iter()
                .map(|s| format!("      {key} = \"{s}\"\n"))
                .collect::<String>();
            let main = pair_with_required(&format!("    offstate = {{\n{entry}    }}"));
            let (plan, text, _dir) = migrate_main(&[("main.tf", &main)]);
            assert_eq!(
                text.contains("resource \"offstate_secret\" \"db\""),
                offstate,
                "{sources:?}: {text}\n{:#?}",
                plan.notes
            );
            // The entry is kept as written, and each repeat is noted.
            assert!(text.contains(&entry), "{sources:?}: {text}");
            let noted = set_twice_notes(&plan).len();
            assert_eq!(noted, sources.len() - 1, "{sources:?}: {:#?}", plan.notes);
        }
    }
}

/// `self.password` in the resource's own provisioner, connection or postcondition reads the
/// argument as surely as `T.N.password` elsewhere: once write-only it is null there (a template
/// interpolating null fails, a condition changes its meaning), so the argument keeps its plain
/// form and the note names the use. A `self` read of another argument changes nothing.
#[test]
fn self_reads_in_the_resources_own_blocks_keep_the_plain_form() {
    let main = "resource \"aws_db_instance\" \"prov\" {\n  identifier = \"prov\"\n  password   = var.pw\n\n  provisioner \"local-exec\" {\n    command = \"init-db --password ${self.password}\"\n  }\n}\n\n\
                resource \"aws_db_instance\" \"conn\" {\n  identifier = \"conn\"\n  password   = var.pw\n\n  connection {\n    host     = self.address\n    password = self.password\n  }\n}\n\n\
                resource \"aws_db_instance\" \"cond\" {\n  identifier = \"cond\"\n  password   = var.pw\n\n  lifecycle {\n    postcondition {\n      condition     = length(self.password) >= 16\n      error_message = \"short\"\n    }\n  }\n}\n\n\
                resource \"aws_db_instance\" \"other\" {\n  identifier = \"other\"\n  password   = var.pw\n\n  provisioner \"local-exec\" {\n    command = \"echo ${self.address}\"\n  }\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    for name in ["prov", "conn", "cond"] {
        assert!(
            text.contains(&format!(
                "  identifier = \"{name}\"\n  password   = var.pw\n"
            )),
            "{name}: {text}"
        );
        assert!(
            plan.notes.iter().any(|n| n.message.starts_with(&format!(
                "`aws_db_instance.{name}.password` left as it is: it is read in `aws_db_instance.{name}."
            ))),
            "{name}: {:#?}",
            plan.notes
        );
    }
    assert!(
        text.contains("  password_wo         = var.pw\n  password_wo_version = 1\n\n  provisioner"),
        "{text}"
    );
}

/// With `--prefix`, a `terraform_data`'s own provisioner reading `self.output` or `self.input`
/// gets the reference, not the value, from now on: the warning names that use as it names an
/// `output` that reads `terraform_data.N.output`.
#[test]
fn self_reads_of_a_moved_terraform_data_value_are_named_consumers() {
    let main = "variable \"token\" {\n  type      = string\n  sensitive = true\n}\n\n\
                resource \"terraform_data\" \"hook\" {\n  input = var.token\n\n  provisioner \"local-exec\" {\n    command = \"deploy --token ${self.output}\"\n  }\n}\n\n\
                resource \"terraform_data\" \"trig\" {\n  triggers_replace = var.token\n\n  provisioner \"local-exec\" {\n    command = \"deploy --token ${self.triggers_replace}\"\n  }\n}\n";
    let opts = Options {
        secret_prefix: Some("prod/app".to_owned()),
        ..Options::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.tf"), main).expect("write");
    let plan = plan_migration(dir.path(), &opts).expect("plan");
    let warnings: Vec<String> = plan.warnings.iter().map(|w| w.message.clone()).collect();
    for (address, site) in [
        (
            "terraform_data.hook.input",
            "terraform_data.hook.provisioner.command",
        ),
        (
            "terraform_data.trig.triggers_replace",
            "terraform_data.trig.provisioner.command",
        ),
    ] {
        assert!(
            warnings.iter().any(
                |w| w.starts_with(&format!("`{address}` now holds a reference"))
                    && w.contains(&format!("`{site}`"))
            ),
            "{address}: {warnings:#?}"
        );
    }
}

/// A literal that reaches a secret argument through a local (`password = local.p`, `p = "..."`),
/// and the default of a variable that reaches one through locals (`local.q = var.master`), are
/// printed as context of the rewrite: masked like a literal assigned there directly. Locals and
/// variables that feed nothing secret stay readable.
#[test]
fn diff_masks_literals_and_defaults_that_feed_a_secret_through_locals() {
    let canary = |n: u32| format!("cnry{}{}L{n}", std::process::id(), "q7");
    let main = format!(
        "locals {{\n  q = local.r\n  r = \"${{var.master}}-x\"\n  p = \"{c1}\"\n}}\n\
         resource \"aws_db_instance\" \"a\" {{\n  identifier = \"a\"\n  password   = local.p\n}}\n\
         locals {{ region = \"eu-west-1\" }}\n\
         variable \"master\" {{\n  default = \"{c2}\"\n}}\n\
         resource \"aws_db_instance\" \"b\" {{\n  identifier = \"b\"\n  password   = local.q\n}}\n",
        c1 = canary(1),
        c2 = canary(2),
    );
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let diff = plan.unified_diff(&|_, _| false);
    assert!(
        diff.contains("password_wo         = local.p"),
        "unexpected diff (not shown: it may hold a planted value)"
    );
    for n in 1..=2 {
        assert!(
            !diff.contains(&canary(n)),
            "canary {n} printed (diff withheld)"
        );
    }
    assert!(
        diff.contains("   p = \"***\"") && diff.contains("   default = \"***\""),
        "unexpected diff (not shown: it may hold a planted value)"
    );
    assert!(
        diff.contains(" locals { region = \"eu-west-1\" }"),
        "unexpected diff (not shown: it may hold a planted value)"
    );
}

/// A `.tf` file that is a symlink (a file shared between modules, as many repositories keep
/// `providers.tf` or `versions.tf`) is written through when the file it names is inside the
/// directory migrated: the link stays a link and the file it names gets the rewrite, once when
/// two modules link it and rewrite it alike. When they would rewrite it differently nothing is
/// written, and the error names both paths. A link to a file outside the directory is not
/// rewritten (see `a_link_to_a_file_outside_the_directory_is_not_rewritten`).
#[cfg(unix)]
#[test]
fn symlinked_files_are_written_through_and_stay_links() {
    let shared =
        "resource \"aws_db_instance\" \"db\" {\n  identifier = \"db\"\n  password   = var.pw\n}\n";
    let vars = "variable \"pw\" {\n  type = string\n}\n";
    let top = tempfile::tempdir().expect("tempdir");
    let common = top.path().join("common");
    let root = top.path().join("envs");
    std::fs::create_dir_all(&common).expect("mkdir");
    std::fs::write(common.join("db.tf"), shared).expect("write");
    for env in ["dev", "prod"] {
        std::fs::create_dir_all(root.join(env)).expect("mkdir");
        std::os::unix::fs::symlink("../../common/db.tf", root.join(env).join("db.tf"))
            .expect("symlink");
        std::fs::write(root.join(env).join("vars.tf"), vars).expect("write");
    }
    // Migrated from `envs`, the links name a file outside: left alone, with a note.
    let plan = plan_migration(&root, &Options::default()).expect("plan");
    assert!(plan.files.is_empty(), "{plan:#?}");
    let notes = notes_containing(&plan, "not rewritten: a symlink to ");
    assert_eq!(notes.len(), 2, "{notes:#?}");
    // Migrated from the directory that holds them all, it is written through.
    let top_dir = top.path().to_path_buf();
    let plan = plan_migration(&top_dir, &Options::default()).expect("plan");
    assert_eq!(plan.files.len(), 1, "{plan:#?}");
    plan.write().expect("write");
    for env in ["dev", "prod"] {
        let link = root.join(env).join("db.tf");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("lstat")
                .file_type()
                .is_symlink(),
            "{env}/db.tf is no longer a symlink"
        );
    }
    let written = std::fs::read_to_string(common.join("db.tf")).expect("read");
    assert_eq!(written, plan.files[0].rewritten);
    assert!(written.contains("password_wo"), "{written}");
    assert!(plan_migration(&top_dir, &Options::default())
        .expect("plan")
        .is_empty());

    // Rewritten two ways: prod reads the password in an output, so there it stays.
    std::fs::write(common.join("db.tf"), shared).expect("write");
    std::fs::write(
        root.join("prod").join("out.tf"),
        "output \"pw\" {\n  value     = aws_db_instance.db.password\n  sensitive = true\n}\n",
    )
    .expect("write");
    let err = plan_migration(&top_dir, &Options::default()).expect_err("two rewrites of one file");
    assert!(matches!(err, MigrateError::LinkedTwice { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "{} and {} are the same file",
            common.join("db.tf").display(),
            root.join("prod/db.tf").display()
        )),
        "{message}"
    );
    assert_eq!(
        std::fs::read_to_string(common.join("db.tf")).expect("read"),
        shared
    );
    for env in ["dev", "prod"] {
        assert_eq!(
            std::fs::read_to_string(root.join(env).join("vars.tf")).expect("read"),
            vars
        );
    }
}

/// A `.tf` file linked from outside the directory migrated (a `variables.tf` shared by several
/// roots) is not rewritten: another root linking it was not checked. Migrating `a` alone made
/// the shared `pw` ephemeral, and `b`, which passes it to a plain `password` (kept for its
/// `ignore_changes`), no longer passed `terraform validate` ("Invalid use of ephemeral value").
#[cfg(unix)]
#[test]
fn a_link_to_a_file_outside_the_directory_is_not_rewritten() {
    let vars = "variable \"pw\" {\n  type      = string\n  sensitive = true\n}\n";
    let top = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(top.path().join("common")).expect("mkdir");
    std::fs::write(top.path().join("common/variables.tf"), vars).expect("write");
    for (root, lifecycle) in [
        ("a", ""),
        ("b", "  lifecycle {\n    ignore_changes = [password]\n  }\n"),
    ] {
        let dir = top.path().join(root);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::os::unix::fs::symlink("../common/variables.tf", dir.join("variables.tf"))
            .expect("symlink");
        std::fs::write(
            dir.join("main.tf"),
            format!("resource \"aws_db_instance\" \"{root}\" {{\n  username = \"app\"\n  password = var.pw\n{lifecycle}}}\n"),
        )
        .expect("write");
    }
    let plan = plan_migration(&top.path().join("a"), &Options::default()).expect("plan");
    let names: Vec<_> = plan
        .files
        .iter()
        .map(|f| f.path.file_name().expect("name").to_owned())
        .collect();
    assert_eq!(names, ["main.tf"], "{plan:#?}");
    assert!(
        plan.files[0].rewritten.contains("password_wo"),
        "{}",
        plan.files[0].rewritten
    );
    plan.write().expect("write");
    assert_eq!(
        std::fs::read_to_string(top.path().join("common/variables.tf")).expect("read"),
        vars
    );

    assert!(
        notes_containing(&plan, "not rewritten: a symlink to ")
            .iter()
            .any(|n| n.contains("common/variables.tf")),
        "{:#?}",
        plan.notes
    );

    // From the directory holding all three, `a` and `b` would rewrite the shared file
    // differently: nothing is planned.
    let err =
        plan_migration(top.path(), &Options::default()).expect_err("two rewrites of one file");
    assert!(matches!(err, MigrateError::LinkedTwice { .. }), "{err}");

    // A shared `versions.tf` linked from outside holds the module's `required_providers`:
    // migrate adds no second one (Terraform refuses two), and says where to add offstate.
    let versions =
        "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\" }\n  }\n}\n";
    std::fs::write(top.path().join("common/versions.tf"), versions).expect("write");
    let dir = top.path().join("c");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::os::unix::fs::symlink("../common/versions.tf", dir.join("versions.tf")).expect("symlink");
    std::fs::write(dir.join("main.tf"), pair_with("db", "", "", "var.pw")).expect("write");
    let plan = plan_migration(&dir, &Options::default()).expect("plan");
    assert!(
        plan.files
            .iter()
            .all(|f| !f.rewritten.contains("required_providers")),
        "{plan:#?}"
    );
    assert!(
        !notes_containing(
            &plan,
            "`versions.tf` holds this module's `required_providers`"
        )
        .is_empty(),
        "{:#?}",
        plan.notes
    );
}

/// With `--no-recursive`, a link to a file in a subdirectory of DIR is a link outside what is
/// migrated: a configuration in another subdirectory may link the same file and is not checked
/// (4063e64 took any file under DIR as checked, which holds only when subdirectories are).
#[test]
fn without_recursion_a_link_into_a_subdirectory_is_not_rewritten() {
    let vars = "variable \"pw\" {\n  type      = string\n  sensitive = true\n}\n";
    let top = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(top.path().join("common")).expect("mkdir");
    std::fs::write(top.path().join("common/variables.tf"), vars).expect("write");
    std::os::unix::fs::symlink("common/variables.tf", top.path().join("variables.tf"))
        .expect("symlink");
    std::fs::write(
        top.path().join("main.tf"),
        "resource \"aws_db_instance\" \"a\" {\n  username = \"app\"\n  password = var.pw\n}\n",
    )
    .expect("write");
    // Another root under DIR links the same file and keeps a plain password.
    let b = top.path().join("b");
    std::fs::create_dir_all(&b).expect("mkdir");
    std::os::unix::fs::symlink("../common/variables.tf", b.join("variables.tf")).expect("symlink");
    std::fs::write(
        b.join("main.tf"),
        "resource \"aws_db_instance\" \"b\" {\n  username = \"app\"\n  password = var.pw\n  lifecycle {\n    ignore_changes = [password]\n  }\n}\n",
    )
    .expect("write");
    let opts = Options {
        recursive: false,
        ..Options::default()
    };
    let plan = plan_migration(top.path(), &opts).expect("plan");
    let names: Vec<_> = plan
        .files
        .iter()
        .map(|f| f.path.file_name().expect("name").to_owned())
        .collect();
    assert_eq!(names, ["main.tf"], "{plan:#?}");
    plan.write().expect("write");
    assert_eq!(
        std::fs::read_to_string(top.path().join("common/variables.tf")).expect("read"),
        vars
    );
    assert!(
        !notes_containing(&plan, "not rewritten: a symlink to ").is_empty(),
        "{:#?}",
        plan.notes
    );
}

/// A file with each of `parts` between two resources migrate rewrites, so that each part falls
/// in the diff's context (three lines either side of a change).
fn interleaved(parts: &[&str]) -> String {
    let mut text = String::new();
    for (n, part) in parts.iter().enumerate() {
        text.push_str(&format!(
            "resource \"aws_db_instance\" \"r{n}\" {{\n  password = var.pw\n}}\n{part}\n"
        ));
    }
    text.push_str("resource \"aws_db_instance\" \"last\" {\n  password = var.pw\n}\n");
    text
}

/// What feeds a secret argument is worked out over every file of the module, not only the files
/// that change: a local (or a variable's default) printed as context of a rewrite is masked when
/// the argument it reaches is in a file migrate leaves as it is (a one-line block, a secret
/// argument migrate has no rewrite for, one it keeps plain because it is read elsewhere, a
/// `.tf.json` file), also through a template (`"${local.u}"`). A `for_each` whose `each.value`
/// a secret-looking argument takes is masked too.
#[test]
fn diff_masks_what_feeds_a_secret_in_files_migrate_leaves_unchanged() {
    let canary = |n: u32| format!("cnry{}{}U{n}", std::process::id(), "q7");
    let main = interleaved(&[
        &format!("locals {{ p = \"{}\" }}", canary(1)),
        &format!("locals {{ u = \"{}\" }}", canary(2)),
        &format!("variable \"dflt\" {{\n  default = \"{}\"\n}}", canary(3)),
        &format!("locals {{ t = \"{}\" }}", canary(4)),
        &format!("locals {{ k = \"{}\" }}", canary(5)),
        &format!("locals {{ j = \"{}\" }}", canary(6)),
        &format!(
            "resource \"example_service\" \"e\" {{\n  for_each  = {{ app = \"{}\" }}\n  api_token = each.value\n}}",
            canary(7)
        ),
        "locals { region = \"eu-west-1\" }",
    ]);
    // One-line blocks: migrate notes them and leaves them alone.
    let one_line = "resource \"aws_db_instance\" \"b\" { password = local.p }\n\
                    resource \"aws_db_instance\" \"c\" { password = \"${local.u}-x\" }\n\
                    resource \"aws_db_instance\" \"d\" { password = var.dflt }\n\
                    variable \"pw\" {}\n";
    // No write-only form (`api_token`), and a password kept plain because an output reads it.
    let kept = "resource \"example_service\" \"t\" {\n  api_token = local.t\n}\n\
                resource \"aws_db_instance\" \"k\" {\n  password = local.k\n}\n\
                output \"k\" {\n  value     = aws_db_instance.k.password\n  sensitive = true\n}\n";
    let json = "{\"resource\": {\"aws_db_instance\": {\"j\": {\"password\": \"${local.j}\"}}}}\n";
    let (plan, _dir) = migrate_text(&[
        ("main.tf", &main),
        ("one_line.tf", one_line),
        ("kept.tf", kept),
        ("json.tf.json", json),
    ]);
    let names: Vec<_> = plan
        .files
        .iter()
        .filter_map(|f| f.path.file_name())
        .collect();
    assert_eq!(names, ["main.tf"], "only main.tf is to change");
    let diff = plan.unified_diff(&|_, _| false);
    for n in 1..=7 {
        assert!(
            !diff.contains(&canary(n)),
            "canary {n} printed (diff withheld)"
        );
    }
    for shown in [
        " locals { p = \"***\" }",
        " locals { u = \"***\" }",
        "   default = \"***\"",
        " locals { t = \"***\" }",
        " locals { k = \"***\" }",
        " locals { j = \"***\" }",
        "   for_each  = { app = \"***\" }",
        " locals { region = \"eu-west-1\" }",
    ] {
        assert!(
            diff.contains(shown),
            "{shown:?} not in the diff (withheld: it may hold a planted value)"
        );
    }
    // Each file's own diff masks the same way.
    let own = plan.files[0].unified_diff(&plan.root, &|_, _| false);
    assert_eq!(own, diff, "the file's own diff differs (withheld)");
}

/// A literal given to a module call's input is masked when the child module (under the migrated
/// directory, or any local path it names) uses that input as a secret: directly, through its
/// locals, or by passing it on to another module. An input that feeds nothing secret stays
/// readable.
#[test]
fn diff_masks_literals_given_to_a_child_modules_secret_input() {
    let canary = |n: u32| format!("cnry{}{}M{n}", std::process::id(), "q7");
    let main = interleaved(&[
        &format!(
            "module \"db\" {{\n  source = \"./modules/a\"\n  pw     = \"{}\"\n}}",
            canary(1)
        ),
        &format!(
            "locals {{\n  lp   = \"{}\"\n  name = \"readable-local\"\n}}",
            canary(2)
        ),
        "module \"db2\" {\n  source = \"./modules/a\"\n  pw2    = local.lp\n}",
        "module \"db3\" {\n  source = \"./modules/a\"\n  name   = \"readable-input\"\n}",
        "variable \"pw\" {}",
    ]);
    let child = "variable \"pw\" {}\nvariable \"pw2\" {}\nvariable \"name\" {}\n\
                 module \"inner\" {\n  source     = \"../b\"\n  conn_input = var.pw2\n}\n\
                 resource \"aws_db_instance\" \"x\" {\n  identifier = var.name\n  password   = var.pw\n}\n";
    let grandchild = "variable \"conn_input\" {}\nlocals { m = var.conn_input }\n\
                      resource \"aws_rds_cluster\" \"y\" { master_password = local.m }\n";
    let (plan, dir) = migrate_text(&[
        ("main.tf", &main),
        ("modules/a/main.tf", child),
        ("modules/b/main.tf", grandchild),
    ]);
    let only_root = plan_migration(
        dir.path(),
        &Options {
            recursive: false,
            ..Options::default()
        },
    )
    .expect("plan");
    for (how, plan) in [("recursive", &plan), ("root only", &only_root)] {
        let diff = plan.unified_diff(&|_, _| false);
        for n in 1..=2 {
            assert!(
                !diff.contains(&canary(n)),
                "{how}: canary {n} printed (diff withheld)"
            );
        }
        for shown in [
            "   pw     = \"***\"",
            "   lp   = \"***\"",
            "   name = \"readable-local\"",
            "   name   = \"readable-input\"",
        ] {
            assert!(
                diff.contains(shown),
                "{how}: {shown:?} not in the diff (withheld: it may hold a planted value)"
            );
        }
    }
}

/// The whole of `name` as the diff would show any line of it (every line, as if all were
/// context), masked with what the plan worked out.
fn shown_whole(plan: &MigrationPlan, name: &str) -> String {
    let change = plan
        .files
        .iter()
        .find(|f| f.path.file_name().is_some_and(|n| n == name))
        .expect("the file changes");
    redact::masked_lines(&change.original, &change.secrets, &|_, _| false).join("\n")
}

/// A `for_each` whose elements reach a secret by way of an iterator is masked: a module call
/// giving `each.value` to an input the child holds as a secret (its name says nothing), its
/// `for_each` a map literal or a local map; a `dynamic` block whose `content` gives its iterator
/// (the block's label, or the name `iterator` sets) to a secret-looking argument, its `for_each` a
/// literal or a local, also through a nested `dynamic` block or the resource's own `for_each`
/// (`for_each = [each.value]`). A `for_each` whose elements reach nothing secret stays readable.
#[test]
fn diff_masks_for_each_values_that_iterators_carry_into_a_secret() {
    let canary = |n: u32| format!("cnry{}{}I{n}", std::process::id(), "q7");
    let main = interleaved(&[
        &format!(
            "module \"dbs\" {{\n  source   = \"./modules/a\"\n  for_each = {{ one = \"{}\" }}\n  pw       = each.value\n}}",
            canary(1)
        ),
        &format!("locals {{\n  dbmap = {{ x = \"{}\" }}\n}}", canary(2)),
        "module \"dbs2\" {\n  source   = \"./modules/a\"\n  for_each = local.dbmap\n  pw       = each.value\n}",
        "module \"named\" {\n  source   = \"./modules/a\"\n  for_each = { n = \"readable-each\" }\n  name     = each.value\n}",
        &format!(
            "resource \"example_thing\" \"d\" {{\n  dynamic \"user\" {{\n    for_each = [\"{}\"]\n    content {{\n      password = user.value\n    }}\n  }}\n}}",
            canary(3)
        ),
        &format!("locals {{\n  creds = {{ a = \"{}\" }}\n}}", canary(4)),
        "resource \"example_thing\" \"e\" {\n  dynamic \"cred\" {\n    for_each = local.creds\n    iterator = c\n    content {\n      token = \"${c.value}\"\n    }\n  }\n}",
        &format!(
            "resource \"example_thing\" \"f\" {{\n  for_each = {{ a = \"{}\" }}\n  dynamic \"u\" {{\n    for_each = [each.value]\n    content {{\n      password = u.value\n    }}\n  }}\n}}",
            canary(5)
        ),
        &format!(
            "resource \"example_thing\" \"g\" {{\n  dynamic \"outer\" {{\n    for_each = {{ a = [\"{}\"] }}\n    content {{\n      dynamic \"inner\" {{\n        for_each = outer.value\n        content {{\n          secret_key = inner.value\n        }}\n      }}\n    }}\n  }}\n}}",
            canary(6)
        ),
        "resource \"example_thing\" \"h\" {\n  dynamic \"tag\" {\n    for_each = { env = \"readable-dynamic\" }\n    content {\n      name = tag.value\n    }\n  }\n}",
        "variable \"pw\" {}",
    ]);
    let child = "variable \"pw\" {\n  default = null\n}\nvariable \"name\" {\n  default = null\n}\n\
                 resource \"aws_db_instance\" \"x\" {\n  identifier = var.name\n  password   = var.pw\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", &main), ("modules/a/main.tf", child)]);
    let diff = plan.unified_diff(&|_, _| false);
    let whole = shown_whole(&plan, "main.tf");
    for n in 1..=6 {
        assert!(
            !diff.contains(&canary(n)) && !whole.contains(&canary(n)),
            "canary {n} printed (diff withheld)"
        );
    }
    for shown in [
        "  for_each = { one = \"***\" }",
        "  dbmap = { x = \"***\" }",
        "  for_each = { n = \"readable-each\" }",
        "    for_each = [\"***\"]",
        "  creds = { a = \"***\" }",
        "  for_each = { a = \"***\" }",
        "    for_each = { a = [\"***\"] }",
        "    for_each = { env = \"readable-dynamic\" }",
    ] {
        assert!(
            whole.contains(shown),
            "{shown:?} not shown (withheld: it may hold a planted value)"
        );
    }
}

/// A module whose source is not a local path (a registry, git or HTTP module) cannot be read
/// here: its inputs are masked by their names (`password`, `master_password`, `api_token`,
/// `db_secret`...), also when a local or a variable default feeds them; other inputs stay
/// readable.
#[test]
fn diff_masks_remote_module_inputs_by_name() {
    let canary = |n: u32| format!("cnry{}{}R{n}", std::process::id(), "q7");
    let main = interleaved(&[
        &format!(
            "module \"rds\" {{\n  source          = \"terraform-aws-modules/rds/aws\"\n  version         = \"6.1.0\"\n  master_password = \"{}\"\n  identifier      = \"readable-remote\"\n}}",
            canary(1)
        ),
        &format!(
            "module \"git\" {{\n  source    = \"git::https://example.com/m.git?ref=v1\"\n  api_token = \"{}\"\n  db_secret = local.s\n  settings  = {{ password = \"{}\" }}\n}}",
            canary(2),
            canary(3)
        ),
        &format!("locals {{\n  s = \"{}\"\n}}", canary(4)),
    ]);
    let (plan, _dir) = migrate_text(&[("main.tf", &main)]);
    let diff = plan.unified_diff(&|_, _| false);
    let whole = shown_whole(&plan, "main.tf");
    for n in 1..=4 {
        assert!(
            !diff.contains(&canary(n)) && !whole.contains(&canary(n)),
            "canary {n} printed (diff withheld)"
        );
    }
    for shown in [
        "  master_password = \"***\"",
        "  identifier      = \"readable-remote\"",
        "  api_token = \"***\"",
        "  settings  = { password = \"***\" }",
        "  s = \"***\"",
    ] {
        assert!(
            whole.contains(shown),
            "{shown:?} not shown (withheld: it may hold a planted value)"
        );
    }
}

/// A carriage return that ends no line (not followed by a newline) inside a comment, which
/// `terraform fmt` reads (a comment runs to the newline), no longer stops migrate: the file is
/// planned and written with every byte of the comments kept, in an LF file and in a CRLF one, on
/// a line migrate rewrites too. Between two arguments Terraform refuses it too: the error names
/// the file, the line and column, and what is wrong, not the text.
#[test]
fn a_carriage_return_inside_a_comment_is_read_and_kept() {
    let input = "# header\rwith a bare CR\n\
                 variable \"pw\" {} // a\r b\n\
                 /* block\r comment */\n\
                 resource \"aws_db_instance\" \"db\" {\n  identifier = \"db\" # x\r   \n  password   = var.pw # note\ranother\n}\n";
    for text in [input.to_owned(), input.replace('\n', "\r\n")] {
        let (plan, dir) = migrate_text(&[("main.tf", &text)]);
        let change = &plan.files[0];
        assert_eq!(change.original, text);
        let out = &change.rewritten;
        assert!(
            out.contains("password_wo         = var.pw # note\ranother"),
            "{out:?}"
        );
        for comment in [
            "# header\rwith a bare CR",
            "// a\r b",
            "/* block\r comment */",
            "# x\r   ",
        ] {
            assert!(out.contains(comment), "{comment:?} lost: {out:?}");
        }
        plan.write().expect("write");
        let written = std::fs::read_to_string(dir.path().join("main.tf")).expect("read");
        assert_eq!(&written, out);
        assert!(plan_migration(dir.path(), &Options::default())
            .expect("plan again")
            .is_empty());
    }

    let (dir, text) = (
        tempfile::tempdir().expect("tempdir"),
        "a = 1\nb = 2 \rc = 3\n",
    );
    std::fs::write(dir.path().join("bad.tf"), text).expect("write");
    let err = plan_migration(dir.path(), &Options::default()).expect_err("a CR in code");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "{}:2:7: HCL parse error: a carriage return that ends no line",
            dir.path().join("bad.tf").display()
        )),
        "{message:?}"
    );
}

/// After `terraform init`, a remote module's source is in `.terraform/modules` and
/// `.terraform/modules/modules.json` says where (by module key, `rds` and `rds.inner`): it is
/// read as a local child is, so an input its name does not give away (`master_pw`) is masked
/// when the module uses it as a secret, also through a module the remote one calls; one it does
/// not stays readable. Without the manifest such an input is readable (nothing to read).
#[test]
fn diff_masks_inputs_of_remote_modules_that_terraform_init_fetched() {
    let canary = |n: u32| format!("cnry{}{}F{n}", std::process::id(), "q7");
    let main = interleaved(&[
        &format!(
            "module \"rds\" {{\n  source    = \"terraform-aws-modules/rds/aws\"\n  master_pw = \"{}\"\n  conn      = \"{}\"\n  name      = \"readable-fetched\"\n}}",
            canary(1),
            canary(2)
        ),
        "variable \"pw\" {}",
    ]);
    let manifest = "{\"Modules\":[{\"Key\":\"\",\"Source\":\"\",\"Dir\":\".\"},\
                    {\"Key\":\"rds\",\"Source\":\"registry.terraform.io/terraform-aws-modules/rds/aws\",\"Version\":\"6.1.0\",\"Dir\":\".terraform/modules/rds\"},\
                    {\"Key\":\"rds.inner\",\"Source\":\"git::https://example.com/inner.git\",\"Dir\":\".terraform/modules/rds.inner\"}]}";
    let remote = "variable \"master_pw\" {}\nvariable \"conn\" {}\nvariable \"name\" {}\n\
                  resource \"aws_db_instance\" \"x\" {\n  identifier = var.name\n  password   = var.master_pw\n}\n\
                  module \"inner\" {\n  source = \"git::https://example.com/inner.git\"\n  c      = var.conn\n}\n";
    let inner =
        "variable \"c\" {}\nresource \"aws_rds_cluster\" \"y\" { master_password = var.c }\n";
    let (plan, dir) = migrate_text(&[
        ("main.tf", &main),
        (".terraform/modules/modules.json", manifest),
        (".terraform/modules/rds/main.tf", remote),
        (".terraform/modules/rds.inner/main.tf", inner),
    ]);
    assert_eq!(plan.files.len(), 1, "only main.tf changes");
    let diff = plan.unified_diff(&|_, _| false);
    let whole = shown_whole(&plan, "main.tf");
    for n in 1..=2 {
        assert!(
            !diff.contains(&canary(n)) && !whole.contains(&canary(n)),
            "canary {n} printed (diff withheld)"
        );
    }
    for shown in [
        "  master_pw = \"***\"",
        "  conn      = \"***\"",
        "  name      = \"readable-fetched\"",
    ] {
        assert!(
            whole.contains(shown),
            "{shown:?} not shown (withheld: it may hold a planted value)"
        );
    }
    // The manifest is what says which directory is which module.
    std::fs::remove_file(dir.path().join(".terraform/modules/modules.json")).expect("rm");
    let plan = plan_migration(dir.path(), &Options::default()).expect("plan");
    assert!(
        shown_whole(&plan, "main.tf").contains("  name      = \"readable-fetched\""),
        "unexpected text (withheld: it may hold a planted value)"
    );
}

#[test]
fn a_version_constraint_that_excludes_the_write_only_arguments_is_a_warning() {
    let module = |aws: &str, terraform: &str| {
        format!(
            "terraform {{\n  required_version = \"{terraform}\"\n  required_providers {{\n    aws = {{\n      source  = \"hashicorp/aws\"\n      version = \"{aws}\"\n    }}\n  }}\n}}\n\n\
             variable \"p\" {{\n  type      = string\n  sensitive = true\n}}\n\n\
             resource \"aws_rds_cluster\" \"a\" {{\n  cluster_identifier = \"a\"\n  master_password    = var.p\n}}\n"
        )
    };
    // aws_rds_cluster.master_password_wo: hashicorp/aws >= 5.87.0, Terraform >= 1.11.
    let excluded = |aws: &str, terraform: &str| -> Vec<String> {
        let (plan, _dir) = migrate_text(&[("main.tf", &module(aws, terraform))]);
        assert!(!plan.is_empty(), "{aws} {terraform}: still migrated");
        plan.warnings
            .iter()
            .filter(|w| w.hazard == Hazard::VersionConstraintExcludes)
            .map(|w| {
                assert_eq!(
                    w.line,
                    if w.message.starts_with("`required") {
                        2
                    } else {
                        4
                    }
                );
                w.message
                    .split(" is ")
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    let aws = "the `version` of hashicorp/aws in `required_providers`";
    let tf = "`required_version`";
    for (constraint, terraform, expected) in [
        (">= 5.0", ">= 1.3", vec![]),
        ("~> 5.0", "~> 1.5", vec![]),
        (">= 4.0, < 7.0", ">= 1.11.0", vec![]),
        ("~> 6.2", ">= 1.0", vec![]),
        ("5.87.0", ">= 1.0", vec![]),
        (">= 4.0, < 5.80", ">= 1.3", vec![aws]),
        ("~> 5.70.0", ">= 1.3", vec![aws]),
        ("= 5.86.1", "~> 1.10.0", vec![aws, tf]),
        ("~> 4.0", "< 1.11", vec![aws, tf]),
        ("<= 5.86", "1.9.8", vec![aws, tf]),
    ] {
        assert_eq!(
            excluded(constraint, terraform),
            expected,
            "{constraint} / {terraform}"
        );
    }
}

/// Bug hunt: a resource migrated by hand half way, with both `password` and `password_wo`, was
/// skipped without a word, and Terraform refuses it (the two conflict). Now a warning at the
/// plain argument names the resource, both arguments and what to remove, never the value.
#[test]
fn both_the_plain_argument_and_its_twin_set_is_a_warning() {
    let value = ["half", "-migrated", "-not-a-real-secret"].concat();
    let tf = format!(
        "resource \"aws_db_instance\" \"db\" {{\n  password            = \"{value}\"\n  password_wo         = var.pw\n  password_wo_version = 2\n}}\n\n\
         resource \"google_sql_user\" \"u\" {{\n  password    = var.pw\n  password_wo = var.pw\n}}\n\n\
         resource \"google_monitoring_uptime_check_config\" \"c\" {{\n  http_check {{\n    auth_info {{\n      password    = var.pw\n      password_wo = var.pw\n    }}\n  }}\n}}\n\n\
         resource \"aws_rds_cluster\" \"done\" {{\n  master_password    = null\n  master_password_wo = var.pw\n}}\n"
    );
    let (plan, text, _dir) = migrate_main(&[("main.tf", &tf)]);
    assert_eq!(text, "", "nothing is rewritten");
    let both: Vec<(usize, &str)> = plan
        .warnings
        .iter()
        .filter(|w| w.hazard == Hazard::BothForms)
        .map(|w| (w.line, w.message.as_str()))
        .collect();
    assert_eq!(both.len(), 3, "one warning per resource with both set");
    for warning in &plan.warnings {
        assert!(
            !warning.to_string().contains(&value),
            "a warning quotes the value (not shown)"
        );
    }
    let (line, message) = both[0];
    assert_eq!(line, 2);
    for part in [
        "`aws_db_instance.db` sets both `password` and `password_wo`",
        "remove `password`",
        "keep `password_wo` and `password_wo_version`",
    ] {
        assert!(message.contains(part), "{message}");
    }
    let (line, message) = both[1];
    assert_eq!(line, 8);
    assert!(
        message.contains("`google_sql_user.u` sets both")
            && message.contains("with `password_wo_version = 1`"),
        "{message}"
    );
    let (line, message) = both[2];
    assert_eq!(line, 15);
    assert!(
        message
            .contains("`google_monitoring_uptime_check_config.c.http_check.auth_info` sets both"),
        "{message}"
    );
}

/// Real-world run (terraform-aws-modules/terraform-aws-secrets-manager): a module offering both
/// forms, `secret_string = var.secret_string` beside `secret_string_wo = var.secret_string_wo`,
/// both defaulting to null, its caller setting one, was warned that the provider refuses the two
/// together and told to remove `secret_string`. The provider refuses them only when both are
/// set: where one may be null (a variable defaulting to null, a `null` branch, `try(.., null)`)
/// it is a note saying the plain form stores what it is given, not a conflict warning.
#[test]
fn both_forms_of_which_one_may_be_null_are_a_note_not_a_conflict() {
    let tf = "variable \"secret_string\" {\n  type    = string\n  default = null\n}\n\n\
              variable \"secret_string_wo\" {\n  type      = string\n  default   = null\n  ephemeral = true\n}\n\n\
              resource \"aws_secretsmanager_secret_version\" \"this\" {\n  secret_id                = \"s\"\n  secret_string            = var.secret_string\n  secret_string_wo         = var.secret_string_wo\n  secret_string_wo_version = 1\n}\n\n\
              resource \"aws_db_instance\" \"db\" {\n  password    = var.pw\n  password_wo = var.on ? null : var.pw\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", tf)]);
    assert_eq!(text, "", "nothing is rewritten");
    assert!(
        !plan.warnings.iter().any(|w| w.hazard == Hazard::BothForms),
        "{:?}",
        plan.warnings
    );
    let notes = notes_containing(&plan, "sets both");
    assert_eq!(notes.len(), 2, "{notes:?}");
    for part in [
        "`aws_secretsmanager_secret_version.this` sets both `secret_string` and `secret_string_wo`",
        "`secret_string` may be null (`var.secret_string` defaults to null)",
        "give it to `secret_string_wo` instead",
    ] {
        assert!(notes[0].contains(part), "{}", notes[0]);
    }
    assert!(
        notes[1].contains("`password_wo` may be null (a branch of it is `null`)"),
        "{}",
        notes[1]
    );
}

/// Review of 1628e30: `one(...)` gives null for an empty list (`one(var.passwords)`, the
/// splat of a resource whose `count` may be 0), so beside the write-only twin it is a choice made
/// at run time as `var.x` defaulting to null is: a note, not the conflict warning. Its trigger,
/// where it becomes the twin, gets the warning that the provider refuses the version without it.
/// `coalesce` never gives null (it fails), and `one(["..."])` of a non-empty tuple is its element:
/// both stay the conflict warning.
#[test]
fn one_of_a_list_may_be_null_and_coalesce_may_not() {
    let tf = "variable \"pws\" {\n  type    = list(string)\n  default = []\n}\n\n\
              resource \"aws_secretsmanager_secret_version\" \"one\" {\n  secret_id        = \"s\"\n  secret_string    = one(var.pws)\n  secret_string_wo = var.wo\n}\n\n\
              resource \"aws_secretsmanager_secret_version\" \"coal\" {\n  secret_id        = \"s\"\n  secret_string    = coalesce(var.a, null)\n  secret_string_wo = var.wo\n}\n\n\
              resource \"aws_secretsmanager_secret_version\" \"tuple\" {\n  secret_id        = \"s\"\n  secret_string    = one([var.a])\n  secret_string_wo = var.wo\n}\n\n\
              resource \"aws_db_instance\" \"db\" {\n  password = one(var.pws)\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", tf)]);
    let both = warnings_of(&plan, Hazard::BothForms);
    assert!(
        both.len() == 2
            && both[0].contains("secret_version.coal`")
            && both[1].contains("secret_version.tuple`"),
        "{both:#?}"
    );
    let noted = plan.notes.iter().any(|n| {
        n.message
            .contains("`aws_secretsmanager_secret_version.one` sets both")
            && n.message
                .contains("`secret_string` may be null (`one` gives null for an empty list)")
    });
    assert!(noted, "{:#?}", plan.notes);
    assert!(text.contains("  password_wo_version = 1\n"), "{text}");
    assert!(
        plan.warnings.iter().any(|w| w.hazard == Hazard::TriggerWithoutValue
            && w.message.contains("`aws_db_instance.db.password_wo` may be null (`one` gives null for an empty list)")),
        "{:#?}",
        plan.warnings
    );
}

/// Bug hunt: a resource of the google-beta provider (`provider = google-beta`, or an alias of a
/// local name whose source is hashicorp/google-beta) got the note "need provider
/// hashicorp/google >= ...". The note (and the constraint check) names the provider the resource uses: the
/// `provider` meta-argument's local name (else the type's first word) through
/// `required_providers`, `hashicorp/<name>` when undeclared.
#[test]
fn the_version_note_names_the_provider_the_resource_uses() {
    let needs = |plan: &MigrationPlan| -> Vec<String> {
        plan.notes
            .iter()
            .filter_map(|n| {
                let rest = n
                    .message
                    .strip_prefix("the write-only arguments introduced here need provider ")?;
                Some(rest.split(" and Terraform").next()?.to_owned())
            })
            .collect()
    };
    let user = |provider: &str| {
        format!("resource \"google_sql_user\" \"u\" {{\n{provider}  password = var.pw\n}}\n")
    };
    for (provider, terraform, expected) in [
        ("", "", vec!["hashicorp/google >= 6.24.0"]),
        ("  provider = google-beta\n", "", vec!["hashicorp/google-beta >= 6.24.0"]),
        ("  provider = google-beta.west\n", "", vec!["hashicorp/google-beta >= 6.24.0"]),
        ("  provider = google.west\n", "", vec!["hashicorp/google >= 6.24.0"]),
        (
            "  provider = gcpb.west\n",
            "terraform {\n  required_providers {\n    gcpb = {\n      source = \"registry.terraform.io/hashicorp/google-beta\"\n    }\n  }\n}\n",
            vec!["hashicorp/google-beta >= 6.24.0"],
        ),
        (
            "",
            "terraform {\n  required_providers {\n    google = {\n      source = \"hashicorp/google-beta\"\n    }\n  }\n}\n",
            vec!["hashicorp/google-beta >= 6.24.0"],
        ),
    ] {
        let tf = format!("{terraform}{}", user(provider));
        let (plan, text, _dir) = migrate_main(&[("main.tf", &tf)]);
        assert!(text.contains("password_wo"), "{provider:?}: {text}");
        assert_eq!(needs(&plan), expected, "{provider:?} {terraform:?}");
    }
    // Both providers in one module: a note each. A constraint on google-beta that excludes the
    // version is a warning naming it; google's own constraint is not the one that counts.
    let tf = format!(
        "terraform {{\n  required_providers {{\n    google = {{\n      source  = \"hashicorp/google\"\n      version = \">= 6.0\"\n    }}\n    google-beta = {{\n      source  = \"hashicorp/google-beta\"\n      version = \"~> 5.0\"\n    }}\n  }}\n}}\n{}{}",
        user("  provider = google-beta\n"),
        user("").replace("\"u\"", "\"v\""),
    );
    let (plan, _text, _dir) = migrate_main(&[("main.tf", &tf)]);
    assert_eq!(
        needs(&plan),
        [
            "hashicorp/google >= 6.24.0",
            "hashicorp/google-beta >= 6.24.0"
        ]
    );
    let excluded = warnings_of(&plan, Hazard::VersionConstraintExcludes);
    assert_eq!(excluded.len(), 1, "{excluded:?}");
    assert!(
        excluded[0].contains("hashicorp/google-beta in `required_providers`"),
        "{}",
        excluded[0]
    );
}

/// Terraform ignores OpenTofu's files: an `override.tofu` (or `versions.tofu`) setting
/// `required_version` for OpenTofu neither replaces nor adds to the `.tf` files' constraint, so a
/// `.tf` constraint excluding the Terraform the rewrites need is still a warning (6e1ffac read
/// `override.tofu` as overriding it, and said nothing).
#[test]
fn an_opentofu_required_version_is_not_terraform_s() {
    let main =
        "resource \"aws_db_instance\" \"db\" {\n  username = \"app\"\n  password = var.pw\n}\n";
    let versions = "terraform {\n  required_version = \"~> 1.5.0\"\n}\n";
    let tofu = "terraform {\n  required_version = \">= 1.6\"\n}\n";
    for name in ["override.tofu", "versions.tofu"] {
        let (plan, text, _dir) =
            migrate_main(&[("main.tf", main), ("versions.tf", versions), (name, tofu)]);
        assert!(text.contains("password_wo"), "{name}: {text}");
        let excluded = warnings_of(&plan, Hazard::VersionConstraintExcludes);
        assert!(
            excluded.iter().any(|w| w.contains("\"~> 1.5.0\"")),
            "{name}: {:#?}",
            plan.warnings
        );
        assert!(
            !excluded.iter().any(|w| w.contains(name)),
            "{name}: {excluded:?}"
        );
    }
}

/// A `validation` condition takes an ephemeral value (Terraform 1.11.4 and 1.15.5, checked with
/// `terraform plan`): the variable's own, another variable's (1.9+ cross-variable validation) and
/// one that reads it through a local. So a sensitive variable read there, whose other uses are
/// write-only, becomes ephemeral. An `error_message` built from the value does not: Terraform
/// then shows "Error message refers to ephemeral values" instead of the message, so that
/// variable stays as it is, with a note naming the message and never its value.
#[test]
fn a_variable_read_by_validation_conditions_becomes_ephemeral_unless_a_message_shows_it() {
    let main = "variable \"pw\" {\n  type      = string\n  sensitive = true\n\n  validation {\n    \
                condition     = length(var.pw) >= 16\n    error_message = \"The password needs 16 characters.\"\n  }\n}\n\n\
                locals {\n  upper_pw = upper(var.pw)\n}\n\n\
                variable \"user\" {\n  type = string\n\n  validation {\n    condition     = var.user != var.pw && var.user != local.upper_pw\n    \
                error_message = \"The user ${var.user} must not be the password.\"\n  }\n}\n\n\
                variable \"token\" {\n  type      = string\n  sensitive = true\n\n  validation {\n    \
                condition     = startswith(var.token, \"tk-\")\n    error_message = \"Not a token: ${var.token}.\"\n  }\n}\n\n\
                resource \"aws_db_instance\" \"db\" {\n  username = var.user\n  password = var.pw\n}\n\n\
                resource \"aws_ssm_parameter\" \"t\" {\n  name  = \"t\"\n  type  = \"SecureString\"\n  value = var.token\n}\n";
    let (plan, text, dir) = migrate_main(&[("main.tf", main)]);
    let block = |name: &str| {
        let start = text
            .find(&format!("variable \"{name}\""))
            .expect("declared");
        text[start..start + text[start..].find("\n}\n").expect("closed")].to_owned()
    };
    assert!(text.contains("  password_wo         = var.pw\n"), "{text}");
    assert!(
        block("pw").contains("  sensitive = true\n  ephemeral = true\n"),
        "{text}"
    );
    assert!(!block("user").contains("ephemeral"), "{text}");
    // The message would show the token: it stays sensitive only, and the note says why.
    assert!(text.contains("  value_wo         = var.token\n"), "{text}");
    assert!(!block("token").contains("ephemeral"), "{text}");
    let prefix = format!("{}/", dir.path().display());
    let notes: Vec<String> = plan
        .notes
        .iter()
        .map(|n| n.to_string().replace(&prefix, ""))
        .collect();
    let token = notes
        .iter()
        .find(|n| n.contains("`var.token` not made ephemeral"))
        .unwrap_or_else(|| panic!("no note for var.token: {notes:#?}"));
    assert!(
        token.contains(
            "it is used in the `error_message` of a `validation` of variable `token` at main.tf:30: Terraform does \
             not show a message built from an ephemeral value"
        ),
        "{token}"
    );
    assert!(
        !notes
            .iter()
            .any(|n| n.contains("`var.pw` not made ephemeral")),
        "{notes:#?}"
    );
    // A second run changes nothing.
    std::fs::write(dir.path().join("main.tf"), &text).expect("write");
    let again = plan_migration(dir.path(), &Options::default()).expect("plan");
    assert!(again.files.is_empty(), "{:#?}", again.files);
}

/// `ephemeral` on a variable needs Terraform 1.10; migrate makes one that a validation reads
/// ephemeral for 1.11 and later only (what was checked). A `required_version` that excludes the
/// version needed leaves the variable as it is, with a note.
#[test]
fn a_required_version_that_excludes_ephemeral_variables_leaves_them_alone() {
    let module = |required: &str, validation: bool| {
        let check = if validation {
            "\n  validation {\n    condition     = length(var.pw) >= 16\n    error_message = \"Too short.\"\n  }\n"
        } else {
            ""
        };
        format!(
            "terraform {{\n  required_version = \"{required}\"\n}}\n\n\
             variable \"pw\" {{\n  type      = string\n  sensitive = true\n{check}}}\n\n\
             resource \"aws_db_instance\" \"db\" {{\n  password = var.pw\n}}\n"
        )
    };
    for (required, validation, ephemeral) in [
        (">= 1.3", true, true),
        (">= 1.3", false, true),
        ("~> 1.10.0", false, true),
        ("~> 1.10.0", true, false),
        ("< 1.10", false, false),
        ("~> 1.9.0", true, false),
    ] {
        let (plan, text, _dir) = migrate_main(&[("main.tf", &module(required, validation))]);
        assert!(text.contains("password_wo"), "{text}");
        assert_eq!(
            text.contains("ephemeral = true"),
            ephemeral,
            "{required} {validation}: {text}"
        );
        let said = plan.notes.iter().any(|n| {
            n.message.starts_with(&format!(
                "`var.pw` not made ephemeral: `required_version` is \"{required}\", which excludes Terraform"
            ))
        });
        assert_eq!(
            said, !ephemeral,
            "{required} {validation}: {:#?}",
            plan.notes
        );
    }
}

/// An `ephemeral` block needs a provider version with that ephemeral resource: the ephemeral
/// `random_password` is hashicorp/random >= 3.7.0, the ephemeral
/// `google_secret_manager_secret_version` hashicorp/google >= 7.6.0 (later than the 6.24.0 of
/// `google_sql_user.password_wo`). The note says so, and a constraint that excludes it is a
/// warning, as for write-only arguments. Before, the ephemeral blocks were written with no word
/// of a version: `terraform init` kept random 3.6 / google 6.x, which reject them.
#[test]
fn a_version_constraint_that_excludes_an_ephemeral_block_is_a_warning() {
    let module = |random: &str, google: &str| {
        format!(
            "terraform {{\n  required_providers {{\n    random = {{\n      source  = \"hashicorp/random\"\n      version = \"{random}\"\n    }}\n    \
             google = {{\n      source  = \"hashicorp/google\"\n      version = \"{google}\"\n    }}\n  }}\n}}\n\n\
             resource \"random_password\" \"pw\" {{\n  length = 24\n}}\n\n\
             data \"google_secret_manager_secret_version\" \"api\" {{\n  secret = \"api\"\n}}\n\n\
             resource \"aws_rds_cluster\" \"a\" {{\n  cluster_identifier = \"a\"\n  master_password    = random_password.pw.result\n}}\n\n\
             resource \"google_sql_user\" \"u\" {{\n  name     = \"u\"\n  instance = \"i\"\n  password = data.google_secret_manager_secret_version.api.secret_data\n}}\n"
        )
    };
    let run = |random: &str, google: &str| {
        let (plan, text, _dir) = migrate_main(&[("main.tf", &module(random, google))]);
        assert!(
            text.contains("ephemeral \"random_password\" \"pw\"")
                && text.contains("ephemeral \"google_secret_manager_secret_version\" \"api\""),
            "{text}"
        );
        let warned: Vec<String> = plan
            .warnings
            .iter()
            .filter(|w| w.hazard == Hazard::VersionConstraintExcludes)
            .map(|w| w.message.clone())
            .collect();
        let notes: Vec<String> = plan.notes.iter().map(|n| n.message.clone()).collect();
        (warned, notes)
    };
    let (warned, notes) = run(">= 3.7.0", ">= 7.6.0");
    assert!(warned.is_empty(), "{warned:#?}");
    for expected in [
        "the ephemeral blocks introduced here need provider hashicorp/random >= 3.7.0 and Terraform >= 1.10",
        "the write-only arguments and ephemeral blocks introduced here need provider hashicorp/google >= 7.6.0 \
         and Terraform >= 1.11",
    ] {
        assert!(notes.iter().any(|n| n == expected), "{expected}\n{notes:#?}");
    }
    let (warned, _) = run("~> 3.6.0", "~> 6.30");
    assert_eq!(
        warned,
        [
            "the `version` of hashicorp/google in `required_providers` is \"~> 6.30\", which excludes 7.6.0 and later, \
             and the write-only arguments and ephemeral blocks introduced here need hashicorp/google >= 7.6.0: \
             `terraform init` would keep an older one, which rejects them; widen the constraint",
            "the `version` of hashicorp/random in `required_providers` is \"~> 3.6.0\", which excludes 3.7.0 and later, \
             and the ephemeral blocks introduced here need hashicorp/random >= 3.7.0: `terraform init` would keep an \
             older one, which rejects them; widen the constraint",
        ],
    );
}

/// `kubernetes_secret` (deprecated) is `kubernetes_secret_v1`'s schema under its old name
/// (hashicorp/kubernetes provider.go: `resourceKubernetesSecretV1("Deprecated; ...")`), so its
/// `binary_data` has the `binary_data_wo` twin too (facts row: "kubernetes_secret has
/// data_wo/binary_data_wo"). The table had only its `data`: a `binary_data` map of secrets was
/// left in the state.
#[test]
fn kubernetes_secret_binary_data_becomes_write_only() {
    let main =
        "resource \"kubernetes_secret\" \"tls\" {\n  metadata {\n    name = \"tls\"\n  }\n\n  \
                binary_data = {\n    \"tls.key\" = var.key_b64\n  }\n}\n";
    let (_plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert!(
        text.contains(
            "  binary_data_wo = {\n    \"tls.key\" = var.key_b64\n  }\n  binary_data_wo_revision = 1\n"
        ),
        "{text}"
    );
}

/// A secret written as literals is warned about whatever its shape: a map of strings
/// (`kubernetes_secret.data = { password = "..." }`, hashicorp/terraform-provider-kubernetes's
/// examples) is in plan JSON as the expression's `constant_value`, like a string; a
/// `jsonencode({...})` of strings (terraform-aws-eks-blueprints' external-secrets pattern) is
/// not there (Terraform 1.11.4: no `constant_value` for a function call) but stays in the
/// configuration. Before, only a plain string or template was a literal, and these went without
/// a word. Anything that reads a value is not a literal, and `null` or `{}` hold no secret.
#[test]
fn secrets_written_as_maps_or_encoded_literals_are_warned_about() {
    let main = "variable \"pw\" {\n  type = string\n}\n\n\
                resource \"kubernetes_secret\" \"map\" {\n  metadata {\n    name = \"m\"\n  }\n  data = {\n    username = \"admin\"\n    password = \"lit-1\"\n  }\n}\n\n\
                resource \"aws_ssm_parameter\" \"json\" {\n  name  = \"j\"\n  type  = \"SecureString\"\n  value = jsonencode({\n    username = \"admin\",\n    password = \"lit-2\"\n  })\n}\n\n\
                resource \"aws_secretsmanager_secret_version\" \"mixed\" {\n  secret_id     = \"s\"\n  secret_string = jsonencode({ username = \"admin\", password = var.pw })\n}\n\n\
                resource \"kubernetes_secret\" \"empty\" {\n  metadata {\n    name = \"e\"\n  }\n  data = {}\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert!(
        text.contains("data_wo = {") && text.contains("value_wo = jsonencode({"),
        "{text}"
    );
    let literal = warnings_of(&plan, Hazard::LiteralSecret);
    assert_eq!(
        literal,
        [
            "`kubernetes_secret.map.data` is a literal: it stays in the configuration and in plan JSON; pass it in \
             through an ephemeral variable or resource",
            "`aws_ssm_parameter.json.value` is built from literals: it stays in the configuration (and in the copy of \
             it a saved plan holds); pass it in through an ephemeral variable or resource",
        ],
        "{:#?}",
        plan.warnings
    );
    // The value itself is never quoted.
    for w in &plan.warnings {
        assert!(!w.message.contains("lit-"), "{}", w.message);
    }
}

/// hashicorp/vault 5.0.0, the first with the ephemeral `vault_kv_secret_v2`, requires Terraform
/// 1.11 (its CHANGELOG for 5.0.0), although ephemeral resources are Terraform 1.10: an ephemeral
/// vault block alone (no write-only argument) needs Terraform >= 1.11, and a `required_version`
/// that stops before 1.11 is a warning. Before, the note said Terraform >= 1.10 and the
/// constraint passed.
#[test]
fn an_ephemeral_vault_block_needs_terraform_1_11() {
    let main = "terraform {\n  required_version = \">= 1.10, < 1.11\"\n}\n\n\
                data \"vault_kv_secret_v2\" \"s\" {\n  mount = \"kv\"\n  name  = \"app\"\n}\n\n\
                provider \"aws\" {\n  secret_key = data.vault_kv_secret_v2.s.data[\"k\"]\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert!(
        text.contains("ephemeral \"vault_kv_secret_v2\" \"s\""),
        "{text}"
    );
    let notes = info_notes(&plan);
    assert!(
        notes.contains(
            &"the ephemeral blocks introduced here need provider hashicorp/vault >= 5.0.0 and Terraform >= 1.11"
        ),
        "{notes:#?}"
    );
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.hazard == Hazard::VersionConstraintExcludes
                && w.message.starts_with(
                    "`required_version` is \">= 1.10, < 1.11\", which excludes 1.11.0 and later"
                )),
        "{:#?}",
        plan.warnings
    );
}

/// A secret-reading data source scoped to a `check` block is stored in the state (seen with
/// Terraform 1.11.4: `data.terraform_remote_state.y` in a check is in `terraform state list`
/// with its attributes), and an `ephemeral` block cannot be nested in `check` ("Unsupported
/// block type"). migrate leaves the file as it is and a note says what to do. Before, it was
/// skipped without a word.
#[test]
fn a_secret_data_source_in_a_check_block_gets_a_note() {
    let main = "check \"health\" {\n  data \"aws_secretsmanager_secret_version\" \"y\" {\n    secret_id = \"app/db\"\n  }\n\n  \
                assert {\n    condition     = length(data.aws_secretsmanager_secret_version.y.secret_string) > 0\n    error_message = \"empty\"\n  }\n}\n\n\
                check \"other\" {\n  data \"aws_caller_identity\" \"me\" {}\n\n  assert {\n    condition     = data.aws_caller_identity.me.account_id != \"\"\n    error_message = \"none\"\n  }\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", main)]);
    assert!(rewritten(&plan, "main.tf").is_none(), "{plan:#?}");
    let notes: Vec<(usize, &str)> = plan
        .notes
        .iter()
        .map(|n| (n.line, n.message.as_str()))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert_eq!(notes[0].0, 2);
    assert!(
        notes[0].1.starts_with(
            "`data.aws_secretsmanager_secret_version.y` in `check \"health\"` not made ephemeral: \
             a data source scoped to a check is stored in the state"
        ) && notes[0].1.contains(
            "move it out of the check as `ephemeral \"aws_secretsmanager_secret_version\" \"y\"`"
        ),
        "{notes:#?}"
    );
}

/// hashicorp/tfe: a sensitive `tfe_variable` whose `value` is an expression becomes `value_wo`
/// and `value_wo_version`, which is hashicorp/tfe 0.75.0 (its CHANGELOG; 0.65.0 has `value_wo`
/// only, and refuses `value_wo_version` as an unsupported argument): the note says >= 0.75.0
/// and a constraint that stops before it is a warning. Before, both said 0.65.0, and
/// `~> 0.70.0` passed.
#[test]
fn a_sensitive_tfe_variable_needs_tfe_0_75_for_its_trigger() {
    let main = "terraform {\n  required_providers {\n    tfe = {\n      source  = \"hashicorp/tfe\"\n      version = \"~> 0.70.0\"\n    }\n  }\n}\n\n\
                resource \"tfe_variable\" \"t\" {\n  key          = \"token\"\n  value        = \"${var.tok}-${local.suffix}\"\n  category     = \"env\"\n  workspace_id = var.ws\n  sensitive    = true\n}\n";
    let (plan, text, _dir) = migrate_main(&[("main.tf", main)]);
    assert!(
        text.contains(
            "  value_wo         = \"${var.tok}-${local.suffix}\"\n  value_wo_version = 1\n"
        ),
        "{text}"
    );
    let notes = info_notes(&plan);
    assert!(
        notes.contains(
            &"the write-only arguments introduced here need provider hashicorp/tfe >= 0.75.0 and Terraform >= 1.11"
        ),
        "{notes:#?}"
    );
    assert!(
        plan.warnings.iter().any(|w| w.hazard == Hazard::VersionConstraintExcludes
            && w.message.starts_with(
                "the `version` of hashicorp/tfe in `required_providers` is \"~> 0.70.0\", which excludes 0.75.0 and later"
            )),
        "{:#?}",
        plan.warnings
    );
}

/// The EKS token a kubernetes or helm provider reads (the most common data source that holds a
/// credential) becomes the ephemeral `aws_eks_cluster_auth` (hashicorp/aws 5.84.0), whose
/// arguments are the data source's (`name`, `region`) and whose `token` is its secret. Its `id`
/// has no counterpart in the ephemeral form, so a use of it keeps the data source.
#[test]
fn an_eks_cluster_auth_token_read_by_providers_becomes_ephemeral() {
    let module = |extra: &str| {
        format!(
            "terraform {{\n  required_providers {{\n    aws = {{\n      source  = \"hashicorp/aws\"\n      version = \">= 5.84.0\"\n    }}\n  }}\n}}\n\n\
             # the token for the cluster\n\
             data \"aws_eks_cluster_auth\" \"this\" {{\n  name = \"prod\"\n}}\n\n\
             provider \"kubernetes\" {{\n  host  = \"https://example\"\n  token = data.aws_eks_cluster_auth.this.token\n}}\n\n\
             provider \"helm\" {{\n  kubernetes {{\n    token = data.aws_eks_cluster_auth.this.token\n  }}\n}}\n{extra}"
        )
    };
    let (plan, text, _dir) = migrate_main(&[("main.tf", &module(""))]);
    assert!(
        text.contains("# the token for the cluster\nephemeral \"aws_eks_cluster_auth\" \"this\" {\n  name = \"prod\"\n}")
            && text.matches("token = ephemeral.aws_eks_cluster_auth.this.token").count() == 2
            && !text.contains("data.aws_eks_cluster_auth"),
        "{text}"
    );
    let notes = info_notes(&plan);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("need provider hashicorp/aws >= 5.84.0")),
        "{notes:#?}"
    );
    // A use of `id` stops the conversion, with the reason, even where an ephemeral value is
    // taken (a provider), since `ephemeral.aws_eks_cluster_auth.this.id` would not validate.
    let (plan, text, _dir) = migrate_main(&[(
        "main.tf",
        &module("\nprovider \"kubernetes\" {\n  alias          = \"ctx\"\n  config_context = data.aws_eks_cluster_auth.this.id\n}\n"),
    )]);
    assert!(!text.contains("ephemeral"), "{text}");
    assert!(
        plan.notes.iter().any(|n| n.message.contains(
            "`data.aws_eks_cluster_auth.this` not made ephemeral: `id` (provider `kubernetes`"
        ) && n.message.contains(
            "has no counterpart in the ephemeral `aws_eks_cluster_auth`; read `name` instead"
        )),
        "{:#?}",
        plan.notes
    );
    // The ephemeral form is too old for an excluding constraint.
    let (plan, _text, _dir) =
        migrate_main(&[("main.tf", &module("").replace(">= 5.84.0", "~> 5.80.0"))]);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.hazard == Hazard::VersionConstraintExcludes
                && w.message.contains("hashicorp/aws >= 5.84.0")),
        "{:#?}",
        plan.warnings
    );
}

/// A module output beside the write-only twin (`password = module.creds.password` and
/// `password_wo = ...`) is the same run-time choice as a variable defaulting to null, one level
/// down, in a module migrate does not read: a note, not the conflict warning telling the user to
/// remove a form that may well be null. A literal beside the twin still is the conflict.
#[test]
fn a_module_output_beside_its_write_only_twin_is_a_note_not_a_conflict() {
    let tf = "module \"creds\" {\n  source = \"./creds\"\n}\n\n\
              resource \"aws_db_instance\" \"db\" {\n  password            = module.creds.password\n  password_wo         = module.creds.password_wo\n  password_wo_version = 1\n}\n\n\
              resource \"aws_rds_cluster\" \"c\" {\n  master_password             = (module.creds.all[0].password)\n  master_password_wo          = \"x\"\n  master_password_wo_version = 1\n}\n\n\
              resource \"aws_docdb_cluster\" \"d\" {\n  master_password             = \"y\"\n  master_password_wo          = \"x\"\n  master_password_wo_version = 1\n}\n";
    let (plan, _text, _dir) = migrate_main(&[("main.tf", tf), ("creds/main.tf", "")]);
    let warned = warnings_of(&plan, Hazard::BothForms);
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0].starts_with("`aws_docdb_cluster.d` sets both"),
        "{}",
        warned[0]
    );
    let notes = notes_containing(&plan, "sets both");
    assert_eq!(notes.len(), 2, "{notes:#?}");
    assert!(
        notes[0].contains("`password` may be null (`module.creds.password` is a module output, which may be null)"),
        "{}",
        notes[0]
    );
    assert!(
        notes[1].contains("`master_password` may be null (`module.creds.all` is a module output"),
        "{}",
        notes[1]
    );
}

/// The ephemeral `aws_ssm_parameter` has no `insecure_value` and no `id`, and the ephemeral
/// `aws_secretsmanager_secret_version` no `id` (hashicorp/aws 5.100.0's schema, from
/// `terraform providers schema -json`). A conversion of a data source read through one of them,
/// in a place that takes an ephemeral value (a provider block), wrote
/// `ephemeral.aws_ssm_parameter.p.insecure_value`: "Unsupported attribute" at `terraform
/// validate`. The data source stays, with a note naming the use and what to read instead.
#[test]
fn a_data_source_read_through_an_attribute_its_ephemeral_form_lacks_stays() {
    for (ty, args, attr, instead) in [
        (
            "aws_ssm_parameter",
            "name = \"arn:aws:ssm:eu-west-1:111122223333:parameter/db\"",
            "insecure_value",
            "`value`",
        ),
        (
            "aws_ssm_parameter",
            "name = \"arn:aws:ssm:eu-west-1:111122223333:parameter/db\"",
            "id",
            "`name`",
        ),
        (
            "aws_secretsmanager_secret_version",
            "secret_id = \"prod/db\"",
            "id",
            "`arn` and `version_id`",
        ),
    ] {
        let main = format!(
            "data \"{ty}\" \"p\" {{\n  {args}\n}}\n\n\
             provider \"postgresql\" {{\n  password = data.{ty}.p.{attr}\n}}\n"
        );
        let (plan, text, _dir) = migrate_main(&[("main.tf", &main)]);
        assert!(!text.contains("ephemeral"), "{ty}.{attr}: {text}");
        assert!(
            plan.notes.iter().any(|n| n.message.contains(&format!(
                "`data.{ty}.p` not made ephemeral: `{attr}` (provider `postgresql`"
            )) && n.message.contains(&format!(
                "has no counterpart in the ephemeral `{ty}`; read {instead} instead"
            ))),
            "{ty}.{attr}: {:#?}",
            plan.notes
        );
        // The attributes the ephemeral form has still convert.
        let good = if ty == "aws_ssm_parameter" {
            "value"
        } else {
            "secret_string"
        };
        let (_plan, text, _dir) = migrate_main(&[(
            "main.tf",
            &main.replace(&format!(".p.{attr}"), &format!(".p.{good}")),
        )]);
        assert!(
            text.contains(&format!("password = ephemeral.{ty}.p.{good}")),
            "{ty}.{good}: {text}"
        );
    }
}

/// Bug hunt: a `required_version` that still lets a Terraform older than 1.11 run (`>= 1.5,
/// < 2.0`, `~> 1.9`) was not warned about (only one that excluded 1.11 and later was), nor a
/// module with none: such a Terraform fails on the `password_wo` migrate wrote instead of on the
/// constraint. Now a warning names the file and line of the constraint (or the module, when
/// there is none) and the constraint to write. All of a module's constraints count together,
/// an override file's replace them, and a called module without one is left to its root.
#[test]
fn a_required_version_that_admits_terraform_before_1_11_is_a_warning() {
    let resource = "variable \"p\" {\n  type      = string\n  sensitive = true\n}\n\n\
                    resource \"aws_rds_cluster\" \"a\" {\n  cluster_identifier = \"a\"\n  master_password    = var.p\n}\n";
    let with = |constraint: &str| {
        format!("terraform {{\n  required_version = \"{constraint}\"\n}}\n\n{resource}")
    };
    // Files, and the warnings expected as (file name, line, what the message ends with).
    type Case<'a> = (Vec<(&'a str, String)>, Vec<(&'a str, usize, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            vec![("main.tf", with(">= 1.5, < 2.0"))],
            vec![("main.tf", 2, "make it \">= 1.11.0, < 2.0.0\"")],
        ),
        (
            vec![("main.tf", with("~> 1.9"))],
            vec![("main.tf", 2, "make it \">= 1.11.0, < 2.0.0\"")],
        ),
        (
            vec![("main.tf", with("> 1.10"))],
            vec![("main.tf", 2, "make it \">= 1.11.0\"")],
        ),
        (vec![("main.tf", with("= 1.12.0"))], vec![]),
        (vec![("main.tf", with(">= 1.11"))], vec![]),
        // Excludes 1.11 and later: the other warning says so, not this one.
        (vec![("main.tf", with("~> 1.10.0"))], vec![]),
        // Two files: Terraform checks both.
        (
            vec![
                ("main.tf", with(">= 1.5")),
                (
                    "versions.tf",
                    "terraform {\n  required_version = \">= 1.11, < 2.0\"\n}\n".to_owned(),
                ),
            ],
            vec![],
        ),
        (
            vec![
                ("main.tf", with("< 2.0")),
                (
                    "versions.tf",
                    "# pinned\nterraform {\n  required_version = \">= 1.6\"\n}\n".to_owned(),
                ),
            ],
            vec![("versions.tf", 3, "make it \">= 1.11.0\"")],
        ),
        // An override file's constraint replaces the others.
        (
            vec![
                ("main.tf", with(">= 1.11")),
                (
                    "override.tf",
                    "terraform {\n  required_version = \">= 1.3\"\n}\n".to_owned(),
                ),
            ],
            vec![("override.tf", 2, "make it \">= 1.11.0\"")],
        ),
        (
            vec![
                ("main.tf", with(">= 1.5")),
                (
                    "override.tf",
                    "terraform {\n  required_version = \">= 1.11\"\n}\n".to_owned(),
                ),
            ],
            vec![],
        ),
        // None: the `terraform` block, if there is one, else the module.
        (
            vec![("main.tf", format!("terraform {{\n}}\n\n{resource}"))],
            vec![(
                "main.tf",
                1,
                "add `required_version = \">= 1.11.0\"` to this `terraform` block",
            )],
        ),
        (
            vec![("main.tf", resource.to_owned())],
            vec![(
                "",
                0,
                "add `terraform { required_version = \">= 1.11.0\" }` to one of its files",
            )],
        ),
        // A called module without one: its root decides.
        (
            vec![
                (
                    "main.tf",
                    "terraform {\n  required_version = \">= 1.11\"\n}\n".to_owned(),
                ),
                ("modules/db/main.tf", resource.to_owned()),
            ],
            vec![],
        ),
        // A run over a repository of roots: one with a backend is a root, wherever it is.
        (
            vec![
                (
                    "envs/prod/main.tf",
                    format!("terraform {{\n  backend \"s3\" {{}}\n}}\n\n{resource}"),
                ),
                ("modules/db/main.tf", resource.to_owned()),
            ],
            vec![(
                "envs/prod/main.tf",
                1,
                "add `required_version = \">= 1.11.0\"` to this `terraform` block",
            )],
        ),
    ];
    for (files, expected) in cases {
        let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let (plan, dir) = migrate_text(&files);
        assert!(!plan.is_empty(), "{files:?}: still migrated");
        let got: Vec<(String, usize, bool)> = plan
            .warnings
            .iter()
            .filter(|w| w.hazard == Hazard::OlderTerraformAdmitted)
            .map(|w| {
                let name = w
                    .path
                    .strip_prefix(dir.path())
                    .unwrap_or(&w.path)
                    .display()
                    .to_string();
                let suggestion = expected.iter().any(|(_, _, s)| w.message.ends_with(s));
                (name, w.line, suggestion)
            })
            .collect();
        let want: Vec<(String, usize, bool)> = expected
            .iter()
            .map(|(name, line, _)| ((*name).to_owned(), *line, true))
            .collect();
        assert_eq!(got, want, "{files:?}");
    }
    // The message names what needs which Terraform and why the constraint matters.
    let (plan, _dir) = migrate_text(&[("main.tf", &with("~> 1.9"))]);
    let shown = plan
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        shown.contains(
            "main.tf:2: warning: `required_version` is \"~> 1.9\", which lets Terraform 1.9.0 run this module, and \
             the write-only arguments introduced here need Terraform >= 1.11.0"
        ),
        "{shown}"
    );
}

/// An `ephemeral = true` migrate adds to a variable needs Terraform 1.10: a constraint that
/// still admits 1.9 is a warning even when nothing else needs a newer Terraform.
#[test]
fn an_ephemeral_variable_needs_a_required_version_from_1_10() {
    let tf = "terraform {\n  required_version = \">= 1.0\"\n}\n\n\
              variable \"pw\" {\n  type      = string\n  sensitive = true\n}\n\n\
              provider \"postgresql\" {\n  password = var.pw\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", tf)]);
    assert_eq!(
        warnings_of(&plan, Hazard::OlderTerraformAdmitted),
        vec![
            "`required_version` is \">= 1.0\", which lets Terraform 1.0.0 run this module, and the ephemeral \
             variables introduced here need Terraform >= 1.10.0: an older Terraform does not stop at the \
             constraint with a version message but fails on what migrate wrote (\"Unsupported block type\" or \
             \"Unsupported argument\", or the provider refusing write-only attributes before Terraform 1.11); \
             make it \">= 1.10.0\""
        ]
    );
}

/// `google_client_config`'s `access_token` (an OAuth bearer token of whoever runs Terraform) is
/// stored in the state by the data source, which is what configures the kubernetes and helm
/// providers on GKE. hashicorp/google 7.10.0 has the ephemeral `google_client_config` (PR
/// #24900: the same attributes, no arguments), so a data source read only by providers becomes
/// it; one also read for `project` by a resource stays, with the reason.
#[test]
fn a_google_client_config_read_by_providers_becomes_ephemeral() {
    let module = |extra: &str| {
        format!(
            "data \"google_client_config\" \"default\" {{}}\n\n\
             provider \"kubernetes\" {{\n  host  = \"https://example\"\n  token = data.google_client_config.default.access_token\n}}\n\n\
             provider \"helm\" {{\n  kubernetes {{\n    token = data.google_client_config.default.access_token\n  }}\n}}\n{extra}"
        )
    };
    let (plan, text, _dir) = migrate_main(&[("main.tf", &module(""))]);
    assert!(
        text.starts_with("ephemeral \"google_client_config\" \"default\" {}\n")
            && text
                .matches("token = ephemeral.google_client_config.default.access_token")
                .count()
                == 2
            && !text.contains("data.google_client_config"),
        "{text}"
    );
    let notes = info_notes(&plan);
    assert!(
        notes.iter().any(|n| n.contains(
            "the ephemeral blocks introduced here need provider hashicorp/google >= 7.10.0 and Terraform >= 1.10"
        )),
        "{notes:#?}"
    );
    let (plan, text, _dir) = migrate_main(&[(
        "main.tf",
        &module("\nresource \"google_storage_bucket\" \"b\" {\n  name    = \"b\"\n  project = data.google_client_config.default.project\n}\n"),
    )]);
    assert!(text.is_empty(), "{text}");
    assert!(
        plan.notes.iter().any(|n| n
            .message
            .contains("`data.google_client_config.default` not made ephemeral: it is used in")),
        "{:#?}",
        plan.notes
    );
}

/// An override file's `required_version` takes the place of the `.tf` files' (Terraform's
/// override merge), and migrate's check that a constraint excludes Terraform 1.11 read `.tf`
/// files only: `versions_override.tf` pinning `~> 1.10.0` under a `main.tf` saying `>= 1.11`
/// went without a word, and `terraform plan` then fails on every `*_wo` migrate wrote.
#[test]
fn an_override_file_whose_required_version_excludes_1_11_is_a_warning() {
    let main = "terraform {\n  required_version = \">= 1.11\"\n}\n\n\
                variable \"p\" {\n  type      = string\n  sensitive = true\n}\n\n\
                resource \"aws_rds_cluster\" \"a\" {\n  cluster_identifier = \"a\"\n  master_password    = var.p\n}\n";
    let pin = "# pinned for the CI image\nterraform {\n  required_version = \"~> 1.10.0\"\n}\n";
    let (plan, _dir) = migrate_text(&[("main.tf", main), ("versions_override.tf", pin)]);
    let excludes: Vec<(String, usize, &str)> = plan
        .warnings
        .iter()
        .filter(|w| w.hazard == Hazard::VersionConstraintExcludes)
        .map(|w| {
            let name = w
                .path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, w.line, w.message.as_str())
        })
        .collect();
    assert_eq!(
        excludes,
        vec![(
            "versions_override.tf".to_owned(),
            3,
            "`versions_override.tf` overrides the module's `required_version` with \"~> 1.10.0\", which excludes \
             1.11.0 and later, and the write-only arguments introduced here need Terraform >= 1.11.0: widen the \
             constraint (migrate does not rewrite this file)"
        )]
    );
    // Excluded in a `.tf` file: the `.tf` files' check says it, once.
    let (plan, _dir) = migrate_text(&[("main.tf", &main.replace(">= 1.11", "~> 1.10.0"))]);
    assert_eq!(
        warnings_of(&plan, Hazard::VersionConstraintExcludes).len(),
        1
    );
    // Excluded in a `.tf` file that an override replaces: Terraform never applies it, so it is
    // not warned about; the override's constraint is what counts (here it admits 1.11 only).
    let old_main = main.replace(">= 1.11", "~> 1.10.0");
    let (plan, _dir) = migrate_text(&[
        ("main.tf", &old_main),
        ("versions_override.tf", &pin.replace("~> 1.10.0", ">= 1.11")),
    ]);
    assert!(
        warnings_of(&plan, Hazard::VersionConstraintExcludes).is_empty()
            && warnings_of(&plan, Hazard::OlderTerraformAdmitted).is_empty(),
        "{:#?}",
        plan.warnings
    );
    // Both exclude it: the override is named, not the `.tf` constraint it replaces.
    let (plan, _dir) = migrate_text(&[("main.tf", &old_main), ("versions_override.tf", pin)]);
    let named: Vec<String> = plan
        .warnings
        .iter()
        .filter(|w| w.hazard == Hazard::VersionConstraintExcludes)
        .map(|w| w.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(named, ["versions_override.tf"]);
}
