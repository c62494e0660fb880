//! Internal services trust no caller: ProgressService and ConnectorService answer only the
//! deployment's own services (the internal token), never an API key; a tenant's queue health
//! shows its own backlog, not the broker's.

use sluice_proto::v1 as pb;
use sluice_proto::v1::connector_service_client::ConnectorServiceClient;
use sluice_proto::v1::progress_service_client::ProgressServiceClient;
use sluice_simulator::{Fault, FaultKind};
use tonic::Code;
use tonic::transport::Channel;

use crate::harness::{Options, TestEnv, with_key};

fn channel(addr: std::net::SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("url")
        .connect_lazy()
}

#[tokio::test]
async fn internal_rpcs_refuse_callers_without_the_internal_token() {
    let env = TestEnv::start(Options::default()).await;
    // Tenant B: the test's tenant, with an integration and a running run.
    let (integration_b, job_b) = env.create_jira_integration("victim").await;
    env.simulator.add_fault(Fault {
        endpoint: "GET /rest/api/3/project/search".into(),
        kind: FaultKind::Latency { millis: 1500 },
        times: 1,
    });
    let run_b = env
        .jobs()
        .run_job(env.authed(pb::RunJobRequest { id: job_b.clone() }))
        .await
        .expect("run")
        .into_inner()
        .run
        .expect("run");
    // Tenant A: another tenant's valid API key.
    let a = sluice_plumbing::auth::bootstrap_tenant(
        &env.pool,
        &format!("attacker-{}", uuid::Uuid::new_v4()),
        "a",
    )
    .await
    .expect("tenant a");
    let forged = pb::ReportProgressRequest {
        run: Some(pb::RunContext {
            tenant_id: env.tenant_id.to_string(),
            integration_id: integration_b.clone(),
            job_id: job_b.clone(),
            run_id: run_b.id.clone(),
            trace: None,
        }),
        stage: pb::Stage::Extract as i32,
        error: "forged failure".into(),
        fatal: true,
        ..Default::default()
    };
    let mut progress = ProgressServiceClient::new(channel(env.cluster.orchestrator_internal_addr));
    let bare = progress
        .report_progress(forged.clone())
        .await
        .expect_err("no credentials");
    assert_eq!(bare.code(), Code::Unauthenticated, "{bare:?}");
    let with_api_key = progress
        .report_progress(with_key(&a.key, forged.clone()))
        .await
        .expect_err("an API key is not an internal credential");
    assert_eq!(
        with_api_key.code(),
        Code::Unauthenticated,
        "{with_api_key:?}"
    );
    // Not on the public port at all.
    let public = ProgressServiceClient::new(channel(env.cluster.orchestrator_addr))
        .report_progress(with_key(&a.key, forged))
        .await
        .expect_err("not served publicly");
    assert_eq!(public.code(), Code::Unimplemented, "{public:?}");

    let mut connectors = ConnectorServiceClient::new(channel(env.cluster.connectors_addr));
    let probe = pb::ConnectorTestConnectionRequest {
        tenant_id: env.tenant_id.to_string(),
        integration_id: integration_b.clone(),
    };
    let bare = connectors
        .test_connection(probe.clone())
        .await
        .expect_err("no credentials");
    assert_eq!(bare.code(), Code::Unauthenticated, "{bare:?}");
    let with_api_key = connectors
        .test_connection(with_key(&a.key, probe))
        .await
        .expect_err("an API key is not an internal credential");
    assert_eq!(
        with_api_key.code(),
        Code::Unauthenticated,
        "{with_api_key:?}"
    );
    assert!(
        !with_api_key.message().contains("authenticated as"),
        "nothing of the source account is revealed"
    );

    // The forged reports changed nothing: the run completes.
    let finished = env.wait_for_run(&run_b.id).await;
    assert_eq!(
        finished.status,
        pb::RunStatus::Completed as i32,
        "{}",
        finished.error_message
    );
    assert!(!finished.error_message.contains("forged"));
    env.stop().await;
}

#[tokio::test]
async fn a_tenants_queue_health_shows_its_own_backlog_and_nothing_of_the_broker() {
    let env = TestEnv::start(Options::default()).await;
    // Tenant A (the test's tenant) has a run in progress.
    let (_, job_a) = env.create_jira_integration("busy").await;
    env.simulator.add_fault(Fault {
        endpoint: "GET /rest/api/3/status".into(),
        kind: FaultKind::Latency { millis: 2000 },
        times: 1,
    });
    let run_a = env
        .jobs()
        .run_job(env.authed(pb::RunJobRequest { id: job_a }))
        .await
        .expect("run")
        .into_inner()
        .run
        .expect("run");
    // Tenant B, and an admin key of tenant A.
    let b = sluice_plumbing::auth::bootstrap_tenant(
        &env.pool,
        &format!("neighbour-{}", uuid::Uuid::new_v4()),
        "b",
    )
    .await
    .expect("tenant b");
    let admin =
        sluice_plumbing::auth::issue_key(&env.pool, &sluice_tenant_name(&env).await, "ops", true)
            .await
            .expect("admin key");
    // Wait until A's first pages are stored (step 1 done, step 2 held by the latency).
    for _ in 0..100 {
        let pages: i64 =
            sqlx::query_scalar("SELECT count(*) FROM run_batches WHERE run_id = $1::uuid")
                .bind(&run_a.id)
                .fetch_one(&env.pool)
                .await
                .expect("pages");
        if pages > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let seen_by_b = env
        .queues()
        .get_queue_health(with_key(&b.key, pb::GetQueueHealthRequest {}))
        .await
        .expect("B's queue health")
        .into_inner();
    assert!(!seen_by_b.broker_wide);
    assert!(!seen_by_b.queues.is_empty());
    for queue in &seen_by_b.queues {
        assert!(
            queue.depth <= 0 && queue.dead_letters == 0,
            "B sees nothing of A's run: {queue:?}"
        );
        assert_eq!(
            (queue.consumers, queue.unacked),
            (-1, -1),
            "broker-wide figures are not shown to a tenant key: {queue:?}"
        );
    }
    let seen_by_admin = env
        .queues()
        .get_queue_health(with_key(&admin.key, pb::GetQueueHealthRequest {}))
        .await
        .expect("admin queue health")
        .into_inner();
    assert!(seen_by_admin.broker_wide);
    let transform = seen_by_admin
        .queues
        .iter()
        .find(|q| q.name.ends_with("etl.transform"))
        .expect("etl.transform");
    assert!(
        transform.consumers >= 1,
        "the broker's figures: {transform:?}"
    );
    let finished = env.wait_for_run(&run_a.id).await;
    assert_eq!(finished.status, pb::RunStatus::Completed as i32);
    env.stop().await;
}

async fn sluice_tenant_name(env: &TestEnv) -> String {
    sqlx::query_scalar("SELECT name FROM tenants WHERE id = $1")
        .bind(env.tenant_id)
        .fetch_one(&env.pool)
        .await
        .expect("tenant name")
}
