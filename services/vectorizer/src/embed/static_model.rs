//! The `static` provider for bulk backfills: one fixed vector per vocabulary token, distilled
//! by Sluice from the local model (each token run through the encoder on its own, in the
//! spirit of model2vec), and a text's embedding is the mean of its tokens' vectors. No
//! attention, so it is orders of magnitude faster and less precise. The distilled table is
//! cached next to the model (`static-distilled.bin`) and reused.

use std::path::{Path, PathBuf};

use super::LocalModel;
use super::wordpiece::WordPiece;

const MAGIC: &[u8; 4] = b"SLST";
pub const FILE_NAME: &str = "static-distilled.bin";

pub struct StaticModel {
    tokenizer: WordPiece,
    dims: usize,
    /// vocabulary × dims, row-major; an all-zero row for tokens left out (padding, unused).
    table: Vec<f32>,
    max_tokens: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum StaticError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a distilled static model: {problem}")]
    Format { path: String, problem: String },
    #[error("{0}")]
    Model(String),
}

/// The model directory's `vocab.txt`.
fn read_vocab(dir: &Path) -> Result<String, StaticError> {
    let path = dir.join("vocab.txt");
    std::fs::read_to_string(&path).map_err(|source| StaticError::Read {
        path: path.display().to_string(),
        source,
    })
}

impl StaticModel {
    /// Runs every vocabulary token through the local model (`[CLS] token [SEP]`, mean-pooled)
    /// and keeps the vectors. Special and unused tokens get a zero row.
    pub fn distill(local: &LocalModel, vocab: &str) -> Result<StaticModel, StaticError> {
        let tokenizer =
            WordPiece::from_vocab(vocab).map_err(|e| StaticError::Model(e.to_string()))?;
        let tokens: Vec<&str> = vocab.lines().collect();
        let dims = local.dimensions();
        let mut table = vec![0.0f32; tokens.len() * dims];
        let wanted: Vec<u32> = tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| !(t.starts_with('[') && t.ends_with(']')))
            .map(|(id, _)| id as u32)
            .collect();
        for batch in wanted.chunks(512) {
            let sequences: Vec<Vec<u32>> = batch
                .iter()
                .map(|id| vec![tokenizer.cls, *id, tokenizer.sep])
                .collect();
            let vectors = local.embed_ids(&sequences);
            for (id, vector) in batch.iter().zip(vectors) {
                let row = *id as usize * dims;
                table[row..row + dims].copy_from_slice(&vector);
            }
        }
        Ok(StaticModel {
            tokenizer,
            dims,
            table,
            max_tokens: local.max_tokens,
        })
    }

    /// The cached table if there is one for this model directory, else a distillation (then
    /// cached).
    pub fn load_or_distill(dir: &Path, local: &LocalModel) -> Result<StaticModel, StaticError> {
        Self::load_cached(dir, local).or_else(|_| Self::distill_and_cache(dir, local))
    }

    /// The cached table for this model directory, if there is a valid one (nothing distilled).
    pub fn load_cached(dir: &Path, local: &LocalModel) -> Result<StaticModel, StaticError> {
        Self::load(&dir.join(FILE_NAME), &read_vocab(dir)?, local.max_tokens)
    }

    /// Distils from the local model in `dir` and writes the cache, replacing any earlier one.
    pub fn distill_and_cache(dir: &Path, local: &LocalModel) -> Result<StaticModel, StaticError> {
        let vocab = read_vocab(dir)?;
        let model = Self::distill(local, &vocab)?;
        model.save(&dir.join(FILE_NAME))?;
        Ok(model)
    }

    /// Tokens in the table.
    pub fn vocabulary(&self) -> usize {
        self.table.len() / self.dims.max(1)
    }

    pub fn cached_path(dir: &Path) -> PathBuf {
        dir.join(FILE_NAME)
    }

    fn save(&self, path: &Path) -> Result<(), StaticError> {
        let mut bytes = Vec::with_capacity(12 + self.table.len() * 4);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(self.dims as u32).to_le_bytes());
        bytes.extend_from_slice(&((self.table.len() / self.dims) as u32).to_le_bytes());
        for value in &self.table {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        // A file of this writer's own, renamed into place: writers distilling at the same
        // time (two vectorizers starting) never interleave their bytes.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let partial = path.with_extension(format!("part-{}-{nanos}", std::process::id()));
        let io = |source| StaticError::Read {
            path: path.display().to_string(),
            source,
        };
        std::fs::write(&partial, bytes).map_err(io)?;
        std::fs::rename(&partial, path).map_err(io)
    }

    fn load(path: &Path, vocab: &str, max_tokens: usize) -> Result<StaticModel, StaticError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| StaticError::Read {
            path: shown.clone(),
            source,
        })?;
        let format = |problem: &str| StaticError::Format {
            path: shown.clone(),
            problem: problem.to_string(),
        };
        if bytes.len() < 12 || &bytes[..4] != MAGIC {
            return Err(format("no SLST header"));
        }
        let dims = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        let rows = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        let tokenizer =
            WordPiece::from_vocab(vocab).map_err(|e| StaticError::Model(e.to_string()))?;
        if rows != vocab.lines().count() || dims == 0 || bytes.len() != 12 + rows * dims * 4 {
            return Err(format("its size does not match the vocabulary"));
        }
        let table = bytes[12..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(StaticModel {
            tokenizer,
            dims,
            table,
            max_tokens,
        })
    }

    pub fn dimensions(&self) -> usize {
        self.dims
    }

    /// One unit-length vector per text: the mean of its tokens' vectors.
    pub fn embed(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        texts
            .iter()
            .map(|text| {
                let ids = self.tokenizer.encode(text, self.max_tokens);
                let mut sum = vec![0.0f32; self.dims];
                // [CLS] and [SEP] have zero rows; [UNK] too.
                for id in &ids[1..ids.len().saturating_sub(1)] {
                    let row = *id as usize * self.dims;
                    if let Some(vector) = self.table.get(row..row + self.dims) {
                        for (s, v) in sum.iter_mut().zip(vector) {
                            *s += v;
                        }
                    }
                }
                let norm = sum.iter().map(|v| v * v).sum::<f32>().sqrt();
                if norm > 0.0 {
                    sum.iter_mut().for_each(|v| *v /= norm);
                }
                sum
            })
            .collect()
    }
}
