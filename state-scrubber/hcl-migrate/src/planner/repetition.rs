//! How a version, policy or password names its secret's instance, and whether it is repeated
//! (`count` / `for_each`) like the secret.

use super::{Instance, Repeat};
use crate::module::label;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::Block;

/// Why a block with both `count` and `for_each` is not converted (the step follows).
pub(super) const BOTH_REPEATS: &str =
    "it sets both `count` and `for_each`, which Terraform refuses too \
                            (`Invalid combination of \"count\" and \"for_each\"`)";

/// A block's `count` or `for_each`.
pub(super) fn repetition(block: &Block) -> Result<Repeat<'_>, String> {
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

/// `root.name` (a variable and one attribute), e.g. `count.index`, `each.key`.
pub(super) fn is_var_attr(expr: &Expression, root: &str, name: &str) -> bool {
    matches!(expr, Expression::Traversal(t)
        if matches!(&t.expr, Expression::Variable(v) if v.as_str() == root)
            && t.operators.len() == 1
            && matches!(t.operators[0].value(), TraversalOperator::GetAttr(n) if n.as_str() == name))
}

/// `aws_secretsmanager_secret.<name>`, the whole resource.
pub(super) fn names_resource(expr: &Expression, name: &str) -> bool {
    is_var_attr(expr, "aws_secretsmanager_secret", name)
}

/// The secret a version's `secret_id` names (by `id`, `arn` or `name`: `secret_id` takes the
/// secret's ARN or name), and how it picks the instance.
pub(super) fn version_target(version: &Block) -> Option<(&str, Instance<'_>)> {
    secret_target(version, "secret_id")
}

/// The secret (and instance) that `block`'s argument `key` names by `id` or `arn` (and, for
/// `secret_id`, which takes a name too, by `name`; a policy's `secret_arn` is an ARN).
pub(super) fn secret_target<'b>(version: &'b Block, key: &str) -> Option<(&'b str, Instance<'b>)> {
    let Expression::Traversal(t) = &version.body.get_attribute(key)?.value else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    let ops: Vec<&TraversalOperator> = t.operators.iter().map(|op| op.value()).collect();
    let id_or_arn = |op: &TraversalOperator| {
        matches!(op, TraversalOperator::GetAttr(n)
            if matches!(n.as_str(), "id" | "arn") || (key == "secret_id" && n.as_str() == "name"))
    };
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
pub(super) fn same_repetition(
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
