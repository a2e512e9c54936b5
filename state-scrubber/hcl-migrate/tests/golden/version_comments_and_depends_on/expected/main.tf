variable "pw" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "terraform_data" "kms_policy" {
  input = "x"
}

resource "offstate_secret" "db" {
  name = "prod/db"

  # rotate me every 90 days
  # the secret above
  value_wo         = var.pw # from vault
  value_wo_version = 1
  depends_on       = [terraform_data.kms_policy]
}

moved {
  from = aws_secretsmanager_secret.db
  to   = offstate_secret.db
}

# The value.
removed {
  from = aws_secretsmanager_secret_version.db

  lifecycle {
    destroy = false
  }
}

resource "offstate_secret" "api" {
  name       = "prod/api"
  depends_on = [terraform_data.kms_policy, offstate_secret.db]

  value_wo         = var.pw
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

terraform {
  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}
