//! `state-scrubber audit`: scan inputs concurrently, apply the baseline, decide the exit status.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::baseline::Baseline;
use crate::detect::Engine;
use crate::document::{DocKind, Scanner};
use crate::finding::{Finding, Severity, DEFAULT_FINGERPRINT_KEY};
use crate::input::{self, Source};

/// What happened to one input.
#[derive(Debug)]
pub struct FileResult {
    pub file: String,
    pub kind: Option<DocKind>,
    pub bytes: usize,
    pub elapsed: Duration,
    pub findings: Vec<Finding>,
    /// A complete, value-free message naming the file and position.
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct AuditReport {
    pub files: Vec<FileResult>,
    /// Errors not tied to a scanned file (unreadable directory, missing path).
    pub errors: Vec<String>,
    pub suppressed: usize,
    pub fail_on: Option<Severity>,
}

impl AuditReport {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.files.iter().flat_map(|f| f.findings.iter())
    }
    pub fn all_errors(&self) -> Vec<String> {
        let mut v = self.errors.clone();
        v.extend(self.files.iter().filter_map(|f| f.error.clone()));
        v
    }
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.files.iter().any(|f| f.error.is_some())
    }
    pub fn failing(&self) -> usize {
        let min = self.fail_on.unwrap_or(Severity::Low);
        self.findings().filter(|f| f.severity >= min).count()
    }
}

pub struct AuditOptions {
    pub paths: Vec<PathBuf>,
    pub fail_on: Severity,
    pub baseline: Option<PathBuf>,
    pub jobs: usize,
    pub progress: bool,
}

/// Scan everything. Errors of single files are recorded in the report, not returned.
pub fn audit(opts: &AuditOptions) -> Result<AuditReport, crate::Error> {
    let fp_key: Vec<u8> = std::env::var("STATE_SCRUBBER_FINGERPRINT_KEY")
        .map(|k| k.into_bytes())
        .unwrap_or_else(|_| DEFAULT_FINGERPRINT_KEY.to_vec());
    let baseline = match &opts.baseline {
        Some(p) => Some(Baseline::load(p)?),
        None => None,
    };
    let paths = if opts.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.paths.clone()
    };
    let (sources, walk_errors) = input::collect(&paths);
    let mut report = AuditReport {
        errors: walk_errors.iter().map(|e| e.to_string()).collect(),
        fail_on: Some(opts.fail_on),
        ..Default::default()
    };
    let mut salt = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut salt);
    // Compile the rules up front (a broken rules file is one error, not one per file); each
    // worker owns an engine (its key cache is not shared).
    let jobs = opts.jobs.max(1).min(sources.len().max(1));
    let mut engines = vec![Engine::with_salt(salt)?];
    for _ in 1..jobs {
        engines.push(engines[0].fork());
    }

    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, FileResult)>> = Mutex::new(Vec::with_capacity(sources.len()));
    let show_progress = opts.progress && sources.len() > 20 && std::io::stderr().is_terminal();
    std::thread::scope(|scope| {
        for engine in engines {
            let (next, done, results, sources, fp_key) =
                (&next, &done, &results, &sources, &fp_key);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(src) = sources.get(i) else { break };
                    // One file at a time gets all the threads; several files share them.
                    let threads = if sources.len() == 1 {
                        opts.jobs.max(1)
                    } else {
                        1
                    };
                    let r = scan_one(&engine, fp_key, src, threads);
                    results
                        .lock()
                        .expect("no panics while holding")
                        .push((i, r));
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if show_progress {
                        eprint!("\r\x1b[2Kscanning {d}/{}", sources.len());
                    }
                }
            });
        }
    });
    if show_progress {
        eprint!("\r\x1b[2K");
    }
    let mut results = results.into_inner().expect("threads joined");
    results.sort_by_key(|(i, _)| *i);
    report.files = results.into_iter().map(|(_, r)| r).collect();

    if let Some(b) = &baseline {
        let known = b.fingerprints();
        for f in &mut report.files {
            let before = f.findings.len();
            f.findings
                .retain(|x| !known.contains(x.fingerprint.as_str()));
            report.suppressed += before - f.findings.len();
        }
    }
    Ok(report)
}

fn scan_one(engine: &Engine, fp_key: &[u8], src: &Source, threads: usize) -> FileResult {
    let file = src.label();
    let start = Instant::now();
    let bytes = match input::read(src) {
        Ok(b) => b,
        Err(e) => {
            return FileResult {
                file,
                kind: None,
                bytes: 0,
                elapsed: start.elapsed(),
                findings: vec![],
                error: Some(e.to_string()),
            }
        }
    };
    let n = bytes.len();
    // Pages of a mapped file that the scanner has passed are dropped, so peak memory stays near
    // the size of the findings rather than the size of the file.
    let release = |upto: usize| {
        if let input::Bytes::Map(m) = &bytes {
            // SAFETY: DONTNEED on a read-only file mapping only drops clean pages; a later read
            // faults them back in from the file.
            let _ = unsafe {
                m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, 0, upto.min(m.len()))
            };
        }
    };
    match Scanner::new(engine, fp_key, file.clone())
        .with_release(&release)
        .scan_parallel(&bytes, threads)
    {
        Ok(s) => FileResult {
            file,
            kind: Some(s.kind),
            bytes: n,
            elapsed: start.elapsed(),
            findings: s.findings,
            error: None,
        },
        Err(e) => FileResult {
            file,
            kind: None,
            bytes: n,
            elapsed: start.elapsed(),
            findings: vec![],
            error: Some(e.to_string()),
        },
    }
}
