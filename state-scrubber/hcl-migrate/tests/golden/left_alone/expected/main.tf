# Secrets this tool must not convert, each for its own reason.

resource "aws_secretsmanager_secret" "with_replica" {
  name = "prod/shared/with-replica"

  replica {
    region = "eu-west-1"
  }
}

resource "aws_secretsmanager_secret_version" "with_replica" {
  secret_id                = aws_secretsmanager_secret.with_replica.id
  secret_string_wo         = var.shared_value
  secret_string_wo_version = 1
}

resource "aws_secretsmanager_secret" "two_versions" {
  name = "prod/shared/two-versions"
}

resource "aws_secretsmanager_secret_version" "blue" {
  secret_id                = aws_secretsmanager_secret.two_versions.id
  secret_string_wo         = var.blue_value
  secret_string_wo_version = 1
  version_stages           = ["AWSCURRENT"]
}

resource "aws_secretsmanager_secret_version" "green" {
  secret_id                = aws_secretsmanager_secret.two_versions.id
  secret_string_wo         = var.green_value
  secret_string_wo_version = 1
}

resource "aws_secretsmanager_secret" "value_exported" {
  name = "prod/shared/exported"
}

resource "aws_secretsmanager_secret_version" "value_exported" {
  secret_id     = aws_secretsmanager_secret.value_exported.id
  secret_string = var.exported_value
}

output "exported" {
  value     = aws_secretsmanager_secret_version.value_exported.secret_string
  sensitive = true
}

resource "random_password" "kept" {
  length = 24
  keepers = {
    rotation = "2026-01"
  }
}

resource "aws_ssm_parameter" "kept" {
  name             = "/prod/shared/kept"
  type             = "SecureString"
  value_wo         = random_password.kept.result
  value_wo_version = 1
}

resource "random_password" "shown" {
  length = 16
}

output "initial_password" {
  value     = random_password.shown.result
  sensitive = true
}

data "aws_ssm_parameter" "by_name" {
  name = "/prod/shared/by-name"
}

resource "aws_db_instance" "one_liner" {
  identifier          = "one-liner"
  password_wo         = data.aws_ssm_parameter.by_name.value
  password_wo_version = 1
}

data "aws_iam_policy_document" "shared" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["*"]
  }
}

resource "aws_db_instance" "inline" { password = var.inline_password }

# No name: hashicorp/aws keeps the generated name's prefix in the state as `name_prefix`.
resource "aws_secretsmanager_secret" "unnamed" {
  description = "Scratch credentials"
}

resource "aws_secretsmanager_secret_version" "unnamed" {
  secret_id                = aws_secretsmanager_secret.unnamed.id
  secret_string_wo         = var.scratch_value
  secret_string_wo_version = 1
}
