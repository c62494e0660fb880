//! int8 linear layers: `out = x · Wᵀ + b` with W quantized once at load (symmetric, one scale
//! per output channel: w ≈ sw·wq, wq in −127..=127) and x quantized per row at each call
//! (asymmetric, 8-bit unsigned: x ≈ sx·(q − zx)). Then
//!
//! ```text
//! Σₖ x·w  ≈  sx·sw · (Σₖ q·wq − zx·Σₖ wq)
//! ```
//!
//! The integer sum is exact (|q·wq| ≤ 255·127, at most a few thousand terms), so the AVX-512
//! VNNI and AVX2 kernels and the scalar reference agree bit for bit; only the quantization
//! itself approximates. Σₖ wq per channel is computed at load.
//!
//! Layout: weights in panels of `NR` output channels, each panel a run of k-groups holding
//! the panel's channels side by side (4 bytes per channel for `vpdpbusd`, 2 words for
//! `vpmaddwd`), so the kernels read each panel front to back. Activations are rows of `depth`
//! (the input size rounded up to 4) and their row count is padded to the tile height: the
//! kernels always compute whole tiles and the extra rows are never stored.

use super::precision::Kernel;

/// Output channels per panel and rows per tile of the AVX-512 VNNI kernel.
const VNNI_NR: usize = 32;
const VNNI_MR: usize = 8;
/// The same for the AVX2 kernel (16 ymm registers: 6 × 2 accumulators, 2 weights, 1 input).
const AVX2_NR: usize = 16;
const AVX2_MR: usize = 6;

pub(crate) struct Int8Linear {
    kernel: Kernel,
    input: usize,
    output: usize,
    /// `input` rounded up to a multiple of 4; padding weights are 0.
    depth: usize,
    /// Panels for `vpdpbusd` (Avx512Vnni).
    bytes: Vec<i8>,
    /// Panels for `vpmaddwd` (Avx2Int8): the same values widened to 16 bits.
    words: Vec<i16>,
    /// Per output channel, padded to whole panels: sw, Σₖ wq and the bias.
    scale: Vec<f32>,
    sum: Vec<i32>,
    bias: Vec<f32>,
}

impl Int8Linear {
    /// Quantizes `weight` ([output × input], row-major) for `kernel` (Avx512Vnni or Avx2Int8).
    pub fn new(weight: &[f32], bias: &[f32], input: usize, output: usize, kernel: Kernel) -> Self {
        let nr = panel_width(kernel);
        let depth = input.next_multiple_of(4);
        let padded = output.next_multiple_of(nr);
        let mut scale = vec![1.0f32; padded];
        let mut sum = vec![0i32; padded];
        let mut padded_bias = vec![0.0f32; padded];
        padded_bias[..output].copy_from_slice(&bias[..output]);
        let mut quantized = vec![0i8; output * input];
        for o in 0..output {
            let row = &weight[o * input..(o + 1) * input];
            let max = row.iter().fold(0.0f32, |m, w| m.max(w.abs()));
            let s = if max > 0.0 { max / 127.0 } else { 1.0 };
            scale[o] = s;
            for (q, w) in quantized[o * input..(o + 1) * input].iter_mut().zip(row) {
                *q = (w / s).round_ties_even().clamp(-127.0, 127.0) as i8;
                sum[o] += i32::from(*q);
            }
        }
        let mut layer = Int8Linear {
            kernel,
            input,
            output,
            depth,
            bytes: Vec::new(),
            words: Vec::new(),
            scale,
            sum,
            bias: padded_bias,
        };
        let len = padded * depth;
        match kernel {
            Kernel::Avx2Int8 => layer.words = vec![0; len],
            _ => layer.bytes = vec![0; len],
        }
        for o in 0..output {
            for k in 0..input {
                let q = quantized[o * input + k];
                let at = layer.packed_index(o, k);
                match kernel {
                    Kernel::Avx2Int8 => layer.words[at] = i16::from(q),
                    _ => layer.bytes[at] = q,
                }
            }
        }
        layer
    }

    /// Where weight (o, k) sits in the packed panels.
    fn packed_index(&self, o: usize, k: usize) -> usize {
        match self.kernel {
            Kernel::Avx2Int8 => {
                let pairs = self.depth / 2;
                ((o / AVX2_NR * pairs + k / 2) * AVX2_NR + o % AVX2_NR) * 2 + k % 2
            }
            _ => {
                let groups = self.depth / 4;
                ((o / VNNI_NR * groups + k / 4) * VNNI_NR + o % VNNI_NR) * 4 + k % 4
            }
        }
    }

    fn quantized_weight(&self, o: usize, k: usize) -> i32 {
        let at = self.packed_index(o, k);
        match self.kernel {
            Kernel::Avx2Int8 => i32::from(self.words[at]),
            _ => i32::from(self.bytes[at]),
        }
    }

    /// out[rows × output] = x[rows × input] · Wᵀ + b
    pub fn forward(&self, x: &[f32], rows: usize, out: &mut [f32]) {
        assert!(x.len() >= rows * self.input && out.len() >= rows * self.output);
        match self.kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Vnni if super::precision::cpu::has_avx512_vnni() => {
                // SAFETY: the CPU has the features the function is compiled for.
                unsafe { x86::forward_vnni(self, x, rows, out) }
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Int8 if super::precision::cpu::has_avx2() => {
                // SAFETY: as above.
                unsafe { x86::forward_avx2(self, x, rows, out) }
            }
            _ => self.forward_reference(x, rows, out),
        }
    }

    /// The scalar reference: the same quantization, sums in plain loops.
    pub fn forward_reference(&self, x: &[f32], rows: usize, out: &mut [f32]) {
        let act = Activations::<u8>::quantize(x, rows, self.input, self.depth, 1);
        for r in 0..rows {
            let q = &act.data[r * self.depth..r * self.depth + self.input];
            for o in 0..self.output {
                let acc: i32 = q
                    .iter()
                    .enumerate()
                    .map(|(k, v)| i32::from(*v) * self.quantized_weight(o, k))
                    .sum();
                out[r * self.output + o] = self.dequantize(acc, act.scale[r], act.zero[r], o);
            }
        }
    }

    /// The one formula every kernel ends with.
    #[inline(always)]
    fn dequantize(&self, acc: i32, scale: f32, zero: i32, o: usize) -> f32 {
        (acc - zero * self.sum[o]) as f32 * (scale * self.scale[o]) + self.bias[o]
    }

    /// Stores the valid part of a tile of integer sums (rows from `row`, columns from `col`).
    #[inline(always)]
    fn store_tile<const NR: usize>(
        &self,
        tile: &[[i32; NR]],
        act_scale: &[f32],
        act_zero: &[i32],
        row: usize,
        col: usize,
        out: &mut [f32],
    ) {
        let cols = NR.min(self.output - col);
        let (scale, sum, bias) = (
            &self.scale[col..col + NR],
            &self.sum[col..col + NR],
            &self.bias[col..col + NR],
        );
        for (r, acc) in tile.iter().enumerate() {
            let (sx, zx) = (act_scale[row + r], act_zero[row + r]);
            let start = (row + r) * self.output + col;
            let dst = &mut out[start..start + cols];
            for j in 0..cols {
                dst[j] = (acc[j] - zx * sum[j]) as f32 * (sx * scale[j]) + bias[j];
            }
        }
    }
}

fn panel_width(kernel: Kernel) -> usize {
    match kernel {
        Kernel::Avx2Int8 => AVX2_NR,
        _ => VNNI_NR,
    }
}

/// Rows quantized to 8-bit unsigned values (stored as `T`: bytes for VNNI, words for AVX2),
/// each with its scale and zero point; rows padded with zeros to a multiple of the tile height.
struct Activations<T> {
    data: Vec<T>,
    scale: Vec<f32>,
    zero: Vec<i32>,
}

impl<T: From<u8> + Copy + Default> Activations<T> {
    #[inline(always)]
    fn quantize(x: &[f32], rows: usize, input: usize, depth: usize, tile: usize) -> Self {
        let padded = rows.next_multiple_of(tile);
        let mut data = vec![T::default(); padded * depth];
        let mut scale = vec![1.0f32; padded];
        let mut zero = vec![0i32; padded];
        for r in 0..rows {
            let row = &x[r * input..(r + 1) * input];
            let (min, max) = row
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(*v), hi.max(*v))
                });
            let s = if max > min { (max - min) / 255.0 } else { 1.0 };
            let inverse = 1.0 / s;
            // zx may fall outside 0..=255 (a row of positive values); q never does.
            let z = (-min * inverse).round_ties_even();
            for (q, v) in data[r * depth..r * depth + input].iter_mut().zip(row) {
                *q = T::from((v * inverse + z).round_ties_even().clamp(0.0, 255.0) as u8);
            }
            scale[r] = s;
            zero[r] = z as i32;
        }
        Activations { data, scale, zero }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::*;

    /// Tile of VNNI_MR rows × VNNI_NR channels: `vpdpbusd` multiplies 4 unsigned activation
    /// bytes (broadcast to every lane) by 4 signed weight bytes of each of 16 channels and
    /// adds the 4 products to the channel's 32-bit sum.
    ///
    /// SAFETY: the CPU has AVX-512 F/BW/VNNI; `a` points at VNNI_MR rows of `stride` bytes
    /// with at least 4·groups readable in each; `w` at a panel of groups × 128 bytes.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn vnni_tile(
        a: *const u8,
        stride: usize,
        w: *const i8,
        groups: usize,
    ) -> [[i32; VNNI_NR]; VNNI_MR] {
        let mut acc = [[_mm512_setzero_si512(); 2]; VNNI_MR];
        for g in 0..groups {
            // SAFETY: in bounds by the function's contract.
            unsafe {
                let w0 = _mm512_loadu_si512(w.add(g * 128).cast());
                let w1 = _mm512_loadu_si512(w.add(g * 128 + 64).cast());
                for (r, acc) in acc.iter_mut().enumerate() {
                    let x =
                        _mm512_set1_epi32(a.add(r * stride + 4 * g).cast::<i32>().read_unaligned());
                    acc[0] = _mm512_dpbusd_epi32(acc[0], x, w0);
                    acc[1] = _mm512_dpbusd_epi32(acc[1], x, w1);
                }
            }
        }
        let mut out = [[0i32; VNNI_NR]; VNNI_MR];
        for (dst, acc) in out.iter_mut().zip(&acc) {
            // SAFETY: each row of `out` is 32 i32s, two 64-byte stores.
            unsafe {
                _mm512_storeu_si512(dst.as_mut_ptr().cast(), acc[0]);
                _mm512_storeu_si512(dst.as_mut_ptr().add(16).cast(), acc[1]);
            }
        }
        out
    }

    /// SAFETY: the CPU has AVX-512 F/BW/VNNI.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn forward_vnni(layer: &Int8Linear, x: &[f32], rows: usize, out: &mut [f32]) {
        let act = Activations::<u8>::quantize(x, rows, layer.input, layer.depth, VNNI_MR);
        let groups = layer.depth / 4;
        let panel = groups * 4 * VNNI_NR;
        assert!(act.data.len() >= rows.next_multiple_of(VNNI_MR) * layer.depth);
        assert_eq!(layer.bytes.len(), layer.output.div_ceil(VNNI_NR) * panel);
        for row in (0..rows).step_by(VNNI_MR) {
            let valid = VNNI_MR.min(rows - row);
            for (p, col) in (0..layer.output).step_by(VNNI_NR).enumerate() {
                // SAFETY: the asserts above bound every read of the tile.
                let tile = unsafe {
                    vnni_tile(
                        act.data.as_ptr().add(row * layer.depth),
                        layer.depth,
                        layer.bytes.as_ptr().add(p * panel),
                        groups,
                    )
                };
                layer.store_tile(&tile[..valid], &act.scale, &act.zero, row, col, out);
            }
        }
    }

    /// Tile of AVX2_MR rows × AVX2_NR channels: `vpmaddwd` multiplies 2 activation words
    /// (broadcast) by 2 weight words of each of 8 channels and adds the pair into 32 bits,
    /// exact for values of 8 bits.
    ///
    /// SAFETY: the CPU has AVX2; `a` points at AVX2_MR rows of `stride` words with at least
    /// 2·pairs readable in each; `w` at a panel of pairs × 32 words.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn avx2_tile(
        a: *const i16,
        stride: usize,
        w: *const i16,
        pairs: usize,
    ) -> [[i32; AVX2_NR]; AVX2_MR] {
        let mut acc = [[_mm256_setzero_si256(); 2]; AVX2_MR];
        for g in 0..pairs {
            // SAFETY: in bounds by the function's contract.
            unsafe {
                let w0 = _mm256_loadu_si256(w.add(g * 32).cast());
                let w1 = _mm256_loadu_si256(w.add(g * 32 + 16).cast());
                for (r, acc) in acc.iter_mut().enumerate() {
                    let x =
                        _mm256_set1_epi32(a.add(r * stride + 2 * g).cast::<i32>().read_unaligned());
                    acc[0] = _mm256_add_epi32(acc[0], _mm256_madd_epi16(x, w0));
                    acc[1] = _mm256_add_epi32(acc[1], _mm256_madd_epi16(x, w1));
                }
            }
        }
        let mut out = [[0i32; AVX2_NR]; AVX2_MR];
        for (dst, acc) in out.iter_mut().zip(&acc) {
            // SAFETY: each row of `out` is 16 i32s, two 32-byte stores.
            unsafe {
                _mm256_storeu_si256(dst.as_mut_ptr().cast(), acc[0]);
                _mm256_storeu_si256(dst.as_mut_ptr().add(8).cast(), acc[1]);
            }
        }
        out
    }

    /// SAFETY: the CPU has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn forward_avx2(layer: &Int8Linear, x: &[f32], rows: usize, out: &mut [f32]) {
        let act = Activations::<i16>::quantize(x, rows, layer.input, layer.depth, AVX2_MR);
        let pairs = layer.depth / 2;
        let panel = pairs * 2 * AVX2_NR;
        assert!(act.data.len() >= rows.next_multiple_of(AVX2_MR) * layer.depth);
        assert_eq!(layer.words.len(), layer.output.div_ceil(AVX2_NR) * panel);
        for row in (0..rows).step_by(AVX2_MR) {
            let valid = AVX2_MR.min(rows - row);
            for (p, col) in (0..layer.output).step_by(AVX2_NR).enumerate() {
                // SAFETY: the asserts above bound every read of the tile.
                let tile = unsafe {
                    avx2_tile(
                        act.data.as_ptr().add(row * layer.depth),
                        layer.depth,
                        layer.words.as_ptr().add(p * panel),
                        pairs,
                    )
                };
                layer.store_tile(&tile[..valid], &act.scale, &act.zero, row, col, out);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::precision::cpu;
    use super::*;

    /// Deterministic values in −1..1 (xorshift), with a few large ones like BERT's outliers.
    pub(crate) fn random(len: usize, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let v = (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
                if i % 97 == 0 { v * 8.0 } else { v }
            })
            .collect()
    }

    fn f32_linear(x: &[f32], rows: usize, w: &[f32], b: &[f32], input: usize) -> Vec<f32> {
        let output = b.len();
        let mut out = vec![0.0; rows * output];
        for r in 0..rows {
            for o in 0..output {
                out[r * output + o] = b[o]
                    + (0..input)
                        .map(|k| x[r * input + k] * w[o * input + k])
                        .sum::<f32>();
            }
        }
        out
    }

    /// Odd sizes: partial tiles, a partial last panel, an input that is not a multiple of 4.
    const SHAPES: [(usize, usize, usize); 4] =
        [(1, 4, 1), (7, 30, 33), (13, 384, 96), (20, 61, 50)];

    fn kernels() -> Vec<Kernel> {
        let mut kernels = Vec::new();
        if cpu::has_avx512_vnni() {
            kernels.push(Kernel::Avx512Vnni);
        } else {
            eprintln!("this CPU has no AVX-512 VNNI: its kernel is not tested here");
        }
        if cpu::has_avx2() {
            kernels.push(Kernel::Avx2Int8);
        } else {
            eprintln!("this CPU has no AVX2: its kernel is not tested here");
        }
        kernels
    }

    #[test]
    fn simd_kernels_match_the_scalar_reference_exactly() {
        for kernel in kernels() {
            for (seed, (rows, input, output)) in SHAPES.into_iter().enumerate() {
                let x = random(rows * input, seed as u64 + 1);
                let w = random(output * input, seed as u64 + 100);
                let b = random(output, seed as u64 + 200);
                let layer = Int8Linear::new(&w, &b, input, output, kernel);
                let mut fast = vec![f32::NAN; rows * output];
                let mut reference = vec![f32::NAN; rows * output];
                layer.forward(&x, rows, &mut fast);
                layer.forward_reference(&x, rows, &mut reference);
                assert_eq!(fast, reference, "{kernel:?} {rows}×{input}→{output}");
            }
        }
    }

    #[test]
    fn int8_layers_approximate_the_f32_product() {
        for (seed, (rows, input, output)) in SHAPES.into_iter().enumerate() {
            let x = random(rows * input, seed as u64 + 1);
            let w = random(output * input, seed as u64 + 100);
            let b = random(output, seed as u64 + 200);
            let exact = f32_linear(&x, rows, &w, &b, input);
            for kernel in [Kernel::Avx512Vnni, Kernel::Avx2Int8] {
                let layer = Int8Linear::new(&w, &b, input, output, kernel);
                let mut out = vec![0.0; rows * output];
                layer.forward_reference(&x, rows, &mut out);
                // Within the worst case of rounding each x by sx/2 and each w by sw/2.
                for r in 0..rows {
                    let xs = &x[r * input..(r + 1) * input];
                    let (lo, hi) = xs
                        .iter()
                        .fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
                    let sx = (hi - lo) / 255.0;
                    for o in 0..output {
                        let ws = &w[o * input..(o + 1) * input];
                        let sw = ws.iter().fold(0.0f32, |m, v| m.max(v.abs())) / 127.0;
                        let bound: f32 = xs
                            .iter()
                            .zip(ws)
                            .map(|(x, w)| sx / 2.0 * w.abs() + x.abs() * sw / 2.0 + sx * sw / 4.0)
                            .sum();
                        let (got, want) = (out[r * output + o], exact[r * output + o]);
                        assert!(
                            (got - want).abs() <= bound * 1.01 + 1e-5,
                            "{rows}×{input}→{output} ({r}, {o}): {got} vs {want}, bound {bound}"
                        );
                    }
                }
            }
        }
    }
}
