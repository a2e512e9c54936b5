//! Plan members that hold values: configuration, checks, identities, actions, variables.

use super::*;

/// Review item 7: a plan's `configuration` holds the literal of every module input
/// (`module_calls.*.expressions`) and provisioner argument (`resources[].provisioners[].expressions`);
/// such a literal may appear nowhere else in the plan. A module input is a sensitive-variable
/// finding when the child module declares that variable sensitive.
#[test]
fn plan_configuration_module_inputs_and_provisioners_are_scanned() {
    let d = Dir::new();
    let token = plant(&format!("ghp_{}", random(ALNUM, 36)));
    let pw = pw();
    let plain = plant(&pw.replace('!', "x"));
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
    let token = plant(&format!("ghp_{}", random(ALNUM, 36)));
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
    let pw = plant(&format!("{}!{}", random(ALNUM, 12), random(ALNUM, 6)));
    let key = plant(&format!("ghp_{}", random(ALNUM, 36)));
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
    let pw = plant(&format!("{}!{}", random(ALNUM, 12), random(ALNUM, 6)));
    let tok = random(ALNUM, 32);
    let key_id = plant(&format!(
        "AKIA{}",
        random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    ));
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
    let pw = plant(&format!("{}!{}", random(ALNUM, 12), random(ALNUM, 6)));
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

/// Review: a directory walk passed over saved binary plans (`terraform plan -out tfplan`) in
/// silence and could report the tree clean, though a saved plan holds the plan's values
/// (sensitive variables, the prior state) in plaintext. Names with a `tfplan` component are
/// now read: a zip is read as a saved plan (tests/integration/saved_plan/), and one that is not
/// a readable archive (as here) is an error (exit 2) naming it; another file by such a name is
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
