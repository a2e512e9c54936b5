//! `--config`: the same rules and allow entries as audit.

use super::*;
use crate::util;

// ---- --config: the same rules and allow entries as audit ---------------------------------------

/// `scrub --config`: a configured rule's finding is planned like any other, an allowed one is
/// left in place with a note; a bad configuration is exit 2 before the state is read.
#[test]
fn scrub_takes_the_config_audit_takes() {
    let dir = tempfile::tempdir().unwrap();
    let token = util::plant(&format!("acmedt_{}", util::random("0123456789abcdef", 32)));
    let password = canary();
    let state = json!({
        "version": 4, "terraform_version": "1.15.0", "serial": 3,
        "lineage": "6b0e2b9c-0000-4000-8000-00000000c4a2", "outputs": {},
        "resources": [
            {"mode": "managed", "type": "null_resource", "name": "deploy",
             "provider": "provider[\"registry.terraform.io/hashicorp/null\"]",
             "instances": [{"schema_version": 0, "attributes": {"id": "1", "triggers": {"note": format!("deploy with {token}")}},
                            "sensitive_attributes": []}]},
            {"mode": "managed", "type": "random_password", "name": "seed",
             "provider": "provider[\"registry.terraform.io/hashicorp/random\"]",
             "instances": [{"schema_version": 3, "attributes": {"id": "none", "result": password, "length": 30},
                            "sensitive_attributes": [[{"type": "get_attr", "value": "result"}]]}]}
        ]
    })
    .to_string();
    let p = dir.path().join("terraform.tfstate");
    std::fs::write(&p, &state).unwrap();
    let cfg = dir.path().join("scan.toml");
    std::fs::write(
        &cfg,
        "[[rule]]\nid = \"acme-deploy-token\"\nname = \"ACME deploy token\"\nkind = \"token\"\n\
         severity = \"high\"\nkeywords = [\"acmedt_\"]\nregex = '\\b(acmedt_[0-9a-f]{32})\\b'\n\n\
         [[allow]]\nreason = \"a seed, not a credential\"\nresources = [\"random_password.seed\"]\n",
    )
    .unwrap();
    // A dry run, exit 0, no value shown: its stdout.
    let dry_run = |extra: &[&str]| {
        let mut args = vec!["scrub", p.to_str().unwrap(), "--prefix", "prod/app"];
        args.extend_from_slice(extra);
        let o = run(&args, None);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_no_canary_out(&password, &o);
        assert_no_canary_out(&token, &o);
        String::from_utf8_lossy(&o.stdout).to_string()
    };

    let out = dry_run(&[]);
    assert!(out.contains("random_password.seed"), "{out}");
    assert!(!out.contains("null_resource.deploy"), "{out}");

    let out = dry_run(&["--config", cfg.to_str().unwrap()]);
    assert!(out.contains("null_resource.deploy"), "{out}");
    assert!(!out.contains("random_password.seed"), "{out}");
    assert!(out.contains("1 finding left in place: allowed by"), "{out}");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), state);

    std::fs::write(&cfg, "[[allow]]\nreason = \"why\"\n").unwrap();
    let o = run(
        &[
            "scrub",
            p.to_str().unwrap(),
            "--prefix",
            "prod/app",
            "--write",
            "--config",
            cfg.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("allow entry 1: gives none of"), "{err}");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), state);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "no lock or backup left"
    );
}
