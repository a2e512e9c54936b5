//! Region names: a typo ("eu-west1", "us-east-7") should fail at validate,
//! not as a DNS error at apply.

/// Commercial, China, GovCloud and European Sovereign Cloud regions known when this was written.
/// `skip_region_validation` lets newer or private regions through.
const KNOWN: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eusc-de-east-1",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// Why `region` cannot be used, said without the name: a region may come from a provider
/// argument, and provider arguments take ephemeral values (`region = var.db_password` by mistake
/// would otherwise put the password in a diagnostic). Callers name where the region came from;
/// Terraform shows the argument's source line. The shape is the one the store checks again when it
/// connects ([`offstate_common::store::aws::validate_region`]).
pub fn validate(region: &str, skip_known_check: bool) -> Result<(), &'static str> {
    if offstate_common::store::aws::validate_region(region).is_err() {
        return Err("is not an AWS region name (they look like \"eu-west-1\").");
    }
    if !skip_known_check && !KNOWN.contains(&region) {
        return Err("is not a known AWS region. Check the spelling, or set skip_region_validation = true for a region this provider does not know yet.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn table() {
        assert!(validate("eu-west-1", false).is_ok());
        assert!(validate("us-gov-west-1", false).is_ok());
        assert!(validate("eusc-de-east-1", false).is_ok());
        assert!(validate("mars-north-1", false).is_err());
        assert!(validate("mars-north-1", true).is_ok());
        assert!(validate("eu-west1", true).is_err());
        assert!(validate("EU-WEST-1", true).is_err());
        assert!(validate("", true).is_err());
    }
}
