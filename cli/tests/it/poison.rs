//! What cannot be loaded never strands a run: text PostgreSQL rejects is cleaned in the rows
//! (kept in raw), a batch the database refuses fails its run at once with the reason, a
//! handler panic dead-letters its message and the consumer goes on, and one record that
//! cannot be transformed is quarantined while the rest of its page lands.

use std::time::Duration;

use serde_json::json;
use sluice_plumbing::amqp::{ConsumerSettings, Outcome};
use sluice_proto::v1 as pb;
use sluice_simulator::{Dataset, IssueSpec};

use crate::harness::{Options, TestEnv};

fn small_project() -> Dataset {
    Dataset::generated(1, 2, 3).with_issues(IssueSpec {
        issues_per_project: 6,
        seed: 21,
        custom_fields: 4,
        mean_histories: 2,
        long_changelog_every: 0,
        dev_status_every: 0,
    })
}

async fn work_item(env: &TestEnv, integration_id: &str, key: &str) -> serde_json::Value {
    sqlx::query_scalar(
        "SELECT to_jsonb(w) FROM work_items w WHERE integration_id = $1::uuid AND key = $2",
    )
    .bind(integration_id)
    .bind(key)
    .fetch_one(&env.pool)
    .await
    .expect("work item")
}

#[tokio::test]
async fn text_with_nul_characters_lands_cleaned_and_the_run_completes() {
    let dataset = small_project();
    let text_field = dataset
        .custom_fields()
        .into_iter()
        .find(|f| {
            f["schema"]["type"] == "string"
                && f["schema"]["custom"]
                    .as_str()
                    .is_some_and(|c| c.ends_with(":textfield"))
        })
        .expect("a text custom field")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let env = TestEnv::start(Options {
        dataset,
        ..Options::default()
    })
    .await;
    env.simulator.set_development_search(false);
    let (integration_id, _) = env.create_jira_integration_with_jobs("nul").await;
    env.custom_fields()
        .set_field_mapping(env.authed(pb::SetFieldMappingRequest {
            mapping: Some(pb::FieldMapping {
                integration_id: integration_id.clone(),
                project_key: String::new(),
                entries: vec![pb::FieldMappingEntry {
                    field_id: text_field.clone(),
                    column: 1,
                }],
            }),
            force: true,
        }))
        .await
        .expect("mapping");
    // Jira accepts U+0000 in text; PostgreSQL's text and jsonb do not.
    assert!(
        env.simulator
            .set_issue_field("P0001-2", "summary", json!("Before\u{0}after"))
    );
    assert!(
        env.simulator
            .set_issue_field("P0001-2", &text_field, json!("nul\u{0}inside"))
    );
    let job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    let run = env.run_and_wait(&job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    let row = work_item(&env, &integration_id, "P0001-2").await;
    assert_eq!(row["summary"], "Beforeafter");
    assert_eq!(row["custom_field_01"], "nulinside");
    assert_eq!(
        env.count("work_items", &integration_id).await,
        6,
        "the other issues of the page land too"
    );
    // The raw page keeps the text exactly as Jira sent it.
    let raw_ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM raw_extraction_data WHERE run_id = $1::uuid AND extraction_type = 'jira.issues'",
    )
    .bind(&run.id)
    .fetch_all(&env.pool)
    .await
    .expect("pages");
    let mut kept = false;
    for id in raw_ids {
        let page = sluice_plumbing::raw::load(&env.pool, Some(env.tenant_id), id)
            .await
            .expect("raw page");
        kept |= page.body.windows(6).any(|w| w == b"\\u0000");
    }
    assert!(kept, "the NUL escape is kept in the raw page");
    env.stop().await;
}

#[tokio::test]
async fn a_batch_the_database_refuses_fails_its_run_at_once_naming_the_error() {
    let env = TestEnv::start(Options {
        dataset: small_project(),
        // Long retry delays: a permanent error must not wait for them.
        queue_retry_delays: vec![Duration::from_secs(60)],
        ..Options::default()
    })
    .await;
    env.simulator.set_development_search(false);
    let (integration_id, _) = env.create_jira_integration_with_jobs("refused").await;
    let trigger = format!("refuse_{}", env.tenant_id.simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'forced by the test: work items refused' USING ERRCODE = 'check_violation'; END $$;
         CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE ON work_items FOR EACH ROW
         WHEN (NEW.tenant_id = '{}') EXECUTE FUNCTION {trigger}();",
        env.tenant_id
    )))
    .execute(&env.pool)
    .await
    .expect("refusing trigger");
    let job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    let run = env.run_and_wait(&job).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP TRIGGER {trigger} ON work_items; DROP FUNCTION {trigger}();"
    )))
    .execute(&env.pool)
    .await
    .expect("drop trigger");
    assert_eq!(run.status, pb::RunStatus::Failed as i32);
    assert!(
        run.error_message
            .contains("forced by the test: work items refused")
            && run.error_message.contains("raw page")
            && run.error_message.contains("jira.issues"),
        "the run names the database error and the page: {}",
        run.error_message
    );
    let letters = env.wait_for_dead_letters(1).await;
    assert_eq!(letters[0].reason, "load refused by the database");
    assert_eq!(letters[0].retry_count, 0, "not retried: it cannot pass");
    env.stop().await;
}

#[tokio::test]
async fn a_handler_panic_dead_letters_its_message_and_the_consumer_goes_on() {
    let amqp_url = crate::harness::amqp_url();
    let topology =
        sluice_plumbing::amqp::Topology::new(&format!("test-{}.", uuid::Uuid::new_v4().simple()))
            .with_retries(vec![Duration::from_millis(100)], 3);
    let connection = sluice_plumbing::amqp::connect(&amqp_url, Duration::from_secs(5))
        .await
        .expect("RabbitMQ is required for this test; deploy/test.sh starts it");
    let channel = connection.create_channel().await.expect("channel");
    topology.declare(&channel).await.expect("topology");
    let publisher = sluice_plumbing::amqp::Publisher::open(&connection, topology.clone())
        .await
        .expect("publisher");
    for data in [b"poison".as_slice(), b"fine"] {
        publisher
            .publish_bytes(&topology.transform(), data, Default::default())
            .await
            .expect("publish");
    }
    let (handled_tx, mut handled) = tokio::sync::mpsc::unbounded_channel();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let consumer = tokio::spawn(sluice_plumbing::amqp::consume(
        ConsumerSettings {
            amqp_url: amqp_url.clone(),
            topology: topology.clone(),
            queue: topology.transform(),
            prefetch: 1,
            connect_timeout: Duration::from_secs(5),
            delayed_retries: true,
        },
        move |message, _publisher| {
            let handled_tx = handled_tx.clone();
            async move {
                if message.data == b"poison" {
                    panic!("boom: this message always panics");
                }
                let _ = handled_tx.send(message.data);
                Outcome::Ack
            }
        },
        shutdown.clone(),
    ));
    let next = tokio::time::timeout(Duration::from_secs(10), handled.recv())
        .await
        .expect("the message after the panic is handled")
        .expect("handled");
    assert_eq!(next, b"fine");
    // The panicking message is in etl.failed, with the panic's text.
    let mut letter = None;
    for _ in 0..100 {
        letter = channel
            .basic_get(
                topology.failed().as_str().into(),
                lapin::options::BasicGetOptions { no_ack: true },
            )
            .await
            .expect("basic_get");
        if letter.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let letter = letter.expect("a dead letter");
    let headers = letter.delivery.properties.headers().clone();
    assert_eq!(letter.delivery.data, b"poison");
    assert_eq!(
        sluice_plumbing::amqp::header_str(headers.as_ref(), sluice_plumbing::amqp::HEADER_REASON)
            .as_deref(),
        Some("handler panicked")
    );
    assert!(
        sluice_plumbing::amqp::header_str(headers.as_ref(), sluice_plumbing::amqp::HEADER_ERROR)
            .is_some_and(|e| e.contains("boom: this message always panics"))
    );
    assert!(!consumer.is_finished(), "the consumer is still running");
    shutdown.cancel();
    let _ = consumer.await;
    let _ = topology.remove(&channel).await;
}

#[tokio::test]
async fn an_unreadable_record_is_quarantined_and_the_rest_of_its_page_lands() {
    let env = TestEnv::start(Options {
        dataset: small_project(),
        ..Options::default()
    })
    .await;
    env.simulator.set_development_search(false);
    let (integration_id, _) = env.create_jira_integration_with_jobs("quarantine").await;
    // One issue's times are not times: it cannot be placed in time, so it cannot load.
    for field in ["updated", "created"] {
        assert!(
            env.simulator
                .set_issue_field("P0001-3", field, json!("the day after tomorrow"))
        );
    }
    let job = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    let run = env.run_and_wait(&job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(run.counts.as_ref().expect("counts").records_quarantined, 1);
    assert!(
        run.warning.starts_with("1 record quarantined"),
        "{}",
        run.warning
    );
    assert_eq!(env.count("work_items", &integration_id).await, 5);
    let letters = env.wait_for_dead_letters(1).await;
    assert_eq!(letters[0].reason, "quarantined record");
    assert!(letters[0].error.contains("P0001-3"), "{:?}", letters[0]);
    assert_eq!(letters[0].run_id, run.id);
    // The cursor moved past what landed.
    let cursor: Option<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar(
        "SELECT cursor FROM sync_cursors WHERE job_id = $1::uuid AND scope = 'jira.project:P0001'",
    )
    .bind(&job)
    .fetch_optional(&env.pool)
    .await
    .expect("cursor");
    assert!(cursor.is_some(), "the project's cursor advanced");
    // Requeued, the record is transformed alone again (from the stored page, still broken):
    // quarantined again, its completed run untouched.
    let requeued = env
        .queues()
        .requeue_dead_letters(env.authed(pb::RequeueDeadLettersRequest { ids: vec![] }))
        .await
        .expect("requeue")
        .into_inner()
        .requeued;
    assert_eq!(requeued, 1);
    let again = env.wait_for_dead_letters(1).await;
    assert_eq!(again[0].reason, "quarantined record");
    let after = env.wait_for_run(&run.id).await;
    assert_eq!(after.status, pb::RunStatus::Completed as i32);
    env.stop().await;
}

#[tokio::test]
async fn a_message_retried_until_it_dead_letters_is_counted_in_the_metrics() {
    let amqp_url = crate::harness::amqp_url();
    let topology =
        sluice_plumbing::amqp::Topology::new(&format!("test-{}.", uuid::Uuid::new_v4().simple()))
            .with_retries(vec![Duration::from_millis(50)], 2);
    let connection = sluice_plumbing::amqp::connect(&amqp_url, Duration::from_secs(5))
        .await
        .expect("RabbitMQ is required for this test; deploy/test.sh starts it");
    let channel = connection.create_channel().await.expect("channel");
    topology.declare(&channel).await.expect("topology");
    let publisher = sluice_plumbing::amqp::Publisher::open(&connection, topology.clone())
        .await
        .expect("publisher");
    let queue = topology.transform();
    for data in [b"never".as_slice(), b"fine"] {
        publisher
            .publish_bytes(&queue, data, Default::default())
            .await
            .expect("publish");
    }
    let shutdown = tokio_util::sync::CancellationToken::new();
    let consumer = tokio::spawn(sluice_plumbing::amqp::consume(
        ConsumerSettings {
            amqp_url: amqp_url.clone(),
            topology: topology.clone(),
            queue: queue.clone(),
            prefetch: 1,
            connect_timeout: Duration::from_secs(5),
            delayed_retries: true,
        },
        |message, _publisher| async move {
            if message.data == b"never" {
                Outcome::Retry {
                    error: "the database is away".into(),
                }
            } else {
                Outcome::Ack
            }
        },
        shutdown.clone(),
    ));
    // The queue's own series (its name is this test's alone): 1 acknowledged, 2 retries,
    // then the dead letter; 4 deliveries in all.
    let metrics = sluice_plumbing::metrics::get();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while metrics.messages_dead_lettered.get(&[&queue]) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the message was never dead-lettered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(metrics.messages_dead_lettered.get(&[&queue]), 1);
    assert_eq!(metrics.messages_retried.get(&[&queue]), 2);
    assert_eq!(metrics.messages_acked.get(&[&queue]), 1);
    assert_eq!(metrics.messages_consumed.get(&[&queue]), 4);
    let exposed = metrics.render();
    assert!(
        exposed.contains(&format!(
            "sluice_messages_dead_lettered_total{{queue=\"{queue}\"}} 1"
        )),
        "{exposed}"
    );
    shutdown.cancel();
    let _ = consumer.await;
    let _ = topology.remove(&channel).await;
}
