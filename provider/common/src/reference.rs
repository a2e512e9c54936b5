//! Reference strings in the convention vals/helmfile already use for AWS Secrets Manager:
//!
//! ```text
//! ref+awssecrets://NAME[?version_id=ID][&version_stage=STAGE][#/json/key/path]
//! ```
//!
//! `NAME` is a secret name or ARN. `state-scrubber scrub` writes these in place of values, so a
//! state keeps a pointer to where the value went and vals can still resolve it.
//!
//! Encoding (what [`SecretRef`]'s `Display` writes and [`SecretRef::parse`] reads):
//! - in `NAME`, ASCII letters, digits and `/_+=.@-:` are written as is (every legal secret name
//!   and ARN therefore reads naturally); any other byte is `%XX`;
//! - in query values, the same but `+` is `%2B` too (Go's query parser, used by vals, reads `+`
//!   as a space);
//! - the fragment is `/`-separated keys, each key encoded like `NAME` with `/` as `%2F`. vals
//!   decodes the whole fragment before splitting it on `/`, so a key that itself contains `/` is
//!   the one case vals reads differently.
//!
//! `parse(r.to_string()) == r` for every reference; `parse` accepts any percent-encoding of the
//! same reference (for example `%41` for `A`).
//!
//! Errors never quote the input: a scanner may try to parse any string, including a secret.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::store::{SecretStore, StoreError, VersionSelector};
use crate::{JsonSelectError, SecretValue};

/// The scheme prefix of a Secrets Manager reference.
pub const SCHEME: &str = "ref+awssecrets://";

/// A parsed `ref+awssecrets://` reference. Build one with [`SecretRef::new`] and the `with_*`
/// methods, or [`SecretRef::parse`]; print it with `Display`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SecretRef {
    /// Secret name or ARN (decoded).
    pub name: String,
    /// `?version_id=`: a specific version.
    pub version_id: Option<String>,
    /// `?version_stage=`: a staging label such as `AWSPREVIOUS`.
    pub version_stage: Option<String>,
    /// `#/a/b`: keys into a JSON secret. `None` means the whole value; never `Some(empty)` when
    /// built through this API.
    pub json_pointer: Option<Vec<String>>,
}

/// Why a string is not a valid reference. Carries byte offsets and parameter names, never any
/// text of the input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseRefError {
    /// The string does not start with `ref+awssecrets://`.
    #[error("not a Secrets Manager reference: it must start with {SCHEME}")]
    NotAReference,
    /// Nothing between the scheme and `?`/`#`.
    #[error("the reference has an empty secret name")]
    EmptyName,
    /// A `%` not followed by two hex digits.
    #[error("bad percent-encoding at byte {offset} of the reference")]
    BadPercentEncoding {
        /// Byte offset of the `%`.
        offset: usize,
    },
    /// A decoded part is not UTF-8.
    #[error("the {part} of the reference is not valid UTF-8 once decoded")]
    NotUtf8 {
        /// `"name"`, `"query"` or `"json key"`.
        part: &'static str,
    },
    /// A query parameter other than `version_id` and `version_stage`, or one without `=`.
    #[error("unknown or malformed query parameter at byte {offset} of the reference (supported: version_id, version_stage)")]
    UnknownParameter {
        /// Byte offset where the parameter starts.
        offset: usize,
    },
    /// The same parameter twice.
    #[error("query parameter {name} is given more than once")]
    DuplicateParameter {
        /// The parameter.
        name: &'static str,
    },
    /// A parameter with an empty value.
    #[error("query parameter {name} is empty")]
    EmptyParameter {
        /// The parameter.
        name: &'static str,
    },
    /// The fragment does not start with `/` or has an empty key.
    #[error("bad JSON key path at byte {offset} of the reference: expected #/key[/key...] with non-empty keys")]
    BadJsonPointer {
        /// Byte offset of the problem.
        offset: usize,
    },
}

/// Why [`SecretRef::resolve`] produced no value. Names the reference (which is not secret),
/// never the value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The store call failed.
    #[error("reading {reference}: {error}")]
    Store {
        /// The reference, printed.
        reference: String,
        /// The store's error.
        error: StoreError,
    },
    /// The value is not JSON or lacks the key.
    #[error("reading {reference}: {error}")]
    Json {
        /// The reference, printed.
        reference: String,
        /// What went wrong.
        error: JsonSelectError,
    },
}

impl SecretRef {
    /// A reference to the current version of the whole value of `name` (a name or an ARN).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version_id: None,
            version_stage: None,
            json_pointer: None,
        }
    }

    /// Pins a version id.
    pub fn with_version_id(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }

    /// Pins a staging label.
    pub fn with_version_stage(mut self, version_stage: impl Into<String>) -> Self {
        self.version_stage = Some(version_stage.into());
        self
    }

    /// Selects a member of a JSON value; an empty path means the whole value.
    pub fn with_json_pointer<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let keys: Vec<String> = keys.into_iter().map(Into::into).collect();
        self.json_pointer = if keys.is_empty() { None } else { Some(keys) };
        self
    }

    /// Whether `s` looks like a reference (has the scheme); cheap pre-filter for scanners.
    pub fn is_reference(s: &str) -> bool {
        s.starts_with(SCHEME)
    }

    /// Which version to read: the id if pinned, else the stage, else `AWSCURRENT`. (When both
    /// are set, Secrets Manager requires them to agree; the id is the more precise.)
    pub fn selector(&self) -> VersionSelector {
        match (&self.version_id, &self.version_stage) {
            (Some(id), _) => VersionSelector::Id(id.clone()),
            (None, Some(stage)) => VersionSelector::Stage(stage.clone()),
            (None, None) => VersionSelector::Current,
        }
    }

    /// Reads the value this reference points to: GetSecretValue for [`SecretRef::selector`],
    /// then the JSON member of [`SecretRef::json_pointer`] if any.
    pub async fn resolve(&self, store: &dyn SecretStore) -> Result<SecretValue, ResolveError> {
        let fetched = store
            .get_value(&self.name, self.selector())
            .await
            .map_err(|error| ResolveError::Store {
                reference: self.to_string(),
                error,
            })?;
        match &self.json_pointer {
            Some(keys) if !keys.is_empty() => {
                fetched
                    .value
                    .select_json(keys)
                    .map_err(|error| ResolveError::Json {
                        reference: self.to_string(),
                        error,
                    })
            }
            _ => Ok(fetched.value),
        }
    }

    /// Parses a reference. See the module docs for the grammar and encoding.
    pub fn parse(s: &str) -> Result<Self, ParseRefError> {
        let body = s.strip_prefix(SCHEME).ok_or(ParseRefError::NotAReference)?;
        let base = SCHEME.len();
        let (before_frag, fragment) = match body.find('#') {
            Some(i) => (&body[..i], Some((base + i + 1, &body[i + 1..]))),
            None => (body, None),
        };
        let (raw_name, query) = match before_frag.find('?') {
            Some(i) => (
                &before_frag[..i],
                Some((base + i + 1, &before_frag[i + 1..])),
            ),
            None => (before_frag, None),
        };
        if raw_name.is_empty() {
            return Err(ParseRefError::EmptyName);
        }
        let mut r = SecretRef::new(decode(raw_name, base, "name")?);

        if let Some((mut offset, query)) = query {
            for pair in query.split('&') {
                let (key, value) = pair
                    .split_once('=')
                    .ok_or(ParseRefError::UnknownParameter { offset })?;
                let (name, slot) = match key {
                    "version_id" => ("version_id", &mut r.version_id),
                    "version_stage" => ("version_stage", &mut r.version_stage),
                    _ => return Err(ParseRefError::UnknownParameter { offset }),
                };
                if slot.is_some() {
                    return Err(ParseRefError::DuplicateParameter { name });
                }
                if value.is_empty() {
                    return Err(ParseRefError::EmptyParameter { name });
                }
                *slot = Some(decode(value, offset + key.len() + 1, "query")?);
                offset += pair.len() + 1;
            }
        }

        if let Some((offset, fragment)) = fragment {
            let rest = fragment
                .strip_prefix('/')
                .ok_or(ParseRefError::BadJsonPointer { offset })?;
            let mut keys = Vec::new();
            let mut at = offset + 1;
            for raw in rest.split('/') {
                if raw.is_empty() {
                    return Err(ParseRefError::BadJsonPointer { offset: at });
                }
                keys.push(decode(raw, at, "json key")?);
                at += raw.len() + 1;
            }
            r.json_pointer = Some(keys);
        }
        Ok(r)
    }
}

impl FromStr for SecretRef {
    type Err = ParseRefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SCHEME)?;
        encode(f, &self.name, Part::Name)?;
        let mut sep = '?';
        for (key, value) in [
            ("version_id", &self.version_id),
            ("version_stage", &self.version_stage),
        ] {
            if let Some(value) = value {
                write!(f, "{sep}{key}=")?;
                encode(f, value, Part::Query)?;
                sep = '&';
            }
        }
        if let Some(keys) = &self.json_pointer {
            if !keys.is_empty() {
                f.write_str("#")?;
            }
            for key in keys {
                f.write_str("/")?;
                encode(f, key, Part::JsonKey)?;
            }
        }
        Ok(())
    }
}

impl serde::Serialize for SecretRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SecretRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        SecretRef::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Name,
    Query,
    JsonKey,
}

fn is_plain(b: u8, part: Part) -> bool {
    match b {
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'=' | b'.' | b'@' | b'-' | b':' => true,
        b'/' => part != Part::JsonKey,
        b'+' => part != Part::Query,
        _ => false,
    }
}

fn encode(f: &mut fmt::Formatter<'_>, s: &str, part: Part) -> fmt::Result {
    let mut plain_from = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if !is_plain(b, part) {
            // Only ASCII is plain, so a non-empty plain run starts and ends on char boundaries;
            // an empty one may sit inside a multi-byte char and must not be sliced.
            if plain_from < i {
                f.write_str(&s[plain_from..i])?;
            }
            write!(f, "%{b:02X}")?;
            plain_from = i + 1;
        }
    }
    f.write_str(&s[plain_from..])
}

/// Percent-decodes `s`, which starts at byte `base` of the whole reference.
fn decode(s: &str, base: usize, part: &'static str) -> Result<String, ParseRefError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(ParseRefError::BadPercentEncoding { offset: base + i })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ParseRefError::NotUtf8 { part })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf";

    #[test]
    fn parse_table() {
        let arn_ref = format!("{SCHEME}{ARN}");
        let cases: Vec<(&str, SecretRef)> =
            vec![
            ("ref+awssecrets://mysecret", SecretRef::new("mysecret")),
            (
                "ref+awssecrets://prod/payments/db-credentials#/password",
                SecretRef::new("prod/payments/db-credentials").with_json_pointer(["password"]),
            ),
            (
                "ref+awssecrets://a_b+c=d.e@f-g?version_id=0b7ef8a2-1111-4222-8333-444455556666",
                SecretRef::new("a_b+c=d.e@f-g")
                    .with_version_id("0b7ef8a2-1111-4222-8333-444455556666"),
            ),
            (
                "ref+awssecrets://x?version_stage=AWSPREVIOUS#/db/users/0",
                SecretRef::new("x")
                    .with_version_stage("AWSPREVIOUS")
                    .with_json_pointer(["db", "users", "0"]),
            ),
            (
                "ref+awssecrets://x?version_stage=S&version_id=I",
                SecretRef::new("x").with_version_id("I").with_version_stage("S"),
            ),
            (&arn_ref, SecretRef::new(ARN)),
            (
                "ref+awssecrets://with%20space%3Fq%23h#/a%2Fb/%25",
                SecretRef::new("with space?q#h").with_json_pointer(["a/b", "%"]),
            ),
            ("ref+awssecrets://%41", SecretRef::new("A")),
            ("ref+awssecrets://caf%C3%A9", SecretRef::new("café")),
        ];
        for (input, want) in cases {
            assert_eq!(SecretRef::parse(input).as_ref(), Ok(&want), "{input}");
        }
    }

    #[test]
    fn display_table() {
        let cases: Vec<(SecretRef, &str)> = vec![
            (SecretRef::new("prod/db"), "ref+awssecrets://prod/db"),
            (
                SecretRef::new("prod/db")
                    .with_version_id("v1")
                    .with_version_stage("AWSCURRENT")
                    .with_json_pointer(["a", "b"]),
                "ref+awssecrets://prod/db?version_id=v1&version_stage=AWSCURRENT#/a/b",
            ),
            (
                SecretRef::new("a+b").with_version_id("x+y&z"),
                "ref+awssecrets://a+b?version_id=x%2By%26z",
            ),
            (
                SecretRef::new("n").with_json_pointer(["a/b", "c d"]),
                "ref+awssecrets://n#/a%2Fb/c%20d",
            ),
            (
                SecretRef::new("n").with_json_pointer(Vec::<String>::new()),
                "ref+awssecrets://n",
            ),
        ];
        for (r, want) in cases {
            assert_eq!(r.to_string(), want);
        }
    }

    #[test]
    fn error_table() {
        use ParseRefError::*;
        let cases: &[(&str, ParseRefError)] = &[
            ("awssecrets://x", NotAReference),
            ("ref+vault://x", NotAReference),
            ("ref+awssecrets://", EmptyName),
            ("ref+awssecrets://?version_id=1", EmptyName),
            ("ref+awssecrets://#/a", EmptyName),
            ("ref+awssecrets://ab%4", BadPercentEncoding { offset: 19 }),
            ("ref+awssecrets://ab%zz", BadPercentEncoding { offset: 19 }),
            ("ref+awssecrets://%FF", NotUtf8 { part: "name" }),
            (
                "ref+awssecrets://x?region=eu-west-1",
                UnknownParameter { offset: 19 },
            ),
            (
                "ref+awssecrets://x?version_id=1&bogus",
                UnknownParameter { offset: 32 },
            ),
            (
                "ref+awssecrets://x?version_id=1&version_id=2",
                DuplicateParameter { name: "version_id" },
            ),
            (
                "ref+awssecrets://x?version_stage=",
                EmptyParameter {
                    name: "version_stage",
                },
            ),
            (
                "ref+awssecrets://x?version_id=a%",
                BadPercentEncoding { offset: 31 },
            ),
            ("ref+awssecrets://x#a", BadJsonPointer { offset: 19 }),
            ("ref+awssecrets://x#/", BadJsonPointer { offset: 20 }),
            ("ref+awssecrets://x#/a//b", BadJsonPointer { offset: 22 }),
            ("ref+awssecrets://x#", BadJsonPointer { offset: 19 }),
        ];
        for (input, want) in cases {
            assert_eq!(SecretRef::parse(input).as_ref(), Err(want), "{input}");
        }
    }

    #[test]
    fn errors_never_quote_the_input() {
        let canary = "canary-ref-3b1f";
        for input in [
            canary.to_string(),
            format!("ref+awssecrets://x?{canary}=1"),
            format!("ref+awssecrets://x#{canary}"),
            format!("ref+awssecrets://{canary}%zz"),
        ] {
            let err = SecretRef::parse(&input).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(!text.contains(canary), "{text}");
        }
    }

    #[test]
    fn selector_and_serde() {
        assert_eq!(SecretRef::new("x").selector(), VersionSelector::Current);
        assert_eq!(
            SecretRef::new("x")
                .with_version_stage("AWSPREVIOUS")
                .selector(),
            VersionSelector::Stage("AWSPREVIOUS".into())
        );
        assert_eq!(
            SecretRef::new("x")
                .with_version_stage("S")
                .with_version_id("I")
                .selector(),
            VersionSelector::Id("I".into())
        );
        let r = SecretRef::new("prod/db").with_json_pointer(["password"]);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#""ref+awssecrets://prod/db#/password""#);
        assert_eq!(serde_json::from_str::<SecretRef>(&json).unwrap(), r);
        assert!(serde_json::from_str::<SecretRef>(r#""nope""#).is_err());
        assert!(SecretRef::is_reference("ref+awssecrets://x"));
        assert!(!SecretRef::is_reference("ref+vault://x"));
    }

    #[tokio::test]
    async fn resolve_through_a_store() {
        use crate::store::memory::MemoryStore;
        use crate::store::{CreateSecret, PutValue};
        let store = MemoryStore::default();
        let meta = store
            .create(CreateSecret {
                name: "prod/db".into(),
                value: Some(SecretValue::from_string(r#"{"password":"one"}"#.into())),
                ..Default::default()
            })
            .await
            .unwrap();
        store
            .put_value(PutValue {
                secret_id: "prod/db".into(),
                value: SecretValue::from_string(r#"{"password":"two"}"#.into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let read = |s: &str| SecretRef::parse(s).unwrap();
        let cases = [
            ("ref+awssecrets://prod/db#/password", "two"),
            (
                "ref+awssecrets://prod/db?version_stage=AWSPREVIOUS#/password",
                "one",
            ),
            ("ref+awssecrets://prod/db", r#"{"password":"two"}"#),
        ];
        for (r, want) in cases {
            let v = read(r).resolve(&store).await.unwrap();
            assert_eq!(v.expose_str().unwrap(), want, "{r}");
        }
        let by_id = SecretRef::new(meta.arn.clone())
            .with_version_id(meta.current_version_id.unwrap())
            .with_json_pointer(["password"]);
        assert_eq!(
            by_id.resolve(&store).await.unwrap().expose_str().unwrap(),
            "one"
        );

        let missing = read("ref+awssecrets://prod/db#/user")
            .resolve(&store)
            .await
            .unwrap_err();
        assert!(matches!(missing, ResolveError::Json { .. }));
        assert_eq!(
            missing.to_string(),
            r#"reading ref+awssecrets://prod/db#/user: the secret's JSON has no key "user" at /"#
        );
        let gone = read("ref+awssecrets://nope")
            .resolve(&store)
            .await
            .unwrap_err();
        assert!(matches!(gone, ResolveError::Store { error, .. } if error.is_not_found()));
    }

    fn any_text() -> impl Strategy<Value = String> {
        // Mostly name-like text, with the delimiters and arbitrary Unicode mixed in.
        prop_oneof![
            "[A-Za-z0-9/_+=.@:-]{1,24}",
            "[%?#&=/+ a-z\u{e9}\u{1F600}]{1,12}",
            any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(
            name in any_text(),
            version_id in proptest::option::of(any_text()),
            version_stage in proptest::option::of(any_text()),
            keys in proptest::collection::vec(any_text(), 0..4),
        ) {
            let mut r = SecretRef::new(name).with_json_pointer(keys);
            r.version_id = version_id;
            r.version_stage = version_stage;
            let printed = r.to_string();
            prop_assert_eq!(SecretRef::parse(&printed), Ok(r.clone()));
            // The printed form is ASCII and canonical.
            prop_assert!(printed.is_ascii());
            prop_assert_eq!(SecretRef::parse(&printed).unwrap().to_string(), printed);
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = SecretRef::parse(&format!("{SCHEME}{s}"));
        }
    }
}
