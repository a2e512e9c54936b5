//! SIGINT / SIGTERM while `audit s3://...` holds an object over 32 MiB in a temporary file.

use super::*;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A TCP relay to `upstream` that passes on only the first `pass` bytes of the answer to a
/// request starting with `marker` (`GET /bucket/key`), then holds the rest until dropped: the
/// client has the headers and some of the body, and waits for the remainder.
struct StallingRelay {
    url: String,
    release: Arc<AtomicBool>,
}

impl StallingRelay {
    fn start(upstream: &str, marker: &'static [u8], pass: usize) -> StallingRelay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_string();
        let release = Arc::new(AtomicBool::new(false));
        let rel = release.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(down) = conn else { return };
                let Ok(up) = TcpStream::connect(&upstream) else {
                    return;
                };
                let (mut d_in, mut u_out) = (down.try_clone().unwrap(), up.try_clone().unwrap());
                let (mut u_in, mut d_out) = (up, down);
                let marked = Arc::new(AtomicBool::new(false));
                let m = marked.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = d_in.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        if buf[..n].starts_with(marker) {
                            m.store(true, SeqCst);
                        }
                        if u_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = u_out.shutdown(std::net::Shutdown::Write);
                });
                let rel = rel.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    let mut passed = 0usize;
                    while let Ok(n) = u_in.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        if marked.load(SeqCst) {
                            if passed >= pass {
                                while !rel.load(SeqCst) {
                                    std::thread::sleep(Duration::from_millis(10));
                                }
                                break;
                            }
                            passed += n;
                        }
                        if d_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = d_out.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        StallingRelay { url, release }
    }
}

impl Drop for StallingRelay {
    fn drop(&mut self) {
        self.release.store(true, SeqCst);
    }
}

/// The `state-scrubber-s3-*` directories in `tmp`, and whether one holds a non-empty file.
fn spill_dirs(tmp: &std::path::Path) -> (Vec<std::path::PathBuf>, bool) {
    let dirs: Vec<_> = std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("state-scrubber-s3-")
        })
        .map(|e| e.path())
        .collect();
    let written = dirs.iter().any(|d| {
        std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .any(|f| f.metadata().is_ok_and(|m| m.len() > 0))
    });
    (dirs, written)
}

/// Review finding: SIGINT or SIGTERM while `audit s3://...` had an object over 32 MiB streamed
/// into its 0600 file left the 0700 `TMPDIR/state-scrubber-s3-*` directory behind, with the
/// object's plaintext (the state's secrets) in it: audit caught no signal, and a signal's
/// default action runs no destructor. Now the directory is removed and the run ends by the
/// signal (130 / 143 as the shell shows it). The object's answer is held by a relay after its
/// first 256 KiB, so the signal comes while the temporary file exists, without a race.
#[test]
fn a_signal_while_an_object_is_spilled_removes_the_temporary_directory() {
    use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
    let Some(moto) = Moto::start() else { return };
    let password = pw();
    let state = db_state(&password);
    let big = format!("{state}{}", " ".repeat(33 << 20));
    moto.put("/tf-states", b"");
    moto.put("/tf-states/big.tfstate", big.as_bytes());

    for (signal, name) in [(libc::SIGINT, "INT"), (libc::SIGTERM, "TERM")] {
        let relay = StallingRelay::start(&moto.url, b"GET /tf-states/big.tfstate", 256 << 10);
        let tmp = tempfile::tempdir().unwrap();
        let mut c = bin();
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("AWS_") {
                c.env_remove(k);
            }
        }
        c.envs(aws_env())
            .env("TMPDIR", tmp.path())
            .args([
                "audit",
                "s3://tf-states/big.tfstate",
                "--endpoint",
                &relay.url,
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        // SAFETY: only async-signal-safe calls between fork and exec. SIGINT at its default
        // action even when this test run was started with it ignored (see scrub's `command`).
        unsafe {
            c.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                libc::signal(libc::SIGTERM, libc::SIG_DFL);
                Ok(())
            });
        }
        let mut child = c.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !spill_dirs(tmp.path()).1 {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("ended ({status}) before the object was spilled");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the object was never spilled");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // SAFETY: a signal to our own child, which has not been waited for.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let id = child.id();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let out = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(o) => o.unwrap(),
            Err(_) => {
                // SAFETY: as above.
                unsafe {
                    libc::kill(id as i32, libc::SIGKILL);
                }
                panic!("did not stop within 60 s of SIG{name}");
            }
        };
        let (left, _) = spill_dirs(tmp.path());
        assert!(
            left.is_empty(),
            "SIG{name} left the temporary directory behind: {left:?}"
        );
        assert_eq!(
            out.status.signal(),
            Some(signal),
            "SIG{name}: {:?}",
            out.status
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains(&password),
            "SIG{name}: the password on stderr"
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains(&password),
            "SIG{name}: the password on stdout"
        );
    }
}
