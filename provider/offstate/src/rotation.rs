//! `offstate_secret_rotation`: the rotation configuration of a secret (RotateSecret), not its
//! value.
//!
//! The resource has no value attribute at all, so a rotation (the Lambda writing a new
//! AWSCURRENT) can never make Terraform write an old value back: `offstate_secret` only writes
//! when its own trigger changes, and this resource only calls RotateSecret when its rotation
//! settings change.
//!
//! `rotation_rules` is a single nested block, the shape `aws_secretsmanager_secret_rotation` has,
//! so a configuration moves over by renaming the resource type.
//!
//! Refresh reads DescribeSecret. Rotation turned off outside Terraform (or the secret gone)
//! removes the resource from state, so the next plan sets rotation up again.

use async_trait::async_trait;
use offstate_common::name::{is_arn, looks_like_arn_suffix, validate_name};
use offstate_common::store::{RotateRequest, SecretMeta};
use offstate_common::StoreError;
use offstate_framework::resource::*;
use offstate_framework::value::Number;
use offstate_framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Nesting, Schema, Type, Value,
};

use crate::provider::Handle;
use crate::secret::{bounded, import_not_found, import_store_diag, store_diag, MAX_SHOWN_ID};

pub const TYPE_NAME: &str = "offstate_secret_rotation";
const RULES: &str = "rotation_rules";

pub struct RotationResource {
    handle: Handle,
}

impl RotationResource {
    pub fn new(handle: Handle) -> Self {
        RotationResource { handle }
    }
}

pub fn schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "Rotation of an AWS Secrets Manager secret (RotateSecret). Holds no value: a rotation never makes \
             Terraform write a value back. Destroying it calls CancelRotateSecret.",
        )
        .attribute(Attribute::computed("id", Type::String).description("The secret's ARN."))
        .attribute(
            Attribute::required("secret_id", Type::String)
                .description("Name or ARN of the secret to rotate. Changing it replaces the resource."),
        )
        .attribute(Attribute::optional("rotation_lambda_arn", Type::String).description(
            "ARN of the Lambda function that rotates the secret. Leave unset only for secrets whose rotation \
             another AWS service manages.",
        ))
        .attribute(Attribute::optional_computed("rotate_immediately", Type::Bool).description(
            "Rotate as soon as the rotation is configured or changed (default true). When false, Secrets Manager \
             runs only the Lambda's testSecret step and the first rotation follows the schedule.",
        ))
        .attribute(
            Attribute::computed("rotation_enabled", Type::Bool)
                .description("Whether Secrets Manager reports rotation as enabled."),
        )
        .block(
            RULES,
            Nesting::Single,
            Block::new("When to rotate. Set exactly one of `automatically_after_days` and `schedule_expression`.")
                .attribute(Attribute::optional("automatically_after_days", Type::Number).description(
                    "Rotate every this many days (1 to 1000).",
                ))
                .attribute(Attribute::optional("schedule_expression", Type::String).description(
                    "A `cron()` or `rate()` expression, like `rate(10 days)` or `cron(0 16 1,15 * ? *)`.",
                ))
                .attribute(Attribute::optional("duration", Type::String).description(
                    "Length of the rotation window in hours, like `3h` (1h to 24h).",
                )),
            0,
            0,
        ),
    )
}

fn rules_path(attr: &str) -> AttributePath {
    AttributePath::attr(RULES).then_attr(attr)
}

/// Checks what is known of the configuration; unknown values pass.
fn validate(c: &Value) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let Some(id) = c.get("secret_id").as_str() {
        if id.is_empty() || (!is_arn(id) && validate_name(id).is_err()) {
            d.attr_error(
                AttributePath::attr("secret_id"),
                "Invalid secret_id",
                "secret_id must be a secret name (1-512 of A-Za-z0-9/_+=.@-) or a secret ARN.",
            );
        }
    }
    if let Some(arn) = c.get("rotation_lambda_arn").as_str() {
        if !(arn.starts_with("arn:") && arn.contains(":lambda:") && arn.len() <= 2048) {
            d.attr_error(
                AttributePath::attr("rotation_lambda_arn"),
                "Invalid rotation_lambda_arn",
                "rotation_lambda_arn must be a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME), at most 2048 characters.",
            );
        }
    }
    let rules = c.get(RULES);
    if rules.is_null() {
        d.attr_error(
            AttributePath::attr(RULES),
            "Missing rotation_rules block",
            "offstate_secret_rotation needs a rotation_rules block with automatically_after_days or schedule_expression.",
        );
        return d;
    }
    if rules.is_unknown() {
        return d;
    }
    let days = rules.get("automatically_after_days");
    let schedule = rules.get("schedule_expression");
    if let Some(n) = days.as_number() {
        if !n.as_i64().is_some_and(|n| (1..=1000).contains(&n)) {
            d.attr_error(
                rules_path("automatically_after_days"),
                "Invalid automatically_after_days",
                format!("automatically_after_days must be a whole number from 1 to 1000, got {n}."),
            );
        }
    }
    if days.is_known_set() && schedule.is_known_set() {
        d.attr_error(
            rules_path("schedule_expression"),
            "Conflicting configuration arguments",
            "\"schedule_expression\": conflicts with \"automatically_after_days\". Set one of them.",
        );
    }
    if days.is_null() && schedule.is_null() {
        d.attr_error(
            AttributePath::attr(RULES),
            "Missing rotation schedule",
            "rotation_rules needs one of automatically_after_days and schedule_expression.",
        );
    }
    if let Some(s) = schedule.as_str() {
        let chars_ok = !s.is_empty()
            && s.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "()#?*-/, ".contains(ch));
        let shaped = (s.starts_with("cron(") || s.starts_with("rate(")) && s.ends_with(')');
        if !(chars_ok && shaped && s.len() <= 256) {
            d.attr_error(
                rules_path("schedule_expression"),
                "Invalid schedule_expression",
                "schedule_expression must be a cron() or rate() expression, like \"rate(10 days)\" or \"cron(0 16 1,15 * ? *)\".",
            );
        }
    }
    if let Some(s) = rules.get("duration").as_str() {
        let hours = s
            .strip_suffix('h')
            .filter(|n| !n.is_empty() && n.chars().all(|ch| ch.is_ascii_digit()))
            .and_then(|n| n.parse::<u32>().ok());
        if !hours.is_some_and(|h| (1..=24).contains(&h)) {
            d.attr_error(
                rules_path("duration"),
                "Invalid duration",
                "duration must be a whole number of hours from 1h to 24h, like \"3h\".",
            );
        }
    }
    d
}

/// The RotateSecret request the configuration asks for.
fn request(c: &Value) -> RotateRequest {
    let rules = c.get(RULES);
    RotateRequest {
        lambda_arn: c.get("rotation_lambda_arn").as_str().map(str::to_string),
        automatically_after_days: rules.get("automatically_after_days").as_i64(),
        schedule_expression: rules
            .get("schedule_expression")
            .as_str()
            .map(str::to_string),
        duration: rules.get("duration").as_str().map(str::to_string),
        rotate_immediately: c.get("rotate_immediately").as_bool().unwrap_or(true),
        // Retries of one apply must not start two rotations.
        client_request_token: Some(uuid::Uuid::new_v4().to_string()),
    }
}

/// The rotation settings Secrets Manager reports, written over `base`.
/// Whether the configured `secret_id` names the secret of `prior`, however spelt: its name or
/// its ARN (`prior.id`). Import records the id as given (often the name) while configurations
/// usually say `offstate_secret.x.arn`; another spelling of the same secret must not replace
/// the rotation, which would cancel it and, with `rotate_immediately`, rotate at once.
fn same_secret(config: &Value, prior: &Value) -> bool {
    let (Some(want), Some(had)) = (
        config.get("secret_id").as_str(),
        prior.get("secret_id").as_str(),
    ) else {
        // Unknown (a secret created in the same run) or missing: compare as values.
        return config.get("secret_id") == prior.get("secret_id");
    };
    if want == had {
        return true;
    }
    let Some(arn) = prior.get("id").as_str() else {
        return false;
    };
    let name_of_arn = |a: &str| -> Option<String> {
        // arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX (6 random characters)
        let tail = a.split_once(":secret:")?.1;
        let cut = tail.len().checked_sub(7)?;
        (tail.as_bytes()[cut] == b'-').then(|| tail[..cut].to_string())
    };
    let name = name_of_arn(arn);
    // The partial ARN (the ARN without `-` and the six characters), which Secrets Manager also
    // takes as a SecretId: an import by it, or by `identity = { arn = ... }` holding it, records
    // it as `secret_id`.
    let partial = name.as_ref().map(|_| &arn[..arn.len() - 7]);
    let spelt = |s: &str| s == arn || Some(s) == name.as_deref() || Some(s) == partial;
    spelt(want) && spelt(had)
}

/// Whether `id` is a secret's complete ARN, as DescribeSecret gives it: `arn:` and, after
/// `:secret:`, a name followed by `-` and the six characters Secrets Manager adds. A partial
/// ARN (the name alone after `:secret:`), which Secrets Manager also accepts as a `SecretId`,
/// is not: the ARN recorded for it later is another string.
fn is_complete_arn(id: &str) -> bool {
    let Some((_, tail)) = id.split_once(":secret:") else {
        return false;
    };
    is_arn(id) && tail.len() > 7 && looks_like_arn_suffix(tail)
}

/// Where a RotateSecret error belongs: the Lambda when Secrets Manager says the Lambda is the
/// problem (it cannot invoke it, or the function refused), else the secret.
fn rotate_error_path(e: &offstate_common::StoreError) -> AttributePath {
    if e.message().to_ascii_lowercase().contains("lambda") {
        AttributePath::attr("rotation_lambda_arn")
    } else {
        AttributePath::attr("secret_id")
    }
}

fn state_from(meta: &SecretMeta, base: &Value) -> Value {
    let mut s = base.clone();
    s.set("id", Value::string(&meta.arn));
    s.set("rotation_enabled", Value::Bool(meta.rotation.enabled));
    if let Some(arn) = meta
        .rotation
        .lambda_arn
        .as_deref()
        .filter(|a| !a.is_empty())
    {
        s.set("rotation_lambda_arn", Value::string(arn));
    }
    let r = &meta.rotation;
    let reported =
        r.automatically_after_days.is_some_and(|d| d > 0) || r.schedule_expression.is_some();
    if reported {
        let mut rules = base.get(RULES).clone();
        if !matches!(rules, Value::Object(_)) {
            rules = Value::object([
                ("automatically_after_days", Value::Null),
                ("schedule_expression", Value::Null),
                ("duration", Value::Null),
            ]);
        }
        match &r.schedule_expression {
            // With a schedule, AWS also reports the days it works out from it: not configuration.
            Some(expr) => {
                rules.set("schedule_expression", Value::string(expr));
                rules.set("automatically_after_days", Value::Null);
            }
            None => {
                rules.set("schedule_expression", Value::Null);
                rules.set(
                    "automatically_after_days",
                    Value::Number(Number::Int(r.automatically_after_days.unwrap_or_default())),
                );
            }
        }
        if r.duration.is_some() || !rules.get("duration").is_null() {
            rules.set("duration", Value::opt_string(r.duration.clone()));
        }
        s.set(RULES, rules);
    }
    s
}

/// The state after a RotateSecret: what was planned (Terraform requires configured values back
/// as planned), with the computed attributes from DescribeSecret. Drift in the settings shows
/// at the next refresh.
fn applied_state(meta: &SecretMeta, planned: &Value) -> Value {
    let mut s = planned.clone();
    s.set("id", Value::string(&meta.arn));
    s.set("rotation_enabled", Value::Bool(meta.rotation.enabled));
    s
}

#[async_trait]
impl offstate_framework::Resource for RotationResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    /// The secret's ARN, as `aws_secretsmanager_secret_rotation` has it: a rotation is one per
    /// secret, so the secret's ARN names it (`import { identity = { arn = ... } }`).
    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema {
            version: 0,
            attributes: vec![IdentityAttribute {
                name: "arn".into(),
                ty: Type::String,
                description: "ARN of the rotated secret.".into(),
                required_for_import: true,
                optional_for_import: false,
            }],
        })
    }

    /// Only a complete ARN (ending in the secret's `-` and six characters): a create whose
    /// DescribeSecret failed records the configured `secret_id` (maybe a name, maybe a partial
    /// ARN without that suffix) as `id` until the next refresh puts DescribeSecret's ARN there,
    /// and Terraform rejects an identity that changes once recorded ("Unexpected Identity
    /// Change"); a missing one is filled in by that refresh.
    fn identity(&self, state: &Value) -> Option<Value> {
        let id = state.get("id").as_str().filter(|id| is_complete_arn(id))?;
        Some(Value::object([("arn", Value::string(id))]))
    }

    async fn validate_config(&self, req: &ValidateConfigRequest<'_>) -> Diagnostics {
        validate(req.config)
    }

    async fn modify_plan(&self, req: &ModifyPlanRequest<'_>, resp: &mut ModifyPlanResponse) {
        if req.is_destroy() {
            return;
        }
        let config = req.config;
        let p = &mut resp.planned_state;
        if config.get("rotate_immediately").is_null() {
            p.set("rotate_immediately", Value::Bool(true));
        }
        if req.is_create() {
            return;
        }
        let prior = req.prior_state;
        if !same_secret(config, prior) {
            resp.requires_replace.push(AttributePath::attr("secret_id"));
            return;
        }
        p.set("id", prior.get("id").clone());
        let settings_changed = config.get("rotation_lambda_arn")
            != prior.get("rotation_lambda_arn")
            || config.get(RULES) != prior.get(RULES);
        if settings_changed {
            p.set("rotation_enabled", Value::Unknown);
        } else {
            p.set("rotation_enabled", prior.get("rotation_enabled").clone());
        }
    }

    async fn create(&self, req: &CreateRequest<'_>, resp: &mut CreateResponse) {
        let c = match self.handle.get() {
            Ok(c) => c,
            Err(d) => return resp.diagnostics.push(d),
        };
        let secret_id = req.config.get("secret_id").as_str().unwrap_or_default();
        tracing::info!(secret = %secret_id, "configuring rotation");
        if let Err(e) = c.store.rotate(secret_id, request(req.config)).await {
            return resp
                .diagnostics
                .push(store_diag("RotateSecret", secret_id, &e).at(rotate_error_path(&e)));
        }
        match c.store.describe(secret_id).await {
            Ok(Some(meta)) => resp.state = applied_state(&meta, req.planned_state),
            // RotateSecret succeeded: the rotation is configured, and the state must say so,
            // or the next apply configures (and, with rotate_immediately, rotates) again. A
            // warning, not an error, which would taint the resource and replace it. The next
            // refresh reads what DescribeSecret could not tell now.
            other => {
                let mut s = req.planned_state.clone();
                s.set("id", Value::string(secret_id));
                s.set("rotation_enabled", Value::Bool(true));
                resp.state = s;
                // The describe error as every other store error is shown (code and
                // bounded message, via `store_diag`).
                let why = match other {
                    Err(e) => store_diag("DescribeSecret", secret_id, &e).detail,
                    _ => "DescribeSecret did not find the secret yet.".to_string(),
                };
                resp.diagnostics.push(Diagnostic::warning(
                    "Rotation configured, not read back",
                    format!(
                        "RotateSecret succeeded for {secret_id:?}, but: {why} The state records the configuration as applied; the next refresh reads it from Secrets Manager."
                    ),
                ));
            }
        }
    }

    async fn read(&self, req: &ReadRequest<'_>, resp: &mut ReadResponse) {
        let c = match self.handle.get() {
            Ok(c) => c,
            Err(d) => return resp.diagnostics.push(d),
        };
        let prior = req.current_state;
        let id = prior
            .get("id")
            .as_str()
            .or_else(|| prior.get("secret_id").as_str())
            .unwrap_or_default()
            .to_string();
        match c.store.describe(&id).await {
            Ok(Some(meta)) if !meta.is_scheduled_for_deletion() && meta.rotation.enabled => {
                resp.state = state_from(&meta, prior);
            }
            Ok(Some(_)) => {
                tracing::info!(secret = %id, "rotation is off or the secret is being deleted; removing the rotation from state");
                resp.state = Value::Null;
            }
            Ok(None) => {
                // Asked in another region than the secret's (the provider configuration
                // changed), Secrets Manager finds nothing: not a reason to forget the rotation.
                let elsewhere = crate::secret::arn_region(&id)
                    .zip(c.store.region())
                    .filter(|(r, own)| r != own);
                if let Some((secret_region, own)) = elsewhere {
                    return resp.diagnostics.push(crate::secret::other_region_diag(
                        &id,
                        secret_region,
                        own,
                    ));
                }
                // Asked in another account (the credentials changed): likewise.
                if crate::secret::other_account(&self.handle, &id, &mut resp.diagnostics).await {
                    return;
                }
                tracing::info!(secret = %id, "secret is gone; removing the rotation from state");
                resp.state = Value::Null;
            }
            Err(e) => resp.diagnostics.push(store_diag("DescribeSecret", &id, &e)),
        }
    }

    async fn update(&self, req: &UpdateRequest<'_>, resp: &mut UpdateResponse) {
        let c = match self.handle.get() {
            Ok(c) => c,
            Err(d) => return resp.diagnostics.push(d),
        };
        // The planned state, not the configuration: Terraform applies `ignore_changes` to the
        // plan only and sends ApplyResourceChange the configuration as written, so ignored
        // rotation_rules were sent with RotateSecret (and rotated at once with
        // rotate_immediately) while the state kept the old ones.
        let (config, prior) = (req.planned_state, req.prior_state);
        let id = prior.get("id").as_str().unwrap_or_default().to_string();
        let settings_changed = config.get("rotation_lambda_arn")
            != prior.get("rotation_lambda_arn")
            || config.get(RULES) != prior.get(RULES);
        if !settings_changed {
            // Only rotate_immediately changed: it matters at the next RotateSecret.
            resp.state = req.planned_state.clone();
            return;
        }
        tracing::info!(secret = %id, "changing rotation");
        if let Err(e) = c.store.rotate(&id, request(config)).await {
            resp.state = prior.clone();
            return resp
                .diagnostics
                .push(store_diag("RotateSecret", &id, &e).at(rotate_error_path(&e)));
        }
        match c.store.describe(&id).await {
            Ok(Some(meta)) => resp.state = applied_state(&meta, req.planned_state),
            Ok(None) => resp.diagnostics.error(
                "Secret not found after RotateSecret",
                format!("Secret {id:?} was not found right after its rotation was changed."),
            ),
            Err(e) => {
                let mut s = req.planned_state.clone();
                s.set("rotation_enabled", Value::Bool(true));
                resp.state = s;
                resp.diagnostics.push(store_diag("DescribeSecret", &id, &e));
            }
        }
    }

    async fn delete(&self, req: &DeleteRequest<'_>, resp: &mut DeleteResponse) {
        let c = match self.handle.get() {
            Ok(c) => c,
            Err(d) => return resp.diagnostics.push(d),
        };
        let id = req.prior_state.get("id").as_str().unwrap_or_default();
        tracing::info!(secret = %id, "cancelling rotation");
        match c.store.cancel_rotation(id).await {
            Ok(()) => {}
            // Nothing left to cancel.
            Err(e) if e.is_not_found() => {}
            Err(StoreError::ScheduledForDeletion { .. }) => {}
            Err(e) => resp
                .diagnostics
                .push(store_diag("CancelRotateSecret", id, &e)),
        }
    }

    /// `moved { from = aws_secretsmanager_secret_rotation.x  to = offstate_secret_rotation.x }`:
    /// the settings move as they are (the AWS provider's `rotation_rules` is a list of one
    /// block, ours a single block); the next refresh reads the rest. Nothing is called.
    async fn move_state(&self, req: &MoveStateRequest<'_>, resp: &mut MoveStateResponse) {
        if !req.source_provider_address.ends_with("hashicorp/aws")
            || req.source_type_name != "aws_secretsmanager_secret_rotation"
        {
            return;
        }
        let src = req.source_state;
        let text = |v: Option<&serde_json::Value>| {
            v.and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let Some(secret_id) = text(src.get("secret_id")).or_else(|| text(src.get("id"))) else {
            return resp.diagnostics.error(
                "Unable to move resource state",
                "The aws_secretsmanager_secret_rotation state has no secret_id.",
            );
        };
        let rules_src = match src.get(RULES) {
            Some(serde_json::Value::Array(list)) => list.first(),
            Some(o @ serde_json::Value::Object(_)) => Some(o),
            _ => None,
        };
        let days = rules_src
            .and_then(|r| r.get("automatically_after_days"))
            .and_then(|d| d.as_i64())
            .filter(|d| *d > 0);
        let rules = Value::object([
            (
                "automatically_after_days",
                days.map(|d| Value::Number(Number::Int(d)))
                    .unwrap_or(Value::Null),
            ),
            (
                "schedule_expression",
                Value::opt_string(text(rules_src.and_then(|r| r.get("schedule_expression")))),
            ),
            (
                "duration",
                Value::opt_string(text(rules_src.and_then(|r| r.get("duration")))),
            ),
        ]);
        let mut s = schema().empty_value();
        s.set(
            "id",
            Value::opt_string(text(src.get("id")).or(Some(secret_id.clone()))),
        );
        s.set("secret_id", Value::string(secret_id));
        s.set(
            "rotation_lambda_arn",
            Value::opt_string(text(src.get("rotation_lambda_arn"))),
        );
        s.set(
            "rotate_immediately",
            Value::Bool(
                src.get("rotate_immediately")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(true),
            ),
        );
        s.set(
            "rotation_enabled",
            Value::Bool(
                src.get("rotation_enabled")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(true),
            ),
        );
        s.set(RULES, rules);
        resp.target_state = s;
    }

    async fn import_state(&self, req: &ImportStateRequest<'_>, resp: &mut ImportStateResponse) {
        let c = match self.handle.get() {
            Ok(c) => c,
            Err(d) => return resp.diagnostics.push(d),
        };
        // `import { identity = { arn = ... } }` sends the identity and an empty id.
        let id = req
            .identity
            .and_then(|i| i.get("arn").as_str())
            .unwrap_or(req.id);
        if id.is_empty() || (!is_arn(id) && validate_name(id).is_err()) {
            return resp.diagnostics.error(
                "Invalid import id",
                "Import an offstate_secret_rotation by the secret's name or ARN (or by identity, its ARN).",
            );
        }
        match c.store.describe(id).await {
            Ok(Some(meta)) if meta.rotation.enabled => {
                let mut s = schema().empty_value();
                s.set("secret_id", Value::string(id));
                s.set("rotate_immediately", Value::Bool(true));
                resp.state = state_from(&meta, &s);
            }
            // The id is never repeated, as offstate_secret's import does (IMPORT_ID): a secret
            // found is named by the name AWS gives it.
            Ok(Some(meta)) => resp.diagnostics.error(
                "Cannot import: rotation is not enabled",
                format!(
                    "Secret {:?} has no rotation enabled.",
                    &*bounded(&meta.name, MAX_SHOWN_ID)
                ),
            ),
            Ok(None) => resp.diagnostics.push(import_not_found()),
            Err(e) if e.is_not_found() => resp.diagnostics.push(import_not_found()),
            Err(e) => resp
                .diagnostics
                .push(import_store_diag("DescribeSecret", id, &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(rules: Value) -> Value {
        Value::object([
            ("secret_id", Value::string("app/db")),
            (
                "rotation_lambda_arn",
                Value::string("arn:aws:lambda:us-east-1:123456789012:function:rot"),
            ),
            (RULES, rules),
        ])
    }

    fn rules(days: Option<i64>, schedule: Option<&str>, duration: Option<&str>) -> Value {
        Value::object([
            (
                "automatically_after_days",
                days.map(|d| Value::Number(Number::Int(d)))
                    .unwrap_or(Value::Null),
            ),
            ("schedule_expression", Value::opt_string(schedule)),
            ("duration", Value::opt_string(duration)),
        ])
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.iter()
            .filter(|d| d.is_error())
            .map(|d| {
                d.attribute
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn identity_is_the_secret_arn_and_only_an_arn() {
        use offstate_framework::Resource;
        let r = RotationResource::new(Handle::default());
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbC123";
        let state = |id: Value| Value::object([("id", id), ("secret_id", Value::string("app/db"))]);
        assert_eq!(
            r.identity(&state(Value::string(arn))),
            Some(Value::object([("arn", Value::string(arn))]))
        );
        // A create whose DescribeSecret failed records the name until the next refresh: no
        // identity yet, since a recorded one may not change.
        assert_eq!(r.identity(&state(Value::string("app/db"))), None);
        // Nor when `secret_id` was a partial ARN (no `-AbC123`): the refresh records
        // DescribeSecret's complete ARN, another string, and a recorded identity may not change.
        let partial = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db";
        assert_eq!(r.identity(&state(Value::string(partial))), None);
        assert_eq!(r.identity(&state(Value::Unknown)), None);
        let schema = r.identity_schema().expect("an identity schema");
        assert_eq!(schema.attributes.len(), 1);
        assert_eq!(schema.attributes[0].name, "arn");
    }

    #[test]
    fn another_spelling_of_the_same_secret_is_the_same_secret() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbC123";
        let state = |secret_id: &str| {
            Value::object([
                ("secret_id", Value::string(secret_id)),
                ("id", Value::string(arn)),
            ])
        };
        let config = |secret_id: Value| Value::object([("secret_id", secret_id)]);
        // Imported by name, configured by ARN (and the other way round).
        assert!(same_secret(&config(Value::string(arn)), &state("app/db")));
        assert!(same_secret(&config(Value::string("app/db")), &state(arn)));
        assert!(same_secret(
            &config(Value::string("app/db")),
            &state("app/db")
        ));
        // Another secret, one whose name only starts the same, or one not known yet.
        assert!(!same_secret(
            &config(Value::string("app/other")),
            &state("app/db")
        ));
        assert!(!same_secret(&config(Value::string("app")), &state(arn)));
        assert!(!same_secret(
            &config(Value::string(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-XyZ789"
            )),
            &state("app/db")
        ));
        assert!(!same_secret(&config(Value::Unknown), &state("app/db")));
        // Imported by the partial ARN (no `-AbC123`), configured by the ARN or the name, and
        // the other way round: the same secret, not a replacement (which cancels the rotation
        // and, with rotate_immediately, rotates at once).
        let partial = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db";
        assert!(same_secret(&config(Value::string(arn)), &state(partial)));
        assert!(same_secret(&config(Value::string(partial)), &state(arn)));
        assert!(same_secret(
            &config(Value::string("app/db")),
            &state(partial)
        ));
        // A partial ARN of another secret, or of one whose name only starts the same.
        assert!(!same_secret(
            &config(Value::string(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/other"
            )),
            &state(partial)
        ));
        assert!(!same_secret(
            &config(Value::string(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:app"
            )),
            &state(arn)
        ));
    }

    #[test]
    fn validation_table() {
        assert!(paths(&validate(&config(rules(Some(30), None, Some("3h"))))).is_empty());
        assert!(paths(&validate(&config(rules(None, Some("rate(10 days)"), None)))).is_empty());
        assert!(paths(&validate(&config(rules(
            None,
            Some("cron(0 16 1,15 * ? *)"),
            None
        ))))
        .is_empty());
        assert_eq!(
            paths(&validate(&config(rules(Some(0), None, None)))),
            ["rotation_rules.automatically_after_days"]
        );
        assert_eq!(
            paths(&validate(&config(rules(Some(1001), None, None)))),
            ["rotation_rules.automatically_after_days"]
        );
        assert_eq!(
            paths(&validate(&config(rules(
                Some(5),
                Some("rate(5 days)"),
                None
            )))),
            ["rotation_rules.schedule_expression"]
        );
        assert_eq!(
            paths(&validate(&config(rules(None, None, None)))),
            ["rotation_rules"]
        );
        assert_eq!(paths(&validate(&config(Value::Null))), ["rotation_rules"]);
        assert_eq!(
            paths(&validate(&config(rules(None, Some("every day"), None)))),
            ["rotation_rules.schedule_expression"]
        );
        for bad in ["3", "0h", "25h", "3 h", "h"] {
            assert_eq!(
                paths(&validate(&config(rules(Some(1), None, Some(bad))))),
                ["rotation_rules.duration"],
                "{bad}"
            );
        }
        let mut c = config(rules(Some(1), None, None));
        c.set("rotation_lambda_arn", Value::string("my-function"));
        c.set("secret_id", Value::string("bad name"));
        assert_eq!(paths(&validate(&c)), ["secret_id", "rotation_lambda_arn"]);
        // Unknown values pass.
        let mut c = config(Value::Unknown);
        c.set("secret_id", Value::Unknown);
        assert!(paths(&validate(&c)).is_empty());
    }

    #[test]
    fn state_takes_reported_rules() {
        use offstate_common::store::memory::MemoryStore;
        use offstate_common::store::{CreateSecret, SecretStore};
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let store = MemoryStore::default();
            store
                .create(CreateSecret {
                    name: "s".into(),
                    ..Default::default()
                })
                .await
                .unwrap();
            let c = config(rules(None, Some("rate(10 days)"), Some("2h")));
            let mut req = request(&c);
            req.rotate_immediately = false;
            store.rotate("s", req).await.unwrap();
            let meta = store.describe("s").await.unwrap().unwrap();
            let s = state_from(&meta, &c);
            assert_eq!(s.get("rotation_enabled").as_bool(), Some(true));
            assert_eq!(
                s.get(RULES).get("schedule_expression").as_str(),
                Some("rate(10 days)")
            );
            assert!(s.get(RULES).get("automatically_after_days").is_null());
            assert_eq!(s.get(RULES).get("duration").as_str(), Some("2h"));
            assert_eq!(s.get("id").as_str(), Some(meta.arn.as_str()));
        });
    }
}
