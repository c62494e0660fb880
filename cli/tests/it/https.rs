//! Jira over HTTPS behind a private (corporate) CA: synced when the connectors trust the CA
//! (`SLUICE_HTTP_EXTRA_CA_FILE`), and the cause named when they do not.

use sluice_proto::v1 as pb;
use sluice_simulator::{Dataset, PrivateCa, SimAuth, Simulator, SimulatorConfig};

use crate::harness::{Options, TEST_EMAIL, TestEnv};

#[tokio::test]
async fn a_site_behind_a_private_ca_syncs_when_trusted_and_names_the_cause_when_not() {
    let dataset = Dataset::generated(2, 3, 4);
    let env = TestEnv::start(Options {
        dataset: dataset.clone(),
        https: Some(PrivateCa::generate().expect("a private CA")),
        ..Options::default()
    })
    .await;
    assert!(env.simulator.base_url().starts_with("https://"));
    let (integration_id, job) = env.create_jira_integration("private-ca").await;
    let run = env.run_and_wait(&job).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(
        env.count("work_items", &integration_id).await,
        dataset.issue_count()
    );

    // A site whose certificate another CA signed: the connectors do not trust it.
    let stranger = Simulator::start_tls(
        SimulatorConfig {
            dataset: Dataset::fixtures(),
            auth: SimAuth::Basic {
                email: TEST_EMAIL.into(),
                api_token: env.api_token.clone(),
            },
            max_page_size: sluice_simulator::DEFAULT_MAX_PAGE_SIZE,
        },
        tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind"),
        &PrivateCa::generate().expect("another CA"),
    )
    .await
    .expect("simulator");
    let (id, jobs) = env
        .create_jira_integration_at("unknown-ca", &stranger.base_url())
        .await;
    let test = env
        .integrations()
        .test_connection(env.authed(pb::TestConnectionRequest { id }))
        .await
        .expect("test connection answers")
        .into_inner();
    assert!(!test.ok);
    assert!(
        test.message.contains("CA this host does not trust")
            && test.message.contains("SLUICE_HTTP_EXTRA_CA_FILE"),
        "{}",
        test.message
    );
    let run = env.run_and_wait(&jobs[0]).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32);
    assert!(
        run.error_message.contains("CA this host does not trust"),
        "{}",
        run.error_message
    );
    stranger.shutdown();
    env.stop().await;
}
