//! A test-only stand-in for `registry.terraform.io/hashicorp/aws`, built on offstate's own
//! framework. It serves `aws_secretsmanager_secret`, `aws_secretsmanager_secret_version` and
//! `aws_secretsmanager_secret_policy` with the attribute names, types and flags of hashicorp/aws
//! 6.x, backed by Secrets Manager through offstate-common's AWS store, and keeps `secret_string`
//! in state in plaintext exactly as the real provider does: it is the "legacy" configuration the
//! migration tests move away from.
//!
//! Never ship it; never point it at a real account. It exists because Terraform loads the schema
//! of every provider named in state, so moving `aws_secretsmanager_secret.x` into
//! `offstate_secret.x` needs a `hashicorp/aws` installed.
//!
//! What it does not do (not needed by the tests): replicas, rotation attributes, the
//! `secret_binary` round trip, UpdateSecretVersionStage for `version_stages`, and credentials
//! other than the standard AWS chain (`access_key`/`secret_key` are accepted and ignored; the
//! tests export dummy credentials in the environment).

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use offstate_common::store::aws::{AwsSecretsManager, AwsStoreConfig};
use offstate_common::store::{CreateSecret, Deletion, MetadataUpdate, PutValue, SecretMeta};
use offstate_common::{SecretStore, SecretValue};
use offstate_framework::provider::ConfigureRequest;
use offstate_framework::resource::*;
use offstate_framework::runtime::{self, ServeOptions};
use offstate_framework::wire::ProviderService;
use offstate_framework::{
    Attribute, Block, Diagnostic, Diagnostics, Nesting, Resource, Schema, Type, Value,
};

type Shared = Arc<OnceLock<Arc<dyn SecretStore>>>;

fn store(h: &Shared) -> Result<&Arc<dyn SecretStore>, Diagnostic> {
    h.get()
        .ok_or_else(|| Diagnostic::error("Provider not configured", "aws stand-in: not configured"))
}

fn err(op: &str, e: &offstate_common::StoreError) -> Diagnostic {
    Diagnostic::error(
        format!("{op} failed"),
        format!("{}: {}", e.code(), e.message()),
    )
}

#[derive(Default)]
struct AwsStandin {
    store: Shared,
}

fn provider_schema() -> Schema {
    Schema::new(
        0,
        Block::new("Test-only stand-in for hashicorp/aws (Secrets Manager resources only).")
            .attribute(Attribute::optional("region", Type::String))
            .attribute(Attribute::optional("access_key", Type::String))
            .attribute(Attribute::optional("secret_key", Type::String))
            .attribute(Attribute::optional("token", Type::String))
            .attribute(Attribute::optional("profile", Type::String))
            .attribute(Attribute::optional(
                "skip_credentials_validation",
                Type::Bool,
            ))
            .attribute(Attribute::optional(
                "skip_requesting_account_id",
                Type::Bool,
            ))
            .attribute(Attribute::optional("skip_region_validation", Type::Bool))
            // A string in the real provider ("true"/"false"), for historical reasons.
            .attribute(Attribute::optional("skip_metadata_api_check", Type::String))
            .attribute(Attribute::optional("max_retries", Type::Number))
            .block(
                "endpoints",
                Nesting::Set,
                Block::new("Service endpoints (only secretsmanager is used here).")
                    .attribute(Attribute::optional("secretsmanager", Type::String))
                    .attribute(Attribute::optional("sts", Type::String))
                    .attribute(Attribute::optional("iam", Type::String)),
                0,
                0,
            )
            .block(
                "default_tags",
                Nesting::List,
                Block::new("").attribute(Attribute::optional("tags", Type::map(Type::String))),
                0,
                1,
            ),
    )
}

#[async_trait]
impl offstate_framework::Provider for AwsStandin {
    fn type_name(&self) -> &'static str {
        "aws"
    }
    fn schema(&self) -> Schema {
        provider_schema()
    }
    async fn configure(&self, req: &ConfigureRequest<'_>) -> Diagnostics {
        let mut d = Diagnostics::new();
        let c = req.config;
        let endpoint = c
            .get("endpoints")
            .elements()
            .iter()
            .find_map(|e| e.get("secretsmanager").as_str().map(str::to_string));
        let cfg = AwsStoreConfig {
            region: c.get("region").as_str().map(str::to_string),
            profile: c.get("profile").as_str().map(str::to_string),
            endpoint,
            max_attempts: c.get("max_retries").as_i64().map(|n| n.max(1) as u32),
            ..Default::default()
        };
        match AwsSecretsManager::connect(&cfg).await {
            Ok(s) => {
                let _ = self.store.set(Arc::new(s));
            }
            Err(e) => d.error("aws stand-in: cannot configure", e.to_string()),
        }
        d
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(Secret(self.store.clone())),
            Arc::new(SecretVersion(self.store.clone())),
            Arc::new(SecretPolicy(self.store.clone())),
        ]
    }
}

// ---- aws_secretsmanager_secret ----------------------------------------------------------------

struct Secret(Shared);

fn secret_schema() -> Schema {
    Schema::new(
        0,
        Block::new("aws_secretsmanager_secret (hashicorp/aws 6.x attributes)")
            .attribute(Attribute::computed("arn", Type::String))
            .attribute(Attribute::optional("description", Type::String))
            .attribute(Attribute::optional(
                "force_overwrite_replica_secret",
                Type::Bool,
            ))
            .attribute(Attribute::optional_computed("id", Type::String))
            .attribute(Attribute::optional("kms_key_id", Type::String))
            .attribute(Attribute::optional_computed("name", Type::String))
            .attribute(Attribute::optional_computed("name_prefix", Type::String))
            .attribute(Attribute::optional_computed("policy", Type::String))
            .attribute(Attribute::optional("recovery_window_in_days", Type::Number))
            .attribute(Attribute::optional_computed("region", Type::String))
            .attribute(Attribute::optional("tags", Type::map(Type::String)))
            .attribute(Attribute::optional_computed(
                "tags_all",
                Type::map(Type::String),
            ))
            .block(
                "replica",
                Nesting::Set,
                Block::new("")
                    .attribute(Attribute::optional_computed("kms_key_id", Type::String))
                    .attribute(Attribute::computed("last_accessed_date", Type::String))
                    .attribute(Attribute::required("region", Type::String))
                    .attribute(Attribute::computed("status", Type::String))
                    .attribute(Attribute::computed("status_message", Type::String)),
                0,
                0,
            ),
    )
}

fn secret_state(meta: &SecretMeta, base: &Value, region: &str) -> Value {
    let mut s = base.clone();
    s.set("arn", Value::string(&meta.arn));
    s.set("id", Value::string(&meta.arn));
    s.set("name", Value::string(&meta.name));
    if s.get("name_prefix").is_unknown() {
        s.set("name_prefix", Value::string(""));
    }
    if s.get("policy").is_unknown() {
        s.set("policy", Value::string(""));
    }
    if s.get("region").is_unknown() || s.get("region").is_null() {
        s.set("region", Value::string(region));
    }
    s.set("tags_all", Value::string_map(&meta.tags));
    if s.get("replica").is_unknown() || s.get("replica").is_null() {
        s.set("replica", Value::Set(Vec::new()));
    }
    s
}

fn region_of(arn: &str) -> String {
    arn.split(':').nth(3).unwrap_or_default().to_string()
}

#[async_trait]
impl Resource for Secret {
    fn type_name(&self) -> &'static str {
        "aws_secretsmanager_secret"
    }
    fn schema(&self) -> Schema {
        secret_schema()
    }
    async fn modify_plan(&self, req: &ModifyPlanRequest<'_>, resp: &mut ModifyPlanResponse) {
        if req.is_destroy() {
            return;
        }
        // The real provider's SDKv2 defaults (recovery_window_in_days = 30,
        // force_overwrite_replica_secret = false) rely on SDKv2's legacy type system exemption;
        // here an unset argument stays null and Delete uses 30.
        let p = &mut resp.planned_state;
        if !req.is_create() {
            let prior = req.prior_state;
            for k in [
                "arn",
                "id",
                "name",
                "name_prefix",
                "policy",
                "region",
                "replica",
            ] {
                if req.config.get(k).is_null() || k == "arn" || k == "id" {
                    p.set(k, prior.get(k).clone());
                }
            }
            if req.config.get("tags") == prior.get("tags") {
                p.set("tags_all", prior.get("tags_all").clone());
            } else {
                p.set(
                    "tags_all",
                    Value::string_map(&req.config.get("tags").as_string_map().unwrap_or_default()),
                );
            }
            if req.config.get("name").as_str().is_some()
                && req.config.get("name") != prior.get("name")
            {
                resp.requires_replace
                    .push(offstate_framework::AttributePath::attr("name"));
            }
        }
    }
    async fn create(&self, req: &CreateRequest<'_>, resp: &mut CreateResponse) {
        let s = match store(&self.0) {
            Ok(s) => s,
            Err(d) => return resp.diagnostics.push(d),
        };
        let c = req.config;
        let name = match (c.get("name").as_str(), c.get("name_prefix").as_str()) {
            (Some(n), _) => n.to_string(),
            (None, Some(p)) => format!("{p}{}", std::process::id()),
            (None, None) => format!("terraform-{}", std::process::id()),
        };
        let request = CreateSecret {
            name: name.clone(),
            description: c.get("description").as_str().map(str::to_string),
            kms_key_id: c.get("kms_key_id").as_str().map(str::to_string),
            tags: c.get("tags").as_string_map().unwrap_or_default(),
            ..Default::default()
        };
        match s.create(request).await {
            Ok(meta) => {
                if let Some(policy) = c.get("policy").as_str().filter(|p| !p.is_empty()) {
                    if let Err(e) = s.put_policy(&meta.arn, policy, false).await {
                        resp.diagnostics.push(err("PutResourcePolicy", &e));
                    }
                }
                resp.state = secret_state(&meta, req.planned_state, &region_of(&meta.arn));
            }
            Err(e) => resp.diagnostics.push(err("CreateSecret", &e)),
        }
    }
    async fn read(&self, req: &ReadRequest<'_>, resp: &mut ReadResponse) {
        let s = match store(&self.0) {
            Ok(s) => s,
            Err(d) => return resp.diagnostics.push(d),
        };
        let id = req.current_state.get("id").as_str().unwrap_or_default();
        match s.describe(id).await {
            Ok(Some(meta)) if !meta.is_scheduled_for_deletion() => {
                let mut st = secret_state(&meta, req.current_state, &region_of(&meta.arn));
                st.set("description", Value::opt_string(meta.description.clone()));
                // Like the real provider, the secret's `policy` is whatever is attached, also
                // by an aws_secretsmanager_secret_policy ("" when none).
                let remote = match s.get_policy(&meta.arn).await {
                    Ok(p) => p.unwrap_or_default(),
                    Err(e) => return resp.diagnostics.push(err("GetResourcePolicy", &e)),
                };
                let had = req.current_state.get("policy").as_str().unwrap_or_default();
                if !policy_equivalent(had, &remote) {
                    st.set("policy", Value::string(remote));
                }
                st.set(
                    "tags",
                    if meta.tags.is_empty() && req.current_state.get("tags").is_null() {
                        Value::Null
                    } else {
                        Value::string_map(&meta.tags)
                    },
                );
                resp.state = st;
            }
            Ok(_) => resp.state = Value::Null,
            Err(e) => resp.diagnostics.push(err("DescribeSecret", &e)),
        }
    }
    async fn update(&self, req: &UpdateRequest<'_>, resp: &mut UpdateResponse) {
        let s = match store(&self.0) {
            Ok(s) => s,
            Err(d) => return resp.diagnostics.push(d),
        };
        let (c, prior) = (req.config, req.prior_state);
        let id = prior.get("id").as_str().unwrap_or_default();
        let update = MetadataUpdate {
            description: (c.get("description") != prior.get("description")).then(|| {
                c.get("description")
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            }),
            kms_key_id: None,
        };
        if let Err(e) = s.update_metadata(id, update).await {
            return resp.diagnostics.push(err("UpdateSecret", &e));
        }
        let want = c.get("tags").as_string_map().unwrap_or_default();
        let have = prior.get("tags_all").as_string_map().unwrap_or_default();
        let gone: Vec<String> = have
            .keys()
            .filter(|k| !want.contains_key(*k))
            .cloned()
            .collect();
        if let Err(e) = s.untag(id, &gone).await {
            return resp.diagnostics.push(err("UntagResource", &e));
        }
        if let Err(e) = s.tag(id, &want).await {
            return resp.diagnostics.push(err("TagResource", &e));
        }
        resp.state = req.planned_state.clone();
        resp.state.set("tags_all", Value::string_map(&want));
    }
    async fn delete(&self, req: &DeleteRequest<'_>, resp: &mut DeleteResponse) {
        let s = match store(&self.0) {
            Ok(s) => s,
            Err(d) => return resp.diagnostics.push(d),
        };
        let p = req.prior_state;
        let days = p.get("recovery_window_in_days").as_i64().unwrap_or(30);
        let id = p.get("id").as_str().unwrap_or_default();
        match s
            .delete(id, Deletion::from_recovery_window_days(days))
            .await
        {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => resp.diagnostics.push(err("DeleteSecret", &e)),
        }
    }
    async fn import_state(&self, req: &ImportStateRequest<'_>, resp: &mut ImportStateResponse) {
        let Type::Object(attrs) = secret_schema().value_type() else {
            unreachable!()
        };
        let mut s = Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect());
        s.set("id", Value::string(req.id));
        resp.state = s;
    }
}

// ---- aws_secretsmanager_secret_version --------------------------------------------------------

struct SecretVersion(Shared);

fn version_schema() -> Schema {
    Schema::new(
        0,
        Block::new("aws_secretsmanager_secret_version (hashicorp/aws 6.x attributes)")
            .attribute(Attribute::computed("arn", Type::String))
            .attribute(Attribute::computed("has_secret_string_wo", Type::Bool))
            .attribute(Attribute::optional_computed("id", Type::String))
            .attribute(Attribute::optional_computed("region", Type::String))
            .attribute(Attribute::computed("secret_arn", Type::String))
            .attribute(Attribute::optional("secret_binary", Type::String).sensitive())
            .attribute(Attribute::required("secret_id", Type::String))
            .attribute(Attribute::optional("secret_string", Type::String).sensitive())
            .attribute(
                Attribute::optional("secret_string_wo", Type::String)
                    .sensitive()
                    .write_only(),
            )
            .attribute(Attribute::optional(
                "secret_string_wo_version",
                Type::Number,
            ))
            .attribute(Attribute::computed("version_id", Type::String))
            .attribute(Attribute::optional_computed(
                "version_stages",
                Type::set(Type::String),
            )),
    )
}

#[async_trait]
impl Resource for SecretVersion {
    fn type_name(&self) -> &'static str {
        "aws_secretsmanager_secret_version"
    }
    fn schema(&self) -> Schema {
        version_schema()
    }
    async fn modify_plan(&self, req: &ModifyPlanRequest<'_>, resp: &mut ModifyPlanResponse) {
        if req.is_destroy() || req.is_create() {
            return;
        }
        let prior = req.prior_state;
        // ForceNew in the real provider.
        for k in [
            "secret_id",
            "secret_string",
            "secret_binary",
            "secret_string_wo_version",
        ] {
            if req.config.get(k) != prior.get(k) {
                resp.requires_replace
                    .push(offstate_framework::AttributePath::attr(k));
            }
        }
        if resp.requires_replace.is_empty() {
            resp.planned_state = prior.clone();
        }
    }
    async fn create(&self, req: &CreateRequest<'_>, resp: &mut CreateResponse) {
        let s = match store(&self.0) {
            Ok(s) => s,
            Err(d) => return resp.diagnostics.push(d),
        };
        let c = req.config;
        let secret_id = c.get("secret_id").as_str().unwrap_or_default().to_string();
        let wo = c.get("secret_string_wo").as_str();
        let plain = c.get("secret_string").as_str();
        let Some(text) = wo.or(plain) else {
            return resp.diagnostics.error(
                "No value",
                "aws stand-in: set secret_string or secret_string_wo",
            );
        };
        let put = PutValue {
            secret_id: secret_id.clone(),
            value: SecretValue::from_string(text.to_string()),
            ..Default::default()
        };
        let version_id = match s.put_value(put).await {
            Ok(v) => v,
            Err(e) => return resp.diagnostics.push(err("PutSecretValue", &e)),
        };
        let arn = match s.describe(&secret_id).await {
            Ok(Some(m)) => m.arn,
            Ok(None) => secret_id.clone(),
            Err(e) => return resp.diagnostics.push(err("DescribeSecret", &e)),
        };
        let mut st = req.planned_state.clone();
        st.set("id", Value::string(format!("{secret_id}|{version_id}")));
        st.set("arn", Value::string(&arn));
        st.set("secret_arn", Value::string(&arn));
        st.set("region", Value::string(region_of(&arn)));
        st.set("version_id", Value::string(&version_id));
        st.set("has_secret_string_wo", Value::Bool(wo.is_some()));
        st.set(
            "version_stages",
            Value::Set(vec![Value::string("AWSCURRENT")]),
        );
        // Like the real provider: the plaintext stays in state (it is configuration).
        resp.state = st;
    }
    async fn read(&self, req: &ReadRequest<'_>, resp: &mut ReadResponse) {
        let s = match store(&self.0) {
            Ok(s) => s,
            Err(d) => return resp.diagnostics.push(d),
        };
        let cur = req.current_state;
        let id = cur.get("id").as_str().unwrap_or_default();
        let Some((secret_id, version_id)) = id.split_once('|') else {
            return resp
                .diagnostics
                .error("Bad id", "expected ID in format SecretID|VersionID");
        };
        match s.list_versions(secret_id).await {
            Ok(versions) => match versions.iter().find(|v| v.version_id == version_id) {
                Some(v) => {
                    let mut st = cur.clone();
                    st.set(
                        "version_stages",
                        Value::Set(v.stages.iter().map(Value::string).collect()),
                    );
                    resp.state = st;
                }
                None => resp.state = Value::Null,
            },
            Err(e) if e.is_not_found() => resp.state = Value::Null,
            Err(e) => resp.diagnostics.push(err("ListSecretVersionIds", &e)),
        }
    }
    async fn update(&self, req: &UpdateRequest<'_>, resp: &mut UpdateResponse) {
        resp.state = req.planned_state.clone();
    }
    async fn delete(&self, _req: &DeleteRequest<'_>, _resp: &mut DeleteResponse) {
        // The real provider removes the version's non-AWSCURRENT labels; the stand-in leaves
        // the version as it is.
    }
}

// ---- aws_secretsmanager_secret_policy ---------------------------------------------------------

struct SecretPolicy(Shared);

fn policy_schema() -> Schema {
    Schema::new(
        0,
        Block::new("aws_secretsmanager_secret_policy (hashicorp/aws 6.x attributes)")
            .attribute(Attribute::optional("block_public_policy", Type::Bool))
            .attribute(Attribute::optional_computed("id", Type::String))
            .attribute(Attribute::required("policy", Type::String))
            .attribute(Attribute::optional_computed("region", Type::String))
            .attribute(Attribute::required("secret_arn", Type::String)),
    )
}

/// Whether two policy documents say the same (hashicorp/aws suppresses the diff of equivalent
/// policies): JSON, object key order and whitespace aside, the lists IAM treats as sets in any
/// order, and a one-element list the same as its element. Not JSON: the same text.
/// The offstate provider has its own normalisation (provider/offstate/src/policy.rs); this one is
/// written apart on purpose: the stand-in plays hashicorp/aws, and must not share offstate's
/// mistakes.
fn policy_equivalent(a: &str, b: &str) -> bool {
    fn norm(v: serde_json::Value, key: Option<&str>) -> serde_json::Value {
        use serde_json::Value as J;
        const SETS: &[&str] = &[
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "AWS",
            "Service",
            "Federated",
        ];
        match v {
            J::Object(m) => J::Object(
                m.into_iter()
                    .map(|(k, v)| {
                        let n = norm(v, Some(&k));
                        (k, n)
                    })
                    .collect(),
            ),
            J::Array(items) => {
                let mut items: Vec<J> = items.into_iter().map(|i| norm(i, None)).collect();
                let set = key.is_some_and(|k| SETS.contains(&k));
                if set {
                    items.sort_by_key(|i| i.to_string());
                    items.dedup();
                }
                if items.len() == 1 && (set || key == Some("Statement")) {
                    return items.pop().unwrap_or(J::Null);
                }
                J::Array(items)
            }
            other => other,
        }
    }
    let parse = |s: &str| serde_json::from_str(s).ok().map(|v| norm(v, None));
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[async_trait]
impl Resource for SecretPolicy {
    fn type_name(&self) -> &'static str {
        "aws_secretsmanager_secret_policy"
    }
    fn schema(&self) -> Schema {
        policy_schema()
    }
    async fn validate_config(&self, req: &ValidateConfigRequest<'_>) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Some(p) = req.config.get("policy").as_str() {
            if serde_json::from_str::<serde_json::Value>(p).is_err() {
                // The real provider's validation.StringIsJSON; the document is not shown.
                d.attr_error(
                    offstate_framework::AttributePath::attr("policy"),
                    "Invalid policy",
                    "\"policy\" contains an invalid JSON",
                );
            }
        }
        d
    }
    async fn modify_plan(&self, req: &ModifyPlanRequest<'_>, resp: &mut ModifyPlanResponse) {
        if req.is_destroy() || req.is_create() {
            return;
        }
        let prior = req.prior_state;
        let p = &mut resp.planned_state;
        for k in ["id", "region"] {
            if req.config.get(k).is_null() {
                p.set(k, prior.get(k).clone());
            }
        }
        // ForceNew in the real provider.
        if req.config.get("secret_arn") != prior.get("secret_arn") {
            resp.requires_replace
                .push(offstate_framework::AttributePath::attr("secret_arn"));
        }
    }
    async fn create(&self, req: &CreateRequest<'_>, resp: &mut CreateResponse) {
        put_secret_policy(
            &self.0,
            req.config,
            req.planned_state,
            &mut resp.state,
            &mut resp.diagnostics,
        )
        .await;
    }
    async fn read(&self, req: &ReadRequest<'_>, resp: &mut ReadResponse) {
        let s = match store(&self.0) {
            Ok(s) => s,
            Err(d) => return resp.diagnostics.push(d),
        };
        let cur = req.current_state;
        let id = cur.get("id").as_str().unwrap_or_default();
        // Gone with the secret (or its deletion scheduled: GetResourcePolicy then fails).
        match s.describe(id).await {
            Ok(Some(meta)) if !meta.is_scheduled_for_deletion() => {}
            Ok(_) => return resp.state = Value::Null,
            Err(e) => return resp.diagnostics.push(err("DescribeSecret", &e)),
        }
        let remote = match s.get_policy(id).await {
            Ok(Some(p)) => p,
            Ok(None) => return resp.state = Value::Null,
            Err(e) if e.is_not_found() => return resp.state = Value::Null,
            Err(e) => return resp.diagnostics.push(err("GetResourcePolicy", &e)),
        };
        let mut st = cur.clone();
        // Like verify.PolicyToSet: the known spelling while the document is equivalent.
        let had = cur.get("policy").as_str();
        if !had.is_some_and(|h| policy_equivalent(h, &remote)) {
            st.set("policy", Value::string(remote));
        }
        st.set("secret_arn", Value::string(id));
        if st.get("region").is_null() {
            st.set("region", Value::string(region_of(id)));
        }
        resp.state = st;
    }
    async fn update(&self, req: &UpdateRequest<'_>, resp: &mut UpdateResponse) {
        put_secret_policy(
            &self.0,
            req.config,
            req.planned_state,
            &mut resp.state,
            &mut resp.diagnostics,
        )
        .await;
    }
    async fn delete(&self, req: &DeleteRequest<'_>, resp: &mut DeleteResponse) {
        let s = match store(&self.0) {
            Ok(s) => s,
            Err(d) => return resp.diagnostics.push(d),
        };
        let id = req.prior_state.get("id").as_str().unwrap_or_default();
        match s.delete_policy(id).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => resp.diagnostics.push(err("DeleteResourcePolicy", &e)),
        }
    }
    async fn import_state(&self, req: &ImportStateRequest<'_>, resp: &mut ImportStateResponse) {
        // By the secret's ARN, as in the real provider; Read fills in the rest.
        let Type::Object(attrs) = policy_schema().value_type() else {
            unreachable!()
        };
        let mut s = Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect());
        s.set("id", Value::string(req.id));
        s.set("secret_arn", Value::string(req.id));
        resp.state = s;
    }
}

/// PutResourcePolicy (create and update alike, as in the real provider); the state's `id` is
/// the secret's ARN.
async fn put_secret_policy(
    h: &Shared,
    config: &Value,
    planned: &Value,
    state: &mut Value,
    diags: &mut Diagnostics,
) {
    let s = match store(h) {
        Ok(s) => s,
        Err(d) => return diags.push(d),
    };
    let secret = config.get("secret_arn").as_str().unwrap_or_default();
    let policy = config.get("policy").as_str().unwrap_or_default();
    let block = config.get("block_public_policy").as_bool().unwrap_or(false);
    if let Err(e) = s.put_policy(secret, policy, block).await {
        return diags.push(err("PutResourcePolicy", &e));
    }
    let arn = match s.describe(secret).await {
        Ok(Some(m)) => m.arn,
        Ok(None) => secret.to_string(),
        Err(e) => return diags.push(err("DescribeSecret", &e)),
    };
    let mut st = planned.clone();
    st.set("id", Value::string(&arn));
    st.set("region", Value::string(region_of(&arn)));
    *state = st;
}

fn main() -> ExitCode {
    runtime::check_magic_cookie();
    offstate_framework::logging::init("provider.terraform-provider-aws");
    runtime::run(
        ProviderService::new(AwsStandin::default()),
        ServeOptions::default(),
    )
}
