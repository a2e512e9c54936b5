//! [`Stoppable`]: a [`SecretStore`] whose calls end when Terraform stops the provider
//! (StopProvider, sent on Ctrl-C), whatever they are waiting for: an attempt in flight (up to the
//! attempt timeout, 30 s by default), a backoff between attempts, or STS handing over the role's
//! credentials. Each call races the inner store's future with the stop signal; on the stop the
//! future is dropped (the SDK's connection with it) and the call fails with
//! [`STOPPED`](StoreError::is_stopped), saying whether it may have been carried out.
//!
//! A stop when no call is in flight changes nothing; a call made after it fails at once, unsent.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;

use super::{SecretStore, StoreError};

/// The code of the error a call cut by the stop ends with.
pub const STOPPED: &str = "ProviderStopped";

impl StoreError {
    /// The call ended because Terraform stopped the provider ([`Stoppable`]).
    pub fn is_stopped(&self) -> bool {
        matches!(self, StoreError::Other { code, .. } if code == STOPPED)
    }

    /// The error of a call cut by the stop: `in_flight` when it had begun (it may have reached
    /// AWS), `write` when it changes something there.
    pub fn stopped(in_flight: bool, write: bool) -> Self {
        let message = match (in_flight, write) {
            (false, _) => "Terraform stopped the provider (interrupted) before the call was sent; nothing was changed by it",
            (true, false) => "Terraform stopped the provider (interrupted) before the answer came; the call only reads, nothing was changed by it",
            (true, true) => "Terraform stopped the provider (interrupted) before the answer came. The call was in flight and may already have been carried out at AWS: run terraform plan (or terraform apply -refresh-only) to see where the secret stands; the next terraform apply reconciles it",
        };
        StoreError::Other {
            code: STOPPED.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// Races `call` with `stop` (`true` once Terraform stopped the provider). Already stopped: `call`
/// is not polled (nothing is sent). An answer ready together with the stop wins.
pub async fn until_stopped<T>(
    stop: &watch::Receiver<bool>,
    write: bool,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    if *stop.borrow() {
        return Err(StoreError::stopped(false, write));
    }
    let mut stop = stop.clone();
    let stopped = async move {
        // The sender gone (the provider dropped): no stop will come.
        if stop.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        biased;
        answer = call => answer,
        () = stopped => Err(StoreError::stopped(true, write)),
    }
}

/// See the module docs.
pub struct Stoppable {
    inner: Arc<dyn SecretStore>,
    stop: watch::Receiver<bool>,
}

impl Stoppable {
    /// `inner`, its calls ended when `stop` turns `true`.
    pub fn wrap(inner: Arc<dyn SecretStore>, stop: watch::Receiver<bool>) -> Arc<dyn SecretStore> {
        Arc::new(Stoppable { inner, stop })
    }

    /// A call through [`until_stopped`]; [`crate::secret_store_through!`] makes every call
    /// of `inner` through it.
    async fn through<T, F, Fut>(&self, write: bool, mut f: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = Result<T, StoreError>> + Send,
        T: Send,
    {
        until_stopped(&self.stop, write, f()).await
    }
}

crate::secret_store_through!(Stoppable, inner, through);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::store::memory::MemoryStore;
    use crate::store::{CreateSecret, VersionSelector};
    use crate::SecretValue;

    fn create(name: &str, value: &str) -> CreateSecret {
        CreateSecret {
            name: name.to_owned(),
            value: Some(SecretValue::from(value.to_owned())),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_call_in_flight_ends_at_the_stop() {
        let (stop, watched) = watch::channel(false);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            stop.send_replace(true);
        });
        let t = Instant::now();
        let stalled = std::future::pending::<Result<(), StoreError>>();
        let cut = until_stopped(&watched, true, stalled);
        let e = tokio::time::timeout(Duration::from_secs(5), cut)
            .await
            .expect("the stop ends the call")
            .unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert!(e.is_stopped(), "{e}");
        assert!(
            e.message().contains("may already have been carried out"),
            "{e}"
        );
        let stalled = std::future::pending::<Result<(), StoreError>>();
        let e = until_stopped(&watched, false, stalled).await.unwrap_err();
        assert!(e.message().contains("before the call was sent"), "{e}");
    }

    #[tokio::test]
    async fn a_call_after_the_stop_is_not_started() {
        let (stop, watched) = watch::channel(false);
        stop.send_replace(true);
        let polled = AtomicBool::new(false);
        let call = async {
            polled.store(true, Ordering::SeqCst);
            Ok::<(), StoreError>(())
        };
        let e = until_stopped(&watched, true, call).await.unwrap_err();
        assert!(e.is_stopped() && !polled.load(Ordering::SeqCst), "{e}");
    }

    #[tokio::test]
    async fn a_stop_with_no_call_in_flight_changes_nothing() {
        let memory = Arc::new(MemoryStore::new("us-east-1", "123456789012"));
        let (stop, watched) = watch::channel(false);
        let store = Stoppable::wrap(memory.clone(), watched);
        let meta = store.create(create("app/db", "v1")).await.unwrap();
        // The sender dropped (no stop can come any more): calls run as before.
        let (_, unwatched) = watch::channel(false);
        let other = Stoppable::wrap(memory.clone(), unwatched);
        assert!(other.describe("app/db").await.unwrap().is_some());
        stop.send_replace(true);
        // What was done stays done; the next call fails unsent, and says so.
        let e = store.describe("app/db").await.unwrap_err();
        assert!(
            e.is_stopped() && e.message().contains("before the call was sent"),
            "{e}"
        );
        assert_eq!(memory.call_count("describe"), 1);
        let fetched = memory
            .get_value(&meta.arn, VersionSelector::Current)
            .await
            .unwrap();
        assert_eq!(fetched.value.expose_secret(), b"v1");
    }

    /// Every call goes through the stop ([`crate::secret_store_through!`]): after it, each one
    /// fails unsent and the store below sees none.
    #[tokio::test]
    async fn every_call_goes_through_the_stop() {
        use crate::store::{
            Deletion, ListFilter, MetadataUpdate, PutValue, Replica, RotateRequest,
        };
        let memory = Arc::new(MemoryStore::new("us-east-1", "123456789012"));
        let (stop, watched) = watch::channel(false);
        let s = Stoppable::wrap(memory.clone(), watched);
        stop.send_replace(true);
        let tags = BTreeMap::new();
        let results: Vec<Result<(), StoreError>> = vec![
            s.create(create("a", "v")).await.map(drop),
            s.describe("a").await.map(drop),
            s.list_versions("a").await.map(drop),
            s.put_value(PutValue::default()).await.map(drop),
            s.get_value("a", VersionSelector::Current).await.map(drop),
            s.update_metadata("a", MetadataUpdate::default()).await,
            s.tag("a", &tags).await,
            s.untag("a", &[]).await,
            s.delete("a", Deletion::Immediate).await,
            s.restore("a").await,
            s.list(&ListFilter::default()).await.map(drop),
            s.rotate("a", RotateRequest::default()).await.map(drop),
            s.cancel_rotation("a").await,
            s.put_policy("a", "{}", true).await,
            s.get_policy("a").await.map(drop),
            s.delete_policy("a").await,
            s.validate_policy(None, "{}").await.map(drop),
            s.replicate("a", &[] as &[Replica], false).await.map(drop),
            s.remove_replica_regions("a", &[]).await.map(drop),
        ];
        for (i, r) in results.into_iter().enumerate() {
            let e = r.unwrap_err();
            assert!(e.is_stopped(), "call {i}: {e}");
        }
        assert!(memory.calls().is_empty(), "{:?}", memory.calls());
        assert_eq!(s.region(), memory.region());
    }
}
