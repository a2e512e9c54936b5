resource "random_password" "r" {
  length = 20
  number = false
}

resource "random_password" "both" {
  length  = 24
  number  = true # deprecated spelling
  numeric = true
  special = false
}

resource "aws_rds_cluster" "c" {
  master_password = random_password.r.result
}

resource "aws_rds_cluster" "d" {
  master_password = random_password.both.result
}
