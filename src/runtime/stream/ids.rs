//! Ids in Bedrock's formats (`msg_bdrk_…`, `toolu_bdrk_…`, `tooluse_…`): random, or — with
//! `--bedrock-deterministic` — derived from the request so golden streams are byte-exact.

use crate::hash::stable_hash;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A per-stream id source.
#[derive(Debug, Clone)]
pub struct Ids {
    state: u64,
    /// Seeded ids also pin the clock, so deterministic streams carry fixed timestamps.
    pinned: bool,
}

impl Ids {
    pub fn random() -> Self {
        let seed = uuid::Uuid::new_v4().as_u128();
        Self {
            state: (seed as u64) ^ ((seed >> 64) as u64),
            pinned: false,
        }
    }

    /// Same seed, same ids, on every build and toolchain (the seed goes through [`stable_hash`]).
    pub fn seeded(seed: &[&[u8]]) -> Self {
        Self {
            state: stable_hash(seed),
            pinned: true,
        }
    }

    fn next_u64(&mut self) -> u64 {
        // splitmix64: tiny, fast, and good enough for ids.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| {
                let i = (self.next_u64() % alphabet.len() as u64) as usize;
                char::from(alphabet[i])
            })
            .collect()
    }

    /// Anthropic-on-Bedrock message id.
    pub fn message(&mut self) -> String {
        format!("msg_bdrk_{}", self.chars(BASE62, 24))
    }

    /// Anthropic-on-Bedrock tool-use id (InvokeModel).
    pub fn anthropic_tool(&mut self) -> String {
        format!("toolu_bdrk_{}", self.chars(BASE62, 24))
    }

    /// Converse tool-use id.
    pub fn converse_tool(&mut self) -> String {
        format!("tooluse_{}", self.chars(BASE64URL, 22))
    }

    /// A UUID-shaped id (Cohere generations, chat completion ids).
    pub fn uuid(&mut self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        uuid::Builder::from_random_bytes(((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes())
            .into_uuid()
            .to_string()
    }

    /// Seconds since the epoch for `created` fields: now, or 2026-01-01T00:00:00Z when seeded.
    pub fn unix_seconds(&self) -> u64 {
        if self.pinned {
            return 1_767_225_600;
        }
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    /// A float in `[0, 1)`.
    pub fn unit_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// A short alphanumeric suffix.
    pub fn short(&mut self, n: usize) -> String {
        self.chars(BASE62, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_determinism() {
        let mut a = Ids::seeded(&[b"req"]);
        let mut b = Ids::seeded(&[b"req"]);
        let m = a.message();
        assert_eq!(m, b.message());
        assert!(m.starts_with("msg_bdrk_") && m.len() == 33);
        let t = a.converse_tool();
        assert!(t.starts_with("tooluse_") && t.len() == 30);
        assert_ne!(Ids::random().message(), Ids::random().message());
        assert_eq!(a.uuid().len(), 36);
    }
}
