//! Layer 2: the table of secret attributes per provider and resource type (`rules/attributes.tsv`).

use std::collections::HashMap;

use crate::finding::{Kind, Severity};

pub const ATTRIBUTES_TSV: &str = include_str!("../rules/attributes.tsv");

/// The pseudo resource type of root module outputs in the table.
pub const ROOT_OUTPUT: &str = "(root module output)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treat {
    /// The whole value is a secret.
    Secret,
    /// The value may embed secrets: content and key rules look inside; the row gives the fix.
    Scan,
    /// The provider marks the attribute sensitive in its schema whatever it holds, and where the
    /// row's `when` holds the value is configuration (an SSM `String` parameter): that mark is
    /// no evidence and is not reported. Content and key rules still look inside.
    Public,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub provider: String,
    pub resource_type: String,
    pub attribute: String,
    /// `attribute` split on dots.
    pub path: Vec<String>,
    pub kind: Kind,
    pub write_only: Option<String>,
    pub wo_since: Option<String>,
    pub treat: Treat,
    pub ephemeral: Option<String>,
    pub min_length: usize,
    /// The row applies only when the resource's top-level attribute KEY equals VALUE.
    pub when: Option<(String, String)>,
    /// `sensitive:ATTR`: the attribute mirrors ATTR (`terraform_data.output` is its `input`), so
    /// the row applies to the part whose counterpart under ATTR the artifact marks sensitive,
    /// path for path (all of it when all of ATTR is marked). Terraform marks only ATTR.
    pub when_sensitive: Option<Vec<String>>,
}

impl Row {
    /// A row for a provider block's or backend's own credential (`provider.aws`, `backend.s3`).
    pub fn is_block_credential(&self) -> bool {
        self.resource_type.starts_with("provider.") || self.resource_type.starts_with("backend.")
    }

    /// The severity of a finding this row covers: critical for keys and cloud credentials, high
    /// for the other secrets; a row that mirrors a marked attribute is as sure as the mark it
    /// mirrors (medium, as marks are).
    pub fn severity(&self) -> Severity {
        if self.when_sensitive.is_some() {
            return Severity::Medium;
        }
        match self.kind {
            Kind::PrivateKey | Kind::CertificateKey | Kind::CloudCredential => Severity::Critical,
            _ => Severity::High,
        }
    }

    /// Why the entry `key` of this row's map is public, when it is: a Kubernetes secret's `data`
    /// holds secrets by intent, but a service-account token secret also carries the cluster's
    /// `ca.crt` and its `namespace`, an OpenShift one `service-ca.crt`, a TLS secret its
    /// `tls.crt`, and a database secret its `host` and `port`. Only these well-known keys, and
    /// only when the content is what the key says (certificates and nothing else, a DNS label, a
    /// host name or address, a port number): a private key under `ca.crt` is no certificate.
    pub fn public_entry(&self, key: Option<&str>, value: &str) -> Option<&'static str> {
        const KUBERNETES_SECRETS: [&str; 4] = [
            "kubernetes_secret",
            "kubernetes_secret_v1",
            "data.kubernetes_secret",
            "data.kubernetes_secret_v1",
        ];
        if self.attribute != "data" || !KUBERNETES_SECRETS.contains(&self.resource_type.as_str()) {
            return None;
        }
        let v = value.trim();
        match key? {
            "ca.crt" | "service-ca.crt" | "tls.crt" if only_certificates(v) => {
                Some("the entry is a certificate (public), under a key that holds one")
            }
            "namespace" if is_dns_label(v) => Some("the entry is the namespace's name"),
            "host" | "hostname" if is_host(v) => Some("the entry is a host name or address"),
            "port" if !v.is_empty() && v.len() <= 5 && v.bytes().all(|b| b.is_ascii_digit()) => {
                Some("the entry is a port number")
            }
            _ => None,
        }
    }

    /// Stable rule id of a table row.
    pub fn rule_id(&self) -> String {
        format!("attr.{}.{}", self.resource_type, self.attribute)
    }

    /// Why a value covered by this row is a secret (a layer-2 reason line).
    pub fn reason(&self) -> String {
        match &self.when_sensitive {
            Some(src) => format!(
                "layer 2: `{}` of `{}` mirrors `{}`, and the artifact marks that part of `{}` sensitive ({})",
                self.attribute,
                self.resource_type,
                src.join("."),
                src.join("."),
                self.kind.as_str()
            ),
            None => format!(
                "layer 2: `{}` of `{}` is a secret attribute ({})",
                self.attribute,
                self.resource_type,
                self.kind.as_str()
            ),
        }
    }

    /// What to do instead of keeping this attribute in state.
    pub fn fix(&self) -> String {
        if let Some(wo) = &self.write_only {
            let since = self
                .wo_since
                .as_deref()
                .map(|v| format!(" ({} >= {v}, Terraform >= 1.11)", self.provider))
                .unwrap_or_default();
            return format!(
                "set the write-only `{wo}` instead of `{}`{since}; the value then never reaches state",
                self.attribute
            );
        }
        if let Some(e) = &self.ephemeral {
            return format!("use {e} (Terraform >= 1.10) so the value is never persisted");
        }
        if self.resource_type.starts_with("backend.") {
            return "pass backend credentials through environment variables, not -backend-config"
                .into();
        }
        if self.resource_type.starts_with("provider.") {
            return "give provider credentials through the environment or an ephemeral value, not a literal".into();
        }
        GENERIC_FIX.to_string()
    }
}

/// PEM text holding certificates and nothing else.
fn only_certificates(v: &str) -> bool {
    v.starts_with("-----BEGIN CERTIFICATE-----")
        && v.matches("-----BEGIN ").count() == v.matches("-----BEGIN CERTIFICATE-----").count()
}

/// A DNS-1123 label, what a Kubernetes namespace is named.
fn is_dns_label(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// A host name or an IPv4/IPv6 address (no scheme, user, path or port), that does not look
/// generated.
fn is_host(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 253
        && (v
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
            || v.parse::<std::net::IpAddr>().is_ok())
        && !crate::rules::looks_random(v)
}

pub const GENERIC_FIX: &str = "keep the value in Secrets Manager with `offstate_secret` (value_wo) and read it where needed with `ephemeral \"offstate_secret_value\"`";

#[derive(Debug, thiserror::Error)]
#[error("attributes.tsv line {line}: {message}")]
pub struct TableError {
    pub line: usize,
    pub message: String,
}

/// The rows, indexed by resource type (`data.` prefix for data sources).
pub struct Table {
    pub rows: Vec<Row>,
    by_type: HashMap<String, Vec<usize>>,
}

impl Table {
    pub fn builtin() -> Result<Table, TableError> {
        Self::parse(ATTRIBUTES_TSV)
    }

    pub fn parse(tsv: &str) -> Result<Table, TableError> {
        let mut rows = Vec::new();
        let mut by_type: HashMap<String, Vec<usize>> = HashMap::new();
        let mut header = true;
        for (i, line) in tsv.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if header {
                header = false;
                continue;
            }
            let err = |m: &str| TableError {
                line: i + 1,
                message: m.to_string(),
            };
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != 10 {
                return Err(err("expected 10 tab-separated columns"));
            }
            let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
            let kind: Kind = serde_json::from_value(serde_json::Value::String(f[3].to_string()))
                .map_err(|_| err("unknown kind"))?;
            let treat = match f[6] {
                "secret" => Treat::Secret,
                "scan" => Treat::Scan,
                "public" => Treat::Public,
                _ => return Err(err("treat must be secret, scan or public")),
            };
            let min_length = if f[8].is_empty() {
                1
            } else {
                f[8].parse()
                    .map_err(|_| err("min_length must be a number"))?
            };
            let mut row = Row {
                provider: f[0].to_string(),
                resource_type: f[1].to_string(),
                attribute: f[2].to_string(),
                path: f[2].split('.').map(str::to_string).collect(),
                kind,
                write_only: opt(f[4]),
                wo_since: opt(f[5]),
                treat,
                ephemeral: opt(f[7]),
                min_length,
                when: None,
                when_sensitive: None,
            };
            if let Some(src) = f[9].strip_prefix("sensitive:") {
                if src.is_empty() || src.split('.').any(str::is_empty) {
                    return Err(err("when sensitive:ATTR needs an attribute path"));
                }
                row.when_sensitive = Some(src.split('.').map(str::to_string).collect());
            } else {
                row.when = match f[9].split_once('=') {
                    Some((k, v)) => Some((k.to_string(), v.to_string())),
                    None if f[9].is_empty() => None,
                    None => return Err(err("when must be KEY=VALUE or sensitive:ATTR")),
                };
            }
            by_type
                .entry(row.resource_type.clone())
                .or_default()
                .push(rows.len());
            rows.push(row);
        }
        Ok(Table { rows, by_type })
    }

    /// Rows of one resource type (`data.` prefixed for data sources).
    pub fn for_type(&self, resource_type: &str) -> Vec<&Row> {
        self.by_type
            .get(resource_type)
            .map(|v| v.iter().map(|&i| &self.rows[i]).collect())
            .unwrap_or_default()
    }

    /// The row whose attribute path is a prefix of `path` (keys only, indices dropped). Of rows
    /// for the same path whose conditions could not be told apart (a plan's `type` computed
    /// from a reference), a secret row wins over the others.
    pub fn lookup<'t>(rows: &[&'t Row], path: &[&str]) -> Option<&'t Row> {
        rows.iter()
            .copied()
            .filter(|r| r.path.len() <= path.len() && r.path.iter().zip(path).all(|(a, b)| a == b))
            .max_by_key(|r| (r.path.len(), r.treat == Treat::Secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_parses_and_covers_the_facts_file() {
        let t = Table::builtin().unwrap();
        assert!(t.rows.len() >= 230, "{}", t.rows.len());
        let rows = t.for_type("aws_db_instance");
        let r = Table::lookup(&rows, &["password"]).unwrap();
        assert_eq!(
            r.write_only.as_deref(),
            Some("password_wo + password_wo_version")
        );
        assert!(r.fix().contains("password_wo"));
        let rows = t.for_type("aws_opensearch_domain");
        assert!(Table::lookup(
            &rows,
            &[
                "advanced_security_options",
                "master_user_options",
                "master_user_password"
            ]
        )
        .is_some());
        assert!(Table::lookup(&rows, &["advanced_security_options", "enabled"]).is_none());
    }
}
