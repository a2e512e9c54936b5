//! Broken and hostile archives: errors naming file and member, bombs refused within bounded memory.

use super::*;

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
