variable "db_password" {
  type      = string
  sensitive = true
}

resource "random_password" "api" {
  # long enough for the policy
  length = 32
  /* no quotes:
     the app's parser breaks */
  override_special = "!#$%" # safe set
  min_upper        = 2 /* at least */
  # end
}

resource "aws_secretsmanager_secret" "api" {
  name = "prod/api"
} /* the API's
     credentials */

resource "aws_secretsmanager_secret_version" "api" {
  secret_id = aws_secretsmanager_secret.api.id
  secret_string = jsonencode({
    # the app user
    username = "app" # fixed
    /* the password */
    password = random_password.api.result # made here
    host     = "db.internal"
  })
}

resource "aws_secretsmanager_secret" "db" {
  name = "prod/db"
}

resource "aws_secretsmanager_secret_version" "db" {
  # first
  secret_id = aws_secretsmanager_secret.db.id
  /* why this value:
     the app reads it */
  secret_string = jsonencode({
    # the app user
    username = "app" /* fixed */
    password = var.db_password // rotated
  })                           # whole value
  # after the value
  depends_on = [
    # the secret first
    aws_secretsmanager_secret.db,
  ]
  /* last */
}
