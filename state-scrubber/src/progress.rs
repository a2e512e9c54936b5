//! The progress line on a terminal: states done (of those known), bytes, findings so far, rate.
//! Only on a terminal's stderr (not `TERM=dumb`), never with `--quiet` or when `CI` is set; it never shows a value
//! (counts only, no file content).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counters shared by the workers; a ticker thread prints them while [`Progress::run`] runs.
pub struct Progress {
    enabled: bool,
    start: Instant,
    total: AtomicU64,
    done: AtomicU64,
    bytes: AtomicU64,
    findings: AtomicU64,
    /// S3 listings still running: the total is not final yet.
    listing: AtomicU64,
    stop: AtomicBool,
    wake: (Mutex<()>, std::sync::Condvar),
}

/// Should a progress line be shown: not asked to be quiet, stderr is a terminal that can erase a
/// line (`TERM` is not `dumb`: Emacs' shell buffer, some CI log viewers, which showed each
/// `\x1b[2K` as it is), not in CI.
pub fn wanted(quiet: bool) -> bool {
    !quiet
        && std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        Progress {
            enabled,
            start: Instant::now(),
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            findings: AtomicU64::new(0),
            listing: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            wake: (Mutex::new(()), std::sync::Condvar::new()),
        }
    }

    pub fn add_total(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
    }
    pub fn listing_started(&self) {
        self.listing.fetch_add(1, Ordering::Relaxed);
    }
    pub fn listing_done(&self) {
        self.listing.fetch_sub(1, Ordering::Relaxed);
    }
    /// One state scanned (or failed).
    pub fn file_done(&self, bytes: u64, findings: u64) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.findings.fetch_add(findings, Ordering::Relaxed);
    }

    /// The current line, without control characters.
    pub fn line(&self) -> String {
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let done = self.done.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed);
        let bytes = self.bytes.load(Ordering::Relaxed);
        let findings = self.findings.load(Ordering::Relaxed);
        let of = if self.listing.load(Ordering::Relaxed) > 0 {
            format!("{total}+ (listing)")
        } else {
            total.to_string()
        };
        format!(
            "scanned {done}/{of} states · {:.1} MB · {findings} finding{} · {:.0} states/s, {:.1} MB/s",
            bytes as f64 / 1e6,
            if findings == 1 { "" } else { "s" },
            done as f64 / secs,
            bytes as f64 / 1e6 / secs,
        )
    }

    /// Run `f`, printing the line every 200 ms on stderr meanwhile (when enabled), and clear it
    /// at the end.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        if !self.enabled {
            return f();
        }
        std::thread::scope(|s| {
            s.spawn(|| {
                let (m, cv) = &self.wake;
                let mut g = m.lock().expect("progress lock");
                // Nothing for quick runs: the first line after 300 ms.
                let mut wait = Duration::from_millis(300);
                while !self.stop.load(Ordering::Relaxed) {
                    g = cv.wait_timeout(g, wait).expect("progress lock").0;
                    if self.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let mut e = std::io::stderr().lock();
                    let _ = write!(e, "\r\x1b[2K{}", self.line());
                    let _ = e.flush();
                    wait = Duration::from_millis(200);
                }
                let mut e = std::io::stderr().lock();
                let _ = write!(e, "\r\x1b[2K");
                let _ = e.flush();
            });
            let r = f();
            self.stop.store(true, Ordering::Relaxed);
            let _g = self.wake.0.lock().expect("progress lock");
            self.wake.1.notify_all();
            r
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_counts() {
        let p = super::Progress::new(false);
        p.add_total(3);
        p.file_done(2_000_000, 1);
        let l = p.line();
        assert!(
            l.starts_with("scanned 1/3 states · 2.0 MB · 1 finding ·"),
            "{l}"
        );
        p.listing_started();
        assert!(p.line().contains("3+ (listing)"));
    }
}
