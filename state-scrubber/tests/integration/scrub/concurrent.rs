//! Two `scrub --write` runs on states of one lineage under one prefix (a state and its
//! `.backup`, scrubbed in parallel by `xargs -P` or from two terminals): they share the manifest
//! and the secrets, and what one stores depends on what the other has recorded.

use super::signals::HoldingRelay;
use super::*;

/// Review finding: the scrub of `terraform.tfstate.backup` (serial 9), run while the scrub of
/// `terraform.tfstate` (serial 10) was storing, did not see it in the manifest, took itself for
/// the newest state and put its older values on the same secrets: AWSCURRENT ended on the
/// backup's (older) values, which the README says an older state never does. Scrubs of one
/// lineage under one prefix now run one at a time: the second waits for the first (saying so),
/// then finds it in the manifest and stores the values that differ under names of their own.
#[test]
fn two_states_of_one_lineage_are_not_scrubbed_at_once() {
    let Some(moto) = Moto::start() else { return };
    let n = 2;
    let new: Vec<String> = (0..n).map(|_| canary()).collect();
    let old: Vec<String> = (0..n).map(|_| canary()).collect();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("terraform.tfstate");
    let backup = dir.path().join("terraform.tfstate.backup");
    let state_text = twin_state(10, n, |i| new[i].clone());
    let backup_text = twin_state(9, n, |i| old[i].clone());
    std::fs::write(&state, &state_text).unwrap();
    std::fs::write(&backup, &backup_text).unwrap();
    let (ss, bs) = (state.to_str().unwrap(), backup.to_str().unwrap());
    let prefix = "cc/app";

    // The newest state's scrub, held at its first CreateSecret: it has read the manifest (none
    // yet) and is storing.
    let relay = HoldingRelay::start(&moto.url, b"secretsmanager.CreateSecret");
    let mut first = spawn(&write_args("scrub", ss, prefix, &relay.url));
    relay.wait_reached(&mut first);
    // Meanwhile the backup's, its stderr in a file to watch.
    let log = dir.path().join("second.err");
    let mut second = command(BIN, &write_args("scrub", bs, prefix, &moto.url))
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let err = std::fs::read_to_string(&log).unwrap();
        if err.contains("waiting: another `state-scrubber scrub --write` of lineage 7c1f0d2e-0000-4000-8000-0000000b4c0f under --prefix cc/app is running") {
            break;
        }
        if second.try_wait().unwrap().is_some() || Instant::now() > deadline {
            // Before the fix: it ran to its end meanwhile. Go on, and let the checks below say
            // what that did.
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(relay); // lets the held answer through
    let o = first.wait_with_output().unwrap();
    assert_ok(&o);
    let o2 = second.wait_with_output().unwrap();
    let err2 = std::fs::read(&log).unwrap();
    for v in new.iter().chain(&old) {
        assert_no_canary_out(v, &o);
        assert_no_canary(v, "stdout", &o2.stdout);
        assert_no_canary(v, "stderr", &err2);
    }
    assert_eq!(
        o2.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&err2)
    );

    // What the newest state holds is what each secret's AWSCURRENT holds.
    let store = rt().block_on(moto_client(&moto.url));
    for (i, want) in new.iter().enumerate() {
        let name = format!("{prefix}/aws_secretsmanager_secret_version.app_{i:04}/secret_string");
        let current = rt()
            .block_on(store.get_value(&name, VersionSelector::Current))
            .unwrap();
        assert!(
            current.value.expose_str().ok() == Some(want.as_str()),
            "{name}: AWSCURRENT is not the value of the newest state (serial 10)"
        );
    }
    // Each state restores its own values.
    for (p, text, serial) in [(ss, &state_text, 10), (bs, &backup_text, 9)] {
        let o = run(&write_args("restore", p, prefix, &moto.url), None);
        assert_ok(&o);
        let mut want = json(text.as_bytes());
        want["serial"] = (serial + 2).into();
        assert!(
            json(&std::fs::read(p).unwrap()) == want,
            "{p}: restore did not give back this state's values"
        );
    }
    // The second one said that it waited.
    let err2 = String::from_utf8_lossy(&err2);
    assert!(err2.contains("waiting: another"), "{err2}");
}

/// A scrub waiting for another one of its lineage stops on Ctrl-C with nothing stored, its
/// state file as it was, and Terraform's lock on it released.
#[test]
fn a_scrub_waiting_for_its_lineage_stops_on_ctrl_c() {
    let Some(moto) = Moto::start() else { return };
    let (c, dir, p, original) = canary_file();
    let lineage = json(original.as_bytes())["lineage"]
        .as_str()
        .unwrap()
        .to_string();
    // Held as another scrub of this lineage under `w/app` would hold it.
    let held = std::fs::File::create(state_scrubber::scrub::lock::LineageLock::path(
        "w/app", &lineage,
    ))
    .unwrap();
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(
        unsafe { libc::flock(std::os::unix::io::AsRawFd::as_raw_fd(&held), libc::LOCK_EX) },
        0
    );
    let log = dir.path().join("err");
    let mut child = command(
        BIN,
        &write_args("scrub", p.to_str().unwrap(), "w/app", &moto.url),
    )
    .stderr(std::fs::File::create(&log).unwrap())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log)
        .unwrap()
        .contains("waiting: another")
    {
        assert!(child.try_wait().unwrap().is_none(), "ended without waiting");
        assert!(Instant::now() < deadline, "never said it waits");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(&["-INT", &child.id().to_string()]);
    let o = child.wait_with_output().unwrap();
    let err = std::fs::read(&log).unwrap();
    assert_no_canary(&c, "stderr", &err);
    assert_no_canary(&c, "stdout", &o.stdout);
    let err = String::from_utf8_lossy(&err);
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(o.status.signal(), Some(libc::SIGINT), "{err}");
    assert!(
        err.contains("stopped by SIGINT while waiting for another scrub of its lineage: nothing was stored and the state file is as it was"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
    assert!(!dir.path().join(".terraform.tfstate.lock.info").exists());
    assert!(names_at(&moto.url, "w/app").is_empty());
}

/// Review finding: every `scrub --write` left an empty `state-scrubber-DIGEST.lock` in the
/// temporary directory. It now goes when the run ends.
#[test]
fn a_scrub_leaves_no_lineage_lock_file() {
    let Some(moto) = Moto::start() else { return };
    let (c, dir, p, _original) = canary_file();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let o = command(
        BIN,
        &write_args("scrub", p.to_str().unwrap(), "lk/app", &moto.url),
    )
    .env("TMPDIR", &tmp)
    .output()
    .unwrap();
    assert_ok(&o);
    assert_no_canary_out(&c, &o);
    let left: Vec<String> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "left in the temporary directory: {left:?}");
}
