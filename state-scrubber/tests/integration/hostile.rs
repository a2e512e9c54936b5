//! Hostile input to `state-scrubber audit` (issue 6): every case runs the real binary and must end
//! with exit code 2 and a message naming the file — never a crash, never unbounded memory — and
//! leave the input byte for byte as it was.
//!
//! Always on (a few seconds): 100 000 levels of nesting, a string over the 64 MiB limit, a 6 GiB
//! sparse file, invalid UTF-8, NUL bytes, symlink loops, 3 000 files in one walk.
//! `STATE_SCRUBBER_HOSTILE_FULL=1` adds a 2 GiB string (writes 2 GiB to the temporary directory).
//!
//! Peak memory is the child's VmHWM, read from /proc while it runs. Files are read, not mapped;
//! the read stops once the scan is decided (a NUL byte, a first byte that is not `{`), so the
//! bound also shows that a hostile file is not read to its end.
//!
//! Fuzzing (bounded runs of the parser, rule engine and HCL rewriter) is `state-scrubber/fuzz/run`.

use crate::util;

use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

struct Outcome {
    code: i32,
    stderr: String,
    /// Peak resident set size in bytes (0 when /proc could not be read in time).
    peak_rss: u64,
    elapsed: Duration,
}

/// Run `state-scrubber audit ARGS`, sampling the child's peak RSS until it exits. A run that takes
/// longer than `limit` is killed and fails the test (a hang is a bug too).
fn audit(args: &[&str], limit: Duration) -> Outcome {
    let t0 = Instant::now();
    let mut child = util::bin()
        .arg("audit")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn state-scrubber");
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            if let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb * 1024);
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("audit {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        code: status.code().unwrap_or(-1),
        stderr: reader.join().unwrap(),
        peak_rss: peak,
        elapsed: t0.elapsed(),
    }
}

/// A digest of the file: all of it up to 256 MiB; above that its size, modification time and
/// first and last MiB (hashing gigabytes would dominate the test's time).
fn digest(p: &Path) -> Vec<u8> {
    let meta = std::fs::metadata(p).unwrap();
    let mut h = Sha256::new();
    h.update(meta.len().to_le_bytes());
    let mut f = std::fs::File::open(p).unwrap();
    if meta.len() <= 256 * MIB {
        std::io::copy(&mut f, &mut h).unwrap();
    } else {
        h.update(format!("{:?}", meta.modified().unwrap()));
        let mut buf = vec![0u8; MIB as usize];
        f.read_exact(&mut buf).unwrap();
        h.update(&buf);
        f.seek(SeekFrom::End(-(MIB as i64))).unwrap();
        f.read_exact(&mut buf).unwrap();
        h.update(&buf);
    }
    h.finalize().to_vec()
}

/// Audit `file` alone: exit 2, a message naming it (and containing `want`), peak RSS below
/// `max_rss`, the file unchanged.
fn rejects(file: &Path, want: &str, max_rss: u64, limit: Duration) -> Outcome {
    let before = digest(file);
    let name = file.display().to_string();
    let o = audit(&[&name, "--format", "json"], limit);
    assert_eq!(o.code, 2, "{name}: exit code; stderr:\n{}", o.stderr);
    assert!(
        o.stderr.contains(&name),
        "{name}: the message names the file:\n{}",
        o.stderr
    );
    assert!(
        o.stderr.contains(want),
        "{name}: want `{want}` in:\n{}",
        o.stderr
    );
    // The default hook's wording, and state-scrubber's own (which withholds the message).
    assert!(
        !o.stderr.contains("panicked") && !o.stderr.contains("internal error"),
        "{name}: {}",
        o.stderr
    );
    assert!(
        o.peak_rss < max_rss,
        "{name}: peak RSS {} MiB, bound {} MiB",
        o.peak_rss / MIB,
        max_rss / MIB
    );
    assert_eq!(digest(file), before, "{name}: input unchanged");
    eprintln!(
        "{}: exit 2 in {:.2} s, peak RSS {} MiB",
        file.file_name().unwrap().to_string_lossy(),
        o.elapsed.as_secs_f64(),
        o.peak_rss / MIB
    );
    o
}

const HEAD: &str = r#"{"version":4,"terraform_version":"1.9.5","serial":1,"lineage":"x","outputs":{},"resources":[{"mode":"managed","type":"aws_db_instance","name":"db","provider":"provider[\"registry.terraform.io/hashicorp/aws\"]","instances":[{"schema_version":0,"attributes":{"password":"#;
const TAIL: &str = r#"},"sensitive_attributes":[]}]}]}"#;

/// A v4 state whose `password` attribute is `value` (raw JSON).
fn state_with(value: &[u8]) -> Vec<u8> {
    let mut v = HEAD.as_bytes().to_vec();
    v.extend_from_slice(value);
    v.extend_from_slice(TAIL.as_bytes());
    v
}

const SECS: Duration = Duration::from_secs(60);

#[test]
fn nesting_100_000_levels_deep() {
    let d = util::Dir::new();
    let n = 100_000;
    let arrays = [b"[".repeat(n), b"]".repeat(n)].concat();
    let objects = [b"{\"a\":".repeat(n), b"1".to_vec(), b"}".repeat(n)].concat();
    let cases = [
        ("arrays-in-attribute.tfstate", state_with(&arrays)),
        ("objects-in-attribute.tfstate", state_with(&objects)),
        (
            "objects-at-top.tfstate",
            [b"{\"version\":4,\"extra\":".to_vec(), objects.clone()].concat(),
        ),
        (
            "unclosed.tfplan.json",
            [
                b"{\"format_version\":\"1.2\",\"x\":".to_vec(),
                b"{\"a\":[".repeat(n),
            ]
            .concat(),
        ),
    ];
    for (name, bytes) in cases {
        let f = d.write(name, &bytes);
        rejects(&f, "nesting too deep", 256 * MIB, SECS);
    }
}

/// Review finding: JSON held in a string is decoded and scanned, and each level had its own depth
/// limit, so 16 levels of 500 nested arrays (278 KB) overflowed a 2 MiB worker stack (exit 134,
/// no report). A depth budget carried across levels stops the decoding; the rest of the value is
/// checked as text (a token at the bottom is still found) and the file gets a note.
#[test]
fn json_in_string_nested_past_the_budget_is_a_note_not_a_crash() {
    let d = util::Dir::new();
    let token = util::plant(&format!("ghp_{}", util::random(util::ALNUM, 36)));
    let mut value = serde_json::Value::String(format!("GH={token}"));
    for _ in 0..16 {
        let text = serde_json::to_string(&value).unwrap();
        value = serde_json::Value::String(format!("{}{text}{}", "[".repeat(500), "]".repeat(500)));
    }
    let state = serde_json::json!({
        "version": 4, "terraform_version": "1.9.0", "serial": 1, "lineage": "l", "outputs": {},
        "resources": [{"mode": "managed", "type": "null_resource", "name": "n", "provider": "p",
            "instances": [{"schema_version": 0,
                "attributes": {"id": "1", "triggers": {"cfg": value}},
                "sensitive_attributes": []}]}]
    })
    .to_string();
    let a = d.write("a/terraform.tfstate", &state);
    let b = d.write("b/terraform.tfstate", &state);
    let before = digest(&a);
    let (a, b) = (a.display().to_string(), b.display().to_string());
    let o = audit(&[&a, &b, "-j2", "--verbose"], SECS);
    assert!(!o.stderr.contains("overflow"), "stack overflow");
    assert_eq!(o.code, 1, "the token at the bottom is found");
    assert_eq!(digest(Path::new(&a)), before);
    let o = util::audit(&[&a, &b, "-j2", "--verbose"]);
    assert_eq!(o.code, 1);
    assert!(o.stdout.contains("github-token"), "{}", o.stdout);
    assert!(o.all().contains("nested too deeply"), "a note says why");
    assert!(!o.all().contains(&token[4..]));
}

/// Hunt finding: the threads for one file were `--jobs`, each with its own engine (the rules
/// compiled again): `--jobs 5000` on a 20 MB state took 90 s and 14.8 GB. One thread per 8 MiB
/// of the file at most.
#[test]
fn many_jobs_on_one_file_stay_bounded() {
    let d = util::Dir::new();
    let one = |i: usize| {
        format!(
            r#"{{"mode":"managed","type":"aws_instance","name":"i{i}","provider":"p","instances":[{{"schema_version":0,"attributes":{{"id":"i-{i}","ami":"ami-1","tags":{{"pad":"{}"}}}},"sensitive_attributes":[]}}]}}"#,
            "x".repeat(400)
        )
    };
    let mut body = String::from(r#"{"version":4,"serial":1,"lineage":"l","resources":["#);
    let mut i = 0;
    while body.len() < 17 << 20 {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&one(i));
        i += 1;
    }
    body.push_str("]}");
    let f = d.write("terraform.tfstate", &body);
    let o = audit(&[f.to_str().unwrap(), "--jobs", "1000"], SECS);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.peak_rss < 256 * MIB,
        "peak RSS {} MiB with --jobs 1000",
        o.peak_rss / MIB
    );
    eprintln!(
        "--jobs 1000 on 17 MB: {:.2} s, peak RSS {} MiB",
        o.elapsed.as_secs_f64(),
        o.peak_rss / MIB
    );
}

/// Review: each worker forked an engine, and a fork compiled every rule and the table again, one
/// after the other on the thread starting the workers: `--jobs 4000` over 4000 tiny files took
/// 40 s against 0.07 s with the default. A fork shares the compiled rules. Counted in this
/// process (the library's audit, as the binary runs it), not timed: a fork must not compile.
#[test]
fn many_jobs_over_many_files_compile_the_rules_once() {
    let d = util::Dir::new();
    let good = state_with(b"\"short\"");
    for i in 0..4000 {
        d.write(&format!("d{}/s{i}.tfstate", i % 40), &good);
    }
    let before = state_scrubber::detect::Engine::compilations();
    let t0 = Instant::now();
    let report = state_scrubber::audit::audit(&state_scrubber::audit::AuditOptions {
        paths: vec![d.path().to_path_buf()],
        fail_on: state_scrubber::finding::Severity::Low,
        baseline: None,
        jobs: 4000,
        progress: false,
        s3: Default::default(),
        config: None,
        stdin_label: None,
    })
    .unwrap();
    let compiled = state_scrubber::detect::Engine::compilations() - before;
    assert_eq!(report.files.len(), 4000);
    assert!(!report.has_errors(), "{:?}", report.all_errors());
    // One engine for the run; 4000 before (one per worker). Other tests of this binary run the
    // executable, not the library, so they add nothing here.
    assert!(
        compiled <= 2,
        "{compiled} rule compilations for --jobs 4000"
    );
    eprintln!(
        "--jobs 4000 over 4000 files: {:.2} s, {compiled} compilation(s)",
        t0.elapsed().as_secs_f64()
    );
}

/// A key twice in one object, in a state large enough to be analysed on several threads (10 MB,
/// `--jobs 4`): every occurrence is read there too (the secret sits in the one Terraform does
/// not read), and a key too often in one resource is an error there as well (exit 0 before).
#[test]
fn duplicate_keys_in_a_state_analysed_in_parallel() {
    let d = util::Dir::new();
    let pad = |body: &mut String| {
        let mut i = 0;
        while body.len() < 10 << 20 {
            body.push_str(&format!(
                r#"{{"mode":"managed","type":"aws_instance","name":"i{i}","instances":[{{"schema_version":0,"attributes":{{"id":"i-{i}","tags":{{"pad":"{}"}}}}}}]}},"#,
                "x".repeat(400)
            ));
            i += 1;
        }
    };
    let secret = util::plant(&format!("Dk{}", util::random(util::ALNUM, 18)));
    let mut body = String::from(r#"{"version":4,"serial":1,"lineage":"l","resources":["#);
    pad(&mut body);
    body.push_str(&format!(
        r#"{{"mode":"managed","type":"random_password","name":"p","instances":[{{"schema_version":0,"attributes":{{"id":"none","result":"{secret}"}},"attributes":{{"id":"none","result":null}}}}]}}]}}"#
    ));
    let f = d.write("big.tfstate", &body);
    let r = util::audit(&[f.to_str().unwrap(), "--jobs", "4", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = r.json()["findings"].as_array().unwrap().clone();
    assert!(
        found.iter().any(|x| x["address"] == "random_password.p"),
        "the shadowed result was not found"
    );
    assert!(!r.all().contains(&secret[2..]));

    let mut body = String::from(r#"{"version":4,"serial":1,"lineage":"l","resources":["#);
    pad(&mut body);
    let many: Vec<String> = (0..20)
        .map(|i| format!(r#""attributes":{{"id":"i-{i}"}}"#))
        .collect();
    body.push_str(&format!(
        r#"{{"mode":"managed","type":"aws_instance","name":"m","instances":[{{"schema_version":0,{}}}]}}]}}"#,
        many.join(",")
    ));
    let f = d.write("many.tfstate", &body);
    let o = audit(&[f.to_str().unwrap(), "--jobs", "4"], SECS);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("too many places"), "{}", o.stderr);
}

/// Strings longer than 64 MiB are refused where they start, without reading them to the end.
#[test]
fn string_over_the_64_mib_limit() {
    let d = util::Dir::new();
    let f = d.path().join("long-string.tfstate");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&f).unwrap());
    w.write_all(HEAD.as_bytes()).unwrap();
    w.write_all(b"\"").unwrap();
    let chunk = b"Ab3dE".repeat(1 << 16);
    let mut n = 0u64;
    while n < 64 * MIB + 1 {
        w.write_all(&chunk).unwrap();
        n += chunk.len() as u64;
    }
    w.write_all(b"\"").unwrap();
    w.write_all(TAIL.as_bytes()).unwrap();
    w.flush().unwrap();
    drop(w);
    let o = rejects(&f, "string longer than 64 MiB", 256 * MIB, SECS);
    assert!(
        o.stderr
            .contains("/resources/0/instances/0/attributes/password"),
        "{}",
        o.stderr
    );
    // The same string as a key.
    let g = d.path().join("long-key.tfstate");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&g).unwrap());
    w.write_all(b"{\"version\":4,\"resources\":[],\"").unwrap();
    let mut n = 0u64;
    while n < 64 * MIB + 1 {
        w.write_all(&chunk).unwrap();
        n += chunk.len() as u64;
    }
    w.write_all(b"\":1}").unwrap();
    drop(w);
    rejects(&g, "string longer than 64 MiB", 256 * MIB, SECS);
}

/// 2 GiB in one string (STATE_SCRUBBER_HOSTILE_FULL=1; writes 2 GiB): refused at the limit.
/// Files are read, never mapped (a map dies with SIGBUS when the file is truncated under it), so
/// a file that starts like a state and holds no NUL byte costs its size in memory: the bound is
/// the file plus 256 MiB (it was 512 MiB while files over 256 MiB were mapped).
#[test]
fn string_of_2_gib() {
    if std::env::var_os("STATE_SCRUBBER_HOSTILE_FULL").is_none() {
        eprintln!("note: set STATE_SCRUBBER_HOSTILE_FULL=1 for the 2 GiB string");
        return;
    }
    let d = util::Dir::new();
    let f = d.path().join("two-gib-string.tfstate");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&f).unwrap());
    w.write_all(HEAD.as_bytes()).unwrap();
    w.write_all(b"\"").unwrap();
    let chunk = b"Ab3dE".repeat(1 << 18);
    let mut n = 0u64;
    while n < 2048 * MIB {
        w.write_all(&chunk).unwrap();
        n += chunk.len() as u64;
    }
    w.write_all(b"\"").unwrap();
    w.write_all(TAIL.as_bytes()).unwrap();
    drop(w);
    rejects(&f, "string longer than 64 MiB", 2304 * MIB, SECS);
}

/// A 6 GiB file (sparse: a state's first bytes, then a hole of NUL bytes).
#[test]
fn file_of_6_gib() {
    let d = util::Dir::new();
    let f = d.path().join("huge.tfstate");
    let mut file = std::fs::File::create(&f).unwrap();
    file.write_all(HEAD.as_bytes()).unwrap();
    file.write_all(b"\"value").unwrap();
    file.set_len(6 << 30).unwrap();
    drop(file);
    rejects(&f, "binary data", 256 * MIB, SECS);
    // A hole right after the opening brace: the NUL is past the 8 KiB binary sniff.
    let g = d.path().join("huge-gap.tfstate");
    let mut file = std::fs::File::create(&g).unwrap();
    file.write_all(b"{").unwrap();
    file.write_all(&b" ".repeat(9000)).unwrap();
    file.set_len(6 << 30).unwrap();
    drop(file);
    rejects(&g, "huge-gap.tfstate:", 256 * MIB, SECS);
}

#[test]
fn invalid_utf8() {
    let d = util::Dir::new();
    // The passwords below, as far as they are UTF-8.
    for planted in [
        "def-long-enough-value",
        "-password-value",
        "-password-value-x",
    ] {
        util::plant(planted);
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "value.tfstate",
            state_with(b"\"abc\xff\xfedef-long-enough-value\""),
            "invalid UTF-8",
        ),
        (
            "overlong.tfstate",
            state_with(b"\"\xc0\xaf\xc0\xaf-password-value\""),
            "invalid UTF-8",
        ),
        (
            "surrogate.tfstate",
            state_with(b"\"\xed\xa0\x80-password-value-x\""),
            "invalid UTF-8",
        ),
        (
            "key.tfstate",
            b"{\"version\":4,\"resources\":[{\"type\":\"a\",\"name\":\"b\",\"instances\":[{\"attributes\":{\"pass\xffword\":\"x\"}}]}]}".to_vec(),
            "invalid UTF-8",
        ),
        ("top.tfstate", b"\xff\xfe{\"version\":4}".to_vec(), "binary data"),
    ];
    for (name, bytes, want) in cases {
        let f = d.write(name, &bytes);
        rejects(&f, want, 128 * MIB, SECS);
    }
}

#[test]
fn nul_bytes() {
    let d = util::Dir::new();
    util::plant("pass\0word-value-long");
    let mut late = state_with(&[b"\"".to_vec(), b"x".repeat(10_000), b"\0\"".to_vec()].concat());
    late.push(0);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "first.tfstate",
            b"\0{\"version\":4}".to_vec(),
            "binary data",
        ),
        (
            "in-value.tfstate",
            state_with(b"\"pass\0word-value-long\""),
            "binary data",
        ),
        (
            "late-in-value.tfstate",
            late,
            "control character inside a string",
        ),
        (
            "between-tokens.tfstate",
            [
                b"{\"version\":4,".to_vec(),
                b" ".repeat(9000),
                b"\0\"resources\":[]}".to_vec(),
            ]
            .concat(),
            "between-tokens.tfstate:",
        ),
    ];
    for (name, bytes, want) in cases {
        let f = d.write(name, &bytes);
        rejects(&f, want, 128 * MIB, SECS);
    }
}

/// A symlink loop named on the command line is an error naming it. In a directory walk symlinks
/// are not followed (no loop can start), so the walk ends and the real state is still scanned.
#[test]
fn symlink_loops() {
    use std::os::unix::fs::symlink;
    let d = util::Dir::new();
    symlink("self.tfstate", d.path().join("self.tfstate")).unwrap();
    symlink("b.tfstate", d.path().join("a.tfstate")).unwrap();
    symlink("a.tfstate", d.path().join("b.tfstate")).unwrap();
    std::fs::create_dir(d.path().join("sub")).unwrap();
    symlink("..", d.path().join("sub/up")).unwrap();
    symlink(".", d.path().join("sub/here")).unwrap();
    for name in ["self.tfstate", "a.tfstate"] {
        let p = d.path().join(name);
        let o = audit(&[&p.display().to_string()], SECS);
        assert_eq!(o.code, 2, "{name}: {}", o.stderr);
        assert!(
            o.stderr.contains(&p.display().to_string()),
            "{name}: names the file:\n{}",
            o.stderr
        );
    }
    // The walk: the loops do not hang it (symlinked directories are not followed, and said so);
    // each looping state-named link is an error naming it (exit 2), and a real state beside
    // them is still scanned (its finding is reported).
    let pw = util::random(util::ALNUM, 24);
    d.write(
        "sub/terraform.tfstate",
        state_with(format!("\"{pw}\"").as_bytes()),
    );
    let o = util::audit(&[&d.path().display().to_string()]);
    assert_eq!(o.code, 2, "looping links are errors: {}", o.stderr);
    for name in ["self.tfstate", "a.tfstate", "b.tfstate"] {
        assert!(o.stderr.contains(name), "{name} named:\n{}", o.stderr);
    }
    assert!(
        o.stderr.contains("symlinked directory not followed"),
        "{}",
        o.stderr
    );
    assert!(
        o.stdout.contains("terraform.tfstate"),
        "the real state is scanned: {}",
        o.stdout
    );
}

/// A symlinked state file in a walk is scanned, never skipped silently.
#[test]
fn symlinked_state_file_is_scanned() {
    use std::os::unix::fs::symlink;
    let d = util::Dir::new();
    let pw = util::random(util::ALNUM, 24);
    d.write("real/data.json", state_with(format!("\"{pw}\"").as_bytes()));
    std::fs::create_dir(d.path().join("env")).unwrap();
    symlink("../real/data.json", d.path().join("env/terraform.tfstate")).unwrap();
    let o = util::audit(&[&d.path().join("env").display().to_string()]);
    assert_eq!(
        o.code, 1,
        "the linked state's finding: {} {}",
        o.stdout, o.stderr
    );
}

/// 3 000 files in one walk, one of them hostile: all are scanned, the bad one is named, exit 2.
#[test]
fn three_thousand_files() {
    let d = util::Dir::new();
    let good = state_with(b"\"short\"");
    for i in 0..3000 {
        d.write(&format!("d{}/s{i}.tfstate", i % 30), &good);
    }
    let bad = d.write("d7/bad.tfstate", b"{\"version\":4,\"resources\":[[[[");
    let before = digest(&bad);
    let t0 = Instant::now();
    let out = util::audit(&[&d.path().display().to_string(), "--format", "json"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&bad.display().to_string()),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("error:").count(),
        1,
        "only the bad file fails: {}",
        out.stderr
    );
    assert_eq!(out.json()["files"].as_array().unwrap().len(), 3001);
    assert_eq!(digest(&bad), before);
    eprintln!("3001 files: {:.2} s", t0.elapsed().as_secs_f64());
}

/// Review (lower priority): module, resource, key and file names come from the input; printed
/// raw, an ESC/OSC/BEL sequence in a crafted state reaches the terminal or the CI log (clear a
/// line, retitle the window, hide a finding). Every printed text escapes control characters.
#[test]
fn control_characters_from_the_input_never_reach_a_terminal() {
    use util::{audit, plant, random, resource, state_v4, Dir, ALNUM};
    let d = Dir::new();
    let pw = plant(&format!("{}{}", random(ALNUM, 14), "9a"));
    let mut r = resource(
        "managed",
        "aws_db_instance",
        "m\u{1b}[31mRED\u{9b}2K",
        serde_json::json!({"id": "x", "password": pw, "tags": {"a\u{1b}[1A\u{1b}[2Kb": "x"},
               "nested\u{7}\u{202e}": [{"secret\r\n": random(ALNUM, 30)}]}),
        serde_json::json!([]),
    );
    r["module"] = serde_json::json!("module.x\u{1b}]0;title\u{7}");
    r["instances"][0]["index_key"] = serde_json::json!("k\u{1b}[2K");
    // A second file so the summary (by state, by resource type) is printed too.
    let st = state_v4(serde_json::json!([r]));
    d.write("a\u{1b}[8m.tfstate", &st);
    d.write("b.tfstate", &st);
    let dir = d.path().display().to_string();
    let bad = |s: &str| {
        s.chars().any(|c| {
            (c.is_control() && c != '\n' && c != '\t') || ('\u{202a}'..='\u{202e}').contains(&c)
        })
    };
    for args in [
        vec![dir.as_str(), "--verbose"],
        vec![dir.as_str(), "--format", "text"],
    ] {
        let r = audit(&args);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(!bad(&r.stdout), "stdout: {:?}", r.stdout);
        assert!(!bad(&r.stderr), "stderr: {:?}", r.stderr);
        assert!(r.stdout.contains(r"\u{1b}"), "shown escaped: {}", r.stdout);
    }
    // With colour, the report's own SGR codes are the only escapes.
    let r = audit(&[&dir, "--color", "always"]);
    let stripped = regex_lite_strip(&r.stdout);
    assert!(!bad(&stripped), "{:?}", r.stdout);
    // A broken file: the error names the file and JSON path.
    d.write(
        "c\u{1b}[2J.tfstate",
        "{\"version\": 4, \"resources\": [{\"x\u{1b}[2J\": }]}",
    );
    let r = audit(&[&dir]);
    assert_eq!(r.code, 2);
    assert!(!bad(&r.stderr), "stderr: {:?}", r.stderr);
    // scrub's dry run prints addresses and JSON paths.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_state-scrubber"))
        .args(["scrub", &d.s("b.tfstate"), "--prefix", "p"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    for s in [&o.stdout, &o.stderr] {
        let s = String::from_utf8_lossy(s);
        assert!(!bad(&s), "scrub: {s:?}");
    }
}

/// The text report with its own `ESC [ n m` colour codes removed.
fn regex_lite_strip(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\u{1b}[") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 2..];
        let end = tail
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(tail.len());
        if tail[end..].starts_with('m') {
            rest = &tail[end + 1..];
        } else {
            out.push('\u{1b}');
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}
