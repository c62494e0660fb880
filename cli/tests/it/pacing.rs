//! Pacing against a rate-limited site, gzip, and fresh statistics after a sync: what a user
//! with a real Jira site notices (the run finishes at the site's pace without a storm of
//! 429s, shows what throttling cost, and analysts' first queries are planned with
//! statistics).

use sluice_proto::v1 as pb;
use sluice_simulator::{Dataset, IssueSpec};

use crate::harness::{Options, TestEnv};

/// A slow-path site: no bulkfetch, no `development` JQL (a summary call per issue), long
/// changelogs fetched page by page.
fn slow_site_dataset() -> Dataset {
    Dataset::generated(2, 3, 4).with_issues(IssueSpec {
        issues_per_project: 120,
        seed: 15,
        custom_fields: 6,
        mean_histories: 6,
        long_changelog_every: 20,
        dev_status_every: 3,
    })
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

#[tokio::test]
async fn a_rate_limited_site_is_paced_to_its_limit_and_the_pace_recovers_when_the_limit_lifts() {
    const LIMIT: f64 = 60.0;
    let dataset = slow_site_dataset();
    let env = TestEnv::start(Options {
        dataset: dataset.clone(),
        // Starting far above the site's limit: the first second overshoots it for sure.
        jira_initial_rate: 200,
        ..Options::default()
    })
    .await;
    env.simulator.set_bulk_changelog(false);
    env.simulator.set_development_search(false);
    env.simulator.set_rate_limit(Some(LIMIT));
    let (integration_id, _) = env.create_jira_integration_with_jobs("limited").await;
    let job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    let limited = env.run_and_wait(&job).await;
    let counts = completed(&limited);
    assert_eq!(
        env.count("work_items", &integration_id).await,
        dataset.issue_count(),
        "every issue landed despite the limit"
    );
    let site = env.simulator.rate_limit_stats();
    assert!(site.windows >= 1, "the site's limit was reached: {site:?}");
    // The run shows exactly what the site refused, and waited each window out.
    assert_eq!(
        counts.throttled_responses as u64, site.refused,
        "{counts:?}"
    );
    assert!(
        counts.rate_limit_wait_ms >= 900,
        "requests were held for the site's Retry-After: {counts:?}"
    );
    // Converged: a few 429s per window opened, not a storm (a client that ignored
    // Retry-After would be refused for every request sent inside each one-second window).
    assert!(
        site.refused * 10 <= counts.api_calls as u64,
        "at most a tenth of the calls refused: {site:?}, {} calls",
        counts.api_calls
    );
    assert!(
        counts.peak_request_rate > 0.0 && counts.peak_request_rate < 4.0 * LIMIT,
        "{counts:?}"
    );

    // The limit lifts: another run against the same site grows past it without a 429.
    env.simulator.set_rate_limit(None);
    let (other_id, _) = env.create_jira_integration_with_jobs("lifted").await;
    let other_job = env.job_of_type(&other_id, pb::JobType::JiraIssues).await;
    let lifted = completed(&env.run_and_wait(&other_job).await);
    assert_eq!(lifted.throttled_responses, 0, "{lifted:?}");
    assert!(
        lifted.peak_request_rate > 1.2 * LIMIT,
        "the pace grew back beyond the old limit: {lifted:?}"
    );
    env.stop().await;
}

#[tokio::test]
async fn gzip_answers_are_stored_as_their_decompressed_bodies_and_tables_get_statistics() {
    let dataset = slow_site_dataset();
    let env = TestEnv::start(Options {
        dataset: dataset.clone(),
        // Statistics are per table: a database of its own, with only this test's rows.
        own_database: true,
        ..Options::default()
    })
    .await;
    let (integration_id, _) = env.create_jira_integration_with_jobs("gzip").await;
    let job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    let run = env.run_and_wait(&job).await;
    let counts = completed(&run);

    // Every issue page is stored exactly as the site's uncompressed answer.
    let pages: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, request_url FROM raw_extraction_data
         WHERE run_id = $1::uuid AND extraction_type = 'jira.issues' ORDER BY id",
    )
    .bind(&run.id)
    .fetch_all(&env.pool)
    .await
    .expect("pages");
    assert!(!pages.is_empty());
    let plain = reqwest::Client::new();
    let mut stored_bytes = 0;
    for (id, url) in &pages {
        let stored = sluice_plumbing::raw::load(&env.pool, None, *id)
            .await
            .expect("raw page");
        // Asked without Accept-Encoding, the simulator answers uncompressed.
        let expected = plain
            .get(url)
            .basic_auth(crate::harness::TEST_EMAIL, Some(&env.api_token))
            .send()
            .await
            .expect("simulator");
        assert!(expected.headers().get("content-encoding").is_none());
        let expected = expected.bytes().await.expect("body");
        assert_eq!(
            stored.body,
            expected.to_vec(),
            "page {id} stored decompressed"
        );
        stored_bytes += stored.body.len() as i64;
    }
    // What crossed the network was compressed: far less than what was stored.
    assert!(
        counts.bytes_received > 0 && counts.bytes_received * 3 < stored_bytes,
        "{} bytes received for {stored_bytes} bytes of issue pages alone",
        counts.bytes_received
    );

    // The loader analyzed what it bulk-loaded (autovacuum would only on its next pass).
    let mut analyzed = false;
    for _ in 0..100 {
        analyzed = sqlx::query_scalar(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables
             WHERE relname = 'work_items' AND schemaname = current_schema()",
        )
        .fetch_one(&env.pool)
        .await
        .expect("statistics");
        if analyzed {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(analyzed, "work_items analyzed after the sync");
    let estimate: f32 =
        sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = 'work_items'")
            .fetch_one(&env.pool)
            .await
            .expect("reltuples");
    // The planner's estimate is as close as autovacuum's own rule keeps it: rows added after
    // the last ANALYZE stay below threshold (50) + scale factor (0.1) × the estimate.
    let issues = dataset.issue_count() as f32;
    assert!(
        estimate <= issues && issues - estimate <= 50.0 + 0.1 * estimate,
        "the planner knows the table's size: {estimate} rows estimated for {issues}"
    );
    env.stop().await;
}
