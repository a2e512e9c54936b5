//! offstate-common's integration tests, one binary (STYLE.md). `moto`, `incomplete_answer` and
//! `stop` change the process environment: each holds [`environment::lock`] for its whole run.

mod echo;
mod environment;
mod incomplete_answer;
mod moto;
mod stop;
