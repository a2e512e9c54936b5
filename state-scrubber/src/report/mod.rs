//! Printers of an audit report. None of them sees a value: findings hold none.

pub mod html;
pub mod json;
pub mod sarif;
pub mod summary;
pub mod text;

use crate::audit::AuditReport;
use crate::finding::Severity;

/// Counts by severity, highest first.
pub fn severity_counts(report: &AuditReport) -> Vec<(Severity, usize)> {
    let mut v = Vec::new();
    for s in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ] {
        let n = report.findings().filter(|f| f.severity == s).count();
        if n > 0 {
            v.push((s, n));
        }
    }
    v
}
