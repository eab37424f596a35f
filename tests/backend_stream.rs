//! Backend deltas in each stream shape: reasoning and tool fragments as Converse and Anthropic
//! events, the JSON-array format, stop sequences.

use crate::backend::{awsim_for, consume, stream_reply, tools, user, HAIKU};
use crate::support::fake_openai::{self as fake, FakeOpenAi, Reply, Step};
use crate::support::sigv4;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{InferenceConfiguration, ResponseStream, StopReason};
use serde_json::{json, Value};

fn thinking_then_tool() -> Vec<Step> {
    vec![
        fake::role(),
        fake::reasoning("Need"),
        fake::reasoning(" weather."),
        fake::tool(0, Some(("call_9", "weather")), "{\"city\""),
        fake::tool(0, None, ":\"Oslo\"}"),
        fake::finish("tool_calls"),
        fake::usage(21, 9),
        Step::Done,
    ]
}

#[tokio::test]
async fn reasoning_and_tool_fragments_stream_as_converse_events() {
    let upstream = FakeOpenAi::always(Reply::Sse(thinking_then_tool())).await;
    let server = awsim_for(&upstream).await;
    let s = consume(
        server
            .runtime()
            .converse_stream()
            .model_id(HAIKU)
            .messages(user("weather in Oslo?"))
            .tool_config(tools())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s.error, None);
    assert_eq!(s.reasoning, "Need weather.");
    assert_eq!(
        s.tools,
        [(
            "weather".to_string(),
            vec!["{\"city\"".to_string(), ":\"Oslo\"}".to_string()]
        )]
    );
    assert_eq!(
        s.block_starts,
        [1],
        "reasoning is block 0, the call block 1"
    );
    assert_eq!(s.stop, Some(StopReason::ToolUse));
    assert_eq!(s.usage, (21, 9));
}

#[tokio::test]
async fn anthropic_streams_get_thinking_deltas_and_input_json_fragments() {
    let upstream = FakeOpenAi::always(Reply::Sse(thinking_then_tool())).await;
    let server = awsim_for(&upstream).await;
    let body = json!({
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 100,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "tools": [{"name": "weather", "description": "Weather by city", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
        "tool_choice": {"type": "tool", "name": "weather"},
        "messages": [{"role": "user", "content": "weather in Oslo?"}],
    });
    let mut out = server
        .runtime()
        .invoke_model_with_response_stream()
        .model_id(HAIKU)
        .body(Blob::new(body.to_string()))
        .send()
        .await
        .unwrap();
    let mut chunks: Vec<Value> = Vec::new();
    while let Some(ResponseStream::Chunk(part)) = out.body.recv().await.unwrap() {
        chunks.push(serde_json::from_slice(part.bytes.unwrap().as_ref()).unwrap());
    }
    let thinking: String = chunks
        .iter()
        .filter(|c| c["delta"]["type"] == "thinking_delta")
        .map(|c| c["delta"]["thinking"].as_str().unwrap())
        .collect();
    assert_eq!(thinking, "Need weather.");
    let start = chunks
        .iter()
        .find(|c| c["type"] == "content_block_start" && c["content_block"]["type"] == "tool_use")
        .unwrap();
    assert_eq!(start["content_block"]["name"], "weather");
    let fragments: Vec<&str> = chunks
        .iter()
        .filter(|c| c["delta"]["type"] == "input_json_delta")
        .map(|c| c["delta"]["partial_json"].as_str().unwrap())
        .collect();
    assert_eq!(fragments, ["{\"city\"", ":\"Oslo\"}"]);
    let stop = chunks
        .iter()
        .find(|c| c["type"] == "message_delta")
        .unwrap();
    assert_eq!(stop["delta"]["stop_reason"], "tool_use");
    assert_eq!(stop["usage"]["output_tokens"], 9);

    let sent = upstream.last_body();
    assert_eq!(
        sent["tool_choice"],
        json!({"type": "function", "function": {"name": "weather"}})
    );
    assert_eq!(
        sent["tools"][0]["function"]["description"],
        "Weather by city"
    );
}

#[tokio::test]
async fn converse_stream_in_the_json_array_format() {
    let upstream = FakeOpenAi::always(Reply::Sse(fake::answer(
        &["One", " two", " three"],
        "stop",
        8,
    )))
    .await;
    let server = awsim_for(&upstream).await;
    let resp = server
        .http()
        .post(server.at(&format!("/model/{HAIKU}/converse-stream")))
        .header("content-type", "application/json")
        .header("authorization", sigv4("us-east-1", "bedrock"))
        .header("x-awsim-stream-format", "json")
        .body(json!({"messages": [{"role": "user", "content": [{"text": "count"}]}]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let events: Vec<Value> = resp.json().await.unwrap();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e.as_object().unwrap().keys().next().unwrap().as_str())
        .collect();
    assert_eq!(
        names,
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata"
        ]
    );
    assert_eq!(events[2]["contentBlockDelta"]["delta"]["text"], " two");
    assert_eq!(events[6]["metadata"]["usage"]["inputTokens"], 8);
    assert_eq!(events[6]["metadata"]["usage"]["outputTokens"], 3);
    assert!(events[6]["metadata"]["metrics"]["latencyMs"].is_u64());
}

#[tokio::test]
async fn a_stop_sequence_the_backend_names_is_reported() {
    let steps = vec![
        fake::role(),
        fake::text("one two"),
        Step::Data(
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "stop_reason": "three"}]}),
        ),
        fake::usage(4, 2),
        Step::Done,
    ];
    let upstream = FakeOpenAi::always(Reply::Sse(steps)).await;
    let server = awsim_for(&upstream).await;
    let out = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("count"))
        .inference_config(
            InferenceConfiguration::builder()
                .stop_sequences("three")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.stop_reason, StopReason::StopSequence);
    assert_eq!(upstream.last_body()["stop"], json!(["three"]));
}

#[tokio::test]
async fn events_framed_any_way_server_sent_events_allow_arrive_token_by_token() {
    let chunk = |t: &str| json!({"choices": [{"index": 0, "delta": {"content": t}}]}).to_string();
    let steps = vec![
        // A keep-alive comment, CRLF line ends, no space after the colon.
        Step::Raw(format!(": ping\r\n\r\ndata:{}\r\n\r\n", chunk("Hel"))),
        // One event cut across two writes, mid-line and between CR and LF.
        Step::Raw(format!("event: message\rdata: {}\r", chunk("lo"))),
        Step::Raw("\n\r\n".into()),
        // Two events in one write, CR-only line ends.
        Step::Raw(format!(
            "data: {}\r\rdata: {}\r\r",
            chunk(","),
            chunk(" you")
        )),
        fake::finish("stop"),
        fake::usage(5, 4),
        Step::Done,
    ];
    let upstream = FakeOpenAi::always(Reply::Sse(steps)).await;
    let server = awsim_for(&upstream).await;
    let s = stream_reply(&server, "hi").await;
    assert_eq!(s.error, None);
    assert_eq!(s.texts, ["Hel", "lo", ",", " you"]);
    assert_eq!(s.stop, Some(StopReason::EndTurn));
    assert_eq!(s.usage, (5, 4));
}
