use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;
use state_scrubber::cli::{run, Cli};

fn main() -> ExitCode {
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
