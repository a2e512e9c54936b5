//! Format-preserving migration of Terraform HCL away from secrets in state.
//!
//! [`plan_migration`] reads every `.tf` file under a directory (each directory is one module),
//! decides the rewrites and returns a [`MigrationPlan`]: per file the original and the rewritten
//! text, what changed and why, plus hazards ([`Warning`]) and things deliberately left alone
//! ([`Note`]). Nothing is written until [`MigrationPlan::write`].
//!
//! Rewrites:
//! - plain secret attributes with a write-only twin (`data/write-only.tsv`) become the twin plus
//!   its version trigger, also inside nested and `dynamic` blocks;
//! - secret-reading data sources, and `random_password`, become `ephemeral` blocks when every use
//!   accepts an ephemeral value (a write-only argument, a provider, another ephemeral context);
//! - `aws_secretsmanager_secret` + `aws_secretsmanager_secret_version` become one
//!   `offstate_secret` with `moved` / `removed` blocks and a `required_providers` entry, also when
//!   both are repeated the same way (`count`, `for_each`); a `random_password` that only feeds the
//!   value becomes the secret's `generate` block, and an `aws_secretsmanager_secret_policy` its
//!   `policy`;
//! - with [`Options::secret_prefix`], a secret given to `terraform_data` or a root output (which
//!   store it and have no write-only form) moves into an `offstate_secret`, and the argument
//!   keeps its reference;
//! - sensitive variables that, after all that, only feed ephemeral contexts become
//!   `ephemeral = true`, so saved plans no longer carry them.
//!
//! Only the targeted spans change (plus the `=`/comment alignment `terraform fmt` wants in the runs
//! they sit in); every other byte is kept, line endings included (a written line takes the file's
//! dominant one). The comments of a block migrate rebuilds move with it. A second run changes
//! nothing.

mod align;
mod comments;
mod diff;
mod edit;
mod error;
mod feeds;
mod lex;
mod module;
mod planner;
mod redact;
mod report;
pub mod table;
mod write;

pub use error::MigrateError;
pub use report::{EditKind, EditNote, Hazard, Note, Warning};
pub use write::SecretCheck;

use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

/// What to migrate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Also migrate modules in subdirectories (hidden directories such as `.terraform` are skipped).
    pub recursive: bool,
    /// Turn secret-reading data sources and `random_password` into ephemeral resources, and
    /// sensitive variables that only feed ephemeral contexts into ephemeral variables.
    pub ephemeral: bool,
    /// Turn `aws_secretsmanager_secret` + `_version` into `offstate_secret`.
    pub offstate_secret: bool,
    /// Move secrets that `terraform_data` arguments and root outputs would store into
    /// `offstate_secret` resources named under this prefix, leaving references (root module only).
    pub secret_prefix: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            recursive: true,
            ephemeral: true,
            offstate_secret: true,
            secret_prefix: None,
        }
    }
}

/// The rewrite of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The file.
    pub path: PathBuf,
    /// Its content when planned.
    pub original: String,
    /// Its content after the migration.
    pub rewritten: String,
    /// What was done, by original line.
    pub edits: Vec<EditNote>,
    /// The original lines (1-based, inclusive ranges) that the rewrite may change: the edited
    /// spans and the alignment runs around them. Every other line is kept byte for byte.
    pub changed_lines: Vec<RangeInclusive<usize>>,
    /// What its module (every one that has the file) holds as secrets, worked out when planned
    /// over all of the module's files and the local modules it calls.
    secrets: redact::SecretVariables,
}

/// Everything a migration would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationPlan {
    /// The directory planned.
    pub root: PathBuf,
    /// Files that change, in path order.
    pub files: Vec<FileChange>,
    /// Hazards to read before applying.
    pub warnings: Vec<Warning>,
    /// Things left alone, and why; requirements.
    pub notes: Vec<Note>,
}

/// Plans the migration of every module under `dir`. Reads only; an error (I/O, or a parse error
/// naming file, line and column) means no plan and nothing touched.
pub fn plan_migration(dir: &Path, opts: &Options) -> Result<MigrationPlan, MigrateError> {
    if !dir.is_dir() {
        return Err(MigrateError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let mut plan = MigrationPlan {
        root: dir.to_path_buf(),
        ..MigrationPlan::default()
    };
    // Every file read, by the file it is (a symlink is its target): its path, and its rewrite.
    let mut seen: std::collections::HashMap<PathBuf, (PathBuf, Option<String>)> =
        std::collections::HashMap::new();
    // Per module planned: its directory and what its files say of secrets; per change, by the
    // file it is, the modules that have it.
    let mut modules: Vec<(PathBuf, redact::ModuleFacts)> = Vec::new();
    let mut owners: std::collections::HashMap<PathBuf, Vec<usize>> =
        std::collections::HashMap::new();
    let root = std::fs::canonicalize(dir).map_err(|e| MigrateError::io(dir, e))?;
    for (index, module_dir) in module::module_dirs(dir, opts.recursive)?
        .into_iter()
        .enumerate()
    {
        let (files, others) = module::load_module(&module_dir, Some((&root, opts.recursive)))?;
        for other in &others {
            if let Some(target) = &other.outside {
                plan.notes.push(Note {
                    path: other.path.clone(),
                    line: 1,
                    message: format!(
                        "not rewritten: a symlink to {}, outside the directory migrated, which other \
                         configurations may link too, and they were not checked (what this module's other files \
                         say of its blocks is left alone); migrate a directory that holds that file and every \
                         configuration linking it, or give this module a copy of its own",
                        target.display()
                    ),
                });
            }
        }
        if files.is_empty() {
            continue;
        }
        for file in &files {
            for &at in &file.repeated_keys {
                let key = module::repeated_key_name(&file.src, at)
                    .map_or_else(|| "a quoted key".to_owned(), |key| format!("`{key}`"));
                plan.notes.push(Note {
                    path: file.path.clone(),
                    line: edit::line_number(&file.src, at),
                    message: format!(
                        "{key} is set twice in one object (Terraform takes the last one); migrate read the \
                         file all the same and left the object as it is: remove the one not meant"
                    ),
                });
            }
        }
        let refs = module::collect_references(&files);
        // module_dirs lists `dir` itself first: the root module.
        let outcome = planner::plan_module(&files, &others, &refs, opts, index == 0);
        // What feeds a secret is read from every file of the module, changed or not, and from
        // the rewrites (a moved argument's new key).
        let mut texts: Vec<String> = files
            .iter()
            .map(|file| file.src.clone())
            .chain(others.iter().map(|other| other.src.clone()))
            .collect();
        let module = modules.len();
        for (index, file) in files.into_iter().enumerate() {
            let path = file.path.clone();
            let change = finish_file(file, &outcome.edits[index], outcome.notes[index].clone());
            let rewritten = change.as_ref().map(|change| change.rewritten.clone());
            texts.extend(rewritten.clone());
            let same = std::fs::canonicalize(&path).map_err(|e| MigrateError::io(&path, e))?;
            owners.entry(same.clone()).or_default().push(module);
            match seen.get(&same) {
                // One file under two paths (modules): written once, when both leave it alike.
                Some((_, before)) if *before == rewritten => continue,
                Some((first, before)) => {
                    let (path, other) = if before.is_some() {
                        (first.clone(), path)
                    } else {
                        (path, first.clone())
                    };
                    return Err(MigrateError::LinkedTwice { path, other });
                }
                None => {
                    seen.insert(same, (path, rewritten));
                }
            }
            if let Some(change) = change {
                plan.files.push(change);
            }
        }
        modules.push((
            module_dir,
            redact::ModuleFacts::read(texts.iter().map(String::as_str)),
        ));
        plan.warnings.extend(outcome.warnings);
        plan.notes.extend(outcome.infos);
    }
    let secrets = feeds::module_secrets(modules);
    for change in &mut plan.files {
        let same =
            std::fs::canonicalize(&change.path).map_err(|e| MigrateError::io(&change.path, e))?;
        for &module in owners.get(&same).into_iter().flatten() {
            change.secrets.merge(&secrets[module]);
        }
    }
    plan.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(plan)
}

fn finish_file(
    file: module::SourceFile,
    edits: &[edit::Edit],
    mut notes: Vec<EditNote>,
) -> Option<FileChange> {
    let edits = edit::normalize(edits);
    if edits.is_empty() {
        return None;
    }
    let (text, new_ranges) = edit::apply(&file.src, &edits);
    let mut touched = BTreeSet::new();
    for range in &new_ranges {
        touched.extend(align::line_of(&text, range.start)..=align::line_of(&text, range.end));
    }
    let rewritten = align::realign(&text, &touched);
    if rewritten == file.src {
        return None;
    }
    let rewritten = file.framing.restore(&file.src, &rewritten);
    let mut original_lines = BTreeSet::new();
    for edit in &edits {
        original_lines.extend(
            align::line_of(&file.src, edit.range.start)..=align::line_of(&file.src, edit.range.end),
        );
    }
    let closure = align::alignment_closure(&file.src, &original_lines);
    notes.sort_by_key(|note| note.line);
    Some(FileChange {
        path: file.path,
        original: file.framing.restore_original(&file.src),
        rewritten,
        edits: notes,
        changed_lines: to_ranges(&closure),
        secrets: redact::SecretVariables::default(),
    })
}

/// 0-based line numbers → 1-based inclusive ranges.
fn to_ranges(lines: &BTreeSet<usize>) -> Vec<RangeInclusive<usize>> {
    let mut out: Vec<RangeInclusive<usize>> = Vec::new();
    for &line in lines {
        let line = line + 1;
        match out.last_mut() {
            Some(range) if *range.end() + 1 == line => *range = *range.start()..=line,
            _ => out.push(line..=line),
        }
    }
    out
}

impl MigrationPlan {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// A unified diff of every file, paths relative to the root. A string literal (or heredoc
    /// body line) is shown as `***` when any key it sits under looks secret (quoted keys and
    /// inline objects included: `"DB_PASSWORD" = ...`, `jsonencode({ db_password = ... })`), when
    /// it is the `default` of a variable that is sensitive, ephemeral, secret-looking by name or
    /// feeds a secret, when it is in the value of a local that feeds a secret, when it is given
    /// to a module call's argument that feeds a secret in the child module, or when `check` says
    /// it may be a secret given its nearest key. What feeds a secret was worked out when planning,
    /// over every file of the module (changed or not, `.tf.json` and override files included):
    /// what a secret-looking argument names (migrated or not, in a template too), followed
    /// through locals, and through the local modules it calls (those outside the directory
    /// planned are read for that too). Context lines are masked the same way.
    pub fn unified_diff(&self, check: SecretCheck) -> String {
        self.files
            .iter()
            .map(|change| change.masked_diff(&self.root, check))
            .collect()
    }

    /// Writes every rewritten file: all of them go to temporary files next to their targets
    /// (fsync, original permissions kept) before any is renamed over its target, and a failed
    /// rename puts back the files already replaced. A symlink is written through (the file it
    /// names is replaced; the link stays), keeping its mode, owner and group. Refuses, writing
    /// nothing, if any file changed on disk since planning, or if any file is one `terraform fmt`
    /// could not write either (this user may not open it for writing; root may), sits in a
    /// directory where this user may not make the new file, or has an owner or group the new
    /// file cannot be given.
    pub fn write(&self) -> Result<(), MigrateError> {
        for change in &self.files {
            let current = std::fs::read_to_string(&change.path)
                .map_err(|e| MigrateError::io(&change.path, e))?;
            if current != change.original {
                return Err(MigrateError::Stale {
                    path: change.path.clone(),
                });
            }
        }
        self.write_with(&|_, _| Ok(()))
    }

    fn write_with(
        &self,
        hook: &dyn Fn(write::Step, &Path) -> std::io::Result<()>,
    ) -> Result<(), MigrateError> {
        // A symlink is written through: the file it names is replaced, and it stays a link.
        let targets = self
            .files
            .iter()
            .map(|change| write::target(&change.path))
            .collect::<Result<Vec<_>, _>>()?;
        let files: Vec<write::Replacement> = self
            .files
            .iter()
            .zip(&targets)
            .map(|(change, target)| write::Replacement {
                path: target,
                rewritten: change.rewritten.as_bytes(),
                original: change.original.as_bytes(),
            })
            .collect();
        write::replace_all(&files, hook)
    }
}

impl FileChange {
    /// The unified diff of this file, named relative to `root`, masked as
    /// [`MigrationPlan::unified_diff`] says.
    pub fn unified_diff(&self, root: &Path, check: SecretCheck) -> String {
        self.masked_diff(root, check)
    }

    fn masked_diff(&self, root: &Path, check: SecretCheck) -> String {
        // A control character in the name (a newline would split the header line) is shown as
        // `\u{..}`, as the CLI shows the others.
        let name: String = self
            .path
            .strip_prefix(root)
            .unwrap_or(&self.path)
            .display()
            .to_string()
            .chars()
            .map(|c| {
                if c.is_control() {
                    format!("\\u{{{:x}}}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect();
        let old: Vec<&str> = self
            .original
            .split_inclusive('\n')
            .map(|l| l.trim_end_matches('\n'))
            .collect();
        let new: Vec<&str> = self
            .rewritten
            .split_inclusive('\n')
            .map(|l| l.trim_end_matches('\n'))
            .collect();
        let old_shown = redact::masked_lines(&self.original, &self.secrets, check);
        let new_shown = redact::masked_lines(&self.rewritten, &self.secrets, check);
        let show_old = |i: usize| old_shown[i].clone();
        let show_new = |j: usize| new_shown[j].clone();
        diff::unified(
            &format!("a/{name}"),
            &format!("b/{name}"),
            &old,
            &new,
            3,
            &show_old,
            &show_new,
        )
    }
}

#[cfg(test)]
mod tests;
