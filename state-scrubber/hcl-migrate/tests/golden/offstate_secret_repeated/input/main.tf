# Secrets repeated with for_each and count, each with its version repeated the same way.

# The version iterates the secret resource itself.
resource "aws_secretsmanager_secret" "signing" {
  for_each = var.tenants
  name     = "prod/${each.key}/signing-key"

  tags = {
    tenant = each.key
  }
}

resource "aws_secretsmanager_secret_version" "signing" {
  for_each      = aws_secretsmanager_secret.signing
  secret_id     = each.value.id
  secret_string = var.signing_keys[each.key]
}

# The version iterates the same map as the secret; each.value is the same tenant in both.
resource "aws_secretsmanager_secret" "tenant_config" {
  for_each    = var.tenants
  name        = "prod/${each.key}/config"
  description = "API settings for ${each.key}"
}

resource "aws_secretsmanager_secret_version" "tenant_config" {
  for_each  = var.tenants
  secret_id = aws_secretsmanager_secret.tenant_config[each.key].arn
  secret_string = jsonencode({
    api_base = each.value.api_base
    token    = var.tenant_tokens[each.key]
  })
}

# count, with one random password per replica.
resource "random_password" "replica" {
  count   = var.replica_count
  length  = 32
  special = false
}

resource "aws_secretsmanager_secret" "replica" {
  count = var.replica_count
  name  = "prod/orders/replica-${count.index}"
}

resource "aws_secretsmanager_secret_version" "replica" {
  count         = length(aws_secretsmanager_secret.replica)
  secret_id     = aws_secretsmanager_secret.replica[count.index].id
  secret_string = random_password.replica[count.index].result
}

data "aws_iam_policy_document" "read_secrets" {
  statement {
    actions = ["secretsmanager:GetSecretValue"]
    resources = concat(
      [for secret in aws_secretsmanager_secret.signing : secret.arn],
      values(aws_secretsmanager_secret.tenant_config)[*].arn,
      aws_secretsmanager_secret.replica[*].arn,
    )
  }
}

output "signing_secret_arns" {
  value = { for tenant, secret in aws_secretsmanager_secret.signing : tenant => secret.arn }
}

output "acme_config_version" {
  value = aws_secretsmanager_secret_version.tenant_config["acme"].version_id
}

output "first_replica_secret" {
  value = aws_secretsmanager_secret.replica[0].name
}
