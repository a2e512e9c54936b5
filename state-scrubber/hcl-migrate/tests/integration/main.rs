//! hcl-migrate's integration tests, one binary (STYLE.md). Their data stays in `tests/golden/`
//! and `tests/fuzz/`.

mod fuzz_regressions;
mod golden;
