//! Local embedding throughput: documents per second for texts of ~60 and ~300 tokens with
//! the in-process BERT encoder (all-MiniLM-L6-v2 by default) in each precision this CPU has a
//! kernel for, by thread count; the static table; and candle's BERT (candle-transformers with
//! Hugging Face's tokenizer) on the same texts and model files, as a reference point.
//!
//! ```sh
//! bash deploy/setup-model.sh
//! cargo build --release -p sluice-bench
//! target/release/embeddings --docs 2000
//! ```
//!
//! candle sizes its thread pools once per process from `CANDLE_NUM_THREADS`, so each candle
//! row runs in a child process of this binary (`--candle-child THREADS`).

use std::path::Path;
use std::time::Instant;

use clap::Parser;
use sluice_vectorizer::embed::static_model::StaticModel;
use sluice_vectorizer::embed::{LocalModel, Precision, cosine, model_dir};

#[derive(Parser)]
struct Args {
    /// Documents per measurement.
    #[arg(long, default_value_t = 2000)]
    docs: usize,
    /// Texts per call (a vectorizer batch).
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Leave out the candle rows.
    #[arg(long)]
    no_candle: bool,
    /// Only this precision's local rows (int8, bf16 or f32; e.g. for a profile).
    #[arg(long)]
    precision: Option<String>,
    /// Internal: measure candle with this many threads on texts of `--words` words and print
    /// `rate min_cosine`.
    #[arg(long, hide = true)]
    candle_child: Option<usize>,
    #[arg(long, hide = true, default_value_t = 58)]
    words: usize,
}

/// The two text lengths: words per text (each word of the vocabulary below is one token).
const LENGTHS: [(&str, usize); 2] = [("~60 tokens", 58), ("~300 tokens", 298)];

/// Documents per row for texts of `words` words: `--docs` at ~60 tokens, a fifth of it at
/// ~300 (about the same number of tokens per row).
fn docs_for(docs: usize, words: usize) -> usize {
    if words > 100 { (docs / 5).max(1) } else { docs }
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

/// Documents per second of `embed` over `corpus` in batches, after one warm-up batch.
fn rate(corpus: &[String], batch: usize, mut embed: impl FnMut(&[&str]) -> usize) -> f64 {
    let refs: Vec<&str> = corpus.iter().map(String::as_str).collect();
    embed(&refs[..batch.min(refs.len())]);
    let started = Instant::now();
    for chunk in refs.chunks(batch) {
        assert_eq!(embed(chunk), chunk.len());
    }
    refs.len() as f64 / started.elapsed().as_secs_f64()
}

/// The smallest cosine between two lists of unit vectors, pairwise.
fn min_cosine(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| cosine(x, y))
        .fold(f32::INFINITY, f32::min)
}

/// The CPU's model name and the flags that decide which kernels run.
fn cpu_description() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let flags = field("flags");
    let relevant: Vec<&str> = flags
        .split_whitespace()
        .filter(|f| {
            ["avx2", "fma", "avx_vnni", "amx_int8", "amx_bf16"].contains(f)
                || f.starts_with("avx512")
        })
        .collect();
    format!(
        "{}, {} logical CPUs, flags: {}",
        field("model name"),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        relevant.join(" ")
    )
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = model_dir();
    if let Some(threads) = args.candle_child {
        let (rate, agreement) = candle::measure(&dir, &args, threads)?;
        println!("{rate} {agreement}");
        return Ok(());
    }
    println!(
        "## Local embeddings ({}), {} documents per row at ~60 tokens (a fifth at ~300), batches of {}, {}",
        dir.display(),
        args.docs,
        args.batch,
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    println!();
    println!("CPU: {}", cpu_description());
    println!();
    println!(
        "| provider | precision (kernel) | text | tokens (with [CLS]/[SEP]) | threads | documents/s | min cosine vs local f32 |"
    );
    println!("|---|---|---|---|---|---|---|");
    let reference = LocalModel::load_with_precision(&dir, 512, 2, Precision::F32)?;
    for precision in Precision::ALL {
        if args
            .precision
            .as_deref()
            .is_some_and(|only| only != precision.to_string())
        {
            continue;
        }
        let Some(kernel) = precision.kernel() else {
            println!("| local | {precision} (no kernel on this CPU) | | | | | |");
            continue;
        };
        for (label, words) in LENGTHS {
            let corpus = texts(docs_for(args.docs, words), words);
            let sample: Vec<&str> = corpus.iter().take(args.batch).map(String::as_str).collect();
            for threads in [1usize, 2] {
                let model = LocalModel::load_with_precision(&dir, 512, threads, precision)?;
                let agreement = min_cosine(&model.embed(&sample), &reference.embed(&sample));
                let rate = rate(&corpus, args.batch, |chunk| model.embed(chunk).len());
                println!(
                    "| local | {precision} ({}) | {label} | {} | {threads} | {rate:.0} | {agreement:.5} |",
                    kernel.name(),
                    words + 2
                );
            }
        }
    }
    // The static table (distilled once from the local model, then cached).
    let local = LocalModel::load(&dir, 512, 2)?;
    let distilled = StaticModel::load_or_distill(&dir, &local)?;
    for (label, words) in LENGTHS {
        let corpus = texts(args.docs * 25, words);
        let rate = rate(&corpus, args.batch, |chunk| distilled.embed(chunk).len());
        println!(
            "| static | f32 | {label} | {} | 1 | {rate:.0} | |",
            words + 2
        );
    }
    if args.no_candle {
        return Ok(());
    }
    for (label, words) in LENGTHS {
        for threads in [1usize, 2] {
            let output = std::process::Command::new(std::env::current_exe()?)
                .args(["--candle-child", &threads.to_string()])
                .args(["--words", &words.to_string()])
                .args(["--docs", &args.docs.to_string()])
                .args(["--batch", &args.batch.to_string()])
                .env("CANDLE_NUM_THREADS", threads.to_string())
                .env("RAYON_NUM_THREADS", threads.to_string())
                .output()?;
            anyhow::ensure!(
                output.status.success(),
                "candle run failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let stdout = String::from_utf8_lossy(&output.stdout);
            let mut fields = stdout.split_whitespace();
            let (Some(rate), Some(agreement)) = (fields.next(), fields.next()) else {
                anyhow::bail!("candle run printed {stdout:?}");
            };
            let rate: f64 = rate.parse()?;
            let agreement: f32 = agreement.parse()?;
            println!(
                "| candle 0.11 (candle-transformers BERT, tokenizers) | f32 (gemm) | {label} | {} | {threads} | {rate:.0} | {agreement:.5} |",
                words + 2
            );
        }
    }
    Ok(())
}

/// candle's BERT: Hugging Face's tokenizer (tokenizer.json, padded to the longest text of a
/// batch, truncated at 512 like ours), the model's forward pass with the attention mask, mean
/// pooling over real tokens and L2 normalisation: what sentence-transformers computes.
mod candle {
    use super::*;
    use candle_core::{DType, Device, Tensor};
    use candle_nn::VarBuilder;
    use candle_transformers::models::bert::{BertModel, Config, DTYPE};
    use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

    struct Candle {
        model: BertModel,
        tokenizer: Tokenizer,
        device: Device,
    }

    impl Candle {
        fn load(dir: &Path) -> anyhow::Result<Candle> {
            let device = Device::Cpu;
            let config: Config = serde_json::from_slice(&std::fs::read(dir.join("config.json"))?)?;
            // SAFETY: the model file is not modified while mapped (candle's own API contract).
            let vb = unsafe {
                VarBuilder::from_mmaped_safetensors(
                    &[dir.join("model.safetensors")],
                    DTYPE,
                    &device,
                )?
            };
            let model = BertModel::load(vb, &config)?;
            let mut tokenizer =
                Tokenizer::from_file(dir.join("tokenizer.json")).map_err(anyhow::Error::msg)?;
            // tokenizer.json pads and truncates to 128; ours does neither below 512.
            tokenizer.with_padding(Some(PaddingParams {
                strategy: PaddingStrategy::BatchLongest,
                ..PaddingParams::default()
            }));
            tokenizer
                .with_truncation(Some(TruncationParams {
                    max_length: 512,
                    ..TruncationParams::default()
                }))
                .map_err(anyhow::Error::msg)?;
            Ok(Candle {
                model,
                tokenizer,
                device,
            })
        }

        fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
            let encodings = self
                .tokenizer
                .encode_batch(texts.to_vec(), true)
                .map_err(anyhow::Error::msg)?;
            let rows = |get: &dyn Fn(&tokenizers::Encoding) -> &[u32]| {
                encodings
                    .iter()
                    .map(|e| Tensor::new(get(e), &self.device))
                    .collect::<candle_core::Result<Vec<_>>>()
                    .and_then(|rows| Tensor::stack(&rows, 0))
            };
            let ids = rows(&|e| e.get_ids())?;
            let mask = rows(&|e| e.get_attention_mask())?;
            let hidden = self.model.forward(&ids, &ids.zeros_like()?, Some(&mask))?;
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let pooled = hidden
                .broadcast_mul(&mask)?
                .sum(1)?
                .broadcast_div(&mask.sum(1)?)?;
            let norm = pooled.sqr()?.sum_keepdim(1)?.sqrt()?;
            Ok(pooled.broadcast_div(&norm)?.to_vec2::<f32>()?)
        }
    }

    /// Documents per second, and the smallest cosine to our f32 encoder on the first batch.
    pub fn measure(dir: &Path, args: &Args, threads: usize) -> anyhow::Result<(f64, f32)> {
        let candle = Candle::load(dir)?;
        let corpus = texts(docs_for(args.docs, args.words), args.words);
        let sample: Vec<&str> = corpus.iter().take(args.batch).map(String::as_str).collect();
        let ours = LocalModel::load_with_precision(dir, 512, threads, Precision::F32)?;
        let agreement = min_cosine(&candle.embed(&sample)?, &ours.embed(&sample));
        drop(ours);
        let mut failure = None;
        let rate = rate(&corpus, args.batch, |chunk| match candle.embed(chunk) {
            Ok(vectors) => vectors.len(),
            Err(e) => {
                failure.get_or_insert(e);
                chunk.len()
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        Ok((rate, agreement))
    }
}
