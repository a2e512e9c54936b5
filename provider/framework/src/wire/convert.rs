//! Conversions between protocol messages and the framework's domain types.
//! Nothing outside `wire` sees a prost type.

use offstate_proto::tfplugin6 as pb;

use crate::codec::{self, CodecError};
use crate::diagnostics::{Diagnostic, Diagnostics, Severity};
use crate::path::{AttributePath, Step};
use crate::resource::ClientCapabilities;
use crate::schema::{Attribute, Block, Nesting, Schema};
use crate::types::Type;
use crate::value::Value;

pub fn schema(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block(&s.block, s.version)),
    }
}

fn block(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute).collect(),
        block_types: b
            .block_types
            .iter()
            .map(|nb| pb::schema::NestedBlock {
                type_name: nb.type_name.clone(),
                block: Some(block(&nb.block, version)),
                nesting: nesting(nb.nesting) as i32,
                min_items: nb.min_items,
                max_items: nb.max_items,
            })
            .collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: b.deprecated,
    }
}

fn nesting(n: Nesting) -> pb::schema::nested_block::NestingMode {
    use pb::schema::nested_block::NestingMode as M;
    match n {
        Nesting::Single => M::Single,
        Nesting::List => M::List,
        Nesting::Set => M::Set,
        Nesting::Map => M::Map,
        Nesting::Group => M::Group,
    }
}

fn attribute(a: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: a.ty.to_json_bytes(),
        nested_type: None,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: a.deprecated,
        write_only: a.write_only,
    }
}

pub fn path(p: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: p
            .steps()
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    Step::Attribute(a) => Selector::AttributeName(a.clone()),
                    Step::Key(k) => Selector::ElementKeyString(k.clone()),
                    Step::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub fn diagnostic(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        // Defence in depth: a credential the provider registered never leaves in a diagnostic,
        // even inside a message a server or proxy echoed back.
        summary: crate::withheld::scrub(&d.summary).into_owned(),
        detail: crate::withheld::scrub(&d.detail).into_owned(),
        attribute: d.attribute.as_ref().map(path),
    }
}

pub fn diagnostics(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.iter().map(diagnostic).collect()
}

pub fn capabilities(c: Option<&pb::ClientCapabilities>) -> ClientCapabilities {
    // An older client sends nothing: it can do none of it.
    c.map(|c| ClientCapabilities {
        deferral_allowed: c.deferral_allowed,
        write_only_attributes_allowed: c.write_only_attributes_allowed,
    })
    .unwrap_or_default()
}

/// Decodes a DynamicValue (msgpack, or JSON when that is what was sent).
/// An absent value is null.
pub fn decode(v: Option<&pb::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostic> {
    let Some(v) = v else { return Ok(Value::Null) };
    let res: Result<Value, CodecError> = if !v.msgpack.is_empty() {
        codec::decode_msgpack(&v.msgpack, ty)
    } else if !v.json.is_empty() {
        codec::decode_json(&v.json, ty).map(|(v, _)| v)
    } else {
        Ok(Value::Null)
    };
    res.map_err(|e| {
        let d = Diagnostic::error(
            format!("Invalid {what}"),
            format!(
                "The provider could not decode the {what} sent by Terraform: {}.",
                e.message
            ),
        );
        if e.path.is_root() {
            d
        } else {
            d.at(e.path)
        }
    })
}

pub fn encode(v: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostic> {
    codec::encode_msgpack(v, ty)
        .map(|msgpack| pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| {
            Diagnostic::error(
                "Provider produced a value it cannot encode",
                format!("This is a bug in the provider: {e}. Please report it."),
            )
        })
}

/// The raw state as JSON. Flatmap state (Terraform 0.11 and older) is
/// turned into a flat JSON object; nothing in offstate ever wrote one.
pub fn raw_state_json(raw: Option<&pb::RawState>) -> Result<serde_json::Value, Diagnostic> {
    let Some(raw) = raw else {
        return Ok(serde_json::Value::Null);
    };
    if !raw.json.is_empty() {
        return serde_json::from_slice(&raw.json).map_err(|e| {
            Diagnostic::error(
                "Invalid stored state",
                format!(
                    "The stored state is not valid JSON (line {}, column {}).",
                    e.line(),
                    e.column()
                ),
            )
        });
    }
    Ok(serde_json::Value::Object(
        raw.flatmap
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    ))
}

/// The configuration of a `list` block. Depending on the client it arrives
/// as the `config { ... }` block's object or wrapped with the list block's
/// own arguments; accept both, keeping only attributes of `ty`.
pub fn decode_list_config(v: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, Diagnostic> {
    if let Ok(v) = decode(v, ty, "list configuration") {
        return Ok(v);
    }
    let raw = v.map(|d| d.msgpack.as_slice()).unwrap_or_default();
    let untyped = codec::decode_msgpack_untyped(raw)
        .map_err(|e| Diagnostic::error("Invalid list configuration", format!("{e}.")))?;
    let inner = match untyped.get("config") {
        Value::Null => &untyped,
        c => c,
    };
    let Type::Object(attrs) = ty else {
        return Ok(Value::Null);
    };
    Ok(Value::Object(
        attrs
            .keys()
            .map(|k| (k.clone(), inner.get(k).clone()))
            .collect(),
    ))
}

pub fn identity_schema(i: &crate::resource::IdentitySchema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: i.version,
        identity_attributes: i
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.clone(),
                r#type: a.ty.to_json_bytes(),
                required_for_import: a.required_for_import,
                optional_for_import: a.optional_for_import,
                description: a.description.clone(),
            })
            .collect(),
    }
}

pub fn function(d: &crate::datasource::FunctionDefinition) -> pb::Function {
    fn parameter(p: &crate::datasource::Parameter) -> pb::function::Parameter {
        pb::function::Parameter {
            name: p.name.clone(),
            r#type: p.ty.to_json_bytes(),
            allow_null_value: p.allow_null,
            allow_unknown_values: false,
            description: p.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
        }
    }
    pb::Function {
        parameters: d.parameters.iter().map(parameter).collect(),
        variadic_parameter: d.variadic_parameter.as_ref().map(parameter),
        r#return: Some(pb::function::Return {
            r#type: d.return_type.to_json_bytes(),
        }),
        summary: d.summary.clone(),
        description: d.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_sent_to_terraform_are_scrubbed() {
        let token = "cnry-diag-token-0a1b2c3d4e5f";
        crate::withheld::withhold(token);
        let d = Diagnostic::error(
            format!("summary {token}"),
            format!("STS said: AccessDenied token={token}"),
        );
        let pb = diagnostic(&d);
        assert!(
            !pb.summary.contains(token) && !pb.detail.contains(token),
            "{pb:?}"
        );
        assert!(pb.detail.contains(crate::withheld::MASK));
    }
}
