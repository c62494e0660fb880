//! Resolves planned fields over the REST answers: a pull request is the GET pulls/{number}
//! answer, its commits, reviews and comments the items of its commits, reviews and issue
//! comments listings, each mapped to GitHub's GraphQL fields:
//! * PullRequest: databaseId = id, id = node_id, body = body or "" when null, state =
//!   MERGED when merged (`merged` true or `merged_at` set) else the upper-case state, isDraft
//!   = draft (false when absent), merged = merged (else whether merged_at is set), author =
//!   user, baseRefName/headRefName = base.ref/head.ref, headRefOid = head.sha, the dates as
//!   they are, additions/deletions/changedFiles as they are (null when not recorded),
//!   mergedBy = merged_by, url = html_url;
//! * PullRequestCommit: commit.oid = sha, message = commit.message, url = html_url,
//!   author/committer = commit.author/commit.committer (name, email, date) with user = the
//!   top-level author/committer;
//! * PullRequestReview: databaseId = id, author = user, state, body, submittedAt =
//!   submitted_at, commit.oid = commit_id, url = html_url;
//! * IssueComment: databaseId = id, author = user, body, createdAt, updatedAt, url =
//!   html_url;
//! * an account (Actor, User): login, url = html_url, avatarUrl = avatar_url, databaseId =
//!   id, id = node_id, `__typename` from `type`.
//!
//! `pullRequests` orders as GET pulls?state=all does (CREATED_AT ASC by default) and its
//! cursors hold the sort key, so paging stays exact when pull requests are updated meanwhile;
//! the cursors of a pull request's commits, reviews and comments hold the position.
//! `hasNextPage`/`hasPreviousPage` say whether items follow or precede the page in the whole
//! list.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::GqlError;
use super::plan::Planned;
use super::schema;
use crate::github::api::{self, RepoSel};
use crate::github::dataset::{Data, FixPr, FixRepo, Generated};
use crate::github::generate::Child;
use crate::github::json::timestamp;
use crate::github::render::{Root, node_id};
use crate::github::server::user_id;
use crate::github::state::{Bumps, GhShared, RateView};

/// What `rateLimit` reports.
#[derive(Clone, Copy)]
pub(crate) struct Rate {
    pub(crate) cost: u32,
    pub(crate) nodes: u64,
    /// The budget after this query.
    pub(crate) view: RateView,
}

/// Part of the answer, keeping the order fields were asked in.
#[derive(Debug)]
enum Out {
    Null,
    Value(Value),
    List(Vec<Out>),
    Object(Vec<(String, Out)>),
}

impl Out {
    fn write(&self, buf: &mut String) {
        match self {
            Out::Null => buf.push_str("null"),
            Out::Value(value) => buf.push_str(&value.to_string()),
            Out::List(items) => {
                buf.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        buf.push(',');
                    }
                    item.write(buf);
                }
                buf.push(']');
            }
            Out::Object(fields) => {
                buf.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        buf.push(',');
                    }
                    buf.push_str(&Value::from(key.as_str()).to_string());
                    buf.push(':');
                    value.write(buf);
                }
                buf.push('}');
            }
        }
    }
}

/// Adds `value` under `key`, merging it into an object already there (a field selected
/// twice, e.g. directly and through a fragment).
fn merge_into(fields: &mut Vec<(String, Out)>, key: &str, value: Out) {
    match fields.iter_mut().find(|(k, _)| k == key) {
        Some((_, existing)) => merge(existing, value),
        None => fields.push((key.to_owned(), value)),
    }
}

fn merge(existing: &mut Out, value: Out) {
    match (existing, value) {
        (Out::Object(into), Out::Object(from)) => {
            for (key, value) in from {
                merge_into(into, &key, value);
            }
        }
        (Out::List(into), Out::List(from)) => {
            for (into, from) in into.iter_mut().zip(from) {
                merge(into, from);
            }
        }
        _ => {}
    }
}

#[derive(Clone, Copy)]
enum Repo<'d> {
    Generated(&'d Generated, usize),
    Recorded(&'d FixRepo),
}

#[derive(Clone, Copy)]
enum Pull<'d> {
    /// Index of the pull request.
    Generated(usize),
    Recorded(&'d FixPr),
}

/// An item of a connection.
enum Node<'d> {
    Pull(Repo<'d>, Pull<'d>),
    Shaped(Value),
}

struct Page<'d> {
    typename: &'static str,
    total: usize,
    /// (cursor, node) of the page's items.
    items: Vec<(String, Node<'d>)>,
    has_next: bool,
    has_previous: bool,
}

/// An object being resolved.
enum Obj<'d, 'p> {
    Query,
    RateLimit,
    Repository(Repo<'d>, Value),
    PullRequest(Repo<'d>, Pull<'d>, Value),
    Connection(Page<'d>),
    Edge(&'static str, &'p str, &'p Node<'d>),
    /// A plain object: its fields, `__typename` included.
    Shaped(Value),
}

impl Obj<'_, '_> {
    fn typename(&self) -> &str {
        match self {
            Obj::Query => "Query",
            Obj::RateLimit => "RateLimit",
            Obj::Repository(..) => "Repository",
            Obj::PullRequest(..) => "PullRequest",
            Obj::Connection(page) => page.typename,
            Obj::Edge(typename, ..) => typename,
            Obj::Shaped(value) => value["__typename"].as_str().unwrap_or_default(),
        }
    }
}

struct Ctx<'d> {
    sim: &'d GhShared,
    root: &'d Root,
    bumps: &'d Bumps,
    rate: Rate,
    user: Option<usize>,
    errors: Vec<GqlError>,
}

/// The answer to `fields`: `{"data": …}`, with `errors` when some were found.
pub(crate) fn execute(
    sim: &GhShared,
    root: usize,
    user: Option<usize>,
    fields: &[Planned<'_>],
    rate: Rate,
) -> String {
    let bumps = sim.bumps();
    let mut ctx = Ctx {
        sim,
        root: &sim.roots[root],
        bumps: &bumps,
        rate,
        user,
        errors: Vec::new(),
    };
    let data = ctx
        .object(&Obj::Query, fields, &mut Vec::new())
        .unwrap_or(Out::Null);
    let mut body = String::from("{\"data\":");
    data.write(&mut body);
    if !ctx.errors.is_empty() {
        let errors: Vec<Value> = ctx.errors.iter().map(GqlError::to_json).collect();
        body.push_str(",\"errors\":");
        body.push_str(&Value::Array(errors).to_string());
    }
    body.push('}');
    body
}

/// Err(()) is a null that must go up to the nearest nullable field (its error is recorded).
type Resolved = Result<Out, ()>;

impl<'d> Ctx<'d> {
    fn fail(
        &mut self,
        field: &Planned<'_>,
        path: &[Value],
        kind: &'static str,
        message: String,
    ) -> Resolved {
        self.errors.push(
            GqlError::new(message)
                .kind(kind)
                .at(field.pos)
                .path(path.to_vec()),
        );
        Err(())
    }

    fn object(
        &mut self,
        obj: &Obj<'d, '_>,
        fields: &[Planned<'_>],
        path: &mut Vec<Value>,
    ) -> Resolved {
        let mut out = Vec::new();
        for field in fields {
            if field.on.is_some_and(|on| on != obj.typename()) {
                continue;
            }
            path.push(json!(field.key));
            let value = self.field(obj, field, path);
            path.pop();
            let value = match value {
                Ok(value) => value,
                Err(()) if field.non_null() => return Err(()),
                Err(()) => Out::Null,
            };
            merge_into(&mut out, field.key, value);
        }
        Ok(Out::Object(out))
    }

    fn field(&mut self, obj: &Obj<'d, '_>, field: &Planned<'_>, path: &mut Vec<Value>) -> Resolved {
        if field.def.is_none() {
            return Ok(Out::Value(json!(obj.typename())));
        }
        match obj {
            Obj::Query => match field.name {
                "rateLimit" => self.object(&Obj::RateLimit, &field.children, path),
                "repository" => self.repository(field, path),
                "viewer" => self.object(&Obj::Shaped(self.viewer()), &field.children, path),
                _ => Ok(Out::Null),
            },
            Obj::RateLimit => {
                let Rate { cost, nodes, view } = self.rate;
                Ok(Out::Value(match field.name {
                    "cost" => json!(cost),
                    "limit" => json!(view.limit),
                    "nodeCount" => json!(nodes),
                    "remaining" => json!(view.remaining),
                    "used" => json!(view.used()),
                    "resetAt" => json!(timestamp(view.reset)),
                    _ => Value::Null,
                }))
            }
            Obj::Repository(repo, shaped) => match field.name {
                "pullRequests" => self.pull_requests(*repo, field, path),
                "pullRequest" => self.pull_request(*repo, field, path),
                _ => self.shaped(shaped, field, path),
            },
            Obj::PullRequest(repo, pull, shaped) => match field.name {
                "commits" => self.children(*repo, *pull, Child::Commit, field, path),
                "reviews" => self.children(*repo, *pull, Child::Review, field, path),
                "comments" => self.children(*repo, *pull, Child::IssueComment, field, path),
                _ => self.shaped(shaped, field, path),
            },
            Obj::Connection(page) => match field.name {
                "totalCount" => Ok(Out::Value(json!(page.total))),
                "pageInfo" => {
                    let first = page.items.first().map(|(cursor, _)| cursor.as_str());
                    let last = page.items.last().map(|(cursor, _)| cursor.as_str());
                    let info = json!({
                        "__typename": "PageInfo",
                        "hasNextPage": page.has_next,
                        "hasPreviousPage": page.has_previous,
                        "startCursor": first,
                        "endCursor": last,
                    });
                    self.object(&Obj::Shaped(info), &field.children, path)
                }
                "nodes" => {
                    let mut items = Vec::with_capacity(page.items.len());
                    for (i, (_, node)) in page.items.iter().enumerate() {
                        path.push(json!(i));
                        let item = self.node(node, &field.children, path);
                        path.pop();
                        items.push(item.unwrap_or(Out::Null));
                    }
                    Ok(Out::List(items))
                }
                "edges" => {
                    let edge = schema::edge_of(page.typename);
                    let mut items = Vec::with_capacity(page.items.len());
                    for (i, (cursor, node)) in page.items.iter().enumerate() {
                        path.push(json!(i));
                        let obj = Obj::Edge(edge, cursor, node);
                        let item = self.object(&obj, &field.children, path);
                        path.pop();
                        items.push(item.unwrap_or(Out::Null));
                    }
                    Ok(Out::List(items))
                }
                _ => Ok(Out::Null),
            },
            Obj::Edge(_, cursor, node) => match field.name {
                "cursor" => Ok(Out::Value(json!(cursor))),
                "node" => self.node(node, &field.children, path),
                _ => Ok(Out::Null),
            },
            Obj::Shaped(shaped) => self.shaped(shaped, field, path),
        }
    }

    /// A field of a plain object.
    fn shaped(&mut self, shaped: &Value, field: &Planned<'_>, path: &mut Vec<Value>) -> Resolved {
        let value = &shaped[field.name];
        if field.children.is_empty() {
            return Ok(Out::Value(value.clone()));
        }
        if value.is_null() {
            return Ok(Out::Null);
        }
        self.object(&Obj::Shaped(value.clone()), &field.children, path)
    }

    fn node(&mut self, node: &Node<'d>, fields: &[Planned<'_>], path: &mut Vec<Value>) -> Resolved {
        match node {
            Node::Pull(repo, pull) => {
                let obj = self.pull_object(*repo, *pull);
                self.object(&obj, fields, path)
            }
            Node::Shaped(value) => self.object(&Obj::Shaped(value.clone()), fields, path),
        }
    }

    fn viewer(&self) -> Value {
        let n = self.user.unwrap_or(0) + 1;
        let id = user_id(self.user);
        let login = format!("sim-user-{n}");
        json!({
            "__typename": "User",
            "login": login,
            "url": format!("{}/{login}", self.root.html),
            "avatarUrl": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
            "databaseId": id,
            "id": node_id("U", id),
            "name": format!("Simulated User {n}"),
        })
    }

    fn repository(&mut self, field: &Planned<'_>, path: &mut Vec<Value>) -> Resolved {
        let owner = field.text("owner").unwrap_or_default();
        let name = field.text("name").unwrap_or_default();
        let sel = RepoSel::Name(owner, name);
        let found = match &self.sim.data {
            Data::Generated(g) => api::generated_repo(g, &sel).map(|r| {
                let rest = serde_json::from_str(&self.root.repo_full[r]).unwrap_or(Value::Null);
                (Repo::Generated(g, r), rest)
            }),
            Data::Fixtures(f) => {
                api::fixture_repo(f, &sel).map(|repo| (Repo::Recorded(repo), repo.value.clone()))
            }
        };
        let Some((repo, rest)) = found else {
            return self.fail(
                field,
                path,
                "NOT_FOUND",
                format!("Could not resolve to a Repository with the name '{owner}/{name}'."),
            );
        };
        let shaped = json!({
            "__typename": "Repository",
            "id": rest["node_id"],
            "databaseId": rest["id"],
            "name": rest["name"],
            "nameWithOwner": rest["full_name"],
            "url": rest["html_url"],
        });
        self.object(&Obj::Repository(repo, shaped), &field.children, path)
    }

    fn pull_request(
        &mut self,
        repo: Repo<'d>,
        field: &Planned<'_>,
        path: &mut Vec<Value>,
    ) -> Resolved {
        let number = field.int("number").unwrap_or(0);
        let pull = match repo {
            Repo::Generated(g, r) => usize::try_from(number)
                .ok()
                .and_then(|n| n.checked_sub(1))
                .filter(|&k| k < g.prs[r].len())
                .map(Pull::Generated),
            Repo::Recorded(repo) => repo
                .prs
                .iter()
                .find(|p| i64::try_from(p.number) == Ok(number))
                .map(Pull::Recorded),
        };
        let Some(pull) = pull else {
            return self.fail(
                field,
                path,
                "NOT_FOUND",
                format!("Could not resolve to a PullRequest with the number of {number}."),
            );
        };
        let obj = self.pull_object(repo, pull);
        self.object(&obj, &field.children, path)
    }

    /// A pull request: its GET pulls/{number} answer, mapped.
    fn pull_object<'p>(&self, repo: Repo<'d>, pull: Pull<'d>) -> Obj<'d, 'p> {
        let rest = match (repo, pull) {
            (Repo::Generated(g, r), Pull::Generated(k)) => {
                let text = api::generated_pull(self.root, g, r, k, self.bumps);
                serde_json::from_str(&text).unwrap_or(Value::Null)
            }
            (_, Pull::Recorded(p)) => p.single.as_ref().unwrap_or(&p.list).clone(),
            (Repo::Recorded(_), Pull::Generated(_)) => Value::Null,
        };
        Obj::PullRequest(repo, pull, pull_shape(&rest))
    }

    fn pull_requests(
        &mut self,
        repo: Repo<'d>,
        field: &Planned<'_>,
        path: &mut Vec<Value>,
    ) -> Resolved {
        let states: Option<Vec<String>> = field.args.get("states").and_then(|s| {
            s.as_array().map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
        });
        let wanted = |open: bool, merged: bool| {
            let state = match (open, merged) {
                (true, _) => "OPEN",
                (false, true) => "MERGED",
                (false, false) => "CLOSED",
            };
            states.as_ref().is_none_or(|s| s.iter().any(|w| w == state))
        };
        let (by_updated, ascending) = match field.args.get("orderBy") {
            None => (false, true),
            Some(order) => {
                let by_updated = match order["field"].as_str() {
                    Some("UPDATED_AT") => true,
                    Some("CREATED_AT") => false,
                    other => {
                        let message = format!(
                            "Ordering pull requests by {} is not supported by the simulator.",
                            other.unwrap_or("?")
                        );
                        return self.fail(field, path, "UNPROCESSABLE", message);
                    }
                };
                (by_updated, order["direction"] != "DESC")
            }
        };
        // (sort time, number, pull request), in listing order
        let keys: Vec<(i64, u64, Pull<'d>)> = match repo {
            Repo::Generated(g, r) => api::generated_pull_order(
                g,
                r,
                self.bumps,
                |f| wanted(!f.closed, f.merged),
                by_updated,
                ascending,
            )
            .into_iter()
            .map(|(t, k)| (t, k as u64 + 1, Pull::Generated(k)))
            .collect(),
            Repo::Recorded(recorded) => api::recorded_pull_order(
                recorded,
                |p| wanted(p.open, recorded_merged(p)),
                by_updated,
                ascending,
            )
            .into_iter()
            .map(|(t, p)| (t, p.number, Pull::Recorded(p)))
            .collect(),
        };
        // strictly after a key in the listing's order
        let after_key = |key: (i64, u64)| {
            keys.partition_point(|&(t, n, _)| match ascending {
                true => (t, n) <= key,
                false => (t, n) >= key,
            })
        };
        let before_key = |key: (i64, u64)| {
            keys.partition_point(|&(t, n, _)| match ascending {
                true => (t, n) < key,
                false => (t, n) > key,
            })
        };
        let mut bounds = (0, keys.len());
        for (arg, is_after) in [("after", true), ("before", false)] {
            let Some(text) = field.text(arg) else {
                continue;
            };
            let Some([t, n]) = decode_cursor(text).and_then(|p| <[i64; 2]>::try_from(p).ok())
            else {
                return self.bad_cursor(field, path, text);
            };
            let key = (t, n.unsigned_abs());
            match is_after {
                true => bounds.0 = after_key(key),
                false => bounds.1 = before_key(key),
            }
        }
        let (lo, hi) = window(bounds, field);
        let items = keys[lo..hi]
            .iter()
            .map(|&(t, n, pull)| (encode_cursor(&format!("{t}:{n}")), Node::Pull(repo, pull)))
            .collect();
        let page = Page {
            typename: "PullRequestConnection",
            total: keys.len(),
            items,
            has_next: hi < keys.len(),
            has_previous: lo > 0,
        };
        self.object(&Obj::Connection(page), &field.children, path)
    }

    /// A pull request's commits, reviews or issue comments: the REST listing's items, mapped.
    fn children(
        &mut self,
        repo: Repo<'d>,
        pull: Pull<'d>,
        child: Child,
        field: &Planned<'_>,
        path: &mut Vec<Value>,
    ) -> Resolved {
        let items: Vec<Value> = match (repo, pull) {
            (Repo::Generated(g, r), Pull::Generated(k)) => {
                let text = api::generated_listing(self.root, g, r, k, child, self.bumps);
                serde_json::from_str(&text).unwrap_or_default()
            }
            (Repo::Recorded(recorded), Pull::Recorded(p)) => {
                api::recorded_listing(recorded, p.number, child)
                    .into_iter()
                    .cloned()
                    .collect()
            }
            _ => Vec::new(),
        };
        let mut bounds = (0, items.len());
        for (arg, is_after) in [("after", true), ("before", false)] {
            let Some(text) = field.text(arg) else {
                continue;
            };
            let Some([i]) = decode_cursor(text).and_then(|p| <[i64; 1]>::try_from(p).ok()) else {
                return self.bad_cursor(field, path, text);
            };
            let i = usize::try_from(i).unwrap_or(0).min(items.len());
            match is_after {
                true => bounds.0 = (i + 1).min(items.len()),
                false => bounds.1 = i,
            }
        }
        let (lo, hi) = window(bounds, field);
        let (typename, shape): (&'static str, fn(&Value) -> Value) = match child {
            Child::Commit => ("PullRequestCommitConnection", commit_shape),
            Child::Review => ("PullRequestReviewConnection", review_shape),
            _ => ("IssueCommentConnection", comment_shape),
        };
        let page_items = items[lo..hi]
            .iter()
            .enumerate()
            .map(|(i, item)| {
                (
                    encode_cursor(&(lo + i).to_string()),
                    Node::Shaped(shape(item)),
                )
            })
            .collect();
        let page = Page {
            typename,
            total: items.len(),
            items: page_items,
            has_next: hi < items.len(),
            has_previous: lo > 0,
        };
        self.object(&Obj::Connection(page), &field.children, path)
    }

    fn bad_cursor(&mut self, field: &Planned<'_>, path: &[Value], cursor: &str) -> Resolved {
        self.fail(
            field,
            path,
            "INVALID_CURSOR_ARGUMENTS",
            format!("`{cursor}` does not appear to be a valid cursor."),
        )
    }
}

/// The items [lo, hi) of a connection: `bounds` after `after`/`before`, cut to `first` from
/// the start or `last` from the end.
fn window((lo, hi): (usize, usize), field: &Planned<'_>) -> (usize, usize) {
    let hi = hi.max(lo);
    let size = |name: &str| field.int(name).map(|n| usize::try_from(n).unwrap_or(0));
    match (size("first"), size("last")) {
        (Some(first), _) => (lo, hi.min(lo.saturating_add(first))),
        (None, Some(last)) => (hi.saturating_sub(last).max(lo), hi),
        (None, None) => (lo, hi),
    }
}

const CURSOR_PREFIX: &str = "cursor:v2:";

/// An opaque cursor, base64 like GitHub's.
fn encode_cursor(key: &str) -> String {
    STANDARD.encode(format!("{CURSOR_PREFIX}{key}"))
}

/// The numbers a cursor holds, or None when it is not one of ours.
fn decode_cursor(cursor: &str) -> Option<Vec<i64>> {
    let bytes = STANDARD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(CURSOR_PREFIX)?
        .split(':')
        .map(|part| part.parse().ok())
        .collect()
}

fn recorded_merged(p: &FixPr) -> bool {
    let value = p.single.as_ref().unwrap_or(&p.list);
    value["merged"] == true || !value["merged_at"].is_null()
}

/// An account of a REST answer (`user`, `author`, `merged_by`, …) as an Actor; null stays
/// null.
fn actor(account: &Value) -> Value {
    if !account.is_object() {
        return Value::Null;
    }
    let typename = match account["type"].as_str() {
        Some("Bot") => "Bot",
        Some("Organization") => "Organization",
        _ => "User",
    };
    json!({
        "__typename": typename,
        "login": account["login"],
        "url": account["html_url"],
        "avatarUrl": account["avatar_url"],
        "databaseId": account["id"],
        "id": account["node_id"],
    })
}

/// The same as a User (a Git actor's `user`).
fn user(account: &Value) -> Value {
    let mut value = actor(account);
    if let Some(object) = value.as_object_mut() {
        object.insert("__typename".into(), json!("User"));
    }
    value
}

fn pull_shape(p: &Value) -> Value {
    let merged_at = !p["merged_at"].is_null();
    let merged = p["merged"].as_bool().unwrap_or(merged_at);
    let state = if p["merged"] == true || merged_at {
        "MERGED".to_owned()
    } else {
        p["state"].as_str().unwrap_or_default().to_ascii_uppercase()
    };
    let body = match &p["body"] {
        Value::Null => json!(""),
        body => body.clone(),
    };
    json!({
        "__typename": "PullRequest",
        "id": p["node_id"],
        "databaseId": p["id"],
        "number": p["number"],
        "title": p["title"],
        "body": body,
        "state": state,
        "isDraft": p["draft"].as_bool().unwrap_or(false),
        "merged": merged,
        "closed": p["state"] == "closed",
        "author": actor(&p["user"]),
        "baseRefName": p["base"]["ref"],
        "headRefName": p["head"]["ref"],
        "headRefOid": p["head"]["sha"],
        "createdAt": p["created_at"],
        "updatedAt": p["updated_at"],
        "mergedAt": p["merged_at"],
        "closedAt": p["closed_at"],
        "additions": p["additions"],
        "deletions": p["deletions"],
        "changedFiles": p["changed_files"],
        "mergedBy": actor(&p["merged_by"]),
        "url": p["html_url"],
    })
}

fn git_actor(identity: &Value, account: &Value) -> Value {
    if !identity.is_object() {
        return Value::Null;
    }
    json!({
        "__typename": "GitActor",
        "name": identity["name"],
        "email": identity["email"],
        "date": identity["date"],
        "user": user(account),
    })
}

fn commit_shape(c: &Value) -> Value {
    json!({
        "__typename": "PullRequestCommit",
        "commit": {
            "__typename": "Commit",
            "oid": c["sha"],
            "message": c["commit"]["message"],
            "url": c["html_url"],
            "author": git_actor(&c["commit"]["author"], &c["author"]),
            "committer": git_actor(&c["commit"]["committer"], &c["committer"]),
        },
    })
}

fn review_shape(r: &Value) -> Value {
    let commit = match r["commit_id"].as_str() {
        Some(oid) => json!({"__typename": "Commit", "oid": oid}),
        None => Value::Null,
    };
    json!({
        "__typename": "PullRequestReview",
        "id": r["node_id"],
        "databaseId": r["id"],
        "author": actor(&r["user"]),
        "state": r["state"],
        "body": r["body"],
        "submittedAt": r["submitted_at"],
        "commit": commit,
        "url": r["html_url"],
    })
}

fn comment_shape(c: &Value) -> Value {
    json!({
        "__typename": "IssueComment",
        "id": c["node_id"],
        "databaseId": c["id"],
        "author": actor(&c["user"]),
        "body": c["body"],
        "createdAt": c["created_at"],
        "updatedAt": c["updated_at"],
        "url": c["html_url"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_others() {
        assert_eq!(
            decode_cursor(&encode_cursor("1700000000:12")),
            Some(vec![1_700_000_000, 12])
        );
        assert_eq!(decode_cursor(&encode_cursor("7")), Some(vec![7]));
        assert_eq!(decode_cursor("nope"), None);
        assert_eq!(decode_cursor(&STANDARD.encode("cursor:v2:x")), None);
    }

    #[test]
    fn answers_keep_the_order_asked_and_merge_repeats() {
        let mut fields = Vec::new();
        merge_into(&mut fields, "b", Out::Value(json!(1)));
        merge_into(
            &mut fields,
            "a",
            Out::Object(vec![("x".into(), Out::Value(json!(true)))]),
        );
        merge_into(
            &mut fields,
            "a",
            Out::Object(vec![("y".into(), Out::Null), ("x".into(), Out::Null)]),
        );
        let mut text = String::new();
        Out::Object(fields).write(&mut text);
        assert_eq!(text, r#"{"b":1,"a":{"x":true,"y":null}}"#);
    }

    #[test]
    fn pull_requests_map_like_the_brief_says() {
        let listed = json!({
            "id": 5, "node_id": "PR_x", "number": 3, "title": "t", "body": null, "state": "closed",
            "merged_at": "2024-01-02T00:00:00Z", "user": null, "base": {"ref": "main"},
            "head": {"ref": "f", "sha": "abc"}, "html_url": "https://github.com/o/r/pull/3",
        });
        let shaped = pull_shape(&listed);
        assert_eq!(shaped["state"], "MERGED");
        assert_eq!(shaped["merged"], true);
        assert_eq!(shaped["body"], "");
        assert_eq!(shaped["isDraft"], false);
        assert!(shaped["author"].is_null() && shaped["additions"].is_null());
        let open = pull_shape(&json!({"state": "open", "merged": false, "draft": true}));
        assert_eq!(
            (open["state"].as_str(), open["isDraft"].as_bool()),
            (Some("OPEN"), Some(true))
        );
    }
}
