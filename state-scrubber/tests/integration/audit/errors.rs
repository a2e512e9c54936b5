//! Errors: exit 2 with the file and position, inputs untouched, the run never killed.

use super::*;

#[test]
fn each_error_is_reported_with_file_and_position_other_files_still_scanned_inputs_untouched() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not-json.tfstate",
            b"hello = \"world\"\n".to_vec(),
            "not-json.tfstate:1:1: not a JSON object",
        ),
        (
            "truncated.tfstate",
            db_state(&plant("x1y2z3w4v5u6")).as_bytes()[..120].to_vec(),
            "truncated.tfstate:",
        ),
        (
            "version9.tfstate",
            b"{\n  \"version\": 9,\n  \"resources\": []\n}\n".to_vec(),
            "version9.tfstate:2:14: unsupported state format version 9",
        ),
        (
            "format2.json",
            b"{\"format_version\": \"2.0\", \"values\": {}}".to_vec(),
            "format2.json:1:20: unsupported format_version 2.0",
        ),
        (
            "binary.tfstate",
            vec![0x7f, b'E', b'L', b'F', 0, 1, 2, 3],
            "binary.tfstate: binary data, not JSON",
        ),
        (
            "plan.tfplan.json",
            b"PK\x03\x04\x14\x00rest".to_vec(),
            "plan.tfplan.json: a zip archive (saved plan?) that cannot be read",
        ),
        ("empty.tfstate", Vec::new(), "empty.tfstate: empty file"),
        (
            "unknown.tfstate",
            b"{\"hello\": 1}".to_vec(),
            "unknown.tfstate: not a Terraform state, plan, backend cache or `terraform output -json`",
        ),
        (
            // Not valid UTF-8 inside a secret: refused, never silently skipped.
            "utf8.tfstate",
            b"{\"version\": 4, \"resources\": [{\"type\": \"t\", \"instances\": [{\"attributes\": {\"password\": \"ab\xff\xfecd\"}}]}]}".to_vec(),
            "invalid UTF-8",
        ),
        (
            "bad-escape.tfstate",
            b"{\"version\": 4, \"resources\": [{\"type\": \"a\\q\"}]}".to_vec(),
            "bad-escape.tfstate:1:41: invalid JSON at `/resources/0/type`: invalid escape",
        ),
    ];
    for (name, bytes, want) in cases {
        let d = Dir::new();
        let bad = d.write(name, &bytes);
        d.write("good/terraform.tfstate", db_state(&pw()));
        let r = audit(&[
            &bad.display().to_string(),
            &d.s("good/terraform.tfstate"),
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 2, "{name}: {}", r.all());
        assert!(
            r.stderr.contains(want),
            "{name}: want `{want}` in:\n{}",
            r.stderr
        );
        assert!(
            r.stderr.contains(&bad.display().to_string()),
            "{name}: names the file"
        );
        let v = r.json();
        assert_eq!(
            v["summary"]["findings"], 1,
            "{name}: the good file is still scanned"
        );
        assert_eq!(
            std::fs::read(&bad).unwrap(),
            bytes,
            "{name}: input unchanged"
        );
    }
    // The truncated case names line, column and the JSON path.
    let d = Dir::new();
    let full = db_state(&plant("x1y2z3w4v5u6"));
    let bad = d.write(
        "t.tfstate",
        &full.as_bytes()[..full.find("\"password\"").unwrap() + 16],
    );
    let r = audit(&[&bad.display().to_string()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("(truncated file?)"), "{}", r.stderr);
    assert!(
        r.stderr.contains("at `/resources/0/instances/0"),
        "{}",
        r.stderr
    );
    // A missing path is an error too, and says so.
    let r = audit(&[&d.s("missing.tfstate")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing.tfstate"), "{}", r.stderr);
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let r = audit(&["--format", "xml"]);
    assert_eq!(r.code, 2);
    let o = bin().args(["audit", "--help"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--format",
        "--fail-on",
        "--baseline",
        "--write-baseline",
        "--quiet",
        "--verbose",
    ] {
        assert!(help.contains(flag), "{flag}");
    }
}

/// Review: `audit DIR --format json 2>&1 | head -1` ended 101 (a panic in `eprintln!`) once
/// `head` had gone: the report's write failed, and so did the error message about it. Output to
/// a pipe with no reader is never a panic. It is not an error either (as with ripgrep): the
/// status is the audit's, 1 for findings, 2 for a file that could not be read (see
/// audit::output_file::a_closed_stdout_is_quiet_and_the_status_is_the_audits).
#[test]
fn a_closed_stdout_or_stderr_is_never_a_panic() {
    let d = Dir::new();
    let state = d.write("terraform.tfstate", db_state(&pw()));
    let state = state.to_str().unwrap();
    let missing = d.s("missing.tfstate");
    // (arguments, what to close, expected exit code)
    let cases: &[(&[&str], &str, i32)] = &[
        // Findings, and the report cannot be written: nobody reads it, the status says it.
        (&[state, "--format", "json"], "both", 1),
        (&[state, "--format", "sarif"], "both", 1),
        (&[state], "both", 1),
        // An error to report on a stderr that nobody reads.
        (&[&missing, "--format", "json"], "stderr", 2),
        (&[&missing], "both", 2),
        // Nothing to say on stderr: the exit status is the findings'.
        (&[state, "--format", "json"], "stderr", 1),
    ];
    for (args, closed, want) in cases {
        let (reader, writer) = std::io::pipe().unwrap();
        // The reader is gone before the child starts: every write gets EPIPE.
        drop(reader);
        let mut cmd = bin();
        cmd.arg("audit")
            .args(*args)
            .stdin(std::process::Stdio::null());
        match *closed {
            "both" => cmd.stdout(writer.try_clone().unwrap()).stderr(writer),
            _ => cmd.stdout(std::process::Stdio::null()).stderr(writer),
        };
        let status = cmd.status().unwrap();
        assert_eq!(status.code(), Some(*want), "{args:?} with {closed} closed");
    }
}

/// Review finding: files were memory-mapped, and a state truncated during the scan (Terraform's
/// local backend rewrites it in place during an apply) killed the run with SIGBUS (exit 135, no
/// report). The file is read instead; a truncated read is an ordinary result or error.
#[cfg(unix)]
#[test]
fn a_state_truncated_during_the_scan_never_kills_the_run() {
    use std::os::unix::process::ExitStatusExt;
    let d = Dir::new();
    let one = |i: usize| {
        json!({"mode": "managed", "type": "aws_db_instance", "name": format!("db{i}"),
            "instances": [{"schema_version": 0, "attributes": {"id": format!("db-{i}"),
                "password": format!("{}{i}", random(ALNUM, 12)), "port": 5432,
                "tags": {"team": "payments", "padding": "x".repeat(300)}}}]})
        .to_string()
    };
    let mut body =
        String::from("{\"version\": 4, \"serial\": 1, \"lineage\": \"l\", \"resources\": [");
    let mut i = 0;
    while body.len() < 48 << 20 {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&one(i));
        i += 1;
    }
    body.push_str("]}");
    let path = d.write("terraform.tfstate", &body);
    for delay_ms in [40u64, 120, 250] {
        std::fs::write(&path, &body).unwrap();
        let child = bin()
            .args(["audit", path.to_str().unwrap(), "--quiet", "--jobs", "2"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        // What the local backend does first when it writes the new state.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.signal(),
            None,
            "killed by a signal after {delay_ms} ms"
        );
        assert!(matches!(out.status.code(), Some(0..=2)), "{:?}", out.status);
    }
}

/// Files over 256 MiB were memory-mapped, and a state truncated while mapped killed the run with
/// SIGBUS (exit 135, no report). Every file is read now; one that changes during the read is an
/// error naming it. The file is sparse (a 48 MB state, then a hole up to 300 MB), so this costs
/// 48 MB of disk; the hole reads as NUL bytes, so whatever is read is an error too (exit 2).
#[cfg(unix)]
#[test]
fn a_state_over_256_mib_truncated_during_the_scan_never_kills_the_run() {
    use std::os::unix::process::ExitStatusExt;
    let d = Dir::new();
    let one = |i: usize| {
        json!({"mode": "managed", "type": "aws_db_instance", "name": format!("db{i}"),
            "instances": [{"schema_version": 0, "attributes": {"id": format!("db-{i}"),
                "password": format!("{}{i}", random(ALNUM, 12)), "port": 5432,
                "tags": {"team": "payments", "padding": "x".repeat(300)}}}]})
        .to_string()
    };
    let mut body =
        String::from("{\"version\": 4, \"serial\": 1, \"lineage\": \"l\", \"resources\": [");
    let mut i = 0;
    while body.len() < 48 << 20 {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&one(i));
        i += 1;
    }
    let path = d.s("terraform.tfstate");
    for delay_ms in [5u64, 40, 120, 250] {
        std::fs::write(&path, &body).unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(300 << 20).unwrap();
        let child = bin()
            .args(["audit", &path, "--jobs", "2"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        f.set_len(0).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.signal(),
            None,
            "killed by a signal after {delay_ms} ms"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "after {delay_ms} ms: {stderr}");
        assert!(stderr.contains(&format!("error: {path}:")), "{stderr}");
    }
}

/// Review finding: a member with an unexpected shape was skipped silently and the file reported
/// clean (`"instances"` as an object, `resources: [1, 2]`: 0 findings, exit 0). It is an error
/// naming the file, position and JSON pointer (never the value there).
#[test]
fn unexpected_structure_is_an_error_with_its_pointer() {
    let d = Dir::new();
    let c = plant(&format!("cnry{}", random(ALNUM, 20)));
    let mut inst_obj = resource(
        "managed",
        "aws_db_instance",
        "m",
        json!({"password": c}),
        json!([]),
    );
    inst_obj["instances"] = json!({"0": {"attributes": {"password": c}}});
    let mut attrs_str = resource("managed", "aws_db_instance", "m", json!({}), json!([]));
    attrs_str["instances"][0]["attributes"] = json!(format!("password={c}"));
    let cases = [
        (
            "a.tfstate",
            state_v4(json!([inst_obj])),
            "/resources/0/instances",
        ),
        ("b.tfstate", state_v4(json!([1, 2])), "/resources/0"),
        (
            "c.tfstate",
            state_v4(json!([attrs_str])),
            "/resources/0/instances/0/attributes",
        ),
        (
            "d.tfstate",
            json!({"version": 3, "serial": 1, "modules": [{"path": ["root"], "resources": [c]}]})
                .to_string(),
            "/modules/0/resources",
        ),
        (
            "plan.json",
            json!({"format_version": "1.2", "resource_changes": [c]}).to_string(),
            "/resource_changes/0",
        ),
    ];
    for (name, body, pointer) in cases {
        let f = d.write(name, body);
        let f = f.display().to_string();
        for format in ["text", "json", "sarif"] {
            let r = audit(&[&f, "--format", format]);
            assert_eq!(r.code, 2, "{name} {format}: {}", r.all());
            assert!(
                r.all()
                    .contains(&format!("unexpected structure at {pointer}")),
                "{name} {format}: {}",
                r.all()
            );
            for v in variants(&c) {
                assert!(!r.all().contains(&v), "{name} {format} leaks");
            }
        }
    }
}

/// A walk read a directory whose name is not UTF-8, but passed over a *file* whose name is not
/// (`prod\xFF.tfstate`, `\xFEplan.json`): no error, no note, exit 0 over plaintext secrets.
#[cfg(unix)]
#[test]
fn a_walk_reads_a_state_whose_file_name_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt as _;
    let d = Dir::new();
    let secret = pw();
    for name in [b"prod\xff.tfstate".as_slice(), b"\xfeplan.json".as_slice()] {
        std::fs::write(
            d.path().join(std::ffi::OsStr::from_bytes(name)),
            db_state(&secret),
        )
        .unwrap();
    }
    let r = audit_in(d.path(), &[".", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let mut files: Vec<String> = findings(&r)
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    files.sort();
    files.dedup();
    assert_eq!(files, ["./\\xFEplan.json", "./prod\\xFF.tfstate"]);
    for w in variants(&secret) {
        assert!(!r.all().contains(&w), "leak");
    }
}

/// Hunt finding: a path that is not UTF-8 was named with U+FFFD (`bad\u{fffd}/...`): nobody
/// could find the file, SARIF's URI (`bad%EF%BF%BD/...`) named a file that does not exist, and
/// two such names were one label (`a\xFF` and `a\xFE`), so their baseline entries mixed. The
/// label writes the bytes (`a\xFF/terraform.tfstate`); SARIF encodes the real bytes (`a%FF/...`).
#[cfg(unix)]
#[test]
fn non_utf8_paths_are_named_so_they_can_be_found() {
    use std::os::unix::ffi::OsStrExt as _;
    let d = Dir::new();
    let (pw1, pw2) = (pw(), pw());
    for (dir, pw) in [(b"a\xff".as_slice(), &pw1), (b"a\xfe".as_slice(), &pw2)] {
        let p = d
            .path()
            .join(std::ffi::OsStr::from_bytes(dir))
            .join("terraform.tfstate");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, db_state(pw)).unwrap();
    }
    let r = audit_in(d.path(), &[".", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut files: Vec<String> = findings(&r)
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["./a\\xFE/terraform.tfstate", "./a\\xFF/terraform.tfstate"]
    );
    let r = audit_in(d.path(), &[".", "--format", "sarif"]);
    let mut uris: Vec<String> = r.json()["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    uris.sort();
    assert_eq!(uris, ["a%FE/terraform.tfstate", "a%FF/terraform.tfstate"]);
    let r = audit_in(d.path(), &["."]);
    assert!(
        r.stdout.contains("./a\\xFF/terraform.tfstate  (state_v4"),
        "{}",
        r.stdout
    );
    // Accepting one file's finding does not accept the other's.
    let b = audit_in(d.path(), &[".", "--write-baseline", "bl.json"]);
    assert_eq!(b.code, 0, "{}", b.stderr);
    let bl: Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("bl.json")).unwrap()).unwrap();
    let mut bl_files: Vec<&str> = bl["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    bl_files.sort();
    assert_eq!(
        bl_files,
        ["a\\xFE/terraform.tfstate", "a\\xFF/terraform.tfstate"]
    );
    for c in [&pw1, &pw2] {
        for w in variants(c) {
            assert!(!r.all().contains(&w) && !b.all().contains(&w), "leak");
        }
    }
}

// ---- I/O errors in the OS's words ------------------------------------------------------------

/// A path that cannot be read is named with the OS's message, as ripgrep and gitleaks print
/// it (`No such file or directory (os error 2)`), not Rust's `ErrorKind` text (`entity not
/// found`).
#[test]
fn io_errors_say_what_the_os_said() {
    let d = Dir::new();
    let missing = d.s("nothere.tfstate");
    let r = audit(&[&missing]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains(&format!(
            "{missing}: No such file or directory (os error 2)"
        )),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("entity not found"), "{}", r.stderr);
    // A missing baseline too.
    let st = d.write("terraform.tfstate", db_state(&pw()));
    let r = audit(&[&st.display().to_string(), "--baseline", &d.s("nobl.json")]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("No such file or directory (os error 2)"),
        "{}",
        r.stderr
    );
    // Permission denied: a file and a directory mode 000. Root reads anything, so as root
    // (the check: the file is readable anyway) this part is skipped.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let locked = d.write("locked.tfstate", db_state(&pw()));
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let dir = d.path().join("lockeddir");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&locked).is_ok() {
            eprintln!(
                "running as root: the permission-denied case is skipped (root reads anything)"
            );
        } else {
            let r = audit(&[&locked.display().to_string(), &dir.display().to_string()]);
            assert_eq!(r.code, 2, "{}", r.all());
            for p in [&locked, &dir] {
                assert!(
                    r.stderr
                        .contains(&format!("{}: Permission denied (os error 13)", p.display())),
                    "{}",
                    r.stderr
                );
            }
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}

/// A key can be a secret: `input = { (var.token) = "..." }` on a `terraform_data` writes the
/// token as a key of `input`, `output` and their object types. An error or a note names its
/// place by JSON pointer, and the pointer showed such a key as it is: a state cut off after it
/// printed the token in `invalid JSON at /resources/0/.../TOKEN`, and a duplicated key or a lone
/// surrogate under it in the note. Keys that could be secrets are now shown by length.
#[test]
fn pointers_in_errors_and_notes_do_not_show_a_key_that_could_be_a_secret() {
    let d = Dir::new();
    let token = plant(&format!("ghp_{}", random(ALNUM, 36)));
    // Letters and digits both, always: a key of letters only is a plain name (`plain_key`) and
    // is shown, as `sensitive_attributes` is (all letters one time in eight, with 12 random).
    let short = plant(&format!("k{}4{}", random(ALNUM, 5), random(ALNUM, 5)));
    for (key, key_found) in [(&token, 1), (&short, 0)] {
        let full = state_v4(json!([resource(
            "managed",
            "terraform_data",
            "m",
            json!({"id": "x", "input": {"value": {key.as_str(): "plain"}, "type": ["object", {key.as_str(): "string"}]}}),
            json!([])
        )]));
        let at = full.rfind(key.as_str()).unwrap() + key.len() + 4;
        let cut = d.write("cut.tfstate", &full[..at]);
        let dup = d.write(
            "dup.tfstate",
            full.replacen("\"plain\"", "{\"a\": \"1\", \"a\": \"2\"}", 1),
        );
        let lone = d.write("lone.tfstate", full.replacen("\"plain\"", "\"\\ud800\"", 1));
        for (file, code, said) in [
            (
                &cut,
                2,
                "invalid JSON at `/resources/0/instances/0/attributes/input/type/1/…(",
            ),
            // The token as a key is a finding of its own (`audit::masked_keys`).
            (&dup, key_found, "a key occurs more than once"),
            (&lone, key_found, "lone UTF-16 surrogate"),
        ] {
            for format in ["text", "json", "sarif"] {
                let r = audit(&[&file.display().to_string(), "--format", format]);
                for v in variants(key) {
                    assert!(
                        !r.all().contains(&v),
                        "{} --format {format}: a key that could be a secret is shown",
                        file.display()
                    );
                }
                assert_eq!(r.code, code, "{}", r.all());
                if format == "text" {
                    assert!(r.all().contains(said), "{}", r.all());
                }
            }
        }
    }
    // Names stay readable.
    let st = state_v4(json!([resource(
        "managed",
        "terraform_data",
        "m",
        json!({"id": "x", "input": {"user_name": "a"}}),
        json!([])
    )]));
    let cut = d.write("cut.tfstate", &st[..st.find("user_name").unwrap() + 12]);
    let r = audit(&[&cut.display().to_string()]);
    assert!(
        r.stderr.contains("/attributes/input/user_name`"),
        "{}",
        r.stderr
    );
}

/// A symbolic link in a walk whose target cannot be looked at (a directory on its way that the
/// user running the audit may not search) may be a directory of states: a note names it. It was
/// passed over without a word (only a link with a state's name was reported), and the run said
/// no state was found. Dangling and looping links, with nothing behind them, stay quiet.
#[cfg(unix)]
#[test]
fn a_walked_link_whose_target_cannot_be_looked_at_is_named_in_a_note() {
    use std::os::unix::fs::{symlink, PermissionsExt as _};
    use std::os::unix::process::CommandExt as _;
    let mode = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m))
    };
    let d = Dir::new();
    mode(d.path(), 0o755).unwrap();
    d.write("locked/envs/prod.tfstate", db_state(&pw()));
    let walked = d.path().join("walked");
    std::fs::create_dir(&walked).unwrap();
    symlink(d.path().join("locked/envs"), walked.join("envs")).unwrap();
    symlink(walked.join("nothing"), walked.join("dangling")).unwrap();
    symlink(walked.join("looping"), walked.join("looping")).unwrap();
    mode(&d.path().join("locked"), 0o000).unwrap();
    // Root looks behind anything: as root the audit runs as nobody.
    // SAFETY: geteuid has no preconditions.
    let mut c = bin();
    if unsafe { libc::geteuid() } == 0 {
        c.uid(65534).gid(65534);
    }
    let r = done(
        c.arg("audit")
            .arg(&walked)
            .output()
            .expect("run state-scrubber"),
    );
    mode(&d.path().join("locked"), 0o700).unwrap();
    assert_eq!(r.code, 0, "{}", r.all());
    let want = format!(
        "{}: symbolic link cannot be followed, not scanned: Permission denied (os error 13)",
        walked.join("envs").display()
    );
    assert!(r.stderr.contains(&want), "{}", r.stderr);
    assert!(
        !r.stderr.contains("dangling") && !r.stderr.contains("looping"),
        "{}",
        r.stderr
    );
}
