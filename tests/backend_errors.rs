//! Every way a backend fails, as the Bedrock error a client expects; and cancellation: a client that
//! leaves closes the backend connection.

use crate::backend::{awsim_for, config_for, open_stream, stream_reply, unused_url, user, HAIKU};
use crate::support::fake_openai::{self as fake, FakeOpenAi, Reply, Step};
use crate::support::{self, sigv4, Server};
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::error::{ConverseStreamOutputError, ResponseStreamError};
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, DocumentBlock, DocumentFormat, DocumentSource, Message,
};
use serde_json::{json, Value};
use std::time::Duration;

/// A Converse call over plain HTTP: (status, error type header, body).
async fn converse_raw(
    server: &Server,
    path_op: &str,
    format: Option<&str>,
) -> (u16, String, Value) {
    let mut req = server
        .http()
        .post(server.at(&format!("/model/{HAIKU}/{path_op}")))
        .header("content-type", "application/json")
        .header("authorization", sigv4("us-east-1", "bedrock"))
        .body(json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}).to_string());
    if let Some(f) = format {
        req = req.header("x-awsim-stream-format", f);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, kind, body)
}

async fn failing_with(reply: Reply) -> (FakeOpenAi, Server) {
    let upstream = FakeOpenAi::always(reply).await;
    let server = awsim_for(&upstream).await;
    (upstream, server)
}

#[tokio::test]
async fn an_unreachable_backend_is_service_unavailable_naming_it_never_a_canned_answer() {
    let url = unused_url().await;
    let server = support::start_with(config_for(&url)).await;
    let (status, kind, body) = converse_raw(&server, "converse", None).await;
    assert_eq!(
        (status, kind.as_str()),
        (503, "ServiceUnavailableException")
    );
    let msg = body["message"].as_str().unwrap();
    assert!(msg.contains(&url), "{msg}");
    // Streaming operations fail the same way, before the stream.
    let (status, kind, _) = converse_raw(&server, "converse-stream", Some("eventstream")).await;
    assert_eq!(
        (status, kind.as_str()),
        (503, "ServiceUnavailableException")
    );
}

#[tokio::test]
async fn backend_statuses_map_to_bedrock_errors() {
    let cases: &[(u16, &str, u16, &str, &str)] = &[
        (
            404,
            r#"{"error":"model \"llama3.1:8b\" not found, try pulling it first"}"#,
            400,
            "ValidationException",
            "ollama pull llama3.1:8b",
        ),
        (
            400,
            r#"{"error":{"message":"temperature must be <= 2","type":"invalid_request_error"}}"#,
            400,
            "ValidationException",
            "temperature must be <= 2",
        ),
        (
            401,
            r#"{"error":{"message":"bad key"}}"#,
            403,
            "AccessDeniedException",
            "--bedrock-api-key",
        ),
        (
            403,
            r#"{"error":"forbidden"}"#,
            403,
            "AccessDeniedException",
            "forbidden",
        ),
        (
            429,
            r#"{"error":{"message":"slow down"}}"#,
            429,
            "ThrottlingException",
            "slow down",
        ),
        (
            500,
            "internal oops",
            424,
            "ModelErrorException",
            "internal oops",
        ),
        (
            503,
            r#"{"error":{"code":503,"message":"Loading model"}}"#,
            424,
            "ModelErrorException",
            "Loading model",
        ),
    ];
    for &(upstream_status, upstream_body, status, kind, says) in cases {
        let (_upstream, server) =
            failing_with(Reply::Status(upstream_status, upstream_body.into())).await;
        for op in ["converse", "converse-stream"] {
            let (got, got_kind, body) = converse_raw(&server, op, Some("json")).await;
            assert_eq!(
                (got, got_kind.as_str()),
                (status, kind),
                "{upstream_status} {op}"
            );
            let msg = body["message"].as_str().unwrap();
            assert!(msg.contains(says), "{upstream_status}: {msg}");
            if status == 424 {
                assert_eq!(body["originalStatusCode"], upstream_status);
                assert_eq!(body["resourceName"], HAIKU);
            }
        }
    }
}

#[tokio::test]
async fn sdk_clients_see_the_modeled_exceptions() {
    let (_upstream, server) = failing_with(Reply::Status(429, "{}".into())).await;
    let err = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_throttling_exception());

    let (_upstream, server) = failing_with(Reply::Status(502, "bad gateway".into())).await;
    let err = server
        .runtime()
        .invoke_model()
        .model_id(HAIKU)
        .body(Blob::new(
            json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}).to_string(),
        ))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let aws_sdk_bedrockruntime::operation::invoke_model::InvokeModelError::ModelErrorException(e) =
        err
    else {
        panic!("{err:?}")
    };
    assert_eq!(e.original_status_code, Some(502));
}

#[tokio::test]
async fn a_backend_that_does_not_answer_in_time_is_a_model_timeout() {
    let upstream = FakeOpenAi::always(Reply::Hang).await;
    let mut config = config_for(&upstream.url);
    config.backend.as_mut().unwrap().first_byte_timeout = Duration::from_millis(300);
    let server = support::start_with(config).await;
    let (status, kind, body) = converse_raw(&server, "converse", None).await;
    assert_eq!((status, kind.as_str()), (408, "ModelTimeoutException"));
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("--bedrock-backend-timeout"));
}

#[tokio::test]
async fn a_failure_mid_stream_is_an_exception_frame_with_the_backend_status() {
    let steps = vec![
        fake::role(),
        fake::text("partial"),
        Step::Data(json!({"error": {"code": 503, "message": "model crashed"}})),
    ];
    let (_upstream, server) = failing_with(Reply::Sse(steps)).await;
    let s = stream_reply(&server, "hi").await;
    assert_eq!(s.texts, ["partial"]);
    let err = s.error.unwrap();
    assert!(err.contains("ModelStreamErrorException"), "{err}");
    assert!(err.contains("original_status_code: Some(503)"), "{err}");
    assert!(
        err.contains("original_message: Some(\"model crashed\")"),
        "{err}"
    );

    // The JSON array ends with the exception element.
    let (status, _, body) = converse_raw(&server, "converse-stream", Some("json")).await;
    assert_eq!(status, 200);
    let last = body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["modelStreamErrorException"]["originalStatusCode"], 503);
    assert_eq!(
        last["modelStreamErrorException"]["originalMessage"],
        "model crashed"
    );

    // InvokeModelWithResponseStream: the same exception in its own union.
    let mut out = server
        .runtime()
        .invoke_model_with_response_stream()
        .model_id(HAIKU)
        .body(Blob::new(
            json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}).to_string(),
        ))
        .send()
        .await
        .unwrap();
    let err = loop {
        match out.body.recv().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the stream ended cleanly"),
            Err(e) => break e.into_service_error(),
        }
    };
    let ResponseStreamError::ModelStreamErrorException(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.original_status_code, Some(503));
}

#[tokio::test]
async fn a_truncated_backend_stream_is_an_error_not_a_clean_end() {
    let (_upstream, server) = failing_with(Reply::Sse(vec![
        fake::role(),
        fake::text("half"),
        Step::Cut,
    ]))
    .await;
    let s = stream_reply(&server, "hi").await;
    assert_eq!(s.texts, ["half"]);
    assert!(!s.events.contains(&"messageStop"));
    assert!(s.error.unwrap().contains("ModelStreamErrorException"));
    // Collected operations report it as a model error.
    let (status, kind, _) = converse_raw(&server, "converse", None).await;
    assert_eq!((status, kind.as_str()), (424, "ModelErrorException"));
}

#[tokio::test]
async fn a_backend_gone_silent_mid_answer_times_out_in_the_stream() {
    let upstream =
        FakeOpenAi::always(Reply::Sse(vec![fake::role(), fake::text("a"), Step::Hold])).await;
    let mut config = config_for(&upstream.url);
    config.backend.as_mut().unwrap().idle_timeout = Duration::from_millis(300);
    let server = support::start_with(config).await;
    let mut out = open_stream(&server, "hi").await;
    let err = loop {
        match out.stream.recv().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("clean end"),
            Err(e) => break e.into_service_error(),
        }
    };
    assert!(
        matches!(err, ConverseStreamOutputError::ModelStreamErrorException(_)),
        "{err:?}"
    );
    assert!(err.message().unwrap().contains("sent nothing"), "{err:?}");
}

#[tokio::test]
async fn binary_documents_are_refused_before_reaching_the_backend() {
    let (upstream, server) = failing_with(Reply::Sse(fake::answer(&["x"], "stop", 1))).await;
    let msg = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text("summarize".into()))
        .content(ContentBlock::Document(
            DocumentBlock::builder()
                .name("report")
                .format(DocumentFormat::Pdf)
                .source(DocumentSource::Bytes(Blob::new(b"%PDF-1.7".to_vec())))
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap();
    let err = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(msg)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    assert!(err.message().unwrap().contains("text-only"));
    assert!(upstream.requests().is_empty());
}

#[tokio::test]
async fn an_unknown_stream_format_is_refused_before_reaching_the_backend() {
    let (upstream, server) = failing_with(Reply::Sse(fake::answer(&["x"], "stop", 1))).await;
    let (status, kind, body) = converse_raw(&server, "converse-stream", Some("xml")).await;
    assert_eq!((status, kind.as_str()), (400, "ValidationException"));
    assert_eq!(
        body["message"],
        "x-awsim-stream-format 'xml' is not one of auto, json, eventstream"
    );
    let resp = server
        .http()
        .post(server.at(&format!("/model/{HAIKU}/invoke-with-response-stream")))
        .header("authorization", sigv4("us-east-1", "bedrock"))
        .header("x-awsim-stream-format", "frames")
        .body(
            json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
                "messages": [{"role": "user", "content": "hi"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["message"],
        "x-awsim-stream-format 'frames' is not one of auto, json, eventstream"
    );
    assert!(upstream.requests().is_empty(), "{:?}", upstream.requests());
}

async fn read_to_first_token(
    out: &mut aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput,
) {
    while !out
        .stream
        .recv()
        .await
        .unwrap()
        .unwrap()
        .is_content_block_delta()
    {}
}

#[tokio::test]
async fn a_client_that_leaves_mid_answer_closes_the_backend_connection() {
    let steps = vec![fake::role(), fake::text("first"), Step::Hold];
    let (upstream, server) = failing_with(Reply::Sse(steps)).await;
    let mut out = open_stream(&server, "hi").await;
    // Read up to the first token, then walk away.
    read_to_first_token(&mut out).await;
    assert_eq!(upstream.disconnects(), 0);
    drop(out);
    assert!(
        upstream.wait_disconnects(1, Duration::from_secs(3)).await,
        "the backend still streams to nobody"
    );

    // Also while the backend has not answered yet.
    let (upstream, server) = failing_with(Reply::Hang).await;
    let call = tokio::spawn({
        let client = server.runtime();
        async move {
            client
                .converse_stream()
                .model_id(HAIKU)
                .messages(user("hi"))
                .send()
                .await
        }
    });
    while upstream.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    call.abort();
    assert!(upstream.wait_disconnects(1, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn a_connection_left_mid_answer_is_not_reused() {
    let served = std::sync::atomic::AtomicUsize::new(0);
    let upstream = FakeOpenAi::start(move |_| {
        match served.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            0 => Reply::Sse(vec![fake::role(), fake::text("first"), Step::Hold]),
            _ => Reply::Sse(fake::answer(&["second"], "stop", 2)),
        }
    })
    .await;
    let server = awsim_for(&upstream).await;
    let mut out = open_stream(&server, "hi").await;
    read_to_first_token(&mut out).await;
    drop(out);
    assert!(upstream.wait_disconnects(1, Duration::from_secs(3)).await);

    // The next call gets the whole of its own answer, on a connection of its own.
    assert_eq!(stream_reply(&server, "again").await.texts, ["second"]);
    assert_eq!(upstream.connections(), 2);
}

#[tokio::test]
async fn a_pooled_connection_the_backend_dropped_is_retried_once_on_a_fresh_one() {
    let served = std::sync::atomic::AtomicUsize::new(0);
    let upstream = FakeOpenAi::start(move |_| {
        match served.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            1 => Reply::Close,
            _ => Reply::Sse(fake::answer(&["ok"], "stop", 2)),
        }
    })
    .await;
    let server = awsim_for(&upstream).await;
    for _ in 0..2 {
        let out = server
            .runtime()
            .converse()
            .model_id(HAIKU)
            .messages(user("hi"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.stop_reason,
            aws_sdk_bedrockruntime::types::StopReason::EndTurn
        );
    }
    assert_eq!(
        upstream.requests().len(),
        3,
        "the second call was sent twice"
    );
    assert_eq!(upstream.connections(), 2);

    // A backend that always does so is still an error, after one retry.
    let (upstream, server) = failing_with(Reply::Close).await;
    let (status, kind, _) = converse_raw(&server, "converse", None).await;
    assert_eq!(
        (status, kind.as_str()),
        (503, "ServiceUnavailableException")
    );
    assert_eq!(upstream.requests().len(), 2);
}
