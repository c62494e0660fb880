//! Which issue fields to request: the base fields, every mapped custom field, and the custom
//! fields with a meaning (story points, sprint, epic link, team) — never `*all`.

use sqlx::PgPool;
use uuid::Uuid;

use crate::jira::issues::BASE_FIELDS;

pub async fn requested(
    pool: &PgPool,
    tenant_id: Uuid,
    integration_id: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    let mut fields: Vec<String> = BASE_FIELDS.iter().map(|f| f.to_string()).collect();
    let mapped: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT entry->>'field_id' FROM integrations i,
             LATERAL (SELECT jsonb_array_elements(COALESCE(i.custom_field_mappings->'default', '[]')) AS entry
                      UNION ALL
                      SELECT jsonb_array_elements(p.value) FROM jsonb_each(COALESCE(i.custom_field_mappings->'projects', '{}')) p) e
         WHERE i.id = $1 AND i.tenant_id = $2 AND entry->>'field_id' IS NOT NULL",
    )
    .bind(integration_id)
    .bind(tenant_id)
    .fetch_all(pool)
    .await?;
    let meaningful: Vec<String> = sqlx::query_scalar(
        "SELECT field_id FROM projects_custom_fields
         WHERE tenant_id = $1 AND integration_id = $2 AND project_key = ''
           AND (custom_type LIKE '%:gh-sprint' OR custom_type LIKE '%:gh-epic-link' OR custom_type LIKE '%:jsw-story-points'
                OR custom_type LIKE '%:atlassian-team' OR custom_type LIKE '%rm-teams%'
                OR (schema_type = 'number' AND lower(name) IN ('story points', 'story point estimate')))",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_all(pool)
    .await?;
    for field in mapped.into_iter().chain(meaningful) {
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    Ok(fields)
}
