//! `scrub` / `restore` / `migrate`: round trips over the audit corpus (in-memory store), a canary
//! that must appear in no output, error cases that leave the input untouched, and, against a
//! local moto server, the real binary end to end plus a crash test that SIGKILLs `scrub --write`.
//!
//! moto tests need `moto_server` on PATH; without it they pass with a note, unless `CI` or
//! `OFFSTATE_REQUIRE_MOTO` is set, where they fail.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use crate::util::{aws_env, required, Moto};
use offstate_common::store::memory::MemoryStore;
use offstate_common::store::{
    CreateSecret, Deletion, FetchedValue, ListFilter, MetadataUpdate, PolicyValidationError,
    PutValue, Replica, ReplicaStatus, RotateRequest, SecretMeta, SecretStore, StoreError,
    VersionInfo, VersionSelector,
};
use offstate_common::SecretValue;
use rand::Rng;
use serde_json::{json, Value};
use state_scrubber::scrub::{self, restore, store::Stored, ScrubOptions};

mod cli;
mod concurrent;
mod config;
mod dry_run;
mod end_to_end;
mod in_flight;
mod kms;
mod library;
mod lock;
mod manifest;
mod meanwhile;
mod migrate;
#[cfg(unix)]
mod ownership;
mod refusals;
mod restore_twin;
mod signals;

const BIN: &str = env!("CARGO_BIN_EXE_state-scrubber");

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A random canary made at run time: 24 letters and digits behind a fixed-looking head,
/// [`plant`](crate::util::plant)ed.
fn canary() -> String {
    let mut r = rand::rng();
    let tail: String = (0..24)
        .map(|_| {
            let c = r.random_range(0..36u8);
            (if c < 10 { b'0' + c } else { b'a' + c - 10 }) as char
        })
        .collect();
    crate::util::plant(&format!("Cn{tail}"))
}

fn canary_forms(c: &str) -> Vec<String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![c.to_string(), b64.encode(c), c[2..].to_string()]
}

fn assert_no_canary(c: &str, what: &str, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    for f in canary_forms(c) {
        assert!(!text.contains(&f), "canary found in {what}");
    }
}

/// A v4 state with the canary in a twin attribute, a secret JSON string, a sensitive output,
/// a nested map, and a resource whose provider has no twin key.
fn canary_state(c: &str) -> String {
    let doc = json!({
        "version": 4,
        "terraform_version": "1.15.0",
        "serial": 3,
        "lineage": "6b0e2b9c-0000-4000-8000-00000000c4a1",
        "outputs": {
            "db_password": {"value": c, "type": "string", "sensitive": true}
        },
        "resources": [
            {"mode": "managed", "type": "aws_db_instance", "name": "main",
             "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 2, "attributes": {
                 "id": "db-1", "username": "app", "password": c,
                 "password_wo": null, "password_wo_version": null},
                 "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]],
                 "identity_schema_version": 0}]},
            {"module": "module.legacy[\"eu\"]", "mode": "managed", "type": "aws_db_instance", "name": "old",
             "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"index_key": 0, "schema_version": 2, "attributes": {
                 "id": "db-2", "password": format!("{c}-old")},
                 "sensitive_attributes": [], "identity_schema_version": 0}]},
            {"mode": "managed", "type": "aws_secretsmanager_secret_version", "name": "api",
             "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 0, "attributes": {
                 "id": "arn|v", "secret_id": "arn", "secret_string": format!("{{\"password\":\"{c}<&>\"}}"),
                 "secret_string_wo": null, "secret_string_wo_version": null},
                 "sensitive_attributes": [[{"type": "get_attr", "value": "secret_string"}]],
                 "identity_schema_version": 0}]}
        ],
        "check_results": null
    });
    serde_json::to_string_pretty(&doc).unwrap() + "\n"
}

fn json(b: &[u8]) -> Value {
    serde_json::from_slice(b).expect("valid JSON")
}

async fn scrub_write(
    src: &[u8],
    file: &str,
    store: &dyn SecretStore,
) -> Result<scrub::ScrubReport, scrub::ScrubError> {
    scrub_write_to("test/app", src, file, store).await
}

async fn scrub_write_to(
    prefix: &str,
    src: &[u8],
    file: &str,
    store: &dyn SecretStore,
) -> Result<scrub::ScrubReport, scrub::ScrubError> {
    let mut opts = ScrubOptions::new(prefix);
    opts.write = true;
    scrub::scrub(src, file, &opts, Some(store)).await
}

/// `program ARGS` with the test AWS environment: stdin `/dev/null`, stdout and stderr piped,
/// SIGINT and SIGTERM at their default action. A test run started in the background by a shell
/// without job control (`nohup make test &`, some CI runners) has SIGINT ignored, every child
/// inherits that, and scrub rightly keeps a signal it was started with ignored: the signal
/// tests would then wait for a Ctrl-C that can never arrive. A terminal's foreground program has
/// them at their default, as here.
fn command(program: &str, args: &[&str]) -> Command {
    use std::os::unix::process::CommandExt as _;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in aws_env() {
        cmd.env(k, v);
    }
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            Ok(())
        });
    }
    cmd
}

/// Write `input` to `child`'s stdin (piped) and close it.
fn feed(child: &mut std::process::Child, input: &[u8]) {
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(input).unwrap();
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = command(BIN, args);
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        feed(&mut child, input);
    }
    child.wait_with_output().unwrap()
}

/// A fresh canary `c`, and `p`, a `terraform.tfstate` holding `original`, `canary_state(c)`, in
/// a folder of its own (`dir`, removed on drop): `(c, dir, p, original)`.
fn canary_file() -> (String, tempfile::TempDir, PathBuf, String) {
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    let original = canary_state(&c);
    std::fs::write(&p, &original).unwrap();
    (c, dir, p, original)
}

/// No form of canary `c` in `o`'s stdout or stderr.
fn assert_no_canary_out(c: &str, o: &Output) {
    assert_no_canary(c, "stdout", &o.stdout);
    assert_no_canary(c, "stderr", &o.stderr);
}

/// `n` secret versions whose `secret_string` has a write-only twin (so the manifest is the only
/// record of where each value went), the values made from `value(i)`.
fn twin_state(serial: u64, n: usize, value: impl Fn(usize) -> String) -> String {
    let resources: Vec<Value> = (0..n)
        .map(|i| {
            json!({"mode": "managed", "type": "aws_secretsmanager_secret_version",
                "name": format!("app_{i:04}"),
                "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
                "instances": [{"schema_version": 0, "attributes": {
                    "id": format!("arn:aws:secretsmanager:eu-west-1:1:secret:app-{i}|v1"),
                    "secret_id": format!("arn:aws:secretsmanager:eu-west-1:1:secret:app-{i}"),
                    "secret_string": value(i),
                    "secret_string_wo": null, "secret_string_wo_version": null},
                    "sensitive_attributes": [[{"type": "get_attr", "value": "secret_string"}]],
                    "identity_schema_version": 0}]})
        })
        .collect();
    let doc = json!({"version": 4, "terraform_version": "1.15.0", "serial": serial,
        "lineage": "7c1f0d2e-0000-4000-8000-0000000b4c0f", "outputs": {},
        "resources": resources, "check_results": null});
    serde_json::to_string_pretty(&doc).unwrap() + "\n"
}

/// The test's own client of a moto server (fake credentials, no shared config read).
async fn moto_client(url: &str) -> offstate_common::store::aws::AwsSecretsManager {
    use offstate_common::store::aws::{AwsSecretsManager, AwsStoreConfig};
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials");
    std::fs::write(
        &creds,
        "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, "[default]\n").unwrap();
    AwsSecretsManager::connect(&AwsStoreConfig {
        region: Some("us-east-1".into()),
        endpoint: Some(url.into()),
        shared_config_files: vec![config],
        shared_credentials_files: vec![creds],
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Every secret under `prefix/`, described (KMS key and tags).
async fn described(store: &dyn SecretStore, prefix: &str) -> Vec<SecretMeta> {
    let mut out = Vec::new();
    let filter = ListFilter {
        name_prefix: Some(format!("{prefix}/")),
        ..Default::default()
    };
    for m in store.list(&filter).await.unwrap() {
        out.push(store.describe(&m.name).await.unwrap().unwrap());
    }
    out
}

/// Exit code 0, or the stderr (which holds no value) in the failure.
fn assert_ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `COMMAND STATE --write --prefix PREFIX --endpoint URL`.
fn write_args<'a>(command: &'a str, state: &'a str, prefix: &'a str, url: &'a str) -> [&'a str; 7] {
    [
        command,
        state,
        "--write",
        "--prefix",
        prefix,
        "--endpoint",
        url,
    ]
}

/// `scrub PATH --write --prefix PREFIX` against `url`.
fn scrub_file(path: &Path, prefix: &str, url: &str) -> Output {
    run(
        &write_args("scrub", path.to_str().unwrap(), prefix, url),
        None,
    )
}

/// The scrub manifest of `lineage` under `prefix` at moto, if there is one.
fn manifest_at(url: &str, prefix: &str, lineage: &str) -> Option<scrub::store::Manifest> {
    let name = scrub::store::manifest_name(prefix, lineage);
    rt().block_on(async {
        let client = moto_client(url).await;
        scrub::store::load_manifest(&client, &name).await.unwrap()
    })
}

/// Every secret name under `prefix/` at moto.
fn names_at(url: &str, prefix: &str) -> std::collections::BTreeSet<String> {
    rt().block_on(async {
        let store = moto_client(url).await;
        described(&store, prefix)
            .await
            .into_iter()
            .map(|m| m.name)
            .collect()
    })
}

/// `state-scrubber ARGS` in the background, output piped.
fn spawn(args: &[&str]) -> std::process::Child {
    command(BIN, args).spawn().unwrap()
}

/// `kill ARGS` (`-INT PID`, ...), which must succeed.
fn kill(args: &[&str]) {
    assert!(Command::new("kill").args(args).status().unwrap().success());
}
