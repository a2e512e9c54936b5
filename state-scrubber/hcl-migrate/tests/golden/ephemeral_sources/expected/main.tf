terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.88"
    }
    postgresql = {
      source = "cyrilgdn/postgresql"
    }
  }
}

# --- Database credentials, read from Secrets Manager -------------------------

ephemeral "aws_secretsmanager_secret_version" "db_master" {
  secret_id = "prod/payments/db-master" # created by the bootstrap stack
}

locals {
  db_master = jsondecode(ephemeral.aws_secretsmanager_secret_version.db_master.secret_string)
}

provider "postgresql" {
  host     = aws_db_instance.payments.address
  username = "payments_admin"
  password = local.db_master["password"]
}

resource "aws_db_instance" "payments" {
  identifier          = "payments-prod"
  username            = "payments_admin"
  password_wo         = local.db_master["password"]
  password_wo_version = 1
}

# --- An API key that is also exported (so it has to stay a data source) -------

data "aws_secretsmanager_secret_version" "partner_api" {
  secret_id = "prod/payments/partner-api"
}

output "partner_api_key" {
  value     = data.aws_secretsmanager_secret_version.partner_api.secret_string
  sensitive = true
}

# --- Feature flags: the parameter list drives for_each -----------------------

data "aws_ssm_parameter" "tenants" {
  name = "/prod/payments/tenants"
}

resource "aws_ssm_parameter" "tenant_config" {
  for_each = toset(split(",", data.aws_ssm_parameter.tenants.value))

  name  = "/prod/payments/tenant/${each.key}"
  type  = "String"
  value = "enabled"
}

# --- SSM parameter managed here, read back by ARN ------------------------------

resource "aws_ssm_parameter" "signing_key" {
  name             = "/prod/payments/signing-key"
  type             = "SecureString"
  value_wo         = var.signing_key
  value_wo_version = 1
}

ephemeral "aws_ssm_parameter" "signing_key" {
  arn = aws_ssm_parameter.signing_key.arn
}

resource "aws_ssm_parameter" "signing_key_copy" {
  name             = "/prod/payments/signing-key-copy"
  type             = "SecureString"
  value_wo         = ephemeral.aws_ssm_parameter.signing_key.value
  value_wo_version = 1
}

# --- Vault, GCP and Azure readers ---------------------------------------------

data "vault_kv_secret_v2" "smtp" {
  mount = "kv"
  name  = "payments/smtp"
}

module "mailer" {
  source        = "./modules/mailer"
  smtp_password = data.vault_kv_secret_v2.smtp.data["password"]
}

ephemeral "google_secret_manager_secret_version" "webhook" {
  secret = "payments-webhook"
}

resource "google_secret_manager_secret_version" "webhook_copy" {
  secret                 = "projects/example/secrets/webhook-copy"
  secret_data_wo         = ephemeral.google_secret_manager_secret_version.webhook.secret_data
  secret_data_wo_version = 1
}

ephemeral "azurerm_key_vault_secret" "sql_admin" {
  name         = "sql-admin"
  key_vault_id = var.key_vault_id
}

resource "azurerm_mssql_server" "reports" {
  name                                    = "reports"
  resource_group_name                     = "reports"
  location                                = "westeurope"
  version                                 = "12.0"
  administrator_login                     = "reports_admin"
  administrator_login_password_wo         = ephemeral.azurerm_key_vault_secret.sql_admin.value
  administrator_login_password_wo_version = 1

  provisioner "local-exec" {
    command = "echo created ${self.name}"
  }
}

data "aws_ssm_parameter" "plain_setting" {
  name            = "/prod/payments/region"
  with_decryption = false
}
