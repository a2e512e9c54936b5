use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;
use state_scrubber::cli::{run, Cli, Command};

fn main() -> ExitCode {
    keep_memory_private();
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
            "error: internal error{at} (the message is withheld: it may quote a secret value)"
        );
    }));
    // clap exits 2 on usage errors and 0 for --help/--version.
    let cli = Cli::parse();
    // `rules` only prints: once its reader stopped reading (`rules | head`), it is done, as with
    // ripgrep (exit 0, no message). `audit`, `migrate`, `scrub` and `restore` decide themselves
    // (the audit's status; migrate still writes its files, scrub and restore their state); the
    // state that `scrub -`/`restore -` print is no report, and its reader gone is an error.
    let only_prints = matches!(cli.command, Command::Rules(_));
    match run(cli) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) if only_prints && broken_pipe(&e) => ExitCode::SUCCESS,
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

/// Did `e` come from a write whose reader was gone (EPIPE)?
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// No core file, and no other process of this user may attach to this one or read its memory,
/// as the provider does (`PR_SET_DUMPABLE` 0 on Linux; elsewhere a core size limit of 0). Every
/// command holds values in plaintext: the states it reads, the values scrub stores and restore
/// reads back. A crash or a SIGQUIT under `ulimit -c unlimited` wrote `core` (the default
/// `core_pattern`) into the working directory, a Terraform repository or a CI workspace, with
/// every value the run had read. Root still can read the memory; `/proc/PID/status` stays
/// readable. Best effort: nothing to say when the kernel refuses.
fn keep_memory_private() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: PR_SET_DUMPABLE takes an integer argument and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong, 0, 0, 0);
    }
    #[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `none` is a valid rlimit that outlives the call.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
    }
}
