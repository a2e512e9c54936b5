//! Rules are data: their examples, the attribute table's rows, look-alikes and placeholders.

use super::*;

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
        let secret = plant(&format!("q{}", random(ALNUM, 23)));
        let value = match row.treat {
            Treat::Secret => json!(secret),
            Treat::Scan | Treat::Public => json!(format!("DB_PASSWORD={secret}")),
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
            v[&from[0]] = json!(plant(&format!("q{}", random(ALNUM, 23))));
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

/// Measured on public states and plans (checkov, infracost, GKE and EKS fixtures): a taint's or
/// a tag's `key` that is a qualified name (`cloud.google.com/gke-preemptible`) was a LOW
/// key-generic-key finding; the documented AWS example key pair and LocalStack-style
/// `mock_access_key` / `mock_secret_key` provider credentials were HIGH findings. Quiet now;
/// a random key under `key`, a real-looking access key ID and a provider's real secret key are
/// still found.
#[test]
fn look_alikes_seen_in_public_fixtures_are_quiet() {
    let d = Dir::new();
    let hmac = plant(&random(ALNUM, 44));
    let key_id = plant(&format!(
        "AKIA{}",
        random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    ));
    let real_secret = plant(&random(ALNUM, 40));
    let st = d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource("managed", "google_container_cluster", "c", json!({"id": "c",
                "node_config": [{"effective_taints": [{"key": "cloud.google.com/gke-preemptible", "value": "true", "effect": "NO_SCHEDULE"}]}]}), json!([])),
            resource("managed", "aws_autoscaling_group", "g", json!({"id": "g",
                "tag": [{"key": "kubernetes.io/cluster/eks-prod", "value": "owned", "propagate_at_launch": true}]}), json!([])),
            resource("managed", "aws_lambda_function", "f", json!({"id": "f", "environment": [{"variables": {
                "access_key": "AKIAIOSFODNN7EXAMPLE", "secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "api_token": "mock_access_key", "REAL_ACCESS_KEY_ID": key_id}}]}), json!([])),
            resource("managed", "example_thing", "h", json!({"id": "h", "key": hmac}), json!([])),
        ])),
    );
    let plan = d.write(
        "plan.json",
        json!({"format_version": "1.2", "terraform_version": "1.9.5", "configuration": {"provider_config": {
            "aws": {"name": "aws", "expressions": {
                "access_key": {"constant_value": "mock_access_key"},
                "secret_key": {"constant_value": "mock_secret_key"}}},
            "aws.real": {"name": "aws", "alias": "real", "expressions": {
                "secret_key": {"constant_value": real_secret}}}}}})
        .to_string(),
    );
    let r = audit(&[
        &st.display().to_string(),
        &plan.display().to_string(),
        "--format",
        "json",
    ]);
    let got = columns(&findings(&r), ["address", "attribute_path", "rule_id"]);
    let want: Vec<[String; 3]> = [
        [
            "aws_lambda_function.f",
            "environment[0].variables.REAL_ACCESS_KEY_ID",
            "aws-access-key-id",
        ],
        ["example_thing.h", "key", "key-generic-key"],
        [
            "provider.aws.real",
            "secret_key",
            "attr.provider.aws.secret_key",
        ],
    ]
    .iter()
    .map(|r| r.map(str::to_string))
    .collect();
    assert_eq!(got, want);
}

/// Review finding: `*_pass` keys (db_pass, DB_PASS, admin_pass) were never matched, and the
/// prefix placeholders (`your-...`, `enter-...`) were applied to table rows and sensitive marks,
/// where they dropped real values (`aws_db_instance.password = "Your-Company-2024!"`).
#[test]
fn pass_keys_and_placeholder_looking_passwords_in_rows_and_marks_are_found() {
    let d = Dir::new();
    let real = plant(&format!("Your-{}-2024!", random(ALNUM, 8)));
    let marked = plant(&format!("enter-{}", random(ALNUM, 10)));
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

/// Review: the `$VAR` placeholder was case-insensitive and applied to table rows and marks, so a
/// password that starts with `$` was no finding at all. Only an upper-case variable name is a
/// placeholder now; the same value as a row, a marked attribute, a key-rule value and a URL
/// password is found.
#[test]
fn a_password_that_starts_with_a_dollar_is_still_a_password() {
    let d = Dir::new();
    let pw = plant(&format!("${}", random(ALNUM, 16)));
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

/// A presigned S3 URL is a bearer credential: it has its own rule (not "AWS access key ID",
/// whose name and fix spoke of the key it holds), whose fix says what a presigned URL needs
/// (make it where it is used, revoke by the signing key) instead of keeping it in Secrets
/// Manager; a table row's write-only twin stays the fix where one applies. A plain access key ID
/// is still `aws-access-key-id`, and SARIF's descriptor of the new rule carries its fix as help.
#[test]
fn a_presigned_url_has_its_own_rule_and_a_plain_access_key_keeps_its_own() {
    const B32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let key = plant(&format!("AK{}IA{}", "", random(B32, 16)));
    let sig = random("0123456789abcdef", 64);
    let url = plant(&format!(
        "https://reports.s3.eu-west-1.amazonaws.com/q3.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential={key}%2F20261127%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20261127T120000Z\
         &X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature={sig}"
    ));
    let d = Dir::new();
    let mut st = state_value(json!([
        resource(
            "managed",
            "terraform_data",
            "links",
            json!({"id": "x", "input": {"value": {"report": url, "key": key}, "type": ["object", {"report": "string", "key": "string"}]}, "output": null, "triggers_replace": null}),
            json!([])
        ),
        resource(
            "managed",
            "aws_secretsmanager_secret_version",
            "v",
            json!({"id": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s|v1", "secret_string": url}),
            json!([])
        ),
    ]));
    st["outputs"] = json!({"report_url": {"value": url, "type": "string"}});
    d.write("terraform.tfstate", st.to_string());
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = findings(&r);
    let mut got = columns(&f, ["address", "attribute_path", "rule_id", "severity"]);
    got.sort();
    assert_eq!(
        got,
        vec![
            [
                "aws_secretsmanager_secret_version.v",
                "secret_string",
                "aws-presigned-url",
                "high"
            ],
            ["output.report_url", "", "aws-presigned-url", "high"],
            [
                "terraform_data.links",
                "input.value.key",
                "aws-access-key-id",
                "high"
            ],
            [
                "terraform_data.links",
                "input.value.report",
                "aws-presigned-url",
                "high"
            ],
        ]
    );
    let at = |addr: &str, path: &str| {
        f.iter()
            .find(|x| x["address"] == addr && x["attribute_path"] == path)
            .unwrap()
            .clone()
    };
    for (addr, path) in [
        ("terraform_data.links", "input.value.report"),
        ("output.report_url", ""),
    ] {
        let x = at(addr, path);
        assert_eq!(x["kind"], "token", "{addr}");
        assert!(
            x["rule_name"].as_str().unwrap().contains("presigned URL"),
            "{addr}: {}",
            x["rule_name"]
        );
        let fix = x["fix"].as_str().unwrap();
        assert!(fix.contains("bearer credential"), "{addr}: {fix}");
        assert!(!fix.contains("offstate_secret"), "{addr}: {fix}");
    }
    // The table row's twin is still what to set on a secret version.
    let sv = at("aws_secretsmanager_secret_version.v", "secret_string");
    assert!(
        sv["fix"].as_str().unwrap().contains("secret_string_wo"),
        "{sv}"
    );
    let k = at("terraform_data.links", "input.value.key");
    assert_eq!(k["rule_name"], "AWS access key ID");
    assert!(
        k["fix"].as_str().unwrap().contains("offstate_secret"),
        "{k}"
    );
    // SARIF: one descriptor per rule id and severity, the presigned one with its fix as help.
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "sarif"]);
    let sarif = r.json();
    assert!(sarif_errors(&sarif).is_empty());
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let presigned = rules
        .iter()
        .find(|x| x["id"] == "aws-presigned-url/high")
        .unwrap();
    let help = presigned["help"]["text"].as_str().unwrap();
    assert!(help.contains("bearer credential"), "{help}");
    assert!(rules.iter().any(|x| x["id"] == "aws-access-key-id/high"));
    // (The URL's fixed parts, `X-Amz-Credential`, are in the fix text: its random ones.)
    assert_never_shown(
        &d.s("terraform.tfstate"),
        &[&key, &sig],
        "the key or signature",
    );
}

/// Values the configuration itself declares secret, with no mark in the state (Terraform before
/// 1.8 records only the marks of sensitive variables, not the provider schema's): a
/// `tfe_variable` with `sensitive = true`, a Datadog global variable with `secure = true`, a
/// webhook custom variable with `is_secret = true` (booleans in the state, compared as `true`),
/// and a `helm_release`'s `set_sensitive` value whatever its name. Each was reported clean when
/// the value was nondescript and no name said it was a secret (`LICENSE`, `license`); the same
/// resources with the flag off stay quiet, as before.
#[test]
fn values_their_configuration_declares_secret_are_found_unmarked() {
    let cases = [
        (
            "tfe_variable",
            "sensitive",
            json!({"id": "var-1", "key": "LICENSE", "category": "env", "value": "VALUE"}),
            "value",
        ),
        (
            "datadog_synthetics_global_variable",
            "secure",
            json!({"id": "gv-1", "name": "LOGIN_STEP_INPUT", "value": "VALUE"}),
            "value",
        ),
        (
            "datadog_webhook_custom_variable",
            "is_secret",
            json!({"id": "wh-1", "name": "VENDOR_HEADER", "value": "VALUE"}),
            "value",
        ),
    ];
    for (rtype, flag, attrs, at) in cases {
        for on in [true, false] {
            let secret = plant(&format!("q{}", random(ALNUM, 23)));
            let mut v = attrs.clone();
            v[at] = json!(secret);
            v[flag] = json!(on);
            let d = Dir::new();
            d.write(
                "terraform.tfstate",
                state_v4(json!([resource("managed", rtype, "x", v, json!([]))])),
            );
            let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
            assert!(!r.all().contains(&secret), "{rtype}: the value is shown");
            let f = findings(&r);
            let hit = f
                .iter()
                .any(|f| f["attribute_path"] == at && f["rule_id"] == format!("attr.{rtype}.{at}"));
            assert_eq!(hit, on, "{rtype} with {flag} = {on}: {} findings", f.len());
        }
    }
    // Helm: set_sensitive exists to carry secrets; its name says nothing (`license`).
    let secret = plant(&format!("q{}", random(ALNUM, 23)));
    let d = Dir::new();
    d.write(
        "terraform.tfstate",
        state_v4(json!([resource(
            "managed",
            "helm_release",
            "app",
            json!({"id": "app", "name": "app", "chart": "vendor/app",
                   "set": [{"name": "replicaCount", "value": "3", "type": ""}],
                   "set_sensitive": [{"name": "license", "value": secret, "type": ""}]}),
            json!([])
        )])),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert!(!r.all().contains(&secret), "helm: the value is shown");
    let got = columns(&findings(&r), ["attribute_path", "rule_id"]);
    assert_eq!(
        got,
        [[
            "set_sensitive[0].value".to_string(),
            "attr.helm_release.set_sensitive.value".to_string()
        ]]
    );
}

/// In a plan's configuration an argument left out takes the provider's default: a
/// `tfe_variable` without `sensitive` (or a Datadog variable without `secure`) is not secret,
/// and its literal value was reported there (the condition counted a missing argument as met).
/// A literal `true`, or an argument computed from a reference, still brings the row.
#[test]
fn a_condition_argument_left_out_of_the_configuration_is_not_met() {
    let cases = [
        ("tfe_variable", "sensitive", "key"),
        ("datadog_synthetics_global_variable", "secure", "name"),
    ];
    for (rtype, flag, name) in cases {
        for (cond, want) in [
            (None, false),
            (Some(json!({"constant_value": false})), false),
            (Some(json!({"constant_value": true})), true),
            (Some(json!({"references": ["var.secret"]})), true),
        ] {
            let value = plant(&format!("q{}", random(ALNUM, 23)));
            let attrs =
                json!({"id": "v-1", name: "REGION_NAME", "value": value, flag: cond.is_some()});
            let mut exprs = json!({name: {"constant_value": "REGION_NAME"},
                                   "value": {"constant_value": value}});
            if let Some(c) = &cond {
                exprs[flag] = c.clone();
            }
            let plan = json!({
                "format_version": "1.2", "terraform_version": "1.7.0",
                "planned_values": {"root_module": {"resources": [{
                    "address": format!("{rtype}.v"), "mode": "managed", "type": rtype, "name": "v",
                    "schema_version": 0, "values": attrs, "sensitive_values": {}}]}},
                "configuration": {"root_module": {"resources": [{
                    "address": format!("{rtype}.v"), "mode": "managed", "type": rtype, "name": "v",
                    "provider_config_key": "p", "expressions": exprs, "schema_version": 0}]}}
            });
            let d = Dir::new();
            d.write("plan.json", serde_json::to_string(&plan).unwrap());
            let r = audit(&[&d.s("plan.json"), "--format", "json"]);
            assert!(!r.all().contains(&value), "{rtype}: the value is shown");
            let f = findings(&r);
            let hit = f.iter().any(|f| {
                f["section"] == "configuration" && f["rule_id"] == format!("attr.{rtype}.value")
            });
            assert_eq!(
                hit,
                want,
                "{rtype} with {flag} {cond:?}: {} findings",
                f.len()
            );
        }
    }
}

/// A random version-4 UUID, planted (the run's output is searched for it).
fn planted_uuid() -> String {
    let h = random("0123456789abcdef", 32);
    plant(&format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    ))
}

/// A UUID under a password or secret name is reported: `uuid()` makes passwords, and Consul ACL
/// tokens, Vault AppRole secret IDs and many webhook secrets are UUIDs. It was safe-listed as an
/// identifier under every key name, so `DB_PASSWORD = uuid()` was reported clean. Under a token
/// or key name (an idempotency `client_token`, `API_KEY` holding a key's id) and under names of
/// identifiers (`secret_id`, `SECRET_VERSION_ID`) it stays an identifier.
#[test]
fn a_uuid_under_a_password_or_secret_name_is_reported() {
    let keys = [
        ("DB_PASSWORD", true),
        ("WEBHOOK_SECRET", true),
        ("CLIENT_SECRET", true),
        ("client_token", false),
        ("API_KEY", false),
        ("secret_id", false),
        ("SECRET_VERSION_ID", false),
    ];
    let mut vars = serde_json::Map::new();
    let mut values = Vec::new();
    for (k, _) in keys {
        let v = planted_uuid();
        vars.insert(k.to_string(), json!(v));
        values.push(v);
    }
    let d = Dir::new();
    d.write(
        "terraform.tfstate",
        state_v4(json!([resource(
            "managed",
            "aws_lambda_function",
            "f",
            json!({"id": "f", "environment": [{"variables": vars}]}),
            json!([])
        )])),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert!(
        values.iter().all(|v| !r.all().contains(v.as_str())),
        "a value is shown"
    );
    let f = findings(&r);
    for (k, want) in keys {
        let path = format!("environment[0].variables.{k}");
        let got = f.iter().any(|f| f["attribute_path"] == path.as_str());
        assert_eq!(got, want, "{k}");
    }
}

/// A UUID under a secret or password name that names an identifier in camelCase or kebab case
/// (JSON and YAML spell them so: a Lambda's result, a config map), or names a UUID or an
/// accessor, is an identifier as under `secret_version_id`: after 589a66a these were reported.
/// Other values under such keys, and UUIDs under plain secret names, are still reported.
#[test]
fn a_uuid_under_a_secret_name_that_names_an_identifier_is_not_reported() {
    let keys = [
        ("SecretVersionId", false),
        ("secretId", false),
        ("passwordPolicyId", false),
        ("clientSecretID", false),
        ("secret-id", false),
        ("secret-version-ids", false),
        ("secret_id_accessor", false),
        ("secretIdAccessor", false),
        ("SECRET_STORE_UUID", false),
        ("secret_guid", false),
        ("secret_uid", false),
        ("WEBHOOK_SECRET", true),
        ("DB_PASSWORD", true),
        ("secretIdentity", true),
        ("passwordFluid", true),
    ];
    let mut vars = serde_json::Map::new();
    let mut values = Vec::new();
    for (k, _) in keys {
        let v = planted_uuid();
        vars.insert(k.to_string(), json!(v));
        values.push(v);
    }
    // A random value under an identifier-naming key stays reported: the entry is for UUIDs.
    let random_value = plant(&random(
        "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
        28,
    ));
    vars.insert("secretIdAccessor2".into(), json!(random_value));
    let d = Dir::new();
    d.write(
        "terraform.tfstate",
        state_v4(json!([resource(
            "managed",
            "aws_lambda_function",
            "f",
            json!({"id": "f", "environment": [{"variables": vars}]}),
            json!([])
        )])),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert!(
        values.iter().all(|v| !r.all().contains(v.as_str()))
            && !r.all().contains(random_value.as_str()),
        "a value is shown"
    );
    let f = findings(&r);
    for (k, want) in keys.into_iter().chain([("secretIdAccessor2", true)]) {
        let path = format!("environment[0].variables.{k}");
        let got = f.iter().any(|f| f["attribute_path"] == path.as_str());
        assert_eq!(got, want, "{k}");
    }
}
