//! The `_wo_version` trigger of a write-only value that may be null: conditions copied from the
//! value, and the other ways it may be null that a warning names.

use super::{span_of, Planner};
use crate::module::label;
use hcl_edit::expr::{Expression, TraversalOperator};

/// The version trigger for a write-only value that is `null` on a branch of a conditional
/// (`c ? null : v`, nested and parenthesised too): the same conditions with `null` there and `1`
/// elsewhere, and the ranges of the conditions it copies. `Ok(None)`: never null that way (the
/// trigger is `1`). `Err`: a condition spans lines (copied, it would make the trigger's line a
/// multi-line expression).
#[allow(clippy::type_complexity)]
pub(super) fn null_branch_trigger(
    src: &str,
    expr: &Expression,
) -> Result<Option<(String, Vec<std::ops::Range<usize>>)>, ()> {
    fn walk(
        src: &str,
        expr: &Expression,
        top: bool,
        conditions: &mut Vec<std::ops::Range<usize>>,
    ) -> Result<Option<String>, ()> {
        let mut expr = expr;
        while let Expression::Parenthesis(inner) = expr {
            expr = inner.inner();
        }
        match expr {
            Expression::Null(_) => Ok(Some("null".to_owned())),
            Expression::Conditional(cond) => {
                let t = walk(src, &cond.true_expr, false, conditions)?;
                let f = walk(src, &cond.false_expr, false, conditions)?;
                if t.is_none() && f.is_none() {
                    return Ok(None);
                }
                let range = span_of(&cond.cond_expr);
                let text = src[range.clone()].trim();
                if text.contains('\n') {
                    return Err(());
                }
                conditions.push(range);
                let text = format!(
                    "{text} ? {} : {}",
                    t.as_deref().unwrap_or("1"),
                    f.as_deref().unwrap_or("1")
                );
                Ok(Some(if top { text } else { format!("({text})") }))
            }
            _ => Ok(None),
        }
    }
    let mut conditions = Vec::new();
    Ok(walk(src, expr, true, &mut conditions)?
        .filter(|text| text != "null")
        .map(|text| (text, conditions)))
}

impl<'a> Planner<'a> {
    /// Why a value may be null other than on a conditional's `null` branch, and how to name it
    /// in an example (a variable by name; anything else, which may hold a literal, is not shown).
    pub(super) fn may_be_null(&self, expr: &Expression) -> Option<(String, String)> {
        let mut expr = expr;
        while let Expression::Parenthesis(inner) = expr {
            expr = inner.inner();
        }
        match expr {
            Expression::Conditional(cond) => self
                .may_be_null(&cond.true_expr)
                .or_else(|| self.may_be_null(&cond.false_expr))
                .map(|(why, _)| (why, "<the value>".to_owned())),
            Expression::FuncCall(call)
                if call.name.namespace.is_empty()
                    && matches!(call.name.name.as_str(), "try" | "lookup")
                    && call.args.iter().any(Expression::is_null) =>
            {
                Some((
                    format!("`{}` gives null", call.name.name.as_str()),
                    "<the value>".to_owned(),
                ))
            }
            // `one` gives null for an empty list (`one(var.passwords)`, `one(X[*].y)` of a
            // resource whose `count` may be 0); `coalesce` never does (it fails instead).
            Expression::FuncCall(call)
                if call.name.namespace.is_empty()
                    && call.name.name.as_str() == "one"
                    && call.args.len() == 1
                    && !call.args.get(0).is_some_and(
                        |a| matches!(a, Expression::Array(items) if !items.is_empty()),
                    ) =>
            {
                Some((
                    "`one` gives null for an empty list".to_owned(),
                    "<the value>".to_owned(),
                ))
            }
            Expression::Traversal(traversal) => {
                let Expression::Variable(root) = &traversal.expr else {
                    return None;
                };
                let [op] = traversal.operators.as_slice() else {
                    return None;
                };
                let TraversalOperator::GetAttr(var) = op.value() else {
                    return None;
                };
                if root.as_str() != "var" {
                    return None;
                }
                let defaults_null = self.blocks("variable").any(|(_, block)| {
                    label(block, 0) == Some(var.as_str())
                        && block
                            .body
                            .get_attribute("default")
                            .is_some_and(|d| d.value.is_null())
                });
                defaults_null.then(|| {
                    (
                        format!("`var.{}` defaults to null", var.as_str()),
                        format!("var.{}", var.as_str()),
                    )
                })
            }
            _ => None,
        }
    }
}
