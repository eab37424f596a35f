//! Arbitrary headers blocks and payloads inside frames whose lengths and checksums are right, so
//! every input reaches the header parser (raw bytes almost never get past the prelude checksum).
//!
//! Input: two bytes of headers length (big-endian, capped to what follows), then the headers block
//! and the payload. A frame either decodes and re-encodes to the very same bytes, or fails with a
//! header error — never a checksum or length error, and never a panic.
#![no_main]

use bytes::BytesMut;
use frames::ErrorKind;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((len, body)) = data.split_first_chunk::<2>() else {
        return;
    };
    let headers_len = usize::from(u16::from_be_bytes(*len)).min(body.len());
    let frame = checksummed(body, headers_len);

    let mut read = &frame[..];
    match frames::read_message_from(&mut read) {
        Ok(message) => {
            assert!(read.is_empty());
            assert_eq!(&message.payload[..], &body[headers_len..]);
            let mut out = BytesMut::new();
            let encoded = frames::write_message_to(&message, &mut out);
            assert!(
                encoded.is_ok(),
                "a decoded frame does not encode: {encoded:?}"
            );
            assert_eq!(
                &out[..],
                &frame[..],
                "a decoded frame re-encodes differently"
            );
        }
        Err(err) => assert!(
            matches!(
                err.kind(),
                ErrorKind::InvalidHeaderValueType(_)
                    | ErrorKind::InvalidHeaderNameLength(_)
                    | ErrorKind::InvalidUtf8HeaderName
                    | ErrorKind::InvalidUtf8HeaderValue(_)
                    | ErrorKind::HeaderValueTooLong(_)
                    | ErrorKind::DuplicateHeader(_)
                    | ErrorKind::TruncatedHeader { .. }
            ),
            "a well-framed message failed with {err:?}"
        ),
    }

    // The incremental decoder, fed one byte at a time, agrees.
    let mut decoder = frames::MessageFrameDecoder::new();
    let mut buf = BytesMut::new();
    let mut outcome = None;
    for byte in &frame {
        buf.extend_from_slice(&[*byte]);
        match decoder.decode_frame(&mut buf) {
            Ok(frames::DecodedFrame::Incomplete) => {}
            other => {
                outcome = Some(other.map(|_| ()));
                break;
            }
        }
    }
    let whole = frames::read_message_from(&mut &frame[..]).map(|_| ());
    assert_eq!(outcome, Some(whole));
});

/// A frame around `body` (headers block, then payload) with the right lengths and checksums.
fn checksummed(body: &[u8], headers_len: usize) -> Vec<u8> {
    let total = frames::MIN_FRAME_LEN + body.len();
    let mut frame = Vec::with_capacity(total);
    frame.extend_from_slice(&(total as u32).to_be_bytes());
    frame.extend_from_slice(&(headers_len as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&frame);
    frame.extend_from_slice(&prelude_crc.to_be_bytes());
    frame.extend_from_slice(body);
    let message_crc = crc32fast::hash(&frame);
    frame.extend_from_slice(&message_crc.to_be_bytes());
    frame
}
