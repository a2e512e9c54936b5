//! offstate-common's integration tests, one binary (STYLE.md). `moto`, `incomplete_answer` and
//! `stop` change the process environment: each holds [`environment::lock`] for its whole run.

mod echo;
mod environment;
mod incomplete_answer;
mod moto;
mod stop;

use std::io::BufRead;

/// One HTTP request read from `reader` for the small endpoints here: its operation (Secrets
/// Manager's X-Amz-Target, else STS's `Action=` in the form body) and its body. `None` when the
/// client closed the connection or sent less body than it announced.
pub(crate) fn read_request(reader: &mut impl BufRead) -> Option<(String, Vec<u8>)> {
    let (mut target, mut length, mut line) = (String::new(), 0usize, String::new());
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            match k.to_ascii_lowercase().as_str() {
                "x-amz-target" => target = v.trim().to_owned(),
                "content-length" => length = v.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let op = match target.rsplit('.').next().filter(|t| !t.is_empty()) {
        Some(op) => op.to_owned(),
        None => String::from_utf8_lossy(&body)
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .unwrap_or("?")
            .to_owned(),
    };
    Some((op, body))
}
