//! `state-scrubber restore`: put back every value a scrub moved out, from the references in the
//! state and the scrub manifest (for attributes that became null for their write-only twin).
//! `serial` + 1, same layout, same atomic write as scrub.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use offstate_common::reference::ResolveError;
use offstate_common::store::{SecretMeta, SecretStore, StoreError};
use offstate_common::SecretRef;

use super::plan::{compact, Locator};
use super::rewrite::{go_json_string, pointer_join, pointer_tokens, Doc, Edit};
use super::store::{
    load_manifest, manifest_name, tag_value, ManifestEntry, TAG_LINEAGE, TAG_MANAGED_BY,
};
use super::{parse_state, ParsedState, ScrubError, MASKED};
use crate::document::shown_pointer;
use crate::json::{Kind, NodeId};

#[derive(Debug)]
pub struct Restored {
    pub pointer: String,
    pub address: String,
    pub reference: String,
}

/// Its `Debug` shows the restored state, which holds the values in plaintext, by its length
/// only ([`super::state_bytes`]).
pub struct RestoreReport {
    pub file: String,
    pub serial_before: u64,
    pub serial_after: u64,
    pub manifest: Option<String>,
    pub restored: Vec<Restored>,
    /// Manifest entries left alone, and why (the state changed there since the scrub).
    pub skipped: Vec<String>,
    pub output: Option<Vec<u8>>,
    pub write: bool,
}

impl std::fmt::Debug for RestoreReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Every field named: a new one does not compile until it is shown here (or masked).
        let RestoreReport {
            file,
            serial_before,
            serial_after,
            manifest,
            restored,
            skipped,
            output,
            write,
        } = self;
        f.debug_struct("RestoreReport")
            .field("file", file)
            .field("serial_before", serial_before)
            .field("serial_after", serial_after)
            .field("manifest", manifest)
            .field("restored", restored)
            .field("skipped", skipped)
            .field("output", &super::state_bytes(output))
            .field("write", write)
            .finish()
    }
}

fn find_instance(doc: &Doc<'_>, l: &Locator) -> Option<String> {
    let resources = doc.node_at("/resources")?;
    let s = |id, k: &str| {
        doc.dom
            .get(doc.src, id, k)
            .and_then(|n| doc.dom.str(doc.src, n))
            .map(|c| c.into_owned())
    };
    for (r, res) in doc.dom.elements(resources).enumerate() {
        if s(res, "module").unwrap_or_default() != l.module
            || s(res, "mode").unwrap_or_else(|| "managed".into()) != l.mode
            || s(res, "type").unwrap_or_default() != l.resource_type
            || s(res, "name").unwrap_or_default() != l.name
        {
            continue;
        }
        let Some(insts) = doc.dom.get(doc.src, res, "instances") else {
            continue;
        };
        for (i, inst) in doc.dom.elements(insts).enumerate() {
            let key = doc
                .dom
                .get(doc.src, inst, "index_key")
                .map(|k| compact(doc.raw(k)));
            if key == l.index_key && s(inst, "deposed") == l.deposed {
                return Some(format!("/resources/{r}/instances/{i}"));
            }
        }
    }
    None
}

/// Where an entry's value (and its version trigger) are in this state.
fn locate(doc: &Doc<'_>, e: &ManifestEntry) -> Option<(String, Option<String>)> {
    let Some(l) = &e.locator else {
        return Some((
            e.pointer.clone(),
            e.version_attribute.as_ref().map(|v| v.pointer.clone()),
        ));
    };
    let inst = find_instance(doc, l)?;
    let version = e.version_attribute.as_ref().map(|v| {
        let t = pointer_tokens(&v.pointer);
        format!("{inst}{}", pointer_join(&t[4.min(t.len())..]))
    });
    Some((format!("{inst}{}", l.rel), version))
}

fn strings(doc: &Doc<'_>, id: NodeId, path: &mut Vec<String>, out: &mut Vec<(String, NodeId)>) {
    match doc.kind(id) {
        Kind::Str { .. } => out.push((pointer_join(path), id)),
        Kind::Object => {
            for (k, v) in doc.dom.members(id) {
                path.push(
                    doc.dom
                        .str(doc.src, k)
                        .map(|c| c.into_owned())
                        .unwrap_or_default(),
                );
                strings(doc, v, path, out);
                path.pop();
            }
        }
        Kind::Array => {
            for (i, v) in doc.dom.elements(id).enumerate() {
                path.push(i.to_string());
                strings(doc, v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The report of a restore that has nothing to put back, told from the state alone, before
/// Secrets Manager is contacted (no region or credentials needed, as a scrub with nothing to
/// scrub): no `ref+awssecrets://` string anywhere (whatever name template the scrub used) and no
/// value scrub may have nulled for a write-only twin ([`super::plan::may_hold_a_nulled_value`]).
/// `None` when the state may hold one: [`restore`] reads the manifest to know. The state's
/// errors are [`restore`]'s.
pub fn nothing_to_restore(
    src: &[u8],
    file: &str,
    prefix: &str,
    write: bool,
) -> Result<Option<RestoreReport>, ScrubError> {
    super::check_prefix(prefix, file)?;
    nothing_in(&parse_state(src, file, None)?, file, write)
}

/// [`nothing_to_restore`] of a state parsed already.
fn nothing_in(
    parsed: &ParsedState<'_>,
    file: &str,
    write: bool,
) -> Result<Option<RestoreReport>, ScrubError> {
    let (doc, serial) = (&parsed.doc, parsed.serial);
    let mut all = Vec::new();
    strings(doc, doc.root, &mut Vec::new(), &mut all);
    let referenced = all.iter().any(|(_, id)| {
        doc.dom
            .str(doc.src, *id)
            .is_some_and(|s| s.starts_with(offstate_common::reference::SCHEME))
    });
    let table = crate::table::Table::builtin().map_err(|e| ScrubError::Other {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    if referenced || super::plan::may_hold_a_nulled_value(doc, &table) {
        return Ok(None);
    }
    Ok(Some(RestoreReport {
        file: file.to_string(),
        serial_before: serial,
        serial_after: serial,
        manifest: None,
        restored: vec![],
        skipped: vec![],
        output: None,
        write,
    }))
}

/// `restore` as the CLI runs it: the state parsed (and scanned) once, and Secrets Manager
/// (`connect`) contacted only when the state may hold something to restore
/// ([`nothing_to_restore`]: no region or credentials needed otherwise).
pub async fn restore_connecting<S, F, Fut>(
    src: &[u8],
    file: &str,
    prefix: &str,
    write: bool,
    connect: F,
) -> anyhow::Result<RestoreReport>
where
    S: SecretStore,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<S>>,
{
    let prefix = super::check_prefix(prefix, file)?;
    let parsed = parse_state(src, file, None)?;
    if let Some(report) = nothing_in(&parsed, file, write)? {
        return Ok(report);
    }
    let store = connect().await?;
    Ok(restore_parsed(src, file, prefix, &store, write, &parsed).await?)
}

pub async fn restore(
    src: &[u8],
    file: &str,
    prefix: &str,
    store: &dyn SecretStore,
    write: bool,
) -> Result<RestoreReport, ScrubError> {
    let prefix = super::check_prefix(prefix, file)?;
    let parsed = parse_state(src, file, None)?;
    restore_parsed(src, file, prefix, store, write, &parsed).await
}

/// [`restore`] of `src` parsed already (`parsed`), `prefix` checked.
async fn restore_parsed(
    src: &[u8],
    file: &str,
    prefix: &str,
    store: &dyn SecretStore,
    write: bool,
    parsed: &ParsedState<'_>,
) -> Result<RestoreReport, ScrubError> {
    let (doc, lineage, serial) = (&parsed.doc, parsed.lineage.as_str(), parsed.serial);
    let mname = manifest_name(prefix, lineage);
    let manifest = load_manifest(store, &mname)
        .await
        .map_err(|error| ScrubError::Store {
            file: file.to_string(),
            address: "the scrub manifest".into(),
            pointer: String::new(),
            secret: mname.clone(),
            error: Box::new(error),
        })?;
    let mut report = RestoreReport {
        file: file.to_string(),
        serial_before: serial,
        serial_after: serial,
        manifest: manifest.as_ref().map(|_| mname.clone()),
        restored: vec![],
        skipped: vec![],
        output: None,
        write,
    };
    let mut edits: Vec<Edit> = Vec::new();
    let mut done: BTreeSet<String> = BTreeSet::new();

    // A reference whose secret (or version) is gone does not stop the run at once: every one is
    // collected, so that the error lists them all, and nothing is written.
    let mut missing: Vec<Missing> = Vec::new();
    let resolve = |reference: String, pointer: String, address: String| async move {
        let r = SecretRef::parse(&reference).map_err(|e| ScrubError::At {
            file: file.to_string(),
            pointer: pointer.clone(),
            message: e.to_string(),
        })?;
        let v = match r.resolve(store).await {
            Ok(v) => v,
            Err(ResolveError::Store { error, .. })
                if matches!(
                    error,
                    StoreError::NotFound { .. } | StoreError::ScheduledForDeletion { .. }
                ) =>
            {
                return Ok(Err(Missing {
                    secret: r.name.clone(),
                    version_id: r.version_id.clone(),
                    pointer,
                    address,
                    scheduled: matches!(error, StoreError::ScheduledForDeletion { .. }),
                }));
            }
            Err(e) => {
                return Err(ScrubError::At {
                    file: file.to_string(),
                    pointer: pointer.clone(),
                    message: match &e {
                        // ResolveError's Display, with the store error as state-scrubber shows it.
                        ResolveError::Store { reference, error } => super::store::with_advice(
                            format!(
                                "{address}: reading {reference}: {}",
                                super::store::worded(error)
                            ),
                            error,
                        ),
                        _ => format!("{address}: {e}"),
                    },
                });
            }
        };
        let text = v.expose_str().map_err(|_| ScrubError::At {
            file: file.to_string(),
            pointer: pointer.clone(),
            message: format!("{reference} holds binary data; a state attribute is a string"),
        })?;
        Ok::<_, ScrubError>(Ok(go_json_string(text)))
    };

    for e in pick_entries(
        manifest
            .as_ref()
            .map(|m| m.entries.as_slice())
            .unwrap_or(&[]),
        serial,
        &mut report.skipped,
    ) {
        let Some((ptr, vptr)) = locate(doc, e) else {
            report.skipped.push(format!(
                "{} {}: not in this state any more",
                e.address, e.attribute
            ));
            continue;
        };
        let Some(id) = doc.node_at(&ptr) else {
            report.skipped.push(format!(
                "{} {}: no value at {}",
                e.address,
                e.attribute,
                shown_pointer(&ptr)
            ));
            continue;
        };
        let expected = match e.action.as_str() {
            "null" => doc.kind(id) == Kind::Null,
            _ => doc.dom.str(doc.src, id).is_some_and(|s| s == e.reference),
        };
        if !expected {
            report.skipped.push(format!(
                "{} {}: changed since the scrub (JSON path {}); left as is",
                e.address,
                e.attribute,
                shown_pointer(&ptr)
            ));
            continue;
        }
        // A nulled attribute stays null when Terraform writes the value through its write-only
        // twin: the trigger scrub set having moved says it did, and the value of before the
        // scrub is no longer the one in use.
        if let (Some(v), Some(vp)) = (&e.version_attribute, &vptr) {
            if let Some(now) = doc.node_at(vp).map(|id| compact(doc.raw(id))) {
                if !same_trigger(&now, &v.after) {
                    report.skipped.push(format!(
                        "{} {}: changed since the scrub: its write-only twin was written again ({} is {now}, the scrub set {}); left as is",
                        e.address, e.attribute, v.attribute, v.after
                    ));
                    continue;
                }
            }
        }
        let json = match resolve(e.reference.clone(), ptr.clone(), e.address.clone()).await? {
            Ok(x) => x,
            Err(m) => {
                missing.push(m);
                done.insert(ptr);
                continue;
            }
        };
        edits.push(Edit {
            pointer: ptr.clone(),
            json,
        });
        if let (Some(v), Some(vp)) = (&e.version_attribute, vptr) {
            if let Some(vid) = doc.node_at(&vp) {
                if same_trigger(&compact(doc.raw(vid)), &v.after) {
                    edits.push(Edit {
                        pointer: vp,
                        json: v.before.clone(),
                    });
                }
            }
        }
        report.restored.push(Restored {
            pointer: ptr.clone(),
            address: e.address.clone(),
            reference: e.reference.clone(),
        });
        done.insert(ptr);
    }

    // Other `ref+awssecrets://PREFIX/...` strings: restored only when scrub wrote them, as
    // told by the manifest (the reference is one of its entries', of another serial or place:
    // Terraform moved the instance) or, the manifest lost, by the secret (DescribeSecret,
    // metadata only: scrub's `offstate:managed-by` and this lineage's `offstate:state-lineage`
    // tags). A reference of the user's own under the prefix stays as it is, with a warning.
    let known: BTreeSet<&str> = manifest
        .iter()
        .flat_map(|m| m.entries.iter().map(|e| e.reference.as_str()))
        .collect();
    let mut all = Vec::new();
    strings(doc, doc.root, &mut Vec::new(), &mut all);
    let want = format!("{}{prefix}/", offstate_common::reference::SCHEME);
    for (ptr, id) in all {
        if done.contains(&ptr) || ptr == "/lineage" {
            continue;
        }
        let Some(s) = doc.dom.str(doc.src, id) else {
            continue;
        };
        if !s.starts_with(&want) {
            continue;
        }
        if !known.contains(s.as_ref()) {
            let left = |why: &str| {
                format!("JSON path {}: a reference under the prefix that scrub did not write ({why}); left as is", shown_pointer(&ptr))
            };
            let Ok(r) = SecretRef::parse(&s) else {
                report.skipped.push(left("not one scrub writes"));
                continue;
            };
            let meta = store.describe(&r.name).await.map_err(|e| ScrubError::At {
                file: file.to_string(),
                pointer: ptr.clone(),
                message: super::store::with_advice(
                    format!(
                        "reading the tags of secret {}, to tell whether scrub wrote this reference: {}",
                        r.name,
                        super::store::worded(&e)
                    ),
                    &e,
                ),
            })?;
            if !meta.as_ref().is_some_and(|m| scrubbed_for(m, lineage)) {
                report.skipped.push(left(&format!(
                    "no manifest entry holds it, and secret {} {}",
                    r.name,
                    if meta.is_some() {
                        "is not one scrub made for this state (its offstate:managed-by and offstate:state-lineage tags)"
                    } else {
                        "does not exist"
                    }
                )));
                continue;
            }
        }
        let json = match resolve(s.to_string(), ptr.clone(), String::new()).await? {
            Ok(x) => x,
            Err(m) => {
                missing.push(m);
                continue;
            }
        };
        edits.push(Edit {
            pointer: ptr.clone(),
            json,
        });
        report.restored.push(Restored {
            pointer: ptr,
            address: String::new(),
            reference: s.into_owned(),
        });
    }

    if !missing.is_empty() {
        return Err(ScrubError::Other {
            file: file.to_string(),
            message: missing_message(&missing),
        });
    }
    if report.restored.is_empty() {
        return Ok(report);
    }
    let (out, new_serial) =
        super::rewrite::apply(src, doc, &edits).map_err(|error| ScrubError::Rewrite {
            file: file.to_string(),
            error,
        })?;
    report.serial_after = new_serial;
    if write {
        report.output = Some(out);
    }
    Ok(report)
}

/// Whether scrub made the secret `meta` describes for a state of `lineage`: its tags say so.
fn scrubbed_for(meta: &SecretMeta, lineage: &str) -> bool {
    meta.tags.get(TAG_MANAGED_BY).map(String::as_str) == Some("state-scrubber")
        && meta.tags.get(TAG_LINEAGE) == Some(&tag_value(lineage))
}

/// Whether a version trigger (compact JSON) still holds what scrub set (`after`): scrub writes a
/// number, and Terraform writes it back as a string where the attribute is one
/// (`plaintext_wo_version`), `1` then `"1"`.
fn same_trigger(now: &str, after: &str) -> bool {
    let text = |raw: &str| match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::String(s)) => s,
        _ => raw.to_string(),
    };
    now == after || text(now) == text(after)
}

/// A reference whose secret, or version, Secrets Manager no longer has.
struct Missing {
    secret: String,
    version_id: Option<String>,
    pointer: String,
    address: String,
    /// Scheduled for deletion (RestoreSecret brings it back) rather than not found.
    scheduled: bool,
}

/// Every missing secret with its JSON path, and what to do (one line: the CLI prints errors on
/// one line).
fn missing_message(missing: &[Missing]) -> String {
    let mut s = format!(
        "{} referenced secret(s) cannot be read, so nothing was restored (restore writes every value or none):",
        missing.len()
    );
    for (i, m) in missing.iter().enumerate() {
        let who = if m.address.is_empty() {
            String::new()
        } else {
            format!(", {}", m.address)
        };
        let what = match (&m.version_id, m.scheduled) {
            (_, true) => "scheduled for deletion".to_string(),
            (Some(v), false) => format!("not found (the secret, or its version {v})"),
            (None, false) => "not found".to_string(),
        };
        let sep = if i == 0 { " " } else { "; " };
        let _ = write!(
            s,
            "{sep}secret {} (JSON path {}{who}): {what}",
            m.secret,
            shown_pointer(&m.pointer)
        );
    }
    let _ = write!(
        s,
        ". A secret scheduled for deletion comes back with `aws secretsmanager restore-secret --secret-id NAME`; \
         one deleted for good must be created again with its value (`aws secretsmanager create-secret --name NAME \
         --client-request-token VERSION_ID ...`, the version_id of its reference, or put-secret-value when the \
         secret is there and only the version is gone), or its value put back by hand from a backup of the \
         state. Then run restore again"
    );
    s
}

/// For each place in the manifest, the entry of the latest scrub that is not newer than this
/// state (`serial`): the scrub that produced it, or the last one before Terraform wrote it
/// again. Entries of other states of the lineage (its `.backup`, an older copy scrubbed under
/// the same prefix) are there too, and their values are not this state's. Format 1 entries have
/// no serial and count as the oldest.
fn pick_entries<'m>(
    entries: &'m [ManifestEntry],
    serial: u64,
    skipped: &mut Vec<String>,
) -> Vec<&'m ManifestEntry> {
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    let mut by_place: Vec<Vec<&ManifestEntry>> = Vec::new();
    for e in entries {
        let i = *index.entry(e.key()).or_insert_with(|| {
            by_place.push(vec![]);
            by_place.len() - 1
        });
        by_place[i].push(e);
    }
    let mut out = Vec::new();
    for es in by_place {
        // `max_by_key` keeps the last of equals: the later entry of a format 1 manifest.
        match es
            .iter()
            .filter(|e| e.serial.unwrap_or(0) <= serial)
            .max_by_key(|e| e.serial.unwrap_or(0))
        {
            Some(e) => out.push(*e),
            None => {
                let e = es[0];
                skipped.push(format!(
                    "{} {}: every recorded scrub of it is newer than this state (serial {serial}); left as is",
                    e.address, e.attribute
                ));
            }
        }
    }
    out
}

pub fn render(r: &RestoreReport) -> String {
    let mut s = String::new();
    for k in &r.skipped {
        let _ = writeln!(s, "warning: {k}");
    }
    if r.restored.is_empty() {
        let _ = writeln!(s, "{}: nothing to restore", r.file);
        return s;
    }
    let _ = writeln!(s, "--- {} (serial {})", r.file, r.serial_before);
    let _ = writeln!(s, "+++ {} (serial {})", r.file, r.serial_after);
    for it in &r.restored {
        let who = if it.address.is_empty() {
            String::new()
        } else {
            format!("{} ", it.address)
        };
        let _ = writeln!(s, "~ {who}{}", it.pointer);
        let _ = writeln!(s, "    - {}", it.reference);
        let _ = writeln!(s, "    + {MASKED}");
    }
    if r.write {
        let _ = writeln!(s, "{} value(s) restored", r.restored.len());
    } else {
        let _ = writeln!(
            s,
            "dry run: {} value(s) would be restored; nothing was written (use --write)",
            r.restored.len()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use offstate_common::store::memory::MemoryStore;

    fn parses() -> usize {
        super::super::PARSES.with(|p| p.get())
    }

    /// A runtime, a state with one password, the store it was scrubbed into (`--write`, prefix
    /// `test/app`) and the scrub's report.
    fn scrubbed_state() -> (
        tokio::runtime::Runtime,
        String,
        MemoryStore,
        super::super::ScrubReport,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let state = serde_json::json!({"version": 4, "terraform_version": "1.15.0", "serial": 1,
            "lineage": "0a1b2c3d-0000-4000-8000-00000000aa01", "outputs": {},
            "resources": [{"mode": "managed", "type": "aws_db_instance", "name": "main",
                "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
                "instances": [{"schema_version": 2,
                    "attributes": {"id": "db-1", "password": "Pl4nted-Only-In-This-Test"},
                    "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]]}]}]})
        .to_string();
        let store = MemoryStore::new("eu-west-1", "111122223333");
        let opts = super::super::ScrubOptions {
            write: true,
            ..super::super::ScrubOptions::new("test/app")
        };
        let scrubbed = rt
            .block_on(super::super::scrub(
                state.as_bytes(),
                "s",
                &opts,
                Some(&store),
            ))
            .map_err(|e| e.to_string())
            .unwrap();
        (rt, state, store, scrubbed)
    }

    /// The CLI's restore parsed and scanned the state twice when it connected: once to tell
    /// whether there was anything to restore, once to restore. Once now; and with nothing to
    /// restore it does not connect.
    #[test]
    fn restore_parses_the_state_once_and_connects_only_when_needed() {
        let (rt, state, store, scrubbed) = scrubbed_state();
        let scrubbed = scrubbed.output.expect("scrubbed");
        let before = parses();
        let report = rt
            .block_on(restore_connecting(
                &scrubbed,
                "s",
                "test/app",
                true,
                || async { Ok(store) },
            ))
            .map_err(|e| e.to_string())
            .unwrap();
        assert_eq!(parses() - before, 1, "parses of the state");
        assert_eq!(report.restored.len(), 1);
        assert!(report.output.is_some());

        let before = parses();
        let report = rt
            .block_on(restore_connecting(
                state.as_bytes(),
                "s",
                "test/app",
                true,
                || async { Err::<MemoryStore, _>(anyhow::anyhow!("connected")) },
            ))
            .map_err(|e| e.to_string())
            .unwrap();
        assert_eq!(parses() - before, 1, "parses of the state");
        assert!(report.restored.is_empty() && report.output.is_none());
    }

    /// The diffs of `scrub` and `restore` show a value as `<secret>`, not its length: a
    /// 4-digit PIN was visible as such in `<secret: 4 chars>`.
    #[test]
    fn the_diffs_do_not_show_a_value_s_length() {
        let (rt, _, store, scrubbed) = scrubbed_state();
        let diff = super::super::render(&scrubbed);
        let output = scrubbed.output.expect("scrubbed");
        let report = rt
            .block_on(restore_connecting(
                &output,
                "s",
                "test/app",
                false,
                || async { Ok(store) },
            ))
            .map_err(|e| e.to_string())
            .unwrap();
        let back = render(&report);
        // Neither shows the value; each shows the one value as `<secret>`, and no count.
        for (what, text, line) in [
            ("scrub", &diff, "    - <secret>\n"),
            ("restore", &back, "    + <secret>\n"),
        ] {
            assert!(!text.contains("Pl4nted"), "{what}: the value is shown");
            assert!(text.contains(line), "{what}: no {line:?} in\n{text}");
            assert_eq!(text.matches("<secret").count(), 1, "{what}:\n{text}");
            assert!(
                !text.contains(" chars>"),
                "{what}: a length is shown in\n{text}"
            );
        }
    }
}
