//! Less common state shapes: encrypted data, v3 deposed objects and module outputs, private data.

use super::*;

/// Review (lower priority): any top-level `encrypted_data` key made a plaintext state
/// "encrypted, not scanned" (exit 0, findings dropped). Only OpenTofu's envelope (`meta`,
/// `encrypted_data`, `encryption_version` and nothing else) is encrypted state.
#[test]
fn encrypted_data_next_to_plaintext_resources_is_scanned() {
    let d = Dir::new();
    let pw = pw();
    let mut st: Value = serde_json::from_str(&db_state(&pw)).unwrap();
    st["encrypted_data"] = json!(random(ALNUM, 40));
    st["encryption_version"] = json!("v0");
    d.write("a.tfstate", st.to_string());
    let r = audit(&[&d.s("a.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(findings(&r).len(), 1);
    let file = &r.json()["files"][0];
    assert_eq!(file["document"], "state_v4");
    assert!(
        file["notes"][0]
            .as_str()
            .unwrap()
            .contains("not an OpenTofu-encrypted state"),
        "{file}"
    );
    assert!(!r.all().contains(&pw));
    // The envelope's keys next to keys that are neither state nor plan: not recognised (exit 2),
    // never a silent pass.
    d.write(
        "b.tfstate",
        json!({"encrypted_data": "x", "encryption_version": "v0", "payload": {"password": pw}})
            .to_string(),
    );
    let r = audit(&[&d.s("b.tfstate")]);
    assert_eq!(r.code, 2, "{}", r.all());
    // The real envelope is still recognised.
    d.write(
        "c.tfstate",
        json!({"meta": {"key_provider.pbkdf2.k": "e30="}, "encrypted_data": random(ALNUM, 64), "encryption_version": "v0"}).to_string(),
    );
    let r = audit(&[&d.s("c.tfstate")]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1 encrypted (not scanned)"));
}

/// Review (lower priority): a v3 state's `deposed` objects (the old object of a
/// create_before_destroy replacement) were not scanned.
#[test]
fn v3_deposed_objects_are_scanned() {
    let d = Dir::new();
    let (now, old) = (pw(), pw());
    let v3 = json!({"version": 3, "terraform_version": "0.11.14", "serial": 5, "lineage": "abc",
    "modules": [{"path": ["root"], "outputs": {}, "depends_on": [], "resources": {
        "aws_db_instance.main": {"type": "aws_db_instance", "depends_on": [], "provider": "provider.aws",
            "primary": {"id": "main", "attributes": {"id": "main", "password": now}, "meta": {}, "tainted": false},
            "deposed": [{"id": "old", "attributes": {"id": "old", "password": old}, "meta": {}, "tainted": false}]}
    }}]});
    d.write("v3.tfstate", v3.to_string());
    let r = audit(&[&d.s("v3.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1);
    let mut got: Vec<(String, String)> = findings(&r)
        .iter()
        .map(|f| {
            (
                f["address"].as_str().unwrap().to_string(),
                f["json_pointer"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "aws_db_instance.main".to_string(),
                "/modules/0/resources/aws_db_instance.main/primary/attributes/password".to_string()
            ),
            (
                "aws_db_instance.main (deposed 0)".to_string(),
                "/modules/0/resources/aws_db_instance.main/deposed/0/attributes/password"
                    .to_string()
            ),
        ]
    );
    assert!(!r.all().contains(&old));
}

/// Review: a v3 state (Terraform <= 0.11) keeps every module's outputs, not only the root's;
/// a child module's outputs were skipped.
#[test]
fn v3_child_module_outputs_are_read() {
    let d = Dir::new();
    let pw = plant(&format!("{}!{}", random(ALNUM, 12), random(ALNUM, 6)));
    let key = plant(&format!("ghp_{}", random(ALNUM, 36)));
    d.write(
        "terraform.tfstate",
        json!({"version": 3, "terraform_version": "0.11.14", "serial": 4, "lineage": "x", "modules": [
            {"path": ["root"], "outputs": {}, "resources": {}, "depends_on": []},
            {"path": ["root", "db"], "outputs": {
                "master_password": {"sensitive": true, "type": "string", "value": pw},
                "endpoint": {"sensitive": false, "type": "string", "value": "db.internal:5432"}},
             "resources": {}, "depends_on": []},
            {"path": ["root", "ci", "gh"], "outputs": {"env": {"sensitive": false, "type": "map", "value": {"GH": key}}},
             "resources": {}, "depends_on": []}]})
        .to_string(),
    );
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got = columns(&findings(&r), ["address", "json_pointer"]);
    assert_eq!(
        got,
        vec![
            [
                "module.db.output.master_password",
                "/modules/1/outputs/master_password/value"
            ],
            [
                "module.ci.module.gh.output.env",
                "/modules/2/outputs/env/value/GH"
            ],
        ]
    );
    assert!(findings(&r)[0]["fix"].as_str().unwrap().contains("0.12"));
    assert_never_shown(&d.s("terraform.tfstate"), &[&pw, &key], "a value");
}

/// Review: a state instance's `private` is base64 of the provider's private data (JSON for both
/// SDKs), which a provider may fill with anything; it was never read. Now decoded and read as
/// JSON (key context, content rules); SDKv2's timeouts stay quiet. `scrub` does not act on it
/// (a reference in its place would make the state unreadable): audit only.
#[test]
fn provider_private_data_is_decoded_and_read() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let d = Dir::new();
    let tok = random(ALNUM, 32);
    let pem_body = random(ALNUM, 64);
    let pem = plant(&format!(
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE{pem_body}\n-----END RSA PRIVATE KEY-----\n"
    ));
    let sdk = json!({"e2bfb730-ecaa-11e6-8f88-34363bc7c4c0": {"create": 1_800_000_000_000u64, "delete": 600_000_000_000u64}, "schema_version": "1"});
    let fw = json!({"session": b64.encode(json!({"api_token": tok}).to_string()), "cert": b64.encode(json!({"key": pem}).to_string())});
    let mut state = state_value(json!([
        resource(
            "managed",
            "aws_instance",
            "quiet",
            json!({"id": "i-1"}),
            json!([])
        ),
        resource(
            "managed",
            "example_thing",
            "fw",
            json!({"id": "t-1"}),
            json!([])
        ),
        resource(
            "managed",
            "example_thing",
            "tok",
            json!({"id": "t-2"}),
            json!([])
        ),
    ]));
    state["resources"][0]["instances"][0]["private"] = json!(b64.encode(sdk.to_string()));
    state["resources"][1]["instances"][0]["private"] = json!(b64.encode(fw.to_string()));
    state["resources"][2]["instances"][0]["private"] =
        json!(b64.encode(json!({"api_token": tok}).to_string()));
    d.write("terraform.tfstate", state.to_string());
    let r = audit(&[&d.s("terraform.tfstate"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got = columns(
        &findings(&r),
        ["address", "json_pointer", "inner_pointer?", "section"],
    );
    let s = |a, b, c| [a, b, c, "resources.private"];
    assert_eq!(
        got,
        vec![
            s(
                "example_thing.fw",
                "/resources/1/instances/0/private",
                "/session/api_token"
            ),
            s(
                "example_thing.fw",
                "/resources/1/instances/0/private",
                "/cert/key"
            ),
            s(
                "example_thing.tok",
                "/resources/2/instances/0/private",
                "/api_token"
            ),
        ]
    );
    assert_eq!(findings(&r)[1]["rule_id"], "private-key-pkcs1");
    assert_eq!(findings(&r)[1]["decoded"][0], "base64");
    assert_never_shown(&d.s("terraform.tfstate"), &[&tok, &pem_body], "a value");
}

/// Review: Terraform 1.15's pluggable state storage caches its configuration in
/// `.terraform/terraform.tfstate` as `state_store` (not `backend`): the store's `config` and the
/// nested provider block's `config`, credentials included. The file was taken for an empty v3
/// state and reported clean.
#[test]
fn a_state_store_backend_cache_is_read() {
    let d = Dir::new();
    let sk = random(ALNUM, 40);
    let tok = random(ALNUM, 30);
    d.write(
        "env/.terraform/terraform.tfstate",
        json!({"version": 3, "terraform_version": "1.15.0", "state_store": {
            "type": "aws_s3",
            "provider": {"version": "6.20.0", "source": "registry.terraform.io/hashicorp/aws",
                "config": {"region": "eu-west-1", "secret_key": sk}},
            "config": {"bucket": "tf", "key": "env/terraform.tfstate", "token": tok},
            "hash": 3942813381u64, "provider_supply_mode": "managed_by_terraform"}})
        .to_string(),
    );
    let r = audit(&[&d.s(""), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["files"][0]["document"], "backend_config");
    let mut got = columns(&findings(&r), ["json_pointer", "address"]);
    got.sort();
    let s = |a| [a, "state_store.aws_s3"];
    assert_eq!(
        got,
        vec![
            s("/state_store/config/token"),
            s("/state_store/provider/config/secret_key")
        ]
    );
    assert_never_shown(&d.s(""), &[&sk, &tok], "a value");
}
