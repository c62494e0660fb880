//! The GitHub REST endpoints: path parsing (which also names the counting key), paging with
//! `Link` headers, sorting and filtering, for recorded and generated data.
//!
//! Where GitHub's documentation leaves room, the simulator chooses:
//! * ties in every sort break by number or id, in the direction of the sort;
//! * `per_page` below 1 or not a number means the default (30), above `max_per_page` the cap;
//!   `page` below 1 means 1; a page past the last answers [] (with prev/first links);
//! * an unparsable `since` answers 422 like GitHub; unknown `state`/`sort`/`direction`
//!   values fall back to the defaults;
//! * Link URLs of repository listings use `/repositories/{id}/…` (as GitHub does), keep the
//!   request's query with `page` replaced, and keep the /api/v3 prefix when it was used.

use std::fmt::Write;
use std::ops::Range;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::dataset::{Data, FixComment, FixPr, FixRepo, FixtureData, Generated};
use super::generate::{Child, PrFacts, child_times};
use super::json::Json;
use super::render::{PrView, Root};
use super::state::{Bumps, CommentKey, CommentRef, GhShared};

pub const USER: &str = "GET /user";
pub const RATE_LIMIT: &str = "GET /rate_limit";
pub const ORG_REPOS: &str = "GET /orgs/{org}/repos";
/// Also GET /repositories/{id}.
pub const REPO: &str = "GET /repos/{owner}/{repo}";
pub const PULLS: &str = "GET /repos/{owner}/{repo}/pulls";
pub const PULL: &str = "GET /repos/{owner}/{repo}/pulls/{number}";
pub const PULL_COMMITS: &str = "GET /repos/{owner}/{repo}/pulls/{number}/commits";
pub const PULL_REVIEWS: &str = "GET /repos/{owner}/{repo}/pulls/{number}/reviews";
pub const PULL_REVIEW_COMMENTS: &str = "GET /repos/{owner}/{repo}/pulls/{number}/comments";
pub const ISSUE_COMMENTS: &str = "GET /repos/{owner}/{repo}/issues/{number}/comments";
pub const REPO_REVIEW_COMMENTS: &str = "GET /repos/{owner}/{repo}/pulls/comments";
pub const REPO_ISSUE_COMMENTS: &str = "GET /repos/{owner}/{repo}/issues/comments";
/// Also POST /api/graphql, GitHub Enterprise Server's path.
pub const GRAPHQL: &str = "POST /graphql";

/// Every endpoint's counting key (`GithubSimulator::request_count`). The same key counts
/// the github.com path, its /api/v3 twin and the /repositories/{id}/… form. Requests to any
/// other path count under "{METHOD} {path}" as sent (minus /api/v3).
pub const ENDPOINTS: [&str; 13] = [
    USER,
    RATE_LIMIT,
    ORG_REPOS,
    REPO,
    PULLS,
    PULL,
    PULL_COMMITS,
    PULL_REVIEWS,
    PULL_REVIEW_COMMENTS,
    ISSUE_COMMENTS,
    REPO_REVIEW_COMMENTS,
    REPO_ISSUE_COMMENTS,
    GRAPHQL,
];

const DEFAULT_PER_PAGE: usize = 30;
/// GitHub lists at most 250 commits of a pull request.
const MAX_PR_COMMITS: usize = 250;
pub(crate) const DOCS: &str = "https://docs.github.com/rest";

/// How a request names a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RepoSel<'p> {
    Name(&'p str, &'p str),
    Id(&'p str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RepoPart<'p> {
    Repo,
    Pulls,
    Pull(&'p str),
    PullCommits(&'p str),
    PullReviews(&'p str),
    PullComments(&'p str),
    IssueComments(&'p str),
    RepoReviewComments,
    RepoIssueComments,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route<'p> {
    User,
    RateLimit,
    OrgRepos(&'p str),
    Repo {
        sel: RepoSel<'p>,
        part: RepoPart<'p>,
        /// The path after the repository, e.g. "/issues/7/comments", for Link URLs.
        suffix: &'p str,
    },
    Unknown,
}

/// Parses a path (without any /api/v3 prefix).
pub(crate) fn parse(path: &str) -> Route<'_> {
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    let segments: Vec<&str> = trimmed.trim_start_matches('/').split('/').collect();
    let (sel, rest, skip) = match segments.as_slice() {
        ["user"] => return Route::User,
        ["rate_limit"] => return Route::RateLimit,
        ["orgs", org, "repos"] => return Route::OrgRepos(org),
        ["repos", owner, repo, rest @ ..] => (RepoSel::Name(owner, repo), rest, 3),
        ["repositories", id, rest @ ..] => (RepoSel::Id(id), rest, 2),
        _ => return Route::Unknown,
    };
    let part = match rest {
        [] => RepoPart::Repo,
        ["pulls"] => RepoPart::Pulls,
        ["pulls", "comments"] => RepoPart::RepoReviewComments,
        ["pulls", n] => RepoPart::Pull(n),
        ["pulls", n, "commits"] => RepoPart::PullCommits(n),
        ["pulls", n, "reviews"] => RepoPart::PullReviews(n),
        ["pulls", n, "comments"] => RepoPart::PullComments(n),
        ["issues", "comments"] => RepoPart::RepoIssueComments,
        ["issues", n, "comments"] => RepoPart::IssueComments(n),
        _ => return Route::Unknown,
    };
    // the suffix starts after the segments naming the repository
    let head: usize = segments[..skip].iter().map(|s| s.len() + 1).sum();
    let suffix = &trimmed[head.min(trimmed.len())..];
    Route::Repo { sel, part, suffix }
}

impl Route<'_> {
    /// The counting key of a request to `path` (without /api/v3).
    pub(crate) fn key(&self, method: &str, path: &str) -> String {
        let template = match self {
            _ if method != "GET" => None,
            Route::User => Some(USER),
            Route::RateLimit => Some(RATE_LIMIT),
            Route::OrgRepos(_) => Some(ORG_REPOS),
            Route::Repo { part, .. } => Some(match part {
                RepoPart::Repo => REPO,
                RepoPart::Pulls => PULLS,
                RepoPart::Pull(_) => PULL,
                RepoPart::PullCommits(_) => PULL_COMMITS,
                RepoPart::PullReviews(_) => PULL_REVIEWS,
                RepoPart::PullComments(_) => PULL_REVIEW_COMMENTS,
                RepoPart::IssueComments(_) => ISSUE_COMMENTS,
                RepoPart::RepoReviewComments => REPO_REVIEW_COMMENTS,
                RepoPart::RepoIssueComments => REPO_ISSUE_COMMENTS,
            }),
            Route::Unknown => None,
        };
        template.map_or_else(|| format!("{method} {path}"), str::to_owned)
    }
}

/// Query parameters, percent-decoded, in order.
pub(crate) type Params = Vec<(String, String)>;

pub(crate) fn parse_query(query: &str) -> Params {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                if let Some(byte) = bytes.get(i + 1..i + 3).and_then(hex_byte) {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |b: u8| char::from(b).to_digit(16);
    Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A finished answer, before the server adds ETag, rate-limit and other headers.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: String,
    pub(crate) link: Option<String>,
    /// Epoch seconds, for Last-Modified.
    pub(crate) last_modified: Option<i64>,
}

impl Answer {
    pub(crate) fn ok(body: String) -> Answer {
        Answer {
            status: StatusCode::OK,
            body,
            link: None,
            last_modified: None,
        }
    }

    pub(crate) fn error(status: StatusCode, message: &str) -> Answer {
        let body = json!({
            "message": message,
            "documentation_url": DOCS,
            "status": status.as_u16().to_string(),
        });
        Answer {
            status,
            body: body.to_string(),
            link: None,
            last_modified: None,
        }
    }

    pub(crate) fn not_found() -> Answer {
        Answer::error(StatusCode::NOT_FOUND, "Not Found")
    }
}

/// The request as the endpoints see it.
pub(crate) struct Request<'a> {
    pub(crate) sim: &'a GhShared,
    /// 0 = github.com paths, 1 = /api/v3.
    pub(crate) root: usize,
    pub(crate) params: Params,
    pub(crate) raw_query: &'a str,
}

impl Request<'_> {
    /// Base of Link URLs: the simulator, plus /api/v3 when the request used it (on another
    /// origin when a test asked for links elsewhere).
    fn link_base(&self) -> String {
        let api = &self.sim.roots[self.root].api;
        match self.sim.link_origin() {
            Some(origin) => api.replacen(&self.sim.base_url, &origin, 1),
            None => api.clone(),
        }
    }

    fn paging(&self) -> (usize, usize) {
        let per_page = param(&self.params, "per_page")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_PER_PAGE)
            .min(self.sim.max_per_page);
        let page = param(&self.params, "page")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        (per_page, page)
    }

    /// The items of the requested page and its Link header, for a list of `total` items
    /// whose pages live at `path` (below the link base).
    fn page(&self, total: usize, path: &str) -> (Range<usize>, Option<String>) {
        let (per_page, page) = self.paging();
        let last = total.div_ceil(per_page).max(1);
        let start = (page - 1).saturating_mul(per_page).min(total);
        let end = start.saturating_add(per_page).min(total);
        if page == 1 && last == 1 {
            return (start..end, None);
        }
        let kept: Vec<&str> = self
            .raw_query
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.starts_with("page=") && *pair != "page")
            .collect();
        let url = |n: usize| {
            let mut url = format!("{}{path}?", self.link_base());
            for pair in &kept {
                url.push_str(pair);
                url.push('&');
            }
            let _ = write!(url, "page={n}");
            url
        };
        let mut links = Vec::new();
        if page > 1 {
            links.push(format!("<{}>; rel=\"prev\"", url((page - 1).min(last))));
        }
        if page < last {
            links.push(format!("<{}>; rel=\"next\"", url(page + 1)));
            links.push(format!("<{}>; rel=\"last\"", url(last)));
        }
        if page > 1 {
            links.push(format!("<{}>; rel=\"first\"", url(1)));
        }
        (start..end, Some(links.join(", ")))
    }

    fn since(&self) -> Result<Option<i64>, Answer> {
        match param(&self.params, "since") {
            None | Some("") => Ok(None),
            Some(text) => crate::time::parse_timestamp(text)
                .map(|ms| Some(ms.div_euclid(1000)))
                .ok_or_else(|| {
                    Answer::error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &format!(
                            "Invalid request.\n\nInvalid property /since: `{text}` is not a valid date-time."
                        ),
                    )
                }),
        }
    }

    /// `sort` and `direction` of comment listings: created (default) or updated, ascending
    /// unless `direction=desc`.
    fn comment_order(&self) -> (bool, bool) {
        let by_updated = param(&self.params, "sort") == Some("updated");
        let descending = param(&self.params, "direction") == Some("desc");
        (by_updated, descending)
    }
}

/// Answers a routed GET (GET /rate_limit and /user are handled by the server).
pub(crate) fn answer(req: &Request<'_>, route: &Route<'_>) -> Answer {
    let result = match (&req.sim.data, route) {
        (data, Route::OrgRepos(org)) => org_repos(req, data, org),
        (Data::Generated(g), Route::Repo { sel, part, suffix }) => match generated_repo(g, sel) {
            Some(r) => generated(req, g, r, part, suffix),
            None => Err(Answer::not_found()),
        },
        (Data::Fixtures(f), Route::Repo { sel, part, suffix }) => match fixture_repo(f, sel) {
            Some(repo) => recorded(req, repo, part, suffix),
            None => Err(Answer::not_found()),
        },
        _ => Err(Answer::not_found()),
    };
    result.unwrap_or_else(|e| e)
}

pub(crate) fn generated_repo(g: &Generated, sel: &RepoSel<'_>) -> Option<usize> {
    match sel {
        RepoSel::Name(owner, name) => g.repo_by_name(owner, name),
        RepoSel::Id(id) => g.repo_by_id(id.parse().ok()?),
    }
}

pub(crate) fn fixture_repo<'a>(f: &'a FixtureData, sel: &RepoSel<'_>) -> Option<&'a FixRepo> {
    f.repos.iter().find(|repo| match sel {
        RepoSel::Name(owner, name) => {
            repo.owner.eq_ignore_ascii_case(owner) && repo.name.eq_ignore_ascii_case(name)
        }
        RepoSel::Id(id) => id.parse() == Ok(repo.id),
    })
}

fn number(text: &str) -> Result<u64, Answer> {
    text.parse().map_err(|_| Answer::not_found())
}

/// A JSON array of the page's items, each written by `item`.
fn array<T>(items: &[T], capacity: usize, mut item: impl FnMut(&mut Json, &T)) -> String {
    let mut j = Json::with_capacity(capacity);
    j.arr(|j| {
        for it in items {
            item(j, it);
        }
    });
    j.into_string()
}

fn values_array(values: &[&Value]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

fn paged(
    req: &Request<'_>,
    total: usize,
    path: &str,
    render: impl FnOnce(Range<usize>) -> String,
) -> Answer {
    let (range, link) = req.page(total, path);
    let mut answer = Answer::ok(render(range));
    answer.link = link;
    answer
}

// ---------------------------------------------------------------------------------------
// organisations

fn org_repos(req: &Request<'_>, data: &Data, org: &str) -> Result<Answer, Answer> {
    // (created, updated, pushed, full name, index)
    let mut repos: Vec<(i64, i64, i64, String, usize)> = match data {
        Data::Generated(g) if g.spec.org.eq_ignore_ascii_case(org) => g
            .repos
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    r.created,
                    r.pushed,
                    r.pushed,
                    r.full_name.to_ascii_lowercase(),
                    i,
                )
            })
            .collect(),
        Data::Fixtures(f) => f
            .repos
            .iter()
            .enumerate()
            .filter(|(_, r)| r.owner.eq_ignore_ascii_case(org))
            .map(|(i, r)| {
                let name = format!("{}/{}", r.owner, r.name).to_ascii_lowercase();
                (r.created, r.updated, r.pushed, name, i)
            })
            .collect(),
        Data::Generated(_) => Vec::new(),
    };
    if repos.is_empty() {
        return Err(Answer::not_found());
    }
    // every repository is a public source repository
    if matches!(
        param(&req.params, "type"),
        Some("forks" | "private" | "internal")
    ) {
        repos.clear();
    }
    let sort = param(&req.params, "sort").unwrap_or("created");
    let ascending = match param(&req.params, "direction") {
        Some("asc") => true,
        Some("desc") => false,
        _ => sort == "full_name",
    };
    match sort {
        "updated" => repos.sort_by_key(|a| (a.1, a.4)),
        "pushed" => repos.sort_by_key(|a| (a.2, a.4)),
        "full_name" => repos.sort_by(|a, b| a.3.cmp(&b.3)),
        _ => repos.sort_by_key(|a| (a.0, a.4)),
    }
    if !ascending {
        repos.reverse();
    }
    let indexes: Vec<usize> = repos.iter().map(|r| r.4).collect();
    let path = format!("/orgs/{org}/repos");
    Ok(paged(req, indexes.len(), &path, |range| match data {
        Data::Generated(_) => {
            let listed = &req.sim.roots[req.root].repo_listed;
            array(&indexes[range], 8192, |j, &i| j.raw(&listed[i]))
        }
        Data::Fixtures(f) => {
            let values: Vec<&Value> = indexes[range].iter().map(|&i| &f.repos[i].value).collect();
            values_array(&values)
        }
    }))
}

// ---------------------------------------------------------------------------------------
// generated repositories

fn pr_index(g: &Generated, r: usize, text: &str) -> Result<usize, Answer> {
    let n = number(text)?;
    let k = usize::try_from(n).ok().and_then(|n| n.checked_sub(1));
    k.filter(|&k| k < g.prs[r].len())
        .ok_or_else(Answer::not_found)
}

fn generated(
    req: &Request<'_>,
    g: &Generated,
    r: usize,
    part: &RepoPart<'_>,
    suffix: &str,
) -> Result<Answer, Answer> {
    let root = &req.sim.roots[req.root];
    let links = format!("/repositories/{}{suffix}", g.repos[r].id);
    let bumps = req.sim.bumps();
    match *part {
        RepoPart::Repo => {
            let mut answer = Answer::ok(root.repo_full[r].clone());
            answer.last_modified = Some(g.repos[r].pushed);
            Ok(answer)
        }
        RepoPart::Pulls => Ok(generated_pulls(req, g, r, &links, &bumps)),
        RepoPart::Pull(n) => {
            let k = pr_index(g, r, n)?;
            let mut answer = Answer::ok(generated_pull(root, g, r, k, &bumps));
            answer.last_modified = Some(bumps.pr_updated(r, k, g.prs[r][k].updated));
            Ok(answer)
        }
        RepoPart::PullCommits(n) | RepoPart::PullReviews(n) => {
            let k = pr_index(g, r, n)?;
            let child = match part {
                RepoPart::PullCommits(_) => Child::Commit,
                _ => Child::Review,
            };
            let total = child_count(g, child);
            Ok(paged(req, total, &links, |range| {
                children_json(root, g, r, k, child, range)
            }))
        }
        RepoPart::PullComments(n) => {
            let k = pr_index(g, r, n)?;
            let since = req.since()?;
            let keys = pr_comment_keys(g, r, k, Child::ReviewComment, &[], &bumps);
            let keys = order_comments(keys, None, since, req.comment_order());
            Ok(paged(req, keys.len(), &links, |range| {
                render_comments(root, g, &keys[range], Child::ReviewComment, &bumps)
            }))
        }
        RepoPart::IssueComments(n) => {
            let k = pr_index(g, r, n)?;
            let since = req.since()?;
            let keys = issue_comment_keys(g, r, k, since, &bumps);
            Ok(paged(req, keys.len(), &links, |range| {
                render_comments(root, g, &keys[range], Child::IssueComment, &bumps)
            }))
        }
        RepoPart::RepoReviewComments | RepoPart::RepoIssueComments => {
            let child = if *part == RepoPart::RepoReviewComments {
                Child::ReviewComment
            } else {
                Child::IssueComment
            };
            let since = req.since()?;
            let index = req.sim.repo_index(g, r);
            let index = match child {
                Child::ReviewComment => &index.review_comments,
                _ => &index.issue_comments,
            };
            let mut keys = index.by_created.clone();
            // comments edited since the index was built: their new updated_at, and where
            let mut edited: Vec<u32> = Vec::new();
            for &(k, i) in bumps.repo_edits(child, r) {
                let Some(edit) = bumps.edit(child, r, k, i) else {
                    continue;
                };
                let times = child_times(&g.spec, &g.prs[r][k], r, k, child);
                let created = times[i].0;
                let id = super::generate::time_id(
                    created,
                    super::generate::child_ordinal(&g.spec, child, r, k, i),
                );
                if let Ok(at) = keys.binary_search_by_key(&(created, id), |c| (c.created, c.id)) {
                    keys[at].updated = edit.at;
                    edited.push(at as u32);
                }
            }
            edited.sort_unstable();
            if child == Child::IssueComment
                && let Some(extras) = bumps.by_repo.get(&r)
            {
                keys.extend(extras.iter().map(|&e| extra_key(&bumps, e)));
            }
            let indexed = Indexed {
                order: &index.by_updated,
                original: &index.by_created,
                edited: &edited,
            };
            let keys = order_comments(keys, Some(indexed), since, req.comment_order());
            Ok(paged(req, keys.len(), &links, |range| {
                render_comments(root, g, &keys[range], child, &bumps)
            }))
        }
    }
}

fn generated_pulls(
    req: &Request<'_>,
    g: &Generated,
    r: usize,
    links: &str,
    bumps: &Bumps,
) -> Answer {
    let state = param(&req.params, "state").unwrap_or("open");
    let (by_updated, ascending) = pulls_order(req);
    let keys = generated_pull_order(
        g,
        r,
        bumps,
        |f| match state {
            "closed" => f.closed,
            "all" => true,
            _ => !f.closed,
        },
        by_updated,
        ascending,
    );
    let root = &req.sim.roots[req.root];
    // two repositories and three or four users are spliced into every pull request
    let per_pull = 2 * (root.repo_embedded[r].len() + root.org.len()) + 7_000;
    paged(req, keys.len(), links, |range| {
        let page = &keys[range];
        array(page, per_pull * page.len() + 2, |j, &(_, k)| {
            PrView::new(g, root, r, k).pull(j, false, bumps);
        })
    })
}

/// `sort` and `direction` of a pull request listing: (by updated time, ascending).
fn pulls_order(req: &Request<'_>) -> (bool, bool) {
    let sort = param(&req.params, "sort").unwrap_or("created");
    let ascending = match param(&req.params, "direction") {
        Some("asc") => true,
        Some("desc") => false,
        _ => !(sort == "created" || param(&req.params, "sort").is_none()),
    };
    (sort == "updated", ascending)
}

/// The pull requests of generated repository `r` that `keep` accepts, as (sort time, index),
/// sorted by updated (else created) time, ties by number in the same direction: the order
/// of GET pulls (and of GraphQL's `pullRequests`).
pub(crate) fn generated_pull_order(
    g: &Generated,
    r: usize,
    bumps: &Bumps,
    keep: impl Fn(&PrFacts) -> bool,
    by_updated: bool,
    ascending: bool,
) -> Vec<(i64, usize)> {
    let mut keys: Vec<(i64, usize)> = g.prs[r]
        .iter()
        .enumerate()
        .filter(|(_, f)| keep(f))
        .map(|(k, f)| {
            let t = if by_updated {
                bumps.pr_updated(r, k, f.updated)
            } else {
                f.created
            };
            (t, k)
        })
        .collect();
    if ascending {
        keys.sort_unstable();
    } else {
        keys.sort_unstable_by(|a, b| b.cmp(a));
    }
    keys
}

/// The same for a recorded repository: (sort time, pull request).
pub(crate) fn recorded_pull_order(
    repo: &FixRepo,
    keep: impl Fn(&FixPr) -> bool,
    by_updated: bool,
    ascending: bool,
) -> Vec<(i64, &FixPr)> {
    let mut prs: Vec<(i64, &FixPr)> = repo
        .prs
        .iter()
        .filter(|p| keep(p))
        .map(|p| (if by_updated { p.updated } else { p.created }, p))
        .collect();
    prs.sort_by_key(|p| (p.0, p.1.number));
    if !ascending {
        prs.reverse();
    }
    prs
}

/// GET pulls/{number} of generated pull request `k`.
pub(crate) fn generated_pull(
    root: &Root,
    g: &Generated,
    r: usize,
    k: usize,
    bumps: &Bumps,
) -> String {
    let mut j = Json::with_capacity(20_000);
    PrView::new(g, root, r, k).pull(&mut j, true, bumps);
    j.into_string()
}

/// Items in a commits (at most 250, as GitHub lists) or reviews listing.
fn child_count(g: &Generated, child: Child) -> usize {
    let count = child.count(&g.spec);
    match child {
        Child::Commit => count.min(MAX_PR_COMMITS),
        _ => count,
    }
}

/// Items `range` of a generated pull request's commits or reviews listing, as a JSON array.
fn children_json(
    root: &Root,
    g: &Generated,
    r: usize,
    k: usize,
    child: Child,
    range: Range<usize>,
) -> String {
    let view = PrView::new(g, root, r, k);
    let times = child_times(&g.spec, view.facts, r, k, child);
    let items: Vec<usize> = range.collect();
    array(&items, 4096 * items.len() + 2, |j, &i| match child {
        Child::Commit => view.commit(j, i, &times),
        _ => view.review(j, i, &times),
    })
}

/// The issue comments of generated pull request `k` (bumped extras included), in id order,
/// updated at or after `since`.
fn issue_comment_keys(
    g: &Generated,
    r: usize,
    k: usize,
    since: Option<i64>,
    bumps: &Bumps,
) -> Vec<CommentKey> {
    let extras = bumps.pr_extras(r, k).to_vec();
    let keys = pr_comment_keys(g, r, k, Child::IssueComment, &extras, bumps);
    // an issue's comments come in id order; only `since` filters them
    order_comments(keys, None, since, (false, false))
}

/// Every item of a pull request's commits, reviews or issue comments listing, in the order
/// and form of the REST listing (all its pages): generated pull request `k` of repository `r`.
pub(crate) fn generated_listing(
    root: &Root,
    g: &Generated,
    r: usize,
    k: usize,
    child: Child,
    bumps: &Bumps,
) -> String {
    match child {
        Child::IssueComment | Child::ReviewComment => {
            let keys = match child {
                Child::IssueComment => issue_comment_keys(g, r, k, None, bumps),
                _ => {
                    let keys = pr_comment_keys(g, r, k, child, &[], bumps);
                    order_comments(keys, None, None, (false, false))
                }
            };
            render_comments(root, g, &keys, child, bumps)
        }
        _ => children_json(root, g, r, k, child, 0..child_count(g, child)),
    }
}

/// The same for recorded pull request `number` (its issue comments by creation time, as GET
/// issues/{number}/comments lists them).
pub(crate) fn recorded_listing(repo: &FixRepo, number: u64, child: Child) -> Vec<&Value> {
    fn by_creation(comments: Option<&Vec<FixComment>>) -> Vec<&Value> {
        let mut listed: Vec<&FixComment> = comments.into_iter().flatten().collect();
        listed.sort_by_key(|c| (c.created, c.id));
        listed.into_iter().map(|c| &c.value).collect()
    }
    match child {
        Child::Commit => repo.commits.get(&number).into_iter().flatten().collect(),
        Child::Review => repo.reviews.get(&number).into_iter().flatten().collect(),
        Child::ReviewComment => by_creation(repo.review_comments.get(&number)),
        Child::IssueComment => by_creation(repo.issue_comments.get(&number)),
    }
}

fn extra_key(bumps: &Bumps, e: usize) -> CommentKey {
    let extra = &bumps.extras[e];
    CommentKey {
        created: extra.at,
        updated: extra.updated(),
        id: extra.id,
        item: CommentRef::Extra(e),
    }
}

/// The comments of one pull request (plus bumped extras), in creation order.
fn pr_comment_keys(
    g: &Generated,
    r: usize,
    k: usize,
    child: Child,
    extras: &[usize],
    bumps: &Bumps,
) -> Vec<CommentKey> {
    let times = child_times(&g.spec, &g.prs[r][k], r, k, child);
    let mut keys: Vec<CommentKey> = times
        .iter()
        .enumerate()
        .map(|(i, &(created, updated))| CommentKey {
            created,
            updated: bumps.edit(child, r, k, i).map_or(updated, |e| e.at),
            id: super::generate::time_id(
                created,
                super::generate::child_ordinal(&g.spec, child, r, k, i),
            ),
            item: CommentRef::Generated {
                r: r as u32,
                k: k as u32,
                i: i as u32,
            },
        })
        .collect();
    keys.extend(extras.iter().map(|&e| extra_key(bumps, e)));
    keys
}

/// A repository's comment index as `order_comments` uses it.
struct Indexed<'a> {
    /// The index's keys in updated order (a permutation of `original`).
    order: &'a [u32],
    /// The index's keys as built, in creation order.
    original: &'a [CommentKey],
    /// Positions (sorted) of the keys edited since: newer than every other indexed key.
    edited: &'a [u32],
}

/// Filters by `since` (updated at or after) and orders by created or updated time, ties by
/// id. `keys` come in creation order; with `indexed` given, its first keys are the index's
/// (some edited) and the rest (bumped extras) are newer than all of them.
fn order_comments(
    keys: Vec<CommentKey>,
    indexed: Option<Indexed<'_>>,
    since: Option<i64>,
    (sort_updated, descending): (bool, bool),
) -> Vec<CommentKey> {
    let keep = |c: &CommentKey| since.is_none_or(|s| c.updated >= s);
    let mut out: Vec<CommentKey> = match (sort_updated, indexed) {
        (true, Some(ix)) => {
            let first = ix
                .order
                .partition_point(|&i| !keep(&ix.original[i as usize]));
            let mut out: Vec<CommentKey> = ix.order[first..]
                .iter()
                .filter(|i| ix.edited.binary_search(i).is_err())
                .map(|&i| keys[i as usize])
                .collect();
            let base = ix.original.len();
            let mut newer: Vec<CommentKey> = keys[base..]
                .iter()
                .copied()
                .chain(ix.edited.iter().map(|&i| keys[i as usize]))
                .filter(keep)
                .collect();
            newer.sort_unstable_by_key(|c| (c.updated, c.id));
            out.extend(newer);
            out
        }
        (true, None) => {
            let mut out: Vec<CommentKey> = keys.into_iter().filter(keep).collect();
            out.sort_unstable_by_key(|c| (c.updated, c.id));
            out
        }
        (false, _) => {
            let mut out: Vec<CommentKey> = keys.into_iter().filter(keep).collect();
            out.sort_by_key(|c| (c.created, c.id));
            out
        }
    };
    if descending {
        out.reverse();
    }
    out
}

fn render_comments(
    root: &Root,
    g: &Generated,
    keys: &[CommentKey],
    child: Child,
    bumps: &Bumps,
) -> String {
    array(keys, 3000 * keys.len() + 2, |j, key| match key.item {
        CommentRef::Generated { r, k, i } => {
            let (r, k, i) = (r as usize, k as usize, i as usize);
            let view = PrView::new(g, root, r, k);
            let times = child_times(&g.spec, view.facts, r, k, child);
            let edit = bumps.edit(child, r, k, i);
            match child {
                Child::ReviewComment => view.review_comment(j, i, &times, edit),
                _ => view.issue_comment(j, i, &times, edit),
            }
        }
        CommentRef::Extra(e) => {
            let extra = &bumps.extras[e];
            PrView::new(g, root, extra.r, extra.k).extra_comment(j, extra);
        }
        CommentRef::Recorded(_) => j.null(),
    })
}

// ---------------------------------------------------------------------------------------
// recorded repositories

fn recorded(
    req: &Request<'_>,
    repo: &FixRepo,
    part: &RepoPart<'_>,
    suffix: &str,
) -> Result<Answer, Answer> {
    let links = format!("/repositories/{}{suffix}", repo.id);
    let pr = |text: &str| -> Result<Option<usize>, Answer> {
        let n = number(text)?;
        Ok(repo.prs.iter().position(|p| p.number == n))
    };
    match *part {
        RepoPart::Repo => {
            let mut answer = Answer::ok(repo.value.to_string());
            answer.last_modified = Some(repo.updated);
            Ok(answer)
        }
        RepoPart::Pulls => {
            let state = param(&req.params, "state").unwrap_or("open");
            let (by_updated, ascending) = pulls_order(req);
            let prs = recorded_pull_order(
                repo,
                |p| match state {
                    "closed" => !p.open,
                    "all" => true,
                    _ => p.open,
                },
                by_updated,
                ascending,
            );
            Ok(paged(req, prs.len(), &links, |range| {
                let values: Vec<&Value> = prs[range].iter().map(|p| &p.1.list).collect();
                values_array(&values)
            }))
        }
        RepoPart::Pull(n) => {
            let i = pr(n)?.ok_or_else(Answer::not_found)?;
            let p = &repo.prs[i];
            let mut answer = Answer::ok(p.single.as_ref().unwrap_or(&p.list).to_string());
            answer.last_modified = Some(p.updated);
            Ok(answer)
        }
        RepoPart::PullCommits(n) | RepoPart::PullReviews(n) => {
            let map = if matches!(part, RepoPart::PullCommits(_)) {
                &repo.commits
            } else {
                &repo.reviews
            };
            let number = number(n)?;
            let values: Vec<&Value> = match map.get(&number) {
                Some(values) => values.iter().collect(),
                None if pr(n)?.is_some() => Vec::new(),
                None => return Err(Answer::not_found()),
            };
            Ok(paged(req, values.len(), &links, |range| {
                values_array(&values[range])
            }))
        }
        RepoPart::PullComments(n) | RepoPart::IssueComments(n) => {
            let review = matches!(part, RepoPart::PullComments(_));
            let map = if review {
                &repo.review_comments
            } else {
                &repo.issue_comments
            };
            let number = number(n)?;
            let comments: &[FixComment] = match map.get(&number) {
                Some(comments) => comments,
                None if pr(n)?.is_some() => &[],
                None => return Err(Answer::not_found()),
            };
            let since = req.since()?;
            let order = if review {
                req.comment_order()
            } else {
                (false, false)
            };
            Ok(recorded_comments(
                req,
                comments.iter().collect(),
                since,
                order,
                &links,
            ))
        }
        RepoPart::RepoReviewComments | RepoPart::RepoIssueComments => {
            let map = if *part == RepoPart::RepoReviewComments {
                &repo.review_comments
            } else {
                &repo.issue_comments
            };
            let since = req.since()?;
            let all: Vec<&FixComment> = map.values().flatten().collect();
            Ok(recorded_comments(
                req,
                all,
                since,
                req.comment_order(),
                &links,
            ))
        }
    }
}

fn recorded_comments(
    req: &Request<'_>,
    comments: Vec<&FixComment>,
    since: Option<i64>,
    order: (bool, bool),
    links: &str,
) -> Answer {
    let keys: Vec<CommentKey> = comments
        .iter()
        .enumerate()
        .map(|(i, c)| CommentKey {
            created: c.created,
            updated: c.updated,
            id: c.id,
            item: CommentRef::Recorded(i as u32),
        })
        .collect();
    let keys = order_comments(keys, None, since, order);
    paged(req, keys.len(), links, |range| {
        let values: Vec<&Value> = keys[range]
            .iter()
            .filter_map(|k| match k.item {
                CommentRef::Recorded(i) => Some(&comments[i as usize].value),
                _ => None,
            })
            .collect();
        values_array(&values)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_into_keys() {
        let cases = [
            ("/user", USER),
            ("/rate_limit", RATE_LIMIT),
            ("/orgs/acme/repos", ORG_REPOS),
            ("/repos/acme/repo-01", REPO),
            ("/repositories/7", REPO),
            ("/repos/acme/repo-01/pulls", PULLS),
            ("/repositories/7/pulls", PULLS),
            ("/repos/acme/repo-01/pulls/3", PULL),
            ("/repos/acme/repo-01/pulls/3/commits", PULL_COMMITS),
            ("/repos/acme/repo-01/pulls/3/reviews", PULL_REVIEWS),
            ("/repos/acme/repo-01/pulls/3/comments", PULL_REVIEW_COMMENTS),
            ("/repositories/7/issues/3/comments", ISSUE_COMMENTS),
            ("/repos/acme/repo-01/pulls/comments", REPO_REVIEW_COMMENTS),
            ("/repos/acme/repo-01/issues/comments", REPO_ISSUE_COMMENTS),
        ];
        for (path, key) in cases {
            assert_eq!(parse(path).key("GET", path), key, "{path}");
        }
        assert_eq!(parse("/nope").key("GET", "/nope"), "GET /nope");
        assert_eq!(parse("/user").key("POST", "/user"), "POST /user");
        assert_eq!(
            parse("/repositories/7/issues/3/comments"),
            Route::Repo {
                sel: RepoSel::Id("7"),
                part: RepoPart::IssueComments("3"),
                suffix: "/issues/3/comments",
            }
        );
        assert!(matches!(
            parse("/repos/a/b"),
            Route::Repo { suffix: "", .. }
        ));
    }

    #[test]
    fn decodes_queries() {
        let params = parse_query("since=2024-01-01T00%3A00%3A00Z&q=a+b&x&bad=%zz&e=%C3%A9");
        assert_eq!(param(&params, "since"), Some("2024-01-01T00:00:00Z"));
        assert_eq!(param(&params, "q"), Some("a b"));
        assert_eq!(param(&params, "x"), Some(""));
        assert_eq!(param(&params, "bad"), Some("%zz"));
        assert_eq!(param(&params, "e"), Some("é"));
    }
}
