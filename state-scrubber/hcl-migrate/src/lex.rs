//! The one lexer of HCL's literals that migrate's text scanners share: quoted strings with their
//! template interpolations (`${ }`) and directives (`%{ }`), heredoc openers, and comment openers.
//!
//! Three scanners read HCL as text, each for its own purpose: [`crate::comments`] (the comments in
//! a span), [`crate::align`] (`terraform fmt`'s format lines) and [`crate::redact`] (the literals
//! a diff masks). They differ in what they do with code, and share here what a byte *is*: in a
//! string or not, opening or closing which literal, starting which comment.

/// Where a scan stands among nested literals: in code (nothing open), in a quoted string, or in
/// code again inside an interpolation or directive of a string (which may hold strings in turn:
/// `"${ "}" }"`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Nesting {
    stack: Vec<Frame>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Str,
    /// Inside `${ ... }` or `%{ ... }`, with the number of unclosed `{` opened there.
    Interp(u32),
}

/// What [`Nesting::string_step`] stepped over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InString {
    /// `\` and the byte after it.
    Escape,
    /// `"`, or a newline (a quoted string cannot span lines: a scan recovers there), which closed
    /// the string.
    Close,
    /// `$${` or `%%{`: literal text, no interpolation.
    EscapedOpen,
    /// `${` or `%{`, which opened an interpolation or a directive.
    Open,
    /// Any other byte.
    Text,
}

impl Nesting {
    /// Whether the scan is in the text of a quoted string (not in an interpolation of it).
    pub fn in_string(&self) -> bool {
        self.stack.last() == Some(&Frame::Str)
    }

    /// How many strings and interpolations the scan is in: 1 in the text of a quoted string at
    /// the top, 2 in an interpolation of it.
    pub fn depth(&self) -> usize {
        self.stack.len()
    }

    /// Whether the scan is in code outside every literal.
    pub fn at_top(&self) -> bool {
        self.stack.is_empty()
    }

    /// A `"` in code opened a string.
    pub fn open_string(&mut self) {
        self.stack.push(Frame::Str);
    }

    /// In a string ([`Self::in_string`]): steps over what starts at byte `pos`; returns the
    /// position after it and what it was.
    pub fn string_step(&mut self, src: &str, pos: usize) -> (usize, InString) {
        let bytes = src.as_bytes();
        match bytes[pos] {
            b'\\' => (pos + 2, InString::Escape),
            b'"' | b'\n' => {
                self.stack.pop();
                (pos + 1, InString::Close)
            }
            b'$' | b'%' if src[pos..].starts_with("$${") || src[pos..].starts_with("%%{") => {
                (pos + 3, InString::EscapedOpen)
            }
            b'$' | b'%' if bytes.get(pos + 1) == Some(&b'{') => {
                self.stack.push(Frame::Interp(0));
                (pos + 2, InString::Open)
            }
            _ => (pos + 1, InString::Text),
        }
    }

    /// A `{` in code: counted when in an interpolation, so that its `}` does not close it.
    pub fn open_brace(&mut self) {
        if let Some(Frame::Interp(n)) = self.stack.last_mut() {
            *n += 1;
        }
    }

    /// A `}` in code: closes the interpolation it is in, or one `{` opened there.
    pub fn close_brace(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Interp(0)) => {
                self.stack.pop();
            }
            Some(Frame::Interp(n)) => *n -= 1,
            _ => {}
        }
    }

    /// The end of a line, for a scan that does not step over newlines: a string still open there
    /// ends (a quoted string cannot span lines).
    pub fn end_line(&mut self) {
        if self.in_string() {
            self.stack.pop();
        }
    }
}

/// What starts at byte `pos` of code (not in a string's text), as far as literals go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Code {
    /// `#` or `//`, to the end of the line.
    LineComment,
    /// `/*`, to the next `*/`.
    BlockComment,
    /// `"`, which opens a string.
    Quote,
    /// `<<`: a heredoc opener (`<<EOT`, `<<-EOT`) with its marker, or `None` when no identifier
    /// follows before `end`.
    Heredoc(Option<String>),
    /// Anything else.
    Other,
}

/// What starts at byte `pos` of code; a heredoc's marker is read up to `end`.
pub(crate) fn code_at(src: &str, pos: usize, end: usize) -> Code {
    let bytes = src.as_bytes();
    match bytes[pos] {
        b'#' => Code::LineComment,
        b'/' if bytes.get(pos + 1) == Some(&b'/') => Code::LineComment,
        b'/' if bytes.get(pos + 1) == Some(&b'*') => Code::BlockComment,
        b'"' => Code::Quote,
        b'<' if src[pos..end].starts_with("<<") => {
            Code::Heredoc(heredoc_marker(&src[pos + 2..end]))
        }
        _ => Code::Other,
    }
}

/// The marker of a heredoc opener, given the text right after its `<<` (`-EOT ...` or `EOT ...`);
/// `None` when no identifier follows, so the `<<` opens no heredoc.
pub(crate) fn heredoc_marker(after_angles: &str) -> Option<String> {
    let after = after_angles.strip_prefix('-').unwrap_or(after_angles);
    let marker: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!marker.is_empty()).then_some(marker)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a scan built on [`Nesting`] and [`code_at`] takes each byte of `src` for, newlines
    /// kept: `c` code, `i` code in an interpolation or directive, `"` a quote that opens or
    /// closes a string, `s` string text, `\` an escape, `$` an escaped `$${`/`%%{`, `{` an
    /// opening `${`/`%{`, `#` a line comment, `/` a block comment, `h` a heredoc opener's line,
    /// `b` a heredoc's body and closing line.
    fn classes(src: &str) -> String {
        let mut out = vec![b'?'; src.len()];
        let mut fill = |range: std::ops::Range<usize>, class: u8| {
            for at in range {
                if let Some(byte) = out.get_mut(at) {
                    *byte = class;
                }
            }
        };
        let line_end = |pos: usize| crate::edit::line_end(src, pos);
        let mut nesting = Nesting::default();
        let mut pos = 0;
        while pos < src.len() {
            if nesting.in_string() {
                let (next, step) = nesting.string_step(src, pos);
                let class = match step {
                    InString::Escape => b'\\',
                    InString::Close => b'"',
                    InString::EscapedOpen => b'$',
                    InString::Open => b'{',
                    InString::Text => b's',
                };
                fill(pos..next, class);
                pos = next;
                continue;
            }
            let top = nesting.at_top();
            match code_at(src, pos, src.len()) {
                Code::LineComment => {
                    fill(pos..line_end(pos), b'#');
                    pos = line_end(pos);
                }
                Code::BlockComment => {
                    let close = src[pos + 2..].find("*/").map_or(src.len(), |o| pos + o + 4);
                    fill(pos..close, b'/');
                    pos = close;
                }
                Code::Quote => {
                    nesting.open_string();
                    fill(pos..pos + 1, b'"');
                    pos += 1;
                }
                Code::Heredoc(None) => {
                    fill(pos..pos + 2, if top { b'c' } else { b'i' });
                    pos += 2;
                }
                Code::Heredoc(Some(marker)) => {
                    fill(pos..line_end(pos), b'h');
                    let mut line = line_end(pos) + 1;
                    while line < src.len() {
                        let eol = line_end(line);
                        fill(line..eol, b'b');
                        let closing = src[line..eol].trim() == marker;
                        line = eol + 1;
                        if closing {
                            break;
                        }
                    }
                    pos = line.min(src.len());
                }
                Code::Other => {
                    match src.as_bytes()[pos] {
                        b'{' => nesting.open_brace(),
                        b'}' => nesting.close_brace(),
                        _ => {}
                    }
                    fill(pos..pos + 1, if top { b'c' } else { b'i' });
                    pos += 1;
                }
            }
        }
        for (at, byte) in src.bytes().enumerate() {
            if byte == b'\n' {
                out[at] = b'\n';
            }
        }
        String::from_utf8(out).expect("ASCII classes")
    }

    /// Every line of `src` followed by its classes.
    fn interleaved(src: &str) -> String {
        let classes = classes(src);
        src.lines()
            .zip(classes.lines())
            .map(|(line, classes)| format!("{line}\n{classes}\n"))
            .collect()
    }

    #[test]
    fn the_shared_scanner_on_tricky_input() {
        let expected = r##"a = "${ "}" }" # one
cccc"{{i"s"ii"c#####
b = "%{ if x }#%{ endif }" // two
cccc"{{iiiiiiis{{iiiiiiii"c######
c = "$${x} %%{y} \" # no"
cccc"$$$sss$$$sss\\sssss"
d = {e = "${ {k = "v"}.k }"}
ccccccccc"{{iiiiii"s"iiiii"c
f = "${ x # three
cccc"{{iii#######
}" /* four */
i"c//////////
g = <<EOT
cccchhhhh
# no ${ "}" }
bbbbbbbbbbbbb
EOT
bbb
h = <<-EOT
cccchhhhhh
    // no ${
bbbbbbbbbbbb
    EOT
bbbbbbb
i = 1 << 2 # five
ccccccccccc######
"##;
        assert_eq!(interleaved(TRICKY), expected);
    }

    /// The three scanners built on it, on the same input.
    #[test]
    fn its_users_on_tricky_input() {
        let src = TRICKY;
        let comments: Vec<(&str, bool)> = crate::comments::comments_in(src, 0..src.len())
            .into_iter()
            .map(|c| (&src[c.range], c.trailing))
            .collect();
        assert_eq!(
            comments,
            [
                ("# one", true),
                ("// two", true),
                ("# three", true),
                ("/* four */", true),
                ("# five", true)
            ]
        );
        // `terraform fmt` format lines: (first, last, aligned `=`, aligned comment). The
        // interpolation left open at the end of `f`'s line keeps its `=` out of alignment; a
        // heredoc is one format line.
        let lines: Vec<(usize, usize, bool, bool)> = crate::align::analyze(src)
            .into_iter()
            .map(|l| (l.first, l.last, l.assign.is_some(), l.comment.is_some()))
            .collect();
        assert_eq!(
            lines,
            [
                (0, 0, true, true),
                (1, 1, true, true),
                (2, 2, true, false),
                (3, 3, true, false),
                (4, 4, false, false),
                (5, 5, false, false),
                (6, 8, true, false),
                (9, 11, true, false),
                (12, 12, true, true),
                (13, 13, false, false),
            ]
        );
        // Every literal and heredoc body taken for a secret. The diff's masking follows an
        // interpolation over lines (`f`: its comment makes it text, masked on each line, up to
        // the closing quote; `/* four */` is a comment). A word of a comment is masked when the
        // check takes it for a secret too (`# ***`). A directive's words stay (`b`).
        let vars = crate::redact::SecretVariables::collect([src]);
        let masked = crate::redact::masked_lines(src, &vars, &|_, value: &str| !value.is_empty());
        assert_eq!(
            masked.join("\n"),
            r##"a = "***" # ***
b = "%{ if x }***%{ endif }" // ***
c = "***"
d = {e = "***"}
f = "***
***" /* *** */
g = <<EOT
***
EOT
h = <<-EOT
    ***
    EOT
i = 1 << 2 # ***
"##
        );
    }

    const TRICKY: &str = r##"a = "${ "}" }" # one
b = "%{ if x }#%{ endif }" // two
c = "$${x} %%{y} \" # no"
d = {e = "${ {k = "v"}.k }"}
f = "${ x # three
}" /* four */
g = <<EOT
# no ${ "}" }
EOT
h = <<-EOT
    // no ${
    EOT
i = 1 << 2 # five
"##;
}
