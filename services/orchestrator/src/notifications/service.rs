//! NotificationService: thin handlers over `channels` and `outbox`, tenant-scoped by the
//! caller's API key like every public service.

use sluice_proto::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{channels, outbox};
use crate::api::Orchestrator;
use crate::convert::{next_page_token, page_bounds};
use crate::jobs::parse;

#[tonic::async_trait]
impl pb::notification_service_server::NotificationService for Orchestrator {
    async fn create_channel(
        &self,
        request: Request<pb::CreateChannelRequest>,
    ) -> Result<Response<pb::CreateChannelResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let (row, generated) = channels::create(
            &self.pool,
            &self.cipher,
            self.source_urls,
            tenant,
            request.get_ref(),
        )
        .await?;
        Ok(Response::new(pb::CreateChannelResponse {
            channel: Some(row.to_proto()),
            generated_secret: generated.unwrap_or_default(),
        }))
    }

    async fn list_channels(
        &self,
        request: Request<pb::ListChannelsRequest>,
    ) -> Result<Response<pb::ListChannelsResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let (offset, size) = page_bounds(request.get_ref().page.as_ref())?;
        let rows = channels::list(&self.pool, tenant, offset, size).await?;
        Ok(Response::new(pb::ListChannelsResponse {
            next_page_token: next_page_token(offset, size, rows.len()),
            channels: rows.iter().map(|r| r.to_proto()).collect(),
        }))
    }

    async fn update_channel(
        &self,
        request: Request<pb::UpdateChannelRequest>,
    ) -> Result<Response<pb::UpdateChannelResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        let (row, generated) = channels::update(
            &self.pool,
            &self.cipher,
            self.source_urls,
            tenant,
            id,
            request.get_ref(),
        )
        .await?;
        Ok(Response::new(pb::UpdateChannelResponse {
            channel: Some(row.to_proto()),
            generated_secret: generated.unwrap_or_default(),
        }))
    }

    async fn set_channel_active(
        &self,
        request: Request<pb::SetChannelActiveRequest>,
    ) -> Result<Response<pb::SetChannelActiveResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        let row = channels::set_active(&self.pool, tenant, id, request.get_ref().active).await?;
        Ok(Response::new(pb::SetChannelActiveResponse {
            channel: Some(row.to_proto()),
        }))
    }

    async fn delete_channel(
        &self,
        request: Request<pb::DeleteChannelRequest>,
    ) -> Result<Response<pb::DeleteChannelResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        channels::delete(&self.pool, tenant, id).await?;
        Ok(Response::new(pb::DeleteChannelResponse {}))
    }

    async fn test_channel(
        &self,
        request: Request<pb::TestChannelRequest>,
    ) -> Result<Response<pb::TestChannelResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let id = parse("id", &request.get_ref().id)?;
        let delivery = outbox::record_test(&self.pool, tenant, id).await?;
        Ok(Response::new(pb::TestChannelResponse {
            delivery_id: delivery.to_string(),
        }))
    }

    async fn list_deliveries(
        &self,
        request: Request<pb::ListDeliveriesRequest>,
    ) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        let tenant = self.tenant(&request).await?;
        let channel: Option<Uuid> = match request.get_ref().channel_id.trim() {
            "" => None,
            id => Some(parse("channel_id", id)?),
        };
        let (offset, size) = page_bounds(request.get_ref().page.as_ref())?;
        let rows = outbox::list_deliveries(&self.pool, tenant, channel, offset, size).await?;
        Ok(Response::new(pb::ListDeliveriesResponse {
            next_page_token: next_page_token(offset, size, rows.len()),
            deliveries: rows.iter().map(|r| r.to_proto()).collect(),
        }))
    }
}
