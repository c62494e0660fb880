//! Integration settings as stored in `integrations.settings` (JSONB).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jira: Option<JiraSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<GithubSettings>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JiraSettings {
    /// Only these projects; empty means every project the credentials can see.
    #[serde(default)]
    pub project_keys: Vec<String>,
    /// IANA time zone of the Jira user (JQL dates are in the user's zone).
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// Page size requested from Jira; the server may cap it.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Dev status: pull requests that the tenant's own GitHub integrations link to an issue
    /// stand in for Jira's pull-request detail call when they are all of them (default on).
    #[serde(default = "default_true")]
    pub pull_requests_from_github: bool,
}

impl Default for JiraSettings {
    fn default() -> Self {
        JiraSettings {
            project_keys: Vec::new(),
            time_zone: default_time_zone(),
            page_size: default_page_size(),
            pull_requests_from_github: true,
        }
    }
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GithubSettings {
    #[serde(default)]
    pub repositories: Vec<String>,
    #[serde(default)]
    pub organizations: Vec<String>,
    #[serde(default)]
    pub include_archived: bool,
    /// How pull requests are fetched (absent in settings stored before GraphQL: auto).
    #[serde(default)]
    pub pull_requests_api: GithubApi,
}

/// GitHub API used for pull requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GithubApi {
    /// GraphQL, or REST when the server has no GraphQL endpoint.
    #[default]
    Auto,
    Graphql,
    Rest,
}

pub const DEFAULT_JIRA_PAGE_SIZE: u32 = 50;
pub const MAX_JIRA_PAGE_SIZE: u32 = 100;

fn default_time_zone() -> String {
    "UTC".into()
}

fn default_page_size() -> u32 {
    DEFAULT_JIRA_PAGE_SIZE
}

/// Jira project keys: an uppercase letter, then uppercase letters, digits or underscores.
/// Validated before they reach a URL or a JQL string.
pub fn is_valid_jira_project_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && key.len() <= 255
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_keys() {
        assert!(is_valid_jira_project_key("ABC"));
        assert!(is_valid_jira_project_key("A1_B"));
        assert!(!is_valid_jira_project_key("1AB"));
        assert!(!is_valid_jira_project_key("ab"));
        assert!(!is_valid_jira_project_key("A\" OR 1=1"));
        assert!(!is_valid_jira_project_key(""));
    }

    #[test]
    fn jira_settings_stored_before_a_field_existed_get_its_default() {
        let old: StoredSettings =
            serde_json::from_str(r#"{"jira":{"project_keys":["ENG"],"page_size":100}}"#).unwrap();
        let jira = old.jira.unwrap();
        assert!(jira.pull_requests_from_github);
        assert_eq!((jira.time_zone.as_str(), jira.page_size), ("UTC", 100));
        assert!(JiraSettings::default().pull_requests_from_github);
    }
}
