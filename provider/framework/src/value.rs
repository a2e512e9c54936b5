//! Terraform values: known, null or unknown, with the shape of a [`Type`](crate::types::Type).
//!
//! A `Value` does not carry its type; the schema does. The codecs in
//! [`crate::codec`] take the type to decode and encode.
//!
//! `Debug` never prints string contents: config values include write-only
//! secrets, and a `{:?}` in a log line or a panic must not leak them.

use std::collections::BTreeMap;
use std::fmt;

use crate::path::{AttributePath, Step};

/// A Terraform number. cty numbers are arbitrary precision; msgpack carries
/// them as integers, floats, or decimal strings when they fit neither.
#[derive(Clone, Debug)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// A decimal that fits neither i64 nor f64 exactly, kept as its text.
    Big(String),
}

impl Number {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Number::Float(_) => None,
            Number::Big(s) => s.parse().ok(),
        }
    }
    pub fn as_f64(&self) -> f64 {
        match self {
            Number::Int(i) => *i as f64,
            Number::Float(f) => *f,
            Number::Big(s) => s.parse().unwrap_or(f64::NAN),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (Number::Big(a), Number::Big(b)) => a == b,
            _ => self.as_f64() == other.as_f64(),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
            Number::Big(s) => f.write_str(s),
        }
    }
}

#[derive(Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
}

static NULL: Value = Value::Null;

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    pub fn object<I, K>(attrs: I) -> Value
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<String>,
    {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
    /// A map of strings, or null when `m` is `None`.
    pub fn string_map<'a, I>(m: I) -> Value
    where
        I: IntoIterator<Item = (&'a String, &'a String)>,
    {
        Value::Map(
            m.into_iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }
    pub fn opt_string(s: Option<impl Into<String>>) -> Value {
        s.map(|s| Value::String(s.into())).unwrap_or(Value::Null)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }
    /// Set to a known value: neither null nor unknown. What a "conflicts with" or "X needs Y"
    /// check should count: in Terraform's validate walk every input variable is unknown, so an
    /// unknown argument may still turn out null. Terraform validates again at plan, with the
    /// values known.
    pub fn is_known_set(&self) -> bool {
        !matches!(self, Value::Null | Value::Unknown)
    }
    /// Known here and in every nested value.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// An attribute of an object; `Null` when the value is not an object or
    /// has no such attribute (absent and null are the same thing in Terraform).
    pub fn get(&self, name: &str) -> &Value {
        match self {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => m.get_mut(name),
            _ => None,
        }
    }
    /// Sets an attribute of an object value (no-op on anything else).
    pub fn set(&mut self, name: &str, v: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_string(), v);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }
    /// Elements of a list, set or tuple.
    pub fn elements(&self) -> &[Value] {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v,
            _ => &[],
        }
    }
    /// A map of known strings; unknown or non-string entries are skipped.
    pub fn as_string_map(&self) -> Option<BTreeMap<String, String>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The value at `path`, or `None` when a step does not exist.
    pub fn at(&self, path: &AttributePath) -> Option<&Value> {
        let mut cur = self;
        for step in path.steps() {
            cur = match (step, cur) {
                (Step::Attribute(a), Value::Object(m)) => m.get(a)?,
                (Step::Key(k), Value::Map(m)) => m.get(k)?,
                (Step::Index(i), Value::List(v) | Value::Tuple(v) | Value::Set(v)) => {
                    v.get(usize::try_from(*i).ok()?)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Unknown => f.write_str("(unknown)"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(_) => f.write_str("(number)"),
            // Strings are never printed: any of them may be a secret.
            Value::String(_) => f.write_str("(string)"),
            Value::List(v) => f.debug_list().entries(v).finish(),
            Value::Set(v) => {
                f.write_str("set")?;
                f.debug_list().entries(v).finish()
            }
            Value::Tuple(v) => {
                f.write_str("tuple")?;
                f.debug_list().entries(v).finish()
            }
            Value::Map(m) => {
                f.write_str("map")?;
                f.debug_map().entries(m.keys().map(|k| (k, "…"))).finish()
            }
            Value::Object(m) => f.debug_map().entries(m.iter()).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_strings() {
        let v = Value::object([
            ("value_wo", Value::string("hunter2-canary")),
            (
                "tags",
                Value::Map([("k".to_string(), Value::string("hunter2-canary"))].into()),
            ),
            ("n", Value::Number(Number::Int(42))),
        ]);
        let s = format!("{v:?} {v:#?}");
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("value_wo"));
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(Number::Int(3), Number::Float(3.0));
        assert_ne!(Number::Int(3), Number::Float(3.5));
        assert_eq!(Number::Float(7.0).as_i64(), Some(7));
    }

    #[test]
    fn get_on_absent_is_null() {
        let v = Value::object([("a", Value::Bool(true))]);
        assert!(v.get("missing").is_null());
        assert!(Value::Null.get("a").is_null());
    }
}
