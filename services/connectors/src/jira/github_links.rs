//! Dev status from the tenant's own GitHub integrations. Jira's GitHub app links a pull request
//! to an issue when its title, branch or commits mention the key; Sluice's GitHub sync finds
//! the same links (`pr_work_item_links`). When those links hold exactly the pull requests Jira's
//! summary counts for an issue, and are at least as recent, Jira's pull-request detail call
//! would only repeat them: the page is assembled from `pull_requests` instead, in the detail's
//! own shape, and stored as `jira.dev_status_from_github` (its request URL names the table), so
//! the rows are the same and `sluice raw` shows where they came from. Anything else (a count
//! that differs, a GitHub sync older than Jira's view, another application type, the setting
//! off) asks Jira.

use chrono::{DateTime, Utc};
use serde_json::json;
use sluice_plumbing::raw::RawPage;
use uuid::Uuid;

use super::dev_status::Wanted;
use super::extract::JiraRun;
use crate::error::ConnectorError;

/// A pull request one of the tenant's GitHub integrations links to an issue.
#[derive(Debug, sqlx::FromRow)]
struct LinkedPullRequest {
    integration_id: Uuid,
    html_url: String,
    repository: String,
    number: i64,
    title: String,
    state: String,
    merged: bool,
    author_login: String,
    head_ref: String,
    base_ref: String,
    updated_at: Option<DateTime<Utc>>,
}

impl LinkedPullRequest {
    /// Jira's status for it: OPEN, MERGED or DECLINED (closed without merging).
    fn jira_status(&self) -> &'static str {
        match (self.merged, self.state.as_str()) {
            (true, _) => "MERGED",
            (false, "open") => "OPEN",
            _ => "DECLINED",
        }
    }

    /// As one entry of a dev-status detail's `pullRequests`.
    fn to_detail(&self) -> serde_json::Value {
        json!({
            "id": format!("#{}", self.number),
            "name": self.title,
            "status": self.jira_status(),
            "url": self.html_url,
            "repositoryName": self.repository,
            "author": {"name": self.author_login},
            "source": {"branch": self.head_ref},
            "destination": {"branch": self.base_ref},
            "lastUpdate": self
                .updated_at
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()),
        })
    }
}

/// Whether `linked` are all of what Jira counts: as many, and none of Jira's newer than the
/// newest of them (else the GitHub sync has not caught up).
fn covers(linked: &[LinkedPullRequest], want: &Wanted) -> bool {
    if linked.len() as u64 != want.count {
        return false;
    }
    match want.last_updated {
        None => true,
        Some(jira) => linked
            .iter()
            .filter_map(|p| p.updated_at)
            .max()
            .is_some_and(|newest| newest >= jira),
    }
}

impl JiraRun<'_> {
    /// The pull-request detail of issue `key` assembled from the tenant's GitHub integrations,
    /// when they hold all of what `want` counts; `None`: ask Jira.
    pub(super) async fn pull_requests_from_github(
        &self,
        id: &str,
        key: &str,
        want: &Wanted,
    ) -> Result<Option<RawPage>, ConnectorError> {
        if want.data_type != "pullrequest"
            || want.applications != ["GitHub"]
            || !self.settings.pull_requests_from_github
            || !self.tenant_has_github_links().await?
        {
            return Ok(None);
        }
        let linked: Vec<LinkedPullRequest> = sqlx::query_as(
            "SELECT DISTINCT ON (p.html_url) p.integration_id, p.html_url, p.repository, p.number,
                    p.title, p.state, p.merged, p.author_login, p.head_ref, p.base_ref, p.updated_at
             FROM pr_work_item_links l
             JOIN pull_requests p ON p.tenant_id = l.tenant_id AND p.integration_id = l.integration_id
                                 AND p.repository_id = l.repository_id AND p.number = l.pr_number
             JOIN integrations i ON i.id = l.integration_id AND i.tenant_id = l.tenant_id AND i.active
             WHERE l.tenant_id = $1 AND l.jira_key = $2 AND p.html_url <> ''
             ORDER BY p.html_url, p.updated_at DESC NULLS LAST",
        )
        .bind(self.ids.tenant_id)
        .bind(key)
        .fetch_all(self.pool)
        .await
        .map_err(|e| {
            ConnectorError::internal(format!("reading the pull requests GitHub links to {key}: {e}"))
        })?;
        if !covers(&linked, want) {
            return Ok(None);
        }
        let mut integrations: Vec<String> = linked
            .iter()
            .map(|p| p.integration_id.to_string())
            .collect();
        integrations.sort();
        integrations.dedup();
        let body = json!({
            "errors": [],
            "detail": [{
                "pullRequests": linked.iter().map(LinkedPullRequest::to_detail).collect::<Vec<_>>(),
                "branches": [],
                "repositories": [],
                "_instance": {"type": "github", "name": "GitHub"},
            }],
        });
        self.dev.answered_from_github();
        Ok(Some(RawPage {
            extraction_type: "jira.dev_status_from_github".into(),
            step: 5,
            request_url: format!("sluice:pr_work_item_links?jira_key={key}"),
            request_context: json!({
                "issue_id": id,
                "issue_key": key,
                "data_type": "pullrequest",
                "application_type": "GitHub",
                "github_integrations": integrations,
            }),
            http_status: 200,
            content_type: "application/json".into(),
            body: serde_json::to_vec(&body).map_err(|e| {
                ConnectorError::internal(format!("encoding {key}'s pull requests: {e}"))
            })?,
            scope: None,
            cursor: None,
        }))
    }

    /// Whether any active GitHub integration of the tenant links a pull request to a Jira key
    /// (asked once per run, so a tenant without GitHub costs no query per issue).
    async fn tenant_has_github_links(&self) -> Result<bool, ConnectorError> {
        self.dev
            .github_links
            .get_or_try_init(|| async {
                sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM pr_work_item_links l
                     JOIN integrations i ON i.id = l.integration_id AND i.tenant_id = l.tenant_id AND i.active
                     WHERE l.tenant_id = $1)",
                )
                .bind(self.ids.tenant_id)
                .fetch_one(self.pool)
                .await
                .map_err(|e| {
                    ConnectorError::internal(format!("looking for GitHub pull request links: {e}"))
                })
            })
            .await
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr(state: &str, merged: bool, updated: &str) -> LinkedPullRequest {
        LinkedPullRequest {
            integration_id: Uuid::nil(),
            html_url: "https://github.com/acme/api/pull/7".into(),
            repository: "acme/api".into(),
            number: 7,
            title: "ENG-1: retry uploads".into(),
            state: state.into(),
            merged,
            author_login: "octocat".into(),
            head_ref: "feature/ENG-1".into(),
            base_ref: "main".into(),
            updated_at: Some(updated.parse().unwrap()),
        }
    }

    fn want(count: u64, last_updated: Option<&str>) -> Wanted {
        Wanted {
            data_type: "pullrequest",
            applications: vec!["GitHub".into()],
            count,
            last_updated: last_updated.map(|t| t.parse().unwrap()),
        }
    }

    #[test]
    fn github_links_stand_in_only_for_all_of_what_jira_counts_and_no_older() {
        let linked = [pr("open", false, "2026-11-30T10:00:00Z")];
        assert!(covers(&linked, &want(1, Some("2026-11-30T10:00:00Z"))));
        assert!(covers(&linked, &want(1, None)));
        // Jira counts one more (a repository Sluice does not sync): ask Jira.
        assert!(!covers(&linked, &want(2, None)));
        // Jira saw a change GitHub's last sync did not: ask Jira.
        assert!(!covers(&linked, &want(1, Some("2026-11-30T10:05:00Z"))));
    }

    #[test]
    fn a_pull_request_reads_as_jira_shows_it() {
        assert_eq!(
            pr("open", false, "2026-11-30T10:00:00Z").jira_status(),
            "OPEN"
        );
        assert_eq!(
            pr("closed", true, "2026-11-30T10:00:00Z").jira_status(),
            "MERGED"
        );
        assert_eq!(
            pr("closed", false, "2026-11-30T10:00:00Z").jira_status(),
            "DECLINED"
        );
        let detail = pr("closed", true, "2026-11-30T10:00:00Z").to_detail();
        assert_eq!(detail["id"], "#7");
        assert_eq!(detail["lastUpdate"], "2026-11-30T10:00:00.000+0000");
        assert_eq!(detail["repositoryName"], "acme/api");
        assert_eq!(detail["author"]["name"], "octocat");
    }
}
