//! Embeddings computed in-process on the CPU: a BERT sentence-embedding model (by default
//! all-MiniLM-L6-v2) read from a model directory (`config.json`, `model.safetensors`,
//! `vocab.txt`), nothing downloaded at run time. Texts are tokenized, truncated to a token
//! budget, ordered by length and split across threads. The linear layers run in int8, bf16 or
//! f32 (`SLUICE_EMBED_PRECISION`, see `precision.rs`).

pub mod bert;
mod bf16;
mod int8;
mod linear;
pub mod openai;
pub mod precision;
pub mod static_model;
pub mod wordpiece;

use std::path::{Path, PathBuf};

use bert::{Bert, ModelError};
pub use precision::{Kernel, Precision};
use wordpiece::WordPiece;

/// Where the setup command places the default model (`SLUICE_MODEL_DIR` overrides).
pub const DEFAULT_MODEL_DIR: &str = ".sluice/models/all-MiniLM-L6-v2";

pub fn model_dir() -> PathBuf {
    std::env::var("SLUICE_MODEL_DIR")
        .ok()
        .filter(|d| !d.trim().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_MODEL_DIR))
}

pub struct LocalModel {
    tokenizer: WordPiece,
    bert: Bert,
    precision: Precision,
    /// Tokens per text, [CLS] and [SEP] included; longer texts are truncated.
    pub max_tokens: usize,
    pub threads: usize,
}

impl LocalModel {
    /// Loads the model in the default precision ([`Precision::fastest`] for this CPU).
    pub fn load(dir: &Path, max_tokens: usize, threads: usize) -> Result<LocalModel, ModelError> {
        Self::load_with_precision(dir, max_tokens, threads, Precision::default())
    }

    /// Loads the model with its linear layers in `precision`; a precision this CPU has no
    /// kernel for runs in f32 instead (with a warning).
    pub fn load_with_precision(
        dir: &Path,
        max_tokens: usize,
        threads: usize,
        precision: Precision,
    ) -> Result<LocalModel, ModelError> {
        let vocab_path = dir.join("vocab.txt");
        let vocab = std::fs::read_to_string(&vocab_path).map_err(|source| ModelError::Read {
            path: format!(
                "{} (place the model with deploy/setup-model.sh or set SLUICE_MODEL_DIR)",
                vocab_path.display()
            ),
            source,
        })?;
        let tokenizer =
            WordPiece::from_vocab(&vocab).map_err(|e| ModelError::Config(e.to_string()))?;
        let (precision, kernel) = match precision.kernel() {
            Some(kernel) => (precision, kernel),
            None => {
                tracing::warn!(
                    requested = %precision,
                    "this cpu has no kernel for the requested embedding precision, using f32"
                );
                (Precision::F32, Kernel::Sgemm)
            }
        };
        let bert = Bert::load(dir, kernel)?;
        tracing::debug!(%precision, kernel = kernel.name(), "local embedding model loaded");
        let max_tokens = max_tokens.clamp(8, bert.max_tokens());
        Ok(LocalModel {
            tokenizer,
            bert,
            precision,
            max_tokens,
            threads: threads.max(1),
        })
    }

    pub fn dimensions(&self) -> usize {
        self.bert.dimensions()
    }

    /// The precision the linear layers run in (f32 where the requested one had no kernel).
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The matrix kernel the linear layers run on.
    pub fn kernel(&self) -> Kernel {
        self.bert.kernel()
    }

    /// Embeds already-tokenized sequences (ids including [CLS] and [SEP]), in order.
    pub fn embed_ids(&self, sequences: &[Vec<u32>]) -> Vec<Vec<f32>> {
        self.bert.embed(sequences, self.threads)
    }

    /// One unit-length vector per text, in order.
    pub fn embed(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        let mut encoded: Vec<(usize, Vec<u32>)> = texts
            .iter()
            .map(|t| self.tokenizer.encode(t, self.max_tokens))
            .enumerate()
            .collect();
        // Similar lengths together: each thread gets a contiguous, even share of tokens.
        encoded.sort_by_key(|(_, ids)| ids.len());
        let (order, sequences): (Vec<usize>, Vec<Vec<u32>>) = encoded.into_iter().unzip();
        let vectors = self.bert.embed(&sequences, self.threads);
        let mut out = vec![Vec::new(); texts.len()];
        for (index, vector) in order.into_iter().zip(vectors) {
            out[index] = vector;
        }
        out
    }
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model the setup command placed (deploy/test.sh runs deploy/setup-model.sh).
    fn model() -> LocalModel {
        let dir = std::env::var("SLUICE_MODEL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../..")
                    .join(DEFAULT_MODEL_DIR)
            });
        LocalModel::load(&dir, 256, 2).unwrap_or_else(|e| {
            panic!("the local model is required for this test ({e}); deploy/test.sh places it with deploy/setup-model.sh")
        })
    }

    #[test]
    fn paraphrases_are_closer_than_unrelated_texts() {
        let model = model();
        let texts = [
            "How do I reset my password?",
            "I forgot my login credentials and need to change them",
            "Quarterly revenue grew by ten percent",
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "A man is riding a horse.",
        ];
        let v = model.embed(&texts);
        assert_eq!(v.len(), texts.len());
        for vector in &v {
            assert_eq!(vector.len(), 384);
            let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "unit length: {norm}");
        }
        let password = cosine(&v[0], &v[1]);
        let revenue = cosine(&v[0], &v[2]);
        let bread = cosine(&v[3], &v[4]);
        let horse = cosine(&v[3], &v[5]);
        eprintln!("password {password} revenue {revenue} bread {bread} horse {horse}");
        assert!(password > revenue + 0.3, "{password} vs {revenue}");
        assert!(bread > horse + 0.2, "{bread} vs {horse}");
    }

    #[test]
    fn order_and_batching_do_not_change_a_vector() {
        let model = model();
        let alone = model.embed(&["Retry billing when the card is declined"]);
        let batched = model.embed(&[
            "A much longer text about something else entirely, with many more tokens in it than the other one",
            "Retry billing when the card is declined",
            "short",
        ]);
        let same = cosine(&alone[0], &batched[1]);
        assert!(same > 0.99999, "{same}");
    }
}
