//! `--auth sigv4`: the AWS SDK for Rust signing with `test:test` gets through on both APIs; a wrong
//! secret, an unknown key, a stale date, a body changed after signing, a bad API key and no
//! credentials at all each get Bedrock's error, read by the SDK; `/_awsim/` stays open.

use crate::runtime_converse::{consume, user};
use crate::support::{self, Server};
use aws_sdk_bedrockruntime::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_bedrockruntime::config::{
    ConfigBag, Credentials, Intercept, Region, RuntimeComponents, Token,
};
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use awsim::auth::Auth;
use awsim::Config;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const API_KEY: &str = "ABSKQmVkcm9ja0FQSUtleS1leGFtcGxl";

/// awsim with `--auth sigv4`, the default key pair `test:test` and one API key.
async fn start() -> Server {
    support::start_with(Config {
        auth: Some(Auth::new(
            vec![("test".into(), "test".into())],
            vec![API_KEY.into()],
        )),
        ..Config::default()
    })
    .await
}

/// The Rust SDK's runtime client, signing with `akid:secret`.
fn runtime_config(
    server: &Server,
    akid: &str,
    secret: &str,
) -> aws_sdk_bedrockruntime::config::Builder {
    aws_sdk_bedrockruntime::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .endpoint_url(&server.url)
        .credentials_provider(Credentials::new(akid, secret, None, None, "auth-tests"))
        .retry_config(RetryConfig::disabled())
}

fn runtime(server: &Server, akid: &str, secret: &str) -> aws_sdk_bedrockruntime::Client {
    aws_sdk_bedrockruntime::Client::from_conf(runtime_config(server, akid, secret).build())
}

/// The error code and message the SDK read from a failed Converse.
async fn converse_error(client: &aws_sdk_bedrockruntime::Client) -> (String, String) {
    let err = client
        .converse()
        .model_id(HAIKU)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err();
    let status = err.raw_response().map(|r| r.status().as_u16());
    let err = err.into_service_error();
    assert_eq!(status, Some(403), "{err:?}");
    (
        err.code().unwrap_or_default().to_string(),
        err.message().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn the_sdk_signing_with_test_test_gets_through_on_both_apis() {
    let server = start().await;
    let out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("hello"))
        .send()
        .await
        .unwrap();
    let streamed = consume(out).await;
    assert!(streamed.text_deltas > 10);
    let models = server
        .bedrock()
        .list_foundation_models()
        .by_provider("Meta")
        .send()
        .await
        .unwrap();
    assert!(!models.model_summaries().is_empty());
    // The SDK sends the ARN's `:` and `/` percent-encoded and signs them encoded twice.
    let arn = "arn:aws:bedrock:us-east-1:000000000000:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0";
    let out = server
        .runtime()
        .converse()
        .model_id(arn)
        .messages(user("hello"))
        .send()
        .await
        .unwrap();
    assert!(out.output().is_some());
}

#[tokio::test]
async fn a_wrong_secret_is_an_invalid_signature_that_shows_the_canonical_request() {
    let server = start().await;
    let (code, message) = converse_error(&runtime(&server, "test", "wrong")).await;
    assert_eq!(code, "InvalidSignatureException");
    assert!(
        message.starts_with("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."),
        "{message}"
    );
    assert!(
        message.contains("\n/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse\n"),
        "{message}"
    );
    assert!(
        message.contains("The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unknown_access_key_is_an_unrecognized_client() {
    let server = start().await;
    assert_eq!(
        converse_error(&runtime(&server, "AKIAUNKNOWN", "test")).await,
        (
            "UnrecognizedClientException".into(),
            "The security token included in the request is invalid.".into()
        )
    );
}

#[tokio::test]
async fn a_signature_dated_20_minutes_ago_has_expired() {
    let server = start().await;
    let twenty_minutes_ago = SystemTime::now() - Duration::from_secs(20 * 60);
    let client = aws_sdk_bedrockruntime::Client::from_conf(
        runtime_config(&server, "test", "test")
            .time_source(aws_smithy_async::time::StaticTimeSource::new(
                twenty_minutes_ago,
            ))
            .build(),
    );
    let (code, message) = converse_error(&client).await;
    assert_eq!(code, "InvalidSignatureException");
    assert!(message.starts_with("Signature expired: "), "{message}");
    assert!(message.ends_with(" - 15 min.)"), "{message}");
}

/// Changes the body after the SDK signed it (same length, one character).
#[derive(Debug)]
struct TamperWithBody;

impl Intercept for TamperWithBody {
    fn name(&self) -> &'static str {
        "TamperWithBody"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let body = context.request().body().bytes().unwrap_or_default();
        let tampered = String::from_utf8_lossy(body).replace("\"hi\"", "\"ho\"");
        *context.request_mut().body_mut() = SdkBody::from(tampered);
        Ok(())
    }
}

#[tokio::test]
async fn a_body_changed_after_signing_is_an_invalid_signature() {
    let server = start().await;
    let client = aws_sdk_bedrockruntime::Client::from_conf(
        runtime_config(&server, "test", "test")
            .interceptor(TamperWithBody)
            .build(),
    );
    let (code, message) = converse_error(&client).await;
    assert_eq!(code, "InvalidSignatureException");
    assert!(message.contains("The Canonical String"), "{message}");
}

/// The SDK's bearer auth (what `AWS_BEARER_TOKEN_BEDROCK` configures), with no AWS credentials.
fn bearer_client(server: &Server, key: &str) -> aws_sdk_bedrockruntime::Client {
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .endpoint_url(&server.url)
        .bearer_token(Token::new(key, None))
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_bedrockruntime::Client::from_conf(conf)
}

#[tokio::test]
async fn a_configured_api_key_gets_through_and_another_is_access_denied() {
    let server = start().await;
    let out = bearer_client(&server, API_KEY)
        .converse()
        .model_id(HAIKU)
        .messages(user("hello"))
        .send()
        .await
        .unwrap();
    assert!(out.output().is_some());
    let err = bearer_client(&server, "ABSK-not-configured")
        .converse()
        .model_id(HAIKU)
        .messages(user("hello"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_access_denied_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some("Authentication failed: Please make sure your API Key is valid.")
    );
}

#[tokio::test]
async fn no_credentials_is_a_missing_token_and_awsim_endpoints_stay_open() {
    let server = start().await;
    let resp = server
        .http()
        .post(server.at(&format!("/model/{HAIKU}/converse")))
        .json(&json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["message"], "Missing Authentication Token");
    for (method, path) in [("GET", "/_awsim/health"), ("POST", "/_awsim/reset")] {
        let resp = server
            .http()
            .request(method.parse().unwrap(), server.at(path))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
    }
    // Health says which credentials requests need, naming access key ids and never a secret.
    let health: Value = server
        .http()
        .get(server.at("/_awsim/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["auth"]["mode"], "sigv4");
    assert_eq!(health["auth"]["accessKeyIds"], serde_json::json!(["test"]));
    assert!(!health.to_string().contains("\"test:test\""));
}

/// Signs `POST path` with `body` for `test:test` at `time` with aws-sigv4, as the Rust SDK signs:
/// the signature in the headers, or (`presign`) a presigned URL good for `expires`.
fn signed(
    server: &Server,
    path: &str,
    body: &[u8],
    time: SystemTime,
    presign: Option<Duration>,
) -> (String, Vec<(String, String)>) {
    let identity = Credentials::new("test", "test", None, None, "t").into();
    let mut settings = SigningSettings::default();
    if let Some(expires) = presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("bedrock")
        .time(time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let url = server.at(path);
    let headers = [("content-type", "application/json")];
    let request = SignableRequest::new(
        "POST",
        url.clone(),
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let mut req = hyper::Request::post(&url)
        .header("content-type", "application/json")
        .body(())
        .unwrap();
    instructions.apply_to_request_http1x(&mut req);
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
        .collect();
    (req.uri().to_string(), headers)
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, Value) {
    let mut req = client.post(url).body(body.to_vec());
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn a_presigned_converse_url_gets_through_until_it_expires() {
    let server = start().await;
    let path = format!("/model/{}/converse", HAIKU.replace(':', "%3A"));
    let body = br#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#;
    let (url, headers) = signed(
        &server,
        &path,
        body,
        SystemTime::now(),
        Some(Duration::from_secs(300)),
    );
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let (status, answer) = post(&server.http(), &url, &headers, body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["stopReason"], "end_turn");
    // Signed ten minutes ago for five minutes.
    let ten_minutes_ago = SystemTime::now() - Duration::from_secs(600);
    let (url, headers) = signed(
        &server,
        &path,
        body,
        ten_minutes_ago,
        Some(Duration::from_secs(300)),
    );
    let (status, answer) = post(&server.http(), &url, &headers, body).await;
    assert_eq!(status, 403);
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("Signature expired: ") && message.ends_with(" - 5 min.)"),
        "{message}"
    );
}

#[tokio::test]
async fn a_signed_host_verifies_when_http2_carries_it_as_authority() {
    let server = start().await;
    let path = format!("/model/{}/converse", HAIKU.replace(':', "%3A"));
    let body = br#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#;
    let (url, headers) = signed(&server, &path, body, SystemTime::now(), None);
    // No Host header over HTTP/2: the host travels as `:authority`.
    let headers: Vec<_> = headers.into_iter().filter(|(k, _)| k != "host").collect();
    let (status, answer) = post(&server.h2c(), &url, &headers, body).await;
    assert_eq!(status, 200, "{answer}");
}
