//! hashicorp/setup-terraform's wrapper output: its `[command]` line read for `-var` and
//! `-backend-config` values, and its own lines blanked out of the plan.

use super::findings::{Pos, Site};
use super::scanner::Scanner;
use crate::detect::{Ctx, Step};
use crate::finding::Address;
use std::borrow::Cow;

/// The note on a plan read out of setup-terraform's wrapper output.
pub(super) const WRAPPER_NOTE: &str = "read as the output of hashicorp/setup-terraform's wrapper: its `[command]` line was read for `-var` and `-backend-config` values, and its `::` workflow-command lines were left out (set `terraform_wrapper: false` to save the plan alone)";

const COMMAND_VAR_FIX: &str = "do not pass secrets with `-var` on the command line (hashicorp/setup-terraform's wrapper echoes it into the saved output, and CI logs keep it): set `TF_VAR_<name>` from a secret store, declare the variable `ephemeral = true` (Terraform >= 1.10), and rotate the value";
const COMMAND_BACKEND_FIX: &str = "do not pass backend credentials with `-backend-config` on the command line (hashicorp/setup-terraform's wrapper echoes it into the saved output, and the backend cache keeps it): use the backend's environment variables or an instance role, and rotate the credential";

/// The flags of a `[command]` line whose `NAME=VALUE` may carry a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CommandFlag {
    Var,
    BackendConfig,
}

impl CommandFlag {
    fn as_str(self) -> &'static str {
        match self {
            CommandFlag::Var => "-var",
            CommandFlag::BackendConfig => "-backend-config",
        }
    }

    /// `-var`, `--var` (Go's flag package takes either), and the same for `-backend-config`.
    fn of(token: &str) -> Option<CommandFlag> {
        match token
            .strip_prefix("--")
            .or_else(|| token.strip_prefix('-'))?
        {
            "var" => Some(CommandFlag::Var),
            "backend-config" => Some(CommandFlag::BackendConfig),
            _ => None,
        }
    }
}

/// One `-var NAME=VALUE` / `-backend-config NAME=VALUE` of a `[command]` line.
#[derive(Debug, PartialEq, Eq)]
struct CommandArg {
    flag: CommandFlag,
    name: String,
    value: String,
    /// Where `NAME` starts in the line after `[command]`, in characters.
    column: usize,
}

/// The words of a `[command]` line and where each starts (in characters). @actions/exec echoes
/// `[command]TOOL ARG ARG...` with the arguments joined by spaces as the shell left them (no
/// quotes on Linux and macOS; on Windows, one with a space or `"` is put in `"..."` with `\"`
/// inside). Quotes that do reach the echo (`-var='k=v'` passed on by a tool that does not go
/// through a shell, Windows' quoting) group a word and are removed: `'...'` literally, `"..."`
/// with `\"` and `\\` escapes. A quote with no closing one later on the line is a character
/// of the word (an unquoted secret may hold one).
fn command_words(line: &str) -> Vec<Word> {
    let chars: Vec<char> = line.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i == chars.len() {
            break;
        }
        let mut word = Word::default();
        while i < chars.len() && !chars[i].is_whitespace() {
            let c = chars[i];
            let close = (c == '\'' || c == '"')
                .then(|| {
                    let mut j = i + 1;
                    while j < chars.len() {
                        if c == '"' && chars[j] == '\\' && j + 1 < chars.len() {
                            j += 2;
                            continue;
                        }
                        if chars[j] == c {
                            return Some(j);
                        }
                        j += 1;
                    }
                    None
                })
                .flatten();
            match close {
                Some(end) => {
                    let mut j = i + 1;
                    while j < end {
                        if c == '"'
                            && chars[j] == '\\'
                            && matches!(chars.get(j + 1), Some('"' | '\\'))
                        {
                            j += 1;
                        }
                        word.push(chars[j], j);
                        j += 1;
                    }
                    i = end + 1;
                }
                None => {
                    word.push(c, i);
                    i += 1;
                }
            }
        }
        words.push(word);
    }
    words
}

/// A word of a `[command]` line, with where each of its characters is on the line.
#[derive(Debug, Default, Clone)]
struct Word {
    chars: Vec<char>,
    at: Vec<usize>,
}

impl Word {
    fn push(&mut self, c: char, at: usize) {
        self.chars.push(c);
        self.at.push(at);
    }

    fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// The characters from `from` on, without one pair of matching quotes around them.
    fn rest_unquoted(&self, from: usize) -> Word {
        let (mut a, mut b) = (from.min(self.chars.len()), self.chars.len());
        if b >= a + 2
            && ['\'', '"']
                .iter()
                .any(|&q| self.chars[a] == q && self.chars[b - 1] == q)
        {
            a += 1;
            b -= 1;
        }
        Word {
            chars: self.chars[a..b].to_vec(),
            at: self.at[a..b].to_vec(),
        }
    }
}

/// The `-var` and `-backend-config` `NAME=VALUE` arguments of a `[command]` line, in all the
/// forms Terraform takes them: `-var NAME=VALUE`, `-var=NAME=VALUE`, `--var ...`, quoted or
/// not (see [`command_words`]); a value in quotes of its own (`NAME="VALUE"`) loses them. A
/// `-backend-config` without `=` names a file, and is not a value.
fn command_args(line: &str) -> Vec<CommandArg> {
    let words = command_words(line);
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].text();
        i += 1;
        let (flag, arg) = if let Some(f) = CommandFlag::of(&w) {
            let Some(next) = words.get(i) else {
                break;
            };
            i += 1;
            (f, next.rest_unquoted(0))
        } else if let Some((f, head)) = w
            .split_once('=')
            .and_then(|(head, _)| Some((CommandFlag::of(head)?, head)))
        {
            (f, words[i - 1].rest_unquoted(head.chars().count() + 1))
        } else {
            continue;
        };
        let Some(eq) = arg.chars.iter().position(|&c| c == '=') else {
            continue;
        };
        let name: String = arg.chars[..eq].iter().collect();
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
        if !valid {
            continue;
        }
        out.push(CommandArg {
            flag,
            name,
            value: arg.rest_unquoted(eq + 1).text(),
            column: arg.at[0],
        });
    }
    out
}

/// Does `src` start (after a byte-order mark and blank space) with the `[command]` line that
/// hashicorp/setup-terraform's wrapper prints before Terraform's own output, with a JSON object
/// on a following line?
pub(super) fn is_wrapper_log(src: &[u8]) -> bool {
    let body = src.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(src);
    let start = body
        .iter()
        .position(|b| !b" \t\r\n".contains(b))
        .unwrap_or(body.len());
    let body = &body[start..];
    body.starts_with(b"[command]")
        && body
            .split(|&b| b == b'\n')
            .skip(1)
            .find(|l| !is_wrapper_line(l) && l.iter().any(|b| !b" \t\r".contains(b)))
            .is_some_and(|l| l.trim_ascii_start().starts_with(b"{"))
}

/// A line the wrapper adds: its `[command]` echo, or a GitHub workflow command (`::debug::`,
/// `::set-output`, ...). Terraform's JSON is one line that starts with `{`.
fn is_wrapper_line(line: &[u8]) -> bool {
    let l = line.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(line);
    let l = l.trim_ascii_start();
    l.starts_with(b"[command]") || l.starts_with(b"::")
}

/// `src` with the wrapper's lines turned into spaces (line breaks kept, so every position and
/// line number is the file's own). The workflow commands repeat Terraform's output
/// (`::debug::stdout: ...`); the plan itself is read once, on its own line.
pub(super) fn blank_wrapper_lines(src: &[u8]) -> Vec<u8> {
    let mut out = src.to_vec();
    let mut at = 0;
    for line in src.split(|&b| b == b'\n') {
        if is_wrapper_line(line) {
            for b in &mut out[at..at + line.len()] {
                if *b != b'\r' {
                    *b = b' ';
                }
            }
        }
        at += line.len() + 1;
    }
    out
}

impl<'e> Scanner<'e> {
    /// The `-var` and `-backend-config` arguments of the wrapper's `[command]` lines (see
    /// [`command_args`]), each analysed like a plan's variable or a backend cache's config value
    /// of that name, reported at its line and column.
    pub(super) fn command_lines(&mut self, src: &[u8]) {
        for (line_no, line) in (1u32..).zip(src.split(|&b| b == b'\n')) {
            let l = line.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(line);
            let indent = l.len() - l.trim_ascii_start().len();
            let Some(rest) = l[indent..].strip_prefix(b"[command]") else {
                continue;
            };
            let Ok(text) = std::str::from_utf8(rest) else {
                continue;
            };
            // Columns in characters, from the start of the line.
            let offset = String::from_utf8_lossy(&line[..line.len() - rest.len()])
                .chars()
                .count();
            for arg in command_args(text.trim_end_matches('\r')) {
                let (address, fix) = match arg.flag {
                    CommandFlag::Var => (
                        Address {
                            mode: "variable".into(),
                            name: arg.name.clone(),
                            ..Default::default()
                        },
                        COMMAND_VAR_FIX,
                    ),
                    CommandFlag::BackendConfig => (
                        Address {
                            mode: "backend".into(),
                            ..Default::default()
                        },
                        COMMAND_BACKEND_FIX,
                    ),
                };
                let mut dets = Vec::new();
                self.engine.analyze(
                    &arg.value,
                    &Ctx {
                        row: None,
                        key: Some(&arg.name),
                        mark: None,
                        default_fix: fix,
                    },
                    &mut dets,
                );
                if dets.is_empty() {
                    continue;
                }
                // Named by the argument, never by its value: `[command] -var db_password`.
                let locator = format!("[command] {} {}", arg.flag.as_str(), arg.name);
                let attr = match arg.flag {
                    CommandFlag::Var => vec![],
                    CommandFlag::BackendConfig => vec![Step::Key(Cow::Owned(arg.name.clone()))],
                };
                self.dets = dets;
                self.push_dets(&Site {
                    section: "command_line",
                    address: &address,
                    unit_pointer: &locator,
                    rel: &[],
                    attr: &attr,
                    pos: Pos {
                        line: line_no,
                        column: (offset + arg.column) as u32 + 1,
                    },
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every form of `-var` / `-backend-config` the shell (or Windows' quoting in @actions/exec)
    /// leaves in the `[command]` echo gives its name and value; other arguments give none.
    #[test]
    fn command_line_arguments_in_every_quoting_form() {
        use CommandFlag::{BackendConfig as B, Var as V};
        let t = |flag, name: &str, value: &str, column| CommandArg {
            flag,
            name: name.to_string(),
            value: value.to_string(),
            column,
        };
        let cases: &[(&str, Vec<CommandArg>)] = &[
            ("/t/terraform plan -var k=v1", vec![t(V, "k", "v1", 23)]),
            ("/t/terraform plan -var=k=v=2", vec![t(V, "k", "v=2", 23)]),
            ("/t/terraform plan --var k=v", vec![t(V, "k", "v", 24)]),
            ("/t/terraform plan -var='k=v'", vec![t(V, "k", "v", 24)]),
            ("/t/terraform plan -var \"k=v\"", vec![t(V, "k", "v", 24)]),
            ("/t/terraform plan '-var=k=a b'", vec![t(V, "k", "a b", 24)]),
            ("/t/terraform plan -var k='v'", vec![t(V, "k", "v", 23)]),
            ("/t/terraform plan -var k=\"v\"", vec![t(V, "k", "v", 23)]),
            (
                "\"C:\\t f\\terraform.exe\" plan \"-var=k=a \\\"b\"",
                vec![t(V, "k", "a \"b", 34)],
            ),
            ("/t/terraform plan -var k=it's", vec![t(V, "k", "it's", 23)]),
            (
                "/t/terraform init -backend-config=access_key=a -backend-config secret_key=b",
                vec![t(B, "access_key", "a", 34), t(B, "secret_key", "b", 63)],
            ),
            (
                "/t/terraform init -backend-config=backend.hcl -var-file=x.tfvars -var",
                vec![],
            ),
            ("/t/terraform show -json tfplan", vec![]),
        ];
        for (line, want) in cases {
            assert_eq!(&command_args(line), want, "{line}");
        }
    }
}
