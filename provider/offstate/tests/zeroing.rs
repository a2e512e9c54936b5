//! docs/index.md: "The provider's own code keeps a value in buffers zeroed when freed". This
//! binary's allocator (the one of offstate-common's tests/zeroing.rs) checks that for the value
//! a `generate` block with a `json_template` makes: while a test watches, every block freed (or
//! moved by a realloc) is searched for a canary, and a hit is counted. Its own binary: the
//! allocator is process-wide, and one test at a time watches.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use offstate_common::SecretValue;
use std::collections::BTreeMap;

struct Watching;

static CANARY: OnceLock<Vec<u8>> = OnceLock::new();
static HITS: AtomicUsize = AtomicUsize::new(0);
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
}

fn check(ptr: *const u8, len: usize) {
    if !ON.with(Cell::get) {
        return;
    }
    let Some(canary) = CANARY.get() else { return };
    // SAFETY: the block is still allocated, `len` bytes long (its layout's size).
    let block = unsafe { std::slice::from_raw_parts(ptr, len) };
    if block.windows(canary.len()).any(|w| w == &canary[..]) {
        HITS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        check(ptr, layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Always a move (a realloc may move, leaving the old block as it was).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = unsafe { System.alloc(new_layout) };
        if !new.is_null() {
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Watching = Watching;

/// How many blocks holding the canary `f` freed unzeroed.
fn unzeroed_frees(f: impl FnOnce()) -> usize {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    HITS.store(0, Ordering::Relaxed);
    ON.with(|on| on.set(true));
    f();
    ON.with(|on| on.set(false));
    HITS.load(Ordering::Relaxed)
}

fn canary() -> &'static [u8] {
    CANARY.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("zc{nanos:x}{:x}", std::process::id()).into_bytes()
    })
}

fn text(c: &[u8]) -> String {
    String::from_utf8(c.to_vec()).unwrap_or_default()
}

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
