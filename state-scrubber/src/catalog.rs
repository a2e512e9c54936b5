//! `state-scrubber rules`: every rule id a finding can carry (the ids `[[allow]] rules`, `scrub
//! --only/--exclude` and baselines name), and what a configuration adds and allows. Loading the
//! configuration checks it as `audit` would, so `rules --config FILE` is also its check.
//!
//! Nothing listed comes from a scanned file; examples are never printed (a configured rule's
//! are someone's idea of a secret).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use serde::Serialize;

use crate::config::Config;
use crate::finding::{Kind, Severity};
use crate::rules::Rules;
use crate::table::Table;

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Also list the content rules and allow entries of this TOML file, after checking it as
    /// `audit` does (exit 2 naming the entry on an error). Default: `.state-scrubber.toml` in the
    /// current directory, if there is one.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// One line per rule (severity, kind, id, name), grouped by layer.
    Text,
    /// For tools: `{"config", "rules", "allow"}`, each rule with its id, family, name, kind and
    /// severity (and `config`, the file, for a configured rule).
    Json,
}

/// Where a rule's findings come from, in the order the layers are numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Layer 1: the artifact marks the value sensitive.
    Mark,
    /// Layer 2: a secret attribute of a resource type (rules/attributes.tsv).
    Attribute,
    /// Layer 3: a value that is a secret whatever its key (rules/content.toml, `[[rule]]`).
    Content,
    /// Layer 4: a secret-sounding key and a value random enough (rules/context.toml).
    Key,
    /// The same value as a secret found elsewhere in the resource instance.
    SameValue,
}

impl Family {
    fn heading(self) -> &'static str {
        match self {
            Family::Mark => "layer 1, what the artifact marks sensitive",
            Family::Attribute => "layer 2, secret attributes of resource types",
            Family::Content => "layer 3, values that are secrets whatever their key",
            Family::Key => "layer 4, a secret-sounding key with a value random enough",
            Family::SameValue => "a value equal to a secret found in the same resource instance",
        }
    }
}

/// One rule id.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub id: String,
    pub family: Family,
    pub name: String,
    /// None when it depends on the finding (a mark's kind comes from its key name).
    pub kind: Option<Kind>,
    /// None when it is the severity of another finding (same-value).
    pub severity: Option<Severity>,
    /// The configuration file a rule comes from; None for a built-in rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
}

/// The `rules` globs of `config`'s allow entries that match no rule id a finding can carry (the
/// built-in ones and the file's own): (entry number from 1, glob). Such a glob allows nothing:
/// a typo (`attr.aws_db_instance.pasword`) or an id from another tool would leave the findings
/// it was written for failing the run without saying why.
pub fn dead_allow_rule_globs(config: &Config) -> anyhow::Result<Vec<(usize, String)>> {
    let table = Table::builtin().context("the built-in attribute table")?;
    let ids: Vec<String> = list(&config.compiled, &table, Some(config))
        .into_iter()
        .map(|l| l.id)
        .collect();
    Ok(config
        .allow
        .iter()
        .enumerate()
        .flat_map(|(i, a)| {
            let ids = &ids;
            a.fields()[0]
                .1
                .iter()
                .filter(move |g| !ids.iter().any(|id| crate::config::glob_match(g, id)))
                .map(move |g| (i + 1, g.clone()))
        })
        .collect())
}

/// Every rule id, in layer order; within a layer, in the order the rules are kept.
pub fn list(rules: &Rules, table: &Table, config: Option<&Config>) -> Vec<Listed> {
    use crate::detect::Mark;
    let mut out = Vec::new();
    for mark in [
        Mark::SensitiveAttributes,
        Mark::SensitiveValues,
        Mark::PlanSensitive,
        Mark::SensitiveOutput,
        Mark::SensitiveVariable,
    ] {
        out.push(Listed {
            id: mark.rule_id().to_string(),
            family: Family::Mark,
            name: mark.reason().trim_start_matches("layer 1: ").to_string(),
            kind: None,
            severity: Some(Severity::Medium),
            config: None,
        });
    }
    let mut seen = std::collections::HashSet::new();
    for row in &table.rows {
        // A `public` row reports nothing. A row given twice, under different conditions
        // (`when`), is one rule id.
        if row.treat == crate::table::Treat::Public || !seen.insert(row.rule_id()) {
            continue;
        }
        out.push(Listed {
            id: row.rule_id(),
            family: Family::Attribute,
            name: format!("{} {}", row.resource_type, row.attribute),
            kind: Some(row.kind),
            severity: Some(row.severity()),
            config: None,
        });
    }
    let configured_ids: std::collections::HashSet<&str> = config
        .iter()
        .flat_map(|c| c.rules.iter().map(|r| r.id.as_str()))
        .collect();
    let configured = |id: &str| {
        config
            .filter(|_| configured_ids.contains(id))
            .map(|c| c.file.clone())
    };
    for rule in &rules.content {
        out.push(Listed {
            id: rule.spec.id.clone(),
            family: Family::Content,
            name: rule.spec.name.clone(),
            kind: Some(rule.spec.kind),
            severity: Some(rule.spec.severity),
            config: configured(&rule.spec.id),
        });
    }
    for key in &rules.keys {
        out.push(Listed {
            id: key.spec.id.clone(),
            family: Family::Key,
            name: key.spec.name.clone(),
            kind: None,
            severity: Some(key.spec.strength.severity()),
            config: None,
        });
    }
    out.push(Listed {
        id: crate::document::SAME_VALUE_RULE.to_string(),
        family: Family::SameValue,
        name: "the same value as a secret elsewhere in the resource instance".to_string(),
        kind: None,
        severity: None,
        config: None,
    });
    out
}

pub fn run_rules(args: RulesArgs) -> anyhow::Result<crate::cli::Outcome> {
    let config = Config::discover(args.config.as_deref())?;
    let builtin;
    let rules: &Rules = match &config {
        Some(c) => &c.compiled,
        None => {
            builtin = Rules::builtin().context("the built-in rules")?;
            &builtin
        }
    };
    let table = Table::builtin().context("the built-in attribute table")?;
    let listed = list(rules, &table, config.as_ref());
    let text = match args.format {
        ListFormat::Json => {
            let allow: Vec<serde_json::Value> = config
                .iter()
                .flat_map(|c| &c.allow)
                .map(|a| {
                    let mut o = serde_json::Map::new();
                    o.insert("reason".into(), a.reason.clone().into());
                    for (field, globs) in a.fields() {
                        if !globs.is_empty() {
                            o.insert(field.into(), globs.to_vec().into());
                        }
                    }
                    o.into()
                })
                .collect();
            let doc = serde_json::json!({
                "config": config.as_ref().map(|c| c.file.clone()),
                "rules": listed,
                "allow": allow,
            });
            serde_json::to_string_pretty(&doc).expect("a list serialises") + "\n"
        }
        ListFormat::Text => render_text(&listed, config.as_ref()),
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing the list")?;
    Ok(crate::cli::Outcome::Clean)
}

/// One line a rule, fixed-width columns first: severity, kind, id, and the name where the id does
/// not already say it (an attribute rule's id is its resource type and attribute). What a
/// configuration gives (ids, names, reasons, globs) goes through [`printable`]: a control
/// character in it would rewrite the terminal.
///
/// [`printable`]: crate::report::printable
fn render_text(listed: &[Listed], config: Option<&Config>) -> String {
    use crate::report::printable;
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut family = None;
    // Per family: how many rules, and the widest id (once, not once a row: a configuration may
    // hold thousands of rules).
    let mut counts: Vec<(Family, usize, usize)> = Vec::new();
    for l in listed {
        let width = printable(&l.id).chars().count();
        match counts.iter_mut().find(|c| c.0 == l.family) {
            Some(c) => (c.1, c.2) = (c.1 + 1, c.2.max(width)),
            None => counts.push((l.family, 1, width)),
        }
    }
    let of = |f: Family| {
        counts
            .iter()
            .find(|c| c.0 == f)
            .map_or((0, 0), |c| (c.1, c.2))
    };
    for l in listed {
        if family != Some(l.family) {
            family = Some(l.family);
            let n = of(l.family).0;
            let _ = writeln!(
                out,
                "{}{} ({n} rule{})",
                if out.is_empty() { "" } else { "\n" },
                l.family.heading(),
                if n == 1 { "" } else { "s" }
            );
        }
        let id = printable(&l.id);
        let name = match l.family {
            Family::Attribute => String::new(),
            _ => {
                let width = of(l.family).1;
                let pad = width.saturating_sub(id.chars().count());
                format!("{:pad$}  {}", "", printable(&l.name))
            }
        };
        let _ = writeln!(
            out,
            "  {:8}  {:17}  {id}{name}{}",
            l.severity.map_or("varies", Severity::as_str),
            l.kind.map_or("varies", Kind::as_str),
            l.config
                .as_deref()
                .map(|f| format!("  [{}]", printable(f)))
                .unwrap_or_default(),
        );
    }
    if let Some(c) = config {
        let _ = writeln!(
            out,
            "\nallow entries in {} ({}): the findings they match are never reported",
            printable(&c.file),
            c.allow.len()
        );
        for (i, a) in c.allow.iter().enumerate() {
            let fields: Vec<String> = a
                .fields()
                .into_iter()
                .filter(|(_, g)| !g.is_empty())
                .map(|(f, g)| format!("{f} = {}", printable(&g.join(", "))))
                .collect();
            let _ = writeln!(
                out,
                "  {}. {}: {}",
                i + 1,
                fields.join("; "),
                printable(&a.reason)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Vec<Listed> {
        list(&Rules::builtin().unwrap(), &Table::builtin().unwrap(), None)
    }

    /// Ids are unique, and every family a finding's rule id comes from is listed.
    #[test]
    fn every_rule_id_is_listed_once() {
        let listed = builtin();
        let mut ids = std::collections::HashSet::new();
        for l in &listed {
            assert!(ids.insert(l.id.as_str()), "{} listed twice", l.id);
        }
        for id in [
            "mark.sensitive_attributes",
            "attr.aws_db_instance.password",
            "aws-access-key-id",
            "key-password",
            "same-value",
        ] {
            assert!(ids.contains(id), "{id} is not listed");
        }
        let attrs = listed
            .iter()
            .filter(|l| l.family == Family::Attribute)
            .count();
        assert!(attrs > 200, "{attrs} attribute rules");
    }

    /// A configured rule is listed with the file it comes from, after the built-in ones.
    #[test]
    fn a_configured_rule_names_its_file() {
        let config = Config::parse(
            "[[rule]]\nid = \"acme-token\"\nname = \"ACME token\"\nkind = \"token\"\n\
             severity = \"high\"\nkeywords = [\"acme_\"]\nregex = 'acme_[a-z0-9]{16}'\n\n\
             [[allow]]\nreason = \"test fixtures\"\nfiles = [\"fixtures/*\"]\n",
            "cfg.toml".into(),
        )
        .unwrap();
        let listed = list(&config.compiled, &Table::builtin().unwrap(), Some(&config));
        let acme = listed.iter().find(|l| l.id == "acme-token").unwrap();
        assert_eq!(acme.config.as_deref(), Some("cfg.toml"));
        assert_eq!(acme.family, Family::Content);
        assert!(listed
            .iter()
            .filter(|l| l.id != "acme-token")
            .all(|l| l.config.is_none()));
        let text = render_text(&listed, Some(&config));
        assert!(text.contains("[cfg.toml]"), "{text}");
        assert!(
            text.contains("  1. files = fixtures/*: test fixtures"),
            "{text}"
        );
    }
}
