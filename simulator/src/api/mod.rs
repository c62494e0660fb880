//! Handlers for the issue-related Jira endpoints (search, issues, changelogs, fields,
//! createmeta, dev-status); the older metadata endpoints live in `jira.rs`.
//!
//! Where Jira's documentation leaves room, the simulator chooses:
//! * search/jql without `ORDER BY` sorts by `key DESC`; ties always break by id ascending.
//!   `maxResults` 0 is served as 1 (a page that never advances would loop forever), negative
//!   or non-numeric values are refused. Page tokens are offsets into the result of the query
//!   at the time of the request: an issue bumped between two pages of an `ORDER BY updated`
//!   search moves, as it can on a real site.
//! * GET issue returns `*all` fields by default and embeds up to 100 histories with
//!   expand=changelog.
//! * bulkfetch skips unknown and deleted issues silently, leaves out issues without
//!   (matching) histories, and may split one issue's histories across pages (the issue then
//!   appears on both). `fieldIds` drops items without a `fieldId` (e.g. "Link").
//! * createmeta pages default to 50 and cap at 200; the deprecated createmeta skips unknown
//!   project keys.
//! * dev-status: only the GitHub instance is connected; other `applicationType`s answer an
//!   empty `detail`. Unknown issue ids answer 404 with Jira's usual error body, non-numeric
//!   ones 400.

pub(crate) mod changelog;
pub(crate) mod createmeta;
pub(crate) mod devstatus;
pub(crate) mod issue;
pub(crate) mod search;

use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::respond::jira_error;

/// Query parameters as sent, repeated names kept.
pub(crate) type Params = Vec<(String, String)>;

pub(crate) fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A refused request: status and Jira error message (kept small, unlike a `Response`).
pub(crate) struct Rejection {
    status: StatusCode,
    message: String,
}

impl Rejection {
    pub(crate) fn response(&self) -> Response {
        jira_error(self.status, &self.message)
    }
}

/// A non-negative integer parameter; a 400 like Jira's when it is not one.
pub(crate) fn number(params: &Params, name: &str) -> Result<Option<usize>, Rejection> {
    match param(params, name) {
        None => Ok(None),
        Some(value) => value.trim().parse().map(Some).map_err(|_| Rejection {
            status: StatusCode::BAD_REQUEST,
            message: format!("The {name} parameter must be a non-negative number, got '{value}'."),
        }),
    }
}

pub(crate) fn issue_not_found() -> Response {
    issue_missing().response()
}

pub(crate) fn issue_missing() -> Rejection {
    Rejection {
        status: StatusCode::NOT_FOUND,
        message: "Issue does not exist or you do not have permission to see it.".into(),
    }
}

pub(crate) fn project_not_found(id_or_key: &str) -> Response {
    let kind = if id_or_key.bytes().all(|b| b.is_ascii_digit()) {
        "id"
    } else {
        "key"
    };
    jira_error(
        StatusCode::NOT_FOUND,
        &format!("No project could be found with {kind} '{id_or_key}'."),
    )
}

pub(crate) fn bad_request(message: &str) -> Response {
    jira_error(StatusCode::BAD_REQUEST, message)
}

/// A JSON body value that may be a string or a list of strings (`fields`, `expand`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(crate) fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

/// Start and size of an offset page: `maxResults` defaults to `default` and is capped at `cap`.
pub(crate) fn offset_page(
    params: &Params,
    default: usize,
    cap: usize,
) -> Result<(usize, usize), Rejection> {
    let start = number(params, "startAt")?.unwrap_or(0);
    let max = number(params, "maxResults")?
        .unwrap_or(default)
        .clamp(1, cap);
    Ok((start, max))
}
