//! Sensitive marks and dynamic values: the paths Terraform marks, numbers marked sensitive.

use super::*;

// ---- dynamic values, mirrored values, the same value twice in one instance -------------------

/// Bug A: `terraform_data.input` is stored as `{"value": ..., "type": "string"}`; the mark on
/// `input` covers its value, never the type name (which was reported as a secret).
#[test]
fn dynamic_value_type_is_not_a_secret() {
    let d = Dir::new();
    let secret = pw();
    let wrapped = json!({"value": secret, "type": "string"});
    d.write(
        "terraform.tfstate",
        terraform_data(wrapped.clone(), wrapped, json!([[ga("input")]])),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    let got = where_why(&r);
    assert!(got.iter().all(|(p, _, _)| !p.contains("type")), "{got:?}");
    assert!(got.contains(&("input.value".into(), "mark.sensitive_attributes".into(), 1)));

    // Object types (`["object", {...}]`) hold type names in strings too; a remote state's outputs.
    let obj = json!({"value": {"team": "payments", "token": secret},
                     "type": ["object", {"team": "string", "token": "string"}]});
    d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource("managed", "terraform_data", "app", json!({"id": "x", "input": obj, "output": null}), json!([[ga("input")]])),
            resource("data", "terraform_remote_state", "net", json!({"backend": "s3", "outputs": {"value": {"vpc": "vpc-0a1b2c3d"}, "type": ["object", {"vpc": "string"}]}}), json!([[ga("outputs")]])),
        ])),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    let got = where_why(&r);
    assert!(got.iter().all(|(p, _, _)| !p.contains("type")), "{got:?}");
    assert!(
        got.iter().any(|(p, _, _)| p == "input.value.token"),
        "{got:?}"
    );
}

/// Terraform's paths do not name the `value` step of a dynamic value: a mark on `input.token`
/// covers `input.value.token`, and only it.
#[test]
fn marks_inside_a_dynamic_value_match_terraforms_paths() {
    let d = Dir::new();
    let secret = pw();
    let obj = json!({"value": {"team": "payments-platform", "token": secret},
                     "type": ["object", {"team": "string", "token": "string"}]});
    d.write(
        "terraform.tfstate",
        terraform_data(obj.clone(), obj, json!([[ga("input"), ga("token")]])),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(
        where_why(&r),
        vec![
            (
                "input.value.token".into(),
                "mark.sensitive_attributes".into(),
                1
            ),
            (
                "output.value.token".into(),
                "attr.terraform_data.output".into(),
                2
            ),
        ]
    );
}

/// Bug B: `terraform_data.output` copies the sensitive `input`, but Terraform marks only `input`;
/// the table's `terraform_data output` row (`sensitive:input`) reports the copy, in a state and in
/// `terraform show -json`, and says why.
#[test]
fn terraform_data_output_mirroring_a_sensitive_input_is_found() {
    let d = Dir::new();
    let secret = pw();
    let wrapped = json!({"value": secret, "type": "string"});
    d.write(
        "terraform.tfstate",
        terraform_data(wrapped.clone(), wrapped.clone(), json!([[ga("input")]])),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        where_why(&r),
        vec![
            ("input.value".into(), "mark.sensitive_attributes".into(), 1),
            (
                "output.value".into(),
                "attr.terraform_data.output".into(),
                2
            ),
        ]
    );
    let out = findings(&r)
        .into_iter()
        .find(|f| f["attribute_path"] == "output.value")
        .unwrap();
    let reasons = out["reasons"].to_string();
    assert!(reasons.contains("mirrors `input`"), "{reasons}");
    assert_eq!(out["severity"], "medium", "as sure as the mark it mirrors");
    assert!(!r.stdout.contains(&secret));

    // Not marked: not reported (a plain input is not a secret).
    d.write(
        "terraform.tfstate",
        terraform_data(
            json!({"value": "payments-platform", "type": "string"}),
            json!({"value": "payments-platform", "type": "string"}),
            json!([]),
        ),
    );
    let r = audit(&[&d.s("terraform.tfstate")]);
    assert_eq!(r.code, 0, "{}", r.stdout);

    // `terraform show -json`: no wrapper; sensitive_values marks `input` only.
    d.write(
        "show.json",
        json!({"format_version": "1.0", "terraform_version": "1.11.4", "values": {"root_module": {"resources": [
            {"address": "terraform_data.app", "mode": "managed", "type": "terraform_data", "name": "app",
             "provider_name": "terraform.io/builtin/terraform", "schema_version": 0,
             "values": {"id": "x", "input": secret, "output": secret, "triggers_replace": null},
             "sensitive_values": {"input": true}}]}}})
        .to_string(),
    );
    let r = audit(&[&d.s("show.json"), "--format", "json"]);
    assert_eq!(
        where_why(&r),
        vec![
            ("input".into(), "mark.sensitive_values".into(), 1),
            ("output".into(), "attr.terraform_data.output".into(), 2),
        ]
    );
}

/// Review finding: once Terraform marks a value sensitive, the key rules were not consulted and
/// the finding fell to MEDIUM `mark.sensitive_attributes` (exit 0 under `--fail-on high`), while
/// the same state without the mark gave HIGH key-password.
#[test]
fn a_sensitive_mark_never_lowers_what_the_key_name_says() {
    let d = Dir::new();
    let pw = random(ALNUM, 16);
    let state = |marks: Value| {
        state_v4(json!([resource(
            "managed",
            "aws_neptune_cluster",
            "n",
            json!({"id": "c-1", "master_password": pw, "master_username": "admin"}),
            marks
        )]))
    };
    let mut outputs = Vec::new();
    let mut seen = Vec::new();
    for marks in [
        json!([]),
        json!([[{"type": "get_attr", "value": "master_password"}]]),
    ] {
        let st = d.write("terraform.tfstate", state(marks));
        let st = st.display().to_string();
        let r = audit(&[&st, "--fail-on", "high"]);
        assert_eq!(r.code, 1, "{}", r.all());
        outputs.push(r.all());
        let r = audit(&[&st, "--format", "json"]);
        outputs.push(r.all());
        let f = findings(&r);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0]["severity"], "high");
        seen.push(f[0].clone());
    }
    // Both reasons are kept, and the fingerprint does not move when the mark appears.
    let reasons = seen[1]["reasons"].to_string();
    assert!(
        reasons.contains("layer 1") && reasons.contains("layer 4"),
        "{reasons}"
    );
    assert_eq!(seen[0]["rule_id"], "key-password");
    assert_eq!(seen[1]["rule_id"], "mark.sensitive_attributes");
    assert_eq!(seen[0]["fingerprint"], seen[1]["fingerprint"]);
    for v in variants(&pw) {
        for o in &outputs {
            assert!(!o.contains(&v), "leak");
        }
    }
}

/// Review finding: layer 1 reported strings only. A number that the state or plan itself marks
/// sensitive (a PIN, a numeric API key, a sensitive output of type number) is as plaintext in the
/// file as a string, and was never reported. Now it is, by its mark only, never with its digits;
/// a number under a mark on an enclosing object is reported only when its key names a secret
/// (Terraform marks a whole output sensitive when any part of it is: its `port` is no secret);
/// booleans never.
#[test]
fn numbers_marked_sensitive_are_reported_without_their_value() {
    let d = Dir::new();
    let num = || random("123456789", 12);
    let (pin, code, out_pin, api_key, plan_pin, plan_out, var_pin, show_pin) =
        (num(), num(), num(), num(), num(), num(), num(), num());
    let unmarked = num();
    let raw = |s: &str| -> Value { serde_json::from_str(s).unwrap() };
    let mut state: Value = serde_json::from_str(&state_v4(json!([resource(
        "managed",
        "example_thing",
        "t",
        json!({"id": "t-1", "pin": raw(&pin), "retries": raw(&unmarked), "admin": true,
               "settings": [{"code": raw(&code), "enabled": true}]}),
        json!([[{"type": "get_attr", "value": "pin"}],
               [{"type": "get_attr", "value": "admin"}],
               [{"type": "get_attr", "value": "settings"},
                {"type": "index", "value": {"value": 0, "type": "number"}},
                {"type": "get_attr", "value": "code"}]])
    )])))
    .unwrap();
    state["outputs"] = json!({
        "pin": {"value": raw(&out_pin), "type": "number", "sensitive": true},
        "count": {"value": raw(&unmarked), "type": "number"},
        "flag": {"value": true, "type": "bool", "sensitive": true},
        "db": {"value": {"port": 5432, "allocated_storage": 20, "api_key": raw(&api_key), "multi_az": true},
               "type": ["object", {"port": "number", "allocated_storage": "number", "api_key": "number", "multi_az": "bool"}],
               "sensitive": true}
    });
    d.write("terraform.tfstate", state.to_string());
    d.write(
        "prod.tfplan.json",
        json!({"format_version": "1.2", "terraform_version": "1.15.0",
            "variables": {"pin": {"value": raw(&var_pin)}, "replicas": {"value": 3}},
            "resource_changes": [{"address": "example_thing.t", "mode": "managed", "type": "example_thing", "name": "t",
              "change": {"actions": ["create"], "before": null, "after": {"pin": raw(&plan_pin), "size": 3},
                         "after_sensitive": {"pin": true}}}],
            "output_changes": {"pin": {"before": null, "after": raw(&plan_out), "after_sensitive": true}},
            "configuration": {"root_module": {"variables": {"pin": {"sensitive": true}, "replicas": {}}}}})
        .to_string(),
    );
    d.write(
        "show.json",
        json!({"format_version": "1.0", "terraform_version": "1.15.0", "values": {"outputs": {}, "root_module": {
            "resources": [{"address": "example_thing.s", "mode": "managed", "type": "example_thing", "name": "s",
              "values": {"pin": raw(&show_pin), "size": 3}, "sensitive_values": {"pin": true}}]}}})
        .to_string(),
    );
    let files = [
        d.s("terraform.tfstate"),
        d.s("prod.tfplan.json"),
        d.s("show.json"),
    ];
    let args = |extra: &[&str]| -> Vec<String> {
        files
            .iter()
            .cloned()
            .chain(extra.iter().map(|s| s.to_string()))
            .collect()
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        audit(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let r = run(&["--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let mut got: Vec<(String, String, String, String)> = findings(&r)
        .iter()
        .map(|f| {
            (
                f["address"].as_str().unwrap().to_string(),
                f["attribute_path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["section"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let want: Vec<(String, String, String, String)> = [
        ("example_thing.s", "pin", "mark.sensitive_values", "values"),
        (
            "example_thing.t",
            "pin",
            "mark.plan_sensitive",
            "resource_changes.after",
        ),
        (
            "example_thing.t",
            "pin",
            "mark.sensitive_attributes",
            "resources",
        ),
        (
            "example_thing.t",
            "settings[0].code",
            "mark.sensitive_attributes",
            "resources",
        ),
        ("output.db", "api_key", "mark.sensitive_output", "outputs"),
        (
            "output.pin",
            "",
            "mark.plan_sensitive",
            "output_changes.after",
        ),
        ("output.pin", "", "mark.sensitive_output", "outputs"),
        ("var.pin", "", "mark.sensitive_variable", "variables"),
    ]
    .iter()
    .map(|(a, b, c, s)| (a.to_string(), b.to_string(), c.to_string(), s.to_string()))
    .collect();
    assert_eq!(got, want);
    for f in findings(&r) {
        assert_eq!(f["value_type"], "number", "{f}");
        assert_eq!(f["layer"], 1, "{f}");
        assert_eq!(f["severity"], "medium", "{f}");
        assert_eq!(f["preview"], "…(number, 12 chars)", "{f}");
        assert!(!f["fix"].as_str().unwrap().is_empty(), "{f}");
    }
    // A string finding carries no `value_type` (the JSON report is unchanged for them).
    d.write("db.tfstate", db_state(&pw()));
    let s = audit(&[&d.s("db.tfstate"), "--format", "json"]);
    assert!(findings(&s)[0].get("value_type").is_none(), "{}", s.stdout);

    // No format prints a digit run of the values.
    let mut outputs = vec![r.all()];
    for fmt in ["text", "sarif", "html"] {
        let o = run(&["--format", fmt]);
        assert_eq!(o.code, 1, "{}", o.all());
        outputs.push(o.all());
    }
    let sarif = run(&["--format", "sarif"]).json();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 8);
    for v in [
        &pin, &code, &out_pin, &api_key, &plan_pin, &plan_out, &var_pin, &show_pin,
    ] {
        for w in variants(v) {
            for o in &outputs {
                assert!(!o.contains(&w), "leak of a sensitive number");
            }
        }
    }

    // A baseline written now accepts them on the next run.
    let base = d.s("baseline.json");
    let w = run(&["--write-baseline", &base]);
    assert_eq!(w.code, 0, "{}", w.all());
    let again = run(&["--baseline", &base, "--format", "json"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(again.json()["summary"]["accepted_by_baseline"], 8);

    // scrub moves strings: the numbers do not break its plan, and it says it leaves each in place.
    let sc = bin()
        .args([
            "scrub",
            &d.s("terraform.tfstate"),
            "--store",
            "aws-secretsmanager",
            "--prefix",
            "t/",
        ])
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let sc = done(sc);
    assert_eq!(sc.code, 0, "{}", sc.all());
    for v in [&pin, &code, &out_pin, &api_key] {
        assert!(!sc.all().contains(v.as_str()), "leak in scrub's output");
    }
    for at in [
        "example_thing.t pin: left alone, a number marked sensitive",
        "example_thing.t settings[0].code: left alone, a number marked sensitive",
    ] {
        assert!(sc.all().contains(at), "{at}: {}", sc.all());
    }
}
