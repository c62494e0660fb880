//! What a Jira run fetches, step by step. Every page is stored exactly as received, then a
//! RawBatchRef is published on `etl.transform` and progress is reported.
//!
//! Step 1 (issue types & projects): `/issuetype`, `/project/search?expand=issueTypes` (paged).
//! Step 2 (statuses & project statuses): `/status`, `/project/{key}/statuses` per project.

use futures_util::StreamExt;
use serde_json::json;
use sluice_plumbing::amqp::Publisher;
use sluice_plumbing::raw::{self, RunIds};
use sluice_plumbing::settings::{JiraSettings, is_valid_jira_project_key};
use sluice_proto::v1 as pb;
use sqlx::PgPool;

use super::client::{Fetched, JiraClient};
use super::model::{BareArray, ProjectRef, ProjectSearchPage};
use crate::error::ConnectorError;
use crate::progress::RunReporter;

pub const STEP_NAMES: [&str; 5] = [
    "issue types & projects",
    "statuses & project statuses",
    "issues fetching",
    "issues & changelogs processing",
    "dev status processing",
];

/// Everything one extraction needs.
pub struct JiraRun<'a> {
    pub pool: &'a PgPool,
    pub publisher: &'a Publisher,
    pub client: &'a JiraClient,
    /// The same site, queued behind issue and changelog pages: for dev-status calls.
    pub dev_client: &'a JiraClient,
    pub settings: &'a JiraSettings,
    pub ids: RunIds,
    pub run: &'a pb::RunContext,
    pub reporter: &'a RunReporter,
    /// Incremental cursors per project (`jira.project:KEY`): the newest `updated` each
    /// project committed in a completed run; a project without one is synced in full.
    pub cursors: sluice_plumbing::cursors::ScopeCursors,
    pub fetch: &'a super::issues::IssueFetch,
    /// Fields requested for issues (base + mapped + meaningful custom fields).
    pub fields: Vec<String>,
    /// Which issues get dev status (step 5), and how it is learnt.
    pub dev: super::dev_status::DevLeads,
    /// Dev-status detail pages stored, their reference not yet published.
    pub detail_group: std::sync::Mutex<Vec<i64>>,
    /// Per-issue changelog pages stored, their reference not yet published.
    pub changelog_group: std::sync::Mutex<Vec<i64>>,
}

/// Dev-status detail pages referenced by one message.
const DETAIL_GROUP: usize = 100;
const DEV_DETAIL: &str = "jira.dev_status_detail";
const ISSUE_CHANGELOG: &str = "jira.issue_changelog";

/// Outcome of an extraction that did not fail.
pub enum Extracted {
    Finished {
        pages: u64,
    },
    /// The orchestrator said stop (run cancelled or ended).
    Stopped,
}

impl JiraRun<'_> {
    pub async fn extract(&self, steps: &[i32]) -> Result<Extracted, ConnectorError> {
        let mut projects: Vec<ProjectRef> = Vec::new();
        let mut pages = 0;
        // Step 5 ran alongside step 3.
        let mut dev_status_done = false;
        for &step in steps {
            let step_name = step_name(step)?;
            if self.reporter.step_started(step, step_name).await? {
                return Ok(Extracted::Stopped);
            }
            let stopped = match step {
                1 => {
                    self.step_types_and_projects(step, &mut projects, &mut pages)
                        .await?
                }
                2 => {
                    if projects.is_empty() {
                        // Step 2 alone (a resumed run): list the projects again, without storing them.
                        projects = self.list_projects().await?;
                    }
                    self.step_statuses(step, &projects, &mut pages).await?
                }
                3 => {
                    if projects.is_empty() {
                        projects = self.list_projects().await?;
                    }
                    let keys: Vec<String> = projects.iter().map(|p| p.key.clone()).collect();
                    if steps.contains(&5) {
                        // Dev status (step 5) overlaps the issue fetching: from Jira's
                        // development index when the site has one, else per fetched issue.
                        let mut dev_pages = 0;
                        let stopped = self
                            .issues_and_dev_status(&keys, &mut pages, &mut dev_pages)
                            .await?;
                        dev_status_done = true;
                        pages += dev_pages;
                        stopped
                    } else {
                        self.step_issues(step, &keys, &self.fields, &mut pages)
                            .await?
                    }
                }
                // Processing happens downstream; the step marks that fetching is done.
                4 => false,
                5 if dev_status_done => false,
                5 => {
                    // Step 5 on its own (a resumed run): the development index of the
                    // projects, else the issues this extraction fetched.
                    if projects.is_empty() {
                        projects = self.list_projects().await?;
                    }
                    let keys: Vec<String> = projects.iter().map(|p| p.key.clone()).collect();
                    // No pages to go before it: dev status at its whole concurrency.
                    self.dev.open(self.fetch.dev_status_concurrency);
                    let collected = std::mem::take(
                        &mut *self.dev.collected.lock().unwrap_or_else(|e| e.into_inner()),
                    );
                    let issues = if self.dev.field().is_some() {
                        collected
                    } else {
                        match self.issues_with_development(step, &keys).await? {
                            Some(issues) => issues,
                            None => collected,
                        }
                    };
                    self.step_dev_status(step, &issues, &mut pages).await?
                }
                other => {
                    return Err(ConnectorError::config(format!(
                        "step {other} ({step_name}) is not implemented by this connector yet"
                    )));
                }
            };
            if stopped {
                return Ok(Extracted::Stopped);
            }
        }
        Ok(Extracted::Finished { pages })
    }

    /// Step 3 with step 5 alongside. Where the site has the Development field, the issue
    /// pages say which issues have development information and of what kind: those are
    /// streamed to dev status as their pages arrive. Else the development index is listed
    /// while the first issue pages are already arriving, and only the issues it names get
    /// dev-status calls; where it has none, every fetched issue's summary is asked as its
    /// page arrives. Returns true if told to stop.
    async fn issues_and_dev_status(
        &self,
        keys: &[String],
        pages: &mut u64,
        dev_pages: &mut u64,
    ) -> Result<bool, ConnectorError> {
        let development_field = self.development_field(3).await?.is_some();
        // Without the field, the development index is asked first (a few key-only calls): its
        // answer decides whether fetched issues go to dev status at all, so the progress
        // counts only issues that will get it.
        let listed = if development_field {
            None
        } else {
            self.issues_with_development(5, keys).await?
        };
        let (feed, fetched_issues) = tokio::sync::mpsc::unbounded_channel();
        match &listed {
            // The index named the issues: what the fetch sees is not needed.
            Some(_) => self.dev.ignore_fetched(),
            None => *self.dev.feed.lock().unwrap_or_else(|e| e.into_inner()) = Some(feed),
        }
        let fetching = async {
            let result = self.step_issues(3, keys, &self.fields, pages).await;
            self.dev.open(self.fetch.dev_status_concurrency);
            // The issues are in: they are processed downstream (step 4) while the run fetches
            // dev status (step 5), and it says so, in step order.
            if matches!(result, Ok(false))
                && (self.reporter.step_started(4, STEP_NAMES[3]).await?
                    || self.reporter.step_started(5, STEP_NAMES[4]).await?)
            {
                return Ok(true);
            }
            // Closing the feed ends the dev-status stream once it has drained.
            self.dev
                .feed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            result
        };
        let dev_status = async {
            match &listed {
                Some(listed) => {
                    drop(fetched_issues);
                    self.step_dev_status(5, listed, dev_pages).await
                }
                None => self.stream_dev_status(5, fetched_issues, dev_pages).await,
            }
        };
        let (fetched, dev_status) = tokio::join!(fetching, dev_status);
        Ok(fetched? | dev_status?)
    }

    async fn step_types_and_projects(
        &self,
        step: i32,
        projects: &mut Vec<ProjectRef>,
        pages: &mut u64,
    ) -> Result<bool, ConnectorError> {
        let fetched = self.client.get("/rest/api/3/issuetype", &[]).await?;
        let count = count_array(&fetched);
        if self
            .store_and_publish("jira.issue_types", step, fetched, json!({}), count)
            .await?
        {
            return Ok(true);
        }
        *pages += 1;
        let mut next: Option<String> = None;
        let mut start_at = 0u64;
        loop {
            let fetched = match &next {
                Some(url) => self.client.get_absolute(url).await?,
                None => {
                    self.client
                        .get("/rest/api/3/project/search", &self.project_query(start_at))
                        .await?
                }
            };
            let page: ProjectSearchPage = fetched.parse("project search page")?;
            let returned = page.values.len() as u64;
            let done = page.is_last.unwrap_or(returned == 0) || returned == 0;
            next = page.next_page.clone().filter(|_| !done);
            start_at = page.start_at + returned;
            projects.extend(page.values);
            if self
                .store_and_publish("jira.projects", step, fetched, json!({}), returned)
                .await?
            {
                return Ok(true);
            }
            *pages += 1;
            if done {
                return Ok(false);
            }
        }
    }

    pub(super) async fn list_projects(&self) -> Result<Vec<ProjectRef>, ConnectorError> {
        let mut projects = Vec::new();
        let mut start_at = 0u64;
        loop {
            let fetched = self
                .client
                .get("/rest/api/3/project/search", &self.project_query(start_at))
                .await?;
            let page: ProjectSearchPage = fetched.parse("project search page")?;
            let returned = page.values.len() as u64;
            start_at = page.start_at + returned;
            projects.extend(page.values);
            if page.is_last.unwrap_or(true) || returned == 0 {
                return Ok(projects);
            }
        }
    }

    fn project_query(&self, start_at: u64) -> Vec<(&'static str, String)> {
        let mut query = vec![
            ("startAt", start_at.to_string()),
            ("maxResults", self.settings.page_size.to_string()),
            ("expand", "issueTypes".to_string()),
        ];
        // Keys were validated when the integration was saved; checked again before use.
        for key in self
            .settings
            .project_keys
            .iter()
            .filter(|k| is_valid_jira_project_key(k))
        {
            query.push(("keys", key.clone()));
        }
        query
    }

    async fn step_statuses(
        &self,
        step: i32,
        projects: &[ProjectRef],
        pages: &mut u64,
    ) -> Result<bool, ConnectorError> {
        let fetched = self.client.get("/rest/api/3/status", &[]).await?;
        let count = count_array(&fetched);
        if self
            .store_and_publish("jira.statuses", step, fetched, json!({}), count)
            .await?
        {
            return Ok(true);
        }
        *pages += 1;
        // One statuses call per project, several at a time (as many as projects fetched in
        // parallel); an error is reported once every call in flight has finished.
        let fetches: Vec<_> = projects
            .iter()
            .map(|project| Box::pin(self.project_statuses(step, project)))
            .collect();
        let mut results = futures_util::stream::iter(fetches)
            .buffer_unordered(self.fetch.project_concurrency.max(1));
        let mut stopped = false;
        let mut first_error = None;
        while let Some(result) = results.next().await {
            match result {
                Ok(true) => stopped = true,
                Ok(false) => *pages += 1,
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(stopped),
        }
    }

    /// One project's statuses page; true if told to stop.
    async fn project_statuses(
        &self,
        step: i32,
        project: &ProjectRef,
    ) -> Result<bool, ConnectorError> {
        if !is_valid_jira_project_key(&project.key)
            && project.id.chars().any(|c| !c.is_ascii_digit())
        {
            return Err(ConnectorError::remote(
                format!(
                    "Jira returned a project with an unusable key {:?} and id {:?}",
                    project.key, project.id
                ),
                false,
            ));
        }
        // The id is always numeric and safe in a path; keys may repeat across renames.
        let path = format!("/rest/api/3/project/{}/statuses", project.id);
        let fetched = self.client.get(&path, &[]).await?;
        let count = count_array(&fetched);
        let context = json!({ "project_id": project.id, "project_key": project.key });
        self.store_and_publish("jira.project_statuses", step, fetched, context, count)
            .await
    }

    /// Stores a dev-status detail page; references go out a hundred pages to a message
    /// (one transform, one load) rather than one each. Returns true if told to stop.
    pub(super) async fn store_grouped_detail(
        &self,
        fetched: Fetched,
        request_context: serde_json::Value,
    ) -> Result<bool, ConnectorError> {
        self.store_grouped(DEV_DETAIL, 5, &self.detail_group, fetched, request_context)
            .await
    }

    /// Stores a per-issue changelog page (sites without bulkfetch), grouped like dev-status
    /// details. Returns true if told to stop.
    pub(super) async fn store_grouped_changelog(
        &self,
        step: i32,
        fetched: Fetched,
        request_context: serde_json::Value,
    ) -> Result<bool, ConnectorError> {
        self.store_grouped(
            ISSUE_CHANGELOG,
            step,
            &self.changelog_group,
            fetched,
            request_context,
        )
        .await
    }

    /// Stores a page Sluice assembled for dev status (see `github_links`), grouped with the
    /// details. Returns true if told to stop.
    pub(super) async fn store_grouped_page(
        &self,
        page: raw::RawPage,
    ) -> Result<bool, ConnectorError> {
        self.store_grouped_raw(DEV_DETAIL, &self.detail_group, page)
            .await
    }

    async fn store_grouped(
        &self,
        extraction_type: &str,
        step: i32,
        group: &std::sync::Mutex<Vec<i64>>,
        fetched: Fetched,
        request_context: serde_json::Value,
    ) -> Result<bool, ConnectorError> {
        let page = fetched.into_raw_page(extraction_type, step, request_context, None);
        self.store_grouped_raw(extraction_type, group, page).await
    }

    /// Stores `page`; its group goes out under `extraction_type` once full.
    async fn store_grouped_raw(
        &self,
        extraction_type: &str,
        group: &std::sync::Mutex<Vec<i64>>,
        page: raw::RawPage,
    ) -> Result<bool, ConnectorError> {
        let step = page.step;
        let raw_id = raw::store(self.pool, self.ids, &page)
            .await
            .map_err(|e| ConnectorError::internal(format!("storing a raw page: {e}")))?;
        let full = {
            let mut group = group.lock().unwrap_or_else(|e| e.into_inner());
            group.push(raw_id);
            (group.len() >= DETAIL_GROUP).then(|| std::mem::take(&mut *group))
        };
        if let Some(ids) = full {
            self.publish_group(extraction_type, step, ids).await?;
        }
        self.reporter.page_stored(1, 0).await
    }

    /// Stores a page kept for inspection only (listings, summaries, lookups): stored as
    /// received, marked processed, never published.
    pub(super) async fn keep_raw(
        &self,
        extraction_type: &str,
        step: i32,
        fetched: Fetched,
        request_context: serde_json::Value,
    ) -> Result<(), ConnectorError> {
        let page = fetched.into_raw_page(extraction_type, step, request_context, None);
        raw::store_processed(self.pool, self.ids, &page)
            .await
            .map(|_| ())
            .map_err(|e| ConnectorError::internal(format!("storing a raw page: {e}")))
    }

    /// Publishes the dev-status detail pages stored and not yet referenced.
    pub(super) async fn flush_detail_group(&self) -> Result<(), ConnectorError> {
        let from_github = self.dev.answered_from_github_count();
        if from_github > 0 {
            tracing::info!(
                from_github,
                "pull-request details assembled from the tenant's GitHub integrations instead of asked of Jira"
            );
        }
        let ids = std::mem::take(&mut *self.detail_group.lock().unwrap_or_else(|e| e.into_inner()));
        if !ids.is_empty() {
            self.publish_group(DEV_DETAIL, 5, ids).await?;
        }
        // After the details they vouch for are stored and referenced.
        self.flush_fingerprints().await
    }

    /// Publishes the changelog pages stored and not yet referenced.
    pub(super) async fn flush_changelog_group(&self, step: i32) -> Result<(), ConnectorError> {
        let ids = std::mem::take(
            &mut *self
                .changelog_group
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        if ids.is_empty() {
            return Ok(());
        }
        self.publish_group(ISSUE_CHANGELOG, step, ids).await
    }

    async fn publish_group(
        &self,
        extraction_type: &str,
        step: i32,
        mut ids: Vec<i64>,
    ) -> Result<(), ConnectorError> {
        ids.sort_unstable();
        let reference = pb::RawBatchRef {
            run: Some(self.run.clone()),
            raw_id: ids[0],
            extraction_type: extraction_type.to_string(),
            step,
            grouped_raw_ids: ids[1..].to_vec(),
            record_indexes: Vec::new(),
        };
        self.publisher
            .publish(&self.publisher.topology().transform(), &reference)
            .await
            .map_err(|e| {
                ConnectorError::internal(format!("publishing raw pages {}..: {e}", ids[0]))
            })
    }

    /// Stores the page, publishes its reference, reports it. Returns true if told to stop.
    pub(super) async fn store_and_publish(
        &self,
        extraction_type: &str,
        step: i32,
        fetched: Fetched,
        request_context: serde_json::Value,
        records: u64,
    ) -> Result<bool, ConnectorError> {
        self.store_and_publish_scoped(
            extraction_type,
            step,
            fetched,
            request_context,
            records,
            None,
        )
        .await
    }

    /// As [`Self::store_and_publish`], for a page whose rows advance a scope's cursor.
    pub(super) async fn store_and_publish_scoped(
        &self,
        extraction_type: &str,
        step: i32,
        fetched: Fetched,
        request_context: serde_json::Value,
        records: u64,
        scope: Option<String>,
    ) -> Result<bool, ConnectorError> {
        let page = fetched.into_raw_page(extraction_type, step, request_context, scope);
        let raw_id = raw::store(self.pool, self.ids, &page)
            .await
            .map_err(|e| ConnectorError::internal(format!("storing a raw page: {e}")))?;
        let reference = pb::RawBatchRef {
            run: Some(self.run.clone()),
            raw_id,
            extraction_type: extraction_type.to_string(),
            step,
            grouped_raw_ids: Vec::new(),
            record_indexes: Vec::new(),
        };
        self.publisher
            .publish(&self.publisher.topology().transform(), &reference)
            .await
            .map_err(|e| ConnectorError::internal(format!("publishing raw page {raw_id}: {e}")))?;
        self.reporter
            .page_stored(
                records,
                if extraction_type == "jira.issues" {
                    records
                } else {
                    0
                },
            )
            .await
    }
}

fn step_name(step: i32) -> Result<&'static str, ConnectorError> {
    usize::try_from(step)
        .ok()
        .and_then(|s| s.checked_sub(1))
        .and_then(|i| STEP_NAMES.get(i).copied())
        .ok_or_else(|| {
            ConnectorError::config(format!("unknown step {step} (Jira steps are 1 to 5)"))
        })
}

fn count_array(fetched: &Fetched) -> u64 {
    // An unparsable list is stored anyway and rejected by the transformer, with its reason,
    // so the page can be inspected; its record count is simply unknown here.
    serde_json::from_slice::<BareArray>(&fetched.body)
        .map(|a| a.0.len() as u64)
        .unwrap_or(0)
}
