variable "master_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "aws_docdb_cluster" "this" {
  cluster_identifier         = "ledger"
  master_username            = "ledger"
  master_password_wo         = var.master_password
  master_password_wo_version = 1
}

resource "aws_redshiftserverless_namespace" "analytics" {
  namespace_name                 = "analytics"
  admin_username                 = "analytics"
  admin_user_password_wo         = var.master_password # same password, by design
  admin_user_password_wo_version = 1
}
