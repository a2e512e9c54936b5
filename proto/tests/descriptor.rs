//! Checks the compiled descriptor against field numbers that Terraform's own
//! `tfplugin6.proto` (v1.14.x) and go-plugin's protos define. A wrong number
//! here would be silently ignored on the wire, so each one that matters to
//! offstate is pinned.

use offstate_proto::{tfplugin6, FILE_DESCRIPTOR_SET};
use prost::Message;
use prost_types::{
    field_descriptor_proto::{Label, Type},
    DescriptorProto, FileDescriptorProto, FileDescriptorSet,
};

fn file(name: &str) -> FileDescriptorProto {
    let set = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("descriptor set decodes");
    set.file
        .into_iter()
        .find(|f| f.name() == name)
        .unwrap_or_else(|| panic!("{name} is in the descriptor set"))
}

/// Finds a (possibly nested) message by a dotted path such as
/// `Schema.Attribute`.
fn message<'a>(file: &'a FileDescriptorProto, path: &str) -> &'a DescriptorProto {
    let mut parts = path.split('.');
    let first = parts.next().unwrap();
    let mut msg = file
        .message_type
        .iter()
        .find(|m| m.name() == first)
        .unwrap_or_else(|| panic!("message {first}"));
    for part in parts {
        msg = msg
            .nested_type
            .iter()
            .find(|m| m.name() == part)
            .unwrap_or_else(|| panic!("message {path}"));
    }
    msg
}

fn number(file: &FileDescriptorProto, path: &str) -> i32 {
    let (msg, field) = path.rsplit_once('.').unwrap();
    message(file, msg)
        .field
        .iter()
        .find(|f| f.name() == field)
        .unwrap_or_else(|| panic!("field {path}"))
        .number()
}

#[test]
fn tfplugin6_field_numbers_match_upstream() {
    let f = file("tfplugin6.proto");
    assert_eq!(f.package(), "tfplugin6");
    let cases: &[(&str, i32)] = &[
        ("DynamicValue.msgpack", 1),
        ("DynamicValue.json", 2),
        ("Diagnostic.attribute", 4),
        ("Schema.Attribute.nested_type", 10),
        ("Schema.Attribute.sensitive", 7),
        ("Schema.Attribute.write_only", 11),
        ("ClientCapabilities.deferral_allowed", 1),
        ("ClientCapabilities.write_only_attributes_allowed", 2),
        ("ServerCapabilities.move_resource_state", 3),
        ("ServerCapabilities.generate_resource_config", 4),
        ("ValidateProviderConfig.Response.diagnostics", 2),
        ("ValidateResourceConfig.Request.client_capabilities", 3),
        ("GetProviderSchema.Response.diagnostics", 4),
        ("GetProviderSchema.Response.functions", 7),
        ("GetProviderSchema.Response.ephemeral_resource_schemas", 8),
        ("GetProviderSchema.Response.list_resource_schemas", 9),
        ("GetProviderSchema.Response.action_schemas", 11),
        ("ReadResource.Request.current_identity", 6),
        ("ReadResource.Response.new_identity", 5),
        ("PlanResourceChange.Request.prior_identity", 8),
        ("PlanResourceChange.Response.planned_identity", 7),
        ("ApplyResourceChange.Request.planned_identity", 7),
        ("ApplyResourceChange.Response.new_identity", 5),
        ("ImportResourceState.Request.identity", 4),
        ("MoveResourceState.Request.source_identity", 7),
        (
            "MoveResourceState.Request.source_identity_schema_version",
            8,
        ),
        ("MoveResourceState.Response.target_identity", 4),
        ("OpenEphemeralResource.Response.private", 4),
        ("ListResource.Request.limit", 4),
        ("ListResource.Event.diagnostic", 4),
        ("GetMetadata.Response.actions", 9),
    ];
    for (path, want) in cases {
        assert_eq!(number(&f, path), *want, "{path}");
    }
}

#[test]
fn proto3_optional_and_streaming_shapes_match_upstream() {
    let f = file("tfplugin6.proto");
    let renew_at = message(&f, "OpenEphemeralResource.Response")
        .field
        .iter()
        .find(|x| x.name() == "renew_at")
        .unwrap();
    assert!(renew_at.proto3_optional());
    assert_eq!(renew_at.type_name(), ".google.protobuf.Timestamp");

    let steps = message(&f, "AttributePath")
        .field
        .iter()
        .find(|x| x.name() == "steps")
        .unwrap();
    assert_eq!(steps.label(), Label::Repeated);
    assert_eq!(steps.r#type(), Type::Message);

    let service = f.service.iter().find(|s| s.name() == "Provider").unwrap();
    let streaming: Vec<&str> = service
        .method
        .iter()
        .filter(|m| m.server_streaming())
        .map(|m| m.name())
        .collect();
    assert_eq!(streaming, ["ListResource", "InvokeAction"]);
    assert!(service.method.iter().all(|m| !m.client_streaming()));
    assert_eq!(service.method.len(), 32);
}

#[test]
fn go_plugin_services_match_upstream() {
    let c = file("grpc_controller.proto");
    assert_eq!(c.package(), "plugin");
    let svc = &c.service[0];
    assert_eq!(svc.name(), "GRPCController");
    assert_eq!(svc.method[0].name(), "Shutdown");
    assert_eq!(svc.method[0].input_type(), ".plugin.Empty");

    let s = file("grpc_stdio.proto");
    let svc = &s.service[0];
    assert_eq!(svc.name(), "GRPCStdio");
    assert_eq!(svc.method[0].name(), "StreamStdio");
    assert_eq!(svc.method[0].input_type(), ".google.protobuf.Empty");
    assert!(svc.method[0].server_streaming());
    assert_eq!(number(&s, "StdioData.channel"), 1);
    assert_eq!(number(&s, "StdioData.data"), 2);
}

#[test]
fn value_carriers_debug_print_sizes_only() {
    let canary = "canary-7f3a".to_string();
    let value = tfplugin6::DynamicValue {
        msgpack: canary.clone().into_bytes(),
        json: Vec::new(),
    };
    let raw = tfplugin6::RawState {
        json: canary.clone().into_bytes(),
        flatmap: [("password".to_string(), canary.clone())].into(),
    };
    let request = tfplugin6::plan_resource_change::Request {
        config: Some(value.clone()),
        ..Default::default()
    };
    for printed in [
        format!("{value:?}"),
        format!("{raw:?}"),
        format!("{request:?}"),
        format!("{request:#?}"),
    ] {
        assert!(!printed.contains(&canary), "{printed}");
        // Byte values would show as a list of numbers.
        assert!(!printed.contains("99, 97, 110"), "{printed}");
    }
    assert_eq!(
        format!("{value:?}"),
        "DynamicValue { msgpack: <11 bytes>, json: <0 bytes> }"
    );
}
