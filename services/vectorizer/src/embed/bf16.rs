//! bf16 linear layers: `out = x · Wᵀ + b` with W rounded to bfloat16 once at load and x at each
//! call, products summed in f32 by AVX-512 BF16's `vdpbf16ps` (two products a lane an
//! instruction). A bf16 keeps f32's exponent and 8 bits of mantissa, so no scales are needed;
//! the product of two bf16 is exact in f32, only the sums round.
//!
//! Layout as in the int8 kernel: weights in panels of `NR` channels, each a run of k-pairs
//! with the panel's channels side by side; activation rows `depth` wide (input rounded up to
//! 2), their count padded to the tile height.

/// Output channels per panel and rows per tile.
const NR: usize = 32;
const MR: usize = 8;

pub(crate) struct Bf16Linear {
    input: usize,
    output: usize,
    depth: usize,
    packed: Vec<u16>,
    /// Per output channel, padded to whole panels.
    bias: Vec<f32>,
}

/// f32 → bf16, rounding to nearest even (NaN stays NaN).
#[inline(always)]
pub(crate) fn to_bf16(value: f32) -> u16 {
    let bits = value.to_bits();
    if value.is_nan() {
        return 0x7fc0;
    }
    ((bits + 0x7fff + ((bits >> 16) & 1)) >> 16) as u16
}

#[inline(always)]
fn from_bf16(value: u16) -> f32 {
    f32::from_bits(u32::from(value) << 16)
}

impl Bf16Linear {
    /// Rounds `weight` ([output × input], row-major) to bf16 panels.
    pub fn new(weight: &[f32], bias: &[f32], input: usize, output: usize) -> Self {
        let depth = input.next_multiple_of(2);
        let padded = output.next_multiple_of(NR);
        let mut layer = Bf16Linear {
            input,
            output,
            depth,
            packed: vec![0; padded * depth],
            bias: vec![0.0; padded],
        };
        layer.bias[..output].copy_from_slice(&bias[..output]);
        for o in 0..output {
            for k in 0..input {
                let at = layer.packed_index(o, k);
                layer.packed[at] = to_bf16(weight[o * input + k]);
            }
        }
        layer
    }

    fn packed_index(&self, o: usize, k: usize) -> usize {
        let pairs = self.depth / 2;
        ((o / NR * pairs + k / 2) * NR + o % NR) * 2 + k % 2
    }

    /// Rows rounded to bf16, `depth` wide, padded with zero rows to whole tiles.
    fn round_rows(&self, x: &[f32], rows: usize) -> Vec<u16> {
        let mut data = vec![0u16; rows.next_multiple_of(MR) * self.depth];
        for r in 0..rows {
            let row = &x[r * self.input..(r + 1) * self.input];
            for (d, v) in data[r * self.depth..].iter_mut().zip(row) {
                *d = to_bf16(*v);
            }
        }
        data
    }

    /// out[rows × output] = x[rows × input] · Wᵀ + b
    pub fn forward(&self, x: &[f32], rows: usize, out: &mut [f32]) {
        assert!(x.len() >= rows * self.input && out.len() >= rows * self.output);
        #[cfg(target_arch = "x86_64")]
        if super::precision::cpu::has_avx512_bf16() {
            // SAFETY: the CPU has the features the function is compiled for.
            unsafe { x86::forward(self, x, rows, out) };
            return;
        }
        self.forward_reference(x, rows, out);
    }

    /// The scalar reference: the same rounding, sums in plain loops.
    pub fn forward_reference(&self, x: &[f32], rows: usize, out: &mut [f32]) {
        let act = self.round_rows(x, rows);
        for r in 0..rows {
            for o in 0..self.output {
                let sum: f32 = (0..self.input)
                    .map(|k| {
                        from_bf16(act[r * self.depth + k])
                            * from_bf16(self.packed[self.packed_index(o, k)])
                    })
                    .sum();
                out[r * self.output + o] = sum + self.bias[o];
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::*;

    /// Tile of MR rows × NR channels: `vdpbf16ps` multiplies 2 activations (broadcast) by 2
    /// weights of each of 16 channels and adds both products to the channel's f32 sum.
    ///
    /// SAFETY: the CPU has AVX-512 F/BW/BF16; `a` points at MR rows of `stride` words with
    /// at least 2·pairs readable in each; `w` at a panel of pairs × 64 words.
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    unsafe fn tile(a: *const u16, stride: usize, w: *const u16, pairs: usize) -> [[f32; NR]; MR] {
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        for g in 0..pairs {
            // SAFETY: in bounds by the function's contract; __m512i and __m512bh are both
            // 64 bytes of packed lanes.
            unsafe {
                let w0: __m512bh = std::mem::transmute(_mm512_loadu_si512(w.add(g * 64).cast()));
                let w1: __m512bh =
                    std::mem::transmute(_mm512_loadu_si512(w.add(g * 64 + 32).cast()));
                for (r, acc) in acc.iter_mut().enumerate() {
                    let pair = a.add(r * stride + 2 * g).cast::<i32>().read_unaligned();
                    let x: __m512bh = std::mem::transmute(_mm512_set1_epi32(pair));
                    acc[0] = _mm512_dpbf16_ps(acc[0], x, w0);
                    acc[1] = _mm512_dpbf16_ps(acc[1], x, w1);
                }
            }
        }
        let mut out = [[0.0f32; NR]; MR];
        for (dst, acc) in out.iter_mut().zip(&acc) {
            // SAFETY: each row of `out` is 32 f32s, two 64-byte stores.
            unsafe {
                _mm512_storeu_ps(dst.as_mut_ptr(), acc[0]);
                _mm512_storeu_ps(dst.as_mut_ptr().add(16), acc[1]);
            }
        }
        out
    }

    /// SAFETY: the CPU has AVX-512 F/BW/BF16.
    #[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
    pub(super) unsafe fn forward(layer: &Bf16Linear, x: &[f32], rows: usize, out: &mut [f32]) {
        let act = layer.round_rows(x, rows);
        let pairs = layer.depth / 2;
        let panel = pairs * 2 * NR;
        assert_eq!(layer.packed.len(), layer.output.div_ceil(NR) * panel);
        for row in (0..rows).step_by(MR) {
            let valid = MR.min(rows - row);
            for (p, col) in (0..layer.output).step_by(NR).enumerate() {
                // SAFETY: `act` holds whole tiles of `depth`-wide rows; the panel is in
                // `packed` (asserted above).
                let tile = unsafe {
                    tile(
                        act.as_ptr().add(row * layer.depth),
                        layer.depth,
                        layer.packed.as_ptr().add(p * panel),
                        pairs,
                    )
                };
                let cols = NR.min(layer.output - col);
                let bias = &layer.bias[col..col + NR];
                for (r, sums) in tile[..valid].iter().enumerate() {
                    let start = (row + r) * layer.output + col;
                    for ((dst, sum), b) in out[start..start + cols].iter_mut().zip(sums).zip(bias) {
                        *dst = sum + b;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::int8::tests::random;
    use super::super::precision::cpu;
    use super::*;

    #[test]
    fn rounding_to_bf16_is_to_nearest_even() {
        assert_eq!(to_bf16(1.0), 0x3f80);
        assert_eq!(from_bf16(to_bf16(-2.5)), -2.5);
        // 1 + 2⁻⁸ lies halfway between two bf16 values: ties go to the even one (1.0).
        assert_eq!(to_bf16(1.0 + 1.0 / 256.0), 0x3f80);
        assert_eq!(to_bf16(1.0 + 3.0 / 256.0), 0x3f82);
        assert!(from_bf16(to_bf16(f32::NAN)).is_nan());
    }

    #[test]
    fn the_bf16_kernel_matches_the_scalar_reference() {
        if !cpu::has_avx512_bf16() {
            eprintln!("this CPU has no AVX-512 BF16: its kernel is not tested here");
            return;
        }
        for (seed, (rows, input, output)) in [(1, 2, 1), (7, 30, 33), (13, 384, 96), (20, 61, 50)]
            .into_iter()
            .enumerate()
        {
            let x = random(rows * input, seed as u64 + 1);
            let w = random(output * input, seed as u64 + 100);
            let b = random(output, seed as u64 + 200);
            let layer = Bf16Linear::new(&w, &b, input, output);
            let mut fast = vec![f32::NAN; rows * output];
            let mut reference = vec![f32::NAN; rows * output];
            layer.forward(&x, rows, &mut fast);
            layer.forward_reference(&x, rows, &mut reference);
            // Products are exact; sums in another order differ by f32 rounding only.
            for r in 0..rows {
                for o in 0..output {
                    let magnitude: f32 = (0..input)
                        .map(|k| (x[r * input + k] * w[o * input + k]).abs())
                        .sum();
                    let (got, want) = (fast[r * output + o], reference[r * output + o]);
                    assert!(
                        (got - want).abs() <= 1e-5 * magnitude + 1e-6,
                        "{rows}×{input}→{output} ({r}, {o}): {got} vs {want}"
                    );
                }
            }
        }
    }
}
