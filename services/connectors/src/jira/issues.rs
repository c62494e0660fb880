//! Step 3 (issues fetching) and step 4 (changelog completion) of a Jira run.
//!
//! Per project, in parallel up to a configured concurrency:
//! `search/jql` with `project = "KEY" [AND updated >= "yyyy-MM-dd HH:mm"] ORDER BY updated ASC`,
//! paged by `nextPageToken`, requesting the base fields plus the mapped and meaningful custom
//! fields (never `*all`) with `expand=changelog`. An issue whose embedded changelog holds fewer
//! histories than its `total` (Jira truncates; the cap is not assumed) gets the rest through
//! `POST changelog/bulkfetch`, or `/issue/{id}/changelog` pages where the site lacks bulkfetch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::json;
use sluice_plumbing::settings::is_valid_jira_project_key;

use serde_json::value::RawValue;

use super::client::Fetched;
use super::dev_status::{development_only, with_development_field};
use super::extract::JiraRun;
use crate::error::ConnectorError;

/// Fields every issue is fetched with; mapped custom fields are added to these.
pub const BASE_FIELDS: [&str; 16] = [
    "summary",
    "description",
    "status",
    "issuetype",
    "priority",
    "assignee",
    "reporter",
    "created",
    "updated",
    "resolutiondate",
    "resolution",
    "parent",
    "labels",
    "components",
    "fixVersions",
    "project",
];

/// How issues are fetched.
#[derive(Debug, Clone)]
pub struct IssueFetch {
    /// Projects fetched at once.
    pub project_concurrency: usize,
    /// Re-read this far behind the cursor: Jira's JQL has minute precision and indexes lag.
    pub overlap: Duration,
    /// Issues per page requested (Jira may return fewer).
    pub page_size: u32,
    /// Dev-status requests in flight at once (one summary per issue, then details).
    pub dev_status_concurrency: usize,
    /// GitHub repositories synced at once.
    pub repo_concurrency: usize,
}

impl Default for IssueFetch {
    fn default() -> Self {
        IssueFetch {
            project_concurrency: 4,
            overlap: Duration::from_secs(5 * 60),
            page_size: 100,
            dev_status_concurrency: 32,
            repo_concurrency: 4,
        }
    }
}

/// Issues of one page whose changelogs are fetched at once where the site lacks bulkfetch.
const CHANGELOG_CONCURRENCY: usize = 16;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchPage {
    #[serde(default)]
    issues: Vec<IssueRef>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    is_last: Option<bool>,
}

#[derive(Deserialize)]
struct IssueRef {
    id: String,
    key: String,
    #[serde(default)]
    changelog: Option<ChangelogRef>,
    /// The Development field's raw value, when one is looked for (the other fields are
    /// skipped while parsing, see `with_development_field`).
    #[serde(default, rename = "fields", deserialize_with = "development_only")]
    development: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct ChangelogRef {
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    histories: Vec<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkPage {
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangelogPage {
    #[serde(default)]
    is_last: Option<bool>,
    #[serde(default)]
    start_at: u64,
    #[serde(default)]
    values: Vec<IgnoredAny>,
    #[serde(default)]
    total: Option<u64>,
}

/// 2000-01-01T00:00:00Z: incremental bounds before it are left out (see `project_jql_with`).
const NO_BOUND_BEFORE_MS: i64 = 946_684_800_000;

/// The JQL of one project's sync. The key is validated first: no JQL injection.
pub fn project_jql(
    project_key: &str,
    since: Option<DateTime<Utc>>,
) -> Result<String, ConnectorError> {
    project_jql_with(project_key, since, None)
}

/// As [`project_jql`], with one more (constant, never user-supplied) clause.
///
/// The `updated` bound is written in epoch milliseconds, which JQL reads as an instant: a
/// date written as text is read in the searching account's profile time zone (Atlassian's
/// JQL documentation), so a bound written in UTC for an account in UTC-8 would start eight
/// hours late and skip every change in between.
pub(super) fn project_jql_with(
    project_key: &str,
    since: Option<DateTime<Utc>>,
    extra: Option<&'static str>,
) -> Result<String, ConnectorError> {
    if !is_valid_jira_project_key(project_key) {
        return Err(ConnectorError::config(format!(
            "{project_key:?} is not a valid Jira project key"
        )));
    }
    let mut jql = format!("project = \"{project_key}\"");
    // Epoch milliseconds. A bound before 2000 bounds nothing real and is left out: near 1970
    // (Atlassian's example issue has `updated: 1`) it is negative or too short a number for
    // JQL to read as an instant, and Jira answers 400.
    if let Some(since) = since.filter(|s| s.timestamp_millis() >= NO_BOUND_BEFORE_MS) {
        jql.push_str(&format!(" AND updated >= {}", since.timestamp_millis()));
    }
    if let Some(extra) = extra {
        jql.push_str(" AND ");
        jql.push_str(extra);
    }
    jql.push_str(" ORDER BY updated ASC");
    Ok(jql)
}

impl JiraRun<'_> {
    /// Where a project's incremental search starts: its own cursor minus the overlap window;
    /// `None` (everything) for a project without a cursor yet.
    pub fn since(&self, project_key: &str) -> Option<DateTime<Utc>> {
        self.cursors
            .get(&sluice_plumbing::cursors::jira_project(project_key))
            .map(|cursor| {
                cursor - chrono::Duration::from_std(self.fetch.overlap).unwrap_or_default()
            })
    }

    /// Fetches every project's issues; returns true if told to stop.
    pub async fn step_issues(
        &self,
        step: i32,
        project_keys: &[String],
        fields: &[String],
        pages: &mut u64,
    ) -> Result<bool, ConnectorError> {
        let bulk_available = AtomicBool::new(true);
        let bulk_available = &bulk_available;
        // Boxed futures collected first: a closure returning borrowing futures trips the
        // compiler's higher-ranked lifetime inference inside a Send task.
        let fetches: Vec<_> = project_keys
            .iter()
            .map(|key| Box::pin(self.project_issues(step, key, fields, bulk_available)))
            .collect();
        let mut results = futures_util::stream::iter(fetches)
            .buffer_unordered(self.fetch.project_concurrency.max(1));
        // One project's failure does not cut the others short: their pages still land, and
        // the run fails with the first error once every project is done.
        let mut first_error = None;
        while let Some(result) = results.next().await {
            match result {
                Ok((stopped, project_pages)) => {
                    *pages += project_pages;
                    if stopped {
                        return Ok(true);
                    }
                }
                Err(error) => {
                    tracing::warn!(error = %error.message, "project sync failed");
                    first_error.get_or_insert(error);
                }
            }
        }
        // Changelog pages of the last, partial group: referenced before the step ends.
        let flushed = self.flush_changelog_group(step).await;
        match first_error {
            Some(error) => Err(error),
            None => flushed.map(|()| false),
        }
    }

    async fn project_issues(
        &self,
        step: i32,
        project_key: &str,
        fields: &[String],
        bulk_available: &AtomicBool,
    ) -> Result<(bool, u64), ConnectorError> {
        let jql = project_jql(project_key, self.since(project_key))?;
        let scope = sluice_plumbing::cursors::jira_project(project_key);
        // Deletion detection needs a listing only where rows could go stale: a project with
        // no live rows yet (its first sync) gets every issue from this very search.
        let has_rows: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM work_items WHERE tenant_id = $1 AND integration_id = $2
                            AND project_key = $3 AND deleted_at IS NULL)",
        )
        .bind(self.ids.tenant_id)
        .bind(self.ids.integration_id)
        .bind(project_key)
        .fetch_one(self.pool)
        .await
        .map_err(|e| ConnectorError::internal(format!("reading the project's rows: {e}")))?;
        let mut pages = 0;
        // Changelog completions of the pages stored so far, running while pages arrive.
        let mut changelogs = futures_util::stream::FuturesUnordered::new();
        let mut fetched = self.issue_page(&jql, fields, None).await?;
        loop {
            // Parsed before storing, stored either way: an unreadable page still reaches the
            // transformer, which dead-letters it with the reason, and stays inspectable.
            let parsed: Result<SearchPage, ConnectorError> =
                with_development_field(self.dev.field(), || fetched.parse("issue search page"));
            let count = parsed.as_ref().map(|p| p.issues.len() as u64).unwrap_or(0);
            let next_token = parsed.as_ref().ok().and_then(|page| {
                let last = page.is_last.unwrap_or(page.next_page_token.is_none())
                    || page.issues.is_empty();
                page.next_page_token.clone().filter(|_| !last)
            });
            let context = json!({ "project_key": project_key, "jql": jql });
            // The next page is on its way while this one is stored, and the changelogs of
            // earlier pages are completed meanwhile: a project's pages are fetched back to
            // back, never after a store or a changelog.
            let next = async {
                match &next_token {
                    Some(token) => Some(self.issue_page(&jql, fields, Some(token)).await),
                    None => None,
                }
            };
            let current = async {
                if self
                    .store_and_publish_scoped(
                        "jira.issues",
                        step,
                        fetched,
                        context,
                        count,
                        Some(scope.clone()),
                    )
                    .await?
                {
                    return Ok::<_, ConnectorError>(None);
                }
                let page = parsed?;
                self.feed_fetched(&page).await?;
                Ok(Some(
                    page.issues
                        .iter()
                        .filter(|i| {
                            i.changelog
                                .as_ref()
                                .is_some_and(|c| (c.histories.len() as u64) < c.total.unwrap_or(0))
                        })
                        .map(|i| (i.id.clone(), i.key.clone()))
                        .collect::<Vec<_>>(),
                ))
            };
            tokio::pin!(next, current);
            let (mut stored, mut upcoming) = (None, None);
            while stored.is_none() || upcoming.is_none() {
                tokio::select! {
                    result = &mut current, if stored.is_none() => stored = Some(result),
                    result = &mut next, if upcoming.is_none() => upcoming = Some(result),
                    Some(result) = changelogs.next(), if !changelogs.is_empty() => {
                        let (stopped, changelog_pages) = result?;
                        pages += changelog_pages;
                        if stopped {
                            return Ok((true, pages));
                        }
                    }
                }
            }
            pages += 1;
            match stored.expect("stored above")? {
                None => return Ok((true, pages)),
                Some(truncated) if truncated.is_empty() => {}
                Some(truncated) => changelogs.push(Box::pin(async move {
                    self.complete_changelogs(step, &truncated, bulk_available)
                        .await
                })),
            }
            match upcoming.expect("fetched above") {
                Some(next) => fetched = next?,
                None => break,
            }
        }
        while let Some(result) = changelogs.next().await {
            let (stopped, changelog_pages) = result?;
            pages += changelog_pages;
            if stopped {
                return Ok((true, pages));
            }
        }
        if !has_rows {
            return Ok((false, pages));
        }
        let (stopped, listing_pages) = self.list_issue_keys(step, project_key).await?;
        Ok((stopped, pages + listing_pages))
    }

    /// One page of a project's issues search.
    async fn issue_page(
        &self,
        jql: &str,
        fields: &[String],
        token: Option<&str>,
    ) -> Result<Fetched, ConnectorError> {
        let mut requested = fields.join(",");
        if let Some(development) = self.dev.field() {
            requested.push(',');
            requested.push_str(development);
        }
        let mut query = vec![
            ("jql", jql.to_string()),
            ("fields", requested),
            ("expand", "changelog".to_string()),
            ("maxResults", self.fetch.page_size.to_string()),
        ];
        if let Some(token) = token {
            query.push(("nextPageToken", token.to_string()));
        }
        self.client.get("/rest/api/3/search/jql", &query).await
    }

    /// Hands the page's issues to dev status (with the Development field: only those that
    /// have something).
    async fn feed_fetched(&self, page: &SearchPage) -> Result<(), ConnectorError> {
        let leads = self
            .leads(
                page.issues
                    .iter()
                    .map(|i| (i.id.as_str(), i.key.as_str(), i.development.as_deref())),
            )
            .await?;
        self.hand_to_dev_status(leads);
        Ok(())
    }

    /// A key-only listing of the project (large pages, one call per 5,000 issues): the
    /// loader compares it with the table to mark deleted or moved-away issues.
    async fn list_issue_keys(
        &self,
        step: i32,
        project_key: &str,
    ) -> Result<(bool, u64), ConnectorError> {
        let jql = project_jql(project_key, None)?;
        let listing_id = uuid::Uuid::new_v4().to_string();
        // When the listing begins, by the database's clock (the one rows are stamped with):
        // the loader lets it delete only rows loaded before this moment.
        let listed_at_ms: i64 =
            sqlx::query_scalar("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")
                .fetch_one(self.pool)
                .await
                .map_err(|e| {
                    ConnectorError::internal(format!("reading the database clock: {e}"))
                })?;
        // With the Development field (dev status is part of the run), the listing carries
        // it: Jira may then answer in smaller pages, followed by token as always.
        let listed_fields = match self.dev.field() {
            Some(field) => format!("key,{field}"),
            None => "key".to_string(),
        };
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut query = vec![
                ("jql", jql.clone()),
                ("fields", listed_fields.clone()),
                ("maxResults", "5000".to_string()),
            ];
            if let Some(token) = &token {
                query.push(("nextPageToken", token.clone()));
            }
            let fetched = self.client.get("/rest/api/3/search/jql", &query).await?;
            let page: SearchPage =
                with_development_field(self.dev.field(), || fetched.parse("issue key listing"))?;
            if self.dev.field().is_some() {
                // Linking development work does not move `updated`: the issues whose
                // summary changed since the last completed run get dev status too.
                let leads = self
                    .leads(
                        page.issues
                            .iter()
                            .map(|i| (i.id.as_str(), i.key.as_str(), i.development.as_deref())),
                    )
                    .await?;
                self.hand_to_dev_status(leads);
            }
            let last =
                page.is_last.unwrap_or(page.next_page_token.is_none()) || page.issues.is_empty();
            let context = json!({
                "project_key": project_key,
                "listing_id": listing_id,
                "listed_at_ms": listed_at_ms,
                "page": pages,
                "last": last,
            });
            if self
                .store_and_publish("jira.issue_keys", step, fetched, context, 0)
                .await?
            {
                return Ok((true, pages));
            }
            pages += 1;
            match page.next_page_token.filter(|_| !last) {
                Some(next) => token = Some(next),
                None => return Ok((false, pages)),
            }
        }
    }

    /// The rest of truncated changelogs: bulk where the site has it, else per issue.
    async fn complete_changelogs(
        &self,
        step: i32,
        issues: &[(String, String)],
        bulk_available: &AtomicBool,
    ) -> Result<(bool, u64), ConnectorError> {
        if bulk_available.load(Ordering::Relaxed) {
            match self.bulk_changelogs(step, issues).await {
                Err(error) if matches!(error.http_status, Some(404 | 405)) => {
                    tracing::info!(
                        "changelog bulkfetch not available on this site; fetching per issue"
                    );
                    bulk_available.store(false, Ordering::Relaxed);
                }
                other => return other,
            }
        }
        // Several issues' changelogs at once; the site's pacing bounds what is in flight.
        let fetches: Vec<_> = issues
            .iter()
            .map(|(id, key)| Box::pin(self.issue_changelog(step, id, key)))
            .collect();
        let mut results =
            futures_util::stream::iter(fetches).buffer_unordered(CHANGELOG_CONCURRENCY);
        let mut pages = 0;
        let mut first_error = None;
        while let Some(result) = results.next().await {
            match result {
                Ok((stopped, issue_pages)) => {
                    pages += issue_pages;
                    if stopped {
                        return Ok((true, pages));
                    }
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok((false, pages)),
        }
    }

    async fn bulk_changelogs(
        &self,
        step: i32,
        issues: &[(String, String)],
    ) -> Result<(bool, u64), ConnectorError> {
        let ids: Vec<&str> = issues.iter().map(|(id, _)| id.as_str()).collect();
        let keys: serde_json::Map<String, serde_json::Value> = issues
            .iter()
            .map(|(id, key)| (id.clone(), json!(key)))
            .collect();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut body = json!({ "issueIdsOrKeys": ids, "maxResults": 1000 });
            if let Some(token) = &token {
                body["nextPageToken"] = json!(token);
            }
            let fetched = self
                .client
                .post_json("/rest/api/3/changelog/bulkfetch", &body)
                .await?;
            let page: BulkPage = fetched.parse("changelog bulkfetch page")?;
            let context = json!({ "issue_keys": keys });
            if self
                .store_and_publish("jira.changelog_bulk", step, fetched, context, 0)
                .await?
            {
                return Ok((true, pages));
            }
            pages += 1;
            match page.next_page_token {
                Some(next) if Some(&next) != token.as_ref() => token = Some(next),
                _ => return Ok((false, pages)),
            }
        }
    }

    async fn issue_changelog(
        &self,
        step: i32,
        id: &str,
        key: &str,
    ) -> Result<(bool, u64), ConnectorError> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(ConnectorError::remote(
                format!("Jira returned an issue id {id:?} that is not numeric"),
                false,
            ));
        }
        // The first page says how many histories there are and how many the site serves
        // per page; the rest are fetched at once (the site's pacing bounds what is in
        // flight), then from the last one on while the changelog keeps growing.
        let (first, mut pages) = match self.changelog_page(step, id, key, 0).await? {
            None => return Ok((true, 1)),
            Some(first) => (first, 1),
        };
        let (mut start_at, mut last) = first;
        if !last.done {
            let size = last.returned.max(1);
            let offsets: Vec<u64> = (start_at..last.total.unwrap_or(start_at))
                .step_by(size as usize)
                .collect();
            if !offsets.is_empty() {
                let fetches: Vec<_> = offsets
                    .iter()
                    .map(|at| Box::pin(self.changelog_page(step, id, key, *at)))
                    .collect();
                let mut results =
                    futures_util::stream::iter(fetches).buffered(CHANGELOG_PAGES_AT_ONCE);
                while let Some(result) = results.next().await {
                    match result? {
                        None => return Ok((true, pages)),
                        Some((next, page)) => {
                            pages += 1;
                            (start_at, last) = (next, page);
                        }
                    }
                }
            }
        }
        while !last.done {
            match self.changelog_page(step, id, key, start_at).await? {
                None => return Ok((true, pages)),
                Some((next, page)) => {
                    pages += 1;
                    (start_at, last) = (next, page);
                }
            }
        }
        Ok((false, pages))
    }

    /// One page of an issue's changelog from `start_at`, stored and published: where the
    /// next page starts and what the page said; `None` if told to stop.
    async fn changelog_page(
        &self,
        step: i32,
        id: &str,
        key: &str,
        start_at: u64,
    ) -> Result<Option<(u64, PageEnd)>, ConnectorError> {
        let query = [
            ("startAt", start_at.to_string()),
            ("maxResults", "100".to_string()),
        ];
        let fetched = self
            .client
            .get(&format!("/rest/api/3/issue/{id}/changelog"), &query)
            .await?;
        let page: ChangelogPage = fetched.parse("changelog page")?;
        let returned = page.values.len() as u64;
        let context = json!({ "issue_id": id, "issue_key": key });
        if self.store_grouped_changelog(step, fetched, context).await? {
            return Ok(None);
        }
        let next = page.start_at + returned;
        let done = page
            .is_last
            .unwrap_or_else(|| page.total.is_none_or(|t| next >= t))
            || returned == 0;
        Ok(Some((
            next,
            PageEnd {
                done,
                returned,
                total: page.total,
            },
        )))
    }
}

/// What a changelog page said about the rest.
#[derive(Clone, Copy)]
struct PageEnd {
    done: bool,
    returned: u64,
    total: Option<u64>,
}

/// Pages of one issue's changelog requested at once (after the first).
const CHANGELOG_PAGES_AT_ONCE: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_near_1970_bounds_nothing() {
        // Atlassian's example issue has `updated: 1` (1 ms after the epoch); minus the overlap
        // window the bound would be negative, which Jira answers with 400.
        let since = DateTime::from_timestamp_millis(1).unwrap() - chrono::Duration::minutes(5);
        assert_eq!(
            project_jql("EX", Some(since)).unwrap(),
            "project = \"EX\" ORDER BY updated ASC"
        );
    }

    #[test]
    fn jql_is_quoted_validated_and_bounded_by_an_instant() {
        assert_eq!(
            project_jql("ENG", None).unwrap(),
            "project = \"ENG\" ORDER BY updated ASC"
        );
        let since = DateTime::parse_from_rfc3339("2024-03-05T23:30:59.123Z")
            .unwrap()
            .with_timezone(&Utc);
        // Epoch milliseconds: the same instant whatever the account's time zone.
        assert_eq!(
            project_jql("ENG", Some(since)).unwrap(),
            "project = \"ENG\" AND updated >= 1709681459123 ORDER BY updated ASC"
        );
        assert!(project_jql("ENG\" OR project = \"X", None).is_err());
    }
}
