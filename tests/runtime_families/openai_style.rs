//! OpenAI-style chat bodies (AI21 Jamba, DeepSeek, OpenAI gpt-oss, Qwen) and DeepSeek R1's
//! `prompt` form.

use super::{count_tokens, invoke, metrics, metrics_only_last, rejects, stream, weather_schema};
use crate::support;
use serde_json::{json, Value};

const GPT_OSS: &str = "openai.gpt-oss-20b-1:0";
const JAMBA: &str = "ai21.jamba-1-5-mini-v1:0";
const DEEPSEEK_R1: &str = "deepseek.r1-v1:0";

fn body(question: &str) -> Value {
    json!({
        "messages": [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": question}],
        "max_tokens": 500,
        "temperature": 0.7,
        "top_p": 0.9,
    })
}

#[tokio::test]
async fn chat_completion_bodies_answer_with_a_chat_completion() {
    let server = support::start().await;
    for model in [GPT_OSS, JAMBA, "deepseek.v3-v1:0", "qwen.qwen3-32b-v1:0"] {
        let out = invoke(&server, model, &body("What is Amazon Bedrock?")).await;
        assert_eq!(out["object"], "chat.completion", "{model}");
        assert!(out["id"].as_str().unwrap().starts_with("chatcmpl-"));
        assert_eq!(out["model"], model);
        assert!(out["created"].is_u64());
        let choice = &out["choices"][0];
        assert_eq!(choice["message"]["role"], "assistant");
        assert!(choice["message"]["content"]
            .as_str()
            .unwrap()
            .contains("What is Amazon Bedrock?"));
        assert_eq!(choice["finish_reason"], "stop");
        let u = &out["usage"];
        assert_eq!(
            u["total_tokens"],
            u["prompt_tokens"].as_u64().unwrap() + u["completion_tokens"].as_u64().unwrap()
        );
        assert_eq!(
            u["prompt_tokens"],
            count_tokens(&server, model, &body("What is Amazon Bedrock?")).await
        );
    }
}

#[tokio::test]
async fn chat_completion_chunks_open_with_the_role_and_end_with_usage_and_metrics() {
    let server = support::start().await;
    let whole = invoke(&server, JAMBA, &body("Explain IAM")).await;
    let chunks = stream(&server, JAMBA, &body("Explain IAM")).await;
    metrics_only_last(&chunks);
    assert!(chunks
        .iter()
        .all(|c| c["object"] == "chat.completion.chunk" && c["id"] == chunks[0]["id"]));
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(
        text,
        whole["choices"][0]["message"]["content"].as_str().unwrap()
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["choices"][0]["delta"], json!({}));
    assert_eq!(last["usage"], whole["usage"]);
    let (input, output) = metrics(last);
    assert_eq!(
        (input, output),
        (
            whole["usage"]["prompt_tokens"].as_u64().unwrap(),
            whole["usage"]["completion_tokens"].as_u64().unwrap()
        )
    );
    assert_eq!(output as usize, chunks.len() - 2);
}

#[tokio::test]
async fn reasoning_effort_streams_reasoning_content_before_the_answer() {
    let server = support::start().await;
    let mut b = body("Why is the sky blue?");
    b["reasoning_effort"] = json!("low");
    let chunks = stream(&server, GPT_OSS, &b).await;
    let kinds: Vec<&str> = chunks[1..chunks.len() - 1]
        .iter()
        .map(|c| {
            c["choices"][0]["delta"]
                .as_object()
                .unwrap()
                .keys()
                .next()
                .unwrap()
                .as_str()
        })
        .collect();
    let first_content = kinds.iter().position(|k| *k == "content").unwrap();
    assert!(first_content > 0);
    assert!(kinds[..first_content]
        .iter()
        .all(|k| *k == "reasoning_content"));
    let out = invoke(&server, GPT_OSS, &b).await;
    assert!(out["choices"][0]["message"]["reasoning_content"]
        .as_str()
        .unwrap()
        .contains("Why is the sky blue?"));
}

#[tokio::test]
async fn chat_completion_tool_calls_stream_as_argument_fragments() {
    let server = support::start().await;
    let mut b = body("What's the weather in Seattle?");
    b["tools"] = json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": weather_schema()}}]);
    b["tool_choice"] = json!("required");
    let chunks = stream(&server, GPT_OSS, &b).await;
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(calls[0]["type"], "function");
    assert!(calls[0]["id"].as_str().unwrap().starts_with("call_"));
    assert!(calls.iter().all(|c| c["index"] == 0));
    assert!(calls.len() > 2);
    let arguments: String = calls
        .iter()
        .map(|c| c["function"]["arguments"].as_str().unwrap())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).unwrap(),
        json!({"city": "Seattle"})
    );
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );

    let out = invoke(&server, "openai.gpt-oss-120b-1:0", &b).await;
    let message = &out["choices"][0]["message"];
    assert!(message["content"].is_null());
    assert_eq!(
        message["tool_calls"][0]["function"]["arguments"],
        "{\"city\":\"Seattle\"}"
    );
    assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");

    let reply = json!({"messages": [
        {"role": "user", "content": "What's the weather in Seattle?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Seattle\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "drizzle, 11C"}
    ], "tools": b["tools"]});
    let answer = invoke(&server, GPT_OSS, &reply).await;
    assert!(answer["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .contains("drizzle, 11C"));
}

#[tokio::test]
async fn deepseek_r1_prompt_bodies_answer_with_text_choices() {
    let server = support::start().await;
    let b = json!({"prompt": "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜>", "max_tokens": 300, "temperature": 0.5});
    let out = invoke(&server, DEEPSEEK_R1, &b).await;
    assert!(out["choices"][0]["text"]
        .as_str()
        .unwrap()
        .contains("What is 2+2?"));
    assert_eq!(out["choices"][0]["stop_reason"], "stop");
    let chunks = stream(&server, DEEPSEEK_R1, &b).await;
    metrics_only_last(&chunks);
    let text: String = chunks
        .iter()
        .map(|c| c["choices"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, out["choices"][0]["text"].as_str().unwrap());
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["stop_reason"], "stop");
    assert_eq!(metrics(last).1 as usize, chunks.len() - 1);
    let mut short = b.clone();
    short["max_tokens"] = json!(2);
    assert_eq!(
        invoke(&server, DEEPSEEK_R1, &short).await["choices"][0]["stop_reason"],
        "length"
    );
}

#[tokio::test]
async fn malformed_chat_completion_bodies_are_validation_errors() {
    let server = support::start().await;
    rejects(
        &server,
        GPT_OSS,
        json!({"max_tokens": 5}),
        "required key [messages] not found",
    )
    .await;
    rejects(&server, GPT_OSS, json!({"messages": []}), "#/messages").await;
    rejects(
        &server,
        GPT_OSS,
        json!({"messages": [{"role": "user", "content": "x"}], "temperature": 2.5}),
        "'temperature'",
    )
    .await;
    rejects(
        &server,
        GPT_OSS,
        json!({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}),
        "'max_tokens'",
    )
    .await;
    rejects(
        &server,
        GPT_OSS,
        json!({"messages": [{"role": "user", "content": "x"}], "tool_choice": "sometimes"}),
        "#/tool_choice",
    )
    .await;
    rejects(
        &server,
        JAMBA,
        json!({"messages": [{"role": "narrator", "content": "x"}]}),
        "#/messages/0/role",
    )
    .await;
    rejects(
        &server,
        DEEPSEEK_R1,
        json!({"prompt": "x", "top_k": 5}),
        "extraneous key [top_k]",
    )
    .await;
}
