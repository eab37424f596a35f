//! Faults a rule injects, as the AWS SDK for Rust surfaces them: the exact AWS error before the
//! first byte, a modeled exception after N tokens (canned and backend streams alike), and the
//! transport faults — a stall, a disconnect, a delay.

use crate::backend::{awsim_for, stream_reply, user, HAIKU};
use crate::support::fake_openai::{self as fake, FakeOpenAi, Reply};
use crate::support::{self, Server};
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::error::{ConverseStreamOutputError, ResponseStreamError};
use aws_sdk_bedrockruntime::types::ResponseStream;
use serde_json::json;
use std::time::Duration;

/// Every fault before the first byte: (kind, status, error type).
const REQUEST_FAULTS: [(&str, u16, &str); 10] = [
    ("throttling", 429, "ThrottlingException"),
    ("serviceUnavailable", 503, "ServiceUnavailableException"),
    ("modelNotReady", 429, "ModelNotReadyException"),
    ("modelTimeout", 408, "ModelTimeoutException"),
    ("modelError", 424, "ModelErrorException"),
    ("internalServer", 500, "InternalServerException"),
    ("serviceQuotaExceeded", 400, "ServiceQuotaExceededException"),
    ("accessDenied", 403, "AccessDeniedException"),
    ("validation", 400, "ValidationException"),
    ("resourceNotFound", 404, "ResourceNotFoundException"),
];

/// A guard against a hang: every call here must end on its own long before this.
const NEVER: Duration = Duration::from_secs(30);

#[tokio::test]
async fn each_request_fault_is_the_exact_aws_error_the_sdk_models() {
    let server = support::start().await;
    for (kind, status, error_type) in REQUEST_FAULTS {
        server
            .add_rules(json!({"fault": {"kind": kind}, "times": 1}))
            .await;
        let err = server
            .runtime()
            .converse()
            .model_id(HAIKU)
            .messages(user("hi"))
            .send()
            .await
            .unwrap_err();
        let raw = err
            .raw_response()
            .expect("an HTTP response")
            .status()
            .as_u16();
        println!("Rust SDK, {kind}: {}", err.code().unwrap_or("?"));
        assert_eq!(
            (raw, err.code()),
            (status, Some(error_type)),
            "{kind}: {err:?}"
        );
        assert!(err.message().is_some_and(|m| !m.is_empty()));
    }
    server
        .add_rules(json!({"fault": {"kind": "throttling", "message": "Slow down, test."}}))
        .await;
    let err = server
        .runtime()
        .invoke_model_with_response_stream()
        .model_id(HAIKU)
        .body(Blob::new(
            r#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}"#,
        ))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_throttling_exception());
    assert_eq!(err.message(), Some("Slow down, test."));
}

#[tokio::test]
async fn a_throttle_says_when_to_retry_in_the_headers_the_sdks_read() {
    let server = support::start().await;
    server
        .add_rules(json!({"fault": {"kind": "throttling", "retryAfterSeconds": 2.5}}))
        .await;
    let resp = server
        .http()
        .post(server.at(&format!("/model/{HAIKU}/converse")))
        .json(&json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let header = |name: &str| resp.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("x-amzn-errortype"), "ThrottlingException");
    assert_eq!(header("retry-after"), "3", "whole seconds, rounded up");
    assert_eq!(header("x-amz-retry-after"), "2500", "milliseconds");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["message"],
        "Too many requests, please wait before trying again."
    );
}

/// Whether an error is the variant expected.
type Is = fn(&ConverseStreamOutputError) -> bool;

/// Every exception a stream can carry, and the variant the SDK's ConverseStream parser makes of it.
#[tokio::test]
async fn converse_stream_gets_n_deltas_then_the_sdk_s_typed_exception() {
    let server = support::start().await;
    let kinds: [(&str, Is); 6] = [
        ("modelStreamErrorException", |e| {
            e.is_model_stream_error_exception()
        }),
        ("throttlingException", |e| e.is_throttling_exception()),
        ("internalServerException", |e| {
            e.is_internal_server_exception()
        }),
        ("serviceUnavailableException", |e| {
            e.is_service_unavailable_exception()
        }),
        ("validationException", |e| e.is_validation_exception()),
        // ConverseStream has no modelTimeoutException member: Bedrock's stream error stands in.
        ("modelTimeoutException", |e| {
            e.is_model_stream_error_exception()
        }),
    ];
    for (kind, typed) in kinds {
        server
            .add_rules(json!({"match": {"operation": "ConverseStream"},
                              "fault": {"kind": kind, "at": {"afterTokens": 3}}, "times": 1}))
            .await;
        let mut out = server
            .runtime()
            .converse_stream()
            .model_id(HAIKU)
            .messages(user("hi"))
            .send()
            .await
            .unwrap();
        let mut deltas = 0;
        let err = loop {
            match out.stream.recv().await {
                Ok(Some(event)) => deltas += usize::from(event.is_content_block_delta()),
                Ok(None) => panic!("{kind}: the stream ended cleanly"),
                Err(e) => break e.into_service_error(),
            }
        };
        println!("Rust SDK, {kind}: {err:?}");
        assert_eq!(deltas, 3, "{kind}");
        assert!(typed(&err), "{kind}: {err:?}");
        assert!(err.message().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn invoke_model_with_response_stream_gets_its_own_model_timeout_exception() {
    let server = support::start().await;
    server
        .add_rules(json!({"fault": {"kind": "modelTimeoutException", "at": {"afterTokens": 2}}}))
        .await;
    let mut out = server
        .runtime()
        .invoke_model_with_response_stream()
        .model_id(HAIKU)
        .body(Blob::new(
            r#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}"#,
        ))
        .send()
        .await
        .unwrap();
    let mut text_deltas = 0;
    let err = loop {
        match out.body.recv().await {
            Ok(Some(ResponseStream::Chunk(part))) => {
                let chunk: serde_json::Value =
                    serde_json::from_slice(part.bytes().unwrap().as_ref()).unwrap();
                text_deltas += usize::from(chunk["type"] == "content_block_delta");
            }
            Ok(other) => panic!("{other:?}"),
            Err(e) => break e.into_service_error(),
        }
    };
    assert_eq!(text_deltas, 2);
    assert!(
        matches!(err, ResponseStreamError::ModelTimeoutException(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_mid_stream_fault_on_an_operation_that_does_not_stream_is_its_error_before_the_response()
{
    let server = support::start().await;
    server
        .add_rules(
            json!({"fault": {"kind": "modelStreamErrorException", "at": {"afterTokens": 3}}}),
        )
        .await;
    let err = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 424);
    assert!(err.into_service_error().is_model_error_exception());
}

#[tokio::test]
async fn the_json_array_ends_with_the_exception_element() {
    let server = support::start().await;
    server
        .add_rules(json!({"fault": {"kind": "throttlingException", "at": {"afterTokens": 2}}}))
        .await;
    let body: serde_json::Value = server
        .http()
        .post(server.at(&format!("/model/{HAIKU}/converse-stream")))
        .json(&json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = body.as_array().unwrap();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e.as_object().unwrap().keys().next().unwrap().as_str())
        .collect();
    assert_eq!(
        names,
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "throttlingException"
        ]
    );
    assert_eq!(
        events[3]["throttlingException"]["message"],
        "Too many requests, please wait before trying again."
    );
}

fn client_with(
    server: &Server,
    timeouts: aws_smithy_types::timeout::TimeoutConfig,
) -> aws_sdk_bedrockruntime::Client {
    let conf = server
        .runtime()
        .config()
        .to_builder()
        .timeout_config(timeouts)
        .build();
    aws_sdk_bedrockruntime::Client::from_conf(conf)
}

#[tokio::test]
async fn a_stall_trips_the_client_s_read_timeout_before_and_inside_the_stream() {
    let server = support::start().await;
    server
        .add_rules(json!([
            {"match": {"operation": "Converse"}, "fault": {"kind": "stall"}},
            {"match": {"operation": "ConverseStream"}, "fault": {"kind": "stall", "at": {"afterTokens": 2}}}
        ]))
        .await;
    let client = client_with(
        &server,
        aws_smithy_types::timeout::TimeoutConfig::builder()
            .read_timeout(Duration::from_millis(500))
            .build(),
    );
    // Before the first byte: the read timeout.
    let err = tokio::time::timeout(
        NEVER,
        client
            .converse()
            .model_id(HAIKU)
            .messages(user("hi"))
            .send(),
    )
    .await
    .expect("the client gave up on its own")
    .unwrap_err();
    println!("Rust SDK, stall before the response: {err:?}");
    assert!(
        matches!(&err, SdkError::DispatchFailure(f) if f.is_timeout()),
        "{err:?}"
    );
    // Inside the stream: the SDK keeps no timer on an event stream (its stalled-stream
    // protection watches other bodies), so the consumer's own timeout per event is what fires.
    let mut out = client
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("hi"))
        .send()
        .await
        .unwrap();
    let mut deltas = 0;
    let stalled = loop {
        match tokio::time::timeout(Duration::from_millis(500), out.stream.recv()).await {
            Ok(Ok(Some(event))) => deltas += usize::from(event.is_content_block_delta()),
            Ok(other) => panic!("the stream went on: {other:?}"),
            Err(elapsed) => break elapsed,
        }
    };
    println!("Rust SDK, stall in the stream: {stalled:?} from the consumer's timeout");
    assert_eq!(deltas, 2);
}

#[tokio::test]
async fn a_timed_stall_pauses_the_stream_and_a_delay_the_first_byte() {
    let server = support::start().await;
    server
        .add_rules(json!([
            {"match": {"operation": "ConverseStream"}, "fault": {"kind": "stall", "ms": 50, "at": {"afterTokens": 2}}},
            {"match": {"operation": "Converse"}, "fault": {"kind": "delay", "ms": 50}}
        ]))
        .await;
    let s = stream_reply(&server, "hi").await;
    assert_eq!(s.error, None, "the stream goes on after the pause");
    assert!(s.texts.len() > 20);
    let reply = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("hi"))
        .send()
        .await
        .unwrap();
    assert!(reply.output.is_some());
    assert_eq!(server.hits("rule-2").await, 1);
}

#[tokio::test]
async fn a_disconnect_is_a_transport_error_never_a_hang() {
    let server = support::start().await;
    server
        .add_rules(json!([
            {"match": {"operation": "ConverseStream"}, "fault": {"kind": "disconnect", "at": {"afterTokens": 3}}},
            {"match": {"operation": "Converse"}, "fault": {"kind": "disconnect"}}
        ]))
        .await;
    // HTTP/1.1, inside the stream: the tokens, then a TCP reset.
    let mut out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("hi"))
        .send()
        .await
        .unwrap();
    let mut deltas = 0;
    let err = loop {
        match tokio::time::timeout(NEVER, out.stream.recv())
            .await
            .expect("no hang")
        {
            Ok(Some(event)) => deltas += usize::from(event.is_content_block_delta()),
            Ok(None) => panic!("the stream ended cleanly"),
            Err(e) => break e,
        }
    };
    println!("Rust SDK, disconnect in the stream: {err:?}");
    assert_eq!(deltas, 3);
    assert!(
        matches!(&err, SdkError::DispatchFailure(f) if f.is_io()),
        "{err:?}"
    );
    assert!(format!("{err:?}").contains("ConnectionReset"), "{err:?}");
    // Before the response: no status line at all.
    let err = tokio::time::timeout(
        NEVER,
        server
            .runtime()
            .converse()
            .model_id(HAIKU)
            .messages(user("hi"))
            .send(),
    )
    .await
    .expect("no hang")
    .unwrap_err();
    println!("Rust SDK, disconnect before the response: {err:?}");
    assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");

    // HTTP/2 (h2c): the stream is reset; the connection serves the next request.
    let h2 = server.h2c();
    let url = server.at(&format!("/model/{HAIKU}/converse-stream"));
    let body = json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]});
    let mut resp = h2
        .post(&url)
        .header("x-awsim-stream-format", "eventstream")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    let mut bytes = 0;
    let err = loop {
        match tokio::time::timeout(NEVER, resp.chunk())
            .await
            .expect("no hang")
        {
            Ok(Some(chunk)) => bytes += chunk.len(),
            Ok(None) => panic!("the stream ended cleanly"),
            Err(e) => break e,
        }
    };
    assert!(bytes > 0, "the tokens came before the reset");
    assert!(format!("{err:?}").contains("INTERNAL_ERROR"), "{err:?}");
    server
        .http()
        .delete(server.at("/_awsim/rules"))
        .send()
        .await
        .unwrap();
    let again = h2.post(&url).json(&body).send().await.unwrap();
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn faults_land_mid_way_through_a_backend_stream() {
    let words = ["one", " two", " three", " four", " five", " six"];
    let upstream =
        FakeOpenAi::always(Reply::Sse(fake::paced(&words, Duration::from_millis(5)))).await;
    let server = awsim_for(&upstream).await;
    server
        .add_rules(json!({"fault": {"kind": "modelStreamErrorException", "at": {"afterTokens": 2}}, "times": 1}))
        .await;
    let s = stream_reply(&server, "count").await;
    assert_eq!(s.texts, ["one", " two"]);
    assert!(s.error.unwrap().contains("ModelStreamErrorException"));

    // A disconnect cuts the client off and drops the backend request with it.
    server
        .add_rules(json!({"fault": {"kind": "disconnect", "at": {"afterTokens": 2}}, "times": 1}))
        .await;
    let s = stream_reply(&server, "count").await;
    assert_eq!(s.texts, ["one", " two"]);
    assert!(s.error.is_some());
    assert!(upstream.wait_disconnects(1, NEVER).await);

    // So does a client that gives up on a stall that would last for ever.
    server
        .add_rules(json!({"fault": {"kind": "stall", "at": {"afterTokens": 1}}, "times": 1}))
        .await;
    let mut out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("count"))
        .send()
        .await
        .unwrap();
    let first = out.stream.recv().await.unwrap();
    assert!(first.is_some());
    let waited = tokio::time::timeout(Duration::from_millis(300), async {
        while let Ok(Some(_)) = out.stream.recv().await {}
    })
    .await;
    assert!(waited.is_err(), "stalled");
    drop(out);
    assert!(upstream.wait_disconnects(2, NEVER).await);
}
