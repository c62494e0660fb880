//! Bulk upserts of Jira issues, their changelogs and discovered fields (UNNEST, one statement
//! per table per batch). `work_items` is guarded by `updated`: an older version of an issue
//! never overwrites a newer one, so out-of-order redelivery cannot regress data.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use sluice_proto::v1 as pb;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

/// Text columns of work_items, in the order they are bound.
const TEXT_COLUMNS: [&str; 20] = [
    "external_id",
    "key",
    "project_external_id",
    "project_key",
    "summary",
    "description_text",
    "status_external_id",
    "status_name",
    "status_category_key",
    "wit_external_id",
    "wit_name",
    "priority",
    "assignee_account_id",
    "assignee_name",
    "reporter_account_id",
    "reporter_name",
    "resolution",
    "parent_key",
    "epic_key",
    "sprint",
];

fn custom_column(n: usize) -> String {
    format!("custom_field_{n:02}")
}

/// The work_items upsert, built once from the column lists above.
fn work_items_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let mut columns: Vec<String> = TEXT_COLUMNS.iter().map(|c| c.to_string()).collect();
        let mut params: Vec<String> = (0..TEXT_COLUMNS.len()).map(|i| format!("${}::text[]", i + 3)).collect();
        let mut aliases: Vec<String> = TEXT_COLUMNS.iter().map(|c| format!("u_{c}")).collect();
        let mut selects: Vec<String> = aliases.clone();
        let mut next = TEXT_COLUMNS.len() + 3;
        let mut add = |column: &str, param_type: &str, select: &str| {
            columns.push(column.to_string());
            params.push(format!("${next}::{param_type}"));
            aliases.push(format!("u_{column}"));
            selects.push(select.replace("{}", &format!("u_{column}")));
            next += 1;
        };
        add("created", "bigint[]", "to_timestamp({} / 1000.0)");
        add("updated", "bigint[]", "to_timestamp({} / 1000.0)");
        add("resolution_date", "bigint[]", "to_timestamp({} / 1000.0)");
        add("labels", "text[]", "ARRAY(SELECT jsonb_array_elements_text({}::jsonb))");
        add("components", "text[]", "ARRAY(SELECT jsonb_array_elements_text({}::jsonb))");
        add("fix_versions", "text[]", "ARRAY(SELECT jsonb_array_elements_text({}::jsonb))");
        add("story_points", "float8[]", "{}");
        add("team", "text[]", "{}");
        for n in 1..=20 {
            add(&custom_column(n), "text[]", "{}::jsonb");
        }
        add("custom_fields_overflow", "text[]", "{}::jsonb");
        let compared_current: Vec<String> = columns.iter().map(|c| format!("work_items.{c}")).collect();
        let compared_new: Vec<String> = columns.iter().map(|c| format!("EXCLUDED.{c}")).collect();
        let updates: Vec<String> = columns.iter().skip(1).map(|c| format!("{c} = EXCLUDED.{c}")).collect();
        format!(
            "INSERT INTO work_items (tenant_id, integration_id, {columns})
             SELECT $1, $2, {selects} FROM UNNEST({params}) AS u({aliases})
             ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE SET {updates},
                 last_loaded_at = now(),
                 deleted_at = CASE WHEN EXCLUDED.updated > work_items.updated THEN NULL ELSE work_items.deleted_at END,
                 deleted_by_listing = CASE WHEN EXCLUDED.updated > work_items.updated THEN NULL ELSE work_items.deleted_by_listing END
             WHERE work_items.updated <= EXCLUDED.updated
               AND ({current}) IS DISTINCT FROM ({new})
             RETURNING external_id, xmax = 0",
            columns = columns.join(", "),
            selects = selects.join(", "),
            params = params.join(", "),
            aliases = aliases.join(", "),
            updates = updates.join(", "),
            current = compared_current.join(", "),
            new = compared_new.join(", "),
        )
    })
}

fn json_list(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

/// What a work_items upsert did.
#[derive(Debug, Default)]
pub struct WorkItemsWritten {
    pub rows: u64,
    /// The highest `updated` in the batch: the run's cursor candidate.
    pub max_updated: Option<i64>,
    /// Issues this statement inserted (they had no row before): none of their changelog
    /// rows can exist yet either.
    pub fresh: HashSet<String>,
}

/// Upserts work items.
pub async fn work_items(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::WorkItemRow],
) -> Result<WorkItemsWritten, sqlx::Error> {
    if rows.is_empty() {
        return Ok(WorkItemsWritten::default());
    }
    // The newest version of each issue in the batch, in key order.
    let mut newest: BTreeMap<&str, &pb::WorkItemRow> = BTreeMap::new();
    for row in rows {
        match newest.get(row.external_id.as_str()) {
            Some(kept) if kept.updated_ms > row.updated_ms => {}
            _ => {
                newest.insert(&row.external_id, row);
            }
        }
    }
    let rows: Vec<&pb::WorkItemRow> = newest.into_values().collect();
    let max_updated = rows.iter().map(|r| r.updated_ms).max();
    let text = |f: fn(&pb::WorkItemRow) -> &String| {
        rows.iter().map(|r| f(r).as_str()).collect::<Vec<&str>>()
    };
    let mut query = sqlx::query(sqlx::AssertSqlSafe(work_items_sql()))
        .bind(tenant)
        .bind(integration)
        .bind(text(|r| &r.external_id))
        .bind(text(|r| &r.key))
        .bind(text(|r| &r.project_external_id))
        .bind(text(|r| &r.project_key))
        .bind(text(|r| &r.summary))
        .bind(text(|r| &r.description_text))
        .bind(text(|r| &r.status_external_id))
        .bind(text(|r| &r.status_name))
        .bind(text(|r| &r.status_category_key))
        .bind(text(|r| &r.wit_external_id))
        .bind(text(|r| &r.wit_name))
        .bind(text(|r| &r.priority))
        .bind(text(|r| &r.assignee_account_id))
        .bind(text(|r| &r.assignee_name))
        .bind(text(|r| &r.reporter_account_id))
        .bind(text(|r| &r.reporter_name))
        .bind(text(|r| &r.resolution))
        .bind(text(|r| &r.parent_key))
        .bind(text(|r| &r.epic_key))
        .bind(text(|r| &r.sprint))
        .bind(
            rows.iter()
                .map(|r| r.created_ms)
                .collect::<Vec<Option<i64>>>(),
        )
        .bind(rows.iter().map(|r| r.updated_ms).collect::<Vec<i64>>())
        .bind(
            rows.iter()
                .map(|r| r.resolution_date_ms)
                .collect::<Vec<Option<i64>>>(),
        )
        .bind(
            rows.iter()
                .map(|r| json_list(&r.labels))
                .collect::<Vec<String>>(),
        )
        .bind(
            rows.iter()
                .map(|r| json_list(&r.components))
                .collect::<Vec<String>>(),
        )
        .bind(
            rows.iter()
                .map(|r| json_list(&r.fix_versions))
                .collect::<Vec<String>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.story_points)
                .collect::<Vec<Option<f64>>>(),
        )
        .bind(text(|r| &r.team));
    for n in 1..=20 {
        query = query.bind(
            rows.iter()
                .map(|r| r.custom_columns.get(&n).map(String::as_str))
                .collect::<Vec<Option<&str>>>(),
        );
    }
    let overflow: Vec<&str> = rows
        .iter()
        .map(|r| {
            if r.overflow_json.is_empty() {
                "{}"
            } else {
                r.overflow_json.as_str()
            }
        })
        .collect();
    let written: Vec<(String, bool)> = query
        .bind(overflow)
        .try_map(|row: sqlx::postgres::PgRow| {
            use sqlx::Row as _;
            Ok((
                row.try_get(0)?,
                row.try_get::<Option<bool>, _>(1)?.unwrap_or(false),
            ))
        })
        .fetch_all(&mut **tx)
        .await?;
    Ok(WorkItemsWritten {
        rows: written.len() as u64,
        max_updated,
        fresh: written
            .into_iter()
            .filter_map(|(id, inserted)| inserted.then_some(id))
            .collect(),
    })
}

/// Changelog rows. Those of issues in `fresh` (inserted by this transaction, so with no
/// history stored) are inserted plainly; the rest skip what is already stored (ON CONFLICT DO
/// NOTHING; history items never change). A speculative insert costs ~40% more per row, and a
/// full sync's rows are nearly all fresh. Pass an empty `fresh` to take the safe path only.
pub async fn changelogs(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::WorkItemChangelogRow],
    fresh: &HashSet<String>,
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    // History items never change once written: the first copy wins.
    let mut unique: BTreeMap<(&str, &str, i32), &pb::WorkItemChangelogRow> = BTreeMap::new();
    for row in rows {
        unique
            .entry((&row.work_item_external_id, &row.history_id, row.item_index))
            .or_insert(row);
    }
    let (new, known): (
        Vec<&pb::WorkItemChangelogRow>,
        Vec<&pb::WorkItemChangelogRow>,
    ) = unique
        .into_values()
        .partition(|r| fresh.contains(&r.work_item_external_id));
    Ok(insert_changelogs(tx, tenant, integration, &new, "").await?
        + insert_changelogs(tx, tenant, integration, &known, "ON CONFLICT DO NOTHING").await?)
}

async fn insert_changelogs(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[&pb::WorkItemChangelogRow],
    on_conflict: &'static str,
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let text = |f: fn(&pb::WorkItemChangelogRow) -> &String| {
        rows.iter().map(|r| f(r).as_str()).collect::<Vec<&str>>()
    };
    let optional = |f: fn(&pb::WorkItemChangelogRow) -> &Option<String>| {
        rows.iter()
            .map(|r| f(r).as_deref())
            .collect::<Vec<Option<&str>>>()
    };
    let sql = format!(
        "INSERT INTO work_item_changelogs (tenant_id, integration_id, work_item_external_id, history_id, item_index,
             work_item_key, field, field_id, field_type, from_value, from_string, to_value, to_string,
             author_account_id, author_name, changed_at)
         SELECT $1, $2, u.a, u.b, u.c, u.d, u.e, u.f, u.g, u.h, u.i, u.j, u.k, u.l, u.m, to_timestamp(u.n / 1000.0)
         FROM UNNEST($3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                     $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::bigint[])
              AS u(a, b, c, d, e, f, g, h, i, j, k, l, m, n)
         {on_conflict}"
    );
    let result = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant)
        .bind(integration)
        .bind(text(|r| &r.work_item_external_id))
        .bind(text(|r| &r.history_id))
        .bind(rows.iter().map(|r| r.item_index).collect::<Vec<i32>>())
        .bind(text(|r| &r.work_item_key))
        .bind(text(|r| &r.field))
        .bind(text(|r| &r.field_id))
        .bind(text(|r| &r.field_type))
        .bind(optional(|r| &r.from_value))
        .bind(optional(|r| &r.from_string))
        .bind(optional(|r| &r.to_value))
        .bind(optional(|r| &r.to_string))
        .bind(text(|r| &r.author_account_id))
        .bind(text(|r| &r.author_name))
        .bind(rows.iter().map(|r| r.changed_at_ms).collect::<Vec<i64>>())
        .execute(&mut **tx)
        .await?;
    Ok(result.rows_affected())
}

pub async fn custom_fields(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::CustomFieldRow],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    // One row per (project, field): the issue types that offer it are merged.
    let mut unique: BTreeMap<(&str, &str), pb::CustomFieldRow> = BTreeMap::new();
    for row in rows {
        match unique.get_mut(&(row.project_key.as_str(), row.field_id.as_str())) {
            Some(merged) => {
                merged.required |= row.required;
                for id in &row.issue_type_ids {
                    if !merged.issue_type_ids.contains(id) {
                        merged.issue_type_ids.push(id.clone());
                    }
                }
            }
            None => {
                unique.insert((&row.project_key, &row.field_id), row.clone());
            }
        }
    }
    let rows: Vec<&pb::CustomFieldRow> = unique.values().collect();
    let text = |f: fn(&pb::CustomFieldRow) -> &String| {
        rows.iter().map(|r| f(r).as_str()).collect::<Vec<&str>>()
    };
    let result = sqlx::query(
        "INSERT INTO projects_custom_fields (tenant_id, integration_id, project_key, field_id, name, custom, schema_type,
             schema_items, custom_type, required, allowed_values, issue_type_ids)
         SELECT $1, $2, u.a, u.b, u.c, u.d, u.e, u.f, u.g, u.h, u.i::jsonb,
                ARRAY(SELECT jsonb_array_elements_text(u.j::jsonb))
         FROM UNNEST($3::text[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[], $9::text[], $10::bool[],
                     $11::text[], $12::text[]) AS u(a, b, c, d, e, f, g, h, i, j)
         ON CONFLICT (tenant_id, integration_id, project_key, field_id) DO UPDATE SET
             name = EXCLUDED.name, custom = EXCLUDED.custom, schema_type = EXCLUDED.schema_type,
             schema_items = EXCLUDED.schema_items, custom_type = EXCLUDED.custom_type,
             allowed_values = EXCLUDED.allowed_values,
             -- pages of one discovery cover one issue type each: accumulate them
             issue_type_ids = ARRAY(SELECT DISTINCT unnest(projects_custom_fields.issue_type_ids || EXCLUDED.issue_type_ids) ORDER BY 1),
             required = projects_custom_fields.required OR EXCLUDED.required,
             discovered_at = now()
         WHERE (projects_custom_fields.name, projects_custom_fields.custom, projects_custom_fields.schema_type,
                projects_custom_fields.schema_items, projects_custom_fields.custom_type,
                projects_custom_fields.allowed_values)
               IS DISTINCT FROM
               (EXCLUDED.name, EXCLUDED.custom, EXCLUDED.schema_type, EXCLUDED.schema_items, EXCLUDED.custom_type,
                EXCLUDED.allowed_values)
            OR NOT (EXCLUDED.issue_type_ids <@ projects_custom_fields.issue_type_ids)
            OR (EXCLUDED.required AND NOT projects_custom_fields.required)",
    )
    .bind(tenant)
    .bind(integration)
    .bind(text(|r| &r.project_key))
    .bind(text(|r| &r.field_id))
    .bind(text(|r| &r.name))
    .bind(rows.iter().map(|r| r.custom).collect::<Vec<bool>>())
    .bind(text(|r| &r.schema_type))
    .bind(text(|r| &r.schema_items))
    .bind(text(|r| &r.custom_type))
    .bind(rows.iter().map(|r| r.required).collect::<Vec<bool>>())
    .bind(rows.iter().map(|r| if r.allowed_values_json.is_empty() { "[]".to_string() } else { r.allowed_values_json.clone() }).collect::<Vec<String>>())
    .bind(rows.iter().map(|r| json_list(&r.issue_type_ids)).collect::<Vec<String>>())
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

pub async fn dev_status(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::WorkItemDevStatusRow],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut unique: BTreeMap<(&str, &str, &str), &pb::WorkItemDevStatusRow> = BTreeMap::new();
    for row in rows {
        unique.insert((&row.work_item_external_id, &row.kind, &row.ref_id), row);
    }
    let rows: Vec<&pb::WorkItemDevStatusRow> = unique.into_values().collect();
    let text = |f: fn(&pb::WorkItemDevStatusRow) -> &String| {
        rows.iter().map(|r| f(r).as_str()).collect::<Vec<&str>>()
    };
    let result = sqlx::query(
        "INSERT INTO work_item_dev_status (tenant_id, integration_id, work_item_external_id, kind, ref_id, name, status,
             url, repository, author_name, last_update)
         SELECT $1, $2, u.a, u.b, u.c, u.d, u.e, u.f, u.g, u.h, to_timestamp(u.i / 1000.0)
         FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[])
              AS u(a, b, c, d, e, f, g, h, i)
         ON CONFLICT (tenant_id, integration_id, work_item_external_id, kind, ref_id) DO UPDATE SET
             name = EXCLUDED.name, status = EXCLUDED.status, url = EXCLUDED.url, repository = EXCLUDED.repository,
             author_name = EXCLUDED.author_name, last_update = EXCLUDED.last_update
         WHERE (work_item_dev_status.name, work_item_dev_status.status, work_item_dev_status.url,
                work_item_dev_status.repository, work_item_dev_status.author_name, work_item_dev_status.last_update)
               IS DISTINCT FROM
               (EXCLUDED.name, EXCLUDED.status, EXCLUDED.url, EXCLUDED.repository, EXCLUDED.author_name, EXCLUDED.last_update)",
    )
    .bind(tenant)
    .bind(integration)
    .bind(text(|r| &r.work_item_external_id))
    .bind(text(|r| &r.kind))
    .bind(text(|r| &r.ref_id))
    .bind(text(|r| &r.name))
    .bind(text(|r| &r.status))
    .bind(text(|r| &r.url))
    .bind(text(|r| &r.repository))
    .bind(text(|r| &r.author_name))
    .bind(rows.iter().map(|r| r.last_update_ms).collect::<Vec<Option<i64>>>())
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

/// Records one page of a key-only listing; the page that completes the listing (every page
/// from 0 to the last one staged) marks the project's live issues it does not name as
/// deleted. Returns the external ids marked.
pub async fn key_listing(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    listing: &pb::IssueKeyListing,
) -> Result<Vec<String>, sqlx::Error> {
    let Ok(listing_id) = Uuid::parse_str(&listing.listing_id) else {
        return Ok(Vec::new());
    };
    // Pages of one listing are loaded one at a time, so exactly one of them sees it complete.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))")
        .bind(listing_id.to_string())
        .execute(&mut **tx)
        .await?;
    // Already applied (a redelivered or requeued page): its deletions again, for the
    // vectorizer, from what was recorded — never recomputed.
    let done: Option<bool> =
        sqlx::query_scalar("SELECT superseded FROM key_listings_done WHERE listing_id = $1")
            .bind(listing_id)
            .fetch_optional(&mut **tx)
            .await?;
    if done.is_some() {
        tracing::info!(listing = %listing_id, project = %listing.project_key, "key listing already applied; its recorded deletions are sent again");
        return sqlx::query_scalar(
            "SELECT external_id FROM work_items
             WHERE tenant_id = $1 AND integration_id = $2 AND deleted_by_listing = $3
               AND deleted_at IS NOT NULL",
        )
        .bind(tenant)
        .bind(integration)
        .bind(listing_id)
        .fetch_all(&mut **tx)
        .await;
    }
    sqlx::query(
        "INSERT INTO work_item_key_listing_pages
             (listing_id, page, tenant_id, integration_id, project_key, external_ids, last)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (listing_id, page) DO NOTHING",
    )
    .bind(listing_id)
    .bind(listing.page)
    .bind(tenant)
    .bind(integration)
    .bind(&listing.project_key)
    .bind(&listing.external_ids)
    .bind(listing.last)
    .execute(&mut **tx)
    .await?;
    let (pages, highest, has_last): (i64, Option<i32>, Option<bool>) = sqlx::query_as(
        "SELECT count(*), max(page), bool_or(last) FROM work_item_key_listing_pages
         WHERE listing_id = $1",
    )
    .bind(listing_id)
    .fetch_one(&mut **tx)
    .await?;
    if has_last != Some(true) || Some(pages) != highest.map(|h| i64::from(h) + 1) {
        return Ok(Vec::new());
    }
    let staged: Vec<Vec<String>> = sqlx::query_scalar(
        "DELETE FROM work_item_key_listing_pages WHERE listing_id = $1 RETURNING external_ids",
    )
    .bind(listing_id)
    .fetch_all(&mut **tx)
    .await?;
    let listed: HashSet<&str> = staged.iter().flatten().map(String::as_str).collect();
    // A listing that does not say when it began (queued before this rule) deletes nothing:
    // it cannot tell the rows it never saw from rows created after it.
    let Some(listed_at) = listing
        .listed_at_ms
        .and_then(chrono::DateTime::<chrono::Utc>::from_timestamp_millis)
    else {
        return Ok(Vec::new());
    };
    let newer_applied: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM key_listings_done
                        WHERE integration_id = $1 AND project_key = $2 AND listed_at > $3
                          AND NOT superseded)",
    )
    .bind(integration)
    .bind(&listing.project_key)
    .bind(listed_at)
    .fetch_one(&mut **tx)
    .await?;
    let marked = if newer_applied {
        Vec::new()
    } else {
        let scope = Listing {
            tenant,
            integration,
            listing_id,
            project_key: &listing.project_key,
            listed_at,
        };
        mark_unlisted(tx, &scope, &listed).await?
    };
    sqlx::query(
        "INSERT INTO key_listings_done
             (listing_id, tenant_id, integration_id, project_key, listed_at, marked, superseded)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(listing_id)
    .bind(tenant)
    .bind(integration)
    .bind(&listing.project_key)
    .bind(listed_at)
    .bind(marked.len() as i32)
    .bind(newer_applied)
    .execute(&mut **tx)
    .await?;
    Ok(marked)
}

/// A complete key listing of one project.
struct Listing<'a> {
    tenant: Uuid,
    integration: Uuid,
    listing_id: Uuid,
    project_key: &'a str,
    /// When the connector began listing (database clock).
    listed_at: chrono::DateTime<chrono::Utc>,
}

/// Marks deleted the project's live rows the complete listing does not name, among those
/// loaded before the listing began (a row loaded since may be an issue created after it).
async fn mark_unlisted(
    tx: &mut Transaction<'_, Postgres>,
    listing: &Listing<'_>,
    listed: &HashSet<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    let live: Vec<String> = sqlx::query_scalar(
        "SELECT external_id FROM work_items
         WHERE tenant_id = $1 AND integration_id = $2 AND project_key = $3 AND deleted_at IS NULL
           AND last_loaded_at < $4",
    )
    .bind(listing.tenant)
    .bind(listing.integration)
    .bind(listing.project_key)
    .bind(listing.listed_at)
    .fetch_all(&mut **tx)
    .await?;
    // Compared here, in one pass over each side: no plan can turn it quadratic.
    let gone: Vec<&str> = live
        .iter()
        .map(String::as_str)
        .filter(|id| !listed.contains(id))
        .collect();
    if gone.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "UPDATE work_items SET deleted_at = now(), deleted_by_listing = $4
         WHERE tenant_id = $1 AND integration_id = $2 AND external_id = ANY($3)
           AND deleted_at IS NULL
         RETURNING external_id",
    )
    .bind(listing.tenant)
    .bind(listing.integration)
    .bind(&gone)
    .bind(listing.listing_id)
    .fetch_all(&mut **tx)
    .await
}
