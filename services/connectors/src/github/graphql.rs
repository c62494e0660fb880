//! Pull requests over GraphQL: one query per page of a repository's pull requests, newest
//! update first, with each one's first 100 commits, reviews and conversation comments; a
//! further query only for a connection that has more. At GitHub's cost rule a page of 100
//! costs 3 points (301 requests' worth / 100), about 0.03 points per pull request, from the
//! GraphQL budget; REST would spend about three requests per pull request from the REST
//! budget. Review comments hang two connections deep (threads, then comments), where a
//! page would cost over 100 points, so they come from REST's repository-wide listing (a few
//! requests per repository, from the other budget); on incremental runs the conversation
//! comments edited since the cursor do too (an edit does not move a pull request's
//! `updatedAt`). Answers are stored raw like REST pages (`github.graphql_pulls`,
//! `github.graphql_pull`) and the transformer lands the same rows from them.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::client::{GraphqlPage, GraphqlRefusal};
use super::extract::{GithubRun, Group, OVERLAP, PRS_PER_MESSAGE, RepoRef};
use crate::error::ConnectorError;

/// GitHub's node limit per query.
pub const NODE_LIMIT: u64 = 500_000;
/// GitHub's largest page.
const MAX_FIRST: u64 = 100;
/// Children per connection asked with each pull request.
const INNER: u64 = 100;
/// The first page of an incremental run: most repositories changed little, and a page of
/// 20 costs 1 point where one of 100 costs 3.
const INCREMENTAL_FIRST: u64 = 20;

const PULL_REQUEST_FIELDS: &str = "id databaseId number title body state isDraft merged \
     author { login } baseRefName headRefName headRefOid createdAt updatedAt mergedAt \
     closedAt additions deletions changedFiles mergedBy { login } url";
const PAGE_INFO: &str = "totalCount pageInfo { hasNextPage endCursor }";
const COMMIT_NODES: &str = "nodes { commit { oid message url author { name email date user { login } } committer { date } } }";
const REVIEW_NODES: &str =
    "nodes { databaseId author { login } state body submittedAt commit { oid } }";
const COMMENT_NODES: &str = "nodes { databaseId author { login } body createdAt updatedAt url }";

/// The connections asked with each pull request: (field, its nodes' selection).
const CONNECTIONS: [(&str, &str); 3] = [
    ("commits", COMMIT_NODES),
    ("reviews", REVIEW_NODES),
    ("comments", COMMENT_NODES),
];

/// The query for a page of pull requests.
pub fn pulls_query() -> String {
    let children: String = CONNECTIONS
        .iter()
        .map(|(field, nodes)| format!(" {field}(first: $inner) {{ {PAGE_INFO} {nodes} }}"))
        .collect();
    format!(
        "query($owner: String!, $name: String!, $first: Int!, $after: String, $inner: Int!) {{ \
         rateLimit {{ cost limit remaining resetAt }} \
         repository(owner: $owner, name: $name) {{ databaseId \
         pullRequests(first: $first, after: $after, orderBy: {{field: UPDATED_AT, direction: DESC}}) {{ \
         {PAGE_INFO} nodes {{ {PULL_REQUEST_FIELDS}{children} }} }} }} }}"
    )
}

/// The query for the next page of one connection of one pull request.
pub fn connection_query(field: &str) -> Option<String> {
    let (_, nodes) = CONNECTIONS.iter().find(|(name, _)| *name == field)?;
    Some(format!(
        "query($owner: String!, $name: String!, $number: Int!, $after: String) {{ \
         rateLimit {{ cost limit remaining resetAt }} \
         repository(owner: $owner, name: $name) {{ pullRequest(number: $number) {{ number \
         {field}(first: {MAX_FIRST}, after: $after) {{ {PAGE_INFO} {nodes} }} }} }} }}"
    ))
}

/// GitHub's cost of the page query: one request for the page of `first` pull requests, and
/// `first` for each child connection; divided by 100, rounded, at least 1.
pub fn pulls_cost(first: u64) -> u64 {
    let requests = 1 + first * CONNECTIONS.len() as u64;
    ((requests + 50) / 100).max(1)
}

/// Nodes the page query may return: the pull requests, and `inner` children of each for
/// every connection.
pub fn pulls_nodes(first: u64, inner: u64) -> u64 {
    first + first * inner * CONNECTIONS.len() as u64
}

/// The largest page (≤ 100) whose query stays within `limit` nodes.
pub fn first_within(limit: u64, inner: u64) -> u64 {
    (limit / (1 + inner * CONNECTIONS.len() as u64)).clamp(1, MAX_FIRST)
}

/// What the run has seen of the work ahead, for the projected finish.
#[derive(Default)]
pub struct Outlook {
    /// Repositories to sync, and those whose size is known.
    pub repos: usize,
    pub sized: usize,
    /// Pull requests expected in the sized repositories, and those fetched.
    pub expected: u64,
    pub fetched: u64,
}

pub enum RepoOutcome {
    Done,
    Stopped,
    /// The server has no GraphQL endpoint.
    NoGraphql(String),
}

impl GithubRun<'_> {
    /// One repository's changed pull requests over GraphQL, then its review comments (and,
    /// on incremental runs, conversation comments edited since the cursor) over REST.
    pub(super) async fn repository_graphql(
        &self,
        repo: &RepoRef,
    ) -> Result<RepoOutcome, ConnectorError> {
        let (owner, name) = repo.full_name.split_once('/').ok_or_else(|| {
            ConnectorError::remote(
                format!("repository {:?} is not named owner/name", repo.full_name),
                false,
            )
        })?;
        let scope = sluice_plumbing::cursors::github_repo(repo.id);
        let since = self.cursors.get(&scope).map(|c| c - OVERLAP);
        let query = pulls_query();
        let mut first = if since.is_some() {
            INCREMENTAL_FIRST
        } else {
            MAX_FIRST
        };
        // Kept under GitHub's node limit before asking, and halved if the server's is lower.
        let mut node_limit = NODE_LIMIT;
        let mut after: Option<String> = None;
        let mut cursor_marked = false;
        let mut group = Group::default();
        let mut changed: Vec<i64> = Vec::new();
        let mut sized = false;
        loop {
            first = first.min(first_within(node_limit, INNER));
            let variables = json!({"owner": owner, "name": name, "first": first,
                "after": after, "inner": INNER});
            let what = format!("pull requests of {}", repo.full_name);
            let page = match self
                .client
                .graphql(&query, variables, pulls_cost(first), &what)
                .await?
            {
                Ok(page) => page,
                Err(GraphqlRefusal::NodeLimit(message)) => {
                    if first == 1 {
                        return Err(ConnectorError::remote(
                            format!("GitHub refused even one pull request per query: {message}"),
                            false,
                        ));
                    }
                    tracing::info!(repo = %repo.full_name, first, %message, "GraphQL node limit: asking for fewer pull requests per query");
                    node_limit = pulls_nodes(first, INNER) / 2;
                    continue;
                }
                Err(GraphqlRefusal::NoEndpoint(message)) => {
                    return Ok(RepoOutcome::NoGraphql(message));
                }
            };
            let connection = pulls_connection(&page, &repo.full_name)?;
            let nodes = connection
                .get("nodes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if !sized {
                sized = true;
                let total = connection
                    .get("totalCount")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                self.size_known(if since.is_none() {
                    total
                } else {
                    nodes.len() as u64
                });
            }
            let mut reached_cursor = false;
            let mut fresh = Vec::new();
            let mut newest: Option<DateTime<Utc>> = None;
            for node in &nodes {
                let updated = node
                    .get("updatedAt")
                    .and_then(Value::as_str)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc));
                if let (Some(since), Some(updated)) = (since, updated)
                    && updated < since
                {
                    reached_cursor = true;
                    break;
                }
                newest = newest.max(updated);
                fresh.push(node);
            }
            let scoped = match newest {
                Some(newest) if !cursor_marked => {
                    cursor_marked = true;
                    Some((scope.clone(), newest))
                }
                _ => None,
            };
            if !fresh.is_empty() {
                let context = json!({"repo_id": repo.id, "repo": repo.full_name,
                    "since_ms": since.map(|s| s.timestamp_millis())});
                group.raw_ids.push(
                    self.store_scoped(&page.page, "github.graphql_pulls", 2, context, scoped)
                        .await?,
                );
                let mut counts = [0i64; 3];
                for node in &fresh {
                    let number = node.get("number").and_then(Value::as_i64).unwrap_or(0);
                    changed.push(number);
                    for (i, (field, _)) in CONNECTIONS.iter().enumerate() {
                        counts[i] += nodes_in(node.get(*field));
                        let rest = self
                            .rest_of_connection(repo, owner, name, number, field, node.get(*field))
                            .await?;
                        counts[i] += rest.1;
                        group.raw_ids.extend(rest.0);
                    }
                }
                self.reporter
                    .add_github(fresh.len() as i64, counts[0], counts[1], counts[2]);
                if self.fetched(fresh.len() as u64).await? {
                    return Ok(RepoOutcome::Stopped);
                }
                group.pull_requests += fresh.len();
                if group.pull_requests >= PRS_PER_MESSAGE {
                    let full = std::mem::take(&mut group);
                    if self.publish(full.raw_ids, 2).await? {
                        return Ok(RepoOutcome::Stopped);
                    }
                }
            }
            let has_next = connection
                .pointer("/pageInfo/hasNextPage")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            after = connection
                .pointer("/pageInfo/endCursor")
                .and_then(Value::as_str)
                .map(str::to_string);
            if reached_cursor || !has_next || after.is_none() {
                break;
            }
            first = MAX_FIRST;
        }
        if !group.raw_ids.is_empty() && self.publish(std::mem::take(&mut group.raw_ids), 2).await? {
            return Ok(RepoOutcome::Stopped);
        }
        // Review comments always come from REST; conversation comments came with their pull
        // requests, and on incremental runs REST also brings those edited since the cursor.
        let mut kinds = vec!["github.review_comments"];
        if since.is_some() {
            kinds.push("github.issue_comments");
        }
        if self.comment_listings(repo, since, &changed, &kinds).await? {
            return Ok(RepoOutcome::Stopped);
        }
        Ok(RepoOutcome::Done)
    }

    /// The pages after the first of one pull request's connection (when it has more);
    /// returns their raw page ids and the children they hold.
    async fn rest_of_connection(
        &self,
        repo: &RepoRef,
        owner: &str,
        name: &str,
        number: i64,
        field: &str,
        connection: Option<&Value>,
    ) -> Result<(Vec<i64>, i64), ConnectorError> {
        let mut ids = Vec::new();
        let mut children = 0;
        let mut info = connection.and_then(|c| c.get("pageInfo")).cloned();
        let query = connection_query(field).ok_or_else(|| {
            ConnectorError::internal(format!("no GraphQL query for the {field} connection"))
        })?;
        while let Some(page_info) = info.take() {
            let more = page_info
                .get("hasNextPage")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let Some(cursor) = page_info.get("endCursor").and_then(Value::as_str) else {
                break;
            };
            if !more {
                break;
            }
            let variables =
                json!({"owner": owner, "name": name, "number": number, "after": cursor});
            let what = format!("{field} of {}#{number}", repo.full_name);
            // One connection of 100 under one pull request: 1 point.
            let page = match self.client.graphql(&query, variables, 1, &what).await? {
                Ok(page) => page,
                Err(GraphqlRefusal::NodeLimit(message) | GraphqlRefusal::NoEndpoint(message)) => {
                    return Err(ConnectorError::remote(
                        format!("GitHub refused the query for {what}: {message}"),
                        false,
                    ));
                }
            };
            let next = page
                .data
                .pointer(&format!("/repository/pullRequest/{field}"))
                .cloned()
                .ok_or_else(|| {
                    ConnectorError::remote(
                        format!("GitHub's answer for {what} has no repository.pullRequest.{field}"),
                        false,
                    )
                })?;
            children += nodes_in(Some(&next));
            let context = json!({"repo_id": repo.id, "repo": repo.full_name, "number": number});
            ids.push(
                self.store(&page.page, "github.graphql_pull", 2, context)
                    .await?,
            );
            info = next.get("pageInfo").cloned();
        }
        Ok((ids, children))
    }

    /// A repository's size is known: `pull_requests` will be fetched from it.
    fn size_known(&self, pull_requests: u64) {
        let mut outlook = self.outlook.lock().unwrap_or_else(|e| e.into_inner());
        outlook.sized += 1;
        outlook.expected += pull_requests;
    }

    /// Pull requests fetched; the projected finish follows, and is reported at once when it
    /// changes (the run may be about to wait for the budget). Returns true if told to stop.
    async fn fetched(&self, pull_requests: u64) -> Result<bool, ConnectorError> {
        let (expected, fetched) = {
            let mut outlook = self.outlook.lock().unwrap_or_else(|e| e.into_inner());
            outlook.fetched += pull_requests;
            // Repositories not sized yet are taken to be like the sized ones.
            let per_repo = outlook.expected as f64 / outlook.sized.max(1) as f64;
            let not_sized = outlook.repos.saturating_sub(outlook.sized) as f64;
            (
                outlook.expected as f64 + per_repo * not_sized,
                outlook.fetched as f64,
            )
        };
        let spent = self.client.points_spent() as f64;
        if fetched <= 0.0 {
            return Ok(false);
        }
        let needed = (expected - fetched).max(0.0) * spent / fetched;
        let (left, limit, reset) = self.client.budget(super::client::Resource::Graphql);
        let projected = projected_finish(needed, left, limit, reset);
        if self.client.set_projected_finish(projected) {
            return self.reporter.flush().await;
        }
        Ok(false)
    }
}

/// When a sync that still needs `needed` points ends, if the budget runs out before:
/// `left` now, `limit` more at each hourly reset from `reset` (epoch seconds) on. None
/// while the budget lasts (or is not known).
pub fn projected_finish(
    needed: f64,
    left: Option<u64>,
    limit: Option<u64>,
    reset: Option<u64>,
) -> Option<i64> {
    let (left, limit, reset) = (left? as f64, limit? as f64, reset?);
    if needed <= left || limit <= 0.0 {
        return None;
    }
    let windows = ((needed - left) / limit).ceil().max(1.0) as i64;
    Some((reset as i64 + (windows - 1) * 3600) * 1000)
}

fn pulls_connection<'a>(page: &'a GraphqlPage, repo: &str) -> Result<&'a Value, ConnectorError> {
    match page.data.get("repository") {
        Some(Value::Null) | None => Err(ConnectorError::remote(
            format!(
                "GitHub's GraphQL API has no repository {repo} (renamed, deleted, or not visible to the tokens)"
            ),
            false,
        )),
        Some(repository) => repository.get("pullRequests").ok_or_else(|| {
            ConnectorError::remote(
                format!("GitHub's answer for {repo} has no repository.pullRequests"),
                false,
            )
        }),
    }
}

fn nodes_in(connection: Option<&Value>) -> i64 {
    connection
        .and_then(|c| c.get("nodes"))
        .and_then(Value::as_array)
        .map_or(0, |nodes| nodes.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_100_costs_3_points_and_fits_the_node_limit() {
        assert_eq!(pulls_cost(100), 3, "301 requests / 100");
        assert_eq!(pulls_cost(20), 1, "61 requests round to 1");
        assert_eq!(pulls_cost(1), 1, "at least 1");
        assert_eq!(pulls_nodes(100, 100), 30_100);
        assert!(pulls_nodes(100, 100) <= NODE_LIMIT);
    }

    #[test]
    fn a_lower_node_limit_splits_the_page() {
        assert_eq!(first_within(NODE_LIMIT, 100), 100);
        assert_eq!(first_within(15_050, 100), 50);
        assert_eq!(first_within(10, 100), 1, "never below one pull request");
    }

    #[test]
    fn the_finish_is_projected_only_when_the_budget_runs_out() {
        assert_eq!(
            projected_finish(100.0, Some(500), Some(5000), Some(1_000)),
            None
        );
        assert_eq!(
            projected_finish(5_400.0, Some(500), Some(5000), Some(1_000)),
            Some(1_000_000),
            "the next reset covers it"
        );
        assert_eq!(
            projected_finish(10_600.0, Some(500), Some(5000), Some(1_000)),
            Some((1_000 + 2 * 3600) * 1000),
            "three resets"
        );
        assert_eq!(projected_finish(10.0, None, None, None), None);
    }

    #[test]
    fn the_queries_ask_for_what_the_transformer_reads() {
        let query = pulls_query();
        for field in [
            "databaseId",
            "headRefOid",
            "mergedBy { login }",
            "commits(first: $inner)",
            "orderBy: {field: UPDATED_AT, direction: DESC}",
        ] {
            assert!(query.contains(field), "{field} missing from {query}");
        }
        assert!(connection_query("reviews").unwrap().contains("submittedAt"));
        assert!(connection_query("threads").is_none());
    }
}
