//! The allocator of the zeroing test binaries (offstate-common's and the provider's
//! tests/zeroing.rs). docs/index.md: "The provider's own code keeps a value in buffers zeroed
//! when freed". While a test watches, every block freed (or moved by a realloc) is searched for
//! the canary, and a hit is counted; blocks of up to 256 bytes are also kept, for a value not
//! known in advance (a generated password). The allocator is process-wide, so each binary that
//! includes this module is its own, and one test at a time watches.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

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
/// its bytes. No allocation here.
struct Kept(UnsafeCell<[u8; 1 << 16]>);
// SAFETY: written and read only by the one thread that watches (under ONE_AT_A_TIME).
unsafe impl Sync for Kept {}
static KEPT: Kept = Kept(UnsafeCell::new([0; 1 << 16]));
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

/// What was freed while `f` ran; no other test watches while this is held.
pub struct Watched {
    _one: MutexGuard<'static, ()>,
    hits: usize,
}

impl Watched {
    /// How many blocks holding the canary were freed unzeroed.
    pub fn unzeroed_canaries(&self) -> usize {
        self.hits
    }

    /// Whether a freed block of up to 256 bytes held 16 bytes or more of `value` (all of it,
    /// if shorter).
    #[allow(dead_code)] // not every binary watches for a value not known in advance
    pub fn kept_a_part_of(&self, value: &[u8]) -> bool {
        // SAFETY: see `Kept`; this thread holds the watch and watches no more.
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
}

/// Runs `f` while watching what it frees.
pub fn watch(f: impl FnOnce()) -> Watched {
    let one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    HITS.store(0, Ordering::Relaxed);
    KEPT_LEN.store(0, Ordering::Relaxed);
    ON.with(|on| on.set(true));
    f();
    ON.with(|on| on.set(false));
    Watched {
        _one: one,
        hits: HITS.load(Ordering::Relaxed),
    }
}

/// How many blocks holding the canary `f` freed unzeroed.
pub fn unzeroed_frees(f: impl FnOnce()) -> usize {
    watch(f).unzeroed_canaries()
}

/// This run's canary: not in the binary, not in any earlier run.
pub fn canary() -> &'static [u8] {
    CANARY.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("zc{nanos:x}{:x}", std::process::id()).into_bytes()
    })
}

/// The canary as text.
pub fn text(c: &[u8]) -> String {
    String::from_utf8(c.to_vec()).unwrap_or_default()
}
