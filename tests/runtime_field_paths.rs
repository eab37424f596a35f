//! `additionalModelResponseFieldPaths` through the AWS SDK for Rust: Converse returns the requested
//! fields of the model's native InvokeModel response, ConverseStream those of its native stream's
//! last chunks in `messageStop`, nested as the pointers are; malformed pointers are refused.

use crate::backend::awsim_for;
use crate::runtime_converse::user;
use crate::support::fake_openai::{self as fake, FakeOpenAi, Reply, Step};
use crate::support::{self, Server};
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::types::{ConverseStreamOutput, InferenceConfiguration, StopReason};
use aws_smithy_types::{Document, Number};
use serde_json::{json, Value};

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

/// The document the SDK parsed, as JSON.
pub fn json_of(d: &Document) -> Value {
    match d {
        Document::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), json_of(v))).collect())
        }
        Document::Array(a) => Value::Array(a.iter().map(json_of).collect()),
        Document::Number(Number::PosInt(n)) => json!(n),
        Document::Number(Number::NegInt(n)) => json!(n),
        Document::Number(Number::Float(n)) => json!(n),
        Document::String(s) => json!(s),
        Document::Bool(b) => json!(b),
        Document::Null => Value::Null,
    }
}

/// Stop sequences of which only the second occurs in a canned answer ("This is a canned answer …").
fn stopping_at_canned() -> InferenceConfiguration {
    InferenceConfiguration::builder()
        .stop_sequences("NEVER SAID")
        .stop_sequences("canned")
        .build()
}

/// Converse with these paths: the stop reason and `additionalModelResponseFields`.
async fn converse(
    server: &Server,
    model: &str,
    paths: &[&str],
    config: Option<InferenceConfiguration>,
) -> (StopReason, Option<Value>) {
    let out = server
        .runtime()
        .converse()
        .model_id(model)
        .messages(user("Say something"))
        .set_inference_config(config)
        .set_additional_model_response_field_paths(Some(
            paths.iter().map(|p| p.to_string()).collect(),
        ))
        .send()
        .await
        .unwrap();
    (
        out.stop_reason,
        out.additional_model_response_fields.as_ref().map(json_of),
    )
}

/// ConverseStream with these paths: the stop reason and `messageStop.additionalModelResponseFields`.
async fn converse_stream(
    server: &Server,
    model: &str,
    paths: &[&str],
    config: Option<InferenceConfiguration>,
) -> (StopReason, Option<Value>) {
    let mut out = server
        .runtime()
        .converse_stream()
        .model_id(model)
        .messages(user("Say something"))
        .set_inference_config(config)
        .set_additional_model_response_field_paths(Some(
            paths.iter().map(|p| p.to_string()).collect(),
        ))
        .send()
        .await
        .unwrap();
    let mut stop = None;
    while let Some(event) = out.stream.recv().await.unwrap() {
        if let ConverseStreamOutput::MessageStop(e) = event {
            stop = Some((
                e.stop_reason,
                e.additional_model_response_fields.as_ref().map(json_of),
            ));
        }
    }
    stop.expect("no messageStop")
}

#[tokio::test]
async fn claude_names_the_stop_sequence_that_ended_the_answer() {
    let server = support::start().await;
    let paths = ["/stop_sequence", "/delta/stop_sequence", "/stop_reason"];
    // Converse reads Claude's InvokeModel response: `stop_sequence` is at its top.
    assert_eq!(
        converse(&server, HAIKU, &paths, Some(stopping_at_canned())).await,
        (
            StopReason::StopSequence,
            Some(json!({"stop_sequence": "canned", "stop_reason": "stop_sequence"}))
        )
    );
    // ConverseStream reads Claude's stream, where it is in the `message_delta` event's `delta`.
    assert_eq!(
        converse_stream(&server, HAIKU, &paths, Some(stopping_at_canned())).await,
        (
            StopReason::StopSequence,
            Some(json!({"delta": {"stop_sequence": "canned"}}))
        )
    );
}

#[tokio::test]
async fn a_field_that_is_null_comes_back_null_and_an_absent_one_not_at_all() {
    let server = support::start().await;
    let paths = ["/stop_sequence", "/delta/stop_sequence"];
    assert_eq!(
        converse(&server, HAIKU, &paths, None).await,
        (StopReason::EndTurn, Some(json!({"stop_sequence": null})))
    );
    assert_eq!(
        converse_stream(&server, HAIKU, &paths, None).await,
        (
            StopReason::EndTurn,
            Some(json!({"delta": {"stop_sequence": null}}))
        )
    );
    // The one a client library asks for on every Claude call: not in the collected response.
    assert_eq!(
        converse(&server, HAIKU, &["/delta/stop_sequence"], None).await,
        (StopReason::EndTurn, None)
    );
    assert_eq!(
        converse(&server, HAIKU, &["/no/such/field"], None).await,
        (StopReason::EndTurn, None)
    );
    assert_eq!(
        converse(&server, HAIKU, &[], None).await,
        (StopReason::EndTurn, None)
    );
}

#[tokio::test]
async fn every_family_answers_from_its_own_native_response() {
    let server = support::start().await;
    // (model, pointer into the InvokeModel response, its value; pointer into the stream's last
    // chunks, its value) for an answer ended by a stop sequence.
    let cases = [
        (
            "anthropic.claude-v2:1",
            "/stop",
            json!({"stop": "canned"}),
            "/stop",
            json!({"stop": "canned"}),
        ),
        (
            "amazon.titan-text-express-v1",
            "/results/0/completionReason",
            json!({"results": [{"completionReason": "STOP_CRITERIA_MET"}]}),
            "/completionReason",
            json!({"completionReason": "STOP_CRITERIA_MET"}),
        ),
        (
            "amazon.nova-lite-v1:0",
            "/stopReason",
            json!({"stopReason": "stop_sequence"}),
            "/messageStop/stopReason",
            json!({"messageStop": {"stopReason": "stop_sequence"}}),
        ),
        (
            "meta.llama3-8b-instruct-v1:0",
            "/stop_reason",
            json!({"stop_reason": "stop"}),
            "/stop_reason",
            json!({"stop_reason": "stop"}),
        ),
        (
            "mistral.mistral-large-2407-v1:0",
            "/choices/0/stop_reason",
            json!({"choices": [{"stop_reason": "stop"}]}),
            "/choices/0/stop_reason",
            json!({"choices": [{"stop_reason": "stop"}]}),
        ),
        (
            "cohere.command-r-v1:0",
            "/finish_reason",
            json!({"finish_reason": "COMPLETE"}),
            "/finish_reason",
            json!({"finish_reason": "COMPLETE"}),
        ),
        (
            "openai.gpt-oss-20b-1:0",
            "/choices/0/finish_reason",
            json!({"choices": [{"finish_reason": "stop"}]}),
            "/choices/0/finish_reason",
            json!({"choices": [{"finish_reason": "stop"}]}),
        ),
    ];
    for (model, collected, collected_value, streamed, streamed_value) in cases {
        let paths = [collected, streamed];
        let (stop, fields) = converse(&server, model, &paths, Some(stopping_at_canned())).await;
        assert_eq!(stop, StopReason::StopSequence, "{model}");
        assert_eq!(fields, Some(collected_value), "{model}: Converse");
        let (_, fields) = converse_stream(&server, model, &paths, Some(stopping_at_canned())).await;
        assert_eq!(fields, Some(streamed_value), "{model}: ConverseStream");
    }
}

#[tokio::test]
async fn pointers_that_are_not_json_pointers_are_refused() {
    let server = support::start().await;
    let client = server.runtime();
    let e = client
        .converse()
        .model_id(HAIKU)
        .messages(user("hi"))
        .additional_model_response_field_paths("/stop_sequence")
        .additional_model_response_field_paths("stop_sequence")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(e.code(), Some("ValidationException"));
    assert_eq!(
        e.message(),
        Some(
            "1 validation error detected: Value 'stop_sequence' at 'additionalModelResponseFieldPaths.2.member' \
             failed to satisfy constraint: Member must be a JSON Pointer (RFC 6901), which starts with '/': \
             for example '/stop_sequence'"
        )
    );
    for paths in [
        vec!["/a~2b".to_string()],
        vec![String::new()],
        vec!["/x".repeat(129)],
        (0..11).map(|i| format!("/f{i}")).collect(),
    ] {
        let e = client
            .converse_stream()
            .model_id(HAIKU)
            .messages(user("hi"))
            .set_additional_model_response_field_paths(Some(paths.clone()))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(e.code(), Some("ValidationException"), "{paths:?}");
        assert!(
            e.message()
                .unwrap()
                .contains("at 'additionalModelResponseFieldPaths"),
            "{e:?}"
        );
    }
}

// ----- through a backend: the stop sequence it reports ------------------------------------------

/// An answer "one two" that the backend says a stop sequence ended, in `finish`'s words.
fn stopped_by(finish: Value) -> Reply {
    Reply::Sse(vec![
        fake::role(),
        fake::text("one two"),
        Step::Data(finish),
        fake::usage(4, 2),
        Step::Done,
    ])
}

#[tokio::test]
async fn the_stop_sequence_a_backend_reports_comes_back() {
    let three = || {
        Some(
            InferenceConfiguration::builder()
                .stop_sequences("END")
                .stop_sequences("three")
                .build(),
        )
    };
    let backends = [
        // vLLM: `stop_reason` beside the finish reason.
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "stop_reason": "three"}]}),
        // SGLang: `matched_stop`.
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "matched_stop": "three"}]}),
        // llama.cpp run verbose: its native result under `__verbose`.
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "__verbose": {"stop_type": "word", "stopping_word": "three"}}),
    ];
    for finish in backends {
        let upstream = FakeOpenAi::always(stopped_by(finish.clone())).await;
        let server = awsim_for(&upstream).await;
        let paths = ["/stop_sequence", "/delta/stop_sequence"];
        assert_eq!(
            converse(&server, HAIKU, &paths, three()).await,
            (
                StopReason::StopSequence,
                Some(json!({"stop_sequence": "three"}))
            ),
            "{finish}"
        );
        assert_eq!(
            converse_stream(&server, HAIKU, &paths, three()).await,
            (
                StopReason::StopSequence,
                Some(json!({"delta": {"stop_sequence": "three"}}))
            ),
            "{finish}"
        );
        assert_eq!(upstream.last_body()["stop"], json!(["END", "three"]));
    }
}

#[tokio::test]
async fn a_backend_that_does_not_say_which_sequence_stopped_it_gives_null() {
    let upstream = FakeOpenAi::always(stopped_by(
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    ))
    .await;
    let server = awsim_for(&upstream).await;
    let config = Some(
        InferenceConfiguration::builder()
            .stop_sequences("three")
            .build(),
    );
    assert_eq!(
        converse_stream(&server, HAIKU, &["/delta/stop_sequence"], config).await,
        (
            StopReason::EndTurn,
            Some(json!({"delta": {"stop_sequence": null}}))
        )
    );
}
