//! Whether a pair's `random_password` becomes the `offstate_secret`'s `generate` block, and, when
//! it does not, why and what to do.

use super::generate_block::commented_template;
use super::repetition::{is_var_attr, repetition, BOTH_REPEATS};
use super::{
    and_list, key_start, span_of, with_article, Candidate, Generate, Pair, Planner, Repeat,
};
use crate::module::{label, Meta, Owner, Reference};
use crate::table::is_secret_key;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};

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

impl<'a> Planner<'a> {
    /// Whether the pair's value is a `random_password` that `offstate_secret` can generate
    /// itself: `random_password.X.result`, or `jsonencode({...})` with it as the only
    /// non-literal field; X used nowhere else (but `depends_on`), repeated like the secret, with
    /// only arguments that `generate` has. `Err` is (file, position, X, why not).
    #[allow(clippy::type_complexity)]
    pub(super) fn plan_generate(
        &self,
        pair: &Pair<'a>,
    ) -> Result<Option<Generate<'a>>, GenerateRefused> {
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
}

/// Why a pair's `random_password` does not become its `generate` block (a note), and what to do
/// when something can be done.
pub(super) struct GenerateRefused {
    pub(super) file: usize,
    pub(super) pos: usize,
    pub(super) password: String,
    pub(super) reason: String,
    pub(super) step: Option<String>,
}

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

/// The step that ends a note refusing `generate`: `action`, then migrate again while the pair
/// still converts (`generate` is made only then).
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
