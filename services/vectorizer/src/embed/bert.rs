//! A BERT encoder on the CPU, enough for sentence-embedding models such as
//! all-MiniLM-L6-v2: weights from a safetensors file (F32), absolute position embeddings,
//! post-layer-norm blocks with GELU, mean pooling over the tokens, L2 normalisation.
//!
//! The linear layers run over every token of a batch at once (no padding: sequences are
//! concatenated), through `matrixmultiply`'s SIMD sgemm; attention runs per sequence. The
//! batch is split across threads by sequence.

use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a safetensors file: {problem}")]
    Format { path: String, problem: String },
    #[error("{path} lacks tensor {name}")]
    MissingTensor { path: String, name: String },
    #[error("tensor {name} has shape {found:?}, expected {expected:?}")]
    Shape {
        name: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },
    #[error("config.json: {0}")]
    Config(String),
}

/// The parts of a Hugging Face `config.json` the encoder needs.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct BertConfig {
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f32,
    #[serde(default)]
    pub hidden_act: String,
}

fn default_eps() -> f32 {
    1e-12
}

struct Linear {
    /// [out × in], row-major (PyTorch's layout).
    weight: Vec<f32>,
    bias: Vec<f32>,
    input: usize,
    output: usize,
}

struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

pub struct Bert {
    config: BertConfig,
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
}

struct Tensors {
    path: String,
    bytes: Vec<u8>,
    data_start: usize,
    index: HashMap<String, (Vec<usize>, usize, usize)>,
}

impl Tensors {
    fn open(path: &Path) -> Result<Tensors, ModelError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| ModelError::Read {
            path: shown.clone(),
            source,
        })?;
        let format = |problem: &str| ModelError::Format {
            path: shown.clone(),
            problem: problem.to_string(),
        };
        let header_len = bytes
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as usize)
            .ok_or_else(|| format("shorter than its header length"))?;
        let header = bytes
            .get(8..8 + header_len)
            .ok_or_else(|| format("header longer than the file"))?;
        let header: serde_json::Value =
            serde_json::from_slice(header).map_err(|e| format(&e.to_string()))?;
        let mut index = HashMap::new();
        for (name, info) in header
            .as_object()
            .ok_or_else(|| format("header is not an object"))?
        {
            if name == "__metadata__" {
                continue;
            }
            let shape: Vec<usize> = info["shape"]
                .as_array()
                .map(|dims| {
                    dims.iter()
                        .filter_map(|d| d.as_u64())
                        .map(|d| d as usize)
                        .collect()
                })
                .unwrap_or_default();
            let offsets = info["data_offsets"].as_array();
            let (Some(start), Some(end)) = (
                offsets.and_then(|o| o.first()).and_then(|v| v.as_u64()),
                offsets.and_then(|o| o.get(1)).and_then(|v| v.as_u64()),
            ) else {
                return Err(format(&format!("tensor {name} has no data_offsets")));
            };
            if info["dtype"] == "F32" {
                index.insert(name.clone(), (shape, start as usize, end as usize));
            }
        }
        Ok(Tensors {
            path: shown,
            data_start: 8 + header_len,
            bytes,
            index,
        })
    }

    fn get(&self, name: &str, expected: &[usize]) -> Result<Vec<f32>, ModelError> {
        let (shape, start, end) =
            self.index
                .get(name)
                .ok_or_else(|| ModelError::MissingTensor {
                    path: self.path.clone(),
                    name: name.to_string(),
                })?;
        if shape != expected {
            return Err(ModelError::Shape {
                name: name.to_string(),
                found: shape.clone(),
                expected: expected.to_vec(),
            });
        }
        let raw = self
            .bytes
            .get(self.data_start + start..self.data_start + end)
            .ok_or_else(|| ModelError::Format {
                path: self.path.clone(),
                problem: format!("tensor {name} lies outside the file"),
            })?;
        Ok(raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn linear(&self, prefix: &str, output: usize, input: usize) -> Result<Linear, ModelError> {
        Ok(Linear {
            weight: self.get(&format!("{prefix}.weight"), &[output, input])?,
            bias: self.get(&format!("{prefix}.bias"), &[output])?,
            input,
            output,
        })
    }

    fn norm(&self, prefix: &str, size: usize) -> Result<LayerNorm, ModelError> {
        Ok(LayerNorm {
            weight: self.get(&format!("{prefix}.weight"), &[size])?,
            bias: self.get(&format!("{prefix}.bias"), &[size])?,
        })
    }
}

impl Bert {
    /// Loads `config.json` and `model.safetensors` from a model directory.
    pub fn load(dir: &Path) -> Result<Bert, ModelError> {
        let config_path = dir.join("config.json");
        let config: BertConfig =
            serde_json::from_slice(&std::fs::read(&config_path).map_err(|source| {
                ModelError::Read {
                    path: config_path.display().to_string(),
                    source,
                }
            })?)
            .map_err(|e| ModelError::Config(e.to_string()))?;
        if config.num_attention_heads == 0
            || !config
                .hidden_size
                .is_multiple_of(config.num_attention_heads)
        {
            return Err(ModelError::Config(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                config.hidden_size, config.num_attention_heads
            )));
        }
        if !config.hidden_act.is_empty() && config.hidden_act != "gelu" {
            return Err(ModelError::Config(format!(
                "hidden_act {:?} is not supported (gelu is)",
                config.hidden_act
            )));
        }
        let tensors = Tensors::open(&dir.join("model.safetensors"))?;
        // Some exports prefix every tensor with "bert.".
        let prefix = if tensors
            .index
            .contains_key("bert.embeddings.word_embeddings.weight")
        {
            "bert."
        } else {
            ""
        };
        let h = config.hidden_size;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let p = format!("{prefix}encoder.layer.{i}");
            layers.push(Layer {
                query: tensors.linear(&format!("{p}.attention.self.query"), h, h)?,
                key: tensors.linear(&format!("{p}.attention.self.key"), h, h)?,
                value: tensors.linear(&format!("{p}.attention.self.value"), h, h)?,
                attention_out: tensors.linear(&format!("{p}.attention.output.dense"), h, h)?,
                attention_norm: tensors.norm(&format!("{p}.attention.output.LayerNorm"), h)?,
                intermediate: tensors.linear(
                    &format!("{p}.intermediate.dense"),
                    config.intermediate_size,
                    h,
                )?,
                output: tensors.linear(
                    &format!("{p}.output.dense"),
                    h,
                    config.intermediate_size,
                )?,
                output_norm: tensors.norm(&format!("{p}.output.LayerNorm"), h)?,
            });
        }
        Ok(Bert {
            word: tensors.get(
                &format!("{prefix}embeddings.word_embeddings.weight"),
                &[config.vocab_size, h],
            )?,
            position: tensors.get(
                &format!("{prefix}embeddings.position_embeddings.weight"),
                &[config.max_position_embeddings, h],
            )?,
            token_type: tensors.get(
                &format!("{prefix}embeddings.token_type_embeddings.weight"),
                &[2, h],
            )?,
            embedding_norm: tensors.norm(&format!("{prefix}embeddings.LayerNorm"), h)?,
            layers,
            config,
        })
    }

    pub fn dimensions(&self) -> usize {
        self.config.hidden_size
    }

    pub fn max_tokens(&self) -> usize {
        self.config.max_position_embeddings
    }

    /// Sentence embeddings (mean-pooled, unit length) of token-id sequences.
    pub fn embed(&self, sequences: &[Vec<u32>], threads: usize) -> Vec<Vec<f32>> {
        let threads = threads.max(1).min(sequences.len().max(1));
        if threads == 1 {
            return self.embed_batch(sequences);
        }
        // Split by token count, so the threads get similar work.
        let total: usize = sequences.iter().map(Vec::len).sum();
        let per_thread = total.div_ceil(threads);
        let mut chunks: Vec<&[Vec<u32>]> = Vec::new();
        let mut start = 0;
        let mut tokens = 0;
        for (i, sequence) in sequences.iter().enumerate() {
            tokens += sequence.len();
            if tokens >= per_thread && chunks.len() + 1 < threads {
                chunks.push(&sequences[start..=i]);
                start = i + 1;
                tokens = 0;
            }
        }
        if start < sequences.len() {
            chunks.push(&sequences[start..]);
        }
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|chunk| scope.spawn(move || self.embed_batch(chunk)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        })
    }

    fn embed_batch(&self, sequences: &[Vec<u32>]) -> Vec<Vec<f32>> {
        let h = self.config.hidden_size;
        let max_len = self.config.max_position_embeddings;
        let sequences: Vec<&[u32]> = sequences
            .iter()
            .map(|s| &s[..s.len().min(max_len)])
            .collect();
        let total: usize = sequences.iter().map(|s| s.len()).sum();
        if total == 0 {
            return sequences.iter().map(|_| vec![0.0; h]).collect();
        }
        // Embeddings: word + position + token type 0, then LayerNorm.
        let mut x = vec![0.0f32; total * h];
        let mut row = 0;
        for sequence in &sequences {
            for (position, id) in sequence.iter().enumerate() {
                let id = (*id as usize).min(self.config.vocab_size - 1);
                let out = &mut x[row * h..(row + 1) * h];
                let word = &self.word[id * h..(id + 1) * h];
                let pos = &self.position[position * h..(position + 1) * h];
                let tt = &self.token_type[..h];
                for k in 0..h {
                    out[k] = word[k] + pos[k] + tt[k];
                }
                row += 1;
            }
        }
        layer_norm(&mut x, h, &self.embedding_norm, self.config.layer_norm_eps);

        let heads = self.config.num_attention_heads;
        let head = h / heads;
        let scale = 1.0 / (head as f32).sqrt();
        let mut q = vec![0.0f32; total * h];
        let mut k = vec![0.0f32; total * h];
        let mut v = vec![0.0f32; total * h];
        let mut context = vec![0.0f32; total * h];
        let mut attended = vec![0.0f32; total * h];
        let mut inter = vec![0.0f32; total * self.config.intermediate_size];
        let mut out = vec![0.0f32; total * h];
        let longest = sequences.iter().map(|s| s.len()).max().unwrap_or(0);
        let mut scores = vec![0.0f32; longest * longest];
        for layer in &self.layers {
            linear(&x, total, &layer.query, &mut q);
            linear(&x, total, &layer.key, &mut k);
            linear(&x, total, &layer.value, &mut v);
            let mut offset = 0;
            for sequence in &sequences {
                let len = sequence.len();
                for hd in 0..heads {
                    let col = hd * head;
                    // scores = Q_h · K_hᵀ · scale   [len × len]
                    unsafe {
                        matrixmultiply::sgemm(
                            len,
                            head,
                            len,
                            scale,
                            q.as_ptr().add(offset * h + col),
                            h as isize,
                            1,
                            k.as_ptr().add(offset * h + col),
                            1,
                            h as isize,
                            0.0,
                            scores.as_mut_ptr(),
                            len as isize,
                            1,
                        );
                    }
                    for r in 0..len {
                        softmax(&mut scores[r * len..(r + 1) * len]);
                    }
                    // context_h = scores · V_h   [len × head]
                    unsafe {
                        matrixmultiply::sgemm(
                            len,
                            len,
                            head,
                            1.0,
                            scores.as_ptr(),
                            len as isize,
                            1,
                            v.as_ptr().add(offset * h + col),
                            h as isize,
                            1,
                            0.0,
                            context.as_mut_ptr().add(offset * h + col),
                            h as isize,
                            1,
                        );
                    }
                }
                offset += len;
            }
            linear(&context, total, &layer.attention_out, &mut attended);
            for (a, b) in attended.iter_mut().zip(&x) {
                *a += b;
            }
            layer_norm(
                &mut attended,
                h,
                &layer.attention_norm,
                self.config.layer_norm_eps,
            );
            linear(&attended, total, &layer.intermediate, &mut inter);
            for value in inter.iter_mut() {
                *value = gelu(*value);
            }
            linear(&inter, total, &layer.output, &mut out);
            for (o, a) in out.iter_mut().zip(&attended) {
                *o += a;
            }
            layer_norm(&mut out, h, &layer.output_norm, self.config.layer_norm_eps);
            std::mem::swap(&mut x, &mut out);
        }
        // Mean pooling over each sequence's tokens, then unit length.
        let mut offset = 0;
        sequences
            .iter()
            .map(|sequence| {
                let len = sequence.len();
                let mut pooled = vec![0.0f32; h];
                for t in 0..len {
                    for (p, value) in pooled
                        .iter_mut()
                        .zip(&x[(offset + t) * h..(offset + t + 1) * h])
                    {
                        *p += value;
                    }
                }
                offset += len;
                let norm = pooled.iter().map(|p| p * p).sum::<f32>().sqrt().max(1e-12);
                pooled.iter_mut().for_each(|p| *p /= norm);
                pooled
            })
            .collect()
    }
}

/// out[rows × output] = x[rows × input] · Wᵀ + b
fn linear(x: &[f32], rows: usize, layer: &Linear, out: &mut [f32]) {
    let out = &mut out[..rows * layer.output];
    for r in 0..rows {
        out[r * layer.output..(r + 1) * layer.output].copy_from_slice(&layer.bias);
    }
    // SAFETY: the pointers and strides describe in-bounds matrices of the sizes given:
    // x is rows × input (row-major), weight is output × input read as its transpose,
    // out is rows × output.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            layer.input,
            layer.output,
            1.0,
            x.as_ptr(),
            layer.input as isize,
            1,
            layer.weight.as_ptr(),
            1,
            layer.input as isize,
            1.0,
            out.as_mut_ptr(),
            layer.output as isize,
            1,
        );
    }
}

fn layer_norm(x: &mut [f32], size: usize, norm: &LayerNorm, eps: f32) {
    for row in x.chunks_exact_mut(size) {
        let mean = row.iter().sum::<f32>() / size as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / size as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, w), b) in row.iter_mut().zip(&norm.weight).zip(&norm.bias) {
            *v = (*v - mean) * inv * w + b;
        }
    }
}

fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in row.iter_mut() {
        *v /= sum;
    }
}

/// BERT's exact GELU, x·Φ(x), with erf from Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x / std::f32::consts::SQRT_2))
}

fn erf(x: f32) -> f32 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let y = 1.0
        - (((((1.061_405_4 * t - 1.453_152_1) * t) + 1.421_413_7) * t - 0.284_496_74) * t
            + 0.254_829_6)
            * t
            * (-x * x).exp();
    sign * y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_and_gelu_match_reference_values() {
        for (x, expected) in [
            (0.0f32, 0.0f32),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (-2.0, -0.995_322_3),
        ] {
            assert!((erf(x) - expected).abs() < 2e-6, "erf({x}) = {}", erf(x));
        }
        assert!((gelu(1.0) - 0.841_344_7).abs() < 1e-5);
        assert!(gelu(-10.0).abs() < 1e-6);
    }

    #[test]
    fn linear_layers_multiply_by_the_transposed_weight_and_add_the_bias() {
        let layer = Linear {
            weight: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], // 2 × 3
            bias: vec![0.5, -1.0],
            input: 3,
            output: 2,
        };
        let x = [1.0, 0.0, 2.0, 0.0, 1.0, 0.0]; // 2 × 3
        let mut out = [0.0; 4];
        linear(&x, 2, &layer, &mut out);
        assert_eq!(out, [7.5, 15.0, 2.5, 4.0]);
    }
}
