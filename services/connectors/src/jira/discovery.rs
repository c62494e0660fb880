//! Custom field discovery: the site's field list (`/rest/api/3/field`), then per project the
//! create-screen fields of each issue type (`/issue/createmeta/{project}/issuetypes` and
//! `/issuetypes/{id}`, paged), falling back to the deprecated
//! `createmeta?expand=projects.issuetypes.fields` on sites without the new endpoints.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_plumbing::settings::is_valid_jira_project_key;

use super::extract::{Extracted, JiraRun};
use crate::error::ConnectorError;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Paged {
    #[serde(default)]
    start_at: u64,
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    is_last: Option<bool>,
    #[serde(default, alias = "values")]
    issue_types: Vec<TypeRef>,
    #[serde(default)]
    fields: Vec<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct TypeRef {
    id: String,
}

const PAGE: u64 = 50;

impl Paged {
    fn next_start(&self, returned: u64) -> Option<u64> {
        let next = self.start_at + returned;
        let done = self
            .is_last
            .unwrap_or_else(|| self.total.is_none_or(|t| next >= t))
            || returned == 0;
        (!done).then_some(next)
    }
}

impl JiraRun<'_> {
    /// Discovery for every project (or only `project_key`).
    pub async fn discover(&self, project_key: &str) -> Result<Extracted, ConnectorError> {
        if self
            .reporter
            .step_started(1, "custom field discovery")
            .await?
        {
            return Ok(Extracted::Stopped);
        }
        let fetched = self.client.get("/rest/api/3/field", &[]).await?;
        if self
            .store_and_publish("jira.fields", 1, fetched, json!({}), 0)
            .await?
        {
            return Ok(Extracted::Stopped);
        }
        let mut pages = 1;
        let keys: Vec<String> = if project_key.is_empty() {
            self.list_projects()
                .await?
                .into_iter()
                .map(|p| p.key)
                .collect()
        } else {
            vec![project_key.to_string()]
        };
        for key in keys {
            if !is_valid_jira_project_key(&key) {
                return Err(ConnectorError::config(format!(
                    "{key:?} is not a valid Jira project key"
                )));
            }
            match self.createmeta(&key, &mut pages).await {
                Err(error) if matches!(error.http_status, Some(404)) => {
                    if self.legacy_createmeta(&key, &mut pages).await? {
                        return Ok(Extracted::Stopped);
                    }
                }
                Err(error) => return Err(error),
                Ok(true) => return Ok(Extracted::Stopped),
                Ok(false) => {}
            }
        }
        Ok(Extracted::Finished { pages })
    }

    async fn createmeta(&self, key: &str, pages: &mut u64) -> Result<bool, ConnectorError> {
        let mut type_ids = Vec::new();
        let mut start = Some(0);
        while let Some(at) = start {
            let query = [
                ("startAt", at.to_string()),
                ("maxResults", PAGE.to_string()),
            ];
            let fetched = self
                .client
                .get(
                    &format!("/rest/api/3/issue/createmeta/{key}/issuetypes"),
                    &query,
                )
                .await?;
            let page: Paged = fetched.parse("createmeta issue types page")?;
            start = page.next_start(page.issue_types.len() as u64);
            type_ids.extend(page.issue_types.into_iter().map(|t| t.id));
        }
        for type_id in type_ids {
            if !type_id.chars().all(|c| c.is_ascii_digit()) {
                return Err(ConnectorError::remote(
                    format!("Jira returned an issue type id {type_id:?} that is not numeric"),
                    false,
                ));
            }
            let mut start = Some(0);
            while let Some(at) = start {
                let query = [
                    ("startAt", at.to_string()),
                    ("maxResults", PAGE.to_string()),
                ];
                let fetched = self
                    .client
                    .get(
                        &format!("/rest/api/3/issue/createmeta/{key}/issuetypes/{type_id}"),
                        &query,
                    )
                    .await?;
                let page: Paged = fetched.parse("createmeta fields page")?;
                start = page.next_start(page.fields.len() as u64);
                let context = json!({ "project_key": key, "issue_type_id": type_id });
                if self
                    .store_and_publish(
                        "jira.createmeta_fields",
                        1,
                        fetched,
                        context,
                        page.fields.len() as u64,
                    )
                    .await?
                {
                    return Ok(true);
                }
                *pages += 1;
            }
        }
        Ok(false)
    }

    async fn legacy_createmeta(&self, key: &str, pages: &mut u64) -> Result<bool, ConnectorError> {
        tracing::info!(
            project = key,
            "createmeta per issue type not available; using the deprecated createmeta"
        );
        let query = [
            ("projectKeys", key.to_string()),
            ("expand", "projects.issuetypes.fields".to_string()),
        ];
        let fetched = self
            .client
            .get("/rest/api/3/issue/createmeta", &query)
            .await?;
        let _: Value = fetched.parse("createmeta page")?;
        let context = json!({ "project_key": key });
        if self
            .store_and_publish("jira.createmeta_legacy", 1, fetched, context, 0)
            .await?
        {
            return Ok(true);
        }
        *pages += 1;
        Ok(false)
    }
}
