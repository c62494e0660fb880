//! Workers report progress to the orchestrator over gRPC (ProgressService).

use std::time::Duration;

use sluice_proto::v1::progress_service_client::ProgressServiceClient;
use sluice_proto::v1::{ReportProgressRequest, ReportProgressResponse};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tracing::warn;

use crate::grpc::lazy_channel;
use crate::telemetry;

type Client = ProgressServiceClient<
    InterceptedService<
        Channel,
        fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status>,
    >,
>;

const ATTEMPTS: u32 = 6;

#[derive(Clone)]
pub struct ProgressReporter {
    client: Client,
}

impl ProgressReporter {
    pub fn new(orchestrator_url: &str) -> anyhow::Result<Self> {
        let channel = lazy_channel(orchestrator_url)?;
        let interceptor: fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> =
            telemetry::propagate_trace;
        Ok(ProgressReporter {
            client: ProgressServiceClient::with_interceptor(channel, interceptor),
        })
    }

    /// Sends one report, retrying while the orchestrator is unreachable (it may be restarting).
    pub async fn report(
        &self,
        request: ReportProgressRequest,
    ) -> Result<ReportProgressResponse, tonic::Status> {
        let mut delay = Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            match self.client.clone().report_progress(request.clone()).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(status)
                    if attempt < ATTEMPTS
                        && matches!(
                            status.code(),
                            Code::Unavailable | Code::Unknown | Code::DeadlineExceeded
                        ) =>
                {
                    warn!(attempt, retry_in_ms = delay.as_millis() as u64, error = %status.message(), "progress report not delivered");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                    attempt += 1;
                }
                Err(status) => return Err(status),
            }
        }
    }
}
