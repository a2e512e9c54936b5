//! What feeds a secret, module by module. A module call's argument is a secret when the child
//! module holds the variable it sets as one: the variable reaches a secret-looking argument there
//! (directly, through locals, or through a module call of its own), or is sensitive. So the
//! modules the run plans are read together with the local modules they call (read only, never
//! planned), and with the remote ones (registry, git, ...) that `terraform init` fetched into
//! `.terraform/modules` (its `modules.json` names each one's directory by module key:
//! `rds`, `rds.inner`), and what each holds as secrets is worked out to a fixpoint.

use crate::redact::{ModuleFacts, SecretVariables};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What each of `planned` (a module's directory and its facts) holds as secrets, in order.
pub(crate) fn module_secrets(planned: Vec<(PathBuf, ModuleFacts)>) -> Vec<SecretVariables> {
    let count = planned.len();
    let mut modules: Vec<(PathBuf, ModuleFacts)> = planned
        .into_iter()
        .map(|(dir, facts)| (dir.canonicalize().unwrap_or(dir), facts))
        .collect();
    let mut index: HashMap<PathBuf, usize> = HashMap::new();
    for (at, (dir, _)) in modules.iter().enumerate() {
        index.entry(dir.clone()).or_insert(at);
    }
    // Per module, its calls of the modules found: (call name, the child's index).
    let mut calls: Vec<Vec<(String, usize)>> = vec![Vec::new(); modules.len()];
    let mut processed = vec![false; modules.len()];
    // Per module, its module key in the manifest of the `terraform init` that fetched its remote
    // modules (a planned module with a manifest of its own is a root: key ""), when known.
    let mut keys: Vec<Option<ModuleKey>> = vec![None; modules.len()];
    let mut pending: std::collections::VecDeque<usize> = (0..modules.len()).collect();
    while let Some(at) = pending.pop_front() {
        if keys[at].is_none() {
            keys[at] = read_manifest(&modules[at].0).map(|m| (std::rc::Rc::new(m), String::new()));
        }
        let sources: Vec<(String, PathBuf, Option<ModuleKey>)> = modules[at]
            .1
            .calls
            .iter()
            .filter_map(|call| {
                let source = call.source.as_deref()?;
                let key = keys[at].as_ref().map(|(manifest, key)| {
                    let child = if key.is_empty() {
                        call.name.clone()
                    } else {
                        format!("{key}.{}", call.name)
                    };
                    (manifest.clone(), child)
                });
                // Terraform reads a source as a local path only when it starts so; any other
                // is fetched, to where the manifest says.
                let dir = if source.starts_with("./") || source.starts_with("../") {
                    modules[at].0.join(source)
                } else {
                    let (manifest, key) = key.as_ref()?;
                    manifest.get(key)?.clone()
                };
                Some((call.name.clone(), dir, key))
            })
            .collect();
        let mut found = Vec::new();
        for (name, dir, key) in sources {
            let Ok(dir) = dir.canonicalize() else {
                continue;
            };
            let child = match index.get(&dir) {
                Some(&child) => child,
                None => {
                    // Outside the run (or `--no-recursive`), or fetched: read for what it holds
                    // as secrets.
                    let Some(facts) = read_module(&dir) else {
                        continue;
                    };
                    modules.push((dir.clone(), facts));
                    keys.push(None);
                    calls.push(Vec::new());
                    processed.push(false);
                    index.insert(dir, modules.len() - 1);
                    pending.push_back(modules.len() - 1);
                    modules.len() - 1
                }
            };
            // The key a module is first reached by; one read before it was known is read again.
            if keys[child].is_none() && key.is_some() {
                keys[child] = key;
                if processed[child] && child != at && !pending.contains(&child) {
                    pending.push_back(child);
                }
            }
            found.push((name, child));
        }
        calls[at] = found;
        processed[at] = true;
    }
    // Each round can only add names (more secret inputs make more arguments secret, which feed
    // more variables and locals), so it ends.
    let mut secrets: Vec<SecretVariables> = modules
        .iter()
        .map(|(_, facts)| facts.resolve(BTreeMap::new()))
        .collect();
    loop {
        let inputs: Vec<BTreeSet<String>> = modules
            .iter()
            .zip(&secrets)
            .map(|((_, facts), secrets)| facts.secret_inputs(secrets))
            .collect();
        let mut changed = false;
        for (at, (_, facts)) in modules.iter().enumerate() {
            let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (name, child) in &calls[at] {
                if !inputs[*child].is_empty() {
                    wanted
                        .entry(name.clone())
                        .or_default()
                        .extend(inputs[*child].iter().cloned());
                }
            }
            if wanted != secrets[at].module_inputs {
                secrets[at] = facts.resolve(wanted);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    secrets.truncate(count);
    secrets
}

/// What `terraform init` wrote of the modules it fetched: each module key's directory.
type Manifest = HashMap<String, PathBuf>;

/// A module's key (`rds.inner`) in the manifest of the `terraform init` that fetched it.
type ModuleKey = (std::rc::Rc<Manifest>, String);

/// `dir/.terraform/modules/modules.json`, the directories relative to `dir` made absolute;
/// `None` when there is none or it does not read as one.
fn read_manifest(dir: &Path) -> Option<Manifest> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(rename = "Modules")]
        modules: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(rename = "Key")]
        key: String,
        #[serde(rename = "Dir")]
        dir: PathBuf,
    }
    let text = std::fs::read_to_string(dir.join(".terraform/modules/modules.json")).ok()?;
    let file: File = serde_json::from_str(&text).ok()?;
    Some(
        file.modules
            .into_iter()
            .filter(|entry| !entry.key.is_empty())
            .map(|entry| (entry.key, dir.join(entry.dir)))
            .collect(),
    )
}

/// The facts of a module migrate does not plan, or `None` when it cannot be read (Terraform
/// would refuse it too; nothing is known of its inputs then).
fn read_module(dir: &Path) -> Option<ModuleFacts> {
    let (files, others) = crate::module::load_module(dir, None).ok()?;
    Some(ModuleFacts::read(
        files
            .iter()
            .map(|file| file.src.as_str())
            .chain(others.iter().map(|other| other.src.as_str())),
    ))
}
