//! The dry run: the names `--write` uses, bounded reads, denied access, profiles.

use super::*;

// ---- the dry run shows the names --write uses ---------------------------------------------------

/// The secret names in a scrub's output: those of its references (`ref+awssecrets://NAME...`).
fn referenced_names(out: &str) -> std::collections::BTreeSet<String> {
    out.split("ref+awssecrets://")
        .skip(1)
        .map(|rest| {
            rest.split(|c: char| c.is_whitespace() || c == '?' || c == '#')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Review finding: for a state older than the newest one scrubbed under the prefix (a `.backup`),
/// the dry run showed the value names `NAME` where --write stores a value that differs from the
/// current one under `NAME/.offstate-serial/SERIAL`: the reviewed diff was not what --write
/// did. Now the dry run reads Secrets Manager (the manifest, and for an older state the current
/// values) through the same code as --write: the names it shows are the ones --write uses,
/// for the newest state and for an older one.
#[test]
fn the_dry_run_shows_the_names_write_uses() {
    let Some(moto) = Moto::start() else { return };
    let (same, now, old) = (canary(), canary(), canary());
    let all = [same.as_str(), now.as_str(), old.as_str()];
    let prefix = "dry/app";
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("terraform.tfstate");
    let backup = dir.path().join("terraform.tfstate.backup");
    // Two values: the first the same in both states, the second changed since the backup.
    std::fs::write(
        &main,
        twin_state(10, 2, |i| if i == 0 { same.clone() } else { now.clone() }),
    )
    .unwrap();
    std::fs::write(
        &backup,
        twin_state(8, 2, |i| if i == 0 { same.clone() } else { old.clone() }),
    )
    .unwrap();
    for (p, what) in [(&main, "current state"), (&backup, "older state")] {
        let ps = p.to_str().unwrap();
        let before = names_at(&moto.url, prefix);
        let dry = run(
            &["scrub", ps, "--prefix", prefix, "--endpoint", &moto.url],
            None,
        );
        assert_ok(&dry);
        let dry_out = String::from_utf8_lossy(&dry.stdout).into_owned();
        assert!(dry_out.contains("nothing was written"), "{dry_out}");
        assert_eq!(
            names_at(&moto.url, prefix),
            before,
            "the dry run stored nothing"
        );
        let o = scrub_file(p, prefix, &moto.url);
        assert_ok(&o);
        let write_out = String::from_utf8_lossy(&o.stdout).into_owned();
        let shown = referenced_names(&dry_out);
        assert_eq!(shown.len(), 2, "{what}: {dry_out}");
        assert_eq!(
            shown,
            referenced_names(&write_out),
            "{what}: the dry run named other secrets than --write"
        );
        let at_moto = names_at(&moto.url, prefix);
        for n in &shown {
            assert!(at_moto.contains(n), "{what}: {n} shown but not at moto");
        }
        let created: Vec<&String> = at_moto
            .difference(&before)
            .filter(|n| !n.contains(".offstate-manifest"))
            .collect();
        for n in &created {
            assert!(
                shown.contains(*n),
                "{what}: --write created {n}, the dry run did not show it"
            );
        }
        for c in all {
            for (stream, bytes) in [
                ("dry stdout", &dry.stdout),
                ("dry stderr", &dry.stderr),
                ("write stdout", &o.stdout),
                ("write stderr", &o.stderr),
            ] {
                assert_no_canary(c, stream, bytes);
            }
        }
    }
    // The older state's changed value went under a name of its own, and the dry run said so.
    let own = format!(
        "{prefix}/aws_secretsmanager_secret_version.app_0001/secret_string/.offstate-serial/8"
    );
    assert!(names_at(&moto.url, prefix).contains(&own));
}

// ---- the dry run's reads are bounded -----------------------------------------------------------

/// A listener that accepts connections and never answers (a proxy or endpoint that stalls), for
/// as long as it lives.
fn stalling_endpoint() -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    l.set_nonblocking(true).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = stop.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            match l.accept() {
                Ok((s, _)) => held.push(s),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    (url, stop)
}

/// Review finding: the dry run reads Secrets Manager with at most 2 attempts, but each attempt
/// may take 30 s: against an endpoint (or proxy) that accepts and never answers, `scrub STATE`
/// without --write sat for 60 s before printing anything (measured: 60.6 s), and an older
/// state's current-value reads would each add as much. Now the dry run's reads are bounded as a
/// whole (10 s, and a quarter of a second per value): it then shows the plan, with a note that the names were not checked, and no
/// value anywhere.
#[test]
fn a_dry_run_against_a_stalling_store_gives_up_within_seconds() {
    let (url, stop) = stalling_endpoint();
    let (c, _dir, p, original) = canary_file();
    let started = Instant::now();
    let o = run(
        &[
            "scrub",
            p.to_str().unwrap(),
            "--prefix",
            "stall/app",
            "--endpoint",
            &url,
        ],
        None,
    );
    let took = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_ok(&o);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        took < Duration::from_secs(20),
        "the dry run took {took:?}: {out}"
    );
    assert!(
        out.contains("could not check the names") && out.contains("nothing was written"),
        "{out}"
    );
    assert_no_canary_out(&c, &o);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
}

/// A number marked sensitive is named in scrub's plan as left alone, in the form of the other
/// notes (`ADDRESS PATH: ...`, no space before the colon when the path is empty, as for an
/// output), with a step that fits where it is; the state is not touched.
#[test]
fn a_sensitive_number_is_named_as_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    // The sensitive number in the state below.
    crate::util::plant("482913");
    let state = r#"{"version": 4, "terraform_version": "1.9.5", "serial": 3, "lineage": "num-1", "outputs": {"pin": {"value": 482913, "type": "number", "sensitive": true}}, "resources": []}"#;
    std::fs::write(&p, state).unwrap();
    let o = run(&["scrub", p.to_str().unwrap(), "--prefix", "t/"], None);
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_no_canary_out("482913", &o);
    assert!(
        err.contains("note: output.pin: left alone, a number marked sensitive"),
        "{err}"
    );
    assert!(
        err.contains("`ephemeral = true`") && !err.contains("output.pin :"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), state);
}

/// An endpoint that answers every request with Secrets Manager's error `code` (HTTP 400, its JSON
/// error body), as when the caller's IAM policy allows nothing; a request about the scrub
/// manifest gets `manifest_code` instead.
fn endpoint_answering(code: &'static str, manifest_code: &'static str) -> String {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            std::thread::spawn(move || {
                let mut out = conn.try_clone().unwrap();
                let mut reader = BufReader::new(conn);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end().to_ascii_lowercase();
                        if l.is_empty() {
                            break;
                        }
                        if let Some(v) = l.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let code = if String::from_utf8_lossy(&body).contains(".offstate-manifest") {
                        manifest_code
                    } else {
                        code
                    };
                    let reply = format!(
                        "{{\"__type\":\"{code}\",\"message\":\"not authorized to perform this action\"}}"
                    );
                    let _ = write!(
                        out,
                        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: {code}\r\nContent-Length: {}\r\n\r\n{reply}",
                        reply.len()
                    );
                }
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Review check of 3aaaff1 (the dry run exits 2 with what --write would refuse): Secrets Manager
/// refusing the caller (access denied) is no verdict on a secret. The dry run shows its plan with
/// a note saying what it could not check, exit 0, as before; --write cannot store and exits 2.
/// Neither touches the state.
#[test]
fn a_dry_run_denied_access_shows_its_plan_and_exits_0() {
    // Denied everything; denied every value's secret but not the manifest (absent).
    for manifest in ["AccessDeniedException", "ResourceNotFoundException"] {
        let (c, _dir, p, original) = canary_file();
        let url = endpoint_answering("AccessDeniedException", manifest);
        let ps = p.to_str().unwrap();
        let dry = run(
            &["scrub", ps, "--prefix", "denied/app", "--endpoint", &url],
            None,
        );
        assert_no_canary_out(&c, &dry);
        let out = format!(
            "{}{}",
            String::from_utf8_lossy(&dry.stdout),
            String::from_utf8_lossy(&dry.stderr)
        );
        assert_eq!(dry.status.code(), Some(0), "{out}");
        assert!(
            out.contains("reading Secrets Manager failed") && out.contains("AccessDenied"),
            "{out}"
        );
        assert!(!out.contains("--write refuses"), "{out}");
        let write = run(
            &[
                "scrub",
                ps,
                "--prefix",
                "denied/app",
                "--endpoint",
                &url,
                "--write",
            ],
            None,
        );
        assert_no_canary_out(&c, &write);
        assert_eq!(write.status.code(), Some(2));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
    }
}

/// `--profile` naming a profile no shared file defines: the store refuses it before any call (in
/// the provider's terms, without the name); scrub says it with the flag and the name, which a
/// command line typed them, and leaves the state alone.
#[test]
fn an_undefined_profile_is_named_with_its_flag() {
    let (c, _dir, p, original) = canary_file();
    let o = run(
        &[
            "scrub",
            p.to_str().unwrap(),
            "--prefix",
            "p",
            "--profile",
            "typo-prof",
            "--write",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "--profile \"typo-prof\" is not defined in the shared config and credentials files"
        ),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
    assert_no_canary_out(&c, &o);
}
