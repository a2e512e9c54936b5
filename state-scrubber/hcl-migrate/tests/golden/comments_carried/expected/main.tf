variable "db_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

removed {
  from = random_password.api

  lifecycle {
    destroy = false
  }
}

resource "offstate_secret" "api" {
  name = "prod/api"

  generate {
    # long enough for the policy
    length = 32
    /* no quotes:
       the app's parser breaks */
    override_special = "!#$%" # safe set
    min_upper        = 2 /* at least */
    json_template = {
      # the app user
      username = "app" # fixed
      host     = "db.internal"
    }
    /* the password */
    json_key = "password" # made here
    # end
  }
} /* the API's
     credentials */

moved {
  from = aws_secretsmanager_secret.api
  to   = offstate_secret.api
}

removed {
  from = aws_secretsmanager_secret_version.api

  lifecycle {
    destroy = false
  }
}

resource "offstate_secret" "db" {
  name = "prod/db"

  # first
  /* why this value:
     the app reads it */
  value_wo = jsonencode({
    # the app user
    username = "app" /* fixed */
    password = var.db_password // rotated
  })                           # whole value
  value_wo_version = 1
  # after the value
  # the secret first
  /* last */
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

terraform {
  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}
