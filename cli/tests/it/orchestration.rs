//! The scheduler, the run lease, live job events, retries through the delay queues and the
//! dead letters an operator lists and requeues.
//!
//! Scheduling decisions are driven one tick at a time (`scheduler::tick`, what the
//! orchestrator's loop calls every few seconds) so each test sees exactly one decision per
//! tick; "time passes" by moving a job's `next_run_at`, as the clock would.

use std::time::Duration;

use futures_util::StreamExt;
use sluice_orchestrator::SchedulerConfig;
use sluice_orchestrator::scheduler;
use sluice_plumbing::amqp::ReconnectingPublisher;
use sluice_proto::v1 as pb;
use sluice_simulator::{Dataset, Fault, FaultKind, IssueSpec};
use uuid::Uuid;

use crate::harness::{Options, TestEnv, amqp_url};

fn one_at_a_time() -> SchedulerConfig {
    SchedulerConfig {
        tick: Duration::from_secs(3600),
        max_concurrent_runs: 1,
        run_lease: Duration::from_secs(600),
    }
}

struct Ticker {
    publisher: ReconnectingPublisher,
    config: SchedulerConfig,
}

impl Ticker {
    fn new(env: &TestEnv, config: SchedulerConfig) -> Ticker {
        Ticker {
            publisher: ReconnectingPublisher::new(
                &amqp_url(),
                env.topology.clone(),
                Duration::from_secs(5),
            ),
            config,
        }
    }

    async fn tick(&self, env: &TestEnv) -> usize {
        scheduler::tick(&env.pool, &self.publisher, &self.config)
            .await
            .expect("scheduler tick")
    }
}

async fn job(env: &TestEnv, id: &str) -> (pb::Job, Option<pb::JobRun>) {
    let response = env
        .jobs()
        .get_job(env.authed(pb::GetJobRequest { id: id.into() }))
        .await
        .expect("get job")
        .into_inner();
    (response.job.expect("job"), response.last_run)
}

async fn runs_of(env: &TestEnv, id: &str) -> Vec<pb::JobRun> {
    env.jobs()
        .list_job_runs(env.authed(pb::ListJobRunsRequest {
            job_id: id.into(),
            page: None,
        }))
        .await
        .expect("list runs")
        .into_inner()
        .runs
}

async fn create_job(env: &TestEnv, integration_id: &str, request: pb::CreateJobRequest) -> String {
    env.jobs()
        .create_job(env.authed(pb::CreateJobRequest {
            integration_id: integration_id.into(),
            ..request
        }))
        .await
        .expect("create job")
        .into_inner()
        .job
        .expect("job")
        .id
}

/// The current run of a job the scheduler just started, waited to its end.
async fn finish_current(env: &TestEnv, id: &str) -> pb::JobRun {
    let (job, _) = job(env, id).await;
    assert_eq!(job.status, pb::JobStatus::Running as i32, "{job:?}");
    env.wait_for_run(&job.current_run_id).await
}

/// Pretends the job's time has come.
async fn make_due(env: &TestEnv, id: &str) {
    sqlx::query("UPDATE etl_jobs SET next_run_at = now() WHERE id = $1::uuid")
        .bind(id)
        .execute(&env.pool)
        .await
        .expect("make due");
}

/// Seconds from now to the job's next run.
async fn due_in_secs(env: &TestEnv, id: &str) -> f64 {
    sqlx::query_scalar(
        "SELECT extract(epoch FROM next_run_at - now())::float8 FROM etl_jobs WHERE id = $1::uuid",
    )
    .bind(id)
    .fetch_one(&env.pool)
    .await
    .expect("next_run_at")
}

#[tokio::test]
async fn due_jobs_run_by_priority_after_their_dependency_and_paused_or_inactive_jobs_do_not() {
    let env = TestEnv::start(Options {
        own_database: true,
        ..Options::default()
    })
    .await;
    let (integration_id, defaults) = env.create_jira_integration_with_jobs("scheduled").await;
    let (discovery, issues) = (defaults[0].clone(), defaults[1].clone());
    let urgent = create_job(
        &env,
        &integration_id,
        pb::CreateJobRequest {
            job_name: "urgent metadata".into(),
            job_type: pb::JobType::JiraSync as i32,
            priority: 1,
            ..Default::default()
        },
    )
    .await;
    let paused = create_job(
        &env,
        &integration_id,
        pb::CreateJobRequest {
            job_name: "paused metadata".into(),
            job_type: pb::JobType::JiraSync as i32,
            priority: 1,
            ..Default::default()
        },
    )
    .await;
    env.jobs()
        .pause_job(env.authed(pb::PauseJobRequest { id: paused.clone() }))
        .await
        .expect("pause");
    let inactive = create_job(
        &env,
        &integration_id,
        pb::CreateJobRequest {
            job_name: "inactive metadata".into(),
            job_type: pb::JobType::JiraSync as i32,
            priority: 1,
            ..Default::default()
        },
    )
    .await;
    env.jobs()
        .update_job(env.authed(pb::UpdateJobRequest {
            id: inactive.clone(),
            active: Some(false),
            ..Default::default()
        }))
        .await
        .expect("deactivate");

    // One run at a time: the most urgent first.
    let ticker = Ticker::new(&env, one_at_a_time());
    assert_eq!(ticker.tick(&env).await, 1);
    assert_eq!(
        finish_current(&env, &urgent).await.status,
        pb::RunStatus::Completed as i32
    );
    // Then discovery; the issues sync, due as well, waits for it and says so.
    assert_eq!(ticker.tick(&env).await, 1);
    let (waiting, _) = job(&env, &issues).await;
    assert_eq!(waiting.status, pb::JobStatus::Ready as i32);
    assert!(
        waiting.alert.contains("waiting for job jira_discovery"),
        "{}",
        waiting.alert
    );
    assert_eq!(
        finish_current(&env, &discovery).await.status,
        pb::RunStatus::Completed as i32
    );
    assert_eq!(ticker.tick(&env).await, 1);
    let issues_run = finish_current(&env, &issues).await;
    assert_eq!(
        issues_run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        issues_run.error_message
    );
    assert_eq!(issues_run.trigger, "schedule");
    // Nothing else is due: completed jobs come back after their schedule interval.
    assert_eq!(ticker.tick(&env).await, 0);
    let (done, _) = job(&env, &issues).await;
    assert_eq!(done.alert, "");
    let next = due_in_secs(&env, &issues).await;
    assert!((359.0 * 60.0..=360.0 * 60.0).contains(&next), "{next}");
    assert!(runs_of(&env, &paused).await.is_empty(), "paused job ran");
    assert!(
        runs_of(&env, &inactive).await.is_empty(),
        "inactive job ran"
    );

    // In order: urgent, discovery, issues.
    let started = |runs: Vec<pb::JobRun>| {
        runs[0].started_at.expect("started").seconds * 1_000_000_000
            + i64::from(runs[0].started_at.expect("started").nanos)
    };
    let order = [
        started(runs_of(&env, &urgent).await),
        started(runs_of(&env, &discovery).await),
        started(runs_of(&env, &issues).await),
    ];
    assert!(order.is_sorted(), "{order:?}");

    // An inactive integration: the due job finishes with an alert instead of running.
    env.integrations()
        .set_integration_active(env.authed(pb::SetIntegrationActiveRequest {
            id: integration_id.clone(),
            active: false,
        }))
        .await
        .expect("deactivate integration");
    make_due(&env, &urgent).await;
    assert_eq!(ticker.tick(&env).await, 0, "nothing started");
    let (skipped, last_run) = job(&env, &urgent).await;
    assert!(
        skipped.alert.contains("is inactive: scheduled run skipped"),
        "{}",
        skipped.alert
    );
    let last_run = last_run.expect("the skipped run is recorded");
    assert_eq!(last_run.status, pb::RunStatus::Completed as i32);
    assert_eq!(last_run.alert, skipped.alert);
    assert_eq!(runs_of(&env, &urgent).await.len(), 2);
    assert!(due_in_secs(&env, &urgent).await > 359.0 * 60.0);
    env.stop().await;
}

#[tokio::test]
async fn a_failing_job_is_retried_after_its_retry_interval_up_to_max_retries_then_stays_failed() {
    let env = TestEnv::start(Options {
        own_database: true,
        ..Options::default()
    })
    .await;
    let (integration_id, _) = env.create_jira_integration_with_jobs("flaky").await;
    let flaky = create_job(
        &env,
        &integration_id,
        pb::CreateJobRequest {
            job_name: "flaky metadata".into(),
            job_type: pb::JobType::JiraSync as i32,
            priority: 1,
            retry_interval_minutes: 7,
            schedule_interval_minutes: 90,
            max_retries: 2,
            ..Default::default()
        },
    )
    .await;
    // Only the flaky job is due in this test.
    sqlx::query(
        "UPDATE etl_jobs SET next_run_at = now() + interval '1 day'
         WHERE integration_id = $1::uuid AND id <> $2::uuid",
    )
    .bind(&integration_id)
    .bind(&flaky)
    .execute(&env.pool)
    .await
    .expect("defer the default jobs");
    // Every status request fails for good (more than the connector's own 3 attempts per run).
    env.simulator.add_fault(Fault {
        endpoint: "GET /rest/api/3/status".into(),
        kind: FaultKind::Status {
            status: 500,
            retry_after_secs: None,
        },
        times: 1000,
    });
    let ticker = Ticker::new(&env, one_at_a_time());
    for attempt in 1..=3 {
        assert_eq!(ticker.tick(&env).await, 1, "attempt {attempt} starts");
        let run = finish_current(&env, &flaky).await;
        assert_eq!(run.status, pb::RunStatus::Failed as i32);
        let (job, _) = job(&env, &flaky).await;
        assert_eq!(job.status, pb::JobStatus::Failed as i32);
        assert!(job.error_message.contains("500"), "{}", job.error_message);
        let next = due_in_secs(&env, &flaky).await;
        if attempt <= 2 {
            // Retried after the retry interval, counted.
            assert_eq!(job.retry_count, attempt);
            assert!((6.9 * 60.0..=7.0 * 60.0).contains(&next), "{next}");
            assert_eq!(ticker.tick(&env).await, 0, "not before the retry interval");
        } else {
            // max_retries used up: FAILED with the last error until the regular schedule.
            assert_eq!(job.retry_count, 0);
            assert!((89.0 * 60.0..=90.0 * 60.0).contains(&next), "{next}");
            assert!(
                job.alert.contains("gave up after 2 retries"),
                "{}",
                job.alert
            );
        }
        if attempt < 3 {
            make_due(&env, &flaky).await;
        }
    }
    assert_eq!(runs_of(&env, &flaky).await.len(), 3, "1 run + 2 retries");
    // The history pages.
    let first_page = env
        .jobs()
        .list_job_runs(env.authed(pb::ListJobRunsRequest {
            job_id: flaky.clone(),
            page: Some(pb::PageRequest {
                page_size: 2,
                page_token: String::new(),
            }),
        }))
        .await
        .expect("first page")
        .into_inner();
    assert_eq!(first_page.runs.len(), 2);
    assert!(!first_page.next_page_token.is_empty());
    let second_page = env
        .jobs()
        .list_job_runs(env.authed(pb::ListJobRunsRequest {
            job_id: flaky.clone(),
            page: Some(pb::PageRequest {
                page_size: 2,
                page_token: first_page.next_page_token,
            }),
        }))
        .await
        .expect("second page")
        .into_inner();
    assert_eq!(second_page.runs.len(), 1);
    assert!(second_page.runs[0].duration_ms >= 0 && !second_page.runs[0].trace_id.is_empty());
    env.stop().await;
}

#[tokio::test]
async fn a_run_whose_workers_stop_reporting_is_failed_when_its_lease_expires_and_retried() {
    let env = TestEnv::start(Options {
        own_database: true,
        ..Options::default()
    })
    .await;
    let (_integration_id, job_id) = env.create_jira_integration("stalled").await;
    // The connector hangs on its first request for longer than the lease (and sends no
    // heartbeat within it): for the orchestrator the run's workers are gone.
    env.simulator.add_fault(Fault {
        endpoint: "GET /rest/api/3/issuetype".into(),
        kind: FaultKind::Latency { millis: 8_000 },
        times: 1,
    });
    let run = env
        .jobs()
        .run_job(env.authed(pb::RunJobRequest { id: job_id.clone() }))
        .await
        .expect("run")
        .into_inner()
        .run
        .expect("run");
    let ticker = Ticker::new(
        &env,
        SchedulerConfig {
            run_lease: Duration::from_secs(1),
            // Expire only: start nothing else.
            max_concurrent_runs: 0,
            ..one_at_a_time()
        },
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    ticker.tick(&env).await;
    let expired = env.wait_for_run(&run.id).await;
    assert_eq!(expired.status, pb::RunStatus::Failed as i32);
    assert!(
        expired
            .error_message
            .contains("no progress reported for 1 s"),
        "{}",
        expired.error_message
    );
    let (job, _) = job(&env, &job_id).await;
    assert_eq!(job.status, pb::JobStatus::Failed as i32);
    assert_eq!(job.retry_count, 1, "retried per the job's settings");
    assert_eq!(job.current_run_id, "");
    env.stop().await;
}

#[tokio::test]
async fn two_orchestrators_start_each_due_job_once() {
    let config = SchedulerConfig {
        tick: Duration::from_millis(20),
        max_concurrent_runs: 100,
        run_lease: Duration::from_secs(600),
    };
    let env = TestEnv::start(Options {
        own_database: true,
        ..Options::default()
    })
    .await;
    // Twelve due jobs, created before either scheduler looks.
    let mut jobs = Vec::new();
    for i in 0..4 {
        let (integration_id, defaults) = env
            .create_jira_integration_with_jobs(&format!("twice-{i}"))
            .await;
        jobs.extend(defaults);
        jobs.push(
            create_job(
                &env,
                &integration_id,
                pb::CreateJobRequest {
                    job_type: pb::JobType::JiraSync as i32,
                    ..Default::default()
                },
            )
            .await,
        );
    }
    // Two schedulers racing on the same database, each ticking every 20 ms.
    let first = Ticker::new(&env, config.clone());
    let second = Ticker::new(&env, config.clone());
    let race = |ticker: Ticker| {
        let pool = env.pool.clone();
        tokio::spawn(async move {
            let mut started = 0;
            for _ in 0..400 {
                started += scheduler::tick(&pool, &ticker.publisher, &ticker.config)
                    .await
                    .expect("tick");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            started
        })
    };
    let (a, b) = tokio::join!(race(first), race(second));
    let started = a.expect("first") + b.expect("second");
    assert_eq!(started, jobs.len(), "every job started exactly once");
    for id in &jobs {
        let runs = runs_of(&env, id).await;
        assert_eq!(runs.len(), 1, "job {id}: {runs:?}");
        let run = env.wait_for_run(&runs[0].id).await;
        assert_eq!(
            run.status,
            pb::RunStatus::Completed as i32,
            "{}",
            run.error_message
        );
    }
    env.stop().await;
}

async fn next_event(stream: &mut tonic::Streaming<pb::JobEvent>) -> pb::JobEvent {
    tokio::time::timeout(Duration::from_secs(30), stream.next())
        .await
        .expect("an event within 30 s")
        .expect("stream open")
        .expect("event")
}

#[tokio::test]
async fn watch_jobs_streams_every_step_in_order_and_a_stalled_subscriber_holds_nothing_up() {
    let dataset = Dataset::generated(2, 3, 4).with_issues(IssueSpec {
        issues_per_project: 60,
        seed: 11,
        custom_fields: 4,
        mean_histories: 3,
        long_changelog_every: 0,
        dev_status_every: 5,
    });
    let env = TestEnv::start(Options {
        dataset: dataset.clone(),
        // Small, so that the stalled subscriber below certainly falls behind.
        watch_buffer: 256,
        own_database: true,
        ..Options::default()
    })
    .await;
    let (integration_id, defaults) = env.create_jira_integration_with_jobs("watched").await;
    let (discovery, issues) = (defaults[0].clone(), defaults[1].clone());
    let mut others = Vec::new();
    for i in 0..4 {
        others.push(
            create_job(
                &env,
                &integration_id,
                pb::CreateJobRequest {
                    job_name: format!("toggled {i}"),
                    job_type: pb::JobType::JiraSync as i32,
                    ..Default::default()
                },
            )
            .await,
        );
    }
    assert_eq!(
        env.run_and_wait(&discovery).await.status,
        pb::RunStatus::Completed as i32
    );

    // Unknown or malformed job filters are refused.
    let missing = env
        .jobs()
        .watch_jobs(env.authed(pb::WatchJobsRequest {
            job_id: Uuid::new_v4().to_string(),
        }))
        .await
        .expect_err("unknown job");
    assert_eq!(missing.code(), tonic::Code::NotFound);

    // A subscriber of every job of the tenant that never reads (with a small HTTP/2 window,
    // so the server's buffers fill after a few events rather than megabytes).
    let small_window =
        tonic::transport::Endpoint::from_shared(format!("http://{}", env.orchestrator_target()))
            .expect("endpoint")
            .initial_stream_window_size(Some(4096))
            .connect()
            .await
            .expect("connect");
    let mut stalled = pb::job_service_client::JobServiceClient::new(small_window)
        .watch_jobs(env.authed(pb::WatchJobsRequest::default()))
        .await
        .expect("watch all")
        .into_inner();
    let mut watched = env
        .jobs()
        .watch_jobs(env.authed(pb::WatchJobsRequest {
            job_id: issues.clone(),
        }))
        .await
        .expect("watch one")
        .into_inner();
    let first = next_event(&mut watched).await;
    assert!(first.snapshot, "the stream opens with the current state");
    assert_eq!(first.job_id, issues);
    assert_eq!(first.job_status, pb::JobStatus::Ready as i32);

    // Meanwhile, bursts of changes on four other jobs: far more than a stalled subscriber's
    // buffers (the broadcast, its queue, the server's HTTP/2 send buffer) hold.
    let mut flood = Vec::new();
    for toggled in others {
        let mut jobs = env.jobs();
        let key = env.key.clone();
        flood.push(tokio::spawn(async move {
            for _ in 0..400 {
                jobs.pause_job(crate::harness::with_key(
                    &key,
                    pb::PauseJobRequest {
                        id: toggled.clone(),
                    },
                ))
                .await
                .expect("pause");
                jobs.resume_job(crate::harness::with_key(
                    &key,
                    pb::ResumeJobRequest {
                        id: toggled.clone(),
                    },
                ))
                .await
                .expect("resume");
            }
        }));
    }
    let run = env
        .jobs()
        .run_job(env.authed(pb::RunJobRequest { id: issues.clone() }))
        .await
        .expect("run")
        .into_inner()
        .run
        .expect("run");
    let mut events = Vec::new();
    loop {
        let event = next_event(&mut watched).await;
        assert_eq!(event.job_id, issues, "only the watched job");
        let ended = event.run_id == run.id
            && event.run_status != pb::RunStatus::Running as i32
            && event.job_status != pb::JobStatus::Running as i32;
        events.push(event);
        if ended {
            break;
        }
    }
    for burst in flood {
        burst
            .await
            .expect("the bursts of changes were never held up");
    }
    let of_run: Vec<&pb::JobEvent> = events.iter().filter(|e| e.run_id == run.id).collect();
    let steps: Vec<i32> = of_run.iter().map(|e| e.step).collect();
    assert!(steps.is_sorted(), "steps in order: {steps:?}");
    for step in 1..=5 {
        assert!(steps.contains(&step), "step {step} streamed: {steps:?}");
    }
    let progress: Vec<f64> = of_run.iter().map(|e| e.progress_percentage).collect();
    assert!(progress.is_sorted_by(|a, b| a <= b), "{progress:?}");
    let last = of_run.last().expect("events");
    assert_eq!(last.run_status, pb::RunStatus::Completed as i32);
    assert_eq!(last.job_status, pb::JobStatus::Completed as i32);
    assert_eq!(last.progress_percentage, 100.0);
    let counts = last.counts.expect("counts");
    assert_eq!(counts.issues_loaded, dataset.issue_count() as i64);
    assert!(
        counts.peak_memory_bytes > 1 << 20,
        "peak memory is reported: {counts:?}"
    );
    assert!(
        counts.api_calls > 0 && counts.records_loaded > 0,
        "{counts:?}"
    );

    // The stalled subscriber fell behind and lost intermediate events, not the state: read
    // now, it catches up to the run's end.
    let mut caught_up = false;
    let mut resynced = false;
    while let Ok(Some(Ok(event))) =
        tokio::time::timeout(Duration::from_secs(5), stalled.next()).await
    {
        resynced |= event.snapshot && event.run_id == run.id;
        if event.run_id == run.id && event.job_status == pb::JobStatus::Completed as i32 {
            caught_up = true;
            break;
        }
    }
    assert!(caught_up, "the stalled subscriber sees the run's end");
    assert!(
        resynced,
        "it was sent the current state after falling behind"
    );
    drop(stalled);
    drop(watched);
    env.stop().await;
}

#[tokio::test]
async fn a_poison_batch_is_retried_then_dead_lettered_and_requeued_once_the_cause_is_fixed() {
    let env = TestEnv::start(Options {
        own_database: true,
        ..Options::default()
    })
    .await;
    let (integration_id, job_id) = env.create_jira_integration("poison").await;
    // The database refuses this tenant's projects with an error that might pass (a stand-in
    // for a full disk or an exhausted resource the loader cannot get past by itself): it is
    // retried, then dead-lettered.
    let trigger = format!("poison_{}", env.tenant_id.simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'projects are refused for this test' USING ERRCODE = 'insufficient_resources'; END $$;
         CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE ON projects FOR EACH ROW
         WHEN (NEW.tenant_id = '{}') EXECUTE FUNCTION {trigger}();",
        env.tenant_id
    )))
    .execute(&env.pool)
    .await
    .expect("poison trigger");

    let run = env
        .jobs()
        .run_job(env.authed(pb::RunJobRequest { id: job_id.clone() }))
        .await
        .expect("run")
        .into_inner()
        .run
        .expect("run");
    // After the configured retries (3, through the delay queues) the batch is a dead letter;
    // every other page of the run loads.
    let mut dead = env.wait_for_dead_letters(1).await;
    for _ in 0..100 {
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM run_batches WHERE run_id = $1::uuid AND loaded_at IS NULL",
        )
        .bind(&run.id)
        .fetch_one(&env.pool)
        .await
        .expect("pending pages");
        dead = env.wait_for_dead_letters(1).await;
        if pending == dead.len() as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let letter = &dead[0];
    assert_eq!(letter.reason, "retries exhausted");
    assert_eq!(letter.original_queue, env.topology.load());
    assert_eq!(letter.retry_count, 3);
    assert!(
        letter.error.contains("projects are refused for this test"),
        "{letter:?}"
    );
    assert!(
        letter.payload_summary.starts_with("TransformedBatch"),
        "{letter:?}"
    );
    assert_eq!(letter.run_id, run.id);

    // The operator's view (an admin key): the load queue has a consumer and this dead letter.
    let tenant_name: String = sqlx::query_scalar("SELECT name FROM tenants WHERE id = $1")
        .bind(env.tenant_id)
        .fetch_one(&env.pool)
        .await
        .expect("tenant");
    let admin = sluice_plumbing::auth::issue_key(&env.pool, &tenant_name, "ops", true)
        .await
        .expect("admin key");
    let health = env
        .queues()
        .get_queue_health(crate::harness::with_key(
            &admin.key,
            pb::GetQueueHealthRequest {},
        ))
        .await
        .expect("health")
        .into_inner()
        .queues;
    let load = health
        .iter()
        .find(|q| q.name == env.topology.load())
        .expect("load queue");
    assert!(load.consumers >= 1, "{load:?}");
    assert_eq!(load.dead_letters, dead.len() as i64);
    // Unacked messages and rates come from the management API deploy/stack.sh enables (-1
    // would mean it is unreachable).
    assert!(load.unacked >= 0 && load.publish_rate >= 0.0, "{load:?}");
    let failed = health
        .iter()
        .find(|q| q.name == env.topology.failed())
        .expect("etl.failed");
    assert_eq!(failed.dead_letters, dead.len() as i64, "{failed:?}");
    // Another tenant sees none of it.
    let other = sluice_plumbing::auth::bootstrap_tenant(
        &env.pool,
        &format!("other-{}", Uuid::new_v4()),
        "k",
    )
    .await
    .expect("other tenant");
    let theirs = env
        .queues()
        .list_dead_letters(crate::harness::with_key(
            &other.key,
            pb::ListDeadLettersRequest { limit: 0 },
        ))
        .await
        .expect("list")
        .into_inner()
        .dead_letters;
    assert!(theirs.is_empty(), "{theirs:?}");
    let refused = env
        .queues()
        .list_dead_letters(env.authed(pb::ListDeadLettersRequest { limit: 5000 }))
        .await
        .expect_err("limit out of range");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("limit"), "{}", refused.message());

    // The dead letter fails the run at once, naming why; fix the cause, requeue, and it
    // completes after all.
    let failed = env.wait_for_run(&run.id).await;
    assert_eq!(failed.status, pb::RunStatus::Failed as i32);
    assert!(
        failed
            .error_message
            .contains("projects are refused for this test")
            && failed.error_message.contains("etl.load"),
        "{}",
        failed.error_message
    );
    let (job_now, _) = job(&env, &job_id).await;
    assert_eq!(job_now.status, pb::JobStatus::Failed as i32);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP TRIGGER {trigger} ON projects; DROP FUNCTION {trigger}();"
    )))
    .execute(&env.pool)
    .await
    .expect("fix");
    let requeued = env
        .queues()
        .requeue_dead_letters(env.authed(pb::RequeueDeadLettersRequest { ids: vec![] }))
        .await
        .expect("requeue")
        .into_inner()
        .requeued;
    assert_eq!(requeued as usize, dead.len());
    let mut done = env.wait_for_run(&run.id).await;
    for _ in 0..100 {
        if done.status == pb::RunStatus::Completed as i32 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        done = env.wait_for_run(&run.id).await;
    }
    assert_eq!(
        done.status,
        pb::RunStatus::Completed as i32,
        "{}",
        done.error_message
    );
    assert!(
        done.warning
            .starts_with("completed after its dead letters were requeued"),
        "{}",
        done.warning
    );
    let (job_done, _) = job(&env, &job_id).await;
    assert_eq!(job_done.status, pb::JobStatus::Completed as i32);
    assert_eq!(
        env.count("projects", &integration_id).await,
        Dataset::fixtures().project_count()
    );
    assert!(env.wait_for_dead_letters(0).await.is_empty());
    env.stop().await;
}

#[tokio::test]
async fn cancel_stops_the_extraction_and_the_job_can_run_again() {
    let dataset = Dataset::generated(2, 3, 4).with_issues(IssueSpec {
        issues_per_project: 200,
        seed: 12,
        custom_fields: 4,
        mean_histories: 3,
        long_changelog_every: 0,
        dev_status_every: 2,
    });
    let env = TestEnv::start(Options {
        dataset,
        ..Options::default()
    })
    .await;
    let (_, defaults) = env.create_jira_integration_with_jobs("cancelled").await;
    let (discovery, issues) = (defaults[0].clone(), defaults[1].clone());
    assert_eq!(
        env.run_and_wait(&discovery).await.status,
        pb::RunStatus::Completed as i32
    );
    // Slow enough that the run is still extracting when it is cancelled.
    for endpoint in [
        "GET /rest/api/3/search/jql",
        "GET /rest/dev-status/latest/issue/summary",
        "GET /rest/dev-status/latest/issue/detail",
    ] {
        env.simulator.add_fault(Fault {
            endpoint: endpoint.into(),
            kind: FaultKind::Latency { millis: 100 },
            times: u32::MAX,
        });
    }
    let run = env
        .jobs()
        .run_job(env.authed(pb::RunJobRequest { id: issues.clone() }))
        .await
        .expect("run")
        .into_inner()
        .run
        .expect("run");
    for _ in 0..100 {
        if env.simulator.request_count("GET /rest/api/3/search/jql") >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cancelled = env
        .jobs()
        .cancel_job(env.authed(pb::CancelJobRequest { id: issues.clone() }))
        .await
        .expect("cancel")
        .into_inner();
    let cancelled_run = cancelled.run.expect("run");
    assert_eq!(cancelled_run.id, run.id);
    assert_eq!(cancelled_run.status, pb::RunStatus::Cancelled as i32);
    assert_eq!(
        cancelled.job.expect("job").status,
        pb::JobStatus::Ready as i32
    );
    // The connector stops at its next report: the calls to Jira stop growing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let settled = env.simulator.request_counts().values().sum::<u64>();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        env.simulator.request_counts().values().sum::<u64>(),
        settled,
        "no more calls after the cancellation"
    );
    let after = env.wait_for_run(&run.id).await;
    assert_eq!(after.status, pb::RunStatus::Cancelled as i32);
    assert_eq!(after.error_message, "cancelled by the user");
    // Cancelling twice is refused; the job runs again, to completion.
    let again = env
        .jobs()
        .cancel_job(env.authed(pb::CancelJobRequest { id: issues.clone() }))
        .await
        .expect_err("nothing to cancel");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    env.simulator.clear_faults();
    let rerun = env.run_and_wait(&issues).await;
    assert_eq!(
        rerun.status,
        pb::RunStatus::Completed as i32,
        "{}",
        rerun.error_message
    );
    env.stop().await;
}
