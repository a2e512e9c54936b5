//! Sensitive input variables that, after the migration, only feed write-only arguments, providers,
//! provisioners and ephemeral blocks become `ephemeral = true` (Terraform >= 1.10): Terraform then
//! keeps their values out of saved plan files too, which a sensitive variable does not.

use super::{body_insertion, constraint_admits, span_of, Candidate, Planner};
use crate::module::{is_set, label, Owner};
use crate::report::{EditKind, Hazard};
use std::collections::BTreeSet;

impl<'a> Planner<'a> {
    /// Marks the sensitive variables whose every use accepts an ephemeral value.
    pub(super) fn ephemeral_variables(&mut self, converted: &BTreeSet<Candidate>) {
        let variables: Vec<(usize, &'a hcl_edit::structure::Block)> =
            self.blocks("variable").collect();
        for (file, block) in variables {
            let Some(name) = label(block, 0) else {
                continue;
            };
            let Some(sensitive) = block.body.get_attribute("sensitive") else {
                continue;
            };
            if !is_set(&block.body, "sensitive") || block.body.has_attribute("ephemeral") {
                continue;
            }
            let uses: Vec<_> = self
                .refs
                .iter()
                .filter(|r| r.root == "var" && r.attr(0) == Some(name))
                .collect();
            if uses.is_empty() {
                continue;
            }
            if let Some(reason) = self
                .named_elsewhere(&["var", name])
                .or_else(|| self.named_elsewhere(&["variable", name]))
            {
                let start = span_of(block).start;
                self.info(
                    file,
                    start,
                    format!("`var.{name}` not made ephemeral: {reason}"),
                );
                continue;
            }
            let by_hand = format!("add `ephemeral = true` to `variable \"{name}\"` by hand");
            if let Some((reason, hazard)) = self.blocker(&uses, converted, &by_hand, true) {
                let start = span_of(block).start;
                let message = format!("`var.{name}` not made ephemeral: {reason}");
                match hazard {
                    Some(hazard) => self.warn(file, start, hazard, message),
                    None => self.info(file, start, message),
                }
                continue;
            }
            // `ephemeral` on a variable is Terraform >= 1.10; read by a validation, it was checked
            // with 1.11 and later only.
            let validated = uses
                .iter()
                .any(|r| matches!(r.site.owner, Owner::Variable(_)));
            let needed = if validated { "1.11.0" } else { "1.10.0" };
            if let Some((_, _, constraint)) = self
                .version_constraints("terraform")
                .into_iter()
                .find(|(_, _, constraint)| !constraint_admits(constraint, needed))
            {
                let start = span_of(block).start;
                let why = if validated {
                    "a variable that a `validation` reads is made ephemeral for Terraform 1.11 and later only \
                     (checked with 1.11 and 1.15)"
                } else {
                    "an ephemeral variable needs Terraform 1.10 or later"
                };
                self.info(
                    file,
                    start,
                    format!(
                        "`var.{name}` not made ephemeral: `required_version` is {constraint:?}, which excludes \
                         Terraform {needed} and later, and {why}; widen the constraint and run migrate again"
                    ),
                );
                continue;
            }
            if self
                .terraform_floor
                .is_none_or(|floor| super::version_newer(needed, floor))
            {
                self.terraform_floor = Some(needed);
            }
            let src = self.src(file);
            let insertion = body_insertion(src, block, Some(span_of(sensitive)));
            let text = format!("{}ephemeral = true", insertion.indent);
            for edit in insertion.edits(&text, false, "\n") {
                self.edit(file, edit);
            }
            let start = span_of(block).start;
            self.note_edit(
                file,
                start,
                EditKind::Ephemeral,
                format!("`var.{name}` → `ephemeral = true`: every use now takes an ephemeral value, so saved plans no longer hold it"),
            );
            self.warn(
                file,
                start,
                Hazard::EphemeralVariable,
                format!(
                    "`var.{name}` is ephemeral (Terraform >= 1.10): `terraform apply PLANFILE` needs it set again, \
                     and it can no longer feed anything that stores it"
                ),
            );
        }
    }
}
