//! Time stamps carried inside token text. The synthetic upstream writes, into each token, the
//! instant it wrote the token (and, into the first one, the instant the request arrived); the client
//! reads them back. Both live in this process, so one monotonic clock serves both ends and the
//! one-way latency upstream → client is exact, with no pairing of requests needed.
//!
//! ```text
//! first token:  ~0001a2b3c4d5~0001a2b0f00d....   (written, then arrived; hex ns since EPOCH; padded with '.')
//! other tokens: ~0001a2b3c4d5...
//! ```

use std::fmt::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static EPOCH: OnceLock<Instant> = OnceLock::new();

const MARK: u8 = b'~';
const DIGITS: usize = 12;
/// The bytes one stamp takes.
pub const STAMP_LEN: usize = 1 + DIGITS;

/// The instant all stamps count from.
pub fn epoch() -> Instant {
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds from [`epoch`] to `t` (0 before it).
pub fn nanos_of(t: Instant) -> u64 {
    u64::try_from(t.saturating_duration_since(epoch()).as_nanos()).unwrap_or(u64::MAX)
}

/// The instant `ns` nanoseconds after [`epoch`].
pub fn instant_of(ns: u64) -> Instant {
    epoch() + Duration::from_nanos(ns)
}

/// Appends a token's text: the stamps, padded with `.` to `size` bytes (never cut below the stamps).
pub fn token_text(written: u64, arrived: Option<u64>, size: usize, out: &mut String) {
    let start = out.len();
    for ns in std::iter::once(written).chain(arrived) {
        // 48 bits of nanoseconds: 78 hours from the epoch.
        let _ = write!(out, "~{:012x}", ns & 0xffff_ffff_ffff);
    }
    while out.len() - start < size {
        out.push('.');
    }
}

/// What a token's text says about its timing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stamps {
    /// When the upstream wrote the token.
    pub written: Option<u64>,
    /// When the upstream received the request (first token only).
    pub arrived: Option<u64>,
}

/// Reads the stamps of a token's text; text from a real model has none.
pub fn parse(text: &str) -> Stamps {
    let bytes = text.as_bytes();
    let mut found = [None, None];
    let mut at = 0;
    for slot in &mut found {
        if bytes.get(at) != Some(&MARK) {
            break;
        }
        let Some(digits) = text.get(at + 1..at + STAMP_LEN) else {
            break;
        };
        let Ok(ns) = u64::from_str_radix(digits, 16) else {
            break;
        };
        *slot = Some(ns);
        at += STAMP_LEN;
    }
    Stamps {
        written: found[0],
        arrived: found[1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_and_pad() {
        let mut text = String::new();
        token_text(0x1234, Some(0xabc), 32, &mut text);
        assert_eq!(text.len(), 32);
        assert_eq!(
            parse(&text),
            Stamps {
                written: Some(0x1234),
                arrived: Some(0xabc)
            }
        );
        let mut text = String::new();
        token_text(7, None, 4, &mut text);
        assert_eq!(text, "~000000000007");
        assert_eq!(parse(&text).written, Some(7));
        assert_eq!(parse(&text).arrived, None);
    }

    #[test]
    fn real_text_has_no_stamps() {
        assert_eq!(parse(" Hello"), Stamps::default());
        assert_eq!(parse("~12"), Stamps::default());
        assert_eq!(parse(""), Stamps::default());
    }
}
