//! The `generate` block written into an `offstate_secret`: the `random_password`'s arguments and
//! comments, and a commented `jsonencode` value kept as `json_template`.

use super::{reindent, span_of, Generate, Planner};
use crate::comments::{comments_in, Comment};
use crate::edit::{indent_at, line_end, line_start, render};
use hcl_edit::expr::Expression;

/// A `jsonencode({...})` value with comments, which becomes `json_template` as written (less the
/// password's field) so that its comments and layout stay.
pub(super) struct CommentedTemplate {
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

impl<'a> Planner<'a> {
    /// The `generate` block for `offstate_secret`, at `indent`: the `random_password`'s
    /// arguments as written (`number` spelled `numeric`), its default punctuation named when it
    /// used it, and the `jsonencode` fields as `json_template` / `json_key`.
    pub(super) fn generate_block(&self, generate: &Generate<'a>, indent: &str) -> String {
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
}

/// How a `jsonencode` value with comments becomes `json_template` (see [`CommentedTemplate`]);
/// `None` when it has no comments. `value` is the version's argument, `object` the object and
/// `field` the password's field (key to value).
pub(super) fn commented_template(
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
