//! The embedded vector store with the real local model: paraphrased queries find their work
//! item, filters narrow the results, and a tenant never sees another tenant's vectors.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sluice_vectorizer::document::{WorkItemContent, chunks, content_hash, work_item_document};
use sluice_vectorizer::embed::{DEFAULT_MODEL_DIR, LocalModel, Precision};
use sluice_vectorizer::qdrant_store::QdrantStore;
use sluice_vectorizer::store::{Filters, Hit, Point, PostgresStore, VectorStore};
use uuid::Uuid;

use crate::harness::{Options, TestEnv};

const MODEL: &str = "all-MiniLM-L6-v2";

fn model() -> LocalModel {
    LocalModel::load(&model_dir(), 256, 2).unwrap_or_else(|e| {
        panic!("the local model is required for this test ({e}); deploy/test.sh places it with deploy/setup-model.sh")
    })
}

/// (key, project, type, summary, description): realistic issues of three teams.
const ITEMS: [(&str, &str, &str, &str, &str); 24] = [
    (
        "PAY-1",
        "PAY",
        "Bug",
        "Card payments fail with a timeout at checkout",
        "Customers cannot complete checkout; the payment gateway times out after 30 seconds.",
    ),
    (
        "PAY-2",
        "PAY",
        "Story",
        "Retry declined card charges automatically",
        "When a charge is declined for insufficient funds, try again after three days.",
    ),
    (
        "PAY-3",
        "PAY",
        "Bug",
        "Refunds are booked twice in the ledger",
        "Partial refunds create two ledger entries, so the balance is off.",
    ),
    (
        "PAY-4",
        "PAY",
        "Story",
        "Support Apple Pay on the mobile app",
        "iOS users ask for wallet payments.",
    ),
    (
        "PAY-5",
        "PAY",
        "Task",
        "Send VAT invoices to EU business customers",
        "Invoices must show the reverse-charge note.",
    ),
    (
        "PAY-6",
        "PAY",
        "Bug",
        "Currency is rounded wrongly for Japanese yen",
        "Amounts show two decimals although yen has none.",
    ),
    (
        "PAY-7",
        "PAY",
        "Story",
        "Let customers pause their subscription",
        "Pause for up to three months instead of cancelling.",
    ),
    (
        "PAY-8",
        "PAY",
        "Bug",
        "Webhook from the payment provider is processed twice",
        "Duplicate events mark orders paid twice.",
    ),
    (
        "OPS-1",
        "OPS",
        "Incident",
        "Database primary ran out of disk space",
        "Writes failed for 20 minutes until old WAL segments were removed.",
    ),
    (
        "OPS-2",
        "OPS",
        "Task",
        "Rotate the TLS certificates of the load balancer",
        "The certificates expire next month.",
    ),
    (
        "OPS-3",
        "OPS",
        "Bug",
        "Nightly backup job silently skips large tables",
        "Tables over 50 GB are not in the backup archive.",
    ),
    (
        "OPS-4",
        "OPS",
        "Task",
        "Upgrade the Kubernetes cluster to the next minor version",
        "The current version leaves support in June.",
    ),
    (
        "OPS-5",
        "OPS",
        "Incident",
        "Memory leak in the API pods causes restarts every hour",
        "Resident memory grows until the OOM killer stops the pod.",
    ),
    (
        "OPS-6",
        "OPS",
        "Story",
        "Page the on-call engineer when error rates spike",
        "Alert on 5xx above two percent for five minutes.",
    ),
    (
        "OPS-7",
        "OPS",
        "Task",
        "Move log storage to cheaper object storage",
        "Keep 90 days of logs at a lower cost.",
    ),
    (
        "OPS-8",
        "OPS",
        "Bug",
        "DNS changes take hours to reach some regions",
        "Resolvers in Asia keep the old records.",
    ),
    (
        "WEB-1",
        "WEB",
        "Bug",
        "Dark mode makes the sidebar text unreadable",
        "Grey text on a dark grey background.",
    ),
    (
        "WEB-2",
        "WEB",
        "Story",
        "Export the dashboard as a PDF report",
        "Managers want to print the weekly dashboard.",
    ),
    (
        "WEB-3",
        "WEB",
        "Task",
        "Translate the onboarding screens into German",
        "Marketing provided the texts.",
    ),
    (
        "WEB-4",
        "WEB",
        "Bug",
        "Search box loses focus after every keystroke",
        "Typing a query needs a click after each letter.",
    ),
    (
        "WEB-5",
        "WEB",
        "Story",
        "Remember the table sort order between visits",
        "Users re-sort the orders table every time they open it.",
    ),
    (
        "WEB-6",
        "WEB",
        "Bug",
        "Images on the product page load very slowly on phones",
        "Full-size photos are sent to mobile browsers.",
    ),
    (
        "WEB-7",
        "WEB",
        "Story",
        "Add keyboard shortcuts for common actions",
        "Power users want to archive and reply without the mouse.",
    ),
    (
        "WEB-8",
        "WEB",
        "Bug",
        "Date picker shows the wrong week start in the US",
        "Weeks start on Monday for US users; they expect Sunday.",
    ),
];

/// Paraphrases (not copies) of specific items, and the item each means.
const QUERIES: [(&str, &str); 24] = [
    (
        "checkout hangs and the payment provider never answers",
        "PAY-1",
    ),
    (
        "charge the customer's card again after it was refused",
        "PAY-2",
    ),
    (
        "money given back to customers shows up two times in accounting",
        "PAY-3",
    ),
    ("pay with an iPhone wallet in our app", "PAY-4"),
    ("tax bills for companies in Europe", "PAY-5"),
    ("yen amounts displayed with cents", "PAY-6"),
    ("temporarily stop a plan without cancelling it", "PAY-7"),
    (
        "the same payment notification gets handled more than once",
        "PAY-8",
    ),
    ("the main database server's storage filled up", "OPS-1"),
    ("renew the HTTPS certificates before they lapse", "OPS-2"),
    (
        "some big tables are missing from the nightly backups",
        "OPS-3",
    ),
    ("update our k8s version before end of support", "OPS-4"),
    (
        "service containers keep getting killed because RAM usage climbs",
        "OPS-5",
    ),
    ("wake someone up when lots of server errors happen", "OPS-6"),
    ("store old logs somewhere less expensive", "OPS-7"),
    ("name server updates propagate slowly in Asia", "OPS-8"),
    (
        "text in the side menu is hard to read with the night theme",
        "WEB-1",
    ),
    (
        "download the weekly charts as a printable document",
        "WEB-2",
    ),
    ("German version of the first-run screens", "WEB-3"),
    (
        "typing in the search field keeps dropping the cursor",
        "WEB-4",
    ),
    ("keep my column sorting next time I open the page", "WEB-5"),
    ("product photos are too heavy for mobile visitors", "WEB-6"),
    ("hotkeys to archive and reply quickly", "WEB-7"),
    (
        "calendar widget starts weeks on the wrong day for American users",
        "WEB-8",
    ),
];

/// Test shorthands over the product's `VectorStore` trait (work items, collection MODEL), so
/// that one set of tests runs against each store.
trait Store {
    async fn replace(&self, tenant: Uuid, entity_id: &str, points: &[Point]);
    async fn delete(&self, tenant: Uuid, entity_id: &str);
    async fn find(&self, tenant: Uuid, vector: &[f32], top_k: usize, filters: &Filters)
    -> Vec<Hit>;
}

impl<S: VectorStore> Store for S {
    async fn replace(&self, tenant: Uuid, entity_id: &str, points: &[Point]) {
        self.replace_entities(tenant, MODEL, &[("work_item", entity_id, points)])
            .await
            .expect("store");
    }
    async fn delete(&self, tenant: Uuid, entity_id: &str) {
        self.delete_entity(tenant, MODEL, "work_item", entity_id)
            .await
            .expect("delete");
    }
    async fn find(
        &self,
        tenant: Uuid,
        vector: &[f32],
        top_k: usize,
        filters: &Filters,
    ) -> Vec<Hit> {
        self.search(tenant, MODEL, vector, top_k, filters)
            .await
            .expect("search")
    }
}

async fn index(
    store: &impl VectorStore,
    model: &LocalModel,
    tenant: Uuid,
    items: &[(&str, &str, &str, &str, &str)],
) {
    for (key, project, item_type, summary, description) in items {
        let document = work_item_document(&WorkItemContent {
            key: key.to_string(),
            summary: summary.to_string(),
            description: description.to_string(),
            item_type: item_type.to_string(),
            status: "Open".into(),
            ..Default::default()
        });
        let parts = chunks(&document, 180, 30);
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        let vectors = model.embed(&refs);
        let points: Vec<Point> = parts
            .iter()
            .zip(vectors)
            .enumerate()
            .map(|(chunk, (text, vector))| Point {
                entity_type: "work_item".into(),
                entity_id: format!("{tenant}/{key}"),
                chunk: chunk as i32,
                content_hash: content_hash(MODEL, text),
                vector,
                snippet: text.chars().take(200).collect(),
                project: project.to_string(),
                item_type: item_type.to_string(),
                status: "Open".into(),
                updated_at: None,
            })
            .collect();
        store
            .replace(tenant, &format!("{tenant}/{key}"), &points)
            .await;
    }
}

/// Relevance, tenant isolation, filters and deletion, against one store.
async fn exercise(store: &impl VectorStore, model: &LocalModel, tenant_a: Uuid, tenant_b: Uuid) {
    index(store, model, tenant_a, &ITEMS).await;
    // Tenant B has one item of its own, about something else.
    index(
        store,
        model,
        tenant_b,
        &[(
            "HR-1",
            "HR",
            "Task",
            "Plan the summer team event",
            "Pick a date and a venue.",
        )],
    )
    .await;

    let queries = QUERIES;
    let mut found = 0;
    for (query, expected) in queries {
        let vector = model.embed(&[query]).remove(0);
        let hits = store.find(tenant_a, &vector, 3, &Filters::default()).await;
        assert!(hits.len() <= 3);
        if hits
            .iter()
            .any(|h| h.entity_id == format!("{tenant_a}/{expected}"))
        {
            found += 1;
        } else {
            eprintln!("{query:?}: expected {expected}, got {hits:?}");
        }
        // Whatever the query, tenant B sees only its own item.
        let theirs = store.find(tenant_b, &vector, 10, &Filters::default()).await;
        assert!(
            theirs
                .iter()
                .all(|h| h.entity_id.starts_with(&tenant_b.to_string())),
            "{theirs:?}"
        );
    }
    eprintln!(
        "relevance ({}): {found} of {} queries have their item in the top 3",
        model.precision(),
        queries.len()
    );
    // What BENCHMARKS.md and the README claim for the local model at its default precision.
    assert_eq!(
        found,
        queries.len(),
        "every query finds its item in the top 3"
    );

    // Filters narrow the candidates.
    let ops_bugs_filter = Filters {
        projects: vec!["OPS".into()],
        item_types: vec!["Bug".into()],
        ..Filters::default()
    };
    let vector = model.embed(&["something is broken"]).remove(0);
    let ops_bugs = store.find(tenant_a, &vector, 10, &ops_bugs_filter).await;
    let mut ids: Vec<&str> = ops_bugs.iter().map(|h| h.entity_id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            format!("{tenant_a}/OPS-3").as_str(),
            format!("{tenant_a}/OPS-8").as_str()
        ]
    );
    // Deleting an item removes its vectors.
    for key in ["OPS-3", "OPS-8"] {
        store.delete(tenant_a, &format!("{tenant_a}/{key}")).await;
    }
    let after = store.find(tenant_a, &vector, 10, &ops_bugs_filter).await;
    assert!(after.is_empty(), "{after:?}");

    // Dropping tenant A's collection (after a reindex) leaves tenant B's vectors alone.
    let theirs = store.count(tenant_b, MODEL).await.expect("count b");
    assert!(theirs > 0);
    assert!(store.count(tenant_a, MODEL).await.expect("count a") > 0);
    store.drop_collection(tenant_a, MODEL).await.expect("drop");
    assert_eq!(store.count(tenant_a, MODEL).await.expect("count a"), 0);
    assert_eq!(store.count(tenant_b, MODEL).await.expect("count b"), theirs);
    assert!(
        store
            .find(tenant_a, &vector, 10, &Filters::default())
            .await
            .is_empty()
    );
}

async fn second_tenant(env: &TestEnv) -> Uuid {
    sluice_plumbing::auth::bootstrap_tenant(&env.pool, &format!("vectors-{}", Uuid::new_v4()), "k")
        .await
        .expect("tenant b")
        .tenant_id
}

#[tokio::test]
async fn paraphrased_queries_find_their_item_within_the_tenant_only() {
    let env = TestEnv::start(Options::default()).await;
    let store = PostgresStore::new(env.pool.clone());
    let tenant_b = second_tenant(&env).await;
    exercise(&store, &model(), env.tenant_id, tenant_b).await;
    env.stop().await;
}

/// The same tests against Qdrant (`QDRANT_URL`, e.g. http://localhost:6334, and
/// `QDRANT_API_KEY` if it needs one). No Qdrant server is installable on the project's
/// machines, so it is ignored by default and counted as skipped in the suite's closing line;
/// deploy/test.sh runs it (`-- --ignored`) when QDRANT_URL is set.
#[tokio::test]
#[ignore = "needs a Qdrant server: set QDRANT_URL and deploy/test.sh runs it"]
async fn the_qdrant_store_passes_the_same_tests_when_a_server_is_configured() {
    let url = std::env::var("QDRANT_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .expect("QDRANT_URL names the Qdrant server this test runs against");
    let env = TestEnv::start(Options::default()).await;
    let store = QdrantStore::connect(&url, std::env::var("QDRANT_API_KEY").ok(), 384)
        .expect("qdrant client");
    let tenant_b = second_tenant(&env).await;
    exercise(&store, &model(), env.tenant_id, tenant_b).await;
    env.stop().await;
}

async fn embedded_count(env: &TestEnv, tenant: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM vectorization_status WHERE tenant_id = $1 AND status = 'done'",
    )
    .bind(tenant)
    .fetch_one(&env.pool)
    .await
    .expect("count")
}

async fn run_counts(env: &TestEnv, run_id: &str) -> sluice_proto::v1::RunCounts {
    env.jobs()
        .get_job_run(env.authed(sluice_proto::v1::GetJobRunRequest { id: run_id.into() }))
        .await
        .expect("run")
        .into_inner()
        .run
        .expect("run")
        .counts
        .expect("counts")
}

#[tokio::test]
async fn synced_issues_become_searchable_and_only_changed_content_is_embedded_again() {
    use sluice_proto::v1 as pb;
    let env = TestEnv::start(Options {
        vectorize: true,
        dataset: sluice_simulator::Dataset::generated(2, 3, 4).with_issues(
            sluice_simulator::IssueSpec {
                issues_per_project: 12,
                seed: 9,
                custom_fields: 4,
                mean_histories: 2,
                long_changelog_every: 0,
                dev_status_every: 0,
            },
        ),
        ..Options::default()
    })
    .await;
    let (integration_id, jobs) = env.create_jira_integration_with_jobs("searchable").await;
    // The vectorize stage's progress, as a WatchJobs subscriber sees it.
    let mut watch = env
        .jobs()
        .watch_jobs(env.authed(pb::WatchJobsRequest {
            job_id: jobs[1].clone(),
        }))
        .await
        .expect("watch")
        .into_inner();
    let (watched_tx, mut watched) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(event)) = watch.message().await {
            if watched_tx.send(event).is_err() {
                break;
            }
        }
    });
    for job in &jobs {
        let run = env.run_and_wait(job).await;
        assert_eq!(
            run.status,
            pb::RunStatus::Completed as i32,
            "{}",
            run.error_message
        );
    }
    let issues = env.count("work_items", &integration_id).await as i64;
    assert!(issues > 0);
    for _ in 0..200 {
        if embedded_count(&env, env.tenant_id).await == issues {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        embedded_count(&env, env.tenant_id).await,
        issues,
        "every issue embedded"
    );
    let mut seen = (0, 0);
    for _ in 0..100 {
        while let Ok(event) = watched.try_recv() {
            if let Some(counts) = event.counts {
                seen = (counts.vectors_queued, counts.vectors_done);
            }
        }
        if seen == (issues, issues) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen,
        (issues, issues),
        "WatchJobs shows every issue queued and embedded"
    );

    // Search by an issue's own summary: it comes first, with its display fields.
    let (key, summary): (String, String) = sqlx::query_as(
        "SELECT key, summary FROM work_items WHERE integration_id = $1::uuid AND summary <> '' ORDER BY key LIMIT 1",
    )
    .bind(&integration_id)
    .fetch_one(&env.pool)
    .await
    .expect("an issue");
    let found = env
        .search()
        .search(env.authed(pb::SearchRequest {
            query: summary.clone(),
            top_k: 3,
            filters: None,
            hybrid: false,
        }))
        .await
        .expect("search")
        .into_inner();
    let first = found.results.first().expect("a result");
    assert_eq!(first.key, key, "{:?}", found.results);
    assert_eq!(first.title, summary);
    assert!(
        first.url.ends_with(&format!("/browse/{key}")),
        "{}",
        first.url
    );

    // Another tenant finds nothing of this one's, whatever the query.
    let other = sluice_plumbing::auth::bootstrap_tenant(
        &env.pool,
        &format!("search-{}", Uuid::new_v4()),
        "k",
    )
    .await
    .expect("other tenant");
    let theirs = env
        .search()
        .search(crate::harness::with_key(
            &other.key,
            pb::SearchRequest {
                query: summary.clone(),
                top_k: 10,
                filters: None,
                hybrid: false,
            },
        ))
        .await
        .expect("search as another tenant")
        .into_inner();
    assert!(theirs.results.is_empty(), "{:?}", theirs.results);

    // Bad input names the field.
    for (request, field) in [
        (
            pb::SearchRequest {
                query: "  ".into(),
                ..Default::default()
            },
            "query",
        ),
        (
            pb::SearchRequest {
                query: "x".into(),
                top_k: 1000,
                ..Default::default()
            },
            "top_k",
        ),
    ] {
        let status = env
            .search()
            .search(env.authed(request))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }

    // A re-sync with no content change embeds nothing (the loader still sends what it loaded).
    let issues_job = &jobs[1];
    let rerun = env.run_and_wait(issues_job).await;
    assert_eq!(rerun.status, pb::RunStatus::Completed as i32);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let counts = run_counts(&env, &rerun.id).await;
    // (incremental: the issues inside the overlap window are fetched and loaded again)
    assert!(counts.vectors_queued > 0, "{counts:?}");
    assert_eq!(counts.vectors_queued, counts.issues_loaded, "{counts:?}");
    assert_eq!(
        counts.vectors_done, 0,
        "nothing changed, nothing embedded: {counts:?}"
    );

    // One summary changes: exactly that issue is embedded again.
    let external_id: String = sqlx::query_scalar(
        "UPDATE work_items SET summary = 'Completely different words about tax invoices'
         WHERE integration_id = $1::uuid AND key = $2 RETURNING external_id",
    )
    .bind(&integration_id)
    .bind(&key)
    .fetch_one(&env.pool)
    .await
    .expect("change");
    let (_connection, publisher) = env.publisher().await;
    let run_context = pb::RunContext {
        tenant_id: env.tenant_id.to_string(),
        integration_id: integration_id.clone(),
        job_id: issues_job.clone(),
        run_id: rerun.id.clone(),
        trace: None,
    };
    let everything: Vec<pb::EntityRef> = sqlx::query_scalar::<_, String>(
        "SELECT external_id FROM work_items WHERE integration_id = $1::uuid",
    )
    .bind(&integration_id)
    .fetch_all(&env.pool)
    .await
    .expect("ids")
    .into_iter()
    .map(|id| pb::EntityRef {
        entity_type: "work_item".into(),
        entity_id: format!("{integration_id}/{id}"),
    })
    .collect();
    publisher
        .publish(
            &env.topology.vectorization(),
            &pb::VectorizeRequest {
                run: Some(run_context),
                entities: everything,
                deleted: vec![],
            },
        )
        .await
        .expect("publish");
    let mut done = 0;
    for _ in 0..100 {
        done = run_counts(&env, &rerun.id).await.vectors_done;
        if done > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(done, 1, "exactly the changed issue was embedded again");
    let found = env
        .search()
        .search(env.authed(pb::SearchRequest {
            query: "tax invoices".into(),
            top_k: 1,
            filters: None,
            hybrid: false,
        }))
        .await
        .expect("search")
        .into_inner();
    assert_eq!(
        found.results[0].entity_id,
        format!("{integration_id}/{external_id}")
    );

    // The issue disappears from Jira: the next sync marks it deleted and its vectors go.
    assert!(env.simulator.delete_issue(&key));
    let after_delete = env.run_and_wait(issues_job).await;
    assert_eq!(
        after_delete.status,
        pb::RunStatus::Completed as i32,
        "{}",
        after_delete.error_message
    );
    let entity = format!("{integration_id}/{external_id}");
    let mut left = -1i64;
    for _ in 0..100 {
        left = sqlx::query_scalar(
            "SELECT count(*) FROM embedded_vectors WHERE tenant_id = $1 AND entity_id = $2",
        )
        .bind(env.tenant_id)
        .bind(&entity)
        .fetch_one(&env.pool)
        .await
        .expect("vectors");
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "the deleted issue's vectors are removed");
    env.stop().await;
}

/// The model directory the tests use.
pub(crate) fn model_dir() -> PathBuf {
    std::env::var("SLUICE_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(DEFAULT_MODEL_DIR)
        })
}

/// The static table from the test model directory, distilled by one test at a time (on a
/// fresh checkout the first caller distils it; the others then read the cache).
pub(crate) fn static_model() -> sluice_vectorizer::embed::static_model::StaticModel {
    static DISTILLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = DISTILLING.lock().unwrap_or_else(|e| e.into_inner());
    sluice_vectorizer::embed::static_model::StaticModel::load_or_distill(&model_dir(), &model())
        .expect("static model")
}

#[test]
fn the_static_model_is_distilled_once_and_its_relevance_is_reported() {
    use sluice_vectorizer::embed::static_model::StaticModel;
    let local = model();
    let dir = model_dir();
    let distilled = static_model();
    let cached = StaticModel::cached_path(&dir);
    let written = std::fs::metadata(&cached)
        .expect("cached table")
        .modified()
        .expect("mtime");
    // A second load reads the cache instead of distilling again.
    let again = StaticModel::load_or_distill(&dir, &local).expect("static model again");
    assert_eq!(
        std::fs::metadata(&cached)
            .expect("cached")
            .modified()
            .expect("mtime"),
        written
    );
    assert_eq!(again.dimensions(), 384);

    let found = relevance(|texts| distilled.embed(texts));
    eprintln!(
        "static relevance: {found} of {} queries have their item in the top 3",
        QUERIES.len()
    );
    // What BENCHMARKS.md claims for the static table.
    assert!(found >= 22, "{found} of {} in the top 3", QUERIES.len());
}

/// Queries (of the 24) whose item ranks in the top 3 among the 24 items' documents, ranked
/// in memory by cosine.
fn relevance(embed: impl Fn(&[&str]) -> Vec<Vec<f32>>) -> usize {
    let documents: Vec<String> = ITEMS
        .iter()
        .map(|(key, _, item_type, summary, description)| {
            work_item_document(&WorkItemContent {
                key: key.to_string(),
                summary: summary.to_string(),
                description: description.to_string(),
                item_type: item_type.to_string(),
                status: "Open".into(),
                ..Default::default()
            })
        })
        .collect();
    let refs: Vec<&str> = documents.iter().map(String::as_str).collect();
    let vectors = embed(&refs);
    for vector in &vectors {
        let norm: f32 = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
    let queries: Vec<&str> = QUERIES.iter().map(|(query, _)| *query).collect();
    let mut found = 0;
    for (q, (_, expected)) in embed(&queries).iter().zip(QUERIES) {
        let mut ranked: Vec<(f32, &str)> = vectors
            .iter()
            .zip(ITEMS.iter())
            .map(|(v, item)| (v.iter().zip(q).map(|(a, b)| a * b).sum::<f32>(), item.0))
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        if ranked.iter().take(3).any(|(_, key)| *key == expected) {
            found += 1;
        }
    }
    found
}

/// Every precision this CPU has a kernel for (`SLUICE_EMBED_PRECISION`) keeps the local
/// model's relevance: at least 23 of the 24 paraphrases in the top 3 (f32 and the default
/// find all 24; see BENCHMARKS.md).
#[test]
fn every_precision_this_cpu_runs_keeps_the_paraphrases_in_the_top_3() {
    for precision in Precision::ALL {
        let Some(kernel) = precision.kernel() else {
            eprintln!("{precision}: no kernel on this CPU, not tested here");
            continue;
        };
        let model = LocalModel::load_with_precision(&model_dir(), 256, 2, precision)
            .expect("the local model (deploy/setup-model.sh places it)");
        let found = relevance(|texts| model.embed(texts));
        eprintln!(
            "{precision} ({}): {found} of {} queries have their item in the top 3",
            kernel.name(),
            QUERIES.len()
        );
        let bar = if precision == Precision::F32 || precision == Precision::default() {
            QUERIES.len()
        } else {
            QUERIES.len() - 1
        };
        assert!(found >= bar, "{precision}: {found} of {}", QUERIES.len());
    }
}

/// Statistics are gathered for the tables that changed enough, even with autovacuum off
/// (as on this project's CI servers), so lookups keep their index plans during a bulk load.
#[tokio::test]
async fn tables_that_changed_are_analyzed_and_the_others_are_left_alone() {
    let env = TestEnv::start(Options {
        own_database: true,
        ..Options::default()
    })
    .await;
    let keeper = sluice_plumbing::db::StatisticsKeeper::new(
        env.pool.clone(),
        &["embedded_vectors", "search_documents"],
        Duration::from_millis(0),
    );
    sqlx::query(
        "INSERT INTO embedded_vectors (tenant_id, model, entity_type, entity_id, chunk, content_hash, vector)
         SELECT $1, 'm', 'work_item', 'i-' || n, 0, '', '\\x00'::bytea FROM generate_series(1, 2000) AS n",
    )
    .bind(env.tenant_id)
    .execute(&env.pool)
    .await
    .expect("rows");
    let last_analyze = |table: &'static str| {
        let pool = env.pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<chrono::DateTime<chrono::Utc>>>(
                "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = $1",
            )
            .bind(table)
            .fetch_one(&pool)
            .await
            .expect("stats")
        }
    };
    // The server publishes table activity within about a second of a commit.
    let mut analyzed = Vec::new();
    for _ in 0..50 {
        analyzed = keeper.analyze_stale().await.expect("analyze");
        if !analyzed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(analyzed, ["embedded_vectors"]);
    assert!(last_analyze("embedded_vectors").await.is_some());
    assert!(
        last_analyze("search_documents").await.is_none(),
        "an unchanged table is not analyzed"
    );
    // Nothing changed since: nothing to do.
    assert!(keeper.analyze_stale().await.expect("again").is_empty());
    env.stop().await;
}
