//! Meta Llama (`meta.llama*`): `prompt` + `max_gen_len`, `generation` chunks.

use super::{count_tokens, invoke, metrics, metrics_only_last, rejects, stream};
use crate::support;
use serde_json::{json, Value};

const LLAMA: &str = "meta.llama3-1-8b-instruct-v1:0";

fn body(question: &str) -> Value {
    json!({
        "prompt": format!("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n{question}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
        "max_gen_len": 512,
        "temperature": 0.5,
        "top_p": 0.9,
    })
}

#[tokio::test]
async fn llama_answers_with_generation_and_token_counts() {
    let server = support::start().await;
    let out = invoke(&server, LLAMA, &body("What is AWS Lambda?")).await;
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "generation",
            "prompt_token_count",
            "generation_token_count",
            "stop_reason"
        ]
    );
    let text = out["generation"].as_str().unwrap();
    assert!(
        text.contains("What is AWS Lambda?"),
        "the template is read: {text}"
    );
    assert!(!text.contains("<|"), "{text}");
    assert_eq!(out["stop_reason"], "stop");
    assert_eq!(
        out["prompt_token_count"],
        count_tokens(&server, LLAMA, &body("What is AWS Lambda?")).await
    );
}

#[tokio::test]
async fn llama_streams_generations_with_the_prompt_count_only_first() {
    let server = support::start().await;
    let whole = invoke(&server, LLAMA, &body("Explain DynamoDB")).await;
    let chunks = stream(&server, LLAMA, &body("Explain DynamoDB")).await;
    metrics_only_last(&chunks);
    let (last, text_chunks) = chunks.split_last().unwrap();
    assert_eq!(
        text_chunks[0]["prompt_token_count"],
        whole["prompt_token_count"]
    );
    assert!(chunks[1..]
        .iter()
        .all(|c| c["prompt_token_count"].is_null()));
    for (i, c) in text_chunks.iter().enumerate() {
        assert_eq!(c["generation_token_count"], i + 1, "a running count");
        assert!(c["stop_reason"].is_null());
    }
    let text: String = chunks
        .iter()
        .map(|c| c["generation"].as_str().unwrap())
        .collect();
    assert_eq!(text, whole["generation"].as_str().unwrap());
    assert_eq!(last["stop_reason"], "stop");
    let (input, output) = metrics(last);
    assert_eq!(output, whole["generation_token_count"].as_u64().unwrap());
    assert_eq!(input, whole["prompt_token_count"].as_u64().unwrap());
}

#[tokio::test]
async fn max_gen_len_stops_with_length() {
    let server = support::start().await;
    let mut b = body("hi");
    b["max_gen_len"] = json!(5);
    let chunks = stream(&server, "meta.llama3-70b-instruct-v1:0", &b).await;
    assert_eq!(chunks.last().unwrap()["stop_reason"], "length");
    assert_eq!(chunks.last().unwrap()["generation_token_count"], 5);
}

#[tokio::test]
async fn llama_vision_accepts_images() {
    let server = support::start().await;
    let mut b = body("What is in this image?");
    b["images"] = json!(["iVBORw0KGgoAAAANSUhEUg=="]);
    let with_image = invoke(&server, "meta.llama3-2-11b-instruct-v1:0", &b).await;
    let without = invoke(
        &server,
        "meta.llama3-2-11b-instruct-v1:0",
        &body("What is in this image?"),
    )
    .await;
    assert!(with_image["prompt_token_count"].as_u64() > without["prompt_token_count"].as_u64());
}

#[tokio::test]
async fn malformed_llama_bodies_are_validation_errors() {
    let server = support::start().await;
    rejects(
        &server,
        LLAMA,
        json!({"max_gen_len": 10}),
        "required key [prompt] not found",
    )
    .await;
    rejects(
        &server,
        LLAMA,
        json!({"prompt": "hi", "max_tokens": 10}),
        "extraneous key [max_tokens]",
    )
    .await;
    rejects(
        &server,
        LLAMA,
        json!({"prompt": "hi", "max_gen_len": 0}),
        "'max_gen_len'",
    )
    .await;
    rejects(
        &server,
        LLAMA,
        json!({"prompt": "hi", "top_p": 1.5}),
        "'top_p'",
    )
    .await;
    rejects(
        &server,
        LLAMA,
        json!({"prompt": ["hi"]}),
        "'prompt' must be a string",
    )
    .await;
}
