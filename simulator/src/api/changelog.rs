//! GET /rest/api/3/issue/{issueIdOrKey}/changelog (offset pages) and
//! POST /rest/api/3/changelog/bulkfetch (token pages across many issues).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{Method, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Params, bad_request, issue_not_found, offset_page};
use crate::issues::{IssueRef, Out};
use crate::respond::{no_resource, ok};
use crate::rng::hash_str;
use crate::state::Shared;
use crate::token;

const PAGE: usize = 100;
const BULK_ISSUES: usize = 1000;
const BULK_DEFAULT: usize = 1000;
const BULK_CAP: usize = 10_000;

pub(crate) async fn issue_changelog(
    State(sim): State<Arc<Shared>>,
    Path(id_or_key): Path<String>,
    Query(params): Query<Params>,
) -> Response {
    let (start, max) = match offset_page(&params, PAGE, PAGE) {
        Ok(page) => page,
        Err(rejection) => return rejection.response(),
    };
    let Some(issue) = sim.issues.find(&id_or_key) else {
        return issue_not_found();
    };
    let (values, total) = sim
        .issues
        .histories(issue, start, start.saturating_add(max));
    let is_last = start.saturating_add(values.len()) >= total;
    let url = |at: usize| {
        format!(
            "{}/rest/api/3/issue/{id_or_key}/changelog?startAt={at}&maxResults={max}",
            sim.base_url
        )
    };
    let mut body = vec![("self", Out::Str(url(start)))];
    if !is_last {
        body.push(("nextPage", Out::Str(url(start + values.len()))));
    }
    body.push(("maxResults", Out::count(max)));
    body.push(("startAt", Out::count(start)));
    body.push(("total", Out::count(total)));
    body.push(("isLast", Out::Bool(is_last)));
    body.push(("values", Out::Arr(values)));
    ok(&Out::Obj(body))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkBody {
    #[serde(default)]
    issue_ids_or_keys: Vec<Value>,
    #[serde(default)]
    max_results: Option<i64>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    field_ids: Option<Vec<String>>,
}

pub(crate) async fn bulkfetch(
    State(sim): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    if !sim.bulk_changelog.load(Ordering::Relaxed) {
        return no_resource(&method, uri.path());
    }
    let body: BulkBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return bad_request(&format!("Invalid request payload: {e}")),
    };
    if body.issue_ids_or_keys.is_empty() {
        return bad_request("issueIdsOrKeys must contain at least one issue.");
    }
    if body.issue_ids_or_keys.len() > BULK_ISSUES {
        return bad_request(&format!(
            "The number of issues requested exceeds the limit of {BULK_ISSUES}."
        ));
    }
    let names: Vec<String> = body
        .issue_ids_or_keys
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let filter: Option<HashSet<String>> =
        body.field_ids.as_ref().map(|f| f.iter().cloned().collect());
    let request_hash = hash_str(&format!(
        "{}|{}",
        names.join(","),
        body.field_ids.as_deref().unwrap_or_default().join(",")
    ));
    let (mut pos, mut off) = match &body.next_page_token {
        None => (0, 0),
        Some(t) => match token::decode("b", 3, t) {
            Some(n) if n[2] == request_hash => (
                usize::try_from(n[0]).unwrap_or(usize::MAX),
                usize::try_from(n[1]).unwrap_or(usize::MAX),
            ),
            _ => {
                return bad_request(
                    "The provided next page token is invalid or was issued for a different request.",
                );
            }
        },
    };
    let requested = body.max_results.unwrap_or(BULK_DEFAULT as i64);
    let mut budget = usize::try_from(requested).unwrap_or(1).clamp(1, BULK_CAP);

    // unknown and deleted issues are left out, as if not visible to the caller
    let mut seen = BTreeSet::new();
    let issues: Vec<IssueRef> = names
        .iter()
        .filter_map(|n| sim.issues.find(n))
        .filter(|r| seen.insert(sim.issues.id_of(*r)))
        .collect();

    let mut logs = Vec::new();
    while budget > 0 && pos < issues.len() {
        let histories = filtered(&sim, issues[pos], filter.as_ref());
        let len = histories.len();
        let take = len.saturating_sub(off).min(budget);
        if take > 0 {
            let page: Vec<Value> = histories.into_iter().skip(off).take(take).collect();
            let mut log = Map::new();
            log.insert("issueId".into(), sim.issues.id_of(issues[pos]).into());
            log.insert("changeHistories".into(), page.into());
            logs.push(Value::Object(log));
        }
        budget -= take;
        off += take;
        if off >= len {
            pos += 1;
            off = 0;
        }
    }
    // no token when only issues without (matching) histories remain
    while pos < issues.len() && off == 0 && filtered(&sim, issues[pos], filter.as_ref()).is_empty()
    {
        pos += 1;
    }
    let mut out = Map::new();
    out.insert("issueChangeLogs".into(), logs.into());
    if pos < issues.len() {
        out.insert(
            "nextPageToken".into(),
            token::encode("b", &[pos as u64, off as u64, request_hash]).into(),
        );
    }
    ok(&Value::Object(out))
}

/// An issue's histories, keeping only items whose fieldId is in `filter` (and histories
/// that still have items).
fn filtered(sim: &Shared, issue: IssueRef, filter: Option<&HashSet<String>>) -> Vec<Value> {
    let (all, _) = sim.issues.histories(issue, 0, usize::MAX);
    let all = all.iter().map(Out::to_value);
    let Some(filter) = filter else {
        return all.collect();
    };
    all.into_iter()
        .filter_map(|mut history| {
            let items = history.get_mut("items")?.as_array_mut()?;
            items.retain(|item| {
                item["fieldId"]
                    .as_str()
                    .is_some_and(|id| filter.contains(id))
            });
            (!items.is_empty()).then_some(history)
        })
        .collect()
}
