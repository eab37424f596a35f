//! From events to an HTTP body: `application/vnd.amazon.eventstream` frames (one write per delta,
//! handed to hyper at once) or the accumulated JSON array written element by element. Errors after
//! the first byte become an exception frame (or a final exception element) and a clean end. An
//! [`Observer`] (the invocation log's recording stage) sees each delta and each write on the way.

use super::delta::truncated;
use super::delta::{Delta, TokenStream};
use super::shaper::{Clock, Event, Shaper, Timing};
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
/// `auto`, frames for any request a client library could have sent (`sent_by_a_library`) and the
/// JSON array for the rest.
pub fn choose_format(
    configured: StreamFormat,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Format, ApiError> {
    let wanted = match headers
        .get("x-awsim-stream-format")
        .and_then(|v| v.to_str().ok())
    {
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
        StreamFormat::Auto if sent_by_a_library(headers, query) => Format::EventStream,
        StreamFormat::Auto => Format::JsonArray,
    })
}

/// Whether a request bears a mark that only code leaves: libraries with their own HTTP stack (the
/// Anthropic SDKs' Bedrock clients, LiteLLM-style gateways) decode every stream as frames without
/// asking for them in `Accept`, so any one mark decides. What a person types into curl — the
/// product page's `Signature=fake`, no `X-Amz-Date`, no SDK headers — has none of them.
fn sent_by_a_library(headers: &HeaderMap, query: Option<&str>) -> bool {
    let accepts_frames = ["accept", "x-amzn-bedrock-accept"].iter().any(|name| {
        headers
            .get_all(*name)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.contains(EVENTSTREAM)))
    });
    let signed_or_bearer = headers
        .get_all(hyper::header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            let (scheme, rest) = v.trim().split_once(' ').unwrap_or((v, ""));
            if scheme.eq_ignore_ascii_case("bearer") {
                return !rest.trim().is_empty();
            }
            scheme.starts_with("AWS4-")
                && rest
                    .split(',')
                    .filter_map(|part| part.trim().strip_prefix("Signature="))
                    .any(computed_signature)
        });
    let presigned = query.is_some_and(|q| {
        q.split('&').any(|pair| {
            pair.split_once('=').is_some_and(|(key, value)| {
                key.eq_ignore_ascii_case("X-Amz-Signature") && computed_signature(value)
            })
        })
    });
    accepts_frames
        || headers.contains_key("x-amz-date")
        || headers.keys().any(|k| k.as_str().starts_with("amz-sdk-"))
        || signed_or_bearer
        || presigned
}

/// A SigV4 signature as a signer writes it: 64 hex digits (SigV4a's ECDSA signatures are longer).
fn computed_signature(value: &str) -> bool {
    value.len() >= 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What a recording stage sees of a stream, in the body writer's pull chain: each delta as it is
/// shaped, each write as it is handed to hyper (the same bytes, by reference), the exception that
/// ends a failed stream, and the end. Dropped before [`Observer::ended`], the client went away.
pub trait Observer: Send {
    fn delta(&mut self, delta: &Delta);
    /// `frames`: the frames (or JSON array elements) written so far, these included.
    fn wrote(&mut self, bytes: &Bytes, frames: u32);
    fn exception(&mut self, err: &ApiError);
    /// The last write has been made.
    fn ended(&mut self);
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
    observer: Option<Box<dyn Observer>>,
) -> Response<Body> {
    let body = streaming(encode(first, rest, shaper, clock, format, wire, observer));
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

pub fn encode(
    first: Delta,
    mut rest: TokenStream,
    mut shaper: Box<dyn Shaper>,
    mut clock: Clock,
    format: Format,
    wire: Wire,
    mut observer: Option<Box<dyn Observer>>,
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
            let failure = match item {
                Some(Ok(delta)) => {
                    clock.saw(&delta);
                    if let Some(observer) = &mut observer {
                        observer.delta(&delta);
                    }
                    let done = matches!(delta, Delta::Stop(_));
                    // Latencies are only reported at the end: no clock reads per token.
                    let timing = if done { clock.timing() } else { Timing::default() };
                    shaper.on_delta(&delta, &timing, &mut events);
                    for event in events.drain(..) {
                        writer.event(event);
                    }
                    if done {
                        yield writer.last(&mut observer);
                        break;
                    }
                    if let Some(bytes) = writer.take() {
                        if let Some(observer) = &mut observer {
                            observer.wrote(&bytes, writer.frames);
                        }
                        yield bytes;
                    }
                    continue;
                }
                Some(Err(err)) => err.into_stream_error(),
                None => truncated(),
            };
            writer.exception(&failure);
            if let Some(observer) = &mut observer {
                observer.exception(&failure);
            }
            yield writer.last(&mut observer);
            break;
        }
    }
}

/// Accumulates the bytes of one write.
struct Writer {
    format: Format,
    wire: Wire,
    buf: BytesMut,
    elements: usize,
    /// Frames (or JSON array elements) written.
    frames: u32,
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
            frames: 0,
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
                self.frames += 1;
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
        } else {
            self.frames += 1;
        }
    }

    fn exception(&mut self, err: &ApiError) {
        self.frames += 1;
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

    /// The last write, which the observer sees before the stream ends.
    fn last(&mut self, observer: &mut Option<Box<dyn Observer>>) -> Bytes {
        let bytes = self.finish();
        if let Some(observer) = observer {
            observer.wrote(&bytes, self.frames);
            observer.ended();
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::{HeaderName, HeaderValue};

    const SIG: &str = "3f28c5b4b7517093de83b9f02bf0fc9cb9654789c6da23d45f5c033190136fe3";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        h
    }

    /// A request shape: what it is, its headers, its query, the format `auto` gives it.
    type Shape<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<&'a str>, Format);

    #[test]
    fn auto_sends_frames_to_whatever_a_library_could_have_sent() {
        let sigv4 = |signature: &str| {
            format!("AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature={signature}")
        };
        let signed = sigv4(SIG);
        let not_hex = sigv4(&SIG.replace('3', "g"));
        let too_short = sigv4(&SIG[..63]);
        let fake = "AWS4-HMAC-SHA256 Credential=test/20260421/us-east-1/bedrock-runtime/aws4_request, SignedHeaders=host, Signature=fake";
        let presigned = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20261207%2Fus-east-1%2Fbedrock%2Faws4_request&X-Amz-Date=20261207T174804Z&X-Amz-SignedHeaders=host&X-Amz-Signature={SIG}"
        );
        let curl = [
            ("user-agent", "curl/7.88.1"),
            ("accept", "*/*"),
            ("content-type", "application/json"),
        ];
        use Format::{EventStream as Frames, JsonArray as Json};
        #[rustfmt::skip]
        let shapes: Vec<Shape> = vec![
            ("curl with no credentials (the README's stream example)", curl.to_vec(), None, Json),
            ("curl with the product page's fake signature", [&curl[..], &[("authorization", fake)]].concat(), None, Json),
            ("a signature that is not hex", vec![("authorization", &not_hex)], None, Json),
            ("a signature that is too short", vec![("authorization", &too_short)], None, Json),
            ("an empty bearer token", vec![("authorization", "Bearer ")], None, Json),
            ("Accept: application/json", vec![("accept", "application/json")], None, Json),
            ("a presigned URL with a fake signature", vec![], Some("X-Amz-Signature=fake"), Json),
            ("an unrelated query", vec![], Some("a=b&X-Amz-Signaturex=1"), Json),
            ("boto3", vec![("x-amz-date", "20261207T174804Z"), ("authorization", &signed), ("amz-sdk-invocation-id", "168001b4"), ("amz-sdk-request", "attempt=1; max=2")], None, Frames),
            ("AWS SDK for JavaScript v3 / Rust", vec![("x-amz-user-agent", "aws-sdk-js/3.1164.0"), ("amz-sdk-invocation-id", "4f1c"), ("amz-sdk-request", "attempt=1; max=1"), ("x-amz-date", "20261207T174804Z"), ("authorization", &signed)], None, Frames),
            ("an AWS SDK's retry header alone", vec![("amz-sdk-request", "attempt=1; max=3")], None, Frames),
            ("Anthropic SDK (Python), SigV4", vec![("accept", "application/json"), ("x-amz-date", "20261207T174804Z"), ("authorization", &signed)], None, Frames),
            ("Anthropic SDK (JS), SigV4", vec![("accept", "application/json"), ("x-amz-date", "20261207T174810Z"), ("x-amz-content-sha256", SIG), ("authorization", &signed)], None, Frames),
            ("a Bedrock API key (Anthropic SDKs, botocore)", vec![("accept", "application/json"), ("authorization", "Bearer bedrock-api-key-abc")], None, Frames),
            ("a real signature without X-Amz-Date", vec![("authorization", &signed)], None, Frames),
            ("X-Amz-Date with a fake signature", vec![("x-amz-date", "20261207T174804Z"), ("authorization", fake)], None, Frames),
            ("Accept: event-stream", vec![("accept", "application/json"), ("accept", EVENTSTREAM)], None, Frames),
            ("X-Amzn-Bedrock-Accept: event-stream", vec![("x-amzn-bedrock-accept", EVENTSTREAM)], None, Frames),
            ("a presigned URL", vec![], Some(&presigned), Frames),
        ];
        for (shape, pairs, query, expected) in shapes {
            let got = choose_format(StreamFormat::Auto, &headers(&pairs), query).unwrap();
            assert_eq!(got, expected, "{shape}");
        }
    }

    #[test]
    fn the_flag_and_the_header_override_the_rule() {
        let boto3 = [
            ("x-amz-date", "20261207T174804Z"),
            ("amz-sdk-invocation-id", "x"),
        ];
        let with = |pairs: &[(&str, &str)], format: &'static str| {
            headers(&[pairs, &[("x-awsim-stream-format", format)]].concat())
        };
        let json = StreamFormat::Json;
        let frames = StreamFormat::Eventstream;
        let auto = StreamFormat::Auto;
        assert_eq!(
            choose_format(json, &headers(&boto3), None).unwrap(),
            Format::JsonArray
        );
        assert_eq!(
            choose_format(frames, &headers(&[]), None).unwrap(),
            Format::EventStream
        );
        assert_eq!(
            choose_format(auto, &with(&boto3, "json"), None).unwrap(),
            Format::JsonArray
        );
        assert_eq!(
            choose_format(auto, &with(&[], "eventstream"), None).unwrap(),
            Format::EventStream
        );
        assert_eq!(
            choose_format(json, &with(&boto3, "auto"), None).unwrap(),
            Format::EventStream
        );
        assert_eq!(
            choose_format(frames, &with(&[], "auto"), None).unwrap(),
            Format::JsonArray
        );
        let err = choose_format(auto, &with(&[], "xml"), None).unwrap_err();
        assert_eq!(
            err.message(),
            "x-awsim-stream-format 'xml' is not one of auto, json, eventstream"
        );
    }
}
