//! The value codec on arbitrary bytes, as Terraform's `DynamicValue` (msgpack) and raw state
//! (JSON) would carry them. The first byte picks the schema type; the rest is the payload.
//!
//! What must hold: no decoder panics, however malformed or deep the input; and a value the
//! msgpack decoder accepts encodes again and decodes to the same value (what the framework
//! answers is what it was sent, write-only attributes aside).
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use offstate_framework::codec::{
    decode_json, decode_msgpack, decode_msgpack_untyped, encode_msgpack,
};
use offstate_framework::Type;

fn types() -> Vec<Type> {
    let secret = Type::Object(BTreeMap::from([
        ("arn".to_string(), Type::String),
        ("name".to_string(), Type::String),
        ("recovery_window_in_days".to_string(), Type::Number),
        ("tags".to_string(), Type::map(Type::String)),
        ("value_wo".to_string(), Type::String),
        ("force".to_string(), Type::Bool),
        ("extra".to_string(), Type::Dynamic),
    ]));
    vec![
        Type::Dynamic,
        secret.clone(),
        Type::list(Type::String),
        Type::set(secret.clone()),
        Type::map(Type::Number),
        Type::Tuple(vec![Type::Bool, Type::Number, Type::String, Type::Dynamic]),
        Type::list(Type::list(Type::Dynamic)),
        Type::set(Type::String),
        Type::Number,
        Type::Object(BTreeMap::from([("nested".to_string(), Type::set(secret))])),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let types = types();
    let ty = &types[pick as usize % types.len()];
    if let Ok(v) = decode_msgpack(bytes, ty) {
        let again = match encode_msgpack(&v, ty) {
            Ok(b) => b,
            Err(e) => panic!("a value the decoder accepted does not encode: {e}"),
        };
        match decode_msgpack(&again, ty) {
            Ok(back) => assert!(back == v, "the msgpack round trip changed the value"),
            Err(e) => panic!("the encoder's output does not decode: {e}"),
        }
    }
    let _ = decode_msgpack_untyped(bytes);
    let _ = decode_json(bytes, ty);
});
