//! A CreateSecret answered 200 with less than AWS returns (a proxy, a gateway or an emulator that
//! answers for AWS): the store asks DescribeSecret instead of recording an empty ARN.
//!
//! Review finding: such an answer was taken as success, and the provider's state then held
//! `id = ""` and `arn = ""` for a secret that may not exist. A small HTTP endpoint here answers
//! CreateSecret as told and DescribeSecret as told.

use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use offstate_common::secret::SecretValue;
use offstate_common::store::aws::{AwsSecretsManager, AwsStoreConfig};
use offstate_common::store::{CreateSecret, SecretStore, StoreError};

const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf";

/// What the endpoint answers: CreateSecret's body, and DescribeSecret's (None: not found).
#[derive(Clone, Default)]
struct Answers {
    create: String,
    describe: Option<String>,
    /// The operations asked, in order.
    asked: Vec<String>,
}

fn serve(answers: Arc<Mutex<Answers>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let answers = answers.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                loop {
                    let Some((op, _)) = crate::read_request(&mut reader) else {
                        return;
                    };
                    let (status, answer) = {
                        let mut a = answers.lock().unwrap();
                        a.asked.push(op.clone());
                        match op.as_str() {
                            "CreateSecret" => ("200 OK", a.create.clone()),
                            "DescribeSecret" => match &a.describe {
                                Some(d) => ("200 OK", d.clone()),
                                None => (
                                    "400 Bad Request",
                                    r#"{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}"#.to_owned(),
                                ),
                            },
                            _ => ("400 Bad Request", r#"{"__type":"UnknownOperationException"}"#.to_owned()),
                        }
                    };
                    let response = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    if conn.write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn a_create_answered_without_its_arn_is_checked_with_describe_secret() {
    // The environment is the binary's: held for this test until it ends.
    let _environment = crate::environment::lock().await;
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
    for k in ["AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"] {
        std::env::remove_var(k);
    }
    let answers = Arc::new(Mutex::new(Answers::default()));
    let url = serve(answers.clone());
    let store = AwsSecretsManager::connect(&AwsStoreConfig {
        endpoint: Some(url),
        max_attempts: Some(1),
        ..Default::default()
    })
    .await
    .expect("connect");
    let request = || CreateSecret {
        name: "app/db".into(),
        value: Some(SecretValue::from_string("an-offstate-test-value".into())),
        ..Default::default()
    };
    let described = format!(
        r#"{{"ARN":"{ARN}","Name":"app/db","VersionIdsToStages":{{"v-1":["AWSCURRENT"]}}}}"#
    );

    let cases: [(&str, &str, Option<&str>); 4] = [
        // No ARN, and the secret is not there: an error, never an empty ARN.
        (
            "no ARN, not created",
            r#"{"Name":"app/db","VersionId":"v-1"}"#,
            None,
        ),
        // No ARN, the secret is there: DescribeSecret's answer.
        (
            "no ARN, created",
            r#"{"Name":"app/db"}"#,
            Some(described.as_str()),
        ),
        // An empty ARN counts as none.
        (
            "empty ARN",
            r#"{"ARN":"","Name":"app/db","VersionId":"v-1"}"#,
            Some(described.as_str()),
        ),
        // The ARN but, for a create with a value, no version id.
        (
            "no version id",
            &format!(r#"{{"ARN":"{ARN}","Name":"app/db"}}"#),
            Some(described.as_str()),
        ),
    ];
    for (what, create, describe) in cases {
        {
            let mut a = answers.lock().unwrap();
            a.create = create.to_owned();
            a.describe = describe.map(str::to_owned);
            a.asked.clear();
        }
        let result = store.create(request()).await;
        let asked = answers.lock().unwrap().asked.clone();
        assert_eq!(asked, ["CreateSecret", "DescribeSecret"], "{what}");
        match (describe, result) {
            (None, Err(StoreError::Other { code, message })) => {
                assert_eq!(code, "IncompleteResponse", "{what}");
                assert!(message.contains("app/db"), "{what}: {message}");
                assert!(!message.contains("an-offstate-test-value"), "{what}");
            }
            (Some(_), Ok(meta)) => {
                assert_eq!(meta.arn, ARN, "{what}");
                assert_eq!(meta.current_version_id.as_deref(), Some("v-1"), "{what}");
            }
            (_, other) => panic!("{what}: {:?}", other.map(|m| m.arn)),
        }
    }

    // A whole answer: no DescribeSecret.
    {
        let mut a = answers.lock().unwrap();
        a.create = format!(r#"{{"ARN":"{ARN}","Name":"app/db","VersionId":"v-2"}}"#);
        a.describe = None;
        a.asked.clear();
    }
    let meta = store.create(request()).await.expect("a whole answer");
    assert_eq!(meta.arn, ARN);
    assert_eq!(meta.current_version_id.as_deref(), Some("v-2"));
    assert_eq!(answers.lock().unwrap().asked, ["CreateSecret"]);
}
