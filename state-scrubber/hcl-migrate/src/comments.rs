//! Finding the comments in a span of HCL, so that text migrate moves or rebuilds keeps them.
//!
//! hcl-edit keeps comments in the decor of the items around them, which a rewrite that builds a
//! block anew (a version that becomes a `removed` block, a `random_password` that becomes a
//! `generate` block) does not carry. A small lexer finds them instead: `#` and `//` to the end of
//! the line, and `/* ... */`, outside string literals (template interpolations included) and
//! heredoc bodies.

use std::ops::Range;

use crate::lex::{code_at, Code, Nesting};

/// One comment: its bytes (a line comment without its line ending) and whether code precedes it
/// on its line (a trailing comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Comment {
    pub range: Range<usize>,
    pub trailing: bool,
}

impl Comment {
    /// The comment's text, its continuation lines (of a multi-line `/* */`) moved from the
    /// indentation of the line it starts on to `indent`.
    pub fn text_at(&self, src: &str, indent: &str) -> String {
        let from = crate::edit::indent_at(src, self.range.start);
        let text = &src[self.range.clone()];
        let mut lines = text.split('\n');
        let mut out = lines.next().unwrap_or_default().trim_end().to_owned();
        for line in lines {
            out.push('\n');
            let line = line.trim_end_matches('\r');
            match line.strip_prefix(from) {
                Some(rest) if !line.trim().is_empty() => {
                    out.push_str(indent);
                    out.push_str(rest);
                }
                _ => out.push_str(line),
            }
        }
        out
    }
}

/// The comments in `src[range]`; `range` must start outside any literal (at a token).
pub(crate) fn comments_in(src: &str, range: Range<usize>) -> Vec<Comment> {
    let bytes = src.as_bytes();
    let end = range.end.min(src.len());
    let mut out = Vec::new();
    let mut nesting = Nesting::default();
    let mut pos = range.start;
    let trailing = |at: usize| !src[crate::edit::line_start(src, at)..at].trim().is_empty();
    while pos < end {
        if nesting.in_string() {
            pos = nesting.string_step(src, pos).0;
            continue;
        }
        match code_at(src, pos, end) {
            Code::LineComment => pos = line_comment(src, pos, end, &trailing, &mut out),
            Code::BlockComment => {
                // `src.get`: a range that ends between `/` and `*` has nothing after them.
                let close = src
                    .get(pos + 2..end)
                    .and_then(|rest| rest.find("*/"))
                    .map_or(end, |offset| pos + 2 + offset + 2);
                out.push(Comment {
                    range: pos..close,
                    trailing: trailing(pos),
                });
                pos = close;
            }
            Code::Quote => {
                nesting.open_string();
                pos += 1;
            }
            Code::Heredoc(None) => pos += 2,
            Code::Heredoc(Some(marker)) => {
                // The body runs to the line that holds only the marker.
                let mut line = crate::edit::line_end(src, pos) + 1;
                while line < end {
                    let eol = crate::edit::line_end(src, line);
                    if src[line..eol].trim() == marker {
                        break;
                    }
                    line = eol + 1;
                }
                pos = crate::edit::line_end(src, line.min(end)).min(end);
            }
            Code::Other => {
                match bytes[pos] {
                    b'{' => nesting.open_brace(),
                    b'}' => nesting.close_brace(),
                    _ => {}
                }
                pos += src[pos..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }
    out
}

fn line_comment(
    src: &str,
    pos: usize,
    end: usize,
    trailing: &dyn Fn(usize) -> bool,
    out: &mut Vec<Comment>,
) -> usize {
    let eol = crate::edit::line_end(src, pos).min(end);
    let text_end = pos + src[pos..eol].trim_end().len();
    out.push(Comment {
        range: pos..text_end,
        trailing: trailing(pos),
    });
    eol
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(src: &str) -> Vec<(&str, bool)> {
        comments_in(src, 0..src.len())
            .into_iter()
            .map(|c| (&src[c.range], c.trailing))
            .collect()
    }

    #[test]
    fn finds_every_kind_of_comment_and_none_in_literals() {
        let src =
            "a = 1 # one\r\n// two\n/* three\n   lines */ b = \"# no ${ \"// no\" } /* no */\"\n\
                   c = <<EOT\n# no\nEOT\nd = \"${ {x = 1}.x }\" // four\ne = [ /* five */ ]\n";
        assert_eq!(
            found(src),
            vec![
                ("# one", true),
                ("// two", false),
                ("/* three\n   lines */", false),
                ("// four", true),
                ("/* five */", true),
            ]
        );
    }

    #[test]
    fn a_range_that_ends_between_slash_and_star_is_no_panic() {
        let src = "a = 1 /* b */";
        let end = src.find('*').unwrap();
        let comments = comments_in(src, 0..end);
        assert_eq!(comments.len(), 1);
        assert_eq!(comments[0].range, 6..end);
    }

    #[test]
    fn continuation_lines_take_the_new_indentation() {
        let src = "    /* a\n       b */";
        let comment = &comments_in(src, 0..src.len())[0];
        assert_eq!(comment.text_at(src, "  "), "/* a\n     b */");
    }
}
