variable "regions" {
  type = map(string)
}

variable "region_tokens" {
  type      = map(string)
  sensitive = true
  ephemeral = true
}

variable "partners" {
  type = list(string)
}

variable "active_partners" {
  type = list(string)
}

variable "partner_keys" {
  type      = map(string)
  sensitive = true
  ephemeral = true
}

variable "shard_key" {
  type      = string
  sensitive = true
  ephemeral = true
}
