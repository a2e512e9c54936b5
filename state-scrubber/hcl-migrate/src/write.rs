//! Writing rewritten files, and keeping secret literals out of what we print.

use crate::align::{analyze, line_of};
use crate::module::is_set;
use crate::table::is_secret_key;
use crate::MigrateError;
use hcl_edit::Span;
use std::collections::BTreeSet;
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

/// How a line is printed in a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Mask {
    /// As it is, except literals that the caller's [`SecretCheck`] recognises.
    #[default]
    Plain,
    /// String literal contents replaced by `***`.
    Strings,
    /// The whole line replaced by `***` (a heredoc body line under a secret argument).
    Whole,
}

/// What the printer needs to know about one physical line.
#[derive(Debug, Clone, Default)]
pub(crate) struct LineView {
    pub mask: Mask,
    /// The argument the line assigns (`key = ...`), if any.
    pub key: Option<String>,
    /// The line is a heredoc body line (or its closing marker).
    pub heredoc_body: bool,
}

/// Per physical line: how much of it to mask, because it belongs to an assignment to a
/// secret-looking argument, or to the `default` of a sensitive or ephemeral variable (whose
/// value is a secret whatever its name; migrate adds `ephemeral = true` right next to it, so it is
/// always on a context line).
pub(crate) fn sensitive_lines(text: &str) -> Vec<LineView> {
    let (_, infos) = analyze(text);
    let secret_defaults = secret_default_lines(text);
    let mut out: Vec<LineView> = infos
        .iter()
        .map(|info| LineView {
            mask: Mask::Plain,
            key: info.key.clone(),
            heredoc_body: info.heredoc_body,
        })
        .collect();
    for i in 0..infos.len() {
        if infos[i].heredoc_body {
            continue;
        }
        let Some(key) = &infos[i].key else { continue };
        let secret_default = match &secret_defaults {
            Some(lines) => lines.contains(&i),
            // Unparsable text (never expected: it parsed when planned): every default is secret.
            None => key == "default",
        };
        if !secret_default && !is_secret_key(key) {
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
            out[k].mask = if infos[k].heredoc_body && !closing_marker {
                Mask::Whole
            } else {
                Mask::Strings
            };
        }
    }
    out
}

/// 0-based lines where the `default` of a `sensitive = true` or `ephemeral = true` variable
/// starts; `None` when `text` does not parse.
fn secret_default_lines(text: &str) -> Option<BTreeSet<usize>> {
    let body = hcl_edit::parser::parse_body(text).ok()?;
    let mut lines = BTreeSet::new();
    for block in body.blocks() {
        if block.ident.as_str() != "variable" {
            continue;
        }
        if !(is_set(&block.body, "sensitive") || is_set(&block.body, "ephemeral")) {
            continue;
        }
        if let Some(default) = block.body.get_attribute("default") {
            lines.insert(line_of(text, default.key.span().map_or(0, |s| s.start)));
        }
    }
    Some(lines)
}

/// A line as printed under its view; `check` decides about literals on unmasked lines.
pub(crate) fn shown(line: &str, view: &LineView, check: SecretCheck) -> String {
    let indent = &line[..line.len() - line.trim_start().len()];
    match view.mask {
        Mask::Whole => format!("{indent}***"),
        Mask::Plain if view.heredoc_body => {
            // A heredoc body line is free text: check it whole (a closing marker is harmless).
            if check(None, line.trim()) {
                format!("{indent}***")
            } else {
                line.to_owned()
            }
        }
        Mask::Plain => mask_literals(line, |literal| check(view.key.as_deref(), literal)),
        Mask::Strings => mask_literals(line, |_| true),
    }
}

/// `line` with the contents of each string literal that `secret` picks replaced by `***`.
fn mask_literals(line: &str, secret: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        let body = &rest[open + 1..];
        // The closing quote: the first `"` not escaped by a backslash.
        let mut close = None;
        let mut escaped = false;
        for (index, c) in body.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    close = Some(index);
                    break;
                }
                _ => {}
            }
        }
        let literal = &body[..close.unwrap_or(body.len())];
        if secret(literal) {
            out.push_str("***");
        } else {
            out.push_str(literal);
        }
        match close {
            Some(index) => {
                out.push('"');
                rest = &body[index + 1..];
            }
            None => return out,
        }
    }
    out.push_str(rest);
    out
}
