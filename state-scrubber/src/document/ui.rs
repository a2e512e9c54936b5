//! Terraform's machine-readable UI (`terraform plan|apply|query|test -json`): one JSON message a
//! line, each `{"@level", "@message", "@module", "@timestamp", "type", ...}` (Terraform's
//! `internal/command/views/json`). Message `i` is read at pointer `/i`, as if the lines were
//! an array. Values are in three kinds of message:
//!
//! - `list_resource_found` (`terraform query`): `resource_object`, a found resource's values as
//!   a state holds them (the attribute table applies by `resource_type`), and `identity`;
//!   `list_start`'s `input_config`, the list block's configuration;
//! - `outputs` (apply): the root outputs, as `terraform output -json` gives them;
//! - `test_state` and `test_plan` (`terraform test -verbose -json`): each run's whole state
//!   (`root_module`, `outputs`) or plan (`resource_changes`, `resource_drift`,
//!   `output_changes`), shaped as `terraform show -json`'s, sensitive values in plaintext;
//! - `provision_progress`: `hook.output`, a line a provisioner printed (content rules);
//! - `diagnostic`: `summary`, `detail`, and `snippet`'s `code` (the configuration's line),
//!   `values[].statement` and `test_assertion_expr` (`terraform test`), which quote the values of
//!   a failed condition's references (Terraform writes `(sensitive value)` for marked ones; a
//!   plain variable or output is quoted);
//! - `@message`, a message's human text (content rules, address `message.TYPE`), unless it is
//!   made of members read or left alone (a diagnostic's summary, a hook's address, id and
//!   provisioner output: see `ui_at_message`).
//!
//! Every other member of the other messages (`version`, `planned_change`, `apply_complete`,
//! `test_run`, ...) holds addresses, actions, statuses and ids.

use super::address::member_string;
use super::marks::Marks;
use super::scanner::Scanner;
use crate::detect::{Mark, Step};
use crate::finding::Address;
use crate::json::{Dom, Kind as JKind, NodeId, Parser};
use crate::table::GENERIC_FIX;
use std::borrow::Cow;

/// Fix for a value quoted in a diagnostic of the UI stream.
const DIAGNOSTIC_FIX: &str = "a diagnostic (a failed condition or test assertion, an error) quotes the values it references unless they are marked sensitive: declare the variable or output `sensitive = true` (or `ephemeral = true`), delete the saved output (CI logs, artifacts), and rotate the secret";

/// Fix for a secret in a message's human text (`@message`).
const MESSAGE_FIX: &str = "Terraform printed the value in a message of its -json output (a test run, a log line, a provider's text): mark the value sensitive (`sensitive = true`, or `ephemeral = true`) so that Terraform redacts it, delete the saved output (CI logs, artifacts), and rotate the secret";

/// Fix for a secret in a provisioner's output.
const PROVISIONER_FIX: &str = "a provisioner's output (local-exec, remote-exec) is printed and kept with the run's output (CI logs): do not print the secret; pass it to the provisioner from a value marked sensitive (Terraform then suppresses the output), delete the saved output, and rotate the secret";

/// Whether `src` starts with a message of Terraform's machine-readable UI: an object whose keys
/// start with `@` (`@level`, `@message`, ... as Terraform writes them, first) and that has
/// `@message` and a string `type` (every message has both, the `version` message first). Any
/// other first key ends the check there (a state's object is not read through).
pub fn is_ui_stream(src: &[u8]) -> bool {
    let mut p = Parser::new(src);
    if p.begin_object().is_err() {
        return false;
    }
    let (mut message, mut ty) = (false, false);
    let mut first = true;
    loop {
        let Ok(Some((ks, ke, esc))) = p.next_key(first) else {
            return message && ty;
        };
        let key = crate::json::str_of(&src[ks..ke], esc).unwrap_or(Cow::Borrowed(""));
        if first && !key.starts_with('@') {
            return false;
        }
        first = false;
        match key.as_ref() {
            "@message" => message = true,
            "type" => ty = p.peek_kind().is_ok_and(|k| k == b'"'),
            _ => {}
        }
        if p.skip_value().is_err() {
            return false;
        }
    }
}

impl<'e> Scanner<'e> {
    /// One message of the UI stream, at pointer `unit` (`/i`).
    pub(super) fn ui_message(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        if dom.node(id).kind != JKind::Object {
            return;
        }
        self.ui_at_message(src, dom, id, unit);
        match member_string(src, dom, id, "type").as_deref() {
            Some("list_resource_found") => self.ui_list_found(src, dom, id, unit),
            Some("list_start") => {
                let Some(start) = dom.get(src, id, "list_start") else {
                    return;
                };
                let address = list_address(src, dom, start);
                if let Some(config) = dom.get(src, start, "input_config") {
                    let rel = [
                        Step::Key(Cow::Borrowed("list_start")),
                        Step::Key(Cow::Borrowed("input_config")),
                    ];
                    self.values(
                        src,
                        dom,
                        config,
                        "list_start",
                        &address,
                        unit,
                        &rel,
                        &[],
                        &Marks::default(),
                        Mark::PlanSensitive,
                        GENERIC_FIX,
                    );
                }
            }
            Some("outputs") => {
                if let Some(outputs) = dom.get(src, id, "outputs") {
                    if dom.node(outputs).kind == JKind::Object {
                        let unit = format!("{unit}/outputs");
                        self.outputs(src, dom, outputs, &unit, "outputs", "");
                    }
                }
            }
            Some("diagnostic") => self.ui_diagnostic(src, dom, id, unit),
            Some("provision_progress") => {
                let Some(hook) = dom.get(src, id, "hook") else {
                    return;
                };
                let Some(output) = dom.get(src, hook, "output") else {
                    return;
                };
                let r = dom.get(src, hook, "resource");
                let m = |k: &str| {
                    r.and_then(|r| member_string(src, dom, r, k))
                        .unwrap_or_default()
                };
                let address = Address {
                    module: m("module"),
                    mode: "managed".into(),
                    resource_type: m("resource_type"),
                    name: m("resource_name"),
                    ..Default::default()
                };
                let key = |k: &'static str| Step::Key(Cow::Borrowed(k));
                self.text(
                    src,
                    dom,
                    output,
                    "provision_progress",
                    &address,
                    unit,
                    &[key("hook"), key("output")],
                    &[key("output")],
                    PROVISIONER_FIX,
                );
            }
            Some("test_state") => {
                let Some(state) = dom.get(src, id, "test_state") else {
                    return;
                };
                let at = format!("{unit}/test_state");
                if let Some(m) = dom.get(src, state, "root_module") {
                    self.ui_module(src, dom, m, &format!("{at}/root_module"), 0);
                }
                if let Some(o) = dom.get(src, state, "outputs") {
                    if dom.node(o).kind == JKind::Object {
                        self.outputs(
                            src,
                            dom,
                            o,
                            &format!("{at}/outputs"),
                            "test_state.outputs",
                            "",
                        );
                    }
                }
            }
            Some("test_plan") => {
                let Some(plan) = dom.get(src, id, "test_plan") else {
                    return;
                };
                let at = format!("{unit}/test_plan");
                for section in ["resource_changes", "resource_drift"] {
                    let Some(changes) = dom.get(src, plan, section) else {
                        continue;
                    };
                    if dom.node(changes).kind != JKind::Array {
                        continue;
                    }
                    for (i, c) in dom.elements(changes).enumerate() {
                        self.change(src, dom, c, &format!("{at}/{section}/{i}"), section);
                    }
                }
                if let Some(o) = dom.get(src, plan, "output_changes") {
                    if dom.node(o).kind == JKind::Object {
                        self.output_changes(src, dom, o, &format!("{at}/output_changes"));
                    }
                }
            }
            _ => {}
        }
    }

    /// A module of `test_state` (`terraform test -verbose -json`), shaped as `show -json`'s:
    /// `{resources, child_modules}`, at pointer `at`.
    fn ui_module(&mut self, src: &[u8], dom: &Dom, id: NodeId, at: &str, depth: usize) {
        if dom.node(id).kind != JKind::Object || depth > 64 {
            return;
        }
        if let Some(rs) = dom.get(src, id, "resources") {
            if dom.node(rs).kind == JKind::Array {
                for (i, r) in dom.elements(rs).enumerate() {
                    self.show_resource(src, dom, r, &format!("{at}/resources/{i}"), "test_state");
                }
            }
        }
        if let Some(cs) = dom.get(src, id, "child_modules") {
            if dom.node(cs).kind == JKind::Array {
                for (i, c) in dom.elements(cs).enumerate() {
                    self.ui_module(src, dom, c, &format!("{at}/child_modules/{i}"), depth + 1);
                }
            }
        }
    }

    /// `list_resource_found`: `{address, resource_type, identity, resource_object, ...}`.
    fn ui_list_found(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        let Some(found) = dom.get(src, id, "list_resource_found") else {
            return;
        };
        let address = list_address(src, dom, found);
        let rows = self.engine.table.for_type(&address.resource_type);
        for member in ["resource_object", "identity"] {
            let Some(values) = dom.get(src, found, member) else {
                continue;
            };
            let rel = [
                Step::Key(Cow::Borrowed("list_resource_found")),
                Step::Key(Cow::Borrowed(member)),
            ];
            self.values(
                src,
                dom,
                values,
                "list_resource_found",
                &address,
                unit,
                &rel,
                &rows,
                &Marks::default(),
                Mark::PlanSensitive,
                GENERIC_FIX,
            );
        }
    }

    /// `@message`, every message's human text (content rules, as free text): what Terraform
    /// prints without `-json`. It names addresses and ids normally, but `terraform test -json`'s
    /// run messages and `log` lines, and whatever a provider puts in a hook's text, can quote a
    /// value. Not read where Terraform made it from members read or left alone: a diagnostic's is
    /// `Error: ` or `Warning: ` and its `summary`; a hook's (`apply_start`, `apply_complete`,
    /// `refresh_complete`, `provision_progress`, ...) is the resource's address, the action and
    /// elapsed time, its id (`[id=AKIA...]` for an access key: an identifier, as `id` is in a
    /// state) and what a provisioner printed (`hook.output`, read there). The address is
    /// `message.TYPE`.
    fn ui_at_message(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        let Some(node) = dom.get(src, id, "@message") else {
            return;
        };
        if dom.get(src, id, "hook").is_some() {
            return;
        }
        let ty = member_string(src, dom, id, "type").unwrap_or_default();
        if ty == "diagnostic" {
            let summary = dom
                .get(src, id, "diagnostic")
                .and_then(|d| member_string(src, dom, d, "summary"));
            let text = dom.str(src, node);
            if let (Some(summary), Some(text)) = (summary, text) {
                let rest = text
                    .strip_prefix("Error: ")
                    .or_else(|| text.strip_prefix("Warning: "));
                if rest == Some(summary.as_str()) {
                    return;
                }
            }
        }
        let address = Address {
            mode: "message".into(),
            name: ty,
            ..Default::default()
        };
        let key = [Step::Key(Cow::Borrowed("@message"))];
        self.text(
            src,
            dom,
            node,
            "@message",
            &address,
            unit,
            &key,
            &key,
            MESSAGE_FIX,
        );
    }

    /// `diagnostic`: the texts that quote values (content rules, as a check's message).
    fn ui_diagnostic(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        let Some(diag) = dom.get(src, id, "diagnostic") else {
            return;
        };
        // Named by where it points (`diagnostic.main.tf:12`): its summary is a provider's text.
        let range = dom.get(src, diag, "range");
        let file = range.and_then(|r| member_string(src, dom, r, "filename"));
        let line = range
            .and_then(|r| dom.get(src, r, "start"))
            .and_then(|s| dom.get(src, s, "line"))
            .filter(|n| dom.node(*n).kind == JKind::Number)
            .map(|n| dom.raw(src, n).to_string());
        let address = Address {
            mode: "diagnostic".into(),
            name: match (file, line) {
                (Some(f), Some(l)) => format!("{f}:{l}"),
                (Some(f), None) => f,
                _ => String::new(),
            },
            ..Default::default()
        };
        let key = |k: &'static str| Step::Key(Cow::Borrowed(k));
        let mut texts: Vec<(NodeId, Vec<Step<'static>>)> = Vec::new();
        for k in ["summary", "detail"] {
            if let Some(n) = dom.get(src, diag, k) {
                texts.push((n, vec![key(k)]));
            }
        }
        if let Some(snippet) = dom.get(src, diag, "snippet") {
            // The configuration's line the diagnostic points at: a literal secret in it.
            if let Some(code) = dom.get(src, snippet, "code") {
                texts.push((code, vec![key("snippet"), key("code")]));
            }
            if let Some(values) = dom.get(src, snippet, "values") {
                if dom.node(values).kind == JKind::Array {
                    for (j, v) in dom.elements(values).enumerate() {
                        if let Some(n) = dom.get(src, v, "statement") {
                            texts.push((
                                n,
                                vec![
                                    key("snippet"),
                                    key("values"),
                                    Step::Idx(j),
                                    key("statement"),
                                ],
                            ));
                        }
                    }
                }
            }
            if let Some(expr) = dom.get(src, snippet, "test_assertion_expr") {
                for side in ["lhs", "rhs"] {
                    if let Some(n) = dom.get(src, expr, side) {
                        texts.push((
                            n,
                            vec![key("snippet"), key("test_assertion_expr"), key(side)],
                        ));
                    }
                }
            }
        }
        for (node, attr) in texts {
            let mut rel = vec![key("diagnostic")];
            rel.extend(attr.iter().cloned());
            self.text(
                src,
                dom,
                node,
                "diagnostic",
                &address,
                unit,
                &rel,
                &attr,
                DIAGNOSTIC_FIX,
            );
        }
    }
}

/// A list block's address (`list.TYPE.NAME`, a module path before it) and resource type.
fn list_address(src: &[u8], dom: &Dom, id: NodeId) -> Address {
    let full = member_string(src, dom, id, "address").unwrap_or_default();
    let rtype = member_string(src, dom, id, "resource_type").unwrap_or_default();
    let (module, rest) = match full.rfind("list.") {
        Some(i) => (full[..i].trim_end_matches('.').to_string(), &full[i + 5..]),
        None => (String::new(), full.as_str()),
    };
    let name = rest
        .strip_prefix(&format!("{rtype}."))
        .unwrap_or(rest)
        .to_string();
    Address {
        module,
        mode: "list".into(),
        resource_type: rtype,
        name,
        ..Default::default()
    }
}
