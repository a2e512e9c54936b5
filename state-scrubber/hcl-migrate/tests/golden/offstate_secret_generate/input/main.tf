# Passwords made by random_password and kept in Secrets Manager. offstate_secret can make them
# itself (its `generate` block), so no password is left in the state.

resource "random_password" "db" {
  length           = 24
  special          = true
  override_special = "!#%^*-_=+" # the DB driver chokes on quotes and slashes
  min_special      = 2
  min_numeric      = 2
  number           = true
}

resource "aws_secretsmanager_secret" "db" {
  name = "prod/orders/db-password"
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id     = aws_secretsmanager_secret.db.id
  secret_string = random_password.db.result
}

# An alphanumeric API key.
resource "random_password" "api_key" {
  length    = 40
  special   = false
  upper     = false
  min_lower = 4
}

resource "aws_secretsmanager_secret" "api_key" {
  name_prefix = "prod/orders/api-key-"

  tags = {
    team = "orders"
  }
}

resource "aws_secretsmanager_secret_version" "api_key" {
  secret_id     = aws_secretsmanager_secret.api_key.arn
  secret_string = random_password.api_key.result
}

# A JSON credential: fixed fields and the password.
resource "random_password" "queue" {
  length = max(
    var.queue_password_length,
    16,
  )
  override_special = ""
}

resource "aws_secretsmanager_secret" "queue" {
  name        = "prod/orders/queue"
  description = "RabbitMQ credentials for the orders service"
}

resource "aws_secretsmanager_secret_version" "queue" {
  secret_id = aws_secretsmanager_secret.queue.id
  secret_string = jsonencode({
    "user"   = "orders"
    host     = "mq.internal.example.com"
    vhost    = "/orders"
    exchange = "orders.events.v1"
    pass     = random_password.queue.result
  })
}

resource "aws_lambda_function" "orders" {
  function_name = "orders"
  role          = var.role_arn
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "orders.zip"

  environment {
    variables = {
      DB_SECRET     = aws_secretsmanager_secret.db.arn
      API_KEY       = aws_secretsmanager_secret.api_key.arn
      QUEUE_SECRET  = aws_secretsmanager_secret_version.queue.arn
      QUEUE_VERSION = aws_secretsmanager_secret_version.queue.version_id
    }
  }

  # The function must not start before its password exists.
  depends_on = [random_password.db]
}
