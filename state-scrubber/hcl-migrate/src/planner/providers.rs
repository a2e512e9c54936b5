//! The offstate provider's `required_providers` entry: finding it (also in override and
//! `.tf.json` files migrate does not rewrite), its local name, and adding it when none is there.

use super::{body_insertion, key_start, span_of, Planner};
use crate::edit::Edit;
use crate::module::OtherFile;
use crate::report::{EditKind, Note};
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::Block;
use std::collections::BTreeMap;

impl<'a> Planner<'a> {
    /// The source address of the provider resource `block` (of type `ty`) uses, lowercase and
    /// without `registry.terraform.io/`: the local name its `provider` meta-argument names
    /// (`google-beta`, `aws.west`), or else the first word of its type, looked up in
    /// `required_providers` (an override file's entry first, as Terraform merges them; then the
    /// `.tf` files', then a `.tf.json` file's). A name declared without `source`, or not declared,
    /// is `hashicorp/<name>`; the type's own provider, not declared, is `table` (the table's).
    pub(super) fn resource_provider(
        &self,
        file: usize,
        block: &Block,
        ty: &str,
        table: &str,
    ) -> String {
        let named = block.body.get_attribute("provider").and_then(|attr| {
            let text = self.src(file).get(span_of(&attr.value))?.trim();
            // The legacy quoted form, `provider = "google-beta"`, names the same.
            let text = text.trim_matches('"');
            let local = text.split('.').next()?.trim();
            (!local.is_empty()).then(|| local.to_owned())
        });
        let implied = ty.split('_').next().unwrap_or(ty);
        let local = named.as_deref().unwrap_or(implied);
        let declared = match self.overrides.get(local) {
            Some((_, source)) => Some(source.clone()),
            None => self.declared_source(local),
        };
        let source = match declared {
            Some(Some(source)) => source,
            Some(None) => format!("hashicorp/{local}"),
            None if local == implied => table.to_owned(),
            None => format!("hashicorp/{local}"),
        };
        let source = source.trim().to_ascii_lowercase();
        source
            .strip_prefix("registry.terraform.io/")
            .unwrap_or(&source)
            .to_owned()
    }

    /// The `required_providers` entry for `local` in the module's `.tf` files, else in a
    /// `.tf.json` file: `Some(None)` when it has no `source`; `None` when none declares it.
    fn declared_source(&self, local: &str) -> Option<Option<String>> {
        let hcl = self.blocks("terraform").find_map(|(_, block)| {
            block
                .body
                .get_blocks("required_providers")
                .flat_map(|rp| rp.body.attributes())
                .find(|entry| entry.key.as_str() == local)
                .map(|entry| entry_source(&entry.value))
        });
        hcl.or_else(|| {
            self.others.iter().find_map(|other| {
                primary_required_providers(other)?
                    .into_iter()
                    .find(|(name, _)| name == local)
                    .map(|(_, source)| source)
            })
        })
    }

    /// The entry of `required_providers` whose `source` is offstate: `offstate/offstate` (any
    /// spelling Terraform takes for it), else a private registry's `HOST/NAMESPACE/offstate`
    /// (see [`OffstateSource`]). Its local name, where it is, its source and which kind it is.
    pub(super) fn required_offstate(&self) -> Option<RequiredOffstate> {
        let entries: Vec<RequiredOffstate> = self
            .blocks("terraform")
            .flat_map(|(file, block)| {
                block
                    .body
                    .get_blocks("required_providers")
                    .flat_map(|rp| rp.body.attributes())
                    .filter(|entry| !self.overrides.contains_key(entry.key.as_str()))
                    .filter_map(move |entry| {
                        let (source, kind) = offstate_entry_source(&entry.value)?;
                        Some(RequiredOffstate {
                            name: entry.key.as_str().to_owned(),
                            at: (file, key_start(entry)),
                            source,
                            kind,
                        })
                    })
            })
            .collect();
        let canonical = entries
            .iter()
            .position(|e| e.kind == OffstateSource::Canonical);
        let mut entries = entries;
        match canonical {
            Some(index) => Some(entries.swap_remove(index)),
            None => entries.into_iter().next(),
        }
    }

    /// The name to call the offstate provider by: the local name `required_providers` gives
    /// it, or `offstate`, which the entry migrate adds uses.
    pub(super) fn offstate_name(&self) -> &str {
        self.offstate_local.as_deref().unwrap_or("offstate")
    }

    /// When no `required_providers` entry is `offstate/offstate` but the entry named `offstate`
    /// is another provider, why nothing needing offstate is written: Terraform gives a resource
    /// type's first word to the provider of that local name, so `offstate_secret` would belong
    /// to that provider (which does not have it), and the entry migrate adds would be a second
    /// `offstate`. An override file's `offstate` entry is the one Terraform uses.
    pub(super) fn offstate_taken(&self) -> Option<String> {
        if self.offstate_local.is_some() {
            return None;
        }
        // An override file's entry replaces the primary one.
        let (at, source) = match self.overrides.get("offstate") {
            Some((file, source)) => (file.clone(), source.clone()),
            None => self.blocks("terraform").find_map(|(file, block)| {
                let entry = block
                    .body
                    .get_blocks("required_providers")
                    .find_map(|rp| rp.body.get_attribute("offstate"))?;
                let path = self.files[file]
                    .path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                let line = self.line(file, key_start(entry));
                Some((format!("{path}:{line}"), entry_source(&entry.value)))
            })?,
        };
        // The legacy form, `offstate = "~> 1.0"`, and an entry without `source` mean
        // hashicorp/offstate.
        let source = source.unwrap_or_else(|| "hashicorp/offstate".to_owned());
        // `acme/offstate` on a public registry: a provider that only shares offstate's name.
        let other_namespace = source
            .to_ascii_lowercase()
            .rsplit('/')
            .next()
            .is_some_and(|ty| ty == "offstate");
        let what = if other_namespace {
            ", a provider named offstate in another namespace of a public registry, which migrate does not take \
             for offstate/offstate; it"
        } else {
            ", which"
        };
        Some(format!(
            "`required_providers` ({at}) gives the local name `offstate` to `{source}`{what} would then own \
             `offstate_secret`; add `offstate/offstate` there under another local name (migrate then writes \
             `provider = <that name>`) and migrate again"
        ))
    }

    /// The offstate entry (`offstate/offstate` first, else a private registry's) that an
    /// override file's `required_providers` gives the module: migrate uses it and adds none.
    pub(super) fn override_offstate(&self) -> Option<JsonOffstate> {
        preferred_offstate(
            self.overrides
                .iter()
                .map(|(local, (file, source))| (file.as_str(), local.as_str(), source.as_deref())),
        )
    }

    /// `provider = <local name>` for an `offstate_secret` migrate writes, when the local name
    /// is not `offstate`: Terraform takes a resource type's provider from the type's prefix,
    /// so without it `offstate_secret` would need `hashicorp/offstate`.
    pub(super) fn provider_line(&self, indent: &str) -> Option<String> {
        self.offstate_local
            .as_deref()
            .filter(|name| *name != "offstate")
            .map(|name| format!("{indent}provider = {name}"))
    }

    /// The offstate entry of a `required_providers` block in a primary `.tf.json` file, if one
    /// has such a block; `Err` with what to do when it lists no offstate: Terraform takes one
    /// `required_providers` per module (override files aside), and migrate does not rewrite
    /// `.tf.json` files, so the entry cannot be added.
    pub(super) fn json_required_providers(&self) -> Result<Option<JsonOffstate>, String> {
        for other in self.others {
            let name = other.name();
            let Some(mut entries) = primary_required_providers(other) else {
                continue;
            };
            entries.retain(|(local, _)| !self.overrides.contains_key(local));
            let entry = preferred_offstate(
                entries
                    .iter()
                    .map(|(local, source)| (name.as_str(), local.as_str(), source.as_deref())),
            );
            if entry.is_some() {
                return Ok(entry);
            }
            let add = match entries.iter().find(|(local, _)| local == "offstate") {
                // The legacy form, `"offstate": "~> 1.0"`, means hashicorp/offstate.
                Some((_, source)) => format!(
                    "add `offstate/offstate` there under a local name other than `offstate`, which is `{}` there \
                     (migrate then writes `provider = <that name>`)",
                    source.as_deref().unwrap_or("hashicorp/offstate")
                ),
                None if crate::module::is_json(&name) => {
                    "add `\"offstate\": { \"source\": \"offstate/offstate\" }` there".to_owned()
                }
                None => "add `offstate = { source = \"offstate/offstate\" }` there".to_owned(),
            };
            return Err(format!(
                "`{name}` holds this module's `required_providers`, which migrate does not rewrite, and Terraform \
                 takes only one `required_providers` per module, so migrate cannot add offstate to it; {add} and \
                 migrate again"
            ));
        }
        Ok(None)
    }

    pub(super) fn required_providers(&mut self, fallback_file: usize) {
        if let Some(entry) = self.json_offstate.take() {
            let JsonOffstate {
                file,
                name,
                source,
                kind,
            } = &entry;
            let at = self.files.first().map(|f| {
                f.path
                    .parent()
                    .map(|p| p.join(file))
                    .unwrap_or_else(|| file.into())
            });
            if let Some(path) = at {
                if *kind == OffstateSource::PrivateRegistry {
                    self.plan.infos.push(Note {
                        path: path.clone(),
                        line: 0,
                        message: format!(
                            "`required_providers` ({file}) gives `{name}` the source `{source}`, which migrate takes for \
                             offstate/offstate from a private registry (its type is `offstate`), so what migrate writes \
                             uses it; if `{source}` is another provider, do not apply this: add `offstate/offstate` there \
                             under another local name and migrate again"
                        ),
                    });
                }
                if name != "offstate" {
                    self.plan.infos.push(Note {
                        path,
                        line: 0,
                        message: format!(
                            "`required_providers` ({file}) names `{}` `{name}`: the `offstate_secret` resources migrate \
                             writes say `provider = {name}`, and references call `provider::{name}::ref`",
                            if *kind == OffstateSource::Canonical { "offstate/offstate" } else { source }
                        ),
                    });
                }
            }
            return;
        }
        let terraform: Vec<(usize, &Block)> = self.blocks("terraform").collect();
        if let Some(RequiredOffstate {
            name,
            at: (file, at),
            source,
            kind,
        }) = self.required_offstate()
        {
            if kind == OffstateSource::PrivateRegistry {
                let path = self.files[file]
                    .path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                let line = self.line(file, at);
                self.info(file, at, format!(
                    "`required_providers` ({path}:{line}) gives `{name}` the source `{source}`, which migrate takes for \
                     offstate/offstate from a private registry (its type is `offstate`), so what migrate writes uses it; \
                     if `{source}` is another provider, do not apply this: add `offstate/offstate` there under another \
                     local name and migrate again"
                ));
            }
            if name != "offstate" {
                self.info(file, at, format!(
                    "`required_providers` names `{}` `{name}`: the `offstate_secret` resources migrate writes \
                     say `provider = {name}`, and references call `provider::{name}::ref`",
                    if kind == OffstateSource::Canonical { "offstate/offstate" } else { &source }
                ));
            }
            return;
        }
        for (file, block) in &terraform {
            let src = self.src(*file);
            if let Some(rp) = block.body.get_blocks("required_providers").next() {
                let last = rp.body.iter().map(span_of).max_by_key(|span| span.end);
                let insertion = body_insertion(src, rp, last.clone());
                let indent = &insertion.indent;
                let text = format!(
                    "{indent}offstate = {{\n{indent}  source = \"offstate/offstate\"\n{indent}}}"
                );
                let at = last.map_or(span_of(rp).start, |span| span.end);
                for edit in insertion.edits(&text, false, "\n") {
                    self.edit(*file, edit);
                }
                self.note_edit(
                    *file,
                    at,
                    EditKind::RequiredProviders,
                    "added `offstate = { source = \"offstate/offstate\" }` to required_providers"
                        .to_owned(),
                );
                return;
            }
        }
        let rp = |indent: &str| {
            format!(
                "{indent}required_providers {{\n{indent}  offstate = {{\n{indent}    source = \"offstate/offstate\"\n{indent}  }}\n{indent}}}"
            )
        };
        if let Some((file, block)) = terraform.first() {
            let src = self.src(*file);
            let last = block.body.iter().map(span_of).max_by_key(|span| span.end);
            let blank_line = last.is_some();
            let insertion = body_insertion(src, block, last.clone());
            let at = last.map_or(span_of(*block).start, |span| span.end);
            for edit in insertion.edits(&rp(&insertion.indent), blank_line, "\n") {
                self.edit(*file, edit);
            }
            self.note_edit(
                *file,
                at,
                EditKind::RequiredProviders,
                "added a `required_providers` block with `offstate`".to_owned(),
            );
            return;
        }
        let src = self.src(fallback_file);
        let lead = if src.ends_with('\n') || src.is_empty() {
            "\n"
        } else {
            "\n\n"
        };
        let text = format!("{lead}terraform {{\n{}\n}}\n", rp("  "));
        self.added_terraform_block = Some((fallback_file, src.len()));
        self.edit(fallback_file, Edit::insert(src.len(), text));
        self.note_edit(
            fallback_file,
            src.len(),
            EditKind::RequiredProviders,
            "added a `terraform` block requiring `offstate/offstate`".to_owned(),
        );
    }
}

/// The `required_providers` entries of a `.tf.json` file (local name, source: `None` in the
/// legacy form, a version constraint alone), if it has such a block. Terraform's JSON syntax
/// takes a block as an object or as an array of objects.
fn json_required_providers(src: &str) -> Option<Vec<(String, Option<String>)>> {
    fn objects(value: &serde_json::Value) -> Vec<&serde_json::Map<String, serde_json::Value>> {
        match value {
            serde_json::Value::Object(map) => vec![map],
            serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_object()).collect(),
            _ => Vec::new(),
        }
    }
    let root: serde_json::Value = serde_json::from_str(src).ok()?;
    let blocks: Vec<_> = objects(root.get("terraform")?)
        .into_iter()
        .filter_map(|terraform| terraform.get("required_providers"))
        .flat_map(objects)
        .collect();
    if blocks.is_empty() {
        return None;
    }
    Some(
        blocks
            .into_iter()
            .flat_map(|block| block.iter())
            .map(|(local, entry)| {
                let source = entry
                    .get("source")
                    .and_then(|s| s.as_str())
                    .map(str::to_owned);
                (local.clone(), source)
            })
            .collect(),
    )
}

/// The `required_providers` entries of a module's override files (`override.tf`,
/// `*_override.tf` and their `.tf.json` forms), merged as Terraform merges them: an entry takes
/// the place of the primary files' entry of the same local name, whole, and a later override
/// file's (in name order, as Terraform reads them) takes the place of an earlier one's. Local
/// name → (file name, source; `None` for the legacy form or an entry without `source`).
pub(super) fn override_required_providers(
    others: &[OtherFile],
) -> BTreeMap<String, (String, Option<String>)> {
    let mut out = BTreeMap::new();
    for other in others {
        let name = other.name();
        if !crate::module::is_override(&name) {
            continue;
        }
        let entries = if crate::module::is_json(&name) {
            json_required_providers(&other.src).unwrap_or_default()
        } else {
            hcl_required_providers(&other.src)
        };
        for (local, source) in entries {
            out.insert(local, (name.clone(), source));
        }
    }
    out
}

/// The `required_providers` entries of a primary (not override) file migrate does not rewrite,
/// if it has such a block: a `.tf.json` file, an OpenTofu file (`.tofu`, `.tofu.json`), which
/// OpenTofu takes as the module's one `required_providers` as Terraform takes a `.tf.json`'s, or
/// a `.tf` file linked from outside the directory migrated.
fn primary_required_providers(other: &OtherFile) -> Option<Vec<(String, Option<String>)>> {
    let name = other.name();
    if crate::module::is_override(&name) {
        None
    } else if crate::module::is_json(&name) {
        json_required_providers(&other.src)
    } else {
        // A `.tofu` file, or a `.tf` file linked from outside the directory migrated.
        Some(hcl_required_providers(&other.src)).filter(|entries| !entries.is_empty())
    }
}

/// The `required_providers` entries of an HCL file migrate does not rewrite (local name,
/// source); none when it does not parse (Terraform refuses such a file anyway).
fn hcl_required_providers(src: &str) -> Vec<(String, Option<String>)> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let Ok((body, _)) = crate::module::parse_body(src) else {
        return Vec::new();
    };
    let entries = body
        .blocks()
        .filter(|block| block.ident.as_str() == "terraform")
        .flat_map(|block| block.body.get_blocks("required_providers"))
        .flat_map(|rp| rp.body.attributes())
        .map(|entry| (entry.key.as_str().to_owned(), entry_source(&entry.value)))
        .collect();
    entries
}

/// The offstate entry among `entries` (file name, local name, source) of files migrate does
/// not rewrite: `offstate/offstate` first, else a private registry's (see [`OffstateSource`]).
fn preferred_offstate<'e>(
    entries: impl Iterator<Item = (&'e str, &'e str, Option<&'e str>)> + Clone,
) -> Option<JsonOffstate> {
    let entry = |kind: OffstateSource| {
        entries.clone().find_map(|(file, local, source)| {
            let source = source?;
            (offstate_source(source) == kind).then(|| JsonOffstate {
                file: file.to_owned(),
                name: local.to_owned(),
                source: source.to_owned(),
                kind,
            })
        })
    };
    entry(OffstateSource::Canonical).or_else(|| entry(OffstateSource::PrivateRegistry))
}

/// The offstate entry of a `required_providers` block in a file migrate does not rewrite (a
/// `.tf.json` file or an override file).
pub(super) struct JsonOffstate {
    /// The file's name.
    file: String,
    pub(super) name: String,
    source: String,
    kind: OffstateSource,
}

/// A `required_providers` entry that is offstate.
pub(super) struct RequiredOffstate {
    pub(super) name: String,
    /// (file, key start)
    at: (usize, usize),
    source: String,
    kind: OffstateSource,
}

/// What a `required_providers` source address says about being the offstate provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OffstateSource {
    /// `offstate/offstate`, on the public registry Terraform or OpenTofu reads it from by default
    /// (`registry.terraform.io/` or `registry.opentofu.org/` may be spelled out).
    Canonical,
    /// `HOST/NAMESPACE/offstate` on any other host: a private registry's copy of offstate
    /// (Terraform Cloud's `app.terraform.io/ORG/offstate`, an Artifactory or a self-hosted
    /// registry keep the type and change the host and namespace), taken as offstate, with a note.
    PrivateRegistry,
    /// Anything else, `acme/offstate` on a public registry included: there the address names
    /// another provider, which only shares offstate's type name.
    Other,
}

/// Public registries, where `NAMESPACE/offstate` outside the `offstate` namespace is another
/// provider.
const PUBLIC_REGISTRIES: [&str; 2] = ["registry.terraform.io", "registry.opentofu.org"];

/// Which provider a `required_providers` source address is (Terraform compares source addresses
/// case-insensitively).
fn offstate_source(source: &str) -> OffstateSource {
    let source = source.trim().to_ascii_lowercase();
    let parts: Vec<&str> = source.split('/').collect();
    let (host, namespace, ty) = match parts.as_slice() {
        [namespace, ty] => (PUBLIC_REGISTRIES[0], *namespace, *ty),
        [host, namespace, ty] => (*host, *namespace, *ty),
        _ => return OffstateSource::Other,
    };
    if ty != "offstate" || host.is_empty() || namespace.is_empty() {
        return OffstateSource::Other;
    }
    if PUBLIC_REGISTRIES.contains(&host) {
        if namespace == "offstate" {
            OffstateSource::Canonical
        } else {
            OffstateSource::Other
        }
    } else {
        OffstateSource::PrivateRegistry
    }
}

/// The source of a `required_providers` entry, when it is offstate (see [`OffstateSource`]).
fn offstate_entry_source(entry: &Expression) -> Option<(String, OffstateSource)> {
    let source = entry_source(entry)?;
    match offstate_source(&source) {
        OffstateSource::Other => None,
        kind => Some((source, kind)),
    }
}

/// The `source` string of a `required_providers` entry in object form (`{ source = "..." }`).
fn entry_source(entry: &Expression) -> Option<String> {
    let Expression::Object(object) = entry else {
        return None;
    };
    object.iter().find_map(|(key, value)| {
        let is_source = match key {
            ObjectKey::Ident(ident) => ident.as_str() == "source",
            ObjectKey::Expression(Expression::String(s)) => s.value().as_str() == "source",
            ObjectKey::Expression(_) => false,
        };
        match value.expr() {
            Expression::String(source) if is_source => Some(source.value().to_string()),
            _ => None,
        }
    })
}
