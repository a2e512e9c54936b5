//! Masked address keys (index, deposed and module instance keys equal to a secret) tell
//! instances apart: by their position among the masked keys of the same resource (or module
//! call) in file order, never by anything derived from the key.
//!
//! Review finding (2366a15, ba40b2c): two `aws_ssm_parameter.p` instances keyed by two
//! `random_password` results of the same length both printed as `p["…(16 chars)"]`, with one
//! fingerprint: a baseline kept one entry for both, SARIF merged them, and `scrub` stopped with
//! "secret name ... is also made for ...; change --name-template".

use std::collections::BTreeSet;

use crate::util::*;
use serde_json::{json, Value};

/// Every form of a canary that would count as a leak: itself, JSON-escaped, base64, and any
/// 8-character window of it.
fn forms(canary: &str) -> Vec<String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut v = vec![
        canary.to_string(),
        b64.encode(canary),
        b64.encode(canary).trim_end_matches('=').to_string(),
    ];
    let chars: Vec<char> = canary.chars().collect();
    for w in chars.windows(8) {
        v.push(w.iter().collect());
    }
    v
}

/// Fails naming `what` only: the text may hold a canary, so it is never printed.
fn assert_clean(canaries: &[String], what: &str, text: &str) {
    for c in canaries {
        for f in forms(c) {
            assert!(!text.contains(&f), "{what} holds a form of a canary");
        }
    }
}

fn password(name: &str, result: &str) -> Value {
    resource(
        "managed",
        "random_password",
        name,
        json!({"id": "none", "result": result, "length": 16}),
        json!([[{"type": "get_attr", "value": "result"}]]),
    )
}

fn instance(index_key: Value, value: &str) -> Value {
    json!({"index_key": index_key, "schema_version": 0,
        "attributes": {"id": "/app/x", "name": "/app/x", "type": "SecureString", "value": value},
        "sensitive_attributes": [[{"type": "get_attr", "value": "value"}]]})
}

/// The review's repro, plus an unmasked key, two module instances keyed by secrets and two
/// deposed objects whose keys equal secrets.
fn repro(k: &[String]) -> String {
    let mut ssm = resource("managed", "aws_ssm_parameter", "p", json!({}), json!([]));
    ssm["instances"] = json!([
        instance(json!("eu"), &k[4]),
        instance(json!(k[0]), &k[0]),
        instance(json!(k[1]), &k[1]),
    ]);
    let module_db = |key: &str, pw: &str| {
        let mut r = resource(
            "managed",
            "aws_db_instance",
            "d",
            json!({"id": "db", "password": pw}),
            json!([[{"type": "get_attr", "value": "password"}]]),
        );
        r["module"] = json!(format!(
            "module.db[{}]",
            serde_json::to_string(key).unwrap()
        ));
        r
    };
    let mut old = resource("managed", "aws_db_instance", "old", json!({}), json!([]));
    let deposed = |key: &str| {
        json!({"index_key": "a", "deposed": key, "schema_version": 0,
            "attributes": {"id": "db-old", "password": key},
            "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]]})
    };
    old["instances"] = json!([deposed(&k[2]), deposed(&k[3])]);
    state_v4(json!([
        ssm,
        module_db(&k[0], &k[4]),
        module_db(&k[1], &k[4]),
        old,
        password("a", &k[0]),
        password("b", &k[1]),
        password("c", &k[2]),
        password("d", &k[3]),
        password("e", &k[4]),
    ]))
}

fn findings(r: &Run) -> Vec<Value> {
    r.json()["findings"].as_array().cloned().unwrap_or_default()
}

fn scrub_dry_run(st: &str, more: &[&str]) -> Run {
    let o = bin()
        .args(["scrub", st, "--prefix", "t"])
        .args(more)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("run state-scrubber");
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[test]
fn masked_keys_of_the_same_length_tell_instances_apart_everywhere() {
    let d = Dir::new();
    // Random canaries, all 16 characters: the length alone tells none of them apart.
    let k: Vec<String> = (0..5).map(|_| random(ALNUM, 16)).collect();
    let st = d
        .write("terraform.tfstate", repro(&k))
        .display()
        .to_string();

    // No form of a canary in any output format, the baseline, or scrub's dry run.
    for format in ["text", "json", "sarif", "html"] {
        let r = audit(&[&st, "--format", format, "--verbose"]);
        assert_eq!(r.code, 1, "{format}: findings expected (exit {})", r.code);
        assert_clean(&k, &format!("audit --format {format}"), &r.all());
    }
    let bl = d.s("baseline.json");
    let r = audit(&[&st, "--write-baseline", &bl]);
    assert_eq!(r.code, 0, "--write-baseline exit {}", r.code);
    assert_clean(&k, "--write-baseline output", &r.all());
    let baseline = std::fs::read_to_string(&bl).unwrap();
    assert_clean(&k, "the baseline file", &baseline);
    let scrub = scrub_dry_run(&st, &[]);
    assert_clean(&k, "scrub dry run", &scrub.all());
    // Instances keyed by a secret left out (by their addresses without a key).
    let rest = scrub_dry_run(
        &st,
        &["--exclude", "aws_ssm_parameter.p", "--exclude", "module.db"],
    );
    assert_clean(&k, "scrub dry run --exclude", &rest.all());

    // Addresses: unmasked keys as before; the first masked key of a resource (or module call)
    // shows its length only, the next ones their position among the masked keys.
    let found = findings(&audit(&[&st, "--format", "json"]));
    assert!(!found.is_empty(), "no findings parsed from the JSON report");
    let addresses: BTreeSet<String> = found
        .iter()
        .map(|f| f["address"].as_str().unwrap_or("").to_string())
        .collect();
    for want in [
        "aws_ssm_parameter.p[\"eu\"]",
        "aws_ssm_parameter.p[\"…(16 chars)\"]",
        "aws_ssm_parameter.p[\"…(16 chars) #2\"]",
        "module.db[\"…(16 chars)\"].aws_db_instance.d",
        "module.db[\"…(16 chars) #2\"].aws_db_instance.d",
        "aws_db_instance.old[\"a\"] (deposed …(16 chars))",
        "aws_db_instance.old[\"a\"] (deposed …(16 chars) #2)",
    ] {
        assert!(addresses.contains(want), "address {want} not reported");
    }

    // Fingerprints: one per (address, attribute), so the two instances are two findings.
    let fps = |addr_part: &str, path: &str| -> BTreeSet<String> {
        found
            .iter()
            .filter(|f| {
                f["address"].as_str().unwrap_or("").contains(addr_part)
                    && f["attribute_path"] == path
            })
            .map(|f| f["fingerprint"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(fps("aws_ssm_parameter.p[\"…", "index_key").len(), 2);
    assert_eq!(fps("aws_ssm_parameter.p[\"…", "value").len(), 2);
    assert_eq!(fps("module.db[", "password").len(), 2);
    assert_eq!(fps("module.db[", "module").len(), 2);
    assert_eq!(fps("aws_db_instance.old", "password").len(), 2);
    assert_eq!(fps("aws_db_instance.old", "deposed").len(), 2);

    // The same state gives the same addresses and fingerprints on every run.
    let again = findings(&audit(&[&st, "--format", "json", "--jobs", "1"]));
    let key = |fs: &[Value]| -> BTreeSet<(String, String)> {
        fs.iter()
            .map(|f| {
                (
                    f["address"].as_str().unwrap_or("").to_string(),
                    f["fingerprint"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    assert!(
        key(&found) == key(&again),
        "a second run numbers differently"
    );

    // The baseline keeps one entry per finding, and accepts exactly them.
    let entries = serde_json::from_str::<Value>(&baseline).unwrap()["findings"]
        .as_array()
        .map(|a| a.len())
        .unwrap_or(0);
    assert_eq!(entries, found.len(), "baseline entries merged");
    let r = audit(&[&st, "--baseline", &bl]);
    assert_eq!(r.code, 0, "the baseline does not accept every finding");

    // SARIF: one result per finding, each with its own partial fingerprint.
    let sarif = audit(&[&st, "--format", "sarif"]).json();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let partial: BTreeSet<String> = results
        .iter()
        .map(|r| r["partialFingerprints"].to_string())
        .collect();
    assert_eq!(
        partial.len(),
        results.len(),
        "SARIF results share a fingerprint"
    );

    // scrub: an instance or module keyed by a secret refuses the state (the key is part of the
    // address: it would stay in the state, and the manifest would hold it), dry run included,
    // naming each such instance masked and numbered.
    assert_eq!(scrub.code, 2, "scrub dry run exit {}", scrub.code);
    assert!(
        scrub
            .stderr
            .contains("instances are keyed by a secret value")
            && scrub
                .stderr
                .contains("aws_ssm_parameter.p[\"…(16 chars) #2\"]")
            && scrub
                .stderr
                .contains("module.db[\"…(16 chars) #2\"].aws_db_instance.d"),
        "{}",
        scrub.stderr
    );
    // Those left out, every other value gets its own secret name: the deposed objects' too,
    // whose masked keys are numbered.
    assert_eq!(rest.code, 0, "scrub dry run --exclude exit {}", rest.code);
    let names: Vec<&str> = rest
        .stdout
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("ref+awssecrets://"))
        .map(|w| w.split('?').next().unwrap_or(w))
        .collect();
    let distinct: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(distinct.len(), names.len(), "scrub reuses a secret name");
    let deposed = names
        .iter()
        .filter(|n| n.contains("aws_db_instance.old@"))
        .count();
    assert_eq!(deposed, 2, "one secret name per deposed password");
}

/// A plan's resource changes: index keys and module instance keys (`module_address`) are
/// numbered the same way.
#[test]
fn masked_keys_in_a_plan_tell_instances_apart() {
    let d = Dir::new();
    let k: Vec<String> = (0..2).map(|_| random(ALNUM, 16)).collect();
    let q = |s: &str| serde_json::to_string(s).unwrap();
    let change = |m: &str, i: &str| {
        json!({
            "address": format!("module.db[{}].aws_ssm_parameter.p[{}]", q(m), q(i)),
            "module_address": format!("module.db[{}]", q(m)),
            "mode": "managed", "type": "aws_ssm_parameter", "name": "p", "index": i,
            "change": {"actions": ["create"], "before": null,
                "after": {"name": "/x", "type": "String", "value": "eu-west-1"},
                "after_sensitive": {}}})
    };
    let plan = d
        .write(
            "plan.json",
            json!({"format_version": "1.2",
            "variables": {"a": {"value": k[0]}, "b": {"value": k[1]}},
            "configuration": {"root_module": {"variables": {
                "a": {"sensitive": true}, "b": {"sensitive": true}}}},
            "resource_changes": [
                change(&k[0], &k[1]),
                change(&k[0], &k[0]),
                change(&k[1], &k[0]),
            ]})
            .to_string(),
        )
        .display()
        .to_string();
    for format in ["text", "json", "sarif", "html"] {
        let r = audit(&[&plan, "--format", format, "--verbose"]);
        assert_eq!(r.code, 1, "{format}: findings expected (exit {})", r.code);
        assert_clean(&k, &format!("audit --format {format} of a plan"), &r.all());
    }
    let found = findings(&audit(&[&plan, "--format", "json"]));
    let addresses: BTreeSet<&str> = found
        .iter()
        .filter(|f| f["attribute_path"] == "index")
        .filter_map(|f| f["address"].as_str())
        .collect();
    // Index keys are numbered within their resource, so within their module instance.
    let want: BTreeSet<&str> = [
        "module.db[\"…(16 chars)\"].aws_ssm_parameter.p[\"…(16 chars)\"]",
        "module.db[\"…(16 chars)\"].aws_ssm_parameter.p[\"…(16 chars) #2\"]",
        "module.db[\"…(16 chars) #2\"].aws_ssm_parameter.p[\"…(16 chars)\"]",
    ]
    .into_iter()
    .collect();
    assert!(
        addresses == want,
        "index key findings of the plan are not numbered as expected"
    );
}
