//! Bedrock's frame conventions: string headers only, in the order real Bedrock sends them.
//!
//! ```text
//! event:     :event-type=<member>       :content-type=application/json  :message-type=event
//! exception: :exception-type=<member>   :content-type=application/json  :message-type=exception
//! ```
//!
//! [`event`] and [`exception`] build the [`Message`]; [`crate::write_message_to`] writes it.

use bytes::Bytes;

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
