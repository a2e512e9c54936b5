//! Ephemeral resources: values read or made at plan/apply time, handed to
//! Terraform for write-only arguments and provider blocks, never persisted.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use offstate_common::name::is_arn;
use offstate_common::store::{FetchedValue, VersionSelector};
use offstate_common::{JsonSelectError, SecretValue, StoreError};
use offstate_framework::datasource::{EphemeralResource, OpenRequest, OpenResponse};
use offstate_framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Schema, Type, Value,
};

use crate::generate::{spec_attributes, spec_from};
use crate::provider::Handle;
use crate::secret::{bounded, withhold_arguments, MAX_SHOWN_MESSAGE};

/// The arguments of `offstate_secret_value` that select what is read.
const INPUTS: [&str; 4] = ["secret_id", "version_id", "version_stage", "json_key"];

/// `text` with every configured argument of the read replaced by `<name>`
/// ([`withhold_arguments`]): Terraform accepts ephemeral values in an ephemeral resource's
/// arguments, so `secret_id = var.db_password` (meant: the secret's name) gives us the password
/// as a secret id. No diagnostic of a read repeats an argument, then; Terraform shows the
/// argument's source line with the diagnostic.
fn withhold_inputs(text: &str, config: &Value) -> String {
    withhold_arguments(text, config, &INPUTS)
}

/// What a ResourceNotFoundException of GetSecretValue was about. AWS answers with that one code
/// both for a secret that does not exist and for a version the secret does not have, and only
/// its message text (which is not an interface) tells which; DescribeSecret, called on that
/// error only, tells it by the code alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Missing {
    /// DescribeSecret found no such secret.
    Secret,
    /// The secret exists: the version asked for (AWSCURRENT by default) is what is missing.
    Version,
    /// DescribeSecret failed too (not allowed, throttled, ...): either may be missing.
    Unknown,
}

/// The diagnostic of a failed GetSecretValue: the API error code and AWS's message, the secret
/// and version by the arguments that name them (see [`withhold_inputs`]), and for a
/// ResourceNotFoundException (`missing`), what was not found and what to do.
fn read_diag(e: &StoreError, config: &Value, missing: Option<Missing>) -> Diagnostic {
    let version = if config.get("version_id").is_known_set() {
        " (the version that version_id names)"
    } else if config.get("version_stage").is_known_set() {
        " (the version that version_stage names)"
    } else {
        ""
    };
    let mut detail = format!(
        "Secrets Manager GetSecretValue for the secret that secret_id names{version} failed: {}: {}",
        e.code(),
        bounded(&withhold_inputs(e.message(), config), MAX_SHOWN_MESSAGE)
    );
    // An ARN is known only once the secret exists: a secret_id that is one already is not the
    // name of a secret this run creates.
    let by_name = config
        .get("secret_id")
        .as_str()
        .is_some_and(|id| !is_arn(id));
    match (e, missing) {
        (StoreError::ScheduledForDeletion { .. }, _) => detail.push_str(
            "\n\nThe secret is scheduled for deletion. Restore it (aws secretsmanager restore-secret) to read it.",
        ),
        (StoreError::AccessDenied { .. }, _) => {
            detail.push_str("\n\n");
            detail.push_str(e.credentials_advice().unwrap_or(
                "Check the credentials and that they allow secretsmanager:GetSecretValue on the secret \
                 (and kms:Decrypt on its key, for a customer managed key).",
            ));
        }
        (_, Some(Missing::Version)) if version.is_empty() => detail.push_str(
            "\n\nThe secret exists and has no current value (no version labelled AWSCURRENT): write one first.",
        ),
        (_, Some(Missing::Version)) => {
            detail.push_str(&format!("\n\nThe secret exists; it has no version that {} names.", if config.get("version_id").is_known_set() { "version_id" } else { "version_stage" }))
        }
        // The secret itself is (or may be) missing. A common cause: secret_id names a secret
        // this very run creates, by its `name`, which Terraform knows at plan and so opens the
        // read then (an unknown secret_id defers it to apply).
        (_, Some(Missing::Secret | Missing::Unknown)) if by_name => detail.push_str(
            "\n\nIf an offstate_secret of this configuration creates the secret in this run, set secret_id to its \
             ARN (offstate_secret.NAME.arn): Terraform opens this read during plan whenever secret_id is known there, \
             as a configured name is, before the secret exists; an ARN is known only once the secret is created, so \
             the read waits for the apply.",
        ),
        _ => {}
    }
    Diagnostic::error("Secrets Manager GetSecretValue failed", detail)
}

/// `ephemeral "offstate_secret_value"`.
pub struct SecretValueEphemeral {
    handle: Handle,
    /// Reads of a version id, once per provider process: several blocks may
    /// read the same version, and a version's value never changes. A read by
    /// staging label is never answered from here: within one apply a label can
    /// move (a value written, then read again), and that read must see it.
    cache: Mutex<HashMap<(String, VersionSelector), FetchedValue>>,
}

impl SecretValueEphemeral {
    pub fn new(handle: Handle) -> Self {
        SecretValueEphemeral {
            handle,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// After GetSecretValue answered ResourceNotFoundException: the secret or the version? By
    /// DescribeSecret's answer (never a value), so by codes, not by AWS's wording.
    async fn what_is_missing(&self, secret_id: &str) -> Missing {
        let Ok(c) = self.handle.get() else {
            return Missing::Unknown;
        };
        match c.store.describe(secret_id).await {
            Ok(Some(_)) => Missing::Version,
            Ok(None) => Missing::Secret,
            Err(e) if e.is_not_found() => Missing::Secret,
            Err(e) => {
                tracing::debug!(api = "DescribeSecret", code = %e.code(), "cannot tell whether the secret or its version is missing");
                Missing::Unknown
            }
        }
    }

    async fn fetch(
        &self,
        secret_id: &str,
        selector: VersionSelector,
    ) -> Result<FetchedValue, offstate_common::StoreError> {
        let key = (secret_id.to_string(), selector.clone());
        let by_id = matches!(selector, VersionSelector::Id(_));
        if by_id {
            if let Some(hit) = self.cache.lock().expect("cache lock").get(&key) {
                return Ok(hit.clone());
            }
        }
        let store = &self
            .handle
            .get()
            .map_err(|_| {
                offstate_common::StoreError::from_code("NotConfigured", "provider not configured")
            })?
            .store;
        let fetched = store.get_value(secret_id, selector).await?;
        if by_id {
            self.cache
                .lock()
                .expect("cache lock")
                .insert(key, fetched.clone());
        }
        Ok(fetched)
    }
}

#[async_trait]
impl EphemeralResource for SecretValueEphemeral {
    fn type_name(&self) -> &'static str {
        "offstate_secret_value"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Reads a secret value at plan and apply time without persisting it. Feed `value` to write-only arguments (`password_wo`, `value_wo`) or provider blocks.")
                .attribute(Attribute::required("secret_id", Type::String).description("Name or ARN of the secret."))
                .attribute(Attribute::optional_computed("version_id", Type::String).description("A version id to read (conflicts with `version_stage`); after the read, the id of the version read."))
                .attribute(Attribute::optional("version_stage", Type::String).description("A staging label. Default `AWSCURRENT`."))
                .attribute(Attribute::optional("json_key", Type::String).description("Return one top-level key of a JSON object secret instead of the whole value."))
                .attribute(Attribute::computed("value", Type::String).sensitive().description("The value (base64 for a binary secret)."))
                .attribute(Attribute::computed("binary", Type::Bool).description("Whether the secret is stored as SecretBinary."))
                .attribute(Attribute::computed("arn", Type::String).description("ARN of the secret."))
                .attribute(Attribute::computed("name", Type::String).description("Name of the secret.")),
        )
    }

    async fn validate_config(&self, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if config.get("version_id").is_known_set() && config.get("version_stage").is_known_set() {
            d.attr_error(
                AttributePath::attr("version_stage"),
                "Conflicting configuration arguments",
                "\"version_stage\": conflicts with \"version_id\". Set one of them.",
            );
        }
        // An empty string is not "unset": Secrets Manager refuses an empty VersionId or
        // VersionStage (moto reads the current version instead, and an empty version_id then
        // came back as the id read: Terraform's "produced an inconsistent result").
        for name in INPUTS {
            if config.get(name).as_str() == Some("") {
                // secret_id is required: leaving it out is no way out.
                let fix = if name == "secret_id" {
                    "give the secret's name or ARN"
                } else {
                    "leave it out instead"
                };
                d.attr_error(
                    AttributePath::attr(name),
                    format!("Invalid {name}"),
                    format!("{name} must not be empty: {fix}."),
                );
            }
        }
        d
    }

    async fn open(&self, req: &OpenRequest<'_>, resp: &mut OpenResponse) {
        let c = req.config;
        let secret_id = c.get("secret_id").as_str().unwrap_or_default().to_string();
        let selector = match (
            c.get("version_id").as_str(),
            c.get("version_stage").as_str(),
        ) {
            (Some(id), _) => VersionSelector::Id(id.to_string()),
            (None, Some(stage)) => VersionSelector::Stage(stage.to_string()),
            (None, None) => VersionSelector::Current,
        };
        let fetched = match self.fetch(&secret_id, selector).await {
            Ok(f) => f,
            Err(e) => {
                let missing = if e.is_not_found() {
                    Some(self.what_is_missing(&secret_id).await)
                } else {
                    None
                };
                // A secret that exists without the version asked for is the version's fault.
                let at = match (missing, &c.get("version_id"), &c.get("version_stage")) {
                    (Some(Missing::Version), Value::String(_), _) => "version_id",
                    (Some(Missing::Version), _, Value::String(_)) => "version_stage",
                    _ => "secret_id",
                };
                return resp
                    .diagnostics
                    .push(read_diag(&e, c, missing).at(AttributePath::attr(at)));
            }
        };
        let value: SecretValue = match c.get("json_key").as_str() {
            Some(key) => match fetched.value.select_json(&[key]) {
                Ok(v) => v,
                Err(e) => {
                    // The key is the argument's value: named by the argument (withhold_inputs).
                    let why = match e {
                        JsonSelectError::MissingKey { .. } => {
                            "the secret's JSON has no key that json_key names".to_string()
                        }
                        other => withhold_inputs(&other.to_string(), c),
                    };
                    return resp.diagnostics.attr_error(
                        AttributePath::attr("json_key"),
                        "Cannot select json_key",
                        format!(
                            "Secret {:?} (version {}): {why}.",
                            fetched.name, fetched.version_id
                        ),
                    );
                }
            },
            None => fetched.value.clone(),
        };
        let text = if fetched.binary && c.get("json_key").is_null() {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(value.expose_secret())
        } else {
            match value.expose_str() {
                Ok(s) => s.to_string(),
                Err(_) => {
                    return resp.diagnostics.attr_error(
                        AttributePath::attr("secret_id"),
                        "Secret is not text",
                        format!("Secret {:?} holds bytes that are not UTF-8.", fetched.name),
                    )
                }
            }
        };
        let r = &mut resp.result;
        r.set("value", Value::String(text));
        r.set("binary", Value::Bool(fetched.binary));
        r.set("arn", Value::string(&fetched.arn));
        r.set("name", Value::string(&fetched.name));
        r.set("version_id", Value::string(&fetched.version_id));
        tracing::debug!(secret = %fetched.name, version = %fetched.version_id, "opened secret value");
    }
}

/// `ephemeral "offstate_password"`: a random password that exists only for
/// this run.
pub struct PasswordEphemeral;

#[async_trait]
impl EphemeralResource for PasswordEphemeral {
    fn type_name(&self) -> &'static str {
        "offstate_password"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            spec_attributes(Block::new(
                "A random password generated for this run only (CSPRNG), never persisted.",
            ))
            .attribute(
                Attribute::computed("result", Type::String)
                    .sensitive()
                    .description("The password."),
            ),
        )
    }

    async fn validate_config(&self, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        // Every known setting is checked, with others unknown (see `spec_from`).
        spec_from(config, &AttributePath::root(), &mut d);
        d
    }

    async fn open(&self, req: &OpenRequest<'_>, resp: &mut OpenResponse) {
        let Some(spec) = spec_from(req.config, &AttributePath::root(), &mut resp.diagnostics)
        else {
            return;
        };
        let pw = spec.generate();
        resp.result.set(
            "result",
            Value::String(pw.expose_str().unwrap_or_default().to_string()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Value {
        let mut c = Value::Object(Default::default());
        for (k, v) in pairs {
            c.set(k, Value::string(*v));
        }
        c
    }

    /// An empty string is not an unset argument: Secrets Manager refuses an empty VersionId or
    /// VersionStage, and moto read the current version for one (an empty version_id then came
    /// back as the id that was read, which Terraform reports as the provider's bug). Refused at
    /// validate, on the argument.
    #[tokio::test]
    async fn empty_read_arguments_are_refused_at_validate_on_the_argument() {
        let eph = SecretValueEphemeral::new(Handle::default());
        for name in INPUTS {
            let mut pairs = vec![("secret_id", "app/db")];
            if name == "secret_id" {
                pairs.clear();
            }
            pairs.push((name, ""));
            let d = eph.validate_config(&config(&pairs)).await;
            let errors: Vec<_> = d.iter().filter(|d| d.is_error()).collect();
            assert_eq!(errors.len(), 1, "{name}: {d:?}");
            assert_eq!(
                errors[0].attribute,
                Some(AttributePath::attr(name)),
                "{name}: {d:?}"
            );
            // secret_id is required: the advice cannot be to leave it out.
            let leave_out = errors[0].detail.contains("leave it out");
            assert_eq!(leave_out, name != "secret_id", "{name}: {d:?}");
        }
        let d = eph
            .validate_config(&config(&[
                ("secret_id", "app/db"),
                ("version_stage", "AWSPREVIOUS"),
            ]))
            .await;
        assert!(!d.has_errors(), "{d:?}");
    }

    #[test]
    fn a_read_diagnostic_names_the_arguments_not_their_values() {
        let pw = "hunter2-the-password-by-mistake";
        let c = config(&[("secret_id", pw), ("version_stage", "AWSPENDING")]);
        // AWS quotes a value it refuses; the cut of a long message must not keep a prefix.
        let long = format!(
            "1 validation error detected: Value '{pw}' at 'secretId' failed to satisfy constraint; {}{pw}",
            "x".repeat(MAX_SHOWN_MESSAGE - 40)
        );
        for message in [
            long.as_str(),
            "can't find the specified secret value for staging label: AWSPENDING",
        ] {
            let e = StoreError::from_code("ValidationException", message);
            let d = format!("{:?}", read_diag(&e, &c, None));
            assert!(!d.contains("hunter2"), "{d}");
            assert!(!d.contains("AWSPENDING"), "{d}");
            assert!(
                d.contains("secret_id names (the version that version_stage names)"),
                "{d}"
            );
        }
        // Quoted in another form (JSON-escaped, as a gateway echoing the request body shows
        // it) or cut short (16 bytes of it or more): AWS's message is not shown at all.
        let quoted = r#"hunter2"with\quote-by-mistake"#;
        let c = config(&[("secret_id", quoted), ("version_stage", "AWSPENDING")]);
        let json = serde_json::json!({ "SecretId": quoted }).to_string();
        for message in [
            format!("502 from the gateway: {json}"),
            "Value 'hunter2-the-password-by-mis...' at 'secretId' failed".to_owned(),
        ] {
            let c = if message.contains("gateway") {
                c.clone()
            } else {
                config(&[("secret_id", pw)])
            };
            let shown = withhold_inputs(&message, &c);
            assert!(
                !shown.contains("hunter2") && !shown.contains("by-mis"),
                "{shown}"
            );
            assert!(shown.contains("secret_id"), "{shown}");
            let d = format!(
                "{:?}",
                read_diag(
                    &StoreError::from_code("ValidationException", message),
                    &c,
                    None
                )
            );
            assert!(!d.contains("hunter2"), "{d}");
        }
        // A short value found only inside a placeholder (`id` in `<secret_id>`) is no echo.
        let c = config(&[("secret_id", "db-name"), ("json_key", "id")]);
        assert_eq!(withhold_inputs("no db-name", &c), "no <secret_id>");
        // A value inside another one: the longer goes first, nothing of either is left.
        let c = config(&[("secret_id", "db"), ("json_key", "db-password")]);
        assert_eq!(
            withhold_inputs("no key db-password in db", &c),
            "no key <json_key> in <secret_id>"
        );
    }
}
