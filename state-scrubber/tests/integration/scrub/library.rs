//! The library over the canary state and every state of the audit corpus: round trips, selection, dynamic values.

use super::*;

// ---- library: canary state -------------------------------------------------------------------

#[test]
fn twins_become_null_others_references_and_restore_round_trips() {
    let c = canary();
    let src = canary_state(&c);
    let store = MemoryStore::default();
    rt().block_on(async {
        let r = scrub_write(src.as_bytes(), "s.tfstate", &store).await.unwrap();
        let out = r.output.as_ref().unwrap();
        assert_no_canary(&c, "scrubbed state", out);
        assert_no_canary(&c, "scrub report", scrub::render(&r).as_bytes());
        let v = json(out);
        assert_eq!(v["serial"], 4);
        assert_eq!(v["lineage"], "6b0e2b9c-0000-4000-8000-00000000c4a1");
        let a = &v["resources"][0]["instances"][0]["attributes"];
        assert!(a["password"].is_null());
        assert_eq!(a["password_wo_version"], 1);
        // No twin key in this provider's state: a reference, not null.
        let old = v["resources"][1]["instances"][0]["attributes"]["password"]
            .as_str()
            .unwrap();
        assert!(
            old.starts_with("ref+awssecrets://test/app/module.legacy@eu/aws_db_instance.old@0/password?version_id="),
            "{old}"
        );
        assert!(v["resources"][2]["instances"][0]["attributes"]["secret_string"].is_null());
        assert!(v["outputs"]["db_password"]["value"]
            .as_str()
            .unwrap()
            .starts_with("ref+awssecrets://test/app/output.db_password?version_id="));
        // Layout kept: only the changed values and the serial differ, line for line.
        let before: Vec<&str> = src.lines().collect();
        let after_s = String::from_utf8(out.clone()).unwrap();
        let after: Vec<&str> = after_s.lines().collect();
        assert_eq!(before.len(), after.len());
        let changed = before.iter().zip(&after).filter(|(a, b)| a != b).count();
        assert_eq!(changed, 1 + 4 + 2, "serial, four values, two version triggers");

        // Tags and read back.
        let meta = store
            .describe("test/app/aws_db_instance.main/password")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            meta.tags.get("offstate:state-lineage").map(String::as_str),
            Some("6b0e2b9c-0000-4000-8000-00000000c4a1")
        );
        assert_eq!(
            meta.tags.get("offstate:address").map(String::as_str),
            Some("aws_db_instance.main")
        );
        let got = store
            .get_value(
                "test/app/aws_db_instance.main/password",
                VersionSelector::Current,
            )
            .await
            .unwrap();
        assert!(got.value.expose_str().unwrap() == c);

        // A second run on the same input writes nothing new and gives the same bytes.
        let puts = store.call_count("put_value") + store.call_count("create");
        let again = scrub_write(src.as_bytes(), "s.tfstate", &store).await.unwrap();
        assert!(again.stored.iter().all(|s| *s == Stored::Unchanged));
        assert_eq!(again.output.as_ref().unwrap(), out);
        assert_eq!(
            store.call_count("put_value") + store.call_count("create"),
            puts
        );

        // Restore.
        let back = restore::restore(out, "s.tfstate", "test/app", &store, true)
            .await
            .unwrap();
        assert_no_canary(&c, "restore report", restore::render(&back).as_bytes());
        let mut want = json(src.as_bytes());
        want["serial"] = json!(5);
        assert_eq!(json(back.output.as_ref().unwrap()), want);
    });
}

/// Review finding: `scrub --write` rewrote a resource's `id` (an access key ID caught by the
/// content rule; a `random_string` id equal to its `result`), and the provider then reads the
/// resource by a reference, finds nothing and drops it from state. Identity is never planned.
#[test]
fn identity_attributes_are_never_planned() {
    let key_id = format!("AKIA{}", "QWERTYUIOPASDFGH");
    let secret = crate::util::plant(&format!("{}/{}", canary(), canary()));
    let word = canary();
    let doc = json!({
        "version": 4, "terraform_version": "1.15.0", "serial": 3,
        "lineage": "6b0e2b9c-0000-4000-8000-00000000c4a2", "outputs": {},
        "resources": [
            {"mode": "managed", "type": "aws_iam_access_key", "name": "ci",
             "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 0, "attributes": {
                 "id": key_id, "user": "ci", "secret": secret, "status": "Active"},
                 "sensitive_attributes": [[{"type": "get_attr", "value": "secret"}]]}]},
            {"mode": "managed", "type": "random_string", "name": "s",
             "provider": "provider[\"registry.terraform.io/hashicorp/random\"]",
             "instances": [{"schema_version": 2, "attributes": {
                 "id": word, "result": word, "length": 26, "special": false},
                 "sensitive_attributes": [[{"type": "get_attr", "value": "result"}]]}]}
        ],
        "check_results": null
    });
    let src = serde_json::to_string_pretty(&doc).unwrap();
    // The audit does not call an access key's ID a credential; the secret it is.
    let engine = state_scrubber::detect::Engine::new().unwrap();
    let scanned = state_scrubber::document::Scanner::new(
        &engine,
        state_scrubber::finding::DEFAULT_FINGERPRINT_KEY,
        "t.tfstate".into(),
    )
    .scan(src.as_bytes())
    .unwrap();
    assert!(!scanned
        .findings
        .iter()
        .any(|f| f.address == "aws_iam_access_key.ci" && f.attribute_path == "id"));
    assert!(scanned
        .findings
        .iter()
        .any(|f| f.address == "aws_iam_access_key.ci" && f.attribute_path == "secret"));

    let store = MemoryStore::default();
    let report = rt()
        .block_on(scrub_write(src.as_bytes(), "t.tfstate", &store))
        .unwrap();
    let pointers: Vec<&str> = report.items.iter().map(|i| i.pointer.as_str()).collect();
    assert!(
        pointers.contains(&"/resources/0/instances/0/attributes/secret"),
        "{pointers:?}"
    );
    assert!(
        pointers.contains(&"/resources/1/instances/0/attributes/result"),
        "{pointers:?}"
    );
    assert!(
        !pointers.iter().any(|p| p.ends_with("/attributes/id")),
        "{pointers:?}"
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.starts_with("random_string.s id:")),
        "{:?}",
        report.notes
    );
    let out: Value = json(report.output.as_deref().unwrap());
    assert_eq!(
        out["resources"][0]["instances"][0]["attributes"]["id"],
        key_id
    );
    assert_eq!(
        out["resources"][1]["instances"][0]["attributes"]["id"],
        word
    );
}

/// `scrub --write` rewrote a database's `identifier` (and a cluster's `cluster_identifier`)
/// equal to its own password to a reference: audit reports that copy at low severity, because
/// the provider finds the database by it, and scrub took it with the rest; the next plan then
/// replaces the database (`identifier` forces a new resource). It is left alone now, with a
/// note, as `id` is; the password itself is scrubbed.
#[test]
fn identifiers_are_never_planned() {
    let c = canary();
    let doc = json!({
        "version": 4, "terraform_version": "1.15.0", "serial": 3,
        "lineage": "6b0e2b9c-0000-4000-8000-00000000c4a3", "outputs": {},
        "resources": [
            {"mode": "managed", "type": "aws_db_instance", "name": "main",
             "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 2, "attributes": {
                 "id": "db-ABCDEFGHIJ", "identifier": c, "username": "app", "password": c,
                 "password_wo": null, "password_wo_version": null},
                 "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]]}]},
            {"mode": "managed", "type": "aws_rds_cluster", "name": "c",
             "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 0, "attributes": {
                 "id": "cluster-1", "cluster_identifier": format!("{c}x"),
                 "master_password": format!("{c}x")},
                 "sensitive_attributes": [[{"type": "get_attr", "value": "master_password"}]]}]}
        ],
        "check_results": null
    });
    let src = serde_json::to_string_pretty(&doc).unwrap();
    let store = MemoryStore::default();
    let report = rt()
        .block_on(scrub_write(src.as_bytes(), "t.tfstate", &store))
        .unwrap();
    let pointers: Vec<&str> = report.items.iter().map(|i| i.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/resources/0/instances/0/attributes/password",
            "/resources/1/instances/0/attributes/master_password"
        ]
    );
    for at in [
        "aws_db_instance.main identifier: left alone, the name the provider finds the resource by",
        "aws_rds_cluster.c cluster_identifier: left alone, the name the provider finds the resource by",
    ] {
        assert!(
            report.notes.iter().any(|n| n.starts_with(at)),
            "{at}: {:?}",
            report.notes
        );
    }
    assert_no_canary(&c, "the report", scrub::render(&report).as_bytes());
    let out: Value = json(report.output.as_deref().unwrap());
    let attrs = |r: usize| &out["resources"][r]["instances"][0]["attributes"];
    assert!(attrs(0)["identifier"] == json!(c), "identifier rewritten");
    assert!(
        attrs(1)["cluster_identifier"] == json!(format!("{c}x")),
        "cluster_identifier rewritten"
    );
    assert_eq!(attrs(0)["password"], Value::Null);
}

/// A state whose `serial` is u64::MAX was scrubbed to serial 0 (`serial + 1` wrapped in the
/// release build), its manifest entries naming serial 0: a state older than every other of its
/// lineage, which `terraform state push` refuses to write over the newer one. Refused now before
/// anything is stored, as is a serial JSON does not allow (`07`, which got as far as the
/// rewrite's check and was called an internal error); restore likewise.
/// The errors scrub and then restore (dry run) give for `src`, a state both must refuse: scrub
/// stores nothing, and neither error shows the canary `c`. `case` names the input in messages.
fn refused_by_scrub_and_restore(c: &str, src: &str, case: &str) -> (String, String) {
    let store = MemoryStore::default();
    let scrubbed = rt()
        .block_on(scrub_write(src.as_bytes(), "s.tfstate", &store))
        .unwrap_err()
        .to_string();
    assert_no_canary(c, "the scrub error", scrubbed.as_bytes());
    assert_eq!(
        store.call_count("create") + store.call_count("put_value"),
        0,
        "{case}: stored"
    );
    let restored = rt()
        .block_on(restore::restore(
            src.as_bytes(),
            "s.tfstate",
            "test/app",
            &store,
            true,
        ))
        .unwrap_err()
        .to_string();
    assert_no_canary(c, "the restore error", restored.as_bytes());
    (scrubbed, restored)
}

#[test]
fn a_serial_at_its_maximum_or_not_json_is_refused_before_anything_is_stored() {
    let c = canary();
    for (serial, says) in [
        (u64::MAX.to_string(), "the largest Terraform's state takes"),
        ("07".to_string(), "not a non-negative integer"),
        ("\"3\"".to_string(), "not a non-negative integer"),
    ] {
        let src = canary_state(&c).replace("\"serial\": 3", &format!("\"serial\": {serial}"));
        assert_ne!(src, canary_state(&c));
        let (e, restored) = refused_by_scrub_and_restore(&c, &src, &serial);
        assert!(e.contains(says), "{serial}: {e}");
        assert!(
            e.starts_with("s.tfstate: at JSON path `/serial`: "),
            "{serial}: names the file and the JSON path: {e}"
        );
        assert!(restored.contains(says), "restore, {serial}: {restored}");
        assert!(
            restored.starts_with("s.tfstate: at JSON path `/serial`: "),
            "restore, {serial}: names the file and the JSON path: {restored}"
        );
    }
}

/// A `lineage` that is there but not a string was refused with "the state has no `lineage`",
/// which sends the user looking for a missing member. It names the JSON path and what is
/// there now, for scrub and restore; a missing or empty lineage keeps the NoLineage advice.
#[test]
fn a_lineage_that_is_not_a_string_is_named_by_its_json_path() {
    let c = canary();
    let lineage = "\"lineage\": \"6b0e2b9c-0000-4000-8000-00000000c4a1\"";
    for (value, says) in [
        ("42", "`lineage` is a number, not a string"),
        ("null", "`lineage` is null, not a string"),
        ("[\"6b0e2b9c\"]", "`lineage` is an array, not a string"),
        ("{}", "`lineage` is an object, not a string"),
        ("true", "`lineage` is a boolean, not a string"),
    ] {
        let src = canary_state(&c).replace(lineage, &format!("\"lineage\": {value}"));
        assert_ne!(src, canary_state(&c));
        let (e, restored) = refused_by_scrub_and_restore(&c, &src, value);
        assert!(
            e.starts_with(&format!("s.tfstate: at JSON path `/lineage`: {says}")),
            "{value}: {e}"
        );
        assert!(!e.contains("has no `lineage`"), "{value}: {e}");
        assert!(
            restored.starts_with(&format!("s.tfstate: at JSON path `/lineage`: {says}")),
            "restore, {value}: {restored}"
        );
    }
    // Missing and empty: still the advice on giving the state a lineage.
    for src in [
        canary_state(&c).replace(&format!("{lineage},"), ""),
        canary_state(&c).replace(lineage, "\"lineage\": \"\""),
    ] {
        assert_ne!(src, canary_state(&c));
        let e = rt()
            .block_on(scrub_write(
                src.as_bytes(),
                "s.tfstate",
                &MemoryStore::default(),
            ))
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no `lineage`"), "{e}");
    }
}

/// A report's `Debug` (what a test's `unwrap_err()` prints on a run that succeeded, or any
/// `{:?}`) printed the state it wrote byte for byte: a scrub's holds the values it left in place
/// (here every one but the selected output), a restore's holds them all; and an instance's
/// locator printed its index key and module path as written, which may be the secret. They are
/// shown by their length now.
#[test]
fn reports_debug_without_the_state_or_a_key() {
    let c = canary();
    // The module key is the secret itself (a module per token, `for_each = toset([var.token])`):
    // the report shows it masked.
    let key = c.clone();
    let src = canary_state(&c).replace(
        "module.legacy[\\\"eu\\\"]",
        &format!("module.legacy[\\\"{key}\\\"]"),
    );
    assert_ne!(src, canary_state(&c));
    let store = MemoryStore::default();
    rt().block_on(async {
        let mut opts = ScrubOptions::new("test/app");
        opts.write = true;
        opts.selection.only = vec!["output.db_password".into()];
        let report = scrub::scrub(src.as_bytes(), "s.tfstate", &opts, Some(&store))
            .await
            .unwrap();
        let out = report.output.clone().unwrap();
        assert_no_canary(&c, "the report's Debug", format!("{report:?}").as_bytes());
        // Everything selected this time, the key's module included: refused before anything
        // is stored (the key is part of the address), the key masked in the error.
        let e = scrub_write(src.as_bytes(), "s.tfstate", &store)
            .await
            .unwrap_err();
        assert_no_canary(&key, "the refusal", e.to_string().as_bytes());
        assert_no_canary(&key, "the refusal's Debug", format!("{e:?}").as_bytes());
        assert!(e.to_string().contains("keyed by a secret value"));
        // A locator of such an instance (one made by hand) shows the key by its length.
        let l = scrub::plan::Locator {
            module: format!("module.legacy[\"{key}\"]"),
            mode: "managed".into(),
            resource_type: "aws_db_instance".into(),
            name: "old".into(),
            index_key: Some(serde_json::to_string(&key).unwrap()),
            deposed: None,
            rel: "/attributes/password".into(),
        };
        assert_no_canary(&key, "a locator's Debug", format!("{l:?}").as_bytes());
        let back = restore::restore(&out, "s.tfstate", "test/app", &store, true)
            .await
            .unwrap();
        assert_no_canary(
            &c,
            "the restore report's Debug",
            format!("{back:?}").as_bytes(),
        );
        // The states themselves are what they must be.
        assert!(String::from_utf8_lossy(&out).contains(&c));
        assert!(String::from_utf8_lossy(back.output.as_deref().unwrap()).contains(&c));
    });
}

/// Review finding: `scrub --write` on a symlinked state renamed the new state over the link,
/// leaving the plaintext target (the file other links and workspaces use) as it was.
#[cfg(unix)]
#[test]
fn writing_through_a_symlink_replaces_the_target_and_keeps_the_link() {
    use state_scrubber::scrub::rewrite::write_atomically;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let target = real.join("shared.tfstate");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("terraform.tfstate");
    std::os::unix::fs::symlink("real/shared.tfstate", &link).unwrap();
    write_atomically(&link, b"new").unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    // The temporary file went next to the target and is gone.
    let stray = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .count()
    };
    assert_eq!(stray(dir.path()) + stray(&real), 0);
    // A dangling link is an error, and nothing is created.
    let dangling = dir.path().join("dangling.tfstate");
    std::os::unix::fs::symlink("missing/x.tfstate", &dangling).unwrap();
    assert!(write_atomically(&dangling, b"new").is_err());
    assert!(std::fs::symlink_metadata(&dangling)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn restore_finds_instances_that_moved() {
    let c = canary();
    let src = canary_state(&c);
    let store = MemoryStore::default();
    rt().block_on(async {
        let r = scrub_write(src.as_bytes(), "s.tfstate", &store)
            .await
            .unwrap();
        let mut v = json(r.output.as_ref().unwrap());
        // Terraform re-sorted resources (for example after adding one before them).
        v["resources"].as_array_mut().unwrap().reverse();
        let moved = serde_json::to_vec_pretty(&v).unwrap();
        let back = restore::restore(&moved, "s.tfstate", "test/app", &store, true)
            .await
            .unwrap();
        let mut want = json(src.as_bytes());
        want["resources"].as_array_mut().unwrap().reverse();
        want["serial"] = json!(5);
        assert_eq!(json(back.output.as_ref().unwrap()), want);
    });
}

/// Review finding: in one map, the key `"b.c"` and `b = { c = ... }` were both named
/// `.../data.b.c`: scrub stopped ("secret name ... is also made for ..."), and a scrub of one
/// (`--only`) then of the other put both values in one secret. Each now has a name of its own,
/// and restore puts each value back where it was.
#[test]
fn a_dotted_map_key_and_a_nested_key_get_two_secrets() {
    let (c1, c2) = (canary(), canary());
    let doc = json!({"version": 4, "terraform_version": "1.15.0", "serial": 1,
        "lineage": "6b0e2b9c-0000-4000-8000-0000000d07c1", "outputs": {},
        "resources": [{"mode": "managed", "type": "kubernetes_secret", "name": "app",
            "provider": "provider[\"registry.terraform.io/hashicorp/kubernetes\"]",
            "instances": [{"schema_version": 0, "attributes": {
                "id": "default/app", "data": {"b.c": c1, "b": {"c": c2}}},
                "sensitive_attributes": [[{"type": "get_attr", "value": "data"}]]}]}],
        "check_results": null});
    let src = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let store = MemoryStore::default();
    rt().block_on(async {
        let r = scrub_write(src.as_bytes(), "s.tfstate", &store)
            .await
            .map_err(|e| e.to_string())
            .unwrap();
        let mut names: Vec<&str> = r.items.iter().map(|i| i.secret_name.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "test/app/kubernetes_secret.app/data.b.c",
                "test/app/kubernetes_secret.app/data.b=2Ec",
            ]
        );
        let out = r.output.as_ref().unwrap();
        assert_no_canary(&c1, "scrubbed state", out);
        assert_no_canary(&c2, "scrubbed state", out);
        for (name, want) in [
            ("test/app/kubernetes_secret.app/data.b=2Ec", &c1),
            ("test/app/kubernetes_secret.app/data.b.c", &c2),
        ] {
            let got = store
                .get_value(name, VersionSelector::Current)
                .await
                .unwrap();
            assert!(
                got.value.expose_str().unwrap() == want.as_str(),
                "{name} holds another value"
            );
        }
        let back = restore::restore(out, "s.tfstate", "test/app", &store, true)
            .await
            .unwrap();
        let mut want = json(src.as_bytes());
        want["serial"] = json!(3);
        assert!(
            json(back.output.as_ref().unwrap()) == want,
            "restore gives another state"
        );
    });
}

/// Review finding: restore resolved every `ref+awssecrets://PREFIX/...` string in the state,
/// a reference of the user's own under the prefix included, putting that secret's value in
/// plaintext where the user had kept a reference. Restore now puts back what scrub wrote only:
/// the references the manifest holds, or, with the manifest lost, those whose secret scrub
/// made for this state (its tags); the others stay, with a warning.
#[test]
fn restore_leaves_references_scrub_did_not_write() {
    let c = canary();
    let src = canary_state(&c);
    let store = MemoryStore::default();
    rt().block_on(async {
        let r = scrub_write(src.as_bytes(), "s.tfstate", &store)
            .await
            .unwrap();
        // The user's own secret under the prefix, and a reference to it in the state.
        let mine = canary();
        store
            .create(CreateSecret {
                name: "test/app/users/mine".into(),
                value: Some(SecretValue::from_string(mine.clone())),
                ..Default::default()
            })
            .await
            .unwrap();
        let own_ref = "ref+awssecrets://test/app/users/mine";
        let mut v = json(r.output.as_ref().unwrap());
        v["resources"][0]["instances"][0]["attributes"]["username"] = json!(own_ref);
        v["outputs"]["mine"] = json!({"value": own_ref, "type": "string"});
        let scrubbed = serde_json::to_vec_pretty(&v).unwrap();

        let check = |back: &restore::RestoreReport, what: &str| {
            let out = back.output.as_ref().unwrap();
            assert_no_canary(&mine, what, out);
            let got = json(out);
            assert_eq!(
                got["resources"][0]["instances"][0]["attributes"]["username"],
                own_ref
            );
            assert_eq!(got["outputs"]["mine"]["value"], own_ref);
            let mut want = json(src.as_bytes());
            want["resources"][0]["instances"][0]["attributes"]["username"] = json!(own_ref);
            want["outputs"]["mine"] = json!({"value": own_ref, "type": "string"});
            want["serial"] = got["serial"].clone();
            assert!(got == want, "{what}: scrub's values are not all back");
            assert_eq!(
                back.skipped
                    .iter()
                    .filter(|w| w.contains("scrub did not write"))
                    .count(),
                2,
                "{what}: {:?}",
                back.skipped
            );
        };
        let back = restore::restore(&scrubbed, "s.tfstate", "test/app", &store, true)
            .await
            .unwrap();
        check(&back, "restore");

        // The manifest lost: scrub's references are told by their secrets' tags.
        let manifest =
            scrub::store::manifest_name("test/app", "6b0e2b9c-0000-4000-8000-00000000c4a1");
        store.delete(&manifest, Deletion::Immediate).await.unwrap();
        // Without the manifest, attributes nulled for their twin cannot come back: the state
        // holds only the references (and the user's).
        let mut plain = json(src.as_bytes());
        let old = "/resources/1/instances/0/attributes/password";
        *plain.pointer_mut(old).unwrap() = v.pointer(old).unwrap().clone();
        plain["outputs"]["db_password"]["value"] = v["outputs"]["db_password"]["value"].clone();
        plain["resources"][0]["instances"][0]["attributes"]["username"] = json!(own_ref);
        plain["outputs"]["mine"] = json!({"value": own_ref, "type": "string"});
        let plain = serde_json::to_vec_pretty(&plain).unwrap();
        let back = restore::restore(&plain, "s.tfstate", "test/app", &store, true)
            .await
            .unwrap();
        check(&back, "restore without the manifest");
    });
}

/// Review finding: restore's warning for a reference it leaves (not scrub's) named its JSON path
/// as it is, and a map key on it is input (`input = { (var.token) = ... }` makes a token a key):
/// the key was printed. Its path is now shown as audit's errors show pointers, such a key by its
/// length; the same for a reference whose secret is gone (the error), and plain keys as they are.
#[test]
fn restore_masks_a_key_that_could_be_a_secret_in_the_paths_it_shows() {
    use crate::util::{random, ALNUM};
    let c = canary();
    let src = canary_state(&c);
    let store = MemoryStore::default();
    let key = format!("ghp_{}", random(ALNUM, 36));
    rt().block_on(async {
        let r = scrub_write(src.as_bytes(), "s.tfstate", &store)
            .await
            .unwrap();
        let mut v = json(r.output.as_ref().unwrap());
        // Not scrub's: a name scrub never made, under the prefix.
        v["outputs"]["by_token"] = json!({
            "value": { key.as_str(): "ref+awssecrets://test/app/users/none" },
            "type": ["object", { key.as_str(): "string" }],
        });
        let scrubbed = serde_json::to_vec_pretty(&v).unwrap();
        let back = restore::restore(&scrubbed, "s.tfstate", "test/app", &store, false)
            .await
            .unwrap();
        let said = back.skipped.join("\n") + &restore::render(&back);
        assert!(
            !said.contains(&key),
            "the key is in restore's warnings: {}",
            said.replace(&key, "<the key>")
        );
        assert!(
            said.contains("JSON path `/outputs/by_token/value/…(40 chars)`: a reference under the prefix that scrub did not write"),
            "{}",
            said.replace(&key, "<the key>")
        );
        // A reference scrub wrote, now under such a key, whose secret is gone: the error.
        let reference = v["outputs"]["db_password"]["value"]
            .as_str()
            .expect("the output's reference")
            .to_string();
        let name = offstate_common::SecretRef::parse(&reference).unwrap().name;
        v["outputs"]["by_token"]["value"][key.as_str()] = json!(reference);
        store.delete(&name, Deletion::Immediate).await.unwrap();
        let scrubbed = serde_json::to_vec_pretty(&v).unwrap();
        let e = restore::restore(&scrubbed, "s.tfstate", "test/app", &store, false)
            .await
            .expect_err("a secret is gone")
            .to_string();
        assert!(!e.contains(&key), "{}", e.replace(&key, "<the key>"));
        assert!(
            e.contains("(JSON path `/outputs/by_token/value/…(40 chars)`)"),
            "{}",
            e.replace(&key, "<the key>")
        );
    });
}

#[test]
fn selection_filters() {
    let c = canary();
    let src = canary_state(&c);
    let plan = |only: &[&str], exclude: &[&str]| {
        let mut o = ScrubOptions::new("p");
        o.selection.only = only.iter().map(|s| s.to_string()).collect();
        o.selection.exclude = exclude.iter().map(|s| s.to_string()).collect();
        let r = rt()
            .block_on(scrub::scrub(src.as_bytes(), "s", &o, None))
            .unwrap();
        assert!(r.output.is_none(), "dry run produces no state");
        r.items
            .iter()
            .map(|i| i.address.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        plan(&["aws_db_instance.main"], &[]),
        ["aws_db_instance.main"]
    );
    assert_eq!(
        plan(&["module.legacy[\"eu\"]"], &[]),
        ["module.legacy[\"eu\"].aws_db_instance.old[0]"]
    );
    assert_eq!(plan(&[], &["output.db_password"]).len(), 3);
    assert_eq!(
        plan(&["mark.sensitive_output"], &[]),
        ["output.db_password"]
    );
}

// ---- library: every state of the audit corpus ------------------------------------------------

fn corpus_dir() -> Option<tempfile::TempDir> {
    let gen = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/corpus.py");
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(&gen)
        .arg(dir.path())
        .args(["--copies", "2"])
        .stdout(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Some(dir),
        _ if required() => panic!("python3 bench/corpus.py failed"),
        _ => {
            eprintln!("note: python3 not available; corpus round trip skipped");
            None
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.file_name().unwrap() != "labels.json" {
            out.push(p);
        }
    }
}

#[test]
fn round_trip_every_state_of_the_audit_corpus() {
    let Some(dir) = corpus_dir() else { return };
    let mut files = Vec::new();
    walk(dir.path(), &mut files);
    files.sort();
    let store = MemoryStore::default();
    let (mut states, mut values) = (0, 0);
    rt().block_on(async {
        for (i, f) in files.iter().enumerate() {
            let src = std::fs::read(f).unwrap();
            let label = f.display().to_string();
            // Corpus states share addresses; each gets its own prefix, as each environment would.
            let prefix = format!("corpus/{i}");
            let r = match scrub_write_to(&prefix, &src, &label, &store).await {
                Ok(r) => r,
                Err(
                    scrub::ScrubError::NotState { .. } | scrub::ScrubError::BackendCache { .. },
                ) => continue,
                Err(e) => panic!("{e}"),
            };
            // The corpus's fake secrets, as far as scrub found them: the assertions below print
            // states and values.
            for it in &r.items {
                if let Ok(v) = it.value.expose_str() {
                    crate::util::plant(v);
                }
            }
            states += 1;
            values += r.items.len();
            if r.items.is_empty() {
                assert!(
                    label.contains("clean"),
                    "{label}: corpus states hold secrets"
                );
                assert!(r.output.is_none());
                continue;
            }
            let out = r.output.as_ref().unwrap();
            let report = scrub::render(&r);
            for it in &r.items {
                let v = it.value.expose_str().unwrap();
                if v.len() >= 8 {
                    assert!(!report.contains(v), "{label}: a value in the report");
                }
            }
            // Every scrubbed location holds a reference or null now.
            let sv = json(out);
            for it in &r.items {
                let now = sv.pointer(&it.pointer).unwrap();
                assert!(
                    now.is_null() || now.as_str().unwrap().starts_with("ref+awssecrets://"),
                    "{label} {}",
                    it.pointer
                );
            }
            let back = restore::restore(out, &label, &prefix, &store, true)
                .await
                .unwrap();
            assert!(back.skipped.is_empty(), "{label}: {:?}", back.skipped);
            let mut want = json(&src);
            want["serial"] = json!(r.serial_before + 2);
            assert_eq!(
                json(back.output.as_ref().unwrap()),
                want,
                "{label}: restore equals the original"
            );
        }
    });
    // Each org copy has 4 v4 states, a .backup, a v3 and an upgraded-flat state, and a clean one.
    assert!(states >= 14, "{states} states");
    eprintln!("corpus round trip: {states} states, {values} values");
}

// ---- dynamic values ---------------------------------------------------------------------------

/// `terraform_data.input` is a dynamic attribute, stored as `{"value": ..., "type": "string"}`,
/// and `sensitive_attributes` marks all of `input`. The value moves; the type name stays, or
/// Terraform cannot decode the state ("failed to decode type for dynamic value").
#[test]
fn dynamic_value_keeps_its_type_descriptor() {
    let c = canary();
    let src = serde_json::to_string_pretty(&json!({
        "version": 4, "terraform_version": "1.11.4", "serial": 1,
        "lineage": "0e1d8c55-0000-4000-8000-00000000d1a7",
        "outputs": {},
        "resources": [
            {"mode": "managed", "type": "terraform_data", "name": "app",
             "provider": "provider[\"terraform.io/builtin/terraform\"]",
             "instances": [{"schema_version": 0, "attributes": {
                 "id": "8359974a-34aa-ee4c-4664-c90b424e60ca",
                 "input": {"value": c, "type": "string"},
                 "triggers_replace": null},
                 "sensitive_attributes": [[{"type": "get_attr", "value": "input"}]]}]}
        ],
        "check_results": null
    }))
    .unwrap();
    let store = MemoryStore::default();
    rt().block_on(async {
        let r = scrub_write(src.as_bytes(), "d.tfstate", &store)
            .await
            .unwrap();
        let v = json(r.output.as_ref().unwrap());
        let input = &v["resources"][0]["instances"][0]["attributes"]["input"];
        assert_eq!(input["type"], "string");
        assert!(input["value"]
            .as_str()
            .unwrap()
            .starts_with("ref+awssecrets://test/app/terraform_data.app/input.value?version_id="));
        assert_eq!(r.items.len(), 1);
    });
}

/// `terraform_data.output` copies the sensitive `input` (Terraform marks only `input`): both
/// values move, both type descriptors stay (a string and an object type), and an audit of the
/// result finds nothing.
#[test]
fn mirrored_dynamic_output_is_scrubbed_with_its_input() {
    let c = canary();
    let obj = json!({"value": {"team": "payments", "token": c},
                     "type": ["object", {"team": "string", "token": "string"}]});
    let src = serde_json::to_string_pretty(&json!({
        "version": 4, "terraform_version": "1.11.4", "serial": 1,
        "lineage": "0e1d8c55-0000-4000-8000-00000000d1a8",
        "outputs": {},
        "resources": [
            {"mode": "managed", "type": "terraform_data", "name": "app",
             "provider": "provider[\"terraform.io/builtin/terraform\"]",
             "instances": [{"schema_version": 0, "attributes": {
                 "id": "8359974a-34aa-ee4c-4664-c90b424e60ca",
                 "input": {"value": c, "type": "string"},
                 "output": {"value": c, "type": "string"},
                 "triggers_replace": null},
                 "sensitive_attributes": [[{"type": "get_attr", "value": "input"}]]}]},
            {"mode": "managed", "type": "terraform_data", "name": "obj",
             "provider": "provider[\"terraform.io/builtin/terraform\"]",
             "instances": [{"schema_version": 0, "attributes": {
                 "id": "9359974a-34aa-ee4c-4664-c90b424e60ca",
                 "input": obj, "output": obj, "triggers_replace": null},
                 "sensitive_attributes": [[{"type": "get_attr", "value": "input"},
                                           {"type": "get_attr", "value": "token"}]]}]}
        ],
        "check_results": null
    }))
    .unwrap();
    let store = MemoryStore::default();
    rt().block_on(async {
        let r = scrub_write(src.as_bytes(), "d.tfstate", &store)
            .await
            .unwrap();
        let out = r.output.as_ref().unwrap();
        assert_no_canary(&c, "the scrubbed state", out);
        let v = json(out);
        let app = &v["resources"][0]["instances"][0]["attributes"];
        for a in ["input", "output"] {
            assert_eq!(app[a]["type"], "string", "{a}");
            assert!(
                app[a]["value"]
                    .as_str()
                    .unwrap()
                    .starts_with("ref+awssecrets://"),
                "{a}"
            );
        }
        let obj = &v["resources"][1]["instances"][0]["attributes"];
        for a in ["input", "output"] {
            assert_eq!(
                obj[a]["type"],
                json!(["object", {"team": "string", "token": "string"}])
            );
            assert_eq!(obj[a]["value"]["team"], "payments");
            assert!(obj[a]["value"]["token"]
                .as_str()
                .unwrap()
                .starts_with("ref+awssecrets://"));
        }
        assert_eq!(r.items.len(), 4);
        let engine = state_scrubber::detect::Engine::new().unwrap();
        let again = state_scrubber::document::Scanner::new(&engine, b"k", "d.tfstate".into())
            .scan(out)
            .unwrap();
        assert!(again.findings.is_empty(), "{:?}", again.findings);
    });
}

/// A row with a boolean condition (`tfe_variable` with `sensitive = true`) decides the twin as
/// the audit decides the finding: the value is nulled for `value_wo`. A `tfe_variable` with
/// `sensitive = false` whose value holds a token is still reported by the unconditioned scan
/// row, and still gets that row's twin (scrub looked the row up before applying the
/// condition, so the new conditional row would have turned both into references).
#[test]
fn a_boolean_condition_picks_the_twin_as_the_audit_picks_the_row() {
    let flagged = canary();
    let token = format!("ghp_{}", &(canary() + &canary())[..36]);
    crate::util::plant(&token);
    let var = |key: &str, value: &str, sensitive: bool| {
        serde_json::json!({"mode": "managed", "type": "tfe_variable", "name": key.to_lowercase(),
            "provider": "provider[\"registry.terraform.io/hashicorp/tfe\"]",
            "instances": [{"schema_version": 0, "sensitive_attributes": [], "attributes": {
                "id": format!("var-{key}"), "key": key, "category": "env", "sensitive": sensitive,
                "value": value, "value_wo": null, "value_wo_version": null}}]})
    };
    let src = serde_json::to_string_pretty(&serde_json::json!({
        "version": 4, "terraform_version": "1.7.5", "serial": 2,
        "lineage": "0b6c1a52-3b5e-7c1e-2f43-9d1a2b3c4d5e", "outputs": {},
        "resources": [var("LICENSE", &flagged, true), var("NOTES", &format!("ci uses {token}"), false)]
    }))
    .unwrap();
    let store = MemoryStore::default();
    rt().block_on(async {
        let r = scrub_write(src.as_bytes(), "s.tfstate", &store)
            .await
            .unwrap();
        let out = r.output.as_ref().unwrap();
        assert_no_canary(&flagged, "scrubbed state", out);
        assert_no_canary(&token, "scrubbed state", out);
        let v = json(out);
        for i in 0..2 {
            let a = &v["resources"][i]["instances"][0]["attributes"];
            assert!(
                a["value"].is_null(),
                "resource {i}: value is not nulled for its twin"
            );
            assert_eq!(a["value_wo_version"], 1, "resource {i}");
        }
    });
}
