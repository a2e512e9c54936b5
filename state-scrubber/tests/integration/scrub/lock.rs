//! Terraform's lock (src/scrub/lock.rs), and dry runs while Terraform holds it.

use super::*;

// ---- Terraform's lock (src/scrub/lock.rs) ------------------------------------------------------

/// A plan or apply waiting for the lock with `-lock-timeout` holds the old file open and takes
/// the lock on it once scrub lets go, however scrub ends. The old file must hold no state from
/// the moment the rename took it from the path, not only once scrub ends normally: a scrub
/// killed (SIGKILL, Ctrl-C, OOM) after its rename, here while it opens `--backup` (a FIFO no
/// one reads, so it waits there), let such a Terraform read the plaintext state from the old
/// file and write its apply into a file no path names. Before the fix the old file was
/// overwritten only when the lock was dropped at the end of the run.
#[test]
fn a_scrub_killed_after_its_rename_leaves_no_state_in_the_old_file() {
    use std::io::{Read as _, Seek as _};
    use std::os::unix::fs::MetadataExt;
    let Some(moto) = Moto::start() else { return };
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    std::fs::write(&p, canary_state(&c)).unwrap();
    let fifo = dir.path().join("backup.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // restore takes the same path (emit_state), but prints nothing after its rename but one
    // line, which gives no reliable place to stop it.
    let command = "scrub";
    {
        // What a waiting Terraform holds: the file at the path when it started.
        let mut held = std::fs::File::open(&p).unwrap();
        let ino = held.metadata().unwrap().ino();
        let (ps, fs) = (p.to_str().unwrap(), fifo.to_str().unwrap());
        let mut cmd = Command::new(BIN);
        cmd.args([
            command,
            ps,
            "--write",
            "--prefix",
            "killed/app",
            "--backup",
            fs,
        ])
        .args(["--endpoint", moto.url.as_str()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        for (k, v) in aws_env() {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::fs::metadata(&p).unwrap().ino() == ino {
            assert!(
                child.try_wait().unwrap().is_none(),
                "{command} ended before its rename"
            );
            assert!(Instant::now() < deadline, "{command} never renamed");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            child.try_wait().unwrap().is_none(),
            "{command} is still running (waiting after its rename)"
        );
        let _ = child.kill(); // SIGKILL: no destructor runs
        let _ = child.wait();
        let mut old = Vec::new();
        held.seek(std::io::SeekFrom::Start(0)).unwrap();
        held.read_to_end(&mut old).unwrap();
        assert_no_canary(&c, "the old file after the kill", &old);
        assert!(
            old.starts_with(b"state-scrubber replaced this state file"),
            "{command}: the old file still holds a state after the kill ({} bytes)",
            old.len()
        );
        let new = std::fs::read(&p).unwrap();
        assert!(json(&new).is_object(), "the new state is at the path");
        assert_no_canary(&c, "the new state", &new);
    }
}

/// `--write` errors of the lock, before anything is stored: each says what happened once (the
/// OS error was printed twice, `locking X: E: E`), a missing state is an error of the read as
/// before the lock, and a FIFO, a device or a directory is refused as not a state file rather
/// than locked and read (`reading X: Illegal seek`).
#[test]
fn lock_errors_name_the_file_and_the_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let nope = dir.path().join("nope.tfstate");
    let fifo = dir.path().join("fifo.tfstate");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for command in ["scrub", "restore"] {
        let write = |p: &Path| {
            let ps = p.to_str().unwrap();
            let args = [command, ps, "--write", "--prefix", "lock/app"];
            // No store is needed: every one of these stops before it is contacted.
            let o = run(
                &[&args[..], &["--endpoint", "http://127.0.0.1:9"]].concat(),
                None,
            );
            assert_eq!(o.status.code(), Some(2));
            String::from_utf8_lossy(&o.stderr).into_owned()
        };
        let err = write(&nope);
        assert!(
            err.contains(&format!(
                "reading {}: No such file or directory",
                nope.display()
            )),
            "{err}"
        );
        assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
        for p in [fifo.as_path(), dir.path(), Path::new("/dev/null")] {
            let err = write(p);
            assert!(
                err.contains(&format!("{}: not a regular file", p.display())),
                "{err}"
            );
            assert!(err.contains("nothing was"), "{err}");
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".lock.info"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

/// A state with a second name (hard link, a `cp -al` snapshot): `--write` would rename a new
/// file over one name and leave the old state, plaintext included, under the other, where a
/// Terraform waiting for the lock also reads it and writes its apply. Refused before anything
/// is stored, both names left as they were.
#[test]
fn a_hard_linked_state_is_refused_before_anything_is_stored() {
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    let original = canary_state(&c);
    std::fs::write(&p, &original).unwrap();
    let other = dir.path().join("snapshot.tfstate");
    std::fs::hard_link(&p, &other).unwrap();
    let ps = p.to_str().unwrap();
    for command in ["scrub", "restore"] {
        let o = run(
            &[
                command,
                ps,
                "--write",
                "--prefix",
                "linked/app",
                "--endpoint",
                "http://127.0.0.1:9",
            ],
            None,
        );
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_no_canary(&c, "stderr", &o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("{ps} has 2 names (hard links)")),
            "{err}"
        );
        assert!(err.contains("nothing was"), "{err}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
        assert_eq!(std::fs::read_to_string(&other).unwrap(), original);
    }
}

// ---- a dry run while Terraform holds the lock --------------------------------------------------

/// Terraform's lock on the state `p` in `dir`, as an apply holds it: a classic POSIX write lock
/// and its lock info. Held while the returned file is open.
fn terraform_apply_lock(dir: &Path, p: &Path) -> std::fs::File {
    use std::os::fd::AsRawFd;
    let theirs = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(p)
        .unwrap();
    // SAFETY: an all-zero `flock` is valid; the pointer outlives the call.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_WRLCK as _;
    fl.l_whence = libc::SEEK_SET as _;
    // SAFETY: as above.
    assert_eq!(
        unsafe { libc::fcntl(theirs.as_raw_fd(), libc::F_SETLK, &fl as *const libc::flock) },
        0
    );
    std::fs::write(
        dir.join(".terraform.tfstate.lock.info"),
        br#"{"ID":"4d3f6c1e-0000-4000-8000-000000000002","Operation":"OperationTypeApply","Info":"","Who":"ci@runner","Version":"1.15.0","Created":"2026-11-26T10:00:00.5Z","Path":"terraform.tfstate"}"#,
    )
    .unwrap();
    theirs
}

/// `scrub` or `restore` (`command`) of `state` without --write, against an endpoint where nothing
/// listens: its reads of Secrets Manager fail at once.
fn dry_run_with_no_endpoint(command: &str, state: &str) -> std::process::Output {
    run(
        &[
            command,
            state,
            "--prefix",
            "busy/app",
            "--endpoint",
            "http://127.0.0.1:9",
        ],
        None,
    )
}

/// restore's dry run, like scrub's, takes no lock and says when Terraform holds one (it used to
/// say nothing: a plan shown from a state an apply was rewriting).
#[test]
fn a_restore_dry_run_says_when_terraform_holds_the_lock() {
    let (c, dir, p, _) = canary_file();
    let ps = p.to_str().unwrap();
    let dry = || dry_run_with_no_endpoint("restore", ps);
    let said = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let before = dry();
    assert!(!said(&before).contains("is locked by another process"));
    let theirs = terraform_apply_lock(dir.path(), &p);
    let o = dry();
    assert_eq!(o.status.code(), before.status.code(), "{}", said(&o));
    let out = said(&o);
    assert!(
        out.contains("is locked by another process (lock info: ID 4d3f6c1e-0000-4000-8000-000000000002, operation OperationTypeApply, who ci@runner")
            && out.contains("This dry run took no lock"),
        "{out}"
    );
    assert_no_canary_out(&c, &o);
    drop(theirs);
}

/// A dry run takes no lock: a shared lock held while it reads Secrets Manager would make a
/// `terraform plan` or `apply` started meanwhile fail to take its own (it does not wait unless
/// given -lock-timeout). But Terraform's local backend rewrites the state in place (truncate,
/// write), so a dry run during an apply may read a state being rewritten: it now asks, without
/// locking, whether a lock is held, and says so (with the holder's lock info), in its notes or
/// with the error a state cut short gives.
#[test]
fn a_dry_run_says_when_terraform_holds_the_lock_and_takes_none() {
    let (c, dir, p, state) = canary_file();
    let ps = p.to_str().unwrap();
    // Nothing listens there: the dry run's reads fail at once (and it says so in a note).
    let dry = || dry_run_with_no_endpoint("scrub", ps);
    let o = dry();
    assert_ok(&o);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("is locked by another process"));

    let theirs = terraform_apply_lock(dir.path(), &p);
    let o = dry();
    assert_ok(&o);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("is locked by another process (lock info: ID 4d3f6c1e-0000-4000-8000-000000000002, operation OperationTypeApply, who ci@runner"),
        "{out}"
    );
    assert!(
        out.contains("This dry run took no lock") && out.contains("Run the dry run again once"),
        "{out}"
    );
    assert!(
        out.contains("nothing was written"),
        "the plan is still shown: {out}"
    );
    assert_no_canary_out(&c, &o);

    // A state read while Terraform rewrote it (cut short): the error says why it may be.
    theirs.set_len((state.len() / 2) as u64).unwrap();
    let o = dry();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains("is locked by another process") && err.contains("OperationTypeApply"),
        "{err}"
    );
    assert_no_canary_out(&c, &o);
    drop(theirs);
}
