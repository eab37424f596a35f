//! A hash that gives the same number on every run, build and Rust release, for values a user can
//! compare across them: ids in deterministic mode (byte-exact golden streams), canned answers,
//! plausible metrics. std's `DefaultHasher` may change its algorithm in any release, and std's
//! `Hash` impls what they feed a hasher, so this hashes bytes only.

/// FNV-1a (64-bit) over `parts`, with a 0xff byte (never in UTF-8 text) between them so that
/// `["ab", "c"]` and `["a", "bc"]` differ.
pub fn stable_hash(parts: &[&[u8]]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let byte = |h: u64, b: u8| (h ^ u64::from(b)).wrapping_mul(PRIME);
    parts.iter().enumerate().fold(OFFSET, |h, (i, part)| {
        let h = if i == 0 { h } else { byte(h, 0xff) };
        part.iter().fold(h, |h, &b| byte(h, b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_reference_values_and_separated_parts() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(stable_hash(&[b""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable_hash(&[b"foobar"]), 0x8594_4171_f739_67e8);
        assert_ne!(stable_hash(&[b"ab", b"c"]), stable_hash(&[b"a", b"bc"]));
    }
}
