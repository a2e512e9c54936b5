//! Writing scrubbed values to Secrets Manager: idempotent, tagged, read back; and the scrub
//! manifest (where each value went, in particular the ones whose attribute became null).
//!
//! Idempotency: the client request token (which becomes the version id) is derived from the
//! state's lineage and serial and the value's location, never from the value. Re-running a scrub
//! of the same state (for example after a crash before the state was written) therefore finds the
//! value already current and writes nothing, or repeats the same PutSecretValue, which Secrets
//! Manager treats as a no-op.

use std::collections::BTreeMap;

use offstate_common::store::{CreateSecret, PutValue, SecretStore, StoreError, VersionSelector};
use offstate_common::SecretValue;
use sha2::{Digest, Sha256};

use super::plan::{Locator, VersionEdit};

pub const TAG_LINEAGE: &str = "offstate:state-lineage";
pub const TAG_ADDRESS: &str = "offstate:address";
pub const TAG_ATTRIBUTE: &str = "offstate:attribute";
pub const TAG_MANAGED_BY: &str = "offstate:managed-by";

/// What the store call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Created,
    NewVersion,
    Unchanged,
}

impl Stored {
    pub fn as_str(self) -> &'static str {
        match self {
            Stored::Created => "created",
            Stored::NewVersion => "new version",
            Stored::Unchanged => "already there",
        }
    }
}

/// Why a value could not be stored. No variant holds a value.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the secret is scheduled for deletion; restore it (aws secretsmanager restore-secret) or choose another --prefix")]
    ScheduledForDeletion,
    #[error("the secret exists and belongs to another state (tag {TAG_LINEAGE} is {0:?}); choose another --prefix")]
    OtherOwner(String),
    #[error("reading back version {0} gave a different value; the state was not changed")]
    ReadBack(String),
}

/// A UUID-shaped token (36 characters; Secrets Manager wants 32 to 64) from location parts.
pub fn token(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(b"offstate-scrub/v1");
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    let x = crate::finding::hex(&h.finalize()[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// Tag values allow letters, digits, spaces and `_.:/=+-@`; anything else is percent-encoded,
/// and values are cut at 256 characters.
pub fn tag_value(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c) {
            out.push(c);
        } else {
            let mut b = [0u8; 4];
            for byte in c.encode_utf8(&mut b).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out.truncate(256);
    out
}

/// Store `value` under `name` (create, or put a new version only if the current value differs),
/// then read the version back and compare in constant time. Returns the version id.
pub async fn put_idempotent(
    store: &dyn SecretStore,
    name: &str,
    value: &SecretValue,
    tags: BTreeMap<String, String>,
    description: &str,
    token: String,
) -> Result<(String, Stored), PutError> {
    let lineage = tags.get(TAG_LINEAGE).cloned().unwrap_or_default();
    let existing = store.describe(name).await?;
    let (version, stored) = match existing {
        None => {
            let created = store
                .create(CreateSecret {
                    name: name.to_string(),
                    description: Some(description.to_string()),
                    tags,
                    value: Some(value.clone()),
                    client_request_token: Some(token.clone()),
                    ..Default::default()
                })
                .await;
            match created {
                Ok(meta) => (meta.current_version_id.unwrap_or(token), Stored::Created),
                // Created concurrently (or by an earlier, interrupted run): treat as existing.
                Err(StoreError::AlreadyExists { .. }) => {
                    update_existing(store, name, value, &lineage, token).await?
                }
                Err(e) => return Err(e.withhold_value(value).into()),
            }
        }
        Some(meta) => {
            if meta.is_scheduled_for_deletion() {
                return Err(PutError::ScheduledForDeletion);
            }
            match meta.tags.get(TAG_LINEAGE) {
                Some(l) if *l == lineage => {}
                Some(l) => return Err(PutError::OtherOwner(l.clone())),
                None => return Err(PutError::OtherOwner(String::new())),
            }
            update_existing(store, name, value, &lineage, token).await?
        }
    };
    let back = store
        .get_value(name, VersionSelector::Id(version.clone()))
        .await?;
    if !back.value.ct_eq(value) {
        return Err(PutError::ReadBack(version));
    }
    Ok((version, stored))
}

async fn update_existing(
    store: &dyn SecretStore,
    name: &str,
    value: &SecretValue,
    _lineage: &str,
    token: String,
) -> Result<(String, Stored), PutError> {
    match store.get_value(name, VersionSelector::Current).await {
        Ok(cur) if cur.value.ct_eq(value) => return Ok((cur.version_id, Stored::Unchanged)),
        Ok(_) => {}
        // A secret with no version yet.
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e.into()),
    }
    let v = store
        .put_value(PutValue {
            secret_id: name.to_string(),
            value: value.clone(),
            client_request_token: Some(token),
            ..Default::default()
        })
        .await
        .map_err(|e| e.withhold_value(value))?;
    Ok((v, Stored::NewVersion))
}

/// Where scrubbed values went. Kept in Secrets Manager as the secret
/// `PREFIX/.offstate-manifest/LINEAGE` (it holds names, pointers and version ids, no value), so
/// that `restore` can put back attributes that became null for their write-only twin: those leave
/// no reference in the state.
///
/// Every state of a lineage shares the manifest: the `.backup` next to a state, an older copy,
/// a state scrubbed again after a restore. So an entry records the serial its scrub wrote, an
/// entry of another serial at the same place is kept, and restore takes, for each place, the
/// entry of the latest scrub not newer than the state it restores.
///
/// A secret value holds at most [`MAX_VALUE_BYTES`]; a manifest larger than one is split into
/// pages (`NAME/page-DIGEST`, named after their content, so a page is never rewritten with other
/// content and a manifest read between two saves always finds the pages it lists).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub format: String,
    pub lineage: String,
    /// Names of the pages holding more entries (format 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<String>,
    pub entries: Vec<ManifestEntry>,
}

pub const MANIFEST_FORMAT: &str = "offstate-scrub-manifest/2";
/// Format 1: one secret, one entry per place (the latest scrub's), no serial.
const MANIFEST_FORMAT_1: &str = "offstate-scrub-manifest/1";

/// Secrets Manager's limit on a `SecretString` (and `SecretBinary`), in bytes.
pub const MAX_VALUE_BYTES: usize = 65_536;
/// What one manifest page may take, leaving room under [`MAX_VALUE_BYTES`].
const PAGE_BYTES: usize = 60_000;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ManifestEntry {
    pub pointer: String,
    pub address: String,
    pub attribute: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locator: Option<Locator>,
    /// `reference` or `null`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twin: Option<String>,
    /// The reference string written (or, for `null`, that would have been written).
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_attribute: Option<VersionEdit>,
    /// The serial of the state this scrub wrote (`None` in format 1 manifests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<u64>,
}

impl ManifestEntry {
    /// The place in a state (independent of the instance's position in `resources`).
    pub fn key(&self) -> String {
        match &self.locator {
            Some(l) => format!(
                "{}|{}|{}|{}|{}|{}|{}",
                l.module,
                l.mode,
                l.resource_type,
                l.name,
                l.index_key.as_deref().unwrap_or(""),
                l.deposed.as_deref().unwrap_or(""),
                l.rel
            ),
            None => self.pointer.clone(),
        }
    }
}

pub fn manifest_name(prefix: &str, lineage: &str) -> String {
    let lineage: String = lineage
        .chars()
        .map(|c| {
            if offstate_common::name::is_name_char(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{}/.offstate-manifest/{lineage}",
        prefix.trim_end_matches('/')
    )
}

fn invalid_manifest(name: &str, why: &str) -> PutError {
    PutError::Store(StoreError::from_code(
        "InvalidManifest",
        format!("{name} is not a scrub manifest ({why})"),
    ))
}

async fn load_one(store: &dyn SecretStore, name: &str) -> Result<Option<Manifest>, PutError> {
    match store.get_value(name, VersionSelector::Current).await {
        Ok(v) => {
            // serde's message could quote the text; the manifest holds no value, but say nothing
            // of it anyway.
            let m: Manifest = serde_json::from_slice(v.value.expose_secret())
                .map_err(|_| invalid_manifest(name, "not its JSON"))?;
            if m.format != MANIFEST_FORMAT && m.format != MANIFEST_FORMAT_1 {
                return Err(invalid_manifest(
                    name,
                    "an unknown format; a newer state-scrubber wrote it",
                ));
            }
            Ok(Some(m))
        }
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Read the manifest, pages included; `None` when there is none.
pub async fn load_manifest(
    store: &dyn SecretStore,
    name: &str,
) -> Result<Option<Manifest>, PutError> {
    let Some(mut m) = load_one(store, name).await? else {
        return Ok(None);
    };
    for page in std::mem::take(&mut m.pages) {
        let p = load_one(store, &page)
            .await?
            .ok_or_else(|| invalid_manifest(name, "a page it lists is missing"))?;
        m.entries.extend(p.entries);
    }
    Ok(Some(m))
}

/// Merge `entries` into the manifest (an entry replaces one at the same place from the same
/// serial: a re-run of the same scrub) and store it idempotently, in pages when it is large.
pub async fn save_manifest(
    store: &dyn SecretStore,
    prefix: &str,
    lineage: &str,
    entries: Vec<ManifestEntry>,
) -> Result<String, PutError> {
    let name = manifest_name(prefix, lineage);
    let mut m = load_manifest(store, &name).await?.unwrap_or_default();
    m.format = MANIFEST_FORMAT.into();
    m.lineage = lineage.into();
    for e in entries {
        let k = e.key();
        m.entries.retain(|x| x.key() != k || x.serial != e.serial);
        m.entries.push(e);
    }
    let mut tags = BTreeMap::new();
    tags.insert(TAG_LINEAGE.to_string(), tag_value(lineage));
    tags.insert(TAG_MANAGED_BY.to_string(), "state-scrubber".to_string());
    let text = |m: &Manifest| serde_json::to_string(m).expect("manifest serialises");
    let mut head = Manifest {
        format: m.format.clone(),
        lineage: m.lineage.clone(),
        pages: vec![],
        entries: vec![],
    };
    if text(&m).len() <= PAGE_BYTES {
        head.entries = m.entries;
    } else {
        // Pages first: the head that lists them is written last, so a crash in between leaves
        // the previous head, whose pages are untouched.
        let mut page = Manifest {
            format: m.format.clone(),
            lineage: m.lineage.clone(),
            ..Default::default()
        };
        let mut pages = Vec::new();
        for e in m.entries {
            page.entries.push(e);
            if page.entries.len() > 1 && text(&page).len() > PAGE_BYTES {
                let last = page.entries.pop().expect("just pushed");
                pages.push(std::mem::take(&mut page.entries));
                page.entries.push(last);
            }
        }
        pages.push(page.entries);
        for entries in pages {
            let p = Manifest {
                format: m.format.clone(),
                lineage: m.lineage.clone(),
                pages: vec![],
                entries,
            };
            let t = text(&p);
            let digest = crate::finding::hex(&Sha256::digest(t.as_bytes())[..8]);
            let page_name = format!("{name}/page-{digest}");
            put_idempotent(
                store,
                &page_name,
                &SecretValue::from_string(t.clone()),
                tags.clone(),
                "state-scrubber scrub manifest page: where the values of this state went",
                token(&["manifest-page", lineage, &t]),
            )
            .await?;
            head.pages.push(page_name);
        }
    }
    let t = text(&head);
    // The manifest holds no secret, so its token may depend on its content.
    let tok = token(&["manifest", lineage, &t]);
    let (v, _) = put_idempotent(
        store,
        &name,
        &SecretValue::from_string(t),
        tags,
        "state-scrubber scrub manifest: where the values of this state went",
        tok,
    )
    .await?;
    Ok(v)
}
