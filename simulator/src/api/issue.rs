//! GET /rest/api/3/issue/{issueIdOrKey}.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;

use super::{Params, issue_not_found};
use crate::issues::FieldSel;
use crate::respond::ok;
use crate::state::Shared;

/// Histories GET issue embeds with expand=changelog.
const EMBEDDED: usize = 100;

pub(crate) async fn get_issue(
    State(sim): State<Arc<Shared>>,
    Path(id_or_key): Path<String>,
    Query(params): Query<Params>,
) -> Response {
    let Some(issue) = sim.issues.find(&id_or_key) else {
        return issue_not_found();
    };
    let fields: Vec<String> = params
        .iter()
        .filter(|(n, _)| n == "fields")
        .map(|(_, v)| v.clone())
        .collect();
    // unlike search, GET issue returns every field by default
    let sel = if fields.is_empty() {
        FieldSel::parse(Some(&["*all".to_owned()]))
    } else {
        FieldSel::parse(Some(&fields))
    };
    let changelog = params
        .iter()
        .filter(|(n, _)| n == "expand")
        .flat_map(|(_, v)| v.split(','))
        .any(|e| e.trim() == "changelog");
    ok(&sim
        .issues
        .render(issue, &sel, changelog.then_some(EMBEDDED)))
}
