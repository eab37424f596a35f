//! InvokeModel and InvokeModelWithResponseStream for every model family, through the AWS SDK for
//! Rust: the body in the family's own format, the stream consumed with the SDK's event-stream
//! parser (`ResponseStream::Chunk`), each chunk's model-native JSON read back.

mod anthropic_text;
mod cohere;
mod llama;
mod mistral;
mod nova;
mod openai_style;

use crate::support::Server;
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::ResponseStream;
use serde_json::Value;

/// The InvokeModel response body as JSON.
pub async fn invoke(server: &Server, model: &str, body: &Value) -> Value {
    let out = server
        .runtime()
        .invoke_model()
        .model_id(model)
        .body(Blob::new(body.to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.content_type(), "application/json");
    serde_json::from_slice(out.body().as_ref()).unwrap()
}

/// Every chunk of an InvokeModelWithResponseStream, each decoded from its `bytes`.
pub async fn stream(server: &Server, model: &str, body: &Value) -> Vec<Value> {
    let mut out = server
        .runtime()
        .invoke_model_with_response_stream()
        .model_id(model)
        .body(Blob::new(body.to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.content_type(), "application/json");
    let mut chunks = Vec::new();
    while let Some(event) = out.body.recv().await.unwrap() {
        match event {
            ResponseStream::Chunk(part) => {
                chunks.push(serde_json::from_slice(part.bytes().unwrap().as_ref()).unwrap())
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    chunks
}

/// The error of an InvokeModel that must fail before streaming: (code, message).
pub async fn invoke_error(server: &Server, model: &str, body: &Value) -> (String, String) {
    let err = server
        .runtime()
        .invoke_model()
        .model_id(model)
        .body(Blob::new(body.to_string()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    (
        err.code().unwrap_or_default().to_string(),
        err.message().unwrap_or_default().to_string(),
    )
}

/// The same for InvokeModelWithResponseStream.
pub async fn stream_error(server: &Server, model: &str, body: &Value) -> (String, String) {
    let err = server
        .runtime()
        .invoke_model_with_response_stream()
        .model_id(model)
        .body(Blob::new(body.to_string()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    (
        err.code().unwrap_or_default().to_string(),
        err.message().unwrap_or_default().to_string(),
    )
}

/// Asserts a ValidationException whose message names `field`, on both operations.
pub async fn rejects(server: &Server, model: &str, body: Value, field: &str) {
    for (code, message) in [
        invoke_error(server, model, &body).await,
        stream_error(server, model, &body).await,
    ] {
        assert_eq!(code, "ValidationException", "{message}");
        assert!(message.contains(field), "{field} not named in: {message}");
    }
}

/// `amazon-bedrock-invocationMetrics` of the last chunk: (input, output) token counts, after
/// checking it carries exactly Bedrock's four integer fields.
pub fn metrics(last: &Value) -> (u64, u64) {
    let m = last["amazon-bedrock-invocationMetrics"]
        .as_object()
        .unwrap_or_else(|| panic!("no metrics in {last}"));
    let mut keys: Vec<&str> = m.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "firstByteLatency",
            "inputTokenCount",
            "invocationLatency",
            "outputTokenCount"
        ]
    );
    assert!(m.values().all(Value::is_u64));
    (
        m["inputTokenCount"].as_u64().unwrap(),
        m["outputTokenCount"].as_u64().unwrap(),
    )
}

/// Only the last chunk carries the metrics.
pub fn metrics_only_last(chunks: &[Value]) {
    let (last, rest) = chunks.split_last().unwrap();
    assert!(last.get("amazon-bedrock-invocationMetrics").is_some());
    assert!(rest
        .iter()
        .all(|c| c.get("amazon-bedrock-invocationMetrics").is_none()));
}

/// The input tokens CountTokens reports for an InvokeModel body.
pub async fn count_tokens(server: &Server, model: &str, body: &Value) -> i32 {
    use aws_sdk_bedrockruntime::types::{CountTokensInput, InvokeModelTokensRequest};
    server
        .runtime()
        .count_tokens()
        .model_id(model)
        .input(CountTokensInput::InvokeModel(
            InvokeModelTokensRequest::builder()
                .body(Blob::new(body.to_string()))
                .build()
                .unwrap(),
        ))
        .send()
        .await
        .unwrap()
        .input_tokens
}

/// A weather tool's JSON Schema, shared by the tool-use tests.
pub fn weather_schema() -> Value {
    serde_json::json!({
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    })
}
