//! `maxResults` + `nextToken` for every paginated list. A token is opaque to clients: base64 of the
//! operation name and the offset of the next item, so a token from another list (or a made-up one)
//! is refused with a `ValidationException` instead of silently restarting.

use super::query::Query;
use super::validate::Checks;
use crate::aws::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The model's bound for `maxResults`; also the page size when a client does not ask for one.
pub const MAX_RESULTS: i64 = 1000;

/// Which slice of a list one request asked for.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    operation: &'static str,
    offset: usize,
    size: usize,
}

impl Page {
    /// Reads `maxResults` (range errors go to `checks`) and `nextToken` (a bad one fails at once).
    pub fn from_query(
        q: &Query,
        operation: &'static str,
        checks: &mut Checks,
    ) -> Result<Self, ApiError> {
        let size = q
            .int("maxResults", 1, MAX_RESULTS, checks)
            .unwrap_or(MAX_RESULTS);
        let offset = match q.get("nextToken") {
            None => 0,
            Some(token) => decode(operation, token)?,
        };
        Ok(Self {
            operation,
            offset,
            size: usize::try_from(size.clamp(1, MAX_RESULTS)).unwrap_or(1),
        })
    }

    /// This page of `items` and the token for the next one, if any items remain.
    pub fn take<T>(&self, items: Vec<T>) -> (Vec<T>, Option<String>) {
        let total = items.len();
        let end = self.offset.saturating_add(self.size).min(total);
        let page: Vec<T> = items
            .into_iter()
            .skip(self.offset)
            .take(self.size)
            .collect();
        let next = (end < total).then(|| encode(self.operation, end));
        (page, next)
    }
}

fn encode(operation: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("awsim:{operation}:{offset}"))
}

fn decode(operation: &str, token: &str) -> Result<usize, ApiError> {
    let invalid = || {
        ApiError::validation(format!(
            "The nextToken '{token}' is invalid: pass the nextToken returned by the previous {operation} response unchanged."
        ))
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let offset = text
        .strip_prefix("awsim:")
        .and_then(|rest| rest.strip_prefix(operation))
        .and_then(|rest| rest.strip_prefix(':'))
        .ok_or_else(invalid)?;
    offset.parse::<usize>().map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(operation: &'static str, offset: usize, size: usize) -> Page {
        Page {
            operation,
            offset,
            size,
        }
    }

    #[test]
    fn pages_cover_the_list_exactly_once() {
        let items: Vec<u32> = (0..7).collect();
        let (first, token) = page("ListX", 0, 3).take(items.clone());
        assert_eq!(first, [0, 1, 2]);
        let offset = decode("ListX", &token.unwrap()).unwrap();
        let (second, token) = page("ListX", offset, 3).take(items.clone());
        assert_eq!(second, [3, 4, 5]);
        let offset = decode("ListX", &token.unwrap()).unwrap();
        let (last, token) = page("ListX", offset, 3).take(items);
        assert_eq!(last, [6]);
        assert!(token.is_none());
    }

    #[test]
    fn foreign_and_garbage_tokens_are_refused() {
        let token = encode("ListGuardrails", 2);
        assert!(decode("ListCustomModels", &token).is_err());
        assert!(decode("ListGuardrails", "not a token!").is_err());
        assert!(decode(
            "ListGuardrails",
            &URL_SAFE_NO_PAD.encode("awsim:ListGuardrails:x")
        )
        .is_err());
        assert_eq!(decode("ListGuardrails", &token).unwrap(), 2);
    }
}
