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
//! Interrupts: the caller races the calls (and so the backoff sleeps and the waits for the
//! window) with the stop request and drops them on Ctrl-C, except the manifest's save, which
//! runs to its end once begun. So a stop request ([`Paced::with_stop`]) also ends a backoff,
//! and no throttled call is made again after one: the call fails with its throttling (it was
//! not carried out) at once, not after up to [`TRIES`] backoffs of up to [`BACKOFF_CAP`].

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use offstate_common::store::{SecretStore, StoreError};
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
    stop: super::interrupt::Stop,
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
            stop: super::interrupt::Stop::default(),
        }
    }

    /// Once `stop` fires, a throttled call is not made again and a backoff under way ends: the
    /// call fails with its throttling.
    pub fn with_stop(mut self, stop: super::interrupt::Stop) -> Self {
        self.stop = stop;
        self
    }

    /// The store below.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Calls allowed in flight now.
    pub fn window(&self) -> usize {
        self.window.lock().size.floor() as usize
    }

    /// Every call of the store below, reads and writes alike
    /// ([`offstate_common::secret_store_through!`]).
    async fn call<T, F, Fut>(&self, _write: bool, mut f: F) -> Result<T, StoreError>
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
                    if try_ >= self.tries || self.stop.requested().is_some() {
                        return Err(e);
                    }
                    let cap = self
                        .base
                        .saturating_mul(1 << (try_ - 1).min(16))
                        .min(BACKOFF_CAP);
                    let wait = rand::Rng::random_range(&mut rand::rng(), 0.0..=cap.as_secs_f64());
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs_f64(wait)) => {}
                        _ = self.stop.wait() => return Err(e),
                    }
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

offstate_common::secret_store_through!(Paced<S> where [S: SecretStore], inner, call);

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

    /// A stop request ends the backoffs: a throttled call is not made again once it came
    /// (the manifest's save is not raced with the stop, so only this ends it promptly).
    #[tokio::test]
    async fn a_stop_request_ends_the_backoff() {
        // Requested before the call: the call is made, its throttling is the answer.
        let (tx, stop) = super::super::interrupt::Stop::channel();
        let p = paced(TRIES).with_stop(stop);
        for _ in 0..3 {
            p.inner().fail_next(StoreError::from_code(
                "ThrottlingException",
                "Rate exceeded",
            ));
        }
        tx.send_replace(Some(libc::SIGINT));
        let e = p.describe("a").await.unwrap_err();
        assert!(e.is_slow_down(), "{e}");
        assert_eq!(p.inner().call_count("describe"), 1);

        // Requested during a backoff, drawn up to a day long: only the stop ends it (the
        // timeout is a guard against a hang, not a measure).
        let (tx, stop) = super::super::interrupt::Stop::channel();
        let p = Paced::with_backoff(
            MemoryStore::new("us-east-1", "123456789012"),
            8,
            TRIES,
            Duration::from_secs(86_400),
        )
        .with_stop(stop);
        for _ in 0..3 {
            p.inner().fail_next(StoreError::from_code(
                "ThrottlingException",
                "Rate exceeded",
            ));
        }
        let call = p.describe("a");
        let signal = async {
            while p.inner().call_count("describe") == 0 {
                tokio::task::yield_now().await;
            }
            tx.send_replace(Some(libc::SIGINT));
        };
        let (r, ()) = tokio::time::timeout(Duration::from_secs(60), async {
            tokio::join!(call, signal)
        })
        .await
        .expect("the stop ends the backoff");
        assert!(r.unwrap_err().is_slow_down());
        assert_eq!(p.inner().call_count("describe"), 1);
    }
}
