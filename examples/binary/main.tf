# offstate binary: a binary secret (a DER key, a keystore, ...) stored as SecretBinary,
# written through the write-only, base64-encoded binary_wo.
#
#   export TF_VAR_keystore_b64="$(base64 -w0 keystore.p12)"
#   terraform init && terraform apply
#
# (binary_wo = filebase64("keystore.p12") works too: the file content does not go into the
# state or the plan, but the file itself sits next to your configuration.)

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

variable "keystore_b64" {
  description = "The binary value, base64-encoded. Ephemeral: kept out of the plan file and the state."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "keystore_version" {
  description = "Change this to write a new keystore_b64."
  type        = string
  default     = "1"
}

provider "offstate" {}

resource "offstate_secret" "keystore" {
  name                    = "${var.prefix}/binary/keystore"
  recovery_window_in_days = 0

  binary_wo        = var.keystore_b64
  value_wo_version = var.keystore_version
}

# Reading a binary secret ephemerally gives its bytes base64-encoded (and binary = true),
# ready for another binary_wo: a copy that never passes through the state.
ephemeral "offstate_secret_value" "keystore" {
  secret_id  = offstate_secret.keystore.arn
  version_id = offstate_secret.keystore.version_id
}

resource "offstate_secret" "keystore_copy" {
  name                    = "${var.prefix}/binary/keystore-copy"
  recovery_window_in_days = 0

  binary_wo        = ephemeral.offstate_secret_value.keystore.value
  value_wo_version = offstate_secret.keystore.version_id
}

output "keystore_version_id" {
  value = offstate_secret.keystore.version_id
}
