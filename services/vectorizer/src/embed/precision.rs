//! The arithmetic the local encoder's linear layers run in (`SLUICE_EMBED_PRECISION`) and the
//! CPU kernel each precision uses on this machine, chosen once at load.
//!
//! * `int8`: weights quantized per output channel at load, activations per row at each layer
//!   (8-bit unsigned with a zero point), products summed exactly in 32-bit integers. AVX-512
//!   VNNI (`vpdpbusd`, 64 multiply-adds an instruction) where the CPU has it, else AVX2
//!   (`vpmaddwd` on 16-bit lanes); both give bit-identical sums.
//! * `bf16`: weights and activations rounded to bfloat16, products summed in f32 with
//!   AVX-512 BF16 (`vdpbf16ps`).
//! * `f32`: `matrixmultiply`'s sgemm; every CPU.
//!
//! Attention, softmax, layer norm and GELU stay in f32 whatever the precision.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    F32,
    Bf16,
    Int8,
}

/// The matrix kernel a precision runs on this CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Sgemm,
    Avx512Bf16,
    Avx512Vnni,
    Avx2Int8,
}

impl Kernel {
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Sgemm => "f32 sgemm (matrixmultiply)",
            Kernel::Avx512Bf16 => "avx512_bf16 vdpbf16ps",
            Kernel::Avx512Vnni => "avx512_vnni vpdpbusd",
            Kernel::Avx2Int8 => "avx2 vpmaddwd",
        }
    }
}

impl Precision {
    pub const ALL: [Precision; 3] = [Precision::F32, Precision::Bf16, Precision::Int8];

    /// `f32`, `bf16` or `int8`; `auto` (or nothing) is [`Precision::fastest`].
    pub fn parse(value: &str) -> Result<Precision, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Precision::fastest()),
            "f32" | "fp32" => Ok(Precision::F32),
            "bf16" => Ok(Precision::Bf16),
            "int8" | "i8" => Ok(Precision::Int8),
            other => Err(format!("{other:?} (f32, bf16, int8 or auto)")),
        }
    }

    /// The default: int8 where the CPU has an integer kernel for it (AVX-512 VNNI or AVX2),
    /// else f32. int8 is the fastest on every CPU measured and keeps the relevance test's
    /// 24 of 24 (BENCHMARKS.md, "Local embeddings").
    pub fn fastest() -> Precision {
        if Precision::Int8.kernel().is_some() {
            Precision::Int8
        } else {
            Precision::F32
        }
    }

    /// The kernel this precision runs on this CPU, `None` if the CPU has none for it.
    pub fn kernel(self) -> Option<Kernel> {
        match self {
            Precision::F32 => Some(Kernel::Sgemm),
            Precision::Bf16 => cpu::has_avx512_bf16().then_some(Kernel::Avx512Bf16),
            Precision::Int8 => {
                if cpu::has_avx512_vnni() {
                    Some(Kernel::Avx512Vnni)
                } else if cpu::has_avx2() {
                    Some(Kernel::Avx2Int8)
                } else {
                    None
                }
            }
        }
    }

    /// The kernel to run: this precision's, or f32's where the CPU has none for it.
    pub fn kernel_or_f32(self) -> Kernel {
        self.kernel().unwrap_or(Kernel::Sgemm)
    }
}

impl Default for Precision {
    fn default() -> Self {
        Precision::fastest()
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
            Precision::Int8 => "int8",
        })
    }
}

/// Run-time CPU feature checks (false off x86-64).
pub(crate) mod cpu {
    #[cfg(target_arch = "x86_64")]
    pub fn has_avx2() -> bool {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }

    #[cfg(target_arch = "x86_64")]
    pub fn has_avx512_vnni() -> bool {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vnni")
    }

    #[cfg(target_arch = "x86_64")]
    pub fn has_avx512_bf16() -> bool {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512bf16")
    }

    #[cfg(not(target_arch = "x86_64"))]
    pub fn has_avx2() -> bool {
        false
    }

    #[cfg(not(target_arch = "x86_64"))]
    pub fn has_avx512_vnni() -> bool {
        false
    }

    #[cfg(not(target_arch = "x86_64"))]
    pub fn has_avx512_bf16() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_unknown_ones_are_refused() {
        assert_eq!(Precision::parse("F32"), Ok(Precision::F32));
        assert_eq!(Precision::parse("bf16"), Ok(Precision::Bf16));
        assert_eq!(Precision::parse(" int8 "), Ok(Precision::Int8));
        assert_eq!(Precision::parse("auto"), Ok(Precision::fastest()));
        assert!(Precision::parse("fp8").is_err());
        assert_eq!(Precision::F32.kernel(), Some(Kernel::Sgemm));
    }
}
