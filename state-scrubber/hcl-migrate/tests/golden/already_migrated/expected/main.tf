terraform {
  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}

ephemeral "aws_secretsmanager_secret_version" "db" {
  secret_id = "prod/db"
}

resource "aws_db_instance" "db" {
  identifier          = "db"
  username            = "admin"
  password_wo         = ephemeral.aws_secretsmanager_secret_version.db.secret_string
  password_wo_version = 1
}

resource "offstate_secret" "app" {
  name = "prod/app"

  value_wo         = var.app_secret
  value_wo_version = 1
}

moved {
  from = aws_secretsmanager_secret.app
  to   = offstate_secret.app
}

removed {
  from = aws_secretsmanager_secret_version.app

  lifecycle {
    destroy = false
  }
}

variable "app_secret" {
  type      = string
  ephemeral = true
}
