terraform {
  required_version = ">= 1.11"

  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}

variable "api_token" {
  description = "Token the deploy hook presents."
  type        = string
  sensitive   = true
}

variable "signing_key" {
  type      = string
  sensitive = true
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

# Already managed write-only: outputs of the same value reference it.
resource "offstate_secret" "signing" {
  name             = "prod/payments/signing"
  value_wo         = var.signing_key
  value_wo_version = 2
}

data "aws_secretsmanager_secret_version" "upstream" {
  secret_id = "prod/upstream/token" # read at plan time today
}

resource "random_password" "hook" {
  length  = 32
  special = false
}

/* The deploy hook keeps its inputs
   around for the provisioner. */
resource "terraform_data" "deploy" {
  input            = var.api_token  # the token
  triggers_replace = random_password.hook.result

  provisioner "local-exec" {
    command = "echo deployed"
  }
}

resource "terraform_data" "fanout" {
  for_each = toset(["a", "b"])
  input    = var.api_token
}

resource "terraform_data" "plain" {
  input = var.region
}

output "hook_token" {
  value     = terraform_data.deploy.output
  sensitive = true
}

output "signing_key" {
  value     = var.signing_key
  sensitive = true
}

output "upstream" {
  description = "Passed on to the next stack."
  value       = data.aws_secretsmanager_secret_version.upstream.secret_string
  sensitive   = true
}

output "region" {
  value = var.region
}

module "worker" {
  source = "./modules/worker"
  token  = var.api_token
}
