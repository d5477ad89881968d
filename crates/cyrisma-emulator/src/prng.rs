//! A small deterministic pseudo-random generator (SplitMix64) for seeded data, and fresh random
//! strings from the operating system for credentials and tokens.

/// SplitMix64: tiny, fast, and good enough for realistic-looking test data. Never used for
/// anything secret.
#[derive(Clone, Debug)]
pub(crate) struct Prng(u64);

impl Prng {
    /// A generator for a seed.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A generator derived from a seed and a path of labels, so that every part of the seeded
    /// data (an instance, a scan, an asset) has its own independent stream.
    pub(crate) fn derive(seed: u64, labels: &[u64]) -> Self {
        let mut state = seed ^ 0x5DEE_CE66_D1CE_4E5B;
        for label in labels {
            state = mix(state ^ mix(label.wrapping_add(0x9E37_79B9_7F4A_7C15)));
        }
        Self(state)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A number in `0..bound` (`0` when `bound` is `0`).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        // Multiply-shift: unbiased enough for data generation.
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// A number in `low..=high`.
    pub(crate) fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low) + 1)
    }

    /// A float in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `true` with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        // Callers pass constant, non-empty tables; an empty one would be a programming error,
        // which `below(0) == 0` turns into an index panic caught by the tests.
        &items[self.below(items.len() as u64) as usize]
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` random alphanumerics from the operating system's generator.
pub(crate) fn random_alphanumeric(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    fill_random(&mut bytes);
    // 256 = 4 * 62 + 8: reject the top 8 values to stay unbiased, refilling as needed.
    let mut out = String::with_capacity(len);
    let mut pool = bytes.into_iter();
    while out.len() < len {
        let byte = match pool.next() {
            Some(byte) => byte,
            None => {
                let mut more = vec![0u8; len];
                fill_random(&mut more);
                pool = more.into_iter();
                continue;
            }
        };
        if usize::from(byte) < ALPHANUMERIC.len() * 4 {
            out.push(char::from(ALPHANUMERIC[usize::from(byte) % ALPHANUMERIC.len()]));
        }
    }
    out
}

/// A random UUID-shaped string (version 4 layout).
pub(crate) fn random_uuid() -> String {
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes);
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

fn fill_random(bytes: &mut [u8]) {
    if getrandom::fill(bytes).is_err() {
        // No OS generator (never seen on supported platforms): fall back to a time- and
        // address-seeded SplitMix stream, which is still unique per process and call.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos() as u64)
            .unwrap_or(0);
        let mut prng = Prng::new(nanos ^ (bytes.as_ptr() as u64));
        for byte in bytes.iter_mut() {
            *byte = prng.next_u64() as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_streams_are_deterministic_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Prng::derive(7, &[1, 2]).next_u64()).collect();
        assert!(a.windows(2).all(|pair| pair[0] == pair[1]));
        assert_ne!(Prng::derive(7, &[1, 2]).next_u64(), Prng::derive(7, &[2, 1]).next_u64());
        let mut prng = Prng::new(1);
        for _ in 0..1000 {
            assert!(prng.below(10) < 10);
            let value = prng.range(3, 5);
            assert!((3..=5).contains(&value));
        }
    }

    #[test]
    fn random_strings_have_the_right_shape() {
        let token = random_alphanumeric(12);
        assert_eq!(token.len(), 12);
        assert!(token.chars().all(|ch| ch.is_ascii_alphanumeric()));
        let uuid = random_uuid();
        assert_eq!(uuid.len(), 36);
        assert_eq!(uuid.matches('-').count(), 4);
    }
}
