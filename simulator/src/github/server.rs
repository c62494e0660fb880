//! What happens to every GitHub request: count, auth, secondary limits, latency, primary
//! rate limits, conditional requests, and the headers GitHub puts on every answer.
//!
//! Order: the request is counted under its endpoint key and authenticated (401 without a
//! usable token, nothing spent). Then the secondary limits in time: a token in a refusal
//! window, with too many requests in flight, or over its points per minute gets 403 with
//! `retry-after` (nothing spent, see `secondary`). Then it waits the configured latency (in
//! flight meanwhile).
//!
//! REST: refused with 403 if the token's `core` budget is exhausted (nothing spent).
//! Otherwise the answer is made; a 200 whose ETag matches If-None-Match (or, without one,
//! whose Last-Modified is not after If-Modified-Since) becomes a 304 without spending. Then
//! an armed secondary limit turns the answer into a 403 (nothing spent); else one request is
//! spent (404s included). GET /rate_limit never spends.
//!
//! GraphQL (POST /graphql, and POST /api/graphql as on GitHub Enterprise Server): see
//! `graphql`; answers carry the token's `graphql` budget.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::api::{self, Answer, Route};
use super::dataset::RATE_LIMIT;
use super::graphql::{self, GqlAnswer};
use super::json::{etag, http_date, parse_http_date, timestamp};
use super::state::{GhShared, RateView, Resource};
use crate::time::now_ms;

/// GitHub's budget for unauthenticated callers, reported on 401s.
const ANONYMOUS_LIMIT: u32 = 60;
const RATE_DOCS: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";
const SECONDARY_DOCS: &str = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";
pub(crate) const GRAPHQL_DOCS: &str = "https://docs.github.com/graphql";
/// Largest GraphQL request body read.
const MAX_GRAPHQL_BODY: usize = 1 << 20;

pub(crate) fn router(shared: Arc<GhShared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(State(sim): State<Arc<GhShared>>, req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path();
    let graphql_root = match (method.as_str(), path) {
        _ if !sim.graphql_enabled => None,
        ("POST", "/graphql") => Some(0),
        ("POST", "/api/graphql") => Some(1),
        _ => None,
    };
    let (root, rest) = match path.strip_prefix("/api/v3") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => (1, rest),
        _ => (0, path),
    };
    let route = api::parse(rest);
    let key = match graphql_root {
        Some(_) => api::GRAPHQL.to_owned(),
        None => route.key(&method, rest),
    };
    sim.record(&key);
    let request_id = sim.next_request_id();

    let headers = req.headers();
    let Some((token, user_index)) = authenticate(&sim, headers) else {
        tracing::debug!(%key, "rejecting request without a known token");
        return unauthorized(&sim, request_id);
    };

    let resource = match graphql_root {
        Some(_) => Resource::Graphql,
        None => Resource::Core,
    };
    let rate_limit = route == Route::RateLimit && method == "GET";
    let points = (!rate_limit).then_some(resource);
    let _in_flight = match sim.limits.admit(&token, points, now_ms()) {
        Ok(guard) => guard,
        Err(retry_after) => {
            tracing::debug!(%key, retry_after, "refused by a secondary limit in time");
            let view = sim.rate_view(resource, &token);
            return secondary_refusal(&sim, view, Some(retry_after), request_id);
        }
    };

    let latency = sim.latency();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }

    if let Some(root) = graphql_root {
        let body = match axum::body::to_bytes(req.into_body(), MAX_GRAPHQL_BODY).await {
            Ok(body) => body,
            Err(_) => return problems_parsing_json(&sim, &token, request_id),
        };
        return match graphql::run(&sim, root, &token, user_index, &body) {
            GqlAnswer::Done { status, body, view } => {
                respond(&sim, status, Some(body), view, request_id)
            }
            GqlAnswer::BadJson => problems_parsing_json(&sim, &token, request_id),
            GqlAnswer::Secondary { retry_after, view } => {
                tracing::debug!(%key, ?retry_after, "answering with a secondary rate limit");
                secondary_refusal(&sim, view, retry_after, request_id)
            }
        };
    }

    let headers = req.headers();
    if rate_limit {
        let core = sim.rate_view(Resource::Core, &token);
        let graphql = sim.rate_view(Resource::Graphql, &token);
        let body = rate_limit_body(core, graphql).to_string();
        return respond(&sim, StatusCode::OK, Some(body), core, request_id);
    }

    let before = sim.rate_view(Resource::Core, &token);
    if before.remaining == 0 {
        return exhausted(&sim, before, user_index, request_id);
    }

    let answer = if method != "GET" {
        Answer::not_found()
    } else if route == Route::User {
        Answer::ok(user_body(&sim, user_index, root).to_string())
    } else {
        let query = req.uri().query().unwrap_or_default();
        let request = api::Request {
            sim: &sim,
            root,
            params: api::parse_query(query),
            raw_query: query,
        };
        api::answer(&request, &route)
    };

    let tag = (answer.status == StatusCode::OK).then(|| etag(answer.body.as_bytes()));
    if let Some(tag) = &tag
        && not_modified(headers, tag, answer.last_modified)
    {
        sim.note_not_modified();
        let mut response = respond(&sim, StatusCode::NOT_MODIFIED, None, before, request_id);
        insert(response.headers_mut(), header::ETAG, tag);
        if let Some(t) = answer.last_modified {
            insert(response.headers_mut(), header::LAST_MODIFIED, &http_date(t));
        }
        return response;
    }

    if let Some(retry_after) = sim.take_secondary() {
        tracing::debug!(%key, ?retry_after, "answering with a secondary rate limit");
        sim.limits.note_refusal();
        return secondary_refusal(&sim, before, retry_after, request_id);
    }

    let after = match sim.spend(Resource::Core, &token, 1) {
        Ok(after) => after,
        Err(view) => return exhausted(&sim, view, user_index, request_id),
    };
    let mut response = respond(&sim, answer.status, Some(answer.body), after, request_id);
    let out = response.headers_mut();
    if let Some(tag) = &tag {
        insert(out, header::ETAG, tag);
    }
    if let Some(t) = answer.last_modified {
        insert(out, header::LAST_MODIFIED, &http_date(t));
    }
    if let Some(link) = &answer.link {
        insert(out, header::LINK, link);
    }
    response
}

/// 403 for a secondary limit, with `retry-after` when given; `view` is the budget untouched.
fn secondary_refusal(
    sim: &GhShared,
    view: RateView,
    retry_after: Option<u64>,
    request_id: u64,
) -> Response {
    let body = json!({
        "message": format!("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID {}.", request_id_text(request_id)),
        "documentation_url": SECONDARY_DOCS,
        "status": "403",
    });
    let mut response = respond(
        sim,
        StatusCode::FORBIDDEN,
        Some(body.to_string()),
        view,
        request_id,
    );
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// 400 for a GraphQL request whose body is not JSON.
fn problems_parsing_json(sim: &GhShared, token: &str, request_id: u64) -> Response {
    let body = json!({
        "message": "Problems parsing JSON",
        "documentation_url": GRAPHQL_DOCS,
        "status": "400",
    });
    let view = sim.rate_view(Resource::Graphql, token);
    respond(
        sim,
        StatusCode::BAD_REQUEST,
        Some(body.to_string()),
        view,
        request_id,
    )
}

/// The presented token (`Authorization: Bearer T` or `token T`) if it is accepted, with its
/// index in the configured list (None when any token is accepted).
fn authenticate(sim: &GhShared, headers: &HeaderMap) -> Option<(String, Option<usize>)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !(scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token")) {
        return None;
    }
    let token = token.trim();
    if token.is_empty() {
        return None;
    }
    if sim.tokens.is_empty() {
        return Some((token.to_owned(), None));
    }
    let index = sim.tokens.iter().position(|t| t == token)?;
    Some((token.to_owned(), Some(index)))
}

fn not_modified(headers: &HeaderMap, tag: &str, last_modified: Option<i64>) -> bool {
    if let Some(value) = headers.get(header::IF_NONE_MATCH) {
        let value = value.to_str().unwrap_or_default();
        return value.split(',').map(str::trim).any(|candidate| {
            candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == tag
        });
    }
    match (headers.get(header::IF_MODIFIED_SINCE), last_modified) {
        (Some(since), Some(modified)) => since
            .to_str()
            .ok()
            .and_then(parse_http_date)
            .is_some_and(|since| modified <= since),
        _ => false,
    }
}

fn insert(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn request_id_text(n: u64) -> String {
    format!(
        "{:04X}:{:05X}:{:07X}:{:07X}:{:08X}",
        n % 0xFFFF,
        n % 0xF_FFFF,
        n.wrapping_mul(7) % 0xFFF_FFFF,
        n.wrapping_mul(13) % 0xFFF_FFFF,
        n
    )
}

/// An answer with GitHub's usual headers and the rate-limit state `view`.
fn respond(
    sim: &GhShared,
    status: StatusCode,
    body: Option<String>,
    view: RateView,
    request_id: u64,
) -> Response {
    let has_body = body.is_some();
    let mut response = Response::new(body.map_or_else(Body::empty, Body::from));
    *response.status_mut() = status;
    let out = response.headers_mut();
    if has_body {
        out.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=60, s-maxage=60"),
    );
    out.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization, Cookie, X-GitHub-OTP"),
    );
    out.insert("x-ratelimit-limit", HeaderValue::from(view.limit));
    out.insert("x-ratelimit-remaining", HeaderValue::from(view.remaining));
    out.insert("x-ratelimit-used", HeaderValue::from(view.used()));
    out.insert("x-ratelimit-reset", HeaderValue::from(view.reset));
    out.insert(
        "x-ratelimit-resource",
        HeaderValue::from_static(view.resource.name()),
    );
    out.insert("x-oauth-scopes", sim.scopes.clone());
    out.insert("x-accepted-oauth-scopes", HeaderValue::from_static("repo"));
    out.insert(
        "x-github-media-type",
        HeaderValue::from_static("github.v3; format=json"),
    );
    out.insert(
        "x-github-api-version-selected",
        HeaderValue::from_static("2022-11-28"),
    );
    if let Ok(id) = HeaderValue::from_str(&request_id_text(request_id)) {
        out.insert("x-github-request-id", id);
    }
    response
}

fn unauthorized(sim: &GhShared, request_id: u64) -> Response {
    let view = RateView {
        resource: Resource::Core,
        limit: ANONYMOUS_LIMIT,
        remaining: ANONYMOUS_LIMIT,
        reset: now_ms().div_euclid(1000) + 3600,
    };
    let body = json!({
        "message": "Bad credentials",
        "documentation_url": api::DOCS,
        "status": "401",
    });
    respond(
        sim,
        StatusCode::UNAUTHORIZED,
        Some(body.to_string()),
        view,
        request_id,
    )
}

fn exhausted(sim: &GhShared, view: RateView, user: Option<usize>, request_id: u64) -> Response {
    let body = json!({
        "message": format!(
            "API rate limit exceeded for user ID {}. If you reach out to GitHub Support for help, please include the request ID {} and timestamp {}.",
            user_id(user),
            request_id_text(request_id),
            timestamp(now_ms().div_euclid(1000)).replace('T', " ").replace('Z', " UTC"),
        ),
        "documentation_url": RATE_DOCS,
        "status": "403",
    });
    let view = RateView {
        remaining: 0,
        ..view
    };
    respond(
        sim,
        StatusCode::FORBIDDEN,
        Some(body.to_string()),
        view,
        request_id,
    )
}

pub(crate) fn user_id(index: Option<usize>) -> u64 {
    8_000_001 + index.unwrap_or(0) as u64
}

/// The authenticated user: "sim-user-{n}" for the n-th configured token (1-based); when any
/// token is accepted, "sim-user-1".
fn user_body(sim: &GhShared, index: Option<usize>, root: usize) -> Value {
    let n = index.unwrap_or(0) + 1;
    let id = user_id(index);
    let login = format!("sim-user-{n}");
    let api = &sim.roots[root].api;
    let html = &sim.roots[root].html;
    json!({
        "login": login,
        "id": id,
        "node_id": super::render::node_id("U", id),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": format!("{api}/users/{login}"),
        "html_url": format!("{html}/{login}"),
        "followers_url": format!("{api}/users/{login}/followers"),
        "following_url": format!("{api}/users/{login}/following{{/other_user}}"),
        "gists_url": format!("{api}/users/{login}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/users/{login}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/users/{login}/subscriptions"),
        "organizations_url": format!("{api}/users/{login}/orgs"),
        "repos_url": format!("{api}/users/{login}/repos"),
        "events_url": format!("{api}/users/{login}/events{{/privacy}}"),
        "received_events_url": format!("{api}/users/{login}/received_events"),
        "type": "User",
        "user_view_type": "public",
        "site_admin": false,
        "name": format!("Simulated User {n}"),
        "company": "@sluice",
        "blog": "",
        "location": null,
        "email": null,
        "hireable": null,
        "bio": null,
        "twitter_username": null,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
    })
}

/// The recorded GET /rate_limit answer with this token's core and graphql budgets.
fn rate_limit_body(view: RateView, graphql: RateView) -> Value {
    let mut body: Value = serde_json::from_str(RATE_LIMIT).unwrap_or_else(|_| json!({}));
    let entry = |view: RateView| {
        json!({
            "limit": view.limit,
            "used": view.used(),
            "remaining": view.remaining,
            "reset": view.reset,
            "resource": view.resource.name(),
        })
    };
    let core = entry(view);
    if let Some(resources) = body["resources"].as_object_mut() {
        for (name, resource) in resources.iter_mut() {
            if let Some(limit) = resource["limit"].as_u64() {
                *resource = json!({
                    "limit": limit,
                    "used": 0,
                    "remaining": limit,
                    "reset": view.reset,
                    "resource": name,
                });
            }
        }
        resources.insert("core".into(), core.clone());
        resources.insert("graphql".into(), entry(graphql));
    }
    body["rate"] = core;
    body
}
