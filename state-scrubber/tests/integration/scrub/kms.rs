//! `--kms-key-id` (an alias too) and tags on every secret scrub creates.

use super::*;

/// Review finding: no `--kms-key-id` and no way to add tags, so an organisation that requires a
/// customer-managed key, or mandatory tags, could not use scrub. Now every secret scrub creates
/// (the manifest too) gets the key and the tags; a re-run accepts the same key in another form
/// and adds tags the secrets lack; an existing secret with another key is reported (exit 2,
/// the state untouched), and bad tags are refused before anything is stored.
#[test]
fn kms_key_and_tags_go_to_every_secret_scrub_creates() {
    let Some(moto) = Moto::start() else { return };
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    let original = canary_state(&c);
    std::fs::write(&p, &original).unwrap();
    let ps = p.to_str().unwrap();
    let key_id = "1234abcd-12ab-34cd-56ef-1234567890ab";
    let key_arn = format!("arn:aws:kms:us-east-1:123456789012:key/{key_id}");
    let base = ["scrub", ps, "--write", "--endpoint", &moto.url];
    let mut outputs = Vec::new();
    let store = rt().block_on(moto_client(&moto.url));

    let mut a = base.to_vec();
    a.extend([
        "--prefix",
        "kms/app",
        "--kms-key-id",
        &key_arn,
        "--tag",
        "team=payments",
        "--tag",
        "cost-centre=42",
    ]);
    let o = run(&a, None);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    outputs.push(o);
    let secrets = rt().block_on(described(&store, "kms/app"));
    // Four values and the manifest.
    assert_eq!(secrets.len(), 5, "{secrets:?}");
    assert!(secrets
        .iter()
        .any(|m| m.name.contains(".offstate-manifest")));
    for m in &secrets {
        assert_eq!(
            m.kms_key_id.as_deref(),
            Some(key_arn.as_str()),
            "{}",
            m.name
        );
        assert_eq!(
            m.tags.get("team").map(String::as_str),
            Some("payments"),
            "{}",
            m.name
        );
        assert_eq!(m.tags.get("cost-centre").map(String::as_str), Some("42"));
        assert_eq!(
            m.tags.get("offstate:managed-by").map(String::as_str),
            Some("state-scrubber")
        );
    }

    // A re-run (the plaintext state again) with the key's id instead of its ARN, and one more
    // tag: accepted, nothing new stored, the tag added.
    std::fs::write(&p, &original).unwrap();
    let mut a = base.to_vec();
    a.extend([
        "--prefix",
        "kms/app",
        "--kms-key-id",
        key_id,
        "--tag",
        "team=payments",
        "--tag",
        "owner=platform",
    ]);
    let o = run(&a, None);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(out.matches(": already there").count(), 4, "{out}");
    outputs.push(o);
    for m in rt().block_on(described(&store, "kms/app")) {
        assert_eq!(
            m.tags.get("owner").map(String::as_str),
            Some("platform"),
            "{}",
            m.name
        );
        assert_eq!(m.kms_key_id.as_deref(), Some(key_arn.as_str()));
    }

    // Another key: the existing secrets are reported, nothing is written, the state is left.
    // (An alias against a key is no verdict: an_alias_and_its_key_are_not_called_different_keys.)
    std::fs::write(&p, &original).unwrap();
    let other = "ffffffff-12ab-34cd-56ef-1234567890ab";
    let mut a = base.to_vec();
    a.extend(["--prefix", "kms/app", "--kms-key-id", other]);
    let o = run(&a, None);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains(&format!(
            "encrypted with {key_arn}, not with --kms-key-id {other}"
        )) && err.contains("aws secretsmanager update-secret --secret-id kms/app/"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
    outputs.push(o);
    // Without --kms-key-id, any key an existing secret has is accepted.
    let mut a = base.to_vec();
    a.extend(["--prefix", "kms/app"]);
    let o = run(&a, None);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    outputs.push(o);

    // Bad tags and keys: exit 2 before anything is stored.
    std::fs::write(&p, &original).unwrap();
    for (bad, says) in [
        (vec!["--tag", "aws:created-by=me"], "`aws:`"),
        (vec!["--tag", "AWS:x=y"], "`aws:`"),
        (vec!["--tag", "offstate:state-lineage=x"], "`offstate:`"),
        (vec!["--tag", "novalue"], "KEY=VALUE"),
        (vec!["--tag", "=v"], "KEY=VALUE"),
        (vec!["--tag", "a=1", "--tag", "a=2"], "given twice"),
        (vec!["--tag", "x=semi;colon"], "letters, digits"),
        (vec!["--kms-key-id", ""], "--kms-key-id"),
    ] {
        let mut a = base.to_vec();
        a.extend(["--prefix", "bad/app"]);
        a.extend(bad.iter().copied());
        let o = run(&a, None);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {err}");
        assert!(err.contains(says), "{bad:?}: {err}");
        outputs.push(o);
    }
    assert!(rt().block_on(described(&store, "bad/app")).is_empty());
    assert_eq!(std::fs::read_to_string(&p).unwrap(), original);
    for o in &outputs {
        assert_no_canary(&c, "stdout", &o.stdout);
        assert_no_canary(&c, "stderr", &o.stderr);
    }
}

// ---- --kms-key-id as an alias ----------------------------------------------------------------------

/// A KMS call to moto (JSON protocol, unsigned: moto routes by the credential scope).
fn kms_call(moto: &Moto, target: &str, body: Value) -> Value {
    use std::io::{Read as _, Write as _};
    let body = body.to_string();
    let mut s = TcpStream::connect(("127.0.0.1", moto.port)).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: TrentService.{target}\r\nAuthorization: AWS4-HMAC-SHA256 \
         Credential=testing/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        moto.port,
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{target}: {response}");
    let json_body = &response[response.find("\r\n\r\n").unwrap() + 4..];
    if json_body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(json_body).unwrap()
    }
}

/// Review finding: `--kms-key-id alias/NAME` on one run and the key's ARN (or id) on a re-run,
/// with the alias pointing at that very key, got "the secret exists, encrypted with alias/NAME,
/// not with --kms-key-id arn:...:key/..." : a wrong verdict, since scrub makes no KMS call and
/// cannot know what an alias points at. Now such a pair is reported as undecided (what to run
/// to compare, and which --kms-key-id to give), nothing is written; the same alias in its
/// ARN form is accepted, and two different key ids are still reported as different keys.
#[test]
fn an_alias_and_its_key_are_not_called_different_keys() {
    let Some(moto) = Moto::start() else { return };
    let key = kms_call(&moto, "CreateKey", json!({}))["KeyMetadata"].clone();
    let (key_id, key_arn) = (
        key["KeyId"].as_str().unwrap().to_string(),
        key["Arn"].as_str().unwrap().to_string(),
    );
    kms_call(
        &moto,
        "CreateAlias",
        json!({"AliasName": "alias/scrub-test", "TargetKeyId": key_id}),
    );
    let described = kms_call(&moto, "DescribeKey", json!({"KeyId": "alias/scrub-test"}));
    assert_eq!(
        described["KeyMetadata"]["Arn"],
        json!(key_arn),
        "the alias names the key"
    );
    let other = kms_call(&moto, "CreateKey", json!({}))["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap()
        .to_string();

    let (c, _dir, p, original) = canary_file();
    let ps = p.to_str().unwrap();
    let mut outputs = Vec::new();
    // The original state scrubbed under `prefix` with `--kms-key-id key`.
    let scrub_with = |prefix: &str, key: &str| {
        std::fs::write(&p, &original).unwrap();
        let mut args = write_args("scrub", ps, prefix, &moto.url).to_vec();
        args.extend(["--kms-key-id", key]);
        run(&args, None)
    };
    let o = scrub_with("alias/app", "alias/scrub-test");
    assert_ok(&o);
    outputs.push(o);
    // The same alias as an ARN: the same key, certainly.
    let o = scrub_with(
        "alias/app",
        "arn:aws:kms:us-east-1:123456789012:alias/scrub-test",
    );
    assert_ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains(": already there"));
    outputs.push(o);
    // The key the alias points at, as an ARN and as an id: no verdict, nothing written.
    for k in [key_arn.as_str(), key_id.as_str()] {
        let o = scrub_with("alias/app", k);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            !err.contains("not with --kms-key-id"),
            "an alias and its own key called different keys: {err}"
        );
        assert!(err.contains("scrub makes no KMS call"), "{err}");
        assert!(
            err.contains("aws kms describe-key --key-id alias/scrub-test")
                && err.contains("run scrub again with --kms-key-id alias/scrub-test"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            original,
            "the state is left"
        );
        outputs.push(o);
    }
    // Key ids compare without KMS: a secret under one key, --kms-key-id another.
    let o = scrub_with("keys/app", &key_arn);
    assert_ok(&o);
    outputs.push(o);
    let o = scrub_with("keys/app", &other);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains(&format!(
            "encrypted with {key_arn}, not with --kms-key-id {other}"
        )),
        "{err}"
    );
    outputs.push(o);
    for o in &outputs {
        assert_no_canary_out(&c, o);
    }
}

/// Review finding: a dry run did not show the tags and the KMS key --write creates secrets
/// with, so a tag policy or an SCP requiring a tag or a key surprised the first --write. Now
/// the dry run has one line saying both, and it is what --write does: every tag it lists is on
/// every secret --write creates, with the value it shows, and the key is the one it names.
#[test]
fn the_dry_run_shows_the_tags_and_key_write_creates_secrets_with() {
    let Some(moto) = Moto::start() else { return };
    let c = canary();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("terraform.tfstate");
    std::fs::write(&p, canary_state(&c)).unwrap();
    let ps = p.to_str().unwrap();
    let key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let line_of = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .find(|l| l.starts_with("secrets created on --write: "))
            .map(str::to_owned)
    };

    // No option: scrub's own tags and the AWS managed key.
    let plain = run(
        &[
            "scrub",
            ps,
            "--prefix",
            "shown/plain",
            "--endpoint",
            &moto.url,
        ],
        None,
    );
    assert_ok(&plain);
    let line = line_of(&plain).expect("the dry run names the tags and the key");
    assert!(
        line.contains("offstate:managed-by=state-scrubber"),
        "{line}"
    );
    assert!(line.contains("the AWS managed key"), "{line}");
    assert!(!line.contains("--tag tags it lacks"), "{line}");

    let opts = [
        "--prefix",
        "shown/tagged",
        "--endpoint",
        &moto.url,
        "--kms-key-id",
        key_arn,
        "--tag",
        "team=payments",
        "--tag",
        "cost-centre=42",
    ];
    let mut a = vec!["scrub", ps];
    a.extend(opts);
    let dry = run(&a, None);
    assert_ok(&dry);
    let line = line_of(&dry).expect("the dry run names the tags and the key");
    assert!(line.contains(&format!("KMS key {key_arn}")), "{line}");
    // The `KEY=VALUE` tags the line shows, scrub's own and --tag's.
    let tags_part = line
        .strip_prefix("secrets created on --write: tags ")
        .and_then(|l| l.split("; ").next())
        .unwrap();
    let shown: Vec<(String, String)> = tags_part
        .split(", ")
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(
        shown,
        [
            ("offstate:managed-by".into(), "state-scrubber".into()),
            ("cost-centre".into(), "42".into()),
            ("team".into(), "payments".into()),
        ],
        "{line}"
    );
    for key in [
        "offstate:state-lineage",
        "offstate:address",
        "offstate:attribute",
    ] {
        assert!(tags_part.contains(key), "{line}");
    }

    a.push("--write");
    let write = run(&a, None);
    assert_ok(&write);
    let store = rt().block_on(moto_client(&moto.url));
    let secrets = rt().block_on(described(&store, "shown/tagged"));
    assert!(!secrets.is_empty());
    for m in &secrets {
        for (k, v) in &shown {
            assert_eq!(m.tags.get(k), Some(v), "{}: tag {k}", m.name);
        }
        for key in [
            "offstate:state-lineage",
            "offstate:address",
            "offstate:attribute",
        ] {
            if !m.name.contains(".offstate-manifest") {
                assert!(m.tags.contains_key(key), "{}: tag {key}", m.name);
            }
        }
        assert_eq!(m.kms_key_id.as_deref(), Some(key_arn), "{}", m.name);
    }
    for o in [&plain, &dry, &write] {
        assert_no_canary(&c, "stdout", &o.stdout);
        assert_no_canary(&c, "stderr", &o.stderr);
    }
}
