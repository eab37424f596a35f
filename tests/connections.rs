//! Connections are bounded: a request's headers and body must arrive in time, an idle connection is
//! closed, open connections are capped (the longest-idle one makes room), running out of file
//! descriptors is survived, and a long streaming answer is never cut by any of it.

use crate::runtime_converse::{consume, user};
use crate::support;
use aws_sdk_bedrockruntime::types::InferenceConfiguration;
use awsim::Config;
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
/// Long enough that a test never waits on it by accident; short enough that a hang fails fast.
const NO_HANG: Duration = Duration::from_secs(20);

fn secs(s: f64) -> Option<Duration> {
    Some(Duration::from_secs_f64(s))
}

/// Reads until the server closes the connection (EOF or reset); what it sent before.
async fn until_closed(stream: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(NO_HANG, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return all,
            Ok(Ok(n)) => all.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the connection is still open after {NO_HANG:?}"),
        }
    }
}

/// One HTTP/1.1 request on a kept-alive connection; the response's status and body.
async fn request(stream: &mut TcpStream, head: &str) -> (u16, String) {
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = tokio::time::timeout(NO_HANG, stream.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= len {
                let status = head[9..12].parse().unwrap();
                return (status, body.to_string());
            }
        }
    }
}

const HEALTH: &str = "GET /_awsim/health HTTP/1.1\r\nhost: localhost\r\n\r\n";

#[tokio::test]
async fn headers_trickled_byte_by_byte_are_cut_off_at_the_header_read_timeout() {
    let server = support::start_with(Config {
        header_read_timeout: secs(1.0),
        ..Config::default()
    })
    .await;
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let trickle = tokio::spawn(async move {
        write
            .write_all(
                b"POST /model/amazon.titan-text-express-v1/invoke HTTP/1.1\r\nhost: localhost\r\n",
            )
            .await?;
        // Slowloris: a header line every 100 ms, never the blank line that ends them.
        for i in 0..600 {
            write
                .write_all(format!("x-slow-{i}: y\r\n").as_bytes())
                .await?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok::<_, std::io::Error>(())
    });
    let sent = until_closed(&mut read).await;
    assert!(sent.is_empty(), "nothing is answered: {sent:?}");
    trickle.abort();
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_at_the_header_read_timeout() {
    let server = support::start_with(Config {
        header_read_timeout: secs(1.0),
        ..Config::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    assert!(until_closed(&mut stream).await.is_empty());
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout_over_http1_and_h2c() {
    let server = support::start_with(Config {
        idle_timeout: secs(1.0),
        header_read_timeout: secs(600.0),
        ..Config::default()
    })
    .await;
    // HTTP/1.1: one request, then nothing.
    let mut h1 = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(request(&mut h1, HEALTH).await.0, 200);
    assert!(until_closed(&mut h1).await.is_empty());

    // HTTP/2 with no open stream: a GOAWAY, then the close.
    let mut h2 = TcpStream::connect(server.addr).await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let frames = until_closed(&mut h2).await;
    let goaway = frames
        .windows(4)
        .any(|w| w[3] == 0x07 && w[0] == 0 && w[1] == 0);
    assert!(goaway, "an HTTP/2 GOAWAY frame: {frames:?}");
}

#[tokio::test]
async fn a_stream_longer_than_every_timeout_is_not_cut() {
    let server = support::start_with(Config {
        idle_timeout: secs(0.5),
        header_read_timeout: secs(0.5),
        body_read_timeout: secs(0.5),
        canned_token_gap: Duration::from_millis(150),
        ..Config::default()
    })
    .await;
    // The Rust SDK over HTTP/1.1: ~2 s of tokens.
    let out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("Tell me a long story."))
        .inference_config(InferenceConfiguration::builder().max_tokens(12).build())
        .send()
        .await
        .unwrap();
    let streamed = consume(out).await;
    assert_eq!(streamed.events.last(), Some(&"metadata"), "{streamed:?}");
    assert!(streamed.text_deltas >= 10, "{streamed:?}");

    // h2c, as the JavaScript SDK speaks.
    let resp = server
        .h2c()
        .post(server.at(&format!("/model/{HAIKU}/converse-stream")))
        .header("content-type", "application/json")
        .body(r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":12}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    let events: Vec<Value> = resp.json().await.unwrap();
    assert!(
        events.last().unwrap().get("metadata").is_some(),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_request_timeout() {
    let server = support::start_with(Config {
        body_read_timeout: secs(0.5),
        ..Config::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(format!("POST /model/{HAIKU}/converse HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"messages\"").as_bytes())
        .await
        .unwrap();
    let answer = String::from_utf8(until_closed(&mut stream).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(
        answer.contains("x-amzn-errortype: RequestTimeoutException"),
        "{answer}"
    );
    assert!(answer.contains("--body-read-timeout"), "{answer}");
}

#[tokio::test]
async fn at_the_cap_the_longest_idle_connection_is_closed_to_make_room() {
    let server = support::start_with(Config {
        max_connections: 3,
        ..Config::default()
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        assert_eq!(request(&mut stream, HEALTH).await.0, 200);
        open.push(stream);
        // Idle since distinct instants: the first is the oldest.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut fourth = TcpStream::connect(server.addr).await.unwrap();
    let (status, body) = request(&mut fourth, HEALTH).await;
    assert_eq!(status, 200);
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["limits"]["maxConnections"], 3);

    assert!(
        until_closed(&mut open[0]).await.is_empty(),
        "the oldest idle one is closed"
    );
    for stream in &mut open[1..] {
        assert_eq!(
            request(stream, HEALTH).await.0,
            200,
            "the others still serve"
        );
    }
}

#[tokio::test]
async fn over_the_cap_with_none_idle_a_new_connection_is_answered_503_and_closed() {
    let server = support::start_with(Config {
        max_connections: 2,
        canned_ttft: Duration::from_secs(30),
        ..Config::default()
    })
    .await;
    // Two streams in progress: their heads have arrived, their first tokens are 30 s away.
    let mut busy = Vec::new();
    for _ in 0..2 {
        let resp = server
            .http()
            .post(server.at(&format!("/model/{HAIKU}/converse-stream")))
            .header("content-type", "application/json")
            .body(r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}]}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        busy.push(resp);
    }
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    let (status, body) = request(&mut third, HEALTH).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("--max-connections 2"), "{body}");
    assert!(until_closed(&mut third).await.is_empty());
    drop(busy);
}
/// Starts the real binary with at most 64 open files, holds 100 idle connections to it, then asks
/// for its health on a new one.
async fn survives_descriptor_exhaustion(extra: &[&str]) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", "ulimit -n 64 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_awsim"))
        .args(["--port", "0", "--workers", "1", "--tls-ca-out", "/dev/null"])
        .args(extra)
        .env_remove("AWSIM_PORT")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = tokio::time::timeout(NO_HANG, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = first
        .split("listening on ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    let addr = url.trim_start_matches("http://").to_string();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    let resp = tokio::time::timeout(
        NO_HANG,
        reqwest::Client::new()
            .get(format!("{url}/_awsim/health"))
            .send(),
    )
    .await
    .unwrap_or_else(|_| panic!("{extra:?}: no answer while out of descriptors"))
    .unwrap();
    assert_eq!(resp.status(), 200, "{extra:?}");
    let _ = child.start_kill();
}

#[tokio::test]
async fn a_normal_request_is_answered_while_the_descriptor_limit_is_hit() {
    // The cap above the limit: `accept` fails (EMFILE), and idle connections are closed.
    survives_descriptor_exhaustion(&["--max-connections", "10000"]).await;
    // The default cap, derived from the limit: the longest-idle connections make room first.
    survives_descriptor_exhaustion(&[]).await;
}

#[tokio::test]
async fn hypers_own_refusals_come_in_the_aws_shape() {
    let server = support::start().await;
    let raw = |request: Vec<u8>| async move {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(&request).await.unwrap();
        String::from_utf8_lossy(&until_closed(&mut stream).await).to_string()
    };
    let long_path = format!(
        "GET /model/{}/invoke HTTP/1.1\r\nhost: localhost\r\n\r\n",
        "a".repeat(100_000)
    );
    let many_headers = format!(
        "GET /foundation-models HTTP/1.1\r\nhost: localhost\r\n{}\r\n",
        (0..200)
            .map(|i| format!("x-h{i}: v\r\n"))
            .collect::<String>()
    );
    let huge_header = format!(
        "GET /foundation-models HTTP/1.1\r\nhost: localhost\r\nx-big: {}\r\n\r\n",
        "v".repeat(500_000)
    );
    for (request, status, says) in [
        (long_path, "414", "path and query string"),
        (many_headers, "431", "100 headers"),
        (huge_header, "431", "100 headers"),
        (
            "GET /foundation-models HTTP/1.1\r\nbad header\r\n\r\n".to_string(),
            "400",
            "malformed",
        ),
    ] {
        let answer = raw(request.into_bytes()).await;
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{answer}"
        );
        assert!(
            answer.contains("x-amzn-errortype: ValidationException\r\n"),
            "{answer}"
        );
        assert!(answer.contains("x-amzn-requestid: "), "{answer}");
        let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert!(body["message"].as_str().unwrap().contains(says), "{body}");
    }
}

#[tokio::test]
async fn too_many_headers_over_h2c_get_the_aws_shape_from_awsim() {
    let server = support::start().await;
    let mut req = server.h2c().get(server.at("/foundation-models"));
    for i in 0..150 {
        req = req.header(format!("x-h{i}"), "v");
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 431);
    assert_eq!(resp.headers()["x-amzn-errortype"], "ValidationException");
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("headers in"),
        "{body}"
    );
}
