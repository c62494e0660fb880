//! The embedded vector store with the real local model: paraphrased queries find their work
//! item, filters narrow the results, and a tenant never sees another tenant's vectors.

use std::path::{Path, PathBuf};

use sluice_vectorizer::document::{WorkItemContent, chunks, content_hash, work_item_document};
use sluice_vectorizer::embed::{DEFAULT_MODEL_DIR, LocalModel};
use sluice_vectorizer::store::{Filters, Point, PostgresStore};
use uuid::Uuid;

use crate::harness::{Options, TestEnv};

const MODEL: &str = "all-MiniLM-L6-v2";

fn model() -> LocalModel {
    let dir = std::env::var("SLUICE_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(DEFAULT_MODEL_DIR)
        });
    LocalModel::load(&dir, 256, 2).unwrap_or_else(|e| {
        panic!("the local model is required for this test ({e}); deploy/test.sh places it with deploy/setup-model.sh")
    })
}

/// (key, project, type, summary, description)
const ITEMS: [(&str, &str, &str, &str, &str); 8] = [
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
        "OPS-3",
        "OPS",
        "Bug",
        "Nightly backup job silently skips large tables",
        "Tables over 50 GB are not in the backup archive.",
    ),
    (
        "WEB-3",
        "WEB",
        "Task",
        "Translate the onboarding screens into German",
        "Marketing provided the texts.",
    ),
];

async fn index(
    env: &TestEnv,
    store: &PostgresStore,
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
            .replace_entity(
                tenant,
                MODEL,
                "work_item",
                &format!("{tenant}/{key}"),
                &points,
            )
            .await
            .expect("store");
    }
    let _ = env;
}

#[tokio::test]
async fn paraphrased_queries_find_their_item_within_the_tenant_only() {
    let env = TestEnv::start(Options::default()).await;
    let model = model();
    let store = PostgresStore::new(env.pool.clone());
    let tenant_a = env.tenant_id;
    let tenant_b = sluice_plumbing::auth::bootstrap_tenant(
        &env.pool,
        &format!("vectors-{}", Uuid::new_v4()),
        "k",
    )
    .await
    .expect("tenant b")
    .tenant_id;
    index(&env, &store, &model, tenant_a, &ITEMS).await;
    // Tenant B has one item of its own, about something else.
    index(
        &env,
        &store,
        &model,
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

    let queries = [
        (
            "checkout hangs and the payment provider never answers",
            "PAY-1",
        ),
        (
            "charge the customer's card again after it was refused",
            "PAY-2",
        ),
        ("the main database server's storage filled up", "OPS-1"),
        ("renew the HTTPS certificates before they lapse", "OPS-2"),
        (
            "text in the side menu is hard to read with the night theme",
            "WEB-1",
        ),
        (
            "download the weekly charts as a printable document",
            "WEB-2",
        ),
        (
            "some big tables are missing from the nightly backups",
            "OPS-3",
        ),
        ("German version of the first-run screens", "WEB-3"),
    ];
    let mut found = 0;
    for (query, expected) in queries {
        let vector = model.embed(&[query]).remove(0);
        let hits = store
            .search(tenant_a, MODEL, &vector, 3, &Filters::default())
            .await
            .expect("search");
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
        let theirs = store
            .search(tenant_b, MODEL, &vector, 10, &Filters::default())
            .await
            .expect("search b");
        assert!(
            theirs
                .iter()
                .all(|h| h.entity_id.starts_with(&tenant_b.to_string())),
            "{theirs:?}"
        );
    }
    assert!(
        found * 10 >= queries.len() * 9,
        "{found} of {} in the top 3",
        queries.len()
    );

    // Filters narrow the candidates.
    let vector = model.embed(&["something is broken"]).remove(0);
    let ops_bugs = store
        .search(
            tenant_a,
            MODEL,
            &vector,
            10,
            &Filters {
                projects: vec!["OPS".into()],
                item_types: vec!["Bug".into()],
                ..Filters::default()
            },
        )
        .await
        .expect("filtered");
    let ids: Vec<&str> = ops_bugs.iter().map(|h| h.entity_id.as_str()).collect();
    assert_eq!(ids, vec![format!("{tenant_a}/OPS-3").as_str()]);
    // Deleting an item removes its vectors.
    assert!(
        store
            .delete_entity(tenant_a, "work_item", &format!("{tenant_a}/OPS-3"))
            .await
            .expect("delete")
            > 0
    );
    let after = store
        .search(
            tenant_a,
            MODEL,
            &vector,
            10,
            &Filters {
                projects: vec!["OPS".into()],
                item_types: vec!["Bug".into()],
                ..Filters::default()
            },
        )
        .await
        .expect("after delete");
    assert!(after.is_empty(), "{after:?}");
    env.stop().await;
}
