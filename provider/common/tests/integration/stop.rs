//! Terraform's Ctrl-C (StopProvider) ends the store's calls in flight: [`Stoppable`] around the
//! AWS store, against an endpoint that reads each request and never answers, with the default
//! attempt timeout (30 s). A PutSecretValue, and an STS AssumeRole (assume_role's credentials,
//! resolved inside a Secrets Manager call and inside `account_id`), end within a second of the
//! stop, with an error that says the provider was stopped; a call after the stop sends nothing.

use std::io::{BufReader, Read};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use offstate_common::secret::SecretValue;
use offstate_common::store::aws::{AssumeRole, AwsSecretsManager, AwsStoreConfig};
use offstate_common::store::stoppable::{until_stopped, Stoppable};
use offstate_common::store::{PutValue, StoreError};
use tokio::sync::watch;

/// An endpoint that reads each request, records its operation (Secrets Manager's X-Amz-Target,
/// STS's Action) and never answers, holding the connection open.
fn stall(asked: Arc<Mutex<Vec<String>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let asked = asked.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn);
                let Some((op, _)) = crate::read_request(&mut reader) else {
                    return;
                };
                asked.lock().unwrap().push(op);
                // Never answered; the connection stays open until the client drops it.
                let mut rest = [0u8; 1];
                let _ = reader.read(&mut rest);
            });
        }
    });
    url
}

/// Base credentials and a region in the environment, no metadata service, nothing else.
fn environment() {
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        std::env::set_var(k, v);
    }
    for k in [
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STS",
        "AWS_SESSION_TOKEN",
        "OFFSTATE_AWS_ATTEMPT_TIMEOUT",
    ] {
        std::env::remove_var(k);
    }
}

/// Waits until the endpoint was asked `op`, then stops; returns when it stopped.
async fn stop_when_asked(
    asked: &Arc<Mutex<Vec<String>>>,
    op: &str,
    stop: &watch::Sender<bool>,
) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !asked.lock().unwrap().iter().any(|o| o == op) {
        assert!(Instant::now() < deadline, "{op} reached the endpoint");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send_replace(true);
    Instant::now()
}

fn assert_stopped(e: &StoreError, write: bool) {
    assert!(e.is_stopped(), "the stop ends the call: {e}");
    let may_have = e.message().contains("may already have been carried out");
    assert_eq!(
        may_have, write,
        "a write says it may have been carried out: {e}"
    );
}

#[tokio::test]
async fn a_stalled_put_secret_value_ends_at_the_stop_not_at_the_attempt_timeout() {
    let _environment = crate::environment::lock().await;
    environment();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let store = AwsSecretsManager::connect(&AwsStoreConfig {
        endpoint: Some(stall(asked.clone())),
        ..Default::default()
    })
    .await
    .expect("connect");
    let (stop, watched) = watch::channel(false);
    let store = Stoppable::wrap(Arc::new(store), watched);
    let put = store.put_value(PutValue {
        secret_id: "app/db".into(),
        value: SecretValue::from("s3cr3t-value".to_owned()),
        binary: false,
        client_request_token: None,
    });
    let (answer, stopped) = tokio::join!(put, stop_when_asked(&asked, "PutSecretValue", &stop));
    let took = stopped.elapsed();
    let e = answer.expect_err("a stalled call fails");
    assert_stopped(&e, true);
    assert!(!e.message().contains("s3cr3t"), "no value in the error");
    assert!(
        took < Duration::from_secs(2),
        "ended {took:?} after the stop (attempt timeout 30 s)"
    );

    // After the stop: fails at once, nothing sent.
    let sent = asked.lock().unwrap().len();
    let t = Instant::now();
    let e = store
        .describe("app/db")
        .await
        .expect_err("a call after the stop fails");
    assert!(
        e.is_stopped() && e.message().contains("before the call was sent"),
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_millis(500));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        asked.lock().unwrap().len(),
        sent,
        "nothing sent after the stop"
    );
}

#[tokio::test]
async fn a_stalled_assume_role_ends_at_the_stop() {
    let _environment = crate::environment::lock().await;
    environment();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let url = stall(asked.clone());
    std::env::set_var("AWS_ENDPOINT_URL_STS", &url);
    let config = AwsStoreConfig {
        endpoint: Some(url),
        assume_role: Some(AssumeRole {
            role_arn: "arn:aws:iam::123456789012:role/offstate".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    // Inside a Secrets Manager call (its credentials), and inside `account_id` (configure's
    // allowed_account_ids check).
    for within in ["DescribeSecret", "GetCallerIdentity"] {
        asked.lock().unwrap().clear();
        let store = AwsSecretsManager::connect(&config).await.expect("connect");
        let (stop, watched) = watch::channel(false);
        let call = async {
            if within == "DescribeSecret" {
                Stoppable::wrap(Arc::new(store.clone()), watched.clone())
                    .describe("app/db")
                    .await
                    .map(|_| ())
            } else {
                until_stopped(&watched, false, store.account_id())
                    .await
                    .map(|_| ())
            }
        };
        let (answer, stopped) = tokio::join!(call, stop_when_asked(&asked, "AssumeRole", &stop));
        let took = stopped.elapsed();
        let e = answer.expect_err("a stalled AssumeRole fails the call");
        assert_stopped(&e, false);
        assert!(
            took < Duration::from_secs(2),
            "{within}: ended {took:?} after the stop"
        );
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked, ["AssumeRole"], "{within}: only STS was reached");
    }
}
