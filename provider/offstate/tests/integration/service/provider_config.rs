//! The provider block: ValidateProviderConfig and ConfigureProvider diagnostics.

use super::*;

#[tokio::test]
async fn unknown_region_is_a_provider_diagnostic() {
    let h = harness();
    let pty = terraform_provider_offstate::provider::schema().value_type();
    let Type::Object(attrs) = pty.clone() else {
        unreachable!()
    };
    let mut c = Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect());
    c.set("region", Value::string("mars-north-1"));
    let r = h
        .svc
        .validate_provider_config(Request::new(pb::validate_provider_config::Request {
            config: dv(&c, &pty),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        errors(&r.diagnostics),
        vec![("region".to_string(), "Invalid AWS region".to_string())]
    );
}

/// ValidateProviderConfig of a provider block with `set` on top of all-null attributes: the
/// (attribute path, summary) of each error.
async fn provider_config_errors(set: &[(&str, Value)]) -> Vec<(String, String)> {
    let h = harness();
    let pty = terraform_provider_offstate::provider::schema().value_type();
    let Type::Object(attrs) = pty.clone() else {
        unreachable!()
    };
    let mut c = Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect());
    for (name, v) in set {
        c.set(name, v.clone());
    }
    let r = h
        .svc
        .validate_provider_config(Request::new(pb::validate_provider_config::Request {
            config: dv(&c, &pty),
        }))
        .await
        .unwrap()
        .into_inner();
    errors(&r.diagnostics)
}

fn string_set(items: &[&str]) -> Value {
    Value::Set(items.iter().map(|s| Value::string(*s)).collect())
}

/// The assume_role block with `set` on top of all-null attributes and a valid role ARN.
fn assume_role(set: &[(&str, Value)]) -> Value {
    let pty = terraform_provider_offstate::provider::schema().value_type();
    let Type::Object(attrs) = pty else {
        unreachable!()
    };
    let Type::Object(role_attrs) = attrs["assume_role"].clone() else {
        unreachable!()
    };
    let mut role = Value::Object(
        role_attrs
            .keys()
            .map(|k| (k.clone(), Value::Null))
            .collect(),
    );
    role.set(
        "role_arn",
        Value::string("arn:aws:iam::123456789012:role/deploy"),
    );
    for (name, v) in set {
        role.set(name, v.clone());
    }
    role
}

#[tokio::test]
async fn account_id_lists_are_checked() {
    let e = |p: &str, s: &str| (p.to_string(), s.to_string());
    assert_eq!(
        provider_config_errors(&[("allowed_account_ids", string_set(&["123456789012"]))]).await,
        vec![]
    );
    assert_eq!(
        provider_config_errors(&[(
            "forbidden_account_ids",
            string_set(&["123456789012", "000000000000"])
        )])
        .await,
        vec![]
    );
    assert_eq!(
        provider_config_errors(&[("allowed_account_ids", string_set(&["12345678901"]))]).await,
        vec![e("allowed_account_ids", "Invalid AWS account ID")]
    );
    assert_eq!(
        provider_config_errors(&[("forbidden_account_ids", string_set(&["12345678901x"]))]).await,
        vec![e("forbidden_account_ids", "Invalid AWS account ID")]
    );
    assert_eq!(
        provider_config_errors(&[
            ("allowed_account_ids", string_set(&["123456789012"])),
            ("forbidden_account_ids", string_set(&["210987654321"])),
        ])
        .await,
        vec![
            e("allowed_account_ids", "Conflicting account ID lists"),
            e("forbidden_account_ids", "Conflicting account ID lists"),
        ]
    );
    // An empty list is no list: no conflict.
    assert_eq!(
        provider_config_errors(&[
            ("allowed_account_ids", string_set(&["123456789012"])),
            ("forbidden_account_ids", string_set(&[])),
        ])
        .await,
        vec![]
    );
}

#[tokio::test]
async fn assume_role_session_arguments_are_checked() {
    let e = |p: &str, s: &str| (p.to_string(), s.to_string());
    let num = |n: i64| Value::Number(offstate_framework::value::Number::Int(n));
    let good = assume_role(&[
        ("duration_seconds", num(3600)),
        ("session_name", Value::string("ci@deploy-42_a+b=c,d.e-f")),
        ("external_id", Value::string("tenant:42/a_b+c=d,e.f@g-h")),
        (
            "policy",
            Value::string(r#"{"Version":"2012-10-17","Statement":[]}"#),
        ),
        (
            "policy_arns",
            string_set(&["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
        ),
        (
            "tags",
            Value::Map([("team".to_string(), Value::string("payments"))].into()),
        ),
    ]);
    assert_eq!(
        provider_config_errors(&[("assume_role", good)]).await,
        vec![]
    );
    for (set, path, summary) in [
        (
            ("duration_seconds", num(899)),
            "assume_role.duration_seconds",
            "Invalid session duration",
        ),
        (
            ("duration_seconds", num(43_201)),
            "assume_role.duration_seconds",
            "Invalid session duration",
        ),
        (
            ("session_name", Value::string("café-deploy")),
            "assume_role.session_name",
            "Invalid session name",
        ),
        (
            ("session_name", Value::string("x")),
            "assume_role.session_name",
            "Invalid session name",
        ),
        (
            ("session_name", Value::string("s".repeat(65))),
            "assume_role.session_name",
            "Invalid session name",
        ),
        (
            ("external_id", Value::string("has space")),
            "assume_role.external_id",
            "Invalid external ID",
        ),
        (
            ("external_id", Value::string("e".repeat(1225))),
            "assume_role.external_id",
            "Invalid external ID",
        ),
        (
            ("policy", Value::string("Allow everything")),
            "assume_role.policy",
            "Invalid session policy",
        ),
        (
            ("policy", Value::string("[]")),
            "assume_role.policy",
            "Invalid session policy",
        ),
        (
            (
                "policy_arns",
                string_set(&["arn:aws:iam::123456789012:role/x"]),
            ),
            "assume_role.policy_arns",
            "Invalid policy ARN",
        ),
    ] {
        assert_eq!(
            provider_config_errors(&[("assume_role", assume_role(std::slice::from_ref(&set)))])
                .await,
            vec![e(path, summary)],
            "{set:?}"
        );
    }
}

#[tokio::test]
async fn an_unknown_provider_setting_is_named_in_the_error() {
    let svc = ProviderService::new(OffstateProvider::default());
    let pty = terraform_provider_offstate::provider::schema().value_type();
    let mut c = object_of(&pty, &[("region", Value::string("eu-west-1"))]);
    c.set("endpoint", Value::Unknown);
    let r = svc
        .configure_provider(Request::new(pb::configure_provider::Request {
            config: dv(&c, &pty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        errors(&r.diagnostics),
        [(
            "endpoint".to_string(),
            "Provider configuration not known".to_string()
        )]
    );
}
