//! `audit s3://`: every object gets the SDK's 5 attempts however many failed before it.
//!
//! The S3 client used the SDK's shared retry partition: one token bucket per process (500 tokens,
//! 5 a retry of a throttled or 503 call, none back for a call that failed in the end). audit goes
//! on after an object it could not read, so under sustained throttling the bucket ran dry after
//! about 25 objects and every later GET failed at its first attempt ("not enough retry quota").
//! The client now has a partition of its own with no quota, as the Secrets Manager client has.
//!
//! A fake S3 endpoint (plain HTTP on loopback, path style): ListObjectsV2 lists 40 keys, and
//! every GetObject is answered 503 SlowDown. The test counts the GETs of each key.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use super::*;

const KEYS: usize = 40;

type Counts = Arc<Mutex<BTreeMap<String, usize>>>;

fn listing() -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>k/</Prefix>"#,
    );
    xml += &format!(
        "<KeyCount>{KEYS}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
    );
    for i in 0..KEYS {
        xml += &format!(
            "<Contents><Key>k/{i:03}.tfstate</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>\"e{i}\"</ETag><Size>100</Size><StorageClass>STANDARD</StorageClass></Contents>"
        );
    }
    xml + "</ListBucketResult>"
}

fn serve(stream: TcpStream, counts: Counts) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" || h == "\n" {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let (status, ctype, body) = if method == "GET" && query.contains("list-type=2") {
            ("200 OK", "application/xml", listing())
        } else if method == "GET" && path.starts_with("/b/k/") {
            *counts.lock().unwrap().entry(path.to_string()).or_default() += 1;
            (
                "503 Slow Down",
                "application/xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"#.to_string(),
            )
        } else {
            (
                "404 Not Found",
                "application/xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>no</Message></Error>"#.to_string(),
            )
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nx-amz-request-id: r\r\n\r\n",
            body.len()
        );
        let body = if method == "HEAD" {
            String::new()
        } else {
            body
        };
        if out.write_all(head.as_bytes()).is_err() || out.write_all(body.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn every_object_gets_its_retries_when_s3_keeps_throttling() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let counts: Counts = Arc::default();
    {
        let counts = counts.clone();
        std::thread::spawn(move || {
            for s in listener.incoming().flatten() {
                let counts = counts.clone();
                std::thread::spawn(move || serve(s, counts));
            }
        });
    }
    let mut c = bin();
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    c.envs(aws_env());
    let r = done(
        c.args([
            "audit",
            "s3://b/k/",
            "--endpoint",
            &url,
            "--region",
            "us-east-1",
        ])
        .args(["--concurrency", &KEYS.to_string(), "--format", "json"])
        .output()
        .unwrap(),
    );
    assert_eq!(r.code, 2, "every object failed: exit 2\n{}", r.stderr);
    let counts = counts.lock().unwrap().clone();
    assert_eq!(
        counts.len(),
        KEYS,
        "not every object was asked for: {counts:?}"
    );
    let short: Vec<_> = counts.iter().filter(|(_, n)| **n != 5).collect();
    assert!(
        short.is_empty(),
        "objects not given 5 attempts (the retry quota ran dry?): {short:?}"
    );
}
