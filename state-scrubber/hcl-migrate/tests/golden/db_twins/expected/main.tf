# Payments database. Owned by the platform team.
#
# NOTE: the master password comes from the pipeline; never commit it.

locals {
  engine_version = "16.3" # pinned, see ADR-12
}

resource "aws_db_instance" "payments" {
  identifier     = "payments-prod"
  engine         = "postgres"
  engine_version = local.engine_version
  instance_class = "db.t4g.medium"
  username       = "payments_admin"
  password       = var.db_master_password # rotated quarterly
  # Keep the storage small; autoscaling does the rest.
  allocated_storage = 20

  lifecycle {
    ignore_changes = [password]
  }
}

/* The reporting cluster shares nothing with payments. */
resource "aws_rds_cluster" "reporting" {
  cluster_identifier         = "reporting"
  engine                     = "aurora-postgresql"
  master_username            = "reporting"
  master_password_wo         = var.reporting_password
  master_password_wo_version = 1
  // snapshots are cheap
  skip_final_snapshot = false

  tags = {
    team = "data"
    tier = "internal"
  }
}

resource "aws_fsx_windows_file_system" "shares" {
  storage_capacity    = 300
  subnet_ids          = var.subnet_ids
  throughput_capacity = 1024

  self_managed_active_directory {
    dns_ips             = ["10.0.0.111", "10.0.0.222"]
    domain_name         = "corp.example.com"
    password_wo         = var.ad_join_password
    password_wo_version = 1
    username            = "svc-fsx"
  }
}

resource "vault_database_secret_backend_connection" "pg" {
  backend       = "database"
  name          = "pg"
  allowed_roles = ["app"]

  dynamic "postgresql" {
    for_each = var.pg_connections
    content {
      connection_url      = postgresql.value.url
      username            = postgresql.value.user
      password_wo         = postgresql.value.password
      password_wo_version = 1
    }
  }
}

resource "aws_iam_policy" "read" {
  name   = "read-payments"
  policy = <<-EOT
    {
      "Version": "2012-10-17",
      "Statement": [{"Effect": "Allow", "Action": "rds:Describe*", "Resource": "*"}]
    }
  EOT
}

resource "kubernetes_secret_v1" "app" {
  metadata {
    name      = "app"
    namespace = "payments"
  }

  data_wo = {
    username = "payments_app"
    password = var.app_password
  }
  data_wo_revision = 1
}
