# random_password feeding a secret, where `generate` cannot take over. Each pair still becomes an
# offstate_secret; the password is handled as it would be without the secret.

# keepers: generate has no counterpart. The resource stays, value_wo reads it.
resource "random_password" "rotated" {
  length = 32

  keepers = {
    rotation = "2026-Q1"
  }
}

resource "offstate_secret" "rotated" {
  name = "prod/billing/rotated"

  value_wo         = random_password.rotated.result
  value_wo_version = 1
}

moved {
  from = aws_secretsmanager_secret.rotated
  to   = offstate_secret.rotated
}

removed {
  from = aws_secretsmanager_secret_version.rotated

  lifecycle {
    destroy = false
  }
}

# The password is also the database's: only an ephemeral password can feed both.
ephemeral "random_password" "db" {
  length  = 24
  special = false
}

removed {
  from = random_password.db

  lifecycle {
    destroy = false
  }
}

resource "offstate_secret" "db" {
  name = "prod/billing/db"

  value_wo         = ephemeral.random_password.db.result
  value_wo_version = 1
}

moved {
  from = aws_secretsmanager_secret.db
  to   = offstate_secret.db
}

removed {
  from = aws_secretsmanager_secret_version.db

  lifecycle {
    destroy = false
  }
}

resource "aws_db_instance" "billing" {
  identifier          = "billing"
  engine              = "postgres"
  instance_class      = "db.t4g.micro"
  allocated_storage   = 20
  username            = "billing"
  password_wo         = ephemeral.random_password.db.result
  password_wo_version = 1
}

# A JSON field that is not a string: json_template holds strings only.
ephemeral "random_password" "cache" {
  length = 20
}

removed {
  from = random_password.cache

  lifecycle {
    destroy = false
  }
}

resource "offstate_secret" "cache" {
  name = "prod/billing/cache"

  value_wo = jsonencode({
    host     = "cache.internal"
    port     = 6379
    password = ephemeral.random_password.cache.result
  })
  value_wo_version = 1
}

moved {
  from = aws_secretsmanager_secret.cache
  to   = offstate_secret.cache
}

removed {
  from = aws_secretsmanager_secret_version.cache

  lifecycle {
    destroy = false
  }
}

# A lifecycle block: neither generate nor the ephemeral form takes it.
resource "random_password" "pinned" {
  length = 16

  lifecycle {
    ignore_changes = [length]
  }
}

resource "offstate_secret" "pinned" {
  name = "prod/billing/pinned"

  value_wo         = random_password.pinned.result
  value_wo_version = 1
}

moved {
  from = aws_secretsmanager_secret.pinned
  to   = offstate_secret.pinned
}

removed {
  from = aws_secretsmanager_secret_version.pinned

  lifecycle {
    destroy = false
  }
}

# Shown in an output: the password must stay a resource.
resource "random_password" "bootstrap" {
  length = 16
}

resource "offstate_secret" "bootstrap" {
  name = "prod/billing/bootstrap"

  value_wo         = random_password.bootstrap.result
  value_wo_version = 1
}

moved {
  from = aws_secretsmanager_secret.bootstrap
  to   = offstate_secret.bootstrap
}

removed {
  from = aws_secretsmanager_secret_version.bootstrap

  lifecycle {
    destroy = false
  }
}

output "bootstrap_password" {
  value     = random_password.bootstrap.result
  sensitive = true
}

terraform {
  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}
