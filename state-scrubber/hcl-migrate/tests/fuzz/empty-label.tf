/*
 */

resource "aws_secretsmanager_secret" "worker_config" {
  name      = "in" / ss
}

resource "aws_secretsmanager_secret_version" ""{
  secret_id = aws_secretsmanager_secret.worker_config.arn
  secret_string = T
}
