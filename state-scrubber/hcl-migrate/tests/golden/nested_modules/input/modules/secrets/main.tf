variable "service" {
  type = string
}

resource "aws_secretsmanager_secret" "this" {
  name = "prod/${var.service}/api-token"
}

resource "aws_secretsmanager_secret_version" "this" {
  secret_id     = aws_secretsmanager_secret.this.arn
  secret_string = ephemeral.random_password.token.result
}

ephemeral "random_password" "token" {
  length = 40
}

# One secret per environment, keyed by name.
resource "aws_secretsmanager_secret" "per_env" {
  for_each = toset(["staging", "prod"])
  name     = "${each.key}/${var.service}/signing"
}
