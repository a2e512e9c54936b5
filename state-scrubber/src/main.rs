use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;
use state_scrubber::cli::{run, Cli};

fn main() -> ExitCode {
    // Rust's default panic hook prints the panic message, which a `format!` over an input value
    // or a string slice's index error can fill with a secret; it runs even for the panics the
    // saved-plan reader catches. This one says where, never what.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "state-scrubber: internal error{at} (the message is withheld: it may quote a secret value)"
        );
    }));
    // clap exits 2 on usage errors and 0 for --help/--version.
    let cli = Cli::parse();
    match run(cli) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) => {
            // The chain may name input files (and, through them, anything in a file name).
            let msg = format!("{e:#}");
            // Not `eprintln!`: it panics (exit 101) when stderr is a pipe whose reader is gone
            // (`audit ... 2>&1 | head -1`), and the error that brought us here may be exactly
            // that. The message is lost then; the exit status still says what happened.
            let _ = writeln!(
                std::io::stderr(),
                "error: {}",
                state_scrubber::report::printable(&msg)
            );
            ExitCode::from(2)
        }
    }
}
