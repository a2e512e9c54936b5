//! A panicking handler: a diagnostic without the panic's message, and the runtime's panic hook
//! printing neither the message nor the value (checked in a child process).

use super::*;

// ------------------------------------------------------------------------------------------
// a panicking handler

fn fallible(secret: &str) -> Result<(), String> {
    Err(secret.to_string())
}

struct Panicky {
    canary: String,
}

#[async_trait]
impl offstate_framework::Resource for Panicky {
    fn type_name(&self) -> &'static str {
        "panicky_thing"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("panics")
                .attribute(Attribute::optional("v", Type::String).sensitive())
                .attribute(Attribute::computed("id", Type::String)),
        )
    }
    async fn validate_config(&self, req: &ValidateConfigRequest<'_>) -> Diagnostics {
        panic!(
            "validate saw {} and {}",
            self.canary,
            req.config.get("v").as_str().unwrap_or("")
        );
    }
    async fn modify_plan(&self, _req: &ModifyPlanRequest<'_>, _resp: &mut ModifyPlanResponse) {
        // `unwrap()` on an error that holds the value: the classic leak.
        fallible(&self.canary).unwrap();
    }
    async fn create(&self, _req: &CreateRequest<'_>, _resp: &mut CreateResponse) {
        std::panic::panic_any(self.canary.clone());
    }
    async fn read(&self, _req: &ReadRequest<'_>, _resp: &mut ReadResponse) {
        panic!("{}", self.canary);
    }
    async fn update(&self, _req: &UpdateRequest<'_>, _resp: &mut UpdateResponse) {
        panic!("{}", self.canary);
    }
    async fn delete(&self, _req: &DeleteRequest<'_>, _resp: &mut DeleteResponse) {
        panic!("{}", self.canary);
    }
}

struct PanickyProvider {
    canary: String,
}

#[async_trait]
impl offstate_framework::Provider for PanickyProvider {
    fn type_name(&self) -> &'static str {
        "panicky"
    }
    fn schema(&self) -> Schema {
        Schema::new(0, Block::new("p"))
    }
    async fn configure(
        &self,
        _req: &offstate_framework::provider::ConfigureRequest<'_>,
    ) -> Diagnostics {
        panic!("configure {}", self.canary);
    }
    fn resources(&self) -> Vec<Arc<dyn offstate_framework::Resource>> {
        vec![Arc::new(Panicky {
            canary: self.canary.clone(),
        })]
    }
}

/// Drives every handler of the panicking provider; returns the answers' text.
async fn drive_panics(canary: &str) -> Vec<(&'static str, Answer)> {
    let svc = ProviderService::new(PanickyProvider {
        canary: canary.to_string(),
    });
    let t = Schema::new(
        0,
        Block::new("x")
            .attribute(Attribute::optional("v", Type::String))
            .attribute(Attribute::computed("id", Type::String)),
    )
    .value_type();
    let enc = |v: &Value| {
        Some(pb::DynamicValue {
            msgpack: encode_msgpack(v, &t).unwrap(),
            json: vec![],
        })
    };
    let cfg = Value::object([("v", Value::string(canary)), ("id", Value::Null)]);
    let state = Value::object([("v", Value::Null), ("id", Value::string("i"))]);
    let ty_name = "panicky_thing".to_string();
    let empty = Some(pb::DynamicValue {
        msgpack: encode_msgpack(
            &Value::Object(Default::default()),
            &Type::Object(Default::default()),
        )
        .unwrap(),
        json: vec![],
    });
    vec![
        (
            "ConfigureProvider",
            answer!(
                svc.configure_provider(Request::new(pb::configure_provider::Request {
                    terraform_version: "1.11.0".into(),
                    config: empty,
                    client_capabilities: caps(),
                }))
            ),
        ),
        (
            "ValidateResourceConfig",
            answer!(svc.validate_resource_config(Request::new(
                pb::validate_resource_config::Request {
                    type_name: ty_name.clone(),
                    config: enc(&cfg),
                    client_capabilities: caps(),
                }
            ))),
        ),
        (
            "PlanResourceChange",
            answer!(
                svc.plan_resource_change(Request::new(pb::plan_resource_change::Request {
                    type_name: ty_name.clone(),
                    prior_state: enc(&Value::Null),
                    proposed_new_state: enc(&cfg),
                    config: enc(&cfg),
                    client_capabilities: caps(),
                    ..Default::default()
                }))
            ),
        ),
        (
            "ApplyResourceChange",
            answer!(
                svc.apply_resource_change(Request::new(pb::apply_resource_change::Request {
                    type_name: ty_name.clone(),
                    prior_state: enc(&Value::Null),
                    planned_state: enc(&Value::object([
                        ("v", Value::string(canary)),
                        ("id", Value::Unknown)
                    ])),
                    config: enc(&cfg),
                    ..Default::default()
                }))
            ),
        ),
        (
            "ReadResource",
            answer!(svc.read_resource(Request::new(pb::read_resource::Request {
                type_name: ty_name.clone(),
                current_state: enc(&state),
                client_capabilities: caps(),
                ..Default::default()
            }))),
        ),
        (
            "ApplyResourceChange(delete)",
            answer!(
                svc.apply_resource_change(Request::new(pb::apply_resource_change::Request {
                    type_name: ty_name.clone(),
                    prior_state: enc(&state),
                    planned_state: enc(&Value::Null),
                    config: enc(&Value::Null),
                    ..Default::default()
                }))
            ),
        ),
    ]
}

#[tokio::test]
async fn a_panic_in_any_handler_is_a_diagnostic_without_its_message() {
    let c = canary();
    for (rpc, a) in drive_panics(&c).await {
        assert!(
            is_error(&a),
            "{rpc}: a panic must be an error diagnostic: {a:?}"
        );
        let t = text_of(&a);
        assert!(
            !t.contains(&c),
            "{rpc}: the diagnostic holds the panic message"
        );
        assert!(
            matches!(a, Answer::Diagnostics(_)),
            "{rpc}: a panic should be a diagnostic, not a gRPC status: {t}"
        );
    }
}

/// The child half of the next test: installs the runtime's panic hook and
/// panics in every handler. Does nothing unless run by that test.
#[tokio::test]
async fn panic_hook_child() {
    let Ok(c) = std::env::var("OFFSTATE_HOSTILE_PANIC_CHILD") else {
        return;
    };
    offstate_framework::runtime::install_redacting_panic_hook();
    let answers = drive_panics(&c).await;
    println!("answers: {}", answers.len());
}

#[test]
fn the_panic_hook_prints_neither_the_message_nor_the_value() {
    let c = canary();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "hostile::panics::panic_hook_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("OFFSTATE_HOSTILE_PANIC_CHILD", &c)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child failed: {}",
        stderr.replace(&c, "[CANARY]")
    );
    assert!(
        stdout.contains("answers: 6"),
        "child did not run the handlers"
    );
    assert!(
        !stderr.contains(&c) && !stdout.contains(&c),
        "the panic hook or a log printed the canary"
    );
    let withheld = stderr.matches("message withheld").count();
    assert!(
        withheld >= 6,
        "expected one redacted hook line per panic, got {withheld}: {stderr}"
    );
}
