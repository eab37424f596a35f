//! The control plane's state: one [`RegionState`] per region behind one mutex (never held across an
//! `.await`: every operation is synchronous). Time-driven changes — a customization job finishing,
//! provisioned throughput coming into service — are applied lazily from timestamps whenever a region
//! is touched, so there are no background tasks and a read always sees the state "now".

use super::state::{RegionState, Timing};
use crate::aws::{arn, RequestContext};
use crate::config::Config;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

/// All control-plane state, per region.
#[derive(Debug)]
pub struct Store {
    regions: Mutex<HashMap<String, RegionState>>,
    timing: Timing,
    /// `--bedrock-deterministic`: new ids derive from the request.
    deterministic: bool,
}

/// One operation's view of the store: its region's state, who is calling, and the clock.
pub struct Scope<'a> {
    pub state: &'a mut RegionState,
    pub region: &'a str,
    pub account: &'a str,
    pub now: SystemTime,
    pub timing: Timing,
    pub deterministic: bool,
}

impl Scope<'_> {
    /// `arn:aws:bedrock:{region}:{account}:{resource}` for a new resource of the caller.
    pub fn arn(&self, resource: &str) -> String {
        arn::build(self.region, self.account, resource)
    }
}

impl Store {
    pub fn new(config: &Config) -> Self {
        Self {
            regions: Mutex::default(),
            timing: Timing {
                work: config.customization_duration,
            },
            deterministic: config.deterministic,
        }
    }

    /// Forgets everything (`POST /_awsim/reset`).
    pub fn reset(&self) {
        self.regions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Runs `f` on the caller's region, brought up to date first.
    pub fn scope<R>(&self, ctx: &RequestContext, f: impl FnOnce(&mut Scope<'_>) -> R) -> R {
        self.scope_in(&ctx.region, &ctx.account_id, f)
    }

    /// Runs `f` on `region`'s state (created empty if it never existed), brought up to date first.
    pub fn scope_in<R>(
        &self,
        region: &str,
        account: &str,
        f: impl FnOnce(&mut Scope<'_>) -> R,
    ) -> R {
        let now = SystemTime::now();
        // A panic elsewhere cannot leave the maps half-written in a way that matters more than
        // losing the emulator, so a poisoned lock is simply taken over.
        let mut regions = self.regions.lock().unwrap_or_else(PoisonError::into_inner);
        let state = regions.entry(region.to_string()).or_default();
        state.advance(now, self.timing);
        f(&mut Scope {
            state,
            region,
            account,
            now,
            timing: self.timing,
            deterministic: self.deterministic,
        })
    }
}

/// A fresh 12-character resource id (`[a-z0-9]{12}`), as Bedrock uses for guardrails, jobs, custom
/// models, application inference profiles and provisioned throughput.
pub fn new_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(12)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// A 12-character resource id derived from `seed` (the same seed, the same id): in deterministic
/// mode, so that what a golden stream shows of a resource (a guardrail's id and ARN) is fixed.
pub fn seeded_id(seed: &[&[u8]]) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = crate::hash::stable_hash(seed);
    (0..12)
        .map(|_| {
            let c = char::from(ALPHABET[(h % 36) as usize]);
            h /= 36;
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn ids_are_twelve_lowercase_alphanumerics() {
        let a = new_id();
        assert_eq!(a.len(), 12);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_ne!(a, new_id());
    }

    #[test]
    fn regions_are_separate_and_reset_clears_them() {
        let store = Store::new(&Config::default());
        store.scope_in("eu-west-1", "000000000000", |s| {
            s.state.logging = Some(Value::Bool(true))
        });
        assert!(store.scope_in("us-east-1", "000000000000", |s| s.state.logging.is_none()));
        assert!(store.scope_in("eu-west-1", "000000000000", |s| s.state.logging.is_some()));
        store.reset();
        assert!(store.scope_in("eu-west-1", "000000000000", |s| s.state.logging.is_none()));
    }
}
