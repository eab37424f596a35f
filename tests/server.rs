//! The foundation: one port for HTTP/1.1 and h2c, AWS-shaped errors for everything unknown or
//! malformed, request ids, the health endpoint and the real binary.

use crate::support::{self, sigv4};
use aws_sdk_bedrock::error::ProvideErrorMetadata;
use serde_json::Value;

#[tokio::test]
async fn http1_and_h2c_are_both_answered_on_one_port() {
    let server = support::start().await;
    for client in [server.http(), server.h2c()] {
        let resp = client
            .get(server.at("/_awsim/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let version = resp.version();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["status"], "ok", "{version:?}");
        assert_eq!(body["backend"], "canned");
        assert_eq!(body["streamFormat"], "auto");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    }
    let h1 = server
        .http()
        .get(server.at("/_awsim/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(h1.version(), reqwest::Version::HTTP_11);
    let h2 = server
        .h2c()
        .get(server.at("/_awsim/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(h2.version(), reqwest::Version::HTTP_2);
}

#[tokio::test]
async fn curl_speaks_h2c_prior_knowledge() {
    let server = support::start().await;
    let Ok(out) = tokio::process::Command::new("curl")
        .args([
            "-s",
            "--http2-prior-knowledge",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version} %{http_code}",
        ])
        .arg(server.at("/_awsim/health"))
        .output()
        .await
    else {
        println!("curl not installed; skipped");
        return;
    };
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2 200");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let server = support::start().await;
    let ok = server
        .http()
        .get(server.at("/_awsim/health"))
        .send()
        .await
        .unwrap();
    let err = server
        .http()
        .get(server.at("/no/such/thing"))
        .send()
        .await
        .unwrap();
    let a = ok.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    let b = err.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(a.len(), 36);
    assert_ne!(a, b);
}

#[tokio::test]
async fn unknown_paths_and_methods_get_aws_errors_that_name_them() {
    let server = support::start().await;
    let resp = server
        .http()
        .get(server.at("/no/such/thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "UnknownOperationException"
    );
    let body: Value = resp.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("/no/such/thing"));

    let resp = server
        .http()
        .delete(server.at("/foundation-models"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("accepts GET"),
        "{body}"
    );
}

#[tokio::test]
async fn sdk_sees_unimplemented_operations_as_named_errors() {
    let server = support::start().await;
    let err = server
        .bedrock()
        .list_evaluation_jobs()
        .send()
        .await
        .unwrap_err();
    let err = err.into_service_error();
    assert_eq!(err.code(), Some("NotImplementedException"));
    assert!(
        err.message().unwrap().contains("ListEvaluationJobs"),
        "{err:?}"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_being_read() {
    let server = support::start().await;
    // A declared length over the limit is refused without sending the body.
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"POST /model/amazon.titan-text-express-v1/invoke HTTP/1.1\r\nhost: x\r\ncontent-length: 25000001\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("no hang")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    assert!(head.contains("ValidationException"), "{head}");
    assert!(head.contains("25000000"), "{head}");

    // A chunked body that grows past the limit is cut off too.
    let big = vec![b' '; 25_000_001];
    let resp = server
        .http()
        .post(server.at("/model/amazon.titan-text-express-v1/invoke"))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(
            big.chunks(1 << 20)
                .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                .collect::<Vec<_>>(),
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["x-amzn-errortype"], "ValidationException");
}

#[tokio::test]
async fn region_comes_from_the_credential_scope() {
    let server = support::start().await;
    // Health ignores region, but any request must accept SigV4, presigned and bearer auth.
    for auth in [sigv4("eu-west-1", "bedrock"), "Bearer abc".to_string()] {
        let resp = server
            .http()
            .get(server.at("/_awsim/health"))
            .header("authorization", auth)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
}

#[tokio::test]
async fn the_real_binary_starts_reports_its_port_and_stops_on_sigterm() {
    for workers in ["1", "3"] {
        real_binary_round_trip(workers).await;
    }
}

/// Starts the binary with `--workers N`, has many connections served at once (each thread accepts
/// from the one socket), and stops it with SIGTERM; it says once that all connections closed.
async fn real_binary_round_trip(workers: &str) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_awsim"))
        .args(["--port", "0", "--workers", workers])
        .env_remove("AWSIM_PORT")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = first
        .split("listening on ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("first log line names the address: {first}"))
        .to_string();
    assert!(
        first.contains(&format!("{workers} thread")),
        "the first log line says how many threads serve: {first}"
    );
    let requests = (0..24).map(|_| {
        // A client each: a connection each.
        let health = format!("{url}/_awsim/health");
        async move { reqwest::Client::new().get(health).send().await }
    });
    for resp in futures::future::join_all(requests).await {
        assert_eq!(resp.unwrap().status(), 200);
    }
    let pid = child.id().unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let status = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "--workers {workers}: {status:?}");
    let mut rest = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push(line);
    }
    let closed = rest
        .iter()
        .filter(|l| l.contains("all connections closed"))
        .count();
    assert_eq!(
        closed, 1,
        "--workers {workers}: the end of the shutdown is logged once, whatever the threads: {rest:?}"
    );
}

#[tokio::test]
async fn bad_flags_exit_with_code_2_and_say_why() {
    for args in [
        vec!["--port", "99999"],
        vec!["--bedrock-stream-format", "xml"],
        vec!["--bedrock-backend", "localhost:11434"],
        vec!["--host", "not-an-ip"],
        vec!["--workers", "5000"],
        vec!["--workers", "two"],
    ] {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_awsim"))
            .args(&args)
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

/// Runs the binary with `args` and `env` to a usage error; its message.
async fn usage_error(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_awsim"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
    stderr
}

#[tokio::test]
async fn a_negative_number_is_a_bad_value_not_an_unknown_flag() {
    let backend = ["--bedrock-backend", "http://127.0.0.1:9/v1"];
    let said = usage_error(
        &[&backend[..], &["--bedrock-backend-timeout", "-1"]].concat(),
        &[],
    )
    .await;
    assert!(
        said.contains("--bedrock-backend-timeout -1 must be a non-negative number of seconds"),
        "{said}"
    );
    let said = usage_error(&["serve", "--port", "-5"], &[]).await;
    assert!(said.contains("'-5'") && said.contains("--port"), "{said}");
}

#[tokio::test]
async fn a_bad_value_is_named_by_where_it_came_from_flag_or_environment_variable() {
    let backend = ["--bedrock-backend", "http://127.0.0.1:9/v1"];
    // Refused by the parser (not a number) …
    let said = usage_error(&backend, &[("AWSIM_BEDROCK_BACKEND_TIMEOUT", "abc")]).await;
    assert!(
        said.contains("'abc' in the environment variable AWSIM_BEDROCK_BACKEND_TIMEOUT"),
        "{said}"
    );
    let said = usage_error(
        &[&backend[..], &["--bedrock-backend-timeout", "abc"]].concat(),
        &[],
    )
    .await;
    assert!(
        said.contains("'abc' for '--bedrock-backend-timeout"),
        "{said}"
    );
    assert!(!said.contains("AWSIM_"), "{said}");
    // … or by the checks after it.
    let said = usage_error(&backend, &[("AWSIM_BEDROCK_BACKEND_TIMEOUT", "-1")]).await;
    assert!(
        said.contains("AWSIM_BEDROCK_BACKEND_TIMEOUT=-1 must be"),
        "{said}"
    );
    let said = usage_error(&[], &[("AWSIM_HOST", "not-an-ip")]).await;
    assert!(
        said.contains("AWSIM_HOST='not-an-ip' is not an IP address"),
        "{said}"
    );
    let said = usage_error(&["serve"], &[("AWSIM_BEDROCK_STREAM_FORMAT", "xml")]).await;
    assert!(
        said.contains("AWSIM_BEDROCK_STREAM_FORMAT") && said.contains("auto, json, eventstream"),
        "{said}"
    );
    // A flag wins over its variable, so the flag's bad value is named by the flag.
    let said = usage_error(&["--host", "flag-host"], &[("AWSIM_HOST", "env-host")]).await;
    assert!(said.contains("--host 'flag-host'"), "{said}");
}
