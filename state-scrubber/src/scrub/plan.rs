//! From audit findings to a scrub plan: which values move, where to, and what replaces them.

use std::collections::BTreeMap;

use offstate_common::{SecretRef, SecretValue};

use super::names::{secret_name, NameParts};
use super::rewrite::{pointer_join, pointer_tokens, Doc};
use super::ScrubError;
use crate::document::is_dynamic_value;
use crate::finding::{Finding, Severity};
use crate::json::Kind;
use crate::table::{Row, Table};

/// Which findings to act on.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Resource addresses, address prefixes (`module.db`), `ADDRESS.ATTRIBUTE`, or rule ids.
    pub only: Vec<String>,
    pub exclude: Vec<String>,
    pub min_severity: Severity,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            only: vec![],
            exclude: vec![],
            min_severity: Severity::Low,
        }
    }
}

pub(crate) fn matches(sel: &str, f: &Finding) -> bool {
    if sel == f.rule_id || sel == f.address {
        return true;
    }
    if !f.attribute_path.is_empty() && sel == format!("{}.{}", f.address, f.attribute_path) {
        return true;
    }
    // An address prefix: a module (`module.db`) or an unindexed resource (`aws_db_instance.x`).
    f.address
        .strip_prefix(sel)
        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

impl Selection {
    pub fn selects(&self, f: &Finding) -> bool {
        f.severity >= self.min_severity
            && (self.only.is_empty() || self.only.iter().any(|s| matches(s, f)))
            && !self.exclude.iter().any(|s| matches(s, f))
    }
}

/// Where an instance is, independent of its position in `resources` (which Terraform may change
/// between the scrub and a restore). Its `Debug` shows the module path and the index key by
/// their lengths: either may be a secret (`for_each = toset([var.token])`), which the report
/// shows masked (`["…(24 chars)"]`).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Locator {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub module: String,
    pub mode: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
    /// Compact JSON of `index_key` (`0`, `"eu"`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposed: Option<String>,
    /// Pointer below the instance object, e.g. `/attributes/password`.
    pub rel: String,
}

impl std::fmt::Debug for Locator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Locator {
            module,
            mode,
            resource_type,
            name,
            index_key,
            deposed,
            rel,
        } = self;
        let len = |s: &str| format!("<{} chars>", s.chars().count());
        f.debug_struct("Locator")
            .field("module", &len(module))
            .field("mode", mode)
            .field("resource_type", resource_type)
            .field("name", name)
            .field("index_key", &index_key.as_deref().map(len))
            .field("deposed", deposed)
            .field("rel", rel)
            .finish()
    }
}

/// A change to the write-only twin's version attribute.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VersionEdit {
    pub pointer: String,
    pub attribute: String,
    /// Raw JSON before and after (a version trigger, not a secret).
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Replace the value with a `ref+awssecrets://` reference.
    Reference,
    /// Null the attribute: its write-only twin carries the value from now on.
    NullForTwin {
        twin: String,
        version: Option<VersionEdit>,
    },
}

/// One value to move.
#[derive(Debug)]
pub struct Item {
    pub pointer: String,
    pub address: String,
    pub attribute_path: String,
    pub rules: Vec<String>,
    pub severity: Severity,
    pub value: SecretValue,
    pub secret_name: String,
    pub action: Action,
    pub locator: Option<Locator>,
    /// Set once the value is stored and read back.
    pub version_id: Option<String>,
}

impl Item {
    /// The reference that replaces (or, for a nulled attribute, records) the value.
    pub fn reference(&self) -> SecretRef {
        let r = SecretRef::new(self.secret_name.clone());
        match &self.version_id {
            Some(v) => r.with_version_id(v.clone()),
            None => r,
        }
    }
}

/// Why the value at `pointer` (into a v4 or v3 state) must not be rewritten, if it is part of
/// what identifies the instance:
/// - an instance's `index_key` or `deposed` key, a resource's `module` path: a reference in
///   their place would be another instance to Terraform (destroy + create);
/// - the `id` attribute (v4 `attributes`/`attributes_flat`, v3 `primary.id` and
///   `primary.attributes.id`): every SDKv2 provider reads, imports and deletes the resource by
///   it, and one that finds nothing under a reference drops the resource from state
///   (`aws_iam_access_key`'s Read does `d.SetId("")` when the key is not found), leaving the real
///   object unmanaged;
/// - the instance's `identity` object (Terraform 1.12+): the same, for identity-aware providers;
/// - a top-level `identifier` or `*_identifier` attribute (`aws_db_instance.identifier`,
///   `aws_rds_cluster.cluster_identifier`; v4 `attributes`/`attributes_flat`, v3 `primary` and
///   `deposed` attributes): the name the provider finds the object by, which audit reports a
///   copy of a secret in at low severity for that reason. A reference there is a new name to
///   the provider: a plan that replaces the database (`identifier` forces a new resource), or a
///   read that finds nothing and drops it from state.
fn identity(pointer: &str) -> Option<&'static str> {
    const KEY: &str = "an instance or module key is part of the address and cannot be moved to Secrets Manager; key the instances by a name in the configuration";
    const ID: &str = "the resource's identity: the provider reads it by this value and would drop the resource from state. The value stays in the state; replace the resource with one whose id is not the secret (random_password instead of random_string; the secret itself is scrubbed)";
    const IDENTIFIER: &str = "the name the provider finds the resource by: a reference in its place is another name to it (a plan that replaces the resource, or a read that drops it from state). The value stays in the state; rotate the secret, and replace the resource with one whose identifier is not the secret (the secret itself is scrubbed)";
    let toks = pointer_tokens(pointer);
    let t: Vec<&str> = toks.iter().map(|t| t.as_ref()).collect();
    let identifier = |name: &str| name == "identifier" || name.ends_with("_identifier");
    match t.as_slice() {
        ["resources", _, "module"] | ["resources", _, "instances", _, "index_key" | "deposed"] => {
            Some(KEY)
        }
        ["resources", _, "instances", _, "identity", ..] => Some(ID),
        _ if crate::document::is_id_attribute(pointer) => Some(ID),
        ["resources", _, "instances", _, "attributes" | "attributes_flat", name]
        | ["modules", _, "resources", _, "primary", "attributes", name]
        | ["modules", _, "resources", _, "deposed", _, "attributes", name]
            if identifier(name) =>
        {
            Some(IDENTIFIER)
        }
        _ => None,
    }
}

/// Parsed `write_only` column: `password_wo + password_wo_version`, `x_wo (top-level)`.
struct Twin {
    attr: String,
    version: Option<String>,
    top_level: bool,
}

fn twin_of(row: &Row) -> Option<Twin> {
    let raw = row.write_only.as_deref()?;
    let top_level = raw.contains("(top-level)");
    let raw = raw.replace("(top-level)", "");
    let mut parts = raw.split('+').map(str::trim).filter(|s| !s.is_empty());
    Some(Twin {
        attr: parts.next()?.to_string(),
        version: parts.next().map(str::to_string),
        top_level,
    })
}

pub struct Planner<'d> {
    pub doc: &'d Doc<'d>,
    pub file: &'d str,
    pub prefix: &'d str,
    pub template: &'d str,
    pub lineage: &'d str,
    pub table: &'d Table,
}

impl Planner<'_> {
    fn at(&self, pointer: &str, message: impl Into<String>) -> ScrubError {
        ScrubError::At {
            file: self.file.to_string(),
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }

    /// Group the selected findings by value and decide each value's fate. Findings that must not
    /// be rewritten are dropped with a line in `notes` (no value in it).
    pub fn plan(
        &self,
        findings: &[Finding],
        sel: &Selection,
        notes: &mut Vec<String>,
    ) -> Result<Vec<Item>, ScrubError> {
        let mut groups: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in findings.iter().filter(|f| sel.selects(f)) {
            let why = if f.masked_path {
                // The path is shown with the key masked: it points at no value, and a secret
                // name made from it would be the same for every key of that length.
                Some(
                    "a map key on its path could be a secret (shown by its length), stored as \
                     written: key the map by a name in the configuration and pass the secret as a \
                     value, then rotate it",
                )
            } else {
                identity(&f.json_pointer)
            };
            let why = why.or((!f.value_type.is_string()).then_some(
                if f.json_pointer.starts_with("/outputs/") {
                    "a number marked sensitive (scrub moves strings; a reference cannot replace a number): \
                     stop exporting it from the root module, or make the output `ephemeral = true`"
                } else {
                    "a number marked sensitive (scrub moves strings; a reference cannot replace a number): \
                     set it from `offstate_secret` or an ephemeral resource"
                },
            ));
            if let Some(why) = why {
                // `output.pin: ...` (an output's value has no attribute path).
                let at = [f.address.as_str(), f.attribute_path.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ");
                let note = format!("{at}: left alone, {why}");
                if !notes.contains(&note) {
                    notes.push(note);
                }
                continue;
            }
            groups.entry(f.json_pointer.as_str()).or_default().push(f);
        }
        let mut items = Vec::new();
        for (pointer, fs) in groups {
            let first = fs[0];
            let Some(value) = self.doc.str_at(pointer) else {
                return Err(self.at(pointer, "the finding does not point at a string value"));
            };
            if SecretRef::is_reference(&value) {
                continue; // already scrubbed
            }
            if self.is_dynamic_type_descriptor(pointer) {
                // Not a value but the cty type of one: rewriting it would make the state
                // undecodable ("failed to decode type for dynamic value").
                continue;
            }
            let mut rules: Vec<String> = fs.iter().map(|f| f.rule_id.clone()).collect();
            rules.sort();
            rules.dedup();
            let severity = fs.iter().map(|f| f.severity).max().unwrap_or(Severity::Low);
            let r = &first.resource;
            let name = secret_name(
                self.template,
                &NameParts {
                    prefix: self.prefix,
                    module: &r.module,
                    mode: &r.mode,
                    resource_type: &r.resource_type,
                    name: &r.name,
                    index_key: r.index_key.as_deref(),
                    deposed: r.deposed.as_deref(),
                    attribute: &first.attribute_path,
                    lineage: self.lineage,
                },
            )
            .map_err(|e| self.at(pointer, e.to_string()))?;
            let (locator, action) = self.v4_details(pointer);
            items.push(Item {
                pointer: pointer.to_string(),
                address: first.address.clone(),
                attribute_path: first.attribute_path.clone(),
                rules,
                severity,
                value: SecretValue::from_string(value),
                secret_name: name,
                action,
                locator,
                version_id: None,
            });
        }
        // In file order; each pointer looked up once (not twice per comparison).
        items.sort_by_cached_key(|it| {
            self.doc
                .node_at(&it.pointer)
                .map(|id| self.doc.dom.node(id).start)
                .unwrap_or(0)
        });
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for it in &items {
            if let Some(other) = seen.insert(&it.secret_name, &it.pointer) {
                return Err(self.at(
                    &it.pointer,
                    format!(
                        "secret name {} is also made for `{other}`; change --name-template",
                        it.secret_name
                    ),
                ));
            }
        }
        Ok(items)
    }

    /// Is `pointer` in the `type` member of a dynamic value (`{"value": ..., "type": "string"}`, how
    /// Terraform stores an attribute of type `dynamic`, such as `terraform_data.input`)? Its text is
    /// a cty type, never a secret, and Terraform cannot decode the state without it. Audit does not
    /// report it (`document::is_dynamic_value`); this keeps scrub safe from other finding sources.
    fn is_dynamic_type_descriptor(&self, pointer: &str) -> bool {
        let toks = pointer_tokens(pointer);
        let doc = self.doc;
        (1..toks.len()).any(|i| {
            toks[i] == "type"
                && doc
                    .node_at(&pointer_join(&toks[..i]))
                    .is_some_and(|parent| is_dynamic_value(doc.src, &doc.dom, parent))
        })
    }

    /// For a value in a v4 instance's `attributes`: where the instance is, and whether the
    /// attribute has a write-only twin in this state's schema-shaped object.
    fn v4_details(&self, pointer: &str) -> (Option<Locator>, Action) {
        let toks = pointer_tokens(pointer);
        let none = (None, Action::Reference);
        if toks.len() < 6 || toks[0] != "resources" || toks[2] != "instances" {
            return none;
        }
        let doc = self.doc;
        let res_ptr = pointer_join(&toks[..2]);
        let inst_ptr = pointer_join(&toks[..4]);
        let (Some(res), Some(inst)) = (doc.node_at(&res_ptr), doc.node_at(&inst_ptr)) else {
            return none;
        };
        let s = |id, k: &str| {
            doc.dom
                .get(doc.src, id, k)
                .and_then(|n| doc.dom.str(doc.src, n))
                .map(|c| c.into_owned())
        };
        let locator = Locator {
            module: s(res, "module").unwrap_or_default(),
            mode: s(res, "mode").unwrap_or_else(|| "managed".into()),
            resource_type: s(res, "type").unwrap_or_default(),
            name: s(res, "name").unwrap_or_default(),
            index_key: doc
                .dom
                .get(doc.src, inst, "index_key")
                .map(|k| compact(doc.raw(k))),
            deposed: s(inst, "deposed"),
            rel: pointer_join(&toks[4..]),
        };
        if toks[4] != "attributes" {
            return (Some(locator), Action::Reference);
        }
        // Keys of the attribute path (array indices dropped), as the table wants them.
        let mut keys: Vec<&str> = Vec::new();
        let mut cur = doc.node_at(&pointer_join(&toks[..5]));
        let mut last_is_key = false;
        for t in &toks[5..] {
            let Some(id) = cur else { break };
            last_is_key = doc.kind(id) == Kind::Object;
            if last_is_key {
                keys.push(t);
            }
            cur = child(doc, id, t);
        }
        let table_type = if locator.mode == "data" {
            format!("data.{}", locator.resource_type)
        } else {
            locator.resource_type.clone()
        };
        let attrs_ptr = pointer_join(&toks[..5]);
        // Rows whose condition (`when`) the instance does not meet are left out, as the audit
        // does: the row that reported the value is the one that says whether it has a twin.
        let attrs = doc.node_at(&attrs_ptr).unwrap_or(inst);
        let rows: Vec<_> = self
            .table
            .for_type(&table_type)
            .into_iter()
            .filter(|r| {
                r.when.as_ref().is_none_or(|(k, v)| {
                    doc.dom
                        .get(doc.src, attrs, k)
                        .and_then(|n| doc.dom.scalar(doc.src, n))
                        .is_some_and(|s| s == v.as_str())
                })
            })
            .collect();
        let Some(row) = Table::lookup(&rows, &keys) else {
            return (Some(locator), Action::Reference);
        };
        // Only the attribute itself (not an element inside it) can be nulled for a twin.
        if !last_is_key || row.path.len() != keys.len() {
            return (Some(locator), Action::Reference);
        }
        let Some(twin) = twin_of(row) else {
            return (Some(locator), Action::Reference);
        };
        let parent_ptr = if twin.top_level {
            attrs_ptr
        } else {
            pointer_join(&toks[..toks.len() - 1])
        };
        let Some(parent) = doc.node_at(&parent_ptr) else {
            return (Some(locator), Action::Reference);
        };
        // Terraform writes every schema attribute (write-only ones as null): a missing twin key
        // means the provider version in this state has no twin, so nulling would lose the value
        // from the configuration's point of view. Keep a reference instead.
        if doc.dom.get(doc.src, parent, &twin.attr).is_none() {
            return (Some(locator), Action::Reference);
        }
        let version = twin.version.and_then(|va| {
            let id = doc.dom.get(doc.src, parent, &va)?;
            // Set the trigger only where it is unset; `1` matches what `migrate` writes.
            if doc.kind(id) != Kind::Null {
                return None;
            }
            Some(VersionEdit {
                pointer: format!("{parent_ptr}/{}", escape_token(&va)),
                attribute: va,
                before: "null".into(),
                after: "1".into(),
            })
        });
        (
            Some(locator),
            Action::NullForTwin {
                twin: twin.attr,
                version,
            },
        )
    }
}

fn child(doc: &Doc<'_>, id: crate::json::NodeId, t: &str) -> Option<crate::json::NodeId> {
    match doc.kind(id) {
        Kind::Object => doc.dom.get(doc.src, id, t),
        Kind::Array => doc.dom.elements(id).nth(t.parse().ok()?),
        _ => None,
    }
}

fn escape_token(t: &str) -> String {
    let mut s = String::new();
    crate::json::push_pointer_token(&mut s, t);
    s
}

/// Compact JSON of a raw JSON value (index keys are small scalars).
pub fn compact(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| raw.to_string())
}

/// Whether scrub may have nulled a value of this state for its write-only twin
/// ([`Action::NullForTwin`]), leaving no reference in the state: an object that holds a twin key
/// of the attribute table (Terraform writes it, null, where the provider has it) and, beside it,
/// that twin's attribute null or missing (for a `(top-level)` twin, the twin key alone is
/// enough). Errs towards yes: restore then reads the manifest to know.
pub(crate) fn may_hold_a_nulled_value(doc: &Doc<'_>, table: &Table) -> bool {
    let twins: Vec<(Twin, Option<&str>)> = table
        .rows
        .iter()
        .filter_map(|row| Some((twin_of(row)?, row.path.last().map(String::as_str))))
        .collect();
    let mut stack = vec![doc.root];
    while let Some(id) = stack.pop() {
        match doc.kind(id) {
            Kind::Object => {
                for (twin, attr) in &twins {
                    if doc.dom.get(doc.src, id, &twin.attr).is_none() {
                        continue;
                    }
                    let nulled = match attr {
                        Some(a) if !twin.top_level => doc
                            .dom
                            .get(doc.src, id, a)
                            .is_none_or(|v| doc.kind(v) == Kind::Null),
                        _ => true,
                    };
                    if nulled {
                        return true;
                    }
                }
                stack.extend(doc.dom.members(id).map(|(_, v)| v));
            }
            Kind::Array => stack.extend(doc.dom.elements(id)),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    /// What identifies an instance is never rewritten: keys, `id`, identity, and top-level
    /// `identifier`/`*_identifier` attributes in every state layout; the same names deeper
    /// down, or as part of a longer name, are values like any other.
    #[test]
    fn identity_covers_ids_and_identifiers() {
        for p in [
            "/resources/0/module",
            "/resources/0/instances/1/index_key",
            "/resources/0/instances/1/deposed",
            "/resources/0/instances/0/attributes/id",
            "/resources/0/instances/0/identity/name",
            "/resources/0/instances/0/attributes/identifier",
            "/resources/2/instances/0/attributes/cluster_identifier",
            "/resources/2/instances/0/attributes_flat/identifier",
            "/modules/0/resources/aws_db_instance.a/primary/attributes/identifier",
            "/modules/0/resources/aws_db_instance.a/deposed/0/attributes/db_cluster_identifier",
        ] {
            assert!(super::identity(p).is_some(), "{p}");
        }
        for p in [
            "/resources/0/instances/0/attributes/password",
            "/resources/0/instances/0/attributes/identifiers",
            "/resources/0/instances/0/attributes/identifier_prefix",
            "/resources/0/instances/0/attributes/restore/0/source_identifier",
            "/outputs/db_identifier/value",
            "/modules/0/outputs/identifier/value",
        ] {
            assert!(super::identity(p).is_none(), "{p}");
        }
    }
}
