# offstate quickstart: one Secrets Manager secret whose value never enters the plan or the state.
#
#   export TF_VAR_db_password='...'      # or let `make demo` generate one
#   terraform init && terraform apply
#
# Against a local endpoint (what `make demo` does), also set TF_VAR_endpoint=http://127.0.0.1:PORT
# (or AWS_ENDPOINT_URL_SECRETS_MANAGER). Against real AWS, leave both unset.
# A region is needed either way (AWS_REGION, TF_VAR_region or your profile's), and credentials: a
# local endpoint such as moto_server takes any, e.g. AWS_ACCESS_KEY_ID=testing
# AWS_SECRET_ACCESS_KEY=testing (without them the AWS SDK ends up asking instance metadata).

terraform {
  required_version = ">= 1.11" # write-only attributes

  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}

variable "db_password" {
  description = "The database password. Ephemeral: Terraform keeps it out of the plan file and the state."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "password_version" {
  description = "Change this to write a new value of db_password (a new secret version, in place)."
  type        = string
  default     = "1"
}

variable "endpoint" {
  description = "Secrets Manager endpoint override, for a local endpoint; null means AWS."
  type        = string
  default     = null
}

variable "region" {
  description = "AWS region; null means the usual chain (AWS_REGION, the profile's region)."
  type        = string
  default     = null
}

provider "offstate" {
  region   = var.region
  endpoint = var.endpoint

  default_tags = {
    managed-by = "terraform"
    example    = "offstate-quickstart"
  }
}

resource "offstate_secret" "db" {
  name_prefix = "offstate-quickstart/db-credentials-"
  description = "Database credentials for the offstate quickstart"
  tags        = { env = "demo" }

  # 0 deletes at once on destroy, handy for a demo; in production keep 7..30 (the default is 30).
  recovery_window_in_days = 0

  # Write-only: sent to Secrets Manager on create and whenever value_wo_version changes;
  # never stored in the plan or the state.
  value_wo         = jsonencode({ username = "app", password = var.db_password })
  value_wo_version = var.password_version
}

output "secret_arn" {
  value = offstate_secret.db.arn
}

output "secret_version_id" {
  description = "The AWSCURRENT version: it changes when the value is rotated, in or outside Terraform."
  value       = offstate_secret.db.version_id
}
