//! Strings never to be shown: credentials a provider learns (an AWS secret key or session token
//! from its environment, an `external_id`, a proxy's password), registered with [`withhold`].
//! Every log line and every diagnostic the provider sends to Terraform (offstate-framework's
//! `logging` and `wire`, which re-exports this crate as `offstate_framework::withheld`), and every
//! error and warning state-scrubber prints or reports (through `offstate_common::withheld`), is
//! passed through [`scrub`], which replaces them. One list per process: both paths name this crate.
//!
//! This is defence in depth for text the provider does not write itself: a library's log event
//! or an error message from a server or a proxy that reflects the request it got (its session
//! token header, its form body) back in its error text.

use std::borrow::Cow;
use std::ops::Range;

use aho_corasick::AhoCorasick;
use std::sync::RwLock;

/// What a withheld string is replaced with.
pub const MASK: &str = "[withheld]";

/// Forms of at least this many bytes are replaced wherever they occur. Shorter ones (a short
/// proxy password or `external_id`) are replaced only as a whole token (see [`scrub`]), so that
/// one such as `testing` (a test credential) masks the word, not every word containing it.
pub const MIN_LEN: usize = 12;

/// A credential's base64 (the characters that carry it alone) of at least this many characters
/// is replaced wherever it occurs, also when shorter than [`MIN_LEN`]: inside a base64 blob
/// there is no token boundary. From 6, a credential of 5 bytes or more is masked in base64, at
/// each of the 3 alignments (5 bytes hold 6 characters of their own at each; 4 bytes 4 or 5).
/// Measured against 20,000 log lines each with a UUID, a SHA-256 in hex and 40 random base64
/// characters, 2,000 random credentials of 3 to 9 bytes matched nothing at 6 characters and 222
/// times at 4.
pub const BASE64_MIN_LEN: usize = 6;

/// A credential's hex (either case) of at least this many characters (4 bytes) is replaced
/// wherever it occurs. At 6 (3 bytes), 47 of the lines above matched (UUIDs and digests are hex).
pub const HEX_MIN_LEN: usize = 8;

/// The registered forms, longest first, and an automaton over those of [`MIN_LEN`] bytes or more,
/// built once per [`withhold`]: [`scrub`] then reads a line once for all of them (there are some
/// 20 per credential: 4 forms, each at 3 alignments in 2 alphabets of base64), not once each.
struct Withheld {
    forms: Vec<String>,
    /// Base64 and hex forms, replaced wherever they occur, also under [`MIN_LEN`].
    encoded: Vec<String>,
    long: Option<AhoCorasick>,
    /// The automaton could not be built (past its size limits: gigabytes of patterns): every
    /// text is then withheld whole, never shown unmasked.
    unbuilt: bool,
}

static WITHHELD: RwLock<Withheld> = RwLock::new(Withheld {
    forms: Vec::new(),
    encoded: Vec::new(),
    long: None,
    unbuilt: false,
});

/// Registers `secret` (and its JSON-escaped and percent-encoded forms, hex digits in either case)
/// to be replaced in every
/// log line and diagnostic from now on. The empty string is ignored.
///
/// The percent-encoded form is the one a form body carries (STS's query protocol:
/// `ExternalId=a%2Bb%2Fc`, every byte but letters, digits and `-._~` as `%XX`), which a server
/// or gateway that echoes the request shows as it got it.
pub fn withhold(secret: &str) {
    if secret.is_empty() {
        return;
    }
    let escaped = serde_json::to_string(secret).unwrap_or_default();
    let escaped = escaped
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or("")
        .to_owned();
    let mut encoded = String::with_capacity(secret.len());
    for b in secret.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    // A gateway that decodes a body and encodes it again may write the hex digits in lower case
    // (`%2b`): percent-encoding leaves the case to the encoder.
    let lower = if encoded.contains('%') {
        let mut lower = String::with_capacity(encoded.len());
        let mut hex = 0;
        for c in encoded.chars() {
            if hex > 0 {
                lower.push(c.to_ascii_lowercase());
                hex -= 1;
            } else {
                lower.push(c);
                if c == '%' {
                    hex = 2;
                }
            }
        }
        lower
    } else {
        String::new()
    };
    // Other JSON encoders escape more than serde_json: PHP writes `/` as `\/` (an
    // `external_id` may hold `/`), Python's `ensure_ascii` every non-ASCII character as `\u00e9`
    // (surrogate pairs beyond the BMP), and PHP's `json_encode` by default does both.
    let slashed = escaped.replace('/', "\\/");
    let mut ascii = String::with_capacity(escaped.len());
    for c in escaped.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                ascii.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    let both = ascii.replace('/', "\\/");
    // Java's Jackson (and .NET's encoders) write a `\u` escape's hex digits in upper case
    // (`\u00F6`, `\u001F`, `\uD83D`): JSON leaves the case to the encoder.
    let upper: Vec<String> = [&escaped, &ascii, &both]
        .into_iter()
        .map(|f| upper_unicode_escapes(f))
        .collect();
    let mut forms = vec![secret.to_owned(), escaped.clone(), encoded, lower];
    for other in [slashed, ascii, both].into_iter().chain(upper) {
        if other != escaped && !forms.contains(&other) {
            forms.push(other);
        }
    }
    // A gateway or a fake that answers with the base64 of the whole request it got (a form body
    // with an `external_id`, a JSON body with a token): each form sits there at one of three
    // byte alignments, in the standard or the URL alphabet. A dump of a request in hex (a
    // debugging proxy, a packet log) holds one of the forms in hex, either case.
    let mut encoded_forms = Vec::new();
    for form in forms.iter().filter(|f| !f.is_empty()) {
        encoded_forms.extend(base64_cores(form.as_bytes()));
    }
    for form in forms.iter().filter(|f| !f.is_empty()) {
        let hex: String = form.bytes().map(|b| format!("{b:02x}")).collect();
        if hex.len() >= HEX_MIN_LEN {
            encoded_forms.push(hex.to_ascii_uppercase());
            encoded_forms.push(hex);
        }
    }
    let mut state = WITHHELD.write().unwrap_or_else(|e| e.into_inner());
    for form in forms {
        if !form.is_empty() && !state.forms.contains(&form) {
            state.forms.push(form);
        }
    }
    for form in encoded_forms {
        if !form.is_empty() && !state.encoded.contains(&form) {
            state.encoded.push(form);
        }
    }
    // Longest first, so a string containing another is replaced whole.
    state.forms.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let long: Vec<&String> = state
        .forms
        .iter()
        .filter(|s| s.len() >= MIN_LEN)
        .chain(&state.encoded)
        .collect();
    // Building fails only past the automaton's size limits (gigabytes of patterns); then every
    // text is withheld whole rather than shown.
    match AhoCorasick::new(long) {
        Ok(automaton) => state.long = Some(automaton),
        Err(_) => state.unbuilt = true,
    }
}

/// `json` (a JSON string's inside) with the four hex digits of each `\u` escape in upper case.
fn upper_unicode_escapes(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut chars = json.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '\\' {
            continue;
        }
        // An escape: `\\`, `\"`, `\n`... are copied as they are; `\uXXXX` in upper case.
        match chars.next() {
            Some('u') => {
                out.push('u');
                out.extend(chars.by_ref().take(4).map(|h| h.to_ascii_uppercase()));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// The base64 characters that depend on `bytes` alone, for `bytes` at each of the three byte
/// alignments in a larger blob, in the standard and the URL alphabet: whatever surrounds `bytes`
/// in the blob, its base64 holds one of these. Only those of [`BASE64_MIN_LEN`] characters or
/// more (replaced wherever they occur: inside base64 there is no whole token).
/// The one character at each end that mixes `bytes` with its neighbours (if any) is left: it
/// carries at most 4 bits of it.
fn base64_cores(bytes: &[u8]) -> Vec<String> {
    const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    for k in 0..3usize {
        let mut padded = vec![0u8; k];
        padded.extend_from_slice(bytes);
        let mut enc = Vec::with_capacity(padded.len() * 4 / 3 + 4);
        for chunk in padded.chunks(3) {
            let n = chunk.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b))
                << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                enc.push(STD[(n >> (18 - 6 * i) & 63) as usize]);
            }
        }
        // Characters wholly inside `bytes`: from the first after the k padding bytes' bits to the
        // last before the bits of what follows.
        let (from, to) = ((k * 8).div_ceil(6), (k + bytes.len()) * 8 / 6);
        if to < from + BASE64_MIN_LEN || to > enc.len() {
            continue;
        }
        let core = String::from_utf8_lossy(&enc[from..to]).into_owned();
        let url = core.replace('+', "-").replace('/', "_");
        if url != core {
            out.push(url);
        }
        out.push(core);
    }
    out
}

/// A character that could continue a word or a credential: a letter or digit of any script
/// (`é`, `ж`, `中`: Rust's `char::is_alphanumeric`), `_` and `-` (names such as
/// `my-testing-secret`). Every other character delimits a token: ASCII's `:@/&=?"'`, whitespace,
/// `.,;()[]{}<>`, `+%\`, and other scripts' punctuation and spaces (typographic quotes `“pw”`,
/// `«pw»`, a no-break space): URL userinfo `user:pw@host`, a query `ExternalId=pw&`, JSON
/// `"pw"`, a header `: pw\r`, the end of a sentence `pw.`.
fn continues(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Whether `needle`, found at `text[at..]`, is a whole token there: what follows is the end of
/// `text` or a delimiter, and what precedes it is the start of `text`, a delimiter, or an escape
/// ending in a letter or digit (`%3A` of a percent-encoded body, `\n` or `\u00e9` of a JSON
/// string). An edge of `needle` that is itself a delimiter (`pw!`, or `pw%21` encoded) needs no
/// boundary there: no word continues across it.
fn whole_token(text: &str, at: usize, needle: &str) -> bool {
    let end = at + needle.len();
    let ends_in_escape = matches!(needle.as_bytes(), [.., b'%', h, l]
        if h.is_ascii_hexdigit() && l.is_ascii_hexdigit());
    let open_end = needle.chars().next_back().is_some_and(continues) && !ends_in_escape;
    if open_end && text[end..].chars().next().is_some_and(continues) {
        return false;
    }
    if !needle.chars().next().is_some_and(continues)
        || !text[..at].chars().next_back().is_some_and(continues)
    {
        return true;
    }
    match &text.as_bytes()[..at] {
        [.., b'%', h, l] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => true,
        [.., b'\\', c] if b"nrtbf".contains(c) => true,
        [.., b'\\', b'u', a, b, c, d] => [a, b, c, d].iter().all(|x| x.is_ascii_hexdigit()),
        _ => false,
    }
}

/// `text` with every withheld string replaced by [`MASK`]: one of [`MIN_LEN`] bytes or more
/// wherever it occurs, a shorter one where it is a whole token (not preceded or followed by a
/// letter, digit, `_` or `-`; see [`continues`]), so that a short password is masked in
/// `user:p@ss-1@proxy`, `Password=p%40ss-1&`, `{"password":"p@ss-1"}`, but a word that merely
/// contains it is left alone. Every occurrence is looked at, also one overlapping an occurrence
/// that is not a whole token (`ab.ab` in `cab.ab.ab`). Borrows (allocates nothing) when nothing
/// matches.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let state = WITHHELD.read().unwrap_or_else(|e| e.into_inner());
    if state.unbuilt {
        return Cow::Borrowed(MASK);
    }
    let mut out = Cow::Borrowed(text);
    if let Some(long) = &state.long {
        // Every occurrence of every long form, overlapping ones too: their union is masked.
        let mut hits: Vec<Range<usize>> = long
            .find_overlapping_iter(text)
            .map(|m| m.range())
            .collect();
        hits.extend(wrapped_hits(long, text));
        hits.extend(separated_hex_hits(long, text));
        if !hits.is_empty() {
            out = Cow::Owned(mask_ranges(text, hits));
        }
    }
    for s in state.forms.iter().filter(|s| s.len() < MIN_LEN) {
        let s = s.as_str();
        // Whole-token hits, none overlapping the one before; after an occurrence that is not
        // one, the search goes on from its next character (an occurrence overlapping it may be).
        let mut hits = Vec::new();
        let mut from = 0;
        while let Some(i) = out[from..].find(s) {
            let at = from + i;
            if whole_token(&out, at, s) {
                hits.push(at);
                from = at + s.len();
            } else {
                from = at + out[at..].chars().next().map_or(1, char::len_utf8);
            }
        }
        if hits.is_empty() {
            continue;
        }
        let mut replaced = String::with_capacity(out.len());
        let mut last = 0;
        for at in hits {
            replaced.push_str(&out[last..at]);
            replaced.push_str(MASK);
            last = at + s.len();
        }
        replaced.push_str(&out[last..]);
        out = Cow::Owned(replaced);
    }
    out
}

/// Whether `b` is a character of base64 (either alphabet).
fn base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+/-_".contains(&b)
}

/// Occurrences of the long forms in base64 wrapped into lines (MIME's 76 columns, PEM's 64, a
/// `base64` tool's output, a Python `encodebytes`): `text` read again without the line breaks
/// between two base64 characters, raw (`\n`, `\r\n`) or JSON-escaped (the two characters
/// `\` `n` of a body quoted as it was sent). Each hit is a range of `text`, line breaks within.
fn wrapped_hits(long: &AhoCorasick, text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    if !bytes.contains(&b'\n') && !bytes.contains(&b'\\') {
        return Vec::new();
    }
    // The text without such breaks, and where each of its bytes is in `text`.
    let (mut joined, mut at) = (
        Vec::with_capacity(bytes.len()),
        Vec::with_capacity(bytes.len()),
    );
    let mut i = 0;
    let mut broken = false;
    while i < bytes.len() {
        if joined.last().copied().is_some_and(base64_char) {
            let mut j = i;
            loop {
                match &bytes[j..] {
                    [b'\r' | b'\n', ..] => j += 1,
                    [b'\\', b'r' | b'n', ..] => j += 2,
                    _ => break,
                }
            }
            if j > i && bytes.get(j).copied().is_some_and(base64_char) {
                i = j;
                broken = true;
            }
        }
        joined.push(bytes[i]);
        at.push(i);
        i += 1;
    }
    if !broken {
        return Vec::new();
    }
    long.find_overlapping_iter(&joined[..])
        .map(|m| at[m.start()]..at[m.end() - 1] + 1)
        .collect()
}

/// Whether `b` is a hex digit.
fn hex_char(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Occurrences of the hex forms in a dump with separators between its bytes or groups (`de ad
/// be ef`, `DE:AD:BE:EF`, `hexdump -C`'s two spaces mid-line, `xxd`'s `dead beef`): `text`
/// read again without a space, two spaces or a colon between two hex digits. Only for a text
/// with four such pairs in a row (`de ad be ef`, `de:ad:be:ef`: the 4 bytes of [`HEX_MIN_LEN`];
/// a log line's time `18:00:00` has three) or two groups of four digits (`xxd`'s `6162 6364`);
/// a line without is left after one pass.
/// Separated forms as patterns of their own (4 more per form) made every line's scan 1.6-2
/// times as long (bench_scrub); this costs a line without a dump one pass over its spaces and
/// colons. A text of several lines is also read as a dump ([`hexdump_blocks`]): a form split
/// across two lines of it is found, and masked to the end of the line it ends on (that line's
/// text column shows the rest of it).
fn separated_hex_hits(long: &AhoCorasick, text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut hits = dump_hits(long, bytes);
    let digits = |at: usize, n: usize| {
        bytes
            .get(at..at + n)
            .is_some_and(|p| p.iter().all(|&b| hex_char(b)))
    };
    let pair = |at: usize| digits(at, 2);
    let dump = memchr::memchr2_iter(b' ', b':', bytes).any(|i| {
        let c = bytes[i];
        (i >= 2
            && pair(i - 2)
            && pair(i + 1)
            && bytes.get(i + 3) == Some(&c)
            && pair(i + 4)
            && bytes.get(i + 6) == Some(&c)
            && pair(i + 7))
            || (c == b' ' && i >= 4 && digits(i - 4, 4) && digits(i + 1, 4))
    });
    if !dump {
        return hits;
    }
    // The text without such separators, and where each of its bytes is in `text`.
    let (mut joined, mut at) = (
        Vec::with_capacity(bytes.len()),
        Vec::with_capacity(bytes.len()),
    );
    let mut i = 0;
    while i < bytes.len() {
        joined.push(bytes[i]);
        at.push(i);
        i += 1;
        if hex_char(bytes[i - 1]) {
            let sep = match &bytes[i..] {
                [b' ', b' ', ..] => 2,
                [b' ' | b':', ..] => 1,
                _ => 0,
            };
            if sep > 0 && bytes.get(i + sep).copied().is_some_and(hex_char) {
                i += sep;
            }
        }
    }
    hits.extend(
        long.find_overlapping_iter(&joined[..])
            .map(|m| at[m.start()]..at[m.end() - 1] + 1),
    );
    hits
}

/// Occurrences of the hex forms in the hex columns of a dump of several lines
/// ([`hexdump_blocks`]), each to the end of the line it ends on when it spans lines.
fn dump_hits(long: &AhoCorasick, bytes: &[u8]) -> Vec<Range<usize>> {
    if !bytes.contains(&b'\n') {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for block in hexdump_blocks(bytes) {
        let mut joined = Vec::new();
        let mut at = Vec::new();
        for group in block {
            joined.extend_from_slice(&bytes[group.clone()]);
            at.extend(group);
        }
        for m in long.find_overlapping_iter(&joined[..]) {
            let (start, end) = (at[m.start()], at[m.end() - 1] + 1);
            let end = if bytes[start..end].contains(&b'\n') {
                memchr::memchr(b'\n', &bytes[end..]).map_or(bytes.len(), |n| end + n)
            } else {
                end
            };
            hits.push(start..end);
        }
    }
    hits
}

/// The hex columns of the lines of `text` that are lines of a hex dump (`xxd`, its `-g1` and
/// `-g4`, `hexdump -C`, `od -A x -t x1z`), in blocks of consecutive dump lines: for each block,
/// the ranges of its groups of hex digits, line after line. A dump line is an offset (4 hex
/// digits or more, a `:` after it or not), spaces, then groups of hex digits of one even length
/// separated by one space (two after the 8th byte, as `hexdump -C` writes), up to the end of the
/// line, two spaces or more (`xxd`'s text column), or anything that is not such a group
/// (`|abcd|`, `>abcd<`); a last group may be shorter. A value split across two lines of a dump
/// is one run of these groups. No byte of `text` is copied.
pub fn hexdump_blocks(text: &[u8]) -> Vec<Vec<Range<usize>>> {
    let mut blocks: Vec<Vec<Range<usize>>> = Vec::new();
    let mut open = false;
    let mut start = 0;
    while start < text.len() {
        let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |n| start + n);
        match dump_line(text, start, end) {
            Some(groups) => match blocks.last_mut().filter(|_| open) {
                Some(block) => block.extend(groups),
                None => {
                    blocks.push(groups);
                    open = true;
                }
            },
            None => open = false,
        }
        start = end + 1;
    }
    blocks
}

/// The groups of hex digits of `text[start..end]` if it is a line of a hex dump (see
/// [`hexdump_blocks`]), two bytes or more of them.
fn dump_line(text: &[u8], start: usize, end: usize) -> Option<Vec<Range<usize>>> {
    let line = &text[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let hex_run = |at: usize| line[at..].iter().take_while(|b| hex_char(**b)).count();
    let spaces = |at: usize| line[at..].iter().take_while(|b| **b == b' ').count();
    let mut i = start + spaces(start);
    let offset = hex_run(i);
    if offset < 4 {
        return None;
    }
    i += offset;
    if line.get(i) == Some(&b':') {
        i += 1;
    }
    let gap = spaces(i);
    if gap == 0 {
        return None;
    }
    i += gap;
    let (mut groups, mut width, mut bytes) = (Vec::new(), 0, 0);
    loop {
        let n = hex_run(i);
        let alone = line.get(i + n).is_none_or(|b| *b == b' ');
        if n == 0 || n % 2 == 1 || !alone || (width > 0 && n > width) {
            break;
        }
        groups.push(i..i + n);
        bytes += n / 2;
        i += n;
        if width == 0 {
            width = n;
        } else if n < width {
            break;
        }
        match spaces(i) {
            1 => i += 1,
            2 if width == 2 && bytes == 8 => i += 2,
            _ => break,
        }
    }
    (bytes >= 2).then_some(groups)
}

/// `text` with each of `hits` replaced by [`MASK`], overlapping ones as one.
fn mask_ranges(text: &str, mut hits: Vec<Range<usize>>) -> String {
    hits.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut open: Option<Range<usize>> = None;
    for r in hits {
        match &mut open {
            Some(o) if r.start < o.end => o.end = o.end.max(r.end),
            _ => {
                if let Some(o) = open.take() {
                    out.push_str(&text[last..o.start]);
                    out.push_str(MASK);
                    last = o.end;
                }
                open = Some(r);
            }
        }
    }
    if let Some(o) = open {
        out.push_str(&text[last..o.start]);
        out.push_str(MASK);
        last = o.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_strings_are_replaced_in_every_form() {
        let key = "wJalrXUtnFEMI/K7MDENG/withheld-test-1";
        let quoted = "tok\"en-with-a-quote-withheld-test-2";
        withhold(key);
        withhold(quoted);
        withhold("shorty");
        let text = format!(
            "denied: token={key} body={{\"a\":{}}}",
            serde_json::json!(quoted)
        );
        let out = scrub(&text);
        assert!(
            !out.contains(key) && !out.contains("en-with-a-quote"),
            "{out}"
        );
        assert_eq!(out.matches(MASK).count(), 2, "{out}");
        assert_eq!(scrub("nothing shortys here"), "nothing shortys here");
        assert_eq!(scrub("nothing shorty here"), "nothing [withheld] here");
        // As a form body carries it (an external_id may hold +=,.@:/).
        withhold("ext+id/withheld=test,3@x:y");
        let out =
            scrub("Action=AssumeRole&ExternalId=ext%2Bid%2Fwithheld%3Dtest%2C3%40x%3Ay&Version=1");
        assert_eq!(out, "Action=AssumeRole&ExternalId=[withheld]&Version=1");
        // Encoded again by a gateway that writes hex digits in lower case.
        let out =
            scrub("Action=AssumeRole&ExternalId=ext%2bid%2fwithheld%3dtest%2c3%40x%3ay&Version=1");
        assert_eq!(out, "Action=AssumeRole&ExternalId=[withheld]&Version=1");
        assert!(matches!(scrub("plain text"), Cow::Borrowed(_)));
    }

    // Each test registers strings of its own: the list is one per process, shared by the tests.

    /// A server or gateway that answers with the base64 of the whole request it got (an STS form
    /// body with the `external_id` percent-encoded in it, a JSON body): at any byte alignment, in
    /// either alphabet, the credential's part of the base64 is masked. The credential is made at
    /// run time from the clock; no assertion prints it.
    #[test]
    fn a_credential_in_base64_of_a_whole_request_is_masked() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |d| d.subsec_nanos());
        let secret = format!("ext+id/{nanos:09}?b64=withheld-test-4");
        withhold(&secret);
        // The test's encoder against RFC 4648's vectors.
        assert_eq!(encode(b"foob", false), "Zm9vYg==");
        assert_eq!(encode(b"fooba", false), "Zm9vYmE=");
        assert_eq!(encode(b"\xfb\xff", true), "-_8=");
        for prefix in ["", "A", "AB"] {
            for body in [
                format!("{prefix}Action=AssumeRole&ExternalId={}&Version=1", {
                    let mut e = String::new();
                    for b in secret.bytes() {
                        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                            e.push(char::from(b));
                        } else {
                            e.push_str(&format!("%{b:02X}"));
                        }
                    }
                    e
                }),
                format!("{prefix}{{\"ExternalId\":{}}}", serde_json::json!(secret)),
            ] {
                for url in [false, true] {
                    let enc = encode(body.as_bytes(), url);
                    let text = format!("echo: {enc}");
                    let out = scrub(&text);
                    let shown = out.contains(&enc) || !out.contains(MASK);
                    assert!(
                        !shown,
                        "base64 (url alphabet: {url}) of a body with prefix {prefix:?}: not masked"
                    );
                }
            }
        }
    }

    /// A short credential (an `external_id` or a proxy password of 5 to 11 bytes) in the base64
    /// or the hex of a request: its base64 was masked only from 10 bytes, its hex never. Each
    /// length at each alignment, in both alphabets, and hex in both cases; no assertion prints it.
    #[test]
    fn a_short_credential_in_base64_or_hex_is_masked() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |d| d.subsec_nanos());
        let full = format!("{nanos:09}+q/Zx");
        for len in [5, 6, 7, 9, 11] {
            // Credentials of each length, each its own (the list is shared by the tests).
            let secret = format!("{}{}", char::from(b'a' + len as u8), &full[..len - 1]);
            withhold(&secret);
            for prefix in ["", "A", "AB"] {
                let body = format!("{prefix}X-Amz-External-Id: {secret}\r\n");
                let cases = [
                    encode(body.as_bytes(), false),
                    encode(body.as_bytes(), true),
                    hex(body.as_bytes()),
                    hex(body.as_bytes()).to_ascii_uppercase(),
                ];
                // 5 bytes hold BASE64_MIN_LEN characters of their own at each alignment.
                for (i, enc) in cases.iter().enumerate() {
                    let out = scrub(enc);
                    assert!(
                        out.contains(MASK),
                        "{len} bytes, prefix {prefix:?}, case {i}: not masked"
                    );
                }
            }
        }
        for text in ["request 0123abcd failed", "id=QUJDREVGR0g token=dGVzdA"] {
            assert!(scrub(text) == text);
        }
    }

    /// A hex dump with a space or a colon between bytes (`de ad be ef`, `DE:AD:BE:EF`) of a
    /// request carrying a credential: only hex without separators was masked. From 4 bytes, as
    /// plain hex; no assertion prints the credential.
    #[test]
    fn a_credential_in_a_hex_dump_with_separators_is_masked() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |d| d.subsec_nanos());
        let full = format!("{nanos:09}+q/Zx-sep");
        for len in [4, 7, 12, 17] {
            let secret = format!("{}{}", char::from(b'k' + len as u8), &full[..len - 1]);
            withhold(&secret);
            let body = format!("X-Amz-External-Id: {secret}\r\n");
            for sep in [" ", ":"] {
                let dump = body
                    .bytes()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(sep);
                for (i, text) in [dump.clone(), dump.to_ascii_uppercase()].iter().enumerate() {
                    let line = format!("request: {text} end");
                    let out = scrub(&line);
                    let p = body.find(&secret).unwrap_or(0) * (2 + sep.len());
                    let shown = out.contains(&text[p..p + len * 3 - 1]) || !out.contains(MASK);
                    assert!(
                        !shown,
                        "{len} bytes, separator {sep:?}, case {i}: not masked"
                    );
                }
            }
        }
        // Dates, times and MAC-like ids with no credential in them are left alone.
        for text in [
            "at 12:34:56 on 2026-11-28",
            "mac 00:1a:2b:3c:4d:5e",
            "ff ee dd cc",
        ] {
            assert!(scrub(text) == text);
        }
    }

    /// `body` as `xxd` (groups of `group` bytes) or, with `group` 0, as `hexdump -C` writes it.
    fn dump(body: &[u8], group: usize) -> String {
        let mut out = String::new();
        for (n, line) in body.chunks(16).enumerate() {
            let text: String = line
                .iter()
                .map(|&b| {
                    if b.is_ascii_graphic() {
                        char::from(b)
                    } else {
                        '.'
                    }
                })
                .collect();
            let cells: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
            if group == 0 {
                let (a, b) = cells.split_at(cells.len().min(8));
                let hex = format!("{}  {}", a.join(" "), b.join(" "));
                out.push_str(&format!("{:08x}  {hex:<49} |{text}|\n", n * 16));
            } else {
                let hex: Vec<String> = cells.chunks(group).map(|c| c.concat()).collect();
                let width = 32 + 16 / group;
                out.push_str(&format!(
                    "{:08x}: {:<width$} {text}\n",
                    n * 16,
                    hex.join(" ")
                ));
            }
        }
        out
    }

    /// `xxd`'s default dump (`6162 6364`: two bytes a group) was not read as a dump, though the
    /// comment said so, and a credential split across two lines of a dump (`xxd` in any grouping,
    /// `hexdump -C`) was shown in part on each: now masked whole, the second line's text column
    /// too. No 3 bytes of it are left in hex or in text on any line. No assertion prints it.
    #[test]
    fn a_credential_in_an_xxd_dump_or_across_lines_of_a_dump_is_masked() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |d| d.subsec_nanos());
        // Letters, not digits: no piece of it is a piece of a dump's offsets.
        let letters: String = format!("{nanos:09}")
            .bytes()
            .map(|d| char::from(d - b'0' + b'g'))
            .collect();
        let secret = format!("xd{letters}/dump-zq-13");
        withhold(&secret);
        let windows = |s: &[u8]| -> Vec<String> {
            s.windows(3)
                .flat_map(|w| [hex(w), String::from_utf8_lossy(w).into_owned()])
                .collect()
        };
        let pieces = windows(secret.as_bytes());
        // Before it, 0 to 15 bytes: the credential starts at each column, so it spans two
        // lines in most cases.
        for shift in 0..16 {
            let body = format!("{}X-Amz-External-Id: {secret}\r\n", "#".repeat(shift));
            for group in [0, 1, 2, 4] {
                let text = format!("request:\n{}end\n", dump(body.as_bytes(), group));
                let out = scrub(&text);
                let shown = out.lines().any(|line| {
                    let line = line.replace(' ', "");
                    pieces.iter().any(|p| line.contains(p.as_str()))
                });
                assert!(
                    !shown && out.contains(MASK),
                    "shift {shift}, group {group}: not masked"
                );
            }
        }
        // On one line, without an offset: groups of two bytes (`xxd`'s) or four (`xxd -g4`).
        let body = format!("Id={secret}");
        for size in [2, 4] {
            let groups: Vec<String> = body.as_bytes().chunks(size).map(hex).collect();
            let text = format!("got {} end", groups.join(" "));
            let out = scrub(&text);
            let shown = pieces
                .iter()
                .any(|p| out.replace(' ', "").contains(p.as_str()));
            assert!(!shown && out.contains(MASK), "groups of {size}: not masked");
        }
        // A dump of no credential is left as it is.
        let text = dump(b"nothing withheld in here, just some bytes", 2);
        assert!(scrub(&text) == text);
    }

    /// Hex of `bytes`, lower case.
    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A credential in JSON as other encoders write it: `/` as `\/` (PHP), non-ASCII as
    /// `\u00e9` (Python's `ensure_ascii`, a surrogate pair beyond the BMP): shown before.
    #[test]
    fn a_credential_escaped_by_other_json_encoders_is_masked() {
        withhold("ext+id/withheld-test-9");
        let out = scrub(r#"{"ExternalId":"ext+id\/withheld-test-9"}"#);
        assert!(out == r#"{"ExternalId":"[withheld]"}"#, "PHP's \\/");
        withhold("pr\u{f6}xy-\u{1f511}-withheld-10");
        let out = scrub(r#"{"password":"pr\u00f6xy-\ud83d\udd11-withheld-10"}"#);
        assert!(
            out == r#"{"password":"[withheld]"}"#,
            "Python's ensure_ascii"
        );
        // PHP's json_encode by default escapes both: `\/` and `\u00f6`.
        withhold("pr\u{f6}xy/withheld-11");
        let out = scrub(r#"{"password":"pr\u00f6xy\/withheld-11"}"#);
        assert!(out == r#"{"password":"[withheld]"}"#, "PHP's default");
    }

    /// Java's Jackson writes a `\u` escape's hex digits in upper case (`\u00F6`, a surrogate
    /// pair as `\uD83D\uDD11`, a control character as `\u001F`): only lower case was masked.
    #[test]
    fn a_credential_escaped_in_upper_case_hex_is_masked() {
        withhold("pr\u{f6}xy-\u{1f511}-withheld-12");
        let out = scrub(r#"{"password":"pr\u00F6xy-\uD83D\uDD11-withheld-12"}"#);
        assert!(
            out == r#"{"password":"[withheld]"}"#,
            "Jackson's non-ASCII escapes"
        );
        withhold("ctl\u{1f}withheld-13");
        let out = scrub(r#"{"password":"ctl\u001Fwithheld-13"}"#);
        assert!(
            out == r#"{"password":"[withheld]"}"#,
            "Jackson's control escape"
        );
        // Escaped slash and upper case together (Jackson with ESCAPE_FORWARD_SLASHES).
        withhold("pr\u{f6}xy/withheld-14");
        let out = scrub(r#"{"password":"pr\u00F6xy\/withheld-14"}"#);
        assert!(out == r#"{"password":"[withheld]"}"#, "upper case and \\/");
        // A short one, masked as a whole token.
        withhold("k\u{e9}y9");
        assert!(
            scrub(r#"{"p":"k\u00E9y9"}"#) == r#"{"p":"[withheld]"}"#,
            "short"
        );
    }

    /// Base64 wrapped into lines, as MIME (76 columns, CRLF), a `base64` tool (76, LF), PEM (64)
    /// or a Python `encodebytes` write it, and such text quoted in a JSON string (`\r\n` as
    /// the escapes): a credential's base64 split by a line break was shown whole, one piece on
    /// each line. Each wrapping is tried with the credential at each of the columns a line can
    /// break it at; no assertion prints it.
    #[test]
    fn a_credential_in_line_wrapped_base64_is_masked() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |d| d.subsec_nanos());
        let secret = format!("AQoDYXdzEJr/{nanos:09}+session/token-withheld-test-7");
        withhold(&secret);
        for (width, eol) in [
            (76, "\r\n"),
            (76, "\n"),
            (64, "\n"),
            (76, "\\r\\n"),
            (76, "\\n"),
        ] {
            for shift in 0..width {
                let body = format!("{}X-Amz-Security-Token: {secret}\r\n", "h".repeat(shift));
                let enc = encode(body.as_bytes(), false);
                let wrapped: Vec<&str> = enc
                    .as_bytes()
                    .chunks(width)
                    .map(|c| std::str::from_utf8(c).unwrap_or(""))
                    .collect();
                let text = format!("echo:{eol}{}{eol}end", wrapped.join(eol));
                let out = scrub(&text);
                // The characters that carry the credential alone, cut by the lines: no piece of
                // them (4 characters or more, so no chance hit in `echo`/`end`) is left.
                let p = body.find(&secret).unwrap_or(0);
                let (from, to) = ((p * 8).div_ceil(6), (p + secret.len()) * 8 / 6);
                let shown = (0..enc.len()).step_by(width).any(|a| {
                    let (a, b) = (a.max(from), (a + width).min(to));
                    b >= a + 4 && out.contains(&enc[a..b])
                }) || !out.contains(MASK);
                assert!(
                    !shown,
                    "base64 wrapped at {width} ({eol:?}), prefix of {shift} bytes: not masked"
                );
            }
        }
        // A line break between words is no base64: nothing joined, nothing masked.
        assert_eq!(scrub("first line\nsecond line"), "first line\nsecond line");
    }

    /// Occurrences of two forms that overlap are masked as one: replacing the longer first left
    /// the part of the shorter outside it.
    #[test]
    fn overlapping_credentials_are_masked_together() {
        withhold("overlap-one-withheld-test-8");
        withhold("withheld-test-8-and-overlap-two");
        let out = scrub("x overlap-one-withheld-test-8-and-overlap-two y");
        assert_eq!(out, "x [withheld] y");
    }

    /// Plain base64 of `bytes` (padded), in the URL alphabet when `url`.
    fn encode(bytes: &[u8], url: bool) -> String {
        const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b))
                << (8 * (3 - chunk.len()));
            for i in 0..4 {
                if i <= chunk.len() {
                    let c = char::from(STD[(n >> (18 - 6 * i) & 63) as usize]);
                    out.push(match (url, c) {
                        (true, '+') => '-',
                        (true, '/') => '_',
                        (_, c) => c,
                    });
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn a_short_proxy_password_is_masked_as_a_token() {
        withhold("p@ss-1");
        withhold("pw1\"q");
        // URL userinfo, as written and as a proxy's error quotes it.
        assert_eq!(
            scrub("proxy http://user:p@ss-1@proxy:3128 refused"),
            "proxy http://user:[withheld]@proxy:3128 refused"
        );
        // A form body, percent-encoded, also after an encoded delimiter (`%3A`).
        assert_eq!(
            scrub("Action=X&Password=p%40ss-1&Version=1"),
            "Action=X&Password=[withheld]&Version=1"
        );
        assert_eq!(
            scrub("proxy=http%3A%2F%2Fuser%3Ap%40ss-1%40proxy"),
            "proxy=http%3A%2F%2Fuser%3A[withheld]%40proxy"
        );
        // JSON, escaped: `pw1"q` is `pw1\"q` in a JSON string; after a `\n` escape.
        assert_eq!(
            scrub(r#"{"password":"pw1\"q","log":"x\np@ss-1"}"#),
            r#"{"password":"[withheld]","log":"x\n[withheld]"}"#
        );
        // A header line, start and end of the text.
        assert_eq!(scrub("Password: p@ss-1\r\n"), "Password: [withheld]\r\n");
        assert_eq!(scrub("p@ss-1"), "[withheld]");
        assert_eq!(scrub("p@ss-1 is it"), "[withheld] is it");
        assert_eq!(scrub("it is p@ss-1"), "it is [withheld]");
        assert_eq!(scrub("it is p@ss-1."), "it is [withheld].");
    }

    #[test]
    fn a_short_string_inside_a_longer_word_is_left_alone() {
        withhold("testing");
        for text in [
            "retesting the connection",
            "testings",
            "my-testing-secret",
            "offstate_testing",
            "testing2",
            "étesting",
            "中testing",
            "testingж",
        ] {
            assert_eq!(scrub(text), text);
            assert!(matches!(scrub(text), Cow::Borrowed(_)));
        }
        assert_eq!(
            scrub("key testing, \"testing\" (testing)"),
            "key [withheld], \"[withheld]\" ([withheld])"
        );
        // A credential whose edge is a delimiter needs no boundary on that side.
        withhold("hunt!");
        assert_eq!(scrub("xhunt!y"), "xhunt!y");
        assert_eq!(scrub("a hunt!y"), "a [withheld]y");
        assert_eq!(scrub("a hunt%21y"), "a [withheld]y");
    }

    /// Punctuation and spaces of other scripts delimit a token as ASCII's do: a short
    /// credential between typographic quotes or before a no-break space was shown (every
    /// non-ASCII byte counted as part of a word).
    #[test]
    fn a_short_credential_beside_non_ascii_punctuation_is_masked() {
        withhold("Zq9w");
        for (i, (text, want)) in [
            (
                "password \u{201c}Zq9w\u{201d}",
                "password \u{201c}[withheld]\u{201d}",
            ),
            ("\u{ab}Zq9w\u{bb}", "\u{ab}[withheld]\u{bb}"),
            ("Zq9w\u{a0}is it", "[withheld]\u{a0}is it"),
            (
                "\u{300c}Zq9w\u{300d}\u{3002}",
                "\u{300c}[withheld]\u{300d}\u{3002}",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            // The case's number only: the text holds the credential.
            assert!(scrub(text) == want, "case {i}");
        }
        // A letter of another script still continues the word.
        assert!(scrub("\u{436}Zq9w") == "\u{436}Zq9w");
    }

    /// An occurrence that is not a whole token does not hide one overlapping it that is: after
    /// `c`, `ab.ab` is inside a word, but the `ab.ab` after the dot stands alone.
    #[test]
    fn an_occurrence_overlapping_one_inside_a_word_is_masked() {
        withhold("ab.ab");
        assert!(scrub("see cab.ab.ab") == "see cab.[withheld]");
        assert!(scrub("cab.ab") == "cab.ab");
        assert!(scrub("ab.ab.ab") == "[withheld].ab");
    }

    /// A timing, not an assertion: `cargo test --release -p offstate-withheld -- --ignored
    /// --nocapture bench`.
    #[test]
    #[ignore]
    fn bench_scrub() {
        withhold("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        withhold(&"IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH".repeat(6));
        withhold("bench-pw@1");
        withhold("testing");
        let lines: Vec<String> = (0..100_000)
            .map(|i| {
                format!(
                    "2026-11-27T18:00:00.000Z [DEBUG] provider.terraform-provider-offstate: \
                     request {i}: POST https://secretsmanager.us-east-1.amazonaws.com/ \
                     x-amz-target=secretsmanager.PutSecretValue status=200 took={i}ms"
                )
            })
            .collect();
        for round in 0..3 {
            let start = std::time::Instant::now();
            let mut borrowed = 0;
            for line in &lines {
                borrowed += usize::from(matches!(scrub(line), Cow::Borrowed(_)));
            }
            let took = start.elapsed();
            println!(
                "round {round}: {} lines in {took:?} ({:?}/line), {borrowed} borrowed",
                lines.len(),
                took / lines.len() as u32
            );
        }
    }
}
