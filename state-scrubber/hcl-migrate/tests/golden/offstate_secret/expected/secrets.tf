# Application credentials for the payments service.
# The password is generated here and handed to the app via Secrets Manager.

removed {
  from = random_password.app

  lifecycle {
    destroy = false
  }
}

resource "offstate_secret" "app" {
  name                    = "prod/payments/app-credentials"
  description             = "Payments app credentials" # shown in the console
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = 7

  tags = merge(local.tags, {
    purpose = "app-credentials"
  })

  generate {
    length           = 32
    special          = true
    override_special = "!@#$%&*()-_=+[]{}<>:?" # random_password's default set
    json_template    = { username = "payments_app" }
    json_key         = "password"
  }
}

moved {
  from = aws_secretsmanager_secret.app
  to   = offstate_secret.app
}

# The current value. Rotation is manual for now.
removed {
  from = aws_secretsmanager_secret_version.app

  lifecycle {
    destroy = false
  }
}

resource "aws_kms_key" "secrets" {
  description = "Secrets for payments"
}

locals {
  tags = {
    service = "payments"
    env     = "prod"
  }
}

resource "aws_iam_policy" "read_app_secret" {
  name = "read-app-secret"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = [offstate_secret.app.arn]
    }]
  })
}

resource "aws_lambda_function" "worker" {
  function_name = "payments-worker"
  role          = var.worker_role_arn
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "worker.zip"

  environment {
    variables = {
      SECRET_ARN = offstate_secret.app.arn
      SECRET_VER = offstate_secret.app.version_id
    }
  }

  depends_on = [offstate_secret.app]
}

output "app_secret_arn" {
  description = "Where the app reads its credentials"
  value       = offstate_secret.app.arn
}
