//! From events to an HTTP body: `application/vnd.amazon.eventstream` frames (one write per delta,
//! handed to hyper at once) or the accumulated JSON array written element by element. Errors after
//! the first byte become an exception frame (or a final exception element) and a clean end.

use super::chat::{Delta, TokenStream};
use super::shape::{truncated, Clock, Event, Shaper, Timing};
use crate::aws::http::{streaming, with_type, Body};
use crate::aws::ApiError;
use crate::cli::StreamFormat;
use base64::Engine;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use hyper::{HeaderMap, Response};

pub const EVENTSTREAM: &str = "application/vnd.amazon.eventstream";

/// The body format of one streaming response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    EventStream,
    JsonArray,
}

/// Which streaming operation: InvokeModelWithResponseStream wraps each provider chunk in a `chunk`
/// event (`{"bytes": base64}`); ConverseStream events are their own payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Invoke,
    Converse,
}

/// Picks the format: the per-request `x-awsim-stream-format` header, then the configured format; in
/// `auto`, AWS SDK requests (an `amz-sdk-invocation-id` header, or event-stream in `Accept` /
/// `X-Amzn-Bedrock-Accept`) get frames and everyone else the JSON array.
pub fn choose_format(configured: StreamFormat, headers: &HeaderMap) -> Result<Format, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let wanted = match header("x-awsim-stream-format") {
        None => configured,
        Some("json") => StreamFormat::Json,
        Some("eventstream") => StreamFormat::Eventstream,
        Some("auto") => StreamFormat::Auto,
        Some(other) => {
            return Err(ApiError::validation(format!(
                "x-awsim-stream-format '{other}' is not one of auto, json, eventstream"
            )))
        }
    };
    Ok(match wanted {
        StreamFormat::Json => Format::JsonArray,
        StreamFormat::Eventstream => Format::EventStream,
        StreamFormat::Auto => {
            let from_sdk = headers.contains_key("amz-sdk-invocation-id")
                || ["accept", "x-amzn-bedrock-accept"]
                    .iter()
                    .any(|h| header(h).is_some_and(|v| v.contains(EVENTSTREAM)));
            if from_sdk {
                Format::EventStream
            } else {
                Format::JsonArray
            }
        }
    })
}

/// The streaming response for a stream whose first delta has already arrived (so HTTP errors are no
/// longer possible).
pub fn stream_response(
    first: Delta,
    rest: TokenStream,
    shaper: Box<dyn Shaper>,
    clock: Clock,
    format: Format,
    wire: Wire,
) -> Response<Body> {
    let body = streaming(encode(first, rest, shaper, clock, format, wire));
    match format {
        Format::EventStream => {
            let mut resp = with_type(200, EVENTSTREAM, body);
            if wire == Wire::Invoke {
                resp.headers_mut().insert(
                    "x-amzn-bedrock-content-type",
                    hyper::header::HeaderValue::from_static("application/json"),
                );
            }
            resp
        }
        Format::JsonArray => with_type(200, "application/json", body),
    }
}

fn encode(
    first: Delta,
    mut rest: TokenStream,
    mut shaper: Box<dyn Shaper>,
    mut clock: Clock,
    format: Format,
    wire: Wire,
) -> impl futures::Stream<Item = Bytes> + Send {
    async_stream::stream! {
        let mut writer = Writer::new(format, wire);
        let mut events = Vec::with_capacity(4);
        let mut next = Some(Ok(first));
        loop {
            let item = match next.take() {
                Some(item) => Some(item),
                None => rest.next().await,
            };
            match item {
                Some(Ok(delta)) => {
                    clock.saw(&delta);
                    let done = matches!(delta, Delta::Stop(_));
                    // Latencies are only reported at the end: no clock reads per token.
                    let timing = if done { clock.timing() } else { Timing::default() };
                    shaper.on_delta(&delta, &timing, &mut events);
                    for event in events.drain(..) {
                        writer.event(event);
                    }
                    if done {
                        yield writer.finish();
                        break;
                    }
                    if let Some(bytes) = writer.take() {
                        yield bytes;
                    }
                }
                Some(Err(err)) => {
                    writer.exception(&err.into_stream_error());
                    yield writer.finish();
                    break;
                }
                None => {
                    writer.exception(&truncated());
                    yield writer.finish();
                    break;
                }
            }
        }
    }
}

/// Accumulates the bytes of one write.
struct Writer {
    format: Format,
    wire: Wire,
    buf: BytesMut,
    elements: usize,
}

impl Writer {
    fn new(format: Format, wire: Wire) -> Self {
        let mut buf = BytesMut::with_capacity(512);
        if format == Format::JsonArray {
            buf.extend_from_slice(b"[");
        }
        Self {
            format,
            wire,
            buf,
            elements: 0,
        }
    }

    fn event(&mut self, event: Event) {
        match (self.format, self.wire) {
            (Format::EventStream, Wire::Converse) => self.frame(event.name, event.payload),
            (Format::EventStream, Wire::Invoke) => {
                let b64_len = base64::encoded_len(event.payload.len(), true).unwrap_or(0);
                let mut payload = String::with_capacity(r#"{"bytes":""}"#.len() + b64_len);
                payload.push_str(r#"{"bytes":""#);
                base64::engine::general_purpose::STANDARD
                    .encode_string(&event.payload, &mut payload);
                payload.push_str(r#""}"#);
                self.frame(event.name, payload.into_bytes());
            }
            (Format::JsonArray, wire) => {
                self.separator();
                match wire {
                    Wire::Invoke => {
                        self.buf
                            .extend_from_slice(b"{\"contentType\":\"application/json\",\"body\":");
                        self.buf.extend_from_slice(&event.payload);
                        self.buf.extend_from_slice(b"}");
                    }
                    Wire::Converse => {
                        self.buf.extend_from_slice(b"{\"");
                        self.buf.extend_from_slice(event.name.as_bytes());
                        self.buf.extend_from_slice(b"\":");
                        self.buf.extend_from_slice(&event.payload);
                        self.buf.extend_from_slice(b"}");
                    }
                }
            }
        }
    }

    fn frame(&mut self, name: &str, payload: Vec<u8>) {
        let message = frames::bedrock::event(name, payload);
        if let Err(err) = frames::write_message_to(&message, &mut self.buf) {
            // Only an event over 24 MiB can fail; report it in-stream rather than drop it.
            self.exception(&ApiError::InternalServer(format!(
                "could not frame a {name} event: {err}"
            )));
        }
    }

    fn exception(&mut self, err: &ApiError) {
        let member = err.stream_member(self.wire == Wire::Invoke);
        let body = err.body().to_string();
        match self.format {
            Format::EventStream => {
                // An error body is small; this cannot exceed the frame limits.
                let message = frames::bedrock::exception(member, body);
                let _ = frames::write_message_to(&message, &mut self.buf);
            }
            Format::JsonArray => {
                self.separator();
                self.buf
                    .extend_from_slice(format!("{{\"{member}\":{body}}}").as_bytes());
            }
        }
    }

    fn separator(&mut self) {
        if self.elements > 0 {
            self.buf.extend_from_slice(b",");
        }
        self.elements += 1;
    }

    fn take(&mut self) -> Option<Bytes> {
        (!self.buf.is_empty()).then(|| self.buf.split().freeze())
    }

    fn finish(&mut self) -> Bytes {
        if self.format == Format::JsonArray {
            self.buf.extend_from_slice(b"]");
        }
        self.buf.split().freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn auto_format_detects_sdks_and_headers_override() {
        let mut h = HeaderMap::new();
        assert_eq!(
            choose_format(StreamFormat::Auto, &h).unwrap(),
            Format::JsonArray
        );
        h.insert("amz-sdk-invocation-id", HeaderValue::from_static("x"));
        assert_eq!(
            choose_format(StreamFormat::Auto, &h).unwrap(),
            Format::EventStream
        );
        h.insert("x-awsim-stream-format", HeaderValue::from_static("json"));
        assert_eq!(
            choose_format(StreamFormat::Auto, &h).unwrap(),
            Format::JsonArray
        );
        let mut h = HeaderMap::new();
        h.insert(
            "x-amzn-bedrock-accept",
            HeaderValue::from_static(EVENTSTREAM),
        );
        assert_eq!(
            choose_format(StreamFormat::Auto, &h).unwrap(),
            Format::EventStream
        );
        assert_eq!(
            choose_format(StreamFormat::Json, &h).unwrap(),
            Format::JsonArray
        );
        h.insert("x-awsim-stream-format", HeaderValue::from_static("xml"));
        assert!(choose_format(StreamFormat::Auto, &h).is_err());
    }
}
