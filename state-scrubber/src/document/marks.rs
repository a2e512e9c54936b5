//! Sensitivity marks: the paths an artifact marks sensitive, and whether they cover a leaf.

use crate::detect::Step;
use crate::json::{Dom, Kind as JKind, NodeId};
use crate::table::Row;

/// Paths the artifact marks sensitive. `all` marks everything below the unit.
#[derive(Debug, Default)]
pub struct Marks {
    all: bool,
    paths: Vec<Vec<MarkStep>>,
}

#[derive(Debug, Clone, PartialEq)]
enum MarkStep {
    Key(String),
    Idx(usize),
}

impl Marks {
    pub(super) fn all() -> Marks {
        Marks {
            all: true,
            paths: vec![],
        }
    }
    pub(super) fn is_empty(&self) -> bool {
        !self.all && self.paths.is_empty()
    }

    /// `sensitive_attributes`: `[[{"type":"get_attr","value":"a"},{"type":"index","value":{"value":0,"type":"number"}}]]`.
    pub(super) fn from_state(src: &[u8], dom: &Dom, id: NodeId) -> Marks {
        let mut m = Marks::default();
        for path in dom.elements(id) {
            let mut steps = Vec::new();
            for step in dom.elements(path) {
                let ty = dom.get(src, step, "type").and_then(|n| dom.str(src, n));
                let Some(v) = dom.get(src, step, "value") else {
                    continue;
                };
                match ty.as_deref() {
                    Some("get_attr") => {
                        if let Some(s) = dom.str(src, v) {
                            steps.push(MarkStep::Key(s.into_owned()));
                        }
                    }
                    Some("index") => {
                        let inner = dom.get(src, v, "value").unwrap_or(v);
                        match dom.node(inner).kind {
                            JKind::Number => steps.push(MarkStep::Idx(
                                dom.raw(src, inner).parse().unwrap_or(usize::MAX),
                            )),
                            JKind::Str { .. } => {
                                if let Some(s) = dom.str(src, inner) {
                                    steps.push(MarkStep::Key(s.into_owned()));
                                }
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            if steps.is_empty() {
                m.all = true;
            } else {
                m.paths.push(steps);
            }
        }
        m
    }

    /// `sensitive_values` / `*_sensitive`: a shape with `true` at sensitive subtrees.
    pub(super) fn from_shape(src: &[u8], dom: &Dom, id: NodeId) -> Marks {
        let mut m = Marks::default();
        let mut path = Vec::new();
        fn rec(src: &[u8], dom: &Dom, id: NodeId, path: &mut Vec<MarkStep>, m: &mut Marks) {
            match dom.node(id).kind {
                JKind::Bool(true) => {
                    if path.is_empty() {
                        m.all = true;
                    } else {
                        m.paths.push(path.clone());
                    }
                }
                JKind::Object => {
                    for (k, v) in dom.members(id) {
                        if let Some(k) = dom.str(src, k) {
                            path.push(MarkStep::Key(k.into_owned()));
                            rec(src, dom, v, path, m);
                            path.pop();
                        }
                    }
                }
                JKind::Array => {
                    for (i, v) in dom.elements(id).enumerate() {
                        path.push(MarkStep::Idx(i));
                        rec(src, dom, v, path, m);
                        path.pop();
                    }
                }
                _ => {}
            }
        }
        rec(src, dom, id, &mut path, &mut m);
        m
    }

    /// Does a mark cover the leaf at `path`? Marks are Terraform's paths, which do not name the
    /// `value` step of a dynamic value (`dynamic`: indices of those steps in `path`), so the path is
    /// matched both as written and without those steps.
    pub(super) fn covers(&self, path: &[Step<'_>], dynamic: &[usize]) -> bool {
        if self.all {
            return true;
        }
        self.covers_steps(path.iter().map(StepRef::of))
            || (!dynamic.is_empty() && self.covers_steps(cty_path(path, dynamic)))
    }

    /// Does a mark name the leaf at `path` itself (not an object or list above it)? `all` names
    /// the unit, which is a leaf only when `path` is empty (an output or variable whose value is
    /// a number).
    pub(super) fn covers_exactly(&self, path: &[Step<'_>], dynamic: &[usize]) -> bool {
        let exact = |steps: &mut dyn Iterator<Item = StepRef<'_>>| {
            let steps: Vec<StepRef<'_>> = steps.collect();
            (self.all && steps.is_empty())
                || self.paths.iter().any(|mp| {
                    mp.len() == steps.len()
                        && mp.iter().zip(&steps).all(|(m, s)| match (m, s) {
                            (MarkStep::Key(x), StepRef::Key(y)) => x == y,
                            (MarkStep::Idx(x), StepRef::Idx(y)) => x == y,
                            _ => false,
                        })
                })
        };
        exact(&mut path.iter().map(StepRef::of))
            || (!dynamic.is_empty() && exact(&mut cty_path(path, dynamic)))
    }

    fn covers_steps<'a>(&self, steps: impl Iterator<Item = StepRef<'a>> + Clone) -> bool {
        self.all
            || self.paths.iter().any(|mp| {
                let mut it = steps.clone();
                mp.iter().all(|m| match (m, it.next()) {
                    (MarkStep::Key(x), Some(StepRef::Key(y))) => x == y,
                    (MarkStep::Idx(x), Some(StepRef::Idx(y))) => *x == y,
                    _ => false,
                })
            })
    }

    /// For a row that mirrors another attribute (`sensitive:ATTR`): is the counterpart of the leaf
    /// at `path` under ATTR marked? `terraform_data.output.value.password` (Terraform's path
    /// `output.password`) mirrors `input.password`.
    pub(super) fn covers_mirror(&self, row: &Row, path: &[Step<'_>], dynamic: &[usize]) -> bool {
        let Some(from) = &row.when_sensitive else {
            return false;
        };
        if self.is_empty() {
            return false;
        }
        // Consume the row's keys (and the indices between them) from Terraform's path.
        let mut rest = cty_path(path, dynamic).peekable();
        for k in &row.path {
            while matches!(rest.peek(), Some(StepRef::Idx(_))) {
                rest.next();
            }
            if rest.next() != Some(StepRef::Key(k)) {
                return false;
            }
        }
        self.covers_steps(from.iter().map(|k| StepRef::Key(k)).chain(rest))
    }
}

/// A borrowed path step, for comparing paths without building them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum StepRef<'a> {
    Key(&'a str),
    Idx(usize),
}

impl<'a> StepRef<'a> {
    fn of(s: &'a Step<'_>) -> StepRef<'a> {
        match s {
            Step::Key(k) => StepRef::Key(k.as_ref()),
            Step::Idx(i) => StepRef::Idx(*i),
        }
    }
}

/// Terraform's path of a leaf: `path` without the `value` steps of dynamic values.
fn cty_path<'a>(
    path: &'a [Step<'_>],
    dynamic: &'a [usize],
) -> impl Iterator<Item = StepRef<'a>> + Clone {
    path.iter()
        .enumerate()
        .filter(|(i, _)| !dynamic.contains(i))
        .map(|(_, s)| StepRef::of(s))
}
