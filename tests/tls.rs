//! HTTPS on the same port as HTTP/1.1 and h2c: the generated certificate authority is trusted by
//! the AWS SDK for Rust and curl; the user's own certificate works too. (boto3 and the JavaScript
//! SDK: tests/python/test_tls.py, tests/js/tls.test.js.)

use crate::runtime_converse::{consume, user};
use crate::support::{self, Server};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use awsim::server::tls::TlsSetup;
use awsim::Config;
use serde_json::Value;

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

async fn start_https() -> (Server, String) {
    let tls = TlsSetup::generate(&[]).unwrap();
    let ca = tls.ca_pem().unwrap().to_string();
    let server = support::start_with(Config {
        tls: Some(tls),
        ..Config::default()
    })
    .await;
    (server, ca)
}

/// The Rust SDK over https, trusting `ca` (the README's example).
fn https_runtime(server: &Server, ca: &str) -> aws_sdk_bedrockruntime::Client {
    use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(TrustStore::empty().with_pem_certificate(ca.as_bytes()))
                .build()
                .unwrap(),
        )
        .build_https();
    let config = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("https://localhost:{}", server.addr.port()))
        .credentials_provider(Credentials::new("test", "test", None, None, "awsim"))
        .http_client(http_client)
        .build();
    aws_sdk_bedrockruntime::Client::from_conf(config)
}

#[tokio::test]
async fn the_rust_sdk_converses_over_https_trusting_the_generated_ca() {
    let (server, ca) = start_https().await;
    let client = https_runtime(&server, &ca);
    let out = client
        .converse()
        .model_id(HAIKU)
        .messages(user("Hello over TLS"))
        .send()
        .await
        .unwrap();
    assert!(out.output.is_some());
    let streamed = consume(
        client
            .converse_stream()
            .model_id(HAIKU)
            .messages(user("Hello over TLS"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(streamed.events.first(), Some(&"messageStart"));
    assert!(streamed.text_deltas > 1, "{streamed:?}");
    // Plain HTTP on the same port keeps working.
    server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("Hello in the clear"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn an_sdk_that_does_not_trust_the_ca_fails_the_handshake() {
    let (server, _ca) = start_https().await;
    let other = TlsSetup::generate(&[]).unwrap();
    let err = https_runtime(&server, other.ca_pem().unwrap())
        .converse()
        .model_id(HAIKU)
        .messages(user("Hi"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            aws_sdk_bedrockruntime::error::SdkError::DispatchFailure(_)
        ),
        "{err:?}"
    );
}

async fn curl(args: &[&str]) -> Option<String> {
    let out = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version} %{http_code}",
        ])
        .args(args)
        .output()
        .await
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test]
async fn curl_over_tls_http1_http2_and_plain_on_one_port() {
    let (server, ca) = start_https().await;
    let dir = std::env::temp_dir().join(format!("awsim-tls-test-{}", server.addr.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    let ca_file = ca_file.to_str().unwrap();
    let port = server.addr.port();
    let https = format!("https://localhost:{port}/_awsim/health");
    let https_ip = format!("https://127.0.0.1:{port}/_awsim/health");
    let http = server.at("/_awsim/health");
    let Some(first) = curl(&["--cacert", ca_file, "--http1.1", &https]).await else {
        println!("curl not installed; skipped");
        return;
    };
    assert_eq!(first, "1.1 200");
    assert_eq!(
        curl(&["--cacert", ca_file, "--http2", &https])
            .await
            .unwrap(),
        "2 200"
    );
    assert_eq!(
        curl(&["--cacert", ca_file, &https_ip]).await.unwrap(),
        "2 200"
    );
    assert_eq!(curl(&[&http]).await.unwrap(), "1.1 200");
    assert_eq!(
        curl(&["--http2-prior-knowledge", &http]).await.unwrap(),
        "2 200"
    );
    // Without the CA, curl refuses the certificate (exit 60, no answer).
    assert_eq!(curl(&[&https]).await.unwrap(), "0 000");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The real binary: its CA written where asked (or to the default path), named in the log and in
/// `/_awsim/health`, and trusted by curl.
#[tokio::test]
async fn the_binary_writes_its_ca_and_names_it() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = std::env::temp_dir().join(format!("awsim-ca-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_out = dir.join("ca.pem");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_awsim"))
        .args(["--port", "0", "--tls-ca-out"])
        .arg(&ca_out)
        .env_remove("AWSIM_PORT")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    let second = lines.next_line().await.unwrap().unwrap();
    assert!(first.contains("+ TLS"), "{first}");
    let url = first
        .split("listening on ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let port = url.rsplit(':').next().unwrap();
    assert!(
        second.contains(&format!("https://localhost:{port}")),
        "{second}"
    );
    assert!(second.contains(ca_out.to_str().unwrap()), "{second}");
    let health: Value = reqwest::get(format!("{url}/_awsim/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["tls"]["certificate"], "generated");
    assert_eq!(health["tls"]["caCertificate"], ca_out.to_str().unwrap());
    if let Some(answer) = curl(&[
        "--cacert",
        ca_out.to_str().unwrap(),
        &format!("https://localhost:{port}/_awsim/health"),
    ])
    .await
    {
        assert_eq!(answer, "2 200");
    }
    let _ = child.start_kill();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_users_own_certificate_is_served() {
    let dir = std::env::temp_dir().join(format!("awsim-own-cert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let setup = TlsSetup::from_files(&cert_file, &key_file, &[]).unwrap();
    assert!(setup.ca_pem().is_none());
    let server = support::start_with(Config {
        tls: Some(setup),
        ..Config::default()
    })
    .await;
    let health: Value = server
        .http()
        .get(server.at("/_awsim/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["tls"]["certificate"], "given");
    let https = format!("https://localhost:{}/_awsim/health", server.addr.port());
    if let Some(answer) = curl(&["--cacert", cert_file.to_str().unwrap(), &https]).await {
        assert_eq!(answer, "2 200");
    }
    // A key that is not the certificate's is refused at start-up.
    let other = rcgen::KeyPair::generate().unwrap();
    std::fs::write(&key_file, other.serialize_pem()).unwrap();
    let err = TlsSetup::from_files(&cert_file, &key_file, &[]).unwrap_err();
    assert!(err.contains("do not go together"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn tls_flags_are_checked_at_start_up() {
    let dir = std::env::temp_dir().join(format!("awsim-bad-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_pem = dir.join("cert.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let not_pem = not_pem.to_str().unwrap();
    for (args, says) in [
        (vec!["--tls-cert", not_pem], "needs --tls-key"),
        (vec!["--tls-key", not_pem], "needs --tls-cert"),
        (
            vec!["--tls-cert", not_pem, "--tls-key", not_pem],
            "no PEM certificate",
        ),
        (vec!["--tls-hostname", "bad name"], "not a host name"),
    ] {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_awsim"))
            .args(&args)
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A CA file at the default path (`$TMPDIR/awsim-<port>-ca.pem`) is the server's own: removed when
/// it stops, so that test suites starting awsim on many ports leave nothing behind. A
/// `--tls-ca-out` file is the user's and stays.
#[tokio::test]
async fn a_default_ca_file_is_removed_at_exit_and_a_chosen_one_stays() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = std::env::temp_dir().join(format!("awsim-ca-exit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let chosen = dir.join("ca.pem");
    for ca_out in [None, Some(&chosen)] {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_awsim"));
        command.args(["--port", "0"]);
        if let Some(path) = ca_out {
            command.arg("--tls-ca-out").arg(path);
        }
        let mut child = command
            .env_remove("AWSIM_PORT")
            .env_remove("AWSIM_TLS_CA_OUT")
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next_line().await.unwrap().unwrap();
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        let health: Value = reqwest::get(format!("{url}/_awsim/health"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let written = std::path::PathBuf::from(health["tls"]["caCertificate"].as_str().unwrap());
        assert!(written.exists(), "{}", written.display());
        let pid = child.id().unwrap();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let status = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success());
        assert_eq!(written.exists(), ca_out.is_some(), "{}", written.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
