//! SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer). Locations point at the line of the
//! value in the state file; no snippet is written (GitHub would show the secret).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::audit::AuditReport;
use crate::finding::{Finding, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// GitHub code scanning rejects a whole upload whose run holds more results than this (and shows
/// the first 5,000 by severity): past it, the least severe results are left out, with a warning.
pub const MAX_RESULTS: usize = 25_000;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score) drives its critical/high/medium/low labels.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// The rule a result reports under: the finding's rule and its severity (`key-password/high`).
/// GitHub takes an alert's severity from its rule's `security-severity`, and one rule can find
/// values of several severities (a sensitive mark is MEDIUM alone, HIGH with a password's key
/// name); a descriptor per rule and severity states each result's own severity.
fn sarif_rule_id(f: &Finding) -> String {
    format!("{}/{}", f.rule_id, f.severity.as_str())
}

/// The help of a rule: the same text for every result of it. A table row's rule (`attr.*`) has
/// one fix, the row's; the other rules' fixes depend on where the value is, and each result's
/// message carries its own. A content rule with a fix of its own (a presigned URL) has it as
/// help: what to do about that kind of secret; a result whose place has its own fix (a
/// write-only twin, a map key) names it. So has a rule of the `--config` file with a `fix`
/// (`configured`, by rule id).
fn help(f: &Finding, configured: &BTreeMap<String, String>) -> String {
    if f.rule_id.starts_with("attr.") {
        format!("Remove the secret from state. {}", sentence(&f.fix))
    } else if let Some(fix) = crate::rules::builtin_fix(&f.rule_id)
        .or_else(|| configured.get(&f.rule_id).map(String::as_str))
    {
        format!(
            "{} Where the value's place has a fix of its own (a write-only twin, a map key, a \
             check message), the result's message names it.",
            sentence(fix)
        )
    } else {
        "Remove the secret from state: set the attribute's write-only twin (`*_wo` with its \
         `*_wo_version`) where the provider has one, read the value through an ephemeral resource, \
         or keep it in Secrets Manager with `offstate_secret` and read it with \
         `ephemeral \"offstate_secret_value\"`. Each result's message names the fix for its \
         attribute."
            .to_string()
    }
}

/// A fix (written to follow a colon: `set the write-only ...`) as a sentence of its own: a
/// capital first letter and a full stop.
fn sentence(fix: &str) -> String {
    let fix = fix.trim_end();
    let mut chars = fix.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    let rest = chars.as_str();
    if fix.ends_with(['.', '!', '?']) {
        format!("{first}{rest}")
    } else {
        format!("{first}{rest}.")
    }
}

/// A relative path as a URI reference (forward slashes, percent-encoded where needed); absolute
/// paths become file URIs; an S3 object keeps its `s3://` scheme and loses `?versionId=` (the
/// version is in the result's properties); stdin is `stdin`.
pub fn uri(path: &str) -> String {
    if path == "<stdin>" || path == "-" {
        return "stdin".to_string();
    }
    if let Some(rest) = path.strip_prefix("s3://") {
        let key = rest.split_once("?versionId=").map_or(rest, |(k, _)| k);
        return format!("s3://{}", encode(key.as_bytes()));
    }
    path_uri(path.replace('\\', "/").as_bytes())
}

/// [`uri`] of a finding's file; a local path that is not UTF-8 is encoded from its bytes (its
/// label writes them `\xFF`, which would name another file).
fn uri_of(report: &AuditReport, file: &str) -> String {
    #[cfg(unix)]
    if let Some(p) = report.raw_paths.get(file) {
        use std::os::unix::ffi::OsStrExt as _;
        return path_uri(p.as_os_str().as_bytes());
    }
    let _ = report;
    uri(file)
}

/// The base id of every relative URI: the directory audit ran in (`run.originalUriBaseIds`),
/// which is where relative paths start. GitHub code scanning reads a relative URI as a path in
/// the repository (run audit at the checkout's root); CodeQL names the same base `%SRCROOT%`.
const SRCROOT: &str = "%SRCROOT%";

/// An `artifactLocation` for `file`: a path inside the current directory (`cwd`, as bytes) is
/// a relative URI with `uriBaseId` `%SRCROOT%` (an absolute path under it is made relative); a
/// path outside it (absolute, or reached with `..`) is an absolute `file://` URI, on which
/// SARIF 2.1.0 §3.4.4 allows no `uriBaseId`; S3 objects and stdin keep their URIs.
fn location(report: &AuditReport, file: &str, cwd: Option<&[u8]>) -> Value {
    let u = uri_of(report, file);
    if u == "stdin" || u.starts_with("s3://") {
        return json!({"uri": u});
    }
    #[cfg(unix)]
    let bytes: Vec<u8> = match report.raw_paths.get(file) {
        Some(p) => {
            use std::os::unix::ffi::OsStrExt as _;
            p.as_os_str().as_bytes().to_vec()
        }
        None => file.replace('\\', "/").into_bytes(),
    };
    #[cfg(not(unix))]
    let bytes: Vec<u8> = file.replace('\\', "/").into_bytes();
    match relative_to(&bytes, cwd) {
        Some(rel) => json!({"uri": encode(&rel), "uriBaseId": SRCROOT}),
        None => json!({"uri": absolute_uri(&bytes, cwd)}),
    }
}

/// `p` relative to `cwd` when it is inside it (compared after removing `.` and `..` steps):
/// `./a/b` and `CWD/a/b` give `a/b`; `../x`, `/elsewhere/x` give none.
fn relative_to(p: &[u8], cwd: Option<&[u8]>) -> Option<Vec<u8>> {
    if !p.starts_with(b"/") {
        // Relative: inside unless `..` climbs out of the current directory.
        let rel = steps(p)?;
        return (!rel.is_empty()).then(|| rel.join(&b'/'));
    }
    let base = steps(cwd?)?;
    let abs = steps(p)?;
    (abs.len() > base.len() && abs[..base.len()] == base[..]).then(|| abs[base.len()..].join(&b'/'))
}

/// The steps of a path without `.` and `..` (none when `..` climbs above its start).
fn steps(p: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for s in p.split(|&b| b == b'/') {
        match s {
            b"" | b"." => {}
            b".." => {
                out.pop()?;
            }
            s => out.push(s.to_vec()),
        }
    }
    Some(out)
}

/// An absolute `file://` URI for a path outside the current directory (`../x` is resolved
/// against it).
fn absolute_uri(p: &[u8], cwd: Option<&[u8]>) -> String {
    let joined = match (p.starts_with(b"/"), cwd) {
        (false, Some(c)) => [c, b"/", p].concat(),
        _ => p.to_vec(),
    };
    match steps(&joined).filter(|_| joined.starts_with(b"/")) {
        Some(s) => path_uri(&[b"/".as_slice(), &s.join(&b'/')].concat()),
        None => path_uri(&joined),
    }
}

/// The current directory as `run.originalUriBaseIds` gives it: a `file://` URI ending in `/`
/// (SARIF 2.1.0 §3.14.14).
fn srcroot_uri(cwd: &[u8]) -> String {
    let mut u = path_uri(cwd);
    if !u.ends_with('/') {
        u.push('/');
    }
    u
}

fn path_uri(p: &[u8]) -> String {
    let p = p.strip_prefix(b"./").unwrap_or(p);
    let mut out = String::new();
    if p.starts_with(b"/") {
        out.push_str("file://");
    }
    out.push_str(&encode(p));
    out
}

fn encode(p: &[u8]) -> String {
    let mut out = String::new();
    for &b in p {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `run.artifacts` for the members of saved binary plans (`terraform plan -out`, a zip): each
/// archive, and each member found in as an artifact nested in it (`parentIndex`, SARIF 2.1.0
/// §3.24.3), whose `uri` is the member's path inside the archive. A result in a member is
/// located at its archive (see [`At::Member`]).
#[derive(Default)]
struct Artifacts {
    list: Vec<Value>,
    archives: BTreeMap<String, usize>,
    members: BTreeMap<(String, String), usize>,
}

impl Artifacts {
    /// The indices of `f`'s archive and member artifacts, if `f` is in a saved plan's member.
    fn of(
        &mut self,
        report: &AuditReport,
        f: &Finding,
        cwd: Option<&[u8]>,
    ) -> Option<(usize, usize)> {
        let (archive, member) = (f.archive.as_ref()?, f.member.as_ref()?);
        let list = &mut self.list;
        let a = *self.archives.entry(archive.clone()).or_insert_with(|| {
            list.push(json!({
                "location": location(report, archive, cwd),
                "mimeType": "application/zip",
                "roles": ["analysisTarget"],
                "description": {"text": "a saved Terraform plan (terraform plan -out)"},
            }));
            list.len() - 1
        });
        let m = *self
            .members
            .entry((archive.clone(), member.clone()))
            .or_insert_with(|| {
                let mut v = json!({
                    "location": {"uri": encode(member.as_bytes())},
                    "parentIndex": a,
                    "description": {"text": member_description(member)},
                });
                if member != "tfplan" {
                    v["mimeType"] = json!("application/json");
                }
                list.push(v);
                list.len() - 1
            });
        Some((a, m))
    }
}

fn member_description(member: &str) -> String {
    if member == "tfplan" {
        "the plan (protobuf); positions are in the document `terraform show -json` prints for it"
            .to_string()
    } else {
        format!("the member `{member}` of the saved plan (a state, JSON)")
    }
}

pub fn render(report: &AuditReport) -> String {
    // One reporting descriptor per rule and severity seen, in a stable order.
    let mut rules: BTreeMap<String, &Finding> = BTreeMap::new();
    for f in report.findings().chain(report.listed_accepted()) {
        rules.entry(sarif_rule_id(f)).or_insert(f);
    }
    let index: BTreeMap<&str, usize> = rules
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let descriptors: Vec<Value> = rules
        .iter()
        .map(|(id, f)| {
            json!({
                "id": id,
                "name": camel(id),
                "shortDescription": {"text": format!("Plaintext secret in Terraform state: {}", f.rule_name)},
                "fullDescription": {"text": format!("A {} value is stored in plaintext in a Terraform state or plan ({}).", f.kind.as_str(), f.rule_name)},
                "help": {"text": help(f, &report.rule_fixes)},
                "defaultConfiguration": {"level": level(f.severity)},
                "properties": {
                    "tags": ["security", "secret", "terraform"],
                    "security-severity": security_severity(f.severity),
                    "precision": "high",
                }
            })
        })
        .collect();
    let justification = match &report.baseline_file {
        Some(file) => format!("accepted in the baseline {file}"),
        None => "accepted in the baseline".to_string(),
    };
    let mut artifacts = Artifacts::default();
    let cwd = current_dir();
    let cwd = cwd.as_deref();
    let mut listed: Vec<(&Finding, Option<&str>)> = report
        .findings()
        .map(|f| (f, None))
        .chain(
            report
                .listed_accepted()
                .iter()
                .map(|f| (f, Some(justification.as_str()))),
        )
        .collect();
    let total = listed.len();
    if total > MAX_RESULTS {
        // Keep the reported before the accepted, the most severe first; the order is kept.
        let mut order: Vec<usize> = (0..total).collect();
        order.sort_by_key(|&i| {
            (
                listed[i].1.is_some(),
                std::cmp::Reverse(listed[i].0.severity),
                i,
            )
        });
        let mut keep = vec![false; total];
        for &i in &order[..MAX_RESULTS] {
            keep[i] = true;
        }
        let mut kept = keep.into_iter();
        listed.retain(|_| kept.next().unwrap_or(false));
    }
    let results: Vec<Value> = listed
        .into_iter()
        .map(|(f, accepted)| {
            let at = match artifacts.of(report, f, cwd) {
                Some((archive, member)) => At::Member {
                    location: location(report, f.archive.as_deref().unwrap_or(&f.file), cwd),
                    archive,
                    member,
                },
                None => At::File(location(report, &f.file, cwd)),
            };
            result(f, &index, at, accepted)
        })
        .collect();
    let omitted = total.saturating_sub(MAX_RESULTS);
    let notifications: Vec<Value> = (omitted > 0)
        .then(|| {
            json!({"level": "warning", "message": {"text": format!(
                "{omitted} of {total} results left out, the least severe: GitHub code scanning \
                 rejects a run of more than {MAX_RESULTS} results; --format json lists every finding"
            )}})
        })
        .into_iter()
        .chain(
            report
                .all_errors()
                .into_iter()
                .map(|e| json!({"level": "error", "message": {"text": e}})),
        )
        .chain(
            report
                .files
                .iter()
                .filter(|f| f.kind == Some(crate::document::DocKind::Encrypted))
                .map(|f| json!({"level": "note", "message": {"text": format!("{}: OpenTofu-encrypted state, not scanned", f.file)}})),
        )
        // What a scanned file left unchecked or holds that readers read differently (a key
        // twice in one object): code scanning shows no per-file notes otherwise.
        .chain(
            report
                .files
                .iter()
                .filter(|f| f.kind.is_some_and(|k| k != crate::document::DocKind::Encrypted))
                .flat_map(|f| {
                    f.notes.iter().map(move |n| {
                        json!({"level": "warning", "message": {"text": format!("{}: {n}", f.file)}})
                    })
                }),
        )
        .collect();
    let v = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "state-scrubber",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }},
            "invocations": [{
                // As the process exits (see cli::Outcome).
                "exitCode": report.exit_code(),
                "executionSuccessful": !report.has_errors(),
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut v = v;
    if let Some(c) = cwd {
        v["runs"][0]["originalUriBaseIds"] = json!({SRCROOT: {"uri": srcroot_uri(c)}});
    }
    if !artifacts.list.is_empty() {
        v["runs"][0]["artifacts"] = Value::Array(artifacts.list);
    }
    serde_json::to_string_pretty(&v).expect("sarif serialises") + "\n"
}

/// Where a result is.
/// The current directory, as bytes (relative paths in the report start there).
fn current_dir() -> Option<Vec<u8>> {
    let d = std::env::current_dir().ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        Some(d.as_os_str().as_bytes().to_vec())
    }
    #[cfg(not(unix))]
    {
        Some(d.to_string_lossy().replace('\\', "/").into_bytes())
    }
}

enum At {
    /// A file (its `artifactLocation`, see [`location`]): the value's line and column in it.
    File(Value),
    /// A member of a saved binary plan. The location is the archive (`location`, artifact
    /// `archive`), the file a repository holds: a URI naming the member (`plan%21/tfstate`,
    /// or `plan#tfstate`) resolves to no file, and GitHub code scanning (and the CodeQL
    /// action's fingerprinting) takes the primary location's `uri` as a path in the checkout.
    /// A zip has no lines: the region is its first line (GitHub requires `startLine`); the
    /// member (artifact `member`, nested in the archive) and the position in its JSON are in
    /// the message and the result's properties.
    Member {
        location: Value,
        archive: usize,
        member: usize,
    },
}

/// One result, at `at`. `accepted`: the baseline accepted it, and the justification of its
/// suppression (SARIF 2.1.0 §3.27.23, §3.35): `kind: external` (recorded outside the scanned
/// artifact), `status: accepted`. The justification names the baseline file only, never a value.
fn result(f: &Finding, index: &BTreeMap<&str, usize>, at: At, accepted: Option<&str>) -> Value {
    let mut path = f.attribute_path.clone();
    if let Some(i) = &f.inner_pointer {
        path.push_str(&format!(" (JSON {i})"));
    }
    let rule = sarif_rule_id(f);
    let mut text = format!(
        "{} `{}` of `{}` holds a plaintext {} ({}, length shown: {}).",
        f.section,
        if path.is_empty() {
            "value".to_string()
        } else {
            path
        },
        f.address,
        f.kind.as_str(),
        f.rule_name,
        f.preview
    );
    let (physical, member_index) = match at {
        At::File(location) => (
            json!({
                "artifactLocation": location,
                "region": {"startLine": f.line.max(1), "startColumn": f.column.max(1)}
            }),
            None,
        ),
        At::Member {
            location,
            archive,
            member,
        } => {
            let m = f.member.as_deref().unwrap_or("");
            if m == "tfplan" {
                text.push_str(&format!(
                    " In the member `tfplan` of this saved plan (zip), at `{}` of the document `terraform show -json` prints for it.",
                    f.json_pointer
                ));
            } else {
                text.push_str(&format!(
                    " In the member `{m}` of this saved plan (zip), line {} column {} of its JSON, at `{}`.",
                    f.line, f.column, f.json_pointer
                ));
            }
            let mut artifact = location;
            artifact["index"] = json!(archive);
            (
                json!({
                    "artifactLocation": artifact,
                    "region": {"startLine": 1, "startColumn": 1}
                }),
                Some(member),
            )
        }
    };
    text.push_str(&format!(" Fix: {}", f.fix));
    let mut v = json!({
        "ruleId": rule,
        "ruleIndex": index[rule.as_str()],
        "level": level(f.severity),
        "message": {"text": text},
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{"fullyQualifiedName": f.address, "kind": "resource"}]
        }],
        "partialFingerprints": {"stateScrubberFingerprint/v2": f.fingerprint},
        "properties": {
            "ruleId": f.rule_id,
            "file": f.file,
            "severity": f.severity.as_str(),
            "confidence": f.confidence,
            "kind": f.kind.as_str(),
            "layer": f.layer,
            "section": f.section,
            "attributePath": f.attribute_path,
            "jsonPointer": f.json_pointer,
            "innerPointer": f.inner_pointer,
            "reasons": f.reasons,
            "fix": f.fix,
            "preview": f.preview,
        }
    });
    if let (Some(member), Some(i)) = (&f.member, member_index) {
        // GitHub identifies an alert by `primaryLocationLineHash` only (the upload action
        // computes it from the text of the located line when it is missing): every result in
        // an archive is at its line 1, so results of one rule in one saved plan (a password
        // before and after the change, in the prior state) would be one alert. Each gets its
        // own, from its fingerprint and member: stable across runs, distinct per member.
        v["partialFingerprints"]["primaryLocationLineHash"] =
            json!(member_line_hash(&f.fingerprint, member));
        let p = &mut v["properties"];
        p["archive"] = json!(f.archive);
        p["member"] = json!(member);
        p["memberArtifactIndex"] = json!(i);
        p["memberLine"] = json!(f.line);
        p["memberColumn"] = json!(f.column);
    }
    if f.value_type != crate::finding::ValueType::String {
        v["properties"]["valueType"] = json!(f.value_type);
    }
    if let Some(justification) = accepted {
        v["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": justification,
        }]);
    }
    v
}

/// `primaryLocationLineHash` of a result in a saved plan's member: 16 hex digits of SHA-256 over
/// the finding's fingerprint (itself a keyed digest of where it is, never of the value) and the
/// member, with the `:1` occurrence suffix GitHub's own line hashes carry.
fn member_line_hash(fingerprint: &str, member: &str) -> String {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    h.update(b"state-scrubber/member-line-hash/v1\0");
    h.update(fingerprint.as_bytes());
    h.update(b"\0");
    h.update(member.as_bytes());
    format!("{}:1", crate::finding::hex(&h.finalize()[..8]))
}

fn camel(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn uris() {
        assert_eq!(
            super::uri("./envs/prod/terraform.tfstate"),
            "envs/prod/terraform.tfstate"
        );
        assert_eq!(super::uri("a b/x.tfstate"), "a%20b/x.tfstate");
        assert_eq!(super::uri("/abs/x.tfstate"), "file:///abs/x.tfstate");
        assert_eq!(
            super::uri("s3://b/env a/terraform.tfstate?versionId=v1"),
            "s3://b/env%20a/terraform.tfstate"
        );
        assert_eq!(super::uri("<stdin>"), "stdin");
    }

    /// Inside the current directory: relative (to `%SRCROOT%`); outside: absolute.
    #[test]
    fn paths_relative_to_the_current_directory() {
        let cwd = Some(&b"/w/repo"[..]);
        let rel =
            |p: &str| super::relative_to(p.as_bytes(), cwd).map(|r| String::from_utf8(r).unwrap());
        assert_eq!(rel("envs/a.tfstate").as_deref(), Some("envs/a.tfstate"));
        assert_eq!(rel("./envs/../b.tfstate").as_deref(), Some("b.tfstate"));
        assert_eq!(
            rel("/w/repo/envs/a.tfstate").as_deref(),
            Some("envs/a.tfstate")
        );
        assert_eq!(rel("/w/repo2/a.tfstate"), None);
        assert_eq!(rel("/w/repo"), None);
        assert_eq!(rel("../x.tfstate"), None);
        assert_eq!(
            super::absolute_uri(b"../x.tfstate", cwd),
            "file:///w/x.tfstate"
        );
        assert_eq!(super::srcroot_uri(b"/w/my repo"), "file:///w/my%20repo/");
        assert_eq!(super::srcroot_uri(b"/"), "file:///");
    }
}
