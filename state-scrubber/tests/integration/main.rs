//! state-scrubber's integration tests: one binary (STYLE.md, "Tests"), one module per suite.
//! `util` is the shared harness; fixtures are in `tests/data/`.

mod util;

mod audit;
mod credentials;
mod first_run;
mod hostile;
mod keys;
mod memory;
mod migrate_terminal;
mod redaction;
mod saved_plan;
mod scrub;
