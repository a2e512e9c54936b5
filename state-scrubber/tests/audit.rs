//! `state-scrubber audit`, driven through the binary as users drive it.

mod util;

use serde_json::{json, Value};
use state_scrubber::rules::Rules;
use state_scrubber::table::{Table, Treat};
use util::*;

fn pw() -> String {
    format!("{}!{}", random(ALNUM, 10), random(ALNUM, 6))
}

fn db_state(password: &str) -> String {
    state_v4(json!([resource(
        "managed",
        "aws_db_instance",
        "main",
        json!({"id": "db-ABC", "password": password, "username": "app", "port": 5432}),
        json!([[{"type": "get_attr", "value": "password"}]])
    )]))
}

fn findings(r: &Run) -> Vec<Value> {
    r.json()["findings"].as_array().cloned().unwrap_or_default()
}

// ---- acceptance 1: every input kind, every error case ----------------------------------------

#[test]
fn state_v4_finding_carries_every_field() {
    let d = Dir::new();
    d.write("terraform.tfstate", db_state(&pw()));
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = &findings(&r)[0];
    assert_eq!(f["address"], "aws_db_instance.main");
    assert_eq!(f["resource"]["type"], "aws_db_instance");
    assert_eq!(f["resource"]["mode"], "managed");
    assert_eq!(f["attribute_path"], "password");
    assert_eq!(
        f["json_pointer"],
        "/resources/0/instances/0/attributes/password"
    );
    assert_eq!(f["rule_id"], "attr.aws_db_instance.password");
    assert_eq!(f["kind"], "password");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["confidence"], "high");
    assert_eq!(f["document"], "state_v4");
    assert!(f["fix"].as_str().unwrap().contains("password_wo"));
    assert!(f["line"].as_u64().unwrap() > 1 && f["column"].as_u64().unwrap() > 1);
    assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
    let preview = f["preview"].as_str().unwrap();
    let (head, tail) = preview.split_once('…').unwrap();
    assert!(
        head.chars().count() <= 2 && tail == "(17 chars)",
        "{preview}"
    );
    assert_eq!(
        f["reasons"].as_array().unwrap().len(),
        2,
        "layers 1 and 2 explained"
    );
}

#[test]
fn every_input_kind_is_read() {
    let d = Dir::new();
    let p = pw();
    // v4, backup, v3, attributes_flat, show -json state, plan, backend cache, stdin.
    d.write("a/terraform.tfstate", db_state(&p));
    d.write("a/terraform.tfstate.backup", db_state(&p));
    d.write(
        "v3/terraform.tfstate",
        json!({"version": 3, "terraform_version": "0.11.14", "serial": 1, "lineage": "x", "modules": [
            {"path": ["root", "db"], "outputs": {}, "resources": {"aws_db_instance.main.0": {"type": "aws_db_instance",
             "primary": {"id": "main", "attributes": {"id": "main", "password": p, "tags.%": "0"}}}}}]})
        .to_string(),
    );
    d.write(
        "flat/terraform.tfstate",
        json!({"version": 4, "terraform_version": "0.12.31", "serial": 1, "lineage": "x", "outputs": {}, "resources": [
            {"mode": "managed", "type": "aws_db_instance", "name": "legacy", "instances": [{"schema_version": 1,
             "attributes_flat": {"id": "legacy", "password": p}}]}]})
        .to_string(),
    );
    d.write(
        "show/state.tfstate.json",
        json!({"format_version": "1.0", "terraform_version": "1.15.0", "values": {"outputs": {}, "root_module": {
            "child_modules": [{"address": "module.db", "resources": [{"address": "module.db.aws_db_instance.main", "mode": "managed",
            "type": "aws_db_instance", "name": "main", "values": {"password": p}, "sensitive_values": {"password": true}}]}]}}})
        .to_string(),
    );
    d.write(
        "plan/prod.tfplan.json",
        json!({"format_version": "1.2", "terraform_version": "1.15.0",
            "variables": {"db_password": {"value": p}},
            "resource_changes": [{"address": "aws_db_instance.main", "mode": "managed", "type": "aws_db_instance", "name": "main",
              "change": {"actions": ["create"], "before": null, "after": {"password": p}, "after_sensitive": {"password": true}}}],
            "output_changes": {"pw": {"before": null, "after": p, "after_sensitive": true}},
            "configuration": {"root_module": {"variables": {"db_password": {"sensitive": true}},
              "resources": [{"address": "aws_db_instance.main", "mode": "managed", "type": "aws_db_instance", "name": "main",
                "expressions": {"password": {"constant_value": p}}}]}}})
        .to_string(),
    );
    d.write(
        "a/.terraform/terraform.tfstate",
        // As Terraform writes it: the legacy v3 layout, with an empty root module.
        json!({"version": 3, "terraform_version": "1.9.5", "backend": {"type": "s3", "config": {"bucket": "b", "secret_key": random(ALNUM, 40)}, "hash": 1},
               "modules": [{"path": ["root"], "outputs": {}, "resources": {}, "depends_on": []}]})
            .to_string(),
    );
    d.write("a/node_modules/x/terraform.tfstate", "not json at all");
    d.write(
        "a/.terraform/providers/x/terraform.tfstate",
        "not json at all",
    );
    let r = audit(&[&d.s(""), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = r.json();
    let docs: Vec<(String, String)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().replace(&d.s(""), ""),
                f["document"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    let want = [
        ("a/.terraform/terraform.tfstate", "backend_config"),
        ("a/terraform.tfstate", "state_v4"),
        ("a/terraform.tfstate.backup", "state_v4"),
        ("flat/terraform.tfstate", "state_v4"),
        ("plan/prod.tfplan.json", "show_json_plan"),
        ("show/state.tfstate.json", "show_json_state"),
        ("v3/terraform.tfstate", "state_v3"),
    ];
    let got: Vec<(&str, &str)> = docs
        .iter()
        .map(|(a, b)| (a.trim_start_matches('/'), b.as_str()))
        .collect();
    assert_eq!(got, want);
    for f in v["files"].as_array().unwrap() {
        assert!(f["findings"].as_u64().unwrap() >= 1, "{f}");
    }
    let sections: std::collections::BTreeSet<String> = findings(&r)
        .iter()
        .map(|f| f["section"].as_str().unwrap().to_string())
        .collect();
    for s in [
        "backend",
        "configuration",
        "output_changes.after",
        "resource_changes.after",
        "resources",
        "values",
        "variables",
    ] {
        assert!(sections.contains(s), "{s} in {sections:?}");
    }
    let addrs: Vec<String> = findings(&r)
        .iter()
        .map(|f| f["address"].as_str().unwrap().to_string())
        .collect();
    assert!(
        addrs.contains(&"module.db.aws_db_instance.main[0]".to_string()),
        "{addrs:?}"
    );
    assert!(
        addrs.contains(&"module.db.aws_db_instance.main".to_string()),
        "{addrs:?}"
    );

    let r = audit_stdin(&["-", "--format", "json"], db_state(&p).as_bytes());
    assert_eq!(r.code, 1);
    assert_eq!(findings(&r)[0]["file"], "<stdin>");
}

#[test]
fn terraform_0_12_show_json_format_0_1_is_read() {
    let d = Dir::new();
    d.write(
        "plan.json",
        json!({"format_version": "0.1", "terraform_version": "0.12.31", "planned_values": {"root_module": {"resources": [
            {"address": "random_password.p", "mode": "managed", "type": "random_password", "name": "p", "values": {"result": pw()}}]}}})
        .to_string(),
    );
    let r = audit(&[&d.s("plan.json"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(findings(&r)[0]["document"], "show_json_plan");
}

#[test]
fn opentofu_encrypted_state_is_recognised_not_an_error() {
    let d = Dir::new();
    d.write(
        "terraform.tfstate",
        json!({"meta": {"key_provider.pbkdf2.main": "e30="}, "encrypted_data": random(ALNUM, 200), "encryption_version": "v0"}).to_string(),
    );
    let r = audit(&[&d.s("terraform.tfstate")]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("OpenTofu-encrypted state: recognised, not scanned"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("1 encrypted (not scanned)"));
}

#[test]
fn each_error_is_reported_with_file_and_position_other_files_still_scanned_inputs_untouched() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not-json.tfstate",
            b"hello = \"world\"\n".to_vec(),
            "not-json.tfstate:1:1: not a JSON object",
        ),
        (
            "truncated.tfstate",
            db_state("x1y2z3w4v5u6").as_bytes()[..120].to_vec(),
            "truncated.tfstate:",
        ),
        (
            "version9.tfstate",
            b"{\n  \"version\": 9,\n  \"resources\": []\n}\n".to_vec(),
            "version9.tfstate:2:14: unsupported state format version 9",
        ),
        (
            "format2.json",
            b"{\"format_version\": \"2.0\", \"values\": {}}".to_vec(),
            "format2.json:1:20: unsupported format_version 2.0",
        ),
        (
            "binary.tfstate",
            vec![0x7f, b'E', b'L', b'F', 0, 1, 2, 3],
            "binary.tfstate: binary data, not JSON",
        ),
        (
            "plan.tfplan.json",
            b"PK\x03\x04\x14\x00rest".to_vec(),
            "plan.tfplan.json: a zip archive (saved plan?) that cannot be read",
        ),
        ("empty.tfstate", Vec::new(), "empty.tfstate: empty file"),
        (
            "unknown.tfstate",
            b"{\"hello\": 1}".to_vec(),
            "unknown.tfstate: not a Terraform state, plan, backend cache or `terraform output -json`",
        ),
        (
            // Not valid UTF-8 inside a secret: refused, never silently skipped.
            "utf8.tfstate",
            b"{\"version\": 4, \"resources\": [{\"type\": \"t\", \"instances\": [{\"attributes\": {\"password\": \"ab\xff\xfecd\"}}]}]}".to_vec(),
            "invalid UTF-8",
        ),
        (
            "bad-escape.tfstate",
            b"{\"version\": 4, \"resources\": [{\"type\": \"a\\q\"}]}".to_vec(),
            "bad-escape.tfstate:1:41: invalid JSON at `/resources/0/type`: invalid escape",
        ),
    ];
    for (name, bytes, want) in cases {
        let d = Dir::new();
        let bad = d.write(name, &bytes);
        d.write("good/terraform.tfstate", db_state(&pw()));
        let r = audit(&[
            &bad.display().to_string(),
            &d.s("good/terraform.tfstate"),
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 2, "{name}: {}", r.all());
        assert!(
            r.stderr.contains(want),
            "{name}: want `{want}` in:\n{}",
            r.stderr
        );
        assert!(
            r.stderr.contains(&bad.display().to_string()),
            "{name}: names the file"
        );
        let v = r.json();
        assert_eq!(
            v["summary"]["findings"], 1,
            "{name}: the good file is still scanned"
        );
        assert_eq!(
            std::fs::read(&bad).unwrap(),
            bytes,
            "{name}: input unchanged"
        );
    }
    // The truncated case names line, column and the JSON path.
    let d = Dir::new();
    let full = db_state("x1y2z3w4v5u6");
    let bad = d.write(
        "t.tfstate",
        &full.as_bytes()[..full.find("\"password\"").unwrap() + 16],
    );
    let r = audit(&[&bad.display().to_string()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("(truncated file?)"), "{}", r.stderr);
    assert!(
        r.stderr.contains("at `/resources/0/instances/0"),
        "{}",
        r.stderr
    );
    // A missing path is an error too, and says so.
    let r = audit(&[&d.s("missing.tfstate")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing.tfstate"), "{}", r.stderr);
}

// ---- acceptance 2: canaries never reach any output ------------------------------------------

fn variants(canary: &str) -> Vec<String> {
    let mut v = encoded_forms(canary);
    // Any 8-character window is enough to count as a leak.
    let chars: Vec<char> = canary.chars().collect();
    for w in chars.windows(8) {
        v.push(w.iter().collect());
    }
    v
}

#[test]
fn canaries_never_reach_any_output_format() {
    use base64::Engine as _;
    let d = Dir::new();
    let c1 = format!("cnry{}<&>{}", random(ALNUM, 12), random(ALNUM, 8));
    let c2 = format!("cnry{}", random(ALNUM, 24));
    let c3 = format!("cnry{}", random(ALNUM, 20));
    let c4 = format!("cnry{}", random(ALNUM, 20));
    let secret_string = serde_json::to_string(&json!({"password": c1}))
        .unwrap()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    d.write(
        "s/terraform.tfstate",
        state_v4(json!([
            resource("managed", "aws_secretsmanager_secret_version", "a", json!({"secret_string": secret_string}), json!([])),
            resource("managed", "random_password", "b", json!({"result": c2}), json!([[{"type": "get_attr", "value": "result"}]])),
            resource("managed", "aws_instance", "c", json!({"user_data": base64::engine::general_purpose::STANDARD.encode(format!("export DB_PASSWORD={c3}\n"))}), json!([])),
            resource("managed", "aws_lambda_function", "d", json!({"environment": [{"variables": {"API_TOKEN": c4}}]}), json!([])),
        ])),
    );
    d.write(
        "p/plan.json",
        json!({"format_version": "1.2", "variables": {"pw": {"value": c2}},
            "resource_changes": [{"address": "random_password.b", "mode": "managed", "type": "random_password", "name": "b",
                "change": {"before": {"result": c2}, "after": {"result": c2}, "before_sensitive": {"result": true}, "after_sensitive": {"result": true}}}]})
        .to_string(),
    );
    // Errors must not quote input either: a truncated file that ends inside a canary.
    let broken = db_state(&c3);
    let cut = broken.find(&c3).unwrap() + 10;
    d.write("e/terraform.tfstate", &broken.as_bytes()[..cut]);
    d.write(
        "e2/terraform.tfstate",
        format!("{{\"version\": 4, \"resources\": [\"{c4}\\x\"]}}"),
    );
    let base = d.s("");
    let mut outputs = Vec::new();
    for args in [
        vec!["--format", "text"],
        vec!["--format", "text", "--verbose"],
        vec!["--format", "text", "--verbose", "--color", "always"],
        vec!["--format", "json"],
        vec!["--format", "json", "--verbose"],
        vec!["--format", "sarif"],
        vec!["--format", "sarif", "--verbose"],
    ] {
        let mut a = vec![base.as_str()];
        a.extend(args.iter().copied());
        let r = audit(&a);
        assert_eq!(r.code, 2, "errors present");
        outputs.push(r.all());
    }
    let bl = d.s("baseline.json");
    let r = audit(&[&base, "--write-baseline", &bl]);
    outputs.push(r.all());
    outputs.push(std::fs::read_to_string(&bl).unwrap());
    let r = audit_stdin(
        &["-", "--format", "json", "--verbose"],
        db_state(&c2).as_bytes(),
    );
    outputs.push(r.all());
    // Some findings were made (the test would be vacuous otherwise).
    assert!(
        outputs[3].matches("\"rule_id\"").count() >= 6,
        "{}",
        outputs[3]
    );
    for c in [&c1, &c2, &c3, &c4] {
        for v in variants(c) {
            for (i, o) in outputs.iter().enumerate() {
                assert!(!o.contains(&v), "output {i} leaks a canary fragment");
            }
        }
    }
}

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

// ---- rules are data; their examples are tests -----------------------------------------------

#[test]
fn content_rule_examples_match_and_negative_examples_do_not() {
    let rules = Rules::builtin().unwrap();
    for rule in &rules.content {
        assert!(
            !rule.spec.examples.is_empty(),
            "{} has examples",
            rule.spec.id
        );
        for ex in &rule.spec.examples {
            let v = expand(ex);
            let hit = rules.content_match(&v).map(|r| r.spec.id.clone());
            assert_eq!(
                hit.as_deref(),
                Some(rule.spec.id.as_str()),
                "example of {}: {ex}",
                rule.spec.id
            );
        }
        // A declared prefix is the token format's fixed start, as the examples show it.
        if !rule.spec.prefixes.is_empty() {
            assert!(
                rule.spec.examples.iter().any(|ex| {
                    let v = expand(ex);
                    rule.spec.prefixes.iter().any(|p| v.starts_with(p.as_str()))
                }),
                "{}: no example starts with a declared prefix",
                rule.spec.id
            );
        }
        for p in &rule.spec.prefixes {
            assert!(
                !p.is_empty() && p.len() <= 40 && !p.contains("{{"),
                "{}: prefix {p:?}",
                rule.spec.id
            );
        }
        for ex in &rule.spec.negative_examples {
            let v = expand(ex);
            let hit = rules.content_match(&v).map(|r| r.spec.id.clone());
            assert_ne!(
                hit.as_deref(),
                Some(rule.spec.id.as_str()),
                "negative example of {}: {ex}",
                rule.spec.id
            );
        }
    }
}

#[test]
fn key_rule_and_safe_list_examples_hold() {
    let rules = Rules::builtin().unwrap();
    for rule in &rules.keys {
        for ex in &rule.spec.examples {
            let (k, v) = ex.split_once('=').unwrap();
            let hit = rules.key_match(k, &expand(v)).map(|r| r.spec.id.clone());
            assert_eq!(
                hit.as_deref(),
                Some(rule.spec.id.as_str()),
                "{}: {ex}",
                rule.spec.id
            );
        }
        for ex in &rule.spec.negative_examples {
            let (k, v) = ex.split_once('=').unwrap();
            assert!(
                rules.key_match(k, &expand(v)).is_none(),
                "{}: negative {ex}",
                rule.spec.id
            );
        }
    }
    for (spec, _) in &rules.safe_keys {
        for k in &spec.examples {
            assert!(rules.is_safe_key(k), "{}: {k}", spec.id);
        }
        for k in &spec.negative_examples {
            assert!(!rules.is_safe_key(k), "{}: negative {k}", spec.id);
        }
    }
    let safe = |sv: &state_scrubber::rules::SafeValue, v: &str| sv.holds(v);
    for sv in &rules.safe_values {
        for v in &sv.spec.examples {
            assert!(safe(sv, expand(v).trim()), "{}: {v}", sv.spec.id);
        }
        for v in &sv.spec.negative_examples {
            assert!(!safe(sv, expand(v).trim()), "{}: negative {v}", sv.spec.id);
        }
    }
}

/// Every row of the attribute table: a state holding a nondescript value at that attribute is
/// reported with the row's rule (secret rows), or looked inside (scan rows).
#[test]
fn every_attribute_table_row_is_detected() {
    let table = Table::builtin().unwrap();
    let mut checked = 0;
    for row in &table.rows {
        if row.resource_type.starts_with("backend.")
            || row.resource_type.starts_with("provider.")
            || row.resource_type == "(root module output)"
        {
            continue;
        }
        let secret = format!("q{}", random(ALNUM, 23));
        let value = match row.treat {
            Treat::Secret => json!(secret),
            Treat::Scan => json!(format!("DB_PASSWORD={secret}")),
        };
        // dotted path -> nested blocks (lists of one object, as SDKv2 writes them)
        let mut v = value;
        for (i, seg) in row.path.iter().enumerate().rev() {
            v = if i == row.path.len() - 1 {
                json!({ seg: v })
            } else {
                json!({ seg: [v] })
            };
        }
        if let Some((k, val)) = &row.when {
            v[k] = json!(val);
        }
        // A mirroring row (`sensitive:ATTR`) applies only where ATTR is marked: first unmarked.
        let mut sensitive = json!([]);
        if let Some(from) = &row.when_sensitive {
            assert_eq!(from.len(), 1, "mirrors of top-level attributes only, here");
            v[&from[0]] = json!(format!("q{}", random(ALNUM, 23)));
            let (mode, rtype) = match row.resource_type.strip_prefix("data.") {
                Some(t) => ("data", t),
                None => ("managed", row.resource_type.as_str()),
            };
            let d = Dir::new();
            d.write(
                "terraform.tfstate",
                state_v4(json!([resource(mode, rtype, "x", v.clone(), json!([]))])),
            );
            let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
            assert!(
                findings(&r).iter().all(|f| f["rule_id"] != row.rule_id()),
                "{} {} applies without the mark",
                row.resource_type,
                row.attribute
            );
            sensitive = json!([[{"type": "get_attr", "value": from[0]}]]);
        }
        let (mode, rtype) = match row.resource_type.strip_prefix("data.") {
            Some(t) => ("data", t),
            None => ("managed", row.resource_type.as_str()),
        };
        let d = Dir::new();
        d.write(
            "terraform.tfstate",
            state_v4(json!([resource(mode, rtype, "x", v, sensitive)])),
        );
        let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
        assert_eq!(
            r.code,
            1,
            "{} {}: {}",
            row.resource_type,
            row.attribute,
            r.all()
        );
        let mut f = findings(&r);
        if row.when_sensitive.is_some() {
            // The marked attribute it mirrors is a finding of its own (layer 1).
            f.retain(|f| f["attribute_path"] == row.attribute.as_str());
        }
        assert_eq!(f.len(), 1, "{} {}", row.resource_type, row.attribute);
        if row.treat == Treat::Secret {
            assert_eq!(
                f[0]["rule_id"],
                row.rule_id(),
                "{} {}",
                row.resource_type,
                row.attribute
            );
        }
        assert!(!r.stdout.contains(&secret));
        checked += 1;
    }
    assert!(checked >= 220, "{checked}");
}

// ---- look-alikes, baselines, --fail-on, snapshot --------------------------------------------

#[test]
fn look_alikes_are_quiet() {
    let d = Dir::new();
    d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource("managed", "aws_kms_key", "k", json!({"arn": "arn:aws:kms:eu-west-1:123456789012:key/6f1c3c2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f", "key_id": "6f1c3c2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f"}), json!([])),
            resource("managed", "aws_s3_object", "o", json!({"etag": "d41d8cd98f00b204e9800998ecf8427e", "key": "app/config.json", "source_hash": random("0123456789abcdef", 64)}), json!([])),
            resource("managed", "random_string", "suffix", json!({"result": "ab12cd", "length": 6}), json!([])),
            resource("managed", "aws_secretsmanager_secret_version", "scrubbed", json!({"secret_string": "ref+awssecrets://prod/db#/password", "secret_string_wo_version": "3"}), json!([])),
            resource("managed", "aws_db_instance", "wo", json!({"password": null, "password_wo": null, "password_wo_version": 2, "username": "admin"}), json!([[{"type": "get_attr", "value": "username"}]])),
            resource("managed", "aws_ssm_parameter", "plain", json!({"type": "String", "value": "eu-west-1"}), json!([])),
            resource("managed", "aws_key_pair", "ops", json!({"public_key": format!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{} ops@host", random(ALNUM, 43)), "fingerprint": "aa:bb:cc"}), json!([])),
        ])),
    );
    let r = audit(&[&d.s("terraform.tfstate")]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

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

#[test]
fn fail_on_sets_the_threshold() {
    let d = Dir::new();
    // A layer-4 medium finding only.
    d.write(
        "terraform.tfstate",
        state_v4(json!([resource(
            "managed",
            "null_resource",
            "x",
            json!({"triggers": {"api_token": random(ALNUM, 32)}}),
            json!([])
        )])),
    );
    let st = d.s("terraform.tfstate");
    assert_eq!(audit(&[&st]).code, 1);
    assert_eq!(audit(&[&st, "--fail-on", "medium"]).code, 1);
    assert_eq!(audit(&[&st, "--fail-on", "high"]).code, 0);
    assert_eq!(audit(&[&st, "--fail-on", "bogus"]).code, 2);
    let r = audit(&[&st, "--quiet", "--fail-on", "high"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
}

#[test]
fn text_report_snapshot() {
    let d = Dir::new();
    // Fixed, non-realistic values so the snapshot is stable.
    d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource("managed", "aws_db_instance", "main", json!({"password": "Zq8Lm2Xv9Rk4Tp7W", "username": "app"}), json!([[{"type": "get_attr", "value": "password"}]])),
            resource("managed", "aws_lambda_function", "api", json!({"environment": [{"variables": {"DB_PASSWORD": "Wq7Kp3Lm9Xz2Rt5V", "MODE": "prod"}}]}), json!([])),
        ])),
    );
    let r = audit_in(d.path(), &["terraform.tfstate"]);
    assert_eq!(r.code, 1);
    let want = r#"terraform.tfstate  (state_v4, 2 findings)
  aws_db_instance.main  [resources]
    HIGH     password  17:25  attr.aws_db_instance.password  password  …(16 chars)
        why: layer 1: listed in the instance's sensitive_attributes
        why: layer 2: `password` of `aws_db_instance` is a secret attribute (password)
        fix: set the write-only `password_wo + password_wo_version` instead of `password` (hashicorp/aws >= 5.88.0, Terraform >= 1.11); the value then never reaches state
  aws_lambda_function.api  [resources]
    HIGH     environment[0].variables.DB_PASSWORD  43:34  key-password  password  …(16 chars)
        why: layer 4: key `DB_PASSWORD` matches key-password and the value has 4.0 bits of entropy per character
        fix: keep the value in Secrets Manager with `offstate_secret` (value_wo) and read it where needed with `ephemeral "offstate_secret_value"`

2 findings (2 high) in 1 file scanned
"#;
    assert_eq!(r.stdout, want);
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let r = audit(&["--format", "xml"]);
    assert_eq!(r.code, 2);
    let o = bin().args(["audit", "--help"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--format",
        "--fail-on",
        "--baseline",
        "--write-baseline",
        "--quiet",
        "--verbose",
    ] {
        assert!(help.contains(flag), "{flag}");
    }
}

/// Review: `audit DIR --format json 2>&1 | head -1` ended 101 (a panic in `eprintln!`) once
/// `head` had gone: the report's write failed, and so did the error message about it. Output to
/// a pipe with no reader is an error like any other (exit 2), never a panic.
#[test]
fn a_closed_stdout_or_stderr_is_exit_2_not_a_panic() {
    let d = Dir::new();
    let state = d.write("terraform.tfstate", db_state(&pw()));
    let state = state.to_str().unwrap();
    let missing = d.s("missing.tfstate");
    // (arguments, what to close, expected exit code)
    let cases: &[(&[&str], &str, i32)] = &[
        // Findings, and the report cannot be written (nor the error saying so).
        (&[state, "--format", "json"], "both", 2),
        (&[state, "--format", "sarif"], "both", 2),
        (&[state], "both", 2),
        // An error to report on a stderr that nobody reads.
        (&[&missing, "--format", "json"], "stderr", 2),
        (&[&missing], "both", 2),
        // Nothing to say on stderr: the exit status is the findings'.
        (&[state, "--format", "json"], "stderr", 1),
    ];
    for (args, closed, want) in cases {
        let (reader, writer) = std::io::pipe().unwrap();
        // The reader is gone before the child starts: every write gets EPIPE.
        drop(reader);
        let mut cmd = bin();
        cmd.arg("audit")
            .args(*args)
            .stdin(std::process::Stdio::null());
        match *closed {
            "both" => cmd.stdout(writer.try_clone().unwrap()).stderr(writer),
            _ => cmd.stdout(std::process::Stdio::null()).stderr(writer),
        };
        let status = cmd.status().unwrap();
        assert_eq!(status.code(), Some(*want), "{args:?} with {closed} closed");
    }
}

// ---- dynamic values, mirrored values, the same value twice in one instance -------------------

fn ga(name: &str) -> Value {
    json!({"type": "get_attr", "value": name})
}

/// (attribute_path, rule_id, layer) of each finding, sorted.
fn where_why(r: &Run) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = findings(r)
        .iter()
        .map(|f| {
            (
                f["attribute_path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["layer"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn terraform_data(input: Value, output: Value, sensitive: Value) -> String {
    state_v4(json!([resource(
        "managed",
        "terraform_data",
        "app",
        json!({"id": "8359974a-34aa-ee4c-4664-c90b424e60ca", "input": input, "output": output, "triggers_replace": null}),
        sensitive
    )]))
}

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

/// Bug B in general: a value equal to one found secret elsewhere in the same instance is a
/// finding too (an output, a tag, a trigger that copies it), with the reason it inherits; not
/// across instances, not for short values.
#[test]
fn same_value_in_one_instance_is_found() {
    let d = Dir::new();
    let secret = pw();
    d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource(
                "managed",
                "example_thing",
                "a",
                json!({
                "secret_in": secret, "echo": secret, "nested": [{"copy": secret}],
                "flag_in": "on", "flag": "on", "name": "example-thing-a"}),
                json!([[ga("secret_in")], [ga("flag_in")]])
            ),
            resource(
                "managed",
                "example_thing",
                "b",
                json!({"note": secret}),
                json!([])
            ),
        ])),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    let got: Vec<(String, String, String)> = findings(&r)
        .iter()
        .map(|f| {
            (
                f["address"].as_str().unwrap().to_string(),
                f["attribute_path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let a = "example_thing.a".to_string();
    assert!(
        got.contains(&(a.clone(), "echo".into(), "same-value".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&(a.clone(), "nested[0].copy".into(), "same-value".into())),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|(_, p, _)| p == "flag"),
        "short values do not propagate: {got:?}"
    );
    assert!(
        !got.iter().any(|(a, _, _)| a == "example_thing.b"),
        "{got:?}"
    );
    let echo = findings(&r)
        .into_iter()
        .find(|f| f["attribute_path"] == "echo")
        .unwrap();
    let src = findings(&r)
        .into_iter()
        .find(|f| f["attribute_path"] == "secret_in")
        .unwrap();
    assert_eq!(echo["layer"], 1);
    assert_eq!(echo["value_group"], src["value_group"]);
    let reasons = echo["reasons"].to_string();
    assert!(reasons.contains("same value as `secret_in`"), "{reasons}");
    assert!(reasons.contains("sensitive_attributes"), "{reasons}");
    assert!(!r.stdout.contains(&secret));

    // A flatmap (state v3) too: a copy under a key no rule knows.
    d.write(
        "v3.tfstate",
        json!({"version": 3, "terraform_version": "0.11.14", "serial": 1, "lineage": "x", "modules": [
            {"path": ["root"], "outputs": {}, "resources": {"aws_db_instance.main": {"type": "aws_db_instance",
             "primary": {"id": "main", "attributes": {"id": "main", "password": secret, "tags.%": "1", "tags.Note": secret}}}}}]})
        .to_string(),
    );
    let r = audit(&[&d.s("v3.tfstate"), "--format", "json"]);
    let got = where_why(&r);
    assert!(
        got.contains(&("tags.Note".into(), "same-value".into(), 2)),
        "{got:?}"
    );
}

/// Review finding: a secret used as a `for_each` key (or module instance key) became part of the
/// address and was printed in full in every format, in baselines and in scrub's secret names.
/// Such a key is now a finding of its own and shown masked everywhere.
#[test]
fn secret_index_and_module_keys_are_found_and_masked_everywhere() {
    let d = Dir::new();
    let t1 = format!("ghp_{}", random(ALNUM, 36));
    let t2 = format!("ghp_{}", random(ALNUM, 36));
    let t3 = format!("ghp_{}", random(ALNUM, 36));
    let mut gh = resource(
        "managed",
        "github_actions_secret",
        "t",
        json!({"secret_name": "X", "plaintext_value": t1}),
        json!([[{"type": "get_attr", "value": "plaintext_value"}]]),
    );
    gh["instances"][0]["index_key"] = json!(t1);
    let mut ssm = resource(
        "managed",
        "aws_ssm_parameter",
        "m",
        json!({"name": "/app/x", "type": "String", "value": "eu-west-1"}),
        json!([]),
    );
    ssm["instances"][0]["index_key"] = json!(t2);
    let mut in_module = resource(
        "managed",
        "aws_ssm_parameter",
        "n",
        json!({"name": "/app/y", "type": "String", "value": "eu-west-1"}),
        json!([]),
    );
    in_module["module"] = json!(format!(
        "module.gh[{}]",
        serde_json::to_string(&t3).unwrap()
    ));
    let st = d.write("terraform.tfstate", state_v4(json!([gh, ssm, in_module])));
    let st = st.display().to_string();
    let plan = d.write(
        "plan.json",
        json!({"format_version": "1.2", "resource_changes": [{
            "address": format!("module.gh[{}].aws_ssm_parameter.n[{}]",
                serde_json::to_string(&t3).unwrap(), serde_json::to_string(&t2).unwrap()),
            "module_address": format!("module.gh[{}]", serde_json::to_string(&t3).unwrap()),
            "mode": "managed", "type": "aws_ssm_parameter", "name": "n", "index": t2,
            "change": {"actions": ["create"], "before": null,
                "after": {"name": "/app/y", "type": "String", "value": "eu-west-1"},
                "after_sensitive": {}}}]})
        .to_string(),
    );
    let plan = plan.display().to_string();
    let mut outputs = Vec::new();
    for format in ["text", "json", "sarif", "html"] {
        for input in [&st, &plan] {
            let r = audit(&[input, "--format", format, "--verbose"]);
            assert_eq!(r.code, 1, "{format}: findings expected");
            outputs.push(r.all());
        }
    }
    let bl = d.s("baseline.json");
    let r = audit(&[&st, &plan, "--write-baseline", &bl]);
    outputs.push(r.all());
    outputs.push(std::fs::read_to_string(&bl).unwrap());
    let r = audit(&[&st, "--format", "json"]);
    let found = findings(&r);
    // The SSM instance's only secret is its key; the module key is found too.
    let on = |addr_part: &str, path: &str| {
        found.iter().any(|f| {
            f["rule_id"] == "github-token"
                && f["address"].as_str().unwrap().contains(addr_part)
                && f["attribute_path"] == path
        })
    };
    assert!(on("aws_ssm_parameter.m[", "index_key"), "index key finding");
    assert!(on("aws_ssm_parameter.n", "module"), "module key finding");
    assert!(found
        .iter()
        .any(|f| f["address"] == "github_actions_secret.t[\"…(40 chars)\"]"));
    // scrub (dry run) prints addresses and secret names.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_state-scrubber"))
        .args([
            "scrub",
            &st,
            "--prefix",
            "p",
            "--name-template",
            "{prefix}/{module}/{resource}/{key}/{attribute}",
        ])
        .output()
        .unwrap();
    outputs.push(String::from_utf8_lossy(&o.stdout).into_owned());
    outputs.push(String::from_utf8_lossy(&o.stderr).into_owned());
    assert_eq!(o.status.code(), Some(0), "scrub dry run");
    let plan_text = String::from_utf8_lossy(&o.stdout);
    // The key is the instance's identity: never planned for rewriting, only noted.
    assert!(!plan_text.contains("JSON path /resources/1/instances/0/index_key"));
    assert!(plan_text.contains("index_key: left alone"));
    for c in [&t1, &t2, &t3] {
        for v in variants(c) {
            for (i, o) in outputs.iter().enumerate() {
                assert!(!o.contains(&v), "output {i} leaks a key fragment");
            }
        }
    }
}

/// Review finding: a `random_password` result used as a `for_each` key or a module key has no
/// token shape, so no content rule picked it and it was printed in every format and written to
/// the baseline, although the same value was reported secret elsewhere in the file.
#[test]
fn keys_equal_to_a_secret_found_elsewhere_in_the_file_are_masked_and_reported() {
    let d = Dir::new();
    let pw = random(ALNUM, 16);
    let key = serde_json::to_string(&pw).unwrap();
    let mut ssm = resource(
        "managed",
        "aws_ssm_parameter",
        "p",
        json!({"name": "/x", "type": "String", "value": "eu-west-1"}),
        json!([]),
    );
    ssm["instances"][0]["index_key"] = json!(pw);
    let mut db = resource(
        "managed",
        "aws_db_instance",
        "d",
        json!({"id": "db-1", "password": pw}),
        json!([]),
    );
    db["module"] = json!(format!("module.db[{key}]"));
    // The keyed resources come before the password in the file, as Terraform sorts them.
    let st = d.write(
        "terraform.tfstate",
        state_v4(json!([
            ssm,
            db,
            resource(
                "managed",
                "random_password",
                "pw",
                json!({"result": pw, "length": 16}),
                json!([[{"type": "get_attr", "value": "result"}]])
            ),
        ])),
    );
    let st = st.display().to_string();
    let plan = d.write(
        "plan.json",
        json!({"format_version": "1.2",
            "variables": {"pw": {"value": pw}},
            "configuration": {"root_module": {"variables": {"pw": {"sensitive": true}}}},
            "resource_changes": [{
                "address": format!("module.db[{key}].aws_ssm_parameter.p[{key}]"),
                "module_address": format!("module.db[{key}]"),
                "mode": "managed", "type": "aws_ssm_parameter", "name": "p", "index": pw,
                "change": {"actions": ["create"], "before": null,
                    "after": {"name": "/x", "type": "String", "value": "eu-west-1"},
                    "after_sensitive": {}}}]})
        .to_string(),
    );
    let plan = plan.display().to_string();
    let mut outputs = Vec::new();
    for format in ["text", "json", "sarif", "html"] {
        for input in [&st, &plan] {
            let r = audit(&[input, "--format", format, "--verbose"]);
            assert_eq!(
                r.code,
                1,
                "{format} {input}: findings expected\n{}",
                r.all()
            );
            outputs.push(r.all());
        }
    }
    let bl = d.s("baseline.json");
    let r = audit(&[&st, &plan, "--write-baseline", &bl]);
    outputs.push(r.all());
    outputs.push(std::fs::read_to_string(&bl).unwrap());
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_state-scrubber"))
        .args([
            "scrub",
            &st,
            "--prefix",
            "p",
            "--name-template",
            "{prefix}/{module}/{resource}/{key}/{attribute}",
        ])
        .output()
        .unwrap();
    outputs.push(String::from_utf8_lossy(&o.stdout).into_owned());
    outputs.push(String::from_utf8_lossy(&o.stderr).into_owned());
    for v in variants(&pw) {
        for (i, o) in outputs.iter().enumerate() {
            assert!(!o.contains(&v), "output {i} leaks a key fragment");
        }
    }
    // The keys themselves are findings, at their own nodes.
    for input in [&st, &plan] {
        let found = findings(&audit(&[input, "--format", "json"]));
        let at = |path: &str| {
            found
                .iter()
                .any(|f| f["rule_id"] == "same-value" && f["attribute_path"] == path)
        };
        assert!(
            at(if input == &st { "index_key" } else { "index" }),
            "{found:?}"
        );
        assert!(
            at(if input == &st {
                "module"
            } else {
                "module_address"
            }),
            "{found:?}"
        );
    }
}

/// Review finding: previews showed the first two characters of every value (`wJ…(41 chars)`), a
/// fragment of a password. Only the length is shown, after a token type's public prefix when the
/// content rule that matched declares one (`ghp_…(40 chars)`).
#[test]
fn previews_show_the_length_and_only_a_declared_public_prefix() {
    let d = Dir::new();
    let pw = format!("zQ{}", random(ALNUM, 16));
    let gh = format!("ghp_{}", random(ALNUM, 36));
    let embedded = format!("xY{}=ghp_{}", random(ALNUM, 10), random(ALNUM, 36));
    let st = d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource(
                "managed",
                "aws_db_instance",
                "main",
                json!({"id": "db-1", "password": pw}),
                json!([[{"type": "get_attr", "value": "password"}]])
            ),
            resource(
                "managed",
                "github_actions_secret",
                "t",
                json!({"secret_name": "X", "plaintext_value": gh, "description": embedded}),
                json!([])
            ),
        ])),
    );
    let st = st.display().to_string();
    let mut outputs = Vec::new();
    for format in ["text", "json", "sarif", "html"] {
        for extra in [&[][..], &["--verbose"][..]] {
            let mut a = vec![st.as_str(), "--format", format];
            a.extend_from_slice(extra);
            let r = audit(&a);
            assert_eq!(r.code, 1, "{format}");
            outputs.push((format, r.all()));
        }
    }
    let bl = d.s("baseline.json");
    outputs.push(("baseline", audit(&[&st, "--write-baseline", &bl]).all()));
    outputs.push(("baseline file", std::fs::read_to_string(&bl).unwrap()));
    let previews: Vec<String> = findings(&audit(&[&st, "--format", "json"]))
        .iter()
        .map(|f| f["preview"].as_str().unwrap().to_string())
        .collect();
    assert!(
        previews.contains(&"…(18 chars)".to_string()),
        "{previews:?}"
    );
    assert!(
        previews.contains(&"ghp_…(40 chars)".to_string()),
        "{previews:?}"
    );
    // A token inside other text shows no prefix: the text's start is not the token's.
    let n = embedded.chars().count();
    assert!(previews.contains(&format!("…({n} chars)")), "{previews:?}");
    for (format, o) in &outputs {
        for v in [&pw, &gh, &embedded] {
            // No leading characters before the ellipsis, in any format or escaping.
            for head in [&v[..2], &v[..1]] {
                for shown in [
                    format!("{head}…"),
                    format!("{head}\\u2026"),
                    format!("{head}&hellip;"),
                ] {
                    assert!(
                        !o.contains(&shown),
                        "{format} shows a value's first characters"
                    );
                }
            }
            for w in variants(v) {
                assert!(!o.contains(&w), "{format} leaks a fragment");
            }
        }
        // The random body of the token never follows its prefix.
        assert!(!o.contains(&gh[..6]), "{format}");
    }
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

/// Review finding: a directory walk exited 2 on ordinary JSON: a `.json` with `plan` in its
/// name (explanation.json) is read, and a `version` other than 1 to 4 was an error even with
/// nothing of Terraform's around it. Such files are now skipped with a note; the names a walk
/// reads stay broad, since plans are named freely (devplan.json, plan1.json). Assertions name
/// what failed, never print the output (it may hold the planted value).
#[test]
fn walked_json_with_a_foreign_version_is_skipped_named_files_stay_strict() {
    let d = Dir::new();
    let c = format!("cnry{}", random(ALNUM, 20));
    let foreign = json!({"version": "2.1", "password": c, "items": [1, 2]}).to_string();
    d.write("docs/explanation.json", &foreign);
    d.write("docs/floorplan.json", "not json at all");
    d.write(
        "ci/prod-plan.json",
        json!({"version": 7, "steps": []}).to_string(),
    );
    d.write(
        "ci/show.json",
        json!({"version": 2.5, "name": "x"}).to_string(),
    );
    d.write("envs/prod/terraform.tfstate", db_state(&pw()));
    let r = audit(&[&d.s(""), "--verbose"]);
    assert_eq!(r.code, 1, "exit code of the walk");
    let out = r.all();
    for name in [
        "explanation.json",
        "floorplan.json",
        "prod-plan.json",
        "show.json",
    ] {
        let skipped = out
            .lines()
            .any(|l| l.contains(name) && l.contains("not a Terraform state"));
        assert!(skipped, "{name}: walked and skipped with the note");
    }
    assert!(!out.contains(&c), "the foreign file's value is not printed");
    // A newer state, with Terraform's members, is still an error when walked.
    d.write(
        "envs/next/state.json",
        json!({"version": 5, "lineage": "l", "serial": 3, "resources": []}).to_string(),
    );
    let r = audit(&[&d.s("")]);
    assert_eq!(r.code, 2, "a newer state is an error");
    assert!(
        r.stderr.contains("unsupported state format version 5"),
        "the error names the version"
    );
    // Named on the command line, foreign JSON is an error as before, also when a walk of its
    // directory reaches it first.
    let r = audit(&[&d.s("docs/explanation.json")]);
    assert_eq!(r.code, 2, "a named foreign file is an error");
    assert!(!r.all().contains(&c));
    let r = audit(&[&d.s("docs"), &d.s("docs/explanation.json")]);
    assert_eq!(r.code, 2, "named and walked: the name wins");
    assert!(!r.all().contains(&c));
}

/// Review finding: files were memory-mapped, and a state truncated during the scan (Terraform's
/// local backend rewrites it in place during an apply) killed the run with SIGBUS (exit 135, no
/// report). The file is read instead; a truncated read is an ordinary result or error.
#[cfg(unix)]
#[test]
fn a_state_truncated_during_the_scan_never_kills_the_run() {
    use std::os::unix::process::ExitStatusExt;
    let d = Dir::new();
    let one = |i: usize| {
        json!({"mode": "managed", "type": "aws_db_instance", "name": format!("db{i}"),
            "instances": [{"schema_version": 0, "attributes": {"id": format!("db-{i}"),
                "password": format!("{}{i}", random(ALNUM, 12)), "port": 5432,
                "tags": {"team": "payments", "padding": "x".repeat(300)}}}]})
        .to_string()
    };
    let mut body =
        String::from("{\"version\": 4, \"serial\": 1, \"lineage\": \"l\", \"resources\": [");
    let mut i = 0;
    while body.len() < 48 << 20 {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&one(i));
        i += 1;
    }
    body.push_str("]}");
    let path = d.write("terraform.tfstate", &body);
    for delay_ms in [40u64, 120, 250] {
        std::fs::write(&path, &body).unwrap();
        let child = bin()
            .args(["audit", path.to_str().unwrap(), "--quiet", "--jobs", "2"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        // What the local backend does first when it writes the new state.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.signal(),
            None,
            "killed by a signal after {delay_ms} ms"
        );
        assert!(matches!(out.status.code(), Some(0..=2)), "{:?}", out.status);
    }
}

/// Files over 256 MiB were memory-mapped, and a state truncated while mapped killed the run with
/// SIGBUS (exit 135, no report). Every file is read now; one that changes during the read is an
/// error naming it. The file is sparse (a 48 MB state, then a hole up to 300 MB), so this costs
/// 48 MB of disk; the hole reads as NUL bytes, so whatever is read is an error too (exit 2).
#[cfg(unix)]
#[test]
fn a_state_over_256_mib_truncated_during_the_scan_never_kills_the_run() {
    use std::os::unix::process::ExitStatusExt;
    let d = Dir::new();
    let one = |i: usize| {
        json!({"mode": "managed", "type": "aws_db_instance", "name": format!("db{i}"),
            "instances": [{"schema_version": 0, "attributes": {"id": format!("db-{i}"),
                "password": format!("{}{i}", random(ALNUM, 12)), "port": 5432,
                "tags": {"team": "payments", "padding": "x".repeat(300)}}}]})
        .to_string()
    };
    let mut body =
        String::from("{\"version\": 4, \"serial\": 1, \"lineage\": \"l\", \"resources\": [");
    let mut i = 0;
    while body.len() < 48 << 20 {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&one(i));
        i += 1;
    }
    let path = d.s("terraform.tfstate");
    for delay_ms in [5u64, 40, 120, 250] {
        std::fs::write(&path, &body).unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(300 << 20).unwrap();
        let child = bin()
            .args(["audit", &path, "--jobs", "2"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        f.set_len(0).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.signal(),
            None,
            "killed by a signal after {delay_ms} ms"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "after {delay_ms} ms: {stderr}");
        assert!(stderr.contains(&format!("error: {path}:")), "{stderr}");
    }
}

/// Review finding: a member with an unexpected shape was skipped silently and the file reported
/// clean (`"instances"` as an object, `resources: [1, 2]`: 0 findings, exit 0). It is an error
/// naming the file, position and JSON pointer (never the value there).
#[test]
fn unexpected_structure_is_an_error_with_its_pointer() {
    let d = Dir::new();
    let c = format!("cnry{}", random(ALNUM, 20));
    let mut inst_obj = resource(
        "managed",
        "aws_db_instance",
        "m",
        json!({"password": c}),
        json!([]),
    );
    inst_obj["instances"] = json!({"0": {"attributes": {"password": c}}});
    let mut attrs_str = resource("managed", "aws_db_instance", "m", json!({}), json!([]));
    attrs_str["instances"][0]["attributes"] = json!(format!("password={c}"));
    let cases = [
        (
            "a.tfstate",
            state_v4(json!([inst_obj])),
            "/resources/0/instances",
        ),
        ("b.tfstate", state_v4(json!([1, 2])), "/resources/0"),
        (
            "c.tfstate",
            state_v4(json!([attrs_str])),
            "/resources/0/instances/0/attributes",
        ),
        (
            "d.tfstate",
            json!({"version": 3, "serial": 1, "modules": [{"path": ["root"], "resources": [c]}]})
                .to_string(),
            "/modules/0/resources",
        ),
        (
            "plan.json",
            json!({"format_version": "1.2", "resource_changes": [c]}).to_string(),
            "/resource_changes/0",
        ),
    ];
    for (name, body, pointer) in cases {
        let f = d.write(name, body);
        let f = f.display().to_string();
        for format in ["text", "json", "sarif"] {
            let r = audit(&[&f, "--format", format]);
            assert_eq!(r.code, 2, "{name} {format}: {}", r.all());
            assert!(
                r.all()
                    .contains(&format!("unexpected structure at {pointer}")),
                "{name} {format}: {}",
                r.all()
            );
            for v in variants(&c) {
                assert!(!r.all().contains(&v), "{name} {format} leaks");
            }
        }
    }
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

/// Hunt finding: a path that is not UTF-8 was named with U+FFFD (`bad\u{fffd}/...`): nobody
/// could find the file, SARIF's URI (`bad%EF%BF%BD/...`) named a file that does not exist, and
/// two such names were one label (`a\xFF` and `a\xFE`), so their baseline entries mixed. The
/// label writes the bytes (`a\xFF/terraform.tfstate`); SARIF encodes the real bytes (`a%FF/...`).
#[cfg(unix)]
#[test]
fn non_utf8_paths_are_named_so_they_can_be_found() {
    use std::os::unix::ffi::OsStrExt as _;
    let d = Dir::new();
    let (pw1, pw2) = (pw(), pw());
    for (dir, pw) in [(b"a\xff".as_slice(), &pw1), (b"a\xfe".as_slice(), &pw2)] {
        let p = d
            .path()
            .join(std::ffi::OsStr::from_bytes(dir))
            .join("terraform.tfstate");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, db_state(pw)).unwrap();
    }
    let r = audit_in(d.path(), &[".", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut files: Vec<String> = findings(&r)
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["./a\\xFE/terraform.tfstate", "./a\\xFF/terraform.tfstate"]
    );
    let r = audit_in(d.path(), &[".", "--format", "sarif"]);
    let mut uris: Vec<String> = r.json()["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    uris.sort();
    assert_eq!(uris, ["a%FE/terraform.tfstate", "a%FF/terraform.tfstate"]);
    let r = audit_in(d.path(), &["."]);
    assert!(
        r.stdout.contains("./a\\xFF/terraform.tfstate  (state_v4"),
        "{}",
        r.stdout
    );
    // Accepting one file's finding does not accept the other's.
    let b = audit_in(d.path(), &[".", "--write-baseline", "bl.json"]);
    assert_eq!(b.code, 0, "{}", b.stderr);
    let bl: Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("bl.json")).unwrap()).unwrap();
    let mut bl_files: Vec<&str> = bl["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    bl_files.sort();
    assert_eq!(
        bl_files,
        ["a\\xFE/terraform.tfstate", "a\\xFF/terraform.tfstate"]
    );
    for c in [&pw1, &pw2] {
        for w in variants(c) {
            assert!(!r.all().contains(&w) && !b.all().contains(&w), "leak");
        }
    }
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

/// Review finding: `*_pass` keys (db_pass, DB_PASS, admin_pass) were never matched, and the
/// prefix placeholders (`your-...`, `enter-...`) were applied to table rows and sensitive marks,
/// where they dropped real values (`aws_db_instance.password = "Your-Company-2024!"`).
#[test]
fn pass_keys_and_placeholder_looking_passwords_in_rows_and_marks_are_found() {
    let d = Dir::new();
    let real = format!("Your-{}-2024!", random(ALNUM, 8));
    let marked = format!("enter-{}", random(ALNUM, 10));
    let p1 = random(ALNUM, 14);
    let p2 = random(ALNUM, 12);
    let st = d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource("managed", "aws_db_instance", "main", json!({"id": "db-1", "password": real}), json!([])),
            resource("managed", "example_thing", "m", json!({"id": "m-1", "opaque": marked}),
                json!([[{"type": "get_attr", "value": "opaque"}]])),
            resource("managed", "aws_lambda_function", "f", json!({"id": "f",
                "environment": [{"variables": {"DB_PASS": p1, "admin_pass": p2, "pass_through": "enabled"}}]}), json!([])),
            // Under a key rule only, the prefix placeholders still count as placeholders.
            resource("managed", "example_thing", "q", json!({"id": "q-1", "api_password": "your-password-here"}), json!([])),
        ])),
    );
    let st = st.display().to_string();
    let mut outputs = Vec::new();
    for format in ["text", "json", "sarif", "html"] {
        let r = audit(&[&st, "--format", format]);
        assert_eq!(r.code, 1, "{}", r.all());
        outputs.push(r.all());
    }
    let f = findings(&audit(&[&st, "--format", "json"]));
    let at = |addr: &str, path: &str| {
        f.iter()
            .any(|x| x["address"] == addr && x["attribute_path"].as_str().unwrap().ends_with(path))
    };
    assert!(at("aws_db_instance.main", "password"), "{f:?}");
    assert!(at("example_thing.m", "opaque"), "{f:?}");
    assert!(at("aws_lambda_function.f", "DB_PASS"), "{f:?}");
    assert!(at("aws_lambda_function.f", "admin_pass"), "{f:?}");
    assert!(!at("aws_lambda_function.f", "pass_through"), "{f:?}");
    assert!(!at("example_thing.q", "api_password"), "{f:?}");
    assert_eq!(f.len(), 4, "{f:?}");
    for c in [&real, &marked, &p1, &p2] {
        for v in variants(c) {
            for o in &outputs {
                assert!(!o.contains(&v), "leak");
            }
        }
    }
}

/// Review finding: false positives on keys that only look secret (`api_key_selection_expression`,
/// Helm's `existingSecret`, `dkim_tokens`, `verification_token`, `token_domains`), on IAM
/// condition keys (`token.actions.githubusercontent.com:aud`), on CodeBuild variables whose `type`
/// makes the value a reference, and on `$VAR` as a URL's password.
#[test]
fn reference_keys_condition_keys_and_env_placeholders_are_quiet() {
    let d = Dir::new();
    let plain = random(ALNUM, 20);
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
            "StringLike": {"token.actions.githubusercontent.com:sub": format!("repo:org/{}:*", random(ALNUM, 12))}}}]})
    .to_string();
    let st = d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource("managed", "aws_apigatewayv2_api", "a", json!({"id": "a", "api_key_selection_expression": "$request.header.x-api-key"}), json!([])),
            resource("managed", "helm_release", "h", json!({"id": "h", "set": [{"name": "auth.existingSecret", "value": format!("pg-{}", random(ALNUM, 12)), "type": ""}]}), json!([])),
            resource("managed", "aws_ses_domain_dkim", "k", json!({"id": "k", "dkim_tokens": [random("abcdefghijklmnopqrstuvwxyz0123456789", 32)]}), json!([])),
            resource("managed", "aws_ses_domain_identity", "i", json!({"id": "i", "verification_token": random(ALNUM, 44)}), json!([])),
            resource("managed", "aws_wafv2_web_acl", "w", json!({"id": "w", "token_domains": ["example.com", "api.example.com"]}), json!([])),
            resource("managed", "aws_iam_role", "r", json!({"id": "r", "assume_role_policy": policy}), json!([])),
            resource("managed", "aws_codebuild_project", "c", json!({"id": "c", "environment": [{"environment_variable": [
                {"name": "DB_PASSWORD", "value": format!("prod/{}", random(ALNUM, 20)), "type": "SECRETS_MANAGER"},
                {"name": "API_TOKEN", "value": format!("/prod/{}", random(ALNUM, 20)), "type": "PARAMETER_STORE"},
                {"name": "DEPLOY_TOKEN", "value": plain, "type": "PLAINTEXT"}]}]}), json!([])),
            resource("managed", "aws_lambda_function", "f", json!({"id": "f", "environment": [{"variables": {
                "DATABASE_URL": "postgres://app:$DB_PASSWORD@db:5432/app"}}]}), json!([])),
        ])),
    );
    let st = st.display().to_string();
    let r = audit(&[&st, "--format", "json"]);
    let f = findings(&r);
    // Only the plaintext CodeBuild variable: the rest are references, keys or placeholders.
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["address"], "aws_codebuild_project.c");
    for format in ["text", "sarif", "html"] {
        let r = audit(&[&st, "--format", format]);
        for v in variants(&plain) {
            assert!(!r.all().contains(&v), "leak");
        }
    }
}

/// Review finding: the same file named twice or reached through a symlink was scanned (and
/// reported) twice, `audit - -` read stdin twice, and a missing path printed "no state found"
/// next to its own error.
#[cfg(unix)]
#[test]
fn each_file_is_scanned_once_and_a_missing_path_is_only_an_error() {
    let d = Dir::new();
    let c = pw();
    let st = d.write("envs/terraform.tfstate", db_state(&c));
    std::os::unix::fs::symlink(&st, d.path().join("envs/link.tfstate")).unwrap();
    let st = st.display().to_string();
    let r = audit(&[
        &d.s("envs"),
        &st,
        &d.s("envs/link.tfstate"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(findings(&r).len(), 1, "{}", r.stdout);
    assert_eq!(r.json()["files"].as_array().unwrap().len(), 1);
    let r = audit_stdin(&["-", "-", "--format", "json"], db_state(&c).as_bytes());
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(findings(&r).len(), 1, "{}", r.stdout);
    let r = audit(&[&d.s("missing.tfstate")]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(!r.stderr.contains("no state"), "{}", r.stderr);
    assert!(!r.all().contains(&c));
}

/// Review finding: `unsupported format_version <value>` copied the input string into the error
/// (stderr, JSON `errors`, SARIF notifications, scrub). Only a short dotted number is echoed.
#[test]
fn unsupported_versions_are_echoed_only_when_they_look_like_versions() {
    let d = Dir::new();
    let canary = format!("cnry{}", random(ALNUM, 24));
    let number = format!("9{}", random("0123456789", 15));
    d.write(
        "a-plan.json",
        format!("{{\"format_version\": \"{canary}\", \"values\": {{}}}}"),
    );
    d.write(
        "b-plan.json",
        format!("{{\"format_version\": \"0.{canary}\", \"values\": {{}}}}"),
    );
    d.write(
        "v.tfstate",
        format!("{{\"version\": {number}, \"resources\": []}}"),
    );
    d.write(
        "c-plan.json",
        "{\"format_version\": \"2.0\", \"values\": {}}",
    );
    let mut outputs = Vec::new();
    for format in ["text", "json", "sarif"] {
        let r = audit(&[&d.s(""), "--format", format]);
        assert_eq!(r.code, 2);
        outputs.push(r.all());
    }
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_state-scrubber"))
        .args(["scrub", &d.s("v.tfstate"), "--prefix", "p"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    outputs.push(String::from_utf8_lossy(&o.stderr).into_owned());
    for (i, o) in outputs.iter().enumerate() {
        for v in variants(&canary) {
            assert!(!o.contains(&v), "output {i} echoes format_version");
        }
        assert!(!o.contains(&number[..10]), "output {i} echoes version");
    }
    let text = &outputs[0];
    assert!(
        text.contains("unsupported format_version 2.0 (supported"),
        "a real version is still named"
    );
    assert!(text.contains("unsupported format_version (not a version number)"));
    assert!(text.contains("unsupported state format version (not a version number)"));
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

/// Review finding: a pipe named as a path (`<(terraform show -json tfplan)`, `/dev/stdin`, a
/// FIFO) has length 0 in its metadata and was reported as "empty file".
#[cfg(unix)]
#[test]
fn pipes_named_as_paths_are_read_to_the_end() {
    let p = pw();
    let r = audit_stdin(&["/dev/stdin", "--format", "json"], db_state(&p).as_bytes());
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(findings(&r).len(), 1);
    assert!(!r.all().contains(&p));
    // An empty pipe is still an empty file.
    let r = audit_stdin(&["/dev/stdin"], b"");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("empty file"), "{}", r.stderr);
}

/// Review finding: the walk picks up `*-plan.json` and the like, and one that is not Terraform JSON
/// (`docs/pricing-plan.json`) failed the whole run with exit 2. Found by the walk it is skipped
/// with a note (`--verbose`); named on the command line it is still an error.
#[test]
fn walked_json_that_is_not_terraform_is_skipped_not_an_error() {
    let d = Dir::new();
    d.write("infra/terraform.tfstate", state_v4(json!([])));
    d.write("docs/pricing-plan.json", "{\"title\": \"how we plan\"}");
    d.write("docs/plan-seats.json", "[1, 2, 3]");
    let r = audit_in(d.path(), &["."]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains("pricing-plan.json"), "{}", r.all());
    assert!(r.stdout.contains("in 1 file scanned"), "{}", r.stdout);
    let r = audit_in(d.path(), &[".", "--verbose"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("docs/pricing-plan.json  skipped"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("docs/plan-seats.json  skipped"),
        "{}",
        r.stdout
    );
    let r = audit_in(d.path(), &[".", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let files = r.json()["files"].as_array().unwrap().clone();
    let skipped = files.iter().filter(|f| f["status"] == "skipped").count();
    assert_eq!(skipped, 2, "{files:?}");
    // Named explicitly: an error, as before.
    let r = audit_in(d.path(), &["docs/pricing-plan.json"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("not a Terraform state"), "{}", r.stderr);
    // A walked file that is Terraform JSON but broken is still an error.
    d.write("infra/old.tfstate", "{\"version\": 4, \"resources\": [");
    let r = audit_in(d.path(), &["."]);
    assert_eq!(r.code, 2, "{}", r.all());
}

/// Review item 7: a plan's `configuration` holds the literal of every module input
/// (`module_calls.*.expressions`) and provisioner argument (`resources[].provisioners[].expressions`);
/// such a literal may appear nowhere else in the plan. A module input is a sensitive-variable
/// finding when the child module declares that variable sensitive.
#[test]
fn plan_configuration_module_inputs_and_provisioners_are_scanned() {
    let d = Dir::new();
    let token = format!("ghp_{}", random(ALNUM, 36));
    let pw = pw();
    let plain = pw.replace('!', "x");
    let plan = json!({
        "format_version": "1.2", "terraform_version": "1.9.5", "variables": {},
        "planned_values": {"root_module": {}}, "resource_changes": [],
        "configuration": {"root_module": {
            "resources": [{
                "address": "null_resource.x", "mode": "managed", "type": "null_resource",
                "name": "x", "provider_config_key": "null", "schema_version": 0,
                "provisioners": [{"type": "local-exec", "expressions": {"command": {
                    "constant_value": format!("curl -H 'Authorization: token {token}' https://api.github.com")}}}]
            }],
            "module_calls": {"gh": {
                "source": "./gh",
                "expressions": {
                    "github_token": {"constant_value": token},
                    "db_password": {"constant_value": pw},
                    "region": {"constant_value": plain},
                },
                "module": {
                    "variables": {"github_token": {"sensitive": true}, "db_password": {}, "region": {}},
                    "module_calls": {"inner": {"source": "./inner",
                        "expressions": {"api_key": {"constant_value": plain}},
                        "module": {"variables": {"api_key": {"sensitive": true}}}}}
                }
            }}
        }}
    });
    let p = d.write("plan.json", plan.to_string());
    let r = audit(&[&p.display().to_string(), "--format", "json"]);
    assert_eq!(r.code, 1, "findings expected");
    let found = findings(&r);
    let at = |ptr: &str| {
        found
            .iter()
            .find(|f| f["json_pointer"] == ptr)
            .unwrap_or_else(|| panic!("no finding at {ptr}"))
            .clone()
    };
    let prov = at(
        "/configuration/root_module/resources/0/provisioners/0/expressions/command/constant_value",
    );
    assert_eq!(prov["rule_id"], "github-token");
    assert_eq!(prov["address"], "null_resource.x");
    let gh =
        at("/configuration/root_module/module_calls/gh/expressions/github_token/constant_value");
    assert_eq!(gh["rule_id"], "github-token");
    assert_eq!(gh["address"], "module.gh");
    let db =
        at("/configuration/root_module/module_calls/gh/expressions/db_password/constant_value");
    assert_eq!(db["severity"], "high", "key rule on a password input");
    // A sensitive child variable marks the input even when nothing else would.
    let inner = at("/configuration/root_module/module_calls/gh/module/module_calls/inner/expressions/api_key/constant_value");
    assert_eq!(inner["rule_id"], "mark.sensitive_variable");
    assert_eq!(inner["address"], "module.gh.module.inner");
    assert!(
        !found.iter().any(|f| f["json_pointer"]
            .as_str()
            .unwrap()
            .contains("/expressions/region/")),
        "a plain input is not a finding"
    );
    let out = r.all();
    for v in variants(&token).into_iter().chain(variants(&pw)) {
        assert!(!out.contains(&v), "output leaks a value");
    }
}

/// `for_each` and `count` sit next to `expressions` in a plan's configuration
/// (`for_each_expression`, `count_expression`); a literal map or list given to `for_each` is in
/// the plan there, on resources and on module calls (one without any input as well).
#[test]
fn plan_configuration_for_each_literals_are_scanned() {
    let d = Dir::new();
    let token = format!("ghp_{}", random(ALNUM, 36));
    let pw = pw();
    let plan = json!({
        "format_version": "1.2", "terraform_version": "1.9.5", "variables": {},
        "planned_values": {"root_module": {}}, "resource_changes": [],
        "configuration": {"root_module": {
            "resources": [{
                "address": "aws_ssm_parameter.p", "mode": "managed", "type": "aws_ssm_parameter",
                "name": "p", "provider_config_key": "aws", "schema_version": 0,
                "expressions": {"name": {"references": ["each.key"]}},
                "for_each_expression": {"constant_value": {"db_password": pw, "region": "eu-west-1"}},
                "count_expression": {"constant_value": 2}
            }],
            "module_calls": {"runners": {
                "source": "./runners",
                "for_each_expression": {"constant_value": [token]},
                "module": {}
            }}
        }}
    });
    let p = d.write("plan.json", plan.to_string());
    let r = audit(&[&p.display().to_string(), "--format", "json"]);
    assert_eq!(r.code, 1, "findings expected: {}", r.stdout);
    let found = findings(&r);
    let at = |ptr: &str| {
        found
            .iter()
            .find(|f| f["json_pointer"] == ptr)
            .unwrap_or_else(|| panic!("no finding at {ptr} in {found:?}"))
            .clone()
    };
    let db =
        at("/configuration/root_module/resources/0/for_each_expression/constant_value/db_password");
    assert_eq!(db["rule_id"], "key-password");
    assert_eq!(db["address"], "aws_ssm_parameter.p");
    let runner =
        at("/configuration/root_module/module_calls/runners/for_each_expression/constant_value/0");
    assert_eq!(runner["rule_id"], "github-token");
    assert_eq!(runner["address"], "module.runners");
    assert_eq!(
        found.len(),
        2,
        "the region and the count are not findings: {found:?}"
    );
    let out = r.all();
    for v in variants(&token).into_iter().chain(variants(&pw)) {
        assert!(!out.contains(&v), "output leaks a value");
    }
}

/// Review item 8: the recommended way to hand a secret to a container is a reference to it (a
/// file, a parameter, a secret name, a header or table name); such values under secret-like keys
/// were HIGH findings. A random-looking value under the same keys is still found.
#[test]
fn secret_references_under_secret_like_keys_are_quiet_real_values_are_not() {
    let d = Dir::new();
    let env = |pairs: &[(&str, &str)]| -> Value {
        pairs
            .iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect()
    };
    let quiet_env = env(&[
        ("POSTGRES_PASSWORD_FILE", "/run/secrets/postgres-password"),
        ("DB_PASSWORD_SECRET", "prod/payments/db-password"),
        // A secret's bare name, not a path: was a HIGH key-password finding.
        ("REPLICA_PASSWORD_SECRET", "db-password"),
        ("JWT_SECRET_KEY_FILE", "/etc/app/jwt.key"),
        ("PASSWORD_HASH_ALGO", "argon2id"),
        ("AUTH_TOKEN_HEADER", "X-Authorization-Token"),
        ("SECRET_MANAGER_REGION", "eu-west-1"),
    ]);
    let quiet = state_v4(json!([
        resource(
            "managed",
            "aws_ecs_task_definition",
            "t",
            json!({"id": "api", "family": "api", "container_definitions":
                json!([{"name": "api", "environment": quiet_env}]).to_string()}),
            json!([])
        ),
        resource(
            "managed",
            "kubernetes_deployment",
            "d",
            json!({"id": "default/api", "spec": [{"template": [{"spec": [{"container": [{"name": "api",
                "env": [{"name": "DB_PASSWORD_FILE", "value": "/var/run/secrets/db/password", "value_from": []},
                        {"name": "API_TOKEN_SECRET_NAME", "value": "api-token", "value_from": []}]}]}]}]}]}),
            json!([])
        ),
        resource(
            "managed",
            "aws_lambda_function",
            "f",
            json!({"id": "f", "environment": [{"variables": {
                "SECRET_ID": "prod/db", "TOKEN_TABLE": "auth-tokens-prod",
                "SIGNING_SECRET_PARAM": "/prod/signing-secret",
                "SESSION_SECRET_PARAMETER": "/prod/app/session-secret",
                "DB_PASSWORD_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"}}]}),
            json!([])
        ),
        resource(
            "managed",
            "aws_ssm_parameter",
            "p",
            json!({"id": "/app/db_password_secret", "name": "/app/db_password_secret",
                   "type": "String", "value": "prod/payments/db-password"}),
            json!([])
        ),
    ]));
    d.write("quiet.tfstate", quiet);
    let r = audit(&[&d.s("quiet.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 0, "references are not findings: {}", r.stdout);

    // The same keys holding values, not references.
    let v1 = random(ALNUM, 32);
    let v2 = random(ALNUM, 40);
    let v3 = format!("/{}", random(ALNUM, 24));
    let v4 = random(ALNUM, 32);
    let gh = format!("ghp_{}", random(ALNUM, 36));
    let v5 = random(ALNUM, 24);
    // Not random-looking, and still the OAuth 1 secret itself under this name.
    let v6 = format!("Summer{}-Tw!tter", random("0123456789", 4));
    let loud = state_v4(json!([resource(
        "managed",
        "aws_lambda_function",
        "g",
        json!({"id": "g", "environment": [{"variables": {
            "DB_PASSWORD_FILE": v1,
            "API_TOKEN_HEADER": format!("Bearer {v2}"),
            "DB_PASSWORD": v3,
            "SIGNING_SECRET_PARAM": v4,
            "GITHUB_TOKEN_TABLE": gh,
            "DB_PASSWORD_SECRET": v5,
            "ACCESS_TOKEN_SECRET": v6}}]}),
        json!([])
    )]));
    d.write("loud.tfstate", loud);
    let r = audit(&[&d.s("loud.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1);
    let found = findings(&r);
    let rule_at = |k: &str| {
        found
            .iter()
            .find(|f| f["attribute_path"] == format!("environment[0].variables.{k}"))
            .map(|f| f["rule_id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{k} not found"))
    };
    assert_eq!(rule_at("DB_PASSWORD_FILE"), "key-password");
    assert_eq!(rule_at("API_TOKEN_HEADER"), "key-token");
    assert_eq!(
        rule_at("DB_PASSWORD"),
        "key-password",
        "a password that starts with /"
    );
    assert_eq!(rule_at("SIGNING_SECRET_PARAM"), "key-secret");
    assert_eq!(rule_at("GITHUB_TOKEN_TABLE"), "github-token");
    assert_eq!(rule_at("DB_PASSWORD_SECRET"), "key-password");
    assert_eq!(rule_at("ACCESS_TOKEN_SECRET"), "key-secret");
    let out = r.all();
    for v in [&v1, &v2, &v3, &v4, &gh, &v5, &v6] {
        assert!(!out.contains(v.as_str()));
    }
}

/// Review item 8: a flatmap (v3 `primary.attributes`, v4 `attributes_flat`) ignored a table row's
/// `when` condition, so a `type = "String"` SSM parameter was a HIGH secret.
#[test]
fn flatmap_rows_apply_their_when_condition() {
    let d = Dir::new();
    let plain = random("abcdefghijklmnopqrstuvwxyz", 20);
    let secret = random(ALNUM, 20);
    let v3 = json!({"version": 3, "terraform_version": "0.11.14", "serial": 5, "lineage": "abc",
    "modules": [{"path": ["root"], "outputs": {}, "depends_on": [], "resources": {
        "aws_ssm_parameter.plain": {"type": "aws_ssm_parameter", "depends_on": [], "provider": "provider.aws",
            "primary": {"id": "/x", "attributes": {"id": "/x", "name": "/x", "type": "String", "value": plain}, "meta": {}, "tainted": false}},
        "aws_ssm_parameter.secure": {"type": "aws_ssm_parameter", "depends_on": [], "provider": "provider.aws",
            "primary": {"id": "/y", "attributes": {"id": "/y", "name": "/y", "type": "SecureString", "value": secret}, "meta": {}, "tainted": false}}
    }}]});
    d.write("v3.tfstate", v3.to_string());
    let r = audit(&[&d.s("v3.tfstate"), "--format", "json"]);
    let found = findings(&r);
    let addrs: Vec<&str> = found
        .iter()
        .map(|f| f["address"].as_str().unwrap())
        .collect();
    assert_eq!(addrs, ["aws_ssm_parameter.secure"], "{}", r.stdout);
    let mut flat = serde_json::from_str::<Value>(&state_v4(json!([resource(
        "managed",
        "aws_ssm_parameter",
        "plain",
        json!({}),
        json!([])
    ),])))
    .unwrap();
    let inst = &mut flat["resources"][0]["instances"][0];
    inst.as_object_mut().unwrap().remove("attributes");
    inst["attributes_flat"] = json!({"id": "/x", "type": "String", "value": plain});
    d.write("flat.tfstate", flat.to_string());
    let r = audit(&[&d.s("flat.tfstate")]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

/// Review (lower priority): any top-level `encrypted_data` key made a plaintext state
/// "encrypted, not scanned" (exit 0, findings dropped). Only OpenTofu's envelope (`meta`,
/// `encrypted_data`, `encryption_version` and nothing else) is encrypted state.
#[test]
fn encrypted_data_next_to_plaintext_resources_is_scanned() {
    let d = Dir::new();
    let pw = pw();
    let mut st: Value = serde_json::from_str(&db_state(&pw)).unwrap();
    st["encrypted_data"] = json!(random(ALNUM, 40));
    st["encryption_version"] = json!("v0");
    d.write("a.tfstate", st.to_string());
    let r = audit(&[&d.s("a.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(findings(&r).len(), 1);
    let file = &r.json()["files"][0];
    assert_eq!(file["document"], "state_v4");
    assert!(
        file["notes"][0]
            .as_str()
            .unwrap()
            .contains("not an OpenTofu-encrypted state"),
        "{file}"
    );
    assert!(!r.all().contains(&pw));
    // The envelope's keys next to keys that are neither state nor plan: not recognised (exit 2),
    // never a silent pass.
    d.write(
        "b.tfstate",
        json!({"encrypted_data": "x", "encryption_version": "v0", "payload": {"password": pw}})
            .to_string(),
    );
    let r = audit(&[&d.s("b.tfstate")]);
    assert_eq!(r.code, 2, "{}", r.all());
    // The real envelope is still recognised.
    d.write(
        "c.tfstate",
        json!({"meta": {"key_provider.pbkdf2.k": "e30="}, "encrypted_data": random(ALNUM, 64), "encryption_version": "v0"}).to_string(),
    );
    let r = audit(&[&d.s("c.tfstate")]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1 encrypted (not scanned)"));
}

/// Review (lower priority): a v3 state's `deposed` objects (the old object of a
/// create_before_destroy replacement) were not scanned.
#[test]
fn v3_deposed_objects_are_scanned() {
    let d = Dir::new();
    let (now, old) = (pw(), pw());
    let v3 = json!({"version": 3, "terraform_version": "0.11.14", "serial": 5, "lineage": "abc",
    "modules": [{"path": ["root"], "outputs": {}, "depends_on": [], "resources": {
        "aws_db_instance.main": {"type": "aws_db_instance", "depends_on": [], "provider": "provider.aws",
            "primary": {"id": "main", "attributes": {"id": "main", "password": now}, "meta": {}, "tainted": false},
            "deposed": [{"id": "old", "attributes": {"id": "old", "password": old}, "meta": {}, "tainted": false}]}
    }}]});
    d.write("v3.tfstate", v3.to_string());
    let r = audit(&[&d.s("v3.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1);
    let mut got: Vec<(String, String)> = findings(&r)
        .iter()
        .map(|f| {
            (
                f["address"].as_str().unwrap().to_string(),
                f["json_pointer"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "aws_db_instance.main".to_string(),
                "/modules/0/resources/aws_db_instance.main/primary/attributes/password".to_string()
            ),
            (
                "aws_db_instance.main (deposed 0)".to_string(),
                "/modules/0/resources/aws_db_instance.main/deposed/0/attributes/password"
                    .to_string()
            ),
        ]
    );
    assert!(!r.all().contains(&old));
}

/// Review (lower priority): SARIF declared `columnKind: unicodeCodePoints` while columns were
/// bytes (SARIF 2.1.0 §3.14.27 allows only code points or UTF-16 code units). A finding's column
/// now counts characters in every format.
#[test]
fn columns_count_characters_not_bytes() {
    let d = Dir::new();
    let secret = pw();
    // One line: a description with 2-, 3- and 4-byte characters before the password.
    let line = format!(
        r#"{{"version": 4, "terraform_version": "1.9.5", "serial": 1, "lineage": "l", "outputs": {{}}, "resources": [{{"mode": "managed", "type": "aws_db_instance", "name": "m", "provider": "p", "instances": [{{"schema_version": 0, "attributes": {{"id": "x", "description": "Ünïcödé € 𝄞 ✓", "password": "{secret}"}}, "sensitive_attributes": []}}]}}]}}"#
    );
    d.write("one-line.tfstate", format!("{line}\n"));
    let quote = line.find(&format!("\"{secret}\"")).unwrap();
    let want = line[..quote].chars().count() as u64 + 1;
    assert!(
        want < quote as u64 + 1,
        "the line has multi-byte characters"
    );
    let r = audit(&[&d.s("one-line.tfstate"), "--format", "json"]);
    let f = &findings(&r)[0];
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(1), Some(want))
    );
    let r = audit(&[&d.s("one-line.tfstate"), "--format", "sarif"]);
    let run = &r.json()["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let region = &run["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startColumn"].as_u64(), Some(want));
    let r = audit(&[&d.s("one-line.tfstate")]);
    assert!(r.stdout.contains(&format!(" 1:{want} ")), "{}", r.stdout);

    // Several lines, several findings per line, multi-byte characters before and between them.
    let pws: Vec<String> = (0..4).map(|_| pw()).collect();
    let res = |i: usize, a: &str, b: &str| {
        format!(
            r#"{{"mode": "managed", "type": "aws_db_instance", "name": "m{i}", "provider": "p", "instances": [{{"schema_version": 0, "attributes": {{"id": "x", "description": "größe ½ 𝄞", "password": "{a}", "note": "ß", "master_password": "{b}"}}, "sensitive_attributes": []}}]}}"#
        )
    };
    let text = format!(
        "{{\"version\": 4, \"serial\": 1, \"lineage\": \"ü\", \"outputs\": {{}}, \"resources\": [\n{},\n{}\n]}}\n",
        res(0, &pws[0], &pws[1]),
        res(1, &pws[2], &pws[3])
    );
    d.write("lines.tfstate", &text);
    let mut want = Vec::new();
    for (n, l) in text.lines().enumerate() {
        for p in &pws {
            if let Some(q) = l.find(&format!("\"{p}\"")) {
                want.push((n as u64 + 1, l[..q].chars().count() as u64 + 1));
            }
        }
    }
    want.sort();
    let r = audit(&[&d.s("lines.tfstate"), "--format", "json"]);
    let mut got: Vec<(u64, u64)> = findings(&r)
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap()))
        .collect();
    got.sort();
    assert_eq!(got, want);
}

/// Review (lower priority): a plan saved by Windows PowerShell's `>` is UTF-16; it was reported
/// as "binary data, not JSON". The error says what it is and how to convert it.
#[test]
fn utf16_input_is_named_with_a_conversion_hint() {
    let d = Dir::new();
    let pw = pw();
    let text = db_state(&pw);
    let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
    for (name, bytes) in [
        ("le-bom.tfstate", [&[0xFF, 0xFE][..], &le].concat()),
        ("be-bom.tfstate", [&[0xFE, 0xFF][..], &be].concat()),
        ("le.tfstate", le.clone()),
        ("be.tfstate", be.clone()),
    ] {
        d.write(name, bytes);
        let r = audit(&[&d.s(name)]);
        assert_eq!(r.code, 2, "{name}");
        assert!(
            r.stderr.contains(&format!("{name}: UTF-16 text")),
            "{name}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("iconv -f UTF-16 -t UTF-8"),
            "{}",
            r.stderr
        );
        assert!(!r.all().contains(&pw));
    }
    // Real binary data is still called that.
    d.write("bin.tfstate", [b'{', 0, 1, 2, 0xFF, 0]);
    let r = audit(&[&d.s("bin.tfstate")]);
    assert!(r.stderr.contains("binary data"), "{}", r.stderr);
}

/// An AWS access key ID is the `id` of `aws_iam_access_key`: the key's identifier, reported in no
/// state layout (v4 attributes and flatmap, v3 `primary.id` and `primary.attributes.id`), while the
/// secret next to it is. The v3 positions were reported as HIGH aws-access-key-id.
#[test]
fn an_access_key_id_as_a_resource_id_is_not_reported_in_any_layout() {
    let d = Dir::new();
    let key_id = format!("AKIA{}", random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
    let secret = random(ALNUM, 40);
    d.write(
        "v4.tfstate",
        state_v4(json!([resource(
            "managed",
            "aws_iam_access_key",
            "ci",
            json!({"id": key_id, "user": "ci", "secret": secret, "status": "Active"}),
            json!([[{"type": "get_attr", "value": "secret"}]])
        )])),
    );
    d.write(
        "v3.tfstate",
        json!({"version": 3, "terraform_version": "0.11.14", "serial": 1, "lineage": "x", "modules": [
            {"path": ["root"], "outputs": {}, "depends_on": [], "resources": {
                "aws_iam_access_key.ci": {"type": "aws_iam_access_key", "depends_on": [], "provider": "provider.aws",
                    "primary": {"id": key_id, "attributes": {"id": key_id, "secret": secret, "user": "ci"},
                                "meta": {}, "tainted": false},
                    "deposed": []}}}]})
        .to_string(),
    );
    let values = json!({"id": key_id, "user": "ci", "secret": secret, "status": "Active"});
    let res = json!({"address": "aws_iam_access_key.ci", "mode": "managed", "type": "aws_iam_access_key",
        "name": "ci", "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
        "values": values, "sensitive_values": {"secret": true}});
    d.write(
        "show.json",
        json!({"format_version": "1.0", "terraform_version": "1.9.5",
               "values": {"root_module": {"resources": [res]}}})
        .to_string(),
    );
    d.write(
        "prod.plan.json",
        json!({"format_version": "1.2", "terraform_version": "1.9.5", "variables": {},
               "planned_values": {"root_module": {"resources": [res]}},
               "resource_changes": [{"address": "aws_iam_access_key.ci", "mode": "managed",
                   "type": "aws_iam_access_key", "name": "ci", "provider_name": "registry.terraform.io/hashicorp/aws",
                   "change": {"actions": ["no-op"], "before": values, "after": values,
                              "before_sensitive": {"secret": true}, "after_sensitive": {"secret": true}}}],
               "configuration": {"root_module": {}}})
        .to_string(),
    );
    for file in ["v4.tfstate", "v3.tfstate", "show.json", "prod.plan.json"] {
        let r = audit(&[&d.s(file), "--format", "json"]);
        assert_eq!(r.code, 1, "{file}: {}", r.stderr);
        let found = findings(&r);
        assert!(!found.is_empty(), "{file}: the secret is found");
        for f in &found {
            assert!(
                f["attribute_path"].as_str().unwrap().ends_with("secret"),
                "{file}: only the secret: {found:?}"
            );
        }
    }
}

/// Review: the `$VAR` placeholder was case-insensitive and applied to table rows and marks, so a
/// password that starts with `$` was no finding at all. Only an upper-case variable name is a
/// placeholder now; the same value as a row, a marked attribute, a key-rule value and a URL
/// password is found.
#[test]
fn a_password_that_starts_with_a_dollar_is_still_a_password() {
    let d = Dir::new();
    let pw = format!("${}", random(ALNUM, 16));
    let url = format!("postgres://app:{pw}@db.internal:5432/app");
    d.write(
        "t.tfstate",
        state_v4(json!([
            resource(
                "managed",
                "aws_db_instance",
                "main",
                json!({"id": "db-ABC", "password": pw, "username": "app"}),
                json!([[{"type": "get_attr", "value": "password"}]])
            ),
            resource(
                "managed",
                "terraform_data",
                "t",
                json!({"id": "t", "triggers_replace": {"DB_PASSWORD": pw, "DSN": url}}),
                json!([])
            ),
        ])),
    );
    let r = audit(&[&d.s("t.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1);
    let found = findings(&r);
    for path in [
        "password",
        "triggers_replace.DB_PASSWORD",
        "triggers_replace.DSN",
    ] {
        assert!(
            found.iter().any(|f| f["attribute_path"] == path),
            "{path} not found"
        );
    }
    let out = r.all();
    for v in variants(&pw) {
        assert!(!out.contains(&v), "output leaks the value");
    }
    // An upper-case variable name in its place is a placeholder.
    d.write(
        "env.tfstate",
        state_v4(json!([resource(
            "managed",
            "terraform_data",
            "t",
            json!({"id": "t", "triggers_replace": {"DB_PASSWORD": "$DB_PASSWORD",
                   "DSN": "postgres://app:${DB_PASSWORD}@db.internal:5432/app"}}),
            json!([])
        )])),
    );
    assert_eq!(audit(&[&d.s("env.tfstate")]).code, 0);
}

// ---- JSON that readers read differently: a key twice, a lone surrogate escape ---------------

/// A v4 state of one resource, written by hand: `members` are the resource's members after
/// `mode` (raw JSON, so that a key can occur twice).
fn raw_state(members: &str) -> String {
    format!(
        "{{\n\"version\": 4,\n\"terraform_version\": \"1.9.5\",\n\"serial\": 1,\n\"lineage\": \"l\",\n\"outputs\": {{}},\n\"resources\": [{{\n\"mode\": \"managed\",\n{members}\n}}]\n}}\n"
    )
}

const RP: &str = "\"provider\": \"provider[\\\"registry.terraform.io/hashicorp/random\\\"]\"";

/// Review: of a key twice in one object, audit read the first occurrence and Terraform (Go's
/// encoding/json) reads the last, so a state whose secret sat where Terraform reads it could be
/// reported clean. Every occurrence is scanned now, whichever holds the secret, and the
/// duplication is a note naming the JSON path (in text, JSON and SARIF), never a value.
#[test]
fn every_occurrence_of_a_duplicated_key_is_scanned() {
    // (case, file text with {S} for the secret, JSON path the note names)
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "a leaf, secret last",
            raw_state("\"type\": \"aws_db_instance\", \"name\": \"db\",\n\"instances\": [{\"schema_version\": 0, \"attributes\": {\"id\": \"db-1\",\n\"password\": \"placeholder\",\n\"password\": \"{S}\"}}]"),
            "/resources/0/instances/0/attributes/password",
        ),
        (
            "a leaf, secret first",
            raw_state("\"type\": \"aws_db_instance\", \"name\": \"db\",\n\"instances\": [{\"schema_version\": 0, \"attributes\": {\"id\": \"db-1\",\n\"password\": \"{S}\",\n\"password\": \"placeholder\"}}]"),
            "/resources/0/instances/0/attributes/password",
        ),
        (
            "attributes, secret in the last (Terraform's)",
            raw_state(&format!("\"type\": \"random_password\", \"name\": \"p\", {RP},\n\"instances\": [{{\"schema_version\": 0,\n\"attributes\": {{\"id\": \"none\", \"result\": null}},\n\"attributes\": {{\"id\": \"none\",\n\"result\": \"{{S}}\"}}}}]")),
            "/resources/0/instances/0/attributes",
        ),
        (
            "attributes, secret in the first",
            raw_state(&format!("\"type\": \"random_password\", \"name\": \"p\", {RP},\n\"instances\": [{{\"schema_version\": 0,\n\"attributes\": {{\"id\": \"none\",\n\"result\": \"{{S}}\"}},\n\"attributes\": {{\"id\": \"none\", \"result\": null}}}}]")),
            "/resources/0/instances/0/attributes",
        ),
        (
            "the resource type, the secret one last",
            raw_state(&format!("\"type\": \"null_resource\",\n\"type\": \"random_password\", \"name\": \"p\", {RP},\n\"instances\": [{{\"schema_version\": 0, \"attributes\": {{\"id\": \"none\",\n\"result\": \"{{S}}\"}}}}]")),
            "/resources/0/type",
        ),
        (
            "the resource type, the secret one first",
            raw_state(&format!("\"type\": \"random_password\",\n\"type\": \"null_resource\", \"name\": \"p\", {RP},\n\"instances\": [{{\"schema_version\": 0, \"attributes\": {{\"id\": \"none\",\n\"result\": \"{{S}}\"}}}}]")),
            "/resources/0/type",
        ),
        (
            "an SSM parameter's type, SecureString last",
            raw_state("\"type\": \"aws_ssm_parameter\", \"name\": \"p\",\n\"instances\": [{\"schema_version\": 0, \"attributes\": {\"id\": \"/app/key\", \"type\": \"String\", \"type\": \"SecureString\",\n\"value\": \"{S}\"}}]"),
            "/resources/0/instances/0/attributes/type",
        ),
        (
            "instances, secret in the first",
            raw_state(&format!("\"type\": \"random_password\", \"name\": \"p\", {RP},\n\"instances\": [{{\"schema_version\": 0, \"attributes\": {{\"id\": \"none\",\n\"result\": \"{{S}}\"}}}}],\n\"instances\": []")),
            "/resources/0/instances",
        ),
        (
            "attributes twice inside the instances Terraform does not read",
            raw_state(&format!("\"type\": \"random_password\", \"name\": \"p\", {RP},\n\"instances\": [{{\"schema_version\": 0,\n\"attributes\": {{\"id\": \"none\",\n\"result\": \"{{S}}\"}},\n\"attributes\": {{\"id\": \"none\"}}}}],\n\"instances\": []")),
            "/resources/0/instances/0/attributes",
        ),
        (
            "an output's sensitive flag",
            "{\n\"version\": 4, \"serial\": 1, \"lineage\": \"l\",\n\"outputs\": {\"token\": {\n\"value\": \"{S}\", \"type\": \"string\", \"sensitive\": true, \"sensitive\": false}},\n\"resources\": []\n}\n".to_string(),
            "/outputs/token/sensitive",
        ),
        (
            "resources at the top level, secret in the first",
            format!("{{\n\"version\": 4, \"serial\": 1, \"lineage\": \"l\",\n\"resources\": [{{\"mode\": \"managed\", \"type\": \"random_password\", \"name\": \"p\", {RP}, \"instances\": [{{\"schema_version\": 0, \"attributes\": {{\"id\": \"none\",\n\"result\": \"{{S}}\"}}}}]}}],\n\"resources\": []\n}}\n"),
            "/resources",
        ),
        (
            "a plan's after, secret in the first",
            "{\n\"format_version\": \"1.2\",\n\"resource_changes\": [{\"address\": \"random_password.p\", \"mode\": \"managed\", \"type\": \"random_password\", \"name\": \"p\",\n\"change\": {\"actions\": [\"create\"], \"before\": null,\n\"after\": {\"id\": \"none\",\n\"result\": \"{S}\"},\n\"after\": {\"id\": \"none\", \"result\": null}}}]\n}\n".to_string(),
            "/resource_changes/0/change/after",
        ),
    ];
    let d = Dir::new();
    for (i, (case, text, pointer)) in cases.iter().enumerate() {
        let secret = format!("Dk{}{}", random(ALNUM, 14), random("!#%+", 1));
        let text = text.replace("{S}", &secret);
        let line = text[..text.find(&secret).unwrap()].matches('\n').count() + 1;
        let file = d.write(&format!("c{i}.tfstate"), &text);
        let file = file.to_str().unwrap();
        let r = audit(&[file, "--format", "json"]);
        assert_eq!(r.code, 1, "{case}: exit {}: {}", r.code, r.stderr);
        let found = findings(&r);
        assert!(
            found.iter().any(|f| f["line"] == line),
            "{case}: no finding on line {line}"
        );
        // One finding per value, however many readings saw it.
        let mut places: Vec<(i64, i64)> = found
            .iter()
            .map(|f| (f["line"].as_i64().unwrap(), f["column"].as_i64().unwrap()))
            .collect();
        places.sort();
        places.dedup();
        assert_eq!(places.len(), found.len(), "{case}: a value reported twice");
        let notes = r.json()["files"][0]["notes"].clone();
        assert!(
            notes.as_array().unwrap().iter().any(|n| {
                let n = n.as_str().unwrap();
                n.contains("more than once") && n.contains(&format!("`{pointer}` ("))
            }),
            "{case}: no note naming {pointer}: {notes}"
        );
        let text_out = audit(&[file]);
        assert!(
            text_out.stdout.contains(&format!(
                "note: a key occurs more than once in its object at `{pointer}`"
            )),
            "{case}: text report has no note for {pointer}"
        );
        let sarif = audit(&[file, "--format", "sarif"]);
        let sarif_json: Value = serde_json::from_str(&sarif.stdout).unwrap();
        let notes =
            sarif_json["runs"][0]["invocations"][0]["toolExecutionNotifications"].to_string();
        assert!(
            notes.contains(pointer) && notes.contains(file),
            "{case}: SARIF has no notification for {pointer}"
        );
        for out in [r.all(), text_out.all(), sarif.all()] {
            for v in variants(&secret) {
                assert!(!out.contains(&v), "{case}: output leaks the value");
            }
        }
    }

    // A key twice with no secret in either occurrence: clean (exit 0), and the note says so.
    let clean = raw_state("\"type\": \"aws_instance\", \"name\": \"i\",\n\"instances\": [{\"schema_version\": 0, \"attributes\": {\"id\": \"i-1\"}, \"attributes\": {\"id\": \"i-2\"}}]");
    let file = d.write("clean.tfstate", &clean);
    let r = audit(&[file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("note: a key occurs more than once in its object at `/resources/0/instances/0/attributes` (2 times)"),
        "{}",
        r.stdout
    );
}

/// A key that occurs too often to read every occurrence (here 20 times in one object) is an
/// error naming the file and the resource (exit 2): what is left unread could hide a secret.
#[test]
fn a_key_too_often_in_one_resource_is_an_error() {
    let d = Dir::new();
    let s = raw_state(&format!(
        "\"type\": \"aws_instance\", \"name\": \"i\",\n\"instances\": [{{\"schema_version\": 0, {}}}]",
        (0..20)
            .map(|i| format!("\"attributes\": {{\"id\": \"i-{i}\"}}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let file = d.write("many.tfstate", &s);
    let r = audit(&[file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(file.to_str().unwrap())
            && r.stderr.contains("/resources/0")
            && r.stderr.contains("too many places"),
        "{}",
        r.stderr
    );
}

/// Review: a `\ud800`-style escape without its pair is no character. audit neither crashes on
/// one nor loses a secret next to it (it reads U+FFFD there, as Terraform does), and names
/// where it is in a note.
#[test]
fn a_lone_surrogate_escape_neither_crashes_nor_hides_a_secret() {
    let d = Dir::new();
    let secret = format!("Dk{}{}", random(ALNUM, 14), random("!#%+", 1));
    let key_id = format!("AKIA{}", random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
    let text = raw_state(&format!(
        "\"type\": \"aws_db_instance\", \"name\": \"db\",\n\"instances\": [{{\"schema_version\": 0, \"attributes\": {{\"id\": \"db-1\",\n\"password\": \"\\ud800{secret}\",\n\"description\": \"x\\udc00 {key_id} \\ud83d\\ude00\",\n\"tags\": {{\"k\\udbff\": \"v\"}}}}}}]"
    ));
    let file = d.write("s.tfstate", &text);
    let file = file.to_str().unwrap();
    let mut outs = Vec::new();
    for format in ["text", "json", "sarif"] {
        let r = audit(&[file, "--format", format]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        outs.push(r);
    }
    let found = findings(&outs[1]);
    for path in ["password", "description"] {
        assert!(
            found.iter().any(|f| f["attribute_path"] == path),
            "{path} not found"
        );
    }
    let notes = outs[1].json()["files"][0]["notes"].to_string();
    for pointer in [
        "/resources/0/instances/0/attributes/password",
        "/resources/0/instances/0/attributes/description",
        "/resources/0/instances/0/attributes/tags",
    ] {
        assert!(
            notes.contains(&format!("`{pointer}`")) && notes.contains("lone UTF-16 surrogate"),
            "no note for {pointer}: {notes}"
        );
    }
    for r in &outs {
        for c in [&secret, &key_id] {
            for v in variants(c) {
                assert!(!r.all().contains(&v), "output leaks a value");
            }
        }
    }
}

/// Each of `secrets`, in any of its [`variants`], stays out of every output format of an audit
/// of `target` with `--verbose`; `what` names them in the failure.
fn assert_never_shown(target: &str, secrets: &[&str], what: &str) {
    for format in ["text", "json", "sarif", "html"] {
        let r = audit(&[target, "--format", format, "--verbose"]);
        for c in secrets {
            for v in variants(c) {
                assert!(!r.all().contains(&v), "{format} output leaks {what}");
            }
        }
    }
}

/// The string members `keys` of each finding, in order. A key ending in `?` may be missing (then
/// it is ""); any other must be a string.
fn columns<const N: usize>(findings: &[Value], keys: [&str; N]) -> Vec<[String; N]> {
    findings
        .iter()
        .map(|f| {
            keys.map(|k| {
                match k.strip_suffix('?') {
                    Some(k) => f[k].as_str().unwrap_or(""),
                    None => f[k].as_str().unwrap(),
                }
                .to_string()
            })
        })
        .collect()
}

/// A v4 state with `resources`, as a value to add members to.
fn state_value(resources: Value) -> Value {
    serde_json::from_str(&state_v4(resources)).unwrap()
}

/// A state in which only a key name says that `tok` is a secret: `terraform_data.tok`'s input
/// `{token = tok}`.
fn token_input_state(tok: &str) -> Value {
    state_value(json!([resource(
        "managed",
        "terraform_data",
        "tok",
        json!({"id": "x", "input": {"value": {"token": tok}, "type": ["object", {"token": "string"}]}}),
        json!([])
    )]))
}

/// What is wrong with `sarif` by the official SARIF 2.1.0 schema.
fn sarif_errors(sarif: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    validator
        .iter_errors(sarif)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

/// Review (plans and less common state shapes): a failed condition's message is text made from
/// `error_message`, which may interpolate any value not marked sensitive. Terraform keeps it in
/// the state (`check_results[].objects[].failure_messages`) and in `terraform show -json`
/// (`checks[].instances[].problems[].message`, also under a plan's `prior_state`). Content rules
/// apply there; the check is named by its configuration address.
#[test]
fn failed_check_messages_are_scanned_in_states_and_plans() {
    let d = Dir::new();
    let pw = random(ALNUM, 20);
    let url = format!("postgres://app:{pw}@db.internal:5432/app");
    let problems = json!([{"address": {"kind": "check", "name": "db", "to_display": "check.db"}, "status": "fail",
        "instances": [{"address": {"to_display": "check.db"}, "status": "fail",
            "problems": [{"message": "ok"}, {"message": format!("cannot reach {url}")}]}]}]);
    let mut state = state_value(json!([]));
    state["check_results"] = json!([{"object_kind": "check", "config_addr": "check.db", "status": "fail",
        "objects": [{"object_addr": "check.db", "status": "fail", "failure_messages": [format!("cannot reach {url}")]}]}]);
    d.write("terraform.tfstate", state.to_string());
    d.write(
        "plan.json",
        json!({"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": [],
            "checks": problems, "prior_state": {"format_version": "1.0", "values": {"root_module": {}}, "checks": problems}})
        .to_string(),
    );
    d.write(
        "show.json",
        json!({"format_version": "1.0", "values": {"root_module": {}}, "checks": problems})
            .to_string(),
    );
    let r = audit(&[&d.s(""), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut got: Vec<(String, String, String)> = findings(&r)
        .iter()
        .map(|f| {
            (
                format!(
                    "{}{}",
                    f["file"].as_str().unwrap().rsplit('/').next().unwrap(),
                    f["json_pointer"].as_str().unwrap()
                ),
                f["address"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let want = |p: &str| {
        (
            p.to_string(),
            "check.db".to_string(),
            "url-with-password".to_string(),
        )
    };
    assert_eq!(
        got,
        vec![
            want("plan.json/checks/0/instances/0/problems/1/message"),
            want("plan.json/prior_state/checks/0/instances/0/problems/1/message"),
            want("show.json/checks/0/instances/0/problems/1/message"),
            want("terraform.tfstate/check_results/0/objects/0/failure_messages/0"),
        ]
    );
    let f = &findings(&r)[0];
    assert!(f["fix"].as_str().unwrap().contains("error_message"), "{f}");
    for format in ["text", "json", "sarif", "html"] {
        let r = audit(&[&d.s(""), "--format", format, "--verbose"]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        for v in variants(&pw) {
            assert!(!r.all().contains(&v), "{format} output leaks the password");
        }
    }
}

/// Review: `output "x" { value = "literal" }` puts the literal in a plan's `configuration`
/// (`outputs.<name>.expression.constant_value`, in the root and in every child module), whether
/// or not the output is stored anywhere. It was not read there.
#[test]
fn literal_output_values_in_plan_configuration_are_found() {
    let d = Dir::new();
    let pw = format!("{}!{}", random(ALNUM, 12), random(ALNUM, 6));
    let key = format!("ghp_{}", random(ALNUM, 36));
    d.write(
        "plan.json",
        json!({"format_version": "1.2", "terraform_version": "1.11.4", "configuration": {"root_module": {
            "outputs": {
                "admin": {"sensitive": true, "expression": {"constant_value": pw}},
                "refs": {"expression": {"references": ["var.x"]}}},
            "module_calls": {"m": {"source": "./m", "module": {"outputs": {
                "gh": {"expression": {"constant_value": {"token": key}}}}}}}}}})
        .to_string(),
    );
    let r = audit(&[&d.s("plan.json"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got = columns(&findings(&r), ["address", "json_pointer", "rule_id"]);
    assert_eq!(
        got,
        vec![
            [
                "output.admin",
                "/configuration/root_module/outputs/admin/expression/constant_value",
                "mark.sensitive_output"
            ],
            [
                "module.m.output.gh",
                "/configuration/root_module/module_calls/m/module/outputs/gh/expression/constant_value/token",
                "github-token"
            ],
        ]
    );
    assert_never_shown(&d.s("plan.json"), &[&pw, &key], "a value");
}

/// Review: members that hold values besides `attributes` / `before` / `after`, which were not
/// read: a resource identity (Terraform 1.12+: a state instance's `identity`, a show resource's
/// `identity`, a change's `before_identity` / `after_identity` / `importing.identity`) and the
/// HCL `terraform plan -generate-config-out` wrote for an imported resource
/// (`change.generated_config`, every attribute not marked sensitive as a literal). Each is its
/// own section. An AWS access key ID in an identity is the object's name, as in `id`: quiet.
#[test]
fn identities_and_generated_config_are_read() {
    let d = Dir::new();
    let pw = format!("{}!{}", random(ALNUM, 12), random(ALNUM, 6));
    let tok = random(ALNUM, 32);
    let key_id = format!("AKIA{}", random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
    let ident = json!({"id": key_id, "account_id": "123456789012", "password": pw});
    let mut state = state_value(json!([resource(
        "managed",
        "aws_instance",
        "a",
        json!({"id": "i-1"}),
        json!([])
    )]));
    state["resources"][0]["instances"][0]["identity"] = ident.clone();
    state["resources"][0]["instances"][0]["identity_schema_version"] = json!(0);
    d.write("terraform.tfstate", state.to_string());
    let hcl = format!(
        "resource \"aws_lambda_function\" \"f\" {{\n  environment {{\n    variables = {{\n      API_TOKEN = \"{tok}\"\n    }}\n  }}\n}}\n"
    );
    d.write(
        "plan.json",
        json!({"format_version": "1.2", "terraform_version": "1.12.0",
            "planned_values": {"root_module": {"resources": [{"address": "aws_instance.a", "mode": "managed", "type": "aws_instance",
                "name": "a", "values": {"id": "i-1"}, "identity": ident}]}},
            "resource_changes": [{"address": "aws_instance.a", "mode": "managed", "type": "aws_instance", "name": "a",
                "change": {"actions": ["no-op"], "before": {"id": "i-1"}, "after": {"id": "i-1"},
                    "before_identity": ident, "after_identity": ident, "importing": {"identity": ident},
                    "generated_config": hcl}}]})
        .to_string(),
    );
    let r = audit(&[&d.s(""), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut got = columns(&findings(&r), ["section", "json_pointer", "attribute_path"]);
    got.sort();
    assert_eq!(
        got,
        vec![
            [
                "planned_values.identity",
                "/planned_values/root_module/resources/0/identity/password",
                "password"
            ],
            [
                "resource_changes.after_identity",
                "/resource_changes/0/change/after_identity/password",
                "password"
            ],
            [
                "resource_changes.before_identity",
                "/resource_changes/0/change/before_identity/password",
                "password"
            ],
            [
                "resource_changes.generated_config",
                "/resource_changes/0/change/generated_config",
                ""
            ],
            [
                "resource_changes.importing.identity",
                "/resource_changes/0/change/importing/identity/password",
                "password"
            ],
            [
                "resources.identity",
                "/resources/0/instances/0/identity/password",
                "password"
            ],
        ]
    );
    assert_never_shown(&d.s(""), &[&pw, &tok], "a value");
}

/// Review: Terraform 1.14 plans carry the configuration of every invoked action in plaintext,
/// `action_invocations[].config_values` (marked by `config_sensitive`), also under
/// `deferred_action_invocations[].action_invocation`. It was not read.
#[test]
fn action_invocation_config_values_are_read() {
    let d = Dir::new();
    let pw = format!("{}!{}", random(ALNUM, 12), random(ALNUM, 6));
    let ctx = random(ALNUM, 24);
    d.write(
        "plan.json",
        json!({"format_version": "1.2", "terraform_version": "1.14.0",
            "action_invocations": [{"address": "module.app.action.aws_lambda_invoke.notify[0]", "type": "aws_lambda_invoke",
                "name": "notify", "config_values": {"function_name": "notify", "payload": json!({"db_password": pw}).to_string()},
                "config_sensitive": {}, "config_unknown": {}, "provider_name": "registry.terraform.io/hashicorp/aws",
                "lifecycle_action_trigger": {"triggering_resource_address": "aws_instance.a", "action_trigger_event": "after_create",
                    "action_trigger_block_index": 0, "actions_list_index": 0, "on_failure": "fail"}}],
            "deferred_action_invocations": [{"reason": "deferred_prereq", "action_invocation": {
                "address": "action.aws_lambda_invoke.later", "type": "aws_lambda_invoke", "name": "later",
                "config_values": {"function_name": "later", "client_context": ctx}, "config_sensitive": {"client_context": true}}}]})
        .to_string(),
    );
    let r = audit(&[&d.s("plan.json"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got = columns(&findings(&r), ["address", "json_pointer", "inner_pointer?"]);
    assert_eq!(
        got,
        vec![
            [
                "module.app.action.aws_lambda_invoke.notify",
                "/action_invocations/0/config_values/payload",
                "/db_password"
            ],
            [
                "action.aws_lambda_invoke.later",
                "/deferred_action_invocations/0/action_invocation/config_values/client_context",
                ""
            ],
        ]
    );
    assert_eq!(findings(&r)[1]["rule_id"], "mark.plan_sensitive");
    assert_never_shown(&d.s("plan.json"), &[&pw, &ctx], "a value");
}

/// Review: a v3 state (Terraform <= 0.11) keeps every module's outputs, not only the root's;
/// a child module's outputs were skipped.
#[test]
fn v3_child_module_outputs_are_read() {
    let d = Dir::new();
    let pw = format!("{}!{}", random(ALNUM, 12), random(ALNUM, 6));
    let key = format!("ghp_{}", random(ALNUM, 36));
    d.write(
        "terraform.tfstate",
        json!({"version": 3, "terraform_version": "0.11.14", "serial": 4, "lineage": "x", "modules": [
            {"path": ["root"], "outputs": {}, "resources": {}, "depends_on": []},
            {"path": ["root", "db"], "outputs": {
                "master_password": {"sensitive": true, "type": "string", "value": pw},
                "endpoint": {"sensitive": false, "type": "string", "value": "db.internal:5432"}},
             "resources": {}, "depends_on": []},
            {"path": ["root", "ci", "gh"], "outputs": {"env": {"sensitive": false, "type": "map", "value": {"GH": key}}},
             "resources": {}, "depends_on": []}]})
        .to_string(),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got = columns(&findings(&r), ["address", "json_pointer"]);
    assert_eq!(
        got,
        vec![
            [
                "module.db.output.master_password",
                "/modules/1/outputs/master_password/value"
            ],
            [
                "module.ci.module.gh.output.env",
                "/modules/2/outputs/env/value/GH"
            ],
        ]
    );
    assert!(findings(&r)[0]["fix"].as_str().unwrap().contains("0.12"));
    assert_never_shown(&d.s("terraform.tfstate"), &[&pw, &key], "a value");
}

/// Review: a plan's `variables` were read only when `format_version` (or another plan member)
/// came before them, so a plan whose keys a script reordered lost every variable, sensitive ones
/// included.
#[test]
fn plan_variables_are_read_whatever_the_key_order() {
    let d = Dir::new();
    let pw = random(ALNUM, 20);
    d.write(
        "plan.json",
        format!(
            "{{\"variables\": {{\"db_password\": {{\"value\": \"{pw}\"}}}}, \"format_version\": \"1.2\", \"terraform_version\": \"1.11.4\", \"configuration\": {{\"root_module\": {{\"variables\": {{\"db_password\": {{\"sensitive\": true}}}}}}}}}}"
        ),
    );
    let r = audit(&[&d.s("plan.json"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = findings(&r);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["json_pointer"], "/variables/db_password/value");
    assert_eq!(f[0]["rule_id"], "mark.sensitive_variable");
    assert_eq!(f[0]["document"], "show_json_plan");
    assert!(!r.all().contains(&pw));
}

/// Review: a state instance's `private` is base64 of the provider's private data (JSON for both
/// SDKs), which a provider may fill with anything; it was never read. Now decoded and read as
/// JSON (key context, content rules); SDKv2's timeouts stay quiet. `scrub` does not act on it
/// (a reference in its place would make the state unreadable): audit only.
#[test]
fn provider_private_data_is_decoded_and_read() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let d = Dir::new();
    let tok = random(ALNUM, 32);
    let pem_body = random(ALNUM, 64);
    let pem =
        format!("-----BEGIN RSA PRIVATE KEY-----\nMIIE{pem_body}\n-----END RSA PRIVATE KEY-----\n");
    let sdk = json!({"e2bfb730-ecaa-11e6-8f88-34363bc7c4c0": {"create": 1_800_000_000_000u64, "delete": 600_000_000_000u64}, "schema_version": "1"});
    let fw = json!({"session": b64.encode(json!({"api_token": tok}).to_string()), "cert": b64.encode(json!({"key": pem}).to_string())});
    let mut state = state_value(json!([
        resource(
            "managed",
            "aws_instance",
            "quiet",
            json!({"id": "i-1"}),
            json!([])
        ),
        resource(
            "managed",
            "example_thing",
            "fw",
            json!({"id": "t-1"}),
            json!([])
        ),
        resource(
            "managed",
            "example_thing",
            "tok",
            json!({"id": "t-2"}),
            json!([])
        ),
    ]));
    state["resources"][0]["instances"][0]["private"] = json!(b64.encode(sdk.to_string()));
    state["resources"][1]["instances"][0]["private"] = json!(b64.encode(fw.to_string()));
    state["resources"][2]["instances"][0]["private"] =
        json!(b64.encode(json!({"api_token": tok}).to_string()));
    d.write("terraform.tfstate", state.to_string());
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got = columns(
        &findings(&r),
        ["address", "json_pointer", "inner_pointer?", "section"],
    );
    let s = |a, b, c| [a, b, c, "resources.private"];
    assert_eq!(
        got,
        vec![
            s(
                "example_thing.fw",
                "/resources/1/instances/0/private",
                "/session/api_token"
            ),
            s(
                "example_thing.fw",
                "/resources/1/instances/0/private",
                "/cert/key"
            ),
            s(
                "example_thing.tok",
                "/resources/2/instances/0/private",
                "/api_token"
            ),
        ]
    );
    assert_eq!(findings(&r)[1]["rule_id"], "private-key-pkcs1");
    assert_eq!(findings(&r)[1]["decoded"][0], "base64");
    assert_never_shown(&d.s("terraform.tfstate"), &[&tok, &pem_body], "a value");
}

/// Review: a directory walk passed over saved binary plans (`terraform plan -out tfplan`) in
/// silence and could report the tree clean, though a saved plan holds the plan's values
/// (sensitive variables, the prior state) in plaintext. Names with a `tfplan` component are
/// now read: a zip is read as a saved plan (tests/saved_plan.rs), and one that is not a
/// readable archive (as here) is an error (exit 2) naming it; another file by such a name is
/// skipped with a note.
#[test]
fn a_walk_reports_saved_binary_plans_instead_of_passing_over_them() {
    let d = Dir::new();
    d.write("env/terraform.tfstate", state_v4(json!([])));
    d.write("env/tfplan", b"PK\x03\x04\x14\x00\x08\x00rest of a zip");
    d.write(
        "env/prod.tfplan",
        b"PK\x03\x04\x14\x00\x08\x00rest of a zip",
    );
    d.write(
        "env/tfplan.txt",
        b"Terraform will perform the following actions:\n",
    );
    let r = audit(&[&d.s(""), "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let v = r.json();
    let errors = v["errors"].to_string();
    for name in ["env/tfplan", "env/prod.tfplan"] {
        assert!(
            errors.contains(&format!(
                "{name}: a zip archive (saved plan?) that cannot be read"
            )),
            "{errors}"
        );
    }
    assert!(!errors.contains("tfplan.txt"), "{errors}");
    let r = audit(&[&d.s("env/terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// Review (a real `terraform show -json` plan): `output "tok" { value = var.api_token }` copies a
/// token that the key name `token` (in `terraform_data.tok.input`) gave away; under the name
/// `tok` nothing said so, and the output was missed in the state, `planned_values`,
/// `output_changes` and `prior_state`. Outputs' and variables' values equal to a value found
/// secret elsewhere in the file are now reported (rule `same-value`).
#[test]
fn outputs_and_variables_equal_to_a_secret_elsewhere_in_the_file_are_found() {
    let d = Dir::new();
    let tok = random(ALNUM, 28);
    let pw = random(ALNUM, 22);
    let mut state = token_input_state(&tok);
    state["outputs"] = json!({"tok": {"value": tok, "type": "string"}, "region": {"value": "eu-west-1", "type": "string"}});
    d.write("terraform.tfstate", state.to_string());
    d.write(
        "plan.json",
        json!({"format_version": "1.2", "terraform_version": "1.11.4",
            "variables": {"a": {"value": pw}, "b": {"value": "eu-west-1"}},
            "output_changes": {"o": {"actions": ["update"], "before": {"x": [pw]}, "after": pw, "before_sensitive": false, "after_sensitive": false}},
            "resource_changes": [{"address": "aws_db_instance.db", "mode": "managed", "type": "aws_db_instance", "name": "db",
                "change": {"actions": ["update"], "before": {"password": pw}, "after": {"password": pw}}}]})
        .to_string(),
    );
    let r = audit(&[&d.s(""), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let same_value: Vec<Value> = findings(&r)
        .into_iter()
        .filter(|f| f["rule_id"] == "same-value")
        .collect();
    let mut got = columns(&same_value, ["address", "json_pointer"]);
    got.sort();
    assert_eq!(
        got,
        vec![
            ["output.o", "/output_changes/o/after"],
            ["output.o", "/output_changes/o/before/x/0"],
            ["output.tok", "/outputs/tok/value"],
            ["var.a", "/variables/a/value"],
        ]
    );
    let f = findings(&r);
    let var = f.iter().find(|f| f["address"] == "var.a").unwrap();
    assert_eq!(var["severity"], "high");
    assert!(var["reasons"][0]
        .as_str()
        .unwrap()
        .contains("aws_db_instance.db"));
    assert_never_shown(&d.s(""), &[&tok, &pw], "a value");
}

/// Review (a real Terraform 1.11 run): `error_message = "token ${var.api_token} too long"` in a
/// check block put the token, which is not marked sensitive, into the state's `check_results` and
/// the plan's `checks`; no content rule knows a bare token, but the key name `token` gave it away
/// elsewhere in the file. A message that holds a value found secret in the file is reported.
#[test]
fn messages_holding_a_secret_found_elsewhere_in_the_file_are_found() {
    let d = Dir::new();
    let tok = random(ALNUM, 27);
    let mut state = token_input_state(&tok);
    state["check_results"] = json!([{"object_kind": "check", "config_addr": "check.tok_len", "status": "fail",
        "objects": [{"object_addr": "check.tok_len", "status": "fail",
            "failure_messages": [format!("token {tok} too long"), "another check failed for a long while".to_string()]}]}]);
    d.write("terraform.tfstate", state.to_string());
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f: Vec<Value> = findings(&r)
        .into_iter()
        .filter(|f| f["section"] == "check_results")
        .collect();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        f[0]["json_pointer"],
        "/check_results/0/objects/0/failure_messages/0"
    );
    assert_eq!(f[0]["rule_id"], "same-value");
    assert_eq!(f[0]["address"], "check.tok_len");
    assert_eq!(f[0]["preview"], format!("…({} chars)", tok.len() + 15));
    assert!(f[0]["reasons"][0]
        .as_str()
        .unwrap()
        .contains("terraform_data.tok"));
    assert_never_shown(&d.s("terraform.tfstate"), &[&tok], "the token");
}

/// Review: in a v3 state `primary.id` repeats `primary.attributes.id`; for `random_string` that is
/// the result. The copy in `attributes` was found (same value as `result`), `primary.id` was not.
#[test]
fn v3_primary_id_repeating_a_secret_id_attribute_is_found() {
    let d = Dir::new();
    let r24 = random(ALNUM, 24);
    d.write(
        "terraform.tfstate",
        json!({"version": 3, "terraform_version": "0.11.14", "serial": 2, "lineage": "x", "modules": [
            {"path": ["root"], "outputs": {}, "depends_on": [], "resources": {
                "random_string.s": {"type": "random_string", "primary": {"id": r24,
                    "attributes": {"id": r24, "result": r24, "length": "24", "special": "false"}}},
                "aws_instance.web": {"type": "aws_instance", "primary": {"id": "i-0123456789abcdef0",
                    "attributes": {"id": "i-0123456789abcdef0", "ami": "ami-12345678"}}}}}]})
        .to_string(),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut got: Vec<String> = findings(&r)
        .iter()
        .map(|f| f["json_pointer"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            "/modules/0/resources/random_string.s/primary/attributes/id",
            "/modules/0/resources/random_string.s/primary/attributes/result",
            "/modules/0/resources/random_string.s/primary/id",
        ]
    );
    assert!(!r.all().contains(&r24));
}

/// Review: Terraform 1.15's pluggable state storage caches its configuration in
/// `.terraform/terraform.tfstate` as `state_store` (not `backend`): the store's `config` and the
/// nested provider block's `config`, credentials included. The file was taken for an empty v3
/// state and reported clean.
#[test]
fn a_state_store_backend_cache_is_read() {
    let d = Dir::new();
    let sk = random(ALNUM, 40);
    let tok = random(ALNUM, 30);
    d.write(
        "env/.terraform/terraform.tfstate",
        json!({"version": 3, "terraform_version": "1.15.0", "state_store": {
            "type": "aws_s3",
            "provider": {"version": "6.20.0", "source": "registry.terraform.io/hashicorp/aws",
                "config": {"region": "eu-west-1", "secret_key": sk}},
            "config": {"bucket": "tf", "key": "env/terraform.tfstate", "token": tok},
            "hash": 3942813381u64, "provider_supply_mode": "managed_by_terraform"}})
        .to_string(),
    );
    let r = audit(&[&d.s(""), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["files"][0]["document"], "backend_config");
    let mut got = columns(&findings(&r), ["json_pointer", "address"]);
    got.sort();
    let s = |a| [a, "state_store.aws_s3"];
    assert_eq!(
        got,
        vec![
            s("/state_store/config/token"),
            s("/state_store/provider/config/secret_key")
        ]
    );
    assert_never_shown(&d.s(""), &[&sk, &tok], "a value");
}

/// The search of messages for secrets found elsewhere has a bound (it digests every substring of
/// each secret's length): a message past it is not searched, and a note says so.
#[test]
fn a_message_too_long_to_search_is_named_in_a_note() {
    let d = Dir::new();
    let tok = random(ALNUM, 27);
    let mut state = token_input_state(&tok);
    let long = format!("{} token {tok}", "x".repeat(5000));
    state["check_results"] = json!([{"object_kind": "check", "config_addr": "check.t", "status": "fail",
        "objects": [{"object_addr": "check.t", "status": "fail", "failure_messages": [long]}]}]);
    d.write("terraform.tfstate", state.to_string());
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(findings(&r).iter().all(|f| f["section"] != "check_results"));
    let notes = r.json()["files"][0]["notes"].to_string();
    assert!(notes.contains("1 condition message(s)"), "{notes}");
    assert!(!r.all().contains(&tok));
}

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

/// Real-world fixtures (helper 71): a state or plan whose `administrator_login_password` (a table
/// row) or a marked attribute holds a word placeholder such as `password` or `changeme` was
/// reported clean, yet that word is the live password, in plaintext in the state. Only values
/// that cannot be a password (redactions, references, empty, null/true/false) stay quiet there;
/// under a key rule alone the word placeholders are still placeholders.
#[test]
fn word_placeholders_in_table_rows_and_marks_are_passwords() {
    let d = Dir::new();
    let words = [
        "password", "changeme", "Passw0rd", "secret", "test", "example", "dummy",
    ];
    let mut resources = Vec::new();
    for (i, w) in words.iter().enumerate() {
        resources.push(resource(
            "managed",
            "aws_db_instance",
            &format!("w{i}"),
            json!({"id": format!("db-{i}"), "password": w}),
            json!([]),
        ));
        resources.push(resource(
            "managed",
            "example_thing",
            &format!("m{i}"),
            json!({"id": format!("m-{i}"), "opaque": w}),
            json!([[{"type": "get_attr", "value": "opaque"}]]),
        ));
        resources.push(resource(
            "managed",
            "aws_lambda_function",
            &format!("k{i}"),
            json!({"id": format!("k-{i}"), "environment": [{"variables": {"DB_PASSWORD": w}}]}),
            json!([]),
        ));
    }
    // What a redacted or scrubbed state holds is not a password, under a row or a mark.
    for (i, w) in [
        "(sensitive value)",
        "${var.db_password}",
        "REDACTED",
        "********",
        "",
        "null",
    ]
    .iter()
    .enumerate()
    {
        resources.push(resource(
            "managed",
            "aws_db_instance",
            &format!("r{i}"),
            json!({"id": format!("db-r{i}"), "password": w}),
            json!([]),
        ));
        resources.push(resource(
            "managed",
            "example_thing",
            &format!("s{i}"),
            json!({"id": format!("s-{i}"), "opaque": w}),
            json!([[{"type": "get_attr", "value": "opaque"}]]),
        ));
    }
    let st = d.write("terraform.tfstate", state_v4(json!(resources)));
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let f = findings(&r);
    let at = |addr: &str| f.iter().any(|x| x["address"] == addr);
    for i in 0..words.len() {
        assert!(at(&format!("aws_db_instance.w{i}")), "row, word {i}: {f:?}");
        assert!(at(&format!("example_thing.m{i}")), "mark, word {i}: {f:?}");
        assert!(
            !at(&format!("aws_lambda_function.k{i}")),
            "key rule, word {i}: {f:?}"
        );
    }
    for i in 0..6 {
        assert!(
            !at(&format!("aws_db_instance.r{i}")),
            "row, redaction {i}: {f:?}"
        );
        assert!(
            !at(&format!("example_thing.s{i}")),
            "mark, redaction {i}: {f:?}"
        );
    }
    assert_eq!(f.len(), 2 * words.len(), "{f:?}");
    // The preview is the length only.
    for x in &f {
        assert!(x["preview"].as_str().unwrap().starts_with('…'), "{x:?}");
    }
    let _ = st;
}

/// Real-world fixtures (helper 71): the `key` of an S3 object (a data source or `aws_s3_object`)
/// is a path such as `builds/Team/prod/Handler.zip`; with capitals in it, its entropy passed the
/// plain-path safe-list's cap and key-generic-key reported it. A path of file-name segments that
/// ends in a file extension is a path whatever its entropy; a random value under `key` is still
/// reported.
#[test]
fn an_object_key_path_with_capitals_is_not_a_secret() {
    let d = Dir::new();
    let real = random(ALNUM, 32);
    let st = d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource(
                "data",
                "aws_s3_object",
                "artifact",
                json!({"id": "o-1", "bucket": "builds",
                "key": "lambdas/BillingTeam/staging/ProcessS3Upload.zip"}),
                json!([])
            ),
            resource(
                "managed",
                "aws_s3_object",
                "cfg",
                json!({"id": "o-2", "bucket": "builds",
                "key": "Config/Prod-EU/Settings.Override.v2.json"}),
                json!([])
            ),
            resource(
                "managed",
                "example_thing",
                "k",
                json!({"id": "k-1", "key": real}),
                json!([])
            ),
        ])),
    );
    let r = audit(&[&st.display().to_string(), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let f = findings(&r);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["address"], "example_thing.k");
    assert!(!r.all().contains(&real), "leak");
}

/// The other side of `word_placeholders_in_table_rows_and_marks_are_passwords`: a provider or
/// backend block whose credentials are the word `test` (LocalStack's and moto's convention, seen
/// in public plan fixtures) authenticates to an emulator, not to a cloud; a real key there is
/// still found.
#[test]
fn emulator_words_as_provider_and_backend_credentials_are_quiet() {
    let d = Dir::new();
    let real = random(ALNUM, 40);
    let plan = |sk: &str| {
        json!({"format_version": "1.2", "terraform_version": "1.9.5",
          "planned_values": {"root_module": {}},
          "configuration": {"provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws",
            "expressions": {"region": {"constant_value": "us-east-1"}, "access_key": {"constant_value": "test"},
              "secret_key": {"constant_value": sk}}}},
            "root_module": {}}})
        .to_string()
    };
    d.write("emu/plan.json", plan("test"));
    d.write(
        "emu/.terraform/terraform.tfstate",
        json!({"version": 3, "terraform_version": "1.9.5", "backend": {"type": "s3", "config": {"bucket": "b",
            "access_key": "test", "secret_key": "test"}, "hash": 1},
               "modules": [{"path": ["root"], "outputs": {}, "resources": {}, "depends_on": []}]})
        .to_string(),
    );
    let r = audit(&[&d.s("emu"), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["summary"]["states_scanned"], 2, "{}", r.all());
    d.write("real/plan.json", plan(&real));
    let r = audit(&[&d.s("real"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let f = findings(&r);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["rule_id"], "attr.provider.aws.secret_key");
    assert!(!r.all().contains(&real), "leak");
}

/// Real-world fixtures (helper 71): an SSM parameter of type `String` holds configuration (an
/// ARN, a name), yet its literal in a plan's `configuration` was reported (the `type=SecureString`
/// condition was checked in values only), and so was the `aws_ssm_parameter` data source's value
/// in a state (its row had no condition at all). A `SecureString` in either place is still found,
/// and so is a literal whose `type` is not a constant.
#[test]
fn a_string_ssm_parameter_is_not_a_secret_in_configuration_or_data_sources() {
    let d = Dir::new();
    let sec = random(ALNUM, 24);
    let sec2 = random(ALNUM, 24);
    let sec3 = random(ALNUM, 24);
    let conf = |name: &str, ty: Value, value: &str| {
        json!({"address": format!("aws_ssm_parameter.{name}"), "mode": "managed", "type": "aws_ssm_parameter",
               "name": name, "provider_config_key": "aws",
               "expressions": {"name": {"constant_value": format!("/app/{name}")}, "type": ty,
                               "value": {"constant_value": value}}})
    };
    let plan = json!({"format_version": "1.2", "terraform_version": "1.9.5",
    "planned_values": {"root_module": {}},
    "configuration": {"root_module": {"resources": [
        conf("plain", json!({"constant_value": "String"}), "arn:aws:firehose:eu-west-1:123456789012:deliverystream/app-logs"),
        conf("secure", json!({"constant_value": "SecureString"}), &sec),
        conf("computed", json!({"references": ["var.param_type"]}), &sec2),
    ]}}});
    d.write("p/plan.json", plan.to_string());
    let data = |name: &str, ty: &str, value: &str| {
        resource(
            "data",
            "aws_ssm_parameter",
            name,
            json!({"id": format!("/app/{name}"),
            "name": format!("/app/{name}"), "type": ty, "value": value, "with_decryption": true}),
            json!([]),
        )
    };
    d.write(
        "p/terraform.tfstate",
        state_v4(json!([
            data(
                "plain",
                "String",
                "arn:aws:firehose:eu-west-1:123456789012:deliverystream/app-logs"
            ),
            data("secure", "SecureString", &sec3),
        ])),
    );
    let r = audit(&[&d.s("p"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let f = findings(&r);
    let at = |addr: &str| f.iter().filter(|x| x["address"] == addr).count();
    assert_eq!(at("aws_ssm_parameter.secure"), 1, "{f:?}");
    assert_eq!(at("aws_ssm_parameter.computed"), 1, "{f:?}");
    assert_eq!(at("data.aws_ssm_parameter.secure"), 1, "{f:?}");
    assert_eq!(f.len(), 3, "{f:?}");
    for s in [&sec, &sec2, &sec3] {
        assert!(!r.all().contains(s.as_str()), "leak");
    }
}

/// Real-world fixtures (helper 71): hashicorp/setup-terraform's wrapper (on by default in GitHub
/// Actions) prints `[command]... show -json tfplan` before Terraform's output and `::debug::` /
/// `::set-output` workflow commands after it, so a CI job's `terraform show -json tfplan >
/// plan.json` saves a plan with those lines around it. audit called it "not a JSON object" (exit
/// 2), and a directory walk skipped it: its secrets went unreported. The wrapper's lines are
/// left out and the plan is read, at its own line.
#[test]
fn a_plan_saved_through_the_setup_terraform_wrapper_is_read() {
    let d = Dir::new();
    let p = pw();
    let plan = json!({"format_version": "1.2", "terraform_version": "1.9.5",
        "planned_values": {"root_module": {"resources": [{"address": "aws_db_instance.main", "mode": "managed",
            "type": "aws_db_instance", "name": "main", "provider_name": "registry.terraform.io/hashicorp/aws",
            "schema_version": 2, "values": {"password": p, "username": "app"}, "sensitive_values": {}}]}}})
    .to_string();
    let wrapped = format!(
        "[command]/home/runner/work/_temp/abc/terraform-bin show -json tfplan\n{plan}\n::debug::Terraform exited with code 0.\n::debug::stdout: {plan}%0A\n::debug::stderr: \n::set-output name=stdout::{plan}%0A\n::set-output name=stderr::\n::set-output name=exitcode::0\n"
    );
    d.write("ci/plan.json", &wrapped);
    for target in [d.s("ci/plan.json"), d.s("ci")] {
        let r = audit(&[&target, "--format", "json"]);
        assert_eq!(r.code, 1, "{}", r.all());
        let f = findings(&r);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0]["attribute_path"], "password");
        assert_eq!(f[0]["line"], 2, "{f:?}");
        assert_eq!(f[0]["document"], "show_json_plan");
        let notes = r.json()["files"][0]["notes"].to_string();
        assert!(notes.contains("setup-terraform"), "{notes}");
        for v in variants(&p) {
            assert!(!r.all().contains(&v), "leak");
        }
    }
    // Anything else before the object is still no Terraform JSON.
    d.write("x/plan.json", format!("[info] {plan}\n"));
    let r = audit(&[&d.s("x/plan.json")]);
    assert_eq!(r.code, 2, "{}", r.all());
}

/// A Terraform JSON document read from `tests/data/terraform-json/` (written by Terraform
/// 1.11.4, see the README there).
fn terraform_json(name: &str) -> Value {
    let path = format!(
        "{}/tests/data/terraform-json/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Review (gitleaks sets the bar): `terraform providers schema -json` output (`format_version`
/// and `provider_schemas`) was read as a `show -json` state with nothing in it, "0 findings in 1
/// file scanned", exit 0, even with a password at its top level. Terraform's JSON outputs that
/// hold no state or plan (providers schema, `metadata functions`, `validate`, `version`, any
/// other `format_version` document with members but no state's or plan's) are named for what
/// they are: named on the command line, an error (exit 2) saying what to audit instead; met in
/// a walk, skipped with a note, like other JSON that is not a state or plan. `{"format_version":
/// "1.0"}` alone is what `terraform show -json` prints for an empty state: clean, as before.
#[test]
fn terraform_json_outputs_that_hold_no_state_or_plan_are_not_passed_as_clean() {
    let d = Dir::new();
    let p = pw();
    let mut schema = terraform_json("providers-schema.json");
    schema["password"] = json!(p);
    let mut bare = json!({"format_version": "1.0", "terraform_version": "1.11.4"});
    bare["password"] = json!(p);
    let docs = [
        (
            "providers-schema.json",
            terraform_json("providers-schema.json"),
            "`terraform providers schema -json`",
        ),
        (
            "schema-with-a-password.json",
            schema,
            "`terraform providers schema -json`",
        ),
        (
            "metadata-functions.json",
            terraform_json("metadata-functions.json"),
            "`terraform metadata functions -json`",
        ),
        (
            "validate.json",
            terraform_json("validate.json"),
            "`terraform validate -json`",
        ),
        (
            "version.json",
            terraform_json("version.json"),
            "`terraform version -json`",
        ),
        (
            "format-version-only-members.json",
            bare,
            "none of a state's or plan's members",
        ),
    ];
    for (name, doc, what) in &docs {
        d.write(&format!("ci/{name}"), doc.to_string());
        let r = audit(&[&d.s(&format!("ci/{name}"))]);
        assert_eq!(r.code, 2, "{name}: {}", r.all());
        assert!(r.stderr.contains(name), "{name}: {}", r.stderr);
        assert!(r.stderr.contains(what), "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains("not a state or plan"),
            "{name}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("audit the state"), "{name}: {}", r.stderr);
        assert!(!r.all().contains("scanned, 0 error"), "{name}");
        for v in variants(&p) {
            assert!(!r.all().contains(&v), "{name}: leak");
        }
    }
    // In a walk (names it reads: `*plan*.json`, `*state*.json`): skipped with a note naming it.
    d.write("walk/terraform.tfstate", state_v4(json!([])));
    d.write("walk/schema-state.json", docs[1].1.to_string());
    d.write("walk/validate-plan.json", docs[3].1.to_string());
    let r = audit(&[&d.s("walk"), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let files = r.json()["files"].as_array().unwrap().clone();
    let skipped: Vec<String> = files
        .iter()
        .filter(|f| f["status"] == "skipped")
        .map(|f| f["notes"].to_string())
        .collect();
    assert_eq!(skipped.len(), 2, "{files:?}");
    assert!(
        skipped.iter().any(|n| n.contains("providers schema")),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|n| n.contains("validate -json")),
        "{skipped:?}"
    );
    // `terraform show -json` of an empty state (or of none) holds nothing: still clean.
    let r = audit(&[&format!(
        "{}/tests/data/terraform-json/show-empty-state.json",
        env!("CARGO_MANIFEST_DIR")
    )]);
    assert_eq!(r.code, 0, "{}", r.all());
    // Real states and plans with unknown top-level members still are states and plans.
    d.write(
        "ok/show.json",
        json!({"format_version": "1.0", "terraform_version": "1.11.4", "values": {"root_module": {}}, "extra": 1}).to_string(),
    );
    let r = audit(&[&d.s("ok/show.json")]);
    assert_eq!(r.code, 0, "{}", r.all());
}

/// Review (gitleaks sets the bar): the setup-terraform wrapper's `[command]` echo was left out
/// of a saved plan, so a secret passed on the command line (`-var db_password=...`,
/// `-backend-config=access_key=...`) was never reported. Each `-var` / `-backend-config`
/// NAME=VALUE is read, in every quoting form the echo can hold, through the same rules as a
/// state's values: reported at its line and column, named by the argument (never the value),
/// with a stable fingerprint; placeholders (`-var region=us-east-1`) stay quiet.
#[test]
fn secrets_on_the_setup_terraform_wrapper_command_line_are_reported() {
    let d = Dir::new();
    let (db, api, key_id, sk) = (
        pw(),
        random(ALNUM, 32),
        format!("AKIA{}", random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
        random(ALNUM, 40),
    );
    let plan = json!({"format_version": "1.2", "terraform_version": "1.9.5",
        "planned_values": {"root_module": {"resources": []}}})
    .to_string();
    let command = format!(
        "[command]/home/runner/work/_temp/abc/terraform-bin show -json -var region=us-east-1 -var db_password={db} -var='api_key={api}' --var \"instance_count=3\" -backend-config=access_key={key_id} -backend-config secret_key={sk} -backend-config=backend.hcl tfplan"
    );
    let wrapped = format!("{command}\n{plan}\n::debug::Terraform exited with code 0.\n");
    d.write("ci/plan.json", &wrapped);
    let mut fingerprints = None;
    for target in [d.s("ci/plan.json"), d.s("ci")] {
        let r = audit(&[&target, "--format", "json"]);
        assert_eq!(r.code, 1, "{}", r.all());
        let f = findings(&r);
        let got = columns(&f, ["section", "address", "attribute_path", "json_pointer"]);
        assert_eq!(
            got,
            [
                [
                    "command_line",
                    "var.db_password",
                    "",
                    "[command] -var db_password"
                ],
                ["command_line", "var.api_key", "", "[command] -var api_key"],
                [
                    "command_line",
                    "backend",
                    "access_key",
                    "[command] -backend-config access_key"
                ],
                [
                    "command_line",
                    "backend",
                    "secret_key",
                    "[command] -backend-config secret_key"
                ],
            ]
            .map(|r| r.map(String::from)),
            "{f:?}"
        );
        for x in &f {
            assert_eq!(x["line"], 1);
            assert_eq!(x["document"], "show_json_plan");
        }
        // The column is where the argument's name starts.
        let col = |name: &str| command.find(name).unwrap() as u64 + 1;
        assert_eq!(f[0]["column"], col("db_password="));
        assert_eq!(f[2]["column"], col("access_key="));
        assert_eq!(f[2]["rule_id"], "aws-access-key-id");
        let fp: Vec<Value> = f.iter().map(|x| x["fingerprint"].clone()).collect();
        assert_eq!(fingerprints.get_or_insert(fp.clone()), &fp);
        for s in [&db, &api, &key_id, &sk] {
            for v in variants(s) {
                assert!(!r.all().contains(&v), "leak");
            }
        }
    }
    // Stable: the same arguments in another order, another command and a baseline written
    // before still match.
    let bl = d.s("bl.json");
    let r = audit(&[&d.s("ci/plan.json"), "--write-baseline", &bl]);
    assert_eq!(r.code, 0, "{}", r.all());
    let moved = format!(
        "[command]/opt/terraform plan -no-color -backend-config secret_key={sk} -var \"api_key={api}\" -backend-config=\"access_key={key_id}\" -var=db_password={db}\n{plan}\n"
    );
    d.write("ci/plan.json", &moved);
    let r = audit(&[&d.s("ci/plan.json"), "--baseline", &bl]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_never_shown(
        &d.s("ci/plan.json"),
        &[&db, &api, &key_id, &sk],
        "a command-line value",
    );
    // Placeholders and variables only: clean.
    d.write(
        "ok/plan.json",
        format!("[command]/t/terraform show -json -var region=us-east-1 -var env=prod -var 'name=${{var.x}}' tfplan\n{plan}\n"),
    );
    let r = audit(&[&d.s("ok/plan.json")]);
    assert_eq!(r.code, 0, "{}", r.all());
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

// ---- `terraform output -json` -----------------------------------------------------------------

/// `tests/data/terraform-json/output.json` (Terraform 1.11.4's `terraform output -json` of
/// `output.tf`) and `output-state.tfstate` (the state of the same apply), their secrets filled in
/// at random: (document, state, [db password, admin password, pin]).
fn output_json_and_state() -> (String, String, [String; 3]) {
    let db = format!("{}-{}", random(ALNUM, 8), random(ALNUM, 8));
    let admin = format!("{}-{}", random(ALNUM, 8), random(ALNUM, 8));
    let pin = format!(
        "{}{}",
        1 + random("123456789", 1).parse::<u8>().unwrap() % 9,
        random("0123456789", 11)
    );
    let fill = |s: &str| {
        s.replace("@DB_PASSWORD@", &db)
            .replace("@ADMIN_PASSWORD@", &admin)
            .replace("\"@PIN@\"", &pin)
    };
    (
        fill(include_str!("data/terraform-json/output.json")),
        fill(include_str!("data/terraform-json/output-state.tfstate")),
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
    // What is in it: the sensitive string, object (its members) and number, and the
    // non-sensitive output whose name says password; not the plain endpoint or settings.
    let pointers: Vec<&str> = got
        .iter()
        .map(|f| f["json_pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/admin_password/value",
            "/db/value/host",
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
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 5);
    assert_eq!(sarif_errors(&sarif), Vec::<String>::new());
    // `{}`: no outputs, clean.
    let e = d.write(
        "empty/outputs.json",
        include_str!("data/terraform-json/output-empty.json"),
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
    assert_eq!(findings(&r).len(), 20);
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
        20,
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

// ---- I/O errors in the OS's words ------------------------------------------------------------

/// A path that cannot be read is named with the OS's message, as ripgrep and gitleaks print
/// it (`No such file or directory (os error 2)`), not Rust's `ErrorKind` text (`entity not
/// found`).
#[test]
fn io_errors_say_what_the_os_said() {
    let d = Dir::new();
    let missing = d.s("nothere.tfstate");
    let r = audit(&[&missing]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains(&format!(
            "{missing}: No such file or directory (os error 2)"
        )),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("entity not found"), "{}", r.stderr);
    // A missing baseline too.
    let st = d.write("terraform.tfstate", db_state(&pw()));
    let r = audit(&[&st.display().to_string(), "--baseline", &d.s("nobl.json")]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("No such file or directory (os error 2)"),
        "{}",
        r.stderr
    );
    // Permission denied: a file and a directory mode 000. Root reads anything, so as root
    // (the check: the file is readable anyway) this part is skipped.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let locked = d.write("locked.tfstate", db_state(&pw()));
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let dir = d.path().join("lockeddir");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&locked).is_ok() {
            eprintln!(
                "running as root: the permission-denied case is skipped (root reads anything)"
            );
        } else {
            let r = audit(&[&locked.display().to_string(), &dir.display().to_string()]);
            assert_eq!(r.code, 2, "{}", r.all());
            for p in [&locked, &dir] {
                assert!(
                    r.stderr
                        .contains(&format!("{}: Permission denied (os error 13)", p.display())),
                    "{}",
                    r.stderr
                );
            }
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}

// ---- --config / .state-scrubber.toml: an organisation's rules and allow entries ----------------

const ACME_RULE: &str = r#"
[[rule]]
id = "acme-deploy-token"
name = "ACME deploy token"
kind = "token"
severity = "high"
keywords = ["acmedt_"]
regex = '\b(acmedt_[0-9a-f]{32})\b'
"#;

fn acme_state(token: &str, password: &str) -> String {
    state_v4(json!([
        resource(
            "managed",
            "null_resource",
            "deploy",
            json!({"id": "1", "triggers": {"note": format!("deploy with {token}")}}),
            json!([])
        ),
        resource(
            "managed",
            "random_password",
            "seed",
            json!({"id": "none", "result": password, "length": 17}),
            json!([[{"type": "get_attr", "value": "result"}]])
        )
    ]))
}

/// A configured content rule finds what the built-in ones do not; an `[[allow]]` entry drops a
/// finding (not reported, not counted, said in the summary); `.state-scrubber.toml` in the
/// current directory is read without `--config`.
#[test]
fn a_config_adds_rules_and_allows_findings() {
    let d = Dir::new();
    let token = format!("acmedt_{}", random("0123456789abcdef", 32));
    let p = pw();
    d.write("s/terraform.tfstate", acme_state(&token, &p));
    let rules_of = |r: &Run| -> Vec<String> {
        findings(r)
            .iter()
            .map(|f| f["rule_id"].as_str().unwrap().to_string())
            .collect()
    };

    let plain = audit_in(d.path(), &["s", "--format", "json"]);
    assert_eq!(plain.code, 1, "{}", plain.stderr);
    assert!(!rules_of(&plain).contains(&"acme-deploy-token".to_string()));
    let random_password = rules_of(&plain).len();
    assert!(random_password >= 1, "{}", plain.stdout);

    d.write(
        "cfg/acme.toml",
        format!(
            "{ACME_RULE}\n[[allow]]\nreason = \"a seed, not a credential\"\nresources = [\"random_password.seed\"]\n"
        ),
    );
    let r = audit_in(
        d.path(),
        &["s", "--format", "json", "--config", "cfg/acme.toml"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(rules_of(&r), ["acme-deploy-token"], "{}", r.stdout);
    let f = &findings(&r)[0];
    assert_eq!(f["address"], "null_resource.deploy");
    assert_eq!(f["attribute_path"], "triggers.note");
    assert_eq!(r.json()["summary"]["allowed_by_config"], random_password);
    assert_eq!(r.json()["summary"]["config"], "cfg/acme.toml");

    // Text: the summary says what the file allowed; no value anywhere.
    let t = audit_in(d.path(), &["s", "--config", "cfg/acme.toml"]);
    assert!(
        t.stdout
            .contains(&format!("{random_password} allowed by cfg/acme.toml")),
        "{}",
        t.stdout
    );
    for out in [&r.stdout, &r.stderr, &t.stdout, &t.stderr] {
        // The message does not print `out`: it would show the value it found.
        assert!(
            !out.contains(&token[7..]) && !out.contains(&p),
            "a value reached the output"
        );
    }

    // Discovered in the current directory; allowing the token's rule too leaves nothing.
    d.write(
        ".state-scrubber.toml",
        format!(
            "{ACME_RULE}\n[[allow]]\nreason = \"everything here is a fixture\"\nfiles = [\"s/*\"]\n"
        ),
    );
    let r = audit_in(d.path(), &["s", "--format", "json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        r.json()["summary"]["allowed_by_config"],
        random_password + 1
    );
    assert_eq!(r.json()["summary"]["config"], ".state-scrubber.toml");
}

/// An allow entry's `files` globs match the file however the path was given (`s/x`, `./s/x`, the
/// absolute path), as a baseline entry's file does: an entry written for `s/*` allowed nothing
/// when CI ran `audit ./s`.
#[test]
fn allowed_files_match_the_path_however_it_is_given() {
    let d = Dir::new();
    d.write(
        "s/terraform.tfstate",
        acme_state(&format!("acmedt_{}", random("0123456789abcdef", 32)), &pw()),
    );
    d.write(
        "allow.toml",
        "[[allow]]\nreason = \"fixtures\"\nfiles = [\"s/*\"]\n",
    );
    let absolute = d.path().join("s");
    for path in ["s", "./s", absolute.to_str().unwrap()] {
        let r = audit_in(
            d.path(),
            &[path, "--format", "json", "--config", "allow.toml"],
        );
        assert_eq!(r.code, 0, "{path}: {}\n{}", r.stdout, r.stderr);
        assert!(findings(&r).is_empty(), "{path}: {}", r.stdout);
    }
}

/// `.state-scrubber.toml` that is there but not a regular file (a dangling symlink, a
/// directory) is an error, not a run without it: its rules silently not applied passed a CI job.
#[cfg(unix)]
#[test]
fn a_default_config_that_cannot_be_read_is_exit_2() {
    let d = Dir::new();
    d.write("s/terraform.tfstate", acme_state("none", &pw()));
    std::os::unix::fs::symlink("shared/missing.toml", d.path().join(".state-scrubber.toml"))
        .unwrap();
    let r = audit_in(d.path(), &["s"]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("config .state-scrubber.toml"),
        "{}",
        r.stderr
    );
}

/// A bad configuration stops the run before anything is read: exit 2, the file and the entry
/// named, no example or value quoted, the inputs untouched.
#[test]
fn a_bad_config_is_exit_2_naming_the_entry() {
    let d = Dir::new();
    let state = acme_state(&format!("acmedt_{}", random("0123456789abcdef", 32)), &pw());
    d.write("s/terraform.tfstate", &state);
    let secretish = format!("acmedt_{}", random("0123456789abcdef", 31));
    for (text, want) in [
        (
            format!("{ACME_RULE}examples = [\"{secretish}\"]\n"),
            "config bad.toml: rule acme-deploy-token: example 1 is not found",
        ),
        (
            format!("{ACME_RULE}regexp = \"{secretish}\"\n"),
            "config bad.toml: TOML parse error at line",
        ),
        (
            "[[allow]]\nreason = \"why\"\n".to_string(),
            "config bad.toml: allow entry 1: gives none of",
        ),
    ] {
        d.write("bad.toml", &text);
        let r = audit_in(d.path(), &["s", "--config", "bad.toml"]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains(want), "{}\n-- wanted: {want}", r.stderr);
        assert!(!r.stderr.contains(&secretish) && !r.stdout.contains(&secretish));
        assert_eq!(
            std::fs::read_to_string(d.path().join("s/terraform.tfstate")).unwrap(),
            state
        );
    }
    let r = audit_in(d.path(), &["s", "--config", "missing.toml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("config missing.toml: No such file or directory (os error 2)"),
        "{}",
        r.stderr
    );
}
