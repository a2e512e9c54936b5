//! Data sources: metadata and discovery. They never read a value: data
//! source results are persisted in state.

use std::time::SystemTime;

use async_trait::async_trait;
use offstate_common::store::{ListFilter, SecretMeta};
use offstate_common::StoreError;
use offstate_framework::datasource::{DataSource, ReadDataRequest, ReadDataResponse};
use offstate_framework::value::Number;
use offstate_framework::{Attribute, AttributePath, Block, Diagnostics, Schema, Type, Value};

use crate::provider::Handle;
use crate::secret::{argument_store_diag, store_diag, withhold_arguments};

fn rfc3339(t: Option<SystemTime>) -> Value {
    let Some(t) = t else { return Value::Null };
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Value::String(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

fn version_type() -> Type {
    Type::object([
        ("version_id", Type::String),
        ("stages", Type::list(Type::String)),
    ])
}

/// `data "offstate_secret"`.
pub struct SecretData {
    handle: Handle,
}

impl SecretData {
    pub fn new(handle: Handle) -> Self {
        SecretData { handle }
    }
}

#[async_trait]
impl DataSource for SecretData {
    fn type_name(&self) -> &'static str {
        "offstate_secret"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Metadata of a secret: never its value.")
                .attribute(
                    Attribute::optional_computed("arn", Type::String)
                        .description("ARN; set this or `name`."),
                )
                .attribute(
                    Attribute::optional_computed("name", Type::String)
                        .description("Name; set this or `arn`."),
                )
                .attribute(Attribute::computed("id", Type::String).description("The ARN."))
                .attribute(
                    Attribute::computed("description", Type::String).description("Description."),
                )
                .attribute(
                    Attribute::computed("kms_key_id", Type::String)
                        .description("KMS key, when not the AWS managed key."),
                )
                .attribute(
                    Attribute::computed("tags", Type::map(Type::String)).description("Tags."),
                )
                .attribute(
                    Attribute::computed("rotation_enabled", Type::Bool)
                        .description("Whether rotation is on."),
                )
                .attribute(
                    Attribute::computed("rotation_lambda_arn", Type::String)
                        .description("The rotation function."),
                )
                .attribute(
                    Attribute::computed("rotation_automatically_after_days", Type::Number)
                        .description("Rotation interval in days."),
                )
                .attribute(
                    Attribute::computed("rotation_schedule_expression", Type::String)
                        .description("Rotation schedule."),
                )
                .attribute(
                    Attribute::computed("rotation_duration", Type::String)
                        .description("Rotation window."),
                )
                .attribute(
                    Attribute::computed("current_version_id", Type::String)
                        .description("Version carrying AWSCURRENT."),
                )
                .attribute(
                    Attribute::computed("versions", Type::list(version_type()))
                        .description("Versions with staging labels."),
                )
                .attribute(
                    Attribute::computed("created_date", Type::String)
                        .description("Creation time (RFC 3339)."),
                )
                .attribute(
                    Attribute::computed("last_changed_date", Type::String)
                        .description("Last change (RFC 3339)."),
                )
                .attribute(
                    Attribute::computed("deleted_date", Type::String)
                        .description("Set when scheduled for deletion (RFC 3339)."),
                ),
        )
    }

    async fn validate_config(&self, c: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        let (arn, name) = (c.get("arn"), c.get("name"));
        if arn.is_null() && name.is_null() {
            d.attr_error(
                AttributePath::attr("name"),
                "Missing argument",
                "Set one of \"arn\" or \"name\".",
            );
        }
        if arn.is_known_set() && name.is_known_set() {
            d.attr_error(
                AttributePath::attr("name"),
                "Conflicting configuration arguments",
                "\"name\": conflicts with \"arn\".",
            );
        }
        d
    }

    async fn read(&self, req: &ReadDataRequest<'_>, resp: &mut ReadDataResponse) {
        let c = match self.handle.get() {
            Ok(c) => c,
            Err(d) => return resp.diagnostics.push(d),
        };
        // The argument that names the secret. Its value is not repeated in a diagnostic: a
        // sensitive variable put there by mistake (`name = var.db_password`) reaches us without
        // its mark. The diagnostic points at the argument instead, and Terraform shows its
        // source line (and the value, when it is not sensitive).
        let by = if req.config.get("arn").is_known_set() {
            "arn"
        } else {
            "name"
        };
        let id = req.config.get(by).as_str().unwrap_or_default().to_string();
        let meta = match c.store.describe(&id).await {
            Ok(Some(m)) => m,
            Ok(None) => {
                return resp.diagnostics.attr_error(
                    AttributePath::attr(by),
                    "Secret not found",
                    format!(
                        "Secrets Manager DescribeSecret found no secret that {by} names \
                         (ResourceNotFoundException) in the provider's region. Check the {by} \
                         and the provider's region; a secret deleted without a recovery window \
                         is gone for good."
                    ),
                )
            }
            Err(e) => {
                return resp.diagnostics.push(argument_store_diag(
                    "DescribeSecret",
                    by,
                    req.config,
                    &["arn", "name"],
                    &e,
                ))
            }
        };
        fill(&mut resp.state, &meta);
    }
}

fn fill(s: &mut Value, m: &SecretMeta) {
    s.set("arn", Value::string(&m.arn));
    s.set("id", Value::string(&m.arn));
    s.set("name", Value::string(&m.name));
    s.set("description", Value::opt_string(m.description.clone()));
    s.set(
        "kms_key_id",
        Value::opt_string(
            m.kms_key_id
                .as_deref()
                .filter(|k| !crate::secret::is_default_key(k)),
        ),
    );
    s.set(
        "tags",
        Value::string_map(&crate::secret::shown_tags(&m.tags)),
    );
    s.set("rotation_enabled", Value::Bool(m.rotation.enabled));
    s.set(
        "rotation_lambda_arn",
        Value::opt_string(m.rotation.lambda_arn.clone()),
    );
    s.set(
        "rotation_automatically_after_days",
        m.rotation
            .automatically_after_days
            .map(|d| Value::Number(Number::Int(d)))
            .unwrap_or(Value::Null),
    );
    s.set(
        "rotation_schedule_expression",
        Value::opt_string(m.rotation.schedule_expression.clone()),
    );
    s.set(
        "rotation_duration",
        Value::opt_string(m.rotation.duration.clone()),
    );
    s.set(
        "current_version_id",
        Value::opt_string(m.current_version_id.clone()),
    );
    s.set(
        "versions",
        Value::List(
            m.version_stages
                .iter()
                .map(|(id, stages)| {
                    Value::object([
                        ("version_id", Value::string(id)),
                        (
                            "stages",
                            Value::List(stages.iter().map(Value::string).collect()),
                        ),
                    ])
                })
                .collect(),
        ),
    );
    s.set("created_date", rfc3339(m.created_date));
    s.set("last_changed_date", rfc3339(m.last_changed_date));
    s.set("deleted_date", rfc3339(m.deleted_date));
}

/// `block` with the `name_prefix` / `tag_key` / `tag_value` attributes that
/// [`list_filter`] reads (data source and list resource alike).
pub(crate) fn with_list_filter(block: Block) -> Block {
    block
        .attribute(
            Attribute::optional("name_prefix", Type::String)
                .description("Names starting with this."),
        )
        .attribute(
            Attribute::optional("tag_key", Type::String)
                .description("A tag key starting with this."),
        )
        .attribute(
            Attribute::optional("tag_value", Type::String)
                .description("A tag value starting with this."),
        )
}

/// The arguments [`list_filter`] sends in the ListSecrets request.
pub(crate) const LIST_FILTERS: [&str; 3] = ["name_prefix", "tag_key", "tag_value"];

/// The ListSecrets filter of a `name_prefix` / `tag_key` / `tag_value`
/// configuration (data source and list resource alike).
pub(crate) fn list_filter(cfg: &Value) -> ListFilter {
    ListFilter {
        name_prefix: cfg.get("name_prefix").as_str().map(str::to_string),
        tag_key: cfg.get("tag_key").as_str().map(str::to_string),
        tag_value: cfg.get("tag_value").as_str().map(str::to_string),
        include_planned_deletion: false,
        limit: None,
    }
}

/// `data "offstate_secrets"`: discovery by name prefix and tags.
pub struct SecretsData {
    handle: Handle,
}

impl SecretsData {
    pub fn new(handle: Handle) -> Self {
        SecretsData { handle }
    }
}

#[async_trait]
impl DataSource for SecretsData {
    fn type_name(&self) -> &'static str {
        "offstate_secrets"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            with_list_filter(Block::new(
                "Names and ARNs of the secrets matching every filter given.",
            ))
            .attribute(
                Attribute::optional("tags", Type::map(Type::String))
                    .description("Exact tags every result has."),
            )
            .attribute(
                Attribute::computed("id", Type::String)
                    .description("The provider's region, for Terraform (never the filters: they may hold sensitive values)."),
            )
            .attribute(
                Attribute::computed("names", Type::list(Type::String))
                    .description("Names, sorted."),
            )
            .attribute(
                Attribute::computed("arns", Type::list(Type::String))
                    .description("ARNs, in the order of `names`."),
            ),
        )
    }

    async fn read(&self, req: &ReadDataRequest<'_>, resp: &mut ReadDataResponse) {
        let c = match self.handle.get() {
            Ok(c) => c,
            Err(d) => return resp.diagnostics.push(d),
        };
        let cfg = req.config;
        let filter = list_filter(cfg);
        let want_tags = cfg.get("tags").as_string_map().unwrap_or_default();
        let mut found = match c.store.list(&filter).await {
            Ok(v) => v,
            Err(e) => {
                // A data source's arguments take sensitive values (Terraform hands them to us
                // unmarked), and AWS quotes a filter value it refuses.
                let message = withhold_arguments(e.message(), cfg, &LIST_FILTERS);
                let e = StoreError::from_code(e.code(), message);
                return resp.diagnostics.push(store_diag("ListSecrets", "*", &e));
            }
        };
        found.retain(|m| want_tags.iter().all(|(k, v)| m.tags.get(k) == Some(v)));
        found.sort_by(|a, b| a.name.cmp(&b.name));
        let s = &mut resp.state;
        // Not made from the filters: Terraform keeps a sensitive argument's mark on that
        // argument only, so `tag_value = var.token` copied into `id` showed the token in clear
        // ("Read complete [id=...]", the plan, an output of `id`) and stored it unmarked.
        s.set(
            "id",
            Value::string(c.store.region().unwrap_or("offstate_secrets")),
        );
        s.set(
            "names",
            Value::List(found.iter().map(|m| Value::string(&m.name)).collect()),
        );
        s.set(
            "arns",
            Value::List(found.iter().map(|m| Value::string(&m.arn)).collect()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use offstate_common::store::memory::MemoryStore;
    use offstate_framework::resource::ClientCapabilities;

    use crate::provider::Configured;

    async fn secrets_read(store: Arc<MemoryStore>, config: &Value) -> ReadDataResponse {
        let data = SecretsData::new(Handle::with(Configured {
            store,
            default_tags: BTreeMap::new(),
            ignore_tags: Default::default(),
        }));
        let mut resp = ReadDataResponse {
            state: config.clone(),
            diagnostics: Default::default(),
        };
        let req = ReadDataRequest {
            config,
            client_capabilities: ClientCapabilities::default(),
        };
        data.read(&req, &mut resp).await;
        resp
    }

    /// A data source's arguments take sensitive values, which reach the provider unmarked:
    /// `tag_value = var.token` must not come back in `id` (shown and stored without the
    /// mark), nor in the error of a ListSecrets that quotes the value it refuses.
    #[tokio::test]
    async fn offstate_secrets_repeats_no_filter_value() {
        let token = "hunter2-the-token-as-a-filter";
        let config = Value::object([
            ("name_prefix", Value::string(format!("{token}-prefix"))),
            ("tag_key", Value::string(format!("{token}-key"))),
            ("tag_value", Value::string(token)),
            ("tags", Value::Null),
        ]);
        let resp = secrets_read(Arc::new(MemoryStore::default()), &config).await;
        assert!(
            !resp.diagnostics.has_errors(),
            "{}",
            format!("{:?}", resp.diagnostics).replace("hunter2", "<planted>")
        );
        let id = resp
            .state
            .get("id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(!id.is_empty(), "no id");
        assert!(!id.contains("hunter2"), "a filter value is in id");

        let store = Arc::new(MemoryStore::default());
        store.fail_next(StoreError::from_code(
            "ValidationException",
            format!("1 validation error detected: Value '[{token}]' at 'filters.3.member.values' failed to satisfy constraint"),
        ));
        let resp = secrets_read(store, &config).await;
        let shown = format!("{:?}", resp.diagnostics);
        // A failure message never prints the planted token, masked or not.
        let safe = shown.replace("hunter2", "<planted>");
        assert!(resp.diagnostics.has_errors(), "{safe}");
        assert!(
            !shown.contains("hunter2"),
            "the filter value is in the diagnostics"
        );
        assert!(shown.contains("Value '[<tag_value>]'"), "{safe}");
    }

    #[test]
    fn dates() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_028_800); // 2025-11-25
        assert_eq!(rfc3339(Some(t)).as_str(), Some("2025-11-25T00:00:00Z"));
        assert_eq!(
            rfc3339(Some(SystemTime::UNIX_EPOCH)).as_str(),
            Some("1970-01-01T00:00:00Z")
        );
    }
}
