//! Keeping secret literals out of the diff we print.
//!
//! Lines are not enough to decide: a literal may sit under a quoted key (`"DB_PASSWORD" = "..."`),
//! in an inline object (`jsonencode({ db_password = "..." })`) or several keys deep. So each file
//! is lexed once, with a stack of brackets; every bracket level remembers the key its current item
//! is assigned to (`key =` or `"key" =`, also `key :` in object constructors). A string literal
//! (or a heredoc body line) is masked when any key on that stack looks secret, when it is the
//! `default` of a variable that holds a secret, or when the caller's check recognises it, given the
//! nearest key.

use crate::edit::line_end;
use crate::lex::{code_at, Code, InString, Nesting};
use crate::module::is_set;
use crate::table::is_secret_key;
use crate::write::SecretCheck;
use std::collections::BTreeSet;

/// Which variables' defaults and which locals' values are secrets, whatever their literals look
/// like.
#[derive(Debug, Default)]
pub(crate) struct SecretVariables {
    /// Variables referenced (`var.NAME`) under a secret-looking key in any planned file (a
    /// migrated argument, or one that would be), or in the value of a local in `locals`.
    pub fed: BTreeSet<String>,
    /// Locals referenced (`local.NAME`) likewise: `password = local.p` prints `p = "..."`.
    pub locals: BTreeSet<String>,
}

impl SecretVariables {
    /// Collects the variables and locals that `texts` assign to secret-looking keys, directly or
    /// through other locals.
    pub(crate) fn collect<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let texts: Vec<&str> = texts.into_iter().collect();
        let mut fed = BTreeSet::new();
        let mut locals = BTreeSet::new();
        for text in &texts {
            let mut lexer = Lexer::new(text, Defaults::None, &|_, _| false);
            lexer.run();
            fed.extend(lexer.fed);
            locals.extend(lexer.fed_locals);
        }
        // What each local's value references, by name (a local may be defined in any file).
        let mut uses: Vec<(String, BTreeSet<String>, BTreeSet<String>)> = Vec::new();
        for text in &texts {
            let Ok((body, _)) = crate::module::parse_body(text) else {
                continue;
            };
            for block in body.blocks().filter(|b| b.ident.as_str() == "locals") {
                for attr in block.body.attributes() {
                    let Some(span) = hcl_edit::Span::span(&attr.value) else {
                        continue;
                    };
                    let value = &text[span];
                    uses.push((
                        attr.key.as_str().to_owned(),
                        names_after(value, "var."),
                        names_after(value, "local."),
                    ));
                }
            }
        }
        loop {
            let before = locals.len();
            for (name, vars, more) in &uses {
                if locals.contains(name) {
                    fed.extend(vars.iter().cloned());
                    locals.extend(more.iter().cloned());
                }
            }
            if locals.len() == before {
                break;
            }
        }
        SecretVariables { fed, locals }
    }
}

/// The names `prefix` is followed by in `text` where it starts a word (`var.` in `var.a.b` and
/// `"${var.a}"`, not in `my_var.a`).
fn names_after(text: &str, prefix: &str) -> BTreeSet<String> {
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let bytes = text.as_bytes();
    text.match_indices(prefix)
        .filter(|(at, _)| *at == 0 || !is_ident(bytes[at - 1]) && bytes[at - 1] != b'.')
        .filter_map(|(at, _)| {
            let rest = &text[at + prefix.len()..];
            let len = rest.bytes().take_while(|c| is_ident(*c)).count();
            (len > 0).then(|| rest[..len].to_owned())
        })
        .collect()
}

/// `text` as printed in a diff, one entry per physical line (without its newline), with the
/// contents of secret string literals replaced by `***` and secret heredoc body lines by the
/// line's indent and `***`.
pub(crate) fn masked_lines(
    text: &str,
    variables: &SecretVariables,
    check: SecretCheck,
) -> Vec<String> {
    let defaults = match secret_key_offsets(text, variables) {
        Some(offsets) => Defaults::At(offsets),
        // Unparsable text (never expected: it parsed when planned): every default is secret.
        None => Defaults::All,
    };
    let mut lexer = Lexer::new(text, defaults, check);
    lexer.run();
    let mut out = Vec::new();
    let mut masks = lexer.masks.into_iter().peekable();
    let mut start = 0;
    for line in text.split('\n') {
        let end = start + line.len();
        let mut shown = String::with_capacity(line.len());
        let mut pos = start;
        while let Some(mask) = masks.next_if(|mask| mask.start() <= end) {
            match mask {
                Masked::Literal(range) => {
                    shown.push_str(&text[pos..range.start]);
                    shown.push_str("***");
                    pos = range.end;
                }
                Masked::Line(_) => {
                    let indent = line.len() - line.trim_start().len();
                    shown.push_str(&text[start..start + indent]);
                    shown.push_str("***");
                    pos = end;
                }
            }
        }
        shown.push_str(&text[pos..end]);
        out.push(shown);
        start = end + 1;
    }
    out
}

/// Byte offsets of the keys whose values are secrets: the `default` keys of variables that are
/// `sensitive` or `ephemeral`, have a secret-looking name or are in `variables.fed`, and the keys
/// in `locals` blocks of the locals in `variables.locals`. `None` when `text` does not parse.
fn secret_key_offsets(text: &str, variables: &SecretVariables) -> Option<BTreeSet<usize>> {
    let (body, _) = crate::module::parse_body(text).ok()?;
    let mut offsets = BTreeSet::new();
    for block in body.blocks() {
        if block.ident.as_str() == "locals" {
            offsets.extend(
                block
                    .body
                    .attributes()
                    .filter(|attr| variables.locals.contains(attr.key.as_str()))
                    .filter_map(|attr| hcl_edit::Span::span(&attr.key).map(|span| span.start)),
            );
            continue;
        }
        if block.ident.as_str() != "variable" {
            continue;
        }
        let name = block.labels.first().map(|l| l.as_str()).unwrap_or_default();
        let secret = is_set(&block.body, "sensitive")
            || is_set(&block.body, "ephemeral")
            || is_secret_key(name)
            || variables.fed.contains(name);
        if !secret {
            continue;
        }
        if let Some(default) = block.body.get_attribute("default") {
            if let Some(span) = hcl_edit::Span::span(&default.key) {
                offsets.insert(span.start);
            }
        }
    }
    Some(offsets)
}

enum Defaults {
    /// No key is secret by position.
    None,
    /// The keys (a variable's `default`, a local's name) at these byte offsets.
    At(BTreeSet<usize>),
    /// Every `default` key.
    All,
}

/// A span to mask, in byte offsets of the whole text.
#[derive(Debug)]
enum Masked {
    /// The contents of a string literal (between its quotes).
    Literal(std::ops::Range<usize>),
    /// A whole heredoc body line (from its start to its end).
    Line(std::ops::Range<usize>),
}

impl Masked {
    fn start(&self) -> usize {
        match self {
            Masked::Literal(range) | Masked::Line(range) => range.start,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Bracket {
    /// A body or an object constructor: items are `key = value` (or `key: value`).
    Brace,
    /// A tuple or a call's arguments.
    Other,
}

struct Frame {
    bracket: Bracket,
    /// The key the current item is assigned to, and whether it is secret.
    key: Option<(String, bool)>,
    /// The next token starts an item (after the opening bracket, a newline or a comma).
    item_start: bool,
}

/// The first token of an item, which becomes the item's key if `=` or `:` follows.
struct Candidate {
    name: String,
    offset: usize,
    /// When the candidate is a quoted key: its literal's index in `literals`.
    literal: Option<usize>,
}

struct Literal {
    range: std::ops::Range<usize>,
    /// Masked because of the keys above it (not yet asked of the check).
    under_secret: bool,
    key: Option<String>,
    /// It turned out to be a key itself.
    is_key: bool,
}

struct Lexer<'a> {
    text: &'a str,
    defaults: Defaults,
    check: SecretCheck<'a>,
    frames: Vec<Frame>,
    candidate: Option<Candidate>,
    literals: Vec<Literal>,
    masks: Vec<Masked>,
    fed: BTreeSet<String>,
    fed_locals: BTreeSet<String>,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str, defaults: Defaults, check: SecretCheck<'a>) -> Self {
        Lexer {
            text,
            defaults,
            check,
            frames: vec![Frame {
                bracket: Bracket::Brace,
                key: None,
                item_start: true,
            }],
            candidate: None,
            literals: Vec::new(),
            masks: Vec::new(),
            fed: BTreeSet::new(),
            fed_locals: BTreeSet::new(),
        }
    }

    fn frame(&mut self) -> &mut Frame {
        self.frames
            .last_mut()
            .expect("the root frame is never popped")
    }

    fn under_secret(&self) -> bool {
        self.frames
            .iter()
            .any(|frame| frame.key.as_ref().is_some_and(|(_, secret)| *secret))
    }

    fn nearest_key(&self) -> Option<String> {
        self.frames
            .iter()
            .rev()
            .find_map(|frame| frame.key.as_ref().map(|(key, _)| key.clone()))
    }

    /// A token other than a key candidate or an assignment.
    fn token(&mut self) {
        self.candidate = None;
        self.frame().item_start = false;
    }

    fn end_item(&mut self) {
        self.candidate = None;
        let frame = self.frame();
        if frame.bracket == Bracket::Brace {
            frame.key = None;
        }
        frame.item_start = true;
    }

    fn key_secret(&self, name: &str, offset: usize) -> bool {
        let default = match &self.defaults {
            Defaults::None => false,
            Defaults::At(offsets) => offsets.contains(&offset),
            Defaults::All => name == "default",
        };
        // A write-only value's version trigger may repeat the value's condition
        // (`password_wo_version = var.pw == "..." ? null : 1`); its literals are masked like
        // the value's.
        let trigger = name.ends_with("_wo_version") || name.ends_with("_wo_revision");
        default || trigger || is_secret_key(name)
    }

    fn run(&mut self) {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut pos = 0;
        let mut block_comment = false;
        while pos < bytes.len() {
            if block_comment {
                match text[pos..].find("*/") {
                    Some(offset) => {
                        pos += offset + 2;
                        block_comment = false;
                    }
                    None => break,
                }
                continue;
            }
            match code_at(text, pos, text.len()) {
                Code::LineComment => {
                    pos = line_end(text, pos);
                    continue;
                }
                Code::BlockComment => {
                    block_comment = true;
                    pos += 2;
                    continue;
                }
                Code::Quote => {
                    pos = self.string(pos);
                    continue;
                }
                Code::Heredoc(marker) => {
                    pos = self.heredoc(pos, marker);
                    continue;
                }
                Code::Other => {}
            }
            match bytes[pos] {
                b'\n' => {
                    if self.frame().bracket == Bracket::Brace {
                        self.end_item();
                    }
                    pos += 1;
                }
                b' ' | b'\t' | b'\r' => pos += 1,
                b'{' | b'[' | b'(' => {
                    self.token();
                    self.frames.push(Frame {
                        bracket: if bytes[pos] == b'{' {
                            Bracket::Brace
                        } else {
                            Bracket::Other
                        },
                        key: None,
                        item_start: true,
                    });
                    pos += 1;
                }
                b'}' | b']' | b')' => {
                    if self.frames.len() > 1 {
                        self.frames.pop();
                    }
                    self.token();
                    pos += 1;
                }
                b',' => {
                    self.end_item();
                    pos += 1;
                }
                b'=' if matches!(bytes.get(pos + 1), Some(b'=') | Some(b'>')) => {
                    self.token();
                    pos += 2;
                }
                b'=' | b':' => {
                    match self.candidate.take() {
                        Some(candidate) => {
                            let secret = self.key_secret(&candidate.name, candidate.offset);
                            if let Some(index) = candidate.literal {
                                self.literals[index].is_key = true;
                            }
                            self.frame().key = Some((candidate.name, secret));
                        }
                        None => self.token(),
                    }
                    self.frame().item_start = false;
                    pos += 1;
                }
                byte if byte.is_ascii_alphanumeric() || byte == b'_' => {
                    let len = text[pos..]
                        .bytes()
                        .take_while(|b| {
                            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
                        })
                        .count();
                    let word = &text[pos..pos + len];
                    if self.under_secret() {
                        if let Some(name) = word.strip_prefix("var.") {
                            let name = name.split('.').next().unwrap_or_default();
                            self.fed.insert(name.to_owned());
                        } else if let Some(name) = word.strip_prefix("local.") {
                            let name = name.split('.').next().unwrap_or_default();
                            self.fed_locals.insert(name.to_owned());
                        }
                    }
                    let item_start = self.frame().item_start;
                    self.token();
                    if item_start {
                        self.candidate = Some(Candidate {
                            name: word.to_owned(),
                            offset: pos,
                            literal: None,
                        });
                    }
                    pos += len;
                }
                _ => {
                    self.token();
                    pos += text[pos..].chars().next().map_or(1, char::len_utf8);
                }
            }
        }
        self.finish_literals();
    }

    /// A quoted string (with any template interpolations in it) starting at `open`; returns the
    /// position after it. A quoted string cannot span lines: it also ends at the newline.
    fn string(&mut self, open: usize) -> usize {
        let text = self.text;
        let bytes = text.as_bytes();
        let end_of_line = line_end(text, open);
        let mut nesting = Nesting::default();
        nesting.open_string();
        let mut pos = open + 1;
        let mut plain = true;
        let mut close = end_of_line;
        while pos < end_of_line && !nesting.at_top() {
            if nesting.in_string() {
                let (next, step) = nesting.string_step(text, pos);
                match step {
                    InString::Close if nesting.at_top() => {
                        close = pos;
                        break;
                    }
                    InString::Open => plain = false,
                    _ => {}
                }
                pos = next;
                continue;
            }
            match bytes[pos] {
                b'"' => nesting.open_string(),
                b'{' => nesting.open_brace(),
                b'}' => nesting.close_brace(),
                _ => {}
            }
            pos += 1;
        }
        let close = close.min(end_of_line);
        let item_start = self.frame().item_start;
        self.token();
        self.literals.push(Literal {
            range: open + 1..close,
            under_secret: self.under_secret(),
            key: self.nearest_key(),
            is_key: false,
        });
        if item_start && plain {
            self.candidate = Some(Candidate {
                name: text[open + 1..close].to_owned(),
                offset: open,
                literal: Some(self.literals.len() - 1),
            });
        }
        (close + 1).min(end_of_line)
    }

    /// A heredoc starting at `at` (`<<EOT` or `<<-EOT`); returns the position of the newline after
    /// its closing marker. Body lines are masked whole when the keys above are secret, or when the
    /// check recognises the line.
    fn heredoc(&mut self, at: usize, marker: Option<String>) -> usize {
        let text = self.text;
        self.token();
        let Some(marker) = marker else {
            return at + 2;
        };
        let under_secret = self.under_secret();
        let key = self.nearest_key();
        let mut pos = line_end(text, at);
        while pos < text.len() {
            let start = pos + 1;
            let end = line_end(text, start);
            let line = &text[start..end];
            if line.trim() == marker {
                return end;
            }
            if under_secret || (self.check)(key.as_deref(), line.trim()) {
                self.masks.push(Masked::Line(start..end));
            }
            pos = end;
        }
        text.len()
    }

    fn finish_literals(&mut self) {
        for literal in std::mem::take(&mut self.literals) {
            let contents = &self.text[literal.range.clone()];
            let secret = if literal.is_key {
                (self.check)(None, contents)
            } else {
                literal.under_secret || (self.check)(literal.key.as_deref(), contents)
            };
            if secret {
                self.masks.push(Masked::Literal(literal.range));
            }
        }
        self.masks.sort_by_key(Masked::start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str) -> String {
        masked_lines(text, &SecretVariables::default(), &|_, _| false).join("\n")
    }

    #[test]
    fn literals_are_masked_by_their_nearest_keys() {
        let cases = [
            ("password = \"a\"\n", "password = \"***\"\n"),
            (
                "x = { \"password\" = \"a\" }",
                "x = { \"password\" = \"***\" }",
            ),
            (
                "env = {\n  \"DB_PASSWORD\" = \"a\"\n  USER = \"b\"\n}",
                "env = {\n  \"DB_PASSWORD\" = \"***\"\n  USER = \"b\"\n}",
            ),
            (
                "u = jsonencode({ db_password = \"a\", user = \"b\" })",
                "u = jsonencode({ db_password = \"***\", user = \"b\" })",
            ),
            (
                "m = { \"db-password\": \"a\" }",
                "m = { \"db-password\": \"***\" }",
            ),
            (
                "password = jsonencode({ user = \"a\" })",
                "password = jsonencode({ user = \"***\" })",
            ),
            (
                "p = <<EOT\nx\nEOT\ntoken = <<-EOT\n  y\n  EOT\n",
                "p = <<EOT\nx\nEOT\ntoken = <<-EOT\n  ***\n  EOT\n",
            ),
            ("c = a ? \"x\" : \"y\"", "c = a ? \"x\" : \"y\""),
            (
                "s = \"${\"a\"}\" # password = \"b\"",
                "s = \"${\"a\"}\" # password = \"b\"",
            ),
            (
                "v = [\"a\", \"b\"]\nsecret_string = \"c\"",
                "v = [\"a\", \"b\"]\nsecret_string = \"***\"",
            ),
            (
                "name = \"n\"\nsecret_id = \"i\"",
                "name = \"n\"\nsecret_id = \"i\"",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(shown(text), expected, "{text}");
        }
    }

    #[test]
    fn defaults_of_secret_variables_are_masked() {
        let text = "variable \"db_password\" {\n  default = \"a\"\n}\nvariable \"pw\" {\n  default = \"b\"\n}\nvariable \"region\" { default = \"c\" }\nvariable \"s\" {\n  sensitive = true\n  default = \"d\"\n}\n";
        let fed = SecretVariables::collect(["resource \"x\" \"y\" { password_wo = var.pw }"]);
        assert!(fed.fed.contains("pw"));
        let shown = masked_lines(text, &fed, &|_, _| false).join("\n");
        assert_eq!(
            shown,
            text.replace("\"a\"", "\"***\"")
                .replace("\"b\"", "\"***\"")
                .replace("\"d\"", "\"***\"")
        );
    }
}
