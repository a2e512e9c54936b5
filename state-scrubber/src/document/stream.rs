//! The streamed top level: what the file is, member by member, and the streamed objects and
//! arrays (`values`, `prior_state`, modules, arrays of units) whose units are parsed one at a
//! time.

use super::error::{is_version_number, shown_version, DocError};
use super::findings::Pos;
use super::kind::{is_output_document, looks_utf16, DocKind, OtherDocument};
use super::readings::ambiguity_notes;
use super::scanner::{JobKind, Scanned, Scanner};
use crate::json::{pointer_of, Dom, Kind as JKind, NodeId, Parser, SyntaxError};
use std::borrow::Cow;
use std::sync::mpsc::TrySendError;

/// Keys of an object that is streamed rather than parsed into a tree (the top level, `values`,
/// modules), counted to report one that occurs more than once. Every occurrence is read.
#[derive(Default)]
struct StreamKeys(std::collections::HashMap<String, usize>);

impl StreamKeys {
    fn add(&mut self, key: &str) {
        *self.0.entry(key.to_string()).or_default() += 1;
    }
    /// At the end of the object (the parser's path is the object's).
    fn report(self, p: &mut Parser<'_>) {
        let mut twice: Vec<(String, usize)> = self.0.into_iter().filter(|(_, n)| *n > 1).collect();
        twice.sort();
        for (key, n) in twice {
            let mut at = pointer_of(p.src(), &p.path);
            at.push('/');
            crate::json::push_pointer_token(&mut at, &key);
            p.ambiguities.duplicate_key(|| at, n);
        }
    }
}

impl<'e> Scanner<'e> {
    pub(super) fn scan_here(&mut self, src: &[u8]) -> Result<Scanned, DocError> {
        let file = self.file.clone();
        let body = src.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(src);
        let first = body.iter().position(|b| !b" \t\r\n".contains(b));
        let Some(first) = first else {
            return Err(DocError::Empty { file });
        };
        if body.starts_with(b"PK\x03\x04") {
            return Err(DocError::BinaryPlan { file });
        }
        if looks_utf16(src) {
            return Err(DocError::Utf16 { file });
        }
        let head = &body[..body.len().min(8192)];
        if let Some(offset) = head.iter().position(|&b| b == 0) {
            return Err(DocError::Binary { file, offset });
        }
        let mut p = Parser::new(src);
        if body[first] != b'{' {
            let (line, column) = p.position();
            if body[first] >= 0x80 || (body[first] < 0x20 && !b"\t\r\n".contains(&body[first])) {
                return Err(DocError::Binary {
                    file,
                    offset: first,
                });
            }
            return Err(DocError::NotObject { file, line, column });
        }
        if is_output_document(src) {
            // `terraform output -json`: the root outputs alone, read as a state's are, at
            // `/NAME/value`.
            let mut dom = Dom::default();
            self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                s.outputs(src, dom, id, unit, "outputs", "")
            })
            .map_err(|e| self.syntax(e))?;
            p.finish().map_err(|e| self.syntax(e))?;
            let notes = ambiguity_notes(&p.ambiguities);
            return self.conclude(DocKind::Outputs, src.len(), notes);
        }

        if super::identities::is_identities_document(src) {
            // `terraform state identities -json`: each instance's identity at `/ADDRESS`.
            let mut dom = Dom::default();
            self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                s.identities(src, dom, id, unit)
            })
            .map_err(|e| self.syntax(e))?;
            p.finish().map_err(|e| self.syntax(e))?;
            let notes = ambiguity_notes(&p.ambiguities);
            return self.conclude(DocKind::Identities, src.len(), notes);
        }

        if super::ui::is_ui_stream(src) {
            // One message a line, message i at `/i`.
            let mut dom = Dom::default();
            let mut i = 0;
            loop {
                p.push_index(i);
                self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                    s.ui_message(src, dom, id, unit)
                })
                .map_err(|e| self.syntax(e))?;
                p.pop();
                i += 1;
                if p.finish().is_ok() {
                    break;
                }
            }
            let notes = ambiguity_notes(&p.ambiguities);
            return self.conclude(DocKind::UiStream, src.len(), notes);
        }

        let mut version: Option<(String, Pos)> = None;
        let mut format_version: Option<(String, Pos)> = None;
        let mut seen_plan = false;
        let mut seen_values = false;
        let mut seen_backend = false;
        // OpenTofu's envelope is `{meta, encrypted_data, encryption_version}` and nothing else
        // (internal/encryption/base.go `basedata`); those keys next to anything else do not make
        // a plaintext state "encrypted, not scanned".
        let mut envelope_keys = false;
        let mut other_keys = false;
        // Top-level keys nothing below reads (they tell Terraform's other JSON outputs apart,
        // see [`OtherDocument`]), and whether any key was read as a state's or plan's member.
        let mut skipped: Vec<String> = Vec::new();
        let mut seen_member = false;
        // Every `variables` member (a key twice is read twice), analysed once the configuration
        // said which variables are sensitive.
        let mut variables: Vec<(Dom, NodeId, String)> = Vec::new();
        let mut sensitive_vars: Vec<String> = Vec::new();
        let mut dom = Dom::default();

        p.begin_object().map_err(|e| self.syntax(e))?;
        let mut first_key = true;
        let mut top_keys = StreamKeys::default();
        while let Some((ks, ke, kesc)) = p.next_key(first_key).map_err(|e| self.syntax(e))? {
            first_key = false;
            p.push_key(ks, ke);
            let key = crate::json::str_of(&src[ks..ke], kesc).unwrap_or(Cow::Borrowed(""));
            top_keys.add(&key);
            if !matches!(
                key.as_ref(),
                "meta" | "encrypted_data" | "encryption_version"
            ) {
                other_keys = true;
            }
            let mut read = !matches!(
                key.as_ref(),
                "version" | "format_version" | "encrypted_data" | "encryption_version"
            );
            let r: Result<(), SyntaxError> = match key.as_ref() {
                "version" => {
                    let (line, column) = p.position();
                    dom.clear();
                    let id = p.parse_into(&mut dom).map_err(|e| self.syntax(e))?;
                    let v = match dom.node(id).kind {
                        JKind::Number => dom.raw(src, id).to_string(),
                        _ => "(not a number)".to_string(),
                    };
                    if !matches!(v.as_str(), "1" | "2" | "3" | "4") {
                        return Err(DocError::StateVersion {
                            file,
                            line,
                            column,
                            version: shown_version(&v),
                        });
                    }
                    version = Some((v, Pos { line, column }));
                    Ok(())
                }
                "format_version" => {
                    let (line, column) = p.position();
                    dom.clear();
                    let id = p.parse_into(&mut dom).map_err(|e| self.syntax(e))?;
                    let v = dom.str(src, id).map(|s| s.into_owned()).unwrap_or_default();
                    // 0.x: Terraform 0.12 to 0.15; 1.x since 1.0. A 2.x would change meanings.
                    let supported = v == "1" || v.starts_with("1.") || v.starts_with("0.");
                    if !supported || !is_version_number(&v) {
                        return Err(DocError::FormatVersion {
                            file,
                            line,
                            column,
                            version: if v.is_empty() {
                                "(not a string)".into()
                            } else {
                                shown_version(&v)
                            },
                        });
                    }
                    format_version = Some((v, Pos { line, column }));
                    Ok(())
                }
                "encrypted_data" | "encryption_version" => {
                    envelope_keys = true;
                    p.skip_value()
                }
                "resources" if format_version.is_none() => {
                    self.stream_array(&mut p, &mut dom, JobKind::V4Resource)
                }
                // Condition results: a failed check's message is text made from the
                // configuration's `error_message`, which may interpolate any value that is not
                // marked sensitive (Terraform refuses marked ones).
                "checks" => self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                    s.checks(src, dom, id, unit, "checks")
                }),
                "check_results" if format_version.is_none() => {
                    self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                        s.checks(src, dom, id, unit, "check_results")
                    })
                }
                "outputs" if format_version.is_none() => {
                    self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                        s.outputs(src, dom, id, unit, "outputs", "")
                    })
                }
                "modules" => self.stream_array(&mut p, &mut dom, JobKind::V3Module),
                "backend" => {
                    seen_backend = true;
                    self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                        s.backend(src, dom, id, unit)
                    })
                }
                // Terraform 1.15's pluggable state storage (`terraform { state_store "T" {
                // provider "P" {...} } }`) is cached in the same file instead of `backend`.
                "state_store" => {
                    seen_backend = true;
                    self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                        s.state_store(src, dom, id, unit)
                    })
                }
                "values" => {
                    seen_values = true;
                    self.stream_values(&mut p, &mut dom, "values")
                }
                "planned_values" => {
                    seen_plan = true;
                    self.stream_values(&mut p, &mut dom, "planned_values")
                }
                "prior_state" => {
                    seen_plan = true;
                    self.stream_prior_state(&mut p, &mut dom)
                }
                "resource_changes" | "resource_drift" => {
                    seen_plan = true;
                    let section = if key == "resource_drift" {
                        "resource_drift"
                    } else {
                        "resource_changes"
                    };
                    self.stream_array(&mut p, &mut dom, JobKind::Change(section))
                }
                "deferred_changes" => {
                    seen_plan = true;
                    self.stream_array(&mut p, &mut dom, JobKind::Deferred)
                }
                "action_invocations" | "deferred_action_invocations" => {
                    seen_plan = true;
                    let deferred = key == "deferred_action_invocations";
                    self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                        s.actions(src, dom, id, unit, deferred)
                    })
                }
                "output_changes" => {
                    seen_plan = true;
                    self.unit(&mut p, &mut dom, |s, src, dom, id, unit| {
                        s.output_changes(src, dom, id, unit)
                    })
                }
                // Read whatever the order of the keys (`jq` or a script may have moved
                // `format_version` after it); whether the file is a plan is decided at the end.
                "variables" => {
                    let unit = pointer_of(src, &p.path);
                    let mut vdom = Dom::default();
                    match p.parse_into(&mut vdom) {
                        Ok(id) => {
                            variables.push((vdom, id, unit));
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
                "configuration" => {
                    seen_plan = true;
                    let unit = pointer_of(src, &p.path);
                    dom.clear();
                    match p.parse_into(&mut dom) {
                        Ok(id) => {
                            let dom = &dom;
                            self.readings(dom, &unit, |s| {
                                s.configuration(src, dom, id, &unit, &mut sensitive_vars)
                            });
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
                _ => {
                    read = false;
                    skipped.push(key.to_string());
                    p.skip_value()
                }
            };
            seen_member |= read;
            r.map_err(|e| self.syntax(e))?;
            p.pop();
        }
        top_keys.report(&mut p);
        p.finish().map_err(|e| self.syntax(e))?;

        if !(format_version.is_some() || seen_plan) {
            variables.clear();
        }
        seen_plan |= !variables.is_empty();
        for (vdom, id, unit) in &variables {
            self.readings(vdom, unit, |s| {
                s.variables(src, vdom, *id, unit, &sensitive_vars)
            });
        }

        let kind = if envelope_keys && !other_keys {
            DocKind::Encrypted
        } else if format_version.is_some() {
            if seen_plan {
                DocKind::Plan
            } else if let Some(what) = (!seen_member)
                .then(|| OtherDocument::of(true, &skipped))
                .flatten()
            {
                return Err(DocError::NotStateOrPlan { file, what });
            } else {
                DocKind::ShowState
            }
        } else if let Some((v, _)) = &version {
            // Only the backend cache (`.terraform/terraform.tfstate`) has a `backend`; Terraform
            // writes it in the v3 layout, `modules` with an empty root module included.
            if seen_backend {
                DocKind::BackendConfig
            } else if v == "4" {
                DocKind::StateV4
            } else {
                DocKind::StateV3
            }
        } else if seen_values && seen_plan {
            DocKind::Plan
        } else if let Some(what) = OtherDocument::of(false, &skipped) {
            return Err(DocError::NotStateOrPlan { file, what });
        } else {
            return Err(DocError::Unrecognized { file });
        };
        let _ = format_version.as_ref().map(|(_, p)| (p.line, p.column));
        let _ = version.as_ref().map(|(_, p)| (p.line, p.column));
        let mut notes = ambiguity_notes(&p.ambiguities);
        if envelope_keys && other_keys {
            notes.push(
                "encrypted_data/encryption_version next to plaintext keys: not an OpenTofu-encrypted state, scanned as plaintext"
                    .to_string(),
            );
        }
        self.conclude(kind, src.len(), notes)
    }

    /// Parse the next value as one unit and hand it to `f` with its pointer.
    fn unit(
        &mut self,
        p: &mut Parser<'_>,
        dom: &mut Dom,
        f: impl Fn(&mut Self, &[u8], &Dom, NodeId, &str),
    ) -> Result<(), SyntaxError> {
        dom.clear();
        let id = p.parse_into(dom)?;
        let unit = pointer_of(p.src(), &p.path);
        let (src, dom) = (p.src(), &*dom);
        self.readings(dom, &unit, |s| f(s, src, dom, id, &unit));
        Ok(())
    }

    /// Stream an array, handing each element as a unit to the workers (or analysing it here when
    /// there are none or they are busy).
    fn stream_array(
        &mut self,
        p: &mut Parser<'_>,
        dom: &mut Dom,
        kind: JobKind,
    ) -> Result<(), SyntaxError> {
        if p.peek_kind()? == b'n' {
            return p.skip_value();
        }
        p.begin_array()?;
        let mut i = 0;
        while p.next_element(i == 0)? {
            p.push_index(i);
            if let Some(w) = &mut self.workers {
                // Units go to the workers in batches of about 1 MB of input: one channel
                // operation per unit would cost more than analysing it.
                let start = p.offset();
                let id = p.parse_into(&mut w.batch.dom)?;
                let unit = pointer_of(p.src(), &p.path);
                w.batch.units.push((kind, id, unit));
                w.batch.bytes += p.offset() - start;
                if w.batch.bytes >= 1 << 20 {
                    self.flush(p.src());
                }
            } else {
                dom.clear();
                let id = p.parse_into(dom)?;
                let unit = pointer_of(p.src(), &p.path);
                self.dispatch(kind, p.src(), dom, id, &unit);
            }
            p.pop();
            i += 1;
        }
        self.flush(p.src());
        Ok(())
    }

    /// Hand the current batch to a worker, or analyse it here if they are all busy.
    fn flush(&mut self, src: &[u8]) {
        let Some(w) = &mut self.workers else { return };
        if w.batch.units.is_empty() {
            return;
        }
        let spare = w.back.try_recv().unwrap_or_default();
        let batch = std::mem::replace(&mut w.batch, spare);
        let inline = match w.tx.try_send(batch) {
            Ok(()) => None,
            Err(TrySendError::Full(b)) | Err(TrySendError::Disconnected(b)) => Some(b),
        };
        if let Some(mut b) = inline {
            for (kind, id, unit) in &b.units {
                self.dispatch(*kind, src, &b.dom, *id, unit);
            }
            b.clear();
            if let Some(w) = &mut self.workers {
                w.batch = b;
            }
        }
    }

    /// `values` / `planned_values`: `{outputs, root_module}`.
    fn stream_values(
        &mut self,
        p: &mut Parser<'_>,
        dom: &mut Dom,
        section: &'static str,
    ) -> Result<(), SyntaxError> {
        if p.peek_kind()? == b'n' {
            return p.skip_value();
        }
        p.begin_object()?;
        let mut first = true;
        let mut keys = StreamKeys::default();
        while let Some((s, e, esc)) = p.next_key(first)? {
            first = false;
            p.push_key(s, e);
            let k = crate::json::str_of(&p.src()[s..e], esc).unwrap_or_default();
            keys.add(&k);
            match k.as_ref() {
                "outputs" => {
                    let sec = format!("{section}.outputs");
                    self.unit(p, dom, |s, src, dom, id, unit| {
                        s.outputs(src, dom, id, unit, &sec, "")
                    })?
                }
                "root_module" => self.stream_module(p, dom, section, "")?,
                _ => p.skip_value()?,
            }
            p.pop();
        }
        keys.report(p);
        Ok(())
    }

    fn stream_prior_state(&mut self, p: &mut Parser<'_>, dom: &mut Dom) -> Result<(), SyntaxError> {
        if p.peek_kind()? == b'n' {
            return p.skip_value();
        }
        p.begin_object()?;
        let mut first = true;
        let mut keys = StreamKeys::default();
        while let Some((s, e, esc)) = p.next_key(first)? {
            first = false;
            p.push_key(s, e);
            let k = crate::json::str_of(&p.src()[s..e], esc).unwrap_or_default();
            keys.add(&k);
            match k.as_ref() {
                "values" => self.stream_values(p, dom, "prior_state")?,
                "checks" => self.unit(p, dom, |s, src, dom, id, unit| {
                    s.checks(src, dom, id, unit, "prior_state.checks")
                })?,
                _ => p.skip_value()?,
            }
            p.pop();
        }
        keys.report(p);
        Ok(())
    }

    /// A module of `terraform show -json`: `{resources, child_modules, address}`.
    fn stream_module(
        &mut self,
        p: &mut Parser<'_>,
        dom: &mut Dom,
        section: &'static str,
        _module: &str,
    ) -> Result<(), SyntaxError> {
        if p.peek_kind()? == b'n' {
            return p.skip_value();
        }
        p.begin_object()?;
        let mut first = true;
        let mut keys = StreamKeys::default();
        while let Some((s, e, esc)) = p.next_key(first)? {
            first = false;
            p.push_key(s, e);
            let k = crate::json::str_of(&p.src()[s..e], esc).unwrap_or_default();
            keys.add(&k);
            match k.as_ref() {
                "resources" => self.stream_array(p, dom, JobKind::Show(section))?,
                "child_modules" => {
                    if p.peek_kind()? == b'n' {
                        p.skip_value()?;
                    } else {
                        p.begin_array()?;
                        let mut i = 0;
                        while p.next_element(i == 0)? {
                            p.push_index(i);
                            self.stream_module(p, dom, section, "")?;
                            p.pop();
                            i += 1;
                        }
                    }
                }
                _ => p.skip_value()?,
            }
            p.pop();
        }
        keys.report(p);
        Ok(())
    }
}
