//! Backend failures → the Bedrock error a client expects, each naming the backend and the way out.
//!
//! ```text
//! connect refused / unreachable  → ServiceUnavailableException (503)
//! TLS handshake failed            → ServiceUnavailableException (503), naming the TLS error
//! no answer before the timeout   → ModelTimeoutException (408)
//! 404 → ValidationException (model missing: pull or map it)   400/413/422 → ValidationException
//! 401/403 → AccessDeniedException   429 → ThrottlingException   5xx → ModelErrorException (424)
//! ```

use crate::aws::ApiError;
use serde_json::Value;
use std::time::Duration;

/// Who was asked: for messages.
#[derive(Debug, Clone)]
pub struct Target {
    /// The backend base URL.
    pub url: String,
    /// The backend model name.
    pub model: String,
    /// The Bedrock model id the request resolved to.
    pub resource: String,
}

/// The human message inside an error body: OpenAI `{"error":{"message"}}`, Ollama `{"error":"…"}`,
/// FastAPI (vLLM) `{"detail":…}`, or a plain `{"message"}`.
pub fn message_of(v: &Value) -> Option<String> {
    let pick = |v: &Value| match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Null | Value::String(_) => None,
        other => Some(other.to_string()),
    };
    match v.get("error") {
        Some(Value::Object(e)) => e.get("message").and_then(pick),
        Some(e @ Value::String(_)) => pick(e),
        _ => None,
    }
    .or_else(|| v.get("message").and_then(pick))
    .or_else(|| v.get("detail").and_then(pick))
}

/// The message of a non-2xx body, whatever its shape.
pub fn body_message(status: u16, body: &str) -> String {
    let parsed = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| message_of(&v));
    match parsed {
        Some(m) => truncate(&m, 1000),
        None if body.trim().is_empty() => format!("HTTP {status} with an empty body"),
        None => truncate(body.trim(), 1000),
    }
}

/// A non-2xx answer before the stream began.
pub fn from_status(status: u16, body: &str, target: &Target) -> ApiError {
    let msg = body_message(status, body);
    let url = &target.url;
    let model = &target.model;
    match status {
        404 => ApiError::validation(format!(
            "The backend at {url} has no model '{model}' ({msg}). Make it available (for Ollama: `ollama pull {model}`) or map this Bedrock model id to a model the backend has with --bedrock-model-map."
        )),
        401 | 403 => ApiError::AccessDenied(format!(
            "The backend at {url} refused the request (HTTP {status}: {msg}). Check --bedrock-api-key."
        )),
        429 => ApiError::Throttling(format!(
            "The backend at {url} is rate limiting requests (HTTP 429: {msg})."
        )),
        500..=599 => ApiError::ModelError {
            message: format!("The backend at {url} failed (HTTP {status}): {msg}"),
            original_status_code: status,
            resource_name: target.resource.clone(),
        },
        _ => ApiError::validation(format!(
            "The backend at {url} rejected the request for model '{model}' (HTTP {status}): {msg}"
        )),
    }
}

/// A request that got no HTTP answer at all.
pub fn from_send(err: &reqwest::Error, url: &str) -> ApiError {
    let cause = root_cause(err);
    if super::client::is_tls(err) {
        return ApiError::ServiceUnavailable(format!(
            "The backend at {url} failed the TLS handshake ({cause}). If its certificate comes from a private CA, trust that CA with --bedrock-backend-ca FILE."
        ));
    }
    if err.is_connect() && err.is_timeout() {
        return ApiError::ServiceUnavailable(format!(
            "The backend at {url} did not accept a connection in time. Is it running? (--bedrock-backend, --bedrock-backend-connect-timeout)"
        ));
    }
    let why = if err.is_connect() {
        "is not reachable"
    } else {
        "closed the connection without answering"
    };
    ApiError::ServiceUnavailable(format!(
        "The backend at {url} {why} ({cause}). Start it or point --bedrock-backend at a running OpenAI-compatible server."
    ))
}

/// No response head (or, for embeddings, no whole body) within `--bedrock-backend-timeout`.
pub fn first_byte_timeout(url: &str, after: Duration) -> ApiError {
    ApiError::ModelTimeout(format!(
        "The backend at {url} did not start answering within {}s (--bedrock-backend-timeout).",
        after.as_secs_f64()
    ))
}

/// The stream went silent for longer than the idle timeout after it began.
pub fn stalled(url: &str, after: Duration) -> ApiError {
    ApiError::ModelTimeout(format!(
        "The backend at {url} sent nothing for {}s in the middle of the answer (--bedrock-backend-idle-timeout).",
        after.as_secs_f64()
    ))
}

/// The connection failed after the stream began.
pub fn broken(url: &str, cause: &str) -> ApiError {
    ApiError::ModelStreamError {
        message: format!("The connection to the backend at {url} failed mid-stream: {cause}"),
        original_status_code: None,
        original_message: Some(cause.to_string()),
    }
}

/// The innermost error's text: the client's own Display only says "client error (Connect)".
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    causes(err)
        .last()
        .map_or_else(String::new, ToString::to_string)
}

/// An error and its sources, outermost first.
fn causes<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| e.source())
}

/// `s` cut to at most `max` bytes (on a character boundary), with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            url: "http://127.0.0.1:11434/v1".into(),
            model: "llama3.1:8b".into(),
            resource: "meta.llama3-8b-instruct-v1:0".into(),
        }
    }

    #[test]
    fn messages_are_found_in_every_common_shape() {
        assert_eq!(
            body_message(
                400,
                r#"{"error":{"message":"bad temp","type":"invalid_request_error"}}"#
            ),
            "bad temp"
        );
        assert_eq!(
            body_message(
                404,
                r#"{"error":"model \"x\" not found, try pulling it first"}"#
            ),
            "model \"x\" not found, try pulling it first"
        );
        assert_eq!(body_message(400, r#"{"detail":"nope"}"#), "nope");
        assert_eq!(body_message(502, "Bad Gateway\n"), "Bad Gateway");
        assert_eq!(body_message(500, ""), "HTTP 500 with an empty body");
    }

    #[test]
    fn statuses_map_to_bedrock_errors() {
        let t = target();
        let e = from_status(404, r#"{"error":"model not found"}"#, &t);
        assert_eq!(e.type_name(), "ValidationException");
        assert!(e.message().contains("ollama pull llama3.1:8b"), "{e}");
        assert_eq!(
            from_status(400, "{}", &t).type_name(),
            "ValidationException"
        );
        assert_eq!(
            from_status(422, "{}", &t).type_name(),
            "ValidationException"
        );
        assert_eq!(
            from_status(401, "{}", &t).type_name(),
            "AccessDeniedException"
        );
        assert_eq!(
            from_status(403, "{}", &t).type_name(),
            "AccessDeniedException"
        );
        assert_eq!(
            from_status(429, "{}", &t).type_name(),
            "ThrottlingException"
        );
        let e = from_status(503, r#"{"error":{"message":"loading"}}"#, &t);
        assert_eq!(e.status(), 424);
        assert_eq!(e.body()["originalStatusCode"], 503);
        assert_eq!(e.body()["resourceName"], "meta.llama3-8b-instruct-v1:0");
        assert_eq!(
            first_byte_timeout(&t.url, Duration::from_secs(2)).status(),
            408
        );
    }
}
