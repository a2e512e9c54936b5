//! Index, deposed and module keys equal to a secret: found and masked everywhere.

use super::*;

/// Review finding: a secret used as a `for_each` key (or module instance key) became part of the
/// address and was printed in full in every format, in baselines and in scrub's secret names.
/// Such a key is now a finding of its own and shown masked everywhere.
#[test]
fn secret_index_and_module_keys_are_found_and_masked_everywhere() {
    let d = Dir::new();
    let t1 = plant(&format!("ghp_{}", random(ALNUM, 36)));
    let t2 = plant(&format!("ghp_{}", random(ALNUM, 36)));
    let t3 = plant(&format!("ghp_{}", random(ALNUM, 36)));
    let mut gh = resource(
        "managed",
        "github_actions_secret",
        "t",
        json!({"secret_name": "X", "plaintext_value": t1}),
        json!([[{"type": "get_attr", "value": "plaintext_value"}]]),
    );
    gh["instances"][0]["index_key"] = json!(t1);
    let mut ssm = resource(
        "managed",
        "aws_ssm_parameter",
        "m",
        json!({"name": "/app/x", "type": "String", "value": "eu-west-1"}),
        json!([]),
    );
    ssm["instances"][0]["index_key"] = json!(t2);
    let mut in_module = resource(
        "managed",
        "aws_ssm_parameter",
        "n",
        json!({"name": "/app/y", "type": "String", "value": "eu-west-1"}),
        json!([]),
    );
    in_module["module"] = json!(format!(
        "module.gh[{}]",
        serde_json::to_string(&t3).unwrap()
    ));
    let st = d.write("terraform.tfstate", state_v4(json!([gh, ssm, in_module])));
    let st = st.display().to_string();
    let plan = d.write(
        "plan.json",
        json!({"format_version": "1.2", "resource_changes": [{
            "address": format!("module.gh[{}].aws_ssm_parameter.n[{}]",
                serde_json::to_string(&t3).unwrap(), serde_json::to_string(&t2).unwrap()),
            "module_address": format!("module.gh[{}]", serde_json::to_string(&t3).unwrap()),
            "mode": "managed", "type": "aws_ssm_parameter", "name": "n", "index": t2,
            "change": {"actions": ["create"], "before": null,
                "after": {"name": "/app/y", "type": "String", "value": "eu-west-1"},
                "after_sensitive": {}}}]})
        .to_string(),
    );
    let plan = plan.display().to_string();
    let mut outputs = Vec::new();
    for format in ["text", "json", "sarif", "html"] {
        for input in [&st, &plan] {
            let r = audit(&[input, "--format", format, "--verbose"]);
            assert_eq!(r.code, 1, "{format}: findings expected");
            outputs.push(r.all());
        }
    }
    let bl = d.s("baseline.json");
    let r = audit(&[&st, &plan, "--write-baseline", &bl]);
    outputs.push(r.all());
    outputs.push(std::fs::read_to_string(&bl).unwrap());
    let r = audit(&[&st, "--format", "json"]);
    let found = findings(&r);
    // The SSM instance's only secret is its key; the module key is found too.
    let on = |addr_part: &str, path: &str| {
        found.iter().any(|f| {
            f["rule_id"] == "github-token"
                && f["address"].as_str().unwrap().contains(addr_part)
                && f["attribute_path"] == path
        })
    };
    assert!(on("aws_ssm_parameter.m[", "index_key"), "index key finding");
    assert!(on("aws_ssm_parameter.n", "module"), "module key finding");
    assert!(found
        .iter()
        .any(|f| f["address"] == "github_actions_secret.t[\"…(40 chars)\"]"));
    // scrub (dry run) prints addresses and secret names.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_state-scrubber"))
        .args([
            "scrub",
            &st,
            "--prefix",
            "p",
            "--name-template",
            "{prefix}/{module}/{resource}/{key}/{attribute}",
        ])
        .output()
        .unwrap();
    outputs.push(String::from_utf8_lossy(&o.stdout).into_owned());
    outputs.push(String::from_utf8_lossy(&o.stderr).into_owned());
    // The key is part of the address: scrub refuses the state (dry run too), never plans it.
    assert_eq!(o.status.code(), Some(2), "scrub dry run");
    let plan_text = String::from_utf8_lossy(&o.stdout);
    assert!(!plan_text.contains("JSON path /resources/1/instances/0/index_key"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("keyed by a secret value"));
    for c in [&t1, &t2, &t3] {
        for v in variants(c) {
            for (i, o) in outputs.iter().enumerate() {
                assert!(!o.contains(&v), "output {i} leaks a key fragment");
            }
        }
    }
}

/// Review finding: a `random_password` result used as a `for_each` key or a module key has no
/// token shape, so no content rule picked it and it was printed in every format and written to
/// the baseline, although the same value was reported secret elsewhere in the file.
#[test]
fn keys_equal_to_a_secret_found_elsewhere_in_the_file_are_masked_and_reported() {
    let d = Dir::new();
    let pw = random(ALNUM, 16);
    let key = serde_json::to_string(&pw).unwrap();
    let mut ssm = resource(
        "managed",
        "aws_ssm_parameter",
        "p",
        json!({"name": "/x", "type": "String", "value": "eu-west-1"}),
        json!([]),
    );
    ssm["instances"][0]["index_key"] = json!(pw);
    let mut db = resource(
        "managed",
        "aws_db_instance",
        "d",
        json!({"id": "db-1", "password": pw}),
        json!([]),
    );
    db["module"] = json!(format!("module.db[{key}]"));
    // The keyed resources come before the password in the file, as Terraform sorts them.
    let st = d.write(
        "terraform.tfstate",
        state_v4(json!([
            ssm,
            db,
            resource(
                "managed",
                "random_password",
                "pw",
                json!({"result": pw, "length": 16}),
                json!([[{"type": "get_attr", "value": "result"}]])
            ),
        ])),
    );
    let st = st.display().to_string();
    let plan = d.write(
        "plan.json",
        json!({"format_version": "1.2",
            "variables": {"pw": {"value": pw}},
            "configuration": {"root_module": {"variables": {"pw": {"sensitive": true}}}},
            "resource_changes": [{
                "address": format!("module.db[{key}].aws_ssm_parameter.p[{key}]"),
                "module_address": format!("module.db[{key}]"),
                "mode": "managed", "type": "aws_ssm_parameter", "name": "p", "index": pw,
                "change": {"actions": ["create"], "before": null,
                    "after": {"name": "/x", "type": "String", "value": "eu-west-1"},
                    "after_sensitive": {}}}]})
        .to_string(),
    );
    let plan = plan.display().to_string();
    let mut outputs = Vec::new();
    for format in ["text", "json", "sarif", "html"] {
        for input in [&st, &plan] {
            let r = audit(&[input, "--format", format, "--verbose"]);
            assert_eq!(
                r.code,
                1,
                "{format} {input}: findings expected\n{}",
                r.all()
            );
            outputs.push(r.all());
        }
    }
    let bl = d.s("baseline.json");
    let r = audit(&[&st, &plan, "--write-baseline", &bl]);
    outputs.push(r.all());
    outputs.push(std::fs::read_to_string(&bl).unwrap());
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_state-scrubber"))
        .args([
            "scrub",
            &st,
            "--prefix",
            "p",
            "--name-template",
            "{prefix}/{module}/{resource}/{key}/{attribute}",
        ])
        .output()
        .unwrap();
    outputs.push(String::from_utf8_lossy(&o.stdout).into_owned());
    outputs.push(String::from_utf8_lossy(&o.stderr).into_owned());
    for v in variants(&pw) {
        for (i, o) in outputs.iter().enumerate() {
            assert!(!o.contains(&v), "output {i} leaks a key fragment");
        }
    }
    // The keys themselves are findings, at their own nodes.
    for input in [&st, &plan] {
        let found = findings(&audit(&[input, "--format", "json"]));
        let at = |path: &str| {
            found
                .iter()
                .any(|f| f["rule_id"] == "same-value" && f["attribute_path"] == path)
        };
        assert!(
            at(if input == &st { "index_key" } else { "index" }),
            "{found:?}"
        );
        assert!(
            at(if input == &st {
                "module"
            } else {
                "module_address"
            }),
            "{found:?}"
        );
    }
}

/// Leak found with a real state: a secret used as a map key (`terraform_data` with
/// `input = { (var.token) = ... }`, or a token as a key of `triggers_replace`) was printed in
/// the `attribute_path` and `json_pointer` of every finding under it, in every format, in
/// baselines and in scrub's output, and was never reported itself. Such a key is now shown by
/// its length everywhere and, when a content rule matches it, is a finding of its own; scrub
/// leaves findings under it alone. Ordinary keys stay readable.
#[test]
fn secret_map_keys_are_found_and_masked_everywhere() {
    let d = Dir::new();
    let key_token = plant(&format!("ghp_{}", random(ALNUM, 36)));
    let under_token = plant(&format!("ghp_{}", random(ALNUM, 36)));
    // A random key no rule matches (a `random_password` result): shown masked, not reported.
    let classes = [
        "ABCDEFGHJKLMNPQRSTUVWXYZ",
        "abcdefghijkmnpqrstuvwxyz",
        "23456789",
    ];
    let random_key = plant(
        &(0..12)
            .map(|i| random(classes[i % 3], 1))
            .collect::<String>(),
    );
    let under_random = plant(&format!("ghp_{}", random(ALNUM, 36)));
    let under_name = plant(&format!("ghp_{}", random(ALNUM, 36)));
    let dynamic = |members: serde_json::Value| {
        let types: serde_json::Map<String, serde_json::Value> = members
            .as_object()
            .unwrap()
            .keys()
            .map(|k| (k.clone(), json!("string")))
            .collect();
        json!({"value": members, "type": ["object", types]})
    };
    let mut input = serde_json::Map::new();
    input.insert(random_key.clone(), json!(under_random));
    input.insert("user_name".into(), json!(under_name));
    let input = dynamic(serde_json::Value::Object(input.clone()));
    let mut triggers = serde_json::Map::new();
    triggers.insert(key_token.clone(), json!(under_token));
    let triggers = dynamic(serde_json::Value::Object(triggers));
    let st = d.write(
        "terraform.tfstate",
        state_v4(json!([resource(
            "managed",
            "terraform_data",
            "m",
            json!({"id": "x", "input": input, "output": input, "triggers_replace": triggers}),
            json!([[{"type": "get_attr", "value": "triggers_replace"}]]),
        )])),
    );
    let st = st.display().to_string();
    let mut outputs = Vec::new();
    for format in ["text", "json", "sarif", "html"] {
        let r = audit(&[&st, "--format", format, "--verbose"]);
        assert_eq!(r.code, 1, "{format}: findings expected");
        outputs.push(r.all());
    }
    let bl = d.s("baseline.json");
    let r = audit(&[&st, "--write-baseline", &bl]);
    outputs.push(r.all());
    outputs.push(std::fs::read_to_string(&bl).unwrap());
    let r = audit(&[&st, "--format", "json"]);
    let found = findings(&r);
    let ptrs: Vec<&str> = found
        .iter()
        .map(|f| f["json_pointer"].as_str().unwrap())
        .collect();
    // The token key itself, at its own place.
    assert!(
        found.iter().any(|f| f["rule_id"] == "github-token"
            && f["json_pointer"]
                == "/resources/0/instances/0/attributes/triggers_replace/value/…(40 chars)"
            && f["attribute_path"] == "triggers_replace.value[\"…(40 chars)\"]"
            && f["column"].as_u64().unwrap() > 0),
        "no finding for the key: {ptrs:?}"
    );
    // The values under secret keys are found, their paths masked; ordinary keys are readable.
    for p in [
        "/resources/0/instances/0/attributes/input/value/…(12 chars)",
        "/resources/0/instances/0/attributes/input/value/user_name",
    ] {
        assert!(ptrs.contains(&p), "no finding at {p}: {ptrs:?}");
    }
    // The key and the value under it are two findings with different fingerprints, stable
    // across runs.
    let again = findings(&audit(&[&st, "--format", "json"]));
    let fps = |fs: &[serde_json::Value]| {
        fs.iter()
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(fps(&found), fps(&again));
    let mut distinct = fps(&found);
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        found.len(),
        "fingerprints collide: {ptrs:?} {:?}",
        fps(&found)
    );
    // The baseline matches the findings it was written from.
    let r = audit(&[&st, "--baseline", &bl]);
    assert_eq!(r.code, 0, "baseline does not match");
    // scrub (dry run): nothing under a secret key is planned or named after it.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_state-scrubber"))
        .args([
            "scrub",
            &st,
            "--prefix",
            "p",
            "--name-template",
            "{prefix}/{resource}/{attribute}",
        ])
        .output()
        .unwrap();
    outputs.push(String::from_utf8_lossy(&o.stdout).into_owned());
    outputs.push(String::from_utf8_lossy(&o.stderr).into_owned());
    assert_eq!(o.status.code(), Some(0), "scrub dry run");
    let plan_text = String::from_utf8_lossy(&o.stdout);
    assert!(plan_text.contains("user_name"), "user_name not planned");
    assert!(plan_text.contains("left alone, a map key"), "no note");
    for c in [
        &key_token,
        &random_key,
        &under_token,
        &under_random,
        &under_name,
    ] {
        for v in variants(c) {
            for (i, o) in outputs.iter().enumerate() {
                assert!(!o.contains(&v), "output {i} leaks a key or value fragment");
            }
        }
    }
}

/// A random member name of `len` characters that is masked (letters of both cases and digits,
/// no plain name).
fn random_member(len: usize) -> String {
    let classes = [
        "ABCDEFGHJKLMNPQRSTUVWXYZ",
        "abcdefghijkmnpqrstuvwxyz",
        "23456789",
    ];
    (0..len).map(|i| random(classes[i % 3], 1)).collect()
}

/// Review finding: two secret-looking map keys of one length both showed as `["…(12 chars)"]`,
/// so their findings shared a fingerprint and a baseline accepting one accepted the other. The
/// second (in file order) now shows `["…(12 chars) #2"]`: distinct fingerprints, stable across
/// runs, still nothing of the keys.
#[test]
fn masked_map_keys_of_one_length_have_their_own_fingerprints() {
    let d = Dir::new();
    let mut keys = [plant(&random_member(12)), plant(&random_member(12))];
    keys.sort();
    let [k1, k2] = keys;
    let (t1, t2) = (
        plant(&format!("ghp_{}", random(ALNUM, 36))),
        plant(&format!("ghp_{}", random(ALNUM, 36))),
    );
    let state_with = |entries: &[(&String, &String)]| {
        let mut m = serde_json::Map::new();
        for (k, v) in entries {
            m.insert((*k).clone(), json!(v));
        }
        let types: serde_json::Map<String, serde_json::Value> =
            m.keys().map(|k| (k.clone(), json!("string"))).collect();
        state_v4(json!([resource(
            "managed",
            "terraform_data",
            "m",
            json!({"id": "x", "triggers_replace": {"value": m, "type": ["object", types]}}),
            json!([]),
        )]))
    };
    let one = d.write("terraform.tfstate", state_with(&[(&k1, &t1)]));
    let one = one.display().to_string();
    let bl = d.s("baseline.json");
    let mut outputs = vec![audit(&[&one, "--write-baseline", &bl]).all()];
    outputs.push(std::fs::read_to_string(&bl).unwrap());
    // The same file, with a second key.
    let two = d.write("terraform.tfstate", state_with(&[(&k1, &t1), (&k2, &t2)]));
    let two = two.display().to_string();
    let r = audit(&[&two, "--format", "json"]);
    outputs.push(r.all());
    let found = findings(&r);
    let paths = columns(&found, ["attribute_path"]);
    assert_eq!(
        paths,
        vec![
            ["triggers_replace.value[\"…(12 chars)\"]".to_string()],
            ["triggers_replace.value[\"…(12 chars) #2\"]".to_string()],
        ]
    );
    let fps = |fs: &[serde_json::Value]| {
        fs.iter()
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_ne!(fps(&found)[0], fps(&found)[1], "fingerprints collide");
    assert_eq!(
        fps(&found),
        fps(&findings(&audit(&[&two, "--format", "json"])))
    );
    // The baseline of the file with the first key accepts its finding, not the second key's.
    let r = audit(&[&two, "--baseline", &bl, "--format", "json"]);
    outputs.push(r.all());
    assert_eq!(r.code, 1, "the second key's finding is new");
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["summary"]["accepted_by_baseline"], 1);
    assert_eq!(report["summary"]["failing"], 1);
    for c in [&k1, &k2, &t1, &t2] {
        for v in variants(c) {
            for (i, o) in outputs.iter().enumerate() {
                assert!(!o.contains(&v), "output {i} leaks a key or value fragment");
            }
        }
    }
}

/// Review finding: a token as a map key was found in a state's values but not in a legacy
/// flatmap (`triggers.<key>` in a v3 state's `primary.attributes` or a v4 `attributes_flat`),
/// nor in a plan's `after_unknown`, where Terraform names an element whose value is unknown (it
/// leaves it out of `after`). A key also in `after` is reported there only.
#[test]
fn token_keys_in_flatmaps_and_after_unknown_are_found() {
    let d = Dir::new();
    let tok = || plant(&format!("ghp_{}", random(ALNUM, 36)));
    let (in_v3, in_flat, only_unknown, in_both) = (tok(), tok(), tok(), tok());
    let v3 = d.write(
        "v3.tfstate",
        json!({"version": 3, "terraform_version": "0.11.14", "serial": 1, "lineage": "l",
            "modules": [{"path": ["root"], "outputs": {}, "depends_on": [], "resources": {
                "null_resource.a": {"type": "null_resource", "depends_on": [], "deposed": [],
                    "provider": "provider.null",
                    "primary": {"id": "1", "meta": {}, "tainted": false, "attributes": {
                        "id": "1", "triggers.%": "1", format!("triggers.{in_v3}"): "plain"}}}}}]})
        .to_string(),
    );
    let v4 = d.write(
        "flat.tfstate",
        json!({"version": 4, "terraform_version": "0.12.31", "serial": 1, "lineage": "l",
            "outputs": {}, "resources": [{"mode": "managed", "type": "null_resource", "name": "b",
                "provider": "provider.null", "instances": [{"schema_version": 0,
                    "attributes_flat": {"id": "1", "triggers.%": "1",
                        format!("triggers.{in_flat}"): "plain"}}]}]})
        .to_string(),
    );
    let plan = d.write(
        "plan.json",
        json!({"format_version": "1.2", "terraform_version": "1.9.5", "resource_changes": [{
            "address": "terraform_data.m", "mode": "managed", "type": "terraform_data",
            "name": "m", "provider_name": "terraform.io/builtin/terraform",
            "change": {"actions": ["create"], "before": null,
                "after": {"input": {in_both.clone(): null}, "triggers_replace": {}},
                "after_unknown": {"id": true, "input": {in_both.clone(): true},
                    "triggers_replace": {only_unknown.clone(): true}},
                "before_sensitive": false, "after_sensitive": {}}}]})
        .to_string(),
    );
    let mut outputs = Vec::new();
    for (file, want) in [
        (&v3, vec![["resources", "triggers[\"…(40 chars)\"]"]]),
        (&v4, vec![["resources", "triggers[\"…(40 chars)\"]"]]),
        (
            &plan,
            vec![
                ["resource_changes.after", "input[\"…(40 chars)\"]"],
                [
                    "resource_changes.after_unknown",
                    "triggers_replace[\"…(40 chars)\"]",
                ],
            ],
        ),
    ] {
        let file = file.display().to_string();
        let r = audit(&[&file, "--format", "json"]);
        outputs.push(r.all());
        let found = findings(&r);
        assert!(
            found.iter().all(|f| f["rule_id"] == "github-token"),
            "{file}: another rule"
        );
        let got = columns(&found, ["section", "attribute_path"]);
        let want: Vec<[String; 2]> = want
            .into_iter()
            .map(|[a, b]| [a.to_string(), b.to_string()])
            .collect();
        assert_eq!(got, want, "{file}");
        outputs.push(audit(&[&file]).all());
    }
    for c in [&in_v3, &in_flat, &only_unknown, &in_both] {
        for v in variants(c) {
            for (i, o) in outputs.iter().enumerate() {
                assert!(!o.contains(&v), "output {i} leaks a key fragment");
            }
        }
    }
}

/// A short secret (a 6-character password) used as a member name in a value (`{(var.pw) = ...}`)
/// was shown whole in the finding's attribute path and pointer: the scan masks names that look
/// random or that a content rule matches, 12 characters or more. A name equal to a value found
/// secret in the file is masked however short, both as an identifier step and a quoted one, in
/// every format.
#[test]
fn a_short_secret_used_as_a_member_name_is_masked() {
    let d = Dir::new();
    let p1 = format!("k{}", random(ALNUM, 5));
    let p2 = format!("x#{}", random(ALNUM, 4));
    let db = |name: &str, pw: &str| {
        resource(
            "managed",
            "aws_db_instance",
            name,
            json!({"id": format!("db-{name}"), "password": pw, "username": "app"}),
            json!([[{"type": "get_attr", "value": "password"}]]),
        )
    };
    let mut state: Value =
        serde_json::from_str(&state_v4(json!([db("a", &p1), db("b", &p2)]))).unwrap();
    state["outputs"] = json!({"roles": {"sensitive": true, "type": ["map", "string"],
        "value": {p1.clone(): random(ALNUM, 16), p2.clone(): random(ALNUM, 16)}}});
    d.write("s/terraform.tfstate", state.to_string());
    let r = audit(&[&d.s("s/terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut got: Vec<[String; 2]> = columns(&findings(&r), ["attribute_path", "json_pointer"])
        .into_iter()
        .filter(|[_, p]| p.starts_with("/outputs/"))
        .collect();
    got.sort();
    let want = [
        ["[\"…(6 chars) #2\"]", "/outputs/roles/value/…(6 chars) #2"],
        ["[\"…(6 chars)\"]", "/outputs/roles/value/…(6 chars)"],
    ]
    .map(|r| r.map(String::from));
    // Not assert_eq: the paths would show the names (the secrets) when not masked.
    assert!(got == want, "member names not masked as expected");
    for format in ["text", "json", "sarif", "html"] {
        let r = audit(&[&d.s("s/terraform.tfstate"), "--format", format, "--verbose"]);
        for s in [&p1, &p2] {
            assert!(
                !r.all().contains(s.as_str()),
                "{format} output shows a short secret"
            );
        }
    }
}

/// Follows the test above: a member name in JSON held in a string (a finding's
/// `inner_pointer`, `/0/dockerLabels/NAME` in a task definition's `container_definitions`) was
/// shown whole in every format, a short name equal to a value found secret and a token alike
/// (the scan masked only the pointer and attribute path). Both are masked there too.
#[test]
fn a_secret_member_name_in_json_in_a_string_is_masked() {
    let d = Dir::new();
    let short = plant(&format!("k#{}", random(ALNUM, 6)));
    let tok = plant(&format!("gh{}_{}", "p", random(ALNUM, 36)));
    let other = plant(&format!("gh{}_{}", "p", random(ALNUM, 36)));
    let defs = json!([{"name": "app", "dockerLabels": {short.clone(): other, tok.clone(): "x"}}]);
    let state = state_v4(json!([
        resource(
            "managed",
            "aws_db_instance",
            "a",
            json!({"id": "db-a", "password": short, "username": "app"}),
            json!([[{"type": "get_attr", "value": "password"}]]),
        ),
        resource(
            "managed",
            "aws_ecs_task_definition",
            "t",
            json!({"id": "app", "family": "app", "container_definitions": defs.to_string()}),
            json!([]),
        ),
    ]));
    d.write("s/terraform.tfstate", state);
    let r = audit(&[&d.s("s/terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let inner: Vec<String> = findings(&r)
        .iter()
        .filter_map(|f| f["inner_pointer"].as_str().map(String::from))
        .collect();
    assert!(
        inner.iter().any(|p| p == "/0/dockerLabels/…(8 chars)"),
        "the short name's finding"
    );
    for format in ["text", "json", "sarif", "html"] {
        let r = audit(&[&d.s("s/terraform.tfstate"), "--format", format, "--verbose"]);
        assert!(
            !r.all().contains(&short) && !r.all().contains(&tok),
            "{format} output shows a member name that is a secret"
        );
    }
}
