//! Bedrock's frame conventions: string headers only, in the order real Bedrock sends them.
//!
//! ```text
//! event:     :event-type=<member>       :content-type=application/json  :message-type=event
//! exception: :exception-type=<member>   :content-type=application/json  :message-type=exception
//! ```
//!
//! [`event`] and [`exception`] build a [`Message`]; [`write_event_to`] and [`write_exception_to`]
//! are the per-token hot path: they write the same bytes straight into an output buffer from
//! constant header fragments, with no allocation beyond growing that buffer, one CRC pass over
//! the prelude and one continuing pass over the rest.

use bytes::Bytes;

use crate::encode::{check_payload_len, check_value_len, prelude, FrameBuf};
use crate::error::Error;
use crate::message::Message;

/// Header naming the event's member in the stream union (e.g. `chunk`, `contentBlockDelta`).
pub const EVENT_TYPE: &str = ":event-type";
/// Header naming a modeled error's member in the stream union (e.g. `throttlingException`).
pub const EXCEPTION_TYPE: &str = ":exception-type";
/// Header with the payload's media type.
pub const CONTENT_TYPE: &str = ":content-type";
/// Header with the message kind: `event`, `exception` or `error`.
pub const MESSAGE_TYPE: &str = ":message-type";
/// Header carrying an unmodeled error's code (`:message-type` `error`).
pub const ERROR_CODE: &str = ":error-code";
/// Header carrying an unmodeled error's message (`:message-type` `error`).
pub const ERROR_MESSAGE: &str = ":error-message";
/// The `:content-type` Bedrock sends.
pub const APPLICATION_JSON: &str = "application/json";

/// An event message: `:event-type`, `:content-type: application/json`, `:message-type: event`.
pub fn event(event_type: &str, payload: impl Into<Bytes>) -> Message {
    Message::new(payload)
        .with_header(EVENT_TYPE, event_type)
        .with_header(CONTENT_TYPE, APPLICATION_JSON)
        .with_header(MESSAGE_TYPE, "event")
}

/// A modeled exception: `:exception-type`, `:content-type: application/json`,
/// `:message-type: exception`. `exception_type` is the lowerCamel union member name
/// (`throttlingException`), not the shape name.
pub fn exception(exception_type: &str, payload: impl Into<Bytes>) -> Message {
    Message::new(payload)
        .with_header(EXCEPTION_TYPE, exception_type)
        .with_header(CONTENT_TYPE, APPLICATION_JSON)
        .with_header(MESSAGE_TYPE, "exception")
}

/// Appends the frame of [`event`]`(event_type, payload)` to `out`, byte-identical to
/// [`crate::write_message_to`] on that message, without building it.
///
/// Fails, writing nothing, if `event_type` exceeds 32,767 bytes or `payload` 24 MiB.
pub fn write_event_to<B: FrameBuf>(
    event_type: &str,
    payload: &[u8],
    out: &mut B,
) -> Result<(), Error> {
    write_frame(EVENT_HEAD, event_type, EVENT_TAIL, payload, out)
}

/// Appends the frame of [`exception`]`(exception_type, payload)` to `out`; see [`write_event_to`].
pub fn write_exception_to<B: FrameBuf>(
    exception_type: &str,
    payload: &[u8],
    out: &mut B,
) -> Result<(), Error> {
    write_frame(EXCEPTION_HEAD, exception_type, EXCEPTION_TAIL, payload, out)
}

// Encoded header fragments around the variable value: name length, name, type 7 (string); then
// the fixed `:content-type` and `:message-type` headers with their u16 value lengths.
const EVENT_HEAD: &[u8] = b"\x0b:event-type\x07";
const EXCEPTION_HEAD: &[u8] = b"\x0f:exception-type\x07";
const EVENT_TAIL: &[u8] =
    b"\x0d:content-type\x07\x00\x10application/json\x0d:message-type\x07\x00\x05event";
const EXCEPTION_TAIL: &[u8] =
    b"\x0d:content-type\x07\x00\x10application/json\x0d:message-type\x07\x00\x09exception";

fn write_frame<B: FrameBuf>(
    head: &[u8],
    value: &str,
    tail: &[u8],
    payload: &[u8],
    out: &mut B,
) -> Result<(), Error> {
    let value_len = check_value_len(value.len())?;
    let payload_len = check_payload_len(payload.len())?;
    // At most 32,767 + a few dozen bytes: always inside the 128 KiB headers limit.
    let headers_len = head.len() + 2 + value.len() + tail.len();
    let (prelude, mut crc) = prelude(headers_len, payload_len);

    out.reserve_frame(prelude.len() + headers_len + payload_len + 4);
    out.append(&prelude);
    let body_start = out.written().len();
    out.append(head);
    out.append(&value_len.to_be_bytes());
    out.append(value.as_bytes());
    out.append(tail);
    out.append(payload);
    // One contiguous pass over headers and payload: fast CRC paths need long inputs.
    crc.update(out.written().get(body_start..).unwrap_or_default());
    out.append(&crc.finalize().to_be_bytes());
    Ok(())
}
