//! Saved binary plans (`terraform plan -out tfplan`): read member by member, every value found,
//! none shown; broken and hostile archives are errors naming the file and member.
//!
//! The plans are built here (zip, protobuf `tfplan.Plan`, cty msgpack) with random canaries;
//! `tests/test_saved_plan_audit.py` drives the real Terraform.

use std::io::Write as _;

use crate::util::*;
use prost::Message as _;
use serde_json::{json, Value};
use state_scrubber::planfile::proto;

mod broken;
mod values;

// ---- msgpack as cty writes it ------------------------------------------------------------------

fn mp_str(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut v = if b.len() < 32 {
        vec![0xa0 | b.len() as u8]
    } else {
        let mut v = vec![0xda];
        v.extend((b.len() as u16).to_be_bytes());
        v
    };
    v.extend(b);
    v
}

fn mp_map(pairs: &[(&str, Vec<u8>)]) -> Vec<u8> {
    assert!(pairs.len() < 16);
    let mut v = vec![0x80 | pairs.len() as u8];
    for (k, val) in pairs {
        v.extend(mp_str(k));
        v.extend(val);
    }
    v
}

/// A dynamic-typed value: `[type JSON as bytes, value]`.
fn mp_dynamic(type_json: &str, value: Vec<u8>) -> Vec<u8> {
    let mut v = vec![0x92, 0xc4, type_json.len() as u8];
    v.extend(type_json.as_bytes());
    v.extend(value);
    v
}

fn attr_path(names: &[&str]) -> proto::Path {
    proto::Path {
        steps: names
            .iter()
            .map(|n| proto::path::Step {
                selector: Some(proto::path::step::Selector::AttributeName(n.to_string())),
            })
            .collect(),
    }
}

/// A zip with the given members, written with Deflate as Terraform does (a minimal writer: local
/// headers, central directory, end record; no data descriptors).
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    zip_repeated(members.iter().map(|(n, b)| (*n, b.to_vec(), 1)))
}

/// [`zip_of`] with each member's body given as a piece written `n` times (a large body need not
/// be held whole).
fn zip_repeated<'a>(members: impl Iterator<Item = (&'a str, Vec<u8>, usize)>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let mut count = 0u16;
    for (name, piece, n) in members {
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        let mut crc = crc32fast::Hasher::new();
        let mut size = 0u32;
        for _ in 0..n {
            enc.write_all(&piece).unwrap();
            crc.update(&piece);
            size += piece.len() as u32;
        }
        let data = enc.finish().unwrap();
        let crc = crc.finalize();
        let offset = out.len() as u32;
        let mut common = Vec::new();
        common.extend(20u16.to_le_bytes()); // version needed
        common.extend(0u16.to_le_bytes()); // flags
        common.extend(8u16.to_le_bytes()); // deflate
        common.extend([0u8; 4]); // time, date
        common.extend(crc.to_le_bytes());
        common.extend((data.len() as u32).to_le_bytes());
        common.extend(size.to_le_bytes());
        common.extend((name.len() as u16).to_le_bytes());
        common.extend(0u16.to_le_bytes()); // extra
        out.extend(b"PK\x03\x04");
        out.extend(&common);
        out.extend(name.as_bytes());
        out.extend(&data);
        central.extend(b"PK\x01\x02");
        central.extend(20u16.to_le_bytes()); // version made by
        central.extend(&common);
        central.extend([0u8; 6]); // comment length, disk, internal attributes
        central.extend([0u8; 4]); // external attributes
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
        count += 1;
    }
    let cd_off = out.len() as u32;
    out.extend(&central);
    out.extend(b"PK\x05\x06");
    out.extend([0u8; 4]);
    out.extend(count.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd_off.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn db_state(password: &str) -> String {
    state_v4(json!([resource(
        "managed",
        "aws_db_instance",
        "db",
        json!({"id": "db-1", "username": "admin", "password": password}),
        json!([]),
    )]))
}

struct Canaries {
    var: String,
    change: String,
    output: String,
    prior: String,
    import: String,
}

impl Canaries {
    fn new() -> Canaries {
        Canaries {
            var: random(ALNUM, 24),
            change: random(ALNUM, 24),
            output: random(ALNUM, 24),
            prior: random(ALNUM, 24),
            import: plant(&format!("ghp_{}", random(ALNUM, 36))),
        }
    }
    fn all(&self) -> [&str; 5] {
        [
            &self.var,
            &self.change,
            &self.output,
            &self.prior,
            &self.import,
        ]
    }
}

fn plan_message(c: &Canaries) -> proto::Plan {
    let mut plan = proto::Plan {
        version: 3,
        terraform_version: "1.15.0".into(),
        ..Default::default()
    };
    plan.variables.insert(
        "db_password".into(),
        proto::DynamicValue {
            msgpack: mp_dynamic("\"string\"", mp_str(&c.var)),
        },
    );
    plan.resource_changes.push(proto::ResourceInstanceChange {
        addr: "module.app.aws_db_instance.db[0]".into(),
        provider: "provider[\"registry.terraform.io/hashicorp/aws\"]".into(),
        change: Some(proto::Change {
            action: proto::Action::Update as i32,
            values: vec![
                proto::DynamicValue {
                    msgpack: mp_map(&[
                        ("username", mp_str("admin")),
                        ("password", mp_str(&c.prior)),
                    ]),
                },
                proto::DynamicValue {
                    // `password` under a neutral name: only the sensitive mark tells.
                    msgpack: mp_map(&[
                        ("username", mp_str("admin")),
                        ("password", mp_str(&c.change)),
                        ("tags", mp_map(&[("note", mp_str(&c.change))])),
                    ]),
                },
            ],
            before_sensitive_paths: vec![attr_path(&["password"])],
            after_sensitive_paths: vec![attr_path(&["password"]), attr_path(&["tags", "note"])],
            importing: Some(proto::Importing {
                id: c.import.clone(),
                unknown: false,
                identity: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    plan.output_changes.push(proto::OutputChange {
        name: "conn".into(),
        sensitive: true,
        change: Some(proto::Change {
            action: proto::Action::Create as i32,
            values: vec![proto::DynamicValue {
                msgpack: mp_dynamic("\"string\"", mp_str(&c.output)),
            }],
            ..Default::default()
        }),
    });
    plan
}

fn saved_plan(c: &Canaries) -> Vec<u8> {
    let plan = plan_message(c).encode_to_vec();
    let state = db_state(&c.prior);
    zip_of(&[
        ("tfplan", &plan),
        ("tfstate", state.as_bytes()),
        ("tfstate-prev", state.as_bytes()),
        ("tfconfig/m-/main.tf", b"variable \"db_password\" {}\n"),
        ("tfconfig/modules.json", b"{\"Modules\":[]}"),
        (".terraform.lock.hcl", b"# no providers\n"),
        ("something-new", &[0xff, 0x00, 0x01]),
    ])
}

fn variants(canary: &str) -> Vec<String> {
    let mut v = encoded_forms(canary);
    v.push(canary[..12].to_string());
    v.push(canary[canary.len() - 12..].to_string());
    v
}

fn assert_absent(r: &Run, canaries: &[&str], what: &str) {
    let all = r.all();
    for c in canaries {
        for v in variants(c) {
            assert!(!all.contains(&v), "{what}: a canary reached the output");
        }
    }
}

/// (file, json_pointer) of every finding.
fn places(v: &Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["json_pointer"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
