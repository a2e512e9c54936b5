//! Saved binary plans (`terraform plan -out tfplan`): read member by member, every value found,
//! none shown; broken and hostile archives are errors naming the file and member.
//!
//! The plans are built here (zip, protobuf `tfplan.Plan`, cty msgpack) with random canaries;
//! `tests/test_saved_plan_e2e.py` drives the real Terraform.

mod util;

use std::io::Write as _;

use prost::Message as _;
use serde_json::{json, Value};
use state_scrubber::planfile::proto;
use util::*;

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
            import: format!("ghp_{}", random(ALNUM, 36)),
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

/// Before: a saved plan was an error (exit 2, "convert it with terraform show -json"). Now the
/// directory walk reads `tfplan`: the plan member as the equivalent `show -json` document, the
/// prior states as states, each under `FILE!/MEMBER`, and no value reaches any output.
#[test]
fn a_walked_saved_plan_is_read_member_by_member() {
    let c = Canaries::new();
    let d = Dir::new();
    d.write("env/tfplan", saved_plan(&c));
    let r = audit_in(d.path(), &[".", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = r.json();
    let places = places(&v);
    for want in [
        ("./env/tfplan!/tfplan", "/variables/db_password/value"),
        (
            "./env/tfplan!/tfplan",
            "/resource_changes/0/change/before/password",
        ),
        (
            "./env/tfplan!/tfplan",
            "/resource_changes/0/change/after/password",
        ),
        (
            "./env/tfplan!/tfplan",
            "/resource_changes/0/change/after/tags/note",
        ),
        (
            "./env/tfplan!/tfplan",
            "/resource_changes/0/change/importing/id",
        ),
        ("./env/tfplan!/tfplan", "/output_changes/conn/after"),
        (
            "./env/tfplan!/tfstate",
            "/resources/0/instances/0/attributes/password",
        ),
        (
            "./env/tfplan!/tfstate-prev",
            "/resources/0/instances/0/attributes/password",
        ),
    ] {
        assert!(
            places.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} not in {places:?}"
        );
    }
    // The address is the change's, split as `show -json` splits it.
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["json_pointer"] == "/resource_changes/0/change/after/password")
        .unwrap();
    assert_eq!(f["address"], "module.app.aws_db_instance.db[0]");
    assert_eq!(f["document"], "show_json_plan");
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "./env/tfplan!/tfplan",
            "./env/tfplan!/tfstate",
            "./env/tfplan!/tfstate-prev"
        ]
    );
    for format in ["text", "json", "sarif", "html"] {
        let r = audit_in(d.path(), &["env/tfplan", "--format", format, "--verbose"]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(r.stdout.contains("env/tfplan!/tfplan"), "{format}");
        assert_absent(&r, &c.all(), format);
    }
    // SARIF names the member the same way.
    let r = audit_in(d.path(), &["env/tfplan", "--format", "sarif"]);
    assert!(r.stdout.contains("env/tfplan!/tfstate"), "{}", r.stdout);
    // stdin too.
    let r = audit_stdin(&["-", "--format", "json"], &saved_plan(&c));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("<stdin>!/tfplan"), "{}", r.stdout);
    assert_absent(&r, &c.all(), "stdin");
}

/// A truncated archive, a corrupt member, a plan that does not decode, malformed msgpack and a
/// zip that is no plan: each an error (exit 2) naming the file and the member, no value in it,
/// and the other files of the run still reported.
#[test]
fn a_broken_saved_plan_is_an_error_naming_file_and_member() {
    let c = Canaries::new();
    let good = saved_plan(&c);
    let state = db_state(&c.prior);
    let mut bad_msgpack = plan_message(&c);
    bad_msgpack.variables.insert(
        "extra".into(),
        proto::DynamicValue {
            // an array of 2^32-1 elements, and nothing after
            msgpack: vec![0xdd, 0xff, 0xff, 0xff, 0xff, 0xa1, b'x'],
        },
    );
    let mut deep = plan_message(&c);
    deep.variables.insert(
        "deep".into(),
        proto::DynamicValue {
            msgpack: vec![0x91; 10_000],
        },
    );
    // The tfstate member's data flipped inside the archive: inflate or the CRC check fails.
    let mut corrupt = zip_of(&[
        ("tfplan", &plan_message(&c).encode_to_vec()),
        ("tfstate", state.as_bytes()),
    ]);
    let at = corrupt
        .windows(4)
        .rposition(|w| w == b"PK\x03\x04")
        .unwrap()
        + 30
        + "tfstate".len()
        + 20;
    for b in &mut corrupt[at..at + 16] {
        *b ^= 0x5a;
    }
    // The tfstate member's CRC changed in the central directory.
    let mut crc = zip_of(&[
        ("tfplan", &plan_message(&c).encode_to_vec()),
        ("tfstate", state.as_bytes()),
    ]);
    let at = crc.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap() + 16;
    crc[at] ^= 1;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "crc/tfplan",
            crc,
            "crc/tfplan!/tfstate: member cannot be read (checksum does not match): truncated or corrupt",
        ),
        (
            "truncated/tfplan",
            good[..good.len() / 2].to_vec(),
            "truncated/tfplan: a zip archive (saved plan?) that cannot be read",
        ),
        (
            "corrupt/tfplan",
            corrupt,
            "corrupt/tfplan!/tfstate: member cannot be read (",
        ),
        (
            "protobuf/tfplan",
            zip_of(&[("tfplan", &[0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01][..])]),
            "protobuf/tfplan!/tfplan: not a valid plan (protobuf tfplan.Plan does not decode)",
        ),
        (
            "msgpack/tfplan",
            zip_of(&[("tfplan", &bad_msgpack.encode_to_vec())]),
            "msgpack/tfplan!/tfplan: a variable's value is not valid msgpack (truncated)",
        ),
        (
            "deep/tfplan",
            zip_of(&[("tfplan", &deep.encode_to_vec())]),
            "deep/tfplan!/tfplan: a variable's value is not valid msgpack (nested too deeply)",
        ),
        (
            "other/prod.tfplan",
            zip_of(&[("readme.txt", b"hello")]),
            "other/prod.tfplan: a zip archive, but not a saved Terraform plan (no `tfplan` member)",
        ),
    ];
    for (name, bytes, want) in cases {
        let d = Dir::new();
        d.write(name, &bytes);
        d.write("good/terraform.tfstate", db_state(&c.var));
        let r = audit_in(d.path(), &[".", "--format", "json"]);
        assert_eq!(r.code, 2, "{name}: {}", r.all());
        let errors = r.json()["errors"].to_string();
        assert!(errors.contains(want), "{name}: {errors}");
        // The other file was still scanned.
        assert!(
            places(&r.json()).iter().any(|(f, _)| f.contains("good/")),
            "{name}"
        );
        for format in ["text", "sarif"] {
            let r = audit_in(d.path(), &[".", "--format", format]);
            assert_eq!(r.code, 2, "{name}");
            assert_absent(&r, &c.all(), name);
        }
        assert_absent(&r, &c.all(), name);
    }
}

/// A member that inflates past the limit (256 MiB) is refused, not read into memory whole; the
/// other members are still scanned.
#[test]
fn a_zip_bomb_is_refused() {
    let c = Canaries::new();
    let plan = plan_message(&c).encode_to_vec();
    // 300 MiB of JSON whitespace compresses to about 300 KB.
    let bomb =
        zip_repeated([("tfplan", plan, 1), ("tfstate", vec![b' '; 1 << 20], 300)].into_iter());
    assert!(bomb.len() < 2 << 20, "{}", bomb.len());
    let d = Dir::new();
    d.write("tfplan", &bomb);
    let r = audit_in(d.path(), &["tfplan", "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let errors = r.json()["errors"].to_string();
    assert!(
        errors.contains("tfplan!/tfstate: member inflates to more than 256 MiB: refused"),
        "{errors}"
    );
    assert!(places(&r.json())
        .iter()
        .any(|(f, p)| f == "tfplan!/tfplan" && p == "/variables/db_password/value"));
    assert_absent(&r, &c.all(), "bomb");
}

/// Plan JSON: `resource_changes[].change.importing.id` was not read; a credential there is now
/// found like any other value.
#[test]
fn a_plan_json_importing_id_is_read() {
    let tok = format!("ghp_{}", random(ALNUM, 36));
    let plan = json!({
        "format_version": "1.2",
        "resource_changes": [{
            "address": "github_repository.r",
            "mode": "managed",
            "type": "github_repository",
            "name": "r",
            "change": {
                "actions": ["no-op"],
                "before": {"name": "r"},
                "after": {"name": "r"},
                "importing": {"id": tok},
            }
        }]
    });
    let d = Dir::new();
    d.write("plan.json", serde_json::to_vec_pretty(&plan).unwrap());
    let r = audit(&[&d.s("plan.json"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let f = &r.json()["findings"][0];
    assert_eq!(f["json_pointer"], "/resource_changes/0/change/importing/id");
    assert_eq!(f["rule_id"], "github-token");
    assert_eq!(f["section"], "resource_changes.importing.id");
    for format in ["text", "json", "sarif"] {
        let r = audit(&[&d.s("plan.json"), "--format", format, "--verbose"]);
        assert_absent(&r, &[&tok], format);
    }
}

/// Every prefix of a saved plan, and the plan with any one byte flipped: read without a panic
/// (the reader's last-defence catch would say "internal error"), and no error quotes a value.
#[test]
fn truncated_and_flipped_archives_never_panic() {
    let c = Canaries::new();
    let good = saved_plan(&c);
    let check = |b: &[u8]| {
        let messages: Vec<String> = match state_scrubber::planfile::read("f", b) {
            Err(e) => vec![e],
            Ok(members) => members.into_iter().filter_map(|m| m.json.err()).collect(),
        };
        for m in messages {
            assert!(!m.contains("internal error"), "a reader panicked");
            for x in c.all() {
                assert!(!m.contains(&x[..12]), "an error quotes a value");
            }
        }
    };
    for n in 0..good.len() {
        check(&good[..n]);
    }
    for i in 0..good.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut b = good.clone();
            b[i] ^= flip;
            check(&b);
        }
    }
}

/// A variable under a name that says nothing is a finding when the plan's configuration snapshot
/// (`tfconfig/m-/*.tf` or `*.tf.json`) declares it `sensitive = true`, as `show -json` would
/// say in `configuration.root_module.variables`; otherwise it is not (nothing else tells).
#[test]
fn variables_the_snapshot_declares_sensitive_are_marked() {
    let value = random(ALNUM, 24);
    let mut plan = proto::Plan::default();
    for name in ["greeting", "motto"] {
        plan.variables.insert(
            name.into(),
            proto::DynamicValue {
                msgpack: mp_dynamic("\"string\"", mp_str(&value)),
            },
        );
    }
    let plan = plan.encode_to_vec();
    let state = state_v4(json!([]));
    let d = Dir::new();
    d.write(
        "plain/tfplan",
        zip_of(&[("tfplan", &plan), ("tfstate", state.as_bytes())]),
    );
    d.write(
        "marked/tfplan",
        zip_of(&[
            ("tfplan", &plan),
            ("tfstate", state.as_bytes()),
            (
                "tfconfig/m-/variables.tf",
                b"variable \"greeting\" {\n  type      = string\n  sensitive = true\n}\n",
            ),
            (
                "tfconfig/m-/more.tf.json",
                b"{\"variable\": {\"motto\": {\"sensitive\": true}}}",
            ),
            // A child module's variable of the same name is not the root's.
            (
                "tfconfig/m-child/v.tf",
                b"variable \"other\" {\n  sensitive = true\n}\n",
            ),
        ]),
    );
    let r = audit(&[&d.s("plain/tfplan"), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = audit(&[&d.s("marked/tfplan"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let v = r.json();
    let mut pointers: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["layer_name"], "sensitive_mark", "{f}");
            f["json_pointer"].as_str().unwrap().to_string()
        })
        .collect();
    pointers.sort();
    assert_eq!(
        pointers,
        ["/variables/greeting/value", "/variables/motto/value"]
    );
    assert_absent(&r, &[&value], "marked");
}

/// `audit` of `dir`'s `tfplan` with its address space limited to 3 GiB: a run that needs more
/// aborts (allocation failure) instead of taking the machine's memory.
fn audit_within_3_gib(dir: &std::path::Path) -> Run {
    use std::os::unix::process::CommandExt as _;
    let mut cmd = bin();
    cmd.current_dir(dir)
        .args(["audit", "tfplan", "--format", "json"]);
    // SAFETY: setrlimit only, in the child before exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 3 << 30,
                rlim_max: 3 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    done(cmd.output().expect("run state-scrubber"))
}

/// A plan whose variable `bomb` is the msgpack `value`, beside a canary variable.
fn plan_with_bomb(c: &Canaries, value: Vec<u8>) -> Vec<u8> {
    let mut plan = plan_message(c);
    plan.variables
        .insert("bomb".into(), proto::DynamicValue { msgpack: value });
    plan.encode_to_vec()
}

/// Review finding: the `tfplan` document was bounded only by the member's size (256 MiB), but
/// each msgpack byte can be a value (a nil) that becomes a 32-byte JSON value and a line of the
/// pretty document: a `tfplan` of 20 MB (20 KB zipped) took 2.9 GB and 8 s, one of 256 MiB tens
/// of GiB. Now a plan of more than 32 Mi values, or whose document would pass 512 MiB (values
/// nested deep, each on a line of indentation), is an error naming the member, read within
/// bounded memory.
#[test]
fn a_plan_packed_with_values_is_refused_within_bounded_memory() {
    let c = Canaries::new();
    // One array of 33 Mi nils: 33 MiB of msgpack, some 33 KB zipped.
    let n: u32 = 33 << 20;
    let mut nils = vec![0xdd];
    nils.extend(n.to_be_bytes());
    nils.resize(5 + n as usize, 0xc0);
    // 12 Mi nils in an array nested 120 deep: each on a line of some 250 bytes of indentation.
    let mut deep = vec![0x91; 120];
    let m: u32 = 12 << 20;
    deep.push(0xdd);
    deep.extend(m.to_be_bytes());
    deep.resize(deep.len() + m as usize, 0xc0);
    for (what, value, error) in [
        (
            "values",
            nils,
            "tfplan!/tfplan: the plan holds more than 33554432 values: refused",
        ),
        (
            "document",
            deep,
            "tfplan!/tfplan: the plan document would be larger than 512 MiB: refused",
        ),
    ] {
        let plan = plan_with_bomb(&c, value);
        let bomb = zip_of(&[("tfplan", &plan)]);
        assert!(bomb.len() < 1 << 20, "{what}: {}", bomb.len());
        let d = Dir::new();
        d.write("tfplan", &bomb);
        let r = audit_within_3_gib(d.path());
        // First, so that no message below can show one.
        assert_absent(&r, &c.all(), what);
        assert_eq!(r.code, 2, "{what}: {}", r.all());
        let errors = r.json()["errors"].to_string();
        assert!(errors.contains(error), "{what}: {errors}");
    }
}

/// A zip of `tfplan` (stored) and one `tfconfig/m-/main.tf` whose data is `data` (deflate, of
/// CRC 0 and size 0), named `n` times by the central directory.
fn zip_naming_one_config_file(plan: &[u8], data: &[u8], n: u16) -> Vec<u8> {
    let header = |method: u16, crc: u32, compressed: usize, size: usize, name: &str| {
        let mut h = Vec::new();
        h.extend(20u16.to_le_bytes()); // version needed
        h.extend(0u16.to_le_bytes()); // flags
        h.extend(method.to_le_bytes());
        h.extend([0u8; 4]); // time, date
        h.extend(crc.to_le_bytes());
        h.extend((compressed as u32).to_le_bytes());
        h.extend((size as u32).to_le_bytes());
        h.extend((name.len() as u16).to_le_bytes());
        h.extend(0u16.to_le_bytes()); // extra
        h
    };
    let central = |common: &[u8], offset: u32, name: &str| {
        let mut c = b"PK\x01\x02".to_vec();
        c.extend(20u16.to_le_bytes()); // version made by
        c.extend(common);
        c.extend([0u8; 10]); // comment length, disk, internal and external attributes
        c.extend(offset.to_le_bytes());
        c.extend(name.as_bytes());
        c
    };
    let mut out = Vec::new();
    let mut cd = Vec::new();
    let common = header(0, crc32fast::hash(plan), plan.len(), plan.len(), "tfplan");
    cd.extend(central(&common, 0, "tfplan"));
    out.extend(b"PK\x03\x04");
    out.extend(&common);
    out.extend(b"tfplan");
    out.extend(plan);
    let name = "tfconfig/m-/main.tf";
    let common = header(8, 0, data.len(), 0, name);
    let offset = out.len() as u32;
    out.extend(b"PK\x03\x04");
    out.extend(&common);
    out.extend(name.as_bytes());
    out.extend(data);
    for _ in 0..n {
        cd.extend(central(&common, offset, name));
    }
    let cd_off = out.len() as u32;
    out.extend(&cd);
    out.extend(b"PK\x05\x06");
    out.extend([0u8; 4]);
    out.extend((n + 1).to_le_bytes());
    out.extend((n + 1).to_le_bytes());
    out.extend((cd.len() as u32).to_le_bytes());
    out.extend(cd_off.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// Review finding: the configuration snapshot's 64 MiB budget counted the bytes a file inflated
/// to, not those read: 4 MiB of empty deflate blocks (inflating to nothing, CRC and size right)
/// named by 4000 central directory entries were inflated 4000 times, 16 GB of deflate for a
/// file of 4 MB (40 s; 65535 entries over a larger block, hours). Each file is now charged the
/// larger of what it reads and writes.
#[test]
fn a_configuration_file_named_many_times_costs_its_size_once() {
    let c = Canaries::new();
    let plan = plan_message(&c).encode_to_vec();
    let mut data = [0u8, 0, 0, 0xff, 0xff].repeat((4 << 20) / 5);
    data.extend([1u8, 0, 0, 0xff, 0xff]);
    let d = Dir::new();
    d.write("tfplan", zip_naming_one_config_file(&plan, &data, 4000));
    let mut child = bin()
        .current_dir(d.path())
        .args(["audit", "tfplan", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("audit still reading the configuration snapshot after 10 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let r = done(child.wait_with_output().unwrap());
    // First, so that no message below can show one.
    assert_absent(&r, &c.all(), "config");
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(places(&r.json())
        .iter()
        .any(|(f, p)| f == "tfplan!/tfplan" && p == "/variables/db_password/value"));
}

/// Review finding: SARIF located a finding in a saved plan's member at `tfplan%21/tfstate`, a
/// URI that names no file of the repository, so GitHub code scanning could not place the alert.
/// Now the location is the archive (`env/tfplan`, listed in `run.artifacts`), the member is an
/// artifact nested in it (`parentIndex`), and the message and properties name the member and
/// the JSON pointer. The fingerprint is unchanged: a baseline written by the version before
/// (`data/saved-plan-baseline-0.1.json`, from this test's plan) still accepts every finding.
#[test]
fn sarif_locates_a_saved_plans_findings_at_the_archive_and_names_the_member() {
    let c = Canaries::new();
    let d = Dir::new();
    d.write("env/tfplan", saved_plan(&c));
    let r = audit_in(d.path(), &["env/tfplan", "--format", "sarif"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_absent(&r, &c.all(), "sarif");
    let sarif = r.json();
    let schema: Value = serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &sarif["runs"][0];
    let artifacts = run["artifacts"].as_array().expect("run.artifacts");
    let results = run["results"].as_array().unwrap();
    let j = audit_in(d.path(), &["env/tfplan", "--format", "json"]).json();
    let findings = j["findings"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    let mut members = std::collections::BTreeSet::new();
    for (res, f) in results.iter().zip(findings) {
        let loc = &res["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "env/tfplan", "{res}");
        assert_eq!(loc["region"]["startLine"], 1, "{res}");
        let a = loc["artifactLocation"]["index"].as_u64().unwrap() as usize;
        assert_eq!(artifacts[a]["location"]["uri"], "env/tfplan");
        assert_eq!(artifacts[a]["mimeType"], "application/zip");
        let p = &res["properties"];
        let member = p["member"].as_str().unwrap();
        members.insert(member.to_string());
        assert_eq!(p["archive"], "env/tfplan");
        assert_eq!(p["file"], format!("env/tfplan!/{member}"));
        let m = p["memberArtifactIndex"].as_u64().unwrap() as usize;
        assert_eq!(artifacts[m]["location"]["uri"], member);
        assert_eq!(artifacts[m]["parentIndex"], a as u64);
        // The message says where in the archive; the JSON pointer and position are kept.
        let text = res["message"]["text"].as_str().unwrap();
        let ptr = f["json_pointer"].as_str().unwrap();
        assert!(text.contains(&format!("member `{member}`")), "{text}");
        assert!(text.contains(ptr), "{text}");
        assert_eq!(p["jsonPointer"], ptr);
        assert_eq!(p["memberLine"], f["line"]);
        assert_eq!(p["memberColumn"], f["column"]);
        assert_eq!(
            res["partialFingerprints"]["stateScrubberFingerprint/v2"],
            f["fingerprint"]
        );
        // The JSON report names the archive and the member beside the label.
        assert_eq!(f["archive"], "env/tfplan");
        assert_eq!(f["member"], member);
        assert_eq!(f["file"], format!("env/tfplan!/{member}"));
    }
    assert_eq!(
        members.into_iter().collect::<Vec<_>>(),
        ["tfplan", "tfstate", "tfstate-prev"]
    );
    assert!(!r.stdout.contains("%21"), "a member in a URI");
    // All at the archive's line 1: each result has its own line hash (GitHub identifies alerts
    // by it), so results of one rule (the password before and after the change, in the prior
    // state and the state before refresh) stay distinct alerts; the same on the next run.
    let hashes = |s: &Value| -> Vec<String> {
        s["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let first = hashes(&sarif);
    let distinct: std::collections::BTreeSet<&String> = first.iter().collect();
    assert_eq!(distinct.len(), first.len(), "{first:?}");
    let again = audit_in(d.path(), &["env/tfplan", "--format", "sarif"]).json();
    assert_eq!(hashes(&again), first);
    for file in j["files"].as_array().unwrap() {
        assert_eq!(file["archive"], "env/tfplan", "{file}");
    }

    // Fingerprints did not move: the baseline the version before wrote for this plan accepts
    // every finding, in every format's exit status.
    d.write(
        "baseline.json",
        include_str!("data/saved-plan-baseline-0.1.json"),
    );
    let r = audit_in(
        d.path(),
        &[
            "env/tfplan",
            "--baseline",
            "baseline.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        r.json()["summary"]["accepted_by_baseline"],
        findings.len() as u64
    );
    // With --include-accepted, SARIF lists them as suppressed, located at the archive too.
    let r = audit_in(
        d.path(),
        &[
            "env/tfplan",
            "--baseline",
            "baseline.json",
            "--include-accepted",
            "--format",
            "sarif",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let s = r.json();
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for res in results {
        assert_eq!(
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "env/tfplan"
        );
        assert_eq!(res["suppressions"][0]["status"], "accepted");
    }
}
