//! The Bedrock builders: Bedrock's header order, string headers only, and the bytes of the
//! published and captured Bedrock frames.

use base64::prelude::{Engine, BASE64_STANDARD};
use bytes::BytesMut;
use frames::bedrock::{event, exception};
use frames::{read_message_from, write_message_to, HeaderValue, Message};

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
        assert_eq!(encode(&message), expected, "{name}");
    }
    // The captured real frame too, padding and all.
    let captured = vector("valid", "bedrock_captured_chunk_with_padding");
    let message = read_message_from(&mut &captured[..]).unwrap();
    assert_eq!(encode(&event("chunk", message.payload)), captured);
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
fn frames_append_to_what_the_buffer_already_holds() {
    // The body writer appends a write's frames one after another into one buffer.
    let messages = [
        event("chunk", "{}"),
        event("messageStop", "{\"stopReason\":\"end_turn\"}"),
        exception("internalServerException", "{\"message\":\"x\"}"),
    ];
    let mut buf = BytesMut::from(&b"prefix"[..]);
    for message in &messages {
        write_message_to(message, &mut buf).unwrap();
    }
    let expected: Vec<u8> = std::iter::once(b"prefix".to_vec())
        .chain(messages.iter().map(encode))
        .collect::<Vec<_>>()
        .concat();
    assert_eq!(&buf[..], &expected[..]);
}
