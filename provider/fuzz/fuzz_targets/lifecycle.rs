//! `offstate_secret` through the tfplugin6 service, in process, over the in-memory store, with
//! configurations made from the fuzzer's bytes: every attribute and the `generate` block get a
//! value of their type (or null, or unknown), and the write-only value is a canary.
//!
//! Each input runs ValidateResourceConfig, PlanResourceChange (create), ApplyResourceChange,
//! ReadResource and, when the input carries a second configuration, the update's plan and apply.
//! What must hold, for every response (diagnostics, planned and new state, private data):
//! * the canary never appears, plain or base64 (the invariant);
//! * the value the store ended up with never appears either (it may be a generated one);
//! * no handler panicked (the framework would answer "Provider internal error").
#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use offstate_common::store::memory::MemoryStore;
use offstate_common::store::{SecretStore, VersionSelector};
use offstate_framework::codec::{decode_msgpack, encode_msgpack};
use offstate_framework::value::Number;
use offstate_framework::wire::ProviderService;
use offstate_framework::{Type, Value};
use offstate_proto::tfplugin6 as pb;
use pb::provider_server::Provider as _;
use terraform_provider_offstate::provider::{Configured, Handle};
use terraform_provider_offstate::{secret, OffstateProvider};
use tonic::Request;

const TYPE: &str = "offstate_secret";

/// The write-only value: letters and digits only, so it looks the same escaped or not.
const CANARY: &str = "fuzzcanary7Qk2Vw9Zr4Xt8Lp3";

/// Attributes whose value is the secret.
const VALUE_ATTRS: [&str; 2] = ["value_wo", "binary_wo"];

fn some_string(u: &mut Unstructured) -> ArbResult<String> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => String::new(),
        1 => "app/db".to_string(),
        2 => "x".repeat(u.int_in_range(1..=600usize)?),
        3 => u.arbitrary::<u32>()?.to_string(),
        _ => u.arbitrary::<String>()?,
    })
}

/// A value of type `ty`, from the fuzzer's bytes: sometimes null or unknown.
fn fill(u: &mut Unstructured, name: &str, ty: &Type, depth: u32) -> ArbResult<Value> {
    match u.int_in_range(0..=9u8)? {
        0 | 1 => return Ok(Value::Null),
        2 => return Ok(Value::Unknown),
        _ => {}
    }
    Ok(match ty {
        Type::Bool => Value::Bool(u.arbitrary()?),
        Type::Number => Value::Number(match u.int_in_range(0..=3u8)? {
            0 => Number::Int(u.int_in_range(-2..=40i64)?),
            1 => Number::Int(u.arbitrary()?),
            2 => Number::Float(u.arbitrary()?),
            _ => Number::Big(format!("{}.5", u.arbitrary::<u64>()?)),
        }),
        Type::String if name == "value_wo" => {
            let (pre, post) = (some_string(u)?, some_string(u)?);
            Value::String(match u.int_in_range(0..=2u8)? {
                0 => CANARY.to_string(),
                1 => format!("{{\"password\":\"{CANARY}\",\"k\":\"{post}\"}}"),
                _ => format!("{pre}{CANARY}{post}"),
            })
        }
        Type::String if name == "binary_wo" => Value::String(
            base64::engine::general_purpose::STANDARD.encode(format!("{CANARY}\u{1}\u{ff}")),
        ),
        Type::String => Value::String(some_string(u)?),
        Type::Dynamic => Value::String(some_string(u)?),
        Type::Map(inner) => {
            let mut m = BTreeMap::new();
            for _ in 0..u.int_in_range(0..=3u8)? {
                m.insert(some_string(u)?, fill(u, "", inner, depth + 1)?);
            }
            Value::Map(m)
        }
        Type::List(inner) | Type::Set(inner) if depth < 3 => {
            let mut items = Vec::new();
            for _ in 0..u.int_in_range(0..=2u8)? {
                items.push(fill(u, "", inner, depth + 1)?);
            }
            if matches!(ty, Type::Set(_)) {
                Value::Set(items)
            } else {
                Value::List(items)
            }
        }
        Type::Object(attrs) if depth < 3 => {
            let mut m = BTreeMap::new();
            for (k, t) in attrs {
                m.insert(k.clone(), fill(u, k, t, depth + 1)?);
            }
            Value::Object(m)
        }
        _ => Value::Null,
    })
}

/// A configuration: computed-only attributes are null, as Terraform sends them.
fn config(u: &mut Unstructured, ty: &Type, computed: &[String]) -> ArbResult<Value> {
    let Type::Object(attrs) = ty else {
        unreachable!()
    };
    let mut m = BTreeMap::new();
    for (k, t) in attrs {
        let v = if computed.contains(k) {
            Value::Null
        } else {
            fill(u, k, t, 0)?
        };
        m.insert(k.clone(), v);
    }
    Ok(Value::Object(m))
}

/// What Terraform proposes: the configuration with write-only attributes null and, on update,
/// computed attributes carried over from the prior state.
fn proposed(config: &Value, prior: Option<&Value>, computed: &[String]) -> Value {
    let mut p = config.clone();
    for a in VALUE_ATTRS {
        p.set(a, Value::Null);
    }
    if let Some(prior) = prior {
        for k in computed {
            p.set(k, prior.get(k).clone());
        }
    }
    p
}

/// Terraform plans with unknown configuration values but never applies with one.
fn has_unknown(v: &Value) -> bool {
    match v {
        Value::Unknown => true,
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            items.iter().any(has_unknown)
        }
        Value::Map(m) | Value::Object(m) => m.values().any(has_unknown),
        _ => false,
    }
}

fn dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    encode_msgpack(v, ty).ok().map(|msgpack| pb::DynamicValue {
        msgpack,
        json: vec![],
    })
}

fn caps() -> Option<pb::ClientCapabilities> {
    Some(pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: true,
    })
}

/// Everything a response carries that Terraform could write down or show.
#[derive(Default)]
struct Seen(Vec<u8>);

impl Seen {
    fn diagnostics(&mut self, ds: &[pb::Diagnostic]) -> bool {
        let mut error = false;
        for d in ds {
            assert!(
                d.summary != "Provider internal error",
                "a handler panicked: {}",
                d.detail
            );
            self.0.extend(d.summary.as_bytes());
            self.0.extend(d.detail.as_bytes());
            error |= d.severity == pb::diagnostic::Severity::Error as i32;
        }
        error
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend(b);
    }
    fn dynamic(&mut self, v: &Option<pb::DynamicValue>) {
        if let Some(v) = v {
            self.0.extend(&v.msgpack);
            self.0.extend(&v.json);
        }
    }
    /// Fails if `needle` is in a response, unless the input itself put it in a non-secret
    /// attribute (`public`): the fuzzer learns the needle from the comparison and plants it in a
    /// tag, say, which then rightly comes back in the state.
    fn assert_free_of(&self, needle: &[u8], what: &str, public: &[u8]) {
        let found =
            |hay: &[u8]| needle.len() >= 12 && hay.windows(needle.len()).any(|w| w == needle);
        if found(&self.0) && !found(public) {
            panic!("{what} reached a response");
        }
    }
}

fn state_of(v: &Option<pb::DynamicValue>, ty: &Type) -> Option<Value> {
    v.as_ref().and_then(|d| decode_msgpack(&d.msgpack, ty).ok())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let schema = secret::schema();
    let ty = schema.value_type();
    let computed: Vec<String> = ["id", "arn", "tags_all", "version_id"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let Ok(first) = config(&mut u, &ty, &computed) else {
        return;
    };
    let second = match u.arbitrary::<bool>() {
        Ok(true) => config(&mut u, &ty, &computed).ok(),
        _ => None,
    };

    let store = Arc::new(MemoryStore::default());
    let handle = Handle::with(Configured {
        store: store.clone(),
        default_tags: BTreeMap::new(),
        ignore_tags: Default::default(),
    });
    let svc = ProviderService::new(OffstateProvider::with_handle(handle));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    // What the configurations say outside their write-only attributes.
    let public: Vec<u8> = std::iter::once(&first)
        .chain(second.as_ref())
        .filter_map(|c| encode_msgpack(&proposed(c, None, &computed), &ty).ok())
        .flatten()
        .collect();
    let mut seen = Seen::default();
    let mut stored: Vec<Vec<u8>> = Vec::new();

    rt.block_on(async {
        let mut prior: Option<Value> = None;
        for config in std::iter::once(first).chain(second) {
            let config_dv = dv(&config, &ty);
            if config_dv.is_none() {
                return;
            }
            let r = svc
                .validate_resource_config(Request::new(pb::validate_resource_config::Request {
                    type_name: TYPE.into(),
                    config: config_dv.clone(),
                    client_capabilities: caps(),
                }))
                .await
                .unwrap()
                .into_inner();
            if seen.diagnostics(&r.diagnostics) {
                return;
            }
            let prior_dv = match &prior {
                Some(p) => dv(p, &ty),
                None => dv(&Value::Null, &ty),
            };
            let plan = svc
                .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                    type_name: TYPE.into(),
                    prior_state: prior_dv.clone(),
                    proposed_new_state: dv(&proposed(&config, prior.as_ref(), &computed), &ty),
                    config: config_dv.clone(),
                    client_capabilities: caps(),
                    ..Default::default()
                }))
                .await
                .unwrap()
                .into_inner();
            seen.dynamic(&plan.planned_state);
            seen.bytes(&plan.planned_private);
            if seen.diagnostics(&plan.diagnostics) || has_unknown(&config) {
                return;
            }
            let applied = svc
                .apply_resource_change(Request::new(pb::apply_resource_change::Request {
                    type_name: TYPE.into(),
                    prior_state: prior_dv,
                    planned_state: plan.planned_state.clone(),
                    config: config_dv,
                    planned_private: plan.planned_private.clone(),
                    ..Default::default()
                }))
                .await
                .unwrap()
                .into_inner();
            seen.dynamic(&applied.new_state);
            seen.bytes(&applied.private);
            let failed = seen.diagnostics(&applied.diagnostics);
            let Some(state) = state_of(&applied.new_state, &ty) else {
                return;
            };
            if let Value::String(name) = state.get("arn") {
                if let Ok(v) = store.get_value(name, VersionSelector::Current).await {
                    stored.push(v.value.expose_secret().to_vec());
                }
            }
            if failed || state.is_null() {
                return;
            }
            let read = svc
                .read_resource(Request::new(pb::read_resource::Request {
                    type_name: TYPE.into(),
                    current_state: applied.new_state.clone(),
                    private: applied.private.clone(),
                    client_capabilities: caps(),
                    ..Default::default()
                }))
                .await
                .unwrap()
                .into_inner();
            seen.dynamic(&read.new_state);
            seen.bytes(&read.private);
            if seen.diagnostics(&read.diagnostics) {
                return;
            }
            prior = state_of(&read.new_state, &ty);
            if prior.as_ref().is_none_or(Value::is_null) {
                return;
            }
        }
    });

    seen.assert_free_of(CANARY.as_bytes(), "the canary", &public);
    let b64 = base64::engine::general_purpose::STANDARD;
    seen.assert_free_of(
        b64.encode(CANARY).as_bytes(),
        "the canary (base64)",
        &public,
    );
    for v in &stored {
        seen.assert_free_of(v, "a stored value", &public);
        seen.assert_free_of(b64.encode(v).as_bytes(), "a stored value (base64)", &public);
    }
});
