//! Attribute paths: where in a resource a diagnostic or a replacement applies.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    Attribute(String),
    /// A map key. Keys are configuration, not values, so printing them is fine.
    Key(String),
    Index(i64),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AttributePath(Vec<Step>);

impl AttributePath {
    pub fn root() -> Self {
        AttributePath(Vec::new())
    }
    /// `AttributePath::attr("name")`: a top-level attribute.
    pub fn attr(name: &str) -> Self {
        AttributePath(vec![Step::Attribute(name.to_string())])
    }
    pub fn then_attr(mut self, name: &str) -> Self {
        self.0.push(Step::Attribute(name.to_string()));
        self
    }
    pub fn then_key(mut self, key: &str) -> Self {
        self.0.push(Step::Key(key.to_string()));
        self
    }
    pub fn then_index(mut self, i: i64) -> Self {
        self.0.push(Step::Index(i));
        self
    }
    pub fn steps(&self) -> &[Step] {
        &self.0
    }
    pub fn from_steps(steps: Vec<Step>) -> Self {
        AttributePath(steps)
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Step::Attribute(a) if i == 0 => f.write_str(a)?,
                Step::Attribute(a) => write!(f, ".{a}")?,
                Step::Key(k) => write!(f, "[{k:?}]")?,
                Step::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let p = AttributePath::attr("replica")
            .then_index(0)
            .then_attr("region");
        assert_eq!(p.to_string(), "replica[0].region");
        assert_eq!(
            AttributePath::attr("tags").then_key("env").to_string(),
            r#"tags["env"]"#
        );
    }
}
