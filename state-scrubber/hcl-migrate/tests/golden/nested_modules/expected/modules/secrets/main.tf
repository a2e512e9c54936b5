variable "service" {
  type = string
}

resource "offstate_secret" "this" {
  name = "prod/${var.service}/api-token"

  value_wo         = ephemeral.random_password.token.result
  value_wo_version = 1
}

moved {
  from = aws_secretsmanager_secret.this
  to   = offstate_secret.this
}

removed {
  from = aws_secretsmanager_secret_version.this

  lifecycle {
    destroy = false
  }
}

ephemeral "random_password" "token" {
  length = 40
}

# One secret per environment, keyed by name.
resource "aws_secretsmanager_secret" "per_env" {
  for_each = toset(["staging", "prod"])
  name     = "${each.key}/${var.service}/signing"
}

terraform {
  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}
