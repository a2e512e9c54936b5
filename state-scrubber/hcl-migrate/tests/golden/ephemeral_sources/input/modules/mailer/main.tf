variable "smtp_password" {
  type      = string
  sensitive = true
}

output "configured" {
  value = var.smtp_password != ""
}
