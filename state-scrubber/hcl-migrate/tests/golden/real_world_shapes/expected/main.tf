# Shapes seen in public modules: a password that is null for a replica or when AWS manages it,
# a parameter map read back whole, and an object that sets one key twice.

locals {
  is_replica = var.source_db != null

  replicas = [
    {
      name       = "r1"
      kms_key    = null
      kms_key    = var.kms_key # the later one wins
      extra_tags = { team = "db" }
    },
  ]
}

resource "aws_db_instance" "main" {
  identifier          = "main"
  username            = local.is_replica ? null : "admin"
  password_wo         = local.is_replica ? null : var.db_password # set on the primary only
  password_wo_version = local.is_replica ? null : 1
  port                = 5432
}

resource "aws_rds_cluster" "aurora" {
  cluster_identifier          = "aurora"
  manage_master_user_password = var.managed ? true : null
  master_password_wo = (
    var.managed ? null : var.db_password
  )
  master_password_wo_version = var.managed ? null : 1
}

resource "aws_docdb_cluster" "docs" {
  master_password = (var.managed
  || local.is_replica) ? null : var.docs_password
}

resource "aws_ssm_parameter" "params" {
  for_each = var.params

  name  = each.key
  type  = "SecureString"
  value = each.value
}

resource "aws_ssm_parameter" "counted" {
  for_each = var.params

  name             = "/counted/${each.key}"
  type             = "SecureString"
  value_wo         = each.value
  value_wo_version = 1
}

output "param_values" {
  value     = [for p in aws_ssm_parameter.params : p.value]
  sensitive = true
}

output "counted_arns" {
  value = { for k, p in aws_ssm_parameter.counted : k => p.arn }
}

output "counted_total" {
  value = length(aws_ssm_parameter.counted)
}
