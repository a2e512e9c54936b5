terraform {
  required_version = ">= 1.11"

  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}

variable "pw" {
  sensitive = true
  ephemeral = true
}

resource "offstate_secret" "db" {
  name = "prod/db"

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
