//! The plugin runtime, driven the way Terraform drives a provider: launch
//! the example provider binary with go-plugin's environment, read the
//! handshake line, connect over the unix socket with mutual TLS using a
//! client certificate shaped like go-plugin's, call services, shut down.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use offstate_proto::plugin::{grpc_controller_client::GrpcControllerClient, Empty};
use offstate_proto::tfplugin6::{self, provider_client::ProviderClient};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tonic::transport::Channel;
use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};

#[path = "support/plugin_client.rs"]
mod plugin_client;

use plugin_client::{go_plugin_like_identity, ClientIdentity, Handshake, ServerTrust, COOKIE};

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// The example provider, built by `cargo test` next to this test binary.
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join("examples").join("minimal_provider");
    assert!(
        path.exists(),
        "{} missing: run `cargo test --release -p offstate-framework` (it builds examples)",
        path.display()
    );
    path
}

struct Launch {
    client_cert_pem: Option<String>,
    cookie: Option<&'static str>,
    protocol_versions: &'static str,
    tcp: bool,
    socket_dir: Option<PathBuf>,
    tf_log: Option<&'static str>,
    panic_with: Option<String>,
    slow_schema_ms: Option<u64>,
    grace_ms: Option<u64>,
}

impl Default for Launch {
    fn default() -> Self {
        Self {
            client_cert_pem: None,
            cookie: Some(COOKIE),
            protocol_versions: "5,6",
            tcp: false,
            socket_dir: None,
            tf_log: None,
            panic_with: None,
            slow_schema_ms: None,
            grace_ms: None,
        }
    }
}

fn command(launch: &Launch) -> Command {
    let mut cmd = Command::new(example_binary());
    // What go-plugin's client sets (client.go), minus what we vary.
    cmd.env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .env_remove("PLUGIN_CLIENT_CERT")
        .env_remove("PLUGIN_UNIX_SOCKET_DIR")
        .env("PLUGIN_PROTOCOL_VERSIONS", launch.protocol_versions)
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(cookie) = launch.cookie {
        cmd.env("TF_PLUGIN_MAGIC_COOKIE", cookie);
    }
    if let Some(pem) = &launch.client_cert_pem {
        cmd.env("PLUGIN_CLIENT_CERT", pem);
    }
    if let Some(dir) = &launch.socket_dir {
        cmd.env("PLUGIN_UNIX_SOCKET_DIR", dir);
    }
    if let Some(level) = launch.tf_log {
        cmd.env("TF_LOG", level);
    }
    if let Some(text) = &launch.panic_with {
        cmd.env("OFFSTATE_EXAMPLE_PANIC", text);
    }
    if let Some(ms) = launch.slow_schema_ms {
        cmd.env("OFFSTATE_EXAMPLE_SLOW_SCHEMA_MS", ms.to_string());
    }
    if let Some(ms) = launch.grace_ms {
        cmd.env("OFFSTATE_EXAMPLE_GRACE_MS", ms.to_string());
    }
    if launch.tcp {
        cmd.env("OFFSTATE_EXAMPLE_TRANSPORT", "tcp");
    }
    cmd
}

/// A running plugin and what it announced.
struct Plugin {
    child: Child,
    stdout: BufReader<ChildStdout>,
    // Drained from the start, as Terraform does: a plugin that logs more
    // than a pipe buffer would otherwise block.
    stderr: tokio::task::JoinHandle<String>,
    handshake: Handshake,
}

async fn start(launch: Launch) -> Plugin {
    let mut child = command(&launch).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let stderr = tokio::spawn(stderr_text(child.stderr.take().unwrap()));
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(10), stdout.read_line(&mut line))
        .await
        .expect("handshake line within 10 s")
        .unwrap();
    let line = line
        .strip_suffix('\n')
        .expect("handshake line ends with a newline");
    // `Handshake::parse` forgives a CR before the newline; go-plugin's
    // handshake has none.
    assert!(!line.ends_with('\r'), "handshake line {line:?}");
    let handshake = Handshake::parse(line).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(handshake.core_version, "1", "core protocol");
    assert_eq!(handshake.app_version, "6", "app protocol");
    assert!(
        ["unix", "tcp"].contains(&handshake.network.as_str()),
        "network in {line:?}"
    );
    assert_eq!(handshake.protocol, "grpc");
    let cert_field = line.rsplit('|').next().unwrap();
    assert!(!cert_field.contains('='), "no base64 padding");
    Plugin {
        child,
        stdout,
        stderr,
        handshake,
    }
}

impl Plugin {
    /// Connects a channel; `identity` is the client certificate to present
    /// (None: present none). Errors are returned as text, for the refusal
    /// tests. The plugin's certificate must pass webpki's full validation,
    /// which is stricter than go-plugin's pinning.
    async fn channel(&self, identity: Option<&ClientIdentity>) -> Result<Channel, String> {
        self.handshake
            .channel_with(ServerTrust::WebPki, identity)
            .await
    }

    async fn health(&self, identity: Option<&ClientIdentity>) -> Result<i32, String> {
        let channel = self.channel(identity).await?;
        let response = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: "plugin".to_string(),
            })
            .await
            .map_err(|s| format!("{s:?}"))?;
        Ok(response.into_inner().status)
    }

    /// Calls Shutdown, checks the process exits with status 0, and returns
    /// how long it took to exit after the call was sent, what it wrote to
    /// stdout after the handshake line, and its stderr.
    async fn shutdown(mut self, identity: Option<&ClientIdentity>) -> (Duration, String, String) {
        let channel = self.channel(identity).await.unwrap();
        let mut controller = GrpcControllerClient::new(channel);
        let sent = Instant::now();
        // go-plugin ignores this call's result; we want it to succeed.
        controller.shutdown(Empty {}).await.unwrap();
        let status = tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .expect("plugin exits after Shutdown")
            .unwrap();
        let elapsed = sent.elapsed();
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).await.unwrap();
        let stderr = self.stderr.await.unwrap();
        assert!(
            status.success(),
            "plugin exited with {status}; stderr: {stderr}"
        );
        (elapsed, rest, stderr)
    }
}

const SERVING: i32 = 1;

/// A refusal during or right after the TLS handshake surfaces as a
/// transport error whose detail depends on timing: the server's alert
/// ("received fatal alert: AccessDenied" / "CertificateRequired") when the
/// client reads it first, else a broken pipe, a reset, or "connection
/// closed". Never as a status the server sent, which would mean a request
/// was served.
fn assert_refused_by_tls(err: &str) {
    assert!(
        err.contains("tonic::transport::Error("),
        "expected a transport-level refusal, got {err}"
    );
}

async fn stderr_text(mut stderr: ChildStderr) -> String {
    let mut out = String::new();
    let _ = stderr.read_to_string(&mut out).await;
    out
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn mtls_handshake_health_schema_and_prompt_shutdown() {
    let id = go_plugin_like_identity();
    let plugin = start(Launch {
        client_cert_pem: Some(id.pem.clone()),
        ..Default::default()
    })
    .await;
    assert_eq!(plugin.handshake.network, "unix");
    assert!(
        plugin.handshake.server_cert.is_some(),
        "AutoMTLS: cert in handshake"
    );

    assert_eq!(plugin.health(Some(&id)).await.unwrap(), SERVING);

    let channel = plugin.channel(Some(&id)).await.unwrap();
    let mut provider = ProviderClient::new(channel)
        .max_encoding_message_size(64 * 1024 * 1024)
        .max_decoding_message_size(64 * 1024 * 1024);
    let schema = provider
        .get_provider_schema(tfplugin6::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(schema.provider.is_some());
    assert!(schema.resource_schemas.is_empty());

    // Everything else answers Unimplemented, and a request well over tonic's
    // default 4 MiB limit is still decoded (the limit is 256 MiB).
    let big = tfplugin6::validate_provider_config::Request {
        config: Some(tfplugin6::DynamicValue {
            msgpack: vec![0xc0; 6 * 1024 * 1024],
            json: Vec::new(),
        }),
    };
    let status = provider.validate_provider_config(big).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unimplemented, "{status:?}");

    let socket = PathBuf::from(&plugin.handshake.address);
    assert!(socket.exists());
    let (elapsed, rest_of_stdout, _) = plugin.shutdown(Some(&id)).await;
    assert!(elapsed < Duration::from_secs(1), "exit took {elapsed:?}");
    assert_eq!(rest_of_stdout, "", "the handshake is the only stdout line");
    assert!(!socket.exists(), "socket removed on exit");
}

/// Terraform is done with a provider when it calls Shutdown, and waits for
/// the process to be gone; the provider must not wait in turn for Terraform
/// to hang up, or to acknowledge HTTP/2's goodbye. Here the client's
/// runtime stops running once Shutdown is answered (a busy Terraform at
/// worst): its connection stays open and silent, and the grace is far
/// longer than the 5 s the test allows.
#[test]
fn shutdown_exits_without_waiting_for_the_client_to_hang_up() {
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let id = go_plugin_like_identity();
    let (mut plugin, channel) = client.block_on(async {
        let plugin = start(Launch {
            client_cert_pem: Some(id.pem.clone()),
            grace_ms: Some(60_000),
            ..Default::default()
        })
        .await;
        assert_eq!(plugin.health(Some(&id)).await.unwrap(), SERVING);
        let channel = plugin.channel(Some(&id)).await.unwrap();
        GrpcControllerClient::new(channel.clone())
            .shutdown(Empty {})
            .await
            .expect("Shutdown answered");
        (plugin, channel)
    });
    let asked = Instant::now();
    let status = loop {
        if let Some(status) = plugin.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "still running 5 s after Shutdown was answered"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(status.success(), "{status}");
    drop(channel);
}

/// An RPC still running when Shutdown arrives is answered before the
/// process exits (within the grace), and so is Shutdown itself.
#[tokio::test]
async fn shutdown_lets_an_rpc_in_flight_finish_and_answer() {
    let id = go_plugin_like_identity();
    let mut plugin = start(Launch {
        client_cert_pem: Some(id.pem.clone()),
        slow_schema_ms: Some(1_500),
        grace_ms: Some(60_000),
        ..Default::default()
    })
    .await;
    let channel = plugin.channel(Some(&id)).await.unwrap();
    let mut provider = ProviderClient::new(channel.clone());
    let schema = tokio::spawn(async move {
        provider
            .get_provider_schema(tfplugin6::get_provider_schema::Request {})
            .await
    });
    // Well inside the 1.5 s the schema call takes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    if schema.is_finished() {
        panic!("the schema call is no longer running: {:?}", schema.await);
    }
    let sent = Instant::now();
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .expect("Shutdown answered");
    let schema = schema.await.unwrap().expect("the schema call answered");
    assert!(schema.into_inner().provider.is_some());
    let status = tokio::time::timeout(Duration::from_secs(5), plugin.child.wait())
        .await
        .expect("plugin exits after Shutdown")
        .unwrap();
    assert!(status.success(), "{status}");
    let waited = sent.elapsed();
    assert!(
        waited >= Duration::from_millis(900),
        "exited {waited:?} after Shutdown: before the schema call could finish"
    );
}

#[tokio::test]
async fn client_with_another_certificate_is_refused() {
    let id = go_plugin_like_identity();
    let stranger = go_plugin_like_identity();
    let plugin = start(Launch {
        client_cert_pem: Some(id.pem.clone()),
        ..Default::default()
    })
    .await;
    let refused = plugin.health(Some(&stranger)).await;
    let err = refused.expect_err("a stranger's certificate must be refused");
    assert_refused_by_tls(&err);
    // The rightful client still gets through afterwards.
    assert_eq!(plugin.health(Some(&id)).await.unwrap(), SERVING);
    plugin.shutdown(Some(&id)).await;
}

#[tokio::test]
async fn client_without_certificate_is_refused() {
    let id = go_plugin_like_identity();
    let plugin = start(Launch {
        client_cert_pem: Some(id.pem.clone()),
        ..Default::default()
    })
    .await;
    let refused = plugin.health(None).await;
    let err = refused.expect_err("certificate-less client must be refused");
    assert_refused_by_tls(&err);
    plugin.shutdown(Some(&id)).await;
}

#[tokio::test]
async fn socket_is_private_to_the_user() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    let base = tempfile::tempdir().unwrap();
    let id = go_plugin_like_identity();
    let plugin = start(Launch {
        client_cert_pem: Some(id.pem.clone()),
        socket_dir: Some(base.path().to_path_buf()),
        ..Default::default()
    })
    .await;
    let socket = PathBuf::from(&plugin.handshake.address);
    assert_eq!(
        socket.parent().unwrap(),
        base.path(),
        "honours PLUGIN_UNIX_SOCKET_DIR"
    );
    let meta = std::fs::symlink_metadata(&socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "socket mode");
    plugin.shutdown(Some(&id)).await;
    assert!(!socket.exists(), "socket removed on exit");
    assert_eq!(
        std::fs::read_dir(base.path()).unwrap().count(),
        0,
        "nothing left in the socket directory"
    );
}

#[tokio::test]
async fn tcp_transport_stays_on_loopback_within_the_port_range() {
    let id = go_plugin_like_identity();
    let plugin = start(Launch {
        client_cert_pem: Some(id.pem.clone()),
        tcp: true,
        ..Default::default()
    })
    .await;
    assert_eq!(plugin.handshake.network, "tcp");
    let addr: std::net::SocketAddr = plugin.handshake.address.parse().unwrap();
    assert!(addr.ip().is_loopback());
    assert!((10000..=25000).contains(&addr.port()), "{addr}");
    assert_eq!(plugin.health(Some(&id)).await.unwrap(), SERVING);
    assert!(plugin.health(None).await.is_err());
    let (elapsed, _, _) = plugin.shutdown(Some(&id)).await;
    assert!(elapsed < Duration::from_secs(1), "exit took {elapsed:?}");
}

#[tokio::test]
async fn without_client_cert_serves_plaintext() {
    // Terraform with TF_DISABLE_PLUGIN_TLS sets no PLUGIN_CLIENT_CERT.
    let plugin = start(Launch::default()).await;
    assert!(plugin.handshake.server_cert.is_none());
    assert_eq!(plugin.health(None).await.unwrap(), SERVING);
    plugin.shutdown(None).await;
}

#[tokio::test]
async fn sigint_is_ignored_like_go_plugin() {
    let id = go_plugin_like_identity();
    let plugin = start(Launch {
        client_cert_pem: Some(id.pem.clone()),
        ..Default::default()
    })
    .await;
    let pid = plugin.child.id().unwrap();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(plugin.health(Some(&id)).await.unwrap(), SERVING);
    plugin.shutdown(Some(&id)).await;
}

#[tokio::test]
async fn run_by_hand_without_cookie_exits_1_with_a_message() {
    for cookie in [None, Some("not-the-cookie")] {
        let output = command(&Launch {
            cookie,
            ..Default::default()
        })
        .output()
        .await
        .unwrap();
        assert_eq!(output.status.code(), Some(1), "cookie {cookie:?}");
        assert!(output.stdout.is_empty(), "nothing on stdout");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("not meant to be run directly"),
            "stderr: {stderr}"
        );
    }
}

/// Starts the plugin as `launch` says, expects it to exit 1 before serving,
/// and returns its stderr.
async fn exits_1(launch: &Launch) -> String {
    let mut child = command(launch).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    stderr_text(stderr).await
}

#[tokio::test]
async fn protocol_6_not_offered_exits_1_with_a_message() {
    let message = exits_1(&Launch {
        protocol_versions: "4,5",
        ..Default::default()
    })
    .await;
    assert!(message.contains("protocol 6"), "stderr: {message}");
    assert!(message.contains("4,5"), "stderr: {message}");
}

#[tokio::test]
async fn a_missing_socket_directory_is_named_in_the_error() {
    let base = tempfile::tempdir().unwrap();
    let missing = base.path().join("no-such-dir");
    let message = exits_1(&Launch {
        socket_dir: Some(missing.clone()),
        ..Default::default()
    })
    .await;
    assert!(
        message.contains(&missing.display().to_string()),
        "stderr: {message}"
    );
    assert!(
        message.contains("PLUGIN_UNIX_SOCKET_DIR"),
        "stderr: {message}"
    );
}

#[tokio::test]
async fn tf_log_trace_writes_hclog_json_lines_to_stderr_only() {
    let id = go_plugin_like_identity();
    let plugin = start(Launch {
        client_cert_pem: Some(id.pem.clone()),
        tf_log: Some("trace"),
        ..Default::default()
    })
    .await;
    assert_eq!(plugin.health(Some(&id)).await.unwrap(), SERVING);
    let (_, stdout, stderr) = plugin.shutdown(Some(&id)).await;
    assert_eq!(stdout, "", "logs never go to stdout");
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        for key in ["@level", "@message", "@module", "@timestamp"] {
            assert!(line[key].is_string(), "{key} in {line}");
        }
        assert_eq!(line["@module"], "provider.terraform-provider-minimal");
    }
    assert!(
        lines.iter().any(|l| l["@message"] == "Served RPC"
            && l["tf_rpc"] == "/grpc.health.v1.Health/Check"
            && l["tf_duration_ms"].is_u64()),
        "{stderr}"
    );
}

/// The real client: Terraform's go-plugin with grpc-go, AutoMTLS with its
/// IsCA P-521 certificate, ALPN, health check, GRPCStdio, Shutdown. Runs
/// when a `terraform` is on PATH (the e2e environment has one), and says
/// so on stderr when it is skipped.
#[tokio::test]
async fn real_terraform_loads_the_plugin_over_automtls() {
    let terraform = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("terraform"))
            .find(|p| p.is_file())
    });
    let Some(terraform) = terraform else {
        eprintln!("skipped: no terraform on PATH");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("bin");
    let config = work.path().join("config");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&config).unwrap();
    std::fs::copy(example_binary(), bin.join("terraform-provider-minimal")).unwrap();
    let rc = work.path().join("terraform.rc");
    std::fs::write(
        &rc,
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"example/minimal\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            bin.display()
        ),
    )
    .unwrap();
    std::fs::write(
        config.join("main.tf"),
        "terraform {\n  required_providers {\n    minimal = { source = \"example/minimal\" }\n  }\n}\nprovider \"minimal\" {}\n",
    )
    .unwrap();
    let log = work.path().join("terraform.log");
    let output = Command::new(terraform)
        .args(["providers", "schema", "-json"])
        .current_dir(&config)
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("TF_LOG", "trace")
        .env("TF_LOG_PATH", &log)
        .env_remove("TF_DISABLE_PLUGIN_TLS")
        .env_remove("TF_REATTACH_PROVIDERS")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        output.status.success(),
        "terraform failed: {}\n{log}",
        String::from_utf8_lossy(&output.stderr)
    );
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        schema["provider_schemas"]["registry.terraform.io/example/minimal"]["provider"].is_object(),
        "{schema}"
    );
    // Terraform parsed our hclog lines, and the plugin served over TLS.
    let plugin_lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-minimal:"))
        .collect();
    assert!(
        plugin_lines
            .iter()
            .any(|l| l.contains("plugin serving") && l.contains("tls=true")),
        "{log}"
    );
    assert!(
        plugin_lines
            .iter()
            .any(|l| l.contains("tf_rpc=/tfplugin6.Provider/GetProviderSchema")),
        "{log}"
    );
    assert!(log.contains("plugin process exited"), "{log}");
}

#[tokio::test]
async fn a_panic_prints_its_location_but_not_its_message() {
    // Built from parts at run time, like every canary.
    let canary = format!("canary-{}-{}", "9d2f", std::process::id());
    let id = go_plugin_like_identity();
    let plugin = start(Launch {
        client_cert_pem: Some(id.pem.clone()),
        panic_with: Some(canary.clone()),
        ..Default::default()
    })
    .await;
    let channel = plugin.channel(Some(&id)).await.unwrap();
    let failed = ProviderClient::new(channel)
        .get_provider_schema(tfplugin6::get_provider_schema::Request {})
        .await;
    assert!(failed.is_err());
    // The process survives a panicking handler.
    assert_eq!(plugin.health(Some(&id)).await.unwrap(), SERVING);
    let (_, stdout, stderr) = plugin.shutdown(Some(&id)).await;
    for output in [&stdout, &stderr] {
        assert!(!output.contains(&canary), "panic message leaked");
    }
    let line = stderr
        .lines()
        .find(|l| l.contains("message withheld"))
        .unwrap_or_else(|| panic!("no panic line in stderr: {stderr}"));
    let entry: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(entry["@level"], "error");
    assert!(entry["panic_location"]
        .as_str()
        .unwrap()
        .contains("minimal_provider.rs"));
}
