variable "db_master_password" {
  type      = string
  sensitive = true
}

variable "reporting_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "ad_join_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "app_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "subnet_ids" {
  type = list(string)
}

variable "pg_connections" {
  type = map(object({ url = string, user = string, password = string }))
}
