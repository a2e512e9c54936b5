//! Logs in the shape Terraform reads from a provider: one JSON object per
//! line on stderr, in hashicorp/go-hclog's JSON format.
//!
//! ```text
//! {"@level":"trace","@message":"Served RPC","@module":"provider.terraform-provider-offstate",
//!  "@timestamp":"2026-11-25T18:02:43.123456Z","tf_rpc":"/tfplugin6.Provider/GetProviderSchema","tf_duration_ms":1}
//! ```
//!
//! go-plugin's client parses each stderr line as JSON (`log_entry.go`):
//! `@message`, `@level` and `@timestamp` (layout
//! `2006-01-02T15:04:05.000000Z07:00`, so exactly six fractional digits)
//! are taken out, every other key becomes a key/value pair, and the entry
//! is re-logged at its level into Terraform's own log. A line that is not
//! JSON is logged at DEBUG as it is.
//!
//! The level comes from `TF_LOG_PROVIDER`, else `TF_LOG`: `trace`, `debug`,
//! `info`, `warn`, `error`, `off` (any case); `json` means trace, as it does
//! for Terraform; any other non-empty value means trace, as Terraform
//! treats an unknown level. Unset or empty: off. The level applies to this
//! workspace's crates ([`OWN_TARGETS`]); dependencies log at WARN at most.
//!
//! **What is logged.** This crate logs type names, RPC names (the gRPC
//! path), addresses and timings; never a request or response value, never
//! a `DynamicValue`, private state or configuration. Code that adds log
//! events must keep to that: the invariant is that a secret never reaches
//! a log at any level, `TF_LOG=trace` included. Field values are
//! formatted with `Display`/`Debug` of what the caller passes, so pass
//! names and counts, not values.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::{span, Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Installs the global logger: hclog JSON lines on stderr with
/// `"@module": module` (Terraform's convention for a provider is
/// `provider.terraform-provider-<name>`), at the level from
/// `TF_LOG_PROVIDER` / `TF_LOG`.
///
/// Does nothing if a global subscriber is already installed, so calling it
/// twice is harmless.
pub fn init(module: &str) {
    init_with(module, &[]);
}

/// [`init`], with the events of the `content_targets` (target prefixes of libraries known to
/// log what they read, such as a credentials file's lines) written without their message and
/// fields: see [`subscriber_with`].
pub fn init_with(module: &str, content_targets: &'static [&'static str]) {
    let level = level_from_env(|name| std::env::var(name).ok());
    if level == LevelFilter::OFF {
        return;
    }
    let subscriber = subscriber_with(module, level, content_targets, || {
        Box::new(std::io::stderr())
    });
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// A subscriber writing hclog JSON lines to writers made by `make_writer`
/// (one per line). [`init`] uses stderr; tests use a buffer.
pub fn subscriber(
    module: &str,
    level: LevelFilter,
    make_writer: impl Fn() -> Box<dyn std::io::Write> + Send + Sync + 'static,
) -> impl Subscriber + Send + Sync {
    subscriber_with(module, level, &[], make_writer)
}

/// [`subscriber`], where an event whose target starts with one of `content_targets` keeps its
/// level and target but not its message or fields, which may quote what the library read (the
/// AWS SDK's profile parser warns about a malformed line of a credentials file by quoting it,
/// secret key or session token included).
pub fn subscriber_with(
    module: &str,
    level: LevelFilter,
    content_targets: &'static [&'static str],
    make_writer: impl Fn() -> Box<dyn std::io::Write> + Send + Sync + 'static,
) -> impl Subscriber + Send + Sync {
    // Our own crates log at the requested level; everything else (tonic,
    // h2, hyper, rustls, the AWS SDK) at most at WARN. Their debug/trace
    // output is noise to a Terraform user, and some of it may print
    // request bodies, which would put secrets in TF_LOG=trace logs.
    let targets = OWN_TARGETS.iter().fold(
        Targets::new().with_default(level.min(LevelFilter::WARN)),
        |targets, prefix| targets.with_target(*prefix, level),
    );
    tracing_subscriber::registry()
        .with(targets)
        .with(HclogLayer {
            module: module.to_string(),
            content_targets,
            make_writer: Box::new(make_writer),
            lock: Mutex::new(()),
        })
}

/// Target prefixes logged at the requested level: this workspace's crates
/// (`offstate_framework`, `offstate_common`, ...) and a provider binary
/// named `terraform-provider-*`. Any other target is capped at WARN.
pub const OWN_TARGETS: &[&str] = &["offstate", "terraform_provider"];

/// The level Terraform asked for; see the module docs.
pub fn level_from_env(lookup: impl Fn(&str) -> Option<String>) -> LevelFilter {
    let value = lookup("TF_LOG_PROVIDER")
        .filter(|v| !v.trim().is_empty())
        .or_else(|| lookup("TF_LOG").filter(|v| !v.trim().is_empty()));
    let Some(value) = value else {
        return LevelFilter::OFF;
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "off" => LevelFilter::OFF,
        "error" => LevelFilter::ERROR,
        "warn" => LevelFilter::WARN,
        "info" => LevelFilter::INFO,
        "debug" => LevelFilter::DEBUG,
        // "trace", "json", and anything Terraform would not recognise.
        _ => LevelFilter::TRACE,
    }
}

type MakeWriter = Box<dyn Fn() -> Box<dyn std::io::Write> + Send + Sync>;

struct HclogLayer {
    module: String,
    /// Target prefixes whose events are written without message and fields.
    content_targets: &'static [&'static str],
    make_writer: MakeWriter,
    // Serialises writes so concurrent lines never interleave.
    lock: Mutex<()>,
}

/// Fields recorded on a span, kept in its extensions.
struct SpanFields {
    fields: Map<String, Json>,
    opened: Instant,
}

impl<S> Layer<S> for HclogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut visitor = JsonVisitor::default();
        attrs.record(&mut visitor);
        span.extensions_mut().insert(SpanFields {
            fields: visitor.fields,
            opened: Instant::now(),
        });
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(fields) = ext.get_mut::<SpanFields>() {
            let mut visitor = JsonVisitor::default();
            values.record(&mut visitor);
            fields.fields.extend(visitor.fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        // Outer spans first, so inner spans and the event itself win.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(span_fields) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.fields.clone());
                }
            }
        }
        let target = event.metadata().target();
        if self.content_targets.iter().any(|t| target.starts_with(t)) {
            fields.insert("target".into(), Json::from(target));
            self.write_line(
                *event.metadata().level(),
                "(message withheld: this library's messages may quote a configuration or credentials file, or a credential process's output)",
                fields,
            );
            return;
        }
        let mut visitor = JsonVisitor::default();
        event.record(&mut visitor);
        let message = visitor.message.take().unwrap_or_default();
        fields.extend(visitor.fields);
        self.write_line(*event.metadata().level(), &message, fields);
    }

    // One line per finished RPC span, with its duration: the "timings" the
    // module docs promise. Only spans that were enabled (trace)
    // get here.
    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        if span.name() != "tf_rpc" {
            return;
        }
        let ext = span.extensions();
        let Some(span_fields) = ext.get::<SpanFields>() else {
            return;
        };
        let mut fields = span_fields.fields.clone();
        let elapsed = span_fields.opened.elapsed();
        fields.insert(
            "tf_duration_ms".to_string(),
            Json::from(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)),
        );
        self.write_line(*span.metadata().level(), "Served RPC", fields);
    }
}

impl HclogLayer {
    fn write_line(&self, level: Level, message: &str, fields: Map<String, Json>) {
        let mut entry = Map::with_capacity(fields.len() + 4);
        entry.insert("@level".into(), Json::from(level_name(level)));
        entry.insert("@message".into(), Json::from(message));
        entry.insert("@module".into(), Json::from(self.module.as_str()));
        entry.insert(
            "@timestamp".into(),
            Json::from(timestamp(SystemTime::now())),
        );
        for (key, value) in fields {
            // Keys starting with '@' belong to hclog.
            if !key.starts_with('@') {
                entry.insert(key, value);
            }
        }
        // Credentials registered with `withheld::withhold` never reach a line, whoever logged.
        // Each string is masked before the line is encoded, so a short credential made of JSON's
        // own punctuation (a proxy password `":"`) masks text, never the line's structure.
        let mut line = withhold_in(Json::Object(entry)).to_string();
        line.push('\n');
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut writer = (self.make_writer)();
        // Logging must never fail the provider; a closed stderr loses logs.
        let _ = writer.write_all(line.as_bytes());
        let _ = writer.flush();
    }
}

/// `value` with every withheld string masked in its strings and member names.
fn withhold_in(value: Json) -> Json {
    match value {
        Json::String(s) => match crate::withheld::scrub(&s) {
            std::borrow::Cow::Borrowed(_) => Json::String(s),
            std::borrow::Cow::Owned(masked) => Json::String(masked),
        },
        Json::Array(items) => Json::Array(items.into_iter().map(withhold_in).collect()),
        Json::Object(members) => Json::Object(
            members
                .into_iter()
                .map(|(k, v)| (crate::withheld::scrub(&k).into_owned(), withhold_in(v)))
                .collect(),
        ),
        other => other,
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// The current time in hclog's timestamp layout (see [`timestamp`]).
pub(crate) fn timestamp_now() -> String {
    timestamp(SystemTime::now())
}

/// `2006-01-02T15:04:05.000000Z` in UTC, as go-plugin parses it.
fn timestamp(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(27);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        since.subsec_micros()
    );
    out
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day)
/// (Howard Hinnant's `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[derive(Default)]
struct JsonVisitor {
    message: Option<String>,
    fields: Map<String, Json>,
}

impl JsonVisitor {
    fn put(&mut self, field: &Field, value: Json) {
        if field.name() == "message" {
            self.message = Some(match value {
                Json::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(field.name().to_string(), value);
        }
    }
}

impl Visit for JsonVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Json::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Json::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Json::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Json::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Json::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Json::from(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Json::from(format!("{value:?}")));
    }
}

/// A writer into a shared buffer, for tests of code that logs.
#[derive(Clone, Default)]
pub struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl CaptureWriter {
    /// Everything written so far, as UTF-8 (lossy).
    pub fn contents(&self) -> String {
        let buf = self.0.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&buf).into_owned()
    }
}

impl std::io::Write for CaptureWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(level: LevelFilter) -> (impl Subscriber + Send + Sync, CaptureWriter) {
        let out = CaptureWriter::default();
        let w = out.clone();
        let sub = subscriber("provider.terraform-provider-test", level, move || {
            Box::new(w.clone())
        });
        (sub, out)
    }

    fn lines(out: &CaptureWriter) -> Vec<Map<String, Json>> {
        out.contents()
            .lines()
            .map(|l| match serde_json::from_str(l).unwrap() {
                Json::Object(m) => m,
                other => panic!("not an object: {other}"),
            })
            .collect()
    }

    #[test]
    fn level_selection() {
        let cases: &[(Option<&str>, Option<&str>, LevelFilter)] = &[
            (None, None, LevelFilter::OFF),
            (None, Some(""), LevelFilter::OFF),
            (None, Some("TRACE"), LevelFilter::TRACE),
            (None, Some("json"), LevelFilter::TRACE),
            (None, Some("Debug"), LevelFilter::DEBUG),
            (None, Some("info"), LevelFilter::INFO),
            (None, Some("warn"), LevelFilter::WARN),
            (None, Some("error"), LevelFilter::ERROR),
            (None, Some("off"), LevelFilter::OFF),
            (None, Some("nonsense"), LevelFilter::TRACE),
            (Some("error"), Some("trace"), LevelFilter::ERROR),
            (Some("off"), Some("trace"), LevelFilter::OFF),
            (Some(""), Some("info"), LevelFilter::INFO),
        ];
        for (provider, global, want) in cases {
            let got = level_from_env(|name| match name {
                "TF_LOG_PROVIDER" => provider.map(str::to_string),
                "TF_LOG" => global.map(str::to_string),
                _ => None,
            });
            assert_eq!(got, *want, "TF_LOG_PROVIDER={provider:?} TF_LOG={global:?}");
        }
    }

    #[test]
    fn events_are_hclog_json_lines() {
        let (sub, out) = capture(LevelFilter::TRACE);
        tracing::subscriber::with_default(sub, || {
            tracing::info!(
                type_name = "offstate_secret",
                count = 3u64,
                ok = true,
                "Planned resource"
            );
            tracing::warn!("quote \" and newline \n stay one line");
        });
        let lines = lines(&out);
        assert_eq!(lines.len(), 2, "{}", out.contents());
        let first = &lines[0];
        assert_eq!(first["@level"], "info");
        assert_eq!(first["@message"], "Planned resource");
        assert_eq!(first["@module"], "provider.terraform-provider-test");
        assert_eq!(first["type_name"], "offstate_secret");
        assert_eq!(first["count"], 3);
        assert_eq!(first["ok"], true);
        assert_eq!(lines[1]["@level"], "warn");
        assert_eq!(out.contents().lines().count(), 2);
    }

    #[test]
    fn level_filter_applies() {
        let (sub, out) = capture(LevelFilter::WARN);
        tracing::subscriber::with_default(sub, || {
            tracing::debug!("hidden");
            tracing::info!("hidden too");
            tracing::error!("shown");
        });
        let lines = lines(&out);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["@level"], "error");
    }

    #[test]
    fn dependencies_are_capped_at_warn() {
        let (sub, out) = capture(LevelFilter::TRACE);
        tracing::subscriber::with_default(sub, || {
            tracing::trace!(target: "h2::codec", "frame");
            tracing::debug!(target: "aws_smithy_runtime::client", "request body");
            tracing::warn!(target: "hyper::proto", "shown");
            tracing::trace!(target: "offstate_framework::wire", "shown too");
            tracing::trace!(target: "terraform_provider_offstate", "and this");
        });
        let messages: Vec<Json> = lines(&out)
            .into_iter()
            .map(|l| l["@message"].clone())
            .collect();
        assert_eq!(messages, ["shown", "shown too", "and this"]);
    }

    #[test]
    fn content_targets_keep_level_and_target_only() {
        let out = CaptureWriter::default();
        let w = out.clone();
        let sub = subscriber_with(
            "provider.terraform-provider-test",
            LevelFilter::TRACE,
            &["aws_runtime::env_config"],
            move || Box::new(w.clone()),
        );
        let line = "aws_session_token: cnry-token-3f9a8b7c6d5e";
        tracing::subscriber::with_default(sub, || {
            tracing::warn!(target: "aws_runtime::env_config::normalize", profile = "team", key = ?line, "key ignored because `{line}` was not a valid identifier");
            tracing::warn!(target: "aws_config::meta::credentials::chain", "kept");
        });
        assert!(!out.contents().contains("cnry-token"), "{}", out.contents());
        let lines = lines(&out);
        assert_eq!(lines.len(), 2, "{}", out.contents());
        assert_eq!(lines[0]["@level"], "warn");
        assert_eq!(lines[0]["target"], "aws_runtime::env_config::normalize");
        assert!(lines[0]["@message"]
            .as_str()
            .unwrap()
            .starts_with("(message withheld"));
        assert_eq!(lines[1]["@message"], "kept");
    }

    #[test]
    fn withheld_strings_never_reach_a_line() {
        let (sub, out) = capture(LevelFilter::TRACE);
        let token = "cnry-session-token-4e5f6a7b8c9d";
        crate::withheld::withhold(token);
        tracing::subscriber::with_default(sub, || {
            tracing::warn!(target: "aws_config::sts::assume_role", error = %format!("AccessDenied: echoed {token}"), "STS refused to grant assume role");
            tracing::debug!(field = ?token, "in a field, {token} in the message");
        });
        assert!(
            !out.contents().contains("cnry-session"),
            "{}",
            out.contents()
        );
        assert_eq!(out.contents().matches(crate::withheld::MASK).count(), 3);
        assert_eq!(lines(&out).len(), 2);
    }

    #[test]
    fn a_credential_of_json_punctuation_leaves_every_line_json() {
        let (sub, out) = capture(LevelFilter::TRACE);
        crate::withheld::withhold("\":\"");
        tracing::subscriber::with_default(sub, || {
            tracing::warn!(error = "proxy said \":\"", "refused");
        });
        let line: Json = serde_json::from_str(out.contents().trim_end()).expect("a JSON line");
        assert_eq!(line["@level"], "warn");
        assert_eq!(line["error"], "proxy said [withheld]");
    }

    #[test]
    fn span_fields_and_rpc_timing() {
        let (sub, out) = capture(LevelFilter::DEBUG);
        tracing::subscriber::with_default(sub, || {
            let span = tracing::debug_span!("tf_rpc", tf_rpc = "/tfplugin6.Provider/ReadResource");
            let _entered = span.enter();
            tracing::debug!(type_name = "offstate_secret", "Reading");
        });
        let lines = lines(&out);
        assert_eq!(lines.len(), 2, "{}", out.contents());
        assert_eq!(lines[0]["tf_rpc"], "/tfplugin6.Provider/ReadResource");
        assert_eq!(lines[0]["type_name"], "offstate_secret");
        assert_eq!(lines[1]["@message"], "Served RPC");
        assert!(lines[1]["tf_duration_ms"].is_u64());
    }

    #[test]
    fn timestamp_layout_matches_go_plugin() {
        use std::time::Duration;
        // 2026-11-25T18:02:43.123456Z
        let t = UNIX_EPOCH + Duration::from_micros(1_795_629_763_123_456);
        assert_eq!(timestamp(t), "2026-11-25T18:02:43.123456Z");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        // Leap day.
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(timestamp(leap), "2000-02-29T00:00:00.000000Z");
    }
}
