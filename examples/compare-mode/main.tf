# offstate compare mode: no hand-incremented version counter. With compare_value = true and no
# value_wo_version, the provider reads AWSCURRENT at plan time, compares it with value_wo in
# memory (constant time) and plans an update only when they differ. Nothing derived from the
# value (no hash) is stored.
#
#   export TF_VAR_api_token='...'
#   terraform init && terraform apply     # writes the token
#   terraform plan                        # no changes
#   export TF_VAR_api_token='...new...'
#   terraform plan                        # update in place: a new version
#
# The price: the credentials that run `terraform plan` need secretsmanager:GetSecretValue on
# this secret (the trigger mode, value_wo_version, never reads a value).

terraform {
  required_version = ">= 1.11" # write-only attributes

  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}

variable "prefix" {
  description = "Start of every secret name, so several copies of this example can coexist."
  type        = string
  default     = "offstate-example"
}

variable "api_token" {
  description = "The token to store. Ephemeral: kept out of the plan file and the state."
  type        = string
  sensitive   = true
  ephemeral   = true
}

provider "offstate" {}

resource "offstate_secret" "api_token" {
  name                    = "${var.prefix}/compare/api-token"
  description             = "Written when it differs from what Secrets Manager holds"
  recovery_window_in_days = 0

  value_wo      = var.api_token
  compare_value = true
}

output "api_token_version_id" {
  value = offstate_secret.api_token.version_id
}
