//! `--format html`: one self-contained page (inline CSS and SVG, no script, no external asset; a
//! Content-Security-Policy forbids loading anything) with the summary, a bar chart of findings per
//! state and the table of findings. Like every printer it sees no value: findings hold none, and
//! the preview shows the length (and a token type's public prefix such as `ghp_`). Everything
//! from the input (file names, addresses, attribute paths) is escaped.

use std::fmt::Write as _;

use super::summary::{Counts, Summary};
use crate::audit::AuditReport;
use crate::finding::Severity;

/// Findings rows beyond this are left out of the table (the summary still counts them all).
pub const MAX_ROWS: usize = 20_000;
/// States in the chart.
pub const CHART_STATES: usize = 30;

pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

const COLORS: [(Severity, &str); 4] = [
    (Severity::Critical, "#8b0000"),
    (Severity::High, "#d9480f"),
    (Severity::Medium, "#e8a200"),
    (Severity::Low, "#1c7ed6"),
];

fn count(c: &Counts, s: Severity) -> usize {
    match s {
        Severity::Critical => c.critical,
        Severity::High => c.high,
        Severity::Medium => c.medium,
        Severity::Low => c.low,
    }
}

const CSS: &str = r#"
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0; color: #1d232a; background: #f4f6f8; }
header { background: #1d2b3a; color: #fff; padding: 18px 32px; }
header h1 { margin: 0; font-size: 22px; }
header p { margin: 4px 0 0; color: #c7d2dd; }
main { padding: 20px 32px 40px; max-width: 1400px; }
section { background: #fff; border: 1px solid #dde3e9; border-radius: 8px; padding: 16px 20px; margin: 0 0 18px; }
h2 { font-size: 17px; margin: 0 0 10px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 18px; }
.card { background: #fff; border: 1px solid #dde3e9; border-radius: 8px; padding: 12px 18px; min-width: 120px; }
.card b { display: block; font-size: 26px; }
.card.critical b { color: #8b0000; } .card.high b { color: #d9480f; } .card.medium b { color: #b07b00; } .card.low b { color: #1c7ed6; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 18px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #edf0f3; vertical-align: top; }
th { background: #f7f9fb; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 12.5px; }
.sev { display: inline-block; padding: 1px 7px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
.sev.critical { background: #8b0000; } .sev.high { background: #d9480f; } .sev.medium { background: #e8a200; } .sev.low { background: #1c7ed6; }
.muted { color: #66727f; }
.legend span { margin-right: 14px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
.wrap { word-break: break-all; }
"#;

pub fn render(report: &AuditReport) -> String {
    let sum = Summary::of(report);
    let mut o = String::with_capacity(64 * 1024 + report.findings().count() * 400);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>state-scrubber audit: {} finding{}</title><style>{CSS}</style></head><body>\n",
        sum.findings,
        if sum.findings == 1 { "" } else { "s" }
    );
    let errors = report.all_errors().len();
    let _ = write!(
        o,
        "<header><h1>Plaintext secrets in Terraform state</h1><p>state-scrubber {} · {} state{} scanned ({:.1} MB) · {} with findings · {} error{}{}{}</p></header>\n<main>\n",
        env!("CARGO_PKG_VERSION"),
        sum.states_scanned,
        if sum.states_scanned == 1 { "" } else { "s" },
        sum.bytes_scanned as f64 / 1e6,
        sum.states_with_findings,
        errors,
        if errors == 1 { "" } else { "s" },
        if report.suppressed > 0 {
            format!(" · {} accepted by the baseline", report.suppressed)
        } else {
            String::new()
        },
        match (&report.config_file, report.allowed) {
            (Some(file), n @ 1..) => format!(" · {n} allowed by {}", esc(file)),
            _ => String::new(),
        }
    );

    // Cards: totals by severity.
    o.push_str("<div class=\"cards\">");
    let _ = write!(
        o,
        "<div class=\"card\"><b>{}</b>findings</div>",
        sum.findings
    );
    for (s, _) in COLORS {
        let _ = write!(
            o,
            "<div class=\"card {0}\"><b>{1}</b>{0}</div>",
            s.as_str(),
            count(&sum.by_severity, s)
        );
    }
    o.push_str("</div>\n");

    if sum.findings > 0 {
        chart(&mut o, &sum);

        o.push_str("<div class=\"grid\">\n");
        // Top fixes.
        o.push_str("<section><h2>Top fixes</h2><table><tr><th class=\"n\">findings</th><th>where</th><th>fix</th><th class=\"n\">states</th></tr>");
        for x in sum.top_fixes.iter().take(25) {
            let _ = write!(
                o,
                "<tr><td class=\"n\">{}</td><td><code>{}</code></td><td title=\"{}\">→ <code>{}</code></td><td class=\"n\">{}</td></tr>",
                x.findings,
                esc(&x.target),
                esc(&x.fix),
                esc(&x.to),
                x.states
            );
        }
        o.push_str("</table></section>\n");
        // By provider and resource type.
        o.push_str("<section><h2>By provider</h2><table><tr><th>provider</th><th class=\"n\">findings</th><th>severity</th></tr>");
        for g in &sum.by_provider {
            let _ = write!(
                o,
                "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"muted\">{}</td></tr>",
                esc(&g.name),
                g.findings,
                esc(&g.by_severity.describe())
            );
        }
        o.push_str("</table><h2 style=\"margin-top:16px\">By resource type</h2><table><tr><th>resource type</th><th>provider</th><th class=\"n\">findings</th></tr>");
        for g in sum.by_resource_type.iter().take(40) {
            let _ = write!(
                o,
                "<tr><td><code>{}</code></td><td class=\"muted\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&g.resource_type),
                esc(&g.provider),
                g.findings
            );
        }
        o.push_str("</table></section>\n</div>\n");
        // By state.
        let _ = write!(
            o,
            "<section><h2>By state ({} of {} with findings)</h2><table><tr><th>state</th><th class=\"n\">findings</th><th>severity</th></tr>",
            sum.states_with_findings, sum.states_scanned
        );
        for g in sum.by_state.iter().take(200) {
            let _ = write!(
                o,
                "<tr><td class=\"mono wrap\">{}</td><td class=\"n\">{}</td><td class=\"muted\">{}</td></tr>",
                esc(&g.name),
                g.findings,
                esc(&g.by_severity.describe())
            );
        }
        if sum.by_state.len() > 200 {
            let _ = write!(
                o,
                "<tr><td colspan=\"3\" class=\"muted\">… {} more states (see the findings below or --format json)</td></tr>",
                sum.by_state.len() - 200
            );
        }
        o.push_str("</table></section>\n");

        // Findings.
        let _ = write!(
            o,
            "<section><h2>Findings</h2><p class=\"muted\">Values are never shown: the preview gives the length, and a token type&#39;s public prefix (such as ghp_) where a rule names one.</p>\
             <table><tr><th>severity</th><th>state</th><th>resource</th><th>attribute</th><th>kind / rule</th><th>preview</th><th>line</th><th>fix</th></tr>"
        );
        for (i, f) in report.findings().enumerate() {
            if i >= MAX_ROWS {
                let _ = write!(
                    o,
                    "<tr><td colspan=\"8\" class=\"muted\">… {} more findings left out of this table (--format json lists all)</td></tr>",
                    sum.findings - MAX_ROWS
                );
                break;
            }
            let mut path = f.attribute_path.clone();
            if let Some(inner) = &f.inner_pointer {
                path.push_str(" → ");
                path.push_str(inner);
            }
            let _ = writeln!(
                o,
                "<tr><td><span class=\"sev {sev}\">{sev}</span></td><td class=\"mono wrap\">{}</td><td><code>{}</code><div class=\"muted\">{}</div></td>\
                 <td><code>{}</code></td><td>{}<div class=\"muted mono\">{}</div></td><td><code>{}</code></td><td class=\"n\">{}:{}</td><td>{}</td></tr>",
                esc(&f.file),
                esc(&f.address),
                esc(&f.section),
                esc(&path),
                esc(f.kind.as_str()),
                esc(&f.rule_id),
                esc(&f.preview),
                f.line,
                f.column,
                esc(&f.fix),
                sev = f.severity.as_str(),
            );
        }
        o.push_str("</table></section>\n");
    } else {
        o.push_str("<section><h2>No findings</h2><p>No plaintext secret was found in the states scanned.</p></section>\n");
    }

    let errs = report.all_errors();
    if !errs.is_empty() {
        o.push_str("<section><h2>Errors</h2><ul>");
        for e in errs.iter().take(1000) {
            let _ = write!(o, "<li class=\"mono\">{}</li>", esc(e));
        }
        o.push_str("</ul></section>\n");
    }
    o.push_str("</main></body></html>\n");
    o
}

/// Horizontal stacked bars, one per state (the most findings first), in inline SVG.
fn chart(o: &mut String, sum: &Summary) {
    let rows: Vec<_> = sum.by_state.iter().take(CHART_STATES).collect();
    let max = rows.iter().map(|g| g.findings).max().unwrap_or(1).max(1);
    let label_w = 430.0;
    let bar_w = 560.0;
    let row_h = 22.0;
    let top = 8.0;
    let height = top + row_h * rows.len() as f64 + 24.0;
    let width = label_w + bar_w + 60.0;
    let _ = write!(
        o,
        "<section><h2>Findings per state{}</h2><div class=\"legend muted\">",
        if sum.by_state.len() > rows.len() {
            format!(
                " (the {} with the most of {})",
                rows.len(),
                sum.by_state.len()
            )
        } else {
            String::new()
        }
    );
    for (s, c) in COLORS {
        let _ = write!(
            o,
            "<span><i style=\"background:{c}\"></i>{}</span>",
            s.as_str()
        );
    }
    let _ = write!(
        o,
        "</div><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"findings per state\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" style=\"max-width:100%;height:auto\">"
    );
    for (i, g) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        // Long names keep their end (the key or file name), which tells states apart; an object
        // version shows as ` @` and the first 8 characters of its id.
        let label = match g.name.split_once("?versionId=") {
            Some((obj, v)) => format!("{obj} @{}", v.chars().take(8).collect::<String>()),
            None => g.name.clone(),
        };
        let name: Vec<char> = label.chars().collect();
        let shown: String = if name.len() > 56 {
            std::iter::once('…')
                .chain(name[name.len() - 55..].iter().copied())
                .collect()
        } else {
            label
        };
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\" font-family=\"monospace\" fill=\"#1d232a\"><title>{}</title>{}</text>",
            label_w - 8.0,
            y + 15.0,
            esc(&g.name),
            esc(&shown)
        );
        let mut x = label_w;
        for (s, c) in COLORS {
            let n = count(&g.by_severity, s);
            if n == 0 {
                continue;
            }
            let w = bar_w * n as f64 / max as f64;
            let _ = write!(
                o,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{c}\"><title>{n} {}</title></rect>",
                y + 3.0,
                row_h - 6.0,
                s.as_str()
            );
            x += w;
        }
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#1d232a\">{}</text>",
            x + 6.0,
            y + 15.0,
            g.findings
        );
    }
    let axis_y = top + row_h * rows.len() as f64 + 4.0;
    let _ = writeln!(
        o,
        "<line x1=\"{label_w}\" y1=\"{top}\" x2=\"{label_w}\" y2=\"{axis_y}\" stroke=\"#8895a1\"/>\
         <text x=\"{label_w}\" y=\"{:.1}\" font-size=\"11\" fill=\"#66727f\">0</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#66727f\">{max}</text></svg></section>",
        axis_y + 14.0,
        label_w + bar_w,
        axis_y + 14.0
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(
            super::esc("<script>\"a\"&'b'</script>\u{7}"),
            "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;\u{fffd}"
        );
    }
}
