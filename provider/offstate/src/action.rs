//! `action "offstate_secret_rotate"`: rotate a secret now (RotateSecret with
//! `RotateImmediately`), with the rotation configured on it
//! (`offstate_secret_rotation`), and by default wait until the new version
//! holds `AWSCURRENT`. hashicorp/aws has no such action.
//!
//! Like the rest of the provider it never reads a value: RotateSecret starts
//! the rotation Lambda, which writes the new value itself; DescribeSecret
//! (its `VersionIdsToStages`) shows when the new version became current.
//! Progress messages name the secret and version ids only.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use offstate_common::name::{is_arn, validate_name};
use offstate_common::store::{RotateRequest, SecretMeta, AWSCURRENT};
use offstate_common::StoreError;
use offstate_framework::action::{Action, InvokeRequest, InvokeResponse};
use offstate_framework::Value;
use offstate_framework::{Attribute, AttributePath, Block, Diagnostic, Diagnostics, Schema, Type};

use crate::provider::Handle;
use crate::secret::{argument_store_diag, bounded, store_diag, MAX_SHOWN_MESSAGE};

pub const TYPE_NAME: &str = "offstate_secret_rotate";

/// Used when `timeout` is not set.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Bounds of `timeout`: a Lambda runs for at most 15 minutes per step, and Secrets Manager
/// retries a failed rotation; a day is more than any rotation that will finish.
const MIN_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);
/// Pause between two DescribeSecret calls while waiting: doubling from the first, up to the last.
const FIRST_POLL: Duration = Duration::from_secs(2);
const MAX_POLL: Duration = Duration::from_secs(15);

pub struct SecretRotateAction {
    handle: Handle,
}

impl SecretRotateAction {
    pub fn new(handle: Handle) -> Self {
        SecretRotateAction { handle }
    }
}

pub fn schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "Rotates an AWS Secrets Manager secret now (RotateSecret with RotateImmediately), with the rotation \
             configured on it by `offstate_secret_rotation`, and waits until the new version holds AWSCURRENT. \
             Reads no value.",
        )
        .attribute(
            Attribute::required("secret_id", Type::String)
                .description("Name or ARN of the secret to rotate."),
        )
        .attribute(Attribute::optional("wait", Type::Bool).description(
            "Wait until the rotation's new version holds AWSCURRENT (default true). When false, the action \
             ends once Secrets Manager has started the rotation.",
        ))
        .attribute(Attribute::optional("timeout", Type::String).description(
            "How long to wait, like `10m`, `90s` or `1h30m` (default `10m`, at most `24h`). The rotation \
             itself is not stopped when the wait times out.",
        )),
    )
}

/// A duration of whole hours, minutes and seconds in Go's notation (`1h30m`, `90s`, `10m`).
fn parse_duration(s: &str) -> Option<Duration> {
    let mut total = 0u64;
    let mut digits = String::new();
    let mut last_unit = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let (rank, secs) = match c {
            'h' => (3, 3600),
            'm' => (2, 60),
            's' => (1, 1),
            _ => return None,
        };
        // Each unit once, largest first, each after a number.
        if digits.is_empty() || (last_unit != 0 && rank >= last_unit) || digits.len() > 9 {
            return None;
        }
        total += digits.parse::<u64>().ok()? * secs;
        digits.clear();
        last_unit = rank;
    }
    (digits.is_empty() && last_unit != 0).then(|| Duration::from_secs(total))
}

/// The configured timeout, or why it cannot be used.
fn timeout_of(config: &Value) -> Result<Duration, &'static str> {
    match config.get("timeout") {
        Value::Null => Ok(DEFAULT_TIMEOUT),
        v => match v.as_str().and_then(parse_duration) {
            Some(d) if (MIN_TIMEOUT..=MAX_TIMEOUT).contains(&d) => Ok(d),
            Some(_) => Err("timeout must be from 1s to 24h."),
            None => Err(
                "timeout must be a duration of hours, minutes and seconds, like \"10m\", \"90s\" or \"1h30m\".",
            ),
        },
    }
}

fn validate(config: &Value) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let Some(id) = config.get("secret_id").as_str() {
        if id.is_empty() || (!is_arn(id) && validate_name(id).is_err()) {
            d.attr_error(
                AttributePath::attr("secret_id"),
                "Invalid secret_id",
                "secret_id must be a secret name (1-512 of A-Za-z0-9/_+=.@-) or a secret ARN.",
            );
        }
    }
    if !matches!(config.get("timeout"), Value::Unknown) {
        if let Err(why) = timeout_of(config) {
            d.attr_error(AttributePath::attr("timeout"), "Invalid timeout", why);
        }
    }
    d
}

/// Whether DescribeSecret shows any rotation set up: a Lambda recorded (even with rotation
/// turned off, RotateSecret turns it on again) or rotation on (managed rotation, which another
/// service runs without a Lambda of the account's).
fn rotation_configured(meta: &SecretMeta) -> bool {
    meta.rotation.enabled
        || meta
            .rotation
            .lambda_arn
            .as_deref()
            .is_some_and(|a| !a.is_empty())
}

/// What to look at when a rotation does not finish: the Lambda's log group, when it has one.
fn lambda_hint(meta: &SecretMeta) -> String {
    match meta.rotation.lambda_arn.as_deref().filter(|a| !a.is_empty()) {
        Some(arn) => {
            let function = arn
                .split(":function:")
                .nth(1)
                .and_then(|f| f.split(':').next())
                .unwrap_or(arn);
            format!(
                "Check the rotation Lambda {arn:?}: its CloudWatch logs (log group /aws/lambda/{function}), \
                 that it can reach the database or service the secret is for, and that it may call \
                 secretsmanager:PutSecretValue and secretsmanager:UpdateSecretVersionStage on the secret."
            )
        }
        None => "The secret's rotation is managed by another AWS service: check that service's rotation \
                 status."
            .to_string(),
    }
}

/// The secret is marked deleted (DeleteSecret with a recovery window): before the rotation, or
/// while waiting for `version`.
fn scheduled_for_deletion(name: &str, version: Option<&str>) -> Diagnostic {
    let (summary, what) = match version {
        None => (
            "Secret scheduled for deletion",
            "so Secrets Manager cannot rotate it (RotateSecret would fail with InvalidRequestException). Nothing was changed.".to_string(),
        ),
        Some(version) => (
            "Secret deleted during rotation",
            format!("while the action waited: version {version} will not become AWSCURRENT (Secrets Manager refuses every change to a secret marked deleted)."),
        ),
    };
    Diagnostic::error(
        summary,
        format!(
            "Secret {name:?} is scheduled for deletion (DescribeSecret reports a DeletedDate), {what} \
             Restore it with RestoreSecret (aws secretsmanager restore-secret) to rotate it."
        ),
    )
}

fn is_current(meta: &SecretMeta, version: &str) -> bool {
    meta.version_stages
        .get(version)
        .is_some_and(|stages| stages.iter().any(|s| s == AWSCURRENT))
}

#[async_trait]
impl Action for SecretRotateAction {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate_config(&self, config: &Value) -> Diagnostics {
        validate(config)
    }

    async fn invoke(&self, req: &InvokeRequest<'_>, resp: &mut InvokeResponse) {
        if let Err(d) = self.rotate(req.config, resp).await {
            resp.diagnostics.push(d);
        }
    }
}

impl SecretRotateAction {
    async fn rotate(&self, config: &Value, resp: &InvokeResponse) -> Result<(), Diagnostic> {
        // Terraform validated the configuration; checked again as a client other than
        // Terraform may not have.
        let invalid = validate(config);
        if let Some(d) = invalid.iter().next() {
            return Err(d.clone());
        }
        let c = self.handle.get()?;
        let secret_id = config.get("secret_id").as_str().unwrap_or_default();
        let wait = config.get("wait").as_bool().unwrap_or(true);
        let timeout = timeout_of(config).unwrap_or(DEFAULT_TIMEOUT);
        let at_secret = AttributePath::attr("secret_id");

        let meta = match c.store.describe(secret_id).await {
            Ok(Some(meta)) => meta,
            Ok(None) => {
                return Err(Diagnostic::error(
                    "Secret not found",
                    "Secrets Manager DescribeSecret found no secret that secret_id names \
                     (ResourceNotFoundException) in the provider's region.",
                )
                .at(at_secret))
            }
            Err(e) => {
                return Err(argument_store_diag(
                    "DescribeSecret",
                    "secret_id",
                    config,
                    &["secret_id"],
                    &e,
                ))
            }
        };
        let name = bounded(&meta.name, MAX_SHOWN_MESSAGE).into_owned();
        if meta.is_scheduled_for_deletion() {
            return Err(scheduled_for_deletion(&name, None).at(at_secret));
        }
        if !rotation_configured(&meta) {
            return Err(Diagnostic::error(
                "Secret rotation not configured",
                format!(
                    "Secret {name:?} has no rotation configured (DescribeSecret reports rotation off and no \
                     rotation Lambda), so Secrets Manager cannot rotate it. Add an offstate_secret_rotation \
                     resource for it (rotation_lambda_arn and rotation_rules), apply, then invoke this action \
                     again. Nothing was changed."
                ),
            )
            .at(at_secret));
        }
        resp.send_progress(format!(
            "Rotating secret {name:?}; AWSCURRENT is version {}.",
            meta.current_version_id.as_deref().unwrap_or("(none)")
        ));

        // A new token per invocation: the SDK repeats it on its own retries of this call, so
        // a retried request starts one rotation, and invoking the action again rotates again.
        let token = uuid::Uuid::new_v4().to_string();
        let request = RotateRequest {
            rotate_immediately: true,
            client_request_token: Some(token.clone()),
            ..RotateRequest::default()
        };
        let version = match c.store.rotate(secret_id, request).await {
            Ok(v) => v.unwrap_or(token),
            Err(e) => {
                // The secret exists: named by its name in AWS from here on.
                let mut d = store_diag("RotateSecret", &meta.name, &e).at(at_secret.clone());
                if matches!(e, StoreError::InvalidParameter { .. }) {
                    d.detail.push_str(
                        "\n\nCheck that the secret has rotation configured (add an offstate_secret_rotation \
                         resource for it) and that no earlier rotation is still in progress (a version \
                         labelled AWSPENDING that is not AWSCURRENT).",
                    );
                }
                return Err(d);
            }
        };
        resp.send_progress(format!(
            "Secrets Manager started the rotation of secret {name:?}: new version {version}."
        ));
        if !wait {
            resp.send_progress(format!(
                "Not waiting (wait = false): version {version} becomes AWSCURRENT when the rotation finishes."
            ));
            return Ok(());
        }

        let start = Instant::now();
        let mut pause = FIRST_POLL;
        loop {
            let last = match c.store.describe(secret_id).await {
                Ok(Some(meta)) => meta,
                Ok(None) => {
                    return Err(Diagnostic::error(
                        "Secret gone during rotation",
                        format!(
                            "Secret {name:?} no longer exists (DescribeSecret: ResourceNotFoundException); \
                             version {version} never became AWSCURRENT."
                        ),
                    )
                    .at(at_secret))
                }
                Err(e) => return Err(store_diag("DescribeSecret", &meta.name, &e).at(at_secret.clone())),
            };
            if is_current(&last, &version) {
                resp.send_progress(format!(
                    "Version {version} of secret {name:?} is AWSCURRENT."
                ));
                return Ok(());
            }
            // Deleted with a recovery window: DescribeSecret still answers, and no rotation of a
            // secret marked deleted finishes (Secrets Manager refuses every write to it). Waiting
            // on would only end in the timeout.
            if last.is_scheduled_for_deletion() {
                return Err(scheduled_for_deletion(&name, Some(&version)).at(at_secret));
            }
            let left = timeout.saturating_sub(start.elapsed());
            if left.is_zero() {
                let stages = last
                    .version_stages
                    .get(&version)
                    .map(|s| s.join(", "))
                    .unwrap_or_else(|| "no labels (not created yet)".to_string());
                return Err(Diagnostic::error(
                    "Rotation did not finish",
                    format!(
                        "Version {version} of secret {name:?} did not become AWSCURRENT within {}s: it has {stages}, \
                         and AWSCURRENT is version {}. {} Secrets Manager retries a failed rotation, so it may \
                         still finish; DescribeSecret shows where the labels are.",
                        timeout.as_secs(),
                        last.current_version_id.as_deref().unwrap_or("(none)"),
                        lambda_hint(&last)
                    ),
                )
                .at(at_secret));
            }
            resp.send_progress(format!(
                "Waiting for version {version} of secret {name:?} to become AWSCURRENT ({}s of {}s).",
                start.elapsed().as_secs(),
                timeout.as_secs()
            ));
            if !self.handle.pause(pause.min(left)).await {
                return Err(Diagnostic::error(
                    "Rotation wait interrupted",
                    format!(
                        "Terraform was interrupted while waiting for version {version} of secret {name:?} to \
                         become AWSCURRENT. The rotation goes on in Secrets Manager."
                    ),
                )
                .at(at_secret));
            }
            pause = (pause * 2).min(MAX_POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An action configuration: every attribute null but those given.
    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut v = Value::object([
            ("secret_id", Value::Null),
            ("wait", Value::Null),
            ("timeout", Value::Null),
        ]);
        for (k, val) in pairs {
            v.set(k, val.clone());
        }
        v
    }

    #[test]
    fn durations() {
        let s = |n| Some(Duration::from_secs(n));
        for (text, want) in [
            ("10m", s(600)),
            ("90s", s(90)),
            ("1h30m", s(5400)),
            ("1h0m5s", s(3605)),
            ("2h", s(7200)),
            ("", None),
            ("10", None),
            ("m", None),
            ("10x", None),
            ("5s1m", None),
            ("1m1m", None),
            ("1.5h", None),
            ("-1m", None),
            ("9999999999s", None),
        ] {
            assert_eq!(parse_duration(text), want, "{text:?}");
        }
    }

    #[test]
    fn validation_table() {
        let errs =
            |c: Value| -> Vec<String> { validate(&c).iter().map(|d| d.summary.clone()).collect() };
        let id = |v: &str| ("secret_id", Value::string(v));
        assert!(errs(config(&[id("app/db")])).is_empty());
        assert!(errs(config(&[id(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf"
        )]))
        .is_empty());
        assert!(errs(config(&[
            ("secret_id", Value::Unknown),
            ("timeout", Value::Unknown)
        ]))
        .is_empty());
        assert_eq!(errs(config(&[id("")])), ["Invalid secret_id"]);
        assert_eq!(errs(config(&[id("a b")])), ["Invalid secret_id"]);
        for bad in ["0s", "25h", "10 minutes", ""] {
            assert_eq!(
                errs(config(&[id("app/db"), ("timeout", Value::string(bad))])),
                ["Invalid timeout"],
                "{bad:?}"
            );
        }
        assert!(errs(config(&[id("app/db"), ("timeout", Value::string("24h"))])).is_empty());
    }
}
