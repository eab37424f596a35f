//! Encoding: [`write_message_to`] validates a [`Message`] against the limits and writes one frame.
//!
//! Everything is validated before the first byte is written, so on error the output is untouched.
//! The CRCs are computed in one pass as the bytes go out: the message CRC continues the hasher that
//! produced the prelude CRC (it covers the prelude and the prelude CRC).

use bytes::{BufMut, BytesMut};
use crc32fast::Hasher;

use crate::error::{Error, ErrorKind};
use crate::message::{Header, HeaderValue, Message};
use crate::wire::{
    MAX_HEADERS_LEN, MAX_HEADER_NAME_LEN, MAX_HEADER_VALUE_LEN, MAX_PAYLOAD_LEN, MIN_FRAME_LEN,
};

/// Writes `message` as one frame to `out`.
///
/// Fails, writing nothing, when a header name is empty or over 255 bytes, a string or byte-array
/// value exceeds 32,767 bytes, a name repeats, the headers block exceeds 128 KiB or the payload
/// exceeds 24 MiB.
pub fn write_message_to<B: BufMut + ?Sized>(message: &Message, out: &mut B) -> Result<(), Error> {
    let headers_len = validate_headers(&message.headers)?;
    let payload_len = check_payload_len(message.payload.len())?;
    let (prelude, mut crc) = prelude(headers_len, payload_len);
    out.put_slice(&prelude);

    let mut writer = CrcWriter { out, crc: &mut crc };
    for header in &message.headers {
        write_header(header, &mut writer);
    }
    writer.put(&message.payload);
    out.put_u32(crc.finalize());
    Ok(())
}

/// The encoded length of `message`, validated exactly as [`write_message_to`] does.
pub fn encoded_len(message: &Message) -> Result<usize, Error> {
    let headers_len = validate_headers(&message.headers)?;
    let payload_len = check_payload_len(message.payload.len())?;
    Ok(MIN_FRAME_LEN + headers_len + payload_len)
}

/// An output buffer the allocation-free frame writers in [`crate::bedrock`] can append to and read
/// back (to checksum what they wrote in one pass). Implemented for `Vec<u8>` and `BytesMut`.
pub trait FrameBuf: sealed::Sealed {}

impl FrameBuf for Vec<u8> {}
impl FrameBuf for BytesMut {}

pub(crate) mod sealed {
    use bytes::BytesMut;

    /// The operations behind [`super::FrameBuf`]; private so the trait can grow.
    pub trait Sealed {
        fn reserve_frame(&mut self, additional: usize);
        fn append(&mut self, bytes: &[u8]);
        fn written(&self) -> &[u8];
    }

    impl Sealed for Vec<u8> {
        fn reserve_frame(&mut self, additional: usize) {
            self.reserve(additional);
        }
        fn append(&mut self, bytes: &[u8]) {
            self.extend_from_slice(bytes);
        }
        fn written(&self) -> &[u8] {
            self
        }
    }

    impl Sealed for BytesMut {
        fn reserve_frame(&mut self, additional: usize) {
            self.reserve(additional);
        }
        fn append(&mut self, bytes: &[u8]) {
            self.extend_from_slice(bytes);
        }
        fn written(&self) -> &[u8] {
            self
        }
    }
}

/// The 12-byte prelude for the given lengths, and a hasher that has consumed all of it, ready to
/// continue into the message CRC. Lengths must already be within the limits.
pub(crate) fn prelude(headers_len: usize, payload_len: usize) -> ([u8; 12], Hasher) {
    // Lossless: the limits keep every frame far below u32::MAX.
    let total = (MIN_FRAME_LEN + headers_len + payload_len) as u32;
    let mut prelude = [0u8; 12];
    prelude[..4].copy_from_slice(&total.to_be_bytes());
    prelude[4..8].copy_from_slice(&(headers_len as u32).to_be_bytes());
    let mut crc = Hasher::new();
    crc.update(&prelude[..8]);
    prelude[8..].copy_from_slice(&crc.clone().finalize().to_be_bytes());
    crc.update(&prelude[8..]);
    (prelude, crc)
}

/// Checks the payload length against [`MAX_PAYLOAD_LEN`].
pub(crate) fn check_payload_len(len: usize) -> Result<usize, Error> {
    if len > MAX_PAYLOAD_LEN {
        return Err(ErrorKind::PayloadTooLarge(len).into());
    }
    Ok(len)
}

/// Checks a string or byte-array value length against [`MAX_HEADER_VALUE_LEN`].
pub(crate) fn check_value_len(len: usize) -> Result<u16, Error> {
    if len > MAX_HEADER_VALUE_LEN {
        return Err(ErrorKind::HeaderValueTooLong(len).into());
    }
    // Lossless: MAX_HEADER_VALUE_LEN < u16::MAX.
    Ok(len as u16)
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
fn write_header<B: BufMut + ?Sized>(header: &Header, out: &mut CrcWriter<'_, B>) {
    // Lossless: validate_headers bounds names to 255 bytes and values to 32,767.
    out.put(&[header.name.len() as u8]);
    out.put(header.name.as_bytes());
    out.put(&[header.value.type_byte()]);
    match &header.value {
        HeaderValue::Bool(_) => {}
        HeaderValue::Byte(value) => out.put(&value.to_be_bytes()),
        HeaderValue::Int16(value) => out.put(&value.to_be_bytes()),
        HeaderValue::Int32(value) => out.put(&value.to_be_bytes()),
        HeaderValue::Int64(value) | HeaderValue::Timestamp(value) => out.put(&value.to_be_bytes()),
        HeaderValue::ByteArray(bytes) => {
            out.put(&(bytes.len() as u16).to_be_bytes());
            out.put(bytes);
        }
        HeaderValue::String(string) => {
            out.put(&(string.len() as u16).to_be_bytes());
            out.put(string.as_bytes());
        }
        HeaderValue::Uuid(value) => out.put(&value.to_be_bytes()),
    }
}

/// Writes to a `BufMut` while feeding the same bytes to the running CRC.
struct CrcWriter<'a, B: ?Sized> {
    out: &'a mut B,
    crc: &'a mut Hasher,
}

impl<B: BufMut + ?Sized> CrcWriter<'_, B> {
    fn put(&mut self, bytes: &[u8]) {
        self.crc.update(bytes);
        self.out.put_slice(bytes);
    }
}
