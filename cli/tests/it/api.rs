//! What callers get for bad input, missing keys, and other tenants' ids.

use sluice_proto::v1 as pb;
use tonic::Code;

use crate::harness::{Options, TestEnv, with_key};

fn jira_request(base_url: &str) -> pb::CreateIntegrationRequest {
    pb::CreateIntegrationRequest {
        r#type: pb::IntegrationType::Jira as i32,
        name: "site".into(),
        base_url: base_url.into(),
        credentials: Some(pb::Credentials {
            kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
                email: "a@example.com".into(),
                api_token: "t".into(),
            })),
        }),
        settings: None,
    }
}

#[tokio::test]
async fn bad_arguments_are_invalid_argument_naming_the_field() {
    let env = TestEnv::start(Options::default()).await;
    let mut integrations = env.integrations();

    let err = integrations
        .create_integration(env.authed(jira_request("")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("base_url"), "{}", err.message());

    let mut unknown_type = jira_request("https://x.atlassian.net");
    unknown_type.r#type = 0;
    let err = integrations
        .create_integration(env.authed(unknown_type))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("type"), "{}", err.message());

    let mut bad_key = jira_request("https://x.atlassian.net");
    bad_key.settings = Some(pb::IntegrationSettings {
        source: Some(pb::integration_settings::Source::Jira(pb::JiraSettings {
            project_keys: vec!["OK".into(), "x\" OR 1=1".into()],
            ..Default::default()
        })),
    });
    let err = integrations
        .create_integration(env.authed(bad_key))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().starts_with("settings.jira.project_keys[1]"),
        "{}",
        err.message()
    );

    let mut jobs = env.jobs();
    let err = jobs
        .run_job(env.authed(pb::RunJobRequest {
            id: uuid::Uuid::new_v4().to_string(),
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = jobs
        .run_job(env.authed(pb::RunJobRequest {
            id: "not-a-uuid".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("id"), "{}", err.message());

    // Creating the same name twice is refused, not duplicated.
    integrations
        .create_integration(env.authed(jira_request("https://x.atlassian.net")))
        .await
        .expect("first");
    let err = integrations
        .create_integration(env.authed(jira_request("https://x.atlassian.net")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    env.stop().await;
}

#[tokio::test]
async fn callers_need_a_valid_key_and_see_only_their_tenant() {
    let env = TestEnv::start(Options::default()).await;
    let mut integrations = env.integrations();

    let err = integrations
        .list_integrations(tonic::Request::new(pb::ListIntegrationsRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = integrations
        .list_integrations(with_key(
            "sk_sluice_wrong",
            pb::ListIntegrationsRequest::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    let (integration_id, job_id) = env.create_jira_integration("tenant-a").await;
    let run = env.run_and_wait(&job_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );

    let other = sluice_plumbing::auth::bootstrap_tenant(
        &env.pool,
        &format!("tenant-b-{}", uuid::Uuid::new_v4()),
        "test",
    )
    .await
    .expect("tenant b");
    let err = integrations
        .get_integration(with_key(
            &other.key,
            pb::GetIntegrationRequest {
                id: integration_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = env
        .jobs()
        .run_job(with_key(
            &other.key,
            pb::RunJobRequest { id: job_id.clone() },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = env
        .jobs()
        .get_job_run(with_key(
            &other.key,
            pb::GetJobRunRequest { id: run.id.clone() },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let listed = integrations
        .list_integrations(with_key(&other.key, pb::ListIntegrationsRequest::default()))
        .await
        .expect("list")
        .into_inner();
    assert!(listed.integrations.is_empty());
    let projects = env
        .catalog()
        .list_projects(with_key(&other.key, pb::ListProjectsRequest::default()))
        .await
        .expect("projects")
        .into_inner();
    assert!(
        projects.projects.is_empty(),
        "tenant B sees tenant A's projects"
    );
    let own = env
        .catalog()
        .list_projects(env.authed(pb::ListProjectsRequest::default()))
        .await
        .expect("projects")
        .into_inner();
    assert_eq!(own.projects.len(), 2);

    // A second RunJob while running is refused; after the run a paused job cannot run.
    let paused = env
        .jobs()
        .pause_job(env.authed(pb::PauseJobRequest { id: job_id.clone() }))
        .await
        .expect("pause");
    assert_eq!(
        paused.into_inner().job.expect("job").status,
        pb::JobStatus::Paused as i32
    );
    let err = env
        .jobs()
        .run_job(env.authed(pb::RunJobRequest { id: job_id.clone() }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    env.stop().await;
}

#[tokio::test]
async fn wrong_credentials_are_reported_by_test_connection_and_the_run() {
    let env = TestEnv::start(Options::default()).await;
    let response = env
        .integrations()
        .create_integration(env.authed(pb::CreateIntegrationRequest {
            base_url: env.simulator.base_url(),
            ..jira_request("unused")
        }))
        .await
        .expect("create")
        .into_inner();
    let id = response.integration.expect("integration").id;
    let test = env
        .integrations()
        .test_connection(env.authed(pb::TestConnectionRequest { id }))
        .await
        .expect("test connection answers")
        .into_inner();
    assert!(!test.ok);
    assert!(test.message.contains("HTTP 401"), "{}", test.message);
    let run = env.run_and_wait(&response.job_ids[0]).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32);
    assert!(
        run.error_message.contains("HTTP 401") && run.error_message.contains("API token"),
        "{}",
        run.error_message
    );
    env.stop().await;
}
