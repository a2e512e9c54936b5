//! Which `aws_secretsmanager_secret` + `aws_secretsmanager_secret_version` pairs become an
//! `offstate_secret`, and, for each one left as it is, why not and what to do.

use super::generate::GenerateRefused;
use super::repetition::{names_resource, repetition, same_repetition, version_target};
use super::{and_list, attr_step, key_start, span_of, Instance, Pair, Planner, Repeat};
use crate::edit::line_number;
use crate::module::{label, Meta, Owner, Reference};
use hcl_edit::structure::{Attribute, Block};

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

impl<'a> Planner<'a> {
    // ----- offstate_secret pairs ---------------------------------------------------------------

    pub(super) fn choose_pairs(&mut self) -> Vec<Pair<'a>> {
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
                // A version whose `secret_id` names the secret in a form `version_target` does
                // not read (`join("", aws_secretsmanager_secret.N.*.id)`, older modules' way
                // with `count`; `one(...[*].id)`, `element(...)`) does set its value: saying
                // none does, and to rewrite the secret by hand, would leave that version naming
                // a resource that is gone, its value in the state.
                [] => match self.refs.iter().find_map(|r| match &r.site.owner {
                    Owner::Resource { ty, name: vname }
                        if ty == "aws_secretsmanager_secret_version"
                            && r.site.path == ["secret_id"]
                            && r.resource_named("aws_secretsmanager_secret") == Some(name) =>
                    {
                        Some((vname.clone(), self.at(r)))
                    }
                    _ => None,
                }) {
                    Some((vname, at)) => reasons.push(format!(
                        "`aws_secretsmanager_secret_version.{vname}` (at {at}) sets its value, but its `secret_id` \
                         names it in a form migrate does not follow; to convert the pair, write {} and migrate again",
                        match repeat {
                            Repeat::Once => format!("`secret_id = aws_secretsmanager_secret.{name}.id`"),
                            Repeat::Count(_) => format!(
                                "`secret_id = aws_secretsmanager_secret.{name}[count.index].id` with the secret's `count`"
                            ),
                            Repeat::ForEach(_) => format!(
                                "`secret_id = aws_secretsmanager_secret.{name}[each.key].id` with the secret's `for_each`"
                            ),
                        }
                    )),
                    None => reasons.push(no_version_reason(name)),
                },
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
