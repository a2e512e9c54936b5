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
            eprintln!("error: {}", state_scrubber::report::printable(&msg));
            ExitCode::from(2)
        }
    }
}
