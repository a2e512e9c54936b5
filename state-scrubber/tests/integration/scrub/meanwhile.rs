//! The state file or a secret changes while scrub or restore talks to Secrets Manager.

use super::*;

// ---- the state file changes while scrub or restore talks to Secrets Manager -------------------

/// A TCP relay to `upstream` that calls `on_first` when the first connection arrives, before
/// any byte is relayed: "Terraform wrote the state while the scrubber waited for AWS".
fn relay_with_hook(upstream: &str, on_first: impl FnOnce() + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = upstream.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        let mut hook = Some(on_first);
        for conn in listener.incoming() {
            let Ok(down) = conn else { return };
            if let Some(h) = hook.take() {
                h();
            }
            let Ok(up) = TcpStream::connect(&upstream) else {
                return;
            };
            let (mut d2, mut u2) = (down.try_clone().unwrap(), up.try_clone().unwrap());
            let (mut d, mut u) = (down, up);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut d2, &mut u2);
                let _ = u2.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut u, &mut d);
                let _ = d.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// A `terraform apply` that lands while `scrub --write` (or `restore --write`) waits for Secrets
/// Manager must not be undone: the file is replaced only if it still holds what was read. Before
/// the fix the scrubbed old state was renamed over the newer one (serial 9 and its new resource
/// lost: Terraform would forget that object).
#[test]
fn a_state_written_meanwhile_is_not_overwritten() {
    let Some(moto) = Moto::start() else { return };
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    std::fs::write(&p, canary_state(&c)).unwrap();
    let mut newer = json(canary_state(&c).as_bytes());
    newer["serial"] = json!(9);
    newer["resources"]
        .as_array_mut()
        .unwrap()
        .push(json!({"mode": "managed", "type": "null_resource", "name": "created_meanwhile",
            "provider": "provider[\"registry.terraform.io/hashicorp/null\"]",
            "instances": [{"schema_version": 0, "attributes": {"id": "1"}, "sensitive_attributes": []}]}));
    let newer = serde_json::to_string_pretty(&newer).unwrap();
    let (hook_path, hook_text) = (p.clone(), newer.clone());
    let endpoint = relay_with_hook(&moto.url, move || {
        std::fs::write(&hook_path, hook_text).unwrap()
    });
    let ps = p.to_str().unwrap();
    let o = run(
        &[
            "scrub",
            ps,
            "--write",
            "--prefix",
            "cas/app",
            "--endpoint",
            &endpoint,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "scrub must fail, not overwrite");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("terraform.tfstate") && err.contains("changed since it was read"),
        "{err}"
    );
    assert_no_canary(&c, "stdout", &o.stdout);
    assert_no_canary(&c, "stderr", &o.stderr);
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        newer,
        "Terraform's write kept"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left");

    // A re-run on the new state scrubs it, finding the values already stored.
    let o = run(
        &[
            "scrub",
            ps,
            "--write",
            "--prefix",
            "cas/app",
            "--endpoint",
            &moto.url,
        ],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("already there"));
    let scrubbed = std::fs::read_to_string(&p).unwrap();
    assert_no_canary(&c, "scrubbed state", scrubbed.as_bytes());
    assert!(scrubbed.contains("created_meanwhile") && json(scrubbed.as_bytes())["serial"] == 10);

    // The same for restore.
    let mut meanwhile = json(scrubbed.as_bytes());
    meanwhile["serial"] = json!(11);
    let meanwhile = serde_json::to_string_pretty(&meanwhile).unwrap();
    let (hook_path, hook_text) = (p.clone(), meanwhile.clone());
    let endpoint = relay_with_hook(&moto.url, move || {
        std::fs::write(&hook_path, hook_text).unwrap()
    });
    let o = run(
        &[
            "restore",
            ps,
            "--write",
            "--prefix",
            "cas/app",
            "--endpoint",
            &endpoint,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("changed since it was read"));
    assert_no_canary(&c, "stdout", &o.stdout);
    assert_no_canary(&c, "stderr", &o.stderr);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), meanwhile);
}

// ---- the store's idempotent path -----------------------------------------------------------

/// A store whose DescribeSecret of `name` answers "no such secret" until scrub tries to create
/// it: the secret is created by someone else between scrub's describes (the checks before the
/// first store, and the one right before the write) and its CreateSecret.
struct CreatedMeanwhile {
    inner: MemoryStore,
    name: String,
    /// A describe of `name` missed it.
    missed: std::sync::atomic::AtomicBool,
    /// Scrub tried to create `name`.
    created: std::sync::atomic::AtomicBool,
}

impl CreatedMeanwhile {
    /// The store already holding `name`, tagged with `lineage` and holding `value`; its
    /// describes of `name` miss it all the same until scrub tries to create it.
    async fn holding(name: &str, lineage: &str, value: &str) -> Self {
        let inner = MemoryStore::default();
        inner
            .create(CreateSecret {
                name: name.into(),
                tags: BTreeMap::from([("offstate:state-lineage".to_string(), lineage.to_string())]),
                value: Some(SecretValue::from_string(value.to_string())),
                ..Default::default()
            })
            .await
            .unwrap();
        CreatedMeanwhile {
            inner,
            name: name.into(),
            missed: false.into(),
            created: false.into(),
        }
    }
}

#[async_trait::async_trait]
impl SecretStore for CreatedMeanwhile {
    async fn create(&self, r: CreateSecret) -> Result<SecretMeta, StoreError> {
        if r.name == self.name {
            self.created
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        self.inner.create(r).await
    }
    async fn describe(&self, id: &str) -> Result<Option<SecretMeta>, StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        if id == self.name && !self.created.load(SeqCst) {
            self.missed.store(true, SeqCst);
            return Ok(None);
        }
        self.inner.describe(id).await
    }
    async fn list_versions(&self, id: &str) -> Result<Vec<VersionInfo>, StoreError> {
        self.inner.list_versions(id).await
    }
    async fn put_value(&self, r: PutValue) -> Result<String, StoreError> {
        self.inner.put_value(r).await
    }
    async fn get_value(&self, id: &str, v: VersionSelector) -> Result<FetchedValue, StoreError> {
        self.inner.get_value(id, v).await
    }
    async fn update_metadata(&self, id: &str, u: MetadataUpdate) -> Result<(), StoreError> {
        self.inner.update_metadata(id, u).await
    }
    async fn tag(&self, id: &str, t: &BTreeMap<String, String>) -> Result<(), StoreError> {
        self.inner.tag(id, t).await
    }
    async fn untag(&self, id: &str, k: &[String]) -> Result<(), StoreError> {
        self.inner.untag(id, k).await
    }
    async fn delete(&self, id: &str, d: Deletion) -> Result<(), StoreError> {
        self.inner.delete(id, d).await
    }
    async fn restore(&self, id: &str) -> Result<(), StoreError> {
        self.inner.restore(id).await
    }
    async fn list(&self, f: &ListFilter) -> Result<Vec<SecretMeta>, StoreError> {
        self.inner.list(f).await
    }
    async fn rotate(&self, id: &str, r: RotateRequest) -> Result<Option<String>, StoreError> {
        self.inner.rotate(id, r).await
    }
    async fn cancel_rotation(&self, id: &str) -> Result<(), StoreError> {
        self.inner.cancel_rotation(id).await
    }
    async fn put_policy(&self, id: &str, p: &str, b: bool) -> Result<(), StoreError> {
        self.inner.put_policy(id, p, b).await
    }
    async fn get_policy(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.inner.get_policy(id).await
    }
    async fn delete_policy(&self, id: &str) -> Result<(), StoreError> {
        self.inner.delete_policy(id).await
    }
    async fn validate_policy(
        &self,
        id: Option<&str>,
        p: &str,
    ) -> Result<Vec<PolicyValidationError>, StoreError> {
        self.inner.validate_policy(id, p).await
    }
    async fn replicate(
        &self,
        id: &str,
        r: &[Replica],
        f: bool,
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        self.inner.replicate(id, r, f).await
    }
    async fn remove_replica_regions(
        &self,
        id: &str,
        r: &[String],
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        self.inner.remove_replica_regions(id, r).await
    }
}

/// Review finding: when CreateSecret failed because the name was taken meanwhile (someone
/// created it between scrub's DescribeSecret and its CreateSecret), scrub went straight to
/// PutSecretValue, without the ownership and scheduled-for-deletion checks, and added a version
/// holding this state's value to someone else's secret. Now it describes again and checks.
#[test]
fn a_secret_created_by_someone_else_meanwhile_is_not_written_to() {
    let c = canary();
    let src = canary_state(&c);
    let name = "test/app/aws_db_instance.main/password";
    let lineage = "6b0e2b9c-0000-4000-8000-00000000c4a1";
    rt().block_on(async {
        // Someone else's secret (another state's lineage): refused, and left as it was.
        let theirs = canary();
        let store = CreatedMeanwhile::holding(name, "someone-else", &theirs).await;
        let e = scrub_write(src.as_bytes(), "s.tfstate", &store)
            .await
            .expect_err("someone else's secret must not get a version");
        let msg = e.to_string();
        assert_no_canary(&c, "error", msg.as_bytes());
        assert_no_canary(&theirs, "error", msg.as_bytes());
        assert!(store.missed.load(std::sync::atomic::Ordering::SeqCst));
        assert!(store.created.load(std::sync::atomic::Ordering::SeqCst));
        assert!(
            msg.contains(name) && msg.contains("belongs to another state"),
            "{msg}"
        );
        // The file, the address and the JSON path of the value are named.
        assert!(
            msg.starts_with("s.tfstate: ") && msg.contains(" (JSON path `/"),
            "{msg}"
        );
        assert_eq!(store.inner.list_versions(name).await.unwrap().len(), 1);
        let cur = store
            .inner
            .get_value(name, VersionSelector::Current)
            .await
            .unwrap();
        assert!(cur.value.expose_str().unwrap() == theirs);

        // Created meanwhile by another run of this very scrub (same lineage, same value):
        // found, checked, nothing written.
        let store = CreatedMeanwhile::holding(name, lineage, &c).await;
        let r = scrub_write(src.as_bytes(), "s.tfstate", &store)
            .await
            .unwrap();
        assert!(store.missed.load(std::sync::atomic::Ordering::SeqCst));
        assert!(store.created.load(std::sync::atomic::Ordering::SeqCst));
        let i = r
            .items
            .iter()
            .position(|it| it.secret_name == name)
            .unwrap();
        assert_eq!(r.stored[i], Stored::Unchanged);
        assert_eq!(store.inner.list_versions(name).await.unwrap().len(), 1);
    });
}

/// The relay scenario of `a_state_written_meanwhile_is_not_overwritten`: `scrub --write` (with
/// `extra` arguments) of `canary_state` at serial 3 while Terraform writes serial 9. Returns the
/// scrub's output and the state Terraform wrote.
fn scrub_while_terraform_writes(
    moto: &Moto,
    c: &str,
    p: &Path,
    prefix: &str,
    extra: &[&str],
) -> (Output, String) {
    std::fs::write(p, canary_state(c)).unwrap();
    let mut newer = json(canary_state(c).as_bytes());
    newer["serial"] = json!(9);
    let newer = serde_json::to_string_pretty(&newer).unwrap();
    let (hook_path, hook_text) = (p.to_path_buf(), newer.clone());
    let endpoint = relay_with_hook(&moto.url, move || {
        std::fs::write(&hook_path, hook_text).unwrap()
    });
    let mut a = vec![
        "scrub",
        p.to_str().unwrap(),
        "--write",
        "--prefix",
        prefix,
        "--endpoint",
        &endpoint,
    ];
    a.extend(extra);
    let o = run(&a, None);
    assert_eq!(o.status.code(), Some(2), "scrub must fail, not overwrite");
    assert_no_canary(c, "stdout", &o.stdout);
    assert_no_canary(c, "stderr", &o.stderr);
    assert!(String::from_utf8_lossy(&o.stderr).contains("changed since it was read"));
    assert_eq!(
        std::fs::read_to_string(p).unwrap(),
        newer,
        "Terraform's write kept"
    );
    (o, newer)
}

/// Review finding: the manifest was saved with the serial the rewrite gives (serial + 1) before
/// the state file was replaced, and kept those entries when the replacement was refused (the
/// file changed meanwhile): Terraform may write that serial, and restore would take the entries
/// as its state's. Now they are taken back, and the message says so.
#[test]
fn a_refused_state_write_takes_back_its_manifest_entries() {
    let Some(moto) = Moto::start() else { return };
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    let (o, _) = scrub_while_terraform_writes(&moto, &c, &p, "rf/app", &[]);
    let lineage = "6b0e2b9c-0000-4000-8000-00000000c4a1";
    let m = manifest_at(&moto.url, "rf/app", lineage).unwrap_or_default();
    assert!(
        m.entries.iter().all(|e| e.serial != Some(4)),
        "the manifest keeps entries for serial 4, which scrub never wrote"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("taken out of the manifest again"), "{err}");

    // The re-run on the new state records serial 10 only.
    let o = scrub_file(&p, "rf/app", &moto.url);
    assert_ok(&o);
    assert_no_canary(&c, "stdout", &o.stdout);
    assert_eq!(json(&std::fs::read(&p).unwrap())["serial"], 10);
    let m = manifest_at(&moto.url, "rf/app", lineage).unwrap();
    assert!(!m.entries.is_empty());
    assert!(m.entries.iter().all(|e| e.serial == Some(10)));
}

/// Review finding: `--backup FILE` was written before the compare-and-swap, so a refused write
/// (exit 2) left a plaintext copy of a superseded state, and the error did not mention it. Now
/// the backup is written once the state was replaced; a backup naming the state itself (which
/// would then put the plaintext back) is refused up front.
#[test]
fn a_refused_state_write_writes_no_backup() {
    let Some(moto) = Moto::start() else { return };
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    let bk = dir.path().join("plain.backup");
    let bks = bk.to_str().unwrap().to_string();
    let (o, newer) = scrub_while_terraform_writes(&moto, &c, &p, "bkp/app", &["--backup", &bks]);
    assert!(
        !bk.exists(),
        "no plaintext backup of a state that was not replaced"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no --backup was written"), "{err}");

    // The re-run on the new state writes it, then the backup (of the state it replaced).
    let ps = p.to_str().unwrap();
    let o = run(
        &[
            "scrub",
            ps,
            "--write",
            "--prefix",
            "bkp/app",
            "--endpoint",
            &moto.url,
            "--backup",
            &bks,
        ],
        None,
    );
    assert_ok(&o);
    assert_no_canary(&c, "stdout", &o.stdout);
    assert_no_canary(&c, "stderr", &o.stderr);
    assert!(String::from_utf8_lossy(&o.stdout).contains("wrote plaintext backup"));
    assert_eq!(std::fs::read_to_string(&bk).unwrap(), newer);
    let scrubbed = std::fs::read(&p).unwrap();
    assert_no_canary(&c, "scrubbed state", &scrubbed);

    // --backup naming the state: refused before anything is stored.
    std::fs::write(&p, &newer).unwrap();
    let o = run(
        &[
            "scrub",
            ps,
            "--write",
            "--prefix",
            "bkp/app",
            "--endpoint",
            &moto.url,
            "--backup",
            ps,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is the state file itself"));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), newer);
}

/// Review finding: a state write that failed otherwise than the known refusals (the file
/// changed meanwhile, read-only, an owner it cannot keep) left this scrub's manifest entries,
/// naming a serial the state never got, until the same command ran again; so did a report
/// that stdout would not take before the write. Now the entries go again, and the message
/// says so. The write fails on a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored: EFBIG), which
/// the small lock info stays under; the report on a full device (`/dev/full`).
#[test]
fn a_failed_state_write_takes_back_its_manifest_entries() {
    use std::os::unix::process::CommandExt as _;
    let Some(moto) = Moto::start() else { return };
    let lineage = "6b0e2b9c-0000-4000-8000-00000000c4a1";
    let no_serial_4 = |prefix: &str| {
        let m = manifest_at(&moto.url, prefix, lineage).unwrap_or_default();
        assert!(
            m.entries.iter().all(|e| e.serial != Some(4)),
            "{prefix}: the manifest keeps entries for serial 4, which scrub never wrote"
        );
    };

    let (c, _dir, p, original) = canary_file();
    const LIMIT: u64 = 1024;
    assert!(
        original.len() as u64 > 2 * LIMIT,
        "the state must exceed the limit"
    );
    let args = write_args("scrub", p.to_str().unwrap(), "fw/app", &moto.url);
    let mut cmd = command(BIN, &args);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: LIMIT,
                rlim_max: LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = cmd.output().unwrap();
    assert_no_canary_out(&c, &o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "the write cannot succeed: {err}");
    assert!(err.contains("writing the new state failed"), "{err}");
    assert!(err.contains("taken out of the manifest again"), "{err}");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
    no_serial_4("fw/app");
    assert!(
        !names_at(&moto.url, "fw/app").is_empty(),
        "the values were stored before the write"
    );
    // The re-run writes the state, and records serial 4.
    let o = scrub_file(&p, "fw/app", &moto.url);
    assert_ok(&o);
    assert_no_canary_out(&c, &o);
    let m = manifest_at(&moto.url, "fw/app", lineage).unwrap();
    assert!(m.entries.iter().any(|e| e.serial == Some(4)));

    // The report, before the write, to a stdout that takes nothing.
    let (c, _dir, p, original) = canary_file();
    let args = write_args("scrub", p.to_str().unwrap(), "fw/full", &moto.url);
    let o = command(BIN, &args)
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    assert_no_canary_out(&c, &o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("taken out of the manifest again"), "{err}");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
    no_serial_4("fw/full");
}
