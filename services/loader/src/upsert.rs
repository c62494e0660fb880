//! Bulk upserts: one UNNEST statement per table per batch, never row by row. Rows are
//! de-duplicated by natural key first (PostgreSQL refuses to update a row twice in one
//! statement), and an unchanged row is not rewritten, so re-running a sync leaves the
//! tables byte-for-byte identical (`updated_at` included).

use std::collections::BTreeMap;

use sluice_proto::v1 as pb;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

/// Keeps the last row per key, in key order (stable lock order across concurrent loaders).
fn dedupe<T, K: Ord>(rows: &[T], key: impl Fn(&T) -> K) -> Vec<&T> {
    let mut by_key = BTreeMap::new();
    for row in rows {
        by_key.insert(key(row), row);
    }
    by_key.into_values().collect()
}

fn column<T, V>(rows: &[&T], f: impl Fn(&T) -> V) -> Vec<V> {
    rows.iter().map(|r| f(r)).collect()
}

pub async fn projects(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::ProjectRow],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let rows = dedupe(rows, |r| r.external_id.clone());
    let result = sqlx::query(
        "INSERT INTO projects (tenant_id, integration_id, external_id, key, name, project_type, style, is_private,
             simplified, description, lead_account_id, lead_display_name, category_name, self_url)
         SELECT $1, $2, * FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[],
             $9::bool[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
         ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE SET
             key = EXCLUDED.key, name = EXCLUDED.name, project_type = EXCLUDED.project_type, style = EXCLUDED.style,
             is_private = EXCLUDED.is_private, simplified = EXCLUDED.simplified, description = EXCLUDED.description,
             lead_account_id = EXCLUDED.lead_account_id, lead_display_name = EXCLUDED.lead_display_name,
             category_name = EXCLUDED.category_name, self_url = EXCLUDED.self_url, updated_at = now()
         WHERE (projects.key, projects.name, projects.project_type, projects.style, projects.is_private,
                projects.simplified, projects.description, projects.lead_account_id, projects.lead_display_name,
                projects.category_name, projects.self_url)
               IS DISTINCT FROM
               (EXCLUDED.key, EXCLUDED.name, EXCLUDED.project_type, EXCLUDED.style, EXCLUDED.is_private,
                EXCLUDED.simplified, EXCLUDED.description, EXCLUDED.lead_account_id, EXCLUDED.lead_display_name,
                EXCLUDED.category_name, EXCLUDED.self_url)",
    )
    .bind(tenant)
    .bind(integration)
    .bind(column(&rows, |r| r.external_id.clone()))
    .bind(column(&rows, |r| r.key.clone()))
    .bind(column(&rows, |r| r.name.clone()))
    .bind(column(&rows, |r| r.project_type.clone()))
    .bind(column(&rows, |r| r.style.clone()))
    .bind(column(&rows, |r| r.is_private))
    .bind(column(&rows, |r| r.simplified))
    .bind(column(&rows, |r| r.description.clone()))
    .bind(column(&rows, |r| r.lead_account_id.clone()))
    .bind(column(&rows, |r| r.lead_display_name.clone()))
    .bind(column(&rows, |r| r.category_name.clone()))
    .bind(column(&rows, |r| r.self_url.clone()))
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

pub async fn work_item_types(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::WorkItemTypeRow],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let rows = dedupe(rows, |r| r.external_id.clone());
    let result = sqlx::query(
        "INSERT INTO wits (tenant_id, integration_id, external_id, name, description, subtask, hierarchy_level, icon_url, scope_project_id)
         SELECT $1, $2, * FROM UNNEST($3::text[], $4::text[], $5::text[], $6::bool[], $7::int[], $8::text[], $9::text[])
         ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE SET
             name = EXCLUDED.name, description = EXCLUDED.description, subtask = EXCLUDED.subtask,
             hierarchy_level = EXCLUDED.hierarchy_level, icon_url = EXCLUDED.icon_url,
             scope_project_id = EXCLUDED.scope_project_id, updated_at = now()
         WHERE (wits.name, wits.description, wits.subtask, wits.hierarchy_level, wits.icon_url, wits.scope_project_id)
               IS DISTINCT FROM
               (EXCLUDED.name, EXCLUDED.description, EXCLUDED.subtask, EXCLUDED.hierarchy_level, EXCLUDED.icon_url,
                EXCLUDED.scope_project_id)",
    )
    .bind(tenant)
    .bind(integration)
    .bind(column(&rows, |r| r.external_id.clone()))
    .bind(column(&rows, |r| r.name.clone()))
    .bind(column(&rows, |r| r.description.clone()))
    .bind(column(&rows, |r| r.subtask))
    .bind(column(&rows, |r| r.hierarchy_level))
    .bind(column(&rows, |r| r.icon_url.clone()))
    .bind(column(&rows, |r| r.scope_project_id.clone()))
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

pub async fn project_work_item_types(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::ProjectWorkItemTypeRow],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let rows = dedupe(rows, |r| {
        (
            r.project_external_id.clone(),
            r.work_item_type_external_id.clone(),
        )
    });
    let result = sqlx::query(
        "INSERT INTO projects_wits (tenant_id, integration_id, project_external_id, wit_external_id)
         SELECT $1, $2, * FROM UNNEST($3::text[], $4::text[])
         ON CONFLICT DO NOTHING",
    )
    .bind(tenant)
    .bind(integration)
    .bind(column(&rows, |r| r.project_external_id.clone()))
    .bind(column(&rows, |r| r.work_item_type_external_id.clone()))
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

pub async fn statuses(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::StatusRow],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let rows = dedupe(rows, |r| r.external_id.clone());
    let result = sqlx::query(
        "INSERT INTO statuses (tenant_id, integration_id, external_id, name, description, category_key, category_name, icon_url, scope_project_id)
         SELECT $1, $2, * FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
         ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE SET
             name = EXCLUDED.name, description = EXCLUDED.description, category_key = EXCLUDED.category_key,
             category_name = EXCLUDED.category_name, icon_url = EXCLUDED.icon_url,
             scope_project_id = EXCLUDED.scope_project_id, updated_at = now()
         WHERE (statuses.name, statuses.description, statuses.category_key, statuses.category_name, statuses.icon_url,
                statuses.scope_project_id)
               IS DISTINCT FROM
               (EXCLUDED.name, EXCLUDED.description, EXCLUDED.category_key, EXCLUDED.category_name, EXCLUDED.icon_url,
                EXCLUDED.scope_project_id)",
    )
    .bind(tenant)
    .bind(integration)
    .bind(column(&rows, |r| r.external_id.clone()))
    .bind(column(&rows, |r| r.name.clone()))
    .bind(column(&rows, |r| r.description.clone()))
    .bind(column(&rows, |r| r.category_key.clone()))
    .bind(column(&rows, |r| r.category_name.clone()))
    .bind(column(&rows, |r| r.icon_url.clone()))
    .bind(column(&rows, |r| r.scope_project_id.clone()))
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

pub async fn project_statuses(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::ProjectStatusRow],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let rows = dedupe(rows, |r| {
        (
            r.project_external_id.clone(),
            r.work_item_type_external_id.clone(),
            r.status_external_id.clone(),
        )
    });
    let result = sqlx::query(
        "INSERT INTO projects_statuses (tenant_id, integration_id, project_external_id, wit_external_id, status_external_id, status_name)
         SELECT $1, $2, * FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[])
         ON CONFLICT (tenant_id, integration_id, project_external_id, wit_external_id, status_external_id) DO UPDATE SET
             status_name = EXCLUDED.status_name, updated_at = now()
         WHERE projects_statuses.status_name IS DISTINCT FROM EXCLUDED.status_name",
    )
    .bind(tenant)
    .bind(integration)
    .bind(column(&rows, |r| r.project_external_id.clone()))
    .bind(column(&rows, |r| r.work_item_type_external_id.clone()))
    .bind(column(&rows, |r| r.status_external_id.clone()))
    .bind(column(&rows, |r| r.status_name.clone()))
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}
