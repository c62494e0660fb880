//! Changing the embedding model: the vectorizer notices, search keeps answering from the old
//! collection, Reindex re-embeds into the new one and switches over; hybrid search fuses
//! full-text and vector ranks. Real PostgreSQL, RabbitMQ and model weights.

use std::net::SocketAddr;
use std::time::Duration;

use sluice_proto::v1 as pb;
use sluice_proto::v1::search_service_client::SearchServiceClient;
use sluice_proto::v1::vectorizer_service_client::VectorizerServiceClient;
use sluice_vectorizer::{Provider, VectorizerConfig};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::harness::{Options, TestEnv, with_key};

const LOCAL: &str = "all-MiniLM-L6-v2";
const STATIC: &str = "static-all-MiniLM-L6-v2";

/// A vectorizer of its own (the test's cluster runs one that does not consume).
struct Vectorizer {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Vectorizer {
    async fn start(env: &TestEnv, provider: Provider) -> Vectorizer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let config = VectorizerConfig {
            common: env.common.clone(),
            model_dir: crate::vectors::model_dir(),
            max_tokens: 256,
            threads: 2,
            precision: sluice_vectorizer::embed::Precision::default(),
            consume: true,
            provider,
            qdrant: None,
        };
        let task = tokio::spawn(sluice_vectorizer::run(config, listener, shutdown.clone()));
        Vectorizer {
            addr,
            shutdown,
            task,
        }
    }

    fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("url")
            .connect_lazy()
    }

    fn search(&self) -> SearchServiceClient<Channel> {
        SearchServiceClient::new(self.channel())
    }

    fn admin(&self) -> VectorizerServiceClient<Channel> {
        VectorizerServiceClient::new(self.channel())
    }

    async fn stats(&self, env: &TestEnv) -> pb::GetStatsResponse {
        // Up to two minutes: a first start distils the static table.
        for _ in 0..1200 {
            match self
                .admin()
                .get_stats(env.authed(pb::GetStatsRequest {}))
                .await
            {
                Ok(stats) => return stats.into_inner(),
                // still loading its model
                Err(status) if status.code() == tonic::Code::Unavailable => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(status) => panic!("GetStats: {status}"),
            }
        }
        panic!("the vectorizer did not come up");
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.expect("join").expect("vectorizer ran");
    }
}

/// Entities with vectors in a collection.
async fn vectors_in(env: &TestEnv, collection: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(DISTINCT entity_id) FROM embedded_vectors WHERE tenant_id = $1 AND model = $2",
    )
        .bind(env.tenant_id)
        .bind(collection)
        .fetch_one(&env.pool)
        .await
        .expect("count")
}

async fn wait_for_vectors(env: &TestEnv, collection: &str, expected: i64) {
    let mut seen = 0;
    // Up to two minutes: on a fresh checkout the first vectorizer distils the static table.
    for _ in 0..1200 {
        seen = vectors_in(env, collection).await;
        if seen == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{collection}: {seen} vectors, expected {expected}");
}

async fn search(
    client: &mut SearchServiceClient<Channel>,
    env: &TestEnv,
    query: &str,
    hybrid: bool,
    filters: Option<pb::SearchFilters>,
) -> pb::SearchResponse {
    client
        .search(env.authed(pb::SearchRequest {
            query: query.into(),
            top_k: 5,
            filters,
            hybrid,
        }))
        .await
        .expect("search")
        .into_inner()
}

#[tokio::test]
async fn a_new_model_is_reindexed_into_its_own_collection_while_search_keeps_working() {
    let env = TestEnv::start(Options {
        dataset: sluice_simulator::Dataset::generated(2, 3, 4).with_issues(
            sluice_simulator::IssueSpec {
                issues_per_project: 15,
                seed: 21,
                custom_fields: 2,
                mean_histories: 1,
                long_changelog_every: 0,
                dev_status_every: 0,
            },
        ),
        ..Options::default()
    })
    .await;
    let (integration_id, jobs) = env.create_jira_integration_with_jobs("reindexed").await;
    let mut last_run = String::new();
    for job in &jobs {
        let run = env.run_and_wait(job).await;
        assert_eq!(run.status, pb::RunStatus::Completed as i32);
        last_run = run.id;
    }
    let items: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT external_id, key, summary FROM work_items WHERE integration_id = $1::uuid ORDER BY key",
    )
    .bind(&integration_id)
    .fetch_all(&env.pool)
    .await
    .expect("items");
    let issues = items.len() as i64;
    assert!(issues >= 20, "{issues}");
    let (_connection, publisher) = env.publisher().await;
    let request_for = |ids: &[&str]| pb::VectorizeRequest {
        run: Some(pb::RunContext {
            tenant_id: env.tenant_id.to_string(),
            integration_id: integration_id.clone(),
            job_id: jobs[1].clone(),
            run_id: last_run.clone(),
            trace: None,
        }),
        entities: ids
            .iter()
            .map(|id| pb::EntityRef {
                entity_type: "work_item".into(),
                entity_id: format!("{integration_id}/{id}"),
            })
            .collect(),
        deleted: vec![],
    };
    let all_ids: Vec<&str> = items.iter().map(|(id, _, _)| id.as_str()).collect();
    // The probe: one issue with words of its own (the generated ones share most of theirs).
    let (probe_id, probe_key, _) = &items[3];
    let probe_summary = "Payroll export drops employees hired on a leap day";
    sqlx::query(
        "UPDATE work_items SET summary = $3, description_text = ''
         WHERE integration_id = $1::uuid AND external_id = $2",
    )
    .bind(&integration_id)
    .bind(probe_id)
    .bind(probe_summary)
    .execute(&env.pool)
    .await
    .expect("probe");

    // First the static model: its collection becomes the tenant's active one. (Its table is
    // distilled here if this checkout has none yet, one test at a time.)
    tokio::task::spawn_blocking(crate::vectors::static_model)
        .await
        .expect("static table");
    let first = Vectorizer::start(&env, Provider::Static).await;
    publisher
        .publish(&env.topology.vectorization(), &request_for(&all_ids))
        .await
        .expect("publish");
    wait_for_vectors(&env, STATIC, issues).await;
    let stats = first.stats(&env).await;
    assert_eq!(stats.model, STATIC);
    assert_eq!(stats.active_collection, STATIC);
    assert!(!stats.reindex_required);
    assert!(stats.vectors >= issues, "{stats:?}");
    first.stop().await;

    // The configuration changes to the local model: the change is noticed, and search keeps
    // answering from the static collection (its queries embedded by the static model).
    let second = Vectorizer::start(&env, Provider::Local).await;
    let stats = second.stats(&env).await;
    assert_eq!(stats.model, LOCAL);
    assert_eq!(stats.active_collection, STATIC);
    assert!(stats.reindex_required, "{stats:?}");
    assert!(
        stats.vectors >= issues,
        "counted in the active collection: {stats:?}"
    );
    let mut client = second.search();
    let found = search(&mut client, &env, probe_summary, false, None).await;
    assert_eq!(found.model, STATIC);
    assert_eq!(found.results[0].key, *probe_key, "{:?}", found.results);

    // A change meanwhile reaches both collections: the one search uses and the new one.
    sqlx::query(
        "UPDATE work_items SET summary = 'Quarterly VAT invoices rounded to the wrong cent'
         WHERE integration_id = $1::uuid AND external_id = $2",
    )
    .bind(&integration_id)
    .bind(probe_id)
    .execute(&env.pool)
    .await
    .expect("change");
    publisher
        .publish(&env.topology.vectorization(), &request_for(&[probe_id]))
        .await
        .expect("publish");
    wait_for_vectors(&env, LOCAL, 1).await;
    let found = search(&mut client, &env, "VAT invoice rounding error", false, None).await;
    assert_eq!(found.model, STATIC);
    assert_eq!(found.results[0].key, *probe_key, "{:?}", found.results);

    // Reindex: everything is embedded with the local model, then search switches over.
    let started = second
        .admin()
        .reindex(env.authed(pb::ReindexRequest {}))
        .await
        .expect("reindex")
        .into_inner();
    assert_eq!(started.collection, LOCAL);
    assert_eq!(started.replaces, STATIC);
    assert_eq!(started.entities, issues);
    let mut searches = 0;
    let stats = loop {
        // Search answers throughout, from whichever collection is active.
        let found = search(&mut client, &env, "VAT invoice rounding error", false, None).await;
        assert_eq!(found.results[0].key, *probe_key, "{:?}", found.results);
        searches += 1;
        let stats = second.stats(&env).await;
        assert!(stats.reindex_error.is_empty(), "{}", stats.reindex_error);
        if stats.active_collection == LOCAL {
            break stats;
        }
        assert!(searches < 600, "the reindex did not finish: {stats:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!stats.reindex_required);
    assert!(!stats.reindexing);
    assert_eq!(stats.reindex_done, issues);
    assert_eq!(stats.reindex_total, issues);
    assert_eq!(vectors_in(&env, LOCAL).await, issues);
    assert_eq!(
        vectors_in(&env, STATIC).await,
        0,
        "the old collection is removed"
    );
    let found = search(&mut client, &env, probe_summary, false, None).await;
    assert_eq!(found.model, LOCAL);

    // A Reindex with the model unchanged checks everything and embeds nothing.
    let generation = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT generation FROM vector_generations WHERE tenant_id = $1 AND model = $2",
        )
        .bind(env.tenant_id)
        .bind(LOCAL)
        .fetch_one(&env.pool)
        .await
        .expect("generation")
    };
    let before = generation().await;
    let again = second
        .admin()
        .reindex(env.authed(pb::ReindexRequest {}))
        .await
        .expect("reindex again")
        .into_inner();
    assert_eq!(again.replaces, "");
    for _ in 0..200 {
        if !second.stats(&env).await.reindexing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stats = second.stats(&env).await;
    assert!(!stats.reindexing);
    assert_eq!(stats.reindex_done, issues);
    assert_eq!(generation().await, before, "no vector was written again");

    // Hybrid search: full-text and vector ranks fused, filters and tenant applied to both.
    let hybrid = search(&mut client, &env, "VAT invoices", true, None).await;
    assert_eq!(hybrid.results[0].key, *probe_key, "{:?}", hybrid.results);
    assert!(hybrid.results[0].score <= 2.0 / 61.0 + 1e-9);
    assert!(
        hybrid.results[0].score >= 1.0 / 61.0,
        "{:?}",
        hybrid.results
    );
    let only_prs = search(
        &mut client,
        &env,
        "VAT invoices",
        true,
        Some(pb::SearchFilters {
            sources: vec!["pull_request".into()],
            ..Default::default()
        }),
    )
    .await;
    assert!(only_prs.results.is_empty(), "{:?}", only_prs.results);
    let other = sluice_plumbing::auth::bootstrap_tenant(
        &env.pool,
        &format!("reindex-{}", Uuid::new_v4()),
        "k",
    )
    .await
    .expect("other tenant");
    let theirs = client
        .search(with_key(
            &other.key,
            pb::SearchRequest {
                query: "VAT invoices".into(),
                top_k: 10,
                filters: None,
                hybrid: true,
            },
        ))
        .await
        .expect("search as another tenant")
        .into_inner();
    assert!(theirs.results.is_empty(), "{:?}", theirs.results);
    // An empty range is refused, naming the field.
    let status = client
        .search(env.authed(pb::SearchRequest {
            query: "x".into(),
            top_k: 1,
            filters: Some(pb::SearchFilters {
                updated: Some(pb::TimeRange {
                    from: Some(prost_types::Timestamp {
                        seconds: 2_000_000_000,
                        nanos: 0,
                    }),
                    to: Some(prost_types::Timestamp {
                        seconds: 1_000_000_000,
                        nanos: 0,
                    }),
                }),
                ..Default::default()
            }),
            hybrid: true,
        }))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().starts_with("filters.updated"));
    second.stop().await;
    env.stop().await;
}
