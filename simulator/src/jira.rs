//! The Jira Cloud REST v3 endpoints.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::SimAuth;
use crate::api::{changelog, createmeta, devstatus, issue, search};
use crate::respond::{jira_error, no_resource, ok};
use crate::state::Shared;

pub(crate) const PROJECT_SEARCH: &str = "/rest/api/3/project/search";
pub(crate) const ISSUE_TYPES: &str = "/rest/api/3/issuetype";
pub(crate) const STATUSES: &str = "/rest/api/3/status";
pub(crate) const PROJECT_STATUSES: &str = "/rest/api/3/project/{projectIdOrKey}/statuses";
pub(crate) const MYSELF: &str = "/rest/api/3/myself";
pub(crate) const REMOVED_SEARCH: &str = "/rest/api/3/search";
pub(crate) const SEARCH_JQL: &str = "/rest/api/3/search/jql";
pub(crate) const FIELDS: &str = "/rest/api/3/field";
pub(crate) const CREATEMETA: &str = "/rest/api/3/issue/createmeta";
pub(crate) const CREATEMETA_TYPES: &str =
    "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes";
pub(crate) const CREATEMETA_FIELDS: &str =
    "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}";
pub(crate) const ISSUE_CHANGELOG: &str = "/rest/api/3/issue/{issueIdOrKey}/changelog";
pub(crate) const ISSUE: &str = "/rest/api/3/issue/{issueIdOrKey}";
pub(crate) const BULK_CHANGELOG: &str = "/rest/api/3/changelog/bulkfetch";
pub(crate) const DEV_SUMMARY: &str = "/rest/dev-status/latest/issue/summary";
pub(crate) const DEV_DETAIL: &str = "/rest/dev-status/latest/issue/detail";
pub(crate) const DEV_SUMMARY_1: &str = "/rest/dev-status/1.0/issue/summary";
pub(crate) const DEV_DETAIL_1: &str = "/rest/dev-status/1.0/issue/detail";

/// Route templates, which double as the path part of endpoint keys. Literal templates come
/// before parameterised ones of the same shape (createmeta before {issueIdOrKey}).
const TEMPLATES: [&str; 18] = [
    PROJECT_SEARCH,
    ISSUE_TYPES,
    STATUSES,
    PROJECT_STATUSES,
    MYSELF,
    REMOVED_SEARCH,
    SEARCH_JQL,
    FIELDS,
    CREATEMETA,
    CREATEMETA_TYPES,
    CREATEMETA_FIELDS,
    ISSUE_CHANGELOG,
    ISSUE,
    BULK_CHANGELOG,
    DEV_SUMMARY,
    DEV_DETAIL,
    DEV_SUMMARY_1,
    DEV_DETAIL_1,
];

const DEFAULT_PAGE_SIZE: usize = 50;
const FALLBACK_EMAIL: &str = "simulator@example.com";
const ACCOUNT_ID: &str = "5b10ac8d82e05b22cc7d4ef5";

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(PROJECT_SEARCH, get(project_search))
        .route(ISSUE_TYPES, get(issue_types))
        .route(STATUSES, get(statuses))
        .route(PROJECT_STATUSES, get(project_statuses))
        .route(MYSELF, get(myself))
        .route(REMOVED_SEARCH, get(removed_search).post(removed_search))
        .route(
            SEARCH_JQL,
            get(search::search_get).post(search::search_post),
        )
        .route(FIELDS, get(fields))
        .route(CREATEMETA, get(createmeta::legacy))
        .route(CREATEMETA_TYPES, get(createmeta::issue_types))
        .route(CREATEMETA_FIELDS, get(createmeta::issue_type_fields))
        .route(ISSUE_CHANGELOG, get(changelog::issue_changelog))
        .route(ISSUE, get(issue::get_issue))
        .route(BULK_CHANGELOG, post(changelog::bulkfetch))
        .route(DEV_SUMMARY, get(devstatus::summary))
        .route(DEV_DETAIL, get(devstatus::detail))
        .route(DEV_SUMMARY_1, get(devstatus::summary))
        .route(DEV_DETAIL_1, get(devstatus::detail))
        .fallback(not_found)
}

/// "METHOD /route/template" for known routes, "METHOD /actual/path" otherwise.
pub(crate) fn endpoint_key(method: &Method, path: &str) -> String {
    let template = TEMPLATES
        .iter()
        .find(|t| template_matches(t, path))
        .copied()
        .unwrap_or(path);
    format!("{method} {template}")
}

fn template_matches(template: &str, path: &str) -> bool {
    let mut wanted = template.split('/');
    let mut got = path.split('/');
    loop {
        match (wanted.next(), got.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w == g || (w.starts_with('{') && !g.is_empty()) => {}
            _ => return false,
        }
    }
}

async fn project_search(
    State(sim): State<Arc<Shared>>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let mut start_at = 0usize;
    let mut max_results = DEFAULT_PAGE_SIZE;
    let mut expand_issue_types = false;
    let mut keys: Option<BTreeSet<&str>> = None;
    for (name, value) in &params {
        match name.as_str() {
            "startAt" => match value.trim().parse() {
                Ok(n) => start_at = n,
                Err(_) => return bad_number("startAt", value),
            },
            "maxResults" => match value.trim().parse() {
                Ok(n) => max_results = n,
                Err(_) => return bad_number("maxResults", value),
            },
            "expand" => expand_issue_types |= value.split(',').any(|e| e.trim() == "issueTypes"),
            "keys" => keys
                .get_or_insert_default()
                .extend(value.split(',').map(str::trim).filter(|k| !k.is_empty())),
            _ => {}
        }
    }
    let max_results = max_results.min(sim.max_page_size);
    // `keys=` with nothing in it filters nothing
    let keys = keys.filter(|keys| !keys.is_empty());

    let matching: Vec<&Value> = sim
        .dataset
        .projects
        .iter()
        .filter(|p| {
            keys.as_ref()
                .is_none_or(|keys| p["key"].as_str().is_some_and(|k| keys.contains(k)))
        })
        .collect();
    let total = matching.len();
    let values: Vec<Value> = matching
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|p| {
            if expand_issue_types {
                with_issue_types(&sim, p)
            } else {
                (*p).clone()
            }
        })
        .collect();
    let is_last = start_at.saturating_add(values.len()) >= total;

    let mut body = Map::new();
    let page_url = |start: usize| page_url(&sim.base_url, &params, start, max_results);
    body.insert("self".into(), page_url(start_at).into());
    if !is_last {
        body.insert("nextPage".into(), page_url(start_at + values.len()).into());
    }
    body.insert("maxResults".into(), max_results.into());
    body.insert("startAt".into(), start_at.into());
    body.insert("total".into(), total.into());
    body.insert("isLast".into(), is_last.into());
    body.insert("values".into(), values.into());
    ok(&Value::Object(body))
}

fn bad_number(name: &str, value: &str) -> Response {
    jira_error(
        StatusCode::BAD_REQUEST,
        &format!("The {name} parameter must be a non-negative number, got '{value}'."),
    )
}

/// The project with an `issueTypes` array, as `expand=issueTypes` asks.
fn with_issue_types(sim: &Shared, project: &Value) -> Value {
    let key = project["key"].as_str().unwrap_or_default();
    let types: Vec<Value> = sim
        .dataset
        .project_statuses(key)
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| entry["id"].as_str())
        .filter_map(|id| sim.issue_types_by_id.get(id).cloned())
        .collect();
    let mut project = project.clone();
    if let Some(map) = project.as_object_mut() {
        map.insert("issueTypes".into(), types.into());
    }
    project
}

/// This search again at `start`, other query parameters kept in their order.
fn page_url(base: &str, params: &[(String, String)], start: usize, max: usize) -> String {
    let mut query: Vec<String> = params
        .iter()
        .filter(|(name, _)| name != "startAt" && name != "maxResults")
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect();
    query.push(format!("startAt={start}"));
    query.push(format!("maxResults={max}"));
    format!("{base}{PROJECT_SEARCH}?{}", query.join("&"))
}

/// Percent-encodes a query component, keeping only RFC 3986 unreserved bytes.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

async fn issue_types(State(sim): State<Arc<Shared>>) -> Response {
    ok(&Value::from(sim.dataset.issue_types.clone()))
}

async fn statuses(State(sim): State<Arc<Shared>>) -> Response {
    ok(&Value::from(sim.dataset.statuses.clone()))
}

async fn project_statuses(
    State(sim): State<Arc<Shared>>,
    Path(id_or_key): Path<String>,
) -> Response {
    let entries = sim
        .project_keys
        .get(&id_or_key)
        .and_then(|key| sim.dataset.project_statuses(key));
    match entries {
        Some(entries) => ok(&Value::from(entries.to_vec())),
        None => {
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
    }
}

async fn myself(State(sim): State<Arc<Shared>>) -> Response {
    let email = match &sim.auth {
        SimAuth::Basic { email, .. } => email.as_str(),
        _ => FALLBACK_EMAIL,
    };
    ok(&json!({
        "self": format!("{}/rest/api/3/user?accountId={ACCOUNT_ID}", sim.base_url),
        "accountId": ACCOUNT_ID,
        "emailAddress": email,
        "displayName": "Sluice Simulator",
        "active": true,
        "timeZone": sim.user_zone().0,
        "accountType": "atlassian",
    }))
}

async fn removed_search() -> Response {
    jira_error(
        StatusCode::GONE,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. \
         A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
    )
}

async fn not_found(method: Method, uri: Uri) -> Response {
    no_resource(&method, uri.path())
}

async fn fields(State(sim): State<Arc<Shared>>) -> Response {
    let with_development = sim
        .issues
        .development_field
        .load(std::sync::atomic::Ordering::Relaxed);
    let fields: Vec<Value> = sim
        .fields
        .iter()
        .filter(|f| with_development || f["id"] != crate::issues::DEVELOPMENT_FIELD)
        .cloned()
        .collect();
    ok(&Value::from(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_use_templates() {
        let key = endpoint_key(&Method::GET, "/rest/api/3/project/EX/statuses");
        assert_eq!(key, "GET /rest/api/3/project/{projectIdOrKey}/statuses");
        let key = endpoint_key(&Method::GET, "/rest/api/3/project/search");
        assert_eq!(key, "GET /rest/api/3/project/search");
        assert_eq!(
            endpoint_key(&Method::POST, "/rest/api/3/search"),
            "POST /rest/api/3/search"
        );
        assert_eq!(endpoint_key(&Method::GET, "/nope/x"), "GET /nope/x");
        assert_eq!(
            endpoint_key(&Method::GET, "/rest/api/3/project//statuses"),
            "GET /rest/api/3/project//statuses"
        );
    }

    #[test]
    fn encodes_query_components() {
        assert_eq!(encode("a b,c&d~"), "a%20b%2Cc%26d~");
    }
}
