//! `audit s3://bucket/prefix`: what a listing reads, against moto's S3.

use super::*;

/// `audit URL ... --endpoint MOTO --format json` with only the test's AWS environment.
fn audit_s3(moto: &Moto, args: &[&str]) -> Run {
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
}

/// (file, status) of each entry of the JSON report's `files`.
fn statuses(r: &Run) -> Vec<(String, String)> {
    r.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// An S3 backend's `key` is any name (`key = "prod/network"`): the object a URL names exactly is
/// read whatever its name, as a local file named on the command line is, and --exclude does not
/// leave it out. Before, the listing's name filter dropped it: `audit s3://b/prod/network` said
/// "0 findings in 0 files scanned" and exited 0 on a state holding a password.
#[test]
fn the_object_an_s3_url_names_is_read_whatever_its_name() {
    let Some(moto) = Moto::start() else { return };
    moto.put("/tf-states", b"");
    moto.put("/tf-states/prod/network", db_state(&pw()).as_bytes());
    // Beside it, under the same prefix: names a walk does not read, still left alone.
    moto.put("/tf-states/prod/network-notes.txt", b"not a state");

    let r = audit_s3(&moto, &["s3://tf-states/prod/network"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(
        statuses(&r),
        [(
            "s3://tf-states/prod/network".to_string(),
            "scanned".to_string()
        )]
    );
    assert_eq!(findings(&r).len(), 1, "{}", r.stdout);

    // Named, it is read whatever --exclude says (a listing's objects are not).
    let r = audit_s3(
        &moto,
        &["s3://tf-states/prod/network", "--exclude", "network"],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(findings(&r).len(), 1, "{}", r.stdout);

    // Named, an object that is no state is held to the format (exit 2), as a named file is.
    let r = audit_s3(&moto, &["s3://tf-states/prod/network-notes.txt"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let errors = r.json()["errors"].to_string();
    assert!(
        errors.contains("s3://tf-states/prod/network-notes.txt"),
        "{errors}"
    );

    // The prefix listed as a directory: the name filter applies (no .tfstate, not read).
    let r = audit_s3(&moto, &["s3://tf-states/prod/"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(statuses(&r).is_empty(), "{}", r.stdout);
}

/// A listing reads what a directory walk would read, and skips what a walk skips: JSON picked by
/// its name (`site/pricing-plans.json`) that is not Terraform's is skipped with a note, not an
/// error. Before, every listed object was held to the format: a bucket holding such a file beside
/// its states failed the audit with exit 2 where the same files on disk passed.
#[test]
fn a_listing_skips_json_that_is_not_terraform_as_a_walk_does() {
    let Some(moto) = Moto::start() else { return };
    let dir = Dir::new();
    let objects: [(&str, &[u8]); 3] = [
        ("site/pricing-plans.json", b"{\"tiers\": [1, 2]}"),
        ("site/explanation.json", b"[1, 2]"),
        ("site/terraform.tfstate", b"{\"version\": 4,"),
    ];
    moto.put("/docs", b"");
    for (key, body) in objects {
        moto.put(&format!("/docs/{key}"), body);
        dir.write(key, body);
    }
    let skipped = |r: &Run| -> Vec<String> {
        statuses(r)
            .into_iter()
            .filter(|(_, s)| s == "skipped")
            .map(|(f, _)| f.rsplit('/').next().unwrap().to_string())
            .collect()
    };
    let errors = |r: &Run| r.json()["errors"].as_array().unwrap().len();

    let walk = audit_in(dir.path(), &["site", "--format", "json"]);
    let listing = audit_s3(&moto, &["s3://docs/"]);
    for (r, by) in [(&walk, "directory walk"), (&listing, "S3 listing")] {
        // The broken state is still an error; the two other files are skipped, with a note
        // saying what picked them (an S3 object was said to be found by the directory walk).
        let notes: Vec<String> = r.json()["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == "skipped")
            .map(|f| f["notes"].to_string())
            .collect();
        assert_eq!(notes.len(), 2, "{}", r.stdout);
        let found_by = format!("(found by the {by})");
        assert!(notes.iter().all(|n| n.contains(&found_by)), "{notes:?}");
        assert_eq!(r.code, 2, "{}", r.all());
        assert_eq!(errors(r), 1, "{}", r.stdout);
        assert_eq!(
            skipped(r),
            ["explanation.json", "pricing-plans.json"],
            "{}",
            r.stdout
        );
    }
}

/// A URL ending in `/` names a prefix, never an object, even when an object has that very key:
/// the zero-byte "folder" the S3 console's "Create folder" writes (`prod/`). Such a marker is
/// not a state and a listing leaves it alone, as it always did. Named as the object the URL
/// names, it was held to the format: `audit s3://b/prod/` failed with exit 2 ('not a Terraform
/// state') on a folder made in the console, and its states were still reported beside the error.
#[test]
fn a_folder_marker_under_a_url_ending_in_a_slash_is_not_read() {
    let Some(moto) = Moto::start() else { return };
    moto.put("/tf-states", b"");
    moto.put("/tf-states/prod/", b"");
    moto.put("/tf-states/prod/network/", b"");
    moto.put(
        "/tf-states/prod/network/terraform.tfstate",
        db_state(&pw()).as_bytes(),
    );

    for url in ["s3://tf-states/prod/", "s3://tf-states/prod/network/"] {
        let r = audit_s3(&moto, &[url]);
        assert_eq!(r.code, 1, "{url}: {}", r.all());
        assert_eq!(
            statuses(&r),
            [(
                "s3://tf-states/prod/network/terraform.tfstate".to_string(),
                "scanned".to_string()
            )],
            "{url}"
        );
        assert_eq!(findings(&r).len(), 1, "{}", r.stdout);
    }
}

/// A URL naming an object is read as named when another URL of the run lists it too: `audit
/// s3://b/prod/ s3://b/prod/network` reads `prod/network` (a backend key without .tfstate). The
/// prefix URL covers the other, which is then not listed on its own; before, the named object
/// went with it: the covering listing's name filter left it out, and the run said nothing of it.
#[test]
fn an_object_named_beside_a_prefix_that_covers_it_is_still_read() {
    let Some(moto) = Moto::start() else { return };
    moto.put("/tf-states", b"");
    moto.put("/tf-states/prod/network", db_state(&pw()).as_bytes());
    moto.put("/tf-states/prod/db.tfstate", db_state(&pw()).as_bytes());

    for urls in [
        ["s3://tf-states/prod/", "s3://tf-states/prod/network"],
        ["s3://tf-states/prod/network", "s3://tf-states/prod/"],
    ] {
        let r = audit_s3(&moto, &urls);
        assert_eq!(r.code, 1, "{urls:?}: {}", r.all());
        let mut files: Vec<String> = statuses(&r).into_iter().map(|(f, _)| f).collect();
        files.sort();
        assert_eq!(
            files,
            [
                "s3://tf-states/prod/db.tfstate",
                "s3://tf-states/prod/network"
            ],
            "{urls:?}"
        );
        assert_eq!(findings(&r).len(), 2, "{}", r.stdout);
    }
}

/// A state written before the bucket's versioning was enabled is the object's `null` version
/// (ListObjectVersions says `VersionId: "null"`); a later apply writes the current version above
/// it. `--all-versions` must read that old version itself: before, it was fetched without a
/// version id, which is the current version, so the old state (the one holding the password)
/// was never read and the report named the current version's bytes as the object's.
#[test]
fn all_versions_reads_the_version_written_before_versioning_was_enabled() {
    let Some(moto) = Moto::start() else { return };
    moto.put("/tf-states", b"");
    moto.put(
        "/tf-states/prod/terraform.tfstate",
        db_state(&pw()).as_bytes(),
    );
    moto.put(
        "/tf-states?versioning",
        b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
    );
    // The password moved out of state since (write-only): the current version holds none.
    // (moto refuses an unsigned overwrite of an existing key; any Authorization header will do.)
    put_authorized(
        &moto,
        "/tf-states/prod/terraform.tfstate",
        state_v4(json!([])).as_bytes(),
    );

    let r = audit_s3(&moto, &["s3://tf-states/prod/", "--all-versions"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let found = findings(&r);
    assert_eq!(found.len(), 1, "{}", r.stdout);
    assert_eq!(
        found[0]["file"], "s3://tf-states/prod/terraform.tfstate?versionId=null",
        "{}",
        r.stdout
    );
    let files: Vec<(String, String)> = statuses(&r);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files
            .iter()
            .any(|(f, _)| f == "s3://tf-states/prod/terraform.tfstate?versionId=null"),
        "{files:?}"
    );

    // Without --all-versions only the current version is read: no finding.
    let r = audit_s3(&moto, &["s3://tf-states/prod/"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

/// A path-style PUT with an `Authorization` header and `headers` (`x-amz-storage-class: GLACIER`):
/// moto checks no signature, but takes an unsigned PUT over an existing key for an anonymous one
/// and refuses it (403).
fn put_authorized(moto: &Moto, path: &str, body: &[u8]) {
    put_with(moto, path, "", body)
}

fn put_with(moto: &Moto, path: &str, headers: &str, body: &[u8]) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", moto.port)).unwrap();
    write!(
        s,
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: AWS testing:x\r\n{headers}\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        moto.port,
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "PUT {path}: {response}"
    );
}

/// A lifecycle rule that moves old states (or noncurrent versions) to S3 Glacier is common in a
/// state bucket; GetObject refuses such an object until it is restored (`InvalidObjectState`).
/// Before, each was an error: `audit s3://b/ --all-versions` exited 2 on every run, whatever
/// the readable states held, and `--exclude` cannot name a storage class. Now a listed archived
/// object is skipped with a note (JSON status `skipped`; stderr counts them), its baseline
/// entries are kept and not stale; an archived object named by its URL is still an error.
#[test]
fn a_listed_object_in_glacier_is_skipped_with_a_note_not_an_error() {
    let Some(moto) = Moto::start() else { return };
    moto.put("/tf-states", b"");
    moto.put(
        "/tf-states/live/terraform.tfstate",
        db_state(&pw()).as_bytes(),
    );
    put_with(
        &moto,
        "/tf-states/old/terraform.tfstate",
        "x-amz-storage-class: GLACIER\r\n",
        db_state(&pw()).as_bytes(),
    );
    put_with(
        &moto,
        "/tf-states/older/terraform.tfstate",
        "x-amz-storage-class: DEEP_ARCHIVE\r\n",
        db_state(&pw()).as_bytes(),
    );

    let r = audit_s3(&moto, &["s3://tf-states/"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(findings(&r).len(), 1, "{}", r.stdout);
    assert_eq!(
        statuses(&r),
        [
            (
                "s3://tf-states/live/terraform.tfstate".into(),
                "scanned".into()
            ),
            (
                "s3://tf-states/old/terraform.tfstate".into(),
                "skipped".into()
            ),
            (
                "s3://tf-states/older/terraform.tfstate".into(),
                "skipped".into()
            ),
        ]
    );
    let notes = r.json()["files"][1]["notes"].to_string();
    assert!(notes.contains("restore-object"), "{notes}");
    assert!(
        r.stderr.contains("2 S3 objects are archived"),
        "{}",
        r.stderr
    );

    // Baseline entries for an archived object are kept by an update and are not stale.
    let dir = tempfile::tempdir().unwrap();
    let bl = dir.path().join("baseline.json");
    let entry = |file: &str| {
        json!({"fingerprint": "0123456789abcdef0123456789abcdef", "rule_id":
               "attr.aws_db_instance.password", "address": "aws_db_instance.main",
               "attribute_path": "password", "file": file})
    };
    let baseline = json!({"version": 1, "tool": "state-scrubber", "findings":
                          [entry("s3://tf-states/old/terraform.tfstate")]});
    std::fs::write(&bl, baseline.to_string()).unwrap();
    let bl = bl.to_str().unwrap();
    let r = audit_s3(&moto, &["s3://tf-states/", "--baseline", bl]);
    assert_eq!(
        r.json()["summary"]["stale_baseline_entries"],
        0,
        "{}",
        r.all()
    );
    audit_s3(
        &moto,
        &["s3://tf-states/", "--baseline", bl, "--write-baseline", bl],
    );
    let kept = std::fs::read_to_string(bl).unwrap();
    assert!(
        kept.contains("s3://tf-states/old/terraform.tfstate"),
        "{kept}"
    );

    // Named by its URL, it is held to being read: an error that says what to do.
    let r = audit_s3(&moto, &["s3://tf-states/old/terraform.tfstate"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let errors = r.json()["errors"].to_string();
    assert!(errors.contains("restore-object"), "{errors}");
}

/// Review of d4d0a7b: a baseline names an S3 object without its version, so with
/// `--all-versions` an object whose noncurrent version a lifecycle rule moved to Glacier and
/// whose current version is readable counted as read in full: the entry for the secret in the
/// archived version was stale, and `--baseline X --write-baseline X` dropped it (restored later,
/// the secret came back as a new finding). An object one of whose versions was not read keeps
/// its entries.
#[test]
fn a_baseline_keeps_the_entries_of_an_object_whose_old_version_is_archived() {
    let Some(moto) = Moto::start() else { return };
    moto.put("/tf-states", b"");
    moto.put(
        "/tf-states?versioning",
        b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
    );
    put_with(
        &moto,
        "/tf-states/app/terraform.tfstate",
        "x-amz-storage-class: GLACIER\r\n",
        db_state(&pw()).as_bytes(),
    );
    put_authorized(
        &moto,
        "/tf-states/app/terraform.tfstate",
        state_v4(json!([])).as_bytes(),
    );
    let dir = tempfile::tempdir().unwrap();
    let bl = dir.path().join("baseline.json");
    let baseline = json!({"version": 1, "tool": "state-scrubber", "findings": [
        {"fingerprint": "0123456789abcdef0123456789abcdef", "rule_id":
         "attr.aws_db_instance.password", "address": "aws_db_instance.main",
         "attribute_path": "password", "file": "s3://tf-states/app/terraform.tfstate"}]});
    std::fs::write(&bl, baseline.to_string()).unwrap();
    let bl = bl.to_str().unwrap();

    let r = audit_s3(
        &moto,
        &["s3://tf-states/", "--all-versions", "--baseline", bl],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let mut status: Vec<String> = statuses(&r).into_iter().map(|(_, s)| s).collect();
    status.sort();
    assert_eq!(status, ["scanned", "skipped"], "{}", r.stdout);
    assert_eq!(
        r.json()["summary"]["stale_baseline_entries"],
        0,
        "{}",
        r.all()
    );
    let r = audit_s3(
        &moto,
        &[
            "s3://tf-states/",
            "--all-versions",
            "--baseline",
            bl,
            "--write-baseline",
            bl,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let kept = std::fs::read_to_string(bl).unwrap();
    assert!(kept.contains("0123456789abcdef0123456789abcdef"), "{kept}");
}

/// An S3 prefix cannot be told missing from empty: a typo in one of the URLs a CI job audits
/// (`s3://tf-states/prdo/`) listed nothing and the run said nothing of it, beside the other URLs'
/// states (the note that nothing was found comes only when the whole run found nothing). Now
/// each URL whose listing found nothing to read is named in a note on stderr; one whose objects
/// were all left out by --exclude, or whose listing failed (an error), is not.
#[test]
fn a_prefix_that_lists_nothing_is_named_beside_others_that_found_states() {
    let Some(moto) = Moto::start() else { return };
    moto.put("/tf-states", b"");
    moto.put(
        "/tf-states/prod/terraform.tfstate",
        db_state(&pw()).as_bytes(),
    );
    moto.put(
        "/tf-states/old/terraform.tfstate",
        db_state(&pw()).as_bytes(),
    );
    moto.put("/tf-states/notes/readme.txt", b"not a state");

    let r = audit_s3(
        &moto,
        &[
            "s3://tf-states/prod/",
            "s3://tf-states/prdo/",
            "s3://tf-states/notes/",
            "s3://tf-states/old/",
            "--exclude",
            "/terraform.tfstate",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let said = |url: &str| {
        r.stderr
            .contains(&format!("note: {url}: the listing found no state"))
    };
    assert!(said("s3://tf-states/prdo/"), "{}", r.stderr);
    assert!(said("s3://tf-states/notes/"), "{}", r.stderr);
    assert!(!said("s3://tf-states/prod/"), "{}", r.stderr);
    assert!(!said("s3://tf-states/old/"), "{}", r.stderr);

    let r = audit_s3(&moto, &["s3://tf-states/prod/", "s3://tf-states/prdo/"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("note: s3://tf-states/prdo/: the listing found no state"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("s3://tf-states/prod/:"), "{}", r.stderr);
}
