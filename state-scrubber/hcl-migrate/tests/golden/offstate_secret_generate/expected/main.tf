# Passwords made by random_password and kept in Secrets Manager. offstate_secret can make them
# itself (its `generate` block), so no password is left in the state.

removed {
  from = random_password.db

  lifecycle {
    destroy = false
  }
}

resource "offstate_secret" "db" {
  name = "prod/orders/db-password"

  generate {
    length           = 24
    special          = true
    override_special = "!#%^*-_=+" # the DB driver chokes on quotes and slashes
    min_special      = 2
    min_numeric      = 2
    numeric          = true
  }
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

# An alphanumeric API key.
removed {
  from = random_password.api_key

  lifecycle {
    destroy = false
  }
}

resource "offstate_secret" "api_key" {
  name_prefix = "prod/orders/api-key-"

  tags = {
    team = "orders"
  }

  generate {
    length    = 40
    special   = false
    upper     = false
    min_lower = 4
  }
}

moved {
  from = aws_secretsmanager_secret.api_key
  to   = offstate_secret.api_key
}

removed {
  from = aws_secretsmanager_secret_version.api_key

  lifecycle {
    destroy = false
  }
}

# A JSON credential: fixed fields and the password.
removed {
  from = random_password.queue

  lifecycle {
    destroy = false
  }
}

resource "offstate_secret" "queue" {
  name        = "prod/orders/queue"
  description = "RabbitMQ credentials for the orders service"

  generate {
    length = max(
      var.queue_password_length,
      16,
    )
    override_special = "!@#$%&*()-_=+[]{}<>:?" # random_password's default set
    json_template = {
      "user"   = "orders"
      host     = "mq.internal.example.com"
      vhost    = "/orders"
      exchange = "orders.events.v1"
    }
    json_key = "pass"
  }
}

moved {
  from = aws_secretsmanager_secret.queue
  to   = offstate_secret.queue
}

removed {
  from = aws_secretsmanager_secret_version.queue

  lifecycle {
    destroy = false
  }
}

resource "aws_lambda_function" "orders" {
  function_name = "orders"
  role          = var.role_arn
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "orders.zip"

  environment {
    variables = {
      DB_SECRET     = offstate_secret.db.arn
      API_KEY       = offstate_secret.api_key.arn
      QUEUE_SECRET  = offstate_secret.queue.arn
      QUEUE_VERSION = offstate_secret.queue.version_id
    }
  }

  # The function must not start before its password exists.
  depends_on = [offstate_secret.db]
}
