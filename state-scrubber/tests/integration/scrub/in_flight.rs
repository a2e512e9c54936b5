//! `scrub --write` stores several values at once ([`scrub::IN_FLIGHT`]), each with as few
//! Secrets Manager calls as it needs, and keeps what it did one value after the other: the
//! order of the report, the manifest and the references, and the first failure (in the state's
//! order) as its error, with nothing written.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

/// A MemoryStore whose calls each take a few milliseconds (a round trip), counting the calls
/// under way at once and recording every call (`OPERATION NAME`). A CreateSecret of a name in
/// `failing` fails with AccessDenied after the delay given.
#[derive(Default)]
struct Paced {
    inner: MemoryStore,
    now: AtomicUsize,
    most: AtomicUsize,
    calls: Mutex<Vec<String>>,
    failing: Mutex<BTreeMap<String, Duration>>,
}

impl Paced {
    async fn call<T>(&self, op: &str, id: &str, f: impl std::future::Future<Output = T>) -> T {
        self.calls.lock().unwrap().push(format!("{op} {id}"));
        let n = self.now.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(n, SeqCst);
        tokio::time::sleep(Duration::from_millis(3)).await;
        let r = f.await;
        self.now.fetch_sub(1, SeqCst);
        r
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.calls.lock().unwrap())
    }
    fn count(calls: &[String], call: &str) -> usize {
        calls.iter().filter(|c| *c == call).count()
    }
}

#[async_trait::async_trait]
impl SecretStore for Paced {
    async fn create(&self, r: CreateSecret) -> Result<SecretMeta, StoreError> {
        let fail = self.failing.lock().unwrap().get(&r.name).copied();
        if let Some(after) = fail {
            return self
                .call("create", &r.name.clone(), async move {
                    tokio::time::sleep(after).await;
                    Err(StoreError::from_code(
                        "AccessDeniedException",
                        "not allowed here",
                    ))
                })
                .await;
        }
        self.call("create", &r.name.clone(), self.inner.create(r))
            .await
    }
    async fn describe(&self, id: &str) -> Result<Option<SecretMeta>, StoreError> {
        self.call("describe", id, self.inner.describe(id)).await
    }
    async fn list_versions(&self, id: &str) -> Result<Vec<VersionInfo>, StoreError> {
        self.call("list_versions", id, self.inner.list_versions(id))
            .await
    }
    async fn put_value(&self, r: PutValue) -> Result<String, StoreError> {
        self.call("put_value", &r.secret_id.clone(), self.inner.put_value(r))
            .await
    }
    async fn get_value(&self, id: &str, v: VersionSelector) -> Result<FetchedValue, StoreError> {
        self.call("get_value", id, self.inner.get_value(id, v))
            .await
    }
    async fn update_metadata(&self, id: &str, u: MetadataUpdate) -> Result<(), StoreError> {
        self.call("update_metadata", id, self.inner.update_metadata(id, u))
            .await
    }
    async fn tag(&self, id: &str, t: &BTreeMap<String, String>) -> Result<(), StoreError> {
        self.call("tag", id, self.inner.tag(id, t)).await
    }
    async fn untag(&self, id: &str, k: &[String]) -> Result<(), StoreError> {
        self.call("untag", id, self.inner.untag(id, k)).await
    }
    async fn delete(&self, id: &str, d: Deletion) -> Result<(), StoreError> {
        self.call("delete", id, self.inner.delete(id, d)).await
    }
    async fn restore(&self, id: &str) -> Result<(), StoreError> {
        self.call("restore", id, self.inner.restore(id)).await
    }
    async fn list(&self, f: &ListFilter) -> Result<Vec<SecretMeta>, StoreError> {
        self.call("list", "", self.inner.list(f)).await
    }
    async fn rotate(&self, id: &str, r: RotateRequest) -> Result<Option<String>, StoreError> {
        self.call("rotate", id, self.inner.rotate(id, r)).await
    }
    async fn cancel_rotation(&self, id: &str) -> Result<(), StoreError> {
        self.call("cancel_rotation", id, self.inner.cancel_rotation(id))
            .await
    }
    async fn put_policy(&self, id: &str, p: &str, b: bool) -> Result<(), StoreError> {
        self.call("put_policy", id, self.inner.put_policy(id, p, b))
            .await
    }
    async fn get_policy(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.call("get_policy", id, self.inner.get_policy(id)).await
    }
    async fn delete_policy(&self, id: &str) -> Result<(), StoreError> {
        self.call("delete_policy", id, self.inner.delete_policy(id))
            .await
    }
    async fn validate_policy(
        &self,
        id: Option<&str>,
        p: &str,
    ) -> Result<Vec<PolicyValidationError>, StoreError> {
        self.call("validate_policy", "", self.inner.validate_policy(id, p))
            .await
    }
    async fn replicate(
        &self,
        id: &str,
        r: &[Replica],
        f: bool,
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        self.call("replicate", id, self.inner.replicate(id, r, f))
            .await
    }
    async fn remove_replica_regions(
        &self,
        id: &str,
        r: &[String],
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        self.call(
            "remove_replica_regions",
            id,
            self.inner.remove_replica_regions(id, r),
        )
        .await
    }
}

const LINEAGE: &str = "6b0e2b9c-0000-4000-8000-0000000f11e5";

/// A state of `n` sensitive outputs `p00`, `p01`, ... (in that order in the file), each a
/// canary, and the canaries.
fn outputs_state(n: usize) -> (String, Vec<String>) {
    let values: Vec<String> = (0..n).map(|_| canary()).collect();
    let outputs: serde_json::Map<String, Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (
                format!("p{i:02}"),
                json!({"value": v, "type": "string", "sensitive": true}),
            )
        })
        .collect();
    let doc = json!({
        "version": 4,
        "terraform_version": "1.15.0",
        "serial": 7,
        "lineage": LINEAGE,
        "outputs": outputs,
        "resources": [],
    });
    (serde_json::to_string_pretty(&doc).unwrap(), values)
}

/// Review finding (performance): every value was stored one after the other, each with four
/// calls in a row (DescribeSecret when placing it, DescribeSecret again, CreateSecret,
/// GetSecretValue to read it back), so a state of hundreds of values took four round trips
/// each. Now IN_FLIGHT values are under way at once; a name placing found absent is created
/// without a second DescribeSecret (one created since fails the create, and gets the checks of
/// one found), and a value already current is not read back twice. The report, the references
/// and the manifest keep the state's order.
#[test]
fn values_are_stored_several_at_once_in_order_with_the_calls_they_need() {
    let n = 24;
    let (src, values) = outputs_state(n);
    let store = Paced::default();
    rt().block_on(async {
        let r = scrub_write(src.as_bytes(), "s.tfstate", &store)
            .await
            .unwrap();
        let most = store.most.load(SeqCst);
        assert!(
            (2..=scrub::IN_FLIGHT).contains(&most),
            "{most} call(s) under way at once at most"
        );
        let calls = store.take();
        let names: Vec<String> = (0..n).map(|i| format!("test/app/output.p{i:02}")).collect();
        assert_eq!(
            r.items.iter().map(|i| &i.secret_name).collect::<Vec<_>>(),
            names.iter().collect::<Vec<_>>(),
            "items in the state's order"
        );
        assert_eq!(r.stored, vec![Stored::Created; n]);
        for name in &names {
            for (op, want) in [("describe", 1), ("create", 1), ("get_value", 1)] {
                assert_eq!(
                    Paced::count(&calls, &format!("{op} {name}")),
                    want,
                    "{op} {name}: {calls:?}"
                );
            }
        }
        // The references name the version each secret holds the value in, in order.
        let out = json(r.output.as_ref().unwrap());
        for (i, (it, value)) in r.items.iter().zip(&values).enumerate() {
            let got = store
                .inner
                .get_value(&it.secret_name, VersionSelector::Current)
                .await
                .unwrap();
            assert!(
                got.value.expose_str().unwrap() == value.as_str(),
                "{}",
                it.secret_name
            );
            assert_eq!(
                out["outputs"][format!("p{i:02}")]["value"],
                format!(
                    "ref+awssecrets://{}?version_id={}",
                    it.secret_name, got.version_id
                )
            );
        }
        let manifest = scrub::store::manifest_name("test/app", LINEAGE);
        let m = scrub::store::load_manifest(&store.inner, &manifest)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            m.entries
                .iter()
                .map(|e| e.pointer.clone())
                .collect::<Vec<_>>(),
            (0..n)
                .map(|i| format!("/outputs/p{i:02}/value"))
                .collect::<Vec<_>>()
        );

        // The same state again (a re-run): each value is there, nothing written. Read twice:
        // the version this run's token names (a staged version, so placing checks that it
        // holds this value, not a copy's), then the current one compared.
        store.take();
        let again = scrub_write(src.as_bytes(), "s.tfstate", &store)
            .await
            .unwrap();
        assert_eq!(again.stored, vec![Stored::Unchanged; n]);
        let calls = store.take();
        for name in &names {
            for (op, want) in [("describe", 2), ("create", 0), ("get_value", 2)] {
                assert_eq!(
                    Paced::count(&calls, &format!("{op} {name}")),
                    want,
                    "re-run: {op} {name}: {calls:?}"
                );
            }
        }
        assert_eq!(again.output, r.output);
    });
}

/// A failure keeps its meaning: the first failing value in the state's order is the error
/// (here the one that fails last), the values under way finish (none is cut short), none
/// is started after it, no manifest is saved and no state written; a re-run with the cause
/// gone stores the rest.
#[test]
fn the_first_failure_in_order_is_the_error_and_nothing_is_written() {
    let n = 40;
    let (src, _values) = outputs_state(n);
    let store = Paced::default();
    let (first, later) = ("test/app/output.p05", "test/app/output.p09");
    store.failing.lock().unwrap().extend([
        (first.to_string(), Duration::from_millis(60)),
        (later.to_string(), Duration::ZERO),
    ]);
    rt().block_on(async {
        let e = scrub_write(src.as_bytes(), "s.tfstate", &store)
            .await
            .expect_err("a CreateSecret is refused");
        let text = e.to_string();
        assert!(
            matches!(&e, scrub::ScrubError::Store { secret, .. } if secret == first),
            "{text}"
        );
        assert!(text.contains("AccessDeniedException"), "{text}");
        assert_eq!(store.now.load(SeqCst), 0, "a call left under way");
        let calls = store.take();
        assert!(
            !calls.iter().any(|c| c.contains(".offstate-manifest")
                && !c.starts_with("describe ")
                && !c.starts_with("get_value ")),
            "the manifest was written: {calls:?}"
        );
        // Started: at most the values up to the later failure and those in flight with it.
        let created = calls.iter().filter(|c| c.starts_with("create ")).count();
        assert!(
            created < 10 + scrub::IN_FLIGHT,
            "{created} creates: values were started after the failure"
        );

        store.failing.lock().unwrap().clear();
        let r = scrub_write(src.as_bytes(), "s.tfstate", &store)
            .await
            .unwrap();
        assert_eq!(r.stored.len(), n);
        assert!(r.stored.contains(&Stored::Unchanged) && r.stored.contains(&Stored::Created));
    });
}
