//! Terraform's own version against what the rewrites need: write-only arguments are Terraform
//! 1.11, `ephemeral` blocks and variables 1.10. A module whose `required_version` still lets an
//! older Terraform run (or that has none) is warned about, naming the constraint and what to
//! write instead: an older Terraform does not stop at the constraint with a version message but
//! fails on what migrate wrote ("Unsupported block type" for `ephemeral`, "Unsupported argument"
//! for `ephemeral = true`, the provider's "write-only attributes are only supported in Terraform
//! 1.11 and later" for `*_wo`).

use super::{key_start, span_of, Planner};
use crate::edit::line_number;
use crate::report::{Hazard, Warning};
use hcl_edit::expr::Expression;
use std::path::PathBuf;

/// A version as Terraform compares it here: major, minor, patch (a pre-release or build suffix
/// is dropped, as [`super::constraint_admits`] does).
type Version = [u64; 3];

/// The versions a conjunction of constraints admits: from `low` up to `high` (inclusive or
/// not), without `excluded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Admitted {
    low: Version,
    high: Option<(Version, bool)>,
    excluded: Vec<Version>,
}

impl Admitted {
    fn any() -> Self {
        Admitted {
            low: [0, 0, 0],
            high: None,
            excluded: Vec::new(),
        }
    }

    /// Terraform's constraint syntax (hashicorp/go-version): comma-separated `=`, `!=`, `>`,
    /// `>=`, `<`, `<=`, `~>` or a bare version. `None` when a part is not understood: then
    /// nothing is said about it.
    pub(super) fn parse(constraint: &str) -> Option<Self> {
        let mut out = Admitted::any();
        for part in constraint.split(',') {
            let part = part.trim();
            let (op, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
                .iter()
                .find_map(|op| part.strip_prefix(op).map(|rest| (*op, rest)))
                .unwrap_or(("=", part));
            let rest = rest.trim().trim_start_matches('v');
            let numbers = rest.split(['-', '+']).next()?;
            let parts: Vec<u64> = numbers
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            if parts.is_empty() || parts.len() > 3 {
                return None;
            }
            let v: Version = [0, 1, 2].map(|i| parts.get(i).copied().unwrap_or(0));
            match op {
                ">" => out.raise([v[0], v[1], v[2] + 1]),
                ">=" => out.raise(v),
                "<" => out.cap(v, false),
                "<=" => out.cap(v, true),
                "!=" => out.excluded.push(v),
                "~>" => {
                    out.raise(v);
                    // `~> 1.9` and `~> 1` allow 1.x; `~> 1.9.2` allows 1.9.x.
                    let upper = if parts.len() <= 2 {
                        [v[0] + 1, 0, 0]
                    } else {
                        [v[0], v[1] + 1, 0]
                    };
                    out.cap(upper, false);
                }
                _ => {
                    out.raise(v);
                    out.cap(v, true);
                }
            }
        }
        Some(out)
    }

    fn raise(&mut self, low: Version) {
        self.low = self.low.max(low);
    }

    fn cap(&mut self, high: Version, inclusive: bool) {
        self.high = Some(match self.high {
            Some((old, old_inclusive)) if old < high || (old == high && !old_inclusive) => {
                (old, old_inclusive)
            }
            _ => (high, inclusive),
        });
    }

    /// What both admit (Terraform checks every `required_version` of a module).
    fn and(mut self, other: &Admitted) -> Self {
        self.raise(other.low);
        if let Some((high, inclusive)) = other.high {
            self.cap(high, inclusive);
        }
        self.excluded.extend(other.excluded.iter().copied());
        self
    }

    fn admits(&self, v: Version) -> bool {
        v >= self.low
            && !self.excluded.contains(&v)
            && self
                .high
                .is_none_or(|(high, inclusive)| v < high || (inclusive && v == high))
    }

    /// The oldest version admitted, if any.
    fn oldest(&self) -> Option<Version> {
        let mut v = self.low;
        // Each excluded version can push the oldest up by one patch release at most.
        for _ in 0..=self.excluded.len() {
            if self.admits(v) {
                return Some(v);
            }
            v[2] += 1;
        }
        None
    }

    /// Whether some version from `needed` on is admitted (the upper bound is the only limit
    /// then; an excluded version or two cannot rule out all of them).
    fn admits_from(&self, needed: Version) -> bool {
        let from = Admitted {
            low: self.low.max(needed),
            ..self.clone()
        };
        from.oldest().is_some()
    }

    /// This constraint with its lower bound raised to `needed`, as it would be written.
    fn raised_to(&self, needed: Version) -> String {
        let mut parts = vec![format!(">= {}", show(needed))];
        if let Some((high, inclusive)) = self.high {
            parts.push(format!(
                "{} {}",
                if inclusive { "<=" } else { "<" },
                show(high)
            ));
        }
        parts.extend(
            self.excluded
                .iter()
                .filter(|v| **v >= needed)
                .map(|v| format!("!= {}", show(*v))),
        );
        parts.join(", ")
    }
}

fn show(v: Version) -> String {
    format!("{}.{}.{}", v[0], v[1], v[2])
}

/// One `required_version` argument: where it is and what it says.
struct Declared {
    path: PathBuf,
    line: usize,
    constraint: String,
}

impl Planner<'_> {
    /// The `required_version` constraints Terraform applies to this module: every primary
    /// file's (`.tf` and `.tf.json`), or, when an override file sets one, the last such override
    /// file's alone (Terraform's override merge replaces the whole list).
    fn required_versions(&self) -> Vec<Declared> {
        let mut primary: Vec<Declared> = Vec::new();
        for (file, block) in self.blocks("terraform") {
            if let Some(attr) = block.body.get_attribute("required_version") {
                if let Expression::String(s) = &attr.value {
                    primary.push(Declared {
                        path: self.files[file].path.clone(),
                        line: self.line(file, key_start(attr)),
                        constraint: s.value().to_string(),
                    });
                }
            }
        }
        let mut overridden: Option<Vec<Declared>> = None;
        // Terraform ignores OpenTofu's `.tofu` / `.tofu.json` files (their `required_version`
        // is OpenTofu's), so they neither add to nor override these constraints.
        for other in self
            .others
            .iter()
            .filter(|o| !crate::module::is_tofu(&o.name()))
        {
            let name = other.name();
            let found = if crate::module::is_json(&name) {
                json_required_versions(&other.src)
            } else {
                hcl_required_versions(&other.src)
            };
            if found.is_empty() {
                continue;
            }
            let declared = found.into_iter().map(|(line, constraint)| Declared {
                path: other.path.clone(),
                line,
                constraint,
            });
            if crate::module::is_override(&name) {
                overridden = Some(declared.collect());
            } else {
                primary.extend(declared);
            }
        }
        overridden.unwrap_or(primary)
    }

    /// Whether an override file sets `required_version`: then Terraform applies its constraint
    /// in place of every primary file's.
    pub(super) fn required_version_overridden(&self) -> bool {
        self.others.iter().any(|other| {
            let name = other.name();
            crate::module::is_override(&name)
                && !crate::module::is_tofu(&name)
                && !if crate::module::is_json(&name) {
                    json_required_versions(&other.src)
                } else {
                    hcl_required_versions(&other.src)
                }
                .is_empty()
        })
    }

    /// Warns when the module's `required_version` admits a Terraform older than `needed` that
    /// the rewrites (named by `what_needs`) need, or when a root module has none. Constraints
    /// that admit no version from `needed` on are left to the check that says so.
    pub(super) fn check_required_version(&mut self, needed: &str, what_needs: &str, is_root: bool) {
        let Some(needed_v) = Admitted::parse(needed).map(|a| a.low) else {
            return;
        };
        let declared = self.required_versions();
        let mut admitted = Admitted::any();
        for d in &declared {
            match Admitted::parse(&d.constraint) {
                Some(a) => admitted = admitted.and(&a),
                // A constraint not understood: say nothing rather than something wrong.
                None => return,
            }
        }
        let Some(oldest) = admitted.oldest() else {
            return;
        };
        if !admitted.admits_from(needed_v) {
            self.excluded_by_others(&declared, needed, what_needs);
            return;
        }
        if oldest >= needed_v {
            return;
        }
        let consequence = "an older Terraform does not stop at the constraint with a version message but fails on \
                           what migrate wrote (\"Unsupported block type\" or \"Unsupported argument\", or the \
                           provider refusing write-only attributes before Terraform 1.11)";
        let (path, line, message) = match declared.first() {
            None => {
                let Some(first) = self.files.first() else {
                    return;
                };
                // A called module usually leaves the Terraform version to the root. A module
                // with a `backend` or `cloud` block is a root one, wherever it sits (a run over
                // a repository of `envs/*` roots plans none of them as the first module).
                let has_backend = self.blocks("terraform").any(|(_, block)| {
                    block.body.get_blocks("backend").next().is_some()
                        || block.body.get_blocks("cloud").next().is_some()
                });
                if !is_root && !has_backend {
                    return;
                }
                let terraform = self
                    .blocks("terraform")
                    .next()
                    .map(|(file, block)| (file, span_of(block).start));
                // No `terraform` block: migrate may be adding one (for `required_providers`).
                let (path, line, add) = match (terraform, self.added_terraform_block) {
                    (None, Some((file, at))) => (
                        self.files[file].path.clone(),
                        self.line(file, at),
                        format!(
                            "add `required_version = \">= {}\"` to the `terraform` block migrate adds at the end of this file",
                            show(needed_v)
                        ),
                    ),
                    (Some((file, at)), _) => (
                        self.files[file].path.clone(),
                        self.line(file, at),
                        format!("add `required_version = \">= {}\"` to this `terraform` block", show(needed_v)),
                    ),
                    (None, None) => (
                        first.path.parent().map(|p| p.to_path_buf()).unwrap_or_default(),
                        0,
                        format!(
                            "add `terraform {{ required_version = \">= {}\" }}` to one of its files",
                            show(needed_v)
                        ),
                    ),
                };
                (
                    path,
                    line,
                    format!(
                        "this module sets no `required_version`, so any Terraform may run it, and {what_needs} \
                         Terraform >= {}: {consequence}; {add}",
                        show(needed_v)
                    ),
                )
            }
            Some(_) => {
                // The constraint with the highest lower bound: raising it is enough, as
                // Terraform checks them all.
                let mut chosen: Option<(&Declared, Admitted)> = None;
                for d in &declared {
                    let Some(own) = Admitted::parse(&d.constraint) else {
                        continue;
                    };
                    if chosen.as_ref().is_none_or(|(_, best)| own.low > best.low) {
                        chosen = Some((d, own));
                    }
                }
                let Some((d, own)) = chosen else {
                    return;
                };
                let others = if declared.len() > 1 {
                    " (with the module's other `required_version` constraints)"
                } else {
                    ""
                };
                (
                    d.path.clone(),
                    d.line,
                    format!(
                        "`required_version` is {:?}, which lets Terraform {} run this module{others}, and {what_needs} \
                         Terraform >= {}: {consequence}; make it \"{}\"",
                        d.constraint,
                        show(oldest),
                        show(needed_v),
                        own.raised_to(needed_v)
                    ),
                )
            }
        };
        self.plan.warnings.push(Warning {
            path,
            line,
            hazard: Hazard::OlderTerraformAdmitted,
            message,
        });
    }
}

impl Planner<'_> {
    /// When only an override or `.tf.json` file's `required_version` rules out every Terraform
    /// from `needed` on (Terraform uses an override's in place of the `.tf` files'), the warning
    /// the `.tf` files' check gives: that check reads `.tf` files only.
    fn excluded_by_others(&mut self, declared: &[Declared], needed: &str, what_needs: &str) {
        let in_tf = !self.required_version_overridden()
            && self
                .version_constraints("terraform")
                .iter()
                .any(|(_, _, constraint)| !super::constraint_admits(constraint, needed));
        if in_tf {
            return;
        }
        let tf_files: Vec<&PathBuf> = self.files.iter().map(|f| &f.path).collect();
        let Some(d) = declared.iter().find(|d| !tf_files.contains(&&d.path)) else {
            return;
        };
        let name = d
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let whose = if crate::module::is_override(&name) {
            format!(
                "`{name}` overrides the module's `required_version` with {:?}",
                d.constraint
            )
        } else {
            format!("`required_version` is {:?} in `{name}`", d.constraint)
        };
        self.plan.warnings.push(Warning {
            path: d.path.clone(),
            line: d.line,
            hazard: Hazard::VersionConstraintExcludes,
            message: format!(
                "{whose}, which excludes {needed} and later, and {what_needs} Terraform >= {needed}: widen the \
                 constraint (migrate does not rewrite this file)"
            ),
        });
    }
}

/// The `required_version` strings of an HCL file migrate does not rewrite (an override file),
/// with their lines; none when it does not parse.
fn hcl_required_versions(src: &str) -> Vec<(usize, String)> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let Ok((body, _)) = crate::module::parse_body(src) else {
        return Vec::new();
    };
    body.blocks()
        .filter(|block| block.ident.as_str() == "terraform")
        .filter_map(|block| block.body.get_attribute("required_version"))
        .filter_map(|attr| match &attr.value {
            Expression::String(s) => Some((
                line_number(src, span_of(&attr.key).start),
                s.value().to_string(),
            )),
            _ => None,
        })
        .collect()
}

/// The `required_version` strings of a `.tf.json` file, with the line of the first
/// `"required_version"` key (Terraform's JSON syntax takes a block as an object or an array of
/// objects).
fn json_required_versions(src: &str) -> Vec<(usize, String)> {
    let Ok(root) = serde_json::from_str::<serde_json::Value>(src) else {
        return Vec::new();
    };
    let blocks: Vec<&serde_json::Value> = match root.get("terraform") {
        Some(serde_json::Value::Array(items)) => items.iter().collect(),
        Some(block) => vec![block],
        None => Vec::new(),
    };
    let line = src
        .find("\"required_version\"")
        .map_or(1, |at| line_number(src, at));
    blocks
        .into_iter()
        .filter_map(|block| block.get("required_version")?.as_str())
        .map(|constraint| (line, constraint.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Admitted;

    /// The oldest Terraform each constraint lets run, and whether it admits 1.11.0 or later.
    #[test]
    fn constraints_read_as_terraform_reads_them() {
        for (constraint, oldest, from_1_11) in [
            (">= 1.5, < 2.0", Some("1.5.0"), true),
            ("~> 1.9", Some("1.9.0"), true),
            ("~> 1.9.0", Some("1.9.0"), false),
            ("~> 1", Some("1.0.0"), true),
            ("= 1.12.0", Some("1.12.0"), true),
            ("1.12.0", Some("1.12.0"), true),
            ("1.9.8", Some("1.9.8"), false),
            ("> 1.10", Some("1.10.1"), true),
            (">=1.11", Some("1.11.0"), true),
            (">= 1.11.0-beta1", Some("1.11.0"), true),
            ("< 1.11", Some("0.0.0"), false),
            ("<= 1.11.0", Some("0.0.0"), true),
            (">= 1.10, != 1.10.0", Some("1.10.1"), true),
            ("= 1.10.0, != 1.10.0", None, false),
            (">= 1.12, < 1.11", None, false),
        ] {
            let admitted = Admitted::parse(constraint).expect(constraint);
            assert_eq!(
                admitted.oldest().map(super::show),
                oldest.map(str::to_owned),
                "{constraint}"
            );
            assert_eq!(admitted.admits_from([1, 11, 0]), from_1_11, "{constraint}");
        }
        for not_understood in ["", ">= one", "~> 1.2.3.4", ">= ${var.v}"] {
            assert_eq!(Admitted::parse(not_understood), None, "{not_understood:?}");
        }
    }

    #[test]
    fn several_constraints_admit_what_all_do() {
        let both = Admitted::parse(">= 1.5")
            .unwrap()
            .and(&Admitted::parse(">= 1.11, < 2.0").unwrap());
        assert_eq!(both.oldest(), Some([1, 11, 0]));
        let both = Admitted::parse(">= 1.5, < 2.0")
            .unwrap()
            .and(&Admitted::parse("< 1.13").unwrap());
        assert_eq!(both.oldest(), Some([1, 5, 0]));
        assert_eq!(both.raised_to([1, 11, 0]), ">= 1.11.0, < 1.13.0");
    }
}
