//! The `application/vnd.amazon.eventstream` codec: encode, incremental decode and a readable
//! listing. No async runtime, no HTTP: bytes in, bytes out.
//!
//! ```text
//! [total_length u32][headers_length u32][prelude_crc u32][headers ...][payload ...][message_crc u32]
//! ```
//!
//! # Layout
//!
//! - [`wire`]: frame layout constants and the limits.
//! - [`message`]: [`Message`], [`Header`], [`HeaderValue`].
//! - [`encode`]: [`write_message_to`], [`encoded_len`].
//! - [`decode`]: [`read_message_from`] for one frame, [`MessageFrameDecoder`] for streams.
//! - [`error`]: the opaque [`Error`] and its [`ErrorKind`].
//! - [`bedrock`]: Bedrock's header conventions: [`bedrock::event`], [`bedrock::exception`].
//! - [`render`]: text listings of frames (golden files, `awsim frames decode`).
//!
//! # Decisions
//!
//! - **One encoder.** Every frame, the per-token events included, is a [`Message`] written by
//!   [`write_message_to`]; [`bedrock`] only builds messages. It writes into a `BytesMut` with one
//!   reservation and checksums the frame in one pass.
//! - **Limits on both sides.** Headers block ≤ 128 KiB, payload ≤ 24 MiB, string and byte-array
//!   header values ≤ 32,767 bytes, names 1..=255 bytes: the strictest envelope among the SDKs
//!   (botocore, Java v2, aws-c-event-stream), so anything we write every client can read, and
//!   anything we accept is something a real service could have sent.
//! - **Duplicate header names are rejected** ([`ErrorKind::DuplicateHeader`]) when decoding and
//!   when encoding. botocore, the strictest SDK, rejects them (smithy-rs, JS and Java accept, the
//!   last or both winning); Bedrock never sends them, and neither do we.
//! - **Fail fast.** The decoder checks the prelude CRC and all lengths as soon as the 12-byte
//!   prelude is buffered (as botocore does), and the message CRC before parsing headers.
//! - **Header order is kept** in [`Message::headers`]; it carries no meaning on the wire but
//!   Bedrock's order is part of being byte-identical.

pub mod bedrock;
pub mod decode;
pub mod encode;
pub mod error;
pub mod message;
mod pretty;
pub mod render;
pub mod wire;

pub use decode::{read_message_from, DecodedFrame, MessageFrameDecoder};
pub use encode::{encoded_len, write_message_to};
pub use error::{Error, ErrorKind};
pub use message::{Header, HeaderValue, Message};
pub use render::{display_message, render_stream, Listing};
pub use wire::{
    MAX_HEADERS_LEN, MAX_HEADER_NAME_LEN, MAX_HEADER_VALUE_LEN, MAX_PAYLOAD_LEN, MIN_FRAME_LEN,
    PRELUDE_LEN,
};
