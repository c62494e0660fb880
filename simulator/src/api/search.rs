//! GET/POST /rest/api/3/search/jql: token-paged search.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{OneOrMany, Params, bad_request};
use crate::issues::{FieldSel, Out, SearchError};
use crate::respond::ok;
use crate::rng::hash_str;
use crate::state::Shared;
use crate::time::now_ms;
use crate::{jql, token};

const UNBOUNDED: &str =
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.";
const BAD_TOKEN: &str =
    "The provided next page token is invalid or was issued for a different query.";
const DEFAULT_PAGE: i64 = 50;
/// Page caps: full issues vs. id/key listings.
const CAP_FULL: usize = 100;
const CAP_LIGHT: usize = 5000;

#[derive(Default)]
struct SearchParams {
    jql: String,
    token: Option<String>,
    max_results: Option<i64>,
    fields: Option<Vec<String>>,
    expand: Vec<String>,
}

pub(crate) async fn search_get(
    State(sim): State<Arc<Shared>>,
    Query(params): Query<Params>,
) -> Response {
    let mut p = SearchParams::default();
    for (name, value) in params {
        match name.as_str() {
            "jql" => p.jql = value,
            "nextPageToken" => p.token = Some(value),
            "maxResults" => match value.trim().parse() {
                Ok(n) => p.max_results = Some(n),
                Err(_) => {
                    return bad_request(&format!(
                        "The maxResults parameter must be a number, got '{value}'."
                    ));
                }
            },
            "fields" => p.fields.get_or_insert_default().push(value),
            "expand" => p.expand.push(value),
            _ => {}
        }
    }
    run(&sim, p)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchBody {
    #[serde(default)]
    jql: Option<String>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    max_results: Option<i64>,
    #[serde(default)]
    fields: Option<OneOrMany>,
    #[serde(default)]
    expand: Option<OneOrMany>,
}

pub(crate) async fn search_post(State(sim): State<Arc<Shared>>, body: Bytes) -> Response {
    let body: SearchBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return bad_request(&format!("Invalid request payload: {e}")),
    };
    run(
        &sim,
        SearchParams {
            jql: body.jql.unwrap_or_default(),
            token: body.next_page_token,
            max_results: body.max_results,
            fields: body.fields.map(OneOrMany::into_vec),
            expand: body.expand.map(OneOrMany::into_vec).unwrap_or_default(),
        },
    )
}

fn run(sim: &Shared, p: SearchParams) -> Response {
    let (_, zone_offset_ms) = sim.user_zone();
    let query = match jql::parse(&p.jql, now_ms(), zone_offset_ms) {
        Ok(query) => query,
        Err(message) => return bad_request(&message),
    };
    if !query.is_bounded() {
        return bad_request(UNBOUNDED);
    }
    if !sim.development_search.load(Ordering::Relaxed)
        && query
            .clauses
            .iter()
            .any(|c| matches!(c, jql::Clause::Development { .. }))
    {
        return bad_request(
            "Field 'development' does not exist or you do not have permission to view it.",
        );
    }
    let jql_hash = hash_str(&p.jql);
    let offset = match &p.token {
        None => 0,
        Some(t) => match token::decode("s", 2, t) {
            Some(n) if n[1] == jql_hash => usize::try_from(n[0]).unwrap_or(usize::MAX),
            _ => return bad_request(BAD_TOKEN),
        },
    };
    let sel = FieldSel::parse(p.fields.as_deref());
    let changelog = p
        .expand
        .iter()
        .flat_map(|e| e.split(','))
        .any(|e| e.trim() == "changelog");
    let cap = if sel.is_light() && !changelog {
        CAP_LIGHT
    } else {
        CAP_FULL
    };
    let requested = p.max_results.unwrap_or(DEFAULT_PAGE);
    if requested < 0 {
        return bad_request("The maxResults parameter must not be negative.");
    }
    // 0 would hand out a token that never advances
    let max = usize::try_from(requested).unwrap_or(cap).clamp(1, cap);

    // Cached per zone: the same text names another instant in another zone.
    let ordinals = match sim
        .issues
        .search(&format!("{zone_offset_ms}|{}", p.jql), &query)
    {
        Ok(ordinals) => ordinals,
        Err(SearchError(message)) => return bad_request(&message),
    };
    let embed = changelog.then(|| sim.embedded_changelog_cap.load(Ordering::Relaxed));
    let issues: Vec<Out> = ordinals
        .iter()
        .skip(offset)
        .take(max)
        .map(|&o| sim.issues.render(sim.issues.issue_at(o), &sel, embed))
        .collect();
    let next = offset.saturating_add(issues.len());
    let is_last = next >= ordinals.len();
    let mut body = vec![("issues", Out::Arr(issues))];
    if !is_last {
        let next = token::encode("s", &[next as u64, jql_hash]);
        body.push(("nextPageToken", Out::Str(next)));
    }
    body.push(("isLast", Out::Bool(is_last)));
    ok(&Out::Obj(body))
}
