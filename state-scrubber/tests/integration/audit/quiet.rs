//! What stays quiet: references, conditions, placeholders, emulator words, resource ids.

use super::*;

/// Review finding: false positives on keys that only look secret (`api_key_selection_expression`,
/// Helm's `existingSecret`, `dkim_tokens`, `verification_token`, `token_domains`), on IAM
/// condition keys (`token.actions.githubusercontent.com:aud`), on CodeBuild variables whose `type`
/// makes the value a reference, and on `$VAR` as a URL's password.
#[test]
fn reference_keys_condition_keys_and_env_placeholders_are_quiet() {
    let d = Dir::new();
    let plain = random(ALNUM, 20);
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
            "StringLike": {"token.actions.githubusercontent.com:sub": format!("repo:org/{}:*", random(ALNUM, 12))}}}]})
    .to_string();
    let st = d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource("managed", "aws_apigatewayv2_api", "a", json!({"id": "a", "api_key_selection_expression": "$request.header.x-api-key"}), json!([])),
            resource("managed", "helm_release", "h", json!({"id": "h", "set": [{"name": "auth.existingSecret", "value": format!("pg-{}", random(ALNUM, 12)), "type": ""}]}), json!([])),
            resource("managed", "aws_ses_domain_dkim", "k", json!({"id": "k", "dkim_tokens": [random("abcdefghijklmnopqrstuvwxyz0123456789", 32)]}), json!([])),
            resource("managed", "aws_ses_domain_identity", "i", json!({"id": "i", "verification_token": random(ALNUM, 44)}), json!([])),
            resource("managed", "aws_wafv2_web_acl", "w", json!({"id": "w", "token_domains": ["example.com", "api.example.com"]}), json!([])),
            resource("managed", "aws_iam_role", "r", json!({"id": "r", "assume_role_policy": policy}), json!([])),
            resource("managed", "aws_codebuild_project", "c", json!({"id": "c", "environment": [{"environment_variable": [
                {"name": "DB_PASSWORD", "value": format!("prod/{}", random(ALNUM, 20)), "type": "SECRETS_MANAGER"},
                {"name": "API_TOKEN", "value": format!("/prod/{}", random(ALNUM, 20)), "type": "PARAMETER_STORE"},
                {"name": "DEPLOY_TOKEN", "value": plain, "type": "PLAINTEXT"}]}]}), json!([])),
            resource("managed", "aws_lambda_function", "f", json!({"id": "f", "environment": [{"variables": {
                "DATABASE_URL": "postgres://app:$DB_PASSWORD@db:5432/app"}}]}), json!([])),
        ])),
    );
    let st = st.display().to_string();
    let r = audit(&[&st, "--format", "json"]);
    let f = findings(&r);
    // Only the plaintext CodeBuild variable: the rest are references, keys or placeholders.
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["address"], "aws_codebuild_project.c");
    for format in ["text", "sarif", "html"] {
        let r = audit(&[&st, "--format", format]);
        for v in variants(&plain) {
            assert!(!r.all().contains(&v), "leak");
        }
    }
}

/// Review item 8: the recommended way to hand a secret to a container is a reference to it (a
/// file, a parameter, a secret name, a header or table name); such values under secret-like keys
/// were HIGH findings. A random-looking value under the same keys is still found.
#[test]
fn secret_references_under_secret_like_keys_are_quiet_real_values_are_not() {
    let d = Dir::new();
    let env = |pairs: &[(&str, &str)]| -> Value {
        pairs
            .iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect()
    };
    let quiet_env = env(&[
        ("POSTGRES_PASSWORD_FILE", "/run/secrets/postgres-password"),
        ("DB_PASSWORD_SECRET", "prod/payments/db-password"),
        // A secret's bare name, not a path: was a HIGH key-password finding.
        ("REPLICA_PASSWORD_SECRET", "db-password"),
        ("JWT_SECRET_KEY_FILE", "/etc/app/jwt.key"),
        ("PASSWORD_HASH_ALGO", "argon2id"),
        ("AUTH_TOKEN_HEADER", "X-Authorization-Token"),
        ("SECRET_MANAGER_REGION", "eu-west-1"),
    ]);
    let quiet = state_v4(json!([
        resource(
            "managed",
            "aws_ecs_task_definition",
            "t",
            json!({"id": "api", "family": "api", "container_definitions":
                json!([{"name": "api", "environment": quiet_env}]).to_string()}),
            json!([])
        ),
        resource(
            "managed",
            "kubernetes_deployment",
            "d",
            json!({"id": "default/api", "spec": [{"template": [{"spec": [{"container": [{"name": "api",
                "env": [{"name": "DB_PASSWORD_FILE", "value": "/var/run/secrets/db/password", "value_from": []},
                        {"name": "API_TOKEN_SECRET_NAME", "value": "api-token", "value_from": []}]}]}]}]}]}),
            json!([])
        ),
        resource(
            "managed",
            "aws_lambda_function",
            "f",
            json!({"id": "f", "environment": [{"variables": {
                "SECRET_ID": "prod/db", "TOKEN_TABLE": "auth-tokens-prod",
                "SIGNING_SECRET_PARAM": "/prod/signing-secret",
                "SESSION_SECRET_PARAMETER": "/prod/app/session-secret",
                "DB_PASSWORD_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"}}]}),
            json!([])
        ),
        resource(
            "managed",
            "aws_ssm_parameter",
            "p",
            json!({"id": "/app/db_password_secret", "name": "/app/db_password_secret",
                   "type": "String", "value": "prod/payments/db-password"}),
            json!([])
        ),
    ]));
    d.write("quiet.tfstate", quiet);
    let r = audit(&[&d.s("quiet.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 0, "references are not findings: {}", r.stdout);

    // The same keys holding values, not references.
    let v1 = random(ALNUM, 32);
    let v2 = random(ALNUM, 40);
    let v3 = plant(&format!("/{}", random(ALNUM, 24)));
    let v4 = random(ALNUM, 32);
    let gh = plant(&format!("ghp_{}", random(ALNUM, 36)));
    let v5 = random(ALNUM, 24);
    // Not random-looking, and still the OAuth 1 secret itself under this name.
    let v6 = plant(&format!("Summer{}-Tw!tter", random("0123456789", 4)));
    let loud = state_v4(json!([resource(
        "managed",
        "aws_lambda_function",
        "g",
        json!({"id": "g", "environment": [{"variables": {
            "DB_PASSWORD_FILE": v1,
            "API_TOKEN_HEADER": format!("Bearer {v2}"),
            "DB_PASSWORD": v3,
            "SIGNING_SECRET_PARAM": v4,
            "GITHUB_TOKEN_TABLE": gh,
            "DB_PASSWORD_SECRET": v5,
            "ACCESS_TOKEN_SECRET": v6}}]}),
        json!([])
    )]));
    d.write("loud.tfstate", loud);
    let r = audit(&[&d.s("loud.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1);
    let found = findings(&r);
    let rule_at = |k: &str| {
        found
            .iter()
            .find(|f| f["attribute_path"] == format!("environment[0].variables.{k}"))
            .map(|f| f["rule_id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{k} not found"))
    };
    assert_eq!(rule_at("DB_PASSWORD_FILE"), "key-password");
    // A Bearer credential is named by its content rule, whatever the key.
    assert_eq!(rule_at("API_TOKEN_HEADER"), "authorization-header");
    assert_eq!(
        rule_at("DB_PASSWORD"),
        "key-password",
        "a password that starts with /"
    );
    assert_eq!(rule_at("SIGNING_SECRET_PARAM"), "key-secret");
    assert_eq!(rule_at("GITHUB_TOKEN_TABLE"), "github-token");
    assert_eq!(rule_at("DB_PASSWORD_SECRET"), "key-password");
    assert_eq!(rule_at("ACCESS_TOKEN_SECRET"), "key-secret");
    let out = r.all();
    for v in [&v1, &v2, &v3, &v4, &gh, &v5, &v6] {
        assert!(!out.contains(v.as_str()));
    }
}

/// An AWS access key ID is the `id` of `aws_iam_access_key`: the key's identifier, reported in no
/// state layout (v4 attributes and flatmap, v3 `primary.id` and `primary.attributes.id`), while the
/// secret next to it is. The v3 positions were reported as HIGH aws-access-key-id.
#[test]
fn an_access_key_id_as_a_resource_id_is_not_reported_in_any_layout() {
    let d = Dir::new();
    let key_id = plant(&format!(
        "AKIA{}",
        random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    ));
    let secret = random(ALNUM, 40);
    d.write(
        "v4.tfstate",
        state_v4(json!([resource(
            "managed",
            "aws_iam_access_key",
            "ci",
            json!({"id": key_id, "user": "ci", "secret": secret, "status": "Active"}),
            json!([[{"type": "get_attr", "value": "secret"}]])
        )])),
    );
    d.write(
        "v3.tfstate",
        json!({"version": 3, "terraform_version": "0.11.14", "serial": 1, "lineage": "x", "modules": [
            {"path": ["root"], "outputs": {}, "depends_on": [], "resources": {
                "aws_iam_access_key.ci": {"type": "aws_iam_access_key", "depends_on": [], "provider": "provider.aws",
                    "primary": {"id": key_id, "attributes": {"id": key_id, "secret": secret, "user": "ci"},
                                "meta": {}, "tainted": false},
                    "deposed": []}}}]})
        .to_string(),
    );
    let values = json!({"id": key_id, "user": "ci", "secret": secret, "status": "Active"});
    let res = json!({"address": "aws_iam_access_key.ci", "mode": "managed", "type": "aws_iam_access_key",
        "name": "ci", "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
        "values": values, "sensitive_values": {"secret": true}});
    d.write(
        "show.json",
        json!({"format_version": "1.0", "terraform_version": "1.9.5",
               "values": {"root_module": {"resources": [res]}}})
        .to_string(),
    );
    d.write(
        "prod.plan.json",
        json!({"format_version": "1.2", "terraform_version": "1.9.5", "variables": {},
               "planned_values": {"root_module": {"resources": [res]}},
               "resource_changes": [{"address": "aws_iam_access_key.ci", "mode": "managed",
                   "type": "aws_iam_access_key", "name": "ci", "provider_name": "registry.terraform.io/hashicorp/aws",
                   "change": {"actions": ["no-op"], "before": values, "after": values,
                              "before_sensitive": {"secret": true}, "after_sensitive": {"secret": true}}}],
               "configuration": {"root_module": {}}})
        .to_string(),
    );
    for file in ["v4.tfstate", "v3.tfstate", "show.json", "prod.plan.json"] {
        let r = audit(&[&d.s(file), "--format", "json"]);
        assert_eq!(r.code, 1, "{file}: {}", r.stderr);
        let found = findings(&r);
        assert!(!found.is_empty(), "{file}: the secret is found");
        for f in &found {
            assert!(
                f["attribute_path"].as_str().unwrap().ends_with("secret"),
                "{file}: only the secret: {found:?}"
            );
        }
    }
}

/// Real-world fixtures (helper 71): the `key` of an S3 object (a data source or `aws_s3_object`)
/// is a path such as `builds/Team/prod/Handler.zip`; with capitals in it, its entropy passed the
/// plain-path safe-list's cap and key-generic-key reported it. A path of file-name segments that
/// ends in a file extension is a path whatever its entropy; a random value under `key` is still
/// reported.
#[test]
fn an_object_key_path_with_capitals_is_not_a_secret() {
    let d = Dir::new();
    let real = random(ALNUM, 32);
    let st = d.write(
        "terraform.tfstate",
        state_v4(json!([
            resource(
                "data",
                "aws_s3_object",
                "artifact",
                json!({"id": "o-1", "bucket": "builds",
                "key": "lambdas/BillingTeam/staging/ProcessS3Upload.zip"}),
                json!([])
            ),
            resource(
                "managed",
                "aws_s3_object",
                "cfg",
                json!({"id": "o-2", "bucket": "builds",
                "key": "Config/Prod-EU/Settings.Override.v2.json"}),
                json!([])
            ),
            resource(
                "managed",
                "example_thing",
                "k",
                json!({"id": "k-1", "key": real}),
                json!([])
            ),
        ])),
    );
    let r = audit(&[&st.display().to_string(), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let f = findings(&r);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["address"], "example_thing.k");
    assert!(!r.all().contains(&real), "leak");
}

/// The other side of `word_placeholders_in_table_rows_and_marks_are_passwords`: a provider or
/// backend block whose credentials are the word `test` (LocalStack's and moto's convention, seen
/// in public plan fixtures) authenticates to an emulator, not to a cloud; a real key there is
/// still found.
#[test]
fn emulator_words_as_provider_and_backend_credentials_are_quiet() {
    let d = Dir::new();
    let real = random(ALNUM, 40);
    let plan = |sk: &str| {
        json!({"format_version": "1.2", "terraform_version": "1.9.5",
          "planned_values": {"root_module": {}},
          "configuration": {"provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws",
            "expressions": {"region": {"constant_value": "us-east-1"}, "access_key": {"constant_value": "test"},
              "secret_key": {"constant_value": sk}}}},
            "root_module": {}}})
        .to_string()
    };
    d.write("emu/plan.json", plan("test"));
    d.write(
        "emu/.terraform/terraform.tfstate",
        json!({"version": 3, "terraform_version": "1.9.5", "backend": {"type": "s3", "config": {"bucket": "b",
            "access_key": "test", "secret_key": "test"}, "hash": 1},
               "modules": [{"path": ["root"], "outputs": {}, "resources": {}, "depends_on": []}]})
        .to_string(),
    );
    let r = audit(&[&d.s("emu"), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["summary"]["states_scanned"], 2, "{}", r.all());
    d.write("real/plan.json", plan(&real));
    let r = audit(&[&d.s("real"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let f = findings(&r);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["rule_id"], "attr.provider.aws.secret_key");
    assert!(!r.all().contains(&real), "leak");
}

/// Real-world fixtures (helper 71): an SSM parameter of type `String` holds configuration (an
/// ARN, a name), yet its literal in a plan's `configuration` was reported (the `type=SecureString`
/// condition was checked in values only), and so was the `aws_ssm_parameter` data source's value
/// in a state (its row had no condition at all). A `SecureString` in either place is still found,
/// and so is a literal whose `type` is not a constant.
#[test]
fn a_string_ssm_parameter_is_not_a_secret_in_configuration_or_data_sources() {
    let d = Dir::new();
    let sec = random(ALNUM, 24);
    let sec2 = random(ALNUM, 24);
    let sec3 = random(ALNUM, 24);
    let conf = |name: &str, ty: Value, value: &str| {
        json!({"address": format!("aws_ssm_parameter.{name}"), "mode": "managed", "type": "aws_ssm_parameter",
               "name": name, "provider_config_key": "aws",
               "expressions": {"name": {"constant_value": format!("/app/{name}")}, "type": ty,
                               "value": {"constant_value": value}}})
    };
    let plan = json!({"format_version": "1.2", "terraform_version": "1.9.5",
    "planned_values": {"root_module": {}},
    "configuration": {"root_module": {"resources": [
        conf("plain", json!({"constant_value": "String"}), "arn:aws:firehose:eu-west-1:123456789012:deliverystream/app-logs"),
        conf("secure", json!({"constant_value": "SecureString"}), &sec),
        conf("computed", json!({"references": ["var.param_type"]}), &sec2),
    ]}}});
    d.write("p/plan.json", plan.to_string());
    let data = |name: &str, ty: &str, value: &str| {
        resource(
            "data",
            "aws_ssm_parameter",
            name,
            json!({"id": format!("/app/{name}"),
            "name": format!("/app/{name}"), "type": ty, "value": value, "with_decryption": true}),
            json!([]),
        )
    };
    d.write(
        "p/terraform.tfstate",
        state_v4(json!([
            data(
                "plain",
                "String",
                "arn:aws:firehose:eu-west-1:123456789012:deliverystream/app-logs"
            ),
            data("secure", "SecureString", &sec3),
        ])),
    );
    let r = audit(&[&d.s("p"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let f = findings(&r);
    let at = |addr: &str| f.iter().filter(|x| x["address"] == addr).count();
    assert_eq!(at("aws_ssm_parameter.secure"), 1, "{f:?}");
    assert_eq!(at("aws_ssm_parameter.computed"), 1, "{f:?}");
    assert_eq!(at("data.aws_ssm_parameter.secure"), 1, "{f:?}");
    assert_eq!(f.len(), 3, "{f:?}");
    for s in [&sec, &sec2, &sec3] {
        assert!(!r.all().contains(s.as_str()), "leak");
    }
}
