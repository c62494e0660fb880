//! GitHub GraphQL answers → the same rows as the REST pages give, field for field: a page
//! of pull requests (`github.graphql_pulls`: `repository.pullRequests.nodes`, each with its
//! first commits, reviews and conversation comments) or one pull request's further page of
//! one connection (`github.graphql_pull`: `repository.pullRequest`, only `number` and that
//! connection). Each pull-request node is one record: one that cannot be read is
//! quarantined with its children, the others land. An answer with `errors` is an error for
//! the whole page (GitHub answers 200 with errors, and `data` may then be partial).

use std::collections::BTreeSet;

use serde_json::Value;
use sluice_proto::v1 as pb;

use crate::github::{link, login, mentioned, opt_string, short, string, time};
use crate::jira::{Rows, TransformError};

pub const PULLS: &str = "github.graphql_pulls";
pub const PULL: &str = "github.graphql_pull";

pub fn handles(extraction_type: &str) -> bool {
    extraction_type == PULLS || extraction_type == PULL
}

pub fn transform(
    extraction_type: &str,
    body: &[u8],
    context: &Value,
    jira_keys: &BTreeSet<String>,
    only: Option<&[usize]>,
) -> Result<Rows, TransformError> {
    let answer: Value =
        serde_json::from_slice(body).map_err(|source| TransformError::Malformed {
            extraction_type: extraction_type.to_string(),
            source,
        })?;
    if let Some(errors) = answer.get("errors").and_then(Value::as_array)
        && !errors.is_empty()
    {
        return Err(TransformError::Invalid(format!(
            "{extraction_type} answer carries GraphQL errors: {}",
            short(&Value::Array(errors.clone()))
        )));
    }
    let repository = answer.pointer("/data/repository").ok_or_else(|| {
        TransformError::Invalid(format!(
            "malformed {extraction_type} answer: no data.repository"
        ))
    })?;
    let nodes: Vec<&Value> = if extraction_type == PULLS {
        repository
            .pointer("/pullRequests/nodes")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                TransformError::Invalid(format!(
                    "malformed {extraction_type} answer: data.repository.pullRequests.nodes is not a list"
                ))
            })?
            .iter()
            .collect()
    } else {
        match repository.get("pullRequest") {
            Some(node) if node.is_object() => vec![node],
            _ => {
                return Err(TransformError::Invalid(format!(
                    "malformed {extraction_type} answer: no data.repository.pullRequest"
                )));
            }
        }
    };
    let repository_id = context.get("repo_id").and_then(Value::as_i64).unwrap_or(0);
    let repository_name = context
        .get("repo")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // Nodes listed past the incremental cursor were landed by an earlier run.
    let since_ms = context.get("since_ms").and_then(Value::as_i64);
    let mut rows = Rows::default();
    for (index, node) in nodes.into_iter().enumerate() {
        if only.is_some_and(|only| !only.contains(&index)) {
            continue;
        }
        if let (Some(since), Some(updated)) = (since_ms, time(node, "updatedAt"))
            && updated < since
        {
            continue;
        }
        match node_rows(node, repository_id, repository_name, jira_keys) {
            Ok(node_rows) => {
                rows.pull_requests.extend(node_rows.pull_requests);
                rows.pr_commits.extend(node_rows.pr_commits);
                rows.pr_reviews.extend(node_rows.pr_reviews);
                rows.pr_comments.extend(node_rows.pr_comments);
                rows.pr_links.extend(node_rows.pr_links);
            }
            Err(error) => rows.quarantined.push((index, error.to_string())),
        }
    }
    Ok(rows)
}

/// The rows of one pull-request node: its own row when the node has its fields (a page of
/// pull requests), and a row per child of each connection present.
fn node_rows(
    node: &Value,
    repository_id: i64,
    repository: &str,
    jira_keys: &BTreeSet<String>,
) -> Result<Rows, TransformError> {
    let number = node.get("number").and_then(Value::as_i64).ok_or_else(|| {
        TransformError::Invalid(format!("a pull request without a number: {}", short(node)))
    })?;
    let mut rows = Rows::default();
    if node.get("databaseId").is_some() {
        let row = pull_request_row(node, number, repository_id, repository)?;
        for key in mentioned(&row.title, jira_keys) {
            rows.pr_links.push(link(&row, key, "title"));
        }
        for key in mentioned(&row.head_ref, jira_keys) {
            rows.pr_links.push(link(&row, key, "branch"));
        }
        rows.pull_requests.push(row);
    }
    for commit in connection(node, "commits")? {
        let row = commit_row(commit, repository_id, number)?;
        for key in mentioned(&row.message, jira_keys) {
            rows.pr_links.push(pb::PrLinkRow {
                repository_id,
                pr_number: number,
                jira_key: key,
                source: "commit".into(),
            });
        }
        rows.pr_commits.push(row);
    }
    for review in connection(node, "reviews")? {
        rows.pr_reviews.push(pb::PrReviewRow {
            repository_id,
            pr_number: number,
            review_id: database_id(review, "review")?,
            author_login: login(review.get("author")),
            state: string(review, "state"),
            body: string(review, "body"),
            submitted_at_ms: time(review, "submittedAt"),
            commit_id: review
                .get("commit")
                .map(|c| string(c, "oid"))
                .unwrap_or_default(),
        });
    }
    for comment in connection(node, "comments")? {
        rows.pr_comments.push(pb::PrCommentRow {
            repository_id,
            pr_number: number,
            comment_id: database_id(comment, "comment")?,
            kind: "issue".into(),
            author_login: login(comment.get("author")),
            body: string(comment, "body"),
            path: None,
            line: None,
            created_at_ms: time(comment, "createdAt"),
            updated_at_ms: time(comment, "updatedAt"),
            html_url: opt_string(comment, "url"),
        });
    }
    Ok(rows)
}

/// The nodes of a connection, empty when the query did not ask for it.
fn connection<'a>(node: &'a Value, name: &str) -> Result<&'a [Value], TransformError> {
    match node.get(name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(connection) => connection
            .get("nodes")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .ok_or_else(|| {
                TransformError::Invalid(format!(
                    "the {name} connection of a pull request has no nodes list: {}",
                    short(connection)
                ))
            }),
    }
}

fn database_id(value: &Value, what: &str) -> Result<i64, TransformError> {
    value
        .get("databaseId")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            TransformError::Invalid(format!(
                "a {what} without a numeric databaseId: {}",
                short(value)
            ))
        })
}

fn pull_request_row(
    pr: &Value,
    number: i64,
    repository_id: i64,
    repository: &str,
) -> Result<pb::PullRequestRow, TransformError> {
    let merged_at_ms = time(pr, "mergedAt");
    // REST's `state` is open or closed; GraphQL also says MERGED (a closed pull request).
    let state = match pr.get("state").and_then(Value::as_str) {
        Some("OPEN") => "open".to_string(),
        Some("CLOSED") | Some("MERGED") => "closed".to_string(),
        Some(other) => other.to_ascii_lowercase(),
        None => String::new(),
    };
    Ok(pb::PullRequestRow {
        repository_id,
        repository: repository.to_string(),
        number,
        external_id: database_id(pr, "pull request")?,
        title: string(pr, "title"),
        body: string(pr, "body"),
        state,
        draft: pr.get("isDraft").and_then(Value::as_bool).unwrap_or(false),
        merged: pr
            .get("merged")
            .and_then(Value::as_bool)
            .unwrap_or(merged_at_ms.is_some()),
        author_login: login(pr.get("author")),
        base_ref: string(pr, "baseRefName"),
        head_ref: string(pr, "headRefName"),
        head_sha: string(pr, "headRefOid"),
        created_at_ms: time(pr, "createdAt"),
        updated_at_ms: time(pr, "updatedAt"),
        merged_at_ms,
        closed_at_ms: time(pr, "closedAt"),
        additions: pr.get("additions").and_then(Value::as_i64),
        deletions: pr.get("deletions").and_then(Value::as_i64),
        changed_files: pr.get("changedFiles").and_then(Value::as_i64),
        merged_by_login: pr
            .get("mergedBy")
            .filter(|user| !user.is_null())
            .and_then(|user| opt_string(user, "login")),
        html_url: opt_string(pr, "url"),
    })
}

/// A `PullRequestCommit` node: its `commit` (a GitActor author whose `user` is the GitHub
/// account, null when the e-mail belongs to none).
fn commit_row(
    node: &Value,
    repository_id: i64,
    pr_number: i64,
) -> Result<pb::PrCommitRow, TransformError> {
    let commit = node.get("commit").unwrap_or(&Value::Null);
    let sha = string(commit, "oid");
    if sha.is_empty() {
        return Err(TransformError::Invalid(format!(
            "a commit without an oid: {}",
            short(node)
        )));
    }
    let author = commit.get("author").unwrap_or(&Value::Null);
    let committer = commit.get("committer").unwrap_or(&Value::Null);
    Ok(pb::PrCommitRow {
        repository_id,
        pr_number,
        sha,
        message: string(commit, "message"),
        author_name: string(author, "name"),
        author_email: string(author, "email"),
        author_login: match author.get("user") {
            Some(user) if !user.is_null() => string(user, "login"),
            _ => String::new(),
        },
        authored_at_ms: time(author, "date"),
        committed_at_ms: time(committer, "date"),
        html_url: opt_string(commit, "url"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(nodes: Value) -> Vec<u8> {
        serde_json::json!({"data": {"repository": {"pullRequests": {"nodes": nodes}}}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn a_merged_pull_request_with_children_becomes_the_rows_rest_gives() {
        let nodes = serde_json::json!([{
            "databaseId": 99, "number": 3, "title": "ENG-4 speed up", "body": "", "state": "MERGED",
            "isDraft": false, "merged": true, "author": null, "baseRefName": "main",
            "headRefName": "feature/ENG-5-x", "headRefOid": "abc",
            "createdAt": "2024-01-02T03:04:05Z", "updatedAt": "2024-01-03T03:04:05Z",
            "mergedAt": "2024-01-03T03:04:05Z", "closedAt": "2024-01-03T03:04:05Z",
            "additions": 10, "deletions": 2, "changedFiles": 1, "mergedBy": {"login": "octo"},
            "url": "https://github.com/acme/api/pull/3",
            "commits": {"nodes": [{"commit": {"oid": "abc", "message": "ENG-6 x", "url": "u",
                "author": {"name": "A", "email": "a@x", "date": "2024-01-02T03:04:05Z", "user": null},
                "committer": {"date": "2024-01-02T03:05:05Z"}}}]},
            "reviews": {"nodes": [{"databaseId": 5, "author": {"login": "r"}, "state": "APPROVED",
                "body": "ok", "submittedAt": "2024-01-02T04:00:00Z", "commit": {"oid": "abc"}}]},
            "comments": {"nodes": [{"databaseId": 6, "author": {"login": "c"}, "body": "hi",
                "createdAt": "2024-01-02T05:00:00Z", "updatedAt": "2024-01-02T05:00:00Z",
                "url": "https://github.com/acme/api/pull/3#issuecomment-6"}]}
        }]);
        let context = serde_json::json!({"repo_id": 7, "repo": "acme/api"});
        let keys: BTreeSet<String> = ["ENG".to_string()].into();
        let rows = transform(PULLS, &page(nodes), &context, &keys, None).unwrap();
        let pr = &rows.pull_requests[0];
        assert_eq!((pr.repository_id, pr.number, pr.external_id), (7, 3, 99));
        assert_eq!(pr.state, "closed", "MERGED is REST's closed");
        assert!(pr.merged);
        assert_eq!(pr.author_login, "ghost", "a deleted author shows as ghost");
        assert_eq!(pr.merged_by_login.as_deref(), Some("octo"));
        assert_eq!(rows.pr_commits[0].author_login, "");
        assert_eq!(rows.pr_reviews[0].commit_id, "abc");
        assert_eq!(rows.pr_comments[0].kind, "issue");
        let links: Vec<(&str, &str)> = rows
            .pr_links
            .iter()
            .map(|l| (l.jira_key.as_str(), l.source.as_str()))
            .collect();
        assert_eq!(
            links,
            vec![("ENG-4", "title"), ("ENG-5", "branch"), ("ENG-6", "commit")]
        );
    }

    #[test]
    fn errors_in_a_200_answer_fail_the_page_instead_of_landing_nothing() {
        let answer = serde_json::json!({"data": null, "errors": [
            {"type": "NOT_FOUND", "message": "Could not resolve to a Repository with the name 'acme/gone'."}
        ]});
        let error = transform(
            PULLS,
            answer.to_string().as_bytes(),
            &serde_json::json!({}),
            &BTreeSet::new(),
            None,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(error.contains("Could not resolve"), "{error}");
    }

    #[test]
    fn a_node_without_ids_is_quarantined_and_its_neighbours_land() {
        let nodes = serde_json::json!([
            {"number": 1, "databaseId": 11, "title": "fine", "updatedAt": "2024-01-03T03:04:05Z"},
            {"number": 2, "databaseId": 12, "reviews": {"nodes": [{"state": "APPROVED"}]}},
            {"number": 3, "databaseId": 13, "updatedAt": "2020-01-01T00:00:00Z"}
        ]);
        let context = serde_json::json!({"repo_id": 7, "repo": "acme/api",
            "since_ms": chrono::DateTime::parse_from_rfc3339("2023-01-01T00:00:00Z").unwrap().timestamp_millis()});
        let rows = transform(PULLS, &page(nodes), &context, &BTreeSet::new(), None).unwrap();
        let numbers: Vec<i64> = rows.pull_requests.iter().map(|p| p.number).collect();
        assert_eq!(numbers, [1], "#2 quarantined, #3 older than the cursor");
        assert_eq!(rows.quarantined.len(), 1);
        assert!(rows.quarantined[0].1.contains("databaseId"));
    }
}
