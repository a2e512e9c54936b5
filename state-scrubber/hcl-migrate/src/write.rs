//! Writing rewritten files; what decides that a printed literal may be a secret.

use crate::MigrateError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One file to replace: its path, its new content, and its content now (for a rollback).
pub(crate) struct Replacement<'a> {
    pub path: &'a Path,
    pub rewritten: &'a [u8],
    pub original: &'a [u8],
}

/// A step of [`replace_all`], for fault injection in tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Writing the temporary file that will replace the file.
    Prepare,
    /// Renaming that temporary file over the file.
    Rename,
}

/// Replaces every file, all or nothing as far as a filesystem allows: first every new content is
/// written to a temporary file next to its target (fsync, the original's permissions), and only
/// when all of them are ready are they renamed over their targets. If a rename fails, the files
/// already replaced get their original content back, so the module is never left half migrated
/// (a half-migrated module does not plan: references dangle). `hook` runs before each step of each
/// file; an error from it fails that step.
pub(crate) fn replace_all(
    files: &[Replacement],
    hook: &dyn Fn(Step, &Path) -> std::io::Result<()>,
) -> Result<(), MigrateError> {
    let mut prepared = Vec::with_capacity(files.len());
    for file in files {
        hook(Step::Prepare, file.path).map_err(|e| MigrateError::io(file.path, e))?;
        // An error drops the temporary files made so far, which deletes them.
        prepared.push(prepare(file.path, file.rewritten)?);
    }
    let mut done: Vec<&Replacement> = Vec::with_capacity(files.len());
    for (file, temp) in files.iter().zip(prepared) {
        let renamed = hook(Step::Rename, file.path)
            .and_then(|()| temp.persist(file.path).map_err(|e| e.error))
            .map_err(|e| MigrateError::io(file.path, e));
        if let Err(error) = renamed {
            let mut not_restored = Vec::new();
            for file in done.iter().rev() {
                if write_atomically(file.path, file.original).is_err() {
                    not_restored.push(file.path.to_path_buf());
                }
            }
            if not_restored.is_empty() {
                return Err(error);
            }
            return Err(MigrateError::PartlyWritten {
                error: Box::new(error),
                migrated: not_restored,
            });
        }
        done.push(file);
    }
    let mut dirs: Vec<&Path> = files.iter().map(|file| parent(file.path)).collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        sync_dir(dir)?;
    }
    Ok(())
}

/// The file to replace for `path`: `path` itself, or the file a symlink there names (renaming
/// over the link would make it a copy, and leave the file it shared alone).
pub(crate) fn target(path: &Path) -> Result<PathBuf, MigrateError> {
    let link = std::fs::symlink_metadata(path)
        .map_err(|e| MigrateError::io(path, e))?
        .file_type()
        .is_symlink();
    if link {
        std::fs::canonicalize(path).map_err(|e| MigrateError::io(path, e))
    } else {
        Ok(path.to_path_buf())
    }
}

fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The new content in a temporary file in `path`'s directory (same filesystem, so the rename is
/// atomic), synced, with `path`'s permissions, owner and group.
///
/// `path` is replaced only where `terraform fmt` would write it: a file this user may not open
/// for writing (mode 0444 to anyone but root, a read-only mount) is refused, as is one whose
/// owner or group the new file cannot be given (the rename would make it this user's). Either
/// refusal comes before any file is renamed, so nothing is written.
fn prepare(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile, MigrateError> {
    let dir = parent(path);
    let metadata = std::fs::metadata(path).map_err(|e| MigrateError::io(path, e))?;
    // Opened for writing and closed at once (no byte written): the kernel's own answer, ACLs and
    // root included.
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                MigrateError::NotWritable {
                    path: path.to_path_buf(),
                    error,
                }
            }
            _ => MigrateError::io(path, error),
        })?;
    let mut temp = tempfile::Builder::new()
        .prefix(".hcl-migrate-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                MigrateError::DirNotWritable {
                    path: path.to_path_buf(),
                    dir: dir.to_path_buf(),
                    error,
                }
            }
            _ => MigrateError::io(dir, error),
        })?;
    keep_owner(temp.as_file(), path, &metadata)?;
    temp.write_all(bytes)
        .map_err(|e| MigrateError::io(temp.path(), e))?;
    temp.as_file()
        .sync_all()
        .map_err(|e| MigrateError::io(temp.path(), e))?;
    std::fs::set_permissions(temp.path(), metadata.permissions())
        .map_err(|e| MigrateError::io(temp.path(), e))?;
    Ok(temp)
}

/// Gives `temp` (this process's new file) the owner and group of `path` (whose metadata is
/// `want`), when they differ: root may; another user only the group of a group it is in.
#[cfg(unix)]
fn keep_owner(
    temp: &std::fs::File,
    path: &Path,
    want: &std::fs::Metadata,
) -> Result<(), MigrateError> {
    use std::os::unix::fs::MetadataExt;
    let have = temp.metadata().map_err(|e| MigrateError::io(path, e))?;
    if (have.uid(), have.gid()) == (want.uid(), want.gid()) {
        return Ok(());
    }
    std::os::unix::fs::fchown(temp, Some(want.uid()), Some(want.gid())).map_err(|error| match error
        .kind()
    {
        std::io::ErrorKind::PermissionDenied => MigrateError::OwnerNotKept {
            path: path.to_path_buf(),
            uid: want.uid(),
            gid: want.gid(),
        },
        _ => MigrateError::io(path, error),
    })
}

#[cfg(not(unix))]
fn keep_owner(
    _temp: &std::fs::File,
    _path: &Path,
    _want: &std::fs::Metadata,
) -> Result<(), MigrateError> {
    Ok(())
}

/// Makes the renames in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), MigrateError> {
    #[cfg(unix)]
    {
        let handle = std::fs::File::open(dir).map_err(|e| MigrateError::io(dir, e))?;
        handle.sync_all().map_err(|e| MigrateError::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), MigrateError> {
    prepare(path, bytes)?
        .persist(path)
        .map_err(|e| MigrateError::io(path, e.error))?;
    sync_dir(parent(path))
}

/// Decides whether text printed in a diff may be a secret: the contents of one string literal (or
/// one heredoc body line, with no key), and the argument its line assigns, if any. The library
/// knows secret *arguments*; recognising secret *values* (cloud keys, tokens, URLs with a
/// password) is the caller's rule set, so the caller supplies it.
pub type SecretCheck<'a> = &'a dyn Fn(Option<&str>, &str) -> bool;
