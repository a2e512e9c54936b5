//! ValidateResourceConfig and the checks before a call: a bad argument is a diagnostic on it.

use super::*;

/// A trigger is stored in plan and state: one that is the value, or a digest of it as
/// Terraform's functions compute it, is refused on `value_wo_version`; any other is fine.
#[tokio::test]
async fn a_trigger_derived_from_the_value_is_refused() {
    use base64::Engine;
    let h = harness();
    let value = "Tr1gger-canary-5c1d9e";
    let bytes = value.as_bytes();
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let sha256 = <sha2::Sha256 as sha2::Digest>::digest(bytes);
    let sha512 = <sha2::Sha512 as sha2::Digest>::digest(bytes);
    let derived = [
        value.to_string(),
        hex(&<md5::Md5 as md5::Digest>::digest(bytes)),
        hex(&<sha1::Sha1 as sha1::Digest>::digest(bytes)).to_uppercase(),
        hex(&sha256),
        hex(&sha512),
        b64(&sha256),
        b64(&sha512),
    ];
    for trigger in &derived {
        let errs = h.validate(&config("app/db", value, trigger), true).await;
        assert_eq!(
            errs,
            vec![(
                "value_wo_version".to_string(),
                "value_wo_version is derived from the value".to_string()
            )],
            "{trigger}"
        );
    }
    // binary_wo: a digest of the decoded bytes or of the base64 text.
    let raw = [0u8, 1, 2, 250, 251, 252];
    let text = b64(&raw);
    for trigger in [
        hex(&<sha2::Sha256 as sha2::Digest>::digest(raw)),
        hex(&<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())),
    ] {
        let mut c = config("app/bin", "x", &trigger);
        c.set("value_wo", Value::Null);
        c.set("binary_wo", Value::string(&text));
        let errs = h.validate(&c, true).await;
        assert_eq!(errs.len(), 1, "{trigger}: {errs:?}");
        assert_eq!(errs[0].0, "value_wo_version");
    }
    for fine in [
        "1",
        "2026-11-25",
        &hex(&<sha2::Sha256 as sha2::Digest>::digest(b"other")),
    ] {
        assert!(
            h.validate(&config("app/db", value, fine), true)
                .await
                .is_empty(),
            "{fine}"
        );
    }
}

#[tokio::test]
async fn bad_input_is_a_diagnostic_on_the_attribute() {
    let h = harness();
    let base = config("app/db", "x", "1");
    let with = |k: &str, v: Value| {
        let mut c = base.clone();
        c.set(k, v);
        c
    };
    let num = |n: i64| Value::Number(offstate_framework::value::Number::Int(n));
    let cases = vec![
        (
            with("name", Value::string("bad name!")),
            "name",
            "Invalid secret name",
        ),
        (
            with("name", Value::string("a".repeat(513))),
            "name",
            "Invalid secret name",
        ),
        (
            with("name", Value::string("")),
            "name",
            "Invalid secret name",
        ),
        (
            with("name_prefix", Value::string("pre-")),
            "name_prefix",
            "Conflicting configuration arguments",
        ),
        (
            with("recovery_window_in_days", num(3)),
            "recovery_window_in_days",
            "Invalid recovery window",
        ),
        (
            with("recovery_window_in_days", num(31)),
            "recovery_window_in_days",
            "Invalid recovery window",
        ),
        (
            with("value_wo_version", Value::Null),
            "value_wo_version",
            "Missing required argument",
        ),
        (
            with("value_wo", Value::string("v".repeat(65_537))),
            "value_wo",
            "Secret value too large",
        ),
    ];
    for (c, attr, summary) in cases {
        let errs = h.validate(&c, true).await;
        assert!(
            errs.iter().any(|(p, s)| p == attr && s == summary),
            "expected {summary:?} at {attr}, got {errs:?}"
        );
    }
    for ok in [0, 7, 30] {
        assert!(h
            .validate(&with("recovery_window_in_days", num(ok)), true)
            .await
            .is_empty());
    }
}

#[tokio::test]
async fn a_bad_value_is_refused_before_anything_changes() {
    let h = harness();
    let mut c = config("app/binary", &canary(), "1");
    // Known at validate time: an error on the argument it came from.
    c.set("value_wo", Value::Null);
    c.set("binary_wo", Value::string("not base64!"));
    assert_eq!(
        h.validate(&c, true).await,
        [("binary_wo".to_string(), "Invalid binary_wo".to_string())]
    );
    c.set("binary_wo", Value::string(""));
    assert_eq!(
        h.validate(&c, true).await,
        [("binary_wo".to_string(), "Empty secret value".to_string())]
    );
    // Known only at apply (it was unknown at plan): the update fails with
    // nothing changed, not after the description and tags went through.
    let state = h.create(&config("app/binary", &canary(), "1")).await;
    let mut c2 = config("app/binary", &canary(), "2");
    c2.set("value_wo", Value::Null);
    c2.set("binary_wo", Value::Unknown);
    c2.set("description", Value::string("changed"));
    let planned = undv(&h.plan(&state, &c2).await.planned_state, &h.ty);
    c2.set("binary_wo", Value::string("not base64!"));
    let before = h.store.calls().len();
    let applied = h.apply(&state, &planned, &c2).await;
    assert_eq!(
        errors(&applied.diagnostics),
        [("binary_wo".to_string(), "Invalid binary_wo".to_string())]
    );
    let calls = h.store.calls();
    assert!(
        calls[before..].iter().all(|c| *c == "describe"),
        "{:?}",
        &calls[before..]
    );
    assert_eq!(undv(&applied.new_state, &h.ty), state);
}

#[tokio::test]
async fn a_bad_generated_name_points_at_name_prefix() {
    let h = harness();
    let mut c = config("unused", &canary(), "1");
    c.set("name", Value::Null);
    c.set("name_prefix", Value::string("bad prefix "));
    let plan = h.plan(&Value::Null, &c).await;
    let applied = h
        .apply(&Value::Null, &undv(&plan.planned_state, &h.ty), &c)
        .await;
    let errs = errors(&applied.diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "name_prefix");
}

#[tokio::test]
async fn unknown_arguments_are_no_conflict_in_the_validate_walk() {
    // In `terraform validate` (and the validate walk before every plan) each
    // input variable is unknown: `a = var.a` and `b = var.b` may well leave one
    // of them null at plan, when Terraform validates again with known values.
    use offstate_framework::datasource::{DataSource as _, EphemeralResource as _};
    use terraform_provider_offstate::{data, ephemeral, rotation};
    let h = harness();
    let u = Value::Unknown;

    let mut c = obj(&[("name", u.clone()), ("name_prefix", u.clone())]);
    c.set("value_wo", u.clone());
    c.set("binary_wo", u.clone());
    assert_eq!(h.validate(&c, true).await, []);
    let c = obj(&[("name", Value::string("a")), ("value_wo", u.clone())]);
    assert_eq!(
        h.validate(&c, true).await,
        [],
        "value_wo may be null at plan"
    );
    // Known values still conflict.
    let c = obj(&[
        ("name", Value::string("a")),
        ("name_prefix", Value::string("b")),
    ]);
    assert_eq!(
        h.validate(&c, true).await,
        [(
            "name_prefix".to_string(),
            "Conflicting configuration arguments".to_string()
        )]
    );

    let rot = rotation::schema().value_type();
    let c = rotation_config(
        "app/db",
        &[
            ("automatically_after_days", u.clone()),
            ("schedule_expression", u.clone()),
        ],
    );
    let r = h
        .svc
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "offstate_secret_rotation".into(),
            config: dv(&c, &rot),
            client_capabilities: caps(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&r.diagnostics), []);

    let handle = || h.handle();
    let eph = ephemeral::SecretValueEphemeral::new(handle())
        .schema()
        .value_type();
    let c = object_of(
        &eph,
        &[
            ("secret_id", Value::string("app/db")),
            ("version_id", u.clone()),
            ("version_stage", u.clone()),
        ],
    );
    let r = h
        .svc
        .validate_ephemeral_resource_config(Request::new(
            pb::validate_ephemeral_resource_config::Request {
                type_name: "offstate_secret_value".into(),
                config: dv(&c, &eph),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&r.diagnostics), []);

    let ds = data::SecretData::new(handle()).schema().value_type();
    let c = object_of(&ds, &[("arn", u.clone()), ("name", u.clone())]);
    let r = h
        .svc
        .validate_data_resource_config(Request::new(pb::validate_data_resource_config::Request {
            type_name: "offstate_secret".into(),
            config: dv(&c, &ds),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&r.diagnostics), []);
}

/// Every argument but the value is stored in plan and state: a value equal to one of them (the
/// name, the description, a tag value or key) is refused on the value's attribute, naming the
/// argument and never the value; a tag key that is the value is not shown in a path either.
#[tokio::test]
async fn a_value_equal_to_another_argument_is_refused() {
    let h = harness();
    let value = "Same-canary-8d41c2";
    let tags = |k: &str, v: &str| Value::Map(BTreeMap::from([(k.to_string(), Value::string(v))]));
    let cases = [
        ("name", Value::string(value), "name"),
        ("description", Value::string(value), "description"),
        ("tags", tags("team", value), "tags[\"team\"]"),
        ("tags", tags(value, "x"), "a key of tags"),
        ("tags", tags(value, value), "a key of tags, tags[...]"),
    ];
    for (k, v, named) in cases {
        let mut c = config("app/db", value, "1");
        c.set(k, v);
        let r = h
            .svc
            .validate_resource_config(Request::new(pb::validate_resource_config::Request {
                type_name: TYPE.into(),
                config: dv(&c, &h.ty),
                client_capabilities: Some(pb::ClientCapabilities {
                    deferral_allowed: false,
                    write_only_attributes_allowed: true,
                }),
            }))
            .await
            .unwrap()
            .into_inner();
        let text = format!("{:?}", r.diagnostics);
        assert!(!text.contains(value), "{k}: the value is not shown");
        assert_eq!(r.diagnostics.len(), 1, "{k}");
        assert!(
            r.diagnostics[0]
                .detail
                .contains(&format!("The value equals or appears in {named}, which")),
            "{k}: {}",
            r.diagnostics[0].detail
        );
    }
    // binary_wo: its base64 text as the description.
    let mut c = config("app/bin", "x", "1");
    c.set("value_wo", Value::Null);
    c.set("binary_wo", Value::string("AAEC+vv8"));
    c.set("description", Value::string("AAEC+vv8"));
    assert_eq!(
        h.validate(&c, true).await,
        vec![(
            "binary_wo".to_string(),
            "The value is also given as another argument".to_string()
        )]
    );
    // A value of 8 bytes or more inside another argument is refused too; a shorter one (a
    // coincidence: "prod" in "prod-db") and another argument inside the value are fine.
    let mut c = config("app/db", value, "1");
    c.set("description", Value::string(format!("password: {value}!")));
    assert_eq!(h.validate(&c, true).await.len(), 1);
    let mut c = config("app/db", "Pw-4567", "1");
    c.set("description", Value::string("Pw-4567 is seven bytes"));
    assert!(h.validate(&c, true).await.is_empty());
    let mut c = config("app/db", "app/db-password-1", "1");
    c.set("description", Value::string("app/db"));
    assert!(h.validate(&c, true).await.is_empty());
}

/// The provider's default_tags reach tags_all, in plan and state in plain text: a value equal to
/// one (the harness's `team = payments`) is refused at plan on value_wo, naming the tag and not
/// the value, unless a tag of the resource's own overrides it.
#[tokio::test]
async fn a_value_among_the_default_tags_is_refused_at_plan() {
    let h = harness();
    let plan = h
        .plan(&Value::Null, &config("app/dt", "payments", "1"))
        .await;
    assert_eq!(
        errors(&plan.diagnostics),
        vec![(
            "value_wo".to_string(),
            "The value is also given as another argument".to_string()
        )]
    );
    assert!(
        plan.diagnostics[0]
            .detail
            .contains("the provider's default_tags[\"team\"]"),
        "the detail names the default tag"
    );
    assert!(!format!("{:?}", plan.diagnostics).contains("payments"));
    // Overridden by the resource's own tag: default_tags' value is not stored.
    let mut c = config("app/dt", "payments", "1");
    c.set(
        "tags",
        Value::Map(BTreeMap::from([("team".to_string(), Value::string("web"))])),
    );
    let plan = h.plan(&Value::Null, &c).await;
    assert_eq!(errors(&plan.diagnostics), vec![]);
    // A tag of the resource's own set to null (`team = var.team`, no team given) sets no tag:
    // the default applies, in tags_all, and is checked.
    let mut c = config("app/dt", "payments", "1");
    c.set(
        "tags",
        Value::Map(BTreeMap::from([("team".to_string(), Value::Null)])),
    );
    let plan = h.plan(&Value::Null, &c).await;
    assert_eq!(
        errors(&plan.diagnostics),
        vec![(
            "value_wo".to_string(),
            "The value is also given as another argument".to_string()
        )]
    );
    let mut c = config("app/dt", &canary(), "1");
    c.set(
        "tags",
        Value::Map(BTreeMap::from([("team".to_string(), Value::Null)])),
    );
    let plan = h.plan(&Value::Null, &c).await;
    assert_eq!(errors(&plan.diagnostics), vec![]);
    let planned = undv(&plan.planned_state, &h.ty);
    assert_eq!(
        planned.get("tags_all").as_string_map().unwrap_or_default(),
        BTreeMap::from([("team".to_string(), "payments".to_string())])
    );
}

/// The password settings of `generate` and of `ephemeral "offstate_password"` are checked at
/// validate even with another setting unknown (an input variable in the validate walk): all were
/// skipped then, and `length = 5000` with `special = var.x` passed validate.
#[tokio::test]
async fn known_password_settings_are_checked_with_another_unknown() {
    use offstate_framework::datasource::EphemeralResource as _;
    use terraform_provider_offstate::ephemeral::PasswordEphemeral;
    let h = harness();
    let num = |n: i64| Value::Number(offstate_framework::value::Number::Int(n));
    let mut g = generate_block(5000);
    g.set("special", Value::Unknown);
    let c = obj(&[("name", Value::string("a")), ("generate", g.clone())]);
    assert_eq!(
        h.validate(&c, true).await,
        [("generate.length".to_string(), "Invalid number".to_string())]
    );
    g.set("length", num(4));
    g.set("min_lower", num(3));
    g.set("min_upper", num(3));
    let c = obj(&[("name", Value::string("a")), ("generate", g.clone())]);
    assert_eq!(
        h.validate(&c, true).await,
        [(
            "generate".to_string(),
            "Impossible password settings".to_string()
        )]
    );
    g.set("length", Value::Unknown);
    let c = obj(&[("name", Value::string("a")), ("generate", g)]);
    assert_eq!(
        h.validate(&c, true).await,
        [],
        "the length may be 6 or more"
    );

    let ty = PasswordEphemeral.schema().value_type();
    let validate = |c: Value| {
        let ty = ty.clone();
        let h = &h;
        async move {
            let r = h
                .svc
                .validate_ephemeral_resource_config(Request::new(
                    pb::validate_ephemeral_resource_config::Request {
                        type_name: "offstate_password".into(),
                        config: dv(&c, &ty),
                    },
                ))
                .await
                .unwrap()
                .into_inner();
            errors(&r.diagnostics)
        }
    };
    let c = object_of(
        &ty,
        &[
            ("numeric", Value::Bool(false)),
            ("min_numeric", num(2)),
            ("length", Value::Unknown),
        ],
    );
    assert_eq!(
        validate(c).await,
        [(
            "min_numeric".to_string(),
            "Impossible password settings".to_string()
        )]
    );
    let c = object_of(&ty, &[("numeric", Value::Unknown), ("min_numeric", num(2))]);
    assert_eq!(validate(c).await, []);
}
