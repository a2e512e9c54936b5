//! Golden tests: `tests/golden/<case>/input/**.tf` migrates to `expected/**.tf` (the whole tree),
//! the diff users see is `expected.diff`, and the warnings and notes are `expected.report`.
//! For every case we also check idempotence, that no line outside the declared edit spans
//! changed, and (when a `terraform` binary is on PATH or in `$TERRAFORM`) `terraform fmt -check`.
//!
//! `UPDATE_GOLDEN=1 cargo test --release -p hcl-migrate --test integration golden::` rewrites
//! the expectations; review them before committing.

use hcl_migrate::{plan_migration, MigrationPlan, Options};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn golden_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn tf_files(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "tf") {
                let rel = path.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(rel, std::fs::read_to_string(&path).expect("read"));
            }
        }
    }
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, text) in tf_files(from) {
        let dest = to.join(&rel);
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::write(dest, text).expect("write");
    }
}

fn report(plan: &MigrationPlan) -> String {
    let root = plan.root.display().to_string();
    let mut lines: Vec<String> = plan.warnings.iter().map(ToString::to_string).collect();
    lines.extend(plan.notes.iter().map(ToString::to_string));
    for file in &plan.files {
        for edit in &file.edits {
            lines.push(format!(
                "{}:{}: edit: {}",
                file.path.display(),
                edit.line,
                edit.message
            ));
        }
    }
    let mut text: Vec<String> = lines
        .into_iter()
        .map(|l| l.replace(&format!("{root}/"), "").replace(&root, "."))
        .collect();
    text.sort();
    text.join("\n") + "\n"
}

fn terraform() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TERRAFORM") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("terraform"))
            .find(|candidate| candidate.is_file())
    })
}

/// Every changed original line must lie in the plan's `changed_lines`; every inserted line must
/// sit next to one.
fn assert_only_declared_lines_changed(plan: &MigrationPlan, case: &str) {
    for file in &plan.files {
        let old: Vec<&str> = file.original.lines().collect();
        let new: Vec<&str> = file.rewritten.lines().collect();
        let declared = |line: usize| file.changed_lines.iter().any(|r| r.contains(&line));
        // Longest common subsequence by dynamic programming: the fixtures are small.
        let (n, m) = (old.len(), new.len());
        let mut lcs = vec![vec![0u32; m + 1]; n + 1];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i][j] = if old[i] == new[j] {
                    lcs[i + 1][j + 1] + 1
                } else {
                    lcs[i + 1][j].max(lcs[i][j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && old[i] == new[j] {
                i += 1;
                j += 1;
            } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
                // Inserted line: must be adjacent to a declared original line. The diff may slide
                // an insertion across blank lines, so look past those on either side.
                let mut before = i;
                while before > 0 && old[before - 1].trim().is_empty() && !declared(before) {
                    before -= 1;
                }
                let mut after = i + 1;
                while after <= n && old[after - 1].trim().is_empty() && !declared(after) {
                    after += 1;
                }
                assert!(
                    declared(before) || declared(after) || (i == n && declared(n)),
                    "{case}: {}: inserted line {:?} at original line {} is outside the edited spans {:?}",
                    file.path.display(),
                    new[j],
                    i + 1,
                    file.changed_lines
                );
                j += 1;
            } else {
                assert!(
                    declared(i + 1),
                    "{case}: {}: original line {} {:?} changed outside the edited spans {:?}",
                    file.path.display(),
                    i + 1,
                    old[i],
                    file.changed_lines
                );
                i += 1;
            }
        }
    }
}

#[test]
fn golden_cases() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let terraform = terraform();
    if terraform.is_none() {
        eprintln!("golden: no `terraform` on PATH and no $TERRAFORM; skipping the `terraform fmt -check` step");
    }
    let mut cases: Vec<PathBuf> = std::fs::read_dir(golden_root())
        .expect("golden dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "golden corpus is missing");
    for case_dir in cases {
        let case = case_dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let work = tempfile::tempdir().expect("tempdir");
        copy_tree(&case_dir.join("input"), work.path());
        let before = tf_files(work.path());
        // A case may name the `--prefix` it is migrated with in a `prefix` file.
        let opts = Options {
            secret_prefix: std::fs::read_to_string(case_dir.join("prefix"))
                .ok()
                .map(|p| p.trim().to_owned()),
            ..Options::default()
        };
        let plan = plan_migration(work.path(), &opts).expect("plan");
        // Planning reads only.
        assert_eq!(
            tf_files(work.path()),
            before,
            "{case}: planning touched the input"
        );
        let diff = plan.unified_diff(&|_, _| false);
        let report = report(&plan);
        plan.write().expect("write");
        let after = tf_files(work.path());

        let expected_dir = case_dir.join("expected");
        if update {
            let _ = std::fs::remove_dir_all(&expected_dir);
            for (rel, text) in &after {
                let dest = expected_dir.join(rel);
                std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
                std::fs::write(dest, text).expect("write");
            }
            std::fs::write(case_dir.join("expected.diff"), &diff).expect("write diff");
            std::fs::write(case_dir.join("expected.report"), &report).expect("write report");
        }
        let expected = tf_files(&expected_dir);
        assert_eq!(
            after.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{case}: file set"
        );
        for (rel, text) in &expected {
            assert_eq!(
                &after[rel],
                text,
                "{case}: {} differs from expected",
                rel.display()
            );
        }
        let expected_diff =
            std::fs::read_to_string(case_dir.join("expected.diff")).expect("expected.diff");
        assert_eq!(diff, expected_diff, "{case}: diff");
        let expected_report =
            std::fs::read_to_string(case_dir.join("expected.report")).expect("expected.report");
        assert_eq!(report, expected_report, "{case}: report");

        assert_only_declared_lines_changed(&plan, &case);

        // Idempotent: the migrated tree, and the committed expectation, plan to nothing.
        let again = plan_migration(work.path(), &opts).expect("plan again");
        assert!(
            again.is_empty(),
            "{case}: second run changes {:?}",
            again.files.iter().map(|f| &f.path).collect::<Vec<_>>()
        );
        assert!(plan_migration(&expected_dir, &opts)
            .expect("plan expected")
            .is_empty());

        if let Some(terraform) = &terraform {
            let output = Command::new(terraform)
                .args(["fmt", "-check", "-recursive", "-list=true"])
                .arg(work.path())
                .env("TF_CLI_CONFIG_FILE", "/dev/null")
                .output()
                .expect("run terraform fmt");
            assert!(
                output.status.success(),
                "{case}: terraform fmt -check failed on: {}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
    }
}
