//! Where the plugin listens, and the stream of (TLS-wrapped) connections
//! handed to tonic.
//!
//! Like go-plugin's server: a unix domain socket on unix systems, loopback
//! TCP elsewhere. go-plugin's *client* always sets `PLUGIN_MIN_PORT` and
//! `PLUGIN_MAX_PORT` (defaults 10000..25000), so their presence does not
//! mean "use TCP"; the Go server ignores them unless it runs on Windows.
//!
//! The socket is a fresh, randomly named `plugin*` entry directly under
//! `PLUGIN_UNIX_SOCKET_DIR` (else the system temp dir), as go-plugin's own
//! servers make it, and is created mode 0600: bind(2) runs under a umask of
//! 0177, so there is no moment at which it is more open (go-plugin leaves it
//! to the umask). Connecting needs write permission on the socket, so only
//! the user running Terraform can connect, before TLS is even involved. bind
//! never follows or reuses an existing path: a taken name is retried with
//! another. The socket is removed when the listener's guard is dropped.
//!
//! An earlier version put the socket in a private 0700 directory of its own,
//! for no added protection; that directory's mkdir and rmdir were the
//! slowest system calls of a provider process (0.1 and 0.2 ms on ext4 under
//! `perf trace`), and without them the exit after Shutdown went from 0.71
//! to 0.47 ms (plugin_bench, 100 spawns each).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tonic::transport::server::Connected;

use super::handshake::Address;
use super::in_flight::Flushes;
use super::shutdown::Shutdown;
use super::{RuntimeError, Transport};

/// How long a client may take to finish the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound listener plus whatever must be cleaned up after it.
#[derive(Debug)]
pub(crate) struct PluginListener {
    inner: Inner,
    address: Address,
    // Dropped last: removes the socket.
    _socket: Option<tempfile::TempPath>,
}

#[derive(Debug)]
enum Inner {
    #[cfg(unix)]
    Unix(tokio::net::UnixListener),
    Tcp(TcpListener),
}

impl PluginListener {
    /// Binds according to `transport` and the handshake environment.
    pub(crate) fn bind(
        transport: Transport,
        socket_dir: Option<&str>,
        port_range: Option<(u16, u16)>,
    ) -> Result<Self, RuntimeError> {
        match transport {
            Transport::Tcp => bind_tcp(port_range),
            #[cfg(unix)]
            Transport::Auto | Transport::Unix => bind_unix(socket_dir),
            #[cfg(not(unix))]
            Transport::Auto => bind_tcp(port_range),
            #[cfg(not(unix))]
            Transport::Unix => Err(RuntimeError::Listen(io::Error::new(
                io::ErrorKind::Unsupported,
                "unix sockets are not available on this platform",
            ))),
        }
    }

    /// The address to announce in the handshake line.
    pub(crate) fn address(&self) -> &Address {
        &self.address
    }

    /// Starts accepting: each connection goes through the TLS handshake (when
    /// `tls` is set) on its own task, so one slow client cannot hold up the
    /// next. Accepting stops at shutdown. The returned guard removes the
    /// socket when dropped; drop it after the server has stopped.
    pub(crate) fn incoming(
        self,
        tls: Option<TlsAcceptor>,
        shutdown: Shutdown,
    ) -> (
        tokio_stream::wrappers::ReceiverStream<Result<Conn, io::Error>>,
        ListenerGuard,
    ) {
        let (tx, rx) = mpsc::channel(16);
        let PluginListener { inner, _socket, .. } = self;
        tokio::spawn(accept_loop(inner, tls, shutdown, tx));
        (
            tokio_stream::wrappers::ReceiverStream::new(rx),
            ListenerGuard { _socket },
        )
    }
}

/// Removes the unix socket when dropped.
#[derive(Debug)]
pub(crate) struct ListenerGuard {
    _socket: Option<tempfile::TempPath>,
}

#[cfg(unix)]
fn bind_unix(socket_dir: Option<&str>) -> Result<PluginListener, RuntimeError> {
    let base = socket_dir
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    // tempfile picks a random name and retries one that is taken (bind
    // answers EADDRINUSE for any existing path, symlinks included); the
    // returned TempPath unlinks the socket when dropped.
    let socket = tempfile::Builder::new()
        .prefix("plugin")
        .make_in(&base, |path| {
            with_umask(0o177, || std::os::unix::net::UnixListener::bind(path))
        })
        .map_err(|source| RuntimeError::UnixSocket {
            dir: base.clone(),
            from_env: socket_dir.is_some(),
            source,
        })?;
    let (listener, path) = socket.into_parts();
    listener
        .set_nonblocking(true)
        .map_err(RuntimeError::Listen)?;
    let listener = tokio::net::UnixListener::from_std(listener).map_err(RuntimeError::Listen)?;
    Ok(PluginListener {
        inner: Inner::Unix(listener),
        address: Address::Unix(path.to_path_buf()),
        _socket: Some(path),
    })
}

/// Runs `f` with the process umask set to `mask`, then restores it. The
/// umask is process-wide: this runs once, at start-up, before the server
/// exists, when nothing else in the process is creating files.
#[cfg(unix)]
fn with_umask<R>(mask: u32, f: impl FnOnce() -> R) -> R {
    use rustix::fs::Mode;
    let old = rustix::process::umask(Mode::from_bits_truncate(mask as _));
    let out = f();
    rustix::process::umask(old);
    out
}

fn bind_tcp(port_range: Option<(u16, u16)>) -> Result<PluginListener, RuntimeError> {
    // Without a range, let the kernel pick a free port.
    let (min, max) = port_range.unwrap_or((0, 0));
    let mut last_err = None;
    for port in min..=max {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        match std::net::TcpListener::bind(addr) {
            Ok(std_listener) => {
                std_listener
                    .set_nonblocking(true)
                    .map_err(RuntimeError::Listen)?;
                let listener = TcpListener::from_std(std_listener).map_err(RuntimeError::Listen)?;
                let local = listener.local_addr().map_err(RuntimeError::Listen)?;
                return Ok(PluginListener {
                    inner: Inner::Tcp(listener),
                    address: Address::Tcp(local),
                    _socket: None,
                });
            }
            Err(e) => last_err = Some(e),
        }
    }
    let err = last_err
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the range holds no port"));
    let what = match port_range {
        Some(_) => format!(
            "no port of 127.0.0.1:{min}-{max} (PLUGIN_MIN_PORT..PLUGIN_MAX_PORT) could be bound, \
             the last one because: {err}"
        ),
        None => format!("binding a free port of 127.0.0.1: {err}"),
    };
    Err(RuntimeError::Listen(io::Error::new(err.kind(), what)))
}

async fn accept_loop(
    inner: Inner,
    tls: Option<TlsAcceptor>,
    shutdown: Shutdown,
    tx: mpsc::Sender<Result<Conn, io::Error>>,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.wait() => return,
            accepted = accept(&inner) => accepted,
        };
        let stream = match accepted {
            Ok(stream) => stream,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                tracing::warn!(error = %e, "accepting a plugin connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        match &tls {
            None => {
                if tx.send(Ok(Conn::new(ConnIo::Plain(stream)))).await.is_err() {
                    return;
                }
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        Ok(Ok(tls_stream)) => {
                            let _ = tx
                                .send(Ok(Conn::new(ConnIo::Tls(Box::new(tls_stream)))))
                                .await;
                        }
                        // A refused client (no or wrong certificate) ends
                        // here; the error names no secret, only TLS terms.
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake refused"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
        }
    }
}

async fn accept(inner: &Inner) -> io::Result<Stream> {
    match inner {
        #[cfg(unix)]
        Inner::Unix(l) => l.accept().await.map(|(s, _)| Stream::Unix(s)),
        Inner::Tcp(l) => {
            let (s, _) = l.accept().await?;
            // gRPC is latency-bound request/response traffic.
            let _ = s.set_nodelay(true);
            Ok(Stream::Tcp(s))
        }
    }
}

/// A raw accepted stream.
#[derive(Debug)]
pub(crate) enum Stream {
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
    Tcp(TcpStream),
}

/// A connection as tonic sees it: its stream, plain (TLS disabled by
/// Terraform's `TF_DISABLE_PLUGIN_TLS`) or TLS, and the record of its
/// flushes that tells a shutdown when the answers have been written.
#[derive(Debug)]
pub(crate) struct Conn {
    io: ConnIo,
    flushes: Flushes,
}

#[derive(Debug)]
pub(crate) enum ConnIo {
    Plain(Stream),
    Tls(Box<tokio_rustls::server::TlsStream<Stream>>),
}

impl Conn {
    fn new(io: ConnIo) -> Self {
        Self {
            io,
            flushes: Flushes::default(),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.flushes.closed();
    }
}

impl Connected for Conn {
    type ConnectInfo = Flushes;

    fn connect_info(&self) -> Flushes {
        self.flushes.clone()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let flushed = Pin::new(&mut this.io).poll_flush(cx);
        if let Poll::Ready(Ok(())) = flushed {
            this.flushes.flushed();
        }
        flushed
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

macro_rules! delegate_io {
    ($ty:ty, $($variant:pat => $inner:ident),+ $(,)?) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                match self.get_mut() {
                    $($variant => Pin::new($inner).poll_read(cx, buf),)+
                }
            }
        }

        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                match self.get_mut() {
                    $($variant => Pin::new($inner).poll_write(cx, buf),)+
                }
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                match self.get_mut() {
                    $($variant => Pin::new($inner).poll_write_vectored(cx, bufs),)+
                }
            }

            fn is_write_vectored(&self) -> bool {
                match self {
                    $($variant => $inner.is_write_vectored(),)+
                }
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                match self.get_mut() {
                    $($variant => Pin::new($inner).poll_flush(cx),)+
                }
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                match self.get_mut() {
                    $($variant => Pin::new($inner).poll_shutdown(cx),)+
                }
            }
        }
    };
}

#[cfg(unix)]
delegate_io!(Stream, Stream::Unix(s) => s, Stream::Tcp(s) => s);
#[cfg(not(unix))]
delegate_io!(Stream, Stream::Tcp(s) => s);
delegate_io!(ConnIo, ConnIo::Plain(s) => s, ConnIo::Tls(s) => s);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_range_is_named_in_the_error() {
        let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = bind_tcp(Some((port, port))).unwrap_err().to_string();
        assert!(
            err.contains(&format!("127.0.0.1:{port}-{port}")) && err.contains("PLUGIN_MIN_PORT"),
            "{err}"
        );
    }
}
