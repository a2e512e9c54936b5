//! The write-only twin rewrite: `password` → `password_wo` (+ its `_wo_version` trigger) where
//! the secret-attribute table has a twin and nothing is in the way (a read of the plain argument,
//! `ignore_changes`, a file migrate does not rewrite).

use super::readers::{mirrors, whole_uses_without};
use super::triggers::null_branch_trigger;
use super::{after_block, literal_warning, span_of, CopiedCondition, Planner};
use crate::comments::{comments_in, Comment};
use crate::edit::{indent_at, line_end, line_start, Edit};
use crate::module::{label, Meta, Owner, Reference, Step};
use crate::report::{EditKind, Hazard};
use crate::table::{rules_for, WriteOnlyRule};
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use std::collections::HashSet;

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

pub(super) fn version_newer(a: &str, b: &str) -> bool {
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
    /// A body that sets the write-only twin and still the plain argument (migrated by hand,
    /// half way): the provider refuses the two together (they conflict). A warning at the plain
    /// argument saying which to remove; the value is not quoted.
    fn both_set(&mut self, file: usize, ty: &str, name: &str, rule: &WriteOnlyRule, body: &Body) {
        let Some(attr) = body.get_attribute(rule.attribute()) else {
            return;
        };
        if attr.value.is_null() {
            return;
        }
        let parent = rule.path[..rule.path.len() - 1]
            .iter()
            .map(|step| format!(".{step}"))
            .collect::<String>();
        let (plain, twin) = (rule.attribute(), rule.twin.as_str());
        // The provider refuses the two only when both are set. One that may be null (a variable
        // defaulting to null, a conditional with a `null` branch, `try(..., null)`) is a module
        // offering both forms and its caller choosing one at run time
        // (terraform-aws-modules/secrets-manager: `secret_string = var.secret_string` beside
        // `secret_string_wo = var.secret_string_wo`, both defaulting to null): not a conflict
        // to remove, but a plain form that stores whatever is given to it.
        let src = self.files[file].src.as_str();
        // A module's output is the same choice one level down (the module's own variable
        // defaulting to null), which migrate does not read: it may be null.
        let nullable = |expr: &Expression| {
            self.may_be_null(expr)
                .map(|(why, _)| why)
                .or_else(|| {
                    module_output(expr)
                        .map(|out| format!("`{out}` is a module output, which may be null"))
                })
                .or_else(|| match null_branch_trigger(src, expr) {
                    Ok(None) => None,
                    _ => Some("a branch of it is `null`".to_owned()),
                })
        };
        let twin_value = body.get_attribute(twin).map(|a| &a.value);
        let why = nullable(&attr.value)
            .map(|why| (plain, why))
            .or_else(|| twin_value.and_then(nullable).map(|why| (twin, why)));
        if let Some((which, why)) = why {
            self.info(
                file,
                span_of(&attr.key).start,
                format!(
                "`{ty}.{name}{parent}` sets both `{plain}` and `{twin}`; `{which}` may be null \
                 ({why}), so the two may be a choice made at run time (the provider refuses them \
                 only when both are set): migrate left both as they are; a value given to \
                 `{plain}` is stored in the state, so give it to `{twin}` instead"
            ),
            );
            return;
        }
        let keep = match &rule.version {
            Some(version) if body.has_attribute(version) => {
                format!(" and keep `{}` and `{version}` as they are", rule.twin)
            }
            Some(version) => format!(
                " and keep `{}`, with `{version} = 1` (change it to send a new value)",
                rule.twin
            ),
            None => format!(" and keep `{}`", rule.twin),
        };
        self.warn(file, span_of(&attr.key).start, Hazard::BothForms, format!(
            "`{ty}.{name}{parent}` sets both `{plain}` and `{twin}`, which the provider refuses together (they \
             conflict): remove `{plain}`{keep}; migrate left both as they are"
        ));
    }

    // ----- write-only twins --------------------------------------------------------------------

    pub(super) fn write_only_twins(&mut self, skip: &HashSet<(usize, usize)>) {
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
                        self.both_set(file, ty, name, rule, body);
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
                    // `self` in the resource's own provisioner, connection or condition
                    // names it too (its steps have no name to skip).
                    let own = |r: &Reference| {
                        r.root == "self"
                            && matches!(&r.site.owner, Owner::Resource { ty: t, name: n }
                                if t == ty && n == name)
                    };
                    let after_name = |r: &Reference| usize::from(!own(r));
                    let mut harmless = None;
                    let reader = self.refs.iter().find(|r| {
                        if r.resource_named(ty) != Some(name) && !own(r) {
                            return false;
                        }
                        if r.steps.iter().skip(after_name(r)).any(|step| {
                            matches!(step, Step::Attr(a, _)
                                    if a == rule.attribute() || mirrors(a))
                        }) {
                            return true;
                        }
                        let whole = r
                            .steps
                            .iter()
                            .skip(after_name(r))
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
                        !r.steps.iter().skip(after_name(r)).any(|step| {
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
                    let provider = self.resource_provider(file, block, ty, &rule.provider);
                    let needed = self.provider_versions.entry(provider).or_default();
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
                    if let Some(message) = literal_warning(&format!("`{path}`"), &attr.value) {
                        self.warn(file, key.start, Hazard::LiteralSecret, message);
                    }
                }
            }
        }
    }
}

/// `module.NAME.OUTPUT` (parentheses and an instance key allowed) as written, else `None`.
fn module_output(expr: &Expression) -> Option<String> {
    let mut expr = expr;
    while let Expression::Parenthesis(inner) = expr {
        expr = inner.inner();
    }
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    if root.as_str() != "module" {
        return None;
    }
    let names: Vec<&str> = t
        .operators
        .iter()
        .filter_map(|op| match op.value() {
            TraversalOperator::GetAttr(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    match names.as_slice() {
        [module, output, ..] => Some(format!("module.{module}.{output}")),
        _ => None,
    }
}
