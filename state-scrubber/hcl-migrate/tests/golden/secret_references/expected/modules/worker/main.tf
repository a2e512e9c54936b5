variable "token" {
  type      = string
  sensitive = true
}

resource "terraform_data" "worker" {
  input = var.token
}
