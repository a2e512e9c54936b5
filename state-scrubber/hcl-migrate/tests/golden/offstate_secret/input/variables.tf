variable "worker_role_arn" {
  type = string
}
