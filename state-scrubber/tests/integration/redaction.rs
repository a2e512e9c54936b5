//! The harness's redaction (`util::plant`, `util::redact`, the panic hook): a failing assertion
//! says where and why, never what a test planted. Checks that could show a value name what
//! failed and print no text that might hold one.

use crate::util::*;

#[test]
fn redact_masks_every_form_of_a_planted_value() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    // Characters that JSON, Rust's `{:?}`, Go and HTML each escape their own way.
    let v = plant(&format!(
        "Rd{}<&>\"\\\n'{}",
        random(ALNUM, 12),
        random(ALNUM, 8)
    ));
    let json = serde_json::to_string(&v).unwrap();
    let go = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    let html = v
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    // base64 of `v` after one byte: the first two and last two characters hold other bits.
    let shifted = b64.encode(format!("x{v}y"));
    let bytes = format!("{:?}", v.as_bytes());
    // (what, text, redacted)
    let cases = [
        ("as is", format!("a {v} b"), "a [planted] b".to_string()),
        ("JSON", format!("[{json}]"), "[\"[planted]\"]".to_string()),
        ("{:?}", format!("{v:?}"), "\"[planted]\"".to_string()),
        (
            "a Value's {:?}",
            format!("{:?}", serde_json::Value::String(v.clone())),
            "String(\"[planted]\")".to_string(),
        ),
        (
            "JSON in JSON",
            serde_json::to_string(&json).unwrap(),
            "\"\\\"[planted]\\\"\"".to_string(),
        ),
        ("Go's JSON", go, "\"[planted]\"".to_string()),
        ("HTML", html, "[planted]".to_string()),
        ("base64", b64.encode(&v), "[planted]".to_string()),
        ("bytes", bytes, "[[planted]]".to_string()),
    ];
    for (what, text, want) in cases {
        let got = redact(&text);
        // Compared only once nothing of `v` is left in it.
        assert!(!got.contains(&v[2..14]), "{what}: the value is left");
        assert_eq!(got, want, "{what}");
    }
    // In a longer blob, base64 at offset 1: masked but for the characters that also hold bits of
    // `x` (the first two) or `y` (the last group).
    let got = redact(&shifted);
    assert!(got.starts_with(&shifted[..2]), "{got}");
    assert_eq!(got.matches(MASK).count(), 1, "{got}");
    assert!(got.len() - MASK.len() <= 2 + 4, "{got}");
}

#[test]
fn the_longest_planted_form_is_masked_whole_and_other_text_is_left_alone() {
    let inner = random(ALNUM, 16);
    let outer = plant(&format!("{inner}-{}", random(ALNUM, 10)));
    assert_eq!(
        redact(&format!("<{outer}> <{inner}>")),
        "<[planted]> <[planted]>"
    );
    let clean = "Ünïcödé € 𝄞 ✓ aws_db_instance.main password 17:25 …(16 chars)";
    assert_eq!(redact(clean), clean);
    assert_eq!(redact(""), "");
    // Too short to register (a mask over every such run would hide the message).
    let short = plant("Qz7Lm");
    assert_eq!(redact(&format!("x{short}x")), format!("x{short}x"));
}

#[test]
fn the_panic_report_keeps_thread_and_place_and_masks_the_message() {
    let v = random(ALNUM, 24);
    let here = std::panic::Location::caller();
    let at = format!("{}:{}:{}", here.file(), here.line(), here.column());
    let message = format!("assertion `left == right` failed: {v}\n  left: {v:?}\n right: 0");
    let report = panic_report(Some("audit::x"), Some(here), &message);
    assert!(!report.contains(&v), "the report shows the value");
    assert_eq!(
        report,
        format!(
            "thread 'audit::x' panicked at {at}:\nassertion `left == right` failed: [planted]\n  \
             left: \"[planted]\"\n right: 0"
        )
    );
    // A `&'static str` payload (`panic!("literal")`), and one that is no string.
    assert_eq!(
        panic_report(None, Some(here), &"no state found"),
        format!("thread '<unnamed>' panicked at {at}:\nno state found")
    );
    assert_eq!(
        panic_report(Some("t"), None, &42u8),
        "thread 't' panicked at <unknown>:\nBox<dyn Any>"
    );
}

/// Set to a value by [`a_failing_test_shows_the_mask_not_the_planted_value`] for the child run
/// of [`failing_probe`].
const PROBE: &str = "STATE_SCRUBBER_REDACTION_PROBE";

/// Passes at once, unless run as the probe: then it fails as a careless assertion would, with a
/// planted value in its message.
#[test]
fn failing_probe() {
    let Some(value) = std::env::var_os(PROBE) else {
        return;
    };
    let v = plant(value.to_str().unwrap());
    let stdout = format!("leaked: {v}\n");
    assert_eq!(stdout, "", "stdout: {stdout}");
}

/// This binary run again for [`failing_probe`] alone: libtest shows the hook's report under the
/// failed test, the planted value masked.
#[test]
fn a_failing_test_shows_the_mask_not_the_planted_value() {
    let v = random(ALNUM, 32);
    let o = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "redaction::failing_probe", "--test-threads", "1"])
        .env(PROBE, &v)
        .output()
        .unwrap();
    let out = format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(101), "the probe fails: {out}");
    assert!(
        !out.contains(&v),
        "the planted value is in the failure output"
    );
    for want in [
        "---- redaction::failing_probe stdout ----",
        &format!("thread 'redaction::failing_probe' panicked at {}:", file!()),
        "stdout: leaked: [planted]",
        "left: \"leaked: [planted]\\n\"",
    ] {
        assert!(
            out.contains(want),
            "no `{want}` in the failure output:\n{out}"
        );
    }
}
