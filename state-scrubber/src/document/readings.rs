//! Keys that occur more than once: every occurrence is read (one reading of a unit per
//! occurrence), and the notes on what other readers may read differently.

use super::error::ptr;
use super::scanner::Scanner;
use super::sites::KeySite;
use crate::finding::Finding;
use crate::json::{Dom, NodeId};

/// How many readings of one unit [`Scanner::readings`] makes at most: one per occurrence of a
/// key that occurs more than once (the most occurrences of any), times as much again for such
/// keys inside an occurrence not read yet. Real files have none: Terraform never writes them.
pub const MAX_READINGS: usize = 16;

/// The notes for what readers may read differently (see [`json::Ambiguities`]), naming JSON
/// paths only.
pub(super) fn ambiguity_notes(a: &crate::json::Ambiguities) -> Vec<String> {
    let more = |kept: usize, all: usize| {
        if all > kept {
            format!(", and {} more", all - kept)
        } else {
            String::new()
        }
    };
    let mut notes = Vec::new();
    if a.duplicate_key_count > 0 {
        let places: Vec<String> = a
            .duplicate_keys
            .iter()
            .map(|(p, n)| format!("{} ({n} times)", ptr(p)))
            .collect();
        notes.push(format!(
            "a key occurs more than once in its object at {}{}: Terraform (Go's encoding/json) reads only the last occurrence, other readers the first; every occurrence was scanned. Terraform never writes a key twice: the file was edited by hand or by another tool",
            places.join(", "),
            more(a.duplicate_keys.len(), a.duplicate_key_count)
        ));
    }
    if a.lone_surrogate_count > 0 {
        let places: Vec<String> = a
            .lone_surrogates
            .iter()
            .map(|p| ptr(p).into_owned())
            .collect();
        notes.push(format!(
            "a string holds a lone UTF-16 surrogate escape (one of \\ud800-\\udfff without its pair) at {}{}: it is no character, and was read as U+FFFD, as Terraform reads it. Terraform never writes one: the file was edited by hand or by another tool",
            places.join(", "),
            more(a.lone_surrogates.len(), a.lone_surrogate_count)
        ));
    }
    notes
}

impl<'e> Scanner<'e> {
    /// Analyse a unit with `f` once per reading of its duplicated keys, so that every
    /// occurrence is seen, whichever holds a secret (see [`Dom::get`]). The first reading is
    /// Terraform's (the last occurrence of each key); the j-th next one reads the j-th
    /// occurrence of every duplicated key asked for (the last of those with fewer), and a
    /// reading that reaches more duplicated keys inside an occurrence read only now adds its
    /// own. A value found in several readings is reported once (its highest severity). A tree
    /// with no duplicated key is read once, as before.
    pub(super) fn readings(&mut self, dom: &Dom, unit: &str, mut f: impl FnMut(&mut Self)) {
        if !dom.has_duplicate_keys() {
            f(self);
            return;
        }
        type Choice = std::collections::HashMap<(NodeId, String), usize>;
        let engine = self.engine;
        // Values past the depth budget count once, in the first reading.
        let deep_before = engine.take_too_deep();
        let mut deep_first = None;
        let first = self.findings.len();
        let first_site = self.key_sites.len();
        let mut queue: Vec<Choice> = vec![Choice::new()];
        let mut done = 0;
        while let Some(choice) = queue.pop() {
            if done == MAX_READINGS {
                self.ambiguous.get_or_insert_with(|| ptr(unit).into_owned());
                break;
            }
            done += 1;
            let (before, before_site) = (self.findings.len(), self.key_sites.len());
            dom.set_choice(choice.clone());
            f(self);
            deep_first.get_or_insert(engine.take_too_deep());
            if done > 1 {
                self.merge_reading(first, before, first_site, before_site);
            }
            let asked = dom.take_asked();
            let most = asked.values().copied().max().unwrap_or(0);
            // Last pushed, first read: the earlier occurrences in order.
            for j in (0..most.saturating_sub(1)).rev() {
                let mut next = choice.clone();
                for (at, &n) in &asked {
                    next.insert(at.clone(), j.min(n - 1));
                }
                queue.push(next);
            }
        }
        dom.set_choice(Choice::new());
        engine.take_too_deep();
        engine.add_too_deep(deep_before + deep_first.unwrap_or(0));
    }

    /// Findings `[before..]` of a later reading of a unit whose earlier readings made
    /// `[first..before]`: a value already reported (same place) is reported once, with the
    /// higher severity; address keys likewise.
    fn merge_reading(
        &mut self,
        first: usize,
        before: usize,
        first_site: usize,
        before_site: usize,
    ) {
        type Place = (u32, u32, Option<String>);
        let place = |f: &Finding| -> Place { (f.line, f.column, f.inner_pointer.clone()) };
        let mut seen: std::collections::HashMap<Place, usize> = self.findings[first..before]
            .iter()
            .enumerate()
            .map(|(i, f)| (place(f), first + i))
            .collect();
        let new: Vec<Finding> = self.findings.drain(before..).collect();
        for f in new {
            match seen.get(&place(&f)) {
                Some(&i) if i < before => {
                    if f.severity > self.findings[i].severity {
                        self.findings[i] = f;
                    }
                }
                _ => {
                    seen.insert(place(&f), self.findings.len());
                    self.findings.push(f);
                }
            }
        }
        let sites: std::collections::HashSet<(u32, u32, &'static str)> = self.key_sites
            [first_site..before_site]
            .iter()
            .map(|k| (k.pos.line, k.pos.column, k.member))
            .collect();
        let new: Vec<KeySite> = self.key_sites.drain(before_site..).collect();
        self.key_sites.extend(
            new.into_iter()
                .filter(|k| !sites.contains(&(k.pos.line, k.pos.column, k.member))),
        );
    }
}
