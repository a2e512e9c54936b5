//! Byte-range edits on a source file. Everything outside an edit's range is copied unchanged.

use std::ops::Range;

/// Replace `range` of the original text with `text`. An edit that `swallows` replaces a whole
/// region whose new text was rendered with the smaller edits inside it already applied, so those
/// are dropped.
#[derive(Debug, Clone)]
pub(crate) struct Edit {
    pub range: Range<usize>,
    pub text: String,
    pub swallows: bool,
}

impl Edit {
    pub fn replace(range: Range<usize>, text: impl Into<String>) -> Self {
        Edit {
            range,
            text: text.into(),
            swallows: false,
        }
    }

    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit::replace(at..at, text)
    }

    fn inside(&self, outer: &Range<usize>) -> bool {
        outer.start <= self.range.start && self.range.end <= outer.end
    }
}

/// The edits that survive: sorted by position (insertions at one point keep their order), with the
/// ones covered by a swallowing edit removed, and any edit overlapping an earlier one dropped.
pub(crate) fn normalize(edits: &[Edit]) -> Vec<Edit> {
    let swallowing: Vec<&Edit> = edits.iter().filter(|e| e.swallows).collect();
    let mut kept: Vec<Edit> = edits
        .iter()
        .filter(|edit| {
            edit.swallows
                || !swallowing
                    .iter()
                    .any(|outer| edit.inside(&outer.range) && !outer.range.is_empty())
        })
        .cloned()
        .collect();
    kept.sort_by_key(|edit| (edit.range.start, edit.range.end));
    let mut out: Vec<Edit> = Vec::with_capacity(kept.len());
    for edit in kept {
        if let Some(last) = out.last() {
            let overlaps = edit.range.start < last.range.end
                || (edit.range.start == last.range.start
                    && !last.range.is_empty()
                    && !edit.range.is_empty());
            if overlaps {
                debug_assert!(
                    false,
                    "overlapping edits {:?} and {:?}",
                    last.range, edit.range
                );
                continue;
            }
        }
        out.push(edit);
    }
    out
}

/// Applies normalized edits; returns the new text and, per edit, its range in the new text.
pub(crate) fn apply(src: &str, edits: &[Edit]) -> (String, Vec<Range<usize>>) {
    let mut out = String::with_capacity(src.len() + 256);
    let mut ranges = Vec::with_capacity(edits.len());
    let mut pos = 0;
    for edit in edits {
        out.push_str(&src[pos..edit.range.start]);
        let start = out.len();
        out.push_str(&edit.text);
        ranges.push(start..out.len());
        pos = edit.range.end;
    }
    out.push_str(&src[pos..]);
    (out, ranges)
}

/// The text of `range` with the (non-swallowing) edits that lie inside it applied.
pub(crate) fn render(src: &str, range: Range<usize>, edits: &[Edit]) -> String {
    let inner: Vec<Edit> = edits
        .iter()
        .filter(|edit| !edit.swallows && edit.inside(&range))
        .map(|edit| Edit {
            range: edit.range.start - range.start..edit.range.end - range.start,
            text: edit.text.clone(),
            swallows: false,
        })
        .collect();
    apply(&src[range], &normalize(&inner)).0
}

/// Start of the line containing `pos`.
pub(crate) fn line_start(src: &str, pos: usize) -> usize {
    src[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// Position of the newline ending the line containing `pos` (or the end of the text).
pub(crate) fn line_end(src: &str, pos: usize) -> usize {
    src[pos..].find('\n').map_or(src.len(), |i| pos + i)
}

/// The whitespace that indents the line containing `pos`.
pub(crate) fn indent_at(src: &str, pos: usize) -> &str {
    let start = line_start(src, pos);
    let line = &src[start..line_end(src, start)];
    &line[..line.len() - line.trim_start().len()]
}

/// Where new lines go in a block: after one of its items, or first in an empty body.
///
/// `open` and `close` are the positions of the block's `{` and `}`; `after` is the span of the
/// item the lines follow (`None`: the body is empty). New lines take the indentation of the
/// line where that item starts (not where it ends: a heredoc or a multi-line expression ends at
/// another indentation). When the block's `}` is on the line the text would go after (a
/// one-line block, `variable "x" { sensitive = true }`), the block is expanded to one item per
/// line first: text appended to that line would land after the `}`, outside the block.
pub(crate) struct BodyInsertion {
    /// The indentation new lines take.
    pub indent: String,
    at: usize,
    /// One-line block: (`{` + 1 .. first item) and (end of the last item .. `}`), and the
    /// indentation of the block's own line.
    expand: Option<(std::ops::Range<usize>, std::ops::Range<usize>, String)>,
}

impl BodyInsertion {
    pub fn new(src: &str, open: usize, close: usize, after: Option<Range<usize>>) -> Self {
        let block_indent = indent_at(src, open).to_owned();
        let anchor = after.as_ref().map_or(open, |item| item.end);
        if close < line_end(src, anchor) {
            let inner = &src[open + 1..close];
            let first = open + 1 + (inner.len() - inner.trim_start().len());
            let last = open + 1 + inner.trim_end().len();
            return BodyInsertion {
                indent: format!("{block_indent}  "),
                at: last,
                expand: Some((open + 1..first, last..close, block_indent)),
            };
        }
        match after {
            Some(item) => BodyInsertion {
                indent: indent_at(src, item.start).to_owned(),
                at: line_end(src, item.end),
                expand: None,
            },
            None => BodyInsertion {
                indent: format!("{block_indent}  "),
                at: line_end(src, open),
                expand: None,
            },
        }
    }

    /// The edits that add `text` (lines already indented with [`Self::indent`], joined by
    /// `newline`), preceded by a blank line when `blank_line`.
    pub fn edits(&self, text: &str, blank_line: bool, newline: &str) -> Vec<Edit> {
        let lead = if blank_line {
            format!("{newline}{newline}")
        } else {
            newline.to_owned()
        };
        match &self.expand {
            None => vec![Edit::insert(self.at, format!("{lead}{text}"))],
            Some((head, tail, block_indent)) if head.end == tail.end => {
                // An empty one-line body, `{}` or `{ }`.
                vec![Edit::replace(
                    head.start..tail.end,
                    format!("{newline}{text}{newline}{block_indent}"),
                )]
            }
            Some((head, tail, block_indent)) => vec![
                Edit::replace(head.clone(), format!("{newline}{}", self.indent)),
                Edit::insert(self.at, format!("{lead}{text}")),
                Edit::replace(tail.clone(), format!("{newline}{block_indent}")),
            ],
        }
    }
}

/// 1-based line number of `pos`.
pub(crate) fn line_number(src: &str, pos: usize) -> usize {
    src.as_bytes()[..pos.min(src.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_order_and_keeps_the_rest() {
        let src = "abc def ghi";
        let edits = normalize(&[
            Edit::replace(4..7, "XYZ"),
            Edit::insert(11, "!"),
            Edit::insert(11, "?"),
            Edit::replace(0..1, ""),
        ]);
        assert_eq!(apply(src, &edits).0, "bc XYZ ghi!?");
    }

    #[test]
    fn swallowing_edit_drops_inner_ones_and_render_applies_them() {
        let src = "one two three";
        let inner = Edit::replace(4..7, "2");
        let rendered = render(src, 0..7, std::slice::from_ref(&inner));
        assert_eq!(rendered, "one 2");
        let outer = Edit {
            range: 0..7,
            text: format!("[{rendered}]"),
            swallows: true,
        };
        let edits = normalize(&[inner, outer]);
        assert_eq!(apply(src, &edits).0, "[one 2] three");
    }
}
