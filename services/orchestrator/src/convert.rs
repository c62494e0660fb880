//! Database rows to protobuf messages.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;
use sluice_proto::v1 as pb;

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

pub fn opt_timestamp(at: Option<DateTime<Utc>>) -> Option<Timestamp> {
    at.map(timestamp)
}

pub fn job_status(text: &str) -> pb::JobStatus {
    match text {
        "NOT_STARTED" => pb::JobStatus::NotStarted,
        "READY" => pb::JobStatus::Ready,
        "RUNNING" => pb::JobStatus::Running,
        "COMPLETED" => pb::JobStatus::Completed,
        "FAILED" => pb::JobStatus::Failed,
        "PAUSED" => pb::JobStatus::Paused,
        _ => pb::JobStatus::Unspecified,
    }
}

pub fn run_status(text: &str) -> pb::RunStatus {
    match text {
        "RUNNING" => pb::RunStatus::Running,
        "COMPLETED" => pb::RunStatus::Completed,
        "FAILED" => pb::RunStatus::Failed,
        "CANCELLED" => pb::RunStatus::Cancelled,
        _ => pb::RunStatus::Unspecified,
    }
}

/// Job types as stored in `etl_jobs.job_type`.
pub fn job_type_name(job_type: pb::JobType) -> Option<&'static str> {
    match job_type {
        pb::JobType::JiraSync => Some("jira_sync"),
        pb::JobType::JiraDiscovery => Some("jira_discovery"),
        pb::JobType::JiraIssues => Some("jira_issues"),
        pb::JobType::GithubSync => Some("github_sync"),
        pb::JobType::Unspecified => None,
    }
}

pub fn job_type_from_name(name: &str) -> pb::JobType {
    match name {
        "jira_sync" => pb::JobType::JiraSync,
        "jira_discovery" => pb::JobType::JiraDiscovery,
        "jira_issues" => pb::JobType::JiraIssues,
        "github_sync" => pb::JobType::GithubSync,
        _ => pb::JobType::Unspecified,
    }
}

/// Offset page tokens: the token is the offset of the next page.
pub fn page_bounds(page: Option<&pb::PageRequest>) -> crate::error::Result<(i64, i64)> {
    let size = page.map(|p| p.page_size).unwrap_or(0);
    let size = match size {
        0 => 50,
        1..=500 => i64::from(size),
        _ => {
            return Err(crate::error::OrchestratorError::invalid(
                "page.page_size",
                "must be between 1 and 500",
            ));
        }
    };
    let offset = match page.map(|p| p.page_token.as_str()).unwrap_or("") {
        "" => 0,
        token => token
            .parse::<i64>()
            .ok()
            .filter(|o| *o >= 0)
            .ok_or_else(|| {
                crate::error::OrchestratorError::invalid(
                    "page.page_token",
                    "is not a token this API issued",
                )
            })?,
    };
    Ok((offset, size))
}

/// The token for the page after `offset` when a full page came back.
pub fn next_page_token(offset: i64, size: i64, returned: usize) -> String {
    if returned as i64 == size {
        (offset + size).to_string()
    } else {
        String::new()
    }
}
