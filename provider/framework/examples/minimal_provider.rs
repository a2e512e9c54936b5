//! The smallest provider the runtime can serve: every RPC answers
//! `Unimplemented` except GetProviderSchema, which returns an empty schema.
//! The runtime integration tests launch it the way Terraform does.
//!
//! `OFFSTATE_EXAMPLE_TRANSPORT=tcp` makes it listen on loopback TCP instead
//! of a unix socket (to exercise that path on unix);
//! `OFFSTATE_EXAMPLE_PANIC=<text>` makes GetProviderSchema panic with that
//! text (to check the panic hook withholds it);
//! `OFFSTATE_EXAMPLE_SLOW_SCHEMA_MS=<n>` makes GetProviderSchema take that
//! long, and `OFFSTATE_EXAMPLE_GRACE_MS=<n>` sets the shutdown grace (to
//! check what a shutdown waits for).

use std::process::ExitCode;
use std::time::Duration;

use offstate_framework::runtime::{self, ServeOptions, Transport};
use offstate_proto::tfplugin6::{self, provider_server::Provider};
use tonic::{Request, Response, Status};

#[derive(Debug, Default)]
struct MinimalProvider;

#[tonic::async_trait]
impl Provider for MinimalProvider {
    async fn get_provider_schema(
        &self,
        _request: Request<tfplugin6::get_provider_schema::Request>,
    ) -> Result<Response<tfplugin6::get_provider_schema::Response>, Status> {
        if let Ok(text) = std::env::var("OFFSTATE_EXAMPLE_PANIC") {
            panic!("asked to panic with {text}");
        }
        if let Some(ms) = env_millis("OFFSTATE_EXAMPLE_SLOW_SCHEMA_MS") {
            tokio::time::sleep(ms).await;
        }
        Ok(Response::new(tfplugin6::get_provider_schema::Response {
            provider: Some(tfplugin6::Schema {
                version: 0,
                block: Some(tfplugin6::schema::Block::default()),
            }),
            ..Default::default()
        }))
    }
}

fn env_millis(name: &str) -> Option<Duration> {
    let ms = std::env::var(name).ok()?.parse().ok()?;
    Some(Duration::from_millis(ms))
}

fn main() -> ExitCode {
    runtime::check_magic_cookie();
    offstate_framework::logging::init("provider.terraform-provider-minimal");
    let transport = match std::env::var("OFFSTATE_EXAMPLE_TRANSPORT").as_deref() {
        Ok("tcp") => Transport::Tcp,
        _ => Transport::Auto,
    };
    let mut options = ServeOptions::default().with_transport(transport);
    if let Some(grace) = env_millis("OFFSTATE_EXAMPLE_GRACE_MS") {
        options = options.with_shutdown_grace(grace);
    }
    runtime::run(MinimalProvider, options)
}
