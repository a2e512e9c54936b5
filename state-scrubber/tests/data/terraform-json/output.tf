# Applied with -var db_password=... -var admin_password=... -var pin=... (random; the committed
# output.json has placeholders where these values were).
variable "db_password" {
  type      = string
  sensitive = true
}

variable "admin_password" {
  type = string
}

variable "pin" {
  type = number
}

locals {
  db_password = var.db_password
}

resource "terraform_data" "db" {
  input = {
    host = "db.internal.example"
    port = 5432
  }
}

output "db_password" {
  value     = local.db_password
  sensitive = true
}

output "admin_password" {
  value = var.admin_password
}

output "endpoint" {
  value = "${terraform_data.db.output.host}:${terraform_data.db.output.port}"
}

output "db" {
  value = {
    host     = terraform_data.db.output.host
    port     = terraform_data.db.output.port
    password = local.db_password
  }
  sensitive = true
}

output "settings" {
  value = {
    region   = "eu-west-1"
    replicas = 2
    zones    = ["a", "b"]
  }
}

output "pin" {
  value     = var.pin
  sensitive = true
}
