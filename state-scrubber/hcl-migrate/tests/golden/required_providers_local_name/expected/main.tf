terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.88.0"
    }
    os = {
      source = "offstate/offstate"
    }
  }
}

variable "api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "token" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "offstate_secret" "api" {
  name = "prod/app/api-key"

  provider = os

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

# Holds the value `terraform_data.deploy.input` was given, so the state keeps only a reference to it.
resource "offstate_secret" "deploy_input" {
  provider = os

  name             = "prod/app/deploy/input"
  value_wo         = var.token
  value_wo_version = 1
}

resource "terraform_data" "deploy" {
  input = provider::os::ref(offstate_secret.deploy_input.name)
}
