//! State units: a v4 resource (its instances, flatmaps, identity and private data) and a v3
//! module.

use super::address::{index_display, member_string, resource_head};
use super::findings::{Pos, Site};
use super::marks::Marks;
use super::same_value::{ct_eq, SameValue};
use super::scanner::Scanner;
use super::walk::flat_steps;
use crate::detect::{Ctx, Mark, Step};
use crate::finding::{Address, KeyPlace};
use crate::json::{Dom, Kind as JKind, NodeId};
use crate::table::{Row, Table, GENERIC_FIX};
use std::borrow::Cow;

pub const PRIVATE_FIX: &str = "the provider keeps the value in the instance's private data (`private`, base64): report it to the provider's maintainers, rotate the secret, and delete old copies of the state";

impl<'e> Scanner<'e> {
    pub(super) fn v4_resource(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        let module = member_string(src, dom, id, "module").unwrap_or_default();
        let (mut address, table_type) = resource_head(src, dom, id, module);
        let rows = self.engine.table.for_type(&table_type);
        let Some(instances) = dom.get(src, id, "instances") else {
            return;
        };
        if !self.expect(
            dom,
            instances,
            JKind::Array,
            true,
            || format!("{unit}/instances"),
            "`instances` is an array",
        ) {
            return;
        }
        if let Some(node) = dom.get(src, id, "module") {
            // Once per resource: the module path is the same for every instance.
            self.address_keys(
                src,
                dom,
                &mut address,
                "resources",
                unit,
                &[("module", node)],
            );
        }
        for (i, inst) in dom.elements(instances).enumerate() {
            if !self.expect(
                dom,
                inst,
                JKind::Object,
                false,
                || format!("{unit}/instances/{i}"),
                "an instance is an object",
            ) {
                return;
            }
            for (member, expected) in [
                ("attributes", "`attributes` is an object"),
                ("attributes_flat", "`attributes_flat` is an object"),
            ] {
                if let Some(a) = dom.get(src, inst, member) {
                    let at = || format!("{unit}/instances/{i}/{member}");
                    if !self.expect(dom, a, JKind::Object, true, at, expected) {
                        return;
                    }
                }
            }
            // The module's masked keys stay; the instance's are this instance's own.
            address
                .masked
                .retain(|m| matches!(m.place, KeyPlace::Module(_)));
            address.index_key = dom
                .get(src, inst, "index_key")
                .map(|k| index_display(src, dom, k));
            address.deposed = dom
                .get(src, inst, "deposed")
                .and_then(|n| dom.str(src, n))
                .map(|c| c.into_owned());
            let keys: Vec<(&'static str, NodeId)> = ["index_key", "deposed"]
                .into_iter()
                .filter_map(|k| dom.get(src, inst, k).map(|n| (k, n)))
                .collect();
            self.address_keys(
                src,
                dom,
                &mut address,
                "resources",
                &format!("{unit}/instances/{i}"),
                &keys,
            );
            let marks = dom
                .get(src, inst, "sensitive_attributes")
                .map(|m| Marks::from_state(src, dom, m))
                .unwrap_or_default();
            let ipath = format!("{unit}/instances/{i}");
            if let Some(attrs) = dom.get(src, inst, "attributes") {
                let rel = [Step::Key(Cow::Borrowed("attributes"))];
                self.values(
                    src,
                    dom,
                    attrs,
                    "resources",
                    &address,
                    &ipath,
                    &rel,
                    &rows,
                    &marks,
                    Mark::SensitiveAttributes,
                    GENERIC_FIX,
                );
            }
            if let Some(flat) = dom.get(src, inst, "attributes_flat") {
                self.flat(
                    src,
                    dom,
                    flat,
                    "resources",
                    &address,
                    &format!("{ipath}/attributes_flat"),
                    &rows,
                );
            }
            if let Some(ident) = dom.get(src, inst, "identity") {
                self.identity(
                    src,
                    dom,
                    ident,
                    "resources.identity",
                    &address,
                    &ipath,
                    "identity",
                );
            }
            if self.private {
                if let Some(node) = dom.get(src, inst, "private") {
                    self.private(src, dom, node, &address, &ipath);
                }
            }
        }
    }

    /// A state instance's `private`: base64 (Go's standard encoding of `[]byte`) of what the
    /// provider keeps for itself, JSON for both SDKs (SDKv2: timeouts and schema version; the
    /// plugin framework: `{key: base64 of JSON}` of whatever the provider stores). Decoded, then
    /// read like a JSON-in-a-string value (keys give context, content rules apply, nested base64
    /// text is decoded).
    fn private(&mut self, src: &[u8], dom: &Dom, node: NodeId, address: &Address, unit: &str) {
        use base64::Engine as _;
        let Some(raw) = dom.str(src, node) else {
            return;
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(raw.trim()) else {
            return;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            return;
        };
        let mut dets = Vec::new();
        self.engine.analyze(
            &text,
            &Ctx {
                row: None,
                key: Some("private"),
                mark: None,
                default_fix: PRIVATE_FIX,
            },
            &mut dets,
        );
        if dets.is_empty() {
            return;
        }
        for d in &mut dets {
            d.decoded.insert(0, "base64");
        }
        let n = dom.node(node);
        let rel = [Step::Key(Cow::Borrowed("private"))];
        self.dets = dets;
        self.push_dets(&Site {
            section: "resources.private",
            address,
            unit_pointer: unit,
            rel: &rel,
            attr: &[],
            pos: Pos::of(n),
        });
    }

    /// A flatmap (`attributes_flat` in v4, `primary.attributes` in v3): keys like `a.0.b`.
    #[allow(clippy::too_many_arguments)]
    fn flat(
        &mut self,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        section: &str,
        address: &Address,
        unit: &str,
        rows: &[&Row],
    ) {
        // As in `values`: a row with a condition applies only when the (top-level, hence
        // dot-free) flatmap key says so; a flatmap carries no sensitivity marks, so rows that
        // mirror a marked attribute never apply.
        let rows: Vec<&Row> = rows
            .iter()
            .copied()
            .filter(|r| {
                r.when_sensitive.is_none()
                    && r.when.as_ref().is_none_or(|(k, v)| {
                        dom.get(src, id, k)
                            .and_then(|n| dom.str(src, n))
                            .is_some_and(|s| s == v.as_str())
                    })
            })
            .collect();
        let rows = &rows[..];
        let mut same = SameValue::default();
        let mut hit: Vec<usize> = Vec::new();
        for (i, (k, v)) in dom.members(id).enumerate() {
            let (Some(key), Some(value)) = (dom.str(src, k), dom.str(src, v)) else {
                let n = dom.node(v);
                self.utf8.get_or_insert((n.line, n.column));
                continue;
            };
            if key.ends_with(".#") || key.ends_with(".%") || key == "%" || key == "#" {
                continue;
            }
            let steps = flat_steps(&key);
            // A map key is part of the flatmap key (`triggers.<key>`): one that is a secret
            // itself (`{(var.token) = ...}`) is in the file as written, whatever its value.
            let rel = [Step::Key(Cow::Owned(key.to_string()))];
            for (i, step) in steps.iter().enumerate() {
                let Step::Key(segment) = step else { continue };
                if let Some(d) = self.key_detection(segment) {
                    self.dets = vec![d];
                    self.push_dets(&Site {
                        section,
                        address,
                        unit_pointer: unit,
                        rel: &rel,
                        attr: &steps[..=i],
                        pos: Pos::of_key(src, dom, k),
                    });
                }
            }
            let keys: Vec<&str> = steps
                .iter()
                .filter_map(|s| match s {
                    Step::Key(k) => Some(k.as_ref()),
                    _ => None,
                })
                .collect();
            let row = Table::lookup(rows, &keys);
            let last = keys.last().copied();
            let mut dets = Vec::new();
            self.engine.analyze(
                &value,
                &Ctx {
                    row,
                    key: last,
                    mark: None,
                    default_fix: GENERIC_FIX,
                },
                &mut dets,
            );
            if dets.is_empty() {
                continue;
            }
            hit.push(i);
            same.add(&self.quoted(unit, &rel, &steps), &dets);
            let n = dom.node(v);
            self.dets = dets;
            self.push_dets(&Site {
                section,
                address,
                unit_pointer: unit,
                rel: &rel,
                attr: &steps,
                pos: Pos::of(n),
            });
        }
        if same.is_empty() {
            return;
        }
        // The same value under another key of the instance (see `values`).
        for (i, (k, v)) in dom.members(id).enumerate() {
            if hit.binary_search(&i).is_ok() {
                continue;
            }
            let (Some(key), Some(value)) = (dom.str(src, k), dom.str(src, v)) else {
                continue;
            };
            if key.ends_with(".#") || key.ends_with(".%") || key == "%" || key == "#" {
                continue;
            }
            let Some(d) = same.check(self.engine, &value) else {
                continue;
            };
            let steps = flat_steps(&key);
            let n = dom.node(v);
            let rel = [Step::Key(Cow::Owned(key.to_string()))];
            self.dets = vec![d];
            self.push_dets(&Site {
                section,
                address,
                unit_pointer: unit,
                rel: &rel,
                attr: &steps,
                pos: Pos::of(n),
            });
        }
    }

    /// State v3 module: `{path, outputs, resources: {"type.name.N": {type, primary: {attributes}}}}`.
    pub(super) fn v3_module(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        let module = dom
            .get(src, id, "path")
            .map(|p| {
                dom.elements(p)
                    .skip(1)
                    .filter_map(|n| dom.str(src, n))
                    .map(|n| format!("module.{n}"))
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .unwrap_or_default();
        // A v3 state keeps every module's outputs (v4 only the root module's): a child module's
        // output of a password is in the file as plainly as a root one.
        if let Some(outs) = dom.get(src, id, "outputs") {
            self.outputs(
                src,
                dom,
                outs,
                &format!("{unit}/outputs"),
                "outputs",
                &module,
            );
        }
        let Some(res) = dom.get(src, id, "resources") else {
            return;
        };
        let at = || format!("{unit}/resources");
        if !self.expect(
            dom,
            res,
            JKind::Object,
            true,
            at,
            "`resources` is an object",
        ) {
            return;
        }
        for (k, r) in dom.members(res) {
            let Some(key) = dom.str(src, k) else { continue };
            let mut parts: Vec<&str> = key.split('.').collect();
            let mode = if parts.first() == Some(&"data") {
                parts.remove(0);
                "data"
            } else {
                "managed"
            };
            let index_key = (parts.len() == 3).then(|| parts[2].to_string());
            let rtype = dom
                .get(src, r, "type")
                .and_then(|n| dom.str(src, n))
                .map(|c| c.into_owned())
                .unwrap_or_else(|| parts.first().unwrap_or(&"").to_string());
            let address = Address {
                module: module.clone(),
                mode: mode.into(),
                resource_type: rtype.clone(),
                name: parts.get(1).unwrap_or(&"").to_string(),
                index_key,
                deposed: None,
                masked: vec![],
            };
            let table_type = if mode == "data" {
                format!("data.{rtype}")
            } else {
                rtype
            };
            let rows = self.engine.table.for_type(&table_type);
            let mut rp = String::new();
            crate::json::push_pointer_token(&mut rp, &key);
            // `primary`, then the deposed objects (a create_before_destroy replacement whose old
            // object is still there: the same attributes, often the old password). v3 gives
            // them no key; Terraform makes one up when it upgrades the state, so the address
            // shows the position.
            let mut objects: Vec<(NodeId, String, Address)> = Vec::new();
            if let Some(primary) = dom.get(src, r, "primary") {
                objects.push((
                    primary,
                    format!("{unit}/resources/{rp}/primary"),
                    address.clone(),
                ));
            }
            if let Some(deposed) = dom.get(src, r, "deposed") {
                for (i, obj) in dom.elements(deposed).enumerate() {
                    objects.push((
                        obj,
                        format!("{unit}/resources/{rp}/deposed/{i}"),
                        Address {
                            deposed: Some(i.to_string()),
                            ..address.clone()
                        },
                    ));
                }
            }
            for (obj, up, address) in objects {
                if dom.node(obj).kind != JKind::Object {
                    continue;
                }
                if let Some(idn) = dom.get(src, obj, "id") {
                    let rel = [Step::Key(Cow::Borrowed("id"))];
                    self.values_keyed(
                        src,
                        dom,
                        idn,
                        "resources",
                        &address,
                        &up,
                        &rel,
                        &[],
                        &Marks::default(),
                        Mark::SensitiveAttributes,
                        GENERIC_FIX,
                        "id",
                    );
                }
                let before = self.findings.len();
                if let Some(attrs) = dom.get(src, obj, "attributes") {
                    self.flat(
                        src,
                        dom,
                        attrs,
                        "resources",
                        &address,
                        &format!("{up}/attributes"),
                        &rows,
                    );
                }
                // `primary.id` repeats `attributes.id` (`random_string`'s id is its result): as
                // secret as that, which `flat` saw with the rest of the instance.
                let same_id = match (
                    dom.get(src, obj, "id").and_then(|n| dom.str(src, n)),
                    dom.get(src, obj, "attributes")
                        .and_then(|a| dom.get(src, a, "id"))
                        .and_then(|n| dom.str(src, n)),
                ) {
                    (Some(a), Some(b)) => ct_eq(a.as_bytes(), b.as_bytes()),
                    _ => false,
                };
                let id_ptr = format!("{up}/id");
                if same_id && !self.findings.iter().any(|f| f.json_pointer == id_ptr) {
                    let attr_id = format!("{up}/attributes/id");
                    if let Some(f) = self.findings[before..]
                        .iter()
                        .filter(|f| f.json_pointer == attr_id && f.inner_pointer.is_none())
                        .max_by_key(|f| (f.severity, f.confidence))
                    {
                        let n = dom.node(dom.get(src, obj, "id").expect("compared above"));
                        let mut f = f.clone();
                        f.json_pointer = id_ptr;
                        f.attribute_path = String::new();
                        f.line = n.line;
                        f.column = n.column;
                        f.set_fingerprints(self.fp_key);
                        self.findings.push(f);
                    }
                }
            }
        }
    }
}
