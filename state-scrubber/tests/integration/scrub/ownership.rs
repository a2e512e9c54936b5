//! The owner and group of a state file: scrub and restore replace it by a rename, and the new
//! file is the writer's. Terraform's local backend writes the state in place, so the owner it
//! had is the owner that must read and write it next.

use std::os::unix::fs::MetadataExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::*;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Whether every directory above `dir` lets other users through (a user the test runs scrub or
/// a shell as must reach files in it).
fn reachable_by_others(dir: &Path) -> bool {
    let mut up = dir.parent();
    while let Some(d) = up {
        if std::fs::metadata(d).unwrap().mode() & 0o001 == 0 {
            eprintln!(
                "note: {} is not searchable by others; test skipped",
                d.display()
            );
            return false;
        }
        up = d.parent();
    }
    true
}

fn owner(p: &Path) -> (u32, u32, u32) {
    let m = std::fs::metadata(p).unwrap();
    (m.uid(), m.gid(), m.mode() & 0o7777)
}

/// Review finding: run as root (`sudo state-scrubber scrub ...`, a CI container), scrub and
/// restore left the state owned by root: a state of mode 0640 owned by the user who runs
/// Terraform could no longer be read by them ("Failed to load state: open terraform.tfstate:
/// permission denied"). The new file now gets the owner and group of the one it replaces.
#[test]
fn the_state_keeps_its_owner_and_group() {
    if !is_root() {
        eprintln!("note: not root, cannot give a file another owner; ownership test skipped");
        return;
    }
    let Some(moto) = Moto::start() else { return };
    let (c, _dir, p, original) = canary_file();
    let ps = p.to_str().unwrap();
    std::os::unix::fs::chown(&p, Some(4242), Some(4343)).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();

    let o = scrub_file(&p, "own/app", &moto.url);
    assert_ok(&o);
    assert_no_canary_out(&c, &o);
    assert_ne!(std::fs::read_to_string(&p).unwrap(), original);
    assert_eq!(owner(&p), (4242, 4343, 0o640), "after scrub --write");

    let o = run(&write_args("restore", ps, "own/app", &moto.url), None);
    assert_ok(&o);
    assert_no_canary_out(&c, &o);
    assert_eq!(owner(&p), (4242, 4343, 0o640), "after restore --write");
}

/// A user who may replace the state (write permission on its directory) but cannot give a new
/// file its owner and group (not root) would leave it theirs: refused before anything is
/// stored, the file left as it is, with what to do instead.
#[test]
fn a_state_whose_owner_cannot_be_kept_is_refused_before_anything_is_stored() {
    if !is_root() || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("note: needs root and setpriv to run scrub as another user; test skipped");
        return;
    }
    let Some(moto) = Moto::start() else { return };
    let (c, dir, p, original) = canary_file();
    let ps = p.to_str().unwrap();
    // The directory is the runner's (uid 4242), the state another user's, writable by all.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(dir.path(), Some(4242), Some(4242)).unwrap();
    std::os::unix::fs::chown(&p, Some(4343), Some(4343)).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
    // tempdir's parent may be private: let uid 4242 reach the state.
    let mut up = dir.path().parent();
    while let Some(d) = up {
        let m = std::fs::metadata(d).unwrap();
        if m.mode() & 0o001 == 0 {
            eprintln!(
                "note: {} is not searchable by others; test skipped",
                d.display()
            );
            return;
        }
        up = d.parent();
    }
    let as_user = |command: &str| {
        let mut cmd = super::command(
            "/usr/bin/setpriv",
            &[
                "--reuid",
                "4242",
                "--regid",
                "4242",
                "--clear-groups",
                BIN,
                command,
                ps,
                "--write",
                "--prefix",
                "own/app",
                "--endpoint",
                &moto.url,
            ],
        );
        cmd.env("HOME", dir.path());
        cmd.output().unwrap()
    };
    for command in ["scrub", "restore"] {
        let o = as_user(command);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{command}: {err}");
        assert!(
            err.contains(&format!(
                "{ps}: --write would replace this file with one owned by"
            )) && err.contains("uid 4343, gid 4343"),
            "{command}: {err}"
        );
        assert_no_canary_out(&c, &o);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), original, "{command}");
        assert_eq!(owner(&p), (4343, 4343, 0o666), "{command}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["terraform.tfstate"], "{command}: files left behind");
    }
    assert!(
        names_at(&moto.url, "own/app").is_empty(),
        "something was stored"
    );
}

/// A directory the runner may not write to: the new state cannot be made there. Refused before
/// anything is stored, saying so (not as a failure to check the owner).
#[test]
fn a_state_in_a_directory_the_runner_cannot_write_is_refused_before_anything_is_stored() {
    if !is_root() || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("note: needs root and setpriv to run scrub as another user; test skipped");
        return;
    }
    let Some(moto) = Moto::start() else { return };
    let (c, dir, p, original) = canary_file();
    let ps = p.to_str().unwrap();
    // The state is the runner's (uid 4242); its directory root's, not writable by others.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&p, Some(4242), Some(4242)).unwrap();
    let mut up = dir.path().parent();
    while let Some(d) = up {
        if std::fs::metadata(d).unwrap().mode() & 0o001 == 0 {
            eprintln!(
                "note: {} is not searchable by others; test skipped",
                d.display()
            );
            return;
        }
        up = d.parent();
    }
    let mut cmd = super::command(
        "/usr/bin/setpriv",
        &[
            "--reuid",
            "4242",
            "--regid",
            "4242",
            "--clear-groups",
            BIN,
            "scrub",
            ps,
            "--write",
            "--prefix",
            "own/dir",
            "--endpoint",
            &moto.url,
        ],
    );
    cmd.env("HOME", dir.path());
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is not writable by this user")
            && err.contains("nothing was stored or written"),
        "{err}"
    );
    assert_no_canary_out(&c, &o);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
    assert!(
        names_at(&moto.url, "own/dir").is_empty(),
        "something was stored"
    );
}

/// Review finding: a scrub run as root and killed outright (SIGKILL, OOM) leaves
/// `.terraform.tfstate.lock.info` behind, which the README says Terraform writes over; it was
/// root's, mode 0600, and Terraform run as the state's owner failed to open it for writing
/// ("Error acquiring the state lock: ... permission denied"). It now gets the state's owner.
#[test]
fn lock_info_left_by_a_killed_root_scrub_is_the_state_owners() {
    if !is_root() || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("note: needs root and setpriv; test skipped");
        return;
    }
    let Some(moto) = Moto::start() else { return };
    let (c, dir, p, _) = canary_file();
    if !reachable_by_others(dir.path()) {
        return;
    }
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(dir.path(), Some(4242), Some(4343)).unwrap();
    std::os::unix::fs::chown(&p, Some(4242), Some(4343)).unwrap();
    let relay = super::signals::HoldingRelay::start(&moto.url, b"secretsmanager.CreateSecret");
    let mut child = spawn(&write_args(
        "scrub",
        p.to_str().unwrap(),
        "own/kill",
        &relay.url,
    ));
    relay.wait_reached(&mut child);
    kill(&["-KILL", &child.id().to_string()]);
    let o = child.wait_with_output().unwrap();
    assert_no_canary_out(&c, &o);
    let info = dir.path().join(".terraform.tfstate.lock.info");
    let m = std::fs::symlink_metadata(&info).expect("lock info left behind");
    assert_eq!((m.uid(), m.gid()), (4242, 4343), "lock info owner");
    // What Terraform does to take the lock: open it for writing, as the state's owner.
    let st = Command::new("/usr/bin/setpriv")
        .args([
            "--reuid",
            "4242",
            "--regid",
            "4343",
            "--clear-groups",
            "sh",
            "-c",
        ])
        .arg(format!("echo '{{}}' > '{}'", info.display()))
        .status()
        .unwrap();
    assert!(
        st.success(),
        "the state's owner cannot write over the lock info"
    );
}
