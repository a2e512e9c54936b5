//! Writing rewritten files; what decides that a printed literal may be a secret.

use crate::MigrateError;
use std::io::Write;
use std::path::Path;

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new file: a temporary
/// file in the same directory (same filesystem, so the rename is atomic), fsync, the original's
/// permissions, rename over the original, fsync of the directory.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), MigrateError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(path)
        .map_err(|e| MigrateError::io(path, e))?
        .permissions();
    let mut temp = tempfile::Builder::new()
        .prefix(".hcl-migrate-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| MigrateError::io(dir, e))?;
    temp.write_all(bytes)
        .map_err(|e| MigrateError::io(temp.path(), e))?;
    temp.as_file()
        .sync_all()
        .map_err(|e| MigrateError::io(temp.path(), e))?;
    std::fs::set_permissions(temp.path(), permissions)
        .map_err(|e| MigrateError::io(temp.path(), e))?;
    temp.persist(path)
        .map_err(|e| MigrateError::io(path, e.error))?;
    #[cfg(unix)]
    {
        let handle = std::fs::File::open(dir).map_err(|e| MigrateError::io(dir, e))?;
        handle.sync_all().map_err(|e| MigrateError::io(dir, e))?;
    }
    Ok(())
}

/// Decides whether text printed in a diff may be a secret: the contents of one string literal (or
/// one heredoc body line, with no key), and the argument its line assigns, if any. The library
/// knows secret *arguments*; recognising secret *values* (cloud keys, tokens, URLs with a
/// password) is the caller's rule set, so the caller supplies it.
pub type SecretCheck<'a> = &'a dyn Fn(Option<&str>, &str) -> bool;
