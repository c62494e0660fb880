//! GitHub end to end against the GitHub simulator: full and incremental syncs with exact
//! rows, conditional requests, rate limits (primary and secondary, token pool), links to
//! Jira issues, bad tokens.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use sluice_proto::v1 as pb;
use sluice_simulator::{
    Dataset, GithubDataset, GithubSimulator, GithubSimulatorConfig, GithubSpec,
};

use crate::harness::{Options, TestEnv};

pub(crate) const TOKEN: &str = "ghp_test_token_one";
const SECOND_TOKEN: &str = "ghp_test_token_two";

pub(crate) fn spec(jira_keys: &[&str]) -> GithubSpec {
    GithubSpec {
        org: "acme".into(),
        repos: 3,
        prs_per_repo: 100,
        commits_per_pr: 3,
        reviews_per_pr: 2,
        review_comments_per_pr: 1,
        issue_comments_per_pr: 2,
        seed: 7,
        jira_keys: jira_keys.iter().map(|k| k.to_string()).collect(),
        mention_every: 3,
    }
}

pub(crate) async fn github_simulator(dataset: GithubDataset, tokens: &[&str]) -> GithubSimulator {
    GithubSimulator::start(
        GithubSimulatorConfig {
            dataset,
            tokens: tokens.iter().map(|t| t.to_string()).collect(),
            scopes: "repo, read:org".into(),
            ..GithubSimulatorConfig::default()
        },
        tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind"),
    )
    .await
    .expect("github simulator")
}

/// A GitHub integration on the simulator syncing organization `org` (pull requests over
/// GraphQL, the default); returns (integration id, github_sync job id).
pub(crate) async fn github_integration(
    env: &TestEnv,
    simulator: &GithubSimulator,
    name: &str,
    tokens: &[&str],
    org: &str,
) -> (String, String) {
    github_integration_via(env, simulator, name, tokens, org, pb::GithubApi::Auto).await
}

/// [`github_integration`] fetching pull requests over `api`.
pub(crate) async fn github_integration_via(
    env: &TestEnv,
    simulator: &GithubSimulator,
    name: &str,
    tokens: &[&str],
    org: &str,
    api: pb::GithubApi,
) -> (String, String) {
    let settings = pb::GithubSettings {
        repositories: vec![],
        organizations: vec![org.into()],
        include_archived: false,
        pull_requests_api: api as i32,
    };
    github_integration_with(
        env,
        &simulator.enterprise_base_url(),
        name,
        tokens,
        settings,
    )
    .await
}

/// A GitHub integration at `base_url` with these settings; returns (integration id,
/// github_sync job id).
pub(crate) async fn github_integration_with(
    env: &TestEnv,
    base_url: &str,
    name: &str,
    tokens: &[&str],
    settings: pb::GithubSettings,
) -> (String, String) {
    let response = env
        .integrations()
        .create_integration(env.authed(pb::CreateIntegrationRequest {
            r#type: pb::IntegrationType::Github as i32,
            name: name.into(),
            base_url: base_url.into(),
            credentials: Some(pb::Credentials {
                kind: Some(pb::credentials::Kind::Github(pb::GithubTokens {
                    tokens: tokens.iter().map(|t| t.to_string()).collect(),
                })),
            }),
            settings: Some(pb::IntegrationSettings {
                source: Some(pb::integration_settings::Source::Github(settings)),
            }),
        }))
        .await
        .expect("create github integration")
        .into_inner();
    assert_eq!(response.job_ids.len(), 1, "a github_sync job is created");
    (
        response.integration.expect("integration").id,
        response.job_ids[0].clone(),
    )
}

/// Settings syncing the recorded repository, PyGithub/PyGithub, over `api`.
pub(crate) fn recorded_repository(api: pb::GithubApi) -> pb::GithubSettings {
    pb::GithubSettings {
        repositories: vec!["PyGithub/PyGithub".into()],
        organizations: vec![],
        include_archived: false,
        pull_requests_api: api as i32,
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Rows {
    repositories: usize,
    pull_requests: usize,
    commits: usize,
    reviews: usize,
    review_comments: usize,
    pub(crate) issue_comments: usize,
}

pub(crate) async fn rows(env: &TestEnv, integration_id: &str) -> Rows {
    let count = |sql: &'static str| {
        let pool = env.pool.clone();
        let id = integration_id.to_string();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(id)
                .fetch_one(&pool)
                .await
                .expect("count") as usize
        }
    };
    Rows {
        repositories: count("SELECT count(*) FROM repositories WHERE integration_id = $1::uuid")
            .await,
        pull_requests: count("SELECT count(*) FROM pull_requests WHERE integration_id = $1::uuid")
            .await,
        commits: count("SELECT count(*) FROM pr_commits WHERE integration_id = $1::uuid").await,
        reviews: count("SELECT count(*) FROM pr_reviews WHERE integration_id = $1::uuid").await,
        review_comments: count(
            "SELECT count(*) FROM pr_comments WHERE integration_id = $1::uuid AND kind = 'review'",
        )
        .await,
        issue_comments: count(
            "SELECT count(*) FROM pr_comments WHERE integration_id = $1::uuid AND kind = 'issue'",
        )
        .await,
    }
}

pub(crate) fn expected(dataset: &GithubDataset) -> Rows {
    Rows {
        repositories: dataset.repo_count(),
        pull_requests: dataset.pr_count(),
        commits: dataset.commit_count(),
        reviews: dataset.review_count(),
        review_comments: dataset.review_comment_count(),
        issue_comments: dataset.issue_comment_count(),
    }
}

/// The REST path (servers without GraphQL): ETags, 304s and per-pull-request listings.
#[tokio::test]
async fn a_generated_org_syncs_exactly_then_incrementally_fetches_only_what_changed() {
    let env = TestEnv::start(Options::default()).await;
    // 240 pull requests: REST's ~3 requests each stay under the 850 a minute the client
    // keeps to (GitHub's secondary limit is 900).
    let dataset = GithubDataset::generated(GithubSpec {
        prs_per_repo: 80,
        ..spec(&[])
    });
    let simulator = github_simulator(dataset.clone(), &[TOKEN]).await;
    let (integration_id, job_id) = github_integration_via(
        &env,
        &simulator,
        "acme-github",
        &[TOKEN],
        "acme",
        pb::GithubApi::Rest,
    )
    .await;

    // TestConnection names the user, the scopes and the budget.
    let test = env
        .integrations()
        .test_connection(env.authed(pb::TestConnectionRequest {
            id: integration_id.clone(),
        }))
        .await
        .expect("test connection")
        .into_inner();
    assert!(test.ok, "{}", test.message);
    assert!(
        test.message.contains("scopes: repo, read:org"),
        "{}",
        test.message
    );
    assert!(test.message.contains("rate limit"), "{}", test.message);

    let run = env.run_and_wait(&job_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(rows(&env, &integration_id).await, expected(&dataset));
    let counts = run.counts.expect("counts");
    assert_eq!(counts.pull_requests as usize, dataset.pr_count());
    assert_eq!(counts.commits as usize, dataset.commit_count());
    assert_eq!(counts.reviews as usize, dataset.review_count());
    let full_calls = counts.api_calls;
    assert!(
        (full_calls as f64) / (dataset.pr_count() as f64) <= 4.0,
        "{full_calls} calls for {} pull requests",
        dataset.pr_count()
    );
    // Unicode and the deleted user land as sent.
    let ghosts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pull_requests WHERE integration_id = $1::uuid AND author_login = 'ghost'",
    )
    .bind(&integration_id)
    .fetch_one(&env.pool)
    .await
    .expect("ghosts");
    assert!(
        ghosts > 0,
        "the generated data has pull requests by deleted users"
    );

    // 1% changed (at least one pull request): only those get their details again.
    let bumped = simulator.bump_updated(0.01, 3);
    assert!(!bumped.is_empty());
    simulator.reset_counts();
    let counted_before = simulator.counted_calls();
    let incremental = env.run_and_wait(&job_id).await;
    assert_eq!(
        incremental.status,
        pb::RunStatus::Completed as i32,
        "{}",
        incremental.error_message
    );
    let commit_fetches =
        simulator.request_count("GET /repos/{owner}/{repo}/pulls/{number}/commits");
    assert!(
        commit_fetches as usize >= bumped.len()
            && commit_fetches as usize <= bumped.len() + 2 * dataset.repo_count(),
        "{commit_fetches} commit listings for {} changed pull requests",
        bumped.len()
    );
    let incremental_calls = incremental.counts.expect("counts").api_calls;
    assert!(
        incremental_calls * 100 <= full_calls * 3,
        "incremental {incremental_calls} calls vs full {full_calls}"
    );
    // Answers 304 cost no rate limit.
    assert!(
        simulator.not_modified_count() > 0,
        "conditional requests were made"
    );
    assert_eq!(
        simulator.counted_calls() - counted_before + simulator.not_modified_count(),
        incremental_calls as u64,
        "every call but the 304s consumed rate limit"
    );
    // The new comments landed; nothing duplicated.
    let mut after = expected(&dataset);
    after.issue_comments += bumped.len();
    assert_eq!(rows(&env, &integration_id).await, after);
    env.stop().await;
    simulator.shutdown();
}

#[tokio::test]
async fn rate_limits_are_waited_for_or_avoided_with_another_token() {
    let env = TestEnv::start(Options::default()).await;
    let dataset = GithubDataset::generated(GithubSpec {
        repos: 2,
        prs_per_repo: 10,
        ..spec(&[])
    });
    let simulator = github_simulator(dataset.clone(), &[TOKEN, SECOND_TOKEN]).await;

    // One token, spent until two seconds from now: the run waits for the reset.
    simulator.set_remaining(TOKEN, 0, Duration::from_secs(2));
    let (waited_id, waited_job) =
        github_integration(&env, &simulator, "spent", &[TOKEN], "acme").await;
    let run = env.run_and_wait(&waited_job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    let counts = run.counts.expect("counts");
    assert!(counts.rate_limit_wait_ms >= 1000, "{counts:?}");
    assert_eq!(rows(&env, &waited_id).await, expected(&dataset));

    // Two tokens, one spent for an hour: the other does the work, no waiting.
    simulator.set_remaining(TOKEN, 0, Duration::from_secs(3600));
    let (pooled_id, pooled_job) =
        github_integration(&env, &simulator, "pool", &[TOKEN, SECOND_TOKEN], "acme").await;
    let run = env.run_and_wait(&pooled_job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(run.counts.expect("counts").rate_limit_wait_ms, 0);
    assert_eq!(rows(&env, &pooled_id).await, expected(&dataset));

    // Secondary limits: retry-after is honoured, the run completes.
    simulator.set_remaining(TOKEN, 5000, Duration::from_secs(3600));
    simulator.add_secondary_limit(2, Some(1));
    let (secondary_id, secondary_job) =
        github_integration(&env, &simulator, "secondary", &[SECOND_TOKEN], "acme").await;
    let run = env.run_and_wait(&secondary_job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    // Two refusals, each waited out for its retry-after of one second (a token rests until
    // then; the wait counted is from the refusal on).
    assert!(run.counts.expect("counts").rate_limit_wait_ms >= 1800);
    assert_eq!(rows(&env, &secondary_id).await, expected(&dataset));
    env.stop().await;
    simulator.shutdown();
}

#[tokio::test]
async fn pull_requests_are_linked_to_the_jira_issues_they_mention_and_bad_tokens_are_named() {
    // Jira projects P0001 and P0002 exist for this tenant; "NOPE" does not.
    let env = TestEnv::start(Options {
        dataset: Dataset::generated(2, 3, 4),
        ..Options::default()
    })
    .await;
    let (jira_id, jira_job) = env.create_jira_integration("jira-for-links").await;
    let jira_run = env.run_and_wait(&jira_job).await;
    assert_eq!(jira_run.status, pb::RunStatus::Completed as i32);

    let dataset = GithubDataset::generated(spec(&["P0001", "P0002", "NOPE"]));
    let simulator = github_simulator(dataset.clone(), &[TOKEN]).await;
    let (integration_id, job_id) =
        github_integration(&env, &simulator, "linked", &[TOKEN], "acme").await;
    let run = env.run_and_wait(&job_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );

    let links: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT r.full_name, l.pr_number, l.jira_key FROM pr_work_item_links l
         JOIN repositories r ON r.tenant_id = l.tenant_id AND r.integration_id = l.integration_id
                            AND r.external_id = l.repository_id
         WHERE l.integration_id = $1::uuid",
    )
    .bind(&integration_id)
    .fetch_all(&env.pool)
    .await
    .expect("links");
    let found: BTreeMap<(String, u64), BTreeSet<String>> =
        links
            .into_iter()
            .fold(BTreeMap::new(), |mut acc, (repo, number, key)| {
                acc.entry((repo, number as u64)).or_default().insert(key);
                acc
            });
    let wanted: BTreeMap<(String, u64), BTreeSet<String>> = dataset
        .mentioned_keys()
        .into_iter()
        .map(|(pr, keys)| {
            (
                pr,
                keys.into_iter()
                    .filter(|k| !k.starts_with("NOPE-"))
                    .collect::<BTreeSet<String>>(),
            )
        })
        .filter(|(_, keys)| !keys.is_empty())
        .collect();
    assert!(!wanted.is_empty(), "the generated data mentions known keys");
    assert_eq!(
        found, wanted,
        "links for known projects only, none for NOPE"
    );

    // Analysts join work items to pull requests through the view, which also says whether
    // Jira's dev status lists the same pull request. Two linked keys get work items (as an
    // issues sync would land them); one of them also has the PR in its dev status.
    let mut linked = found.iter().flat_map(|((repo, number), keys)| {
        keys.iter()
            .map(move |key| (repo.clone(), *number, key.clone()))
    });
    let (repo_a, number_a, key_a) = linked.next().expect("a link");
    let (_, _, key_b) = linked
        .find(|(_, _, key)| *key != key_a)
        .expect("a second linked key");
    let url_a: String = sqlx::query_scalar(
        "SELECT html_url FROM pull_requests WHERE integration_id = $1::uuid AND repository = $2 AND number = $3",
    )
    .bind(&integration_id)
    .bind(&repo_a)
    .bind(number_a as i64)
    .fetch_one(&env.pool)
    .await
    .expect("PR url");
    for (external_id, key) in [("1", &key_a), ("2", &key_b)] {
        sqlx::query(
            "INSERT INTO work_items (tenant_id, integration_id, external_id, key, updated)
             VALUES ($1, $2::uuid, $3, $4, now())",
        )
        .bind(env.tenant_id)
        .bind(&jira_id)
        .bind(external_id)
        .bind(key)
        .execute(&env.pool)
        .await
        .expect("work item");
    }
    sqlx::query(
        "INSERT INTO work_item_dev_status (tenant_id, integration_id, work_item_external_id, kind, ref_id, url)
         VALUES ($1, $2::uuid, '1', 'pull_request', 'pr-a', $3)",
    )
    .bind(env.tenant_id)
    .bind(&jira_id)
    .bind(&url_a)
    .execute(&env.pool)
    .await
    .expect("dev status");
    let joined: Vec<(String, String, i64, bool)> = sqlx::query_as(
        "SELECT jira_key, repository, number, in_jira_dev_status FROM work_item_pull_requests
         WHERE tenant_id = $1 AND github_integration_id = $2::uuid ORDER BY jira_key, repository, number",
    )
    .bind(env.tenant_id)
    .bind(&integration_id)
    .fetch_all(&env.pool)
    .await
    .expect("view");
    assert!(
        joined
            .iter()
            .any(|(key, repo, number, confirmed)| *key == key_a
                && *repo == repo_a
                && *number == number_a as i64
                && *confirmed),
        "{joined:?}"
    );
    assert!(
        joined.iter().any(|(key, ..)| *key == key_b)
            && joined
                .iter()
                .filter(|(key, ..)| *key == key_b)
                .all(|(.., confirmed)| !confirmed),
        "{joined:?}"
    );
    assert!(
        joined
            .iter()
            .all(|(key, ..)| *key == key_a || *key == key_b)
    );

    // A wrong token: TestConnection and the run say so clearly.
    let (bad_id, bad_job) =
        github_integration(&env, &simulator, "bad-token", &["ghp_wrong"], "acme").await;
    let test = env
        .integrations()
        .test_connection(env.authed(pb::TestConnectionRequest { id: bad_id }))
        .await
        .expect("test connection")
        .into_inner();
    assert!(!test.ok);
    assert!(test.message.contains("HTTP 401"), "{}", test.message);
    assert!(
        !test.message.contains("ghp_wrong"),
        "the token is never shown"
    );
    let run = env.run_and_wait(&bad_job).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32);
    assert!(
        run.error_message.contains("401 Bad credentials"),
        "{}",
        run.error_message
    );
    env.stop().await;
    simulator.shutdown();
}

#[tokio::test]
async fn the_recorded_repository_syncs_with_its_recorded_pull_requests_and_details() {
    let env = TestEnv::start(Options::default()).await;
    let dataset = GithubDataset::fixtures();
    let simulator = github_simulator(dataset.clone(), &[TOKEN]).await;
    let (integration_id, job_id) = github_integration_with(
        &env,
        &simulator.base_url(),
        "pygithub",
        &[TOKEN],
        recorded_repository(pb::GithubApi::Auto),
    )
    .await;
    let run = env.run_and_wait(&job_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    let synced = rows(&env, &integration_id).await;
    // The recordings: PyGithub/PyGithub with PRs #31, #32, #39; #31's 3 commits and 2
    // review comments. The recorded reviews belong to #538 and the recorded conversation
    // comments to issues #28 and #1136, none of them a listed pull request: not synced.
    assert_eq!(synced.repositories, 1);
    assert_eq!(synced.pull_requests, dataset.pr_count());
    assert_eq!(synced.commits, dataset.commit_count());
    assert_eq!(synced.review_comments, dataset.review_comment_count());
    assert_eq!((synced.reviews, synced.issue_comments), (0, 0));
    // PR 31 as recorded.
    let (title, author, repository): (String, String, String) = sqlx::query_as(
        "SELECT title, author_login, repository FROM pull_requests
         WHERE integration_id = $1::uuid AND number = 31",
    )
    .bind(&integration_id)
    .fetch_one(&env.pool)
    .await
    .expect("PR 31");
    assert_eq!(repository, "PyGithub/PyGithub");
    assert!(!title.is_empty() && !author.is_empty());
    // A review comment in GitHub's 2012 shape (pull request and web URL only under
    // `_links`) lands like today's; values GitHub did not send are NULL, not ''.
    let (pr_number, html_url, path): (i64, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT pr_number, html_url, path FROM pr_comments
         WHERE integration_id = $1::uuid AND comment_id = 1580134",
    )
    .bind(&integration_id)
    .fetch_one(&env.pool)
    .await
    .expect("the legacy-shaped review comment");
    assert_eq!(pr_number, 31);
    assert_eq!(
        html_url.as_deref(),
        Some("https://github.com/PyGithub/PyGithub/pull/31#r1580134"),
        "the web URL from `_links.html.href`"
    );
    assert_eq!(path.as_deref(), Some("src/github/Issue.py"));
    let unmerged_with_empty: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pull_requests WHERE integration_id = $1::uuid AND merged_by_login = ''",
    )
    .bind(&integration_id)
    .fetch_one(&env.pool)
    .await
    .expect("count");
    assert_eq!(
        unmerged_with_empty, 0,
        "merged_by_login is NULL when absent"
    );
    // A re-run changes nothing.
    let rerun = env.run_and_wait(&job_id).await;
    assert_eq!(
        rerun.status,
        pb::RunStatus::Completed as i32,
        "{}",
        rerun.error_message
    );
    assert_eq!(rows(&env, &integration_id).await, synced);
    env.stop().await;
    simulator.shutdown();
}

#[tokio::test]
async fn synced_pull_requests_are_searchable() {
    let env = TestEnv::start(Options {
        vectorize: true,
        ..Options::default()
    })
    .await;
    let dataset = GithubDataset::generated(GithubSpec {
        repos: 1,
        prs_per_repo: 12,
        ..spec(&[])
    });
    let simulator = github_simulator(dataset.clone(), &[TOKEN]).await;
    let (integration_id, job_id) =
        github_integration(&env, &simulator, "searchable-prs", &[TOKEN], "acme").await;
    let run = env.run_and_wait(&job_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    for _ in 0..200 {
        let done: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM vectorization_status WHERE tenant_id = $1 AND entity_type = 'pull_request' AND status = 'done'",
        )
        .bind(env.tenant_id)
        .fetch_one(&env.pool)
        .await
        .expect("count");
        if done as usize == dataset.pr_count() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (repository, number, title, url): (String, i64, String, String) = sqlx::query_as(
        "SELECT repository, number, title, html_url FROM pull_requests
         WHERE integration_id = $1::uuid AND title <> '' ORDER BY number LIMIT 1",
    )
    .bind(&integration_id)
    .fetch_one(&env.pool)
    .await
    .expect("a pull request");
    let found = env
        .search()
        .search(env.authed(pb::SearchRequest {
            query: title.clone(),
            top_k: 3,
            filters: Some(pb::SearchFilters {
                sources: vec!["pull_request".into()],
                ..Default::default()
            }),
            hybrid: false,
        }))
        .await
        .expect("search")
        .into_inner();
    // Its own title finds it among the first three (the documents also hold the bodies),
    // with its display fields; nothing but pull requests comes back.
    assert!(
        found
            .results
            .iter()
            .all(|r| r.entity_type == "pull_request")
    );
    let hit = found
        .results
        .iter()
        .find(|r| r.key == format!("{repository}#{number}"))
        .unwrap_or_else(|| panic!("{repository}#{number} not in {:?}", found.results));
    assert_eq!(
        (hit.title.as_str(), hit.url.as_str()),
        (title.as_str(), url.as_str())
    );
    env.stop().await;
    simulator.shutdown();
}
