//! The provider binary: Terraform starts it; run by hand it says what it is
//! and exits 1.

use std::process::ExitCode;

use offstate_framework::runtime::{self, ServeOptions};
use offstate_framework::wire::ProviderService;
use terraform_provider_offstate::OffstateProvider;

fn main() -> ExitCode {
    runtime::check_magic_cookie();
    offstate_framework::logging::init("provider.terraform-provider-offstate");
    runtime::run(
        ProviderService::new(OffstateProvider::new()),
        ServeOptions::default(),
    )
}
