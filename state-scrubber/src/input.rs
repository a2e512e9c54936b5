//! Where artifacts come from: files, directories walked recursively, stdin.

use std::fs::File;
use std::io::{Read, Write as _};
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
            Source::File(p) | Source::Walked(p) => path_label(p),
            Source::Stdin => "<stdin>".to_string(),
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
        // A saved binary plan (`terraform plan -out tfplan`, `prod.tfplan`, `tfplan-prod`) is
        // not read, but a walk must not pass over it as if the tree were clean: it holds the
        // plan's values in plaintext. Reading one reports it (an error that says to convert
        // it); anything else by that name is skipped with a note, like foreign JSON.
        return lower.split(['.', '-', '_']).any(|c| c == "tfplan");
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
                path: path_label(p),
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
                path: path_label(dir),
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
                Ok(m) if m.is_dir() && !in_dot_terraform => {
                    // Not `eprintln!`, which panics when stderr is a pipe with no reader.
                    let _ = writeln!(
                        std::io::stderr(),
                        "state-scrubber: note: {}: symlinked directory not followed (name it on the command line to scan it)",
                        crate::report::printable(&path_label(&path))
                    );
                }
                Ok(_) => {}
                Err(e) if wanted => errs.push(InputError::Io {
                    path: path_label(&path),
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

/// Files are read in pieces of this size; after each, [`decided`] may stop the read.
const CHUNK: usize = 8 << 20;

/// Can the scanner's verdict no longer depend on what follows `v`? A document starts with `{`
/// (after a UTF-8 byte order mark and whitespace), and JSON has no NUL byte anywhere (none
/// between tokens, none unescaped inside a string): the scanner stops at the first byte that
/// breaks either rule, at the same place with or without the rest. So a 6 GiB file of a state's
/// first bytes and a hole of NULs costs one piece of memory, not 6 GiB (a mapped file touched
/// only the pages the scanner reached; read, it must stop itself).
fn decided(v: &[u8], new: usize) -> bool {
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
        if n == 0 || decided(&v, n) {
            return Ok(v);
        }
    }
}

pub fn read(source: &Source) -> Result<Bytes, InputError> {
    match source {
        Source::Stdin => {
            let v = read_stream(std::io::stdin().lock()).map_err(|e| InputError::Io {
                path: "<stdin>".into(),
                message: e.kind().to_string(),
            })?;
            Ok(Bytes::Heap(v))
        }
        Source::File(p) | Source::Walked(p) => {
            let io = |e: std::io::Error| InputError::Io {
                path: path_label(p),
                message: e.kind().to_string(),
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
            ("showcase.json", false),
            // Saved binary plans: read to be reported.
            ("tfplan", true),
            ("prod.tfplan", true),
            ("tfplan-prod", true),
            ("plan_tfplan", true),
            ("tfplans", false),
            ("plan", false),
            ("plan.out", false),
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
