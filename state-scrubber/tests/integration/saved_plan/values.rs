//! A saved plan's values: every member read, every value found, none shown; SARIF locations.

use super::*;

/// Before: a saved plan was an error (exit 2, "convert it with terraform show -json"). Now the
/// directory walk reads `tfplan`: the plan member as the equivalent `show -json` document, the
/// prior states as states, each under `FILE!/MEMBER`, and no value reaches any output.
#[test]
fn a_walked_saved_plan_is_read_member_by_member() {
    let c = Canaries::new();
    let d = Dir::new();
    d.write("env/tfplan", saved_plan(&c));
    let r = audit_in(d.path(), &[".", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = r.json();
    let places = places(&v);
    for want in [
        ("./env/tfplan!/tfplan", "/variables/db_password/value"),
        (
            "./env/tfplan!/tfplan",
            "/resource_changes/0/change/before/password",
        ),
        (
            "./env/tfplan!/tfplan",
            "/resource_changes/0/change/after/password",
        ),
        (
            "./env/tfplan!/tfplan",
            "/resource_changes/0/change/after/tags/note",
        ),
        (
            "./env/tfplan!/tfplan",
            "/resource_changes/0/change/importing/id",
        ),
        ("./env/tfplan!/tfplan", "/output_changes/conn/after"),
        (
            "./env/tfplan!/tfstate",
            "/resources/0/instances/0/attributes/password",
        ),
        (
            "./env/tfplan!/tfstate-prev",
            "/resources/0/instances/0/attributes/password",
        ),
    ] {
        assert!(
            places.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} not in {places:?}"
        );
    }
    // The address is the change's, split as `show -json` splits it.
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["json_pointer"] == "/resource_changes/0/change/after/password")
        .unwrap();
    assert_eq!(f["address"], "module.app.aws_db_instance.db[0]");
    assert_eq!(f["document"], "show_json_plan");
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "./env/tfplan!/tfplan",
            "./env/tfplan!/tfstate",
            "./env/tfplan!/tfstate-prev"
        ]
    );
    for format in ["text", "json", "sarif", "html"] {
        let r = audit_in(d.path(), &["env/tfplan", "--format", format, "--verbose"]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(r.stdout.contains("env/tfplan!/tfplan"), "{format}");
        assert_absent(&r, &c.all(), format);
    }
    // SARIF names the member the same way.
    let r = audit_in(d.path(), &["env/tfplan", "--format", "sarif"]);
    assert!(r.stdout.contains("env/tfplan!/tfstate"), "{}", r.stdout);
    // stdin too.
    let r = audit_stdin(&["-", "--format", "json"], &saved_plan(&c));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("<stdin>!/tfplan"), "{}", r.stdout);
    assert_absent(&r, &c.all(), "stdin");
}

/// Plan JSON: `resource_changes[].change.importing.id` was not read; a credential there is now
/// found like any other value.
#[test]
fn a_plan_json_importing_id_is_read() {
    let tok = plant(&format!("ghp_{}", random(ALNUM, 36)));
    let plan = json!({
        "format_version": "1.2",
        "resource_changes": [{
            "address": "github_repository.r",
            "mode": "managed",
            "type": "github_repository",
            "name": "r",
            "change": {
                "actions": ["no-op"],
                "before": {"name": "r"},
                "after": {"name": "r"},
                "importing": {"id": tok},
            }
        }]
    });
    let d = Dir::new();
    d.write("plan.json", serde_json::to_vec_pretty(&plan).unwrap());
    let r = audit(&[&d.s("plan.json"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let f = &r.json()["findings"][0];
    assert_eq!(f["json_pointer"], "/resource_changes/0/change/importing/id");
    assert_eq!(f["rule_id"], "github-token");
    assert_eq!(f["section"], "resource_changes.importing.id");
    for format in ["text", "json", "sarif"] {
        let r = audit(&[&d.s("plan.json"), "--format", format, "--verbose"]);
        assert_absent(&r, &[&tok], format);
    }
}

/// A variable under a name that says nothing is a finding when the plan's configuration snapshot
/// (`tfconfig/m-/*.tf` or `*.tf.json`) declares it `sensitive = true`, as `show -json` would
/// say in `configuration.root_module.variables`; otherwise it is not (nothing else tells).
#[test]
fn variables_the_snapshot_declares_sensitive_are_marked() {
    let value = random(ALNUM, 24);
    let mut plan = proto::Plan::default();
    for name in ["greeting", "motto"] {
        plan.variables.insert(
            name.into(),
            proto::DynamicValue {
                msgpack: mp_dynamic("\"string\"", mp_str(&value)),
            },
        );
    }
    let plan = plan.encode_to_vec();
    let state = state_v4(json!([]));
    let d = Dir::new();
    d.write(
        "plain/tfplan",
        zip_of(&[("tfplan", &plan), ("tfstate", state.as_bytes())]),
    );
    d.write(
        "marked/tfplan",
        zip_of(&[
            ("tfplan", &plan),
            ("tfstate", state.as_bytes()),
            (
                "tfconfig/m-/variables.tf",
                b"variable \"greeting\" {\n  type      = string\n  sensitive = true\n}\n",
            ),
            (
                "tfconfig/m-/more.tf.json",
                b"{\"variable\": {\"motto\": {\"sensitive\": true}}}",
            ),
            // A child module's variable of the same name is not the root's.
            (
                "tfconfig/m-child/v.tf",
                b"variable \"other\" {\n  sensitive = true\n}\n",
            ),
        ]),
    );
    let r = audit(&[&d.s("plain/tfplan"), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = audit(&[&d.s("marked/tfplan"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let v = r.json();
    let mut pointers: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["layer_name"], "sensitive_mark", "{f}");
            f["json_pointer"].as_str().unwrap().to_string()
        })
        .collect();
    pointers.sort();
    assert_eq!(
        pointers,
        ["/variables/greeting/value", "/variables/motto/value"]
    );
    assert_absent(&r, &[&value], "marked");
}

/// Review finding: SARIF located a finding in a saved plan's member at `tfplan%21/tfstate`, a
/// URI that names no file of the repository, so GitHub code scanning could not place the alert.
/// Now the location is the archive (`env/tfplan`, listed in `run.artifacts`), the member is an
/// artifact nested in it (`parentIndex`), and the message and properties name the member and
/// the JSON pointer. The fingerprint is unchanged: a baseline written by the version before
/// (`data/saved-plan-baseline-0.1.json`, from this test's plan) still accepts every finding.
#[test]
fn sarif_locates_a_saved_plans_findings_at_the_archive_and_names_the_member() {
    let c = Canaries::new();
    let d = Dir::new();
    d.write("env/tfplan", saved_plan(&c));
    let r = audit_in(d.path(), &["env/tfplan", "--format", "sarif"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_absent(&r, &c.all(), "sarif");
    let sarif = r.json();
    let schema: Value =
        serde_json::from_str(include_str!("../../data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &sarif["runs"][0];
    let artifacts = run["artifacts"].as_array().expect("run.artifacts");
    let results = run["results"].as_array().unwrap();
    let j = audit_in(d.path(), &["env/tfplan", "--format", "json"]).json();
    let findings = j["findings"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    let mut members = std::collections::BTreeSet::new();
    for (res, f) in results.iter().zip(findings) {
        let loc = &res["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "env/tfplan", "{res}");
        assert_eq!(loc["region"]["startLine"], 1, "{res}");
        let a = loc["artifactLocation"]["index"].as_u64().unwrap() as usize;
        assert_eq!(artifacts[a]["location"]["uri"], "env/tfplan");
        assert_eq!(artifacts[a]["mimeType"], "application/zip");
        let p = &res["properties"];
        let member = p["member"].as_str().unwrap();
        members.insert(member.to_string());
        assert_eq!(p["archive"], "env/tfplan");
        assert_eq!(p["file"], format!("env/tfplan!/{member}"));
        let m = p["memberArtifactIndex"].as_u64().unwrap() as usize;
        assert_eq!(artifacts[m]["location"]["uri"], member);
        assert_eq!(artifacts[m]["parentIndex"], a as u64);
        // The message says where in the archive; the JSON pointer and position are kept.
        let text = res["message"]["text"].as_str().unwrap();
        let ptr = f["json_pointer"].as_str().unwrap();
        assert!(text.contains(&format!("member `{member}`")), "{text}");
        assert!(text.contains(ptr), "{text}");
        assert_eq!(p["jsonPointer"], ptr);
        assert_eq!(p["memberLine"], f["line"]);
        assert_eq!(p["memberColumn"], f["column"]);
        assert_eq!(
            res["partialFingerprints"]["stateScrubberFingerprint/v2"],
            f["fingerprint"]
        );
        // The JSON report names the archive and the member beside the label.
        assert_eq!(f["archive"], "env/tfplan");
        assert_eq!(f["member"], member);
        assert_eq!(f["file"], format!("env/tfplan!/{member}"));
    }
    assert_eq!(
        members.into_iter().collect::<Vec<_>>(),
        ["tfplan", "tfstate", "tfstate-prev"]
    );
    assert!(!r.stdout.contains("%21"), "a member in a URI");
    // All at the archive's line 1: each result has its own line hash (GitHub identifies alerts
    // by it), so results of one rule (the password before and after the change, in the prior
    // state and the state before refresh) stay distinct alerts; the same on the next run.
    let hashes = |s: &Value| -> Vec<String> {
        s["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let first = hashes(&sarif);
    let distinct: std::collections::BTreeSet<&String> = first.iter().collect();
    assert_eq!(distinct.len(), first.len(), "{first:?}");
    let again = audit_in(d.path(), &["env/tfplan", "--format", "sarif"]).json();
    assert_eq!(hashes(&again), first);
    for file in j["files"].as_array().unwrap() {
        assert_eq!(file["archive"], "env/tfplan", "{file}");
    }

    // Fingerprints did not move: the baseline the version before wrote for this plan accepts
    // every finding, in every format's exit status.
    d.write(
        "baseline.json",
        include_str!("../../data/saved-plan-baseline-0.1.json"),
    );
    let r = audit_in(
        d.path(),
        &[
            "env/tfplan",
            "--baseline",
            "baseline.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        r.json()["summary"]["accepted_by_baseline"],
        findings.len() as u64
    );
    // With --include-accepted, SARIF lists them as suppressed, located at the archive too.
    let r = audit_in(
        d.path(),
        &[
            "env/tfplan",
            "--baseline",
            "baseline.json",
            "--include-accepted",
            "--format",
            "sarif",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let s = r.json();
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for res in results {
        assert_eq!(
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "env/tfplan"
        );
        assert_eq!(res["suppressions"][0]["status"], "accepted");
    }
}
