//! Shapes that widely used providers write and the bench corpus lacks: headers of `data.http`,
//! vendor tokens under keys that say nothing, Azure app settings that reference Key Vault, a
//! kube_config block that Terraform marks whole.

use super::*;

const HEX: &str = "0123456789abcdef";
const URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn audit_state(state: &str) -> Run {
    let d = Dir::new();
    d.write("a.tfstate", state);
    audit(&[&d.s("a.tfstate"), "--format", "json"])
}

fn paths(r: &Run) -> Vec<String> {
    let mut v: Vec<String> = findings(r)
        .iter()
        .map(|f| f["attribute_path"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// `data "http"` with `request_headers = { Authorization = "Bearer ${var.token}" }` (and Basic
/// credentials) kept the token in state under a key no key rule named.
#[test]
fn authorization_headers_are_found() {
    use base64::Engine as _;
    let bearer = plant(&format!("Bearer {}", random(ALNUM, 40)));
    let basic = plant(&format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("svc:{}", random(ALNUM, 18)))
    ));
    let script = plant(&format!(
        "#!/bin/sh\ncurl -fsS -H \"Authorization: Bearer {}\" https://api.example.com/v1/register\n",
        random(URL, 48)
    ));
    let state = state_v4(json!([
        resource(
            "data",
            "http",
            "token",
            json!({"id": "https://api.example.com/v1/me", "url": "https://api.example.com/v1/me",
                "request_headers": {"Accept": "application/json", "Authorization": bearer, "Proxy-Authorization": basic},
                "response_headers": {"Content-Type": "application/json", "Www-Authenticate": "Bearer realm=\"api\""},
                "status_code": 200}),
            json!([])
        ),
        resource(
            "managed",
            "null_resource",
            "register",
            json!({"id": "1", "triggers": {"script": script, "auth": "Bearer ${var.token}", "scheme": "Basic authentication"}}),
            json!([])
        ),
    ]));
    let r = audit_state(&state);
    assert_eq!(
        paths(&r),
        [
            "request_headers.Authorization",
            "request_headers.Proxy-Authorization",
            "triggers.script"
        ],
        "{}",
        r.all()
    );
    assert!(!r.all().contains(&bearer[7..]));
}

/// Tokens with a fixed, documented prefix are found under any key, as gitleaks and kingfisher
/// find them: a `triggers` map, a Helm `set`, an output.
#[test]
fn vendor_tokens_are_found_under_any_key() {
    let tokens = [
        ("a", format!("sk-ant-api03-{}AA", random(URL, 93))),
        ("b", format!("sk-proj-{}", random(URL, 64))),
        ("c", format!("shpat_{}", random(HEX, 32))),
        ("d", format!("dp.st.prd.{}", random(ALNUM, 43))),
        ("e", format!("pul-{}", random(HEX, 40))),
        ("f", format!("hf_{}", random(ALNUM, 34))),
        (
            "g",
            format!(
                "NRAK-{}",
                random("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 27)
            ),
        ),
        ("h", format!("dop_v1_{}", random(HEX, 64))),
        ("i", format!("lin_api_{}", random(ALNUM, 40))),
        (
            "j",
            format!(
                "https://discord.com/api/webhooks/{}/{}",
                random("0123456789", 19),
                random(URL, 68)
            ),
        ),
        (
            "k",
            format!("glsa_{}_{}", random(ALNUM, 32), random(HEX, 8)),
        ),
        ("l", format!("dapi{}", random(HEX, 32))),
        ("m", format!("PMAK-{}-{}", random(HEX, 24), random(HEX, 34))),
        (
            "n",
            format!("tskey-auth-{}-{}", random(ALNUM, 12), random(ALNUM, 30)),
        ),
        ("o", format!("{}NRAL", random(HEX, 36))),
    ];
    let triggers: serde_json::Map<String, Value> = tokens
        .iter()
        .map(|(k, v)| (k.to_string(), json!(plant(v))))
        .collect();
    let state = state_v4(json!([resource(
        "managed",
        "null_resource",
        "t",
        json!({"id": "1", "triggers": triggers}),
        json!([])
    )]));
    let r = audit_state(&state);
    let want: Vec<String> = tokens
        .iter()
        .map(|(k, _)| format!("triggers.{k}"))
        .collect();
    assert_eq!(paths(&r), want, "{}", r.all());
}

/// Names that say "credential" in the short forms environments use: `DB_PW`, `*_CREDS`, a
/// licence or integration key.
#[test]
fn short_credential_names_are_found() {
    let env = json!({
        "DB_PW": random(ALNUM, 16),
        "SMTP_CREDS": random(ALNUM, 32),
        "NEW_RELIC_LICENSE_KEY": random(HEX, 40),
        "PAGERDUTY_INTEGRATION_KEY": random(HEX, 32),
        "PW_POLICY": "strict-mode",
        "LICENSE_KEY_FILE": "/etc/newrelic/license.key",
        "CREDS_PATH": "/run/secrets/creds.json",
        "PW_LENGTH": "24",
    });
    let state = state_v4(json!([resource(
        "managed",
        "aws_lambda_function",
        "f",
        json!({"id": "f", "function_name": "f", "environment": [{"variables": env}]}),
        json!([])
    )]));
    let r = audit_state(&state);
    assert_eq!(
        paths(&r),
        [
            "environment[0].variables.DB_PW",
            "environment[0].variables.NEW_RELIC_LICENSE_KEY",
            "environment[0].variables.PAGERDUTY_INTEGRATION_KEY",
            "environment[0].variables.SMTP_CREDS"
        ],
        "{}",
        r.all()
    );
}

/// Azure App Service settings that reference Key Vault (`@Microsoft.KeyVault(SecretUri=...)`,
/// the documented way to keep a secret out of app settings) were reported as the secrets they
/// replace.
#[test]
fn key_vault_references_in_app_settings_are_not_reported() {
    let pw = random(ALNUM, 18);
    let state = state_v4(json!([resource(
        "managed",
        "azurerm_linux_web_app",
        "app",
        json!({"id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Web/sites/app",
        "app_settings": {
            "DB_PASSWORD": "@Microsoft.KeyVault(SecretUri=https://kv-prod.vault.azure.net/secrets/db-password/)",
            "API_KEY": "@Microsoft.KeyVault(VaultName=kv-prod;SecretName=api-key)",
            "STRIPE_SECRET": "@Microsoft.KeyVault(SecretUri=https://kv-prod.vault.azure.net/secrets/stripe/ec96f02080254f109c51a1f14cdb1931)",
            "SMTP_PASSWORD": pw,
            "WEBSITE_RUN_FROM_PACKAGE": "1"
        }}),
        json!([])
    )]));
    let r = audit_state(&state);
    assert_eq!(paths(&r), ["app_settings.SMTP_PASSWORD"], "{}", r.all());
}

/// azurerm marks `kube_config` sensitive as a whole (Terraform >= 1.8 records the block): its
/// `host` is the API server's URL, no secret; `password` and `client_key` are.
#[test]
fn a_marked_kube_config_reports_its_credentials_not_its_host() {
    let state = state_v4(json!([resource(
        "managed",
        "azurerm_kubernetes_cluster",
        "aks",
        json!({"id": "/subscriptions/x/aks", "kube_config": [{
            "host": "https://aks-prod-1a2b3c4d.hcp.westeurope.azmk8s.io:443",
            "username": "clusterUser_rg_aks",
            "password": random(HEX, 128),
            "client_key": random(ALNUM, 64),
            "cluster_ca_certificate": random(ALNUM, 64)
        }]}),
        json!([[ga("kube_config")]])
    )]));
    let r = audit_state(&state);
    assert_eq!(
        paths(&r),
        ["kube_config[0].client_key", "kube_config[0].password"],
        "{}",
        r.all()
    );
}

/// hashicorp/aws marks an SSM parameter's `value` sensitive in its schema whatever its `type`,
/// and Terraform >= 1.8 records that mark in states and plans: every `String` parameter (a VPC
/// id, an endpoint, an ARN shared between stacks) was a finding, and its `insecure_value` a
/// second one. A `String` or `StringList` value is configuration, as the table already said
/// for unmarked values; a token or password URL in it is still found by content, and a
/// `SecureString` by its row.
#[test]
fn a_marked_string_ssm_parameter_is_configuration() {
    let d = Dir::new();
    let secure = random(ALNUM, 24);
    let token = plant(&format!("ghp_{}", random(ALNUM, 36)));
    let marked = json!([[ga("value")]]);
    let param = |mode: &str, name: &str, ty: &str, value: &str, insecure: Value| {
        resource(
            mode,
            "aws_ssm_parameter",
            name,
            json!({"id": format!("/shared/{name}"), "name": format!("/shared/{name}"), "type": ty,
                "value": value, "insecure_value": insecure, "version": 1, "tier": "Standard",
                "arn": format!("arn:aws:ssm:eu-west-1:123456789012:parameter/shared/{name}")}),
            marked.clone(),
        )
    };
    let endpoint = "https://api.internal.example.com/v2";
    d.write(
        "terraform.tfstate",
        state_v4(json!([
            param(
                "managed",
                "vpc",
                "String",
                "vpc-0a1b2c3d4e5f67890",
                json!(null)
            ),
            param("managed", "endpoint", "String", endpoint, json!(endpoint)),
            param(
                "managed",
                "subnets",
                "StringList",
                "subnet-0a1b2c3d4e5f67890,subnet-0f9e8d7c6b5a43210",
                json!(null)
            ),
            param(
                "data",
                "release",
                "String",
                "Release-2024.11.3-Stable",
                json!(null)
            ),
            param("managed", "db", "SecureString", &secure, json!(null)),
            param("managed", "ci", "String", &token, json!(null)),
        ])),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    let got: Vec<(String, String)> = findings(&r)
        .iter()
        .map(|f| {
            (
                f["address"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "aws_ssm_parameter.db".to_string(),
                "attr.aws_ssm_parameter.value".to_string()
            ),
            (
                "aws_ssm_parameter.ci".to_string(),
                "github-token".to_string()
            ),
        ],
        "{}",
        r.all()
    );
    // The same in a plan: planned values and the change, with Terraform's marks.
    let change = |name: &str, ty: &str, value: &str| {
        json!({"address": format!("aws_ssm_parameter.{name}"), "mode": "managed", "type": "aws_ssm_parameter",
            "name": name, "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": ["create"], "before": null,
                "after": {"name": format!("/shared/{name}"), "type": ty, "value": value},
                "after_unknown": {"arn": true, "id": true, "version": true},
                "before_sensitive": false, "after_sensitive": {"value": true}}})
    };
    let planned = |name: &str, ty: &str, value: &str| {
        json!({"address": format!("aws_ssm_parameter.{name}"), "mode": "managed", "type": "aws_ssm_parameter",
            "name": name, "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
            "values": {"name": format!("/shared/{name}"), "type": ty, "value": value},
            "sensitive_values": {"value": true}})
    };
    let plan = json!({"format_version": "1.2", "terraform_version": "1.9.5",
        "planned_values": {"root_module": {"resources": [
            planned("endpoint", "String", endpoint), planned("db", "SecureString", &secure)]}},
        "resource_changes": [change("endpoint", "String", endpoint), change("db", "SecureString", &secure)]});
    d.write("plan.json", plan.to_string());
    let r = audit(&[&d.s("plan.json"), "--format", "json"]);
    let f = findings(&r);
    assert_eq!(f.len(), 2, "{}", r.all());
    assert!(
        f.iter().all(|f| f["address"] == "aws_ssm_parameter.db"),
        "{}",
        r.all()
    );
}

/// azurerm's `connection_string` is a set whose `value` is sensitive; Terraform hoists a set
/// element's mark onto the whole set, so its `type` (`SQLAzure`, `PostgreSQL`) was reported as
/// a secret too.
#[test]
fn a_marked_connection_string_set_reports_its_value_not_its_type() {
    let conn = plant(&format!(
        "Server=tcp:sql-prod.database.windows.net,1433;Database=app;User ID=app;Password={};",
        random(ALNUM, 20)
    ));
    let state = state_v4(json!([resource(
        "managed",
        "azurerm_linux_web_app",
        "app",
        json!({"id": "/subscriptions/x/sites/app", "connection_string": [
            {"name": "Db", "type": "SQLAzure", "value": conn},
            {"name": "Cache", "type": "RedisCache", "value": ""}
        ]}),
        json!([[ga("connection_string")]])
    )]));
    let r = audit_state(&state);
    assert_eq!(paths(&r), ["connection_string[0].value"], "{}", r.all());
}

/// Tags and settings named after what they configure (`PasswordRotation = "enabled"`) hold a
/// setting, not a password; a random value under such a name is still one. A header-style
/// `x-api-key` is an API key like `api_key`.
#[test]
fn setting_words_under_secret_names_are_quiet_header_style_api_keys_are_not() {
    let key = random(ALNUM, 40);
    let pw = random(ALNUM, 18);
    let state = state_v4(json!([
        resource(
            "managed",
            "aws_vpc",
            "v",
            json!({"id": "vpc-0a1b2c3d4e5f67890", "tags": {
                "PasswordRotation": "enabled", "TokenAuth": "Disabled", "SecretScanning": "on",
                "client_secret_rotation": "monthly", "DbPassword": pw}}),
            json!([])
        ),
        resource(
            "managed",
            "aws_sfn_state_machine",
            "sm",
            json!({"id": "sm", "definition": json!({"StartAt": "Call", "States": {"Call": {
                "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                "Parameters": {"ApiEndpoint": "https://api.example.com", "Headers": {"x-api-key": key}},
                "End": true}}}).to_string()}),
            json!([])
        ),
    ]));
    let r = audit_state(&state);
    let got: Vec<(String, String)> = findings(&r)
        .iter()
        .map(|f| {
            (
                f["attribute_path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("tags.DbPassword".to_string(), "key-password".to_string()),
            ("definition".to_string(), "key-token".to_string()),
        ],
        "{}",
        r.all()
    );
}

/// Scripts and config files (`local_file.content`, `user_data`, a ConfigMap): an assignment
/// whose key names a setting about the secret (`token_endpoint_auth_method`,
/// `secret_key_path`, `password_hash`) or where it is kept (`VAULT_TOKEN_FILE`,
/// `*_PASSWORD_SECRET=<name>`) was reported as a secret assignment; the key rules' safe lists
/// now apply to the assigned key and value. A real assignment in the same text is still found.
#[test]
fn text_assignments_to_settings_and_references_are_quiet() {
    let quiet = [
        "issuer: https://idp.example.com\ntoken_endpoint_auth_method: client_secret_basic\n",
        "#!/bin/sh\nVAULT_TOKEN_FILE=/var/run/secrets/vault-token\nvault kv get -field=password secret/db\n",
        "jwt:\n  secret_key_path: /etc/app/jwt.pem\n  token_lifetime: 15m\n",
        "[auth.generic_oauth]\nclient_secret_path = /etc/grafana/oauth-secret\ntoken_url = https://idp.example.com/oauth/token\n",
        "db_password_secret_name = \"prod/db-password\"\n",
        "KC_DB_PASSWORD_FILE=/run/secrets/kc-db-password\nKEYCLOAK_ADMIN_PASSWORD_SECRET=keycloak-admin\n",
        "password_hash: sha512_crypt\npassword_hash_rounds: 656000\n",
    ];
    let secret = random(ALNUM, 20);
    let loud = plant(&format!(
        "token_endpoint_auth_method: client_secret_basic\nclient_secret: {secret}\n"
    ));
    let mut resources: Vec<Value> = quiet
        .iter()
        .enumerate()
        .map(|(i, text)| {
            resource(
                "managed",
                "local_file",
                &format!("q{i}"),
                json!({"id": format!("{i}"), "filename": format!("f{i}"), "content": text}),
                json!([]),
            )
        })
        .collect();
    resources.push(resource(
        "managed",
        "local_file",
        "loud",
        json!({"id": "x", "filename": "oidc.yml", "content": loud}),
        json!([]),
    ));
    let r = audit_state(&state_v4(Value::Array(resources)));
    let got: Vec<&str> = findings(&r)
        .iter()
        .map(|f| f["address"].as_str().unwrap())
        .map(|a| {
            if a == "local_file.loud" {
                "loud"
            } else {
                "quiet"
            }
        })
        .collect();
    assert_eq!(got, ["loud"], "{}", r.all());
}
