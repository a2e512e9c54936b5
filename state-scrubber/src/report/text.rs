//! Human-readable report, grouped by file and resource. Colour only when asked (a terminal).

use std::fmt::Write as _;

use crate::audit::AuditReport;
use crate::document::DocKind;
use crate::finding::Severity;

use super::{printable as p, printable_lines};

pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn sev(&self, s: Severity) -> String {
        let label = format!("{:<8}", s.as_str().to_uppercase());
        let code = match s {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
        };
        self.paint(code, &label)
    }
}

pub fn render(report: &AuditReport, style: &Style, verbose: bool) -> String {
    let mut out = String::new();
    for f in &report.files {
        if f.error.is_some() {
            continue;
        }
        if f.kind == Some(DocKind::Encrypted) {
            let _ = writeln!(
                out,
                "{}  OpenTofu-encrypted state: recognised, not scanned (decrypt with `tofu state pull` to audit it)",
                style.paint("1", &p(&f.file)),
            );
            continue;
        }
        if f.is_skipped() {
            if verbose {
                for n in &f.notes {
                    let _ = writeln!(out, "{}  {}", style.paint("1", &p(&f.file)), p(n));
                }
            }
            continue;
        }
        if f.findings.is_empty() {
            if verbose || !f.notes.is_empty() {
                let _ = writeln!(out, "{}  no findings", style.paint("1", &p(&f.file)));
            }
            for n in &f.notes {
                let _ = writeln!(out, "  note: {}", p(n));
            }
            continue;
        }
        let kind = f.kind.map(|k| k.as_str()).unwrap_or("");
        let _ = writeln!(
            out,
            "{}  ({kind}, {} finding{})",
            style.paint("1", &p(&f.file)),
            f.findings.len(),
            if f.findings.len() == 1 { "" } else { "s" }
        );
        let mut last_addr: Option<(&str, &str)> = None;
        for x in &f.findings {
            if last_addr != Some((x.section.as_str(), x.address.as_str())) {
                let _ = writeln!(
                    out,
                    "  {}  [{}]",
                    style.paint("1", &p(&x.address)),
                    p(&x.section)
                );
                last_addr = Some((x.section.as_str(), x.address.as_str()));
            }
            let mut path = x.attribute_path.clone();
            if let Some(inner) = &x.inner_pointer {
                path.push_str(&format!(" → {inner}"));
            }
            if path.is_empty() {
                path = "(value)".into();
            }
            let _ = writeln!(
                out,
                "    {} {}  {}:{}  {}  {}  {}",
                style.sev(x.severity),
                p(&path),
                x.line,
                x.column,
                x.rule_id,
                x.kind.as_str(),
                style.paint("2", &p(&x.preview))
            );
            for r in &x.reasons {
                let _ = writeln!(out, "        why: {}", p(r));
            }
            if !x.decoded.is_empty() {
                let _ = writeln!(out, "        decoded: {}", x.decoded.join(" → "));
            }
            let _ = writeln!(out, "        fix: {}", p(&x.fix));
            if verbose {
                let _ = writeln!(
                    out,
                    "        pointer: {}  fingerprint: {}  same-value group: {}  confidence: {}",
                    p(&x.json_pointer),
                    x.fingerprint,
                    x.value_group,
                    x.confidence.as_str()
                );
            }
        }
        for n in &f.notes {
            let _ = writeln!(out, "  note: {}", p(n));
        }
        let _ = writeln!(out);
    }
    let accepted = report.listed_accepted();
    if !accepted.is_empty() {
        let _ = writeln!(out, "Accepted by the baseline ({}):", accepted.len());
        for x in accepted {
            let _ = writeln!(
                out,
                "  {}  {}  {}  {}  {}",
                p(&x.file),
                p(&x.address),
                p(if x.attribute_path.is_empty() {
                    "(value)"
                } else {
                    &x.attribute_path
                }),
                x.severity.as_str(),
                x.rule_id
            );
        }
        let _ = writeln!(out);
    }
    // The summary names states, types and fixes; it has no colour of its own.
    out.push_str(&printable_lines(
        &super::summary::Summary::of(report).render_text(10),
    ));
    let _ = writeln!(out, "{}", summary(report));
    out
}

pub fn summary(report: &AuditReport) -> String {
    let total: usize = report.findings().count();
    let scanned = report
        .files
        .iter()
        .filter(|f| f.error.is_none() && !f.is_skipped() && f.kind != Some(DocKind::Encrypted))
        .count();
    let encrypted = report
        .files
        .iter()
        .filter(|f| f.kind == Some(DocKind::Encrypted))
        .count();
    let errors = report.all_errors().len();
    let counts: Vec<String> = super::severity_counts(report)
        .into_iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    let mut s = format!(
        "{total} finding{}{} in {scanned} file{} scanned",
        if total == 1 { "" } else { "s" },
        if counts.is_empty() {
            String::new()
        } else {
            format!(" ({})", counts.join(", "))
        },
        if scanned == 1 { "" } else { "s" }
    );
    if encrypted > 0 {
        s.push_str(&format!(", {encrypted} encrypted (not scanned)"));
    }
    if report.suppressed > 0 {
        s.push_str(&format!(", {} accepted by the baseline", report.suppressed));
    }
    if let (Some(file), n @ 1..) = (&report.config_file, report.allowed) {
        s.push_str(&format!(", {n} allowed by {}", super::printable(file)));
    }
    if errors > 0 {
        s.push_str(&format!(
            ", {errors} error{}",
            if errors == 1 { "" } else { "s" }
        ));
    }
    s
}
