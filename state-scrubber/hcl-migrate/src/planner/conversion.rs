//! The edits that turn a chosen pair into an `offstate_secret`: the secret block rewritten, the
//! value, its comments and `depends_on` carried over, a `moved` block, and `removed` blocks for
//! the version (and a folded policy or `random_password`).

use super::repetition::{is_var_attr, names_resource, repetition};
use super::{
    after_block, attr_step, body_insertion, literal_warning, reindent, removed_block, span_of,
    Pair, Planner, Repeat,
};
use crate::comments::{comments_in, Comment};
use crate::edit::{indent_at, line_end, line_start, render, Edit};
use crate::module::{label, Owner};
use crate::report::{EditKind, Hazard};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block};

impl<'a> Planner<'a> {
    // ----- offstate_secret edits ---------------------------------------------------------------

    pub(super) fn offstate(&mut self, pairs: &[Pair<'a>]) {
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
            } else if let Some(message) = literal_warning(
                &format!(
                    "`aws_secretsmanager_secret_version.{vname}.{}`",
                    pair.value.key.as_str()
                ),
                &pair.value.value,
            ) {
                self.warn(
                    pair.version_file,
                    span_of(pair.value).start,
                    Hazard::LiteralSecret,
                    message,
                );
            }
        }
        if let Some(first) = pairs.first() {
            self.needs_offstate = Some(first.secret_file);
            self.info(first.secret_file, 0, "`moved` across resource types needs Terraform >= 1.8 and the offstate provider's MoveResourceState".to_owned());
        }
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
