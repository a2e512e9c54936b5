terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
    offstate = {
      source = "offstate/offstate"
    }
  }
}

variable "api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "offstate_secret" "api" {
  name = "prod/api"

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
