variable "pw" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "tags" {
  type = map(string)
}

resource "offstate_secret" "db" {
  name = "prod/db"
  tags = merge(var.tags, {
    team = "payments"
  })

  value_wo         = var.pw
  value_wo_version = 1
}

moved {
  from = aws_secretsmanager_secret.db
  to   = offstate_secret.db
}

removed {
  from = aws_secretsmanager_secret_version.db

  lifecycle {
    destroy = false
  }
}

resource "offstate_secret" "api" {
  name        = "prod/api"
  description = <<-EOT
    The API key.
    EOT

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
