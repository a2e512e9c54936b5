//! Secrets written into free text (scripts, config files, `user_data`): every distinct secret of
//! a value, the formats scripts and config files hold them in, and their look-alikes.

use super::*;

fn audit_state(state: &str) -> Run {
    let d = Dir::new();
    d.write("a.tfstate", state);
    audit(&[&d.s("a.tfstate"), "--format", "json"])
}

/// (attribute_path, rule_id) of each finding, in report order.
fn path_rule(r: &Run) -> Vec<(String, String)> {
    columns(&findings(r), ["attribute_path", "rule_id"])
        .into_iter()
        .map(|[p, r]| (p, r))
        .collect()
}

fn fingerprints(r: &Run) -> Vec<String> {
    columns(&findings(r), ["fingerprint"])
        .into_iter()
        .map(|[f]| f)
        .collect()
}

fn instance(user_data: &str, sensitive: Value) -> String {
    state_v4(json!([resource(
        "managed",
        "aws_instance",
        "web",
        json!({"id": "i-0a1b2c3d4e5f67890", "user_data": user_data}),
        sensitive
    )]))
}

fn github_token() -> String {
    plant(&format!("gh{}p_{}", "", random(ALNUM, 36)))
}

/// A user_data script holding an AWS access key, a GitHub token and a second GitHub token was
/// one finding (the first rule's): the token was never reported. Each distinct secret is now a
/// finding of its own, in rule order, each with its own fingerprint; the value's first finding
/// keeps the fingerprint its only finding had. A secret two rules match (the token assigned to
/// `GITHUB_TOKEN=`, again in an `Authorization` header, a `text-secret-assignment` and an
/// `authorization-header` match) is reported once. Marked values (layer 1) and base64 ones too.
#[test]
fn every_distinct_secret_of_a_value_is_reported_once() {
    let key_id = plant(&format!(
        "AK{}IA{}",
        "",
        random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    ));
    let token = github_token();
    let other = github_token();
    let script = plant(&format!(
        "#!/bin/bash\nexport AWS_ACCESS_KEY_ID={key_id}\nexport GITHUB_TOKEN={token}\n\
         curl -H \"Authorization: token {token}\" https://api.github.com/user\n\
         git clone https://x-access-token:{other}@github.com/org/app.git\n"
    ));
    let want = [
        ("user_data".to_string(), "aws-access-key-id".to_string()),
        ("user_data".to_string(), "github-token".to_string()),
        ("user_data".to_string(), "github-token".to_string()),
    ];
    let r = audit_state(&instance(&script, json!([])));
    assert_eq!(path_rule(&r), want, "{}", r.all());
    let fps = fingerprints(&r);
    let mut distinct = fps.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{}", r.all());
    // Stable: the same findings in the same order with the same fingerprints.
    assert_eq!(
        fingerprints(&audit_state(&instance(&script, json!([])))),
        fps
    );
    // The first keeps the fingerprint of a value with that one secret (baselines still hold).
    let alone = audit_state(&instance(
        &plant(&format!("export AWS_ACCESS_KEY_ID={key_id}\n")),
        json!([]),
    ));
    assert_eq!(fingerprints(&alone), fps[..1], "{}", alone.all());

    // Marked by the provider: the mark's finding takes the first secret, the others follow.
    let r = audit_state(&instance(&script, json!([[ga("user_data")]])));
    assert_eq!(path_rule(&r), want, "{}", r.all());
    assert_eq!(fingerprints(&r), fps, "{}", r.all());

    // Base64 (a launch template's user_data): the same findings in the decoded text.
    use base64::Engine as _;
    let b64 = plant(&base64::engine::general_purpose::STANDARD.encode(&script));
    let r = audit_state(&instance(&b64, json!([])));
    assert_eq!(path_rule(&r), want, "{}", r.all());

    // One secret written twice is one finding.
    let twice = plant(&format!(
        "GITHUB_TOKEN={token}\ncurl -H \"Authorization: Bearer {token}\" https://api.github.com\n"
    ));
    let r = audit_state(&instance(&twice, json!([])));
    assert_eq!(
        path_rule(&r),
        [("user_data".to_string(), "github-token".to_string())],
        "{}",
        r.all()
    );
}
