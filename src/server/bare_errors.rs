//! hyper refuses a malformed or oversized HTTP/1.1 request head itself, before any service runs, with
//! a bare `400`, `414` or `431` and no body: the AWS SDKs then report an "Unknown" error. The
//! connection's writer ([`super::connections::Watched`]) puts the AWS shape in its place — the
//! same status, `X-Amzn-ErrorType`, a request id and a JSON message that says what to fix — before
//! hyper closes the connection.

use crate::aws::ApiError;

/// hyper's limits for an HTTP/1.1 request head, as awsim documents them.
pub(crate) const MAX_HEADERS: usize = 100;
/// hyper's read buffer, which a whole request head must fit in (`8 KiB + 100 × 4 KiB`).
const MAX_HEAD_BYTES: usize = 8192 + 4096 * 100;

/// The AWS-shaped response for `head`, when `head` is hyper's own refusal; `None` for anything
/// else (every response awsim writes carries `x-amzn-requestid`).
pub(crate) fn aws_shaped(head: &[u8]) -> Option<Vec<u8>> {
    let status = head.strip_prefix(b"HTTP/1.1 ")?.get(..4)?;
    let err = match status {
        b"400 " => ApiError::validation(
            "awsim could not read this HTTP/1.1 request: its method, target, version or a header \
             is malformed. The connection is closed.",
        ),
        b"414 " => ApiError::UriTooLong(
            "The request target (path and query string) is longer than awsim reads (64 KiB). \
             Shorten it: model ids and ARNs fit in a few hundred characters."
                .into(),
        ),
        b"431 " => ApiError::HeadersTooLarge(format!(
            "The request's headers are too many or too large: awsim reads at most {MAX_HEADERS} \
             headers in a request head of at most {} KiB. Send fewer or smaller headers.",
            MAX_HEAD_BYTES / 1024
        )),
        _ => return None,
    };
    if memchr::memmem::find(head, b"x-amzn-requestid").is_some() {
        return None;
    }
    let body = err.body().to_string();
    let reason = match err.status() {
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    let id = uuid::Uuid::new_v4();
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\nx-amzn-errortype: {}\r\n\
         x-amzn-requestid: {id}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        err.status(),
        err.type_name(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_refusals_get_the_aws_shape_and_awsims_own_responses_pass() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        let shaped = String::from_utf8(aws_shaped(bare).unwrap()).unwrap();
        assert!(shaped.starts_with("HTTP/1.1 431 "), "{shaped}");
        assert!(shaped.contains("x-amzn-errortype: ValidationException\r\n"));
        let body = shaped.split("\r\n\r\n").nth(1).unwrap();
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(json["message"].as_str().unwrap().contains("100 headers"));

        let ours = b"HTTP/1.1 400 Bad Request\r\nx-amzn-requestid: abc\r\n\r\n";
        assert!(aws_shaped(ours).is_none());
        assert!(aws_shaped(b"HTTP/1.1 200 OK\r\n\r\n").is_none());
        assert!(aws_shaped(b"\x00\x00\x00").is_none());
    }
}
