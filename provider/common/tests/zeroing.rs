//! docs/index.md: "The provider's own code keeps a value in buffers zeroed when freed". This
//! binary's allocator checks that for `SecretValue::select_json` (the ephemeral resource's
//! `json_key`, a reference's `#/json/pointer`): while a test watches, every block freed (or
//! moved by a realloc) is searched for a canary, and a hit is counted. Its own binary: the
//! allocator is process-wide, and one test at a time watches.

#[path = "support/watching.rs"]
mod watching;

use offstate_common::SecretValue;
use watching::{canary, text, unzeroed_frees};

#[test]
fn select_json_frees_no_copy_of_the_value_unzeroed() {
    let c = text(canary());
    let doc = SecretValue::from_string(format!(
        r#"{{"user":"app","password":"{c}","other":{{"{c}k":["{c}","x"],"n":1}}}}"#
    ));
    // A string member, a non-string member (compact JSON), a missing key: each parses the
    // whole document.
    let hits = unzeroed_frees(|| {
        drop(doc.select_json(&["password"]));
        drop(doc.select_json(&["other"]));
        drop(doc.select_json(&["nope"]));
        drop(doc.select_json::<&str>(&[]));
    });
    assert!(hits == 0, "{hits} freed blocks held the value unzeroed");
}

#[test]
fn the_watch_sees_an_unzeroed_copy() {
    // The check itself: a plain String copy of the value freed is seen.
    let c = text(canary());
    let doc = SecretValue::from_string(c);
    let hits = unzeroed_frees(|| {
        drop(doc.expose_str().map(str::to_owned));
    });
    assert!(hits > 0, "the allocator did not see a freed copy");
}

/// A text that is not JSON past a string (a value missing before `}`, trailing text) and a repeated key:
/// serde_json's `Value` freed what it had built, or the earlier value, inside the parser, with
/// no way to zero it (1 block each before select_json parsed into a zeroing tree).
#[test]
fn select_json_frees_no_copy_on_a_parse_error_or_a_repeated_key() {
    let c = text(canary());
    for (case, doc) in [
        (
            "not JSON",
            format!(r#"{{"user":"app","password":"{c}","x":}}"#),
        ),
        ("trailing text", format!(r#"{{"password":["{c}"]}} x"#)),
        (
            "a repeated key",
            format!(r#"{{"password":"{c}","password":"x"}}"#),
        ),
        ("a repeated key's name", format!(r#"{{"{c}":1,"{c}":2}}"#)),
    ] {
        let doc = SecretValue::from_string(doc);
        let hits = unzeroed_frees(|| {
            drop(doc.select_json(&["password"]));
        });
        assert!(
            hits == 0,
            "{case}: {hits} freed blocks held the value unzeroed"
        );
    }
}

/// The echo search (run on a service's error for a call that carried the value) made the value's
/// JSON-escaped form with `serde_json::to_string`, whose buffer grows past 128 bytes, and decoded
/// a message's hex and base64 runs into buffers grown by pushing: both freed copies of the value
/// unzeroed (a long value; a message quoting it in hex).
#[test]
fn the_echo_search_frees_no_copy_of_the_value_unzeroed() {
    let c = text(canary());
    let v = SecretValue::from_string(format!("{c}\"{}", "x".repeat(300)));
    let hex: String = v
        .expose_secret()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let message = format!("request rejected: body={hex}");
    let (mut plain, mut quoted) = (true, false);
    let hits = unzeroed_frees(|| {
        plain = v.is_echoed_or_cut_in("ordinary message");
        quoted = v.is_echoed_in(&message);
    });
    assert!(!plain && quoted, "the search itself");
    assert!(hits == 0, "{hits} freed blocks held the value unzeroed");
}
