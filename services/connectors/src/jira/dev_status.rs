//! Step 5 (dev status): which issues have development information comes from Jira's
//! development index — key-only searches `development[pullrequests|commits|branches].all > 0`
//! per project, one clause per query, with the run's `updated` bound — so issues without any
//! cost no call. For those that have some: the dev-status summary (kept raw, not loaded), then
//! the detail for the data types and application types the summary names. A site whose JQL
//! does not know `development` (no development tool connected, older servers) answers 400;
//! the run then asks the summary of every issue it fetched, as before.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use sluice_plumbing::raw::{self, RawPage};

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
struct Overall {
    #[serde(default)]
    count: u64,
}

/// (dataType, application types) the summary says have something.
fn wanted(summary: SummaryParts) -> Vec<(&'static str, Vec<String>)> {
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
            (
                data_type,
                if apps.is_empty() {
                    vec!["GitHub".to_string()]
                } else {
                    apps
                },
            )
        })
    })
    .collect()
}

impl JiraRun<'_> {
    /// (id, key) of the issues of these projects (updated since each one's cursor) that Jira's
    /// development index says have development work; `None` when the site's JQL does not
    /// know the field. Listing pages are kept raw (not loaded).
    pub async fn issues_with_development(
        &self,
        step: i32,
        project_keys: &[String],
    ) -> Result<Option<Vec<(String, String)>>, ConnectorError> {
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
        Ok(Some(found.into_iter().collect()))
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
            let stored = RawPage {
                scope: None,
                cursor: None,
                extraction_type: "jira.dev_status_listing".into(),
                step,
                request_url: fetched.url,
                request_context: json!({ "project_key": project_key, "jql": jql }),
                http_status: fetched.status,
                content_type: fetched.content_type,
                body: fetched.body,
            };
            raw::store_processed(self.pool, self.ids, &stored)
                .await
                .map_err(|e| ConnectorError::internal(format!("storing a raw page: {e}")))?;
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
        issues: &[(String, String)],
        pages: &mut u64,
    ) -> Result<bool, ConnectorError> {
        let work: Vec<_> = issues
            .iter()
            .map(|(id, key)| Box::pin(self.issue_dev_status(step, id, key)))
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
        issues: tokio::sync::mpsc::UnboundedReceiver<(String, String)>,
        pages: &mut u64,
    ) -> Result<bool, ConnectorError> {
        let mut results = tokio_stream::wrappers::UnboundedReceiverStream::new(issues)
            .map(|(id, key)| Box::pin(async move { self.issue_dev_status(step, &id, &key).await }))
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

    async fn issue_dev_status(
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
        let fetched = self
            .client
            .get(
                "/rest/dev-status/latest/issue/summary",
                &[("issueId", id.to_string())],
            )
            .await?;
        let summary: Summary = serde_json::from_slice(&fetched.body).unwrap_or_default();
        let page = RawPage {
            scope: None,
            cursor: None,
            extraction_type: "jira.dev_status_summary".into(),
            step,
            request_url: fetched.url,
            request_context: json!({ "issue_id": id, "issue_key": key }),
            http_status: fetched.status,
            content_type: fetched.content_type,
            body: fetched.body,
        };
        raw::store_processed(self.pool, self.ids, &page)
            .await
            .map_err(|e| ConnectorError::internal(format!("storing a raw page: {e}")))?;
        let mut pages = 0;
        for (data_type, applications) in wanted(summary.summary) {
            for application in applications {
                let query = [
                    ("issueId", id.to_string()),
                    ("applicationType", application.clone()),
                    ("dataType", data_type.to_string()),
                ];
                let fetched = self
                    .client
                    .get("/rest/dev-status/latest/issue/detail", &query)
                    .await?;
                let context = json!({ "issue_id": id, "issue_key": key, "data_type": data_type, "application_type": application });
                if self.store_grouped_detail(fetched, context).await? {
                    return Ok((true, pages));
                }
                pages += 1;
            }
        }
        Ok((false, pages))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(wanted[0], ("pullrequest", vec!["GitHub".to_string()]));
        assert_eq!(wanted[1].1.len(), 2);
        assert!(super::wanted(SummaryParts::default()).is_empty());
    }
}
