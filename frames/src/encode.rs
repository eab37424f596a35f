//! Encoding: [`write_message_to`] validates a [`Message`] against the limits and appends one frame
//! to a `BytesMut`.
//!
//! Everything is validated before the first byte is written, so on error the output is untouched.
//! The frame's length is known from validation, so the buffer grows at most once; the bytes are
//! written first and then checksummed in one pass over the new frame, where the message CRC
//! continues the hasher that produced the prelude CRC (it covers the prelude and the prelude CRC).

use bytes::{BufMut, BytesMut};
use crc32fast::Hasher;

use crate::error::{Error, ErrorKind};
use crate::message::{Header, HeaderValue, Message};
use crate::wire::{
    MAX_HEADERS_LEN, MAX_HEADER_NAME_LEN, MAX_HEADER_VALUE_LEN, MAX_PAYLOAD_LEN, MIN_FRAME_LEN,
};

/// Appends `message` to `out` as one frame.
///
/// Fails, writing nothing, when a header name is empty or over 255 bytes, a string or byte-array
/// value exceeds 32,767 bytes, a name repeats, the headers block exceeds 128 KiB or the payload
/// exceeds 24 MiB.
///
/// The output is a `BytesMut` rather than any `BufMut` because the CRCs are computed over the
/// written bytes, read back in one contiguous pass (checksumming each small piece as it goes out
/// would cost more than writing it); it is also what an HTTP body takes without a copy.
pub fn write_message_to(message: &Message, out: &mut BytesMut) -> Result<(), Error> {
    let headers_len = validate_headers(&message.headers)?;
    let payload_len = check_payload_len(message.payload.len())?;
    let total_len = MIN_FRAME_LEN + headers_len + payload_len;
    out.reserve(total_len);
    let start = out.len();

    // Lossless: the limits keep every frame far below u32::MAX.
    out.put_u32(total_len as u32);
    out.put_u32(headers_len as u32);
    let mut crc = Hasher::new();
    crc.update(&out[start..]);
    let prelude_crc_at = out.len();
    out.put_u32(crc.clone().finalize());
    for header in &message.headers {
        write_header(header, out);
    }
    out.put_slice(&message.payload);
    crc.update(&out[prelude_crc_at..]);
    out.put_u32(crc.finalize());
    Ok(())
}

/// The encoded length of `message`, validated exactly as [`write_message_to`] does.
pub fn encoded_len(message: &Message) -> Result<usize, Error> {
    let headers_len = validate_headers(&message.headers)?;
    let payload_len = check_payload_len(message.payload.len())?;
    Ok(MIN_FRAME_LEN + headers_len + payload_len)
}

/// Checks the payload length against [`MAX_PAYLOAD_LEN`].
fn check_payload_len(len: usize) -> Result<usize, Error> {
    if len > MAX_PAYLOAD_LEN {
        return Err(ErrorKind::PayloadTooLarge(len).into());
    }
    Ok(len)
}

/// Checks a string or byte-array value length against [`MAX_HEADER_VALUE_LEN`].
fn check_value_len(len: usize) -> Result<(), Error> {
    if len > MAX_HEADER_VALUE_LEN {
        return Err(ErrorKind::HeaderValueTooLong(len).into());
    }
    Ok(())
}

/// Validates every header and returns the encoded length of the headers block.
fn validate_headers(headers: &[Header]) -> Result<usize, Error> {
    let mut len = 0;
    for header in headers {
        let name_len = header.name.len();
        if name_len == 0 || name_len > MAX_HEADER_NAME_LEN {
            return Err(ErrorKind::InvalidHeaderNameLength(name_len).into());
        }
        match &header.value {
            HeaderValue::ByteArray(bytes) => {
                check_value_len(bytes.len())?;
            }
            HeaderValue::String(string) => {
                check_value_len(string.len())?;
            }
            HeaderValue::Bool(_)
            | HeaderValue::Byte(_)
            | HeaderValue::Int16(_)
            | HeaderValue::Int32(_)
            | HeaderValue::Int64(_)
            | HeaderValue::Timestamp(_)
            | HeaderValue::Uuid(_) => {}
        }
        len += 1 + name_len + 1 + header.value.encoded_value_len();
    }
    if let Some(name) = crate::message::find_duplicate(headers) {
        return Err(ErrorKind::DuplicateHeader(name.to_owned()).into());
    }
    if len > MAX_HEADERS_LEN {
        return Err(ErrorKind::HeadersTooLarge(len).into());
    }
    Ok(len)
}

/// Writes one validated header.
fn write_header(header: &Header, out: &mut BytesMut) {
    // Lossless: validate_headers bounds names to 255 bytes and values to 32,767.
    out.put_u8(header.name.len() as u8);
    out.put_slice(header.name.as_bytes());
    out.put_u8(header.value.type_byte());
    match &header.value {
        HeaderValue::Bool(_) => {}
        HeaderValue::Byte(value) => out.put_i8(*value),
        HeaderValue::Int16(value) => out.put_i16(*value),
        HeaderValue::Int32(value) => out.put_i32(*value),
        HeaderValue::Int64(value) | HeaderValue::Timestamp(value) => out.put_i64(*value),
        HeaderValue::ByteArray(bytes) => {
            out.put_u16(bytes.len() as u16);
            out.put_slice(bytes);
        }
        HeaderValue::String(string) => {
            out.put_u16(string.len() as u16);
            out.put_slice(string.as_bytes());
        }
        HeaderValue::Uuid(value) => out.put_u128(*value),
    }
}
