//! What may read an argument that becomes write-only: attributes that read its value back, and
//! the uses of the whole resource that read nothing of it.

use crate::module::SourceFile;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::Span;
use std::collections::HashSet;

/// Whether attribute `other` of `ty` reads back the value of `attribute` (and so turns empty with
/// it when the value is write-only): tfe_variable's `readable_value`, vault_kv_secret_v2's `data`
/// (`data_json` decoded).
pub(super) fn mirrors(ty: &str, attribute: &str, other: &str) -> bool {
    matches!(
        (ty, attribute, other),
        ("tfe_variable", "value", "readable_value") | ("vault_kv_secret_v2", "data_json", "data")
    )
}

/// The (file, root offset) of each use of the whole resource `ty.name` (no attribute after the
/// name) that reads nothing of `attribute`: the collection of a `for` expression whose body reads
/// neither that attribute of its element nor the element whole, the argument of `length` or
/// `keys`, and that of `values` read for another attribute (`values(T.N)[*].arn`). Every other whole use may pass the attribute on.
pub(super) fn whole_uses_without(
    files: &[SourceFile],
    ty: &str,
    name: &str,
    attribute: &str,
    mirror: bool,
) -> HashSet<(usize, usize)> {
    use hcl_edit::expr::{ForExpr, FuncCall, Traversal};
    use hcl_edit::visit::{self, Visit};

    /// The root's offset when `expr` is `ty.name`, indexed or splat but with no attribute.
    fn whole_start(expr: &Expression, ty: &str, name: &str) -> Option<usize> {
        let mut expr = expr;
        while let Expression::Parenthesis(inner) = expr {
            expr = inner.inner();
        }
        let Expression::Traversal(traversal) = expr else {
            return None;
        };
        let Expression::Variable(root) = &traversal.expr else {
            return None;
        };
        let mut ops = traversal.operators.iter().map(|op| op.value());
        let named = root.as_str() == ty
            && matches!(ops.next(), Some(TraversalOperator::GetAttr(n)) if n.as_str() == name);
        (named && ops.all(|op| !matches!(op, TraversalOperator::GetAttr(_))))
            .then(|| traversal.expr.span().map_or(0, |s| s.start))
    }

    /// Whether an expression reads `var.attribute`, or `var` other than by attribute.
    struct Reads<'a> {
        var: &'a str,
        ty: &'a str,
        attribute: &'a str,
        /// Whether `ty`'s read-back attribute ([`mirrors`]) holds the value here.
        mirror: bool,
        found: bool,
    }
    impl Visit for Reads<'_> {
        fn visit_traversal(&mut self, node: &Traversal) {
            if matches!(&node.expr, Expression::Variable(v) if v.as_str() == self.var) {
                match node.operators.first().map(|op| op.value()) {
                    Some(TraversalOperator::GetAttr(a))
                        if a.as_str() != self.attribute
                            && !(self.mirror && mirrors(self.ty, self.attribute, a.as_str())) => {}
                    _ => self.found = true,
                }
                for op in &node.operators {
                    self.visit_traversal_operator(op);
                }
            } else {
                visit::visit_traversal(self, node);
            }
        }
        fn visit_expr(&mut self, node: &Expression) {
            match node {
                Expression::Variable(v) if v.as_str() == self.var => self.found = true,
                _ => visit::visit_expr(self, node),
            }
        }
    }

    struct Finder<'a> {
        ty: &'a str,
        name: &'a str,
        attribute: &'a str,
        mirror: bool,
        file: usize,
        out: HashSet<(usize, usize)>,
    }
    impl Visit for Finder<'_> {
        fn visit_for_expr(&mut self, node: &ForExpr) {
            if let Some(start) = whole_start(&node.intro.collection_expr, self.ty, self.name) {
                let mut reads = Reads {
                    var: node.intro.value_var.as_str(),
                    ty: self.ty,
                    attribute: self.attribute,
                    mirror: self.mirror,
                    found: false,
                };
                if let Some(key) = &node.key_expr {
                    reads.visit_expr(key);
                }
                reads.visit_expr(&node.value_expr);
                if let Some(cond) = &node.cond {
                    reads.visit_expr(&cond.expr);
                }
                if !reads.found {
                    self.out.insert((self.file, start));
                }
            }
            visit::visit_for_expr(self, node);
        }
        fn visit_func_call(&mut self, node: &FuncCall) {
            if node.name.namespace.is_empty()
                && matches!(node.name.name.as_str(), "length" | "keys")
            {
                for arg in node.args.iter() {
                    if let Some(start) = whole_start(arg, self.ty, self.name) {
                        self.out.insert((self.file, start));
                    }
                }
            }
            visit::visit_func_call(self, node);
        }
        // `values(T.N)[*].arn`: another attribute of every instance.
        fn visit_traversal(&mut self, node: &Traversal) {
            if let Expression::FuncCall(call) = &node.expr {
                let first_attr = node.operators.iter().find_map(|op| match op.value() {
                    TraversalOperator::GetAttr(a) => Some(a.as_str()),
                    _ => None,
                });
                if call.name.namespace.is_empty()
                    && call.name.name.as_str() == "values"
                    && first_attr.is_some_and(|a| a != self.attribute)
                {
                    for arg in call.args.iter() {
                        if let Some(start) = whole_start(arg, self.ty, self.name) {
                            self.out.insert((self.file, start));
                        }
                    }
                }
            }
            visit::visit_traversal(self, node);
        }
        // hcl-edit 0.10's default walk of `%{ for x in EXPR }` skips EXPR.
        fn visit_for_template_expr(&mut self, node: &hcl_edit::template::ForTemplateExpr) {
            self.visit_expr(&node.collection_expr);
            visit::visit_for_template_expr(self, node);
        }
    }

    let mut finder = Finder {
        ty,
        name,
        attribute,
        mirror,
        file: 0,
        out: HashSet::new(),
    };
    for (file, source) in files.iter().enumerate() {
        finder.file = file;
        finder.visit_body(&source.body);
    }
    finder.out
}
