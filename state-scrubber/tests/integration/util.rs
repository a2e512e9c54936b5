//! A small harness: write fixtures, run the binary, look at what users see.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn bin() -> Command {
    install_redacting_hook();
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
        install_redacting_hook();
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

/// A random string made at test time (fake secrets are never literals in the repo), [`plant`]ed.
pub fn random(charset: &str, n: usize) -> String {
    let chars: Vec<char> = charset.chars().collect();
    let mut x: u64 = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64)
        ^ ((std::process::id() as u64) << 32)
        ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, std::sync::atomic::Ordering::Relaxed);
    let value: String = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // xorshift's high bits are its best ones.
            chars[((x >> 32) % chars.len() as u64) as usize]
        })
        .collect();
    plant(&value)
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

// ---- planted values: never in a failure message ---------------------------------------------
//
// A failing assertion prints its message, and many print what state-scrubber printed (`"{}",
// r.all()`, `assert_eq!(stdout, ...)`): were a value ever to leak, the failure would copy it into
// the CI log. Every fake secret a test plants is registered here ([`plant`]; [`random`] and
// [`expand`] do it for what they make), and the panic hook ([`install_redacting_hook`]) prints a
// panic's message with each registered form of each value replaced by [`MASK`], as
// tests/conftest.py does for the e2e suite's canaries.

/// What a planted value is shown as in a panic message.
pub const MASK: &str = "[planted]";

/// Values shorter than this are not registered: masking every `ab12` (a one-character random
/// pick, the 4 digits inside a longer fake password) would make failure messages unreadable.
/// A fake secret this short is planted nowhere; its longer composite is.
pub const SHORTEST_PLANTED: usize = 6;

/// The registry holds no value, only the rolling hash of each form with its length, so that
/// [`redact`] tests every window of a text in one pass per length, however many values were
/// planted (the truncated-state tests plant over 200 000 passwords).
struct Planted {
    keys: std::collections::HashSet<u64>,
    /// Byte lengths of the registered forms.
    lengths: std::collections::BTreeSet<usize>,
}

static PLANTED: std::sync::Mutex<Option<Planted>> = std::sync::Mutex::new(None);

/// The registry; a test that panicked while holding it (none does: nothing in it panics) does
/// not take redaction down with it.
fn planted() -> std::sync::MutexGuard<'static, Option<Planted>> {
    PLANTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The multiplier of the rolling hash (odd, so that no bit of a byte is lost).
const BASE: u64 = 0x9E37_79B9_7F4A_7C15;

fn rolling_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |h, &b| {
        h.wrapping_mul(BASE).wrapping_add(u64::from(b) + 1)
    })
}

fn key(hash: u64, len: usize) -> u64 {
    hash ^ (len as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93)
}

/// Every form in which a panic message may show `value`: [`encoded_forms`] (as is,
/// JSON-escaped, base64), as Rust's `{:?}` writes it (`assert_eq!` on strings, `Value`s) and
/// its JSON escape (a JSON document in an `assert_eq!`), JSON-escaped twice (a JSON string in a
/// JSON string, as `secret_string` holds one), JSON-escaped as Go writes it (`<>&` as `\u003c`:
/// Terraform's `jsonencode`), HTML-escaped (`--format html`), base64 at the three alignments it
/// can have inside a longer blob (the characters whose bits all come from the value), and its
/// bytes as `{:?}` prints a byte slice (`assert_eq!` on file contents).
fn planted_forms(value: &str) -> Vec<String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let json = |s: &str| {
        let q = serde_json::to_string(s).unwrap();
        q[1..q.len() - 1].to_string()
    };
    let debug = |s: &str| {
        let q = format!("{s:?}");
        q[1..q.len() - 1].to_string()
    };
    let escaped = json(value);
    let go = escaped
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    let html = value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    let mut forms = encoded_forms(value);
    forms.extend([debug(value), debug(&escaped), json(&escaped), go, html]);
    let n = value.len();
    for k in 0..3 {
        let mut blob = vec![0u8; k];
        blob.extend_from_slice(value.as_bytes());
        let encoded = b64.encode(&blob);
        let (start, end) = ((k * 8).div_ceil(6), (k + n) * 8 / 6);
        if start < end {
            forms.push(encoded[start..end].to_string());
        }
    }
    forms.push(
        value
            .bytes()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    );
    forms.retain(|f| f.len() >= SHORTEST_PLANTED);
    forms.sort();
    forms.dedup();
    forms
}

/// Register `value` (a fake secret a test writes into a fixture) so that no panic message shows
/// it, in any of its forms; returns it. Installs the redacting panic hook first, so the hook is
/// in place before the value exists. Values shorter than [`SHORTEST_PLANTED`] are not
/// registered.
pub fn plant(value: &str) -> String {
    install_redacting_hook();
    if value.chars().count() >= SHORTEST_PLANTED {
        let forms = planted_forms(value);
        let mut registry = planted();
        let registry = registry.get_or_insert_with(|| Planted {
            keys: Default::default(),
            lengths: Default::default(),
        });
        for f in forms {
            registry
                .keys
                .insert(key(rolling_hash(f.as_bytes()), f.len()));
            registry.lengths.insert(f.len());
        }
    }
    value.to_string()
}

/// `text` with every registered form of every planted value replaced by [`MASK`]: at each
/// position the longest form that starts there, left to right.
pub fn redact(text: &str) -> String {
    let registry = planted();
    let Some(registry) = registry.as_ref() else {
        return text.to_string();
    };
    let bytes = text.as_bytes();
    let n = bytes.len();
    // prefix[i]: the hash of bytes[..i]; a window's hash follows from two of them.
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0u64);
    for &b in bytes {
        let h = *prefix.last().unwrap();
        prefix.push(h.wrapping_mul(BASE).wrapping_add(u64::from(b) + 1));
    }
    let lengths: Vec<(usize, u64)> = registry
        .lengths
        .iter()
        .rev()
        .filter(|&&len| len <= n)
        .map(|&len| (len, BASE.wrapping_pow(len as u32)))
        .collect();
    let mut out = String::with_capacity(n);
    let (mut i, mut shown) = (0, 0);
    'scan: while i < n {
        if text.is_char_boundary(i) {
            for &(len, power) in &lengths {
                let j = i + len;
                if j > n || !text.is_char_boundary(j) {
                    continue;
                }
                let h = prefix[j].wrapping_sub(prefix[i].wrapping_mul(power));
                if registry.keys.contains(&key(h, len)) {
                    out.push_str(&text[shown..i]);
                    out.push_str(MASK);
                    (i, shown) = (j, j);
                    continue 'scan;
                }
            }
        }
        i += 1;
    }
    out.push_str(&text[shown..]);
    out
}

/// What the hook prints for a panic, redacted: the default hook's first lines (thread, place,
/// message). A payload that is not a string is named as the default hook names it.
pub fn panic_report(
    thread: Option<&str>,
    location: Option<&std::panic::Location<'_>>,
    payload: &(dyn std::any::Any + Send),
) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    let place = location.map_or_else(
        || "<unknown>".to_string(),
        |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
    );
    redact(&format!(
        "thread '{}' panicked at {place}:\n{message}",
        thread.unwrap_or("<unnamed>")
    ))
}

/// Replace the default panic hook, once per process, with one that prints [`panic_report`]
/// (and the backtrace when `RUST_BACKTRACE` asks for one) with `eprintln!`, which libtest
/// captures and shows under the failed test as it does the default hook's output. Called by
/// [`plant`] (so before any planted value exists), [`bin`] and [`Dir::new`].
pub fn install_redacting_hook() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    static NOTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let thread = std::thread::current();
            eprintln!(
                "{}",
                panic_report(thread.name(), info.location(), info.payload())
            );
            if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
                let trace = std::backtrace::Backtrace::force_capture();
                eprintln!("stack backtrace:\n{}", redact(&trace.to_string()));
            } else if !NOTED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                eprintln!(
                    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"
                );
            }
        }));
    });
}

pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Expand a rules-file example template: `{{}}` → nothing, `{{r:SET:N}}` → N random characters;
/// any other `{{...}}` is kept as written (e.g. CloudFormation's `{{resolve:...}}`).
pub fn expand(t: &str) -> String {
    let mut out = String::new();
    let mut rest = t;
    let mut made = false;
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
                "bech32" => "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
                "url" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                other => panic!("unknown set {other}"),
            };
            out.push_str(&random(chars, n.parse().unwrap()));
            made = true;
        } else if !inner.is_empty() {
            out.push_str(&rest[i..j + 2]);
        }
        rest = &rest[j + 2..];
    }
    out.push_str(rest);
    // The example with its random parts is the fake secret (a template without one is not).
    if made {
        plant(&out);
    }
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
