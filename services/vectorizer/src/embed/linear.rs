//! A linear layer of the encoder in the precision chosen at load.

use super::bf16::Bf16Linear;
use super::int8::Int8Linear;
use super::precision::Kernel;

pub(crate) struct Linear {
    pub input: usize,
    pub output: usize,
    weights: Weights,
}

enum Weights {
    /// [out × in], row-major (PyTorch's layout), and the bias.
    F32 {
        weight: Vec<f32>,
        bias: Vec<f32>,
    },
    Int8(Int8Linear),
    Bf16(Bf16Linear),
}

impl Linear {
    /// `weight` is [output × input], row-major; converted once here for `kernel`.
    pub fn new(
        weight: Vec<f32>,
        bias: Vec<f32>,
        input: usize,
        output: usize,
        kernel: Kernel,
    ) -> Self {
        let weights = match kernel {
            Kernel::Sgemm => Weights::F32 { weight, bias },
            Kernel::Avx512Vnni | Kernel::Avx2Int8 => {
                Weights::Int8(Int8Linear::new(&weight, &bias, input, output, kernel))
            }
            Kernel::Avx512Bf16 => Weights::Bf16(Bf16Linear::new(&weight, &bias, input, output)),
        };
        Linear {
            input,
            output,
            weights,
        }
    }

    /// out[rows × output] = x[rows × input] · Wᵀ + b
    pub fn forward(&self, x: &[f32], rows: usize, out: &mut [f32]) {
        match &self.weights {
            Weights::F32 { weight, bias } => sgemm(x, rows, weight, bias, self, out),
            Weights::Int8(layer) => layer.forward(x, rows, out),
            Weights::Bf16(layer) => layer.forward(x, rows, out),
        }
    }
}

fn sgemm(x: &[f32], rows: usize, weight: &[f32], bias: &[f32], layer: &Linear, out: &mut [f32]) {
    assert!(x.len() >= rows * layer.input && weight.len() >= layer.output * layer.input);
    let out = &mut out[..rows * layer.output];
    for r in 0..rows {
        out[r * layer.output..(r + 1) * layer.output].copy_from_slice(bias);
    }
    // SAFETY: the pointers and strides describe in-bounds matrices of the sizes given (checked
    // above): x is rows × input (row-major), weight is output × input read as its transpose,
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
            weight.as_ptr(),
            1,
            layer.input as isize,
            1.0,
            out.as_mut_ptr(),
            layer.output as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::precision::Precision;
    use super::*;

    #[test]
    fn linear_layers_multiply_by_the_transposed_weight_and_add_the_bias() {
        let weight = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 × 3
        let bias = vec![0.5, -1.0];
        let x = [1.0, 0.0, 2.0, 0.0, 1.0, 0.0]; // 2 × 3
        let exact = [7.5, 15.0, 2.5, 4.0];
        let layer = Linear::new(weight.clone(), bias.clone(), 3, 2, Kernel::Sgemm);
        let mut out = [0.0; 4];
        layer.forward(&x, 2, &mut out);
        assert_eq!(out, exact);
        // Every precision this CPU runs gets close (int8 and bf16 round the inputs).
        for precision in Precision::ALL {
            let Some(kernel) = precision.kernel() else {
                continue;
            };
            let layer = Linear::new(weight.clone(), bias.clone(), 3, 2, kernel);
            let mut out = [0.0; 4];
            layer.forward(&x, 2, &mut out);
            for (got, want) in out.iter().zip(exact) {
                assert!((got - want).abs() < 0.1, "{precision}: {out:?}");
            }
        }
    }
}
