module "db" {
  source = "./modules/db"

  master_password = var.master_password
}

module "secrets" {
  source   = "./modules/secrets"
  for_each = toset(["billing", "ledger"])

  service = each.key
}

variable "master_password" {
  type      = string
  sensitive = true
}
