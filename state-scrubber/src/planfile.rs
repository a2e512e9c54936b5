//! Saved binary plans (`terraform plan -out tfplan`): a zip archive whose members hold every value
//! of the plan in plaintext. Read without Terraform or providers:
//!
//! - `tfstate` and `tfstate-prev` (the prior state and the state before refresh) are JSON state
//!   files, scanned as they are;
//! - `tfplan` (protobuf `tfplan.Plan`, decoded with our own `proto/planfile.proto`; its values are
//!   cty's msgpack) becomes, in memory, the document `terraform show -json` would print for the
//!   parts that carry values (`variables`, `resource_changes`, `resource_drift`,
//!   `deferred_changes`, `output_changes`, `checks`, `action_invocations`,
//!   `deferred_action_invocations`), plus the plan's `backend` / `state_store` configuration in
//!   the backend cache's shape. That document goes to the plan scanner, so every rule applies.
//!
//! Each member is reported under its own label, `FILE!/MEMBER` ([`member_label`]). Other members
//! (`tfconfig/...`, the lock file) are not read. Errors never quote input bytes.

use std::cell::Cell;

use serde_json::{json, Map, Value};

/// The generated messages (public for tests that build plans; not an interface).
#[doc(hidden)]
#[allow(clippy::all, missing_debug_implementations)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/tfplan.rs"));
}

/// A member may inflate to this many bytes at most.
pub const MAX_MEMBER: u64 = 256 << 20;
/// The members read, together, may inflate to this many bytes at most.
pub const MAX_TOTAL: u64 = 512 << 20;
/// A saved plan larger than this is not read (the input reader stops there).
pub const MAX_ARCHIVE: usize = 512 << 20;
/// msgpack values nested deeper than this are refused.
const MAX_DEPTH: usize = 128;
/// The msgpack values (maps, arrays, map keys, scalars) of one plan, in all, that are decoded at
/// most. A hostile `tfplan` packs a value in each byte (a nil, 1 byte, is a JSON value of 32
/// bytes and a line of the document): unbounded, a member of 256 MiB (some 250 KB zipped) asked
/// for tens of GiB. This many cost about what the largest `tfstate` member does.
pub const MAX_VALUES: u64 = 32 << 20;
/// The `tfplan` document (pretty JSON, where each value deep in it takes a line of indentation)
/// is refused past this size.
pub const MAX_DOCUMENT: usize = 512 << 20;
/// [`Decoder`]'s error once [`MAX_VALUES`] are spent.
const TOO_MANY_VALUES: &str = "too many values";

/// The members read, in the order they are reported.
pub const MEMBERS: [&str; 3] = ["tfplan", "tfstate", "tfstate-prev"];

/// Does `bytes` start like a zip archive (a local file header)?
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// How a member of a saved plan is named in reports: `dir/tfplan!/tfstate`.
pub fn member_label(file: &str, member: &str) -> String {
    format!("{file}!/{member}")
}

/// One member to scan: its label and its JSON bytes (for `tfplan`, the equivalent `terraform
/// show -json` document), or why it could not be read (a complete message naming it).
pub struct Member {
    pub label: String,
    /// The member's name in the archive (one of [`MEMBERS`]).
    pub name: &'static str,
    pub json: Result<Vec<u8>, String>,
}

/// Open the archive and read its members. `Err` (a complete message naming `file`) when the
/// archive as a whole cannot be read or is not a saved plan.
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<Member>, String> {
    if bytes.len() >= MAX_ARCHIVE {
        return Err(format!(
            "{file}: a saved plan (zip) of {} MiB or more, not read (limit {} MiB)",
            MAX_ARCHIVE >> 20,
            MAX_ARCHIVE >> 20
        ));
    }
    // Last defence: the zip, protobuf and msgpack readers get hostile input; a panic in one of
    // them is an error for this file, not the end of the run.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_archive(file, bytes)))
        .unwrap_or_else(|_| {
            Err(format!(
                "{file}: internal error while reading the saved plan (zip); not scanned"
            ))
        })
}

/// [`read`] without its catch of a panic (for the fuzz target, which must see one).
#[doc(hidden)]
pub fn read_archive(file: &str, bytes: &[u8]) -> Result<Vec<Member>, String> {
    let entries = zipread::entries(bytes).map_err(|e| {
        format!(
            "{file}: a zip archive (saved plan?) that cannot be read ({e}): truncated or corrupt"
        )
    })?;
    let find = |name: &str| entries.iter().rev().find(|e| e.name == name.as_bytes());
    if find("tfplan").is_none() {
        return Err(format!(
            "{file}: a zip archive, but not a saved Terraform plan (no `tfplan` member)"
        ));
    }
    let sensitive = sensitive_variables(bytes, &entries);
    let mut total = 0u64;
    let mut out = Vec::new();
    for name in MEMBERS {
        let Some(entry) = find(name) else { continue };
        let label = member_label(file, name);
        let limit = MAX_MEMBER.min(MAX_TOTAL.saturating_sub(total));
        let raw = match zipread::inflate(bytes, entry, limit) {
            Ok(raw) => raw,
            Err(zipread::Error::TooLarge) => {
                let over_total = limit < MAX_MEMBER;
                let json = Err(too_large(&label, over_total));
                out.push(Member { label, name, json });
                if over_total {
                    break;
                }
                continue;
            }
            Err(zipread::Error::Bad(e)) => {
                let json = Err(format!(
                    "{label}: member cannot be read ({e}): truncated or corrupt"
                ));
                out.push(Member { label, name, json });
                continue;
            }
        };
        total += raw.len() as u64;
        let json = if name == "tfplan" {
            plan_document(&raw, &sensitive).map_err(|e| format!("{label}: {e}"))
        } else {
            Ok(raw)
        };
        out.push(Member { label, name, json });
    }
    Ok(out)
}

fn too_large(label: &str, over_total: bool) -> String {
    if over_total {
        format!(
            "{label}: the saved plan's members inflate to more than {} MiB together: refused (a zip bomb?), not scanned",
            MAX_TOTAL >> 20
        )
    } else {
        format!(
            "{label}: member inflates to more than {} MiB: refused (a zip bomb?), not scanned",
            MAX_MEMBER >> 20
        )
    }
}

/// Just enough of the zip format to read a saved plan: the central directory (no zip64, no
/// encryption, no spanning), members stored or deflated, each checked against its size and CRC.
/// Every offset and length is checked against the input; inflating stops past the limit.
mod zipread {
    use std::io::Read;

    pub struct Entry {
        pub name: Vec<u8>,
        flags: u16,
        method: u16,
        crc: u32,
        /// As the central directory says (not checked against the archive).
        pub compressed: u64,
        size: u64,
        offset: u64,
    }

    pub enum Error {
        /// The member inflates (or says it inflates) past the limit.
        TooLarge,
        /// Why the member cannot be read (no input bytes in it).
        Bad(&'static str),
    }

    fn u16_at(b: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_le_bytes(
            b.get(at..at.checked_add(2)?)?.try_into().ok()?,
        ))
    }
    fn u32_at(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_le_bytes(
            b.get(at..at.checked_add(4)?)?.try_into().ok()?,
        ))
    }

    const EOCD: &[u8] = b"PK\x05\x06";
    const CENTRAL: &[u8] = b"PK\x01\x02";
    const LOCAL: &[u8] = b"PK\x03\x04";

    /// The central directory's entries.
    pub fn entries(b: &[u8]) -> Result<Vec<Entry>, &'static str> {
        const TRUNC: &str = "no end of central directory";
        const BAD: &str = "bad central directory entry";
        // The end record: 22 bytes and a comment of up to 65535, at the very end.
        if b.len() < 22 {
            return Err(TRUNC);
        }
        let lowest = b.len().saturating_sub(22 + 0xFFFF);
        let eocd = (lowest..=b.len() - 22)
            .rev()
            .find(|&p| {
                &b[p..p + 4] == EOCD
                    && u16_at(b, p + 20).is_some_and(|c| p + 22 + c as usize == b.len())
            })
            .ok_or(TRUNC)?;
        let count = u16_at(b, eocd + 10).ok_or(TRUNC)?;
        let cd_size = u32_at(b, eocd + 12).ok_or(TRUNC)?;
        let cd_off = u32_at(b, eocd + 16).ok_or(TRUNC)?;
        if count == 0xFFFF || cd_size == u32::MAX || cd_off == u32::MAX {
            return Err("zip64 archive, not supported");
        }
        let cd = b
            .get(cd_off as usize..(cd_off as usize).saturating_add(cd_size as usize))
            .ok_or("central directory out of bounds")?;
        let mut out = Vec::new();
        let mut at = 0usize;
        for _ in 0..count {
            if cd.get(at..at + 4) != Some(CENTRAL) {
                return Err(BAD);
            }
            let name_len = u16_at(cd, at + 28).ok_or(BAD)? as usize;
            let extra_len = u16_at(cd, at + 30).ok_or(BAD)? as usize;
            let comment_len = u16_at(cd, at + 32).ok_or(BAD)? as usize;
            let name = cd.get(at + 46..at + 46 + name_len).ok_or(BAD)?.to_vec();
            out.push(Entry {
                name,
                flags: u16_at(cd, at + 8).ok_or(BAD)?,
                method: u16_at(cd, at + 10).ok_or(BAD)?,
                crc: u32_at(cd, at + 16).ok_or(BAD)?,
                compressed: u64::from(u32_at(cd, at + 20).ok_or(BAD)?),
                size: u64::from(u32_at(cd, at + 24).ok_or(BAD)?),
                offset: u64::from(u32_at(cd, at + 42).ok_or(BAD)?),
            });
            at += 46 + name_len + extra_len + comment_len;
        }
        Ok(out)
    }

    /// The member's bytes, at most `limit` of them.
    pub fn inflate(b: &[u8], e: &Entry, limit: u64) -> Result<Vec<u8>, Error> {
        const BAD: Error = Error::Bad("local header out of bounds");
        if e.flags & 1 != 0 {
            return Err(Error::Bad("encrypted member, not supported"));
        }
        if e.size == u64::from(u32::MAX) || e.compressed == u64::from(u32::MAX) {
            return Err(Error::Bad("zip64 member, not supported"));
        }
        if e.size > limit {
            return Err(Error::TooLarge);
        }
        let off = usize::try_from(e.offset).map_err(|_| BAD)?;
        if b.get(off..off.saturating_add(4)) != Some(LOCAL) {
            return Err(BAD);
        }
        let name_len = u16_at(b, off + 26).ok_or(BAD)? as usize;
        let extra_len = u16_at(b, off + 28).ok_or(BAD)? as usize;
        let start = off + 30 + name_len + extra_len;
        let data = b
            .get(start..start.saturating_add(e.compressed as usize))
            .ok_or(Error::Bad("member data out of bounds"))?;
        let out = match e.method {
            0 => data.to_vec(),
            8 => {
                let mut v = Vec::new();
                flate2::read::DeflateDecoder::new(data)
                    .take(limit + 1)
                    .read_to_end(&mut v)
                    .map_err(|_| Error::Bad("does not inflate"))?;
                v
            }
            _ => return Err(Error::Bad("compression method not supported")),
        };
        if out.len() as u64 > limit {
            return Err(Error::TooLarge);
        }
        if out.len() as u64 != e.size {
            return Err(Error::Bad("size does not match"));
        }
        if crc32fast::hash(&out) != e.crc {
            return Err(Error::Bad("checksum does not match"));
        }
        Ok(out)
    }
}

/// The root module's variables declared `sensitive = true` in the plan's snapshot of the
/// configuration (`tfconfig/m-/*.tf` and `*.tf.json`): `show -json` says so in
/// `configuration.root_module.variables`, and the plan scanner marks their values. A file that
/// is too large, does not inflate or does not parse is passed over (the values are still
/// scanned, by key name and content), and so is everything after 64 MiB of such files (read or
/// inflated, whichever is more).
fn sensitive_variables(bytes: &[u8], entries: &[zipread::Entry]) -> Vec<String> {
    const MAX_CONFIG: u64 = 8 << 20;
    let mut budget: u64 = 64 << 20;
    let mut out = Vec::new();
    for e in entries {
        let Some(file) = e.name.strip_prefix(b"tfconfig/m-/") else {
            continue;
        };
        if file.contains(&b'/') {
            continue;
        }
        let json = file.ends_with(b".tf.json");
        if !json && !file.ends_with(b".tf") {
            continue;
        }
        if budget == 0 {
            break;
        }
        // Inflating costs the bytes it reads as well as those it writes: an entry of empty
        // deflate blocks writes nothing, and the central directory may name the same data 65535
        // times. Each entry is charged the larger.
        let Ok(raw) = zipread::inflate(bytes, e, MAX_CONFIG.min(budget)) else {
            // Whether it was too large or broken, it wrote at most the limit.
            budget = budget.saturating_sub(MAX_CONFIG.max(e.compressed));
            continue;
        };
        budget = budget.saturating_sub((raw.len() as u64).max(e.compressed));
        let Ok(text) = std::str::from_utf8(&raw) else {
            continue;
        };
        if json {
            let Ok(Value::Object(top)) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            if let Some(Value::Object(vars)) = top.get("variable") {
                for (name, decl) in vars {
                    if decl.get("sensitive") == Some(&Value::Bool(true)) {
                        out.push(name.clone());
                    }
                }
            }
        } else if let Ok(body) = hcl_edit::parser::parse_body(text) {
            for block in body.blocks() {
                if block.ident.as_str() != "variable" {
                    continue;
                }
                let name = match block.labels.first() {
                    Some(hcl_edit::structure::BlockLabel::Ident(i)) => i.as_str(),
                    Some(hcl_edit::structure::BlockLabel::String(s)) => s.as_str(),
                    None => continue,
                };
                let sensitive = block.body.get_attribute("sensitive").is_some_and(
                    |a| matches!(&a.value, hcl_edit::expr::Expression::Bool(b) if *b.value()),
                );
                if sensitive {
                    out.push(name.to_string());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The `tfplan` member as the JSON document `terraform show -json` would print (the parts
/// that carry values), serialized with two-space indentation. `sensitive`: the root module's
/// variables declared sensitive (`configuration.root_module.variables.NAME.sensitive`).
pub fn plan_document(raw: &[u8], sensitive: &[String]) -> Result<Vec<u8>, String> {
    use prost::Message as _;
    let plan = proto::Plan::decode(raw)
        .map_err(|_| "not a valid plan (protobuf tfplan.Plan does not decode)".to_string())?;
    let left = Cell::new(MAX_VALUES);
    let mut doc = build(&plan, &left)?;
    if !sensitive.is_empty() {
        let vars: Map<String, Value> = sensitive
            .iter()
            .map(|n| (n.clone(), json!({"sensitive": true})))
            .collect();
        doc["configuration"] = json!({"root_module": {"variables": vars}});
    }
    let mut out = Capped {
        buf: Vec::new(),
        over: false,
    };
    serde_json::to_writer_pretty(&mut out, &doc).map_err(|_| {
        if out.over {
            format!(
                "the plan document would be larger than {} MiB: refused (a msgpack bomb?), not scanned",
                MAX_DOCUMENT >> 20
            )
        } else {
            "cannot write the plan document".to_string()
        }
    })?;
    Ok(out.buf)
}

/// A buffer that refuses to grow past [`MAX_DOCUMENT`] (`over` once it did).
struct Capped {
    buf: Vec<u8>,
    over: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.buf.len().saturating_add(b.len()) > MAX_DOCUMENT {
            self.over = true;
            return Err(std::io::Error::other("the plan document is too large"));
        }
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `key` in `doc`: the array of what `f` makes of each of `items` (`None` leaves one out);
/// nothing when there are no items.
fn insert_array<T>(
    doc: &mut Map<String, Value>,
    key: &str,
    items: &[T],
    f: impl Fn(&T) -> Result<Option<Value>, String>,
) -> Result<(), String> {
    if items.is_empty() {
        return Ok(());
    }
    let mut v = Vec::new();
    for item in items {
        if let Some(x) = f(item)? {
            v.push(x);
        }
    }
    doc.insert(key.into(), Value::Array(v));
    Ok(())
}

/// `left`: how many more msgpack values may be decoded ([`MAX_VALUES`] for the whole plan).
fn build(plan: &proto::Plan, left: &Cell<u64>) -> Result<Value, String> {
    let mut doc = Map::new();
    doc.insert("format_version".into(), json!("1.2"));
    let mut vars = Map::new();
    let mut names: Vec<&String> = plan.variables.keys().collect();
    names.sort();
    for name in names {
        let v = dynamic(Some(&plan.variables[name]), "a variable's value", left)?;
        vars.insert(name.clone(), json!({ "value": v }));
    }
    doc.insert("variables".into(), Value::Object(vars));
    let mut changes = Vec::new();
    for rc in &plan.resource_changes {
        changes.push(resource_change(rc, left)?);
    }
    doc.insert("resource_changes".into(), Value::Array(changes));
    insert_array(&mut doc, "resource_drift", &plan.resource_drift, |rc| {
        resource_change(rc, left).map(Some)
    })?;
    insert_array(&mut doc, "deferred_changes", &plan.deferred_changes, |d| {
        let Some(rc) = &d.change else { return Ok(None) };
        Ok(Some(json!({
            "reason": d.deferred.as_ref().map(|x| x.reason).unwrap_or(0),
            "resource_change": resource_change(rc, left)?,
        })))
    })?;
    let mut outputs = Map::new();
    for oc in &plan.output_changes {
        outputs.insert(oc.name.clone(), output_change(oc, left)?);
    }
    doc.insert("output_changes".into(), Value::Object(outputs));
    if !plan.check_results.is_empty() {
        let checks: Vec<Value> = plan
            .check_results
            .iter()
            .map(|c| {
                json!({
                    "address": {"to_display": c.config_addr},
                    "instances": c.objects.iter().map(|o| json!({
                        "address": {"to_display": o.object_addr},
                        "problems": o.failure_messages.iter().map(|m| json!({"message": m})).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        doc.insert("checks".into(), Value::Array(checks));
    }
    insert_array(
        &mut doc,
        "action_invocations",
        &plan.action_invocations,
        |a| action(a, left).map(Some),
    )?;
    insert_array(
        &mut doc,
        "deferred_action_invocations",
        &plan.deferred_action_invocations,
        |d| {
            let Some(a) = &d.action_invocation else {
                return Ok(None);
            };
            Ok(Some(json!({
                "reason": d.deferred.as_ref().map(|x| x.reason).unwrap_or(0),
                "action_invocation": action(a, left)?,
            })))
        },
    )?;
    // Not in `show -json`: the backend and state store configuration the plan was made with
    // (`-backend-config` credentials end up here), in the backend cache's shape.
    if let Some(b) = &plan.backend {
        if b.config.is_some() {
            let config = dynamic(b.config.as_ref(), "the backend configuration", left)?;
            doc.insert(
                "backend".into(),
                json!({"type": b.r#type, "config": config}),
            );
        }
    }
    if let Some(s) = &plan.state_store {
        let config = dynamic(s.config.as_ref(), "the state store configuration", left)?;
        let mut store = json!({"type": s.r#type, "config": config});
        if let Some(p) = &s.provider {
            let pc = dynamic(
                p.config.as_ref(),
                "the state store's provider configuration",
                left,
            )?;
            store["provider"] = json!({"source": p.source, "config": pc});
        }
        doc.insert("state_store".into(), store);
    }
    Ok(Value::Object(doc))
}

fn action_name(a: i32) -> &'static [&'static str] {
    match proto::Action::try_from(a) {
        Ok(proto::Action::Noop) => &["no-op"],
        Ok(proto::Action::Create) => &["create"],
        Ok(proto::Action::Read) => &["read"],
        Ok(proto::Action::Update) => &["update"],
        Ok(proto::Action::Delete) => &["delete"],
        Ok(proto::Action::DeleteThenCreate) => &["delete", "create"],
        Ok(proto::Action::CreateThenDelete) => &["create", "delete"],
        Ok(proto::Action::Forget) => &["forget"],
        Ok(proto::Action::CreateThenForget) => &["create", "forget"],
        Err(_) => &[],
    }
}

/// `values` holds the before and after value of an update or replace; create and read carry the
/// after value alone, delete and forget the before value alone.
fn before_after(ch: &proto::Change, left: &Cell<u64>) -> Result<(Value, Value), String> {
    let one = |i: usize| dynamic(ch.values.get(i), "a change's value", left);
    let action = proto::Action::try_from(ch.action).ok();
    Ok(match (ch.values.len(), action) {
        (0, _) => (Value::Null, Value::Null),
        (1, Some(proto::Action::Create | proto::Action::Read)) => (Value::Null, one(0)?),
        (1, Some(proto::Action::Delete | proto::Action::Forget)) => (one(0)?, Value::Null),
        // One value, any other action: read it as the after value.
        (1, _) => (Value::Null, one(0)?),
        _ => (one(0)?, one(1)?),
    })
}

fn change(ch: &proto::Change, left: &Cell<u64>) -> Result<Value, String> {
    let (before, after) = before_after(ch, left)?;
    let mut c = Map::new();
    c.insert("actions".into(), json!(action_name(ch.action)));
    c.insert(
        "before_sensitive".into(),
        sensitive_shape(&ch.before_sensitive_paths, &before),
    );
    c.insert(
        "after_sensitive".into(),
        sensitive_shape(&ch.after_sensitive_paths, &after),
    );
    c.insert("before".into(), before);
    c.insert("after".into(), after);
    if let Some(imp) = &ch.importing {
        let mut i = Map::new();
        if !imp.id.is_empty() {
            i.insert("id".into(), json!(imp.id));
        }
        if imp.identity.is_some() {
            i.insert(
                "identity".into(),
                dynamic(imp.identity.as_ref(), "an import identity", left)?,
            );
        }
        c.insert("importing".into(), Value::Object(i));
    }
    if !ch.generated_config.is_empty() {
        c.insert("generated_config".into(), json!(ch.generated_config));
    }
    for (k, v) in [
        ("before_identity", &ch.before_identity),
        ("after_identity", &ch.after_identity),
    ] {
        if v.is_some() {
            c.insert(k.into(), dynamic(v.as_ref(), "a resource identity", left)?);
        }
    }
    Ok(Value::Object(c))
}

fn resource_change(rc: &proto::ResourceInstanceChange, left: &Cell<u64>) -> Result<Value, String> {
    let a = parse_address(&rc.addr);
    let mut m = Map::new();
    m.insert("address".into(), json!(rc.addr));
    if !a.module.is_empty() {
        m.insert("module_address".into(), json!(a.module));
    }
    m.insert("mode".into(), json!(a.mode));
    m.insert("type".into(), json!(a.rtype));
    m.insert("name".into(), json!(a.name));
    if let Some(i) = a.index {
        m.insert("index".into(), i);
    }
    if !rc.deposed_key.is_empty() {
        m.insert("deposed".into(), json!(rc.deposed_key));
    }
    if !rc.provider.is_empty() {
        m.insert("provider_name".into(), json!(rc.provider));
    }
    if let Some(ch) = &rc.change {
        m.insert("change".into(), change(ch, left)?);
    }
    Ok(Value::Object(m))
}

fn output_change(oc: &proto::OutputChange, left: &Cell<u64>) -> Result<Value, String> {
    let Some(ch) = &oc.change else {
        return Ok(json!({"before_sensitive": oc.sensitive, "after_sensitive": oc.sensitive}));
    };
    let mut c = change(ch, left)?;
    if oc.sensitive {
        c["before_sensitive"] = json!(true);
        c["after_sensitive"] = json!(true);
    }
    Ok(c)
}

fn action(a: &proto::ActionInvocationInstance, left: &Cell<u64>) -> Result<Value, String> {
    let config = dynamic(a.config_value.as_ref(), "an action's configuration", left)?;
    // `[module.M.]action.TYPE.NAME[KEY]`
    let segs = segments(&a.addr);
    let at = segs.iter().rposition(|s| *s == "action");
    let (rtype, name) = match at {
        Some(i) => (
            segs.get(i + 1).copied().unwrap_or(""),
            segs.get(i + 2)
                .map(|n| n.split('[').next().unwrap_or(""))
                .unwrap_or(""),
        ),
        None => ("", ""),
    };
    Ok(json!({
        "address": a.addr,
        "type": rtype,
        "name": name,
        "provider_name": a.provider,
        "config_sensitive": sensitive_shape(&a.sensitive_config_paths, &config),
        "config_values": config,
    }))
}

struct ParsedAddress {
    module: String,
    mode: &'static str,
    rtype: String,
    name: String,
    index: Option<Value>,
}

/// The address split at dots outside brackets and quoted keys.
fn segments(addr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut escaped, mut start) = (0usize, false, false, 0usize);
    for (i, c) in addr.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            '.' if !quoted && depth == 0 => {
                out.push(&addr[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&addr[start..]);
    out
}

/// `module.a["k"].data.aws_x.y[0]` → module `module.a["k"]`, mode `data`, type, name, index.
fn parse_address(addr: &str) -> ParsedAddress {
    let segs = segments(addr);
    let mut i = 0;
    let mut module: Vec<&str> = Vec::new();
    while i + 1 < segs.len() && segs[i] == "module" && segs.len() - i > 3 {
        module.push(segs[i]);
        module.push(segs[i + 1]);
        i += 2;
    }
    let mode = if segs.get(i) == Some(&"data") && segs.len() - i >= 3 {
        i += 1;
        "data"
    } else {
        "managed"
    };
    let rtype = segs.get(i).copied().unwrap_or("").to_string();
    let last = segs.get(i + 1).copied().unwrap_or("");
    let (name, index) = match last.find('[') {
        Some(b) if last.ends_with(']') => {
            let key = &last[b + 1..last.len() - 1];
            let index = serde_json::from_str::<Value>(key)
                .ok()
                .filter(|v| v.is_number() || v.is_string())
                .unwrap_or_else(|| json!(key));
            (last[..b].to_string(), Some(index))
        }
        _ => (last.to_string(), None),
    };
    ParsedAddress {
        module: module.join("."),
        mode,
        rtype,
        name,
        index,
    }
}

/// Sensitive paths as `show -json` marks them: a tree shaped like `value` with `true` at each
/// sensitive path (`true` alone when the whole value is). A step that cannot be followed as an
/// object key or list index (a set element, an index past what the value holds) marks the
/// value it starts from.
fn sensitive_shape(paths: &[proto::Path], value: &Value) -> Value {
    let mut shape = Value::Bool(false);
    for p in paths {
        let mut steps: Vec<Step> = Vec::new();
        for s in &p.steps {
            let step = match &s.selector {
                Some(proto::path::step::Selector::AttributeName(n)) => Step::Key(n.clone()),
                Some(proto::path::step::Selector::ElementKey(k)) => match decode(&k.msgpack).ok() {
                    Some(Value::String(s)) => Step::Key(s),
                    Some(Value::Number(n)) => match n.as_u64() {
                        Some(i) => Step::Idx(i),
                        None => break,
                    },
                    _ => break,
                },
                None => break,
            };
            steps.push(step);
        }
        mark(&mut shape, value, &steps);
    }
    if shape == Value::Bool(false) {
        // `show -json` writes `{}` for an object nothing in is sensitive, `false` otherwise.
        if value.is_object() {
            return json!({});
        }
        if value.is_array() {
            return json!([]);
        }
    }
    shape
}

enum Step {
    Key(String),
    Idx(u64),
}

fn mark(shape: &mut Value, value: &Value, steps: &[Step]) {
    if *shape == Value::Bool(true) {
        return;
    }
    let Some((first, rest)) = steps.split_first() else {
        *shape = Value::Bool(true);
        return;
    };
    match (first, value) {
        (Step::Key(k), Value::Object(vm)) if vm.contains_key(k) => {
            if !shape.is_object() {
                *shape = json!({});
            }
            let inner = shape
                .as_object_mut()
                .expect("made an object")
                .entry(k.clone())
                .or_insert(Value::Bool(false));
            mark(inner, &vm[k], rest);
        }
        (Step::Idx(i), Value::Array(va)) if (*i as usize) < va.len() => {
            let i = *i as usize;
            if !shape.is_array() {
                *shape = json!([]);
            }
            let arr = shape.as_array_mut().expect("made an array");
            while arr.len() <= i {
                arr.push(Value::Bool(false));
            }
            mark(&mut arr[i], &va[i], rest);
        }
        // A path into a value that is not there (null, unknown, a missing member or element)
        // marks nothing that could be read; one that does not fit the value's shape (a set
        // element, a key into a list) marks the whole value.
        (_, Value::Null) | (Step::Key(_), Value::Object(_)) | (Step::Idx(_), Value::Array(_)) => {}
        _ => *shape = Value::Bool(true),
    }
}

/// A DynamicValue's msgpack as JSON; an absent one is null. Its values are taken from `left`.
fn dynamic(v: Option<&proto::DynamicValue>, what: &str, left: &Cell<u64>) -> Result<Value, String> {
    match v {
        None => Ok(Value::Null),
        Some(d) if d.msgpack.is_empty() => Ok(Value::Null),
        Some(d) => decode_within(&d.msgpack, left).map_err(|e| {
            if e == TOO_MANY_VALUES {
                format!("the plan holds more than {MAX_VALUES} values: refused (a msgpack bomb?), not scanned")
            } else {
                format!("{what} is not valid msgpack ({e}); not scanned")
            }
        }),
    }
}

/// cty's msgpack encoding as JSON, without a schema: maps (string keys), arrays, strings,
/// numbers, booleans, nil; an extension (cty's unknown value) becomes null, as `show -json`
/// writes unknown values; a dynamic-typed value (`[type JSON as bytes, value]`) is its value.
pub fn decode(b: &[u8]) -> Result<Value, &'static str> {
    decode_within(b, &Cell::new(MAX_VALUES))
}

/// [`decode`], taking its values from `left` (refused once it is spent).
fn decode_within(b: &[u8], left: &Cell<u64>) -> Result<Value, &'static str> {
    let mut d = Decoder { b, pos: 0, left };
    let v = d.value(0)?;
    if d.pos != b.len() {
        return Err("trailing bytes");
    }
    Ok(v)
}

struct Decoder<'a> {
    b: &'a [u8],
    pos: usize,
    /// How many more values may be decoded.
    left: &'a Cell<u64>,
}

impl<'a> Decoder<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let end = self.pos.checked_add(n).ok_or("truncated")?;
        let s = self.b.get(self.pos..end).ok_or("truncated")?;
        self.pos = end;
        Ok(s)
    }
    fn byte(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }
    fn uint(&mut self, n: usize) -> Result<u64, &'static str> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }
    fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }
    fn str_of(&mut self, n: u64) -> Result<Value, &'static str> {
        let n = usize::try_from(n).map_err(|_| "truncated")?;
        let s = self.take(n)?;
        Ok(Value::String(String::from_utf8_lossy(s).into_owned()))
    }
    fn array(&mut self, n: u64, depth: usize) -> Result<Value, &'static str> {
        // Every element takes a byte at least.
        if n > self.remaining() as u64 {
            return Err("truncated");
        }
        if n > self.left.get() {
            return Err(TOO_MANY_VALUES);
        }
        // cty's dynamic-typed value: [type JSON (bin), value].
        if n == 2 && matches!(self.b.get(self.pos), Some(0xc4..=0xc6)) {
            let _type = self.value(depth + 1)?;
            return self.value(depth + 1);
        }
        let mut v = Vec::with_capacity(n as usize);
        for _ in 0..n {
            v.push(self.value(depth + 1)?);
        }
        Ok(Value::Array(v))
    }
    fn map(&mut self, n: u64, depth: usize) -> Result<Value, &'static str> {
        if n.saturating_mul(2) > self.remaining() as u64 {
            return Err("truncated");
        }
        if n.saturating_mul(2) > self.left.get() {
            return Err(TOO_MANY_VALUES);
        }
        let mut m = Map::new();
        for _ in 0..n {
            let k = match self.value(depth + 1)? {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err("a map key that is not a string"),
            };
            let v = self.value(depth + 1)?;
            m.insert(k, v);
        }
        Ok(Value::Object(m))
    }
    fn ext(&mut self, n: usize) -> Result<Value, &'static str> {
        // type byte, then the data: cty's unknown value (with or without refinements).
        self.take(1 + n)?;
        Ok(Value::Null)
    }
    fn float(f: f64) -> Value {
        serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
    fn value(&mut self, depth: usize) -> Result<Value, &'static str> {
        if depth > MAX_DEPTH {
            return Err("nested too deeply");
        }
        let left = self.left.get().checked_sub(1).ok_or(TOO_MANY_VALUES)?;
        self.left.set(left);
        let t = self.byte()?;
        Ok(match t {
            0x00..=0x7f => json!(t),
            0x80..=0x8f => return self.map(u64::from(t & 0x0f), depth),
            0x90..=0x9f => return self.array(u64::from(t & 0x0f), depth),
            0xa0..=0xbf => return self.str_of(u64::from(t & 0x1f)),
            0xc0 => Value::Null,
            0xc1 => return Err("reserved byte"),
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4..=0xc6 => {
                let n = self.uint(1 << (t - 0xc4))?;
                return self.str_of(n);
            }
            0xc7..=0xc9 => {
                let n = self.uint(1 << (t - 0xc7))?;
                let n = usize::try_from(n).map_err(|_| "truncated")?;
                return self.ext(n);
            }
            0xca => Self::float(f64::from(f32::from_bits(self.uint(4)? as u32))),
            0xcb => Self::float(f64::from_bits(self.uint(8)?)),
            0xcc..=0xcf => json!(self.uint(1 << (t - 0xcc))?),
            0xd0..=0xd3 => {
                let n = 1usize << (t - 0xd0);
                let u = self.uint(n)?;
                let shift = 64 - 8 * n as u32;
                json!(((u << shift) as i64) >> shift)
            }
            0xd4..=0xd8 => return self.ext(1 << (t - 0xd4)),
            0xd9..=0xdb => {
                let n = self.uint(1 << (t - 0xd9))?;
                return self.str_of(n);
            }
            0xdc | 0xdd => {
                let n = self.uint(if t == 0xdc { 2 } else { 4 })?;
                return self.array(n, depth);
            }
            0xde | 0xdf => {
                let n = self.uint(if t == 0xde { 2 } else { 4 })?;
                return self.map(n, depth);
            }
            0xe0..=0xff => json!(t as i8),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msgpack_values() {
        // {"a": [1, -1, "x", nil, true], "u": unknown, "d": [bin "\"string\"", "v"]}
        let mut b = vec![0x83, 0xa1, b'a', 0x95, 0x01, 0xff, 0xa1, b'x', 0xc0, 0xc3];
        b.extend([0xa1, b'u', 0xd4, 0x00, 0x00]);
        b.extend([0xa1, b'd', 0x92, 0xc4, 0x08]);
        b.extend(b"\"string\"");
        b.extend([0xa1, b'v']);
        assert_eq!(
            decode(&b).unwrap(),
            json!({"a": [1, -1, "x", null, true], "u": null, "d": "v"})
        );
        assert_eq!(decode(&[0xd0, 0x80]).unwrap(), json!(-128));
        assert_eq!(decode(&[0xd1, 0xff, 0x00]).unwrap(), json!(-256));
        assert_eq!(decode(&[0xcd, 0x01, 0x00]).unwrap(), json!(256));
        assert_eq!(
            decode(&[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]).unwrap(),
            json!(1.5)
        );
    }

    #[test]
    fn msgpack_hostile() {
        // Claimed lengths past the input, deep nesting, reserved bytes, trailing bytes.
        for b in [
            &[0xdd, 0xff, 0xff, 0xff, 0xff][..],
            &[0xdf, 0x7f, 0xff, 0xff, 0xff],
            &[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],
            &[0xc6, 0xff, 0xff, 0xff, 0xff],
            &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x00],
            &[0xc1],
            &[0x91],
            &[0xc0, 0xc0],
            &[],
        ] {
            assert!(decode(b).is_err(), "{b:?}");
        }
        let deep = vec![0x91u8; 100_000];
        assert_eq!(decode(&deep), Err("nested too deeply"));
    }

    #[test]
    fn addresses() {
        let a = parse_address(r#"module.a["x.y"].module.b.data.aws_x.y[0]"#);
        assert_eq!(a.module, r#"module.a["x.y"].module.b"#);
        assert_eq!(
            (a.mode, a.rtype.as_str(), a.name.as_str()),
            ("data", "aws_x", "y")
        );
        assert_eq!(a.index, Some(json!(0)));
        let a = parse_address(r#"terraform_data.x["k"]"#);
        assert_eq!(
            (a.mode, a.rtype.as_str(), a.name.as_str()),
            ("managed", "terraform_data", "x")
        );
        assert_eq!(a.index, Some(json!("k")));
        assert_eq!(a.module, "");
    }

    #[test]
    fn sensitive_paths_become_marks() {
        let key = |s: &str| proto::path::Step {
            selector: Some(proto::path::step::Selector::AttributeName(s.into())),
        };
        let idx = |i: u8| proto::path::Step {
            selector: Some(proto::path::step::Selector::ElementKey(
                proto::DynamicValue { msgpack: vec![i] },
            )),
        };
        let value = json!({"a": {"b": "x", "c": "y"}, "l": ["p", "q"], "n": null});
        let paths = vec![
            proto::Path {
                steps: vec![key("a"), key("b")],
            },
            proto::Path {
                steps: vec![key("l"), idx(1)],
            },
            proto::Path {
                steps: vec![key("n"), key("z")],
            },
        ];
        assert_eq!(
            sensitive_shape(&paths, &value),
            json!({"a": {"b": true}, "l": [false, true], "n": false})
        );
        assert_eq!(
            sensitive_shape(&[proto::Path { steps: vec![] }], &value),
            json!(true)
        );
        assert_eq!(sensitive_shape(&[], &value), json!({}));
    }
}
