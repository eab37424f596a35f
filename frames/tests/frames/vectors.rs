//! Every published vector decodes to the message wire.md §1.6 lists and re-encodes byte for byte;
//! every negative vector fails with its specific error.

use bytes::Bytes;
use frames::{read_message_from, ErrorKind, Header, HeaderValue, Message};

use crate::support::{encode, published_valid_names, vector};

const FOO_BAR: &[u8] = b"{'foo':'bar'}";

fn string(name: &str, value: &str) -> Header {
    Header::new(name, value)
}

fn bedrock_event(event_type: &str, payload: &'static str) -> Message {
    Message {
        headers: vec![
            string(":event-type", event_type),
            string(":content-type", "application/json"),
            string(":message-type", "event"),
        ],
        payload: Bytes::from_static(payload.as_bytes()),
    }
}

/// The decoded meaning of each published vector, as listed in wire.md §1.6.
fn expected(name: &str) -> Message {
    match name {
        "empty_message" => Message::default(),
        "payload_no_headers" => Message::new(FOO_BAR),
        "payload_one_str_header" => Message {
            headers: vec![string("content-type", "application/json")],
            payload: Bytes::from_static(FOO_BAR),
        },
        "int32_header" => Message {
            headers: vec![Header::new("event-type", HeaderValue::Int32(40972))],
            payload: Bytes::from_static(FOO_BAR),
        },
        "all_headers_and_payload" => Message {
            headers: vec![
                Header::new("true", HeaderValue::Bool(true)),
                Header::new("false", HeaderValue::Bool(false)),
                Header::new("byte", HeaderValue::Byte(50)),
                Header::new("short", HeaderValue::Int16(20_000)),
                Header::new("int", HeaderValue::Int32(500_000)),
                Header::new("long", HeaderValue::Int64(50_000_000_000)),
                Header::new(
                    "bytes",
                    HeaderValue::ByteArray(Bytes::from_static(b"some bytes")),
                ),
                string("str", "some str"),
                Header::new("time", HeaderValue::Timestamp(5_000_000_000)),
                Header::new(
                    "uuid",
                    HeaderValue::Uuid(0xb79bc914_de21_4e13_b8b2_bc47e85b7f0b),
                ),
            ],
            payload: Bytes::from_static(b"some payload"),
        },
        "unmodeled_error" => Message {
            headers: vec![
                string(":message-type", "error"),
                string(":error-code", "code"),
                string(":error-message", "message"),
            ],
            payload: Bytes::new(),
        },
        "bedrock_converse_content_block_delta" => bedrock_event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"Hello"}}"#,
        ),
        "bedrock_converse_message_stop" => {
            bedrock_event("messageStop", r#"{"stopReason":"end_turn"}"#)
        }
        "bedrock_invoke_chunk" => {
            bedrock_event("chunk", r#"{"bytes":"eyJ0eXBlIjoibWVzc2FnZV9zdG9wIn0="}"#)
        }
        "bedrock_throttling_exception" => Message {
            headers: vec![
                string(":exception-type", "throttlingException"),
                string(":content-type", "application/json"),
                string(":message-type", "exception"),
            ],
            payload: Bytes::from_static(br#"{"message":"Too many requests"}"#),
        },
        "bedrock_captured_chunk_with_padding" => bedrock_event(
            "chunk",
            concat!(
                r#"{"bytes":"eyJjaG9pY2VzIjpbeyJpbmRleCI6MCwibWVzc2FnZSI6eyJyb2xlIjoiYXNzaXN0YW50Iiwi"#,
                r#"Y29udGVudCI6IkkifSwic3RvcF9yZWFzb24iOm51bGx9XX0=","p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJK"}"#
            ),
        ),
        other => panic!("no expectation for vector {other}: add one from wire.md §1.6"),
    }
}

/// The specific error each negative vector must produce.
pub fn expected_error(name: &str) -> ErrorKind {
    match name {
        // The CRC over the altered length fails before the length is believed.
        "corrupted_length" => ErrorKind::PreludeChecksumMismatch {
            expected: 0x31f8_8cc4,
            actual: 0xfd52_8c5a,
        },
        "corrupted_payload" => ErrorKind::MessageChecksumMismatch {
            expected: 0x7ed8_cb2a,
            actual: 0xc365_3936,
        },
        "duplicate_header" => ErrorKind::DuplicateHeader("test".into()),
        "invalid_headers_length" => ErrorKind::InvalidHeadersLength(0xff00_0102),
        "invalid_prelude_checksum" => ErrorKind::PreludeChecksumMismatch {
            expected: 0x8bb4_95fb,
            actual: 0xdead_beef,
        },
        "invalid_message_checksum" => ErrorKind::MessageChecksumMismatch {
            expected: 0x01a0_5860,
            actual: 0xdead_beef,
        },
        other => panic!("no expected error for negative vector {other}"),
    }
}

#[test]
fn every_published_vector_has_an_expectation() {
    let names = published_valid_names();
    assert_eq!(names.len(), 11, "{names:?}");
    for name in names {
        expected(&name);
    }
    let invalid = crate::support::names("invalid");
    assert_eq!(invalid.len(), 6, "{invalid:?}");
}

#[test]
fn valid_vectors_decode_to_the_listed_messages() {
    for name in published_valid_names() {
        let bytes = vector("valid", &name);
        let mut buf = &bytes[..];
        let message = read_message_from(&mut buf).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(buf.is_empty(), "{name}: {} bytes left over", buf.len());
        assert_eq!(message, expected(&name), "{name}");
    }
}

#[test]
fn valid_vectors_reencode_byte_for_byte() {
    for name in published_valid_names() {
        let bytes = vector("valid", &name);
        assert_eq!(encode(&expected(&name)), bytes, "{name}");
        assert_eq!(
            frames::encoded_len(&expected(&name)).unwrap(),
            bytes.len(),
            "{name}"
        );
    }
}

#[test]
fn spot_check_fields_of_the_all_types_vector() {
    let message = read_message_from(&mut &vector("valid", "all_headers_and_payload")[..]).unwrap();
    assert_eq!(message.header("int"), Some(&HeaderValue::Int32(500_000)));
    assert_eq!(message.header_str("str"), Some("some str"));
    assert_eq!(message.header_str("int"), None);
    assert_eq!(message.header("missing"), None);
    let types: Vec<u8> = message
        .headers
        .iter()
        .map(|h| h.value.type_byte())
        .collect();
    assert_eq!(types, (0..=9).collect::<Vec<u8>>());
}

#[test]
fn negative_vectors_fail_with_their_specific_error() {
    for name in crate::support::names("invalid") {
        let bytes = vector("invalid", &name);
        let error = read_message_from(&mut &bytes[..]).expect_err(&name);
        assert_eq!(error.kind(), &expected_error(&name), "{name}: {error}");
    }
}

#[test]
fn error_messages_are_lowercase_and_carry_the_evidence() {
    let error =
        read_message_from(&mut &vector("invalid", "invalid_prelude_checksum")[..]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "prelude checksum mismatch: expected 0x8bb495fb, found 0xdeadbeef"
    );
    let error = read_message_from(&mut &vector("invalid", "duplicate_header")[..]).unwrap_err();
    assert_eq!(error.to_string(), "duplicate header \"test\"");
    let source: &dyn std::error::Error = &error;
    assert!(source.source().is_none());
    assert_eq!(error.into_kind(), ErrorKind::DuplicateHeader("test".into()));
}

#[test]
fn every_single_bit_flip_of_a_valid_vector_is_rejected() {
    for name in published_valid_names() {
        let bytes = vector("valid", &name);
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(
                read_message_from(&mut &flipped[..]).is_err(),
                "{name}: flipping bit {bit} went unnoticed"
            );
        }
    }
}

#[test]
fn read_message_from_leaves_the_next_frame_in_place() {
    let mut stream = vector("valid", "empty_message");
    stream.extend(vector("valid", "int32_header"));
    let mut buf = Bytes::from(stream);
    assert_eq!(read_message_from(&mut buf).unwrap(), Message::default());
    assert_eq!(buf.len(), 45);
    assert_eq!(
        read_message_from(&mut buf).unwrap(),
        expected("int32_header")
    );
    assert!(buf.is_empty());
    let error = read_message_from(&mut buf).unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::Truncated {
            available: 0,
            frame_len: None
        }
    );
}

#[test]
fn read_message_from_reports_a_short_buffer_as_truncated() {
    let bytes = vector("valid", "bedrock_invoke_chunk");
    let error = read_message_from(&mut &bytes[..100]).unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::Truncated {
            available: 100,
            frame_len: Some(135)
        }
    );
    assert_eq!(error.to_string(), "truncated: 100 bytes of a frame of 135");
}
