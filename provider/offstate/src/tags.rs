//! The provider's `ignore_tags`: tag keys that something other than Terraform manages on the
//! secrets (an organisation's tagging policy, a cost tool, AWS Backup), as in hashicorp/aws.
//!
//! It is applied in one place, [`TagFilteredStore`], the store every resource, data source and
//! list of a configured provider talks to: ignored tags are taken out of every secret read (so
//! `tags`, `tags_all` and the data sources never show them, and refresh sees no drift when they
//! change), and out of every tag write (so an update neither sets nor removes them). The plan
//! leaves them out of `tags_all` too ([`IgnoreTags::strip`]), so that plan and refresh agree.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use offstate_common::store::{
    CreateSecret, Deletion, FetchedValue, ListFilter, MetadataUpdate, PolicyValidationError,
    PutValue, Replica, ReplicaStatus, RotateRequest, SecretMeta, VersionInfo, VersionSelector,
};
use offstate_common::{SecretStore, StoreError};
use offstate_framework::{AttributePath, Diagnostic, Value};

/// Secrets Manager's limit of tags per secret (TagResource and CreateSecret refuse more; `aws:`
/// tags, which nobody can set, do not count). hashicorp/aws leaves it to AWS, which says so only
/// at apply, after the plan was approved.
pub const MAX_TAGS_PER_SECRET: usize = 50;

/// The error on `tags` when `tags_all` (`all`: tags and default_tags merged, without the
/// ignored keys) has more than [`MAX_TAGS_PER_SECRET`]; `own` is how many of them come from the
/// resource's `tags`, the others from the provider's `default_tags`. Keys only are counted,
/// nothing of a key or value is repeated.
pub fn too_many_tags(all: &BTreeMap<String, String>, own: usize) -> Option<Diagnostic> {
    let n = all.len();
    if n <= MAX_TAGS_PER_SECRET {
        return None;
    }
    let from_default = n.saturating_sub(own);
    let origin = if from_default == 0 {
        "all of them from tags (the provider's default_tags add none)".to_string()
    } else {
        format!("{own} from tags and {from_default} from the provider's default_tags")
    };
    Some(
        Diagnostic::error(
            "Too many tags",
            format!(
                "Secrets Manager allows at most {MAX_TAGS_PER_SECRET} tags per secret; this secret would have {n} \
                 (tags_all): {origin}. Remove {} of them, from tags or from the provider's default_tags \
                 (or leave keys to others with ignore_tags).",
                n - MAX_TAGS_PER_SECRET
            ),
        )
        .at(AttributePath::attr("tags")),
    )
}

/// `ignore_tags { keys = [...], key_prefixes = [...] }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreTags {
    keys: BTreeSet<String>,
    prefixes: Vec<String>,
}

impl IgnoreTags {
    /// From the provider block's `ignore_tags` (null: nothing ignored). Unknown or null
    /// elements are skipped; an empty prefix would ignore every tag and is skipped too
    /// (validation reports it).
    pub fn from_config(block: &Value) -> Self {
        let strings = |name: &str| {
            block
                .get(name)
                .elements()
                .iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect::<Vec<_>>()
        };
        IgnoreTags {
            keys: strings("keys").into_iter().collect(),
            prefixes: strings("key_prefixes")
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.prefixes.is_empty()
    }

    /// Whether the tag `key` is left to others.
    pub fn ignores(&self, key: &str) -> bool {
        self.keys.contains(key) || self.prefixes.iter().any(|p| key.starts_with(p.as_str()))
    }

    /// `tags` without the ignored keys.
    pub fn strip(&self, tags: &mut BTreeMap<String, String>) {
        if !self.is_empty() {
            tags.retain(|k, _| !self.ignores(k));
        }
    }

    fn strip_meta(&self, mut meta: SecretMeta) -> SecretMeta {
        self.strip(&mut meta.tags);
        meta
    }
}

/// A store that never shows nor touches ignored tags; everything else passes through.
pub struct TagFilteredStore {
    inner: Arc<dyn SecretStore>,
    ignore: IgnoreTags,
}

impl TagFilteredStore {
    /// `inner` itself when nothing is ignored.
    pub fn wrap(inner: Arc<dyn SecretStore>, ignore: IgnoreTags) -> Arc<dyn SecretStore> {
        if ignore.is_empty() {
            inner
        } else {
            Arc::new(TagFilteredStore { inner, ignore })
        }
    }
}

#[async_trait]
impl SecretStore for TagFilteredStore {
    fn region(&self) -> Option<&str> {
        self.inner.region()
    }

    async fn create(&self, mut request: CreateSecret) -> Result<SecretMeta, StoreError> {
        self.ignore.strip(&mut request.tags);
        Ok(self.ignore.strip_meta(self.inner.create(request).await?))
    }

    async fn describe(&self, secret_id: &str) -> Result<Option<SecretMeta>, StoreError> {
        Ok(self
            .inner
            .describe(secret_id)
            .await?
            .map(|m| self.ignore.strip_meta(m)))
    }

    async fn list_versions(&self, secret_id: &str) -> Result<Vec<VersionInfo>, StoreError> {
        self.inner.list_versions(secret_id).await
    }

    async fn put_value(&self, request: PutValue) -> Result<String, StoreError> {
        self.inner.put_value(request).await
    }

    async fn get_value(
        &self,
        secret_id: &str,
        version: VersionSelector,
    ) -> Result<FetchedValue, StoreError> {
        self.inner.get_value(secret_id, version).await
    }

    async fn update_metadata(
        &self,
        secret_id: &str,
        update: MetadataUpdate,
    ) -> Result<(), StoreError> {
        self.inner.update_metadata(secret_id, update).await
    }

    async fn tag(
        &self,
        secret_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let mut tags = tags.clone();
        self.ignore.strip(&mut tags);
        if tags.is_empty() {
            return Ok(());
        }
        self.inner.tag(secret_id, &tags).await
    }

    async fn untag(&self, secret_id: &str, keys: &[String]) -> Result<(), StoreError> {
        let keys: Vec<String> = keys
            .iter()
            .filter(|k| !self.ignore.ignores(k))
            .cloned()
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        self.inner.untag(secret_id, &keys).await
    }

    async fn delete(&self, secret_id: &str, deletion: Deletion) -> Result<(), StoreError> {
        self.inner.delete(secret_id, deletion).await
    }

    async fn restore(&self, secret_id: &str) -> Result<(), StoreError> {
        self.inner.restore(secret_id).await
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<SecretMeta>, StoreError> {
        Ok(self
            .inner
            .list(filter)
            .await?
            .into_iter()
            .map(|m| self.ignore.strip_meta(m))
            .collect())
    }

    async fn rotate(
        &self,
        secret_id: &str,
        request: RotateRequest,
    ) -> Result<Option<String>, StoreError> {
        self.inner.rotate(secret_id, request).await
    }

    async fn cancel_rotation(&self, secret_id: &str) -> Result<(), StoreError> {
        self.inner.cancel_rotation(secret_id).await
    }

    async fn put_policy(
        &self,
        secret_id: &str,
        policy: &str,
        block_public_policy: bool,
    ) -> Result<(), StoreError> {
        self.inner
            .put_policy(secret_id, policy, block_public_policy)
            .await
    }

    async fn get_policy(&self, secret_id: &str) -> Result<Option<String>, StoreError> {
        self.inner.get_policy(secret_id).await
    }

    async fn delete_policy(&self, secret_id: &str) -> Result<(), StoreError> {
        self.inner.delete_policy(secret_id).await
    }

    async fn validate_policy(
        &self,
        secret_id: Option<&str>,
        policy: &str,
    ) -> Result<Vec<PolicyValidationError>, StoreError> {
        self.inner.validate_policy(secret_id, policy).await
    }

    async fn replicate(
        &self,
        secret_id: &str,
        replicas: &[Replica],
        force_overwrite: bool,
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        self.inner
            .replicate(secret_id, replicas, force_overwrite)
            .await
    }

    async fn remove_replica_regions(
        &self,
        secret_id: &str,
        regions: &[String],
    ) -> Result<Vec<ReplicaStatus>, StoreError> {
        self.inner.remove_replica_regions(secret_id, regions).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offstate_common::store::memory::MemoryStore;

    fn ignore(keys: &[&str], prefixes: &[&str]) -> IgnoreTags {
        let set = |items: &[&str]| Value::Set(items.iter().map(|s| Value::string(*s)).collect());
        IgnoreTags::from_config(&Value::object([
            ("keys", set(keys)),
            ("key_prefixes", set(prefixes)),
        ]))
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn keys_and_prefixes() {
        let i = ignore(&["CostCenter"], &["org:", ""]);
        assert!(i.ignores("CostCenter"));
        assert!(i.ignores("org:owner"));
        assert!(!i.ignores("costcenter"));
        assert!(!i.ignores("team"));
        assert!(IgnoreTags::from_config(&Value::Null).is_empty());
        assert!(
            ignore(&[], &[""]).is_empty(),
            "an empty prefix ignores nothing"
        );
    }

    #[test]
    fn more_than_fifty_tags_are_too_many_and_the_count_says_where_they_come_from() {
        let n_tags = |n: usize| -> BTreeMap<String, String> {
            (0..n).map(|i| (format!("k{i}"), "v".to_string())).collect()
        };
        assert!(too_many_tags(&n_tags(50), 50).is_none());
        assert!(too_many_tags(&n_tags(50), 0).is_none());
        let d = too_many_tags(&n_tags(51), 48).expect("51 is too many");
        assert!(d.detail.contains("would have 51"), "{}", d.detail);
        assert!(
            d.detail
                .contains("48 from tags and 3 from the provider's default_tags"),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("Remove 1 of them"), "{}", d.detail);
        assert_eq!(d.attribute, Some(AttributePath::attr("tags")));
        let d = too_many_tags(&n_tags(60), 60).unwrap();
        assert!(d.detail.contains("all of them from tags"), "{}", d.detail);
    }

    #[tokio::test]
    async fn ignored_tags_are_never_seen_set_nor_removed() {
        let memory: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
        let store = TagFilteredStore::wrap(memory.clone(), ignore(&["CostCenter"], &["org:"]));
        let made = store
            .create(CreateSecret {
                name: "app/db".into(),
                tags: tags(&[("team", "payments"), ("CostCenter", "from-config")]),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(made.tags, tags(&[("team", "payments")]));
        // Someone else tags the secret.
        memory
            .tag(
                "app/db",
                &tags(&[("CostCenter", "42"), ("org:owner", "sec"), ("env", "prod")]),
            )
            .await
            .unwrap();
        let seen = store.describe("app/db").await.unwrap().unwrap();
        assert_eq!(seen.tags, tags(&[("env", "prod"), ("team", "payments")]));
        let listed = store.list(&ListFilter::default()).await.unwrap();
        assert_eq!(listed[0].tags, seen.tags);
        // An update that drops everything it manages keeps the others' tags.
        store
            .untag(
                "app/db",
                &["team".into(), "env".into(), "CostCenter".into()],
            )
            .await
            .unwrap();
        store
            .tag("app/db", &tags(&[("org:owner", "mine")]))
            .await
            .unwrap();
        let raw = memory.describe("app/db").await.unwrap().unwrap();
        assert_eq!(
            raw.tags,
            tags(&[("CostCenter", "42"), ("org:owner", "sec")])
        );
    }
}
