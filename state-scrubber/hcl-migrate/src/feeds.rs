//! What feeds a secret, module by module. A module call's argument is a secret when the child
//! module holds the variable it sets as one: the variable reaches a secret-looking argument there
//! (directly, through locals, or through a module call of its own), or is sensitive. So the
//! modules the run plans are read together with the local modules they call (read only, never
//! planned), and what each holds as secrets is worked out to a fixpoint.

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
    // Per module, its calls of local modules: (call name, the child's index).
    let mut calls: Vec<Vec<(String, usize)>> = Vec::new();
    let mut at = 0;
    while at < modules.len() {
        let sources: Vec<(String, PathBuf)> = modules[at]
            .1
            .calls
            .iter()
            .filter_map(|call| {
                // Terraform reads a source as a local path only when it starts so.
                let source = call.source.as_deref()?;
                (source.starts_with("./") || source.starts_with("../"))
                    .then(|| (call.name.clone(), modules[at].0.join(source)))
            })
            .collect();
        let mut found = Vec::new();
        for (name, dir) in sources {
            let Ok(dir) = dir.canonicalize() else {
                continue;
            };
            let child = match index.get(&dir) {
                Some(&child) => child,
                None => {
                    // Outside the run (or `--no-recursive`): read for what it holds as secrets.
                    let Some(facts) = read_module(&dir) else {
                        continue;
                    };
                    modules.push((dir.clone(), facts));
                    index.insert(dir, modules.len() - 1);
                    modules.len() - 1
                }
            };
            found.push((name, child));
        }
        calls.push(found);
        at += 1;
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

/// The facts of a module migrate does not plan, or `None` when it cannot be read (Terraform
/// would refuse it too; nothing is known of its inputs then).
fn read_module(dir: &Path) -> Option<ModuleFacts> {
    let (files, others) = crate::module::load_module(dir).ok()?;
    Some(ModuleFacts::read(
        files
            .iter()
            .map(|file| file.src.as_str())
            .chain(others.iter().map(|other| other.src.as_str())),
    ))
}
