//! Files this program writes beside the user's own (a baseline, a report): whole or not at all.

use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to `path` atomically: a temporary file in the same directory (named with
/// `prefix`), synced, then renamed over `path`. A run that fails half-way, or reads and rewrites
/// the same file, never leaves it half-written. The file keeps an existing file's mode, else
/// gets the usual 0644: what goes through here (baselines, reports) holds no secret.
///
/// A symlink is followed: the file it points to is replaced (the temporary file in *its*
/// directory, so the rename stays atomic) and the link is kept, as `scrub` writes a state.
/// Renaming over the link replaced a baseline shared through links with a copy nobody else
/// reads. A link to nothing is an error (NotFound).
///
/// A character device or a FIFO (`/dev/null`, `/dev/stdout`, `mkfifo`, a process substitution)
/// is a stream, not a file to replace: it is opened and written directly, as `> /dev/null` or
/// gitleaks' `-r /dev/null` would (see [`is_stream`]).
pub fn write_atomically(path: &Path, prefix: &str, bytes: &[u8]) -> std::io::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| is_stream(&m)) {
        let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
        f.write_all(bytes)?;
        return f.flush();
    }
    // Only a regular file is replaced (the CLI refuses the rest first): never a directory, a
    // block device or a socket, nor /dev/null should the branch above ever miss it.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file, a character device or a pipe",
        ));
    }
    let target;
    let path = if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        target = std::fs::canonicalize(path)?;
        target.as_path()
    } else {
        path
    };
    let dir = directory_of(path);
    let mut temp = tempfile::Builder::new().prefix(prefix).tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    let permissions = match std::fs::metadata(path) {
        Ok(m) => m.permissions(),
        Err(_) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::Permissions::from_mode(0o644)
            }
            #[cfg(not(unix))]
            {
                temp.as_file().metadata()?.permissions()
            }
        }
    };
    std::fs::set_permissions(temp.path(), permissions)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A character device or a FIFO (after symlinks, so `/dev/stdout` is what stdout is): written to
/// directly, never replaced by a rename, and never "a file this run would replace".
pub fn is_stream(m: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        m.file_type().is_char_device() || m.file_type().is_fifo()
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        false
    }
}

/// The directory a file written at `path` goes into (and its temporary file beside it): `.` for
/// a bare name.
pub fn directory_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn replaces_whole_and_keeps_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.sarif");
        write_atomically(&path, ".t-", b"first").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomically(&path, ".t-", b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // Nothing left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A FIFO is written to, not renamed over (before: a regular file in its place). Not tried
    /// on /dev/null: should this break, a test run as root would replace the machine's.
    #[cfg(unix)]
    #[test]
    fn streams_are_written_directly() {
        use std::io::Read as _;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut s = String::new();
                std::fs::File::open(&fifo)
                    .unwrap()
                    .read_to_string(&mut s)
                    .unwrap();
                s
            })
        };
        write_atomically(&fifo, ".t-", b"through the pipe").unwrap();
        // Before joining: a FIFO renamed over leaves its reader waiting for ever.
        assert!(is_stream(&std::fs::metadata(&fifo).unwrap()));
        assert_eq!(reader.join().unwrap(), "through the pipe");
        // Nothing but the FIFO in its directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_directory_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/report.json");
        assert!(write_atomically(&path, ".t-", b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
