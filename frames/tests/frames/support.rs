//! Shared helpers: golden file access, chunked decoding, hand-built frames.

use std::path::PathBuf;

use bytes::BytesMut;
use frames::{DecodedFrame, Error, Message, MessageFrameDecoder};

/// `golden/frames` at the workspace root.
pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../golden/frames")
}

/// The bytes of `golden/frames/{kind}/{name}.bin`.
pub fn vector(kind: &str, name: &str) -> Vec<u8> {
    let path = golden_dir().join(kind).join(format!("{name}.bin"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Sorted stems of the `.bin` files in `golden/frames/{kind}`.
pub fn names(kind: &str) -> Vec<String> {
    let dir = golden_dir().join(kind);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "bin"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The published vectors from wire.md §1.6 (the builder goldens are excluded).
pub fn published_valid_names() -> Vec<String> {
    names("valid")
        .into_iter()
        .filter(|name| !name.starts_with("builder_"))
        .collect()
}

/// Feeds `bytes` to a fresh [`MessageFrameDecoder`] `chunk` bytes at a time, draining every
/// complete frame after each append, then calls `finish`. Returns the messages decoded and the
/// first error.
pub fn decode_chunked(bytes: &[u8], chunk: usize) -> (Vec<Message>, Option<Error>) {
    let mut decoder = MessageFrameDecoder::new();
    let mut buf = BytesMut::new();
    let mut messages = Vec::new();
    for piece in bytes.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode_frame(&mut buf) {
                Ok(DecodedFrame::Complete(message)) => messages.push(message),
                Ok(DecodedFrame::Incomplete) => break,
                Err(error) => return (messages, Some(error)),
            }
        }
    }
    let error = decoder.finish(&buf).err();
    (messages, error)
}

/// A frame with correct lengths and CRCs around a raw headers block and payload.
pub fn raw_frame(headers: &[u8], payload: &[u8]) -> Vec<u8> {
    let total = (16 + headers.len() + payload.len()) as u32;
    raw_frame_with_lengths(total, headers.len() as u32, headers, payload)
}

/// A frame whose length fields say what the caller wants; the CRCs are correct for those bytes.
pub fn raw_frame_with_lengths(
    total: u32,
    headers_len: u32,
    headers: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&total.to_be_bytes());
    frame.extend_from_slice(&headers_len.to_be_bytes());
    let prelude_crc = crc32fast::hash(&frame);
    frame.extend_from_slice(&prelude_crc.to_be_bytes());
    frame.extend_from_slice(headers);
    frame.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&frame);
    frame.extend_from_slice(&message_crc.to_be_bytes());
    frame
}

/// Encodes with our encoder.
pub fn encode(message: &Message) -> Vec<u8> {
    let mut out = BytesMut::new();
    frames::write_message_to(message, &mut out).unwrap();
    out.to_vec()
}
