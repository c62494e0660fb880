//! Alerts that reach people: notification channels receive a failed run, a job that gave up,
//! a skipped job and dead letters over a threshold, signed (webhook) or as a Slack message,
//! with retries recorded in the delivery log; URLs and secrets never leave the database
//! unencrypted, and a tenant sees only its own channels.
//!
//! Each test has a database of its own: every orchestrator's dispatcher sends the deliveries
//! of its database, and each test environment seals channels with a key of its own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use sluice_orchestrator::{NotifyConfig, SchedulerConfig, scheduler};
use sluice_plumbing::amqp::ReconnectingPublisher;
use sluice_proto::v1 as pb;
use sluice_proto::v1::notification_service_client::NotificationServiceClient;
use sluice_simulator::{Fault, FaultKind};
use tonic::transport::Channel;
use uuid::Uuid;

use crate::harness::{Options, TestEnv, amqp_url, captured_logs, with_key};

/// How a test receiver answers the n-th request (1-based).
#[derive(Clone, Copy)]
enum Answer {
    /// 500 to the first `n` requests, 200 after.
    FailFirst(usize),
    /// The first request waits this long (past the dispatcher's timeout), then 503 to all.
    HangThenUnavailable(Duration),
}

#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

struct ReceiverState {
    answer: Answer,
    received: Mutex<Vec<Received>>,
}

/// A webhook receiver on 127.0.0.1, at a URL whose path is a secret.
struct Receiver {
    url: String,
    token: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    async fn start(answer: Answer) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(ReceiverState {
            answer,
            received: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let token = format!("hook-{}", Uuid::new_v4().simple());
        Receiver {
            url: format!("http://{addr}/hooks/{token}"),
            token,
            state,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let n = {
        let mut received = state.received.lock().expect("lock");
        received.push(Received {
            path: uri.path().to_string(),
            headers,
            body: body.to_vec(),
        });
        received.len()
    };
    match state.answer {
        Answer::FailFirst(failing) if n <= failing => (StatusCode::INTERNAL_SERVER_ERROR, "down"),
        Answer::FailFirst(_) => (StatusCode::OK, "ok"),
        Answer::HangThenUnavailable(hang) => {
            if n == 1 {
                tokio::time::sleep(hang).await;
            }
            (StatusCode::SERVICE_UNAVAILABLE, "busy")
        }
    }
}

fn header<'a>(received: &'a Received, name: &str) -> &'a str {
    received
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// What a receiver does with `X-Sluice-Signature` (README: verifying a webhook).
fn signature_verifies(secret: &str, received: &Received) -> bool {
    let timestamp = header(received, "x-sluice-timestamp");
    let Some(hex) = header(received, "x-sluice-signature").strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&received.body);
    mac.verify_slice(&expected).is_ok()
}

fn notifications(env: &TestEnv) -> NotificationServiceClient<Channel> {
    NotificationServiceClient::new(
        Channel::from_shared(format!("http://{}", env.cluster.orchestrator_addr))
            .expect("url")
            .connect_lazy(),
    )
}

fn own_database() -> Options {
    Options {
        own_database: true,
        ..Options::default()
    }
}

async fn create_channel(env: &TestEnv, request: pb::CreateChannelRequest) -> (String, String) {
    let created = notifications(env)
        .create_channel(env.authed(request))
        .await
        .expect("create channel")
        .into_inner();
    (
        created.channel.expect("channel").id,
        created.generated_secret,
    )
}

fn webhook(name: &str, url: &str, events: &[pb::NotificationEvent]) -> pb::CreateChannelRequest {
    pb::CreateChannelRequest {
        name: name.into(),
        kind: pb::NotificationChannelKind::Webhook as i32,
        url: url.into(),
        events: events.iter().map(|e| *e as i32).collect(),
        ..Default::default()
    }
}

async fn deliveries(env: &TestEnv, channel_id: &str) -> Vec<pb::NotificationDelivery> {
    notifications(env)
        .list_deliveries(env.authed(pb::ListDeliveriesRequest {
            channel_id: channel_id.into(),
            page: None,
        }))
        .await
        .expect("list deliveries")
        .into_inner()
        .deliveries
}

/// The channel's deliveries once `done` holds for them (20 s at most).
async fn wait_for_deliveries(
    env: &TestEnv,
    channel_id: &str,
    done: impl Fn(&[pb::NotificationDelivery]) -> bool,
) -> Vec<pb::NotificationDelivery> {
    let mut listed = Vec::new();
    for _ in 0..400 {
        listed = deliveries(env, channel_id).await;
        if done(&listed) {
            return listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("deliveries of channel {channel_id} did not reach the expected state: {listed:#?}");
}

fn all_settled(count: usize) -> impl Fn(&[pb::NotificationDelivery]) -> bool {
    move |listed| {
        listed.len() >= count
            && listed
                .iter()
                .all(|d| d.status != pb::DeliveryStatus::Pending as i32)
    }
}

/// A Jira integration whose jira_sync job fails: every status request answers 500.
async fn failing_job(env: &TestEnv, name: &str) -> String {
    let (_, job_id) = env.create_jira_integration(name).await;
    env.simulator.add_fault(Fault {
        endpoint: "GET /rest/api/3/status".into(),
        kind: FaultKind::Status {
            status: 500,
            retry_after_secs: None,
        },
        times: 1000,
    });
    job_id
}

fn payload(received: &Received) -> Value {
    serde_json::from_slice(&received.body).expect("a JSON body")
}

fn code_and_message(status: tonic::Status) -> (tonic::Code, String) {
    (status.code(), status.message().to_string())
}

#[tokio::test]
async fn a_failed_run_is_delivered_signed_after_a_retry_and_logged() {
    let env = TestEnv::start(own_database()).await;
    let receiver = Receiver::start(Answer::FailFirst(1)).await;
    let (channel_id, secret) = create_channel(
        &env,
        webhook("ops", &receiver.url, &[pb::NotificationEvent::RunFailed]),
    )
    .await;
    assert!(
        secret.starts_with("whsec_"),
        "a secret is generated: {secret}"
    );

    let job_id = failing_job(&env, "failing").await;
    let run = env.run_and_wait(&job_id).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32);

    // 500 to the first attempt, 200 to the retry.
    let listed = wait_for_deliveries(&env, &channel_id, all_settled(1)).await;
    assert_eq!(listed.len(), 1, "{listed:#?}");
    let delivery = &listed[0];
    assert_eq!(delivery.event, pb::NotificationEvent::RunFailed as i32);
    assert_eq!(delivery.status, pb::DeliveryStatus::Delivered as i32);
    assert_eq!(delivery.attempts, 2);
    assert_eq!(delivery.last_http_status, 200);
    assert_eq!(delivery.last_error, "");
    assert_eq!(delivery.channel_name, "ops");
    assert!(delivery.delivered_at.is_some() && delivery.next_attempt_at.is_none());
    assert!(
        delivery.summary.starts_with("Run of jira_sync failed: "),
        "{}",
        delivery.summary
    );

    let received = receiver.received();
    assert_eq!(received.len(), 2, "one failed attempt, one retry");
    for attempt in &received {
        assert_eq!(attempt.path, format!("/hooks/{}", receiver.token));
        assert_eq!(header(attempt, "content-type"), "application/json");
        assert_eq!(header(attempt, "x-sluice-event"), "RUN_FAILED");
        // The same id on every attempt: the receiver dedupes by it.
        assert_eq!(header(attempt, "x-sluice-delivery"), delivery.id);
        assert!(
            signature_verifies(&secret, attempt),
            "signature of {attempt:?}"
        );
        assert!(!signature_verifies("whsec_another", attempt));
    }
    assert_eq!(received[0].body, received[1].body);
    let event = payload(&received[1]);
    assert_eq!(event["event"], "RUN_FAILED");
    assert_eq!(event["run_id"], run.id.as_str());
    assert_eq!(event["job_id"], job_id.as_str());
    assert_eq!(event["job_name"], "jira_sync");
    assert_eq!(event["status"], "FAILED");
    assert_eq!(event["integration_name"], "failing");
    assert_eq!(event["error_message"], run.error_message.as_str());
    assert!(!run.trace_id.is_empty());
    assert_eq!(event["trace_id"], run.trace_id.as_str());
    assert_eq!(
        (event["retry_count"].as_i64(), event["max_retries"].as_i64()),
        (Some(0), Some(3))
    );
    assert!(event["occurred_at"].is_string());
    let body = String::from_utf8_lossy(&received[1].body).into_owned();
    assert!(event.get("tenant_id").is_none(), "{body}");
    for never in [
        env.tenant_id.to_string(),
        env.api_token.clone(),
        env.key.clone(),
    ] {
        assert!(!body.contains(&never), "{body}");
    }

    // Neither the URL's secret path nor the signing secret is ever logged.
    let logs = captured_logs();
    assert!(!logs.contains(&receiver.token) && !logs.contains(&secret));
    env.stop().await;
}

#[tokio::test]
async fn a_job_that_gives_up_after_its_retries_sends_job_gave_up() {
    let env = TestEnv::start(own_database()).await;
    let receiver = Receiver::start(Answer::FailFirst(0)).await;
    let (gave_up, _) = create_channel(
        &env,
        webhook(
            "gave up only",
            &receiver.url,
            &[pb::NotificationEvent::JobGaveUp],
        ),
    )
    .await;
    let (everything, _) = create_channel(&env, webhook("everything", &receiver.url, &[])).await;
    let job_id = failing_job(&env, "giving-up").await;
    let set_max_retries = |max: i32| {
        let request = env.authed(pb::UpdateJobRequest {
            id: job_id.clone(),
            max_retries: Some(max),
            ..Default::default()
        });
        let mut jobs = env.jobs();
        async move { jobs.update_job(request).await.expect("update job") }
    };

    // max_retries 0: the first failure gives up.
    set_max_retries(0).await;
    let run = env.run_and_wait(&job_id).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32);
    let listed = wait_for_deliveries(&env, &gave_up, all_settled(1)).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].event, pb::NotificationEvent::JobGaveUp as i32);
    assert_eq!(listed[0].status, pb::DeliveryStatus::Delivered as i32);
    let both = wait_for_deliveries(&env, &everything, all_settled(2)).await;
    let mut events: Vec<i32> = both.iter().map(|d| d.event).collect();
    events.sort();
    assert_eq!(
        events,
        vec![
            pb::NotificationEvent::RunFailed as i32,
            pb::NotificationEvent::JobGaveUp as i32
        ]
    );
    let sent = receiver
        .received()
        .into_iter()
        .find(|r| header(r, "x-sluice-delivery") == listed[0].id)
        .expect("the JOB_GAVE_UP delivery was received");
    let event = payload(&sent);
    assert_eq!(event["event"], "JOB_GAVE_UP");
    assert_eq!(event["run_id"], run.id.as_str());
    assert_eq!(
        (event["retry_count"].as_i64(), event["max_retries"].as_i64()),
        (Some(0), Some(0))
    );
    assert!(
        event["alert"]
            .as_str()
            .unwrap_or_default()
            .contains("gave up after 0 retries"),
        "{event}"
    );

    // max_retries 1: the first failure is retried (RUN_FAILED only), the second gives up.
    set_max_retries(1).await;
    env.run_and_wait(&job_id).await;
    wait_for_deliveries(&env, &everything, all_settled(3)).await;
    assert_eq!(
        deliveries(&env, &gave_up).await.len(),
        1,
        "not given up yet"
    );
    let last = env.run_and_wait(&job_id).await;
    let listed = wait_for_deliveries(&env, &gave_up, all_settled(2)).await;
    let sent = receiver
        .received()
        .into_iter()
        .find(|r| header(r, "x-sluice-delivery") == listed[0].id)
        .expect("received");
    let event = payload(&sent);
    assert_eq!(event["run_id"], last.id.as_str());
    assert_eq!(
        (event["retry_count"].as_i64(), event["max_retries"].as_i64()),
        (Some(1), Some(1))
    );
    env.stop().await;
}

#[tokio::test]
async fn a_skipped_job_reaches_a_webhook_and_slack_with_its_text_escaped() {
    let env = TestEnv::start(own_database()).await;
    let hook = Receiver::start(Answer::FailFirst(0)).await;
    let slack = Receiver::start(Answer::FailFirst(0)).await;
    let (hook_channel, _) = create_channel(
        &env,
        webhook("skips", &hook.url, &[pb::NotificationEvent::JobSkipped]),
    )
    .await;
    let (slack_channel, generated) = create_channel(
        &env,
        pb::CreateChannelRequest {
            name: "team slack".into(),
            kind: pb::NotificationChannelKind::Slack as i32,
            url: slack.url.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(generated, "", "Slack channels are not signed");
    // Characters Slack reads as markup, in a name every message shows.
    let (integration_id, defaults) = env
        .create_jira_integration_with_jobs("acme <jira> & co")
        .await;
    env.integrations()
        .set_integration_active(env.authed(pb::SetIntegrationActiveRequest {
            id: integration_id.clone(),
            active: false,
        }))
        .await
        .expect("deactivate");
    // Discovery is due (the issues sync waits for it): the scheduler skips it.
    let publisher =
        ReconnectingPublisher::new(&amqp_url(), env.topology.clone(), Duration::from_secs(5));
    let started = scheduler::tick(&env.pool, &publisher, &SchedulerConfig::default())
        .await
        .expect("tick");
    assert_eq!(started, 0);
    let job = env
        .jobs()
        .get_job(env.authed(pb::GetJobRequest {
            id: defaults[0].clone(),
        }))
        .await
        .expect("job")
        .into_inner();
    let skipped_run = job.last_run.expect("the skipped run");

    let listed = wait_for_deliveries(&env, &hook_channel, all_settled(1)).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].event, pb::NotificationEvent::JobSkipped as i32);
    assert_eq!(listed[0].status, pb::DeliveryStatus::Delivered as i32);
    let event = payload(&hook.received()[0]);
    assert_eq!(event["event"], "JOB_SKIPPED");
    assert_eq!(event["job_name"], "jira_discovery");
    assert_eq!(event["run_id"], skipped_run.id.as_str());
    assert_eq!(event["integration_id"], integration_id.as_str());
    assert_eq!(event["integration_name"], "acme <jira> & co");
    assert!(
        event["alert"]
            .as_str()
            .unwrap_or_default()
            .contains("is inactive: scheduled run skipped"),
        "{event}"
    );

    let listed = wait_for_deliveries(&env, &slack_channel, all_settled(1)).await;
    assert_eq!(listed[0].status, pb::DeliveryStatus::Delivered as i32);
    let received = slack.received();
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(header(message, "content-type"), "application/json");
    assert_eq!(header(message, "x-sluice-signature"), "");
    let message = payload(message);
    let fallback = message["text"].as_str().expect("text");
    assert!(fallback.contains("jira_discovery skipped"), "{fallback}");
    let blocks = message["blocks"].as_array().expect("blocks");
    assert_eq!(blocks[0]["type"], "section");
    assert_eq!(blocks[0]["text"]["type"], "mrkdwn");
    // Every text Slack renders, escaped as Slack requires: no bare <, > or &.
    let mut texts = vec![fallback.to_string()];
    for block in blocks {
        for text in [&block["text"]]
            .into_iter()
            .chain(block["fields"].as_array().into_iter().flatten())
            .chain(block["elements"].as_array().into_iter().flatten())
        {
            if let Some(t) = text.get("text").and_then(Value::as_str) {
                assert_eq!(text["type"], "mrkdwn", "{block}");
                texts.push(t.to_string());
            }
        }
    }
    let all = texts.join("\n");
    assert!(all.contains("acme &lt;jira&gt; &amp; co"), "{all}");
    assert!(all.contains("is inactive: scheduled run skipped"), "{all}");
    assert!(all.contains(&skipped_run.id), "{all}");
    assert!(!all.contains('<') && !all.contains('>'), "{all}");
    assert!(
        all.match_indices('&')
            .all(|(i, _)| ["&amp;", "&lt;", "&gt;"]
                .iter()
                .any(|e| all[i..].starts_with(e))),
        "{all}"
    );
    env.stop().await;
}

#[tokio::test]
async fn channels_are_the_tenants_own_and_their_url_and_secret_never_leave() {
    let env = TestEnv::start(own_database()).await;
    let token = format!("T0/B0/{}", Uuid::new_v4().simple());
    let url = format!("https://hooks.example.com/services/{token}");
    let secret = format!("given-secret-{}", Uuid::new_v4().simple());
    let mut service = notifications(&env);
    let created = service
        .create_channel(env.authed(pb::CreateChannelRequest {
            secret: secret.clone(),
            dead_letter_threshold: 10,
            ..webhook("signed", &url, &[])
        }))
        .await
        .expect("create")
        .into_inner();
    assert_eq!(created.generated_secret, "", "a given secret is not echoed");
    let channel = created.channel.expect("channel");
    assert!(channel.has_secret && channel.active);
    assert_eq!(channel.url_origin, "https://hooks.example.com");
    assert_eq!(channel.dead_letter_threshold, 10);
    assert!(channel.events.is_empty(), "all events");

    let listed = service
        .list_channels(env.authed(pb::ListChannelsRequest { page: None }))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.channels, vec![channel.clone()]);
    let shown = format!("{listed:?}");
    assert!(
        !shown.contains(&token) && !shown.contains(&secret),
        "{shown}"
    );
    // At rest: ciphertext only.
    let (row, sealed_url, sealed_secret): (String, Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT to_jsonb(c)::text, url_ciphertext, secret_ciphertext
         FROM notification_channels c WHERE id = $1::uuid",
    )
    .bind(&channel.id)
    .fetch_one(&env.pool)
    .await
    .expect("row");
    assert!(!row.contains(&token) && !row.contains(&secret), "{row}");
    for (sealed, plain) in [
        (&sealed_url, url.as_bytes()),
        (&sealed_secret, secret.as_bytes()),
    ] {
        assert!(!sealed.windows(plain.len()).any(|w| w == plain));
        assert!(!sealed.windows(16).any(|w| w == &plain[plain.len() - 16..]));
    }

    // Another tenant: the channel does not exist for it.
    let other = sluice_plumbing::auth::bootstrap_tenant(
        &env.pool,
        &format!("other-{}", Uuid::new_v4()),
        "other",
    )
    .await
    .expect("other tenant");
    let theirs = service
        .list_channels(with_key(&other.key, pb::ListChannelsRequest { page: None }))
        .await
        .expect("their list")
        .into_inner();
    assert!(theirs.channels.is_empty());
    let id = channel.id.clone();
    let refusals = [
        service
            .delete_channel(with_key(
                &other.key,
                pb::DeleteChannelRequest { id: id.clone() },
            ))
            .await
            .map(|_| ()),
        service
            .set_channel_active(with_key(
                &other.key,
                pb::SetChannelActiveRequest {
                    id: id.clone(),
                    active: false,
                },
            ))
            .await
            .map(|_| ()),
        service
            .update_channel(with_key(
                &other.key,
                pb::UpdateChannelRequest {
                    id: id.clone(),
                    name: Some("taken over".into()),
                    ..Default::default()
                },
            ))
            .await
            .map(|_| ()),
        service
            .test_channel(with_key(
                &other.key,
                pb::TestChannelRequest { id: id.clone() },
            ))
            .await
            .map(|_| ()),
        service
            .list_deliveries(with_key(
                &other.key,
                pb::ListDeliveriesRequest {
                    channel_id: id.clone(),
                    page: None,
                },
            ))
            .await
            .map(|_| ()),
    ];
    for refused in refusals {
        assert_eq!(refused.expect_err("refused").code(), tonic::Code::NotFound);
    }
    let unauthenticated = service
        .list_channels(tonic::Request::new(pb::ListChannelsRequest { page: None }))
        .await
        .expect_err("no key");
    assert_eq!(unauthenticated.code(), tonic::Code::Unauthenticated);

    // Invalid arguments name their field.
    let invalid = [
        (webhook("plain", "http://hooks.example.com/x", &[]), "url: "),
        (webhook("nonsense", "not a url", &[]), "url: "),
        (webhook("", &url, &[]), "name: "),
        (
            pb::CreateChannelRequest {
                kind: 0,
                ..webhook("no kind", &url, &[])
            },
            "kind: ",
        ),
        (
            pb::CreateChannelRequest {
                kind: 9,
                ..webhook("unknown kind", &url, &[])
            },
            "kind: ",
        ),
        (
            pb::CreateChannelRequest {
                kind: pb::NotificationChannelKind::Slack as i32,
                secret: "0123456789abcdef".into(),
                ..webhook("slack signed", &url, &[])
            },
            "secret: ",
        ),
        (
            pb::CreateChannelRequest {
                secret: "short".into(),
                ..webhook("short secret", &url, &[])
            },
            "secret: ",
        ),
        (
            webhook("test event", &url, &[pb::NotificationEvent::Test]),
            "events[0]: ",
        ),
        (
            pb::CreateChannelRequest {
                dead_letter_threshold: -1,
                ..webhook("negative", &url, &[])
            },
            "dead_letter_threshold: ",
        ),
    ];
    for (request, field) in invalid {
        let (code, message) = code_and_message(
            service
                .create_channel(env.authed(request))
                .await
                .expect_err("invalid"),
        );
        assert_eq!(code, tonic::Code::InvalidArgument, "{message}");
        assert!(message.starts_with(field), "{field}: {message}");
        assert!(!message.contains(&token), "{message}");
    }
    let duplicate = service
        .create_channel(env.authed(webhook("signed", &url, &[])))
        .await
        .expect_err("duplicate");
    assert_eq!(duplicate.code(), tonic::Code::AlreadyExists);

    // Updates: a new secret generated (shown once), events, the URL, active.
    let updated = service
        .update_channel(env.authed(pb::UpdateChannelRequest {
            id: id.clone(),
            secret: Some(String::new()),
            url: Some("https://other.example.com:8443/hook".into()),
            events: Some(pb::ChannelEvents {
                events: vec![pb::NotificationEvent::JobSkipped as i32],
            }),
            ..Default::default()
        }))
        .await
        .expect("update")
        .into_inner();
    assert!(updated.generated_secret.starts_with("whsec_"));
    let channel = updated.channel.expect("channel");
    assert_eq!(channel.url_origin, "https://other.example.com:8443");
    assert_eq!(
        channel.events,
        vec![pb::NotificationEvent::JobSkipped as i32]
    );
    assert_eq!(channel.name, "signed");
    let bad_update = service
        .update_channel(env.authed(pb::UpdateChannelRequest {
            id: id.clone(),
            url: Some("ftp://x".into()),
            ..Default::default()
        }))
        .await
        .expect_err("bad url");
    assert!(bad_update.message().starts_with("url: "));
    let inactive = service
        .set_channel_active(env.authed(pb::SetChannelActiveRequest {
            id: id.clone(),
            active: false,
        }))
        .await
        .expect("deactivate")
        .into_inner()
        .channel
        .expect("channel");
    assert!(!inactive.active);

    // The owner deletes it, with its log.
    let test = service
        .test_channel(env.authed(pb::TestChannelRequest { id: id.clone() }))
        .await
        .expect("test")
        .into_inner();
    assert!(Uuid::parse_str(&test.delivery_id).is_ok());
    service
        .delete_channel(env.authed(pb::DeleteChannelRequest { id: id.clone() }))
        .await
        .expect("delete");
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notification_deliveries WHERE channel_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&env.pool)
    .await
    .expect("count");
    assert_eq!(left, 0);
    let gone = service
        .list_channels(env.authed(pb::ListChannelsRequest { page: None }))
        .await
        .expect("list")
        .into_inner();
    assert!(gone.channels.is_empty());
    env.stop().await;
}

#[tokio::test]
async fn a_receiver_that_never_answers_2xx_ends_failed_after_its_attempts() {
    let env = TestEnv::start(Options {
        own_database: true,
        notify: NotifyConfig {
            max_attempts: 3,
            retry_base: Duration::from_millis(1000),
            timeout: Duration::from_millis(300),
            poll_interval: Duration::from_millis(50),
            ..NotifyConfig::default()
        },
        ..Options::default()
    })
    .await;
    let receiver = Receiver::start(Answer::HangThenUnavailable(Duration::from_secs(5))).await;
    let (channel_id, _) = create_channel(&env, webhook("down", &receiver.url, &[])).await;
    let job_id = failing_job(&env, "unheard").await;
    // The run ends as it would without the channel: sending is not its business.
    let run = env.run_and_wait(&job_id).await;
    assert_eq!(run.status, pb::RunStatus::Failed as i32);
    let job = env
        .jobs()
        .get_job(env.authed(pb::GetJobRequest { id: job_id.clone() }))
        .await
        .expect("job")
        .into_inner()
        .job
        .expect("job");
    assert_eq!(job.status, pb::JobStatus::Failed as i32);
    assert_eq!(job.current_run_id, "");

    // The first attempt times out and is retried later.
    let first = wait_for_deliveries(&env, &channel_id, |d| {
        d.len() == 1 && d[0].attempts == 1 && !d[0].last_error.is_empty()
    })
    .await;
    assert_eq!(first[0].status, pb::DeliveryStatus::Pending as i32);
    assert_eq!(first[0].last_http_status, 0);
    assert!(
        first[0].last_error.contains("no answer within 0.3 s"),
        "{}",
        first[0].last_error
    );
    assert!(first[0].next_attempt_at.is_some());
    // Then 503s until the attempts are used up.
    let settled = wait_for_deliveries(&env, &channel_id, all_settled(1)).await;
    let delivery = &settled[0];
    assert_eq!(delivery.status, pb::DeliveryStatus::Failed as i32);
    assert_eq!(delivery.attempts, 3);
    assert_eq!(delivery.last_http_status, 503);
    assert_eq!(delivery.last_error, "HTTP 503 Service Unavailable: busy");
    assert!(delivery.delivered_at.is_none() && delivery.next_attempt_at.is_none());
    assert!(!delivery.last_error.contains(&receiver.token));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 3, "no attempt after the last");
    env.stop().await;
}

/// Publishes references to pages that do not exist: the transformer dead-letters each at
/// once, attributed to the tenant it names.
async fn poison(env: &TestEnv, publisher: &sluice_plumbing::amqp::Publisher, count: usize) {
    for _ in 0..count {
        let message = prost::Message::encode_to_vec(&pb::RawBatchRef {
            run: Some(pb::RunContext {
                tenant_id: env.tenant_id.to_string(),
                run_id: Uuid::new_v4().to_string(),
                ..Default::default()
            }),
            raw_id: 900_000_000,
            extraction_type: "jira.issues".into(),
            ..Default::default()
        });
        publisher
            .publish_bytes(&env.topology.transform(), &message, Default::default())
            .await
            .expect("publish");
    }
}

/// Whether the channel's last check saw the dead letters over its threshold.
async fn over(env: &TestEnv, channel_id: &str) -> bool {
    sqlx::query_scalar("SELECT dead_letters_over FROM notification_channels WHERE id = $1::uuid")
        .bind(channel_id)
        .fetch_one(&env.pool)
        .await
        .expect("state")
}

#[tokio::test]
async fn dead_letters_over_a_threshold_notify_once_per_crossing() {
    let env = TestEnv::start(own_database()).await;
    let receiver = Receiver::start(Answer::FailFirst(0)).await;
    let (channel_id, _) = create_channel(
        &env,
        pb::CreateChannelRequest {
            dead_letter_threshold: 2,
            ..webhook(
                "dead letters",
                &receiver.url,
                &[pb::NotificationEvent::DeadLettersOverThreshold],
            )
        },
    )
    .await;
    let (_connection, publisher) = env.publisher().await;
    // At the threshold: nothing.
    poison(&env, &publisher, 2).await;
    env.wait_for_dead_letters(2).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(deliveries(&env, &channel_id).await.is_empty());
    // Over it: one notification, and no other while it stays over.
    poison(&env, &publisher, 1).await;
    env.wait_for_dead_letters(3).await;
    let listed = wait_for_deliveries(&env, &channel_id, all_settled(1)).await;
    assert_eq!(
        listed[0].event,
        pb::NotificationEvent::DeadLettersOverThreshold as i32
    );
    assert_eq!(listed[0].status, pb::DeliveryStatus::Delivered as i32);
    let event = payload(&receiver.received()[0]);
    assert_eq!(event["event"], "DEAD_LETTERS_OVER_THRESHOLD");
    assert_eq!(
        (event["dead_letters"].as_i64(), event["threshold"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(event["latest_reason"], "raw page not found");
    poison(&env, &publisher, 2).await;
    env.wait_for_dead_letters(5).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        deliveries(&env, &channel_id).await.len(),
        1,
        "once per crossing"
    );
    // Back under (purged), then over again: a second notification.
    env.queues()
        .purge_dead_letters(env.authed(pb::PurgeDeadLettersRequest {}))
        .await
        .expect("purge");
    for _ in 0..100 {
        if !over(&env, &channel_id).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !over(&env, &channel_id).await,
        "re-armed under the threshold"
    );
    poison(&env, &publisher, 3).await;
    env.wait_for_dead_letters(3).await;
    let listed = wait_for_deliveries(&env, &channel_id, all_settled(2)).await;
    assert_eq!(listed.len(), 2);
    env.stop().await;
}

#[tokio::test]
async fn a_job_held_back_by_a_failed_dependency_is_reported_skipped_once() {
    let env = TestEnv::start(own_database()).await;
    let hook = Receiver::start(Answer::FailFirst(0)).await;
    let (channel, _) = create_channel(
        &env,
        webhook("skips", &hook.url, &[pb::NotificationEvent::JobSkipped]),
    )
    .await;
    let (integration_id, defaults) = env.create_jira_integration_with_jobs("held back").await;
    let issues = env
        .job_of_type(&integration_id, pb::JobType::JiraIssues)
        .await;
    let discovery = env
        .job_of_type(&integration_id, pb::JobType::JiraDiscovery)
        .await;
    assert!(defaults.contains(&issues) && defaults.contains(&discovery));
    // The state a failed discovery leaves (its last run FAILED, its retry later); the issues
    // sync, which depends on it, is due.
    sqlx::query(
        "UPDATE etl_jobs SET status = 'FAILED', next_run_at = now() + interval '1 hour' WHERE id = $1",
    )
    .bind(Uuid::parse_str(&discovery).expect("id"))
    .execute(&env.pool)
    .await
    .expect("discovery failed");
    sqlx::query("UPDATE etl_jobs SET next_run_at = now() - interval '1 minute' WHERE id = $1")
        .bind(Uuid::parse_str(&issues).expect("id"))
        .execute(&env.pool)
        .await
        .expect("issues due");
    let publisher =
        ReconnectingPublisher::new(&amqp_url(), env.topology.clone(), Duration::from_secs(5));
    // Three ticks: the job is held back at each, and the tenant hears about it once.
    for _ in 0..3 {
        let started = scheduler::tick(&env.pool, &publisher, &SchedulerConfig::default())
            .await
            .expect("tick");
        assert_eq!(started, 0, "nothing runs while the dependency has failed");
    }
    let listed = wait_for_deliveries(&env, &channel, all_settled(1)).await;
    assert_eq!(
        listed.len(),
        1,
        "one notification, not one per tick: {listed:?}"
    );
    let event = payload(&hook.received()[0]);
    assert_eq!(event["event"], "JOB_SKIPPED");
    assert_eq!(event["job_id"], issues.as_str());
    assert_eq!(event["depends_on_job_id"], discovery.as_str());
    assert_eq!(event["depends_on_status"], "FAILED");
    assert_eq!(
        event["alert"], "waiting for job jira_discovery (FAILED) to complete",
        "{event}"
    );
    env.stop().await;
}
