# offstate ephemeral chain: values that go from one place to another without being stored.
#
#   1. offstate_secret.source   the provider generates a JSON credential (nobody sees it);
#   2. ephemeral offstate_secret_value reads one key of it at plan/apply time;
#   3. offstate_secret.copy     receives it through its write-only value_wo.
#   4. ephemeral offstate_password makes a password for this run only, written to a third secret.
#
# Step 3 is how you feed any write-only argument of another provider
# (aws_db_instance.password_wo, kubernetes_secret_v1.data_wo, ...).
#
#   terraform init && terraform apply
#
# Needs Terraform >= 1.11 (ephemeral resources and write-only arguments).

terraform {
  required_version = ">= 1.11"

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

provider "offstate" {}

resource "offstate_secret" "source" {
  name                    = "${var.prefix}/chain/source"
  recovery_window_in_days = 0

  generate {
    length        = 24
    special       = false
    json_template = { username = "app" }
  }
}

# Read at plan and apply time, never persisted. Pinned to the version the copy's trigger names,
# so the copy holds exactly that version; the provider reads each version once per run however
# many blocks ask for it.
ephemeral "offstate_secret_value" "password" {
  secret_id  = offstate_secret.source.arn
  version_id = offstate_secret.source.version_id
  json_key   = "password"
}

resource "offstate_secret" "copy" {
  name                    = "${var.prefix}/chain/copy"
  description             = "The password of ${var.prefix}/chain/source, copied without Terraform seeing it"
  recovery_window_in_days = 0

  value_wo = ephemeral.offstate_secret_value.password.value
  # Copy again whenever the source gets a new version.
  value_wo_version = offstate_secret.source.version_id
}

ephemeral "offstate_password" "bootstrap" {
  length      = 20
  special     = false
  min_numeric = 2
}

resource "offstate_secret" "bootstrap" {
  name                    = "${var.prefix}/chain/bootstrap-token"
  recovery_window_in_days = 0

  # A new password is made on every run, but only written when value_wo_version changes.
  value_wo         = ephemeral.offstate_password.bootstrap.result
  value_wo_version = "1"
}

output "copy_version_id" {
  value = offstate_secret.copy.version_id
}
