//! Secret-reading data sources and `random_password` resources that become `ephemeral` blocks:
//! which uses take an ephemeral value, the conversion, and the notes for those left as they are.

use super::{
    after_block, and_list, removed_block, span_of, version_newer, with_article, Candidate, Planner,
    SECRET_DATA_SOURCES,
};
use crate::edit::{line_end, line_start, Edit};
use crate::module::{describe_site, label, Meta, Owner, Reference};
use crate::report::{EditKind, Hazard};
use crate::table::is_write_only_key;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::Block;
use std::collections::{BTreeMap, BTreeSet, HashSet};

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

impl<'a> Planner<'a> {
    // ----- ephemeral ---------------------------------------------------------------------------

    /// Returns the candidates converted.
    pub(super) fn ephemeral(&mut self) -> BTreeSet<Candidate> {
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
            if let Some(reason) = self.attribute_without_twin(ty, name) {
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
        // A data source scoped to a `check` block is read into the state like any other (its
        // attributes are there after an apply: seen with Terraform 1.11), but Terraform accepts
        // no `ephemeral` block inside `check`. Moving it out changes what a failed read does (an
        // error instead of the check's warning), so that is left to the user, with the way.
        let checks: Vec<(usize, &Block)> = self.blocks("check").collect();
        for (file, check) in checks {
            let check_name = label(check, 0).unwrap_or_default();
            for block in check.body.get_blocks("data") {
                let (Some(ty), Some(name)) = (label(block, 0), label(block, 1)) else {
                    continue;
                };
                if !SECRET_DATA_SOURCES.contains(&ty) {
                    continue;
                }
                self.info(
                    file,
                    span_of(block).start,
                    format!(
                        "`data.{ty}.{name}` in `check \"{check_name}\"` not made ephemeral: a data source \
                         scoped to a check is stored in the state like any other, and Terraform accepts no \
                         `ephemeral` block inside `check`. To keep its value out of the state, move it out \
                         of the check as `ephemeral \"{ty}\" \"{name}\"` and read \
                         `ephemeral.{ty}.{name}` in the assertions (a check may read an ephemeral \
                         resource); a failed read is then an error of the run, not the check's warning"
                    ),
                );
            }
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
                if candidate.uses(self.refs).any(|r| {
                    self.verdict(r, &converting, false, &mut Vec::new())
                        .is_err()
                }) {
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
            let Some((reason, hazard)) = self.blocker(&uses, &converting, &by_hand, false) else {
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
            let blocked = self.blocker(&uses, &converting, &by_hand, false);
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
            let ty = match candidate {
                Candidate::Data { ty, .. } => ty.as_str(),
                Candidate::RandomPassword(_) => "random_password",
            };
            if let Some((table, version)) = ephemeral_first_version(ty) {
                let provider = self.resource_provider(file, block, ty, table);
                let needed = self.ephemeral_versions.entry(provider).or_default();
                if version_newer(version, needed) {
                    *needed = version.to_owned();
                }
            }
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
        let message = match self.blocker(&uses, &with_it, &candidate.by_hand(), false) {
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

    /// Why a block (or variable) with `uses` is not made ephemeral, given the candidates
    /// `converting`: the first use that rules it out by itself, with where it is, the module inputs
    /// it is also passed to (not checked: migrate does not follow a value into a module) and what
    /// to do; else every module input it is passed to, saying that those were not checked and
    /// that, if the module's variable is ephemeral, `by_hand` is the way. `None` when every use
    /// takes an ephemeral value. `validations`: the uses are of an input variable, which a
    /// variable's `validation` condition may read (see `verdict`).
    pub(super) fn blocker(
        &self,
        uses: &[&Reference],
        converting: &BTreeSet<Candidate>,
        by_hand: &str,
        validations: bool,
    ) -> Option<(String, Option<Hazard>)> {
        let mut inputs: Vec<String> = Vec::new();
        let mut refused: Option<Blocked> = None;
        for r in uses {
            match self.verdict(r, converting, validations, &mut Vec::new()) {
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

    /// Whether the use `r` accepts an ephemeral value. `Err` carries the reason and, for the
    /// classic hazards, which one it is. With `validations`, the `condition` of a variable's
    /// `validation` block takes the value: Terraform 1.11 and 1.15 (checked) evaluate an
    /// ephemeral variable, directly or through a local, in its own validation and in another
    /// variable's (1.9+), and keep the value out of the result. Its `error_message` does not:
    /// Terraform refuses to show a message built from an ephemeral value ("Error message refers
    /// to ephemeral values"), so such a message is a reason not to convert.
    fn verdict(
        &self,
        r: &Reference,
        converting: &BTreeSet<Candidate>,
        validations: bool,
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
                    if let Err(mut blocked) =
                        self.verdict(use_, converting, validations, seen_locals)
                    {
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
            Owner::Variable(variable) => {
                let field = match site.path.as_slice() {
                    [block, field] if block == "validation" => field.as_str(),
                    _ => "",
                };
                match field {
                    "condition" if validations => Ok(()),
                    "error_message" if validations => Err(Blocked::new(
                        format!(
                            "it is used in the `error_message` of a `validation` of variable `{variable}` at {at}: \
                             Terraform does not show a message built from an ephemeral value (it reports \
                             \"Error message refers to ephemeral values\" instead); take the value out of the message"
                        ),
                        None,
                    )),
                    _ => Err(Blocked::new(format!("it is used in {owner} at {at}"), None)),
                }
            }
            Owner::Other(kind) => Err(Blocked::new(
                format!("it is used in a `{kind}` block at {at}"),
                None,
            )),
        }
    }
}

impl Planner<'_> {
    /// Why a use of `data.{ty}.{name}` reads an attribute the ephemeral form of `ty` does not
    /// have, so that `ephemeral.{ty}.{name}` would not validate ("Unsupported attribute").
    /// From hashicorp/aws 5.100.0's schema (`terraform providers schema -json`): the data
    /// source `aws_eks_cluster_auth` has `id` (the cluster name), the ephemeral one only `name`
    /// (and `region` from 6.0) and `token`; `aws_ssm_parameter` has `id` and `insecure_value`
    /// the ephemeral one lacks; `aws_secretsmanager_secret_version` has `id` (`arn|version_id`).
    fn attribute_without_twin(&self, ty: &str, name: &str) -> Option<String> {
        let lacking: &[(&str, &str)] = match ty {
            "aws_eks_cluster_auth" => &[("id", "`name`")],
            "aws_ssm_parameter" => &[("id", "`name`"), ("insecure_value", "`value`")],
            "aws_secretsmanager_secret_version" => &[("id", "`arn` and `version_id`")],
            _ => return None,
        };
        let candidate = Candidate::Data {
            ty: ty.to_owned(),
            name: name.to_owned(),
        };
        let reason = candidate.uses(self.refs).find_map(|r| {
            // `data`, the type and the name are steps 0 and 1 after the root; an instance
            // key may stand before the attribute.
            let attr = r.steps.iter().skip(2).find_map(|step| match step {
                crate::module::Step::Attr(a, _) => Some(a.as_str()),
                crate::module::Step::Other(_) => None,
            })?;
            let (_, instead) = lacking.iter().find(|(a, _)| *a == attr)?;
            Some(format!(
                "`{attr}` ({}) has no counterpart in the ephemeral `{ty}`; read {instead} instead",
                r.describe_site()
            ))
        });
        reason
    }
}

/// The provider (its source, as the write-only table names it) and its first version with the
/// ephemeral form of `ty`, from the providers' changelogs: hashicorp/aws 5.77.0
/// (`aws_secretsmanager_secret_version`, PR #40009) and 5.81.0 (`aws_ssm_parameter`, PR #40313),
/// hashicorp/vault 5.0.0, hashicorp/google 7.6.0 (#24566), hashicorp/azurerm 4.11.0 (#28083),
/// hashicorp/random 3.7.0 (#625), hashicorp/aws 5.84.0 (`aws_eks_cluster_auth`, issue #40343),
/// hashicorp/google 7.10.0 (`google_client_config`, #24900: the data source's attributes, no
/// arguments).
fn ephemeral_first_version(ty: &str) -> Option<(&'static str, &'static str)> {
    Some(match ty {
        "aws_secretsmanager_secret_version" => ("hashicorp/aws", "5.77.0"),
        "aws_ssm_parameter" => ("hashicorp/aws", "5.81.0"),
        "vault_kv_secret_v2" => ("hashicorp/vault", "5.0.0"),
        "google_secret_manager_secret_version" => ("hashicorp/google", "7.6.0"),
        "azurerm_key_vault_secret" => ("hashicorp/azurerm", "4.11.0"),
        "random_password" => ("hashicorp/random", "3.7.0"),
        "aws_eks_cluster_auth" => ("hashicorp/aws", "5.84.0"),
        "google_client_config" => ("hashicorp/google", "7.10.0"),
        _ => return None,
    })
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
