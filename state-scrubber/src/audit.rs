//! `state-scrubber audit`: scan inputs concurrently, apply the baseline, decide the exit status.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::baseline::Baseline;
use crate::detect::Engine;
use crate::document::{DocError, DocKind, Scanner};
use crate::finding::{Finding, Severity, DEFAULT_FINGERPRINT_KEY};
use crate::input::{self, Source};
use crate::progress::{self, Progress};

/// What happened to one input.
#[derive(Debug)]
pub struct FileResult {
    pub file: String,
    /// For a member of a saved binary plan (`file` is then `ARCHIVE!/MEMBER`): the archive as
    /// given and the member's name (see [`Finding::archive`]).
    pub archive: Option<String>,
    pub member: Option<String>,
    pub kind: Option<DocKind>,
    pub bytes: usize,
    pub elapsed: Duration,
    pub findings: Vec<Finding>,
    /// A complete, value-free message naming the file and position.
    pub error: Option<String>,
    /// What was left unchecked or skipped, and why (no value in it).
    pub notes: Vec<String>,
    /// Left out by `--exclude`: the glob, as given. Such an entry (a walked file or directory,
    /// an S3 object) was not read; it is reported like a skipped file, with a note.
    pub excluded: Option<String>,
}

/// The note of a walked file that is not Terraform JSON.
pub const NOT_TERRAFORM_NOTE: &str =
    "skipped: not a Terraform state, plan, backend cache or `terraform output -json`";

/// The note of an S3 object a listing found in an archive storage class (S3 Glacier Flexible
/// Retrieval or Deep Archive, an Intelligent-Tiering archive tier) and not restored: GetObject
/// refuses it (`InvalidObjectState`), so it is skipped, not read.
pub const ARCHIVED_NOTE: &str = "skipped: archived in an S3 Glacier storage class (or an \
    Intelligent-Tiering archive tier) and not restored: not read; restore it (`aws s3api \
    restore-object`) to audit it";

/// What picked a file that is read as walked: an S3 listing (its label is the object's URL) or
/// a directory walk.
fn found_by(file: &str) -> &'static str {
    if crate::s3::is_s3_url(file) {
        "(found by the S3 listing)"
    } else {
        "(found by the directory walk)"
    }
}

impl FileResult {
    /// An input that was not scanned, and nothing said about it yet.
    fn unscanned(file: String, bytes: usize, elapsed: Duration) -> Self {
        FileResult {
            file,
            archive: None,
            member: None,
            kind: None,
            bytes,
            elapsed,
            findings: vec![],
            error: None,
            notes: vec![],
            excluded: None,
        }
    }

    /// An input that could not be scanned: `error`, a complete, value-free message.
    pub(crate) fn failed(file: String, bytes: usize, elapsed: Duration, error: String) -> Self {
        FileResult {
            error: Some(error),
            ..FileResult::unscanned(file, bytes, elapsed)
        }
    }

    /// A walked file that is not read: `note` says why (no value in it).
    pub(crate) fn skipped(file: String, bytes: usize, elapsed: Duration, note: String) -> Self {
        FileResult {
            notes: vec![note],
            ..FileResult::unscanned(file, bytes, elapsed)
        }
    }

    /// Found by a walk and not Terraform JSON: neither scanned nor an error.
    pub fn is_skipped(&self) -> bool {
        self.kind.is_none() && self.error.is_none()
    }

    /// Not read at all: left out by `--exclude`, or an archived S3 object (see
    /// [`ARCHIVED_NOTE`]). A baseline's entries for it are not stale.
    pub fn not_read(&self) -> bool {
        self.excluded.is_some() || self.notes.iter().any(|n| n == ARCHIVED_NOTE)
    }

    /// The labels of `files` a baseline counts as read (its entries for them are stale when
    /// their finding is gone, and an update replaces them): read without an error, and no
    /// other version of the same object left unread. A baseline names an S3 object without its
    /// `?versionId=`, so with `--all-versions` an object whose old version is archived and
    /// whose current one is readable was counted as read, and the entries for the archived
    /// version's secrets were stale and dropped by an update.
    pub fn read_for_baseline(files: &[FileResult]) -> Vec<String> {
        let unread: std::collections::HashSet<String> = files
            .iter()
            .filter(|f| f.error.is_some() || f.not_read())
            .map(|f| crate::baseline::normalize_file(&f.file))
            .collect();
        files
            .iter()
            .filter(|f| f.error.is_none() && !f.not_read())
            .filter(|f| !unread.contains(&crate::baseline::normalize_file(&f.file)))
            .map(|f| f.file.clone())
            .collect()
    }

    /// An entry `--exclude` left out (`dir`: a directory, not walked).
    pub fn excluded(file: String, glob: &str, dir: bool) -> FileResult {
        FileResult {
            excluded: Some(glob.to_string()),
            ..FileResult::skipped(file, 0, Duration::ZERO, input::excluded_note(glob, dir))
        }
    }
}

#[derive(Debug, Default)]
pub struct AuditReport {
    pub files: Vec<FileResult>,
    /// Errors not tied to a scanned file (unreadable directory, missing path).
    pub errors: Vec<String>,
    /// What the directory walks said that is no error (see [`input::Collected::notes`]): for
    /// stderr, not with --quiet.
    pub walk_notes: Vec<String>,
    pub suppressed: usize,
    /// Baseline entries for files this run read that accepted nothing (see
    /// [`Baseline::stale`]).
    pub stale_baseline_entries: usize,
    /// The findings the baseline accepted (to update it: `--baseline X --write-baseline X`).
    pub accepted: Vec<Finding>,
    /// The baseline given, if any.
    pub baseline: Option<Baseline>,
    pub fail_on: Option<Severity>,
    /// `--write-baseline`: the run records its findings and ends 0 unless something failed.
    pub writing_baseline: bool,
    /// `--include-accepted`: the reports also list [`AuditReport::accepted`], marked as accepted
    /// (SARIF: suppressed results); they never count toward the exit status.
    pub include_accepted: bool,
    /// The `--baseline` file as given (named in SARIF's suppression justification).
    pub baseline_file: Option<String>,
    /// Local files whose path is not UTF-8, by their label ([`input::path_label`]): SARIF
    /// locates them by their bytes.
    pub raw_paths: std::collections::HashMap<String, PathBuf>,
    /// The `--config` file (or `.state-scrubber.toml`) read, if any.
    pub config_file: Option<String>,
    /// Findings an `[[allow]]` entry of that file covered: not reported, never counted.
    pub allowed: usize,
    /// The `fix` of each rule of that file that has one, by rule id: SARIF's help of the rule,
    /// as a built-in content rule's own fix is.
    pub rule_fixes: std::collections::BTreeMap<String, String>,
}

impl AuditReport {
    /// The exit status the run ends with (and SARIF's `exitCode` says): 2 when a file or path
    /// failed; else 0 when writing a baseline; else 1 when a finding is at or above `--fail-on`.
    /// Findings the baseline accepted never count, listed (`--include-accepted`) or not.
    pub fn exit_code(&self) -> u8 {
        if self.has_errors() {
            2
        } else if !self.writing_baseline && self.failing() > 0 {
            1
        } else {
            0
        }
    }

    /// The open findings (not accepted by the baseline).
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.files.iter().flat_map(|f| f.findings.iter())
    }
    /// The accepted findings the reports list: all of them with `--include-accepted`, else none.
    pub fn listed_accepted(&self) -> &[Finding] {
        if self.include_accepted {
            &self.accepted
        } else {
            &[]
        }
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
    /// Files, directories, `-`, and `s3://bucket/prefix` URLs.
    pub paths: Vec<PathBuf>,
    pub fail_on: Severity,
    pub baseline: Option<PathBuf>,
    pub jobs: usize,
    /// Show the progress line (still only on a terminal and outside CI, see [`progress::wanted`]).
    pub progress: bool,
    /// How S3 URLs are reached and listed.
    pub s3: crate::s3::S3Options,
    /// Content rules to add and findings to allow (`--config`, `.state-scrubber.toml`).
    pub config: Option<crate::config::Config>,
    /// The name stdin (`-`) is reported, baselined and allowed under (`--label`): as if read from
    /// that file. None: `<stdin>`.
    pub stdin_label: Option<String>,
}

/// Scan everything. Errors of single files are recorded in the report, not returned.
pub fn audit(opts: &AuditOptions) -> Result<AuditReport, crate::Error> {
    audit_excluding(opts, &input::Exclude::default())
}

/// [`audit`], leaving out what `exclude` matches in directory walks and S3 listings (files
/// named are always read). Each entry left out is in the report's files, as skipped with a
/// note and [`FileResult::excluded`] set, after the local files scanned (S3 objects: in
/// listing order).
pub fn audit_excluding(
    opts: &AuditOptions,
    exclude: &input::Exclude,
) -> Result<AuditReport, crate::Error> {
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
    let (s3_urls, local): (Vec<PathBuf>, Vec<PathBuf>) = paths
        .into_iter()
        .partition(|p| p.to_str().is_some_and(crate::s3::is_s3_url));
    let input::Collected {
        mut sources,
        excluded,
        errors: walk_errors,
        notes: walk_notes,
    } = input::collect(&local, exclude);
    for s in &mut sources {
        if let Source::Stdin(label) = s {
            label.clone_from(&opts.stdin_label);
        }
    }
    // Stdin under the name of a file this run also reads would give the report two entries of
    // one name, and the baseline one set of findings for two documents.
    if let Some(label) = &opts.stdin_label {
        let same = |other: &str| {
            crate::baseline::normalize_file(other) == crate::baseline::normalize_file(label)
        };
        let clash = sources
            .iter()
            .filter(|s| !matches!(s, Source::Stdin(_)))
            .map(|s| s.label())
            .chain(s3_urls.iter().map(|p| input::path_label(p)))
            .find(|other| same(other));
        if let Some(other) = clash {
            return Err(crate::Error::Usage(format!(
                "--label {}: this run also reads {} under that name; give stdin another --label",
                crate::report::printable(label),
                crate::report::printable(&other)
            )));
        }
    }
    let mut report = AuditReport {
        errors: walk_errors.iter().map(|e| e.to_string()).collect(),
        walk_notes,
        fail_on: Some(opts.fail_on),
        raw_paths: sources
            .iter()
            .filter_map(|s| match s {
                Source::File(p) | Source::Walked(p) if p.to_str().is_none() => {
                    Some((s.label(), p.clone()))
                }
                _ => None,
            })
            .collect(),
        ..Default::default()
    };
    let mut salt = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut salt);
    // Compile the rules up front (a broken rules file is one error, not one per file); each
    // worker owns an engine (its key cache is not shared).
    let engine = Engine::configured(salt, opts.config.as_ref())?;
    let progress = Progress::new(opts.progress && progress::wanted(false));
    progress.add_total(sources.len() as u64);

    progress.run(|| {
        let results = scan_local(&engine, &fp_key, &sources, opts.jobs, &progress);
        report.files = results;
        report.files.extend(
            excluded
                .iter()
                .map(|x| FileResult::excluded(x.label(), &x.glob, x.dir)),
        );
        if !s3_urls.is_empty() {
            let urls_given: Vec<String> = s3_urls
                .iter()
                .filter_map(|p| p.to_str().map(str::to_string))
                .collect();
            let urls = distinct_s3_urls(urls_given.clone());
            // Objects the URLs name, those a covering prefix lists included.
            let s3 = crate::s3::S3Options {
                named: urls_given,
                ..opts.s3.clone()
            };
            let (files, errors) =
                crate::s3::scan(&urls, &s3, exclude, &engine, &fp_key, opts.jobs, &progress);
            // A prefix does not exist or not: a typo (`s3://tf-states/prdo/`) lists nothing, as an
            // emptied one does. Beside other inputs that found states, say so for each such URL.
            for url in &urls {
                let Ok((bucket, prefix)) = crate::s3::parse_url(url) else {
                    continue;
                };
                let under = |label: &str| {
                    label
                        .strip_prefix("s3://")
                        .and_then(|rest| rest.split_once('/'))
                        .is_some_and(|(b, key)| b == bucket && key.starts_with(prefix.as_str()))
                };
                // Its listing failed, or S3 could not be used at all (the client, the runtime):
                // an error says so.
                let failed = errors
                    .iter()
                    .any(|e| e.starts_with(url.as_str()) || !crate::s3::is_s3_url(e));
                if !failed && !files.iter().any(|f| under(&f.file)) {
                    report.walk_notes.push(format!(
                        "{}: the listing found no state, plan or backend cache (nothing a \
                         directory walk would read): check the bucket and prefix",
                        crate::report::printable(url)
                    ));
                }
            }
            let archived = files
                .iter()
                .filter(|f| f.notes.iter().any(|n| n == ARCHIVED_NOTE))
                .count();
            if archived > 0 {
                let (n, what) = match archived {
                    1 => ("1 S3 object is".to_string(), "it"),
                    n => (format!("{n} S3 objects are"), "them"),
                };
                report.walk_notes.push(format!(
                    "{n} archived in an S3 Glacier storage class (or an Intelligent-Tiering \
                     archive tier) and not restored: not read, and a secret in {what} is not \
                     reported; restore {what} (`aws s3api restore-object`) to audit {what} \
                     (--verbose or --format json names {what})"
                ));
            }
            report.files.extend(files);
            report.errors.extend(errors);
        }
    });

    if let Some(config) = &opts.config {
        for f in &mut report.files {
            let before = f.findings.len();
            f.findings.retain(|x| !config.allows(x));
            report.allowed += before - f.findings.len();
        }
        report.config_file = Some(config.file.clone());
        report.rule_fixes = config
            .rules
            .iter()
            .filter_map(|r| Some((r.id.clone(), r.fix.clone()?)))
            .collect();
    }
    if let Some(b) = &baseline {
        let known = b.matcher();
        for f in &mut report.files {
            let (accepted, open): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut f.findings)
                .into_iter()
                .partition(|x| known.accepts(x));
            f.findings = open;
            report.suppressed += accepted.len();
            report.accepted.extend(accepted);
        }
        let read = FileResult::read_for_baseline(&report.files);
        report.stale_baseline_entries = b.stale(&read, &report.accepted);
    }
    report.baseline = baseline;
    report.baseline_file = opts.baseline.as_deref().map(input::path_label);
    Ok(report)
}

/// The S3 URLs to list, in the order given, without those another one covers: the same bucket
/// and a prefix that starts with the other's (`s3://b/org/` covers `s3://b/org/team-1/` and
/// itself named twice). An object listed twice was fetched, scanned and reported twice: double
/// counts in the summary, duplicate SARIF results. Local paths are made distinct in
/// [`input::collect`]. A URL that does not parse is kept (listing it reports why).
fn distinct_s3_urls(urls: Vec<String>) -> Vec<String> {
    let parsed: Vec<Option<(String, String)>> =
        urls.iter().map(|u| crate::s3::parse_url(u).ok()).collect();
    let covered = |i: usize| {
        let Some((bucket, prefix)) = &parsed[i] else {
            return false;
        };
        parsed.iter().enumerate().any(|(j, other)| {
            other.as_ref().is_some_and(|(b, p)| {
                j != i
                    && b == bucket
                    && prefix.starts_with(p.as_str())
                    && (p.len() < prefix.len() || j < i)
            })
        })
    };
    urls.iter()
        .enumerate()
        .filter(|(i, _)| !covered(*i))
        .map(|(_, u)| u.clone())
        .collect()
}

/// Scan local sources with a bounded pool of `jobs` workers (each with its own engine), in the
/// order given.
fn scan_local(
    engine: &Engine,
    fp_key: &[u8],
    sources: &[Source],
    jobs: usize,
    progress: &Progress,
) -> Vec<FileResult> {
    let workers = jobs.max(1).min(sources.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, FileResult)>> = Mutex::new(Vec::with_capacity(sources.len()));
    let work = |engine: &Engine| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(src) = sources.get(i) else { break };
        // One file at a time gets all the threads; several files share them.
        let threads = if sources.len() == 1 { jobs.max(1) } else { 1 };
        let rs = scan_one(engine, fp_key, src, threads);
        let (bytes, found) = rs.iter().fold((0, 0), |(b, n), r| {
            (b + r.bytes as u64, n + r.findings.len() as u64)
        });
        progress.file_done(bytes, found);
        let mut held = results.lock().expect("no panics while holding");
        held.extend(rs.into_iter().map(|r| (i, r)));
    };
    std::thread::scope(|scope| {
        // workers - 1 threads with an engine each, and this thread with the run's engine.
        for _ in 1..workers {
            let forked = engine.fork();
            let work = &work;
            scope.spawn(move || work(&forked));
        }
        work(engine);
    });
    let mut results = results.into_inner().expect("threads joined");
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn scan_one(engine: &Engine, fp_key: &[u8], src: &Source, threads: usize) -> Vec<FileResult> {
    let file = src.label();
    let start = Instant::now();
    let bytes = match input::read(src) {
        Ok(b) => b,
        Err(e) => return vec![FileResult::failed(file, 0, start.elapsed(), e.to_string())],
    };
    scan_bytes(
        engine,
        fp_key,
        file,
        &bytes,
        threads,
        start,
        src.is_walked(),
    )
}

/// Scan the bytes of one input under the name `file`: one result, or for a saved binary plan
/// (a zip) one per member read (see [`crate::planfile`]), or one error for the archive.
pub(crate) fn scan_bytes(
    engine: &Engine,
    fp_key: &[u8],
    file: String,
    bytes: &input::Bytes,
    threads: usize,
    start: Instant,
    walked: bool,
) -> Vec<FileResult> {
    let scan = Scan {
        engine,
        fp_key,
        threads,
        start,
    };
    if crate::planfile::is_zip(bytes) {
        return scan_saved_plan(&scan, file, bytes);
    }
    vec![scan_json(&scan, file, bytes, walked)]
}

/// What scanning one input (a file, or the members of a saved plan) goes by.
#[derive(Clone, Copy)]
struct Scan<'a> {
    engine: &'a Engine,
    fp_key: &'a [u8],
    threads: usize,
    /// When the input was taken up: its results' `elapsed` counts from here.
    start: Instant,
}

/// A saved binary plan: each member read is scanned as its own document under its label
/// (`FILE!/tfplan`, `FILE!/tfstate`, `FILE!/tfstate-prev`), held to the format like a file named
/// on the command line.
fn scan_saved_plan(scan: &Scan, file: String, bytes: &[u8]) -> Vec<FileResult> {
    let failed = |file: String, n: usize, error: String| {
        FileResult::failed(file, n, scan.start.elapsed(), error)
    };
    match crate::planfile::read(&file, bytes) {
        Err(e) => vec![failed(file, bytes.len(), e)],
        Ok(members) => members
            .into_iter()
            .map(|m| {
                let mut r = match m.json {
                    Ok(json) => scan_json(scan, m.label, &json, false),
                    Err(e) => failed(m.label, 0, e),
                };
                // The label stays the file (baselines match on it); reports that must name a
                // real file (SARIF) name the archive and say which member.
                for f in &mut r.findings {
                    f.archive = Some(file.clone());
                    f.member = Some(m.name.to_string());
                }
                r.archive = Some(file.clone());
                r.member = Some(m.name.to_string());
                r
            })
            .collect(),
    }
}

/// Scan the JSON bytes of one state or plan under the name `file`.
fn scan_json(scan: &Scan, file: String, bytes: &[u8], walked: bool) -> FileResult {
    let Scan {
        engine,
        fp_key,
        threads,
        start,
    } = *scan;
    let n = bytes.len();
    // One thread per 8 MiB piece at most (the scanner splits a file in pieces of about that
    // size; more threads would only wait): `--jobs 5000` on a 20 MB state started 5000
    // threads, each with an engine compiled for it then, 90 s and 14.8 GB instead of 0.2 s
    // and 60 MB. Forks share the compiled rules now; idle threads are still not started.
    let threads = threads.min(1 + n / (8 << 20));
    match Scanner::new(engine, fp_key, file.clone())
        .with_private(true)
        .with_numbers(true)
        .scan_parallel(bytes, threads)
    {
        Ok(s) => FileResult {
            file,
            archive: None,
            member: None,
            kind: Some(s.kind),
            bytes: n,
            elapsed: start.elapsed(),
            findings: s.findings,
            error: None,
            notes: s.notes,
            excluded: None,
        },
        // A walk picks files by name (`plan.json`, `*.plan.json`, ...); JSON that is not
        // Terraform's is no error there: not recognised, not an object, or a `version` that is
        // no state version with nothing else of Terraform's (another tool's JSON that happens to
        // have a `version` member). Terraform JSON that is broken still is an error, and so is
        // anything named explicitly.
        Err(
            e @ (DocError::Unrecognized { .. }
            | DocError::NotObject { .. }
            | DocError::StateVersion { .. }),
        ) if walked
            && !(matches!(e, DocError::StateVersion { .. })
                && crate::document::has_terraform_markers(bytes)) =>
        {
            let note = format!("{NOT_TERRAFORM_NOTE} {}", found_by(&file));
            FileResult::skipped(file, n, start.elapsed(), note)
        }
        // Terraform's own JSON that is no state or plan (`providers schema -json`, ...): skipped
        // with a note naming it, like other JSON a walk finds; named, an error that says what
        // to audit instead.
        Err(DocError::NotStateOrPlan { what, .. }) if walked => {
            let note = format!(
                "skipped: {}, not a state or plan {}",
                what.as_str(),
                found_by(&file)
            );
            FileResult::skipped(file, n, start.elapsed(), note)
        }
        // A walk reads every `*.jsonl` as a saved `-json` UI stream; JSON lines of another tool
        // (not starting with a UI message) are skipped with a note as other JSON is.
        Err(_)
            if walked
                && file.to_ascii_lowercase().ends_with(".jsonl")
                && !crate::document::is_ui_stream(bytes) =>
        {
            let note = format!(
                "skipped: JSON lines that are not a Terraform -json UI stream {}",
                found_by(&file)
            );
            FileResult::skipped(file, n, start.elapsed(), note)
        }
        Err(e) => FileResult::failed(file, n, start.elapsed(), e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn s3_urls_covered_by_another_are_listed_once() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for (given, want) in [
            (
                v(&["s3://b/org/", "s3://b/org/", "s3://b/org/team-1/"]),
                v(&["s3://b/org/"]),
            ),
            (
                v(&["s3://b/org/team-1/", "s3://b/org/"]),
                v(&["s3://b/org/"]),
            ),
            // `org` lists `org2/` too (a prefix, not a directory).
            (v(&["s3://b/org2/", "s3://b/org"]), v(&["s3://b/org"])),
            (v(&["s3://b/x/", "s3://b"]), v(&["s3://b"])),
            (
                v(&["s3://b/org/", "s3://c/org/", "s3://b/other/"]),
                v(&["s3://b/org/", "s3://c/org/", "s3://b/other/"]),
            ),
            // Another bucket whose name starts the same is another bucket.
            (
                v(&["s3://bb/org/", "s3://b/"]),
                v(&["s3://bb/org/", "s3://b/"]),
            ),
            (v(&["s3:///x", "s3:///x"]), v(&["s3:///x", "s3:///x"])),
        ] {
            assert_eq!(super::distinct_s3_urls(given.clone()), want, "{given:?}");
        }
    }
}
