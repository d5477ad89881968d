//! A fast hasher for the history's own keys: fingerprints (already uniform SHA-256 bits), interned
//! symbol ids and short identifiers read from our dataset. It is not resistant to chosen
//! collisions, which is fine for keys that are hashes or small integers, and makes a diff of
//! millions of findings spend its time on the findings rather than on SipHash.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::history::fingerprint::Fingerprint;

/// The multiplier of the Fx hash (as used by rustc), an odd constant with well-spread bits.
const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// A multiply-rotate hasher (the Fx hash) over 64-bit words.
#[derive(Clone, Copy, Debug, Default)]
pub struct FastHasher {
    hash: u64,
}

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        // Hash tables take their bucket from the low bits and their tag from the high ones; the
        // multiplication leaves the high bits well mixed, so fold them into the low ones too.
        self.hash ^ (self.hash >> 32)
    }
}

/// Builds [`FastHasher`]s.
pub type FastBuild = BuildHasherDefault<FastHasher>;

/// A set of fingerprints with the fast hasher.
pub type FingerprintSet = HashSet<Fingerprint, FastBuild>;

/// A map keyed by fingerprint with the fast hasher.
pub type FingerprintMap<V> = HashMap<Fingerprint, V, FastBuild>;

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, Hash};

    use super::*;

    fn hash<T: Hash>(value: &T) -> u64 {
        FastBuild::default().hash_one(value)
    }

    #[test]
    fn equal_keys_hash_alike_and_different_ones_apart() {
        assert_eq!(hash(&"instance-1"), hash(&"instance-1"));
        assert_ne!(hash(&"instance-1"), hash(&"instance-2"));
        // Strings whose bytes differ only after the first word, or in the partial last word.
        assert_ne!(hash(&"abcdefgh-1"), hash(&"abcdefgh-2"));
        assert_ne!(hash(&(1u32, 2u32)), hash(&(2u32, 1u32)));
        let (a, b) = (Fingerprint::from_hex(&"01".repeat(16)), Fingerprint::from_hex(&"02".repeat(16)));
        assert_ne!(hash(&a), hash(&b));
    }

    #[test]
    fn a_set_of_many_fingerprints_behaves_as_a_set() {
        let mut set = FingerprintSet::default();
        for index in 0..10_000u32 {
            let hex = format!("{index:032x}");
            set.insert(Fingerprint::from_hex(&hex).expect("hex"));
        }
        assert_eq!(set.len(), 10_000);
        assert!(set.contains(&Fingerprint::from_hex(&format!("{:032x}", 9_999)).expect("hex")));
        assert!(!set.contains(&Fingerprint::from_hex(&format!("{:032x}", 10_000)).expect("hex")));
    }
}
