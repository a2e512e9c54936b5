//! Keeping secret literals out of the diff we print.
//!
//! Lines are not enough to decide: a literal may sit under a quoted key (`"DB_PASSWORD" = "..."`),
//! in an inline object (`jsonencode({ db_password = "..." })`) or several keys deep. So each file
//! is lexed once, with a stack of brackets; every bracket level remembers the key its current item
//! is assigned to (`key =` or `"key" =`, also `key :` in object constructors). A string literal
//! (or a heredoc body line) is masked when any key on that stack looks secret, when it is the
//! `default` of a variable that holds a secret, the value of a local that feeds one, a module
//! call's argument that the child module holds as a secret, or a `for_each` whose `each.value`
//! reaches a secret-looking key, or when the caller's check recognises it, given the nearest key.
//! A template's literal text is masked, not the `${...}` references it interpolates (one that
//! holds a string is masked too); a name that is secret only as one resource type's argument
//! (`key`, `tfe_ssh_key`'s) counts only in blocks of that type.
//!
//! Which variables, locals and module arguments those are is read from every file of a module
//! ([`ModuleFacts`]) when the migration is planned, changed or not: a file migrate leaves alone
//! may hold the argument a changed file's literal reaches.

use crate::edit::line_end;
use crate::lex::{code_at, Code, InString, Nesting};
use crate::module::is_set;
use crate::table::{is_secret_key, is_secret_key_in};
use crate::write::SecretCheck;
use std::collections::{BTreeMap, BTreeSet};

/// Which variables' defaults, which locals' values and which module calls' arguments are
/// secrets, whatever their literals look like. One module's: names are the module's own.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct SecretVariables {
    /// Variables referenced (`var.NAME`) under a secret-looking key in any file of the module (an
    /// argument migrate rewrites or not), in the value of a local in `locals`, in an argument
    /// in `module_inputs`, or in a `for_each` whose `each.` a secret-looking key reads.
    pub fed: BTreeSet<String>,
    /// Locals referenced (`local.NAME`) likewise: `password = local.p` prints `p = "..."`.
    pub locals: BTreeSet<String>,
    /// By module call name, the arguments whose child module holds them as secrets (see
    /// [`ModuleFacts::secret_inputs`]): `module "db" { pw = "..." }` with `password = var.pw`
    /// in the child.
    pub module_inputs: BTreeMap<String, BTreeSet<String>>,
    /// Variables declared `sensitive` or `ephemeral` in any file of the module.
    pub sensitive: BTreeSet<String>,
}

impl SecretVariables {
    /// Adds what `other` holds as secrets (a file two modules have is masked for both).
    pub(crate) fn merge(&mut self, other: &SecretVariables) {
        self.fed.extend(other.fed.iter().cloned());
        self.locals.extend(other.locals.iter().cloned());
        self.sensitive.extend(other.sensitive.iter().cloned());
        for (call, inputs) in &other.module_inputs {
            self.module_inputs
                .entry(call.clone())
                .or_default()
                .extend(inputs.iter().cloned());
        }
    }

    /// Collects the variables and locals that `texts` (the files of one module) assign to
    /// secret-looking keys, directly or through other locals.
    #[cfg(test)]
    pub(crate) fn collect<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        ModuleFacts::read(texts).resolve(BTreeMap::new())
    }
}

/// The variables (`var.`) and locals (`local.`) an expression's text names, and whether it reads
/// `each.`.
#[derive(Debug, Default, Clone)]
struct Names {
    vars: BTreeSet<String>,
    locals: BTreeSet<String>,
    each: bool,
}

impl Names {
    fn of(text: &str) -> Self {
        Names {
            vars: names_after(text, "var."),
            locals: names_after(text, "local."),
            each: !names_after(text, "each.").is_empty(),
        }
    }

    fn extend(&mut self, other: Names) {
        self.vars.extend(other.vars);
        self.locals.extend(other.locals);
        self.each |= other.each;
    }
}

/// A `module` block: its name, its `source` when that is a literal, what each argument names,
/// and what its `for_each` names (an argument reading `each.` takes an element of it).
#[derive(Debug, Clone)]
pub(crate) struct ModuleCall {
    pub name: String,
    pub source: Option<String>,
    arguments: Vec<(String, Names)>,
    for_each: Names,
}

/// What the masking needs to know of one module's files (`.tf`, override and `.tf.json` files,
/// changed or not), read once: see [`ModuleFacts::resolve`].
#[derive(Debug, Default)]
pub(crate) struct ModuleFacts {
    /// Named under a secret-looking key.
    direct: Names,
    /// Each local's name and what its value names (a local may be defined in any file).
    locals: Vec<(String, Names)>,
    /// Each variable's name, and whether it is `sensitive` or `ephemeral`.
    variables: Vec<(String, bool)>,
    pub calls: Vec<ModuleCall>,
}

impl ModuleFacts {
    /// Reads `texts`, the files of one module: HCL, or Terraform's JSON syntax (a file that parses
    /// as neither is only lexed for the secret-looking keys in it).
    pub(crate) fn read<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut facts = ModuleFacts::default();
        for text in texts {
            let mut lexer = Lexer::new(text, Defaults::None, &|_, _| false);
            lexer.run();
            facts.direct.vars.extend(lexer.fed);
            facts.direct.locals.extend(lexer.fed_locals);
            if let Ok((body, _)) = crate::module::parse_body(text) {
                facts.read_hcl(text, &body);
            } else if let Ok(serde_json::Value::Object(root)) =
                serde_json::from_str::<serde_json::Value>(text)
            {
                facts.read_json(&root);
            }
        }
        facts
    }

    fn read_hcl(&mut self, text: &str, body: &hcl_edit::structure::Body) {
        let value_text = |expr: &hcl_edit::expr::Expression| {
            hcl_edit::Span::span(expr).map_or("", |span| &text[span])
        };
        for block in body.blocks() {
            for for_each in secret_for_eachs(text, block) {
                let names = Names::of(value_text(&for_each.value));
                self.direct.vars.extend(names.vars);
                self.direct.locals.extend(names.locals);
            }
            let name = block.labels.first().map(|l| l.as_str().to_owned());
            match (block.ident.as_str(), name) {
                ("locals", _) => {
                    for attr in block.body.attributes() {
                        self.locals.push((
                            attr.key.as_str().to_owned(),
                            Names::of(value_text(&attr.value)),
                        ));
                    }
                }
                ("variable", Some(name)) => {
                    let secret =
                        is_set(&block.body, "sensitive") || is_set(&block.body, "ephemeral");
                    self.variables.push((name, secret));
                }
                ("module", Some(name)) => {
                    let source = match block.body.get_attribute("source").map(|a| &a.value) {
                        Some(hcl_edit::expr::Expression::String(s)) => Some(s.value().to_string()),
                        _ => None,
                    };
                    let arguments = block
                        .body
                        .attributes()
                        .map(|attr| {
                            (
                                attr.key.as_str().to_owned(),
                                Names::of(value_text(&attr.value)),
                            )
                        })
                        .collect();
                    let for_each = block
                        .body
                        .get_attribute("for_each")
                        .map(|attr| Names::of(value_text(&attr.value)))
                        .unwrap_or_default();
                    self.calls.push(ModuleCall {
                        name,
                        source,
                        arguments,
                        for_each,
                    });
                }
                _ => {}
            }
        }
    }

    /// The same of a `.tf.json` file: a block type's value is an object, or an array of them,
    /// and so is each label level's.
    fn read_json(&mut self, root: &serde_json::Map<String, serde_json::Value>) {
        fn objects(value: &serde_json::Value) -> Vec<&serde_json::Map<String, serde_json::Value>> {
            match value {
                serde_json::Value::Object(map) => vec![map],
                serde_json::Value::Array(items) => {
                    items.iter().filter_map(|i| i.as_object()).collect()
                }
                _ => Vec::new(),
            }
        }
        let text = |value: &serde_json::Value| Names::of(&value.to_string());
        let labelled = |kind: &str| {
            root.get(kind)
                .into_iter()
                .flat_map(objects)
                .flat_map(|map| map.iter())
                .flat_map(|(name, body)| objects(body).into_iter().map(move |b| (name, b)))
                .collect::<Vec<_>>()
        };
        for map in root.get("locals").into_iter().flat_map(objects) {
            for (name, value) in map {
                self.locals.push((name.clone(), text(value)));
            }
        }
        for (name, body) in labelled("variable") {
            let set = |key: &str| body.get(key) == Some(&serde_json::Value::Bool(true));
            self.variables
                .push((name.clone(), set("sensitive") || set("ephemeral")));
        }
        for (name, body) in labelled("module") {
            self.calls.push(ModuleCall {
                name: name.clone(),
                source: body
                    .get("source")
                    .and_then(|s| s.as_str())
                    .map(str::to_owned),
                arguments: body
                    .iter()
                    .map(|(key, value)| (key.clone(), text(value)))
                    .collect(),
                for_each: body.get("for_each").map(text).unwrap_or_default(),
            });
        }
    }

    /// The module's secret variables and locals, given which arguments of its module calls are
    /// secrets: what a secret-looking key or such an argument names, followed through locals to
    /// a fixpoint.
    pub(crate) fn resolve(
        &self,
        module_inputs: BTreeMap<String, BTreeSet<String>>,
    ) -> SecretVariables {
        let mut fed = self.direct.vars.clone();
        let mut locals = self.direct.locals.clone();
        for call in &self.calls {
            let Some(inputs) = module_inputs.get(&call.name) else {
                continue;
            };
            let mut given = Names::default();
            for (key, names) in &call.arguments {
                if inputs.contains(key) {
                    given.extend(names.clone());
                }
            }
            // `pw = each.value`: the elements of the call's `for_each` are the secrets.
            if given.each {
                given.extend(call.for_each.clone());
            }
            fed.extend(given.vars);
            locals.extend(given.locals);
        }
        loop {
            let before = locals.len();
            for (name, names) in &self.locals {
                if locals.contains(name) {
                    fed.extend(names.vars.iter().cloned());
                    locals.extend(names.locals.iter().cloned());
                }
            }
            if locals.len() == before {
                break;
            }
        }
        let sensitive = self
            .variables
            .iter()
            .filter(|(_, secret)| *secret)
            .map(|(name, _)| name.clone())
            .collect();
        SecretVariables {
            fed,
            locals,
            module_inputs,
            sensitive,
        }
    }

    /// The variables of this module that hold a secret, as a module calling it sees them: the
    /// sensitive or ephemeral ones, those with a secret-looking name, those in `secrets.fed`.
    pub(crate) fn secret_inputs(&self, secrets: &SecretVariables) -> BTreeSet<String> {
        self.variables
            .iter()
            .filter(|(name, secret)| *secret || is_secret_key(name) || secrets.fed.contains(name))
            .map(|(name, _)| name.clone())
            .collect()
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

/// The `for_each` arguments of `block` (in `text`) whose elements reach a secret-looking key:
/// the block's own when `each.key` or `each.value` does (`for_each = { app = "..." }` with
/// `password = each.value`), and that of every `dynamic` block in it, at any depth, whose
/// iterator does (`content { password = user.value }` in `dynamic "user"`, or the name its
/// `iterator` argument sets), also by way of a nested `dynamic` block's `for_each`
/// (`for_each = [each.value]`, `for_each = outer.value`).
fn secret_for_eachs<'b>(
    text: &str,
    block: &'b hcl_edit::structure::Block,
) -> Vec<&'b hcl_edit::structure::Attribute> {
    let mut out = Vec::new();
    let named = dynamic_for_eachs(text, &block.body, &mut out);
    if let Some(for_each) = block.body.get_attribute("for_each") {
        if named.contains("each") || fed_roots(text, block).contains("each") {
            out.push(for_each);
        }
    }
    out
}

/// Pushes onto `out` the `for_each` of each `dynamic` block in `body` (at any depth) whose
/// iterator reaches a secret-looking key; returns what those `for_each` values read (`each`, an
/// enclosing block's iterator), so that the enclosing iteration counts too.
fn dynamic_for_eachs<'b>(
    text: &str,
    body: &'b hcl_edit::structure::Body,
    out: &mut Vec<&'b hcl_edit::structure::Attribute>,
) -> BTreeSet<String> {
    let span_text = |expr: &hcl_edit::expr::Expression| {
        hcl_edit::Span::span(expr).map_or("", |span| text[span].trim())
    };
    let mut named = BTreeSet::new();
    for block in body.blocks() {
        let inner = dynamic_for_eachs(text, &block.body, out);
        if block.ident.as_str() == "dynamic" {
            let iterator = match block.body.get_attribute("iterator") {
                Some(attr) => span_text(&attr.value),
                None => crate::module::label(block, 0).unwrap_or_default(),
            };
            if let Some(for_each) = block.body.get_attribute("for_each") {
                if !iterator.is_empty()
                    && (inner.contains(iterator) || fed_roots(text, block).contains(iterator))
                {
                    out.push(for_each);
                    named.extend(roots_in(span_text(&for_each.value)));
                }
            }
        }
        named.extend(inner);
    }
    named
}

/// What the references under secret-looking keys in `block` (in `text`) start with: `each`,
/// `var`, a `dynamic` block's iterator...
fn fed_roots(text: &str, block: &hcl_edit::structure::Block) -> BTreeSet<String> {
    let Some(span) = hcl_edit::Span::span(block) else {
        return BTreeSet::new();
    };
    let mut lexer = Lexer::new(&text[span], Defaults::None, &|_, _| false);
    lexer.run();
    lexer.fed_roots
}

/// The names that start a reference in `text` (an identifier followed by `.` that no `.` or
/// identifier character precedes: `each` and `user` in `"${each.key}-${user.value}"`).
fn roots_in(text: &str) -> BTreeSet<String> {
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let bytes = text.as_bytes();
    let mut out = BTreeSet::new();
    let mut at = 0;
    while at < bytes.len() {
        if !(bytes[at].is_ascii_alphabetic() || bytes[at] == b'_')
            || at > 0 && (is_ident(bytes[at - 1]) || bytes[at - 1] == b'.')
        {
            at += 1;
            continue;
        }
        let len = bytes[at..].iter().take_while(|c| is_ident(**c)).count();
        if bytes.get(at + len) == Some(&b'.') {
            out.insert(text[at..at + len].to_owned());
        }
        at += len;
    }
    out
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
    lexer.secret_names = secret_names(text, variables);
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
/// `sensitive` or `ephemeral`, have a secret-looking name or are in `variables.fed`, the keys
/// in `locals` blocks of the locals in `variables.locals`, the arguments of module calls in
/// `variables.module_inputs`, and the `for_each` of a block that gives `each.` to a
/// secret-looking key. `None` when `text` does not parse.
fn secret_key_offsets(text: &str, variables: &SecretVariables) -> Option<BTreeSet<usize>> {
    let (body, _) = crate::module::parse_body(text).ok()?;
    let mut offsets = BTreeSet::new();
    for block in body.blocks() {
        for for_each in secret_for_eachs(text, block) {
            offsets.extend(hcl_edit::Span::span(&for_each.key).map(|span| span.start));
        }
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
        if block.ident.as_str() == "module" {
            let name = block.labels.first().map(|l| l.as_str()).unwrap_or_default();
            if let Some(inputs) = variables.module_inputs.get(name) {
                let secret: Vec<_> = block
                    .body
                    .attributes()
                    .filter(|attr| inputs.contains(attr.key.as_str()))
                    .collect();
                // `pw = each.value`: the call's `for_each` holds the secrets.
                let each = secret.iter().any(|attr| {
                    hcl_edit::Span::span(&attr.value)
                        .is_some_and(|span| !names_after(&text[span], "each.").is_empty())
                });
                let for_each = block
                    .body
                    .get_attribute("for_each")
                    .filter(|_| each)
                    .into_iter();
                offsets.extend(
                    secret
                        .into_iter()
                        .chain(for_each)
                        .filter_map(|attr| hcl_edit::Span::span(&attr.key).map(|span| span.start)),
                );
            }
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

/// The references (`var.NAME`, `local.NAME`) whose values are secrets themselves, for `text` of
/// a module: variables declared `sensitive` or `ephemeral` (in any file of the module), and
/// variables and locals with secret-looking names. Not those that only feed a secret
/// (`password = local.is_replica ? null : var.pw` names `local.is_replica`).
fn secret_names(text: &str, variables: &SecretVariables) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = variables
        .sensitive
        .iter()
        .map(|n| format!("var.{n}"))
        .collect();
    if let Ok((body, _)) = crate::module::parse_body(text) {
        for block in body.blocks().filter(|b| b.ident.as_str() == "variable") {
            let name = block.labels.first().map(|l| l.as_str()).unwrap_or_default();
            if is_set(&block.body, "sensitive") || is_set(&block.body, "ephemeral") {
                names.insert(format!("var.{name}"));
            }
        }
    }
    for prefix in ["var.", "local."] {
        names.extend(
            names_after(text, prefix)
                .into_iter()
                .filter(|name| is_secret_key(name))
                .map(|name| format!("{prefix}{name}")),
        );
    }
    names
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
    /// The item being read: a body's or an object's own; a tuple or a call takes its
    /// enclosing one's.
    item: usize,
    /// The key the current item is assigned to, and whether it is secret.
    key: Option<(String, bool)>,
    /// The next token starts an item (after the opening bracket, a newline or a comma).
    item_start: bool,
    /// The type of the `resource`, `data` or `ephemeral` block this is in.
    block_type: Option<String>,
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
    /// The item it is in (see [`Frame::item`]).
    item: usize,
    /// Masked because of the keys above it (not yet asked of the check).
    under_secret: bool,
    key: Option<String>,
    /// It turned out to be a key itself.
    is_key: bool,
    /// What is masked when it is secret: its literal text, not the `${...}` that only read
    /// (a template's references stay readable); the whole of it when it is plain.
    segments: Vec<std::ops::Range<usize>>,
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
    /// What the references read under a secret-looking key start with (`each`, an iterator).
    fed_roots: BTreeSet<String>,
    /// `var.NAME` and `local.NAME` references that are secrets (see [`secret_names`]).
    secret_names: BTreeSet<String>,
    /// The last item number given out, and the items that read a secret name: a literal there
    /// is compared with or stands in for the secret (`condition = var.pw != "..."`).
    items: usize,
    touched: BTreeSet<usize>,
    /// The words and string contents of the current top-level item (`resource`, the type, the
    /// name): the type of the block its `{` opens.
    header: Vec<String>,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str, defaults: Defaults, check: SecretCheck<'a>) -> Self {
        Lexer {
            text,
            defaults,
            check,
            frames: vec![Frame {
                bracket: Bracket::Brace,
                item: 0,
                key: None,
                item_start: true,
                block_type: None,
            }],
            candidate: None,
            literals: Vec::new(),
            masks: Vec::new(),
            fed: BTreeSet::new(),
            fed_locals: BTreeSet::new(),
            fed_roots: BTreeSet::new(),
            secret_names: BTreeSet::new(),
            items: 0,
            touched: BTreeSet::new(),
            header: Vec::new(),
        }
    }

    /// Marks the current item when `text` names a secret variable or local.
    fn touch(&mut self, text: &str) {
        let secret = names_after(text, "var.")
            .into_iter()
            .map(|name| format!("var.{name}"))
            .chain(
                names_after(text, "local.")
                    .into_iter()
                    .map(|name| format!("local.{name}")),
            )
            .any(|name| self.secret_names.contains(&name));
        if secret {
            let item = self.frame().item;
            self.touched.insert(item);
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
        self.items += 1;
        let next = self.items;
        if self.frames.len() == 1 {
            self.header.clear();
        }
        let frame = self.frame();
        if frame.bracket == Bracket::Brace {
            frame.key = None;
            frame.item = next;
        }
        frame.item_start = true;
    }

    /// Under a secret-looking key, the variables and locals a template names
    /// (`password = "${local.p}-x"`, a heredoc line, a `.tf.json` string).
    fn names_in(&mut self, range: std::ops::Range<usize>) {
        if self.under_secret() {
            let text = &self.text[range];
            self.fed.extend(names_after(text, "var."));
            self.fed_locals.extend(names_after(text, "local."));
            self.fed_roots.extend(roots_in(text));
        }
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
        let block_type = self.frames.last().and_then(|f| f.block_type.as_deref());
        default || trigger || is_secret_key_in(name, block_type)
    }

    fn run(&mut self) {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut pos = 0;
        let mut block_comment = false;
        while pos < bytes.len() {
            if block_comment {
                let end = text[pos..]
                    .find("*/")
                    .map_or(text.len(), |offset| pos + offset);
                self.comment(pos..end);
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
                    let marker = if bytes[pos] == b'#' { 1 } else { 2 };
                    self.comment(pos + marker..line_end(text, pos));
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
                    self.items += 1;
                    let block_type = if self.frames.len() == 1 {
                        match self.header.as_slice() {
                            [kind, ty, ..]
                                if matches!(kind.as_str(), "resource" | "data" | "ephemeral") =>
                            {
                                Some(ty.clone())
                            }
                            _ => None,
                        }
                    } else {
                        self.frame().block_type.clone()
                    };
                    let item = if bytes[pos] == b'{' {
                        self.items
                    } else {
                        self.frame().item
                    };
                    self.frames.push(Frame {
                        item,
                        bracket: if bytes[pos] == b'{' {
                            Bracket::Brace
                        } else {
                            Bracket::Other
                        },
                        key: None,
                        item_start: true,
                        block_type,
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
                    if self.frames.len() == 1 {
                        self.header.push(word.to_owned());
                    }
                    self.touch(word);
                    if self.under_secret() {
                        if let Some(name) = word.strip_prefix("var.") {
                            let name = name.split('.').next().unwrap_or_default();
                            self.fed.insert(name.to_owned());
                        } else if let Some(name) = word.strip_prefix("local.") {
                            let name = name.split('.').next().unwrap_or_default();
                            self.fed_locals.insert(name.to_owned());
                        }
                        if let Some((root, _)) = word.split_once('.') {
                            self.fed_roots.insert(root.to_owned());
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
    /// position after it. A quoted string's text cannot span lines: it also ends at a newline
    /// there. An interpolation can (`"a${\n  var.x\n}b"`): the string goes on after it.
    fn string(&mut self, open: usize) -> usize {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut nesting = Nesting::default();
        nesting.open_string();
        let mut pos = open + 1;
        let mut plain = true;
        let mut close = text.len();
        // The literal text of the string itself, between the interpolations of it that hold no
        // string (`${var.a}`, `${local.b.c}`: references only, shown). One that holds a string
        // (`${coalesce(var.a, "...")}`) is literal text too.
        let mut segments = Vec::new();
        let mut segment_start = open + 1;
        let mut interpolation: Option<usize> = None;
        while pos < text.len() && !nesting.at_top() {
            if nesting.in_string() {
                let outer = nesting.depth() == 1;
                let (next, step) = nesting.string_step(text, pos);
                match step {
                    InString::Close if nesting.at_top() => {
                        close = pos;
                        break;
                    }
                    InString::Open => {
                        plain = false;
                        if outer {
                            interpolation = Some(pos);
                        }
                    }
                    _ => {}
                }
                pos = next;
                continue;
            }
            match bytes[pos] {
                b'"' => nesting.open_string(),
                b'{' => nesting.open_brace(),
                b'}' => {
                    nesting.close_brace();
                    if nesting.depth() == 1 && nesting.in_string() {
                        if let Some(start) = interpolation.take() {
                            // References only: no string, and no comment (a value
                            // commented out in it, `${var.a /* old */}`).
                            let code = &text[start..pos];
                            if !code.contains(['"', '#'])
                                && !code.contains("/*")
                                && !code.contains("//")
                            {
                                if segment_start < start {
                                    segments.push(segment_start..start);
                                }
                                segment_start = pos + 1;
                            }
                        }
                    }
                }
                _ => {}
            }
            pos += 1;
        }
        let close = close.min(text.len());
        if plain {
            segments.clear();
            segments.push(open + 1..close);
        } else if segment_start < close {
            segments.push(segment_start..close);
        }
        if self.frames.len() == 1 {
            self.header.push(text[open + 1..close].to_owned());
        }
        self.names_in(open + 1..close);
        self.touch(&text[open + 1..close]);
        let item_start = self.frame().item_start;
        self.token();
        let item = self.frame().item;
        self.literals.push(Literal {
            range: open + 1..close,
            item,
            under_secret: self.under_secret(),
            key: self.nearest_key(),
            is_key: false,
            segments,
        });
        if item_start && plain {
            self.candidate = Some(Candidate {
                name: text[open + 1..close].to_owned(),
                offset: open,
                literal: Some(self.literals.len() - 1),
            });
        }
        if bytes.get(close) == Some(&b'"') {
            close + 1
        } else {
            close
        }
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
            self.names_in(start..end);
            if under_secret || (self.check)(key.as_deref(), line.trim()) {
                self.masks.push(Masked::Line(start..end));
            }
            pos = end;
        }
        text.len()
    }

    /// A comment's text (`range`, without its markers): a commented-out value is still the
    /// secret (`# password = "old"`, `// token: abc1`, `/* the password Zq8vLm2x... */`).
    /// Masked: the value of an assignment to a secret-looking key (`=` or `:` after it, quoted
    /// or not; not `true`, `false`, `null` or a reference, nor a plain lower-case word after a
    /// colon, which is prose), a word right after a secret-looking word that the check takes for
    /// that key's value (not a plain word, nor a name itself), and any word or quoted text the
    /// check recognises by its content.
    fn comment(&mut self, range: std::ops::Range<usize>) {
        let text = self.text;
        // The word just before when it looks secret, and the `=` or `:` after it.
        let mut previous: Option<&str> = None;
        let mut assigned: Option<char> = None;
        let mut pos = range.start;
        while pos < range.end {
            let Some(c) = text[pos..range.end].chars().next() else {
                break;
            };
            if c == '\n' {
                (previous, assigned) = (None, None);
                pos += 1;
                continue;
            }
            if c.is_whitespace() {
                pos += c.len_utf8();
                continue;
            }
            if matches!(c, '=' | ':') && previous.is_some() && assigned.is_none() {
                assigned = Some(c);
                pos += 1;
                continue;
            }
            let quoted = matches!(c, '"' | '\'' | '`');
            let (mut value, next) = if quoted {
                let end = line_end(text, pos).min(range.end);
                let close = text[pos + 1..end]
                    .find(c)
                    .map_or(end, |offset| pos + 1 + offset);
                (pos + 1..close, (close + 1).min(end))
            } else {
                let len = text[pos..range.end]
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`'))
                    .unwrap_or(range.end - pos);
                let word = text[pos..pos + len].trim_end_matches([',', ';', ')', ']', '}', '.']);
                (pos..pos + word.len(), pos + len)
            };
            pos = next;
            let rest = text[next..line_end(text, next).min(range.end)].trim_start();
            // `password=abc1`, `token:abc1`: a key and its value in one word.
            let split = if quoted {
                None
            } else {
                text[value.clone()]
                    .find(['=', ':'])
                    .filter(|&at| !text[value.start + at..].starts_with("://"))
            };
            if let Some(at) = split {
                let key = &text[value.start..value.start + at];
                previous = is_secret_key(key).then_some(key);
                assigned = text[value.start + at..].chars().next();
                value = value.start + at + 1..value.end;
                if value.is_empty() {
                    continue;
                }
            } else if !rest.starts_with("==") && (rest.starts_with('=') || rest.starts_with(':')) {
                // A key (`password =`, `"DB_PASSWORD":`): its value comes next.
                let key = &text[value];
                previous = is_secret_key(key).then_some(key);
                assigned = None;
                continue;
            }
            let shown = &text[value.clone()];
            let plain = shown.chars().all(|c| c.is_ascii_lowercase());
            let secret = match (previous, assigned) {
                (Some(_), Some(separator)) => {
                    let reference = matches!(shown, "true" | "false" | "null")
                        || [
                            "var.", "local.", "each.", "module.", "data.", "count.", "${",
                        ]
                        .iter()
                        .any(|prefix| shown.starts_with(prefix));
                    let prose = separator == ':' && !quoted && plain;
                    !(reference || prose)
                }
                (Some(key), None) => {
                    !plain && !is_secret_key(shown) && (self.check)(Some(key), shown)
                }
                (None, _) => false,
            };
            if !shown.is_empty() && (secret || (self.check)(None, shown)) {
                self.masks.push(Masked::Literal(value));
            }
            previous = if split.is_none() && is_secret_key(shown) {
                Some(shown)
            } else {
                None
            };
            assigned = None;
        }
    }

    fn finish_literals(&mut self) {
        for literal in std::mem::take(&mut self.literals) {
            let contents = &self.text[literal.range.clone()];
            let secret = if literal.is_key {
                (self.check)(None, contents)
            } else if contents.is_empty() {
                // `var.pw == ""`, `coalesce(var.pw, "")`: nothing to hide, and `"***"` would
                // show a value where there is none.
                false
            } else if index_key(self.text, &literal.range) {
                // `var.creds["db_password"]`, `lookup(var.creds, "db_password")`: the name
                // of an entry, not its value; masked only if it looks like a secret itself.
                (self.check)(None, contents)
            } else {
                literal.under_secret
                    || self.touched.contains(&literal.item)
                    || (self.check)(literal.key.as_deref(), contents)
            };
            if secret {
                // A range masked in the diff is on one line: a segment that spans lines (an
                // interpolation with a string, over lines) is masked on each.
                for segment in literal.segments {
                    let lines = self.text[segment.clone()].split('\n');
                    let mut start = segment.start;
                    for (i, piece) in lines.enumerate() {
                        if i == 0 || !piece.is_empty() {
                            self.masks.push(Masked::Literal(start..start + piece.len()));
                        }
                        start += piece.len() + 1;
                    }
                }
            }
        }
        self.masks.sort_by_key(Masked::start);
    }
}

/// Whether the string literal whose contents are `range` (between its quotes) is a key that
/// picks an entry: `X["key"]` after a reference, a call or an index, or the second argument of
/// `lookup(REFERENCE, "key", ...)`. A tuple (`["a"]`, `contains(["a"], ...)`) is not.
fn index_key(text: &str, range: &std::ops::Range<usize>) -> bool {
    let (Some(open), Some(after)) = (range.start.checked_sub(1), text.get(range.end + 1..)) else {
        return false;
    };
    let before = text[..open].trim_end_matches([' ', '\t']);
    let after = after.trim_start_matches([' ', '\t']);
    if let Some(head) = before.strip_suffix('[') {
        return after.starts_with(']')
            && head
                .bytes()
                .next_back()
                .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b']' | b')'));
    }
    if !(after.starts_with(',') || after.starts_with(')')) {
        return false;
    }
    let Some(head) = before.strip_suffix(',') else {
        return false;
    };
    let head = head.trim_end_matches([' ', '\t']);
    // The first argument: a reference (`var.creds`, `local.m.db`, `module.x.out[0]`).
    let reference = head
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']'))
        .count();
    let head = &head[..head.len() - reference];
    reference > 0
        && head
            .trim_end_matches([' ', '\t'])
            .strip_suffix('(')
            .is_some_and(|call| {
                call.trim_end_matches([' ', '\t']).ends_with("lookup")
                    && !call
                        .trim_end_matches([' ', '\t'])
                        .strip_suffix("lookup")
                        .is_some_and(|pre| {
                            pre.bytes()
                                .next_back()
                                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                        })
            })
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
                "s = \"${\"a\"}\" # password = \"***\"",
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
    fn secret_values_in_comments_are_masked() {
        let cases = [
            (
                "  # password = \"a1\"\n  password_wo = var.p\n",
                "  # password = \"***\"\n  password_wo = var.p\n",
            ),
            ("// token: abc1 def\n", "// token: *** def\n"),
            (
                "# A JSON credential: fixed fields\n",
                "# A JSON credential: fixed fields\n",
            ),
            ("# DB_PASSWORD=hunter2, then\n", "# DB_PASSWORD=***, then\n"),
            (
                "# \"db_password\": \"x y\"\n",
                "# \"db_password\": \"***\"\n",
            ),
            (
                "/* old:\n   master_password = s3cr3t\n*/\nx = 1\n",
                "/* old:\n   master_password = ***\n*/\nx = 1\n",
            ),
            // What is not a value stays: prose, references, booleans, comparisons.
            (
                "# Set master_password OR manage_master_user_password=true, not both\n",
                "# Set master_password OR manage_master_user_password=true, not both\n",
            ),
            (
                "# password = var.pw; see https://example.com/a:b\n",
                "# password = var.pw; see https://example.com/a:b\n",
            ),
            (
                "# if password == \"\" use random\n",
                "# if password == \"\" use random\n",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(shown(text), expected, "{text}");
        }
        // The check sees every word, with the secret-looking word before it as its key.
        // A key rule that fires on any word of 4 or more characters: only the word right after
        // a secret-looking one is asked, and not when it is plain prose or a name.
        let check = |key: Option<&str>, word: &str| key.is_some() && word.len() >= 4;
        let text = "  /* previous master password Zq8vLm2xPw4Rt7 */\n  # a password in prose\n  # Set master_password OR manage_master_user_password, but not both (one must be null)\n";
        let shown = masked_lines(text, &SecretVariables::default(), &check).join("\n");
        assert_eq!(
            shown,
            "  /* previous master password *** */\n  # a password in prose\n  # Set master_password OR manage_master_user_password, but not both (one must be null)\n"
        );
    }

    /// An empty string and the key that picks an entry of a secret map are no secret: they
    /// were shown as `"***"` beside a secret variable (`var.pw == ""` read as if a value were
    /// there; `lookup(var.creds, "db_password")` hid which entry is read). A value beside
    /// them, a tuple item and a key that looks like a secret itself stay masked.
    #[test]
    fn empty_strings_and_entry_keys_beside_a_secret_are_shown() {
        let text = "variable \"creds\" {\n  sensitive = true\n}\n\
                    resource \"x\" \"y\" {\n  password_wo = var.db_password == \"\" ? lookup(var.creds, \"db_password\", \"\") : var.db_password\n  other_wo    = var.creds[\"api\"] != \"a\" ? try(var.creds[\"api\"], \"\") : \"b\"\n  tuple_wo    = contains([\"d\"], var.creds[\"k\"])\n  look_wo     = lookup(var.creds, \"AKIAABCDEFGHIJKLMNOP\")\n}\n";
        let vars = SecretVariables::collect([text]);
        let shown = masked_lines(text, &vars, &|_, value| value.starts_with("AKIA")).join("\n");
        let expected = text
            .replace("\"a\"", "\"***\"")
            .replace("\"b\"", "\"***\"")
            .replace("\"d\"", "\"***\"")
            .replace("\"AKIAABCDEFGHIJKLMNOP\"", "\"***\"");
        assert_eq!(shown, expected);
    }

    #[test]
    fn literals_compared_with_a_secret_are_masked() {
        // A literal in the same argument as a secret variable or local is compared with it, or
        // stands in for it: a precondition, a local, a function's arguments, a template.
        let text = "variable \"api\" {\n  sensitive = true\n}\n\
                    resource \"x\" \"y\" {\n  password_wo = var.db_password\n  lifecycle {\n    precondition {\n      condition     = var.db_password != \"a\"\n      error_message = \"b\"\n    }\n  }\n}\n\
                    locals {\n  is_default = local.master_password == \"c\"\n  ok = !contains([\"d\"], var.api)\n  t = \"e-${var.api}\"\n  replica = local.is_replica ? \"f\" : \"g\"\n}\n\
                    u = jsonencode({ user = \"h\", key = var.api })\n";
        let vars = SecretVariables::collect([text]);
        let shown = masked_lines(text, &vars, &|_, _| false).join("\n");
        let expected = text
            .replace("\"a\"", "\"***\"")
            .replace("\"c\"", "\"***\"")
            .replace("\"d\"", "\"***\"")
            .replace("\"e-${var.api}\"", "\"***${var.api}\"");
        // `b` (another argument), `f`/`g` (a local that only decides whether the secret is
        // used) and `h` (another item of the object) stay.
        assert_eq!(shown, expected);
    }

    /// Only what may be a secret is masked: the literal text of a template, not the references
    /// it interpolates; `key` in a `tfe_ssh_key` (its private key), not elsewhere (a
    /// `tfe_variable`'s name, a tag's, an S3 object's). Before, `key = "region"` showed as
    /// `"***"` in every block, and `"prefix-${var.pw}"` as `"***"`.
    #[test]
    fn identifiers_and_references_are_not_masked() {
        let cases = [
            (
                "resource \"tfe_variable\" \"t\" {\n  key       = \"region\"\n  value_wo  = var.x\n  sensitive = true\n}\n",
                "resource \"tfe_variable\" \"t\" {\n  key       = \"region\"\n  value_wo  = var.x\n  sensitive = true\n}\n",
            ),
            (
                "resource \"aws_s3_object\" \"o\" {\n  key = \"releases/app.zip\"\n  tag {\n    key = \"Name\"\n  }\n}\n",
                "resource \"aws_s3_object\" \"o\" {\n  key = \"releases/app.zip\"\n  tag {\n    key = \"Name\"\n  }\n}\n",
            ),
            ("x = { key = \"a\" }\n", "x = { key = \"a\" }\n"),
            (
                "resource \"tfe_ssh_key\" \"k\" {\n  name = \"n\"\n  key  = \"a\"\n}\n",
                "resource \"tfe_ssh_key\" \"k\" {\n  name = \"n\"\n  key  = \"***\"\n}\n",
            ),
            (
                "password = \"prefix-${var.pw}\"\n",
                "password = \"***${var.pw}\"\n",
            ),
            (
                "value_wo = \"${var.tok}-${local.suffix}\"\n",
                "value_wo = \"${var.tok}***${local.suffix}\"\n",
            ),
            ("password = \"${var.pw}\"\n", "password = \"${var.pw}\"\n"),
            // An interpolation that holds a string is literal text too.
            (
                "password = \"${coalesce(var.pw, \"a\")}\"\n",
                "password = \"***\"\n",
            ),
            (
                "password = \"x${coalesce(var.pw, \"a\")}${var.b}y\"\n",
                "password = \"***${var.b}***\"\n",
            ),
            // An interpolation over lines: the string goes on after it.
            (
                "password = \"a${\n  var.b\n}c\"\nx = \"d\"\n",
                "password = \"***${\n  var.b\n}***\"\nx = \"d\"\n",
            ),
            (
                "password = \"${join(\",\",\n  [var.b])}c\"\n",
                "password = \"***\n***\"\n",
            ),
            // A comment in an interpolation is not a reference: it may hold an old value.
            (
                "password = \"${var.pw /* a */}-${var.b}\"\n",
                "password = \"***${var.b}\"\n",
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
