//! A plan's `configuration`: literals in resources, provisioners, provider blocks, module calls,
//! variable defaults and outputs.

use super::address::resource_head;
use super::findings::{Pos, Site};
use super::outputs::{declared, VARIABLE_FIX};
use super::scanner::Scanner;
use super::walk::walk_nodes;
use crate::detect::{Ctx, Detection, Mark, Step};
use crate::finding::Address;
use crate::json::{Dom, Kind as JKind, NodeId};
use crate::table::{Row, Table, GENERIC_FIX};
use std::borrow::Cow;

/// A value found in configuration expressions: path, attribute path, position, detections.
type ExprHit<'s> = (Vec<Step<'s>>, Vec<Step<'s>>, Pos, Vec<Detection>);

impl<'e> Scanner<'e> {
    /// Plan `configuration`: literal `constant_value`s of resources and provider blocks, variable
    /// defaults; collects the names of sensitive root variables.
    pub(super) fn configuration(
        &mut self,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        unit: &str,
        sensitive_vars: &mut Vec<String>,
    ) {
        if let Some(pc) = dom.get(src, id, "provider_config") {
            for (k, prov) in dom.members(pc) {
                let Some(key) = dom.str(src, k) else { continue };
                let name = dom
                    .get(src, prov, "name")
                    .and_then(|n| dom.str(src, n))
                    .map(|c| c.into_owned())
                    .unwrap_or_else(|| key.to_string());
                let Some(expr) = dom.get(src, prov, "expressions") else {
                    continue;
                };
                let address = Address {
                    mode: "provider".into(),
                    name: key.to_string(),
                    ..Default::default()
                };
                let rows = self.engine.table.for_type(&format!("provider.{name}"));
                let rel = [
                    Step::Key(Cow::Borrowed("provider_config")),
                    Step::Key(Cow::Owned(key.to_string())),
                    Step::Key(Cow::Borrowed("expressions")),
                ];
                self.expressions(src, dom, expr, &address, unit, &rel, &[], &rows, &[]);
            }
        }
        if let Some(root) = dom.get(src, id, "root_module") {
            if let Some(vars) = dom.get(src, root, "variables") {
                for (k, v) in dom.members(vars) {
                    if dom
                        .get(src, v, "sensitive")
                        .is_some_and(|n| dom.node(n).kind == JKind::Bool(true))
                    {
                        if let Some(n) = dom.str(src, k) {
                            sensitive_vars.push(n.into_owned());
                        }
                    }
                }
            }
            let rel = vec![Step::Key(Cow::Borrowed("root_module"))];
            self.config_module(src, dom, root, unit, rel, String::new());
        }
    }

    /// A literal in a module's configuration: `decl` is the block (a variable or an output)
    /// named `name` under the module's `section`, `value` its literal at `tail` below it. It is
    /// read as the `configuration` section, marked sensitive as a whole when the block says
    /// `sensitive = true`.
    #[allow(clippy::too_many_arguments)]
    fn config_literal<'s>(
        &mut self,
        src: &'s [u8],
        dom: &Dom,
        decl: NodeId,
        value: NodeId,
        unit: &str,
        rel: &[Step<'s>],
        module_addr: &str,
        mode: &str,
        section: &'static str,
        name: &str,
        tail: &[&'static str],
        mark: Mark,
        fix: &str,
    ) {
        let (address, marks) = declared(src, dom, decl, module_addr, mode, name);
        let mut rel2 = rel.to_vec();
        rel2.push(Step::Key(Cow::Borrowed(section)));
        rel2.push(Step::Key(Cow::Owned(name.to_string())));
        rel2.extend(tail.iter().map(|t| Step::Key(Cow::Borrowed(*t))));
        self.values_keyed(
            src,
            dom,
            value,
            "configuration",
            &address,
            unit,
            &rel2,
            &[],
            &marks,
            mark,
            fix,
            name,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn config_module<'s>(
        &mut self,
        src: &'s [u8],
        dom: &Dom,
        module: NodeId,
        unit: &str,
        rel: Vec<Step<'s>>,
        module_addr: String,
    ) {
        if let Some(res) = dom.get(src, module, "resources") {
            for (i, r) in dom.elements(res).enumerate() {
                let (address, table_type) = resource_head(src, dom, r, module_addr.clone());
                let exprs = dom.get(src, r, "expressions");
                // A row with a condition (`type=SecureString`) is left out when the condition's
                // argument is a literal that says otherwise, or is not set (it takes the
                // provider's default: a `tfe_variable` without `sensitive` is not sensitive); an
                // argument computed from a reference could say anything, so the row stays.
                let rows: Vec<&Row> = self
                    .engine
                    .table
                    .for_type(&table_type)
                    .into_iter()
                    .filter(|row| {
                        row.when.as_ref().is_none_or(|(k, v)| {
                            exprs.and_then(|e| dom.get(src, e, k)).is_some_and(|e| {
                                dom.get(src, e, "constant_value").is_none_or(|n| {
                                    dom.scalar(src, n).is_some_and(|s| s == v.as_str())
                                })
                            })
                        })
                    })
                    .collect();
                let mut rel_r = rel.clone();
                rel_r.push(Step::Key(Cow::Borrowed("resources")));
                rel_r.push(Step::Idx(i));
                if let Some(expr) = exprs {
                    let mut rel2 = rel_r.clone();
                    rel2.push(Step::Key(Cow::Borrowed("expressions")));
                    self.expressions(src, dom, expr, &address, unit, &rel2, &[], &rows, &[]);
                }
                self.meta_expressions(src, dom, r, &address, unit, &rel_r);
                // A provisioner's arguments (`local-exec` commands, `remote-exec` inline
                // scripts) are in no state and no planned value: this literal is their only
                // copy in the plan. Terraform's JSON config has `{type, expressions}` per
                // provisioner and no `connection` block (jsonconfig `provisioner`).
                if let Some(provs) = dom.get(src, r, "provisioners") {
                    for (j, prov) in dom.elements(provs).enumerate() {
                        let Some(expr) = dom.get(src, prov, "expressions") else {
                            continue;
                        };
                        let mut rel2 = rel_r.clone();
                        rel2.push(Step::Key(Cow::Borrowed("provisioners")));
                        rel2.push(Step::Idx(j));
                        rel2.push(Step::Key(Cow::Borrowed("expressions")));
                        self.expressions(src, dom, expr, &address, unit, &rel2, &[], &[], &[]);
                    }
                }
            }
        }
        if let Some(vars) = dom.get(src, module, "variables") {
            for (k, v) in dom.members(vars) {
                let Some(name) = dom.str(src, k) else {
                    continue;
                };
                let Some(def) = dom.get(src, v, "default") else {
                    continue;
                };
                self.config_literal(
                    src,
                    dom,
                    v,
                    def,
                    unit,
                    &rel,
                    &module_addr,
                    "variable",
                    "variables",
                    &name,
                    &["default"],
                    Mark::SensitiveVariable,
                    VARIABLE_FIX,
                );
            }
        }
        // `output "x" { value = "literal" }`: the literal is in the plan here, in every module,
        // whether or not the output is ever stored.
        if let Some(outs) = dom.get(src, module, "outputs") {
            for (k, o) in dom.members(outs) {
                let Some(name) = dom.str(src, k) else {
                    continue;
                };
                let Some(cv) = dom
                    .get(src, o, "expression")
                    .and_then(|e| dom.get(src, e, "constant_value"))
                else {
                    continue;
                };
                self.config_literal(
                    src,
                    dom,
                    o,
                    cv,
                    unit,
                    &rel,
                    &module_addr,
                    "output",
                    "outputs",
                    &name,
                    &["expression", "constant_value"],
                    Mark::SensitiveOutput,
                    // The literal is in the configuration: only moving it out of the
                    // configuration takes it out of the plan.
                    GENERIC_FIX,
                );
            }
        }
        if let Some(calls) = dom.get(src, module, "module_calls") {
            for (k, call) in dom.members(calls) {
                let Some(name) = dom.str(src, k) else {
                    continue;
                };
                let addr = if module_addr.is_empty() {
                    format!("module.{name}")
                } else {
                    format!("{module_addr}.module.{name}")
                };
                let mut rel_c = rel.clone();
                rel_c.push(Step::Key(Cow::Borrowed("module_calls")));
                rel_c.push(Step::Key(Cow::Owned(name.to_string())));
                let child = dom.get(src, call, "module");
                // `module.gh`: the call, printed as Terraform names it (pseudo mode `module`,
                // like `provider` and `variable`); the input is the attribute.
                let address = Address {
                    module: module_addr.clone(),
                    mode: "module".into(),
                    name: name.to_string(),
                    ..Default::default()
                };
                // Module inputs: a literal passed to a module (that perhaps only feeds a
                // provider block inside it) is in the plan only here. The child declares
                // which of its variables are sensitive.
                if let Some(expr) = dom.get(src, call, "expressions") {
                    let sensitive: Vec<String> = child
                        .and_then(|m| dom.get(src, m, "variables"))
                        .map(|vars| {
                            dom.members(vars)
                                .filter(|(_, v)| {
                                    dom.get(src, *v, "sensitive")
                                        .is_some_and(|n| dom.node(n).kind == JKind::Bool(true))
                                })
                                .filter_map(|(k, _)| dom.str(src, k).map(|n| n.into_owned()))
                                .collect()
                        })
                        .unwrap_or_default();
                    let mut rel2 = rel_c.clone();
                    rel2.push(Step::Key(Cow::Borrowed("expressions")));
                    self.expressions(src, dom, expr, &address, unit, &rel2, &[], &[], &sensitive);
                }
                self.meta_expressions(src, dom, call, &address, unit, &rel_c);
                let Some(m) = child else {
                    continue;
                };
                let mut rel2 = rel_c;
                rel2.push(Step::Key(Cow::Borrowed("module")));
                self.config_module(src, dom, m, unit, rel2, addr);
            }
        }
    }

    /// A resource's or module call's `count` and `for_each` (`count_expression`,
    /// `for_each_expression`, next to `expressions`): a literal map or list given to `for_each`
    /// is in the plan here as well as in every instance that uses `each.value`. `rel` points at
    /// the resource or call.
    fn meta_expressions<'s>(
        &mut self,
        src: &'s [u8],
        dom: &Dom,
        owner: NodeId,
        address: &Address,
        unit: &str,
        rel: &[Step<'s>],
    ) {
        for meta in ["count_expression", "for_each_expression"] {
            if let Some(expr) = dom.get(src, owner, meta) {
                let seed = [Step::Key(Cow::Borrowed(meta))];
                self.expressions(src, dom, expr, address, unit, rel, &seed, &[], &[]);
            }
        }
    }

    /// Expressions of a configuration block at `id`, which is at `rel` + `seed` (a block that is
    /// not keyed by argument is given its member name as `seed`): only `constant_value`s hold
    /// values. An argument named in `sensitive` (a module input whose variable is declared
    /// sensitive) is marked.
    #[allow(clippy::too_many_arguments)]
    fn expressions<'s>(
        &mut self,
        src: &'s [u8],
        dom: &Dom,
        id: NodeId,
        address: &Address,
        unit: &str,
        rel: &[Step<'s>],
        seed: &[Step<'s>],
        rows: &[&Row],
        sensitive: &[String],
    ) {
        let engine = self.engine;
        let mut path: Vec<Step<'s>> = seed.to_vec();
        let mut bad: Option<(u32, u32)> = None;
        let mut hits: Vec<ExprHit<'s>> = Vec::new();
        walk_nodes(
            src,
            dom,
            id,
            &mut path,
            &mut Vec::new(),
            None,
            &mut |path, _, key, node| {
                // keep only leaves under a constant_value
                let Some(cv) = path
                    .iter()
                    .position(|s| matches!(s, Step::Key(k) if k == "constant_value"))
                else {
                    return;
                };
                let Some(value) = dom.str(src, node) else {
                    let n = dom.node(node);
                    bad.get_or_insert((n.line, n.column));
                    return;
                };
                let attr: Vec<Step<'s>> = path
                    .iter()
                    .enumerate()
                    .filter(|(i, s)| {
                        *i != cv && !matches!(s, Step::Idx(_))
                            || (*i > cv && matches!(s, Step::Idx(_)))
                    })
                    .map(|(_, s)| s.clone())
                    .collect();
                let keys: Vec<&str> = path[..cv]
                    .iter()
                    .filter_map(|s| match s {
                        Step::Key(k) => Some(k.as_ref()),
                        _ => None,
                    })
                    .collect();
                let row = Table::lookup(rows, &keys);
                let key = if cv + 1 == path.len() {
                    keys.last().copied()
                } else {
                    key
                };
                let marked = matches!(path.first(), Some(Step::Key(k))
                    if sensitive.iter().any(|s| s == k.as_ref()));
                let mut dets = Vec::new();
                engine.analyze(
                    &value,
                    &Ctx {
                        row,
                        key,
                        mark: marked.then_some(Mark::SensitiveVariable),
                        // The literal is in the configuration itself: declaring the child's
                        // variable ephemeral would not take it out of the plan.
                        default_fix: GENERIC_FIX,
                    },
                    &mut dets,
                );
                if !dets.is_empty() {
                    let n = dom.node(node);
                    hits.push((path.to_vec(), attr, Pos::of(n), dets));
                }
            },
        );
        if bad.is_some() && self.utf8.is_none() {
            self.utf8 = bad;
        }
        for (path, attr, pos, dets) in hits {
            let mut r: Vec<Step<'_>> = rel.to_vec();
            r.extend(path.iter().cloned());
            self.dets = dets;
            self.push_dets(&Site {
                section: "configuration",
                address,
                unit_pointer: unit,
                rel: &r,
                attr: &attr,
                pos,
            });
        }
    }
}
