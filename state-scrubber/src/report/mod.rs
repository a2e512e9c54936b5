//! Printers of an audit report. None of them sees a value: findings hold none.

pub mod html;
pub mod json;
pub mod sarif;
pub mod summary;
pub mod text;

use std::borrow::Cow;

use crate::audit::AuditReport;
use crate::finding::Severity;

/// `s` safe to print on a terminal or in a CI log: control characters (C0 but tab, DEL, C1),
/// bidirectional formatting and invisible characters are written as `\u{1b}`. File, module, resource and key
/// names come from the input; raw, an ESC or OSC sequence in one would clear lines, retitle the
/// window or hide text, and a bidi override would reorder what is shown. A newline is escaped
/// too (a key holding one would fake a line of the report).
pub fn printable(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// [`printable`] for a block of lines: newlines are kept.
pub fn printable_lines(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// Also masks the credentials registered (see [`crate::withhold_credentials`]): every error and
/// warning printed on stderr goes through here.
fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    match crate::withheld(s) {
        Cow::Borrowed(s) => escape_controls(s, keep_newlines),
        Cow::Owned(s) => Cow::Owned(escape_controls(&s, keep_newlines).into_owned()),
    }
}

/// Characters that show as nothing, or move or split what follows: bidirectional controls (a
/// reordered name reads as another), zero-width and other default-ignorable characters (a
/// `pass\u{200b}word` key looks like `password`; Unicode tag characters carry whole invisible
/// sentences), and the line and paragraph separators some viewers break lines at.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{034f}'
            | '\u{061c}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e0fff}'
    )
}

fn escape_controls(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let bad =
        |c: char| (c.is_control() && c != '\t' && !(keep_newlines && c == '\n')) || invisible(c);
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_table() {
        for (input, field, lines) in [
            ("plain.tfstate", "plain.tfstate", "plain.tfstate"),
            ("a\u{1b}[2Kb", "a\\u{1b}[2Kb", "a\\u{1b}[2Kb"),
            (
                "t\u{1b}]0;x\u{7}",
                "t\\u{1b}]0;x\\u{7}",
                "t\\u{1b}]0;x\\u{7}",
            ),
            ("c1\u{9b}2K", "c1\\u{9b}2K", "c1\\u{9b}2K"),
            ("l1\nl2\r", "l1\\u{a}l2\\u{d}", "l1\nl2\\u{d}"),
            ("tab\there", "tab\there", "tab\there"),
            ("abc\u{202e}fed", "abc\\u{202e}fed", "abc\\u{202e}fed"),
            ("pass\u{200b}word", "pass\\u{200b}word", "pass\\u{200b}word"),
            ("a\u{2028}b", "a\\u{2028}b", "a\\u{2028}b"),
            ("\u{feff}key", "\\u{feff}key", "\\u{feff}key"),
            (
                "db\u{e0041}\u{e0042}",
                "db\\u{e0041}\\u{e0042}",
                "db\\u{e0041}\\u{e0042}",
            ),
            ("soft\u{ad}hyphen", "soft\\u{ad}hyphen", "soft\\u{ad}hyphen"),
            ("\u{3164}", "\\u{3164}", "\\u{3164}"),
            ("emoji 🔑 stays", "emoji 🔑 stays", "emoji 🔑 stays"),
            ("Ünïcödé → ok", "Ünïcödé → ok", "Ünïcödé → ok"),
        ] {
            assert_eq!(printable(input), field, "{input:?}");
            assert_eq!(printable_lines(input), lines, "{input:?}");
        }
    }
}
