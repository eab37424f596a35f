//! The data model: a [`Message`] is an ordered list of typed [`Header`]s plus an opaque payload.

use bytes::Bytes;

use crate::wire::{
    TYPE_BYTE, TYPE_BYTE_ARRAY, TYPE_FALSE, TYPE_INT16, TYPE_INT32, TYPE_INT64, TYPE_STRING,
    TYPE_TIMESTAMP, TYPE_TRUE, TYPE_UUID,
};

/// One event-stream frame, decoded. Header order is kept as on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// Headers in wire order.
    pub headers: Vec<Header>,
    /// The payload bytes (JSON for every Bedrock message kind except unmodeled errors).
    pub payload: Bytes,
}

/// A named, typed header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Header name: 1 to 255 bytes of UTF-8.
    pub name: String,
    /// Typed value.
    pub value: HeaderValue,
}

/// A header value; one variant per wire type (the two boolean types share [`HeaderValue::Bool`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    /// Types 0 (true) and 1 (false): no value bytes.
    Bool(bool),
    /// Type 2: one signed byte.
    Byte(i8),
    /// Type 3: `i16` big-endian.
    Int16(i16),
    /// Type 4: `i32` big-endian.
    Int32(i32),
    /// Type 5: `i64` big-endian.
    Int64(i64),
    /// Type 6: `u16` length, then the bytes (at most 32,767).
    ByteArray(Bytes),
    /// Type 7: `u16` length, then UTF-8 (at most 32,767 bytes).
    String(String),
    /// Type 8: `i64` milliseconds since the Unix epoch.
    Timestamp(i64),
    /// Type 9: 16 raw bytes, read big-endian.
    Uuid(u128),
}

impl Message {
    /// A message with no headers.
    pub fn new(payload: impl Into<Bytes>) -> Self {
        Message {
            headers: Vec::new(),
            payload: payload.into(),
        }
    }

    /// Appends a header (builder style).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<HeaderValue>) -> Self {
        self.headers.push(Header::new(name, value));
        self
    }

    /// The value of the first header called `name`.
    pub fn header(&self, name: &str) -> Option<&HeaderValue> {
        self.headers
            .iter()
            .find(|header| header.name == name)
            .map(|header| &header.value)
    }

    /// The value of the header called `name` when it is a string.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(HeaderValue::as_str)
    }
}

impl Header {
    /// A header from a name and anything convertible to a value.
    pub fn new(name: impl Into<String>, value: impl Into<HeaderValue>) -> Self {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl HeaderValue {
    /// The wire type byte (0 to 9).
    pub fn type_byte(&self) -> u8 {
        match self {
            HeaderValue::Bool(true) => TYPE_TRUE,
            HeaderValue::Bool(false) => TYPE_FALSE,
            HeaderValue::Byte(_) => TYPE_BYTE,
            HeaderValue::Int16(_) => TYPE_INT16,
            HeaderValue::Int32(_) => TYPE_INT32,
            HeaderValue::Int64(_) => TYPE_INT64,
            HeaderValue::ByteArray(_) => TYPE_BYTE_ARRAY,
            HeaderValue::String(_) => TYPE_STRING,
            HeaderValue::Timestamp(_) => TYPE_TIMESTAMP,
            HeaderValue::Uuid(_) => TYPE_UUID,
        }
    }

    /// The short type name used in listings: `bool`, `byte`, `int16`, `int32`, `int64`, `bytes`,
    /// `string`, `timestamp`, `uuid`.
    pub fn type_name(&self) -> &'static str {
        match self {
            HeaderValue::Bool(_) => "bool",
            HeaderValue::Byte(_) => "byte",
            HeaderValue::Int16(_) => "int16",
            HeaderValue::Int32(_) => "int32",
            HeaderValue::Int64(_) => "int64",
            HeaderValue::ByteArray(_) => "bytes",
            HeaderValue::String(_) => "string",
            HeaderValue::Timestamp(_) => "timestamp",
            HeaderValue::Uuid(_) => "uuid",
        }
    }

    /// The string, if this is a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            HeaderValue::String(value) => Some(value),
            HeaderValue::Bool(_)
            | HeaderValue::Byte(_)
            | HeaderValue::Int16(_)
            | HeaderValue::Int32(_)
            | HeaderValue::Int64(_)
            | HeaderValue::ByteArray(_)
            | HeaderValue::Timestamp(_)
            | HeaderValue::Uuid(_) => None,
        }
    }

    /// Bytes this value takes on the wire after the type byte.
    pub(crate) fn encoded_value_len(&self) -> usize {
        match self {
            HeaderValue::Bool(_) => 0,
            HeaderValue::Byte(_) => 1,
            HeaderValue::Int16(_) => 2,
            HeaderValue::Int32(_) => 4,
            HeaderValue::Int64(_) | HeaderValue::Timestamp(_) => 8,
            HeaderValue::ByteArray(bytes) => 2 + bytes.len(),
            HeaderValue::String(string) => 2 + string.len(),
            HeaderValue::Uuid(_) => 16,
        }
    }
}

impl From<bool> for HeaderValue {
    fn from(value: bool) -> Self {
        HeaderValue::Bool(value)
    }
}

impl From<i8> for HeaderValue {
    fn from(value: i8) -> Self {
        HeaderValue::Byte(value)
    }
}

impl From<i16> for HeaderValue {
    fn from(value: i16) -> Self {
        HeaderValue::Int16(value)
    }
}

impl From<i32> for HeaderValue {
    fn from(value: i32) -> Self {
        HeaderValue::Int32(value)
    }
}

impl From<i64> for HeaderValue {
    fn from(value: i64) -> Self {
        HeaderValue::Int64(value)
    }
}

impl From<u128> for HeaderValue {
    fn from(value: u128) -> Self {
        HeaderValue::Uuid(value)
    }
}

impl From<Bytes> for HeaderValue {
    fn from(value: Bytes) -> Self {
        HeaderValue::ByteArray(value)
    }
}

impl From<String> for HeaderValue {
    fn from(value: String) -> Self {
        HeaderValue::String(value)
    }
}

impl From<&str> for HeaderValue {
    fn from(value: &str) -> Self {
        HeaderValue::String(value.to_owned())
    }
}

/// The name of the first header that repeats an earlier header's name.
///
/// Pairwise for the usual handful of headers; a hash set beyond that keeps a hostile frame with
/// tens of thousands of tiny headers linear.
pub(crate) fn find_duplicate(headers: &[Header]) -> Option<&str> {
    const PAIRWISE_MAX: usize = 16;
    if headers.len() <= PAIRWISE_MAX {
        return headers.iter().enumerate().find_map(|(i, header)| {
            headers[..i]
                .iter()
                .any(|earlier| earlier.name == header.name)
                .then_some(header.name.as_str())
        });
    }
    let mut seen = std::collections::HashSet::with_capacity(headers.len());
    headers
        .iter()
        .find(|header| !seen.insert(header.name.as_str()))
        .map(|header| header.name.as_str())
}
