# `terraform query` reads *.tfquery.hcl files: each list block asks a provider for resources.
list "offstate_secret" "team" {
  provider = offstate

  # Also return the object `import` would produce, so -generate-config-out can write the
  # resource blocks (metadata only; a value is never listed).
  include_resource = true

  config {
    name_prefix = "${var.prefix}/"
    # tag_key   = "team"      # secrets with a tag key starting with this
    # tag_value = "payments"  # ... and a tag value starting with this
  }
}
