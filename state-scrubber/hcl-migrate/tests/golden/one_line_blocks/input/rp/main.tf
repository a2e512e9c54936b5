terraform {
  required_providers { aws = { source = "hashicorp/aws" } }
}

variable "api_key" {
  type      = string
  sensitive = true
}

resource "aws_secretsmanager_secret" "api" { name = "prod/api" }

resource "aws_secretsmanager_secret_version" "api" {
  secret_id     = aws_secretsmanager_secret.api.id
  secret_string = var.api_key
}
