//! A small harness: write fixtures, run the binary, look at what users see.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_state-scrubber"));
    c.env_remove("STATE_SCRUBBER_FINGERPRINT_KEY");
    c.env("NO_COLOR", "1");
    c
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", self.stdout))
    }
}

pub fn done(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub fn audit(args: &[&str]) -> Run {
    done(
        bin()
            .arg("audit")
            .args(args)
            .output()
            .expect("run state-scrubber"),
    )
}

pub fn audit_in(dir: &Path, args: &[&str]) -> Run {
    done(
        bin()
            .current_dir(dir)
            .arg("audit")
            .args(args)
            .output()
            .expect("run state-scrubber"),
    )
}

pub fn audit_stdin(args: &[&str], input: &[u8]) -> Run {
    use std::io::Write;
    let mut child = bin()
        .arg("audit")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(input).unwrap();
    done(child.wait_with_output().unwrap())
}

pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().unwrap(),
        }
    }
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.tmp.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }
    pub fn s(&self, rel: &str) -> String {
        self.tmp.path().join(rel).display().to_string()
    }
}

static COUNTER: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(0x2545_F491_4F6C_DD1D);

/// A random string made at test time (fake secrets are never literals in the repo).
pub fn random(charset: &str, n: usize) -> String {
    let chars: Vec<char> = charset.chars().collect();
    let mut x: u64 = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64)
        ^ ((std::process::id() as u64) << 32)
        ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, std::sync::atomic::Ordering::Relaxed);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // xorshift's high bits are its best ones.
            chars[((x >> 32) % chars.len() as u64) as usize]
        })
        .collect()
}

/// The forms a leaked canary may take in an output: as is, JSON-escaped, and base64 (padded and
/// not).
pub fn encoded_forms(canary: &str) -> Vec<String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![
        canary.to_string(),
        serde_json::to_string(canary)
            .unwrap()
            .trim_matches('"')
            .to_string(),
        b64.encode(canary),
        b64.encode(canary).trim_end_matches('=').to_string(),
    ]
}

pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Expand a rules-file example template: `{{}}` → nothing, `{{r:SET:N}}` → N random characters;
/// any other `{{...}}` is kept as written (e.g. CloudFormation's `{{resolve:...}}`).
pub fn expand(t: &str) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let j = rest[i..].find("}}").expect("closed placeholder") + i;
        let inner = &rest[i + 2..j];
        if let Some(spec) = inner.strip_prefix("r:") {
            let (set, n) = spec.split_once(':').unwrap();
            let chars = match set {
                "upper" => "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                "lower" => "abcdefghijklmnopqrstuvwxyz",
                "digit" => "0123456789",
                "alnum" => ALNUM,
                "hex" => "0123456789abcdef",
                "b64" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                "b32" => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
                "url" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                other => panic!("unknown set {other}"),
            };
            out.push_str(&random(chars, n.parse().unwrap()));
        } else if !inner.is_empty() {
            out.push_str(&rest[i..j + 2]);
        }
        rest = &rest[j + 2..];
    }
    out.push_str(rest);
    out
}

/// A v4 state with the given resources (JSON values).
pub fn state_v4(resources: serde_json::Value) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "version": 4,
        "terraform_version": "1.9.5",
        "serial": 1,
        "lineage": "6f1c3c2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f",
        "outputs": {},
        "resources": resources,
        "check_results": null
    }))
    .unwrap()
}

pub fn resource(
    mode: &str,
    rtype: &str,
    name: &str,
    attributes: serde_json::Value,
    sensitive: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "mode": mode,
        "type": rtype,
        "name": name,
        "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
        "instances": [{"schema_version": 0, "attributes": attributes, "sensitive_attributes": sensitive}]
    })
}

/// Whether the moto tests must run: `CI` or `OFFSTATE_REQUIRE_MOTO` is set.
pub fn required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("OFFSTATE_REQUIRE_MOTO").is_some()
}

/// Fake AWS credentials and a region for a moto server; no shared config is read.
pub fn aws_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_CONFIG_FILE", "/nonexistent/offstate-test"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/offstate-test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
}

/// A moto server on a free loopback port (`moto_server` on PATH; without it a moto test passes
/// with a note, unless [`required`]), stopped when dropped.
pub struct Moto {
    child: std::process::Child,
    pub port: u16,
    pub url: String,
}

impl Moto {
    pub fn start() -> Option<Moto> {
        use std::time::{Duration, Instant};
        let bin = std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|d| d.join("moto_server"))
            .find(|p| p.is_file());
        let Some(bin) = bin else {
            assert!(!required(), "moto_server not on PATH and CI is set");
            eprintln!("note: moto_server not on PATH; moto test skipped");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let m = Moto {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(m)
    }

    /// A path-style PUT (moto takes it unsigned): a bucket (`/b`) or an object (`/b/key`).
    pub fn put(&self, path: &str, body: &[u8]) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        )
        .unwrap();
        s.write_all(body).unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "PUT {path}: {response}"
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
