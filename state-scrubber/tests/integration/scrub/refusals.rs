//! The dry run says what `--write` refuses, through the same check.

use super::*;

// ---- the dry run says what --write refuses --------------------------------------------------------

/// The lineage of `canary_state`.
const CANARY_LINEAGE: &str = "6b0e2b9c-0000-4000-8000-00000000c4a1";

/// Everything moto says of the secrets under `prefix/` (those scheduled for deletion too),
/// metadata only (versions and their stages, tags, KMS key, dates): equal before and after a run
/// that wrote nothing.
fn metadata_at(url: &str, prefix: &str) -> String {
    rt().block_on(async {
        let store = moto_client(url).await;
        let filter = ListFilter {
            name_prefix: Some(format!("{prefix}/")),
            include_planned_deletion: true,
            ..Default::default()
        };
        let mut out = Vec::new();
        for m in store.list(&filter).await.unwrap() {
            out.push(store.describe(&m.name).await.unwrap().unwrap());
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        format!("{out:#?}")
    })
}

/// What a dry run of `state` under `prefix` (and `extra` options) and a `--write` after it do,
/// when --write is to refuse: both exit 2 with the same error, the dry run names every refused
/// secret in its plan with `--write refuses it: WHY` (each `(name, why)` of `refused`), neither
/// writes a thing (moto's secrets and the state file as they were), and no output holds a form
/// of a canary in `canaries`. Returns the dry run's stdout and the error.
fn assert_dry_run_predicts_the_refusal(
    url: &str,
    state: &Path,
    prefix: &str,
    extra: &[&str],
    refused: &[(&str, &str)],
    canaries: &[&str],
) -> (String, String) {
    let ps = state.to_str().unwrap();
    let before_state = std::fs::read(state).unwrap();
    let before = metadata_at(url, prefix);
    let mut dry_args = vec!["scrub", ps, "--prefix", prefix, "--endpoint", url];
    dry_args.extend(extra);
    let dry = run(&dry_args, None);
    let mut write_args = dry_args.clone();
    write_args.push("--write");
    let dry_out = String::from_utf8_lossy(&dry.stdout).into_owned();
    let dry_err = String::from_utf8_lossy(&dry.stderr).into_owned();
    for c in canaries {
        assert_no_canary_out(c, &dry);
    }
    assert_eq!(dry.status.code(), Some(2), "{dry_out}\n{dry_err}");
    assert_eq!(
        metadata_at(url, prefix),
        before,
        "the dry run wrote to moto"
    );
    assert_eq!(
        std::fs::read(state).unwrap(),
        before_state,
        "the dry run wrote the state"
    );
    for (name, why) in refused {
        assert!(
            dry_out.contains(&format!("{name}: --write refuses it: {why}")),
            "{name}: {dry_out}"
        );
        assert!(
            dry_err.contains(&format!("secret {name}: {why}")),
            "{name}: {dry_err}"
        );
    }
    assert_eq!(
        dry_out.matches("--write refuses it: ").count(),
        refused.len(),
        "{dry_out}"
    );
    assert!(
        dry_out.contains(&format!(
            "dry run: --write would refuse {} of the secrets it writes to (above), and store nothing; nothing was written",
            refused.len()
        )),
        "{dry_out}"
    );
    assert!(
        dry_err.starts_with("error: ")
            && dry_err.contains(&format!(
                ": --write stores nothing: {} of the secrets it would write to refuse",
                refused.len()
            ))
            && dry_err.lines().count() == 1,
        "{dry_err}"
    );

    let write = run(&write_args, None);
    let write_err = String::from_utf8_lossy(&write.stderr).into_owned();
    for c in canaries {
        assert_no_canary_out(c, &write);
    }
    assert_eq!(write.status.code(), Some(2), "{write_err}");
    assert_eq!(
        write_err, dry_err,
        "--write refused otherwise than the dry run said"
    );
    assert_eq!(
        metadata_at(url, prefix),
        before,
        "--write stored something before it refused"
    );
    assert_eq!(std::fs::read(state).unwrap(), before_state);
    (dry_out, dry_err)
}

/// Review finding: the dry run read Secrets Manager for the names (and, for an older state, the
/// current values) but did not look at the secrets --write would write to: one of another
/// state's lineage (or nobody's), one scheduled for deletion, one under another KMS key than
/// `--kms-key-id` (or one scrub cannot tell from it). It said "would move to Secrets Manager",
/// exit 0, and --write then exited 2 partway, having stored the values before. Now the dry run
/// checks every such secret through the same code as --write (DescribeSecret only), names each
/// refusal with what to do, and exits 2 with the error --write gives; and --write makes those
/// checks before its first store, so it stores nothing when one refuses. Each kind here, against
/// moto: the dry run's verdict, the same from --write, nothing written by either.
#[test]
fn a_dry_run_names_every_secret_write_would_refuse_and_exits_2() {
    let Some(moto) = Moto::start() else { return };
    let url = moto.url.as_str();
    let client = rt().block_on(moto_client(url));
    let (c, _dir, p, original) = canary_file();
    let theirs = canary();
    let canaries = [c.as_str(), theirs.as_str()];
    let name = |prefix: &str, rest: &str| format!("{prefix}/{rest}");
    const MAIN: &str = "aws_db_instance.main/password";
    const OUTPUT: &str = "output.db_password";
    const API: &str = "aws_secretsmanager_secret_version.api/secret_string";
    let manifest = |prefix: &str| format!("{prefix}/.offstate-manifest/{CANARY_LINEAGE}");
    let create = |name: &str, tags: &[(&str, &str)], value: &str| {
        rt().block_on(
            client.create(CreateSecret {
                name: name.into(),
                tags: tags
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                value: Some(SecretValue::from_string(value.to_string())),
                ..Default::default()
            }),
        )
        .unwrap();
    };
    let scrub_original = |prefix: &str, extra: &[&str]| {
        std::fs::write(&p, &original).unwrap();
        let mut args = write_args("scrub", p.to_str().unwrap(), prefix, url).to_vec();
        args.extend(extra);
        let o = run(&args, None);
        assert_ok(&o);
        assert_no_canary_out(&c, &o);
        std::fs::write(&p, &original).unwrap();
    };

    // Another state's secret, and one nobody's (no lineage tag), at two of the names.
    let prefix = "owner/app";
    create(
        &name(prefix, MAIN),
        &[("offstate:state-lineage", "someone-else")],
        &theirs,
    );
    create(&name(prefix, OUTPUT), &[], &theirs);
    let (out, _) = assert_dry_run_predicts_the_refusal(
        url,
        &p,
        prefix,
        &[],
        &[
            (
                &name(prefix, MAIN),
                "the secret exists and belongs to another state (tag offstate:state-lineage is \"someone-else\"); choose another --prefix",
            ),
            (
                &name(prefix, OUTPUT),
                "the secret exists and belongs to another state (tag offstate:state-lineage is \"\"); choose another --prefix",
            ),
        ],
        &canaries,
    );
    // The others are named with what --write does there.
    assert!(
        out.contains(&format!(
            "secret {}: to be created on --write",
            name(prefix, API)
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "manifest {}: to be created on --write",
            manifest(prefix)
        )),
        "{out}"
    );

    // One of this state's secrets scheduled for deletion.
    let prefix = "deleted/app";
    scrub_original(prefix, &[]);
    rt().block_on(client.delete(&name(prefix, API), Deletion::RecoveryWindow(7)))
        .unwrap();
    let (out, _) = assert_dry_run_predicts_the_refusal(
        url,
        &p,
        prefix,
        &[],
        &[(
            &name(prefix, API),
            "the secret is scheduled for deletion; restore it (aws secretsmanager restore-secret) or choose another --prefix",
        )],
        &canaries,
    );
    assert!(
        out.contains(&format!(
            "secret {}: there already, this state's: --write adds a version unless its current one holds this value",
            name(prefix, MAIN)
        )) && out.contains(&format!(
            "manifest {}: there already, this state's: --write adds this scrub's entries to it",
            manifest(prefix)
        )),
        "{out}"
    );
    // Restored, it is this state's again: the dry run says so and exits 0, and --write agrees.
    rt().block_on(client.restore(&name(prefix, API))).unwrap();
    let o = run(
        &[
            "scrub",
            p.to_str().unwrap(),
            "--prefix",
            prefix,
            "--endpoint",
            url,
        ],
        None,
    );
    assert_ok(&o);
    assert_no_canary_out(&c, &o);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("--write refuses"));

    // Another KMS key than --kms-key-id: every value and the manifest.
    let key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let other = "ffffffff-12ab-34cd-56ef-1234567890ab";
    let prefix = "key/app";
    scrub_original(prefix, &["--kms-key-id", key_arn]);
    let all: Vec<String> = [
        OUTPUT,
        MAIN,
        "module.legacy@eu/aws_db_instance.old@0/password",
        API,
    ]
    .iter()
    .map(|r| name(prefix, r))
    .chain([manifest(prefix)])
    .collect();
    let whys: Vec<String> = all
        .iter()
        .map(|n| {
            format!(
                "the secret exists, encrypted with {key_arn}, not with --kms-key-id {other}; scrub does not change the key of an existing secret (its readers may lack kms:Decrypt on the new one): re-encrypt it (`aws secretsmanager update-secret --secret-id {n} --kms-key-id {other}`)"
            )
        })
        .collect();
    let refused: Vec<(&str, &str)> = all
        .iter()
        .zip(&whys)
        .map(|(n, w)| (n.as_str(), w.as_str()))
        .collect();
    assert_dry_run_predicts_the_refusal(
        url,
        &p,
        prefix,
        &["--kms-key-id", other],
        &refused,
        &canaries,
    );
    // The manifest is met last, as --write would save it.
    let o = run(
        &[
            "scrub",
            p.to_str().unwrap(),
            "--prefix",
            prefix,
            "--endpoint",
            url,
            "--kms-key-id",
            other,
        ],
        None,
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains(&format!(
            "; the scrub manifest: secret {}: the secret exists, encrypted with",
            manifest(prefix)
        )) && err
            .trim_end()
            .ends_with("or give --kms-key-id as the secret has it"),
        "{err}"
    );

    // A key scrub cannot tell from the secret's without KMS (an alias against a key ARN).
    let (out, _) = assert_dry_run_predicts_the_refusal(
        url,
        &p,
        prefix,
        &["--kms-key-id", "alias/payments"],
        &refused
            .iter()
            .map(|(n, _)| {
                (
                    *n,
                    "the secret exists, encrypted with arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab, and --kms-key-id is alias/payments: whether these are the same KMS key only KMS says",
                )
            })
            .collect::<Vec<_>>(),
        &canaries,
    );
    assert!(
        out.contains("run scrub again with --kms-key-id arn:aws:kms:"),
        "{out}"
    );

    // The manifest's name taken by a secret that is nobody's (and no manifest).
    let prefix = "man/app";
    create(&manifest(prefix), &[], "{}");
    let (out, _) = assert_dry_run_predicts_the_refusal(
        url,
        &p,
        prefix,
        &[],
        &[(
            &manifest(prefix),
            "the secret exists and belongs to another state (tag offstate:state-lineage is \"\"); choose another --prefix",
        )],
        &canaries,
    );
    assert!(
        out.contains(&format!(
            "secret {}: to be created on --write",
            name(prefix, MAIN)
        )),
        "{out}"
    );

    // The manifest of this lineage, but not one this state-scrubber reads: --write stops at
    // once (it cannot tell which states were scrubbed); the dry run with the same error.
    let prefix = "badman/app";
    create(
        &manifest(prefix),
        &[("offstate:state-lineage", CANARY_LINEAGE)],
        "not a manifest",
    );
    let before = metadata_at(url, prefix);
    let ps = p.to_str().unwrap();
    let dry = run(&["scrub", ps, "--prefix", prefix, "--endpoint", url], None);
    let write = run(
        &[
            "scrub",
            ps,
            "--prefix",
            prefix,
            "--endpoint",
            url,
            "--write",
        ],
        None,
    );
    for o in [&dry, &write] {
        assert_eq!(o.status.code(), Some(2));
        assert_no_canary_out(&c, o);
    }
    let err = String::from_utf8_lossy(&dry.stderr).into_owned();
    assert!(
        err.contains(&format!(
            "{} is not a scrub manifest (not its JSON)",
            manifest(prefix)
        )),
        "{err}"
    );
    assert_eq!(dry.stderr, write.stderr);
    assert_eq!(metadata_at(url, prefix), before);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
}

/// The same for an older state of the lineage (Terraform's `.backup`): the dry run reads each
/// value's current version (to find those it holds already) through the checks --write makes,
/// and a refusal there was a failure to read: "reading Secrets Manager failed", exit 0. Now it
/// is a refusal like any other: named, exit 2, as --write.
#[test]
fn a_dry_run_of_an_older_state_names_what_write_would_refuse() {
    let Some(moto) = Moto::start() else { return };
    let url = moto.url.as_str();
    let (now, old) = (canary(), canary());
    let prefix = "oldkey/app";
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("terraform.tfstate");
    let backup = dir.path().join("terraform.tfstate.backup");
    std::fs::write(&main, twin_state(10, 2, |i| format!("{now}{i}"))).unwrap();
    std::fs::write(&backup, twin_state(8, 2, |i| format!("{old}{i}"))).unwrap();
    let key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let mut a = write_args("scrub", main.to_str().unwrap(), prefix, url).to_vec();
    a.extend(["--kms-key-id", key_arn]);
    let o = run(&a, None);
    assert_ok(&o);
    let other = "ffffffff-12ab-34cd-56ef-1234567890ab";
    let name =
        |i: usize| format!("{prefix}/aws_secretsmanager_secret_version.app_{i:04}/secret_string");
    let why = |n: &str| {
        format!("the secret exists, encrypted with {key_arn}, not with --kms-key-id {other}; scrub does not change the key of an existing secret (its readers may lack kms:Decrypt on the new one): re-encrypt it (`aws secretsmanager update-secret --secret-id {n} --kms-key-id {other}`)")
    };
    let manifest = format!("{prefix}/.offstate-manifest/7c1f0d2e-0000-4000-8000-0000000b4c0f");
    let names = [name(0), name(1), manifest];
    let whys: Vec<String> = names.iter().map(|n| why(n)).collect();
    let refused: Vec<(&str, &str)> = names
        .iter()
        .zip(&whys)
        .map(|(n, w)| (n.as_str(), w.as_str()))
        .collect();
    let (_, err) = assert_dry_run_predicts_the_refusal(
        url,
        &backup,
        prefix,
        &["--kms-key-id", other],
        &refused,
        &[&now, &old],
    );
    assert!(!err.contains("reading Secrets Manager failed"), "{err}");
    assert_no_canary(&now, "scrub", &o.stdout);
}

/// A store that records every call it gets (`OPERATION NAME`), and answers from a MemoryStore.
#[derive(Default)]
struct Recording {
    inner: MemoryStore,
    calls: std::sync::Mutex<Vec<String>>,
}

impl Recording {
    fn note(&self, op: &str, id: &str) {
        self.calls.lock().unwrap().push(format!("{op} {id}"));
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.calls.lock().unwrap())
    }
}

#[async_trait::async_trait]
impl SecretStore for Recording {
    async fn create(&self, r: CreateSecret) -> Result<SecretMeta, StoreError> {
        self.note("create", &r.name);
        self.inner.create(r).await
    }
    async fn describe(&self, id: &str) -> Result<Option<SecretMeta>, StoreError> {
        self.note("describe", id);
        self.inner.describe(id).await
    }
    async fn list_versions(&self, id: &str) -> Result<Vec<VersionInfo>, StoreError> {
        self.note("list_versions", id);
        self.inner.list_versions(id).await
    }
    async fn put_value(&self, r: PutValue) -> Result<String, StoreError> {
        self.note("put_value", &r.secret_id);
        self.inner.put_value(r).await
    }
    async fn get_value(&self, id: &str, v: VersionSelector) -> Result<FetchedValue, StoreError> {
        self.note("get_value", id);
        self.inner.get_value(id, v).await
    }
    async fn update_metadata(&self, id: &str, u: MetadataUpdate) -> Result<(), StoreError> {
        self.note("update_metadata", id);
        self.inner.update_metadata(id, u).await
    }
    async fn tag(&self, id: &str, t: &BTreeMap<String, String>) -> Result<(), StoreError> {
        self.note("tag", id);
        self.inner.tag(id, t).await
    }
    async fn untag(&self, id: &str, k: &[String]) -> Result<(), StoreError> {
        self.note("untag", id);
        self.inner.untag(id, k).await
    }
    async fn delete(&self, id: &str, d: Deletion) -> Result<(), StoreError> {
        self.note("delete", id);
        self.inner.delete(id, d).await
    }
    async fn restore(&self, id: &str) -> Result<(), StoreError> {
        self.note("restore", id);
        self.inner.restore(id).await
    }
    async fn list(&self, f: &ListFilter) -> Result<Vec<SecretMeta>, StoreError> {
        self.note("list", "");
        self.inner.list(f).await
    }
    async fn rotate(&self, id: &str, r: RotateRequest) -> Result<Option<String>, StoreError> {
        self.note("rotate", id);
        self.inner.rotate(id, r).await
    }
    async fn cancel_rotation(&self, id: &str) -> Result<(), StoreError> {
        self.note("cancel_rotation", id);
        self.inner.cancel_rotation(id).await
    }
    async fn put_policy(&self, id: &str, p: &str, b: bool) -> Result<(), StoreError> {
        self.note("put_policy", id);
        self.inner.put_policy(id, p, b).await
    }
    async fn get_policy(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.note("get_policy", id);
        self.inner.get_policy(id).await
    }
    async fn delete_policy(&self, id: &str) -> Result<(), StoreError> {
        self.note("delete_policy", id);
        self.inner.delete_policy(id).await
    }
    async fn validate_policy(
        &self,
        id: Option<&str>,
        p: &str,
    ) -> Result<Vec<PolicyValidationError>, StoreError> {
        self.note("validate_policy", id.unwrap_or(""));
        self.inner.validate_policy(id, p).await
    }
    async fn replicate(
        &self,
        id: &str,
        r: &[Replica],
        f: bool,
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        self.note("replicate", id);
        self.inner.replicate(id, r, f).await
    }
    async fn remove_replica_regions(
        &self,
        id: &str,
        r: &[String],
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        self.note("remove_replica_regions", id);
        self.inner.remove_replica_regions(id, r).await
    }
}

/// The library side of the same, every kind in one state: the dry run (given a store) reads
/// the secrets of a current state by DescribeSecret only (the one GetSecretValue is the
/// manifest's, which holds no value) and writes nothing; its `refused` is the very error --write
/// returns, and --write returns it before its first write call.
#[test]
fn the_dry_run_and_write_refuse_through_one_check() {
    let c = canary();
    let src = canary_state(&c);
    let prefix = "lib/app";
    let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let lineage_tag = || {
        BTreeMap::from([(
            "offstate:state-lineage".to_string(),
            CANARY_LINEAGE.to_string(),
        )])
    };
    let store = Recording::default();
    rt().block_on(async {
        let make = |name: &str, tags: BTreeMap<String, String>, kms: Option<&str>| CreateSecret {
            name: format!("{prefix}/{name}"),
            tags,
            kms_key_id: kms.map(str::to_string),
            value: Some(SecretValue::from_string(canary())),
            ..Default::default()
        };
        for request in [
            make("output.db_password", BTreeMap::new(), None),
            make("aws_db_instance.main/password", lineage_tag(), Some(key)),
            make(
                "module.legacy@eu/aws_db_instance.old@0/password",
                lineage_tag(),
                None,
            ),
        ] {
            store.inner.create(request).await.unwrap();
        }
        store
            .inner
            .delete(
                &format!("{prefix}/module.legacy@eu/aws_db_instance.old@0/password"),
                Deletion::RecoveryWindow(7),
            )
            .await
            .unwrap();
        let mut opts = ScrubOptions::new(prefix);
        opts.kms_key_id = Some("ffffffff-12ab-34cd-56ef-1234567890ab".into());

        let dry = scrub::scrub(src.as_bytes(), "s.tfstate", &opts, Some(&store))
            .await
            .unwrap();
        let calls = store.take();
        let manifest = format!("{prefix}/.offstate-manifest/{CANARY_LINEAGE}");
        for call in &calls {
            assert!(
                call.starts_with("describe ") || *call == format!("get_value {manifest}"),
                "the dry run made {call}: {calls:?}"
            );
        }
        assert_eq!(
            calls.iter().filter(|c| c.starts_with("describe ")).count(),
            5,
            "every value's secret and the manifest, once: {calls:?}"
        );
        use scrub::Check;
        let by_name: BTreeMap<&str, &Check> = dry
            .items
            .iter()
            .map(|i| i.secret_name.as_str())
            .zip(&dry.checks)
            .collect();
        let check = |n: &str| by_name[format!("{prefix}/{n}").as_str()].clone();
        assert!(matches!(check("output.db_password"), Check::Refused(w) if w.contains("belongs to another state")));
        assert!(matches!(check("aws_db_instance.main/password"), Check::Refused(w) if w.contains("not with --kms-key-id ffffffff-12ab-34cd-56ef-1234567890ab")));
        assert!(matches!(check("module.legacy@eu/aws_db_instance.old@0/password"), Check::Refused(w) if w.contains("scheduled for deletion")));
        assert_eq!(
            check("aws_secretsmanager_secret_version.api/secret_string"),
            Check::Absent
        );
        assert_eq!(dry.manifest_check, Some((manifest.clone(), Check::Absent)));
        let refused = dry.refused.as_ref().expect("the dry run's verdict").to_string();
        assert!(
            refused.starts_with(
                "s.tfstate: --write stores nothing: 3 of the secrets it would write to refuse it: "
            ),
            "{refused}"
        );
        let rendered = scrub::render(&dry);
        for text in [&refused, &rendered] {
            assert_no_canary(&c, "dry run", text.as_bytes());
        }

        opts.write = true;
        let e = scrub::scrub(src.as_bytes(), "s.tfstate", &opts, Some(&store))
            .await
            .expect_err("--write refuses");
        assert_eq!(e.to_string(), refused);
        let calls = store.take();
        assert!(
            calls.iter().all(|c| c.starts_with("describe ") || c.starts_with("get_value ")),
            "--write wrote before it refused: {calls:?}"
        );
    });
}

/// restore's dry run has no such gap: restore writes nothing to Secrets Manager, and its dry run
/// reads every value (for its length) through the same code as `restore --write`, so a secret
/// that is gone or scheduled for deletion stops both, with the same error, exit 2. Checked here
/// so that it stays so.
#[test]
fn restore_dry_run_refuses_as_write_does() {
    let Some(moto) = Moto::start() else { return };
    let (c, _dir, p, _) = canary_file();
    let prefix = "restdry/app";
    assert_ok(&scrub_file(&p, prefix, &moto.url));
    let scrubbed = std::fs::read(&p).unwrap();
    let scheduled = format!("{prefix}/aws_db_instance.main/password");
    rt().block_on(async {
        let client = moto_client(&moto.url).await;
        client
            .delete(&scheduled, Deletion::RecoveryWindow(7))
            .await
            .unwrap();
    });
    let ps = p.to_str().unwrap();
    let before = metadata_at(&moto.url, prefix);
    let dry = run(
        &["restore", ps, "--prefix", prefix, "--endpoint", &moto.url],
        None,
    );
    let write = run(
        &[
            "restore",
            ps,
            "--prefix",
            prefix,
            "--endpoint",
            &moto.url,
            "--write",
        ],
        None,
    );
    for o in [&dry, &write] {
        assert_no_canary_out(&c, o);
        assert_eq!(o.status.code(), Some(2));
    }
    let err = String::from_utf8_lossy(&dry.stderr).into_owned();
    assert!(
        err.contains(&format!("secret {scheduled} (JSON path `/resources/0/instances/0/attributes/password`, aws_db_instance.main): scheduled for deletion")),
        "{err}"
    );
    assert_eq!(dry.stderr, write.stderr);
    assert_eq!(metadata_at(&moto.url, prefix), before);
    assert_eq!(std::fs::read(&p).unwrap(), scrubbed);
}

/// `scrub --write` without a region said `error: connecting to Secrets Manager: no AWS region:
/// ...` without the state file every other error names: with several states scrubbed in a loop,
/// which one it was. Now it starts with the file's label; nothing is written.
#[test]
fn no_region_on_write_names_the_state_file() {
    let (c, _dir, p, original) = canary_file();
    let o = command(
        BIN,
        &["scrub", p.to_str().unwrap(), "--prefix", "p", "--write"],
    )
    .env_remove("AWS_REGION")
    .env_remove("AWS_DEFAULT_REGION")
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("terraform.tfstate: connecting to Secrets Manager: no AWS region"),
        "{err}"
    );
    assert_no_canary_out(&c, &o);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
}
