//! Writing rewritten files, and keeping secret literals out of what we print.

use crate::align::analyze;
use crate::table::is_secret_key;
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

/// How a line is printed in a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Mask {
    /// As it is.
    #[default]
    Plain,
    /// String literal contents replaced by `***`.
    Strings,
    /// The whole line replaced by `***` (a heredoc body line under a secret argument).
    Whole,
}

/// Per physical line: how much of it to mask, because it belongs to an assignment to a
/// secret-looking argument.
pub(crate) fn sensitive_lines(text: &str) -> Vec<Mask> {
    let (_, infos) = analyze(text);
    let mut out = vec![Mask::Plain; infos.len()];
    for i in 0..infos.len() {
        if infos[i].heredoc_body {
            continue;
        }
        let Some(key) = &infos[i].key else { continue };
        if !is_secret_key(key) {
            continue;
        }
        let depth = infos[i].depth_start;
        let mut j = i;
        while j + 1 < infos.len() && (infos[j + 1].depth_start > depth || infos[j + 1].heredoc_body)
        {
            j += 1;
        }
        for k in i..=j {
            let closing_marker =
                infos[k].heredoc_body && infos.get(k + 1).is_none_or(|next| !next.heredoc_body);
            out[k] = if infos[k].heredoc_body && !closing_marker {
                Mask::Whole
            } else {
                Mask::Strings
            };
        }
    }
    out
}

/// A line as printed under `mask`.
pub(crate) fn shown(line: &str, mask: Mask) -> String {
    match mask {
        Mask::Plain => line.to_owned(),
        Mask::Whole => format!("{}***", &line[..line.len() - line.trim_start().len()]),
        Mask::Strings => {
            let mut out = String::with_capacity(line.len());
            let mut in_string = false;
            let mut chars = line.chars();
            while let Some(c) = chars.next() {
                if in_string {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => {
                            out.push_str("***\"");
                            in_string = false;
                        }
                        _ => {}
                    }
                } else {
                    out.push(c);
                    if c == '"' {
                        in_string = true;
                    }
                }
            }
            if in_string {
                out.push_str("***");
            }
            out
        }
    }
}
