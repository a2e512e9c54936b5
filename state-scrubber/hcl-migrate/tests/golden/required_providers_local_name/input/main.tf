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
}

variable "token" {
  type      = string
  sensitive = true
}

resource "aws_secretsmanager_secret" "api" {
  name = "prod/app/api-key"
}

resource "aws_secretsmanager_secret_version" "api" {
  secret_id     = aws_secretsmanager_secret.api.id
  secret_string = var.api_key
}

resource "terraform_data" "deploy" {
  input = var.token
}
