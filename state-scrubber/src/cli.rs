//! Command line. Subcommands are variants of [`Command`]; each has its own args struct and run
//! function, so `scrub`, `migrate` and `restore` can be added beside `audit`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::audit::{audit_excluding, AuditOptions};
use crate::baseline::Baseline;
use crate::finding::Severity;
use crate::report;

#[derive(Debug, Parser)]
#[command(
    name = "state-scrubber",
    version,
    about = "Find plaintext secrets in Terraform states and plans, move them into AWS Secrets \
             Manager, and migrate HCL to write-only arguments",
    after_help = "Run `state-scrubber help COMMAND` (or COMMAND --help) for a command's options \
                  and exit status. More: state-scrubber/README.md in the offstate repository."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit states, plans (saved with `terraform plan -out`, or `terraform show -json`) and backend
    /// caches for plaintext secrets.
    #[command(after_help = AUDIT_AFTER)]
    Audit(AuditArgs),
    /// Move the secrets found in a state into Secrets Manager and rewrite the state to references.
    #[command(after_help = SCRUB_AFTER)]
    Scrub(crate::scrub::cli::ScrubArgs),
    /// Put back the values a scrub moved out of a state.
    #[command(after_help = RESTORE_AFTER)]
    Restore(crate::scrub::cli::RestoreArgs),
    /// Rewrite HCL to write-only attributes, ephemeral resources and offstate_secret.
    #[command(after_help = MIGRATE_AFTER)]
    Migrate(crate::migrate::MigrateArgs),
    /// List every rule id a finding can carry (for `[[allow]] rules`, `scrub --only/--exclude`),
    /// with a configuration's own rules and allow entries, after checking it.
    #[command(after_help = RULES_AFTER)]
    Rules(crate::catalog::RulesArgs),
}

/// What each command's --help ends with: examples (each one a command that
/// tests/test_docs_cli.py checks against the options), then its exit status (the README's "Exit
/// codes"). A comment starts at `#`.
macro_rules! after_help {
    ($($example:literal)+ ; $exit:literal) => {
        concat!("Examples:\n", $("  ", $example, "\n",)+ "\n", $exit)
    };
}

const AUDIT_AFTER: &str = after_help!(
    "state-scrubber audit                       # the current directory, recursively"
    "state-scrubber audit envs/prod/terraform.tfstate tfplan   # a state and a saved plan"
    "terraform show -json tfplan | state-scrubber audit -"
    "terraform state pull | state-scrubber audit - --label envs/prod/terraform.tfstate"
    "state-scrubber audit . --format sarif -o state-scrubber.sarif --fail-on high   # CI"
    "state-scrubber audit . --write-baseline .state-scrubber-baseline.json   # accept what is there"
    "state-scrubber audit . --baseline .state-scrubber-baseline.json   # fail on new findings only"
    "state-scrubber audit s3://tf-states/ --all-versions --format html -o audit.html";
    "Exit status: 0 no finding at or above --fail-on (findings a baseline \
    accepts or the config allows do not count; also 0 when nothing was found to read), 1 at least \
    one, 2 an error (a path that cannot be read, a file that is not a state or plan, a usage \
    error). Errors win over findings; the other files are still scanned and reported."
);
const SCRUB_AFTER: &str = after_help!(
    "state-scrubber scrub terraform.tfstate --prefix prod/payments   # what --write would do"
    "state-scrubber scrub terraform.tfstate --prefix prod/payments --write"
    "terraform state pull | state-scrubber scrub - --prefix prod/payments --write > scrubbed.json";
    "Exit status: 0 done (or, without --write, what --write would do was \
    shown), whatever was found; 2 an error, a usage error included. Stopped by Ctrl-C or SIGTERM \
    during --write, it ends by that signal (the shell shows 130 or 143); the state file is the old \
    one or, as it then says, already the new one."
);
const RESTORE_AFTER: &str = after_help!(
    "state-scrubber restore terraform.tfstate --prefix prod/payments   # what --write would do"
    "state-scrubber restore terraform.tfstate --prefix prod/payments --write";
    "Exit status: 0 done (or, without --write, what --write would do was \
    shown); 2 an error, a usage error included. Stopped by Ctrl-C or SIGTERM during --write, it \
    ends by that signal (the shell shows 130 or 143); the state file is the old one or, as it then \
    says, already the new one."
);
const MIGRATE_AFTER: &str = after_help!(
    "state-scrubber migrate .                   # the diff, nothing written"
    "state-scrubber migrate . --prefix prod/payments --write"
    "state-scrubber migrate modules/db --no-recursive --no-offstate-secret";
    "Exit status: 0 done (or, without --write, the diff was shown); 2 an \
    error (nothing is written then), a usage error included."
);
const RULES_AFTER: &str = after_help!(
    "state-scrubber rules"
    "state-scrubber rules --format json | jq -r '.rules[].id'"
    "state-scrubber rules --config .state-scrubber.toml   # check a configuration";
    "Exit status: 0, or 2 when the configuration file has an error (the \
    entry is named) or on a usage error."
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: findings grouped by file and resource, a summary when more than one state
    /// was scanned; colour on a terminal only.
    Text,
    /// Every finding with its fields, and a summary; for tools.
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub's upload-sarif); at most 25,000 results (what code
    /// scanning accepts in a run), the most severe, with a warning when some are left out.
    Sarif,
    /// One self-contained HTML page: summary, chart of findings per state, table of findings.
    Html,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Files or directories (walked recursively for state-looking files); `-` reads stdin;
    /// `s3://bucket/prefix/` lists and reads the state objects under a prefix.
    /// Default: the current directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Leave out the files and directories that a directory walk or an S3 listing finds and GLOB
    /// matches (repeatable; an excluded directory is not walked). As in .gitignore: a glob
    /// without `/` matches a name at any depth (`tfplan`, `*.tfplan`, `archive`); a glob with
    /// `/` matches the path relative to the walked directory, or for S3 the key relative to the
    /// listed prefix (`envs/*/old/**`; a leading `/` anchors a name: `/tfplan`); a trailing `/`
    /// matches directories only. `*` does not match `/`, `**` does. Files named on the command
    /// line are always read, whatever matches them.
    #[arg(long, value_name = "GLOB", value_parser = crate::input::ExcludeGlob::parse)]
    pub exclude: Vec<crate::input::ExcludeGlob>,
    /// Name stdin (`-`) NAME in the report, baselines and `files` allow globs, as if it had been
    /// read from that file: `terraform state pull | state-scrubber audit - --label
    /// envs/prod/terraform.tfstate` (ripgrep's --label). Without it stdin is `<stdin>`.
    #[arg(long, value_name = "NAME", value_parser = parse_label)]
    pub label: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report, in --format, to FILE (atomically) and print the text report on stdout
    /// (nothing with --quiet): one run gives CI both a file to upload (SARIF, JSON, HTML) and a
    /// log to read. FILE may not be a file this run reads (an audited file, the baseline, the
    /// config): that is exit 2 before anything is read.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 only for findings of this severity or above: low, medium, high, critical.
    #[arg(long, value_name = "SEVERITY", default_value = "low")]
    pub fail_on: Severity,
    /// Add content rules and allow findings from this TOML file (see the README's
    /// "Configuration"). Default: `.state-scrubber.toml` in the current directory, if there is one.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Accept the findings recorded in this baseline file. An entry accepts its finding
    /// (matched by fingerprint) in the file it names only: `./a/x.tfstate`, `a/x.tfstate` and the
    /// absolute path are one file, an S3 object is one file across versions. An entry whose
    /// `file` is empty or missing (hand-written) accepts the finding in every file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: also report the findings it accepted, marked as accepted (SARIF: results
    /// with an external, accepted suppression; JSON: the `accepted` array; text: a list at the
    /// end). They never count toward the exit status.
    #[arg(long, requires = "baseline")]
    pub include_accepted: bool,
    /// Record the current findings as accepted in FILE (exit status 0 unless there are errors).
    /// With --baseline: the update of that baseline (its accepted findings still present, its
    /// entries for files not scanned in this run, and the new findings); FILE may be the same.
    /// Written atomically. FILE may not be another file this run reads, nor --output's: exit 2
    /// before anything is read.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Print nothing but errors (text format); the exit status tells the result.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also list files without findings, and each finding's JSON pointer and fingerprint; on
    /// stderr, each file read (kind, size, time) and each one --exclude left out.
    #[arg(long, short, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Parallel workers (default: number of CPUs).
    #[arg(long, short, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// S3: objects fetched (or waiting to be scanned) at once.
    #[arg(long, value_name = "N", default_value_t = crate::s3::DEFAULT_CONCURRENCY as u16,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// S3: also scan non-current object versions (a secret removed from the newest state still
    /// sits in the old ones).
    #[arg(long)]
    pub all_versions: bool,
    /// S3 endpoint URL (MinIO, a local S3); else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL.
    /// A custom endpoint is addressed path-style.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// S3 region; else AWS_REGION / the profile's region.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS shared-config profile for S3; else AWS_PROFILE / default.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Colour in the text report: auto (when stdout is a terminal, NO_COLOR is unset or empty and
    /// TERM is not `dumb`), always (even with NO_COLOR), never.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: ColorWhen,
}

/// `--label`: a name a report can show on one line (no control character) and a baseline can
/// match (not empty, not `-`, which is stdin itself).
fn parse_label(s: &str) -> Result<String, String> {
    if s.is_empty() || s == "-" {
        return Err("give a file name, such as envs/prod/terraform.tfstate".into());
    }
    if s.chars().any(char::is_control) {
        return Err("a control character cannot be part of a file name here".into());
    }
    Ok(s.to_string())
}

/// The report in `format` into `w` (JSON streamed, the others rendered whole).
fn write_report(
    report: &crate::audit::AuditReport,
    format: Format,
    style: &report::text::Style,
    verbose: bool,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let text = match format {
        Format::Json => return report::json::write(report, w),
        Format::Text => report::text::render(report, style, verbose),
        Format::Sarif => report::sarif::render(report),
        Format::Html => report::html::render(report),
    };
    w.write_all(text.as_bytes())
}

/// What `--output` and `--write-baseline` may not name, checked before anything is read:
///
/// - `-`, which would be a file named `-` (stdout is where the report goes without --output),
///   an S3 URL, a file in a directory that is not there;
/// - a directory, a block device or a socket (or a symlink to one). A character device or a
///   FIFO (`-o /dev/null`, `/dev/stdout`, a `mkfifo` pipe) is a stream: it is written to
///   directly, not replaced (see [`crate::output::write_atomically`]), and is no file this run
///   would replace;
/// - a file this run reads: an audited state, named or reached by a directory walk (and not
///   left out by `--exclude`), the baseline, the config. Compared by canonical path
///   (`./x.tfstate`, a symlink to it). `--write-baseline` may name the `--baseline` it updates,
///   named or walked;
/// - for `--output`, the `--write-baseline` file (the baseline, written after it, would replace
///   the report).
fn refuse_writing_an_input(
    args: &AuditArgs,
    exclude: &crate::input::Exclude,
) -> anyhow::Result<()> {
    use std::path::Path;
    let writes = [
        ("--output", "report", args.output.as_deref()),
        (
            "--write-baseline",
            "baseline",
            args.write_baseline.as_deref(),
        ),
    ];
    let shown = |p: &Path| crate::input::path_label(p);
    for (flag, what, path) in writes {
        let Some(path) = path else { continue };
        if path.as_os_str() == "-" {
            anyhow::bail!(
                "{flag} -: give a file name (without --output the report goes to stdout)"
            );
        }
        if path.to_str().is_some_and(crate::s3::is_s3_url) {
            anyhow::bail!(
                "{flag} {}: a local file (S3 is read, not written)",
                shown(path)
            );
        }
        // Its directory, checked now rather than when the run is over (exit 2 then, with the
        // text report never printed).
        let dir = crate::output::directory_of(path);
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => anyhow::bail!("{flag} {}: {}: not a directory", shown(path), shown(dir)),
            Err(e) => anyhow::bail!(
                "{flag} {}: {}: {}",
                shown(path),
                shown(dir),
                crate::input::io_message(&e)
            ),
        }
        // A symlink is written through (see [`crate::output::write_atomically`]): it must lead
        // somewhere, else the run would end 2 with its report done and not written.
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            if let Err(e) = std::fs::metadata(path) {
                anyhow::bail!(
                    "{flag} {} is a symbolic link that cannot be followed: {}",
                    shown(path),
                    crate::input::io_message(&e)
                );
            }
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => anyhow::bail!(
                "{flag} {} is a directory: give a file name for the {what}",
                shown(path)
            ),
            Ok(m) if !m.is_file() && !crate::output::is_stream(&m) => anyhow::bail!(
                "{flag} {} is not a regular file, a character device or a pipe (a block device \
                 or a socket): give a file name for the {what}",
                shown(path)
            ),
            _ => {}
        }
    }
    let config_default = PathBuf::from(crate::config::DEFAULT_FILE);
    let named = args
        .paths
        .iter()
        .chain(args.config.iter())
        .chain(args.config.is_none().then_some(&config_default));
    let targets: Vec<(&str, &str, &Path, PathBuf)> = writes
        .iter()
        .filter_map(|&(flag, what, path)| {
            // Not there yet (or its directory is missing, which writing it will say): no input.
            // A stream (`/dev/null`, a pipe) is written to, never replaced: no input either.
            let path = path?;
            if std::fs::metadata(path).is_ok_and(|m| crate::output::is_stream(&m)) {
                return None;
            }
            Some((flag, what, path, std::fs::canonicalize(path).ok()?))
        })
        .collect();
    if !targets.is_empty() {
        let baseline = args
            .baseline
            .as_deref()
            .and_then(|b| std::fs::canonicalize(b).ok());
        // The write that would replace `input`, if any. The baseline an update rewrites (named,
        // or reached by the walk: `.state-scrubber-baseline.json` in the directory audited) is
        // --write-baseline's to replace: only --output may not name it.
        let refused = |input: &Path| {
            let c = std::fs::canonicalize(input).ok()?;
            let (flag, what, path, _) = targets.iter().find(|t| {
                t.3 == c && (t.0 == "--output" || baseline.as_deref() != Some(c.as_path()))
            })?;
            Some(anyhow::anyhow!(
                "{flag} {} is {}, which this run reads: the {what} would replace it; write the \
                 {what} elsewhere",
                shown(path),
                shown(input)
            ))
        };
        if let Some(e) = named.chain(args.baseline.as_ref()).find_map(|p| refused(p)) {
            return Err(e);
        }
        // What the walks would read: walked again here (names only, nothing is read), only when
        // a file written is already there and has a name a walk reads (a `.sarif` report, a
        // `baseline.json`, never does).
        if !targets.iter().any(|t| crate::input::looks_like_state(t.2)) {
            return check_output_is_not_the_baseline(args);
        }
        let local: Vec<PathBuf> = args
            .paths
            .iter()
            .filter(|p| !p.to_str().is_some_and(crate::s3::is_s3_url))
            .cloned()
            .collect();
        let local = if args.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            local
        };
        for source in crate::input::collect(&local, exclude).sources {
            if let crate::input::Source::Walked(p) = &source {
                if let Some(e) = refused(p) {
                    return Err(e);
                }
            }
        }
    }
    check_output_is_not_the_baseline(args)
}

/// `--output` and `--write-baseline` naming one file: the baseline, written last, would replace
/// the report.
fn check_output_is_not_the_baseline(args: &AuditArgs) -> anyhow::Result<()> {
    use std::path::Path;
    let shown = |p: &Path| crate::input::path_label(p);
    let stream = |p: &Path| std::fs::metadata(p).is_ok_and(|m| crate::output::is_stream(&m));
    if let (Some(out), Some(baseline)) = (&args.output, &args.write_baseline) {
        // `-o /dev/null --write-baseline /dev/null`: two writes to a stream replace nothing.
        if stream(out) {
            return Ok(());
        }
        // Neither need be there yet: the directory's canonical path and the name.
        let resolved = |p: &Path| {
            std::fs::canonicalize(p).ok().or_else(|| {
                let dir = std::fs::canonicalize(crate::output::directory_of(p)).ok()?;
                Some(dir.join(p.file_name()?))
            })
        };
        if out == baseline || resolved(out).is_some_and(|o| Some(o) == resolved(baseline)) {
            anyhow::bail!(
                "--output and --write-baseline name the same file ({}): the baseline would \
                 replace the report; give two names",
                shown(out)
            );
        }
    }
    Ok(())
}

/// Is `path` where stdout writes (`/dev/stdout`, `/dev/fd/1`, the terminal, or the file stdout
/// is redirected to)? The same device and inode.
fn is_stdout(path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        use std::os::unix::fs::MetadataExt as _;
        let Ok(m) = std::fs::metadata(path) else {
            return false;
        };
        let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() else {
            return false;
        };
        std::fs::File::from(fd)
            .metadata()
            .is_ok_and(|s| (s.dev(), s.ino()) == (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// A writer whose reader may go away (stderr in `audit ... 2>&1 | head -1`): after the first
/// broken pipe everything written is dropped, without an error. Other errors are errors.
pub(crate) struct Gone<W> {
    inner: W,
    gone: bool,
}

impl<W: Write> Gone<W> {
    pub(crate) fn new(inner: W) -> Self {
        Gone { inner, gone: false }
    }

    fn kept(&mut self, r: std::io::Result<usize>, n: usize) -> std::io::Result<usize> {
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.gone = true;
                Ok(n)
            }
            r => r,
        }
    }
}

impl<W: Write> Write for Gone<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.gone {
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        self.kept(r, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.gone {
            return Ok(());
        }
        let r = self.inner.flush().map(|()| 0);
        self.kept(r, 0).map(|_| ())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// How a run ended; `main` maps it to the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0
    Clean,
    /// 1
    Findings,
    /// 2
    Errors,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Errors => 2,
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Audit(args) => run_audit(args),
        Command::Scrub(args) => crate::scrub::cli::run_scrub(args),
        Command::Restore(args) => crate::scrub::cli::run_restore(args),
        Command::Migrate(args) => crate::migrate::run_migrate(args),
        Command::Rules(args) => crate::catalog::run_rules(args),
    }
}

fn run_audit(args: AuditArgs) -> anyhow::Result<Outcome> {
    use anyhow::Context as _;
    let jobs = args.jobs.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    // Before anything is read (each glob was checked as it was parsed; this is the set).
    let exclude = crate::input::Exclude::new(&args.exclude).map_err(anyhow::Error::msg)?;
    if args.label.is_some() && !args.paths.iter().any(|p| p.as_os_str() == "-") {
        anyhow::bail!("--label names stdin: give `-` among the paths to read it");
    }
    refuse_writing_an_input(&args, &exclude)?;
    let config = crate::config::Config::discover(args.config.as_deref())?;
    let dead_allow_globs = match &config {
        Some(c) => crate::catalog::dead_allow_rule_globs(c)?
            .into_iter()
            .map(|(n, glob)| (c.file.clone(), n, glob))
            .collect(),
        None => Vec::new(),
    };
    // `audit -` typed at a terminal waits for a state on the keyboard: say so, rather than look
    // hung (stdin from a pipe or a file says nothing). A closed stderr drops the note. A
    // terminal's line discipline (canonical mode) keeps only the first 4 KiB of a line: a plan's
    // `terraform show -json`, one line, pasted was cut and refused as truncated JSON.
    if !args.quiet
        && args.paths.iter().any(|p| p.as_os_str() == "-")
        && std::io::stdin().is_terminal()
    {
        let _ = writeln!(
            std::io::stderr(),
            "note: reading a state or plan from stdin, which is a terminal: paste it and end with \
             Ctrl-D, or pipe one in (`terraform state pull | state-scrubber audit -`; one-line \
             JSON such as `terraform show -json` must be piped: a terminal cuts a line at 4 KiB)"
        );
    }
    let mut report = audit_excluding(
        &AuditOptions {
            paths: args.paths.clone(),
            fail_on: args.fail_on,
            baseline: args.baseline.clone(),
            jobs,
            progress: !args.quiet,
            s3: crate::s3::S3Options {
                concurrency: args.concurrency.into(),
                all_versions: args.all_versions,
                endpoint: args.endpoint.clone(),
                region: args.region.clone(),
                profile: args.profile.clone(),
                named: Vec::new(),
            },
            config,
            stdin_label: args.label.clone(),
        },
        &exclude,
    )?;
    report.writing_baseline = args.write_baseline.is_some();
    report.include_accepted = args.include_accepted;

    // Once stderr's reader is gone (`audit ... 2>&1 | head -1`), what is left to say is dropped
    // (see [`Gone`]): the report file, the baseline and the exit status still come.
    let mut stderr = Gone::new(std::io::stderr().lock());
    if !args.quiet {
        for note in &report.walk_notes {
            writeln!(stderr, "note: {note}").context("writing to stderr")?;
        }
    }
    if !args.quiet {
        for (file, n, glob) in &dead_allow_globs {
            writeln!(
                stderr,
                "warning: config {}: allow entry {n}: the `rules` glob `{}` matches no rule id a \
                 finding can carry (`state-scrubber rules` lists them): it allows nothing",
                crate::report::printable(file),
                crate::report::printable(glob)
            )
            .context("writing to stderr")?;
        }
    }
    // Not when this run rewrites a baseline: the update drops them.
    if report.stale_baseline_entries > 0 && !args.quiet && args.write_baseline.is_none() {
        let n = report.stale_baseline_entries;
        let file = crate::report::printable(report.baseline_file.as_deref().unwrap_or_default());
        writeln!(
            stderr,
            "note: baseline {file}: {n} entr{} for files read in this run accept{} no finding \
             (the secret is gone, or moved); until removed, such an entry accepts a new secret \
             found at the same place: `--baseline {file} --write-baseline {file}` drops them",
            if n == 1 { "y" } else { "ies" },
            if n == 1 { "s" } else { "" },
        )
        .context("writing to stderr")?;
    }
    for e in report.all_errors() {
        writeln!(
            stderr,
            "error: {}",
            crate::report::printable(&e.to_string())
        )
        .context("writing to stderr")?;
    }
    let excluded = report.files.iter().filter(|f| f.excluded.is_some()).count();
    // A missing path or an unreadable directory already said why nothing was scanned.
    if report.files.len() == excluded && report.errors.is_empty() && !args.quiet {
        // Say so: a CI job pointed at the wrong directory should not pass silently unnoticed.
        writeln!(
            stderr,
            "note: no state, plan or backend cache found (looked for *.tfstate, *.tfstate.backup, saved plans named *tfplan*, .json files with plan or tfstate in the name or state, show or output(s) as a part of it, saved -json streams (*.jsonl), and .terraform/terraform.tfstate{})",
            if excluded > 0 {
                format!(
                    "; {excluded} entr{} left out by --exclude",
                    if excluded == 1 { "y" } else { "ies" }
                )
            } else {
                String::new()
            }
        )
        .context("writing to stderr")?;
    }
    if args.verbose {
        for f in &report.files {
            if let Some(glob) = &f.excluded {
                writeln!(
                    stderr,
                    "excluded {} (--exclude '{}')",
                    crate::report::printable(&f.file),
                    crate::report::printable(glob)
                )
                .context("writing to stderr")?;
                continue;
            }
            let mbps = if f.elapsed.as_secs_f64() > 0.0 {
                f.bytes as f64 / 1e6 / f.elapsed.as_secs_f64()
            } else {
                0.0
            };
            writeln!(
                stderr,
                "scanned {} ({}, {} bytes, {:.1} ms, {:.0} MB/s): {} finding(s){}",
                crate::report::printable(&f.file),
                f.kind.map(|k| k.as_str()).unwrap_or(if f.is_skipped() {
                    "skipped"
                } else {
                    "unreadable"
                }),
                f.bytes,
                f.elapsed.as_secs_f64() * 1e3,
                mbps,
                f.findings.len(),
                if f.error.is_some() { ", error" } else { "" }
            )
            .context("writing to stderr")?;
        }
        if !exclude.is_empty() {
            writeln!(
                stderr,
                "--exclude: {excluded} walked or listed entr{} left out",
                if excluded == 1 { "y" } else { "ies" }
            )
            .context("writing to stderr")?;
        }
    }

    // NO_COLOR: set and not empty (no-color.org); --color always overrides it, as in ripgrep.
    let color = match args.color {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    };
    // `-o /dev/stdout` (or the file stdout is redirected to): the report in --format goes to
    // stdout, once. Printing the text report after it put two reports into one stream (a SARIF
    // file followed by text, no longer SARIF).
    let output = args.output.as_deref().filter(|p| !is_stdout(p));
    let output_is_stdout = args.output.is_some() && output.is_none();
    let on_stdout = match output {
        Some(path) => {
            let mut file = Vec::new();
            let plain = report::text::Style { color: false };
            write_report(&report, args.format, &plain, args.verbose, &mut file)
                .context("rendering the report")?;
            crate::output::write_atomically(path, ".state-scrubber-report-", &file).map_err(
                |e| {
                    anyhow::anyhow!(
                        "writing the report to {}: {}",
                        path.display(),
                        crate::input::io_message(&e)
                    )
                },
            )?;
            (!args.quiet).then_some(Format::Text)
        }
        // Not with --quiet: a text report on stdout is what --quiet leaves out.
        None if args.output.is_none() && args.quiet && args.format == Format::Text => None,
        None => Some(args.format),
    };
    // A failed print (stdout's reader gone, a full disk) is reported once the baseline is
    // written: returning here lost the --write-baseline file of `audit ... | head`.
    let printed = match on_stdout {
        None => Ok(()),
        Some(format) => {
            // A report that is the --output file is plain, as in a file.
            let color = color && !output_is_stdout;
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            match write_report(
                &report,
                format,
                &report::text::Style { color },
                args.verbose,
                &mut stdout,
            )
            .and_then(|()| stdout.flush())
            {
                // Its reader stopped reading (`audit ... | head -1`), as ripgrep does: no error
                // and no message. Not ripgrep's exit 0, which for ripgrep means "matches were
                // found", for state-scrubber "clean": the audit is complete, and the status
                // says what it found (1 for findings at or above --fail-on), so that
                // `set -o pipefail; audit | head` fails on findings as `audit > /dev/null` does.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    // Dropping the BufWriter would try its buffer again.
                    let _ = stdout.into_parts();
                    Ok(())
                }
                r => r.context("writing the report"),
            }
        }
    };
    if let (Some(path), false) = (output, args.quiet) {
        writeln!(
            stderr,
            "wrote report {}",
            crate::report::printable(&crate::input::path_label(path))
        )
        .context("writing to stderr")?;
    }

    if let Some(path) = &args.write_baseline {
        let baseline = match &report.baseline {
            // An update: what the old baseline accepted and is still there stays accepted.
            Some(old) => {
                // Not read: an excluded file or an archived S3 object (any version of it)
                // keeps its entries, like a file not scanned.
                let scanned = crate::audit::FileResult::read_for_baseline(&report.files);
                Baseline::updated(old, &scanned, report.findings(), report.accepted.iter())
            }
            None => Baseline::from_findings(report.findings()),
        };
        baseline.save(path)?;
        if !args.quiet {
            writeln!(
                stderr,
                "wrote baseline {} ({} finding{})",
                crate::report::printable(&crate::input::path_label(path)),
                baseline.findings.len(),
                if baseline.findings.len() == 1 {
                    ""
                } else {
                    "s"
                }
            )
            .context("writing to stderr")?;
        }
    }
    printed?;
    Ok(match report.exit_code() {
        2 => Outcome::Errors,
        1 => Outcome::Findings,
        _ => Outcome::Clean,
    })
}
