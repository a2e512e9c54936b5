//! A panic hook that never prints the panic payload.
//!
//! Rust's default hook writes `thread '…' panicked at file:line: <message>`
//! to stderr, and Terraform copies a provider's stderr into its log. A
//! message built from `unwrap()` on an error, or from a `format!` over a
//! value, can hold a secret, and that line is printed even when the panic is
//! later caught (the hook runs before unwinding). So the runtime replaces
//! the hook: it writes one hclog JSON line with the location and thread,
//! and withholds the message.

use std::io::Write as _;
use std::sync::Once;

static INSTALL: Once = Once::new();

/// Installs the hook once per process; later calls do nothing.
pub fn install_redacting_panic_hook() {
    INSTALL.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_default();
            let thread = std::thread::current()
                .name()
                .unwrap_or("unnamed")
                .to_string();
            let line = serde_json::json!({
                "@level": "error",
                "@message": "provider panicked (message withheld: it may contain secret values)",
                "@timestamp": crate::logging::timestamp_now(),
                "panic_location": location,
                "thread": thread,
            });
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }));
    });
}
