//! Decoding: [`read_message_from`] for one whole frame, [`MessageFrameDecoder`] for a byte stream
//! arriving in arbitrary chunks.
//!
//! Checks, in order: prelude CRC; `total_length >= 16`; `headers_length <= 128 KiB` and fits the
//! frame; payload `<= 24 MiB` (all four as soon as the 12-byte prelude is present, before waiting
//! for the rest); then, once the whole frame is present, the message CRC *before* parsing any
//! header (a corrupted frame reports a checksum error, not a confusing header error); then each
//! header (name 1..=255 bytes of UTF-8, known type, value inside the block, string/bytes values
//! `<= 32,767` bytes, strings UTF-8); finally duplicate names.

use std::ops::Range;

use bytes::{Buf, BytesMut};
use crc32fast::Hasher;

use crate::error::{Error, ErrorKind};
use crate::message::{find_duplicate, Header, HeaderValue, Message};
use crate::wire::{
    MAX_HEADERS_LEN, MAX_HEADER_VALUE_LEN, MAX_PAYLOAD_LEN, MIN_FRAME_LEN, PRELUDE_LEN, TYPE_BYTE,
    TYPE_BYTE_ARRAY, TYPE_FALSE, TYPE_INT16, TYPE_INT32, TYPE_INT64, TYPE_STRING, TYPE_TIMESTAMP,
    TYPE_TRUE, TYPE_UUID,
};

/// Reads one whole frame from the front of `buf` and advances past it.
///
/// Bytes after the frame are left in `buf`. Fails with [`ErrorKind::Truncated`] when `buf` holds
/// less than the frame. On error, how far `buf` advanced is unspecified; use
/// [`MessageFrameDecoder`] for streams.
pub fn read_message_from<B: Buf + ?Sized>(buf: &mut B) -> Result<Message, Error> {
    let available = buf.remaining();
    if available < PRELUDE_LEN {
        return Err(truncated(available, None));
    }
    let mut bytes = [0u8; PRELUDE_LEN];
    buf.copy_to_slice(&mut bytes);
    let prelude = Prelude::parse(&bytes)?;
    let rest_len = prelude.total_len as usize - PRELUDE_LEN;
    if buf.remaining() < rest_len {
        return Err(truncated(available, Some(prelude.total_len)));
    }
    let rest = buf.copy_to_bytes(rest_len);
    let (headers, payload) = decode_rest(&prelude, &rest)?;
    Ok(Message {
        headers,
        payload: rest.slice(payload),
    })
}

/// What [`MessageFrameDecoder::decode_frame`] found in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodedFrame {
    /// The buffer does not hold a whole frame yet; append more bytes and call again.
    Incomplete,
    /// A whole frame was removed from the front of the buffer.
    Complete(Message),
}

/// Decodes frames from a buffer that the caller keeps appending to, in any chunking.
///
/// ```
/// # use bytes::BytesMut;
/// # use frames::{DecodedFrame, MessageFrameDecoder};
/// let frame = [0, 0, 0, 16, 0, 0, 0, 0, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff];
/// let mut decoder = MessageFrameDecoder::new();
/// let mut buf = BytesMut::new();
/// buf.extend_from_slice(&frame[..5]);
/// assert_eq!(decoder.decode_frame(&mut buf)?, DecodedFrame::Incomplete);
/// buf.extend_from_slice(&frame[5..]);
/// assert!(matches!(decoder.decode_frame(&mut buf)?, DecodedFrame::Complete(_)));
/// decoder.finish(&buf)?;
/// # Ok::<(), frames::Error>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct MessageFrameDecoder {
    consumed: u64,
}

impl MessageFrameDecoder {
    /// A decoder at stream offset 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes and returns the frame at the front of `buf`, if it is all there.
    ///
    /// The prelude is checked as soon as its 12 bytes are present, so a corrupt or oversized
    /// frame fails without waiting for bytes that may never come. A partial frame is never
    /// consumed, and neither is a frame that fails: calling again with the same bytes fails again.
    /// Call repeatedly until [`DecodedFrame::Incomplete`]: one buffer may hold several frames.
    pub fn decode_frame(&mut self, buf: &mut BytesMut) -> Result<DecodedFrame, Error> {
        let Some(bytes) = buf.first_chunk::<PRELUDE_LEN>() else {
            return Ok(DecodedFrame::Incomplete);
        };
        let prelude = Prelude::parse(bytes)?;
        let total = prelude.total_len as usize;
        let Some(rest) = buf.get(PRELUDE_LEN..total) else {
            return Ok(DecodedFrame::Incomplete);
        };
        let (headers, payload) = decode_rest(&prelude, rest)?;
        let frame = buf.split_to(total).freeze();
        self.consumed += total as u64;
        Ok(DecodedFrame::Complete(Message {
            headers,
            payload: frame.slice(PRELUDE_LEN + payload.start..PRELUDE_LEN + payload.end),
        }))
    }

    /// Stream offset of the frame at the front of the buffer: the bytes of all frames returned.
    pub fn offset(&self) -> u64 {
        self.consumed
    }

    /// Call at end of stream: fails with [`ErrorKind::Truncated`] if `buf` holds part of a frame
    /// (or with the prelude error, if that part is a bad prelude).
    pub fn finish(&self, buf: &BytesMut) -> Result<(), Error> {
        if buf.is_empty() {
            return Ok(());
        }
        let frame_len = match buf.first_chunk::<PRELUDE_LEN>() {
            Some(bytes) => Some(Prelude::parse(bytes)?.total_len),
            None => None,
        };
        Err(truncated(buf.len(), frame_len))
    }
}

/// A validated prelude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prelude {
    pub(crate) total_len: u32,
    pub(crate) headers_len: u32,
    pub(crate) crc: u32,
}

impl Prelude {
    /// Checks the prelude CRC, then the lengths against each other and the limits.
    pub(crate) fn parse(bytes: &[u8; PRELUDE_LEN]) -> Result<Self, Error> {
        let word = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let (total_len, headers_len, crc) = (word(0), word(4), word(8));
        let expected = crc32fast::hash(&bytes[..8]);
        if expected != crc {
            return Err(ErrorKind::PreludeChecksumMismatch {
                expected,
                actual: crc,
            }
            .into());
        }
        let Some(body_len) = (total_len as usize).checked_sub(MIN_FRAME_LEN) else {
            return Err(ErrorKind::InvalidMessageLength(total_len).into());
        };
        if headers_len as usize > MAX_HEADERS_LEN || headers_len as usize > body_len {
            return Err(ErrorKind::InvalidHeadersLength(headers_len).into());
        }
        let payload_len = body_len - headers_len as usize;
        if payload_len > MAX_PAYLOAD_LEN {
            return Err(ErrorKind::PayloadTooLarge(payload_len).into());
        }
        Ok(Prelude {
            total_len,
            headers_len,
            crc,
        })
    }
}

/// Checks the message CRC and parses the headers of a frame whose bytes after the prelude are
/// `rest`. Returns the headers and the payload's range within `rest`.
pub(crate) fn decode_rest(
    prelude: &Prelude,
    rest: &[u8],
) -> Result<(Vec<Header>, Range<usize>), Error> {
    let Some((body, crc)) = rest.split_last_chunk::<4>() else {
        return Err(truncated(PRELUDE_LEN + rest.len(), Some(prelude.total_len)));
    };
    // The message CRC covers the prelude too; continuing from the prelude CRC over its own bytes
    // equals hashing from byte 0 (this is how botocore computes it).
    let mut hasher = Hasher::new_with_initial(prelude.crc);
    hasher.update(&prelude.crc.to_be_bytes());
    hasher.update(body);
    let expected = hasher.finalize();
    let actual = u32::from_be_bytes(*crc);
    if expected != actual {
        return Err(ErrorKind::MessageChecksumMismatch { expected, actual }.into());
    }
    let Some((block, _)) = body.split_at_checked(prelude.headers_len as usize) else {
        return Err(ErrorKind::InvalidHeadersLength(prelude.headers_len).into());
    };
    let headers = parse_headers(block)?;
    Ok((headers, block.len()..body.len()))
}

/// Parses a whole headers block.
fn parse_headers(block: &[u8]) -> Result<Vec<Header>, Error> {
    let mut headers = Vec::new();
    let mut cursor = Cursor {
        bytes: block,
        pos: 0,
    };
    while cursor.pos < block.len() {
        headers.push(parse_header(&mut cursor)?);
    }
    if let Some(name) = find_duplicate(&headers) {
        return Err(ErrorKind::DuplicateHeader(name.to_owned()).into());
    }
    Ok(headers)
}

/// Parses the header at the cursor.
fn parse_header(cursor: &mut Cursor<'_>) -> Result<Header, Error> {
    let offset = cursor.pos;
    let cut = || Error::from(ErrorKind::TruncatedHeader { offset });
    let [name_len] = cursor.array().ok_or_else(cut)?;
    if name_len == 0 {
        return Err(ErrorKind::InvalidHeaderNameLength(0).into());
    }
    let name = cursor.take(name_len.into()).ok_or_else(cut)?;
    let name = std::str::from_utf8(name)
        .map_err(|_| Error::from(ErrorKind::InvalidUtf8HeaderName))?
        .to_owned();
    let [value_type] = cursor.array().ok_or_else(cut)?;
    let value = match value_type {
        TYPE_TRUE => HeaderValue::Bool(true),
        TYPE_FALSE => HeaderValue::Bool(false),
        TYPE_BYTE => HeaderValue::Byte(i8::from_be_bytes(cursor.array().ok_or_else(cut)?)),
        TYPE_INT16 => HeaderValue::Int16(i16::from_be_bytes(cursor.array().ok_or_else(cut)?)),
        TYPE_INT32 => HeaderValue::Int32(i32::from_be_bytes(cursor.array().ok_or_else(cut)?)),
        TYPE_INT64 => HeaderValue::Int64(i64::from_be_bytes(cursor.array().ok_or_else(cut)?)),
        TYPE_TIMESTAMP => {
            HeaderValue::Timestamp(i64::from_be_bytes(cursor.array().ok_or_else(cut)?))
        }
        TYPE_UUID => HeaderValue::Uuid(u128::from_be_bytes(cursor.array().ok_or_else(cut)?)),
        TYPE_BYTE_ARRAY | TYPE_STRING => {
            let len = usize::from(u16::from_be_bytes(cursor.array().ok_or_else(cut)?));
            if len > MAX_HEADER_VALUE_LEN {
                return Err(ErrorKind::HeaderValueTooLong(len).into());
            }
            let bytes = cursor.take(len).ok_or_else(cut)?;
            if value_type == TYPE_STRING {
                match std::str::from_utf8(bytes) {
                    Ok(string) => HeaderValue::String(string.to_owned()),
                    Err(_) => return Err(ErrorKind::InvalidUtf8HeaderValue(name).into()),
                }
            } else {
                HeaderValue::ByteArray(bytes::Bytes::copy_from_slice(bytes))
            }
        }
        other => return Err(ErrorKind::InvalidHeaderValueType(other).into()),
    };
    Ok(Header { name, value })
}

fn truncated(available: usize, frame_len: Option<u32>) -> Error {
    ErrorKind::Truncated {
        available,
        frame_len,
    }
    .into()
}

/// A bounds-checked reader over the headers block.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let bytes = self.bytes.get(self.pos..self.pos.checked_add(len)?)?;
        self.pos += len;
        Some(bytes)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.first_chunk::<N>().copied()
    }
}
