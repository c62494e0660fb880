//! GitHub pages → typed rows: repositories, pull requests, their commits, reviews and
//! comments, and the Jira issue keys a pull request mentions (title, head branch, commit
//! messages) among the project keys the tenant syncs. A page that is not the documented
//! shape is an error naming what is wrong; a missing optional field is empty, never a panic.

use std::collections::BTreeSet;

use serde_json::Value;
use sluice_proto::v1 as pb;

use crate::jira::{Rows, TransformError};

/// Which GitHub page types this module transforms.
pub fn handles(extraction_type: &str) -> bool {
    extraction_type.starts_with("github.")
}

pub fn transform(
    extraction_type: &str,
    body: &[u8],
    context: &Value,
    jira_keys: &BTreeSet<String>,
    only: Option<&[usize]>,
) -> Result<Rows, TransformError> {
    if crate::github_graphql::handles(extraction_type) {
        return crate::github_graphql::transform(extraction_type, body, context, jira_keys, only);
    }
    let malformed = |source| TransformError::Malformed {
        extraction_type: extraction_type.to_string(),
        source,
    };
    let page: Value = serde_json::from_slice(body).map_err(malformed)?;
    let mut rows = Rows::default();
    let repository_id = context.get("repo_id").and_then(Value::as_i64).unwrap_or(0);
    let repository = context
        .get("repo")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    // The page's shape is checked first (not the documented shape: the page fails); then each
    // record on its own: one that cannot be read is quarantined, the others land.
    let records: Vec<&Value> = match extraction_type {
        "github.repository" | "github.pull" => vec![&page],
        "github.repositories"
        | "github.pulls"
        | "github.pr_commits"
        | "github.pr_reviews"
        | "github.review_comments"
        | "github.issue_comments" => array(extraction_type, &page)?.iter().collect(),
        other => return Err(TransformError::UnknownType(other.to_string())),
    };
    let pr_number = || required_i64(context, "number", extraction_type);
    // Repository-wide listings include comments on plain issues: only those on the pull
    // requests the connector listed are kept.
    let listed_prs: Option<BTreeSet<i64>> = context
        .get("pr_numbers")
        .and_then(Value::as_array)
        .map(|numbers| numbers.iter().filter_map(Value::as_i64).collect());
    for (index, record) in records.into_iter().enumerate() {
        if only.is_some_and(|only| !only.contains(&index)) {
            continue;
        }
        let outcome: Result<(), TransformError> = match extraction_type {
            "github.repositories" | "github.repository" => {
                repository_row(record).map(|row| rows.repositories.push(row))
            }
            // The listing decides what the connector fetches; the rows come from each pull
            // request's own page, which has every field.
            "github.pulls" => Ok(()),
            "github.pull" => pull_request_row(record, repository_id, &repository).map(|row| {
                for key in mentioned(&row.title, jira_keys) {
                    rows.pr_links.push(link(&row, key, "title"));
                }
                for key in mentioned(&row.head_ref, jira_keys) {
                    rows.pr_links.push(link(&row, key, "branch"));
                }
                rows.pull_requests.push(row);
            }),
            "github.pr_commits" => pr_number().and_then(|number| {
                let row = commit_row(record, repository_id, number)?;
                for key in mentioned(&row.message, jira_keys) {
                    rows.pr_links.push(pb::PrLinkRow {
                        repository_id,
                        pr_number: number,
                        jira_key: key,
                        source: "commit".into(),
                    });
                }
                rows.pr_commits.push(row);
                Ok(())
            }),
            "github.pr_reviews" => pr_number().and_then(|number| {
                rows.pr_reviews.push(pb::PrReviewRow {
                    repository_id,
                    pr_number: number,
                    review_id: id(record, "review")?,
                    author_login: login(record.get("user")),
                    state: string(record, "state"),
                    body: string(record, "body"),
                    submitted_at_ms: time(record, "submitted_at"),
                    commit_id: string(record, "commit_id"),
                });
                Ok(())
            }),
            "github.review_comments" => {
                // Today's shape names the pull request in `pull_request_url`; older servers
                // (and GitHub before 2013) only under `_links.pull_request.href`.
                match number_from_url(record, "pull_request_url")
                    .or_else(|| link_number(record, "pull_request"))
                {
                    Some(number) => comment_row(record, "review", repository_id, number)
                        .map(|row| rows.pr_comments.push(row)),
                    None => Err(TransformError::Invalid(format!(
                        "review comment {} names no pull request (neither pull_request_url nor _links.pull_request.href)",
                        record.get("id").unwrap_or(&Value::Null)
                    ))),
                }
            }
            "github.issue_comments" => {
                let number = match context.get("number").and_then(Value::as_i64) {
                    Some(number) => Some(number),
                    None => number_from_url(record, "issue_url"),
                };
                match number {
                    Some(number)
                        if listed_prs
                            .as_ref()
                            .is_none_or(|numbers| numbers.contains(&number)) =>
                    {
                        comment_row(record, "issue", repository_id, number)
                            .map(|row| rows.pr_comments.push(row))
                    }
                    // A plain issue's comment, or one on an issue not listed: not ours.
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        };
        if let Err(error) = outcome {
            rows.quarantined.push((index, error.to_string()));
        }
    }
    Ok(rows)
}

fn array<'a>(extraction_type: &str, page: &'a Value) -> Result<&'a Vec<Value>, TransformError> {
    page.as_array().ok_or_else(|| {
        TransformError::Invalid(format!(
            "malformed {extraction_type} page: expected a JSON array, got {}",
            kind(page)
        ))
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn string(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn id(value: &Value, what: &str) -> Result<i64, TransformError> {
    value.get("id").and_then(Value::as_i64).ok_or_else(|| {
        TransformError::Invalid(format!("a {what} without a numeric id: {}", short(value)))
    })
}

fn required_i64(context: &Value, field: &str, what: &str) -> Result<i64, TransformError> {
    context.get(field).and_then(Value::as_i64).ok_or_else(|| {
        TransformError::Invalid(format!(
            "{what} page stored without its {field} in the request context"
        ))
    })
}

pub(crate) fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(120) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// A user's login; the deleted user's objects may be null (shown as GitHub shows them:
/// "ghost").
pub(crate) fn login(user: Option<&Value>) -> String {
    match user {
        Some(user) if !user.is_null() => string(user, "login"),
        _ => "ghost".to_string(),
    }
}

pub(crate) fn time(value: &Value, field: &str) -> Option<i64> {
    let text = value.get(field)?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The trailing number of a URL field (".../pulls/12", ".../issues/12").
fn number_from_url(value: &Value, field: &str) -> Option<i64> {
    value.get(field)?.as_str()?.rsplit('/').next()?.parse().ok()
}

/// The trailing number of a hypermedia link (`_links.<rel>.href`, GitHub's older shape).
fn link_number(value: &Value, rel: &str) -> Option<i64> {
    value
        .pointer(&format!("/_links/{rel}/href"))?
        .as_str()?
        .rsplit('/')
        .next()?
        .parse()
        .ok()
}

/// A text field, `None` when absent, null or empty (stored as NULL, not '').
pub(crate) fn opt_string(value: &Value, field: &str) -> Option<String> {
    value
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A record's web URL: `html_url`, or in GitHub's older shape `_links.html.href`.
fn web_url(value: &Value) -> Option<String> {
    opt_string(value, "html_url").or_else(|| {
        value
            .pointer("/_links/html/href")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    })
}

fn repository_row(repo: &Value) -> Result<pb::RepositoryRow, TransformError> {
    let full_name = string(repo, "full_name");
    let owner = repo
        .get("owner")
        .map(|o| string(o, "login"))
        .filter(|o| !o.is_empty())
        .or_else(|| full_name.split_once('/').map(|(o, _)| o.to_string()))
        .unwrap_or_default();
    Ok(pb::RepositoryRow {
        external_id: id(repo, "repository")?,
        name: string(repo, "name"),
        full_name,
        owner,
        private: repo
            .get("private")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        archived: repo
            .get("archived")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        default_branch: string(repo, "default_branch"),
        html_url: string(repo, "html_url"),
        description: string(repo, "description"),
        created_at_ms: time(repo, "created_at"),
        updated_at_ms: time(repo, "updated_at"),
        pushed_at_ms: time(repo, "pushed_at"),
    })
}

fn pull_request_row(
    pr: &Value,
    repository_id: i64,
    repository: &str,
) -> Result<pb::PullRequestRow, TransformError> {
    let number = pr.get("number").and_then(Value::as_i64).ok_or_else(|| {
        TransformError::Invalid(format!("a pull request without a number: {}", short(pr)))
    })?;
    let head = pr.get("head").unwrap_or(&Value::Null);
    let base = pr.get("base").unwrap_or(&Value::Null);
    // The repository from the pull request itself when the context lacks it.
    let (repository_id, repository) = if repository_id != 0 {
        (repository_id, repository.to_string())
    } else {
        let repo = base.get("repo").unwrap_or(&Value::Null);
        (
            repo.get("id").and_then(Value::as_i64).unwrap_or(0),
            string(repo, "full_name"),
        )
    };
    let merged_at_ms = time(pr, "merged_at");
    Ok(pb::PullRequestRow {
        repository_id,
        repository,
        number,
        external_id: id(pr, "pull request")?,
        title: string(pr, "title"),
        body: string(pr, "body"),
        state: string(pr, "state"),
        draft: pr.get("draft").and_then(Value::as_bool).unwrap_or(false),
        merged: pr
            .get("merged")
            .and_then(Value::as_bool)
            .unwrap_or(merged_at_ms.is_some()),
        author_login: login(pr.get("user")),
        base_ref: string(base, "ref"),
        head_ref: string(head, "ref"),
        head_sha: string(head, "sha"),
        created_at_ms: time(pr, "created_at"),
        updated_at_ms: time(pr, "updated_at"),
        merged_at_ms,
        closed_at_ms: time(pr, "closed_at"),
        additions: pr.get("additions").and_then(Value::as_i64),
        deletions: pr.get("deletions").and_then(Value::as_i64),
        changed_files: pr.get("changed_files").and_then(Value::as_i64),
        merged_by_login: pr
            .get("merged_by")
            .filter(|user| !user.is_null())
            .and_then(|user| opt_string(user, "login")),
        html_url: web_url(pr),
    })
}

fn commit_row(
    commit: &Value,
    repository_id: i64,
    pr_number: i64,
) -> Result<pb::PrCommitRow, TransformError> {
    let sha = string(commit, "sha");
    if sha.is_empty() {
        return Err(TransformError::Invalid(format!(
            "a commit without a sha: {}",
            short(commit)
        )));
    }
    let inner = commit.get("commit").unwrap_or(&Value::Null);
    let author = inner.get("author").unwrap_or(&Value::Null);
    let committer = inner.get("committer").unwrap_or(&Value::Null);
    Ok(pb::PrCommitRow {
        repository_id,
        pr_number,
        sha,
        message: string(inner, "message"),
        author_name: string(author, "name"),
        author_email: string(author, "email"),
        // A commit whose author has no GitHub account (or a deleted one) has `author: null`.
        author_login: match commit.get("author") {
            Some(user) if !user.is_null() => string(user, "login"),
            _ => String::new(),
        },
        authored_at_ms: time(author, "date"),
        committed_at_ms: time(committer, "date"),
        html_url: web_url(commit),
    })
}

fn comment_row(
    comment: &Value,
    kind: &str,
    repository_id: i64,
    pr_number: i64,
) -> Result<pb::PrCommentRow, TransformError> {
    Ok(pb::PrCommentRow {
        repository_id,
        pr_number,
        comment_id: id(comment, "comment")?,
        kind: kind.to_string(),
        author_login: login(comment.get("user")),
        body: string(comment, "body"),
        path: opt_string(comment, "path"),
        line: comment
            .get("line")
            .and_then(Value::as_i64)
            .or_else(|| comment.get("original_line").and_then(Value::as_i64)),
        created_at_ms: time(comment, "created_at"),
        updated_at_ms: time(comment, "updated_at"),
        html_url: web_url(comment),
    })
}

pub(crate) fn link(row: &pb::PullRequestRow, key: String, source: &str) -> pb::PrLinkRow {
    pb::PrLinkRow {
        repository_id: row.repository_id,
        pr_number: row.number,
        jira_key: key,
        source: source.to_string(),
    }
}

/// Jira issue keys (`ABC-123`: an upper-case project key, a dash, a number) in `text`
/// whose project is one of `projects`; each once, in order of appearance.
pub fn mentioned(text: &str, projects: &BTreeSet<String>) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let at_boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if !(at_boundary && bytes[i].is_ascii_uppercase()) {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i + 1;
        while j < bytes.len()
            && (bytes[j].is_ascii_uppercase() || bytes[j].is_ascii_digit() || bytes[j] == b'_')
        {
            j += 1;
        }
        if j + 1 < bytes.len() && bytes[j] == b'-' && bytes[j + 1].is_ascii_digit() {
            let mut k = j + 1;
            while k < bytes.len() && bytes[k].is_ascii_digit() {
                k += 1;
            }
            let ends_cleanly = k == bytes.len() || !bytes[k].is_ascii_alphanumeric();
            let project = &text[start..j];
            if ends_cleanly && projects.contains(project) {
                let key = text[start..k].to_string();
                if !found.contains(&key) {
                    found.push(key);
                }
            }
            i = k;
        } else {
            i = j;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn issue_keys_of_known_projects_are_found_once_each() {
        let known = keys(&["ENG", "OPS"]);
        assert_eq!(
            mentioned(
                "ENG-12: fix OPS-3 and ENG-12 (not XENG-4, not ABC-9, not ENG-)",
                &known
            ),
            vec!["ENG-12".to_string(), "OPS-3".to_string()]
        );
        assert_eq!(
            mentioned("feature/ENG-77-retry-billing", &known),
            vec!["ENG-77"]
        );
        assert!(mentioned("eng-12 lower case, ENG12, ENG-1a", &known).is_empty());
        assert!(mentioned("ENG-5", &BTreeSet::new()).is_empty());
    }

    #[test]
    fn pull_requests_commits_and_comments_become_rows_and_links() {
        let known = keys(&["ENG"]);
        let context = serde_json::json!({"repo_id": 7, "repo": "acme/api", "number": 3});
        let pr = serde_json::json!({
            "id": 99, "number": 3, "title": "ENG-4 speed up", "body": null, "state": "closed",
            "draft": false, "merged": true, "user": null,
            "head": {"ref": "feature/ENG-5-x", "sha": "abc"}, "base": {"ref": "main"},
            "created_at": "2024-01-02T03:04:05Z", "updated_at": "2024-01-03T03:04:05Z",
            "merged_at": "2024-01-03T03:04:05Z", "closed_at": "2024-01-03T03:04:05Z",
            "additions": 10, "deletions": 2, "changed_files": 1, "merged_by": {"login": "octo"},
            "html_url": "https://github.com/acme/api/pull/3"
        });
        let rows = transform(
            "github.pull",
            pr.to_string().as_bytes(),
            &context,
            &known,
            None,
        )
        .unwrap();
        let row = &rows.pull_requests[0];
        assert_eq!((row.repository_id, row.number, row.external_id), (7, 3, 99));
        assert_eq!(row.author_login, "ghost", "a deleted author shows as ghost");
        assert_eq!(row.body, "");
        assert!(row.merged);
        assert_eq!(row.additions, Some(10));
        assert_eq!(row.merged_by_login.as_deref(), Some("octo"));
        let links: Vec<(&str, &str)> = rows
            .pr_links
            .iter()
            .map(|l| (l.jira_key.as_str(), l.source.as_str()))
            .collect();
        assert_eq!(links, vec![("ENG-4", "title"), ("ENG-5", "branch")]);

        let commits = serde_json::json!([{
            "sha": "abc", "author": null, "html_url": "u",
            "commit": {"message": "ENG-6 ünïcödé", "author": {"name": "A", "email": "a@x", "date": "2024-01-02T03:04:05Z"},
                       "committer": {"date": "2024-01-02T03:05:05Z"}}
        }]);
        let rows = transform(
            "github.pr_commits",
            commits.to_string().as_bytes(),
            &context,
            &known,
            None,
        )
        .unwrap();
        assert_eq!(rows.pr_commits[0].message, "ENG-6 ünïcödé");
        assert_eq!(rows.pr_commits[0].author_login, "");
        assert_eq!(rows.pr_links[0].source, "commit");

        let comments = serde_json::json!([
            {"id": 1, "user": {"login": "a"}, "body": "on the PR", "issue_url": "https://api/x/issues/3"},
            {"id": 2, "user": {"login": "b"}, "body": "on a plain issue", "issue_url": "https://api/x/issues/4"}
        ]);
        let repo_wide = serde_json::json!({"repo_id": 7, "repo": "acme/api", "pr_numbers": [3]});
        let rows = transform(
            "github.issue_comments",
            comments.to_string().as_bytes(),
            &repo_wide,
            &known,
            None,
        )
        .unwrap();
        assert_eq!(
            rows.pr_comments.len(),
            1,
            "plain issues' comments are not PR comments"
        );
        assert_eq!(rows.pr_comments[0].pr_number, 3);
        assert_eq!(rows.pr_comments[0].html_url, None, "absent is NULL, not ''");
        assert_eq!(rows.pr_comments[0].path, None);
    }

    #[test]
    fn review_comments_in_githubs_older_shape_land_and_a_broken_one_is_quarantined() {
        let context = serde_json::json!({"repo_id": 7, "repo": "acme/api"});
        let legacy =
            include_str!("../../../simulator/fixtures/github/repos-pull-comments.legacy-2012.json");
        let rows = transform(
            "github.review_comments",
            legacy.as_bytes(),
            &context,
            &BTreeSet::new(),
            None,
        )
        .unwrap();
        let comment = &rows.pr_comments[0];
        assert_eq!((comment.pr_number, comment.comment_id), (31, 1_580_134));
        assert_eq!(
            comment.html_url.as_deref(),
            Some("https://github.com/PyGithub/PyGithub/pull/31#r1580134")
        );
        assert_eq!(comment.path.as_deref(), Some("src/github/Issue.py"));

        let page = serde_json::json!([
            {"id": 1, "body": "fine", "pull_request_url": "https://api/x/pulls/3"},
            {"id": 2, "body": "names no pull request"},
            {"id": 3, "body": "fine too", "_links": {"pull_request": {"href": "https://api/x/pulls/4"}}}
        ]);
        let rows = transform(
            "github.review_comments",
            page.to_string().as_bytes(),
            &context,
            &BTreeSet::new(),
            None,
        )
        .unwrap();
        let ids: Vec<i64> = rows.pr_comments.iter().map(|c| c.comment_id).collect();
        assert_eq!(ids, [1, 3]);
        assert_eq!(rows.quarantined.len(), 1);
        assert_eq!(rows.quarantined[0].0, 1);
        assert!(
            rows.quarantined[0].1.contains("names no pull request"),
            "{:?}",
            rows.quarantined
        );
    }

    #[test]
    fn malformed_pages_are_errors_naming_the_page_type() {
        let context = serde_json::json!({"repo_id": 7, "repo": "acme/api", "number": 3});
        let error = transform(
            "github.pr_reviews",
            b"{\"message\":",
            &context,
            &BTreeSet::new(),
            None,
        )
        .err()
        .unwrap();
        assert!(
            error
                .to_string()
                .starts_with("malformed github.pr_reviews page"),
            "{error}"
        );
        let error = transform("github.pr_reviews", b"{}", &context, &BTreeSet::new(), None)
            .err()
            .unwrap();
        assert!(
            error.to_string().contains("expected a JSON array"),
            "{error}"
        );
    }
}
