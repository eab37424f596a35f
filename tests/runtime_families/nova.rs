//! Amazon Nova (`amazon.nova-*`, `messages-v1`): Converse-like chunks on the invoke stream.

use super::{count_tokens, invoke, metrics, metrics_only_last, rejects, stream, weather_schema};
use crate::support;
use serde_json::{json, Value};

const NOVA_LITE: &str = "amazon.nova-lite-v1:0";

fn body(question: &str) -> Value {
    json!({
        "schemaVersion": "messages-v1",
        "system": [{"text": "You are concise."}],
        "messages": [{"role": "user", "content": [{"text": question}]}],
        "inferenceConfig": {"max_new_tokens": 500, "temperature": 0.7, "topP": 0.9, "topK": 20},
    })
}

/// The first member name of each chunk (`messageStart`, `contentBlockDelta` …).
fn names(chunks: &[Value]) -> Vec<&str> {
    chunks
        .iter()
        .map(|c| c.as_object().unwrap().keys().next().unwrap().as_str())
        .collect()
}

#[tokio::test]
async fn nova_answers_with_an_output_message_stop_reason_and_usage() {
    let server = support::start().await;
    let out = invoke(&server, NOVA_LITE, &body("What is Amazon Bedrock?")).await;
    let message = &out["output"]["message"];
    assert_eq!(message["role"], "assistant");
    assert!(message["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("What is Amazon Bedrock?"));
    assert_eq!(out["stopReason"], "end_turn");
    let u = &out["usage"];
    assert_eq!(
        u["totalTokens"],
        u["inputTokens"].as_u64().unwrap() + u["outputTokens"].as_u64().unwrap()
    );
    assert_eq!(u["cacheReadInputTokenCount"], 0);
    assert_eq!(u["cacheWriteInputTokenCount"], 0);
    assert_eq!(
        u["inputTokens"],
        count_tokens(&server, NOVA_LITE, &body("What is Amazon Bedrock?")).await
    );
}

#[tokio::test]
async fn nova_streams_converse_events_as_chunks_with_metadata_and_metrics_last() {
    let server = support::start().await;
    let chunks = stream(&server, "us.amazon.nova-pro-v1:0", &body("Explain S3")).await;
    metrics_only_last(&chunks);
    let n = names(&chunks);
    assert_eq!(n[0], "messageStart");
    assert_eq!(
        &n[n.len() - 3..],
        ["contentBlockStop", "messageStop", "metadata"]
    );
    assert!(
        !n.contains(&"contentBlockStart"),
        "text blocks have no start"
    );
    let deltas: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c.get("contentBlockDelta"))
        .collect();
    assert!(deltas.len() > 20);
    assert!(deltas.iter().all(|d| d["contentBlockIndex"] == 0));
    let text: String = deltas
        .iter()
        .map(|d| d["delta"]["text"].as_str().unwrap())
        .collect();
    assert!(text.contains("Explain S3"), "{text}");
    assert_eq!(chunks[n.len() - 2]["messageStop"]["stopReason"], "end_turn");
    let last = chunks.last().unwrap();
    let (input, output) = metrics(last);
    assert_eq!(last["metadata"]["usage"]["outputTokens"], output);
    assert_eq!(last["metadata"]["usage"]["inputTokens"], input);
    assert_eq!(output as usize, deltas.len());
    assert_eq!(last["metadata"]["metrics"], json!({}));
}

#[tokio::test]
async fn nova_tool_use_streams_input_fragments_that_reassemble_into_json() {
    let server = support::start().await;
    let mut b = body("What is the weather in Seattle?");
    b["toolConfig"] = json!({
        "tools": [{"toolSpec": {"name": "get_weather", "description": "Weather by city", "inputSchema": {"json": weather_schema()}}}],
        "toolChoice": {"tool": {"name": "get_weather"}},
    });
    let chunks = stream(&server, NOVA_LITE, &b).await;
    let start = chunks
        .iter()
        .find_map(|c| c.get("contentBlockStart"))
        .unwrap();
    assert_eq!(start["start"]["toolUse"]["name"], "get_weather");
    assert!(start["start"]["toolUse"]["toolUseId"]
        .as_str()
        .unwrap()
        .starts_with("tooluse_"));
    let fragments: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["contentBlockDelta"]["delta"]["toolUse"]["input"].as_str())
        .collect();
    assert!(fragments.len() > 1, "streamed fragment by fragment");
    let input: Value = serde_json::from_str(&fragments.concat()).unwrap();
    assert_eq!(input, json!({"city": "Seattle"}));
    let stop = chunks.iter().find_map(|c| c.get("messageStop")).unwrap();
    assert_eq!(stop["stopReason"], "tool_use");

    let out = invoke(&server, NOVA_LITE, &b).await;
    assert_eq!(out["stopReason"], "tool_use");
    let tool = out["output"]["message"]["content"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| c.get("toolUse"))
        .unwrap();
    assert_eq!(tool["input"], json!({"city": "Seattle"}));
}

#[tokio::test]
async fn max_new_tokens_cuts_the_answer() {
    let server = support::start().await;
    let mut b = body("hi");
    b["inferenceConfig"] = json!({"max_new_tokens": 4});
    let out = invoke(&server, NOVA_LITE, &b).await;
    assert_eq!(out["stopReason"], "max_tokens");
    assert_eq!(out["usage"]["outputTokens"], 4);
}

#[tokio::test]
async fn malformed_nova_bodies_are_validation_errors() {
    let server = support::start().await;
    rejects(
        &server,
        NOVA_LITE,
        json!({"schemaVersion": "messages-v1"}),
        "[messages]",
    )
    .await;
    rejects(
        &server,
        NOVA_LITE,
        json!({"messages": [{"role": "user", "content": [{"text": "x"}]}], "max_tokens": 5}),
        "extraneous key [max_tokens]",
    )
    .await;
    rejects(&server, NOVA_LITE, json!({"messages": [{"role": "user", "content": [{"text": "x"}]}], "inferenceConfig": {"temperature": 3}}), "inferenceConfig.temperature").await;
    rejects(
        &server,
        NOVA_LITE,
        json!({"messages": [{"role": "assistant", "content": [{"text": "x"}]}]}),
        "start with a user message",
    )
    .await;
    rejects(
        &server,
        NOVA_LITE,
        json!({"schemaVersion": "messages-v2", "messages": []}),
        "schemaVersion",
    )
    .await;
}
