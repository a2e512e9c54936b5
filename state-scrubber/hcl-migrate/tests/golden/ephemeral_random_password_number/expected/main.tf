ephemeral "random_password" "r" {
  length  = 20
  numeric = false
}

removed {
  from = random_password.r

  lifecycle {
    destroy = false
  }
}

ephemeral "random_password" "both" {
  length  = 24
  numeric = true
  special = false
}

removed {
  from = random_password.both

  lifecycle {
    destroy = false
  }
}

resource "aws_rds_cluster" "c" {
  master_password_wo         = ephemeral.random_password.r.result
  master_password_wo_version = 1
}

resource "aws_rds_cluster" "d" {
  master_password_wo         = ephemeral.random_password.both.result
  master_password_wo_version = 1
}
