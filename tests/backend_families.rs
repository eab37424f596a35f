//! Every InvokeModel family through the backend, in both stream formats: the family's parameters
//! arrive translated at the upstream, the upstream's tokens come back one chunk each, with its usage.

use crate::backend::awsim_for;
use crate::support::fake_openai::{self as fake, FakeOpenAi, Reply};
use crate::support::{sigv4, Server};
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::ResponseStream;
use serde_json::{json, Value};

const TOKENS: [&str; 4] = ["Hello", " from", " the", " backend"];

/// (model id, InvokeModel body, what the upstream body must contain)
fn families() -> Vec<(&'static str, Value, Value)> {
    vec![
        (
            "anthropic.claude-3-haiku-20240307-v1:0",
            json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 40, "system": "sys", "top_k": 7, "stop_sequences": ["END"], "messages": [{"role": "user", "content": "marker"}]}),
            json!({"max_tokens": 40, "top_k": 7, "stop": ["END"]}),
        ),
        (
            "anthropic.claude-v2:1",
            json!({"prompt": "\n\nHuman: marker\n\nAssistant:", "max_tokens_to_sample": 40, "top_k": 7}),
            json!({"max_tokens": 40, "top_k": 7}),
        ),
        (
            "amazon.titan-text-express-v1",
            json!({"inputText": "marker", "textGenerationConfig": {"maxTokenCount": 40, "temperature": 0.2, "topP": 0.9, "stopSequences": ["User:"]}}),
            json!({"max_tokens": 40, "temperature": 0.2, "top_p": 0.9, "stop": ["User:"]}),
        ),
        (
            "amazon.nova-lite-v1:0",
            json!({"schemaVersion": "messages-v1", "system": [{"text": "sys"}], "messages": [{"role": "user", "content": [{"text": "marker"}]}], "inferenceConfig": {"maxTokens": 40, "topK": 5}}),
            json!({"max_tokens": 40, "top_k": 5}),
        ),
        (
            "meta.llama3-8b-instruct-v1:0",
            json!({"prompt": "marker", "max_gen_len": 40, "temperature": 0.1}),
            json!({"max_tokens": 40, "temperature": 0.1}),
        ),
        (
            "mistral.mistral-7b-instruct-v0:2",
            json!({"prompt": "<s>[INST] marker [/INST]", "max_tokens": 40, "top_k": 5, "stop": ["END"]}),
            json!({"max_tokens": 40, "top_k": 5, "stop": ["END"]}),
        ),
        (
            "mistral.mistral-large-2407-v1:0",
            json!({"messages": [{"role": "user", "content": "marker"}], "max_tokens": 40}),
            json!({"max_tokens": 40}),
        ),
        (
            "cohere.command-text-v14",
            json!({"prompt": "marker", "max_tokens": 40, "p": 0.5, "k": 3}),
            json!({"max_tokens": 40, "top_p": 0.5, "top_k": 3}),
        ),
        (
            "cohere.command-r-v1:0",
            json!({"message": "marker", "preamble": "sys", "chat_history": [{"role": "USER", "message": "earlier"}, {"role": "CHATBOT", "message": "noted"}], "max_tokens": 40, "p": 0.5, "k": 3}),
            json!({"max_tokens": 40, "top_p": 0.5, "top_k": 3, "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": "earlier"},
                {"role": "assistant", "content": "noted"},
                {"role": "user", "content": "marker"},
            ]}),
        ),
        (
            "openai.gpt-oss-20b-1:0",
            json!({"messages": [{"role": "user", "content": "marker"}], "max_completion_tokens": 40}),
            json!({"max_tokens": 40}),
        ),
        (
            "deepseek.r1-v1:0",
            json!({"prompt": "marker", "max_tokens": 40}),
            json!({"max_tokens": 40}),
        ),
    ]
}

fn check_upstream(upstream: &FakeOpenAi, id: &str, want: &Value) {
    let body = upstream.last_body();
    assert_eq!(body["stream"], true, "{id}");
    assert_eq!(body["stream_options"]["include_usage"], true, "{id}");
    assert_eq!(body["model"], "llama3.1:8b", "{id}");
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(&body[k], v, "{id}: {k} in {body}");
    }
    let last = body["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["role"], "user", "{id}");
    assert!(
        last["content"].to_string().contains("marker"),
        "{id}: {last}"
    );
}

/// Each token must arrive in a chunk of its own, in order, and the last chunk carries the usage.
fn check_chunks(id: &str, chunks: &[Value]) {
    let mut at = Vec::new();
    for t in TOKENS {
        let quoted = serde_json::to_string(t).unwrap();
        let i = chunks
            .iter()
            .position(|c| c.to_string().contains(&quoted))
            .unwrap_or_else(|| panic!("{id}: no chunk carries {quoted}: {chunks:?}"));
        at.push(i);
    }
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "{id}: tokens share or reorder chunks: {at:?}"
    );
    let metrics = &chunks.last().unwrap()["amazon-bedrock-invocationMetrics"];
    assert_eq!(metrics["inputTokenCount"], 11, "{id}: {metrics}");
    assert_eq!(metrics["outputTokenCount"], 4, "{id}: {metrics}");
}

async fn invoke_stream_sdk(server: &Server, id: &str, body: &Value) -> Vec<Value> {
    let mut out = server
        .runtime()
        .invoke_model_with_response_stream()
        .model_id(id)
        .body(Blob::new(body.to_string()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{id}: {:?}", e.into_service_error()));
    let mut chunks = Vec::new();
    while let Some(event) = out.body.recv().await.unwrap() {
        let ResponseStream::Chunk(part) = event else {
            panic!("{id}: {event:?}")
        };
        chunks.push(serde_json::from_slice(part.bytes.unwrap().as_ref()).unwrap());
    }
    chunks
}

async fn invoke_stream_json(server: &Server, id: &str, body: &Value) -> Vec<Value> {
    let resp = server
        .http()
        .post(server.at(&format!("/model/{id}/invoke-with-response-stream")))
        .header("content-type", "application/json")
        .header("authorization", sigv4("us-east-1", "bedrock"))
        .header("x-awsim-stream-format", "json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{id}");
    let elements: Vec<Value> = resp.json().await.unwrap();
    elements
        .into_iter()
        .map(|e| {
            assert_eq!(e["contentType"], "application/json", "{id}");
            e["body"].clone()
        })
        .collect()
}

#[tokio::test]
async fn every_family_streams_through_the_backend_in_both_formats() {
    let upstream = FakeOpenAi::always(Reply::Sse(fake::answer(&TOKENS, "stop", 11))).await;
    let server = awsim_for(&upstream).await;
    for (id, body, want) in families() {
        let chunks = invoke_stream_sdk(&server, id, &body).await;
        check_upstream(&upstream, id, &want);
        check_chunks(id, &chunks);

        let chunks = invoke_stream_json(&server, id, &body).await;
        check_upstream(&upstream, id, &want);
        check_chunks(id, &chunks);
    }
}

#[tokio::test]
async fn every_family_collects_the_backend_answer() {
    let upstream = FakeOpenAi::always(Reply::Sse(fake::answer(&TOKENS, "length", 11))).await;
    let server = awsim_for(&upstream).await;
    for (id, body, want) in families() {
        let out = server
            .runtime()
            .invoke_model()
            .model_id(id)
            .body(Blob::new(body.to_string()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{id}: {:?}", e.into_service_error()));
        check_upstream(&upstream, id, &want);
        let text = String::from_utf8(out.body.into_inner()).unwrap();
        assert!(text.contains("Hello from the backend"), "{id}: {text}");
        assert!(
            ["length", "max_tokens", "LENGTH", "MAX_TOKENS"]
                .iter()
                .any(|r| text.contains(&format!("\"{r}\""))),
            "{id}: no max-tokens stop reason in {text}"
        );
    }
}

#[tokio::test]
async fn embeddings_come_from_the_backend_fitted_to_the_requested_dimension() {
    let upstream = FakeOpenAi::start(fake::routes(vec![], 640)).await;
    let server = awsim_for(&upstream).await;
    let client = server.runtime();

    let out = client
        .invoke_model()
        .model_id("amazon.titan-embed-text-v2:0")
        .body(Blob::new(
            json!({"inputText": "hello", "dimensions": 256, "normalize": true}).to_string(),
        ))
        .send()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(out.body.as_ref()).unwrap();
    let v: Vec<f64> = serde_json::from_value(body["embedding"].clone()).unwrap();
    assert_eq!(v.len(), 256, "cut from the backend's 640");
    let norm: f64 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!((norm - 1.0).abs() < 1e-3, "re-normalized: {norm}");
    assert_eq!(body["inputTextTokenCount"], 3, "the backend's count");
    let req = upstream.requests().last().unwrap().clone();
    assert_eq!(req.path, "/v1/embeddings");
    assert_eq!(
        req.body,
        json!({"model": "nomic-embed-text", "input": ["hello"]})
    );

    // Titan v1 wants 1536: the backend's 640 are padded with zeros.
    let out = client
        .invoke_model()
        .model_id("amazon.titan-embed-text-v1")
        .body(Blob::new(json!({"inputText": "hello"}).to_string()))
        .send()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(out.body.as_ref()).unwrap();
    let v = body["embedding"].as_array().unwrap();
    assert_eq!(v.len(), 1536);
    assert_eq!(v[1535], 0.0);

    // Cohere: several texts, one vector each, in order.
    let out = client
        .invoke_model()
        .model_id("cohere.embed-english-v3")
        .body(Blob::new(
            json!({"texts": ["a", "b", "c"], "input_type": "search_document"}).to_string(),
        ))
        .send()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(out.body.as_ref()).unwrap();
    let vectors = body["embeddings"].as_array().unwrap();
    assert_eq!(vectors.len(), 3);
    assert_eq!(vectors[0].as_array().unwrap().len(), 1024);
    assert_eq!(
        upstream.requests().last().unwrap().body["input"],
        json!(["a", "b", "c"])
    );
    let first: Vec<f64> = serde_json::from_value(vectors[0].clone()).unwrap();
    let third: Vec<f64> = serde_json::from_value(vectors[2].clone()).unwrap();
    assert!(third[0] > first[0], "vectors kept in input order");
}

#[tokio::test]
async fn embedding_failures_are_bedrock_errors() {
    let upstream = FakeOpenAi::always(Reply::Status(
        404,
        json!({"error": "model \"nomic-embed-text\" not found, try pulling it first"}).to_string(),
    ))
    .await;
    let server = awsim_for(&upstream).await;
    let err = server
        .runtime()
        .invoke_model()
        .model_id("amazon.titan-embed-text-v2:0")
        .body(Blob::new(json!({"inputText": "hello"}).to_string()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    assert!(format!("{err:?}").contains("ollama pull nomic-embed-text"));
}
