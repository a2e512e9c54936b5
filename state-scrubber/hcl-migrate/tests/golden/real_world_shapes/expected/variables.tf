variable "source_db" {
  type    = string
  default = null
}

variable "managed" {
  type    = bool
  default = false
}

variable "db_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "params" {
  type = map(string)
}

variable "docs_password" {
  type      = string
  sensitive = true
}

variable "kms_key" {
  type = string
}
