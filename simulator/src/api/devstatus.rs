//! The internal dev-status API (`/rest/dev-status/latest/…` and `/rest/dev-status/1.0/…`).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;

use super::{Params, bad_request, issue_not_found, param};
use crate::issues::{IssueRef, dev_detail, dev_summary};
use crate::respond::ok;
use crate::state::Shared;

/// The issue named by the numeric `issueId` parameter (keys are not accepted here).
fn issue(sim: &Shared, params: &Params) -> Result<IssueRef, Box<Response>> {
    let id = param(params, "issueId").map(str::trim).unwrap_or_default();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Box::new(bad_request(
            "The issueId parameter must be a numeric issue id.",
        )));
    }
    sim.issues
        .find(id)
        .ok_or_else(|| Box::new(issue_not_found()))
}

pub(crate) async fn summary(
    State(sim): State<Arc<Shared>>,
    Query(params): Query<Params>,
) -> Response {
    match issue(&sim, &params) {
        Err(response) => *response,
        Ok(IssueRef::Fixture(_)) => ok(&dev_summary(None, &[])),
        Ok(IssueRef::Generated(g)) => ok(&dev_summary(
            Some(&sim.issues.generated(g)),
            &sim.issues.linked(g),
        )),
    }
}

pub(crate) async fn detail(
    State(sim): State<Arc<Shared>>,
    Query(params): Query<Params>,
) -> Response {
    let application = param(&params, "applicationType").unwrap_or("GitHub");
    let data_type = param(&params, "dataType");
    match issue(&sim, &params) {
        Err(response) => *response,
        Ok(IssueRef::Fixture(_)) => ok(&dev_detail(None, &[], application, data_type)),
        Ok(IssueRef::Generated(g)) => ok(&dev_detail(
            Some(&sim.issues.generated(g)),
            &sim.issues.linked(g),
            application,
            data_type,
        )),
    }
}
