# Repeated secrets this tool must leave alone (or convert only in part), each for its own reason.

# The version iterates the secret resource and its value reads each.value, the secret's instance:
# inside offstate_secret, each.value would be an element of var.regions instead.
resource "aws_secretsmanager_secret" "regional" {
  for_each = var.regions
  name     = "prod/${each.key}/endpoint"
}

resource "aws_secretsmanager_secret_version" "regional" {
  for_each  = aws_secretsmanager_secret.regional
  secret_id = each.value.id
  secret_string = jsonencode({
    name  = each.value.name
    token = var.region_tokens[each.key]
  })
}

# The version iterates another collection than the secret.
resource "aws_secretsmanager_secret" "partner" {
  for_each = toset(var.partners)
  name     = "prod/partners/${each.key}"
}

resource "aws_secretsmanager_secret_version" "partner" {
  for_each      = toset(var.active_partners)
  secret_id     = aws_secretsmanager_secret.partner[each.key].id
  secret_string = var.partner_keys[each.key]
}

# One version for the first of several secrets.
resource "aws_secretsmanager_secret" "shard" {
  count = 3
  name  = "prod/orders/shard-${count.index}"
}

resource "aws_secretsmanager_secret_version" "shard" {
  secret_id     = aws_secretsmanager_secret.shard[0].id
  secret_string = var.shard_key
}

# The value names its own secret.
resource "aws_secretsmanager_secret" "self_describing" {
  name = "prod/orders/self-describing"
}

resource "aws_secretsmanager_secret_version" "self_describing" {
  secret_id = aws_secretsmanager_secret.self_describing.id
  secret_string = jsonencode({
    secret = aws_secretsmanager_secret.self_describing.name
    key    = var.shard_key
  })
}

# Converted, but one password feeds every instance: generate would make one per instance, so
# the password becomes ephemeral instead.
resource "random_password" "shared" {
  length = 32
}

resource "aws_secretsmanager_secret" "worker" {
  count = 2
  name  = "prod/orders/worker-${count.index}"
}

resource "aws_secretsmanager_secret_version" "worker" {
  count         = 2
  secret_id     = aws_secretsmanager_secret.worker[count.index].arn
  secret_string = random_password.shared.result
}
