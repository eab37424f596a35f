//! `GET /_awsim/invocations/{requestId}/frames`: a streamed call's event-stream body as the log kept
//! it, listed as `awsim frames decode` lists a captured body (offsets, lengths, CRCs, typed headers,
//! payloads and the decoded `chunk` bytes), for the inspector's frame view and for curl.

use crate::aws::http::{full, with_type, Body};
use crate::aws::ApiError;
use crate::control::invocations::InvocationLog;
use crate::runtime::stream::body::Format;
use hyper::Response;
use std::fmt::Write;

pub fn listing(log: &InvocationLog, request_id: &str) -> Result<Response<Body>, ApiError> {
    let call = log.find(request_id).ok_or_else(|| {
        ApiError::not_found(format!(
            "No call with request id '{request_id}' is in the invocation log; GET /_awsim/invocations lists the calls it keeps."
        ))
    })?;
    if call.meta.format != Some(Format::EventStream) {
        return Err(ApiError::validation(format!(
            "The call '{request_id}' was not answered as an event stream, so it has no frames to \
             list; GET /_awsim/invocations/{request_id} shows what it sent."
        )));
    }
    let outcome = call.outcome.ok_or_else(|| {
        ApiError::validation(format!(
            "The call '{request_id}' is still streaming; its frames are listed once it ends."
        ))
    })?;
    let mut body = Vec::new();
    for (_, bytes) in outcome.events.iter() {
        body.extend_from_slice(bytes);
    }
    let mut text = String::new();
    if outcome.events.omitted > 0 {
        // The listing's byte offsets count the bytes kept, not those sent.
        let _ = writeln!(
            text,
            "# {} write(s) before the last one are not kept: the listing goes from the last kept \
             frame to the stream's last write\n",
            outcome.events.omitted
        );
    }
    let _ = write!(text, "{}", frames::render_stream(&body));
    Ok(with_type(200, "text/plain; charset=utf-8", full(text)))
}
