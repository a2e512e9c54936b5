//! The summary people read: totals by severity, by provider and resource type, by state, and the
//! fixes that remove the most findings. Built from findings only (which hold no value).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::audit::AuditReport;
use crate::finding::{Finding, Severity};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
}

impl Counts {
    fn add(&mut self, s: Severity) {
        match s {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
        }
    }
    pub fn total(&self) -> usize {
        self.critical + self.high + self.medium + self.low
    }
    /// `3 critical, 12 high` (zeros left out).
    pub fn describe(&self) -> String {
        let v: Vec<String> = [
            (self.critical, "critical"),
            (self.high, "high"),
            (self.medium, "medium"),
            (self.low, "low"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, s)| format!("{n} {s}"))
        .collect();
        v.join(", ")
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub name: String,
    pub findings: usize,
    pub by_severity: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceTypeGroup {
    pub provider: String,
    pub resource_type: String,
    pub findings: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    /// `aws_db_instance.password`: resource type and top-level attribute (or the output,
    /// variable, backend or provider block).
    pub target: String,
    /// The short form of the fix: `password_wo + password_wo_version`.
    pub to: String,
    /// The full text of the fix.
    pub fix: String,
    pub findings: usize,
    /// States holding such a finding.
    pub states: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub findings: usize,
    pub states_scanned: usize,
    pub states_with_findings: usize,
    pub bytes_scanned: u64,
    pub by_severity: Counts,
    pub by_provider: Vec<Group>,
    pub by_resource_type: Vec<ResourceTypeGroup>,
    /// Every state with findings, most findings first.
    pub by_state: Vec<Group>,
    /// Most findings removed first.
    pub top_fixes: Vec<Fix>,
}

/// `aws` of `aws_db_instance`; the pseudo modes (output, variable, backend, provider) as such.
fn provider_and_type(f: &Finding) -> (String, String) {
    let r = &f.resource;
    match r.mode.as_str() {
        "managed" | "data" if !r.resource_type.is_empty() => {
            let p = r
                .resource_type
                .split('_')
                .next()
                .unwrap_or(&r.resource_type);
            let t = if r.mode == "data" {
                format!("data.{}", r.resource_type)
            } else {
                r.resource_type.clone()
            };
            (p.to_string(), t)
        }
        mode => {
            let t = if r.resource_type.is_empty() {
                mode.to_string()
            } else {
                format!("{mode}.{}", r.resource_type)
            };
            (format!("({mode})"), t)
        }
    }
}

/// The top-level attribute of a path: `master_user_options` of `master_user_options[0].x`.
fn root_attribute(path: &str) -> &str {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    &path[..end]
}

fn fix_target(f: &Finding) -> String {
    if let Some(rest) = f.rule_id.strip_prefix("attr.") {
        return rest.to_string();
    }
    let (_, t) = provider_and_type(f);
    let attr = root_attribute(&f.attribute_path);
    match f.resource.mode.as_str() {
        "output" => "outputs".to_string(),
        "variable" => "variables".to_string(),
        _ if attr.is_empty() => t,
        _ => format!("{t}.{attr}"),
    }
}

/// The gist of a fix text: the write-only twin, the ephemeral resource, else its first clause.
pub fn short_fix(fix: &str) -> String {
    if let Some(rest) = fix.strip_prefix("set the write-only `") {
        if let Some(end) = rest.find('`') {
            return rest[..end].to_string();
        }
    }
    if let Some(rest) = fix.strip_prefix("use ") {
        if let Some(end) = rest.find(" (") {
            return rest[..end].to_string();
        }
    }
    if fix == crate::table::GENERIC_FIX {
        return "offstate_secret (value_wo) + ephemeral offstate_secret_value".to_string();
    }
    let first = fix.split(';').next().unwrap_or(fix).trim();
    let mut s: String = first.chars().take(90).collect();
    if s.len() < first.len() {
        s.push('…');
    }
    s
}

impl Summary {
    pub fn of(report: &AuditReport) -> Summary {
        let mut by_severity = Counts::default();
        let mut providers: BTreeMap<String, Counts> = BTreeMap::new();
        let mut types: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut by_state = Vec::new();
        // (target, fix) -> (findings, states)
        let mut fixes: HashMap<(String, String), (usize, usize)> = HashMap::new();
        for file in &report.files {
            if file.findings.is_empty() {
                continue;
            }
            let mut c = Counts::default();
            let mut seen_here: std::collections::HashSet<(String, String)> = Default::default();
            for f in &file.findings {
                by_severity.add(f.severity);
                c.add(f.severity);
                let (p, t) = provider_and_type(f);
                providers.entry(p.clone()).or_default().add(f.severity);
                *types.entry((p, t)).or_default() += 1;
                let key = (fix_target(f), f.fix.clone());
                let e = fixes.entry(key.clone()).or_default();
                e.0 += 1;
                if seen_here.insert(key) {
                    e.1 += 1;
                }
            }
            by_state.push(Group {
                name: file.file.clone(),
                findings: c.total(),
                by_severity: c,
            });
        }
        by_state.sort_by(|a, b| b.findings.cmp(&a.findings).then(a.name.cmp(&b.name)));
        let mut by_provider: Vec<Group> = providers
            .into_iter()
            .map(|(name, c)| Group {
                name,
                findings: c.total(),
                by_severity: c,
            })
            .collect();
        by_provider.sort_by(|a, b| b.findings.cmp(&a.findings).then(a.name.cmp(&b.name)));
        let mut by_resource_type: Vec<ResourceTypeGroup> = types
            .into_iter()
            .map(|((provider, resource_type), findings)| ResourceTypeGroup {
                provider,
                resource_type,
                findings,
            })
            .collect();
        by_resource_type.sort_by(|a, b| {
            b.findings
                .cmp(&a.findings)
                .then(a.resource_type.cmp(&b.resource_type))
        });
        let mut top_fixes: Vec<Fix> = fixes
            .into_iter()
            .map(|((target, fix), (findings, states))| Fix {
                target,
                to: short_fix(&fix),
                fix,
                findings,
                states,
            })
            .collect();
        top_fixes.sort_by(|a, b| {
            b.findings
                .cmp(&a.findings)
                .then(a.target.cmp(&b.target))
                .then(a.fix.cmp(&b.fix))
        });
        let scanned: Vec<_> = report
            .files
            .iter()
            .filter(|f| f.error.is_none() && !f.is_skipped())
            .collect();
        Summary {
            findings: by_severity.total(),
            states_scanned: scanned.len(),
            states_with_findings: by_state.len(),
            bytes_scanned: scanned.iter().map(|f| f.bytes as u64).sum(),
            by_severity,
            by_provider,
            by_resource_type,
            by_state,
            top_fixes,
        }
    }

    /// The summary as text: a block for the end of the text report. Empty without findings, and
    /// for a single state (whose listing above, grouped by resource, says it all).
    pub fn render_text(&self, top: usize) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        if self.findings == 0 || self.states_scanned < 2 {
            return out;
        }
        let _ = writeln!(out, "Summary");
        let _ = writeln!(out, "  by severity:  {}", self.by_severity.describe());
        let provs: Vec<String> = self
            .by_provider
            .iter()
            .map(|g| format!("{} {}", g.name, g.findings))
            .collect();
        let _ = writeln!(out, "  by provider:  {}", provs.join(", "));
        let _ = writeln!(out, "  by resource type:");
        for g in self.by_resource_type.iter().take(top) {
            let _ = writeln!(out, "    {:>6}  {}", g.findings, g.resource_type);
        }
        more(&mut out, self.by_resource_type.len(), top, "resource types");
        let _ = writeln!(
            out,
            "  by state ({} of {} with findings):",
            self.states_with_findings, self.states_scanned
        );
        for g in self.by_state.iter().take(top) {
            let _ = writeln!(
                out,
                "    {:>6}  {}  ({})",
                g.findings,
                g.name,
                g.by_severity.describe()
            );
        }
        more(&mut out, self.by_state.len(), top, "states");
        let _ = writeln!(out, "  top fixes:");
        for x in self.top_fixes.iter().take(top) {
            let _ = writeln!(
                out,
                "    {:>6}  `{}` → {}  (in {} state{})",
                x.findings,
                x.target,
                x.to,
                x.states,
                if x.states == 1 { "" } else { "s" }
            );
        }
        more(&mut out, self.top_fixes.len(), top, "fixes");
        out.push('\n');
        out
    }
}

fn more(out: &mut String, n: usize, top: usize, what: &str) {
    if n > top {
        out.push_str(&format!(
            "    … {} more {what} (--format json or html lists all)\n",
            n - top
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_fixes() {
        assert_eq!(
            short_fix("set the write-only `password_wo + password_wo_version` instead of `password` (hashicorp/aws >= 5.88.0, Terraform >= 1.11); the value then never reaches state"),
            "password_wo + password_wo_version"
        );
        assert_eq!(
            short_fix("use ephemeral \"random_password\" (Terraform >= 1.10) so the value is never persisted"),
            "ephemeral \"random_password\""
        );
        assert_eq!(
            root_attribute("master_user_options[0].x"),
            "master_user_options"
        );
        assert_eq!(root_attribute("password"), "password");
    }
}
