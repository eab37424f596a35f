//! What awsim holds a backend to: the request's `maxTokens`, the two timeouts, the size of whole
//! answers, and the secrets in its URL.

use crate::backend::{awsim_for, config_for, consume, stream_reply, user, HAIKU};
use crate::support::fake_openai::{self as fake, FakeOpenAi, Reply, Step};
use crate::support::{self, Server};
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::types::{InferenceConfiguration, StopReason};
use serde_json::{json, Value};
use std::time::Duration;

async fn health(server: &Server) -> Value {
    server
        .http()
        .get(server.at("/_awsim/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A backend that ignores `max_tokens`: fifty tokens, then it waits for more to be asked.
fn runaway() -> Vec<Step> {
    let mut steps = vec![fake::role()];
    steps.extend((0..50).map(|i| fake::text(&format!(" t{i}"))));
    steps.push(Step::Hold);
    steps
}

#[tokio::test]
async fn a_backend_that_ignores_max_tokens_is_stopped_at_the_limit_and_its_connection_closed() {
    let upstream = FakeOpenAi::always(Reply::Sse(runaway())).await;
    let server = awsim_for(&upstream).await;
    let out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("count"))
        .inference_config(InferenceConfiguration::builder().max_tokens(5).build())
        .send()
        .await
        .unwrap();
    let s = consume(out).await;
    assert_eq!(s.error, None);
    assert_eq!(s.texts, [" t0", " t1", " t2", " t3", " t4"]);
    assert_eq!(s.stop, Some(StopReason::MaxTokens));
    assert_eq!(s.usage.1, 5, "outputTokens is the limit");
    assert_eq!(upstream.last_body()["max_tokens"], 5, "the limit was sent");
    assert!(
        upstream.wait_disconnects(1, Duration::from_secs(3)).await,
        "the backend connection is closed, not read on"
    );

    // Converse collects the same answer.
    let out = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("count"))
        .inference_config(InferenceConfiguration::builder().max_tokens(3).build())
        .send()
        .await
        .unwrap();
    assert_eq!(out.stop_reason, StopReason::MaxTokens);
    let text = out.output.unwrap().as_message().unwrap().content[0]
        .as_text()
        .unwrap()
        .clone();
    assert_eq!(text, " t0 t1 t2");
    assert_eq!(out.usage.unwrap().output_tokens, 3);
}

#[tokio::test]
async fn a_backend_that_keeps_to_max_tokens_ends_its_own_answer() {
    let upstream =
        FakeOpenAi::always(Reply::Sse(fake::answer(&["a", "b", "c"], "length", 4))).await;
    let server = awsim_for(&upstream).await;
    let out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("abc"))
        .inference_config(InferenceConfiguration::builder().max_tokens(3).build())
        .send()
        .await
        .unwrap();
    let s = consume(out).await;
    assert_eq!(s.texts, ["a", "b", "c"]);
    assert_eq!(s.stop, Some(StopReason::MaxTokens));
    assert_eq!(s.usage, (4, 3), "the backend's own counts");
    assert_eq!(upstream.disconnects(), 0, "read to its end");
}

#[tokio::test]
async fn the_first_byte_may_take_longer_than_the_silence_allowed_between_tokens() {
    let mut steps = vec![Step::Delay(Duration::from_millis(600))];
    steps.extend(fake::answer(&["slow", " start"], "stop", 3));
    let upstream = FakeOpenAi::always(Reply::Sse(steps)).await;
    let mut config = config_for(&upstream.url);
    let backend = config.backend.as_mut().unwrap();
    backend.first_byte_timeout = Duration::from_secs(5);
    backend.idle_timeout = Duration::from_millis(200);
    let server = support::start_with(config).await;
    let s = stream_reply(&server, "hi").await;
    assert_eq!(s.error, None);
    assert_eq!(s.texts, ["slow", " start"]);

    // Silence longer than that between two tokens ends the stream with a modeled exception.
    let upstream = FakeOpenAi::always(Reply::Sse(vec![
        fake::role(),
        fake::text("a"),
        Step::Delay(Duration::from_millis(600)),
        fake::text("b"),
    ]))
    .await;
    let mut config = config_for(&upstream.url);
    config.backend.as_mut().unwrap().idle_timeout = Duration::from_millis(200);
    let server = support::start_with(config).await;
    let s = stream_reply(&server, "hi").await;
    assert_eq!(s.texts, ["a"]);
    let err = s.error.unwrap();
    assert!(err.contains("ModelStreamErrorException"), "{err}");
    assert!(err.contains("--bedrock-backend-idle-timeout"), "{err}");

    // 0: silence mid-answer is not bounded.
    let upstream = FakeOpenAi::always(Reply::Sse(vec![
        fake::role(),
        fake::text("a"),
        Step::Delay(Duration::from_millis(600)),
        fake::text("b"),
        fake::finish("stop"),
        fake::usage(3, 2),
        Step::Done,
    ]))
    .await;
    let mut config = config_for(&upstream.url);
    config.backend.as_mut().unwrap().idle_timeout = Duration::ZERO;
    let server = support::start_with(config).await;
    let s = stream_reply(&server, "hi").await;
    assert_eq!(s.error, None);
    assert_eq!(s.texts, ["a", "b"]);
}

/// A 64 MiB JSON answer: four times what awsim reads whole.
const HUGE: usize = 64 << 20;

#[tokio::test]
async fn whole_answers_over_16_mib_are_refused_unread() {
    // With its length announced (refused before reading) and without (refused at 16 MiB).
    for announced in [true, false] {
        let upstream = FakeOpenAi::start(move |req| match req.path.as_str() {
            "/v1/embeddings" | "/v1/models" => Reply::Huge {
                len: HUGE,
                announced,
            },
            _ => Reply::Status(404, "{}".into()),
        })
        .await;
        let server = awsim_for(&upstream).await;
        let err = server
            .runtime()
            .invoke_model()
            .model_id("amazon.titan-embed-text-v2:0")
            .body(aws_sdk_bedrockruntime::primitives::Blob::new(
                json!({"inputText": "hi"}).to_string(),
            ))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_model_error_exception(), "{err:?}");
        assert!(
            err.message().unwrap().contains("more than 16 MiB"),
            "{err:?}"
        );
        assert!(
            upstream.wait_disconnects(1, Duration::from_secs(10)).await,
            "announced: {announced}: awsim hung up instead of reading the rest"
        );

        let status = &health(&server).await["backendStatus"];
        assert_eq!(status["reachable"], true);
        assert_eq!(
            status["error"],
            "GET /models answered with more than 16 MiB"
        );
        assert!(
            upstream.wait_disconnects(2, Duration::from_secs(10)).await,
            "announced: {announced}: the probe hung up too"
        );
    }
}

#[tokio::test]
async fn health_lists_the_first_twenty_models_and_counts_them_all() {
    let upstream = FakeOpenAi::start(|_| {
        let data: Vec<Value> = (0..100)
            .map(|i| json!({"id": format!("model-{i}")}))
            .collect();
        Reply::Json(json!({"object": "list", "data": data}))
    })
    .await;
    let server = awsim_for(&upstream).await;
    let status = health(&server).await["backendStatus"].clone();
    assert_eq!(status["modelCount"], 100);
    let listed = status["models"].as_array().unwrap();
    assert_eq!(listed.len(), 20);
    assert_eq!(listed[0], "model-0");
    assert_eq!(
        status["missingModels"],
        json!(["llama3.1:8b", "nomic-embed-text"])
    );
}

#[tokio::test]
async fn credentials_in_the_backend_url_are_sent_but_never_shown() {
    let upstream = FakeOpenAi::start(|req| match req.path.as_str() {
        "/v1/chat/completions" => Reply::Status(404, json!({"error": "no such model"}).to_string()),
        _ => Reply::Json(json!({"data": []})),
    })
    .await;
    let url = upstream.url.replace("http://", "http://me:s3cret@");
    let mut config = config_for(&url);
    config.backend.as_mut().unwrap().api_key = None;
    let server = support::start_with(config).await;
    let shown = upstream.url.replace("http://", "http://***@");

    let err = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let msg = err.message().unwrap();
    assert!(msg.contains(&shown) && !msg.contains("s3cret"), "{msg}");
    // They travel as Basic authentication.
    assert_eq!(
        upstream.requests()[0].headers["authorization"],
        "Basic bWU6czNjcmV0"
    );

    let health = health(&server).await;
    assert_eq!(health["backend"], shown.as_str());
    assert_eq!(health["backendStatus"]["url"], shown.as_str());
    assert!(!health.to_string().contains("s3cret"));

    // Nor when the backend cannot be reached.
    let gone = crate::backend::unused_url()
        .await
        .replace("http://", "http://me:s3cret@");
    let server = support::start_with(config_for(&gone)).await;
    let err = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let msg = err.message().unwrap();
    assert!(msg.contains("***@") && !msg.contains("s3cret"), "{msg}");
}

#[tokio::test]
async fn the_start_up_log_and_flag_errors_never_show_credentials() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_awsim"))
        .args([
            "--port",
            "0",
            "--bedrock-backend",
            "http://me:s3cret@127.0.0.1:9/v1",
            "--bedrock-backend-proxy",
            "http://proxyuser:pr0xypass@127.0.0.1:9",
        ])
        .env_remove("AWSIM_PORT")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        first.contains("backend http://***@127.0.0.1:9/v1 via proxy http://***@127.0.0.1:9"),
        "{first}"
    );
    assert!(
        !first.contains("s3cret") && !first.contains("pr0xypass"),
        "{first}"
    );
    child.kill().await.unwrap();

    // A URL refused at start-up is quoted without them too.
    for url in ["ftp://me:s3cret@backend/v1", "me:s3cret@backend/v1"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_awsim"))
            .args(["--bedrock-backend", url])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("***@backend/v1"), "{stderr}");
        assert!(!stderr.contains("s3cret"), "{stderr}");
    }
}
