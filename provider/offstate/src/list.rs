//! `list "offstate_secret"` for `terraform query` (Terraform 1.14): finds
//! secrets by name prefix and tags, each with its identity (the ARN) and, when
//! asked, the object `import` would produce. Never a value.

use async_trait::async_trait;
use offstate_framework::datasource::{ListRequest, ListResource, ListResponse, ListResult};
use offstate_framework::{Block, Schema, Value};

use crate::provider::Handle;
use crate::secret::{imported_state, store_diag, TYPE_NAME};

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
            Err(e) => return resp.diagnostics.push(store_diag("ListSecrets", "*", &e)),
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
