//! GitHub over GraphQL against the simulator at GitHub's real limits: the same rows as REST
//! (generated organisation and recordings, full and incremental with comment edits), a
//! fraction of the budget, errors in 200 answers, the node limit, secondary-limit windows
//! waited out, a pool of tokens with a revoked one, and the projected finish when the
//! budget runs out.

use std::time::{Duration, Instant};

use sluice_proto::v1 as pb;
use sluice_simulator::{
    Dataset, GithubDataset, GithubSimulator, GithubSimulatorConfig, GithubSpec,
};

use crate::github::{
    TOKEN, expected, github_integration, github_integration_via, github_integration_with,
    github_simulator, recorded_repository, rows, spec,
};
use crate::harness::{Options, TestEnv};

const SECOND: &str = "ghp_graphql_second";
const REVOKED: &str = "ghp_graphql_revoked";

const TABLES: [&str; 6] = [
    "repositories",
    "pull_requests",
    "pr_commits",
    "pr_reviews",
    "pr_comments",
    "pr_work_item_links",
];

/// Every row of the GitHub tables of an integration, without the columns naming the
/// integration, in a stable order.
async fn contents(env: &TestEnv, integration_id: &str) -> Vec<(String, Vec<String>)> {
    let mut all = Vec::new();
    for table in TABLES {
        let mut rows: Vec<String> = env
            .table_rows(table, integration_id)
            .await
            .into_iter()
            .map(|mut row| {
                if let Some(row) = row.as_object_mut() {
                    row.remove("integration_id");
                    row.remove("tenant_id");
                }
                row.to_string()
            })
            .collect();
        rows.sort();
        all.push((table.to_string(), rows));
    }
    all
}

fn assert_same(rest: &[(String, Vec<String>)], graphql: &[(String, Vec<String>)], when: &str) {
    for ((table, rest_rows), (_, graphql_rows)) in rest.iter().zip(graphql) {
        assert_eq!(
            rest_rows.len(),
            graphql_rows.len(),
            "{when}: {table} has {} rows over REST, {} over GraphQL",
            rest_rows.len(),
            graphql_rows.len()
        );
        for (r, g) in rest_rows.iter().zip(graphql_rows) {
            assert_eq!(r, g, "{when}: {table} differs (REST, then GraphQL)");
        }
    }
}

fn completed(run: &pb::JobRun) -> pb::RunCounts {
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    run.counts.expect("counts")
}

async fn simulator_with(config: GithubSimulatorConfig) -> GithubSimulator {
    GithubSimulator::start(
        config,
        tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind"),
    )
    .await
    .expect("github simulator")
}

#[tokio::test]
async fn graphql_and_rest_land_identical_rows_full_and_incremental_at_a_fraction_of_the_budget() {
    // Jira projects P0001 and P0002 are synced: pull requests mentioning them get links.
    let env = TestEnv::start(Options {
        dataset: Dataset::generated(2, 3, 4),
        ..Options::default()
    })
    .await;
    let (_, jira_job) = env.create_jira_integration("jira-for-links").await;
    completed(&env.run_and_wait(&jira_job).await);

    // 180 pull requests: REST's ~3 requests each stay under the 850 a minute the client
    // keeps to (GitHub's secondary limit is 900), full and incremental.
    let dataset = GithubDataset::generated(GithubSpec {
        prs_per_repo: 60,
        ..spec(&["P0001", "P0002"])
    });
    let simulator = github_simulator(dataset.clone(), &[TOKEN]).await;
    let (rest_id, rest_job) = github_integration_via(
        &env,
        &simulator,
        "rest",
        &[TOKEN],
        "acme",
        pb::GithubApi::Rest,
    )
    .await;
    let (graphql_id, graphql_job) =
        github_integration(&env, &simulator, "graphql", &[TOKEN], "acme").await;

    let rest = completed(&env.run_and_wait(&rest_job).await);
    let graphql = completed(&env.run_and_wait(&graphql_job).await);
    assert_eq!(rows(&env, &graphql_id).await, expected(&dataset));
    let links = env.count("pr_work_item_links", &graphql_id).await;
    assert!(links > 0, "mentions of synced Jira projects are linked");
    assert_same(
        &contents(&env, &rest_id).await,
        &contents(&env, &graphql_id).await,
        "full sync",
    );
    // The budget: GraphQL pages of 100 cost 3 points; REST pays per pull request.
    let prs = dataset.pr_count() as f64;
    assert!(
        (graphql.graphql_points as f64) / prs <= 0.05,
        "{} points for {prs} pull requests",
        graphql.graphql_points
    );
    assert_eq!(rest.graphql_points, 0);
    assert!(
        graphql.api_calls * 5 < rest.api_calls,
        "GraphQL {} calls, REST {}",
        graphql.api_calls,
        rest.api_calls
    );
    assert!(
        graphql
            .graphql_budget_remaining
            .is_some_and(|left| left < 5000 && left > 4900)
    );
    assert!(rest.rest_budget_remaining.is_some());
    assert!(graphql.projected_finish.is_none(), "the budget lasted");

    // 5% of the pull requests change; comments are edited without their pull request
    // moving (GitHub does not bump `updated_at` for an edit).
    let bumped = simulator.bump_updated(0.05, 11);
    let edited = simulator.edit_comments(0.03, 12);
    assert!(!bumped.is_empty() && !edited.is_empty());
    let queries_before = simulator.graphql_query_count();
    completed(&env.run_and_wait(&rest_job).await);
    let incremental = completed(&env.run_and_wait(&graphql_job).await);
    let queries = simulator.graphql_query_count() - queries_before;
    assert!(
        queries as usize <= dataset.repo_count() * 2,
        "{queries} GraphQL queries for {} changed pull requests in {} repositories",
        bumped.len(),
        dataset.repo_count()
    );
    assert!(
        incremental.graphql_points as usize <= dataset.repo_count() * 2,
        "{} points on the incremental run",
        incremental.graphql_points
    );
    let rest_after = contents(&env, &rest_id).await;
    assert_same(
        &rest_after,
        &contents(&env, &graphql_id).await,
        "incremental",
    );
    let mut after = expected(&dataset);
    after.issue_comments += bumped.len();
    assert_eq!(rows(&env, &graphql_id).await, after);
    for (_, comment_id) in &edited {
        let body: String = sqlx::query_scalar(
            "SELECT body FROM pr_comments WHERE integration_id = $1::uuid AND comment_id = $2",
        )
        .bind(&graphql_id)
        .bind(*comment_id as i64)
        .fetch_one(&env.pool)
        .await
        .expect("edited comment");
        assert!(
            body.ends_with("(edited)"),
            "comment {comment_id} edit not picked up: {body:?}"
        );
    }

    // The recordings (PyGithub's), through both paths.
    let recorded = github_simulator(GithubDataset::fixtures(), &[TOKEN]).await;
    let mut ids = Vec::new();
    for api in [pb::GithubApi::Rest, pb::GithubApi::Graphql] {
        let (id, job) = github_integration_with(
            &env,
            &recorded.base_url(),
            &format!("recorded-{api:?}"),
            &[TOKEN],
            recorded_repository(api),
        )
        .await;
        completed(&env.run_and_wait(&job).await);
        ids.push(id);
    }
    let recorded_rest = contents(&env, &ids[0]).await;
    assert!(
        recorded_rest[1].1.len() >= 3,
        "the recorded pull requests landed"
    );
    assert_same(&recorded_rest, &contents(&env, &ids[1]).await, "recordings");
    env.stop().await;
    simulator.shutdown();
    recorded.shutdown();
}

#[tokio::test]
async fn a_server_without_graphql_is_synced_over_rest_unless_graphql_is_required() {
    let env = TestEnv::start(Options::default()).await;
    let dataset = GithubDataset::generated(GithubSpec {
        repos: 2,
        prs_per_repo: 30,
        ..spec(&[])
    });
    let simulator = simulator_with(GithubSimulatorConfig {
        dataset: dataset.clone(),
        tokens: vec![TOKEN.into()],
        graphql: false,
        ..GithubSimulatorConfig::default()
    })
    .await;
    let (auto_id, auto_job) = github_integration(&env, &simulator, "auto", &[TOKEN], "acme").await;
    let counts = completed(&env.run_and_wait(&auto_job).await);
    assert_eq!(rows(&env, &auto_id).await, expected(&dataset));
    assert_eq!(counts.graphql_points, 0);
    assert!(
        simulator.request_count("GET /repos/{owner}/{repo}/pulls/{number}/commits") >= 60,
        "{:?}",
        simulator.request_counts()
    );

    let (_, required_job) = github_integration_via(
        &env,
        &simulator,
        "graphql-only",
        &[TOKEN],
        "acme",
        pb::GithubApi::Graphql,
    )
    .await;
    let run = env.run_and_wait(&required_job).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32, "{run:?}");
    assert!(
        run.error_message
            .contains("the server has no GraphQL endpoint"),
        "{}",
        run.error_message
    );
    env.stop().await;
    simulator.shutdown();
}

#[tokio::test]
async fn a_graphql_error_in_a_200_answer_fails_the_run_and_a_query_over_the_node_limit_is_split() {
    let env = TestEnv::start(Options::default()).await;
    let dataset = GithubDataset::generated(GithubSpec {
        repos: 2,
        prs_per_repo: 120,
        ..spec(&[])
    });
    // The server allows 20,000 nodes per query: a page of 100 pull requests with 100 of
    // each child (30,100 nodes) is refused, one of 50 (15,050) is not.
    let simulator = simulator_with(GithubSimulatorConfig {
        dataset: dataset.clone(),
        tokens: vec![TOKEN.into()],
        graphql_node_limit: 20_000,
        ..GithubSimulatorConfig::default()
    })
    .await;
    let (split_id, split_job) =
        github_integration(&env, &simulator, "split", &[TOKEN], "acme").await;
    completed(&env.run_and_wait(&split_job).await);
    assert_eq!(rows(&env, &split_id).await, expected(&dataset));
    // Per repository: one refused query, then pages of 50 (120 pull requests: 3 pages).
    assert_eq!(
        simulator.graphql_query_count(),
        2 * (1 + 3),
        "{:?}",
        simulator.request_counts()
    );

    // Pull requests with more than 100 commits: their further pages are asked for, one
    // query per pull request and page (1 point each).
    let long = GithubDataset::generated(GithubSpec {
        repos: 1,
        prs_per_repo: 5,
        commits_per_pr: 150,
        ..spec(&[])
    });
    let long_simulator = github_simulator(long.clone(), &[TOKEN]).await;
    let (long_id, long_job) =
        github_integration(&env, &long_simulator, "long", &[TOKEN], "acme").await;
    let counts = completed(&env.run_and_wait(&long_job).await);
    assert_eq!(rows(&env, &long_id).await, expected(&long));
    assert_eq!(counts.commits, 750);
    assert_eq!(long_simulator.graphql_query_count(), 1 + 5);
    long_simulator.shutdown();

    // An error object in a 200 answer is an error, not an empty page.
    simulator.add_graphql_error(
        1,
        "FORBIDDEN",
        "Resource not accessible by personal access token",
    );
    let (failed_id, failed_job) =
        github_integration(&env, &simulator, "forbidden", &[TOKEN], "acme").await;
    let run = env.run_and_wait(&failed_job).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32, "{run:?}");
    assert!(
        run.error_message
            .contains("FORBIDDEN: Resource not accessible by personal access token"),
        "{}",
        run.error_message
    );
    assert!(
        env.count("pull_requests", &failed_id).await < dataset.pr_count(),
        "the run did not pretend to be complete"
    );
    env.stop().await;
    simulator.shutdown();
}

#[tokio::test]
async fn a_secondary_limit_window_is_waited_out_and_three_tokens_share_the_budget_past_a_revoked_one()
 {
    let env = TestEnv::start(Options::default()).await;
    let dataset = GithubDataset::generated(GithubSpec {
        repos: 4,
        prs_per_repo: 150,
        ..spec(&[])
    });
    // REVOKED is not a token the server knows (401 Bad credentials).
    let simulator = github_simulator(dataset.clone(), &[TOKEN, SECOND]).await;

    // Every token is in a secondary-limit window for 2 s: the client rests, it does not
    // hammer, and the run completes once the window is over.
    let (rested_id, rested_job) =
        github_integration(&env, &simulator, "rested", &[TOKEN], "acme").await;
    simulator.open_secondary_window(None, Duration::from_secs(2));
    let started = Instant::now();
    let counts = completed(&env.run_and_wait(&rested_job).await);
    assert!(started.elapsed() >= Duration::from_millis(1900));
    assert!(counts.rate_limit_wait_ms >= 1500, "{counts:?}");
    assert!(
        simulator.secondary_refusals() <= 3,
        "{} requests refused during the window: the client kept asking",
        simulator.secondary_refusals()
    );
    assert_eq!(rows(&env, &rested_id).await, expected(&dataset));

    // Three tokens, one revoked: the run completes and the two good ones share the points.
    let spent_before = (
        simulator.graphql_remaining(TOKEN),
        simulator.graphql_remaining(SECOND),
    );
    let (pooled_id, pooled_job) = github_integration(
        &env,
        &simulator,
        "pooled",
        &[TOKEN, SECOND, REVOKED],
        "acme",
    )
    .await;
    completed(&env.run_and_wait(&pooled_job).await);
    assert_eq!(rows(&env, &pooled_id).await, expected(&dataset));
    let spent = (
        spent_before.0 - simulator.graphql_remaining(TOKEN),
        spent_before.1 - simulator.graphql_remaining(SECOND),
    );
    assert!(
        spent.0 > 0 && spent.1 > 0,
        "both good tokens spent points: {spent:?}"
    );
    env.stop().await;
    simulator.shutdown();
}

#[tokio::test]
async fn a_budget_that_runs_out_mid_sync_shows_the_projected_finish_and_is_waited_for() {
    let env = TestEnv::start(Options::default()).await;
    let dataset = GithubDataset::generated(GithubSpec {
        repos: 3,
        prs_per_repo: 200,
        ..spec(&[])
    });
    let simulator = github_simulator(dataset.clone(), &[TOKEN]).await;
    // 4 points left until 4 s from now: one page of 100 (3 points), then the budget is out.
    simulator.set_graphql_remaining(TOKEN, 4, Duration::from_secs(4));
    let (integration_id, job_id) =
        github_integration(&env, &simulator, "budget", &[TOKEN], "acme").await;
    let run_id = env.start_run(&job_id).await;
    let mut seen: Option<pb::RunCounts> = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let run = env.get_run(&run_id).await;
        let counts = run.counts.unwrap_or_default();
        if counts.projected_finish.is_some() {
            seen = Some(counts);
        }
        if run.status != pb::RunStatus::Running as i32 || Instant::now() > deadline {
            completed(&run);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen.expect("the run showed a projected finish while the budget was out");
    assert!(
        seen.graphql_budget_remaining.is_some_and(|left| left < 3),
        "{seen:?}"
    );
    assert!(seen.graphql_points >= 3, "{seen:?}");
    let finish = seen.projected_finish.expect("projected finish");
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now - 30..=now + 3600).contains(&finish.seconds),
        "projected finish {finish:?}, now {now}"
    );
    let run = env.get_run(&run_id).await;
    let counts = completed(&run);
    assert!(counts.rate_limit_wait_ms >= 1000, "{counts:?}");
    assert!(
        counts.projected_finish.is_none(),
        "the budget lasted in the end"
    );
    assert_eq!(rows(&env, &integration_id).await, expected(&dataset));
    env.stop().await;
    simulator.shutdown();
}
