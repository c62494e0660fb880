//! GitHub rows: repositories, pull requests (guarded by `updated_at`: an older version never
//! overwrites a newer one), commits, reviews, comments and Jira key links. One UNNEST
//! statement per table per batch; unchanged rows are not rewritten.

use std::collections::BTreeMap;

use sluice_proto::v1 as pb;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

fn text<'a, T>(rows: &[&'a T], f: impl Fn(&'a T) -> &'a String) -> Vec<&'a str> {
    rows.iter().map(|r| f(r).as_str()).collect()
}

/// Optional text: `None` binds NULL.
fn opt_text<'a, T>(
    rows: &[&'a T],
    f: impl Fn(&'a T) -> &'a Option<String>,
) -> Vec<Option<&'a str>> {
    rows.iter().map(|r| f(r).as_deref()).collect()
}

fn ints<T, V: Copy>(rows: &[&T], f: impl Fn(&T) -> V) -> Vec<V> {
    rows.iter().map(|r| f(r)).collect()
}

/// Last row per key, in key order (stable lock order across loaders).
fn unique<T, K: Ord>(rows: &[T], key: impl Fn(&T) -> K) -> Vec<&T> {
    let mut by_key = BTreeMap::new();
    for row in rows {
        by_key.insert(key(row), row);
    }
    by_key.into_values().collect()
}

pub async fn repositories(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::RepositoryRow],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let rows = unique(rows, |r| r.external_id);
    let result = sqlx::query(
        "INSERT INTO repositories (tenant_id, integration_id, external_id, full_name, name, owner, private, archived,
             default_branch, html_url, description, created_at, updated_at, pushed_at)
         SELECT $1, $2, u.id, u.fn, u.n, u.o, u.p, u.a, u.db, u.h, u.d,
                to_timestamp(u.c / 1000.0), to_timestamp(u.up / 1000.0), to_timestamp(u.pu / 1000.0)
         FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::bool[], $9::text[],
                     $10::text[], $11::text[], $12::bigint[], $13::bigint[], $14::bigint[])
              AS u(id, fn, n, o, p, a, db, h, d, c, up, pu)
         ON CONFLICT (tenant_id, integration_id, external_id) DO UPDATE SET
             full_name = EXCLUDED.full_name, name = EXCLUDED.name, owner = EXCLUDED.owner,
             private = EXCLUDED.private, archived = EXCLUDED.archived,
             default_branch = EXCLUDED.default_branch, html_url = EXCLUDED.html_url,
             description = EXCLUDED.description, created_at = EXCLUDED.created_at,
             updated_at = EXCLUDED.updated_at, pushed_at = EXCLUDED.pushed_at
         WHERE (repositories.full_name, repositories.name, repositories.owner, repositories.private,
                repositories.archived, repositories.default_branch, repositories.html_url,
                repositories.description, repositories.created_at, repositories.updated_at, repositories.pushed_at)
               IS DISTINCT FROM
               (EXCLUDED.full_name, EXCLUDED.name, EXCLUDED.owner, EXCLUDED.private, EXCLUDED.archived,
                EXCLUDED.default_branch, EXCLUDED.html_url, EXCLUDED.description, EXCLUDED.created_at,
                EXCLUDED.updated_at, EXCLUDED.pushed_at)",
    )
    .bind(tenant)
    .bind(integration)
    .bind(ints(&rows, |r| r.external_id))
    .bind(text(&rows, |r| &r.full_name))
    .bind(text(&rows, |r| &r.name))
    .bind(text(&rows, |r| &r.owner))
    .bind(ints(&rows, |r| r.private))
    .bind(ints(&rows, |r| r.archived))
    .bind(text(&rows, |r| &r.default_branch))
    .bind(text(&rows, |r| &r.html_url))
    .bind(text(&rows, |r| &r.description))
    .bind(ints(&rows, |r| r.created_at_ms))
    .bind(ints(&rows, |r| r.updated_at_ms))
    .bind(ints(&rows, |r| r.pushed_at_ms))
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

/// Returns (rows written, the newest `updated_at` among the rows, in ms).
pub async fn pull_requests(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::PullRequestRow],
) -> Result<(u64, Option<i64>), sqlx::Error> {
    if rows.is_empty() {
        return Ok((0, None));
    }
    // Of two versions of one pull request in a batch, the newer wins.
    let mut newest: BTreeMap<(i64, i64), &pb::PullRequestRow> = BTreeMap::new();
    for row in rows {
        let key = (row.repository_id, row.number);
        match newest.get(&key) {
            Some(kept) if kept.updated_at_ms > row.updated_at_ms => {}
            _ => {
                newest.insert(key, row);
            }
        }
    }
    let rows: Vec<&pb::PullRequestRow> = newest.into_values().collect();
    let max_updated = rows.iter().filter_map(|r| r.updated_at_ms).max();
    let result = sqlx::query(
        "INSERT INTO pull_requests (tenant_id, integration_id, repository_id, repository, number, external_id, title,
             body, state, draft, merged, author_login, base_ref, head_ref, head_sha, created_at, updated_at,
             merged_at, closed_at, additions, deletions, changed_files, merged_by_login, html_url)
         SELECT $1, $2, u.rid, u.repo, u.num, u.id, u.t, u.b, u.s, u.dr, u.m, u.a, u.br, u.hr, u.hs,
                to_timestamp(u.c / 1000.0), to_timestamp(u.up / 1000.0), to_timestamp(u.mg / 1000.0),
                to_timestamp(u.cl / 1000.0), u.ad, u.de, u.cf, u.mb, u.h
         FROM UNNEST($3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::text[],
                     $10::bool[], $11::bool[], $12::text[], $13::text[], $14::text[], $15::text[], $16::bigint[],
                     $17::bigint[], $18::bigint[], $19::bigint[], $20::bigint[], $21::bigint[], $22::bigint[],
                     $23::text[], $24::text[])
              AS u(rid, repo, num, id, t, b, s, dr, m, a, br, hr, hs, c, up, mg, cl, ad, de, cf, mb, h)
         ON CONFLICT (tenant_id, integration_id, repository_id, number) DO UPDATE SET
             repository = EXCLUDED.repository, external_id = EXCLUDED.external_id, title = EXCLUDED.title,
             body = EXCLUDED.body, state = EXCLUDED.state, draft = EXCLUDED.draft, merged = EXCLUDED.merged,
             author_login = EXCLUDED.author_login, base_ref = EXCLUDED.base_ref, head_ref = EXCLUDED.head_ref,
             head_sha = EXCLUDED.head_sha, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
             merged_at = EXCLUDED.merged_at, closed_at = EXCLUDED.closed_at,
             additions = COALESCE(EXCLUDED.additions, pull_requests.additions),
             deletions = COALESCE(EXCLUDED.deletions, pull_requests.deletions),
             changed_files = COALESCE(EXCLUDED.changed_files, pull_requests.changed_files),
             merged_by_login = EXCLUDED.merged_by_login, html_url = EXCLUDED.html_url
         WHERE (pull_requests.updated_at IS NULL OR EXCLUDED.updated_at >= pull_requests.updated_at)
           AND (pull_requests.title, pull_requests.body, pull_requests.state, pull_requests.draft,
                pull_requests.merged, pull_requests.author_login, pull_requests.base_ref, pull_requests.head_ref,
                pull_requests.head_sha, pull_requests.updated_at, pull_requests.merged_at,
                pull_requests.closed_at, pull_requests.additions, pull_requests.deletions,
                pull_requests.changed_files, pull_requests.merged_by_login, pull_requests.html_url)
               IS DISTINCT FROM
               (EXCLUDED.title, EXCLUDED.body, EXCLUDED.state, EXCLUDED.draft, EXCLUDED.merged,
                EXCLUDED.author_login, EXCLUDED.base_ref, EXCLUDED.head_ref, EXCLUDED.head_sha,
                EXCLUDED.updated_at, EXCLUDED.merged_at, EXCLUDED.closed_at,
                COALESCE(EXCLUDED.additions, pull_requests.additions),
                COALESCE(EXCLUDED.deletions, pull_requests.deletions),
                COALESCE(EXCLUDED.changed_files, pull_requests.changed_files),
                EXCLUDED.merged_by_login, EXCLUDED.html_url)",
    )
    .bind(tenant)
    .bind(integration)
    .bind(ints(&rows, |r| r.repository_id))
    .bind(text(&rows, |r| &r.repository))
    .bind(ints(&rows, |r| r.number))
    .bind(ints(&rows, |r| r.external_id))
    .bind(text(&rows, |r| &r.title))
    .bind(text(&rows, |r| &r.body))
    .bind(text(&rows, |r| &r.state))
    .bind(ints(&rows, |r| r.draft))
    .bind(ints(&rows, |r| r.merged))
    .bind(text(&rows, |r| &r.author_login))
    .bind(text(&rows, |r| &r.base_ref))
    .bind(text(&rows, |r| &r.head_ref))
    .bind(text(&rows, |r| &r.head_sha))
    .bind(ints(&rows, |r| r.created_at_ms))
    .bind(ints(&rows, |r| r.updated_at_ms))
    .bind(ints(&rows, |r| r.merged_at_ms))
    .bind(ints(&rows, |r| r.closed_at_ms))
    .bind(ints(&rows, |r| r.additions))
    .bind(ints(&rows, |r| r.deletions))
    .bind(ints(&rows, |r| r.changed_files))
    .bind(opt_text(&rows, |r| &r.merged_by_login))
    .bind(opt_text(&rows, |r| &r.html_url))
    .execute(&mut **tx)
    .await?;
    Ok((result.rows_affected(), max_updated))
}

pub async fn pr_commits(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::PrCommitRow],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let rows = unique(rows, |r| (r.repository_id, r.pr_number, r.sha.clone()));
    let result = sqlx::query(
        "INSERT INTO pr_commits (tenant_id, integration_id, repository_id, pr_number, sha, message, author_name,
             author_email, author_login, authored_at, committed_at, html_url)
         SELECT $1, $2, u.r, u.n, u.s, u.m, u.an, u.ae, u.al, to_timestamp(u.aa / 1000.0),
                to_timestamp(u.ca / 1000.0), u.h
         FROM UNNEST($3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                     $10::bigint[], $11::bigint[], $12::text[])
              AS u(r, n, s, m, an, ae, al, aa, ca, h)
         ON CONFLICT (tenant_id, integration_id, repository_id, pr_number, sha) DO UPDATE SET
             message = EXCLUDED.message, author_name = EXCLUDED.author_name,
             author_email = EXCLUDED.author_email, author_login = EXCLUDED.author_login,
             authored_at = EXCLUDED.authored_at, committed_at = EXCLUDED.committed_at, html_url = EXCLUDED.html_url
         WHERE (pr_commits.message, pr_commits.author_name, pr_commits.author_email, pr_commits.author_login,
                pr_commits.authored_at, pr_commits.committed_at, pr_commits.html_url)
               IS DISTINCT FROM
               (EXCLUDED.message, EXCLUDED.author_name, EXCLUDED.author_email, EXCLUDED.author_login,
                EXCLUDED.authored_at, EXCLUDED.committed_at, EXCLUDED.html_url)",
    )
    .bind(tenant)
    .bind(integration)
    .bind(ints(&rows, |r| r.repository_id))
    .bind(ints(&rows, |r| r.pr_number))
    .bind(text(&rows, |r| &r.sha))
    .bind(text(&rows, |r| &r.message))
    .bind(text(&rows, |r| &r.author_name))
    .bind(text(&rows, |r| &r.author_email))
    .bind(text(&rows, |r| &r.author_login))
    .bind(ints(&rows, |r| r.authored_at_ms))
    .bind(ints(&rows, |r| r.committed_at_ms))
    .bind(opt_text(&rows, |r| &r.html_url))
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

pub async fn pr_reviews(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::PrReviewRow],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let rows = unique(rows, |r| r.review_id);
    let result = sqlx::query(
        "INSERT INTO pr_reviews (tenant_id, integration_id, repository_id, pr_number, review_id, author_login, state,
             body, submitted_at, commit_id)
         SELECT $1, $2, u.r, u.n, u.i, u.a, u.s, u.b, to_timestamp(u.t / 1000.0), u.c
         FROM UNNEST($3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::bigint[],
                     $10::text[])
              AS u(r, n, i, a, s, b, t, c)
         ON CONFLICT (tenant_id, integration_id, review_id) DO UPDATE SET
             repository_id = EXCLUDED.repository_id, pr_number = EXCLUDED.pr_number,
             author_login = EXCLUDED.author_login, state = EXCLUDED.state, body = EXCLUDED.body,
             submitted_at = EXCLUDED.submitted_at, commit_id = EXCLUDED.commit_id
         WHERE (pr_reviews.author_login, pr_reviews.state, pr_reviews.body, pr_reviews.submitted_at,
                pr_reviews.commit_id)
               IS DISTINCT FROM
               (EXCLUDED.author_login, EXCLUDED.state, EXCLUDED.body, EXCLUDED.submitted_at, EXCLUDED.commit_id)",
    )
    .bind(tenant)
    .bind(integration)
    .bind(ints(&rows, |r| r.repository_id))
    .bind(ints(&rows, |r| r.pr_number))
    .bind(ints(&rows, |r| r.review_id))
    .bind(text(&rows, |r| &r.author_login))
    .bind(text(&rows, |r| &r.state))
    .bind(text(&rows, |r| &r.body))
    .bind(ints(&rows, |r| r.submitted_at_ms))
    .bind(text(&rows, |r| &r.commit_id))
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

pub async fn pr_comments(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::PrCommentRow],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let rows = unique(rows, |r| (r.kind.clone(), r.comment_id));
    let result = sqlx::query(
        "INSERT INTO pr_comments (tenant_id, integration_id, repository_id, pr_number, kind, comment_id,
             author_login, body, path, line, created_at, updated_at, html_url)
         SELECT $1, $2, u.r, u.n, u.k, u.i, u.a, u.b, u.p, u.l, to_timestamp(u.c / 1000.0),
                to_timestamp(u.up / 1000.0), u.h
         FROM UNNEST($3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[],
                     $10::bigint[], $11::bigint[], $12::bigint[], $13::text[])
              AS u(r, n, k, i, a, b, p, l, c, up, h)
         ON CONFLICT (tenant_id, integration_id, kind, comment_id) DO UPDATE SET
             repository_id = EXCLUDED.repository_id, pr_number = EXCLUDED.pr_number,
             author_login = EXCLUDED.author_login, body = EXCLUDED.body, path = EXCLUDED.path,
             line = EXCLUDED.line, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
             html_url = EXCLUDED.html_url
         WHERE (pr_comments.updated_at IS NULL OR EXCLUDED.updated_at >= pr_comments.updated_at)
           AND (pr_comments.author_login, pr_comments.body, pr_comments.path, pr_comments.line,
                pr_comments.updated_at, pr_comments.html_url)
               IS DISTINCT FROM
               (EXCLUDED.author_login, EXCLUDED.body, EXCLUDED.path, EXCLUDED.line, EXCLUDED.updated_at,
                EXCLUDED.html_url)",
    )
    .bind(tenant)
    .bind(integration)
    .bind(ints(&rows, |r| r.repository_id))
    .bind(ints(&rows, |r| r.pr_number))
    .bind(text(&rows, |r| &r.kind))
    .bind(ints(&rows, |r| r.comment_id))
    .bind(text(&rows, |r| &r.author_login))
    .bind(text(&rows, |r| &r.body))
    .bind(opt_text(&rows, |r| &r.path))
    .bind(ints(&rows, |r| r.line))
    .bind(ints(&rows, |r| r.created_at_ms))
    .bind(ints(&rows, |r| r.updated_at_ms))
    .bind(opt_text(&rows, |r| &r.html_url))
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

pub async fn pr_links(
    tx: &mut Transaction<'_, Postgres>,
    tenant: Uuid,
    integration: Uuid,
    rows: &[pb::PrLinkRow],
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let rows = unique(rows, |r| {
        (
            r.repository_id,
            r.pr_number,
            r.jira_key.clone(),
            r.source.clone(),
        )
    });
    let result = sqlx::query(
        "INSERT INTO pr_work_item_links (tenant_id, integration_id, repository_id, pr_number, jira_key, source)
         SELECT $1, $2, * FROM UNNEST($3::bigint[], $4::bigint[], $5::text[], $6::text[])
         ON CONFLICT DO NOTHING",
    )
    .bind(tenant)
    .bind(integration)
    .bind(ints(&rows, |r| r.repository_id))
    .bind(ints(&rows, |r| r.pr_number))
    .bind(text(&rows, |r| &r.jira_key))
    .bind(text(&rows, |r| &r.source))
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}
