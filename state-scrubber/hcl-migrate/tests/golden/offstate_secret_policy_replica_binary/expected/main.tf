variable "api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "signing_key_b64" {
  type      = string
  sensitive = true
  ephemeral = true
}

# Shared with the reporting account.
resource "offstate_secret" "api" {
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

  value_wo         = var.api_key
  value_wo_version = 1
}

moved {
  from = aws_secretsmanager_secret.api
  to   = offstate_secret.api
}

removed {
  from = aws_secretsmanager_secret_version.api

  lifecycle {
    destroy = false
  }
}

resource "offstate_secret" "signing" {
  name = "prod/app/signing-key"

  binary_wo        = var.signing_key_b64
  value_wo_version = 1
}

moved {
  from = aws_secretsmanager_secret.signing
  to   = offstate_secret.signing
}

removed {
  from = aws_secretsmanager_secret_version.signing

  lifecycle {
    destroy = false
  }
}

resource "aws_secretsmanager_secret" "replicated" {
  name = "prod/app/replicated"

  replica {
    region = "eu-west-1"
  }
}

resource "aws_secretsmanager_secret_version" "replicated" {
  secret_id                = aws_secretsmanager_secret.replicated.id
  secret_string_wo         = var.api_key
  secret_string_wo_version = 1
}

terraform {
  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}
