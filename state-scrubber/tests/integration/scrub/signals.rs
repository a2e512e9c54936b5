//! SIGINT / SIGTERM during `--write`, and pipelines whose reader went away.

use super::*;

// ---- SIGINT / SIGTERM during --write -------------------------------------------------------------

/// A TCP relay to `upstream` that holds the answer to the first request carrying `marker` (an
/// `X-Amz-Target` such as `secretsmanager.CreateSecret`) until `release` is set: the request
/// reaches moto, its answer does not reach the client. `reached` is set while it holds.
pub(super) struct HoldingRelay {
    pub(super) url: String,
    reached: std::sync::Arc<std::sync::atomic::AtomicBool>,
    release: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl HoldingRelay {
    pub(super) fn start(upstream: &str, marker: &'static [u8]) -> HoldingRelay {
        Self::start_nth(upstream, marker, 1)
    }

    /// Holds the answer to the `nth` request carrying `marker` (1: the first).
    fn start_nth(upstream: &str, marker: &'static [u8], nth: usize) -> HoldingRelay {
        use std::io::{Read as _, Write as _};
        use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
        use std::sync::Arc;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let upstream = upstream.trim_start_matches("http://").to_string();
        let (reached, release) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let hold = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (r2, rel2) = (reached.clone(), release.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(down) = conn else { return };
                let Ok(up) = TcpStream::connect(&upstream) else {
                    return;
                };
                let (mut d_in, mut u_out) = (down.try_clone().unwrap(), up.try_clone().unwrap());
                let (mut u_in, mut d_out) = (up, down);
                let (hold_a, seen) = (hold.clone(), seen.clone());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    loop {
                        let n = match d_in.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if buf[..n].windows(marker.len()).any(|w| w == marker)
                            && seen.fetch_add(1, SeqCst) + 1 == nth
                        {
                            hold_a.store(true, SeqCst);
                        }
                        if u_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = u_out.shutdown(std::net::Shutdown::Write);
                });
                let (hold_b, reached, release) = (hold.clone(), r2.clone(), rel2.clone());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    loop {
                        let n = match u_in.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        while hold_b.load(SeqCst) && !release.load(SeqCst) {
                            reached.store(true, SeqCst);
                            std::thread::sleep(Duration::from_millis(10));
                        }
                        if d_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = d_out.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        HoldingRelay {
            url: format!("http://127.0.0.1:{port}"),
            reached,
            release,
        }
    }

    pub(super) fn wait_reached(&self, child: &mut std::process::Child) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.reached.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(
                child.try_wait().unwrap().is_none(),
                "ended before the held call"
            );
            assert!(Instant::now() < deadline, "never reached the held call");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for HoldingRelay {
    fn drop(&mut self) {
        self.release
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Ended by the signal whose shell status is `code` (130: SIGINT, 143: SIGTERM), as a command
/// stopped by it must for a script running it to stop too.
fn assert_stopped_by(o: &Output, code: i32, what: &str) {
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(o.status.signal(), Some(code - 128), "{what}");
}

/// `state-scrubber ARGS` in the background reading `input` on stdin, output piped.
fn spawn_fed(args: &[&str], input: &[u8]) -> std::process::Child {
    let mut child = command(BIN, args).stdin(Stdio::piped()).spawn().unwrap();
    feed(&mut child, input);
    child
}

/// Send `signal` (`INT`, `TERM`) to `child`.
fn send_signal(child: &std::process::Child, signal: &str) {
    kill(&[&format!("-{signal}"), &child.id().to_string()]);
}

/// Send `signal` (`INT`, `TERM`) to `child` and wait (60 s at most) for it to end.
fn signal_and_wait(child: std::process::Child, signal: &str) -> Output {
    send_signal(&child, signal);
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &id.to_string()])
                .status();
            panic!("did not stop within 60 s of SIG{signal}");
        }
    }
}

/// Review finding: SIGINT or SIGTERM during `scrub --write` / `restore --write` killed the
/// process where it stood and left `.terraform.tfstate.lock.info` behind (harmless to
/// Terraform, which overwrites it, but confusing), with nothing said about what was stored.
/// Now a scrub held at its first CreateSecret answer, signalled, stops there: exit 130
/// (SIGINT) or 143 (SIGTERM), the state byte for byte as it was, no lock info, the secrets whose
/// calls were cut short named (no value anywhere), those stored before named as stored, the
/// lock free for the next taker, and a re-run finds the values stored. The same for restore, held at its first read.
#[test]
fn a_signal_stops_write_at_a_safe_point_and_leaves_no_lock() {
    use state_scrubber::scrub::lock::{info_path, StateLock};
    let Some(moto) = Moto::start() else { return };
    // SIGINT at the third CreateSecret (at most two stored before it), SIGTERM at the first.
    for (signal, code, nth) in [("INT", 130, 3), ("TERM", 143, 1)] {
        let (c, dir, p, original) = canary_file();
        let prefix = format!("sig{code}/app");
        let ps = p.to_str().unwrap();
        let info = info_path(&p);

        let relay = HoldingRelay::start_nth(&moto.url, b"secretsmanager.CreateSecret", nth);
        let mut child = spawn(&write_args("scrub", ps, &prefix, &relay.url));
        relay.wait_reached(&mut child);
        assert!(info.exists(), "scrub holds the lock and wrote its info");
        let o = signal_and_wait(child, signal);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_stopped_by(&o, code, &format!("SIG{signal}: {err}"));
        assert_no_canary_out(&c, &o);
        assert!(
            err.contains(&format!(
                "stopped by SIG{signal} before the state was written"
            )),
            "{err}"
        );
        assert!(err.contains("Run the same command again"), "{err}");
        // Values are stored a few at a time (scrub::IN_FLIGHT): the calls under way when the
        // signal came are cut short, each named; those whose answers came before are named as
        // stored. From the held answer on, the relay holds every answer.
        let list = |from: &str, to: &str| -> Vec<String> {
            err.split(from)
                .nth(1)
                .map(|rest| {
                    rest.split(to)
                        .next()
                        .unwrap()
                        .split(", ")
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let stored = list("value(s) were already stored in Secrets Manager: ", ";");
        let cut = list("the store call for ", " was cut short");
        let cut: Vec<String> = cut
            .into_iter()
            .map(|n| n.trim_start_matches("each of ").to_string())
            .collect();
        assert!(!cut.is_empty(), "no call named as cut short: {err}");
        assert!(
            stored.len() < nth && stored.len() + cut.len() >= nth,
            "{nth}: stored {stored:?}, cut short {cut:?}: {err}"
        );
        let at_moto = names_at(&moto.url, &prefix);
        for n in stored.iter().chain(&cut) {
            assert!(n.starts_with(&format!("{prefix}/")), "{n}: {err}");
        }
        for n in &stored {
            assert!(at_moto.contains(n), "{n} listed as stored, not at moto");
        }
        if stored.is_empty() {
            assert!(
                err.contains("no value was stored in Secrets Manager by this run"),
                "{err}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            original,
            "the old state, byte for byte"
        );
        assert!(!info.exists(), "no lock info left");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left");
        drop(relay);
        // The lock is free: Terraform (here, the same fcntl lock) or a second scrub takes it.
        drop(StateLock::acquire(&p, "test", "taken").expect("the lock is free"));
        assert!(!info.exists());
        let o = scrub_file(&p, &prefix, &moto.url);
        assert_ok(&o);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            out.contains(": already there"),
            "the cut-short value was found: {out}"
        );
        assert_no_canary(&c, "re-run stdout", &o.stdout);
        let scrubbed = std::fs::read_to_string(&p).unwrap();
        assert_no_canary(&c, "scrubbed state", scrubbed.as_bytes());

        // restore, held at its first read (the manifest).
        let relay = HoldingRelay::start(&moto.url, b"secretsmanager.GetSecretValue");
        let mut child = spawn(&write_args("restore", ps, &prefix, &relay.url));
        relay.wait_reached(&mut child);
        assert!(info.exists());
        let o = signal_and_wait(child, signal);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_stopped_by(&o, code, &format!("restore SIG{signal}: {err}"));
        assert!(err.contains("before the state was written"), "{err}");
        assert_no_canary(&c, "restore stdout", &o.stdout);
        assert_no_canary(&c, "restore stderr", &o.stderr);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), scrubbed);
        assert!(!info.exists(), "no lock info left by restore");
        drop(StateLock::acquire(&p, "test", "taken").expect("the lock is free"));
    }
}

/// Review finding: in the pipeline form (`... | scrub - --write | terraform state push -`), a
/// reader that went away (`terraform state push` stopped by the same Ctrl-C, or failed) made
/// the write of the state to stdout fail after every value was stored and the manifest saved
/// with the serial the state was to get: scrub exited with "writing the state to stdout:
/// Broken pipe" and kept those entries, naming a serial no state was pushed with (the file form
/// takes them back when its write is refused). Now they are taken back, and the message says
/// the state was not pushed and what was already stored.
#[test]
fn a_pipeline_whose_reader_went_away_takes_back_its_manifest_entries() {
    let Some(moto) = Moto::start() else { return };
    let c = canary();
    let mut child = command(BIN, &write_args("scrub", "-", "gone/app", &moto.url))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader is gone before scrub writes a byte of the state.
    drop(child.stdout.take());
    feed(&mut child, canary_state(&c).as_bytes());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert_no_canary(&c, "stderr", &o.stderr);
    assert!(err.contains("taken out of the manifest again"), "{err}");
    // Review finding: the message had a run of 18 blanks in it (a string continued on the next
    // source line without a backslash).
    assert!(
        err.contains(
            "did not get it whole, so it pushed nothing; every value is in Secrets Manager"
        ),
        "{err}"
    );
    let m = manifest_at(
        &moto.url,
        "gone/app",
        "6b0e2b9c-0000-4000-8000-00000000c4a1",
    )
    .unwrap_or_default();
    assert!(
        m.entries.iter().all(|e| e.serial != Some(4)),
        "the manifest keeps entries for serial 4, which no state was pushed with"
    );
}

/// Review finding: scrub stopped by Ctrl-C exited with status 130 instead of ending by SIGINT,
/// so a shell script running it (`for s in */terraform.tfstate; do state-scrubber scrub "$s"
/// --write ...; done`) took the Ctrl-C as handled by scrub and went on: the next command of the
/// loop ran, here a second scrub that wrote the state the user had just stopped. (Bash ends a
/// script on SIGINT only when its foreground command died of it.) Now scrub, once stopped at
/// its safe point, ends by the signal itself (the shell still shows 130 / 143), and the loop
/// stops with it.
#[test]
fn a_script_running_scrub_stops_with_it_on_ctrl_c() {
    use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
    let Some(moto) = Moto::start() else { return };
    let (c, _dir, p, original) = canary_file();
    let relay = HoldingRelay::start(&moto.url, b"secretsmanager.CreateSecret");
    let script = format!(
        "for i in 1 2; do \"$0\" scrub '{}' --write --prefix loop/app --endpoint '{}' >/dev/null; echo \"after scrub $i: $?\"; done",
        p.display(),
        relay.url
    );
    let mut bash = command("bash", &["-c", &script, BIN])
        .process_group(0)
        .spawn()
        .unwrap();
    relay.wait_reached(&mut bash);
    // Ctrl-C: SIGINT to the whole foreground process group (bash and scrub).
    kill(&["-INT", "--", &format!("-{}", bash.id())]);
    let o = bash.wait_with_output().unwrap();
    drop(relay);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_no_canary_out(&c, &o);
    assert!(
        !out.contains("after scrub"),
        "the script went on after the Ctrl-C: {out}{err}"
    );
    assert_eq!(o.status.signal(), Some(libc::SIGINT), "{out}{err}");
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        original,
        "the state the user stopped scrubbing was not written"
    );
}

/// The manifest save is not cut short by a first SIGINT (a half-saved manifest would lose
/// entries); a second one ends the run at once, by the signal: the state as it was, no lock
/// info left, the lock free, no value anywhere.
#[test]
fn a_second_signal_during_the_manifest_save_stops_at_once() {
    use state_scrubber::scrub::lock::{info_path, StateLock};
    let Some(moto) = Moto::start() else { return };
    let (c, _dir, p, original) = canary_file();
    let prefix = "twice/app";
    let info = info_path(&p);
    // The manifest's CreateSecret (the values' are sent with other names).
    let marker: &'static [u8] = Box::leak(
        format!("\"Name\":\"{prefix}/.offstate-manifest")
            .into_bytes()
            .into_boxed_slice(),
    );
    let relay = HoldingRelay::start(&moto.url, marker);
    let mut child = spawn(&write_args(
        "scrub",
        p.to_str().unwrap(),
        prefix,
        &relay.url,
    ));
    relay.wait_reached(&mut child);
    send_signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        child.try_wait().unwrap().is_none(),
        "a first signal does not cut the manifest save short"
    );
    let o = signal_and_wait(child, "INT");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_stopped_by(&o, 130, &err);
    assert!(
        err.contains("SIGINT received again: stopped at once"),
        "{err}"
    );
    assert_no_canary_out(&c, &o);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
    assert!(!info.exists(), "no lock info left");
    drop(relay);
    drop(StateLock::acquire(&p, "test", "taken").expect("the lock is free"));
}

/// The pipeline form stopped by SIGTERM during a store call prints no state (so `terraform
/// state push -` gets none, and refuses empty input), says so rather than speaking of a state
/// file, and ends by the signal.
#[test]
fn a_pipeline_stopped_by_a_signal_prints_no_state() {
    let Some(moto) = Moto::start() else { return };
    let c = canary();
    let relay = HoldingRelay::start(&moto.url, b"secretsmanager.CreateSecret");
    let mut child = spawn_fed(
        &write_args("scrub", "-", "pipesig/app", &relay.url),
        canary_state(&c).as_bytes(),
    );
    relay.wait_reached(&mut child);
    let o = signal_and_wait(child, "TERM");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_stopped_by(&o, 143, &err);
    assert!(o.stdout.is_empty(), "a state was printed");
    assert!(err.contains("no state was printed on stdout"), "{err}");
    assert_no_canary(&c, "stderr", &o.stderr);
}

/// Review finding: a scrub started with SIGINT ignored (`state-scrubber scrub ... --write &`
/// from a script: a shell without job control starts background commands so, and a Ctrl-C at
/// the terminal is then for the foreground only) was stopped by that Ctrl-C anyway, since
/// installing the handler replaced the inherited SIG_IGN. Now an ignored signal stays ignored:
/// the scrub goes on and writes the state.
#[test]
fn a_scrub_started_with_sigint_ignored_ignores_it() {
    use std::os::unix::process::CommandExt as _;
    let Some(moto) = Moto::start() else { return };
    let (c, _dir, p, _) = canary_file();
    let relay = HoldingRelay::start(&moto.url, b"secretsmanager.CreateSecret");
    let mut cmd = command(
        BIN,
        &write_args("scrub", p.to_str().unwrap(), "ign/app", &relay.url),
    );
    // SAFETY: only async-signal-safe calls between fork and exec. Runs after `command`'s own
    // reset to the default action (closures run in the order they were added).
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    relay.wait_reached(&mut child);
    send_signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "an ignored SIGINT stopped it"
    );
    drop(relay);
    let o = child.wait_with_output().unwrap();
    assert_ok(&o);
    assert_no_canary_out(&c, &o);
    assert_no_canary(&c, "state", &std::fs::read(&p).unwrap());
}

/// Review finding: the signal thread wrote its messages to stderr itself. With stderr blocked
/// (a pipe no one reads, full), the first signal's message blocked that thread, so a second
/// signal was never acted on: the run hung, Ctrl-C after Ctrl-C, until killed. Now the messages
/// are written on threads of their own, and a second signal ends the run within seconds.
#[test]
fn a_second_signal_ends_the_run_while_stderr_is_blocked() {
    use std::io::Read as _;
    use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
    use std::os::unix::process::ExitStatusExt as _;
    let Some(moto) = Moto::start() else { return };
    let (c, _dir, p, original) = canary_file();
    // A pipe for stderr, filled to the brim before scrub starts: its first write blocks.
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) returns.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors were just made and are owned here only.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: fcntl on a descriptor owned here; a write from a valid buffer.
    unsafe {
        let flags = libc::fcntl(w.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(w.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
        let block = [b'x'; 4096];
        while libc::write(w.as_raw_fd(), block.as_ptr().cast(), block.len()) > 0 {}
        libc::write(w.as_raw_fd(), block.as_ptr().cast(), 1);
        libc::fcntl(w.as_raw_fd(), libc::F_SETFL, flags);
    }
    let relay = HoldingRelay::start(&moto.url, b"secretsmanager.CreateSecret");
    let mut cmd = command(
        BIN,
        &write_args("scrub", p.to_str().unwrap(), "blocked/app", &relay.url),
    );
    cmd.stdout(Stdio::null()).stderr(Stdio::from(w));
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    relay.wait_reached(&mut child);
    send_signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(500));
    send_signal(&child, "INT");
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a second SIGINT did not end the run while stderr was blocked");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.signal(), Some(libc::SIGINT));
    drop(relay);
    let mut err = Vec::new();
    std::fs::File::from(r).read_to_end(&mut err).unwrap();
    assert_no_canary(&c, "stderr", &err);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
    assert!(!state_scrubber::scrub::lock::info_path(&p).exists());
}

/// Review finding: a SIGINT that came after the last point to stop at (the state written; the
/// stale manifest pages being deleted, the --backup being written) was announced as "stopping
/// at the next safe point", and the run then ended as if none had come (0, or 1 on an error):
/// a shell script running scrub took the Ctrl-C as handled and went on to its next command,
/// what ending by the signal is for. Now the run, once finished, ends by the signal too.
#[test]
fn a_signal_after_the_state_was_written_still_ends_the_run_by_it() {
    use state_scrubber::scrub::lock::info_path;
    let Some(moto) = Moto::start() else { return };
    let (c, dir, p, original) = canary_file();
    // --backup is a FIFO: its open waits for a reader, holding the run after the state was
    // written.
    let fifo = dir.path().join("backup.fifo");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let mut args = write_args("scrub", p.to_str().unwrap(), "late/app", &moto.url).to_vec();
    args.extend(["--backup", fifo.to_str().unwrap()]);
    let mut child = spawn(&args);
    let start = Instant::now();
    while std::fs::read_to_string(&p).unwrap() == original {
        assert!(
            child.try_wait().unwrap().is_none(),
            "scrub ended before writing the state"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the state was never written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Past the last point to stop at, in the backup's open.
    std::thread::sleep(Duration::from_millis(500));
    send_signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    // A reader lets the backup's open return (its fsync of a FIFO then fails: no matter here).
    let reader = std::thread::spawn(move || std::fs::read(&fifo).map(|b| b.len()));
    let o = child.wait_with_output().unwrap();
    let _ = reader.join();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_no_canary_out(&c, &o);
    assert_stopped_by(&o, 130, &err);
    assert!(err.contains("too late to stop at"), "{err}");
    let scrubbed = std::fs::read_to_string(&p).unwrap();
    assert!(!scrubbed.contains(&c), "the scrubbed state holds the value");
    assert!(!info_path(&p).exists(), "no lock info left");
}

/// Review finding: `restore - --write` whose state write to stdout failed because the same
/// Ctrl-C stopped its reader (`terraform state push -`) exited 1 with the write error instead
/// of ending by the signal (as scrub does there), so a script running it went on. The state
/// here is larger than a pipe holds, so the write is under way when the signal comes.
#[test]
fn a_restore_pipeline_whose_reader_was_stopped_by_the_same_signal_ends_by_it() {
    let Some(moto) = Moto::start() else { return };
    let (c, _dir, p, _) = canary_file();
    // 256 KiB of an innocent output: more than a pipe's buffer.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    doc["outputs"]["padding"] = json!({"value": "a".repeat(256 << 10), "type": "string"});
    std::fs::write(&p, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    assert_ok(&scrub_file(&p, "restsig/app", &moto.url));
    let scrubbed = std::fs::read(&p).unwrap();
    assert!(!String::from_utf8_lossy(&scrubbed).contains(&c));
    let mut child = spawn_fed(
        &[
            "restore",
            "-",
            "--write",
            "--prefix",
            "restsig/app",
            "--endpoint",
            &moto.url,
        ],
        &scrubbed,
    );
    // Its stdout is not read: once the values are read, the state fills the pipe and waits.
    std::thread::sleep(Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "restore ended early");
    send_signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    // The reader goes (the restored state it held is dropped unread).
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_no_canary(&c, "stderr", &o.stderr);
    assert_stopped_by(&o, 130, &err);
    assert!(err.contains("writing the state to stdout failed"), "{err}");
}
