//! `policy`, `block_public_policy`, `replica` and `force_overwrite_replica_secret`
//! of `offstate_secret`: the resource policy and cross-region replicas.
//!
//! Policies are compared as JSON, not as text: Terraform requires the planned
//! value to equal the configuration, so instead of normalising the plan, Read
//! keeps the configured spelling while the remote document is equivalent, and
//! only a real difference shows as drift.

use std::collections::BTreeMap;

use offstate_common::store::{Replica, ReplicaStatus};
use offstate_common::SecretStore;
use offstate_framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Nesting, Type, Value,
};

use crate::secret::store_diag;

pub fn schema(b: Block) -> Block {
    b.attribute(Attribute::optional("policy", Type::String).description(
        "Resource policy (JSON). Equivalent documents make no diff. Removing the argument removes the policy.",
    ))
    .attribute(
        Attribute::optional("block_public_policy", Type::Bool)
            .description("Refuse a policy that grants broad access (Secrets Manager's BlockPublicPolicy check)."),
    )
    .attribute(
        Attribute::optional("force_overwrite_replica_secret", Type::Bool)
            .description("Overwrite a secret of the same name in a replica region."),
    )
    .attribute(
        Attribute::computed("replica_status", Type::map(Type::String))
            .description("Replication status (`InSync`, `InProgress`, `Failed`) by region."),
    )
    .block(
        "replica",
        Nesting::Set,
        Block::new("A replica of the secret in another region.")
            .attribute(Attribute::required("region", Type::String).description("Region of the replica."))
            .attribute(Attribute::optional("kms_key_id", Type::String).description("KMS key in that region.")),
        0,
        0,
    )
}

/// Whether two policy documents are the same JSON (object key order and
/// whitespace aside; a single statement equals a one-element list of it).
pub fn equivalent(a: &str, b: &str) -> bool {
    match (normalise(a), normalise(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn normalise(doc: &str) -> Option<serde_json::Value> {
    fn norm(v: serde_json::Value, key: Option<&str>) -> serde_json::Value {
        use serde_json::Value as J;
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
                // IAM treats these lists as sets.
                if matches!(
                    key,
                    Some(
                        "Action"
                            | "NotAction"
                            | "Resource"
                            | "NotResource"
                            | "AWS"
                            | "Service"
                            | "Federated"
                    )
                ) {
                    items.sort_by_key(|i| i.to_string());
                    items.dedup();
                }
                if items.len() == 1
                    && matches!(
                        key,
                        Some(
                            "Statement"
                                | "Action"
                                | "NotAction"
                                | "Resource"
                                | "NotResource"
                                | "AWS"
                                | "Service"
                                | "Federated"
                        )
                    )
                {
                    return items.pop().unwrap_or(J::Null);
                }
                J::Array(items)
            }
            other => other,
        }
    }
    let v: serde_json::Value = serde_json::from_str(doc).ok()?;
    Some(norm(v, None))
}

pub fn validate(c: &Value, d: &mut Diagnostics) {
    if let Some(p) = c.get("policy").as_str() {
        if let Err(e) = serde_json::from_str::<serde_json::Value>(p) {
            d.attr_error(
                AttributePath::attr("policy"),
                "Invalid policy JSON",
                format!(
                    "The policy is not valid JSON (line {}, column {}).",
                    e.line(),
                    e.column()
                ),
            );
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in c.get("replica").elements() {
        if let Some(region) = r.get("region").as_str() {
            if let Err(why) = crate::region::validate(region, true) {
                d.attr_error(
                    AttributePath::attr("replica"),
                    "Invalid replica region",
                    why,
                );
            }
            if !seen.insert(region.to_string()) {
                d.attr_error(
                    AttributePath::attr("replica"),
                    "Duplicate replica region",
                    format!("{region} appears twice."),
                );
            }
        }
    }
}

/// The replicas of `v` by region, with their KMS key as written (`None` when unset).
fn replicas_as_written(v: &Value) -> BTreeMap<String, Option<String>> {
    v.get("replica")
        .elements()
        .iter()
        .filter_map(|r| {
            r.get("region").as_str().map(|reg| {
                (
                    reg.to_string(),
                    r.get("kms_key_id").as_str().map(str::to_string),
                )
            })
        })
        .collect()
}

/// The replicas of `v` by region, with their own KMS key: `None` for the AWS managed key,
/// whether unset or written `alias/aws/secretsmanager` (the key AWS reports for a replica made
/// without one, so an import writes it). Telling the two apart replaced the replica: deleted
/// at once in its region, then made again.
fn replicas_of(v: &Value) -> BTreeMap<String, Option<String>> {
    replicas_as_written(v)
        .into_iter()
        .map(|(region, kms)| {
            let own = kms.filter(|k| !crate::secret::is_default_key(k));
            (region, own)
        })
        .collect()
}

/// Whether a replica's own KMS key as AWS reports it (`None`: the AWS managed key) may be the
/// key a `replica` block names. An alias on either side may name the other side's key, and only
/// KMS could tell: an existing replica is then taken over as it is rather than deleted and made
/// again, as the secret's own `kms_key_id` is (see `read` in secret.rs).
fn may_be_same_key(remote: Option<&str>, wanted: Option<&str>) -> bool {
    match (remote, wanted) {
        (None, None) => true,
        (Some(r), Some(w)) => {
            r == w
                || match (crate::secret::kms_key_of(r), crate::secret::kms_key_of(w)) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        }
        _ => false,
    }
}

/// Whether two KMS key references surely name one key: both name a key directly (a key id or
/// key ARN) and it is the same key.
fn surely_same_key(a: &str, b: &str) -> bool {
    matches!(
        (crate::secret::kms_key_of(a), crate::secret::kms_key_of(b)),
        (Some(x), Some(y)) if x == y
    )
}

/// Every replica region `state` knows of: those it manages (`replica`) and those the last
/// refresh found (`replica_status`). Deleting a primary secret needs all of them gone first.
pub fn all_replica_regions(state: &Value) -> Vec<String> {
    let mut regions: Vec<String> = replicas_of(state).into_keys().collect();
    if let Some(status) = state.get("replica_status").as_string_map() {
        regions.extend(status.into_keys());
    }
    regions.sort();
    regions.dedup();
    regions
}

fn status_value(statuses: &[ReplicaStatus]) -> Value {
    Value::Map(
        statuses
            .iter()
            .map(|s| {
                (
                    s.region.clone(),
                    Value::string(s.status.clone().unwrap_or_else(|| "Unknown".into())),
                )
            })
            .collect(),
    )
}

fn is_failed(r: &ReplicaStatus) -> bool {
    r.status.as_deref() == Some("Failed")
}

/// Secrets Manager did not replicate to `failed` (ReplicationStatus `Failed`).
fn replication_failed(arn: &str, failed: &[ReplicaStatus]) -> Diagnostic {
    let regions: Vec<String> = failed
        .iter()
        .map(|r| {
            format!(
                "{} ({})",
                r.region,
                crate::secret::bounded(
                    r.status_message.as_deref().unwrap_or("no status message"),
                    crate::secret::MAX_SHOWN_MESSAGE
                )
            )
        })
        .collect();
    Diagnostic::error(
        "Replication failed",
        format!(
            "Secrets Manager did not replicate secret {arn:?} to {}: ReplicationStatus is Failed. A secret of the \
             same name already in that region (a replica promoted with stop-replication-to-replica, or one made \
             there) is not overwritten unless force_overwrite_replica_secret = true. To keep that secret, remove \
             the replica block for the region; to have it replaced by the replica, set \
             force_overwrite_replica_secret = true and apply again.",
            regions.join(", "),
            arn = crate::secret::bounded(arn, crate::secret::MAX_SHOWN_ID),
        ),
    )
    .at(AttributePath::attr("replica"))
}

/// How long PutResourcePolicy is retried while IAM does not know a principal of the policy yet.
const PRINCIPAL_PROPAGATION: std::time::Duration = std::time::Duration::from_secs(120);

/// PutResourcePolicy, retried while Secrets Manager answers that a principal is unsupported:
/// a role or user created in the same apply takes a while to become visible to it (IAM is
/// eventually consistent; hashicorp/aws retries the same error). Other errors end at once.
async fn put_policy(
    store: &dyn SecretStore,
    handle: &crate::provider::Handle,
    arn: &str,
    doc: &str,
    block: bool,
) -> Result<(), offstate_common::StoreError> {
    let deadline = tokio::time::Instant::now() + PRINCIPAL_PROPAGATION;
    let mut pause = std::time::Duration::from_millis(200);
    loop {
        match store.put_policy(arn, doc, block).await {
            Err(e)
                if e.code() == "MalformedPolicyDocumentException"
                    && e.message()
                        .to_ascii_lowercase()
                        .contains("unsupported principal")
                    && tokio::time::Instant::now() + pause < deadline =>
            {
                tracing::info!(secret = %arn, "a principal of the policy is not known to Secrets Manager yet; retrying");
                if !handle.pause(pause).await {
                    // StopProvider: the refusal stands.
                    return Err(e);
                }
                pause = (pause * 2).min(std::time::Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

/// Brings policy and replicas of `arn` from `prior` to `config`; sets the
/// resulting attributes on `state`. `prior` is null on create.
pub async fn apply(
    store: &dyn SecretStore,
    handle: &crate::provider::Handle,
    arn: &str,
    config: &Value,
    prior: &Value,
    state: &mut Value,
    diags: &mut Diagnostics,
) -> Result<(), Diagnostic> {
    let (want, had) = (config.get("policy").as_str(), prior.get("policy").as_str());
    let block = config.get("block_public_policy").as_bool().unwrap_or(false);
    let policy_changed = match (want, had) {
        (Some(w), Some(h)) => {
            !equivalent(w, h)
                || config.get("block_public_policy") != prior.get("block_public_policy")
        }
        (None, None) => false,
        _ => true,
    };
    if policy_changed {
        match want {
            Some(doc) => {
                match store.validate_policy(Some(arn), doc).await {
                    Ok(problems) if !problems.is_empty() => {
                        let list: Vec<String> = problems
                            .iter()
                            .map(|p| format!("{}: {}", p.check_name, p.message))
                            .collect();
                        return Err(
                            Diagnostic::error("Invalid resource policy", list.join("\n"))
                                .at(AttributePath::attr("policy")),
                        );
                    }
                    Ok(_) => {}
                    // Validation is advice (Access Analyzer checks); PutResourcePolicy still
                    // rejects a malformed or, with block_public_policy, public document. When
                    // the check cannot run (no permission for it, an endpoint without it),
                    // say so and go on.
                    Err(e) => diags.attr_warning(
                        AttributePath::attr("policy"),
                        "Policy not validated",
                        format!(
                            "ValidateResourcePolicy for secret {arn:?} failed ({}: {}); the policy was applied without that check.",
                            e.code(),
                            crate::secret::bounded(e.message(), crate::secret::MAX_SHOWN_MESSAGE)
                        ),
                    ),
                }
                put_policy(store, handle, arn, doc, block)
                    .await
                    .map_err(|e| {
                        store_diag("PutResourcePolicy", arn, &e).at(AttributePath::attr("policy"))
                    })?;
            }
            None => store.delete_policy(arn).await.map_err(|e| {
                store_diag("DeleteResourcePolicy", arn, &e).at(AttributePath::attr("policy"))
            })?,
        }
    }
    state.set("policy", config.get("policy").clone());
    state.set(
        "block_public_policy",
        config.get("block_public_policy").clone(),
    );

    let want = replicas_of(config);
    let mut had = replicas_of(prior);
    // A replica the state does not manage but the last refresh found (`replica_status`: a
    // secret moved from hashicorp/aws, whose `replica` blocks do not move, or a replica made
    // outside Terraform) is already there when the configuration names it. Asking
    // ReplicateSecretToRegions for it again fails (Secrets Manager: the name already exists in
    // that region), so it is taken over as it is when its key is the configured one, and
    // replaced like a managed replica whose key changed otherwise.
    let found: Vec<String> = prior
        .get("replica_status")
        .as_string_map()
        .unwrap_or_default()
        .into_keys()
        .filter(|r| want.contains_key(r) && !had.contains_key(r))
        .collect();
    let force = config
        .get("force_overwrite_replica_secret")
        .as_bool()
        .unwrap_or(false);
    if !found.is_empty() {
        let meta = store.describe(arn).await.map_err(|e| {
            store_diag("DescribeSecret", arn, &e).at(AttributePath::attr("replica"))
        })?;
        for r in meta.map(|m| m.replicas).unwrap_or_default() {
            // A replication that failed (a secret of the same name in that region, such as a
            // replica promoted with StopReplicationToReplica) is no replica to take over: with
            // force_overwrite_replica_secret it is asked for again, otherwise it is an error.
            if found.contains(&r.region) && is_failed(&r) {
                if force {
                    continue;
                }
                return Err(replication_failed(arn, &[r]));
            }
            if let (true, Some(wanted)) = (found.contains(&r.region), want.get(&r.region)) {
                let own = r.kms_key_id.filter(|k| !crate::secret::is_default_key(k));
                let key = if may_be_same_key(own.as_deref(), wanted.as_deref()) {
                    if let (Some(o), Some(w)) = (&own, wanted) {
                        if o != w && !surely_same_key(o, w) {
                            diags.attr_warning(
                                AttributePath::attr("replica"),
                                "Replica taken over with a key that may differ",
                                format!(
                                    "The replica of secret {arn:?} in {region} already exists, and the replica block for it \
                                     was taken to manage it as it is. AWS reports its KMS key as {o:?}, the block names {w:?}: \
                                     an alias names a key only KMS resolves, so they may be one key or two. If they are \
                                     two, remove the replica block and apply (the replica is deleted in {region}), then \
                                     add it again: the replica is made anew with the block's key.",
                                    arn = crate::secret::bounded(arn, crate::secret::MAX_SHOWN_ID),
                                    region = r.region,
                                ),
                            );
                        }
                    }
                    wanted.clone()
                } else {
                    own
                };
                had.insert(r.region, key);
            }
        }
    }
    let remove: Vec<String> = had
        .iter()
        .filter(|(r, k)| want.get(*r) != Some(*k))
        .map(|(r, _)| r.clone())
        .collect();
    let add: Vec<Replica> = want
        .iter()
        .filter(|(r, k)| had.get(*r) != Some(*k))
        .map(|(r, k)| Replica {
            region: r.clone(),
            kms_key_id: k.clone(),
        })
        .collect();
    let mut statuses = None;
    if !remove.is_empty() {
        statuses = Some(
            store
                .remove_replica_regions(arn, &remove)
                .await
                .map_err(|e| {
                    store_diag("RemoveRegionsFromReplication", arn, &e)
                        .at(AttributePath::attr("replica"))
                })?,
        );
    }
    let mut failed = Vec::new();
    if !add.is_empty() {
        let after = store.replicate(arn, &add, force).await.map_err(|e| {
            store_diag("ReplicateSecretToRegions", arn, &e).at(AttributePath::attr("replica"))
        })?;
        // Secrets Manager answers 200 and reports the region Failed when it will not replicate
        // there (ForceOverwriteReplicaSecret unset and a secret of the name in the region). An
        // earlier failed entry for a region asked for again with force may still be listed
        // beside the new one (moto does): a region fails only when no entry for it is better.
        failed = after
            .iter()
            .filter(|r| {
                add.iter().any(|a| a.region == r.region)
                    && after.iter().filter(|o| o.region == r.region).all(is_failed)
            })
            .cloned()
            .collect();
        failed.dedup_by(|a, b| a.region == b.region);
        statuses = Some(after);
    }
    if !failed.is_empty() && prior.is_null() {
        // A create: an error would taint the new secret, and the next apply would replace it
        // (delete it, with its value) over a replica. The state records what was planned (a
        // result unlike the plan with no error is refused by Terraform), the warning says
        // what failed, and the next refresh, which finds the replica Failed, plans it again.
        let mut d = replication_failed(arn, &failed);
        d.severity = offstate_framework::diagnostics::Severity::Warning;
        diags.push(d);
    } else if !failed.is_empty() {
        // The state keeps the replicas that are there: a failed region stays to be added, so
        // the next plan shows it again rather than nothing.
        let kept: Vec<Value> = config
            .get("replica")
            .elements()
            .iter()
            .filter(|b| {
                !failed
                    .iter()
                    .any(|f| b.get("region").as_str() == Some(f.region.as_str()))
            })
            .cloned()
            .collect();
        state.set("replica", Value::Set(kept));
        if let Some(s) = &statuses {
            state.set("replica_status", status_value(s));
        }
        return Err(replication_failed(arn, &failed));
    }
    state.set("replica", config.get("replica").clone());
    state.set(
        "replica_status",
        match statuses {
            Some(s) => status_value(&s),
            None => prior.get("replica_status").clone().or_empty_map(),
        },
    );
    Ok(())
}

/// Refresh: the remote policy (only when the state has one: it costs a call)
/// and replicas. Keeps the configured spelling of an equivalent policy.
pub async fn read(
    store: &dyn SecretStore,
    arn: &str,
    replicas: &[ReplicaStatus],
    prior: &Value,
    state: &mut Value,
) -> Result<(), Diagnostic> {
    if let Some(had) = prior.get("policy").as_str() {
        let remote = store
            .get_policy(arn)
            .await
            .map_err(|e| store_diag("GetResourcePolicy", arn, &e))?;
        match remote {
            Some(r) if equivalent(&r, had) => {}
            Some(r) => state.set("policy", Value::String(r)),
            None => state.set("policy", Value::Null),
        }
    }
    // A replica whose replication failed is not there: a managed one shows as to be added.
    let remote: BTreeMap<String, Option<String>> = replicas
        .iter()
        .filter(|r| !is_failed(r))
        .map(|r| {
            let own = r
                .kms_key_id
                .clone()
                .filter(|k| !crate::secret::is_default_key(k));
            (r.region.clone(), own)
        })
        .collect();
    let had = replicas_as_written(prior);
    // A state without replicas does not manage them (a secret moved from hashicorp/aws, or
    // one whose configuration has no `replica` block): replicas made outside Terraform show in
    // `replica_status` only, so a plan never removes them. Where the state has replicas, the
    // remote set is refreshed, and a plan brings it back to the configuration.
    if !had.is_empty() && remote.keys().ne(had.keys()) {
        // Keep the configured key spelling for regions still there.
        state.set(
            "replica",
            Value::Set(
                remote
                    .iter()
                    .map(|(region, kms)| {
                        let kms = had.get(region).cloned().unwrap_or_else(|| kms.clone());
                        Value::object([
                            ("region", Value::string(region)),
                            ("kms_key_id", Value::opt_string(kms)),
                        ])
                    })
                    .collect(),
            ),
        );
    }
    state.set("replica_status", status_value(replicas));
    Ok(())
}

trait OrEmptyMap {
    fn or_empty_map(self) -> Value;
}

impl OrEmptyMap for Value {
    fn or_empty_map(self) -> Value {
        if self.is_null() || self.is_unknown() {
            Value::Map(BTreeMap::new())
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{equivalent, may_be_same_key};

    #[test]
    fn an_existing_replicas_key_is_taken_for_the_configured_one_unless_it_surely_differs() {
        let arn = "arn:aws:kms:us-west-2:123456789012:key/1111";
        for (remote, wanted, same) in [
            (None, None, true),
            (Some("alias/app"), Some("alias/app"), true),
            (Some(arn), Some("1111"), true),
            // An alias may name the key on the other side: only KMS knows.
            (Some(arn), Some("alias/app"), true),
            (Some("alias/app"), Some(arn), true),
            (Some(arn), Some("2222"), false),
            (Some(arn), None, false),
            (None, Some("alias/app"), false),
        ] {
            assert_eq!(
                may_be_same_key(remote, wanted),
                same,
                "{remote:?} {wanted:?}"
            );
        }
    }

    #[test]
    fn equivalent_policies() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":["secretsmanager:GetSecretValue"],"Resource":"*"}]}"#;
        let b = r#"{ "Statement": {"Action": "secretsmanager:GetSecretValue", "Resource": ["*"], "Effect": "Allow",
                     "Principal": {"AWS": ["arn:aws:iam::1:root"]}}, "Version": "2012-10-17" }"#;
        assert!(equivalent(a, b));
        let c = a.replace("Allow", "Deny");
        assert!(!equivalent(a, &c));
        let d = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":["b","a"],"Resource":"*"}]}"#;
        let e = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":["a","b"],"Resource":"*"}]}"#;
        assert!(equivalent(d, e));
    }
}
