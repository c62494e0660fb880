//! Custom field mappings: up to 20 dedicated columns (`custom_field_01`..`custom_field_20`)
//! plus any number of overflow fields (`custom_fields_overflow`, keyed by field name), per
//! integration and optionally per project. Stored in `integrations.custom_field_mappings`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sluice_plumbing::settings::is_valid_jira_project_key;
use sluice_proto::v1 as pb;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::{OrchestratorError, Result};

pub const DEDICATED_COLUMNS: i32 = 20;

/// The JSON stored in `integrations.custom_field_mappings`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredMappings {
    /// Integration-wide mapping.
    #[serde(default)]
    pub default: Vec<MappedField>,
    /// Per-project mappings; a project with an entry here uses it instead of the default.
    #[serde(default)]
    pub projects: BTreeMap<String, Vec<MappedField>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappedField {
    pub field_id: String,
    /// 1..=20 for a dedicated column, 0 for the overflow JSONB.
    pub column: i32,
}

fn is_valid_field_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// Checks a mapping; `known` is the discovered field ids (None when discovery has not run).
pub fn validate(
    entries: &[pb::FieldMappingEntry],
    known: Option<&HashMap<String, String>>,
    force: bool,
) -> Result<Vec<MappedField>> {
    let dedicated = entries.iter().filter(|e| e.column != 0).count();
    if dedicated > DEDICATED_COLUMNS as usize {
        return Err(OrchestratorError::invalid(
            "mapping.entries",
            format!(
                "{dedicated} fields mapped to dedicated columns; at most {DEDICATED_COLUMNS} (map the rest to column 0, the overflow)"
            ),
        ));
    }
    let mut by_column: HashMap<i32, &str> = HashMap::new();
    let mut by_field: HashMap<&str, usize> = HashMap::new();
    let mut mapped = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let field_id = entry.field_id.trim();
        if !is_valid_field_id(field_id) {
            return Err(OrchestratorError::invalid(
                format!("mapping.entries[{i}].field_id"),
                format!(
                    "{:?} is not a Jira field id (e.g. customfield_10016)",
                    entry.field_id
                ),
            ));
        }
        if !(0..=DEDICATED_COLUMNS).contains(&entry.column) {
            return Err(OrchestratorError::invalid(
                format!("mapping.entries[{i}].column"),
                format!(
                    "{} is out of range: 1..{DEDICATED_COLUMNS} for a dedicated column, 0 for the overflow",
                    entry.column
                ),
            ));
        }
        if let Some(first) = by_field.insert(field_id, i) {
            return Err(OrchestratorError::invalid(
                format!("mapping.entries[{i}].field_id"),
                format!("{field_id} is already mapped by entries[{first}]"),
            ));
        }
        if entry.column != 0
            && let Some(other) = by_column.insert(entry.column, field_id)
        {
            return Err(OrchestratorError::invalid(
                format!("mapping.entries[{i}].column"),
                format!("column {} is already used by {other}", entry.column),
            ));
        }
        match known {
            Some(known) if !known.contains_key(field_id) => {
                return Err(OrchestratorError::invalid(
                    format!("mapping.entries[{i}].field_id"),
                    format!(
                        "{field_id} is not a field of this Jira site (as of the last discovery)"
                    ),
                ));
            }
            None if !force => {
                return Err(OrchestratorError::invalid(
                    format!("mapping.entries[{i}].field_id"),
                    format!(
                        "{field_id} cannot be checked: custom field discovery has not run (run DiscoverCustomFields, or set force)"
                    ),
                ));
            }
            _ => {}
        }
        mapped.push(MappedField {
            field_id: field_id.to_string(),
            column: entry.column,
        });
    }
    Ok(mapped)
}

async fn load(pool: &PgPool, tenant_id: Uuid, integration_id: Uuid) -> Result<StoredMappings> {
    let value: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT custom_field_mappings FROM integrations WHERE id = $1 AND tenant_id = $2",
    )
    .bind(integration_id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?;
    let value = value.ok_or(OrchestratorError::NotFound {
        what: "integration",
        id: integration_id.to_string(),
    })?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

/// Field ids → names discovered for the integration (site-wide and the project's), or None
/// when discovery has not run.
async fn discovered(
    pool: &PgPool,
    tenant_id: Uuid,
    integration_id: Uuid,
    project_key: &str,
) -> Result<Option<HashMap<String, String>>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT field_id, name FROM projects_custom_fields
         WHERE tenant_id = $1 AND integration_id = $2 AND project_key IN ('', $3)",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(project_key)
    .fetch_all(pool)
    .await?;
    Ok((!rows.is_empty()).then(|| rows.into_iter().collect()))
}

fn project_key_arg(project_key: &str) -> Result<&str> {
    let key = project_key.trim();
    if !key.is_empty() && !is_valid_jira_project_key(key) {
        return Err(OrchestratorError::invalid(
            "project_key",
            format!("{key:?} is not a Jira project key"),
        ));
    }
    Ok(key)
}

fn to_proto(integration_id: Uuid, project_key: &str, fields: &[MappedField]) -> pb::FieldMapping {
    pb::FieldMapping {
        integration_id: integration_id.to_string(),
        project_key: project_key.to_string(),
        entries: fields
            .iter()
            .map(|f| pb::FieldMappingEntry {
                field_id: f.field_id.clone(),
                column: f.column,
            })
            .collect(),
    }
}

pub async fn get_mapping(
    pool: &PgPool,
    tenant_id: Uuid,
    integration_id: Uuid,
    project_key: &str,
) -> Result<pb::FieldMapping> {
    let project_key = project_key_arg(project_key)?;
    let stored = load(pool, tenant_id, integration_id).await?;
    let fields = match project_key {
        "" => &stored.default,
        key => stored.projects.get(key).unwrap_or(&stored.default),
    };
    Ok(to_proto(integration_id, project_key, fields))
}

/// Saves a mapping; answers it with the mapped fields no earlier mapping had (see
/// `SetFieldMappingResponse.unfetched_field_ids`).
pub async fn set_mapping(
    pool: &PgPool,
    tenant_id: Uuid,
    request: pb::SetFieldMappingRequest,
) -> Result<(pb::FieldMapping, Vec<String>)> {
    let mapping = request
        .mapping
        .ok_or_else(|| OrchestratorError::invalid("mapping", "is required"))?;
    let integration_id = crate::jobs::parse("mapping.integration_id", &mapping.integration_id)?;
    let project_key = project_key_arg(&mapping.project_key)?.to_string();
    let mut stored = load(pool, tenant_id, integration_id).await?;
    let known = discovered(pool, tenant_id, integration_id, &project_key).await?;
    let fields = validate(&mapping.entries, known.as_ref(), request.force)?;
    // Syncs ask Jira only for mapped (and well-known) fields: a field no mapping had before is
    // not in the stored pages.
    let before: std::collections::BTreeSet<&str> = stored
        .default
        .iter()
        .chain(stored.projects.values().flatten())
        .map(|f| f.field_id.as_str())
        .collect();
    let unfetched: Vec<String> = fields
        .iter()
        .filter(|f| !before.contains(f.field_id.as_str()))
        .map(|f| f.field_id.clone())
        .collect();
    if project_key.is_empty() {
        stored.default = fields.clone();
    } else {
        stored.projects.insert(project_key.clone(), fields.clone());
    }
    let json =
        serde_json::to_value(&stored).map_err(|e| OrchestratorError::Internal(e.to_string()))?;
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE integrations SET custom_field_mappings = $3, updated_at = now() WHERE id = $1 AND tenant_id = $2")
        .bind(integration_id)
        .bind(tenant_id)
        .bind(json)
        .execute(&mut *tx)
        .await?;
    if !unfetched.is_empty() {
        // The next issues sync fetches every issue again, with the new fields.
        sqlx::query(
            "DELETE FROM sync_cursors WHERE tenant_id = $1 AND job_id IN
                 (SELECT id FROM etl_jobs WHERE integration_id = $2 AND job_type = 'jira_issues')",
        )
        .bind(tenant_id)
        .bind(integration_id)
        .execute(&mut *tx)
        .await?;
        tracing::info!(%integration_id, fields = ?unfetched, "newly mapped fields: the next issues sync is a full one");
    }
    tx.commit().await?;
    Ok((to_proto(integration_id, &project_key, &fields), unfetched))
}

pub async fn list_discovered(
    pool: &PgPool,
    tenant_id: Uuid,
    integration_id: Uuid,
    project_key: &str,
) -> Result<Vec<pb::DiscoveredField>> {
    let project_key = project_key_arg(project_key)?;
    crate::integrations::get(pool, tenant_id, integration_id).await?;
    let rows: Vec<DiscoveredRow> = sqlx::query_as(
        "SELECT project_key, field_id, name, schema_type, custom_type, required, allowed_values, issue_type_ids, discovered_at, custom
         FROM projects_custom_fields
         WHERE tenant_id = $1 AND integration_id = $2 AND ($3 = '' OR project_key = $3)
         ORDER BY project_key, field_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(project_key)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| pb::DiscoveredField {
            field_id: r.field_id,
            name: r.name,
            schema_type: r.schema_type,
            custom_type: r.custom_type,
            required: r.required,
            allowed_values: r
                .allowed_values
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            issue_type_ids: r.issue_type_ids,
            project_key: r.project_key,
            discovered_at: Some(crate::convert::timestamp(r.discovered_at)),
            custom: r.custom,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct DiscoveredRow {
    project_key: String,
    field_id: String,
    name: String,
    schema_type: String,
    custom_type: String,
    required: bool,
    allowed_values: serde_json::Value,
    issue_type_ids: Vec<String>,
    discovered_at: chrono::DateTime<chrono::Utc>,
    custom: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(field_id: &str, column: i32) -> pb::FieldMappingEntry {
        pb::FieldMappingEntry {
            field_id: field_id.into(),
            column,
        }
    }

    fn message(
        entries: &[pb::FieldMappingEntry],
        known: Option<&HashMap<String, String>>,
        force: bool,
    ) -> String {
        validate(entries, known, force).unwrap_err().to_string()
    }

    #[test]
    fn mapping_validation_names_the_problem() {
        let known: HashMap<String, String> = (1..=30)
            .map(|i| (format!("customfield_{i}"), format!("Field {i}")))
            .collect();
        let known = Some(&known);
        assert!(
            validate(
                &[entry("customfield_1", 1), entry("customfield_2", 0)],
                known,
                false
            )
            .is_ok()
        );
        assert!(
            message(&[entry("customfield_1", 21)], known, false)
                .starts_with("mapping.entries[0].column: 21 is out of range")
        );
        assert!(message(&[entry("customfield_1", -1)], known, false).contains("out of range"));
        assert!(
            message(
                &[entry("customfield_1", 3), entry("customfield_2", 3)],
                known,
                false
            )
            .starts_with("mapping.entries[1].column: column 3 is already used by customfield_1")
        );
        assert!(
            message(
                &[entry("customfield_1", 3), entry("customfield_1", 0)],
                known,
                false
            )
            .starts_with("mapping.entries[1].field_id: customfield_1 is already mapped")
        );
        let many: Vec<_> = (1..=21)
            .map(|i| entry(&format!("customfield_{i}"), (i % 20) + 1))
            .collect();
        assert!(message(&many, known, false).contains("at most 20"));
        assert!(
            message(&[entry("customfield_99", 1)], known, false)
                .contains("not a field of this Jira site")
        );
        assert!(message(&[entry("bad id!", 1)], known, false).contains("not a Jira field id"));
    }

    #[test]
    fn unknown_fields_need_force_before_discovery() {
        assert!(
            message(&[entry("customfield_99", 1)], None, false).contains("discovery has not run")
        );
        assert!(validate(&[entry("customfield_99", 1)], None, true).is_ok());
    }
}
