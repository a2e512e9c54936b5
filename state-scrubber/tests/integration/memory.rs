//! The process's memory: every command holds values in plaintext (the states it reads, what
//! scrub stores and restore reads back), and no core file or other process of the user may have
//! them.

use crate::util::*;

use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::process::Stdio;

/// A running audit is not dumpable: no core file (a SIGQUIT under `ulimit -c unlimited` wrote
/// `core`, with the value, into the working directory), no ptrace or /proc/PID/mem by the same
/// user. proc(5): the /proc/PID files of a process that is not dumpable are owned by root, not
/// by the user it runs as; as root the audit runs as nobody to tell the two apart.
#[test]
fn a_running_audit_is_not_dumpable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let fifo = dir.path().join("state.tfstate");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o666) }, 0);
    std::fs::set_permissions(&fifo, std::fs::Permissions::from_mode(0o666)).unwrap();
    let mut cmd = bin();
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let runs_as = if me == 0 {
        cmd.uid(65534).gid(65534);
        65534
    } else {
        me
    };
    let mut child = cmd
        .arg("audit")
        .arg(&fifo)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Opening the FIFO for writing returns once the audit has opened it: its `main` has run.
    let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let owner = std::fs::metadata(format!("/proc/{}/environ", child.id()))
        .unwrap()
        .uid();
    w.write_all(b"{\"version\":4,\"serial\":1,\"lineage\":\"l\",\"resources\":[]}")
        .unwrap();
    drop(w);
    let status = child.wait().unwrap();
    assert!(status.success(), "audit: {status}");
    assert_eq!(
        owner, 0,
        "/proc/PID of the audit (run as uid {runs_as}) is owned by it: dumpable"
    );
}
