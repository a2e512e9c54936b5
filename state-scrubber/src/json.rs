//! A single-pass JSON pull parser over borrowed bytes.
//!
//! Why not `serde_json::Value`: a 1 GB state would become several GB of heap. This parser walks the
//! input once, tracks line/column as it skips whitespace (JSON strings cannot hold a raw newline, so
//! whitespace is the only place a newline can be), keeps the current JSON path for error messages,
//! and builds a small tree ([`Dom`]) only for the unit the caller asks for (one resource, one
//! output), which is dropped before the next one. Strings stay borrowed; only strings that contain
//! a backslash are unescaped, on demand.
//!
//! Errors never quote input bytes: the input may be a secret.

use std::borrow::Cow;

/// Where a syntax error happened. Holds no input bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub pointer: String,
    pub message: &'static str,
}

/// One step of the path from the document root to the current value.
#[derive(Debug, Clone, Copy)]
pub enum Seg {
    /// Raw (still escaped) key bytes `start..end` in the input.
    Key(usize, usize),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool(bool),
    Number,
    Str { escaped: bool },
    Array,
    Object,
}

/// A node of a unit tree. `start..end` is the raw span: for strings, the bytes between the quotes.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub line: u32,
    pub column: u32,
    /// Children in `Dom::kids[first..first+len]`; objects store key, value, key, value, ...
    first: u32,
    len: u32,
    /// An object with a key more than once (see [`Dom::get`]).
    dup: bool,
}

/// A borrowed tree of one unit of the document.
///
/// An object may hold a key more than once (Terraform never writes that, but a hand-edited or
/// crafted file may). Readers disagree on which occurrence counts: Go's encoding/json, so
/// Terraform, keeps the last; others keep the first. [`Dom::get`] answers with the last one
/// (Terraform's reading) unless a [`Reading`] chooses another, and remembers each duplicated
/// key it was asked for, so that a caller can analyse the unit once per reading and see every
/// occurrence (see `document::Scanner`). [`Dom::members`] always lists every occurrence.
#[derive(Debug, Default)]
pub struct Dom {
    nodes: Vec<Node>,
    kids: Vec<u32>,
    /// Some object has a key more than once.
    dups: bool,
    reading: std::cell::RefCell<Reading>,
}

/// Which occurrence of a duplicated key [`Dom::get`] answers with, per object and key, and
/// which duplicated keys it was asked for under no choice (and how often each occurs).
#[derive(Debug, Default, Clone)]
pub struct Reading {
    pub choice: std::collections::HashMap<(NodeId, String), usize>,
    pub asked: std::collections::HashMap<(NodeId, String), usize>,
}

pub type NodeId = u32;

impl Dom {
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.kids.clear();
        self.dups = false;
        *self.reading.get_mut() = Reading::default();
    }
    /// Does some object of this tree hold a key more than once?
    pub fn has_duplicate_keys(&self) -> bool {
        self.dups
    }
    /// Read with these choices from now on (and forget what was asked so far).
    pub fn set_choice(&self, choice: std::collections::HashMap<(NodeId, String), usize>) {
        *self.reading.borrow_mut() = Reading {
            choice,
            asked: Default::default(),
        };
    }
    /// The duplicated keys [`Dom::get`] was asked for, with no choice made, since the last
    /// [`Dom::set_choice`]: (object, key) and how many times the key occurs there.
    pub fn take_asked(&self) -> std::collections::HashMap<(NodeId, String), usize> {
        std::mem::take(&mut self.reading.borrow_mut().asked)
    }
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }
    /// Members of an object as (key node, value node); empty for anything else.
    pub fn members(&self, id: NodeId) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        let n = self.node(id);
        let slice: &[u32] = if n.kind == Kind::Object {
            &self.kids[n.first as usize..(n.first + n.len) as usize]
        } else {
            &[]
        };
        slice.chunks_exact(2).map(|c| (c[0], c[1]))
    }
    /// Elements of an array; empty for anything else.
    pub fn elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let n = self.node(id);
        let slice: &[u32] = if n.kind == Kind::Array {
            &self.kids[n.first as usize..(n.first + n.len) as usize]
        } else {
            &[]
        };
        slice.iter().copied()
    }
    pub fn len(&self, id: NodeId) -> usize {
        let n = self.node(id);
        match n.kind {
            Kind::Object => n.len as usize / 2,
            Kind::Array => n.len as usize,
            _ => 0,
        }
    }
    /// The value of member `key` of object `id`. Of a key that occurs more than once, the last
    /// occurrence (as Terraform reads it) unless the current [`Reading`] chooses another.
    pub fn get(&self, src: &[u8], id: NodeId, key: &str) -> Option<NodeId> {
        let is_key = |k: NodeId| {
            let n = self.node(k);
            match n.kind {
                // Most keys have no escapes: compare bytes, no decoding.
                Kind::Str { escaped: false } => &src[n.start..n.end] == key.as_bytes(),
                _ => self.str(src, k).is_some_and(|s| s == key),
            }
        };
        if !self.node(id).dup {
            return self.members(id).find(|&(k, _)| is_key(k)).map(|(_, v)| v);
        }
        let found: Vec<NodeId> = self
            .members(id)
            .filter(|&(k, _)| is_key(k))
            .map(|(_, v)| v)
            .collect();
        let n = found.len();
        if n < 2 {
            return found.first().copied();
        }
        let mut reading = self.reading.borrow_mut();
        let at = (id, key.to_string());
        match reading.choice.get(&at) {
            Some(&i) => Some(found[i.min(n - 1)]),
            None => {
                reading.asked.insert(at, n);
                Some(found[n - 1])
            }
        }
    }
    /// The (unescaped) text of a string node. `None` for non-strings and invalid UTF-8.
    pub fn str<'s>(&self, src: &'s [u8], id: NodeId) -> Option<Cow<'s, str>> {
        let n = self.node(id);
        match n.kind {
            Kind::Str { escaped } => str_of(&src[n.start..n.end], escaped),
            _ => None,
        }
    }
    /// The text a `when` condition of the attribute table compares: a string's, or `true` /
    /// `false` for a boolean (`sensitive = true` on a `tfe_variable`). `None` otherwise.
    pub fn scalar<'s>(&self, src: &'s [u8], id: NodeId) -> Option<Cow<'s, str>> {
        match self.node(id).kind {
            Kind::Bool(b) => Some(Cow::Borrowed(if b { "true" } else { "false" })),
            _ => self.str(src, id),
        }
    }
    /// The raw text of a number node.
    pub fn raw<'s>(&self, src: &'s [u8], id: NodeId) -> &'s str {
        let n = self.node(id);
        std::str::from_utf8(&src[n.start..n.end]).unwrap_or("")
    }
    pub fn is_null(&self, id: NodeId) -> bool {
        self.node(id).kind == Kind::Null
    }
}

/// Unescape the raw bytes of a JSON string. `None` on invalid UTF-8 or a malformed escape.
pub fn str_of(raw: &[u8], escaped: bool) -> Option<Cow<'_, str>> {
    if !escaped {
        if raw.is_ascii() {
            // SAFETY: ASCII is valid UTF-8.
            return Some(Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(raw) }));
        }
        return std::str::from_utf8(raw).ok().map(Cow::Borrowed);
    }
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let e = *raw.get(i + 1)?;
        i += 2;
        let c = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(raw.get(i..i + 4)?)?;
                i += 4;
                if (0xD800..0xDC00).contains(&hi) {
                    if raw.get(i) == Some(&b'\\') && raw.get(i + 1) == Some(&b'u') {
                        let lo = hex4(raw.get(i + 2..i + 6)?)?;
                        if (0xDC00..0xE000).contains(&lo) {
                            i += 6;
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                        } else {
                            '\u{FFFD}'
                        }
                    } else {
                        '\u{FFFD}'
                    }
                } else {
                    char::from_u32(hi).unwrap_or('\u{FFFD}')
                }
            }
            _ => return None,
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

fn hex4(b: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(b).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// At `raw[at..]`, a `\u` escape of a UTF-16 surrogate that has no partner: a high surrogate
/// (`\uD800`-`\uDBFF`) not directly followed by an escaped low one, or a low surrogate
/// (`\uDC00`-`\uDFFF`). Returns how many bytes the escape (or the pair) takes, and whether it
/// is lone; `None` if `raw[at..]` is no `\u` escape of a surrogate.
fn surrogate_at(raw: &[u8], at: usize) -> Option<(usize, bool)> {
    let unit = |i: usize| -> Option<u32> {
        match raw.get(i..i + 6)? {
            [b'\\', b'u', hex @ ..] => hex4(hex),
            _ => None,
        }
    };
    match unit(at)? {
        0xD800..=0xDBFF => match unit(at + 6) {
            Some(0xDC00..=0xDFFF) => Some((12, false)),
            _ => Some((6, true)),
        },
        0xDC00..=0xDFFF => Some((6, true)),
        _ => None,
    }
}

/// Whether a JSON string's raw (still escaped) bytes hold a lone UTF-16 surrogate escape: no
/// character (Terraform never writes one; Go's encoding/json and [`str_of`] read U+FFFD).
pub fn has_lone_surrogate(raw: &[u8]) -> bool {
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' {
            i += 1;
            continue;
        }
        match surrogate_at(raw, i) {
            Some((_, true)) => return true,
            Some((len, false)) => i += len,
            // Any other escape: `\uXXXX` is six bytes, the rest (`\\`, `\"`, `\n`, ...) two.
            None if raw.get(i + 1) == Some(&b'u') => i += 6,
            None => i += 2,
        }
    }
    false
}

/// Byte classes for the string scanner: 1 = stop (quote, backslash, control character).
static STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

pub struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    /// Path from the root to the value being parsed, for errors and pointers.
    pub path: Vec<Seg>,
    depth: usize,
    tmp: Vec<u32>,
    /// Key spans of one object, sorted to find a key that occurs twice.
    spans: Vec<(usize, usize)>,
    /// Places that readers may read differently, seen so far (see [`Ambiguities`]).
    pub ambiguities: Ambiguities,
}

/// JSON that Terraform never writes and readers may read differently, by JSON pointer (never
/// with any part of a value): a key more than once in one object, and strings with a lone
/// UTF-16 surrogate escape (no character; Go's encoding/json reads U+FFFD, as [`str_of`] does).
/// The first [`Ambiguities::KEPT`] places of each are kept, all are counted.
#[derive(Debug, Default, Clone)]
pub struct Ambiguities {
    /// (pointer of the member, how many times its key occurs in the object).
    pub duplicate_keys: Vec<(String, usize)>,
    pub duplicate_key_count: usize,
    /// Pointer of the string's value (of the object, for a key).
    pub lone_surrogates: Vec<String>,
    pub lone_surrogate_count: usize,
}

impl Ambiguities {
    pub const KEPT: usize = 10;

    pub fn is_empty(&self) -> bool {
        self.duplicate_key_count == 0 && self.lone_surrogate_count == 0
    }

    /// A key seen `times` times in one object; `pointer` names the member.
    pub fn duplicate_key(&mut self, pointer: impl FnOnce() -> String, times: usize) {
        self.duplicate_key_count += 1;
        if self.duplicate_keys.len() < Self::KEPT {
            self.duplicate_keys.push((pointer(), times));
        }
    }
}

const MAX_DEPTH: usize = 512;
/// The longest string accepted (raw bytes between the quotes). Secrets Manager holds 64 KiB; a
/// longer string is hostile input, refused before it is read to its end (bounded time and memory).
pub const MAX_STRING: usize = 64 << 20;

type R<T> = Result<T, SyntaxError>;

impl<'a> Parser<'a> {
    pub fn new(src: &'a [u8]) -> Self {
        // A UTF-8 byte-order mark is tolerated, as Terraform tolerates it.
        let pos = if src.starts_with(&[0xEF, 0xBB, 0xBF]) {
            3
        } else {
            0
        };
        Parser {
            src,
            pos,
            line: 1,
            line_start: pos,
            path: Vec::new(),
            depth: 0,
            tmp: Vec::new(),
            spans: Vec::new(),
            ambiguities: Ambiguities::default(),
        }
    }

    pub fn src(&self) -> &'a [u8] {
        self.src
    }

    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Line and column (1-based, column in bytes) of the next token.
    pub fn position(&mut self) -> (u32, u32) {
        self.skip_ws();
        (self.line, (self.pos - self.line_start + 1) as u32)
    }

    pub fn error(&self, message: &'static str) -> SyntaxError {
        SyntaxError {
            line: self.line,
            column: (self.pos.saturating_sub(self.line_start) + 1) as u32,
            pointer: pointer_of(self.src, &self.path),
            message,
        }
    }

    #[inline]
    fn skip_ws(&mut self) {
        let src = self.src;
        let mut p = self.pos;
        while p < src.len() {
            match src[p] {
                b' ' | b'\t' | b'\r' => p += 1,
                b'\n' => {
                    p += 1;
                    self.line += 1;
                    self.line_start = p;
                }
                _ => break,
            }
        }
        self.pos = p;
    }

    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.src.get(self.pos).copied()
    }

    /// After the top-level value: only whitespace may follow.
    pub fn finish(&mut self) -> R<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("unexpected data after the end of the JSON document")),
        }
    }

    fn eof_error(&self) -> SyntaxError {
        self.error("unexpected end of input (truncated file?)")
    }

    // ---- streaming interface -------------------------------------------------------------------

    /// Consume `{`.
    pub fn begin_object(&mut self) -> R<()> {
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                self.enter()?;
                Ok(())
            }
            None => Err(self.eof_error()),
            Some(_) => Err(self.error("expected an object")),
        }
    }

    /// The next key of the object being streamed (its raw span), or `None` at `}`.
    /// `first` is true for the first call after `begin_object`.
    pub fn next_key(&mut self, first: bool) -> R<Option<(usize, usize, bool)>> {
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                self.leave();
                return Ok(None);
            }
            Some(b',') if !first => {
                self.pos += 1;
            }
            None => return Err(self.eof_error()),
            Some(_) if !first => {
                return Err(self.error("expected ',' or '}' after an object member"))
            }
            _ => {}
        }
        match self.peek() {
            Some(b'"') => {}
            None => return Err(self.eof_error()),
            Some(_) => return Err(self.error("expected a string key")),
        }
        let (s, e, esc) = self.string_span()?;
        match self.peek() {
            Some(b':') => self.pos += 1,
            None => return Err(self.eof_error()),
            Some(_) => return Err(self.error("expected ':' after an object key")),
        }
        Ok(Some((s, e, esc)))
    }

    /// Consume `[`.
    pub fn begin_array(&mut self) -> R<()> {
        match self.peek() {
            Some(b'[') => {
                self.pos += 1;
                self.enter()?;
                Ok(())
            }
            None => Err(self.eof_error()),
            Some(_) => Err(self.error("expected an array")),
        }
    }

    /// True if another element follows (the caller then parses it), false at `]`.
    pub fn next_element(&mut self, first: bool) -> R<bool> {
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                self.leave();
                Ok(false)
            }
            Some(b',') if !first => {
                self.pos += 1;
                Ok(true)
            }
            None => Err(self.eof_error()),
            Some(_) if !first => Err(self.error("expected ',' or ']' after an array element")),
            _ => Ok(true),
        }
    }

    /// What the next value is, without consuming it.
    pub fn peek_kind(&mut self) -> R<u8> {
        self.peek().ok_or_else(|| self.eof_error())
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth -= 1;
    }

    pub fn push_key(&mut self, s: usize, e: usize) {
        self.path.push(Seg::Key(s, e));
    }
    pub fn push_index(&mut self, i: usize) {
        self.path.push(Seg::Index(i));
    }
    pub fn pop(&mut self) {
        self.path.pop();
    }

    /// Skip one value, checking its syntax.
    pub fn skip_value(&mut self) -> R<()> {
        match self.peek_kind()? {
            b'{' => {
                self.begin_object()?;
                let mut first = true;
                while let Some((s, e, _)) = self.next_key(first)? {
                    first = false;
                    self.push_key(s, e);
                    self.skip_value()?;
                    self.pop();
                }
                Ok(())
            }
            b'[' => {
                self.begin_array()?;
                let mut i = 0;
                while self.next_element(i == 0)? {
                    self.push_index(i);
                    self.skip_value()?;
                    self.pop();
                    i += 1;
                }
                Ok(())
            }
            b'"' => self.string_span().map(|_| ()),
            _ => self.scalar().map(|_| ()),
        }
    }

    /// Parse a string value; returns its raw span and whether it holds escapes.
    pub fn string_span(&mut self) -> R<(usize, usize, bool)> {
        // precondition: at '"'
        self.pos += 1;
        let start = self.pos;
        let src = self.src;
        let mut p = start;
        let mut escaped = false;
        // A lone surrogate escape seen in this string (each string is counted once).
        let mut lone = false;
        // Most strings in a state are short: a plain loop beats memchr's set-up for them.
        let short_end = (start + 32).min(src.len());
        while p < short_end {
            let b = src[p];
            if STRING_STOP[b as usize] {
                if b == b'"' {
                    return self.string_end(start, p, false);
                }
                break;
            }
            p += 1;
        }
        // Never look further than the longest string accepted (plus its closing quote).
        let limit = src.len().min(start.saturating_add(MAX_STRING + 1));
        loop {
            // Fast path: find the next quote or backslash, then check for control bytes in between.
            match memchr::memchr2(b'"', b'\\', &src[p.min(limit)..limit]) {
                None if limit < src.len() => {
                    self.pos = start;
                    return Err(self.error("string longer than 64 MiB"));
                }
                None => {
                    self.pos = src.len();
                    return Err(self.error("unterminated string (truncated file?)"));
                }
                Some(off) => {
                    let q = p + off;
                    if src[p..q].iter().any(|&b| STRING_STOP[b as usize]) {
                        self.pos = p + src[p..q].iter().position(|&b| b < 0x20).unwrap_or(0);
                        return Err(self.error("control character inside a string"));
                    }
                    if src[q] == b'"' {
                        return self.string_end(start, q, escaped);
                    }
                    escaped = true;
                    match src.get(q + 1) {
                        None => {
                            self.pos = src.len();
                            return Err(self.error("unterminated string (truncated file?)"));
                        }
                        Some(b'u') => {
                            let hex = src.get(q + 2..q + 6);
                            if !hex.is_some_and(|h| h.iter().all(|c| c.is_ascii_hexdigit())) {
                                self.pos = q;
                                return Err(self.error("invalid \\u escape in a string"));
                            }
                            p = q + 6;
                            // Only `\u` escapes of surrogates pay for this.
                            if matches!(src[q + 2], b'd' | b'D') {
                                match surrogate_at(&src[..limit], q) {
                                    Some((len, false)) => p = q + len,
                                    Some((_, true)) if !lone => {
                                        lone = true;
                                        self.lone_surrogate();
                                    }
                                    _ => {}
                                }
                            }
                        }
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => p = q + 2,
                        Some(_) => {
                            self.pos = q;
                            return Err(self.error("invalid escape in a string"));
                        }
                    }
                }
            }
        }
    }

    /// The closing quote of a string at `end`: a JSON text is UTF-8 (RFC 8259), and a string that
    /// is not would otherwise be skipped unread (a secret with one bad byte would pass unseen).
    fn string_end(&mut self, start: usize, end: usize, escaped: bool) -> R<(usize, usize, bool)> {
        let raw = &self.src[start..end];
        if !raw.is_ascii() {
            if let Err(e) = std::str::from_utf8(raw) {
                self.pos = start + e.valid_up_to();
                return Err(self.error("invalid UTF-8 in a string"));
            }
        }
        self.pos = end + 1;
        Ok((start, end, escaped))
    }

    /// Parse a literal or a number. Returns its kind and span.
    fn scalar(&mut self) -> R<(Kind, usize, usize)> {
        let src = self.src;
        let start = self.pos;
        let lit = |p: &mut Self, word: &[u8], k: Kind| -> R<(Kind, usize, usize)> {
            if src[start..].starts_with(word) {
                p.pos += word.len();
                Ok((k, start, p.pos))
            } else {
                Err(p.error("invalid literal"))
            }
        };
        match src.get(start) {
            Some(b'n') => lit(self, b"null", Kind::Null),
            Some(b't') => lit(self, b"true", Kind::Bool(true)),
            Some(b'f') => lit(self, b"false", Kind::Bool(false)),
            Some(b'-' | b'0'..=b'9') => {
                let mut p = start;
                if src[p] == b'-' {
                    p += 1;
                }
                let digits = |p: &mut usize| {
                    let s = *p;
                    while *p < src.len() && src[*p].is_ascii_digit() {
                        *p += 1;
                    }
                    *p > s
                };
                if !digits(&mut p) {
                    self.pos = start;
                    return Err(self.error("invalid number"));
                }
                if p < src.len() && src[p] == b'.' {
                    p += 1;
                    if !digits(&mut p) {
                        self.pos = p;
                        return Err(self.error("invalid number"));
                    }
                }
                if p < src.len() && (src[p] == b'e' || src[p] == b'E') {
                    p += 1;
                    if p < src.len() && (src[p] == b'+' || src[p] == b'-') {
                        p += 1;
                    }
                    if !digits(&mut p) {
                        self.pos = p;
                        return Err(self.error("invalid number"));
                    }
                }
                self.pos = p;
                Ok((Kind::Number, start, p))
            }
            None => Err(self.eof_error()),
            Some(_) => Err(self.error("expected a JSON value")),
        }
    }

    // ---- tree interface ------------------------------------------------------------------------

    /// Parse the next value into `dom` and return its id. The dom is appended to, not cleared.
    pub fn parse_into(&mut self, dom: &mut Dom) -> R<NodeId> {
        let c = self.peek_kind()?;
        let line = self.line;
        let column = (self.pos - self.line_start + 1) as u32;
        let start = self.pos;
        let id = dom.nodes.len() as u32;
        match c {
            b'{' => {
                dom.nodes.push(Node {
                    kind: Kind::Object,
                    start,
                    end: start,
                    line,
                    column,
                    first: 0,
                    len: 0,
                    dup: false,
                });
                self.begin_object()?;
                let mark = self.tmp.len();
                let mut first = true;
                while let Some((s, e, esc)) = self.next_key(first)? {
                    first = false;
                    let kid = dom.nodes.len() as u32;
                    dom.nodes.push(Node {
                        kind: Kind::Str { escaped: esc },
                        start: s,
                        end: e,
                        line: self.line,
                        column: 0,
                        first: 0,
                        len: 0,
                        dup: false,
                    });
                    self.tmp.push(kid);
                    self.push_key(s, e);
                    let v = self.parse_into(dom)?;
                    self.pop();
                    self.tmp.push(v);
                }
                let first = dom.kids.len() as u32;
                dom.kids.extend_from_slice(&self.tmp[mark..]);
                let len = (self.tmp.len() - mark) as u32;
                self.tmp.truncate(mark);
                let dup = self.duplicate_keys(dom, first as usize, len as usize);
                dom.dups |= dup;
                let n = &mut dom.nodes[id as usize];
                n.first = first;
                n.len = len;
                n.end = self.pos;
                n.dup = dup;
            }
            b'[' => {
                dom.nodes.push(Node {
                    kind: Kind::Array,
                    start,
                    end: start,
                    line,
                    column,
                    first: 0,
                    len: 0,
                    dup: false,
                });
                self.begin_array()?;
                let mark = self.tmp.len();
                let mut i = 0;
                while self.next_element(i == 0)? {
                    self.push_index(i);
                    let v = self.parse_into(dom)?;
                    self.pop();
                    self.tmp.push(v);
                    i += 1;
                }
                let first = dom.kids.len() as u32;
                dom.kids.extend_from_slice(&self.tmp[mark..]);
                let len = (self.tmp.len() - mark) as u32;
                self.tmp.truncate(mark);
                let n = &mut dom.nodes[id as usize];
                n.first = first;
                n.len = len;
                n.end = self.pos;
            }
            b'"' => {
                let (s, e, esc) = self.string_span()?;
                dom.nodes.push(Node {
                    kind: Kind::Str { escaped: esc },
                    start: s,
                    end: e,
                    line,
                    column,
                    first: 0,
                    len: 0,
                    dup: false,
                });
            }
            _ => {
                let (k, s, e) = self.scalar()?;
                dom.nodes.push(Node {
                    kind: k,
                    start: s,
                    end: e,
                    line,
                    column,
                    first: 0,
                    len: 0,
                    dup: false,
                });
            }
        }
        Ok(id)
    }

    /// A string with a lone surrogate escape at the current path (see [`Ambiguities`]).
    fn lone_surrogate(&mut self) {
        let a = &mut self.ambiguities;
        a.lone_surrogate_count += 1;
        if a.lone_surrogates.len() < Ambiguities::KEPT {
            a.lone_surrogates.push(pointer_of(self.src, &self.path));
        }
    }

    /// Does the object whose members are `dom.kids[first..first + len]` (key, value, ...) hold
    /// a key more than once? Each such key is recorded in [`Parser::ambiguities`], under the
    /// object's pointer (the current path). Keys are compared as Go compares them, unescaped.
    fn duplicate_keys(&mut self, dom: &Dom, first: usize, len: usize) -> bool {
        let keys = &dom.kids[first..first + len];
        let n = keys.len() / 2;
        if n < 2 {
            return false;
        }
        let src = self.src;
        let key = |i: usize| dom.nodes[keys[2 * i] as usize];
        let escaped = (0..n).any(|i| key(i).kind == Kind::Str { escaped: true });
        if !escaped {
            // The common case: plain keys, compared as bytes with no allocation.
            let raw = |k: &Node| &src[k.start..k.end];
            let found = if n <= 8 {
                (1..n).any(|i| (0..i).any(|j| raw(&key(i)) == raw(&key(j))))
            } else {
                self.spans.clear();
                self.spans
                    .extend((0..n).map(|i| (key(i).start, key(i).end)));
                self.spans
                    .sort_unstable_by(|a, b| src[a.0..a.1].cmp(&src[b.0..b.1]));
                self.spans
                    .windows(2)
                    .any(|w| src[w[0].0..w[0].1] == src[w[1].0..w[1].1])
            };
            if !found {
                return false;
            }
        }
        // Rare: name every key that occurs more than once, and how often.
        let mut names: Vec<Cow<'_, str>> = (0..n)
            .map(|i| {
                str_of(
                    &src[key(i).start..key(i).end],
                    key(i).kind != Kind::Str { escaped: false },
                )
                .unwrap_or(Cow::Borrowed(""))
            })
            .collect();
        names.sort_unstable();
        let mut any = false;
        let mut i = 0;
        while i < names.len() {
            let mut j = i + 1;
            while j < names.len() && names[j] == names[i] {
                j += 1;
            }
            if j - i > 1 {
                any = true;
                let path = &self.path;
                let name = &names[i];
                self.ambiguities.duplicate_key(
                    || {
                        let mut p = pointer_of(src, path);
                        p.push('/');
                        push_pointer_token(&mut p, name);
                        p
                    },
                    j - i,
                );
            }
            i = j;
        }
        any
    }

    /// Parse a whole document into a fresh tree (for small nested documents: JSON in a string).
    pub fn parse_document(src: &'a [u8]) -> R<(Dom, NodeId)> {
        let mut p = Parser::new(src);
        let mut dom = Dom::default();
        let root = p.parse_into(&mut dom)?;
        p.finish()?;
        Ok((dom, root))
    }
}

/// RFC 6901 pointer of a path.
pub fn pointer_of(src: &[u8], path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        out.push('/');
        match *seg {
            Seg::Index(i) => out.push_str(&i.to_string()),
            Seg::Key(s, e) => {
                let esc = src[s..e].contains(&b'\\');
                let k = str_of(&src[s..e], esc).unwrap_or(Cow::Borrowed("?"));
                push_pointer_token(&mut out, &k);
            }
        }
    }
    out
}

pub fn push_pointer_token(out: &mut String, token: &str) {
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> SyntaxError {
        let mut p = Parser::new(src.as_bytes());
        let mut dom = Dom::default();
        match p.parse_into(&mut dom).and_then(|_| p.finish()) {
            Ok(()) => panic!("parsed: {src}"),
            Err(e) => e,
        }
    }

    #[test]
    fn parses_tree_with_positions() {
        let src = b"{\n  \"a\": [1, \"x\\u003cy\", null],\n  \"b\": {\"c\": true}\n}\n";
        let (dom, root) = Parser::parse_document(src).unwrap();
        let a = dom.get(src, root, "a").unwrap();
        let els: Vec<_> = dom.elements(a).collect();
        assert_eq!(els.len(), 3);
        assert_eq!(dom.str(src, els[1]).unwrap(), "x<y");
        assert_eq!(dom.node(els[1]).line, 2);
        assert_eq!(dom.node(els[1]).column, 12);
        assert!(dom.is_null(els[2]));
        let b = dom.get(src, root, "b").unwrap();
        assert_eq!(dom.len(b), 1);
    }

    #[test]
    fn errors_name_line_column_and_pointer() {
        let cases: &[(&str, u32, u32, &str, &str)] = &[
            (
                "{\"a\": [1, 2,",
                1,
                13,
                "/a/2",
                "unexpected end of input (truncated file?)",
            ),
            ("{\"a\": {\"b\": tru}}", 1, 13, "/a/b", "invalid literal"),
            (
                "{\n\"a\": \"x\n\"}",
                2,
                8,
                "/a",
                "control character inside a string",
            ),
            (
                "{\"a\": 1} x",
                1,
                10,
                "",
                "unexpected data after the end of the JSON document",
            ),
            ("{\"a\" 1}", 1, 6, "", "expected ':' after an object key"),
            (
                "[1 2]",
                1,
                4,
                "",
                "expected ',' or ']' after an array element",
            ),
            ("{\"a~/b\": [0, -]}", 1, 14, "/a~0~1b/1", "invalid number"),
            (
                "{\"s\": \"abc",
                1,
                11,
                "/s",
                "unterminated string (truncated file?)",
            ),
        ];
        for &(src, line, col, ptr, msg) in cases {
            let e = err(src);
            assert_eq!(
                (e.line, e.column, e.pointer.as_str(), e.message),
                (line, col, ptr, msg),
                "{src}"
            );
        }
    }

    #[test]
    fn lone_surrogates_are_found_and_pairs_are_not() {
        // (raw string, holds a lone surrogate)
        let cases: &[(&str, bool)] = &[
            (r"plain", false),
            (r"\ud83d\ude00", false),
            (r"a\uD83D\uDE00b\u00e9", false),
            (r"\\ud800", false),
            (r"\\\ud800", true),
            (r"\ud800", true),
            (r"x\ud800y", true),
            (r"\ud800\u0041", true),
            (r"\udc00", true),
            (r"\ude00\ud83d", true),
            (r"\ud83d\ude00\ud83d", true),
            (r"\ud800\ud800\udc00", true),
            (r"\n\t\u0000\ud7ff\ue000", false),
        ];
        for (raw, lone) in cases {
            assert_eq!(has_lone_surrogate(raw.as_bytes()), *lone, "{raw}");
            // The parser finds the same strings, as values and as keys, and reads them still.
            let doc = format!("{{\"k\": [\"{raw}\"], \"{raw}\": 1}}");
            let mut p = Parser::new(doc.as_bytes());
            let mut dom = Dom::default();
            p.parse_into(&mut dom).unwrap();
            let a = &p.ambiguities;
            assert_eq!(a.lone_surrogate_count, if *lone { 2 } else { 0 }, "{raw}");
            if *lone {
                assert_eq!(a.lone_surrogates, ["/k/0", ""], "{raw}");
            }
        }
        // Read as Go reads it: U+FFFD for the lone half, the rest kept.
        assert_eq!(str_of(br"a\ud800b", true).unwrap(), "a\u{FFFD}b");
        assert_eq!(str_of(br"\udc00\u0041", true).unwrap(), "\u{FFFD}A");
    }

    #[test]
    fn duplicate_keys_are_found_and_read_as_terraform_reads_them() {
        // (document, duplicated (pointer, times))
        let many: String = (0..12).map(|i| format!("\"k{i}\": {i}, ")).collect();
        let cases: Vec<(String, Vec<(&str, usize)>)> = vec![
            (r#"{"a": 1, "b": 2}"#.into(), vec![]),
            (r#"{"a": 1, "a": 2}"#.into(), vec![("/a", 2)]),
            (r#"{"a": 1, "\u0061": 2, "a": 3}"#.into(), vec![("/a", 3)]),
            (
                r#"{"x": {"a~/": 1, "a~/": 2}}"#.into(),
                vec![("/x/a~0~1", 2)],
            ),
            (format!("{{{many}\"k3\": 0}}"), vec![("/k3", 2)]),
            (format!("{{{many}\"z\": 0}}"), vec![]),
            (r#"[{"a": 1}, {"a": 2}]"#.into(), vec![]),
        ];
        for (doc, want) in &cases {
            let mut p = Parser::new(doc.as_bytes());
            let mut dom = Dom::default();
            let root = p.parse_into(&mut dom).unwrap();
            let got: Vec<(&str, usize)> = p
                .ambiguities
                .duplicate_keys
                .iter()
                .map(|(at, n)| (at.as_str(), *n))
                .collect();
            assert_eq!(&got, want, "{doc}");
            assert_eq!(dom.has_duplicate_keys(), !want.is_empty(), "{doc}");
            let _ = root;
        }
        // `get` answers with the last occurrence unless a reading chooses another, and says
        // which duplicated keys it was asked for.
        let src = br#"{"a": 1, "b": 2, "a": 3, "a": 4}"#;
        let (dom, root) = Parser::parse_document(src).unwrap();
        let val = |id: Option<NodeId>| dom.raw(src, id.unwrap()).to_string();
        assert_eq!(val(dom.get(src, root, "a")), "4");
        assert_eq!(val(dom.get(src, root, "b")), "2");
        let asked = dom.take_asked();
        assert_eq!(
            asked.into_iter().collect::<Vec<_>>(),
            [((root, "a".to_string()), 3)]
        );
        dom.set_choice([((root, "a".to_string()), 1)].into_iter().collect());
        assert_eq!(val(dom.get(src, root, "a")), "3");
        assert!(dom.take_asked().is_empty());
        assert_eq!(dom.members(root).count(), 4);
    }

    #[test]
    fn unescapes_surrogates_and_rejects_bad_escapes() {
        assert_eq!(str_of(br"\ud83d\ude00", true).unwrap(), "\u{1F600}");
        assert_eq!(str_of(br"a\nb", true).unwrap(), "a\nb");
        assert!(str_of(br"\q", true).is_none());
    }
}
