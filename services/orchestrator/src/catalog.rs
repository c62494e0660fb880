//! Reads of the synced tables, always scoped to the caller's tenant.

use sluice_proto::v1 as pb;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::Result;

#[derive(sqlx::FromRow)]
struct ProjectRecord {
    integration_id: Uuid,
    external_id: String,
    key: String,
    name: String,
    project_type: String,
    style: String,
    lead_display_name: String,
    category_name: String,
}

pub async fn projects(
    pool: &PgPool,
    tenant_id: Uuid,
    integration_id: Option<Uuid>,
    offset: i64,
    limit: i64,
) -> Result<Vec<pb::Project>> {
    let rows: Vec<ProjectRecord> = sqlx::query_as(
        "SELECT integration_id, external_id, key, name, project_type, style, lead_display_name, category_name
         FROM projects WHERE tenant_id = $1 AND ($2::uuid IS NULL OR integration_id = $2)
         ORDER BY key, integration_id, external_id OFFSET $3 LIMIT $4",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| pb::Project {
            integration_id: r.integration_id.to_string(),
            external_id: r.external_id,
            key: r.key,
            name: r.name,
            project_type: r.project_type,
            style: r.style,
            lead_display_name: r.lead_display_name,
            category_name: r.category_name,
        })
        .collect())
}

pub async fn work_item_types(
    pool: &PgPool,
    tenant_id: Uuid,
    integration_id: Option<Uuid>,
    offset: i64,
    limit: i64,
) -> Result<Vec<pb::WorkItemType>> {
    let rows: Vec<(Uuid, String, String, String, bool, i32)> = sqlx::query_as(
        "SELECT integration_id, external_id, name, description, subtask, hierarchy_level
         FROM wits WHERE tenant_id = $1 AND ($2::uuid IS NULL OR integration_id = $2)
         ORDER BY name, integration_id, external_id OFFSET $3 LIMIT $4",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(integration_id, external_id, name, description, subtask, hierarchy_level)| {
                pb::WorkItemType {
                    integration_id: integration_id.to_string(),
                    external_id,
                    name,
                    description,
                    subtask,
                    hierarchy_level,
                }
            },
        )
        .collect())
}

pub async fn statuses(
    pool: &PgPool,
    tenant_id: Uuid,
    integration_id: Option<Uuid>,
    offset: i64,
    limit: i64,
) -> Result<Vec<pb::Status>> {
    let rows: Vec<(Uuid, String, String, String, String, i64)> = sqlx::query_as(
        "WITH page AS (
             SELECT integration_id, external_id, name, category_key, category_name
             FROM statuses WHERE tenant_id = $1 AND ($2::uuid IS NULL OR integration_id = $2)
             ORDER BY name, integration_id, external_id OFFSET $3 LIMIT $4),
         counted AS (
             SELECT w.integration_id, w.status_external_id, count(*) AS n FROM work_items w
             WHERE w.tenant_id = $1 AND w.integration_id IN (SELECT integration_id FROM page)
               AND w.deleted_at IS NULL
             GROUP BY 1, 2)
         SELECT p.integration_id, p.external_id, p.name, p.category_key, p.category_name,
                COALESCE(c.n, 0)
         FROM page p LEFT JOIN counted c
           ON c.integration_id = p.integration_id AND c.status_external_id = p.external_id
         ORDER BY p.name, p.integration_id, p.external_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(integration_id, external_id, name, category_key, category_name, work_items)| {
                pb::Status {
                    integration_id: integration_id.to_string(),
                    external_id,
                    name,
                    category_key,
                    category_name,
                    work_items,
                }
            },
        )
        .collect())
}

pub async fn project_statuses(
    pool: &PgPool,
    tenant_id: Uuid,
    integration_id: Option<Uuid>,
    project_external_id: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Vec<pb::ProjectStatus>> {
    let rows: Vec<(Uuid, String, String, String, String)> = sqlx::query_as(
        "SELECT integration_id, project_external_id, wit_external_id, status_external_id, status_name
         FROM projects_statuses WHERE tenant_id = $1 AND ($2::uuid IS NULL OR integration_id = $2)
           AND ($3::text IS NULL OR project_external_id = $3)
         ORDER BY integration_id, project_external_id, wit_external_id, status_external_id OFFSET $4 LIMIT $5",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(project_external_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(integration_id, project_external_id, wit, status_external_id, status_name)| {
                pb::ProjectStatus {
                    integration_id: integration_id.to_string(),
                    project_external_id,
                    work_item_type_external_id: wit,
                    status_external_id,
                    status_name,
                }
            },
        )
        .collect())
}
