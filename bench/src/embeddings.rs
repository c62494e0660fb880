//! Local embedding throughput: documents per second for texts of ~60 and ~300 tokens with
//! the in-process BERT encoder (all-MiniLM-L6-v2 by default), by thread count.
//!
//! ```sh
//! bash deploy/setup-model.sh
//! cargo build --release -p sluice-bench
//! target/release/embeddings --docs 2000
//! ```

use std::time::Instant;

use clap::Parser;
use sluice_vectorizer::embed::static_model::StaticModel;
use sluice_vectorizer::embed::{LocalModel, model_dir};

#[derive(Parser)]
struct Args {
    /// Documents per measurement.
    #[arg(long, default_value_t = 2000)]
    docs: usize,
    /// Texts per call (a vectorizer batch).
    #[arg(long, default_value_t = 64)]
    batch: usize,
}

/// Deterministic issue-like texts of about `words` words.
fn texts(count: usize, words: usize) -> Vec<String> {
    const VOCABULARY: [&str; 24] = [
        "billing",
        "retry",
        "customer",
        "invoice",
        "declined",
        "card",
        "payment",
        "service",
        "timeout",
        "database",
        "migration",
        "dashboard",
        "latency",
        "queue",
        "worker",
        "deploy",
        "rollback",
        "alert",
        "incident",
        "release",
        "checkout",
        "cache",
        "search",
        "export",
    ];
    (0..count)
        .map(|i| {
            (0..words)
                .map(|w| VOCABULARY[(i * 7 + w * 13 + w * w) % VOCABULARY.len()])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = model_dir();
    println!(
        "## Local embeddings ({}), {} documents per row, batches of {}",
        dir.display(),
        args.docs,
        args.batch
    );
    println!();
    println!("| provider | text | tokens (with [CLS]/[SEP]) | threads | documents/s |");
    println!("|---|---|---|---|---|");
    for (label, words) in [("~60 tokens", 58usize), ("~300 tokens", 298)] {
        let corpus = texts(args.docs, words);
        for threads in [1usize, 2] {
            let model = LocalModel::load(&dir, 512, threads)?;
            let refs: Vec<&str> = corpus.iter().map(String::as_str).collect();
            // Warm-up.
            model.embed(&refs[..args.batch.min(refs.len())]);
            let started = Instant::now();
            for chunk in refs.chunks(args.batch) {
                let vectors = model.embed(chunk);
                assert_eq!(vectors.len(), chunk.len());
            }
            let rate = args.docs as f64 / started.elapsed().as_secs_f64();
            println!(
                "| local | {label} | {} | {threads} | {rate:.0} |",
                words + 2
            );
        }
    }
    // The static table (distilled once from the local model, then cached).
    let local = LocalModel::load(&dir, 512, 2)?;
    let distilled = StaticModel::load_or_distill(&dir, &local)?;
    for (label, words) in [("~60 tokens", 58usize), ("~300 tokens", 298)] {
        let corpus = texts(args.docs * 25, words);
        let refs: Vec<&str> = corpus.iter().map(String::as_str).collect();
        let started = Instant::now();
        for chunk in refs.chunks(args.batch) {
            let vectors = distilled.embed(chunk);
            assert_eq!(vectors.len(), chunk.len());
        }
        let rate = refs.len() as f64 / started.elapsed().as_secs_f64();
        println!("| static | {label} | {} | 1 | {rate:.0} |", words + 2);
    }
    Ok(())
}
