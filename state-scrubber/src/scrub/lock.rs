//! Terraform's lock on a local state file, taken by `scrub --write` and `restore --write`.
//!
//! Terraform's local backend locks `terraform.tfstate` for as long as a plan or an apply runs
//! (including while apply waits at its "Enter a value" prompt): an fcntl write lock on the
//! whole open file, and beside it `.terraform.tfstate.lock.info`, JSON saying who holds it
//! (hashicorp/terraform `internal/states/statemgr/filesystem.go` and `filesystem_lock_unix.go`).
//! We take the same lock, so that:
//!
//! - a scrub started during an apply stops at once, naming the lock's holder, before anything is
//!   stored (instead of finding out at the end, through the compare-and-swap, after every value
//!   is in Secrets Manager);
//! - a plan or apply started during a scrub fails with Terraform's own "Error acquiring the
//!   state lock", showing our lock info, instead of writing a state that the scrub would then
//!   either refuse to replace or, in the instant between its check and its rename, overwrite.
//!
//! On Linux the lock is an open-file-description lock (`F_OFD_SETLK`): it conflicts with
//! Terraform's classic POSIX lock both ways, and unlike a POSIX lock it is not dropped when any
//! other descriptor of the file in this process is closed. Elsewhere it is the classic lock, and
//! the state is read only through the locked descriptor for that reason.
//!
//! The state is still replaced by a rename (atomic: a crash leaves the old or the new file). A
//! Terraform that started waiting for the lock with `-lock-timeout` during the scrub holds the
//! old file open, and would take the lock on it once the scrub lets go, read the old state from
//! it and write its result into a file no path names any more. So the moment the rename is
//! done, while the lock is still held, the old file, no longer at the path, is overwritten with
//! a short text that is not a state (not later: a scrub killed after its rename lets go without
//! running any destructor): such a Terraform fails to load it and changes nothing; run again,
//! it reads the new state. A state with other names (hard links) is refused up front: the old
//! file would stay under them, with the state in it.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

/// What the old file holds once a rename replaced it (see the module doc). Not JSON, so that
/// Terraform's state reader refuses it rather than reading it as an empty or a legacy state.
const REPLACED: &[u8] = b"state-scrubber replaced this state file by a new one at the same path; \
read the state from that path again\n";

/// Who holds a lock, as Terraform writes it to `.NAME.lock.info` (its `statemgr.LockInfo`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LockInfo {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Operation")]
    pub operation: String,
    #[serde(rename = "Info")]
    pub info: String,
    #[serde(rename = "Who")]
    pub who: String,
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Created")]
    pub created: String,
    #[serde(rename = "Path")]
    pub path: String,
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        for (k, v) in [
            ("ID", &self.id),
            ("operation", &self.operation),
            ("who", &self.who),
            ("version", &self.version),
            ("created", &self.created),
            ("info", &self.info),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k} {v}"));
            }
        }
        f.write_str(&parts.join(", "))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock: most likely a `terraform plan` or `apply`, or another
    /// scrub or restore (the lock info's operation says which).
    #[error(
        "{path} is locked by another process{}: nothing was {what}. Run the command again once \
         that process has finished (an fcntl lock ends with the process holding it)",
        holder.as_ref().map(|h| format!(" (lock info: {h})")).unwrap_or_default()
    )]
    Held {
        path: String,
        what: &'static str,
        holder: Option<Box<LockInfo>>,
    },
    /// The state could not be opened (it does not exist, say): an error of the read.
    #[error("reading {path}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A FIFO, a device, a directory: nothing to lock, read and replace by a rename.
    #[error(
        "{path}: not a regular file, so not a state file --write can lock and replace: nothing \
         was {what}"
    )]
    NotRegular { path: String, what: &'static str },
    /// The filesystem takes no fcntl locks (ENOLCK: an NFS mount without its lock service, some
    /// network or FUSE filesystems). Terraform fails there too, unless run with `-lock=false`.
    #[error(
        "{path}: its filesystem does not take fcntl locks, the lock Terraform's local backend \
         takes ({cause}): nothing was {what}. Terraform runs there only with -lock=false; \
         state-scrubber does not write a state unlocked. While no plan or apply runs, write the \
         result elsewhere (`{operation} - --write ... < {path} > NEW`) and move NEW over {path}"
    )]
    NoLocks {
        path: String,
        what: &'static str,
        operation: String,
        cause: std::io::Error,
    },
    /// More than one name (hard links) for the state file: the rename would give the path a new
    /// file and leave the old state under the other names, where a Terraform waiting for the
    /// lock would also read it and write its apply (the old file is overwritten only when no
    /// name is left for it).
    #[error(
        "{path} has {links} names (hard links): --write replaces it by a rename, which would \
         leave the state as it was (plaintext included, for a scrub) under the other names, and a \
         Terraform waiting for the lock would read and write that copy: nothing was {what}. Remove \
         the other names (`find DIR -xdev -samefile {path}` lists them), or write the result \
         elsewhere (`{operation} - --write ... < {path} > NEW`)"
    )]
    Linked {
        path: String,
        links: u64,
        what: &'static str,
        operation: String,
    },
    /// The path named another file by the time the lock was taken.
    #[error(
        "{path} was replaced by another file while it was being locked (another scrub or \
         restore finishing, an editor saving): nothing was {what}. Run the command again"
    )]
    Moved { path: String, what: &'static str },
    /// Any other failure to lock (or to write the lock info).
    #[error("locking {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl LockError {
    /// What an error of `fcntl` on `path` means.
    fn of_fcntl(path: &Path, what: &'static str, operation: &str, e: std::io::Error) -> Self {
        let path = path.display().to_string();
        #[cfg(unix)]
        if matches!(
            e.raw_os_error(),
            Some(libc::ENOLCK) | Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS)
        ) {
            return LockError::NoLocks {
                path,
                what,
                operation: operation.to_string(),
                cause: e,
            };
        }
        let _ = operation;
        LockError::Io { path, source: e }
    }
}

/// The lock on one state file, held until dropped. Reads of the state go through it.
pub struct StateLock {
    file: File,
    path: PathBuf,
    info_path: PathBuf,
    id: String,
    replaced: bool,
}

impl std::fmt::Debug for StateLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateLock")
            .field("path", &self.path)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// `.NAME.lock.info` beside `path`, named as Terraform names it (a leading dot of NAME is not
/// doubled). The path as given, links not followed, as Terraform does.
pub fn info_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = name.strip_prefix('.').unwrap_or(&name);
    path.with_file_name(format!(".{name}.lock.info"))
}

impl StateLock {
    /// Opens `path` read-write and takes the lock without waiting. `operation` goes into the
    /// lock info (`state-scrubber scrub`); `what` into the message when the lock is held
    /// ("stored or written").
    pub fn acquire(path: &Path, operation: &str, what: &'static str) -> Result<Self, LockError> {
        let shown = || path.display().to_string();
        let not_regular = || LockError::NotRegular {
            path: shown(),
            what,
        };
        // A FIFO or a device is not opened at all (opening one can block, or lock a device
        // and write lock info into /dev); a directory cannot be opened for writing.
        match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => return Err(not_regular()),
            _ => {}
        }
        // Not created: a state that does not exist is an error of the read, as before.
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true).write(true);
        #[cfg(unix)]
        {
            // Never blocks on open, should a FIFO have taken the file's place since.
            use std::os::unix::fs::OpenOptionsExt;
            opts.custom_flags(libc::O_NONBLOCK);
        }
        let file = opts.open(path).map_err(|source| LockError::Open {
            path: shown(),
            source,
        })?;
        let meta = match file.metadata() {
            Ok(m) if m.is_file() => m,
            _ => return Err(not_regular()),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let links = meta.nlink();
            if links > 1 {
                return Err(LockError::Linked {
                    path: shown(),
                    links,
                    what,
                    operation: operation.to_string(),
                });
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        Self::lock_opened(file, path, operation, what)
    }

    /// [`Self::acquire`] once `file` is open: the lock, then the lock info.
    fn lock_opened(
        file: File,
        path: &Path,
        operation: &str,
        what: &'static str,
    ) -> Result<Self, LockError> {
        let shown = || path.display().to_string();
        let info_path = info_path(path);
        match try_lock(&file) {
            Ok(true) => {}
            Ok(false) => {
                let holder = std::fs::read(&info_path)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<LockInfo>(&b).ok())
                    .map(Box::new);
                return Err(LockError::Held {
                    path: shown(),
                    what,
                    holder,
                });
            }
            Err(e) => return Err(LockError::of_fcntl(path, what, operation, e)),
        }
        // Between the open and the lock, a rename may have put another file at the path (another
        // scrub or restore finishing: the file opened is then its overwritten old one). The
        // lock on a file no longer at the path guards nothing.
        if !names(path, &file).unwrap_or(false) {
            return Err(LockError::Moved {
                path: shown(),
                what,
            });
        }
        let id = random_uuid();
        let info = LockInfo {
            id: id.clone(),
            operation: operation.to_string(),
            info: String::new(),
            who: who(),
            version: format!("state-scrubber {}", env!("CARGO_PKG_VERSION")),
            created: rfc3339_now(),
            path: path.display().to_string(),
        };
        // Terraform writes it with mode 0600, replacing a stale one a crash left behind.
        let json = serde_json::to_vec(&info).expect("lock info serializes");
        // A second SIGINT/SIGTERM exits once the info is written and recorded, so that it
        // removes it (in between, it would know of no info to remove).
        let writing = super::interrupt::replacing();
        super::rewrite::write_private(&info_path, &json).map_err(|source| LockError::Io {
            path: info_path.display().to_string(),
            source,
        })?;
        // The state's owner and group, as for the state itself: a scrub run as root and killed
        // outright leaves the info behind, and Terraform run as the state's owner must be able
        // to write over it (it opens it for writing, mode 0600). Best effort: not root, it is
        // this user's file already, or the owner cannot be given.
        #[cfg(unix)]
        if let Ok(m) = file.metadata() {
            use std::os::unix::fs::MetadataExt;
            // lchown: never the target of a link planted at that name.
            let _ = std::os::unix::fs::lchown(&info_path, Some(m.uid()), Some(m.gid()));
        }
        super::interrupt::lock_taken(info_path.clone(), id.clone());
        drop(writing);
        Ok(Self {
            file,
            path: path.to_path_buf(),
            info_path,
            id,
            replaced: false,
        })
    }

    /// The whole file, read through the locked descriptor.
    pub fn read(&mut self) -> std::io::Result<Vec<u8>> {
        self.file.seek(SeekFrom::Start(0))?;
        let mut buf = Vec::new();
        self.file.read_to_end(&mut buf)?;
        Ok(buf)
    }

    /// Whether the path still names the file this lock holds (a rename by someone else would
    /// have put another file there).
    pub fn still_at_path(&self) -> std::io::Result<bool> {
        names(&self.path, &self.file)
    }

    /// Whether `target`, not followed if it is a link, is the file this lock holds.
    pub fn is_at(&self, target: &Path) -> std::io::Result<bool> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let (held, now) = (self.file.metadata()?, std::fs::symlink_metadata(target)?);
            Ok(held.dev() == now.dev() && held.ino() == now.ino())
        }
        #[cfg(not(unix))]
        {
            let _ = target;
            Ok(true)
        }
    }

    /// Whether no name is left for the locked file (a rename replaced its only one).
    fn orphaned(&self) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            self.file.metadata().is_ok_and(|m| m.nlink() == 0)
        }
        #[cfg(not(unix))]
        {
            false
        }
    }

    /// Called the moment a rename put a new file at the path (see the module doc): the old
    /// file, if no name is left for it, is overwritten at once, while the lock is still held.
    /// Not later, when the lock is dropped: a scrub killed in between (SIGKILL, Ctrl-C, while it
    /// writes `--backup` or deletes manifest pages) lets go of its lock without running any
    /// destructor, and a Terraform waiting for the lock would read the state in the old file. A
    /// file that another hard link still names is left as it is: it is that name's state.
    pub fn replaced(&mut self) {
        if self.replaced {
            return;
        }
        self.replaced = true;
        if self.orphaned() {
            let _ = self.file.set_len(0);
            let _ = self.file.seek(SeekFrom::Start(0));
            let _ = self.file.write_all(REPLACED);
        }
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        // The info file goes only if it is still ours; the lock itself goes with the descriptor,
        // after this.
        remove_info_if_ours(&self.info_path, &self.id);
        super::interrupt::lock_released();
    }
}

/// Remove the lock info at `info_path` if it is still the one of lock `id` (Terraform, or
/// another scrub, may have taken the lock over since and written its own).
pub(crate) fn remove_info_if_ours(info_path: &Path, id: &str) {
    let ours = std::fs::read(info_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<LockInfo>(&b).ok())
        .is_some_and(|i| i.id == id);
    if ours {
        let _ = std::fs::remove_file(info_path);
    }
}

/// Whether `path` (links followed) names the open `file`.
fn names(path: &Path, file: &File) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (held, now) = (file.metadata()?, std::fs::metadata(path)?);
        Ok(held.dev() == now.dev() && held.ino() == now.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = (path, file);
        Ok(true)
    }
}

/// Whether another process (a `terraform plan` or `apply`, a scrub) holds a write lock on
/// `path`, asked without taking any lock (`F_OFD_GETLK`, `F_GETLK` elsewhere): the holder's lock
/// info, if its file can be read. `None` when no one does, or it cannot be told. For the dry
/// run, which takes no lock (a lock held while it reads Secrets Manager would make a Terraform
/// run started meanwhile fail to take its own) but says when it read a state Terraform holds.
#[cfg(unix)]
pub fn held_by_other(path: &Path) -> Option<Option<LockInfo>> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let cmd = libc::F_OFD_GETLK;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let cmd = libc::F_GETLK;
    let mut fl = whole_file(libc::F_RDLCK);
    // SAFETY: a valid descriptor and a pointer to an initialised `flock` that outlives the call.
    let r = unsafe { libc::fcntl(file.as_raw_fd(), cmd, &mut fl as *mut libc::flock) };
    if r != 0 || libc::c_int::from(fl.l_type) == libc::F_UNLCK {
        return None;
    }
    Some(
        std::fs::read(info_path(path))
            .ok()
            .and_then(|b| serde_json::from_slice::<LockInfo>(&b).ok()),
    )
}

#[cfg(not(unix))]
pub fn held_by_other(_path: &Path) -> Option<Option<LockInfo>> {
    None
}

/// An fcntl lock (or query) of type `l_type` (`F_RDLCK`, `F_WRLCK`) on the whole file: from
/// its start (`l_start` 0) to its end, however it grows (`l_len` 0).
#[cfg(unix)]
fn whole_file(l_type: libc::c_int) -> libc::flock {
    // SAFETY: an all-zero `flock` is a valid value (l_pid must be 0 for an OFD lock or query).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = l_type as _;
    fl.l_whence = libc::SEEK_SET as _;
    fl
}

/// An fcntl write lock on the whole file, without waiting: `Ok(false)` when another holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let cmd = libc::F_OFD_SETLK;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let cmd = libc::F_SETLK;
    let fl = whole_file(libc::F_WRLCK);
    // SAFETY: a valid descriptor and a pointer to an initialised `flock` that outlives the call.
    let r = unsafe { libc::fcntl(file.as_raw_fd(), cmd, &fl as *const libc::flock) };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EAGAIN) | Some(libc::EACCES) => Ok(false),
        _ => Err(e),
    }
}

#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

/// `user@host`, as Terraform fills `Who` (the user from the password database, as Go's
/// `user.Current` reads it; `USER` only where there is none).
fn who() -> String {
    let user = user_name()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_default();
    format!("{user}@{}", hostname())
}

#[cfg(unix)]
fn user_name() -> Option<String> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: an all-zero `passwd` is a valid value to be filled in.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; `buf` outlives the use of `pwd`'s strings.
    let r = unsafe {
        libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if r != 0 || result.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: getpwuid_r succeeded, so pw_name points to a NUL-terminated string in `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    Some(name.to_string_lossy().into_owned())
}

#[cfg(not(unix))]
fn user_name() -> Option<String> {
    None
}

#[cfg(unix)]
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; the result is NUL-terminated when it fits.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(not(unix))]
fn hostname() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_default()
}

/// A version 4 UUID, the form Terraform's lock IDs take.
fn random_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Now, UTC, RFC 3339 with nanoseconds: what Go's `time.Time` encodes to and decodes from.
fn rfc3339_now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(d.as_secs() as i64, d.subsec_nanos())
}

fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Held by `scrub --write` from before it reads Secrets Manager until the state is written (or
/// its manifest entries taken back): one scrub at a time per lineage and prefix on this
/// machine. Two states of one lineage (a state and its `.backup`, scrubbed by `xargs -P`)
/// share the manifest and the secrets: each decides from the manifest whether it is older than
/// the newest scrubbed state, and one that missed the other's entries put its older values on
/// the secrets as AWSCURRENT (and a manifest saved by both at once may lose one's entries).
/// An `flock` on a file in the temporary directory, named by a digest of the prefix and the
/// lineage; released when the process ends, however it ends. The second scrub waits for the
/// first (`run_scrub`).
///
/// The holder removes the file when it lets go (while it still holds the lock, and only if the
/// path still names the file it locked), so runs leave no empty `state-scrubber-*.lock` behind.
/// Removing a lock file others may be waiting on is safe only because every taker checks,
/// once it holds the lock, that the path still names the file it locked, and starts over
/// otherwise: a waiter that opened the file before it was removed gets the lock on a file no
/// path names, sees that, and locks the new file at the path instead. A run that ends by a
/// signal or is killed leaves its file; the next run at that path takes it and removes it.
pub struct LineageLock {
    _file: Option<File>,
    path: PathBuf,
}

/// Whether `path` (not followed if it is a link) names the file `file` has open.
#[cfg(unix)]
fn names_file(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::symlink_metadata(path), file.metadata()) {
        (Ok(p), Ok(f)) => p.dev() == f.dev() && p.ino() == f.ino(),
        _ => false,
    }
}

impl Drop for LineageLock {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(file) = &self._file {
            // Still locked here: no one else holds this file, and whoever opened it meanwhile
            // finds, once it holds the lock, that the path no longer names it.
            if names_file(&self.path, file) {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// Another scrub of the same lineage under the same prefix holds [`LineageLock`].
#[derive(Debug, thiserror::Error)]
#[error("another `state-scrubber scrub --write` of lineage {lineage} under --prefix {prefix} is running on this machine (it holds {})", path.display())]
pub struct LineageBusy {
    pub lineage: String,
    pub prefix: String,
    pub path: PathBuf,
}

impl LineageLock {
    /// The lock file of `prefix` (without trailing `/`) and `lineage`.
    pub fn path(prefix: &str, lineage: &str) -> PathBuf {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [prefix, lineage] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        let digest = crate::finding::hex(&h.finalize()[..16]);
        std::env::temp_dir().join(format!("state-scrubber-{digest}.lock"))
    }

    /// Take the lock at once, or fail with [`LineageBusy`] (wrapped in the `io::Error`) when
    /// another process holds it.
    #[cfg(unix)]
    pub fn acquire(prefix: &str, lineage: &str) -> std::io::Result<LineageLock> {
        Self::acquire_at(Self::path(prefix, lineage), prefix, lineage)
    }

    /// [`LineageLock::acquire`] with the lock file at `path`.
    #[cfg(unix)]
    pub fn acquire_at(path: PathBuf, prefix: &str, lineage: &str) -> std::io::Result<LineageLock> {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::io::AsRawFd;
        let open = |write: bool| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(write)
                .create(write)
                .mode(0o644)
                // A shared temporary directory: never follow a link planted there.
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&path)
        };
        loop {
            let file = match open(true) {
                // Another user's lock file: flock needs no write access.
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => open(false)?,
                r => r?,
            };
            // SAFETY: flock on a descriptor this function owns.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                if names_file(&path, &file) {
                    return Ok(LineageLock {
                        _file: Some(file),
                        path,
                    });
                }
                // Its holder removed it between our open and our flock: lock the file at the
                // path now (a new one, or one another run made meanwhile).
                continue;
            }
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EWOULDBLOCK) => {
                    return Err(std::io::Error::other(LineageBusy {
                        lineage: lineage.to_string(),
                        prefix: prefix.to_string(),
                        path,
                    }))
                }
                _ => return Err(e),
            }
        }
    }

    #[cfg(not(unix))]
    pub fn acquire(prefix: &str, lineage: &str) -> std::io::Result<LineageLock> {
        Ok(LineageLock {
            _file: None,
            path: Self::path(prefix, lineage),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Review finding: every scrub --write left an empty `state-scrubber-DIGEST.lock` in the
    /// temporary directory. The holder now removes it; a second taker is refused while it is
    /// held, and takes a new file at the path afterwards.
    #[cfg(unix)]
    #[test]
    fn the_lineage_lock_file_goes_with_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state-scrubber-test.lock");
        let a = LineageLock::acquire_at(path.clone(), "p", "l").unwrap();
        assert!(path.exists(), "held: the file is there");
        let busy = LineageLock::acquire_at(path.clone(), "p", "l")
            .map(|_| ())
            .unwrap_err();
        assert!(busy.get_ref().is_some_and(|i| i.is::<LineageBusy>()));
        drop(a);
        assert!(!path.exists(), "let go: the file is removed");

        // A file left by a run that was killed is taken, and removed in turn.
        std::fs::write(&path, b"").unwrap();
        drop(LineageLock::acquire_at(path.clone(), "p", "l").unwrap());
        assert!(!path.exists());

        // A holder whose file was replaced at the path (not by a lock holder) leaves the new
        // file alone.
        let b = LineageLock::acquire_at(path.clone(), "p", "l").unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"other").unwrap();
        drop(b);
        assert_eq!(std::fs::read(&path).unwrap(), b"other");
    }

    /// A waiter that opened the file before its holder removed it gets a lock on a file no path
    /// names: taking the lock checks the path and starts over on the file there.
    #[cfg(unix)]
    #[test]
    fn a_lock_on_a_removed_file_is_not_taken_for_the_lock() {
        use std::os::unix::io::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state-scrubber-test.lock");
        let a = LineageLock::acquire_at(path.clone(), "p", "l").unwrap();
        // The waiter's open, before the holder lets go.
        let stale = File::open(&path).unwrap();
        drop(a);
        // SAFETY: flock on a descriptor this test owns.
        assert_eq!(
            unsafe { libc::flock(stale.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
            0,
            "the removed file's lock is free"
        );
        assert!(!names_file(&path, &stale), "and no path names that file");
        // Meanwhile another run took the file at the path: the waiter must wait for it.
        let c = LineageLock::acquire_at(path.clone(), "p", "l").unwrap();
        assert!(LineageLock::acquire_at(path.clone(), "p", "l").is_err());
        drop(c);
        drop(stale);
    }

    #[test]
    fn dates_are_rfc3339() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(rfc3339(1_795_650_000, 0), "2026-11-25T23:40:00.000000000Z");
    }

    #[test]
    fn info_path_is_terraforms() {
        assert_eq!(
            info_path(Path::new("/x/terraform.tfstate")),
            Path::new("/x/.terraform.tfstate.lock.info")
        );
        assert_eq!(
            info_path(Path::new(".hidden")),
            Path::new(".hidden.lock.info")
        );
    }

    #[test]
    fn uuid_has_the_v4_form() {
        let u = random_uuid();
        let re = regex::Regex::new(
            r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        )
        .unwrap();
        assert!(re.is_match(&u), "{u}");
    }

    /// ENOLCK (an NFS mount without its lock service) says what to do instead; every lock error
    /// names the OS error once in the chain `main` prints (`{:#}`).
    #[cfg(unix)]
    #[test]
    fn lock_errors_say_their_cause_once() {
        let p = Path::new("s.tfstate");
        let shown = |e: LockError| format!("{:#}", anyhow::Error::from(e));
        let os = std::io::Error::from_raw_os_error;
        let nolck = os(libc::ENOLCK).to_string();
        let text = shown(LockError::of_fcntl(
            p,
            "stored or written",
            "state-scrubber scrub",
            os(libc::ENOLCK),
        ));
        assert!(
            text.contains("s.tfstate: its filesystem does not take fcntl locks"),
            "{text}"
        );
        assert!(text.contains("nothing was stored or written"), "{text}");
        assert!(
            text.contains("`state-scrubber scrub - --write ... < s.tfstate > NEW`"),
            "{text}"
        );
        assert_eq!(text.matches(&nolck).count(), 1, "{text}");
        let ebadf = os(libc::EBADF).to_string();
        let text = shown(LockError::of_fcntl(
            p,
            "restored",
            "state-scrubber restore",
            os(libc::EBADF),
        ));
        assert_eq!(text, format!("locking s.tfstate: {ebadf}"));
    }

    /// After a rename over the path, the old file is overwritten only when no other name is left
    /// for it: a second hard link keeps its content.
    #[cfg(unix)]
    #[test]
    fn replaced_file_is_overwritten_only_when_orphaned() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("terraform.tfstate");
        for keep_link in [false, true] {
            std::fs::write(&p, b"old").unwrap();
            let link = dir.path().join("other-name");
            let _ = std::fs::remove_file(&link);
            let mut lock = StateLock::acquire(&p, "state-scrubber scrub", "stored").unwrap();
            if keep_link {
                // Made during the run: a link there at the start is refused (below).
                std::fs::hard_link(&p, &link).unwrap();
            }
            let held = lock.file.try_clone().unwrap();
            let tmp = dir.path().join("new");
            std::fs::write(&tmp, b"new").unwrap();
            std::fs::rename(&tmp, &p).unwrap();
            lock.replaced();
            drop(lock);
            let mut old = Vec::new();
            (&held).seek(SeekFrom::Start(0)).unwrap();
            (&held).read_to_end(&mut old).unwrap();
            assert_eq!(std::fs::read(&p).unwrap(), b"new");
            if keep_link {
                assert_eq!(old, b"old", "another name still holds it");
                assert_eq!(std::fs::read(&link).unwrap(), b"old");
            } else {
                assert_eq!(old, REPLACED, "orphaned: no state left in it");
            }
        }
    }

    /// A rename between the open and the lock (another scrub finishing) leaves the opened file
    /// no longer at the path: refused, rather than locking and reading that old file.
    #[cfg(unix)]
    #[test]
    fn a_file_replaced_before_it_is_locked_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("terraform.tfstate");
        std::fs::write(&p, b"old").unwrap();
        let opened = File::options().read(true).write(true).open(&p).unwrap();
        let tmp = dir.path().join("new");
        std::fs::write(&tmp, b"new").unwrap();
        std::fs::rename(&tmp, &p).unwrap();
        let err = StateLock::lock_opened(opened, &p, "state-scrubber scrub", "stored")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("was replaced by another file while it was being locked"),
            "{err}"
        );
        assert!(!info_path(&p).exists(), "no lock info written");
        let mut lock = StateLock::acquire(&p, "state-scrubber scrub", "stored").unwrap();
        assert_eq!(lock.read().unwrap(), b"new");
    }

    /// A state with another name (hard link) at the start is refused: the rename would leave the
    /// old state under that name, for a waiting Terraform to read and write.
    #[cfg(unix)]
    #[test]
    fn a_hard_linked_state_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("terraform.tfstate");
        std::fs::write(&p, b"{}").unwrap();
        std::fs::hard_link(&p, dir.path().join("snapshot")).unwrap();
        let err = StateLock::acquire(&p, "state-scrubber scrub", "stored or written")
            .unwrap_err()
            .to_string();
        assert!(err.contains("has 2 names (hard links)"), "{err}");
        assert!(err.contains("nothing was stored or written"), "{err}");
        assert!(!info_path(&p).exists(), "no lock info written");
    }

    /// A classic POSIX lock, as Terraform takes it, blocks ours; once it is gone, ours is
    /// taken, its info written, and removed again on drop. (OFD and POSIX locks conflict even
    /// within one process on Linux.)
    #[cfg(unix)]
    #[test]
    fn a_terraform_style_lock_is_respected() {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("terraform.tfstate");
        std::fs::write(&p, b"{}").unwrap();
        let theirs = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        let fl = whole_file(libc::F_WRLCK);
        // SAFETY: as in try_lock.
        assert_eq!(
            unsafe { libc::fcntl(theirs.as_raw_fd(), libc::F_SETLK, &fl as *const libc::flock) },
            0
        );
        let info = info_path(&p);
        std::fs::write(
            &info,
            br#"{"ID":"4d3f6c1e-0000-4000-8000-000000000001","Operation":"OperationTypeApply","Info":"","Who":"ci@runner","Version":"1.15.0","Created":"2026-11-26T10:00:00.5Z","Path":"terraform.tfstate"}"#,
        )
        .unwrap();
        let err = StateLock::acquire(&p, "state-scrubber scrub", "stored or written")
            .unwrap_err()
            .to_string();
        assert!(err.contains("is locked by another process"), "{err}");
        assert!(err.contains("OperationTypeApply"), "{err}");
        assert!(err.contains("ci@runner"), "{err}");
        assert!(err.contains("nothing was stored or written"), "{err}");
        drop(theirs); // Terraform's lock goes with its descriptor; its info file may stay
        let mut lock = StateLock::acquire(&p, "state-scrubber scrub", "stored").unwrap();
        assert_eq!(lock.read().unwrap(), b"{}");
        let written: LockInfo = serde_json::from_slice(&std::fs::read(&info).unwrap()).unwrap();
        assert_eq!(written.operation, "state-scrubber scrub");
        assert_eq!(written.id, lock.id);
        assert!(lock.still_at_path().unwrap());
        // A second taker is refused while it is held, and names us.
        let err = StateLock::acquire(&p, "state-scrubber restore", "restored")
            .unwrap_err()
            .to_string();
        assert!(err.contains("state-scrubber scrub"), "{err}");
        drop(lock);
        assert!(!info.exists(), "our lock info is removed");
        assert_eq!(
            std::fs::read(&p).unwrap(),
            b"{}",
            "not replaced: left as it is"
        );
        StateLock::acquire(&p, "state-scrubber scrub", "stored").unwrap();
    }
}
