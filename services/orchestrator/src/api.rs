//! Thin gRPC handlers: authenticate, validate, call the domain function, convert the error.

use std::pin::Pin;
use std::sync::Arc;

use sluice_plumbing::amqp::ReconnectingPublisher;
use sluice_plumbing::auth::authenticate;
use sluice_plumbing::crypto::CredentialCipher;
use sluice_plumbing::telemetry;
use sluice_proto::v1 as pb;
use sluice_proto::v1::connector_service_client::ConnectorServiceClient;
use sqlx::PgPool;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::convert::{next_page_token, page_bounds};
use crate::jobs::parse;
use crate::{catalog, custom_fields, integrations, jobs, runs};

/// State shared by every handler.
#[derive(Clone)]
pub struct Orchestrator {
    pub pool: PgPool,
    pub cipher: CredentialCipher,
    pub publisher: Arc<ReconnectingPublisher>,
    pub connectors: ConnectorServiceClient<
        tonic::service::interceptor::InterceptedService<
            Channel,
            sluice_plumbing::internal::InternalClient,
        >,
    >,
    pub events: crate::events::JobEvents,
    pub management: crate::queues::Management,
    /// What source base URLs may be (https, or http to loopback unless allowed).
    pub source_urls: sluice_plumbing::origin::SourceUrlPolicy,
}

impl Orchestrator {
    pub(crate) async fn tenant<T>(&self, request: &Request<T>) -> Result<Uuid, Status> {
        Ok(authenticate(&self.pool, request.metadata()).await?.id)
    }
}

fn optional_id(field: &str, value: &str) -> Result<Option<Uuid>, Status> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        Ok(Some(parse(field, value)?))
    }
}

#[tonic::async_trait]
impl pb::integration_service_server::IntegrationService for Orchestrator {
    async fn create_integration(
        &self,
        request: Request<pb::CreateIntegrationRequest>,
    ) -> Result<Response<pb::CreateIntegrationResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let (row, job_ids) = integrations::create(
            &self.pool,
            &self.cipher,
            self.source_urls,
            tenant,
            request.into_inner(),
        )
        .await?;
        Ok(Response::new(pb::CreateIntegrationResponse {
            integration: Some(row.to_proto()),
            job_ids: job_ids.iter().map(Uuid::to_string).collect(),
        }))
    }

    async fn get_integration(
        &self,
        request: Request<pb::GetIntegrationRequest>,
    ) -> Result<Response<pb::GetIntegrationResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        let row = integrations::get(&self.pool, tenant, id).await?;
        Ok(Response::new(pb::GetIntegrationResponse {
            integration: Some(row.to_proto()),
        }))
    }

    async fn list_integrations(
        &self,
        request: Request<pb::ListIntegrationsRequest>,
    ) -> Result<Response<pb::ListIntegrationsResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let (offset, size) = page_bounds(request.get_ref().page.as_ref())?;
        let rows = integrations::list(&self.pool, tenant, offset, size).await?;
        Ok(Response::new(pb::ListIntegrationsResponse {
            next_page_token: next_page_token(offset, size, rows.len()),
            integrations: rows.iter().map(|r| r.to_proto()).collect(),
        }))
    }

    async fn update_integration(
        &self,
        request: Request<pb::UpdateIntegrationRequest>,
    ) -> Result<Response<pb::UpdateIntegrationResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        let row = integrations::update(
            &self.pool,
            &self.cipher,
            self.source_urls,
            tenant,
            id,
            request.into_inner(),
        )
        .await?;
        Ok(Response::new(pb::UpdateIntegrationResponse {
            integration: Some(row.to_proto()),
        }))
    }

    async fn set_integration_active(
        &self,
        request: Request<pb::SetIntegrationActiveRequest>,
    ) -> Result<Response<pb::SetIntegrationActiveResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        let row =
            integrations::set_active(&self.pool, tenant, id, request.get_ref().active).await?;
        Ok(Response::new(pb::SetIntegrationActiveResponse {
            integration: Some(row.to_proto()),
        }))
    }

    async fn delete_integration(
        &self,
        request: Request<pb::DeleteIntegrationRequest>,
    ) -> Result<Response<pb::DeleteIntegrationResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        integrations::delete(&self.pool, tenant, id).await?;
        Ok(Response::new(pb::DeleteIntegrationResponse {}))
    }

    async fn test_connection(
        &self,
        request: Request<pb::TestConnectionRequest>,
    ) -> Result<Response<pb::TestConnectionResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        integrations::get(&self.pool, tenant, id).await?;
        let mut call = Request::new(pb::ConnectorTestConnectionRequest {
            tenant_id: tenant.to_string(),
            integration_id: id.to_string(),
        });
        telemetry::inject_grpc(call.metadata_mut());
        let answer = self
            .connectors
            .clone()
            .test_connection(call)
            .await
            .map_err(|status| match status.code() {
                tonic::Code::Unavailable => {
                    Status::unavailable("the connectors service is not reachable")
                }
                _ => status,
            })?
            .into_inner();
        Ok(Response::new(pb::TestConnectionResponse {
            ok: answer.ok,
            message: answer.message,
            account_name: answer.account_name,
            latency_ms: answer.latency_ms,
        }))
    }
}

type JobEventStream =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::JobEvent, Status>> + Send>>;

#[tonic::async_trait]
impl pb::job_service_server::JobService for Orchestrator {
    async fn create_job(
        &self,
        request: Request<pb::CreateJobRequest>,
    ) -> Result<Response<pb::CreateJobResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let job = jobs::create(&self.pool, tenant, request.into_inner()).await?;
        Ok(Response::new(pb::CreateJobResponse {
            job: Some(job.to_proto()),
        }))
    }

    async fn update_job(
        &self,
        request: Request<pb::UpdateJobRequest>,
    ) -> Result<Response<pb::UpdateJobResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let job = jobs::update(&self.pool, tenant, request.into_inner()).await?;
        Ok(Response::new(pb::UpdateJobResponse {
            job: Some(job.to_proto()),
        }))
    }

    async fn list_jobs(
        &self,
        request: Request<pb::ListJobsRequest>,
    ) -> Result<Response<pb::ListJobsResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let integration = optional_id("integration_id", &request.get_ref().integration_id)?;
        let (offset, size) = page_bounds(request.get_ref().page.as_ref())?;
        let rows = jobs::list(&self.pool, tenant, integration, offset, size).await?;
        Ok(Response::new(pb::ListJobsResponse {
            next_page_token: next_page_token(offset, size, rows.len()),
            jobs: rows.iter().map(|j| j.to_proto()).collect(),
        }))
    }

    async fn get_job(
        &self,
        request: Request<pb::GetJobRequest>,
    ) -> Result<Response<pb::GetJobResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        let job = jobs::get(&self.pool, tenant, id).await?;
        let last_run = jobs::last_run(&self.pool, tenant, id).await?;
        Ok(Response::new(pb::GetJobResponse {
            job: Some(job.to_proto()),
            last_run: last_run.map(|r| r.to_proto()),
        }))
    }

    async fn run_job(
        &self,
        request: Request<pb::RunJobRequest>,
    ) -> Result<Response<pb::RunJobResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        let run = jobs::run_now(&self.pool, &self.publisher, tenant, id, "manual", "").await?;
        Ok(Response::new(pb::RunJobResponse {
            run: Some(run.to_proto()),
        }))
    }

    async fn pause_job(
        &self,
        request: Request<pb::PauseJobRequest>,
    ) -> Result<Response<pb::PauseJobResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        let job = jobs::pause(&self.pool, tenant, id).await?;
        Ok(Response::new(pb::PauseJobResponse {
            job: Some(job.to_proto()),
        }))
    }

    async fn resume_job(
        &self,
        request: Request<pb::ResumeJobRequest>,
    ) -> Result<Response<pb::ResumeJobResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        let job = jobs::resume(&self.pool, tenant, id).await?;
        Ok(Response::new(pb::ResumeJobResponse {
            job: Some(job.to_proto()),
        }))
    }

    async fn cancel_job(
        &self,
        request: Request<pb::CancelJobRequest>,
    ) -> Result<Response<pb::CancelJobResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        let (job, run) = jobs::cancel(&self.pool, tenant, id).await?;
        Ok(Response::new(pb::CancelJobResponse {
            job: Some(job.to_proto()),
            run: run.map(|r| r.to_proto()),
        }))
    }

    async fn list_job_runs(
        &self,
        request: Request<pb::ListJobRunsRequest>,
    ) -> Result<Response<pb::ListJobRunsResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let job_id = parse("job_id", &request.get_ref().job_id)?;
        let (offset, size) = page_bounds(request.get_ref().page.as_ref())?;
        let rows = jobs::list_runs(&self.pool, tenant, job_id, offset, size).await?;
        Ok(Response::new(pb::ListJobRunsResponse {
            next_page_token: next_page_token(offset, size, rows.len()),
            runs: rows.iter().map(|r| r.to_proto()).collect(),
        }))
    }

    async fn get_job_run(
        &self,
        request: Request<pb::GetJobRunRequest>,
    ) -> Result<Response<pb::GetJobRunResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        let run = jobs::get_run(&self.pool, tenant, id).await?;
        Ok(Response::new(pb::GetJobRunResponse {
            run: Some(run.to_proto()),
        }))
    }

    type WatchJobsStream = JobEventStream;

    async fn watch_jobs(
        &self,
        request: Request<pb::WatchJobsRequest>,
    ) -> Result<Response<Self::WatchJobsStream>, Status> {
        let tenant = self.tenant(&request).await?;
        let job_id = optional_id("job_id", &request.get_ref().job_id)?;
        if let Some(job_id) = job_id {
            // NOT_FOUND for a job of another tenant, as everywhere.
            jobs::get(&self.pool, tenant, job_id).await?;
        }
        let receiver =
            crate::events::subscribe(self.pool.clone(), &self.events, tenant, job_id, 64);
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(receiver),
        )))
    }
}

#[tonic::async_trait]
impl pb::queue_service_server::QueueService for Orchestrator {
    async fn get_queue_health(
        &self,
        request: Request<pb::GetQueueHealthRequest>,
    ) -> Result<Response<pb::GetQueueHealthResponse>, Status> {
        let caller = authenticate(&self.pool, request.metadata()).await?;
        let queues = if caller.admin {
            crate::queues::broker_health(&self.pool, &self.publisher, &self.management).await?
        } else {
            crate::queues::tenant_health(&self.pool, self.publisher.topology(), caller.id).await?
        };
        Ok(Response::new(pb::GetQueueHealthResponse {
            queues,
            broker_wide: caller.admin,
        }))
    }

    async fn list_dead_letters(
        &self,
        request: Request<pb::ListDeadLettersRequest>,
    ) -> Result<Response<pb::ListDeadLettersResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let dead_letters = crate::queues::list(&self.pool, tenant, request.get_ref().limit).await?;
        Ok(Response::new(pb::ListDeadLettersResponse { dead_letters }))
    }

    async fn requeue_dead_letters(
        &self,
        request: Request<pb::RequeueDeadLettersRequest>,
    ) -> Result<Response<pb::RequeueDeadLettersResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let requeued =
            crate::queues::requeue(&self.pool, &self.publisher, tenant, &request.get_ref().ids)
                .await?;
        Ok(Response::new(pb::RequeueDeadLettersResponse { requeued }))
    }

    async fn purge_dead_letters(
        &self,
        request: Request<pb::PurgeDeadLettersRequest>,
    ) -> Result<Response<pb::PurgeDeadLettersResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let purged = crate::queues::purge(&self.pool, tenant).await?;
        Ok(Response::new(pb::PurgeDeadLettersResponse { purged }))
    }
}

#[tonic::async_trait]
impl pb::progress_service_server::ProgressService for Orchestrator {
    async fn report_progress(
        &self,
        request: Request<pb::ReportProgressRequest>,
    ) -> Result<Response<pb::ReportProgressResponse>, Status> {
        let stop = runs::report(&self.pool, request.get_ref()).await?;
        Ok(Response::new(pb::ReportProgressResponse { stop }))
    }
}

#[tonic::async_trait]
impl pb::catalog_service_server::CatalogService for Orchestrator {
    async fn list_projects(
        &self,
        request: Request<pb::ListProjectsRequest>,
    ) -> Result<Response<pb::ListProjectsResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let integration = optional_id("integration_id", &request.get_ref().integration_id)?;
        let (offset, size) = page_bounds(request.get_ref().page.as_ref())?;
        let projects = catalog::projects(&self.pool, tenant, integration, offset, size).await?;
        Ok(Response::new(pb::ListProjectsResponse {
            next_page_token: next_page_token(offset, size, projects.len()),
            projects,
        }))
    }

    async fn list_work_item_types(
        &self,
        request: Request<pb::ListWorkItemTypesRequest>,
    ) -> Result<Response<pb::ListWorkItemTypesResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let integration = optional_id("integration_id", &request.get_ref().integration_id)?;
        let (offset, size) = page_bounds(request.get_ref().page.as_ref())?;
        let work_item_types =
            catalog::work_item_types(&self.pool, tenant, integration, offset, size).await?;
        Ok(Response::new(pb::ListWorkItemTypesResponse {
            next_page_token: next_page_token(offset, size, work_item_types.len()),
            work_item_types,
        }))
    }

    async fn list_statuses(
        &self,
        request: Request<pb::ListStatusesRequest>,
    ) -> Result<Response<pb::ListStatusesResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let integration = optional_id("integration_id", &request.get_ref().integration_id)?;
        let (offset, size) = page_bounds(request.get_ref().page.as_ref())?;
        let statuses = catalog::statuses(&self.pool, tenant, integration, offset, size).await?;
        Ok(Response::new(pb::ListStatusesResponse {
            next_page_token: next_page_token(offset, size, statuses.len()),
            statuses,
        }))
    }

    async fn list_project_statuses(
        &self,
        request: Request<pb::ListProjectStatusesRequest>,
    ) -> Result<Response<pb::ListProjectStatusesResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let integration = optional_id("integration_id", &request.get_ref().integration_id)?;
        let project = Some(request.get_ref().project_external_id.trim()).filter(|p| !p.is_empty());
        let (offset, size) = page_bounds(request.get_ref().page.as_ref())?;
        let project_statuses =
            catalog::project_statuses(&self.pool, tenant, integration, project, offset, size)
                .await?;
        Ok(Response::new(pb::ListProjectStatusesResponse {
            next_page_token: next_page_token(offset, size, project_statuses.len()),
            project_statuses,
        }))
    }

    async fn list_work_items(
        &self,
        request: Request<pb::ListWorkItemsRequest>,
    ) -> Result<Response<pb::ListWorkItemsResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        Ok(Response::new(
            crate::catalog_items::list_work_items(&self.pool, tenant, request.get_ref()).await?,
        ))
    }

    async fn get_work_item(
        &self,
        request: Request<pb::GetWorkItemRequest>,
    ) -> Result<Response<pb::GetWorkItemResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        Ok(Response::new(
            crate::catalog_items::get_work_item(&self.pool, tenant, request.get_ref()).await?,
        ))
    }

    async fn list_pull_requests(
        &self,
        request: Request<pb::ListPullRequestsRequest>,
    ) -> Result<Response<pb::ListPullRequestsResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        Ok(Response::new(
            crate::catalog_items::list_pull_requests(&self.pool, tenant, request.get_ref()).await?,
        ))
    }

    async fn get_pull_request(
        &self,
        request: Request<pb::GetPullRequestRequest>,
    ) -> Result<Response<pb::GetPullRequestResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        Ok(Response::new(
            crate::catalog_items::get_pull_request(&self.pool, tenant, request.get_ref()).await?,
        ))
    }
}

#[tonic::async_trait]
impl pb::custom_field_service_server::CustomFieldService for Orchestrator {
    async fn discover_custom_fields(
        &self,
        request: Request<pb::DiscoverCustomFieldsRequest>,
    ) -> Result<Response<pb::DiscoverCustomFieldsResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let integration_id = parse("integration_id", &request.get_ref().integration_id)?;
        let job_id = jobs::ensure_job(&self.pool, tenant, integration_id, "jira_discovery").await?;
        let project_key = request.get_ref().project_key.trim();
        if !project_key.is_empty()
            && !sluice_plumbing::settings::is_valid_jira_project_key(project_key)
        {
            return Err(Status::invalid_argument(format!(
                "project_key: {project_key:?} is not a Jira project key"
            )));
        }
        let run = jobs::run_now(
            &self.pool,
            &self.publisher,
            tenant,
            job_id,
            "discover",
            project_key,
        )
        .await?;
        Ok(Response::new(pb::DiscoverCustomFieldsResponse {
            run_id: run.id.to_string(),
            job_id: run.job_id.to_string(),
        }))
    }

    async fn list_discovered_fields(
        &self,
        request: Request<pb::ListDiscoveredFieldsRequest>,
    ) -> Result<Response<pb::ListDiscoveredFieldsResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let integration_id = parse("integration_id", &request.get_ref().integration_id)?;
        let fields = custom_fields::list_discovered(
            &self.pool,
            tenant,
            integration_id,
            &request.get_ref().project_key,
        )
        .await?;
        Ok(Response::new(pb::ListDiscoveredFieldsResponse { fields }))
    }

    async fn get_field_mapping(
        &self,
        request: Request<pb::GetFieldMappingRequest>,
    ) -> Result<Response<pb::GetFieldMappingResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let integration_id = parse("integration_id", &request.get_ref().integration_id)?;
        let mapping = custom_fields::get_mapping(
            &self.pool,
            tenant,
            integration_id,
            &request.get_ref().project_key,
        )
        .await?;
        Ok(Response::new(pb::GetFieldMappingResponse {
            mapping: Some(mapping),
        }))
    }

    async fn set_field_mapping(
        &self,
        request: Request<pb::SetFieldMappingRequest>,
    ) -> Result<Response<pb::SetFieldMappingResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let (mapping, unfetched) =
            custom_fields::set_mapping(&self.pool, tenant, request.into_inner()).await?;
        Ok(Response::new(pb::SetFieldMappingResponse {
            mapping: Some(mapping),
            unfetched_field_ids: unfetched,
        }))
    }

    async fn reprocess(
        &self,
        request: Request<pb::ReprocessRequest>,
    ) -> Result<Response<pb::ReprocessResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let integration_id = parse("integration_id", &request.get_ref().integration_id)?;
        let run = crate::reprocess::reprocess(
            &self.pool,
            &self.publisher,
            tenant,
            integration_id,
            &request.get_ref().project_key,
        )
        .await?;
        Ok(Response::new(pb::ReprocessResponse {
            run_id: run.id.to_string(),
            job_id: run.job_id.to_string(),
        }))
    }
}

#[tonic::async_trait]
impl pb::account_service_server::AccountService for Orchestrator {
    async fn who_am_i(
        &self,
        request: Request<pb::WhoAmIRequest>,
    ) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let caller = authenticate(&self.pool, request.metadata()).await?;
        let key = sluice_plumbing::auth::presented_key(request.metadata()).unwrap_or_default();
        let (tenant_name, key_name, key_prefix): (String, String, String) = sqlx::query_as(
            "SELECT t.name, k.name, k.key_prefix FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
             WHERE k.key_hash = $1 AND k.tenant_id = $2",
        )
        .bind(sluice_plumbing::auth::hash_key(key))
        .bind(caller.id)
        .fetch_one(&self.pool)
        .await
        .map_err(crate::error::OrchestratorError::from)?;
        Ok(Response::new(pb::WhoAmIResponse {
            tenant_id: caller.id.to_string(),
            tenant_name,
            key_name,
            key_prefix,
            admin: caller.admin,
        }))
    }
}
