//! The codec's error: an opaque [`Error`] wrapping an [`ErrorKind`] that carries the evidence.

use std::fmt;

use crate::wire::{MAX_HEADERS_LEN, MAX_HEADER_VALUE_LEN, MAX_PAYLOAD_LEN, MIN_FRAME_LEN};

/// An encoding or decoding failure. Inspect it with [`Error::kind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong, with the values that prove it.
///
/// Checksum kinds name the CRC we computed `expected` and the one found in the frame `actual`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The prelude CRC (bytes 8..12) does not match the CRC of bytes 0..8.
    PreludeChecksumMismatch {
        /// CRC computed over the first 8 bytes.
        expected: u32,
        /// CRC found in the frame.
        actual: u32,
    },
    /// The trailing message CRC does not match the CRC of everything before it.
    MessageChecksumMismatch {
        /// CRC computed over the frame minus its last 4 bytes.
        expected: u32,
        /// CRC found in the frame.
        actual: u32,
    },
    /// Decoding: the `headers_length` field exceeds 128 KiB or does not fit in the frame.
    InvalidHeadersLength(u32),
    /// Decoding: the `total_length` field is below the 16-byte minimum.
    InvalidMessageLength(u32),
    /// The payload exceeds 24 MiB (the length in bytes).
    PayloadTooLarge(usize),
    /// Encoding: the encoded headers block exceeds 128 KiB (the length in bytes).
    HeadersTooLarge(usize),
    /// Decoding: a header carries a type byte outside 0..=9.
    InvalidHeaderValueType(u8),
    /// A header name is empty or longer than 255 bytes (the length in bytes).
    InvalidHeaderNameLength(usize),
    /// Decoding: a header name is not UTF-8.
    InvalidUtf8HeaderName,
    /// Decoding: the string value of the named header is not UTF-8.
    InvalidUtf8HeaderValue(String),
    /// A string or byte-array header value exceeds 32,767 bytes (the length in bytes).
    HeaderValueTooLong(usize),
    /// A header name appears twice in one message (the name).
    DuplicateHeader(String),
    /// Decoding: the header starting at this offset of the headers block runs past the block's end.
    TruncatedHeader {
        /// Offset of the header's first byte within the headers block.
        offset: usize,
    },
    /// Decoding: the input ends inside a frame.
    Truncated {
        /// Bytes of the frame that are present.
        available: usize,
        /// The frame's `total_length`, when the prelude was complete.
        frame_len: Option<u32>,
    },
}

impl Error {
    /// The kind of failure, with its evidence.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Consumes the error, returning its kind.
    pub fn into_kind(self) -> ErrorKind {
        self.kind
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error { kind }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl std::error::Error for Error {}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::PreludeChecksumMismatch { expected, actual } => write!(
                f,
                "prelude checksum mismatch: expected {expected:#010x}, found {actual:#010x}"
            ),
            ErrorKind::MessageChecksumMismatch { expected, actual } => write!(
                f,
                "message checksum mismatch: expected {expected:#010x}, found {actual:#010x}"
            ),
            ErrorKind::InvalidHeadersLength(len) => write!(
                f,
                "invalid headers length {len}: it must fit in the frame and not exceed {MAX_HEADERS_LEN}"
            ),
            ErrorKind::InvalidMessageLength(len) => write!(
                f,
                "invalid total length {len}: a frame is at least {MIN_FRAME_LEN} bytes"
            ),
            ErrorKind::PayloadTooLarge(len) => write!(
                f,
                "payload of {len} bytes exceeds the limit of {MAX_PAYLOAD_LEN}"
            ),
            ErrorKind::HeadersTooLarge(len) => write!(
                f,
                "headers block of {len} bytes exceeds the limit of {MAX_HEADERS_LEN}"
            ),
            ErrorKind::InvalidHeaderValueType(ty) => {
                write!(f, "invalid header value type {ty} ({ty:#04x})")
            }
            ErrorKind::InvalidHeaderNameLength(len) => write!(
                f,
                "invalid header name length {len}: names are 1 to 255 bytes"
            ),
            ErrorKind::InvalidUtf8HeaderName => f.write_str("header name is not valid utf-8"),
            ErrorKind::InvalidUtf8HeaderValue(name) => {
                write!(f, "string value of header {name:?} is not valid utf-8")
            }
            ErrorKind::HeaderValueTooLong(len) => write!(
                f,
                "header value of {len} bytes exceeds the limit of {MAX_HEADER_VALUE_LEN}"
            ),
            ErrorKind::DuplicateHeader(name) => write!(f, "duplicate header {name:?}"),
            ErrorKind::TruncatedHeader { offset } => write!(
                f,
                "header at offset {offset} of the headers block runs past the block's end"
            ),
            ErrorKind::Truncated {
                available,
                frame_len: Some(len),
            } => write!(f, "truncated: {available} bytes of a frame of {len}"),
            ErrorKind::Truncated {
                available,
                frame_len: None,
            } => write!(
                f,
                "truncated: {available} bytes, short of the 12-byte prelude"
            ),
        }
    }
}
