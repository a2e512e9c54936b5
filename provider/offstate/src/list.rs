//! `list "offstate_secret"` for `terraform query` (Terraform 1.14): finds
//! secrets by name prefix and tags, each with its identity (the ARN) and, when
//! asked, the object `import` would produce. Never a value.

use async_trait::async_trait;
use offstate_common::StoreError;
use offstate_framework::datasource::{ListRequest, ListResource, ListResponse, ListResult};
use offstate_framework::{Block, Schema, Value};

use crate::provider::Handle;
use crate::secret::{imported_state, store_diag, withhold_arguments, TYPE_NAME};

/// The list block's arguments that go into the ListSecrets request.
const FILTERS: [&str; 3] = ["name_prefix", "tag_key", "tag_value"];

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
        let cfg = req.config;
        let filter = crate::data::list_filter(cfg);
        let mut found = match c.store.list(&filter).await {
            Ok(v) => v,
            Err(e) => {
                // The filters may hold ephemeral values, and AWS quotes a value it refuses.
                let message = withhold_arguments(e.message(), cfg, &FILTERS);
                let e = StoreError::from_code(e.code(), message);
                return resp.diagnostics.push(store_diag("ListSecrets", "*", &e));
            }
        };
        found.sort_by(|a, b| a.name.cmp(&b.name));
        let limit = if req.limit > 0 {
            req.limit as usize
        } else {
            usize::MAX
        };
        for listed in found.into_iter().take(limit) {
            // The object must be what `import` makes of the secret, so that the plan after
            // importing it has no changes. ListSecrets does not say where a secret is
            // replicated; DescribeSecret (what import reads) does.
            let resource_object = if req.include_resource_object {
                let meta = match c.store.describe(&listed.arn).await {
                    Ok(Some(meta)) => meta,
                    // Deleted since the listing: gone from the results.
                    Ok(None) => continue,
                    Err(e) => {
                        return resp
                            .diagnostics
                            .push(store_diag("DescribeSecret", &listed.arn, &e))
                    }
                };
                Some(imported_state(&meta, &c.default_tags, None))
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
        let list = SecretList::new(Handle::with(Configured {
            store,
            default_tags: BTreeMap::new(),
            ignore_tags: Default::default(),
        }));
        let config = Value::object([("name_prefix", Value::string(pw))]);
        let mut resp = ListResponse {
            results: vec![],
            diagnostics: Default::default(),
        };
        list.list(
            &ListRequest {
                config: &config,
                include_resource_object: false,
                limit: 0,
            },
            &mut resp,
        )
        .await;
        let shown = format!("{:?}", resp.diagnostics);
        assert!(resp.diagnostics.has_errors(), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("Value '[<name_prefix>]'"), "{shown}");
    }
}
