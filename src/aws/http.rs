//! HTTP plumbing shared by every operation: the response body type, JSON and error responses, the
//! request body limit, and query-string parsing (percent-decoding only: `+` stays a plus, as in the
//! SDKs' own encoding).

use super::error::ApiError;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::{header, HeaderMap, Response, StatusCode};
use serde::Serialize;

/// Every response body: a full buffer or a stream of frames polled by hyper. It fails only when a
/// response is cut short on purpose ([`super::abort`]).
pub type Body = UnsyncBoxBody<Bytes, Aborted>;

/// The one error a response body raises: it was cut short on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aborted;

impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the response was aborted by a disconnect fault")
    }
}

impl std::error::Error for Aborted {}

/// The largest request body Bedrock accepts (the InvokeModel `Body` blob).
pub const MAX_REQUEST_BODY: usize = 25_000_000;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A body that hands each item to hyper as soon as it is produced (one flush per item).
pub fn streaming<S>(stream: S) -> Body
where
    S: Stream<Item = Bytes> + Send + 'static,
{
    StreamBody::new(stream.map(|b| Ok::<_, Aborted>(Frame::data(b)))).boxed_unsync()
}

/// A JSON response with the given status.
pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => with_type(status, "application/json", full(bytes)),
        Err(err) => error_response(&ApiError::InternalServer(format!(
            "could not serialize the response: {err}"
        ))),
    }
}

pub fn with_type(status: u16, content_type: &'static str, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    resp
}

/// The RestJson1 error: status, `X-Amzn-ErrorType`, `{"message": …}`.
pub fn error_response(err: &ApiError) -> Response<Body> {
    let body = err.body().to_string();
    let mut resp = with_type(err.status(), "application/json", full(body));
    resp.headers_mut().insert(
        "x-amzn-errortype",
        header::HeaderValue::from_static(err.type_name()),
    );
    resp
}

/// Checks a declared `Content-Length` against the limit, so an oversized body is refused unread.
pub fn check_declared_length(headers: &HeaderMap) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > MAX_REQUEST_BODY as u64 => Err(too_large(len)),
        _ => Ok(()),
    }
}

pub fn too_large(len: impl std::fmt::Display) -> ApiError {
    ApiError::validation(format!(
        "The request body is {len} bytes; Bedrock accepts at most {MAX_REQUEST_BODY} bytes."
    ))
}

/// Query parameters, percent-decoded, in order.
pub fn parse_query(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// Percent-decodes one path segment or query component; invalid UTF-8 is a validation error.
pub fn decode(s: &str) -> Result<String, ApiError> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| ApiError::validation(format!("'{s}' is not valid percent-encoded UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_percent_decoded_and_keeps_plus() {
        let q = parse_query(Some(
            "a=2024-01-01T00%3A00%3A00Z&b=x+y&c&byProvider=Meta%20AI",
        ))
        .unwrap();
        assert_eq!(
            q,
            vec![
                ("a".into(), "2024-01-01T00:00:00Z".into()),
                ("b".into(), "x+y".into()),
                ("c".into(), "".into()),
                ("byProvider".into(), "Meta AI".into()),
            ]
        );
    }

    #[test]
    fn error_shape_carries_type_and_message() {
        let resp = error_response(&ApiError::validation("bad"));
        assert_eq!(resp.status(), 400);
        assert_eq!(resp.headers()["x-amzn-errortype"], "ValidationException");
    }
}
