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
    // SAFETY: the block is still allocated, `len` bytes long (its layout's size).
    let block = unsafe { std::slice::from_raw_parts(ptr, len) };
    keep(block);
    let Some(canary) = CANARY.get() else { return };
    if block.windows(canary.len()).any(|w| w == &canary[..]) {
        HITS.fetch_add(1, Ordering::Relaxed);
    }
}

/// The blocks of up to 256 bytes freed while a test watches, each as its length (2 bytes) and
/// its bytes, for a value not known in advance (a generated password). No allocation here.
struct Kept(std::cell::UnsafeCell<[u8; 1 << 16]>);
// SAFETY: written and read only by the one thread that watches (under ONE_AT_A_TIME).
unsafe impl Sync for Kept {}
static KEPT: Kept = Kept(std::cell::UnsafeCell::new([0; 1 << 16]));
static KEPT_LEN: AtomicUsize = AtomicUsize::new(0);

fn keep(block: &[u8]) {
    let at = KEPT_LEN.load(Ordering::Relaxed);
    if block.len() > 256 || at + 2 + block.len() > 1 << 16 {
        return;
    }
    // SAFETY: see `Kept`.
    let kept = unsafe { &mut *KEPT.0.get() };
    kept[at..at + 2].copy_from_slice(&(block.len() as u16).to_be_bytes());
    kept[at + 2..at + 2 + block.len()].copy_from_slice(block);
    KEPT_LEN.store(at + 2 + block.len(), Ordering::Relaxed);
}

/// Whether a block kept by [`keep`] holds 16 bytes or more of `value`.
fn kept_a_part_of(value: &[u8]) -> bool {
    // SAFETY: see `Kept`; no test watches now (the caller holds no watch).
    let kept = unsafe { &*KEPT.0.get() };
    let (mut at, end) = (0, KEPT_LEN.load(Ordering::Relaxed));
    let run = 16.min(value.len());
    while at < end {
        let n = usize::from(u16::from_be_bytes([kept[at], kept[at + 1]]));
        let block = &kept[at + 2..at + 2 + n];
        if value
            .windows(run)
            .any(|w| block.windows(run).any(|b| b == w))
        {
            return true;
        }
        at += 2 + n;
    }
    false
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
    // (The blocks freed are also kept, for `kept_a_part_of`, until the next watch.)
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    HITS.store(0, Ordering::Relaxed);
    KEPT_LEN.store(0, Ordering::Relaxed);
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
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    KEPT_LEN.store(0, Ordering::Relaxed);
    ON.with(|on| on.set(true));
    let password = spec.generate();
    ON.with(|on| on.set(false));
    assert!(
        password.expose_secret().len() == 128,
        "not 64 two-byte characters"
    );
    assert!(
        !kept_a_part_of(password.expose_secret()),
        "a freed block held part of the password unzeroed"
    );
}
