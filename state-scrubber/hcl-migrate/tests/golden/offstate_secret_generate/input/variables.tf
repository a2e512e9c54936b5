variable "role_arn" {
  type = string
}

variable "queue_password_length" {
  type    = number
  default = 32
}
