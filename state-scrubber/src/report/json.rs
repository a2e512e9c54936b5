//! Machine-readable JSON report.

use serde_json::{json, Value};

use crate::audit::AuditReport;

/// Write the report without building it in memory first: findings are serialised one by one.
/// With `--include-accepted`, the findings the baseline accepted follow in `accepted` (same
/// fields); `findings` stays the open ones, whatever the flag.
pub fn write(report: &AuditReport, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let head = head(report);
    let text = serde_json::to_string_pretty(&head).expect("report serialises");
    // `head` ends with `"findings": []\n}`; splice the findings into that array.
    let cut = text
        .rfind("\"findings\": []")
        .expect("findings key present");
    w.write_all(&text.as_bytes()[..cut])?;
    array(w, "findings", report.findings())?;
    if report.include_accepted {
        w.write_all(b",\n  ")?;
        array(w, "accepted", report.listed_accepted().iter())?;
    }
    w.write_all(b"\n}\n")
}

fn array<'a>(
    w: &mut dyn std::io::Write,
    key: &str,
    findings: impl Iterator<Item = &'a crate::finding::Finding>,
) -> std::io::Result<()> {
    write!(w, "\"{key}\": [")?;
    for (i, f) in findings.enumerate() {
        w.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
        serde_json::to_writer(&mut *w, f)?;
    }
    w.write_all(b"\n  ]")
}

pub fn render(report: &AuditReport) -> String {
    let mut v = Vec::new();
    write(report, &mut v).expect("writing to memory");
    String::from_utf8(v).expect("JSON is UTF-8")
}

fn head(report: &AuditReport) -> Value {
    let files: Vec<Value> = report
        .files
        .iter()
        .map(|f| {
            let mut v = json!({
                "file": f.file,
                "document": f.kind.map(|k| k.as_str()),
                "bytes": f.bytes,
                "status": match (&f.error, f.kind) {
                    (Some(_), _) => "error",
                    (None, None) => "skipped",
                    (None, Some(crate::document::DocKind::Encrypted)) => "encrypted_not_scanned",
                    _ => "scanned",
                },
                "findings": f.findings.len(),
                "error": f.error,
                "notes": f.notes,
            });
            // A member of a saved binary plan: the archive (a real file) and the member.
            if let (Some(a), Some(m)) = (&f.archive, &f.member) {
                v["archive"] = json!(a);
                v["member"] = json!(m);
            }
            v
        })
        .collect();
    let counts: serde_json::Map<String, Value> = super::severity_counts(report)
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), json!(n)))
        .collect();
    let sum = super::summary::Summary::of(report);
    let v = json!({
        "tool": {"name": "state-scrubber", "version": env!("CARGO_PKG_VERSION")},
        "summary": {
            "findings": report.findings().count(),
            "by_severity": counts,
            "failing": report.failing(),
            "fail_on": report.fail_on.map(|s| s.as_str()),
            "accepted_by_baseline": report.suppressed,
            "stale_baseline_entries": report.stale_baseline_entries,
            "allowed_by_config": report.allowed,
            "config": report.config_file,
            "errors": report.all_errors().len(),
            "states_scanned": sum.states_scanned,
            "states_with_findings": sum.states_with_findings,
            "bytes_scanned": sum.bytes_scanned,
            "by_provider": sum.by_provider,
            "by_resource_type": sum.by_resource_type,
            "by_state": sum.by_state,
            "top_fixes": sum.top_fixes,
        },
        "files": files,
        "errors": report.all_errors(),
        "findings": [],
    });
    v
}
