//! The process environment, one for every test of this binary. A test that sets or removes
//! variables holds [`lock`] for its whole run: no other such test reads them half changed (the
//! tests run on parallel threads), and the variables it found are put back when it ends, so
//! none of its settings reaches the next one.

use std::ffi::OsString;

use tokio::sync::{Mutex, MutexGuard};

static ENVIRONMENT: Mutex<()> = Mutex::const_new(());

/// The environment held by one test; dropping it puts the variables back, then lets the next
/// test in. An async lock: the guard is held across the test's `.await`s.
pub struct Held {
    found: Vec<(OsString, OsString)>,
    _lock: MutexGuard<'static, ()>,
}

pub async fn lock() -> Held {
    let lock = ENVIRONMENT.lock().await;
    Held {
        found: std::env::vars_os().collect(),
        _lock: lock,
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        for (name, _) in std::env::vars_os() {
            if !self.found.iter().any(|(found, _)| *found == name) {
                std::env::remove_var(name);
            }
        }
        for (name, value) in &self.found {
            std::env::set_var(name, value);
        }
    }
}
