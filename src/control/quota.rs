//! Quotas as Bedrock keeps them: requests and tokens per window, a token bucket per model and
//! region (`--bedrock-quota`, or a rule's `quota` for the calls it matches).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A quota: requests and / or tokens per window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub rpm: Option<u32>,
    pub tpm: Option<u32>,
    pub window: Duration,
}

impl Limit {
    pub const MINUTE: Duration = Duration::from_secs(60);

    /// Says the quota as a person would, for the reason a call was throttled.
    pub fn describe(&self, over: Over) -> String {
        let window = self.window.as_secs_f64();
        match over {
            Over::Requests => format!("{} requests per {window} s", self.rpm.unwrap_or(0)),
            Over::Tokens => format!("{} tokens per {window} s", self.tpm.unwrap_or(0)),
        }
    }
}

/// Which bucket was empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    Requests,
    Tokens,
}

/// Whose bucket: `--bedrock-quota` (an empty scope) or a rule's, for one model in one region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub scope: String,
    pub model: String,
    pub region: String,
}

/// One level that refills continuously to its capacity over the window.
#[derive(Debug, Clone, Copy)]
struct Level {
    capacity: f64,
    per_second: f64,
    level: f64,
}

impl Level {
    fn new(capacity: u32, window: Duration) -> Self {
        let capacity = f64::from(capacity);
        Self {
            capacity,
            per_second: capacity / window.as_secs_f64().max(f64::MIN_POSITIVE),
            level: capacity,
        }
    }

    fn refill(&mut self, elapsed: Duration) {
        self.level = (self.level + elapsed.as_secs_f64() * self.per_second).min(self.capacity);
    }

    fn full(&self) -> bool {
        self.level >= self.capacity
    }
}

#[derive(Debug)]
struct Bucket {
    requests: Option<Level>,
    tokens: Option<Level>,
    at: Instant,
}

impl Bucket {
    fn new(limit: &Limit, now: Instant) -> Self {
        Self {
            requests: limit.rpm.map(|n| Level::new(n, limit.window)),
            tokens: limit.tpm.map(|n| Level::new(n, limit.window)),
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at);
        self.at = now;
        for level in [&mut self.requests, &mut self.tokens].into_iter().flatten() {
            level.refill(elapsed);
        }
    }

    fn full(&self) -> bool {
        [&self.requests, &self.tokens]
            .into_iter()
            .flatten()
            .all(Level::full)
    }
}

/// Buckets beyond this many are pruned of the full ones (which cost nothing to make again), so
/// that callers naming many regions cannot grow the map without bound.
const PRUNE_ABOVE: usize = 4096;

/// Every bucket, behind one lock.
#[derive(Debug, Default)]
pub struct Buckets {
    map: Mutex<HashMap<Key, Bucket>>,
}

impl Buckets {
    /// Admits a call that brings `input_tokens`: takes a request and the tokens, or — when a
    /// bucket has no request left, or no token at all — takes nothing and says which was empty.
    /// Tokens may go below zero: a large call is admitted while any are left, and its debt is
    /// waited out by the calls after it.
    pub fn admit(&self, key: &Key, limit: &Limit, input_tokens: u32) -> Result<(), Over> {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > PRUNE_ABOVE && !map.contains_key(key) {
            map.retain(|_, b| {
                b.refill(now);
                !b.full()
            });
        }
        let bucket = map
            .entry(key.clone())
            .or_insert_with(|| Bucket::new(limit, now));
        bucket.refill(now);
        if bucket.requests.is_some_and(|l| l.level < 1.0) {
            return Err(Over::Requests);
        }
        if bucket.tokens.is_some_and(|l| l.level <= 0.0) {
            return Err(Over::Tokens);
        }
        if let Some(l) = &mut bucket.requests {
            l.level -= 1.0;
        }
        if let Some(l) = &mut bucket.tokens {
            l.level -= f64::from(input_tokens);
        }
        Ok(())
    }

    /// Takes an answer's output tokens.
    pub fn charge(&self, key: &Key, tokens: u32) {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bucket) = map.get_mut(key) {
            bucket.refill(now);
            if let Some(l) = &mut bucket.tokens {
                l.level -= f64::from(tokens);
            }
        }
    }

    pub fn clear(&self) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Forgets a deleted rule's buckets.
    pub fn forget(&self, scope: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|k, _| k.scope != scope);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(model: &str) -> Key {
        Key {
            scope: String::new(),
            model: model.into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn requests_run_out_per_model_and_region() {
        let b = Buckets::default();
        let limit = Limit {
            rpm: Some(3),
            tpm: None,
            window: Limit::MINUTE,
        };
        for _ in 0..3 {
            assert_eq!(b.admit(&key("a"), &limit, 10), Ok(()));
        }
        assert_eq!(b.admit(&key("a"), &limit, 10), Err(Over::Requests));
        assert_eq!(b.admit(&key("b"), &limit, 10), Ok(()));
        let mut west = key("a");
        west.region = "us-west-2".into();
        assert_eq!(b.admit(&west, &limit, 10), Ok(()));
    }

    #[test]
    fn tokens_may_go_into_debt_that_later_calls_wait_out() {
        let b = Buckets::default();
        let limit = Limit {
            rpm: None,
            tpm: Some(100),
            window: Limit::MINUTE,
        };
        assert_eq!(b.admit(&key("a"), &limit, 60), Ok(()));
        b.charge(&key("a"), 30);
        assert_eq!(b.admit(&key("a"), &limit, 60), Ok(()), "10 tokens left");
        assert_eq!(b.admit(&key("a"), &limit, 1), Err(Over::Tokens));
    }

    #[test]
    fn a_bucket_refills_over_its_window() {
        let mut bucket = Bucket::new(
            &Limit {
                rpm: Some(2),
                tpm: None,
                window: Duration::from_secs(10),
            },
            Instant::now(),
        );
        let Some(level) = &mut bucket.requests else {
            panic!()
        };
        level.level = 0.0;
        level.refill(Duration::from_secs(5));
        assert!((level.level - 1.0).abs() < 1e-9);
        level.refill(Duration::from_secs(60));
        assert!(level.full());
    }
}
