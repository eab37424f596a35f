//! Query-string members of the list operations (`maxResults`, `creationTimeAfter`, `sortOrder`, …),
//! parsed and checked against the model with the same messages as body members.

use super::validate::{Checks, Pattern};
use crate::aws::time::parse_rfc3339;
use crate::aws::ApiError;
use crate::call::Call;
use std::time::SystemTime;

pub const SORT_ORDERS: &[&str] = &["Ascending", "Descending"];

/// The decoded query parameters of one request.
#[derive(Debug, Default)]
pub struct Query {
    params: Vec<(String, String)>,
}

impl Query {
    pub fn of(call: &Call) -> Result<Self, ApiError> {
        Ok(Self {
            params: call.query_params()?,
        })
    }

    /// For unit tests: `a=1&b=2`, percent-decoded like a real query.
    #[cfg(test)]
    pub fn from_pairs(raw: &str) -> Self {
        Self {
            params: crate::aws::http::parse_query(Some(raw)).unwrap_or_default(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated parameter (`tagKeys=a&tagKeys=b`).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn text(
        &self,
        name: &str,
        min: usize,
        max: usize,
        pattern: Option<&Pattern>,
        checks: &mut Checks,
    ) -> Option<String> {
        let value = self.get(name)?;
        if checks.length(name, value, min, max) {
            if let Some(p) = pattern {
                checks.pattern(name, value, p);
            }
        }
        Some(value.to_string())
    }

    pub fn one_of(&self, name: &str, allowed: &[&str], checks: &mut Checks) -> Option<String> {
        let value = self.get(name)?;
        checks.one_of(name, value, allowed);
        Some(value.to_string())
    }

    pub fn int(&self, name: &str, min: i64, max: i64, checks: &mut Checks) -> Option<i64> {
        let value = self.get(name)?;
        match value.parse::<i64>() {
            Ok(n) => {
                checks.range(name, n as f64, min as f64, max as f64);
                Some(n)
            }
            Err(_) => {
                checks.fail(name, Some(value), "Member must be an integer");
                None
            }
        }
    }

    /// An ISO 8601 timestamp (`2024-01-01T00:00:00Z`, as the SDKs serialize them); epoch seconds are
    /// accepted too, for hand-written requests.
    pub fn time(&self, name: &str, checks: &mut Checks) -> Option<SystemTime> {
        let value = self.get(name)?;
        let parsed = parse_rfc3339(value).or_else(|| {
            value
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs_f64(s))
        });
        if parsed.is_none() {
            checks.fail(
                name,
                Some(value),
                "Member must be an ISO 8601 timestamp such as 2024-01-01T00:00:00Z",
            );
        }
        parsed
    }

    pub fn bool(&self, name: &str, checks: &mut Checks) -> Option<bool> {
        match self.get(name)? {
            "true" => Some(true),
            "false" => Some(false),
            other => {
                checks.fail(name, Some(other), "Member must be true or false");
                None
            }
        }
    }

    /// `sortOrder`, Descending (newest first) unless asked otherwise, as the real lists default.
    pub fn descending(&self, checks: &mut Checks) -> bool {
        self.one_of("sortBy", &["CreationTime"], checks);
        self.one_of("sortOrder", SORT_ORDERS, checks).as_deref() != Some("Ascending")
    }
}

/// The creation-time window of the list filters (both bounds exclusive).
#[derive(Debug, Default, Clone, Copy)]
pub struct TimeWindow {
    pub after: Option<SystemTime>,
    pub before: Option<SystemTime>,
}

impl TimeWindow {
    pub fn from_query(q: &Query, checks: &mut Checks) -> Self {
        Self {
            after: q.time("creationTimeAfter", checks),
            before: q.time("creationTimeBefore", checks),
        }
    }

    pub fn contains(&self, t: SystemTime) -> bool {
        self.after.is_none_or(|a| t > a) && self.before.is_none_or(|b| t < b)
    }
}

/// `nameContains`: a case-insensitive substring match (no filter when absent).
pub fn contains_ignore_case(name: &str, needle: Option<&str>) -> bool {
    needle.is_none_or(|n| name.to_lowercase().contains(&n.to_lowercase()))
}
