//! go-plugin's helper services: `plugin.GRPCController` (Terraform asks the
//! plugin to exit) and `plugin.GRPCStdio` (stdout/stderr mirroring).

use offstate_proto::plugin::{
    grpc_controller_server::GrpcController, grpc_stdio_server::GrpcStdio, Empty, StdioData,
};
use tonic::{Request, Response, Status};

use super::shutdown::Shutdown;

/// Answers `Shutdown` and then stops the server. Terraform calls it when it
/// is done with the provider and kills the process about two seconds later
/// (go-plugin `client.go`, `Kill`), so stopping must be quick.
#[derive(Debug)]
pub(crate) struct Controller {
    pub(crate) shutdown: Shutdown,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("plugin shutdown requested by the client");
        // `serve` lets this RPC (and any other in flight) finish and the
        // connection write its answer before it returns.
        self.shutdown.trigger();
        Ok(Response::new(Empty {}))
    }
}

/// We write logs to stderr directly, which Terraform already captures; this
/// stream therefore carries no data. It stays open until shutdown (the
/// client treats an early end as "plugin gone") and then ends, so it does
/// not hold up a graceful stop.
#[derive(Debug)]
pub(crate) struct Stdio {
    pub(crate) shutdown: Shutdown,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<tonic::codegen::BoxStream<StdioData>>, Status> {
        let shutdown = self.shutdown.clone();
        let stream = futures::stream::unfold(shutdown, |shutdown| async move {
            shutdown.wait().await;
            None::<(Result<StdioData, Status>, Shutdown)>
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
