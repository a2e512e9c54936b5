//! Every input kind audit reads (states v3/v4, plans, show JSON, pipes, walks) and what it skips.

use super::*;

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

/// Review finding: a directory walk exited 2 on ordinary JSON: a `.json` with `plan` in its
/// name (explanation.json) is read, and a `version` other than 1 to 4 was an error even with
/// nothing of Terraform's around it. Such files are now skipped with a note; the names a walk
/// reads stay broad, since plans are named freely (devplan.json, plan1.json). Assertions name
/// what failed, never print the output (it may hold the planted value).
#[test]
fn walked_json_with_a_foreign_version_is_skipped_named_files_stay_strict() {
    let d = Dir::new();
    let c = plant(&format!("cnry{}", random(ALNUM, 20)));
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
    let canary = plant(&format!("cnry{}", random(ALNUM, 24)));
    let number = plant(&format!("9{}", random("0123456789", 15)));
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
