//! The invocation log through the AWS SDK for Rust: every runtime call appears in
//! `GET /_awsim/invocations` with what it asked and what the client got, newest first; the
//! per-request view lists every emitted frame with its time offset.

use crate::runtime_converse::{consume, user};
use crate::support::{self, Server};
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::operation::RequestId;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConverseStreamOutput, CountTokensInput, InferenceConfiguration,
    InvokeModelTokensRequest, ResponseStream,
};
use awsim::Config;
use serde_json::{json, Value};
use std::time::Duration;

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const US_HAIKU: &str = "us.anthropic.claude-3-haiku-20240307-v1:0";

/// `GET /_awsim/invocations{query}`: the list of calls, newest first.
async fn invocations(server: &Server, query: &str) -> Vec<Value> {
    let body = get(server, &format!("/_awsim/invocations{query}")).await;
    body["invocations"].as_array().unwrap().clone()
}

/// `GET /_awsim/invocations/{requestId}`: one call with its events.
async fn invocation(server: &Server, request_id: &str) -> Value {
    get(server, &format!("/_awsim/invocations/{request_id}")).await
}

async fn get(server: &Server, path: &str) -> Value {
    let resp = server.http().get(server.at(path)).send().await.unwrap();
    assert_eq!(resp.status(), 200, "GET {path}");
    resp.json().await.unwrap()
}

fn max_tokens(n: i32) -> InferenceConfiguration {
    InferenceConfiguration::builder().max_tokens(n).build()
}

/// Offsets never go back, and the list has one entry per frame the client received.
fn assert_timeline(call: &Value, frames: usize) {
    let events = call["events"].as_array().unwrap();
    assert_eq!(events.len(), frames, "one event per emitted frame");
    assert_eq!(call["frames"], frames);
    let offsets: Vec<f64> = events
        .iter()
        .map(|e| e["offsetMs"].as_f64().unwrap())
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{offsets:?}");
    assert!(call["firstTokenMs"].as_f64().unwrap() <= call["totalMs"].as_f64().unwrap());
    assert_eq!(call["eventsOmitted"], 0);
}

#[tokio::test]
async fn a_converse_call_is_recorded_with_what_was_sent_and_what_came_back() {
    let server = support::start().await;
    let out = server
        .runtime_in("us-west-2")
        .converse()
        .model_id(US_HAIKU)
        .messages(user("What is awsim?"))
        .inference_config(max_tokens(12))
        .send()
        .await
        .unwrap();
    let request_id = out.request_id().unwrap().to_string();
    let text = match &out.output.unwrap() {
        aws_sdk_bedrockruntime::types::ConverseOutput::Message(m) => match &m.content[0] {
            ContentBlock::Text(t) => t.clone(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    let usage = out.usage.unwrap();

    let calls = invocations(&server, "").await;
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(
        call["requestId"], request_id,
        "the x-amzn-RequestId the client saw"
    );
    assert!(
        call["time"].as_str().unwrap().ends_with('Z'),
        "RFC 3339: {}",
        call["time"]
    );
    assert_eq!(call["operation"], "Converse");
    assert_eq!(call["modelId"], US_HAIKU, "as sent");
    assert_eq!(call["resolvedModelId"], HAIKU);
    assert_eq!(call["region"], "us-west-2");
    assert_eq!(call["state"], "complete");
    assert_eq!(call["status"], 200);
    assert_eq!(call["error"], Value::Null);
    assert_eq!(
        call["request"]["messages"][0]["content"][0]["text"],
        "What is awsim?"
    );
    assert_eq!(call["request"]["inferenceConfig"]["maxTokens"], 12);
    assert_eq!(call["response"]["text"], text);
    assert_eq!(call["response"]["stopReason"], "max_tokens");
    assert_eq!(
        call["response"]["usage"],
        json!({"inputTokens": usage.input_tokens, "outputTokens": usage.output_tokens})
    );
    assert_eq!(call["rule"], Value::Null);
    assert_eq!(call["backendModel"], Value::Null, "canned: no backend");
    assert!(call["totalMs"].as_f64().is_some());
    assert!(
        call.get("frames").is_none(),
        "stream fields are for streams"
    );

    // The per-request view adds the one response body, as sent.
    let detail = invocation(&server, &request_id).await;
    let events = detail["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "response");
    assert_eq!(events[0]["payload"]["stopReason"], "max_tokens");
    assert_eq!(
        events[0]["payload"]["output"]["message"]["content"][0]["text"],
        text
    );
}

#[tokio::test]
async fn a_converse_stream_is_recorded_frame_by_frame() {
    let server = support::start().await;
    let mut out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("Stream me something"))
        .inference_config(max_tokens(6))
        .send()
        .await
        .unwrap();
    let request_id = out.request_id().unwrap().to_string();
    let mut kinds = Vec::new();
    let mut text = String::new();
    while let Some(event) = out.stream.recv().await.unwrap() {
        kinds.push(match &event {
            ConverseStreamOutput::MessageStart(_) => "messageStart",
            ConverseStreamOutput::ContentBlockDelta(d) => {
                if let Some(aws_sdk_bedrockruntime::types::ContentBlockDelta::Text(t)) = &d.delta {
                    text.push_str(t);
                }
                "contentBlockDelta"
            }
            ConverseStreamOutput::ContentBlockStop(_) => "contentBlockStop",
            ConverseStreamOutput::MessageStop(_) => "messageStop",
            ConverseStreamOutput::Metadata(_) => "metadata",
            other => panic!("{other:?}"),
        });
    }

    let call = invocation(&server, &request_id).await;
    assert_eq!(call["operation"], "ConverseStream");
    assert_eq!(call["format"], "eventstream");
    assert_eq!(call["state"], "complete");
    assert_eq!(call["response"]["text"], text);
    assert_eq!(call["response"]["usage"]["outputTokens"], 6);
    assert_timeline(&call, kinds.len());
    let events = call["events"].as_array().unwrap();
    let recorded: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(recorded, kinds, "the frames the SDK decoded, in order");
    let delta = &events[1];
    assert_eq!(delta["messageType"], "event");
    assert_eq!(delta["headers"][":event-type"], "contentBlockDelta");
    assert_eq!(delta["headers"][":content-type"], "application/json");
    assert_eq!(delta["payload"]["contentBlockIndex"], 0);
}

#[tokio::test]
async fn a_json_array_stream_is_recorded_element_by_element() {
    let server = support::start().await;
    // As curl sends it, unsigned: the accumulated JSON array.
    let resp = server
        .http()
        .post(server.at(&format!("/model/{HAIKU}/converse-stream")))
        .json(&json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"maxTokens": 4}}))
        .send()
        .await
        .unwrap();
    let request_id = resp.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    let array: Vec<Value> = resp.json().await.unwrap();

    let call = invocation(&server, &request_id).await;
    assert_eq!(call["format"], "json");
    assert_timeline(&call, array.len());
    for (event, element) in call["events"].as_array().unwrap().iter().zip(&array) {
        let (name, payload) = element.as_object().unwrap().iter().next().unwrap();
        assert_eq!(event["type"], *name);
        assert_eq!(event["payload"], *payload);
    }
}

#[tokio::test]
async fn invoke_model_and_its_stream_record_the_native_bodies() {
    let server = support::start().await;
    let body = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5,
        "messages": [{"role": "user", "content": "Native, please"}]});
    let out = server
        .runtime()
        .invoke_model()
        .model_id(HAIKU)
        .body(Blob::new(body.to_string()))
        .send()
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(out.body().as_ref()).unwrap();
    let call = invocation(&server, out.request_id().unwrap()).await;
    assert_eq!(call["operation"], "InvokeModel");
    assert_eq!(call["request"], body);
    assert_eq!(call["response"]["text"], answer["content"][0]["text"]);
    assert_eq!(call["response"]["stopReason"], "max_tokens");
    assert_eq!(call["events"][0]["payload"], answer);

    let mut out = server
        .runtime()
        .invoke_model_with_response_stream()
        .model_id(HAIKU)
        .body(Blob::new(body.to_string()))
        .send()
        .await
        .unwrap();
    let request_id = out.request_id().unwrap().to_string();
    let mut chunks = Vec::new();
    while let Some(ResponseStream::Chunk(part)) = out.body.recv().await.unwrap() {
        chunks.push(serde_json::from_slice::<Value>(part.bytes().unwrap().as_ref()).unwrap());
    }
    let call = invocation(&server, &request_id).await;
    assert_eq!(call["operation"], "InvokeModelWithResponseStream");
    assert_timeline(&call, chunks.len());
    for (event, chunk) in call["events"].as_array().unwrap().iter().zip(&chunks) {
        assert_eq!(event["type"], "chunk");
        assert_eq!(event["chunk"], *chunk, "the base64 bytes, decoded");
    }
}

#[tokio::test]
async fn errors_before_the_first_byte_are_recorded_with_their_status_and_code() {
    let server = support::start().await;
    let err = server
        .runtime()
        .converse_stream()
        .model_id("anthropic.no-such-model")
        .messages(user("hello?"))
        .send()
        .await
        .unwrap_err();
    let request_id = err.request_id().unwrap().to_string();
    let call = invocation(&server, &request_id).await;
    assert_eq!(call["state"], "complete");
    assert_eq!(call["status"], 400);
    assert_eq!(
        call["error"],
        json!({"code": "ValidationException", "message": "The provided model identifier is invalid."})
    );
    assert_eq!(call["modelId"], "anthropic.no-such-model");
    assert_eq!(call["resolvedModelId"], Value::Null);
    assert_eq!(call["response"], Value::Null);
    assert_eq!(call["events"], json!([]));

    // A known model with a body it refuses: resolved, then refused.
    let err = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("x"))
        .inference_config(max_tokens(0))
        .send()
        .await
        .unwrap_err();
    let call = invocation(&server, err.request_id().unwrap()).await;
    assert_eq!(call["resolvedModelId"], HAIKU);
    assert_eq!(call["error"]["code"], "ValidationException");
    assert_eq!(call["error"]["message"], err.message().unwrap());
}

#[tokio::test]
async fn count_tokens_is_recorded_with_its_count() {
    let server = support::start().await;
    let body = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5,
        "messages": [{"role": "user", "content": "How many tokens is this?"}]});
    let out = server
        .runtime()
        .count_tokens()
        .model_id(HAIKU)
        .input(CountTokensInput::InvokeModel(
            InvokeModelTokensRequest::builder()
                .body(Blob::new(body.to_string()))
                .build()
                .unwrap(),
        ))
        .send()
        .await
        .unwrap();
    let call = invocation(&server, out.request_id().unwrap()).await;
    assert_eq!(call["operation"], "CountTokens");
    assert_eq!(
        call["response"]["usage"],
        json!({"inputTokens": out.input_tokens})
    );
    assert!(call["request"]["input"]["invokeModel"]["body"].is_string());
}

#[tokio::test]
async fn a_running_stream_shows_in_progress_and_a_client_that_leaves_shows_disconnected() {
    let server = support::start_with(Config {
        canned_token_gap: Duration::from_millis(20),
        ..Config::default()
    })
    .await;
    let mut out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("A long answer, please"))
        .inference_config(max_tokens(200))
        .send()
        .await
        .unwrap();
    let request_id = out.request_id().unwrap().to_string();
    for _ in 0..3 {
        out.stream.recv().await.unwrap().unwrap();
    }
    let running = invocation(&server, &request_id).await;
    assert_eq!(running["state"], "inProgress");
    assert_eq!(running["status"], 200);
    assert_eq!(running["format"], "eventstream");
    assert_eq!(
        running["response"],
        Value::Null,
        "published when the stream ends"
    );

    drop(out);
    let call = until(&server, &request_id, |c| c["state"] != "inProgress").await;
    assert_eq!(call["state"], "disconnected");
    assert_eq!(call["status"], 200);
    assert_eq!(call["error"], Value::Null);
    assert_eq!(
        call["response"]["stopReason"],
        Value::Null,
        "it never stopped"
    );
    let frames = call["frames"].as_u64().unwrap();
    assert!(
        (3..200).contains(&frames),
        "{frames} frames before the client left"
    );
    assert_eq!(call["events"].as_array().unwrap().len() as u64, frames);
}

/// Polls one call until `done` holds (the server notices a disconnect when it next writes).
async fn until(server: &Server, request_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..500 {
        let call = invocation(server, request_id).await;
        if done(&call) {
            return call;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("call {request_id} never got there");
}

#[tokio::test]
async fn the_list_is_newest_first_and_filters_by_model_operation_and_limit() {
    let server = support::start().await;
    let client = server.runtime();
    let mut ids = Vec::new();
    for model in [HAIKU, US_HAIKU, "amazon.nova-lite-v1:0"] {
        let out = client
            .converse()
            .model_id(model)
            .messages(user("hi"))
            .inference_config(max_tokens(2))
            .send()
            .await
            .unwrap();
        ids.push(out.request_id().unwrap().to_string());
    }
    let out = client
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("hi"))
        .inference_config(max_tokens(2))
        .send()
        .await
        .unwrap();
    ids.push(out.request_id().unwrap().to_string());
    consume(out).await;

    let all = invocations(&server, "").await;
    let listed: Vec<&str> = all
        .iter()
        .map(|c| c["requestId"].as_str().unwrap())
        .collect();
    let newest_first: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    assert_eq!(listed, newest_first);

    // modelId matches the id as sent or as resolved.
    assert_eq!(
        invocations(&server, &format!("?modelId={HAIKU}"))
            .await
            .len(),
        3
    );
    assert_eq!(
        invocations(&server, &format!("?modelId={US_HAIKU}"))
            .await
            .len(),
        1
    );
    let streams = invocations(&server, "?operation=ConverseStream").await;
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0]["requestId"], ids[3]);
    let two = invocations(&server, "?operation=Converse&limit=2").await;
    assert_eq!(two[0]["requestId"], ids[2]);
    assert_eq!(two[1]["requestId"], ids[1]);

    for (query, says) in [
        (
            "?operation=Chat",
            "operation 'Chat' is not one of InvokeModel",
        ),
        ("?limit=0", "limit '0' is not a positive whole number"),
        ("?model=x", "'model' is not a filter of the invocation log"),
    ] {
        let resp = server
            .http()
            .get(server.at(&format!("/_awsim/invocations{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{query}");
        assert_eq!(resp.headers()["x-amzn-errortype"], "ValidationException");
        let body: Value = resp.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().starts_with(says),
            "{body}"
        );
    }
}

async fn converse(server: &Server) -> String {
    let out = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("hi"))
        .inference_config(max_tokens(2))
        .send()
        .await
        .unwrap();
    out.request_id().unwrap().to_string()
}

#[tokio::test]
async fn the_ring_keeps_only_the_last_n_calls() {
    let server = support::start_with(Config {
        invocation_log: 3,
        ..Config::default()
    })
    .await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(converse(&server).await);
    }
    let kept: Vec<String> = invocations(&server, "")
        .await
        .iter()
        .map(|c| c["requestId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept, [ids[4].clone(), ids[3].clone(), ids[2].clone()]);
    let resp = server
        .http()
        .get(server.at(&format!("/_awsim/invocations/{}", ids[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "ResourceNotFoundException"
    );
    let health = get(&server, "/_awsim/health").await;
    assert_eq!(health["invocationLog"], json!({"capacity": 3, "size": 3}));
}

#[tokio::test]
async fn zero_turns_the_log_off_and_the_endpoints_say_so() {
    let server = support::start_with(Config {
        invocation_log: 0,
        ..Config::default()
    })
    .await;
    let request_id = converse(&server).await;
    let list = get(&server, "/_awsim/invocations").await;
    assert_eq!(list["enabled"], false);
    assert_eq!(list["invocations"], json!([]));
    assert!(list["message"]
        .as_str()
        .unwrap()
        .starts_with("The invocation log is off"));
    let resp = server
        .http()
        .get(server.at(&format!("/_awsim/invocations/{request_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("--invocation-log 0"));
    let cleared: Value = server
        .http()
        .delete(server.at("/_awsim/invocations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["enabled"], false);
}

#[tokio::test]
async fn delete_and_reset_both_empty_the_log() {
    let server = support::start().await;
    converse(&server).await;
    converse(&server).await;
    let resp = server
        .http()
        .delete(server.at("/_awsim/invocations"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"cleared": 2}));
    assert!(invocations(&server, "").await.is_empty());

    let kept = converse(&server).await;
    assert_eq!(invocations(&server, "").await[0]["requestId"], kept);
    server
        .http()
        .post(server.at("/_awsim/reset"))
        .send()
        .await
        .unwrap();
    assert!(
        invocations(&server, "").await.is_empty(),
        "reset empties the log too"
    );
}

#[tokio::test]
async fn a_proxied_call_records_the_backend_model_and_a_stream_cut_by_the_backend_its_exception() {
    use crate::support::fake_openai::{self as fake, FakeOpenAi, Reply, Step};
    let mut steps = fake::answer(&["Hello", " there"], "stop", 7);
    // The backend dies after two tokens, before its finish reason.
    steps.truncate(3);
    steps.push(Step::Cut);
    let upstream = FakeOpenAi::always(Reply::Sse(steps)).await;
    let server = crate::backend::awsim_for(&upstream).await;
    let mut out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("hi"))
        .send()
        .await
        .unwrap();
    let request_id = out.request_id().unwrap().to_string();
    let mut frames = 0;
    let err = loop {
        match out.stream.recv().await {
            Ok(Some(_)) => frames += 1,
            Ok(None) => panic!("the stream ended cleanly"),
            Err(err) => break err,
        }
    };
    let err = err.into_service_error();
    assert!(
        matches!(
            err,
            aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError::ModelStreamErrorException(_)
        ),
        "{err:?}"
    );

    let call = invocation(&server, &request_id).await;
    let sent_to_backend = &upstream.requests()[0].body["model"];
    assert_eq!(call["backendModel"], *sent_to_backend);
    assert_eq!(call["state"], "complete");
    assert_eq!(call["status"], 200, "the stream had started");
    assert_eq!(call["error"]["code"], "ModelStreamErrorException");
    assert_eq!(call["error"]["message"], err.message().unwrap());
    assert_eq!(call["response"]["text"], "Hello there");
    assert_timeline(&call, frames + 1);
    let last = call["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["messageType"], "exception");
    assert_eq!(last["type"], "modelStreamErrorException");
}

#[tokio::test]
async fn retries_show_as_attempts_each_with_the_rule_that_fired_and_a_quota_says_why() {
    let server = support::start().await;
    server
        .add_rules(json!([
            {"id": "throttle-twice", "fault": {"kind": "throttling", "retryAfterSeconds": 0.05}, "times": 2},
            {"id": "answer", "respond": {"text": "Third time lucky."}}
        ]))
        .await;
    use aws_sdk_bedrockruntime::config::{Credentials, Region};
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .endpoint_url(&server.url)
        .credentials_provider(Credentials::new("test", "test", None, None, "awsim-tests"))
        .retry_config(aws_smithy_types::retry::RetryConfig::standard().with_max_attempts(3))
        .build();
    let retrying = aws_sdk_bedrockruntime::Client::from_conf(conf);
    let out = retrying
        .converse()
        .model_id(HAIKU)
        .messages(user("hi"))
        .send()
        .await
        .unwrap();
    let attempts = invocations(&server, "?operation=Converse").await;
    let seen: Vec<(u64, &str)> = attempts
        .iter()
        .rev()
        .map(|a| (a["status"].as_u64().unwrap(), a["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            (429, "throttle-twice"),
            (429, "throttle-twice"),
            (200, "answer")
        ]
    );
    assert_eq!(attempts[0]["requestId"], out.request_id().unwrap());
    assert_eq!(attempts[0]["response"]["text"], "Third time lucky.");
    assert_eq!(attempts[1]["error"]["code"], "ThrottlingException");
    assert_eq!(attempts[1]["error"].get("reason"), None, "a rule's fault");

    server
        .http()
        .delete(server.at("/_awsim/rules"))
        .send()
        .await
        .unwrap();
    server
        .add_rules(json!({"id": "one", "match": {"modelId": "amazon.*"}, "quota": {"rpm": 1}}))
        .await;
    let nova = |text: &'static str| {
        server
            .runtime()
            .converse()
            .model_id("amazon.nova-micro-v1:0")
            .messages(user(text))
            .send()
    };
    nova("first").await.unwrap();
    let err = nova("second").await.unwrap_err();
    let call = invocation(&server, err.meta().request_id().unwrap()).await;
    assert_eq!(call["status"], 429);
    assert_eq!(call["rule"], "one", "the quota rule that throttled");
    assert_eq!(
        call["error"],
        json!({
            "code": "ThrottlingException",
            "message": err.message().unwrap(),
            "reason": "rule one: over 1 requests per 60 s for amazon.nova-micro-v1:0 in us-east-1"
        })
    );
}
