//! Machine-readable JSON report.

use serde_json::{json, Value};

use crate::audit::AuditReport;

pub fn render(report: &AuditReport) -> String {
    let files: Vec<Value> = report
        .files
        .iter()
        .map(|f| {
            json!({
                "file": f.file,
                "document": f.kind.map(|k| k.as_str()),
                "bytes": f.bytes,
                "status": match (&f.error, f.kind) {
                    (Some(_), _) => "error",
                    (None, Some(crate::document::DocKind::Encrypted)) => "encrypted_not_scanned",
                    _ => "scanned",
                },
                "findings": f.findings.len(),
                "error": f.error,
            })
        })
        .collect();
    let findings: Vec<&crate::finding::Finding> = report.findings().collect();
    let counts: serde_json::Map<String, Value> = super::severity_counts(report)
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), json!(n)))
        .collect();
    let v = json!({
        "tool": {"name": "state-scrubber", "version": env!("CARGO_PKG_VERSION")},
        "summary": {
            "findings": findings.len(),
            "by_severity": counts,
            "failing": report.failing(),
            "fail_on": report.fail_on.map(|s| s.as_str()),
            "accepted_by_baseline": report.suppressed,
            "errors": report.all_errors().len(),
        },
        "files": files,
        "findings": findings,
        "errors": report.all_errors(),
    });
    serde_json::to_string_pretty(&v).expect("report serialises") + "\n"
}
