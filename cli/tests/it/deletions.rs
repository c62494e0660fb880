//! Deletions are decided from durable state and reach the vectorizer at least once: a
//! deleted issue is never a search result, its vectors go even when the publish after the
//! listing's commit failed, and an old listing replayed late deletes nothing created since.

use std::process::Command;
use std::time::Duration;

use sluice_proto::v1 as pb;
use sluice_simulator::{Dataset, IssueSpec};

use crate::harness::{Options, TestEnv, captured_logs};

fn one_project(issues: usize) -> Dataset {
    Dataset::generated(1, 2, 3).with_issues(IssueSpec {
        issues_per_project: issues,
        seed: 5,
        custom_fields: 2,
        mean_histories: 2,
        long_changelog_every: 0,
        dev_status_every: 0,
    })
}

fn rabbitmqctl(args: &[&str]) {
    let output = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("rabbitmqctl is required to inject a broker fault in this test ({e}); deploy/stack.sh installs RabbitMQ"));
    assert!(
        output.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn vectors_of(env: &TestEnv, integration_id: &str, external_id: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM embedded_vectors WHERE tenant_id = $1 AND entity_type = 'work_item' AND entity_id = $2",
    )
    .bind(env.tenant_id)
    .bind(format!("{integration_id}/{external_id}"))
    .fetch_one(&env.pool)
    .await
    .expect("vectors")
}

async fn search_keys(env: &TestEnv, query: &str) -> Vec<String> {
    env.search()
        .search(env.authed(pb::SearchRequest {
            query: query.into(),
            top_k: 5,
            filters: None,
            hybrid: false,
        }))
        .await
        .expect("search")
        .into_inner()
        .results
        .into_iter()
        .map(|r| r.key)
        .collect()
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
async fn a_deleted_issue_leaves_search_even_when_the_publish_after_its_listing_failed() {
    let env = TestEnv::start(Options {
        vectorize: true,
        dataset: one_project(6),
        // Retries slow enough for the broker fault below to outlast a few of them.
        queue_retry_delays: vec![Duration::from_millis(700)],
        queue_max_retries: 30,
        ..Options::default()
    })
    .await;
    env.simulator.set_development_search(false);
    let (integration_id, _) = env.create_jira_integration_with_jobs("deleting").await;
    let job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    completed(&env.run_and_wait(&job).await);
    let (key, external_id, summary): (String, String, String) = sqlx::query_as(
        "SELECT key, external_id, summary FROM work_items WHERE integration_id = $1::uuid ORDER BY key LIMIT 1",
    )
    .bind(&integration_id)
    .fetch_one(&env.pool)
    .await
    .expect("an issue");
    for _ in 0..300 {
        if vectors_of(&env, &integration_id, &external_id).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(search_keys(&env, &summary).await.contains(&key));

    // The issue is deleted in Jira; the broker refuses every publish to etl.vectorization
    // while the next sync's listing is loaded and committed.
    assert!(env.simulator.delete_issue(&key));
    let queue = env.topology.vectorization();
    let policy = format!("refuse-{}", env.queue_prefix.trim_end_matches('.'));
    rabbitmqctl(&[
        "set_policy",
        "--apply-to",
        "queues",
        &policy,
        &format!("^{}$", queue.replace('.', "\\.")),
        r#"{"max-length":0,"overflow":"reject-publish"}"#,
    ]);
    let run = env.run_and_wait(&job).await;
    let deleted: bool = sqlx::query_scalar(
        "SELECT deleted_at IS NOT NULL FROM work_items WHERE integration_id = $1::uuid AND key = $2",
    )
    .bind(&integration_id)
    .bind(&key)
    .fetch_one(&env.pool)
    .await
    .expect("row");
    assert!(deleted, "the listing's deletion is committed");
    // The fault took: the loader's publishes were refused and its messages wait to retry.
    let mut refused = false;
    for _ in 0..100 {
        refused = captured_logs().lines().any(|line| {
            line.contains(&env.queue_prefix) && line.contains("queueing vectorization")
        });
        if refused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "the broker refused the vectorize publish");
    // The vectorizer has not heard of it yet, but search never returns a deleted item.
    assert!(vectors_of(&env, &integration_id, &external_id).await > 0);
    assert!(
        !search_keys(&env, &summary).await.contains(&key),
        "a deleted issue is not a search result"
    );
    rabbitmqctl(&["clear_policy", &policy]);
    completed(&run);
    // Redelivered, the listing page sends the deletion it recorded: the vectors go.
    for _ in 0..300 {
        if vectors_of(&env, &integration_id, &external_id).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        vectors_of(&env, &integration_id, &external_id).await,
        0,
        "the deleted issue's vectors are removed once the broker accepts again"
    );
    env.stop().await;
}

#[tokio::test]
async fn an_old_listing_replayed_late_deletes_nothing_created_since() {
    let env = TestEnv::start(Options {
        dataset: one_project(10),
        ..Options::default()
    })
    .await;
    env.simulator.set_development_search(false);
    // Two issues do not exist yet.
    assert!(env.simulator.delete_issue("P0001-9"));
    assert!(env.simulator.delete_issue("P0001-10"));
    let (integration_id, _) = env.create_jira_integration_with_jobs("replay").await;
    let job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    completed(&env.run_and_wait(&job).await);
    // The second run lists the project's keys (it has rows now): the listing to replay.
    let second = env.run_and_wait(&job).await;
    completed(&second);
    let (listing_raw_id, listing_context): (i64, serde_json::Value) = sqlx::query_as(
        "SELECT id, request_context FROM raw_extraction_data
         WHERE run_id = $1::uuid AND extraction_type = 'jira.issue_keys'",
    )
    .bind(&second.id)
    .fetch_one(&env.pool)
    .await
    .expect("the second run's single-page key listing");
    assert_eq!(listing_context["last"], true);

    // Then the two issues are created, and the next sync lands them.
    assert!(env.simulator.restore_issue("P0001-9"));
    assert!(env.simulator.restore_issue("P0001-10"));
    completed(&env.run_and_wait(&job).await);
    assert_eq!(live_keys(&env, &integration_id).await, 10);

    // The old listing comes back (a retry tier, RequeueDeadLetters).
    let (_connection, publisher) = env.publisher().await;
    publisher
        .publish(
            &env.topology.transform(),
            &pb::RawBatchRef {
                run: Some(pb::RunContext {
                    tenant_id: env.tenant_id.to_string(),
                    integration_id: integration_id.clone(),
                    job_id: job.clone(),
                    run_id: second.id.clone(),
                    trace: None,
                }),
                raw_id: listing_raw_id,
                extraction_type: "jira.issue_keys".into(),
                step: 3,
                grouped_raw_ids: vec![],
                record_indexes: vec![],
            },
        )
        .await
        .expect("replay");
    let listing_id = listing_context["listing_id"].as_str().expect("listing id");
    let mut replayed = false;
    for _ in 0..200 {
        replayed = captured_logs()
            .lines()
            .any(|line| line.contains("key listing already applied") && line.contains(listing_id));
        if replayed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(replayed, "the replayed listing reached the loader");
    assert_eq!(
        live_keys(&env, &integration_id).await,
        10,
        "the issues created after the old listing stay live"
    );
    env.stop().await;
}

async fn live_keys(env: &TestEnv, integration_id: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM work_items WHERE integration_id = $1::uuid AND deleted_at IS NULL",
    )
    .bind(integration_id)
    .fetch_one(&env.pool)
    .await
    .expect("count")
}
