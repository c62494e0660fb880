//! Deterministic pseudo-randomness: every generated value is a pure function of the dataset
//! seed and a few integers, so any issue can be rebuilt on demand without storing it.

/// SplitMix64's finaliser: a cheap, well-mixed 64-bit hash step.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a sequence of integers; order matters.
pub(crate) fn hash(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x2545_F491_4F6C_DD1D, |acc, &part| mix(acc ^ part))
}

/// FNV-1a, for hashing request text into page tokens.
pub(crate) fn hash_str(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |acc, b| {
        (acc ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// A stream of numbers seeded from [`hash`] of its parts.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(parts: &[u64]) -> Rng {
        Rng(hash(parts))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n`; 0 when `n` is 0.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        // n is a usize, so the remainder fits back into one
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..hi` (`lo` when the range is empty).
    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let width = hi.abs_diff(lo);
        lo.saturating_add_unsigned(self.next_u64() % width)
    }

    /// True with probability `percent`/100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let i = self.below(items.len());
        items.get(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_in_range() {
        let mut a = Rng::new(&[42, 7]);
        let mut b = Rng::new(&[42, 7]);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut r = Rng::new(&[1]);
        for _ in 0..1000 {
            assert!(r.below(7) < 7);
            let x = r.between(-5, 5);
            assert!((-5..5).contains(&x));
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.between(3, 3), 3);
        assert_ne!(hash(&[1, 2]), hash(&[2, 1]));
        assert_ne!(hash_str("a"), hash_str("b"));
    }
}
