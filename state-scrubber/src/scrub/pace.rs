//! [`Paced`]: the secret store `scrub --write` and `restore` call, which slows down when Secrets
//! Manager throttles them instead of failing the run.
//!
//! Each call is the SDK's: up to its attempts (5 by default) with backoff. A busy account
//! (Secrets Manager's request rates are per account and Region, shared with every other caller)
//! throttles some calls through all of them: at 40 % of requests throttled, one call in about 100
//! (0.4^5), and a scrub of a few hundred values makes about a thousand calls, so a run never got
//! through, and a re-run (which reads back what the last one stored) made more calls still.
//!
//! So, above the SDK:
//! - calls in flight are limited by a window, [`IN_FLIGHT`](super::IN_FLIGHT) at most: a call
//!   throttled through the SDK's attempts halves it (down to 1), each call answered without that
//!   adds 1/window (about one more call in flight per window of answers): additive increase,
//!   multiplicative decrease;
//! - a call throttled through the SDK's attempts is made again after a backoff (exponential,
//!   full jitter), [`TRIES`] times at most, then its error is the run's (and says what to do:
//!   [`super::store::with_advice`]).
//!
//! Only throttling and "slow down" answers ([`StoreError::is_slow_down`]: throttling codes,
//! HTTP 429, 503 Service Unavailable) are tried again here: an endpoint that cannot be reached, a refusal or
//! any other error fails the call at once, as before. Every call here is safe to repeat: a
//! throttled request was not carried out, and the writes carry idempotency tokens.
//!
//! Interrupts: nothing here waits on its own; the caller races every call (and so the backoff
//! sleeps and the waits for the window) with the stop request and drops it on Ctrl-C.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use offstate_common::store::{
    CreateSecret, Deletion, FetchedValue, ListFilter, MetadataUpdate, PolicyValidationError,
    PutValue, Replica, ReplicaStatus, RotateRequest, SecretMeta, SecretStore, StoreError,
    VersionInfo, VersionSelector,
};
use tokio::sync::Notify;

/// Times a call is made (each with the SDK's attempts) while it is throttled.
pub const TRIES: u32 = 8;

/// The first backoff after a throttled call, doubled after each (full jitter: a random wait up
/// to it), up to [`BACKOFF_CAP`].
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(20);

/// A [`SecretStore`] whose calls share an AIMD window and are made again while throttled.
pub struct Paced<S> {
    inner: S,
    window: Window,
    tries: u32,
    base: Duration,
}

struct Window {
    state: Mutex<WindowState>,
    freed: Notify,
}

struct WindowState {
    /// Calls allowed in flight (at least 1, at most `max`).
    size: f64,
    max: f64,
    in_flight: usize,
}

/// A call's place in the window, given back when dropped (answered, or cut by a stop).
struct Slot<'a>(&'a Window);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.lock().in_flight -= 1;
        self.0.freed.notify_waiters();
    }
}

impl Window {
    fn lock(&self) -> std::sync::MutexGuard<'_, WindowState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn slot(&self) -> Slot<'_> {
        loop {
            let freed = {
                let mut s = self.lock();
                if (s.in_flight as f64) < s.size.floor().max(1.0) {
                    s.in_flight += 1;
                    return Slot(self);
                }
                // Made under the lock: a slot freed after it wakes it.
                self.freed.notified()
            };
            freed.await;
        }
    }

    fn answered(&self) {
        let mut s = self.lock();
        s.size = (s.size + 1.0 / s.size).min(s.max);
        drop(s);
        self.freed.notify_waiters();
    }

    fn throttled(&self) {
        let mut s = self.lock();
        s.size = (s.size / 2.0).max(1.0);
    }
}

impl<S: SecretStore> Paced<S> {
    /// `inner` with at most `in_flight` calls at once.
    pub fn new(inner: S, in_flight: usize) -> Self {
        Self::with_backoff(inner, in_flight, TRIES, BACKOFF_BASE)
    }

    fn with_backoff(inner: S, in_flight: usize, tries: u32, base: Duration) -> Self {
        let max = in_flight.max(1) as f64;
        Paced {
            inner,
            window: Window {
                state: Mutex::new(WindowState {
                    size: max,
                    max,
                    in_flight: 0,
                }),
                freed: Notify::new(),
            },
            tries: tries.max(1),
            base,
        }
    }

    /// The store below.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Calls allowed in flight now.
    pub fn window(&self) -> usize {
        self.window.lock().size.floor() as usize
    }

    async fn call<T, F, Fut>(&self, mut f: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = Result<T, StoreError>> + Send,
        T: Send,
    {
        let mut try_ = 1;
        loop {
            let r = {
                let _slot = self.window.slot().await;
                f().await
            };
            match r {
                Err(e) if e.is_slow_down() => {
                    self.window.throttled();
                    if try_ >= self.tries {
                        return Err(e);
                    }
                    let cap = self
                        .base
                        .saturating_mul(1 << (try_ - 1).min(16))
                        .min(BACKOFF_CAP);
                    let wait = rand::Rng::random_range(&mut rand::rng(), 0.0..=cap.as_secs_f64());
                    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                    try_ += 1;
                }
                r => {
                    self.window.answered();
                    return r;
                }
            }
        }
    }
}

#[async_trait]
impl<S: SecretStore> SecretStore for Paced<S> {
    fn region(&self) -> Option<&str> {
        self.inner.region()
    }

    async fn create(&self, request: CreateSecret) -> Result<SecretMeta, StoreError> {
        self.call(|| self.inner.create(request.clone())).await
    }

    async fn describe(&self, secret_id: &str) -> Result<Option<SecretMeta>, StoreError> {
        self.call(|| self.inner.describe(secret_id)).await
    }

    async fn list_versions(&self, secret_id: &str) -> Result<Vec<VersionInfo>, StoreError> {
        self.call(|| self.inner.list_versions(secret_id)).await
    }

    async fn put_value(&self, request: PutValue) -> Result<String, StoreError> {
        self.call(|| self.inner.put_value(request.clone())).await
    }

    async fn get_value(
        &self,
        secret_id: &str,
        version: VersionSelector,
    ) -> Result<FetchedValue, StoreError> {
        self.call(|| self.inner.get_value(secret_id, version.clone()))
            .await
    }

    async fn update_metadata(
        &self,
        secret_id: &str,
        update: MetadataUpdate,
    ) -> Result<(), StoreError> {
        self.call(|| self.inner.update_metadata(secret_id, update.clone()))
            .await
    }

    async fn tag(
        &self,
        secret_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        self.call(|| self.inner.tag(secret_id, tags)).await
    }

    async fn untag(&self, secret_id: &str, keys: &[String]) -> Result<(), StoreError> {
        self.call(|| self.inner.untag(secret_id, keys)).await
    }

    async fn delete(&self, secret_id: &str, deletion: Deletion) -> Result<(), StoreError> {
        self.call(|| self.inner.delete(secret_id, deletion)).await
    }

    async fn restore(&self, secret_id: &str) -> Result<(), StoreError> {
        self.call(|| self.inner.restore(secret_id)).await
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<SecretMeta>, StoreError> {
        self.call(|| self.inner.list(filter)).await
    }

    async fn rotate(
        &self,
        secret_id: &str,
        request: RotateRequest,
    ) -> Result<Option<String>, StoreError> {
        self.call(|| self.inner.rotate(secret_id, request.clone()))
            .await
    }

    async fn cancel_rotation(&self, secret_id: &str) -> Result<(), StoreError> {
        self.call(|| self.inner.cancel_rotation(secret_id)).await
    }

    async fn put_policy(
        &self,
        secret_id: &str,
        policy: &str,
        block_public_policy: bool,
    ) -> Result<(), StoreError> {
        self.call(|| {
            self.inner
                .put_policy(secret_id, policy, block_public_policy)
        })
        .await
    }

    async fn get_policy(&self, secret_id: &str) -> Result<Option<String>, StoreError> {
        self.call(|| self.inner.get_policy(secret_id)).await
    }

    async fn delete_policy(&self, secret_id: &str) -> Result<(), StoreError> {
        self.call(|| self.inner.delete_policy(secret_id)).await
    }

    async fn validate_policy(
        &self,
        secret_id: Option<&str>,
        policy: &str,
    ) -> Result<Vec<PolicyValidationError>, StoreError> {
        self.call(|| self.inner.validate_policy(secret_id, policy))
            .await
    }

    async fn replicate(
        &self,
        secret_id: &str,
        replicas: &[Replica],
        force_overwrite: bool,
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        self.call(|| self.inner.replicate(secret_id, replicas, force_overwrite))
            .await
    }

    async fn remove_replica_regions(
        &self,
        secret_id: &str,
        regions: &[String],
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        self.call(|| self.inner.remove_replica_regions(secret_id, regions))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offstate_common::store::memory::MemoryStore;

    fn paced(tries: u32) -> Paced<MemoryStore> {
        Paced::with_backoff(
            MemoryStore::new("us-east-1", "123456789012"),
            8,
            tries,
            Duration::from_millis(1),
        )
    }

    #[tokio::test]
    async fn a_throttled_call_is_made_again_and_the_window_shrinks() {
        let p = paced(TRIES);
        for _ in 0..3 {
            p.inner().fail_next(StoreError::from_code(
                "ThrottlingException",
                "Rate exceeded",
            ));
        }
        assert!(p.describe("a").await.unwrap().is_none());
        // 8 -> 4 -> 2 -> 1, then one answer: 1 + 1/1.
        assert_eq!(p.window(), 2);
    }

    #[tokio::test]
    async fn throttled_through_every_try_fails_with_the_throttling() {
        let p = paced(3);
        for _ in 0..3 {
            p.inner().fail_next(StoreError::from_code(
                "ThrottlingException",
                "Rate exceeded",
            ));
        }
        let e = p.describe("a").await.unwrap_err();
        assert!(matches!(e, StoreError::Throttled { .. }), "{e}");
        assert_eq!(p.window(), 1);
    }

    #[tokio::test]
    async fn other_failures_are_not_made_again() {
        for code in [
            "DispatchFailure",
            "TimeoutError",
            "AccessDeniedException",
            "HTTP500",
        ] {
            let p = paced(TRIES);
            p.inner().fail_next(StoreError::from_code(code, "no"));
            p.inner().fail_next(StoreError::from_code(code, "no"));
            assert_eq!(p.describe("a").await.unwrap_err().code(), code);
            assert_eq!(p.window(), 8, "{code}");
        }
    }

    #[test]
    fn a_call_throttled_through_every_try_says_what_to_do() {
        let e = StoreError::from_code("ThrottlingException", "Rate exceeded");
        let text = super::super::store::with_advice(e.to_string(), &e);
        assert!(
            text.starts_with("ThrottlingException: Rate exceeded. "),
            "{text}"
        );
        assert!(text.contains("Run the same command again"), "{text}");
        assert!(text.contains("stores none twice"), "{text}");
        let other = StoreError::from_code("DispatchFailure", "connection refused");
        assert_eq!(
            super::super::store::with_advice(other.to_string(), &other),
            other.to_string()
        );
    }
}
