//! Terraform's type system (cty types) and their JSON encoding.
//!
//! The JSON encoding is the one Terraform uses in `Schema.Attribute.type` and in
//! the first element of a msgpack-encoded dynamic value: `"string"`,
//! `["list","string"]`, `["object",{"a":"bool"}]`, `"dynamic"`, ...

use std::collections::BTreeMap;
use std::fmt;

/// A Terraform type.
#[derive(Clone, PartialEq, Eq)]
pub enum Type {
    Bool,
    Number,
    String,
    /// `DynamicPseudoType`: any type, decided by the value.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid type JSON: {0}")]
pub struct TypeJsonError(String);

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }
    pub fn object<I, K>(attrs: I) -> Type
    where
        I: IntoIterator<Item = (K, Type)>,
        K: Into<String>,
    {
        Type::Object(attrs.into_iter().map(|(k, t)| (k.into(), t)).collect())
    }

    /// The JSON encoding Terraform expects in schemas.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Type::Bool => J::from("bool"),
            Type::Number => J::from("number"),
            Type::String => J::from("string"),
            Type::Dynamic => J::from("dynamic"),
            Type::List(t) => J::Array(vec![J::from("list"), t.to_json()]),
            Type::Set(t) => J::Array(vec![J::from("set"), t.to_json()]),
            Type::Map(t) => J::Array(vec![J::from("map"), t.to_json()]),
            Type::Object(attrs) => J::Array(vec![
                J::from("object"),
                J::Object(
                    attrs
                        .iter()
                        .map(|(k, t)| (k.clone(), t.to_json()))
                        .collect(),
                ),
            ]),
            Type::Tuple(elems) => J::Array(vec![
                J::from("tuple"),
                J::Array(elems.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_json()).expect("type JSON always serialises")
    }

    pub fn from_json(v: &serde_json::Value) -> Result<Type, TypeJsonError> {
        use serde_json::Value as J;
        match v {
            J::String(s) => match s.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(TypeJsonError(format!("unknown primitive type {other:?}"))),
            },
            J::Array(parts) if parts.len() == 2 => {
                let kind = parts[0]
                    .as_str()
                    .ok_or_else(|| TypeJsonError("type kind is not a string".into()))?;
                match kind {
                    "list" => Ok(Type::list(Type::from_json(&parts[1])?)),
                    "set" => Ok(Type::set(Type::from_json(&parts[1])?)),
                    "map" => Ok(Type::map(Type::from_json(&parts[1])?)),
                    "object" => {
                        let attrs = parts[1].as_object().ok_or_else(|| {
                            TypeJsonError("object attributes must be a map".into())
                        })?;
                        let mut out = BTreeMap::new();
                        for (k, t) in attrs {
                            out.insert(k.clone(), Type::from_json(t)?);
                        }
                        Ok(Type::Object(out))
                    }
                    "tuple" => {
                        let elems = parts[1]
                            .as_array()
                            .ok_or_else(|| TypeJsonError("tuple elements must be a list".into()))?;
                        Ok(Type::Tuple(
                            elems
                                .iter()
                                .map(Type::from_json)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    other => Err(TypeJsonError(format!("unknown type kind {other:?}"))),
                }
            }
            // ["object", {...}, ["optional", ...]] carries optional attribute
            // markers; only type constraints use it, never values.
            J::Array(parts) if parts.len() == 3 && parts[0] == "object" => {
                Type::from_json(&J::Array(parts[..2].to_vec()))
            }
            _ => Err(TypeJsonError("unrecognised type encoding".into())),
        }
    }

    pub fn from_json_bytes(b: &[u8]) -> Result<Type, TypeJsonError> {
        let v: serde_json::Value =
            serde_json::from_slice(b).map_err(|e| TypeJsonError(e.to_string()))?;
        Type::from_json(&v)
    }

    /// A short, human name for diagnostics ("string", "list of string", ...).
    pub fn friendly_name(&self) -> String {
        match self {
            Type::Bool => "bool".into(),
            Type::Number => "number".into(),
            Type::String => "string".into(),
            Type::Dynamic => "any".into(),
            Type::List(t) => format!("list of {}", t.friendly_name()),
            Type::Set(t) => format!("set of {}", t.friendly_name()),
            Type::Map(t) => format!("map of {}", t.friendly_name()),
            Type::Object(_) => "object".into(),
            Type::Tuple(_) => "tuple".into(),
        }
    }
}

impl fmt::Debug for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let cases = [
            Type::String,
            Type::map(Type::String),
            Type::list(Type::object([
                ("a", Type::Bool),
                ("b", Type::set(Type::Number)),
            ])),
            Type::Tuple(vec![Type::String, Type::Dynamic]),
        ];
        for t in cases {
            let j = t.to_json_bytes();
            assert_eq!(Type::from_json_bytes(&j).unwrap(), t);
        }
        assert_eq!(
            String::from_utf8(Type::map(Type::String).to_json_bytes()).unwrap(),
            r#"["map","string"]"#
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(Type::from_json_bytes(br#""strng""#).is_err());
        assert!(Type::from_json_bytes(br#"["list"]"#).is_err());
        assert!(Type::from_json_bytes(b"{}").is_err());
    }
}
