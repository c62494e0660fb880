//! A BERT encoder on the CPU, enough for sentence-embedding models such as
//! all-MiniLM-L6-v2: weights from a safetensors file (F32), absolute position embeddings,
//! post-layer-norm blocks with GELU, mean pooling over the tokens, L2 normalisation.
//!
//! The linear layers run over every token of a batch at once (no padding: sequences are
//! concatenated), in the precision chosen at load (see `precision.rs`: int8 or bf16 kernels, or
//! `matrixmultiply`'s f32 sgemm); attention runs per sequence in f32. The batch is split across
//! threads by sequence.

use std::collections::HashMap;
use std::path::Path;

use super::linear::Linear;
use super::precision::Kernel;

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

struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

struct Layer {
    /// Query, key and value projections as one (output 3 × hidden: one matrix product).
    qkv: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

pub struct Bert {
    config: BertConfig,
    kernel: Kernel,
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

    /// A linear layer's weight ([output × input]) and bias.
    fn linear(
        &self,
        prefix: &str,
        output: usize,
        input: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
        Ok((
            self.get(&format!("{prefix}.weight"), &[output, input])?,
            self.get(&format!("{prefix}.bias"), &[output])?,
        ))
    }

    fn norm(&self, prefix: &str, size: usize) -> Result<LayerNorm, ModelError> {
        Ok(LayerNorm {
            weight: self.get(&format!("{prefix}.weight"), &[size])?,
            bias: self.get(&format!("{prefix}.bias"), &[size])?,
        })
    }
}

impl Bert {
    /// Loads `config.json` and `model.safetensors` from a model directory, converting the
    /// linear layers' weights for `kernel`.
    pub fn load(dir: &Path, kernel: Kernel) -> Result<Bert, ModelError> {
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
        let ffn = config.intermediate_size;
        let linear = |name: &str, output: usize, input: usize| {
            let (weight, bias) = tensors.linear(name, output, input)?;
            Ok::<_, ModelError>(Linear::new(weight, bias, input, output, kernel))
        };
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let p = format!("{prefix}encoder.layer.{i}");
            let parts = [
                tensors.linear(&format!("{p}.attention.self.query"), h, h)?,
                tensors.linear(&format!("{p}.attention.self.key"), h, h)?,
                tensors.linear(&format!("{p}.attention.self.value"), h, h)?,
            ];
            layers.push(Layer {
                qkv: Linear::new(
                    parts.iter().flat_map(|l| l.0.iter().copied()).collect(),
                    parts.iter().flat_map(|l| l.1.iter().copied()).collect(),
                    h,
                    3 * h,
                    kernel,
                ),
                attention_out: linear(&format!("{p}.attention.output.dense"), h, h)?,
                attention_norm: tensors.norm(&format!("{p}.attention.output.LayerNorm"), h)?,
                intermediate: linear(&format!("{p}.intermediate.dense"), ffn, h)?,
                output: linear(&format!("{p}.output.dense"), h, ffn)?,
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
            kernel,
        })
    }

    /// The matrix kernel the linear layers run on.
    pub fn kernel(&self) -> Kernel {
        self.kernel
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

    /// The encoder over one batch; its element-wise loops (embedding sums, softmax, layer
    /// norms, residuals, GELU) compiled for AVX2 and FMA where the CPU has them.
    fn embed_batch(&self, sequences: &[Vec<u32>]) -> Vec<Vec<f32>> {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has the features the function is compiled for.
            return unsafe { self.embed_batch_avx2(sequences) };
        }
        self.embed_batch_portable(sequences)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn embed_batch_avx2(&self, sequences: &[Vec<u32>]) -> Vec<Vec<f32>> {
        self.embed_batch_portable(sequences)
    }

    #[inline(always)]
    fn embed_batch_portable(&self, sequences: &[Vec<u32>]) -> Vec<Vec<f32>> {
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
        // Each token's query, key and value side by side: rows of 3 × h.
        let mut qkv = vec![0.0f32; total * 3 * h];
        let mut context = vec![0.0f32; total * h];
        let mut attended = vec![0.0f32; total * h];
        let mut inter = vec![0.0f32; total * self.config.intermediate_size];
        let mut out = vec![0.0f32; total * h];
        let longest = sequences.iter().map(|s| s.len()).max().unwrap_or(0);
        let mut scores = vec![0.0f32; longest * longest];
        for layer in &self.layers {
            layer.qkv.forward(&x, total, &mut qkv);
            let stride = 3 * h;
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
                            qkv.as_ptr().add(offset * stride + col),
                            stride as isize,
                            1,
                            qkv.as_ptr().add(offset * stride + h + col),
                            1,
                            stride as isize,
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
                            qkv.as_ptr().add(offset * stride + 2 * h + col),
                            stride as isize,
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
            layer.attention_out.forward(&context, total, &mut attended);
            for (a, b) in attended.iter_mut().zip(&x) {
                *a += b;
            }
            layer_norm(
                &mut attended,
                h,
                &layer.attention_norm,
                self.config.layer_norm_eps,
            );
            layer.intermediate.forward(&attended, total, &mut inter);
            gelu_in_place(&mut inter);
            layer.output.forward(&inter, total, &mut out);
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

/// Lanes of the reductions below: independent partial results the compiler keeps in vector
/// registers (one running sum would be a chain of dependent scalar additions).
const LANES: usize = 16;

#[inline(always)]
fn lane_sum(values: &[f32], mut term: impl FnMut(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += term(*v);
        }
    }
    acc.iter().sum::<f32>() + rest.iter().map(|v| term(*v)).sum::<f32>()
}

#[inline(always)]
fn lane_max(values: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a = a.max(*v);
        }
    }
    acc.iter()
        .chain(rest)
        .copied()
        .fold(f32::NEG_INFINITY, f32::max)
}

#[inline(always)]
fn layer_norm(x: &mut [f32], size: usize, norm: &LayerNorm, eps: f32) {
    for row in x.chunks_exact_mut(size) {
        let mean = lane_sum(row, |v| v) / size as f32;
        let var = lane_sum(row, |v| (v - mean) * (v - mean)) / size as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, w), b) in row.iter_mut().zip(&norm.weight).zip(&norm.bias) {
            *v = (*v - mean) * inv * w + b;
        }
    }
}

#[inline(always)]
fn softmax(row: &mut [f32]) {
    let max = lane_max(row);
    for v in row.iter_mut() {
        *v = exp_nonpositive(*v - max);
    }
    let inv = 1.0 / lane_sum(row, |v| v);
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// e^v for v ≤ 0 (flushed to 0 below -87), without branches or calls so that loops over it
/// vectorize: v = n·ln2 + r, e^r by its Taylor series to r⁶ (|r| ≤ ln2/2, relative error
/// < 2e-7), 2ⁿ from the exponent bits.
#[inline(always)]
fn exp_nonpositive(v: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2²³: adding and subtracting it rounds to an integer
    const LN2_HI: f32 = 0.693_145_75; // ln 2 split so that n · LN2_HI is exact
    const LN2_LO: f32 = 1.428_606_8e-6;
    let v = v.clamp(-87.0, 0.0);
    let n = (v * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = v - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// GELU over a slice, with AVX2 and FMA when the CPU has them (the loop vectorizes).
fn gelu_in_place(values: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features the function is compiled for.
        unsafe { gelu_avx2(values) };
        return;
    }
    gelu_portable(values);
}

#[inline(always)]
fn gelu_portable(values: &mut [f32]) {
    for value in values {
        *value = gelu(*value);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gelu_avx2(values: &mut [f32]) {
    gelu_portable(values);
}

/// BERT's exact GELU, x·Φ(x), with erf from Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
#[inline(always)]
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x / std::f32::consts::SQRT_2))
}

#[inline(always)]
fn erf(x: f32) -> f32 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let y = 1.0
        - (((((1.061_405_4 * t - 1.453_152_1) * t) + 1.421_413_7) * t - 0.284_496_74) * t
            + 0.254_829_6)
            * t
            * exp_nonpositive(-x * x);
    sign * y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_exponential_and_gelu_match_the_library_ones() {
        let mut v = -90.0f32;
        while v <= 0.0 {
            let (fast, exact) = (exp_nonpositive(v), v.exp());
            assert!(
                (fast - exact).abs() <= 3e-7 * exact + 1e-37,
                "exp({v}) = {fast}, not {exact}"
            );
            v += 0.013;
        }
        assert_eq!(exp_nonpositive(0.0), 1.0);
        let inputs: Vec<f32> = (-4000..=4000).map(|i| i as f32 / 400.0).collect();
        let mut fast = inputs.clone();
        gelu_in_place(&mut fast);
        for (x, g) in inputs.iter().zip(&fast) {
            let x = f64::from(*x);
            let exact = 0.5 * x * (1.0 + libm_erf(x / std::f64::consts::SQRT_2));
            assert!(
                (f64::from(*g) - exact).abs() < 2e-6,
                "gelu({x}) = {g}, not {exact}"
            );
        }
    }

    /// erf in f64 by its Taylor series (|x| ≤ 3) or 1 − erfc's continued fraction.
    fn libm_erf(x: f64) -> f64 {
        let a = x.abs();
        let value = if a <= 3.0 {
            let mut sum = 0.0;
            let mut term = a;
            let mut n = 0.0;
            while term.abs() > 1e-17 {
                sum += term / (2.0 * n + 1.0);
                n += 1.0;
                term *= -a * a / n;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            let mut f = 0.0;
            for k in (1..60).rev() {
                f = (k as f64 / 2.0) / (a + f);
            }
            1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / (a + f)
        };
        value.copysign(x)
    }

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
}
