//! Arguments and run functions of `scrub` and `restore` (the `Command` enum in `crate::cli`
//! dispatches here).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::ValueEnum;
use offstate_common::store::aws::{AwsSecretsManager, AwsStoreConfig, ConnectError};

use super::interrupt::{self, Stop};
use super::lock::{LineageBusy, LineageLock, StateLock};
use super::pace::Paced;
use super::plan::Selection;
use super::rewrite::{
    check_owner_kept, check_writable, private_target, replace_if_unchanged, write_private,
    ChangedMeanwhile, DirNotWritable, NotPrivate, OwnerNotKept, PrivateTarget, ReadOnly,
    ReplacedButNotDurable, Swap,
};
use super::{
    names, parse_for_scrub, render, restore, scrub_parsed, selects_nothing, signal_name,
    state_not_written, state_written, ScrubError, ScrubOptions, ScrubReport,
};
use crate::cli::{Gone, Outcome};
use crate::finding::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    AwsSecretsmanager,
}

/// Where Secrets Manager is.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// The secret store.
    #[arg(long, value_enum, default_value_t = StoreKind::AwsSecretsmanager)]
    pub store: StoreKind,
    /// AWS region; else AWS_REGION / the profile's region.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Secrets Manager endpoint URL (a local test server, a VPC endpoint); else
    /// AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL, else the region's AWS endpoint.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// AWS shared-config profile; else AWS_PROFILE / default.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

impl StoreArgs {
    /// The store --write and restore call: the SDK's retries, then [`Paced`]'s (a call still
    /// throttled is made again, with fewer calls in flight).
    async fn connect(&self) -> anyhow::Result<Paced<AwsSecretsManager>> {
        Ok(Paced::new(self.connect_with(None).await?, super::IN_FLIGHT))
    }

    /// `max_attempts` per call: the dry run tries once more at most, so that a store it cannot
    /// reach costs it a second, not the retries --write makes.
    async fn connect_with(&self, max_attempts: Option<u32>) -> anyhow::Result<AwsSecretsManager> {
        crate::withhold_credentials();
        AwsSecretsManager::connect(&AwsStoreConfig {
            region: self.region.clone(),
            profile: self.profile.clone(),
            endpoint: self.endpoint.clone(),
            max_attempts,
            ..Default::default()
        })
        .await
        .map_err(|e| match (&e, &self.profile) {
            // Said in the provider's terms (its `profile` argument, not repeated there); --profile
            // is typed on a command line, so it is named.
            (ConnectError::UndefinedProfile, Some(p)) => anyhow::anyhow!(
                "--profile {p:?} is not defined in the shared config and credentials files (~/.aws/config, ~/.aws/credentials, or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE)"
            ),
            // The provider's wording says "region in the configuration"; here it is an option.
            (ConnectError::NoRegion, _) => anyhow::anyhow!(
                "no AWS region: give --region REGION, or set AWS_REGION, or a region in the profile{}",
                match &self.profile {
                    Some(p) => format!(" ({p:?})"),
                    None => " (--profile / AWS_PROFILE, else default)".to_string(),
                }
            ),
            _ => anyhow::Error::new(e),
        })
        .context("connecting to Secrets Manager")
    }
}

#[derive(Debug, clap::Args)]
pub struct ScrubArgs {
    /// The state file; `-` reads stdin and (with --write) writes the new state to stdout, for
    /// `terraform state pull | state-scrubber scrub - --write ... | terraform state push -`
    /// (stdout must not be a terminal: values not selected stay in plaintext).
    #[arg(value_name = "STATE")]
    pub state: PathBuf,
    /// Secret names start with this (`<env>/<service>`): ASCII letters, digits and `/_+=.@-`, no
    /// empty segment, at most 256 characters.
    #[arg(long, value_name = "PREFIX")]
    pub prefix: String,
    /// Store the values and rewrite the state, holding Terraform's lock on the state file (exit
    /// 2 at once while a plan or apply holds it). Without it: a redacted diff, nothing written.
    #[arg(long)]
    pub write: bool,
    /// Content rules to add and findings to leave in place, as `audit --config` reads them.
    /// Default: `.state-scrubber.toml` in the current directory, if there is one.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only these: resource addresses or address prefixes, `ADDRESS.ATTRIBUTE`, or rule ids
    /// (`state-scrubber rules` lists them); one at a time, repeatable (`--only A --only B`). One
    /// that names nothing in the state is exit 2, before anything is stored.
    #[arg(long, value_name = "ADDR|RULE")]
    pub only: Vec<String>,
    /// Not these (same forms as --only, repeatable).
    #[arg(long, value_name = "ADDR|RULE")]
    pub exclude: Vec<String>,
    /// Ignore findings below this severity: low, medium, high, critical.
    #[arg(long, value_name = "SEVERITY", default_value = "low")]
    pub min_severity: Severity,
    /// Also write the plaintext original to FILE (mode 0600), once the state was replaced (not
    /// when the write is refused).
    #[arg(long, value_name = "FILE")]
    pub backup: Option<PathBuf>,
    /// Secret name template; placeholders {prefix} {module} {resource} {type} {name} {key}
    /// {attribute} {lineage}.
    #[arg(long, value_name = "TEMPLATE", default_value = names::DEFAULT_TEMPLATE)]
    pub name_template: String,
    /// KMS key for every secret scrub creates (the manifest too): key id, key ARN, alias/NAME or
    /// alias ARN. Default: the AWS managed key aws/secretsmanager. A secret that already exists
    /// (a re-run) must already use it; scrub does not change the key of a secret.
    #[arg(long, value_name = "KEY")]
    pub kms_key_id: Option<String>,
    /// A tag for every secret scrub creates, besides its own offstate:* tags; repeatable. An
    /// existing secret of this state gets the tags it lacks.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `KEY=VALUE` (the value may be empty, or hold `=`). The rest is checked with the other
/// options, before anything is stored ([`super::secret_settings`]).
fn parse_tag(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err("expected KEY=VALUE with a non-empty KEY".to_string()),
    }
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The scrubbed state file; `-` reads stdin and (with --write) writes to stdout, which must
    /// not be a terminal (the restored state holds the values in plaintext).
    #[arg(value_name = "STATE")]
    pub state: PathBuf,
    /// The prefix the scrub used (its manifest lives under it).
    #[arg(long, value_name = "PREFIX")]
    pub prefix: String,
    /// Rewrite the state, holding Terraform's lock on the state file. Without it: what would be
    /// restored (lengths only).
    #[arg(long)]
    pub write: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

fn is_stdin(p: &Path) -> bool {
    p.as_os_str() == "-"
}

/// The state: from the lock's descriptor when there is one (with a classic POSIX lock, opening
/// and closing the file again would drop it), else from the file or stdin.
fn read_input(p: &Path, lock: Option<&mut StateLock>) -> anyhow::Result<(Vec<u8>, String)> {
    if let Some(lock) = lock {
        let b = lock
            .read()
            .with_context(|| format!("reading {}", p.display()))?;
        Ok((b, p.display().to_string()))
    } else if is_stdin(p) {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading the state from stdin")?;
        Ok((buf, "(stdin)".into()))
    } else {
        let b = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        Ok((b, p.display().to_string()))
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// The report goes to stdout, unless stdout carries the state (pipeline mode).
///
/// `scrub --write | head -1`: once the reader of the report (or of stderr) is gone, the rest is
/// dropped without an error (see [`Gone`]) and the run goes on: the values stored are written
/// into the state and the manifest keeps its entries, with the exit status the run would have
/// had. Failing here instead returned before the state was written, and took this scrub's
/// entries out of the manifest again, leaving values in Secrets Manager that neither the state
/// nor the manifest named (restore, exit 2 before anything was written, the same). Other write
/// errors (a full disk behind a redirection) stay errors. The state printed in the pipeline
/// form is not said here: its reader gone is an error ([`emit_state`]).
fn say(pipeline: bool, text: &str) -> anyhow::Result<()> {
    // Addresses, JSON paths and file names come from the input (see report::printable).
    let text = crate::report::printable_lines(text);
    if pipeline {
        let mut e = Gone::new(std::io::stderr().lock());
        e.write_all(text.as_bytes()).context("writing to stderr")?;
    } else {
        let mut o = Gone::new(std::io::stdout().lock());
        o.write_all(text.as_bytes()).context("writing to stdout")?;
        o.flush().context("writing to stdout")?;
    }
    Ok(())
}

/// Print the state (pipeline mode) or replace the file, which `lock` holds, provided it still
/// holds `read` (the bytes this run started from) and is still the file at `path`. `after` says
/// what is already done elsewhere, for the message when the file changed meanwhile; `refused`
/// runs when the file was left as it was (changed meanwhile, or read-only) and gives more of
/// that message.
fn emit_state(
    path: &Path,
    lock: Option<&mut StateLock>,
    read: &[u8],
    bytes: &[u8],
    after: &str,
    refused: &mut dyn FnMut() -> String,
) -> anyhow::Result<()> {
    if is_stdin(path) {
        let mut o = std::io::stdout().lock();
        if let Err(e) = o.write_all(bytes).and_then(|()| o.flush()) {
            // The reader (`terraform state push -`) went away, stopped by the same Ctrl-C or
            // failed: it did not get the whole state, and a cut one is not JSON it would push.
            drop(o);
            anyhow::bail!(
                "writing the state to stdout failed ({e}): its reader did not get it whole, so it \
                 pushed nothing; {after}{}: run the command again",
                refused()
            );
        }
    } else {
        let lock = lock.expect("a state file is written only under its lock");
        // A second SIGINT/SIGTERM exits only once the old file is overwritten (or the temporary
        // file removed): see `interrupt::replacing`.
        let replacing = interrupt::replacing();
        let replaced = replace_if_unchanged(path, bytes, &mut Locked { lock, read });
        drop(replacing);
        match replaced {
            Ok(()) => {}
            Err(e) if e.get_ref().is_some_and(|i| i.is::<ChangedMeanwhile>()) => {
                anyhow::bail!(
                    "{}: {ChangedMeanwhile}; {after}{}: run the command again on the new state",
                    path.display(),
                    refused()
                )
            }
            Err(e) if e.get_ref().is_some_and(|i| i.is::<ReadOnly>()) => {
                anyhow::bail!(
                    "{}: {e}; {after}{}. Make it writable (`chmod u+w`) and run the command again",
                    path.display(),
                    refused()
                )
            }
            Err(e) if e.get_ref().is_some_and(|i| i.is::<OwnerNotKept>()) => {
                anyhow::bail!(
                    "{}: {e}; {after}{}. Run the command again as the file's owner (or root)",
                    path.display(),
                    refused()
                )
            }
            // The rename was done: the new state is in place, and what was recorded for it
            // stays.
            Err(e) if e.get_ref().is_some_and(|i| i.is::<ReplacedButNotDurable>()) => {
                return Err(e).with_context(|| format!("writing {}", path.display()))
            }
            // Any other failure came before the rename (the temporary file could not be
            // written: a full disk, a file size limit, an I/O error; the rename refused): the
            // state is the old one, and `refused` says so and takes back what was recorded for
            // the new one.
            Err(e) => {
                anyhow::bail!(
                    "{}: writing the new state failed ({e}), and the file was left as it was; {after}{}: run the command again",
                    path.display(),
                    refused()
                )
            }
        }
    }
    Ok(())
}

/// The compare-and-swap of a locked state file: still the file at the path, with the bytes read;
/// the lock told at once when the rename is done.
struct Locked<'a> {
    lock: &'a mut StateLock,
    read: &'a [u8],
}

impl Swap for Locked<'_> {
    /// Also that `target`, the file the rename replaces, is the locked one: a state given as a
    /// link is resolved when the write begins, and a link retargeted meanwhile (to a file root
    /// may write, say) and set back before this check had the rename replace the file it
    /// pointed to for that moment, with the state's text and that file's owner and mode.
    fn unchanged(&mut self, target: &Path) -> std::io::Result<bool> {
        Ok(
            self.lock.still_at_path()?
                && self.lock.is_at(target)?
                && self.lock.read()? == self.read,
        )
    }
    fn replaced(&mut self) {
        self.lock.replaced();
    }
}

/// `--write` on a file this process may not write ([`check_writable`]): refused before the
/// store is contacted. A rename would replace it anyway; Terraform's local backend would not
/// write it. Root may write a file of mode 0444, as Terraform run as root does.
fn refuse_read_only(path: &Path, command: &str, what: &str) -> anyhow::Result<()> {
    match check_writable(path) {
        Ok(()) => Ok(()),
        Err(e) if e.get_ref().is_some_and(|i| i.is::<ReadOnly>()) => anyhow::bail!(
            "{p}: --write would replace this file, and it is read-only{mode}; nothing was {what}. \
             If it is meant to change, make it writable (`chmod u+w {p}`) and run again; to leave it \
             as it is, write the result elsewhere (`state-scrubber {command} - --write ... < {p} > NEW`)",
            p = path.display(),
            mode = e
                .get_ref()
                .and_then(|i| i.downcast_ref::<ReadOnly>())
                .and_then(|r| r.mode)
                .map(|m| format!(" (mode {m:o})"))
                .unwrap_or_default(),
        ),
        Err(e) => Err(e).with_context(|| format!("reading the permissions of {}", path.display())),
    }
}

/// `--write` on a file whose owner or group the new file could not be given (not root, or not
/// in its group): refused before the store is contacted. The rename would leave the state
/// owned by whoever ran the command, and its owner, running Terraform, possibly unable to read
/// it.
fn refuse_foreign_owner(path: &Path, command: &str, what: &str) -> anyhow::Result<()> {
    match check_owner_kept(path) {
        Ok(()) => Ok(()),
        Err(e) => match e.get_ref().and_then(|i| i.downcast_ref::<OwnerNotKept>()) {
            Some(o) => anyhow::bail!(
                "{p}: --write would replace this file with one owned by this user, and it is owned by uid {uid}, gid {gid}, \
                 which a file written here cannot be given (that takes root, or for the group, membership in it); nothing was {what}. \
                 Run the command as the file's owner (or root), or write the result elsewhere \
                 (`state-scrubber {command} - --write ... < {p} > NEW`)",
                p = path.display(),
                uid = o.uid,
                gid = o.gid,
            ),
            None if e.get_ref().is_some_and(|i| i.is::<DirNotWritable>()) => anyhow::bail!(
                "{}: --write would replace this file, and {e}; nothing was {what}. Run the command as \
                 a user who may write there, or write the result elsewhere (`state-scrubber {command} - --write ... < {} > NEW`)",
                path.display(),
                path.display(),
            ),
            None => Err(e).with_context(|| {
                format!(
                    "checking that a file replacing {} can keep its owner",
                    path.display()
                )
            }),
        },
    }
}

/// [`LineageLock`] of the state's lineage under `prefix`, before Secrets Manager is read; `None`
/// when the state has no lineage to read (scrub then refuses it with the reason). While another
/// scrub of the lineage holds it, waits (saying so once on stderr) until it ends, or until
/// SIGINT/SIGTERM: `Err(signal)`, nothing done yet.
fn lock_lineage(
    prefix: &str,
    src: &[u8],
    label: &str,
    stop: &Stop,
) -> anyhow::Result<Result<Option<LineageLock>, i32>> {
    #[derive(serde::Deserialize)]
    struct Head {
        lineage: Option<serde_json::Value>,
    }
    let Some(lineage) = serde_json::from_slice::<Head>(src)
        .ok()
        .and_then(|h| h.lineage)
        .and_then(|l| l.as_str().map(str::to_string))
        .filter(|l| !l.is_empty())
    else {
        return Ok(Ok(None));
    };
    let prefix = prefix.trim_end_matches('/');
    let mut said = false;
    loop {
        match LineageLock::acquire(prefix, &lineage) {
            Ok(l) => return Ok(Ok(Some(l))),
            Err(e) => match e.get_ref().and_then(|i| i.downcast_ref::<LineageBusy>()) {
                Some(busy) => {
                    if !said {
                        say(
                            true,
                            &format!(
                                "note: {label}: waiting: {busy}; both read and write the same manifest and secrets, so this one starts when that one ends (Ctrl-C stops it, with nothing stored)\n"
                            ),
                        )?;
                        said = true;
                    }
                }
                None => {
                    return Err(e).with_context(|| {
                        format!(
                            "{label}: locking {} (one scrub of a lineage under a prefix at a time)",
                            LineageLock::path(prefix, &lineage).display()
                        )
                    })
                }
            },
        }
        for _ in 0..10 {
            if let Some(signal) = stop.requested() {
                return Ok(Err(signal));
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

pub fn run_scrub(args: ScrubArgs) -> anyhow::Result<Outcome> {
    let pipeline = is_stdin(&args.state);
    if pipeline && args.write && std::io::stdout().is_terminal() {
        // The state on stdout is the original when nothing is selected, and holds every value
        // left out by --only/--exclude/--min-severity: plaintext, as with `restore`.
        anyhow::bail!(
            "scrub - --write prints the state on stdout, and stdout is a terminal; values not \
             scrubbed would show in plaintext: pipe it (`| terraform state push -`) or redirect it to a file"
        );
    }
    // Before the state is locked or read: a bad configuration changes nothing.
    let config = crate::config::Config::discover(args.config.as_deref())?;
    let mut lock = None;
    // Before the lock: a signal between the lock and the handler would leave the lock info.
    let stop = if args.write {
        interrupt::install("scrub --write").context("catching SIGINT and SIGTERM")?
    } else {
        Stop::default()
    };
    if args.write && !pipeline {
        refuse_read_only(&args.state, "scrub", "stored or written")?;
        refuse_foreign_owner(&args.state, "scrub", "stored or written")?;
        lock = Some(StateLock::acquire(
            &args.state,
            "state-scrubber scrub",
            "stored or written",
        )?);
    }
    if let (Some(b), false) = (&args.backup, pipeline) {
        // The backup is written after the state: naming the state itself would put the
        // plaintext back in its place.
        if same_file(b, &args.state) {
            anyhow::bail!(
                "--backup {} is the state file itself; give the plaintext copy another name",
                b.display()
            );
        }
    }
    if let (Some(b), true) = (&args.backup, pipeline) {
        // `scrub - --write` prints the scrubbed state on stdout: the plaintext copy there
        // (`--backup /dev/stdout`, or the file stdout is redirected to) went into it.
        if is_stdout(b) {
            anyhow::bail!(
                "--backup {} is stdout, where `scrub - --write` prints the scrubbed state: the plaintext copy would be written into it; give the copy a file of its own. Nothing was stored or written",
                crate::input::path_label(b)
            );
        }
    }
    if let Some(b) = &args.backup {
        check_backup(b)?;
    }
    let busy = held_during_dry_run(&args.state, args.write, pipeline);
    let (src, label) = read_input(&args.state, lock.as_mut())?;
    // Until the state is written or the run ends: one scrub of this lineage under this prefix.
    let _lineage_lock = if args.write {
        match lock_lineage(&args.prefix, &src, &label, &stop)? {
            Ok(l) => l,
            Err(signal) => stopped(
                lock.take(),
                signal,
                &format!(
                    "{label}: stopped by {} while waiting for another scrub of its lineage: nothing was stored{}",
                    signal_name(signal),
                    if pipeline { NOTHING_PRINTED } else { " and the state file is as it was" }
                ),
            ),
        }
    } else {
        None
    };
    let opts = ScrubOptions {
        prefix: args.prefix.clone(),
        name_template: args.name_template.clone(),
        selection: Selection {
            only: args.only.clone(),
            exclude: args.exclude.clone(),
            min_severity: args.min_severity,
        },
        write: args.write,
        kms_key_id: args.kms_key_id.clone(),
        tags: args.tags.clone(),
        stop: stop.clone(),
        config,
    };
    let rt = runtime()?;
    let ran = rt.block_on(async {
        if args.write {
            // Before connecting: what the state or the options make scrub refuse (an --only
            // naming nothing in the state) is said without a region or credentials.
            let parsed = parse_for_scrub(&src, &label, &opts)?;
            // Nothing selected to move: "nothing to scrub" without a region or credentials, as
            // restore with nothing to restore.
            if selects_nothing(&parsed, &label, &opts)? {
                let report = scrub_parsed(&src, &label, &opts, None, &parsed).await?;
                return Ok((report, None));
            }
            // The manifest's save is not raced with a stop request: its backoffs end at one.
            // Named like the other errors: the state file the run was for.
            let store = args
                .store
                .connect()
                .await
                .with_context(|| label.to_string())?
                .with_stop(opts.stop.clone());
            let report = scrub_parsed(&src, &label, &opts, Some(&store), &parsed).await?;
            Ok::<_, anyhow::Error>((report, Some(store)))
        } else {
            Ok((dry_run(&src, &label, &opts, &args.store).await?, None))
        }
    });
    let (mut report, store) = match ran {
        Ok(r) => r,
        Err(e) => match e.downcast_ref::<ScrubError>() {
            Some(ScrubError::Interrupted { signal, .. }) => {
                let signal = *signal;
                let printed = if pipeline { NOTHING_PRINTED } else { "" };
                stopped(lock.take(), signal, &format!("{e}{printed}"))
            }
            // A state read while Terraform wrote it may be cut short.
            _ => {
                return Err(match busy {
                    Some(b) => e.context(b),
                    None => e,
                })
            }
        },
    };
    if let Some(b) = busy {
        report.notes.insert(0, b);
    }
    // From here until the state is written, a failure (stdout that takes nothing) leaves the
    // state as it was: this scrub's manifest entries go again, as when the write is refused.
    let undo_on_error = |r: anyhow::Result<()>, report: &ScrubReport| {
        r.map_err(|e| match &store {
            Some(s) if report.manifest_change.is_some() => {
                let undone = undo_message(rt.block_on(state_not_written(s, report)), report);
                e.context(format!(
                    "{label}: the scrubbed state was not written{undone}; the values are in Secrets Manager already, and a re-run finds them there"
                ))
            }
            _ => e,
        })
    };
    undo_on_error(say(pipeline, &render(&report)), &report)?;
    if !pipeline && !report.items.is_empty() {
        // Terraform's local backend keeps the state before its last write next to it; that copy
        // holds the same values in plaintext until the next write replaces it.
        let mut b = args.state.clone().into_os_string();
        b.push(".backup");
        let b = PathBuf::from(b);
        if b.is_file() {
            let said = say(
                false,
                &format!(
                    "note: {} (Terraform's previous state) still holds plaintext values: scrub it too with the same --prefix, or delete it once this state is proven\n",
                    b.display()
                ),
            );
            undo_on_error(said, &report)?;
        }
    }
    if !args.write {
        // What --write would stop with, before storing anything: the same error, exit 2.
        return match report.refused.take() {
            Some(refused) => Err(refused.into()),
            None => Ok(Outcome::Clean),
        };
    }
    let Some(out) = &report.output else {
        if pipeline {
            // Nothing changed: pass the state through so the pipeline pushes it unchanged.
            emit_state(
                &args.state,
                None,
                &src,
                &src,
                "nothing was stored",
                &mut String::new,
            )?;
        }
        if let Some(signal) = stop.requested() {
            // Nothing to stop: it still ends by the signal, so that a script running it stops too.
            stopped(
                lock.take(),
                signal,
                &format!(
                    "{label}: {} received: there was nothing to scrub; nothing was stored and the state is unchanged",
                    signal_name(signal)
                ),
            );
        }
        return Ok(Outcome::Clean);
    };
    let store = store.as_ref().expect("--write connects to the store");
    if let Some(signal) = stop.requested() {
        // Stopped after every value was stored, before the state was replaced.
        let undone = undo_message(rt.block_on(state_not_written(store, &report)), &report);
        let names: Vec<&str> = report
            .items
            .iter()
            .map(|i| i.secret_name.as_str())
            .collect();
        stopped(
            lock.take(),
            signal,
            &format!(
                "{label}: stopped by {} before the state was written: {}{undone}. The values are in Secrets Manager ({}); run the same command again: it finds them there and stores nothing twice",
                signal_name(signal),
                if pipeline {
                    NOTHING_PRINTED.trim_start_matches(' ')
                } else {
                    "the state file is as it was"
                },
                names.join(", ")
            ),
        );
    }
    // The state file was left as it was: this scrub's manifest entries go again (they name a
    // serial it did not write), and no --backup is written (it would be a plaintext copy of a
    // superseded state).
    let mut refused = || {
        let undone = undo_message(rt.block_on(state_not_written(store, &report)), &report);
        let backup = match &args.backup {
            Some(b) => format!("; no --backup was written ({} is untouched)", b.display()),
            None => String::new(),
        };
        format!("{undone}{backup}")
    };
    let emitted = emit_state(
        &args.state,
        lock.as_mut(),
        &src,
        out,
        "every value is in Secrets Manager already, and a re-run finds it there",
        &mut refused,
    );
    if let (Err(e), Some(signal)) = (&emitted, stop.requested()) {
        // The same Ctrl-C stopped the reader of the pipeline form.
        stopped(lock.take(), signal, &format!("{label}: {e:#}"));
    }
    emitted?;
    if !pipeline {
        say(
            false,
            &format!(
                "wrote {} (serial {} -> {})\n",
                label, report.serial_before, report.serial_after
            ),
        )?;
    }
    if let Some(signal) = stop.requested() {
        let pages = report
            .manifest_change
            .as_ref()
            .map(super::store::stale_pages)
            .unwrap_or_default();
        let mut not_done = Vec::new();
        if !pages.is_empty() {
            not_done.push(format!(
                "manifest pages no longer used were not deleted ({}; a later scrub of this lineage deletes them, or `aws secretsmanager delete-secret --force-delete-without-recovery`)",
                pages.join(", ")
            ));
        }
        if let Some(b) = &args.backup {
            not_done.push(format!(
                "no --backup was written ({} is untouched)",
                b.display()
            ));
        }
        let rest = if not_done.is_empty() {
            String::new()
        } else {
            format!("; not done: {}", not_done.join("; "))
        };
        stopped(
            lock.take(),
            signal,
            &format!(
                "{label}: stopped by {} after the scrubbed state was written (serial {} -> {}){rest}",
                signal_name(signal),
                report.serial_before,
                report.serial_after
            ),
        );
    }
    let warnings = rt.block_on(state_written(store, &report));
    warn_all(&warnings)?;
    // Only now that the state holds the references: a plaintext copy of the state it replaced.
    let backup = match &args.backup {
        None => Ok(None),
        Some(b) => write_private(b, &src).map(|()| Some(b)).with_context(|| {
            format!(
                "writing backup {} (the scrubbed state is written; `state-scrubber restore` gives the plaintext back)",
                b.display()
            )
        }),
    };
    let wrote_backup = |b: &Path| {
        // A pipe, a device or /dev/stdout is written to as it is, its mode left alone (see
        // `write_private`).
        let file = matches!(private_target(b), Ok(PrivateTarget::File));
        format!(
            "wrote plaintext backup {}{}: it holds the secrets; delete it once the scrubbed state is proven",
            b.display(),
            if file { " (mode 0600)" } else { "" }
        )
    };
    if let Some(signal) = stop.requested() {
        // It came after the last point to stop at: the run went on to its end, and still ends by
        // the signal, so that a script running it stops too.
        let done = match &backup {
            Ok(Some(b)) => format!("; {}", wrote_backup(b)),
            Ok(None) => String::new(),
            Err(e) => format!("; {e:#}"),
        };
        stopped(
            lock.take(),
            signal,
            &format!(
                "{label}: {} came too late to stop at: the scrubbed state was written (serial {} -> {}) and the run finished{done}",
                signal_name(signal),
                report.serial_before,
                report.serial_after
            ),
        );
    }
    if let Some(b) = backup? {
        say(pipeline, &format!("{}\n", wrote_backup(b)))?;
    }
    Ok(Outcome::Clean)
}

/// How long a dry run spends reading Secrets Manager, in all (credentials, the manifest, each
/// value's secret described, the current values of an older state), before it shows the plan
/// without what it read: 10 s, and a quarter of a second more per value, 60 s at most.
fn dry_run_read_limit(values: usize) -> std::time::Duration {
    let per_value = std::time::Duration::from_millis(250)
        .saturating_mul(u32::try_from(values).unwrap_or(u32::MAX));
    (std::time::Duration::from_secs(10).saturating_add(per_value))
        .min(std::time::Duration::from_secs(60))
}

/// A dry run: the plan, then, when there is something to scrub, the same again with Secrets
/// Manager to read (metadata, and an older state's current values; [`super::place`], as
/// --write), so that the names shown are the ones --write would use (an older state's values go
/// under names of their own), and every secret --write would refuse to write to (another
/// state's or nobody's, scheduled for deletion, another KMS key or one scrub cannot tell from
/// `--kms-key-id`) is named with what to do: the report then carries the error --write would
/// stop with ([`ScrubReport::refused`]), which the caller prints after the plan, exit 2. A
/// manifest --write cannot read is that error at once. Nothing is written.
///
/// When Secrets Manager cannot be read (no answer within [`dry_run_read_limit`], no
/// credentials, access denied, throttled, ...): the plan without it, and a note saying what that
/// leaves unchecked, exit 0. --write makes the same checks before its first store and stops
/// there, so nothing is stored by a --write that a dry run would have shown refused.
async fn dry_run(
    src: &[u8],
    label: &str,
    opts: &ScrubOptions,
    store: &StoreArgs,
) -> anyhow::Result<ScrubReport> {
    // Scanned once, planned twice.
    let parsed = parse_for_scrub(src, label, opts)?;
    let offline = scrub_parsed(src, label, opts, None, &parsed).await?;
    if offline.items.is_empty() {
        return Ok(offline);
    }
    let read = async {
        let store = store.connect_with(Some(2)).await?;
        Ok::<_, anyhow::Error>(scrub_parsed(src, label, opts, Some(&store), &parsed).await?)
    };
    // A store that answers nothing (a proxy or endpoint that accepts and stalls) would otherwise
    // hold the dry run for two attempts of 30 s each per read, before it printed anything.
    let limit = dry_run_read_limit(offline.items.len());
    let read = async {
        match tokio::time::timeout(limit, read).await {
            Ok(r) => r,
            Err(_) => Err(anyhow::anyhow!(
                "no answer within {:.1} s, the limit of a dry run's reads",
                limit.as_secs_f64()
            )),
        }
    };
    match read.await {
        Ok(report) => Ok(report),
        // A verdict, not a failure to read: what --write stops with.
        Err(e)
            if e.downcast_ref::<ScrubError>()
                .is_some_and(ScrubError::is_refusal) =>
        {
            Err(e)
        }
        Err(e) => {
            let mut report = offline;
            // Before the note saying what that leaves unknown (the last one).
            let at = report.notes.len().saturating_sub(1);
            report.notes.insert(at, format!(
                "reading Secrets Manager failed ({e:#}), so this dry run could not check the names against what is stored, nor the secrets already there that --write would write to (their owner tag, a deletion scheduled, their KMS key): --write checks each of them before it stores any value, and stores nothing if one refuses"
            ));
            Ok(report)
        }
    }
}

/// What a stop before the state was written means for the pipeline form (`scrub - --write`).
const NOTHING_PRINTED: &str = " (in the pipeline form: no state was printed on stdout, so a `terraform state push -` reading it gets none and changes nothing)";

/// Stopped by `signal` (SIGINT, SIGTERM) at a safe point: say what was done and what was not
/// (secret names, never a value), let go of the lock (its info file goes), end by the signal
/// (the shell shows 128 + signal).
fn stopped(lock: Option<StateLock>, signal: i32, message: &str) -> ! {
    drop(lock);
    let message = format!("error: {message}\n");
    let text = crate::report::printable_lines(&message);
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    interrupt::die_of(signal)
}

/// The end of the message when the state write was refused, after [`state_not_written`].
fn undo_message(undone: Result<Vec<String>, super::ScrubError>, report: &ScrubReport) -> String {
    match undone {
        Ok(warnings) => {
            let _ = warn_all(&warnings);
            "; this scrub's entries were taken out of the manifest again".to_string()
        }
        Err(e) => format!(
            "; taking this scrub's entries out of the manifest again failed ({e}): they name serial {} of a state this scrub did not write, so scrub the new state before restoring one of that serial",
            report.serial_after
        ),
    }
}

/// Warnings after the fact (manifest pages left behind): on stderr, as `warning: ...`.
fn warn_all(warnings: &[String]) -> anyhow::Result<()> {
    if warnings.is_empty() {
        return Ok(());
    }
    let text: String = warnings.iter().map(|w| format!("warning: {w}\n")).collect();
    let text = crate::report::printable_lines(&text);
    Gone::new(std::io::stderr().lock())
        .write_all(text.as_bytes())
        .context("writing to stderr")
}

/// `--backup` that cannot be written, refused before anything is stored: the backup is written
/// last, once the state is replaced, and a directory, a missing directory or one this user may
/// not write to made the run exit 2 there, the values stored and the state rewritten, without
/// the plaintext copy it was asked for. A character device or a FIFO is written to, as a file.
fn check_backup(b: &Path) -> anyhow::Result<()> {
    let shown = || crate::input::path_label(b);
    let refused = |why: String| {
        anyhow::anyhow!(
            "--backup {}: {why}; nothing was stored or written. Give a file name in a directory this user may write to",
            shown()
        )
    };
    // `-` reads as stdout but is a file of that name, a plaintext copy left in the working
    // directory (a repository) where none was expected.
    if b == Path::new("-") {
        return Err(refused(
            "`-` here is a file named `-`, not stdout; give /dev/stdout to write the copy there"
                .into(),
        ));
    }
    if std::fs::metadata(b).is_ok_and(|m| m.is_dir()) {
        return Err(refused("a directory".into()));
    }
    match private_target(b) {
        Ok(PrivateTarget::Stream) => {
            return match check_writable(b) {
                Ok(()) => Ok(()),
                Err(e) if e.get_ref().is_some_and(|i| i.is::<ReadOnly>()) => {
                    Err(refused("a file this user may not write to".into()))
                }
                Err(e) => Err(refused(crate::input::io_message(&e))),
            };
        }
        Ok(PrivateTarget::File) => {}
        Err(e) => match e.get_ref().and_then(|i| i.downcast_ref::<NotPrivate>()) {
            Some(why) => return Err(refused(why.to_string())),
            None => return Err(refused(crate::input::io_message(&e))),
        },
    }
    // A file there is removed and a new one made in its place (see `write_private`): the
    // directory must take it, and a file another user owns is theirs to remove (in a sticky
    // directory such as /tmp, only they may), which root could, but it is no place for a
    // plaintext copy either way.
    #[cfg(unix)]
    if let Ok(m) = std::fs::symlink_metadata(b) {
        use std::os::unix::fs::MetadataExt as _;
        // SAFETY: geteuid takes nothing and cannot fail.
        let me = unsafe { libc::geteuid() };
        if m.uid() != me {
            return Err(refused(format!(
                "it is owned by uid {}, another user; a plaintext copy is written only over a file of this user's",
                m.uid()
            )));
        }
    }
    let dir = crate::output::directory_of(b);
    let at_dir = |why: String| refused(format!("{}: {why}", crate::input::path_label(dir)));
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(at_dir("not a directory".into())),
        Err(e) => return Err(at_dir(crate::input::io_message(&e))),
    }
    match check_writable(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.get_ref().is_some_and(|i| i.is::<ReadOnly>()) => {
            Err(at_dir("a directory this user may not write to".into()))
        }
        Err(e) => Err(at_dir(crate::input::io_message(&e))),
    }
}

/// Whether `b` is what this process's stdout is open on (`/dev/stdout`, `/dev/fd/1`, the file
/// it is redirected to, the same pipe).
fn is_stdout(b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        use std::os::unix::fs::MetadataExt;
        let out = std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map(std::fs::File::from)
            .and_then(|f| f.metadata());
        match (out, std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = b;
        false
    }
}

/// Whether `a` and `b` name the same existing file (through links too).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
    }
}

/// A dry run takes no lock (it would make a `terraform plan` or `apply` started meanwhile fail to
/// take its own); it says when a plan or apply holds the state it reads, which Terraform may be
/// rewriting in place. `None` for `--write` (it takes the lock) and the pipeline form.
fn held_during_dry_run(state: &Path, write: bool, pipeline: bool) -> Option<String> {
    if write || pipeline {
        return None;
    }
    super::lock::held_by_other(state).map(|holder| {
        format!(
            "{} is locked by another process{}: a plan or apply may be rewriting it. This dry run took no lock (it would make a Terraform run started meanwhile fail to take its own) and read the state as it was at that moment; --write refuses while the lock is held. Run the dry run again once that process has finished",
            state.display(),
            holder
                .map(|h| format!(" (lock info: {h})"))
                .unwrap_or_default()
        )
    })
}

pub fn run_restore(args: RestoreArgs) -> anyhow::Result<Outcome> {
    let pipeline = is_stdin(&args.state);
    if pipeline && args.write && std::io::stdout().is_terminal() {
        // The restored state holds every value in plaintext: never onto a screen (and its
        // scrollback) by accident.
        anyhow::bail!(
            "restore - --write prints the restored state, values in plaintext, on stdout, and stdout is a terminal; \
             pipe it (`| terraform state push -`) or redirect it to a file"
        );
    }
    let mut lock = None;
    let stop = if args.write {
        interrupt::install("restore --write").context("catching SIGINT and SIGTERM")?
    } else {
        Stop::default()
    };
    if args.write && !pipeline {
        refuse_read_only(&args.state, "restore", "restored")?;
        refuse_foreign_owner(&args.state, "restore", "restored")?;
        lock = Some(StateLock::acquire(
            &args.state,
            "state-scrubber restore",
            "restored",
        )?);
    }
    let busy = held_during_dry_run(&args.state, args.write, pipeline);
    let with_busy = |e: anyhow::Error| match &busy {
        // A state read while Terraform wrote it may be cut short.
        Some(b) => e.context(b.clone()),
        None => e,
    };
    let (src, label) = read_input(&args.state, lock.as_mut()).map_err(with_busy)?;
    let rt = runtime()?;
    // Nothing to put back, told from the state: said without contacting Secrets Manager. restore
    // only reads Secrets Manager: a stop request cuts it short anywhere.
    let report = rt
        .block_on(async {
            tokio::select! {
                r = restore::restore_connecting(&src, &label, &args.prefix, args.write, || {
                    args.store.connect()
                }) => r.map(Some),
                _ = stop.wait() => Ok(None),
            }
        })
        .map_err(with_busy)?;
    let restore_stopped = |lock: Option<StateLock>, signal| -> ! {
        stopped(
            lock,
            signal,
            &format!(
                "{label}: stopped by {} before the state was written: the state file is as it was; restore writes nothing to Secrets Manager. Run the same command again",
                signal_name(signal)
            ),
        )
    };
    let Some(report) = report else {
        let signal = stop.requested().unwrap_or(libc::SIGINT);
        restore_stopped(lock.take(), signal)
    };
    if let Some(b) = &busy {
        say(pipeline, &format!("note: {b}\n"))?;
    }
    say(pipeline, &restore::render(&report))?;
    if !args.write {
        return Ok(Outcome::Clean);
    }
    if let Some(signal) = stop.requested() {
        restore_stopped(lock.take(), signal)
    }
    let emitted = match &report.output {
        Some(out) => emit_state(
            &args.state,
            lock.as_mut(),
            &src,
            out,
            "nothing was restored",
            &mut String::new,
        ),
        None if pipeline => emit_state(
            &args.state,
            None,
            &src,
            &src,
            "nothing was restored",
            &mut String::new,
        ),
        None => Ok(()),
    };
    if let (Err(e), Some(signal)) = (&emitted, stop.requested()) {
        // The same Ctrl-C stopped the reader of the pipeline form.
        stopped(lock.take(), signal, &format!("{label}: {e:#}"));
    }
    emitted?;
    if report.output.is_some() && !pipeline {
        say(
            false,
            &format!(
                "wrote {} (serial {} -> {})\n",
                label, report.serial_before, report.serial_after
            ),
        )?;
    }
    if let Some(signal) = stop.requested() {
        // It came while the state was being written, too late to stop at: the run finished, and
        // still ends by the signal, so that a script running it stops too.
        stopped(
            lock.take(),
            signal,
            &format!(
                "{label}: {} came too late to stop at: the run finished",
                signal_name(signal)
            ),
        );
    }
    Ok(Outcome::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state given as a link (`terraform.tfstate -> ../shared/a.tfstate`) that whoever owns
    /// the link retargets while the write begins (to a file root may write), and sets back
    /// before the compare-and-swap: the rename replaced the file the link led to at the start
    /// of the write. Now the file the rename replaces must be the locked one, and none is.
    #[cfg(unix)]
    #[test]
    fn a_link_retargeted_during_the_write_replaces_nothing() {
        struct Attacker<'a> {
            locked: Locked<'a>,
            link: &'a Path,
            back_to: &'a Path,
        }
        impl Swap for Attacker<'_> {
            fn unchanged(&mut self, target: &Path) -> std::io::Result<bool> {
                // The link set back to the state just before the check.
                std::fs::remove_file(self.link)?;
                std::os::unix::fs::symlink(self.back_to, self.link)?;
                self.locked.unchanged(target)
            }
            fn replaced(&mut self) {
                self.locked.replaced();
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let (state, victim, link) = (
            dir.path().join("a.tfstate"),
            dir.path().join("victim"),
            dir.path().join("terraform.tfstate"),
        );
        std::fs::write(&state, b"{\"serial\": 1}").unwrap();
        std::fs::write(&victim, b"untouched").unwrap();
        std::os::unix::fs::symlink(&state, &link).unwrap();
        let mut lock = StateLock::acquire(&link, "state-scrubber scrub", "written").unwrap();
        let read = lock.read().unwrap();
        // Retargeted once the lock is taken.
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let mut swap = Attacker {
            locked: Locked {
                lock: &mut lock,
                read: &read,
            },
            link: &link,
            back_to: &state,
        };
        let r = replace_if_unchanged(&link, b"{\"serial\": 2}", &mut swap);
        assert!(r.is_err(), "the rename replaced a file");
        assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");
        assert_eq!(std::fs::read(&state).unwrap(), b"{\"serial\": 1}");
        drop(lock);
    }
}
