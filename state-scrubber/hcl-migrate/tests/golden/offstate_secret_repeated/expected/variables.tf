variable "tenants" {
  type = map(object({
    api_base = string
  }))
}

variable "signing_keys" {
  type      = map(string)
  sensitive = true
  ephemeral = true
}

variable "tenant_tokens" {
  type      = map(string)
  sensitive = true
  ephemeral = true
}

variable "replica_count" {
  type    = number
  default = 2
}
