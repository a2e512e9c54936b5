//! `terraform show -json` units: a resource (of a state or the planned values), a plan's
//! resource change, an action invocation.

use super::address::{member_string, show_address};
use super::marks::Marks;
use super::scanner::Scanner;
use crate::detect::{Mark, Step};
use crate::finding::Address;
use crate::json::{Dom, Kind as JKind, NodeId};
use crate::table::GENERIC_FIX;
use std::borrow::Cow;

impl<'e> Scanner<'e> {
    /// `terraform show -json` resource: `{address, mode, type, name, index, values, sensitive_values}`.
    pub(super) fn show_resource(
        &mut self,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        unit: &str,
        section: &str,
    ) {
        let mut address = show_address(src, dom, id);
        self.show_address_keys(src, dom, id, &mut address, section, unit);
        let table_type = if address.mode == "data" {
            format!("data.{}", address.resource_type)
        } else {
            address.resource_type.clone()
        };
        let rows = self.engine.table.for_type(&table_type);
        let marks = dom
            .get(src, id, "sensitive_values")
            .map(|m| Marks::from_shape(src, dom, m))
            .unwrap_or_default();
        if let Some(values) = dom.get(src, id, "values") {
            let rel = [Step::Key(Cow::Borrowed("values"))];
            self.values(
                src,
                dom,
                values,
                section,
                &address,
                unit,
                &rel,
                &rows,
                &marks,
                Mark::SensitiveValues,
                GENERIC_FIX,
            );
        }
        if let Some(ident) = dom.get(src, id, "identity") {
            let sec = format!("{section}.identity");
            self.identity(src, dom, ident, &sec, &address, unit, "identity");
        }
    }

    /// Plan resource change: `{address, mode, type, name, index, change: {before, after, ...}}`.
    pub(super) fn change(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str, section: &str) {
        let mut address = show_address(src, dom, id);
        self.show_address_keys(src, dom, id, &mut address, section, unit);
        let table_type = if address.mode == "data" {
            format!("data.{}", address.resource_type)
        } else {
            address.resource_type.clone()
        };
        let rows = self.engine.table.for_type(&table_type);
        let Some(change) = dom.get(src, id, "change") else {
            return;
        };
        for (side, sens) in [("before", "before_sensitive"), ("after", "after_sensitive")] {
            let Some(values) = dom.get(src, change, side) else {
                continue;
            };
            let marks = dom
                .get(src, change, sens)
                .map(|m| Marks::from_shape(src, dom, m))
                .unwrap_or_default();
            let sec = format!("{section}.{side}");
            let rel = [
                Step::Key(Cow::Borrowed("change")),
                Step::Key(Cow::Borrowed(side)),
            ];
            self.values(
                src,
                dom,
                values,
                &sec,
                &address,
                unit,
                &rel,
                &rows,
                &marks,
                Mark::PlanSensitive,
                GENERIC_FIX,
            );
        }
        for (tree, side) in [
            ("after_unknown", "after"),
            ("after_sensitive", "after"),
            ("before_sensitive", "before"),
        ] {
            if let Some(t) = dom.get(src, change, tree) {
                let rel = [
                    Step::Key(Cow::Borrowed("change")),
                    Step::Key(Cow::Borrowed(tree)),
                ];
                let value = dom.get(src, change, side);
                let sec = format!("{section}.{tree}");
                self.mark_tree_keys(src, dom, t, value, &sec, &address, unit, &rel);
            }
        }
        for (member, rel) in [
            ("before_identity", "change/before_identity"),
            ("after_identity", "change/after_identity"),
            ("importing.identity", "change/importing/identity"),
        ] {
            let node = match member.split_once('.') {
                Some((a, b)) => dom.get(src, change, a).and_then(|n| dom.get(src, n, b)),
                None => dom.get(src, change, member),
            };
            if let Some(ident) = node {
                let sec = format!("{section}.{member}");
                self.identity(src, dom, ident, &sec, &address, unit, rel);
            }
        }
        // The ID an `import` block (or `terraform plan` with `-generate-config-out`) imports
        // the object by: an ID as a rule, but whatever the configuration wrote there (an
        // `id = var.x` with a credential in it) is kept in the plan in plaintext.
        if let Some(imported) = dom
            .get(src, change, "importing")
            .and_then(|n| dom.get(src, n, "id"))
        {
            let rel = [
                Step::Key(Cow::Borrowed("change")),
                Step::Key(Cow::Borrowed("importing")),
                Step::Key(Cow::Borrowed("id")),
            ];
            let sec = format!("{section}.importing.id");
            self.values(
                src,
                dom,
                imported,
                &sec,
                &address,
                unit,
                &rel,
                &[],
                &Marks::default(),
                Mark::PlanSensitive,
                GENERIC_FIX,
            );
        }
        // `terraform plan -generate-config-out`: the HCL Terraform wrote for an imported
        // resource, every attribute that is not marked sensitive as a literal.
        if let Some(g) = dom.get(src, change, "generated_config") {
            let rel = [
                Step::Key(Cow::Borrowed("change")),
                Step::Key(Cow::Borrowed("generated_config")),
            ];
            let sec = format!("{section}.generated_config");
            self.text(
                src,
                dom,
                g,
                &sec,
                &address,
                unit,
                &rel,
                &[],
                "the generated configuration holds the value as a literal: replace it with a reference (a write-only argument, `ephemeral \"offstate_secret_value\"`) before applying, and rotate it",
            );
        }
    }

    /// Plan `action_invocations` (Terraform 1.14+): `[{address, type, name, config_values,
    /// config_sensitive, ...}]`, the values of each invoked action's configuration, in plaintext
    /// (`config_sensitive` marks the sensitive ones). `deferred_action_invocations` wraps each in
    /// `{reason, action_invocation}`.
    pub(super) fn actions(
        &mut self,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        unit: &str,
        deferred: bool,
    ) {
        if dom.node(id).kind != JKind::Array {
            return;
        }
        let section = if deferred {
            "deferred_action_invocations"
        } else {
            "action_invocations"
        };
        for (i, item) in dom.elements(id).enumerate() {
            let (inv, at) = if deferred {
                match dom.get(src, item, "action_invocation") {
                    Some(n) => (n, format!("{unit}/{i}/action_invocation")),
                    None => continue,
                }
            } else {
                (item, format!("{unit}/{i}"))
            };
            if dom.node(inv).kind != JKind::Object {
                continue;
            }
            let s = |k: &str| member_string(src, dom, inv, k).unwrap_or_default();
            let (rtype, name, full) = (s("type"), s("name"), s("address"));
            // The module part is what precedes `action.TYPE.NAME`; the instance key that may
            // follow is left out (its module keys are checked below, as for resources).
            let tail = format!("action.{rtype}.{name}");
            let module = full
                .find(&tail)
                .map(|i| full[..i].trim_end_matches('.').to_string())
                .unwrap_or_default();
            let mut address = Address {
                module,
                mode: "action".into(),
                resource_type: rtype,
                name,
                ..Default::default()
            };
            if let Some(n) = dom.get(src, inv, "address") {
                self.address_keys(src, dom, &mut address, section, &at, &[("address", n)]);
            }
            let Some(values) = dom.get(src, inv, "config_values") else {
                continue;
            };
            let marks = dom
                .get(src, inv, "config_sensitive")
                .map(|m| Marks::from_shape(src, dom, m))
                .unwrap_or_default();
            let rel = [Step::Key(Cow::Borrowed("config_values"))];
            self.values(
                src,
                dom,
                values,
                section,
                &address,
                &at,
                &rel,
                &[],
                &marks,
                Mark::PlanSensitive,
                GENERIC_FIX,
            );
        }
    }
}
