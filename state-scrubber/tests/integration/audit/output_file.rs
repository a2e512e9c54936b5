//! `--output FILE` (the report to a file, the text report on stdout) and `--label NAME` (what
//! stdin is called).

use super::*;

/// One run gives the file in --format and the readable log: the file is the report a
/// `--format sarif` run prints, stdout the text report; no value in either.
#[test]
fn output_writes_the_format_and_stdout_gets_the_text_report() {
    let d = Dir::new();
    let password = pw();
    let st = d.write("terraform.tfstate", db_state(&password));
    let st = st.display().to_string();
    let out = d.s("reports/audit.sarif");
    std::fs::create_dir_all(d.path().join("reports")).unwrap();

    let r = audit(&[&st, "--format", "sarif", "--output", &out]);
    // Before any message below may print the output.
    for v in variants(&password) {
        assert!(!r.all().contains(&v), "the output holds the password");
    }
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("attr.aws_db_instance.password"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("1 finding"), "{}", r.stdout);
    assert!(r.stderr.contains("wrote report"), "{}", r.stderr);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(
        sarif_errors(&written).is_empty(),
        "{:?}",
        sarif_errors(&written)
    );
    let printed = audit(&[&st, "--format", "sarif"]).json();
    let results = |v: &Value| v["runs"][0]["results"].clone();
    assert_eq!(results(&written), results(&printed));

    // JSON with --quiet: nothing on stdout, the whole report in the file.
    let out = d.s("audit.json");
    let r = audit(&[&st, "--format", "json", "-q", "-o", &out]);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (1, "", ""));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written["findings"].as_array().unwrap().len(), 1);

    let html = d.s("audit.html");
    let r = audit(&[&st, "--format", "html", "-o", &html]);
    assert_eq!(r.code, 1);
    let page = std::fs::read_to_string(&html).unwrap();
    for text in [&r.all(), &page, &std::fs::read_to_string(&out).unwrap()] {
        for v in variants(&password) {
            assert!(!text.contains(&v), "a report holds the password");
        }
    }
}

/// An --output naming what the run reads would replace it with the report: exit 2 before
/// anything is read, the file as it was. A report in a missing directory: exit 2, the OS's words.
#[test]
fn output_never_replaces_an_input() {
    let d = Dir::new();
    let st = d.write("terraform.tfstate", db_state(&pw()));
    let before = std::fs::read(&st).unwrap();
    let baseline = d.write("baseline.json", r#"{"version": 1, "findings": []}"#);
    let config = d.write(
        "scan.toml",
        "[[allow]]\nreason = \"r\"\nrules = [\"x-never\"]\n",
    );
    for (args, input) in [
        (
            vec!["terraform.tfstate", "-o", "./terraform.tfstate"],
            "terraform.tfstate",
        ),
        (
            vec![".", "--baseline", "baseline.json", "-o", "baseline.json"],
            "baseline.json",
        ),
        (
            vec![".", "--config", "scan.toml", "-o", "scan.toml"],
            "scan.toml",
        ),
    ] {
        let r = audit_in(d.path(), &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(r.stderr.contains("which this run reads"), "{}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains(input), "{}", r.stderr);
    }
    assert!(std::fs::read(&st).unwrap() == before, "the state changed");
    assert_eq!(
        std::fs::read_to_string(&baseline).unwrap(),
        r#"{"version": 1, "findings": []}"#
    );
    assert!(std::fs::read_to_string(&config)
        .unwrap()
        .contains("x-never"));

    let r = audit_in(d.path(), &["terraform.tfstate", "-o", "no/such/dir/r.json"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--output no/such/dir/r.json: no/such/dir: No such file or directory"),
        "{}",
        r.stderr
    );
}

/// What a directory walk reads is an input too: `audit envs -o envs/prod/terraform.tfstate`
/// replaced the state with the report (exit 1; the check compared the named paths only). And
/// `--write-baseline` naming an audited state or the config replaced it with the baseline
/// (exit 0), as an --output naming the --write-baseline file lost the report to it. Each is
/// exit 2 before anything is read, every file as it was.
#[test]
fn nothing_written_replaces_a_file_the_run_reads() {
    let d = Dir::new();
    let password = pw();
    let st = d.write("envs/prod/terraform.tfstate", db_state(&password));
    let before = std::fs::read(&st).unwrap();
    let config = d.write(
        "scan.toml",
        "[[allow]]\nreason = \"r\"\nrules = [\"x-never\"]\n",
    );
    let config_before = std::fs::read(&config).unwrap();
    for (args, said) in [
        (
            vec!["envs", "-o", "envs/prod/terraform.tfstate"],
            "which this run reads",
        ),
        (
            vec![
                ".",
                "--format",
                "sarif",
                "-o",
                "./envs/prod/terraform.tfstate",
            ],
            "which this run reads",
        ),
        (
            vec!["envs", "--write-baseline", "envs/prod/terraform.tfstate"],
            "which this run reads",
        ),
        (
            vec![
                "envs/prod/terraform.tfstate",
                "--write-baseline",
                "envs/prod/terraform.tfstate",
            ],
            "which this run reads",
        ),
        (
            vec![
                "envs",
                "--config",
                "scan.toml",
                "--write-baseline",
                "scan.toml",
            ],
            "which this run reads",
        ),
        (
            vec!["envs", "-o", "b.json", "--write-baseline", "./b.json"],
            "--output and --write-baseline",
        ),
    ] {
        let r = audit_in(d.path(), &args);
        // First: the messages below print the output.
        for v in variants(&password) {
            assert!(!r.all().contains(&v), "output holds the password");
        }
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(r.stderr.contains(said), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert!(
            std::fs::read(&st).unwrap() == before,
            "{args:?}: the state changed"
        );
        assert_eq!(std::fs::read(&config).unwrap(), config_before, "{args:?}");
        assert!(!d.path().join("b.json").exists(), "{args:?}");
    }
    // A file the walk leaves out (--exclude) is not read: a report may go there.
    let r = audit_in(
        d.path(),
        &[
            "envs",
            "--exclude",
            "prod",
            "-o",
            "envs/prod/terraform.tfstate",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    // The update of a baseline reads and rewrites the one file, as before.
    let r = audit_in(d.path(), &["envs", "--write-baseline", "bl.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = audit_in(
        d.path(),
        &[
            "envs",
            "--exclude",
            "prod",
            "--baseline",
            "bl.json",
            "--write-baseline",
            "bl.json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
}

/// The baseline the README suggests, `.state-scrubber-baseline.json`, in the directory audited
/// (`state-scrubber audit` with no path walks `.`): the walk reads it (its name has a `state`
/// component), yet `--baseline B --write-baseline B` is the update of that one file and was
/// refused as "a file this run reads" (exit 2). Only --output may not name it.
#[test]
fn a_walked_baseline_may_be_updated_in_place() {
    let d = Dir::new();
    let password = pw();
    d.write("terraform.tfstate", db_state(&password));
    let b = ".state-scrubber-baseline.json";
    let r = audit_in(d.path(), &["--write-baseline", b]);
    assert_eq!(r.code, 0, "{}", r.all());
    let written = std::fs::read(d.path().join(b)).unwrap();
    let r = audit_in(d.path(), &["--baseline", b, "--write-baseline", b]);
    for v in variants(&password) {
        assert!(!r.all().contains(&v), "output holds the password");
    }
    assert_eq!(r.code, 0, "{}", r.all());
    let r = audit_in(d.path(), &["--baseline", b, "-o", b]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("which this run reads"), "{}", r.stderr);
    assert!(
        std::fs::read(d.path().join(b)).unwrap() == written,
        "the baseline changed"
    );
}

/// `-o -` wrote a file named `-`; a directory had the report written beside it and renamed over
/// it. Exit 2 before anything is read. (A device or a pipe is written to: see
/// `output_and_baseline_can_be_dev_null_a_fifo_or_stdout`.)
#[cfg(unix)]
#[test]
fn output_must_be_a_file_or_a_stream() {
    let d = Dir::new();
    let password = pw();
    let st = d.write("terraform.tfstate", db_state(&password));
    let st = st.display().to_string();
    let null = d.path().join("null");
    std::os::unix::fs::symlink("/dev/null", &null).unwrap();
    std::fs::create_dir(d.path().join("reports")).unwrap();
    std::os::unix::fs::symlink("reports", d.path().join("to-reports")).unwrap();
    for (flag, target, said) in [
        ("-o", "-", "--output -"),
        ("--write-baseline", "-", "--write-baseline -"),
        ("-o", "reports", "--output reports is a directory"),
        ("-o", "to-reports", "--output to-reports is a directory"),
        (
            "--write-baseline",
            "reports",
            "--write-baseline reports is a directory",
        ),
        // Checked before the run, not after it (the text report was lost with the file).
        (
            "-o",
            "s3://bucket/report.sarif",
            "--output s3://bucket/report.sarif: a local file",
        ),
        (
            "-o",
            "no/such/dir/r.sarif",
            "--output no/such/dir/r.sarif: no/such/dir: No such file or directory",
        ),
        (
            "--write-baseline",
            "no/such/dir/b.json",
            "--write-baseline no/such/dir/b.json: no/such/dir: No such file or directory",
        ),
        (
            "-o",
            "terraform.tfstate/r.sarif",
            "--output terraform.tfstate/r.sarif: terraform.tfstate: not a directory",
        ),
    ] {
        let r = audit_in(d.path(), &[&st, flag, target, "--format", "sarif"]);
        for v in variants(&password) {
            assert!(!r.all().contains(&v), "output holds the password");
        }
        assert_eq!(r.code, 2, "{flag} {target}: {}", r.all());
        assert!(r.stderr.contains(said), "{flag} {target}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{flag} {target}: {}", r.stdout);
    }
    assert!(!d.path().join("-").exists());
    assert_eq!(
        std::fs::read_link(&null).unwrap(),
        std::path::Path::new("/dev/null")
    );
}

/// `terraform state pull | state-scrubber audit - --label NAME`: the findings are NAME's in every
/// format, in a baseline written from them (which then accepts them under NAME only) and for
/// `files` allow globs.
#[test]
fn label_names_stdin_everywhere_a_file_is_named() {
    let d = Dir::new();
    let password = pw();
    let state = db_state(&password);
    let label = "envs/prod/terraform.tfstate";
    // Each run's output searched before any message below may print it.
    let run = |args: &[&str]| {
        let r = audit_stdin(args, state.as_bytes());
        for v in variants(&password) {
            assert!(!r.all().contains(&v), "output holds the password");
        }
        r
    };

    let r = run(&["-", "--label", label, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(findings(&r)[0]["file"], label);
    let r = run(&["-", "--label", label, "--format", "sarif"]);
    let location = &r.json()["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"],
        json!({"uri": label, "uriBaseId": "%SRCROOT%"})
    );
    let r = run(&["-", "--label", label]);
    assert!(r.stdout.starts_with(label), "{}", r.stdout);
    // Without a label, stdin is stdin.
    let r = run(&["-", "--format", "json"]);
    assert_eq!(findings(&r)[0]["file"], "<stdin>");

    let baseline = d.s("baseline.json");
    let r = run(&["-", "--label", label, "--write-baseline", &baseline]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = run(&["-", "--label", label, "--baseline", &baseline]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = run(&[
        "-",
        "--label",
        "envs/dev/terraform.tfstate",
        "--baseline",
        &baseline,
    ]);
    assert_eq!(
        r.code,
        1,
        "another state's findings are not accepted: {}",
        r.all()
    );

    let config = d.write(
        "allow.toml",
        "[[allow]]\nreason = \"prod is audited elsewhere\"\nfiles = [\"envs/prod/*\"]\n",
    );
    let config = config.display().to_string();
    let r = run(&["-", "--label", label, "--config", &config]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = run(&["-", "--label", "envs/dev/x.tfstate", "--config", &config]);
    assert_eq!(r.code, 1, "{}", r.all());
}

/// --label names stdin only: without `-` it is a usage error, as an empty name is.
#[test]
fn label_without_stdin_is_exit_2() {
    let d = Dir::new();
    let st = d.write("terraform.tfstate", db_state(&pw()));
    let st = st.display().to_string();
    let r = audit(&[&st, "--label", "x.tfstate"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--label names stdin"), "{}", r.stderr);
    for bad in ["", "-", "a\u{1b}[2Jb"] {
        // Refused before stdin is read (which stays closed here).
        let r = done(
            bin()
                .args(["audit", "-", "--label", bad])
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 2, "{bad:?}");
        assert!(r.stderr.contains("--label"), "{}", r.stderr);
    }
}

/// The README's baseline name sits in the audited directory and has `state` as a name component:
/// a walk read it as a state, and writing it again (without `--baseline`) was refused as
/// replacing an input. This tool's own JSON is not walked; named, it is still read.
#[test]
fn the_walk_leaves_this_tools_own_files_alone() {
    let d = Dir::new();
    d.write("terraform.tfstate", db_state(&pw()));
    for _ in 0..2 {
        let r = audit_in(
            d.path(),
            &["--write-baseline", ".state-scrubber-baseline.json", "-v"],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            !r.stderr.contains("scanned .state-scrubber-baseline.json")
                && !r.stderr.contains("scanned ./.state-scrubber-baseline.json"),
            "the baseline was walked"
        );
    }
    let r = audit_in(d.path(), &["--format", "json", "-o", "state-scrubber.json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let r = audit_in(d.path(), &["--format", "json", "-o", "state-scrubber.json"]);
    assert_eq!(
        r.code, 1,
        "a second run refused its own report: {}",
        r.stderr
    );
    let r = audit_in(d.path(), &["--format", "json", "-q"]);
    let files: Vec<String> = r.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    assert!(
        files.iter().all(|f| !f.contains("state-scrubber")),
        "walked: {files:?}"
    );
}

/// Stdin may not take the name of a file the same run reads, named or reached by a walk (in
/// either spelling): the report had two entries of one name and the baseline one set of
/// findings for two documents. Exit 2 before anything is read.
#[test]
fn label_of_a_file_also_read_is_exit_2() {
    let d = Dir::new();
    let password = pw();
    let state = db_state(&password);
    d.write("envs/prod/terraform.tfstate", &state);
    for (paths, label) in [
        (
            vec!["envs/prod/terraform.tfstate"],
            "envs/prod/terraform.tfstate",
        ),
        (
            vec!["envs/prod/terraform.tfstate"],
            "./envs/prod/terraform.tfstate",
        ),
        (vec!["."], "envs/prod/terraform.tfstate"),
        (vec!["envs"], "envs/prod/terraform.tfstate"),
    ] {
        let mut c = bin();
        c.current_dir(d.path()).arg("audit").args(&paths);
        c.args(["-", "--label", label]);
        let r = done(c.stdin(std::process::Stdio::null()).output().unwrap());
        assert!(
            !variants(&password).iter().any(|v| r.all().contains(v)),
            "output holds the password"
        );
        assert_eq!(r.code, 2, "{paths:?} {label}: {}", r.all());
        assert!(
            r.stderr.contains("this run also reads") && r.stderr.contains("another --label"),
            "{}",
            r.stderr
        );
    }
    // Another name is fine.
    let mut c = bin();
    c.current_dir(d.path())
        .args(["audit", ".", "-", "--label", "envs/dev/terraform.tfstate"]);
    let r = done(
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(state.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap(),
    );
    assert!(
        !variants(&password).iter().any(|v| r.all().contains(v)),
        "output holds the password"
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
}

/// stdout whose reader is gone (`audit --write-baseline b.json | head -1` once the report
/// outgrows the pipe): the report cannot be printed, which is an error (exit 2), but the
/// baseline and the --output file are still written, whole. The baseline was lost before: the
/// failed print returned before it was written.
#[test]
fn a_closed_stdout_still_writes_the_baseline_and_the_report_file() {
    let d = Dir::new();
    let password = pw();
    let st = d.write("terraform.tfstate", db_state(&password));
    let baseline = d.s("baseline.json");
    let out = d.s("audit.sarif");
    // A pipe whose read end is closed before the run starts: every write to stdout fails
    // (EPIPE), whatever the report's size and however fast the scan.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = bin()
        .args([
            "audit",
            &st.display().to_string(),
            "--write-baseline",
            &baseline,
        ])
        .args(["--format", "sarif", "-o", &out])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run state-scrubber");
    let r = done(o);
    for v in variants(&password) {
        assert!(!r.all().contains(&v), "the output holds the password");
    }
    // The reader went away (`| head -1`): no error (see
    // a_closed_stdout_is_quiet_and_the_status_is_the_audits); --write-baseline's status is 0.
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("error"), "{}", r.stderr);
    // One entry, said in the singular (was '(1 findings)').
    assert!(r.stderr.contains("wrote baseline"), "{}", r.stderr);
    assert!(r.stderr.contains(" (1 finding)\n"), "{}", r.stderr);
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(&baseline).expect("the baseline was not written"),
    )
    .unwrap();
    assert_eq!(
        written["findings"].as_array().unwrap().len(),
        1,
        "{written}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("no report file")).unwrap();
    assert_eq!(report["runs"][0]["results"].as_array().unwrap().len(), 1);
    // And a run that can print leaves the baseline as this one wrote it.
    let r = audit(&[&st.display().to_string(), "--baseline", &baseline]);
    assert_eq!(r.code, 0, "{}", r.all());
}

/// `audit ... | head -1`: the reader stops reading, and as with ripgrep that is no error: no
/// message, and the report file and the baseline are written. The exit status is the audit's
/// (1 for findings at or above --fail-on, 0 when clean), not ripgrep's 0, which for ripgrep
/// means "found" and here would mean "clean". Before: exit 2 and 'error: writing the report:
/// Broken pipe'; with stderr closed as well (`2>&1 | head -1`), the baseline was lost too.
/// Stdout (and stderr) are pipes whose read end is closed before the run starts, so every write
/// fails, whatever the report's size.
#[cfg(unix)]
#[test]
fn a_closed_stdout_is_quiet_and_the_status_is_the_audits() {
    let d = Dir::new();
    let password = pw();
    let dirty = d.write("dirty/terraform.tfstate", db_state(&password));
    let clean = d.write("clean/terraform.tfstate", state_v4(json!([])));
    let run = |args: &[&str], close_stderr: bool| {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut c = bin();
        c.arg("audit").args(args).current_dir(d.path());
        if close_stderr {
            c.stderr(writer.try_clone().unwrap());
        } else {
            c.stderr(std::process::Stdio::piped());
        }
        let r = done(c.stdout(writer).output().expect("run state-scrubber"));
        for v in variants(&password) {
            assert!(!r.all().contains(&v), "the output holds the password");
        }
        r
    };
    let dirty = dirty.display().to_string();
    let clean = clean.display().to_string();
    for format in ["text", "json", "sarif", "html"] {
        let r = run(&[&dirty, "--format", format], false);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert_eq!(r.stderr, "", "{format}");
        let r = run(
            &[&dirty, "--format", format, "--fail-on", "critical"],
            false,
        );
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        let r = run(&[&clean, "--format", format], false);
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert_eq!(r.stderr, "", "{format}");
    }
    // A file that cannot be read is still exit 2, and says so.
    let r = run(&[&dirty, "missing.tfstate"], false);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("missing.tfstate"), "{}", r.stderr);

    // stdout and stderr closed (`2>&1 | head -1`): the report file and the baseline are
    // written all the same.
    let r = run(
        &[
            &dirty,
            "-o",
            "audit.sarif",
            "--format",
            "sarif",
            "--write-baseline",
            "b.json",
        ],
        true,
    );
    assert_eq!(r.code, 0);
    let baseline: Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("b.json")).expect("the baseline was not written"),
    )
    .unwrap();
    assert_eq!(baseline["findings"].as_array().unwrap().len(), 1);
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("audit.sarif")).expect("no report file"),
    )
    .unwrap();
    assert_eq!(report["runs"][0]["results"].as_array().unwrap().len(), 1);
    let r = run(&[&dirty, "-o", "audit.json", "--format", "json"], true);
    assert_eq!(r.code, 1);
    assert!(d.path().join("audit.json").exists());
}

/// gitleaks' `-r /dev/null` and a shell's `> /dev/null` work: `-o /dev/null`, a symlink to it, a
/// FIFO (`mkfifo`, `>(...)`) and `/dev/stdout` are streams, written to directly. Before: exit 2,
/// 'not a regular file'. A regular file is still replaced atomically (the tests above), and
/// `-o /dev/stdout` puts the report in --format on stdout alone: a text report after it made
/// the SARIF on stdout no longer SARIF.
#[cfg(unix)]
#[test]
fn output_and_baseline_can_be_dev_null_a_fifo_or_stdout() {
    let d = Dir::new();
    let password = pw();
    let st = d.write("terraform.tfstate", db_state(&password));
    let st = st.display().to_string();
    let null = d.path().join("null");
    std::os::unix::fs::symlink("/dev/null", &null).unwrap();
    let checked = |r: Run| {
        for v in variants(&password) {
            assert!(!r.all().contains(&v), "the output holds the password");
        }
        r
    };

    for args in [
        vec!["-o", "/dev/null", "--format", "sarif"],
        vec!["-o", "null", "--format", "json"],
        vec!["-o", "/dev/null", "--write-baseline", "/dev/null"],
    ] {
        let r = checked(audit_in(
            d.path(),
            &[&[st.as_str()][..], &args[..]].concat(),
        ));
        let want = if args.contains(&"--write-baseline") {
            0
        } else {
            1
        };
        assert_eq!(r.code, want, "{args:?}: {}", r.stderr);
        // The text report on stdout, as with any --output.
        assert!(r.stdout.contains("1 finding"), "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains("wrote report"), "{args:?}: {}", r.stderr);
    }
    assert_eq!(
        std::fs::read_link(&null).unwrap(),
        std::path::Path::new("/dev/null")
    );
    let r = checked(audit_in(d.path(), &[&st, "--write-baseline", "null"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(std::fs::symlink_metadata(&null)
        .unwrap()
        .file_type()
        .is_symlink());

    // A FIFO: its reader gets the report, and the FIFO stays one.
    let fifo = d.path().join("report.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let r = checked(audit_in(
        d.path(),
        &[&st, "-o", "report.fifo", "--format", "sarif"],
    ));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let sent = reader.join().unwrap();
    for v in variants(&password) {
        assert!(!sent.contains(&v), "the report holds the password");
    }
    let sarif: Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 1);
    {
        use std::os::unix::fs::FileTypeExt as _;
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }

    // /dev/stdout: the SARIF alone on stdout (a pipe here), not followed by the text report.
    let r = checked(audit_in(
        d.path(),
        &[&st, "-o", "/dev/stdout", "--format", "sarif"],
    ));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let sarif: Value = serde_json::from_str(&r.stdout).expect("stdout is not SARIF alone");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 1);
    // With --quiet too: the report is the --output file, which --quiet does not leave out.
    let r = checked(audit_in(
        d.path(),
        &[&st, "-o", "/dev/stdout", "--format", "json", "-q"],
    ));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.json()["findings"].as_array().unwrap().len(), 1);
}

/// --output and --write-baseline through a symlink (a repository's
/// `.state-scrubber-baseline.json` linked to a shared one, a report path linked into an
/// artifacts directory) write the file it points to, atomically beside it, and keep the link,
/// as `scrub --write` does with a state. The link itself was renamed over before: a regular
/// file in its place, the shared baseline never updated.
#[cfg(unix)]
#[test]
fn output_and_baseline_through_a_symlink_write_its_target_and_keep_the_link() {
    let d = Dir::new();
    let password = pw();
    let st = d.write("terraform.tfstate", db_state(&password));
    let st = st.display().to_string();
    let shared = d.write("shared/baseline.json", "");
    let artifact = d.write("artifacts/audit.sarif", "old");
    std::os::unix::fs::symlink(&shared, d.path().join("baseline.json")).unwrap();
    std::os::unix::fs::symlink(&artifact, d.path().join("audit.sarif")).unwrap();
    let (baseline, out) = (d.s("baseline.json"), d.s("audit.sarif"));

    let r = audit(&[
        &st,
        "--write-baseline",
        &baseline,
        "--format",
        "sarif",
        "-o",
        &out,
    ]);
    for v in variants(&password) {
        assert!(!r.all().contains(&v), "the output holds the password");
    }
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (link, target) in [(&baseline, &shared), (&out, &artifact)] {
        let meta = std::fs::symlink_metadata(link).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} is no longer a link");
        let text = std::fs::read_to_string(target).unwrap();
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} was not written: {e}", target.display()));
        assert!(v.is_object());
    }
    // Nothing left beside either target, and nothing beside the links but the links.
    assert_eq!(
        std::fs::read_dir(d.path().join("shared")).unwrap().count(),
        1
    );
    assert_eq!(
        std::fs::read_dir(d.path().join("artifacts"))
            .unwrap()
            .count(),
        1
    );
    // The baseline the link points to accepts the finding.
    let r = audit(&[&st, "--baseline", &baseline]);
    assert_eq!(r.code, 0, "{}", r.all());

    // A link to nothing: exit 2 before anything is read, the link as it was.
    let dangling = d.path().join("gone.json");
    std::os::unix::fs::symlink(d.path().join("missing/x.json"), &dangling).unwrap();
    let dangling = dangling.display().to_string();
    for flag in ["-o", "--write-baseline"] {
        let r = audit(&[&st, flag, &dangling]);
        assert_eq!(r.code, 2, "{flag}: {}", r.all());
        assert!(r.stderr.contains("gone.json"), "{flag}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{flag}: {}", r.stdout);
        assert!(std::fs::symlink_metadata(&dangling)
            .unwrap()
            .file_type()
            .is_symlink());
    }
}

/// The walk's note about a symlinked directory it does not follow is said once, and not with
/// --quiet ("nothing but errors"). It was printed by the walk itself: under --quiet, and twice
/// when --output names an existing file with a state-like name (the run walks once more then,
/// to check the report replaces nothing it reads).
#[cfg(unix)]
#[test]
fn the_note_about_a_symlinked_directory_is_said_once_and_not_with_quiet() {
    let d = Dir::new();
    let password = pw();
    d.write("envs/terraform.tfstate", db_state(&password));
    std::fs::create_dir(d.path().join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(d.path().join("elsewhere"), d.path().join("envs/linked")).unwrap();
    let out = d
        .write("reports/last.plan.json", "{}")
        .display()
        .to_string();
    let envs = d.s("envs");
    let note = "symlinked directory not followed";

    let r = audit(&[&envs, "--format", "json", "-o", &out]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr.matches(note).count(), 1, "{}", r.stderr);
    // Said as every subcommand says a note: `note: ...`, no program name before it.
    assert!(
        r.stderr
            .lines()
            .any(|l| l.starts_with("note: ") && l.contains(note)),
        "{}",
        r.stderr
    );
    let r = audit(&[&envs, "-q"]);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (1, "", ""));
    let r = audit(&[&envs, "--format", "json", "-o", &out, "-q"]);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (1, "", ""));
    for v in variants(&password) {
        assert!(!r.all().contains(&v), "the output holds the password");
    }
}

/// The message naming the baseline written shows its name as every other message does: a
/// control character escaped, never sent to the terminal (`wrote report` did; `wrote
/// baseline` printed the name raw).
#[cfg(unix)]
#[test]
fn the_baseline_written_is_named_with_control_characters_escaped() {
    let d = Dir::new();
    let password = pw();
    let st = d.write("terraform.tfstate", db_state(&password));
    let baseline = d.s("b\x1b[31m.json");
    let r = audit(&[&st.display().to_string(), "--write-baseline", &baseline]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("wrote baseline"), "{}", r.stderr);
    assert!(!r.stderr.contains('\x1b'), "{:?}", r.stderr);
    assert!(r.stderr.contains("b\\u{1b}[31m.json"), "{:?}", r.stderr);
    assert!(std::path::Path::new(&baseline).is_file());
}
