//! Quotas: a token bucket per model and region, by requests and tokens per window
//! (`--bedrock-quota`, or a rule's `quota`); a call over it is throttled before the first byte.

use crate::backend::{user, HAIKU};
use crate::support::{self, Server};
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use awsim::cli::Parsed;
use awsim::Config;
use serde_json::json;
use std::time::Duration;

/// A Converse call: Ok, or the error code.
async fn call(server: &Server, model: &str, region: &str) -> Result<(), String> {
    server
        .runtime_in(region)
        .converse()
        .model_id(model)
        .messages(user("hi"))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().unwrap_or("?").to_string())
}

/// awsim started with these flags (on a free port).
async fn start_with_flags(flags: &[&str]) -> Server {
    let parsed = Parsed::from_args(std::iter::once("awsim").chain(flags.iter().copied())).unwrap();
    let quota = Config::from_cli(&parsed).unwrap().quota;
    support::start_with(Config {
        quota,
        ..Config::default()
    })
    .await
}

fn throttled() -> Result<(), String> {
    Err("ThrottlingException".to_string())
}

#[tokio::test]
async fn a_quota_of_three_requests_throttles_the_fourth_and_recovers_after_the_window() {
    let server = support::start().await;
    server
        .add_rules(json!({"id": "three", "match": {"modelId": "anthropic.*"},
                          "quota": {"rpm": 3, "windowSeconds": 3}}))
        .await;
    for _ in 0..3 {
        assert_eq!(call(&server, HAIKU, "us-east-1").await, Ok(()));
    }
    assert_eq!(call(&server, HAIKU, "us-east-1").await, throttled());
    assert_eq!(
        server.hits("three").await,
        1,
        "the rule fired once: the throttle"
    );
    // Each model and region has its own bucket; a model the rule does not match has none.
    assert_eq!(call(&server, HAIKU, "eu-west-1").await, Ok(()));
    assert_eq!(
        call(
            &server,
            "anthropic.claude-3-5-haiku-20241022-v1:0",
            "us-east-1"
        )
        .await,
        Ok(())
    );
    assert_eq!(
        call(&server, "amazon.nova-lite-v1:0", "us-east-1").await,
        Ok(())
    );
    // The bucket refills over the window.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(call(&server, HAIKU, "us-east-1").await, Ok(()));
}

#[tokio::test]
async fn bedrock_quota_counts_requests_and_tokens_per_minute() {
    let server = start_with_flags(&["--bedrock-quota", "2"]).await;
    assert_eq!(call(&server, HAIKU, "us-east-1").await, Ok(()));
    assert_eq!(call(&server, HAIKU, "us-east-1").await, Ok(()));
    assert_eq!(call(&server, HAIKU, "us-east-1").await, throttled());
    // CountTokens is not inference: it counts against nothing.
    let count = server
        .runtime()
        .count_tokens()
        .model_id(HAIKU)
        .input(aws_sdk_bedrockruntime::types::CountTokensInput::Converse(
            aws_sdk_bedrockruntime::types::ConverseTokensRequest::builder()
                .messages(user("hi"))
                .build(),
        ))
        .send()
        .await;
    assert!(count.is_ok(), "{count:?}");
    // A reset refills every bucket.
    server
        .http()
        .post(server.at("/_awsim/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(call(&server, HAIKU, "us-east-1").await, Ok(()));

    // Tokens: a canned answer's few dozen output tokens use up a quota of 20 per minute.
    let server = start_with_flags(&["--bedrock-quota", "100,20"]).await;
    assert_eq!(call(&server, HAIKU, "us-east-1").await, Ok(()));
    assert_eq!(call(&server, HAIKU, "us-east-1").await, throttled());
}
