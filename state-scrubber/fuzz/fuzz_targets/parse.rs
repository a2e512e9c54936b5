//! The state/plan parser: arbitrary bytes through the audit scanner (the streaming JSON parser,
//! document recognition, every layer of detection), and states that scan with findings through
//! `scrub`'s dry run (for states up to 8 KiB) (planning plus the verified rewrite). Any panic is a bug: a hostile file
//! must become an error that names it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use state_scrubber::detect::Engine;
use state_scrubber::document::{DocKind, Scanner};
use state_scrubber::json::{Dom, Parser};
use state_scrubber::scrub::{scrub, ScrubOptions};
use std::future::Future;
use std::task::{Context, Poll, Waker};

thread_local! {
    // Compiling the rules takes milliseconds: once per process, not per input.
    static ENGINE: Engine = Engine::with_salt([7; 32]).expect("builtin rules compile");
}

/// The dry run has no store, so nothing in it waits: poll it to completion here.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The bare parser: a whole document into a tree, and the scanner's own streaming walk.
    if let Ok((dom, root)) = Parser::parse_document(data) {
        let _ = dom.len(root);
    }
    let mut p = Parser::new(data);
    let mut dom = Dom::default();
    let _ = p.parse_into(&mut dom);

    let scanned = ENGINE.with(|e| Scanner::new(e, b"fuzz-key", "fuzz.tfstate".into()).scan(data));
    match scanned {
        Ok(s) => {
            for f in &s.findings {
                assert!(!f.file.is_empty());
            }
            // scrub compiles its own rules on every call (milliseconds): only for small states
            // it would act on, so that the target keeps its speed on the large seeds.
            if data.len() <= 8 << 10
                && matches!(s.kind, DocKind::StateV4 | DocKind::StateV3)
                && !s.findings.is_empty()
            {
                let opts = ScrubOptions::new("fuzz/app");
                let _ = block_on(scrub(data, "fuzz.tfstate", &opts, None));
            }
        }
        Err(e) => {
            // The message names the file.
            assert!(e.to_string().starts_with("fuzz.tfstate"), "{e}");
        }
    }
});
