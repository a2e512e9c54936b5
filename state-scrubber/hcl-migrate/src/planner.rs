//! Decides the rewrites for one module and turns them into edits.
//!
//! Order matters: the `offstate_secret` pairs are chosen first (their version resource must not
//! also get the `secret_string_wo` twin, and a `random_password` that becomes a pair's `generate`
//! block must not also become ephemeral), then the write-only twins (they decide which arguments
//! will be write-only), then the ephemeral conversions (which need to know that), then the edits
//! that move text around (which render the smaller edits into the moved text).

use crate::comments::comments_in;
use crate::edit::{line_end, line_number, BodyInsertion, Edit};
use crate::module::{OtherFile, Reference, SourceFile, Step};
use crate::report::{EditKind, EditNote, Hazard, Note, Warning};
use crate::Options;
use generate_block::CommentedTemplate;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, BlockLabel};
use hcl_edit::Span;
use providers::{override_required_providers, JsonOffstate};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use twins::version_newer;

mod conversion;
mod ephemeral;
mod generate;
mod generate_block;
mod pairs;
mod policy;
mod providers;
mod readers;
mod repetition;
mod sinks;
mod terraform_version;
mod triggers;
mod twins;
mod variables;

/// Data sources that read a secret and have an ephemeral resource of the same name.
const SECRET_DATA_SOURCES: [&str; 7] = [
    "aws_secretsmanager_secret_version",
    "aws_ssm_parameter",
    "vault_kv_secret_v2",
    "google_secret_manager_secret_version",
    "azurerm_key_vault_secret",
    "aws_eks_cluster_auth",
    "google_client_config",
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
    /// Provider source → newest first-version needed by an `ephemeral` block we introduced.
    ephemeral_versions: BTreeMap<String, String>,
    /// The Terraform version an `ephemeral = true` migrate added to a variable needs.
    terraform_floor: Option<&'static str>,
    /// A file to add the `offstate` provider requirement to, once something needs it.
    needs_offstate: Option<usize>,
    /// Where migrate adds a `terraform` block of its own (file, position), when the module has
    /// none.
    added_terraform_block: Option<(usize, usize)>,
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
        ephemeral_versions: BTreeMap::new(),
        terraform_floor: None,
        needs_offstate: None,
        added_terraform_block: None,
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
    // A constraint the module declares that no version the write-only arguments and ephemeral
    // blocks work with meets. What each provider's version is needed for: write-only arguments
    // (Terraform 1.11), ephemeral blocks (1.10), or both.
    let mut needs: BTreeMap<String, (String, bool, bool)> = BTreeMap::new();
    for (wo, versions) in [
        (true, std::mem::take(&mut planner.provider_versions)),
        (false, std::mem::take(&mut planner.ephemeral_versions)),
    ] {
        for (provider, version) in versions {
            let need = needs
                .entry(provider)
                .or_insert_with(|| (version.clone(), false, false));
            if version_newer(&version, &need.0) {
                need.0 = version;
            }
            if wo {
                need.1 = true;
            } else {
                need.2 = true;
            }
        }
    }
    let what_needs = |wo: bool, eph: bool| match (wo, eph) {
        (true, true) => "the write-only arguments and ephemeral blocks introduced here need",
        (false, true) => "the ephemeral blocks introduced here need",
        _ => "the write-only arguments introduced here need",
    };
    let any_wo = needs.values().any(|n| n.1);
    let any_eph = needs.values().any(|n| n.2);
    // Write-only arguments are Terraform 1.11; ephemeral blocks 1.10, unless the provider that
    // has them needs a later Terraform itself.
    let terraform_for = |provider: &str, wo: bool| {
        if wo || provider_needs_terraform_1_11(provider) {
            "1.11"
        } else {
            "1.10"
        }
    };
    let terraform = if needs.iter().any(|(p, n)| terraform_for(p, n.1) == "1.11") {
        "1.11.0"
    } else {
        "1.10.0"
    };
    let mut required: Vec<(String, String, &str)> = needs
        .iter()
        .map(|(name, (version, wo, eph))| (name.clone(), version.clone(), what_needs(*wo, *eph)))
        .collect();
    if !required.is_empty() {
        required.push((
            "terraform".to_owned(),
            terraform.to_owned(),
            what_needs(any_wo, any_eph),
        ));
    }
    for (name, needed, what_needs) in &required {
        // An override file's `required_version` replaces the `.tf` files' (checked with it by
        // check_required_version).
        if name == "terraform" && planner.required_version_overridden() {
            continue;
        }
        for (file, pos, constraint) in planner.version_constraints(name) {
            if !constraint_admits(&constraint, needed) {
                let what = if name == "terraform" {
                    "`required_version`".to_owned()
                } else {
                    format!("the `version` of {name} in `required_providers`")
                };
                planner.warn(file, pos, Hazard::VersionConstraintExcludes, format!(
                        "{what} is {constraint:?}, which excludes {needed} and later, and {what_needs} \
                         {name} >= {needed}: `terraform init` would keep an older one, which rejects them; \
                         widen the constraint"
                    ));
            }
        }
    }
    // Terraform's own version: what everything introduced here needs, against what
    // `required_version` lets run.
    // The offstate provider takes its value as a write-only argument (Terraform 1.11).
    let mut needed_terraform: Option<(&str, &str)> = None;
    for (needed, what) in [
        (!required.is_empty()).then(|| (terraform, what_needs(any_wo, any_eph))),
        planner.needs_offstate.map(|_| {
            (
                "1.11.0",
                "the `offstate_secret` resources introduced here need",
            )
        }),
        planner
            .terraform_floor
            .map(|floor| (floor, "the ephemeral variables introduced here need")),
    ]
    .into_iter()
    .flatten()
    {
        if needed_terraform.is_none_or(|(most, _)| version_newer(needed, most)) {
            needed_terraform = Some((needed, what));
        }
    }
    if let Some((needed, what_needs)) = needed_terraform {
        planner.check_required_version(needed, what_needs, is_root);
    }
    for (provider, (version, wo, eph)) in needs {
        if let Some(first) = files.first() {
            let dir = first
                .path
                .parent()
                .map(|p| p.to_path_buf())
                .unwrap_or_default();
            let terraform = terraform_for(&provider, wo);
            planner.plan.infos.push(Note {
                path: dir,
                line: 0,
                message: format!(
                    "{} provider {provider} >= {version} and Terraform >= {terraform}",
                    what_needs(wo, eph)
                ),
            });
        }
    }
    planner.plan
}

impl Planner<'_> {
    /// The version constraints the module declares for `provider` (a source such as
    /// `hashicorp/aws`; `terraform` for `required_version`): file, position, constraint.
    fn version_constraints(&self, provider: &str) -> Vec<(usize, usize, String)> {
        let mut out = Vec::new();
        for (file, block) in self.blocks("terraform") {
            if provider == "terraform" {
                if let Some(attr) = block.body.get_attribute("required_version") {
                    if let Expression::String(s) = &attr.value {
                        out.push((file, key_start(attr), s.value().to_string()));
                    }
                }
                continue;
            }
            for entry in block
                .body
                .get_blocks("required_providers")
                .flat_map(|rp| rp.body.attributes())
            {
                let Expression::Object(object) = &entry.value else {
                    continue;
                };
                let field = |name: &str| {
                    object.iter().find_map(|(key, value)| {
                        let key = match key {
                            hcl_edit::expr::ObjectKey::Ident(ident) => ident.as_str().to_owned(),
                            hcl_edit::expr::ObjectKey::Expression(Expression::String(s)) => {
                                s.value().to_string()
                            }
                            hcl_edit::expr::ObjectKey::Expression(_) => return None,
                        };
                        match value.expr() {
                            Expression::String(s) if key == name => Some(s.value().to_string()),
                            _ => None,
                        }
                    })
                };
                // No source: the local name under hashicorp/.
                let source = field("source")
                    .unwrap_or_else(|| format!("hashicorp/{}", entry.key.as_str()))
                    .to_ascii_lowercase();
                let source = source
                    .strip_prefix("registry.terraform.io/")
                    .unwrap_or(&source);
                if source != provider {
                    continue;
                }
                if let Some(constraint) = field("version") {
                    out.push((file, key_start(entry), constraint));
                }
            }
        }
        out
    }
}

/// Whether every version of `provider` that has the write-only arguments or ephemeral blocks
/// migrate writes needs Terraform 1.11 or later, ephemeral blocks alone included: hashicorp/vault
/// 5.0.0 (the first with ephemeral `vault_kv_secret_v2` and `data_json_wo`) requires Terraform
/// 1.11 (its CHANGELOG for 5.0.0), although ephemeral resources themselves are Terraform 1.10.
fn provider_needs_terraform_1_11(provider: &str) -> bool {
    provider == "hashicorp/vault"
}

/// Whether some version from `needed` on meets `constraint` (Terraform's syntax: comma-separated
/// `=`, `!=`, `>`, `>=`, `<`, `<=`, `~>` or a bare version). Anything not understood admits.
fn constraint_admits(constraint: &str, needed: &str) -> bool {
    fn parse(v: &str) -> Option<Vec<u64>> {
        let v = v.trim().trim_start_matches('v');
        // A pre-release or build suffix does not change the numbers compared here.
        let v = v.split(['-', '+']).next()?;
        v.split('.').map(|p| p.parse().ok()).collect()
    }
    fn padded(v: &[u64]) -> [u64; 3] {
        [0, 1, 2].map(|i| v.get(i).copied().unwrap_or(0))
    }
    let Some(needed) = parse(needed).map(|v| padded(&v)) else {
        return true;
    };
    // The smallest version allowed from `needed` on, and the bounds above it.
    let mut low = needed;
    let mut uppers: Vec<([u64; 3], bool)> = Vec::new();
    for part in constraint.split(',') {
        let part = part.trim();
        let (op, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
            .iter()
            .find_map(|op| part.strip_prefix(op).map(|rest| (*op, rest)))
            .unwrap_or(("=", part));
        let Some(v) = parse(rest) else {
            return true;
        };
        let version = padded(&v);
        match op {
            // `> x`: the next version, as far as bounds go.
            ">" => low = low.max([version[0], version[1], version[2] + 1]),
            ">=" => low = low.max(version),
            "<" => uppers.push((version, false)),
            "<=" => uppers.push((version, true)),
            "=" => {
                low = low.max(version);
                uppers.push((version, true));
            }
            "~>" => {
                low = low.max(version);
                // `~> 5.0` allows 5.x, `~> 5.0.1` 5.0.x, `~> 5` 5.x.
                let upper = match v.len() {
                    0..=2 => [version[0] + 1, 0, 0],
                    _ => [version[0], version[1] + 1, 0],
                };
                uppers.push((upper, false));
            }
            _ => {}
        }
    }
    uppers
        .iter()
        .all(|(upper, inclusive)| low < *upper || (*inclusive && low == *upper))
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

/// How a secret argument's value is written when nothing in it is a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Literal {
    /// A string, or an object or tuple of literals (`data = { password = "..." }`): plan JSON
    /// shows it as the expression's `constant_value`.
    Plain,
    /// An encoding function of literals (`jsonencode({ password = "..." })`): plan JSON shows no
    /// `constant_value`, but the configuration, and the copy of it a saved plan holds, have it.
    Built,
}

/// What `expr` is as a [`Literal`], when it holds a string and reads nothing (`null` alone and
/// `{}` are not secrets).
fn literal(expr: &Expression) -> Option<Literal> {
    /// (a string is in it, a function builds it); `None` when something is read.
    fn walk(expr: &Expression) -> Option<(bool, bool)> {
        let all = |parts: Vec<Option<(bool, bool)>>| {
            parts.into_iter().try_fold((false, false), |(s, b), p| {
                p.map(|(ps, pb)| (s || ps, b || pb))
            })
        };
        match expr {
            Expression::String(_) => Some((true, false)),
            Expression::StringTemplate(t) => {
                t.iter().all(|e| e.is_literal()).then_some((true, false))
            }
            Expression::HeredocTemplate(h) => h
                .template
                .iter()
                .all(|e| e.is_literal())
                .then_some((true, false)),
            Expression::Null(_) | Expression::Bool(_) | Expression::Number(_) => {
                Some((false, false))
            }
            Expression::Parenthesis(p) => walk(p.inner()),
            Expression::Array(items) => all(items.iter().map(walk).collect()),
            Expression::Object(object) => all(object
                .iter()
                .flat_map(|(key, value)| {
                    let key = match key {
                        hcl_edit::expr::ObjectKey::Ident(_) => Some((false, false)),
                        hcl_edit::expr::ObjectKey::Expression(e) => walk(e),
                    };
                    [key, walk(value.expr())]
                })
                .collect()),
            // Functions whose result is only their arguments, re-encoded.
            Expression::FuncCall(call)
                if call.name.namespace.is_empty()
                    && matches!(
                        call.name.name.as_str(),
                        "jsonencode"
                            | "yamlencode"
                            | "base64encode"
                            | "textencodebase64"
                            | "tostring"
                            | "tomap"
                            | "tolist"
                            | "format"
                            | "join"
                            | "trimspace"
                            | "chomp"
                    ) =>
            {
                all(call.args.iter().map(walk).collect()).map(|(s, _)| (s, true))
            }
            _ => None,
        }
    }
    match walk(expr)? {
        (false, _) => None,
        (true, false) => Some(Literal::Plain),
        (true, true) => Some(Literal::Built),
    }
}

/// The warning for a secret argument written as a literal (`what` names it), if it is one.
fn literal_warning(what: &str, expr: &Expression) -> Option<String> {
    Some(match literal(expr)? {
        Literal::Plain => format!(
            "{what} is a literal: it stays in the configuration and in plan JSON; pass it in through an ephemeral \
             variable or resource"
        ),
        Literal::Built => format!(
            "{what} is built from literals: it stays in the configuration (and in the copy of it a saved plan \
             holds); pass it in through an ephemeral variable or resource"
        ),
    })
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
            if let Some(target) = &o.outside {
                return (
                    format!(
                        "`{file}` mentions it, and migrate does not rewrite it: it is a symlink to {}, outside the \
                         directory migrated, and other configurations that link that file were not checked",
                        target.display()
                    ),
                    "migrate a directory that holds that file and every configuration linking it (each is checked \
                     then), or give this module a copy of its own"
                        .to_owned(),
                );
            }
            if crate::module::is_tofu(&file) {
                return (
                    format!(
                        "`{file}` mentions it, and migrate does not rewrite override, `.tf.json` or OpenTofu (`.tofu`, \
                         `.tofu.json`) files"
                    ),
                    format!(
                        "move what `{file}` says of it into a `.tf` file (OpenTofu reads those too; remove a `.tofu` \
                         file that stands in for the `.tf` file of its name, or change it by hand as migrate changes \
                         that one)"
                    ),
                );
            }
            (
                format!(
                    "`{file}` mentions it, and migrate does not rewrite override, `.tf.json` or OpenTofu (`.tofu`, \
                     `.tofu.json`) files"
                ),
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

    /// Where the use `r` is, as `file:line`.
    fn at(&self, r: &Reference) -> String {
        format!(
            "{}:{}",
            self.files[r.file].path.display(),
            self.line(r.file, r.root_span.start)
        )
    }
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

/// Terraform's identifiers (hclsyntax.ValidIdentifier): a letter or `_`, then letters, digits,
/// `_` and `-`.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}
