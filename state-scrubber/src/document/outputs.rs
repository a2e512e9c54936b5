//! Values named by the user: outputs (state, v3 modules, a plan's output changes) and a plan's
//! variables.

use super::marks::Marks;
use super::scanner::Scanner;
use crate::detect::{Mark, Step};
use crate::finding::Address;
use crate::json::{Dom, Kind as JKind, NodeId};
use crate::table::ROOT_OUTPUT;
use std::borrow::Cow;

pub const OUTPUT_FIX: &str = "stop exporting the secret from the root module (outputs are stored in state in plaintext even when sensitive); pass it on with `ephemeral = true` outputs or read it where needed with `ephemeral \"offstate_secret_value\"`";

pub const MODULE_OUTPUT_FIX: &str = "a v3 state (Terraform <= 0.11) stores every module's outputs; Terraform >= 0.12 drops child module outputs when it next writes the state: upgrade, delete old copies (backups, bucket versions) and rotate the secret";

pub const VARIABLE_FIX: &str = "declare the variable `ephemeral = true` (Terraform >= 1.10) so plans do not store it, and feed it only to write-only arguments";

/// The address of an output or a variable `name` declared by `decl` in `module` (`mode` says
/// which), and its marks: all of it when `decl` says `sensitive = true`, none otherwise.
pub(super) fn declared(
    src: &[u8],
    dom: &Dom,
    decl: NodeId,
    module: &str,
    mode: &str,
    name: &str,
) -> (Address, Marks) {
    let sensitive = dom
        .get(src, decl, "sensitive")
        .is_some_and(|n| dom.node(n).kind == JKind::Bool(true));
    let address = Address {
        module: module.to_string(),
        mode: mode.into(),
        name: name.to_string(),
        ..Default::default()
    };
    let marks = if sensitive {
        Marks::all()
    } else {
        Marks::default()
    };
    (address, marks)
}

impl<'e> Scanner<'e> {
    /// Root outputs: `{name: {value, type, sensitive}}`.
    /// Outputs `{name: {value, type, sensitive}}` of the root module (`module` empty) or, in a
    /// v3 state, of the child module `module`.
    pub(super) fn outputs(
        &mut self,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        unit: &str,
        section: &str,
        module: &str,
    ) {
        let rows = self.engine.table.for_type(ROOT_OUTPUT);
        let _ = rows;
        for (k, out) in dom.members(id) {
            let Some(name) = dom.str(src, k) else {
                continue;
            };
            let Some(value) = dom.get(src, out, "value") else {
                continue;
            };
            let (address, marks) = declared(src, dom, out, module, "output", &name);
            let fix = if module.is_empty() {
                OUTPUT_FIX
            } else {
                MODULE_OUTPUT_FIX
            };
            let rel = [
                Step::Key(Cow::Owned(name.to_string())),
                Step::Key(Cow::Borrowed("value")),
            ];
            self.named = Some(fix);
            self.values_keyed(
                src,
                dom,
                value,
                section,
                &address,
                unit,
                &rel,
                &[],
                &marks,
                Mark::SensitiveOutput,
                fix,
                &name,
            );
            self.named = None;
        }
    }

    pub(super) fn output_changes(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        for (k, ch) in dom.members(id) {
            let Some(name) = dom.str(src, k) else {
                continue;
            };
            let address = Address {
                mode: "output".into(),
                name: name.to_string(),
                ..Default::default()
            };
            for (side, sens) in [("before", "before_sensitive"), ("after", "after_sensitive")] {
                let Some(values) = dom.get(src, ch, side) else {
                    continue;
                };
                let marks = dom
                    .get(src, ch, sens)
                    .map(|m| Marks::from_shape(src, dom, m))
                    .unwrap_or_default();
                let sec = format!("output_changes.{side}");
                let rel = [
                    Step::Key(Cow::Owned(name.to_string())),
                    Step::Key(Cow::Borrowed(side)),
                ];
                self.named = Some(OUTPUT_FIX);
                self.values_keyed(
                    src,
                    dom,
                    values,
                    &sec,
                    &address,
                    unit,
                    &rel,
                    &[],
                    &marks,
                    Mark::PlanSensitive,
                    OUTPUT_FIX,
                    &name,
                );
                self.named = None;
            }
            for (tree, side) in [
                ("after_unknown", "after"),
                ("after_sensitive", "after"),
                ("before_sensitive", "before"),
            ] {
                if let Some(t) = dom.get(src, ch, tree) {
                    let rel = [
                        Step::Key(Cow::Owned(name.to_string())),
                        Step::Key(Cow::Borrowed(tree)),
                    ];
                    let value = dom.get(src, ch, side);
                    let sec = format!("output_changes.{tree}");
                    self.mark_tree_keys(src, dom, t, value, &sec, &address, unit, &rel);
                }
            }
        }
    }

    pub(super) fn variables(
        &mut self,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        unit: &str,
        sensitive: &[String],
    ) {
        for (k, var) in dom.members(id) {
            let Some(name) = dom.str(src, k) else {
                continue;
            };
            let Some(value) = dom.get(src, var, "value") else {
                continue;
            };
            let address = Address {
                mode: "variable".into(),
                name: name.to_string(),
                ..Default::default()
            };
            let marks = if sensitive.iter().any(|s| s == name.as_ref()) {
                Marks::all()
            } else {
                Marks::default()
            };
            let rel = [
                Step::Key(Cow::Owned(name.to_string())),
                Step::Key(Cow::Borrowed("value")),
            ];
            self.named = Some(VARIABLE_FIX);
            self.values_keyed(
                src,
                dom,
                value,
                "variables",
                &address,
                unit,
                &rel,
                &[],
                &marks,
                Mark::SensitiveVariable,
                VARIABLE_FIX,
                &name,
            );
            self.named = None;
        }
    }
}
