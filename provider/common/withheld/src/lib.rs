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
use std::sync::RwLock;

/// What a withheld string is replaced with.
pub const MASK: &str = "[withheld]";

/// Shorter strings are not registered: they would mask ordinary words (test credentials such as
/// `testing`); no real credential is this short.
pub const MIN_LEN: usize = 12;

static WITHHELD: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers `secret` (and its JSON-escaped and percent-encoded forms) to be replaced in every
/// log line and diagnostic from now on. Strings shorter than [`MIN_LEN`] are ignored.
///
/// The percent-encoded form is the one a form body carries (STS's query protocol:
/// `ExternalId=a%2Bb%2Fc`, every byte but letters, digits and `-._~` as `%XX`), which a server
/// or gateway that echoes the request shows as it got it.
pub fn withhold(secret: &str) {
    if secret.len() < MIN_LEN {
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
    let mut list = WITHHELD.write().unwrap_or_else(|e| e.into_inner());
    for form in [secret.to_owned(), escaped, encoded] {
        if form.len() >= MIN_LEN && !list.contains(&form) {
            list.push(form);
        }
    }
    // Longest first, so a string containing another is replaced whole.
    list.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every withheld string replaced by [`MASK`].
pub fn scrub(text: &str) -> Cow<'_, str> {
    let list = WITHHELD.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for s in list.iter() {
        if out.contains(s.as_str()) {
            out = Cow::Owned(out.replace(s.as_str(), MASK));
        }
    }
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
        withhold("short");
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
        assert_eq!(scrub("nothing short here"), "nothing short here");
        // As a form body carries it (an external_id may hold +=,.@:/).
        withhold("ext+id/withheld=test,3@x:y");
        let out =
            scrub("Action=AssumeRole&ExternalId=ext%2Bid%2Fwithheld%3Dtest%2C3%40x%3Ay&Version=1");
        assert_eq!(out, "Action=AssumeRole&ExternalId=[withheld]&Version=1");
        assert!(matches!(scrub("plain text"), Cow::Borrowed(_)));
    }
}
