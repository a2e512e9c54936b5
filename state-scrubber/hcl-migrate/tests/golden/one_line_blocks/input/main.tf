terraform { required_version = ">= 1.11" }

variable "pw" { sensitive = true }

resource "aws_secretsmanager_secret" "db" { name = "prod/db" }

resource "aws_secretsmanager_secret_version" "db" {
  secret_id     = aws_secretsmanager_secret.db.id
  secret_string = var.pw
}
