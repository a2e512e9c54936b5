# offstate query: find existing secrets with `terraform query` and generate the configuration
# that imports them (Terraform >= 1.14).
#
#   terraform init
#   terraform query                                        # lists <prefix>/... secrets
#   terraform query -generate-config-out=generated.tf      # import + resource blocks for them
#   terraform plan                                         # N to import, 0 to change
#
# The list block is in find.tfquery.hcl; this file holds the provider and the variables.
# Neither the listing nor the generated configuration contains a value.

terraform {
  required_version = ">= 1.14" # terraform query

  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}

variable "prefix" {
  description = "List the secrets whose names start with this followed by /."
  type        = string
  default     = "offstate-example"
}

provider "offstate" {}
