//! Timestamps as the control plane sends them: RFC 3339 strings with milliseconds (epoch numbers break
//! the Rust and JS SDKs, wire.md §5.6).

use std::time::{Duration, SystemTime};

/// `2026-01-02T03:04:05.678Z`
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// Parses `2024-01-01T00:00:00Z`, with or without fractions, or with a numeric offset.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    if let Ok(t) = humantime::parse_rfc3339_weak(s) {
        return Some(t);
    }
    // humantime has no offsets: apply `+hh:mm` / `-hh:mm` ourselves.
    let (base, sign, offset) = match s.len().checked_sub(6).map(|i| s.split_at(i)) {
        Some((base, off)) if off.starts_with('+') || off.starts_with('-') => {
            (base, if off.starts_with('+') { 1 } else { -1 }, &off[1..])
        }
        _ => return None,
    };
    let (h, m) = offset.split_once(':')?;
    let secs = h.parse::<u64>().ok()? * 3600 + m.parse::<u64>().ok()? * 60;
    let local = humantime::parse_rfc3339_weak(base).ok()?;
    let delta = Duration::from_secs(secs);
    if sign > 0 {
        local.checked_sub(delta)
    } else {
        local.checked_add(delta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_millis_and_z() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_714_564_800_123);
        assert_eq!(rfc3339(t), "2024-05-01T12:00:00.123Z");
    }

    #[test]
    fn parses_z_fraction_and_offsets() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_564_800);
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00Z"), Some(t));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00+00:00"), Some(t));
        assert_eq!(parse_rfc3339("2024-05-01T14:00:00+02:00"), Some(t));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
