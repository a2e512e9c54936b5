//! `terraform output -json`.

use super::*;

// ---- `terraform output -json` -----------------------------------------------------------------

/// `tests/data/terraform-json/output.json` (Terraform 1.11.4's `terraform output -json` of
/// `output.tf`) and `output-state.tfstate` (the state of the same apply), their secrets filled in
/// at random: (document, state, [db password, admin password, pin]).
fn output_json_and_state() -> (String, String, [String; 3]) {
    let db = plant(&format!("{}-{}", random(ALNUM, 8), random(ALNUM, 8)));
    let admin = plant(&format!("{}-{}", random(ALNUM, 8), random(ALNUM, 8)));
    let pin = plant(&format!(
        "{}{}",
        1 + random("123456789", 1).parse::<u8>().unwrap() % 9,
        random("0123456789", 11)
    ));
    let fill = |s: &str| {
        s.replace("@DB_PASSWORD@", &db)
            .replace("@ADMIN_PASSWORD@", &admin)
            .replace("\"@PIN@\"", &pin)
    };
    (
        fill(include_str!("../../data/terraform-json/output.json")),
        fill(include_str!(
            "../../data/terraform-json/output-state.tfstate"
        )),
        [db, admin, pin],
    )
}

/// No secret of `secrets` (nor an 8-character piece of a password) in what a run printed.
fn assert_no_output_secret(r: &Run, secrets: &[String; 3], what: &str) {
    let all = r.all();
    for s in &secrets[..2] {
        for v in variants(s) {
            assert!(!all.contains(&v), "{what}: a secret reached the output");
        }
    }
    assert!(
        !all.contains(&secrets[2]),
        "{what}: the pin reached the output"
    );
}

/// `terraform output -json > outputs.json` (a CI job handing outputs to the next) holds every
/// root output's value, sensitive ones included. It is read like a state's `outputs`: the same
/// findings (severity, rule, layers, section, address, fingerprint), at `/NAME/value`. It was
/// "not a Terraform state" (exit 2) named, and skipped by a walk.
#[test]
fn terraform_output_json_is_audited_like_a_states_outputs() {
    let d = Dir::new();
    let (doc, state, secrets) = output_json_and_state();
    let out = d.write("outputs.json", &doc);
    let st = d.write("terraform.tfstate", &state);
    let r = audit(&[&out.display().to_string(), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_no_output_secret(&r, &secrets, "json");
    let v = r.json();
    assert_eq!(
        v["files"][0]["document"], "terraform_output_json",
        "{}",
        r.stderr
    );
    let got = findings(&r);
    let s = audit(&[&st.display().to_string(), "--format", "json"]);
    let want: Vec<Value> = findings(&s)
        .into_iter()
        .filter(|f| f["section"] == "outputs")
        .collect();
    let key = |f: &Value, strip: &str| {
        json!([
            f["json_pointer"]
                .as_str()
                .unwrap()
                .strip_prefix(strip)
                .unwrap(),
            f["severity"],
            f["rule_id"],
            f["kind"],
            f["section"],
            f["address"],
            f["reasons"],
            f["fingerprint"],
            f["fix"],
        ])
    };
    let got_keys: Vec<Value> = got.iter().map(|f| key(f, "")).collect();
    let want_keys: Vec<Value> = want.iter().map(|f| key(f, "/outputs")).collect();
    assert_eq!(got_keys, want_keys);
    // What is in it: the sensitive string, object (its members but `host`, which names a
    // server as `username` names a user) and number, and the non-sensitive output whose name
    // says password; not the plain endpoint or settings.
    let pointers: Vec<&str> = got
        .iter()
        .map(|f| f["json_pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/admin_password/value",
            "/db/value/password",
            "/db_password/value",
            "/pin/value"
        ]
    );
    assert!(got.iter().all(|f| f["document"] == "terraform_output_json"));
    let sev = |p: &str| got.iter().find(|f| f["json_pointer"] == p).unwrap()["severity"].clone();
    assert_eq!(sev("/db_password/value"), "high");
    assert_eq!(sev("/pin/value"), "medium");
    // Text and SARIF: the findings, no value; SARIF valid.
    let t = audit(&[&out.display().to_string()]);
    assert_eq!(t.code, 1, "{}", t.stderr);
    assert!(t.stdout.contains("output.db_password"), "{}", t.stdout);
    assert_no_output_secret(&t, &secrets, "text");
    let sr = audit(&[&out.display().to_string(), "--format", "sarif"]);
    assert_eq!(sr.code, 1, "{}", sr.stderr);
    assert_no_output_secret(&sr, &secrets, "sarif");
    let sarif = sr.json();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 4);
    assert_eq!(sarif_errors(&sarif), Vec::<String>::new());
    // `{}`: no outputs, clean.
    let e = d.write(
        "empty/outputs.json",
        include_str!("../../data/terraform-json/output-empty.json"),
    );
    let r = audit(&[&e.display().to_string(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["files"][0]["document"], "terraform_output_json");
}

/// A walk reads `outputs.json`-like names (`output`/`outputs` a component of a `.json` name),
/// and a baseline accepts their findings like any other.
#[test]
fn a_walk_reads_output_json_names_and_a_baseline_accepts_them() {
    let d = Dir::new();
    let (doc, _, secrets) = output_json_and_state();
    for name in [
        "ci/outputs.json",
        "ci/prod.outputs.json",
        "ci/tf-outputs.json",
        "ci/tf_output.json",
    ] {
        d.write(name, &doc);
    }
    // Not read: no `output` component; another tool's outputs are skipped with a note.
    d.write("ci/outputsummary.json", &doc);
    d.write(
        "ci/cdk-outputs.json",
        r#"{"Stack": {"Url": "https://example.com"}}"#,
    );
    let r = audit_in(d.path(), &[".", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_no_output_secret(&r, &secrets, "walk");
    let v = r.json();
    let files: Vec<(String, Value)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["document"].clone(),
            )
        })
        .collect();
    let read: Vec<&str> = files
        .iter()
        .filter(|(_, k)| *k == "terraform_output_json")
        .map(|(f, _)| f.as_str())
        .collect();
    assert_eq!(
        read,
        [
            "./ci/outputs.json",
            "./ci/prod.outputs.json",
            "./ci/tf-outputs.json",
            "./ci/tf_output.json"
        ],
        "{files:?}"
    );
    assert!(
        files.iter().any(|(f, _)| f == "./ci/cdk-outputs.json"),
        "{files:?}"
    );
    assert!(
        !files.iter().any(|(f, _)| f.contains("outputsummary")),
        "{files:?}"
    );
    // 4 output files of 4 findings (the sensitive `db` object's `host` is no secret).
    assert_eq!(findings(&r).len(), 16);
    let b = audit_in(d.path(), &[".", "--write-baseline", "bl.json"]);
    assert_eq!(b.code, 0, "{}", b.all());
    let r = audit_in(
        d.path(),
        &[".", "--baseline", "bl.json", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(findings(&r).len(), 0);
    assert_eq!(
        r.json()["summary"]["accepted_by_baseline"],
        16,
        "{}",
        r.stdout
    );
}

/// Recognised strictly: every member `{sensitive: bool, type: TYPE, value}` and nothing else.
/// Anything else is what it was (named: not a Terraform state, exit 2). An output may be named
/// like a state's member (`version`, `outputs`).
#[test]
fn terraform_output_json_is_recognised_strictly() {
    let d = Dir::new();
    let pw = pw();
    for (i, (doc, ok)) in [
        (
            json!({"version": {"sensitive": true, "type": "string", "value": pw}}),
            true,
        ),
        (
            json!({"outputs": {"sensitive": true, "type": ["list", "string"], "value": [pw]}}),
            true,
        ),
        (
            json!({"a": {"sensitive": true, "type": ["object", {"p": "string"}, ["p"]], "value": {"p": pw}}}),
            true,
        ),
        (
            json!({"a": {"sensitive": true, "type": ["tuple", ["string", "dynamic"]], "value": [pw, null]}}),
            true,
        ),
        (json!({"a": {"sensitive": true, "type": "string"}}), false),
        (
            json!({"a": {"sensitive": "true", "type": "string", "value": pw}}),
            false,
        ),
        (
            json!({"a": {"sensitive": true, "type": "text", "value": pw}}),
            false,
        ),
        (
            json!({"a": {"sensitive": true, "type": ["list"], "value": [pw]}}),
            false,
        ),
        (
            json!({"a": {"sensitive": true, "type": "string", "value": pw, "x": 1}}),
            false,
        ),
        (
            json!({"a": {"sensitive": true, "type": "string", "value": pw}, "b": 1}),
            false,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        // Named by index: the documents hold the password.
        let f = d.write("x.json", doc.to_string());
        let r = audit(&[&f.display().to_string(), "--format", "json"]);
        if ok {
            assert_eq!(r.code, 1, "case {i}: {}", r.stderr);
            assert_eq!(r.json()["files"][0]["document"], "terraform_output_json");
            assert_eq!(findings(&r)[0]["rule_id"], "mark.sensitive_output", "case {i}");
        } else {
            assert_eq!(r.code, 2, "{doc}: {}", r.all());
            assert!(
                r.stderr.contains("not a Terraform state"),
                "{doc}: {}",
                r.stderr
            );
        }
        assert!(!r.all().contains(&pw), "case {i}");
    }
}
