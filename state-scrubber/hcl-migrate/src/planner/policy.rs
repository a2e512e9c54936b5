//! Folding an `aws_secretsmanager_secret_policy` into the `offstate_secret`'s `policy`: whether it
//! can be, and the lines that carry it.

use super::repetition::{names_resource, same_repetition, secret_target};
use super::{key_start, reindent, span_of, Instance, Pair, Planner};
use crate::comments::comments_in;
use crate::edit::{indent_at, line_end, render};
use crate::module::{label, Owner};
use hcl_edit::structure::Block;

impl<'a> Planner<'a> {
    /// The `aws_secretsmanager_secret_policy` attached to the pair's secret that becomes the
    /// `offstate_secret`'s `policy` (and `block_public_policy`): one policy resource, repeated
    /// like the secret, with nothing `offstate_secret` lacks, read nowhere, its policy not
    /// reading the secret (it would read itself). Otherwise a note says why it stays, attached to
    /// `offstate_secret.N.arn` (an `offstate_secret` without `policy` leaves an attached policy
    /// alone).
    pub(super) fn fold_policy(&mut self, pair: &Pair<'a>) -> Option<(usize, &'a Block)> {
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

    /// The lines (each after a newline) that carry an `aws_secretsmanager_secret_policy`'s
    /// `policy` and `block_public_policy` into the `offstate_secret`, at `indent`, with the
    /// comments of its block.
    pub(super) fn folded_policy(&self, file: usize, policy: &Block, indent: &str) -> String {
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
}
