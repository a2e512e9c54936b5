# offstate import: take over secrets made outside Terraform. Import reads metadata only,
# never a value.
#
# Two secrets made outside Terraform first (prefix offstate-example by default), for example:
#   aws secretsmanager create-secret --name offstate-example/import/api-key \
#     --description "Made outside Terraform" --secret-string file://api-key.txt
#   aws secretsmanager create-secret --name offstate-example/import/db-password --secret-string file://db-password.txt
# then:
#   export TF_VAR_api_key_arn='arn:aws:secretsmanager:...:secret:<prefix>/import/api-key-AbCdEf'
#   export TF_VAR_db_password='...the value the db-password secret already holds...'
#   terraform init && terraform plan     # 2 to import, 2 to change (recovery_window_in_days only)
#   terraform apply && terraform plan    # no changes
#
# Importing by identity (`identity = { arn = ... }`) needs Terraform >= 1.12.

terraform {
  required_version = ">= 1.12" # import by identity

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

variable "api_key_arn" {
  description = "ARN of an existing secret named <prefix>/import/api-key."
  type        = string
}

variable "db_password" {
  description = "The value <prefix>/import/db-password holds now: written only when value_wo_version changes."
  type        = string
  sensitive   = true
  ephemeral   = true
}

provider "offstate" {}

# By resource identity: the secret's ARN.
import {
  to       = offstate_secret.api_key
  identity = { arn = var.api_key_arn }
}

# Metadata only: no value_wo, so Terraform manages the name, description and tags and leaves
# the value alone.
resource "offstate_secret" "api_key" {
  name                    = "${var.prefix}/import/api-key"
  description             = "Made outside Terraform"
  recovery_window_in_days = 0
}

# By name, adopting the current value under the trigger "1": the import records
# value_wo_version = "1", so the plan writes nothing. Change value_wo_version later to write a
# new value. (Without the ?value_wo_version= suffix the first apply writes value_wo as a new
# version.)
import {
  to = offstate_secret.db_password
  id = "${var.prefix}/import/db-password?value_wo_version=1"
}

resource "offstate_secret" "db_password" {
  name                    = "${var.prefix}/import/db-password"
  recovery_window_in_days = 0

  value_wo         = var.db_password
  value_wo_version = "1"
}
