//! Backends over https: a private CA (`--bedrock-backend-ca`), proxies (`HTTPS_PROXY` and
//! `--bedrock-backend-proxy`, never the environment's for a backend on this machine), and a
//! certificate that does not verify.

use crate::backend::{config_for, consume, stream_reply, user, HAIKU};
use crate::support::connect_proxy::ConnectProxy;
use crate::support::fake_openai::{self as fake, FakeOpenAi, Reply};
use crate::support::tls::TestCa;
use crate::support::{self, runtime_at};
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// The usual routes, chat answering "Hello over TLS".
fn routes() -> impl Fn(&fake::Recorded) -> Reply + Send + Sync {
    fake::routes(fake::answer(&["Hello", " over", " TLS"], "stop", 7), 8)
}

#[tokio::test]
async fn an_https_backend_signed_by_a_private_ca_answers_once_the_ca_is_trusted() {
    let ca = TestCa::new("private");
    let upstream = FakeOpenAi::start_tls(routes(), ca.server(&["localhost"]), "localhost").await;
    assert!(upstream.url.starts_with("https://localhost:"));
    let mut config = config_for(&upstream.url);
    // What `--bedrock-backend-ca ca.pem` reads.
    config.backend.as_mut().unwrap().ca = awsim::config::read_ca(&ca.pem_file()).unwrap();
    let server = support::start_with(config).await;

    let s = stream_reply(&server, "hi").await;
    assert_eq!(s.error, None);
    assert_eq!(s.texts, ["Hello", " over", " TLS"]);
    assert_eq!(
        upstream.requests()[0].headers["authorization"],
        "Bearer sk-test"
    );

    let health: Value = server
        .http()
        .get(server.at("/_awsim/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["backendStatus"]["reachable"], true, "{health}");
    assert_eq!(health["backendStatus"]["modelCount"], 2);
}

/// A Converse call's ServiceUnavailableException message.
async fn service_unavailable(server: &support::Server) -> String {
    let err = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, ConverseError::ServiceUnavailableException(_)),
        "{err:?}"
    );
    err.message().unwrap().to_string()
}

#[tokio::test]
async fn a_certificate_that_does_not_verify_is_service_unavailable_naming_the_tls_error() {
    let ca = TestCa::new("untrusted");
    let upstream = FakeOpenAi::start_tls(routes(), ca.server(&["localhost"]), "localhost").await;
    // The system's roots do not know this CA.
    let server = support::start_with(config_for(&upstream.url)).await;
    let msg = service_unavailable(&server).await;
    assert!(msg.contains(&upstream.url), "{msg}");
    assert!(msg.contains("TLS handshake"), "{msg}");
    assert!(msg.contains("UnknownIssuer"), "{msg}");
    assert!(msg.contains("--bedrock-backend-ca"), "{msg}");

    // A trusted CA does not make a certificate for another name good.
    let elsewhere =
        FakeOpenAi::start_tls(routes(), ca.server(&["elsewhere.test"]), "localhost").await;
    let mut config = config_for(&elsewhere.url);
    config.backend.as_mut().unwrap().ca = awsim::config::read_ca(&ca.pem_file()).unwrap();
    let server = support::start_with(config).await;
    let msg = service_unavailable(&server).await;
    assert!(msg.contains("not valid for name \"localhost\""), "{msg}");
    assert!(upstream.requests().is_empty() && elsewhere.requests().is_empty());
}

/// The awsim binary, started with `args` and the environment `env` (no other proxy variable), on
/// a free port; killed when dropped.
struct Binary {
    url: String,
    _child: tokio::process::Child,
}

impl Binary {
    async fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_awsim"));
        command.args(["--port", "0", "--workers", "1"]).args(args);
        for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"] {
            command.env_remove(var).env_remove(var.to_lowercase());
        }
        let mut child = command
            .envs(env.iter().copied())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                let line = lines.next_line().await.unwrap().expect("awsim exited");
                if let Some(rest) = line.split("listening on ").nth(1) {
                    return rest.split_whitespace().next().unwrap().to_string();
                }
            }
        })
        .await
        .unwrap();
        // Keep reading its log, so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { url, _child: child }
    }

    async fn converse_stream(&self, text: &str) -> crate::backend::Seen {
        let out = runtime_at(&self.url, "us-east-1")
            .converse_stream()
            .model_id(HAIKU)
            .messages(user(text))
            .send()
            .await
            .unwrap();
        consume(out).await
    }
}

#[tokio::test]
async fn https_proxy_in_the_environment_carries_the_backend_connection() {
    let ca = TestCa::new("proxied");
    // A name only the proxy can resolve: the answer can only have come through it.
    let upstream =
        FakeOpenAi::start_tls(routes(), ca.server(&["upstream.test"]), "upstream.test").await;
    let proxy = ConnectProxy::start(HashMap::from([(
        "upstream.test".to_string(),
        upstream.addr,
    )]))
    .await;
    let ca_file = ca.pem_file();
    let awsim = Binary::start(
        &[
            "--bedrock-backend",
            &upstream.url,
            "--bedrock-backend-ca",
            ca_file.to_str().unwrap(),
        ],
        &[("HTTPS_PROXY", &proxy.url)],
    )
    .await;
    let s = awsim.converse_stream("hi").await;
    assert_eq!(s.error, None);
    assert_eq!(s.texts, ["Hello", " over", " TLS"]);
    assert_eq!(
        proxy.tunnels(),
        [format!("upstream.test:{}", upstream.addr.port())]
    );

    // NO_PROXY names the hosts reached directly; this one then cannot be resolved at all.
    let direct = Binary::start(
        &[
            "--bedrock-backend",
            &upstream.url,
            "--bedrock-backend-ca",
            ca_file.to_str().unwrap(),
        ],
        &[("HTTPS_PROXY", &proxy.url), ("NO_PROXY", "upstream.test")],
    )
    .await;
    let err = runtime_at(&direct.url, "us-east-1")
        .converse()
        .model_id(HAIKU)
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_service_unavailable_exception(), "{err:?}");
    assert_eq!(proxy.tunnels().len(), 1);
}

#[tokio::test]
async fn a_backend_on_this_machine_is_never_sent_through_the_environments_proxy() {
    let upstream = FakeOpenAi::start(routes()).await;
    // A proxy that answers anything but CONNECT with 405: a request sent to it would fail.
    let proxy = ConnectProxy::start(HashMap::new()).await;
    let everywhere = [
        ("HTTP_PROXY", proxy.url.as_str()),
        ("HTTPS_PROXY", proxy.url.as_str()),
        ("ALL_PROXY", proxy.url.as_str()),
    ];
    for backend in [
        upstream.url.clone(),
        upstream.url.replace("127.0.0.1", "localhost"),
    ] {
        let awsim = Binary::start(&["--bedrock-backend", &backend], &everywhere).await;
        let s = awsim.converse_stream("hi").await;
        assert_eq!(s.error, None, "{backend}");
        assert_eq!(s.texts, ["Hello", " over", " TLS"]);
    }
    assert!(proxy.tunnels().is_empty());
}

#[tokio::test]
async fn bedrock_backend_proxy_sends_even_a_local_backend_through_the_proxy() {
    let ca = TestCa::new("explicit");
    let upstream = FakeOpenAi::start_tls(routes(), ca.server(&["localhost"]), "localhost").await;
    let proxy = ConnectProxy::start(HashMap::new()).await;
    let mut config = config_for(&upstream.url);
    let backend = config.backend.as_mut().unwrap();
    backend.ca = awsim::config::read_ca(&ca.pem_file()).unwrap();
    backend.proxy = Some(proxy.url.clone());
    let server = support::start_with(config).await;
    let s = stream_reply(&server, "hi").await;
    assert_eq!(s.error, None);
    assert_eq!(s.texts, ["Hello", " over", " TLS"]);
    assert_eq!(
        proxy.tunnels(),
        [format!("localhost:{}", upstream.addr.port())]
    );
}
