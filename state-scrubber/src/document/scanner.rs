//! The [`Scanner`]: its state, its entry points, the worker threads of a large file, and the end
//! of a reading (errors found on the way, else the findings).

use super::error::{DocError, Shape};
use super::findings::sort_findings;
use super::kind::DocKind;
#[cfg(doc)]
use super::readings::MAX_READINGS;
use super::sites::{
    mask_secret_keys, same_named_values, secrets_in_text, KeySite, TextSite, ValueSite,
};
use super::wrapper::{blank_wrapper_lines, is_wrapper_log, WRAPPER_NOTE};
use crate::detect::{Detection, Engine};
use crate::finding::Finding;
use crate::json::{Dom, Kind as JKind, NodeId, SyntaxError};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

/// The result of scanning one artifact.
#[derive(Debug)]
pub struct Scanned {
    pub kind: DocKind,
    pub findings: Vec<Finding>,
    pub bytes: usize,
    /// What was not fully checked, and why (no value in it).
    pub notes: Vec<String>,
}

/// The note for `n` values whose JSON-in-string decoding stopped at the depth budget.
fn too_deep_note(n: usize) -> Option<String> {
    (n > 0).then(|| {
        format!(
            "{n} value(s) hold JSON nested too deeply in strings (over 4 levels, or 512 deep in all): decoding stopped there and the rest was checked as text only"
        )
    })
}

/// The bulk units, analysed by workers on large files.
#[derive(Debug, Clone, Copy)]
pub(super) enum JobKind {
    V4Resource,
    V3Module,
    Show(&'static str),
    Change(&'static str),
    Deferred,
}

/// Several units parsed into one tree, for a worker.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) dom: Dom,
    pub(super) units: Vec<(JobKind, NodeId, String)>,
    pub(super) bytes: usize,
}

impl Batch {
    pub(super) fn clear(&mut self) {
        self.dom.clear();
        self.units.clear();
        self.bytes = 0;
    }
}

pub(super) struct Workers {
    pub(super) tx: SyncSender<Batch>,
    /// Batches the workers are done with, for reuse.
    pub(super) back: Receiver<Batch>,
    pub(super) batch: Batch,
}

/// Files at least this large are analysed by several threads.
const PARALLEL_MIN_BYTES: usize = 8 << 20;

pub struct Scanner<'e> {
    /// First string that is not valid UTF-8 (line, column): the file is rejected, not half-read.
    pub(super) utf8: Option<(u32, u32)>,
    /// First member with the wrong shape (see [`DocError::Shape`]).
    shape: Option<Shape>,
    /// First unit whose duplicated keys needed more than [`MAX_READINGS`] readings.
    pub(super) ambiguous: Option<String>,
    pub(super) workers: Option<Workers>,
    pub(super) engine: &'e Engine,
    pub(super) fp_key: &'e [u8],
    pub(super) file: String,
    pub(super) findings: Vec<Finding>,
    pub(super) dets: Vec<Detection>,
    pub(super) key_sites: Vec<KeySite>,
    /// Also read the provider-private data of state instances (see [`Scanner::with_private`]).
    pub(super) private: bool,
    /// Also report numbers the artifact marks sensitive (see [`Scanner::with_numbers`]).
    pub(super) numbers: bool,
    /// While reading outputs and variables: the fix for their values, which are then kept as
    /// [`ValueSite`]s when nothing was found in them.
    pub(super) named: Option<&'static str>,
    pub(super) value_sites: Vec<ValueSite>,
    /// Free text in which nothing was found (see [`TextSite`]).
    pub(super) text_sites: Vec<TextSite>,
}

impl<'e> Scanner<'e> {
    /// Also report values in a state instance's `private` (base64 of the provider's private
    /// data, decoded, and read as JSON when it is). For `audit` only: such a finding points at
    /// the base64 string, which a rewrite must not replace (Terraform would no longer read the
    /// state), so a scanner whose findings feed a rewrite leaves it off.
    pub fn with_private(mut self, on: bool) -> Self {
        self.private = on;
        self
    }

    /// Also report the numbers the artifact itself marks sensitive (layer 1 only, see
    /// [`Engine::analyze_marked_number`]). For `audit`: such a finding points at a JSON number,
    /// and a rewrite that puts a string reference in place of each finding's value (scrub) must
    /// not get one it cannot handle, so a scanner whose findings feed a rewrite leaves it off
    /// unless the rewrite reads [`Finding::value_type`].
    pub fn with_numbers(mut self, on: bool) -> Self {
        self.numbers = on;
        self
    }

    pub fn new(engine: &'e Engine, fp_key: &'e [u8], file: String) -> Self {
        Scanner {
            utf8: None,
            shape: None,
            ambiguous: None,
            workers: None,
            engine,
            fp_key,
            file,
            findings: Vec::new(),
            dets: Vec::new(),
            key_sites: Vec::new(),
            private: false,
            numbers: false,
            named: None,
            value_sites: Vec::new(),
            text_sites: Vec::new(),
        }
    }

    pub(super) fn syntax(&self, err: SyntaxError) -> DocError {
        DocError::Syntax {
            file: self.file.clone(),
            err,
        }
    }

    /// Scan a whole artifact, on this thread. Findings come out in file order.
    pub fn scan(self, src: &[u8]) -> Result<Scanned, DocError> {
        self.scan_parallel(src, 1)
    }

    /// [`Scanner::scan`] with up to `threads` threads for a large file.
    pub fn scan_parallel(mut self, src: &[u8], threads: usize) -> Result<Scanned, DocError> {
        // audit (the scanner that reads `private`, whose findings feed no rewrite) reads a plan
        // saved through setup-terraform's wrapper, its lines blanked (positions unchanged).
        let blanked;
        let original = src;
        let wrapper = self.private && is_wrapper_log(src);
        let src = if wrapper {
            blanked = blank_wrapper_lines(src);
            &blanked[..]
        } else {
            src
        };
        let wrapper_note = wrapper.then(|| WRAPPER_NOTE.to_string());
        if wrapper {
            // The echo is read from the file as it is (`src` has it blanked).
            self.command_lines(original);
        }
        let r = self.scan_inner(src, threads);
        r.map(|mut s| {
            s.notes.extend(wrapper_note);
            s
        })
    }

    fn scan_inner(mut self, src: &[u8], threads: usize) -> Result<Scanned, DocError> {
        if threads < 2 || src.len() < PARALLEL_MIN_BYTES {
            let r = self.scan_here(src);
            let deep = self.engine.take_too_deep();
            let sites = std::mem::take(&mut self.key_sites);
            return r.map(|mut s| {
                s.notes.extend(too_deep_note(deep));
                self.finish_keys(&mut s, sites);
                sort_findings(s, src)
            });
        }
        let engines: Vec<Engine> = (1..threads).map(|_| self.engine.fork()).collect();
        let fp_key = self.fp_key;
        let file = self.file.clone();
        let private = self.private;
        let numbers = self.numbers;
        let (tx, rx) = sync_channel::<Batch>(2);
        let (back_tx, back_rx) = channel::<Batch>();
        let rx = Mutex::new(rx);
        std::thread::scope(|scope| {
            let handles: Vec<_> = engines
                .into_iter()
                .map(|engine| {
                    let rx = &rx;
                    let back_tx = back_tx.clone();
                    let file = file.clone();
                    scope.spawn(move || {
                        let mut sc = Scanner::new(&engine, fp_key, file)
                            .with_private(private)
                            .with_numbers(numbers);
                        loop {
                            let job = rx.lock().map(|r| r.recv());
                            let Ok(Ok(mut batch)) = job else { break };
                            for (kind, id, unit) in &batch.units {
                                sc.dispatch(*kind, src, &batch.dom, *id, unit);
                            }
                            batch.clear();
                            let _ = back_tx.send(batch);
                        }
                        (
                            sc.findings,
                            sc.key_sites,
                            (sc.utf8, sc.shape, sc.ambiguous),
                            engine.take_too_deep(),
                        )
                    })
                })
                .collect();
            self.workers = Some(Workers {
                tx,
                back: back_rx,
                batch: Batch::default(),
            });
            let r = self.scan_here(src);
            // Dropping the sender ends the workers' loops.
            self.workers = None;
            let mut extra = Vec::new();
            let mut utf8 = None;
            let mut shape = None;
            let mut ambiguous = None;
            let mut deep = self.engine.take_too_deep();
            let mut sites = std::mem::take(&mut self.key_sites);
            for h in handles {
                let (f, k, u, d) = h.join().expect("worker panicked");
                extra.extend(f);
                sites.extend(k);
                utf8 = utf8.or(u.0);
                shape = shape.or(u.1);
                ambiguous = ambiguous.or(u.2);
                deep += d;
            }
            if let (Some(pointer), Ok(_)) = (ambiguous.or(self.ambiguous.take()), &r) {
                return Err(DocError::Ambiguous {
                    file: self.file.clone(),
                    pointer,
                });
            }
            if let (Some(s), Ok(_)) = (shape.or(self.shape.take()), &r) {
                return Err(s.error(&self.file));
            }
            if let (Some((line, column)), Ok(_)) = (utf8, &r) {
                return Err(DocError::Utf8 {
                    file: self.file.clone(),
                    line,
                    column,
                });
            }
            r.map(|mut s| {
                if s.kind != DocKind::Encrypted {
                    for f in &mut extra {
                        f.document = s.kind.as_str().to_string();
                    }
                    s.findings.extend(extra);
                }
                s.notes.extend(too_deep_note(deep));
                self.finish_keys(&mut s, sites);
                sort_findings(s, src)
            })
        })
    }

    /// See [`mask_secret_keys`] and [`same_named_values`].
    fn finish_keys(&mut self, s: &mut Scanned, sites: Vec<KeySite>) {
        if s.kind == DocKind::Encrypted {
            return;
        }
        mask_secret_keys(
            self.engine,
            self.fp_key,
            &self.file,
            s.kind.as_str(),
            &mut s.findings,
            sites,
        );
        same_named_values(
            self.fp_key,
            &self.file,
            s.kind.as_str(),
            &mut s.findings,
            std::mem::take(&mut self.value_sites),
        );
        let unsearched = secrets_in_text(
            self.engine,
            self.fp_key,
            &self.file,
            s.kind.as_str(),
            &mut s.findings,
            std::mem::take(&mut self.text_sites),
        );
        crate::finding::number_masked_steps(&mut s.findings, self.fp_key);
        if unsearched > 0 {
            s.notes.push(format!(
                "{unsearched} condition message(s) or generated configuration(s) not searched for values found secret elsewhere in the file (too long, or too many to search); content rules were applied"
            ));
        }
    }

    /// The end of a reading: the errors found on the way (shape, UTF-8, ambiguous keys), else
    /// the findings, marked with the document's kind.
    pub(super) fn conclude(
        &mut self,
        kind: DocKind,
        bytes: usize,
        notes: Vec<String>,
    ) -> Result<Scanned, DocError> {
        if let Some(s) = self.shape.take() {
            return Err(s.error(&self.file));
        }
        if let Some((line, column)) = self.utf8 {
            return Err(DocError::Utf8 {
                file: self.file.clone(),
                line,
                column,
            });
        }
        if let Some(pointer) = self.ambiguous.take() {
            return Err(DocError::Ambiguous {
                file: self.file.clone(),
                pointer,
            });
        }
        let mut findings = std::mem::take(&mut self.findings);
        if kind == DocKind::Encrypted {
            findings.clear();
        }
        for f in &mut findings {
            f.document = kind.as_str().to_string();
        }
        Ok(Scanned {
            kind,
            findings,
            bytes,
            notes,
        })
    }

    /// Is `id` an object (or, with `null_ok`, null)? If not, remember the first such place: the
    /// file is an error (see [`DocError::Shape`]).
    pub(super) fn expect(
        &mut self,
        dom: &Dom,
        id: NodeId,
        want: JKind,
        null_ok: bool,
        pointer: impl FnOnce() -> String,
        expected: &'static str,
    ) -> bool {
        let k = dom.node(id).kind;
        let ok = match (want, k) {
            (_, JKind::Null) => null_ok,
            (JKind::Object, JKind::Object) | (JKind::Array, JKind::Array) => true,
            _ => false,
        };
        if !ok && self.shape.is_none() {
            let n = dom.node(id);
            self.shape = Some(Shape {
                pointer: pointer(),
                line: n.line,
                column: n.column,
                expected,
            });
        }
        ok
    }

    /// Analyse one unit (once per reading of its duplicated keys, see [`Scanner::readings`]).
    pub(super) fn dispatch(
        &mut self,
        kind: JobKind,
        src: &[u8],
        dom: &Dom,
        id: NodeId,
        unit: &str,
    ) {
        self.readings(dom, unit, |s| s.dispatch_once(kind, src, dom, id, unit));
    }

    fn dispatch_once(&mut self, kind: JobKind, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        let expected = match kind {
            JobKind::V4Resource => "a resource is an object",
            JobKind::V3Module => "a module is an object",
            JobKind::Show(_) => "a resource is an object",
            JobKind::Change(_) | JobKind::Deferred => "a resource change is an object",
        };
        if !self.expect(dom, id, JKind::Object, false, || unit.to_string(), expected) {
            return;
        }
        match kind {
            JobKind::V4Resource => self.v4_resource(src, dom, id, unit),
            JobKind::V3Module => self.v3_module(src, dom, id, unit),
            JobKind::Show(section) => self.show_resource(src, dom, id, unit, section),
            JobKind::Change(section) => self.change(src, dom, id, unit, section),
            JobKind::Deferred => {
                if let Some(rc) = dom.get(src, id, "resource_change") {
                    self.change(
                        src,
                        dom,
                        rc,
                        &format!("{unit}/resource_change"),
                        "deferred_changes",
                    )
                }
            }
        }
    }
}
