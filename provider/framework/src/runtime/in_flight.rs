//! Knows when every RPC has been answered, so that a shutdown can stop as
//! soon as that is so, without HTTP/2's goodbye (see `serve`).
//!
//! Each RPC holds a [`Ticket`] from the moment the server hands it to its
//! service. The ticket stays with the response body until the body's last
//! frame (or the body is dropped, or the call is cancelled or fails), and
//! then with the RPC's connection until the connection's next flush: the
//! flush that writes the answer to the socket. [`InFlight::idle`] resolves
//! when no ticket is left.
//!
//! On tokio's current-thread runtime (the provider's) that flush does carry
//! the answer, unless the answer is too large for one write, in which case
//! it carries the first part. On a multi-threaded runtime the connection
//! may be flushing on another thread while the answer is queued; the ticket
//! then ends a flush too early. Either way the answer is still written if
//! the process lives on, and Terraform does not read answers after it has
//! called Shutdown.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use tokio::sync::watch;
use tower_layer::Layer;
use tower_service::Service;

/// The number of RPCs not yet answered, shared by every connection.
#[derive(Clone, Debug)]
pub(crate) struct InFlight {
    count: Arc<watch::Sender<usize>>,
}

impl InFlight {
    pub(crate) fn new() -> Self {
        Self {
            count: Arc::new(watch::Sender::new(0)),
        }
    }

    fn ticket(&self) -> Ticket {
        self.count.send_modify(|n| *n += 1);
        Ticket {
            count: Arc::clone(&self.count),
        }
    }

    /// Resolves once every RPC has been answered (at once if none is open).
    pub(crate) async fn idle(&self) {
        let mut rx = self.count.subscribe();
        // The sender lives in `self`: `wait_for` cannot see it closed.
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

/// One RPC not yet answered; dropping it counts the RPC as answered.
#[derive(Debug)]
struct Ticket {
    count: Arc<watch::Sender<usize>>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.count.send_modify(|n| *n -= 1);
    }
}

/// A connection's write side as the tickets see it. The listener gives one
/// to tonic as each connection's `ConnectInfo` (so every request carries
/// it) and reports the connection's flushes and its end to it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Flushes(Arc<Mutex<FlushState>>);

#[derive(Debug, Default)]
struct FlushState {
    flushed: u64,
    closed: bool,
    /// Tickets of answers queued after flush number `.0`: the next flush
    /// writes them.
    waiting: Vec<(u64, Ticket)>,
}

impl Flushes {
    fn state(&self) -> std::sync::MutexGuard<'_, FlushState> {
        // A ticket's drop cannot panic; a poisoned lock still holds a
        // consistent state.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn settle_on_next_flush(&self, ticket: Ticket) {
        let mut state = self.state();
        if state.closed {
            return; // nothing more will be written: the ticket ends here
        }
        let after = state.flushed;
        state.waiting.push((after, ticket));
    }

    /// The connection's buffered writes reached the socket.
    pub(crate) fn flushed(&self) {
        let mut state = self.state();
        state.flushed += 1;
        let now = state.flushed;
        state.waiting.retain(|(after, _)| *after >= now);
    }

    /// The connection is gone: what it had not written never will be.
    pub(crate) fn closed(&self) {
        let mut state = self.state();
        state.closed = true;
        state.waiting.clear();
    }
}

/// The tower layer the server is built with.
#[derive(Clone, Debug)]
pub(crate) struct InFlightLayer(pub(crate) InFlight);

impl<S> Layer<S> for InFlightLayer {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            in_flight: self.0.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Counted<S> {
    inner: S,
    in_flight: InFlight,
}

type CountedFuture<B, E> =
    Pin<Box<dyn Future<Output = Result<http::Response<CountedBody<B>>, E>> + Send>>;

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for Counted<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<CountedBody<ResBody>>;
    type Error = S::Error;
    type Future = CountedFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let ticket = self.in_flight.ticket();
        let flushes = request.extensions().get::<Flushes>().cloned();
        let response = self.inner.call(request);
        Box::pin(async move {
            // An error or a cancelled call drops the ticket: no answer of
            // ours is left to write.
            let response = response.await?;
            Ok(response.map(|body| CountedBody {
                inner: body,
                ticket: Some((ticket, flushes)),
            }))
        })
    }
}

/// A response body that hands its RPC's ticket on once its last frame has
/// been taken.
#[derive(Debug)]
pub(crate) struct CountedBody<B> {
    inner: B,
    ticket: Option<(Ticket, Option<Flushes>)>,
}

impl<B> CountedBody<B> {
    fn finish(&mut self) {
        if let Some((ticket, Some(flushes))) = self.ticket.take() {
            flushes.settle_on_next_flush(ticket);
        }
    }
}

impl<B> Drop for CountedBody<B> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<B: Body + Unpin> Body for CountedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        let last = match &frame {
            Poll::Pending => false,
            Poll::Ready(Some(Ok(frame))) => frame.is_trailers() || this.inner.is_end_stream(),
            Poll::Ready(None | Some(Err(_))) => true,
        };
        if last {
            this.finish();
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::time::Duration;

    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};

    use super::*;

    /// A service whose calls answer (with a one-frame body) when their
    /// oneshot fires.
    #[derive(Clone)]
    struct Gate;

    type GateRequest = http::Request<tokio::sync::oneshot::Receiver<()>>;

    impl Service<GateRequest> for Gate {
        type Response = http::Response<Full<Bytes>>;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: GateRequest) -> Self::Future {
            Box::pin(async move {
                let _ = request.into_body().await;
                Ok(http::Response::new(Full::new(Bytes::from_static(
                    b"answer",
                ))))
            })
        }
    }

    fn open(in_flight: &InFlight) -> usize {
        *in_flight.count.borrow()
    }

    fn gated(flushes: Option<&Flushes>) -> (tokio::sync::oneshot::Sender<()>, GateRequest) {
        let (answer, gate) = tokio::sync::oneshot::channel();
        let mut request = http::Request::new(gate);
        if let Some(flushes) = flushes {
            request.extensions_mut().insert(flushes.clone());
        }
        (answer, request)
    }

    #[tokio::test]
    async fn an_answer_counts_until_its_connection_flushes_after_its_last_frame() {
        let in_flight = InFlight::new();
        let mut service = InFlightLayer(in_flight.clone()).layer(Gate);
        let connection = Flushes::default();
        tokio::time::timeout(Duration::from_secs(1), in_flight.idle())
            .await
            .expect("idle with nothing served");

        let (answer, request) = gated(Some(&connection));
        let call = tokio::spawn(service.call(request));
        assert_eq!(open(&in_flight), 1);
        let idle = tokio::spawn({
            let in_flight = in_flight.clone();
            async move { in_flight.idle().await }
        });

        // A flush before the answer exists does not count for it.
        connection.flushed();
        answer.send(()).unwrap();
        let response = call.await.unwrap().unwrap();
        assert_eq!(
            open(&in_flight),
            1,
            "the handler has answered; nothing is written yet"
        );

        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"answer");
        assert_eq!(open(&in_flight), 1, "the body is taken, not yet flushed");
        tokio::task::yield_now().await;
        assert!(!idle.is_finished(), "idle before the answer was flushed");

        connection.flushed();
        assert_eq!(open(&in_flight), 0);
        tokio::time::timeout(Duration::from_secs(1), idle)
            .await
            .expect("idle once the answer was flushed")
            .unwrap();
    }

    #[tokio::test]
    async fn a_closed_connection_owes_nothing() {
        let in_flight = InFlight::new();
        let mut service = InFlightLayer(in_flight.clone()).layer(Gate);
        let connection = Flushes::default();

        let (answer, request) = gated(Some(&connection));
        answer.send(()).unwrap();
        let body = service.call(request).await.unwrap().into_body();
        drop(body);
        assert_eq!(
            open(&in_flight),
            1,
            "the dropped body's answer waits for a flush"
        );
        connection.closed();
        assert_eq!(open(&in_flight), 0);

        // After the close, answers are not waited for at all.
        let (answer, request) = gated(Some(&connection));
        answer.send(()).unwrap();
        drop(service.call(request).await.unwrap());
        assert_eq!(open(&in_flight), 0);
    }

    #[tokio::test]
    async fn a_cancelled_call_or_one_without_a_connection_is_not_waited_for() {
        let in_flight = InFlight::new();
        let mut service = InFlightLayer(in_flight.clone()).layer(Gate);
        let connection = Flushes::default();

        let (_never, request) = gated(Some(&connection));
        let call = service.call(request);
        assert_eq!(open(&in_flight), 1);
        drop(call);
        assert_eq!(open(&in_flight), 0);

        let (answer, request) = gated(None);
        answer.send(()).unwrap();
        let body = service.call(request).await.unwrap().into_body();
        assert_eq!(open(&in_flight), 1);
        let _ = body.collect().await.unwrap();
        assert_eq!(open(&in_flight), 0);
    }
}
