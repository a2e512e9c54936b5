//! End-to-end test of the AWS store against a local moto server (the real Secrets Manager wire
//! protocol), with a canary value that must appear in no returned struct, error or log line.
//!
//! Needs `moto_server` on PATH (`pip install 'moto[server]'`). Without it the test prints why and
//! passes, unless `OFFSTATE_REQUIRE_MOTO` is set (CI sets it, so it cannot skip silently there).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::hash::{BuildHasher, Hasher};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use offstate_common::store::aws::{AwsSecretsManager, AwsStoreConfig};
use offstate_common::store::{
    CreateSecret, Deletion, ListFilter, MetadataUpdate, PutValue, Replica, RotateRequest,
    SecretStore, StoreError, VersionSelector, AWSCURRENT, AWSPREVIOUS,
};
use offstate_common::SecretValue;

// ---- harness ---------------------------------------------------------------------------------

/// A moto server on a free loopback port, stopped on drop. Its output goes to a file that the
/// canary check reads too.
struct Moto {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Moto {
    fn start(binary: &Path) -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let log =
            std::env::temp_dir().join(format!("offstate-moto-{}-{port}.log", std::process::id()));
        let out = std::fs::File::create(&log).expect("moto log file");
        let child = Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup log"))
            .stderr(out)
            .spawn()
            .expect("start moto_server");
        let mut moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!(
                    "moto_server exited early ({status}); see {}",
                    moto.log.display()
                );
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A random canary, made at run time (no fixed string in the source to find).
fn canary() -> String {
    let seed = std::collections::hash_map::RandomState::new();
    let mut h = seed.build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    let a = h.finish();
    h.write_u64(a);
    format!("cnry{:016x}{:016x}", a, h.finish())
}

/// The forms in which a canary could show up in text: raw, base64 (binary secrets travel so) and
/// JSON-escaped.
fn canary_forms(canary: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![
        canary.to_owned(),
        b64.encode(canary),
        b64.encode(format!("v1:{canary}")),
        b64.encode(format!("v2:{canary}")),
        serde_json::to_string(canary)
            .unwrap()
            .trim_matches('"')
            .to_owned(),
    ]
}

/// A tracing subscriber that records every span and event at every level, as text.
#[derive(Clone, Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    next_id: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut text = self.text.lock().unwrap();
        let _ = write!(text, "\nspan {}", span.metadata().name());
        span.record(&mut Fields(&mut text));
        tracing::span::Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&mut self.text.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut text = self.text.lock().unwrap();
        let _ = write!(
            text,
            "\n{} {}",
            event.metadata().level(),
            event.metadata().target()
        );
        event.record(&mut Fields(&mut text));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Everything the test saw, as `Debug` text, for the canary search.
#[derive(Default)]
struct Transcript(String);

impl Transcript {
    fn see<T: fmt::Debug>(&mut self, what: &str, value: &T) {
        let _ = writeln!(self.0, "{what}: {value:?}");
    }
}

fn token(n: u8) -> String {
    // Version ids are tokens: 32..64 characters. Fixed per run, random per run.
    format!("{:0>8}-0000-4000-8000-{:012x}", n, std::process::id())
}

// ---- the test ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_store_against_moto() {
    // The environment is the binary's: held for this test until it ends.
    let _environment = crate::environment::lock().await;
    let Some(binary) = find_on_path("moto_server") else {
        if std::env::var_os("OFFSTATE_REQUIRE_MOTO").is_some() {
            panic!("moto_server is not on PATH and OFFSTATE_REQUIRE_MOTO is set");
        }
        eprintln!(
            "SKIP aws_store_against_moto: moto_server not on PATH (pip install 'moto[server]')"
        );
        return;
    };

    // Capture everything any crate logs, at TRACE, for the whole test.
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.clone()).expect("first subscriber");

    // Dummy credentials for moto; nothing from the developer's own AWS setup. The environment
    // lock held since the start keeps other tests from seeing them.
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_CONFIG_FILE", "/nonexistent/offstate-test"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/offstate-test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        // A dead endpoint in the environment: the explicit `endpoint` must win over it.
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9"),
    ] {
        std::env::set_var(k, v);
    }
    for k in [
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_DEFAULT_REGION",
    ] {
        std::env::remove_var(k);
    }

    let moto = Moto::start(&binary);
    let canary = canary();
    let v1 = || SecretValue::from_string(format!("v1:{canary}"));
    let v2 = || SecretValue::from_string(format!("v2:{canary}"));
    let mut seen = Transcript::default();

    let store = AwsSecretsManager::connect(&AwsStoreConfig {
        endpoint: Some(moto.url.clone()),
        max_attempts: Some(2),
        ..Default::default()
    })
    .await
    .expect("connect");
    assert_eq!(store.region(), "us-east-1");
    seen.see("store", &store);

    let name = format!("offstate-test/{}", &canary[4..12]);
    let (t1, t2) = (token(1), token(2));

    // create with a value: the first version is the token and carries AWSCURRENT.
    let created = store
        .create(CreateSecret {
            name: name.clone(),
            description: Some("offstate moto test".into()),
            tags: [("env".to_owned(), "test".to_owned())].into(),
            value: Some(v1()),
            client_request_token: Some(t1.clone()),
            ..Default::default()
        })
        .await
        .expect("create");
    seen.see("create", &created);
    assert_eq!(created.name, name);
    assert!(
        created.arn.starts_with("arn:aws:secretsmanager:us-east-1:"),
        "{}",
        created.arn
    );
    assert_eq!(created.current_version_id.as_deref(), Some(t1.as_str()));

    // describe: current version from VersionIdsToStages, tags, description.
    let described = store
        .describe(&name)
        .await
        .expect("describe")
        .expect("exists");
    seen.see("describe", &described);
    assert_eq!(described.arn, created.arn);
    assert_eq!(described.current_version_id.as_deref(), Some(t1.as_str()));
    assert_eq!(described.tags.get("env").map(String::as_str), Some("test"));
    assert_eq!(described.description.as_deref(), Some("offstate moto test"));
    assert!(!described.is_scheduled_for_deletion());
    let by_arn = store.describe(&created.arn).await.expect("describe by ARN");
    assert_eq!(by_arn.map(|m| m.name), Some(name.clone()));

    // put_value moves AWSCURRENT to the new version and AWSPREVIOUS to the old one.
    let put = || PutValue {
        secret_id: name.clone(),
        value: v2(),
        client_request_token: Some(t2.clone()),
        ..Default::default()
    };
    let put_id = store.put_value(put()).await.expect("put_value");
    seen.see("put_value", &put_id);
    assert_eq!(put_id, t2);
    let versions = store.list_versions(&name).await.expect("list_versions");
    seen.see("list_versions", &versions);
    let stages_of = |id: &str| {
        versions
            .iter()
            .find(|v| v.version_id == id)
            .map(|v| v.stages.clone())
            .unwrap_or_default()
    };
    assert_eq!(stages_of(&t2), vec![AWSCURRENT.to_owned()]);
    assert_eq!(stages_of(&t1), vec![AWSPREVIOUS.to_owned()]);
    let described = store.describe(&name).await.unwrap().unwrap();
    assert_eq!(described.current_version_id.as_deref(), Some(t2.as_str()));

    // The same token and value again: same version, nothing moves.
    let again = store.put_value(put()).await.expect("idempotent put");
    assert_eq!(again, t2);
    let versions_after = store.list_versions(&name).await.unwrap();
    assert_eq!(versions_after.len(), versions.len());
    assert_eq!(
        store
            .describe(&name)
            .await
            .unwrap()
            .unwrap()
            .current_version_id,
        Some(t2.clone())
    );
    // The same token with another value is refused, and the error does not carry the value.
    let mut conflicting = put();
    conflicting.value = SecretValue::from_string(format!("v3:{canary}"));
    let conflict = store.put_value(conflicting).await.expect_err("token reuse");
    seen.see("token reuse", &conflict);
    seen.0.push_str(&conflict.to_string());
    assert!(
        matches!(conflict, StoreError::AlreadyExists { .. }),
        "{conflict:?}"
    );

    // get_value by stage and by id returns what was written.
    let current = store
        .get_value(&name, VersionSelector::Current)
        .await
        .expect("get current");
    seen.see("get current", &current);
    assert!(current.value.ct_eq(&v2()));
    assert!(!current.binary);
    assert_eq!(current.version_id, t2);
    let previous = store
        .get_value(&name, VersionSelector::Stage(AWSPREVIOUS.into()))
        .await
        .expect("get previous");
    seen.see("get previous", &previous);
    assert!(previous.value.ct_eq(&v1()));
    let by_id = store
        .get_value(&name, VersionSelector::Id(t1.clone()))
        .await
        .expect("get by id");
    assert!(by_id.value.ct_eq(&v1()));
    assert_eq!(by_id.version_id, t1);

    // Tags and metadata.
    store
        .tag(&name, &[("team".to_owned(), "payments".to_owned())].into())
        .await
        .expect("tag");
    store
        .untag(&name, &["env".to_owned()])
        .await
        .expect("untag");
    store
        .update_metadata(
            &name,
            MetadataUpdate {
                description: Some("changed".into()),
                ..Default::default()
            },
        )
        .await
        .expect("update_metadata");
    let described = store.describe(&name).await.unwrap().unwrap();
    seen.see("describe after tags", &described);
    let want_tags: BTreeMap<String, String> = [("team".to_owned(), "payments".to_owned())].into();
    assert_eq!(described.tags, want_tags);
    assert_eq!(described.description.as_deref(), Some("changed"));

    let listed = store
        .list(&ListFilter {
            name_prefix: Some("offstate-test/".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    seen.see("list", &listed);
    assert!(listed
        .iter()
        .any(|m| m.name == name && m.current_version_id == Some(t2.clone())));

    // A binary secret round-trips as binary.
    let bin_name = format!("{name}-bin");
    let bin_value = || SecretValue::from_bytes([&[0u8, 0xff][..], canary.as_bytes()].concat());
    store
        .create(CreateSecret {
            name: bin_name.clone(),
            value: Some(bin_value()),
            binary: true,
            ..Default::default()
        })
        .await
        .expect("create binary");
    let bin = store
        .get_value(&bin_name, VersionSelector::Current)
        .await
        .expect("get binary");
    seen.see("get binary", &bin);
    assert!(bin.binary);
    assert!(bin.value.ct_eq(&bin_value()));
    store
        .delete(&bin_name, Deletion::Immediate)
        .await
        .expect("delete binary");

    // Scheduled deletion: the name stays taken until restored or purged.
    store
        .delete(&name, Deletion::RecoveryWindow(7))
        .await
        .expect("delete, 7 days");
    let deleted = store
        .describe(&name)
        .await
        .unwrap()
        .expect("still described");
    seen.see("describe deleted", &deleted);
    assert!(deleted.is_scheduled_for_deletion());
    let recreate = store
        .create(CreateSecret {
            name: name.clone(),
            value: Some(v1()),
            ..Default::default()
        })
        .await
        .expect_err("create over a scheduled deletion");
    seen.see("recreate", &recreate);
    seen.0.push_str(&recreate.to_string());
    assert!(
        matches!(recreate, StoreError::ScheduledForDeletion { .. }),
        "{recreate:?}"
    );
    let get_deleted = store
        .get_value(&name, VersionSelector::Current)
        .await
        .expect_err("get deleted");
    seen.see("get deleted", &get_deleted);
    assert!(
        matches!(get_deleted, StoreError::ScheduledForDeletion { .. }),
        "{get_deleted:?}"
    );

    store.restore(&name).await.expect("restore");
    assert!(!store
        .describe(&name)
        .await
        .unwrap()
        .unwrap()
        .is_scheduled_for_deletion());
    assert!(store
        .get_value(&name, VersionSelector::Current)
        .await
        .unwrap()
        .value
        .ct_eq(&v2()));

    // Resource policy: put, read back, delete.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    store
        .put_policy(&name, policy, true)
        .await
        .expect("put_policy");
    let got = store.get_policy(&name).await.expect("get_policy");
    let parsed: serde_json::Value = serde_json::from_str(got.as_deref().unwrap()).unwrap();
    assert_eq!(
        parsed,
        serde_json::from_str::<serde_json::Value>(policy).unwrap()
    );
    store.delete_policy(&name).await.expect("delete_policy");
    assert_eq!(store.get_policy(&name).await.expect("get_policy"), None);
    // moto 5 has no ValidateResourcePolicy: the call fails, classified, and that is all we
    // can check here (AWS answers with the findings).
    match store.validate_policy(Some(&name), policy).await {
        Ok(findings) => assert!(findings.is_empty(), "{findings:?}"),
        Err(e) => {
            seen.see("validate_policy", &e);
            eprintln!(
                "note: the endpoint has no ValidateResourcePolicy ({})",
                e.code()
            );
        }
    }

    // Replicas: added, reported by DescribeSecret, removed.
    let statuses = store
        .replicate(
            &name,
            &[Replica {
                region: "eu-west-1".into(),
                kms_key_id: None,
            }],
            false,
        )
        .await
        .expect("replicate");
    seen.see("replicate", &statuses);
    assert!(
        statuses.iter().any(|r| r.region == "eu-west-1"),
        "{statuses:?}"
    );
    let described = store.describe(&name).await.unwrap().unwrap();
    assert_eq!(described.replicas.len(), 1, "{:?}", described.replicas);
    assert_eq!(described.replicas[0].region, "eu-west-1");
    assert!(described.replicas[0].status.is_some());
    let left = store
        .remove_replica_regions(&name, &["eu-west-1".to_owned()])
        .await
        .expect("remove_replica_regions");
    assert!(left.is_empty(), "{left:?}");
    assert!(store
        .describe(&name)
        .await
        .unwrap()
        .unwrap()
        .replicas
        .is_empty());

    // Rotation: moto invokes a real Lambda (it needs one registered, and Docker to run it), so
    // here only the request without a Lambda: moto accepts it (AWS would refuse it for a secret
    // that no service manages) and records the rules. It reports AutomaticallyAfterDays only
    // (no ScheduleExpression or Duration), and refuses CancelRotateSecret without a Lambda.
    let rotated = store
        .rotate(
            &name,
            RotateRequest {
                automatically_after_days: Some(30),
                rotate_immediately: false,
                ..Default::default()
            },
        )
        .await
        .expect("rotate");
    seen.see("rotate", &rotated);
    let described = store.describe(&name).await.unwrap().unwrap();
    seen.see("describe rotated", &described);
    assert!(described.rotation.enabled);
    assert_eq!(described.rotation.automatically_after_days, Some(30));
    // Without a Lambda, moto moves AWSCURRENT to a version of its own making whose value is
    // not the one written last (a moto artefact: on AWS the Lambda writes it), so the value is
    // not checked here.
    let cancel = store.cancel_rotation(&name).await;
    seen.see("cancel_rotation", &cancel);
    if let Err(e) = &cancel {
        assert!(matches!(e, StoreError::InvalidParameter { .. }), "{e:?}");
    }

    // Force delete: gone at once.
    store
        .delete(&name, Deletion::Immediate)
        .await
        .expect("force delete");
    assert_eq!(store.describe(&name).await.expect("describe gone"), None);
    let missing = store
        .get_value(&name, VersionSelector::Current)
        .await
        .expect_err("get gone");
    seen.see("get gone", &missing);
    assert!(missing.is_not_found(), "{missing:?}");

    // Without an explicit endpoint, AWS_ENDPOINT_URL_SECRETS_MANAGER is honoured.
    std::env::set_var("AWS_ENDPOINT_URL_SECRETS_MANAGER", &moto.url);
    let from_env = AwsSecretsManager::connect(&AwsStoreConfig::default())
        .await
        .unwrap();
    assert_eq!(
        from_env
            .describe(&name)
            .await
            .expect("describe via env endpoint"),
        None
    );

    // ---- the canary ----
    let logs = capture.text.lock().unwrap().clone();
    assert!(
        logs.contains("transmitting request"),
        "the capture must see the SDK's TRACE output, or it proves nothing"
    );
    // Calls that carry or return a value run without a subscriber (store/aws/secret_store.rs `quietly`), so
    // the SDK's request trace shows up for the other calls only.
    assert!(logs.contains("secretsmanager.DescribeSecret"));
    for quiet in ["CreateSecret", "PutSecretValue", "GetSecretValue"] {
        assert!(
            !logs.contains(&format!("\"secretsmanager.{quiet}\"")),
            "the SDK traced a {quiet} request"
        );
    }
    let moto_log = std::fs::read_to_string(&moto.log).unwrap_or_default();
    for form in canary_forms(&canary) {
        for (artifact, text) in [
            ("Debug transcript", &seen.0),
            ("tracing output", &logs),
            ("moto output", &moto_log),
        ] {
            assert!(
                !text.contains(&form),
                "a form of the canary appeared in the {artifact} ({} bytes searched)",
                text.len()
            );
        }
    }
}
