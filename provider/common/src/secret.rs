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

/// How many of a value's first or last bytes (raw, JSON-escaped, or the first characters of its
/// base64) count as an echo of it: an echo cut at an arbitrary byte keeps the start of the value
/// (a body cut at a length) or its end (a tail kept), and may keep fewer than [`ECHO_RUN`].
pub const ECHO_EDGE: usize = 8;

/// The fewest of a value's first or last bytes that count as an echo cut short where the text is
/// cut: a value's start followed by the end of the text, an ellipsis or a closing quote, its end
/// preceded by the start of the text, an ellipsis or an opening quote. A value of fewer than [`ECHO_EDGE`] + 6 bytes has an edge
/// of more than half of it but fewer than [`ECHO_EDGE`] bytes, which counts only there (see
/// [`cut_edge_len`]): anywhere, six bytes such as `secret` of a weak `secret12` would withhold
/// every Secrets Manager message.
pub const CUT_EDGE_MIN: usize = 4;

/// The length from which a start or end of a value of `len` bytes counts as a cut echo where
/// the text is cut ([`CUT_EDGE_MIN`]): more than half of it. A cut keeping 7 bytes of an
/// 8-byte value was shown (edges were only [`ECHO_EDGE`] bytes, matched anywhere).
fn cut_edge_len(len: usize) -> usize {
    (len / 2 + 1).max(CUT_EDGE_MIN)
}

/// Whether `hay[..at]` ends where a text was cut (`start` false: the kept tail of a value
/// begins at `at`) or `hay[at..]` begins there (`start` true: the kept head ends at `at`):
/// the end of the text, an ellipsis (`...`, `…`, also in brackets: `[...]`), a note saying so
/// (`(cut)`, `[truncated]`, up to 24 bytes) or a double quote (a JSON string member cut and
/// closed: `{"SecretString":"hunte"}`), past any whitespace, and past a character the cut fell
/// inside (see [`CUT_CHARACTER`]). A quote as a cut, measured on 5,016 real messages with 600
/// weak values (`echo::false_matches_on_a_corpus`): 2,129 value-message pairs withheld, 2,103
/// without it; 0 for 200 random values either way.
fn at_a_cut(hay: &[u8], at: usize, start: bool) -> bool {
    const ELLIPSIS: [&[u8]; 2] = [b"...", "\u{2026}".as_bytes()];
    // `n`: a bracketed note, from its opening bracket (its closing one there or not).
    let note = |n: &[u8]| {
        let lower = n.to_ascii_lowercase();
        let inside = n.get(1..).unwrap_or_default();
        let inside = inside
            .strip_suffix(b")")
            .or_else(|| inside.strip_suffix(b"]"))
            .unwrap_or(inside)
            .trim_ascii();
        n.len() <= 24
            && (memchr::memmem::find(&lower, b"cut").is_some()
                || memchr::memmem::find(&lower, b"trunc").is_some()
                || ELLIPSIS.contains(&inside))
    };
    let ends_here = |rest: &[u8]| {
        let rest = rest.trim_ascii_start();
        let closing = match rest.first() {
            Some(b'(') => Some(b')'),
            Some(b'[') => Some(b']'),
            _ => None,
        };
        rest.is_empty()
            || rest.starts_with(b"\"")
            || ELLIPSIS.iter().any(|e| rest.starts_with(e))
            || closing
                .is_some_and(|c| memchr::memchr(c, rest).is_some_and(|end| note(&rest[..end])))
    };
    let starts_here = |before: &[u8]| {
        let before = before.trim_ascii_end();
        let opening = match before.last() {
            Some(b')') => Some(b'('),
            Some(b']') => Some(b'['),
            _ => None,
        };
        before.is_empty()
            || before.ends_with(b"\"")
            || ELLIPSIS.iter().any(|e| before.ends_with(e))
            || opening.is_some_and(|o| {
                memchr::memrchr(o, before).is_some_and(|from| note(&before[from..]))
            })
    };
    if start {
        let rest = &hay[at..];
        // A head cut inside its next character: that character's escape begun (`\u00`, `%C3%A`)
        // or its first bytes (U+FFFD once decoded lossily).
        let partial = rest
            .iter()
            .take(CUT_CHARACTER)
            .take_while(|&&b| b"\\%u".contains(&b) || b.is_ascii_hexdigit() || b >= 0x80)
            .count();
        ends_here(rest)
            || (rest[..partial]
                .iter()
                .any(|&b| b == b'\\' || b == b'%' || b >= 0x80)
                && ends_here(&rest[partial..]))
    } else {
        let before = &hay[..at];
        // A tail cut inside its first character: that character's last bytes (U+FFFD).
        let partial = before
            .iter()
            .rev()
            .take(CUT_CHARACTER)
            .take_while(|&&b| b >= 0x80)
            .count();
        starts_here(before) || (partial > 0 && starts_here(&before[..before.len() - partial]))
    }
}

/// The most bytes of a character cut short that [`at_a_cut`] looks past: a surrogate pair's
/// escape cut before its end (`\ud83d\udd1`), or up to 4 U+FFFD.
const CUT_CHARACTER: usize = 12;

/// Whether `hay` holds `form` whole (when it is at most [`ECHO_RUN`] bytes) or any [`ECHO_RUN`]
/// bytes of it.
fn echoes(hay: &[u8], form: &[u8]) -> bool {
    if form.len() <= ECHO_RUN {
        return memchr::memmem::find(hay, form).is_some();
    }
    hay.windows(ECHO_RUN)
        .any(|run| memchr::memmem::find(form, run).is_some())
}

/// The shortest value whose echo is also looked for in the base64 and hex runs of a message,
/// decoded at every offset. A value of 4 to 7 bytes (`hunter2`) in the base64 of a whole request
/// body sits at any alignment, so only decoding finds it; the noise of decoding text that is not
/// base64 (a 2 KiB message gives some 6,000 decoded positions) matches a given 4 bytes about
/// once in a million messages, and a match only withholds a message. A value of 1 to 3 bytes
/// would match that noise in a good share of messages.
pub const BINARY_ECHO_MIN: usize = 4;

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
    /// base64 (`SecretBinary`, or a whole request body a gateway quotes in base64: the value at
    /// any byte alignment, standard or URL alphabet). The same search runs again on the
    /// haystack decoded, up to two encodings deep, as a service, a gateway or a fake may quote
    /// a request: percent-decoded (a form or a URL, `+` as a space or not), JSON-unescaped (any
    /// encoder's escapes: Python's `\u00e9`, Go's `\u003c`, `\/`), HTML entities decoded (an
    /// error page), and, for a value of [`BINARY_ECHO_MIN`] bytes or more, base64 and hex decoded
    /// at every offset. An empty value
    /// is never echoed. The search is not constant-time (memchr): the message is not
    /// attacker-timed, and it is bounded by the caller.
    pub fn is_echoed_in(&self, haystack: &str) -> bool {
        self.echo_search(haystack, false)
    }

    /// [`SecretValue::is_echoed_in`], and also when the haystack holds the value's first or last
    /// [`ECHO_EDGE`] bytes (raw or JSON-escaped) or the first characters of its base64, or, where
    /// the text is cut (its end or an ellipsis), more than half of the value's first or last
    /// bytes ([`CUT_EDGE_MIN`] at least): an echo of a request cut at an arbitrary byte. For a
    /// service's answer to a request that carried the value; not for a name or an ID, whose
    /// start ("arn:aws:") other text shares.
    pub fn is_echoed_or_cut_in(&self, haystack: &str) -> bool {
        self.echo_search(haystack, true)
    }

    fn echo_search(&self, haystack: &str, cut: bool) -> bool {
        if self.bytes.is_empty() {
            return false;
        }
        let (forms, sources) = self.echo_forms();
        // Every ECHO_RUN bytes of every longer form, looked up by each window of a text: the
        // value (up to 64 KiB, in ~10 forms) is scanned once, not once per window of a text.
        let (short, long): (Vec<_>, Vec<_>) = forms.iter().partition(|f| f.len() <= ECHO_RUN);
        let runs: std::collections::HashSet<&[u8]> =
            long.iter().flat_map(|f| f.windows(ECHO_RUN)).collect();
        // The first and last ECHO_EDGE bytes of the forms that start where the value starts
        // (the `sources` last in `forms`), and the first ones of its base64 (the first form).
        let edges: Vec<&[u8]> = if cut && self.bytes.len() > ECHO_EDGE {
            forms[forms.len() - sources..]
                .iter()
                .flat_map(|f| [&f[..ECHO_EDGE], &f[f.len() - ECHO_EDGE..]])
                .chain(std::iter::once(&forms[0][..ECHO_EDGE]))
                .collect()
        } else if cut && self.bytes.len() > 6 {
            // The first 8 characters of its base64 carry its first 6 bytes.
            vec![&forms[0][..ECHO_EDGE]]
        } else {
            Vec::new()
        };
        // Shorter starts and ends of the same forms, each counted only where the text is cut
        // (`true`: a start, which the cut follows).
        let cut_edges: Vec<(&[u8], bool)> = if cut {
            forms[forms.len() - sources..]
                .iter()
                .flat_map(|f| {
                    (cut_edge_len(self.bytes.len())..f.len().min(ECHO_EDGE))
                        .flat_map(move |n| [(&f[..n], true), (&f[f.len() - n..], false)])
                })
                .collect()
        } else {
            Vec::new()
        };
        let found = |hay: &[u8]| {
            short.iter().any(|form| echoes(hay, form))
                || hay.windows(ECHO_RUN).any(|w| runs.contains(w))
                || edges.iter().any(|e| memchr::memmem::find(hay, e).is_some())
                || cut_edges.iter().any(|&(e, start)| {
                    memchr::memmem::find_iter(hay, e)
                        .any(|at| at_a_cut(hay, if start { at + e.len() } else { at }, start))
                })
        };
        if found(haystack.as_bytes()) {
            return true;
        }
        let binary_too = self.bytes.len() >= BINARY_ECHO_MIN;
        let mut layer = vec![Zeroizing::new(haystack.as_bytes().to_vec())];
        for _ in 0..2 {
            let mut next = Vec::new();
            for text in &layer {
                next.extend(echo::decodings(text, binary_too));
            }
            if next.iter().any(|d| found(d)) {
                return true;
            }
            layer = next;
        }
        false
    }

    /// The forms a request carries the value in: the bytes, JSON-escaped (when that differs),
    /// and the base64 of each, whole, and, when long enough to be no accident, its characters
    /// that depend on the value alone at each byte alignment in a larger blob, in the standard
    /// and the URL alphabet. Returned with how many of them, last, are the bytes and the escaped
    /// bytes.
    fn echo_forms(&self) -> (Vec<Zeroizing<Vec<u8>>>, usize) {
        use base64::Engine;
        let mut sources = vec![Zeroizing::new(self.bytes.to_vec())];
        if let Ok(s) = self.expose_str() {
            // In a buffer of its exact size: `to_string`'s buffer grows, freeing a copy of the
            // value's start unzeroed.
            let json = compact_json(&s);
            let inner = &json.bytes[1..json.len() - 1];
            if inner != s.as_bytes() {
                sources.push(Zeroizing::new(inner.to_vec()));
            }
        }
        let mut forms = Vec::new();
        for src in &sources {
            forms.push(Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .encode(&src[..])
                    .into_bytes(),
            ));
            for k in 0..3usize {
                let mut padded = Zeroizing::new(vec![0u8; k]);
                padded.extend_from_slice(src);
                let enc = Zeroizing::new(
                    base64::engine::general_purpose::STANDARD
                        .encode(&padded[..])
                        .into_bytes(),
                );
                let (from, to) = ((k * 8).div_ceil(6), (k + src.len()) * 8 / 6);
                if to < from + ECHO_RUN {
                    continue;
                }
                let core = Zeroizing::new(enc[from..to].to_vec());
                let url = Zeroizing::new(
                    core.iter()
                        .map(|&b| match b {
                            b'+' => b'-',
                            b'/' => b'_',
                            b => b,
                        })
                        .collect::<Vec<u8>>(),
                );
                if url != core {
                    forms.push(url);
                }
                forms.push(core);
            }
        }
        let n = sources.len();
        forms.extend(sources);
        (forms, n)
    }

    /// `v` as compact JSON (what `serde_json::to_string` writes), in a buffer of its exact size;
    /// `v`'s strings, object keys included, are zeroed as it is freed. For a value assembled as
    /// JSON (`generate`'s `json_template`).
    pub fn from_json(v: serde_json::Value) -> SecretValue {
        let out = compact_json(&v);
        zeroize_json(v);
        out
    }

    /// Picks one member of a JSON value, following `path` (object keys, or decimal indexes into
    /// arrays). A string member is returned as its contents; any other member as compact JSON.
    /// An empty path returns a copy of the whole value.
    ///
    /// This is the `json_key` of the ephemeral resource and the `#/json/pointer` of a
    /// [`crate::SecretRef`].
    pub fn select_json<S: AsRef<str>>(&self, path: &[S]) -> Result<SecretValue, JsonSelectError> {
        let text = self.expose_str().map_err(|_| JsonSelectError::NotUtf8)?;
        // Parsed into a tree whose strings (keys too) are zeroed as they are freed, on every
        // path out: serde_json's own `Value` is also freed inside the parser, unzeroed, when the
        // text turns out not to be JSON past a string (`{"pw":"…",}`, trailing text) and when
        // a key repeats (the earlier value).
        let root: JsonNode = serde_json::from_str(text).map_err(|_| JsonSelectError::NotJson)?;
        select_in(&root, path)
    }
}

/// A parsed JSON value whose strings, object keys included, are zeroed when freed. Members keep
/// the order of the text; a repeated key keeps its first place and takes the last value, as
/// serde_json's `Value` (`preserve_order`) does, so the compact JSON written is the same.
enum JsonNode {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Zeroizing<String>),
    Array(Vec<JsonNode>),
    Object(Vec<(Zeroizing<String>, JsonNode)>),
}

/// A string (an object key) read into a buffer of its exact size, zeroed when freed.
struct JsonKey(Zeroizing<String>);

impl<'de> serde::Deserialize<'de> for JsonKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Key;
        impl serde::de::Visitor<'_> for Key {
            type Value = JsonKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<JsonKey, E> {
                Ok(JsonKey(Zeroizing::new(s.to_owned())))
            }
        }
        d.deserialize_str(Key)
    }
}

impl<'de> serde::Deserialize<'de> for JsonNode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Node;
        impl<'de> serde::de::Visitor<'de> for Node {
            type Value = JsonNode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<JsonNode, E> {
                Ok(JsonNode::Null)
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<JsonNode, E> {
                Ok(JsonNode::Bool(b))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<JsonNode, E> {
                Ok(JsonNode::Number(n.into()))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<JsonNode, E> {
                Ok(JsonNode::Number(n.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<JsonNode, E> {
                // As serde_json's `Value`: a number that is no finite f64 is null.
                Ok(serde_json::Number::from_f64(n).map_or(JsonNode::Null, JsonNode::Number))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<JsonNode, E> {
                Ok(JsonNode::String(Zeroizing::new(s.to_owned())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<JsonNode, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(JsonNode::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonNode, A::Error> {
                let mut members: Vec<(Zeroizing<String>, JsonNode)> = Vec::new();
                while let Some(JsonKey(key)) = map.next_key()? {
                    let value: JsonNode = map.next_value()?;
                    // A linear search: a secret is at most 64 KiB, and a repeated key is rare.
                    match members.iter_mut().find(|(k, _)| **k == *key) {
                        Some((_, earlier)) => *earlier = value,
                        None => members.push((key, value)),
                    }
                }
                Ok(JsonNode::Object(members))
            }
        }
        d.deserialize_any(Node)
    }
}

impl serde::Serialize for JsonNode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonNode::Null => s.serialize_unit(),
            JsonNode::Bool(b) => s.serialize_bool(*b),
            JsonNode::Number(n) => serde::Serialize::serialize(n, s),
            JsonNode::String(v) => s.serialize_str(v),
            JsonNode::Array(items) => s.collect_seq(items),
            JsonNode::Object(members) => s.collect_map(members.iter().map(|(k, v)| (&k[..], v))),
        }
    }
}

/// [`SecretValue::select_json`] on the parsed tree.
fn select_in<S: AsRef<str>>(root: &JsonNode, path: &[S]) -> Result<SecretValue, JsonSelectError> {
    let container = matches!(root, JsonNode::Object(_) | JsonNode::Array(_));
    if !path.is_empty() && !container {
        return Err(JsonSelectError::NotJson);
    }
    let mut node = root;
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
            JsonNode::Object(members) => {
                members.iter().find(|(k, _)| &k[..] == key).map(|(_, v)| v)
            }
            JsonNode::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
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
        JsonNode::String(s) => SecretValue::from_string(String::clone(s)),
        other => compact_json(other),
    })
}

/// `v` as compact JSON, written into a buffer of its exact size: `to_string` grows its buffer
/// by reallocating, which frees the smaller ones, holding part of the value, unzeroed.
fn compact_json(v: &impl serde::Serialize) -> SecretValue {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing JSON (string keys only) fails only on an I/O error, and neither writer has one.
    let _ = serde_json::to_writer(&mut count, v);
    let mut out = Vec::with_capacity(count.0);
    let _ = serde_json::to_writer(&mut out, v);
    SecretValue::from_bytes(out)
}

/// Zeroes every string of a parsed JSON tree, object keys included, as it frees it.
fn zeroize_json(v: serde_json::Value) {
    use zeroize::Zeroize;
    match v {
        serde_json::Value::String(mut s) => s.zeroize(),
        serde_json::Value::Array(items) => items.into_iter().for_each(zeroize_json),
        serde_json::Value::Object(map) => {
            for (mut k, v) in map {
                k.zeroize();
                zeroize_json(v);
            }
        }
        _ => {}
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

/// The decodings [`SecretValue::is_echoed_in`] searches a haystack through. Each is lenient (what
/// does not decode is kept as it is, or dropped) and only ever shrinks its input, but base64 and
/// hex, which give one output per offset, so a haystack bounded by its caller stays bounded.
mod echo {
    use zeroize::Zeroizing;

    /// The decodings of `text` that differ from it: percent (`+` kept, and `+` as a space), JSON
    /// string escapes, HTML entities, and with `binary_too` base64 (either alphabet) and hex runs
    /// decoded at every offset.
    pub(super) fn decodings(text: &[u8], binary_too: bool) -> Vec<Zeroizing<Vec<u8>>> {
        let mut out = Vec::new();
        let mut keep = |d: Zeroizing<Vec<u8>>| {
            if !d.is_empty() && d[..] != *text {
                out.push(d);
            }
        };
        if text.contains(&b'%') || text.contains(&b'+') {
            keep(percent(text, false));
            keep(percent(text, true));
        }
        if text.contains(&b'\\') {
            keep(json_unescape(text));
        }
        if text.contains(&b'&') {
            keep(html_unescape(text));
        }
        if binary_too {
            keep(runs(text, 4, base64_digit, base64_run));
            keep(runs(text, 2, hex_digit, hex_run));
            keep(separated_hex(text));
        }
        out
    }

    /// Every run of two or more groups of hex digit pairs with a separator between two (`de ad
    /// be ef`, `DE:AD:BE:EF`, `hexdump -C`'s two spaces in mid-line, `xxd`'s `6162 6364`),
    /// decoded; the runs one after the other, a NUL between two. The separator is one space, two
    /// spaces or one colon; a run ends where anything else follows a group. Then the hex columns
    /// of each dump of several lines ([`crate::withheld::hexdump_blocks`]: `xxd`, `hexdump -C`),
    /// joined across its lines, so that a value split across two lines of a dump is one run.
    fn separated_hex(text: &[u8]) -> Zeroizing<Vec<u8>> {
        // At most one byte per two of `text` and a NUL per run, in each of the two passes:
        // sized, never grown (see `runs`).
        let mut out = Zeroizing::new(Vec::with_capacity(text.len() * 2 + 4));
        // A group: an even number of hex digits, no word character right after it.
        let group = |at: usize| -> Option<usize> {
            let n = text[at.min(text.len())..]
                .iter()
                .take_while(|b| b.is_ascii_hexdigit())
                .count();
            let alone = text.get(at + n).is_none_or(|b| !b.is_ascii_alphanumeric());
            (n >= 2 && n % 2 == 0 && alone).then_some(n)
        };
        let decode = |digits: &[u8], out: &mut Vec<u8>| {
            for p in digits.chunks_exact(2) {
                if let (Some(h), Some(l)) = (hex_digit(p[0]), hex_digit(p[1])) {
                    out.push(h << 4 | l);
                }
            }
        };
        // A group stands alone: no hex digit (or other word character) right before it.
        let starts = |at: usize| at == 0 || !text[at - 1].is_ascii_alphanumeric();
        let mut i = 0;
        while i < text.len() {
            // `starts` first: `group` counts a whole hex run, and a run that is no group (odd,
            // or a letter after it) was counted again from each of its digits (quadratic).
            let Some(n) = starts(i).then(|| group(i)).flatten() else {
                i += 1;
                continue;
            };
            // Written in place, taken back when the run is one group: no buffer of its own.
            let from = out.len();
            decode(&text[i..i + n], &mut out);
            let (mut at, mut groups) = (i + n, 1);
            loop {
                let sep = match text.get(at..) {
                    Some([b' ', b' ', ..]) => 2,
                    Some([b' ' | b':', ..]) => 1,
                    _ => 0,
                };
                match (sep > 0).then(|| group(at + sep)).flatten() {
                    Some(n) => {
                        decode(&text[at + sep..at + sep + n], &mut out);
                        at += sep + n;
                        groups += 1;
                    }
                    None => break,
                }
            }
            if groups >= 2 {
                out.push(0);
            } else {
                out.truncate(from);
            }
            i = at;
        }
        for block in crate::withheld::hexdump_blocks(text) {
            let from = out.len();
            let mut odd = None;
            for g in block {
                for &d in &text[g] {
                    match odd.take() {
                        None => odd = Some(d),
                        Some(h) => decode(&[h, d], &mut out),
                    }
                }
            }
            if out.len() - from >= 2 {
                out.push(0);
            } else {
                out.truncate(from);
            }
        }
        out
    }

    fn hex_digit(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }

    fn base64_digit(b: u8) -> Option<u8> {
        match b {
            b'A'..=b'Z' => Some(b - b'A'),
            b'a'..=b'z' => Some(b - b'a' + 26),
            b'0'..=b'9' => Some(b - b'0' + 52),
            b'+' | b'-' => Some(62),
            b'/' | b'_' => Some(63),
            _ => None,
        }
    }

    fn percent(text: &[u8], plus_is_space: bool) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(text.len()));
        let mut i = 0;
        while i < text.len() {
            let b = text[i];
            let pair = text
                .get(i + 1..i + 3)
                .and_then(|h| Some((hex_digit(h[0])?, hex_digit(h[1])?)));
            match (b, pair) {
                (b'%', Some((hi, lo))) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                    continue;
                }
                (b'+', _) if plus_is_space => out.push(b' '),
                _ => out.push(b),
            }
            i += 1;
        }
        out
    }

    /// JSON string escapes, whichever an encoder chose (`\u00e9` or `é`, `\/` or `/`), surrogate
    /// pairs joined; a malformed escape is kept as it is.
    fn json_unescape(text: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(text.len()));
        let unit = |at: usize| -> Option<u32> {
            let h = text.get(at..at + 4)?;
            h.iter()
                .try_fold(0u32, |acc, &d| Some(acc << 4 | u32::from(hex_digit(d)?)))
        };
        let mut i = 0;
        while i < text.len() {
            if text[i] != b'\\' || i + 1 == text.len() {
                out.push(text[i]);
                i += 1;
                continue;
            }
            let simple = match text[i + 1] {
                b'"' => Some(b'"'),
                b'\\' => Some(b'\\'),
                b'/' => Some(b'/'),
                b'b' => Some(8),
                b'f' => Some(12),
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                _ => None,
            };
            if let Some(b) = simple {
                out.push(b);
                i += 2;
                continue;
            }
            let high = (text[i + 1] == b'u').then(|| unit(i + 2)).flatten();
            let Some(high) = high else {
                out.push(text[i]);
                i += 1;
                continue;
            };
            let low = (text.get(i + 6..i + 8) == Some(b"\\u"))
                .then(|| unit(i + 8))
                .flatten()
                .filter(|l| (0xdc00..0xe000).contains(l));
            let (code, used) = match low {
                Some(l) if (0xd800..0xdc00).contains(&high) => {
                    (0x10000 + ((high - 0xd800) << 10) + (l - 0xdc00), 12)
                }
                _ => (high, 6),
            };
            if let Some(c) = char::from_u32(code) {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            i += used;
        }
        out
    }

    /// `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` and numeric references (`&#60;`, `&#x3c;`).
    fn html_unescape(text: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(text.len()));
        let mut i = 0;
        while i < text.len() {
            let end = (text[i] == b'&')
                .then(|| text[i..].iter().take(12).position(|&b| b == b';'))
                .flatten();
            let decoded = end.and_then(|e| {
                let name = std::str::from_utf8(&text[i + 1..i + e]).ok()?;
                let code = match name {
                    "lt" => 0x3c,
                    "gt" => 0x3e,
                    "amp" => 0x26,
                    "quot" => 0x22,
                    "apos" => 0x27,
                    n if n.starts_with("#x") || n.starts_with("#X") => {
                        u32::from_str_radix(&n[2..], 16).ok()?
                    }
                    n => n.strip_prefix('#')?.parse().ok()?,
                };
                Some((char::from_u32(code)?, e))
            });
            match decoded {
                Some((c, e)) => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += e + 1;
                }
                None => {
                    out.push(text[i]);
                    i += 1;
                }
            }
        }
        out
    }

    /// Every maximal run of `digit`s (line breaks between two digits within it), decoded by `decode` from each of its first `period`
    /// offsets; the decoded pieces one after the other, a NUL between two.
    fn runs(
        text: &[u8],
        period: usize,
        digit: fn(u8) -> Option<u8>,
        decode: fn(&[u8], &mut Vec<u8>),
    ) -> Zeroizing<Vec<u8>> {
        // Sized for the most they can hold, never grown: a grown buffer frees the smaller one,
        // holding what it decoded (a value quoted in hex or base64), unzeroed. A run of r digits
        // gives `period` decodings of at most r * 3 / 4 bytes and a NUL each, r >= 2 * period.
        let mut out = Zeroizing::new(Vec::with_capacity(text.len() * (period + 1)));
        let mut digits = Zeroizing::new(Vec::with_capacity(text.len()));
        let mut i = 0;
        while i < text.len() {
            digits.clear();
            loop {
                while let Some(d) = text.get(i).copied().and_then(digit) {
                    digits.push(d);
                    i += 1;
                }
                // Base64 or hex wrapped into lines (MIME's 76 columns, PEM's 64, `base64`,
                // Python's `encodebytes`) is one run across its line breaks.
                let next = text[i.min(text.len())..]
                    .iter()
                    .position(|b| !matches!(b, b'\r' | b'\n'))
                    .map_or(text.len(), |n| i + n);
                if digits.is_empty()
                    || next == i
                    || text.get(next).copied().is_none_or(|b| digit(b).is_none())
                {
                    break;
                }
                i = next;
            }
            if digits.len() >= 2 * period {
                for offset in 0..period {
                    decode(&digits[offset..], &mut out);
                    out.push(0);
                }
            }
            i += 1;
        }
        out
    }

    /// 6-bit digits to bytes; a last partial group gives the whole bytes it holds.
    fn base64_run(digits: &[u8], out: &mut Vec<u8>) {
        let (mut acc, mut bits) = (0u32, 0u32);
        for &d in digits {
            acc = (acc << 6 | u32::from(d)) & 0xff_ffff;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
    }

    /// Pairs of hex digits to bytes; an odd last digit is dropped.
    fn hex_run(digits: &[u8], out: &mut Vec<u8>) {
        out.extend(digits.chunks_exact(2).map(|p| p[0] << 4 | p[1]));
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

    /// A value echoed in `xxd`'s default dump (`6162 6364`: groups of two bytes) was not seen,
    /// nor one split across two lines of a dump (`xxd`, `hexdump -C`): each line held a piece
    /// shorter than the echo run. Both are seen now; a dump of other bytes is not an echo.
    #[test]
    fn echoed_in_an_xxd_dump_or_across_lines_of_a_dump() {
        let v = SecretValue::from_string(CANARY.to_owned());
        let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
        for shift in 0..16 {
            let body = format!("{}{{\"SecretString\":\"{CANARY}\"}}", "#".repeat(shift));
            for group in [1usize, 2, 4] {
                let mut dump = String::from("request:\n");
                for (n, line) in body.as_bytes().chunks(16).enumerate() {
                    let cells: Vec<String> = line.chunks(group).map(hex).collect();
                    let text: String = line
                        .iter()
                        .map(|&b| if b.is_ascii_graphic() { '.' } else { ' ' })
                        .collect();
                    dump.push_str(&format!(
                        "{:08x}: {:<40}  {text}\n",
                        n * 16,
                        cells.join(" ")
                    ));
                }
                assert!(v.is_echoed_in(&dump), "shift {shift}, group {group}");
            }
        }
        let groups: Vec<String> = CANARY.as_bytes().chunks(2).map(hex).collect();
        assert!(v.is_echoed_in(&format!("got {} end", groups.join(" "))));
        assert!(!v.is_echoed_in("00000000: 6162 6364 6566 6768  abcdefgh\n00000008: 696a  ij\n"));
    }

    /// A long hex run that is no group (an odd number of digits, or a letter right after it)
    /// was counted again from each of its digits: 400 KB took 70 s, 2 MB would take about half
    /// an hour. Now one pass: a value dumped after 2 MB of such runs is still seen.
    #[test]
    fn a_long_hex_run_that_is_no_group_is_read_once() {
        let v = SecretValue::from_string(CANARY.to_owned());
        let groups: Vec<String> = CANARY
            .as_bytes()
            .chunks(2)
            .map(|c| c.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        let long = "0123456789abcdef".repeat(1 << 16);
        let text = format!("x {long}a y {long}g got {} end", groups.join(" "));
        assert!(v.is_echoed_in(&text));
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

    /// The tree select_json parses into writes a member as serde_json's `Value` would: numbers
    /// (floats, exponents, negatives, u64 and i64 limits), escapes, nesting, and a repeated key
    /// (its first place, the last value), and picks the repeated key's last value.
    #[test]
    fn select_json_writes_a_member_as_serde_json_does() {
        let text = r#"{"a":{"x":1,"y":[1.5,-2,1e3,18446744073709551615,-9223372036854775808,null,false],
            "x":{"q":"\"\u00e9\ud83d\udd11\n"},"z":"","":{}},"b":"first","b":"last"}"#;
        let v = SecretValue::from_string(text.to_owned());
        let want: serde_json::Value = serde_json::from_str(text).unwrap();
        for path in [&["a"][..], &["a", "y"], &["a", "x"], &[]] {
            let mut node = &want;
            for key in path {
                node = &node[*key];
            }
            let got = v.select_json(path).unwrap();
            assert_eq!(
                got.expose_str().unwrap(),
                serde_json::to_string(node).unwrap(),
                "{path:?}"
            );
        }
        assert_eq!(v.select_json(&["b"]).unwrap().expose_str().unwrap(), "last");
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
