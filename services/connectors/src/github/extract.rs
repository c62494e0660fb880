//! One `github_sync` run: repositories (listed organizations and named repositories), then
//! per repository (several at once) its pull requests by `updated` descending, stopping at
//! the cursor on incremental runs; for each changed pull request its own page (additions,
//! deletions, merged by), commits and reviews; then the repository's review and issue
//! comments updated since the cursor, in repository-wide listings (a few pages instead of
//! two calls per pull request). Every page is stored exactly as received and referenced in
//! groups of up to 50 pull requests per transform message. That is the REST path; the
//! default is GraphQL (`graphql.rs`), with REST kept for servers without it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use sluice_plumbing::amqp::Publisher;
use sluice_plumbing::raw::{self, RawPage, RunIds};
use sluice_plumbing::settings::{GithubApi, GithubSettings};
use sluice_proto::v1 as pb;
use sqlx::PgPool;

use super::client::{GithubClient, Page};
use crate::error::ConnectorError;
use crate::jira::extract::Extracted;
use crate::progress::RunReporter;

/// Pull requests whose pages travel in one transform message.
pub const PRS_PER_MESSAGE: usize = 50;
/// GitHub's largest page.
const PER_PAGE: u32 = 100;
/// Incremental runs look this far behind the cursor (clock skew, same-second updates).
pub(super) const OVERLAP: chrono::Duration = chrono::Duration::minutes(2);

pub struct GithubRun<'a> {
    pub pool: &'a PgPool,
    pub publisher: &'a Publisher,
    pub client: &'a GithubClient,
    pub settings: &'a GithubSettings,
    pub ids: RunIds,
    pub run: &'a pb::RunContext,
    pub reporter: &'a RunReporter,
    /// Incremental cursors per repository (`github.repo:ID`); a repository without one is
    /// synced in full.
    pub cursors: sluice_plumbing::cursors::ScopeCursors,
    /// Repositories synced at once.
    pub concurrency: usize,
    pub pages: AtomicU64,
    /// The work ahead, for the projected finish (GraphQL).
    pub outlook: std::sync::Mutex<super::graphql::Outlook>,
    /// Set when the server turned out to have no GraphQL endpoint: REST from then on.
    pub rest_only: std::sync::atomic::AtomicBool,
}

#[derive(Deserialize)]
pub(super) struct RepoRef {
    pub(super) id: i64,
    pub(super) full_name: String,
    #[serde(default)]
    archived: bool,
}

#[derive(Deserialize)]
struct PrRef {
    number: i64,
    updated_at: Option<DateTime<Utc>>,
}

/// A comment of a repository-wide listing, as far as the connector reads it (the issue it
/// is on; review comments have none).
#[derive(Deserialize)]
struct CommentRef {
    issue_url: Option<String>,
}

/// Pages of one message being assembled.
#[derive(Default)]
pub(super) struct Group {
    pub(super) raw_ids: Vec<i64>,
    pub(super) pull_requests: usize,
}

impl GithubRun<'_> {
    pub async fn extract(&self) -> Result<Extracted, ConnectorError> {
        if self.reporter.step_started(1, "repositories").await? {
            return Ok(Extracted::Stopped);
        }
        let repos = self.repositories().await?;
        let total = repos.len();
        self.outlook.lock().unwrap_or_else(|e| e.into_inner()).repos = total;
        if self
            .reporter
            .step_started(2, &format!("pull requests: 0/{total} repositories"))
            .await?
        {
            return Ok(Extracted::Stopped);
        }
        let done = AtomicU64::new(0);
        // Several repositories at once (a hand-rolled buffer: named futures keep the
        // borrows simple).
        let mut running = futures_util::stream::FuturesUnordered::new();
        let mut queue = repos.iter();
        loop {
            while running.len() < self.concurrency.max(1) {
                match queue.next() {
                    Some(repo) => running.push(self.repository_counted(repo, &done, total)),
                    None => break,
                }
            }
            match running.next().await {
                Some(result) => {
                    if result? {
                        return Ok(Extracted::Stopped);
                    }
                }
                None => break,
            }
        }
        drop(running);
        self.keep_validators().await?;
        Ok(Extracted::Finished {
            pages: self.pages.load(Ordering::Relaxed),
        })
    }

    /// The repositories to sync: every repository of each listed organization (archived
    /// ones only if asked), and each named repository.
    async fn repositories(&self) -> Result<Vec<RepoRef>, ConnectorError> {
        let mut repos: Vec<RepoRef> = Vec::new();
        for org in &self.settings.organizations {
            let mut url = Some(self.client.url(&format!(
                "/orgs/{}/repos?type=all&per_page={PER_PAGE}",
                path_segment(org)?
            )));
            while let Some(next) = url.take() {
                let page = self.client.get_url(&next, false).await?;
                let listed: Vec<RepoRef> = parse(&page, "repository list")?;
                self.store_alone(&page, "github.repositories", 1, json!({"org": org}))
                    .await?;
                repos.extend(
                    listed
                        .into_iter()
                        .filter(|r| self.settings.include_archived || !r.archived),
                );
                url = page.next;
            }
        }
        for name in &self.settings.repositories {
            let (owner, repo) = name.split_once('/').ok_or_else(|| {
                ConnectorError::config(format!("repository {name:?} is not of the form owner/name"))
            })?;
            let page = self
                .client
                .get(
                    &format!("/repos/{}/{}", path_segment(owner)?, path_segment(repo)?),
                    false,
                )
                .await?;
            let found: RepoRef = parse(&page, "repository")?;
            self.store_alone(&page, "github.repository", 1, json!({"repo": name}))
                .await?;
            repos.push(found);
        }
        let mut seen = BTreeSet::new();
        repos.retain(|r| seen.insert(r.id));
        Ok(repos)
    }

    async fn repository_counted(
        &self,
        repo: &RepoRef,
        done: &AtomicU64,
        total: usize,
    ) -> Result<bool, ConnectorError> {
        let stopped = self.repository(repo).await?;
        let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
        self.reporter.set_step_name(&format!(
            "pull requests: {finished}/{total} repositories ({})",
            repo.full_name
        ));
        Ok(stopped)
    }

    /// One repository's changed pull requests and comments, over GraphQL unless the
    /// settings say REST or the server has no GraphQL. Returns true if told to stop.
    async fn repository(&self, repo: &RepoRef) -> Result<bool, ConnectorError> {
        use super::graphql::RepoOutcome;
        if self.settings.pull_requests_api != GithubApi::Rest
            && !self.rest_only.load(Ordering::Relaxed)
        {
            match self.repository_graphql(repo).await? {
                RepoOutcome::Done => return Ok(false),
                RepoOutcome::Stopped => return Ok(true),
                RepoOutcome::NoGraphql(message) => {
                    if self.settings.pull_requests_api == GithubApi::Graphql {
                        return Err(ConnectorError::config(format!(
                            "the integration is set to fetch pull requests over GraphQL, but the server has no GraphQL endpoint: {message}"
                        )));
                    }
                    if !self.rest_only.swap(true, Ordering::Relaxed) {
                        tracing::warn!(%message, "the GitHub server has no GraphQL endpoint; pull requests come over REST");
                    }
                }
            }
        }
        self.repository_rest(repo).await
    }

    /// One repository over REST.
    async fn repository_rest(&self, repo: &RepoRef) -> Result<bool, ConnectorError> {
        let scope = sluice_plumbing::cursors::github_repo(repo.id);
        let since = self.cursors.get(&scope).map(|c| c - OVERLAP);
        let context = json!({"repo_id": repo.id, "repo": repo.full_name});
        // The repository's cursor candidate is what the listing saw (newest first), not what
        // the pull requests' own pages show: those are fetched later and may carry a change
        // made after the listing, past changes of other pull requests it never listed.
        let mut cursor_marked = false;
        let mut group = Group::default();
        let mut changed: Vec<i64> = Vec::new();
        let mut url = Some(self.client.url(&format!(
            "/repos/{}/pulls?state=all&sort=updated&direction=desc&per_page={PER_PAGE}",
            repo.full_name
        )));
        'listing: while let Some(next) = url.take() {
            // The first page unchanged since the last completed run: nothing in the
            // repository was updated since (the listing is by `updated` descending).
            let page = self.client.get_url(&next, true).await?;
            if page.not_modified() {
                break;
            }
            let listed: Vec<PrRef> = parse(&page, "pull request list")?;
            let mut reached_cursor = false;
            let mut fresh: Vec<i64> = Vec::with_capacity(listed.len());
            let mut newest: Option<DateTime<Utc>> = None;
            for pr in &listed {
                if let (Some(since), Some(updated)) = (since, pr.updated_at)
                    && updated < since
                {
                    reached_cursor = true;
                    break;
                }
                newest = newest.max(pr.updated_at);
                fresh.push(pr.number);
            }
            // Only the first listing page with changes carries the scope and its candidate.
            let scoped = match newest {
                Some(newest) if !cursor_marked => {
                    cursor_marked = true;
                    Some((scope.clone(), newest))
                }
                _ => None,
            };
            group.raw_ids.push(
                self.store_scoped(&page, "github.pulls", 2, context.clone(), scoped)
                    .await?,
            );
            changed.extend(&fresh);
            // Details, several pull requests at once.
            let mut details = futures_util::stream::FuturesOrdered::new();
            let mut numbers = fresh.iter();
            loop {
                while details.len() < 8 {
                    match numbers.next() {
                        Some(number) => details.push_back(self.pull_request(repo, *number)),
                        None => break,
                    }
                }
                let Some(raw_ids) = details.next().await else {
                    break;
                };
                group.raw_ids.extend(raw_ids?);
                group.pull_requests += 1;
                if group.pull_requests >= PRS_PER_MESSAGE {
                    let full = std::mem::take(&mut group);
                    if self.publish(full.raw_ids, 2).await? {
                        return Ok(true);
                    }
                }
            }
            if reached_cursor {
                break 'listing;
            }
            url = page.next;
        }
        if !group.raw_ids.is_empty() && self.publish(std::mem::take(&mut group.raw_ids), 2).await? {
            return Ok(true);
        }
        if changed.is_empty() {
            return Ok(false);
        }
        self.reporter.add_github(changed.len() as i64, 0, 0, 0);
        self.comment_listings(
            repo,
            since,
            &changed,
            &["github.review_comments", "github.issue_comments"],
        )
        .await
    }

    /// Comments updated since the cursor (all on a full run), repository-wide, of the
    /// `kinds` asked (`github.review_comments`, `github.issue_comments`), published in one
    /// message. The issue-comment listing also has plain issues' comments: only those on
    /// pull requests are kept, the ones `changed` in this run and those landed before (a
    /// comment edit does not move its pull request's `updated_at`). Returns true if told to
    /// stop.
    pub(super) async fn comment_listings(
        &self,
        repo: &RepoRef,
        since: Option<DateTime<Utc>>,
        changed: &[i64],
        kinds: &[&str],
    ) -> Result<bool, ConnectorError> {
        let since_param = since
            .map(|s| format!("&since={}", s.format("%Y-%m-%dT%H:%M:%SZ")))
            .unwrap_or_default();
        let mut comment_group = Vec::new();
        for (kind, path) in [
            ("github.review_comments", "pulls/comments"),
            ("github.issue_comments", "issues/comments"),
        ] {
            if !kinds.contains(&kind) {
                continue;
            }
            let mut url = Some(self.client.url(&format!(
                "/repos/{}/{path}?sort=updated&direction=asc&per_page={PER_PAGE}{since_param}",
                repo.full_name
            )));
            while let Some(next) = url.take() {
                let page = self.client.get_url(&next, false).await?;
                let comments: Vec<CommentRef> = parse(&page, "comment list")?;
                let context = if kind == "github.issue_comments" {
                    let numbers = self.pull_request_numbers(repo, &comments, changed).await?;
                    json!({"repo_id": repo.id, "repo": repo.full_name, "pr_numbers": numbers})
                } else {
                    json!({"repo_id": repo.id, "repo": repo.full_name})
                };
                self.reporter.add_github(0, 0, 0, comments.len() as i64);
                comment_group.push(self.store(&page, kind, 2, context).await?);
                url = page.next;
            }
        }
        self.publish(comment_group, 2).await
    }

    /// The numbers an issue-comment page names that are pull requests: changed in this
    /// run, or already landed for this integration.
    async fn pull_request_numbers(
        &self,
        repo: &RepoRef,
        listed: &[CommentRef],
        changed: &[i64],
    ) -> Result<Vec<i64>, ConnectorError> {
        let mut named: Vec<i64> = listed
            .iter()
            .filter_map(|c| c.issue_url.as_deref()?.rsplit('/').next()?.parse().ok())
            .filter(|n| !changed.contains(n))
            .collect();
        named.sort_unstable();
        named.dedup();
        let mut numbers = changed.to_vec();
        if !named.is_empty() {
            let known: Vec<i64> = sqlx::query_scalar(
                "SELECT number FROM pull_requests
                 WHERE integration_id = $1 AND repository_id = $2 AND number = ANY($3)",
            )
            .bind(self.ids.integration_id)
            .bind(repo.id)
            .bind(&named)
            .fetch_all(self.pool)
            .await
            .map_err(|e| ConnectorError::internal(format!("reading known pull requests: {e}")))?;
            numbers.extend(known);
        }
        Ok(numbers)
    }

    /// One pull request's page, commits and reviews; returns their raw page ids.
    async fn pull_request(&self, repo: &RepoRef, number: i64) -> Result<Vec<i64>, ConnectorError> {
        let context = json!({"repo_id": repo.id, "repo": repo.full_name, "number": number});
        let base = format!("/repos/{}/pulls/{number}", repo.full_name);
        let commits_path = format!("{base}/commits?per_page={PER_PAGE}");
        let reviews_path = format!("{base}/reviews?per_page={PER_PAGE}");
        let (pr, commits, reviews) = tokio::join!(
            self.client.get(&base, true),
            self.all_pages(&commits_path),
            self.all_pages(&reviews_path),
        );
        let mut ids = Vec::new();
        let pr = pr?;
        if !pr.not_modified() {
            ids.push(self.store(&pr, "github.pull", 2, context.clone()).await?);
        }
        let mut counts = (0i64, 0i64);
        for page in commits? {
            let items: Vec<serde::de::IgnoredAny> = parse(&page, "commit list")?;
            counts.0 += items.len() as i64;
            ids.push(
                self.store(&page, "github.pr_commits", 2, context.clone())
                    .await?,
            );
        }
        for page in reviews? {
            let items: Vec<serde::de::IgnoredAny> = parse(&page, "review list")?;
            counts.1 += items.len() as i64;
            ids.push(
                self.store(&page, "github.pr_reviews", 2, context.clone())
                    .await?,
            );
        }
        self.reporter.add_github(0, counts.0, counts.1, 0);
        Ok(ids)
    }

    /// Every page of a listing, following `Link: rel="next"`; a first page unchanged since
    /// the last completed run (304) means the whole listing is.
    async fn all_pages(&self, path: &str) -> Result<Vec<Page>, ConnectorError> {
        let mut pages = Vec::new();
        let first = self.client.get(path, true).await?;
        if first.not_modified() {
            return Ok(pages);
        }
        let mut next = first.next.clone();
        pages.push(first);
        while let Some(url) = next.take() {
            let page = self.client.get_url(&url, false).await?;
            next = page.next.clone();
            pages.push(page);
        }
        Ok(pages)
    }

    pub(super) async fn store(
        &self,
        page: &Page,
        extraction_type: &str,
        step: i32,
        request_context: serde_json::Value,
    ) -> Result<i64, ConnectorError> {
        self.store_scoped(page, extraction_type, step, request_context, None)
            .await
    }

    /// Stores a page; a listing page names its repository's scope and the newest `updated`
    /// it listed (the cursor candidate).
    pub(super) async fn store_scoped(
        &self,
        page: &Page,
        extraction_type: &str,
        step: i32,
        request_context: serde_json::Value,
        scope: Option<(String, DateTime<Utc>)>,
    ) -> Result<i64, ConnectorError> {
        let (scope, cursor) = scope.unzip();
        let stored = RawPage {
            scope,
            cursor,
            extraction_type: extraction_type.to_string(),
            step,
            request_url: page.url.clone(),
            request_context,
            http_status: page.status,
            content_type: page.content_type.clone(),
            body: page.body.clone(),
        };
        let id = raw::store(self.pool, self.ids, &stored)
            .await
            .map_err(|e| ConnectorError::internal(format!("storing a raw page: {e}")))?;
        self.pages.fetch_add(1, Ordering::Relaxed);
        Ok(id)
    }

    /// Stores a page and publishes it on its own.
    async fn store_alone(
        &self,
        page: &Page,
        extraction_type: &str,
        step: i32,
        context: serde_json::Value,
    ) -> Result<(), ConnectorError> {
        let id = self.store(page, extraction_type, step, context).await?;
        self.publish(vec![id], step).await?;
        Ok(())
    }

    /// Publishes one message for `ids` (the first is the message's page, the others
    /// grouped with it). Returns true if told to stop.
    pub(super) async fn publish(
        &self,
        mut ids: Vec<i64>,
        step: i32,
    ) -> Result<bool, ConnectorError> {
        if ids.is_empty() {
            return Ok(false);
        }
        ids.sort_unstable();
        let reference = pb::RawBatchRef {
            run: Some(self.run.clone()),
            raw_id: ids[0],
            extraction_type: "github.group".into(),
            step,
            grouped_raw_ids: ids[1..].to_vec(),
            record_indexes: Vec::new(),
        };
        self.publisher
            .publish(&self.publisher.topology().transform(), &reference)
            .await
            .map_err(|e| {
                ConnectorError::internal(format!("publishing raw pages {}..: {e}", ids[0]))
            })?;
        let pages = ids.len() as u64;
        self.reporter.page_stored(pages, 0).await
    }

    /// Remembers this run's ETags; the next run uses them only if this one completes.
    async fn keep_validators(&self) -> Result<(), ConnectorError> {
        let seen = self.client.seen_validators();
        if seen.is_empty() {
            return Ok(());
        }
        let (urls, etags): (Vec<String>, Vec<String>) = seen.into_iter().unzip();
        sqlx::query(
            "INSERT INTO http_validators (integration_id, url, etag, run_id)
             SELECT $1, * , $4 FROM UNNEST($2::text[], $3::text[])
             ON CONFLICT (integration_id, url) DO UPDATE SET etag = EXCLUDED.etag,
                 run_id = EXCLUDED.run_id, seen_at = now()",
        )
        .bind(self.ids.integration_id)
        .bind(&urls)
        .bind(&etags)
        .bind(self.ids.run_id)
        .execute(self.pool)
        .await
        .map_err(|e| ConnectorError::internal(format!("keeping ETags: {e}")))?;
        Ok(())
    }
}

/// ETags recorded by the integration's runs that completed (a failed run's may cover
/// pages that never loaded).
pub async fn validators(
    pool: &PgPool,
    integration_id: uuid::Uuid,
) -> Result<std::collections::HashMap<String, String>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT v.url, v.etag FROM http_validators v
         JOIN job_runs r ON r.id = v.run_id AND r.status = 'COMPLETED'
         WHERE v.integration_id = $1",
    )
    .bind(integration_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

fn parse<'a, T: Deserialize<'a>>(page: &'a Page, what: &str) -> Result<T, ConnectorError> {
    serde_json::from_slice(&page.body).map_err(|e| {
        ConnectorError::remote(
            format!("GitHub returned a malformed {what} from {}: {e}", page.url),
            false,
        )
    })
}

/// An owner, repository or organization name as one URL path segment (GitHub names are
/// letters, digits, '-', '_' and '.'); anything else is refused rather than sent.
fn path_segment(name: &str) -> Result<&str, ConnectorError> {
    let valid = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(name)
    } else {
        Err(ConnectorError::config(format!(
            "{name:?} is not a valid GitHub owner, organization or repository name"
        )))
    }
}
