//! The alignment rules of `terraform fmt`, so that rewritten files stay `fmt`-clean.
//!
//! `terraform fmt` (hclwrite `format.go`) cuts a file into "format lines" (a heredoc and its body are
//! one format line, because the heredoc tokens carry no newline token). A line has an *assign* cell
//! when its first `=` (not the first token) is followed by a balanced rest of line (counting stops at
//! a heredoc opener), and a *comment* cell when it ends in a `#`/`//` comment after other tokens.
//! Runs of consecutive lines that all have an assign cell get their `=` aligned one space after the
//! longest lead; runs with comment cells get their comments aligned one space after the longest code.
//! We re-apply exactly those two rules, and only to the runs that contain a line we edited, so that
//! everything else stays byte-identical.

use std::collections::BTreeSet;
use std::ops::Range;

use crate::lex::{code_at, Code, InString, Nesting};

/// One `terraform fmt` format line.
#[derive(Debug, Clone)]
pub(crate) struct FmtLine {
    /// First physical line (0-based).
    pub first: usize,
    /// Last physical line (differs from `first` for heredocs and multi-line block comments).
    pub last: usize,
    /// Byte offset of the aligned `=` and end of the (trimmed) lead before it.
    pub assign: Option<(usize, usize)>,
    /// Byte offset of a trailing comment and end of the (trimmed) code before it.
    pub comment: Option<(usize, usize)>,
}

/// Byte ranges of the physical lines of `text`, without their newline.
pub(crate) fn physical_lines(text: &str) -> Vec<Range<usize>> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (index, byte) in text.bytes().enumerate() {
        if byte == b'\n' {
            lines.push(start..index);
            start = index + 1;
        }
    }
    lines.push(start..text.len());
    lines
}

/// The 0-based physical line that contains byte `pos`.
pub(crate) fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|byte| **byte == b'\n')
        .count()
}

/// Cuts `text` into format lines.
pub(crate) fn analyze(text: &str) -> Vec<FmtLine> {
    let bytes = text.as_bytes();
    let lines = physical_lines(text);
    let mut out = Vec::new();

    let mut nesting = Nesting::default();
    let mut heredoc: Option<String> = None;
    let mut block_comment = false;
    // The format line being built.
    let mut current: Option<FmtLine> = None;
    let mut tokens = 0usize;
    let mut eq: Option<usize> = None;
    let mut net: i32 = 0;
    let mut counting = false;
    let mut comment: Option<usize> = None;

    for (index, range) in lines.iter().enumerate() {
        if let Some(marker) = &heredoc {
            if let Some(line) = current.as_mut() {
                line.last = index;
            }
            if text[range.clone()].trim() == marker {
                heredoc = None;
                finish(&mut out, &mut current, text, &lines, eq, net, None);
            }
            continue;
        }
        if current.is_none() {
            current = Some(FmtLine {
                first: index,
                last: index,
                assign: None,
                comment: None,
            });
            tokens = 0;
            eq = None;
            net = 0;
            counting = false;
            comment = None;
        } else if let Some(line) = current.as_mut() {
            line.last = index;
        }

        let mut pos = range.start;
        let end = range.end;
        let mut continues = false;
        while pos < end {
            if block_comment {
                match text[pos..end].find("*/") {
                    Some(offset) => {
                        pos += offset + 2;
                        block_comment = false;
                        tokens += 1;
                        continue;
                    }
                    None => {
                        continues = true;
                        break;
                    }
                }
            }
            let byte = bytes[pos];
            if nesting.in_string() {
                let (next, step) = nesting.string_step(text, pos);
                if step == InString::Open && counting {
                    net += 1;
                }
                pos = next;
                continue;
            }
            let at_top = nesting.at_top();
            match code_at(text, pos, end) {
                Code::LineComment => {
                    if tokens > 0 && at_top {
                        comment = Some(pos);
                    }
                    break;
                }
                Code::BlockComment => match text[pos + 2..end].find("*/") {
                    Some(offset) => {
                        pos += offset + 4;
                        tokens += 1;
                    }
                    None => {
                        block_comment = true;
                        continues = true;
                        break;
                    }
                },
                Code::Quote => {
                    nesting.open_string();
                    tokens += 1;
                    pos += 1;
                }
                Code::Heredoc(None) => {
                    pos += 2;
                    tokens += 1;
                }
                Code::Heredoc(Some(marker)) => {
                    // hclwrite stops counting brackets at a heredoc opener.
                    counting = false;
                    tokens += 1;
                    heredoc = Some(marker);
                    continues = true;
                    break;
                }
                Code::Other => match byte {
                    b' ' | b'\t' | b'\r' => pos += 1,
                    b'{' | b'[' | b'(' => {
                        if byte == b'{' {
                            nesting.open_brace();
                        }
                        if counting {
                            net += 1;
                        }
                        tokens += 1;
                        pos += 1;
                    }
                    b'}' | b']' | b')' => {
                        if byte == b'}' {
                            nesting.close_brace();
                        }
                        if counting {
                            net -= 1;
                        }
                        tokens += 1;
                        pos += 1;
                    }
                    b'=' => {
                        if matches!(bytes.get(pos + 1), Some(b'=') | Some(b'>')) {
                            pos += 2;
                        } else {
                            if eq.is_none() && tokens > 0 {
                                eq = Some(pos);
                                counting = true;
                            }
                            pos += 1;
                        }
                        tokens += 1;
                    }
                    b'!' | b'<' | b'>' if bytes.get(pos + 1) == Some(&b'=') => {
                        pos += 2;
                        tokens += 1;
                    }
                    _ => {
                        tokens += 1;
                        pos += text[pos..].chars().next().map_or(1, char::len_utf8);
                    }
                },
            }
        }
        nesting.end_line();
        if !continues {
            finish(&mut out, &mut current, text, &lines, eq, net, comment);
        }
    }
    if current.is_some() {
        finish(&mut out, &mut current, text, &lines, eq, net, None);
    }
    out
}

fn finish(
    out: &mut Vec<FmtLine>,
    current: &mut Option<FmtLine>,
    text: &str,
    lines: &[Range<usize>],
    eq: Option<usize>,
    net: i32,
    comment: Option<usize>,
) {
    let Some(mut line) = current.take() else {
        return;
    };
    let start = lines[line.first].start;
    if let Some(eq) = eq.filter(|_| net == 0) {
        let lead_end = start + text[start..eq].trim_end().len();
        line.assign = Some((eq, lead_end));
    }
    if let Some(comment) = comment {
        if line.first == line.last {
            let code_end = start + text[start..comment].trim_end().len();
            line.comment = Some((comment, code_end));
        }
    }
    out.push(line);
}

fn width(text: &str, range: Range<usize>) -> usize {
    text[range].chars().count()
}

/// Chains of consecutive format lines that have the cell picked by `cell`.
fn chains(lines: &[FmtLine], cell: fn(&FmtLine) -> bool) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (index, line) in lines.iter().enumerate() {
        match (cell(line), start) {
            (true, None) => start = Some(index),
            (false, Some(s)) => {
                out.push(s..index);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..lines.len());
    }
    out
}

fn touches(lines: &[FmtLine], chain: &Range<usize>, touched: &BTreeSet<usize>) -> bool {
    lines[chain.clone()]
        .iter()
        .any(|line| touched.range(line.first..=line.last).next().is_some())
}

fn splice(text: &str, mut replacements: Vec<(Range<usize>, String)>) -> String {
    replacements.sort_by_key(|(range, _)| range.start);
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (range, with) in replacements {
        out.push_str(&text[pos..range.start]);
        out.push_str(&with);
        pos = range.end;
    }
    out.push_str(&text[pos..]);
    out
}

/// Re-aligns the `=` and trailing-comment runs that contain any of the `touched` physical lines.
pub(crate) fn realign(text: &str, touched: &BTreeSet<usize>) -> String {
    let physical = physical_lines(text);
    let lines = analyze(text);
    let mut replacements = Vec::new();
    for chain in chains(&lines, |line| line.assign.is_some()) {
        if !touches(&lines, &chain, touched) {
            continue;
        }
        let lead = |line: &FmtLine| {
            let (_, lead_end) = line.assign.expect("assign chain");
            width(text, physical[line.first].start..lead_end)
        };
        let max = lines[chain.clone()].iter().map(lead).max().unwrap_or(0);
        for line in &lines[chain] {
            let (eq, lead_end) = line.assign.expect("assign chain");
            replacements.push((lead_end..eq, " ".repeat(max - lead(line) + 1)));
        }
    }
    let text = splice(text, replacements);

    let physical = physical_lines(&text);
    let lines = analyze(&text);
    let mut replacements = Vec::new();
    for chain in chains(&lines, |line| line.comment.is_some()) {
        if !touches(&lines, &chain, touched) {
            continue;
        }
        let code = |line: &FmtLine| {
            let (_, code_end) = line.comment.expect("comment chain");
            width(&text, physical[line.first].start..code_end)
        };
        let max = lines[chain.clone()].iter().map(code).max().unwrap_or(0);
        for line in &lines[chain] {
            let (comment, code_end) = line.comment.expect("comment chain");
            replacements.push((code_end..comment, " ".repeat(max - code(line) + 1)));
        }
    }
    splice(&text, replacements)
}

/// All physical lines of the alignment runs that contain any of `lines`, plus `lines` themselves.
pub(crate) fn alignment_closure(
    text: &str,
    lines_of_interest: &BTreeSet<usize>,
) -> BTreeSet<usize> {
    let lines = analyze(text);
    let mut out = lines_of_interest.clone();
    let pick: [fn(&FmtLine) -> bool; 2] = [|l| l.assign.is_some(), |l| l.comment.is_some()];
    for cell in pick {
        for chain in chains(&lines, cell) {
            if touches(&lines, &chain, lines_of_interest) {
                for line in &lines[chain] {
                    out.extend(line.first..=line.last);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> BTreeSet<usize> {
        (0..physical_lines(text).len()).collect()
    }

    #[test]
    fn aligns_equals_in_a_run() {
        let text = "a {\n  ab = 1\n  abcdef = 2\n\n  x = 3\n}\n";
        assert_eq!(
            realign(text, &all(text)),
            "a {\n  ab     = 1\n  abcdef = 2\n\n  x = 3\n}\n"
        );
    }

    #[test]
    fn open_bracket_breaks_the_run_and_heredoc_does_not() {
        let text = "a {\n  ab = 1\n  tags = {\n    k = 1\n  }\n  abc = 2\n  p = <<EOT\nx = y\nEOT\n  longer = 3\n}\n";
        let expected = "a {\n  ab = 1\n  tags = {\n    k = 1\n  }\n  abc    = 2\n  p      = <<EOT\nx = y\nEOT\n  longer = 3\n}\n";
        assert_eq!(realign(text, &all(text)), expected);
    }

    #[test]
    fn aligns_trailing_comments() {
        let text = "a {\n  ab = 1 # one\n  abcdef = 2 # two\n}\n";
        assert_eq!(
            realign(text, &all(text)),
            "a {\n  ab     = 1 # one\n  abcdef = 2 # two\n}\n"
        );
    }

    #[test]
    fn strings_and_templates_do_not_confuse_the_lexer() {
        let text = "a {\n  x = \"{ = }\"\n  yy = \"${var.a} #\"\n  z = a == b\n}\n";
        let expected = "a {\n  x  = \"{ = }\"\n  yy = \"${var.a} #\"\n  z  = a == b\n}\n";
        assert_eq!(realign(text, &all(text)), expected);
    }

    #[test]
    fn untouched_runs_stay_as_they_are() {
        let text = "a {\n  ab = 1\n  abcdef = 2\n\n  x = 3\n  xyz = 4\n}\n";
        let touched = BTreeSet::from([4]);
        assert_eq!(
            realign(text, &touched),
            "a {\n  ab = 1\n  abcdef = 2\n\n  x   = 3\n  xyz = 4\n}\n"
        );
    }
}
