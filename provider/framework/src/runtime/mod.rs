//! The plugin runtime: everything between `main` and the `tfplugin6.Provider`
//! service. It performs go-plugin's handshake the way Terraform's client
//! expects (hashicorp/go-plugin `server.go`), serves gRPC over a private unix
//! socket with AutoMTLS, and exits promptly when Terraform says so.
//!
//! A provider's `main` looks like this:
//!
//! ```no_run
//! # use offstate_framework::runtime::{self, ServeOptions};
//! # #[derive(Default)] struct MyProvider;
//! # #[tonic::async_trait]
//! # impl offstate_proto::tfplugin6::provider_server::Provider for MyProvider {}
//! fn main() -> std::process::ExitCode {
//!     // Before anything else, and before starting tokio: a person who runs
//!     // the binary by hand gets a clear message and exit code 1.
//!     runtime::check_magic_cookie();
//!     offstate_framework::logging::init("provider.terraform-provider-offstate");
//!     runtime::run(MyProvider::default(), ServeOptions::default())
//! }
//! ```
//!
//! What is served on the one socket:
//! - `tfplugin6.Provider`, with 256 MiB message limits (Terraform's Go
//!   client allows up to 2 GiB; tonic's default of 4 MiB is too small for
//!   large schemas and states);
//! - `grpc.health.v1.Health`, service `"plugin"` = SERVING (go-plugin's
//!   client pings it);
//! - `plugin.GRPCController/Shutdown`: answer, let the RPCs in flight finish
//!   for at most [`ServeOptions::shutdown_grace`], return from [`serve`]
//!   without waiting for Terraform to hang up (the caller then exits);
//! - `plugin.GRPCStdio/StreamStdio`: an empty stream (logs go to stderr).
//!
//! A panic anywhere in the process prints its location but never its
//! message ([`install_redacting_panic_hook`], installed by [`serve`]).
//!
//! Like go-plugin's server, SIGINT is ignored (Terraform forwards Ctrl-C
//! and then calls `StopProvider`); SIGTERM shuts down like `Shutdown`.
//!
//! Logging from here names RPC paths, addresses and timings only.

mod controller;
pub mod handshake;
mod in_flight;
mod listener;
mod panic;
mod shutdown;
pub mod tls;

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use offstate_proto::plugin::{
    grpc_controller_server::GrpcControllerServer, grpc_stdio_server::GrpcStdioServer,
};
use offstate_proto::tfplugin6::provider_server::{Provider, ProviderServer};
use tonic::transport::Server;

pub use handshake::{Address, HandshakeEnv, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};
pub use panic::install_redacting_panic_hook;

use controller::{Controller, Stdio};
use in_flight::{InFlight, InFlightLayer};
use listener::PluginListener;
use shutdown::Shutdown;

/// Default limit for one gRPC message in either direction, as
/// terraform-plugin-go's server uses.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

/// How the runtime listens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    /// What go-plugin does: a unix socket on unix systems, loopback TCP
    /// (within `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT` when set) elsewhere.
    #[default]
    Auto,
    /// Always a unix socket.
    Unix,
    /// Always loopback TCP, within the port range when it is set.
    Tcp,
}

/// Knobs for [`serve`]. Construct with `ServeOptions::default()` and the
/// `with_*` methods; new fields may be added.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServeOptions {
    /// Largest gRPC message accepted or sent on the Provider service.
    pub max_message_size: usize,
    /// After `Shutdown` (or SIGTERM), how long in-flight RPCs may take
    /// before the server is dropped. Terraform kills the process 2 s after
    /// asking.
    pub shutdown_grace: Duration,
    /// Unix socket or TCP.
    pub transport: Transport,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            shutdown_grace: Duration::from_millis(300),
            transport: Transport::Auto,
        }
    }
}

impl ServeOptions {
    /// Sets [`ServeOptions::max_message_size`].
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets [`ServeOptions::shutdown_grace`].
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Sets [`ServeOptions::transport`].
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }
}

/// Why the runtime could not start or keep serving. No variant carries
/// request data.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The magic cookie is absent or wrong: someone ran the binary by hand.
    #[error(
        "This binary is a Terraform provider plugin. It is not meant to be run directly: \
         Terraform (or OpenTofu) starts it when a configuration uses the provider. \
         Run `terraform init` and `terraform plan` in a configuration instead."
    )]
    NotLaunchedByTerraform,
    /// The client did not offer protocol 6.
    #[error(
        "Terraform offered plugin protocol versions {offered:?}, but this provider speaks only \
         protocol 6 (6.10). Use Terraform 1.11 or later (or OpenTofu 1.11 or later)."
    )]
    UnsupportedProtocol {
        /// The raw `PLUGIN_PROTOCOL_VERSIONS` value.
        offered: String,
    },
    /// A handshake variable is malformed.
    #[error("invalid {name}: {reason}")]
    InvalidEnv {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `PLUGIN_CLIENT_CERT` could not be parsed.
    #[error("invalid PLUGIN_CLIENT_CERT: {0}")]
    ClientCert(String),
    /// Generating the server key failed.
    #[error("generating the plugin TLS key: {0}")]
    KeyGen(#[source] aws_lc_rs::error::Unspecified),
    /// Generating the server certificate failed.
    #[error("generating the plugin TLS certificate: {0}")]
    CertGen(#[source] rcgen::Error),
    /// Building the TLS configuration failed.
    #[error("configuring plugin TLS: {0}")]
    Tls(#[source] rustls::Error),
    /// Creating or binding the listener failed.
    #[error("creating the plugin listener: {0}")]
    Listen(#[source] std::io::Error),
    /// The unix socket could not be created in its directory.
    #[error("creating the plugin socket in {} ({}): {source}", dir.display(), if *.from_env { "PLUGIN_UNIX_SOCKET_DIR" } else { "the temporary directory" })]
    UnixSocket {
        /// Where the socket was to be made.
        dir: std::path::PathBuf,
        /// Whether `PLUGIN_UNIX_SOCKET_DIR` named that directory.
        from_env: bool,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// Writing the handshake line to stdout failed.
    #[error("writing the plugin handshake to stdout: {0}")]
    Handshake(#[source] std::io::Error),
    /// The gRPC server failed.
    #[error("plugin gRPC server: {0}")]
    Transport(#[source] tonic::transport::Error),
    /// The server task panicked or was cancelled.
    #[error("plugin gRPC server task ended abnormally")]
    ServerTask,
}

/// Checks `TF_PLUGIN_MAGIC_COOKIE`; if it is absent or wrong, prints why to
/// stderr and exits the process with code 1.
///
/// Call it first in `main`, before starting an async runtime or logging.
/// [`serve`] checks again (returning [`RuntimeError::NotLaunchedByTerraform`]),
/// so forgetting this call is safe, only less tidy.
pub fn check_magic_cookie() {
    if let Err(e) = HandshakeEnv::from_env().check_magic_cookie() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

/// Runs [`serve`] on a fresh current-thread tokio runtime and maps the
/// result to an exit code (errors are printed to stderr).
///
/// One thread: a provider's RPCs wait on the network or do microseconds of
/// work, Terraform starts a provider several times per command (so start-up
/// and memory count), and on this runtime a shutdown knows exactly when
/// the answers have been written (see `in_flight.rs`).
pub fn run<T: Provider>(provider: T, opts: ServeOptions) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(serve(provider, opts));
    // Do not wait for what is left (the connections, which Terraform
    // closes when it sees us gone): Terraform is waiting for the exit.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            tracing::error!(error = %e, "plugin runtime failed");
            ExitCode::FAILURE
        }
    }
}

/// Serves `provider` to the Terraform process that launched us, until it
/// calls `plugin.GRPCController/Shutdown` (or SIGTERM arrives).
///
/// Reads the handshake environment ([`HandshakeEnv::from_env`]), binds the
/// listener, prints the handshake line as the first and only line on
/// stdout, and serves. Returns `Ok(())` after shutdown, once every RPC has
/// been answered (or the grace has run out), with the socket removed; the
/// connections are left open for the caller's exit to close. On a
/// multi-threaded runtime an answer written at that moment may be lost.
pub async fn serve<T: Provider>(provider: T, opts: ServeOptions) -> Result<(), RuntimeError> {
    let env = HandshakeEnv::from_env();
    env.check_magic_cookie()?;
    install_redacting_panic_hook();
    keep_memory_private();
    let version = env.negotiate_protocol()?;

    let tls = env
        .client_cert_pem
        .as_deref()
        .map(tls::ServerTls::from_client_cert_pem)
        .transpose()?;
    if tls.is_none() {
        tracing::warn!(
            "PLUGIN_CLIENT_CERT is not set: serving without TLS (TF_DISABLE_PLUGIN_TLS)"
        );
    }

    let listener = PluginListener::bind(
        opts.transport,
        env.unix_socket_dir.as_deref(),
        env.port_range()?,
    )?;
    let address = listener.address().clone();

    let shutdown = Shutdown::new();
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let provider_service = ProviderServer::new(provider)
        .max_decoding_message_size(opts.max_message_size)
        .max_encoding_message_size(opts.max_message_size);

    let in_flight = InFlight::new();
    let router = Server::builder()
        .layer(InFlightLayer(in_flight.clone()))
        // One span per RPC, named by its gRPC path; handlers' log events
        // inherit it, and the logging layer reports its duration. At TRACE,
        // as terraform-plugin-go logs its per-request lines: TF_LOG=debug
        // stays quiet (Terraform parses and re-logs every line we write).
        .trace_fn(|request| tracing::trace_span!("tf_rpc", tf_rpc = %request.uri().path()))
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(Controller {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcStdioServer::new(Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(provider_service);

    let acceptor = tls
        .as_ref()
        .map(|t| tokio_rustls::TlsAcceptor::from(t.config()));
    let (incoming, _socket_guard) = listener.incoming(acceptor, shutdown.clone());

    let signal_task = watch_signals(shutdown.clone());

    let server_shutdown = shutdown.clone();
    let mut server = tokio::spawn(async move {
        router
            .serve_with_incoming_shutdown(incoming, async move { server_shutdown.wait().await })
            .await
    });

    // The listener is bound, so a client connecting right after reading
    // this line is queued by the kernel even if the server task has not
    // polled yet.
    let line = handshake::handshake_line(version, &address, tls.as_ref().map(|t| t.cert_der()));
    {
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
            shutdown.trigger();
            server.abort();
            return Err(RuntimeError::Handshake(e));
        }
    }
    tracing::debug!(network = address.network(), address = %address, tls = tls.is_some(), "plugin serving");

    let result = tokio::select! {
        joined = &mut server => flatten(joined),
        () = shutdown.wait() => {
            stop_after_answering(&in_flight, opts.shutdown_grace).await;
            server.abort();
            Ok(())
        }
    };
    signal_task.abort();
    tracing::debug!("plugin stopped");
    // `_socket_guard` drops here: the socket is removed.
    result
}

/// What a shutdown waits for before `serve` returns: every RPC answered and
/// its answer flushed to the socket (the Shutdown call among them), for at
/// most `grace`. Not HTTP/2's graceful goodbye (GOAWAY, a PING, Terraform's
/// acknowledgement, the last GOAWAY, then the wait for Terraform to hang
/// up): Terraform is done with us when it calls Shutdown and waits for this
/// process to exit, so those round trips to a busy Terraform only made it
/// wait longer, about 0.8 ms per provider process (`tools/ab-provider`).
/// go-plugin's own server stops harder still: its Shutdown handler closes
/// every connection before it answers (`grpc_controller.go`), and its client
/// ignores that answer (`GRPCClient.Close`). Bytes written to the socket
/// reach Terraform even after we exit.
async fn stop_after_answering(in_flight: &InFlight, grace: Duration) {
    if tokio::time::timeout(grace, in_flight.idle()).await.is_err() {
        tracing::debug!("RPCs still unanswered after the shutdown grace period; dropping them");
    }
}

/// No core file, and no other process of the same user may attach to this one or read its
/// memory (`PR_SET_DUMPABLE` 0 on Linux): values a provider holds in memory stay there. Root
/// still can; `/proc/PID/status` stays readable.
fn keep_memory_private() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::process::{set_dumpable_behavior, DumpableBehavior};
        if let Err(e) = set_dumpable_behavior(DumpableBehavior::NotDumpable) {
            tracing::debug!(error = %e, "could not make the process non-dumpable");
        }
    }
}

fn flatten(
    joined: Result<Result<(), tonic::transport::Error>, tokio::task::JoinError>,
) -> Result<(), RuntimeError> {
    match joined {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(RuntimeError::Transport(e)),
        Err(_) => Err(RuntimeError::ServerTask),
    }
}

/// Installs the signal handlers now (so a signal arriving right after the
/// handshake line is already handled) and returns the task that reacts to
/// them: SIGINT is eaten (Terraform handles Ctrl-C and tells us via
/// StopProvider, as go-plugin's server assumes); SIGTERM shuts down.
fn watch_signals(shutdown: Shutdown) -> tokio::task::JoinHandle<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            tracing::warn!("could not install signal handlers");
            return tokio::spawn(async {});
        };
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = int.recv() => tracing::trace!("plugin received SIGINT, ignoring"),
                    _ = term.recv() => {
                        tracing::debug!("plugin received SIGTERM, shutting down");
                        shutdown.trigger();
                        return;
                    }
                }
            }
        })
    }
    #[cfg(not(unix))]
    {
        let _ = shutdown;
        tokio::spawn(async {
            while tokio::signal::ctrl_c().await.is_ok() {
                tracing::trace!("plugin received interrupt, ignoring");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn the_process_is_made_non_dumpable() {
        use rustix::process::{dumpable_behavior, DumpableBehavior};
        super::keep_memory_private();
        assert_eq!(dumpable_behavior().unwrap(), DumpableBehavior::NotDumpable);
    }
}
