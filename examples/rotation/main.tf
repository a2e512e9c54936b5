# offstate rotation: a secret whose value Terraform writes once, then a Lambda rotates.
#
#   export TF_VAR_db_password='...'
#   export TF_VAR_rotation_lambda_arn='arn:aws:lambda:eu-west-1:123456789012:function:rotate-db'
#   terraform init && terraform apply
#
# After a rotation, `terraform plan` plans nothing ("No changes."): the rotated value is never
# written back. `terraform plan -refresh-only` shows the new version_id as changed outside of
# Terraform (a plain `terraform plan` shows that drift only where something, such as an output,
# refers to version_id).

terraform {
  required_version = ">= 1.11" # write-only attributes

  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}

variable "prefix" {
  description = "Start of the secret name, so several copies of this example can coexist."
  type        = string
  default     = "example"
}

variable "endpoint" {
  description = "Secrets Manager endpoint (a local one for tests); null means AWS."
  type        = string
  default     = null
}

variable "db_password" {
  description = "The first value. Ephemeral: kept out of the plan file and the state."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "rotation_lambda_arn" {
  description = "The rotation function (for example one of the AWS rotation templates)."
  type        = string
}

provider "offstate" {
  endpoint = var.endpoint
}

resource "offstate_secret" "db" {
  name                    = "${var.prefix}/rotated-db-password"
  recovery_window_in_days = 0

  value_wo         = var.db_password
  value_wo_version = "1" # the first value only: rotation takes it from here
}

resource "offstate_secret_rotation" "db" {
  secret_id           = offstate_secret.db.arn
  rotation_lambda_arn = var.rotation_lambda_arn
  rotate_immediately  = false # the first rotation follows the schedule

  rotation_rules {
    automatically_after_days = 30
    # or: schedule_expression = "rate(30 days)"
    # duration = "4h"             # rotation window, 1h to 24h
  }
}

output "rotation_enabled" {
  value = offstate_secret_rotation.db.rotation_enabled
}
