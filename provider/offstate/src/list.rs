//! `list "offstate_secret"` for `terraform query` (Terraform 1.14): finds
//! secrets by name prefix and tags, each with its identity (the ARN) and, when
//! asked, the object `import` would produce. Never a value.

use async_trait::async_trait;
use futures::stream::{self, StreamExt as _};
use offstate_common::StoreError;
use offstate_framework::datasource::{ListRequest, ListResource, ListResponse, ListResult};
use offstate_framework::{Block, Schema, Value};

use crate::provider::Handle;
use crate::secret::{imported_state, store_diag, withhold_arguments, TYPE_NAME};

/// DescribeSecret calls in flight at once for `include_resource = true`. Far under the service's
/// quota (40,000 DescribeSecret requests per second per Region since March 2025), and a round
/// trip's wait is what each call costs: eight at a time is about eight times faster.
const DESCRIBE_CONCURRENCY: usize = 8;

pub struct SecretList {
    handle: Handle,
}

impl SecretList {
    pub fn new(handle: Handle) -> Self {
        SecretList { handle }
    }
}

#[async_trait]
impl ListResource for SecretList {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            crate::data::with_list_filter(Block::new("Lists secrets for `terraform query`.")),
        )
    }

    async fn list(&self, req: &ListRequest<'_>, resp: &mut ListResponse) {
        let c = match self.handle.get() {
            Ok(c) => c,
            Err(d) => return resp.diagnostics.push(d),
        };
        // Terraform's `limit` (100 unless the list block says otherwise; never absent, and
        // Terraform refuses one below 0): the first secrets by name, from as few ListSecrets
        // pages as that takes. `limit = 0` asks for none: Terraform reads no result then (it
        // stops receiving once it holds `limit` of them), and the framework hands the number on
        // to the provider as it is. It was read as "no limit": every ListSecrets page of the
        // filter and, with include_resource, a DescribeSecret per secret, all thrown away.
        let limit = match usize::try_from(req.limit) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let cfg = req.config;
        let mut filter = crate::data::list_filter(cfg);
        filter.limit = Some(limit);
        let mut found = match c.store.list(&filter).await {
            Ok(v) => v,
            Err(e) => {
                // The filters may hold ephemeral values, and AWS quotes a value it refuses.
                let message = withhold_arguments(e.message(), cfg, &crate::data::LIST_FILTERS);
                let e = StoreError::from_code(e.code(), message);
                return resp.diagnostics.push(store_diag("ListSecrets", "*", &e));
            }
        };
        found.sort_by(|a, b| a.name.cmp(&b.name));
        // The object must be what `import` makes of the secret, so that the plan after importing
        // it has no changes. ListSecrets does not say where a secret is replicated;
        // DescribeSecret (what import reads) does. A few at a time: one after the other, a
        // hundred results took a hundred round trips.
        // Made up front (not in a closure the stream calls): async_trait's `Send` check cannot see
        // through a closure generic over the borrow's lifetime. Nothing is sent until polled.
        let calls: Vec<_> = found
            .iter()
            .filter(|_| req.include_resource_object)
            .map(|l| c.store.describe(&l.arn))
            .collect();
        // Taken as the results are made: on an error the stream is dropped, which cancels the
        // calls in flight and starts no more (collected first, every call was made).
        let mut described = stream::iter(calls).buffered(DESCRIBE_CONCURRENCY);
        for listed in &found {
            let resource_object = if req.include_resource_object {
                match described.next().await {
                    Some(Ok(Some(meta))) => Some(imported_state(&meta, &c.default_tags, None)),
                    // Deleted since the listing: gone from the results.
                    Some(Ok(None)) | None => continue,
                    Some(Err(e)) => {
                        return resp
                            .diagnostics
                            .push(store_diag("DescribeSecret", &listed.arn, &e))
                    }
                }
            } else {
                None
            };
            resp.results.push(ListResult {
                identity: Value::object([("arn", Value::string(&listed.arn))]),
                display_name: listed.name.clone(),
                resource_object,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use offstate_common::store::memory::MemoryStore;

    use super::*;
    use crate::provider::Configured;

    /// A list block's config may take ephemeral values (Terraform 1.14 accepts
    /// `name_prefix = var.db_password` in a .tfquery.hcl), and AWS quotes a filter value it
    /// refuses: the diagnostic names the argument instead.
    #[tokio::test]
    async fn a_refused_filter_is_named_by_its_argument_not_its_value() {
        let pw = "hunter2-the-password-by-mistake";
        let store = Arc::new(MemoryStore::default());
        store.fail_next(StoreError::from_code(
            "ValidationException",
            format!("1 validation error detected: Value '[{pw}]' at 'filters.1.member.values' failed to satisfy constraint"),
        ));
        let resp = listed(
            store,
            Value::object([("name_prefix", Value::string(pw))]),
            100,
            false,
        )
        .await;
        let shown = format!("{:?}", resp.diagnostics);
        assert!(resp.diagnostics.has_errors(), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("Value '[<name_prefix>]'"), "{shown}");
    }

    /// The list block with `config`, `limit` and `include_resource`, over `store`.
    async fn listed(
        store: Arc<MemoryStore>,
        config: Value,
        limit: i64,
        include: bool,
    ) -> ListResponse {
        let list = SecretList::new(Handle::with(Configured {
            store,
            default_tags: BTreeMap::new(),
            ignore_tags: Default::default(),
        }));
        let mut resp = ListResponse {
            results: vec![],
            diagnostics: Default::default(),
        };
        list.list(
            &ListRequest {
                config: &config,
                include_resource_object: include,
                limit,
            },
            &mut resp,
        )
        .await;
        resp
    }

    /// A memory store holding secrets of these names, each described `about NAME`.
    async fn store_of(names: impl IntoIterator<Item = String>) -> Arc<MemoryStore> {
        use offstate_common::store::{CreateSecret, SecretStore as _};
        let store = Arc::new(MemoryStore::default());
        for name in names {
            store
                .create(CreateSecret {
                    description: Some(format!("about {name}")),
                    name,
                    kms_key_id: None,
                    tags: BTreeMap::new(),
                    value: None,
                    binary: false,
                    client_request_token: None,
                })
                .await
                .unwrap();
        }
        store
    }

    /// `limit` gives the first secrets by name (created here in another order), each with the
    /// object import makes of it; a limit above their count, every secret the prefix matches.
    #[tokio::test]
    async fn a_limit_gives_the_first_secrets_by_name() {
        let store =
            store_of(["app/d", "app/b", "other/a", "app/e", "app/a", "app/c"].map(String::from))
                .await;
        let app = || Value::object([("name_prefix", Value::string("app/"))]);
        let names = |r: &ListResponse| -> Vec<String> {
            assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
            r.results.iter().map(|x| x.display_name.clone()).collect()
        };
        let two = listed(Arc::clone(&store), app(), 2, true).await;
        assert_eq!(names(&two), ["app/a", "app/b"]);
        for r in &two.results {
            let object = r.resource_object.as_ref().expect("include_resource");
            assert_eq!(
                object.get("description").as_str(),
                Some(format!("about {}", r.display_name).as_str())
            );
            assert_eq!(object.get("arn"), r.identity.get("arn"));
        }
        let all = listed(Arc::clone(&store), app(), 5, false).await;
        assert_eq!(names(&all), ["app/a", "app/b", "app/c", "app/d", "app/e"]);
        assert!(all.results.iter().all(|r| r.resource_object.is_none()));
        assert_eq!(names(&listed(store, app(), 100, true).await).len(), 5);
    }

    /// `limit = 0` (Terraform sends the number the list block gives, 100 by default) asks for no
    /// result: none is listed and Secrets Manager is not called. It was read as no limit: every
    /// secret of the filter listed and described, for Terraform to read none of them.
    #[tokio::test]
    async fn a_limit_of_zero_lists_nothing_and_calls_nothing() {
        let store = store_of((0..5).map(|i| format!("app/s{i}"))).await;
        let app = || Value::object([("name_prefix", Value::string("app/"))]);
        for limit in [0, -1] {
            let resp = listed(Arc::clone(&store), app(), limit, true).await;
            assert!(!resp.diagnostics.has_errors(), "{:?}", resp.diagnostics);
            assert_eq!(resp.results.len(), 0, "limit {limit}");
        }
        assert_eq!(store.call_count("list"), 0);
        assert_eq!(store.call_count("describe"), 0);
        // A limit of 1 calls ListSecrets once, DescribeSecret once.
        let one = listed(Arc::clone(&store), app(), 1, true).await;
        assert_eq!(one.results.len(), 1);
        assert_eq!(store.call_count("list"), 1);
        assert_eq!(store.call_count("describe"), 1);
    }

    /// A DescribeSecret that fails ends the listing with a diagnostic naming that secret, and no
    /// more DescribeSecret calls are made: all of them were, one per result, before the first
    /// error was looked at (a hundred calls to report one AccessDenied).
    #[tokio::test]
    async fn a_failed_describe_stops_the_describing() {
        let store = store_of((0..30).map(|i| format!("app/s{i:02}"))).await;
        store.fail_next_call_of(
            "describe",
            StoreError::from_code("AccessDeniedException", "not allowed"),
        );
        let config = Value::object([("name_prefix", Value::string("app/"))]);
        let resp = listed(Arc::clone(&store), config, 100, true).await;
        let shown = format!("{:?}", resp.diagnostics);
        assert!(resp.diagnostics.has_errors(), "{shown}");
        assert!(shown.contains("app/s00"), "{shown}");
        assert!(resp.results.is_empty());
        let describes = store.call_count("describe");
        assert!(
            describes <= DESCRIBE_CONCURRENCY,
            "{describes} DescribeSecret calls"
        );
    }
}
