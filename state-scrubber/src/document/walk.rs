//! The tree walkers: string (or number) leaves with their paths and key context, dynamic
//! values, flatmap keys.

use crate::detect::Step;
use crate::json::{Dom, Kind as JKind, NodeId};
use std::borrow::Cow;

/// Callback of [`walk_nodes`]: path, the indices in it of the `value` steps of dynamic values
/// (see [`is_dynamic_value`]), key context, string node.
type NodeFn<'f, 's> = dyn FnMut(&[Step<'s>], &[usize], Option<&str>, NodeId) + 'f;

/// Is `id` a value of type `dynamic` as state v4 stores it: `{"value": V, "type": T}` with T a cty
/// type (`"string"`, `["object", {...}]`, ...)? `terraform_data.input`/`output`, a
/// `kubernetes_manifest`'s `manifest`, `terraform_remote_state.outputs`. T is never a secret, and
/// Terraform's paths (`sensitive_attributes`) do not name the `value` step.
pub fn is_dynamic_value(src: &[u8], dom: &Dom, id: NodeId) -> bool {
    if dom.node(id).kind != JKind::Object || dom.len(id) != 2 || dom.get(src, id, "value").is_none()
    {
        return false;
    }
    let Some(t) = dom.get(src, id, "type") else {
        return false;
    };
    let head = match dom.node(t).kind {
        JKind::Str { .. } => Some(t),
        JKind::Array => dom.elements(t).next(),
        _ => None,
    };
    let Some(name) = head.and_then(|h| dom.str(src, h)) else {
        return false;
    };
    match dom.node(t).kind {
        JKind::Array => matches!(name.as_ref(), "list" | "set" | "map" | "object" | "tuple"),
        _ => matches!(name.as_ref(), "string" | "number" | "bool" | "dynamic"),
    }
}

/// Visit string leaves with their node ids (for positions). `over` is the key context given by a
/// `{"name": K, "value": V}` pair; otherwise the callback uses the last key of the path. The type
/// of a dynamic value is not visited, and its value has the attribute's name as key context.
pub(super) fn walk_nodes<'s>(
    src: &'s [u8],
    dom: &Dom,
    id: NodeId,
    path: &mut Vec<Step<'s>>,
    dynamic: &mut Vec<usize>,
    over: Option<&str>,
    f: &mut NodeFn<'_, 's>,
) {
    walk_leaves(src, dom, id, path, dynamic, over, Leaf::String, f)
}

/// Which leaves [`walk_leaves`] visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Leaf {
    String,
    Number,
}

/// [`walk_nodes`] over the leaves of one JSON type.
#[allow(clippy::too_many_arguments)]
pub(super) fn walk_leaves<'s>(
    src: &'s [u8],
    dom: &Dom,
    id: NodeId,
    path: &mut Vec<Step<'s>>,
    dynamic: &mut Vec<usize>,
    over: Option<&str>,
    leaf: Leaf,
    f: &mut NodeFn<'_, 's>,
) {
    match dom.node(id).kind {
        JKind::Str { .. } if leaf == Leaf::String => {
            let key = over.or_else(|| last_key(path));
            f(path, dynamic, key, id)
        }
        JKind::Number if leaf == Leaf::Number => {
            let key = over.or_else(|| last_key(path));
            f(path, dynamic, key, id)
        }
        JKind::Array => {
            for (i, el) in dom.elements(id).enumerate() {
                path.push(Step::Idx(i));
                walk_leaves(src, dom, el, path, dynamic, over, leaf, f);
                path.pop();
            }
        }
        JKind::Object if is_dynamic_value(src, dom, id) => {
            let Some(v) = dom.get(src, id, "value") else {
                return;
            };
            let key = over.or_else(|| last_key(path)).map(str::to_string);
            dynamic.push(path.len());
            path.push(Step::Key(Cow::Borrowed("value")));
            walk_leaves(src, dom, v, path, dynamic, key.as_deref(), leaf, f);
            path.pop();
            dynamic.pop();
        }
        JKind::Object => {
            let pair_name = if dom.len(id) <= 4 && !crate::detect::pair_is_reference(src, dom, id) {
                ["name", "Name", "key", "Key"]
                    .iter()
                    .find_map(|k| dom.get(src, id, k))
                    .and_then(|n| dom.str(src, n))
            } else {
                None
            };
            for (k, v) in dom.members(id) {
                let Some(kname) = dom.str(src, k) else {
                    continue;
                };
                let is_value = matches!(kname.as_ref(), "value" | "Value");
                path.push(Step::Key(kname));
                let o = if is_value { pair_name.as_deref() } else { None };
                walk_leaves(src, dom, v, path, dynamic, o, leaf, f);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The path of a flatmap key (`a.0.b`).
pub(super) fn flat_steps(key: &str) -> Vec<Step<'static>> {
    key.split('.')
        .map(|s| match s.parse::<usize>() {
            Ok(i) => Step::Idx(i),
            Err(_) => Step::Key(Cow::Owned(s.to_string())),
        })
        .collect()
}

fn last_key<'a>(path: &'a [Step<'_>]) -> Option<&'a str> {
    path.iter().rev().find_map(|s| match s {
        Step::Key(k) => Some(k.as_ref()),
        Step::Idx(_) => None,
    })
}
