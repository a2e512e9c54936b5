//! A benchmark of provider plugin binaries as Terraform drives them (not a
//! test: it asserts nothing, it prints figures).
//!
//! ```text
//! plugin_bench [--spawns N] [--calls N] [--json] [LABEL=]BINARY...
//! ```
//!
//! Each spawn launches the binary with go-plugin's environment (magic
//! cookie, `PLUGIN_PROTOCOL_VERSIONS=5,6`, a P-521 `PLUGIN_CLIENT_CERT`),
//! and measures:
//!
//! * `handshake`: from spawn to the handshake line on stdout;
//! * `connect`: the mTLS connection over the announced socket;
//! * `schema (first)`: the first GetProviderSchema of the process;
//! * `schema`: each of the `--calls` GetProviderSchema calls that follow;
//! * `peak RSS`: `VmHWM` from `/proc/<pid>/status` just before Shutdown, and `RssAnon` (private
//!   anonymous memory) at the same moment;
//! * `exit`: from `GRPCController.Shutdown` to the process having exited.
//!
//! Binaries are measured in turn within each round (A B A B ...), so drift
//! on the machine hits all of them alike. Medians are printed; with two
//! binaries, so are the ratios first/second. `--json` prints one JSON object
//! instead (for `tools/bench-provider`): the medians, plus `handshake_min_ms`,
//! the fastest handshake. Only protocol 6 is spoken.

use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use offstate_proto::plugin::{grpc_controller_client::GrpcControllerClient, Empty};
use offstate_proto::tfplugin6::{self, provider_client::ProviderClient};
use prost::Message as _;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[path = "../tests/support/plugin_client.rs"]
mod plugin_client;

use plugin_client::{go_plugin_like_identity, ClientIdentity, Handshake, COOKIE};

const MAX_MESSAGE: usize = 256 * 1024 * 1024;

struct Target {
    label: String,
    binary: PathBuf,
}

/// What one spawn measured.
struct Run {
    handshake: Duration,
    connect: Duration,
    first_schema: Duration,
    schema: Vec<Duration>,
    peak_rss_kib: u64,
    anon_rss_kib: u64,
    exit: Duration,
    schema_bytes: usize,
}

#[derive(Default)]
struct Samples {
    handshake: Vec<Duration>,
    connect: Vec<Duration>,
    first_schema: Vec<Duration>,
    schema: Vec<Duration>,
    peak_rss_kib: Vec<u64>,
    anon_rss_kib: Vec<u64>,
    exit: Vec<Duration>,
    schema_bytes: usize,
    app_protocol: String,
}

impl Samples {
    fn add(&mut self, run: Run) {
        self.handshake.push(run.handshake);
        self.connect.push(run.connect);
        self.first_schema.push(run.first_schema);
        self.schema.extend(run.schema);
        self.peak_rss_kib.push(run.peak_rss_kib);
        self.anon_rss_kib.push(run.anon_rss_kib);
        self.exit.push(run.exit);
        self.schema_bytes = run.schema_bytes;
    }

    /// (name, unit, median) rows, in print order.
    fn medians(&self) -> Vec<(&'static str, &'static str, f64)> {
        let ms = |v: &[Duration]| median(v.iter().map(|d| d.as_secs_f64() * 1e3).collect());
        vec![
            ("handshake", "ms", ms(&self.handshake)),
            ("connect", "ms", ms(&self.connect)),
            ("schema_first", "ms", ms(&self.first_schema)),
            ("schema", "ms", ms(&self.schema)),
            (
                "peak_rss",
                "MiB",
                median(
                    self.peak_rss_kib
                        .iter()
                        .map(|k| *k as f64 / 1024.0)
                        .collect(),
                ),
            ),
            (
                "anon_rss",
                "MiB",
                median(
                    self.anon_rss_kib
                        .iter()
                        .map(|k| *k as f64 / 1024.0)
                        .collect(),
                ),
            ),
            ("exit", "ms", ms(&self.exit)),
        ]
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// `(VmHWM, RssAnon)` in KiB from `/proc/<pid>/status`: the peak resident set (which counts the
/// binary's mapped pages, and so depends on how the page cache holds the file), and the private
/// anonymous memory resident now (heap and stacks: what the process itself costs).
fn rss_kib(pid: u32) -> Result<(u64, u64), String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no {name} in /proc/{pid}/status"))
    };
    Ok((field("VmHWM:")?, field("RssAnon:")?))
}

async fn measure(
    target: &Target,
    id: &ClientIdentity,
    calls: usize,
) -> Result<(Run, String), String> {
    let mut cmd = Command::new(&target.binary);
    // What go-plugin's client sets (client.go); the rest of our
    // environment passes through as Terraform's does, minus logging.
    cmd.env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .env_remove("TF_LOG_PATH")
        .env_remove("PLUGIN_UNIX_SOCKET_DIR")
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", &id.pem)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);

    let spawned = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("{}: {e}", target.binary.display()))?;
    let pid = child.id().ok_or("no pid")?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line))
        .await
        .map_err(|_| "no handshake line within 30 s".to_string())?
        .map_err(|e| format!("reading the handshake line: {e}"))?;
    let handshake_time = spawned.elapsed();
    let handshake = Handshake::parse(&line)?;
    if handshake.app_version != "6" {
        return Err(format!(
            "{} speaks plugin protocol {}: this benchmark speaks 6 only",
            target.label, handshake.app_version
        ));
    }

    let started = Instant::now();
    let channel = handshake.channel(Some(id)).await?;
    let mut provider = ProviderClient::new(channel.clone())
        .max_encoding_message_size(MAX_MESSAGE)
        .max_decoding_message_size(MAX_MESSAGE);
    let connect = started.elapsed();

    let mut schema_call = async || {
        let started = Instant::now();
        let response = provider
            .get_provider_schema(tfplugin6::get_provider_schema::Request {})
            .await
            .map_err(|s| format!("GetProviderSchema: {s:?}"))?
            .into_inner();
        Ok::<_, String>((started.elapsed(), response))
    };
    let (first_schema, response) = schema_call().await?;
    let schema_bytes = response.encoded_len();
    if let Some(diag) = response.diagnostics.first() {
        return Err(format!("GetProviderSchema diagnostic: {}", diag.summary));
    }
    let mut schema = Vec::with_capacity(calls);
    for _ in 0..calls {
        schema.push(schema_call().await?.0);
    }

    let (peak_rss_kib, anon_rss_kib) = rss_kib(pid)?;

    let sent = Instant::now();
    // go-plugin ignores this call's result, and so do we: the process may
    // be gone before the response is written.
    let _ = GrpcControllerClient::new(channel).shutdown(Empty {}).await;
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .map_err(|_| "still running 10 s after Shutdown".to_string())?
        .map_err(|e| e.to_string())?;
    let exit = sent.elapsed();
    if !status.success() {
        return Err(format!("{} exited with {status}", target.label));
    }
    Ok((
        Run {
            handshake: handshake_time,
            connect,
            first_schema,
            schema,
            peak_rss_kib,
            anon_rss_kib,
            exit,
            schema_bytes,
        },
        handshake.app_version,
    ))
}

struct Args {
    spawns: usize,
    calls: usize,
    json: bool,
    targets: Vec<Target>,
}

fn usage() -> String {
    "usage: plugin_bench [--spawns N] [--calls N] [--json] [LABEL=]BINARY...".to_string()
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        spawns: 20,
        calls: 10,
        json: false,
        targets: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name} wants a positive number\n{}", usage()))
        };
        match arg.as_str() {
            "--spawns" => args.spawns = number("--spawns")?,
            "--calls" => args.calls = number("--calls")?,
            "--json" => args.json = true,
            "-h" | "--help" => return Err(usage()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{}", usage())),
            s => {
                let (label, path) = match s.split_once('=') {
                    Some((label, path)) => (label.to_string(), PathBuf::from(path)),
                    None => {
                        let path = PathBuf::from(s);
                        let label = path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_else(|| s.to_string());
                        (label, path)
                    }
                };
                args.targets.push(Target {
                    label,
                    binary: path,
                });
            }
        }
    }
    if args.targets.is_empty() {
        return Err(usage());
    }
    Ok(args)
}

fn print_table(args: &Args, samples: &[Samples]) {
    println!(
        "plugin_bench: {} spawns per binary, {} warm GetProviderSchema calls per spawn (medians)",
        args.spawns, args.calls
    );
    for (t, s) in args.targets.iter().zip(samples) {
        println!(
            "  {}: {} (protocol {}, schema {} bytes)",
            t.label,
            t.binary.display(),
            s.app_protocol,
            s.schema_bytes
        );
    }
    let width = args
        .targets
        .iter()
        .map(|t| t.label.len() + 2)
        .fold(14, usize::max);
    print!("{:<16}", "");
    for t in &args.targets {
        print!("{:>width$}", t.label);
    }
    if samples.len() == 2 {
        print!("{:>width$}", "ratio");
    }
    println!();
    let rows: Vec<_> = samples.iter().map(Samples::medians).collect();
    for (i, (name, unit, _)) in rows[0].iter().enumerate() {
        print!("{:<16}", format!("{name} ({unit})"));
        for r in &rows {
            print!("{:>width$.3}", r[i].2);
        }
        if rows.len() == 2 {
            print!("{:>width$.3}", rows[0][i].2 / rows[1][i].2);
        }
        println!();
    }
}

fn print_json(args: &Args, samples: &[Samples]) {
    let providers: Vec<serde_json::Value> = args
        .targets
        .iter()
        .zip(samples)
        .map(|(t, s)| {
            let mut m = serde_json::Map::new();
            m.insert("label".into(), t.label.clone().into());
            m.insert("binary".into(), t.binary.display().to_string().into());
            m.insert("protocol".into(), s.app_protocol.clone().into());
            m.insert("schema_bytes".into(), s.schema_bytes.into());
            for (name, unit, value) in s.medians() {
                m.insert(format!("{name}_{}", unit.to_lowercase()), value.into());
            }
            let handshake_min = s.handshake.iter().min().map(|d| d.as_secs_f64() * 1e3);
            m.insert(
                "handshake_min_ms".into(),
                handshake_min.unwrap_or(f64::NAN).into(),
            );
            serde_json::Value::Object(m)
        })
        .collect();
    let out = serde_json::json!({
        "spawns": args.spawns,
        "calls_per_spawn": args.calls,
        "providers": providers,
    });
    println!("{out}");
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // One client identity per run, as Terraform makes one per plugin
    // client; generating it is not part of any figure.
    let id = go_plugin_like_identity();
    let mut samples: Vec<Samples> = args.targets.iter().map(|_| Samples::default()).collect();
    for _ in 0..args.spawns {
        for (target, s) in args.targets.iter().zip(samples.iter_mut()) {
            match measure(target, &id, args.calls).await {
                Ok((run, protocol)) => {
                    s.add(run);
                    s.app_protocol = protocol;
                }
                Err(e) => {
                    eprintln!("plugin_bench: {}: {e}", target.label);
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    if args.json {
        print_json(&args, &samples);
    } else {
        print_table(&args, &samples);
    }
    ExitCode::SUCCESS
}
