//! [`SecretValue`]: the one type a secret value travels in.
//!
//! Why a type and not a convention: the project's invariant is that a value never reaches a log,
//! a diagnostic, a panic message or test output. `Debug` and `Display` are where values leak by
//! accident (`{:?}` in an error, `assert_eq!` on failure, `dbg!`), so both print a mask here. The
//! only ways to the bytes are [`SecretValue::expose_secret`] and [`SecretValue::expose_str`]:
//! grep for `expose_` to review every place a value leaves its box.
//!
//! There is deliberately no `Serialize`, no `PartialEq` (use [`SecretValue::ct_eq`], which does
//! not leak through timing) and no `Deref`.

use std::fmt;

/// How many consecutive bytes of a value (in one of its forms) in a foreign message count as an
/// echo of it: long enough that a match is no accident, short enough to catch an echo cut short.
pub const ECHO_RUN: usize = 16;

/// Whether `hay` holds `form` whole (when it is at most [`ECHO_RUN`] bytes) or any [`ECHO_RUN`]
/// bytes of it.
fn echoes(hay: &[u8], form: &[u8]) -> bool {
    if form.len() <= ECHO_RUN {
        return memchr::memmem::find(hay, form).is_some();
    }
    hay.windows(ECHO_RUN)
        .any(|run| memchr::memmem::find(form, run).is_some())
}

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A secret value (string or binary), zeroed on drop, masked in `Debug` and `Display`.
///
/// ```
/// use offstate_common::SecretValue;
/// let v = SecretValue::from_string("hunter2".to_owned());
/// assert_eq!(format!("{v}"), "***");
/// assert_eq!(format!("{v:?}"), "SecretValue(***, 7 bytes)");
/// assert_eq!(v.expose_str().unwrap(), "hunter2");
/// ```
#[derive(Clone, Default)]
pub struct SecretValue {
    bytes: Zeroizing<Vec<u8>>,
}

/// The value is not valid UTF-8 (returned by [`SecretValue::expose_str`]). Carries nothing of
/// the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the secret value is not valid UTF-8")]
pub struct NotUtf8;

/// Why [`SecretValue::select_json`] could not pick a key. No variant carries any part of the
/// value; the key names in the path come from configuration, not from the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonSelectError {
    /// The value is not UTF-8, so it cannot be JSON.
    #[error("the secret value is not valid UTF-8, so it is not JSON")]
    NotUtf8,
    /// The value is not a JSON object or array: not JSON at all, or a bare scalar. One fixed
    /// message for all of these: where the syntax breaks, or which kind of scalar the value is,
    /// would describe the value (a syntax error at column 16 says it starts with a 15-digit
    /// number).
    #[error("the secret value is not a JSON object or array")]
    NotJson,
    /// A key of the path is absent.
    #[error("the secret's JSON has no key {key:?} at /{parent}")]
    MissingKey {
        /// The missing key (from the caller's path).
        key: String,
        /// The path of its parent, joined with `/`.
        parent: String,
    },
    /// The path goes through a value that is neither an object nor an array.
    /// Which kind of scalar it is is not said, for the reason given at [`Self::NotJson`].
    #[error("the secret's JSON at /{parent} is not an object or array, so it has no key {key:?}")]
    NotAContainer {
        /// The key that was looked for.
        key: String,
        /// The path of the scalar, joined with `/` (never empty: a scalar root is `NotJson`).
        parent: String,
    },
}

impl SecretValue {
    /// Wraps a string value. Takes ownership so no unzeroed copy is left behind.
    pub fn from_string(value: String) -> Self {
        Self {
            bytes: Zeroizing::new(value.into_bytes()),
        }
    }

    /// Wraps a binary value. Takes ownership so no unzeroed copy is left behind.
    pub fn from_bytes(value: Vec<u8>) -> Self {
        Self {
            bytes: Zeroizing::new(value),
        }
    }

    /// The raw bytes. Every call is a place where a value leaves its box: keep them few and
    /// greppable.
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    /// The value as `&str`, or [`NotUtf8`]. Same caution as [`SecretValue::expose_secret`].
    pub fn expose_str(&self) -> Result<&str, NotUtf8> {
        std::str::from_utf8(&self.bytes).map_err(|_| NotUtf8)
    }

    /// Whether the value is valid UTF-8 (so can be sent as `SecretString`).
    pub fn is_utf8(&self) -> bool {
        std::str::from_utf8(&self.bytes).is_ok()
    }

    /// Length in bytes. (The length is not treated as secret; it is shown by `Debug` too.)
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Compares two values in time that depends on their lengths only, not on their contents.
    pub fn ct_eq(&self, other: &SecretValue) -> bool {
        // subtle's slice ct_eq returns false early on a length mismatch, which leaks only the
        // length: fine, the length is not secret here.
        bool::from(self.bytes.as_slice().ct_eq(other.bytes.as_slice()))
    }

    /// Whether `haystack` (a message from elsewhere, such as a service's error text) echoes this
    /// value, for defence-in-depth scrubbing. It does when it holds the value, or any run of
    /// [`ECHO_RUN`] of its bytes, in one of the forms a request carries it: the bytes as they
    /// are, JSON-string escaped (`"` and `\` as `\"` and `\\`: a JSON request body), or in
    /// standard base64 (`SecretBinary`). An empty value is never echoed. The search is not
    /// constant-time (memchr): the message is not attacker-timed, and it is bounded by the caller.
    pub fn is_echoed_in(&self, haystack: &str) -> bool {
        use base64::Engine;
        if self.bytes.is_empty() {
            return false;
        }
        let hay = haystack.as_bytes();
        let base64 = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .encode(&self.bytes[..])
                .into_bytes(),
        );
        let escaped = self.expose_str().ok().and_then(|s| {
            let json = Zeroizing::new(serde_json::to_string(s).ok()?);
            let inner = &json.as_bytes()[1..json.len() - 1];
            (inner != s.as_bytes()).then(|| Zeroizing::new(inner.to_vec()))
        });
        if echoes(hay, &self.bytes) || echoes(hay, &base64) {
            return true;
        }
        escaped.is_some_and(|form| echoes(hay, &form))
    }

    /// Picks one member of a JSON value, following `path` (object keys, or decimal indexes into
    /// arrays). A string member is returned as its contents; any other member as compact JSON.
    /// An empty path returns a copy of the whole value.
    ///
    /// This is the `json_key` of the ephemeral resource and the `#/json/pointer` of a
    /// [`crate::SecretRef`].
    pub fn select_json<S: AsRef<str>>(&self, path: &[S]) -> Result<SecretValue, JsonSelectError> {
        let text = self.expose_str().map_err(|_| JsonSelectError::NotUtf8)?;
        // The parsed tree is not zeroed on drop; it lives only for this call.
        let root: serde_json::Value =
            serde_json::from_str(text).map_err(|_| JsonSelectError::NotJson)?;
        let container = root.is_object() || root.is_array();
        if !path.is_empty() && !container {
            return Err(JsonSelectError::NotJson);
        }
        let mut node = &root;
        for (depth, key) in path.iter().enumerate() {
            let key = key.as_ref();
            let parent = || {
                path[..depth]
                    .iter()
                    .map(AsRef::as_ref)
                    .collect::<Vec<_>>()
                    .join("/")
            };
            let next = match node {
                serde_json::Value::Object(map) => map.get(key),
                serde_json::Value::Array(items) => {
                    key.parse::<usize>().ok().and_then(|i| items.get(i))
                }
                _ => {
                    return Err(JsonSelectError::NotAContainer {
                        key: key.to_owned(),
                        parent: parent(),
                    })
                }
            };
            node = next.ok_or_else(|| JsonSelectError::MissingKey {
                key: key.to_owned(),
                parent: parent(),
            })?;
        }
        Ok(match node {
            serde_json::Value::String(s) => SecretValue::from_string(s.clone()),
            other => SecretValue::from_string(other.to_string()),
        })
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue(***, {} bytes)", self.bytes.len())
    }
}

impl fmt::Display for SecretValue {
    /// Always `***`: Display is what ends up in user-facing text, where even the length is noise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for SecretValue {
    fn from(value: String) -> Self {
        Self::from_string(value)
    }
}

impl From<Vec<u8>> for SecretValue {
    fn from(value: Vec<u8>) -> Self {
        Self::from_bytes(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "canary-7f3a9c2e-value";

    #[test]
    fn formatting_never_shows_the_value() {
        let v = SecretValue::from_string(CANARY.to_owned());
        let outputs = [
            format!("{v:?}"),
            format!("{v:#?}"),
            format!("{v}"),
            format!("{v:>40}"),
            format!("{:?}", Some(v.clone())),
            format!("{:?}", vec![v.clone()]),
            format!("{:?}", (1, &v)),
        ];
        for out in &outputs {
            assert!(!out.contains(CANARY), "leaked in {out}");
            assert!(!out.contains("7f3a9c2e"), "partially leaked in {out}");
        }
        assert_eq!(
            outputs[0],
            format!("SecretValue(***, {} bytes)", CANARY.len())
        );
        assert_eq!(outputs[2], "***");
    }

    #[test]
    fn binary_formatting_never_shows_the_bytes() {
        let v = SecretValue::from_bytes(vec![0xde, 0xad, 0xbe, 0xef]);
        let dbg = format!("{v:?}");
        assert_eq!(dbg, "SecretValue(***, 4 bytes)");
        assert!(!dbg.contains("222") && !dbg.contains("de"));
    }

    #[test]
    fn ct_eq_semantics() {
        let a = SecretValue::from_string("abc".to_owned());
        let cases: &[(&[u8], bool)] = &[
            (b"abc", true),
            (b"abd", false),
            (b"ab", false),
            (b"abcd", false),
            (b"", false),
            (b"ABC", false),
        ];
        for (other, want) in cases {
            let b = SecretValue::from_bytes(other.to_vec());
            assert_eq!(a.ct_eq(&b), *want, "abc vs {other:?}");
            assert_eq!(b.ct_eq(&a), *want, "symmetric: {other:?}");
        }
        assert!(SecretValue::default().ct_eq(&SecretValue::from_bytes(Vec::new())));
        // A string and the same bytes given as binary are the same value.
        assert!(a.ct_eq(&SecretValue::from_bytes(b"abc".to_vec())));
    }

    #[test]
    fn utf8_and_exposure() {
        let s = SecretValue::from_string("héllo".to_owned());
        assert!(s.is_utf8());
        assert_eq!(s.expose_str(), Ok("héllo"));
        assert_eq!(s.len(), 6);
        let b = SecretValue::from_bytes(vec![0xff, 0x00]);
        assert!(!b.is_utf8());
        assert_eq!(b.expose_str(), Err(NotUtf8));
        assert_eq!(b.expose_secret(), &[0xff, 0x00]);
        assert!(SecretValue::default().is_empty());
    }

    #[test]
    fn echoed_in() {
        let v = SecretValue::from_string("s3cr3t".to_owned());
        assert!(v.is_echoed_in("error: s3cr3t is bad"));
        assert!(
            !v.is_echoed_in("error: s3cr is bad"),
            "a short value counts whole"
        );
        assert!(!SecretValue::default().is_echoed_in("anything"));

        // A JSON request body echoed: the quote and the backslash arrive escaped.
        let v = SecretValue::from_string(r#"pw"with\quote"#.to_owned());
        let body = serde_json::json!({"SecretString": v.expose_str().unwrap()}).to_string();
        assert!(
            !body.contains(v.expose_str().unwrap()),
            "the raw form is not in it"
        );
        assert!(v.is_echoed_in(&format!("ValidationException: rejected {body}")));

        // A binary value echoed in base64, as SecretBinary carries it.
        use base64::Engine;
        let b = SecretValue::from_bytes((0u8..=255).collect());
        let b64 = base64::engine::general_purpose::STANDARD.encode(b.expose_secret());
        assert!(b.is_echoed_in(&format!("bad SecretBinary {b64}")));

        // An echo cut short still counts, from 16 bytes on; 15 do not.
        let long = SecretValue::from_string("0123456789abcdefghijklmnopqrstuv".to_owned());
        assert!(long.is_echoed_in("value: ghijklmnopqrstuv..."));
        assert!(long.is_echoed_in("...456789abcdefghij"));
        assert!(!long.is_echoed_in("...56789abcdefghij"));
        let b64 = base64::engine::general_purpose::STANDARD.encode(b.expose_secret());
        assert!(b.is_echoed_in(&format!("truncated: {}", &b64[40..60])));
    }

    #[test]
    fn select_json_table() {
        let v = SecretValue::from_string(
            r#"{"username":"app","password":"pw","port":5432,"nested":{"list":["a",{"k":true}]}}"#
                .to_owned(),
        );
        let ok: &[(&[&str], &str)] = &[
            (&["password"], "pw"),
            (&["port"], "5432"),
            (&["nested", "list", "0"], "a"),
            (&["nested", "list", "1", "k"], "true"),
            (&["nested", "list", "1"], r#"{"k":true}"#),
        ];
        for (path, want) in ok {
            let got = v.select_json(path).unwrap();
            assert_eq!(got.expose_str().unwrap(), *want, "{path:?}");
        }
        assert_eq!(
            v.select_json(&["nope"]).unwrap_err(),
            JsonSelectError::MissingKey {
                key: "nope".into(),
                parent: String::new()
            }
        );
        assert_eq!(
            v.select_json(&["nested", "list", "9"]).unwrap_err(),
            JsonSelectError::MissingKey {
                key: "9".into(),
                parent: "nested/list".into()
            }
        );
        assert_eq!(
            v.select_json(&["port", "x"]).unwrap_err(),
            JsonSelectError::NotAContainer {
                key: "x".into(),
                parent: "port".into(),
            }
        );
    }

    #[test]
    fn select_json_errors_do_not_quote_the_value() {
        let v = SecretValue::from_string(format!("{{\"a\": {CANARY}}}"));
        let err = v.select_json(&["a"]).unwrap_err();
        assert_eq!(err, JsonSelectError::NotJson);
        assert!(!format!("{err} {err:?}").contains(CANARY));
        // Nothing about the value's shape: not where its syntax breaks, not which scalar it is.
        for text in [
            "987654321012345x-rest",
            "123456",
            "true",
            "null",
            "\"just a string\"",
            "{\"a\":\n\n1,",
        ] {
            let err = SecretValue::from_string(text.to_owned())
                .select_json(&["password"])
                .unwrap_err();
            assert_eq!(err, JsonSelectError::NotJson, "{text}");
            let shown = format!("{err} {err:?}");
            assert!(!shown.chars().any(|c| c.is_ascii_digit()), "{shown}");
            for word in ["number", "string", "boolean", "null", "line", "column"] {
                assert!(!shown.contains(word), "{shown}");
            }
        }
        let nested = SecretValue::from_string("{\"port\": 5432}".to_owned());
        let shown = nested.select_json(&["port", "x"]).unwrap_err().to_string();
        assert!(
            !shown.contains("number") && !shown.contains("5432"),
            "{shown}"
        );
        let bin = SecretValue::from_bytes(vec![0xff]);
        assert_eq!(
            bin.select_json(&["a"]).unwrap_err(),
            JsonSelectError::NotUtf8
        );
    }
}
