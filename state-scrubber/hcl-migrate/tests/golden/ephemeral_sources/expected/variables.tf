variable "signing_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "key_vault_id" {
  type = string
}
