//! Step 5 (dev status): for every issue the run fetched, the dev-status summary (kept raw,
//! not loaded), then the detail — only for issues that have development information, and
//! only for the data types and application types the summary names.

use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use sluice_plumbing::raw::{self, RawPage};

use super::extract::JiraRun;
use crate::error::ConnectorError;

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
            None => Ok(false),
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
                if self
                    .store_and_publish("jira.dev_status_detail", step, fetched, context, 1)
                    .await?
                {
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
