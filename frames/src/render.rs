//! Readable listings of frames, for golden files and `awsim frames decode`.
//!
//! One block per frame, then a last line that says `ok` or where and why framing failed:
//!
//! ```text
//! frame 1 at byte 0: 135 bytes (headers 75, payload 44), prelude crc 0x87ea2bf3, message crc 0xba48ab22
//!   :event-type:string=chunk
//!   :content-type:string=application/json
//!   :message-type:string=event
//!   payload: 44 bytes of json
//!     {
//!       "bytes": "eyJ0eXBlIjoibWVzc2FnZV9zdG9wIn0="
//!     }
//!   payload.bytes: 23 bytes of json (base64-decoded)
//!     {
//!       "type": "message_stop"
//!     }
//!
//! ok: 1 frame, 135 bytes
//! ```
//!
//! The output depends only on the input bytes; JSON keeps its wire key order and number spelling.

use std::fmt::{self, Write};

use base64::prelude::{Engine, BASE64_STANDARD};

use crate::decode::{decode_rest, Prelude};
use crate::error::{Error, ErrorKind};
use crate::message::{HeaderValue, Message};
use crate::pretty;
use crate::wire::PRELUDE_LEN;

/// Decodes every frame of `bytes` (frames concatenated, as in an HTTP body) into a [`Listing`].
///
/// Stops at the first framing error, recording it with the offset where the failing frame starts;
/// input that ends inside a frame is an [`ErrorKind::Truncated`] error.
pub fn render_stream(bytes: &[u8]) -> Listing {
    let mut frames = Vec::new();
    let mut offset = 0;
    let failure = loop {
        let Some(rest) = bytes.get(offset..).filter(|rest| !rest.is_empty()) else {
            break None;
        };
        match decode_at(rest) {
            Ok(frame) => {
                let total_len = frame.total_len as usize;
                frames.push(ListedFrame { offset, ..frame });
                offset += total_len;
            }
            Err(error) => {
                break Some(Failure {
                    offset,
                    prelude: rest.first_chunk::<PRELUDE_LEN>().copied(),
                    error,
                });
            }
        }
    };
    Listing {
        frames,
        failure,
        input_len: bytes.len(),
    }
}

/// Writes the headers and payload of one message the way [`Listing`] does, each line indented
/// two spaces (for logs and assertion messages).
pub fn display_message(message: &Message) -> impl fmt::Display + '_ {
    MessageDisplay(message)
}

/// The decoded frames of a byte stream and, if framing failed, the error. Display it to get the
/// listing text.
#[derive(Debug, Clone)]
pub struct Listing {
    frames: Vec<ListedFrame>,
    failure: Option<Failure>,
    input_len: usize,
}

impl Listing {
    /// The messages decoded before any error, in stream order.
    pub fn messages(&self) -> impl Iterator<Item = &Message> {
        self.frames.iter().map(|frame| &frame.message)
    }

    /// The framing error, with the byte offset where the failing frame starts.
    pub fn error(&self) -> Option<(usize, &Error)> {
        self.failure
            .as_ref()
            .map(|failure| (failure.offset, &failure.error))
    }

    /// True when every byte of the input belonged to a good frame.
    pub fn is_ok(&self) -> bool {
        self.failure.is_none()
    }
}

#[derive(Debug, Clone)]
struct ListedFrame {
    offset: usize,
    total_len: u32,
    headers_len: u32,
    prelude_crc: u32,
    message_crc: u32,
    message: Message,
}

#[derive(Debug, Clone)]
struct Failure {
    offset: usize,
    prelude: Option<[u8; PRELUDE_LEN]>,
    error: Error,
}

/// Decodes the frame at the start of `bytes`.
fn decode_at(bytes: &[u8]) -> Result<ListedFrame, Error> {
    let Some(prelude_bytes) = bytes.first_chunk::<PRELUDE_LEN>() else {
        return Err(ErrorKind::Truncated {
            available: bytes.len(),
            frame_len: None,
        }
        .into());
    };
    let prelude = Prelude::parse(prelude_bytes)?;
    let Some(rest) = bytes.get(PRELUDE_LEN..prelude.total_len as usize) else {
        return Err(ErrorKind::Truncated {
            available: bytes.len(),
            frame_len: Some(prelude.total_len),
        }
        .into());
    };
    let (headers, payload) = decode_rest(&prelude, rest)?;
    let message_crc = rest
        .last_chunk::<4>()
        .map_or(0, |crc| u32::from_be_bytes(*crc));
    Ok(ListedFrame {
        offset: 0,
        total_len: prelude.total_len,
        headers_len: prelude.headers_len,
        prelude_crc: prelude.crc,
        message_crc,
        message: Message {
            headers,
            payload: bytes::Bytes::copy_from_slice(rest.get(payload).unwrap_or_default()),
        },
    })
}

impl fmt::Display for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, frame) in self.frames.iter().enumerate() {
            writeln!(
                f,
                "frame {} at byte {}: {} bytes (headers {}, payload {}), prelude crc {:#010x}, message crc {:#010x}",
                index + 1,
                frame.offset,
                frame.total_len,
                frame.headers_len,
                frame.message.payload.len(),
                frame.prelude_crc,
                frame.message_crc,
            )?;
            write!(f, "{}", MessageDisplay(&frame.message))?;
            writeln!(f)?;
        }
        let count = self.frames.len();
        let plural = if count == 1 { "" } else { "s" };
        match &self.failure {
            None => writeln!(f, "ok: {count} frame{plural}, {} bytes", self.input_len),
            Some(failure) => {
                writeln!(
                    f,
                    "error at byte {} (frame {}): {}",
                    failure.offset,
                    count + 1,
                    failure.error
                )?;
                if let Some(prelude) = &failure.prelude {
                    let word = |at: usize| {
                        prelude
                            .get(at..at + 4)
                            .and_then(|word| word.first_chunk::<4>())
                            .map_or(0, |word| u32::from_be_bytes(*word))
                    };
                    writeln!(
                        f,
                        "  prelude: {:08x} {:08x} {:08x} (total length {}, headers length {}, prelude crc {:#010x})",
                        word(0),
                        word(4),
                        word(8),
                        word(0),
                        word(4),
                        word(8)
                    )?;
                }
                writeln!(
                    f,
                    "{count} good frame{plural}, {} of {} bytes",
                    failure.offset, self.input_len
                )
            }
        }
    }
}

struct MessageDisplay<'a>(&'a Message);

impl fmt::Display for MessageDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.0;
        if message.headers.is_empty() {
            writeln!(f, "  (no headers)")?;
        }
        for header in &message.headers {
            f.write_str("  ")?;
            pretty::escaped(f, &header.name)?;
            write!(f, ":{}=", header.value.type_name())?;
            header_value(f, &header.value)?;
            writeln!(f)?;
        }
        payload(f, "payload", &message.payload, "")?;
        if let Some(inner) = bytes_field(&message.payload) {
            match BASE64_STANDARD.decode(inner) {
                Ok(decoded) => payload(f, "payload.bytes", &decoded, " (base64-decoded)")?,
                Err(error) => writeln!(f, "  payload.bytes: not base64: {error}")?,
            }
        }
        Ok(())
    }
}

fn header_value(f: &mut impl Write, value: &HeaderValue) -> fmt::Result {
    match value {
        HeaderValue::Bool(value) => write!(f, "{value}"),
        HeaderValue::Byte(value) => write!(f, "{value}"),
        HeaderValue::Int16(value) => write!(f, "{value}"),
        HeaderValue::Int32(value) => write!(f, "{value}"),
        HeaderValue::Int64(value) => write!(f, "{value}"),
        HeaderValue::ByteArray(bytes) => {
            pretty::hex(f, bytes)?;
            write!(f, " ({} bytes)", bytes.len())
        }
        HeaderValue::String(string) => pretty::escaped(f, string),
        HeaderValue::Timestamp(millis) => pretty::timestamp(f, *millis),
        HeaderValue::Uuid(uuid) => pretty::uuid(f, *uuid),
    }
}

/// Writes a payload as JSON, text or a hex dump, whichever fits.
fn payload(f: &mut impl Write, label: &str, bytes: &[u8], note: &str) -> fmt::Result {
    const INDENT: &str = "    ";
    if bytes.is_empty() {
        return writeln!(f, "  {label}: empty{note}");
    }
    let len = bytes.len();
    match std::str::from_utf8(bytes) {
        Ok(text) if serde_json::from_str::<serde_json::Value>(text).is_ok() => {
            writeln!(f, "  {label}: {len} bytes of json{note}")?;
            pretty::json(f, text, INDENT)
        }
        Ok(text) => {
            writeln!(f, "  {label}: {len} bytes of text{note}")?;
            write!(f, "{INDENT}\"")?;
            pretty::escaped(f, text)?;
            writeln!(f, "\"")
        }
        Err(_) => {
            writeln!(f, "  {label}: {len} bytes of binary{note}")?;
            pretty::hex_dump(f, bytes, INDENT)
        }
    }
}

/// The `"bytes"` string of a Bedrock `chunk` payload (`{"bytes":"<base64>",...}`).
fn bytes_field(payload: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(payload).ok()?;
    match value.get("bytes")? {
        serde_json::Value::String(inner) => Some(inner.clone()),
        serde_json::Value::Null
        | serde_json::Value::Bool(_)
        | serde_json::Value::Number(_)
        | serde_json::Value::Array(_)
        | serde_json::Value::Object(_) => None,
    }
}
