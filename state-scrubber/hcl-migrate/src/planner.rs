//! Decides the rewrites for one module and turns them into edits.
//!
//! Order matters: the `offstate_secret` pairs are chosen first (their version resource must not
//! also get the `secret_string_wo` twin, and a `random_password` that becomes a pair's `generate`
//! block must not also become ephemeral), then the write-only twins (they decide which arguments
//! will be write-only), then the ephemeral conversions (which need to know that), then the edits
//! that move text around (which render the smaller edits into the moved text).

use crate::comments::{comments_in, Comment};
use crate::edit::{indent_at, line_end, line_number, line_start, render, BodyInsertion, Edit};
use crate::module::{describe_site, label, Meta, OtherFile, Owner, Reference, SourceFile, Step};
use crate::report::{EditKind, EditNote, Hazard, Note, Warning};
use crate::table::{is_secret_key, is_write_only_key, rules_for};
use crate::Options;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Attribute, Block, BlockLabel, Body};
use hcl_edit::Span;
use std::collections::{BTreeMap, BTreeSet, HashSet};

mod sinks;
mod variables;

/// Data sources that read a secret and have an ephemeral resource of the same name.
const SECRET_DATA_SOURCES: [&str; 5] = [
    "aws_secretsmanager_secret_version",
    "aws_ssm_parameter",
    "vault_kv_secret_v2",
    "google_secret_manager_secret_version",
    "azurerm_key_vault_secret",
];

/// Arguments of `aws_secretsmanager_secret` that `offstate_secret` has under the same name and
/// meaning. (Its `replica` blocks are the same too, but the state moved from hashicorp/aws
/// carries no replicas: see `choose_pairs`.)
const CARRIED: [&str; 8] = [
    "name",
    "name_prefix",
    "description",
    "kms_key_id",
    "tags",
    "recovery_window_in_days",
    "policy",
    "force_overwrite_replica_secret",
];

/// What one module's plan produced.
pub(crate) struct ModulePlan {
    pub edits: Vec<Vec<Edit>>,
    pub notes: Vec<Vec<EditNote>>,
    pub warnings: Vec<Warning>,
    pub infos: Vec<Note>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Candidate {
    Data { ty: String, name: String },
    RandomPassword(String),
}

impl Candidate {
    fn address(&self) -> String {
        match self {
            Candidate::Data { ty, name } => format!("data.{ty}.{name}"),
            Candidate::RandomPassword(name) => format!("random_password.{name}"),
        }
    }

    /// The step by hand that makes it ephemeral.
    fn by_hand(&self) -> String {
        match self {
            Candidate::Data { .. } => {
                format!("make `{}` an `ephemeral` block by hand", self.address())
            }
            Candidate::RandomPassword(name) => format!(
                "make `random_password.{name}` an `ephemeral` block by hand, with a `removed` block that forgets the \
                 resource (the ephemeral form makes a new value on every run)"
            ),
        }
    }

    fn uses<'r>(&'r self, refs: &'r [Reference]) -> impl Iterator<Item = &'r Reference> + 'r {
        refs.iter().filter(move |r| match self {
            Candidate::Data { ty, name } => r.data_source() == Some((ty.as_str(), name.as_str())),
            Candidate::RandomPassword(name) => r.resource_named("random_password") == Some(name),
        })
    }
}

/// Why a use does not take an ephemeral value.
struct Blocked {
    /// "it is used in ...", naming the use.
    reason: String,
    hazard: Option<Hazard>,
    /// The use is a module input (directly or through locals). migrate plans each module on its
    /// own and does not follow a value into one, so this use is unknown, not refused.
    module_input: bool,
    /// Other module inputs met on the way (through a local), also not checked.
    unchecked: Vec<String>,
}

impl Blocked {
    fn new(reason: String, hazard: Option<Hazard>) -> Self {
        Blocked {
            reason,
            hazard,
            module_input: false,
            unchecked: Vec::new(),
        }
    }
}

struct Pair<'a> {
    secret_file: usize,
    secret: &'a Block,
    version_file: usize,
    version: &'a Block,
    value: &'a Attribute,
    /// The value is `secret_binary` (base64, as `binary_wo` takes it), not a string.
    binary: bool,
    value_version: Option<&'a Attribute>,
    /// How the secret (and so its version) is repeated.
    repeat: Repeat<'a>,
    /// The value is a `random_password` that becomes the `generate` block.
    generate: Option<Generate<'a>>,
    /// The `aws_secretsmanager_secret_policy` whose `policy` the `offstate_secret` takes.
    policy: Option<(usize, &'a Block)>,
}

/// A resource's `count` or `for_each`.
#[derive(Clone, Copy)]
enum Repeat<'a> {
    Once,
    Count(&'a Expression),
    ForEach(&'a Expression),
}

impl Repeat<'_> {
    fn meta(&self) -> &'static str {
        match self {
            Repeat::Once => "neither `count` nor `for_each`",
            Repeat::Count(_) => "`count`",
            Repeat::ForEach(_) => "`for_each`",
        }
    }
}

/// How a version's `secret_id` names its secret's instance.
enum Instance<'a> {
    /// `aws_secretsmanager_secret.N.id`
    Whole,
    /// `aws_secretsmanager_secret.N[K].id`
    Key(&'a Expression),
    /// `each.value.id`, with `for_each = aws_secretsmanager_secret.N`
    EachValue,
}

/// A `random_password` whose settings become the `offstate_secret`'s `generate` block.
struct Generate<'a> {
    file: usize,
    block: &'a Block,
    name: String,
    /// With `jsonencode({...})`: the other fields (key and value as written) and the key of the
    /// password, quoted.
    json: Option<(Vec<(String, String)>, String)>,
    /// When the value has comments: how to keep them (in `version_file`).
    commented: Option<CommentedTemplate>,
    version_file: usize,
}

/// A `jsonencode({...})` value with comments, which becomes `json_template` as written (less the
/// password's field) so that its comments and layout stay.
struct CommentedTemplate {
    /// The object, `{` to `}`.
    object: std::ops::Range<usize>,
    /// What of it goes: the password's field (its lines, with the comment lines right above it,
    /// when it has lines of its own).
    cut: std::ops::Range<usize>,
    /// The indentation of the value's line.
    indent: String,
    /// Comments of the password's field, which go with `json_key`: the lines above it, and the
    /// one trailing it.
    key_above: Vec<Comment>,
    key_trailing: Vec<Comment>,
    /// Comments in the value outside the object.
    outside: Vec<Comment>,
}

/// `random_password`'s default punctuation (terraform-provider-random); offstate's default set is
/// larger, so a converted `generate` block names this one.
const RANDOM_PASSWORD_SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";
const DEFAULT_SET_COMMENT: &str = " # random_password's default set";

/// Arguments of `random_password` that `generate` has under the same name (`number` is the
/// deprecated spelling of `numeric`).
const GENERATE_ARGS: [&str; 11] = [
    "length",
    "lower",
    "upper",
    "numeric",
    "number",
    "special",
    "min_lower",
    "min_upper",
    "min_numeric",
    "min_special",
    "override_special",
];

struct Planner<'a> {
    files: &'a [SourceFile],
    /// Override and `.tf.json` files: not rewritten, so nothing they name may change.
    others: &'a [OtherFile],
    refs: &'a [Reference],
    plan: ModulePlan,
    /// (file, key start) of arguments that are, or are about to become, write-only.
    wo_keys: HashSet<(usize, usize)>,
    /// Provider source → newest first-version needed by a twin we introduced.
    provider_versions: BTreeMap<String, String>,
    /// A file to add the `offstate` provider requirement to, once something needs it.
    needs_offstate: Option<usize>,
    /// The local name `required_providers` already gives `offstate/offstate`, if any.
    offstate_local: Option<String>,
    /// Why nothing that needs the offstate provider may be written: `required_providers` gives
    /// its default local name, `offstate`, to another provider, or is in a `.tf.json` file that
    /// does not list offstate.
    offstate_blocked: Option<String>,
    /// The offstate entry of a `required_providers` in a file migrate does not rewrite: a
    /// `.tf.json` file (then the module's only one) or an override file.
    json_offstate: Option<JsonOffstate>,
    /// The `required_providers` entries of the override files, by local name: Terraform puts
    /// each in place of the primary files' entry of that name, whole (a later override file's
    /// wins). (file name, source; `None`: no `source`, which means `hashicorp/<local name>`.)
    overrides: BTreeMap<String, (String, Option<String>)>,
    /// `random_password` resources that become an `offstate_secret`'s `generate` block.
    generating: BTreeSet<String>,
    /// Conditions of write-only values that their version trigger repeats (`c ? null : 1`):
    /// what they read is also used in a plain argument now.
    copied: Vec<CopiedCondition>,
}

/// A condition under which a write-only value is null, copied into its version trigger.
struct CopiedCondition {
    file: usize,
    range: std::ops::Range<usize>,
    /// `T.N.password_wo`
    twin: String,
    /// `password_wo_version`
    version: String,
}

pub(crate) fn plan_module(
    files: &[SourceFile],
    others: &[OtherFile],
    refs: &[Reference],
    opts: &Options,
    is_root: bool,
) -> ModulePlan {
    let mut planner = Planner {
        files,
        others,
        refs,
        plan: ModulePlan {
            edits: vec![Vec::new(); files.len()],
            notes: vec![Vec::new(); files.len()],
            warnings: Vec::new(),
            infos: Vec::new(),
        },
        wo_keys: HashSet::new(),
        provider_versions: BTreeMap::new(),
        needs_offstate: None,
        offstate_local: None,
        offstate_blocked: None,
        json_offstate: None,
        overrides: override_required_providers(others),
        generating: BTreeSet::new(),
        copied: Vec::new(),
    };
    planner.offstate_local = planner.required_offstate().map(|entry| entry.name);
    if planner.offstate_local.is_none() {
        if let Some(entry) = planner.override_offstate() {
            planner.offstate_local = Some(entry.name.clone());
            planner.json_offstate = Some(entry);
        }
    }
    if planner.offstate_local.is_none() {
        match planner.json_required_providers() {
            Ok(Some(entry)) => {
                planner.offstate_local = Some(entry.name.clone());
                planner.json_offstate = Some(entry);
            }
            Ok(None) => {}
            Err(reason) => planner.offstate_blocked = Some(reason),
        }
    }
    if planner.offstate_blocked.is_none() {
        planner.offstate_blocked = planner.offstate_taken();
    }
    let pairs = if opts.offstate_secret {
        planner.choose_pairs()
    } else {
        Vec::new()
    };
    let paired_versions: HashSet<(usize, usize)> = pairs
        .iter()
        .map(|p| (p.version_file, p.version.span().map_or(0, |s| s.start)))
        .collect();
    for pair in &pairs {
        planner
            .wo_keys
            .insert((pair.version_file, key_start(pair.value)));
    }
    let sinks = planner.choose_sinks(opts.secret_prefix.as_deref(), is_root, &pairs);
    planner.write_only_twins(&paired_versions);
    if opts.ephemeral {
        let converted = planner.ephemeral();
        planner.ephemeral_variables(&converted);
    }
    planner.offstate(&pairs);
    planner.sink_edits(&sinks);
    if let Some(file) = planner.needs_offstate {
        planner.required_providers(file);
    }
    for (provider, version) in std::mem::take(&mut planner.provider_versions) {
        if let Some(first) = files.first() {
            let dir = first
                .path
                .parent()
                .map(|p| p.to_path_buf())
                .unwrap_or_default();
            planner.plan.infos.push(Note {
                path: dir,
                line: 0,
                message: format!(
                    "the write-only arguments introduced here need provider {provider} >= {version} and Terraform >= 1.11"
                ),
            });
        }
    }
    planner.plan
}

fn key_start(attr: &Attribute) -> usize {
    attr.key.span().map_or(0, |s| s.start)
}

fn span_of(item: &impl Span) -> std::ops::Range<usize> {
    item.span().unwrap_or(0..0)
}

/// Where lines go in `block`'s body: after the item spanning `after`, or first when `None`.
fn body_insertion(
    src: &str,
    block: &Block,
    after: Option<std::ops::Range<usize>>,
) -> BodyInsertion {
    let span = span_of(block);
    let header_end = block
        .labels
        .iter()
        .map(|l| span_of(l).end)
        .chain([span_of(&block.ident).end])
        .max()
        .unwrap_or(span.start)
        .max(span.start);
    let open = src[header_end..span.end]
        .find('{')
        .map_or(span.start, |i| header_end + i);
    let close = src[..span.end].rfind('}').unwrap_or(span.end).max(open);
    BodyInsertion::new(src, open, close, after)
}

/// Whether attribute `other` of `ty` reads back the value of `attribute` (and so turns empty with
/// it when the value is write-only): tfe_variable's `readable_value`, vault_kv_secret_v2's `data`
/// (`data_json` decoded).
fn mirrors(ty: &str, attribute: &str, other: &str) -> bool {
    matches!(
        (ty, attribute, other),
        ("tfe_variable", "value", "readable_value") | ("vault_kv_secret_v2", "data_json", "data")
    )
}

/// Plain arguments that hold a set of secrets while their write-only twin takes one value
/// (hashicorp/aws: `passwords` is a set of up to two, `passwords_wo` a string).
const COLLECTION_TWINS: [(&str, &str); 1] = [("aws_elasticache_user", "passwords")];

/// For a value that is a list of one element, on every branch of its conditionals that is not
/// `null`: each such list's span with its element's. `None` when a branch is anything else, or
/// a list has a comment beside its element (it would go with the brackets).
#[allow(clippy::type_complexity)]
fn single_elements(
    src: &str,
    expr: &Expression,
) -> Option<Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>> {
    let mut expr = expr;
    while let Expression::Parenthesis(inner) = expr {
        expr = inner.inner();
    }
    match expr {
        Expression::Null(_) => Some(Vec::new()),
        Expression::Conditional(cond) => {
            let mut found = single_elements(src, &cond.true_expr)?;
            found.extend(single_elements(src, &cond.false_expr)?);
            Some(found)
        }
        Expression::Array(array) if array.len() == 1 => {
            let element = span_of(array.iter().next()?);
            let list = span_of(array);
            let commented = !comments_in(src, list.start..element.start).is_empty()
                || !comments_in(src, element.end..list.end).is_empty();
            (!commented).then(|| vec![(list, element)])
        }
        _ => None,
    }
}

/// The (file, root offset) of each use of the whole resource `ty.name` (no attribute after the
/// name) that reads nothing of `attribute`: the collection of a `for` expression whose body reads
/// neither that attribute of its element nor the element whole, the argument of `length` or
/// `keys`, and that of `values` read for another attribute (`values(T.N)[*].arn`). Every other whole use may pass the attribute on.
fn whole_uses_without(
    files: &[SourceFile],
    ty: &str,
    name: &str,
    attribute: &str,
    mirror: bool,
) -> HashSet<(usize, usize)> {
    use hcl_edit::expr::{ForExpr, FuncCall, Traversal};
    use hcl_edit::visit::{self, Visit};

    /// The root's offset when `expr` is `ty.name`, indexed or splat but with no attribute.
    fn whole_start(expr: &Expression, ty: &str, name: &str) -> Option<usize> {
        let mut expr = expr;
        while let Expression::Parenthesis(inner) = expr {
            expr = inner.inner();
        }
        let Expression::Traversal(traversal) = expr else {
            return None;
        };
        let Expression::Variable(root) = &traversal.expr else {
            return None;
        };
        let mut ops = traversal.operators.iter().map(|op| op.value());
        let named = root.as_str() == ty
            && matches!(ops.next(), Some(TraversalOperator::GetAttr(n)) if n.as_str() == name);
        (named && ops.all(|op| !matches!(op, TraversalOperator::GetAttr(_))))
            .then(|| traversal.expr.span().map_or(0, |s| s.start))
    }

    /// Whether an expression reads `var.attribute`, or `var` other than by attribute.
    struct Reads<'a> {
        var: &'a str,
        ty: &'a str,
        attribute: &'a str,
        /// Whether `ty`'s read-back attribute ([`mirrors`]) holds the value here.
        mirror: bool,
        found: bool,
    }
    impl Visit for Reads<'_> {
        fn visit_traversal(&mut self, node: &Traversal) {
            if matches!(&node.expr, Expression::Variable(v) if v.as_str() == self.var) {
                match node.operators.first().map(|op| op.value()) {
                    Some(TraversalOperator::GetAttr(a))
                        if a.as_str() != self.attribute
                            && !(self.mirror && mirrors(self.ty, self.attribute, a.as_str())) => {}
                    _ => self.found = true,
                }
                for op in &node.operators {
                    self.visit_traversal_operator(op);
                }
            } else {
                visit::visit_traversal(self, node);
            }
        }
        fn visit_expr(&mut self, node: &Expression) {
            match node {
                Expression::Variable(v) if v.as_str() == self.var => self.found = true,
                _ => visit::visit_expr(self, node),
            }
        }
    }

    struct Finder<'a> {
        ty: &'a str,
        name: &'a str,
        attribute: &'a str,
        mirror: bool,
        file: usize,
        out: HashSet<(usize, usize)>,
    }
    impl Visit for Finder<'_> {
        fn visit_for_expr(&mut self, node: &ForExpr) {
            if let Some(start) = whole_start(&node.intro.collection_expr, self.ty, self.name) {
                let mut reads = Reads {
                    var: node.intro.value_var.as_str(),
                    ty: self.ty,
                    attribute: self.attribute,
                    mirror: self.mirror,
                    found: false,
                };
                if let Some(key) = &node.key_expr {
                    reads.visit_expr(key);
                }
                reads.visit_expr(&node.value_expr);
                if let Some(cond) = &node.cond {
                    reads.visit_expr(&cond.expr);
                }
                if !reads.found {
                    self.out.insert((self.file, start));
                }
            }
            visit::visit_for_expr(self, node);
        }
        fn visit_func_call(&mut self, node: &FuncCall) {
            if node.name.namespace.is_empty()
                && matches!(node.name.name.as_str(), "length" | "keys")
            {
                for arg in node.args.iter() {
                    if let Some(start) = whole_start(arg, self.ty, self.name) {
                        self.out.insert((self.file, start));
                    }
                }
            }
            visit::visit_func_call(self, node);
        }
        // `values(T.N)[*].arn`: another attribute of every instance.
        fn visit_traversal(&mut self, node: &Traversal) {
            if let Expression::FuncCall(call) = &node.expr {
                let first_attr = node.operators.iter().find_map(|op| match op.value() {
                    TraversalOperator::GetAttr(a) => Some(a.as_str()),
                    _ => None,
                });
                if call.name.namespace.is_empty()
                    && call.name.name.as_str() == "values"
                    && first_attr.is_some_and(|a| a != self.attribute)
                {
                    for arg in call.args.iter() {
                        if let Some(start) = whole_start(arg, self.ty, self.name) {
                            self.out.insert((self.file, start));
                        }
                    }
                }
            }
            visit::visit_traversal(self, node);
        }
        // hcl-edit 0.10's default walk of `%{ for x in EXPR }` skips EXPR.
        fn visit_for_template_expr(&mut self, node: &hcl_edit::template::ForTemplateExpr) {
            self.visit_expr(&node.collection_expr);
            visit::visit_for_template_expr(self, node);
        }
    }

    let mut finder = Finder {
        ty,
        name,
        attribute,
        mirror,
        file: 0,
        out: HashSet::new(),
    };
    for (file, source) in files.iter().enumerate() {
        finder.file = file;
        finder.visit_body(&source.body);
    }
    finder.out
}

/// The version trigger for a write-only value that is `null` on a branch of a conditional
/// (`c ? null : v`, nested and parenthesised too): the same conditions with `null` there and `1`
/// elsewhere, and the ranges of the conditions it copies. `Ok(None)`: never null that way (the
/// trigger is `1`). `Err`: a condition spans lines (copied, it would make the trigger's line a
/// multi-line expression).
#[allow(clippy::type_complexity)]
fn null_branch_trigger(
    src: &str,
    expr: &Expression,
) -> Result<Option<(String, Vec<std::ops::Range<usize>>)>, ()> {
    fn walk(
        src: &str,
        expr: &Expression,
        top: bool,
        conditions: &mut Vec<std::ops::Range<usize>>,
    ) -> Result<Option<String>, ()> {
        let mut expr = expr;
        while let Expression::Parenthesis(inner) = expr {
            expr = inner.inner();
        }
        match expr {
            Expression::Null(_) => Ok(Some("null".to_owned())),
            Expression::Conditional(cond) => {
                let t = walk(src, &cond.true_expr, false, conditions)?;
                let f = walk(src, &cond.false_expr, false, conditions)?;
                if t.is_none() && f.is_none() {
                    return Ok(None);
                }
                let range = span_of(&cond.cond_expr);
                let text = src[range.clone()].trim();
                if text.contains('\n') {
                    return Err(());
                }
                conditions.push(range);
                let text = format!(
                    "{text} ? {} : {}",
                    t.as_deref().unwrap_or("1"),
                    f.as_deref().unwrap_or("1")
                );
                Ok(Some(if top { text } else { format!("({text})") }))
            }
            _ => Ok(None),
        }
    }
    let mut conditions = Vec::new();
    Ok(walk(src, expr, true, &mut conditions)?
        .filter(|text| text != "null")
        .map(|text| (text, conditions)))
}

fn is_literal(expr: &Expression) -> bool {
    match expr {
        Expression::String(_) => true,
        Expression::StringTemplate(t) => t.iter().all(|e| e.is_literal()),
        Expression::HeredocTemplate(h) => h.template.iter().all(|e| e.is_literal()),
        _ => false,
    }
}

/// When `block`'s `lifecycle { ignore_changes = ... }` covers the argument or nested block
/// `root` (`all`, `root`, `root[0].x`, or the legacy quoted form), the expression that does.
fn ignores_changes(src: &str, block: &Block, root: &str) -> Option<String> {
    let lifecycle = block.body.get_blocks("lifecycle").next()?;
    let ignored = &lifecycle.body.get_attribute("ignore_changes")?.value;
    let text = |expr: &Expression| src.get(span_of(expr)).unwrap_or_default().trim().to_owned();
    let covers = |expr: &Expression| {
        let text = text(expr);
        let text = text.trim_matches('"');
        let name_len = text
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
            .count();
        text == "all" || &text[..name_len] == root
    };
    match ignored {
        Expression::Array(items) => items
            .iter()
            .find(|item| covers(item))
            .map(|item| format!("[{}]", text(item))),
        other => covers(other).then(|| text(other)),
    }
}

fn version_newer(a: &str, b: &str) -> bool {
    let parse = |v: &str| {
        v.split('.')
            .map(|p| p.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    parse(a) > parse(b)
}

/// Bodies reached from `body` through nested blocks named by `path` (dynamic blocks included).
fn bodies_at<'b>(body: &'b Body, path: &[String], out: &mut Vec<&'b Body>) {
    let Some((first, rest)) = path.split_first() else {
        out.push(body);
        return;
    };
    for block in body.blocks() {
        if block.ident.as_str() == first {
            bodies_at(&block.body, rest, out);
        } else if block.ident.as_str() == "dynamic" && label(block, 0) == Some(first) {
            for content in block.body.get_blocks("content") {
                bodies_at(&content.body, rest, out);
            }
        }
    }
}

impl<'a> Planner<'a> {
    fn src(&self, file: usize) -> &'a str {
        &self.files[file].src
    }

    fn line(&self, file: usize, pos: usize) -> usize {
        line_number(self.src(file), pos)
    }

    fn edit(&mut self, file: usize, edit: Edit) {
        self.plan.edits[file].push(edit);
    }

    fn note_edit(&mut self, file: usize, pos: usize, kind: EditKind, message: String) {
        let line = self.line(file, pos);
        self.plan.notes[file].push(EditNote {
            line,
            kind,
            message,
        });
    }

    fn warn(&mut self, file: usize, pos: usize, hazard: Hazard, message: String) {
        self.plan.warnings.push(Warning {
            path: self.files[file].path.clone(),
            line: self.line(file, pos),
            hazard,
            message,
        });
    }

    fn info(&mut self, file: usize, pos: usize, message: String) {
        self.plan.infos.push(Note {
            path: self.files[file].path.clone(),
            line: self.line(file, pos),
            message,
        });
    }

    /// Why something that an override or `.tf.json` file mentions (every one of `words` as an
    /// identifier) must stay as it is: migrate rewrites neither kind of file, so what it names
    /// would be gone (a dangling reference), or an override would merge into a changed block.
    /// Ends with what to do: move what that file says of it into a `.tf` file, as Terraform
    /// would merge it, and migrate again.
    fn named_elsewhere(&self, words: &[&str]) -> Option<String> {
        self.mentioned_in(words)
            .map(|(reason, action)| format!("{reason}; to change it, {action} and migrate again"))
    }

    /// [`Self::named_elsewhere`] as the reason and what to do, apart.
    fn mentioned_in(&self, words: &[&str]) -> Option<(String, String)> {
        self.others.iter().find(|o| o.mentions(words)).map(|o| {
            let file = o.name();
            (
                format!("`{file}` mentions it, and migrate does not rewrite override or `.tf.json` files"),
                format!(
                    "move what `{file}` says of it into a `.tf` file (an override's arguments into the block they \
                     override, where they replace what it sets; a `.tf.json` block written as HCL)"
                ),
            )
        })
    }

    /// Top-level blocks `kind "ty" "name"` with their file.
    fn blocks(&self, kind: &'a str) -> impl Iterator<Item = (usize, &'a Block)> + 'a {
        self.files
            .iter()
            .enumerate()
            .flat_map(move |(file, source)| {
                source
                    .body
                    .blocks()
                    .filter(move |block| block.ident.as_str() == kind)
                    // A label that is not an identifier (`resource "x" "" {}`) is invalid
                    // Terraform, and an address built from it would not parse: leave it alone.
                    .filter(|block| {
                        block.labels.iter().all(|l| match l {
                            BlockLabel::Ident(_) => true,
                            BlockLabel::String(s) => is_identifier(s.as_str()),
                        })
                    })
                    .map(move |block| (file, block))
            })
    }

    // ----- offstate_secret pairs ---------------------------------------------------------------

    fn choose_pairs(&mut self) -> Vec<Pair<'a>> {
        let mut pairs = Vec::new();
        let secrets: Vec<(usize, &Block)> = self
            .blocks("resource")
            .filter(|(_, b)| label(b, 0) == Some("aws_secretsmanager_secret"))
            .collect();
        for (secret_file, secret) in secrets {
            let name = label(secret, 1).unwrap_or_default();
            let mut reasons = Vec::new();
            let repeat = repetition(secret).unwrap_or_else(|reason| {
                reasons.push(reason);
                Repeat::Once
            });
            let repeated = !matches!(repeat, Repeat::Once);
            for attr in secret.body.attributes() {
                let key = attr.key.as_str();
                if CARRIED.contains(&key)
                    || matches!(key, "provider" | "depends_on" | "count" | "for_each")
                {
                    continue;
                }
                reasons.push(secret_argument_reason(key, name, self.offstate_name()));
            }
            // hashicorp/aws records a generated name's prefix (`terraform-`) as `name_prefix`;
            // offstate_secret takes a change of `name_prefix` as a replacement.
            if !secret.body.has_attribute("name") && !secret.body.has_attribute("name_prefix") {
                reasons.push(
                    "it sets neither `name` nor `name_prefix`, and hashicorp/aws records the generated name's prefix \
                     (`name_prefix = \"terraform-\"`) in the state, and an `offstate_secret` without the same \
                     `name_prefix` would replace the secret; if `terraform state show` lists it, add that \
                     `name_prefix` and migrate again"
                        .to_owned(),
                );
            }
            for block in secret.body.blocks() {
                match block.ident.as_str() {
                    "lifecycle" => {}
                    // offstate's Read manages the replicas its state lists, and a state moved
                    // from hashicorp/aws lists none (MoveResourceState carries ids and metadata
                    // only), so the converting apply would add every configured region again.
                    "replica" => reasons.push(
                        "`offstate_secret` has `replica` blocks, but the state moved from `aws_secretsmanager_secret` \
                         lists no replicas, so the apply that converts it would ask Secrets Manager to replicate \
                         again to regions that already hold one; to convert it, drop the `replica` blocks and migrate \
                         again before applying (`offstate_secret` leaves replicas its configuration does not list in \
                         place; they show in `replica_status`)"
                            .to_owned(),
                    ),
                    _ => reasons.push(format!(
                        "the `{}` block has no offstate_secret counterpart; to convert it, {}, and migrate again",
                        nested_name(block),
                        other_block_step(&format!("aws_secretsmanager_secret.{name}"), nested_name(block))
                    )),
                }
            }
            let versions: Vec<(usize, &Block, Instance)> = self
                .blocks("resource")
                .filter(|(_, b)| label(b, 0) == Some("aws_secretsmanager_secret_version"))
                .filter_map(|(file, b)| match version_target(b) {
                    Some((secret_name, instance)) if secret_name == name => {
                        Some((file, b, instance))
                    }
                    _ => None,
                })
                .collect();
            let mut chosen = None;
            match versions.as_slice() {
                [] => reasons.push(no_version_reason(name)),
                [(version_file, version, instance)] => {
                    let vname = label(version, 1).unwrap_or_default();
                    if let Err(reason) = same_repetition(name, repeat, version, instance) {
                        reasons.push(reason);
                    }
                    let mut value: Option<&Attribute> = None;
                    let mut binary = false;
                    let mut value_version = None;
                    for attr in version.body.attributes() {
                        match attr.key.as_str() {
                            "secret_id" | "depends_on" | "count" | "for_each" => {}
                            key @ ("secret_string" | "secret_string_wo" | "secret_binary") => {
                                if let Some(other) = value {
                                    reasons.push(format!(
                                        "`aws_secretsmanager_secret_version.{vname}` sets both `{}` and `{key}`; to \
                                         convert it, keep the one that holds the value the secret is to keep, remove \
                                         the other and migrate again",
                                        other.key.as_str()
                                    ));
                                }
                                binary = key == "secret_binary";
                                value = Some(attr);
                            }
                            "secret_string_wo_version" => value_version = Some(attr),
                            key => reasons.push(format!(
                                "`aws_secretsmanager_secret_version.{vname}` sets `{key}`, which offstate_secret does not have; \
                                 to convert it, remove `{key}` and migrate again{}",
                                if key == "version_stages" {
                                    " (the `removed` block the version becomes leaves its labels as they are; each \
                                     value `offstate_secret` writes becomes AWSCURRENT)"
                                } else {
                                    ""
                                }
                            )),
                        }
                    }
                    for nested in version.body.blocks() {
                        reasons.push(version_block_reason(vname, name, nested));
                    }
                    match value {
                        Some(value) => {
                            let in_value = |r: &&Reference| {
                                r.file == *version_file && r.site.key_start == key_start(value)
                            };
                            // Iterating the secret resource, `each.value` is the secret's
                            // instance; in `offstate_secret` it would be an element of the
                            // secret's own `for_each`.
                            let iterates_secret = matches!(instance, Instance::EachValue)
                                || version
                                    .body
                                    .get_attribute("for_each")
                                    .is_some_and(|a| names_resource(&a.value, name));
                            if iterates_secret
                                && self
                                    .refs
                                    .iter()
                                    .filter(in_value)
                                    .any(|r| r.root == "each" && r.attr(0) == Some("value"))
                            {
                                reasons.push(format!(
                                    "the value of `aws_secretsmanager_secret_version.{vname}` uses `each.value`, \
                                     which is the secret's instance there and would be an element of its `for_each` \
                                     in `offstate_secret`; to convert it, write in place of each `each.value.<attribute>` \
                                     in the value what the secret sets that attribute to (its `name` expression, say, \
                                     with `each.key`: the version's instances have the secret's keys), and migrate again"
                                ));
                            }
                            if self.refs.iter().filter(in_value).any(|r| {
                                r.resource_named("aws_secretsmanager_secret") == Some(name)
                            }) {
                                reasons.push(format!(
                                    "the value of `aws_secretsmanager_secret_version.{vname}` reads `aws_secretsmanager_secret.{name}`, \
                                     which would be `offstate_secret.{name}` reading itself (Terraform refuses a \
                                     self-reference); to convert it, write in place of that reference what the secret \
                                     sets it to (its `name` expression, say; an `arn` or `id` only as the literal ARN it \
                                     has now), or remove it, and migrate again"
                                ));
                            }
                            chosen = Some((*version_file, *version, value, binary, value_version))
                        }
                        None => reasons.push(format!(
                            "`aws_secretsmanager_secret_version.{vname}` sets neither `secret_string` nor `secret_binary`; \
                             to convert it, set the value it holds in `secret_string` (or `secret_binary`) there, and \
                             migrate again"
                        )),
                    }
                    let version_repeated = repetition(version)
                        .map(|r| !matches!(r, Repeat::Once))
                        .unwrap_or(false);
                    for r in self.refs.iter().filter(|r| {
                        r.resource_named("aws_secretsmanager_secret_version") == Some(vname)
                    }) {
                        let ok = match attr_step(r, version_repeated) {
                            None => r.steps.len() == 1,
                            Some(i) => {
                                matches!(r.attr(i), Some("arn" | "version_id" | "secret_id"))
                            }
                        };
                        if !ok {
                            reasons.push(version_read_reason(
                                vname,
                                attr_step(r, version_repeated).and_then(|i| r.attr(i)),
                                &r.describe_site(),
                            ));
                        }
                    }
                }
                _ => reasons.push(versions_reason(&versions)),
            }
            for r in self
                .refs
                .iter()
                .filter(|r| r.resource_named("aws_secretsmanager_secret") == Some(name))
            {
                let ok = match attr_step(r, repeated) {
                    None => r.steps.len() == 1,
                    Some(i) => r.attr(i).is_some_and(|attr| {
                        matches!(attr, "id" | "arn") || CARRIED.contains(&attr)
                    }),
                };
                if !ok {
                    reasons.push(secret_read_reason(
                        name,
                        attr_step(r, repeated).and_then(|i| r.attr(i)),
                        &r.describe_site(),
                    ));
                }
            }
            // The apply that moves the pair updates `offstate_secret` in place (its `version_id`
            // is unknown until then), which replaces everything whose `replace_triggered_by`
            // names the secret or its version.
            let vname = chosen.map(|(_, version, ..)| label(version, 1).unwrap_or_default());
            for r in self.refs.iter().filter(|r| {
                r.site.meta == Meta::Lifecycle
                    && r.site.path.last().map(String::as_str) == Some("replace_triggered_by")
                    && (r.resource_named("aws_secretsmanager_secret") == Some(name)
                        || vname.is_some()
                            && r.resource_named("aws_secretsmanager_secret_version") == vname)
            }) {
                reasons.push(format!(
                    "`replace_triggered_by` in {} names it, and the apply that converts it would replace that resource; \
                     to convert it, remove that reference from `replace_triggered_by` (and the argument, when nothing is \
                     left in it), migrate again and apply; then, if a change of the value is still to replace that \
                     resource, add `offstate_secret.{name}` there (a new `value_wo_version` updates it)",
                    r.describe_site()
                ));
            }
            for r in self.refs.iter().filter(|r| {
                matches!(&r.site.owner, Owner::Other(kind) if kind == "import")
                    && (r.resource_named("aws_secretsmanager_secret") == Some(name)
                        || vname.is_some()
                            && r.resource_named("aws_secretsmanager_secret_version") == vname)
            }) {
                reasons.push(format!(
                    "an `import` block (line {}) targets it; apply the import and remove the block first",
                    line_number(self.src(r.file), r.root_span.start)
                ));
            }
            if let Some(reason) = &self.offstate_blocked {
                reasons.push(reason.clone());
            }
            // The converted resource would be a second `offstate_secret.N`.
            if self
                .blocks("resource")
                .any(|(_, b)| label(b, 0) == Some("offstate_secret") && label(b, 1) == Some(name))
            {
                reasons.push(format!(
                    "`offstate_secret.{name}` is declared already; to convert it, rename the pair by hand: give \
                     `aws_secretsmanager_secret.{name}` and its version a name no `offstate_secret` has, in their labels \
                     and in every reference, with a `moved {{ from = aws_secretsmanager_secret.{name} to = \
                     aws_secretsmanager_secret.<new name> }}` block and one for the version, apply (it only moves the \
                     state), remove those `moved` blocks, and migrate again"
                ));
            } else if let Some(reason) = self.named_elsewhere(&["offstate_secret", name]) {
                reasons.push(format!(
                    "`offstate_secret.{name}` may be declared already: {reason}"
                ));
            }
            if let Some(reason) = self
                .named_elsewhere(&["aws_secretsmanager_secret", name])
                .or_else(|| {
                    vname.and_then(|v| {
                        self.named_elsewhere(&["aws_secretsmanager_secret_version", v])
                    })
                })
            {
                reasons.push(reason);
            }
            let secret_start = span_of(secret).start;
            match (reasons.is_empty(), chosen) {
                (true, Some((version_file, version, value, binary, value_version))) => {
                    pairs.push(Pair {
                        secret_file,
                        secret,
                        version_file,
                        version,
                        value,
                        binary,
                        value_version,
                        repeat,
                        generate: None,
                        policy: None,
                    });
                    if secret.body.has_attribute("policy") {
                        self.info(secret_file, secret_start, format!(
                            "`offstate_secret.{name}`: the apply that converts it writes `policy` again (the moved state \
                             has none), after checking it with ValidateResourcePolicy, which hashicorp/aws did not: a \
                             policy that fails that check stops the apply"
                        ));
                    }
                }
                _ => {
                    reasons.dedup();
                    self.info(
                        secret_file,
                        secret_start,
                        format!(
                            "`aws_secretsmanager_secret.{name}` not converted to offstate_secret: {}",
                            reasons.join("; ")
                        ),
                    );
                }
            }
        }
        for pair in &mut pairs {
            pair.policy = self.fold_policy(pair);
            match self.plan_generate(pair) {
                Ok(None) => {}
                Ok(Some(generate)) => {
                    self.generating.insert(generate.name.clone());
                    pair.generate = Some(generate);
                }
                Err(GenerateRefused {
                    file,
                    pos,
                    password,
                    reason,
                    step,
                }) => {
                    let name = label(pair.secret, 1).unwrap_or_default();
                    let step = step.map_or_else(String::new, |step| format!(". {step}"));
                    self.info(file, pos, format!(
                        "`random_password.{password}` not turned into a `generate` block of `offstate_secret.{name}`: \
                         {reason}; `value_wo` takes its result instead{step}"
                    ));
                }
            }
        }
        pairs
    }

    /// The `aws_secretsmanager_secret_policy` attached to the pair's secret that becomes the
    /// `offstate_secret`'s `policy` (and `block_public_policy`): one policy resource, repeated
    /// like the secret, with nothing `offstate_secret` lacks, read nowhere, its policy not
    /// reading the secret (it would read itself). Otherwise a note says why it stays, attached to
    /// `offstate_secret.N.arn` (an `offstate_secret` without `policy` leaves an attached policy
    /// alone).
    fn fold_policy(&mut self, pair: &Pair<'a>) -> Option<(usize, &'a Block)> {
        let name = label(pair.secret, 1).unwrap_or_default();
        let policies: Vec<(usize, &'a Block, Instance<'a>)> = self
            .blocks("resource")
            .filter(|(_, b)| label(b, 0) == Some("aws_secretsmanager_secret_policy"))
            .filter_map(|(file, b)| match secret_target(b, "secret_arn") {
                Some((secret, instance)) if secret == name => Some((file, b, instance)),
                _ => None,
            })
            .collect();
        let [(file, block, instance)] = policies.as_slice() else {
            if let Some((file, block, _)) = policies.first() {
                self.info(*file, span_of(*block).start, format!(
                    "{} `aws_secretsmanager_secret_policy` resources attach to `aws_secretsmanager_secret.{name}`: they stay, \
                     attached to `offstate_secret.{name}.arn` (offstate leaves a policy it does not manage alone); a \
                     secret has one resource policy, which each of them replaces in turn: to fold it into `policy`, \
                     merge their statements into one of them, replace each other one by a `removed {{ from = \
                     aws_secretsmanager_secret_policy.<name> lifecycle {{ destroy = false }} }}` block, and migrate again",
                    policies.len()
                ));
            }
            return None;
        };
        let (file, block) = (*file, *block);
        let pname = label(block, 1).unwrap_or_default();
        let mut reasons = Vec::new();
        if pair.secret.body.has_attribute("policy") {
            reasons.push(format!(
                "`aws_secretsmanager_secret.{name}` sets `policy` too, and the two replace each other's policy; to \
                 fold it, remove `policy` from `aws_secretsmanager_secret.{name}` (keeping the policy you mean in \
                 `aws_secretsmanager_secret_policy.{pname}`) and migrate again"
            ));
        }
        if let Err(reason) = same_repetition(name, pair.repeat, block, instance) {
            reasons.push(reason);
        }
        for attr in block.body.attributes() {
            let key = attr.key.as_str();
            if !matches!(
                key,
                "secret_arn"
                    | "policy"
                    | "block_public_policy"
                    | "depends_on"
                    | "count"
                    | "for_each"
            ) {
                reasons.push(format!(
                    "it sets `{key}`, which `offstate_secret` does not take; to fold it, remove `{key}` and migrate again"
                ));
            }
        }
        if let Some(nested) = block.body.blocks().next() {
            let nested = nested.ident.as_str();
            reasons.push(format!(
                "it has a `{nested}` block, which migrate does not carry into `offstate_secret`; to fold it, remove \
                 the `{nested}` block and migrate again"
            ));
        }
        let policy_key = block.body.get_attribute("policy").map(key_start);
        let iterates_secret = matches!(instance, Instance::EachValue)
            || block
                .body
                .get_attribute("for_each")
                .is_some_and(|a| names_resource(&a.value, name));
        for r in self.refs {
            let in_policy = r.file == file && Some(r.site.key_start) == policy_key;
            if iterates_secret && in_policy && r.root == "each" && r.attr(0) == Some("value") {
                reasons.push(
                    "its `policy` uses `each.value`, which is the secret's instance there and would be an element \
                     of its `for_each` in `offstate_secret`; to fold it, write in place of each \
                     `each.value.<attribute>` in the policy what the secret sets that attribute to (for its `arn` \
                     as a statement's `Resource`, `\"*\"`, which is the secret itself), and migrate again"
                        .to_owned(),
                );
            }
            if r.resource_named("aws_secretsmanager_secret_policy") == Some(pname) {
                reasons.push(format!(
                    "it is named in {}, and folded it would be a `removed` block; to fold it, name \
                     `aws_secretsmanager_secret.{name}` there in its place (its policy is then set with the secret) \
                     or remove that use, and migrate again",
                    r.describe_site()
                ));
            } else if in_policy
                && matches!(&r.site.owner, Owner::Resource { ty, name: n }
                    if ty == "aws_secretsmanager_secret_policy" && n == pname)
                && (r.resource_named("aws_secretsmanager_secret") == Some(name)
                    || r.resource_named("aws_secretsmanager_secret_version")
                        .is_some())
            {
                reasons.push(format!(
                    "its `policy` reads `{}.{}`, which would be `offstate_secret.{name}` reading itself; to fold it, \
                     write `\"*\"` in place of that reference (in a secret's resource policy, `Resource = \"*\"` is \
                     the secret itself) and migrate again",
                    r.root,
                    r.attr(0).unwrap_or_default()
                ));
            }
        }
        if let Some(reason) = self.named_elsewhere(&["aws_secretsmanager_secret_policy", pname]) {
            reasons.push(reason);
        }
        if reasons.is_empty() {
            return Some((file, block));
        }
        reasons.dedup();
        self.info(file, span_of(block).start, format!(
            "`aws_secretsmanager_secret_policy.{pname}` stays, attached to `offstate_secret.{name}.arn` (offstate leaves a \
             policy it does not manage alone), and is not folded into `offstate_secret.{name}`'s `policy`: {}",
            reasons.join("; ")
        ));
        None
    }

    /// Whether the pair's value is a `random_password` that `offstate_secret` can generate
    /// itself: `random_password.X.result`, or `jsonencode({...})` with it as the only
    /// non-literal field; X used nowhere else (but `depends_on`), repeated like the secret, with
    /// only arguments that `generate` has. `Err` is (file, position, X, why not).
    #[allow(clippy::type_complexity)]
    fn plan_generate(&self, pair: &Pair<'a>) -> Result<Option<Generate<'a>>, GenerateRefused> {
        if pair.binary {
            return Ok(None);
        }
        let vsrc = self.src(pair.version_file);
        let value = &pair.value.value;
        let value_key = key_start(pair.value);
        let in_value = |r: &Reference| r.file == pair.version_file && r.site.key_start == value_key;
        let Some(used) = self
            .refs
            .iter()
            .filter(|r| in_value(r))
            .find_map(|r| r.resource_named("random_password"))
        else {
            return Ok(None);
        };
        let Some((file, block)) = self
            .blocks("resource")
            .find(|(_, b)| label(b, 0) == Some("random_password") && label(b, 1) == Some(used))
        else {
            return Ok(None);
        };
        let pos = span_of(block).start;
        let refused = |reason: String, step: Option<String>| {
            Err(GenerateRefused {
                file,
                pos,
                password: used.to_owned(),
                reason,
                step,
            })
        };
        if let Some((reason, action)) = self.mentioned_in(&["random_password", used]) {
            return refused(reason, Some(generate_step(&action)));
        }
        let mut commented = None;
        let (password, json) = match value {
            Expression::Traversal(_) => (password_result(value), None),
            Expression::FuncCall(call)
                if call.name.name.as_str() == "jsonencode"
                    && !call.name.is_namespaced()
                    && call.args.len() == 1
                    && !call.args.expand_final() =>
            {
                let Some(Expression::Object(object)) = call.args.get(0) else {
                    return refused(
                        "`jsonencode` is not given an object".to_owned(),
                        Some(generate_step(
                            "write the object in the value itself, `jsonencode({ ... })`, with the password as one \
                             field",
                        )),
                    );
                };
                let mut password = None;
                let mut password_field = None;
                let mut fields = Vec::new();
                let mut json_key = String::new();
                let mut seen: Vec<String> = Vec::new();
                for (key, field) in object.iter() {
                    // An identifier's text from the file: a key set twice is read under a name
                    // of its own (module::parse_body), which must not be written.
                    let key_text = match key {
                        ObjectKey::Ident(_) => vsrc[span_of(key)].to_owned(),
                        ObjectKey::Expression(Expression::String(_)) => {
                            vsrc[span_of(key)].to_owned()
                        }
                        ObjectKey::Expression(_) => {
                            return refused(
                                "a key of the `jsonencode` object is an expression".to_owned(),
                                Some(generate_step(
                                    "write each key of the object as a name or a quoted string",
                                )),
                            )
                        }
                    };
                    let key_name = match key {
                        ObjectKey::Ident(_) => key_text.clone(),
                        // As written (a key renamed for the parser has no escapes), else decoded.
                        ObjectKey::Expression(Expression::String(s)) => key_text
                            .strip_prefix('"')
                            .and_then(|k| k.strip_suffix('"'))
                            .filter(|k| !k.contains('\\'))
                            .map_or_else(|| s.value().clone(), str::to_owned),
                        ObjectKey::Expression(_) => String::new(),
                    };
                    if seen.contains(&key_name) {
                        return refused(
                            format!(
                                "`{key_name}` is set twice in the `jsonencode` object (its JSON holds the last one only)"
                            ),
                            Some(generate_step(&format!(
                                "keep one `{key_name}` in the `jsonencode` object, the one meant"
                            ))),
                        );
                    }
                    seen.push(key_name.clone());
                    if let Some(found) = password_result(field.expr()) {
                        if password.is_some_and(|(first, _)| first != found.0) {
                            return refused(
                                format!(
                                    "the `jsonencode` field `{key_name}` holds another password, `random_password.{}`",
                                    found.0
                                ),
                                Some(generate_step(&format!(
                                    "move `{key_name}` into a secret of its own (`generate` makes one password per \
                                     secret)"
                                ))),
                            );
                        }
                        if password.is_some() {
                            return refused(
                                "it appears more than once in the value".to_owned(),
                                Some(generate_step(
                                    "keep it in one field of the `jsonencode` object (`generate` puts the password \
                                     at one `json_key`; read that field where the others were read)",
                                )),
                            );
                        }
                        password = Some(found);
                        password_field = Some(span_of(key).start..span_of(field.expr()).end);
                        json_key = match key {
                            ObjectKey::Ident(_) => format!("\"{key_text}\""),
                            _ => key_text,
                        };
                        continue;
                    }
                    if !matches!(field.expr(), Expression::String(_)) {
                        return refused(
                            format!(
                                "the `jsonencode` field `{key_name}` is not a string literal \
                                 (`json_template` holds strings only, and keeps them in the state)"
                            ),
                            Some(generate_step(&format!(
                                "write `{key_name}` as a string literal of its value (when it does not change; a \
                                 number or `true`/`false` then reads as a JSON string, which whatever reads the \
                                 secret must accept), or take it out of the `jsonencode` object"
                            ))),
                        );
                    }
                    if is_secret_key(&key_name) {
                        return refused(
                            format!(
                                "the `jsonencode` field `{key_name}` looks secret, and `json_template` keeps it in the state"
                            ),
                            Some(generate_step(&format!(
                                "take `{key_name}` out of the `jsonencode` object (into a secret of its own, say)"
                            ))),
                        );
                    }
                    fields.push((key_text, vsrc[span_of(field.expr())].to_owned()));
                }
                commented = password_field.and_then(|field| {
                    commented_template(vsrc, span_of(pair.value), span_of(object), field)
                });
                (password, Some((fields, json_key)))
            }
            _ => (None, None),
        };
        let Some((password, index)) = password.filter(|(p, _)| *p == used) else {
            return refused(
                "the value is neither `random_password.<name>.result` nor `jsonencode({...})` with it as a field"
                    .to_owned(),
                Some(generate_step(&format!(
                    "set the value to `random_password.{used}.result` itself (with `[count.index]` or `[each.key]` \
                     before `.result` when repeated), or to a `jsonencode({{ ... }})` with it as one field, when \
                     whatever reads the secret takes that form"
                ))),
            );
        };
        if self
            .refs
            .iter()
            .filter(|r| in_value(r) && r.resource_named("random_password").is_some())
            .count()
            > 1
        {
            return refused(
                "the value reads `random_password` more than once".to_owned(),
                Some(generate_step(&format!(
                    "make the value read `random_password.{used}.result` alone (no other `random_password`, in an \
                     index neither; index it with `count.index` or `each.key` only, when repeated)"
                ))),
            );
        }
        // Repeated like the secret, instance for instance.
        let rp_repeat = match repetition(block) {
            Ok(r) => r,
            Err(_) => {
                return refused(
                    BOTH_REPEATS.to_owned(),
                    Some(generate_step(
                        "keep the one of `count` and `for_each` you mean (check with `terraform validate`)",
                    )),
                )
            }
        };
        let ok = match (pair.repeat, rp_repeat, index) {
            (Repeat::Once, Repeat::Once, None) => true,
            (Repeat::Count(c), Repeat::Count(rc), Some(k)) => {
                rc == c && is_var_attr(k, "count", "index")
            }
            (Repeat::ForEach(x), Repeat::ForEach(rx), Some(k)) => {
                rx == x && is_var_attr(k, "each", "key")
            }
            _ => false,
        };
        if !ok {
            let name = label(pair.secret, 1).unwrap_or_default();
            let reason = match (pair.repeat, rp_repeat) {
                (Repeat::Once, Repeat::Once) => "the value indexes it, which Terraform refuses too for a resource \
                                                 without `count` or `for_each`"
                    .to_owned(),
                (_, Repeat::Once) => format!(
                    "one password feeds every instance of `aws_secretsmanager_secret.{name}`, and `generate` makes one per instance"
                ),
                (secret, _) => format!(
                    "it is not repeated like `aws_secretsmanager_secret.{name}` ({}), instance for instance",
                    secret.meta()
                ),
            };
            let mut step = generate_step(&repeat_like_step(used, name, pair.repeat));
            if !matches!(pair.repeat, Repeat::Once) {
                step.push_str(
                    "; the converting apply keeps each instance's current value, and a later change of `generate` \
                     writes a new one per instance",
                );
            }
            return refused(reason, Some(step));
        }
        // What `generate` does not take but could do without: said last, with what to do.
        let mut removable: Vec<String> = Vec::new();
        let mut heredocs: Vec<String> = Vec::new();
        for attr in block.body.attributes() {
            let key = attr.key.as_str();
            if key == "count" || key == "for_each" {
                continue;
            }
            if !GENERATE_ARGS.contains(&key) {
                removable.push(format!("`{key}`"));
            } else if matches!(attr.value, Expression::HeredocTemplate(_)) {
                heredocs.push(format!("`{key}`"));
            }
        }
        for nested in block.body.blocks() {
            let what = format!("`{}` block", nested.ident.as_str());
            if !removable.contains(&what) {
                removable.push(what);
            }
        }
        let vname = label(pair.version, 1).unwrap_or_default();
        for r in Candidate::RandomPassword(used.to_owned()).uses(self.refs) {
            let in_version = matches!(&r.site.owner, Owner::Resource { ty, name }
                if ty == "aws_secretsmanager_secret_version" && name == vname)
                && r.file == pair.version_file;
            let in_secret = matches!(&r.site.owner, Owner::Resource { ty, name }
                if ty == "aws_secretsmanager_secret" && Some(name.as_str()) == label(pair.secret, 1));
            let ok = in_value(r)
                || in_version && r.site.meta == Meta::DependsOn
                || !in_secret && r.site.meta == Meta::DependsOn && r.steps.len() == 1;
            if !ok {
                let json_key = json.as_ref().map(|(_, key)| key.as_str());
                return refused(
                    format!("it is also used in {}", r.describe_site()),
                    Some(generate_step(&other_use_step(
                        r,
                        label(pair.secret, 1).unwrap_or_default(),
                        pair.repeat,
                        json_key,
                    ))),
                );
            }
        }
        if !removable.is_empty() || !heredocs.is_empty() {
            let mut reasons = Vec::new();
            let mut actions = Vec::new();
            if !removable.is_empty() {
                let has = and_list(&with_article(&removable, "a"));
                reasons.push(format!("it has {has}, which `generate` does not take"));
                actions.push(format!(
                    "remove {}",
                    and_list(&with_article(&removable, "the"))
                ));
            }
            if !heredocs.is_empty() {
                let (is, string) = if heredocs.len() == 1 {
                    ("is a heredoc", "a quoted string")
                } else {
                    ("are heredocs", "quoted strings")
                };
                let keys = and_list(&heredocs);
                reasons.push(format!(
                    "{keys} {is}, which migrate does not copy into `generate`"
                ));
                actions.push(format!(
                    "write {keys} as {string} with the same characters (a heredoc's value ends with a newline, \
                     `\\n` in a quoted string)"
                ));
            }
            let then = if removable.iter().any(|w| w == "`keepers`") {
                "; with `generate`, change `value_wo_version` where you would have changed a keeper"
            } else {
                ""
            };
            return refused(
                reasons.join("; "),
                Some(format!("{}{then}", generate_step(&and_list(&actions)))),
            );
        }
        Ok(Some(Generate {
            file,
            block,
            name: password.to_owned(),
            json,
            commented,
            version_file: pair.version_file,
        }))
    }

    // ----- write-only twins --------------------------------------------------------------------

    fn write_only_twins(&mut self, skip: &HashSet<(usize, usize)>) {
        let resources: Vec<(usize, &Block)> = self.blocks("resource").collect();
        for (file, block) in resources {
            if skip.contains(&(file, span_of(block).start)) {
                continue;
            }
            let (Some(ty), Some(name)) = (label(block, 0), label(block, 1)) else {
                continue;
            };
            for rule in rules_for(ty) {
                let mut bodies = Vec::new();
                bodies_at(&block.body, &rule.path[..rule.path.len() - 1], &mut bodies);
                for body in bodies {
                    if body.has_attribute(&rule.twin) {
                        continue;
                    }
                    let Some(attr) = body.get_attribute(rule.attribute()) else {
                        continue;
                    };
                    if attr.value.is_null() {
                        continue;
                    }
                    // Only a SecureString parameter holds a secret; a plain `String` is config.
                    if ty == "aws_ssm_parameter" {
                        if let Some(Expression::String(kind)) =
                            body.get_attribute("type").map(|a| &a.value)
                        {
                            if kind.value() != "SecureString" {
                                continue;
                            }
                        }
                    }
                    // Only a sensitive HCP Terraform variable holds a secret; another is
                    // configuration, shown in the UI and read back through `readable_value`.
                    // A Datadog global variable that is not `secure` likewise.
                    let flag = match ty {
                        "tfe_variable" | "tfe_policy_set_parameter" => Some("sensitive"),
                        "datadog_synthetics_global_variable" => Some("secure"),
                        _ => None,
                    };
                    if let Some(flag) = flag {
                        let sensitive = body.get_attribute(flag).map(|a| &a.value);
                        if sensitive.is_none_or(|v| matches!(v, Expression::Bool(b) if !*b.value()))
                        {
                            continue;
                        }
                    }
                    // tfe_variable's `readable_value` is null when `sensitive = true` (the
                    // provider's docs), write-only or not: a read of it reads nothing of `value`.
                    let mirror = !(ty == "tfe_variable"
                        && matches!(body.get_attribute("sensitive").map(|a| &a.value),
                            Some(Expression::Bool(b)) if *b.value()));
                    let mirrors = |a: &str| mirror && mirrors(ty, rule.attribute(), a);
                    let path = format!("{ty}.{name}.{}", rule.path.join("."));
                    if let Some(reason) = self.named_elsewhere(&[ty, name]) {
                        let at = span_of(&attr.key).start;
                        self.info(file, at, format!("`{path}` left as it is: {reason}"));
                        continue;
                    }
                    // Terraform ignores changes of the argument, typically because the value is
                    // rotated outside Terraform. A new `_wo_version` makes the next apply send the
                    // configured value again, overwriting the rotated one.
                    if let Some(ignored) = ignores_changes(self.src(file), block, &rule.path[0]) {
                        let at = span_of(&attr.key).start;
                        self.info(file, at, format!(
                            "`{path}` left as it is: `lifecycle {{ ignore_changes = {ignored} }}` keeps Terraform from \
                             writing it, but `{}` would write the configured value again on the next apply \
                             (over a value rotated outside Terraform)",
                            rule.twin
                        ));
                        continue;
                    }
                    // After the switch the plain attribute reads back as null; anything that reads
                    // it would silently get null, so leave those alone.
                    // Through the whole resource too (`[for p in T.N : p.value]`, `values(T.N)`,
                    // an output of the instance), unless the use reads nothing of the attribute.
                    let mut harmless = None;
                    let reader = self.refs.iter().find(|r| {
                        if r.resource_named(ty) != Some(name) {
                            return false;
                        }
                        if r.steps.iter().skip(1).any(|step| {
                            matches!(step, Step::Attr(a, _)
                                    if a == rule.attribute() || mirrors(a))
                        }) {
                            return true;
                        }
                        let whole = r
                            .steps
                            .iter()
                            .skip(1)
                            .all(|step| !matches!(step, Step::Attr(..)));
                        let exempt = matches!(r.site.meta, Meta::DependsOn | Meta::Lifecycle)
                            || matches!(&r.site.owner, Owner::Other(kind)
                                if matches!(kind.as_str(), "moved" | "import" | "removed"));
                        whole
                            && !exempt
                            && !harmless
                                .get_or_insert_with(|| {
                                    whole_uses_without(
                                        self.files,
                                        ty,
                                        name,
                                        rule.attribute(),
                                        mirror,
                                    )
                                })
                                .contains(&(r.file, r.root_span.start))
                    });
                    if let Some(reader) = reader.filter(|r| {
                        !r.steps.iter().skip(1).any(|step| {
                            matches!(step, Step::Attr(a, _)
                                if a == rule.attribute() || mirrors(a))
                        })
                    }) {
                        let at = span_of(&attr.key).start;
                        self.info(file, at, format!(
                            "`{path}` left as it is: the whole `{ty}.{name}` is used in {} at {}, which may read `{attribute}` \
                             of it, and `{attribute}` is null once the value is write-only; to make it write-only, read the \
                             attributes needed there in place of the whole resource (or, if null is fine there, \
                             remove that use and any other: migrate names the first, migrate, and put them back)",
                            reader.describe_site(),
                            self.at(reader),
                            attribute = rule.attribute(),
                        ));
                        continue;
                    }
                    if let Some(reader) = reader {
                        let at = span_of(&attr.key).start;
                        self.info(file, at, format!(
                            "`{path}` left as it is: it is read in {}, which would get null once the value is write-only; \
                             to make it write-only, put what `{}` is set to there in place of that reference (or remove \
                             that use, and any other: migrate names the first) and migrate again",
                            reader.describe_site(),
                            rule.attribute()
                        ));
                        continue;
                    }
                    // A set of passwords whose twin takes one string: each list of one becomes
                    // its element; anything else is for the user to pick.
                    let mut unwrap = Vec::new();
                    if COLLECTION_TWINS.contains(&(ty, rule.attribute())) {
                        match single_elements(self.src(file), &attr.value) {
                            Some(found) => unwrap = found,
                            None => {
                                let at = span_of(&attr.key).start;
                                self.info(file, at, format!(
                                    "`{path}` left as it is: it is a set of passwords and `{twin}` takes one string; \
                                     write `{twin} = <the password>` and `{}` in its place by hand (of two \
                                     passwords, the one to keep)",
                                    rule.version.as_ref().map_or_else(String::new, |v| format!("{v} = 1")),
                                    twin = rule.twin,
                                ));
                                continue;
                            }
                        }
                    }
                    let src = self.src(file);
                    let key = span_of(&attr.key);
                    // Comments around it are not other code: `password = x /* why */`, also
                    // a `/* ... */` that runs on to later lines (the version goes after it).
                    let end = after_block(src, span_of(attr).end);
                    let eol = line_end(src, end);
                    let after = src[end..eol].trim();
                    let line = line_start(src, key.start);
                    let before_code = comments_in(src, line..key.start)
                        .into_iter()
                        .chain([Comment {
                            range: key.start..key.start,
                            trailing: false,
                        }])
                        .try_fold(line, |at, comment| {
                            src[at..comment.range.start]
                                .trim()
                                .is_empty()
                                .then_some(comment.range.end)
                        })
                        .is_none();
                    if before_code
                        || !(after.is_empty() || after.starts_with('#') || after.starts_with("//"))
                    {
                        self.info(file, key.start, format!("`{path}` shares its line with other code; rewrite it to `{}` by hand", rule.twin));
                        continue;
                    }
                    let indent = indent_at(src, key.start).to_owned();
                    let version = rule.version.as_ref().filter(|v| !body.has_attribute(v));
                    // The version trigger requires its write-only value (and the other way
                    // round): on a branch where the value is null, the trigger must be null too.
                    let trigger = match version.map(|_| null_branch_trigger(src, &attr.value)) {
                        Some(Err(())) => {
                            self.info(file, key.start, format!(
                                "`{path}` left as it is: it is null under a condition that spans lines, and `{}` must \
                                 be null under the same condition; rewrite it to `{}` by hand, with `{} = COND ? null : 1`",
                                rule.version.as_deref().unwrap_or_default(),
                                rule.twin,
                                rule.version.as_deref().unwrap_or_default(),
                            ));
                            continue;
                        }
                        Some(Ok(trigger)) => trigger,
                        None => None,
                    };
                    self.edit(file, Edit::replace(key.clone(), rule.twin.clone()));
                    for (list, element) in unwrap {
                        let text = self.src(file)[element].to_owned();
                        self.edit(file, Edit::replace(list, text));
                    }
                    let mut message = format!("`{path}` → `{}`", rule.twin);
                    // `TYPE.NAME.…twin`, the argument as written after the edit.
                    let twin_path = format!(
                        "{ty}.{name}.{}",
                        rule.path[..rule.path.len() - 1]
                            .iter()
                            .chain([&rule.twin])
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(".")
                    );
                    if let Some(version) = version {
                        let value = match &trigger {
                            Some((text, conditions)) => {
                                for range in conditions {
                                    self.copied.push(CopiedCondition {
                                        file,
                                        range: range.clone(),
                                        twin: twin_path.clone(),
                                        version: version.clone(),
                                    });
                                }
                                text.clone()
                            }
                            None => "1".to_owned(),
                        };
                        self.edit(
                            file,
                            Edit::insert(eol, format!("\n{indent}{version} = {value}")),
                        );
                        message.push_str(&format!(" + `{version} = {value}`"));
                    }
                    if let (Some(version), None) = (version, &trigger) {
                        if let Some((why, example)) = self.may_be_null(&attr.value) {
                            self.warn(file, key.start, Hazard::TriggerWithoutValue, format!(
                                "`{twin_path}` may be null ({why}), and the provider refuses `{version}` without it: \
                                 where it is null, make `{version}` null too, for example \
                                 `{version} = {example} == null ? null : 1` (what that reads then cannot become \
                                 ephemeral), or give it a value always"
                            ));
                        }
                    }
                    self.note_edit(file, key.start, EditKind::WriteOnlyTwin, message);
                    self.wo_keys.insert((file, key.start));
                    let needed = self
                        .provider_versions
                        .entry(rule.provider.clone())
                        .or_default();
                    if version_newer(&rule.first_version, needed) {
                        needed.clone_from(&rule.first_version);
                    }
                    if ty == "aws_db_instance" && rule.attribute() == "password" {
                        self.warn(file, key.start, Hazard::MasterPasswordCleared, format!(
                            "`{path}` → `password_wo`: on some hashicorp/aws versions the first apply clears the master password \
                             (hashicorp/terraform-provider-aws#42582); check the plan, or set the password again right after"
                        ));
                    } else if let Some(version) = &rule.version {
                        self.warn(file, key.start, Hazard::ValueResent, format!(
                            "`{path}`: the first apply with `{version}` sends the value to the provider again; make sure it is the current one"
                        ));
                    }
                    if is_literal(&attr.value) {
                        self.warn(file, key.start, Hazard::LiteralSecret, format!(
                            "`{path}` is a literal: it stays in the configuration and in plan JSON; pass it in through an ephemeral variable or resource"
                        ));
                    }
                }
            }
        }
    }

    /// Why a value may be null other than on a conditional's `null` branch, and how to name it
    /// in an example (a variable by name; anything else, which may hold a literal, is not shown).
    fn may_be_null(&self, expr: &Expression) -> Option<(String, String)> {
        let mut expr = expr;
        while let Expression::Parenthesis(inner) = expr {
            expr = inner.inner();
        }
        match expr {
            Expression::Conditional(cond) => self
                .may_be_null(&cond.true_expr)
                .or_else(|| self.may_be_null(&cond.false_expr))
                .map(|(why, _)| (why, "<the value>".to_owned())),
            Expression::FuncCall(call)
                if call.name.namespace.is_empty()
                    && matches!(call.name.name.as_str(), "try" | "lookup")
                    && call.args.iter().any(Expression::is_null) =>
            {
                Some((
                    format!("`{}` gives null", call.name.name.as_str()),
                    "<the value>".to_owned(),
                ))
            }
            Expression::Traversal(traversal) => {
                let Expression::Variable(root) = &traversal.expr else {
                    return None;
                };
                let [op] = traversal.operators.as_slice() else {
                    return None;
                };
                let TraversalOperator::GetAttr(var) = op.value() else {
                    return None;
                };
                if root.as_str() != "var" {
                    return None;
                }
                let defaults_null = self.blocks("variable").any(|(_, block)| {
                    label(block, 0) == Some(var.as_str())
                        && block
                            .body
                            .get_attribute("default")
                            .is_some_and(|d| d.value.is_null())
                });
                defaults_null.then(|| {
                    (
                        format!("`var.{}` defaults to null", var.as_str()),
                        format!("var.{}", var.as_str()),
                    )
                })
            }
            _ => None,
        }
    }

    // ----- ephemeral ---------------------------------------------------------------------------

    /// Returns the candidates converted.
    fn ephemeral(&mut self) -> BTreeSet<Candidate> {
        let mut blocks: BTreeMap<Candidate, (usize, &'a Block)> = BTreeMap::new();
        let mut not_addressable: Vec<(usize, &Block, String)> = Vec::new();
        let data: Vec<(usize, &Block)> = self.blocks("data").collect();
        for (file, block) in data {
            let (Some(ty), Some(name)) = (label(block, 0), label(block, 1)) else {
                continue;
            };
            if !SECRET_DATA_SOURCES.contains(&ty) {
                continue;
            }
            if let Some(reason) = self.named_elsewhere(&[ty, name]) {
                self.info(
                    file,
                    span_of(block).start,
                    format!("`data.{ty}.{name}` not made ephemeral: {reason}"),
                );
                continue;
            }
            if ty == "aws_ssm_parameter" {
                if block
                    .body
                    .get_attribute("with_decryption")
                    .is_some_and(|a| matches!(&a.value, Expression::Bool(b) if !*b.value()))
                {
                    continue;
                }
                if ssm_arn_edits(block).is_none() {
                    not_addressable.push((file, block, name.to_owned()));
                    continue;
                }
            }
            blocks.insert(
                Candidate::Data {
                    ty: ty.to_owned(),
                    name: name.to_owned(),
                },
                (file, block),
            );
        }
        let resources: Vec<(usize, &Block)> = self.blocks("resource").collect();
        let mut held: Vec<(usize, &Block, String, Vec<String>)> = Vec::new();
        for (file, block) in resources {
            if label(block, 0) != Some("random_password") {
                continue;
            }
            let name = label(block, 1).unwrap_or_default();
            if self.generating.contains(name) {
                continue;
            }
            let uses = Candidate::RandomPassword(name.to_owned())
                .uses(self.refs)
                .count();
            if uses == 0 {
                continue;
            }
            if let Some(reason) = self.named_elsewhere(&["random_password", name]) {
                self.info(
                    file,
                    span_of(block).start,
                    format!("`random_password.{name}` not made ephemeral: {reason}"),
                );
                continue;
            }
            // What the ephemeral form does not take: said once the other candidates are decided,
            // with whether removing it would be enough.
            let mut not_taken: Vec<String> = Vec::new();
            if block.body.has_attribute("keepers") {
                not_taken.push("`keepers`".to_owned());
            }
            for nested in block.body.blocks() {
                let what = format!("`{}` block", nested.ident.as_str());
                if !not_taken.contains(&what) {
                    not_taken.push(what);
                }
            }
            if !not_taken.is_empty() {
                held.push((file, block, name.to_owned(), not_taken));
                continue;
            }
            blocks.insert(Candidate::RandomPassword(name.to_owned()), (file, block));
        }

        // Optimistically convert everything, then drop candidates with a use that would not accept
        // an ephemeral value, until nothing changes (candidates can feed each other and locals).
        let mut converting: BTreeSet<Candidate> = blocks.keys().cloned().collect();
        let mut rejected: Vec<Candidate> = Vec::new();
        loop {
            let mut changed = false;
            for candidate in converting.clone() {
                if candidate
                    .uses(self.refs)
                    .any(|r| self.verdict(r, &converting, &mut Vec::new()).is_err())
                {
                    converting.remove(&candidate);
                    rejected.push(candidate);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // The reasons are given against the final set: a use that took an ephemeral value while
        // another candidate was still converting may not any more. (Fewer candidates never make
        // a use acceptable, so every rejected one still has a reason.)
        for candidate in rejected {
            let by_hand = candidate.by_hand();
            let uses: Vec<&Reference> = candidate.uses(self.refs).collect();
            let Some((reason, hazard)) = self.blocker(&uses, &converting, &by_hand) else {
                continue;
            };
            let (file, block) = blocks[&candidate];
            let start = span_of(block).start;
            let message = format!("`{}` not made ephemeral: {reason}", candidate.address());
            if let Some(hazard) = hazard {
                self.warn(file, start, hazard, message);
            } else {
                self.info(file, start, message);
            }
        }
        for (file, block, name, not_taken) in held {
            self.held_password_note(file, block, &name, &not_taken, &converting);
        }
        // A parameter read by name would need its ARN; say so only if nothing else already
        // rules the conversion out.
        for (file, block, name) in not_addressable {
            let candidate = Candidate::Data {
                ty: "aws_ssm_parameter".to_owned(),
                name: name.clone(),
            };
            let start = span_of(block).start;
            // By hand, the block needs what the planner's own conversion (`ssm_arn_edits`) does.
            let by_hand = format!(
                "{}, with `arn` set to the parameter's ARN in place of `name` (the ephemeral `aws_ssm_parameter` \
                 is addressed by `arn` only)",
                candidate.by_hand()
            );
            let uses: Vec<&Reference> = candidate.uses(self.refs).collect();
            let blocked = self.blocker(&uses, &converting, &by_hand);
            match blocked {
                Some((reason, Some(hazard))) => {
                    self.warn(file, start, hazard, format!("`data.aws_ssm_parameter.{name}` not made ephemeral: {reason}"))
                }
                Some((reason, None)) => {
                    self.info(file, start, format!("`data.aws_ssm_parameter.{name}` not made ephemeral: {reason}"))
                }
                None => self.info(file, start, format!(
                    "`data.aws_ssm_parameter.{name}` left as a data source: every use takes an ephemeral value, but `name` is \
                     neither an ARN literal nor `aws_ssm_parameter.<x>.name`, so migrate cannot work out the ARN; {by_hand}"
                )),
            }
        }
        for candidate in &converting {
            let (file, block) = blocks[candidate];
            let start = span_of(block).start;
            self.edit(file, Edit::replace(span_of(&block.ident), "ephemeral"));
            let uses: Vec<&Reference> = candidate.uses(self.refs).collect();
            match candidate {
                Candidate::Data { ty, name } => {
                    if ty == "aws_ssm_parameter" {
                        for edit in ssm_arn_edits(block).unwrap_or_default() {
                            self.edit(file, edit);
                        }
                    }
                    for r in uses {
                        self.edit(r.file, Edit::replace(r.root_span.clone(), "ephemeral"));
                    }
                    self.note_edit(file, start, EditKind::Ephemeral, format!(
                        "`data.{ty}.{name}` → `ephemeral.{ty}.{name}` (every use is write-only, a provider or ephemeral)"
                    ));
                }
                Candidate::RandomPassword(name) => {
                    // The ephemeral `random_password` has only `numeric`; the managed resource
                    // still takes the deprecated `number` too.
                    if let Some(number) = block.body.get_attribute("number") {
                        let src = self.src(file);
                        if block.body.has_attribute("numeric") {
                            let span = span_of(number);
                            let start = line_start(src, span.start);
                            let end = (line_end(src, span.end) + 1).min(src.len());
                            self.edit(file, Edit::replace(start..end, ""));
                        } else {
                            self.edit(file, Edit::replace(span_of(&number.key), "numeric"));
                        }
                    }
                    for r in uses {
                        self.edit(
                            r.file,
                            Edit::replace(r.root_span.clone(), "ephemeral.random_password"),
                        );
                    }
                    let end = after_block(self.src(file), span_of(block).end);
                    self.edit(
                        file,
                        Edit::insert(end, removed_block(&format!("random_password.{name}"))),
                    );
                    self.note_edit(file, start, EditKind::Ephemeral, format!(
                        "`random_password.{name}` → `ephemeral.random_password.{name}`, with a `removed` block that forgets the old one"
                    ));
                    self.warn(file, start, Hazard::EphemeralRegenerates, format!(
                        "`ephemeral.random_password.{name}` makes a new value on every run; the arguments it feeds take it only when \
                         their version changes, so the first apply rotates the secret and the value is kept nowhere else \
                         (consider `offstate_secret` with `generate`)"
                    ));
                }
            }
        }
        converting
    }

    /// Why a block (or variable) with `uses` is not made ephemeral, given the candidates
    /// `converting`: the first use that rules it out by itself, with where it is, the module inputs
    /// it is also passed to (not checked: migrate does not follow a value into a module) and what
    /// to do; else every module input it is passed to, saying that those were not checked and
    /// that, if the module's variable is ephemeral, `by_hand` is the way. `None` when every use
    /// takes an ephemeral value.
    /// The note for a `random_password` left as a resource because the ephemeral form does not
    /// take `keepers` or its nested blocks (`not_taken`): what to remove when every use would
    /// take an ephemeral value once it is gone, else what else stops it.
    fn held_password_note(
        &mut self,
        file: usize,
        block: &Block,
        name: &str,
        not_taken: &[String],
        converting: &BTreeSet<Candidate>,
    ) {
        let candidate = Candidate::RandomPassword(name.to_owned());
        let mut with_it = converting.clone();
        with_it.insert(candidate.clone());
        let uses: Vec<&Reference> = candidate.uses(self.refs).collect();
        let has = and_list(&with_article(not_taken, "a"));
        let what = and_list(&with_article(not_taken, "the"));
        let head = format!(
            "`random_password.{name}` left as a resource (its value stays in the state): it has {has}, which the \
             ephemeral form does not take"
        );
        let message = match self.blocker(&uses, &with_it, &candidate.by_hand()) {
            None => {
                let then = if not_taken.iter().any(|w| w == "`keepers`") {
                    "an ephemeral password is new on every run, and a write-only argument writes it only when its \
                     `_wo_version` changes: change that where you would have changed a keeper, in every argument the password \
                     feeds at once, so that they keep the same password"
                } else {
                    "an ephemeral password is never stored, so there is nothing for a `lifecycle` to keep or replace; \
                     to write a new one, change the `_wo_version` next to its use"
                };
                format!(
                    "{head}; every use takes an ephemeral value. To keep the password out of the state, remove {what} \
                     and migrate again ({then})"
                )
            }
            Some((reason, _)) => format!(
                "{head}, and removing {what} would not be enough: {reason}; remove {what} as well"
            ),
        };
        self.info(file, span_of(block).start, message);
    }

    pub(super) fn blocker(
        &self,
        uses: &[&Reference],
        converting: &BTreeSet<Candidate>,
        by_hand: &str,
    ) -> Option<(String, Option<Hazard>)> {
        let mut inputs: Vec<String> = Vec::new();
        let mut refused: Option<Blocked> = None;
        for r in uses {
            match self.verdict(r, converting, &mut Vec::new()) {
                Ok(()) => {}
                Err(mut blocked) => {
                    let unchecked = std::mem::take(&mut blocked.unchecked);
                    if blocked.module_input {
                        inputs.push(blocked.reason.clone());
                    } else {
                        refused.get_or_insert(blocked);
                    }
                    inputs.extend(unchecked);
                }
            }
        }
        let mut seen = HashSet::new();
        inputs.retain(|input| seen.insert(input.clone()));
        let (those, variables) = if inputs.len() == 1 {
            ("that input", "the module's variable is")
        } else {
            ("those inputs", "each module's variable is")
        };
        if let Some(blocked) = refused {
            let mut reason = format!("{}.", blocked.reason);
            if !inputs.is_empty() {
                reason.push_str(&format!(
                    " Also, {}: migrate does not follow a value into a module, so it did not check {those}.",
                    inputs.join("; ")
                ));
            }
            reason.push_str(
                " To make it ephemeral, every use must take an ephemeral value (a write-only argument, a provider or \
                 provisioner, an `ephemeral` block or output): change or remove that use and any other such one \
                 (migrate names the first), then run migrate again",
            );
            return Some((reason, blocked.hazard));
        }
        if inputs.is_empty() {
            return None;
        }
        Some((
            format!(
                "{}, and migrate does not follow a value into a module, so it did not check {those}; every other use \
                 takes an ephemeral value. If {variables} declared `ephemeral = true`, {by_hand}",
                inputs.join(", "),
            ),
            None,
        ))
    }

    /// Where the use `r` is, as `file:line`.
    fn at(&self, r: &Reference) -> String {
        format!(
            "{}:{}",
            self.files[r.file].path.display(),
            self.line(r.file, r.root_span.start)
        )
    }

    /// Whether the use `r` accepts an ephemeral value. `Err` carries the reason and, for the
    /// classic hazards, which one it is.
    fn verdict(
        &self,
        r: &Reference,
        converting: &BTreeSet<Candidate>,
        seen_locals: &mut Vec<String>,
    ) -> Result<(), Blocked> {
        let site = &r.site;
        let owner = describe_site(site);
        let at = self.at(r);
        match site.meta {
            Meta::ForEach | Meta::DynamicForEach => {
                return Err(Blocked::new(
                    format!("it feeds `for_each` of {owner} at {at}"),
                    Some(Hazard::FeedsRepetition),
                ))
            }
            Meta::Count => {
                return Err(Blocked::new(
                    format!("it feeds `count` of {owner} at {at}"),
                    Some(Hazard::FeedsRepetition),
                ))
            }
            _ => {}
        }
        if let Some(copied) = self.copied.iter().find(|c| {
            c.file == r.file && c.range.start <= r.root_span.start && r.root_span.end <= c.range.end
        }) {
            return Err(Blocked::new(
                format!(
                    "it is used in the condition of `{}` at {at}, which `{}` repeats and is not write-only \
                     (to keep that condition out of it, base the condition on something other than the value)",
                    copied.twin, copied.version
                ),
                None,
            ));
        }
        if site.in_provisioner || self.wo_keys.contains(&(r.file, site.key_start)) {
            return Ok(());
        }
        match &site.owner {
            Owner::Provider(_) | Owner::Ephemeral { .. } => Ok(()),
            Owner::Resource { ty, name } => {
                if site.meta == Meta::DependsOn {
                    return Ok(());
                }
                if site.meta == Meta::Lifecycle {
                    return Err(Blocked::new(
                        format!("it is used in the lifecycle of `{ty}.{name}` at {at}"),
                        None,
                    ));
                }
                if ty == "random_password"
                    && converting.contains(&Candidate::RandomPassword(name.clone()))
                {
                    return Ok(());
                }
                let key = site.path.last().map(String::as_str).unwrap_or_default();
                if is_write_only_key(key) || self.wo_keys.contains(&(r.file, site.key_start)) {
                    Ok(())
                } else {
                    Err(Blocked::new(
                        format!("it is used in {owner} at {at}, which is not write-only"),
                        None,
                    ))
                }
            }
            Owner::Data { ty, name } => {
                if converting.contains(&Candidate::Data {
                    ty: ty.clone(),
                    name: name.clone(),
                }) {
                    Ok(())
                } else {
                    Err(Blocked::new(
                        format!(
                            "it is read by `data.{ty}.{name}` at {at}, which stays a data source"
                        ),
                        None,
                    ))
                }
            }
            Owner::Local(name) => {
                if seen_locals.contains(name) {
                    return Ok(());
                }
                seen_locals.push(name.clone());
                // A use that refuses the value wins over a module input, which is only unknown;
                // the module inputs met are carried along as not checked.
                let mut refused: Option<Blocked> = None;
                let mut inputs: Vec<String> = Vec::new();
                for use_ in self
                    .refs
                    .iter()
                    .filter(|u| u.root == "local" && u.attr(0) == Some(name))
                {
                    if let Err(mut blocked) = self.verdict(use_, converting, seen_locals) {
                        let unchecked = std::mem::take(&mut blocked.unchecked);
                        if blocked.module_input {
                            inputs.push(blocked.reason.clone());
                        } else if refused.is_none() {
                            refused = Some(blocked);
                        }
                        inputs.extend(unchecked);
                    }
                }
                let through =
                    |reason: &str| format!("it flows into `local.{name}` at {at}, and {reason}");
                let mut inputs: Vec<String> = inputs.iter().map(|i| through(i)).collect();
                match refused {
                    Some(blocked) => Err(Blocked {
                        reason: through(&blocked.reason),
                        hazard: blocked.hazard,
                        module_input: false,
                        unchecked: inputs,
                    }),
                    None if !inputs.is_empty() => {
                        let first = inputs.remove(0);
                        Err(Blocked {
                            reason: first,
                            hazard: None,
                            module_input: true,
                            unchecked: inputs,
                        })
                    }
                    None => Ok(()),
                }
            }
            Owner::Output { name, ephemeral } => {
                if *ephemeral {
                    Ok(())
                } else {
                    Err(Blocked::new(
                        format!("it is used in output `{name}` at {at}"),
                        Some(Hazard::UsedInOutput),
                    ))
                }
            }
            // Whether the module's variable takes an ephemeral value is not looked at here (see
            // `blocker`).
            Owner::Module(_) => Err(Blocked {
                reason: format!("it is passed to {owner} at {at}"),
                hazard: None,
                module_input: true,
                unchecked: Vec::new(),
            }),
            Owner::Other(kind) => Err(Blocked::new(
                format!("it is used in a `{kind}` block at {at}"),
                None,
            )),
        }
    }

    // ----- offstate_secret edits ---------------------------------------------------------------

    fn offstate(&mut self, pairs: &[Pair<'a>]) {
        // Every pair's references first: a value or policy moved below may name another
        // pair's secret, and is rendered with the edits made so far.
        for pair in pairs {
            let name = label(pair.secret, 1).unwrap_or_default().to_owned();
            let vname = label(pair.version, 1).unwrap_or_default().to_owned();
            let version_repeated =
                repetition(pair.version).is_ok_and(|r| !matches!(r, Repeat::Once));

            // References elsewhere. A `moved` or `removed` block names an address in the state's
            // history: rewriting `moved { to = aws_secretsmanager_secret.N }` would make it
            // collide with the `moved` block added here ("Ambiguous move statements"); left as it
            // is, Terraform chains the two moves.
            for r in self.refs {
                if matches!(&r.site.owner, Owner::Other(kind) if kind == "moved" || kind == "removed")
                {
                    continue;
                }
                if r.resource_named("aws_secretsmanager_secret") == Some(name.as_str()) {
                    self.plan.edits[r.file]
                        .push(Edit::replace(r.root_span.clone(), "offstate_secret"));
                } else if r.resource_named("aws_secretsmanager_secret_version")
                    == Some(vname.as_str())
                {
                    let through_name =
                        r.root_span.start..r.step_span(0).map_or(r.root_span.end, |s| s.end);
                    self.plan.edits[r.file].push(Edit::replace(
                        through_name,
                        format!("offstate_secret.{name}"),
                    ));
                    if let Some(step) =
                        attr_step(r, version_repeated).filter(|&i| r.attr(i) == Some("secret_id"))
                    {
                        if let Some(span) = r.step_span(step) {
                            self.plan.edits[r.file].push(Edit::replace(span, ".id"));
                        }
                    }
                } else if let Some(generate) = &pair.generate {
                    // `depends_on = [random_password.X]`: the password is made by the secret now.
                    let in_version = r.file == pair.version_file
                        && matches!(&r.site.owner, Owner::Resource { ty, name }
                            if ty == "aws_secretsmanager_secret_version" && *name == vname);
                    if r.resource_named("random_password") == Some(generate.name.as_str())
                        && !in_version
                    {
                        let through_name =
                            r.root_span.start..r.step_span(0).map_or(r.root_span.end, |s| s.end);
                        self.plan.edits[r.file].push(Edit::replace(
                            through_name,
                            format!("offstate_secret.{name}"),
                        ));
                    }
                }
            }
        }
        for pair in pairs {
            let name = label(pair.secret, 1).unwrap_or_default().to_owned();
            let vname = label(pair.version, 1).unwrap_or_default().to_owned();
            let secret_span = span_of(pair.secret);
            let src = self.src(pair.secret_file);
            // The secret block becomes the offstate_secret.
            self.edit(
                pair.secret_file,
                Edit::replace(span_of(&pair.secret.labels[0]), "\"offstate_secret\""),
            );
            if let Some(provider) = pair.secret.body.get_attribute("provider") {
                let span = span_of(provider);
                let start = line_start(src, span.start);
                let end = (line_end(src, span.end) + 1).min(src.len());
                self.edit(pair.secret_file, Edit::replace(start..end, ""));
                self.warn(pair.secret_file, span.start, Hazard::ProviderArgumentDropped, format!(
                    "`aws_secretsmanager_secret.{name}` had a `provider` argument; `offstate_secret` uses the offstate provider, \
                     so configure its region and credentials to match"
                ));
            }
            let version_src = self.src(pair.version_file);
            let value = render(
                version_src,
                span_of(&pair.value.value),
                &self.plan.edits[pair.version_file],
            );
            let value_version = pair.value_version.map_or_else(
                || "1".to_owned(),
                |a| {
                    render(
                        version_src,
                        span_of(&a.value),
                        &self.plan.edits[pair.version_file],
                    )
                },
            );
            let last_attr = pair
                .secret
                .body
                .attributes()
                .filter(|a| a.key.as_str() != "provider")
                .map(span_of)
                .max_by_key(|span| span.end);
            let blank_line = last_attr.is_some();
            let insertion = body_insertion(src, pair.secret, last_attr);
            let indent = insertion.indent.clone();
            // The version block becomes a `removed` block: its comments and `depends_on`
            // move into the offstate_secret.
            let comments = VersionComments::collect(
                version_src,
                pair.version,
                pair.value,
                pair.value_version,
                &indent,
            );
            let mut source: String = self
                .provider_line(&indent)
                .map(|line| format!("{line}\n\n"))
                .unwrap_or_default();
            source.extend(
                comments
                    .before
                    .iter()
                    .map(|comment| format!("{indent}{comment}\n")),
            );
            let value = reindent(
                &value,
                indent_at(version_src, span_of(pair.value).start),
                &indent,
            );
            source.push_str(&match &pair.generate {
                Some(generate) => {
                    // The value's own comments are the `generate` block's now.
                    let mut block = self.generate_block(generate, &indent);
                    block.push_str(&comments.value);
                    block
                }
                None => format!(
                    "{indent}{} = {value}{}\n{indent}value_wo_version = {value_version}{}",
                    if pair.binary { "binary_wo" } else { "value_wo" },
                    comments.value,
                    comments.value_version,
                ),
            });
            source.extend(
                comments
                    .after
                    .iter()
                    .map(|comment| format!("\n{indent}{comment}")),
            );
            if let Some((policy_file, policy)) = pair.policy {
                source.push_str(&self.folded_policy(policy_file, policy, &indent));
            }
            let dropped = |item: &Expression| {
                names_resource(item, &name)
                    || is_var_attr(item, "aws_secretsmanager_secret_version", &vname)
                    || pair
                        .generate
                        .as_ref()
                        .is_some_and(|g| is_var_attr(item, "random_password", &g.name))
            };
            let mut extra: Vec<String> = Vec::new();
            let carried = [(pair.version_file, pair.version)]
                .into_iter()
                .chain(pair.policy);
            for (file, block) in carried {
                if let Some(Attribute {
                    value: Expression::Array(items),
                    ..
                }) = block.body.get_attribute("depends_on")
                {
                    for item in items.iter().filter(|item| !dropped(item)) {
                        let text = render(self.src(file), span_of(item), &self.plan.edits[file]);
                        if !extra.contains(&text) {
                            extra.push(text);
                        }
                    }
                }
            }
            if !extra.is_empty() {
                match pair
                    .secret
                    .body
                    .get_attribute("depends_on")
                    .map(|a| &a.value)
                {
                    Some(Expression::Array(items)) => {
                        let present: Vec<String> = items
                            .iter()
                            .map(|item| src[span_of(item)].trim().to_owned())
                            .collect();
                        let extra: Vec<String> = extra
                            .into_iter()
                            .filter(|item| !present.contains(item))
                            .collect();
                        if !extra.is_empty() {
                            let (at, text) = match items.iter().map(span_of).max_by_key(|s| s.end) {
                                Some(last) => (last.end, format!(", {}", extra.join(", "))),
                                None => (span_of(items).start + 1, extra.join(", ")),
                            };
                            self.edit(pair.secret_file, Edit::insert(at, text));
                        }
                    }
                    Some(_) => {
                        let at = span_of(pair.secret).start;
                        self.info(pair.secret_file, at, format!(
                            "`offstate_secret.{name}`: add `depends_on` of `aws_secretsmanager_secret_version.{vname}` ({}) by hand",
                            extra.join(", ")
                        ));
                    }
                    None => {
                        source.push_str(&format!("\n{indent}depends_on = [{}]", extra.join(", ")));
                    }
                }
            }
            for edit in insertion.edits(&source, blank_line, "\n") {
                self.edit(pair.secret_file, edit);
            }
            self.edit(
                pair.secret_file,
                Edit::insert(
                    after_block(src, secret_span.end),
                    format!("\n\nmoved {{\n  from = aws_secretsmanager_secret.{name}\n  to = offstate_secret.{name}\n}}"),
                ),
            );
            // The version resource is forgotten, not destroyed: destroying it would delete the
            // secret's current value (DeleteSecret is not called, but the version's stage moves).
            let version_span = span_of(pair.version);
            self.edit(
                pair.version_file,
                Edit {
                    range: version_span.clone(),
                    text: removed_block(&format!("aws_secretsmanager_secret_version.{vname}"))
                        .trim_start()
                        .to_owned(),
                    swallows: true,
                },
            );
            let from = match &pair.generate {
                Some(g) => format!("`generate` from `random_password.{}`", g.name),
                None if pair.binary => "`binary_wo` from `secret_binary`".to_owned(),
                None => "`value_wo` from `secret_string`".to_owned(),
            };
            let moved = match pair.repeat {
                Repeat::Once => "a `moved` block".to_owned(),
                repeat => format!(
                    "{} kept and a `moved` block that moves every instance",
                    repeat.meta()
                ),
            };
            self.note_edit(pair.secret_file, secret_span.start, EditKind::OffstateSecret, format!(
                "`aws_secretsmanager_secret.{name}` + `aws_secretsmanager_secret_version.{vname}` → `offstate_secret.{name}` \
                 ({from}), with {moved}"
            ));
            self.note_edit(pair.version_file, version_span.start, EditKind::OffstateSecret, format!(
                "`aws_secretsmanager_secret_version.{vname}` → `removed` block (lifecycle destroy = false)"
            ));
            if let Some((policy_file, policy)) = pair.policy {
                let pname = label(policy, 1).unwrap_or_default();
                let policy_span = span_of(policy);
                // Destroying it would delete the policy (DeleteResourcePolicy) that
                // `offstate_secret` now manages.
                self.edit(
                    policy_file,
                    Edit {
                        range: policy_span.clone(),
                        text: removed_block(&format!("aws_secretsmanager_secret_policy.{pname}"))
                            .trim_start()
                            .to_owned(),
                        swallows: true,
                    },
                );
                self.note_edit(policy_file, policy_span.start, EditKind::OffstateSecret, format!(
                    "`aws_secretsmanager_secret_policy.{pname}` → `offstate_secret.{name}`'s `policy`, and a `removed` block \
                     (lifecycle destroy = false)"
                ));
                self.info(policy_file, policy_span.start, format!(
                    "`offstate_secret.{name}`: the apply that converts it attaches the policy of \
                     `aws_secretsmanager_secret_policy.{pname}` again (the moved state has none), after checking it with \
                     ValidateResourcePolicy, which hashicorp/aws did not: a policy that fails that check stops the apply"
                ));
            }
            if let Some(generate) = &pair.generate {
                let rp = &generate.name;
                let rp_span = span_of(generate.block);
                self.edit(
                    generate.file,
                    Edit {
                        range: rp_span.clone(),
                        text: removed_block(&format!("random_password.{rp}"))
                            .trim_start()
                            .to_owned(),
                        swallows: true,
                    },
                );
                self.note_edit(generate.file, rp_span.start, EditKind::OffstateSecret, format!(
                    "`random_password.{rp}` → `removed` block (lifecycle destroy = false); its settings are now \
                     `offstate_secret.{name}`'s `generate` block"
                ));
                let every = if matches!(pair.repeat, Repeat::Once) {
                    ""
                } else {
                    " in every instance"
                };
                self.warn(pair.secret_file, secret_span.start, Hazard::GenerateAdoptsValue, format!(
                    "`offstate_secret.{name}`: the first apply keeps the value `random_password.{rp}` made{every} and \
                     writes nothing: offstate marks the state it moves from `aws_secretsmanager_secret.{name}` and, on the \
                     first apply, records the `generate` settings without generating (the value is neither read nor checked \
                     against them). Keep this `generate` block in the apply that moves the secret: once an apply has changed \
                     the moved secret without it, adding `generate` writes a NEW value. Any later change of `generate` (or of \
                     `value_wo_version`) writes a NEW value as the current version (a rotation): update whatever else was \
                     given the password (a database user, an app's configuration) then"
                ));
            } else if is_literal(&pair.value.value) {
                self.warn(pair.version_file, span_of(pair.value).start, Hazard::LiteralSecret, format!(
                    "`aws_secretsmanager_secret_version.{vname}.{}` is a literal: it stays in the configuration and in plan JSON",
                    pair.value.key.as_str()
                ));
            }
        }
        if let Some(first) = pairs.first() {
            self.needs_offstate = Some(first.secret_file);
            self.info(first.secret_file, 0, "`moved` across resource types needs Terraform >= 1.8 and the offstate provider's MoveResourceState".to_owned());
        }
    }

    /// The lines (each after a newline) that carry an `aws_secretsmanager_secret_policy`'s
    /// `policy` and `block_public_policy` into the `offstate_secret`, at `indent`, with the
    /// comments of its block.
    fn folded_policy(&self, file: usize, policy: &Block, indent: &str) -> String {
        let src = self.src(file);
        let mut out = String::new();
        let mut comments = comments_in(src, span_of(policy)).into_iter().peekable();
        for attr in policy.body.attributes() {
            let attr_span = span_of(attr);
            while let Some(comment) = comments.next_if(|c| c.range.start < attr_span.start) {
                out.push_str(&format!("\n{indent}{}", comment.text_at(src, indent)));
            }
            let mut trailing = String::new();
            while let Some(comment) =
                comments.next_if(|c| c.range.start < line_end(src, attr_span.end))
            {
                if comment.range.start >= attr_span.end {
                    trailing.push(' ');
                    trailing.push_str(&comment.text_at(src, indent));
                }
            }
            let key = attr.key.as_str();
            if matches!(key, "policy" | "block_public_policy") {
                let value = reindent(
                    &render(src, span_of(&attr.value), &self.plan.edits[file]),
                    indent_at(src, attr_span.start),
                    indent,
                );
                out.push_str(&format!("\n{indent}{key} = {value}{trailing}"));
            } else if !trailing.is_empty() {
                out.push_str(&format!("\n{indent}{}", trailing.trim_start()));
            }
        }
        for comment in comments {
            out.push_str(&format!("\n{indent}{}", comment.text_at(src, indent)));
        }
        out
    }

    /// The `generate` block for `offstate_secret`, at `indent`: the `random_password`'s
    /// arguments as written (`number` spelled `numeric`), its default punctuation named when it
    /// used it, and the `jsonencode` fields as `json_template` / `json_key`.
    fn generate_block(&self, generate: &Generate<'a>, indent: &str) -> String {
        let src = self.src(generate.file);
        let inner = format!("{indent}  ");
        let body = &generate.block.body;
        let mut lines = Vec::new();
        let mut default_set = true;
        // The block's comments: the ones inside a value go with it, the ones trailing an
        // argument's line trail its line here, every other one is a line of its own, in order.
        let mut comments = comments_in(src, span_of(generate.block))
            .into_iter()
            .peekable();
        for attr in body.attributes() {
            let attr_span = span_of(attr);
            while let Some(comment) = comments.next_if(|c| c.range.start < attr_span.start) {
                lines.push(format!("{inner}{}", comment.text_at(src, &inner)));
            }
            let mut comment = String::new();
            while let Some(trailing) =
                comments.next_if(|c| c.range.start < line_end(src, attr_span.end))
            {
                if trailing.range.start >= attr_span.end {
                    comment.push(' ');
                    comment.push_str(&trailing.text_at(src, &inner));
                }
            }
            let key = match attr.key.as_str() {
                "count" | "for_each" => {
                    // Repeated like the secret, which keeps its own `count` / `for_each`.
                    if !comment.is_empty() {
                        lines.push(format!("{inner}{}", comment.trim_start()));
                    }
                    continue;
                }
                "number" if body.has_attribute("numeric") => continue,
                "number" => "numeric",
                key => key,
            };
            let span = span_of(&attr.value);
            let mut value = reindent(
                &render(src, span.clone(), &self.plan.edits[generate.file]),
                indent_at(src, span.start),
                &inner,
            );
            match (key, &attr.value) {
                ("special", Expression::Bool(on)) if !*on.value() => default_set = false,
                // random_password takes "" for its default set; offstate would take no punctuation.
                ("override_special", Expression::String(chars)) if chars.value().is_empty() => {
                    value = format!("\"{RANDOM_PASSWORD_SPECIAL}\"");
                    if comment.is_empty() {
                        comment = DEFAULT_SET_COMMENT.to_owned();
                    }
                }
                ("override_special", _) => default_set = false,
                _ => {}
            }
            lines.push(format!("{inner}{key} = {value}{comment}"));
        }
        let after: Vec<String> = comments
            .map(|comment| format!("{inner}{}", comment.text_at(src, &inner)))
            .collect();
        if default_set && !body.has_attribute("override_special") {
            lines.push(format!(
                "{inner}override_special = \"{RANDOM_PASSWORD_SPECIAL}\"{DEFAULT_SET_COMMENT}"
            ));
        }
        if let (Some((_, key)), Some(layout)) = (&generate.json, &generate.commented) {
            let vsrc = self.src(generate.version_file);
            let template = format!(
                "{}{}",
                &vsrc[layout.object.start..layout.cut.start],
                &vsrc[layout.cut.end..layout.object.end]
            );
            let template = reindent(&template, &layout.indent, &inner);
            lines.extend(
                layout
                    .outside
                    .iter()
                    .map(|c| format!("{inner}{}", c.text_at(vsrc, &inner))),
            );
            lines.push(format!("{inner}json_template = {template}"));
            lines.extend(
                layout
                    .key_above
                    .iter()
                    .map(|c| format!("{inner}{}", c.text_at(vsrc, &inner))),
            );
            let trailing: String = layout
                .key_trailing
                .iter()
                .map(|c| format!(" {}", c.text_at(vsrc, &inner)))
                .collect();
            lines.push(format!("{inner}json_key = {key}{trailing}"));
        } else if let Some((fields, key)) = &generate.json {
            let pairs: Vec<String> = fields.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            let inline = if pairs.is_empty() {
                "{}".to_owned()
            } else {
                format!("{{ {} }}", pairs.join(", "))
            };
            let template = if inner.len() + "json_template = ".len() + inline.len() <= 100 {
                inline
            } else {
                let mut out = "{\n".to_owned();
                for pair in &pairs {
                    out.push_str(&format!("{inner}  {pair}\n"));
                }
                out.push_str(&format!("{inner}}}"));
                out
            };
            lines.push(format!("{inner}json_template = {template}"));
            lines.push(format!("{inner}json_key = {key}"));
        }
        lines.extend(after);
        format!("{indent}generate {{\n{}\n{indent}}}", lines.join("\n"))
    }

    /// The entry of `required_providers` whose `source` is offstate: `offstate/offstate` (any
    /// spelling Terraform takes for it), else a private registry's `HOST/NAMESPACE/offstate`
    /// (see [`OffstateSource`]). Its local name, where it is, its source and which kind it is.
    fn required_offstate(&self) -> Option<RequiredOffstate> {
        let entries: Vec<RequiredOffstate> = self
            .blocks("terraform")
            .flat_map(|(file, block)| {
                block
                    .body
                    .get_blocks("required_providers")
                    .flat_map(|rp| rp.body.attributes())
                    .filter(|entry| !self.overrides.contains_key(entry.key.as_str()))
                    .filter_map(move |entry| {
                        let (source, kind) = offstate_entry_source(&entry.value)?;
                        Some(RequiredOffstate {
                            name: entry.key.as_str().to_owned(),
                            at: (file, key_start(entry)),
                            source,
                            kind,
                        })
                    })
            })
            .collect();
        let canonical = entries
            .iter()
            .position(|e| e.kind == OffstateSource::Canonical);
        let mut entries = entries;
        match canonical {
            Some(index) => Some(entries.swap_remove(index)),
            None => entries.into_iter().next(),
        }
    }

    /// The name to call the offstate provider by: the local name `required_providers` gives
    /// it, or `offstate`, which the entry migrate adds uses.
    fn offstate_name(&self) -> &str {
        self.offstate_local.as_deref().unwrap_or("offstate")
    }

    /// When no `required_providers` entry is `offstate/offstate` but the entry named `offstate`
    /// is another provider, why nothing needing offstate is written: Terraform gives a resource
    /// type's first word to the provider of that local name, so `offstate_secret` would belong
    /// to that provider (which does not have it), and the entry migrate adds would be a second
    /// `offstate`. An override file's `offstate` entry is the one Terraform uses.
    fn offstate_taken(&self) -> Option<String> {
        if self.offstate_local.is_some() {
            return None;
        }
        // An override file's entry replaces the primary one.
        let (at, source) = match self.overrides.get("offstate") {
            Some((file, source)) => (file.clone(), source.clone()),
            None => self.blocks("terraform").find_map(|(file, block)| {
                let entry = block
                    .body
                    .get_blocks("required_providers")
                    .find_map(|rp| rp.body.get_attribute("offstate"))?;
                let path = self.files[file]
                    .path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                let line = self.line(file, key_start(entry));
                Some((format!("{path}:{line}"), entry_source(&entry.value)))
            })?,
        };
        // The legacy form, `offstate = "~> 1.0"`, and an entry without `source` mean
        // hashicorp/offstate.
        let source = source.unwrap_or_else(|| "hashicorp/offstate".to_owned());
        // `acme/offstate` on a public registry: a provider that only shares offstate's name.
        let other_namespace = source
            .to_ascii_lowercase()
            .rsplit('/')
            .next()
            .is_some_and(|ty| ty == "offstate");
        let what = if other_namespace {
            ", a provider named offstate in another namespace of a public registry, which migrate does not take \
             for offstate/offstate; it"
        } else {
            ", which"
        };
        Some(format!(
            "`required_providers` ({at}) gives the local name `offstate` to `{source}`{what} would then own \
             `offstate_secret`; add `offstate/offstate` there under another local name (migrate then writes \
             `provider = <that name>`) and migrate again"
        ))
    }

    /// The offstate entry (`offstate/offstate` first, else a private registry's) that an
    /// override file's `required_providers` gives the module: migrate uses it and adds none.
    fn override_offstate(&self) -> Option<JsonOffstate> {
        preferred_offstate(
            self.overrides
                .iter()
                .map(|(local, (file, source))| (file.as_str(), local.as_str(), source.as_deref())),
        )
    }

    /// `provider = <local name>` for an `offstate_secret` migrate writes, when the local name
    /// is not `offstate`: Terraform takes a resource type's provider from the type's prefix,
    /// so without it `offstate_secret` would need `hashicorp/offstate`.
    fn provider_line(&self, indent: &str) -> Option<String> {
        self.offstate_local
            .as_deref()
            .filter(|name| *name != "offstate")
            .map(|name| format!("{indent}provider = {name}"))
    }

    /// The offstate entry of a `required_providers` block in a primary `.tf.json` file, if one
    /// has such a block; `Err` with what to do when it lists no offstate: Terraform takes one
    /// `required_providers` per module (override files aside), and migrate does not rewrite
    /// `.tf.json` files, so the entry cannot be added.
    fn json_required_providers(&self) -> Result<Option<JsonOffstate>, String> {
        for other in self.others {
            let name = other.name();
            if !name.ends_with(".tf.json") || crate::module::is_override(&name) {
                continue;
            }
            let Some(mut entries) = json_required_providers(&other.src) else {
                continue;
            };
            entries.retain(|(local, _)| !self.overrides.contains_key(local));
            let entry = preferred_offstate(
                entries
                    .iter()
                    .map(|(local, source)| (name.as_str(), local.as_str(), source.as_deref())),
            );
            if entry.is_some() {
                return Ok(entry);
            }
            let add = match entries.iter().find(|(local, _)| local == "offstate") {
                // The legacy form, `"offstate": "~> 1.0"`, means hashicorp/offstate.
                Some((_, source)) => format!(
                    "add `offstate/offstate` there under a local name other than `offstate`, which is `{}` there \
                     (migrate then writes `provider = <that name>`)",
                    source.as_deref().unwrap_or("hashicorp/offstate")
                ),
                None => "add `\"offstate\": { \"source\": \"offstate/offstate\" }` there".to_owned(),
            };
            return Err(format!(
                "`{name}` holds this module's `required_providers`, which migrate does not rewrite, and Terraform \
                 takes only one `required_providers` per module, so migrate cannot add offstate to it; {add} and \
                 migrate again"
            ));
        }
        Ok(None)
    }

    fn required_providers(&mut self, fallback_file: usize) {
        if let Some(entry) = self.json_offstate.take() {
            let JsonOffstate {
                file,
                name,
                source,
                kind,
            } = &entry;
            let at = self.files.first().map(|f| {
                f.path
                    .parent()
                    .map(|p| p.join(file))
                    .unwrap_or_else(|| file.into())
            });
            if let Some(path) = at {
                if *kind == OffstateSource::PrivateRegistry {
                    self.plan.infos.push(Note {
                        path: path.clone(),
                        line: 0,
                        message: format!(
                            "`required_providers` ({file}) gives `{name}` the source `{source}`, which migrate takes for \
                             offstate/offstate from a private registry (its type is `offstate`), so what migrate writes \
                             uses it; if `{source}` is another provider, do not apply this: add `offstate/offstate` there \
                             under another local name and migrate again"
                        ),
                    });
                }
                if name != "offstate" {
                    self.plan.infos.push(Note {
                        path,
                        line: 0,
                        message: format!(
                            "`required_providers` ({file}) names `{}` `{name}`: the `offstate_secret` resources migrate \
                             writes say `provider = {name}`, and references call `provider::{name}::ref`",
                            if *kind == OffstateSource::Canonical { "offstate/offstate" } else { source }
                        ),
                    });
                }
            }
            return;
        }
        let terraform: Vec<(usize, &Block)> = self.blocks("terraform").collect();
        if let Some(RequiredOffstate {
            name,
            at: (file, at),
            source,
            kind,
        }) = self.required_offstate()
        {
            if kind == OffstateSource::PrivateRegistry {
                let path = self.files[file]
                    .path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                let line = self.line(file, at);
                self.info(file, at, format!(
                    "`required_providers` ({path}:{line}) gives `{name}` the source `{source}`, which migrate takes for \
                     offstate/offstate from a private registry (its type is `offstate`), so what migrate writes uses it; \
                     if `{source}` is another provider, do not apply this: add `offstate/offstate` there under another \
                     local name and migrate again"
                ));
            }
            if name != "offstate" {
                self.info(file, at, format!(
                    "`required_providers` names `{}` `{name}`: the `offstate_secret` resources migrate writes \
                     say `provider = {name}`, and references call `provider::{name}::ref`",
                    if kind == OffstateSource::Canonical { "offstate/offstate" } else { &source }
                ));
            }
            return;
        }
        for (file, block) in &terraform {
            let src = self.src(*file);
            if let Some(rp) = block.body.get_blocks("required_providers").next() {
                let last = rp.body.iter().map(span_of).max_by_key(|span| span.end);
                let insertion = body_insertion(src, rp, last.clone());
                let indent = &insertion.indent;
                let text = format!(
                    "{indent}offstate = {{\n{indent}  source = \"offstate/offstate\"\n{indent}}}"
                );
                let at = last.map_or(span_of(rp).start, |span| span.end);
                for edit in insertion.edits(&text, false, "\n") {
                    self.edit(*file, edit);
                }
                self.note_edit(
                    *file,
                    at,
                    EditKind::RequiredProviders,
                    "added `offstate = { source = \"offstate/offstate\" }` to required_providers"
                        .to_owned(),
                );
                return;
            }
        }
        let rp = |indent: &str| {
            format!(
                "{indent}required_providers {{\n{indent}  offstate = {{\n{indent}    source = \"offstate/offstate\"\n{indent}  }}\n{indent}}}"
            )
        };
        if let Some((file, block)) = terraform.first() {
            let src = self.src(*file);
            let last = block.body.iter().map(span_of).max_by_key(|span| span.end);
            let blank_line = last.is_some();
            let insertion = body_insertion(src, block, last.clone());
            let at = last.map_or(span_of(*block).start, |span| span.end);
            for edit in insertion.edits(&rp(&insertion.indent), blank_line, "\n") {
                self.edit(*file, edit);
            }
            self.note_edit(
                *file,
                at,
                EditKind::RequiredProviders,
                "added a `required_providers` block with `offstate`".to_owned(),
            );
            return;
        }
        let src = self.src(fallback_file);
        let lead = if src.ends_with('\n') || src.is_empty() {
            "\n"
        } else {
            "\n\n"
        };
        let text = format!("{lead}terraform {{\n{}\n}}\n", rp("  "));
        self.edit(fallback_file, Edit::insert(src.len(), text));
        self.note_edit(
            fallback_file,
            src.len(),
            EditKind::RequiredProviders,
            "added a `terraform` block requiring `offstate/offstate`".to_owned(),
        );
    }
}

/// The `required_providers` entries of a `.tf.json` file (local name, source: `None` in the
/// legacy form, a version constraint alone), if it has such a block. Terraform's JSON syntax
/// takes a block as an object or as an array of objects.
fn json_required_providers(src: &str) -> Option<Vec<(String, Option<String>)>> {
    fn objects(value: &serde_json::Value) -> Vec<&serde_json::Map<String, serde_json::Value>> {
        match value {
            serde_json::Value::Object(map) => vec![map],
            serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_object()).collect(),
            _ => Vec::new(),
        }
    }
    let root: serde_json::Value = serde_json::from_str(src).ok()?;
    let blocks: Vec<_> = objects(root.get("terraform")?)
        .into_iter()
        .filter_map(|terraform| terraform.get("required_providers"))
        .flat_map(objects)
        .collect();
    if blocks.is_empty() {
        return None;
    }
    Some(
        blocks
            .into_iter()
            .flat_map(|block| block.iter())
            .map(|(local, entry)| {
                let source = entry
                    .get("source")
                    .and_then(|s| s.as_str())
                    .map(str::to_owned);
                (local.clone(), source)
            })
            .collect(),
    )
}

/// The `required_providers` entries of a module's override files (`override.tf`,
/// `*_override.tf` and their `.tf.json` forms), merged as Terraform merges them: an entry takes
/// the place of the primary files' entry of the same local name, whole, and a later override
/// file's (in name order, as Terraform reads them) takes the place of an earlier one's. Local
/// name → (file name, source; `None` for the legacy form or an entry without `source`).
fn override_required_providers(others: &[OtherFile]) -> BTreeMap<String, (String, Option<String>)> {
    let mut out = BTreeMap::new();
    for other in others {
        let name = other.name();
        if !crate::module::is_override(&name) {
            continue;
        }
        let entries = if name.ends_with(".tf.json") {
            json_required_providers(&other.src).unwrap_or_default()
        } else {
            hcl_required_providers(&other.src)
        };
        for (local, source) in entries {
            out.insert(local, (name.clone(), source));
        }
    }
    out
}

/// The `required_providers` entries of an HCL file migrate does not rewrite (local name,
/// source); none when it does not parse (Terraform refuses such a file anyway).
fn hcl_required_providers(src: &str) -> Vec<(String, Option<String>)> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let Ok((body, _)) = crate::module::parse_body(src) else {
        return Vec::new();
    };
    let entries = body
        .blocks()
        .filter(|block| block.ident.as_str() == "terraform")
        .flat_map(|block| block.body.get_blocks("required_providers"))
        .flat_map(|rp| rp.body.attributes())
        .map(|entry| (entry.key.as_str().to_owned(), entry_source(&entry.value)))
        .collect();
    entries
}

/// The offstate entry among `entries` (file name, local name, source) of files migrate does
/// not rewrite: `offstate/offstate` first, else a private registry's (see [`OffstateSource`]).
fn preferred_offstate<'e>(
    entries: impl Iterator<Item = (&'e str, &'e str, Option<&'e str>)> + Clone,
) -> Option<JsonOffstate> {
    let entry = |kind: OffstateSource| {
        entries.clone().find_map(|(file, local, source)| {
            let source = source?;
            (offstate_source(source) == kind).then(|| JsonOffstate {
                file: file.to_owned(),
                name: local.to_owned(),
                source: source.to_owned(),
                kind,
            })
        })
    };
    entry(OffstateSource::Canonical).or_else(|| entry(OffstateSource::PrivateRegistry))
}

/// The offstate entry of a `required_providers` block in a file migrate does not rewrite (a
/// `.tf.json` file or an override file).
struct JsonOffstate {
    /// The file's name.
    file: String,
    name: String,
    source: String,
    kind: OffstateSource,
}

/// A `required_providers` entry that is offstate.
struct RequiredOffstate {
    name: String,
    /// (file, key start)
    at: (usize, usize),
    source: String,
    kind: OffstateSource,
}

/// Why a secret no `aws_secretsmanager_secret_version` sets a value for is not converted, and
/// what to do: its state holds no value (hashicorp/aws keeps none in the secret resource), and
/// offstate moves it over without one (an `offstate_secret` without `value_wo` leaves the value
/// alone).
fn no_version_reason(secret: &str) -> String {
    format!(
        "no `aws_secretsmanager_secret_version` in this module sets its value, so the secret's state holds none (hashicorp/aws keeps no value in it) and it can stay as it is; \
         to have offstate manage it anyway, replace it by hand with a `resource \"offstate_secret\" \"{secret}\"` \
         with the same arguments and no `value_wo` (offstate then leaves the value alone) and a `moved {{ from = \
         aws_secretsmanager_secret.{secret} to = offstate_secret.{secret} }}` block, and read `offstate_secret.{secret}.arn` \
         where `aws_secretsmanager_secret.{secret}.id` or `.arn` is read"
    )
}

/// Why an argument of `aws_secretsmanager_secret.{secret}` that `offstate_secret` lacks stops
/// the pair's conversion, and what to do.
fn secret_argument_reason(key: &str, secret: &str, local: &str) -> String {
    if key == "region" {
        // hashicorp/aws 6 places one resource in another region; offstate places every secret
        // in its provider configuration's region.
        return format!(
            "`region` has no offstate_secret counterpart (the offstate provider's `region` places its secrets); to \
             convert it, remove `region` and migrate again, then, before applying, give `offstate_secret.{secret}` \
             `provider = {local}.<alias>` with a `provider \"{local}\"` block of that `alias` whose `region` is \
             that region (or set that `region` in the default `provider \"{local}\"` block); apply nothing in \
             between (without `region`, hashicorp/aws would replace the secret in its provider's region, when that \
             is another one)"
        );
    }
    format!(
        "`{key}` has no offstate_secret counterpart; to convert it, remove `{key}` and migrate again \
         (`offstate_secret.{secret}` then does not manage what it sets)"
    )
}

/// Why several versions of one secret stop the pair's conversion, and what to do.
fn versions_reason(versions: &[(usize, &Block, Instance)]) -> String {
    let names: Vec<String> = versions
        .iter()
        .map(|(_, version, _)| {
            format!(
                "`aws_secretsmanager_secret_version.{}`",
                label(version, 1).unwrap_or_default()
            )
        })
        .collect();
    format!(
        "{} versions set its value ({}), and `offstate_secret` holds one value; to convert it, keep the version \
         whose value is to stay current, replace each other one by a `removed {{ from = \
         aws_secretsmanager_secret_version.<name> lifecycle {{ destroy = false }} }}` block (Secrets Manager keeps \
         its version; Terraform forgets it), and migrate again",
        versions.len(),
        and_list(&names)
    )
}

/// Why a read of `aws_secretsmanager_secret_version.{vname}.{attr}` stops the pair's conversion
/// (`offstate_secret` has its `arn`, `version_id` and `secret_id` as `id`), and what to do.
fn version_read_reason(vname: &str, attr: Option<&str>, site: &str) -> String {
    let at = format!(
        "`aws_secretsmanager_secret_version.{vname}{}` is read in {site}",
        attr.map_or_else(|| "[...]".to_owned(), |attr| format!(".{attr}"))
    );
    match attr {
        Some(value @ ("secret_string" | "secret_binary")) => format!(
            "{at}, and `offstate_secret` keeps no value to read; to convert it, put what `{value}` is set to there \
             in place of that reference, or remove that use, and migrate again (once converted, an \
             `ephemeral \"offstate_secret_value\"` block reads the value where an ephemeral value is taken)"
        ),
        Some("id") => format!(
            "{at}, and `offstate_secret` has no attribute for its `ARN|VERSION_ID`; to convert it, read `arn` or \
             `version_id` there in place of `id`, or remove that use, and migrate again"
        ),
        None => format!(
            "{at}, and the whole instance would be an `offstate_secret`, with other attributes; to convert it, read \
             `arn` or `version_id` there in its place, or remove that use, and migrate again"
        ),
        _ => format!(
            "{at}, and `offstate_secret` has no such attribute; to convert it, read `arn` or `version_id` (the \
             version that carries AWSCURRENT) there in its place, or remove that use, and migrate again"
        ),
    }
}

/// Why a read of `aws_secretsmanager_secret.{secret}.{attr}` (`None`: the whole instance)
/// stops the pair's conversion, and what to do.
fn secret_read_reason(secret: &str, attr: Option<&str>, site: &str) -> String {
    let at = format!(
        "`aws_secretsmanager_secret.{secret}{}` is read in {site}",
        attr.map_or_else(|| "[...]".to_owned(), |attr| format!(".{attr}"))
    );
    match attr {
        Some("tags_all") => format!(
            "{at}, and `offstate_secret`'s `tags_all` merges the offstate provider's `default_tags`, not \
             hashicorp/aws's; to convert it, read `tags` there in its place (with hashicorp/aws's `default_tags` \
             written out if that use needs them), or remove that use, and migrate again"
        ),
        Some(_) => format!(
            "{at}, and `offstate_secret` has no such attribute; to convert it, read `arn`, `name` or another \
             argument it keeps there in its place, or remove that use, and migrate again"
        ),
        None => format!(
            "{at}, and the whole instance would be an `offstate_secret`, with other attributes; to convert it, read \
             the attribute that use needs (`arn`, `name`, ...) there in its place, and migrate again"
        ),
    }
}

/// Why a nested block of the version stops a pair's conversion, and what to do.
fn version_block_reason(vname: &str, secret: &str, nested: &Block) -> String {
    let at = format!("`aws_secretsmanager_secret_version.{vname}`");
    if nested.ident.as_str() != "lifecycle" {
        return format!(
            "{at} has a `{}` block, which the `removed` block it becomes cannot carry; to convert it, {}, and migrate again",
            nested_name(nested),
            other_block_step(&format!("aws_secretsmanager_secret.{secret}"), nested_name(nested))
        );
    }
    if nested.body.has_attribute("ignore_changes") {
        // The value is written outside Terraform; the converting apply would write it back.
        return format!(
            "{at} has `lifecycle {{ ignore_changes }}`: the value is changed outside Terraform, and the apply that \
             converts the pair would write the configured value over it; to convert it, remove that `lifecycle` block \
             and migrate again, then delete `value_wo` and `value_wo_version` from `offstate_secret.{secret}` before \
             applying (without a value, offstate leaves the value in Secrets Manager alone)"
        );
    }
    format!(
        "{at} has a `lifecycle` block, which the `removed` block it becomes cannot carry; to convert it, move what it \
         sets into the `lifecycle` block of `aws_secretsmanager_secret.{secret}` (migrate keeps that one in \
         `offstate_secret.{secret}`) or remove it, and migrate again"
    )
}

/// A nested block's name as written: `provisioner "local-exec"`, `dynamic "replica"`.
fn nested_name(block: &Block) -> String {
    match label(block, 0) {
        Some(first) => format!("{} \"{first}\"", block.ident.as_str()),
        None => block.ident.as_str().to_owned(),
    }
}

/// What to do with a nested block `offstate_secret` has no place for, on the way to `owner`'s
/// conversion.
fn other_block_step(owner: &str, block: String) -> String {
    if block.starts_with("provisioner") || block.starts_with("connection") {
        format!(
            "move the `{block}` block to a `terraform_data` resource that depends on `{owner}` (or remove it)"
        )
    } else {
        format!("remove the `{block}` block")
    }
}

/// Why a pair's `random_password` does not become its `generate` block (a note), and what to do
/// when something can be done.
struct GenerateRefused {
    file: usize,
    pos: usize,
    password: String,
    reason: String,
    step: Option<String>,
}

/// The step that ends a note refusing `generate`: `action`, then migrate again while the pair
/// still converts (`generate` is made only then).
/// What makes `random_password.{used}` repeated like `aws_secretsmanager_secret.{secret}`,
/// instance for instance, as `generate` is.
fn repeat_like_step(used: &str, secret: &str, repeat: Repeat) -> String {
    match repeat {
        Repeat::Once => format!(
            "read `random_password.{used}.result` in the value, with neither `count` nor `for_each` on \
             `random_password.{used}`"
        ),
        Repeat::Count(_) => format!(
            "give `random_password.{used}` the `count` of `aws_secretsmanager_secret.{secret}` and read \
             `random_password.{used}[count.index].result` in the value"
        ),
        Repeat::ForEach(_) => format!(
            "give `random_password.{used}` the `for_each` of `aws_secretsmanager_secret.{secret}` (the same \
             expression) and read `random_password.{used}[each.key].result` in the value"
        ),
    }
}

fn generate_step(action: &str) -> String {
    format!(
        "To have offstate generate the password (nothing of it in the state), {action} and run migrate again \
         before `--write`, or after undoing it: migrate makes `generate` only while it converts the pair"
    )
}

/// What to do with another use (`r`) of a password that `generate` would make inside
/// `offstate_secret.{secret}`: read the secret there with `offstate_secret_value` (one field of
/// it, `json_key`, for a JSON value), repeated like the secret; an output is removed instead
/// (a root module's output takes no ephemeral value).
fn other_use_step(
    r: &Reference,
    secret: &str,
    repeat: Repeat<'_>,
    json_key: Option<&str>,
) -> String {
    let site = r.describe_site();
    let (meta, key) = match repeat {
        Repeat::Once => (String::new(), ""),
        Repeat::Count(_) => ("the same `count`, ".to_owned(), "[count.index]"),
        Repeat::ForEach(_) => ("the same `for_each`, ".to_owned(), "[each.key]"),
    };
    let json_key = json_key.map_or_else(String::new, |key| format!(" and `json_key = {key}`"));
    let reader = format!(
        "an `ephemeral \"offstate_secret_value\"` block with {meta}`secret_id = aws_secretsmanager_secret.{secret}{key}.arn` \
         (which migrate points at `offstate_secret.{secret}`){json_key}"
    );
    if matches!(r.site.owner, Owner::Output { .. }) {
        return format!(
            "remove {site} (and any other such use: migrate names the first) — a root module's output takes no \
             ephemeral value, a child module's only with `ephemeral = true` — and read the password where it is \
             needed from {reader},"
        );
    }
    format!(
        "make {site} (and any other such use: migrate names the first) read the secret instead, from {reader}, \
         whose `value` goes only where an ephemeral value is taken (a write-only argument, also one migrate makes \
         of an argument such as `password`; a provider or provisioner; an `ephemeral` block or output), or remove \
         that use,"
    )
}

/// `keepers` and blocks (`` `lifecycle` block ``) with an article before each block.
fn with_article(items: &[String], article: &str) -> Vec<String> {
    items
        .iter()
        .map(|item| {
            if item.ends_with(" block") {
                format!("{article} {item}")
            } else {
                item.clone()
            }
        })
        .collect()
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// What a `required_providers` source address says about being the offstate provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OffstateSource {
    /// `offstate/offstate`, on the public registry Terraform or OpenTofu reads it from by default
    /// (`registry.terraform.io/` or `registry.opentofu.org/` may be spelled out).
    Canonical,
    /// `HOST/NAMESPACE/offstate` on any other host: a private registry's copy of offstate
    /// (Terraform Cloud's `app.terraform.io/ORG/offstate`, an Artifactory or a self-hosted
    /// registry keep the type and change the host and namespace), taken as offstate, with a note.
    PrivateRegistry,
    /// Anything else, `acme/offstate` on a public registry included: there the address names
    /// another provider, which only shares offstate's type name.
    Other,
}

/// Public registries, where `NAMESPACE/offstate` outside the `offstate` namespace is another
/// provider.
const PUBLIC_REGISTRIES: [&str; 2] = ["registry.terraform.io", "registry.opentofu.org"];

/// Which provider a `required_providers` source address is (Terraform compares source addresses
/// case-insensitively).
fn offstate_source(source: &str) -> OffstateSource {
    let source = source.trim().to_ascii_lowercase();
    let parts: Vec<&str> = source.split('/').collect();
    let (host, namespace, ty) = match parts.as_slice() {
        [namespace, ty] => (PUBLIC_REGISTRIES[0], *namespace, *ty),
        [host, namespace, ty] => (*host, *namespace, *ty),
        _ => return OffstateSource::Other,
    };
    if ty != "offstate" || host.is_empty() || namespace.is_empty() {
        return OffstateSource::Other;
    }
    if PUBLIC_REGISTRIES.contains(&host) {
        if namespace == "offstate" {
            OffstateSource::Canonical
        } else {
            OffstateSource::Other
        }
    } else {
        OffstateSource::PrivateRegistry
    }
}

/// The source of a `required_providers` entry, when it is offstate (see [`OffstateSource`]).
fn offstate_entry_source(entry: &Expression) -> Option<(String, OffstateSource)> {
    let source = entry_source(entry)?;
    match offstate_source(&source) {
        OffstateSource::Other => None,
        kind => Some((source, kind)),
    }
}

/// The `source` string of a `required_providers` entry in object form (`{ source = "..." }`).
fn entry_source(entry: &Expression) -> Option<String> {
    let Expression::Object(object) = entry else {
        return None;
    };
    object.iter().find_map(|(key, value)| {
        let is_source = match key {
            ObjectKey::Ident(ident) => ident.as_str() == "source",
            ObjectKey::Expression(Expression::String(s)) => s.value().as_str() == "source",
            ObjectKey::Expression(_) => false,
        };
        match value.expr() {
            Expression::String(source) if is_source => Some(source.value().to_string()),
            _ => None,
        }
    })
}

/// Why a block with both `count` and `for_each` is not converted (the step follows).
const BOTH_REPEATS: &str = "it sets both `count` and `for_each`, which Terraform refuses too \
                            (`Invalid combination of \"count\" and \"for_each\"`)";

/// A block's `count` or `for_each`.
fn repetition(block: &Block) -> Result<Repeat<'_>, String> {
    match (
        block.body.get_attribute("count"),
        block.body.get_attribute("for_each"),
    ) {
        (None, None) => Ok(Repeat::Once),
        (Some(count), None) => Ok(Repeat::Count(&count.value)),
        (None, Some(for_each)) => Ok(Repeat::ForEach(&for_each.value)),
        (Some(_), Some(_)) => Err(format!(
            "{BOTH_REPEATS}: keep the one you mean, check with `terraform validate`, and migrate again"
        )),
    }
}

/// The comments of a version block, which becomes a `removed` block, as lines at `indent` (the
/// value and its version keep the comments inside them, and their own trailing ones).
#[derive(Default)]
struct VersionComments {
    /// The comments before the value.
    before: Vec<String>,
    /// The comments that trail the value's line.
    value: String,
    /// The comments that trail the value version's line.
    value_version: String,
    /// The comments after the value.
    after: Vec<String>,
}

impl VersionComments {
    fn collect(
        src: &str,
        version: &Block,
        value: &Attribute,
        value_version: Option<&Attribute>,
        indent: &str,
    ) -> Self {
        let mut out = VersionComments::default();
        let value_span = span_of(value);
        let version_span = value_version.map(span_of);
        let carried = |range: &std::ops::Range<usize>| {
            let inside =
                |span: &std::ops::Range<usize>| span.start <= range.start && range.end <= span.end;
            inside(&span_of(&value.value))
                || value_version.is_some_and(|v| inside(&span_of(&v.value)))
        };
        let trails = |comment: &Comment, span: &std::ops::Range<usize>| {
            comment.trailing
                && span.end <= comment.range.start
                && line_end(src, span.end) >= comment.range.end
        };
        for comment in comments_in(src, span_of(version)) {
            if carried(&comment.range) {
                continue;
            }
            let text = comment.text_at(src, indent);
            if trails(&comment, &value_span) {
                out.value.push(' ');
                out.value.push_str(&text);
            } else if version_span.as_ref().is_some_and(|s| trails(&comment, s)) {
                out.value_version.push(' ');
                out.value_version.push_str(&text);
            } else if comment.range.start < value_span.start {
                out.before.push(text);
            } else {
                out.after.push(text);
            }
        }
        out
    }
}

/// How a `jsonencode` value with comments becomes `json_template` (see [`CommentedTemplate`]);
/// `None` when it has no comments. `value` is the version's argument, `object` the object and
/// `field` the password's field (key to value).
fn commented_template(
    src: &str,
    value: std::ops::Range<usize>,
    object: std::ops::Range<usize>,
    field: std::ops::Range<usize>,
) -> Option<CommentedTemplate> {
    let found = comments_in(src, value.clone());
    if found.is_empty() {
        return None;
    }
    let eol = line_end(src, field.end);
    let rest = src[field.end..eol].trim_start();
    let rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    let in_field_line = |c: &Comment| field.end <= c.range.start && c.range.end <= eol;
    let rest_is_comments = {
        let mut at = eol - src[field.end..eol].len() + (src[field.end..eol].len() - rest.len());
        let mut ok = true;
        for comment in found.iter().filter(|c| in_field_line(c)) {
            ok &= src[at..comment.range.start].trim().is_empty();
            at = comment.range.end;
        }
        ok && src[at..eol].trim().is_empty()
    };
    let own_lines = src[line_start(src, field.start)..field.start]
        .trim()
        .is_empty()
        && rest_is_comments;
    let mut key_above = Vec::new();
    let mut key_trailing = Vec::new();
    let cut = if own_lines {
        let mut start = line_start(src, field.start);
        // Whole comment lines right above the field describe it.
        while start > object.start {
            let prev = line_start(src, start - 1);
            let line = src[prev..start].trim();
            let whole = found.iter().find(|c| {
                c.range.start >= prev && c.range.end <= start && !c.trailing && {
                    src[c.range.clone()].trim() == line
                }
            });
            match whole {
                Some(comment) => {
                    key_above.insert(0, comment.clone());
                    start = prev;
                }
                None => break,
            }
        }
        key_trailing.extend(found.iter().filter(|c| in_field_line(c)).cloned());
        start..(eol + 1).min(object.end)
    } else {
        let after = &src[field.end..object.end];
        let trimmed = after.trim_start_matches([' ', '\t']);
        match trimmed.strip_prefix(',') {
            Some(more) => {
                let gap = more.len() - more.trim_start_matches([' ', '\t']).len();
                field.start..object.end - more.len() + gap
            }
            None => {
                let before = src[object.start..field.start].trim_end_matches([' ', '\t']);
                match before.strip_suffix(',') {
                    Some(kept) => object.start + kept.len()..field.end,
                    None => object.start + before.len()..field.end,
                }
            }
        }
    };
    let outside = found
        .iter()
        .filter(|c| c.range.end <= object.start || object.end <= c.range.start)
        .cloned()
        .collect();
    Some(CommentedTemplate {
        object,
        cut,
        indent: indent_at(src, value.start).to_owned(),
        key_above,
        key_trailing,
        outside,
    })
}

/// `root.name` (a variable and one attribute), e.g. `count.index`, `each.key`.
fn is_var_attr(expr: &Expression, root: &str, name: &str) -> bool {
    matches!(expr, Expression::Traversal(t)
        if matches!(&t.expr, Expression::Variable(v) if v.as_str() == root)
            && t.operators.len() == 1
            && matches!(t.operators[0].value(), TraversalOperator::GetAttr(n) if n.as_str() == name))
}

/// `aws_secretsmanager_secret.<name>`, the whole resource.
fn names_resource(expr: &Expression, name: &str) -> bool {
    is_var_attr(expr, "aws_secretsmanager_secret", name)
}

/// The secret a version's `secret_id` names (by `id` or `arn`), and how it picks the instance.
fn version_target(version: &Block) -> Option<(&str, Instance<'_>)> {
    secret_target(version, "secret_id")
}

/// The secret (and instance) that `block`'s argument `key` names by `id` or `arn`.
fn secret_target<'b>(version: &'b Block, key: &str) -> Option<(&'b str, Instance<'b>)> {
    let Expression::Traversal(t) = &version.body.get_attribute(key)?.value else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    let ops: Vec<&TraversalOperator> = t.operators.iter().map(|op| op.value()).collect();
    let id_or_arn = |op: &TraversalOperator| matches!(op, TraversalOperator::GetAttr(n) if matches!(n.as_str(), "id" | "arn"));
    match (root.as_str(), ops.as_slice()) {
        ("aws_secretsmanager_secret", [TraversalOperator::GetAttr(name), last])
            if id_or_arn(last) =>
        {
            Some((name.as_str(), Instance::Whole))
        }
        (
            "aws_secretsmanager_secret",
            [TraversalOperator::GetAttr(name), TraversalOperator::Index(key), last],
        ) if id_or_arn(last) => Some((name.as_str(), Instance::Key(key))),
        ("each", [TraversalOperator::GetAttr(value), last])
            if value.as_str() == "value" && id_or_arn(last) =>
        {
            let Expression::Traversal(over) = &version.body.get_attribute("for_each")?.value else {
                return None;
            };
            match (
                &over.expr,
                over.operators
                    .iter()
                    .map(|op| op.value())
                    .collect::<Vec<_>>()
                    .as_slice(),
            ) {
                (Expression::Variable(v), [TraversalOperator::GetAttr(name)])
                    if v.as_str() == "aws_secretsmanager_secret" =>
                {
                    Some((name.as_str(), Instance::EachValue))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether `version` is repeated like the secret `name` and picks the matching instance:
/// `count` (the same, or `length(aws_secretsmanager_secret.N)`) with `[count.index]`; `for_each`
/// over the same collection or over `aws_secretsmanager_secret.N`, with `[each.key]` (or
/// `each.value` when iterating the secret resource).
fn same_repetition(
    name: &str,
    secret: Repeat<'_>,
    version: &Block,
    instance: &Instance<'_>,
) -> Result<(), String> {
    let ty = label(version, 0).unwrap_or_default();
    let vname = label(version, 1).unwrap_or_default();
    let version_repeat =
        repetition(version).map_err(|reason| format!("`{ty}.{vname}`: {reason}"))?;
    let length_of_secret = |expr: &Expression| {
        matches!(expr, Expression::FuncCall(call)
            if call.name.name.as_str() == "length"
                && !call.name.is_namespaced()
                && call.args.len() == 1
                && call.args.get(0).is_some_and(|arg| names_resource(arg, name)))
    };
    let ok = match (secret, version_repeat, instance) {
        (Repeat::Once, Repeat::Once, Instance::Whole) => true,
        (Repeat::Count(c), Repeat::Count(vc), Instance::Key(k)) => {
            (vc == c || length_of_secret(vc)) && is_var_attr(k, "count", "index")
        }
        (Repeat::ForEach(x), Repeat::ForEach(vx), Instance::Key(k)) => {
            (vx == x || names_resource(vx, name)) && is_var_attr(k, "each", "key")
        }
        (Repeat::ForEach(_), Repeat::ForEach(_), Instance::EachValue) => true,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let (key, attr) = if ty == "aws_secretsmanager_secret_policy" {
        ("secret_arn", "arn")
    } else {
        ("secret_id", "id")
    };
    let how = match secret {
        Repeat::Once => format!(
            "it needs no `count` or `for_each` and `{key} = aws_secretsmanager_secret.{name}.{attr}`"
        ),
        Repeat::Count(_) => format!(
            "it needs the same `count` and `{key} = aws_secretsmanager_secret.{name}[count.index].{attr}`"
        ),
        Repeat::ForEach(_) => format!(
            "it needs `for_each` over the same collection or over `aws_secretsmanager_secret.{name}`, and \
             `{key} = aws_secretsmanager_secret.{name}[each.key].{attr}`"
        ),
    };
    Err(format!(
        "`{ty}.{vname}` is not repeated like the secret ({}): {how}",
        secret.meta()
    ))
}

/// `random_password.X.result` or `random_password.X[K].result`: X and K.
fn password_result(expr: &Expression) -> Option<(&str, Option<&Expression>)> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    if !matches!(&t.expr, Expression::Variable(v) if v.as_str() == "random_password") {
        return None;
    }
    let ops: Vec<&TraversalOperator> = t.operators.iter().map(|op| op.value()).collect();
    match ops.as_slice() {
        [TraversalOperator::GetAttr(name), TraversalOperator::GetAttr(result)]
            if result.as_str() == "result" =>
        {
            Some((name.as_str(), None))
        }
        [TraversalOperator::GetAttr(name), TraversalOperator::Index(key), TraversalOperator::GetAttr(result)]
            if result.as_str() == "result" =>
        {
            Some((name.as_str(), Some(key)))
        }
        _ => None,
    }
}

/// The step of a reference `T.N...` that names the attribute read: the one after the name, or,
/// for a repeated resource, after one instance key or splat.
fn attr_step(r: &Reference, repeated: bool) -> Option<usize> {
    let index = if repeated && matches!(r.steps.get(1), Some(Step::Other(_))) {
        2
    } else {
        1
    };
    r.attr(index).map(|_| index)
}

/// `text` with its continuation lines moved from indentation `from` to `to` (a multi-line value
/// moved into a deeper block).
fn reindent(text: &str, from: &str, to: &str) -> String {
    // A heredoc's body is its value: a `<<EOT` body byte for byte, a `<<-EOT` body's indentation
    // relative to its least indented line. Left as written (`terraform fmt` leaves it too).
    let heredoc = text.match_indices("<<").any(|(at, _)| {
        let rest = &text[at + 2..];
        let rest = rest.strip_prefix('-').unwrap_or(rest);
        rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
    });
    if heredoc {
        return text.to_owned();
    }
    let mut lines = text.split('\n');
    let mut out = lines.next().unwrap_or_default().to_owned();
    for line in lines {
        out.push('\n');
        match line.strip_prefix(from) {
            Some(rest) if !line.trim().is_empty() => {
                out.push_str(to);
                out.push_str(rest);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// Where a block added after the block ending at `end` goes: after a comment that trails the
/// closing brace (`} # end of secret`), which belongs to that block.
fn after_block(src: &str, end: usize) -> usize {
    // `} # end`, `} /* end */`, also a `/* ... */` that runs on to later lines.
    let eol = line_end(src, end);
    let mut at = end;
    for comment in comments_in(src, end..src.len()) {
        if comment.range.start > eol || !src[at..comment.range.start].trim().is_empty() {
            break;
        }
        at = comment.range.end;
    }
    if at == end {
        end
    } else {
        line_end(src, at)
    }
}

fn removed_block(address: &str) -> String {
    format!("\n\nremoved {{\n  from = {address}\n\n  lifecycle {{\n    destroy = false\n  }}\n}}")
}

/// The edits that address an ephemeral `aws_ssm_parameter` by `arn` instead of `name`, if the
/// name is an ARN literal or the `name` of a managed parameter (whose `arn` we can use instead).
fn ssm_arn_edits(block: &Block) -> Option<Vec<Edit>> {
    let attr = block.body.get_attribute("name")?;
    let key = Edit::replace(span_of(&attr.key), "arn");
    match &attr.value {
        Expression::String(s) if s.value().starts_with("arn:") => Some(vec![key]),
        Expression::Traversal(t)
            if matches!(&t.expr, Expression::Variable(v) if v.as_str() == "aws_ssm_parameter")
                && t.operators.len() == 2
                && matches!(t.operators[1].value(), TraversalOperator::GetAttr(n) if n.as_str() == "name") =>
        {
            Some(vec![key, Edit::replace(span_of(&t.operators[1]), ".arn")])
        }
        _ => None,
    }
}

/// Terraform's identifiers (hclsyntax.ValidIdentifier): a letter or `_`, then letters, digits,
/// `_` and `-`.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}
