variable "pw" {
  type      = string
  sensitive = true
}

resource "terraform_data" "kms_policy" {
  input = "x"
}

resource "aws_secretsmanager_secret" "db" {
  name = "prod/db"
}

# The value.
resource "aws_secretsmanager_secret_version" "db" {
  # rotate me every 90 days
  secret_id     = aws_secretsmanager_secret.db.id # the secret above
  secret_string = var.pw                          # from vault
  depends_on    = [terraform_data.kms_policy, aws_secretsmanager_secret.db]
}

resource "aws_secretsmanager_secret" "api" {
  name       = "prod/api"
  depends_on = [terraform_data.kms_policy]
}

resource "aws_secretsmanager_secret_version" "api" {
  secret_id     = aws_secretsmanager_secret.api.id
  secret_string = var.pw
  depends_on    = [terraform_data.kms_policy, aws_secretsmanager_secret.db]
}
