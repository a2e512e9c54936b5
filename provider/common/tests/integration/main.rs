//! offstate-common's integration tests, one binary (STYLE.md). `moto` and `incomplete_answer`
//! change the process environment: both hold [`environment::lock`] for their whole run.

mod echo;
mod environment;
mod incomplete_answer;
mod moto;
