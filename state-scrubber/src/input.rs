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
    Stdin,
}

impl Source {
    pub fn label(&self) -> String {
        match self {
            Source::File(p) | Source::Walked(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".to_string(),
        }
    }

    pub fn is_walked(&self) -> bool {
        matches!(self, Source::Walked(_))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

/// Does a file name look like a state, plan JSON or backend cache?
pub fn looks_like_state(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".tfstate")
        || lower.ends_with(".tfstate.backup")
        || (lower.contains(".tfstate.") && lower.ends_with(".backup"))
    {
        return true;
    }
    let Some(stem) = lower.strip_suffix(".json") else {
        return false;
    };
    // `plan` anywhere in the name (plan.json, devplan.json, plan1.json, planfile.json, and
    // also explanation.json: a walk skips JSON that turns out not to be Terraform's, with a
    // note), `state` and `show` as a component (state.json, prod-state.json, show.json; not
    // statement.json), and anything with `tfstate`.
    stem.contains("tfstate")
        || stem.contains("plan")
        || stem
            .split(['.', '-', '_'])
            .any(|c| matches!(c, "state" | "show"))
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

/// Expand the command-line paths: files as given, directories walked (state-looking files only,
/// skipping VCS and cache directories and `.terraform/` except its `terraform.tfstate`), `-` = stdin.
/// Walk errors are returned alongside, so that one unreadable directory does not stop the run.
///
/// Each file is scanned once: the same file named twice, or reached again through a symlink or
/// another walk, is dropped (compared by canonical path); `-` named twice reads stdin once. A
/// file both named and reached by a walk is scanned as named (strictly), where it was named.
pub fn collect(paths: &[PathBuf]) -> (Vec<Source>, Vec<InputError>) {
    let (out, errs) = collect_all(paths);
    let canonical = |s: &Source| match s {
        Source::Stdin => Some(PathBuf::from("-")),
        // A path that cannot be canonicalised is kept: reading it reports why.
        Source::File(p) | Source::Walked(p) => std::fs::canonicalize(p).ok(),
    };
    let named: std::collections::HashSet<PathBuf> = out
        .iter()
        .filter(|s| matches!(s, Source::File(_)))
        .filter_map(canonical)
        .collect();
    let mut seen = std::collections::HashSet::new();
    let out = out
        .into_iter()
        .filter(|s| match canonical(s) {
            None => true,
            Some(c) if matches!(s, Source::Walked(_)) && named.contains(&c) => false,
            Some(c) => seen.insert(c),
        })
        .collect();
    (out, errs)
}

fn collect_all(paths: &[PathBuf]) -> (Vec<Source>, Vec<InputError>) {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Source::Stdin);
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => walk(p, &mut out, &mut errs),
            Ok(_) => out.push(Source::File(p.clone())),
            Err(e) => errs.push(InputError::Io {
                path: p.display().to_string(),
                message: e.kind().to_string(),
            }),
        }
    }
    (out, errs)
}

fn walk(dir: &Path, out: &mut Vec<Source>, errs: &mut Vec<InputError>) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            errs.push(InputError::Io {
                path: dir.display().to_string(),
                message: e.kind().to_string(),
            });
            return;
        }
    };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    let in_dot_terraform = dir.file_name().is_some_and(|n| n == ".terraform");
    for e in entries {
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        let name = e.file_name();
        let name = name.to_string_lossy();
        if ft.is_dir() {
            // Inside .terraform only the backend cache matters (providers/ and modules/ are caches);
            // other hidden directories (.git, .terragrunt-cache, ...) and node_modules are skipped.
            if in_dot_terraform
                || name == "node_modules"
                || (name.starts_with('.') && name != ".terraform")
            {
                continue;
            }
            walk(&path, out, errs);
        } else if ft.is_file() {
            if in_dot_terraform {
                if name == "terraform.tfstate" {
                    out.push(Source::Walked(path));
                }
            } else if looks_like_state(&path) {
                out.push(Source::Walked(path));
            }
        } else if ft.is_symlink() {
            let wanted = if in_dot_terraform {
                name == "terraform.tfstate"
            } else {
                looks_like_state(&path)
            };
            // A symlinked state file is scanned like any other (nothing is skipped silently);
            // a symlinked directory is not followed, so no walk can loop, and the user is told.
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() && wanted => out.push(Source::Walked(path)),
                Ok(m) if m.is_dir() && !in_dot_terraform => eprintln!(
                    "state-scrubber: note: {}: symlinked directory not followed (name it on the command line to scan it)",
                    path.display()
                ),
                Ok(_) => {}
                Err(e) if wanted => errs.push(InputError::Io {
                    path: path.display().to_string(),
                    message: format!("symbolic link cannot be followed: {}", e.kind()),
                }),
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

/// Read exactly `len` bytes and check that nothing follows: `None` when the reader ends sooner
/// or has more (the file was truncated or grew while it was read).
fn read_len(mut r: impl Read, len: u64) -> std::io::Result<Option<Vec<u8>>> {
    let cap = usize::try_from(len).map_err(|_| std::io::ErrorKind::OutOfMemory)?;
    let mut v = Vec::new();
    // A state too large for memory is an error for that file, not an abort of the run.
    v.try_reserve_exact(cap)
        .map_err(|_| std::io::ErrorKind::OutOfMemory)?;
    (&mut r).take(len).read_to_end(&mut v)?;
    if v.len() as u64 != len {
        return Ok(None);
    }
    let mut one = [0u8; 1];
    loop {
        match r.read(&mut one) {
            Ok(0) => return Ok(Some(v)),
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

pub fn read(source: &Source) -> Result<Bytes, InputError> {
    match source {
        Source::Stdin => {
            let mut v = Vec::new();
            std::io::stdin()
                .read_to_end(&mut v)
                .map_err(|e| InputError::Io {
                    path: "<stdin>".into(),
                    message: e.kind().to_string(),
                })?;
            Ok(Bytes::Heap(v))
        }
        Source::File(p) | Source::Walked(p) => {
            let io = |e: std::io::Error| InputError::Io {
                path: p.display().to_string(),
                message: e.kind().to_string(),
            };
            let changed = || InputError::Io {
                path: p.display().to_string(),
                message: CHANGED.to_string(),
            };
            let mut f = File::open(p).map_err(io)?;
            let meta = f.metadata().map_err(io)?;
            if !meta.is_file() {
                // A pipe, FIFO or character device (`<(terraform show -json tfplan)`,
                // `/dev/stdin`): its length says nothing.
                let mut v = Vec::new();
                f.read_to_end(&mut v).map_err(io)?;
                return Ok(Bytes::Heap(v));
            }
            let before = Stamp::of(&meta);
            let v = read_len(&mut f, before.len)
                .map_err(io)?
                .ok_or_else(changed)?;
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
            ("showcase.json", false),
            ("main.tf", false),
            ("package.json", false),
        ] {
            assert_eq!(looks_like_state(Path::new(n)), want, "{n}");
        }
    }

    /// A file that shrinks or grows while it is read is refused, not scanned half old, half new.
    #[test]
    fn a_length_that_changes_during_the_read_is_noticed() {
        let data = b"{\"version\": 4}".to_vec();
        let n = data.len() as u64;
        assert_eq!(read_len(&data[..], n).unwrap(), Some(data.clone()));
        assert_eq!(read_len(&data[..], n + 1).unwrap(), None, "truncated");
        assert_eq!(read_len(&data[..], n - 1).unwrap(), None, "grew");
        assert_eq!(read_len(&b""[..], 0).unwrap(), Some(vec![]));
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
        ] {
            assert_eq!(wanted_key(k), want, "{k}");
        }
    }
}
