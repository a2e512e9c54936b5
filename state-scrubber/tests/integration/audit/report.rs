//! What the reports show: no canary in any format, the text snapshot, previews, columns, `--fail-on`.

use super::*;

// ---- acceptance 2: canaries never reach any output ------------------------------------------

#[test]
fn canaries_never_reach_any_output_format() {
    use base64::Engine as _;
    let d = Dir::new();
    let c1 = plant(&format!("cnry{}<&>{}", random(ALNUM, 12), random(ALNUM, 8)));
    let c2 = plant(&format!("cnry{}", random(ALNUM, 24)));
    let c3 = plant(&format!("cnry{}", random(ALNUM, 20)));
    let c4 = plant(&format!("cnry{}", random(ALNUM, 20)));
    let secret_string = serde_json::to_string(&json!({"password": c1}))
        .unwrap()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    d.write(
        "s/terraform.tfstate",
        state_v4(json!([
            resource("managed", "aws_secretsmanager_secret_version", "a", json!({"secret_string": secret_string}), json!([])),
            resource("managed", "random_password", "b", json!({"result": c2}), json!([[{"type": "get_attr", "value": "result"}]])),
            resource("managed", "aws_instance", "c", json!({"user_data": base64::engine::general_purpose::STANDARD.encode(format!("export DB_PASSWORD={c3}\n"))}), json!([])),
            resource("managed", "aws_lambda_function", "d", json!({"environment": [{"variables": {"API_TOKEN": c4}}]}), json!([])),
        ])),
    );
    d.write(
        "p/plan.json",
        json!({"format_version": "1.2", "variables": {"pw": {"value": c2}},
            "resource_changes": [{"address": "random_password.b", "mode": "managed", "type": "random_password", "name": "b",
                "change": {"before": {"result": c2}, "after": {"result": c2}, "before_sensitive": {"result": true}, "after_sensitive": {"result": true}}}]})
        .to_string(),
    );
    // Errors must not quote input either: a truncated file that ends inside a canary.
    let broken = db_state(&c3);
    let cut = broken.find(&c3).unwrap() + 10;
    d.write("e/terraform.tfstate", &broken.as_bytes()[..cut]);
    d.write(
        "e2/terraform.tfstate",
        format!("{{\"version\": 4, \"resources\": [\"{c4}\\x\"]}}"),
    );
    let base = d.s("");
    let mut outputs = Vec::new();
    for args in [
        vec!["--format", "text"],
        vec!["--format", "text", "--verbose"],
        vec!["--format", "text", "--verbose", "--color", "always"],
        vec!["--format", "json"],
        vec!["--format", "json", "--verbose"],
        vec!["--format", "sarif"],
        vec!["--format", "sarif", "--verbose"],
    ] {
        let mut a = vec![base.as_str()];
        a.extend(args.iter().copied());
        let r = audit(&a);
        assert_eq!(r.code, 2, "errors present");
        outputs.push(r.all());
    }
    let bl = d.s("baseline.json");
    let r = audit(&[&base, "--write-baseline", &bl]);
    outputs.push(r.all());
    outputs.push(std::fs::read_to_string(&bl).unwrap());
    let r = audit_stdin(
        &["-", "--format", "json", "--verbose"],
        db_state(&c2).as_bytes(),
    );
    outputs.push(r.all());
    // Some findings were made (the test would be vacuous otherwise).
    assert!(
        outputs[3].matches("\"rule_id\"").count() >= 6,
        "{}",
        outputs[3]
    );
    for c in [&c1, &c2, &c3, &c4] {
        for v in variants(c) {
            for (i, o) in outputs.iter().enumerate() {
                assert!(!o.contains(&v), "output {i} leaks a canary fragment");
            }
        }
    }
}

#[test]
fn fail_on_sets_the_threshold() {
    let d = Dir::new();
    // A layer-4 medium finding only.
    d.write(
        "terraform.tfstate",
        state_v4(json!([resource(
            "managed",
            "null_resource",
            "x",
            json!({"triggers": {"api_token": random(ALNUM, 32)}}),
            json!([])
        )])),
    );
    let st = d.s("terraform.tfstate");
    assert_eq!(audit(&[&st]).code, 1);
    assert_eq!(audit(&[&st, "--fail-on", "medium"]).code, 1);
    assert_eq!(audit(&[&st, "--fail-on", "high"]).code, 0);
    assert_eq!(audit(&[&st, "--fail-on", "bogus"]).code, 2);
    let r = audit(&[&st, "--quiet", "--fail-on", "high"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
}

#[test]
fn text_report_snapshot() {
    let d = Dir::new();
    // Fixed, non-realistic values so the snapshot is stable.
    d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource("managed", "aws_db_instance", "main", json!({"password": plant("Zq8Lm2Xv9Rk4Tp7W"), "username": "app"}), json!([[{"type": "get_attr", "value": "password"}]])),
            resource("managed", "aws_lambda_function", "api", json!({"environment": [{"variables": {"DB_PASSWORD": plant("Wq7Kp3Lm9Xz2Rt5V"), "MODE": "prod"}}]}), json!([])),
        ])),
    );
    let r = audit_in(d.path(), &["terraform.tfstate"]);
    assert_eq!(r.code, 1);
    let want = r#"terraform.tfstate  (state_v4, 2 findings)
  aws_db_instance.main  [resources]
    HIGH     password  17:25  attr.aws_db_instance.password  password  …(16 chars)
        why: layer 1: listed in the instance's sensitive_attributes
        why: layer 2: `password` of `aws_db_instance` is a secret attribute (password)
        fix: set the write-only `password_wo + password_wo_version` instead of `password` (hashicorp/aws >= 5.88.0, Terraform >= 1.11); the value then never reaches state
  aws_lambda_function.api  [resources]
    HIGH     environment[0].variables.DB_PASSWORD  43:34  key-password  password  …(16 chars)
        why: layer 4: key `DB_PASSWORD` matches key-password and the value has 4.0 bits of entropy per character
        fix: keep the value in Secrets Manager with `offstate_secret` (value_wo) and read it where needed with `ephemeral "offstate_secret_value"`

2 findings (2 high) in 1 file scanned
"#;
    assert_eq!(r.stdout, want);
}

/// Review finding: previews showed the first two characters of every value (`wJ…(41 chars)`), a
/// fragment of a password. Only the length is shown, after a token type's public prefix when the
/// content rule that matched declares one (`ghp_…(40 chars)`).
#[test]
fn previews_show_the_length_and_only_a_declared_public_prefix() {
    let d = Dir::new();
    let pw = plant(&format!("zQ{}", random(ALNUM, 16)));
    let gh = plant(&format!("ghp_{}", random(ALNUM, 36)));
    let embedded = plant(&format!(
        "xY{}=ghp_{}",
        random(ALNUM, 10),
        random(ALNUM, 36)
    ));
    let st = d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource(
                "managed",
                "aws_db_instance",
                "main",
                json!({"id": "db-1", "password": pw}),
                json!([[{"type": "get_attr", "value": "password"}]])
            ),
            resource(
                "managed",
                "github_actions_secret",
                "t",
                json!({"secret_name": "X", "plaintext_value": gh, "description": embedded}),
                json!([])
            ),
        ])),
    );
    let st = st.display().to_string();
    let mut outputs = Vec::new();
    for format in ["text", "json", "sarif", "html"] {
        for extra in [&[][..], &["--verbose"][..]] {
            let mut a = vec![st.as_str(), "--format", format];
            a.extend_from_slice(extra);
            let r = audit(&a);
            assert_eq!(r.code, 1, "{format}");
            outputs.push((format, r.all()));
        }
    }
    let bl = d.s("baseline.json");
    outputs.push(("baseline", audit(&[&st, "--write-baseline", &bl]).all()));
    outputs.push(("baseline file", std::fs::read_to_string(&bl).unwrap()));
    let previews: Vec<String> = findings(&audit(&[&st, "--format", "json"]))
        .iter()
        .map(|f| f["preview"].as_str().unwrap().to_string())
        .collect();
    assert!(
        previews.contains(&"…(18 chars)".to_string()),
        "{previews:?}"
    );
    assert!(
        previews.contains(&"ghp_…(40 chars)".to_string()),
        "{previews:?}"
    );
    // A token inside other text shows no prefix: the text's start is not the token's.
    let n = embedded.chars().count();
    assert!(previews.contains(&format!("…({n} chars)")), "{previews:?}");
    for (format, o) in &outputs {
        for v in [&pw, &gh, &embedded] {
            // No leading characters before the ellipsis, in any format or escaping.
            for head in [&v[..2], &v[..1]] {
                for shown in [
                    format!("{head}…"),
                    format!("{head}\\u2026"),
                    format!("{head}&hellip;"),
                ] {
                    assert!(
                        !o.contains(&shown),
                        "{format} shows a value's first characters"
                    );
                }
            }
            for w in variants(v) {
                assert!(!o.contains(&w), "{format} leaks a fragment");
            }
        }
        // The random body of the token never follows its prefix.
        assert!(!o.contains(&gh[..6]), "{format}");
    }
}

/// Review (lower priority): SARIF declared `columnKind: unicodeCodePoints` while columns were
/// bytes (SARIF 2.1.0 §3.14.27 allows only code points or UTF-16 code units). A finding's column
/// now counts characters in every format.
#[test]
fn columns_count_characters_not_bytes() {
    let d = Dir::new();
    let secret = pw();
    // One line: a description with 2-, 3- and 4-byte characters before the password.
    let line = format!(
        r#"{{"version": 4, "terraform_version": "1.9.5", "serial": 1, "lineage": "l", "outputs": {{}}, "resources": [{{"mode": "managed", "type": "aws_db_instance", "name": "m", "provider": "p", "instances": [{{"schema_version": 0, "attributes": {{"id": "x", "description": "Ünïcödé € 𝄞 ✓", "password": "{secret}"}}, "sensitive_attributes": []}}]}}]}}"#
    );
    d.write("one-line.tfstate", format!("{line}\n"));
    let quote = line.find(&format!("\"{secret}\"")).unwrap();
    let want = line[..quote].chars().count() as u64 + 1;
    assert!(
        want < quote as u64 + 1,
        "the line has multi-byte characters"
    );
    let r = audit(&[&d.s("one-line.tfstate"), "--format", "json"]);
    let f = &findings(&r)[0];
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(1), Some(want))
    );
    let r = audit(&[&d.s("one-line.tfstate"), "--format", "sarif"]);
    let run = &r.json()["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let region = &run["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startColumn"].as_u64(), Some(want));
    let r = audit(&[&d.s("one-line.tfstate")]);
    assert!(r.stdout.contains(&format!(" 1:{want} ")), "{}", r.stdout);

    // Several lines, several findings per line, multi-byte characters before and between them.
    let pws: Vec<String> = (0..4).map(|_| pw()).collect();
    let res = |i: usize, a: &str, b: &str| {
        format!(
            r#"{{"mode": "managed", "type": "aws_db_instance", "name": "m{i}", "provider": "p", "instances": [{{"schema_version": 0, "attributes": {{"id": "x", "description": "größe ½ 𝄞", "password": "{a}", "note": "ß", "master_password": "{b}"}}, "sensitive_attributes": []}}]}}"#
        )
    };
    let text = format!(
        "{{\"version\": 4, \"serial\": 1, \"lineage\": \"ü\", \"outputs\": {{}}, \"resources\": [\n{},\n{}\n]}}\n",
        res(0, &pws[0], &pws[1]),
        res(1, &pws[2], &pws[3])
    );
    d.write("lines.tfstate", &text);
    let mut want = Vec::new();
    for (n, l) in text.lines().enumerate() {
        for p in &pws {
            if let Some(q) = l.find(&format!("\"{p}\"")) {
                want.push((n as u64 + 1, l[..q].chars().count() as u64 + 1));
            }
        }
    }
    want.sort();
    let r = audit(&[&d.s("lines.tfstate"), "--format", "json"]);
    let mut got: Vec<(u64, u64)> = findings(&r)
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap()))
        .collect();
    got.sort();
    assert_eq!(got, want);
}

/// `--color auto` (the default) as the README says and ripgrep does: colour when stdout is a
/// terminal, unless NO_COLOR is set and not empty (no-color.org: an empty NO_COLOR is unset) or
/// TERM is `dumb`; `--color always` wins over both, `never` over the terminal. Before: an empty
/// NO_COLOR turned colour off and TERM=dumb had it on. Stdout is a pseudo-terminal here.
#[cfg(target_os = "linux")]
#[test]
fn colour_on_a_terminal_follows_no_color_and_term() {
    use std::io::Read as _;
    use std::os::fd::{FromRawFd as _, OwnedFd};
    let d = Dir::new();
    let password = pw();
    let st = d.write("terraform.tfstate", db_state(&password));
    let st = st.display().to_string();
    // What a run printed on a terminal: stdout the pty's secondary end, read from the primary.
    let on_terminal = |env: &[(&str, Option<&str>)], args: &[&str]| -> String {
        let (mut primary, mut secondary) = (-1, -1);
        let ok = unsafe {
            libc::openpty(
                &mut primary,
                &mut secondary,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(ok, 0, "openpty");
        let (primary, secondary) = unsafe {
            (
                std::fs::File::from_raw_fd(primary),
                OwnedFd::from_raw_fd(secondary),
            )
        };
        let mut c = bin();
        c.args(["audit", &st]).args(args);
        for (k, v) in env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        let mut child = c
            .stdout(std::process::Stdio::from(secondary))
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let reader = std::thread::spawn(move || {
            let mut primary = primary;
            let mut out = Vec::new();
            let mut buf = [0u8; 4096];
            // EIO once the run's end of the terminal is closed.
            while let Ok(n) = primary.read(&mut buf) {
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            out
        });
        // The spawned child holds the only copy of the secondary end: `c` dropped it.
        drop(c);
        assert_eq!(child.wait().unwrap().code(), Some(1));
        let out = String::from_utf8(reader.join().unwrap()).unwrap();
        for v in variants(&password) {
            assert!(!out.contains(&v), "the output holds the password");
        }
        assert!(out.contains("attr.aws_db_instance.password"), "{out:?}");
        out
    };
    let coloured = |out: &str| out.contains('\u{1b}');
    let term = Some("xterm");
    for (env, args, want) in [
        (vec![("NO_COLOR", None), ("TERM", term)], vec![], true),
        (vec![("NO_COLOR", Some("")), ("TERM", term)], vec![], true),
        (vec![("NO_COLOR", Some("1")), ("TERM", term)], vec![], false),
        (
            vec![("NO_COLOR", None), ("TERM", Some("dumb"))],
            vec![],
            false,
        ),
        (vec![("NO_COLOR", None), ("TERM", None)], vec![], true),
        (
            vec![("NO_COLOR", Some("1")), ("TERM", Some("dumb"))],
            vec!["--color", "always"],
            true,
        ),
        (
            vec![("NO_COLOR", None), ("TERM", term)],
            vec!["--color", "never"],
            false,
        ),
    ] {
        let out = on_terminal(&env, &args);
        assert_eq!(coloured(&out), want, "{env:?} {args:?}: {out:?}");
    }
}

/// Docs review: `--verbose` text printed `confidence: High` where JSON has `high`, and `-j 0`
/// was taken (a pool of no workers) where `--concurrency 0` is refused.
#[test]
fn verbose_confidence_is_written_as_json_has_it_and_no_jobs_is_refused() {
    let pw = random(ALNUM, 20);
    let st = db_state(&pw);
    let text = audit_stdin(&["-", "--verbose", "--color", "never"], st.as_bytes());
    assert_eq!(text.code, 1, "{}", text.all());
    let json = audit_stdin(&["-", "--format", "json"], st.as_bytes());
    let confidence = json.json()["findings"][0]["confidence"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.stdout.contains(&format!("confidence: {confidence}")),
        "{}",
        text.all()
    );
    let d = Dir::new();
    let file = d.write("terraform.tfstate", &st);
    for jobs in [["-j", "0"], ["--jobs", "0"]] {
        let r = audit(&[file.to_str().unwrap(), jobs[0], jobs[1]]);
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(r.stderr.contains("--jobs"), "{}", r.all());
    }
}
