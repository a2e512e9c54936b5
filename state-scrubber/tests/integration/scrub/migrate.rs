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

/// Bug hunt: one unparsable `.tf` file anywhere in the tree stops the run with exit 2 (bad
/// input), and all or nothing: the good module is not written either. The message names the
/// file, line and column, says nothing was written, and does not quote the line.
#[test]
fn migrate_a_parse_error_deep_in_the_tree_names_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tf = "resource \"aws_db_instance\" \"main\" {\n  password = var.db_password\n}\n";
    std::fs::write(dir.path().join("main.tf"), tf).unwrap();
    let deep = dir.path().join("modules").join("db");
    std::fs::create_dir_all(&deep).unwrap();
    let planted = crate::util::plant("parse-error-line-value-0000");
    let bad = format!("resource \"a\" \"b\" {{\n  password = \"{planted}\"\n  x = \n}}\n");
    std::fs::write(deep.join("bad.tf"), &bad).unwrap();
    let d = dir.path().to_str().unwrap();
    let o = run(&["migrate", d, "--write"], None);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains(&planted), "stderr quotes the bad file's line");
    let at = format!("{}:3:7: HCL parse error", deep.join("bad.tf").display());
    assert!(err.contains(&at), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert!(o.stdout.is_empty(), "no diff printed");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("main.tf")).unwrap(),
        tf
    );
    assert_eq!(std::fs::read_to_string(deep.join("bad.tf")).unwrap(), bad);
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

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `migrate --write` writes a `.tf` file where `terraform fmt` would: as root a read-only file
/// (mode 0444) is rewritten, its mode, owner and group kept (the rename used to leave it root's).
/// As another user, a file it may not write, a directory where it may not make the new file, or
/// a file whose owner the new one could not be given is exit 2 naming the file, with nothing
/// written in any file of the run (the file planned before it included) and no temporary file
/// left.
#[test]
fn migrate_write_writes_only_what_the_user_may_write_and_keeps_the_owner() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if !is_root() || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("note: needs root and setpriv to run migrate as another user; test skipped");
        return;
    }
    let tf = "resource \"aws_db_instance\" \"main\" {\n  password = var.db_password\n}\n";
    let stat = |p: &Path| {
        let m = std::fs::metadata(p).unwrap();
        (m.uid(), m.gid(), m.mode() & 0o7777)
    };
    let listing = |d: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };

    // Root: a read-only file of uid 4242 is rewritten, mode 0444, owner and group kept.
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.tf");
    std::fs::write(&main, tf).unwrap();
    std::fs::set_permissions(&main, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::os::unix::fs::chown(&main, Some(4242), Some(4343)).unwrap();
    let o = run(&["migrate", dir.path().to_str().unwrap(), "--write"], None);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(std::fs::read_to_string(&main)
        .unwrap()
        .contains("password_wo_version"));
    assert_eq!(
        stat(&main),
        (4242, 4343, 0o444),
        "after migrate --write as root"
    );

    // Another user (uid 4242): every directory up to the fixture must let it through.
    let top = tempfile::tempdir().unwrap();
    let mut up = top.path().parent();
    while let Some(d) = up {
        if std::fs::metadata(d).unwrap().mode() & 0o001 == 0 {
            eprintln!(
                "note: {} is not searchable by others; rest of the test skipped",
                d.display()
            );
            return;
        }
        up = d.parent();
    }
    let as_user = |dir: &Path| {
        let mut cmd = super::command(
            "/usr/bin/setpriv",
            &[
                "--reuid",
                "4242",
                "--regid",
                "4242",
                "--clear-groups",
                BIN,
                "migrate",
                dir.to_str().unwrap(),
                "--write",
            ],
        );
        cmd.env("HOME", dir);
        cmd.output().unwrap()
    };
    // The module's directory (the run's root) and a child module's, the user's; in each case
    // a.tf (planned and prepared first) could be written, m/b.tf not.
    let cases: [(&str, u32, u32, u32, &str); 3] = [
        (
            "read-only",
            0o755,
            4242,
            0o444,
            "this user may not write it",
        ),
        (
            "directory",
            0o555,
            4242,
            0o644,
            "where this user may not create a file",
        ),
        (
            "owner",
            0o755,
            4343,
            0o666,
            "it is owned by uid 4343, gid 4343",
        ),
    ];
    for (case, dir_mode, b_owner, b_mode, says) in cases {
        let root = top.path().join(case);
        let child = root.join("m");
        std::fs::create_dir_all(&child).unwrap();
        let (a, b) = (root.join("a.tf"), child.join("b.tf"));
        std::fs::write(&a, tf).unwrap();
        std::fs::write(&b, tf).unwrap();
        for p in [&root, &child, &a] {
            std::os::unix::fs::chown(p, Some(4242), Some(4242)).unwrap();
        }
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::chown(&b, Some(b_owner), Some(b_owner)).unwrap();
        std::fs::set_permissions(&b, std::fs::Permissions::from_mode(b_mode)).unwrap();
        std::fs::set_permissions(&child, std::fs::Permissions::from_mode(dir_mode)).unwrap();
        let o = as_user(&root);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{case}: {err}");
        assert!(
            err.contains(&format!("{}: --write", b.display()))
                && err.contains(says)
                && err.contains("nothing was written"),
            "{case}: {err}"
        );
        assert_eq!(std::fs::read_to_string(&a).unwrap(), tf, "{case}: a.tf");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), tf, "{case}: m/b.tf");
        assert_eq!(stat(&a), (4242, 4242, 0o644), "{case}: a.tf");
        assert_eq!(stat(&b), (b_owner, b_owner, b_mode), "{case}: m/b.tf");
        assert_eq!(listing(&root), ["a.tf", "m"], "{case}: files left behind");
        assert_eq!(listing(&child), ["b.tf"], "{case}: files left behind");
        std::fs::set_permissions(&child, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
