//! JSON that readers read differently: a key twice, a lone surrogate escape.

use super::*;

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
        let secret = plant(&format!("Dk{}{}", random(ALNUM, 14), random("!#%+", 1)));
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
    let secret = plant(&format!("Dk{}{}", random(ALNUM, 14), random("!#%+", 1)));
    let key_id = plant(&format!(
        "AKIA{}",
        random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    ));
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
