//! `migrate`'s diff is read on a terminal, in a review: a `.tf` file's name and text are the
//! repository's, and a control character there (an escape sequence that erases the line above, a
//! bidirectional override) must not reach the terminal to hide or reorder what the diff shows. A
//! newline in a file name must not split a header line.

use crate::util;

#[test]
fn the_diff_shows_control_characters_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = "x\u{1b}[31mred\nnl.tf";
    let tf = "resource \"aws_db_instance\" \"a\" {\n  identifier = \"a\" # \u{1b}[1A\u{1b}[2K hidden\n  engine = \"e\" # \u{202e}reversed\n  password   = var.pw\n}\n";
    std::fs::write(dir.path().join(name), tf).unwrap();
    // A CRLF file keeps its line endings as they are in the diff: a CR before the newline moves
    // nothing that is shown.
    let crlf = "resource \"aws_rds_cluster\" \"c\" {\r\n  master_password = var.pw\r\n}\r\n";
    std::fs::write(dir.path().join("crlf.tf"), crlf).unwrap();
    let out = util::bin()
        .args(["migrate", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("+  password_wo"), "{stdout:?}");
    for bad in ['\u{1b}', '\u{202e}'] {
        assert!(!stdout.contains(bad), "{bad:?} printed: {stdout:?}");
    }
    for line in stdout.split('\n') {
        assert!(!line.starts_with("nl.tf"), "a name split: {stdout:?}");
    }
    assert!(
        stdout.contains("--- a/x\\u{1b}[31mred\\u{a}nl.tf\n"),
        "{stdout:?}"
    );
    assert!(
        stdout.contains("+  master_password_wo         = var.pw\r\n"),
        "{stdout:?}"
    );
    // Nothing was written.
    assert_eq!(std::fs::read_to_string(dir.path().join(name)).unwrap(), tf);
}

/// A local that feeds a secret argument in a file migrate leaves as it is (a one-line block, a
/// `.tf.json` file) is worked out over the whole module: its literal, printed as context of
/// another file's rewrite, is masked. Nothing printed, on either stream, holds it.
#[test]
fn a_literal_feeding_a_secret_in_an_unchanged_file_is_masked() {
    let dir = util::Dir::new();
    // Letters only: nothing the content rules would catch on their own.
    let lower = "abcdefghijklmnopqrstuvwxyz";
    let (p, j) = (util::random(lower, 14), util::random(lower, 14));
    dir.write(
        "a.tf",
        format!(
            "resource \"aws_db_instance\" \"a\" {{\n  identifier = \"a\"\n  password   = var.pw\n}}\n\
             locals {{ p = \"{p}\" }}\nlocals {{ j = \"{j}\" }}\n"
        ),
    );
    dir.write(
        "b.tf",
        "resource \"aws_db_instance\" \"b\" { password = local.p }\nvariable \"pw\" {}\n",
    );
    dir.write(
        "c.tf.json",
        "{\"resource\": {\"aws_db_instance\": {\"c\": {\"password\": \"${local.j}\"}}}}\n",
    );
    let run = util::done(
        util::bin()
            .args(["migrate", &dir.s(".")])
            .output()
            .expect("run state-scrubber"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let all = run.all();
    assert!(all.contains("+  password_wo"), "{all}");
    for (name, canary) in [("p", &p), ("j", &j)] {
        assert!(!all.contains(canary.as_str()), "local {name} printed");
    }
    assert!(
        all.contains(" locals { p = \"***\" }\n") && all.contains(" locals { j = \"***\" }\n"),
        "{all}"
    );
}

/// The directory argument is named escaped too, in the "nothing to migrate" line.
#[test]
fn nothing_to_migrate_names_the_directory_escaped() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("env\u{1b}[2Jprod");
    std::fs::create_dir(&dir).unwrap();
    let out = util::bin().arg("migrate").arg(&dir).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr:?}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(
        stderr.contains("env\\u{1b}[2Jprod: nothing to migrate"),
        "{stderr:?}"
    );
}

/// A DIR that is not there is said so, in the operating system's words as `audit` says it
/// (exit 2); before, a typo read "nodir: not a directory". A file is still "not a directory".
#[test]
fn a_missing_directory_is_named_as_missing() {
    let parent = tempfile::tempdir().unwrap();
    std::fs::write(parent.path().join("main.tf"), "").unwrap();
    for (arg, want) in [
        (
            "no-such-dir",
            "no-such-dir: No such file or directory (os error 2)",
        ),
        ("main.tf", "main.tf: not a directory"),
    ] {
        let out = util::bin()
            .current_dir(parent.path())
            .args(["migrate", arg])
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{stderr:?}");
        assert_eq!(stderr, format!("error: {want}\n"));
    }
}

/// `migrate --write | head`: the reader of the diff goes away, and the files are still
/// migrated, quietly, as `audit` still writes its baseline (exit 0). Before, the failed print
/// of the diff returned before the write: exit 2, 'Broken pipe', nothing migrated. With stderr
/// closed too (`2>&1 | head`) the same. A dry run writes nothing either way. Stdout (and
/// stderr) are pipes whose read end is closed before the run starts, so every write fails.
#[cfg(unix)]
#[test]
fn a_closed_stdout_still_migrates_the_files() {
    let tf = "resource \"aws_db_instance\" \"a\" {\n  identifier = \"a\"\n  password   = var.pw\n}\nvariable \"pw\" {\n  sensitive = true\n}\n";
    for (write, close_stderr) in [(true, false), (true, true), (false, false)] {
        let dir = util::Dir::new();
        dir.write("main.tf", tf);
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut c = util::bin();
        c.args(["migrate", &dir.s(".")]);
        if write {
            c.arg("--write");
        }
        if close_stderr {
            c.stderr(writer.try_clone().unwrap());
        } else {
            c.stderr(std::process::Stdio::piped());
        }
        let run = util::done(c.stdout(writer).output().expect("run state-scrubber"));
        let case = format!("write {write}, stderr closed {close_stderr}");
        assert_eq!(run.code, 0, "{case}: {}", run.stderr);
        assert!(!run.stderr.contains("error"), "{case}: {}", run.stderr);
        let now = std::fs::read_to_string(dir.path().join("main.tf")).unwrap();
        if write {
            assert!(now.contains("password_wo"), "{case}: not migrated");
        } else {
            assert_eq!(now, tf, "{case}: a dry run wrote");
        }
    }
}

/// Bad input gets a clear error and loses nothing: with `--write`, a `.tf` file the parser
/// refuses, in a module read after others that would change (the root, `a/`) and before one
/// (`z/`), is exit 2 naming the file, line and column, and nothing is written: every file keeps
/// its bytes and no other file appears (no half-migrated directory, no temporary file). Its
/// secret-looking literal is not printed.
#[test]
fn an_unparsable_file_is_exit_2_and_nothing_is_written() {
    let dir = util::Dir::new();
    let good = "resource \"aws_db_instance\" \"a\" {\n  identifier = \"a\"\n  password   = var.pw\n}\nvariable \"pw\" {\n  sensitive = true\n}\n";
    let canary = util::random("abcdefghijklmnopqrstuvwxyz", 16);
    for rel in ["main.tf", "a/main.tf", "z/main.tf"] {
        dir.write(rel, good);
    }
    dir.write(
        "b/broken.tf",
        format!(
            "resource \"aws_db_instance\" \"b\" {{\n  password = \"{canary}\"\n  engine = \n}}\n"
        ),
    );
    let snapshot = |root: &std::path::Path| {
        let mut files = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    files.push((path.clone(), std::fs::read(&path).unwrap()));
                }
            }
        }
        files.sort();
        files
    };
    let before = snapshot(dir.path());
    let run = util::done(
        util::bin()
            .args(["migrate", "--write", &dir.s(".")])
            .output()
            .expect("run state-scrubber"),
    );
    assert!(
        !run.all().contains(&canary),
        "the broken file's literal printed"
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("broken.tf:3:") && run.stderr.contains("nothing was written"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        snapshot(dir.path()) == before,
        "a file was written, removed or added"
    );
}
