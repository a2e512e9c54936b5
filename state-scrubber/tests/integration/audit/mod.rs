//! `state-scrubber audit`, driven through the binary as users drive it.

use crate::util::*;
use serde_json::{json, Value};
use state_scrubber::rules::Rules;
use state_scrubber::table::{Table, Treat};

mod ambiguous_json;
mod baseline;
mod config;
mod errors;
mod exclude;
mod inputs;
mod marks;
mod masked_keys;
mod output_file;
mod output_json;
mod plan;
mod provider_shapes;
mod quiet;
mod report;
mod rule_list;
mod rules;
mod s3;
mod s3_retry_quota;
mod s3_signals;
mod same_value;
mod sarif;
mod secrets_in_text;
mod state;
mod terraform_json;

fn pw() -> String {
    plant(&format!("{}!{}", random(ALNUM, 10), random(ALNUM, 6)))
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

fn variants(canary: &str) -> Vec<String> {
    let mut v = encoded_forms(canary);
    // Any 8-character window is enough to count as a leak.
    let chars: Vec<char> = canary.chars().collect();
    for w in chars.windows(8) {
        v.push(w.iter().collect());
    }
    v
}

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

/// What is wrong with `sarif` by the official SARIF 2.1.0 schema.
fn sarif_errors(sarif: &Value) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(include_str!("../../data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    validator
        .iter_errors(sarif)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}
