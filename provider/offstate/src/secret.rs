//! `offstate_secret`: one Secrets Manager secret, its metadata in state and
//! its value write-only.
//!
//! How the value is kept out of Terraform:
//! - `value_wo` is write-only: Terraform sends it in config, the framework
//!   nulls it in everything returned, and this file only ever turns it into a
//!   `SecretValue` on its way to PutSecretValue/CreateSecret.
//! - What is persisted is the trigger `value_wo_version` (set by the user)
//!   and `version_id` (AWS's id of the AWSCURRENT version). Nothing derived
//!   from the value, not even a hash.
//! - Refresh uses DescribeSecret only: a value changed outside Terraform shows
//!   as a new `version_id` (drift) and is not overwritten until the trigger
//!   changes.

use std::collections::BTreeMap;

use async_trait::async_trait;
use offstate_common::name::{is_arn, validate_name, MAX_NAME_LEN};
use offstate_common::store::{
    CreateSecret, Deletion, MetadataUpdate, PutValue, SecretMeta, SecretStore,
};
use offstate_common::{SecretValue, StoreError};
use offstate_framework::resource::*;
use offstate_framework::resource::{IdentityAttribute, IdentitySchema};
use offstate_framework::Nesting;
use offstate_framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Schema, Type, Value,
};

use crate::provider::Handle;

pub const TYPE_NAME: &str = "offstate_secret";
const DEFAULT_RECOVERY_WINDOW: i64 = 30;
/// AWS adds nothing to a prefix; we add this many characters (timestamp + random).
const PREFIX_SUFFIX_LEN: usize = 26;
/// Secrets Manager's limit for SecretString and SecretBinary.
const MAX_VALUE_BYTES: usize = 65_536;

/// The tag CreateSecret puts on every secret it makes, removed (UntagResource) by the same
/// create once Terraform gets the secret's state. A secret carrying it is one whose create never
/// finished (an interrupted apply): the only kind `adopt_interrupted_create` takes over. A
/// secret without it was completed by someone (another state, a workspace, by hand) and is
/// refused with "already exists". Never shown: [`shown_tags`] takes it out of every tag read.
pub const CREATE_PENDING_TAG: &str = "offstate:create-pending";

/// `tags` as Terraform sees them: without [`CREATE_PENDING_TAG`].
pub(crate) fn shown_tags(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut tags = tags.clone();
    tags.remove(CREATE_PENDING_TAG);
    tags
}

pub struct SecretResource {
    handle: Handle,
}

impl SecretResource {
    pub fn new(handle: Handle) -> Self {
        SecretResource { handle }
    }
}

pub fn schema() -> Schema {
    Schema::new(
        0,
        crate::policy::schema(Block::new(
            "An AWS Secrets Manager secret whose value is write-only: it goes from configuration to Secrets Manager \
             and never into the plan or the state.",
        )
        .attribute(Attribute::computed("id", Type::String).description("The secret's ARN."))
        .attribute(Attribute::computed("arn", Type::String).description("The secret's ARN."))
        .attribute(
            Attribute::optional_computed("name", Type::String)
                .description("Name of the secret: 1-512 of `A-Za-z0-9/_+=.@-`. Changing it replaces the secret. Conflicts with `name_prefix`."),
        )
        .attribute(
            Attribute::optional("name_prefix", Type::String)
                .description("Creates a unique name beginning with this prefix. Changing it replaces the secret."),
        )
        .attribute(Attribute::optional("description", Type::String).description("Description of the secret."))
        .attribute(Attribute::optional("kms_key_id", Type::String).description(
            "KMS key (id, ARN or alias) that encrypts the secret's values. Defaults to the AWS managed key `aws/secretsmanager`.",
        ))
        .attribute(Attribute::optional("tags", Type::map(Type::String)).description("Tags of the secret."))
        .attribute(
            Attribute::computed("tags_all", Type::map(Type::String))
                .description("`tags` merged with the provider's `default_tags`."),
        )
        .attribute(Attribute::optional_computed("recovery_window_in_days", Type::Number).description(
            "Days Secrets Manager keeps a deleted secret before it is gone: 0 (delete at once) or 7 to 30. Default 30.",
        ))
        .attribute(
            Attribute::optional("value_wo", Type::String)
                .sensitive()
                .write_only()
                .description("The secret value. Write-only: it is sent to Secrets Manager and never stored in the plan or the state. Needs Terraform 1.11 or later."),
        )
        .attribute(Attribute::optional("value_wo_version", Type::String).description(
            "Any string or number. Changing it writes `value_wo` as a new version (AWSCURRENT moves to it, the old one becomes AWSPREVIOUS). Required with `value_wo`.",
        ))
        .attribute(
            Attribute::optional("binary_wo", Type::String)
                .sensitive()
                .write_only()
                .description("A binary value, base64-encoded, stored as SecretBinary. Write-only; conflicts with `value_wo` and `generate`. Changes are written when `value_wo_version` changes."),
        )
        .attribute(Attribute::optional("compare_value", Type::Bool).description(
            "Instead of a `value_wo_version` trigger, compare `value_wo` with the AWSCURRENT value at plan time (in memory, constant time) and write only when they differ. Needs `secretsmanager:GetSecretValue` at plan time. Nothing derived from the value is stored.",
        ))
        .block(
            "generate",
            Nesting::Single,
            crate::generate::spec_attributes(Block::new(
                "The provider generates the value (CSPRNG) and writes it; nobody sees it. A change of these settings or of `value_wo_version` generates a new value.",
            ))
            .attribute(Attribute::optional("json_template", Type::map(Type::String)).description(
                "Make the value a JSON object with these fixed fields, the generated password going into `json_key`. The fields are stored in plan and state in plain text: a username or a host, never another secret.",
            ))
            .attribute(Attribute::optional("json_key", Type::String).description(
                "The field of the JSON object that holds the generated password (with `json_template`). Default `password`.",
            )),
            0,
            0,
        )
        .attribute(
            Attribute::computed("version_id", Type::String)
                .description("Id of the version carrying AWSCURRENT. A change made outside Terraform shows here as drift."),
        ),)
    )
}

/// Where the value comes from: `value_wo`, `binary_wo` or `generate`. The one
/// place config strings become secret bytes. `Ok(None)`: no value configured.
fn configured_value(config: &Value) -> Result<Option<(SecretValue, bool)>, Diagnostic> {
    if let Some(s) = config.get("value_wo").as_str() {
        return Ok(Some((SecretValue::from_string(s.to_string()), false)));
    }
    if let Some(b64) = config.get("binary_wo").as_str() {
        use base64::Engine;
        return base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map(|bytes| Some((SecretValue::from_bytes(bytes), true)))
            .map_err(|_| {
                Diagnostic::error(
                    "Invalid binary_wo",
                    "binary_wo must be standard base64 (use filebase64() or base64encode()).",
                )
                .at(AttributePath::attr("binary_wo"))
            });
    }
    let g = config.get("generate");
    if !g.is_null() {
        let mut d = Diagnostics::new();
        let Some(spec) = crate::generate::spec_from(g, &AttributePath::attr("generate"), &mut d)
        else {
            return Err(d
                .0
                .into_iter()
                .next()
                .unwrap_or_else(|| Diagnostic::error("Invalid generate block", "")));
        };
        let password = spec.generate();
        let Some(template) = g.get("json_template").as_string_map() else {
            return Ok(Some((password, false)));
        };
        let key = g.get("json_key").as_str().unwrap_or("password");
        return Ok(Some((
            crate::generate::with_template(template, key, &password),
            false,
        )));
    }
    Ok(None)
}

/// `generate`'s `json_key` names the field of `json_template` that receives the password. Without
/// a template it was silently ignored (the value stayed a bare password, not the object asked
/// for), and a template field of that name was silently replaced by the password.
fn check_json_fields(g: &Value, d: &mut Diagnostics) {
    let at = AttributePath::attr("generate");
    let template = g.get("json_template");
    if template.is_null() {
        if g.get("json_key").is_known_set() {
            d.attr_error(
                at.then_attr("json_key"),
                "json_key without json_template",
                "json_key names the field of json_template that holds the generated password; without json_template the value is the bare password. Add json_template (json_template = {} for an object with the password alone) or remove json_key.",
            );
        }
        return;
    }
    let key = match g.get("json_key") {
        Value::Null => "password",
        Value::String(k) => k.as_str(),
        _ => return,
    };
    if let Value::Map(fields) | Value::Object(fields) = template {
        if fields.contains_key(key) {
            d.attr_error(
                at.then_attr("json_template").then_key(key),
                "json_template field replaced by the password",
                format!("The generated password goes into the field {key:?} (json_key), so this field's value would be replaced. Name the field otherwise, or set json_key to another field."),
            );
        }
    }
}

/// Whether the configuration asks for a new version compared with `prior`:
/// the trigger or the generator settings changed. In compare mode the value alone decides
/// (see `value_differs`): a `value_wo_version` removed to switch from trigger mode is no
/// reason to write the same value again, which would push the real previous value out of
/// `AWSPREVIOUS`.
fn write_requested(config: &Value, prior: &Value) -> bool {
    (trigger_may_change(config, prior) && !compare_mode(config))
        || config.get("generate") != prior.get("generate")
}

/// Whether `value_wo_version` differs from `prior`'s, or may: an unknown one (another
/// resource's `version_id` in a run that creates it) can turn out to be anything, also where
/// `prior` has none (an imported secret). A plan that keeps `version_id` while the apply then
/// writes is Terraform's "Provider produced inconsistent final plan".
fn trigger_may_change(config: &Value, prior: &Value) -> bool {
    config.get("value_wo_version").is_unknown() || trigger(config) != trigger(prior)
}

/// `value_wo_version` is kept in plan and state in plain text. Refuses one that is the value
/// itself, or a digest of it as Terraform's functions make one (`md5`, `sha1`, `sha256`,
/// `sha512` in hex, `base64sha256`, `base64sha512`; for `binary_wo` also of the base64 text, as
/// `sha256(filebase64(...))` gives): a digest of a password in state can be tested against
/// guesses offline. Compared in constant time; the message names neither the value nor the digest.
fn check_trigger_not_derived(value: &SecretValue, config: &Value, d: &mut Diagnostics) {
    use base64::Engine;
    use zeroize::Zeroizing;
    let Some(trigger) = config.get("value_wo_version").as_str() else {
        return;
    };
    let lower = Zeroizing::new(trigger.trim().to_ascii_lowercase());
    let hex = |digest: &[u8]| -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(digest.len() * 2));
        for b in digest {
            out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        out
    };
    let b64 = |digest: &[u8]| -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(digest))
    };
    let same = |a: &[u8], b: &[u8]| bool::from(subtle::ConstantTimeEq::ct_eq(a, b));
    let mut inputs: Vec<&[u8]> = vec![value.expose_secret()];
    if let Some(text) = config.get("binary_wo").as_str() {
        inputs.push(text.as_bytes());
    }
    let mut derived = inputs.iter().any(|v| same(trigger.as_bytes(), v));
    for input in inputs {
        let sha256 = <sha2::Sha256 as sha2::Digest>::digest(input);
        let sha512 = <sha2::Sha512 as sha2::Digest>::digest(input);
        let md5 = <md5::Md5 as md5::Digest>::digest(input);
        let sha1 = <sha1::Sha1 as sha1::Digest>::digest(input);
        for digest in [&hex(&md5), &hex(&sha1), &hex(&sha256), &hex(&sha512)] {
            derived |= same(lower.as_bytes(), digest.as_bytes());
        }
        for digest in [&b64(&sha256), &b64(&sha512)] {
            derived |= same(trigger.trim().as_bytes(), digest.as_bytes());
        }
    }
    if derived {
        d.attr_error(
            AttributePath::attr("value_wo_version"),
            "value_wo_version is derived from the value",
            "value_wo_version is stored in plan and state in plain text, and this one is the value \
             itself or a digest of it (md5, sha1, sha256, sha512 or their base64 forms): whoever can \
             read the state could test guesses of the value against it. Use a value that says nothing \
             about it: a date, a counter, or another secret's version_id.",
        );
    }
}

/// Every argument except the value itself is kept in plan and state in plain text. Refuses a
/// value equal to one of them or to a map key (`name = var.x` and `value_wo = var.x`, a tag
/// value), or, when 8 bytes or longer, inside one (`description = "pw: ${var.x}"`): the value
/// would be in the state under that name.
/// `value_wo_version` has its own check. Compared in constant time; the message names the
/// argument, never the value.
fn check_value_not_an_argument(value: &SecretValue, config: &Value, d: &mut Diagnostics) {
    const IN_ARGUMENT_MIN: usize = 8;
    /// The arguments under `v` (at `at`) whose string, or map key, `is_value`. A map key that
    /// is the value is not put into the path of its entry.
    fn search(v: &Value, at: &str, is_value: &dyn Fn(&str) -> bool, out: &mut Vec<String>) {
        fn hit(out: &mut Vec<String>, at: String) {
            if !out.contains(&at) {
                out.push(at);
            }
        }
        match v {
            Value::String(s) if is_value(s) => hit(out, at.to_owned()),
            Value::Map(m) => {
                for (k, x) in m {
                    let key_is_value = is_value(k);
                    if key_is_value {
                        hit(out, format!("a key of {at}"));
                    }
                    let here = if key_is_value {
                        format!("{at}[...]")
                    } else {
                        format!("{at}[{k:?}]")
                    };
                    search(x, &here, is_value, out);
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    search(x, &format!("{at}.{k}"), is_value, out);
                }
            }
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
                for x in xs {
                    search(x, &format!("{at}[...]"), is_value, out);
                }
            }
            _ => {}
        }
    }
    const OWN: [&str; 3] = ["value_wo", "binary_wo", "value_wo_version"];
    let Value::Object(attrs) = config else {
        return;
    };
    if value.is_empty() {
        return;
    }
    let mut inputs: Vec<&[u8]> = vec![value.expose_secret()];
    if let Some(text) = config.get("binary_wo").as_str() {
        inputs.push(text.as_bytes());
    }
    // Equal, or (8 bytes or more: a shorter value can be in a text by chance) inside it. Every
    // window is compared, with no early exit: arguments are short (a description is at most
    // 2,048 characters), so this stays small.
    let is_value = |s: &str| {
        use subtle::ConstantTimeEq as _;
        let s = s.as_bytes();
        inputs.iter().fold(false, |acc, v| {
            if v.len() >= IN_ARGUMENT_MIN && v.len() < s.len() {
                s.windows(v.len())
                    .fold(acc, |acc, w| acc | bool::from(w.ct_eq(v)))
            } else {
                acc | bool::from(s.ct_eq(v))
            }
        })
    };
    let mut named: Vec<String> = Vec::new();
    for (k, v) in attrs.iter().filter(|(k, _)| !OWN.contains(&k.as_str())) {
        search(v, k, &is_value, &mut named);
    }
    if !named.is_empty() {
        d.attr_error(
            value_source(config),
            "The value is also given as another argument",
            format!(
                "The value equals or appears in {}, which is stored in plan and state in plain text: the \
                 value would be there too. Give that argument something else.",
                named.join(", ")
            ),
        );
    }
}

/// The private-state key that marks a state whose value offstate has not written but the
/// configuration adopts: `{"adopt_value": true}`. A move from hashicorp/aws sets it, and so does
/// an import with `?value_wo_version=V` (the value in AWS is version V of the configuration).
const ADOPT_MARKER: &str = "adopt_value";

/// Private state as the JSON object this resource keeps there (nothing else
/// writes it; anything unreadable counts as empty).
fn private_object(private: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    if private.is_empty() {
        return serde_json::Map::new();
    }
    match serde_json::from_slice(private) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

fn has_adopt_marker(private: &[u8]) -> bool {
    private_object(private).get(ADOPT_MARKER) == Some(&serde_json::Value::Bool(true))
}

/// `private` with the adopt marker added.
fn with_adopt_marker(private: &[u8]) -> Vec<u8> {
    let mut m = private_object(private);
    m.insert(ADOPT_MARKER.into(), serde_json::Value::Bool(true));
    serde_json::to_vec(&serde_json::Value::Object(m)).unwrap_or_default()
}

/// `private` without the adopt marker (empty when nothing else is left).
fn without_adopt_marker(private: &[u8]) -> Vec<u8> {
    without_key(private, ADOPT_MARKER)
}

/// The private-state key by which the second PlanResourceChange of a replace knows the object
/// it replaces: `{"replaces": {"arn": ARN, "recovery_window_in_days": N}}`. Terraform plans a
/// replace by planning once with the prior state, then again with a null prior state and, as
/// `prior_private`, the planned private of the first call (`PriorPrivate: plannedPrivate` in
/// Terraform's `internal/terraform/node_resource_abstract_instance.go`); a create, and the
/// replace of a tainted object, get no private state. Every plan with a prior state writes the
/// key, and apply drops it.
const REPLACES_MARKER: &str = "replaces";

/// `private` with the replace marker for `prior` (its ARN and the recovery window its delete
/// will use).
fn with_replaces_marker(private: &[u8], prior: &Value) -> Vec<u8> {
    let mut m = private_object(private);
    let days = prior
        .get("recovery_window_in_days")
        .as_i64()
        .unwrap_or(DEFAULT_RECOVERY_WINDOW);
    m.insert(
        REPLACES_MARKER.into(),
        serde_json::json!({
            "arn": prior.get("arn").as_str().unwrap_or_default(),
            "recovery_window_in_days": days,
        }),
    );
    serde_json::to_vec(&serde_json::Value::Object(m)).unwrap_or_default()
}

/// The object a create plan replaces, from the replace marker: its ARN and the recovery
/// window its delete uses. `None` for a plain create (or a tainted object's replace).
fn replaced_object(private: &[u8]) -> Option<(String, i64)> {
    let m = private_object(private);
    let r = m.get(REPLACES_MARKER)?;
    Some((
        r.get("arn")?.as_str()?.to_owned(),
        r.get("recovery_window_in_days")?.as_i64()?,
    ))
}

/// `private` without `key` (empty when nothing else is left).
fn without_key(private: &[u8], key: &str) -> Vec<u8> {
    let mut m = private_object(private);
    if m.remove(key).is_none() {
        return private.to_vec();
    }
    if m.is_empty() {
        Vec::new()
    } else {
        serde_json::to_vec(&serde_json::Value::Object(m)).unwrap_or_default()
    }
}

/// A secret moved in from hashicorp/aws, or imported with `?value_wo_version=V`, keeps the
/// value it has when a `generate` block appears for the first time after the move or import:
/// the value was made elsewhere (often by a `random_password` whose settings became this
/// block, or it is a live password applications use), and generating now would rotate it.
/// True when the private state carries the adopt marker (cleared by the first apply), the
/// prior state has no `generate`, the configuration has one, and nothing else asks for a
/// write (`value_wo_version` unchanged: for an import, the configuration's equals the id's
/// `V`; no `value_wo`/`binary_wo`). The value is never read for this.
fn adopts_moved_value(private: &[u8], config: &Value, prior: &Value) -> bool {
    has_adopt_marker(private)
        && prior.get("generate").is_null()
        && !config.get("generate").is_null()
        && !trigger_may_change(config, prior)
        && config.get("value_wo").is_null()
        && config.get("binary_wo").is_null()
}

fn compare_mode(config: &Value) -> bool {
    config.get("compare_value").as_bool() == Some(true) && config.get("value_wo_version").is_null()
}

/// `value_wo_version` as Terraform stored it. Numbers written in HCL arrive
/// already converted to strings by Terraform; the schema type is string.
fn trigger(v: &Value) -> Option<&str> {
    v.get("value_wo_version").as_str()
}

/// [`crate::tags::too_many_tags`] for `tags_all`, given the configuration's `tags`: how many
/// come from the resource's own tags (the ignored ones are in neither count).
fn check_tag_count(
    all: &BTreeMap<String, String>,
    tags: &Value,
    ignore: Option<&crate::tags::IgnoreTags>,
) -> Option<Diagnostic> {
    let own = tags
        .as_string_map()
        .unwrap_or_default()
        .keys()
        .filter(|k| !ignore.is_some_and(|i| i.ignores(k)))
        .count();
    crate::tags::too_many_tags(all, own)
}

fn merge_tags(default_tags: &BTreeMap<String, String>, tags: &Value) -> BTreeMap<String, String> {
    let mut all = default_tags.clone();
    all.extend(tags.as_string_map().unwrap_or_default());
    all
}

fn tags_value(tags: &BTreeMap<String, String>) -> Value {
    Value::string_map(tags)
}

/// The state an update records when its metadata changes went through and a
/// later step (policy, value) failed: `prior` with the metadata attributes
/// (description, KMS key, tags, recovery window) taken from `state`, and
/// `tags_all` as now tagged.
fn metadata_applied(prior: &Value, state: &Value, tags_all: &BTreeMap<String, String>) -> Value {
    let mut s = prior.clone();
    s.set("tags_all", tags_value(tags_all));
    for k in [
        "description",
        "kms_key_id",
        "tags",
        "recovery_window_in_days",
    ] {
        s.set(k, state.get(k).clone());
    }
    s
}

/// Longest secret id (name or ARN) a diagnostic repeats: names have at most
/// 512 characters and ARNs about 600, so a longer one is broken or hostile
/// input (the hostile-input tests send 10 MiB names), and echoing it would put
/// megabytes into Terraform's output and logs.
pub(crate) const MAX_SHOWN_ID: usize = 1024;
/// Longest AWS error message a diagnostic repeats.
pub(crate) const MAX_SHOWN_MESSAGE: usize = 4096;

/// `text` with the value of each of the string arguments `names` of `config` replaced by
/// `<name>`: for the arguments that Terraform lets take ephemeral values (an ephemeral
/// resource's, a list block's), which reach the provider without their marks. A secret put in
/// one by mistake (`secret_id = var.db_password`) must not come back in a diagnostic, neither
/// repeated by us nor quoted in AWS's message (a ValidationException quotes the value it
/// refuses). Longest first, so a value inside another is not left half done; call it before
/// [`bounded`], so no prefix of a value survives the cut. A value still quoted after that, in
/// another form or in part ([`offstate_common::SecretValue::is_echoed_in`]: JSON-escaped, as a
/// gateway echoing the request body shows it, in base64, or 16 bytes of it, as an echo cut
/// short), hides the whole text, which then names the argument only.
pub(crate) fn withhold_arguments(text: &str, config: &Value, names: &[&str]) -> String {
    let given: Vec<(&str, &str)> = names
        .iter()
        .filter_map(|k| config.get(k).as_str().map(|v| (*k, v)))
        .collect();
    withhold(text, given)
}

/// [`withhold_arguments`] for input named `(name, value)` pairs that are not arguments of a
/// configuration (an import id).
fn withhold(text: &str, given: Vec<(&str, &str)>) -> String {
    let mut given: Vec<(&str, &str)> = given.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    given.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    // One pass, so that a placeholder is never rewritten by a later value (`id` in
    // `<secret_id>`); `probe` is the same text without the placeholders, for the search below.
    let (mut out, mut probe) = (String::new(), String::new());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match given.iter().find(|(_, v)| rest.starts_with(v)) {
            Some((k, v)) => {
                out.push_str(&format!("<{k}>"));
                probe.push('\0');
                rest = &rest[v.len()..];
            }
            None => {
                out.push(c);
                probe.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    let echoed = given.iter().find(|(_, v)| {
        offstate_common::SecretValue::from_string((*v).to_owned()).is_echoed_in(&probe)
    });
    match echoed {
        Some((k, _)) => {
            format!("(the message is not shown: it quotes {k}, in part or in another form)")
        }
        None => out,
    }
}

/// `text` cut to at most `max` bytes (on a character boundary), saying so.
pub(crate) fn bounded(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}... ({} bytes in all)", &text[..end], text.len()))
}

/// The ClientRequestToken (and so the version id) of the value written for a trigger change:
/// derived from the secret, the version it replaces and the new trigger, never from the value.
/// An apply interrupted after PutSecretValue and run again sends the same token, so Secrets
/// Manager answers with the version already written instead of making a second one (which
/// would push the real previous value out of `AWSPREVIOUS`). A later change starts from another
/// version id, so it gets another token. UUID-shaped (version 8), as version ids usually are.
///
/// Its first six bytes depend on the secret and the trigger alone ([`written_for_trigger`]):
/// the apply run again refreshes first, so the version it replaces is by then the one the
/// interrupted apply wrote, and the token made from it is another one.
fn version_token(arn: &str, replaces: Option<&str>, trigger: &str) -> String {
    let tag = digest(&["offstate_secret trigger", arn, trigger]);
    let unique = digest(&[
        "offstate_secret version",
        arn,
        replaces.unwrap_or(""),
        trigger,
    ]);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&tag[..6]);
    bytes[6..].copy_from_slice(&unique[..10]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Whether `version_id` is a version [`version_token`] made for `trigger` on the secret `arn`:
/// the value for that trigger change is written already (by an apply whose state was lost: the
/// provider or Terraform killed after PutSecretValue, a state restored from a backup).
fn written_for_trigger(arn: &str, version_id: &str, trigger: &str) -> bool {
    let Ok(id) = uuid::Uuid::parse_str(version_id) else {
        return false;
    };
    id.get_version_num() == 8
        && id.as_bytes()[..6] == digest(&["offstate_secret trigger", arn, trigger])[..6]
}

/// SHA-256 of length-prefixed parts.
fn digest(parts: &[&str]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// The key a KMS key reference names, when it names one directly: the id of a key ARN
/// (`arn:aws:kms:REGION:ACCOUNT:key/ID`) or a bare key id. `None` for aliases (`alias/NAME`, alias
/// ARNs), which only KMS can resolve.
pub(crate) fn kms_key_of(reference: &str) -> Option<&str> {
    if let Some(rest) = reference.strip_prefix("arn:") {
        return rest.split_once(":key/").map(|(_, id)| id);
    }
    (!reference.starts_with("alias/") && !reference.is_empty()).then_some(reference)
}

/// The AWS managed key of Secrets Manager, by its alias: what a secret without a key of its own
/// uses, and what an update sends to go back to it.
const DEFAULT_KEY_ALIAS: &str = "alias/aws/secretsmanager";

/// Whether a KMS key reference means the AWS managed key: `""` or `alias/aws/secretsmanager`
/// (also as an alias ARN). DescribeSecret reports no key for a secret that never had one and may
/// report the alias for one sent back to it by UpdateSecret; configured or reported, either is "no
/// key of its own", so neither is a diff against the other.
pub(crate) fn is_default_key(reference: &str) -> bool {
    reference.is_empty()
        || reference == DEFAULT_KEY_ALIAS
        || (reference.starts_with("arn:") && reference.ends_with(&format!(":{DEFAULT_KEY_ALIAS}")))
}

/// The configured (or recorded) key of a secret, `None` for the AWS managed key.
fn own_key(v: &Value) -> Option<&str> {
    v.as_str().filter(|k| !is_default_key(k))
}

/// A string attribute that is set and not empty ("" means unset to Secrets Manager).
fn non_empty(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| !s.is_empty())
}

/// How long a delete without recovery window waits for the secret to be gone.
const FORCED_DELETE_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Waits until DescribeSecret no longer finds `arn` after a delete without recovery window:
/// that deletion is "an asynchronous background process" (DeleteSecret), and until it ends the
/// name is taken, so the create of a replace (or an apply right after a destroy) would fail.
/// The delete itself has succeeded: a describe error ends the wait with a log line, and a secret
/// still there after [`FORCED_DELETE_WAIT`] gives a warning.
async fn wait_until_gone(
    store: &dyn SecretStore,
    handle: &Handle,
    arn: &str,
    diags: &mut Diagnostics,
) {
    let deadline = tokio::time::Instant::now() + FORCED_DELETE_WAIT;
    let mut pause = std::time::Duration::from_millis(50);
    loop {
        match store.describe(arn).await {
            Ok(None) => return,
            Err(e) if e.is_not_found() => return,
            Err(e) => {
                tracing::warn!(secret = %arn, code = %e.code(), "not waiting for the deleted secret to be gone: DescribeSecret failed");
                return;
            }
            Ok(Some(_)) if tokio::time::Instant::now() >= deadline => {
                return diags.push(Diagnostic::warning(
                    "Secret still being deleted",
                    format!(
                        "Secrets Manager accepted the deletion of {:?} without recovery window, but still lists it after {} seconds. \
                         Creating a secret of the same name fails until it is gone.",
                        bounded(arn, MAX_SHOWN_ID),
                        FORCED_DELETE_WAIT.as_secs()
                    ),
                ));
            }
            Ok(Some(_)) => {}
        }
        if !handle.pause(pause).await {
            tracing::info!(secret = %arn, "stopped: no longer waiting for the deleted secret to be gone");
            return;
        }
        pause = (pause * 2).min(std::time::Duration::from_secs(2));
    }
}

/// What to do about a name that is scheduled for deletion: the same words whether CreateSecret
/// refused it at apply or DescribeSecret found it at plan.
fn scheduled_for_deletion_advice(secret: &str) -> String {
    format!(
        "A secret with this name is scheduled for deletion. Restore it (aws secretsmanager restore-secret --secret-id {secret}) \
         and import it (an `import` block or `terraform import`), wait until its recovery window ends, or use another name. \
         Set recovery_window_in_days = 0 on secrets you expect to recreate."
    )
}

/// What an AccessDenied says when the credentials themselves are fine
/// ([`StoreError::credentials_advice`] is `None`): a permission is missing.
const PERMISSION_ADVICE: &str =
    "Check the credentials and that they allow this Secrets Manager action on the secret.";

/// Turns a store error into a diagnostic naming the API error and the secret,
/// never a value (store errors cannot hold one: see `StoreError`).
pub(crate) fn store_diag(op: &str, secret: &str, e: &StoreError) -> Diagnostic {
    let secret = &*bounded(secret, MAX_SHOWN_ID);
    let mut detail = format!(
        "Secrets Manager {op} for secret {secret:?} failed: {}: {}",
        e.code(),
        bounded(e.message(), MAX_SHOWN_MESSAGE)
    );
    if let StoreError::ScheduledForDeletion { .. } = e {
        detail.push_str("\n\n");
        detail.push_str(&scheduled_for_deletion_advice(secret));
    }
    if matches!(e, StoreError::AlreadyExists { .. }) && op == "CreateSecret" {
        detail.push_str(&format!(
            "\n\nA secret named {secret:?} already exists and is not one an interrupted apply of this configuration left \
             behind: its create was completed (by another state or workspace, or outside Terraform), or it differs from what \
             this configuration creates (tags, description, value, or versions written since). If it is the one you mean, import it (terraform import <address> {secret}); \
             otherwise choose another name. A secret left behind by an interrupted apply (still tagged {CREATE_PENDING_TAG}) \
             is adopted automatically when it matches the configuration."
        ));
    }
    if let StoreError::AccessDenied { .. } = e {
        detail.push_str("\n\n");
        detail.push_str(e.credentials_advice().unwrap_or(PERMISSION_ADVICE));
    }
    Diagnostic::error(format!("Secrets Manager {op} failed"), detail)
}

/// [`store_diag`] for a secret named by an argument whose value must not be repeated (see
/// [`withhold_arguments`]: a sensitive value given there by mistake reaches us without its
/// mark): the diagnostic points at `arg`, and AWS's message has the `args` withheld.
pub(crate) fn argument_store_diag(
    op: &str,
    arg: &str,
    config: &Value,
    args: &[&str],
    e: &StoreError,
) -> Diagnostic {
    let message = withhold_arguments(e.message(), config, args);
    let mut detail = format!(
        "Secrets Manager {op} for the secret that {arg} names failed: {}: {}",
        e.code(),
        bounded(&message, MAX_SHOWN_MESSAGE)
    );
    match e {
        StoreError::ScheduledForDeletion { .. } => detail.push_str(
            "\n\nThe secret is scheduled for deletion. Restore it (aws secretsmanager restore-secret) to use it.",
        ),
        StoreError::AccessDenied { .. } => {
            detail.push_str("\n\n");
            detail.push_str(e.credentials_advice().unwrap_or(PERMISSION_ADVICE));
        }
        _ => {}
    }
    Diagnostic::error(format!("Secrets Manager {op} failed"), detail).at(AttributePath::attr(arg))
}

/// What an import id is called in the diagnostics of an import, which never repeat it: an id is
/// typed or pasted by hand, and a secret pasted by mistake (a value instead of its name) must not
/// come back in Terraform's output. Terraform shows the id it imports from itself.
pub(crate) const IMPORT_ID: &str = "import id";

/// [`store_diag`] for the secret an import id names: the id is not repeated and is withheld
/// from AWS's message, as [`argument_store_diag`] does for an argument.
pub(crate) fn import_store_diag(op: &str, id: &str, e: &StoreError) -> Diagnostic {
    let message = withhold(e.message(), vec![(IMPORT_ID, id)]);
    let mut detail = format!(
        "Secrets Manager {op} for the secret that the {IMPORT_ID} names failed: {}: {}",
        e.code(),
        bounded(&message, MAX_SHOWN_MESSAGE)
    );
    match e {
        StoreError::ScheduledForDeletion { .. } => detail.push_str(
            "\n\nThe secret is scheduled for deletion. Restore it (aws secretsmanager restore-secret) to import it.",
        ),
        StoreError::AccessDenied { .. } => {
            detail.push_str("\n\n");
            detail.push_str(e.credentials_advice().unwrap_or(PERMISSION_ADVICE));
        }
        _ => {}
    }
    Diagnostic::error(format!("Secrets Manager {op} failed"), detail)
}

/// The error of an import whose id names no secret, without the id ([`IMPORT_ID`]).
pub(crate) fn import_not_found() -> Diagnostic {
    Diagnostic::error(
        "Cannot import non-existent remote object",
        format!(
            "No secret with the name or ARN given as the {IMPORT_ID} was found in Secrets Manager in this region. \
             Check the {IMPORT_ID} and the provider's region."
        ),
    )
}

/// After `CreateSecret` answered "already exists": is the existing secret
/// the one an interrupted earlier run of this very create made (provider
/// killed, or the apply cancelled, after AWS created the secret and before
/// Terraform stored it)? Then it is adopted and the create succeeds, so a
/// re-apply converges instead of failing until someone imports by hand.
///
/// It is adopted only when its create never finished and it is
/// indistinguishable from what this create would make now, so adopting
/// changes nothing about it:
/// - it carries [`CREATE_PENDING_TAG`]: every create sends it and removes it
///   once Terraform has the secret's state, so a secret without it was
///   completed by someone, maybe another state or workspace with the same
///   settings and value, and taking it over would let either state's destroy
///   delete the other's secret. The caller removes the tag after adopting;
/// - live (not scheduled for deletion), same name;
/// - the same description and, besides the marker, exactly the tags this
///   create sends (tags and default_tags merged); a configured KMS key must
///   match too;
/// - with `value_wo`/`binary_wo`: exactly one version, carrying AWSCURRENT
///   (nobody wrote to it since), holding the configured value. The value is
///   compared by Secrets Manager itself, without reading it: PutSecretValue
///   with that version's id as the idempotency token is ignored when the
///   value is the same and refused (ResourceExistsException) when it differs;
/// - with no value: no version at all;
/// - with `generate`: never (the value made now differs from the one made
///   then, and nothing identifies the old one as ours): the error stays.
///
/// Returns `Ok(None)` to keep the original "already exists" error. Only the
/// error path makes these calls (DescribeSecret, maybe PutSecretValue).
async fn adopt_interrupted_create(
    store: &dyn offstate_common::store::SecretStore,
    name: &str,
    config: &Value,
    description: Option<&str>,
    tags: &BTreeMap<String, String>,
) -> Result<Option<SecretMeta>, StoreError> {
    if !config.get("generate").is_null() {
        return Ok(None);
    }
    let Some(meta) = store.describe(name).await? else {
        return Ok(None);
    };
    let same_kms = match (
        own_key(config.get("kms_key_id")),
        meta.kms_key_id.as_deref().filter(|k| !is_default_key(k)),
    ) {
        (None, _) => true,
        (Some(want), Some(have)) => {
            have == want
                || have.ends_with(&format!("/{want}"))
                || have.ends_with(&format!(":{want}"))
        }
        (Some(_), None) => false,
    };
    // Only a secret whose create never finished carries the marker; a completed one (another
    // state's, even with these very settings and value) is not ours to take.
    let same_tags = meta.tags.contains_key(CREATE_PENDING_TAG) && shown_tags(&meta.tags) == *tags;
    let same_metadata = meta.name == name
        && !meta.is_scheduled_for_deletion()
        && meta.description.as_deref().filter(|d| !d.is_empty()) == description
        && same_tags
        && same_kms;
    if !same_metadata {
        return Ok(None);
    }
    let value = match configured_value(config) {
        Ok(v) => v,
        Err(_) => return Ok(None),
    };
    let adopted = match value {
        None => meta.version_stages.is_empty(),
        Some((value, binary)) => {
            let Some(current) = meta.current_version_id.clone() else {
                return Ok(None);
            };
            if meta.version_stages.len() != 1 {
                return Ok(None);
            }
            let check = PutValue {
                secret_id: meta.arn.clone(),
                value,
                binary,
                client_request_token: Some(current.clone()),
            };
            match store.put_value(check).await {
                Ok(id) => id == current,
                Err(StoreError::AlreadyExists { .. } | StoreError::InvalidParameter { .. }) => {
                    false
                }
                Err(e) => return Err(e),
            }
        }
    };
    if adopted {
        tracing::info!(secret = %name, "adopted the secret an interrupted create had made (same metadata and value)");
        Ok(Some(meta))
    } else {
        Ok(None)
    }
}

/// "Already exists" for a create with `generate`, which [`adopt_interrupted_create`] never
/// adopts. [`store_diag`]'s advice says the secret is not one an interrupted apply left, which
/// is untrue of a generated secret whose create's answer was lost (seen: a 200 that could not be
/// read, then every re-apply failing so): say how to keep it instead.
fn generated_exists_diag(name: &str, e: &StoreError) -> Diagnostic {
    let name = &*bounded(name, MAX_SHOWN_ID);
    Diagnostic::error(
        "Secrets Manager CreateSecret failed",
        format!(
            "Secrets Manager CreateSecret for secret {name:?} failed: {}: {}\n\n\
             A secret with this name already exists. One that an interrupted apply of this configuration created \
             (still tagged {CREATE_PENDING_TAG}) is not adopted when its value is generated: that value was made \
             then, and nothing tells the secret from one another state or workspace created. If it is the one you \
             mean, import it (terraform import <address> {name}): the next apply writes a newly generated value, \
             the old one staying as AWSPREVIOUS. Otherwise delete it or choose another name.",
            e.code(),
            bounded(e.message(), MAX_SHOWN_MESSAGE)
        ),
    )
}

/// What "already exists" means for a create sent without [`CREATE_PENDING_TAG`] (its tags fill
/// the limit): even a secret an interrupted apply of this very configuration left behind is not
/// adopted, as nothing tells it from one that another state completed.
fn unmarked_create_advice(name: &str) -> String {
    let name = &*bounded(name, MAX_SHOWN_ID);
    format!(
        "\n\nThis secret's tags (tags_all) fill Secrets Manager's limit of {} tags, so its create carries no \
         {CREATE_PENDING_TAG} tag, and a secret an interrupted apply of this configuration left behind cannot be told \
         from one another state created: it is never adopted. If {name:?} is that secret (or any you mean to manage \
         here), import it (terraform import <address> {name}, or an `import` block).",
        crate::tags::MAX_TAGS_PER_SECRET
    )
}

/// The warning of a create whose UntagResource of [`CREATE_PENDING_TAG`] failed: the secret is
/// made and in the state, but still looks like one an interrupted create left.
fn pending_tag_left(name: &str, e: &StoreError) -> Diagnostic {
    let name = &*bounded(name, MAX_SHOWN_ID);
    Diagnostic::warning(
        "Secret created, its create-pending tag remains",
        format!(
            "The secret {name:?} is created and in the state, but Secrets Manager UntagResource failed: {}: {}\n\n\
             The tag {CREATE_PENDING_TAG} marks a secret whose create never finished. While it remains, a create of \
             the same name in another state (with the same settings and value) takes this secret over as its own, \
             and destroying either state deletes it. Allow secretsmanager:UntagResource and remove the tag \
             (aws secretsmanager untag-resource --secret-id {name} --tag-keys {CREATE_PENDING_TAG}). Terraform \
             never shows it in tags or tags_all.",
            e.code(),
            bounded(e.message(), MAX_SHOWN_MESSAGE)
        ),
    )
}

/// A name from a prefix: the prefix, a UTC timestamp and random digits,
/// like the AWS provider's `terraform-2026...` names.
fn name_from_prefix(prefix: &str) -> String {
    use rand::Rng;
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut rng = rand::rng();
    let random: String = (0..(PREFIX_SUFFIX_LEN - 10))
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect();
    format!("{prefix}{secs:010}{random}")
}

/// The region part of a Secrets Manager ARN (`arn:PARTITION:secretsmanager:REGION:...`).
pub(crate) fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(5, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    let _service = parts.next()?;
    parts.next().filter(|r| !r.is_empty())
}

/// A refresh that finds no secret behind an ARN of another region than the provider's: the
/// resource's provider configuration changed (its `region`, an alias, a module's `providers`),
/// not the secret. Dropped from the state, the resource would be planned anew in this region and
/// the secret (with its value, its rotation) left behind, with nothing in the plan but a create.
/// Used by the refresh of `offstate_secret` and of `offstate_secret_rotation`.
pub(crate) fn other_region_diag(arn: &str, secret_region: &str, own: &str) -> Diagnostic {
    let arn = &*bounded(arn, MAX_SHOWN_ID);
    Diagnostic::error(
        "Secret in another region",
        format!(
            "The state holds secret {arn:?}, in region {secret_region}, and this resource's provider configuration acts in \
             {own}: Secrets Manager there cannot find it. Removing the resource from the state would plan it anew in \
             {own} and leave the secret behind in {secret_region}, unmanaged, with its value. If the provider \
             configuration (its region, the `provider` argument, a module's `providers`) changed by mistake, change it \
             back. To move to {own} on purpose, `terraform state rm` this resource (the secret stays in {secret_region}; \
             delete it there yourself), or destroy it with the old configuration first, then apply."
        ),
    )
}

/// The account part of a Secrets Manager ARN (`arn:PARTITION:secretsmanager:REGION:ACCOUNT:...`).
pub(crate) fn arn_account(arn: &str) -> Option<&str> {
    arn_region(arn)?;
    arn.split(':')
        .nth(4)
        .filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
}

/// A refresh that finds no secret behind an ARN of another account than the one the provider's
/// credentials act in: the credentials changed (another profile, environment, `assume_role`
/// into another account), not the secret. Like [`other_region_diag`]: dropped from the state,
/// the resource would be planned anew in this account and the secret left behind with its value.
pub(crate) fn other_account_diag(arn: &str, secret_account: &str, own: &str) -> Diagnostic {
    let arn = &*bounded(arn, MAX_SHOWN_ID);
    Diagnostic::error(
        "Secret in another account",
        format!(
            "The state holds secret {arn:?}, in AWS account {secret_account}, and this resource's provider configuration \
             acts in account {own}: Secrets Manager there cannot find it. Removing the resource from the state would plan \
             it anew in {own} and leave the secret behind in {secret_account}, unmanaged, with its value. If the \
             credentials changed by mistake (the profile, the environment's keys, `assume_role`), change them back. To move \
             to {own} on purpose, `terraform state rm` this resource (the secret stays in {secret_account}; delete it \
             there yourself), or destroy it with the old credentials first, then apply. If the secret was deleted in \
             {secret_account}, `terraform state rm` this resource."
        ),
    )
}

/// Whether a refresh that found no secret behind `arn` must keep the resource (an error is in
/// `diags`): the ARN names another account than the credentials' ([`other_account_diag`]), or
/// Terraform stopped the provider while the account was asked for. The account is asked for only
/// here, once per process ([`crate::provider::Account`]). When it cannot be learnt (STS
/// unreachable: an endpoint set for Secrets Manager alone), the resource goes as before, with a
/// warning saying that the account was not checked.
pub(crate) async fn other_account(handle: &Handle, arn: &str, diags: &mut Diagnostics) -> bool {
    let (Some(secret_account), Some(account)) = (arn_account(arn), handle.account()) else {
        return false;
    };
    match account.get().await {
        Ok(own) if own == secret_account => false,
        Ok(own) => {
            diags.push(other_account_diag(arn, secret_account, own));
            true
        }
        Err(e) if e.is_stopped() => {
            diags.push(store_diag("GetCallerIdentity", arn, e));
            true
        }
        Err(e) => {
            let shown = &*bounded(arn, MAX_SHOWN_ID);
            diags.push(Diagnostic::warning(
                "Secret's account not checked",
                format!(
                    "Secrets Manager found no secret {shown:?} (account {secret_account}), so it is removed from the state. \
                     Whether the provider's credentials act in that account could not be checked: STS GetCallerIdentity \
                     failed: {}: {}. If the credentials now act in another account, the secret still exists there: \
                     import it again with the old credentials. (STS is reached through AWS_ENDPOINT_URL_STS or \
                     AWS_ENDPOINT_URL when set.)",
                    e.code(),
                    bounded(e.message(), MAX_SHOWN_MESSAGE)
                ),
            ));
            false
        }
    }
}

/// Whether the configured `name_prefix` asks for another secret than `prior`. No prefix in
/// the configuration never does (the name stays), and neither does the prefix the prior name
/// was made from, recorded or not: an imported secret records none, and one moved from
/// hashicorp/aws may record its default `terraform-` while the configuration sets none.
fn prefix_requires_replace(config: &Value, prior: &Value) -> bool {
    let Some(want) = config.get("name_prefix").as_str() else {
        return false;
    };
    prior.get("name_prefix").as_str() != Some(want)
        && !generated_from(prior.get("name").as_str().unwrap_or_default(), want)
}

/// Whether `name` is `prefix` plus a generated suffix: ours, or hashicorp/aws's (a timestamp
/// and a hex counter), both 26 characters.
fn generated_from(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix).is_some_and(|suffix| {
        suffix.len() == PREFIX_SUFFIX_LEN && suffix.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// The state written for a secret: everything from AWS plus the settings
/// only Terraform knows (trigger, recovery window, configured tags).
fn state_from(meta: &SecretMeta, base: &Value) -> Value {
    let mut s = base.clone();
    s.set("id", Value::string(&meta.arn));
    s.set("arn", Value::string(&meta.arn));
    s.set("name", Value::string(&meta.name));
    s.set(
        "version_id",
        Value::opt_string(meta.current_version_id.clone()),
    );
    s.set("tags_all", tags_value(&shown_tags(&meta.tags)));
    s.set(
        "replica_status",
        Value::Map(
            meta.replicas
                .iter()
                .map(|r| {
                    (
                        r.region.clone(),
                        Value::string(r.status.clone().unwrap_or_else(|| "Unknown".into())),
                    )
                })
                .collect(),
        ),
    );
    s
}

/// The argument the value comes from: `value_wo`, `binary_wo` or `generate`, for diagnostics.
fn value_source(config: &Value) -> AttributePath {
    let source = ["binary_wo", "generate"]
        .into_iter()
        .find(|k| !config.get(k).is_null())
        .unwrap_or("value_wo");
    AttributePath::attr(source)
}

fn check_value_size(v: &SecretValue, source: AttributePath, diags: &mut Diagnostics) -> bool {
    if v.len() > MAX_VALUE_BYTES {
        diags.attr_error(
            source,
            "Secret value too large",
            format!(
                "Secrets Manager accepts at most {MAX_VALUE_BYTES} bytes; this value has {} bytes.",
                v.len()
            ),
        );
        return false;
    }
    if v.is_empty() {
        diags.attr_error(
            source,
            "Empty secret value",
            "Secrets Manager does not accept an empty value. Leave the value unset to create a secret without one.",
        );
        return false;
    }
    true
}

impl SecretResource {
    /// The plan of a create with a known `name`: DescribeSecret (never a value) tells now what
    /// CreateSecret would refuse at apply, when a replace may already have deleted the old
    /// secret. A name scheduled for deletion is an error; a live secret of that name is an error
    /// when this plan replaces that very secret and its delete keeps the name taken (a recovery
    /// window above 0), or replaces another object with a name already taken, and a warning
    /// otherwise (a tainted object's replace and a plain create look alike: Terraform sends
    /// no private state for either). Terraform shows only the errors of a replace's second
    /// call, never its warnings. Any other DescribeSecret failure (access denied, throttling,
    /// network) is logged and the plan goes on: the check is advice, and the store's own
    /// timeouts and retries bound it.
    async fn check_name_is_free(&self, name: &str, prior_private: &[u8], diags: &mut Diagnostics) {
        let Ok(c) = self.handle.get() else {
            return;
        };
        if validate_name(name).is_err() {
            return;
        }
        let meta = match c.store.describe(name).await {
            Ok(Some(meta)) => meta,
            Ok(None) => return,
            Err(e) if e.is_not_found() => return,
            Err(e) => {
                tracing::debug!(secret = %name, api = "DescribeSecret", code = %e.code(), "not checking at plan whether the name is free");
                return;
            }
        };
        // DescribeSecret also matches a partial ARN (a name ending in -XXXXXX): only this very
        // name takes it.
        if meta.name != name {
            return;
        }
        let shown = &*bounded(name, MAX_SHOWN_ID);
        let at = AttributePath::attr("name");
        if meta.is_scheduled_for_deletion() {
            return diags.attr_error(
                at,
                "Secret name scheduled for deletion",
                format!(
                    "Secrets Manager holds a secret named {shown:?} that is scheduled for deletion, so creating it would fail at apply \
                     (CreateSecret refuses the name until the recovery window ends).\n\n{}",
                    scheduled_for_deletion_advice(shown)
                ),
            );
        }
        match replaced_object(prior_private) {
            Some((arn, days)) if arn == meta.arn && days > 0 => diags.attr_error(
                at,
                "Replacing this secret would fail",
                format!(
                    "This plan replaces secret {shown:?} and keeps its name. Destroying it first schedules its deletion \
                     (recovery_window_in_days = {days} in the state), and Secrets Manager refuses to create a secret with the \
                     name of one scheduled for deletion: the apply would delete the secret and then fail to create it, leaving \
                     no secret in the state. To replace it, first apply recovery_window_in_days = 0 on its own (that calls \
                     nothing), then replace; or use name_prefix or another name. Under create_before_destroy the create \
                     comes first and the name is still taken, so only name_prefix or another name can replace it."
                ),
            ),
            Some((arn, _)) if arn == meta.arn => {}
            Some(_) => diags.attr_error(
                at,
                "Secret name already exists",
                format!(
                    "This plan replaces a secret with one named {shown:?}, and Secrets Manager already has a secret of that name \
                     (not in this resource's state): the apply would delete the old secret and then fail to create the new one \
                     (ResourceExistsException). Choose another name, or import the existing secret (an `import` block or \
                     `terraform import`) into another resource first."
                ),
            ),
            None => diags.attr_warning(
                at,
                "Secret name already exists",
                format!(
                    "Secrets Manager already has a secret named {shown:?}. If this plan replaces it (a tainted secret, \
                     -replace, or a change that forces replacement), destroying it first with recovery_window_in_days above 0 \
                     schedules its deletion and the create then fails: apply recovery_window_in_days = 0 before the replace \
                     (`terraform untaint` a tainted one first), or use name_prefix. Otherwise it was made outside this \
                     state and CreateSecret will refuse the name: import it (an `import` block or `terraform import`) or \
                     choose another name. A secret left behind by an interrupted apply of this configuration (still tagged \
                     {CREATE_PENDING_TAG}) is adopted instead when it matches it."
                ),
            ),
        }
    }

    /// Compare mode: does the configured value differ from AWSCURRENT? The
    /// current value is read into a `SecretValue`, compared in constant time
    /// and dropped (zeroed); nothing about it is kept.
    async fn value_differs(&self, config: &Value, prior: &Value) -> Result<bool, Diagnostic> {
        let Some(want) = config.get("value_wo").as_str() else {
            return Ok(false);
        };
        let c = self.handle.get()?;
        let arn = prior.get("arn").as_str().unwrap_or_default();
        // A rotated secret differs from the configuration by design: never
        // revert what the rotation function wrote.
        match c.store.describe(arn).await {
            Ok(Some(meta)) if meta.rotation.enabled => {
                tracing::info!(secret = %arn, "rotation is enabled; compare_value leaves the rotated value alone");
                return Ok(false);
            }
            Ok(_) => {}
            Err(e) => {
                return Err(
                    store_diag("DescribeSecret", arn, &e).at(AttributePath::attr("compare_value"))
                )
            }
        }
        match c
            .store
            .get_value(arn, offstate_common::store::VersionSelector::Current)
            .await
        {
            Ok(have) => Ok(!have
                .value
                .ct_eq(&SecretValue::from_string(want.to_string()))),
            Err(e) if e.is_not_found() => Ok(true),
            Err(e) => {
                Err(store_diag("GetSecretValue", arn, &e).at(AttributePath::attr("compare_value")))
            }
        }
    }
}

#[async_trait]
impl offstate_framework::Resource for SecretResource {
    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema {
            version: 0,
            attributes: vec![IdentityAttribute {
                name: "arn".into(),
                ty: Type::String,
                description: "ARN of the secret.".into(),
                required_for_import: true,
                optional_for_import: false,
            }],
        })
    }

    fn identity(&self, state: &Value) -> Option<Value> {
        let arn = state.get("arn");
        (!arn.is_null() && !arn.is_unknown()).then(|| Value::object([("arn", arn.clone())]))
    }

    async fn move_state(&self, req: &MoveStateRequest<'_>, resp: &mut MoveStateResponse) {
        let from_aws = req.source_provider_address.ends_with("hashicorp/aws");
        if !from_aws {
            return;
        }
        let src = req.source_state;
        let text = |k: &str| {
            src.get(k)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut s = empty_state();
        match req.source_type_name {
            // Metadata moves over; there is no value in this source.
            "aws_secretsmanager_secret" => {
                let Some(arn) = text("arn").or_else(|| text("id")) else {
                    return resp
                        .diagnostics
                        .error("Unable to move resource state", "The source has no arn.");
                };
                s.set("id", Value::string(&arn));
                s.set("arn", Value::string(&arn));
                s.set("name", Value::opt_string(text("name")));
                s.set("name_prefix", Value::opt_string(text("name_prefix")));
                s.set("description", Value::opt_string(text("description")));
                s.set("kms_key_id", Value::opt_string(text("kms_key_id")));
                let map = |k: &str| {
                    src.get(k).and_then(|v| v.as_object()).map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                            .collect::<BTreeMap<_, _>>()
                    })
                };
                s.set(
                    "tags",
                    map("tags")
                        .filter(|m| !m.is_empty())
                        .map(|m| tags_value(&m))
                        .unwrap_or(Value::Null),
                );
                s.set("tags_all", tags_value(&map("tags_all").unwrap_or_default()));
                let window = src
                    .get("recovery_window_in_days")
                    .and_then(|v| v.as_i64())
                    .unwrap_or(DEFAULT_RECOVERY_WINDOW);
                s.set(
                    "recovery_window_in_days",
                    Value::Number(offstate_framework::value::Number::Int(window)),
                );
            }
            // The version resource carries the plaintext `secret_string`:
            // only its ids are read; everything else is left behind.
            "aws_secretsmanager_secret_version" => {
                let Some(arn) = text("arn")
                    .or_else(|| text("secret_id"))
                    .filter(|a| is_arn(a))
                else {
                    return resp.diagnostics.error(
                        "Unable to move resource state",
                        "The source version's secret_id is not an ARN.",
                    );
                };
                s.set("id", Value::string(&arn));
                s.set("arn", Value::string(&arn));
                s.set("version_id", Value::opt_string(text("version_id")));
                s.set("tags_all", Value::Map(Default::default()));
                s.set(
                    "recovery_window_in_days",
                    Value::Number(offstate_framework::value::Number::Int(
                        DEFAULT_RECOVERY_WINDOW,
                    )),
                );
            }
            _ => return,
        }
        tracing::info!(source = req.source_type_name, "moved into offstate_secret; source attributes other than ids and metadata were dropped");
        resp.target_state = s;
        // The value in AWS was written by hashicorp/aws (or whatever fed it):
        // a `generate` block added with the move adopts it (see
        // `adopts_moved_value`) until the first apply clears the marker.
        resp.target_private = with_adopt_marker(&[]);
    }

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate_config(&self, req: &ValidateConfigRequest<'_>) -> Diagnostics {
        let c = req.config;
        let mut d = Diagnostics::new();
        if let Some(name) = c.get("name").as_str() {
            if let Err(e) = validate_name(name) {
                d.attr_error(
                    AttributePath::attr("name"),
                    "Invalid secret name",
                    format!("{e}."),
                );
            }
        }
        if let Some(prefix) = c.get("name_prefix").as_str() {
            if prefix.len() + PREFIX_SUFFIX_LEN > MAX_NAME_LEN {
                d.attr_error(
                    AttributePath::attr("name_prefix"),
                    "Invalid name prefix",
                    format!("A prefix may be at most {} characters: {PREFIX_SUFFIX_LEN} are added to it.", MAX_NAME_LEN - PREFIX_SUFFIX_LEN),
                );
            } else if let Err(e) = validate_name(&format!("{prefix}x")) {
                d.attr_error(
                    AttributePath::attr("name_prefix"),
                    "Invalid name prefix",
                    format!("{e}."),
                );
            }
        }
        if c.get("name").is_known_set() && c.get("name_prefix").is_known_set() {
            d.attr_error(
                AttributePath::attr("name_prefix"),
                "Conflicting configuration arguments",
                "\"name_prefix\": conflicts with \"name\". Set one of them.",
            );
        }
        if let Some(n) = c.get("recovery_window_in_days").as_number() {
            let ok = n.as_i64().is_some_and(|n| n == 0 || (7..=30).contains(&n));
            if !ok {
                d.attr_error(
                    AttributePath::attr("recovery_window_in_days"),
                    "Invalid recovery window",
                    format!("recovery_window_in_days must be 0 (delete immediately) or a whole number from 7 to 30, got {n}."),
                );
            }
        }
        let sources: Vec<&str> = ["value_wo", "binary_wo", "generate"]
            .into_iter()
            .filter(|k| c.get(k).is_known_set())
            .collect();
        if sources.len() > 1 {
            d.attr_error(
                AttributePath::attr(sources[1]),
                "Conflicting configuration arguments",
                format!(
                    "\"{}\": conflicts with \"{}\". Set one source of the value.",
                    sources[1], sources[0]
                ),
            );
        }
        // Every known setting is checked, with others unknown (see `spec_from`).
        if !c.get("generate").is_null() {
            crate::generate::spec_from(c.get("generate"), &AttributePath::attr("generate"), &mut d);
        }
        check_json_fields(c.get("generate"), &mut d);
        crate::policy::validate(c, &mut d);
        let compare = c.get("compare_value").as_bool() == Some(true);
        if compare && c.get("binary_wo").is_known_set() {
            d.attr_error(
                AttributePath::attr("compare_value"),
                "Invalid compare_value",
                "compare_value works with value_wo only.",
            );
        }
        // Judged on known values only (see `Value::is_known_set`).
        let value_set = c.get("value_wo").is_known_set() || c.get("binary_wo").is_known_set();
        let no_value = c.get("value_wo").is_null() && c.get("binary_wo").is_null();
        let version_set = c.get("value_wo_version").is_known_set();
        let no_version = c.get("value_wo_version").is_null();
        let no_compare =
            c.get("compare_value").is_null() || c.get("compare_value").as_bool() == Some(false);
        if value_set && no_version && no_compare {
            d.attr_error(
                AttributePath::attr("value_wo_version"),
                "Missing required argument",
                "\"value_wo_version\" is required when \"value_wo\" is set: Terraform cannot see a write-only value change, \
                 so this trigger tells the provider when to write a new version. Use any string or number (a date, a counter) \
                 and change it whenever the value changes. Or set compare_value = true to have the provider \
                 compare the value with Secrets Manager at plan time instead.",
            );
        }
        if version_set && no_value && c.get("generate").is_null() {
            d.attr_warning(
                AttributePath::attr("value_wo_version"),
                "value_wo_version without value_wo",
                "value_wo_version only has an effect together with value_wo.",
            );
        }
        // A value known now is checked as apply would check it (base64, size, not empty), so
        // a bad one stops the plan instead of failing half-way through an apply. A generated
        // value is made only at apply.
        if c.get("generate").is_null() {
            match configured_value(c) {
                Ok(Some((v, _))) => {
                    check_value_size(&v, value_source(c), &mut d);
                    check_trigger_not_derived(&v, c, &mut d);
                    check_value_not_an_argument(&v, c, &mut d);
                }
                Ok(None) => {}
                Err(e) => d.push(e),
            }
        }
        d
    }

    async fn modify_plan(&self, req: &ModifyPlanRequest<'_>, resp: &mut ModifyPlanResponse) {
        if req.is_destroy() {
            return;
        }
        let p = &mut resp.planned_state;
        let config = req.config;
        if config.get("recovery_window_in_days").is_null() {
            p.set(
                "recovery_window_in_days",
                Value::Number(offstate_framework::value::Number::Int(
                    DEFAULT_RECOVERY_WINDOW,
                )),
            );
        }
        // A replica in the secret's own region is refused by ReplicateSecretToRegions only
        // after CreateSecret: the create fails with the secret made, Terraform taints it, and
        // the replace that follows deletes it with its recovery window and cannot create the
        // name again. Refused here, before anything exists.
        if let Some(own) = self.handle.get().ok().and_then(|c| c.store.region()) {
            for replica in config.get("replica").elements() {
                if replica.get("region").as_str() == Some(own) {
                    resp.diagnostics.attr_error(
                        AttributePath::attr("replica"),
                        "Invalid replica region",
                        format!("{own} is the region of the secret itself (the provider's region): a replica goes to another region."),
                    );
                }
            }
        }
        // The provider's default_tags go into tags_all, in plan and state in plain text, as
        // the resource's own arguments do: a value among them is refused as validate refuses
        // one among those (default_tags are not known to validate). One a tag of `tags`
        // overrides does not reach the state; a key `tags` sets to null overrides nothing (the
        // default applies: see `managed_tags`), so that default is checked.
        // (A generated value is made only at apply: configured_value would make one now.)
        if config.get("generate").is_null() {
            if let (Ok(c), Ok(Some((v, _)))) = (self.handle.get(), configured_value(config)) {
                let overridden = |k: &str| match config.get("tags") {
                    Value::Map(m) => m.get(k).is_some_and(|t| !t.is_null()),
                    _ => false,
                };
                let defaults: BTreeMap<String, String> = c
                    .default_tags
                    .iter()
                    .filter(|(k, _)| !overridden(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let seen = Value::Object(BTreeMap::from([
                    ("binary_wo".to_string(), config.get("binary_wo").clone()),
                    (
                        "the provider's default_tags".to_string(),
                        tags_value(&defaults),
                    ),
                ]));
                check_value_not_an_argument(&v, &seen, &mut resp.diagnostics);
            }
        }
        // tags_all is known at plan time whenever tags and default tags are; ignored tags are
        // left out, as refresh leaves them out.
        if config.get("tags").is_wholly_known() {
            let all = match self.handle.get() {
                Ok(c) => {
                    for key in config
                        .get("tags")
                        .as_string_map()
                        .unwrap_or_default()
                        .keys()
                    {
                        if c.ignore_tags.ignores(key) {
                            resp.diagnostics.attr_warning(
                                AttributePath::attr("tags").then_key(key),
                                "Tag ignored by the provider",
                                "The provider's ignore_tags covers this key: it is neither set nor removed on the secret, and every plan will show it as a change to `tags`. Remove it from `tags` or from ignore_tags.",
                            );
                        }
                    }
                    let all = c.managed_tags(config.get("tags"));
                    if let Some(d) = check_tag_count(&all, config.get("tags"), Some(&c.ignore_tags))
                    {
                        resp.diagnostics.push(d);
                    }
                    all
                }
                Err(_) => {
                    let all = merge_tags(&BTreeMap::new(), config.get("tags"));
                    if let Some(d) = check_tag_count(&all, config.get("tags"), None) {
                        resp.diagnostics.push(d);
                    }
                    all
                }
            };
            p.set("tags_all", tags_value(&all));
        }
        if req.is_create() {
            if let Some(n) = config.get("name").as_str() {
                p.set("name", Value::string(n));
                tracing::debug!(secret = %n, replaces = ?replaced_object(req.prior_private), private_bytes = req.prior_private.len(), "planning a create");
                self.check_name_is_free(n, req.prior_private, &mut resp.diagnostics)
                    .await;
            }
            resp.planned_private = without_key(req.prior_private, REPLACES_MARKER);
            return;
        }
        let prior = req.prior_state;
        // Read by the second call if Terraform makes this plan a replace.
        resp.planned_private = with_replaces_marker(req.prior_private, prior);
        // Identity of the secret never changes in place.
        for keep in ["id", "arn"] {
            p.set(keep, prior.get(keep).clone());
        }
        if config.get("name").is_null() {
            p.set("name", prior.get("name").clone());
        }
        let name_changed = match (config.get("name"), prior.get("name")) {
            (Value::Null, _) => false,
            (c, pr) => c != pr,
        };
        if name_changed {
            resp.requires_replace.push(AttributePath::attr("name"));
        }
        if prefix_requires_replace(config, prior) {
            resp.requires_replace
                .push(AttributePath::attr("name_prefix"));
            if config.get("name").is_null() {
                p.set("name", Value::Unknown);
            }
        }
        if config.get("replica") == prior.get("replica") {
            resp.planned_state
                .set("replica_status", prior.get("replica_status").clone());
        }
        let has_source = ["value_wo", "binary_wo", "generate"]
            .iter()
            .any(|k| !config.get(k).is_null());
        // `ignore_changes = [value_wo]` (or `binary_wo`) gives the plan a configuration without
        // the value (a write-only argument's prior value is always null), whatever the value
        // in the configuration: a trigger change then writes nothing, and the plan says so.
        if !has_source
            && config.get("value_wo_version").is_known_set()
            && trigger(config) != trigger(prior)
        {
            resp.diagnostics.attr_warning(
                AttributePath::attr("value_wo_version"),
                "No value to write",
                "value_wo_version changes, but this plan has no value_wo, binary_wo or generate, so no new version is \
                 written: only the new value_wo_version is recorded. An ignore_changes that lists value_wo or binary_wo \
                 removes the value from every plan after the create (Terraform never has a prior value of a \
                 write-only argument to keep).",
            );
        }
        let adopt = adopts_moved_value(req.prior_private, config, prior);
        if adopt {
            tracing::info!(secret = %prior.get("arn").as_str().unwrap_or_default(), "generate appears after a move from hashicorp/aws or an import with ?value_wo_version: the current value is kept, nothing is written");
        }
        let mut write = has_source && write_requested(config, prior) && !adopt;
        // A value not known until apply cannot be compared now: plan the write, and let
        // apply compare (and write nothing if it turns out current).
        if !write && compare_mode(config) && config.get("value_wo").is_unknown() {
            write = true;
        }
        if !write && compare_mode(config) {
            write = match self.value_differs(config, prior).await {
                Ok(d) => d,
                Err(diag) => {
                    resp.diagnostics.push(diag);
                    false
                }
            };
        }
        let p = &mut resp.planned_state;
        if write {
            p.set("version_id", Value::Unknown);
        } else {
            p.set("version_id", prior.get("version_id").clone());
        }
    }

    async fn create(&self, req: &CreateRequest<'_>, resp: &mut CreateResponse) {
        let c = match self.handle.get() {
            Ok(c) => c,
            Err(d) => return resp.diagnostics.push(d),
        };
        let config = req.config;
        let planned = req.planned_state;
        let name = match (
            config.get("name").as_str(),
            config.get("name_prefix").as_str(),
        ) {
            (Some(n), _) => n.to_string(),
            (None, Some(prefix)) => name_from_prefix(prefix),
            (None, None) => name_from_prefix("terraform-"),
        };
        // ValidateResourceConfig has checked the name already; a client that
        // skips it gets the same answer here, before any call.
        if let Err(e) = validate_name(&name) {
            let from = if config.get("name").is_null() && !config.get("name_prefix").is_null() {
                "name_prefix"
            } else {
                "name"
            };
            return resp.diagnostics.attr_error(
                AttributePath::attr(from),
                "Invalid secret name",
                format!("{e}."),
            );
        }
        let (value, binary) = match configured_value(config) {
            Ok(Some((v, b))) => (Some(v), b),
            Ok(None) => (None, false),
            Err(d) => return resp.diagnostics.push(d),
        };
        if let Some(v) = &value {
            if !check_value_size(v, value_source(config), &mut resp.diagnostics) {
                return;
            }
        }
        let tags = c.managed_tags(config.get("tags"));
        // Tags unknown at plan are counted now, before anything is made.
        if let Some(d) = check_tag_count(&tags, config.get("tags"), Some(&c.ignore_tags)) {
            return resp.diagnostics.push(d);
        }
        // The marker takes one of the secret's 50 tags. When the configuration's tags take them
        // all, the secret is created without it (with every tag the configuration gives, as a
        // tag policy or an SCP requiring tags at CreateSecret expects), and so is never adopted
        // after an interrupted create: "already exists", import it (`unmarked_create_advice`).
        let marked = tags.len() < crate::tags::MAX_TAGS_PER_SECRET;
        let mut sent_tags = tags.clone();
        if marked {
            sent_tags.insert(CREATE_PENDING_TAG.to_string(), "true".to_string());
        }
        let request = CreateSecret {
            name: name.clone(),
            description: non_empty(config.get("description")).map(str::to_string),
            kms_key_id: non_empty(config.get("kms_key_id")).map(str::to_string),
            tags: sent_tags,
            value,
            binary,
            // A fresh token per create call. The SDK repeats it on each
            // retry, so a CreateSecret whose answer was lost (connection
            // reset after AWS acted) is answered as a success, not as
            // "already exists", and makes no second version. A *re-run*
            // apply after a crash between CreateSecret and the state write
            // is handled by `adopt_interrupted_create` below instead of a
            // token derived from the name: such a token would be reused by
            // every later create of that name and would let a create
            // "succeed" on a secret whose history it did not write.
            client_request_token: Some(uuid::Uuid::new_v4().to_string()),
        };
        let description = request.description.clone();
        let wanted_tags = tags;
        tracing::info!(secret = %name, "creating secret");
        self.handle.claim_name(&name);
        let created = match c.store.create(request).await {
            // Another object of this configuration made (or is making) this very secret in
            // this apply: a for_each whose keys map to one name, a copied block. Adopting it
            // would leave two objects holding one secret, and the destroy of either deleting
            // the other's. Adoption is for a secret an interrupted earlier apply left behind.
            Err(StoreError::AlreadyExists { .. }) if self.handle.name_claimed_by_another(&name) => {
                self.handle.unclaim_name(&name);
                return resp.diagnostics.attr_error(
                    AttributePath::attr("name"),
                    "Secret name already exists",
                    format!(
                        "Another resource of this configuration creates the secret {:?} in this apply, and Secrets \
                         Manager keeps one secret per name (ResourceExistsException). Give each resource its own name \
                         (with for_each, make the name depend on each.key).",
                        &*bounded(&name, MAX_SHOWN_ID)
                    ),
                );
            }
            Err(e @ StoreError::AlreadyExists { .. }) if marked => {
                match adopt_interrupted_create(
                    c.store.as_ref(),
                    &name,
                    config,
                    description.as_deref(),
                    &wanted_tags,
                )
                .await
                {
                    Ok(Some(meta)) => {
                        self.handle.note_adopted(&meta.arn);
                        Ok(meta)
                    }
                    Ok(None) => Err(e),
                    Err(other) => Err(other),
                }
            }
            other => other,
        };
        match created {
            Ok(meta) => {
                let mut base = planned.clone();
                base.set(
                    "recovery_window_in_days",
                    planned.get("recovery_window_in_days").clone(),
                );
                let mut state = state_from(&meta, &base);
                // Nothing of the policy is applied yet: `policy::apply` records
                // it once PutResourcePolicy has succeeded.
                state.set("policy", Value::Null);
                state.set("block_public_policy", Value::Null);
                let arn = meta.arn.clone();
                if let Err(d) = crate::policy::apply(
                    c.store.as_ref(),
                    &self.handle,
                    &arn,
                    config,
                    &Value::Null,
                    &mut state,
                    &mut resp.diagnostics,
                )
                .await
                {
                    resp.diagnostics.push(d);
                }
                // Terraform gets this secret's state now (tainted if the policy failed): it is
                // no longer one an interrupted create left, and no other create may adopt it.
                if marked {
                    if let Err(e) = c.store.untag(&arn, &[CREATE_PENDING_TAG.to_string()]).await {
                        resp.diagnostics.push(pending_tag_left(&name, &e));
                    }
                }
                resp.state = state;
            }
            Err(e) => {
                self.handle.unclaim_name(&name);
                let exists = matches!(e, StoreError::AlreadyExists { .. });
                let mut d = if exists && marked && !config.get("generate").is_null() {
                    generated_exists_diag(&name, &e)
                } else {
                    store_diag("CreateSecret", &name, &e)
                }
                .at(AttributePath::attr("name"));
                if !marked && exists {
                    d.detail.push_str(&unmarked_create_advice(&name));
                }
                resp.diagnostics.push(d)
            }
        }
    }

    async fn read(&self, req: &ReadRequest<'_>, resp: &mut ReadResponse) {
        let c = match self.handle.get() {
            Ok(c) => c,
            Err(d) => return resp.diagnostics.push(d),
        };
        let prior = req.current_state;
        let id = prior
            .get("arn")
            .as_str()
            .or_else(|| prior.get("id").as_str())
            .unwrap_or_default()
            .to_string();
        match c.store.describe(&id).await {
            Ok(Some(meta)) if !meta.is_scheduled_for_deletion() => {
                let mut s = state_from(&meta, prior);
                if let Err(d) =
                    crate::policy::read(c.store.as_ref(), &meta.arn, &meta.replicas, prior, &mut s)
                        .await
                {
                    resp.diagnostics.push(d);
                }
                // AWS keeps no empty description and reports no key for the
                // default one: a configured "" stays "" rather than showing
                // as a change on every plan.
                let description = meta.description.clone().filter(|d| !d.is_empty());
                if description.is_some() || prior.get("description").as_str() != Some("") {
                    s.set("description", Value::opt_string(description));
                }
                // AWS may report the key as an ARN where the configuration
                // used an alias or id: keep the configured spelling while a
                // key is set on both sides.
                // Where both name the key itself (an id or key ARN, not an alias), a
                // different key is drift and shows.
                // The AWS managed key, reported as no key or as its alias, and configured as
                // null, "" or its alias, is one key: none of those spellings is drift.
                let prior_kms = prior.get("kms_key_id").as_str();
                let remote_kms = meta.kms_key_id.as_deref().filter(|k| !is_default_key(k));
                let other_key = match (
                    prior_kms.and_then(kms_key_of),
                    remote_kms.and_then(kms_key_of),
                ) {
                    (Some(a), Some(b)) => a != b,
                    _ => false,
                };
                let prior_default = prior_kms.is_some_and(is_default_key);
                if prior_kms.is_none() || (remote_kms.is_none() != prior_default) || other_key {
                    s.set("kms_key_id", Value::opt_string(remote_kms));
                }
                // `tags` holds what the configuration set: remote tags minus
                // those of a default_tags key, unless `tags` had that key (it
                // overrides the default). A default tag whose value changed in the
                // provider configuration is still a default tag: counted as the
                // secret's own, it came back in `tags`, and with `ignore_changes =
                // [tags]` it overrode the new default, which was never applied.
                // A key the configuration sets to null (`tags = { owner = var.owner }`
                // with no owner given) sets no tag, as in hashicorp/aws (#31587): it
                // stays null in `tags`, so the configuration is no diff, and the remote
                // tag of that key (a default tag's, or one set outside Terraform) is
                // shown in `tags_all` only.
                let null_keys: Vec<String> = match prior.get("tags") {
                    Value::Map(m) => m
                        .iter()
                        .filter(|(_, v)| v.is_null())
                        .map(|(k, _)| k.clone())
                        .collect(),
                    _ => Vec::new(),
                };
                let own: BTreeMap<String, String> = shown_tags(&meta.tags)
                    .into_iter()
                    .filter(|(k, _)| !null_keys.contains(k))
                    .filter(|(k, _)| {
                        !c.default_tags.contains_key(k) || prior.get("tags").get_map_key(k)
                    })
                    .collect();
                if own.is_empty() && null_keys.is_empty() && prior.get("tags").is_null() {
                    s.set("tags", Value::Null);
                } else {
                    let mut tags = tags_value(&own);
                    if let Value::Map(m) = &mut tags {
                        m.extend(null_keys.into_iter().map(|k| (k, Value::Null)));
                    }
                    s.set("tags", tags);
                }
                if s.get("recovery_window_in_days").is_null() {
                    s.set(
                        "recovery_window_in_days",
                        Value::Number(offstate_framework::value::Number::Int(
                            DEFAULT_RECOVERY_WINDOW,
                        )),
                    );
                }
                if prior.get("version_id") != s.get("version_id")
                    && !prior.get("version_id").is_null()
                {
                    tracing::info!(secret = %meta.name, "current version changed outside Terraform");
                }
                resp.state = s;
            }
            Ok(found) => {
                let elsewhere = arn_region(&id)
                    .zip(c.store.region())
                    .filter(|(r, own)| r != own);
                if let (None, Some((secret_region, own))) = (&found, elsewhere) {
                    return resp
                        .diagnostics
                        .push(other_region_diag(&id, secret_region, own));
                }
                if found.is_none() && other_account(&self.handle, &id, &mut resp.diagnostics).await
                {
                    return;
                }
                tracing::info!(secret = %id, "secret is gone or scheduled for deletion; removing it from state");
                resp.state = Value::Null;
            }
            Err(e) => resp.diagnostics.push(store_diag("DescribeSecret", &id, &e)),
        }
    }

    async fn update(&self, req: &UpdateRequest<'_>, resp: &mut UpdateResponse) {
        let c = match self.handle.get() {
            Ok(c) => c,
            Err(d) => return resp.diagnostics.push(d),
        };
        let prior = req.prior_state;
        // Terraform applies `ignore_changes` to the plan only: ApplyResourceChange gets the
        // configuration as written. The secret is brought to the planned state, which is the
        // configuration except where `ignore_changes` kept the prior value; only the write-only
        // arguments, null in every planned state, come from the configuration. Read from the
        // configuration, an ignored trigger, `generate`, description or tag was applied anyway
        // (a value written that the plan did not announce: "Provider produced inconsistent
        // result after apply").
        let mut planned = req.planned_state.clone();
        for write_only in ["value_wo", "binary_wo"] {
            planned.set(write_only, req.config.get(write_only).clone());
        }
        let config = &planned;
        let arn = prior.get("arn").as_str().unwrap_or_default().to_string();
        let mut state = req.planned_state.clone();

        // The value is decided and checked before anything changes: a bad one (known only
        // now) fails the apply with nothing done. Only a plan that announced a write (an
        // unknown `version_id`) may write.
        let write_planned = req.planned_state.get("version_id").is_unknown();
        let mut write = write_planned
            && write_requested(config, prior)
            && !adopts_moved_value(req.planned_private, config, prior);
        // Compare mode writes only what the plan announced (an unknown version_id): a value
        // changed in AWS since the plan shows in the next plan, never as an apply result that
        // contradicts this one. When a write was planned, check again: the value may be
        // current by now (or was unknown at plan time), and then nothing is written.
        if !write && compare_mode(config) && write_planned {
            match self.value_differs(config, prior).await {
                Ok(d) => write = d,
                Err(d) => {
                    resp.state = prior.clone();
                    return resp.diagnostics.push(d);
                }
            }
        }
        // Only a write needs the value (and only then is one generated).
        let desired = match write.then(|| configured_value(config)).transpose() {
            Ok(v) => v.flatten(),
            Err(d) => {
                resp.state = prior.clone();
                return resp.diagnostics.push(d);
            }
        };
        if let (true, Some((value, _))) = (write, &desired) {
            if !check_value_size(value, value_source(config), &mut resp.diagnostics) {
                resp.state = prior.clone();
                return;
            }
        }
        // Tags unknown at plan are counted now, before anything changes.
        if let Some(d) = check_tag_count(
            &c.managed_tags(config.get("tags")),
            config.get("tags"),
            Some(&c.ignore_tags),
        ) {
            resp.state = prior.clone();
            return resp.diagnostics.push(d);
        }
        // Then metadata, tags, policy and replicas, then the value.
        // "" and null mean the same to AWS: no description, the default key.
        let description = non_empty(config.get("description"));
        let kms = own_key(config.get("kms_key_id"));
        let update = MetadataUpdate {
            description: (description != non_empty(prior.get("description")))
                .then(|| description.unwrap_or_default().to_string()),
            // Unsetting the key goes back to the AWS managed key.
            kms_key_id: (kms != own_key(prior.get("kms_key_id")))
                .then(|| kms.unwrap_or(DEFAULT_KEY_ALIAS).to_string()),
        };
        if update != MetadataUpdate::default() {
            if let Err(e) = c.store.update_metadata(&arn, update).await {
                resp.state = prior.clone();
                return resp.diagnostics.push(store_diag("UpdateSecret", &arn, &e));
            }
        }
        let want = c.managed_tags(config.get("tags"));
        let have = prior.get("tags_all").as_string_map().unwrap_or_default();
        let removed: Vec<String> = have
            .keys()
            .filter(|k| !want.contains_key(*k))
            .cloned()
            .collect();
        let changed: BTreeMap<String, String> = want
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !removed.is_empty() {
            if let Err(e) = c.store.untag(&arn, &removed).await {
                resp.state = prior.clone();
                return resp
                    .diagnostics
                    .push(store_diag("UntagResource", &arn, &e).at(AttributePath::attr("tags")));
            }
        }
        if !changed.is_empty() {
            if let Err(e) = c.store.tag(&arn, &changed).await {
                resp.state = prior.clone();
                return resp
                    .diagnostics
                    .push(store_diag("TagResource", &arn, &e).at(AttributePath::attr("tags")));
            }
        }
        state.set("tags_all", tags_value(&want));

        if let Err(d) = crate::policy::apply(
            c.store.as_ref(),
            &self.handle,
            &arn,
            config,
            prior,
            &mut state,
            &mut resp.diagnostics,
        )
        .await
        {
            resp.state = metadata_applied(prior, &state, &want);
            return resp.diagnostics.push(d);
        }
        // The apply that wrote the value for this trigger change lost its state: refresh made
        // that version the prior one, while the state still has the trigger before the change.
        // It is not written a second time. A state with no trigger (imported, or the trigger
        // removed and set again) writes as always.
        let current = prior.get("version_id").as_str();
        let already = match (trigger(config), trigger(prior), current) {
            (Some(t), Some(_), Some(cur)) if write && written_for_trigger(&arn, cur, t) => {
                Some(cur.to_string())
            }
            _ => None,
        };
        if let Some(cur) = already {
            tracing::info!(secret = %arn, "the current version was written for this value_wo_version by an apply whose state was lost; keeping it");
            state.set("version_id", Value::string(cur));
            resp.state = state;
            resp.private = without_key(&without_adopt_marker(req.planned_private), REPLACES_MARKER);
            return;
        }
        match (write, desired) {
            (true, Some((value, binary))) => {
                let token = match trigger(config) {
                    Some(t) => version_token(&arn, prior.get("version_id").as_str(), t),
                    None => uuid::Uuid::new_v4().to_string(),
                };
                let put = PutValue {
                    secret_id: arn.clone(),
                    value,
                    binary,
                    client_request_token: Some(token.clone()),
                };
                tracing::info!(secret = %arn, "writing a new version");
                match c.store.put_value(put).await {
                    Ok(version_id) => state.set("version_id", Value::string(version_id)),
                    Err(e @ StoreError::AlreadyExists { .. }) => {
                        // The token names this trigger change: an earlier apply of it
                        // wrote the version and was interrupted before Terraform saved the
                        // state. Keep that version rather than write a second one.
                        match c.store.describe(&arn).await {
                            Ok(Some(meta))
                                if meta.current_version_id.as_deref() == Some(&*token) =>
                            {
                                tracing::info!(secret = %arn, "the version for this value_wo_version was written by an interrupted apply; keeping it");
                                state.set("version_id", Value::string(token));
                            }
                            _ => {
                                resp.state = metadata_applied(prior, &state, &want);
                                return resp.diagnostics.push(
                                    store_diag("PutSecretValue", &arn, &e).at(value_source(config)),
                                );
                            }
                        }
                    }
                    Err(e) => {
                        // Metadata changes went through; the value did not.
                        resp.state = metadata_applied(prior, &state, &want);
                        return resp
                            .diagnostics
                            .push(store_diag("PutSecretValue", &arn, &e).at(value_source(config)));
                    }
                }
            }
            (true, None) => {
                state.set("version_id", prior.get("version_id").clone());
                resp.diagnostics.attr_warning(
                    AttributePath::attr("value_wo_version"),
                    "No value written",
                    "value_wo_version changed but no value (value_wo, binary_wo or generate) is set, so no new version was written.",
                );
            }
            (false, _) => state.set("version_id", prior.get("version_id").clone()),
        }
        resp.state = state;
        // The first apply after a move ends the adoption window, whatever it
        // changed; a failed one (returned above) keeps the marker.
        resp.private = without_key(&without_adopt_marker(req.planned_private), REPLACES_MARKER);
    }

    async fn delete(&self, req: &DeleteRequest<'_>, resp: &mut DeleteResponse) {
        let c = match self.handle.get() {
            Ok(c) => c,
            Err(d) => return resp.diagnostics.push(d),
        };
        let prior = req.prior_state;
        let arn = prior.get("arn").as_str().unwrap_or_default();
        let days = prior
            .get("recovery_window_in_days")
            .as_i64()
            .unwrap_or(DEFAULT_RECOVERY_WINDOW);
        // A create earlier in this run adopted this very secret (a replacement created before
        // the delete, `create_before_destroy`, or a new resource of the same name and value
        // created before the old one is destroyed): the new object holds it now, and deleting it
        // would leave that object pointing at nothing. Only the old object leaves the state (its replicas are the new one's too).
        if self.handle.was_adopted(arn) {
            let shown = &*bounded(arn, MAX_SHOWN_ID);
            tracing::info!(secret = %arn, "not deleting a secret a create of this run took over");
            return resp.diagnostics.push(Diagnostic::warning(
                "Secret kept: the new object holds it",
                format!(
                    "Secret {shown} was not deleted: earlier in this apply the object created in its place found it holding \
                     the name with the same settings and value, and took it over (Secrets Manager keeps one secret per name; \
                     with create_before_destroy the new object is created while the old one still holds it). The state keeps \
                     the secret under the new object; the old object is removed. To get a new secret instead, replace without \
                     create_before_destroy, or give the new object another name."
                ),
            ));
        }
        // Secrets Manager deletes a primary secret only once it has no replicas (hashicorp/aws
        // removes them first too). Replicas go at once, whatever the recovery window.
        let replicas = crate::policy::all_replica_regions(prior);
        if !replicas.is_empty() {
            tracing::info!(secret = %arn, replicas = replicas.len(), "removing the replicas before deleting the secret");
            match c.store.remove_replica_regions(arn, &replicas).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => return,
                Err(e) => {
                    return resp.diagnostics.push(store_diag(
                        "RemoveRegionsFromReplication",
                        arn,
                        &e,
                    ))
                }
            }
        }
        let deletion = Deletion::from_recovery_window_days(days);
        tracing::info!(secret = %arn, days, "deleting secret");
        match c.store.delete(arn, deletion).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => return,
            // Already scheduled for deletion: nothing left to do.
            Err(StoreError::ScheduledForDeletion { .. }) => return,
            Err(e) => return resp.diagnostics.push(store_diag("DeleteSecret", arn, &e)),
        }
        if deletion == Deletion::Immediate {
            wait_until_gone(c.store.as_ref(), &self.handle, arn, &mut resp.diagnostics).await;
        }
    }

    async fn import_state(&self, req: &ImportStateRequest<'_>, resp: &mut ImportStateResponse) {
        let c = match self.handle.get() {
            Ok(c) => c,
            Err(d) => return resp.diagnostics.push(d),
        };
        let from_identity = req
            .identity
            .and_then(|i| i.get("arn").as_str())
            .map(str::to_string);
        let raw_id = from_identity.as_deref().unwrap_or(req.id);
        let (id, trigger) = match raw_id.split_once("?value_wo_version=") {
            Some((id, v)) => (id, Some(v)),
            None => (raw_id, None),
        };
        // `SECRET_ID|VERSION_ID` is how hashicorp/aws imports an aws_secretsmanager_secret_version,
        // which an offstate_secret replaces: no secret name or ARN holds a `|`, so say what to
        // import by rather than "not found".
        if id.contains('|') {
            return resp.diagnostics.error(
                "Invalid import id",
                "The import id holds a \"|\": SECRET_ID|VERSION_ID is the import id of aws_secretsmanager_secret_version \
                 (hashicorp/aws). Import an offstate_secret by the secret's name or ARN alone, the part before the \"|\", \
                 optionally followed by ?value_wo_version=V to adopt the current value under that trigger.",
            );
        }
        if id.is_empty() || (!is_arn(id) && validate_name(id).is_err()) {
            return resp.diagnostics.error(
                "Invalid import id",
                "Import an offstate_secret by its name or ARN, optionally followed by ?value_wo_version=V to adopt the \
                 current value under that trigger (so the next plan has no changes).",
            );
        }
        match c.store.describe(id).await {
            Ok(Some(meta)) if !meta.is_scheduled_for_deletion() => {
                // Only metadata: import never reads a value.
                resp.state = imported_state(&meta, &c.default_tags, trigger);
                // `?value_wo_version=V` says the value in AWS is version V of the
                // configuration, whatever its value source: a `generate` block with
                // `value_wo_version = "V"` adopts it as after a move (`adopts_moved_value`)
                // until the first apply clears the marker. Without it, `generate` generates;
                // so it does on a secret that has no value yet (no current version): there is
                // nothing to adopt, and adopting would leave it empty.
                if trigger.is_some() && meta.current_version_id.is_some() {
                    resp.private = with_adopt_marker(&[]);
                }
            }
            Ok(Some(meta)) => resp.diagnostics.error(
                "Cannot import a secret scheduled for deletion",
                format!("Secret {:?} is scheduled for deletion. Restore it first (aws secretsmanager restore-secret).", meta.name),
            ),
            // The id is not repeated (IMPORT_ID): the secret found is named by AWS's name for it.
            Ok(None) => resp.diagnostics.push(import_not_found()),
            Err(e) if e.is_not_found() => resp.diagnostics.push(import_not_found()),
            Err(e) => resp.diagnostics.push(import_store_diag("DescribeSecret", id, &e)),
        }
    }
}

/// The state of an existing secret as import (and `terraform query`) sees
/// it: metadata only, with the defaults a configuration would have.
pub(crate) fn imported_state(
    meta: &SecretMeta,
    default_tags: &BTreeMap<String, String>,
    trigger: Option<&str>,
) -> Value {
    let mut s = state_from(meta, &empty_state());
    s.set("value_wo_version", Value::opt_string(trigger));
    s.set(
        "replica",
        Value::Set(
            meta.replicas
                .iter()
                .map(|r| {
                    Value::object([
                        ("region", Value::string(&r.region)),
                        (
                            "kms_key_id",
                            Value::opt_string(
                                r.kms_key_id.as_deref().filter(|k| !is_default_key(k)),
                            ),
                        ),
                    ])
                })
                .collect(),
        ),
    );
    s.set(
        "description",
        Value::opt_string(meta.description.clone().filter(|d| !d.is_empty())),
    );
    s.set(
        "kms_key_id",
        Value::opt_string(meta.kms_key_id.as_deref().filter(|k| !is_default_key(k))),
    );
    let own: BTreeMap<String, String> = shown_tags(&meta.tags)
        .into_iter()
        .filter(|(k, v)| default_tags.get(k) != Some(v))
        .collect();
    s.set(
        "tags",
        if own.is_empty() {
            Value::Null
        } else {
            tags_value(&own)
        },
    );
    s.set(
        "recovery_window_in_days",
        Value::Number(offstate_framework::value::Number::Int(
            DEFAULT_RECOVERY_WINDOW,
        )),
    );
    s
}

/// A state of this schema with nothing set (`Block::empty_value`).
fn empty_state() -> Value {
    // A set-nested block with no blocks (replica) is an empty set, never null.
    schema().empty_value()
}

/// Small helper on Value used above: whether a map value has a key.
trait MapKey {
    fn get_map_key(&self, k: &str) -> bool;
}

impl MapKey for Value {
    fn get_map_key(&self, k: &str) -> bool {
        matches!(self, Value::Map(m) if m.contains_key(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_token_says_which_trigger_it_was_written_for() {
        let arn = "arn:aws:secretsmanager:us-east-1:1:secret:a-AbCdEf";
        let t = version_token(arn, Some("11111111-2222-4333-8444-555555555555"), "2");
        assert!(written_for_trigger(arn, &t, "2"));
        assert_ne!(
            t,
            version_token(arn, Some("other"), "2"),
            "unique per replaced version"
        );
        assert!(!written_for_trigger(arn, &t, "3"));
        assert!(!written_for_trigger(
            "arn:aws:secretsmanager:us-east-1:1:secret:b-AbCdEf",
            &t,
            "2"
        ));
        assert!(!written_for_trigger(
            arn,
            "11111111-2222-4333-8444-555555555555",
            "2"
        ));
        assert!(!written_for_trigger(arn, "not-a-uuid", "2"));
    }

    #[test]
    fn the_region_of_an_arn() {
        assert_eq!(
            arn_region("arn:aws:secretsmanager:eu-west-1:123456789012:secret:a/b:c-AbCdEf"),
            Some("eu-west-1")
        );
        assert_eq!(
            arn_region("arn:aws-cn:secretsmanager:cn-north-1:1:secret:x"),
            Some("cn-north-1")
        );
        for not_one in [
            "name",
            "a/b",
            "arn:aws:secretsmanager",
            "arn:aws:secretsmanager::1:secret:x",
            "nra:aws:s:r:1:x",
        ] {
            assert_eq!(arn_region(not_one), None, "{not_one}");
        }
    }

    #[test]
    fn the_other_account_error_reads_as_one_paragraph() {
        // The message was written with its line breaks' indentation inside the string: the
        // diagnostic showed runs of 14 spaces mid-sentence. It also names the way out when the
        // secret was deleted in its account (the error stays on every refresh until then).
        let d = other_account_diag(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AbCdEf",
            "123456789012",
            "210987654321",
        );
        assert!(!d.detail.contains("  "), "{}", d.detail);
        assert!(d.detail.ends_with(
            "If the secret was deleted in 123456789012, `terraform state rm` this resource."
        ));
    }

    #[test]
    fn the_account_of_an_arn() {
        assert_eq!(
            arn_account("arn:aws:secretsmanager:eu-west-1:123456789012:secret:a/b:c-AbCdEf"),
            Some("123456789012")
        );
        assert_eq!(
            arn_account("arn:aws-cn:secretsmanager:cn-north-1:000000000000:secret:x"),
            Some("000000000000")
        );
        for not_one in [
            "name",
            "a:b:c:d:123456789012:e",
            "arn:aws:secretsmanager:eu-west-1::secret:x",
            "arn:aws:secretsmanager:eu-west-1:acct:secret:x",
            "arn:aws:secretsmanager::123456789012:secret:x",
        ] {
            assert_eq!(arn_account(not_one), None, "{not_one}");
        }
    }

    #[test]
    fn adopt_marker_round_trip() {
        let marked = with_adopt_marker(&[]);
        assert_eq!(marked, br#"{"adopt_value":true}"#);
        assert!(has_adopt_marker(&marked));
        assert!(without_adopt_marker(&marked).is_empty());
        // Other keys survive; unreadable or foreign private state is no marker.
        let other = with_adopt_marker(br#"{"k":1}"#);
        assert_eq!(without_adopt_marker(&other), br#"{"k":1}"#);
        for p in [&b""[..], b"not json", b"[true]"] {
            assert!(!has_adopt_marker(p));
            assert_eq!(without_adopt_marker(p), p);
        }
        assert!(!has_adopt_marker(br#"{"adopt_value":"true"}"#));
    }

    #[test]
    fn adoption_needs_the_marker_a_new_generate_and_no_trigger_change() {
        let marked = with_adopt_marker(&[]);
        let mut prior = empty_state();
        let mut config = empty_state();
        config.set("generate", Value::object([("length", Value::Null)]));
        assert!(adopts_moved_value(&marked, &config, &prior));
        assert!(!adopts_moved_value(&[], &config, &prior), "no marker");
        let mut triggered = config.clone();
        triggered.set("value_wo_version", Value::string("1"));
        assert!(!adopts_moved_value(&marked, &triggered, &prior));
        let mut valued = empty_state();
        valued.set("value_wo", Value::string("v"));
        assert!(!adopts_moved_value(&marked, &valued, &prior));
        prior.set("generate", config.get("generate").clone());
        assert!(
            !adopts_moved_value(&marked, &config, &prior),
            "generate already recorded"
        );
    }
}
