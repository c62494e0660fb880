//! Reads of work items and pull requests: filtered lists paged by position (keyset), and one
//! item with everything known about it. Always scoped to the caller's tenant; a bad filter or
//! page token is INVALID_ARGUMENT naming the field.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sluice_proto::v1 as pb;
use sqlx::PgPool;
use uuid::Uuid;

use crate::convert::{opt_timestamp, timestamp};
use crate::error::{OrchestratorError, Result};

const STATUS_CATEGORIES: [&str; 3] = ["new", "indeterminate", "done"];
const PR_STATES: [&str; 3] = ["open", "closed", "merged"];

/// A position in a list ordered newest first: the last item's (time, integration, id).
#[derive(Serialize, Deserialize)]
struct Position {
    /// Microseconds since the epoch.
    t: i64,
    i: Uuid,
    /// The external id (work items) or "repository id/number" (pull requests).
    e: String,
}

fn encode_position(position: &Position) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(position).unwrap_or_default())
}

fn decode_position(token: &str) -> Result<Option<Position>> {
    if token.is_empty() {
        return Ok(None);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .map(Some)
        .ok_or_else(|| {
            OrchestratorError::invalid(
                "page.page_token",
                "is not a token this list returned (pass next_page_token back unchanged)",
            )
        })
}

fn page_size(page: Option<&pb::PageRequest>) -> Result<i64> {
    match page.map(|p| p.page_size).unwrap_or(0) {
        0 => Ok(50),
        size @ 1..=500 => Ok(i64::from(size)),
        _ => Err(OrchestratorError::invalid(
            "page.page_size",
            "must be between 1 and 500 (0 for 50)",
        )),
    }
}

fn optional_uuid(field: &str, value: &str) -> Result<Option<Uuid>> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    crate::jobs::parse(field, value).map(Some)
}

/// A time range's ends, each optional.
type Bounds = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn time_range(range: Option<&pb::TimeRange>) -> Result<Bounds> {
    let at = |t: Option<&prost_types::Timestamp>, field: &str| -> Result<Option<DateTime<Utc>>> {
        match t {
            None => Ok(None),
            Some(t) => DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
                .map(Some)
                .ok_or_else(|| OrchestratorError::invalid(field, "is not a valid time")),
        }
    };
    let from = at(range.and_then(|r| r.from.as_ref()), "updated.from")?;
    let to = at(range.and_then(|r| r.to.as_ref()), "updated.to")?;
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return Err(OrchestratorError::invalid(
            "updated",
            "from must be before to",
        ));
    }
    Ok((from, to))
}

/// `text` as an ILIKE pattern matching it anywhere, its wildcards escaped.
fn contains_pattern(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    Some(format!("%{escaped}%"))
}

#[derive(sqlx::FromRow)]
struct WorkItemRecord {
    integration_id: Uuid,
    external_id: String,
    key: String,
    summary: String,
    status_name: String,
    status_category_key: String,
    wit_name: String,
    project_key: String,
    assignee_name: String,
    assignee_account_id: String,
    reporter_name: String,
    priority: String,
    created: Option<DateTime<Utc>>,
    updated: DateTime<Utc>,
    description_text: String,
    resolution_date: Option<DateTime<Utc>>,
    resolution: String,
    parent_key: String,
    epic_key: String,
    labels: Vec<String>,
    components: Vec<String>,
    fix_versions: Vec<String>,
    sprint: String,
    story_points: Option<f64>,
    team: String,
    deleted_at: Option<DateTime<Utc>>,
    base_url: String,
}

const WORK_ITEM_COLUMNS: &str = "w.integration_id, w.external_id, w.key, w.summary, w.status_name,
    w.status_category_key, w.wit_name, w.project_key, w.assignee_name, w.assignee_account_id,
    w.reporter_name, w.priority, w.created, w.updated, w.description_text, w.resolution_date,
    w.resolution, w.parent_key, w.epic_key, w.labels, w.components, w.fix_versions, w.sprint,
    w.story_points, w.team, w.deleted_at, i.base_url";

impl WorkItemRecord {
    fn to_proto(&self) -> pb::WorkItem {
        pb::WorkItem {
            integration_id: self.integration_id.to_string(),
            external_id: self.external_id.clone(),
            key: self.key.clone(),
            summary: self.summary.clone(),
            status: self.status_name.clone(),
            work_item_type: self.wit_name.clone(),
            project_key: self.project_key.clone(),
            assignee_name: self.assignee_name.clone(),
            created: opt_timestamp(self.created),
            updated: Some(timestamp(self.updated)),
            description_text: self.description_text.clone(),
            status_category_key: self.status_category_key.clone(),
            priority: self.priority.clone(),
            reporter_name: self.reporter_name.clone(),
            resolution_date: opt_timestamp(self.resolution_date),
            resolution: self.resolution.clone(),
            parent_key: self.parent_key.clone(),
            epic_key: self.epic_key.clone(),
            labels: self.labels.clone(),
            components: self.components.clone(),
            fix_versions: self.fix_versions.clone(),
            sprint: self.sprint.clone(),
            story_points: self.story_points,
            team: self.team.clone(),
            deleted_at: opt_timestamp(self.deleted_at),
            url: format!(
                "{}/browse/{}",
                self.base_url.trim_end_matches('/'),
                self.key
            ),
            assignee_account_id: self.assignee_account_id.clone(),
        }
    }
}

pub async fn list_work_items(
    pool: &PgPool,
    tenant_id: Uuid,
    request: &pb::ListWorkItemsRequest,
) -> Result<pb::ListWorkItemsResponse> {
    let integration = optional_uuid("integration_id", &request.integration_id)?;
    let size = page_size(request.page.as_ref())?;
    let after = decode_position(request.page.as_ref().map_or("", |p| p.page_token.as_str()))?;
    for (i, category) in request.status_categories.iter().enumerate() {
        if !STATUS_CATEGORIES.contains(&category.as_str()) {
            return Err(OrchestratorError::invalid(
                format!("status_categories[{i}]"),
                format!("{category:?} is not one of new, indeterminate, done"),
            ));
        }
    }
    let (from, to) = time_range(request.updated.as_ref())?;
    let deleted = pb::DeletedFilter::try_from(request.deleted).map_err(|_| {
        OrchestratorError::invalid(
            "deleted",
            format!("{} is not a DeletedFilter", request.deleted),
        )
    })?;
    let deleted = match deleted {
        pb::DeletedFilter::Unspecified | pb::DeletedFilter::Live => "live",
        pb::DeletedFilter::Deleted => "deleted",
        pb::DeletedFilter::All => "all",
    };
    let (after_time, after_integration, after_id) = match &after {
        Some(p) => (
            DateTime::from_timestamp_micros(p.t),
            Some(p.i),
            Some(p.e.clone()),
        ),
        None => (None, None, None),
    };
    let rows: Vec<WorkItemRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {WORK_ITEM_COLUMNS} FROM work_items w
         JOIN integrations i ON i.id = w.integration_id AND i.tenant_id = w.tenant_id
         WHERE w.tenant_id = $1
           AND ($2::uuid IS NULL OR w.integration_id = $2)
           AND ($3 = '' OR w.project_key = $3)
           AND (cardinality($4::text[]) = 0 OR w.wit_name = ANY($4))
           AND (cardinality($5::text[]) = 0 OR w.status_name = ANY($5))
           AND (cardinality($6::text[]) = 0 OR w.status_category_key = ANY($6))
           AND ($7 = '' OR w.assignee_account_id = $7 OR w.assignee_name = $7)
           AND ($8::timestamptz IS NULL OR w.updated >= $8)
           AND ($9::timestamptz IS NULL OR w.updated < $9)
           AND CASE $10 WHEN 'live' THEN w.deleted_at IS NULL
                        WHEN 'deleted' THEN w.deleted_at IS NOT NULL ELSE true END
           AND ($11::text IS NULL OR w.key ILIKE $11 OR w.summary ILIKE $11 OR w.description_text ILIKE $11)
           AND ($12::timestamptz IS NULL
                OR (w.updated, w.integration_id, w.external_id) < ($12, $13, $14))
         ORDER BY w.updated DESC, w.integration_id DESC, w.external_id DESC
         LIMIT $15"
    )))
    .bind(tenant_id)
    .bind(integration)
    .bind(request.project_key.trim())
    .bind(&request.work_item_types)
    .bind(&request.statuses)
    .bind(&request.status_categories)
    .bind(request.assignee.trim())
    .bind(from)
    .bind(to)
    .bind(deleted)
    .bind(contains_pattern(&request.text))
    .bind(after_time)
    .bind(after_integration)
    .bind(after_id)
    .bind(size + 1)
    .fetch_all(pool)
    .await?;
    let more = rows.len() as i64 > size;
    let rows = &rows[..rows.len().min(size as usize)];
    let next_page_token = match (more, rows.last()) {
        (true, Some(last)) => encode_position(&Position {
            t: last.updated.timestamp_micros(),
            i: last.integration_id,
            e: last.external_id.clone(),
        }),
        _ => String::new(),
    };
    Ok(pb::ListWorkItemsResponse {
        work_items: rows.iter().map(WorkItemRecord::to_proto).collect(),
        next_page_token,
    })
}

pub async fn get_work_item(
    pool: &PgPool,
    tenant_id: Uuid,
    request: &pb::GetWorkItemRequest,
) -> Result<pb::GetWorkItemResponse> {
    let integration = crate::jobs::parse("integration_id", &request.integration_id)?;
    let key = request.key.trim();
    if key.is_empty() {
        return Err(OrchestratorError::invalid(
            "key",
            "is required (e.g. ENG-12)",
        ));
    }
    let item: WorkItemRecord = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {WORK_ITEM_COLUMNS} FROM work_items w
         JOIN integrations i ON i.id = w.integration_id AND i.tenant_id = w.tenant_id
         WHERE w.tenant_id = $1 AND w.integration_id = $2 AND (w.key = $3 OR w.external_id = $3)
         ORDER BY (w.key = $3) DESC LIMIT 1"
    )))
    .bind(tenant_id)
    .bind(integration)
    .bind(key)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| OrchestratorError::NotFound {
        what: "work item",
        id: key.to_string(),
    })?;
    let custom_fields = custom_field_values(pool, tenant_id, integration, &item).await?;
    let changelog: Vec<ChangelogRecord> =
        sqlx::query_as(
            "SELECT history_id, item_index, field, field_id, from_string, to_string, author_name, changed_at
             FROM work_item_changelogs
             WHERE tenant_id = $1 AND integration_id = $2 AND work_item_external_id = $3
             ORDER BY changed_at, history_id, item_index",
        )
        .bind(tenant_id)
        .bind(integration)
        .bind(&item.external_id)
        .fetch_all(pool)
        .await?;
    let dev_status: Vec<DevStatusRecord> = sqlx::query_as(
        "SELECT kind, ref_id, name, status, url, repository, author_name, last_update
             FROM work_item_dev_status
             WHERE tenant_id = $1 AND integration_id = $2 AND work_item_external_id = $3
             ORDER BY kind, last_update DESC NULLS LAST, ref_id",
    )
    .bind(tenant_id)
    .bind(integration)
    .bind(&item.external_id)
    .fetch_all(pool)
    .await?;
    let linked: Vec<PullRequestRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT {PR_COLUMNS} FROM pr_work_item_links l
         JOIN pull_requests p ON p.tenant_id = l.tenant_id AND p.integration_id = l.integration_id
              AND p.repository_id = l.repository_id AND p.number = l.pr_number
         WHERE l.tenant_id = $1 AND l.jira_key = $2
         ORDER BY p.updated_at DESC NULLS LAST, p.integration_id, p.repository_id, p.number"
    )))
    .bind(tenant_id)
    .bind(&item.key)
    .fetch_all(pool)
    .await?;
    Ok(pb::GetWorkItemResponse {
        work_item: Some(item.to_proto()),
        custom_fields,
        changelog: changelog
            .into_iter()
            .map(|c| pb::ChangelogEntry {
                history_id: c.history_id,
                item_index: c.item_index,
                field: c.field,
                field_id: c.field_id,
                from_string: c.from_string.unwrap_or_default(),
                to_string: c.to_string.unwrap_or_default(),
                author_name: c.author_name,
                changed_at: Some(timestamp(c.changed_at)),
            })
            .collect(),
        dev_status: dev_status
            .into_iter()
            .map(|d| pb::DevStatusItem {
                kind: d.kind,
                ref_id: d.ref_id,
                name: d.name,
                status: d.status,
                url: d.url,
                repository: d.repository,
                author_name: d.author_name,
                last_update: opt_timestamp(d.last_update),
            })
            .collect(),
        linked_pull_requests: linked.iter().map(PullRequestRecord::to_proto).collect(),
    })
}

/// The item's mapped custom fields (dedicated columns, under the field's name) then its
/// overflow fields, as the current mapping of its project (else the integration's) says.
async fn custom_field_values(
    pool: &PgPool,
    tenant_id: Uuid,
    integration: Uuid,
    item: &WorkItemRecord,
) -> Result<Vec<pb::CustomFieldValue>> {
    let (mappings, columns, overflow): (serde_json::Value, serde_json::Value, serde_json::Value) =
        sqlx::query_as(
            "SELECT i.custom_field_mappings,
                    jsonb_build_array(w.custom_field_01, w.custom_field_02, w.custom_field_03, w.custom_field_04,
                        w.custom_field_05, w.custom_field_06, w.custom_field_07, w.custom_field_08,
                        w.custom_field_09, w.custom_field_10, w.custom_field_11, w.custom_field_12,
                        w.custom_field_13, w.custom_field_14, w.custom_field_15, w.custom_field_16,
                        w.custom_field_17, w.custom_field_18, w.custom_field_19, w.custom_field_20),
                    w.custom_fields_overflow
             FROM work_items w JOIN integrations i ON i.id = w.integration_id
             WHERE w.tenant_id = $1 AND w.integration_id = $2 AND w.external_id = $3",
        )
        .bind(tenant_id)
        .bind(integration)
        .bind(&item.external_id)
        .fetch_one(pool)
        .await?;
    let names: std::collections::HashMap<String, String> = sqlx::query_as(
        "SELECT field_id, name FROM projects_custom_fields
         WHERE tenant_id = $1 AND integration_id = $2 AND project_key = ''",
    )
    .bind(tenant_id)
    .bind(integration)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let entries = mappings
        .pointer(&format!("/projects/{}", item.project_key))
        .filter(|_| !item.project_key.is_empty())
        .or_else(|| mappings.get("default"))
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    let mut values = Vec::new();
    for entry in &entries {
        let (Some(field_id), Some(column)) = (
            entry.get("field_id").and_then(|v| v.as_str()),
            entry.get("column").and_then(|v| v.as_i64()),
        ) else {
            continue;
        };
        if !(1..=20).contains(&column) {
            continue;
        }
        let value = &columns[(column - 1) as usize];
        if value.is_null() {
            continue;
        }
        values.push(pb::CustomFieldValue {
            field_id: field_id.to_string(),
            name: names
                .get(field_id)
                .cloned()
                .unwrap_or_else(|| field_id.to_string()),
            column: column as i32,
            value_json: value.to_string(),
        });
    }
    let by_name: std::collections::HashMap<&str, &str> = names
        .iter()
        .map(|(id, name)| (name.as_str(), id.as_str()))
        .collect();
    if let Some(object) = overflow.as_object() {
        for (name, value) in object {
            values.push(pb::CustomFieldValue {
                field_id: by_name
                    .get(name.as_str())
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                name: name.clone(),
                column: 0,
                value_json: value.to_string(),
            });
        }
    }
    Ok(values)
}

#[derive(sqlx::FromRow)]
struct ChangelogRecord {
    history_id: String,
    item_index: i32,
    field: String,
    field_id: String,
    from_string: Option<String>,
    to_string: Option<String>,
    author_name: String,
    changed_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct DevStatusRecord {
    kind: String,
    ref_id: String,
    name: String,
    status: String,
    url: String,
    repository: String,
    author_name: String,
    last_update: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct CommitRecord {
    sha: String,
    message: String,
    author_name: String,
    author_login: String,
    authored_at: Option<DateTime<Utc>>,
    html_url: Option<String>,
}

#[derive(sqlx::FromRow)]
struct CommentRecord {
    comment_id: i64,
    kind: String,
    author_login: String,
    body: String,
    path: Option<String>,
    created_at: Option<DateTime<Utc>>,
    html_url: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PullRequestRecord {
    integration_id: Uuid,
    repository_id: i64,
    repository: String,
    number: i64,
    title: String,
    body: String,
    state: String,
    draft: bool,
    merged: bool,
    author_login: String,
    base_ref: String,
    head_ref: String,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    merged_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    additions: Option<i64>,
    deletions: Option<i64>,
    changed_files: Option<i64>,
    merged_by_login: Option<String>,
    html_url: Option<String>,
}

const PR_COLUMNS: &str = "p.integration_id, p.repository_id, p.repository, p.number, p.title, p.body,
    p.state, p.draft, p.merged, p.author_login, p.base_ref, p.head_ref, p.created_at, p.updated_at,
    p.merged_at, p.closed_at, p.additions, p.deletions, p.changed_files, p.merged_by_login, p.html_url";

impl PullRequestRecord {
    fn to_proto(&self) -> pb::PullRequest {
        pb::PullRequest {
            integration_id: self.integration_id.to_string(),
            repository: self.repository.clone(),
            number: self.number,
            title: self.title.clone(),
            state: self.state.clone(),
            author: self.author_login.clone(),
            created_at: opt_timestamp(self.created_at),
            updated_at: opt_timestamp(self.updated_at),
            merged_at: opt_timestamp(self.merged_at),
            merged: self.merged,
            draft: self.draft,
            base_ref: self.base_ref.clone(),
            head_ref: self.head_ref.clone(),
            additions: self.additions,
            deletions: self.deletions,
            changed_files: self.changed_files,
            merged_by: self.merged_by_login.clone().unwrap_or_default(),
            url: self.html_url.clone().unwrap_or_default(),
            body: self.body.clone(),
            closed_at: opt_timestamp(self.closed_at),
            repository_id: self.repository_id,
        }
    }

    /// Where a list sorts it: never-updated ones last.
    fn sort_time(&self) -> DateTime<Utc> {
        self.updated_at.unwrap_or(DateTime::UNIX_EPOCH)
    }
}

pub async fn list_pull_requests(
    pool: &PgPool,
    tenant_id: Uuid,
    request: &pb::ListPullRequestsRequest,
) -> Result<pb::ListPullRequestsResponse> {
    let integration = optional_uuid("integration_id", &request.integration_id)?;
    let size = page_size(request.page.as_ref())?;
    let after = decode_position(request.page.as_ref().map_or("", |p| p.page_token.as_str()))?;
    let state = request.state.trim();
    if !state.is_empty() && !PR_STATES.contains(&state) {
        return Err(OrchestratorError::invalid(
            "state",
            format!("{state:?} is not one of open, closed, merged"),
        ));
    }
    let (from, to) = time_range(request.updated.as_ref())?;
    let (after_time, after_integration, after_repo, after_number) = match &after {
        Some(p) => {
            let (repo, number) = p
                .e
                .split_once('/')
                .and_then(|(r, n)| Some((r.parse::<i64>().ok()?, n.parse::<i64>().ok()?)))
                .ok_or_else(|| {
                    OrchestratorError::invalid("page.page_token", "is not a pull request position")
                })?;
            (
                DateTime::from_timestamp_micros(p.t),
                Some(p.i),
                Some(repo),
                Some(number),
            )
        }
        None => (None, None, None, None),
    };
    let rows: Vec<PullRequestRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PR_COLUMNS} FROM pull_requests p
         WHERE p.tenant_id = $1
           AND ($2::uuid IS NULL OR p.integration_id = $2)
           AND ($3 = '' OR p.repository = $3)
           AND CASE $4 WHEN 'open' THEN p.state = 'open'
                       WHEN 'closed' THEN p.state = 'closed' AND NOT p.merged
                       WHEN 'merged' THEN p.merged ELSE true END
           AND ($5 = '' OR p.author_login = $5)
           AND ($6::timestamptz IS NULL OR p.updated_at >= $6)
           AND ($7::timestamptz IS NULL OR p.updated_at < $7)
           AND ($8::text IS NULL OR p.title ILIKE $8 OR p.body ILIKE $8)
           AND ($9::timestamptz IS NULL
                OR (COALESCE(p.updated_at, 'epoch'), p.integration_id, p.repository_id, p.number)
                   < ($9, $10, $11, $12))
         ORDER BY COALESCE(p.updated_at, 'epoch') DESC, p.integration_id DESC,
                  p.repository_id DESC, p.number DESC
         LIMIT $13"
    )))
    .bind(tenant_id)
    .bind(integration)
    .bind(request.repository.trim())
    .bind(state)
    .bind(request.author.trim())
    .bind(from)
    .bind(to)
    .bind(contains_pattern(&request.text))
    .bind(after_time)
    .bind(after_integration)
    .bind(after_repo)
    .bind(after_number)
    .bind(size + 1)
    .fetch_all(pool)
    .await?;
    let more = rows.len() as i64 > size;
    let rows = &rows[..rows.len().min(size as usize)];
    let next_page_token = match (more, rows.last()) {
        (true, Some(last)) => encode_position(&Position {
            t: last.sort_time().timestamp_micros(),
            i: last.integration_id,
            e: format!("{}/{}", last.repository_id, last.number),
        }),
        _ => String::new(),
    };
    Ok(pb::ListPullRequestsResponse {
        pull_requests: rows.iter().map(PullRequestRecord::to_proto).collect(),
        next_page_token,
    })
}

pub async fn get_pull_request(
    pool: &PgPool,
    tenant_id: Uuid,
    request: &pb::GetPullRequestRequest,
) -> Result<pb::GetPullRequestResponse> {
    let integration = crate::jobs::parse("integration_id", &request.integration_id)?;
    let repository = request.repository.trim();
    if repository
        .split_once('/')
        .is_none_or(|(o, r)| o.is_empty() || r.is_empty())
    {
        return Err(OrchestratorError::invalid(
            "repository",
            format!("{repository:?} is not owner/name"),
        ));
    }
    if request.number <= 0 {
        return Err(OrchestratorError::invalid(
            "number",
            "must be a pull request number (1 or more)",
        ));
    }
    let pr: PullRequestRecord = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PR_COLUMNS} FROM pull_requests p
         WHERE p.tenant_id = $1 AND p.integration_id = $2 AND p.repository = $3 AND p.number = $4"
    )))
    .bind(tenant_id)
    .bind(integration)
    .bind(repository)
    .bind(request.number)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| OrchestratorError::NotFound {
        what: "pull request",
        id: format!("{repository}#{}", request.number),
    })?;
    let ids = (tenant_id, integration, pr.repository_id, pr.number);
    let commits: Vec<CommitRecord> = sqlx::query_as(
        "SELECT sha, message, author_name, author_login, authored_at, html_url FROM pr_commits
             WHERE tenant_id = $1 AND integration_id = $2 AND repository_id = $3 AND pr_number = $4
             ORDER BY authored_at NULLS LAST, sha",
    )
    .bind(ids.0)
    .bind(ids.1)
    .bind(ids.2)
    .bind(ids.3)
    .fetch_all(pool)
    .await?;
    type ReviewRecord = (i64, String, String, String, Option<DateTime<Utc>>);
    let reviews: Vec<ReviewRecord> = sqlx::query_as(
        "SELECT review_id, author_login, state, body, submitted_at FROM pr_reviews
         WHERE tenant_id = $1 AND integration_id = $2 AND repository_id = $3 AND pr_number = $4
         ORDER BY submitted_at NULLS LAST, review_id",
    )
    .bind(ids.0)
    .bind(ids.1)
    .bind(ids.2)
    .bind(ids.3)
    .fetch_all(pool)
    .await?;
    let comments: Vec<CommentRecord> = sqlx::query_as(
        "SELECT comment_id, kind, author_login, body, path, created_at, html_url FROM pr_comments
             WHERE tenant_id = $1 AND integration_id = $2 AND repository_id = $3 AND pr_number = $4
             ORDER BY created_at NULLS LAST, comment_id",
    )
    .bind(ids.0)
    .bind(ids.1)
    .bind(ids.2)
    .bind(ids.3)
    .fetch_all(pool)
    .await?;
    let linked: Vec<WorkItemRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT ON (w.integration_id, w.external_id) {WORK_ITEM_COLUMNS}
         FROM pr_work_item_links l
         JOIN work_items w ON w.tenant_id = l.tenant_id AND w.key = l.jira_key
         JOIN integrations i ON i.id = w.integration_id AND i.tenant_id = w.tenant_id
         WHERE l.tenant_id = $1 AND l.integration_id = $2 AND l.repository_id = $3 AND l.pr_number = $4
         ORDER BY w.integration_id, w.external_id"
    )))
    .bind(ids.0)
    .bind(ids.1)
    .bind(ids.2)
    .bind(ids.3)
    .fetch_all(pool)
    .await?;
    Ok(pb::GetPullRequestResponse {
        pull_request: Some(pr.to_proto()),
        commits: commits
            .into_iter()
            .map(|c| pb::PullRequestCommit {
                sha: c.sha,
                message: c.message,
                author_name: c.author_name,
                author_login: c.author_login,
                authored_at: opt_timestamp(c.authored_at),
                url: c.html_url.unwrap_or_default(),
            })
            .collect(),
        reviews: reviews
            .into_iter()
            .map(
                |(review_id, author, state, body, at)| pb::PullRequestReview {
                    review_id,
                    author,
                    state,
                    body,
                    submitted_at: opt_timestamp(at),
                },
            )
            .collect(),
        comments: comments
            .into_iter()
            .map(|c| pb::PullRequestComment {
                comment_id: c.comment_id,
                kind: c.kind,
                author: c.author_login,
                body: c.body,
                path: c.path.unwrap_or_default(),
                created_at: opt_timestamp(c.created_at),
                url: c.html_url.unwrap_or_default(),
            })
            .collect(),
        linked_work_items: linked.iter().map(WorkItemRecord::to_proto).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_garbage_is_named() {
        let position = Position {
            t: 1_700_000_000_123_456,
            i: Uuid::nil(),
            e: "10042".into(),
        };
        let token = encode_position(&position);
        let back = decode_position(&token).unwrap().unwrap();
        assert_eq!((back.t, back.e), (position.t, position.e));
        let error = decode_position("not-a-token!").err().unwrap();
        assert!(error.to_string().starts_with("page.page_token:"), "{error}");
        assert!(decode_position("").unwrap().is_none());
    }

    #[test]
    fn text_filters_escape_wildcards() {
        assert_eq!(contains_pattern(" 50%_off "), Some("%50\\%\\_off%".into()));
        assert_eq!(contains_pattern("  "), None);
    }
}
