//! The rule engine: arbitrary keys and values (and JSON held in values) through every detection
//! layer, with and without an attribute-table row and a sensitivity mark.
#![no_main]

use libfuzzer_sys::fuzz_target;
use state_scrubber::detect::{Ctx, Engine, Mark};
use state_scrubber::finding::preview;
use state_scrubber::rules::entropy;
use state_scrubber::table::GENERIC_FIX;

thread_local! {
    static ENGINE: Engine = Engine::with_salt([7; 32]).expect("builtin rules compile");
}

const MARKS: [Option<Mark>; 6] = [
    None,
    Some(Mark::SensitiveAttributes),
    Some(Mark::SensitiveValues),
    Some(Mark::PlanSensitive),
    Some(Mark::SensitiveOutput),
    Some(Mark::SensitiveVariable),
];

fuzz_target!(|data: &[u8]| {
    // Layout: [row selector, mark selector, key bytes..., 0xFF, value bytes...]; strings are
    // decoded lossily so that any byte string reaches the engine.
    if data.len() < 2 {
        return;
    }
    let (sel, rest) = data.split_at(2);
    let (key, value) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&[][..], rest),
    };
    let key = String::from_utf8_lossy(key);
    let value = String::from_utf8_lossy(value);
    ENGINE.with(|engine| {
        let rows = &engine.table.rows;
        let row = match sel[0] as usize {
            0 => None,
            n => rows.get((n - 1) % rows.len().max(1)),
        };
        let mark = MARKS[sel[1] as usize % MARKS.len()];
        let ctx = Ctx {
            row,
            key: (!key.is_empty() || sel[1] & 0x80 != 0).then_some(&*key),
            mark,
            default_fix: GENERIC_FIX,
        };
        let mut out = Vec::new();
        engine.analyze(&value, &ctx, &mut out);
        for d in &out {
            // Detections carry a masked preview, never the value itself.
            assert!(
                value.chars().count() < 12 || !d.preview.contains(&*value),
                "preview holds the value"
            );
        }
        let _ = engine.rules.content_match(&value);
        let _ = engine.rules.key_match(&key, &value);
        let _ = engine.rules.is_safe_key(&key);
        let _ = engine.rules.candidates(&value);
        let _ = entropy(&value);
        let _ = preview(&value);
    });
});
