# offstate data sources and the ref() function: metadata and discovery, never a value.
#
#   export TF_VAR_db_password='...'
#   terraform init && terraform apply
#
# Data source results are stored in the state, which is why offstate's data sources return
# only metadata. To read a value, use `ephemeral "offstate_secret_value"` (../ephemeral-chain).

terraform {
  required_version = ">= 1.11" # write-only attributes; provider functions need >= 1.8

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

variable "db_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

provider "offstate" {}

resource "offstate_secret" "db" {
  name                    = "${var.prefix}/discovery/db"
  description             = "Payments database"
  tags                    = { team = "payments", env = "demo" }
  recovery_window_in_days = 0

  value_wo         = jsonencode({ username = "app", password = var.db_password })
  value_wo_version = "1"
}

# One secret's metadata, by name or ARN.
data "offstate_secret" "db" {
  name = offstate_secret.db.name
}

# Names and ARNs of every secret under a prefix that has the given tags.
data "offstate_secrets" "payments" {
  name_prefix = "${var.prefix}/discovery/"
  tags        = { team = "payments" }

  depends_on = [offstate_secret.db]
}

output "db_current_version" {
  value = data.offstate_secret.db.current_version_id
}

output "db_versions" {
  description = "Each version with its staging labels (AWSCURRENT, AWSPREVIOUS, ...)."
  value       = data.offstate_secret.db.versions
}

output "db_rotation_enabled" {
  value = data.offstate_secret.db.rotation_enabled
}

output "payments_secrets" {
  value = zipmap(data.offstate_secrets.payments.names, data.offstate_secrets.payments.arns)
}

# A reference string for tools that resolve secrets themselves (vals, helmfile, state-scrubber):
# "ref+awssecrets://<prefix>/discovery/db#/password". It names the secret; it reads nothing.
output "db_password_ref" {
  value = provider::offstate::ref(offstate_secret.db.name, "password")
}
