//! The manifest: states that share a lineage, Secrets Manager's size limit, pages, backups.

use super::*;

// ---- the manifest: states that share a lineage, and Secrets Manager's size limit --------------

/// Every secret in the store holds at most Secrets Manager's 65,536 bytes.
async fn assert_every_secret_fits(store: &MemoryStore) {
    use offstate_common::store::ListFilter;
    for meta in store.list(&ListFilter::default()).await.unwrap() {
        let v = store
            .get_value(&meta.name, VersionSelector::Current)
            .await
            .unwrap();
        assert!(
            v.value.len() <= 65_536,
            "{} holds {} bytes: Secrets Manager refuses more than 65,536",
            meta.name,
            v.value.len()
        );
    }
}

/// Terraform's `terraform.tfstate.backup` (or any older copy) shares the state's lineage, and
/// the README has both audited clean, so both get scrubbed under one prefix. Before the fix the
/// manifest kept one entry per place, the last scrub's: restoring the main state after the backup
/// was scrubbed put the backup's older password into the main state's nulled attribute, silently.
#[test]
fn restore_puts_back_each_states_own_value_when_its_backup_was_scrubbed_too() {
    let (now, old) = (canary(), canary());
    let main = twin_state(7, 1, |_| now.clone());
    let backup = twin_state(6, 1, |_| old.clone());
    let store = MemoryStore::default();
    rt().block_on(async {
        let m = scrub_write(main.as_bytes(), "terraform.tfstate", &store)
            .await
            .unwrap();
        let b = scrub_write(backup.as_bytes(), "terraform.tfstate.backup", &store)
            .await
            .unwrap();
        let (m_out, b_out) = (m.output.unwrap(), b.output.unwrap());
        for (what, bytes) in [("main", &m_out), ("backup", &b_out)] {
            assert_no_canary(&now, what, bytes);
            assert_no_canary(&old, what, bytes);
        }
        let path = "/resources/0/instances/0/attributes/secret_string";
        for (scrubbed, want, serial) in [(&m_out, &now, 9), (&b_out, &old, 8)] {
            let r = restore::restore(scrubbed, "s", "test/app", &store, true)
                .await
                .unwrap();
            let text = restore::render(&r);
            assert_no_canary(&now, "restore report", text.as_bytes());
            assert_no_canary(&old, "restore report", text.as_bytes());
            let v = json(r.output.as_ref().unwrap());
            assert!(
                v.pointer(path).and_then(Value::as_str) == Some(want.as_str()),
                "restore of the state at serial {} put back another state's value",
                serial - 1
            );
            assert_eq!(v["serial"], serial);
        }
        // Restoring the main state once more after Terraform wrote it (serial 12): still the
        // value of its own scrub, not the backup's.
        let mut later = json(&m_out);
        later["serial"] = json!(12);
        let later = serde_json::to_vec_pretty(&later).unwrap();
        let r = restore::restore(&later, "s", "test/app", &store, true)
            .await
            .unwrap();
        let v = json(r.output.as_ref().unwrap());
        assert!(v.pointer(path).and_then(Value::as_str) == Some(now.as_str()));
    });
}

/// A copy of a state (a copied file, `terraform state pull` pushed into another workspace or
/// backend) keeps its lineage and serial; an apply in each then gives both the same serial and
/// other values. Scrubbed
/// under one prefix, the second scrub's PutSecretValue reused the first's idempotency token
/// (lineage, serial, place) with another value and stopped with Secrets Manager's bare
/// "ResourceExistsException: You can't use ClientRequestToken ...", which says nothing of the
/// copy or what to do. It now says so, and the first state still restores its own values.
#[test]
fn a_copy_of_the_state_changed_on_its_own_is_named_when_scrubbed_under_the_same_prefix() {
    let (a, b) = (canary(), canary());
    let (state_a, state_b) = (canary_state(&a), canary_state(&b));
    let store = MemoryStore::default();
    rt().block_on(async {
        let scrubbed_a = scrub_write(state_a.as_bytes(), "terraform.tfstate", &store)
            .await
            .unwrap()
            .output
            .unwrap();
        let err = scrub_write(
            state_b.as_bytes(),
            "terraform.tfstate.d/staging/terraform.tfstate",
            &store,
        )
        .await
        .expect_err("a copy with other values at the same serial is not scrubbed into its secrets");
        let msg = err.to_string();
        assert_no_canary(&a, "error", msg.as_bytes());
        assert_no_canary(&b, "error", msg.as_bytes());
        assert!(
            msg.starts_with("terraform.tfstate.d/staging/terraform.tfstate: ")
                && msg.contains("another state with this state's lineage and serial")
                && msg.contains("scrub each copy under its own --prefix")
                && msg.contains("JSON path"),
            "the error names neither the copy nor what to do: {msg}"
        );
        let r = restore::restore(&scrubbed_a, "s", "test/app", &store, true)
            .await
            .unwrap();
        let restored = json(r.output.as_ref().unwrap());
        let original = json(state_a.as_bytes());
        for path in [
            "/outputs/db_password/value",
            "/resources/0/instances/0/attributes/password",
            "/resources/2/instances/0/attributes/secret_string",
        ] {
            assert!(
                restored.pointer(path) == original.pointer(path),
                "{path}: the first state's value did not come back"
            );
        }
    });
}

/// The name of every secret in `store`, in the order it lists them.
async fn all_names(store: &dyn SecretStore) -> Vec<String> {
    store
        .list(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect()
}

/// A copy refused at its PutSecretValue had stored the values before it (and those under way
/// beside it) under the prefix by then: here the copy's new output became a secret of the
/// prefix that no scrubbed state names, though the run exited 2 with the copy's file unchanged.
/// The version each token names is now read before anything is stored, so the copy is refused
/// with nothing written, in a dry run too, and its plan names the secret that refuses.
#[test]
fn a_copy_is_refused_before_any_of_its_values_is_stored() {
    let (a, b, n) = (canary(), canary(), canary());
    let state_a = canary_state(&a);
    let mut copy = json(state_a.as_bytes());
    // Changed on its own at the same serial: another value here, and a new sensitive output.
    copy["resources"][2]["instances"][0]["attributes"]["secret_string"] =
        json!(format!("{{\"password\":\"{b}\"}}"));
    copy["outputs"]["new_token"] = json!({"value": n, "type": "string", "sensitive": true});
    let copy = serde_json::to_vec_pretty(&copy).unwrap();
    let store = MemoryStore::default();
    rt().block_on(async {
        scrub_write(state_a.as_bytes(), "terraform.tfstate", &store)
            .await
            .unwrap();
        let names_before = all_names(&store).await;
        let writes =
            || store.call_count("create") + store.call_count("put_value") + store.call_count("tag");
        let before = writes();
        let dry = scrub::scrub(
            &copy,
            "copy/terraform.tfstate",
            &ScrubOptions::new("test/app"),
            Some(&store),
        )
        .await
        .unwrap()
        .refused
        .expect("a dry run says what --write refuses");
        let err = scrub_write(&copy, "copy/terraform.tfstate", &store)
            .await
            .expect_err("the copy is refused");
        for (what, e) in [("dry run", &dry), ("--write", &err)] {
            let msg = e.to_string();
            for c in [&a, &b, &n] {
                assert_no_canary(c, what, msg.as_bytes());
            }
            assert!(
                matches!(e, scrub::ScrubError::Refused { .. })
                    && msg.contains("--write stores nothing")
                    && msg.contains("another state with this state's lineage and serial")
                    && msg.contains("secret_string"),
                "{what}: not refused before the first store, naming the copy: {msg}"
            );
        }
        assert_eq!(
            writes(),
            before,
            "the refused copy wrote to Secrets Manager"
        );
        let names_after = all_names(&store).await;
        assert_eq!(
            names_after, names_before,
            "a secret was added under the prefix"
        );
    });
}

/// Review of aa39140: Secrets Manager words "this token names a version with other content" as
/// ResourceExistsException for PutSecretValue, and as InvalidRequestException ("You can't
/// modify an existing version") for other calls; the provider takes either for it. scrub now
/// reads the token's version and names the copy on either when that version holds another
/// value, and reports anything else as it came: an InvalidRequestException on a put whose token
/// names no version (another state serial) is not called a copy.
#[test]
fn a_copy_is_named_whichever_code_refuses_the_token_and_only_when_its_version_differs() {
    let (a, b, c) = (canary(), canary(), canary());
    let (state_a, state_b) = (canary_state(&a), canary_state(&b));
    let mut later = json(canary_state(&c).as_bytes());
    later["serial"] = json!(4);
    let later = serde_json::to_vec(&later).unwrap();
    let modify = || {
        StoreError::from_code(
            "InvalidRequestException",
            "You can't modify an existing version, you can only create a new version.",
        )
    };
    let store = MemoryStore::default();
    rt().block_on(async {
        scrub_write(state_a.as_bytes(), "terraform.tfstate", &store)
            .await
            .unwrap();
        store.fail_next_call_of("put_value", modify());
        let msg = scrub_write(state_b.as_bytes(), "copy/terraform.tfstate", &store)
            .await
            .expect_err("the copy is refused")
            .to_string();
        assert_no_canary(&a, "error", msg.as_bytes());
        assert_no_canary(&b, "error", msg.as_bytes());
        assert!(
            msg.contains("another state with this state's lineage and serial")
                && !msg.contains("InvalidRequestException"),
            "an InvalidRequestException for the token is not named a copy: {msg}"
        );
        store.fail_next_call_of("put_value", modify());
        let msg = scrub_write(&later, "terraform.tfstate", &store)
            .await
            .expect_err("the injected error stops it")
            .to_string();
        assert_no_canary(&c, "error", msg.as_bytes());
        assert!(
            msg.contains("InvalidRequestException") && !msg.contains("another state"),
            "a put refused for another reason is called a copy: {msg}"
        );
    });
}

/// A state with a few hundred values made a manifest of more than 65,536 bytes (about 580 bytes
/// an entry, pretty-printed): moto takes it, real Secrets Manager refuses it, after every value
/// was stored, so such a state could not be scrubbed at all. Now the manifest is compact and
/// split into pages; the round trip still restores every value.
#[test]
fn a_large_state_gets_a_manifest_that_fits_and_round_trips() {
    let c = canary();
    let src = twin_state(3, 400, |i| format!("{c}-{i}"));
    let store = MemoryStore::default();
    rt().block_on(async {
        let r = scrub_write(src.as_bytes(), "big.tfstate", &store)
            .await
            .unwrap();
        let out = r.output.unwrap();
        assert_no_canary(&c, "scrubbed state", &out);
        assert_every_secret_fits(&store).await;
        // A second run of the same scrub stores nothing new, manifest pages included.
        let writes = store.call_count("put_value") + store.call_count("create");
        let again = scrub_write(src.as_bytes(), "big.tfstate", &store)
            .await
            .unwrap();
        assert_eq!(again.output.unwrap(), out);
        assert_eq!(
            store.call_count("put_value") + store.call_count("create"),
            writes
        );
        let back = restore::restore(&out, "big.tfstate", "test/app", &store, true)
            .await
            .unwrap();
        assert_eq!(back.restored.len(), 400);
        assert_no_canary(&c, "restore report", restore::render(&back).as_bytes());
        let mut want = json(src.as_bytes());
        want["serial"] = json!(5);
        assert!(json(back.output.as_ref().unwrap()) == want, "round trip");
    });
}

/// A value larger than a secret can hold is refused, naming the path, before anything is
/// stored, and in a dry run too. Before, the dry run passed and `--write` stored the values
/// before it (moto even took the large one; AWS refuses it).
#[test]
fn a_value_over_secrets_managers_limit_stops_before_anything_is_stored() {
    let c = canary();
    let big = format!("{c}{}", "x".repeat(70_000));
    let src = twin_state(3, 3, |i| {
        if i == 2 {
            big.clone()
        } else {
            format!("{c}-{i}")
        }
    });
    let store = MemoryStore::default();
    rt().block_on(async {
        let dry = scrub::scrub(
            src.as_bytes(),
            "s.tfstate",
            &ScrubOptions::new("test/app"),
            None,
        )
        .await
        .unwrap_err()
        .to_string();
        let e = scrub_write(src.as_bytes(), "s.tfstate", &store)
            .await
            .unwrap_err()
            .to_string();
        for msg in [&dry, &e] {
            assert_no_canary(&c, "error", msg.as_bytes());
            assert!(
                msg.contains("/resources/2/instances/0/attributes/secret_string")
                    && msg.contains("65536 bytes")
                    && msg.contains(
                        "--exclude 'aws_secretsmanager_secret_version.app_0002.secret_string'"
                    ),
                "{msg}"
            );
        }
        assert_every_secret_fits(&store).await;
        assert_eq!(
            store.call_count("create") + store.call_count("put_value"),
            0,
            "nothing stored"
        );
    });
}

/// `--prefix` is checked first. Before, `prod payments` became `prod_payments/...-DIGEST` in the
/// value names but stayed as typed in the manifest's name, which AWS refuses after every value is
/// stored; an empty prefix or `//` gave names that restore's reference scan never matched.
#[test]
fn a_prefix_secrets_manager_cannot_take_is_refused_up_front() {
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    std::fs::write(&p, canary_state(&c)).unwrap();
    let ps = p.to_str().unwrap();
    let long = "p".repeat(300);
    for prefix in [
        "",
        "/",
        "prod payments",
        "prod//app",
        "/prod",
        "prød",
        &long,
    ] {
        for cmd in ["scrub", "restore"] {
            let o = run(&[cmd, ps, "--prefix", prefix], None);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{cmd} --prefix {prefix:?}: {err}");
            assert!(
                err.contains("terraform.tfstate") && err.contains("--prefix"),
                "{err}"
            );
            assert_no_canary(&c, "stdout", &o.stdout);
            assert_no_canary(&c, "stderr", &o.stderr);
        }
    }
    assert_eq!(std::fs::read_to_string(&p).unwrap(), canary_state(&c));
    // A trailing `/` is fine.
    let o = run(&["scrub", ps, "--prefix", "prod/app/"], None);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("ref+awssecrets://prod/app/output.db_password")
    );
}

/// Terraform's `terraform.tfstate.backup` holds the state before its last write: the same
/// plaintext. Before, scrub said nothing of it, and a user who scrubbed the state alone believed
/// the directory clean.
#[test]
fn scrub_points_at_the_plaintext_backup_next_to_the_state() {
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    std::fs::write(&p, canary_state(&c)).unwrap();
    let ps = p.to_str().unwrap();
    let o = run(&["scrub", ps, "--prefix", "prod/app"], None);
    assert_eq!(o.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&o.stdout).contains(".backup"));
    std::fs::write(
        dir.path().join("terraform.tfstate.backup"),
        canary_state(&c),
    )
    .unwrap();
    let o = run(&["scrub", ps, "--prefix", "prod/app"], None);
    assert_eq!(o.status.code(), Some(0));
    assert_no_canary(&c, "stdout", &o.stdout);
    assert_no_canary(&c, "stderr", &o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "terraform.tfstate.backup (Terraform's previous state) still holds plaintext values"
        ),
        "{out}"
    );
}

// ---- review: a backup scrubbed after its state, manifest pages, a refused state write --------

/// The `secret_string` of `twin_state`'s first resource after `restore - --write` of `scrubbed`.
fn restored_value(scrubbed: &[u8], prefix: &str, url: &str, canaries: &[&str]) -> String {
    let o = run(
        &[
            "restore",
            "-",
            "--write",
            "--prefix",
            prefix,
            "--endpoint",
            url,
        ],
        Some(scrubbed),
    );
    assert_ok(&o);
    for c in canaries {
        assert_no_canary(c, "restore stderr", &o.stderr);
    }
    json(&o.stdout)["resources"][0]["instances"][0]["attributes"]["secret_string"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Review finding (serious): scrubbing `terraform.tfstate.backup` after `terraform.tfstate` under
/// the same prefix (as scrub's note says to) put the backup's older value as a new version of the
/// same secret, which took AWSCURRENT: everything reading the secret by name got the older
/// password, and the state's version dropped to AWSPREVIOUS (a second older state left it with
/// no label at all). Now an older state's value that differs goes under a name of its own; the
/// order backup-then-state ends with the state's value current too; each restores its own value.
#[test]
fn a_backup_scrubbed_after_its_state_leaves_the_states_value_current() {
    let Some(moto) = Moto::start() else { return };
    let (now, old, older) = (canary(), canary(), canary());
    let all = [now.as_str(), old.as_str(), older.as_str()];
    let name =
        |prefix: &str| format!("{prefix}/aws_secretsmanager_secret_version.app_0000/secret_string");
    for (prefix, backup_first) in [("bk1/app", false), ("bk2/app", true)] {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("terraform.tfstate");
        let backup = dir.path().join("terraform.tfstate.backup");
        let oldest = dir.path().join("older.tfstate");
        std::fs::write(&main, twin_state(10, 1, |_| now.clone())).unwrap();
        std::fs::write(&backup, twin_state(9, 1, |_| old.clone())).unwrap();
        std::fs::write(&oldest, twin_state(8, 1, |_| older.clone())).unwrap();
        let order = if backup_first {
            [&backup, &main, &oldest]
        } else {
            [&main, &backup, &oldest]
        };
        for p in order {
            let o = scrub_file(p, prefix, &moto.url);
            assert_ok(&o);
            for c in all {
                assert_no_canary(c, "scrub stdout", &o.stdout);
                assert_no_canary(c, "scrub stderr", &o.stderr);
            }
        }
        let (m, b, o) = (
            std::fs::read(&main).unwrap(),
            std::fs::read(&backup).unwrap(),
            std::fs::read(&oldest).unwrap(),
        );
        for (what, bytes) in [("main", &m), ("backup", &b), ("older", &o)] {
            for c in all {
                assert_no_canary(c, what, bytes);
            }
        }
        rt().block_on(async {
            let client = moto_client(&moto.url).await;
            let cur = client
                .get_value(&name(prefix), VersionSelector::Current)
                .await
                .unwrap();
            assert!(
                cur.value.expose_str().unwrap() == now.as_str(),
                "{prefix} (backup first: {backup_first}): AWSCURRENT is not the newest state's value"
            );
            // The newest state's version is labelled (AWSCURRENT), so AWS never removes it.
            let versions = client.list_versions(&name(prefix)).await.unwrap();
            let v = versions
                .iter()
                .find(|v| v.version_id == cur.version_id)
                .unwrap();
            assert!(v.stages.iter().any(|s| s == "AWSCURRENT"));
        });
        for (scrubbed, want, what) in [
            (&m, &now, "main"),
            (&b, &old, "backup"),
            (&o, &older, "older"),
        ] {
            assert!(
                restored_value(scrubbed, prefix, &moto.url, &all) == want.as_str(),
                "{prefix}: restore of the {what} state put back another state's value"
            );
        }
    }
}

/// The manifest head and the page secrets present under it.
async fn manifest_pages(
    store: &dyn SecretStore,
    prefix: &str,
    lineage: &str,
) -> (Vec<String>, Vec<String>) {
    let head = scrub::store::manifest_name(prefix, lineage);
    let v = store
        .get_value(&head, VersionSelector::Current)
        .await
        .unwrap();
    let listed: Vec<String> = json(v.value.expose_secret())["pages"]
        .as_array()
        .map(|a| a.iter().map(|p| p.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    let mut present: Vec<String> = described(store, &head)
        .await
        .into_iter()
        .map(|m| m.name)
        .filter(|n| n.contains("/page-"))
        .collect();
    present.sort();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    (listed_sorted, present)
}

/// Review finding: every save named its pages after their content and never deleted the ones
/// the new head stopped listing, so each scrub of a large state left orphaned page secrets.
/// Now the pages a save no longer lists are deleted once the state is written.
#[test]
fn manifest_pages_the_head_no_longer_lists_are_deleted() {
    let Some(moto) = Moto::start() else { return };
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    let lineage = "7c1f0d2e-0000-4000-8000-0000000b4c0f";
    for serial in [3, 7, 11] {
        // The same values in plaintext again (a restore and a new serial): the values are found
        // stored, the manifest grows by one entry per value.
        std::fs::write(&p, twin_state(serial, 150, |i| format!("{c}-{i}"))).unwrap();
        let o = scrub_file(&p, "pg/app", &moto.url);
        assert_ok(&o);
        assert_no_canary(&c, "scrub stdout", &o.stdout);
        assert_no_canary(&c, "scrub stderr", &o.stderr);
        let (listed, present) = rt().block_on(async {
            manifest_pages(&moto_client(&moto.url).await, "pg/app", lineage).await
        });
        if serial > 3 {
            assert!(listed.len() > 1, "the manifest is paged");
        }
        assert_eq!(
            present, listed,
            "after the scrub of serial {serial}: every page secret is one the head lists"
        );
    }
}
