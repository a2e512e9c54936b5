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
    assert_eq!(std::fs::read(&st).unwrap(), before);
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
            .contains("writing the report to no/such/dir/r.json: No such file or directory"),
        "{}",
        r.stderr
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

    let r = audit_stdin(
        &["-", "--label", label, "--format", "json"],
        state.as_bytes(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(findings(&r)[0]["file"], label);
    let r = audit_stdin(
        &["-", "--label", label, "--format", "sarif"],
        state.as_bytes(),
    );
    let location = &r.json()["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"],
        json!({"uri": label, "uriBaseId": "%SRCROOT%"})
    );
    let r = audit_stdin(&["-", "--label", label], state.as_bytes());
    assert!(r.stdout.starts_with(label), "{}", r.stdout);
    // Without a label, stdin is stdin.
    let r = audit_stdin(&["-", "--format", "json"], state.as_bytes());
    assert_eq!(findings(&r)[0]["file"], "<stdin>");

    let baseline = d.s("baseline.json");
    let r = audit_stdin(
        &["-", "--label", label, "--write-baseline", &baseline],
        state.as_bytes(),
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let r = audit_stdin(
        &["-", "--label", label, "--baseline", &baseline],
        state.as_bytes(),
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let r = audit_stdin(
        &[
            "-",
            "--label",
            "envs/dev/terraform.tfstate",
            "--baseline",
            &baseline,
        ],
        state.as_bytes(),
    );
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
    let r = audit_stdin(
        &["-", "--label", label, "--config", &config],
        state.as_bytes(),
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let r = audit_stdin(
        &["-", "--label", "envs/dev/x.tfstate", "--config", &config],
        state.as_bytes(),
    );
    assert_eq!(r.code, 1, "{}", r.all());

    for v in variants(&password) {
        assert!(!r.all().contains(&v), "output holds the password");
    }
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
