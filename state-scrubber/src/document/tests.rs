//! Tests of the whole reading of a document.

use super::*;
use crate::detect::Engine;

const STATE: &str = r#"{"version": 4, "terraform_version": "1.9.5", "serial": 1, "lineage": "x",
 "outputs": {"o": {"value": "Zq8Lm2Xv9Rk4Tp7W", "type": "string", "sensitive": true}},
 "resources": [{"mode": "managed", "type": "aws_db_instance", "name": "m", "instances": [{"index_key": "a\u003c",
  "attributes": {"password": "Zq8Lm2Xv9Rk4Tp7W", "tags": {"k": "v"}, "n": [1.5e3, -2, true, null]},
  "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]]}]}], "check_results": null}"#;

/// Every truncation and every single-byte corruption of a state is either read or rejected
/// with a positioned error: never a panic.
#[test]
fn truncations_and_corruptions_never_panic() {
    let engine = Engine::new().unwrap();
    let src = STATE.as_bytes();
    let full = Scanner::new(&engine, b"k", "f".into()).scan(src).unwrap();
    assert_eq!(full.findings.len(), 2);
    for n in 0..src.len() {
        let r = Scanner::new(&engine, b"k", "f".into()).scan(&src[..n]);
        assert!(r.is_err(), "prefix {n} accepted");
    }
    for i in 0..src.len() {
        for b in [b'"', b'\\', b'{', b']', 0u8, 0xFF, b'x'] {
            let mut v = src.to_vec();
            v[i] = b;
            let _ = Scanner::new(&engine, b"k", "f".into()).scan(&v);
        }
    }
}
