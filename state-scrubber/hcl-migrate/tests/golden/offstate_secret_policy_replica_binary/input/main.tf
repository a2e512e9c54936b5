variable "api_key" {
  type      = string
  sensitive = true
}

variable "signing_key_b64" {
  type      = string
  sensitive = true
}

# Shared with the reporting account.
resource "aws_secretsmanager_secret" "api" {
  name                           = "prod/app/api-key"
  force_overwrite_replica_secret = false
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::123456789012:root" }
      Action    = "secretsmanager:GetSecretValue"
      Resource  = "*"
    }]
  })
}

resource "aws_secretsmanager_secret_version" "api" {
  secret_id     = aws_secretsmanager_secret.api.id
  secret_string = var.api_key
}

resource "aws_secretsmanager_secret" "signing" {
  name = "prod/app/signing-key"
}

resource "aws_secretsmanager_secret_version" "signing" {
  secret_id     = aws_secretsmanager_secret.signing.id
  secret_binary = var.signing_key_b64
}

resource "aws_secretsmanager_secret" "replicated" {
  name = "prod/app/replicated"

  replica {
    region = "eu-west-1"
  }
}

resource "aws_secretsmanager_secret_version" "replicated" {
  secret_id     = aws_secretsmanager_secret.replicated.id
  secret_string = var.api_key
}
