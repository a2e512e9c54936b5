# A "before" configuration: the usual ways secrets end up in plaintext in Terraform state.
# `generate_state.py` writes the matching terraform.tfstate, with fake secrets made at run time,
# so that `state-scrubber audit` / `scrub` / `migrate` have something realistic to work on
# (see `make demo`). Nothing here is applied to a real account.

terraform {
  required_providers {
    aws    = { source = "hashicorp/aws" }
    random = { source = "hashicorp/random" }
    tls    = { source = "hashicorp/tls" }
  }
}

variable "db_password" {
  type      = string
  sensitive = true # sensitive hides it in the CLI output, not in the state
}

resource "random_password" "admin" {
  length  = 24
  special = true
}

resource "aws_db_instance" "main" {
  identifier        = "payments-db"
  engine            = "postgres"
  instance_class    = "db.t4g.micro"
  allocated_storage = 20
  username          = "app"
  password          = var.db_password # write-only twin: password_wo (+ password_wo_version)
}

resource "aws_secretsmanager_secret" "app" {
  name = "legacy/payments/app"
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({
    admin_password = random_password.admin.result
    db_url         = "postgres://app:${var.db_password}@${aws_db_instance.main.address}:5432/payments"
  })
}

resource "aws_iam_user" "ci" {
  name = "ci-deployer"
}

resource "aws_iam_access_key" "ci" {
  user = aws_iam_user.ci.name
}

resource "tls_private_key" "deploy" {
  algorithm = "RSA"
}

resource "aws_ssm_parameter" "api_token" {
  name  = "/payments/api-token"
  type  = "SecureString"
  value = random_password.admin.result
}

output "db_password" {
  value     = var.db_password
  sensitive = true
}

output "ci_secret_key" {
  value     = aws_iam_access_key.ci.secret
  sensitive = true
}
