//! The few Jira shapes the connector itself reads (paging and project keys); everything else
//! is stored raw and typed by the transformer.

use serde::Deserialize;

/// `/rest/api/3/project/search`: an offset PageBean.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSearchPage {
    #[serde(default)]
    pub is_last: Option<bool>,
    #[serde(default)]
    pub next_page: Option<String>,
    #[serde(default)]
    pub start_at: u64,
    #[serde(default)]
    pub total: Option<u64>,
    pub values: Vec<ProjectRef>,
}

#[derive(Debug, Deserialize)]
pub struct ProjectRef {
    pub id: String,
    pub key: String,
}

/// `/rest/api/3/myself`
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Myself {
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email_address: String,
}

/// Any bare JSON array (issue types, statuses, project statuses): only its length is read.
#[derive(Debug, Deserialize)]
pub struct BareArray(pub Vec<serde::de::IgnoredAny>);
