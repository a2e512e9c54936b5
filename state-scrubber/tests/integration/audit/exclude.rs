//! `--exclude GLOB`: what a walk (or an S3 listing) leaves out.

use super::*;

// ---- --exclude GLOB: what a walk (or an S3 listing) leaves out --------------------------------

const ZIP: &[u8] = b"PK\x03\x04\x14\x00\x08\x00rest of a zip";

/// The entries of the JSON report's `files` that `--exclude` left out: (file, note).
fn excluded_files(r: &Run) -> Vec<(String, String)> {
    r.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["notes"].as_array().is_some_and(|n| {
                n.iter()
                    .any(|n| n.as_str().unwrap().starts_with("excluded by --exclude"))
            })
        })
        .map(|f| {
            assert_eq!(f["status"], "skipped", "{f}");
            assert_eq!(f["bytes"], 0, "{f}");
            (
                f["file"].as_str().unwrap().to_string(),
                f["notes"][0].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The files of [`excluded_files`].
fn excluded_names(r: &Run) -> Vec<String> {
    excluded_files(r).into_iter().map(|(f, _)| f).collect()
}

fn scanned_files(r: &Run) -> Vec<String> {
    r.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] != "skipped")
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect()
}

/// Why: `terraform plan -out tfplan` then `state-scrubber audit .` reads the saved plan (here a
/// broken one: exit 2), and a CI job that does not want it read had no way to say so but
/// naming every file. `--exclude tfplan` leaves it out: the run ends as the other files say.
#[test]
fn exclude_leaves_out_a_saved_plan_the_walk_would_report() {
    let d = Dir::new();
    d.write("terraform.tfstate", state_v4(json!([])));
    d.write("tfplan", ZIP);
    let r = audit_in(d.path(), &["."]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("./tfplan: a zip archive (saved plan?) that cannot be read"),
        "{}",
        r.stderr
    );

    let r = audit_in(d.path(), &[".", "--exclude", "tfplan"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains("zip archive"), "{}", r.all());
    // With a finding in the other file: 1, as that file says.
    d.write("envs/prod/terraform.tfstate", db_state(&pw()));
    d.write("envs/prod/tfplan", ZIP);
    let r = audit_in(d.path(), &[".", "--exclude", "tfplan", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(
        excluded_files(&r),
        [
            (
                "./envs/prod/tfplan".to_string(),
                "excluded by --exclude 'tfplan': not read".to_string()
            ),
            (
                "./tfplan".to_string(),
                "excluded by --exclude 'tfplan': not read".to_string()
            ),
        ]
    );
    assert_eq!(
        scanned_files(&r),
        ["./envs/prod/terraform.tfstate", "./terraform.tfstate"]
    );
    assert_eq!(r.json()["summary"]["states_scanned"], 2);
    assert_eq!(r.json()["summary"]["errors"], 0);

    // --verbose names each entry left out and counts them (stderr); the text report lists them.
    let r = audit_in(d.path(), &[".", "--exclude", "tfplan", "--verbose"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("excluded ./tfplan (--exclude 'tfplan')"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("excluded ./envs/prod/tfplan (--exclude 'tfplan')"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("--exclude: 2 walked or listed entries left out"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains("./tfplan  excluded by --exclude 'tfplan': not read"),
        "{}",
        r.stdout
    );
    // Without --verbose the text report does not list them.
    let r = audit_in(d.path(), &[".", "--exclude", "tfplan"]);
    assert!(!r.all().contains("excluded"), "{}", r.all());

    // SARIF stays valid (what was left out is no notification: nothing was wrong with it).
    let r = audit_in(d.path(), &[".", "--exclude", "tfplan", "--format", "sarif"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap();
    let errors = sarif_errors(&sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
}

#[test]
fn exclude_a_name_glob_matches_at_any_depth() {
    let d = Dir::new();
    d.write("terraform.tfstate", state_v4(json!([])));
    d.write("prod.tfplan", ZIP);
    d.write("envs/a/b/staging.tfplan", ZIP);
    // Other names are still read: a plan's JSON with `tfplan` in its name.
    d.write("envs/a/prod.tfplan.json", "{\"format_version\": \"1.2\",");
    let r = audit_in(
        d.path(),
        &[".", "--exclude", "*.tfplan", "--format", "json"],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    let v = r.json();
    assert_eq!(v["errors"].as_array().unwrap().len(), 1, "{}", v["errors"]);
    assert!(v["errors"][0]
        .as_str()
        .unwrap()
        .starts_with("./envs/a/prod.tfplan.json:"));
    let left_out = excluded_names(&r);
    assert_eq!(left_out, ["./envs/a/b/staging.tfplan", "./prod.tfplan"]);
    // `*` does not match `/`: `envs/*.tfplan` is a path from the walked directory.
    let r = audit_in(
        d.path(),
        &[".", "--exclude", "envs/*.tfplan", "--format", "json"],
    );
    assert_eq!(r.code, 2);
    assert!(excluded_files(&r).is_empty());
    // Repeatable.
    let r = audit_in(
        d.path(),
        &[".", "--exclude", "*.tfplan", "--exclude", "*.tfplan.json"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
}

/// A directory that a glob matches is not walked: nothing under it is looked at, so it is one
/// entry in the report, not one per file below.
#[test]
fn exclude_a_directory_name_prunes_its_subtree() {
    let d = Dir::new();
    d.write("envs/prod/terraform.tfstate", state_v4(json!([])));
    d.write(
        "envs/prod/archive/2023/terraform.tfstate",
        "{\"version\": 4,",
    );
    d.write("envs/prod/archive/2023/tfplan", ZIP);
    d.write("envs/qa/archive/terraform.tfstate", db_state(&pw()));
    // A file of that name is matched too; a name that only starts so is not.
    d.write("archive", ZIP);
    d.write("envs/archive.tfstate", state_v4(json!([])));
    let r = audit_in(d.path(), &["."]);
    assert_eq!(r.code, 2, "{}", r.all());
    let r = audit_in(d.path(), &[".", "--exclude", "archive", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        excluded_files(&r),
        [
            (
                "./envs/prod/archive".to_string(),
                "excluded by --exclude 'archive': directory not walked".to_string()
            ),
            (
                "./envs/qa/archive".to_string(),
                "excluded by --exclude 'archive': directory not walked".to_string()
            ),
        ]
    );
    assert_eq!(
        scanned_files(&r),
        ["./envs/archive.tfstate", "./envs/prod/terraform.tfstate"]
    );
    // `archive` is not a state-looking name: the file was never going to be read, so it is not
    // counted. A trailing `/` matches directories only.
    d.write("envs/tfplan/terraform.tfstate", state_v4(json!([])));
    d.write("tfplan", ZIP);
    let r = audit_in(
        d.path(),
        &[
            ".",
            "--exclude",
            "archive/",
            "--exclude",
            "tfplan/",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 2, "the file tfplan is read: {}", r.all());
    let left_out = excluded_names(&r);
    assert_eq!(
        left_out,
        ["./envs/prod/archive", "./envs/qa/archive", "./envs/tfplan"]
    );
    // The walked directory itself is never matched: it was named.
    let r = audit_in(d.path(), &["envs/qa/archive", "--exclude", "archive"]);
    assert_eq!(r.code, 1, "{}", r.all());
}

/// A glob with `/` is a path from the walked directory; a leading `/` anchors one without any
/// other `/`; `**` crosses directories, `*` does not.
#[test]
fn exclude_path_globs_are_anchored_at_the_walked_directory() {
    let d = Dir::new();
    d.write("envs/a/old/terraform.tfstate", "{\"version\": 4,");
    d.write("envs/b/old/deep/terraform.tfstate", "{\"version\": 4,");
    d.write("envs/b/terraform.tfstate", state_v4(json!([])));
    d.write("nested/envs/a/old/terraform.tfstate", db_state(&pw()));
    d.write("old/terraform.tfstate", "{\"version\": 4,");
    d.write("team/old/terraform.tfstate", state_v4(json!([])));
    for glob in [
        "envs/*/old/**",
        "/envs/*/old/**",
        "envs/*/old",
        "/envs/*/old/",
    ] {
        let r = audit_in(
            d.path(),
            &[
                ".",
                "--exclude",
                glob,
                "--exclude",
                "/old",
                "--format",
                "json",
            ],
        );
        assert_eq!(
            r.code,
            1,
            "{glob}: only nested/ is read and has a finding: {}",
            r.all()
        );
        assert_eq!(
            scanned_files(&r),
            [
                "./envs/b/terraform.tfstate",
                "./nested/envs/a/old/terraform.tfstate",
                "./team/old/terraform.tfstate"
            ],
            "{glob}"
        );
        assert!(
            excluded_files(&r).iter().any(|(f, _)| f == "./old"),
            "{glob}: {:?}",
            excluded_files(&r)
        );
    }
    // Relative to the directory walked, whatever it is called on the command line.
    let r = audit_in(
        d.path(),
        &["envs", "--exclude", "/*/old", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(excluded_names(&r), ["envs/a/old", "envs/b/old"]);
    let r = audit(&[&d.s("envs"), "--exclude", "envs/*/old"]);
    assert_eq!(
        r.code,
        2,
        "envs/ is the walked directory, not a part of the path: {}",
        r.all()
    );
    // `**`: any depth, zero directories included.
    let r = audit_in(
        d.path(),
        &[
            ".",
            "--exclude",
            "**/old/**/terraform.tfstate",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(scanned_files(&r), ["./envs/b/terraform.tfstate"]);
    let r = audit_in(
        d.path(),
        &[
            ".",
            "--exclude",
            "envs/**",
            "--exclude",
            "nested/**/old",
            "--exclude",
            "/old",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
}

/// Files named on the command line are always read, whatever glob matches them.
#[test]
fn exclude_never_leaves_out_a_file_named_on_the_command_line() {
    let d = Dir::new();
    d.write("env/terraform.tfstate", state_v4(json!([])));
    d.write("env/tfplan", ZIP);
    let r = audit_in(d.path(), &["env/tfplan", "--exclude", "tfplan"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("env/tfplan: a zip archive (saved plan?) that cannot be read"),
        "{}",
        r.stderr
    );
    // Named and walked: read as named, and not listed as left out.
    let r = audit_in(
        d.path(),
        &[
            "env",
            "env/tfplan",
            "--exclude",
            "tfplan",
            "--exclude",
            "*.tfstate",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert_eq!(excluded_names(&r), ["env/terraform.tfstate"]);
    assert!(r.json()["errors"][0]
        .as_str()
        .unwrap()
        .starts_with("env/tfplan: a zip archive (saved plan?)"));
    // A named file under an excluded directory is read too.
    let r = audit_in(d.path(), &[".", "env/tfplan", "--exclude", "env"]);
    assert_eq!(r.code, 2, "{}", r.all());
}

/// An invalid glob is a usage error: exit 2, naming the glob, before anything is read.
#[test]
fn an_invalid_exclude_glob_is_a_usage_error_before_anything_is_read() {
    let d = Dir::new();
    d.write("terraform.tfstate", db_state(&pw()));
    d.write("broken.tfstate", "{\"version\": 4,");
    for (glob, why) in [
        ("[abc", "unclosed character class"),
        ("{a,b", "unclosed alternate group"),
        ("", "empty"),
        ("!tfplan", "does not negate"),
    ] {
        let r = audit_in(
            d.path(),
            &[
                ".",
                "--exclude",
                "tfplan",
                "--exclude",
                glob,
                "--format",
                "json",
            ],
        );
        assert_eq!(r.code, 2, "{glob}: {}", r.all());
        assert!(r.stdout.is_empty(), "{glob}: {}", r.stdout);
        assert!(
            r.stderr.contains(&format!("'{glob}'"))
                && r.stderr.contains("--exclude")
                && r.stderr.contains(why),
            "{glob}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("broken.tfstate"), "{}", r.stderr);
    }
}

/// An excluded file was not read: `--baseline X --write-baseline X` keeps its entries, as for a
/// file not scanned in the run.
#[test]
fn a_baseline_update_keeps_the_entries_of_excluded_files() {
    let d = Dir::new();
    d.write("a/terraform.tfstate", db_state(&pw()));
    d.write("b/terraform.tfstate", db_state(&pw()));
    let r = audit_in(d.path(), &[".", "--write-baseline", "bl.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = audit_in(
        d.path(),
        &[
            ".",
            "--exclude",
            "b",
            "--baseline",
            "bl.json",
            "--write-baseline",
            "bl.json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let bl: Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("bl.json")).unwrap()).unwrap();
    let mut files: Vec<&str> = bl["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, ["a/terraform.tfstate", "b/terraform.tfstate"]);
}

/// Globs match a path as the reports name it: a byte that is not UTF-8 is `\xFF` (written
/// `\\xFF` in a glob, where `\` escapes).
#[cfg(unix)]
#[test]
fn exclude_matches_a_non_utf8_path_as_it_is_labelled() {
    use std::os::unix::ffi::OsStrExt as _;
    let d = Dir::new();
    let p = d
        .path()
        .join(std::ffi::OsStr::from_bytes(b"old\xff"))
        .join("terraform.tfstate");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, db_state(&pw())).unwrap();
    let r = audit_in(d.path(), &["."]);
    assert_eq!(r.code, 1, "{}", r.all());
    for glob in [r"old\\xFF", "old*", r"/old\\xFF/terraform.tfstate"] {
        let r = audit_in(d.path(), &[".", "--exclude", glob, "--verbose"]);
        assert_eq!(r.code, 0, "{glob}: {}", r.all());
        assert!(
            r.stderr.contains(r"excluded ./old\xFF"),
            "{glob}: {}",
            r.stderr
        );
    }
    let r = audit_in(d.path(), &[".", "--exclude", r"old\xFF"]);
    assert_eq!(r.code, 1, "`\\x` escapes the x: {}", r.all());
}

/// Everything left out: the note that nothing was found says so.
#[test]
fn exclude_of_everything_says_what_was_left_out() {
    let d = Dir::new();
    d.write("terraform.tfstate", state_v4(json!([])));
    let r = audit_in(d.path(), &[".", "--exclude", "*.tfstate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr
            .contains("note: no state, plan or backend cache found")
            && r.stderr.contains("; 1 entry left out by --exclude)"),
        "{}",
        r.stderr
    );
}

/// `--exclude` on an S3 listing: keys are matched relative to the listed prefix (with or
/// without its trailing `/`), a glob that names a directory of the key leaves the object out,
/// and what is left out is not fetched.
#[test]
fn exclude_applies_to_an_s3_listing_relative_to_the_prefix() {
    let Some(moto) = Moto::start() else { return };
    moto.put("/tf-states", b"");
    for (key, body) in [
        ("envs/prod/terraform.tfstate", db_state(&pw()).into_bytes()),
        ("envs/prod/tfplan", ZIP.to_vec()),
        (
            "envs/prod/archive/2023/terraform.tfstate",
            b"{\"version\": 4,".to_vec(),
        ),
        ("envs/old/terraform.tfstate", b"{\"version\": 4,".to_vec()),
        (
            "envs/team/old/terraform.tfstate",
            state_v4(json!([])).into_bytes(),
        ),
    ] {
        moto.put(&format!("/tf-states/{key}"), &body);
    }
    let audit_s3 = |args: &[&str]| -> Run {
        let mut c = bin();
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("AWS_") {
                c.env_remove(k);
            }
        }
        c.envs(aws_env());
        done(
            c.arg("audit")
                .args(args)
                .args(["--endpoint", &moto.url, "--format", "json"])
                .output()
                .unwrap(),
        )
    };
    let r = audit_s3(&["s3://tf-states/envs/"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert_eq!(
        r.json()["errors"].as_array().unwrap().len(),
        3,
        "{}",
        r.stdout
    );

    let globs = [
        "--exclude",
        "tfplan",
        "--exclude",
        "archive/",
        "--exclude",
        "/old",
    ];
    for prefix in ["s3://tf-states/envs/", "s3://tf-states/envs"] {
        let r = audit_s3(&[&[prefix][..], &globs[..]].concat());
        assert_eq!(r.code, 1, "{prefix}: {}", r.all());
        assert_eq!(
            excluded_files(&r),
            [
                (
                    "s3://tf-states/envs/old/terraform.tfstate".to_string(),
                    "excluded by --exclude '/old': not read".to_string()
                ),
                (
                    "s3://tf-states/envs/prod/archive/2023/terraform.tfstate".to_string(),
                    "excluded by --exclude 'archive/': not read".to_string()
                ),
                (
                    "s3://tf-states/envs/prod/tfplan".to_string(),
                    "excluded by --exclude 'tfplan': not read".to_string()
                ),
            ],
            "{prefix}"
        );
        assert_eq!(
            scanned_files(&r),
            [
                "s3://tf-states/envs/prod/terraform.tfstate",
                "s3://tf-states/envs/team/old/terraform.tfstate"
            ],
            "{prefix}"
        );
    }
    // Listed from the bucket's root, `/old` is `old/` there: envs/old/ is read.
    let r = audit_s3(&[&["s3://tf-states/"][..], &globs[..]].concat());
    assert_eq!(r.code, 2, "{}", r.all());
    let errors = r.json()["errors"].to_string();
    assert!(
        errors.contains("s3://tf-states/envs/old/terraform.tfstate"),
        "{errors}"
    );
    let r = audit_s3(&[
        "s3://tf-states/",
        "--exclude",
        "/envs/*/archive",
        "--exclude",
        "envs/old/**",
        "--exclude",
        "tfplan",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
}
