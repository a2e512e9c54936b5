//! Credentials echoed back by a service or a proxy never reach state-scrubber's output: an
//! endpoint that answers every request with an error quoting the request's
//! `X-Amz-Security-Token` and `Authorization` headers (as some gateways and proxies do) stands in
//! for Secrets Manager (`scrub --write`) and S3 (`audit s3://...`). The session token is a random
//! canary, from the environment or from a shared credentials file (which only the AWS SDK reads:
//! state-scrubber learns it from the SDK's observing HTTP client and credentials chain). It must
//! not be in stdout, stderr or the JSON report; `[withheld]` must be where it was. The same
//! endpoint, as STS, quotes the form body of AssumeRoleWithWebIdentity: a profile's web identity
//! token (sent only in that body, never in a header) is withheld too.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;

use crate::util::{bin, done, plant, random, resource, state_v4, Run, ALNUM};
use serde_json::json;

/// A loopback endpoint answering every request with an error (JSON for Secrets Manager's
/// `X-Amz-Target` calls, S3's XML otherwise) whose message quotes the request's session token and
/// authorization headers. Runs as long as the test process.
fn echoing_endpoint() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let (mut token, mut auth, mut target, mut length) =
                    (String::new(), String::new(), false, 0usize);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    let Some((name, value)) = line.split_once(':') else {
                        continue;
                    };
                    let value = value.trim().to_string();
                    match name.to_ascii_lowercase().as_str() {
                        "x-amz-security-token" => token = value,
                        "authorization" => auth = value,
                        "x-amz-target" => target = true,
                        "content-length" => length = value.parse().unwrap_or(0),
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let form = String::from_utf8_lossy(&body).into_owned();
                let message = format!(
                    "request refused by the gateway: X-Amz-Security-Token={token} Authorization={auth}"
                );
                let (status, kind, body) = if form.starts_with("Action=") {
                    // STS (a query-protocol form): its error quotes the form body.
                    let quoted = form.replace('&', "&amp;").replace('<', "&lt;");
                    (
                        "400 Bad Request",
                        "text/xml",
                        format!(
                            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>request refused by the gateway: {quoted}</Message></Error><RequestId>r1</RequestId></ErrorResponse>"
                        ),
                    )
                } else if target {
                    (
                        "400 Bad Request",
                        "application/x-amz-json-1.1",
                        json!({"__type": "AccessDeniedException", "message": message}).to_string(),
                    )
                } else {
                    (
                        "403 Forbidden",
                        "application/xml",
                        format!(
                            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>{message}</Message><RequestId>r1</RequestId></Error>"
                        ),
                    )
                };
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    url
}

/// The command with no AWS setting of the caller's, a region and an access key; the session
/// token is set by the caller.
fn aws_command() -> Command {
    let mut c = bin();
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    c.envs([
        ("AWS_REGION", "us-east-1"),
        ("AWS_CONFIG_FILE", "/nonexistent/offstate-test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]);
    c
}

fn assert_withheld(what: &str, r: &Run, canary: &str) {
    assert_ne!(r.code, 0, "{what}: the endpoint refuses every request");
    // Never print the canary: only whether it is there.
    for form in [canary.to_string(), canary[4..].to_string()] {
        assert!(
            !r.stdout.contains(&form) && !r.stderr.contains(&form),
            "{what}: the token is in the output"
        );
    }
    assert!(
        r.all().contains("[withheld]"),
        "{what}: no [withheld] where the token was echoed"
    );
}

/// `dir/terraform.tfstate`: a database instance whose password (random) scrub would move.
fn password_state(dir: &std::path::Path) -> std::path::PathBuf {
    let state = dir.join("terraform.tfstate");
    std::fs::write(
        &state,
        state_v4(json!([resource(
            "managed",
            "aws_db_instance",
            "main",
            json!({"id": "db-1", "username": "app", "password": random(ALNUM, 24)}),
            json!([[{"type": "get_attr", "value": "password"}]]),
        )])),
    )
    .unwrap();
    state
}

#[test]
fn a_session_token_echoed_by_the_endpoint_is_withheld() {
    let endpoint = echoing_endpoint();
    let dir = tempfile::tempdir().unwrap();
    let state = password_state(dir.path());
    let state = state.to_str().unwrap();

    // From the environment, and from a shared credentials file only the SDK reads.
    for source in ["environment", "credentials file"] {
        let canary = plant(&format!("Tok{}", random(ALNUM, 40)));
        let key = random(ALNUM, 40);
        let with_token = || {
            let mut c = aws_command();
            if source == "environment" {
                c.envs([
                    ("AWS_ACCESS_KEY_ID", "AKIDCREDENTIALSTEST"),
                    ("AWS_SECRET_ACCESS_KEY", key.as_str()),
                    ("AWS_SESSION_TOKEN", canary.as_str()),
                ]);
            } else {
                let file = dir.path().join("credentials");
                std::fs::write(
                    &file,
                    format!(
                        "[default]\naws_access_key_id = AKIDCREDENTIALSTEST\naws_secret_access_key = {key}\naws_session_token = {canary}\n"
                    ),
                )
                .unwrap();
                c.env("AWS_SHARED_CREDENTIALS_FILE", file);
            }
            c
        };

        let r = done(
            with_token()
                .args([
                    "scrub",
                    state,
                    "--prefix",
                    "test/app",
                    "--write",
                    "--endpoint",
                    &endpoint,
                ])
                .output()
                .unwrap(),
        );
        assert_withheld(&format!("scrub --write ({source})"), &r, &canary);

        let r = done(
            with_token()
                .args([
                    "audit",
                    "s3://tf-states/envs/",
                    "--endpoint",
                    &endpoint,
                    "--format",
                    "json",
                ])
                .output()
                .unwrap(),
        );
        assert_withheld(&format!("audit s3:// ({source})"), &r, &canary);
        let report = r.json();
        let errors = report["errors"].to_string();
        assert!(
            errors.contains("[withheld]"),
            "audit s3:// ({source}): the report's errors show no [withheld]"
        );
    }
}

#[test]
fn a_web_identity_token_echoed_by_sts_is_withheld() {
    let endpoint = echoing_endpoint();
    let dir = tempfile::tempdir().unwrap();
    let state = password_state(dir.path());
    // A JWT-shaped canary in a profile's web_identity_token_file: the SDK sends it only in the
    // form body of STS's AssumeRoleWithWebIdentity, which the endpoint quotes in its error.
    let canary = plant(&format!(
        "eyJ{}.{}.{}",
        random(ALNUM, 30),
        random(ALNUM, 40),
        random(ALNUM, 30)
    ));
    let token = dir.path().join("web-identity-token");
    std::fs::write(&token, format!("{canary}\n")).unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/ci\nweb_identity_token_file = {}\n",
            token.display()
        ),
    )
    .unwrap();
    let r = done(
        aws_command()
            .envs([
                ("AWS_PROFILE", "ci"),
                ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/offstate-test"),
                ("AWS_ENDPOINT_URL_STS", endpoint.as_str()),
            ])
            .env("AWS_CONFIG_FILE", &config)
            .args([
                "scrub",
                state.to_str().unwrap(),
                "--prefix",
                "test/app",
                "--write",
                "--endpoint",
                &endpoint,
            ])
            .output()
            .unwrap(),
    );
    assert_withheld("scrub --write (web identity token file)", &r, &canary);
}

/// A loopback endpoint answering Secrets Manager calls (`X-Amz-Target`) with the JSON error
/// `code`/`message` (HTTP 400, as AWS sends them), and STS forms with STS's XML error; a call
/// about the scrub manifest (its name in the body) is ResourceNotFoundException when
/// `manifest_found_missing`, so that restore goes on to the references. Runs as long as the
/// test process.
fn refusing_endpoint(code: &'static str, message: &'static str, manifest_missing: bool) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let body = String::from_utf8_lossy(&body).into_owned();
                let (kind, text) = if body.starts_with("Action=") {
                    (
                        "text/xml",
                        format!(
                            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r1</RequestId></ErrorResponse>"
                        ),
                    )
                } else if manifest_missing && body.contains(".offstate-manifest") {
                    (
                        "application/x-amz-json-1.1",
                        json!({"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."}).to_string(),
                    )
                } else {
                    (
                        "application/x-amz-json-1.1",
                        json!({"__type": code, "message": message}).to_string(),
                    )
                };
                let status = if body.starts_with("Action=") {
                    "403 Forbidden"
                } else {
                    "400 Bad Request"
                };
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
            });
        }
    });
    url
}

/// Secrets Manager refusing the credentials themselves (or the URL they went to): scrub (dry
/// run and --write) and restore --write say what to do, as the provider does (the same
/// classification, `StoreError::credentials_fault`), besides the file, the secret and AWS's
/// code; exit 2, the state untouched. Without the advice they printed AWS's code and message
/// alone ("ExpiredTokenException: The security token included in the request is expired").
#[test]
fn credential_faults_name_the_fix() {
    // (code, message, words the advice holds)
    let cases: &[(&str, &str, &str)] = &[
        ("ExpiredTokenException", "The security token included in the request is expired", "session has expired"),
        (
            "InvalidSignatureException",
            "Signature expired: 20261128T000000Z is now earlier than 20261128T000500Z (20261128T001000Z - 5 min.)",
            "clock differs from AWS's",
        ),
        ("UnrecognizedClientException", "The security token included in the request is invalid.", "opt-in region"),
        ("IncompleteSignature", "Authorization header requires 'Credential' parameter.", "Authorization header"),
        ("InvalidSignatureException", "The request signature we calculated does not match the signature you provided.", "secret access key is mistyped"),
        ("MissingAuthenticationTokenException", "Missing Authentication Token", "Check --endpoint"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let state = password_state(dir.path());
    let before = std::fs::read(&state).unwrap();
    let scrubbed = dir.path().join("scrubbed.tfstate");
    std::fs::write(
        &scrubbed,
        state_v4(json!([resource(
            "managed",
            "aws_db_instance",
            "main",
            json!({"id": "db-1", "username": "app", "password": "ref+awssecrets://test/app/aws_db_instance.main/password"}),
            json!([[{"type": "get_attr", "value": "password"}]]),
        )])),
    )
    .unwrap();
    let scrubbed_before = std::fs::read(&scrubbed).unwrap();
    let key = random(ALNUM, 40);
    for &(code, message, advice) in cases {
        for manifest_missing in [false, true] {
            let endpoint = refusing_endpoint(code, message, manifest_missing);
            let (file, args): (&std::path::Path, &[&str]) = if manifest_missing {
                (&scrubbed, &["restore", "--write"])
            } else {
                (&state, &["scrub", "--write"])
            };
            let runs: Vec<&[&str]> = if manifest_missing {
                vec![args]
            } else {
                vec![args, &["scrub"]]
            };
            for args in runs {
                let what = format!("{} ({code}: {message})", args.join(" "));
                let r = done(
                    aws_command()
                        .envs([
                            ("AWS_ACCESS_KEY_ID", "AKIDCREDENTIALSTEST"),
                            ("AWS_SECRET_ACCESS_KEY", key.as_str()),
                        ])
                        .arg(args[0])
                        .arg(file)
                        .args(&args[1..])
                        .args(["--prefix", "test/app", "--endpoint", &endpoint])
                        .output()
                        .unwrap(),
                );
                // The dry run shows the plan with a note (exit 0); the others stop (exit 2).
                let want = if args.len() == 1 { 0 } else { 2 };
                assert_eq!(r.code, want, "{what}: {}", r.stderr);
                let secret = if manifest_missing {
                    "test/app/aws_db_instance.main/password"
                } else {
                    "test/app/.offstate-manifest/"
                };
                for part in [file.to_str().unwrap(), secret, code, advice] {
                    assert!(
                        r.all().contains(part),
                        "{what}: no {part:?} in: {}",
                        r.all()
                    );
                }
                assert!(
                    !r.stderr.contains("Terraform again"),
                    "{what}: {}",
                    r.stderr
                );
            }
        }
    }
    assert!(
        std::fs::read(&state).unwrap() == before,
        "the state was changed"
    );
    assert!(
        std::fs::read(&scrubbed).unwrap() == scrubbed_before,
        "the scrubbed state was changed"
    );

    // STS refusing a profile's role_arn for expired base credentials.
    let endpoint = refusing_endpoint(
        "ExpiredToken",
        "The security token included in the request is expired",
        false,
    );
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = base\n\n[profile base]\n",
    )
    .unwrap();
    let creds = dir.path().join("credentials");
    std::fs::write(
        &creds,
        format!("[base]\naws_access_key_id = AKIDCREDENTIALSTEST\naws_secret_access_key = {key}\naws_session_token = tok\n"),
    )
    .unwrap();
    let r = done(
        aws_command()
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
            .env("AWS_ENDPOINT_URL_STS", &endpoint)
            .args([
                "scrub",
                state.to_str().unwrap(),
                "--prefix",
                "test/app",
                "--write",
                "--profile",
                "deploy",
                "--endpoint",
                &endpoint,
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    for part in [
        "ExpiredToken",
        "AssumeRole",
        "session has expired",
        "test/app/.offstate-manifest/",
    ] {
        assert!(r.stderr.contains(part), "STS: no {part:?} in: {}", r.stderr);
    }
    // state-scrubber has no assume_role: the message names the profile's role_arn alone.
    assert!(
        r.stderr
            .contains("STS AssumeRole (of the profile's role_arn) refused")
            && !r.stderr.contains("assume_role"),
        "STS: {}",
        r.stderr
    );
    assert!(
        std::fs::read(&state).unwrap() == before,
        "the state was changed"
    );
}
