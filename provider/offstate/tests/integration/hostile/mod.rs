//! Hostile input to the provider (issue 6), in-process over the tfplugin6
//! service with the in-memory store: malformed msgpack and JSON, wrong
//! types, unknown attributes, oversized values, names with every character
//! class, huge strings, deep nesting. Every request is answered (a response
//! with an error diagnostic, or a gRPC status), never a panic, never a hang,
//! and no answer carries the canary planted in the input.
//!
//! A panic inside a handler becomes a diagnostic without the panic's message
//! (the framework's `guarded()`), and the panic hook the runtime installs
//! prints neither the message nor the value: checked in a child process whose
//! stderr is captured.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use offstate_common::store::memory::MemoryStore;
use offstate_common::store::SecretStore;
use offstate_framework::codec::encode_msgpack;
use offstate_framework::resource::*;
use offstate_framework::wire::ProviderService;
use offstate_framework::{Attribute, Block, Diagnostics, Schema, Type, Value};
use offstate_proto::tfplugin6 as pb;
use pb::provider_server::Provider as _;
use terraform_provider_offstate::provider::{Configured, Handle};
use terraform_provider_offstate::{secret, OffstateProvider};
use tonic::Request;

const TYPE: &str = "offstate_secret";
/// Secrets Manager's value limit.
const LIMIT: usize = 65_536;

fn canary() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    crate::planted::plant(format!("hostile-canary-{n:x}-{:x}", std::process::id()))
}

fn service() -> (ProviderService<OffstateProvider>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    let handle = Handle::with(Configured {
        store: store.clone(),
        default_tags: BTreeMap::new(),
        ignore_tags: Default::default(),
    });
    (
        ProviderService::new(OffstateProvider::with_handle(handle)),
        store,
    )
}

fn ty() -> Type {
    secret::schema().value_type()
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    let Type::Object(attrs) = ty() else {
        unreachable!()
    };
    let mut v = Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect());
    for (k, val) in pairs {
        v.set(k, val.clone());
    }
    v
}

fn dv_bytes(b: &[u8]) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: b.to_vec(),
        json: vec![],
    })
}

fn dv(v: &Value) -> Option<pb::DynamicValue> {
    dv_bytes(&encode_msgpack(v, &ty()).unwrap())
}

fn caps() -> Option<pb::ClientCapabilities> {
    Some(pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: true,
    })
}

// ------------------------------------------------------------------------------------------
// raw msgpack builders (the codec would refuse to encode most of these)

fn mp_str(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n < 256 {
        out.extend([0xd9, n as u8]);
    } else if n < 65_536 {
        out.push(0xda);
        out.extend((n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend((n as u32).to_be_bytes());
    }
    out.extend(s);
    out
}

/// A msgpack map of the given (key, already-encoded value) pairs.
fn mp_map(pairs: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![0xde];
    out.extend((pairs.len() as u16).to_be_bytes());
    for (k, v) in pairs {
        out.extend(mp_str(k.as_bytes()));
        out.extend(v);
    }
    out
}

/// Every attribute of the schema as nil, with some replaced by raw encodings.
fn mp_object(overrides: &[(&str, Vec<u8>)], extra: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let Type::Object(attrs) = ty() else {
        unreachable!()
    };
    let mut pairs: Vec<(&str, Vec<u8>)> = Vec::new();
    for k in attrs.keys() {
        let v = overrides
            .iter()
            .find(|(o, _)| o == k)
            .map(|(_, v)| v.clone())
            .unwrap_or(vec![0xc0]);
        pairs.push((k.as_str(), v));
    }
    pairs.extend(extra.iter().cloned());
    mp_map(&pairs)
}

/// The malformed and mistyped payloads sent in every DynamicValue slot.
fn hostile_payloads(c: &str) -> Vec<(&'static str, Vec<u8>)> {
    let cb = c.as_bytes();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                (rng >> 24) as u8
            })
            .collect()
    };
    let valid = encode_msgpack(
        &obj(&[
            ("name", Value::string("ok")),
            ("value_wo", Value::string(c)),
            ("value_wo_version", Value::string("1")),
        ]),
        &ty(),
    )
    .unwrap();
    let mut deep_arrays = vec![0x91u8; 100_000];
    deep_arrays.push(0xc0);
    let mut deep_maps = Vec::new();
    for _ in 0..100_000 {
        deep_maps.extend([0x81, 0xa1, b'k']);
    }
    deep_maps.push(0xc0);
    let mut invalid_utf8 = cb.to_vec();
    invalid_utf8.extend([0xff, 0xfe, 0xc0, 0x80]);
    vec![
        ("empty", vec![]),
        ("nil", vec![0xc0]),
        ("random 64 B", random(64)),
        ("random 64 KiB", random(65_536)),
        ("truncated valid object", valid[..valid.len() / 2].to_vec()),
        ("valid object + trailing bytes", {
            let mut v = valid.clone();
            v.extend([0x00, 0x01]);
            v
        }),
        (
            "map32 claiming 4G entries",
            vec![0xdf, 0xff, 0xff, 0xff, 0xff],
        ),
        (
            "array32 claiming 4G items",
            vec![0xdd, 0xff, 0xff, 0xff, 0xff],
        ),
        (
            "str32 claiming 4 GiB",
            vec![0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],
        ),
        ("bin32 claiming 4 GiB", vec![0xc6, 0xff, 0xff, 0xff, 0xff]),
        ("reserved byte 0xc1", vec![0xc1]),
        ("ext type", vec![0xd4, 0x05, 0x01]),
        ("top-level array", mp_str(cb)),
        ("100 000 nested arrays", deep_arrays),
        ("100 000 nested maps", deep_maps),
        (
            "value_wo: number",
            mp_object(
                &[("value_wo", vec![0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0])],
                &[],
            ),
        ),
        (
            "value_wo: map holding the canary",
            mp_object(&[("value_wo", mp_map(&[("k", mp_str(cb))]))], &[]),
        ),
        (
            "value_wo: invalid UTF-8 around the canary",
            mp_object(&[("value_wo", mp_str(&invalid_utf8))], &[]),
        ),
        (
            "name: canary as binary",
            mp_object(
                &[("name", {
                    let mut b = vec![0xc4, cb.len() as u8];
                    b.extend(cb);
                    b
                })],
                &[],
            ),
        ),
        (
            "tags: list instead of map",
            mp_object(
                &[("tags", {
                    let mut b = vec![0x91];
                    b.extend(mp_str(cb));
                    b
                })],
                &[],
            ),
        ),
        (
            "tags: map of maps",
            mp_object(
                &[("tags", mp_map(&[("a", mp_map(&[("b", mp_str(cb))]))]))],
                &[],
            ),
        ),
        (
            "recovery_window_in_days: u64::MAX",
            mp_object(
                &[("recovery_window_in_days", {
                    let mut b = vec![0xcf];
                    b.extend(u64::MAX.to_be_bytes());
                    b
                })],
                &[],
            ),
        ),
        (
            "recovery_window_in_days: NaN",
            mp_object(
                &[(
                    "recovery_window_in_days",
                    vec![0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1],
                )],
                &[],
            ),
        ),
        (
            "recovery_window_in_days: huge decimal string",
            mp_object(
                &[(
                    "recovery_window_in_days",
                    mp_str("9".repeat(10_000).as_bytes()),
                )],
                &[],
            ),
        ),
        (
            "unknown attribute beside value_wo",
            mp_object(
                &[("value_wo", mp_str(cb)), ("value_wo_version", mp_str(b"1"))],
                &[("bogus", mp_str(cb))],
            ),
        ),
        ("missing attributes", mp_map(&[("value_wo", mp_str(cb))])),
        (
            "duplicate keys",
            mp_map(&[("value_wo", mp_str(cb)), ("value_wo", vec![0x01])]),
        ),
        (
            "generate: a string instead of a block",
            mp_object(&[("generate", mp_str(cb))], &[]),
        ),
        (
            "unknown-value ext in a non-computed slot",
            mp_object(&[("value_wo", vec![0xd4, 0x00, 0x00])], &[]),
        ),
    ]
}

/// What a hostile request got back.
#[derive(Debug)]
enum Answer {
    Diagnostics(Vec<pb::Diagnostic>),
    Status(String),
}

fn text_of(a: &Answer) -> String {
    match a {
        Answer::Diagnostics(d) => d
            .iter()
            .map(|d| format!("{} {}", d.summary, d.detail))
            .collect::<Vec<_>>()
            .join("\n"),
        Answer::Status(s) => s.clone(),
    }
}

fn is_error(a: &Answer) -> bool {
    match a {
        Answer::Diagnostics(d) => d
            .iter()
            .any(|d| d.severity == pb::diagnostic::Severity::Error as i32),
        Answer::Status(_) => true,
    }
}

macro_rules! answer {
    ($call:expr) => {
        match $call.await {
            Ok(r) => Answer::Diagnostics(r.into_inner().diagnostics),
            Err(s) => Answer::Status(format!("{:?}: {}", s.code(), s.message())),
        }
    };
}

/// Sends `payload` in every DynamicValue slot of every RPC that takes one.
async fn every_slot(
    svc: &ProviderService<OffstateProvider>,
    payload: &[u8],
) -> Vec<(&'static str, Answer)> {
    let good = dv(&obj(&[("name", Value::string("x"))]));
    let bad = dv_bytes(payload);
    let mut out = Vec::new();
    out.push((
        "ValidateResourceConfig",
        answer!(svc.validate_resource_config(Request::new(
            pb::validate_resource_config::Request {
                type_name: TYPE.into(),
                config: bad.clone(),
                client_capabilities: caps(),
            }
        ))),
    ));
    for slot in ["prior", "proposed", "config"] {
        let pick = |s: &str| if s == slot { bad.clone() } else { good.clone() };
        out.push((
            "PlanResourceChange",
            answer!(
                svc.plan_resource_change(Request::new(pb::plan_resource_change::Request {
                    type_name: TYPE.into(),
                    prior_state: pick("prior"),
                    proposed_new_state: pick("proposed"),
                    config: pick("config"),
                    client_capabilities: caps(),
                    ..Default::default()
                }))
            ),
        ));
    }
    for slot in ["prior", "planned", "config"] {
        let pick = |s: &str| if s == slot { bad.clone() } else { good.clone() };
        out.push((
            "ApplyResourceChange",
            answer!(
                svc.apply_resource_change(Request::new(pb::apply_resource_change::Request {
                    type_name: TYPE.into(),
                    prior_state: pick("prior"),
                    planned_state: pick("planned"),
                    config: pick("config"),
                    ..Default::default()
                }))
            ),
        ));
    }
    out.push((
        "ReadResource",
        answer!(svc.read_resource(Request::new(pb::read_resource::Request {
            type_name: TYPE.into(),
            current_state: bad.clone(),
            client_capabilities: caps(),
            ..Default::default()
        }))),
    ));
    out.push((
        "ValidateProviderConfig",
        answer!(svc.validate_provider_config(Request::new(
            pb::validate_provider_config::Request {
                config: bad.clone()
            }
        ))),
    ));
    out.push((
        "ConfigureProvider",
        answer!(
            svc.configure_provider(Request::new(pb::configure_provider::Request {
                terraform_version: "1.11.0".into(),
                config: bad.clone(),
                client_capabilities: caps(),
            }))
        ),
    ));
    out.push((
        "ReadDataSource",
        answer!(
            svc.read_data_source(Request::new(pb::read_data_source::Request {
                type_name: "offstate_secret".into(),
                config: bad.clone(),
                client_capabilities: caps(),
                ..Default::default()
            }))
        ),
    ));
    out.push((
        "OpenEphemeralResource",
        answer!(
            svc.open_ephemeral_resource(Request::new(pb::open_ephemeral_resource::Request {
                type_name: "offstate_secret_value".into(),
                config: bad.clone(),
                client_capabilities: caps(),
            }))
        ),
    ));
    let call = svc
        .call_function(Request::new(pb::call_function::Request {
            name: "ref".into(),
            arguments: vec![bad.clone().unwrap()],
        }))
        .await;
    out.push((
        "CallFunction",
        match call {
            Ok(r) => {
                let r = r.into_inner();
                match r.error {
                    Some(e) => Answer::Status(e.text),
                    None => Answer::Diagnostics(vec![]),
                }
            }
            Err(s) => Answer::Status(format!("{:?}: {}", s.code(), s.message())),
        },
    ));
    out
}

#[tokio::test]
async fn malformed_and_mistyped_msgpack_in_every_slot_is_answered_without_the_value() {
    let c = canary();
    let (svc, store) = service();
    let mut answered = 0;
    for (label, payload) in hostile_payloads(&c) {
        for (rpc, a) in every_slot(&svc, &payload).await {
            let text = text_of(&a);
            assert!(
                !text.contains(&c),
                "{rpc} answer to {label:?} holds the canary: {}",
                text.replace(&c, "[CANARY]")
            );
            assert!(
                text.len() < 16 * 1024,
                "{rpc} answer to {label:?} is {} bytes: input echoed?",
                text.len()
            );
            answered += 1;
        }
    }
    assert!(answered > 300, "{answered}");
    // Nothing hostile reached Secrets Manager: the only secret is "x", which a
    // null prior state with the well-formed planned state and config creates.
    let listed = store.list(&Default::default()).await.unwrap();
    let names: Vec<&str> = listed.iter().map(|m| m.name.as_str()).collect();
    assert!(
        names.iter().all(|n| *n == "x"),
        "hostile input created secrets {names:?}"
    );
}

#[tokio::test]
async fn malformed_payload_in_a_resource_rpc_is_an_error_not_a_silent_success() {
    // The decoding RPCs must say something is wrong (not answer an empty success).
    let c = canary();
    let (svc, _) = service();
    for (label, payload) in hostile_payloads(&c) {
        if matches!(
            label,
            "nil" | "empty" | "ext type" | "unknown-value ext in a non-computed slot"
        ) {
            // Legal: null, an empty DynamicValue (how an absent one reads), and
            // extension values (the codec reads any as "unknown", which
            // validation skips, as Terraform's own unknown marker). An unknown
            // `value_wo` is what Terraform's validate walk sends for
            // `value_wo = var.x`: it may still be null at plan.
            continue;
        }
        let a = answer!(svc.validate_resource_config(Request::new(
            pb::validate_resource_config::Request {
                type_name: TYPE.into(),
                config: dv_bytes(&payload),
                client_capabilities: caps(),
            }
        )));
        assert!(
            is_error(&a),
            "ValidateResourceConfig accepted {label:?} without an error"
        );
    }
}

#[tokio::test]
async fn upgrade_and_move_with_malformed_json_are_answered() {
    let c = canary();
    let (svc, _) = service();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"".to_vec()),
        ("not json", b"\x00\xff garbage".to_vec()),
        ("truncated", format!("{{\"value_wo\":\"{c}").into_bytes()),
        ("deep arrays", deep.into_bytes()),
        ("deep objects", deep_obj.into_bytes()),
        ("array", format!("[\"{c}\"]").into_bytes()),
        (
            "wrong types",
            format!(
                "{{\"name\":{{\"x\":\"{c}\"}},\"tags\":[1,2],\"recovery_window_in_days\":\"{c}\"}}"
            )
            .into_bytes(),
        ),
        (
            "unknown attributes",
            format!("{{\"name\":\"n\",\"bogus\":\"{c}\",\"secret_string\":\"{c}\"}}").into_bytes(),
        ),
        (
            "huge number",
            format!("{{\"recovery_window_in_days\":1{}}}", "0".repeat(5000)).into_bytes(),
        ),
        ("invalid UTF-8", {
            let mut b = b"{\"name\":\"".to_vec();
            b.extend([0xff, 0xfe]);
            b.extend(c.as_bytes());
            b.extend(b"\"}");
            b
        }),
    ];
    for (label, raw) in cases {
        for version in [0, -1, i64::MAX] {
            let a = answer!(svc.upgrade_resource_state(Request::new(
                pb::upgrade_resource_state::Request {
                    type_name: TYPE.into(),
                    version,
                    raw_state: Some(pb::RawState {
                        json: raw.clone(),
                        flatmap: Default::default(),
                    }),
                }
            )));
            assert!(
                !text_of(&a).contains(&c),
                "UpgradeResourceState {label:?} echoed the canary"
            );
        }
        let a = answer!(
            svc.move_resource_state(Request::new(pb::move_resource_state::Request {
                source_provider_address: "registry.terraform.io/hashicorp/aws".into(),
                source_type_name: "aws_secretsmanager_secret_version".into(),
                source_schema_version: 0,
                source_state: Some(pb::RawState {
                    json: raw.clone(),
                    flatmap: Default::default(),
                }),
                target_type_name: TYPE.into(),
                ..Default::default()
            }))
        );
        assert!(
            !text_of(&a).contains(&c),
            "MoveResourceState {label:?} echoed the canary"
        );
    }
}

#[tokio::test]
async fn unknown_type_names_and_import_ids_are_diagnostics() {
    let (svc, _) = service();
    let weird = [
        String::new(),
        "offstate_nope".into(),
        "\0".into(),
        "x".repeat(1 << 20),
        "../../etc/passwd".into(),
    ];
    for t in &weird {
        let a = answer!(svc.validate_resource_config(Request::new(
            pb::validate_resource_config::Request {
                type_name: t.clone(),
                config: dv(&obj(&[])),
                client_capabilities: caps(),
            }
        )));
        // (The framework's "unknown resource type" status repeats the type
        // name in full; a type name is no secret, so only the answer counts.)
        assert!(is_error(&a), "type {:?}", &t[..t.len().min(20)]);
        let a = answer!(svc.import_resource_state(Request::new(
            pb::import_resource_state::Request {
                type_name: TYPE.into(),
                id: t.clone(),
                client_capabilities: caps(),
                ..Default::default()
            }
        )));
        assert!(is_error(&a), "import id {:?}", &t[..t.len().min(20)]);
        assert!(
            text_of(&a).len() < 16 * 1024,
            "the import answer echoes a 1 MiB id"
        );
    }
}

async fn validate(svc: &ProviderService<OffstateProvider>, v: &Value) -> Answer {
    answer!(
        svc.validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: TYPE.into(),
            config: dv(v),
            client_capabilities: caps(),
        }))
    )
}

async fn create(svc: &ProviderService<OffstateProvider>, config: &Value) -> Answer {
    let mut planned = config.clone();
    for k in ["id", "arn", "version_id", "tags_all"] {
        planned.set(k, Value::Unknown);
    }
    planned.set("value_wo", Value::Null);
    planned.set("binary_wo", Value::Null);
    answer!(
        svc.apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: TYPE.into(),
            prior_state: dv(&Value::Null),
            planned_state: dv(&planned),
            config: dv(config),
            ..Default::default()
        }))
    )
}

#[tokio::test]
async fn names_with_every_character_class() {
    let (svc, _) = service();
    // (name, valid for Secrets Manager)
    let mut cases: Vec<(String, bool)> = vec![
        ("AZaz09/_+=.@-".into(), true),
        ("a".repeat(512), true),
        ("a".repeat(513), false),
        (String::new(), false),
        ("x".repeat(10 << 20), false),
    ];
    // every ASCII character, alone inside a name
    for b in 0u8..=127 {
        let ch = b as char;
        let ok = ch.is_ascii_alphanumeric() || "/_+=.@-".contains(ch);
        cases.push((format!("a{ch}b"), ok));
    }
    for s in [
        "é",
        "ß",
        "名前",
        "🔑",
        "\u{202e}",
        "\u{200b}",
        "\u{feff}",
        "\u{0}",
        "\u{7f}",
        "\u{85}",
        "\u{2028}",
        "\u{fffd}",
        "\u{10ffff}",
        "\t",
        "\r\n",
        "${var.x}",
        "%{ if }",
        "'\"`",
        "$(id)",
        ";rm -rf",
        "*",
        "?",
        "[",
        "]",
        "\\",
        "%00",
        "%2F",
    ] {
        cases.push((format!("a{s}b"), false));
    }
    for (name, ok) in cases {
        let show = name.chars().take(20).collect::<String>();
        let config = obj(&[("name", Value::string(&name))]);
        let a = validate(&svc, &config).await;
        assert_eq!(!is_error(&a), ok, "validate name {show:?}: {}", text_of(&a));
        assert!(
            text_of(&a).len() < 16 * 1024,
            "the answer echoes a huge name"
        );
        if !ok {
            // Apply without validation (Terraform would not, but a hostile client could).
            let a = create(&svc, &config).await;
            assert!(is_error(&a), "create with name {show:?} was accepted");
            assert!(
                text_of(&a).len() < 16 * 1024,
                "the create answer echoes a huge name"
            );
        }
    }
}

#[tokio::test]
async fn oversized_and_huge_values_are_diagnostics_before_any_call() {
    let (svc, store) = service();
    let c = canary();
    let big = |n: usize| {
        let mut s = c.clone();
        while s.len() < n {
            s.push('x');
        }
        s.truncate(n);
        s
    };
    for (n, ok) in [(LIMIT, true), (LIMIT + 1, false), (10 << 20, false)] {
        let config = obj(&[
            ("name", Value::string(format!("big-{n}"))),
            ("value_wo", Value::string(big(n))),
            ("value_wo_version", Value::string("1")),
        ]);
        let v = validate(&svc, &config).await;
        assert_eq!(!is_error(&v), ok, "validate {n} bytes: {}", text_of(&v));
        let a = create(&svc, &config).await;
        assert_eq!(!is_error(&a), ok, "create {n} bytes: {}", text_of(&a));
        for t in [text_of(&v), text_of(&a)] {
            assert!(!t.contains(&c), "an answer holds the value");
        }
        assert_eq!(
            store.describe(&format!("big-{n}")).await.unwrap().is_some(),
            ok
        );
    }
    // binary_wo: the limit applies to the decoded bytes
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(vec![7u8; LIMIT + 1]);
    let config = obj(&[
        ("name", Value::string("big-binary")),
        ("binary_wo", Value::string(b64)),
        ("value_wo_version", Value::string("1")),
    ]);
    assert!(is_error(&create(&svc, &config).await));
    assert!(store.describe("big-binary").await.unwrap().is_none());
    // huge description and tags: an AWS error as a diagnostic at worst, never a panic
    let config = obj(&[
        ("name", Value::string("huge-meta")),
        ("description", Value::string("d".repeat(10 << 20))),
        (
            "tags",
            Value::Map(
                (0..10_000)
                    .map(|i| (format!("k{i}"), Value::string("v".repeat(1000))))
                    .collect(),
            ),
        ),
    ]);
    let a = create(&svc, &config).await;
    assert!(
        text_of(&a).len() < 16 * 1024,
        "the answer echoes huge metadata"
    );
}

// After `answer!`, which it uses (a macro is seen by the modules declared after it).
mod panics;
