//! Secrets written into free text (scripts, config files, `user_data`): every distinct secret of
//! a value, the formats scripts and config files hold them in, and their look-alikes. Members of
//! objects marked sensitive as a whole, and the public entries of a Kubernetes secret's `data`.

use super::*;

fn audit_state(state: &str) -> Run {
    let d = Dir::new();
    d.write("a.tfstate", state);
    audit(&[&d.s("a.tfstate"), "--format", "json"])
}

/// (attribute_path, rule_id) of each finding, in report order.
fn path_rule(r: &Run) -> Vec<(String, String)> {
    columns(&findings(r), ["attribute_path", "rule_id"])
        .into_iter()
        .map(|[p, r]| (p, r))
        .collect()
}

fn fingerprints(r: &Run) -> Vec<String> {
    columns(&findings(r), ["fingerprint"])
        .into_iter()
        .map(|[f]| f)
        .collect()
}

fn instance(user_data: &str, sensitive: Value) -> String {
    state_v4(json!([resource(
        "managed",
        "aws_instance",
        "web",
        json!({"id": "i-0a1b2c3d4e5f67890", "user_data": user_data}),
        sensitive
    )]))
}

fn github_token() -> String {
    plant(&format!("gh{}p_{}", "", random(ALNUM, 36)))
}

/// A user_data script holding an AWS access key, a GitHub token and a second GitHub token was
/// one finding (the first rule's): the token was never reported. Each distinct secret is now a
/// finding of its own, in rule order, each with its own fingerprint; the value's first finding
/// keeps the fingerprint its only finding had. A secret two rules match (the token assigned to
/// `GITHUB_TOKEN=`, again in an `Authorization` header, a `text-secret-assignment` and an
/// `authorization-header` match) is reported once. Marked values (layer 1) and base64 ones too.
#[test]
fn every_distinct_secret_of_a_value_is_reported_once() {
    let key_id = plant(&format!(
        "AK{}IA{}",
        "",
        random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    ));
    let token = github_token();
    let other = github_token();
    let script = plant(&format!(
        "#!/bin/bash\nexport AWS_ACCESS_KEY_ID={key_id}\nexport GITHUB_TOKEN={token}\n\
         curl -H \"Authorization: token {token}\" https://api.github.com/user\n\
         git clone https://x-access-token:{other}@github.com/org/app.git\n"
    ));
    let want = [
        ("user_data".to_string(), "aws-access-key-id".to_string()),
        ("user_data".to_string(), "github-token".to_string()),
        ("user_data".to_string(), "github-token".to_string()),
    ];
    let r = audit_state(&instance(&script, json!([])));
    assert_eq!(path_rule(&r), want, "{}", r.all());
    let fps = fingerprints(&r);
    let mut distinct = fps.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{}", r.all());
    // Stable: the same findings in the same order with the same fingerprints.
    assert_eq!(
        fingerprints(&audit_state(&instance(&script, json!([])))),
        fps
    );
    // The first keeps the fingerprint of a value with that one secret (baselines still hold).
    let alone = audit_state(&instance(
        &plant(&format!("export AWS_ACCESS_KEY_ID={key_id}\n")),
        json!([]),
    ));
    assert_eq!(fingerprints(&alone), fps[..1], "{}", alone.all());

    // Marked by the provider: the mark's finding takes the first secret, the others follow.
    let r = audit_state(&instance(&script, json!([[ga("user_data")]])));
    assert_eq!(path_rule(&r), want, "{}", r.all());
    assert_eq!(fingerprints(&r), fps, "{}", r.all());

    // Base64 (a launch template's user_data): the same findings in the decoded text.
    use base64::Engine as _;
    let b64 = plant(&base64::engine::general_purpose::STANDARD.encode(&script));
    let r = audit_state(&instance(&b64, json!([])));
    assert_eq!(path_rule(&r), want, "{}", r.all());

    // One secret written twice is one finding.
    let twice = plant(&format!(
        "GITHUB_TOKEN={token}\ncurl -H \"Authorization: Bearer {token}\" https://api.github.com\n"
    ));
    let r = audit_state(&instance(&twice, json!([])));
    assert_eq!(
        path_rule(&r),
        [("user_data".to_string(), "github-token".to_string())],
        "{}",
        r.all()
    );
}

/// One `local_file` per text; the rule ids found in each, by resource name.
fn rules_by_text(texts: &[(&str, String)]) -> Vec<(String, Vec<String>)> {
    let resources: Vec<Value> = texts
        .iter()
        .map(|(name, text)| {
            resource(
                "managed",
                "local_file",
                name,
                json!({"id": name, "filename": format!("{name}.sh"), "content": text}),
                json!([]),
            )
        })
        .collect();
    let r = audit_state(&state_v4(Value::Array(resources)));
    let found = columns(&findings(&r), ["address", "rule_id"]);
    texts
        .iter()
        .map(|(name, _)| {
            let address = format!("local_file.{name}");
            let rules = found
                .iter()
                .filter(|[a, _]| *a == address)
                .map(|[_, rule]| rule.clone())
                .collect();
            (name.to_string(), rules)
        })
        .collect()
}

/// Passwords and tokens that scripts and config files hold after a flag or a directive: `mysql
/// -p<pw>` and `--password=`, redis `requirepass` / `masterauth` / `redis-cli -a`, htpasswd and
/// shadow hashes, Atlassian API tokens and Bitbucket app passwords, `docker login -p` and `echo
/// <pw> | docker login --password-stdin`, WordPress keys and salts and `*_SALT=` assignments
/// (were missed, or only a MEDIUM text assignment); `SECRET_KEY_BASE=` and Django's
/// `SECRET_KEY = '...'` stay found. Their look-alikes stay quiet: `-P 3306` and a bare `-p`
/// (a prompt), a port mapping, shell and Terraform references, placeholders, the commented-out
/// `requirepass foobared`, `requirepass ""`, `--password-stdin` fed by a command.
#[test]
fn passwords_after_flags_and_directives_and_their_look_alikes() {
    let a = || plant(&random(ALNUM, 20));
    let b64 = |n| {
        plant(&random(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            n,
        ))
    };
    let crypt = |n| {
        plant(&random(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./",
            n,
        ))
    };
    let url = |n| {
        plant(&random(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
            n,
        ))
    };
    let loud: Vec<(&str, String, &str)> = vec![
        (
            "mysql_p",
            format!("mysql -h db -u root -p{} app < /tmp/schema.sql\n", a()),
            "mysql-password-flag",
        ),
        (
            "mysqldump",
            format!(
                "mysqldump --user=app --password='{}' app > /b/app.sql\n",
                a()
            ),
            "mysql-password-flag",
        ),
        (
            "requirepass",
            format!("bind 0.0.0.0\nrequirepass {}\n", a()),
            "redis-password",
        ),
        (
            "masterauth",
            format!("echo \"masterauth {}\" >> /etc/redis/redis.conf\n", a()),
            "redis-password",
        ),
        (
            "redis_cli",
            format!("redis-cli -h cache -a {} ping\n", a()),
            "redis-password",
        ),
        (
            "apr1",
            format!("admin:$apr1${}${}\n", crypt(8), crypt(22)),
            "password-hash-entry",
        ),
        (
            "sha",
            format!("ops:{{SHA}}{}=\n", b64(27)),
            "password-hash-entry",
        ),
        (
            "bcrypt",
            format!(
                "cat > /etc/nginx/.htpasswd <<EOF\nci:$2y$10${}\nEOF\n",
                crypt(53)
            ),
            "password-hash-entry",
        ),
        (
            "atlassian",
            format!(
                "JIRA_URL=https://acme.atlassian.net\nJIRA_API_TOKEN=AT{}ATT3xFfGF0{}=0{}\n",
                "",
                url(170),
                random("0123456789ABCDEF", 7)
            ),
            "atlassian-api-token",
        ),
        (
            "bitbucket",
            format!(
                "git clone https://ci:AT{}BB{}@bitbucket.org/acme/app.git\n",
                "",
                random(ALNUM, 32)
            ),
            "atlassian-api-token",
        ),
        (
            "docker_p",
            format!("docker login -u deploy -p {} registry.example.com\n", a()),
            "registry-login-password",
        ),
        (
            "docker_stdin",
            format!(
                "echo '{}' | docker login -u deploy --password-stdin ghcr.io\n",
                a()
            ),
            "registry-login-password-stdin",
        ),
        (
            "wordpress",
            format!("define( 'AUTH_SALT', '{}' );\n", b64(64)),
            "wordpress-auth-key",
        ),
        (
            "salt",
            format!("HASHIDS_SALT={}\n", a()),
            "text-secret-assignment",
        ),
        (
            "secret_key_base",
            format!("export SECRET_KEY_BASE={}\n", a()),
            "text-secret-assignment",
        ),
        (
            "django",
            format!("SECRET_KEY = 'django-insecure-{}'\n", a()),
            "text-secret-assignment",
        ),
    ];
    let quiet: Vec<(&str, String)> = [
        ("mysql_prompt", "mysql -h db -P 3306 -u root -p app\n"),
        ("mysql_port_map", "docker run --name mysql -p3306:3306 -d mysql:8\n"),
        ("mysql_env", "mysql -u root -p\"$MYSQL_ROOT_PASSWORD\" app\n"),
        ("mysql_tf", "mysql -u root -p${var.db_password} app\n"),
        ("mysql_placeholder", "mysql -u root -p<password> app\nmysql -u root -pchangeme app\n"),
        ("redis_default", "# requirepass foobared\nbind 127.0.0.1\n"),
        ("redis_empty", "requirepass \"\"\nmasterauth ${var.redis_password}\n"),
        ("redis_cli_port", "redis-cli -h cache -p 6379 ping\n"),
        ("htpasswd_prose", "bcrypt cost $2y$10$ is the default; $6$ is SHA-512 crypt\n"),
        ("docker_stdin_cmd", "aws ecr get-login-password | docker login -u AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com\necho $CR_PAT | docker login -u ci --password-stdin ghcr.io\n"),
        ("docker_env", "docker login -u deploy -p $REGISTRY_PASSWORD registry.example.com\n"),
        ("wordpress_stock", "define( 'AUTH_SALT', 'put your unique phrase here' );\n"),
        ("salt_master", "SALT_MASTER=salt.example.com\n"),
    ]
    .into_iter()
    .map(|(n, t)| (n, t.to_string()))
    .collect();
    let mut texts: Vec<(&str, String)> = loud.iter().map(|(n, t, _)| (*n, t.clone())).collect();
    texts.extend(quiet.iter().cloned());
    let got = rules_by_text(&texts);
    let mut want: Vec<(String, Vec<String>)> = loud
        .iter()
        .map(|(n, _, rule)| (n.to_string(), vec![rule.to_string()]))
        .collect();
    want.extend(quiet.iter().map(|(n, _)| (n.to_string(), vec![])));
    assert_eq!(got, want);
}

/// Terraform marks a whole output sensitive when any part is, and hoists a set element's mark to
/// the whole set (aws_mq_broker's `user`): every member of such an object was a MEDIUM finding,
/// the database's address, engine and class and the broker user's groups included. A member is
/// now reported for the mark when its key names a secret or its value could be one (symbols,
/// capitals and digits, a random-looking run); configuration is not. A list directly under the
/// mark (no key) is still reported whole, as the mark's own value.
#[test]
fn configuration_members_of_a_marked_object_are_quiet_secret_members_are_not() {
    let password = pw();
    let generated = plant(&format!("{}#{}", random(ALNUM, 8), random(ALNUM, 8)));
    let token = plant(&random(ALNUM, 24));
    let broker_pw = pw();
    let listed = pw();
    let mut state = state_value(json!([resource(
        "managed",
        "aws_mq_broker",
        "mq",
        json!({"id": "b-1234", "broker_name": "orders", "engine_type": "ActiveMQ",
               "user": [{"username": "admin", "password": broker_pw, "groups": ["admins", "devops"],
                         "console_access": true, "replication_user": false}]}),
        json!([[ga("user")]])
    )]));
    state["outputs"] = json!({
        "db": {"sensitive": true, "type": ["object", {}], "value": {
            "address": "orders.c9akciq32.eu-west-1.rds.amazonaws.com",
            "engine": "postgres", "engine_version": "15.4", "instance_class": "db.t3.micro",
            "storage_type": "gp3", "status": "available", "ca_cert_identifier": "rds-ca-rsa2048-g1",
            "maintenance_window": "sun:05:00-sun:06:00", "db_name": "orders", "username": "app",
            "password": password, "admin": generated, "api": token}},
        "passwords": {"sensitive": true, "type": ["list", "string"], "value": [listed]}
    });
    let r = audit_state(&state.to_string());
    let got = columns(&findings(&r), ["address", "attribute_path"]);
    let want: Vec<[String; 2]> = [
        ["aws_mq_broker.mq", "user[0].password"],
        ["output.db", "admin"],
        ["output.db", "api"],
        ["output.db", "password"],
        ["output.passwords", "[0]"],
    ]
    .iter()
    .map(|[a, p]| [a.to_string(), p.to_string()])
    .collect();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    assert_eq!(got_sorted, want, "{}", r.all());
}

/// A Kubernetes secret's `data` holds secrets by intent, and every entry was HIGH: also the
/// cluster's `ca.crt` and the `namespace` a service-account token secret carries, a TLS secret's
/// `tls.crt`, a database secret's `host` and `port`. Those well-known keys are now LOW when their
/// content is what the key says, and still reported (the map is the secret). The same key with
/// other content (a private key under `tls.crt`, a token under `namespace`) keeps its severity.
#[test]
fn public_entries_of_a_kubernetes_secret_are_low_and_still_reported() {
    let cert = || {
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            random(ALNUM, 64)
        )
    };
    let token = plant(&random(ALNUM, 40));
    let password = pw();
    let odd_namespace = plant(&random(ALNUM, 24));
    let key_pem = plant(&format!(
        "{}-----BEGIN RSA PRIV{}ATE KEY-----\n{}\n-----END RSA PRIV{}ATE KEY-----\n",
        cert(),
        "",
        random(ALNUM, 64),
        ""
    ));
    let state = state_v4(json!([
        resource(
            "managed",
            "kubernetes_secret_v1",
            "sa",
            json!({"id": "payments/ci-token", "type": "kubernetes.io/service-account-token",
                   "data": {"ca.crt": cert(), "namespace": "payments", "token": token}}),
            json!([[ga("data")]])
        ),
        resource(
            "managed",
            "kubernetes_secret",
            "db",
            json!({"id": "payments/db", "data": {"host": "db-0.postgres.payments.svc.cluster.local",
                   "port": "5432", "password": password, "namespace": odd_namespace,
                   "tls.crt": key_pem, "service-ca.crt": cert()}}),
            json!([[ga("data")]])
        ),
    ]));
    let r = audit_state(&state);
    let mut got = columns(&findings(&r), ["address", "attribute_path", "severity"]);
    got.sort();
    let want: Vec<[String; 3]> = [
        ["kubernetes_secret.db", "data.host", "low"],
        ["kubernetes_secret.db", "data.namespace", "high"],
        ["kubernetes_secret.db", "data.password", "high"],
        ["kubernetes_secret.db", "data.port", "low"],
        ["kubernetes_secret.db", "data[\"service-ca.crt\"]", "low"],
        ["kubernetes_secret.db", "data[\"tls.crt\"]", "critical"],
        ["kubernetes_secret_v1.sa", "data.namespace", "low"],
        ["kubernetes_secret_v1.sa", "data.token", "high"],
        ["kubernetes_secret_v1.sa", "data[\"ca.crt\"]", "low"],
    ]
    .iter()
    .map(|row| row.map(str::to_string))
    .collect();
    assert_eq!(got, want, "{}", r.all());
}

/// Each loud text is found by exactly its rules (in report order), each quiet text by none.
fn assert_loud_and_quiet(loud: &[(&str, String, &[&str])], quiet: &[(&str, &str)]) {
    let mut texts: Vec<(&str, String)> = loud.iter().map(|(n, t, _)| (*n, t.clone())).collect();
    texts.extend(quiet.iter().map(|(n, t)| (*n, t.to_string())));
    let mut want: Vec<(String, Vec<String>)> = loud
        .iter()
        .map(|(n, _, rules)| (n.to_string(), rules.iter().map(|r| r.to_string()).collect()))
        .collect();
    want.extend(quiet.iter().map(|(n, _)| (n.to_string(), vec![])));
    assert_eq!(rules_by_text(&texts), want);
}

/// `sshpass -p <pw>` (glued or not, quoted or not, after sshpass's other options) was missed.
/// Its look-alikes stay quiet: `-f file` and `-e` (the password is kept elsewhere), ssh's own
/// `-p 2222` (a port) after the command, shell and Terraform references, placeholders.
#[test]
fn sshpass_passwords_and_their_look_alikes() {
    let a = || plant(&random(ALNUM, 20));
    let loud: &[(&str, String, &[&str])] = &[
        (
            "sshpass_p",
            format!(
                "sshpass -p {} ssh -o StrictHostKeyChecking=no deploy@10.0.0.5 uptime\n",
                a()
            ),
            &["sshpass-password"],
        ),
        (
            "sshpass_glued",
            format!("sshpass -p'{}' scp app.tgz deploy@10.0.0.5:/tmp/\n", a()),
            &["sshpass-password"],
        ),
        (
            "sshpass_options",
            format!(
                "sudo sshpass -v -P assphrase -p \"{}\" ssh -p 2222 -i key deploy@h\n",
                a()
            ),
            &["sshpass-password"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[
        ("sshpass_f", "sshpass -f /root/.ssh_pass ssh -p 2222 deploy@10.0.0.5 uptime\n"),
        ("sshpass_e", "SSHPASS=$DEPLOY_PW sshpass -e ssh -p 2222 deploy@10.0.0.5\n"),
        ("sshpass_env", "sshpass -p \"$SSH_PASSWORD\" ssh deploy@h\nsshpass -p ${var.ssh_password} ssh deploy@h\n"),
        ("sshpass_placeholder", "sshpass -p <password> ssh deploy@h\nsshpass -p changeme ssh deploy@h\n"),
    ];
    assert_loud_and_quiet(loud, quiet);
}

/// The password `sshpass -e` reads from the SSHPASS variable was missed where `sshpass -p` was
/// found: `export SSHPASS=...`, `SSHPASS=... sshpass -e`, a YAML environment, PowerShell's
/// `$env:SSHPASS`, and an environment map's `SSHPASS` member. Quiet: references, placeholders,
/// an empty or unset variable, a longer name holding SSHPASS.
#[test]
fn sshpass_variable_and_its_look_alikes() {
    let a = || plant(&random(ALNUM, 20));
    let loud: &[(&str, String, &[&str])] = &[
        (
            "sshpass_export",
            format!(
                "#!/bin/bash\nexport SSHPASS='{}'\nsshpass -e ssh deploy@10.0.0.5 uptime\n",
                a()
            ),
            &["sshpass-env-password"],
        ),
        (
            "sshpass_prefix",
            format!("SSHPASS={} sshpass -e scp app.tgz deploy@h:/tmp/\n", a()),
            &["sshpass-env-password"],
        ),
        (
            "sshpass_yaml",
            format!("environment:\n  SSHPASS: {}\n", a()),
            &["sshpass-env-password"],
        ),
        (
            "sshpass_powershell",
            format!("$env:SSHPASS = \"{}\"\n", a()),
            &["sshpass-env-password"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[
        ("sshpass_ref", "SSHPASS=$DEPLOY_PW sshpass -e ssh deploy@h\nexport SSHPASS=\"${var.ssh_password}\"\nSSHPASS=$(cat /root/.pw) sshpass -e ssh deploy@h\n"),
        ("sshpass_placeholder", "SSHPASS=<password> sshpass -e ssh deploy@h\nSSHPASS=changeme sshpass -e ssh deploy@h\n"),
        ("sshpass_empty", "SSHPASS= sshpass -e ssh deploy@h\nunset SSHPASS\n"),
        ("sshpass_longer_name", "MY_SSHPASS_FILE=/root/Zq8Rt4Wn6KvE\n"),
    ];
    assert_loud_and_quiet(loud, quiet);
    // An environment map's member (a Lambda function's variables).
    let r = audit_state(&state_v4(json!([resource(
        "managed",
        "aws_lambda_function",
        "f",
        json!({"id": "f", "environment": [{"variables": {"SSHPASS": a(), "SSHPASS_FILE": "/run/secrets/ssh"}}]}),
        json!([]),
    )])));
    let found = columns(&findings(&r), ["attribute_path", "rule_id"]);
    assert_eq!(
        found,
        vec![[
            "environment[0].variables.SSHPASS".to_string(),
            "key-password".to_string()
        ]]
    );
}

/// `mysqladmin ... password <new>` (and `mariadb-admin`) sets a password on the command line
/// and was missed; with `-p<old>` too, both are findings. Quiet: references, placeholders, a
/// bare `password` (it prompts), the word in a comment or in a later command.
#[test]
fn mysqladmin_password_command_and_its_look_alikes() {
    let a = || plant(&random(ALNUM, 20));
    let loud: &[(&str, String, &[&str])] = &[
        (
            "mysqladmin",
            format!("mysqladmin -u root password {}\n", a()),
            &["mysqladmin-password"],
        ),
        (
            "mysqladmin_quoted",
            format!("mysqladmin -u root -h localhost password '{}'\n", a()),
            &["mysqladmin-password"],
        ),
        (
            "mariadb_admin",
            format!("mariadb-admin --user=root password \"{}\"\n", a()),
            &["mysqladmin-password"],
        ),
        (
            "mysqladmin_old_and_new",
            format!("mysqladmin -u root -p{} password {}\n", a(), a()),
            &["mysql-password-flag", "mysqladmin-password"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[
        ("mysqladmin_env", "mysqladmin -u root password \"$MYSQL_ROOT_PASSWORD\"\nmysqladmin -u root password ${var.db_password}\n"),
        ("mysqladmin_placeholder", "mysqladmin -u root password <password>\nmysqladmin -u root password changeme\n"),
        ("mysqladmin_prompt", "mysqladmin -u root password\n"),
        ("mysqladmin_comment", "mysqladmin -u root status # password rotation is weekly\n"),
        ("mysqladmin_later", "mysqladmin -u root ping && echo password rotated\n"),
    ];
    assert_loud_and_quiet(loud, quiet);
}

/// A crypt(3) hash after a YAML key (cloud-init's `passwd:` and `hashed_passwd:`, Ansible's
/// `password:`) was missed: the htpasswd / shadow rule wants `user:hash`. SHA-512, SHA-256,
/// yescrypt and bcrypt; `root:$6$...` in a `chpasswd` list stays that rule's. Quiet: a locked
/// `passwd: "*"`, a template reference, the prefix in a comment, `password: RANDOM`.
#[test]
fn password_hashes_after_a_yaml_key_and_their_look_alikes() {
    let crypt = |n| {
        plant(&random(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./",
            n,
        ))
    };
    let loud: &[(&str, String, &[&str])] = &[
        (
            "passwd_sha512",
            format!(
                "#cloud-config\nusers:\n  - name: deploy\n    lock_passwd: false\n    passwd: $6$rounds=4096${}${}\n",
                crypt(16),
                crypt(86)
            ),
            &["yaml-password-hash"],
        ),
        (
            "hashed_passwd_yescrypt",
            format!(
                "users:\n  - name: ops\n    hashed_passwd: \"$y$j9T${}${}\"\n",
                crypt(22),
                crypt(43)
            ),
            &["yaml-password-hash"],
        ),
        (
            "passwd_sha256",
            format!("users:\n  - name: ci\n    passwd: '$5${}${}'\n", crypt(16), crypt(43)),
            &["yaml-password-hash"],
        ),
        (
            "ansible_bcrypt",
            format!(
                "- name: add deploy\n  user:\n    name: deploy\n    password: \"$2b$12${}\"\n",
                crypt(53)
            ),
            &["yaml-password-hash"],
        ),
        (
            "chpasswd_list",
            format!(
                "chpasswd:\n  list: |\n    root:$6${}${}\n",
                crypt(16),
                crypt(86)
            ),
            &["password-hash-entry"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[
        (
            "passwd_locked",
            "users:\n  - name: deploy\n    lock_passwd: true\n    passwd: \"*\"\n",
        ),
        (
            "passwd_template",
            "users:\n  - name: deploy\n    hashed_passwd: ${hashed_password}\n",
        ),
        (
            "passwd_prose",
            "# passwd: takes a $6$ hash (mkpasswd -m sha-512)\nhashed_passwd: $6$\n",
        ),
        (
            "chpasswd_random",
            "chpasswd:\n  expire: false\n  users:\n    - {name: root, password: RANDOM}\n",
        ),
    ];
    assert_loud_and_quiet(loud, quiet);
}

/// camelCase `*Salt` keys (`hashSalt:`, `userSalt =`, `x.encryptionSalt =`) were missed by the
/// text assignment rule (`*_salt` and `*Secret` were found; `clientSecret` stays found; in JSON
/// text the key rules see the key). Quiet:
/// `basalt`, a `*SaltRounds` setting, a reference, a boolean.
#[test]
fn camel_case_salt_assignments_and_their_look_alikes() {
    let a = || plant(&random(ALNUM, 24));
    let loud: &[(&str, String, &[&str])] = &[
        (
            "hash_salt",
            format!("hashSalt: {}\n", a()),
            &["text-secret-assignment"],
        ),
        (
            "user_salt",
            format!("const userSalt = \"{}\";\n", a()),
            &["text-secret-assignment"],
        ),
        (
            "encryption_salt",
            format!("settings.encryptionSalt = '{}';\n", a()),
            &["text-secret-assignment"],
        ),
        (
            "client_secret",
            format!("clientSecret: {}\n", a()),
            &["text-secret-assignment"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[
        (
            "basalt",
            "Basalt: granite-Kx81mQ2z\nbasalt = granite-Kx81mQ2z\n",
        ),
        ("salt_rounds", "hashSaltRounds: 12\nbcryptSaltLength = 16\n"),
        ("salt_reference", "userSalt: ${USER_SALT}\n"),
        ("salt_flag", "useSalt: true\n"),
    ];
    assert_loud_and_quiet(loud, quiet);
}

/// Tokens whose prefix names their issuer, in values no key names (a trigger, a config file, a
/// script's argument): an age key (SOPS), Docker Swarm join tokens and unlock keys, Docker Hub,
/// Alibaba Cloud, Cloudflare (API tokens, keys, Origin CA keys), Dynatrace, Heroku, PlanetScale
/// (its database passwords too), Supabase, Neon, Vercel, Fly.io, Buildkite, Artifactory, Sentry,
/// MongoDB Atlas service accounts, 1Password service accounts, Harness, PyPI / RubyGems /
/// CircleCI, CockroachDB Cloud, Microsoft Teams webhooks, OpenShift, and GitLab's, Slack's and
/// Grafana's other formats: every one was missed (gitleaks and kingfisher find them). Their
/// look-alikes stay quiet: an age public key, a join command fed by a variable, a publishable
/// key, a service account's ID, a version string, a host name, an image digest.
#[test]
fn token_formats_with_an_issuer_prefix_and_their_look_alikes() {
    const BECH32: &str = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
    const HEX: &str = "0123456789abcdef";
    const LOWER: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
    const URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let r = random;
    let uuid = || {
        format!(
            "{}-{}-{}-{}-{}",
            r(HEX, 8),
            r(HEX, 4),
            r(HEX, 4),
            r(HEX, 4),
            r(HEX, 12)
        )
    };
    // Each token is planted whole; the text around it is ordinary.
    let t = |token: String| plant(&token);
    let loud: &[(&str, String, &[&str])] = &[
        (
            "age",
            format!("{}\n", t(format!("AGE-SECRET-KEY-1{}", r(BECH32, 58)))),
            &["age-secret-key"],
        ),
        (
            "swarm_join",
            format!(
                "docker swarm join --token {} 10.0.1.10:2377\n",
                t(format!("SWMTKN-1-{}-{}", r(LOWER, 50), r(LOWER, 25)))
            ),
            &["docker-swarm-token"],
        ),
        (
            "swarm_unlock",
            format!("{}\n", t(format!("SWMKEY-1-{}", r(B64, 43)))),
            &["docker-swarm-token"],
        ),
        (
            "dockerhub",
            format!(
                "echo {} | docker login -u acme --password-stdin\n",
                t(format!("dckr_pat_{}", r(URL, 27)))
            ),
            &["dockerhub-token"],
        ),
        (
            "alibaba",
            format!("{}\n", t(format!("LTAI{}", r(ALNUM, 20)))),
            &["alibaba-access-key-id"],
        ),
        (
            "cloudflare",
            format!("{}\n", t(format!("cfut_{}{}", r(ALNUM, 40), r(HEX, 8)))),
            &["cloudflare-token"],
        ),
        (
            "cloudflare_origin_ca",
            format!("{}\n", t(format!("v1.0-{}-{}", r(HEX, 24), r(HEX, 146)))),
            &["cloudflare-token"],
        ),
        (
            "dynatrace",
            format!(
                "{}\n",
                t(format!("dt0c01.{}.{}", r(UPPER, 24), r(UPPER, 64)))
            ),
            &["dynatrace-token"],
        ),
        (
            "heroku",
            format!("{}\n", t(format!("HRKU-AA{}", r(URL, 58)))),
            &["heroku-api-key"],
        ),
        (
            "planetscale",
            format!(
                "mysql://u7x2:{}@aws.connect.psdb.cloud/app?sslaccept=strict\n",
                t(format!("pscale_pw_{}", r(URL, 43)))
            ),
            &["planetscale-token"],
        ),
        (
            "supabase",
            format!("{}\n", t(format!("sbp_{}", r(HEX, 40)))),
            &["supabase-key"],
        ),
        (
            "neon",
            format!("{}\n", t(format!("napi_{}", r(ALNUM, 64)))),
            &["neon-api-key"],
        ),
        (
            "vercel",
            format!("{}\n", t(format!("vcp_{}", r(URL, 56)))),
            &["vercel-token"],
        ),
        (
            "flyio",
            format!("{}\n", t(format!("FlyV1 fm2_{}", r(B64, 200)))),
            &["flyio-token"],
        ),
        (
            "buildkite",
            format!("{}\n", t(format!("bkua_{}", r(HEX, 40)))),
            &["buildkite-token"],
        ),
        (
            "artifactory",
            format!("{}\n", t(format!("cmVmd{}", r(ALNUM, 59)))),
            &["artifactory-token"],
        ),
        (
            "sentry",
            format!("{}\n", t(format!("sntryu_{}", r(HEX, 64)))),
            &["sentry-token"],
        ),
        (
            "atlas_service_account",
            format!("{}\n", t(format!("mdb_sa_sk_{}", r(URL, 40)))),
            &["mongodb-atlas-service-account-secret"],
        ),
        (
            "onepassword",
            format!("{}\n", t(format!("ops_eyJ{}", r(B64, 400)))),
            &["onepassword-service-account-token"],
        ),
        (
            "harness",
            format!(
                "{}\n",
                t(format!(
                    "pat.{}.{}.{}",
                    r(URL, 22),
                    r(HEX, 24),
                    r(ALNUM, 20)
                ))
            ),
            &["harness-token"],
        ),
        (
            "pypi",
            format!("{}\n", t(format!("pypi-AgEIcHlwaS5vcmc{}", r(URL, 120)))),
            &["package-registry-token"],
        ),
        (
            "cockroach",
            format!(
                "{}\n",
                t(format!("CCDB1_{}_{}", r(ALNUM, 22), r(ALNUM, 40)))
            ),
            &["cockroach-cloud-api-key"],
        ),
        (
            "teams",
            format!(
                "{}\n",
                t(format!(
                    "https://acme.webhook.office.com/webhookb2/{}@{}/IncomingWebhook/{}/{}",
                    uuid(),
                    uuid(),
                    r(HEX, 32),
                    uuid()
                ))
            ),
            &["microsoft-teams-webhook"],
        ),
        (
            "openshift",
            format!(
                "oc login --token={} --server=https://api.c1.example.com:6443\n",
                t(format!("sha256~{}", r(URL, 43)))
            ),
            &["openshift-token"],
        ),
        (
            "gitlab_agent",
            format!("{}\n", t(format!("glagent-{}", r(URL, 50)))),
            &["gitlab-token"],
        ),
        (
            "gitlab_runner_registration",
            format!("{}\n", t(format!("GR1348941{}", r(URL, 20)))),
            &["gitlab-token"],
        ),
        (
            "slack_app",
            format!(
                "{}\n",
                t(format!(
                    "xapp-1-A{}-{}-{}",
                    r(UPPER, 10),
                    r("0123456789", 13),
                    r(HEX, 64)
                ))
            ),
            &["slack-token"],
        ),
        (
            "eks_token",
            format!("token: {}\n", t(format!("k8s-aws-v1.{}", r(URL, 400)))),
            &["eks-token"],
        ),
        (
            "grafana_legacy",
            format!("{}\n", t(format!("eyJrIjoi{}", r(B64, 80)))),
            &["grafana-token"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[
        (
            "age_public",
            "# public key: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n",
        ),
        (
            "swarm_variable",
            "docker swarm join --token ${SWARM_TOKEN} 10.0.1.10:2377\n",
        ),
        (
            "supabase_publishable",
            "sb_publishable_Kx81mQ2zPq7Lr4Tn9Vw3Yb6Cd0Fg2Hj\n",
        ),
        (
            "atlas_id",
            "mdb_sa_id_65f1c0ffee00112233445566\n",
        ),
        ("version", "image: app:v1.0-beta\nurl: https://sat.example.com\n"),
        (
            "digest",
            "image: registry.example.com/app@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
        ),
        ("git_ref", "ref: cmVmcy9oZWFkcy9tYWlu\n"),
    ];
    assert_loud_and_quiet(loud, quiet);
}

/// A YAML key naming a secret whose value is a nested block (`secretKeys:`, `apiTokens:`) took
/// the next line's key as its value (the assignment's `\s*` after the colon crossed the line
/// break): a `helm_release`'s `values` were a MEDIUM text-secret-assignment on
/// `secretKeys:\n  adminPasswordKey:`. And Helm charts name the entry of an existing Kubernetes
/// secret that holds a password (`adminPasswordKey: admin-password`,
/// `existingSecretPasswordKey: password`): the key names where the password is kept. A
/// random-looking value under it is still found, and so is an upper-case `DB_PASSWORD_KEY`,
/// which may be the password itself.
#[test]
fn a_helm_password_key_naming_a_secret_entry_is_quiet() {
    let a = || plant(&random(ALNUM, 24));
    let loud: &[(&str, String, &[&str])] = &[
        (
            "random_under_password_key",
            format!("auth:\n  secretKeys:\n    adminPasswordKey: {}\n", a()),
            &["text-secret-assignment"],
        ),
        (
            "upper_case_password_key",
            format!("DB_PASSWORD_KEY=Winter-{}\n", plant("Harbour-2024")),
            &["text-secret-assignment"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[
        ("block_value", "apiTokens:\n  expiryDays: 30\n"),
        (
            "secret_keys",
            "auth:\n  existingSecret: db-creds\n  secretKeys:\n    adminPasswordKey: admin-password\n    userPasswordKey: user-password\n    replicationPasswordKey: replication-password\n",
        ),
        (
            "json_values",
            "{\"auth\":{\"existingSecret\":\"app-credentials\",\"existingSecretPasswordKey\":\"db-password\",\"passwordKey\":\"redis-password\"}}",
        ),
    ];
    assert_loud_and_quiet(loud, quiet);
}

/// A Secrets Manager ARN in a script (`--secret-id arn:aws:secretsmanager:...`) is where a secret
/// is kept: text-secret-assignment read `secretsmanager:` as a key and the rest of the ARN as a
/// MEDIUM secret (a whole value that is an ARN was already quiet). A password after it is found.
#[test]
fn a_secrets_manager_arn_in_a_script_is_not_a_secret() {
    let loud: &[(&str, String, &[&str])] = &[(
        "password_beside_the_arn",
        format!(
            "aws secretsmanager put-secret-value --secret-id arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf\nexport DB_PASSWORD={}\n",
            plant(&random(ALNUM, 24))
        ),
        &["text-secret-assignment"],
    )];
    let quiet: &[(&str, &str)] = &[
        (
            "get_secret_value",
            "#!/bin/bash\nDB=$(aws secretsmanager get-secret-value --secret-id arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf --query SecretString --output text)\n",
        ),
        (
            "ecs_value_from",
            "secrets:\n  - name: DB_PASSWORD\n    valueFrom: arn:aws:secretsmanager:us-gov-west-1:123456789012:secret:app-Xy12Ab:password::\n",
        ),
    ];
    assert_loud_and_quiet(loud, quiet);
}

/// Fly.io macaroon tokens are found without the `FlyV1 ` scheme in front (`fly tokens create`
/// prints it, a CI variable or `fly auth token` often holds the bare `fm2_`/`fm1r_` part, as
/// gitleaks' and kingfisher's rules take it), and a Harness token's third part is any 24 letters
/// and digits (gitleaks' rule), not only hex. f235dd7 missed both (the Fly token under
/// FLY_API_TOKEN= was a MEDIUM text assignment).
#[test]
fn fly_macaroons_without_their_scheme_and_harness_tokens_are_found() {
    const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let loud: &[(&str, String, &[&str])] = &[
        (
            "fly_bare_fm2",
            format!("{}\n", plant(&format!("fm2_{}", random(B64, 300)))),
            &["flyio-token"],
        ),
        (
            "fly_env_fm1r",
            format!(
                "FLY_API_TOKEN={}\n",
                plant(&format!("fm1r_{}==", random(B64, 160)))
            ),
            &["flyio-token"],
        ),
        (
            "harness_alnum_token_id",
            format!(
                "{}\n",
                plant(&format!(
                    "pat.{}.{}.{}",
                    random(URL, 22),
                    random(ALNUM, 24),
                    random(ALNUM, 20)
                ))
            ),
            &["harness-token"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[
        ("fm2_short", "fm2_bGlicmFyeQ==\n"),
        ("harness_host", "sat.example.com pat.example.org\n"),
    ];
    assert_loud_and_quiet(loud, quiet);
}

/// A YAML value on the line after its key (a plain scalar, or a block scalar after `|` / `>-`)
/// is an assignment; the next line's key (a nested block) is not a value. 174b90f kept the
/// value to the key's own line and so lost the first kind.
#[test]
fn a_yaml_secret_on_the_line_after_its_key_is_found_a_nested_key_is_not() {
    let a = || plant(&random(ALNUM, 24));
    let loud: &[(&str, String, &[&str])] = &[
        (
            "plain_next_line",
            format!("db:\n  password:\n    {}\n", a()),
            &["text-secret-assignment"],
        ),
        (
            "literal_block",
            format!("db:\n  password: |\n    {}\n", a()),
            &["text-secret-assignment"],
        ),
        (
            "folded_block_strip",
            format!("auth:\n  apiToken: >-\n    {}\n", a()),
            &["text-secret-assignment"],
        ),
        (
            "quoted_next_line_crlf",
            format!("db:\r\n  password:\r\n    \"{}\"\r\n", a()),
            &["text-secret-assignment"],
        ),
        (
            "tab_after_colon",
            format!("db:\n  password:\t{}\n", a()),
            &["text-secret-assignment"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[
        ("nested_block", "apiTokens:\n  expiryDays: 30\n"),
        (
            "value_from",
            "db:\n  password:\n    valueFrom:\n      secretKeyRef:\n        name: db-credentials\n",
        ),
        (
            "template_next_line",
            "db:\n  password: |\n    {{ .Values.db.password }}\n",
        ),
        (
            "empty_env",
            "DB_PASSWORD=\nexport DB_HOST=db.internal.example.com\n",
        ),
    ];
    assert_loud_and_quiet(loud, quiet);
}

/// Documentation placeholders after a token prefix were critical findings
/// (`glpat-xxxxxxxxxxxxxxxxxxxx` as gitlab-token, `ghp_xxxx...`, `sk_live_XXXX...`,
/// `AKIAXXXXXXXXXXXXXXXX`), and so were slugs after GitLab's newer prefixes
/// (`glft-release-notes-for-version-2024`); `token: k8s-aws-v1.` with nothing after the prefix
/// was a text assignment. They are quiet now; the real tokens of the same rules, a feed token
/// in a feed URL among them, are still found.
#[test]
fn token_placeholders_and_gitlab_slugs_are_quiet_real_tokens_are_not() {
    const URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let t = |token: String| plant(&token);
    let loud: &[(&str, String, &[&str])] = &[
        (
            "pat",
            format!("GITLAB_TOKEN={}\n", t(format!("gl{}pat-{}", "", random(URL, 20)))),
            &["gitlab-token"],
        ),
        (
            "feed",
            format!(
                "feed: https://gitlab.example.com/dashboard/issues.atom?feed_token={}&state=opened\n",
                t(format!("gl{}ft-{}", "", random(URL, 20)))
            ),
            &["gitlab-token"],
        ),
        (
            "mail",
            format!("mail {}\n", t(format!("gl{}imt-{}", "", random(URL, 25)))),
            &["gitlab-token"],
        ),
        (
            "agent",
            format!("agent {}\n", t(format!("gl{}agent-{}", "", random(URL, 50)))),
            &["gitlab-token"],
        ),
        (
            "oauth",
            format!("oauth {}\n", t(format!("gl{}oas-{}", "", random(URL, 64)))),
            &["gitlab-token"],
        ),
        (
            "job",
            format!("job {}\n", t(format!("gl{}cbt-64_{}", "", random(URL, 20)))),
            &["gitlab-token"],
        ),
        (
            "github",
            format!("gh {}\n", t(format!("gh{}p_{}", "", random(ALNUM, 36)))),
            &["github-token"],
        ),
        (
            "akia",
            format!("aws {}\n", t(format!("AK{}IA{}", "", random(UPPER, 16)))),
            &["aws-access-key-id"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[
        ("pat_x", "GITLAB_TOKEN=glpat-xxxxxxxxxxxxxxxxxxxx\n"),
        ("pat_xx", "token glpat-XXXX-XXXX-XXXX-XXXX-XXXX\n"),
        (
            "gh_x",
            "export GH=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
        ),
        ("stripe_x", "stripe sk_live_XXXXXXXXXXXXXXXXXXXXXXXX\n"),
        ("stripe_xs", "stripe sk_live_51Hxxxxxxxxxxxxxxxxxxxxxxxx\n"),
        ("akia_x", "aws AKIAXXXXXXXXXXXXXXXX\n"),
        ("feed_slug", "see glft-release-notes-for-version-2024\n"),
        (
            "mail_slug",
            "see glimt-incoming-mail-handler-settings-page\n",
        ),
        ("agent_slug", "see glagent-install-guide-for-the-cluster\n"),
        ("job_slug", "see glcbt-pipeline-artifacts-retention-days\n"),
        ("k8s_prefix", "token: k8s-aws-v1.\n"),
    ];
    assert_loud_and_quiet(loud, quiet);
}

/// A password assigned as an HCL heredoc in a text (a `local_file` content or `user_data`
/// holding Terraform: `password = <<EOT` / `<<-EOT`, the value on the next line) was missed.
/// A reference in the heredoc stays quiet.
#[test]
fn a_password_in_an_hcl_heredoc_is_found() {
    let a = || plant(&random(ALNUM, 20));
    let loud: &[(&str, String, &[&str])] = &[
        (
            "eot",
            format!(
                "resource \"x\" \"y\" {{\n  password = <<EOT\n{}\nEOT\n}}\n",
                a()
            ),
            &["text-secret-assignment"],
        ),
        (
            "indented",
            format!(
                "locals {{\n  admin_password = <<-EOT\n    {}\n  EOT\n}}\n",
                a()
            ),
            &["text-secret-assignment"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[(
        "reference",
        "  password = <<-EOT\n    ${var.db_password}\n  EOT\n",
    )];
    assert_loud_and_quiet(loud, quiet);
}

/// AI inference providers' API keys (Groq, Perplexity, Replicate, xAI, OpenRouter, LangSmith,
/// Pinecone, Together AI, Cerebras, a Hugging Face organization token) start with a prefix of
/// their own and have a fixed length: under a neutral key (a trigger, a script, an `.env` file a
/// `local_file` writes) every one was missed, and under `GROQ_API_KEY=` it was only a MEDIUM text
/// assignment. OpenAI's, Anthropic's and Hugging Face's user tokens were already found and stay
/// so. Look-alikes stay quiet: model names and slugs after the same prefixes, a short or
/// over-long body.
#[test]
fn ai_provider_api_keys_are_found_by_their_prefix() {
    const HEX: &str = "0123456789abcdef";
    const LOWER: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
    const URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let r = random;
    let t = |token: String| plant(&token);
    let loud: &[(&str, String, &[&str])] = &[
        (
            "groq_env",
            format!("GROQ_API_KEY={}\n", t(format!("gsk_{}", r(ALNUM, 52)))),
            &["groq-api-key"],
        ),
        (
            "perplexity",
            format!("{}\n", t(format!("pplx-{}", r(ALNUM, 48)))),
            &["perplexity-api-key"],
        ),
        (
            "replicate",
            format!(
                "curl -H \"X-Token: {}\" https://api.replicate.com/v1/predictions\n",
                t(format!("r8_{}", r(ALNUM, 37)))
            ),
            &["replicate-api-token"],
        ),
        (
            "xai",
            format!("{}\n", t(format!("xai-{}", r(ALNUM, 80)))),
            &["xai-api-key"],
        ),
        (
            "openrouter",
            format!("{}\n", t(format!("sk-or-v1-{}", r(HEX, 64)))),
            &["openrouter-api-key"],
        ),
        (
            "langsmith",
            format!("{}\n", t(format!("lsv2_pt_{}_{}", r(HEX, 32), r(HEX, 10)))),
            &["langsmith-api-key"],
        ),
        (
            "pinecone",
            format!("{}\n", t(format!("pcsk_{}_{}", r(ALNUM, 6), r(ALNUM, 63)))),
            &["pinecone-api-key"],
        ),
        (
            "together",
            format!("{}\n", t(format!("tgp_v1_{}", r(URL, 43)))),
            &["togetherai-api-key"],
        ),
        (
            "cerebras",
            format!("{}\n", t(format!("csk-{}", r(LOWER, 48)))),
            &["cerebras-api-key"],
        ),
        (
            "huggingface_org",
            format!("{}\n", t(format!("api_org_{}", r(ALNUM, 34)))),
            &["huggingface-token"],
        ),
        (
            "huggingface_user",
            format!("{}\n", t(format!("hf_{}", r(ALNUM, 34)))),
            &["huggingface-token"],
        ),
        (
            "openai_project",
            format!(
                "{}\n",
                t(format!("sk-proj-{}T3BlbkFJ{}", r(URL, 74), r(URL, 74)))
            ),
            &["openai-api-key"],
        ),
        (
            "anthropic",
            format!("{}\n", t(format!("sk-ant-api03-{}AA", r(URL, 93)))),
            &["anthropic-api-key"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[
        ("xai_model", "model: xai-grok-2-vision-latest\n"),
        ("perplexity_model", "model: pplx-7b-online\n"),
        ("hf_org_page", "see api_org_settings_page\n"),
        ("groq_short", "prefix: gsk_live\n"),
    ];
    assert_loud_and_quiet(loud, quiet);
}

/// A kubeconfig user's `token:` (a kubeconfig a `local_file` writes, a CI variable holding one)
/// is the cluster's bearer credential: it was only a MEDIUM text-secret-assignment, the rule
/// for any `*token*: value`. It is now HIGH, rule kubeconfig-user-token, after other members
/// of the `user:` mapping too. A token file, a reference and a `token:` outside a user stay
/// as they were.
#[test]
fn a_kubeconfig_user_token_has_its_own_rule() {
    const HEX: &str = "0123456789abcdef";
    let loud: &[(&str, String, &[&str])] = &[
        (
            "kubeconfig",
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: https://10.0.0.1:6443\nusers:\n- name: ci\n  user:\n    token: {}\ncontexts: []\n",
                plant(&random(ALNUM, 40))
            ),
            &["kubeconfig-user-token"],
        ),
        (
            "after_other_members",
            format!(
                "users:\n  - name: static\n    user:\n      username: admin\n      token: \"{}\"\n",
                plant(&random(HEX, 32))
            ),
            &["kubeconfig-user-token"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[
        (
            "token_file",
            "users:\n- name: ci\n  user:\n    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token\n",
        ),
        (
            "reference",
            "users:\n- name: ci\n  user:\n    token: ${var.cluster_token}\n",
        ),
    ];
    assert_loud_and_quiet(loud, quiet);
}

/// An HCL heredoc's body is its value as written: `password = <<EOT` with a password holding
/// `;`, `(`, `$`, a quote or a space on the next line was missed (text-secret-assignment takes
/// the value only up to the first such character, and needs 8 before it). The body's line is
/// now taken whole (rule text-secret-heredoc); an interpolating body and a JSON document stay
/// quiet.
#[test]
fn an_hcl_heredoc_body_with_symbols_is_found_whole() {
    let symbols = || {
        plant(&format!(
            "{};{}({})'{} {}$",
            random(ALNUM, 4),
            random(ALNUM, 5),
            random(ALNUM, 4),
            random(ALNUM, 3),
            random(ALNUM, 5)
        ))
    };
    let loud: &[(&str, String, &[&str])] = &[
        (
            "eot",
            format!(
                "resource \"x\" \"y\" {{\n  password = <<EOT\n{}\nEOT\n}}\n",
                symbols()
            ),
            &["text-secret-heredoc"],
        ),
        (
            "indented",
            format!(
                "locals {{\n  api_token = <<-EOT\n    {}\n  EOT\n}}\n",
                symbols()
            ),
            &["text-secret-heredoc"],
        ),
    ];
    let quiet: &[(&str, &str)] = &[
        (
            "interpolated",
            "  password = <<-EOT\n    prefix-${var.suffix}\n  EOT\n",
        ),
        (
            "json_document",
            "  secret = <<EOT\n{\"username\": \"app\", \"engine\": \"postgres\"}\nEOT\n",
        ),
    ];
    assert_loud_and_quiet(loud, quiet);
}

/// Bare hex keys with no prefix of their own are found where a name says whose they are, as
/// gitleaks finds them: a Datadog application key after `DD_APP_KEY=` in a script or in a
/// `provider "datadog"` block was missed (text-secret-assignment has no `app_key`), a
/// `DATADOG_API_KEY:` only MEDIUM; a Twilio API key SID `SK...` on a line naming Twilio was
/// missed, `TWILIO_AUTH_TOKEN=` only MEDIUM. Look-alikes stay quiet: the SID alone, a Lambda
/// zip's hash next to a Datadog provider, an image digest, an etag and an account SID beside
/// the word Twilio.
#[test]
fn datadog_and_twilio_hex_keys_are_found_beside_their_name() {
    const HEX: &str = "0123456789abcdef";
    let h = |n| plant(&random(HEX, n));
    let loud: &[(&str, String, &[&str])] = &[
        (
            "dd_app_key",
            format!("#!/bin/bash\nexport DD_APP_KEY={}\n", h(40)),
            &["datadog-api-key"],
        ),
        (
            "datadog_api_key_yaml",
            format!("env:\n  DATADOG_API_KEY: \"{}\"\n", h(32)),
            &["datadog-api-key"],
        ),
        (
            "provider_block",
            format!(
                "provider \"datadog\" {{\n  api_url = \"https://api.datadoghq.eu/\"\n  app_key = \"{}\"\n}}\n",
                h(40)
            ),
            &["datadog-api-key"],
        ),
        (
            "twilio_sid",
            format!(
                "twilio api:core:messages:list --api-key {} --api-secret \"$S\"\n",
                plant(&format!("SK{}", random(HEX, 32)))
            ),
            &["twilio-api-key"],
        ),
        (
            "twilio_auth_token",
            format!("TWILIO_AUTH_TOKEN={}\n", h(32)),
            &["twilio-api-key"],
        ),
    ];
    let sid = format!("SK{}\n", random(HEX, 32));
    let zip = format!(
        "provider \"datadog\" {{\n  api_url = \"https://api.datadoghq.eu/\"\n}}\nresource \"aws_lambda_function\" \"f\" {{\n  source_code_hash = \"{}\"\n}}\n",
        random(HEX, 40)
    );
    let digest = format!("image: datadog/agent@sha256:{}\n", random(HEX, 64));
    let etag = format!(
        "twilio-layer.zip etag {} account AC{}\n",
        random(HEX, 32),
        random(HEX, 32)
    );
    let quiet: &[(&str, &str)] = &[
        ("sid_alone", &sid),
        ("lambda_hash", &zip),
        ("digest", &digest),
        ("etag", &etag),
    ];
    assert_loud_and_quiet(loud, quiet);
}
