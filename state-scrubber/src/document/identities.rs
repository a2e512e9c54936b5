//! `terraform state identities -json` (Terraform 1.12+, `internal/command/state_identities.go`):
//! an object whose every member is a resource instance's address (`aws_instance.web`,
//! `module.a["x"].data.aws_iam_role.r[0]`) and its identity object as the state holds it
//! (`{"id": ..., "region": ..., "account_id": ...}`). Identities name a resource and hold no
//! secret normally; they are read as a state instance's `identity` is (content and key rules),
//! at pointer `/ADDRESS/NAME`, so that a provider that puts a credential in one is found.

use super::findings::{Pos, Site};
use super::marks::Marks;
use super::scanner::Scanner;
use super::sites::{KeySite, KEY_SITE_MIN_LEN};
use crate::detect::{Detection, Mark, Step};
use crate::finding::{
    mask_module_keys, masked_key, module_keys, preview, Address, KeyPlace, MaskedKey,
};
use crate::json::{Dom, Kind as JKind, NodeId, Parser, SyntaxError};
use crate::table::GENERIC_FIX;
use std::borrow::Cow;

/// Whether `src` is what `terraform state identities -json` prints: a non-empty object whose
/// every key is a resource instance address ([`instance_address`]) and every value an object.
/// (`{}`, a state without identities, is read as an empty `terraform output -json`: nothing in
/// it either way.) Stops at the first member that is not.
pub fn is_identities_document(src: &[u8]) -> bool {
    let mut p = Parser::new(src);
    let mut check = || -> Result<bool, SyntaxError> {
        p.begin_object()?;
        let mut first = true;
        while let Some((ks, ke, esc)) = p.next_key(first)? {
            first = false;
            let key = crate::json::str_of(&src[ks..ke], esc).unwrap_or(Cow::Borrowed(""));
            if instance_address(&key).is_none() || p.peek_kind()? != b'{' {
                return Ok(false);
            }
            p.skip_value()?;
        }
        p.finish()?;
        Ok(!first)
    };
    check().unwrap_or(false)
}

/// A name as Terraform's addresses have them: a letter or `_`, then letters, digits, `_`, `-`.
fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `s` split at its first `[KEY]` (a number or a JSON string, as Terraform writes keys): the
/// name before it, the key as written, and what follows `]`. `None` if the key is not closed.
fn split_key(s: &str) -> Option<(&str, Option<&str>, &str)> {
    let Some(open) = s.find('[') else {
        return Some(match s.find('.') {
            Some(d) => (&s[..d], None, &s[d..]),
            None => (s, None, ""),
        });
    };
    if s[..open].contains('.') {
        let d = s.find('.')?;
        return Some((&s[..d], None, &s[d..]));
    }
    let rest = &s[open + 1..];
    let end = if rest.starts_with('"') {
        // A JSON string: up to its closing quote (a backslash escapes the next character).
        let b = rest.as_bytes();
        let mut i = 1;
        loop {
            match b.get(i)? {
                b'\\' => i += 2,
                b'"' => break i + 1,
                _ => i += 1,
            }
        }
    } else {
        rest.find(']')?
    };
    if rest.as_bytes().get(end) != Some(&b']') {
        return None;
    }
    let key = &rest[..end];
    if !key.starts_with('"') && (key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some((&s[..open], Some(key), &rest[end + 1..]))
}

/// A resource instance address as Terraform prints one (`addrs.AbsResourceInstance`): module
/// steps `module.NAME[KEY]`, then `data.` or not, `TYPE.NAME[KEY]`, nothing after.
pub(super) fn instance_address(s: &str) -> Option<Address> {
    let mut rest = s;
    let mut module_end = 0;
    while let Some(after) = rest.strip_prefix("module.") {
        let (name, _, tail) = split_key(after)?;
        if !is_name(name) {
            return None;
        }
        rest = tail.strip_prefix('.')?;
        module_end = s.len() - rest.len() - 1;
    }
    let (mode, rest) = match rest.strip_prefix("data.") {
        Some(r) => ("data", r),
        None => ("managed", rest),
    };
    let (rtype, tail) = rest.split_once('.')?;
    let (name, key, tail) = split_key(tail)?;
    if !is_name(rtype) || !is_name(name) || !tail.is_empty() {
        return None;
    }
    Some(Address {
        module: s[..module_end].to_string(),
        mode: mode.into(),
        resource_type: rtype.into(),
        name: name.into(),
        index_key: key.map(str::to_string),
        ..Default::default()
    })
}

impl Scanner<'_> {
    /// The whole document (`id`, at pointer `unit`): each member's identity.
    pub(super) fn identities(&mut self, src: &[u8], dom: &Dom, id: NodeId, unit: &str) {
        for (k, v) in dom.members(id) {
            let Some(key) = dom.str(src, k) else {
                continue;
            };
            let Some(mut address) = instance_address(&key) else {
                continue;
            };
            if dom.node(v).kind != JKind::Object {
                continue;
            }
            // The member name is the address, keys and all: a key that is a secret is masked
            // in the address and in the pointer (whose token is the masked address, as every
            // report shows it), and reported, as a state instance's is.
            let keys = self.identity_address_keys(&mut address);
            let mut at = unit.to_string();
            at.push('/');
            crate::json::push_pointer_token(&mut at, &address.display());
            // A key no content rule picked is reported after the scan if it equals a value
            // found secret in the file, as a state instance's is (`mask_secret_keys`, which
            // also masks it in this pointer's address token).
            for (member, raw) in keys.unpicked {
                if raw.len() < KEY_SITE_MIN_LEN {
                    continue;
                }
                self.key_sites.push(KeySite {
                    digest: self.engine.value_digest(&raw),
                    preview: preview(&raw),
                    member,
                    section: "identities".to_string(),
                    address: address.clone(),
                    unit: unit.to_string(),
                    pos: Pos::of_key(src, dom, k),
                });
            }
            for (member, d) in keys.picked {
                let attr = [Step::Key(Cow::Borrowed(member))];
                self.dets = vec![d];
                self.push_dets(&Site {
                    section: "identities",
                    address: &address,
                    unit_pointer: &at,
                    rel: &[],
                    attr: &attr,
                    pos: Pos::of_key(src, dom, k),
                });
            }
            self.values(
                src,
                dom,
                v,
                "identities",
                &address,
                &at,
                &[],
                &[],
                &Marks::default(),
                Mark::SensitiveAttributes,
                GENERIC_FIX,
            );
        }
    }
}

/// What [`Scanner::identity_address_keys`] makes of an address's keys: each key a content rule
/// recognises, masked, with its detection; each other string key, kept for `mask_secret_keys`.
/// Both with the member a state would hold the key in (`index_key`, `module`).
#[derive(Default)]
struct AddressKeys {
    picked: Vec<(&'static str, Detection)>,
    unpicked: Vec<(&'static str, String)>,
}

impl Scanner<'_> {
    /// Mask in `address` its index key and module instance keys that a content rule recognises
    /// (as [`Scanner::address_keys`] does for a state's instance).
    fn identity_address_keys(&self, address: &mut Address) -> AddressKeys {
        let engine = self.engine;
        let mut keys = AddressKeys::default();
        if let Some(k) = &address.index_key {
            if let Ok(raw) = serde_json::from_str::<String>(k) {
                match engine.analyze_address_key(&raw) {
                    Some(d) => {
                        address.index_key = Some(masked_key(&raw));
                        address.masked.push(MaskedKey {
                            place: KeyPlace::Index,
                            digest: engine.value_digest(&raw),
                        });
                        keys.picked.push(("index_key", d));
                    }
                    None => keys.unpicked.push(("index_key", raw)),
                }
            }
        }
        let (masked, picked) =
            mask_module_keys(&address.module, |k| engine.analyze_address_key(k).is_some());
        for k in module_keys(&address.module) {
            if !picked.iter().any(|(_, p)| *p == k) {
                keys.unpicked.push(("module", k));
            }
        }
        if !picked.is_empty() {
            address.module = masked;
            for (ordinal, k) in &picked {
                address.masked.push(MaskedKey {
                    place: KeyPlace::Module(*ordinal),
                    digest: engine.value_digest(k),
                });
                if let Some(d) = engine.analyze_address_key(k) {
                    keys.picked.push(("module", d));
                }
            }
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_addresses_are_told_from_other_keys() {
        let a = instance_address("module.a[\"x.y\"].module.b.data.aws_iam_role.r[0]").unwrap();
        assert_eq!(a.module, "module.a[\"x.y\"].module.b");
        assert_eq!(
            (a.mode.as_str(), a.resource_type.as_str()),
            ("data", "aws_iam_role")
        );
        assert_eq!((a.name.as_str(), a.index_key.as_deref()), ("r", Some("0")));
        assert_eq!(
            a.display(),
            "module.a[\"x.y\"].module.b.data.aws_iam_role.r[0]"
        );
        let b = instance_address("aws_instance.web[\"a\\\"]b\"]").unwrap();
        assert_eq!(b.index_key.as_deref(), Some("\"a\\\"]b\""));
        assert_eq!(
            instance_address("aws_instance.web").unwrap().display(),
            "aws_instance.web"
        );
        for bad in [
            "password",
            "my-output",
            "aws_instance.web.extra",
            "aws_instance.web[x]",
            "aws_instance.web[\"open",
            "module.a",
            "1x.y",
            "",
        ] {
            assert!(instance_address(bad).is_none(), "{bad}");
        }
        assert!(is_identities_document(
            br#"{"aws_instance.web": {"id": "i-0", "region": "eu-west-1"}}"#
        ));
        assert!(!is_identities_document(br#"{}"#));
        assert!(!is_identities_document(br#"{"version": 4, "serial": 1}"#));
        assert!(!is_identities_document(br#"{"aws_instance.web": "x"}"#));
    }
}
