//! Typed errors. No variant carries a configuration value: parse errors name the file, the line and
//! the column and give the parser's message, never the offending source line (it may hold a secret).

use std::path::PathBuf;

/// Why a migration could not be planned or written. Input files are never modified when planning fails.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The path given is not a directory.
    #[error("{path}: not a directory")]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// Reading, writing or renaming a file failed.
    ///
    /// The message includes the I/O error's, so `source()` does not return it as well: a caller
    /// printing the chain (anyhow's `{:#}`) printed it twice. Match the variant to get at it.
    #[error("{path}: {error}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// A `.tf` file is not valid HCL. Planning stops there, before anything is written: the
    /// message says so, as a run over a tree stops for one file anywhere in it.
    #[error(
        "{path}:{line}:{column}: HCL parse error: {message}; nothing was written (migrate reads \
         every .tf file under the directory first, and writes all of them or none): fix this file \
         and migrate again"
    )]
    Parse {
        /// The file that failed to parse.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message (never the source text).
        message: String,
    },
    /// Writing failed after some files were replaced, and putting those back failed too: they are
    /// migrated, the others are not.
    #[error("{error}; these files are migrated and could not be put back: {}", .migrated.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    PartlyWritten {
        /// What failed first.
        error: Box<MigrateError>,
        /// The files left migrated.
        migrated: Vec<PathBuf>,
    },
    /// Two `.tf` paths are one file (a symlink to the other, or both to a third) and their modules
    /// would leave it with different contents; nothing is planned or written.
    #[error(
        "{path} and {other} are the same file (a symlink), and the migration would rewrite it \
         differently in their modules; give each module a copy of its own, then migrate again"
    )]
    LinkedTwice {
        /// The path whose module rewrites the file (or the first of two that do).
        path: PathBuf,
        /// The other path to it.
        other: PathBuf,
    },
    /// `--write` would rewrite a file this user may not write (read-only to them, as `terraform
    /// fmt` finds it: root may write a file of mode 0444); nothing was written.
    #[error(
        "{path}: --write would rewrite this file, and this user may not write it ({error}); \
         nothing was written. Make it writable (`chmod u+w {path}`) or run migrate as a user who \
         may write it"
    )]
    NotWritable {
        /// The file.
        path: PathBuf,
        /// Why it cannot be opened for writing.
        error: std::io::Error,
    },
    /// The new content of a file is written next to it and renamed over it, and its directory
    /// takes no new file from this user; nothing was written.
    #[error(
        "{path}: --write replaces this file by renaming a new one over it, made in {dir}, where \
         this user may not create a file ({error}); nothing was written. Run migrate as a user \
         who may write there"
    )]
    DirNotWritable {
        /// The file to replace.
        path: PathBuf,
        /// Its directory.
        dir: PathBuf,
        /// Why the new file could not be made.
        error: std::io::Error,
    },
    /// The file replacing this one could not be given its owner and group (that takes root, or
    /// for the group, membership in it): the rename would leave it this user's; nothing was
    /// written.
    #[error(
        "{path}: --write would replace this file with one owned by this user, and it is owned by \
         uid {uid}, gid {gid}, which a file written here cannot be given (that takes root, or for \
         the group, membership in it); nothing was written. Run migrate as the file's owner (or \
         root)"
    )]
    OwnerNotKept {
        /// The file.
        path: PathBuf,
        /// Its owner.
        uid: u32,
        /// Its group.
        gid: u32,
    },
    /// A file changed on disk between planning and writing; nothing was written to it.
    #[error("{path}: changed on disk since the migration was planned; plan again")]
    Stale {
        /// The file that changed.
        path: PathBuf,
    },
}

impl MigrateError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        MigrateError::Io {
            path: path.into(),
            error,
        }
    }
}
