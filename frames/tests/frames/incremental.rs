//! The incremental decoder under every chunking: each vector, and all valid vectors as one stream.

use bytes::BytesMut;
use frames::{read_message_from, DecodedFrame, ErrorKind, MessageFrameDecoder};

use crate::support::{decode_chunked, names, raw_frame_with_lengths, vector};
use crate::vectors::expected_error;

#[test]
fn every_valid_vector_decodes_the_same_under_every_chunk_size() {
    for name in names("valid") {
        let bytes = vector("valid", &name);
        let whole = read_message_from(&mut &bytes[..]).unwrap();
        for chunk in 1..=bytes.len() {
            let (messages, error) = decode_chunked(&bytes, chunk);
            assert!(error.is_none(), "{name} chunk {chunk}: {error:?}");
            assert_eq!(
                messages,
                std::slice::from_ref(&whole),
                "{name} chunk {chunk}"
            );
        }
    }
}

#[test]
fn every_negative_vector_fails_the_same_under_every_chunk_size() {
    for name in names("invalid") {
        let bytes = vector("invalid", &name);
        for chunk in 1..=bytes.len() {
            let (messages, error) = decode_chunked(&bytes, chunk);
            assert!(messages.is_empty(), "{name} chunk {chunk}");
            let error = error.unwrap_or_else(|| panic!("{name} chunk {chunk}: no error"));
            assert_eq!(error.kind(), &expected_error(&name), "{name} chunk {chunk}");
        }
    }
}

#[test]
fn all_valid_vectors_as_one_stream_decode_in_order_under_every_chunk_size() {
    let mut stream = Vec::new();
    let mut expected = Vec::new();
    for name in names("valid") {
        let bytes = vector("valid", &name);
        expected.push(read_message_from(&mut &bytes[..]).unwrap());
        stream.extend(bytes);
    }
    for chunk in 1..=stream.len() {
        let (messages, error) = decode_chunked(&stream, chunk);
        assert!(error.is_none(), "chunk {chunk}: {error:?}");
        assert_eq!(messages, expected, "chunk {chunk}");
    }
}

#[test]
fn a_bad_prelude_fails_as_soon_as_its_12_bytes_arrive() {
    let cases = [
        ("corrupted_length", vector("invalid", "corrupted_length")),
        (
            "invalid_prelude_checksum",
            vector("invalid", "invalid_prelude_checksum"),
        ),
        (
            "invalid_headers_length",
            vector("invalid", "invalid_headers_length"),
        ),
    ];
    for (name, bytes) in cases {
        let mut decoder = MessageFrameDecoder::new();
        let mut buf = BytesMut::from(&bytes[..11]);
        assert_eq!(
            decoder.decode_frame(&mut buf).unwrap(),
            DecodedFrame::Incomplete,
            "{name}"
        );
        buf.extend_from_slice(&bytes[11..12]);
        let error = decoder.decode_frame(&mut buf).unwrap_err();
        assert_eq!(error.kind(), &expected_error(name), "{name}");
    }
}

#[test]
fn oversized_and_undersized_lengths_fail_from_the_prelude_alone() {
    let prelude =
        |total: u32, headers: u32| raw_frame_with_lengths(total, headers, &[], &[])[..12].to_vec();
    let cases = [
        (prelude(12, 0), ErrorKind::InvalidMessageLength(12)),
        (prelude(0, 0), ErrorKind::InvalidMessageLength(0)),
        (
            prelude(16 + 131_073, 131_073),
            ErrorKind::InvalidHeadersLength(131_073),
        ),
        (prelude(20, 5), ErrorKind::InvalidHeadersLength(5)),
        (
            prelude(16 + 25_165_825, 0),
            ErrorKind::PayloadTooLarge(25_165_825),
        ),
        (
            prelude(u32::MAX, 0),
            ErrorKind::PayloadTooLarge(u32::MAX as usize - 16),
        ),
    ];
    for (bytes, kind) in cases {
        let mut buf = BytesMut::from(&bytes[..]);
        let error = MessageFrameDecoder::new()
            .decode_frame(&mut buf)
            .unwrap_err();
        assert_eq!(error.kind(), &kind);
        assert_eq!(buf.len(), 12, "a failing prelude is not consumed");
    }
    // The largest frame the limits allow is accepted while it is still incomplete.
    let mut buf = BytesMut::from(&prelude(16 + 131_072 + 25_165_824, 131_072)[..]);
    assert_eq!(
        MessageFrameDecoder::new().decode_frame(&mut buf).unwrap(),
        DecodedFrame::Incomplete
    );
}

#[test]
fn a_failing_frame_stays_in_the_buffer_and_fails_again() {
    let bytes = vector("invalid", "corrupted_payload");
    let mut decoder = MessageFrameDecoder::new();
    let mut buf = BytesMut::from(&bytes[..]);
    let first = decoder.decode_frame(&mut buf).unwrap_err();
    assert_eq!(buf.len(), bytes.len());
    assert_eq!(decoder.decode_frame(&mut buf).unwrap_err(), first);
}

#[test]
fn finish_reports_a_partial_frame_and_offsets_count_frames() {
    let first = vector("valid", "bedrock_converse_content_block_delta");
    let second = vector("valid", "bedrock_converse_message_stop");
    let mut decoder = MessageFrameDecoder::new();
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&first);
    buf.extend_from_slice(&second[..20]);
    assert!(matches!(
        decoder.decode_frame(&mut buf),
        Ok(DecodedFrame::Complete(_))
    ));
    assert_eq!(decoder.offset(), 151);
    assert_eq!(
        decoder.decode_frame(&mut buf).unwrap(),
        DecodedFrame::Incomplete
    );
    let error = decoder.finish(&buf).unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::Truncated {
            available: 20,
            frame_len: Some(122)
        }
    );
    buf.truncate(5);
    assert_eq!(
        decoder.finish(&buf).unwrap_err().kind(),
        &ErrorKind::Truncated {
            available: 5,
            frame_len: None
        }
    );
    buf.clear();
    decoder.finish(&buf).unwrap();
}

#[test]
fn the_payload_is_the_bytes_between_headers_and_crc() {
    let bytes = vector("valid", "bedrock_invoke_chunk");
    let mut buf = BytesMut::from(&bytes[..]);
    let DecodedFrame::Complete(message) =
        MessageFrameDecoder::new().decode_frame(&mut buf).unwrap()
    else {
        panic!("incomplete");
    };
    assert_eq!(&message.payload[..], &bytes[12 + 75..bytes.len() - 4]);
    assert!(buf.is_empty());
}
