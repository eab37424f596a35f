//! Distributions of measured durations (nanoseconds) and how the report writes them.

/// A sorted sample of durations in nanoseconds.
#[derive(Debug, Clone, Default)]
pub struct Dist {
    sorted: Vec<u64>,
}

impl Dist {
    pub fn new(mut values: Vec<u64>) -> Self {
        values.sort_unstable();
        Self { sorted: values }
    }

    /// Pools another sample into this one.
    pub fn absorb(&mut self, other: Dist) {
        self.sorted.extend(other.sorted);
        self.sorted.sort_unstable();
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The nearest-rank percentile `p` (0..=100).
    pub fn pct(&self, p: f64) -> Option<u64> {
        if self.sorted.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * self.sorted.len() as f64).ceil() as usize;
        Some(self.sorted[rank.clamp(1, self.sorted.len()) - 1])
    }

    pub fn p50(&self) -> Option<u64> {
        self.pct(50.0)
    }
    pub fn p90(&self) -> Option<u64> {
        self.pct(90.0)
    }
    pub fn p99(&self) -> Option<u64> {
        self.pct(99.0)
    }
    pub fn max(&self) -> Option<u64> {
        self.sorted.last().copied()
    }
}

/// The median of a few figures (rounds of a run): the middle one, or the mean of the two middle
/// ones; 0 for none.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// `through - direct` in nanoseconds, signed.
pub fn added(through: Option<u64>, direct: Option<u64>) -> Option<i64> {
    Some(i64::try_from(through?).ok()? - i64::try_from(direct?).ok()?)
}

/// Milliseconds with microsecond precision: `12.345 ms`.
pub fn ms(ns: Option<u64>) -> String {
    ns.map_or_else(|| "–".into(), |ns| format!("{:.3} ms", ns as f64 / 1e6))
}

/// Microseconds: `123.4 µs`, or milliseconds past 10 ms.
pub fn us(ns: Option<u64>) -> String {
    match ns {
        None => "–".into(),
        Some(ns) if ns >= 10_000_000 => ms(Some(ns)),
        Some(ns) => format!("{:.1} µs", ns as f64 / 1e3),
    }
}

/// A signed difference: `+0.123 ms` / `-4.5 µs`.
pub fn signed(ns: Option<i64>) -> String {
    match ns {
        None => "–".into(),
        Some(ns) if ns.unsigned_abs() >= 1_000_000 => format!("{:+.3} ms", ns as f64 / 1e6),
        Some(ns) => format!("{:+.1} µs", ns as f64 / 1e3),
    }
}

/// `through / direct` as `1.004×`.
pub fn ratio(through: Option<u64>, direct: Option<u64>) -> String {
    match (through, direct) {
        (Some(t), Some(d)) if d > 0 => format!("{:.3}×", t as f64 / d as f64),
        _ => "–".into(),
    }
}

/// Kibibytes as MB with one decimal: `9.8 MB` (MiB, as `ps` and `top` count).
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_median_is_the_middle_value_or_the_mean_of_the_two_middle_ones() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(vec![7.0]), 7.0);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let d = Dist::new((1..=100).rev().collect());
        assert_eq!(d.p50(), Some(50));
        assert_eq!(d.p90(), Some(90));
        assert_eq!(d.p99(), Some(99));
        assert_eq!(d.pct(100.0), Some(100));
        assert_eq!(Dist::new(vec![7]).p99(), Some(7));
        assert_eq!(Dist::default().p50(), None);

        let mut pooled = Dist::new(vec![5, 1]);
        pooled.absorb(Dist::new(vec![4, 2, 3]));
        assert_eq!(pooled.pct(100.0 / 5.0), Some(1));
        assert_eq!(pooled.p50(), Some(3));
        assert_eq!(pooled.max(), Some(5));
    }

    #[test]
    fn formatting() {
        assert_eq!(ms(Some(12_345_678)), "12.346 ms");
        assert_eq!(us(Some(1_500)), "1.5 µs");
        assert_eq!(signed(Some(-2_000_000)), "-2.000 ms");
        assert_eq!(signed(Some(150_000)), "+150.0 µs");
        assert_eq!(ratio(Some(11), Some(10)), "1.100×");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
