//! SARIF: the official 2.1.0 schema, rules and severities, URIs with a base.

use super::*;

// ---- acceptance 3: SARIF validates against the 2.1.0 schema --------------------------------

#[test]
fn sarif_validates_against_the_official_schema() {
    let d = Dir::new();
    d.write("envs/prod/terraform.tfstate", db_state(&pw()));
    d.write("envs/bad/terraform.tfstate", "{\"version\": 4,");
    let r = audit_in(d.path(), &["envs", "--format", "sarif"]);
    assert_eq!(r.code, 2);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap();
    let errors = sarif_errors(&sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    let res = &sarif["runs"][0]["results"][0];
    assert_eq!(
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "envs/prod/terraform.tfstate"
    );
    assert!(
        res["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
            > 1
    );
    assert!(res["partialFingerprints"]["stateScrubberFingerprint/v2"].is_string());
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
    // A clean run validates too.
    let d = Dir::new();
    d.write("terraform.tfstate", state_v4(json!([])));
    let r = audit_in(d.path(), &[".", "--format", "sarif"]);
    assert_eq!(r.code, 0);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(sarif_errors(&sarif).is_empty());
}

/// Review finding: SARIF rules carried the highest severity of their results (GitHub showed a
/// MEDIUM result of a rule as high) and an arbitrary finding's fix as help; stdin became
/// `%3Cstdin%3E`; the invocation had no exit code.
#[test]
fn sarif_rules_state_each_results_severity_and_a_fixed_help() {
    let pw = random(ALNUM, 16);
    let other = random(ALNUM, 20);
    let st = state_v4(json!([
        resource(
            "managed",
            "aws_neptune_cluster",
            "n",
            json!({"id": "c-1", "master_password": pw}),
            json!([[{"type": "get_attr", "value": "master_password"}]])
        ),
        resource(
            "managed",
            "example_thing",
            "t",
            json!({"id": "t-1", "opaque_blob": other}),
            json!([[{"type": "get_attr", "value": "opaque_blob"}]])
        ),
    ]));
    let r = audit_stdin(&["-", "--format", "sarif"], st.as_bytes());
    assert_eq!(r.code, 1, "{}", r.all());
    let v = r.json();
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{results:?}");
    let mut sev = Vec::new();
    for res in results {
        let rule = &rules[res["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], res["ruleId"]);
        let s = res["properties"]["severity"].as_str().unwrap().to_string();
        let (want_level, want_score) = match s.as_str() {
            "high" => ("error", "8.0"),
            "medium" => ("warning", "5.5"),
            other => panic!("{other}"),
        };
        assert_eq!(res["level"], want_level);
        assert_eq!(rule["defaultConfiguration"]["level"], want_level);
        assert_eq!(rule["properties"]["security-severity"], want_score);
        assert_eq!(res["properties"]["ruleId"], "mark.sensitive_attributes");
        assert!(rule["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Each result's message names the fix"));
        assert_eq!(
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "stdin"
        );
        sev.push(s);
    }
    sev.sort();
    assert_eq!(sev, ["high", "medium"]);
    assert_eq!(run["invocations"][0]["exitCode"], 1);
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    for c in [&pw, &other] {
        for w in variants(c) {
            assert!(!r.all().contains(&w), "leak");
        }
    }
    // Writing a baseline, the run ends 0, and SARIF says so.
    let d = Dir::new();
    let r = audit_stdin(
        &[
            "-",
            "--format",
            "sarif",
            "--write-baseline",
            &d.s("base.json"),
        ],
        st.as_bytes(),
    );
    assert_eq!(r.code, 0, "exit code while writing a baseline");
    assert_eq!(r.json()["runs"][0]["invocations"][0]["exitCode"], 0);
}

/// Review (gitleaks sets the bar): SARIF results named files by a URI relative to the current
/// directory with no `uriBaseId`, so a consumer could not resolve them (SARIF 2.1.0 §3.4.4). A
/// relative URI now has `uriBaseId` `%SRCROOT%` and `run.originalUriBaseIds` gives it as the
/// current directory (a `file://` URI ending in `/`); an absolute path inside it is made
/// relative, one outside stays an absolute `file://` URI with no base. Fingerprints are as they
/// were: a baseline written before still accepts every finding.
#[test]
fn sarif_uris_have_a_base_that_resolves_them() {
    let d = Dir::new();
    let p = pw();
    d.write("repo/envs/prod/terraform.tfstate", db_state(&p));
    d.write("repo/envs/dev/terraform.tfstate", db_state(&p));
    let out = Dir::new();
    out.write("elsewhere/terraform.tfstate", db_state(&p));
    let repo = d.path().join("repo");
    let inside_abs = repo.join("envs/dev/terraform.tfstate");
    let outside = out.s("elsewhere/terraform.tfstate");
    let bl = out.s("bl.json");
    let args = [
        "envs/prod/terraform.tfstate",
        inside_abs.to_str().unwrap(),
        &outside,
    ];
    let r = audit_in(&repo, &[&args[..], &["--write-baseline", &bl]].concat());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = audit_in(&repo, &[&args[..], &["--format", "sarif"]].concat());
    assert_eq!(r.code, 1, "{}", r.all());
    let sarif = r.json();
    let errors = sarif_errors(&sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &sarif["runs"][0];
    let root = std::fs::canonicalize(&repo).unwrap();
    assert_eq!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/", root.display())
    );
    let locs: Vec<Value> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["locations"][0]["physicalLocation"]["artifactLocation"].clone())
        .collect();
    let outside_uri = format!(
        "file://{}",
        std::fs::canonicalize(&outside).unwrap().display()
    );
    assert_eq!(
        locs,
        [
            json!({"uri": "envs/prod/terraform.tfstate", "uriBaseId": "%SRCROOT%"}),
            json!({"uri": "envs/dev/terraform.tfstate", "uriBaseId": "%SRCROOT%"}),
            json!({"uri": outside_uri}),
        ]
    );
    // The fingerprints are the JSON report's, and the baseline written above accepts them all.
    let j = audit_in(&repo, &[&args[..], &["--format", "json"]].concat()).json();
    let fps =
        |v: &Value, at: &str| -> Vec<Value> { v.pointer(at).unwrap().as_array().unwrap().to_vec() };
    let sarif_fps: Vec<Value> = fps(run, "/results")
        .iter()
        .map(|x| x["partialFingerprints"]["stateScrubberFingerprint/v2"].clone())
        .collect();
    let json_fps: Vec<Value> = fps(&j, "/findings")
        .iter()
        .map(|x| x["fingerprint"].clone())
        .collect();
    assert_eq!(sarif_fps, json_fps);
    let r = audit_in(&repo, &[&args[..], &["--baseline", &bl]].concat());
    assert_eq!(r.code, 0, "{}", r.all());
    for v in variants(&p) {
        assert!(!r.all().contains(&v), "leak");
    }
}

/// Docs review: an `attr.*` rule's help read "Remove the secret from state. set the write-only
/// ..." (the row's fix is written to follow a colon). Every help is whole sentences: each starts
/// with a capital letter and ends with a full stop.
#[test]
fn sarif_rule_help_is_written_in_sentences() {
    let pw = random(ALNUM, 18);
    let key = format!("AKIA{}", random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
    let sig = random("0123456789abcdef", 64);
    let url = format!(
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={key}%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature={sig}"
    );
    let st = state_v4(json!([
        resource(
            "managed",
            "aws_db_instance",
            "db",
            json!({"id": "db-1", "password": pw}),
            json!([[{"type": "get_attr", "value": "password"}]])
        ),
        resource(
            "managed",
            "example_thing",
            "t",
            json!({"id": "t-1", "link": url}),
            json!([])
        ),
    ]));
    let r = audit_stdin(&["-", "--format", "sarif"], st.as_bytes());
    assert_eq!(r.code, 1, "{}", r.all());
    let v = r.json();
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(
        ids.iter()
            .any(|i| i.starts_with("attr.aws_db_instance.password")),
        "{ids:?}"
    );
    assert!(
        ids.iter().any(|i| i.starts_with("aws-presigned-url")),
        "{ids:?}"
    );
    for rule in rules {
        let text = rule["help"]["text"].as_str().unwrap();
        assert!(text.ends_with('.'), "{}: {text}", rule["id"]);
        let lower_after_stop = text
            .as_bytes()
            .windows(3)
            .any(|w| w[0] == b'.' && w[1] == b' ' && w[2].is_ascii_lowercase());
        assert!(!lower_after_stop, "{}: {text}", rule["id"]);
    }
}

/// GitHub code scanning rejects a whole SARIF upload whose run has more than 25,000 results: an
/// organisation's audit came back with no alert at all. Past the limit the least severe results
/// are left out (the most severe kept, in report order) and a warning says how many.
#[test]
fn sarif_keeps_to_the_results_code_scanning_accepts_the_most_severe_first() {
    let d = Dir::new();
    let outputs = json!({
        "a": {"value": "abc", "type": "string", "sensitive": true},
        "b": {"value": "xyz", "type": "string", "sensitive": true},
    });
    let mut medium = serde_json::from_str::<Value>(&state_v4(json!([]))).unwrap();
    medium["outputs"] = outputs;
    d.write("a.tfstate", medium.to_string());
    let resources: Vec<Value> = (0..25_000)
        .map(|i| {
            resource(
                "managed",
                "aws_db_instance",
                &format!("db{i}"),
                json!({"id": format!("db-{i}"), "password": format!("Pw-{i:05}-{}", "k7Qz9xW2")}),
                json!([[{"type": "get_attr", "value": "password"}]]),
            )
        })
        .collect();
    d.write("b.tfstate", state_v4(Value::Array(resources)));
    let r = audit_in(d.path(), &[".", "--format", "sarif"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let sarif = r.json();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 25_000);
    assert!(
        results.iter().all(|x| x["level"] == "error"),
        "a medium result was kept"
    );
    let notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(
        notes.iter().any(|n| n["level"] == "warning"
            && n["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("2 of 25002 results left out")),
        "{notes:#?}"
    );
    assert!(sarif_errors(&sarif).is_empty());
    // The JSON report keeps every finding.
    let r = audit_in(d.path(), &[".", "--format", "json"]);
    assert_eq!(findings(&r).len(), 25_002);
}
