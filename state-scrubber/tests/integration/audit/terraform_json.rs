//! Terraform JSON as real runs write it (`tests/data/terraform-json/`), setup-terraform's wrapper.

use super::*;

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
        plant(&format!(
            "AKIA{}",
            random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
        )),
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

/// Terraform's machine-readable UI (`terraform plan|apply|query|test -json`, one message a
/// line) was "invalid JSON at the document root: unexpected data after the end" (exit 2), in a
/// walk too (`terraform plan -json > plan.json`). It is read message by message, at `/i`: a
/// `terraform query` result's `resource_object` (the attribute table applies) and its list
/// block's `input_config`, apply's `outputs`, a diagnostic's texts that quote values
/// (`terraform test`'s failed assertion), and `terraform test -verbose -json`'s `test_state` and
/// `test_plan` (each run's whole state and plan, sensitive values in plaintext), and what a
/// provisioner printed (`provision_progress`). The other
/// messages (ids, addresses, statuses) give nothing.
#[test]
fn the_machine_readable_ui_stream_is_read_message_by_message() {
    const B62: &str = ALNUM;
    let d = Dir::new();
    let p = pw();
    let tok = plant(&format!("gh{}_{}", "p", random(B62, 36)));
    let filter = plant(&format!("gl{}-{}", "pat", random(B62, 20)));
    // An access key's `id` is its identifier, not reported; its `secret` is.
    let key_id = plant(&format!(
        "AK{}IA{}",
        "",
        random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    ));
    let secret = random(B62, 40);
    let echoed = plant(&format!(
        "xox{}-{}-{}-{}",
        "b",
        random("0123456789", 12),
        random("0123456789", 12),
        random(B62, 24)
    ));
    let head = |level: &str, msg: &str, ty: &str| {
        json!({"@level": level, "@message": msg, "@module": "terraform.ui",
               "@timestamp": "2026-11-27T14:38:58.668520Z", "type": ty})
    };
    let with = |mut m: Value, k: &str, v: Value| {
        m[k] = v;
        m
    };
    let mut version = head("info", "Terraform 1.15.5", "version");
    version["terraform"] = json!("1.15.5");
    version["ui"] = json!("1.3");
    let lines = [
        version,
        with(
            head("info", "list.aws_db_instance.all: Starting query...", "list_start"),
            "list_start",
            json!({"address": "list.aws_db_instance.all", "resource_type": "aws_db_instance",
                   "input_config": {"filter_tag": filter}}),
        ),
        with(
            head("info", "list.aws_db_instance.all: Result found", "list_resource_found"),
            "list_resource_found",
            json!({"address": "list.aws_db_instance.all", "display_name": "db-1",
                   "identity": {"id": "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ"}, "identity_version": 0,
                   "resource_type": "aws_db_instance",
                   "resource_object": {"id": "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ", "password": p,
                                       "username": "app", "engine": "postgres"}}),
        ),
        with(
            head("info", "terraform_data.x: Creation complete after 0s [id=8359974a-34aa-ee4c-4664-c90b424e60ca]", "apply_complete"),
            "hook",
            json!({"resource": {"addr": "terraform_data.x", "resource_type": "terraform_data"},
                   "action": "create", "id_key": "id", "id_value": "8359974a-34aa-ee4c-4664-c90b424e60ca",
                   "elapsed_seconds": 0}),
        ),
        with(
            head("error", "Error: Test assertion failed", "diagnostic"),
            "diagnostic",
            json!({"severity": "error", "summary": "Test assertion failed",
                   "detail": format!("tok was {tok}"),
                   "range": {"filename": "tests/a.tftest.hcl", "start": {"line": 4, "column": 21, "byte": 66},
                             "end": {"line": 4, "column": 41, "byte": 86}},
                   "snippet": {"context": "run \"apply_it\"", "code": "    condition     = output.tok == \"nope\"",
                               "start_line": 4, "highlight_start_offset": 20, "highlight_end_offset": 40,
                               "values": [{"traversal": "output.tok", "statement": format!("is \"{tok}\"")}],
                               "test_assertion_expr": {"lhs": format!("\"{tok}\""), "rhs": "\"nope\"",
                                                       "warning": "", "show_verbose": false}}}),
        ),
        with(
            head("info", "Outputs: 1", "outputs"),
            "outputs",
            json!({"tok": {"sensitive": false, "type": "string", "value": tok}}),
        ),
        // `terraform test -verbose -json`: the run's state and plan, as `show -json` has them.
        with(
            head("info", "-verbose state", "test_state"),
            "test_state",
            json!({"state_format_version": "1.0",
                   "root_module": {"child_modules": [{"address": "module.db", "resources": [{
                       "address": "module.db.aws_db_instance.main", "mode": "managed", "type": "aws_db_instance",
                       "name": "main", "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 2,
                       "values": {"id": "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ", "password": p, "username": "app"},
                       "sensitive_values": {"password": true}}]}]},
                   "outputs": {"pw": {"sensitive": true, "type": "string", "value": p}}}),
        ),
        with(
            head("info", "-verbose plan", "test_plan"),
            "test_plan",
            json!({"plan_format_version": "1.2",
                   "resource_changes": [{"address": "aws_iam_access_key.ci", "mode": "managed",
                       "type": "aws_iam_access_key", "name": "ci", "provider_name": "registry.terraform.io/hashicorp/aws",
                       "change": {"actions": ["no-op"],
                                  "before": {"id": key_id, "user": "ci", "secret": secret},
                                  "after": {"id": key_id, "user": "ci", "secret": secret},
                                  "after_unknown": {}, "before_sensitive": {"secret": true},
                                  "after_sensitive": {"secret": true}}}],
                   "output_changes": {}}),
        ),
        with(
            head("info", "terraform_data.p: (local-exec): (output)", "provision_progress"),
            "hook",
            json!({"resource": {"addr": "terraform_data.p", "module": "", "resource": "terraform_data.p",
                                "implied_provider": "terraform", "resource_type": "terraform_data",
                                "resource_name": "p", "resource_key": null},
                   "provisioner": "local-exec", "output": format!("deploying with {echoed}")}),
        ),
        with(
            head("info", "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.", "change_summary"),
            "changes",
            json!({"add": 1, "change": 0, "import": 0, "remove": 0, "operation": "apply"}),
        ),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    d.write("ci/plan.json", &text);
    for target in [d.s("ci/plan.json"), d.s("ci")] {
        let r = audit(&[&target, "--format", "json"]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        let f = findings(&r);
        let mut got = columns(&f, ["address", "attribute_path", "json_pointer", "rule_id"]);
        got.sort();
        let mut want: Vec<[&str; 4]> = vec![
            [
                "diagnostic.tests/a.tftest.hcl:4",
                "detail",
                "/4/diagnostic/detail",
                "github-token",
            ],
            [
                "diagnostic.tests/a.tftest.hcl:4",
                "snippet.test_assertion_expr.lhs",
                "/4/diagnostic/snippet/test_assertion_expr/lhs",
                "github-token",
            ],
            [
                "diagnostic.tests/a.tftest.hcl:4",
                "snippet.values[0].statement",
                "/4/diagnostic/snippet/values/0/statement",
                "github-token",
            ],
            [
                "list.aws_db_instance.all",
                "filter_tag",
                "/1/list_start/input_config/filter_tag",
                "gitlab-token",
            ],
            [
                "list.aws_db_instance.all",
                "password",
                "/2/list_resource_found/resource_object/password",
                "attr.aws_db_instance.password",
            ],
            [
                "aws_iam_access_key.ci",
                "secret",
                "/7/test_plan/resource_changes/0/change/after/secret",
                "attr.aws_iam_access_key.secret",
            ],
            [
                "aws_iam_access_key.ci",
                "secret",
                "/7/test_plan/resource_changes/0/change/before/secret",
                "attr.aws_iam_access_key.secret",
            ],
            [
                "module.db.aws_db_instance.main",
                "password",
                "/6/test_state/root_module/child_modules/0/resources/0/values/password",
                "attr.aws_db_instance.password",
            ],
            [
                "output.pw",
                "",
                "/6/test_state/outputs/pw/value",
                "mark.sensitive_output",
            ],
            ["output.tok", "", "/5/outputs/tok/value", "github-token"],
            [
                "terraform_data.p",
                "output",
                "/8/hook/output",
                "slack-token",
            ],
        ];
        want.sort();
        assert_eq!(got, want);
        assert_eq!(r.json()["files"][0]["document"], "terraform_json_ui");
        // Each at its own line of the file.
        let line = |ptr: &str| {
            f.iter().find(|x| x["json_pointer"] == ptr).unwrap()["line"]
                .as_u64()
                .unwrap()
        };
        assert_eq!(line("/2/list_resource_found/resource_object/password"), 3);
        assert_eq!(line("/5/outputs/tok/value"), 6);
    }
    assert_never_shown(
        &d.s("ci/plan.json"),
        &[&p, &tok, &filter],
        "a planted value",
    );
}

/// A directory walk reads `*.jsonl` files, saved `-json` UI streams, whatever their name; JSON
/// lines of another tool are skipped with a note, not an error.
#[test]
fn a_walk_reads_saved_ui_streams_named_jsonl() {
    let d = Dir::new();
    let tok = plant(&format!("gh{}_{}", "p", random(ALNUM, 36)));
    let version = json!({"@level": "info", "@message": "Terraform 1.15.5", "@module": "terraform.ui",
                         "@timestamp": "2026-11-27T14:38:58.668520Z", "type": "version",
                         "terraform": "1.15.5", "ui": "1.3"});
    let outputs = json!({"@level": "info", "@message": "Outputs: 1", "@module": "terraform.ui",
                         "@timestamp": "2026-11-27T14:38:59.668520Z", "type": "outputs",
                         "outputs": {"tok": {"sensitive": false, "type": "string", "value": tok}}});
    d.write("ci/apply.jsonl", format!("{version}\n{outputs}\n"));
    d.write(
        "data/events.jsonl",
        "{\"event\": \"push\", \"n\": 1}\n{\"event\": \"pull\", \"n\": 2}\n",
    );
    let r = audit(&[&d.s("."), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = findings(&r);
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert!(f[0]["file"].as_str().unwrap().ends_with("ci/apply.jsonl"));
    assert_eq!(f[0]["json_pointer"], "/1/outputs/tok/value");
    let skipped = r.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["file"].as_str().unwrap().ends_with("events.jsonl"))
        .count();
    assert_eq!(skipped, 1, "{}", r.stdout);
    assert!(!r.stdout.contains(&tok) && !r.stderr.contains(&tok));
    // Nothing to read: the note says .jsonl files were looked for.
    let e = Dir::new();
    e.write("data/events.txt", "push\n");
    let r = audit(&[&e.s(".")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("saved -json streams (*.jsonl)"),
        "{}",
        r.stderr
    );
}

/// `terraform state identities -json` (Terraform 1.12+) is read, not refused as an unknown
/// format: identities are clean normally, and a credential in one is reported at its address.
#[test]
fn state_identities_json_is_read() {
    let d = Dir::new();
    let clean = json!({
        "aws_instance.web": {"id": "i-0123456789abcdef0", "region": "eu-west-1", "account_id": "123456789012"},
        "module.db[\"eu\"].aws_db_instance.main[0]": {"identifier": "main-db", "region": "eu-west-1"},
    });
    d.write("ids.json", clean.to_string());
    let r = audit(&[&d.s("ids.json"), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.json()["files"][0]["document"],
        "terraform_state_identities_json",
        "{}",
        r.stdout
    );
    let tok = plant(&format!("gh{}_{}", "p", random(ALNUM, 36)));
    let p = pw();
    let leaky = json!({
        "aws_instance.web": {"id": "i-0123456789abcdef0"},
        "module.x.vendor_thing.t[\"k\"]": {"id": "t-1", "api_token": tok, "password": p},
    });
    d.write("ids.json", leaky.to_string());
    let r = audit(&[&d.s("ids.json"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut got = columns(
        &findings(&r),
        ["address", "attribute_path", "json_pointer", "section"],
    );
    got.sort();
    assert_eq!(
        got,
        [
            [
                "module.x.vendor_thing.t[\"k\"]",
                "api_token",
                "/module.x.vendor_thing.t[\"k\"]/api_token",
                "identities"
            ],
            [
                "module.x.vendor_thing.t[\"k\"]",
                "password",
                "/module.x.vendor_thing.t[\"k\"]/password",
                "identities"
            ],
        ],
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(&tok) && !r.stdout.contains(&p));
}

/// An identities document's member names are addresses, keys and all: an index or module key
/// that is a secret (a content rule recognises it, or it equals a value found secret in the
/// file) is found and masked in the address and in the pointer, whose first token is the
/// address, as a state instance's key is. Before, both showed the key whole in every format.
#[test]
fn a_secret_key_in_an_identities_address_is_masked() {
    let d = Dir::new();
    let tok = plant(&format!("gh{}_{}", "p", random(ALNUM, 36)));
    let in_module = plant(&format!("gh{}_{}", "p", random(ALNUM, 36)));
    let p = pw();
    // Too short for a content rule to look at a key: masked as the password it equals.
    let short = plant(&random(ALNUM, 8));
    let q = |k: &str| serde_json::to_string(k).unwrap();
    let ids = json!({
        format!("vendor_thing.t[{}]", q(&tok)): {"id": "t-1"},
        format!("module.m[{}].vendor_thing.u", q(&in_module)): {"id": "t-2"},
        format!("vendor_thing.v[{}]", q(&p)): {"id": "t-3", "password": p},
        format!("vendor_thing.w[{}]", q(&short)): {"id": "t-4", "password": short},
    });
    d.write("ids.json", ids.to_string());
    let mut outputs = Vec::new();
    for format in ["text", "json", "sarif"] {
        let r = audit(&[&d.s("ids.json"), "--format", format, "--verbose"]);
        assert_eq!(r.code, 1, "{format}: findings expected");
        outputs.push(r.all());
    }
    for out in &outputs {
        assert!(
            !out.contains(&tok)
                && !out.contains(&in_module)
                && !out.contains(&p)
                && !out.contains(&short),
            "a key is shown"
        );
    }
    let r = audit(&[&d.s("ids.json"), "--format", "json"]);
    let found = findings(&r);
    let at = |path: &str| found.iter().filter(|f| f["attribute_path"] == path).count();
    // Each content-rule key is a finding of its own, and so is each key equal to a password
    // found in the file (8 characters or more); the password is found by its name.
    assert_eq!((at("index_key"), at("module"), at("password")), (3, 1, 2));
}

/// An index or module key of an identities address that no content rule recognises but that
/// equals a value found secret in the file (a `random_password` result used as a `for_each`
/// key) is masked and reported at its member (`index_key`, `module`; rule `same-value`), as a
/// state instance's key is: before, it was masked with no finding of its own, so a copy of a
/// secret sat in the artifact with nothing saying so. Its pointer is the masked address.
#[test]
fn a_key_equal_to_a_found_value_in_an_identities_address_is_reported() {
    let d = Dir::new();
    let p = pw();
    let q = serde_json::to_string(&p).unwrap();
    let ids = json!({
        format!("aws_db_instance.db[{q}]"): {"id": "db-1"},
        format!("module.m[{q}].vendor_thing.u"): {"id": "t-2"},
        "vendor_thing.v": {"id": "t-3", "password": p},
        "aws_instance.web[\"blue-green-eu\"]": {"id": "i-0"},
    });
    d.write("ids.json", ids.to_string());
    for format in ["text", "sarif"] {
        let r = audit(&[&d.s("ids.json"), "--format", format, "--verbose"]);
        assert!(!r.all().contains(&p), "{format}: a key is shown");
    }
    let r = audit(&[&d.s("ids.json"), "--format", "json"]);
    assert!(!r.all().contains(&p), "a key is shown");
    let mut got = columns(
        &findings(&r),
        ["address", "attribute_path", "json_pointer", "rule_id"],
    );
    got.sort();
    let masked = format!("\"…({} chars)\"", p.chars().count());
    let mut want = vec![
        [
            format!("aws_db_instance.db[{masked}]"),
            "index_key".to_string(),
            format!("/aws_db_instance.db[{masked}]"),
            "same-value".to_string(),
        ],
        [
            format!("module.m[{masked}].vendor_thing.u"),
            "module".to_string(),
            format!("/module.m[{masked}].vendor_thing.u"),
            "same-value".to_string(),
        ],
        [
            "vendor_thing.v".to_string(),
            "password".to_string(),
            "/vendor_thing.v/password".to_string(),
            "key-password".to_string(),
        ],
    ];
    want.sort();
    assert_eq!(got, want);
}

/// A UI stream's `@message` (content rules, at `/i/@message`) and a diagnostic's `snippet.code`
/// (the configuration's line) are read. A hook's `@message` (`[id=...]`, a provisioner's line read
/// at `hook.output`) and a diagnostic's (its `summary`, read there) are not read twice.
#[test]
fn ui_messages_and_diagnostic_code_are_read() {
    let d = Dir::new();
    let tok = plant(&format!("gh{}_{}", "p", random(ALNUM, 36)));
    let lit = plant(&format!("gl{}-{}", "pat", random(ALNUM, 20)));
    let said = plant(&format!(
        "xox{}-{}-{}-{}",
        "b",
        random("0123456789", 12),
        random("0123456789", 12),
        random(ALNUM, 24)
    ));
    let key_id = plant(&format!(
        "AK{}IA{}",
        "",
        random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    ));
    let head = |level: &str, msg: String, ty: &str| {
        json!({"@level": level, "@message": msg, "@module": "terraform.ui",
               "@timestamp": "2026-11-27T14:38:58.668520Z", "type": ty})
    };
    let mut version = head("info", "Terraform 1.15.5".into(), "version");
    version["terraform"] = json!("1.15.5");
    version["ui"] = json!("1.3");
    let mut log = head("info", format!("run \"deploy\": token is {tok}"), "log");
    log["@testrun"] = json!("deploy");
    let mut diag = head("error", format!("Error: bad token {said}"), "diagnostic");
    diag["diagnostic"] = json!({"severity": "error", "summary": format!("bad token {said}"), "detail": "",
        "range": {"filename": "main.tf", "start": {"line": 3, "column": 3, "byte": 20},
                  "end": {"line": 3, "column": 40, "byte": 57}},
        "snippet": {"context": "resource \"vendor_thing\" \"t\"", "code": format!("  token = \"{lit}\""),
                    "start_line": 3, "highlight_start_offset": 2, "highlight_end_offset": 38,
                    "values": []}});
    let mut done = head(
        "info",
        format!("aws_iam_access_key.ci: Creation complete after 1s [id={key_id}]"),
        "apply_complete",
    );
    done["hook"] = json!({"resource": {"addr": "aws_iam_access_key.ci", "resource_type": "aws_iam_access_key"},
                          "action": "create", "id_key": "id", "id_value": key_id, "elapsed_seconds": 1});
    let text: String = [version, log, diag, done]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    d.write("ci/test.jsonl", &text);
    let r = audit(&[&d.s("ci/test.jsonl"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut got = columns(
        &findings(&r),
        ["address", "attribute_path", "json_pointer", "rule_id"],
    );
    got.sort();
    assert_eq!(
        got,
        [
            [
                "diagnostic.main.tf:3",
                "snippet.code",
                "/2/diagnostic/snippet/code",
                "gitlab-token"
            ],
            [
                "diagnostic.main.tf:3",
                "summary",
                "/2/diagnostic/summary",
                "slack-token"
            ],
            [
                "message.log",
                "[\"@message\"]",
                "/1/@message",
                "github-token"
            ],
        ],
        "{}",
        r.stdout
    );
    for s in [&tok, &lit, &said, &key_id] {
        assert!(!r.stdout.contains(s.as_str()) && !r.stderr.contains(s.as_str()));
    }
}
