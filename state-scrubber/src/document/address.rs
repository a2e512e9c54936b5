//! Resource addresses: built from a unit's members, and the instance and module keys in them
//! checked by the content rules and masked.

use super::findings::{Pos, Site};
use super::scanner::Scanner;
use super::sites::{KeySite, KEY_SITE_MIN_LEN};
use crate::detect::{Detection, Step};
use crate::finding::{
    mask_module_keys, masked_key, module_keys, preview, Address, KeyPlace, MaskedKey,
};
use crate::json::{Dom, Kind as JKind, NodeId};
use std::borrow::Cow;

/// A string member of the object `id`, if it is one.
pub(super) fn member_string(src: &[u8], dom: &Dom, id: NodeId, key: &str) -> Option<String> {
    dom.get(src, id, key)
        .and_then(|n| dom.str(src, n))
        .map(|c| c.into_owned())
}

/// A resource object's address (no instance key yet) from its `mode`, `type` and `name`, and the
/// type its attribute table rows are kept under (`data.T` for a data source). State v4
/// resources and a plan's `configuration` resources share this shape.
pub(super) fn resource_head(
    src: &[u8],
    dom: &Dom,
    id: NodeId,
    module: String,
) -> (Address, String) {
    let mode = member_string(src, dom, id, "mode").unwrap_or_else(|| "managed".into());
    let resource_type = member_string(src, dom, id, "type").unwrap_or_default();
    let table_type = if mode == "data" {
        format!("data.{resource_type}")
    } else {
        resource_type.clone()
    };
    let address = Address {
        module,
        mode,
        resource_type,
        name: member_string(src, dom, id, "name").unwrap_or_default(),
        index_key: None,
        deposed: None,
        masked: vec![],
    };
    (address, table_type)
}

pub(super) fn index_display(src: &[u8], dom: &Dom, id: NodeId) -> String {
    match dom.node(id).kind {
        JKind::Str { .. } => {
            serde_json::to_string(dom.str(src, id).as_deref().unwrap_or("")).unwrap_or_default()
        }
        _ => dom.raw(src, id).to_string(),
    }
}

pub(super) fn show_address(src: &[u8], dom: &Dom, id: NodeId) -> Address {
    let s = |k: &str| {
        dom.get(src, id, k)
            .and_then(|n| dom.str(src, n))
            .map(|c| c.into_owned())
    };
    let mode = s("mode").unwrap_or_else(|| "managed".into());
    let rtype = s("type").unwrap_or_default();
    let name = s("name").unwrap_or_default();
    let full = s("address").unwrap_or_default();
    // The module part is what precedes `[data.]type.name` in the address.
    let tail = if mode == "data" {
        format!("data.{rtype}.{name}")
    } else {
        format!("{rtype}.{name}")
    };
    let module = full
        .find(&tail)
        .map(|i| full[..i].trim_end_matches('.').to_string())
        .unwrap_or_default();
    Address {
        module,
        mode,
        resource_type: rtype,
        name,
        index_key: dom
            .get(src, id, "index")
            .map(|k| index_display(src, dom, k)),
        deposed: s("deposed").or_else(|| s("deposed_key")),
        masked: vec![],
    }
}

impl<'e> Scanner<'e> {
    /// Index keys, deposed keys and module instance keys are part of `address`, which every
    /// report, baseline, SARIF location and scrub secret name prints. Each one that a content
    /// rule recognises is reported (at its own node, attribute path = the member's name) and
    /// masked in `address` before anything else uses it. `keys` names the members holding them:
    /// `index_key`/`index`, `deposed`/`deposed_key` (a string each), and `module` /
    /// `module_address` / `address` (a path whose `["KEY"]` steps are checked).
    pub(super) fn address_keys(
        &mut self,
        src: &[u8],
        dom: &Dom,
        address: &mut Address,
        section: &str,
        unit: &str,
        keys: &[(&'static str, NodeId)],
    ) {
        let engine = self.engine;
        let mut found: Vec<(&'static str, NodeId, Vec<Detection>)> = Vec::new();
        let mut unpicked: Vec<(&'static str, NodeId, String)> = Vec::new();
        for &(member, node) in keys {
            let mut dets = Vec::new();
            match member {
                "index_key" | "index" | "deposed" | "deposed_key" => {
                    if !matches!(dom.node(node).kind, JKind::Str { .. }) {
                        continue;
                    }
                    let Some(raw) = dom.str(src, node) else {
                        continue;
                    };
                    let Some(d) = engine.analyze_address_key(&raw) else {
                        unpicked.push((member, node, raw.into_owned()));
                        continue;
                    };
                    let place = if member.starts_with("index") {
                        address.index_key = Some(masked_key(&raw));
                        KeyPlace::Index
                    } else {
                        address.deposed = Some(preview(&raw));
                        KeyPlace::Deposed
                    };
                    address.masked.push(MaskedKey {
                        place,
                        digest: engine.value_digest(&raw),
                    });
                    dets.push(d);
                }
                _ => {
                    let (masked, picked) = mask_module_keys(&address.module, |k| {
                        engine.analyze_address_key(k).is_some()
                    });
                    for k in module_keys(&address.module) {
                        if !picked.iter().any(|(_, p)| *p == k) {
                            unpicked.push((member, node, k));
                        }
                    }
                    if picked.is_empty() {
                        continue;
                    }
                    address.module = masked;
                    for (ordinal, k) in &picked {
                        address.masked.push(MaskedKey {
                            place: KeyPlace::Module(*ordinal),
                            digest: engine.value_digest(k),
                        });
                    }
                    dets.extend(
                        picked
                            .iter()
                            .filter_map(|(_, k)| engine.analyze_address_key(k)),
                    );
                }
            }
            found.push((member, node, dets));
        }
        for (member, node, raw) in unpicked {
            if raw.len() < KEY_SITE_MIN_LEN {
                continue;
            }
            let n = dom.node(node);
            self.key_sites.push(KeySite {
                digest: engine.value_digest(&raw),
                preview: preview(&raw),
                member,
                section: section.to_string(),
                address: address.clone(),
                unit: unit.to_string(),
                pos: Pos::of(n),
            });
        }
        for (member, node, dets) in found {
            let n = dom.node(node);
            let steps = [Step::Key(Cow::Borrowed(member))];
            self.dets = dets;
            self.push_dets(&Site {
                section,
                address,
                unit_pointer: unit,
                rel: &steps,
                attr: &steps,
                pos: Pos::of(n),
            });
        }
    }

    /// [`Self::address_keys`] for a `terraform show -json` resource or resource change.
    pub(super) fn show_address_keys(
        &mut self,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        address: &mut Address,
        section: &str,
        unit: &str,
    ) {
        let mut keys: Vec<(&'static str, NodeId)> = ["index", "deposed", "deposed_key"]
            .into_iter()
            .filter_map(|k| dom.get(src, id, k).map(|n| (k, n)))
            .collect();
        // The module part of the address is cut from `address`; `module_address` repeats it.
        if let Some(n) = dom.get(src, id, "module_address") {
            keys.push(("module_address", n));
        } else if let Some(n) = dom.get(src, id, "address") {
            keys.push(("address", n));
        }
        self.address_keys(src, dom, address, section, unit, &keys);
    }
}
