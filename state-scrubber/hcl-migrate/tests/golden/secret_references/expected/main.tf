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
  ephemeral = true
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

ephemeral "aws_secretsmanager_secret_version" "upstream" {
  secret_id = "prod/upstream/token" # read at plan time today
}

ephemeral "random_password" "hook" {
  length  = 32
  special = false
}

removed {
  from = random_password.hook

  lifecycle {
    destroy = false
  }
}

# Holds the value `terraform_data.deploy.input` was given, so the state keeps only a reference to it.
resource "offstate_secret" "deploy_input" {
  name             = "prod/payments/deploy/input"
  value_wo         = var.api_token
  value_wo_version = 1
}

# Holds the value `terraform_data.deploy.triggers_replace` was given, so the state keeps only a reference to it.
resource "offstate_secret" "deploy_triggers_replace" {
  name             = "prod/payments/deploy/triggers_replace"
  value_wo         = ephemeral.random_password.hook.result
  value_wo_version = 1
}

/* The deploy hook keeps its inputs
   around for the provisioner. */
resource "terraform_data" "deploy" {
  input            = provider::offstate::ref(offstate_secret.deploy_input.name) # the token
  triggers_replace = provider::offstate::ref(offstate_secret.deploy_triggers_replace.name)

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
  value     = provider::offstate::ref(offstate_secret.signing.name)
  sensitive = true
}

# Holds the value `output.upstream` was given, so the state keeps only a reference to it.
resource "offstate_secret" "output_upstream" {
  name             = "prod/payments/outputs/upstream"
  value_wo         = ephemeral.aws_secretsmanager_secret_version.upstream.secret_string
  value_wo_version = 1
}

output "upstream" {
  description = "Passed on to the next stack."
  value       = provider::offstate::ref(offstate_secret.output_upstream.name)
  sensitive   = true
}

output "region" {
  value = var.region
}

module "worker" {
  source = "./modules/worker"
  token  = var.api_token
}
