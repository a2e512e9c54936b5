//! Secrets that reach the state through arguments no write-only form exists for.
//!
//! `terraform_data.input` / `triggers_replace` and root outputs store whatever they are given.
//! When that is a secret (a sensitive variable, `random_password.X.result`, the value of a
//! secret-reading data source), no twin can keep it out of the state: the value itself has to
//! move. With `Options::secret_prefix`, the value goes into an `offstate_secret` (`value_wo`,
//! `value_wo_version = 1`, name `PREFIX/<resource>/<argument>` or `PREFIX/outputs/<name>`) and
//! the argument keeps a reference to it, `provider::offstate::ref(offstate_secret.N.name)`.
//! A secret already converted (an `aws_secretsmanager_secret` pair, or an `offstate_secret` with
//! the same `value_wo`) is referenced instead of copied. Consumers of the old value now receive
//! the reference, which the warnings list. Without a prefix each sink is a note.
//!
//! Two phases: [`Planner::choose_sinks`] runs before the ephemeral pass (a sink's source feeds a
//! write-only argument from now on, which may let a data source or `random_password` become
//! ephemeral); [`Planner::sink_edits`] runs after it, rendering those renames into the moved text.

use super::{is_identifier, key_start, span_of, Pair, Planner, SECRET_DATA_SOURCES};
use crate::edit::{line_start, render, Edit};
use crate::module::{is_set, label, Owner};
use crate::report::{EditKind, Hazard};
use crate::table::is_secret_key;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Attribute, Block};
use std::collections::{BTreeMap, BTreeSet};

/// Arguments of `terraform_data` that store their value in state.
const TERRAFORM_DATA_ARGS: [&str; 2] = ["input", "triggers_replace"];

/// Where a sink stores its value.
enum Place<'a> {
    /// An argument of `terraform_data.<name>`.
    TerraformData { name: &'a str, arg: &'static str },
    /// A root module output.
    Output { name: &'a str },
}

impl Place<'_> {
    /// `terraform_data.app.input` or `output.token`.
    fn address(&self) -> String {
        match self {
            Place::TerraformData { name, arg } => format!("terraform_data.{name}.{arg}"),
            Place::Output { name } => format!("output.{name}"),
        }
    }

    /// The label a new `offstate_secret` for it would take.
    fn label(&self) -> String {
        match self {
            Place::TerraformData { name, arg } => format!("{name}_{arg}"),
            Place::Output { name } => format!("output_{name}"),
        }
    }

    /// The secret name under `prefix`.
    fn secret_name(&self, prefix: &str) -> String {
        match self {
            Place::TerraformData { name, arg } => format!("{prefix}/{name}/{arg}"),
            Place::Output { name } => format!("{prefix}/outputs/{name}"),
        }
    }
}

/// One argument that would put a secret into the state.
pub(super) struct Sink<'a> {
    file: usize,
    block: &'a Block,
    attr: &'a Attribute,
    place: Place<'a>,
    /// `place.address()`.
    address: String,
    /// The secret's source expression, as written.
    source: String,
    /// Label of the `offstate_secret` that will hold it.
    target: String,
    /// Whether that `offstate_secret` is new (else it exists or a pair becomes it).
    create: bool,
    /// The secret name of a new one.
    secret_name: String,
}

impl<'a> Planner<'a> {
    /// Finds the sinks; with a prefix, decides their targets and marks their arguments as
    /// write-only for the ephemeral pass.
    pub(super) fn choose_sinks(
        &mut self,
        prefix: Option<&str>,
        is_root: bool,
        pairs: &[Pair<'a>],
    ) -> Vec<Sink<'a>> {
        let sensitive_vars: BTreeSet<&str> = self
            .blocks("variable")
            .filter(|(_, b)| is_set(&b.body, "sensitive"))
            .filter_map(|(_, b)| label(b, 0))
            .collect();
        let locals: Locals<'a> = self
            .blocks("locals")
            .flat_map(|(_, b)| b.body.attributes())
            .map(|attr| (attr.key.as_str(), &attr.value))
            .collect();
        let mut found: Vec<(usize, &'a Block, &'a Attribute, Place<'a>, Secret)> = Vec::new();
        for (file, block) in self.blocks("resource") {
            if label(block, 0) != Some("terraform_data") {
                continue;
            }
            let name = label(block, 1).unwrap_or_default();
            for arg in TERRAFORM_DATA_ARGS {
                if let Some(attr) = block.body.get_attribute(arg) {
                    let secret = secret_source(&attr.value, &sensitive_vars, &locals);
                    if secret != Secret::No {
                        found.push((
                            file,
                            block,
                            attr,
                            Place::TerraformData { name, arg },
                            secret,
                        ));
                    }
                }
            }
        }
        for (file, block) in self.blocks("output") {
            let name = label(block, 0).unwrap_or_default();
            let ephemeral = is_set(&block.body, "ephemeral");
            if let (false, Some(attr)) = (ephemeral, block.body.get_attribute("value")) {
                let secret = secret_source(&attr.value, &sensitive_vars, &locals);
                if secret != Secret::No {
                    found.push((file, block, attr, Place::Output { name }, secret));
                }
            }
        }
        if found.is_empty() {
            return Vec::new();
        }

        let Some(prefix) = prefix else {
            for (file, _, attr, place, _) in found {
                let address = place.address();
                self.info(file, span_of(attr).start, format!(
                    "`{address}` stores a secret in the state and has no write-only form; \
                     `migrate --prefix PREFIX` moves the value into an `offstate_secret` and leaves a reference here"
                ));
            }
            return Vec::new();
        };

        // Secrets that already exist in this module, by the text of their value.
        let mut by_source: BTreeMap<String, String> = BTreeMap::new();
        let mut taken: BTreeSet<String> = BTreeSet::new();
        for (file, block) in self.blocks("resource") {
            if label(block, 0) == Some("offstate_secret") {
                let name = label(block, 1).unwrap_or_default().to_owned();
                let repeated =
                    block.body.has_attribute("count") || block.body.has_attribute("for_each");
                if let (false, Some(value)) = (repeated, block.body.get_attribute("value_wo")) {
                    by_source
                        .entry(self.text_in(file, value))
                        .or_insert_with(|| name.clone());
                }
                taken.insert(name);
            }
        }
        for pair in pairs {
            let name = label(pair.secret, 1).unwrap_or_default().to_owned();
            let repeated = pair.secret.body.has_attribute("count")
                || pair.secret.body.has_attribute("for_each");
            // A binary value is not the string a sink was given.
            if !repeated && !pair.binary {
                by_source
                    .entry(self.text_in(pair.version_file, pair.value))
                    .or_insert_with(|| name.clone());
            }
            taken.insert(name);
        }

        let mut sinks = Vec::new();
        for (file, block, attr, place, secret) in found {
            let address = place.address();
            let start = span_of(attr).start;
            if !is_root {
                self.info(file, start, format!(
                    "`{address}` stores a secret in the state, in a child module: every instance of the module would share one \
                     secret name; pass the value in from the root module as a reference"
                ));
                continue;
            }
            // Left alone when nothing needing offstate can be written, or when an override or
            // `.tf.json` file names the block: migrate rewrites neither, an override of the block
            // would merge into the rewritten one, and a reference there would still expect the
            // value.
            let words = match place {
                Place::TerraformData { name, .. } => ["terraform_data", name],
                Place::Output { name } => ["output", name],
            };
            let blocked = self.offstate_blocked.clone();
            if let Some(reason) = blocked.or_else(|| self.named_elsewhere(&words)) {
                self.info(
                    file,
                    start,
                    format!("`{address}` stores a secret in the state; left alone: {reason}"),
                );
                continue;
            }
            if let Some(meta) = ["count", "for_each"]
                .into_iter()
                .find(|m| block.body.has_attribute(m))
            {
                self.info(file, start, format!(
                    "`{address}` stores a secret in the state; left alone because the block uses `{meta}`"
                ));
                continue;
            }
            if secret == Secret::Maybe {
                self.info(file, start, format!(
                    "`{address}` stores a secret in the state; left alone because its value may be another value or null \
                     (a conditional, `one(...)`), and `value_wo` takes a string: move the secret itself into an \
                     `offstate_secret` by hand and reference it here"
                ));
                continue;
            }
            let source = self.text_in(file, attr);
            let (target, create) = match by_source.get(&source) {
                Some(existing) => (existing.clone(), false),
                None => {
                    let wanted = place.label();
                    let mut target = wanted.clone();
                    let mut n = 2;
                    // A label an override or `.tf.json` file may declare is taken too.
                    while taken.contains(&target)
                        || !is_identifier(&target)
                        || self
                            .named_elsewhere(&["offstate_secret", &target])
                            .is_some()
                    {
                        target = format!("{wanted}_{n}");
                        n += 1;
                    }
                    taken.insert(target.clone());
                    by_source.insert(source.clone(), target.clone());
                    (target, true)
                }
            };
            let secret_name = place.secret_name(prefix);
            self.wo_keys.insert((file, key_start(attr)));
            sinks.push(Sink {
                file,
                block,
                attr,
                place,
                address,
                source,
                target,
                create,
                secret_name,
            });
        }
        sinks
    }

    /// Moves each sink's value into its `offstate_secret` and leaves the reference.
    pub(super) fn sink_edits(&mut self, sinks: &[Sink<'a>]) {
        let mut created: BTreeSet<&str> = BTreeSet::new();
        for sink in sinks {
            let src = self.src(sink.file);
            let value_span = span_of(&sink.attr.value);
            if sink.create && created.insert(&sink.target) {
                let value = render(src, value_span.clone(), &self.plan.edits[sink.file]);
                let at = leading_comments_start(src, span_of(sink.block).start);
                let provider = self
                    .provider_line("  ")
                    .map(|line| format!("{line}\n\n"))
                    .unwrap_or_default();
                let text = format!(
                    "# Holds the value `{}` was given, so the state keeps only a reference to it.\n\
                     resource \"offstate_secret\" \"{}\" {{\n{provider}  name             = {}\n  value_wo         = {value}\n  value_wo_version = 1\n}}\n\n",
                    sink.address,
                    sink.target,
                    quoted(&sink.secret_name),
                );
                self.edit(sink.file, Edit::insert(at, text));
            }
            self.edit(
                sink.file,
                Edit {
                    range: value_span.clone(),
                    text: format!(
                        "provider::{}::ref(offstate_secret.{}.name)",
                        self.offstate_name(),
                        sink.target
                    ),
                    swallows: true,
                },
            );
            let start = span_of(sink.attr).start;
            let how = if sink.create {
                format!(
                    "a new `offstate_secret.{}` (secret `{}`)",
                    sink.target, sink.secret_name
                )
            } else {
                format!("`offstate_secret.{}`, which already holds it", sink.target)
            };
            self.note_edit(
                sink.file,
                start,
                EditKind::SecretReference,
                format!(
                    "`{}`: the value (`{}`) moves into {how}; the argument now holds its reference",
                    sink.address, sink.source
                ),
            );
            // `terraform_data.N.output` elsewhere, and `self.output` (or `self.ARG`) in the
            // resource's own provisioners, which now run with the reference.
            let consumers: Vec<String> = match sink.place {
                Place::TerraformData { name, arg } => self
                    .refs
                    .iter()
                    .filter(|r| {
                        let read = if r.root == "self" {
                            matches!(&r.site.owner, Owner::Resource { ty, name: n }
                                if ty == "terraform_data" && n == name)
                            .then(|| r.attr(0))
                            .flatten()
                        } else if r.resource_named("terraform_data") == Some(name) {
                            r.attr(1)
                        } else {
                            None
                        };
                        read.is_some_and(|read| read == arg || arg == "input" && read == "output")
                    })
                    .map(|r| r.describe_site())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            };
            let what = if matches!(sink.place, Place::Output { .. }) {
                format!("`{}` now yields a reference, not the value (so does `terraform output` and any `terraform_remote_state` reading it)", sink.address)
            } else if consumers.is_empty() {
                format!("`{}` now holds a reference, not the value", sink.address)
            } else if !matches!(sink.place, Place::TerraformData { arg: "input", .. }) {
                format!(
                    "`{}` now holds a reference, not the value, read in {}",
                    sink.address,
                    consumers.join(", ")
                )
            } else {
                format!(
                    "`{}` now holds a reference, not the value, and so does its `output`, read in {}",
                    sink.address,
                    consumers.join(", ")
                )
            };
            self.warn(sink.file, start, Hazard::NowAReference, format!(
                "{what}; where the value itself is needed, read it with `ephemeral \"offstate_secret_value\"` \
                 (a write-only argument, a provider or a provisioner accepts it)"
            ));
        }
        if !sinks.is_empty() {
            self.needs_offstate = Some(self.needs_offstate.unwrap_or(sinks[0].file));
        }
    }

    fn text_in(&self, file: usize, attr: &Attribute) -> String {
        self.src(file)[span_of(&attr.value)].trim().to_owned()
    }
}

/// Whether a value stores a secret, and whether it is always a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secret {
    No,
    /// A secret string: `value_wo` can take the expression as it is.
    Yes,
    /// A secret or something else, maybe null (a branch of a conditional, `one(...[*])`):
    /// a sink, but `value_wo` cannot take the expression.
    Maybe,
}

/// Whether `expr` is a secret: `var.X` of a sensitive variable, `random_password.X.result`, or
/// a secret attribute of a secret-reading data source; also of one instance
/// (`random_password.X[0].result`), through a local that is one (`local.pw`), in parentheses,
/// given to a function that returns its string (`nonsensitive(...)`) or to `coalesce` / `try`
/// among other values. A branch of a conditional and `one(random_password.X[*].result)` are
/// [`Secret::Maybe`].
fn secret_source(expr: &Expression, sensitive_vars: &BTreeSet<&str>, locals: &Locals) -> Secret {
    secret_source_in(expr, sensitive_vars, locals, &mut BTreeSet::new())
}

/// The `locals` of a module: name → value.
pub(super) type Locals<'a> = BTreeMap<&'a str, &'a Expression>;

/// [`secret_source`], with the locals already followed (a cycle is no source).
fn secret_source_in<'a>(
    expr: &'a Expression,
    sensitive_vars: &BTreeSet<&str>,
    locals: &Locals<'a>,
    seen: &mut BTreeSet<&'a str>,
) -> Secret {
    let mut of = |expr: &'a Expression| secret_source_in(expr, sensitive_vars, locals, seen);
    match expr {
        Expression::Parenthesis(inner) => of(inner.inner()),
        Expression::Conditional(c) => match (of(&c.true_expr), of(&c.false_expr)) {
            (Secret::Yes, Secret::Yes) => Secret::Yes,
            (Secret::No, Secret::No) => Secret::No,
            _ => Secret::Maybe,
        },
        Expression::FuncCall(call) if call.name.namespace.is_empty() => {
            let args: Vec<&'a Expression> = call.args.iter().collect();
            match (call.name.name.as_str(), args.as_slice()) {
                // Functions that give back the string they are given.
                ("nonsensitive" | "sensitive" | "tostring" | "trimspace", [arg]) => of(arg),
                // The first usable value, a string: the secret, or what stands in for it.
                ("coalesce" | "try", _) => {
                    if args.into_iter().any(|arg| of(arg) != Secret::No) {
                        Secret::Yes
                    } else {
                        Secret::No
                    }
                }
                // The one instance of a counted resource, or null.
                ("one", [Expression::Traversal(t)]) => {
                    match traversal_secret(t, true, sensitive_vars, locals, seen) {
                        Secret::No => Secret::No,
                        _ => Secret::Maybe,
                    }
                }
                _ => Secret::No,
            }
        }
        Expression::Traversal(t) => traversal_secret(t, false, sensitive_vars, locals, seen),
        _ => Secret::No,
    }
}

/// [`secret_source_in`] of a traversal; a splat (a list) only when `splat` says it is taken
/// apart.
fn traversal_secret<'a>(
    t: &'a hcl_edit::expr::Traversal,
    splat: bool,
    sensitive_vars: &BTreeSet<&str>,
    locals: &Locals<'a>,
    seen: &mut BTreeSet<&'a str>,
) -> Secret {
    let Expression::Variable(root) = &t.expr else {
        return Secret::No;
    };
    // Attribute names, `[]` for an index or a splat (`random_password.db[0].result`).
    let mut attrs: Vec<&str> = Vec::new();
    for op in &t.operators {
        match op.value() {
            TraversalOperator::GetAttr(name) => attrs.push(name.as_str()),
            TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_) => attrs.push("[]"),
            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) if splat => {
                attrs.push("[]")
            }
            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => return Secret::No,
        }
    }
    // An index right after the resource name picks an instance of a repeated one.
    fn unindexed<'s>(rest: &[&'s str]) -> Vec<&'s str> {
        rest.strip_prefix(&["[]"]).unwrap_or(rest).to_vec()
    }
    let secret = match (root.as_str(), attrs.as_slice()) {
        ("var", [name, ..]) => sensitive_vars.contains(name),
        ("local", [name]) => {
            return match locals.get(name) {
                Some(value) if seen.insert(name) => {
                    secret_source_in(value, sensitive_vars, locals, seen)
                }
                _ => Secret::No,
            }
        }
        ("random_password", [_, rest @ ..]) => unindexed(rest) == ["result"],
        ("data", [ty, _, rest @ ..]) => match unindexed(rest).as_slice() {
            [attr] => SECRET_DATA_SOURCES.contains(ty) && secret_attribute(ty, attr),
            _ => false,
        },
        _ => false,
    };
    if secret {
        Secret::Yes
    } else {
        Secret::No
    }
}

/// An HCL string literal for a secret name: the prefix is validated as a secret name
/// (`[A-Za-z0-9/_+=.@-]`), so nothing needs escaping.
/// Where the comment lines directly above the block at `pos` begin (the comment belongs to the
/// block, so a block inserted before it goes above the comment).
fn leading_comments_start(src: &str, pos: usize) -> usize {
    let mut at = line_start(src, pos);
    let mut in_block_comment = false;
    while at > 0 {
        let prev = line_start(src, at - 1);
        let line = src[prev..at].trim();
        let is_comment = if in_block_comment {
            if line.starts_with("/*") {
                in_block_comment = false;
            }
            true
        } else if line.ends_with("*/") {
            in_block_comment = !line.starts_with("/*");
            true
        } else {
            line.starts_with('#') || line.starts_with("//")
        };
        if !is_comment {
            break;
        }
        at = prev;
    }
    at
}

/// The attributes of a secret-reading data source that hold the secret.
fn secret_attribute(ty: &str, attr: &str) -> bool {
    match ty {
        "aws_secretsmanager_secret_version" => matches!(attr, "secret_string" | "secret_binary"),
        "aws_ssm_parameter" | "azurerm_key_vault_secret" => attr == "value",
        "vault_kv_secret_v2" => matches!(attr, "data" | "data_json"),
        "google_secret_manager_secret_version" => attr == "secret_data",
        "aws_eks_cluster_auth" => attr == "token",
        "google_client_config" => attr == "access_token",
        _ => is_secret_key(attr),
    }
}

fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}
