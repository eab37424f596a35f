//! Claude Text Completions (`anthropic.claude-v2`, `-v2:1`, `claude-instant-v1`).

use super::{count_tokens, invoke, metrics, metrics_only_last, rejects, stream};
use crate::support;
use serde_json::json;

const CLAUDE_V2: &str = "anthropic.claude-v2:1";

fn body(question: &str) -> serde_json::Value {
    json!({
        "prompt": format!("\n\nHuman: {question}\n\nAssistant:"),
        "max_tokens_to_sample": 300,
        "temperature": 0.5,
    })
}

#[tokio::test]
async fn claude_v2_completes_a_human_assistant_prompt() {
    let server = support::start().await;
    let out = invoke(&server, CLAUDE_V2, &body("What is Amazon S3?")).await;
    assert_eq!(out["type"], "completion");
    assert!(
        out["completion"]
            .as_str()
            .unwrap()
            .contains("What is Amazon S3?"),
        "{out}"
    );
    assert_eq!(out["stop_reason"], "stop_sequence");
    assert_eq!(out["stop"], "\n\nHuman:");
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["type", "completion", "stop_reason", "stop"]);
}

#[tokio::test]
async fn claude_v2_streams_completion_chunks_and_ends_with_the_stop_and_metrics() {
    let server = support::start().await;
    let whole = invoke(&server, CLAUDE_V2, &body("Tell me about Lambda")).await;
    let chunks = stream(&server, CLAUDE_V2, &body("Tell me about Lambda")).await;
    metrics_only_last(&chunks);
    let (last, text_chunks) = chunks.split_last().unwrap();
    assert!(text_chunks.len() > 20, "one chunk per token");
    assert!(text_chunks
        .iter()
        .all(|c| c["stop_reason"].is_null() && c["stop"].is_null()));
    let text: String = chunks
        .iter()
        .map(|c| c["completion"].as_str().unwrap())
        .collect();
    assert_eq!(text, whole["completion"].as_str().unwrap());
    assert_eq!(last["stop_reason"], "stop_sequence");
    assert_eq!(last["stop"], "\n\nHuman:");
    let (input, output) = metrics(last);
    assert_eq!(output as usize, text_chunks.len());
    assert_eq!(
        input as i32,
        count_tokens(&server, CLAUDE_V2, &body("Tell me about Lambda")).await
    );
}

#[tokio::test]
async fn max_tokens_to_sample_and_stop_sequences_end_the_completion() {
    let server = support::start().await;
    let mut b = body("hi");
    b["max_tokens_to_sample"] = json!(3);
    let chunks = stream(&server, "anthropic.claude-instant-v1", &b).await;
    assert_eq!(chunks.len(), 4);
    assert_eq!(chunks[3]["stop_reason"], "max_tokens");
    assert!(chunks[3]["stop"].is_null());
    let mut b = body("hi");
    b["stop_sequences"] = json!(["canned"]);
    let out = invoke(&server, "anthropic.claude-v2", &b).await;
    assert_eq!(out["stop_reason"], "stop_sequence");
    assert_eq!(out["stop"], "canned");
}

#[tokio::test]
async fn malformed_text_completion_bodies_are_validation_errors() {
    let server = support::start().await;
    rejects(
        &server,
        CLAUDE_V2,
        json!({"prompt": "\n\nHuman: hi\n\nAssistant:"}),
        "required key [max_tokens_to_sample] not found",
    )
    .await;
    rejects(
        &server,
        CLAUDE_V2,
        json!({"prompt": "hi", "max_tokens_to_sample": 5}),
        "prompt must start with \"\n\nHuman:\" turn",
    )
    .await;
    rejects(
        &server,
        CLAUDE_V2,
        json!({"prompt": "\n\nHuman: hi", "max_tokens_to_sample": 5}),
        "prompt must end with \"\n\nAssistant:\" turn",
    )
    .await;
    rejects(
        &server,
        CLAUDE_V2,
        json!({"prompt": "\n\nHuman: hi\n\nAssistant:", "max_tokens_to_sample": 5, "messages": []}),
        "extraneous key [messages]",
    )
    .await;
    rejects(&server, CLAUDE_V2, json!({"prompt": "\n\nHuman: hi\n\nAssistant:", "max_tokens_to_sample": 5, "temperature": 2}), "'temperature'").await;
    rejects(
        &server,
        CLAUDE_V2,
        json!({"prompt": 42, "max_tokens_to_sample": 5}),
        "'prompt' must be a string",
    )
    .await;
}
