//! Source credentials go only to the origin they were given for: moving an integration needs
//! them again, paging links to other origins are not followed, URLs with user info are
//! refused.

use std::sync::{Arc, Mutex};

use sluice_proto::v1 as pb;
use sluice_simulator::GithubDataset;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

use crate::github::{TOKEN, github_integration, github_simulator, spec};
use crate::harness::{Options, TEST_EMAIL, TestEnv};

/// A plain HTTP listener that records the head of every request it receives and answers
/// `{}`: a stand-in for a host that should never see a credential.
struct Listener {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Listener {
    async fn start() -> Listener {
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", socket.local_addr().expect("addr"));
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = socket.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    seen.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&head).to_lowercase());
                    let _ = stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                        .await;
                });
            }
        });
        Listener { url, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    fn saw_authorization(&self) -> bool {
        self.heads()
            .iter()
            .any(|h| h.contains("\r\nauthorization:"))
    }
}

fn basic(token: &str) -> pb::Credentials {
    pb::Credentials {
        kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
            email: TEST_EMAIL.into(),
            api_token: token.into(),
        })),
    }
}

#[tokio::test]
async fn moving_an_integration_to_another_host_needs_its_credentials_again() {
    let env = TestEnv::start(Options::default()).await;
    let listener = Listener::start().await;
    let (integration_id, job_id) = env.create_jira_integration("moving").await;

    // Through the API: refused, naming the field, and nothing changes.
    let refused = env
        .integrations()
        .update_integration(env.authed(pb::UpdateIntegrationRequest {
            id: integration_id.clone(),
            base_url: Some(listener.url.clone()),
            ..Default::default()
        }))
        .await
        .expect_err("a new origin without credentials");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused
            .message()
            .starts_with("credentials: are required when base_url moves"),
        "{}",
        refused.message()
    );
    let kept = env
        .integrations()
        .get_integration(env.authed(pb::GetIntegrationRequest {
            id: integration_id.clone(),
        }))
        .await
        .expect("get")
        .into_inner()
        .integration
        .expect("integration");
    assert_eq!(kept.base_url, env.simulator.base_url());

    // Behind the API's back (a restored backup, a hand edit): the connectors still refuse
    // to send the stored token anywhere but where it was given for.
    sqlx::query("UPDATE integrations SET base_url = $2 WHERE id = $1::uuid")
        .bind(&integration_id)
        .bind(&listener.url)
        .execute(&env.pool)
        .await
        .expect("tamper");
    let tested = env
        .integrations()
        .test_connection(env.authed(pb::TestConnectionRequest {
            id: integration_id.clone(),
        }))
        .await
        .map(|r| r.into_inner());
    match tested {
        Ok(answer) => assert!(!answer.ok, "{answer:?}"),
        Err(status) => assert!(
            status.message().contains("credentials were given for"),
            "{status:?}"
        ),
    }
    let run = env.run_and_wait(&job_id).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32);
    assert!(
        run.error_message.contains("credentials were given for")
            && run.error_message.contains("set them again"),
        "{}",
        run.error_message
    );
    assert!(
        listener.heads().is_empty(),
        "the other host received nothing: {:?}",
        listener.heads()
    );

    // With credentials for the new origin the move is accepted, and only those are sent.
    env.integrations()
        .update_integration(env.authed(pb::UpdateIntegrationRequest {
            id: integration_id.clone(),
            base_url: Some(listener.url.clone()),
            credentials: Some(basic("token-for-the-new-host")),
            ..Default::default()
        }))
        .await
        .expect("moved with new credentials");
    let _ = env
        .integrations()
        .test_connection(env.authed(pb::TestConnectionRequest {
            id: integration_id.clone(),
        }))
        .await;
    let heads = listener.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    use base64::Engine;
    let old = base64::engine::general_purpose::STANDARD
        .encode(format!("{TEST_EMAIL}:{}", env.api_token))
        .to_lowercase();
    let new = base64::engine::general_purpose::STANDARD
        .encode(format!("{TEST_EMAIL}:token-for-the-new-host"))
        .to_lowercase();
    assert!(heads[0].contains(&new), "{heads:?}");
    assert!(
        !heads[0].contains(&old),
        "the old token never reaches the new host"
    );
    env.stop().await;
}

#[tokio::test]
async fn base_urls_with_user_info_or_plain_http_to_other_hosts_are_refused() {
    let env = TestEnv::start(Options::default()).await;
    for (base_url, expected) in [
        (
            "https://me:hunter2@acme.atlassian.net",
            "base_url: must not contain a user name or password",
        ),
        (
            "https://me:pa@ss@acme.atlassian.net",
            "base_url: must not contain a user name or password",
        ),
        (
            "http://jira.example.com",
            "base_url: \"http://jira.example.com\" must be an https:// URL",
        ),
        (
            "https://169.254.169.254/latest",
            "base_url: 169.254.169.254 is a link-local",
        ),
    ] {
        let refused = env
            .integrations()
            .create_integration(env.authed(pb::CreateIntegrationRequest {
                r#type: pb::IntegrationType::Jira as i32,
                name: format!("bad-{}", uuid::Uuid::new_v4()),
                base_url: base_url.into(),
                credentials: Some(basic("t")),
                settings: None,
            }))
            .await
            .expect_err(base_url);
        assert_eq!(refused.code(), Code::InvalidArgument, "{base_url}");
        assert!(
            refused.message().starts_with(expected),
            "{base_url}: {}",
            refused.message()
        );
        assert!(
            !refused.message().contains("hunter2") && !refused.message().contains("pa@ss"),
            "a password is never echoed: {}",
            refused.message()
        );
    }
    env.stop().await;
}

#[tokio::test]
async fn a_paging_link_to_another_origin_is_not_followed_with_the_token() {
    let env = TestEnv::start(Options::default()).await;
    let listener = Listener::start().await;
    // More pull requests than one page: the listing has a `next` link.
    let dataset = GithubDataset::generated(sluice_simulator::GithubSpec {
        repos: 1,
        prs_per_repo: 120,
        ..spec(&[])
    });
    let github = github_simulator(dataset, &[TOKEN]).await;
    github.set_link_origin(Some(listener.url.clone()));
    let (_, job_id) = github_integration(&env, &github, "links", &[TOKEN], "acme").await;
    let run = env.run_and_wait(&job_id).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32);
    assert!(
        run.error_message.contains("another origin") && run.error_message.contains(&listener.url),
        "{}",
        run.error_message
    );
    assert!(!listener.saw_authorization(), "{:?}", listener.heads());
    assert!(
        listener.heads().is_empty(),
        "not even a request: {:?}",
        listener.heads()
    );
    github.shutdown();
    env.stop().await;
}
