#!/usr/bin/env python3
"""Write a Terraform v4 state for ./main.tf holding plaintext (fake) secrets.

The secrets are made at run time from random bytes and split literals, so this repository holds
no string that a secret scanner or push protection would flag, yet the state looks like the
real thing to `state-scrubber audit`:

    python3 examples/legacy-state/generate_state.py [OUT] [--seed N]

OUT defaults to terraform.tfstate beside this script. Prints the path, never a value.
"""

import argparse
import base64
import json
import os
import random
import string
import sys
import textwrap
import uuid
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default=str(Path(__file__).with_name("terraform.tfstate")))
    ap.add_argument("--seed", type=int, help="reproducible values (for snapshots); default: random")
    args = ap.parse_args()
    rng = random.Random(args.seed) if args.seed is not None else random.SystemRandom()

    def pick(alphabet: str, n: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    upper_digits = string.ascii_uppercase + string.digits
    b64chars = string.ascii_letters + string.digits + "+/"
    db_password = pick(string.ascii_letters + string.digits + "!#%^*", 20)
    admin_password = pick(string.ascii_letters + string.digits + "!@#$%&*()-_=+[]{}<>:?", 24)
    # AWS access key id shape: the 4-letter prefix is split so no literal key id appears here
    access_key_id = "AK" + "IA" + pick(upper_digits.replace("0", "").replace("1", ""), 16)
    secret_access_key = pick(b64chars, 40)
    pem_body = "\n".join(textwrap.wrap(base64.b64encode(bytes(rng.getrandbits(8) for _ in range(900))).decode(), 64))
    begin, end = "-----BEGIN " + "RSA PRIVATE KEY-----", "-----END " + "RSA PRIVATE KEY-----"
    private_key_pem = f"{begin}\n{pem_body}\n{end}\n"
    db_address = "payments-db.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com"
    account = "123456789012"

    def sens(*names):
        return [[{"type": "get_attr", "value": n}] for n in names]

    def res(typ, name, provider, attrs, sensitive=(), schema_version=0, deps=()):
        inst = {
            "schema_version": schema_version,
            "attributes": attrs,
            "sensitive_attributes": sens(*sensitive),
        }
        if deps:
            inst["dependencies"] = list(deps)
        return {
            "mode": "managed",
            "type": typ,
            "name": name,
            "provider": f'provider["registry.terraform.io/hashicorp/{provider}"]',
            "instances": [inst],
        }

    secret_arn = f"arn:aws:secretsmanager:eu-west-1:{account}:secret:legacy/payments/app-{pick(string.ascii_letters, 6)}"
    state = {
        "version": 4,
        "terraform_version": "1.9.8",
        "serial": 12,
        "lineage": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "outputs": {
            "db_password": {"value": db_password, "type": "string", "sensitive": True},
            "ci_secret_key": {"value": secret_access_key, "type": "string", "sensitive": True},
        },
        "resources": [
            res("random_password", "admin", "random", {
                "id": "none", "length": 24, "special": True, "upper": True, "lower": True, "numeric": True,
                "result": admin_password, "bcrypt_hash": None, "keepers": None,
            }, sensitive=("result", "bcrypt_hash"), schema_version=3),
            res("aws_db_instance", "main", "aws", {
                "id": "db-" + pick(upper_digits, 26), "identifier": "payments-db", "engine": "postgres",
                "instance_class": "db.t4g.micro", "allocated_storage": 20, "username": "app",
                "password": db_password, "password_wo": None, "password_wo_version": None,
                "address": db_address, "port": 5432,
            }, sensitive=("password",), schema_version=2),
            res("aws_secretsmanager_secret", "app", "aws", {
                "id": secret_arn, "arn": secret_arn, "name": "legacy/payments/app",
                "recovery_window_in_days": 30, "description": "", "kms_key_id": "", "tags": {}, "tags_all": {},
            }),
            res("aws_secretsmanager_secret_version", "app", "aws", {
                "id": f"{secret_arn}|{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "arn": secret_arn, "secret_id": secret_arn, "secret_binary": "",
                "secret_string": json.dumps({
                    "admin_password": admin_password,
                    "db_url": f"postgres://app:{db_password}@{db_address}:5432/payments",
                }),
                "secret_string_wo": None, "secret_string_wo_version": None,
                "version_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "version_stages": ["AWSCURRENT"],
            }, sensitive=("secret_string", "secret_binary"),
                deps=("aws_db_instance.main", "aws_secretsmanager_secret.app", "random_password.admin")),
            res("aws_iam_user", "ci", "aws", {
                "id": "ci-deployer", "name": "ci-deployer", "arn": f"arn:aws:iam::{account}:user/ci-deployer",
            }),
            res("aws_iam_access_key", "ci", "aws", {
                "id": access_key_id, "user": "ci-deployer", "status": "Active",
                "secret": secret_access_key, "ses_smtp_password_v4": pick(b64chars, 44),
                "encrypted_secret": None, "pgp_key": None,
            }, sensitive=("secret", "ses_smtp_password_v4"), deps=("aws_iam_user.ci",)),
            res("tls_private_key", "deploy", "tls", {
                "id": pick(string.hexdigits.lower(), 40), "algorithm": "RSA", "rsa_bits": 2048,
                "private_key_pem": private_key_pem, "private_key_openssh": "", "private_key_pem_pkcs8": "",
                "public_key_pem": "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n",
            }, sensitive=("private_key_pem", "private_key_openssh", "private_key_pem_pkcs8"), schema_version=1),
            res("aws_ssm_parameter", "api_token", "aws", {
                "id": "/payments/api-token", "name": "/payments/api-token", "type": "SecureString",
                "value": admin_password, "value_wo": None, "value_wo_version": None, "insecure_value": None,
            }, sensitive=("value",), deps=("random_password.admin",)),
        ],
        "check_results": None,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(state, f, indent=2)
        f.write("\n")
    os.replace(tmp, out)
    print(f"wrote {out} (a legacy state with {len(state['resources'])} resources and plaintext fake secrets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
