//! Deterministic Secrets Manager names for scrubbed values:
//! `PREFIX/<module path>/<type>.<name>@<key>/<attribute path>`, sanitised to the characters
//! Secrets Manager accepts (ASCII letters, digits, `/_+=.@-`; `offstate_common::name`).
//!
//! Why `@` for index keys: `[`, `]` and `"` are not name characters, and `@` cannot occur in a
//! Terraform identifier, so `db@eu` cannot collide with a resource named `db-eu`. When
//! sanitising has to drop information (a map key with spaces, a very long path), a short digest of
//! the address and path (never of the value) is appended so distinct locations keep distinct
//! names.
//!
//! Keys are escaped where a character of theirs would read as structure: `/` (a segment), `+`
//! (`+deposed-`) and, in an attribute path, `.` (a step) become `=2F`, `=2B`, `=2E`, and `=`
//! itself `=3D`. Without that, `data["b.c"]` and `data["b"]["c"]` were both `data.b.c`, one
//! secret for two values. Identifiers never hold these characters, so names of keys without
//! them are what they were (restore reads names from the references and the manifest, never
//! derives them: states scrubbed before keep restoring whatever their names).

use offstate_common::name::{is_name_char, looks_like_arn_suffix, validate_name, MAX_NAME_LEN};
use sha2::{Digest, Sha256};

/// The default template. Empty parts (the module path of the root module) are dropped together
/// with their separator.
pub const DEFAULT_TEMPLATE: &str = "{prefix}/{module}/{resource}/{attribute}";

/// What a name is made of. All fields are addresses and paths, never values.
#[derive(Debug, Clone, Default)]
pub struct NameParts<'a> {
    pub prefix: &'a str,
    /// `module.a["x"].module.b`, empty for the root module.
    pub module: &'a str,
    /// `managed`, `data`, `output`.
    pub mode: &'a str,
    pub resource_type: &'a str,
    pub name: &'a str,
    /// Index key as in an address: `0` or `"eu"`.
    pub index_key: Option<&'a str>,
    pub deposed: Option<&'a str>,
    /// Attribute path in Terraform notation: `a[0].b`.
    pub attribute: &'a str,
    pub lineage: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("--name-template has an unknown placeholder {{{0}}} (known: prefix, module, resource, type, name, key, attribute, lineage)")]
    UnknownPlaceholder(String),
    #[error("--name-template has an unclosed `{{`")]
    Unclosed,
    #[error("the secret name template gives an empty name")]
    Empty,
}

/// Turn an index key as written in an address (`0`, `"eu-1"`) into name characters: `/`, `+`
/// and `=` escaped ([`escape_key`]). A `.` is no structure after `@` (type and name hold none),
/// so `"example.com"` keeps its name.
fn key_part(key: &str) -> String {
    escape_key(key.trim_matches('"'), "/+=")
}

/// A map key of an attribute path (`["b.c"]`): `.` escaped too, as it separates the steps.
fn attribute_key_part(key: &str) -> String {
    escape_key(key.trim_matches('"'), "./+=")
}

/// `c` of `special` as `=XX` (its byte, in upper-case hex: all of them are ASCII). `=` is always
/// among them, so an escape reads one way only.
fn escape_key(key: &str, special: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        if special.contains(c) {
            out.push_str(&format!("={:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// `module.a["x"].module.b` → `module.a@x/module.b`.
fn module_part(module: &str) -> String {
    let mut out = String::new();
    let mut rest = module;
    while !rest.is_empty() {
        // Each step is `module.NAME` optionally followed by `[KEY]`, separated by `.`.
        let step_end = find_step_end(rest);
        let step = &rest[..step_end];
        if !out.is_empty() {
            out.push('/');
        }
        match step.find('[') {
            Some(i) if step.ends_with(']') => {
                out.push_str(&step[..i]);
                out.push('@');
                out.push_str(&key_part(&step[i + 1..step.len() - 1]));
            }
            _ => out.push_str(step),
        }
        rest = rest[step_end..]
            .strip_prefix('.')
            .unwrap_or(&rest[step_end..]);
    }
    out
}

/// End of one `module.NAME[KEY]` step: the `.module.` that follows, outside any quotes.
fn find_step_end(s: &str) -> usize {
    let b = s.as_bytes();
    let mut in_str = false;
    let mut i = 0;
    // Skip the leading `module.`.
    if s.starts_with("module.") {
        i = "module.".len();
    }
    while i < b.len() {
        match b[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'.' if !in_str && s[i..].starts_with(".module.") => return i,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

fn resource_part(p: &NameParts<'_>) -> String {
    // A finding outside a resource has no type: `check.terraform_data.app` (a failed condition's
    // message), not `check..terraform_data.app`.
    let typed = |mode: &str| match (mode, p.resource_type) {
        ("", "") => p.name.to_string(),
        ("", t) => format!("{t}.{}", p.name),
        (m, "") => format!("{m}.{}", p.name),
        (m, t) => format!("{m}.{t}.{}", p.name),
    };
    let mut s = match p.mode {
        "output" => format!("output.{}", p.name),
        "managed" | "" => typed(""),
        other => typed(other),
    };
    if let Some(k) = p.index_key {
        s.push('@');
        s.push_str(&key_part(k));
    }
    if let Some(d) = p.deposed {
        s.push_str("+deposed-");
        s.push_str(d);
    }
    s
}

/// `a[0].b["k"]` → `a.0.b.k`.
fn attribute_part(attr: &str) -> String {
    let mut out = String::with_capacity(attr.len());
    let mut chars = attr.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                if !out.is_empty() {
                    out.push('.');
                }
                let mut key = String::new();
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    key.push(c);
                }
                out.push_str(&attribute_key_part(&key));
            }
            c => out.push(c),
        }
    }
    out
}

/// Render a name from `template`, then sanitise and validate it.
pub fn secret_name(template: &str, p: &NameParts<'_>) -> Result<String, NameError> {
    let mut raw = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        raw.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let j = after.find('}').ok_or(NameError::Unclosed)?;
        let key = &after[..j];
        let value = match key {
            "prefix" => p.prefix.to_string(),
            "module" => module_part(p.module),
            "resource" => resource_part(p),
            "type" => p.resource_type.to_string(),
            "name" => p.name.to_string(),
            "key" => p.index_key.map(key_part).unwrap_or_default(),
            "attribute" => attribute_part(p.attribute),
            "lineage" => p.lineage.to_string(),
            other => return Err(NameError::UnknownPlaceholder(other.to_string())),
        };
        raw.push_str(&value);
        rest = &after[j + 1..];
    }
    raw.push_str(rest);

    // Collapse empty segments (root module, empty attribute path).
    let joined: Vec<&str> = raw.split('/').filter(|s| !s.is_empty()).collect();
    let joined = joined.join("/");
    if joined.is_empty() {
        return Err(NameError::Empty);
    }
    let mut lossy = false;
    let mut name: String = joined
        .chars()
        .map(|c| {
            if is_name_char(c) {
                c
            } else {
                lossy = true;
                '_'
            }
        })
        .collect();
    const DIGEST_LEN: usize = 9; // "-" + 8 hex
    if name.len() > MAX_NAME_LEN {
        lossy = true;
        name.truncate(MAX_NAME_LEN - DIGEST_LEN);
    }
    if lossy || looks_like_arn_suffix(&name) {
        let mut h = Sha256::new();
        for part in [p.module, p.mode, p.resource_type, p.name, p.attribute] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        h.update(p.index_key.unwrap_or("").as_bytes());
        h.update(p.deposed.unwrap_or("").as_bytes());
        let d = h.finalize();
        name.push('-');
        name.push_str(&crate::finding::hex(&d[..4]));
    }
    validate_name(&name).map_err(|_| NameError::Empty)?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(module: &'a str, key: Option<&'a str>, attr: &'a str) -> NameParts<'a> {
        NameParts {
            prefix: "prod/payments",
            module,
            mode: "managed",
            resource_type: "aws_db_instance",
            name: "main",
            index_key: key,
            deposed: None,
            attribute: attr,
            lineage: "l-1",
        }
    }

    #[test]
    fn names_follow_the_address() {
        let cases: &[(&str, Option<&str>, &str, &str)] = &[
            (
                "",
                None,
                "password",
                "prod/payments/aws_db_instance.main/password",
            ),
            (
                "module.db[\"eu-1\"].module.inner",
                Some("0"),
                "password",
                "prod/payments/module.db@eu-1/module.inner/aws_db_instance.main@0/password",
            ),
            (
                "module.db",
                Some("\"blue\""),
                "opts[0].master_password",
                "prod/payments/module.db/aws_db_instance.main@blue/opts.0.master_password",
            ),
        ];
        for (module, key, attr, want) in cases {
            let got = secret_name(DEFAULT_TEMPLATE, &parts(module, *key, attr)).unwrap();
            assert_eq!(&got, want);
            validate_name(&got).unwrap();
        }
    }

    #[test]
    fn lossy_names_get_a_location_digest() {
        let a = secret_name(DEFAULT_TEMPLATE, &parts("", Some("\"a b\""), "password")).unwrap();
        let b = secret_name(DEFAULT_TEMPLATE, &parts("", Some("\"a:b\""), "password")).unwrap();
        assert!(a.starts_with("prod/payments/aws_db_instance.main@a_b/password-"));
        assert_ne!(a, b);
        let long = "x".repeat(600);
        let n = secret_name(DEFAULT_TEMPLATE, &parts("", None, &long)).unwrap();
        assert!(n.len() <= MAX_NAME_LEN);
    }

    /// Locations that were one name before keys were escaped: each pair must differ, and keys
    /// without `/`, `+`, `=` (or `.` in an attribute path) keep the names they had.
    #[test]
    fn keys_that_look_like_structure_do_not_collide() {
        let name = |module: &str, key: Option<&str>, deposed: Option<&str>, attr: &str| {
            let p = NameParts {
                deposed,
                ..parts(module, key, attr)
            };
            secret_name(DEFAULT_TEMPLATE, &p).unwrap()
        };
        let pairs = [
            (
                name("", None, None, "data[\"b.c\"]"),
                name("", None, None, "data.b.c"),
            ),
            (
                name("", None, None, "data[\"b/c\"]"),
                name("", None, None, "data[\"b//c\"]"),
            ),
            (
                name("", Some("\"a/x\""), None, "password"),
                name("", Some("\"a\""), None, "x/password"),
            ),
            (
                name("", Some("\"a+deposed-00000001\""), None, "password"),
                name("", Some("\"a\""), Some("00000001"), "password"),
            ),
            (
                name("module.m[\"a/module.n\"]", None, None, "password"),
                name("module.m[\"a\"].module.n", None, None, "password"),
            ),
            (
                name("", None, None, "data[\"b=2Ec\"]"),
                name("", None, None, "data[\"b.c\"]"),
            ),
        ];
        for (a, b) in &pairs {
            assert_ne!(a, b);
            validate_name(a).unwrap();
        }
        assert_eq!(
            pairs[0].0, "prod/payments/aws_db_instance.main/data.b=2Ec",
            "a dot in a map key is escaped"
        );
        assert_eq!(
            name(
                "module.db[\"eu-1\"]",
                Some("\"example.com\""),
                None,
                "tags.Name"
            ),
            "prod/payments/module.db@eu-1/aws_db_instance.main@example.com/tags.Name",
            "names without those characters are today's"
        );
    }

    #[test]
    fn a_finding_without_a_type_has_no_empty_segment() {
        let p = NameParts {
            mode: "check",
            resource_type: "",
            name: "terraform_data.app",
            ..parts("", None, "objects[0].failure_messages[0]")
        };
        assert_eq!(
            secret_name(DEFAULT_TEMPLATE, &p).unwrap(),
            "prod/payments/check.terraform_data.app/objects.0.failure_messages.0"
        );
        let data = NameParts {
            mode: "data",
            ..parts("", None, "password")
        };
        assert_eq!(
            secret_name(DEFAULT_TEMPLATE, &data).unwrap(),
            "prod/payments/data.aws_db_instance.main/password"
        );
    }

    #[test]
    fn templates() {
        let p = parts("", None, "password");
        assert_eq!(
            secret_name("{prefix}/{type}/{name}/{attribute}", &p).unwrap(),
            "prod/payments/aws_db_instance/main/password"
        );
        assert!(matches!(
            secret_name("{prefix}/{nope}", &p),
            Err(NameError::UnknownPlaceholder(_))
        ));
        assert_eq!(secret_name("{prefix", &p), Err(NameError::Unclosed));
    }
}
