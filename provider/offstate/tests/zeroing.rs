//! docs/index.md: "The provider's own code keeps a value in buffers zeroed when freed". This
//! binary's allocator (the one of offstate-common's tests/zeroing.rs) checks that for the value
//! a `generate` block with a `json_template` makes: while a test watches, every block freed (or
//! moved by a realloc) is searched for a canary, and a hit is counted. Its own binary: the
//! allocator is process-wide, and one test at a time watches.

#[path = "../../common/tests/support/watching.rs"]
mod watching;

use offstate_common::SecretValue;
use std::collections::BTreeMap;
use watching::{canary, text, unzeroed_frees, watch};

#[test]
fn a_json_template_value_frees_no_copy_of_the_password_unzeroed() {
    let c = text(canary());
    let password = SecretValue::from_string(c);
    let template: BTreeMap<String, String> = [
        ("username".to_string(), "app".to_string()),
        ("host".to_string(), "db.internal".to_string()),
    ]
    .into();
    let mut made = None;
    let hits = unzeroed_frees(|| {
        made = Some(terraform_provider_offstate::generate::with_template(
            template, "password", &password,
        ));
    });
    assert!(hits == 0, "{hits} freed blocks held the password unzeroed");
    let want = serde_json::json!({
        "host": "db.internal",
        "password": text(canary()),
        "username": "app",
    });
    let same = made.is_some_and(|v| {
        serde_json::from_slice::<serde_json::Value>(v.expose_secret()).is_ok_and(|got| got == want)
    });
    assert!(same, "the value is not the template with the password");
}

#[test]
fn the_watch_sees_an_unzeroed_copy() {
    let doc = SecretValue::from_string(text(canary()));
    let hits = unzeroed_frees(|| {
        drop(doc.expose_str().map(str::to_owned));
    });
    assert!(hits > 0, "the allocator did not see a freed copy");
}

#[test]
fn a_password_of_multibyte_characters_is_not_freed_unzeroed() {
    // Collecting 2-byte characters into a String outgrows the capacity reserved for one byte
    // each; the reallocation then freed the password's first half unzeroed.
    let spec = terraform_provider_offstate::generate::PasswordSpec {
        lower: false,
        upper: false,
        numeric: false,
        override_special: Some("\u{e9}\u{fc}\u{f1}\u{df}".to_string()),
        length: 64,
        ..Default::default()
    };
    let mut made = None;
    let watched = watch(|| made = Some(spec.generate()));
    let Some(password) = made else {
        panic!("no password")
    };
    assert!(
        password.expose_secret().len() == 128,
        "not 64 two-byte characters"
    );
    assert!(
        !watched.kept_a_part_of(password.expose_secret()),
        "a freed block held part of the password unzeroed"
    );
}
