//! The binary: the dry run, errors that exit 2 and leave the input alone, terminals, read-only states.

use super::*;

// ---- binary: dry run, errors ---------------------------------------------------------------

#[test]
fn dry_run_writes_nothing_and_shows_no_value_nor_its_length() {
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    std::fs::write(&p, canary_state(&c)).unwrap();
    let o = run(
        &["scrub", p.to_str().unwrap(), "--prefix", "prod/app"],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_no_canary(&c, "stdout", &o.stdout);
    assert_no_canary(&c, "stderr", &o.stderr);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("    - <secret>\n"), "{out}");
    assert!(!out.contains(" chars>"), "a length is shown: {out}");
    assert!(out.contains("+ null (write-only twin password_wo; password_wo_version null -> 1)"));
    assert!(out.contains("+ ref+awssecrets://prod/app/output.db_password"));
    assert!(out.contains("nothing was written"));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), canary_state(&c));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn errors_exit_2_name_file_and_path_and_leave_the_input_alone() {
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    // Broken JSON right after a secret.
    let bad = canary_state(&c).replacen("\"username\": \"app\",", "\"username\": \"app\" ", 1);
    let p = dir.path().join("bad.tfstate");
    std::fs::write(&p, &bad).unwrap();
    let o = run(
        &["scrub", p.to_str().unwrap(), "--prefix", "x", "--write"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.tfstate:") && err.contains("/resources/0/instances/0/attributes"),
        "{err}"
    );
    assert_no_canary(&c, "stderr", &o.stderr);
    assert_no_canary(&c, "stdout", &o.stdout);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), bad);

    // A plan is not a state.
    let plan = dir.path().join("plan.json");
    let text = format!("{{\"format_version\":\"1.2\",\"variables\":{{\"p\":{{\"value\":\"{c}\"}}}},\"planned_values\":{{}},\"resource_changes\":[]}}");
    std::fs::write(&plan, &text).unwrap();
    let o = run(&["scrub", plan.to_str().unwrap(), "--prefix", "x"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("plan.json"));
    assert_no_canary(&c, "stderr", &o.stderr);

    // Nor is the backend cache, which Terraform writes in the v3 layout: a reference in place
    // of a -backend-config credential would break the next `terraform init`.
    let cache_dir = dir.path().join(".terraform");
    std::fs::create_dir(&cache_dir).unwrap();
    let cache = cache_dir.join("terraform.tfstate");
    let text = format!(
        "{{\"version\":3,\"serial\":1,\"lineage\":\"l\",\"backend\":{{\"type\":\"s3\",\"config\":{{\"bucket\":\"b\",\"secret_key\":\"{c}\"}},\"hash\":1}},\"modules\":[{{\"path\":[\"root\"],\"outputs\":{{}},\"resources\":{{}},\"depends_on\":[]}}]}}"
    );
    std::fs::write(&cache, &text).unwrap();
    let o = run(
        &["scrub", cache.to_str().unwrap(), "--prefix", "x", "--write"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("terraform.tfstate:")
            && err.contains("backend cache")
            && err.contains("terraform init -reconfigure"),
        "{err}"
    );
    assert_no_canary(&c, "stderr", &o.stderr);
    assert_no_canary(&c, "stdout", &o.stdout);
    assert_eq!(std::fs::read_to_string(&cache).unwrap(), text);

    // The store is unreachable: the error names the file and the secret. (The first call reads
    // the manifest, to know whether a newer state of the lineage was scrubbed; errors on a
    // value's secret name its address and JSON path too, see
    // a_secret_created_by_someone_else_meanwhile_is_not_written_to.)
    let p = dir.path().join("ok.tfstate");
    std::fs::write(&p, canary_state(&c)).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let o = run(
        &[
            "scrub",
            p.to_str().unwrap(),
            "--prefix",
            "x",
            "--write",
            "--endpoint",
            &endpoint,
            "--backup",
            dir.path().join("bk").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("ok.tfstate: the scrub manifest: secret x/.offstate-manifest/"),
        "{err}"
    );
    assert_no_canary(&c, "stderr", &o.stderr);
    assert_no_canary(&c, "stdout", &o.stdout);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), canary_state(&c));
    assert!(
        !dir.path().join("bk").exists(),
        "no backup when nothing is rewritten"
    );

    // A --name-template that maps two values to one name.
    let o = run(
        &[
            "scrub",
            p.to_str().unwrap(),
            "--prefix",
            "x",
            "--name-template",
            "{prefix}/{type}",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--name-template"));
}

/// Run a shell command with a pseudo-terminal as stdout (`script` from util-linux); None (a note)
/// when there is no `script` outside CI.
fn under_a_terminal(command: &str) -> Option<std::process::Output> {
    let script = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("script"))
        .find(|p| p.is_file());
    let Some(script) = script else {
        assert!(
            std::env::var_os("CI").is_none(),
            "`script` (util-linux) not on PATH and CI is set"
        );
        eprintln!("note: no `script` on PATH; terminal test skipped");
        return None;
    };
    Some(
        Command::new(script)
            .args(["-qec", command, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    )
}

#[test]
fn restore_to_stdout_refuses_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("in.json");
    std::fs::write(
        &state,
        r#"{"version":4,"serial":1,"lineage":"l","outputs":{},"resources":[]}"#,
    )
    .unwrap();
    let command = format!(
        "{BIN} restore - --prefix p --region us-east-1 --endpoint http://127.0.0.1:9 --write < {}",
        state.display()
    );
    let Some(o) = under_a_terminal(&command) else {
        return;
    };
    assert_eq!(o.status.code(), Some(2));
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(shown.contains("stdout is a terminal"), "{shown}");
    // The refusal comes before any store call (the endpoint is a closed port).
    assert!(!shown.contains("dispatch failure"), "{shown}");
}

/// Review (lower priority): `scrub - --write` writes a state to stdout; with nothing selected
/// (or values left out by --only/--exclude/--min-severity) that state holds plaintext, and it
/// went to the terminal. It is refused as `restore` refuses it.
#[test]
fn scrub_to_stdout_refuses_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let canary = canary();
    let state = dir.path().join("in.json");
    std::fs::write(
        &state,
        serde_json::json!({"version": 4, "serial": 1, "lineage": "l", "outputs": {}, "resources": [
            {"mode": "managed", "type": "aws_db_instance", "name": "m", "provider": "p",
             "instances": [{"schema_version": 0, "attributes": {"id": "x", "password": canary},
                            "sensitive_attributes": []}]}]})
        .to_string(),
    )
    .unwrap();
    for extra in ["--min-severity critical", ""] {
        let command = format!(
            "{BIN} scrub - --prefix p --region us-east-1 --endpoint http://127.0.0.1:9 --write {extra} < {}",
            state.display()
        );
        let Some(o) = under_a_terminal(&command) else {
            return;
        };
        assert_eq!(o.status.code(), Some(2), "{extra}");
        let shown = String::from_utf8_lossy(&o.stdout);
        assert!(shown.contains("stdout is a terminal"), "{shown}");
        assert!(
            !shown.contains(&canary),
            "the plaintext state reached the terminal"
        );
        assert!(!shown.contains("dispatch failure"), "{shown}");
    }
}

/// `--backup /dev/tty`, or `--backup /dev/stdout` with stdout a terminal, printed the plaintext
/// state there once the values were stored and the state rewritten (exit 0, the canary on
/// screen). Refused before anything is stored, as `scrub -`/`restore -` refuse a terminal.
#[test]
fn a_backup_on_a_terminal_is_refused_before_anything_is_stored() {
    let Some(moto) = Moto::start() else { return };
    let (c, _dir, p, original) = canary_file();
    let env: Vec<String> = aws_env().iter().map(|(k, v)| format!("{k}={v}")).collect();
    for (i, backup) in ["/dev/tty", "/dev/stdout"].into_iter().enumerate() {
        let prefix = format!("tty{i}/app");
        let command = format!(
            "env {} {BIN} {} --backup {backup}",
            env.join(" "),
            write_args("scrub", p.to_str().unwrap(), &prefix, &moto.url).join(" ")
        );
        let Some(o) = under_a_terminal(&command) else {
            return;
        };
        // `script` copies the terminal (stdout and stderr) to its stdout.
        assert_no_canary(&c, backup, &o.stdout);
        let shown = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(2), "{backup}: {shown}");
        assert!(
            shown.contains(&format!("--backup {backup}: it is a terminal"))
                && shown.contains("nothing was stored or written"),
            "{backup}: {shown}"
        );
        assert!(
            std::fs::read_to_string(&p).unwrap() == original,
            "{backup}: state changed"
        );
        assert!(names_at(&moto.url, &prefix).is_empty(), "{backup}: stored");
    }
}

/// Review finding: a lone `\ud800` escape, or a key twice in one object, made scrub and restore
/// say "internal error ... does not parse back". Terraform writes neither; the error now names
/// the file and the JSON path, exit 2, and the file is left alone.
#[test]
fn ambiguous_json_is_refused_with_file_and_path() {
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let good = canary_state(&c);
    let at = format!("\"password\": \"{c}\"");
    assert!(good.contains(&at));
    let lone = good.replacen(&at, &format!("\"password\": \"{c}\\ud800\""), 1);
    let twice = good.replacen(
        &at,
        &format!("\"password\": \"{c}\", \"password\": \"{c}-2\""),
        1,
    );
    let lone_key = good.replacen("\"username\":", "\"user\\udc00name\":", 1);
    for (name, text, says) in [
        ("lone.tfstate", &lone, "lone UTF-16 surrogate"),
        ("twice.tfstate", &twice, "appears more than once"),
        ("key.tfstate", &lone_key, "lone UTF-16 surrogate"),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let ps = p.to_str().unwrap();
        let path = if name == "key.tfstate" {
            // Not a plain name (U+FFFD): shown by its length, as audit's errors show it.
            "/resources/0/instances/0/attributes/…(9 chars)"
        } else {
            "/resources/0/instances/0/attributes/password"
        };
        for args in [
            vec!["scrub", ps, "--prefix", "x", "--write"],
            vec!["scrub", ps, "--prefix", "x"],
            vec!["restore", ps, "--prefix", "x", "--write"],
        ] {
            let o = run(&args, None);
            let err = String::from_utf8_lossy(&o.stderr).into_owned();
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains(&format!("{name}: at JSON path `{path}`: "))
                    && err.contains(says)
                    && !err.contains("internal error"),
                "{args:?}: {err}"
            );
            assert_no_canary(&c, "stderr", &o.stderr);
            assert_no_canary(&c, "stdout", &o.stdout);
            assert_eq!(&std::fs::read_to_string(&p).unwrap(), text);
        }
    }
}

/// Review finding: `--write` replaced a read-only state without a word (a rename needs write
/// permission on the directory only, and the new file got the old mode back). Terraform's local
/// backend opens the state read-write: a user other than root may not open a 0444 state, and
/// scrub and restore exit 2 before anything is stored, say how to proceed, and leave the file
/// as it is. Root may, and Terraform run as root writes a 0444 state in place, its mode kept
/// (terraform 1.11.4 apply, checked; as uid 4242 it fails to lock it): scrub and restore as
/// root write it too, its mode kept, as `migrate --write` writes a 0444 `.tf` file (be4724e).
/// They refused it by its mode bits before, root or not.
#[cfg(unix)]
#[test]
fn a_read_only_state_is_written_only_where_terraform_would_write_it() {
    use std::os::unix::fs::PermissionsExt;
    let Some(moto) = Moto::start() else { return };
    let root = unsafe { libc::geteuid() } == 0;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let read_only = |p: &Path| std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o444));
    let store = rt().block_on(moto_client(&moto.url));

    // Not root: refused. As root, the test runs these as uid 4242 (setpriv).
    let as_user = |dir: &Path, args: &[&str]| -> Option<Output> {
        if !root {
            return Some(run(args, None));
        }
        if !Path::new("/usr/bin/setpriv").exists() {
            return None;
        }
        let mut a = vec!["--reuid", "4242", "--regid", "4242", "--clear-groups", BIN];
        a.extend(args);
        let mut cmd = super::command("/usr/bin/setpriv", &a);
        cmd.env("HOME", dir);
        Some(cmd.output().unwrap())
    };
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    let original = canary_state(&c);
    std::fs::write(&p, &original).unwrap();
    if root {
        for f in [dir.path(), p.as_path()] {
            std::os::unix::fs::chown(f, Some(4242), Some(4242)).unwrap();
        }
    }
    let ps = p.to_str().unwrap();
    read_only(&p).unwrap();
    let common = ["--prefix", "ro/app", "--endpoint", moto.url.as_str()];
    let mut a = vec!["scrub", ps, "--write"];
    a.extend(common);
    if let Some(o) = as_user(dir.path(), &a) {
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("{ps}: --write would replace this file, and it is read-only (mode 444); nothing was stored or written"))
                && err.contains(&format!("chmod u+w {ps}")),
            "{err}"
        );
        assert_no_canary(&c, "stderr", &o.stderr);
        assert_no_canary(&c, "stdout", &o.stdout);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
        assert_eq!(mode(&p), 0o444);
        assert!(rt().block_on(described(&store, "ro/app")).is_empty());
        // A dry run reads only.
        let o = as_user(dir.path(), &["scrub", ps, "--prefix", "ro/app"]).unwrap();
        assert_eq!(o.status.code(), Some(0));

        // Restore: the same, on the state scrubbed (by root, or made writable for it).
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = as_user(dir.path(), &a).unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let scrubbed = std::fs::read(&p).unwrap();
        read_only(&p).unwrap();
        let mut r = vec!["restore", ps, "--write"];
        r.extend(common);
        let o = as_user(dir.path(), &r).unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("read-only (mode 444); nothing was restored"),
            "{err}"
        );
        assert_no_canary(&c, "stderr", &o.stderr);
        assert_no_canary(&c, "stdout", &o.stdout);
        assert_eq!(std::fs::read(&p).unwrap(), scrubbed);
        // Back to the plaintext state for the root part.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = as_user(dir.path(), &r).unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        read_only(&p).unwrap();
    } else {
        eprintln!("note: no setpriv to run scrub as another user; the refusal is not checked");
    }
    if !root {
        return;
    }

    // Root: the 0444 state is scrubbed and restored in place, mode, owner and group kept.
    let plain = std::fs::read(&p).unwrap();
    let mut a = vec!["scrub", ps, "--write"];
    a.extend(common);
    let o = run(&a, None);
    assert_eq!(
        o.status.code(),
        Some(0),
        "root, scrub --write: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_no_canary(&c, "stdout", &o.stdout);
    let scrubbed = std::fs::read(&p).unwrap();
    assert_no_canary(&c, "scrubbed state", &scrubbed);
    assert_eq!(mode(&p), 0o444, "after scrub --write as root");
    {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!((m.uid(), m.gid()), (4242, 4242));
    }
    let mut r = vec!["restore", ps, "--write"];
    r.extend(common);
    let o = run(&r, None);
    assert_eq!(
        o.status.code(),
        Some(0),
        "root, restore --write: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(mode(&p), 0o444, "after restore --write as root");
    let mut want = json(&plain);
    let back = json(&std::fs::read(&p).unwrap());
    want["serial"] = back["serial"].clone();
    assert!(back == want, "restore as root did not put the values back");
}

/// `scrub --write | head -1` and `restore --write | head -1`: the reader of the report goes
/// away, and the run still finishes, quietly, with the status it would have had (0), as
/// `migrate --write` still writes its files. Before, the failed print of the report returned
/// before the state was written (exit 2, 'Broken pipe'): scrub took its entries out of the
/// manifest again, leaving the values it had stored in Secrets Manager named by neither the
/// state nor the manifest; restore restored nothing. With stderr closed too (`2>&1 | head`)
/// the same. A dry run writes nothing either way. Stdout (and stderr) are pipes whose read end
/// is closed before the run starts, so every write fails.
#[cfg(unix)]
#[test]
fn a_closed_stdout_still_scrubs_and_restores() {
    let Some(moto) = Moto::start() else { return };
    let lineage = "6b0e2b9c-0000-4000-8000-00000000c4a1";
    let closed = |args: &[&str], close_stderr: bool| -> Output {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd = super::command(BIN, args);
        if close_stderr {
            cmd.stderr(writer.try_clone().unwrap());
        }
        cmd.stdout(writer).output().unwrap()
    };
    for (i, close_stderr) in [false, true].into_iter().enumerate() {
        let (c, _dir, p, original) = canary_file();
        let ps = p.to_str().unwrap();
        let prefix = format!("closed{i}/app");
        let case = format!("stderr closed {close_stderr}");

        // The dry run: nothing written, exit 0.
        let o = closed(
            &["scrub", ps, "--prefix", &prefix, "--endpoint", &moto.url],
            close_stderr,
        );
        assert_no_canary_out(&c, &o);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{case}: dry run: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            original,
            "{case}: a dry run wrote"
        );

        let o = closed(&write_args("scrub", ps, &prefix, &moto.url), close_stderr);
        assert_no_canary_out(&c, &o);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{case}: scrub --write: {err}");
        assert!(!err.contains("error"), "{case}: {err}");
        let scrubbed = std::fs::read(&p).unwrap();
        assert_no_canary(&c, "the scrubbed state", &scrubbed);
        assert_eq!(json(&scrubbed)["serial"], 4, "{case}: not written");
        let manifest = manifest_at(&moto.url, &prefix, lineage)
            .unwrap_or_else(|| panic!("{case}: no manifest"));
        assert!(
            manifest.entries.iter().any(|e| e.serial == Some(4)),
            "{case}: the manifest lost this scrub's entries"
        );

        let o = closed(&write_args("restore", ps, &prefix, &moto.url), close_stderr);
        assert_no_canary_out(&c, &o);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{case}: restore --write: {err}");
        assert!(!err.contains("error"), "{case}: {err}");
        // The same JSON (a value is written back as Terraform escapes it: `<` as `\u003c`).
        let mut want = json(original.as_bytes());
        want["serial"] = json!(5);
        assert!(
            json(&std::fs::read(&p).unwrap()) == want,
            "{case}: restore did not give the original back (serial 5)"
        );
    }
}

/// `--backup` that cannot be written (a directory, a file in a missing directory or under a
/// file) is refused before anything is stored. The backup is written last, once the state is
/// replaced: before, the run stored every value, rewrote the state, and then exited 2 without
/// the plaintext copy it was asked for.
#[test]
fn a_backup_that_cannot_be_written_is_refused_before_anything_is_stored() {
    let Some(moto) = Moto::start() else { return };
    let (c, dir, p, original) = canary_file();
    let ps = p.to_str().unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    // A link there: the plaintext copy was written over what it points to.
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "theirs").unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let mut cases = vec![
        (sub.clone(), "a directory"),
        (dir.path().join("missing/plain.json"), "No such file"),
        (p.join("plain.json"), "Not a directory"),
        (link, "it is a symbolic link"),
        // Not stdout: a plaintext file named `-` was left in the working directory.
        (PathBuf::from("-"), "a file named `-`, not stdout"),
    ];
    // A file another user put there (a shared, sticky directory such as /tmp): root's copy was
    // written into it, and it stayed theirs. Only root can give a file to another user here.
    // SAFETY: geteuid takes nothing and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        let theirs = dir.path().join("theirs.json");
        std::fs::write(&theirs, "").unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        cases.push((theirs, "owned by uid 65534, another user"));
    }
    for (i, (backup, why)) in cases.iter().enumerate() {
        let prefix = format!("bk{i}/app");
        let mut a = write_args("scrub", ps, &prefix, &moto.url).to_vec();
        a.extend(["--backup", backup.to_str().unwrap()]);
        let o = run(&a, None);
        assert_no_canary_out(&c, &o);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{why}: {err}");
        assert!(
            err.contains(&format!("--backup {}", backup.display()))
                && err.contains(why)
                && err.contains("nothing was stored or written"),
            "{why}: {err}"
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap(), original, "{why}");
        assert!(names_at(&moto.url, &prefix).is_empty(), "{why}: stored");
        if backup.is_file() {
            assert_no_canary(&c, why, &std::fs::read(backup).unwrap());
        }
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "theirs");
    // A file that can be written is written, mode 0600.
    let bk = dir.path().join("plain.json");
    let mut a = write_args("scrub", ps, "bk/app", &moto.url).to_vec();
    a.extend(["--backup", bk.to_str().unwrap()]);
    let o = run(&a, None);
    assert_no_canary_out(&c, &o);
    assert_ok(&o);
    assert_eq!(std::fs::read_to_string(&bk).unwrap(), original);
    assert!(String::from_utf8_lossy(&o.stdout).contains(" (mode 0600): it holds the secrets"));
    // A device is written to as it is: fsync on it was EINVAL (exit 2 after the state was
    // written) and, as root, the chmod made /dev/null 0600 for everyone.
    std::fs::write(&p, &original).unwrap();
    let mut a = write_args("scrub", ps, "bk/null", &moto.url).to_vec();
    a.extend(["--backup", "/dev/null"]);
    let o = run(&a, None);
    assert_no_canary_out(&c, &o);
    assert_ok(&o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("wrote plaintext backup /dev/null: it holds"),
        "{out}"
    );
    // `scrub - --write` prints the scrubbed state on stdout: a backup there went into it.
    for backup in ["/dev/stdout", "/dev/fd/1"] {
        let mut a = write_args("scrub", "-", "bk/pipe", &moto.url).to_vec();
        a.extend(["--backup", backup]);
        let o = run(&a, Some(original.as_bytes()));
        assert_no_canary_out(&c, &o);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{backup}: {err}");
        assert!(
            err.contains(&format!("--backup {backup} is stdout")) && o.stdout.is_empty(),
            "{backup}: {err}"
        );
        assert!(
            names_at(&moto.url, "bk/pipe").is_empty(),
            "{backup}: stored"
        );
    }
    // The process's own stdout, redirected to a file (`--backup /dev/stdout > b.json`; /dev/fd/1
    // here, which no run can remove): written through, after the report. The name was removed
    // and a new file made in its place (as root, /dev/stdout itself); /dev/fd/1 could not be
    // removed, and the run failed after the state was written. The report's line follows it.
    std::fs::write(&p, &original).unwrap();
    let redirected = dir.path().join("redirected.out");
    let mut a = write_args("scrub", ps, "bk/fd", &moto.url).to_vec();
    a.extend(["--backup", "/dev/fd/1"]);
    let o = command(BIN, &a)
        .stdout(std::fs::File::create(&redirected).unwrap())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_no_canary(&c, "stderr", &o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let out = std::fs::read_to_string(&redirected).unwrap();
    assert!(
        out.contains(&original)
            && out.contains("wrote plaintext backup /dev/fd/1: it holds")
            && !out.contains("(mode 0600)"),
        "no backup or a wrong report in the redirected stdout ({} bytes)",
        out.len()
    );
}

// ---- binary: --only / --exclude, no region, nothing to restore -------------------------------

/// `COMMAND ARGS` with no region anywhere (the test environment reads no shared config).
fn run_without_region(args: &[&str]) -> Output {
    command(BIN, args)
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .unwrap()
}

/// A mistyped `--only` printed "nothing to scrub" and exited 0: a CI scrub did nothing and
/// looked successful. A pattern that names nothing in the state (no finding, resource or
/// output, no rule id) is exit 2 naming it, before the store is contacted (here there is none:
/// no region) or anything written; a key in it that a content rule recognises is masked. What
/// names something still runs, a rule id without a finding in this state too. `--only` takes
/// one value, so STATE may follow it.
#[test]
fn an_only_or_exclude_that_names_nothing_is_refused_before_anything_is_stored() {
    let (c, dir, p, original) = canary_file();
    let state = p.to_str().unwrap();
    let typo = run_without_region(&[
        "scrub",
        state,
        "--only",
        "aws_db_instance.mian",
        "--prefix",
        "p",
        "--write",
    ]);
    assert_eq!(typo.status.code(), Some(2));
    let err = String::from_utf8_lossy(&typo.stderr);
    assert!(
        err.contains("--only 'aws_db_instance.mian' names nothing in this state")
            && !err.contains("region"),
        "{err}"
    );
    assert_no_canary_out(&c, &typo);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // A mistyped attribute of a resource that is there names nothing either.
    let typo = run_without_region(&[
        "scrub",
        state,
        "--only",
        "aws_db_instance.main.pasword",
        "--prefix",
        "p",
        "--write",
    ]);
    assert_eq!(typo.status.code(), Some(2));
    let err = String::from_utf8_lossy(&typo.stderr);
    assert!(
        err.contains("--only 'aws_db_instance.main.pasword' names nothing in this state"),
        "{err}"
    );
    assert_no_canary_out(&c, &typo);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);

    // A key that looks like a token is not printed; --exclude is checked the same way.
    let token = format!("ghp_{}", crate::util::random(crate::util::ALNUM, 36));
    let pattern = format!("module.app[\"{token}\"]");
    let o = run(
        &[
            "scrub",
            state,
            "--exclude",
            &pattern,
            "--exclude",
            "output.db_pasword",
            "--prefix",
            "p",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--exclude 'module.app[\"") && err.contains("--exclude 'output.db_pasword'"),
        "{}",
        err.replace(&token, "<the token>")
    );
    assert!(
        !err.contains(&token) && !err.contains(&token[4..]),
        "the token is printed"
    );

    // Forms that name something: before STATE too (one value per --only).
    for only in [
        "aws_db_instance.main",
        "aws_db_instance.main.password",
        // No finding there (null), as a scrubbed attribute on a re-run: the resource has it.
        "aws_db_instance.main.password_wo",
        "aws_db_instance",
        "module.legacy",
        "module.legacy[\"eu\"].aws_db_instance.old[0]",
        "output.db_password",
        "mark.sensitive_output",
        "attr.aws_iam_access_key.secret",
    ] {
        let o = run(&["scrub", "--only", only, state, "--prefix", "p"], None);
        assert_eq!(
            o.status.code(),
            Some(0),
            "--only {only}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_no_canary_out(&c, &o);
    }
    let o = run(
        &[
            "scrub",
            "--only",
            "aws_db_instance.main",
            "--only",
            "output.db_password",
            state,
            "--prefix",
            "p",
        ],
        None,
    );
    assert_ok(&o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("output.db_password")
            && !out.contains("aws_secretsmanager_secret_version.api"),
        "{out}"
    );
}

/// Without a region the error named the provider's "region in the configuration"; the CLI's
/// is --region. And restore on a state with nothing to restore connected first (exit 2 without
/// a region), where scrub with nothing to scrub says so offline: now "nothing to restore".
#[test]
fn no_region_names_the_option_and_nothing_to_restore_needs_no_store() {
    let (c, _dir, p, original) = canary_file();
    let state = p.to_str().unwrap();
    let o = run_without_region(&["scrub", state, "--prefix", "p", "--write"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no AWS region: give --region REGION, or set AWS_REGION")
            && !err.contains("in the configuration"),
        "{err}"
    );
    assert_no_canary_out(&c, &o);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);

    for write in [false, true] {
        let mut args = vec!["restore", state, "--prefix", "p"];
        if write {
            args.push("--write");
        }
        let o = run_without_region(&args);
        assert_ok(&o);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("terraform.tfstate: nothing to restore"),
            "{out}"
        );
        assert_no_canary_out(&c, &o);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
    }
    // A reference (any name template) or a value nulled for its write-only twin may be one to
    // restore: that takes the store.
    let nulled = original.replacen(&format!("\"password\": \"{c}\""), "\"password\": null", 1);
    assert_ne!(nulled, original);
    for s in [
        nulled,
        original.replacen("\"db-1\"", "\"ref+awssecrets://other/x\"", 1),
    ] {
        std::fs::write(&p, &s).unwrap();
        let o = run_without_region(&["restore", state, "--prefix", "p"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("no AWS region"));
        assert_no_canary_out(&c, &o);
    }
}

/// `scrub --write` on a state with nothing to scrub connected to Secrets Manager before it found
/// that out: exit 2 without a region or credentials. Now it says "nothing to scrub" and exits 0
/// without them (as restore with nothing to restore), the file as it was; the pipeline form
/// passes the state through. Run with no AWS variable at all and an empty HOME.
#[test]
fn nothing_to_scrub_with_write_needs_no_aws_at_all() {
    let (c, dir, p, original) = canary_file();
    let state = p.to_str().unwrap();
    let home = tempfile::tempdir().unwrap();
    let bare = |args: &[&str], stdin: Option<&[u8]>| {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_clear()
            .env("HOME", home.path())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            feed(&mut child, input);
        }
        child.wait_with_output().unwrap()
    };
    // A rule id with no finding in this state: selects nothing.
    let args = [
        "scrub",
        state,
        "--only",
        "attr.aws_iam_access_key.secret",
        "--prefix",
        "p",
        "--write",
    ];
    let o = bare(&args, None);
    assert_ok(&o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("terraform.tfstate: nothing to scrub"), "{out}");
    assert_no_canary_out(&c, &o);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // A state without a secret, through the pipeline: the same state comes out.
    let clean = json!({"version": 4, "terraform_version": "1.15.0", "serial": 1,
        "lineage": "6b0e2b9c-0000-4000-8000-0000000c1ea0", "outputs": {},
        "resources": [{"mode": "managed", "type": "null_resource", "name": "n",
            "provider": "provider[\"registry.terraform.io/hashicorp/null\"]",
            "instances": [{"schema_version": 0, "attributes": {"id": "1", "triggers": null}}]}],
        "check_results": null});
    let clean = serde_json::to_string_pretty(&clean).unwrap() + "\n";
    let o = bare(
        &["scrub", "-", "--prefix", "p", "--write"],
        Some(clean.as_bytes()),
    );
    assert_ok(&o);
    assert_eq!(String::from_utf8_lossy(&o.stdout), clean);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("(stdin): nothing to scrub"), "{err}");
}

/// An instance key that is not one of the resource's passed the check: `--only
/// 'aws_db_instance.db["prod"]'` with instances `["production"]`, or `[0]` with `[1]`, scrubbed
/// nothing and exited 0. It names nothing now (exit 2, naming it, before the store: here there
/// is no region), with --exclude too; the keys there are still taken.
#[test]
fn an_instance_key_that_names_no_instance_is_refused() {
    let (c, dir, p, _) = canary_file();
    let mut doc = json(std::fs::read(&p).unwrap().as_slice());
    let instance = |key: Value, password: String| {
        json!({"index_key": key, "schema_version": 2,
            "attributes": {"id": "db-k", "password": password},
            "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]]})
    };
    let resource = |name: &str, instances: Vec<Value>| {
        json!({"mode": "managed", "type": "aws_db_instance", "name": name,
            "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
            "instances": instances})
    };
    let rs = doc["resources"].as_array_mut().unwrap();
    rs.push(resource(
        "db",
        vec![instance(json!("production"), format!("{c}-prod"))],
    ));
    rs.push(resource("c", vec![instance(json!(1), format!("{c}-one"))]));
    let original = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    std::fs::write(&p, &original).unwrap();
    let state = p.to_str().unwrap();
    for (option, pattern) in [
        ("--only", "aws_db_instance.db[\"prod\"]"),
        ("--only", "aws_db_instance.db[\"production\"].pasword"),
        ("--only", "aws_db_instance.db[0]"),
        ("--only", "aws_db_instance.c[0]"),
        ("--only", "aws_db_instance.c[\"1\"]"),
        ("--only", "aws_db_instance.main[0]"),
        ("--only", "module.legacy[\"eu\"].aws_db_instance.old[1]"),
        ("--exclude", "aws_db_instance.db[\"prod\"].password"),
    ] {
        let o = run_without_region(&["scrub", state, option, pattern, "--prefix", "p", "--write"]);
        assert_eq!(o.status.code(), Some(2), "{option} {pattern}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("{option} '{pattern}' names nothing in this state")),
            "{err}"
        );
        assert_no_canary_out(&c, &o);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
    for pattern in [
        "aws_db_instance.db[\"production\"]",
        "aws_db_instance.db[\"production\"].password",
        "aws_db_instance.c[1]",
        "aws_db_instance.c[1].password",
        "module.legacy[\"eu\"].aws_db_instance.old[0].password",
    ] {
        let o = run(&["scrub", state, "--only", pattern, "--prefix", "p"], None);
        assert_ok(&o);
        assert_no_canary_out(&c, &o);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("1 value(s) in 1 resource(s)"),
            "{pattern}: {out}"
        );
    }
}

/// An instance keyed by a secret (`for_each = toset(var.passwords)`: the key is the password)
/// was scrubbed around: its password became a reference while the key kept the same value in
/// the state, and the manifest's locator held the key. Audit reports it (masked, in text, JSON
/// and SARIF); scrub refuses the state, dry run and --write, exit 2 before anything is stored,
/// saying the key is part of the address and to change the configuration; the rest can be
/// scrubbed with --exclude and the address without its key.
#[test]
fn an_instance_keyed_by_a_secret_is_refused_and_never_shown() {
    let (c, dir, p, _) = canary_file();
    let mut doc = json(std::fs::read(&p).unwrap().as_slice());
    let token = format!("ghp_{}", crate::util::random(crate::util::ALNUM, 36));
    let rs = doc["resources"].as_array_mut().unwrap();
    // The key equals a secret value of the state (audit's `same-value`).
    let keyed = format!("{c}-key");
    rs.push(
        json!({"mode": "managed", "type": "aws_db_instance", "name": "keyed",
        "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
        "instances": [{"index_key": keyed, "schema_version": 2,
            "attributes": {"id": "db-k", "password": keyed},
            "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]]}]}),
    );
    // A module key a content rule recognises.
    rs.push(
        json!({"module": format!("module.app[\"{token}\"]"), "mode": "managed",
        "type": "aws_db_instance", "name": "m",
        "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
        "instances": [{"schema_version": 2,
            "attributes": {"id": "db-m", "password": format!("{c}-m")},
            "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]]}]}),
    );
    let original = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    std::fs::write(&p, &original).unwrap();
    let state = p.to_str().unwrap();
    let no_key = |what: &str, o: &Output| {
        assert_no_canary_out(&c, o);
        for text in [&o.stdout, &o.stderr] {
            let text = String::from_utf8_lossy(text);
            assert!(
                !text.contains(&token) && !text.contains(&token[4..]),
                "{what}: the token is printed"
            );
        }
    };
    for format in ["text", "json", "sarif"] {
        let o = run(&["audit", state, "--format", format], None);
        assert_eq!(o.status.code(), Some(1), "audit --format {format}");
        no_key(format, &o);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("aws_db_instance.keyed[") && out.contains("module.app["),
            "audit --format {format} does not report the keyed instances"
        );
    }
    for write in [false, true] {
        let mut args = vec!["scrub", state, "--prefix", "p"];
        if write {
            args.push("--write");
        }
        let o = run_without_region(&args);
        assert_eq!(o.status.code(), Some(2), "write {write}");
        no_key("scrub", &o);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("2 instances are keyed by a secret value")
                && err.contains("aws_db_instance.keyed[\"…(")
                && err.contains("module.app[\"…(")
                && err.contains("part of the resource address")
                && err.contains("Change the configuration")
                && !err.contains("region"),
            "{err}"
        );
        assert!(o.stdout.is_empty());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
    // Selecting one of them is refused too; leaving both out scrubs the rest.
    let o = run_without_region(&[
        "scrub",
        state,
        "--only",
        "module.app",
        "--prefix",
        "p",
        "--write",
    ]);
    assert_eq!(o.status.code(), Some(2));
    no_key("scrub --only", &o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("an instance is keyed by a secret value"));
    let o = run(
        &[
            "scrub",
            state,
            "--exclude",
            "aws_db_instance.keyed",
            "--exclude",
            "module.app",
            "--prefix",
            "p",
        ],
        None,
    );
    assert_ok(&o);
    no_key("scrub --exclude", &o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("aws_db_instance.main password"), "{out}");
}
