# Secrets repeated with for_each and count, each with its version repeated the same way.

# The version iterates the secret resource itself.
resource "offstate_secret" "signing" {
  for_each = var.tenants
  name     = "prod/${each.key}/signing-key"

  tags = {
    tenant = each.key
  }

  value_wo         = var.signing_keys[each.key]
  value_wo_version = 1
}

moved {
  from = aws_secretsmanager_secret.signing
  to   = offstate_secret.signing
}

removed {
  from = aws_secretsmanager_secret_version.signing

  lifecycle {
    destroy = false
  }
}

# The version iterates the same map as the secret; each.value is the same tenant in both.
resource "offstate_secret" "tenant_config" {
  for_each    = var.tenants
  name        = "prod/${each.key}/config"
  description = "API settings for ${each.key}"

  value_wo = jsonencode({
    api_base = each.value.api_base
    token    = var.tenant_tokens[each.key]
  })
  value_wo_version = 1
}

moved {
  from = aws_secretsmanager_secret.tenant_config
  to   = offstate_secret.tenant_config
}

removed {
  from = aws_secretsmanager_secret_version.tenant_config

  lifecycle {
    destroy = false
  }
}

# count, with one random password per replica.
removed {
  from = random_password.replica

  lifecycle {
    destroy = false
  }
}

resource "offstate_secret" "replica" {
  count = var.replica_count
  name  = "prod/orders/replica-${count.index}"

  generate {
    length  = 32
    special = false
  }
}

moved {
  from = aws_secretsmanager_secret.replica
  to   = offstate_secret.replica
}

removed {
  from = aws_secretsmanager_secret_version.replica

  lifecycle {
    destroy = false
  }
}

data "aws_iam_policy_document" "read_secrets" {
  statement {
    actions = ["secretsmanager:GetSecretValue"]
    resources = concat(
      [for secret in offstate_secret.signing : secret.arn],
      values(offstate_secret.tenant_config)[*].arn,
      offstate_secret.replica[*].arn,
    )
  }
}

output "signing_secret_arns" {
  value = { for tenant, secret in offstate_secret.signing : tenant => secret.arn }
}

output "acme_config_version" {
  value = offstate_secret.tenant_config["acme"].version_id
}

output "first_replica_secret" {
  value = offstate_secret.replica[0].name
}

terraform {
  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}
