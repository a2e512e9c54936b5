//! Baselines: what they accept, fingerprints kept across versions, suppressed results, updates.

use super::*;

#[test]
fn baseline_accepts_known_findings_only() {
    let d = Dir::new();
    let st = d.write("terraform.tfstate", db_state(&pw()));
    let bl = d.s("baseline.json");
    let r = audit(&[&st.display().to_string(), "--write-baseline", &bl]);
    assert_eq!(r.code, 0, "{}", r.all());
    // Same finding (even with a rotated value): accepted.
    d.write("terraform.tfstate", db_state(&pw()));
    let r = audit(&[&st.display().to_string(), "--baseline", &bl]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1 accepted by the baseline"));
    // A new secret: reported.
    d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource(
                "managed",
                "aws_db_instance",
                "main",
                json!({"password": pw()}),
                json!([])
            ),
            resource(
                "managed",
                "random_password",
                "new",
                json!({"result": pw()}),
                json!([])
            ),
        ])),
    );
    let r = audit(&[
        &st.display().to_string(),
        "--baseline",
        &bl,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(findings(&r).len(), 1);
    assert_eq!(findings(&r)[0]["address"], "random_password.new");
    // A broken baseline is an error (exit 2), not a silent pass.
    d.write("bad-baseline.json", "{");
    let r = audit(&[
        &st.display().to_string(),
        "--baseline",
        &d.s("bad-baseline.json"),
    ]);
    assert_eq!(r.code, 2);
}

/// Review finding: the fingerprint digested the rule id, so a Terraform upgrade that starts
/// writing `sensitive_attributes` (key-token -> mark.sensitive_attributes) brought back every
/// baselined finding; and a `{name, value}` pair inside JSON in a string was identified by its
/// index, so adding an unrelated environment variable before it did the same.
#[test]
fn baselined_findings_stay_accepted_across_marks_and_inserted_env_vars() {
    let d = Dir::new();
    let tok = random(ALNUM, 24);
    let pw = random(ALNUM, 16);
    let state = |marks: Value, env: Value| {
        let defs = json!([{"name": "app", "image": "app:1", "environment": env}]).to_string();
        state_v4(json!([
            resource(
                "managed",
                "example_service",
                "s",
                json!({"id": "s-1", "auth_token": tok}),
                marks
            ),
            resource(
                "managed",
                "aws_ecs_task_definition",
                "t",
                json!({"id": "t-1", "container_definitions": defs}),
                json!([])
            ),
        ]))
    };
    let env1 =
        json!([{"name": "LOG_LEVEL", "value": "info"}, {"name": "DB_PASSWORD", "value": pw}]);
    let env2 = json!([{"name": "LOG_LEVEL", "value": "info"}, {"name": "REGION", "value": "eu-west-1"},
        {"name": "DB_PASSWORD", "value": pw}]);
    let st = d.write("terraform.tfstate", state(json!([]), env1));
    let st = st.display().to_string();
    let bl = d.s("baseline.json");
    let mut outputs = Vec::new();
    let r = audit(&[&st, "--format", "json"]);
    outputs.push(r.all());
    let before = findings(&r);
    assert_eq!(before.len(), 2, "{before:?}");
    let r = audit(&[&st, "--write-baseline", &bl]);
    assert_eq!(r.code, 0, "{}", r.all());
    outputs.push(std::fs::read_to_string(&bl).unwrap());
    // Terraform now writes the mark; an env var is added before the password.
    d.write(
        "terraform.tfstate",
        state(json!([[{"type": "get_attr", "value": "auth_token"}]]), env2),
    );
    let r = audit(&[&st, "--format", "json"]);
    outputs.push(r.all());
    let after = findings(&r);
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after
        .iter()
        .any(|f| f["inner_pointer"] == "/0/environment/2/value"));
    let r = audit(&[&st, "--baseline", &bl]);
    outputs.push(r.all());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("2 accepted by the baseline"),
        "{}",
        r.stdout
    );
    for c in [&tok, &pw] {
        for v in variants(c) {
            for o in &outputs {
                assert!(!o.contains(&v), "leak");
            }
        }
    }
}

/// Baselines written before the fingerprint left out the rule id still accept their findings,
/// and an update rewrites them with the current fingerprint.
#[test]
fn baselines_with_the_earlier_fingerprint_are_still_accepted() {
    use state_scrubber::finding::{legacy_fingerprint, DEFAULT_FINGERPRINT_KEY};
    let d = Dir::new();
    let st = d.write("terraform.tfstate", db_state(&pw()));
    let st = st.display().to_string();
    let old = legacy_fingerprint(
        DEFAULT_FINGERPRINT_KEY,
        "aws_db_instance.main",
        "resources",
        "password",
        "",
        "attr.aws_db_instance.password",
    );
    let bl = d.write(
        "baseline.json",
        json!({"version": 1, "tool": "state-scrubber", "findings": [{"fingerprint": old,
            "rule_id": "attr.aws_db_instance.password", "address": "aws_db_instance.main",
            "attribute_path": "password", "file": st}]})
        .to_string(),
    );
    let bl = bl.display().to_string();
    let r = audit(&[&st, "--baseline", &bl]);
    assert_eq!(r.code, 0, "{}", r.all());
    let new = d.s("new.json");
    let r = audit(&[&st, "--baseline", &bl, "--write-baseline", &new]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = audit(&[&st, "--baseline", &new]);
    assert_eq!(r.code, 0, "{}", r.all());
    let current = findings(&audit(&[&st, "--format", "json"]))[0]["fingerprint"].clone();
    let written = std::fs::read_to_string(&new).unwrap();
    assert!(written.contains(current.as_str().unwrap()), "{written}");
    assert!(!written.contains(&old), "{written}");
}

/// Gap: results the baseline accepted were left out of SARIF, so code scanning closed their
/// alerts as fixed while the secret was still in the state. `--include-accepted` emits them with
/// an external, accepted suppression (SARIF 2.1.0 §3.27.23), lists them in JSON's `accepted` and
/// at the end of the text report, and never counts them in the exit status.
#[test]
fn accepted_findings_can_be_reported_as_suppressed_results() {
    let d = Dir::new();
    let old_pw = pw();
    let new_pw = pw();
    let st = d.write("terraform.tfstate", db_state(&old_pw));
    let st = st.display().to_string();
    let bl = d.s("baseline.json");
    assert_eq!(audit(&[&st, "--write-baseline", &bl]).code, 0);
    let unbaselined = audit(&[&st, "--format", "sarif"]).json();
    let fingerprint = unbaselined["runs"][0]["results"][0]["partialFingerprints"].clone();
    assert!(fingerprint["stateScrubberFingerprint/v2"].is_string());

    // Only accepted findings: exit 0 with or without the flag, and SARIF says 0 as well.
    let mut outputs = Vec::new();
    let r = audit(&[&st, "--baseline", &bl, "--format", "sarif"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.json()["runs"][0]["results"],
        json!([]),
        "omitted by default"
    );
    let r = audit(&[
        &st,
        "--baseline",
        &bl,
        "--include-accepted",
        "--format",
        "sarif",
    ]);
    assert_eq!(r.code, 0, "accepted results never count: {}", r.stderr);
    let v = r.json();
    let errors = sarif_errors(&v);
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &v["runs"][0];
    assert_eq!(run["invocations"][0]["exitCode"], 0);
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(
        results[0]["suppressions"],
        json!([{"kind": "external", "status": "accepted",
            "justification": format!("accepted in the baseline {bl}")}])
    );
    assert_eq!(results[0]["partialFingerprints"], fingerprint);
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(
        rules[results[0]["ruleIndex"].as_u64().unwrap() as usize]["id"],
        results[0]["ruleId"]
    );
    outputs.push(r.all());

    // A new finding beside the accepted one: it alone is open and sets the exit status.
    d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource(
                "managed",
                "aws_db_instance",
                "main",
                json!({"id": "db-ABC", "password": old_pw}),
                json!([[{"type": "get_attr", "value": "password"}]])
            ),
            resource(
                "managed",
                "random_password",
                "new",
                json!({"result": new_pw}),
                json!([])
            ),
        ])),
    );
    let r = audit(&[
        &st,
        "--baseline",
        &bl,
        "--include-accepted",
        "--format",
        "sarif",
    ]);
    assert_eq!(r.code, 1);
    let v = r.json();
    assert!(sarif_errors(&v).is_empty());
    let results = v["runs"][0]["results"].as_array().unwrap();
    let open: Vec<&Value> = results
        .iter()
        .filter(|x| x.get("suppressions").is_none())
        .collect();
    assert_eq!((results.len(), open.len()), (2, 1), "{results:#?}");
    assert_eq!(
        open[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "random_password.new"
    );
    assert_eq!(v["runs"][0]["invocations"][0]["exitCode"], 1);
    outputs.push(r.all());
    // JSON: `findings` stays the open ones; the accepted ones are in `accepted`.
    let r = audit(&[
        &st,
        "--baseline",
        &bl,
        "--include-accepted",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1);
    let v = r.json();
    assert_eq!(findings(&r).len(), 1);
    assert_eq!(v["accepted"].as_array().unwrap().len(), 1);
    assert_eq!(v["accepted"][0]["address"], "aws_db_instance.main");
    assert_eq!(v["summary"]["failing"], 1);
    assert_eq!(v["summary"]["accepted_by_baseline"], 1);
    outputs.push(r.all());
    let r = audit(&[&st, "--baseline", &bl, "--format", "json"]);
    assert!(r.json().get("accepted").is_none(), "only with the flag");
    let r = audit(&[&st, "--baseline", &bl, "--include-accepted"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("Accepted by the baseline (1):\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("aws_db_instance.main  password  high"),
        "{}",
        r.stdout
    );
    outputs.push(r.all());
    // The flag means nothing without a baseline: a usage error.
    assert_eq!(audit(&[&st, "--include-accepted"]).code, 2);
    for c in [&old_pw, &new_pw] {
        for w in variants(c) {
            for o in &outputs {
                assert!(!o.contains(&w), "an output leaks a planted value");
            }
        }
    }
}

/// Review finding: a baseline written for one state accepted the same findings in every other
/// state with the same addresses. Entries match on fingerprint and file; an entry whose `file`
/// is empty (hand-written) matches in every file.
#[test]
fn baseline_entries_match_their_own_file_only() {
    let d = Dir::new();
    d.write("a/terraform.tfstate", db_state(&pw()));
    d.write("b/terraform.tfstate", db_state(&pw()));
    let r = audit_in(
        d.path(),
        &["a/terraform.tfstate", "--write-baseline", "base.json"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    // The other state, same addresses: not accepted.
    let r = audit_in(
        d.path(),
        &["b/terraform.tfstate", "--baseline", "base.json"],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        !r.stdout.contains("accepted by the baseline"),
        "{}",
        r.stdout
    );
    // The same state, named another way: accepted.
    for name in [
        "./a/terraform.tfstate",
        "a//terraform.tfstate",
        &d.s("a/terraform.tfstate"),
    ] {
        let r = audit_in(d.path(), &[name, "--baseline", "base.json"]);
        assert_eq!(r.code, 0, "{name}: {}", r.all());
        assert!(
            r.stdout.contains("1 accepted by the baseline"),
            "{}",
            r.stdout
        );
    }
    // A directory walk names the file relative to the directory given: still the same file.
    let r = audit_in(d.path(), &[".", "--baseline", "base.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains("1 accepted by the baseline"),
        "{}",
        r.stdout
    );
    // An entry without a file accepts the finding everywhere.
    let mut base: Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("base.json")).unwrap())
            .unwrap();
    base["findings"][0]["file"] = json!("");
    d.write("any.json", base.to_string());
    let r = audit_in(d.path(), &["b/terraform.tfstate", "--baseline", "any.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    base["findings"][0].as_object_mut().unwrap().remove("file");
    d.write("any.json", base.to_string());
    let r = audit_in(d.path(), &["b/terraform.tfstate", "--baseline", "any.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

/// Review finding: `--baseline X --write-baseline X` wrote only the findings the baseline did
/// not accept, emptying it. The update keeps accepted findings that are still there, entries
/// for files this run did not scan, and adds the new ones.
#[test]
fn updating_a_baseline_in_place_keeps_what_it_accepted() {
    let d = Dir::new();
    d.write("a/terraform.tfstate", db_state(&pw()));
    d.write("b/terraform.tfstate", db_state(&pw()));
    let entries = |name: &str| -> Vec<Value> {
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(d.path().join(name)).unwrap()).unwrap();
        v["findings"].as_array().unwrap().clone()
    };
    let r = audit_in(
        d.path(),
        &[
            "a/terraform.tfstate",
            "b/terraform.tfstate",
            "--write-baseline",
            "base.json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(entries("base.json").len(), 2);
    // A new finding in a; b not scanned this time.
    d.write(
        "a/terraform.tfstate",
        state_v4(json!([
            resource(
                "managed",
                "aws_db_instance",
                "main",
                json!({"password": pw()}),
                json!([])
            ),
            resource(
                "managed",
                "random_password",
                "new",
                json!({"result": pw()}),
                json!([])
            ),
        ])),
    );
    let r = audit_in(
        d.path(),
        &[
            "a/terraform.tfstate",
            "--baseline",
            "base.json",
            "--write-baseline",
            "base.json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let after = entries("base.json");
    assert_eq!(after.len(), 3, "{after:?}");
    let r = audit_in(
        d.path(),
        &[
            "a/terraform.tfstate",
            "b/terraform.tfstate",
            "--baseline",
            "base.json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("3 accepted by the baseline"),
        "{}",
        r.stdout
    );
    let leftovers: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
}

/// A file given to --baseline that is not a baseline this version reads is exit 2 naming the
/// file and what is wrong, before anything is scanned. Before: a baseline of a newer version
/// (`"version": 2`) was read as version 1, and one whose entries had the wrong shape was 'not a
/// state-scrubber baseline (line 1, column 94)' at best; a state, a plan, a SARIF or JSON report
/// given by mistake said the same, not what it was.
#[test]
fn a_baseline_of_another_version_or_kind_is_refused_with_what_is_wrong() {
    let d = Dir::new();
    let password = pw();
    let st = d.write("terraform.tfstate", db_state(&password));
    let st = st.display().to_string();
    let good = d.s("good.json");
    assert_eq!(audit(&[&st, "--write-baseline", &good]).code, 0);
    let mut written: Value =
        serde_json::from_str(&std::fs::read_to_string(&good).unwrap()).unwrap();
    assert_eq!(written["version"], 1);
    let with = |pointer: &str, v: Value| {
        let mut b = written.clone();
        *b.pointer_mut(pointer).unwrap() = v;
        b.to_string()
    };
    let sarif = audit(&[&st, "--format", "sarif"]).stdout;
    let report = audit(&[&st, "--format", "json"]).stdout;
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "newer.json",
            with("/version", json!(2)),
            "version 2, written by a newer state-scrubber",
        ),
        ("zero.json", with("/version", json!(0)), "unknown version 0"),
        (
            "text-version.json",
            with("/version", json!("1")),
            "`version` is not a whole number",
        ),
        (
            "other-tool.json",
            with("/tool", json!("gitleaks")),
            "`tool` is not \"state-scrubber\"",
        ),
        (
            "no-fingerprint.json",
            with(
                "/findings/0",
                json!({"rule_id": "r", "address": "a", "attribute_path": "p"}),
            ),
            "`/findings/0/fingerprint` is missing",
        ),
        (
            "empty-fingerprint.json",
            with("/findings/0/fingerprint", json!("")),
            "`/findings/0/fingerprint` is empty",
        ),
        (
            "number-file.json",
            with("/findings/0/file", json!(7)),
            "`/findings/0/file` is not a string",
        ),
        (
            "object-findings.json",
            with("/findings", json!({})),
            "`/findings` is not an array",
        ),
        (
            "terraform.tfstate",
            String::new(),
            "a Terraform state, not a state-scrubber baseline",
        ),
        (
            "audit.sarif",
            sarif,
            "a SARIF report, not a state-scrubber baseline",
        ),
        (
            "audit.json",
            report,
            "a state-scrubber JSON report (--format json), not a state-scrubber baseline",
        ),
        ("gitleaks.json", "[]".into(), "a JSON array"),
    ];
    for (name, text, said) in cases {
        let path = if text.is_empty() {
            st.clone()
        } else {
            d.write(name, &text).display().to_string()
        };
        let r = audit(&[&st, "--baseline", &path]);
        for v in variants(&password) {
            assert!(
                !r.all().contains(&v),
                "{name}: the output holds the password"
            );
        }
        assert_eq!(r.code, 2, "{name}: {}", r.all());
        assert!(
            r.stderr.contains(&format!("baseline {path}: ")),
            "{name}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(said), "{name}: {}", r.stderr);
        // Refused before the scan: no report.
        assert_eq!(r.stdout, "", "{name}");
    }
    // The baseline as written is read, and an entry a person wrote with only its fingerprint
    // and the members a baseline names (no file) accepts the finding everywhere.
    assert_eq!(audit(&[&st, "--baseline", &good]).code, 0);
    written["findings"][0]
        .as_object_mut()
        .unwrap()
        .remove("file");
    let by_hand = d.write("by-hand.json", written.to_string());
    let r = audit(&[&st, "--baseline", &by_hand.display().to_string()]);
    assert_eq!(r.code, 0, "{}", r.all());
}

/// An entry whose finding is gone (the secret removed, the resource destroyed) keeps accepting
/// whatever is found at the same place later, a new secret included: the run says how many
/// entries for the files it read accepted nothing, and how to drop them (a note on stderr, JSON
/// `summary.stale_baseline_entries`). Entries for files not read, and the update that drops
/// them (`--write-baseline`), say nothing. Before, nothing told a stale baseline from a live one.
#[test]
fn stale_baseline_entries_are_counted_and_named() {
    let d = Dir::new();
    let two = || {
        state_v4(json!([
            resource(
                "managed",
                "aws_db_instance",
                "main",
                json!({"password": pw()}),
                json!([])
            ),
            resource(
                "managed",
                "random_password",
                "old",
                json!({"result": pw()}),
                json!([])
            ),
        ]))
    };
    d.write("terraform.tfstate", two());
    d.write("other/terraform.tfstate", two());
    let r = audit_in(d.path(), &[".", "--write-baseline", "b.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // The random_password is destroyed in one state.
    d.write("terraform.tfstate", db_state(&pw()));

    let r = audit_in(d.path(), &[".", "--baseline", "b.json", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        r.json()["summary"]["stale_baseline_entries"],
        1,
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains(
            "note: baseline b.json: 1 entry for files read in this run accepts no finding"
        ) && r
            .stderr
            .contains("`--baseline b.json --write-baseline b.json` drops them"),
        "{}",
        r.stderr
    );
    // Only the state still holding both is read: nothing stale in what was read.
    let r = audit_in(
        d.path(),
        &["other", "--baseline", "b.json", "--format", "json"],
    );
    assert_eq!(
        r.json()["summary"]["stale_baseline_entries"],
        0,
        "{}",
        r.stdout
    );
    assert!(!r.stderr.contains("note: baseline"), "{}", r.stderr);
    // -q says nothing; the update drops the entry and says nothing of it.
    let r = audit_in(d.path(), &[".", "--baseline", "b.json", "-q"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let r = audit_in(
        d.path(),
        &[".", "--baseline", "b.json", "--write-baseline", "b.json"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stderr.contains("note: baseline"), "{}", r.stderr);
    let r = audit_in(d.path(), &[".", "--baseline", "b.json", "--format", "json"]);
    assert_eq!(
        r.json()["summary"]["stale_baseline_entries"],
        0,
        "{}",
        r.stdout
    );
    assert!(!r.stderr.contains("note: baseline"), "{}", r.stderr);
}
