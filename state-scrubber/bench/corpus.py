#!/usr/bin/env python3
"""Labelled corpus of Terraform states and plans for state-scrubber's accuracy benchmark.

Every fake secret is assembled at run time from random parts, so this file holds no realistic
secret (and trips no push protection). Labels are the (file, line) pairs that hold a secret:
the generator registers each secret's text as it appears in the file and finds its lines after
writing, so every scanner is judged on the same lines.

Usage: corpus.py OUT_DIR [--seed N] [--copies N]
       corpus.py --big OUT_FILE --size-mb N      (a large state for the speed benchmark)
"""
import argparse
import base64
import json
import os
import random
import string
import uuid

R = random.Random(1)

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"
B32 = string.ascii_uppercase + "234567"


def rs(chars, n):
    return "".join(R.choice(chars) for _ in range(n))


def password(n=20, special=True):
    chars = ALNUM + ("!#$%&*()-_=+[]{}<>:?" if special else "")
    return rs(chars, n)


def pem(label):
    body = "\n".join(rs(B64, 64) for _ in range(R.randint(6, 12)))
    tag = "PRIV" + "ATE KEY"
    head = f"{label} {tag}" if label else tag
    return f"-----BEGIN {head}-----\n{body}\n-----END {head}-----\n"


def openssh_key():
    tag = "OPENSSH PRIV" + "ATE KEY"
    return f"-----BEGIN {tag}-----\nb3BlbnNzaC1rZXktdjEAAAAA{rs(B64, 40)}\n{rs(B64, 70)}\n-----END {tag}-----\n"


def cert():
    body = "\n".join(rs(B64, 64) for _ in range(6))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


def public_pem():
    return f"-----BEGIN PUBLIC KEY-----\n{rs(B64, 64)}\n{rs(B64, 20)}\n-----END PUBLIC KEY-----\n"


def akid():
    return "AK" + "IA" + rs(B32, 16)


def aws_secret():
    return rs(B64, 40)


def gh_token():
    return "gh" + "p_" + rs(ALNUM, 36)


def slack_webhook():
    return "https://hooks." + "slack.com/services/T" + rs(string.ascii_uppercase, 8) + "/B" + rs(string.ascii_uppercase, 8) + "/" + rs(ALNUM, 24)


def stripe():
    return "sk" + "_live_" + rs(ALNUM, 24)


def jwt():
    return "ey" + "JhbGciOiJIUzI1NiJ9.ey" + "J" + rs(ALNUM, 40) + "." + rs(ALNUM + "-_", 43)


def azure_key():
    return rs(B64, 86) + "=="


def arn(svc, res):
    return f"arn:aws:{svc}:eu-west-1:{R.randint(10**11, 10**12 - 1)}:{res}"


def sha256():
    return rs(HEX, 64)


class Doc:
    """Collects the secret needles of one file."""

    def __init__(self):
        self.needles = []

    def s(self, value, needle=None):
        """Register a secret value (the needle is what appears in the JSON text)."""
        self.needles.append(needle if needle is not None else json.dumps(value)[1:-1])
        return value


def inst(attrs, sens=None, index_key=None):
    i = {"schema_version": 0, "attributes": attrs, "sensitive_attributes": sens or []}
    if index_key is not None:
        i = {"index_key": index_key, **i}
    return i


def res(rtype, name, instances, mode="managed", module=None, provider="hashicorp/aws"):
    r = {
        "mode": mode,
        "type": rtype,
        "name": name,
        "provider": f'provider["registry.terraform.io/{provider}"]',
        "instances": instances,
    }
    if module:
        r = {"module": module, **r}
    return r


def ga(name):
    return [{"type": "get_attr", "value": name}]


def resources(d: Doc, tf18: bool):
    """Realistic resources: secrets plus many look-alikes. tf18: 1.8+ sensitive_attributes semantics."""
    out = []
    sens = (lambda *names: [ga(n) for n in names]) if tf18 else (lambda *names: [])
    pw = d.s(password(16))
    out.append(res("random_password", "db", [inst({
        "bcrypt_hash": d.s("$2a$10$" + rs(ALNUM + "./", 53)), "id": "none", "keepers": None, "length": 16,
        "lower": True, "min_lower": 0, "min_numeric": 0, "min_special": 0, "min_upper": 0, "number": True,
        "numeric": True, "override_special": None, "result": pw, "special": True, "upper": True},
        sens("bcrypt_hash", "result"))], provider="hashicorp/random"))
    out.append(res("random_string", "suffix", [inst({
        "id": (suf := rs(string.ascii_lowercase + string.digits, 6)), "keepers": None, "length": 6, "lower": True,
        "min_lower": 0, "numeric": True, "result": suf, "special": False, "upper": False})], provider="hashicorp/random"))
    out.append(res("random_id", "bucket", [inst({"b64_std": rs(B64, 10) + "==", "b64_url": rs(ALNUM, 11), "byte_length": 8,
        "dec": str(R.randint(10**17, 10**18)), "hex": rs(HEX, 16), "id": rs(ALNUM, 11)})], provider="hashicorp/random"))
    out.append(res("random_uuid", "x", [inst({"id": str(uuid.uuid4()), "result": str(uuid.uuid4())})], provider="hashicorp/random"))
    out.append(res("aws_db_instance", "main", [inst({
        "address": f"main.{rs(HEX, 12)}.eu-west-1.rds.amazonaws.com", "allocated_storage": 20,
        "arn": arn("rds", "db:main"), "ca_cert_identifier": "rds-ca-rsa2048-g1", "engine": "postgres",
        "engine_version": "16.3", "id": "db-" + rs(string.ascii_uppercase + string.digits, 26),
        "kms_key_id": arn("kms", "key/" + str(uuid.uuid4())), "master_user_secret": [], "password": pw,
        "password_wo": None, "password_wo_version": None, "port": 5432, "username": "app",
        "resource_id": "db-" + rs(string.ascii_uppercase, 26), "storage_encrypted": True,
        "tags": {"Name": "main", "team": "payments"}, "vpc_security_group_ids": ["sg-" + rs(HEX, 17)]},
        sens("password"))]))
    out.append(res("aws_rds_cluster", "aurora", [inst({
        "arn": arn("rds", "cluster:aurora"), "cluster_identifier": "aurora", "master_password": d.s(password(24)),
        "master_username": "admin", "master_password_wo_version": None, "database_name": "app",
        "hosted_zone_id": "Z" + rs(string.ascii_uppercase + string.digits, 13)}, sens("master_password"))]))
    # The key's id is its AKIA... access key ID: an identifier, like the user name, and not
    # reported there (the credential is `secret`); so not a labelled secret line either.
    key_id = akid()
    out.append(res("aws_iam_access_key", "ci", [inst({
        "create_date": "2025-01-01T00:00:00Z", "encrypted_secret": None, "encrypted_ses_smtp_password_v4": None,
        "id": key_id, "key_fingerprint": None, "pgp_key": None, "secret": d.s(aws_secret()),
        "ses_smtp_password_v4": d.s(rs(B64, 44)), "status": "Active", "user": "ci"}, sens("secret", "ses_smtp_password_v4"))]))
    db_secret = {"username": "app", "password": password(20), "host": "db.internal", "port": 5432}
    # Terraform's jsonencode writes <, > and & as \u003c, \u003e, \u0026 (then escaped again in state).
    tf_escape = lambda t: t.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    d.s(db_secret["password"], json.dumps(tf_escape(json.dumps(db_secret["password"])[1:-1]))[1:-1])
    ss = tf_escape(json.dumps(db_secret, separators=(",", ":")))
    out.append(res("aws_secretsmanager_secret", "db", [inst({
        "arn": arn("secretsmanager", "secret:prod/db-" + rs(ALNUM, 6)), "name": "prod/db", "kms_key_id": "alias/payments",
        "recovery_window_in_days": 30, "policy": "", "tags": {}})]))
    out.append(res("aws_secretsmanager_secret_version", "db", [inst({
        "arn": arn("secretsmanager", "secret:prod/db-" + rs(ALNUM, 6)), "has_secret_string_wo": False,
        "id": arn("secretsmanager", "secret:prod/db") + "|" + str(uuid.uuid4()).upper(), "secret_binary": "",
        "secret_id": arn("secretsmanager", "secret:prod/db"), "secret_string": ss, "secret_string_wo": None,
        "secret_string_wo_version": None, "version_id": str(uuid.uuid4()).upper(), "version_stages": ["AWSCURRENT"]},
        sens("secret_string"))]))
    out.append(res("aws_ssm_parameter", "api", [inst({
        "arn": arn("ssm", "parameter/prod/api"), "name": "/prod/api/token", "type": "SecureString",
        "value": d.s(rs(ALNUM, 32)), "value_wo_version": None, "version": 3, "insecure_value": None,
        "key_id": "alias/aws/ssm", "tier": "Standard"}, sens("value"))]))
    out.append(res("aws_ssm_parameter", "plain", [inst({
        "arn": arn("ssm", "parameter/prod/region"), "name": "/prod/region", "type": "String",
        "insecure_value": "eu-west-1", "value": "eu-west-1", "version": 1})]))
    env_pw = d.s(password(18, special=False))
    out.append(res("aws_lambda_function", "api", [inst({
        "arn": arn("lambda", "function:api"), "environment": [{"variables": {
            "DB_PASSWORD": env_pw, "LOG_LEVEL": "info", "TABLE_NAME": "orders", "STRIPE_KEY": d.s(stripe()),
            "QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"}}],
        "function_name": "api", "handler": "main.handler", "role": arn("iam", "role/api"), "runtime": "python3.12",
        "source_code_hash": base64.b64encode(os.urandom(32)).decode(), "last_modified": "2025-01-01T00:00:00.000+0000",
        "qualified_arn": arn("lambda", "function:api:$LATEST"), "version": "$LATEST"})]))
    cd_pw = password(16, special=False)
    cdefs = json.dumps([{"name": "web", "image": "nginx:1.27", "environment": [
        {"name": "DB_PASSWORD", "value": cd_pw}, {"name": "MODE", "value": "production"}],
        "portMappings": [{"containerPort": 80}]}])
    d.s(cd_pw)
    out.append(res("aws_ecs_task_definition", "web", [inst({
        "arn": arn("ecs", "task-definition/web:3"), "container_definitions": cdefs, "family": "web", "cpu": "256",
        "execution_role_arn": arn("iam", "role/ecs"), "revision": 3})]))
    ud_pw = password(14, special=False)
    d.s(ud_pw)
    out.append(res("aws_instance", "bastion", [inst({
        "ami": "ami-" + rs(HEX, 17), "arn": arn("ec2", "instance/i-" + rs(HEX, 17)), "id": "i-" + rs(HEX, 17),
        "instance_type": "t3.micro", "key_name": "ops", "user_data": f"#!/bin/bash\nexport ADMIN_PASSWORD={ud_pw}\nsystemctl start app\n",
        "user_data_base64": None, "private_ip": "10.0.1.12", "public_key": None,
        "root_block_device": [{"encrypted": True, "kms_key_id": arn("kms", "key/" + str(uuid.uuid4())), "volume_id": "vol-" + rs(HEX, 17)}]})]))
    out.append(res("aws_iam_policy", "read", [inst({
        "arn": arn("iam", "policy/read"), "name": "read", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": arn("secretsmanager", "secret:prod/*")}]}),
        "policy_id": "ANPA" + rs(B32, 17), "tags_all": {}})]))
    out.append(res("aws_s3_object", "cfg", [inst({
        "bucket": "cfg", "key": "app/config.json", "etag": rs(HEX, 32), "source_hash": sha256(),
        "checksum_sha256": base64.b64encode(os.urandom(32)).decode(), "version_id": rs(ALNUM, 32), "kms_key_id": None})]))
    out.append(res("aws_key_pair", "ops", [inst({
        "arn": arn("ec2", "key-pair/ops"), "fingerprint": ":".join(rs(HEX, 2) for _ in range(16)), "key_name": "ops",
        "key_pair_id": "key-" + rs(HEX, 17), "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + rs(B64, 43) + " ops@host"})]))
    out.append(res("aws_acm_certificate", "web", [inst({
        "arn": arn("acm", "certificate/" + str(uuid.uuid4())), "certificate_body": cert(), "certificate_chain": cert(),
        "private_key": d.s(pem("RSA")), "domain_name": "example.com", "status": "ISSUED"}, sens("private_key"))]))
    out.append(res("aws_kms_key", "main", [inst({"arn": arn("kms", "key/" + str(uuid.uuid4())), "key_id": str(uuid.uuid4()),
        "policy": json.dumps({"Version": "2012-10-17"}), "key_usage": "ENCRYPT_DECRYPT", "enable_key_rotation": True})]))
    # tls
    out.append(res("tls_private_key", "ssh", [inst({
        "algorithm": "RSA", "ecdsa_curve": "P224", "id": rs(HEX, 40), "private_key_openssh": d.s(openssh_key()),
        "private_key_pem": d.s(pem("RSA")), "private_key_pem_pkcs8": d.s(pem("")), "public_key_fingerprint_md5": ":".join(rs(HEX, 2) for _ in range(16)),
        "public_key_fingerprint_sha256": "SHA256:" + rs(B64, 43), "public_key_openssh": "ssh-rsa AAAAB3NzaC1yc2E" + rs(B64, 200) + "\n",
        "public_key_pem": public_pem(), "rsa_bits": 4096}, sens("private_key_openssh", "private_key_pem", "private_key_pem_pkcs8"))], provider="hashicorp/tls"))
    out.append(res("tls_self_signed_cert", "ca", [inst({
        "cert_pem": cert(), "id": str(R.randint(10**30, 10**31)), "is_ca_certificate": True, "key_algorithm": "RSA",
        "private_key_pem": d.s(pem("RSA")), "validity_end_time": "2030-01-01T00:00:00Z"}, sens("private_key_pem"))], provider="hashicorp/tls"))
    # google
    sa_json = json.dumps({"type": "service_account", "project_id": "proj", "private_key_id": rs(HEX, 40),
                          "private_key": pem(""), "client_email": "ci@proj.iam.gserviceaccount.com", "client_id": str(R.randint(10**20, 10**21))})
    sa_b64 = base64.b64encode(sa_json.encode()).decode()
    out.append(res("google_service_account_key", "ci", [inst({
        "id": "projects/proj/serviceAccounts/ci@proj.iam.gserviceaccount.com/keys/" + rs(HEX, 40), "key_algorithm": "KEY_ALG_RSA_2048",
        "name": "projects/proj/serviceAccounts/ci@proj.iam.gserviceaccount.com/keys/" + rs(HEX, 40),
        "private_key": d.s(sa_b64), "private_key_type": "TYPE_GOOGLE_CREDENTIALS_FILE", "public_key": base64.b64encode(public_pem().encode()).decode(),
        "public_key_type": "TYPE_X509_PEM_FILE", "service_account_id": "ci@proj.iam.gserviceaccount.com", "valid_after": "2025-01-01T00:00:00Z"},
        sens("private_key"))], provider="hashicorp/google"))
    out.append(res("google_sql_user", "app", [inst({"host": "", "id": "app//main", "instance": "main", "name": "app",
        "password": d.s(password(20)), "password_wo": None, "project": "proj", "type": ""}, sens("password"))], provider="hashicorp/google"))
    out.append(res("google_storage_hmac_key", "ci", [inst({"access_id": "GOOG1E" + rs(string.ascii_uppercase + string.digits, 55),
        "id": "proj/" + rs(ALNUM, 20), "secret": d.s(rs(B64, 40)), "service_account_email": "ci@proj.iam.gserviceaccount.com", "state": "ACTIVE"},
        sens("secret"))], provider="hashicorp/google"))
    # azure
    acct = "st" + rs(string.ascii_lowercase, 10)
    k1, k2 = azure_key(), azure_key()
    d.s(k1)
    d.s(k2)
    out.append(res("azurerm_storage_account", "main", [inst({
        "id": f"/subscriptions/{uuid.uuid4()}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/{acct}", "name": acct,
        "primary_access_key": k1, "secondary_access_key": k2,
        "primary_connection_string": f"DefaultEndpointsProtocol=https;AccountName={acct};AccountKey={k1};EndpointSuffix=core.windows.net",
        "primary_blob_endpoint": f"https://{acct}.blob.core.windows.net/", "account_tier": "Standard"},
        sens("primary_access_key", "secondary_access_key", "primary_connection_string"))], provider="hashicorp/azurerm"))
    out.append(res("azurerm_mssql_server", "main", [inst({"administrator_login": "sqladmin", "administrator_login_password": d.s(password(20)),
        "fully_qualified_domain_name": "main.database.windows.net", "id": f"/subscriptions/{uuid.uuid4()}/resourceGroups/rg/providers/Microsoft.Sql/servers/main",
        "version": "12.0"}, sens("administrator_login_password"))], provider="hashicorp/azurerm"))
    out.append(res("azurerm_key_vault_secret", "api", [inst({"id": "https://kv.vault.azure.net/secrets/api/" + rs(HEX, 32),
        "key_vault_id": f"/subscriptions/{uuid.uuid4()}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv", "name": "api",
        "value": d.s(rs(ALNUM, 40)), "content_type": "text/plain", "version": rs(HEX, 32)}, sens("value"))], provider="hashicorp/azurerm"))
    out.append(res("azurerm_application_insights", "ai", [inst({"app_id": str(uuid.uuid4()), "instrumentation_key": d.s(str(uuid.uuid4())),
        "connection_string": d.s(f"InstrumentationKey={uuid.uuid4()};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/"),
        "id": f"/subscriptions/{uuid.uuid4()}/resourceGroups/rg/providers/Microsoft.Insights/components/ai"},
        sens("instrumentation_key", "connection_string"))], provider="hashicorp/azurerm"))
    # kubernetes, vault, github
    out.append(res("kubernetes_secret_v1", "app", [inst({"data": {"password": d.s(password(16)), "api-token": d.s(jwt())},
        "id": "default/app", "metadata": [{"name": "app", "namespace": "default", "resource_version": str(R.randint(1000, 9999)),
        "uid": str(uuid.uuid4())}], "type": "Opaque", "immutable": False}, sens("data"))], provider="hashicorp/kubernetes"))
    vpw = password(18)
    d.s(vpw, json.dumps(json.dumps(vpw)[1:-1])[1:-1])
    out.append(res("vault_kv_secret_v2", "app", [inst({"cas": None, "data_json": json.dumps({"password": vpw}),
        "delete_all_versions": False, "id": "kv/data/app", "mount": "kv", "name": "app", "path": "kv/data/app",
        "metadata": [{"version": 1}]}, sens("data_json"))], provider="hashicorp/vault"))
    out.append(res("github_actions_secret", "deploy", [inst({"created_at": "2025-01-01 00:00:00 +0000 UTC",
        "encrypted_value": "", "id": "app:DEPLOY_TOKEN", "plaintext_value": d.s(gh_token()), "repository": "app",
        "secret_name": "DEPLOY_TOKEN", "updated_at": "2025-01-01 00:00:00 +0000 UTC"}, sens("plaintext_value"))], provider="integrations/github"))
    out.append(res("aws_sns_topic_subscription", "slack", [inst({"arn": arn("sns", "alerts:" + str(uuid.uuid4())),
        "endpoint": d.s(slack_webhook()), "protocol": "https", "topic_arn": arn("sns", "alerts")})]))
    out.append(res("aws_glue_connection", "jdbc", [inst({"arn": arn("glue", "connection/jdbc"), "connection_properties": {
        "JDBC_CONNECTION_URL": "jdbc:postgresql://db.internal:5432/app", "USERNAME": "etl", "PASSWORD": d.s(password(16, special=False))},
        "name": "jdbc"}, sens("connection_properties"))]))
    conn_pw = password(14, special=False)
    d.s(conn_pw)
    out.append(res("aws_ssm_parameter", "dsn", [inst({"arn": arn("ssm", "parameter/prod/dsn"), "name": "/prod/dsn", "type": "String",
        "insecure_value": f"postgres://app:{conn_pw}@db.internal:5432/app", "value": f"postgres://app:{conn_pw}@db.internal:5432/app", "version": 1},
        sens("value"))]))
    # a data source and a module with count/for_each
    out.append(res("aws_secretsmanager_secret_version", "read", [inst({"arn": arn("secretsmanager", "secret:prod/api-" + rs(ALNUM, 6)),
        "id": "prod/api|AWSCURRENT", "secret_binary": "", "secret_id": "prod/api", "secret_string": d.s(rs(ALNUM, 32)),
        "version_id": str(uuid.uuid4()), "version_stage": "AWSCURRENT", "version_stages": ["AWSCURRENT"]}, sens("secret_string"))], mode="data"))
    out.append(res("aws_db_instance", "replica", [inst({"arn": arn("rds", f"db:replica-{i}"), "id": f"db-{rs(string.ascii_uppercase, 20)}",
        "password": d.s(password(16)), "username": "app", "port": 5432}, sens("password"), index_key=i) for i in range(2)], module='module.db["eu"]'))
    out.append(res("terraform_data", "meta", [inst({"id": str(uuid.uuid4()), "input": {"value": {"team": "payments", "owner": "ops@example.com"},
        "type": ["object", {"team": "string", "owner": "string"}]}, "output": {"value": {"team": "payments", "owner": "ops@example.com"},
        "type": ["object", {"team": "string", "owner": "string"}]}, "triggers_replace": None})], provider="terraform.io/builtin/terraform"))
    # look-alikes galore
    for i in range(6):
        out.append(res("aws_security_group", f"sg{i}", [inst({"arn": arn("ec2", "security-group/sg-" + rs(HEX, 17)), "id": "sg-" + rs(HEX, 17),
            "name": f"sg{i}-" + rs(string.ascii_lowercase, 6), "description": "Managed by Terraform", "owner_id": str(R.randint(10**11, 10**12 - 1)),
            "vpc_id": "vpc-" + rs(HEX, 17), "tags": {"Name": f"sg{i}"}, "ingress": [{"cidr_blocks": ["10.0.0.0/8"], "from_port": 443, "to_port": 443,
            "protocol": "tcp", "description": "https", "self": False}]})]))
    out.append(res("aws_cloudfront_distribution", "cdn", [inst({"arn": arn("cloudfront", "distribution/E" + rs(B32, 13)),
        "etag": "E" + rs(B32, 13), "domain_name": rs(string.ascii_lowercase, 14) + ".cloudfront.net", "hosted_zone_id": "Z2FDTNDATAQYW2",
        "id": "E" + rs(B32, 13), "trusted_key_groups": [{"enabled": False, "items": []}],
        "origin": [{"origin_access_control_id": "E" + rs(B32, 13), "origin_id": "s3", "custom_header": [{"name": "X-Origin-Verify", "value": "cdn"}]}]})]))
    out.append(res("aws_iam_role", "app", [inst({"arn": arn("iam", "role/app"), "assume_role_policy": json.dumps({"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
        "id": "app", "unique_id": "AROA" + rs(B32, 17), "max_session_duration": 3600, "name": "app"})]))
    # more look-alikes: ciphertext, IDs that look random, digests, policies, public material
    out.append(res("aws_iam_user_login_profile", "dev", [inst({"encrypted_password": base64.b64encode(os.urandom(180)).decode(),
        "id": "dev", "key_fingerprint": rs(HEX, 40), "password": None, "password_length": 20, "password_reset_required": True,
        "pgp_key": "keybase:dev", "user": "dev"})]))
    out.append(res("aws_iam_access_key", "pgp", [inst({"encrypted_secret": base64.b64encode(os.urandom(200)).decode(),
        "encrypted_ses_smtp_password_v4": base64.b64encode(os.urandom(200)).decode(), "id": (pk := akid()), "key_fingerprint": rs(HEX, 40),
        "pgp_key": "keybase:ci", "secret": None, "ses_smtp_password_v4": None, "status": "Active", "user": "ci"})]))
    out.append(res("aws_db_instance", "managed_pw", [inst({"arn": arn("rds", "db:managed"), "manage_master_user_password": True,
        "master_user_secret": [{"kms_key_id": arn("kms", "key/" + str(uuid.uuid4())), "secret_arn": arn("secretsmanager", "secret:rds!db-" + str(uuid.uuid4())),
        "secret_status": "active"}], "password": None, "username": "app", "password_wo_version": 3})]))
    out.append(res("aws_launch_template", "web", [inst({"arn": arn("ec2", "launch-template/lt-" + rs(HEX, 17)), "id": "lt-" + rs(HEX, 17),
        "user_data": base64.b64encode(b"#!/bin/bash\nyum install -y nginx\nsystemctl enable --now nginx\n").decode(), "latest_version": 4,
        "image_id": "ami-" + rs(HEX, 17), "key_name": "ops"})]))
    out.append(res("archive_file", "lambda", [inst({"id": rs(HEX, 40), "output_base64sha256": base64.b64encode(os.urandom(32)).decode(),
        "output_base64sha512": base64.b64encode(os.urandom(64)).decode(), "output_md5": rs(HEX, 32), "output_sha": rs(HEX, 40),
        "output_sha256": rs(HEX, 64), "output_path": "build/lambda.zip", "source_dir": "src"})], mode="data", provider="hashicorp/archive"))
    out.append(res("aws_cognito_user_pool", "users", [inst({"arn": arn("cognito-idp", "userpool/eu-west-1_" + rs(ALNUM, 9)), "id": "eu-west-1_" + rs(ALNUM, 9),
        "password_policy": [{"minimum_length": 12, "require_symbols": True, "temporary_password_validity_days": 7}],
        "endpoint": "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_" + rs(ALNUM, 9), "name": "users"})]))
    out.append(res("azuread_application", "app", [inst({"client_id": str(uuid.uuid4()), "object_id": str(uuid.uuid4()), "id": "/applications/" + str(uuid.uuid4()),
        "display_name": "app", "password": [], "tenant_id": str(uuid.uuid4()), "publisher_domain": "example.onmicrosoft.com"})], provider="hashicorp/azuread"))
    out.append(res("github_repository", "app", [inst({"etag": 'W/"' + rs(HEX, 64) + '"', "node_id": "R_kgDO" + rs(ALNUM, 8), "full_name": "org/app",
        "git_clone_url": "git://github.com/org/app.git", "ssh_clone_url": "git@github.com:org/app.git", "http_clone_url": "https://github.com/org/app.git",
        "repo_id": R.randint(10**8, 10**9), "name": "app"})], provider="integrations/github"))
    out.append(res("vault_token", "ci", [inst({"accessor": rs(ALNUM, 24), "client_token": d.s("hv" + "s." + rs(ALNUM, 90)), "id": rs(ALNUM, 24),
        "policies": ["ci"], "renewable": True, "ttl": "1h", "lease_duration": 3600}, sens("client_token"))], provider="hashicorp/vault"))
    out.append(res("kubernetes_service_account_v1", "ci", [inst({"id": "default/ci", "default_secret_name": "", "metadata": [{"name": "ci",
        "namespace": "default", "uid": str(uuid.uuid4()), "resource_version": str(R.randint(1000, 9999))}], "automount_service_account_token": True})],
        provider="hashicorp/kubernetes"))
    out.append(res("aws_ecr_repository", "app", [inst({"arn": arn("ecr", "repository/app"), "registry_id": str(R.randint(10**11, 10**12 - 1)),
        "repository_url": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app", "image_digest": "sha256:" + rs(HEX, 64)})]))
    out.append(res("tls_cert_request", "web", [inst({"cert_request_pem": "-----BEGIN CERTIFICATE REQUEST-----\n" + rs(B64, 64) + "\n-----END CERTIFICATE REQUEST-----\n",
        "id": rs(HEX, 40), "key_algorithm": "RSA", "private_key_pem": d.s(pem("RSA")), "subject": [{"common_name": "example.com"}]}, sens("private_key_pem"))],
        provider="hashicorp/tls"))
    out.append(res("aws_cognito_user_pool_client", "web", [inst({"id": rs(string.ascii_lowercase + string.digits, 26),
        "client_secret": d.s(rs(string.ascii_lowercase + string.digits, 51)), "generate_secret": True, "name": "web",
        "token_validity_units": [{"access_token": "hours", "id_token": "hours", "refresh_token": "days"}],
        "access_token_validity": 1, "user_pool_id": "eu-west-1_" + rs(ALNUM, 9)}, sens("client_secret"))]))
    out.extend(issuer_tokens(d))
    return out


URL = ALNUM + "-_"
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"
LOWER36 = string.ascii_lowercase + string.digits


def uid():
    return str(uuid.UUID(int=R.getrandbits(128)))


def issuer_tokens(d: Doc):
    """Tokens whose prefix names their issuer, bare under neutral keys (a bootstrap script's
    steps, a kubeconfig, a CLI login): only a content rule can find them. Then their look-alikes:
    public keys, references, digests, base64 of public text, version strings, host names."""
    presigned = ("https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
                 "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIA" + rs(B32, 16) + "%2F20261128%2Feu-west-1%2Fsts%2Faws4_request"
                 "&X-Amz-Date=20261128T010000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"
                 "&X-Amz-Security-Token=" + rs(ALNUM, 300) + "&X-Amz-Signature=" + rs(HEX, 64))
    eks = "k8s-aws-v1." + base64.urlsafe_b64encode(presigned.encode()).decode().rstrip("=")
    grafana = base64.b64encode(json.dumps({"k": rs(ALNUM, 32), "n": "ci", "id": 1}, separators=(",", ":")).encode()).decode()
    t = d.s
    steps = {
        "age_identity": t("AGE-SECRET-KEY-1" + rs(BECH32, 58)),
        "swarm_join": "docker swarm join --token " + t("SWMTKN-1-" + rs(LOWER36, 50) + "-" + rs(LOWER36, 25)) + " 10.0.1.10:2377",
        "registry_login": "echo " + t("dckr_pat_" + rs(URL, 27)) + " | docker login -u acme --password-stdin",
        "aliyun": "aliyun configure set --access-key-id " + t("LTAI" + rs(ALNUM, 20)),
        "cf": t("cfut_" + rs(ALNUM, 40) + rs(HEX, 8)),
        "dynatrace": t("dt0c01." + rs(string.ascii_uppercase + string.digits, 24) + "." + rs(string.ascii_uppercase + string.digits, 64)),
        "heroku": t("HRKU-AA" + rs(URL, 58)),
        "supabase": t("sbp_" + rs(HEX, 40)),
        "neon": t("napi_" + rs(LOWER36, 64)),
        "vercel": t("vcp_" + rs(URL, 56)),
        "fly": t("fm2_" + rs(B64, 300)),
        "buildkite": t("bkua_" + rs(HEX, 40)),
        "jfrog": t("cmVmdGtuOjAxOj" + rs(ALNUM, 50)),
        "sentry": t("sntryu_" + rs(HEX, 64)),
        "atlas": t("mdb_sa_sk_" + rs(URL, 40)),
        "harness": t("pat." + rs(URL, 22) + "." + rs(HEX, 24) + "." + rs(ALNUM, 20)),
        "pypi": t("pypi-AgEIcHlwaS5vcmc" + rs(URL, 120)),
        "cockroach": t("CCDB1_" + rs(ALNUM, 22) + "_" + rs(ALNUM, 40)),
        "teams": "https://acme.webhook.office.com/webhookb2/" + uid() + "@" + uid() + "/IncomingWebhook/" + t(rs(HEX, 32)) + "/" + uid(),
        "oc_login": "oc login --token=" + t("sha256~" + rs(URL, 43)) + " --server=https://api.c1.example.com:6443",
        "gitlab_agent": t("glagent-" + rs(URL, 50)),
        "slack_app": t("xapp-1-A" + rs(string.ascii_uppercase + string.digits, 10) + "-" + rs(string.digits, 13) + "-" + rs(HEX, 64)),
        "grafana": t(grafana),
        "kubeconfig_user": "users:\n- name: eks\n  user:\n    token: " + t(eks) + "\n",
        # AI inference providers' keys, in an .env file a local_file writes and as bare values
        "ai_env": "GROQ_API_KEY=" + t("gsk_" + rs(ALNUM, 52)) + "\nPERPLEXITY_API_KEY=" + t("pplx-" + rs(ALNUM, 48)) + "\n",
        "replicate": t("r8_" + rs(ALNUM, 37)),
        "xai": t("xai-" + rs(ALNUM, 80)),
        "openrouter": t("sk-or-v1-" + rs(HEX, 64)),
        "langsmith": t("lsv2_sk_" + rs(HEX, 32) + "_" + rs(HEX, 10)),
        "pinecone": t("pcsk_" + rs(ALNUM, 6) + "_" + rs(ALNUM, 63)),
        "together": t("tgp_v1_" + rs(URL, 43)),
        "cerebras": t("csk-" + rs(LOWER36, 48)),
        "hf_org": t("api_org_" + rs(ALNUM, 34)),
        "tf_heredoc": "locals {\n  db_password = <<-EOT\n    " + t(rs(ALNUM, 4) + ";" + rs(ALNUM, 5) + "(" + rs(ALNUM, 4) + ")'" + rs(ALNUM, 4)) + "\n  EOT\n}\n",
        "dd_env": "export DD_APP_KEY=" + t(rs(HEX, 40)) + "\n",
        "twilio": "TWILIO_API_KEY=" + t("SK" + rs(HEX, 32)) + "\n",
        "kubeconfig_static": "users:\n- name: ci\n  user:\n    username: ci\n    token: " + t(rs(ALNUM, 40)) + "\n",
    }
    looks = {
        "age_recipient": "age1" + rs(BECH32.lower(), 58),
        "swarm_join": "docker swarm join --token ${SWARM_TOKEN} 10.0.1.10:2377",
        "supabase_publishable": "sb_publishable_" + rs(URL, 31),
        "atlas_client_id": "mdb_sa_id_" + rs(HEX, 24),
        "cf_version": "v1.0-beta",
        "harness_host": "sat.example.com",
        "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:" + rs(HEX, 64),
        "ref_b64": base64.b64encode(b"refs/heads/main").decode(),
        "fly_short": "fm2_" + base64.b64encode(b"library").decode(),
        "node_api": "napi_create_function",
        "oc_digest": "sha256~short",
        "eks_prefix_only": "k8s-aws-v1.",
        "teams_base": "https://acme.webhook.office.com/webhookb2/",
        "dynatrace_env": "https://" + rs(string.ascii_lowercase, 8) + ".live.dynatrace.com/api/v2/metrics/ingest",
        "xai_model": "xai-grok-2-vision-latest",
        "perplexity_model": "pplx-7b-online",
        "datadog_image": "public.ecr.aws/datadog/agent@sha256:" + rs(HEX, 64),
        "twilio_layer_etag": "twilio-layer.zip " + rs(HEX, 32),
    }
    return [
        res("null_resource", "bootstrap", [inst({"id": str(R.randint(10**18, 10**19 - 1)), "triggers": steps})], provider="hashicorp/null"),
        res("terraform_data", "lookalike_tokens", [inst({"id": uid(), "input": {"value": looks, "type": ["object", {k: "string" for k in looks}]},
            "output": {"value": looks, "type": ["object", {k: "string" for k in looks}]}, "triggers_replace": None})],
            provider="terraform.io/builtin/terraform"),
    ]


def outputs(d: Doc, pw):
    return {
        "db_endpoint": {"value": "main.abc.eu-west-1.rds.amazonaws.com:5432", "type": "string"},
        "db_password": {"value": d.s(pw), "type": "string", "sensitive": True},
        "bucket_arn": {"value": arn("s3", "bucket"), "type": "string"},
    }


def state_v4(d: Doc, tfv="1.9.5", tf18=True):
    rs_ = resources(d, tf18)
    return {"version": 4, "terraform_version": tfv, "serial": R.randint(1, 500), "lineage": str(uuid.uuid4()),
            "outputs": outputs(d, password(16)), "resources": rs_, "check_results": None}


def state_v3(d: Doc):
    pw = password(16)
    return {"version": 3, "terraform_version": "0.11.14", "serial": 7, "lineage": str(uuid.uuid4()), "modules": [
        {"path": ["root"], "outputs": {"db_password": {"sensitive": True, "type": "string", "value": d.s(password(14))}},
         "resources": {
             "aws_db_instance.main": {"type": "aws_db_instance", "depends_on": [], "primary": {"id": "main", "attributes": {
                 "id": "main", "password": d.s(pw), "username": "app", "port": "5432", "tags.%": "1", "tags.Name": "main",
                 "arn": arn("rds", "db:main")}, "meta": {}, "tainted": False}, "deposed": [], "provider": "provider.aws"},
             "aws_iam_access_key.ci.0": {"type": "aws_iam_access_key", "primary": {"id": (kid := akid()), "attributes": {
                 "id": kid, "secret": d.s(aws_secret()), "user": "ci", "status": "Active"}}, "provider": "provider.aws"},
             "data.aws_caller_identity.me": {"type": "aws_caller_identity", "primary": {"id": "123456789012", "attributes": {
                 "account_id": "123456789012", "arn": arn("iam", "user/ci"), "user_id": "AIDA" + rs(B32, 17)}}}},
         "depends_on": []},
        {"path": ["root", "app"], "outputs": {}, "resources": {
            "aws_elasticache_replication_group.redis": {"type": "aws_elasticache_replication_group", "primary": {"id": "redis", "attributes": {
                "auth_token": d.s(rs(ALNUM, 32)), "id": "redis", "port": "6379", "engine": "redis"}}}}}]}


def v4_flat(d: Doc):
    """A v4 state upgraded from v3 and not refreshed: attributes_flat."""
    return {"version": 4, "terraform_version": "0.12.31", "serial": 2, "lineage": str(uuid.uuid4()), "outputs": {}, "resources": [
        res("aws_db_instance", "legacy", [{"schema_version": 1, "attributes_flat": {"id": "legacy", "password": d.s(password(16)),
            "username": "app", "tags.%": "0", "vpc_security_group_ids.#": "1", "vpc_security_group_ids.1234": "sg-" + rs(HEX, 17)}}])]}


def show_state(d: Doc, st):
    """terraform show -json of a state (values/sensitive_values)."""
    mods = {}
    for r in st["resources"]:
        for i in r["instances"]:
            a = r.get("module", "")
            addr = (a + "." if a else "") + ("data." if r["mode"] == "data" else "") + f'{r["type"]}.{r["name"]}'
            if "index_key" in i:
                addr += f'[{json.dumps(i["index_key"])}]'
            sv = {p[0]["value"]: True for p in i["sensitive_attributes"]}
            ent = {"address": addr, "mode": r["mode"], "type": r["type"], "name": r["name"], "provider_name": "registry.terraform.io/hashicorp/aws",
                   "schema_version": 0, "values": i["attributes"], "sensitive_values": sv}
            if "index_key" in i:
                ent["index"] = i["index_key"]
            mods.setdefault(a, []).append(ent)
    root = {"resources": mods.pop("", [])}
    if mods:
        root["child_modules"] = [{"address": k, "resources": v} for k, v in mods.items()]
    outs = {k: {"sensitive": v.get("sensitive", False), "value": v["value"], "type": v["type"]} for k, v in st["outputs"].items()}
    return {"format_version": "1.0", "terraform_version": "1.15.0", "values": {"outputs": outs, "root_module": root}}


def plan(d: Doc):
    """terraform show -json of a plan: the secret appears in variables, config, changes and prior state."""
    pw = d.s(password(18))
    tok = d.s(gh_token())
    st = state_v4(d, "1.15.0")
    ss = show_state(d, st)
    changes = []
    for m in ss["values"]["root_module"]["resources"][:12]:
        changes.append({"address": m["address"], "mode": m["mode"], "type": m["type"], "name": m["name"], "provider_name": m["provider_name"],
                        "change": {"actions": ["update"], "before": m["values"], "after": m["values"], "after_unknown": {},
                                   "before_sensitive": m["sensitive_values"], "after_sensitive": m["sensitive_values"]}})
    changes.append({"address": "aws_db_instance.new", "mode": "managed", "type": "aws_db_instance", "name": "new",
                    "change": {"actions": ["create"], "before": None, "after": {"password": pw, "username": "app"},
                               "after_unknown": {"id": True}, "before_sensitive": False, "after_sensitive": {"password": True}}})
    # pretend terraform wrote every change twice (prior_state + planned_values) as it does
    return {"format_version": "1.2", "terraform_version": "1.15.0",
            "variables": {"db_password": {"value": pw}, "github_token": {"value": tok}, "region": {"value": "eu-west-1"}},
            "planned_values": ss["values"], "resource_changes": changes,
            "output_changes": {"db_password": {"actions": ["no-op"], "before": d.s(password(12)), "after": d.s(password(12)),
                                               "after_unknown": False, "before_sensitive": True, "after_sensitive": True}},
            "prior_state": {"format_version": "1.0", "terraform_version": "1.15.0", "values": ss["values"]},
            "configuration": {"provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws",
                "expressions": {"region": {"constant_value": "eu-west-1"}, "secret_key": {"constant_value": d.s(aws_secret())}}}},
                "root_module": {"variables": {"db_password": {"sensitive": True}, "github_token": {"sensitive": True}, "region": {"default": "eu-west-1"}},
                    "resources": [{"address": "aws_db_instance.new", "mode": "managed", "type": "aws_db_instance", "name": "new",
                                   "expressions": {"password": {"constant_value": d.s(password(15))}, "username": {"constant_value": "app"},
                                                   "instance_class": {"constant_value": "db.t3.micro"}}}]}},
            "timestamp": "2026-01-01T00:00:00Z", "applyable": True, "complete": True, "errored": False}


def backend_cache(d: Doc):
    return {"version": 3, "terraform_version": "1.9.5", "backend": {"type": "s3", "config": {
        "bucket": "tf-state", "key": "prod/terraform.tfstate", "region": "eu-west-1", "access_key": d.s(akid()),
        "secret_key": d.s(aws_secret()), "dynamodb_table": "tf-lock", "encrypt": True}, "hash": R.randint(10**8, 10**9)}}


def write(path, doc, d: Doc, labels, compact=False):
    text = json.dumps(doc, indent=None if compact else 2) + "\n"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    lines = set()
    for i, line in enumerate(text.split("\n"), 1):
        if any(n and n in line for n in d.needles):
            lines.add(i)
    missing = [n[:4] for n in d.needles if n not in text]
    assert not missing, f"{path}: needles not in text"
    labels[path] = sorted(lines)


def corpus(out, copies):
    labels = {}
    for c in range(copies):
        base = os.path.join(out, f"org{c}")
        for tfv, tf18 in [("1.9.5", True), ("1.5.7", False), ("1.15.0", True), ("0.14.11", False)]:
            d = Doc()
            write(os.path.join(base, f"envs/tf-{tfv}/terraform.tfstate"), state_v4(d, tfv, tf18), d, labels)
        d = Doc()
        write(os.path.join(base, "envs/prod/terraform.tfstate.backup"), state_v4(d, "1.11.4"), d, labels)
        d = Doc()
        write(os.path.join(base, "legacy/terraform.tfstate"), state_v3(d), d, labels)
        d = Doc()
        write(os.path.join(base, "legacy-upgraded/terraform.tfstate"), v4_flat(d), d, labels)
        d = Doc()
        write(os.path.join(base, "show/state.tfstate.json"), show_state(d, state_v4(d, "1.15.0")), d, labels)
        d = Doc()
        write(os.path.join(base, "plans/prod.tfplan.json"), plan(d), d, labels, compact=False)
        d = Doc()
        write(os.path.join(base, "envs/prod/.terraform/terraform.tfstate"), backend_cache(d), d, labels)
        # clean state: look-alikes only
        d = Doc()
        clean = state_v4(Doc(), "1.15.0")
        clean["resources"] = [r for r in clean["resources"] if r["type"] in ("aws_security_group", "aws_iam_role", "aws_kms_key", "random_uuid",
                                                                           "aws_key_pair", "aws_s3_object", "aws_iam_policy", "random_string", "terraform_data", "random_id")]
        clean["outputs"] = {"bucket_arn": {"value": arn("s3", "bucket"), "type": "string"}}
        write(os.path.join(base, "envs/clean/terraform.tfstate"), clean, d, labels)
    with open(os.path.join(out, "labels.json"), "w") as f:
        json.dump(labels, f, indent=1)
    return labels


def big(path, size_mb, weight=5):
    """One large v4 state made of many copies of realistic resources (for throughput)."""
    target = size_mb * 1_000_000
    with open(path, "w") as f:
        f.write('{\n  "version": 4,\n  "terraform_version": "1.15.0",\n  "serial": 1,\n  "lineage": "%s",\n  "outputs": {},\n  "resources": [\n' % uuid.uuid4())
        written = 0
        first = True
        pool = []
        # Real states are mostly non-secret resources: weight the look-alikes 5 to 1.
        lookalike = {"aws_security_group", "aws_iam_role", "aws_kms_key", "random_uuid", "aws_key_pair", "aws_s3_object",
                     "aws_iam_policy", "random_string", "terraform_data", "random_id", "aws_cloudfront_distribution"}
        for _ in range(8):
            for r in resources(Doc(), True):
                pool.extend([r] * (weight if r["type"] in lookalike else 1))
        i = 0
        while written < target:
            r = dict(pool[i % len(pool)])
            r["name"] = f'{r["name"]}_{i}'
            chunk = ("" if first else ",\n") + "\n".join("    " + line for line in json.dumps(r, indent=2).split("\n"))
            f.write(chunk)
            written += len(chunk)
            first = False
            i += 1
        f.write('\n  ],\n  "check_results": null\n}\n')


def many(out, count, weight=5):
    """A tree of `count` small v4 states (4 resources each, 100 per directory) drawn from the same
    pool as `big` (for per-file overhead: a CI job auditing every workspace's state)."""
    lookalike = {"aws_security_group", "aws_iam_role", "aws_kms_key", "random_uuid", "aws_key_pair", "aws_s3_object",
                 "aws_iam_policy", "random_string", "terraform_data", "random_id", "aws_cloudfront_distribution"}
    pool = []
    for _ in range(8):
        for r in resources(Doc(), True):
            pool.extend([r] * (weight if r["type"] in lookalike else 1))
    k = 0
    for n in range(count):
        d = os.path.join(out, f"env{n // 100:03d}", f"stack{n % 100:02d}")
        os.makedirs(d, exist_ok=True)
        rs = []
        for _ in range(4):
            r = dict(pool[k % len(pool)])
            r["name"] = f'{r["name"]}_{k}'
            rs.append(r)
            k += 1
        state = {"version": 4, "terraform_version": "1.15.0", "serial": 1, "lineage": str(uuid.uuid4()),
                 "outputs": {}, "resources": rs, "check_results": None}
        with open(os.path.join(d, "terraform.tfstate"), "w") as f:
            json.dump(state, f, indent=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--copies", type=int, default=3)
    ap.add_argument("--big", action="store_true")
    ap.add_argument("--size-mb", type=int, default=1)
    ap.add_argument("--many", type=int, metavar="N", help="write N small states under OUT (a directory)")
    ap.add_argument("--lookalike-weight", type=int, default=5, help="non-secret resources per secret-bearing one (big mode)")
    a = ap.parse_args()
    R.seed(a.seed)
    if a.many:
        many(a.out, a.many, a.lookalike_weight)
    elif a.big:
        big(a.out, a.size_mb, a.lookalike_weight)
    else:
        labels = corpus(a.out, a.copies)
        print(f"{len(labels)} files, {sum(len(v) for v in labels.values())} labelled secret lines")


if __name__ == "__main__":
    main()
