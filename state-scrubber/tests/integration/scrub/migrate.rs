//! `migrate`: the diff, masked context lines, `--prefix`.

use super::*;

#[test]
fn migrate_prints_a_diff_and_parse_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let tf = "resource \"aws_db_instance\" \"main\" {\n  username = \"app\"\n  password = var.db_password\n}\n";
    std::fs::write(dir.path().join("main.tf"), tf).unwrap();
    let d = dir.path().to_str().unwrap();
    let o = run(&["migrate", d], None);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("+  password_wo"), "{out}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("main.tf")).unwrap(),
        tf
    );
    let o = run(&["migrate", d, "--write"], None);
    assert_eq!(o.status.code(), Some(0));
    assert!(std::fs::read_to_string(dir.path().join("main.tf"))
        .unwrap()
        .contains("password_wo_version"));
    let o = run(&["migrate", d], None);
    assert!(o.stdout.is_empty(), "second run changes nothing");

    std::fs::write(dir.path().join("bad.tf"), "resource \"x\" {\n  a = \n").unwrap();
    let o = run(&["migrate", d], None);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.tf:"), "{err}");
}

/// Review finding: the dry-run diff masked literals by argument name only, so a sensitive
/// variable's `default` (shown as context next to the added `ephemeral = true`), a Stripe key in
/// `locals` and a URL with a password under `tags` were printed in full.
#[test]
fn migrate_dry_run_masks_secrets_on_context_lines() {
    let alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let pick = |n: usize| -> String {
        let mut r = rand::rng();
        let value: String = (0..n)
            .map(|_| alnum.as_bytes()[r.random_range(0..alnum.len())] as char)
            .collect();
        crate::util::plant(&value)
    };
    let github = crate::util::plant(&format!("{}{}", "ghp_", pick(36)));
    let stripe = crate::util::plant(&format!("{}{}", "sk_live_", pick(24)));
    let url_password = pick(16);
    let default = pick(16);
    let heredoc_token = crate::util::plant(&format!("{}{}", "ghp_", pick(36)));
    let plain_secret = pick(20);
    let tf = format!(
        r#"provider "github" {{
  token = "{github}"
}}
locals {{
  stripe_key = "{stripe}"
}}
resource "aws_db_instance" "main" {{
  password = var.db_password
  tags = {{
    secret = "{plain_secret}"
    note   = "postgres://app:{url_password}@db:5432/app"
  }}
}}
variable "db_password" {{
  description = <<-EOT
    was {heredoc_token}
  EOT
  sensitive   = true
  default     = "{default}"
  type        = string
}}
"#
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), &tf).unwrap();
    let o = run(&["migrate", dir.path().to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    // Every value below sits on a printed line (context or changed).
    // (The diff itself is not printed on failure: it may hold the fake secrets.)
    for shown in [
        "+  ephemeral   = true",
        " stripe_key = \"***\"",
        "  default     = \"***\"",
        " note   = \"***\"",
        " type        = string",
    ] {
        assert!(out.contains(shown), "diff lacks {shown:?}");
    }
    for value in [
        &github,
        &stripe,
        &url_password,
        &default,
        &heredoc_token,
        &plain_secret,
    ] {
        assert_no_canary(value, "migrate stdout", &o.stdout);
        assert_no_canary(value, "migrate stderr", &o.stderr);
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("main.tf")).unwrap(),
        tf
    );
}

#[test]
fn migrate_prefix_moves_terraform_data_secrets_and_rejects_a_bad_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let tf = "variable \"token\" {\n  type      = string\n  sensitive = true\n}\n\nresource \"terraform_data\" \"hook\" {\n  input = var.token\n}\n";
    std::fs::write(dir.path().join("main.tf"), tf).unwrap();
    let d = dir.path().to_str().unwrap();

    // Without --prefix: a note, nothing to change.
    let o = run(&["migrate", d], None);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`terraform_data.hook.input` stores a secret"),
        "{err}"
    );

    // A prefix that cannot start a secret name: exit 2, nothing written, the prefix named.
    for bad in ["has space", "", "/"] {
        let o = run(&["migrate", d, "--prefix", bad, "--write"], None);
        assert_eq!(o.status.code(), Some(2), "--prefix {bad:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("--prefix"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("main.tf")).unwrap(),
            tf
        );
    }

    let o = run(&["migrate", d, "--prefix", "prod/app/", "--write"], None);
    assert_eq!(o.status.code(), Some(0));
    let migrated = std::fs::read_to_string(dir.path().join("main.tf")).unwrap();
    for piece in [
        "resource \"offstate_secret\" \"hook_input\"",
        "name             = \"prod/app/hook/input\"",
        "value_wo         = var.token",
        "input = provider::offstate::ref(offstate_secret.hook_input.name)",
        "ephemeral = true",
        "source = \"offstate/offstate\"",
    ] {
        assert!(migrated.contains(piece), "lacks {piece}:\n{migrated}");
    }
    let o = run(&["migrate", d, "--prefix", "prod/app"], None);
    assert!(o.stdout.is_empty(), "second run changes nothing");
}
