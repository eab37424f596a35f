//! Mistral AI (`mistral.*`): the text-completion body (`outputs`) and the chat body (`choices`).

use super::{count_tokens, invoke, metrics, metrics_only_last, rejects, stream, weather_schema};
use crate::support;
use serde_json::{json, Value};

const MISTRAL_7B: &str = "mistral.mistral-7b-instruct-v0:2";
const MISTRAL_LARGE: &str = "mistral.mistral-large-2407-v1:0";

fn text_body(question: &str) -> Value {
    json!({"prompt": format!("<s>[INST] {question} [/INST]"), "max_tokens": 400, "temperature": 0.5, "top_p": 0.9, "top_k": 50})
}

fn chat_body(question: &str) -> Value {
    json!({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": question}], "max_tokens": 400})
}

#[tokio::test]
async fn mistral_text_completion_answers_with_outputs() {
    let server = support::start().await;
    let out = invoke(&server, MISTRAL_7B, &text_body("What is EC2?")).await;
    let output = &out["outputs"][0];
    assert!(output["text"].as_str().unwrap().contains("What is EC2?"));
    assert_eq!(output["stop_reason"], "stop");
    let chunks = stream(&server, MISTRAL_7B, &text_body("What is EC2?")).await;
    metrics_only_last(&chunks);
    let text: String = chunks
        .iter()
        .map(|c| c["outputs"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, output["text"].as_str().unwrap());
    let (last, text_chunks) = chunks.split_last().unwrap();
    assert!(text_chunks
        .iter()
        .all(|c| c["outputs"][0]["stop_reason"].is_null()));
    assert_eq!(last["outputs"][0]["stop_reason"], "stop");
    let (input, output_tokens) = metrics(last);
    assert_eq!(output_tokens as usize, text_chunks.len());
    assert_eq!(
        input as i32,
        count_tokens(&server, MISTRAL_7B, &text_body("What is EC2?")).await
    );
}

#[tokio::test]
async fn mistral_text_completion_stops_with_length_at_max_tokens() {
    let server = support::start().await;
    let mut b = text_body("hi");
    b["max_tokens"] = json!(3);
    let out = invoke(&server, "mistral.mixtral-8x7b-instruct-v0:1", &b).await;
    assert_eq!(out["outputs"][0]["stop_reason"], "length");
}

#[tokio::test]
async fn mistral_chat_answers_with_choices_and_streams_message_chunks() {
    let server = support::start().await;
    let out = invoke(&server, MISTRAL_LARGE, &chat_body("Which llm are you?")).await;
    let choice = &out["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert!(choice["message"]["content"]
        .as_str()
        .unwrap()
        .contains("Which llm are you?"));
    assert_eq!(choice["stop_reason"], "stop");
    let chunks = stream(&server, MISTRAL_LARGE, &chat_body("Which llm are you?")).await;
    metrics_only_last(&chunks);
    let text: String = chunks
        .iter()
        .map(|c| c["choices"][0]["message"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(text, choice["message"]["content"].as_str().unwrap());
    assert_eq!(chunks[0]["choices"][0]["message"]["role"], "assistant");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["stop_reason"], "stop");
    assert_eq!(metrics(last).1 as usize, chunks.len() - 1);
}

#[tokio::test]
async fn mistral_chat_tool_calls_stream_fragment_by_fragment() {
    let server = support::start().await;
    let mut b = chat_body("What is the weather in Paris?");
    b["tools"] = json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": weather_schema()}}]);
    b["tool_choice"] = json!("any");
    let chunks = stream(&server, "mistral.pixtral-large-2502-v1:0", &b).await;
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["message"]["tool_calls"].get(0))
        .collect();
    assert!(calls.len() > 2, "a start and several argument fragments");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(calls[0]["id"].as_str().unwrap().len(), 9);
    let arguments: String = calls
        .iter()
        .map(|c| c["function"]["arguments"].as_str().unwrap())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).unwrap(),
        json!({"city": "Seattle"})
    );
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["stop_reason"],
        "tool_calls"
    );

    let out = invoke(&server, MISTRAL_LARGE, &b).await;
    let call = &out["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    let input: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(input, json!({"city": "Seattle"}));
    assert_eq!(out["choices"][0]["stop_reason"], "tool_calls");
}

#[tokio::test]
async fn a_mistral_tool_reply_gets_a_text_answer() {
    let server = support::start().await;
    let b = json!({
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "abcdefghi", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "abcdefghi", "content": "18 degrees and sunny"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": weather_schema()}}]
    });
    let out = invoke(&server, MISTRAL_LARGE, &b).await;
    assert!(out["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .contains("18 degrees and sunny"));
    assert_eq!(out["choices"][0]["stop_reason"], "stop");
}

#[tokio::test]
async fn malformed_mistral_bodies_are_validation_errors() {
    let server = support::start().await;
    rejects(
        &server,
        MISTRAL_7B,
        json!({"prompt": "hi", "top_k": 500}),
        "'top_k'",
    )
    .await;
    rejects(
        &server,
        MISTRAL_7B,
        json!({"prompt": "hi", "max_gen_len": 5}),
        "extraneous key [max_gen_len]",
    )
    .await;
    rejects(
        &server,
        MISTRAL_LARGE,
        json!({"messages": [{"role": "robot", "content": "hi"}]}),
        "#/messages/0/role",
    )
    .await;
    rejects(
        &server,
        MISTRAL_LARGE,
        json!({"messages": [{"role": "user", "content": "hi"}], "tool_choice": "required"}),
        "#/tool_choice",
    )
    .await;
    rejects(
        &server,
        MISTRAL_LARGE,
        json!({"messages": [{"role": "user", "content": "hi"}], "model": "mistral-large"}),
        "extraneous key [model]",
    )
    .await;
    rejects(
        &server,
        MISTRAL_LARGE,
        json!({"max_tokens": 5}),
        "required key [messages] not found",
    )
    .await;
}
