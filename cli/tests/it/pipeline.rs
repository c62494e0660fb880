//! A Jira metadata sync end to end: gRPC → connector → raw pages → transformer → loader.

use std::time::Duration;

use sluice_proto::v1 as pb;
use sluice_simulator::{Dataset, Fault, FaultKind};

use crate::harness::{Options, TestEnv, captured_logs};

const TABLES: [&str; 5] = [
    "projects",
    "wits",
    "projects_wits",
    "statuses",
    "projects_statuses",
];

#[tokio::test]
async fn fixture_sync_lands_every_row_and_a_rerun_changes_nothing() {
    let env = TestEnv::start(Options::default()).await;
    let (integration_id, job_id) = env.create_jira_integration("fixtures").await;

    let test = env
        .integrations()
        .test_connection(env.authed(pb::TestConnectionRequest {
            id: integration_id.clone(),
        }))
        .await
        .expect("test connection")
        .into_inner();
    assert!(test.ok, "{}", test.message);

    let run = env.run_and_wait(&job_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "run failed: {}",
        run.error_message
    );
    assert_eq!(run.progress_percentage, 100.0);
    let counts = run.counts.expect("counts");
    // issue types, one project page, statuses, one project-statuses page per project
    assert_eq!(counts.batches_produced, 5);
    assert_eq!(counts.batches_loaded, 5);
    let served: u64 = env.simulator.request_counts().values().sum::<u64>() - 1; // minus TestConnection's /myself
    assert_eq!(
        counts.api_calls as u64, served,
        "api calls on the run match what the source saw"
    );

    let dataset = Dataset::fixtures();
    assert_eq!(
        env.count("projects", &integration_id).await,
        dataset.project_count()
    );
    assert_eq!(
        env.count("wits", &integration_id).await,
        dataset.issue_type_count()
    );
    assert_eq!(
        env.count("projects_wits", &integration_id).await,
        dataset.project_issue_type_count()
    );
    assert_eq!(
        env.count("statuses", &integration_id).await,
        dataset.status_count()
    );
    assert_eq!(
        env.count("projects_statuses", &integration_id).await,
        dataset.project_status_count()
    );

    let projects = env
        .catalog()
        .list_projects(env.authed(pb::ListProjectsRequest {
            integration_id: integration_id.clone(),
            page: None,
        }))
        .await
        .expect("list projects")
        .into_inner()
        .projects;
    let ex = projects.iter().find(|p| p.key == "EX").expect("project EX");
    assert_eq!(
        (
            ex.external_id.as_str(),
            ex.name.as_str(),
            ex.category_name.as_str()
        ),
        ("10000", "Example", "FIRST")
    );
    let statuses = env
        .catalog()
        .list_statuses(env.authed(pb::ListStatusesRequest {
            integration_id: integration_id.clone(),
            page: Some(pb::PageRequest {
                page_size: 500,
                page_token: String::new(),
            }),
        }))
        .await
        .expect("list statuses")
        .into_inner()
        .statuses;
    let in_progress = statuses
        .iter()
        .find(|s| s.external_id == "10000")
        .expect("status 10000");
    assert_eq!(
        (in_progress.name.as_str(), in_progress.category_key.as_str()),
        ("In Progress", "in-flight")
    );
    let project_statuses = env.table_rows("projects_statuses", &integration_id).await;
    assert!(
        project_statuses
            .iter()
            .any(|r| r["project_external_id"] == "10001"
                && r["wit_external_id"] == "3"
                && r["status_external_id"] == "5"
                && r["status_name"] == "Closed")
    );

    // The statuses page is stored byte for byte as the API sent it.
    let raw_id: i64 = sqlx::query_scalar("SELECT id FROM raw_extraction_data WHERE run_id = $1::uuid AND extraction_type = 'jira.statuses'")
        .bind(&run.id)
        .fetch_one(&env.pool)
        .await
        .expect("raw statuses page");
    let stored = sluice_plumbing::raw::load(&env.pool, Some(env.tenant_id), raw_id)
        .await
        .expect("load raw");
    let direct = reqwest::Client::new()
        .get(format!("{}/rest/api/3/status", env.simulator.base_url()))
        .basic_auth(crate::harness::TEST_EMAIL, Some(&env.api_token))
        .send()
        .await
        .expect("direct request")
        .bytes()
        .await
        .expect("body");
    assert_eq!(stored.body, direct.to_vec());

    // Run again: no duplicates, and not a single byte of any row changes.
    let mut before = Vec::new();
    for table in TABLES {
        before.push(env.table_rows(table, &integration_id).await);
    }
    let second = env.run_and_wait(&job_id).await;
    assert_eq!(
        second.status,
        pb::RunStatus::Completed as i32,
        "{}",
        second.error_message
    );
    for (table, rows) in TABLES.iter().zip(before) {
        assert_eq!(
            env.table_rows(table, &integration_id).await,
            rows,
            "{table} changed on the second run"
        );
    }

    // Credentials never leave: not in responses, raw pages, the integrations row or any log line.
    let secret = env.api_token.clone();
    let got = env
        .integrations()
        .get_integration(env.authed(pb::GetIntegrationRequest {
            id: integration_id.clone(),
        }))
        .await
        .expect("get")
        .into_inner();
    assert!(!format!("{got:?}").contains(&secret));
    assert_eq!(
        got.integration.expect("integration").credentials_kind,
        "basic"
    );
    let listed = env
        .integrations()
        .list_integrations(env.authed(pb::ListIntegrationsRequest::default()))
        .await
        .expect("list")
        .into_inner();
    assert!(!format!("{listed:?}").contains(&secret));
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM raw_extraction_data WHERE integration_id = $1::uuid")
            .bind(&integration_id)
            .fetch_all(&env.pool)
            .await
            .expect("raw ids");
    assert_eq!(ids.len(), 10);
    for id in ids {
        let page = sluice_plumbing::raw::load(&env.pool, None, id)
            .await
            .expect("raw");
        assert!(!String::from_utf8_lossy(&page.body).contains(&secret));
        assert!(!page.request_url.contains(&secret));
    }
    let row: String =
        sqlx::query_scalar("SELECT row_to_json(i)::text FROM integrations i WHERE id = $1::uuid")
            .bind(&integration_id)
            .fetch_one(&env.pool)
            .await
            .expect("integration row");
    assert!(!row.contains(&secret));
    let logs = captured_logs();
    assert!(logs.contains("run completed"), "logs were captured");
    assert!(!logs.contains(&secret), "a log line contains the API token");
    env.stop().await;
}

#[tokio::test]
async fn a_rate_limited_page_is_retried_after_retry_after() {
    let env = TestEnv::start(Options::default()).await;
    let (_, job_id) = env.create_jira_integration("rate-limited").await;
    env.simulator.add_fault(Fault {
        endpoint: "GET /rest/api/3/project/search".into(),
        kind: FaultKind::Status {
            status: 429,
            retry_after_secs: Some(1),
        },
        times: 1,
    });
    let run = env.run_and_wait(&job_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(
        env.simulator
            .request_count("GET /rest/api/3/project/search"),
        2,
        "one 429, one retry"
    );
    assert_eq!(
        run.counts.expect("counts").api_calls,
        6,
        "the retry counts as an API call"
    );
    env.stop().await;
}

#[tokio::test]
async fn persistent_server_errors_fail_the_run_with_status_and_url() {
    let env = TestEnv::start(Options::default()).await;
    let (_, job_id) = env.create_jira_integration("broken").await;
    env.simulator.add_fault(Fault {
        endpoint: "GET /rest/api/3/status".into(),
        kind: FaultKind::Status {
            status: 502,
            retry_after_secs: None,
        },
        times: 100,
    });
    let run = env.run_and_wait(&job_id).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32);
    assert!(
        run.error_message.contains("HTTP 502"),
        "{}",
        run.error_message
    );
    assert!(
        run.error_message.contains("/rest/api/3/status"),
        "{}",
        run.error_message
    );
    assert_eq!(
        env.simulator.request_count("GET /rest/api/3/status"),
        3,
        "bounded attempts"
    );
    let job = env
        .jobs()
        .get_job(env.authed(pb::GetJobRequest { id: job_id }))
        .await
        .expect("job")
        .into_inner();
    assert_eq!(job.job.expect("job").status, pb::JobStatus::Failed as i32);
    env.stop().await;
}

#[tokio::test]
async fn a_malformed_page_is_dead_lettered_and_fails_the_run_alone() {
    let env = TestEnv::start(Options::default()).await;
    let (integration_id, job_id) = env.create_jira_integration("malformed").await;
    env.simulator.add_fault(Fault {
        endpoint: "GET /rest/api/3/status".into(),
        kind: FaultKind::Malformed,
        times: 1,
    });
    let run = env.run_and_wait(&job_id).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32);
    assert!(
        run.error_message.contains("malformed jira.statuses page"),
        "{}",
        run.error_message
    );

    // The message waits in etl.failed with its reason; the operator sees it.
    let topology = sluice_plumbing::amqp::Topology::new(&env.queue_prefix);
    let dead = env.wait_for_dead_letters(1).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    let letter = &dead[0];
    assert_eq!(letter.reason, "untransformable raw page");
    assert_eq!(letter.original_queue, topology.transform());
    assert!(
        letter.error.contains("malformed jira.statuses page"),
        "{letter:?}"
    );
    assert!(
        letter.payload_summary.contains("(jira.statuses)"),
        "{}",
        letter.payload_summary
    );
    assert_eq!(letter.run_id, run.id);

    // The other pages of the run still loaded.
    for _ in 0..100 {
        if env.count("projects_statuses", &integration_id).await
            == Dataset::fixtures().project_status_count()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        env.count("projects", &integration_id).await,
        Dataset::fixtures().project_count()
    );
    assert_eq!(
        env.count("projects_statuses", &integration_id).await,
        Dataset::fixtures().project_status_count()
    );
    assert_eq!(env.count("statuses", &integration_id).await, 0);
    env.stop().await;
}
