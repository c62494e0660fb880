//! Search latency of the embedded store at N vectors: N random unit vectors (384 dimensions)
//! for one tenant, then queries through `PostgresStore::search` (top 10, no filters and with
//! a project filter). Reports the first query (loads the tenant's vectors into memory) and
//! p50/p99 of the following ones.
//!
//! ```sh
//! bash deploy/stack.sh sluice_bench
//! cargo build --release -p sluice-bench
//! SLUICE_DATABASE_URL='postgres://sluice:sluice@127.0.0.1:5432/sluice_bench?sslmode=disable' \
//!   target/release/search-latency --vectors 100000
//! ```

use std::time::Instant;

use clap::Parser;
use sluice_vectorizer::store::{Filters, PostgresStore};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    vectors: usize,
    #[arg(long, default_value_t = 384)]
    dimensions: usize,
    #[arg(long, default_value_t = 300)]
    queries: usize,
    #[arg(
        long,
        env = "SLUICE_DATABASE_URL",
        default_value = "postgres://sluice:sluice@127.0.0.1:5432/sluice_bench"
    )]
    database_url: String,
}

/// A deterministic pseudo-random unit vector.
fn vector(seed: u64, dimensions: usize) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v: Vec<f32> = (0..dimensions)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 2000) as f32 / 1000.0 - 1.0
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sluice_plumbing::install_crypto_provider();
    let args = Args::parse();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&args.database_url)
        .await?;
    sluice_plumbing::db::migrate(&pool).await?;
    let tenant = sluice_plumbing::auth::bootstrap_tenant(
        &pool,
        &format!("search-bench-{}", uuid::Uuid::new_v4()),
        "bench",
    )
    .await?
    .tenant_id;
    let model = "bench-random-384";
    println!("inserting {} vectors", args.vectors);
    let started = Instant::now();
    for batch in (0..args.vectors).collect::<Vec<_>>().chunks(2000) {
        let ids: Vec<String> = batch.iter().map(|i| format!("bench/{i}")).collect();
        let vectors: Vec<Vec<u8>> = batch
            .iter()
            .map(|i| {
                vector(*i as u64, args.dimensions)
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect()
            })
            .collect();
        let projects: Vec<String> = batch.iter().map(|i| format!("P{}", i % 10)).collect();
        sqlx::query(
            "INSERT INTO embedded_vectors (tenant_id, model, entity_type, entity_id, chunk, content_hash, vector,
                 snippet, project, item_type, status)
             SELECT $1, $2, 'work_item', u.id, 0, '', u.v, '', u.p, 'Bug', 'Open'
             FROM UNNEST($3::text[], $4::bytea[], $5::text[]) AS u(id, v, p)",
        )
        .bind(tenant)
        .bind(model)
        .bind(&ids)
        .bind(&vectors)
        .bind(&projects)
        .execute(&pool)
        .await?;
    }
    sqlx::query("INSERT INTO vector_generations (tenant_id, model, generation) VALUES ($1, $2, 1)")
        .bind(tenant)
        .bind(model)
        .execute(&pool)
        .await?;
    println!("inserted in {:.1} s", started.elapsed().as_secs_f64());

    let store = PostgresStore::new(pool.clone());
    let first = Instant::now();
    store
        .search(
            tenant,
            model,
            &vector(u64::MAX, args.dimensions),
            10,
            &Filters::default(),
        )
        .await?;
    let cold = first.elapsed().as_secs_f64() * 1000.0;
    let mut rows = Vec::new();
    for (label, filters) in [
        ("no filter", Filters::default()),
        (
            "project filter (1 in 10)",
            Filters {
                projects: vec!["P3".into()],
                ..Filters::default()
            },
        ),
    ] {
        let mut times: Vec<f64> = Vec::with_capacity(args.queries);
        for q in 0..args.queries {
            let query = vector(10_000_000 + q as u64, args.dimensions);
            let started = Instant::now();
            let hits = store.search(tenant, model, &query, 10, &filters).await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(hits.len(), 10);
        }
        times.sort_by(f64::total_cmp);
        rows.push((label, percentile(&times, 0.5), percentile(&times, 0.99)));
    }
    println!();
    println!(
        "## Embedded store search latency: {} vectors × {} dimensions, top 10, {} queries",
        args.vectors, args.dimensions, args.queries
    );
    println!();
    println!("| query | p50 | p99 |");
    println!("|---|---|---|");
    println!("| first query (loads the tenant's vectors into memory) | {cold:.0} ms | |");
    for (label, p50, p99) in rows {
        println!("| {label} | {p50:.1} ms | {p99:.1} ms |");
    }
    sqlx::query("DELETE FROM tenants WHERE id = $1")
        .bind(tenant)
        .execute(&pool)
        .await?;
    sqlx::query("DELETE FROM embedded_vectors WHERE tenant_id = $1")
        .bind(tenant)
        .execute(&pool)
        .await?;
    Ok(())
}
