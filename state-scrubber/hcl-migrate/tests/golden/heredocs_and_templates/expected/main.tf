/*
 * Worker fleet. Config is rendered into a Secrets Manager secret and
 * read back by the instances at boot.
 */

resource "offstate_secret" "worker_config" {
  name        = "prod/worker/config"
  description = "Rendered worker configuration" // not the password itself

  value_wo         = <<-EOT
    [database]
    host = ${aws_db_instance.main.address}
    password = ${ephemeral.aws_secretsmanager_secret_version.db.secret_string}
  EOT
  value_wo_version = 1
}

moved {
  from = aws_secretsmanager_secret.worker_config
  to   = offstate_secret.worker_config
}

removed {
  from = aws_secretsmanager_secret_version.worker_config

  lifecycle {
    destroy = false
  }
}

ephemeral "aws_secretsmanager_secret_version" "db" {
  secret_id = "prod/worker/db"
}

resource "aws_db_instance" "main" {
  identifier          = "worker"
  username            = "worker"
  password_wo         = ephemeral.aws_secretsmanager_secret_version.db.secret_string
  password_wo_version = 1
}

resource "aws_iam_role_policy" "read_config" {
  name = "read-config"
  role = "worker"
  # Heredoc JSON, with an interpolated ARN.
  policy = <<EOF2
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "secretsmanager:GetSecretValue",
      "Resource": "${offstate_secret.worker_config.arn}"
    }
  ]
}
EOF2
}

# The bootstrap token is only used over SSH, never stored.
ephemeral "vault_kv_secret_v2" "bootstrap" {
  mount = "kv"
  name  = "worker/bootstrap"
}

resource "terraform_data" "bootstrap" {
  input = aws_db_instance.main.id

  connection {
    type     = "ssh"
    host     = "10.0.0.10"
    user     = "ops"
    password = ephemeral.vault_kv_secret_v2.bootstrap.data["ssh_password"]
  }

  provisioner "remote-exec" {
    inline = ["echo ${ephemeral.vault_kv_secret_v2.bootstrap.data["motd"]}"]
  }
}

data "google_secret_manager_secret_version" "legacy" {
  secret = "legacy-token"
}

resource "aws_instance" "legacy" {
  ami           = "ami-00000000000000000"
  instance_type = "t3.micro"
  user_data     = <<-EOT
    #!/bin/sh
    echo "${data.google_secret_manager_secret_version.legacy.secret_data}" > /etc/legacy-token
  EOT
}

terraform {
  required_providers {
    offstate = {
      source = "offstate/offstate"
    }
  }
}
