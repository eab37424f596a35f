//! Limits and malformed headers: the encoder refuses to write them, the decoder refuses to read them.

use bytes::{Bytes, BytesMut};
use frames::{
    read_message_from, write_message_to, ErrorKind, Header, HeaderValue, Message, MAX_HEADERS_LEN,
    MAX_HEADER_VALUE_LEN, MAX_PAYLOAD_LEN,
};

use crate::support::{encode, raw_frame};

fn encode_error(message: &Message) -> ErrorKind {
    let mut out = BytesMut::new();
    let error = write_message_to(message, &mut out).unwrap_err();
    assert!(out.is_empty(), "nothing is written on error");
    assert_eq!(frames::encoded_len(message).unwrap_err(), error);
    error.into_kind()
}

fn decode_error(frame: &[u8]) -> ErrorKind {
    read_message_from(&mut &frame[..]).unwrap_err().into_kind()
}

fn with_string(name: &str, len: usize) -> Message {
    Message::default().with_header(name, "x".repeat(len))
}

#[test]
fn header_names_must_be_1_to_255_bytes() {
    assert_eq!(
        encode_error(&with_string("", 1)),
        ErrorKind::InvalidHeaderNameLength(0)
    );
    assert_eq!(
        encode_error(&with_string(&"n".repeat(256), 1)),
        ErrorKind::InvalidHeaderNameLength(256)
    );
    let longest = with_string(&"n".repeat(255), 1);
    assert_eq!(
        read_message_from(&mut &encode(&longest)[..]).unwrap(),
        longest
    );
    // Decoding: a zero name length.
    let frame = raw_frame(b"\x00\x00", b"");
    assert_eq!(decode_error(&frame), ErrorKind::InvalidHeaderNameLength(0));
}

#[test]
fn string_and_bytes_values_are_at_most_32767_bytes() {
    let at_limit = with_string("s", MAX_HEADER_VALUE_LEN);
    assert_eq!(
        read_message_from(&mut &encode(&at_limit)[..]).unwrap(),
        at_limit
    );
    assert_eq!(
        encode_error(&with_string("s", MAX_HEADER_VALUE_LEN + 1)),
        ErrorKind::HeaderValueTooLong(32_768)
    );
    let bytes = Message::default().with_header("b", Bytes::from(vec![7u8; 40_000]));
    assert_eq!(encode_error(&bytes), ErrorKind::HeaderValueTooLong(40_000));

    // Decoding: a u16 length above the limit, even though it fits the block.
    let mut block = b"\x01b\x06\x80\x00".to_vec();
    block.extend(vec![0u8; 32_768]);
    assert_eq!(
        decode_error(&raw_frame(&block, b"")),
        ErrorKind::HeaderValueTooLong(32_768)
    );
}

#[test]
fn the_headers_block_is_at_most_128_kib() {
    // Three maximal values plus one sized to land exactly on 131,072 bytes; one more byte fails.
    let per_header = 1 + 2 + 1 + 2; // name length, "hN", type, value length
    let mut message = Message::default();
    for i in 0..3 {
        message = message.with_header(format!("h{i}"), "v".repeat(MAX_HEADER_VALUE_LEN));
    }
    let last = MAX_HEADERS_LEN - 3 * (per_header + MAX_HEADER_VALUE_LEN) - per_header;
    let fits = message.clone().with_header("h3", "v".repeat(last));
    let bytes = encode(&fits);
    assert_eq!(&bytes[4..8], &(MAX_HEADERS_LEN as u32).to_be_bytes());
    assert_eq!(read_message_from(&mut &bytes[..]).unwrap(), fits);
    let over = message.with_header("h3", "v".repeat(last + 1));
    assert_eq!(
        encode_error(&over),
        ErrorKind::HeadersTooLarge(MAX_HEADERS_LEN + 1)
    );
}

#[test]
fn the_payload_is_at_most_24_mib() {
    let at_limit = Message::new(vec![b'a'; MAX_PAYLOAD_LEN]);
    let bytes = encode(&at_limit);
    assert_eq!(bytes.len(), MAX_PAYLOAD_LEN + 16);
    assert_eq!(read_message_from(&mut &bytes[..]).unwrap(), at_limit);
    let over = Message::new(vec![b'a'; MAX_PAYLOAD_LEN + 1]);
    assert_eq!(
        encode_error(&over),
        ErrorKind::PayloadTooLarge(MAX_PAYLOAD_LEN + 1)
    );
}

#[test]
fn duplicate_names_are_refused_both_ways() {
    let message = Message::default()
        .with_header("a", 1i32)
        .with_header("b", true)
        .with_header("a", "again");
    assert_eq!(
        encode_error(&message),
        ErrorKind::DuplicateHeader("a".into())
    );
    // Many headers take the hash-set path.
    let mut many = Message::default();
    for i in 0..100 {
        many = many.with_header(format!("h{i}"), i);
    }
    encode(&many);
    let many = many.with_header("h42", false);
    assert_eq!(
        encode_error(&many),
        ErrorKind::DuplicateHeader("h42".into())
    );
}

#[test]
fn malformed_header_blocks_are_rejected() {
    let cases: [(&[u8], ErrorKind); 8] = [
        // Unknown type byte, CRCs valid (smithy-rs's invalid_header_value_type, re-checksummed).
        (b"\x01a\x60", ErrorKind::InvalidHeaderValueType(0x60)),
        (b"\x01a\x0a", ErrorKind::InvalidHeaderValueType(10)),
        // Name runs past the block.
        (b"\x05ab", ErrorKind::TruncatedHeader { offset: 0 }),
        // No type byte.
        (b"\x01a", ErrorKind::TruncatedHeader { offset: 0 }),
        // Second header's int32 is cut short.
        (
            b"\x01a\x00\x01b\x04\x00\x00",
            ErrorKind::TruncatedHeader { offset: 3 },
        ),
        // String length runs past the block.
        (
            b"\x01s\x07\x00\x09abc",
            ErrorKind::TruncatedHeader { offset: 0 },
        ),
        (b"\x02\xff\xfe\x00", ErrorKind::InvalidUtf8HeaderName),
        (
            b"\x01s\x07\x00\x02\xc3\x28",
            ErrorKind::InvalidUtf8HeaderValue("s".into()),
        ),
    ];
    for (block, kind) in cases {
        assert_eq!(
            decode_error(&raw_frame(block, b"payload")),
            kind,
            "{block:02x?}"
        );
    }
}

#[test]
fn a_header_block_of_one_byte_is_rejected() {
    // smithy-rs special-cases headers_length == 1; here it is simply a truncated header.
    assert_eq!(
        decode_error(&raw_frame(b"\x01", b"")),
        ErrorKind::TruncatedHeader { offset: 0 }
    );
}

#[test]
fn the_message_crc_is_checked_before_headers_are_parsed() {
    // smithy-rs's invalid_header_value_type: V5 with one type byte changed and stale CRCs.
    let mut frame = crate::support::vector("valid", "all_headers_and_payload");
    let at = frame.windows(5).position(|w| w == b"\x04byte").unwrap() + 5;
    assert_eq!(frame[at], 0x02);
    frame[at] = 0x60;
    assert!(matches!(
        decode_error(&frame),
        ErrorKind::MessageChecksumMismatch {
            expected: _,
            actual: 0x01a0_5860
        }
    ));
}

#[test]
fn empty_string_and_bytes_values_round_trip() {
    let message = Message {
        headers: vec![
            Header::new("s", ""),
            Header::new("b", HeaderValue::ByteArray(Bytes::new())),
        ],
        payload: Bytes::new(),
    };
    assert_eq!(
        read_message_from(&mut &encode(&message)[..]).unwrap(),
        message
    );
}
