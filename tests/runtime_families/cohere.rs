//! Cohere Command (legacy `prompt`) and Command R / R+ (`message`, `chat_history`, tools).

use super::{count_tokens, invoke, metrics, metrics_only_last, rejects, stream};
use crate::support;
use serde_json::{json, Value};

const COMMAND: &str = "cohere.command-text-v14";
const COMMAND_R: &str = "cohere.command-r-v1:0";

#[tokio::test]
async fn command_generates_from_a_prompt() {
    let server = support::start().await;
    let b = json!({"prompt": "Write a tagline for a bakery", "max_tokens": 200, "temperature": 0.8, "p": 0.9, "k": 0});
    let out = invoke(&server, COMMAND, &b).await;
    let generation = &out["generations"][0];
    assert!(generation["text"]
        .as_str()
        .unwrap()
        .contains("Write a tagline for a bakery"));
    assert_eq!(generation["finish_reason"], "COMPLETE");
    assert_eq!(generation["id"].as_str().unwrap().len(), 36);
    assert_eq!(out["prompt"], "Write a tagline for a bakery");
    let chunks = stream(&server, "cohere.command-light-text-v14", &b).await;
    metrics_only_last(&chunks);
    let (last, text_chunks) = chunks.split_last().unwrap();
    assert!(text_chunks.iter().all(|c| c["is_finished"] == false));
    let text: String = text_chunks
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    assert!(text.contains("Write a tagline for a bakery"));
    assert_eq!(last["is_finished"], true);
    assert_eq!(last["finish_reason"], "COMPLETE");
    assert_eq!(last["response"]["generations"][0]["text"], text);
    let (input, output) = metrics(last);
    assert_eq!(output as usize, text_chunks.len());
    assert_eq!(input as i32, count_tokens(&server, COMMAND, &b).await);
}

#[tokio::test]
async fn command_stops_with_max_tokens() {
    let server = support::start().await;
    let out = invoke(&server, COMMAND, &json!({"prompt": "hi", "max_tokens": 2})).await;
    assert_eq!(out["generations"][0]["finish_reason"], "MAX_TOKENS");
}

#[tokio::test]
async fn command_r_chats_with_history_and_preamble() {
    let server = support::start().await;
    let b = json!({
        "message": "And what about Paris?",
        "chat_history": [{"role": "USER", "message": "What is the capital of Italy?"}, {"role": "CHATBOT", "message": "Rome."}],
        "preamble": "You answer geography questions.",
        "max_tokens": 300,
        "p": 0.75,
        "k": 10,
    });
    let out = invoke(&server, COMMAND_R, &b).await;
    assert!(out["text"]
        .as_str()
        .unwrap()
        .contains("And what about Paris?"));
    assert_eq!(out["finish_reason"], "COMPLETE");
    let history = out["chat_history"].as_array().unwrap();
    assert_eq!(history.len(), 4);
    assert_eq!(
        history[2],
        json!({"role": "USER", "message": "And what about Paris?"})
    );
    assert_eq!(history[3]["role"], "CHATBOT");
    assert_eq!(
        out["meta"]["billed_units"]["input_tokens"],
        count_tokens(&server, COMMAND_R, &b).await
    );
}

#[tokio::test]
async fn command_r_streams_text_generation_events_and_a_stream_end() {
    let server = support::start().await;
    let b = json!({"message": "Tell me about Amazon SQS"});
    let chunks = stream(&server, "cohere.command-r-plus-v1:0", &b).await;
    metrics_only_last(&chunks);
    let events: Vec<&str> = chunks
        .iter()
        .map(|c| c["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(events[0], "stream-start");
    assert_eq!(*events.last().unwrap(), "stream-end");
    let text_events: Vec<&Value> = chunks
        .iter()
        .filter(|c| c["event_type"] == "text-generation")
        .collect();
    assert_eq!(text_events.len(), events.len() - 2);
    let text: String = text_events
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    let end = chunks.last().unwrap();
    assert_eq!(end["is_finished"], true);
    assert_eq!(end["finish_reason"], "COMPLETE");
    assert_eq!(end["response"]["text"], text);
    assert_eq!(end["response"]["generation_id"], chunks[0]["generation_id"]);
    assert_eq!(metrics(end).1 as usize, text_events.len());
}

#[tokio::test]
async fn command_r_tool_calls_stream_as_chunks_then_a_generation() {
    let server = support::start().await;
    let b = json!({
        "message": "Use get_weather for Seattle",
        "tools": [{"name": "get_weather", "description": "Weather by city", "parameter_definitions": {"city": {"description": "The city", "type": "str", "required": true}}}],
    });
    let chunks = stream(&server, COMMAND_R, &b).await;
    let deltas: Vec<&Value> = chunks
        .iter()
        .filter(|c| c["event_type"] == "tool-calls-chunk")
        .map(|c| &c["tool_call_delta"])
        .collect();
    assert_eq!(deltas[0], &json!({"index": 0, "name": "get_weather"}));
    let parameters: String = deltas[1..]
        .iter()
        .map(|d| d["parameters"].as_str().unwrap())
        .collect();
    assert!(deltas.len() > 2);
    assert_eq!(
        serde_json::from_str::<Value>(&parameters).unwrap(),
        json!({"city": "Seattle"})
    );
    let generation = chunks
        .iter()
        .find(|c| c["event_type"] == "tool-calls-generation")
        .unwrap();
    assert_eq!(
        generation["tool_calls"],
        json!([{"name": "get_weather", "parameters": {"city": "Seattle"}}])
    );

    let out = invoke(&server, COMMAND_R, &b).await;
    assert_eq!(
        out["tool_calls"],
        json!([{"name": "get_weather", "parameters": {"city": "Seattle"}}])
    );

    let answer = invoke(&server, COMMAND_R, &json!({
        "message": "",
        "tools": b["tools"],
        "chat_history": [{"role": "USER", "message": "Use get_weather for Seattle"}],
        "tool_results": [{"call": {"name": "get_weather", "parameters": {"city": "Seattle"}}, "outputs": [{"forecast": "rain, 12C"}]}],
    })).await;
    assert!(
        answer["text"].as_str().unwrap().contains("rain, 12C"),
        "{answer}"
    );
}

#[tokio::test]
async fn malformed_cohere_bodies_are_validation_errors() {
    let server = support::start().await;
    rejects(
        &server,
        COMMAND,
        json!({"max_tokens": 5}),
        "required key [prompt] not found",
    )
    .await;
    rejects(
        &server,
        COMMAND,
        json!({"prompt": "x", "truncate": "MIDDLE"}),
        "#/truncate",
    )
    .await;
    rejects(
        &server,
        COMMAND,
        json!({"prompt": "x", "messages": []}),
        "extraneous key [messages]",
    )
    .await;
    rejects(
        &server,
        COMMAND_R,
        json!({"chat_history": []}),
        "required key [message] not found",
    )
    .await;
    rejects(
        &server,
        COMMAND_R,
        json!({"message": "x", "stream": true}),
        "extraneous key [stream]",
    )
    .await;
    rejects(
        &server,
        COMMAND_R,
        json!({"message": "x", "chat_history": [{"role": "ASSISTANT", "message": "y"}]}),
        "#/chat_history/0/role",
    )
    .await;
    rejects(
        &server,
        COMMAND_R,
        json!({"message": "x", "temperature": "hot"}),
        "'temperature' must be a number",
    )
    .await;
}
