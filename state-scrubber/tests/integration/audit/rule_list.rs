//! `state-scrubber rules`: the rule ids findings carry.

use super::*;

fn rules(args: &[&str]) -> Run {
    done(
        bin()
            .arg("rules")
            .args(args)
            .output()
            .expect("run state-scrubber"),
    )
}

/// Every rule id an audit reports is one `rules` lists: a state with a finding from each layer
/// (a mark, an attribute, a content rule, a key rule, the same value again).
#[test]
fn every_rule_id_an_audit_reports_is_listed() {
    let d = Dir::new();
    let password = pw();
    let token = expand("gh{{}}p_{{r:alnum:36}}");
    let st = d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource(
                "managed",
                "aws_db_instance",
                "main",
                json!({"id": "db-1", "password": password, "tags": {"copy": password}}),
                json!([[ga("password")]])
            ),
            resource(
                "managed",
                "aws_lambda_function",
                "f",
                json!({"id": "f", "environment": [{"variables": {
                    "GH": token, "SERVICE_PASSWORD": plant(&format!("{}{}", random(ALNUM, 14), "x9!Q"))}}]}),
                json!([])
            ),
            resource(
                "managed",
                "null_resource",
                "n",
                json!({"id": "1", "triggers": {"v": random(ALNUM, 24)}}),
                json!([[ga("triggers"), {"type": "index", "value": {"value": "v", "type": "string"}}]])
            ),
        ])),
    );
    let r = audit(&[&st.display().to_string(), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let reported: std::collections::BTreeSet<String> = findings(&r)
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect();
    let list = rules(&["--format", "json"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let listed: std::collections::BTreeSet<String> = list.json()["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let families: std::collections::BTreeSet<&str> =
        ["mark.", "attr.", "github-token", "key-", "same-value"]
            .into_iter()
            .filter(|p| reported.iter().any(|id| id.starts_with(p)))
            .collect();
    assert_eq!(
        families.len(),
        5,
        "the state should give every layer: {reported:?}"
    );
    for id in &reported {
        assert!(listed.contains(id), "{id} is reported but not listed");
    }
}

/// With a configuration: its rules and allow entries are listed after it is checked; a bad one is
/// exit 2 naming the entry, and no example is ever printed.
#[test]
fn rules_lists_and_checks_a_configuration() {
    let d = Dir::new();
    let example = plant(&format!(
        "acme_{}",
        random("abcdefghijklmnopqrstuvwxyz0123456789", 16)
    ));
    let good = d.write(
        "good.toml",
        format!(
            "[[rule]]\nid = \"acme-token\"\nname = \"ACME token\"\nkind = \"token\"\n\
             severity = \"high\"\nkeywords = [\"acme_\"]\nregex = 'acme_[a-z0-9]{{16}}'\n\
             examples = [\"{example}\"]\n\n[[allow]]\nreason = \"fixtures\"\nfiles = [\"fixtures/*\"]\n"
        ),
    );
    let r = rules(&["--config", &good.display().to_string()]);
    // First, so that no message below can print it.
    assert!(!r.all().contains(&example), "the example was printed");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("acme-token"), "{}", r.stdout);
    assert!(
        r.stdout.contains("1. files = fixtures/*: fixtures"),
        "{}",
        r.stdout
    );
    let listed = rules(&["--config", &good.display().to_string(), "--format", "json"]);
    assert!(!listed.all().contains(&example), "the example was listed");
    let j = listed.json();
    assert_eq!(
        j["allow"],
        json!([{"reason": "fixtures", "files": ["fixtures/*"]}])
    );
    let acme = j["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "acme-token")
        .unwrap()
        .clone();
    assert_eq!(acme["config"], good.display().to_string());

    let bad = d.write(
        "bad.toml",
        format!(
            "[[rule]]\nid = \"acme-token\"\nname = \"ACME\"\nkind = \"token\"\nseverity = \"high\"\n\
             keywords = [\"acme_\"]\nregex = 'acme_[A-Z]{{16}}'\nexamples = [\"{example}\"]\n"
        ),
    );
    let r = rules(&["--config", &bad.display().to_string()]);
    assert!(!r.all().contains(&example), "the example was printed");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("rule acme-token: example 1 is not found"),
        "{}",
        r.stderr
    );
}

/// `rules | head -1`: the reader stopped reading, and the list is all `rules` does: exit 0 and
/// no message, as ripgrep. Before: exit 2, 'error: writing the list: Broken pipe'. Stdout is a
/// pipe whose read end is closed before the run, so every write fails.
#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_the_list_quietly() {
    for args in [&[][..], &["--format", "json"][..]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let r = done(
            bin()
                .arg("rules")
                .args(args)
                .stdout(writer)
                .stderr(std::process::Stdio::piped())
                .output()
                .expect("run state-scrubber"),
        );
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr, "", "{args:?}");
    }
}
