//! Free text: failed conditions' messages and generated configuration (content rules only).

use super::findings::{Pos, Site};
use super::same_value::SameValue;
use super::scanner::Scanner;
use super::sites::{SiteAt, TextSite};
use crate::detect::{Ctx, Step};
use crate::finding::Address;
use crate::json::{Dom, Kind as JKind, NodeId};
use std::borrow::Cow;

pub const CHECK_FIX: &str = "a failed condition's message is stored in state and plans: do not interpolate the secret into `error_message`, and rotate it";

impl<'e> Scanner<'e> {
    /// Condition results: `terraform show -json`'s `checks` (`[{address: {to_display}, instances:
    /// [{problems: [{message}]}]}]`) and state v4's `check_results` (`[{config_addr, objects:
    /// [{failure_messages: [..]}]}]`). Only the messages are text from the configuration; the
    /// rest is addresses and statuses. Each message is checked as free text (content rules), and
    /// the check is named by its configuration address (which has no instance keys).
    pub(super) fn checks(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str, section: &str) {
        if dom.node(id).kind != JKind::Array {
            return;
        }
        let state = section == "check_results";
        for (i, check) in dom.elements(id).enumerate() {
            let config = if state {
                dom.get(src, check, "config_addr")
            } else {
                dom.get(src, check, "address")
                    .and_then(|a| dom.get(src, a, "to_display"))
            };
            let config = config
                .and_then(|n| dom.str(src, n))
                .map(|c| c.into_owned())
                .unwrap_or_default();
            let address = Address {
                mode: "check".into(),
                name: config.strip_prefix("check.").unwrap_or(&config).to_string(),
                ..Default::default()
            };
            let (objects, messages) = if state {
                ("objects", "failure_messages")
            } else {
                ("instances", "problems")
            };
            let Some(objs) = dom.get(src, check, objects) else {
                continue;
            };
            for (j, obj) in dom.elements(objs).enumerate() {
                let Some(msgs) = dom.get(src, obj, messages) else {
                    continue;
                };
                for (k, m) in dom.elements(msgs).enumerate() {
                    let mut attr = vec![
                        Step::Key(Cow::Borrowed(objects)),
                        Step::Idx(j),
                        Step::Key(Cow::Borrowed(messages)),
                        Step::Idx(k),
                    ];
                    let node = if state {
                        m
                    } else {
                        attr.push(Step::Key(Cow::Borrowed("message")));
                        match dom.get(src, m, "message") {
                            Some(n) => n,
                            None => continue,
                        }
                    };
                    let mut rel = vec![Step::Idx(i)];
                    rel.extend(attr.iter().cloned());
                    self.text(
                        src, dom, node, section, &address, unit, &rel, &attr, CHECK_FIX,
                    );
                }
            }
        }
    }

    /// One string that is free text (a message, generated configuration): content rules only,
    /// no key context. `rel` is its path below `unit`, `attr` the attribute path reported.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn text(
        &mut self,
        src: &[u8],
        dom: &Dom,
        node: NodeId,
        section: &str,
        address: &Address,
        unit: &str,
        rel: &[Step<'_>],
        attr: &[Step<'_>],
        fix: &'static str,
    ) {
        if !matches!(dom.node(node).kind, JKind::Str { .. }) {
            return;
        }
        let n = dom.node(node);
        let Some(value) = dom.str(src, node) else {
            self.utf8.get_or_insert((n.line, n.column));
            return;
        };
        let mut dets = Vec::new();
        self.engine.analyze(
            &value,
            &Ctx {
                row: None,
                key: None,
                mark: None,
                default_fix: fix,
            },
            &mut dets,
        );
        if dets.is_empty() {
            if value.len() >= SameValue::MIN_LEN {
                let shown = self.shown(unit, rel, attr);
                self.text_sites.push(TextSite {
                    text: value.into_owned(),
                    at: SiteAt {
                        section: section.to_string(),
                        address: address.clone(),
                        json_pointer: shown.json_pointer,
                        attribute_path: shown.attribute_path,
                        masked: shown.masked,
                        masked_steps: shown.steps,
                        fix,
                        pos: Pos::of(n),
                    },
                });
            }
            return;
        }
        self.dets = dets;
        self.push_dets(&Site {
            section,
            address,
            unit_pointer: unit,
            rel,
            attr,
            pos: Pos::of(n),
        });
    }
}
