//! One routed request, body already read: what every operation handler receives.

use crate::aws::abort::ConnReset;
use crate::aws::{http::parse_query, ApiError, RequestContext};
use crate::routes::Route;
use bytes::Bytes;
use hyper::HeaderMap;
use serde::de::DeserializeOwned;
use std::time::Instant;

#[derive(Debug)]
pub struct Call {
    pub route: Route,
    pub ctx: RequestContext,
    pub headers: HeaderMap,
    /// The raw query string, still percent-encoded.
    pub query: Option<String>,
    pub body: Bytes,
    /// The HTTP/1.1 connection this request came on, which a `disconnect` fault closes with a TCP
    /// reset; `None` over HTTP/2, where only the request's own stream is reset.
    pub conn_reset: Option<ConnReset>,
    /// When its body had been read: where an answer's invocation latency starts.
    pub arrived: Instant,
}

impl Call {
    /// The `n`th decoded path label.
    pub fn param(&self, n: usize) -> &str {
        self.route
            .params
            .get(n)
            .map(String::as_str)
            .unwrap_or_default()
    }

    pub fn query_params(&self) -> Result<Vec<(String, String)>, ApiError> {
        parse_query(self.query.as_deref())
    }

    /// The body parsed as JSON; an empty body is `{}` (SDKs send none for operations without
    /// members). Malformed JSON is a `ValidationException` that says where it broke.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let body: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(ApiError::from)
    }
}
