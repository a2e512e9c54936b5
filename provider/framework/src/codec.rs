//! Value codecs: msgpack `DynamicValue` (what Terraform sends in every RPC)
//! and JSON (raw state in UpgradeResourceState / MoveResourceState).
//!
//! The msgpack encoding follows cty's: null is `nil`, an unknown value is any
//! extension (cty writes `fixext1` type 0; refined unknowns use other
//! extension types), objects are maps with every attribute present, numbers are
//! integers when integral and floats otherwise, and a `dynamic` value is a
//! two-element array `[type JSON bytes, value]`.
//!
//! Errors name the attribute path and what was expected; they never quote the
//! bytes they failed on.

use std::collections::BTreeMap;

use crate::path::{AttributePath, Step};
use crate::types::Type;
use crate::value::{Number, Value};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{}: {message}", if path.is_root() { "value".to_string() } else { path.to_string() })]
pub struct CodecError {
    pub path: AttributePath,
    pub message: String,
}

fn err(path: &[Step], message: impl Into<String>) -> CodecError {
    CodecError {
        path: AttributePath::from_steps(path.to_vec()),
        message: message.into(),
    }
}

/// Nesting deeper than this is refused: Terraform schemas are shallow, and a
/// hostile or corrupted message must not exhaust the stack.
const MAX_DEPTH: usize = 64;

// ---------------------------------------------------------------- msgpack

pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let mut path = Vec::new();
    let v = r.value(ty, &mut path)?;
    if r.pos != bytes.len() {
        return Err(err(&[], "trailing bytes after msgpack value"));
    }
    Ok(v)
}

pub fn encode_msgpack(v: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(128);
    let mut path = Vec::new();
    write_value(&mut out, v, ty, &mut path)?;
    Ok(out)
}

enum Head {
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(usize),
    Bin(usize),
    Array(usize),
    Map(usize),
    Ext(usize),
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, path: &[Step]) -> Result<&'a [u8], CodecError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(err(path, "truncated msgpack")),
        }
    }
    fn u8(&mut self, path: &[Step]) -> Result<u8, CodecError> {
        Ok(self.take(1, path)?[0])
    }
    fn be(&mut self, n: usize, path: &[Step]) -> Result<u64, CodecError> {
        Ok(self
            .take(n, path)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn head(&mut self, path: &[Step]) -> Result<Head, CodecError> {
        let b = self.u8(path)?;
        Ok(match b {
            0x00..=0x7f => Head::Int(i64::from(b)),
            0x80..=0x8f => Head::Map(usize::from(b & 0x0f)),
            0x90..=0x9f => Head::Array(usize::from(b & 0x0f)),
            0xa0..=0xbf => Head::Str(usize::from(b & 0x1f)),
            0xc0 => Head::Nil,
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4 => Head::Bin(self.be(1, path)? as usize),
            0xc5 => Head::Bin(self.be(2, path)? as usize),
            0xc6 => Head::Bin(self.be(4, path)? as usize),
            0xc7 => {
                let n = self.be(1, path)? as usize;
                Head::Ext(n + 1)
            }
            0xc8 => {
                let n = self.be(2, path)? as usize;
                Head::Ext(n + 1)
            }
            0xc9 => {
                let n = self.be(4, path)? as usize;
                Head::Ext(n + 1)
            }
            0xca | 0xcb => {
                let f = if b == 0xca {
                    f64::from(f32::from_bits(self.be(4, path)? as u32))
                } else {
                    f64::from_bits(self.be(8, path)?)
                };
                // cty numbers can be infinite but never NaN (Terraform cannot hold one).
                if f.is_nan() {
                    return Err(err(path, "a number cannot be NaN"));
                }
                Head::Float(f)
            }
            0xcc => Head::Uint(self.be(1, path)?),
            0xcd => Head::Uint(self.be(2, path)?),
            0xce => Head::Uint(self.be(4, path)?),
            0xcf => Head::Uint(self.be(8, path)?),
            0xd0 => Head::Int(i64::from(self.be(1, path)? as u8 as i8)),
            0xd1 => Head::Int(i64::from(self.be(2, path)? as u16 as i16)),
            0xd2 => Head::Int(i64::from(self.be(4, path)? as u32 as i32)),
            0xd3 => Head::Int(self.be(8, path)? as i64),
            0xd4 => Head::Ext(2),
            0xd5 => Head::Ext(3),
            0xd6 => Head::Ext(5),
            0xd7 => Head::Ext(9),
            0xd8 => Head::Ext(17),
            0xd9 => Head::Str(self.be(1, path)? as usize),
            0xda => Head::Str(self.be(2, path)? as usize),
            0xdb => Head::Str(self.be(4, path)? as usize),
            0xdc => Head::Array(self.be(2, path)? as usize),
            0xdd => Head::Array(self.be(4, path)? as usize),
            0xde => Head::Map(self.be(2, path)? as usize),
            0xdf => Head::Map(self.be(4, path)? as usize),
            0xe0..=0xff => Head::Int(i64::from(b as i8)),
            0xc1 => return Err(err(path, "invalid msgpack marker")),
        })
    }

    fn string(&mut self, n: usize, path: &[Step]) -> Result<String, CodecError> {
        let b = self.take(n, path)?;
        String::from_utf8(b.to_vec()).map_err(|_| err(path, "string is not valid UTF-8"))
    }

    /// A map key or other bare string.
    fn key(&mut self, path: &[Step]) -> Result<String, CodecError> {
        match self.head(path)? {
            Head::Str(n) => self.string(n, path),
            _ => Err(err(path, "map key must be a string")),
        }
    }

    fn value(&mut self, ty: &Type, path: &mut Vec<Step>) -> Result<Value, CodecError> {
        if path.len() > MAX_DEPTH {
            return Err(err(path, "value nested too deeply"));
        }
        let head = self.head(path)?;
        match head {
            Head::Nil => return Ok(Value::Null),
            Head::Ext(n) => {
                self.take(n, path)?;
                return Ok(Value::Unknown);
            }
            _ => {}
        }
        match ty {
            Type::Dynamic => {
                let Head::Array(2) = head else {
                    return Err(err(path, "dynamic value must be a [type, value] pair"));
                };
                let tjson = match self.head(path)? {
                    Head::Bin(n) | Head::Str(n) => self.take(n, path)?,
                    _ => return Err(err(path, "dynamic value type must be JSON bytes")),
                };
                let inner = Type::from_json_bytes(tjson).map_err(|e| err(path, e.to_string()))?;
                self.value(&inner, path)
            }
            Type::Bool => match head {
                Head::Bool(b) => Ok(Value::Bool(b)),
                _ => Err(err(path, "expected a bool")),
            },
            Type::Number => match head {
                Head::Int(i) => Ok(Value::Number(Number::Int(i))),
                Head::Uint(u) => Ok(Value::Number(match i64::try_from(u) {
                    Ok(i) => Number::Int(i),
                    Err(_) => Number::Big(u.to_string()),
                })),
                Head::Float(f) => Ok(Value::Number(Number::Float(f))),
                Head::Str(n) => {
                    let s = self.string(n, path)?;
                    parse_number_text(&s)
                        .map(Value::Number)
                        .ok_or_else(|| err(path, "expected a number"))
                }
                _ => Err(err(path, "expected a number")),
            },
            Type::String => match head {
                Head::Str(n) => Ok(Value::String(self.string(n, path)?)),
                _ => Err(err(path, "expected a string")),
            },
            Type::List(et) | Type::Set(et) => {
                let Head::Array(n) = head else {
                    return Err(err(path, format!("expected a {}", ty.friendly_name())));
                };
                let mut out = Vec::with_capacity(n.min(1024));
                for i in 0..n {
                    path.push(Step::Index(i as i64));
                    out.push(self.value(et, path)?);
                    path.pop();
                }
                Ok(if matches!(ty, Type::Set(_)) {
                    Value::Set(out)
                } else {
                    Value::List(out)
                })
            }
            Type::Tuple(ets) => {
                let Head::Array(n) = head else {
                    return Err(err(path, "expected a tuple"));
                };
                if n != ets.len() {
                    return Err(err(
                        path,
                        format!("expected a tuple of {} elements", ets.len()),
                    ));
                }
                let mut out = Vec::with_capacity(n);
                for (i, et) in ets.iter().enumerate() {
                    path.push(Step::Index(i as i64));
                    out.push(self.value(et, path)?);
                    path.pop();
                }
                Ok(Value::Tuple(out))
            }
            Type::Map(et) => {
                let Head::Map(n) = head else {
                    return Err(err(path, format!("expected a {}", ty.friendly_name())));
                };
                let mut out = BTreeMap::new();
                for _ in 0..n {
                    let k = self.key(path)?;
                    path.push(Step::Key(k.clone()));
                    let v = self.value(et, path)?;
                    path.pop();
                    out.insert(k, v);
                }
                Ok(Value::Map(out))
            }
            Type::Object(attrs) => {
                let Head::Map(n) = head else {
                    return Err(err(path, "expected an object"));
                };
                let mut out = BTreeMap::new();
                for _ in 0..n {
                    let k = self.key(path)?;
                    let Some(at) = attrs.get(&k) else {
                        return Err(err(path, format!("unsupported attribute {k:?}")));
                    };
                    path.push(Step::Attribute(k.clone()));
                    let v = self.value(at, path)?;
                    path.pop();
                    out.insert(k, v);
                }
                for name in attrs.keys() {
                    out.entry(name.clone()).or_insert(Value::Null);
                }
                Ok(Value::Object(out))
            }
        }
    }
}

/// Decodes msgpack whose type is not known in advance: maps become objects,
/// arrays tuples. For messages whose wrapping differs between clients.
pub fn decode_msgpack_untyped(bytes: &[u8]) -> Result<Value, CodecError> {
    fn go(r: &mut Reader<'_>, depth: usize) -> Result<Value, CodecError> {
        if depth > MAX_DEPTH {
            return Err(err(&[], "value nested too deeply"));
        }
        Ok(match r.head(&[])? {
            Head::Nil => Value::Null,
            Head::Ext(n) => {
                r.take(n, &[])?;
                Value::Unknown
            }
            Head::Bool(b) => Value::Bool(b),
            Head::Int(i) => Value::Number(Number::Int(i)),
            Head::Uint(u) => Value::Number(
                i64::try_from(u)
                    .map(Number::Int)
                    .unwrap_or(Number::Big(u.to_string())),
            ),
            Head::Float(f) => Value::Number(Number::Float(f)),
            Head::Str(n) | Head::Bin(n) => Value::String(r.string(n, &[])?),
            Head::Array(n) => {
                let mut v = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    v.push(go(r, depth + 1)?);
                }
                Value::Tuple(v)
            }
            Head::Map(n) => {
                let mut m = BTreeMap::new();
                for _ in 0..n {
                    let k = r.key(&[])?;
                    m.insert(k, go(r, depth + 1)?);
                }
                Value::Object(m)
            }
        })
    }
    let mut r = Reader { buf: bytes, pos: 0 };
    let v = go(&mut r, 0)?;
    if r.pos != bytes.len() {
        return Err(err(&[], "trailing bytes after msgpack value"));
    }
    Ok(v)
}

fn parse_number_text(s: &str) -> Option<Number> {
    if let Ok(i) = s.parse::<i64>() {
        return Some(Number::Int(i));
    }
    let f: f64 = s.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    // Keep the text when the float would lose digits.
    if format!("{f}") == s {
        Some(Number::Float(f))
    } else {
        Some(Number::Big(s.to_string()))
    }
}

fn write_len(
    out: &mut Vec<u8>,
    n: usize,
    fix: Option<(u8, usize)>,
    m8: Option<u8>,
    m16: u8,
    m32: u8,
) {
    if let Some((base, max)) = fix {
        if n <= max {
            out.push(base | n as u8);
            return;
        }
    }
    if let Some(m8) = m8 {
        if n <= 0xff {
            out.push(m8);
            out.push(n as u8);
            return;
        }
    }
    if n <= 0xffff {
        out.push(m16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(m32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_len(out, s.len(), Some((0xa0, 31)), Some(0xd9), 0xda, 0xdb);
    out.extend_from_slice(s.as_bytes());
}

fn write_bin(out: &mut Vec<u8>, b: &[u8]) {
    write_len(out, b.len(), None, Some(0xc4), 0xc5, 0xc6);
    out.extend_from_slice(b);
}

fn write_int(out: &mut Vec<u8>, i: i64) {
    if (0..=0x7f).contains(&i) {
        out.push(i as u8);
    } else if (-32..0).contains(&i) {
        out.push(i as i8 as u8);
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn write_value(
    out: &mut Vec<u8>,
    v: &Value,
    ty: &Type,
    path: &mut Vec<Step>,
) -> Result<(), CodecError> {
    if path.len() > MAX_DEPTH {
        return Err(err(path, "value nested too deeply"));
    }
    match v {
        Value::Null => {
            out.push(0xc0);
            return Ok(());
        }
        Value::Unknown => {
            out.extend_from_slice(&[0xd4, 0, 0]);
            return Ok(());
        }
        _ => {}
    }
    match (ty, v) {
        (Type::Dynamic, v) => {
            let inner = infer_type(v);
            out.push(0x92);
            write_bin(out, &inner.to_json_bytes());
            write_value(out, v, &inner, path)
        }
        (Type::Bool, Value::Bool(b)) => {
            out.push(if *b { 0xc3 } else { 0xc2 });
            Ok(())
        }
        (Type::Number, Value::Number(n)) => {
            match n {
                Number::Float(f) if f.is_nan() => {
                    return Err(err(path, "a number cannot be NaN"));
                }
                Number::Int(i) => write_int(out, *i),
                Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    write_int(out, *f as i64)
                }
                Number::Float(f) => {
                    out.push(0xcb);
                    out.extend_from_slice(&f.to_bits().to_be_bytes());
                }
                Number::Big(s) => write_str(out, s),
            }
            Ok(())
        }
        (Type::String, Value::String(s)) => {
            write_str(out, s);
            Ok(())
        }
        (Type::List(et) | Type::Set(et), Value::List(items) | Value::Set(items)) => {
            write_len(out, items.len(), Some((0x90, 15)), None, 0xdc, 0xdd);
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i as i64));
                write_value(out, item, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Tuple(ets), Value::Tuple(items) | Value::List(items))
            if ets.len() == items.len() =>
        {
            write_len(out, items.len(), Some((0x90, 15)), None, 0xdc, 0xdd);
            for (i, (item, et)) in items.iter().zip(ets).enumerate() {
                path.push(Step::Index(i as i64));
                write_value(out, item, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Map(et), Value::Map(m) | Value::Object(m)) => {
            write_len(out, m.len(), Some((0x80, 15)), None, 0xde, 0xdf);
            for (k, item) in m {
                write_str(out, k);
                path.push(Step::Key(k.clone()));
                write_value(out, item, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Object(attrs), Value::Object(m)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(err(
                    path,
                    format!("attribute {extra:?} is not in the schema"),
                ));
            }
            write_len(out, attrs.len(), Some((0x80, 15)), None, 0xde, 0xdf);
            for (name, at) in attrs {
                write_str(out, name);
                path.push(Step::Attribute(name.clone()));
                write_value(out, m.get(name).unwrap_or(&Value::Null), at, path)?;
                path.pop();
            }
            Ok(())
        }
        (ty, _) => Err(err(
            path,
            format!("value does not conform to type {}", ty.friendly_name()),
        )),
    }
}

/// The type of a value placed in a `dynamic` attribute.
fn infer_type(v: &Value) -> Type {
    match v {
        Value::Null | Value::Unknown => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(v) => Type::list(v.first().map(infer_type).unwrap_or(Type::Dynamic)),
        Value::Set(v) => Type::set(v.first().map(infer_type).unwrap_or(Type::Dynamic)),
        Value::Tuple(v) => Type::Tuple(v.iter().map(infer_type).collect()),
        Value::Map(m) => Type::map(m.values().next().map(infer_type).unwrap_or(Type::Dynamic)),
        Value::Object(m) => {
            Type::Object(m.iter().map(|(k, v)| (k.clone(), infer_type(v))).collect())
        }
    }
}

// ---------------------------------------------------------------- JSON

/// Decodes a JSON state object (raw state) against `ty`. Attributes the schema
/// does not know are dropped and reported in the second tuple element, so an
/// upgrade can say what it discarded (names only).
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<(Value, Vec<String>), CodecError> {
    let j: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        err(
            &[],
            format!("invalid JSON at line {} column {}", e.line(), e.column()),
        )
    })?;
    let mut dropped = Vec::new();
    let mut path = Vec::new();
    let v = from_json(&j, ty, &mut path, &mut dropped)?;
    Ok((v, dropped))
}

/// Converts an already-parsed JSON value (see [`decode_json`]).
pub fn from_json_value(
    j: &serde_json::Value,
    ty: &Type,
) -> Result<(Value, Vec<String>), CodecError> {
    let mut dropped = Vec::new();
    let mut path = Vec::new();
    let v = from_json(j, ty, &mut path, &mut dropped)?;
    Ok((v, dropped))
}

fn from_json(
    j: &serde_json::Value,
    ty: &Type,
    path: &mut Vec<Step>,
    dropped: &mut Vec<String>,
) -> Result<Value, CodecError> {
    use serde_json::Value as J;
    if path.len() > MAX_DEPTH {
        return Err(err(path, "value nested too deeply"));
    }
    if j.is_null() {
        return Ok(Value::Null);
    }
    match (ty, j) {
        (Type::Dynamic, J::Object(o))
            if o.contains_key("type") && o.contains_key("value") && o.len() == 2 =>
        {
            let inner = Type::from_json(&o["type"]).map_err(|e| err(path, e.to_string()))?;
            from_json(&o["value"], &inner, path, dropped)
        }
        (Type::Dynamic, _) => Ok(json_untyped(j)),
        (Type::Bool, J::Bool(b)) => Ok(Value::Bool(*b)),
        (Type::Bool, J::String(s)) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
        (Type::Number, J::Number(n)) => Ok(Value::Number(json_number(n))),
        (Type::Number, J::String(s)) => parse_number_text(s)
            .map(Value::Number)
            .ok_or_else(|| err(path, "expected a number")),
        (Type::String, J::String(s)) => Ok(Value::String(s.clone())),
        // Terraform's JSON state converts primitives to strings where the
        // schema says string.
        (Type::String, J::Number(n)) => Ok(Value::String(n.to_string())),
        (Type::String, J::Bool(b)) => Ok(Value::String(b.to_string())),
        (Type::List(et) | Type::Set(et), J::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i as i64));
                out.push(from_json(item, et, path, dropped)?);
                path.pop();
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            })
        }
        (Type::Tuple(ets), J::Array(items)) if ets.len() == items.len() => {
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, et)) in items.iter().zip(ets).enumerate() {
                path.push(Step::Index(i as i64));
                out.push(from_json(item, et, path, dropped)?);
                path.pop();
            }
            Ok(Value::Tuple(out))
        }
        (Type::Map(et), J::Object(o)) => {
            let mut out = BTreeMap::new();
            for (k, item) in o {
                path.push(Step::Key(k.clone()));
                out.insert(k.clone(), from_json(item, et, path, dropped)?);
                path.pop();
            }
            Ok(Value::Map(out))
        }
        (Type::Object(attrs), J::Object(o)) => {
            let mut out = BTreeMap::new();
            for (k, item) in o {
                let Some(at) = attrs.get(k) else {
                    let mut p = AttributePath::from_steps(path.clone());
                    p = p.then_attr(k);
                    dropped.push(p.to_string());
                    continue;
                };
                path.push(Step::Attribute(k.clone()));
                out.insert(k.clone(), from_json(item, at, path, dropped)?);
                path.pop();
            }
            for name in attrs.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        (ty, _) => Err(err(path, format!("expected a {}", ty.friendly_name()))),
    }
}

fn json_number(n: &serde_json::Number) -> Number {
    if let Some(i) = n.as_i64() {
        Number::Int(i)
    } else if let Some(f) = n.as_f64() {
        Number::Float(f)
    } else {
        Number::Big(n.to_string())
    }
}

fn json_untyped(j: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => Value::Number(json_number(n)),
        J::String(s) => Value::String(s.clone()),
        J::Array(a) => Value::Tuple(a.iter().map(json_untyped).collect()),
        J::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), json_untyped(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn schema_type() -> Type {
        Type::object([
            ("name", Type::String),
            ("count", Type::Number),
            ("on", Type::Bool),
            ("tags", Type::map(Type::String)),
            ("list", Type::list(Type::object([("region", Type::String)]))),
            ("set", Type::set(Type::String)),
            ("dyn", Type::Dynamic),
        ])
    }

    #[test]
    fn unknown_and_null_round_trip() {
        let ty = schema_type();
        let v = Value::object([
            ("name", Value::Unknown),
            ("count", Value::Number(Number::Int(-5))),
            ("on", Value::Null),
            (
                "tags",
                Value::Map([("a".to_string(), Value::string("b"))].into()),
            ),
            (
                "list",
                Value::List(vec![Value::object([(
                    "region",
                    Value::string("eu-west-1"),
                )])]),
            ),
            ("set", Value::Set(vec![Value::string("x")])),
            ("dyn", Value::string("dynamic!")),
        ]);
        let bytes = encode_msgpack(&v, &ty).unwrap();
        assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), v);
    }

    #[test]
    fn cty_unknown_encoding() {
        // cty writes unknown as fixext1 type 0 with one zero byte.
        assert_eq!(
            encode_msgpack(&Value::Unknown, &Type::String).unwrap(),
            vec![0xd4, 0, 0]
        );
        // Refined unknowns arrive as other extension types.
        assert_eq!(
            decode_msgpack(&[0xc7, 2, 12, 0x80, 0xc0], &Type::String).unwrap(),
            Value::Unknown
        );
        assert!(decode_msgpack(&[0xd4, 0, 0, 0xc0], &Type::String).is_err());
        assert_eq!(
            decode_msgpack(&[0xc7, 1, 12, 0x80], &Type::String).unwrap(),
            Value::Unknown
        );
    }

    #[test]
    fn missing_object_attributes_decode_as_null() {
        let ty = Type::object([("a", Type::String), ("b", Type::String)]);
        // {"a": "x"}
        let v = decode_msgpack(&[0x81, 0xa1, b'a', 0xa1, b'x'], &ty).unwrap();
        assert!(v.get("b").is_null());
        assert_eq!(v.get("a").as_str(), Some("x"));
    }

    #[test]
    fn errors_name_the_path_not_the_value() {
        let ty = Type::object([("value_wo", Type::Bool)]);
        let mut bytes = vec![0x81, 0xa8];
        bytes.extend_from_slice(b"value_wo");
        bytes.push(0xa6);
        bytes.extend_from_slice(b"s3cr3t");
        let e = decode_msgpack(&bytes, &ty).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("value_wo") && msg.contains("bool"), "{msg}");
        assert!(!msg.contains("s3cr3t"));
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let ty = schema_type();
        for bytes in [
            &[][..],
            &[0xdf, 0xff, 0xff, 0xff, 0xff][..],
            &[0xdb, 0xff, 0xff, 0xff, 0xff][..],
            &[0xc1][..],
            &[0x81, 0x01, 0xc0][..],
        ] {
            assert!(decode_msgpack(bytes, &ty).is_err());
        }
        // deeply nested arrays in a dynamic attribute
        let mut deep = vec![0x81, 0xa3, b'd', b'y', b'n', 0x92, 0xc4];
        let mut tj = String::new();
        for _ in 0..200 {
            tj.push_str(r#"["list","#);
        }
        tj.push_str(r#""string""#);
        for _ in 0..200 {
            tj.push(']');
        }
        deep.push(tj.len() as u8);
        deep.extend_from_slice(tj.as_bytes());
        deep.extend(std::iter::repeat_n(0x91, 200));
        deep.push(0xc0);
        assert!(decode_msgpack(&deep, &ty).is_err());
    }

    #[test]
    fn json_raw_state() {
        let ty = Type::object([
            ("arn", Type::String),
            ("recovery_window_in_days", Type::Number),
            ("tags", Type::map(Type::String)),
        ]);
        let (v, dropped) = decode_json(
            br#"{"arn":"a","recovery_window_in_days":7,"tags":null,"secret_string":"x"}"#,
            &ty,
        )
        .unwrap();
        assert_eq!(v.get("recovery_window_in_days").as_i64(), Some(7));
        assert!(v.get("tags").is_null());
        assert_eq!(dropped, vec!["secret_string".to_string()]);
    }

    #[test]
    fn nan_is_refused_both_ways() {
        let ty = Type::object([("n", Type::Number)]);
        for nan in [
            &[0xca, 0x7f, 0xc0, 0x00, 0x00][..],
            &[0xca, 0xff, 0xfb, 0x00, 0x00],
            &[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1],
        ] {
            let mut bytes = vec![0x81, 0xa1, b'n'];
            bytes.extend_from_slice(nan);
            let e = decode_msgpack(&bytes, &ty).unwrap_err();
            assert_eq!(e.to_string(), "n: a number cannot be NaN");
            assert!(decode_msgpack_untyped(&bytes).is_err());
        }
        let v = Value::Object(BTreeMap::from([(
            "n".to_string(),
            Value::Number(Number::Float(f64::NAN)),
        )]));
        let e = encode_msgpack(&v, &ty).unwrap_err();
        assert_eq!(e.to_string(), "n: a number cannot be NaN");
        // Infinities are numbers cty can hold: they still round-trip.
        let inf = Value::Object(BTreeMap::from([(
            "n".to_string(),
            Value::Number(Number::Float(f64::INFINITY)),
        )]));
        let bytes = encode_msgpack(&inf, &ty).unwrap();
        assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), inf);
    }

    fn arb_value() -> impl Strategy<Value = (Type, Value)> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(|b| (Type::Bool, Value::Bool(b))),
            any::<i64>().prop_map(|i| (Type::Number, Value::Number(Number::Int(i)))),
            (-1e12f64..1e12).prop_map(|f| (Type::Number, Value::Number(Number::Float(f)))),
            ".{0,40}".prop_map(|s| (Type::String, Value::String(s))),
            Just((Type::String, Value::Null)),
            Just((Type::String, Value::Unknown)),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(|items| {
                    let ty = Type::Tuple(items.iter().map(|(t, _)| t.clone()).collect());
                    (
                        ty,
                        Value::Tuple(items.into_iter().map(|(_, v)| v).collect()),
                    )
                }),
                prop::collection::btree_map("[a-z_]{1,8}", inner, 0..5).prop_map(|m| {
                    let ty =
                        Type::Object(m.iter().map(|(k, (t, _))| (k.clone(), t.clone())).collect());
                    (
                        ty,
                        Value::Object(m.into_iter().map(|(k, (_, v))| (k, v)).collect()),
                    )
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn msgpack_round_trip((ty, v) in arb_value()) {
            let bytes = encode_msgpack(&v, &ty).unwrap();
            prop_assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), v);
        }

        #[test]
        fn decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_msgpack(&bytes, &Type::Dynamic);
            let _ = decode_msgpack(&bytes, &Type::object([("a", Type::list(Type::String))]));
        }
    }
}
