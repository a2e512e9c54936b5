//! Where artifacts come from: files, directories walked recursively, stdin.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One input to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file named on the command line.
    File(PathBuf),
    /// A file found by walking a directory (picked by its name only, so it may turn out not to
    /// be Terraform JSON at all: that is a skip, not an error).
    Walked(PathBuf),
    /// `-`, named in reports, errors and baselines by `--label` when given.
    Stdin(Option<String>),
}

impl Source {
    pub fn label(&self) -> String {
        match self {
            Source::File(p) | Source::Walked(p) => path_label(p),
            Source::Stdin(label) => label.clone().unwrap_or_else(|| "<stdin>".to_string()),
        }
    }

    pub fn is_walked(&self) -> bool {
        matches!(self, Source::Walked(_))
    }
}

/// A path as reports, errors and baselines name it: as it is when it is UTF-8; otherwise each
/// byte that is not part of valid UTF-8 is written `\xFF`. `Path::display` would write U+FFFD,
/// which hides the name (nobody can find `bad\u{fffd}dir` to fix it) and makes two names one
/// (their findings and baseline entries would mix). SARIF locates such a file by its bytes (see
/// `AuditReport::raw_paths`).
pub fn path_label(p: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        let mut out = String::new();
        for chunk in p.as_os_str().as_bytes().utf8_chunks() {
            out.push_str(chunk.valid());
            for b in chunk.invalid() {
                out.push_str(&format!("\\x{b:02X}"));
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        p.display().to_string()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

/// An I/O error as messages name it, after the file: the OS's own words where the OS gave the
/// error (`No such file or directory (os error 2)`, `Permission denied (os error 13)`, `Is a
/// directory (os error 21)`, as ripgrep and gitleaks print them), also when a library wrapped
/// it and exposes it as the source; else the kind (`out of memory`). Neither ever holds file
/// content.
pub fn io_message(e: &std::io::Error) -> String {
    if e.raw_os_error().is_some() {
        return e.to_string();
    }
    let wrapped = e
        .get_ref()
        .and_then(|inner| inner.source())
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .filter(|inner| inner.raw_os_error().is_some());
    if let Some(inner) = wrapped {
        return inner.to_string();
    }
    // tempfile's error keeps the OS's error but does not expose it as its source: its text is
    // the OS's words, then ` at path "<the temporary file>"`.
    let text = e.to_string();
    match text.split_once(" at path ") {
        Some((os, _)) if os.ends_with(')') && os.contains(" (os error ") => os.to_string(),
        _ => e.kind().to_string(),
    }
}

/// Does a file name look like a state, plan JSON, `terraform output -json`, backend cache or a
/// saved `terraform plan|apply|query|test -json` stream (`*.jsonl`)?
pub fn looks_like_state(path: &Path) -> bool {
    // Lossy: a name with a byte that is not UTF-8 (`prod\xFF.tfstate`) is still a state's
    // name; `to_str` made it "" and a walk passed the file over without a word.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    // A saved UI stream (`terraform apply -json | tee apply.jsonl`) holds outputs, diagnostics
    // and test states in plaintext; JSON lines of another tool are skipped with a note.
    if lower.ends_with(".jsonl") && !lower.contains("state-scrubber") {
        return true;
    }
    if lower.ends_with(".tfstate")
        || lower.ends_with(".tfstate.backup")
        || (lower.contains(".tfstate.") && lower.ends_with(".backup"))
    {
        return true;
    }
    let Some(stem) = lower.strip_suffix(".json") else {
        // A saved binary plan (`terraform plan -out tfplan`, `prod.tfplan`, `tfplan-prod`)
        // holds the plan's values in plaintext: it is read (`planfile`, the zip's members);
        // anything else by that name is skipped with a note, like foreign JSON.
        return lower.split(['.', '-', '_']).any(|c| c == "tfplan");
    };
    // This tool's own JSON (`.state-scrubber-baseline.json`, `state-scrubber.json` reports) has
    // `state` as a component: a walk read its baseline as a state, and a run that rewrote the
    // baseline or the report it had walked was refused as replacing an input.
    if stem.contains("state-scrubber") {
        return false;
    }
    // `plan` anywhere in the name (plan.json, devplan.json, plan1.json, planfile.json, and
    // also explanation.json: a walk skips JSON that turns out not to be Terraform's, with a
    // note), `state` and `show` as a component (state.json, prod-state.json, show.json; not
    // statement.json), `output`/`outputs` (and `tfoutput`/`tfoutputs`) as a component for
    // `terraform output -json > outputs.json` (prod.outputs.json, tf-outputs.json,
    // tf_output.json; not outputsummary.json), and anything with `tfstate`.
    stem.contains("tfstate")
        || stem.contains("plan")
        || stem.split(['.', '-', '_']).any(|c| {
            matches!(
                c,
                "state" | "show" | "output" | "outputs" | "tfoutput" | "tfoutputs"
            )
        })
}

/// Would the directory walk read an object key (`a/b/terraform.tfstate`) if it were a path under
/// the walked directory? The same filters: state-looking names, no hidden directory but
/// `.terraform` (and there only its `terraform.tfstate`), no `node_modules`. Used for S3 listings.
pub fn wanted_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split('/').filter(|p| !p.is_empty()).collect();
    let Some((name, dirs)) = parts.split_last() else {
        return false;
    };
    if key.ends_with('/') {
        return false;
    }
    for (i, d) in dirs.iter().enumerate() {
        if *d == ".terraform" {
            // Only `.terraform/terraform.tfstate` directly: nothing below providers/ or modules/.
            return i + 1 == dirs.len() && *name == "terraform.tfstate";
        }
        if *d == "node_modules" || d.starts_with('.') {
            return false;
        }
    }
    looks_like_state(Path::new(name))
}

/// One `--exclude` glob, as given and as it is matched (see [`Exclude`]).
#[derive(Debug, Clone)]
pub struct ExcludeGlob {
    /// As given on the command line (named in notes and messages).
    given: String,
    /// As matched: anchored at the walked directory (`**/` added to a glob without `/`).
    glob: globset::Glob,
    /// Ends with `/`: matches directories only (as in .gitignore).
    dir_only: bool,
}

impl ExcludeGlob {
    /// Parse one `--exclude` value (clap's value parser: an invalid glob is a usage error that
    /// names it, before anything is read).
    ///
    /// .gitignore's rules: a glob without `/` (but at its end) matches a name at any depth; one
    /// with `/` matches the path relative to the walked directory (a leading `/` anchors it
    /// there too, and is dropped); a trailing `/` matches directories only. `*` and `?` do not
    /// match `/`, `**` does (`**/x`, `x/**`, `a/**/b`); `[...]`, `{a,b}` and `\` escapes as in
    /// ripgrep's globs.
    pub fn parse(given: &str) -> Result<ExcludeGlob, String> {
        if given.starts_with('!') {
            // ripgrep's `-g '!GLOB'` and .gitignore's `!` mean "not"; here every glob excludes.
            return Err(
                "a leading `!` does not negate here: --exclude takes what to leave out (for a name that starts with `!`, write `\\!`)"
                    .into(),
            );
        }
        let dir_only = given.ends_with('/');
        let body = given.trim_end_matches('/');
        let (anchored, body) = match body.strip_prefix("./").or_else(|| body.strip_prefix('/')) {
            Some(rest) => (true, rest.trim_start_matches('/')),
            None => (body.contains('/'), body),
        };
        if body.is_empty() {
            return Err("an empty glob matches nothing".into());
        }
        let pattern = if anchored {
            body.to_string()
        } else {
            format!("**/{body}")
        };
        let glob = globset::GlobBuilder::new(&pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| e.kind().to_string())?;
        Ok(ExcludeGlob {
            given: given.to_string(),
            glob,
            dir_only,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.given
    }
}

/// The `--exclude` globs of a run: what a directory walk or an S3 listing finds is matched
/// against them by its path relative to the walked directory (an S3 key: relative to the listed
/// prefix), as [`path_label`] writes it: components joined with `/`, a byte that is not UTF-8
/// as `\xFF`. Files named on the command line are never matched.
#[derive(Debug, Default)]
pub struct Exclude {
    globs: Vec<ExcludeGlob>,
    set: globset::GlobSet,
}

impl Exclude {
    pub fn new(globs: &[ExcludeGlob]) -> Result<Exclude, String> {
        let mut b = globset::GlobSetBuilder::new();
        for g in globs {
            b.add(g.glob.clone());
        }
        let set = b.build().map_err(|e| format!("--exclude: {}", e.kind()))?;
        Ok(Exclude {
            globs: globs.to_vec(),
            set,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.globs.is_empty()
    }

    /// The first glob (in the order given) that excludes `rel`, a path relative to the walked
    /// directory with `/` between components; `dir`: it names a directory.
    pub fn matching(&self, rel: &str, dir: bool) -> Option<&str> {
        if self.globs.is_empty() {
            return None;
        }
        self.set
            .matches(Path::new(rel))
            .into_iter()
            .filter(|&i| dir || !self.globs[i].dir_only)
            .min()
            .map(|i| self.globs[i].given.as_str())
    }

    /// The glob that excludes an S3 object, by its key relative to the listed prefix (see
    /// [`key_relative_to`]): the key itself, or a directory it is under (`archive` excludes
    /// `archive/x/terraform.tfstate`).
    pub fn matching_key(&self, rel_key: &str) -> Option<&str> {
        if self.globs.is_empty() {
            return None;
        }
        let parts: Vec<&str> = rel_key.split('/').filter(|p| !p.is_empty()).collect();
        let mut rel = String::new();
        for (i, part) in parts.iter().enumerate() {
            if !rel.is_empty() {
                rel.push('/');
            }
            rel.push_str(part);
            let dir = i + 1 < parts.len();
            if let Some(g) = self.matching(&rel, dir) {
                return Some(g);
            }
        }
        None
    }
}

/// An S3 key relative to the prefix that listed it, for `--exclude`: the listed prefix is taken
/// as the walked directory. `envs/` and `envs` both make `envs/prod/terraform.tfstate`
/// `prod/terraform.tfstate`; what `envs` reaches outside that directory (`envs2/x.tfstate`,
/// `envs.tfstate`) is relative to the prefix's parent, as a walk of it would see it.
pub fn key_relative_to<'a>(key: &'a str, prefix: &str) -> &'a str {
    let Some(rest) = key.strip_prefix(prefix) else {
        return key;
    };
    if prefix.is_empty() || prefix.ends_with('/') {
        return rest;
    }
    if let Some(r) = rest.strip_prefix('/') {
        return r;
    }
    let parent = prefix.rfind('/').map_or(0, |i| i + 1);
    &key[parent..]
}

/// A walked entry that `--exclude` left out: a file that would have been read, or a directory
/// that would have been walked (and was not: nothing under it was looked at).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excluded {
    pub path: PathBuf,
    /// The glob that matched, as given.
    pub glob: String,
    pub dir: bool,
}

impl Excluded {
    pub fn label(&self) -> String {
        path_label(&self.path)
    }
}

/// The note of an entry `--exclude` left out (reports list it like a skipped file). The glob is
/// quoted as clap quotes it in a usage error, as given.
pub fn excluded_note(glob: &str, dir: bool) -> String {
    if dir {
        format!("excluded by --exclude '{glob}': directory not walked")
    } else {
        format!("excluded by --exclude '{glob}': not read")
    }
}

/// What the command-line paths expand to.
#[derive(Debug, Default)]
pub struct Collected {
    pub sources: Vec<Source>,
    /// What `--exclude` left out of the walks (none of it is read elsewhere in the run).
    pub excluded: Vec<Excluded>,
    /// Walk errors (one unreadable directory does not stop the run).
    pub errors: Vec<InputError>,
    /// What the walk has to say that is no error (a symlinked directory not followed), for the
    /// caller to print (not with --quiet; once, though the CLI may walk twice). No value in it.
    pub notes: Vec<String>,
}

/// Expand the command-line paths: files as given, directories walked (state-looking files only,
/// skipping VCS and cache directories and `.terraform/` except its `terraform.tfstate`, and what
/// `exclude` matches: an excluded directory is not descended into), `-` = stdin.
/// Walk errors are returned alongside, so that one unreadable directory does not stop the run.
///
/// Each file is scanned once: the same file named twice, or reached again through a symlink or
/// another walk, is dropped (compared by canonical path); `-` named twice reads stdin once. A
/// file both named and reached by a walk is scanned as named (strictly), where it was named. An
/// entry excluded in one walk but read in another (or named) is read, and not listed excluded.
pub fn collect(paths: &[PathBuf], exclude: &Exclude) -> Collected {
    let mut all = Collected::default();
    collect_all(paths, exclude, &mut all);
    let canonical = |s: &Source| match s {
        Source::Stdin(_) => Some(PathBuf::from("-")),
        // A path that cannot be canonicalised is kept: reading it reports why.
        Source::File(p) | Source::Walked(p) => std::fs::canonicalize(p).ok(),
    };
    let named: std::collections::HashSet<PathBuf> = all
        .sources
        .iter()
        .filter(|s| matches!(s, Source::File(_)))
        .filter_map(canonical)
        .collect();
    let mut seen = std::collections::HashSet::new();
    let sources: Vec<Source> = std::mem::take(&mut all.sources)
        .into_iter()
        .filter(|s| match canonical(s) {
            None => true,
            Some(c) if matches!(s, Source::Walked(_)) && named.contains(&c) => false,
            Some(c) => seen.insert(c),
        })
        .collect();
    let read = seen;
    let mut seen = std::collections::HashSet::new();
    all.excluded
        .retain(|x| match std::fs::canonicalize(&x.path) {
            Ok(c) => !read.contains(&c) && seen.insert(c),
            Err(_) => true,
        });
    all.sources = sources;
    all
}

fn collect_all(paths: &[PathBuf], exclude: &Exclude, all: &mut Collected) {
    for p in paths {
        if p.as_os_str() == "-" {
            all.sources.push(Source::Stdin(None));
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => walk(p, "", exclude, all),
            Ok(_) => all.sources.push(Source::File(p.clone())),
            Err(e) => all.errors.push(InputError::Io {
                path: path_label(p),
                message: io_message(&e),
            }),
        }
    }
}

/// A symbolic link's target could not be looked at because there is nothing to look at: it is
/// dangling (ENOENT) or loops (ELOOP), as opposed to refused (EACCES) or failing (EIO).
fn nothing_behind(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    let looping = e.raw_os_error() == Some(libc::ELOOP);
    #[cfg(not(unix))]
    let looping = false;
    e.kind() == std::io::ErrorKind::NotFound || looping
}

/// An entry's path as `--exclude` sees it: relative to the walked directory (`rel` is its
/// directory's), labelled like the reports.
fn child_rel(rel: &str, name: &std::ffi::OsStr) -> String {
    let label = path_label(Path::new(name));
    if rel.is_empty() {
        label
    } else {
        format!("{rel}/{label}")
    }
}

/// A directory the walk does not enter, by its name. Inside .terraform only the backend cache
/// matters (providers/ and modules/ are caches); other hidden directories (.git,
/// .terragrunt-cache, ...) and node_modules are skipped.
fn skipped_dir(name: &str, in_dot_terraform: bool) -> bool {
    in_dot_terraform || name == "node_modules" || (name.starts_with('.') && name != ".terraform")
}

/// A walked directory's entries, sorted by name, each with its type. One that cannot be listed
/// (`readdir` failing part-way) or whose type cannot be told (`lstat` refused where the file
/// system gives no type in the listing) is an error naming the directory or the entry, as a
/// directory that cannot be opened is: an audit does not pass over what it could not look at
/// (they were dropped without a word, and the run said 0 findings, exit 0). Unless
/// `passed_over(path)`: the walk would leave it out as a file and as a directory alike.
fn listing(
    dir: &Path,
    rd: impl IntoIterator<Item = std::io::Result<(PathBuf, std::io::Result<std::fs::FileType>)>>,
    passed_over: impl Fn(&Path) -> bool,
    errors: &mut Vec<InputError>,
) -> Vec<(PathBuf, std::fs::FileType)> {
    let mut entries = Vec::new();
    for e in rd {
        match e {
            Ok((path, Ok(ft))) => entries.push((path, ft)),
            Ok((path, Err(_))) if passed_over(&path) => {}
            Ok((path, Err(e))) => errors.push(InputError::Io {
                path: path_label(&path),
                message: format!(
                    "cannot tell whether it is a file or a directory; not scanned: {}",
                    io_message(&e)
                ),
            }),
            Err(e) => errors.push(InputError::Io {
                path: path_label(dir),
                message: format!(
                    "the directory could not be listed to its end; the rest not scanned: {}",
                    io_message(&e)
                ),
            }),
        }
    }
    entries.sort_by(|a, b| a.0.file_name().cmp(&b.0.file_name()));
    entries
}

/// Walk `dir`, which is `rel` below the walked directory (`""` for the directory itself).
fn walk(dir: &Path, rel: &str, exclude: &Exclude, all: &mut Collected) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            all.errors.push(InputError::Io {
                path: path_label(dir),
                message: io_message(&e),
            });
            return;
        }
    };
    let in_dot_terraform = dir.file_name().is_some_and(|n| n == ".terraform");
    // An entry of unknown type: left out if the walk would leave it out as a directory (the
    // names below) and as a file (not a state's name, or excluded).
    let passed_over = |path: &Path| {
        let os_name = path.file_name().unwrap_or_default();
        let name = os_name.to_string_lossy();
        let child_rel = child_rel(rel, os_name);
        let as_dir =
            skipped_dir(&name, in_dot_terraform) || exclude.matching(&child_rel, true).is_some();
        let as_file = !(if in_dot_terraform {
            name == "terraform.tfstate"
        } else {
            looks_like_state(path)
        }) || exclude.matching(&child_rel, false).is_some();
        as_dir && as_file
    };
    let entries = listing(
        dir,
        rd.map(|e| e.map(|e| (e.path(), e.file_type()))),
        passed_over,
        &mut all.errors,
    );
    for (path, ft) in entries {
        let os_name = path.file_name().unwrap_or_default().to_os_string();
        let name = os_name.to_string_lossy();
        let child_rel = child_rel(rel, &os_name);
        // Exclude what the walk would read or walk into, pruning a directory (nothing under
        // it is looked at); anything else is passed over as before, and not counted.
        let excluded = |all: &mut Collected, dir: bool| match exclude.matching(&child_rel, dir) {
            Some(glob) => {
                all.excluded.push(Excluded {
                    path: path.clone(),
                    glob: glob.to_string(),
                    dir,
                });
                true
            }
            None => false,
        };
        if ft.is_dir() {
            if skipped_dir(&name, in_dot_terraform) || excluded(all, true) {
                continue;
            }
            walk(&path, &child_rel, exclude, all);
        } else if ft.is_file() {
            let wanted = if in_dot_terraform {
                name == "terraform.tfstate"
            } else {
                looks_like_state(&path)
            };
            if wanted && !excluded(all, false) {
                all.sources.push(Source::Walked(path.clone()));
            }
        } else if ft.is_symlink() {
            let wanted = if in_dot_terraform {
                name == "terraform.tfstate"
            } else {
                looks_like_state(&path)
            };
            // A symlinked state file is scanned like any other (nothing is skipped silently);
            // a symlinked directory is not followed, so no walk can loop, and the user is told
            // (unless --exclude names it: it is left out either way).
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() && wanted => {
                    if !excluded(all, false) {
                        all.sources.push(Source::Walked(path.clone()));
                    }
                }
                Ok(m)
                    if m.is_dir()
                        && !in_dot_terraform
                        && exclude.matching(&child_rel, true).is_none() =>
                {
                    all.notes.push(format!(
                        "{}: symlinked directory not followed (name it on the command line to scan it)",
                        crate::report::printable(&path_label(&path))
                    ));
                }
                Ok(_) => {}
                Err(e) if wanted => {
                    if !excluded(all, false) {
                        all.errors.push(InputError::Io {
                            path: path_label(&path),
                            message: format!(
                                "symbolic link cannot be followed: {}",
                                io_message(&e)
                            ),
                        });
                    }
                }
                // A link nothing can be behind (dangling, looping) is passed over; one whose
                // target cannot be looked at (a directory on its way not searchable) may be a
                // directory of states, and was passed over without a word: say so.
                Err(e)
                    if !nothing_behind(&e)
                        && !in_dot_terraform
                        && exclude.matching(&child_rel, true).is_none() =>
                {
                    all.notes.push(format!(
                        "{}: symbolic link cannot be followed, not scanned: {} (name what it points to on the command line to scan it)",
                        crate::report::printable(&path_label(&path)),
                        io_message(&e)
                    ));
                }
                Err(_) => {}
            }
        }
    }
}

/// The bytes of a source, read into memory.
///
/// Files are never memory-mapped. Terraform's local backend rewrites `terraform.tfstate` in place
/// during an apply (truncate, then write), and a mapped file truncated under the scanner faults
/// with SIGBUS: the whole run dies with no report. Read, a file that changes is at worst an error
/// for that file. ripgrep makes the same trade (it maps only in a few cases and documents that a
/// concurrent truncation can then abort it); here even that case is refused, because the scanner
/// reads the whole input twice (the parse, then the columns of the findings' lines), so a map
/// would not bound memory much anyway (a 1 GB state peaked at 0.79x its size mapped).
pub enum Bytes {
    Heap(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Heap(v) => v,
        }
    }
}

/// What the file looked like when its read began; a difference after the read means another
/// process wrote it meanwhile (the bytes read may mix the old state and the new one).
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    changed: (i64, i64),
}

impl Stamp {
    fn of(m: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt as _;
        Stamp {
            len: m.len(),
            modified: m.modified().ok(),
            #[cfg(unix)]
            changed: (m.ctime(), m.ctime_nsec()),
        }
    }
}

/// The message of a file that changed while it was read.
pub const CHANGED: &str =
    "changed while it was read (is a `terraform apply` writing it?); not scanned, run the audit again";

/// Files are read in pieces of this size; after each, [`decided`] may stop the read.
const CHUNK: usize = 8 << 20;

/// Can the scanner's verdict no longer depend on what follows `v`? A document starts with `{`
/// (after a UTF-8 byte order mark and whitespace), and JSON has no NUL byte anywhere (none
/// between tokens, none unescaped inside a string): the scanner stops at the first byte that
/// breaks either rule, at the same place with or without the rest. So a 6 GiB file of a state's
/// first bytes and a hole of NULs costs one piece of memory, not 6 GiB (a mapped file touched
/// only the pages the scanner reached; read, it must stop itself).
fn decided(v: &[u8], new: usize) -> bool {
    // A saved binary plan (a zip: NULs everywhere) is read whole, up to the size its reader
    // accepts ([`crate::planfile::MAX_ARCHIVE`]; one that reaches it is refused there).
    if crate::planfile::is_zip(v) {
        return v.len() >= crate::planfile::MAX_ARCHIVE;
    }
    let body = v.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(v);
    // Looked for in the first piece only (a later one would rescan a file of blanks each time).
    let starts_wrong = v.len() == new
        && body
            .iter()
            .find(|b| !b" \t\r\n".contains(b))
            .is_some_and(|&b| b != b'{');
    starts_wrong || memchr::memchr(0, &v[v.len() - new..]).is_some()
}

/// What [`read_len`] read.
#[derive(Debug, PartialEq, Eq)]
enum ReadResult {
    /// All `len` bytes, and nothing after them.
    Whole(Vec<u8>),
    /// A prefix that already decides the scan (see [`decided`]).
    Prefix(Vec<u8>),
    /// The reader ended sooner or had more: the file was truncated or grew while it was read.
    Changed,
}

/// Read `len` bytes in pieces, stopping early once [`decided`], and check that nothing follows.
fn read_len(mut r: impl Read, len: u64) -> std::io::Result<ReadResult> {
    let len = usize::try_from(len).map_err(|_| std::io::ErrorKind::OutOfMemory)?;
    let mut v: Vec<u8> = Vec::new();
    while v.len() < len {
        // The first piece alone, then the rest at once (one move of 8 MiB, no doubling); a
        // state too large for memory is an error for that file, not an abort of the run.
        let want = if v.is_empty() { len.min(CHUNK) } else { len };
        v.try_reserve_exact(want - v.len())
            .map_err(|_| std::io::ErrorKind::OutOfMemory)?;
        let piece = (len - v.len()).min(CHUNK);
        let n = (&mut r).take(piece as u64).read_to_end(&mut v)?;
        if n < piece {
            return Ok(ReadResult::Changed);
        }
        if decided(&v, n) {
            return Ok(ReadResult::Prefix(v));
        }
    }
    let mut one = [0u8; 1];
    loop {
        match r.read(&mut one) {
            Ok(0) => return Ok(ReadResult::Whole(v)),
            Ok(_) => return Ok(ReadResult::Changed),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A stream (stdin, a pipe) to its end in pieces, stopping once [`decided`]: `cat` of a sparse
/// 6 GiB file into `audit -` costs one piece, like the file itself.
fn read_stream(mut r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut v = Vec::new();
    loop {
        let n = (&mut r).take(CHUNK as u64).read_to_end(&mut v)?;
        // Short of a piece: the reader said end of input. Asking again would wait on a
        // terminal, whose Ctrl-D ends one read only (a state typed or pasted needed two).
        if n < CHUNK || decided(&v, n) {
            return Ok(v);
        }
    }
}

pub fn read(source: &Source) -> Result<Bytes, InputError> {
    match source {
        Source::Stdin(_) => {
            let v = read_stream(std::io::stdin().lock()).map_err(|e| InputError::Io {
                path: source.label(),
                message: io_message(&e),
            })?;
            Ok(Bytes::Heap(v))
        }
        Source::File(p) | Source::Walked(p) => {
            let io = |e: std::io::Error| InputError::Io {
                path: path_label(p),
                message: io_message(&e),
            };
            let changed = || InputError::Io {
                path: path_label(p),
                message: CHANGED.to_string(),
            };
            let mut f = File::open(p).map_err(io)?;
            let meta = f.metadata().map_err(io)?;
            if !meta.is_file() {
                // A pipe, FIFO or character device (`<(terraform show -json tfplan)`,
                // `/dev/stdin`): its length says nothing.
                return Ok(Bytes::Heap(read_stream(f).map_err(io)?));
            }
            let before = Stamp::of(&meta);
            let v = match read_len(&mut f, before.len).map_err(io)? {
                ReadResult::Whole(v) | ReadResult::Prefix(v) => v,
                ReadResult::Changed => return Err(changed()),
            };
            if Stamp::of(&f.metadata().map_err(io)?) != before {
                return Err(changed());
            }
            Ok(Bytes::Heap(v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_like_names() {
        for (n, want) in [
            ("terraform.tfstate", true),
            ("terraform.tfstate.backup", true),
            ("terraform.tfstate.1700000000.backup", true),
            ("plan.json", true),
            ("prod.tfplan.json", true),
            ("prod-plan.json", true),
            ("prod_plan.json", true),
            ("prod.plan.json", true),
            ("tfplan.json", true),
            ("tfplan-prod.json", true),
            ("state.json", true),
            ("show.json", true),
            ("prod.tfstate.json", true),
            // Plans are named freely: any name with `plan` is read (a walk skips what turns out
            // not to be Terraform JSON, with a note).
            ("devplan.json", true),
            ("plan1.json", true),
            ("planfile.json", true),
            ("terraformplan.json", true),
            ("explanation.json", true),
            ("prod-state.json", true),
            ("statement.json", false),
            // `terraform output -json > outputs.json`.
            ("outputs.json", true),
            ("output.json", true),
            ("prod.outputs.json", true),
            ("tf-outputs.json", true),
            ("tf_output.json", true),
            ("terraform-outputs.json", true),
            ("tfoutputs.json", true),
            ("outputsummary.json", false),
            ("outputs.txt", false),
            ("showcase.json", false),
            // Saved binary plans: read to be reported.
            ("tfplan", true),
            // Saved `-json` UI streams, whatever their name.
            ("apply.jsonl", true),
            ("ci-log.JSONL", true),
            ("state-scrubber.jsonl", false),
            ("apply.jsonl.gz", false),
            ("prod.tfplan", true),
            ("tfplan-prod", true),
            ("plan_tfplan", true),
            ("tfplans", false),
            ("plan", false),
            ("plan.out", false),
            ("main.tf", false),
            ("package.json", false),
            // state-scrubber's own baselines and reports.
            (".state-scrubber-baseline.json", false),
            ("state-scrubber.json", false),
            ("prod.state-scrubber-report.json", false),
            ("state-scrubber.tfstate", true),
        ] {
            assert_eq!(looks_like_state(Path::new(n)), want, "{n}");
        }
    }

    /// The OS's words, also through tempfile's wrapper (which adds the path); the kind's text
    /// only for an error the OS did not give.
    #[test]
    fn io_messages_are_the_os_words() {
        let missing = std::env::temp_dir().join("state-scrubber-no-such-dir-7f3a/x");
        let e = File::open(&missing).unwrap_err();
        assert_eq!(io_message(&e), "No such file or directory (os error 2)");
        // tempfile wraps the OS's error with the path (s3.rs prints it as it is).
        let e = tempfile::NamedTempFile::new_in(missing.parent().unwrap()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("No such file or directory (os error 2) at path "),
            "{e}"
        );
        assert_eq!(io_message(&e), "No such file or directory (os error 2)");
        let e = std::io::Error::from(std::io::ErrorKind::OutOfMemory);
        assert_eq!(io_message(&e), "out of memory");
    }

    /// A file that shrinks or grows while it is read is refused, not scanned half old, half new.
    #[test]
    fn a_length_that_changes_during_the_read_is_noticed() {
        let data = b"{\"version\": 4}".to_vec();
        let n = data.len() as u64;
        assert_eq!(
            read_len(&data[..], n).unwrap(),
            ReadResult::Whole(data.clone())
        );
        assert_eq!(
            read_len(&data[..], n + 1).unwrap(),
            ReadResult::Changed,
            "truncated"
        );
        assert_eq!(
            read_len(&data[..], n - 1).unwrap(),
            ReadResult::Changed,
            "grew"
        );
        assert_eq!(read_len(&b""[..], 0).unwrap(), ReadResult::Whole(vec![]));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_paths_are_labelled_byte_by_byte() {
        use std::os::unix::ffi::OsStrExt as _;
        let p = |b: &[u8]| PathBuf::from(std::ffi::OsStr::from_bytes(b));
        assert_eq!(path_label(&p(b"envs/prod.tfstate")), "envs/prod.tfstate");
        assert_eq!(path_label(&p(b"bad\xffdir/x")), "bad\\xFFdir/x");
        assert_eq!(
            path_label(&p(&[b"\xc3\xa9".as_slice(), b"\xfe"].concat())),
            "é\\xFE"
        );
        assert_ne!(path_label(&p(b"a\xff")), path_label(&p(b"a\xfe")));
    }

    /// A read stops after the piece that decides the scan: a NUL byte, or a first byte that is
    /// not `{`; anything else is read whole, over several pieces.
    #[test]
    fn a_read_stops_once_the_scan_is_decided() {
        let big = |head: &[u8], fill: u8| {
            let mut v = head.to_vec();
            v.resize(CHUNK * 2 + 10, fill);
            v
        };
        for (name, data, whole) in [
            (
                "hole after the head",
                big(b"{\"version\": 4, \"x\": \"", 0),
                false,
            ),
            ("not an object", big(b"[", b' '), false),
            (
                "BOM, blanks, not an object",
                big(b"\xEF\xBB\xBF \n x", b' '),
                false,
            ),
            ("an object of blanks", big(b"\xEF\xBB\xBF {", b' '), true),
            ("only blanks", big(b"", b' '), true),
        ] {
            let mut late_nul = data.clone();
            let n = data.len() as u64;
            match read_len(&data[..], n).unwrap() {
                ReadResult::Whole(v) => assert!(whole && v == data, "{name}"),
                ReadResult::Prefix(v) => assert!(!whole && v.len() == CHUNK, "{name}"),
                ReadResult::Changed => panic!("{name}"),
            }
            if whole {
                // A NUL in the last piece: read up to there, and no further.
                *late_nul.last_mut().unwrap() = 0;
                assert!(
                    matches!(read_len(&late_nul[..], n).unwrap(), ReadResult::Prefix(v) if v.len() == late_nul.len())
                );
            }
        }
    }

    /// Streams stop like files: an endless stream of NULs after a state's first bytes ends the
    /// read after one piece; a stream that is all JSON is read to its end.
    #[test]
    fn a_stream_stops_once_the_scan_is_decided() {
        let head = b"{\"version\": 4, \"x\": \"".as_slice();
        let v = read_stream(head.chain(std::io::repeat(0))).unwrap();
        assert!(v.starts_with(head) && v.len() <= CHUNK, "{}", v.len());
        let v = read_stream(b"[1]".as_slice().chain(std::io::repeat(b' '))).unwrap();
        assert!(v.len() <= CHUNK, "{}", v.len());
        let long = [b"{".as_slice(), &vec![b' '; CHUNK * 2 + 3], b"}"].concat();
        assert_eq!(read_stream(&long[..]).unwrap(), long);
        assert_eq!(read_stream(&b""[..]).unwrap(), b"");
    }

    /// A pipe, FIFO or socket hands data over in short reads (a writer that pauses, a pipe's
    /// 64 KiB buffer): only a read of 0 bytes ends the stream, not a short one, also across a
    /// piece's end and with reads interrupted by a signal. A terminal's Ctrl-D is such a 0: the
    /// read ends there and does not ask for a second one.
    #[test]
    fn a_stream_in_short_reads_is_read_to_its_end() {
        struct Trickle<'a> {
            rest: &'a [u8],
            calls: usize,
            eof_after: Option<usize>,
        }
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.calls += 1;
                if self.calls.is_multiple_of(5) {
                    return Err(std::io::ErrorKind::Interrupted.into());
                }
                if self.eof_after == Some(self.calls) {
                    return Ok(0);
                }
                let n = buf.len().min(self.rest.len()).min(7 + self.calls % 70_000);
                buf[..n].copy_from_slice(&self.rest[..n]);
                self.rest = &self.rest[n..];
                Ok(n)
            }
        }
        let data = [b"{\"a\":".as_slice(), &vec![b' '; CHUNK + 100], b"1}"].concat();
        let trickle = |eof_after| Trickle {
            rest: &data,
            calls: 0,
            eof_after,
        };
        assert!(read_stream(trickle(None)).unwrap() == data);
        // Ctrl-D after the first reads: what came before, and no further read.
        let mut t = trickle(Some(3));
        let v = read_stream(&mut t).unwrap();
        assert!(
            v.len() < 200 && data.starts_with(&v) && t.calls == 3,
            "{}",
            v.len()
        );
    }

    /// What a walk cannot list or cannot tell the type of is an error naming it, not left out
    /// without a word (a `readdir` failing part-way, an `lstat` refused on a file system that
    /// gives no type in the listing: neither happens on ext4 or tmpfs, so the listing is fed).
    #[test]
    fn entries_a_walk_cannot_look_at_are_errors_naming_them() {
        use std::io::Error;
        let dir = Path::new("envs");
        let file = std::fs::metadata(".").unwrap().file_type();
        let denied = || Error::from_raw_os_error(13);
        let mut errors = Vec::new();
        let entries = listing(
            dir,
            [
                Ok((dir.join("b.tfstate"), Ok(file))),
                Ok((dir.join("prod"), Err(denied()))),
                Ok((dir.join(".git"), Err(denied()))),
                Ok((dir.join("a.tfstate"), Ok(file))),
                Err(Error::from_raw_os_error(5)),
            ],
            |p| p.ends_with(".git"),
            &mut errors,
        );
        let names: Vec<_> = entries.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(names, [dir.join("a.tfstate"), dir.join("b.tfstate")]);
        let errors: Vec<_> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "envs/prod: cannot tell whether it is a file or a directory; not scanned: \
                 Permission denied (os error 13)",
                "envs: the directory could not be listed to its end; the rest not scanned: \
                 Input/output error (os error 5)",
            ]
        );
    }

    #[test]
    fn object_keys_filtered_like_the_walk() {
        for (k, want) in [
            ("env:/prod/network/terraform.tfstate", true),
            ("prod/terraform.tfstate", true),
            ("terraform.tfstate", true),
            ("prod/.terraform/terraform.tfstate", true),
            ("prod/.terraform/providers/x/terraform.tfstate", false),
            ("prod/.git/terraform.tfstate", false),
            ("node_modules/a/terraform.tfstate", false),
            ("prod/main.tf", false),
            ("prod/", false),
            ("plans/prod.tfplan.json", true),
            ("ci/outputs.json", true),
            ("ci/prod.outputs.json", true),
        ] {
            assert_eq!(wanted_key(k), want, "{k}");
        }
    }

    fn exclude(globs: &[&str]) -> Exclude {
        let globs: Vec<ExcludeGlob> = globs
            .iter()
            .map(|g| ExcludeGlob::parse(g).unwrap())
            .collect();
        Exclude::new(&globs).unwrap()
    }

    /// .gitignore's rules: a glob without `/` is a name at any depth, one with `/` a path from
    /// the walked directory (a leading `/` anchors too), a trailing `/` directories only; `*`
    /// stops at `/`, `**` does not.
    #[test]
    fn exclude_globs_match_like_gitignore_patterns() {
        for (glob, rel, dir, want) in [
            ("tfplan", "tfplan", false, true),
            ("tfplan", "env/prod/tfplan", false, true),
            ("tfplan", "env/tfplan.json", false, false),
            ("*.tfplan", "env/prod.tfplan", false, true),
            ("*.tfplan", "prod.tfplan", false, true),
            ("archive", "env/archive", true, true),
            ("archive", "archive", false, true),
            ("archive/", "env/archive", true, true),
            ("archive/", "env/archive", false, false),
            ("envs/*/old/**", "envs/a/old/x.tfstate", false, true),
            ("envs/*/old/**", "envs/a/old/deep/x.tfstate", false, true),
            ("envs/*/old/**", "envs/a/b/old/x.tfstate", false, false),
            ("envs/*/old/**", "x/envs/a/old/x.tfstate", false, false),
            ("envs/*/old", "envs/a/old", true, true),
            ("/old", "old", true, true),
            ("/old", "envs/old", true, false),
            ("./old", "old", true, true),
            ("old", "envs/old", true, true),
            ("**/old/*.tfstate", "a/b/old/s.tfstate", false, true),
            ("**/old/*.tfstate", "old/s.tfstate", false, true),
            ("a/**/s.tfstate", "a/s.tfstate", false, true),
            ("a/**/s.tfstate", "a/b/c/s.tfstate", false, true),
            ("*", "a/b", false, true),
            ("a*", "a/b", false, false),
            ("env*.tfstate", "envs/prod.tfstate", false, false),
            ("?.tfstate", "a.tfstate", false, true),
            ("{dev,qa}", "envs/qa", true, true),
            ("[!p]*.tfstate", "prod.tfstate", false, false),
            (r"\*.tfstate", "*.tfstate", false, true),
            (r"\*.tfstate", "a.tfstate", false, false),
            // Matched as labelled: a byte that is not UTF-8 is `\xFF` (in a glob: `\\xFF`).
            (r"bad\\xFFdir", r"bad\xFFdir", true, true),
            ("bad*dir", r"bad\xFFdir", true, true),
        ] {
            assert_eq!(
                exclude(&[glob]).matching(rel, dir).is_some(),
                want,
                "{glob} {rel} dir={dir}"
            );
        }
        // The first glob given that matches is the one named.
        let e = exclude(&["*.json", "tfplan*", "plan*"]);
        assert_eq!(e.matching("x/plan.json", false), Some("*.json"));
        assert_eq!(e.matching("x/tfplan", false), Some("tfplan*"));
        assert_eq!(e.matching("x/s.tfstate", false), None);
        assert_eq!(Exclude::default().matching("tfplan", false), None);
    }

    #[test]
    fn an_invalid_exclude_glob_is_refused_with_the_reason() {
        for (glob, why) in [
            ("[abc", "unclosed character class"),
            ("{a,b", "unclosed alternate group"),
            ("[z-a]", "invalid range"),
            ("x\\", "dangling"),
            ("", "empty"),
            ("/", "empty"),
            ("!tfplan", "does not negate"),
        ] {
            let e = ExcludeGlob::parse(glob).unwrap_err();
            assert!(e.contains(why), "{glob}: {e}");
        }
        assert_eq!(ExcludeGlob::parse(r"\!x").unwrap().as_str(), r"\!x");
        assert!(exclude(&[r"\!x"]).matching("a/!x", false).is_some());
    }

    /// An S3 key is matched relative to the listed prefix, as a walk of that directory would
    /// see it, and a glob that names one of its directories excludes it.
    #[test]
    fn exclude_globs_match_s3_keys_relative_to_the_listed_prefix() {
        for (key, prefix, rel) in [
            (
                "envs/prod/terraform.tfstate",
                "envs/",
                "prod/terraform.tfstate",
            ),
            (
                "envs/prod/terraform.tfstate",
                "envs",
                "prod/terraform.tfstate",
            ),
            (
                "envs/prod/terraform.tfstate",
                "",
                "envs/prod/terraform.tfstate",
            ),
            ("envs2/x.tfstate", "envs", "envs2/x.tfstate"),
            ("org/envs2/x.tfstate", "org/envs", "envs2/x.tfstate"),
            ("org/envs/x.tfstate", "org/envs", "x.tfstate"),
            ("envs.tfstate", "envs", "envs.tfstate"),
        ] {
            assert_eq!(key_relative_to(key, prefix), rel, "{key} under {prefix}");
        }
        let e = exclude(&["archive", "/old/", "*.tfplan", "team-*/scratch/**"]);
        for (rel, want) in [
            ("archive/2023/terraform.tfstate", Some("archive")),
            ("prod/archive/terraform.tfstate", Some("archive")),
            ("prod/archive.tfstate", None),
            ("old/terraform.tfstate", Some("/old/")),
            ("prod/old/terraform.tfstate", None),
            // A directory-only glob does not match the object's own name.
            ("old", None),
            ("prod/plan.tfplan", Some("*.tfplan")),
            (
                "team-a/scratch/x/terraform.tfstate",
                Some("team-*/scratch/**"),
            ),
            ("team-a/terraform.tfstate", None),
            ("prod//terraform.tfstate", None),
        ] {
            assert_eq!(e.matching_key(rel), want, "{rel}");
        }
    }
}
