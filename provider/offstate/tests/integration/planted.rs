//! Planted values never reach a failure message. Each test's canary is registered here
//! ([`plant`]), and a panic hook prints a panic's message with every registered value (as is,
//! and in base64, as a value sent through a `DynamicValue` or an AWS request body may show) replaced
//! by [`MASK`]. Assertion messages here print diagnostics and states to say what went wrong; if
//! the provider leaked a canary into one, the CI log must not carry it on.

use std::sync::{Mutex, Once};

use base64::Engine as _;

/// What a planted value is shown as in a panic message.
pub const MASK: &str = "[planted]";

static PLANTED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static HOOK: Once = Once::new();

/// Registers `value` (a canary a test writes somewhere) and returns it. Installs the hook first.
pub fn plant(value: String) -> String {
    install_hook();
    let mut forms = vec![value.clone()];
    for engine in [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        let mut encoded = engine.encode(value.as_bytes());
        // The encoding of the value inside a longer text differs in its last characters: the
        // bytes before the padding are what any placement that starts with the value shares.
        encoded.truncate(encoded.len().saturating_sub(4));
        forms.push(encoded);
    }
    let mut registry = PLANTED.lock().unwrap_or_else(|e| e.into_inner());
    registry.extend(forms.into_iter().filter(|f| f.len() >= 8));
    registry.sort_by_key(|f| std::cmp::Reverse(f.len()));
    registry.dedup();
    value
}

/// `text` with every registered form replaced by [`MASK`].
pub fn redact(text: &str) -> String {
    let registry = PLANTED.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_owned();
    for form in registry.iter() {
        if out.contains(form.as_str()) {
            out = out.replace(form.as_str(), MASK);
        }
    }
    out
}

fn install_hook() {
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let payload = info.payload();
            let message = if let Some(s) = payload.downcast_ref::<&str>() {
                (*s).to_owned()
            } else if let Some(s) = payload.downcast_ref::<String>() {
                s.clone()
            } else {
                "Box<dyn Any>".to_owned()
            };
            let thread = std::thread::current();
            let place = info.location().map_or_else(String::new, |l| {
                format!("{}:{}:{}", l.file(), l.line(), l.column())
            });
            // Through stderr as print macros do, so libtest captures it under the failed test.
            eprintln!(
                "thread '{}' panicked at {place}:\n{}",
                thread.name().unwrap_or("<unnamed>"),
                redact(&message)
            );
        }));
    });
}

#[test]
fn a_panic_message_shows_no_planted_value() {
    let value = plant(format!("canary-{}", uuid::Uuid::new_v4().simple()));
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{value}\"}}").as_bytes());
    let text = format!("state {{\"value_wo\":\"{value}\"}} body {b64}");
    let shown = redact(&text);
    assert!(!shown.contains(&value[7..]), "the value itself is shown");
    assert!(
        !shown.contains(&b64[..b64.len() - 8]),
        "the base64 form is shown"
    );
    assert!(shown.contains(MASK));
}

/// Run by [`a_failing_test_prints_no_planted_value`] in a child process, with a value to plant:
/// fails with it in its message. Passes at once in an ordinary run.
#[test]
fn probe_failing_with_a_planted_value() {
    let Ok(value) = std::env::var("OFFSTATE_PROBE_VALUE") else {
        return;
    };
    let value = plant(value);
    assert!(value.is_empty(), "diagnostic: {value}");
}

#[test]
fn a_failing_test_prints_no_planted_value() {
    let value = format!("canary-{}", uuid::Uuid::new_v4().simple());
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "planted::probe_failing_with_a_planted_value",
            "--test-threads=1",
        ])
        .env("OFFSTATE_PROBE_VALUE", &value)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the probe passed");
    assert!(!text.contains(&value[7..]), "the planted value was printed");
    assert!(text.contains("diagnostic: [planted]"), "no masked message");
}
