# random_password feeding a secret, where `generate` cannot take over. Each pair still becomes an
# offstate_secret; the password is handled as it would be without the secret.

# keepers: generate has no counterpart. The resource stays, value_wo reads it.
resource "random_password" "rotated" {
  length = 32

  keepers = {
    rotation = "2026-Q1"
  }
}

resource "aws_secretsmanager_secret" "rotated" {
  name = "prod/billing/rotated"
}

resource "aws_secretsmanager_secret_version" "rotated" {
  secret_id     = aws_secretsmanager_secret.rotated.id
  secret_string = random_password.rotated.result
}

# The password is also the database's: only an ephemeral password can feed both.
resource "random_password" "db" {
  length  = 24
  special = false
}

resource "aws_secretsmanager_secret" "db" {
  name = "prod/billing/db"
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id     = aws_secretsmanager_secret.db.id
  secret_string = random_password.db.result
}

resource "aws_db_instance" "billing" {
  identifier        = "billing"
  engine            = "postgres"
  instance_class    = "db.t4g.micro"
  allocated_storage = 20
  username          = "billing"
  password          = random_password.db.result
}

# A JSON field that is not a string: json_template holds strings only.
resource "random_password" "cache" {
  length = 20
}

resource "aws_secretsmanager_secret" "cache" {
  name = "prod/billing/cache"
}

resource "aws_secretsmanager_secret_version" "cache" {
  secret_id = aws_secretsmanager_secret.cache.id
  secret_string = jsonencode({
    host     = "cache.internal"
    port     = 6379
    password = random_password.cache.result
  })
}

# A lifecycle block: neither generate nor the ephemeral form takes it.
resource "random_password" "pinned" {
  length = 16

  lifecycle {
    ignore_changes = [length]
  }
}

resource "aws_secretsmanager_secret" "pinned" {
  name = "prod/billing/pinned"
}

resource "aws_secretsmanager_secret_version" "pinned" {
  secret_id     = aws_secretsmanager_secret.pinned.id
  secret_string = random_password.pinned.result
}

# Shown in an output: the password must stay a resource.
resource "random_password" "bootstrap" {
  length = 16
}

resource "aws_secretsmanager_secret" "bootstrap" {
  name = "prod/billing/bootstrap"
}

resource "aws_secretsmanager_secret_version" "bootstrap" {
  secret_id     = aws_secretsmanager_secret.bootstrap.id
  secret_string = random_password.bootstrap.result
}

output "bootstrap_password" {
  value     = random_password.bootstrap.result
  sensitive = true
}
