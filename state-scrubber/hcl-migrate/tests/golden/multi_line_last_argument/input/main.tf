variable "pw" {
  type      = string
  sensitive = true
}

variable "tags" {
  type = map(string)
}

resource "aws_secretsmanager_secret" "db" {
  name = "prod/db"
  tags = merge(var.tags, {
    team = "payments"
  })
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id     = aws_secretsmanager_secret.db.id
  secret_string = var.pw
}

resource "aws_secretsmanager_secret" "api" {
  name        = "prod/api"
  description = <<-EOT
    The API key.
    EOT
}

resource "aws_secretsmanager_secret_version" "api" {
  secret_id     = aws_secretsmanager_secret.api.id
  secret_string = var.pw
}
