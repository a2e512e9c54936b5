//! Loading a directory of `.tf` files as Terraform modules (one module per directory), and the
//! index of blocks and references that the rewrites are decided on.

use crate::MigrateError;
use hcl_edit::expr::{Expression, Traversal, TraversalOperator};
use hcl_edit::structure::{Attribute, Block, BlockLabel, Body};
use hcl_edit::visit::{self, Visit};
use hcl_edit::Span;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One parsed `.tf` file.
pub(crate) struct SourceFile {
    pub path: PathBuf,
    /// The text the rewrites work on (byte offsets are into it): the file without its framing.
    pub src: String,
    pub body: Body,
    /// What the file on disk has around `src`.
    pub framing: Framing,
    /// Offsets of object keys that repeat an earlier key of their object (see [`parse_body`]).
    pub repeated_keys: Vec<usize>,
}

/// Parses `src` as Terraform does. hcl-edit refuses an object constructor that sets a key twice
/// (`{ a = 1, a = 2 }`); Terraform takes the last one. Such a key is renamed for the parser only
/// (its last character changed, so every offset holds) and parsing starts again; the offsets of
/// the keys that repeat an earlier one come back with the body. In each group of repeats every
/// key but the last is read under a made-up name, the last under its own, as Terraform reads it
/// ([`last_keeps_the_name`]). Spans are the same as in `src`, whose text is what every edit and
/// every printed line is made of.
pub(crate) fn parse_body(src: &str) -> Result<(Body, Vec<usize>), hcl_edit::parser::Error> {
    // The characters a renamed key may end in; one that makes yet another repeat takes the next.
    // Letters first: a one-character identifier cannot become a digit.
    const ENDINGS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
    // A carriage return that ends no line, in a comment: Terraform reads it (a comment runs to
    // the newline), hcl-edit does not. The parser is given a space in its place.
    let mut text: Option<String> = lone_carriage_returns_in_comments(src);
    let mut renamed: Vec<usize> = Vec::new();
    let mut tries = 0;
    loop {
        let current = text.as_deref().unwrap_or(src);
        let error = match hcl_edit::parser::parse_body(current) {
            Ok(body) => return Ok((last_keeps_the_name(src, current, body, &renamed), renamed)),
            Err(error) => error,
        };
        let at = error.location().offset();
        tries += 1;
        let Some(last) = (tries <= 256 && error.message().contains("redefined object key"))
            .then(|| repeated_key_last_char(current, at))
            .flatten()
        else {
            return Err(error);
        };
        if renamed.last() != Some(&at) {
            renamed.push(at);
        }
        let original = src.as_bytes()[last];
        // A name nothing in the text has (keys renamed before included): one that another key
        // has would be a repeat of that key, which it is not.
        let start = if current.as_bytes()[at] == b'"' {
            at + 1
        } else {
            at
        };
        let stem = &current[start..last];
        let next = ENDINGS.iter().find(|c| {
            **c != original
                && (last != at || !c.is_ascii_digit())
                && !occurs_as_name(current, &format!("{stem}{}", **c as char))
        });
        let Some(next) = next else {
            return Err(error);
        };
        let mut bytes = current.as_bytes().to_vec();
        bytes[last] = *next;
        // An ASCII byte replaced an ASCII byte.
        text = Some(String::from_utf8(bytes).expect("still UTF-8"));
    }
}

/// `src` with a space for each carriage return in a comment that no newline follows, when there
/// is one (the same length, so every offset holds); `None` when there is none.
fn lone_carriage_returns_in_comments(src: &str) -> Option<String> {
    if !lone_carriage_returns(src).any(|_| true) {
        return None;
    }
    let mut bytes = src.as_bytes().to_vec();
    for comment in crate::comments::comments_in(src, 0..src.len()) {
        // A line comment's range leaves out its trailing blanks, which may hold one.
        let end = if src[comment.range.start..].starts_with("/*") {
            comment.range.end
        } else {
            crate::edit::line_end(src, comment.range.start)
        };
        for at in lone_carriage_returns(&src[comment.range.start..end]) {
            bytes[comment.range.start + at] = b' ';
        }
    }
    // An ASCII byte replaced an ASCII byte.
    Some(String::from_utf8(bytes).expect("still UTF-8"))
}

/// The offsets of the carriage returns in `text` that no newline follows.
pub(crate) fn lone_carriage_returns(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.match_indices('\r')
        .map(|(at, _)| at)
        .filter(|at| text.as_bytes().get(at + 1) != Some(&b'\n'))
}

/// The parser reports the second of two keys (and the third of three, ...) and that one was
/// renamed, so `body` reads the first: Terraform reads the last. The names are passed along each
/// group of repeats (the first takes the second's, ..., the last the key's own): the same names,
/// so none meets another key, and the last is read under its own. `body` as it is when the text
/// so made does not parse (a one-character key given a digit; not met in practice).
fn last_keeps_the_name(src: &str, current: &str, body: Body, renamed: &[usize]) -> Body {
    struct Groups<'a> {
        src: &'a str,
        renamed: &'a [usize],
        /// Per group, the offsets of its keys' last characters, in the order of the text.
        groups: Vec<Vec<usize>>,
    }
    impl Visit for Groups<'_> {
        fn visit_object(&mut self, node: &hcl_edit::expr::Object) {
            let mut by_name: Vec<(&str, Vec<usize>, bool)> = Vec::new();
            for (key, _) in node.iter() {
                let Some(at) = key.span().map(|span| span.start) else {
                    continue;
                };
                let (Some(last), Some(name)) =
                    (repeated_key_last_char(self.src, at), key_text(self.src, at))
                else {
                    continue;
                };
                let repeat = self.renamed.contains(&at);
                match by_name.iter_mut().find(|(n, _, _)| *n == name) {
                    Some((_, lasts, any)) => {
                        lasts.push(last);
                        *any |= repeat;
                    }
                    None => by_name.push((name, vec![last], repeat)),
                }
            }
            self.groups.extend(
                by_name
                    .into_iter()
                    .filter(|(_, lasts, any)| *any && lasts.len() > 1)
                    .map(|(_, lasts, _)| lasts),
            );
            visit::visit_object(self, node);
        }
    }
    if renamed.is_empty() {
        return body;
    }
    let mut groups = Groups {
        src,
        renamed,
        groups: Vec::new(),
    };
    groups.visit_body(&body);
    let old = current.as_bytes();
    let mut bytes = old.to_vec();
    for lasts in &groups.groups {
        for (i, &last) in lasts.iter().enumerate() {
            bytes[last] = old[lasts[(i + 1) % lasts.len()]];
        }
    }
    // ASCII bytes moved between ASCII bytes.
    let text = String::from_utf8(bytes).expect("still UTF-8");
    hcl_edit::parser::parse_body(&text).unwrap_or(body)
}

/// An object key's name as the file writes it: an identifier, or a quoted key's text between its
/// quotes.
fn key_text(src: &str, at: usize) -> Option<&str> {
    let rest = src.get(at..)?;
    if let Some(quoted) = rest.strip_prefix('"') {
        return Some(&quoted[..quoted.find('"')?]);
    }
    let len = rest
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
        .count();
    (len > 0).then(|| &rest[..len])
}

/// Whether `name` is in `text` with no letter, digit, `_` or `-` either side of it.
fn occurs_as_name(text: &str, name: &str) -> bool {
    let is_ident =
        |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-');
    let bytes = text.as_bytes();
    text.match_indices(name).any(|(i, _)| {
        !is_ident(i.checked_sub(1).and_then(|j| bytes.get(j)))
            && !is_ident(bytes.get(i + name.len()))
    })
}

/// The offset of the last character of the object key at `at` (an identifier, or a quoted
/// string without escapes or interpolation that ends in an ASCII letter or digit), if it is one.
fn repeated_key_last_char(src: &str, at: usize) -> Option<usize> {
    let rest = src.get(at..)?;
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let last = if let Some(quoted) = rest.strip_prefix('"') {
        let inner = &quoted[..quoted.find('"')?];
        if inner.is_empty() || inner.contains('\\') || inner.contains("${") || inner.contains("%{")
        {
            return None;
        }
        at + inner.len()
    } else {
        let len = rest.bytes().take_while(|c| is_ident(*c)).count();
        if len == 0 || !rest.as_bytes()[0].is_ascii_alphabetic() && rest.as_bytes()[0] != b'_' {
            return None;
        }
        at + len - 1
    };
    src.as_bytes()[last].is_ascii_alphanumeric().then_some(last)
}

/// The key a repeated-key offset points at, when it is an identifier (else `None`: a quoted key
/// is not shown).
pub(crate) fn repeated_key_name(src: &str, at: usize) -> Option<&str> {
    let rest = src.get(at..)?;
    let len = rest
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
        .count();
    (len > 0).then(|| &rest[..len])
}

/// What a file on disk has that its parsed text does not: a UTF-8 byte order mark, and CRLF
/// line endings. Terraform skips a mark at the start of a file; hcl-edit takes it for a token
/// ("1:1 unexpected token"), so it is stripped before parsing (every offset counts from the
/// first character after it) and written back. Files are planned with LF endings. Written back,
/// every line the migration adds or rewrites ends like most lines of the file (mixing endings
/// breaks Windows checkouts and `git diff`), and in a file that already mixes them every line the
/// migration leaves alone keeps its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Framing {
    pub bom: bool,
    /// The file's dominant ending is CRLF (more lines end in CRLF than in LF; on a tie, the
    /// first line's).
    pub crlf: bool,
    /// A file with both endings: per line (0-based), whether it ends in CRLF. Empty otherwise.
    mixed: Vec<bool>,
}

const BOM: char = '\u{feff}';

impl Framing {
    /// Splits the text read from disk into its framing and the text to parse.
    pub fn strip(raw: &str) -> (Framing, String) {
        let (bom, text) = match raw.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let endings: Vec<bool> = text
            .split_inclusive('\n')
            .filter(|line| line.ends_with('\n'))
            .map(|line| line.ends_with("\r\n"))
            .collect();
        let crlf_count = endings.iter().filter(|crlf| **crlf).count();
        let lf_count = endings.len() - crlf_count;
        let crlf =
            crlf_count > lf_count || (crlf_count == lf_count && endings.first() == Some(&true));
        let (text, mixed) = match (crlf_count, lf_count) {
            (0, _) => (text.to_owned(), Vec::new()),
            (_, 0) => (text.replace("\r\n", "\n"), Vec::new()),
            _ => (text.replace("\r\n", "\n"), endings),
        };
        (Framing { bom, crlf, mixed }, text)
    }

    /// The text on disk for the planned text `src` (the inverse of [`Framing::strip`]).
    pub fn restore_original(&self, src: &str) -> String {
        self.write(src, |line| self.mixed.get(line).copied())
    }

    /// The text to write for `text`, the rewrite of the planned text `src`: the lines a line
    /// diff finds unchanged end as they did, every other line in the dominant ending.
    pub fn restore(&self, src: &str, text: &str) -> String {
        if self.mixed.is_empty() {
            return self.write(text, |_| None);
        }
        let old: Vec<&str> = src.split('\n').collect();
        let new: Vec<&str> = text.split('\n').collect();
        let mut kept = vec![None; new.len()];
        for op in crate::diff::diff_lines(&old, &new) {
            if let crate::diff::Op::Equal(old_line, new_line) = op {
                kept[new_line] = self.mixed.get(old_line).copied();
            }
        }
        self.write(text, |line| kept.get(line).copied().flatten())
    }

    /// `text` with the BOM if any and line `n` ending in CRLF when `crlf(n)` says so (`None`:
    /// when the dominant ending is CRLF).
    fn write(&self, text: &str, crlf: impl Fn(usize) -> Option<bool>) -> String {
        let mut out = String::with_capacity(text.len() + text.len() / 16 + 3);
        if self.bom {
            out.push(BOM);
        }
        for (index, line) in text.split_inclusive('\n').enumerate() {
            match line.strip_suffix('\n') {
                Some(body) if crlf(index).unwrap_or(self.crlf) => {
                    out.push_str(body);
                    out.push_str("\r\n");
                }
                _ => out.push_str(line),
            }
        }
        out
    }
}

/// Finds the module directories under `root` (itself first), skipping hidden directories such as
/// `.terraform` (downloaded modules are not the user's code).
pub(crate) fn module_dirs(root: &Path, recursive: bool) -> Result<Vec<PathBuf>, MigrateError> {
    let mut out = vec![root.to_path_buf()];
    if recursive {
        let mut index = 0;
        while index < out.len() {
            let dir = out[index].clone();
            let mut children = Vec::new();
            for entry in std::fs::read_dir(&dir).map_err(|e| MigrateError::io(&dir, e))? {
                let entry = entry.map_err(|e| MigrateError::io(&dir, e))?;
                let name = entry.file_name();
                let hidden = name.to_string_lossy().starts_with('.');
                let file_type = entry
                    .file_type()
                    .map_err(|e| MigrateError::io(entry.path(), e))?;
                if file_type.is_dir() && !hidden {
                    children.push(entry.path());
                }
            }
            children.sort();
            out.extend(children);
            index += 1;
        }
    }
    Ok(out)
}

/// A file of the module that migrate does not rewrite: an override file (`override.tf`,
/// `*_override.tf`, and their `.tf.json` forms), which Terraform merges into the blocks of the
/// primary files, a `.tf.json` file, an OpenTofu file (`.tofu`, `.tofu.json`), or a `.tf` file
/// that is a symlink to a file outside the directory migrated. Its text is only searched for
/// names migrate would change.
pub(crate) struct OtherFile {
    pub path: PathBuf,
    pub src: String,
    /// For a symlink to a file outside the directory migrated, that file: other configurations
    /// may link it too, and migrate reads none of them, so a rewrite could break them (a
    /// variable made `ephemeral` that another root passes to a plain argument).
    pub outside: Option<PathBuf>,
}

impl OtherFile {
    /// Whether every one of `words` occurs in the file as a whole identifier (a conservative
    /// test: a block, a reference or a JSON key naming it all count).
    pub fn mentions(&self, words: &[&str]) -> bool {
        words.iter().all(|word| contains_word(&self.src, word))
    }

    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    }
}

fn contains_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    !word.is_empty()
        && text.match_indices(word).any(|(at, _)| {
            !text[..at].chars().next_back().is_some_and(is_ident)
                && !text[at + word.len()..].chars().next().is_some_and(is_ident)
        })
}

/// Whether Terraform (or OpenTofu, for its `.tofu` forms) reads `name` as an override file.
pub(crate) fn is_override(name: &str) -> bool {
    let stem = name
        .strip_suffix(".tf.json")
        .or_else(|| name.strip_suffix(".tofu.json"))
        .or_else(|| name.strip_suffix(".tf"))
        .or_else(|| name.strip_suffix(".tofu"))
        .unwrap_or(name);
    stem == "override" || stem.ends_with("_override")
}

/// Whether `name` is a configuration file in Terraform's JSON syntax (`.tf.json`, or OpenTofu's
/// `.tofu.json`).
pub(crate) fn is_json(name: &str) -> bool {
    name.ends_with(".tf.json") || name.ends_with(".tofu.json")
}

/// Whether `name` is an OpenTofu-only configuration file (`.tofu`, `.tofu.json`): OpenTofu
/// (1.8+) reads it beside the `.tf` files, and in place of a `.tf` file of the same base name;
/// Terraform ignores it.
pub(crate) fn is_tofu(name: &str) -> bool {
    name.ends_with(".tofu") || name.ends_with(".tofu.json")
}

/// Reads and parses the primary `.tf` files of one directory, in name order, and reads (without
/// parsing) its override, `.tf.json` and OpenTofu (`.tofu`, `.tofu.json`) files. The OpenTofu
/// ones are not rewritten, but what they mention is left alone: under OpenTofu they are part of
/// the module (an output there reading `T.N.password`, a variable used there), and a `.tofu`
/// file replaces the `.tf` file of its base name, so a module written for both holds the same
/// blocks twice.
///
/// `root`, the directory migrated (canonical) and whether its subdirectories are migrated too,
/// when given: a `.tf` file that is a symlink to a file outside what is migrated (outside `root`,
/// or, without recursion, outside `root` itself) is read as one migrate does not rewrite, since
/// the other configurations that may link it are not checked.
pub(crate) fn load_module(
    dir: &Path,
    root: Option<(&Path, bool)>,
) -> Result<(Vec<SourceFile>, Vec<OtherFile>), MigrateError> {
    let mut paths = Vec::new();
    let mut other_paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| MigrateError::io(dir, e))? {
        let entry = entry.map_err(|e| MigrateError::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.ends_with(".tf") || is_json(&name) || is_tofu(&name)) || !path.is_file() {
            continue;
        }
        let outside = match root {
            Some((root, recursive)) if entry.file_type().is_ok_and(|t| t.is_symlink()) => {
                let target =
                    std::fs::canonicalize(&path).map_err(|e| MigrateError::io(&path, e))?;
                let checked = if recursive {
                    target.starts_with(root)
                } else {
                    target.parent() == Some(root)
                };
                (!checked).then_some(target)
            }
            _ => None,
        };
        if name.ends_with(".tf") && !is_override(&name) && outside.is_none() {
            paths.push(path);
        } else {
            other_paths.push((path, outside));
        }
    }
    paths.sort();
    other_paths.sort();
    let mut others = Vec::with_capacity(other_paths.len());
    for (path, outside) in other_paths {
        let src = std::fs::read_to_string(&path).map_err(|e| MigrateError::io(&path, e))?;
        others.push(OtherFile { path, src, outside });
    }
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let raw = std::fs::read_to_string(&path).map_err(|e| MigrateError::io(&path, e))?;
        let (framing, src) = Framing::strip(&raw);
        let (body, repeated_keys) = parse_body(&src).map_err(|e| {
            let (line, column) = (e.location().line(), e.location().column());
            // The line's start, by the 1-based line the parser names (the text as parsed has
            // LF endings).
            let start = src
                .split_inclusive('\n')
                .take(line.saturating_sub(1))
                .map(str::len)
                .sum::<usize>();
            let text =
                &src[start.min(src.len())..crate::edit::line_end(&src, start.min(src.len()))];
            // A lone carriage return outside a comment: hcl-edit says only "unexpected token".
            match lone_carriage_returns(text).next() {
                Some(at) => MigrateError::Parse {
                    path: path.clone(),
                    line,
                    column: text[..at].chars().count() + 1,
                    message: "a carriage return that ends no line (no newline follows it); \
                              Terraform reads one only in a comment: remove it, or put it in \
                              a comment"
                        .to_owned(),
                },
                None => MigrateError::Parse {
                    path: path.clone(),
                    line,
                    column,
                    message: e.message().to_owned(),
                },
            }
        })?;
        files.push(SourceFile {
            path,
            src,
            body,
            framing,
            repeated_keys,
        });
    }
    Ok((files, others))
}

/// A block label as text.
pub(crate) fn label(block: &Block, index: usize) -> Option<&str> {
    block.labels.get(index).map(|label| match label {
        BlockLabel::Ident(ident) => ident.as_str(),
        BlockLabel::String(string) => string.as_str(),
    })
}

/// Which top-level block a reference sits in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Owner {
    Resource { ty: String, name: String },
    Data { ty: String, name: String },
    Ephemeral { ty: String, name: String },
    Provider(String),
    Output { name: String, ephemeral: bool },
    Local(String),
    Module(String),
    Variable(String),
    Other(String),
}

/// What kind of argument a reference sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Meta {
    Argument,
    ForEach,
    Count,
    DependsOn,
    Lifecycle,
    DynamicForEach,
}

/// Where a reference is used.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub owner: Owner,
    /// Nested block names (dynamic blocks by label) and the attribute key.
    pub path: Vec<String>,
    /// Start of the attribute key, which identifies the attribute within its file.
    pub key_start: usize,
    pub meta: Meta,
    /// Inside a `provisioner` or `connection` block, where ephemeral values are allowed.
    pub in_provisioner: bool,
}

/// One traversal operator after the root.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Attr(String, Range<usize>),
    Other(Range<usize>),
}

/// A traversal that starts with a variable, e.g. `data.aws_x.y.secret_string`.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub file: usize,
    pub root: String,
    pub root_span: Range<usize>,
    pub steps: Vec<Step>,
    pub site: Site,
}

impl Reference {
    /// The name of attribute step `index` (0-based after the root), if it is one.
    pub fn attr(&self, index: usize) -> Option<&str> {
        match self.steps.get(index) {
            Some(Step::Attr(name, _)) => Some(name),
            _ => None,
        }
    }

    pub fn step_span(&self, index: usize) -> Option<Range<usize>> {
        self.steps.get(index).map(|step| match step {
            Step::Attr(_, span) | Step::Other(span) => span.clone(),
        })
    }

    /// `data.T.N` → the data source it names.
    pub fn data_source(&self) -> Option<(&str, &str)> {
        (self.root == "data").then(|| Some((self.attr(0)?, self.attr(1)?)))?
    }

    /// `T.N` → the managed resource it names, if `T` is `ty`.
    pub fn resource_named(&self, ty: &str) -> Option<&str> {
        (self.root == ty).then(|| self.attr(0))?
    }

    pub fn describe_site(&self) -> String {
        describe_site(&self.site)
    }
}

pub(crate) fn describe_site(site: &Site) -> String {
    let path = site.path.join(".");
    match &site.owner {
        Owner::Resource { ty, name } => format!("`{ty}.{name}.{path}`"),
        Owner::Data { ty, name } => format!("`data.{ty}.{name}.{path}`"),
        Owner::Ephemeral { ty, name } => format!("`ephemeral.{ty}.{name}.{path}`"),
        Owner::Provider(name) => format!("provider `{name}`"),
        Owner::Output { name, .. } => format!("output `{name}`"),
        Owner::Local(name) => format!("`local.{name}`"),
        Owner::Module(name) => format!("module `{name}` (input `{path}`)"),
        Owner::Variable(name) => format!("the `{path}` of variable `{name}`"),
        Owner::Other(kind) => format!("a `{kind}` block"),
    }
}

/// Whether `body` sets `key = true` (a literal; anything else is not "set").
pub(crate) fn is_set(body: &Body, key: &str) -> bool {
    body.get_attribute(key)
        .is_some_and(|a| matches!(&a.value, Expression::Bool(b) if *b.value()))
}

/// Collects every reference in a module with the place it is used.
pub(crate) fn collect_references(files: &[SourceFile]) -> Vec<Reference> {
    let mut out = Vec::new();
    for (file, source) in files.iter().enumerate() {
        for block in source.body.blocks() {
            let owner = match (block.ident.as_str(), label(block, 0), label(block, 1)) {
                ("resource", Some(ty), Some(name)) => Owner::Resource {
                    ty: ty.to_owned(),
                    name: name.to_owned(),
                },
                ("data", Some(ty), Some(name)) => Owner::Data {
                    ty: ty.to_owned(),
                    name: name.to_owned(),
                },
                ("ephemeral", Some(ty), Some(name)) => Owner::Ephemeral {
                    ty: ty.to_owned(),
                    name: name.to_owned(),
                },
                ("provider", Some(name), _) => Owner::Provider(name.to_owned()),
                ("output", Some(name), _) => Owner::Output {
                    name: name.to_owned(),
                    ephemeral: is_set(&block.body, "ephemeral"),
                },
                ("module", Some(name), _) => Owner::Module(name.to_owned()),
                ("variable", Some(name), _) => Owner::Variable(name.to_owned()),
                ("locals", _, _) => {
                    for attr in block.body.attributes() {
                        let site = Site {
                            owner: Owner::Local(attr.key.as_str().to_owned()),
                            path: vec![attr.key.as_str().to_owned()],
                            key_start: attr.key.span().map_or(0, |s| s.start),
                            meta: Meta::Argument,
                            in_provisioner: false,
                        };
                        collect_in(&attr.value, file, &site, &mut out);
                    }
                    continue;
                }
                (kind, _, _) => Owner::Other(kind.to_owned()),
            };
            walk_body(
                &block.body,
                file,
                &owner,
                &[],
                true,
                Meta::Argument,
                false,
                &mut out,
            );
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn walk_body(
    body: &Body,
    file: usize,
    owner: &Owner,
    path: &[String],
    top: bool,
    meta: Meta,
    in_provisioner: bool,
    out: &mut Vec<Reference>,
) {
    for attr in body.attributes() {
        let key = attr.key.as_str();
        let meta = match (top, key) {
            (true, "for_each") => Meta::ForEach,
            (true, "count") => Meta::Count,
            (true, "depends_on") => Meta::DependsOn,
            _ => meta,
        };
        let mut attr_path = path.to_vec();
        attr_path.push(key.to_owned());
        let site = Site {
            owner: owner.clone(),
            path: attr_path,
            key_start: key_start(attr),
            meta,
            in_provisioner,
        };
        collect_in(&attr.value, file, &site, out);
    }
    for block in body.blocks() {
        let ident = block.ident.as_str();
        if ident == "dynamic" {
            let name = label(block, 0).unwrap_or_default().to_owned();
            let mut dyn_path = path.to_vec();
            dyn_path.push(name);
            for attr in block.body.attributes() {
                let site = Site {
                    owner: owner.clone(),
                    path: dyn_path.clone(),
                    key_start: key_start(attr),
                    meta: if attr.key.as_str() == "for_each" {
                        Meta::DynamicForEach
                    } else {
                        meta
                    },
                    in_provisioner,
                };
                collect_in(&attr.value, file, &site, out);
            }
            for content in block.body.get_blocks("content") {
                walk_body(
                    &content.body,
                    file,
                    owner,
                    &dyn_path,
                    false,
                    meta,
                    in_provisioner,
                    out,
                );
            }
            continue;
        }
        let meta = if top && ident == "lifecycle" {
            Meta::Lifecycle
        } else {
            meta
        };
        let in_provisioner = in_provisioner || ident == "provisioner" || ident == "connection";
        let mut block_path = path.to_vec();
        block_path.push(ident.to_owned());
        walk_body(
            &block.body,
            file,
            owner,
            &block_path,
            false,
            meta,
            in_provisioner,
            out,
        );
    }
}

fn key_start(attr: &Attribute) -> usize {
    attr.key.span().map_or(0, |s| s.start)
}

fn collect_in(expr: &Expression, file: usize, site: &Site, out: &mut Vec<Reference>) {
    struct Collector<'a> {
        file: usize,
        site: &'a Site,
        out: &'a mut Vec<Reference>,
    }
    impl Visit for Collector<'_> {
        fn visit_traversal(&mut self, node: &Traversal) {
            if let (Expression::Variable(root), Some(root_span)) = (&node.expr, node.expr.span()) {
                let steps = node
                    .operators
                    .iter()
                    .map(|op| {
                        let span = op.span().unwrap_or(0..0);
                        match op.value() {
                            TraversalOperator::GetAttr(ident) => {
                                Step::Attr(ident.as_str().to_owned(), span)
                            }
                            _ => Step::Other(span),
                        }
                    })
                    .collect();
                self.out.push(Reference {
                    file: self.file,
                    root: root.as_str().to_owned(),
                    root_span,
                    steps,
                    site: self.site.clone(),
                });
            }
            visit::visit_traversal(self, node);
        }

        // hcl-edit 0.10's default walk of `%{ for x in EXPR }` skips EXPR.
        fn visit_for_template_expr(&mut self, node: &hcl_edit::template::ForTemplateExpr) {
            self.visit_expr(&node.collection_expr);
            visit::visit_for_template_expr(self, node);
        }
    }
    let mut collector = Collector { file, site, out };
    collector.visit_expr(expr);
}
