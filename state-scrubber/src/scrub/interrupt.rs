//! SIGINT and SIGTERM during `scrub --write` and `restore --write`.
//!
//! The first signal asks the run to stop at its next safe point: between two store calls (the
//! call under way is cut short: a value it stored is found by a re-run), or before the state
//! is replaced; never while the manifest is saved or the state renamed. The run then takes
//! back its manifest entries, removes its lock info, lets go of the lock, says what was done
//! and what was not, and ends by the signal itself ([`die_of`]: the shell shows 130 for
//! SIGINT, 143 for SIGTERM, and a script running it stops too). One that comes after the last
//! safe point (the state written) lets the run finish, which then ends by the signal all the
//! same. A second signal stops at once (while the state file is being replaced, once that is
//! done and the old file overwritten): the lock info this run wrote is removed, the lock goes
//! with the process, and the state file is the old or the new one (the rename is atomic).
//!
//! The signals are waited for on a thread of their own, so that a second one is acted on even
//! while the run is blocked outside the async runtime.
//!
//! `audit` has no safe point to reach: the only thing it leaves behind when a signal ends it is
//! a [`PrivateDir`], the directory holding the plaintext copies of S3 objects too large for
//! memory. The first one made catches SIGINT and SIGTERM ([`install_for_private_dirs`]); a
//! signal then removes every such directory and ends the process by that signal ([`die_of`]).

use std::path::PathBuf;
use std::sync::Mutex;

use tokio::sync::watch;

/// A stop request: `None` until a signal came, then its number. The default never fires.
#[derive(Debug, Clone, Default)]
pub struct Stop(Option<watch::Receiver<Option<i32>>>);

impl Stop {
    /// The signal that asked the run to stop, if one did.
    pub fn requested(&self) -> Option<i32> {
        self.0.as_ref().and_then(|r| *r.borrow())
    }

    /// Resolves with the signal once one came; never, for a default `Stop`.
    pub async fn wait(&self) -> i32 {
        if let Some(r) = &self.0 {
            let mut r = r.clone();
            let got = r.wait_for(Option::is_some).await.ok().and_then(|v| *v);
            if let Some(signal) = got {
                return signal;
            }
        }
        std::future::pending().await
    }

    /// A stop request that `send` fires (tests, and [`install`]).
    pub fn channel() -> (watch::Sender<Option<i32>>, Stop) {
        let (tx, rx) = watch::channel(None);
        (tx, Stop(Some(rx)))
    }
}

/// The lock info file this process wrote and its lock id ([`super::lock::StateLock`] records
/// it): removed by a second signal's immediate exit when it is still ours.
static LOCK_INFO: Mutex<Option<(PathBuf, String)>> = Mutex::new(None);

pub(crate) fn lock_taken(info_path: PathBuf, id: String) {
    if let Ok(mut g) = LOCK_INFO.lock() {
        *g = Some((info_path, id));
    }
}

pub(crate) fn lock_released() {
    if let Ok(mut g) = LOCK_INFO.lock() {
        *g = None;
    }
}

/// Held while the state file is replaced (the temporary file, the check, the rename, the
/// overwrite of the old file): a second signal's immediate exit waits for it. Exiting between
/// the rename and that overwrite would let go of the lock with the old state still in the old
/// file, which a Terraform waiting for the lock (`-lock-timeout`) holds open and would read,
/// plaintext included, and write its result into; and it would leave the temporary file (a
/// restore's holds the values) behind. Also held while the lock info is written and recorded,
/// so that the exit removes it.
static REPLACING: Mutex<()> = Mutex::new(());

/// While the guard lives, a second signal does not end the process (see [`REPLACING`]).
pub(crate) fn replacing() -> std::sync::MutexGuard<'static, ()> {
    REPLACING.lock().unwrap_or_else(|e| e.into_inner())
}

/// A second signal: once no state file is being replaced, remove the lock info this run wrote,
/// then `exit` (the process's, outside tests).
fn stop_at_once(exit: impl FnOnce()) {
    let _replacing = replacing();
    remove_lock_info();
    // Held until the exit: no directory is made (or left half removed) after this.
    let _dirs = remove_private_dirs();
    exit();
}

/// The directories of live [`PrivateDir`]s.
static PRIVATE_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A 0700 temporary directory for plaintext copies (audit's S3 objects over 32 MiB). Removed
/// when dropped, which covers every error path and a panic's unwinding (the release profile
/// unwinds); removed by a SIGINT or SIGTERM too, which no destructor sees: the first
/// `PrivateDir` of a process catches them ([`install_for_private_dirs`]). Not the panic hook's
/// business: the saved-plan reader catches panics and the run goes on using the directory.
#[derive(Debug)]
pub struct PrivateDir(Option<tempfile::TempDir>);

impl PrivateDir {
    /// A new directory `TMPDIR/PREFIXrandom`, made and recorded with the list held, so that a
    /// signal cannot come between the two.
    pub fn new(prefix: &str) -> std::io::Result<PrivateDir> {
        install_for_private_dirs()?;
        let mut dirs = PRIVATE_DIRS.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::Builder::new().prefix(prefix).tempdir()?;
        dirs.push(dir.path().to_path_buf());
        Ok(PrivateDir(Some(dir)))
    }

    pub fn path(&self) -> &std::path::Path {
        self.0.as_ref().expect("taken only by drop").path()
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let mut dirs = PRIVATE_DIRS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(dir) = self.0.take() {
            dirs.retain(|d| d != dir.path());
            drop(dir);
        }
    }
}

/// Remove the directories of live [`PrivateDir`]s; the list stays locked while the guard lives.
fn remove_private_dirs() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    let mut dirs = PRIVATE_DIRS.lock().unwrap_or_else(|e| e.into_inner());
    for d in dirs.drain(..) {
        let _ = std::fs::remove_dir_all(d);
    }
    dirs
}

/// Catch SIGINT and SIGTERM, once per process, for the [`PrivateDir`]s: a signal removes them
/// and ends the process by itself (130 / 143 as the shell shows it), as it did before it was
/// caught. For `audit` only: `scrub` and `restore` make no `PrivateDir` and catch the signals
/// themselves ([`install`]).
fn install_for_private_dirs() -> std::io::Result<()> {
    static INSTALLED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            listen(|sig| {
                stop_at_once(|| {
                    let said = say(format!(
                        "state-scrubber audit: {} received: stopped; the temporary copies of S3 objects are removed\n",
                        super::signal_name(sig)
                    ));
                    let _ = said.recv_timeout(std::time::Duration::from_secs(1));
                    die_of(sig);
                })
            })
            .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| std::io::Error::other(format!("catching SIGINT and SIGTERM: {e}")))
}

fn remove_lock_info() {
    let Ok(g) = LOCK_INFO.lock() else { return };
    if let Some((path, id)) = g.as_ref() {
        super::lock::remove_info_if_ours(path, id);
    }
}

/// The exit status of a command stopped by `signal`: 128 + its number, as shells report it.
pub fn exit_code(signal: i32) -> i32 {
    128 + signal
}

/// End the process by `signal` itself, its default action restored (the shell shows 128 + its
/// number): a shell script running scrub ends on a Ctrl-C only when its foreground command died
/// of SIGINT; one that exited 130 is taken to have handled it, and the script goes on to its
/// next command. Exits 128 + signal should the signal not end it.
pub fn die_of(signal: i32) -> ! {
    #[cfg(unix)]
    // SAFETY: resetting a disposition to its default and raising a signal at the calling
    // thread; nothing of this process runs a handler afterwards.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
    std::process::exit(exit_code(signal))
}

/// Write `text` to stderr on a thread of its own: stderr may block (a pipe no one reads, or the
/// main thread holding its lock while blocked in a write), and the signal thread must still
/// act on a second signal. The receiver hears when it was written.
fn say(text: String) -> std::sync::mpsc::Receiver<()> {
    use std::io::Write as _;
    let (tx, rx) = std::sync::mpsc::channel();
    let _ = std::thread::Builder::new()
        .name("signal message".into())
        .spawn(move || {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            let _ = tx.send(());
        });
    rx
}

/// Whether `signal` is ignored (`SIG_IGN`) in this process.
#[cfg(unix)]
fn ignored(signal: i32) -> bool {
    // SAFETY: a query only (no new action); `old` is a valid `sigaction` to fill.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Catch SIGINT and SIGTERM from now on (call it before the lock is taken, so that no signal
/// can end the run between the lock and the handler, leaving the lock info behind). `command`
/// names the run in the messages (`scrub --write`).
#[cfg(unix)]
pub fn install(command: &'static str) -> std::io::Result<Stop> {
    let (tx, stop) = Stop::channel();
    let mut first = true;
    listen(move |sig| {
        let name = super::signal_name(sig);
        if first {
            first = false;
            let _ = tx.send(Some(sig));
            say(format!(
                "state-scrubber {command}: {name} received: stopping at the next safe point (send it again to stop at once)\n"
            ));
        } else {
            stop_at_once(|| {
                let said = say(format!(
                    "state-scrubber {command}: {name} received again: stopped at once; the state file is the old or the new one, and a re-run finds the values already stored\n"
                ));
                let _ = said.recv_timeout(std::time::Duration::from_secs(1));
                die_of(sig);
            });
        }
    })?;
    Ok(stop)
}

/// Call `on_signal` with each SIGINT and SIGTERM from now on, on a thread of its own; a signal
/// this process was started with ignored stays ignored.
#[cfg(unix)]
fn listen(mut on_signal: impl FnMut(i32) + Send + 'static) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                // A signal this process was started with ignored (SIGINT for a command run in
                // the background by a shell without job control: `scrub ... --write &`) stays
                // ignored: a Ctrl-C meant for the foreground does not stop it.
                let listen = |sig: i32, kind: SignalKind| {
                    if ignored(sig) {
                        Ok(None)
                    } else {
                        signal(kind).map(Some)
                    }
                };
                let (mut int, mut term) = match (
                    listen(libc::SIGINT, SignalKind::interrupt()),
                    listen(libc::SIGTERM, SignalKind::terminate()),
                ) {
                    (Ok(i), Ok(t)) => (i, t),
                    (Err(e), _) | (_, Err(e)) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                    match s {
                        Some(s) => {
                            s.recv().await;
                        }
                        None => std::future::pending().await,
                    }
                }
                let _ = ready_tx.send(Ok(()));
                loop {
                    let sig = tokio::select! {
                        _ = recv(&mut int) => libc::SIGINT,
                        _ = recv(&mut term) => libc::SIGTERM,
                    };
                    on_signal(sig);
                }
            });
        })?;
    ready_rx
        .recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("the signal thread ended")))
}

#[cfg(not(unix))]
pub fn install(_command: &'static str) -> std::io::Result<Stop> {
    Ok(Stop::default())
}

#[cfg(not(unix))]
fn listen(_on_signal: impl FnMut(i32) + Send + 'static) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// Review finding: a second signal exited at once wherever the run stood, also between the
    /// rename of the new state and the overwrite of the old file, which left the old state
    /// (plaintext) in a file a Terraform waiting with -lock-timeout holds open, with the lock
    /// released. Now the immediate exit waits for the replacement to be done.
    #[test]
    fn a_second_signal_waits_for_the_state_to_be_replaced() {
        let guard = super::replacing();
        let exited = Arc::new(AtomicBool::new(false));
        let flag = exited.clone();
        let t = std::thread::spawn(move || {
            super::stop_at_once(|| flag.store(true, Ordering::SeqCst));
        });
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            !exited.load(Ordering::SeqCst),
            "exited while the state was being replaced"
        );
        drop(guard);
        t.join().unwrap();
        assert!(exited.load(Ordering::SeqCst), "exited once it was replaced");
    }
}
