//! Schemas: attributes and nested blocks, their Terraform flags, and the
//! object type they describe. Built with small builders:
//!
//! ```
//! use offstate_framework::schema::{Attribute, Block, Schema};
//! use offstate_framework::types::Type;
//! let s = Schema::new(0, Block::new("A secret")
//!     .attribute(Attribute::required("name", Type::String).description("Name"))
//!     .attribute(Attribute::optional("value_wo", Type::String).sensitive().write_only()));
//! assert!(s.block.attribute_named("value_wo").unwrap().write_only);
//! ```

use crate::path::{AttributePath, Step};
use crate::types::Type;
use crate::value::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
    pub deprecated: bool,
}

impl Attribute {
    fn base(name: &str, ty: Type) -> Self {
        Attribute {
            name: name.to_string(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: false,
        }
    }
    pub fn required(name: &str, ty: Type) -> Self {
        Attribute {
            required: true,
            ..Self::base(name, ty)
        }
    }
    pub fn optional(name: &str, ty: Type) -> Self {
        Attribute {
            optional: true,
            ..Self::base(name, ty)
        }
    }
    pub fn computed(name: &str, ty: Type) -> Self {
        Attribute {
            computed: true,
            ..Self::base(name, ty)
        }
    }
    pub fn optional_computed(name: &str, ty: Type) -> Self {
        Attribute {
            optional: true,
            computed: true,
            ..Self::base(name, ty)
        }
    }
    pub fn description(mut self, d: &str) -> Self {
        self.description = d.to_string();
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Write-only: Terraform sends it in config and the framework nulls it in
    /// every state and plan it returns. Never computed (protocol rule).
    pub fn write_only(mut self) -> Self {
        assert!(
            !self.computed,
            "write-only attribute {} cannot be computed",
            self.name
        );
        self.write_only = true;
        self
    }
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
    Group,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NestedBlock {
    pub type_name: String,
    pub block: Block,
    pub nesting: Nesting,
    pub min_items: i64,
    pub max_items: i64,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub block_types: Vec<NestedBlock>,
    pub description: String,
    pub deprecated: bool,
}

impl Block {
    pub fn new(description: &str) -> Self {
        Block {
            description: description.to_string(),
            ..Default::default()
        }
    }
    pub fn attribute(mut self, a: Attribute) -> Self {
        debug_assert!(
            self.attribute_named(&a.name).is_none(),
            "duplicate attribute {}",
            a.name
        );
        self.attributes.push(a);
        self
    }
    pub fn block(
        mut self,
        type_name: &str,
        nesting: Nesting,
        block: Block,
        min_items: i64,
        max_items: i64,
    ) -> Self {
        if nesting == Nesting::Set {
            // Terraform: "NestingSet blocks may not contain WriteOnly attributes".
            assert!(
                !block.has_write_only(),
                "set-nested block {type_name} cannot hold write-only attributes"
            );
        }
        self.block_types.push(NestedBlock {
            type_name: type_name.to_string(),
            block,
            nesting,
            min_items,
            max_items,
        });
        self
    }
    pub fn attribute_named(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
    fn has_write_only(&self) -> bool {
        self.attributes.iter().any(|a| a.write_only)
            || self.block_types.iter().any(|b| b.block.has_write_only())
    }

    /// The object type of a value of this block.
    pub fn value_type(&self) -> Type {
        let mut attrs: std::collections::BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()))
            .collect();
        for b in &self.block_types {
            let inner = b.block.value_type();
            let t = match b.nesting {
                Nesting::Single | Nesting::Group => inner,
                Nesting::List => Type::list(inner),
                Nesting::Set => Type::set(inner),
                Nesting::Map => Type::map(inner),
            };
            attrs.insert(b.type_name.clone(), t);
        }
        Type::Object(attrs)
    }

    /// A value of this block with nothing in it, as Terraform holds a block left empty: every
    /// attribute null, a single nested block null, a group's attributes null inside it, list,
    /// set and map nested blocks empty (never null). A resource's import and read start from it.
    pub fn empty_value(&self) -> Value {
        let mut attrs: std::collections::BTreeMap<String, Value> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), Value::Null))
            .collect();
        for b in &self.block_types {
            let v = match b.nesting {
                Nesting::Single => Value::Null,
                Nesting::Group => b.block.empty_value(),
                Nesting::List => Value::List(Vec::new()),
                Nesting::Set => Value::Set(Vec::new()),
                Nesting::Map => Value::Map(Default::default()),
            };
            attrs.insert(b.type_name.clone(), v);
        }
        Value::Object(attrs)
    }

    /// Paths of write-only attributes that are set (non-null) in `v`.
    pub fn write_only_paths_set(&self, v: &Value) -> Vec<AttributePath> {
        let mut out = Vec::new();
        self.walk_write_only(v, &mut Vec::new(), &mut |p, val| {
            if !val.is_null() {
                out.push(AttributePath::from_steps(p.to_vec()));
            }
        });
        out
    }

    /// Sets every write-only attribute in `v` to null, in place. The framework
    /// calls this on every state and plan it sends back to Terraform.
    pub fn null_write_only(&self, v: &mut Value) {
        if !self.has_write_only() {
            return;
        }
        let Value::Object(m) = v else { return };
        for a in self.attributes.iter().filter(|a| a.write_only) {
            if let Some(slot) = m.get_mut(&a.name) {
                *slot = Value::Null;
            }
        }
        for b in &self.block_types {
            let Some(nested) = m.get_mut(&b.type_name) else {
                continue;
            };
            match nested {
                Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                    items.iter_mut().for_each(|i| b.block.null_write_only(i))
                }
                Value::Map(items) => items.values_mut().for_each(|i| b.block.null_write_only(i)),
                obj @ Value::Object(_) => b.block.null_write_only(obj),
                _ => {}
            }
        }
    }

    fn walk_write_only(&self, v: &Value, path: &mut Vec<Step>, f: &mut dyn FnMut(&[Step], &Value)) {
        for a in self.attributes.iter().filter(|a| a.write_only) {
            path.push(Step::Attribute(a.name.clone()));
            f(path, v.get(&a.name));
            path.pop();
        }
        for b in &self.block_types {
            path.push(Step::Attribute(b.type_name.clone()));
            match v.get(&b.type_name) {
                Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                    for (i, item) in items.iter().enumerate() {
                        path.push(Step::Index(i as i64));
                        b.block.walk_write_only(item, path, f);
                        path.pop();
                    }
                }
                Value::Map(items) => {
                    for (k, item) in items {
                        path.push(Step::Key(k.clone()));
                        b.block.walk_write_only(item, path, f);
                        path.pop();
                    }
                }
                obj @ Value::Object(_) => b.block.walk_write_only(obj, path, f),
                _ => {}
            }
            path.pop();
        }
    }

    /// Paths of computed attributes (top level) that are null in `config`:
    /// those the provider fills in.
    pub fn computed_unset(&self, config: &Value) -> Vec<String> {
        self.attributes
            .iter()
            .filter(|a| a.computed && config.get(&a.name).is_null())
            .map(|a| a.name.clone())
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Self {
        Schema { version, block }
    }
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
    /// [`Block::empty_value`] of the schema's block.
    pub fn empty_value(&self) -> Value {
        self.block.empty_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> Block {
        Block::new("t")
            .attribute(
                Attribute::optional("value_wo", Type::String)
                    .write_only()
                    .sensitive(),
            )
            .attribute(Attribute::computed("arn", Type::String))
            .block(
                "replica",
                Nesting::List,
                Block::new("r")
                    .attribute(Attribute::required("region", Type::String))
                    .attribute(Attribute::optional("token_wo", Type::String).write_only()),
                0,
                0,
            )
    }

    #[test]
    fn an_empty_value_has_null_attributes_and_empty_collections_of_blocks() {
        let b = block()
            .block("single", Nesting::Single, Block::new("s"), 0, 1)
            .block(
                "group",
                Nesting::Group,
                Block::new("g").attribute(Attribute::optional("x", Type::String)),
                0,
                0,
            )
            .block("set", Nesting::Set, Block::new("s"), 0, 0)
            .block("map", Nesting::Map, Block::new("m"), 0, 0);
        let v = b.empty_value();
        assert_eq!(v.get("value_wo"), &Value::Null);
        assert_eq!(v.get("arn"), &Value::Null);
        assert_eq!(v.get("replica"), &Value::List(Vec::new()));
        assert_eq!(v.get("single"), &Value::Null);
        assert_eq!(v.get("group"), &Value::object([("x", Value::Null)]));
        assert_eq!(v.get("set"), &Value::Set(Vec::new()));
        assert_eq!(v.get("map"), &Value::Map(Default::default()));
        // Conforms to the block's type: one member per attribute and block, no more.
        let (Value::Object(m), Type::Object(t)) = (&v, b.value_type()) else {
            panic!("an object")
        };
        assert!(m.keys().eq(t.keys()));
    }

    #[test]
    fn nulls_nested_write_only() {
        let b = block();
        let mut v = Value::object([
            ("value_wo", Value::string("s")),
            ("arn", Value::string("a")),
            (
                "replica",
                Value::List(vec![Value::object([
                    ("region", Value::string("r")),
                    ("token_wo", Value::string("t")),
                ])]),
            ),
        ]);
        let set = b.write_only_paths_set(&v);
        assert_eq!(
            set.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            vec!["value_wo", "replica[0].token_wo"]
        );
        b.null_write_only(&mut v);
        assert!(v.get("value_wo").is_null());
        assert!(v.get("replica").elements()[0].get("token_wo").is_null());
        assert_eq!(v.get("arn").as_str(), Some("a"));
        assert!(b.write_only_paths_set(&v).is_empty());
    }

    #[test]
    #[should_panic(expected = "cannot hold write-only")]
    fn write_only_not_allowed_in_sets() {
        let _ = Block::new("t").block(
            "s",
            Nesting::Set,
            Block::new("").attribute(Attribute::optional("x", Type::String).write_only()),
            0,
            0,
        );
    }
}
