//! The backend cache (`.terraform/terraform.tfstate`): `backend` and `state_store` configs.

use super::address::member_string;
use super::marks::Marks;
use super::scanner::Scanner;
use crate::detect::{Mark, Step};
use crate::finding::Address;
use crate::json::{Dom, NodeId};
use std::borrow::Cow;

impl<'e> Scanner<'e> {
    /// Backend cache `.terraform/terraform.tfstate`: `{backend: {type, config}}`.
    pub(super) fn backend(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        let btype = dom
            .get(src, id, "type")
            .and_then(|n| dom.str(src, n))
            .map(|c| c.into_owned())
            .unwrap_or_default();
        let Some(config) = dom.get(src, id, "config") else {
            return;
        };
        let address = Address {
            mode: "backend".into(),
            resource_type: btype.clone(),
            ..Default::default()
        };
        let rows = self.engine.table.for_type(&format!("backend.{btype}"));
        let rel = [Step::Key(Cow::Borrowed("config"))];
        self.values(
            src,
            dom,
            config,
            "backend",
            &address,
            unit,
            &rel,
            &rows,
            &Marks::default(),
            Mark::SensitiveAttributes,
            "pass backend credentials through environment variables, not -backend-config",
        );
    }

    /// Backend cache with a state store: `{state_store: {type, config, provider: {source,
    /// version, config}}}`. Both configs are what `init` was given, credentials included: the
    /// store's own, and those of the provider block nested in it (read with the provider's rows).
    pub(super) fn state_store(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        const FIX: &str = "pass state store and provider credentials through environment variables, not in the state_store block or -backend-config";
        let stype = member_string(src, dom, id, "type").unwrap_or_default();
        let address = Address {
            mode: "state_store".into(),
            resource_type: stype,
            ..Default::default()
        };
        if let Some(config) = dom.get(src, id, "config") {
            let rel = [Step::Key(Cow::Borrowed("config"))];
            self.values(
                src,
                dom,
                config,
                "state_store",
                &address,
                unit,
                &rel,
                &[],
                &Marks::default(),
                Mark::SensitiveAttributes,
                FIX,
            );
        }
        let Some(provider) = dom.get(src, id, "provider") else {
            return;
        };
        let Some(config) = dom.get(src, provider, "config") else {
            return;
        };
        // `registry.terraform.io/hashicorp/aws` -> `aws`.
        let name = member_string(src, dom, provider, "source")
            .and_then(|s| s.rsplit('/').next().map(str::to_string))
            .unwrap_or_default();
        let rows = self.engine.table.for_type(&format!("provider.{name}"));
        let rel = [
            Step::Key(Cow::Borrowed("provider")),
            Step::Key(Cow::Borrowed("config")),
        ];
        self.values(
            src,
            dom,
            config,
            "state_store.provider",
            &address,
            unit,
            &rel,
            &rows,
            &Marks::default(),
            Mark::SensitiveAttributes,
            FIX,
        );
    }
}
