//! The provider binary: Terraform starts it; run by hand it says what it is
//! and exits 1.

use std::process::ExitCode;

use offstate_framework::runtime::{self, ServeOptions};
use offstate_framework::wire::ProviderService;
use terraform_provider_offstate::OffstateProvider;

fn main() -> ExitCode {
    runtime::check_magic_cookie();
    // The AWS SDK's profile-file parser quotes a malformed line of ~/.aws/credentials in its
    // warnings (`aws_session_token: TOKEN` with a colon): its events keep no message.
    offstate_framework::logging::init_with(
        "provider.terraform-provider-offstate",
        terraform_provider_offstate::LOG_CONTENT_TARGETS,
    );
    // A credential the AWS SDK obtains by itself (from a credential_process, SSO, the container
    // or instance endpoint, assume_role) is withheld from logs and diagnostics from its first
    // resolution on: its secret access key and session token.
    offstate_common::store::aws::observe_credentials(offstate_framework::withheld::withhold);
    // One thread is plenty: every RPC waits on the network (Secrets Manager)
    // or does microseconds of work, and Terraform starts a provider process
    // several times per command, so start-up time and memory are what count.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-offstate: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match rt.block_on(runtime::serve(
        ProviderService::new(OffstateProvider::new()),
        ServeOptions::default(),
    )) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("terraform-provider-offstate: {e}");
            1
        }
    };
    // `serve` has answered Shutdown (every RPC answered and flushed) and removed the socket; the
    // connection is left for the exit to close. Logs go to stderr unbuffered. Exit now rather
    // than tearing down the runtime and the heap piece by piece: Terraform waits for the process
    // to be gone, several times per command.
    std::process::exit(code)
}
