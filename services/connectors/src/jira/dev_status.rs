//! Step 5 (dev status): the development information (pull requests, branches, commits) linked
//! to issues, from Jira's internal dev-status API. Which issues have some, and of what kind,
//! is learnt as cheaply as the site allows:
//!
//! * Jira Cloud's **Development field** (custom type `devsummarycf`, its id found in
//!   `/field`): requested with the issues, it holds each issue's dev-status summary, so an
//!   issue without development information costs no call and one with some costs one detail
//!   call per data type (and application) the summary counts — no summary call. Linking a
//!   pull request does not move an issue's `updated`, so an incremental run also reads the
//!   field in the project's key listing and fetches the issues whose summary changed since
//!   the last completed run (fingerprints in `jira_dev_fingerprints`).
//! * Else Jira's **development index**: key-only searches
//!   `development[pullrequests|commits|branches].all > 0` per project, one clause per query,
//!   with the run's `updated` bound; then the summary and the details it counts.
//! * Else (JQL answers 400: no development tool connected, older servers) the summary of
//!   every fetched issue, then the details it counts.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::extract::JiraRun;
use super::issues::project_jql_with;
use crate::error::ConnectorError;

/// Jira's development index, one clause per query.
const DEVELOPMENT_CLAUSES: [&str; 3] = [
    "development[pullrequests].all > 0",
    "development[commits].all > 0",
    "development[branches].all > 0",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyPage {
    #[serde(default)]
    issues: Vec<KeyRef>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    is_last: Option<bool>,
}

#[derive(Deserialize)]
struct KeyRef {
    id: String,
    key: String,
}

#[derive(Deserialize, Default)]
struct Summary {
    #[serde(default)]
    summary: SummaryParts,
}

#[derive(Deserialize, Default)]
struct SummaryParts {
    #[serde(default)]
    pullrequest: Option<Part>,
    #[serde(default)]
    branch: Option<Part>,
    #[serde(default)]
    repository: Option<Part>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Part {
    #[serde(default)]
    overall: Overall,
    #[serde(default)]
    by_instance_type: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Overall {
    #[serde(default)]
    count: u64,
    /// Jira's time of the newest item, e.g. `2026-11-30T10:00:00.000+0000`.
    #[serde(default)]
    last_updated: Option<String>,
}

/// One data type an issue's dev-status summary counts, and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    /// `pullrequest`, `branch` or `repository` (commits come with the repository detail).
    pub data_type: &'static str,
    /// Application types (`GitHub`, `bitbucket`, …) that have some.
    pub applications: Vec<String>,
    /// How many items the summary counts, over every application type.
    pub count: u64,
    /// When the newest of them changed, as far as Jira knows.
    pub last_updated: Option<DateTime<Utc>>,
}

/// The data types the summary says have something.
fn wanted(summary: SummaryParts) -> Vec<Wanted> {
    [
        ("pullrequest", summary.pullrequest),
        ("branch", summary.branch),
        ("repository", summary.repository),
    ]
    .into_iter()
    .filter_map(|(data_type, part)| {
        let part = part?;
        (part.overall.count > 0).then(|| {
            let apps: Vec<String> = part.by_instance_type.keys().cloned().collect();
            Wanted {
                data_type,
                applications: if apps.is_empty() {
                    vec!["GitHub".to_string()]
                } else {
                    apps
                },
                count: part.overall.count,
                last_updated: part.overall.last_updated.as_deref().and_then(jira_time),
            }
        })
    })
    .collect()
}

/// Jira's timestamp format (`2026-11-30T10:00:00.000+0000`), or RFC 3339.
fn jira_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The Development field's schema type on Jira Cloud.
pub const DEVELOPMENT_FIELD_TYPE: &str =
    "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf";

/// One issue for dev status.
#[derive(Debug, Clone, PartialEq)]
pub struct DevLead {
    pub id: String,
    pub key: String,
    /// What the Development field said; `None`: ask the summary.
    pub known: Option<KnownSummary>,
}

/// An issue's dev-status summary as its Development field holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownSummary {
    /// The data types with something.
    pub wanted: Vec<Wanted>,
    /// Identifies the summary: a changed one means new development information.
    pub fingerprint: String,
}

/// What one Development field value says.
#[derive(Debug, PartialEq)]
pub enum DevelopmentValue {
    /// `{}` or null: no development information (no call).
    Nothing,
    Known(KnownSummary),
    /// Not in the shape Jira Cloud renders it: ask the summary.
    Unreadable,
}

/// Reads a Development field value: the text `{}` when the issue has nothing, else a Java
/// map's `toString()` whose `json=` entry is `{"cachedValue":{"errors":[],"summary":{…}},…}`.
pub fn development_value(raw: Option<&RawValue>) -> DevelopmentValue {
    let Some(raw) = raw else {
        return DevelopmentValue::Nothing;
    };
    let text = match serde_json::from_str::<Option<String>>(raw.get()) {
        Ok(Some(text)) => text,
        Ok(None) => return DevelopmentValue::Nothing,
        Err(_) => return DevelopmentValue::Unreadable,
    };
    let text = text.trim();
    if text.is_empty() || text == "{}" {
        return DevelopmentValue::Nothing;
    }
    let Some(at) = text.find("json=") else {
        return DevelopmentValue::Unreadable;
    };
    // The JSON ends where its value ends; the map's closing brace follows.
    let Some(Ok(cached)) = serde_json::Deserializer::from_str(&text[at + 5..])
        .into_iter::<serde_json::Value>()
        .next()
    else {
        return DevelopmentValue::Unreadable;
    };
    let Some(summary) = cached.get("cachedValue").and_then(|c| c.get("summary")) else {
        return DevelopmentValue::Unreadable;
    };
    let Ok(parts) = serde_json::from_value::<SummaryParts>(summary.clone()) else {
        return DevelopmentValue::Unreadable;
    };
    let wanted = wanted(parts);
    if wanted.is_empty() {
        // Builds, reviews or deployments only: nothing the dev-status tables hold.
        return DevelopmentValue::Nothing;
    }
    DevelopmentValue::Known(KnownSummary {
        wanted,
        fingerprint: summary.to_string(),
    })
}

thread_local! {
    /// The Development field id while a page is parsed (see [`with_development_field`]).
    static PARSING_FIELD: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Runs `parse` with `field` as the Development field [`development_only`] keeps.
pub(super) fn with_development_field<T>(field: Option<&str>, parse: impl FnOnce() -> T) -> T {
    PARSING_FIELD.with(|f| *f.borrow_mut() = field.map(str::to_string));
    let result = parse();
    PARSING_FIELD.with(|f| *f.borrow_mut() = None);
    result
}

/// Deserializes an issue's `fields` object keeping only the Development field's raw value
/// (the rest is skipped, not built).
pub(super) fn development_only<'de, D>(deserializer: D) -> Result<Option<Box<RawValue>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Visitor(Option<String>);
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Option<Box<RawValue>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an issue's fields object")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if self.0.as_deref() == Some(key.as_ref()) {
                    found = Some(map.next_value::<Box<RawValue>>()?);
                } else {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    let field = PARSING_FIELD.with(|f| f.borrow().clone());
    deserializer.deserialize_any(Visitor(field))
}

/// Dev-status calls in flight while the run's issue and changelog pages are still being
/// fetched: the issues land first (the pacer also serves pages first; this keeps dev status
/// from taking the CPU and the database from them), the rest once the pages are in.
const DEV_STATUS_WHILE_FETCHING: usize = 4;

/// Dev-status fingerprints written per statement.
const FINGERPRINT_BATCH: usize = 500;

/// Dev-status bookkeeping of one run.
pub struct DevLeads {
    /// Permits for dev-status calls: a few while pages are fetched, all once they are in.
    gate: tokio::sync::Semaphore,
    opened: std::sync::atomic::AtomicBool,
    /// The development index named this run's issues: fetched issues are not leads.
    by_index: std::sync::atomic::AtomicBool,
    /// The site's Development field id, once looked up (`None`: the site has none, or dev
    /// status is not part of the run).
    field: OnceLock<Option<String>>,
    /// Issues handed to dev status in this run (by id): never twice.
    handed: Mutex<HashSet<String>>,
    /// Fingerprints of Development field values whose details a completed run loaded.
    completed: tokio::sync::OnceCell<HashMap<String, String>>,
    /// Fingerprints of issues whose details are stored, not yet written (by issue id).
    fingerprints: Mutex<HashMap<String, String>>,
    /// Whether the tenant's GitHub integrations link any pull request (asked once).
    pub(super) github_links: tokio::sync::OnceCell<bool>,
    /// Pull-request details assembled from them instead of asked of Jira.
    from_github: std::sync::atomic::AtomicU64,
    /// Leads collected by step 3 for step 5 when it runs on its own.
    pub(super) collected: Mutex<Vec<DevLead>>,
    /// While step 5 overlaps step 3: where leads go.
    pub(super) feed: Mutex<Option<tokio::sync::mpsc::UnboundedSender<DevLead>>>,
}

impl Default for DevLeads {
    fn default() -> Self {
        DevLeads {
            gate: tokio::sync::Semaphore::new(DEV_STATUS_WHILE_FETCHING),
            opened: Default::default(),
            by_index: Default::default(),
            field: Default::default(),
            handed: Default::default(),
            completed: Default::default(),
            fingerprints: Default::default(),
            github_links: Default::default(),
            from_github: Default::default(),
            collected: Default::default(),
            feed: Default::default(),
        }
    }
}

impl DevLeads {
    /// The issue pages are in: dev status may use its whole concurrency.
    pub fn open(&self, concurrency: usize) {
        if !self.opened.swap(true, std::sync::atomic::Ordering::AcqRel) {
            self.gate
                .add_permits(concurrency.saturating_sub(DEV_STATUS_WHILE_FETCHING));
        }
    }

    /// The development index named the issues that get dev status: fetched issues are not
    /// handed to it.
    pub fn ignore_fetched(&self) {
        self.by_index
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// A pull-request detail came from the tenant's GitHub integrations.
    pub(super) fn answered_from_github(&self) {
        self.from_github
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Pull-request details that came from the tenant's GitHub integrations in this run.
    pub fn answered_from_github_count(&self) -> u64 {
        self.from_github.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The Development field id, once [`JiraRun::development_field`] looked it up.
    pub fn field(&self) -> Option<&str> {
        self.field.get().and_then(|f| f.as_deref())
    }

    /// Whether `id` is handed to dev status for the first time in this run.
    fn first_time(&self, id: &str) -> bool {
        self.handed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string())
    }
}

#[derive(Deserialize)]
struct FieldDef {
    id: String,
    #[serde(default)]
    schema: Option<FieldSchema>,
}

#[derive(Deserialize)]
struct FieldSchema {
    #[serde(default)]
    custom: Option<String>,
}

impl JiraRun<'_> {
    /// Looks up the site's Development field (one `/field` call per run, the answer kept
    /// raw); `None` where the site has none (Jira Server and Data Center).
    pub async fn development_field(&self, step: i32) -> Result<Option<&str>, ConnectorError> {
        if self.dev.field.get().is_some() {
            return Ok(self.dev.field());
        }
        let fetched = self.client.get("/rest/api/3/field", &[]).await?;
        let fields: Vec<FieldDef> = fetched.parse("field list")?;
        let found = fields
            .into_iter()
            .find(|f| {
                f.schema
                    .as_ref()
                    .and_then(|s| s.custom.as_deref())
                    .is_some_and(|t| t == DEVELOPMENT_FIELD_TYPE)
            })
            .map(|f| f.id)
            // Only an id of Jira's own shape goes into later requests.
            .filter(|id| {
                id.strip_prefix("customfield_")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            });
        self.keep_raw(
            "jira.development_field",
            step,
            fetched,
            json!({ "development_field": found }),
        )
        .await?;
        match &found {
            Some(id) => tracing::info!(field = %id, "dev status from the Development field"),
            None => tracing::info!(
                "no Development field on this site; dev status from the development index or summaries"
            ),
        }
        let _ = self.dev.field.set(found);
        Ok(self.dev.field())
    }

    /// Hands issues to dev status (each once per run): the overlapping stream, or the list
    /// step 5 reads when it runs on its own.
    pub(super) fn hand_to_dev_status(&self, leads: Vec<DevLead>) {
        if self.dev.by_index.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        let leads: Vec<DevLead> = leads
            .into_iter()
            .filter(|lead| self.dev.first_time(&lead.id))
            .collect();
        if leads.is_empty() {
            return;
        }
        let feed = self.dev.feed.lock().unwrap_or_else(|e| e.into_inner());
        match feed.as_ref() {
            Some(feed) => {
                self.reporter.dev_status_found(leads.len() as u64);
                for lead in leads {
                    let _ = feed.send(lead);
                }
            }
            None => self
                .dev
                .collected
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(leads),
        }
    }

    /// Leads from issues of a search or listing page: with the Development field, only the
    /// issues that have something and whose summary differs from the one a completed run
    /// fetched the details of (the same summary, the same details); without it, every
    /// issue (its summary is asked).
    pub(super) async fn leads(
        &self,
        issues: impl Iterator<Item = (&str, &str, Option<&RawValue>)>,
    ) -> Result<Vec<DevLead>, ConnectorError> {
        let Some(_) = self.dev.field() else {
            return Ok(issues
                .map(|(id, key, _)| DevLead {
                    id: id.to_string(),
                    key: key.to_string(),
                    known: None,
                })
                .collect());
        };
        let completed = self.completed_fingerprints().await?;
        Ok(issues
            .filter_map(|(id, key, value)| {
                let known = match development_value(value) {
                    DevelopmentValue::Nothing => return None,
                    DevelopmentValue::Known(known) => {
                        if completed.get(id) == Some(&known.fingerprint) {
                            return None;
                        }
                        Some(known)
                    }
                    DevelopmentValue::Unreadable => None,
                };
                Some(DevLead {
                    id: id.to_string(),
                    key: key.to_string(),
                    known,
                })
            })
            .collect())
    }

    /// Development field fingerprints of the issues whose details a completed run loaded.
    async fn completed_fingerprints(&self) -> Result<&HashMap<String, String>, ConnectorError> {
        self.dev
            .completed
            .get_or_try_init(|| async {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT f.issue_id, f.fingerprint FROM jira_dev_fingerprints f
                     JOIN job_runs r ON r.id = f.run_id AND r.status = 'COMPLETED'
                     WHERE f.tenant_id = $1 AND f.integration_id = $2",
                )
                .bind(self.ids.tenant_id)
                .bind(self.ids.integration_id)
                .fetch_all(self.pool)
                .await
                .map_err(|e| {
                    ConnectorError::internal(format!("reading dev-status fingerprints: {e}"))
                })?;
                Ok(rows.into_iter().collect())
            })
            .await
    }

    /// Remembers which summary this run fetched the details of (it counts once the run
    /// completes). Written 500 to a statement, the rest when step 5 ends; one lost to a
    /// crash only means its details are fetched again.
    async fn record_fingerprint(&self, id: &str, fingerprint: &str) -> Result<(), ConnectorError> {
        let full = {
            let mut pending = self
                .dev
                .fingerprints
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            pending.insert(id.to_string(), fingerprint.to_string());
            (pending.len() >= FINGERPRINT_BATCH).then(|| std::mem::take(&mut *pending))
        };
        match full {
            Some(batch) => self.write_fingerprints(batch).await,
            None => Ok(()),
        }
    }

    /// Writes the fingerprints not yet written.
    pub(super) async fn flush_fingerprints(&self) -> Result<(), ConnectorError> {
        let batch = std::mem::take(
            &mut *self
                .dev
                .fingerprints
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        self.write_fingerprints(batch).await
    }

    async fn write_fingerprints(
        &self,
        batch: HashMap<String, String>,
    ) -> Result<(), ConnectorError> {
        if batch.is_empty() {
            return Ok(());
        }
        let (ids, fingerprints): (Vec<String>, Vec<String>) = batch.into_iter().unzip();
        sqlx::query(
            "INSERT INTO jira_dev_fingerprints (tenant_id, integration_id, issue_id, fingerprint, run_id)
             SELECT $1, $2, u.issue_id, u.fingerprint, $5
             FROM UNNEST($3::text[], $4::text[]) AS u(issue_id, fingerprint)
             ON CONFLICT (tenant_id, integration_id, issue_id)
             DO UPDATE SET fingerprint = EXCLUDED.fingerprint, run_id = EXCLUDED.run_id",
        )
        .bind(self.ids.tenant_id)
        .bind(self.ids.integration_id)
        .bind(ids)
        .bind(fingerprints)
        .bind(self.ids.run_id)
        .execute(self.pool)
        .await
        .map_err(|e| ConnectorError::internal(format!("recording dev-status fingerprints: {e}")))?;
        Ok(())
    }

    /// (id, key) of the issues of these projects (updated since each one's cursor) that Jira's
    /// development index says have development work; `None` when the site's JQL does not
    /// know the field. Listing pages are kept raw (not loaded).
    pub async fn issues_with_development(
        &self,
        step: i32,
        project_keys: &[String],
    ) -> Result<Option<Vec<DevLead>>, ConnectorError> {
        let listings: Vec<_> = project_keys
            .iter()
            .flat_map(|key| {
                DEVELOPMENT_CLAUSES.iter().map(move |clause| {
                    Box::pin(self.development_listing(step, key, clause, self.since(key)))
                })
            })
            .collect();
        let mut results = futures_util::stream::iter(listings)
            .buffer_unordered(self.fetch.project_concurrency.max(1));
        let mut found: BTreeMap<String, String> = BTreeMap::new();
        let mut unknown_field = None;
        while let Some(result) = results.next().await {
            match result {
                Ok(issues) => found.extend(issues),
                Err(error) if error.http_status == Some(400) => {
                    unknown_field.get_or_insert(error);
                }
                Err(error) => return Err(error),
            }
        }
        if let Some(error) = unknown_field {
            tracing::info!(error = %error.message, "no development index on this site; asking every fetched issue's dev-status summary");
            return Ok(None);
        }
        Ok(Some(
            found
                .into_iter()
                .map(|(id, key)| DevLead {
                    id,
                    key,
                    known: None,
                })
                .collect(),
        ))
    }

    async fn development_listing(
        &self,
        step: i32,
        project_key: &str,
        clause: &'static str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, String)>, ConnectorError> {
        let jql = project_jql_with(project_key, since, Some(clause))?;
        let mut token: Option<String> = None;
        let mut issues = Vec::new();
        loop {
            let mut query = vec![
                ("jql", jql.clone()),
                ("fields", "key".to_string()),
                ("maxResults", "5000".to_string()),
            ];
            if let Some(token) = &token {
                query.push(("nextPageToken", token.clone()));
            }
            let fetched = self.client.get("/rest/api/3/search/jql", &query).await?;
            let page: KeyPage = fetched.parse("development index listing")?;
            let last =
                page.is_last.unwrap_or(page.next_page_token.is_none()) || page.issues.is_empty();
            issues.extend(page.issues.into_iter().map(|i| (i.id, i.key)));
            self.keep_raw(
                "jira.dev_status_listing",
                step,
                fetched,
                json!({ "project_key": project_key, "jql": jql }),
            )
            .await?;
            match page.next_page_token.filter(|_| !last) {
                Some(next) => token = Some(next),
                None => return Ok(issues),
            }
        }
    }

    /// Returns true if told to stop.
    pub async fn step_dev_status(
        &self,
        step: i32,
        issues: &[DevLead],
        pages: &mut u64,
    ) -> Result<bool, ConnectorError> {
        self.reporter.dev_status_found(issues.len() as u64);
        let work: Vec<_> = issues
            .iter()
            .map(|lead| Box::pin(self.issue_dev_status(step, lead)))
            .collect();
        let mut results = futures_util::stream::iter(work)
            .buffer_unordered(self.fetch.dev_status_concurrency.max(1));
        while let Some(result) = results.next().await {
            let (stopped, issue_pages) = result?;
            *pages += issue_pages;
            if stopped {
                return Ok(true);
            }
        }
        self.flush_detail_group().await?;
        Ok(false)
    }

    /// Dev status for issues as they arrive on `issues`, until the sender is dropped.
    pub async fn stream_dev_status(
        &self,
        step: i32,
        issues: tokio::sync::mpsc::UnboundedReceiver<DevLead>,
        pages: &mut u64,
    ) -> Result<bool, ConnectorError> {
        let mut results = tokio_stream::wrappers::UnboundedReceiverStream::new(issues)
            .map(|lead| Box::pin(async move { self.issue_dev_status(step, &lead).await }))
            .buffer_unordered(self.fetch.dev_status_concurrency.max(1));
        let mut first_error = None;
        while let Some(result) = results.next().await {
            match result {
                Ok((stopped, issue_pages)) => {
                    *pages += issue_pages;
                    if stopped {
                        return Ok(true);
                    }
                }
                // Keep draining: the feed must not block step 3; report the first error after.
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => self.flush_detail_group().await.map(|()| false),
        }
    }

    /// One issue's dev status: its summary unless the Development field gave it, then the
    /// details of the data types and application types it counts.
    async fn issue_dev_status(
        &self,
        step: i32,
        lead: &DevLead,
    ) -> Result<(bool, u64), ConnectorError> {
        let (id, key) = (lead.id.as_str(), lead.key.as_str());
        let _permit = self
            .dev
            .gate
            .acquire()
            .await
            .map_err(|_| ConnectorError::internal("the dev-status gate closed".into()))?;
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(ConnectorError::remote(
                format!("Jira returned an issue id {id:?} that is not numeric"),
                false,
            ));
        }
        let wanted = match &lead.known {
            Some(known) => known.wanted.clone(),
            None => self.dev_summary(step, id, key).await?,
        };
        let mut pages = 0;
        for want in wanted {
            if let Some(page) = self.pull_requests_from_github(id, key, &want).await? {
                if self.store_grouped_page(page).await? {
                    return Ok((true, pages));
                }
                pages += 1;
                continue;
            }
            let data_type = want.data_type;
            for application in want.applications {
                let query = [
                    ("issueId", id.to_string()),
                    ("applicationType", application.clone()),
                    ("dataType", data_type.to_string()),
                ];
                let fetched = self
                    .dev_client
                    .get("/rest/dev-status/latest/issue/detail", &query)
                    .await?;
                let context = json!({ "issue_id": id, "issue_key": key, "data_type": data_type, "application_type": application });
                if self.store_grouped_detail(fetched, context).await? {
                    return Ok((true, pages));
                }
                pages += 1;
            }
        }
        if let Some(known) = &lead.known {
            self.record_fingerprint(id, &known.fingerprint).await?;
        }
        self.reporter.dev_status_fetched();
        Ok((false, pages))
    }

    /// The dev-status summary call (kept raw, not loaded): what the details should cover.
    async fn dev_summary(
        &self,
        step: i32,
        id: &str,
        key: &str,
    ) -> Result<Vec<Wanted>, ConnectorError> {
        let fetched = self
            .dev_client
            .get(
                "/rest/dev-status/latest/issue/summary",
                &[("issueId", id.to_string())],
            )
            .await?;
        let summary: Summary = serde_json::from_slice(&fetched.body).unwrap_or_default();
        self.keep_raw(
            "jira.dev_status_summary",
            step,
            fetched,
            json!({ "issue_id": id, "issue_key": key }),
        )
        .await?;
        Ok(wanted(summary.summary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(value: serde_json::Value) -> Box<RawValue> {
        RawValue::from_string(value.to_string()).unwrap()
    }

    #[test]
    fn the_development_field_says_what_to_fetch_or_that_nothing_is_there() {
        // As Jira Cloud renders it (a Java map's toString with the cached summary as JSON).
        let value = raw(json!(
            "{pullrequest={dataType=pullrequest, state=OPEN, stateCount=1}, json={\"cachedValue\":{\"errors\":[],\"summary\":{\"pullrequest\":{\"overall\":{\"count\":2,\"lastUpdated\":\"2026-11-30T10:00:00.000+0000\",\"stateCount\":1,\"state\":\"OPEN\",\"dataType\":\"pullrequest\",\"open\":true},\"byInstanceType\":{\"GitHub\":{\"count\":2,\"name\":\"GitHub\"}}},\"repository\":{\"overall\":{\"count\":1,\"dataType\":\"repository\"},\"byInstanceType\":{\"GitHub\":{\"count\":1,\"name\":\"GitHub\"}}}}},\"isStale\":false}}"
        ));
        let DevelopmentValue::Known(known) = development_value(Some(&value)) else {
            panic!("a summary");
        };
        let github = vec!["GitHub".to_string()];
        assert_eq!(
            known.wanted,
            vec![
                Wanted {
                    data_type: "pullrequest",
                    applications: github.clone(),
                    count: 2,
                    last_updated: jira_time("2026-11-30T10:00:00.000+0000"),
                },
                Wanted {
                    data_type: "repository",
                    applications: github,
                    count: 1,
                    last_updated: None,
                }
            ]
        );
        assert_eq!(
            known.wanted[0].last_updated.map(|t| t.to_rfc3339()),
            Some("2026-11-30T10:00:00+00:00".to_string())
        );
        // The fingerprint follows the summary, not the text around it.
        let later = raw(json!(
            "{pullrequest={dataType=pullrequest, state=OPEN, stateCount=1}, json={\"cachedValue\":{\"errors\":[],\"summary\":{\"pullrequest\":{\"overall\":{\"count\":3},\"byInstanceType\":{\"GitHub\":{}}}}},\"isStale\":true}}"
        ));
        let DevelopmentValue::Known(later) = development_value(Some(&later)) else {
            panic!("a summary");
        };
        assert_ne!(later.fingerprint, known.fingerprint);

        for nothing in [json!("{}"), json!(null), json!(" {} ")] {
            assert_eq!(
                development_value(Some(&raw(nothing))),
                DevelopmentValue::Nothing
            );
        }
        assert_eq!(development_value(None), DevelopmentValue::Nothing);
        // Builds only: nothing the dev-status tables hold.
        let builds = raw(json!(
            "{build={count=1}, json={\"cachedValue\":{\"summary\":{\"build\":{\"overall\":{\"count\":1}}}}}}"
        ));
        assert_eq!(development_value(Some(&builds)), DevelopmentValue::Nothing);
        for unreadable in [json!("{json=not json}"), json!({"a": 1}), json!("{x=1}")] {
            assert_eq!(
                development_value(Some(&raw(unreadable))),
                DevelopmentValue::Unreadable
            );
        }
    }

    #[test]
    fn only_the_development_field_is_kept_from_an_issue_page() {
        #[derive(Deserialize)]
        struct Issue {
            #[serde(default, rename = "fields", deserialize_with = "development_only")]
            development: Option<Box<RawValue>>,
        }
        let page = json!([
            {"fields": {"summary": "a", "customfield_10000": "{}", "labels": ["x"]}},
            {"fields": {"summary": "b"}},
            {"fields": null},
            {}
        ])
        .to_string();
        let issues: Vec<Issue> =
            with_development_field(Some("customfield_10000"), || serde_json::from_str(&page))
                .unwrap();
        let kept: Vec<Option<&str>> = issues
            .iter()
            .map(|i| i.development.as_deref().map(RawValue::get))
            .collect();
        assert_eq!(kept, vec![Some("\"{}\""), None, None, None]);
        // Without a field to look for, nothing is kept.
        let issues: Vec<Issue> = serde_json::from_str(&page).unwrap();
        assert!(issues.iter().all(|i| i.development.is_none()));
    }

    #[test]
    fn only_data_types_with_something_are_fetched() {
        let summary: Summary = serde_json::from_value(json!({"summary": {
            "pullrequest": {"overall": {"count": 2}, "byInstanceType": {"GitHub": {"count": 2}}},
            "branch": {"overall": {"count": 0}, "byInstanceType": {}},
            "repository": {"overall": {"count": 1}, "byInstanceType": {"GitHub": {}, "GitLab": {}}}
        }}))
        .unwrap();
        let wanted = wanted(summary.summary);
        assert_eq!(wanted.len(), 2);
        assert_eq!(wanted[0].data_type, "pullrequest");
        assert_eq!((wanted[0].count, wanted[0].applications.len()), (2, 1));
        assert_eq!(wanted[1].applications.len(), 2);
        assert!(super::wanted(SummaryParts::default()).is_empty());
    }
}
