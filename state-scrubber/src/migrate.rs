//! `state-scrubber migrate DIR`: the CLI face of the `hcl-migrate` library. Prints a unified diff
//! (literals under secret arguments, and those that reach one through a variable, a local or a
//! module input in any file of the module, masked by the library; any literal that the content or
//! key rules recognise masked by us) and the warnings and notes; `--write` applies it.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::cli::{Gone, Outcome};
use crate::rules::Rules;

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The configuration directory (modules in subdirectories are migrated too).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Rewrite the files. Without it: a unified diff, nothing written.
    #[arg(long)]
    pub write: bool,
    /// Only this directory, not its subdirectories.
    #[arg(long)]
    pub no_recursive: bool,
    /// Leave secret-reading data sources, random_password and sensitive variables as they are
    /// (no `ephemeral` blocks, no `ephemeral = true`).
    #[arg(long)]
    pub no_ephemeral: bool,
    /// Leave aws_secretsmanager_secret(+_version) as they are.
    #[arg(long)]
    pub no_offstate_secret: bool,
    /// Secrets that terraform_data arguments and root outputs store (they have no write-only
    /// form) move into new offstate_secret resources named PREFIX/<resource>/<argument> or
    /// PREFIX/outputs/<name>, and the argument keeps a reference. Without it they are notes.
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
}

pub fn run_migrate(args: MigrateArgs) -> anyhow::Result<Outcome> {
    if let Some(prefix) = &args.prefix {
        let trimmed = prefix.trim_matches('/');
        if trimmed.is_empty() {
            anyhow::bail!("--prefix must not be empty");
        }
        // The longest name this prefix yields must still be a valid secret name.
        offstate_common::name::validate_name(trimmed).map_err(|e| {
            anyhow::anyhow!("--prefix {trimmed:?} is not a valid secret name prefix: {e}")
        })?;
    }
    let opts = hcl_migrate::Options {
        recursive: !args.no_recursive,
        ephemeral: !args.no_ephemeral,
        offstate_secret: !args.no_offstate_secret,
        secret_prefix: args
            .prefix
            .as_deref()
            .map(|p| p.trim_matches('/').to_owned()),
    };
    // The library only asks whether DIR is a directory: a missing path (a typo) or one that
    // cannot be looked at is said in the operating system's words, as audit says it.
    if let Err(e) = std::fs::metadata(&args.dir) {
        anyhow::bail!(
            "{}: {}",
            crate::report::printable(&crate::input::path_label(&args.dir)),
            crate::input::io_message(&e)
        );
    }
    // Parse errors name file:line:column; main turns the error into exit status 2.
    let plan = hcl_migrate::plan_migration(&args.dir, &opts)?;
    let rules = Rules::builtin().context("loading the built-in rules")?;
    // The library masks secret arguments; the audit's content rules (and its key rules, for the
    // argument a literal is assigned to) catch secret values anywhere else on a printed line.
    let check = |key: Option<&str>, literal: &str| {
        rules.content_match(literal).is_some()
            || key.is_some_and(|key| rules.key_match(key, literal).is_some())
    };
    // `migrate --write | head`: once the reader of the diff is gone, the rest of the diff and the
    // messages are dropped (see [`Gone`]), and the files are still written, as `audit` still
    // writes its baseline. Before, the failed print returned before the write: exit 2, nothing
    // migrated. Other write errors (a full disk) stay errors, before anything is written.
    let mut out = Gone::new(std::io::stdout().lock());
    // The diff quotes the .tf files: their control and invisible characters (an escape sequence
    // erasing the line above, a bidirectional override) are shown escaped, not sent to the
    // terminal. A line's own ending, CRLF included, is kept.
    for line in plan.unified_diff(&check).split_inclusive('\n') {
        let body = line
            .strip_suffix('\n')
            .map_or(line, |l| l.strip_suffix('\r').unwrap_or(l));
        out.write_all(crate::report::printable(body).as_bytes())
            .and_then(|()| out.write_all(&line.as_bytes()[body.len()..]))
            .context("writing the diff")?;
    }
    out.flush().context("writing the diff")?;
    let mut err = Gone::new(std::io::stderr().lock());
    // Warnings and notes name blocks by their labels, which come from the .tf files.
    for w in &plan.warnings {
        writeln!(err, "{}", crate::report::printable(&w.to_string()))
            .context("writing to stderr")?;
    }
    for n in &plan.notes {
        writeln!(err, "{}", crate::report::printable(&n.to_string()))
            .context("writing to stderr")?;
    }
    if plan.is_empty() {
        writeln!(
            err,
            "{}: nothing to migrate",
            crate::report::printable(&crate::input::path_label(&args.dir))
        )
        .context("writing to stderr")?;
    } else if args.write {
        plan.write()?;
        writeln!(err, "migrated {} file(s)", plan.files.len()).context("writing to stderr")?;
    } else {
        writeln!(
            err,
            "dry run: {} file(s) would change; nothing was written (use --write)",
            plan.files.len()
        )
        .context("writing to stderr")?;
    }
    Ok(Outcome::Clean)
}
