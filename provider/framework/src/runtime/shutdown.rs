//! A one-way, clonable "stop now" signal shared by the controller service,
//! signal handlers, the accept loop and the stdio stream.

use std::sync::Arc;

use tokio::sync::watch;

#[derive(Clone, Debug)]
pub(crate) struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl Shutdown {
    pub(crate) fn new() -> Self {
        let (tx, rx) = watch::channel(false);
        Self {
            tx: Arc::new(tx),
            rx,
        }
    }

    /// Requests shutdown; idempotent.
    pub(crate) fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Resolves once shutdown has been requested (immediately if it was).
    pub(crate) async fn wait(&self) {
        let mut rx = self.rx.clone();
        // The sender lives in `self`, so `wait_for` cannot fail while we
        // hold it; treat a closed channel as shutdown all the same.
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_returns_after_trigger_even_for_late_waiters() {
        let s = Shutdown::new();
        let early = {
            let s = s.clone();
            tokio::spawn(async move { s.wait().await })
        };
        s.trigger();
        early.await.unwrap();
        // A waiter that arrives after the trigger does not hang.
        tokio::time::timeout(std::time::Duration::from_secs(1), s.wait())
            .await
            .unwrap();
    }
}
