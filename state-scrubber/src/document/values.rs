//! The walk over a unit's values: key context, table rows and sensitivity marks applied to each
//! leaf, and the same value elsewhere in the instance.

use super::findings::{Pos, Site};
use super::marks::Marks;
use super::same_value::SameValue;
use super::scanner::Scanner;
use super::sites::{SiteAt, ValueSite};
use super::walk::{is_dynamic_value, walk_leaves, walk_nodes, Leaf};
use crate::detect::{Ctx, Detection, Mark, Step};
use crate::finding::{preview, Address};
use crate::json::{Dom, Kind as JKind, NodeId};
use crate::table::{Row, Table, Treat, GENERIC_FIX};
use std::borrow::Cow;

impl<'e> Scanner<'e> {
    /// Walk the values under `id` (relative path prefix `rel`), applying rows and marks.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn values<'s>(
        &mut self,
        src: &'s [u8],
        dom: &Dom,
        id: NodeId,
        section: &str,
        address: &Address,
        unit: &str,
        rel_prefix: &[Step<'s>],
        rows: &[&Row],
        marks: &Marks,
        mark: Mark,
        default_fix: &str,
    ) {
        let engine = self.engine;
        // Rows with a condition (`when`) apply only if the object says so (e.g. SecureString).
        let rows: Vec<&Row> = rows
            .iter()
            .copied()
            .filter(|r| {
                r.when.as_ref().is_none_or(|(k, v)| {
                    dom.get(src, id, k)
                        .and_then(|n| dom.scalar(src, n))
                        .is_some_and(|s| s == v.as_str())
                })
            })
            .collect();
        // Rows of attributes that mirror a marked one (`sensitive:ATTR`) apply leaf by leaf.
        let (mirrors, rows): (Vec<&Row>, Vec<&Row>) =
            rows.into_iter().partition(|r| r.when_sensitive.is_some());
        let rows = &rows[..];
        let mut path: Vec<Step<'s>> = Vec::new();
        let mut bad: Option<(u32, u32)> = None;
        let mut hits: Vec<(Vec<Step<'s>>, Pos, Vec<Detection>)> = Vec::new();
        let mut hit_nodes: Vec<NodeId> = Vec::new();
        // Outputs and variables: strings nothing was found in (see `ValueSite`).
        let named = self.named;
        let mut misses: Vec<(NodeId, Vec<Step<'s>>, Pos, String, String)> = Vec::new();
        let mut dynamic = Vec::new();
        walk_nodes(
            src,
            dom,
            id,
            &mut path,
            &mut dynamic,
            None,
            &mut |path, dynamic, key, node| {
                let Some(value) = dom.str(src, node) else {
                    let n = dom.node(node);
                    bad.get_or_insert((n.line, n.column));
                    return;
                };
                let keys = || -> Vec<&str> {
                    path.iter()
                        .filter_map(|s| match s {
                            Step::Key(k) => Some(k.as_ref()),
                            Step::Idx(_) => None,
                        })
                        .collect()
                };
                let mut row = if rows.is_empty() {
                    None
                } else {
                    Table::lookup(rows, &keys())
                };
                if !mirrors.is_empty() && row.is_none_or(|r| r.treat != Treat::Secret) {
                    let applying: Vec<&Row> = mirrors
                        .iter()
                        .copied()
                        .filter(|r| marks.covers_mirror(r, path, dynamic))
                        .collect();
                    row = Table::lookup(&applying, &keys()).or(row);
                }
                // A `public` row: the provider's schema mark says nothing about this value.
                let mut marked = (!marks.is_empty()
                    && row.is_none_or(|r| r.treat != Treat::Public)
                    && marks.covers(path, dynamic))
                .then_some(mark);
                // A mark on an enclosing object covers every member (Terraform marks a whole
                // output when any part is, and a whole set when an element's attribute is): a
                // member whose key names no secret and whose value is configuration (a host name,
                // an engine, a group) is not reported for the mark. Content rules still apply.
                if let (Some(_), Some(k)) = (marked, key) {
                    if row.is_none_or(|r| r.treat != Treat::Secret)
                        && !marks.covers_exactly(path, dynamic)
                        && is_configuration_member(&engine.rules, k, &value)
                    {
                        marked = None;
                    }
                }
                let mut dets = Vec::new();
                engine.analyze(
                    &value,
                    &Ctx {
                        row,
                        key,
                        mark: marked,
                        default_fix,
                    },
                    &mut dets,
                );
                if !dets.is_empty() {
                    let n = dom.node(node);
                    hit_nodes.push(node);
                    hits.push((path.to_vec(), Pos::of(n), dets));
                } else if named.is_some() && value.len() >= SameValue::MIN_LEN {
                    let n = dom.node(node);
                    misses.push((
                        node,
                        path.to_vec(),
                        Pos::of(n),
                        engine.value_digest(&value),
                        preview(&value),
                    ));
                }
            },
        );
        if bad.is_some() && self.utf8.is_none() {
            self.utf8 = bad;
        }
        // The same value elsewhere in the instance (an output that mirrors an input, a copy in
        // tags or triggers) is as secret as where it was recognised.
        let mut same = SameValue::default();
        for (path, _, dets) in &hits {
            let mut rel: Vec<Step<'_>> = rel_prefix.to_vec();
            rel.extend(path.iter().cloned());
            same.add(&self.quoted(unit, &rel, path), dets);
        }
        if !same.is_empty() {
            hit_nodes.sort_unstable();
            let mut path: Vec<Step<'s>> = Vec::new();
            walk_nodes(
                src,
                dom,
                id,
                &mut path,
                &mut dynamic,
                None,
                &mut |path, _, _, node| {
                    if hit_nodes.binary_search(&node).is_ok() {
                        return;
                    }
                    let Some(d) = dom.str(src, node).and_then(|v| same.check(engine, &v)) else {
                        return;
                    };
                    misses.retain(|m| m.0 != node);
                    let n = dom.node(node);
                    hits.push((path.to_vec(), Pos::of(n), vec![d]));
                },
            );
        }
        // Numbers the artifact marks sensitive (layer 1 only; `with_numbers`). After the
        // same-value step: a number is no source for equal strings.
        if self.numbers && !marks.is_empty() {
            let mut path: Vec<Step<'s>> = Vec::new();
            walk_leaves(
                src,
                dom,
                id,
                &mut path,
                &mut dynamic,
                None,
                Leaf::Number,
                &mut |path, dynamic, key, node| {
                    if !marks.covers(path, dynamic) {
                        return;
                    }
                    let row = if rows.is_empty() {
                        None
                    } else {
                        let keys: Vec<&str> = path
                            .iter()
                            .filter_map(|s| match s {
                                Step::Key(k) => Some(k.as_ref()),
                                Step::Idx(_) => None,
                            })
                            .collect();
                        Table::lookup(rows, &keys)
                    };
                    if row.is_some_and(|r| r.treat == Treat::Public) {
                        return;
                    }
                    let ctx = Ctx {
                        row,
                        key,
                        mark: Some(mark),
                        default_fix,
                    };
                    let exact = marks.covers_exactly(path, dynamic);
                    if let Some(d) = engine.analyze_marked_number(dom.raw(src, node), &ctx, exact) {
                        let n = dom.node(node);
                        hits.push((path.to_vec(), Pos::of(n), vec![d]));
                    }
                },
            );
        }
        if let Some(fix) = named {
            for (_, path, pos, digest, preview) in misses {
                let mut rel: Vec<Step<'_>> = rel_prefix.to_vec();
                rel.extend(path.iter().cloned());
                let shown = self.shown(unit, &rel, &path);
                self.value_sites.push(ValueSite {
                    digest,
                    preview,
                    at: SiteAt {
                        section: section.to_string(),
                        address: address.clone(),
                        json_pointer: shown.json_pointer,
                        attribute_path: shown.attribute_path,
                        masked: shown.masked,
                        masked_steps: shown.steps,
                        fix,
                        pos,
                    },
                });
            }
        }
        // Member names that are secrets themselves (`{(var.token) = ...}`): Terraform writes
        // them as they are, in the value and its type alike; reported where the value is.
        let mut path: Vec<Step<'s>> = Vec::new();
        walk_keys(src, dom, id, &mut path, &mut |path, key_node| {
            let Some(Step::Key(k)) = path.last() else {
                return;
            };
            if let Some(d) = self.key_detection(k) {
                hits.push((path.to_vec(), Pos::of_key(src, dom, key_node), vec![d]));
            }
        });
        self.push_hits(hits, section, address, unit, rel_prefix);
    }

    /// Reports `hits`: each a path under `rel_prefix` of `unit`, where it is in the file, and
    /// what was found there.
    fn push_hits<'s>(
        &mut self,
        hits: Vec<(Vec<Step<'s>>, Pos, Vec<Detection>)>,
        section: &str,
        address: &Address,
        unit: &str,
        rel_prefix: &[Step<'s>],
    ) {
        for (path, pos, dets) in hits {
            let mut rel: Vec<Step<'_>> = rel_prefix.to_vec();
            rel.extend(path.iter().cloned());
            self.dets = dets;
            self.push_dets(&Site {
                section,
                address,
                unit_pointer: unit,
                rel: &rel,
                attr: &path,
                pos,
            });
        }
    }

    /// Like `values`, but a bare string value gets `key` as its key context.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn values_keyed<'s>(
        &mut self,
        src: &'s [u8],
        dom: &Dom,
        id: NodeId,
        section: &str,
        address: &Address,
        unit: &str,
        rel: &[Step<'s>],
        rows: &[&Row],
        marks: &Marks,
        mark: Mark,
        fix: &str,
        key: &str,
    ) {
        let dets = if matches!(dom.node(id).kind, JKind::Str { .. }) {
            let Some(value) = dom.str(src, id) else {
                let n = dom.node(id);
                self.utf8.get_or_insert((n.line, n.column));
                return;
            };
            let mut dets = Vec::new();
            self.engine.analyze(
                &value,
                &Ctx {
                    row: rows.first().copied(),
                    key: Some(key),
                    mark: (!marks.is_empty()).then_some(mark),
                    default_fix: fix,
                },
                &mut dets,
            );
            if dets.is_empty() {
                if let Some(fix) = self.named.filter(|_| value.len() >= SameValue::MIN_LEN) {
                    let n = dom.node(id);
                    let shown = self.shown(unit, rel, &[]);
                    self.value_sites.push(ValueSite {
                        digest: self.engine.value_digest(&value),
                        preview: preview(&value),
                        at: SiteAt {
                            section: section.to_string(),
                            address: address.clone(),
                            json_pointer: shown.json_pointer,
                            attribute_path: String::new(),
                            masked: shown.masked,
                            masked_steps: shown.steps,
                            fix,
                            pos: Pos::of(n),
                        },
                    });
                }
                return;
            }
            dets
        } else if dom.node(id).kind == JKind::Number {
            // A number is reported only when marked (and the mark is on this value itself).
            if !self.numbers || marks.is_empty() {
                return;
            }
            let ctx = Ctx {
                row: rows.first().copied(),
                key: Some(key),
                mark: Some(mark),
                default_fix: fix,
            };
            let Some(d) = self
                .engine
                .analyze_marked_number(dom.raw(src, id), &ctx, true)
            else {
                return;
            };
            vec![d]
        } else {
            self.values(
                src, dom, id, section, address, unit, rel, rows, marks, mark, fix,
            );
            return;
        };
        let n = dom.node(id);
        self.dets = dets;
        self.push_dets(&Site {
            section,
            address,
            unit_pointer: unit,
            rel,
            attr: &[],
            pos: Pos::of(n),
        });
    }

    /// A resource identity (Terraform 1.12+: a state instance's `identity`, a show resource's
    /// `identity`, a change's `before_identity` / `after_identity` / `importing.identity`): what
    /// the provider finds the object by, which is meant to be IDs. Key names and content rules
    /// apply as anywhere (no table row: the attribute names are not the schema's). Reported in a
    /// section of its own, with the attribute path inside the identity.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn identity(
        &mut self,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        section: &str,
        address: &Address,
        unit: &str,
        member: &'static str,
    ) {
        if dom.node(id).kind != JKind::Object {
            return;
        }
        let rel: Vec<Step<'_>> = member
            .split('/')
            .map(|m| Step::Key(Cow::Borrowed(m)))
            .collect();
        self.values(
            src,
            dom,
            id,
            section,
            address,
            unit,
            &rel,
            &[],
            &Marks::default(),
            Mark::SensitiveAttributes,
            GENERIC_FIX,
        );
    }
}

impl Scanner<'_> {
    /// Member names in a plan change's `after_unknown`, `after_sensitive` or `before_sensitive`
    /// (`tree`, under `rel_prefix` of `unit`) that are secrets themselves and are not names in
    /// the value the tree describes (`value`, where they are reported): Terraform leaves an
    /// element whose value is unknown out of `after` and names it in `after_unknown` only
    /// (`triggers_replace = {(var.token) = aws_instance.x.id}` at create).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn mark_tree_keys<'s>(
        &mut self,
        src: &'s [u8],
        dom: &Dom,
        tree: NodeId,
        value: Option<NodeId>,
        section: &str,
        address: &Address,
        unit: &str,
        rel_prefix: &[Step<'s>],
    ) {
        let mut hits: Vec<(Vec<Step<'s>>, Pos, Vec<Detection>)> = Vec::new();
        let mut path: Vec<Step<'s>> = Vec::new();
        walk_keys(src, dom, tree, &mut path, &mut |path, key_node| {
            let Some(Step::Key(k)) = path.last() else {
                return;
            };
            if value.is_some_and(|v| node_at(src, dom, v, path).is_some()) {
                return;
            }
            if let Some(d) = self.key_detection(k) {
                hits.push((path.to_vec(), Pos::of_key(src, dom, key_node), vec![d]));
            }
        });
        self.push_hits(hits, section, address, unit, rel_prefix);
    }
}

/// The node at `path` under `id`, if there is one.
fn node_at(src: &[u8], dom: &Dom, id: NodeId, path: &[Step<'_>]) -> Option<NodeId> {
    let mut at = id;
    for step in path {
        at = match (step, dom.node(at).kind) {
            (Step::Key(k), JKind::Object) => dom.get(src, at, k)?,
            (Step::Idx(i), JKind::Array) => dom.elements(at).nth(*i)?,
            _ => return None,
        };
    }
    Some(at)
}

/// Visit every member name under `id` with its path (ending in the name) and the name's node;
/// the type of a dynamic value is not visited (see [`walk_leaves`]).
fn walk_keys<'s>(
    src: &'s [u8],
    dom: &Dom,
    id: NodeId,
    path: &mut Vec<Step<'s>>,
    f: &mut dyn FnMut(&[Step<'s>], NodeId),
) {
    match dom.node(id).kind {
        JKind::Array => {
            for (i, el) in dom.elements(id).enumerate() {
                path.push(Step::Idx(i));
                walk_keys(src, dom, el, path, f);
                path.pop();
            }
        }
        JKind::Object if is_dynamic_value(src, dom, id) => {
            if let Some(v) = dom.get(src, id, "value") {
                path.push(Step::Key(Cow::Borrowed("value")));
                walk_keys(src, dom, v, path, f);
                path.pop();
            }
        }
        JKind::Object => {
            for (k, v) in dom.members(id) {
                let Some(name) = dom.str(src, k) else {
                    continue;
                };
                path.push(Step::Key(name));
                f(path, k);
                walk_keys(src, dom, v, path, f);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A member of an object marked sensitive as a whole that is configuration, not a secret: no key
/// rule fires on it, and its value is safe-listed for key rules (an ID, an ARN, a number, a
/// date, a path or URL, a placeholder or setting word) or is a plain name that does not look
/// generated: letters, digits and `. _ : / @ + -` only, without both capitals and digits
/// (`db.example.eu-west-1.rds.amazonaws.com`, `postgres`, `admins`, `SQLAzure`, `gp3`). A
/// generated value (`random_password`, a token, a key) has symbols, or capitals and digits, or
/// a run that [`looks_random`](crate::rules::looks_random), or is a bare name of letters and
/// digits that [`looks_generated`](super::english::looks_generated) (`k3x9mq2vbz7w`).
pub(super) fn is_configuration_member(rules: &crate::rules::Rules, key: &str, value: &str) -> bool {
    configuration_member(rules, key, value, true)
}

/// [`is_configuration_member`], with or without [`looks_generated`](super::english::looks_generated)
/// (the measurement in `english::tests` compares the two).
pub(super) fn configuration_member(
    rules: &crate::rules::Rules,
    key: &str,
    value: &str,
    english: bool,
) -> bool {
    let v = value.trim();
    if rules.key_match(key, v).is_some() {
        return false;
    }
    if rules.is_safe_value(v, Some(crate::rules::Strength::Medium)) {
        return true;
    }
    let plain = v
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._:/@+-".contains(&b));
    let capitals_and_digits =
        v.bytes().any(|b| b.is_ascii_uppercase()) && v.bytes().any(|b| b.is_ascii_digit());
    let generated = english && super::english::looks_generated(v);
    plain && !capitals_and_digits && !crate::rules::looks_random(v) && !generated
}
