//! Frame layout constants: sizes of the fixed parts, the limits we enforce, and header type bytes.
//!
//! ```text
//! offset  size  field
//! 0       4     total_length    u32 BE, the whole frame including both CRCs
//! 4       4     headers_length  u32 BE
//! 8       4     prelude_crc     CRC-32 of bytes [0, 8)
//! 12      H     headers         name_len:u8 | name | type:u8 | value, repeated
//! 12+H    P     payload         P = total_length - H - 16
//! 12+H+P  4     message_crc     CRC-32 of bytes [0, 12+H+P)
//! ```

/// Length of the prelude: total length, headers length and prelude CRC.
pub const PRELUDE_LEN: usize = 12;

/// Length of the trailing message CRC.
pub const MESSAGE_CRC_LEN: usize = 4;

/// Fixed overhead of a frame; also the length of the smallest frame (no headers, empty payload).
pub const MIN_FRAME_LEN: usize = PRELUDE_LEN + MESSAGE_CRC_LEN;

/// Largest encoded headers block we write or accept (128 KiB, as botocore and Java enforce).
pub const MAX_HEADERS_LEN: usize = 131_072;

/// Largest payload we write or accept (24 MiB, as botocore and Java enforce).
pub const MAX_PAYLOAD_LEN: usize = 25_165_824;

/// Largest string or byte-array header value (`i16::MAX`, as Java and aws-c-event-stream enforce).
pub const MAX_HEADER_VALUE_LEN: usize = 32_767;

/// Largest header name; names are 1 to 255 bytes of UTF-8.
pub const MAX_HEADER_NAME_LEN: usize = 255;

pub(crate) const TYPE_TRUE: u8 = 0;
pub(crate) const TYPE_FALSE: u8 = 1;
pub(crate) const TYPE_BYTE: u8 = 2;
pub(crate) const TYPE_INT16: u8 = 3;
pub(crate) const TYPE_INT32: u8 = 4;
pub(crate) const TYPE_INT64: u8 = 5;
pub(crate) const TYPE_BYTE_ARRAY: u8 = 6;
pub(crate) const TYPE_STRING: u8 = 7;
pub(crate) const TYPE_TIMESTAMP: u8 = 8;
pub(crate) const TYPE_UUID: u8 = 9;
