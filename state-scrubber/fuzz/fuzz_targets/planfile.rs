//! Saved binary plans: arbitrary bytes through the zip reader, the `tfplan` protobuf decoding
//! and its msgpack values, and the plan scanner on the document built from them. Any panic is a
//! bug: a hostile plan must become an error that names it. The document built from a plan that
//! decodes must always scan (it is ours: an error there would be an error the user cannot fix).
#![no_main]

use libfuzzer_sys::fuzz_target;
use state_scrubber::detect::Engine;
use state_scrubber::document::Scanner;
use state_scrubber::planfile;

thread_local! {
    // Compiling the rules takes milliseconds: once per process, not per input.
    static ENGINE: Engine = Engine::with_salt([7; 32]).expect("builtin rules compile");
}

fn scan(label: &str, json: &[u8], ours: bool) {
    let r = ENGINE.with(|e| Scanner::new(e, b"fuzz-key", label.to_string()).scan(json));
    if ours {
        if let Err(e) = r {
            panic!("the plan document built from a decoded plan does not scan: {e}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the layer: the whole archive, the `tfplan` member alone, or one
    // msgpack value.
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => {
            if let Ok(members) = planfile::read_archive("fuzz", rest) {
                for m in members {
                    if let Ok(json) = m.json {
                        scan(&m.label, &json, m.label.ends_with("!/tfplan"));
                    }
                }
            }
        }
        1 => {
            if let Ok(json) = planfile::plan_document(rest, &["v".to_string()]) {
                scan("fuzz!/tfplan", &json, true);
            }
        }
        _ => {
            let _ = planfile::decode(rest);
        }
    }
});
