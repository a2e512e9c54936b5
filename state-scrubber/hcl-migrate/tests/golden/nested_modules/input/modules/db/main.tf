variable "master_password" {
  type      = string
  sensitive = true
}

resource "aws_docdb_cluster" "this" {
  cluster_identifier = "ledger"
  master_username    = "ledger"
  master_password    = var.master_password
}

resource "aws_redshiftserverless_namespace" "analytics" {
  namespace_name      = "analytics"
  admin_username      = "analytics"
  admin_user_password = var.master_password # same password, by design
}
