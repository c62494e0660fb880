//! Incremental syncs never skip a change: each project keeps its own cursor, and the JQL
//! bound is an instant whatever time zone the Jira account's profile is in.

use std::time::Duration;

use sluice_proto::v1 as pb;
use sluice_simulator::{Dataset, Fault, FaultKind, IssueSpec};

use crate::harness::{Options, TestEnv};

fn two_projects() -> Dataset {
    Dataset::generated(2, 3, 4).with_issues(IssueSpec {
        issues_per_project: 20,
        seed: 11,
        custom_fields: 4,
        mean_histories: 3,
        long_changelog_every: 0,
        dev_status_every: 0,
    })
}

/// `updated` of an issue as loaded, in epoch milliseconds.
async fn loaded_updated(env: &TestEnv, integration_id: &str, key: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT (extract(epoch FROM updated) * 1000)::bigint FROM work_items
         WHERE integration_id = $1::uuid AND key = $2",
    )
    .bind(integration_id)
    .bind(key)
    .fetch_one(&env.pool)
    .await
    .expect("work item")
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn completed(run: &pb::JobRun) {
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
}

#[tokio::test]
async fn a_change_in_an_early_project_is_not_skipped_when_a_later_project_brings_newer_times() {
    let env = TestEnv::start(Options {
        dataset: two_projects(),
        // Projects one after the other, so the first is done before the second is asked.
        issue_fetch: sluice_connectors::IssueFetch {
            project_concurrency: 1,
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    env.simulator.set_development_search(false);
    let (integration_id, _) = env.create_jira_integration_with_jobs("cursors").await;
    let job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    completed(&env.run_and_wait(&job).await);

    // The second run: P0002's incremental search is held back 2 s. Meanwhile, after P0001 was
    // fetched, one of its issues changes, and a P0002 issue is updated 10 minutes later.
    env.simulator.add_fault(Fault {
        endpoint: "GET /rest/api/3/search/jql?%22P0002%22+AND+updated".into(),
        kind: FaultKind::Latency { millis: 2000 },
        times: 1,
    });
    env.simulator.reset_counts();
    let run = env
        .jobs()
        .run_job(env.authed(pb::RunJobRequest { id: job.clone() }))
        .await
        .expect("run job")
        .into_inner()
        .run
        .expect("run");
    // P0001's search and key listing, then P0002's search, held (projects one at a time).
    for _ in 0..1000 {
        if env.simulator.armed_faults() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(env.simulator.armed_faults(), 0, "P0002's search is held");
    let bumped_at = now_ms();
    assert!(env.simulator.set_updated("P0001-3", bumped_at));
    assert!(
        env.simulator
            .set_updated("P0002-5", bumped_at + 10 * 60 * 1000)
    );
    completed(&env.wait_for_run(&run.id).await);
    assert!(
        loaded_updated(&env, &integration_id, "P0001-3").await < bumped_at,
        "P0001 was fetched before its issue changed"
    );
    assert_eq!(
        loaded_updated(&env, &integration_id, "P0002-5").await,
        bumped_at + 10 * 60 * 1000
    );

    // The next incremental run starts P0001 from P0001's own cursor and lands the change.
    completed(&env.run_and_wait(&job).await);
    assert_eq!(
        loaded_updated(&env, &integration_id, "P0001-3").await,
        bumped_at,
        "the change made in P0001 during the previous run is landed"
    );
    let cursors: Vec<(String, i64)> = sqlx::query_as(
        "SELECT scope, (extract(epoch FROM cursor) * 1000)::bigint FROM sync_cursors
         WHERE job_id = $1::uuid ORDER BY scope",
    )
    .bind(&job)
    .fetch_all(&env.pool)
    .await
    .expect("cursors");
    assert_eq!(
        cursors,
        vec![
            ("jira.project:P0001".to_string(), bumped_at),
            ("jira.project:P0002".to_string(), bumped_at + 10 * 60 * 1000),
        ],
        "each project's cursor is the newest update it committed"
    );
    env.stop().await;
}

#[tokio::test]
async fn the_incremental_bound_is_an_instant_whatever_the_accounts_time_zone() {
    let env = TestEnv::start(Options {
        dataset: two_projects(),
        ..Options::default()
    })
    .await;
    env.simulator.set_development_search(false);
    let (integration_id, _) = env.create_jira_integration_with_jobs("zones").await;
    let job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    completed(&env.run_and_wait(&job).await);
    // Jira reads JQL dates written as text in the searching account's profile zone.
    for (zone, offset_minutes, key) in [
        ("Etc/GMT+8", -8 * 60, "P0001-7"),
        ("Etc/GMT-10", 10 * 60, "P0002-8"),
    ] {
        env.simulator.set_user_time_zone(zone, offset_minutes);
        let scope = format!("jira.project:{}", &key[..5]);
        let cursor: i64 = sqlx::query_scalar(
            "SELECT (extract(epoch FROM cursor) * 1000)::bigint FROM sync_cursors
             WHERE job_id = $1::uuid AND scope = $2",
        )
        .bind(&job)
        .bind(&scope)
        .fetch_one(&env.pool)
        .await
        .expect("cursor");
        // A minute after the project's cursor: within the hours a bound read in the wrong
        // zone would be off by.
        let at = cursor + 60_000;
        assert!(env.simulator.set_updated(key, at));
        completed(&env.run_and_wait(&job).await);
        assert_eq!(
            loaded_updated(&env, &integration_id, key).await,
            at,
            "{key}'s update is fetched with the account in {zone}"
        );
    }
    env.stop().await;
}
