//! Span-based rewrite of a state file: only the bytes of the values that change are replaced
//! (plus `serial`), so key order, indentation and every other byte stay as Terraform wrote them.
//! After editing, the result is parsed again and compared, node for node, with the original plus
//! the intended edits; a mismatch is an error, never a written file.
//!
//! Also the atomic file write: temporary file in the same directory, fsync, rename, fsync of the
//! directory, with the original's permissions (POSIX rename is atomic, so a reader or a crash
//! sees either the old or the new file).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::json::{Dom, Kind, NodeId, Parser};

/// One replacement of a whole JSON value.
#[derive(Debug, Clone)]
pub struct Edit {
    /// RFC 6901 pointer of the value.
    pub pointer: String,
    /// The new value as JSON text.
    pub json: String,
}

/// A parsed document with byte spans.
pub struct Doc<'a> {
    pub src: &'a [u8],
    pub dom: Dom,
    pub root: NodeId,
}

/// Split an RFC 6901 pointer into unescaped tokens.
pub fn pointer_tokens(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return vec![];
    }
    pointer
        .strip_prefix('/')
        .unwrap_or(pointer)
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Join tokens into a pointer.
pub fn pointer_join(tokens: &[String]) -> String {
    let mut out = String::new();
    for t in tokens {
        out.push('/');
        crate::json::push_pointer_token(&mut out, t);
    }
    out
}

impl<'a> Doc<'a> {
    pub fn parse(src: &'a [u8]) -> Result<Doc<'a>, crate::json::SyntaxError> {
        let (dom, root) = Parser::parse_document(src)?;
        Ok(Doc { src, dom, root })
    }

    /// The node a pointer names.
    pub fn node_at(&self, pointer: &str) -> Option<NodeId> {
        let mut id = self.root;
        for t in pointer_tokens(pointer) {
            id = match self.dom.node(id).kind {
                Kind::Object => self.dom.get(self.src, id, &t)?,
                Kind::Array => {
                    let i: usize = t.parse().ok()?;
                    self.dom.elements(id).nth(i)?
                }
                _ => return None,
            };
        }
        Some(id)
    }

    /// The string at a pointer (unescaped), if it is one.
    pub fn str_at(&self, pointer: &str) -> Option<String> {
        self.node_at(pointer)
            .and_then(|id| self.dom.str(self.src, id))
            .map(|s| s.into_owned())
    }

    /// The raw JSON text of the value at `id`.
    pub fn raw(&self, id: NodeId) -> &'a str {
        let (s, e) = self.span(id);
        std::str::from_utf8(&self.src[s..e]).unwrap_or("")
    }

    /// Byte span of a whole value (strings include their quotes).
    pub fn span(&self, id: NodeId) -> (usize, usize) {
        let n = self.dom.node(id);
        match n.kind {
            Kind::Str { .. } => (n.start - 1, n.end + 1),
            _ => (n.start, n.end),
        }
    }

    pub fn kind(&self, id: NodeId) -> Kind {
        self.dom.node(id).kind
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    #[error("no value at JSON path `{0}`")]
    Missing(String),
    #[error("two edits of JSON path `{0}`")]
    Overlap(String),
    #[error("`serial` is missing or not a non-negative integer")]
    Serial,
    /// `serial` + 1 would not fit Terraform's unsigned 64-bit serial (it wrapped to 0 before:
    /// a state older than every other of its lineage, which `terraform state push` refuses).
    #[error(
        "`serial` is {}, the largest Terraform's state takes: no write can give it a higher one",
        u64::MAX
    )]
    SerialAtMaximum,
    #[error("the rewritten state does not parse back to the intended JSON (internal error; nothing written): {0}")]
    Verify(String),
}

/// A state's `serial` as written: a non-negative integer in JSON's own form (`7`; not `07`,
/// which JSON does not allow and Terraform refuses, nor `7.0` or `7e0`), at most `u64::MAX`.
pub fn parse_serial(raw: &str) -> Option<u64> {
    let serial: u64 = raw.parse().ok()?;
    (serial.to_string() == raw).then_some(serial)
}

/// Apply `edits` and `serial + 1` to `src`. Returns the new bytes and the new serial.
pub fn apply(src: &[u8], doc: &Doc<'_>, edits: &[Edit]) -> Result<(Vec<u8>, u64), RewriteError> {
    let serial_id = doc.node_at("/serial").ok_or(RewriteError::Serial)?;
    if doc.kind(serial_id) != Kind::Number {
        return Err(RewriteError::Serial);
    }
    let serial = parse_serial(doc.raw(serial_id)).ok_or(RewriteError::Serial)?;
    let new_serial = serial.checked_add(1).ok_or(RewriteError::SerialAtMaximum)?;

    let mut spans: Vec<(usize, usize, &str, &str)> = Vec::with_capacity(edits.len() + 1);
    let serial_text = new_serial.to_string();
    let (s, e) = doc.span(serial_id);
    spans.push((s, e, serial_text.as_str(), "/serial"));
    // The nodes replaced, and their new text, for `verify`.
    let mut replaced: HashMap<NodeId, &str> = HashMap::with_capacity(edits.len() + 1);
    replaced.insert(serial_id, serial_text.as_str());
    for ed in edits {
        let id = doc
            .node_at(&ed.pointer)
            .ok_or_else(|| RewriteError::Missing(ed.pointer.clone()))?;
        let (s, e) = doc.span(id);
        spans.push((s, e, ed.json.as_str(), ed.pointer.as_str()));
        replaced.insert(id, ed.json.as_str());
    }
    spans.sort_by_key(|x| x.0);
    for w in spans.windows(2) {
        if w[1].0 < w[0].1 {
            return Err(RewriteError::Overlap(w[1].3.to_string()));
        }
    }
    let mut out = Vec::with_capacity(src.len() + edits.len() * 64);
    let mut at = 0;
    for (s, e, text, _) in &spans {
        out.extend_from_slice(&src[at..*s]);
        out.extend_from_slice(text.as_bytes());
        at = *e;
    }
    out.extend_from_slice(&src[at..]);
    for (s, e, text, pointer) in &spans {
        // Each span is one whole value, and each edit one whole value, to a parser other than
        // the one that found the spans: the splice then replaces a value by a value.
        let whole = |b: &[u8]| serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok();
        if !whole(&src[*s..*e]) || !whole(text.as_bytes()) {
            return Err(RewriteError::Verify(format!("edit of `{pointer}`")));
        }
    }
    verify(doc, &out, &replaced)?;
    Ok((out, new_serial))
}

/// Parse the output and check that it is the input with the edits applied: the same tree, node
/// for node, every scalar and key with the same text, except the nodes `replaced`, which hold
/// their new text. Comparing the two trees this parser made, rather than two `serde_json`
/// values of the whole state, keeps a large state's check to one parse (a 22 MB state's two
/// `serde_json` trees took most of a scrub's time, and ten times the file's size in memory).
/// Messages name no value.
fn verify(doc: &Doc<'_>, out: &[u8], replaced: &HashMap<NodeId, &str>) -> Result<(), RewriteError> {
    let got =
        Doc::parse(out).map_err(|e| RewriteError::Verify(format!("output: line {}", e.line)))?;
    let differs = || RewriteError::Verify("content differs".into());
    // Bytes, not `raw` (which gives "" for text that is not UTF-8).
    fn text<'s>(d: &Doc<'s>, id: NodeId) -> &'s [u8] {
        let (s, e) = d.span(id);
        &d.src[s..e]
    }
    let mut stack = vec![(doc.root, got.root)];
    while let Some((a, b)) = stack.pop() {
        if let Some(new) = replaced.get(&a) {
            if text(&got, b) != new.as_bytes() {
                return Err(differs());
            }
            continue;
        }
        match doc.kind(a) {
            Kind::Object => {
                if got.kind(b) != Kind::Object || doc.dom.len(a) != got.dom.len(b) {
                    return Err(differs());
                }
                for ((ka, va), (kb, vb)) in doc.dom.members(a).zip(got.dom.members(b)) {
                    if text(doc, ka) != text(&got, kb) {
                        return Err(differs());
                    }
                    stack.push((va, vb));
                }
            }
            Kind::Array => {
                if got.kind(b) != Kind::Array || doc.dom.len(a) != got.dom.len(b) {
                    return Err(differs());
                }
                stack.extend(doc.dom.elements(a).zip(got.dom.elements(b)));
            }
            _ => {
                if matches!(got.kind(b), Kind::Object | Kind::Array)
                    || text(doc, a) != text(&got, b)
                {
                    return Err(differs());
                }
            }
        }
    }
    Ok(())
}

/// Encode a string the way Go's `encoding/json` (and so Terraform) does: `<`, `>`, `&`, U+2028
/// and U+2029 as `\u` escapes, `\n`, `\r`, `\t` short, other control characters as `\u00XX`.
pub fn go_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The file to be replaced no longer holds the bytes the scrub (or restore) read: something
/// else, most likely a `terraform apply`, wrote it in the meantime. Replacing it would throw
/// that write away (resources created since would be forgotten by Terraform).
#[derive(Debug, thiserror::Error)]
#[error("it changed since it was read (did Terraform write it meanwhile?) and was not overwritten")]
pub struct ChangedMeanwhile;

/// This process may not write the file to be replaced (mode 0444 to anyone but root, a
/// read-only mount). A rename would replace it all the same (it needs write permission on the
/// directory only), silently getting past a `chmod a-w` that someone made on purpose;
/// Terraform's local backend, which opens the state read-write, refuses such a file too. Root
/// may write a file of mode 0444, and so does Terraform run as root (the state is written, its
/// mode kept): so does scrub.
#[derive(Debug, thiserror::Error)]
#[error("it is read-only{}, and was not replaced", mode.map(|m| format!(" (mode {m:o})")).unwrap_or_default())]
pub struct ReadOnly {
    pub mode: Option<u32>,
}

/// `Err` wrapping [`ReadOnly`] when this process may not open the file at `path` (a symlink's
/// target) for writing, as Terraform's local backend opens a state (`O_RDWR`); `Ok` when it may,
/// or the file does not exist. The kernel's own answer for this process's effective ids
/// (`faccessat(W_OK, AT_EACCESS)`: root, ACLs, a read-only mount), the answer `migrate --write`
/// gets by opening a `.tf` file; not by opening the state, which would block on a FIFO and,
/// where the lock is a classic POSIX lock (not Linux), let go of it on closing.
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    #[cfg(unix)]
    let writable = {
        use std::os::unix::ffi::OsStrExt as _;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        // SAFETY: `c` is a NUL-terminated path that outlives the call.
        let r =
            unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS) };
        if r == 0 {
            true
        } else {
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EACCES | libc::EPERM | libc::EROFS) => false,
                _ => return Err(e),
            }
        }
    };
    #[cfg(not(unix))]
    let writable = !meta.permissions().readonly();
    if writable {
        return Ok(());
    }
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        Some(meta.permissions().mode() & 0o7777)
    };
    #[cfg(not(unix))]
    let mode = None;
    Err(std::io::Error::other(ReadOnly { mode }))
}

/// The file to be replaced has an owner or group that a new file written by this process
/// cannot be given (changing the owner takes root; the group, membership in it). The rename
/// would leave the state owned by whoever ran the command: Terraform's local backend writes
/// the state in place, and its owner (a state of mode 0640 or 0600) could no longer read it.
#[derive(Debug, thiserror::Error)]
#[error("it is owned by uid {uid}, gid {gid}, and a file this process writes cannot be given that owner and group; it was not replaced")]
pub struct OwnerNotKept {
    pub uid: u32,
    pub gid: u32,
}

/// The directory of the file to be replaced takes no new file from this process: the new state
/// is written there and renamed over the old one.
#[derive(Debug, thiserror::Error)]
#[error("its directory {} is not writable by this user, and the new state is written there and renamed over it", dir.display())]
pub struct DirNotWritable {
    pub dir: PathBuf,
}

/// Give `f` (a new file, this process's) the owner and group `want` has, or the error wraps
/// [`OwnerNotKept`] when this process may not.
#[cfg(unix)]
fn keep_owner(f: &std::fs::File, want: &std::fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let have = f.metadata()?;
    if (have.uid(), have.gid()) == (want.uid(), want.gid()) {
        return Ok(());
    }
    std::os::unix::fs::fchown(f, Some(want.uid()), Some(want.gid())).map_err(|e| {
        use std::io::ErrorKind::{InvalidInput, PermissionDenied};
        // EPERM; EINVAL for an id a user namespace does not map.
        if matches!(e.kind(), PermissionDenied | InvalidInput) {
            std::io::Error::other(OwnerNotKept {
                uid: want.uid(),
                gid: want.gid(),
            })
        } else {
            e
        }
    })
}

/// `path`, or the file a symlink at `path` points to (a dangling link is an error).
fn resolve(path: &Path) -> std::io::Result<std::borrow::Cow<'_, Path>> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        Ok(std::fs::canonicalize(path)?.into())
    } else {
        Ok(path.into())
    }
}

/// The directory of `path` and a new temporary file name in it.
fn temp_beside(path: &Path) -> (PathBuf, PathBuf) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let mut rnd = [0u8; 6];
    rand::Rng::fill(&mut rand::rng(), &mut rnd);
    let tmp = dir.join(format!(
        ".{file_name}.scrub-{}.tmp",
        crate::finding::hex(&rnd)
    ));
    (dir, tmp)
}

/// `Err` wrapping [`OwnerNotKept`] when the file that replaces the one at `path` (a symlink's
/// target) could not be given its owner and group: tried on an empty temporary file beside it,
/// removed again ([`DirNotWritable`] when none can be made there). `Ok` when it can, or when
/// there is no file.
pub fn check_owner_kept(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let path = resolve(path)?;
        let want = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let (dir, tmp) = temp_beside(&path);
        let f = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::PermissionDenied => {
                        std::io::Error::other(DirNotWritable { dir })
                    }
                    _ => e,
                })?
        };
        let kept = keep_owner(&f, &want);
        drop(f);
        let _ = std::fs::remove_file(&tmp);
        kept
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Write `bytes` to `path` atomically, keeping the permissions, owner and group of the file it replaces. A
/// symlink is followed: the file it points to is replaced (temporary file in *its* directory,
/// so the rename stays atomic) and the link is kept. Renaming over the link itself would leave
/// the old state, plaintext and all, in the target that other links and workspaces use.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically_inner(path, bytes, None)
}

/// What [`replace_if_unchanged`] asks of its caller: whether the file still holds what was read
/// (just before the rename), and, the moment the rename is done, that it happened.
pub trait Swap {
    /// Whether the file at the path is still the one read at the start, with the same bytes,
    /// and is `target` itself (the file the rename replaces: the path, or the file a link there
    /// led to when the write began).
    fn unchanged(&mut self, target: &Path) -> std::io::Result<bool>;
    /// The rename put the new file at the path; called at once, before anything else can fail
    /// or block (see [`super::lock::StateLock::replaced`]).
    fn replaced(&mut self);
}

/// [`write_atomically`], compare-and-swap: the file is replaced only if `swap` says it still
/// holds what was read at the start, asked once the new content is on disk, just before the
/// rename. Otherwise the error wraps [`ChangedMeanwhile`] and the file is left as it is. A
/// scrub talks to Secrets Manager for seconds to minutes; Terraform's lock (see
/// [`super::lock`]) keeps Terraform out meanwhile, and this keeps out any other writer, or a
/// Terraform run with `-lock=false`. Once the rename is done, `swap.replaced()` is called
/// whatever follows (an error after it wraps [`ReplacedButNotDurable`]).
pub fn replace_if_unchanged(path: &Path, bytes: &[u8], swap: &mut dyn Swap) -> std::io::Result<()> {
    write_atomically_inner(path, bytes, Some(swap))
}

/// The rename was done, but the directory could not be synced after it: the new state is at the
/// path (a crash of the machine before the directory reaches the disk may still bring back the
/// old one).
#[derive(Debug, thiserror::Error)]
#[error("the new state is in place, but syncing its directory after the rename failed: {0}")]
pub struct ReplacedButNotDurable(pub std::io::Error);

fn write_atomically_inner(
    path: &Path,
    bytes: &[u8],
    mut swap: Option<&mut dyn Swap>,
) -> std::io::Result<()> {
    // A dangling link is an error here (NotFound), not a new file next to it.
    let path = resolve(path)?;
    let path = path.as_ref();
    let (dir, tmp) = temp_beside(path);
    check_writable(path)?;
    let original = std::fs::metadata(path).ok();
    let mut renamed = false;
    let result = (|| {
        let mut f = new_temp(&tmp)?;
        if let Some(m) = &original {
            // The original's owner and group (Terraform, run as them, reads and writes it
            // next), then its mode (a chown may clear set-id bits): before any byte is
            // written, so the temporary file is never wider than the original.
            #[cfg(unix)]
            keep_owner(&f, m)?;
            f.set_permissions(m.permissions())?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        if let Some(swap) = swap.as_deref_mut() {
            if !swap.unchanged(path)? {
                return Err(std::io::Error::other(ChangedMeanwhile));
            }
        }
        std::fs::rename(&tmp, path)?;
        renamed = true;
        if let Some(swap) = swap.as_deref_mut() {
            swap.replaced();
        }
        // The rename is durable only once the directory entry is (POSIX: fsync the directory).
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| std::io::Error::other(ReplacedButNotDurable(e)))
    })();
    if result.is_err() && !renamed {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A new temporary file at `tmp`, mode 0600 from its creation (`O_CREAT|O_EXCL`, which follows
/// no link). Made with the default mode (0666 less the umask: 0644), it was open to anyone for
/// the moment before its mode was set: a descriptor another user opened then stays readable
/// after the chmod, and reads what is written next, the restored plaintext of `restore
/// --write` (seen: `nobody`, woken by inotify, opened 7 of 30 such files and read the values).
fn new_temp(tmp: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    opts.open(tmp)
}

/// Write a file readable only by the owner (mode 0600), replacing any file there, and sync it:
/// `--backup`'s plaintext copy, the lock info.
///
/// The file is always a new one, made by this process (`O_CREAT|O_EXCL`, mode 0600, which
/// follows no link): an existing file is removed first, never truncated and written. Writing
/// into the existing file handed the plaintext to whoever owned it or held it open: root's
/// `--backup /tmp/shared/b.json` over a file another user had put there left the copy owned by
/// that user (the chmod to 0600 kept the owner), and a link there had the state written over
/// whatever it pointed to. A symbolic link at `path` is refused (see [`private_target`]).
///
/// A character device or a FIFO (`/dev/null`, `>(gpg -e ...)`) is a stream: written to as it
/// is, never chmodded (root's chmod made `/dev/null` 0600 for everyone) nor synced (fsync on
/// one is EINVAL, which failed the run after the state was written). So is one of this
/// process's own descriptors (`/dev/stdout` redirected to a file): written through that
/// descriptor, at its offset, after what this process printed there. Removing it was removing
/// the link `/dev/stdout` itself, as root, and making a regular file in its place; as another
/// user it failed after the state was written.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if private_target(path)? == PrivateTarget::Stream {
        #[cfg(unix)]
        if let Some(fd) = own_fd(path) {
            use std::os::fd::BorrowedFd;
            std::io::stdout().flush()?;
            // SAFETY: private_target found /proc/self/fd/N (or its alias) open, and nothing in
            // this process closes it while it is duplicated here.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            let mut f = std::fs::File::from(fd.try_clone_to_owned()?);
            return f.write_all(bytes).and_then(|()| f.flush());
        }
        let mut f = open_checked_stream(path)?;
        return f.write_all(bytes).and_then(|()| f.flush());
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut opts = std::fs::OpenOptions::new();
    // create_new: a file (or link) put there since the removal is an error, not written to.
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The descriptor `path` names when it is one of the kernel's names for this process's own
/// descriptors (`/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`).
fn own_fd(path: &Path) -> Option<i32> {
    match path.to_str()? {
        "/dev/stdout" => Some(1),
        "/dev/stderr" => Some(2),
        p => p
            .strip_prefix("/dev/fd/")
            .or_else(|| p.strip_prefix("/proc/self/fd/"))?
            .parse()
            .ok(),
    }
}

/// Whether `path` is a terminal: one of this process's own descriptors is asked as it is open
/// (`isatty`); any other character device is opened to ask (`O_NOCTTY`: opening a terminal
/// does not make it this process's controlling one; `O_NONBLOCK`: a modem line does not wait
/// for carrier). Only a character device can be a terminal, and opening a FIFO for writing
/// would wait for a reader.
#[cfg(unix)]
fn is_terminal(path: &Path, meta: &std::fs::Metadata) -> bool {
    use std::io::IsTerminal as _;
    use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
    if let Some(fd) = own_fd(path) {
        // SAFETY: isatty only reads the descriptor's state; one not open is EBADF, not a terminal.
        return unsafe { libc::isatty(fd) } == 1;
    }
    meta.file_type().is_char_device()
        && std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
            .is_ok_and(|f| f.is_terminal())
}

#[cfg(not(unix))]
fn is_terminal(_path: &Path, _meta: &std::fs::Metadata) -> bool {
    false
}

/// What [`write_private`] finds at a path.
#[derive(Debug, PartialEq, Eq)]
pub enum PrivateTarget {
    /// Nothing, or a regular file: a new file takes its place.
    File,
    /// A character device or a FIFO, or one of this process's own descriptors (whatever it is
    /// open on), written to as it is.
    Stream,
}

/// Why a path cannot take a file of secrets (see [`private_target`]).
#[derive(Debug, thiserror::Error)]
pub enum NotPrivate {
    #[error("it is a symbolic link; a file that holds secrets is not written through one (name the file itself)")]
    Link,
    #[error(
        "it is a {what} owned by uid {uid}, another user, who would read what is written to it"
    )]
    ForeignStream { what: &'static str, uid: u32 },
    #[error("it is a terminal, where the plaintext copy would show every secret on screen")]
    Terminal,
    #[error("it is not a regular file, a character device or a pipe")]
    Other,
    #[error("it was replaced by another file between its check and its opening; nothing was written to it")]
    Swapped,
}

/// What is at `path`, for a file of secrets: [`NotPrivate`] (in an `io::Error`) for what must
/// not take one. A symbolic link, unless it is one of the kernel's names for this process's own
/// descriptors (`/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`: a process substitution), which no
/// other user can plant. A FIFO or a character device owned by neither this user nor root: a
/// pipe another user made, a link to their terminal. A terminal (`/dev/tty`, `/dev/pts/N`, or
/// `/dev/stdout` when stdout is one): the secrets would be on screen, in the scrollback, in a
/// recorded session, as `scrub - --write` and `restore -` refuse to print them there.
pub fn private_target(path: &Path) -> std::io::Result<PrivateTarget> {
    classify(path).map(|(target, _)| target)
}

/// [`private_target`], and the metadata of the stream it judged (`None` for a file, or one of
/// this process's own descriptors).
fn classify(path: &Path) -> std::io::Result<(PrivateTarget, Option<std::fs::Metadata>)> {
    let own_descriptor = || own_fd(path).is_some();
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((PrivateTarget::File, None))
        }
        Err(e) => return Err(e),
    };
    if meta.file_type().is_symlink() && !own_descriptor() {
        return Err(std::io::Error::other(NotPrivate::Link));
    }
    let meta = std::fs::metadata(path)?;
    if is_terminal(path, &meta) {
        return Err(std::io::Error::other(NotPrivate::Terminal));
    }
    if own_descriptor() {
        // What the caller opened (`>`, `>>`, a pipe): the name is no file to replace.
        return Ok((PrivateTarget::Stream, None));
    }
    if crate::output::is_stream(&meta) {
        check_stream_owner(&meta)?;
        return Ok((PrivateTarget::Stream, Some(meta)));
    }
    if meta.is_file() {
        Ok((PrivateTarget::File, None))
    } else {
        Err(std::io::Error::other(NotPrivate::Other))
    }
}

/// A FIFO or character device owned by neither this user nor root: [`NotPrivate::ForeignStream`].
fn check_stream_owner(meta: &std::fs::Metadata) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
        // SAFETY: geteuid takes nothing and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me && meta.uid() != 0 {
            let what = if meta.file_type().is_fifo() {
                "pipe"
            } else {
                "character device"
            };
            return Err(std::io::Error::other(NotPrivate::ForeignStream {
                what,
                uid: meta.uid(),
            }));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(())
}

/// The FIFO or character device at `path` (not one of this process's own descriptors), opened
/// for writing, and checked again through the descriptor: the very file [`classify`] judged,
/// still a stream of this user's or root's, not a terminal. The check and the open are two
/// steps on a name: whoever may rename in its directory (a shared one with no sticky bit, or
/// theirs) could swap the pipe for a link in between, and the open, which followed links, wrote
/// the plaintext where the link led (a file of theirs to read, or root's `/etc/passwd` over its
/// first bytes). `O_NOFOLLOW` refuses a link put there since; the descriptor's device and inode
/// refuse any other file (swapped in at that name or through a directory on the way), before a
/// byte is written. Opening still waits for a FIFO's reader, as it did (`O_NOCTTY`: a terminal
/// swapped in does not become this process's controlling one).
fn open_checked_stream(path: &Path) -> std::io::Result<std::fs::File> {
    let (target, judged) = classify(path)?;
    let (PrivateTarget::Stream, Some(judged)) = (target, judged) else {
        return Err(std::io::Error::other(NotPrivate::Swapped));
    };
    open_judged_stream(path, &judged)
}

/// The stream at `path` opened for writing, if it is still the one `judged` describes (see
/// [`open_checked_stream`]).
fn open_judged_stream(path: &Path, judged: &std::fs::Metadata) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NOCTTY | libc::O_CLOEXEC);
    }
    let f = opts.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            // O_NOFOLLOW met a link: one put there since the check found none.
            return std::io::Error::other(NotPrivate::Swapped);
        }
        e
    })?;
    #[cfg(unix)]
    {
        use std::io::IsTerminal as _;
        use std::os::unix::fs::MetadataExt as _;
        let got = f.metadata()?;
        if (got.dev(), got.ino()) != (judged.dev(), judged.ino()) || !crate::output::is_stream(&got)
        {
            return Err(std::io::Error::other(NotPrivate::Swapped));
        }
        check_stream_owner(&got)?;
        if f.is_terminal() {
            return Err(std::io::Error::other(NotPrivate::Terminal));
        }
    }
    #[cfg(not(unix))]
    let _ = judged;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATE: &str = "{\n  \"version\": 4,\n  \"serial\": 7,\n  \"lineage\": \"l\",\n  \"resources\": [\n    {\n      \"a\": \"x\\u003cy\",\n      \"b\": [1, {\"c~/d\": \"e\"}]\n    }\n  ]\n}\n";

    #[test]
    fn no_edit_keeps_every_byte_but_serial() {
        let doc = Doc::parse(STATE.as_bytes()).unwrap();
        let (out, serial) = apply(STATE.as_bytes(), &doc, &[]).unwrap();
        assert_eq!(serial, 8);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            STATE.replace("\"serial\": 7", "\"serial\": 8")
        );
    }

    #[test]
    fn edits_replace_only_their_spans() {
        let doc = Doc::parse(STATE.as_bytes()).unwrap();
        assert_eq!(doc.str_at("/resources/0/b/1/c~0~1d").as_deref(), Some("e"));
        let edits = [
            Edit {
                pointer: "/resources/0/a".into(),
                json: "null".into(),
            },
            Edit {
                pointer: "/resources/0/b/1/c~0~1d".into(),
                json: go_json_string("r<&>"),
            },
        ];
        let (out, _) = apply(STATE.as_bytes(), &doc, &edits).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("\"a\": null,\n"));
        assert!(out.contains("{\"c~/d\": \"r\\u003c\\u0026\\u003e\"}"));
    }

    /// The check after the splice refuses an edit that is not one whole value (it would add a
    /// member, or break the document), and a splice that changed more than its value.
    #[test]
    fn edits_that_are_not_one_value_are_refused() {
        let doc = Doc::parse(STATE.as_bytes()).unwrap();
        for json in [
            "\"x\", \"injected\": \"y\"",
            "\"x\"}, {\"z\": 1",
            "\"open",
            "",
            "1 2",
        ] {
            let edits = [Edit {
                pointer: "/resources/0/a".into(),
                json: json.into(),
            }];
            assert!(
                matches!(
                    apply(STATE.as_bytes(), &doc, &edits),
                    Err(RewriteError::Verify(_))
                ),
                "{json:?} accepted"
            );
        }
        // The tree walk alone (the spans checked apart): another member, another key, another
        // scalar are all differences.
        let (out, _) = apply(STATE.as_bytes(), &doc, &[]).unwrap();
        let mut replaced = HashMap::new();
        let serial = doc.node_at("/serial").unwrap();
        replaced.insert(serial, "8");
        verify(&doc, &out, &replaced).unwrap();
        let text = String::from_utf8(out).unwrap();
        for changed in [
            text.replace("\"lineage\": \"l\"", "\"lineage\": \"m\""),
            text.replace("\"lineage\"", "\"lineagf\""),
            text.replace("[1, ", "[1, 2, "),
            text.replace("\"a\": \"x\\u003cy\",", "\"a\": \"x\\u003cy\", \"n\": 1,"),
            text.replace("\"serial\": 8", "\"serial\": 9"),
        ] {
            assert_ne!(changed, text);
            assert!(
                verify(&doc, changed.as_bytes(), &replaced).is_err(),
                "{changed}"
            );
        }
    }

    /// `serial` at u64::MAX was written as 0 (`serial + 1` wrapped in a release build): a state
    /// older than every other of its lineage. Refused now, as is a serial JSON does not allow.
    #[test]
    fn a_serial_that_cannot_grow_or_is_not_json_is_refused() {
        let max = STATE.replace("\"serial\": 7", &format!("\"serial\": {}", u64::MAX));
        let doc = Doc::parse(max.as_bytes()).unwrap();
        assert!(matches!(
            apply(max.as_bytes(), &doc, &[]),
            Err(RewriteError::SerialAtMaximum)
        ));
        let below = STATE.replace("\"serial\": 7", &format!("\"serial\": {}", u64::MAX - 1));
        let doc = Doc::parse(below.as_bytes()).unwrap();
        assert_eq!(apply(below.as_bytes(), &doc, &[]).unwrap().1, u64::MAX);
        assert_eq!(parse_serial("7"), Some(7));
        assert_eq!(parse_serial("0"), Some(0));
        for raw in ["07", "00", "7.0", "7e0", "-1", "+7", "18446744073709551616"] {
            assert_eq!(parse_serial(raw), None, "{raw}");
        }
    }

    #[test]
    fn go_encoding() {
        assert_eq!(
            go_json_string("a\"b\\\n\u{1}<"),
            "\"a\\\"b\\\\\\n\\u0001\\u003c\""
        );
    }

    #[test]
    fn missing_pointer_is_an_error() {
        let doc = Doc::parse(STATE.as_bytes()).unwrap();
        let e = apply(
            STATE.as_bytes(),
            &doc,
            &[Edit {
                pointer: "/nope".into(),
                json: "1".into(),
            }],
        )
        .unwrap_err();
        assert!(matches!(e, RewriteError::Missing(_)));
    }

    /// `--backup`'s plaintext copy over an existing file: a new file, this process's, mode 0600.
    /// It was written into the existing one: whoever held it open read the copy, and root's
    /// backup over a file another user put in /tmp stayed that user's (chmod keeps the owner).
    #[cfg(unix)]
    #[test]
    fn a_private_file_replaces_an_existing_one_instead_of_writing_into_it() {
        use std::io::Read as _;
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("backup.json");
        std::fs::write(&p, b"").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
        // SAFETY: geteuid takes nothing and cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        if root {
            std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
        }
        let mut held = std::fs::File::open(&p).unwrap();
        write_private(&p, b"plaintext").unwrap();
        let mut seen = Vec::new();
        held.read_to_end(&mut seen).unwrap();
        assert!(seen.is_empty(), "the file held open got the copy");
        assert_eq!(std::fs::read(&p).unwrap(), b"plaintext");
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o600);
        // SAFETY: as above.
        assert_eq!(m.uid(), unsafe { libc::geteuid() }, "owned by another user");
    }

    /// The temporary file a state is written to is nobody else's from its creation: made
    /// with the default mode (0644 under umask 022) and chmodded after, it let another user
    /// open it in between and read the plaintext `restore --write` wrote into it next.
    #[cfg(unix)]
    #[test]
    fn the_temporary_state_file_is_private_from_its_creation() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let (_, tmp) = temp_beside(&dir.path().join("terraform.tfstate"));
        let f = new_temp(&tmp).unwrap();
        let mode = f.metadata().unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600, "created with mode {mode:o}");
        // A name taken already (a file or a link planted there) is an error, not opened.
        drop(f);
        assert!(new_temp(&tmp).is_err());
        std::fs::remove_file(&tmp).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &tmp).unwrap();
        assert!(new_temp(&tmp).is_err());
        assert!(!dir.path().join("elsewhere").exists());
    }

    /// A link at the path is refused, and what it points to is left alone: the state was
    /// written over it (and it was made 0600).
    #[cfg(unix)]
    #[test]
    fn a_private_file_is_not_written_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("victim");
        std::fs::write(&target, b"theirs").unwrap();
        let p = dir.path().join("backup.json");
        std::os::unix::fs::symlink(&target, &p).unwrap();
        let e = write_private(&p, b"plaintext").unwrap_err();
        assert!(e.get_ref().is_some_and(|i| i.is::<NotPrivate>()), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"theirs");
        assert!(std::fs::symlink_metadata(&p)
            .unwrap()
            .file_type()
            .is_symlink());
    }

    /// One of this process's own descriptors open on a regular file (`--backup /dev/stdout >
    /// b.json`) is written to as it is: the name was removed (as root, the link /dev/stdout
    /// itself) and a new file made there; this test's /proc/self/fd/N could not be removed, so
    /// the write failed.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_private_file_into_an_own_descriptor_is_written_through_it() {
        use std::os::fd::AsRawFd as _;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("redirected.json");
        std::fs::write(&p, b"").unwrap();
        let mut held = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        held.write_all(b"before\n").unwrap();
        let name = PathBuf::from(format!("/proc/self/fd/{}", held.as_raw_fd()));
        assert_eq!(private_target(&name).unwrap(), PrivateTarget::Stream);
        write_private(&name, b"plaintext").unwrap();
        // Through the descriptor, at its offset: what it writes next follows the copy.
        held.write_all(b"\nafter").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"before\nplaintext\nafter");
        assert!(std::fs::symlink_metadata(&name)
            .unwrap()
            .file_type()
            .is_symlink());
    }

    /// A FIFO (`--backup >(gpg -e ...)`) is written to as it is: not chmodded (as root, a chmod
    /// of /dev/null made it 0600 for everyone), not synced (fsync on it is EINVAL: the run
    /// failed after the state was written).
    #[cfg(unix)]
    #[test]
    fn a_private_file_into_a_pipe_is_written_without_chmod_or_sync() {
        use std::io::Read as _;
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("backup.fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: `c` is a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        std::fs::set_permissions(&fifo, std::fs::Permissions::from_mode(0o644)).unwrap();
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                std::fs::File::open(&fifo)
                    .unwrap()
                    .read_to_end(&mut got)
                    .unwrap();
                got
            })
        };
        let written = write_private(&fifo, b"plaintext");
        if written.is_err() {
            // Let the reader go.
            drop(std::fs::OpenOptions::new().write(true).open(&fifo));
        }
        let got = reader.join().unwrap();
        written.unwrap();
        assert_eq!(got, b"plaintext");
        let mode = std::fs::metadata(&fifo).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }

    /// `--backup PIPE`: what is opened is the pipe that was checked. Between the check and the
    /// open, whoever may rename in the pipe's directory could put a link there (the open
    /// followed it and wrote the plaintext into the file it led to: theirs to read, or root's
    /// to corrupt), or a pipe or file of their own. Each swap is refused, and nothing written.
    #[cfg(unix)]
    #[test]
    fn a_pipe_swapped_after_its_check_is_not_written_to() {
        use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
        let dir = tempfile::tempdir().unwrap();
        let mkfifo = |p: &Path| {
            let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
            // SAFETY: `c` is a NUL-terminated path that outlives the call.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        };
        let fifo = dir.path().join("backup.fifo");
        mkfifo(&fifo);
        let judged = std::fs::metadata(&fifo).unwrap();
        std::fs::rename(&fifo, dir.path().join("moved.fifo")).unwrap();
        let swapped = |e: std::io::Error| {
            e.get_ref()
                .and_then(|i| i.downcast_ref::<NotPrivate>())
                .is_some_and(|n| matches!(n, NotPrivate::Swapped))
        };

        // A link to a file: not followed, the file untouched.
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"untouched").unwrap();
        std::os::unix::fs::symlink(&victim, &fifo).unwrap();
        let r = open_judged_stream(&fifo, &judged).map(|mut f| f.write_all(b"plaintext"));
        assert!(r.is_err_and(swapped), "opened through the link");
        assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");

        // Another file by that name (a regular file here; a pipe of another user's alike).
        std::fs::remove_file(&fifo).unwrap();
        std::fs::write(&fifo, b"untouched").unwrap();
        assert_ne!(std::fs::metadata(&fifo).unwrap().ino(), judged.ino());
        let r = open_judged_stream(&fifo, &judged).map(|mut f| f.write_all(b"plaintext"));
        assert!(r.is_err_and(swapped), "opened another file");
        assert_eq!(std::fs::read(&fifo).unwrap(), b"untouched");

        // The pipe checked, back at its name: opened.
        std::fs::remove_file(&fifo).unwrap();
        std::fs::rename(dir.path().join("moved.fifo"), &fifo).unwrap();
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        assert!(open_judged_stream(&fifo, &judged).is_ok());
        drop(reader);
    }
}
