//! The same value found secret elsewhere in the file (rule `same-value`).

use super::*;

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

/// A database whose password is also its user name, its `identifier` and its `id`: every copy
/// is reported, but those in what the provider finds the resource by (`id`, `identifier`) at
/// low severity, with a reason saying why; the password and the user name stay high.
#[test]
fn copies_of_a_secret_in_identifiers_are_low() {
    let d = Dir::new();
    let secret = random(ALNUM, 16);
    d.write(
        "terraform.tfstate",
        state_v4(json!([resource(
            "managed",
            "aws_db_instance",
            "db",
            json!({"id": secret, "identifier": secret, "username": secret, "password": secret, "engine": "postgres"}),
            json!([[ga("password")]])
        )])),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut got = columns(&findings(&r), ["attribute_path", "rule_id", "severity"]);
    got.sort();
    assert_eq!(
        got,
        vec![
            ["id", "same-value", "low"],
            ["identifier", "same-value", "low"],
            ["password", "attr.aws_db_instance.password", "high"],
            ["username", "same-value", "high"],
        ]
    );
    let id = findings(&r)
        .into_iter()
        .find(|f| f["attribute_path"] == "id")
        .unwrap();
    let reasons = id["reasons"].to_string();
    assert!(
        reasons.contains("what the provider finds the resource by"),
        "{reasons}"
    );
    assert_never_shown(&d.s("terraform.tfstate"), &[&secret], "the password");
}

/// A `same-value` finding's reason names the finding it copies as that finding shows its path:
/// a member name that could be a secret masked (it was quoted as written), and two masked names
/// of one length told apart by ` #2` as in their own findings.
#[test]
fn same_value_reasons_quote_the_path_as_its_finding_shows_it() {
    let d = Dir::new();
    // Values with a capital and a digit: a member of a marked map that is letters only and
    // does not switch case often (`UTHkVFSYKECFAg`, about 1 run in 50 of 14 random
    // alphanumerics) is taken for configuration, not a secret, and its finding was missing.
    let (v1, v2) = (
        format!("Q7{}", random(ALNUM, 12)),
        format!("Q7{}", random(ALNUM, 12)),
    );
    // `A…` before `z…` in the file, however the map is ordered. Fixed keys of one length that
    // switch case and digits often enough to be masked in every run: random ones (letters
    // only, or a capital, a digit and then a word-like run: `zQukiO4Xtgco`) were shown as plain
    // names, unnumbered, about 1 run in 100. They are still checked never to be shown.
    let (k1, k2) = ("A9xQ2mK7pZ4w".to_string(), "zR8kT3vN6qL1".to_string());
    let mut state = state_value(json!([resource(
        "managed",
        "terraform_data",
        "t",
        json!({"id": "x", "triggers_replace": {&k1: v1, &k2: v2}, "echo": v2}),
        json!([[ga("triggers_replace")]])
    )]));
    state["outputs"] = json!({"o": {"value": v2, "type": "string"}});
    d.write("terraform.tfstate", state.to_string());
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = findings(&r);
    // The finding of v2 is the second in the file: its masked key shows ` #2`.
    let group = f_at(&f, "echo")["value_group"].clone();
    let src = f
        .iter()
        .find(|f| f["rule_id"] != "same-value" && f["value_group"] == group)
        .unwrap();
    let shown = src["attribute_path"].as_str().unwrap().to_string();
    assert!(shown.ends_with(" #2\"]"), "{shown}");
    for copy in [f_at(&f, "echo"), f_addr(&f, "output.o")] {
        let first = copy["reasons"][0].as_str().unwrap();
        // (The reason is not printed: it would show a key quoted as written.)
        assert!(
            first.contains(&format!("`{shown}`")),
            "{} does not quote {shown}",
            copy["address"]
        );
    }
    assert_never_shown(
        &d.s("terraform.tfstate"),
        &[&v1, &v2, &k1, &k2],
        "a key or value",
    );
}

fn f_at(f: &[Value], path: &str) -> Value {
    f.iter()
        .find(|f| f["attribute_path"] == path)
        .cloned()
        .unwrap()
}

fn f_addr(f: &[Value], address: &str) -> Value {
    f.iter().find(|f| f["address"] == address).cloned().unwrap()
}

/// A user name that is a copy of the password: its `same-value` finding gave the password's fix
/// (set `password_wo`), which takes the password out of state but leaves the copy. Its fix now
/// says the copy is the problem: a user name is not kept secret; give the user a name of its
/// own, and rotate. The password keeps its own fix.
#[test]
fn a_user_name_that_copies_a_password_has_a_fix_about_the_copy() {
    let d = Dir::new();
    let secret = random(ALNUM, 16);
    let other = random(ALNUM, 18);
    d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource(
                "managed",
                "aws_db_instance",
                "db",
                json!({"id": "db-1", "identifier": "payments", "username": secret, "password": secret, "engine": "postgres"}),
                json!([[ga("password")]])
            ),
            resource(
                "managed",
                "aws_rds_cluster",
                "c",
                json!({"id": "c-1", "master_username": other, "master_password": other, "engine": "aurora-postgresql"}),
                json!([])
            ),
        ])),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = findings(&r);
    let mut got = columns(&f, ["address", "attribute_path", "rule_id"]);
    got.sort();
    assert_eq!(
        got,
        vec![
            [
                "aws_db_instance.db",
                "password",
                "attr.aws_db_instance.password"
            ],
            ["aws_db_instance.db", "username", "same-value"],
            [
                "aws_rds_cluster.c",
                "master_password",
                "attr.aws_rds_cluster.master_password"
            ],
            ["aws_rds_cluster.c", "master_username", "same-value"],
        ]
    );
    for (addr, copy, source, twin) in [
        ("aws_db_instance.db", "username", "password", "password_wo"),
        (
            "aws_rds_cluster.c",
            "master_username",
            "master_password",
            "master_password_wo",
        ),
    ] {
        let at = |path: &str| {
            f.iter()
                .find(|x| x["address"] == addr && x["attribute_path"] == path)
                .unwrap()["fix"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let fix = at(copy);
        assert!(
            fix.contains("a user name is not kept secret"),
            "{addr}: {fix}"
        );
        assert!(!fix.contains(twin), "{addr}: {fix}");
        assert!(at(source).contains(twin), "{addr}: {}", at(source));
    }
    assert_never_shown(
        &d.s("terraform.tfstate"),
        &[&secret, &other],
        "the password",
    );
}
