//! The Bedrock builders and the hot-path writers: Bedrock's header order, string headers only,
//! and the hot path byte-identical to the generic encoder.

use base64::prelude::{Engine, BASE64_STANDARD};
use bytes::{Bytes, BytesMut};
use frames::bedrock::{event, exception, write_event_to, write_exception_to};
use frames::{read_message_from, HeaderValue, Message};
use proptest::prelude::*;

use crate::support::{encode, vector};

/// The builder outputs pinned as `golden/frames/valid/NAME.bin`.
pub fn builder_goldens() -> Vec<(&'static str, Message)> {
    let anthropic_delta =
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#;
    let chunk = format!(
        r#"{{"bytes":"{}"}}"#,
        BASE64_STANDARD.encode(anthropic_delta)
    );
    vec![
        (
            "builder_converse_message_start",
            event("messageStart", r#"{"role":"assistant"}"#),
        ),
        (
            "builder_converse_delta",
            event(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"Hello, world"}}"#,
            ),
        ),
        (
            "builder_converse_unicode_delta",
            event(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"héllo 👋 \"quoted\"\n"}}"#,
            ),
        ),
        (
            "builder_converse_tool_use_delta",
            event(
                "contentBlockDelta",
                r#"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":\"Par"}}}"#,
            ),
        ),
        (
            "builder_converse_metadata",
            event(
                "metadata",
                r#"{"usage":{"inputTokens":12,"outputTokens":5,"totalTokens":17},"metrics":{"latencyMs":42}}"#,
            ),
        ),
        ("builder_invoke_chunk", event("chunk", chunk)),
        (
            "builder_throttling_exception",
            exception(
                "throttlingException",
                r#"{"message":"Too many requests, please wait before trying again."}"#,
            ),
        ),
        (
            "builder_model_stream_error_exception",
            exception(
                "modelStreamErrorException",
                r#"{"message":"upstream failed","originalStatusCode":500,"originalMessage":"boom"}"#,
            ),
        ),
    ]
}

fn hot(message: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    match message.header_str(":exception-type") {
        Some(kind) => write_exception_to(kind, &message.payload, &mut out).unwrap(),
        None => write_event_to(
            message.header_str(":event-type").unwrap(),
            &message.payload,
            &mut out,
        )
        .unwrap(),
    }
    out
}

#[test]
fn builders_reproduce_the_published_bedrock_vectors() {
    let cases = [
        (
            "bedrock_converse_content_block_delta",
            event(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"Hello"}}"#,
            ),
        ),
        (
            "bedrock_converse_message_stop",
            event("messageStop", r#"{"stopReason":"end_turn"}"#),
        ),
        (
            "bedrock_invoke_chunk",
            event("chunk", r#"{"bytes":"eyJ0eXBlIjoibWVzc2FnZV9zdG9wIn0="}"#),
        ),
        (
            "bedrock_throttling_exception",
            exception("throttlingException", r#"{"message":"Too many requests"}"#),
        ),
    ];
    for (name, message) in cases {
        let expected = vector("valid", name);
        assert_eq!(encode(&message), expected, "{name}: write_message_to");
        assert_eq!(hot(&message), expected, "{name}: hot path");
    }
    // The captured real frame too, padding and all.
    let captured = vector("valid", "bedrock_captured_chunk_with_padding");
    let message = read_message_from(&mut &captured[..]).unwrap();
    assert_eq!(hot(&event("chunk", message.payload.clone())), captured);
}

#[test]
fn builders_emit_only_string_headers_in_bedrock_order() {
    let names = |message: &Message| -> Vec<String> {
        message.headers.iter().map(|h| h.name.clone()).collect()
    };
    let ev = event("chunk", "{}");
    assert_eq!(
        names(&ev),
        [":event-type", ":content-type", ":message-type"]
    );
    assert_eq!(ev.header_str(":message-type"), Some("event"));
    let ex = exception("validationException", "{}");
    assert_eq!(
        names(&ex),
        [":exception-type", ":content-type", ":message-type"]
    );
    assert_eq!(ex.header_str(":message-type"), Some("exception"));
    for message in [ev, ex] {
        assert_eq!(
            message.header_str(":content-type"),
            Some("application/json")
        );
        assert!(message
            .headers
            .iter()
            .all(|h| matches!(h.value, HeaderValue::String(_))));
    }
}

#[test]
fn hot_path_matches_the_generic_encoder_on_every_builder_golden() {
    for (name, message) in builder_goldens() {
        assert_eq!(hot(&message), encode(&message), "{name}");
    }
}

#[test]
fn hot_path_appends_to_vec_and_bytes_mut_alike() {
    let mut vec = b"prefix".to_vec();
    let mut buf = BytesMut::from(&b"prefix"[..]);
    for (event_type, payload) in [
        ("chunk", &b"{}"[..]),
        ("messageStop", b"{\"stopReason\":\"end_turn\"}"),
    ] {
        write_event_to(event_type, payload, &mut vec).unwrap();
        write_event_to(event_type, payload, &mut buf).unwrap();
    }
    write_exception_to("internalServerException", b"{\"message\":\"x\"}", &mut vec).unwrap();
    write_exception_to("internalServerException", b"{\"message\":\"x\"}", &mut buf).unwrap();
    assert_eq!(&vec[..], &buf[..]);
    let expected: Vec<u8> = [
        b"prefix".to_vec(),
        encode(&event("chunk", "{}")),
        encode(&event("messageStop", "{\"stopReason\":\"end_turn\"}")),
        encode(&exception("internalServerException", "{\"message\":\"x\"}")),
    ]
    .concat();
    assert_eq!(vec, expected);
}

proptest! {
    #[test]
    fn hot_path_is_byte_identical_to_the_generic_encoder(
        kind in ".{0,300}",
        payload in proptest::collection::vec(any::<u8>(), 0..4096),
        is_exception: bool,
    ) {
        let mut out = Vec::new();
        let message = if is_exception {
            write_exception_to(&kind, &payload, &mut out).unwrap();
            exception(&kind, Bytes::from(payload))
        } else {
            write_event_to(&kind, &payload, &mut out).unwrap();
            event(&kind, Bytes::from(payload))
        };
        prop_assert_eq!(&out, &encode(&message));
        prop_assert_eq!(read_message_from(&mut &out[..]).unwrap(), message);
    }
}
