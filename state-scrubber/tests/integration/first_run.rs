//! What a new user meets first. `scrub --write` and `audit s3://` with no AWS credentials at
//! all, or nothing listening at the endpoint (a local moto_server not started, a port
//! mistyped): each is exit 2 with one line saying what to set, and the state is untouched.
//! Before, both were the SDK's bare dispatch failure: the credential chain's report with its
//! line breaks printed as `\u{a}`, and "Connection refused" without a word of the endpoint.
//! `scrub` of an OpenTofu-encrypted state says what it is and how to scrub it.

use crate::util::*;
use std::process::Command;

const ALNUM: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A state with one secret attribute, the password `pw`.
fn state(pw: &str) -> String {
    state_v4(serde_json::json!([resource(
        "managed",
        "aws_db_instance",
        "db",
        serde_json::json!({"id": "db", "password": pw}),
        serde_json::json!([]),
    )]))
}

/// The binary with no credential anywhere: no keys in the environment, no profile, shared files
/// that do not exist, no web identity, no container endpoint, instance metadata off.
fn without_credentials(home: &std::path::Path) -> Command {
    let mut c = bin();
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_ENDPOINT_URL_S3",
    ] {
        c.env_remove(k);
    }
    c.env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1");
    c
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn scrub_write_without_credentials_says_what_to_set() {
    let pw = random(ALNUM, 24);
    let dir = Dir::new();
    let p = dir.write("terraform.tfstate", state(&pw));
    let r = done(
        without_credentials(dir.path())
            .args(["scrub", p.to_str().unwrap(), "--prefix", "p", "--write"])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("terraform.tfstate"), "{}", r.stderr);
    assert!(!r.stderr.contains("\\u{a}"), "{}", r.stderr);
    assert!(
        r.stderr.contains("No AWS credentials were found")
            && r.stderr
                .contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains(&pw), "the password was printed");
    assert!(std::fs::read_to_string(&p).unwrap() == state(&pw));
}

#[test]
fn scrub_write_to_an_endpoint_nobody_answers_names_the_settings() {
    let pw = random(ALNUM, 24);
    let dir = Dir::new();
    let p = dir.write("terraform.tfstate", state(&pw));
    let mut c = bin();
    for (k, v) in aws_env() {
        c.env(k, v);
    }
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let r = done(
        c.args(["scrub", p.to_str().unwrap(), "--prefix", "p", "--write"])
            .args(["--endpoint", &endpoint])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("terraform.tfstate"), "{}", r.stderr);
    assert!(
        r.stderr.contains("Nothing answered at the endpoint: check --endpoint, AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains(&pw), "the password was printed");
    assert!(std::fs::read_to_string(&p).unwrap() == state(&pw));
}

#[test]
fn audit_s3_without_credentials_or_answer_says_what_to_set() {
    let dir = Dir::new();
    let r = done(
        without_credentials(dir.path())
            .args(["audit", "s3://tf-states/prod/"])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("s3://tf-states/prod/"), "{}", r.stderr);
    assert!(!r.stderr.contains("\\u{a}"), "{}", r.stderr);
    assert!(
        r.stderr.contains("No AWS credentials were found"),
        "{}",
        r.stderr
    );

    let mut c = bin();
    for (k, v) in aws_env() {
        c.env(k, v);
    }
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let r = done(
        c.args(["audit", "s3://tf-states/prod/", "--endpoint", &endpoint])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("check --endpoint, AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL"),
        "{}",
        r.stderr
    );
}

#[test]
fn scrub_of_an_opentofu_encrypted_state_says_how_to_scrub_it() {
    let dir = Dir::new();
    let body = serde_json::json!({
        "encrypted_data": random(ALNUM, 64),
        "encryption_version": "v0",
        "meta": {"key_provider.pbkdf2.main": random(ALNUM, 32)},
    })
    .to_string();
    let p = dir.write("terraform.tfstate", &body);
    for command in ["scrub", "restore"] {
        let mut c = bin();
        for (k, v) in aws_env() {
            c.env(k, v);
        }
        let r = done(
            c.args([command, p.to_str().unwrap(), "--prefix", "p", "--write"])
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 2, "{command}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("terraform.tfstate: an OpenTofu-encrypted state")
                && r.stderr.contains("tofu state pull"),
            "{command}: {}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("opentofu_encrypted_state"),
            "{}",
            r.stderr
        );
        assert!(std::fs::read_to_string(&p).unwrap() == body);
    }
}

/// `audit` with stderr a terminal (a pseudo-terminal here), `TERM` as given, `CI` unset: what
/// reached the terminal.
fn stderr_on_a_terminal(term: &str, path: &std::path::Path) -> Vec<u8> {
    use std::io::Read as _;
    use std::os::fd::FromRawFd as _;
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two descriptors into the two ints; the other arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: both descriptors were just opened and are owned by nothing else.
    let (master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
        )
    };
    let mut c = bin();
    c.env_remove("CI")
        .env("TERM", term)
        .args(["audit", path.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(slave);
    let status = c.status().unwrap();
    // The child is done and `c` (which held the slave) is dropped with it: reading the master
    // ends with EIO once everything written is read.
    drop(c);
    assert_eq!(status.code(), Some(1));
    let mut out = Vec::new();
    let mut master = master;
    let mut buf = [0u8; 4096];
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// A dumb terminal (`TERM=dumb`: Emacs' shell buffer, some CI log viewers) cannot erase a line:
/// the progress line's `\r\x1b[2K` showed there as it is. None is written to one now; an xterm
/// still gets its progress line.
#[test]
fn no_progress_line_escapes_on_a_dumb_terminal() {
    let pw = random(ALNUM, 24);
    let dir = Dir::new();
    dir.write("terraform.tfstate", state(&pw));
    let has_erase = |out: &[u8]| out.windows(4).any(|w| w == b"\x1b[2K");
    let xterm = stderr_on_a_terminal("xterm-256color", dir.path());
    assert!(has_erase(&xterm), "{:?}", String::from_utf8_lossy(&xterm));
    let dumb = stderr_on_a_terminal("dumb", dir.path());
    assert!(
        !dumb.contains(&0x1b),
        "{:?}",
        String::from_utf8_lossy(&dumb)
    );
}
