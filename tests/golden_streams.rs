//! Golden streams: a request must produce exactly the bytes on file, in deterministic mode (ids
//! seeded from the request, latencies pinned to 0), answered by the canned source or by an
//! OpenAI-compatible backend.
//!
//! ```text
//! golden/streams/NAME/
//!   request.json   {"operation": "converse-stream" | "invoke-with-response-stream",
//!                   "modelId": "…", "format": "json" (only for the JSON-array format), "body": {…},
//!                   optional "guardrail": {CreateGuardrail body}, created first, whose id
//!                   replaces GUARDRAIL_ID in the body and in optional "headers": {name: value}}
//!   upstream.sse   optional: the backend's answer, byte for byte. With it the case runs with
//!                  --bedrock-backend pointing at a fake upstream that serves this file as the
//!                  answer to POST /v1/chat/completions; without it, in canned mode
//!   expected.bin   the exact body awsim answers
//!   expected.txt   its readable twin: the frame listing, or pretty JSON for the JSON-array format
//! ```
//!
//! An `upstream.sse` reads like a capture of a real server (llama.cpp, vLLM, Ollama): `data: {…}`
//! events each ended by a blank line, `data: [DONE]` last — or none of that, for a stream that ends
//! before its answer is complete (the fake always ends its body cleanly, so the end of the file is
//! the end of the stream). Each is replayed three times, one write per event (as servers flush), all
//! in one write, and one byte per write, each write its own HTTP chunk: all three must give
//! `expected.bin`, so a chunk boundary anywhere — inside a line, inside a UTF-8 character — changes
//! nothing the client sees.
//!
//! A mismatch names the first byte that differs, the frame it falls in, and prints a line diff of
//! the listings. Regenerate only on purpose, and say in the commit why the bytes changed:
//! `UPDATE_GOLDEN=1 cargo test --test tests golden`.

use crate::support::fake_openai::{self as fake, FakeOpenAi, Reply, Step};
use crate::support::{self, Server};
use awsim::config::BackendConfig;
use awsim::Config;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Case {
    name: String,
    dir: PathBuf,
    request: Value,
    /// The JSON-array format rather than the eventstream.
    json: bool,
    /// The backend's answer, for a backend case.
    upstream: Option<Vec<u8>>,
}

fn cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/streams");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("request.json").exists())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let request: Value =
                serde_json::from_slice(&std::fs::read(dir.join("request.json")).unwrap())
                    .unwrap_or_else(|e| panic!("{dir:?}/request.json: {e}"));
            Case {
                name: dir.file_name().unwrap().to_string_lossy().to_string(),
                json: request["format"] == "json",
                upstream: std::fs::read(dir.join("upstream.sse")).ok(),
                request,
                dir,
            }
        })
        .collect()
}

fn update() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// The readable twin of a body.
fn listing(body: &[u8], json: bool) -> String {
    if json {
        let v: Value = serde_json::from_slice(body).expect("the JSON array parses");
        serde_json::to_string_pretty(&v).unwrap() + "\n"
    } else {
        frames::render_stream(body).to_string()
    }
}

/// Creates the case's guardrail, or finds it when an earlier replay did (ids are seeded from the
/// name in deterministic mode, so the bytes are the same either way).
async fn guardrail_id(server: &Server, create: &Value) -> String {
    let resp = server
        .http()
        .post(server.at("/guardrails"))
        .json(create)
        .send()
        .await
        .unwrap();
    if resp.status() == 202 {
        let v: Value = resp.json().await.unwrap();
        return v["guardrailId"].as_str().unwrap().to_string();
    }
    let list: Value = server
        .http()
        .get(server.at("/guardrails"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let found = list["guardrails"].as_array().unwrap().iter();
    let mut found = found.filter(|g| g["name"] == create["name"]);
    found.next().unwrap()["id"].as_str().unwrap().to_string()
}

/// POSTs the case's request; the body of the 200 answer.
async fn answer(server: &Server, case: &Case) -> Vec<u8> {
    let request = &case.request;
    let path = format!(
        "/model/{}/{}",
        request["modelId"].as_str().unwrap().replace(':', "%3A"),
        request["operation"].as_str().unwrap()
    );
    let id = match request.get("guardrail") {
        Some(create) => guardrail_id(server, create).await,
        None => String::new(),
    };
    let with_id = |v: &Value| v.to_string().replace("GUARDRAIL_ID", &id);
    let mut post = server.http().post(server.at(&path));
    for (name, value) in request["headers"].as_object().into_iter().flatten() {
        post = post.header(name, with_id(value).trim_matches('"'));
    }
    let resp = post
        .header(
            "x-awsim-stream-format",
            if case.json { "json" } else { "eventstream" },
        )
        .body(with_id(&request["body"]))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.bytes().await.unwrap().to_vec();
    assert_eq!(
        status,
        200,
        "{}: {}",
        case.name,
        String::from_utf8_lossy(&body)
    );
    body
}

/// Writes the golden files (`UPDATE_GOLDEN=1`) or compares `body` with them.
fn check(case: &Case, body: &[u8], failures: &mut Vec<String>) {
    let text = listing(body, case.json);
    if update() {
        std::fs::write(case.dir.join("expected.bin"), body).unwrap();
        std::fs::write(case.dir.join("expected.txt"), &text).unwrap();
        return;
    }
    let name = &case.name;
    let expected = std::fs::read(case.dir.join("expected.bin")).unwrap_or_else(|_| {
        panic!("{name}: no expected.bin; run with UPDATE_GOLDEN=1 to create it")
    });
    if expected != body {
        failures.push(difference(
            &format!("{name}: body differs from expected.bin"),
            &expected,
            body,
            case.json,
        ));
    }
    let twin = std::fs::read_to_string(case.dir.join("expected.txt")).unwrap_or_default();
    if twin != listing(&expected, case.json) {
        failures.push(format!(
            "=== {name}: expected.txt is not the listing of expected.bin (UPDATE_GOLDEN=1 writes both) ==="
        ));
    }
}

/// Where two bodies part, and a line diff of their listings.
fn difference(title: &str, expected: &[u8], actual: &[u8], json: bool) -> String {
    let at = expected
        .iter()
        .zip(actual)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    let frame = if json {
        String::new()
    } else {
        frame_at(actual, at).map_or_else(String::new, |(n, start)| {
            format!(" (frame {n}, which starts at byte {start})")
        })
    };
    // The bytes around the first difference, that one in brackets.
    let around = |bytes: &[u8]| {
        let mid = (at + 1).min(bytes.len());
        let hi = (at + 12).min(bytes.len());
        format!(
            "{}[{}]{}",
            bytes[at.saturating_sub(12)..at].escape_ascii(),
            bytes[at..mid].escape_ascii(),
            bytes[mid..hi].escape_ascii()
        )
    };
    let broken = match frames::render_stream(expected).error() {
        Some((offset, err)) if !json => format!(
            "expected.bin itself stops decoding at byte {offset} ({err}): was it edited by hand?\n"
        ),
        _ => String::new(),
    };
    let (want, got) = (listing(expected, json), listing(actual, json));
    let diff = similar::TextDiff::from_lines(&want, &got)
        .unified_diff()
        .context_radius(4)
        .header("expected", "actual")
        .to_string();
    let lines: Vec<&str> = diff.lines().collect();
    let shown = lines.len().min(DIFF_LINES);
    let more = match lines.len() - shown {
        0 => String::new(),
        n => format!("… {n} more lines of diff\n"),
    };
    format!(
        "=== {title} ===\nfirst difference at byte {at}{frame}; {} bytes expected, {} actual\n  expected: {}\n  actual:   {}\n{broken}{}\n{more}",
        expected.len(),
        actual.len(),
        around(expected),
        around(actual),
        lines[..shown].join("\n"),
    )
}

/// How much of a listing diff a failure prints; the first difference is named above it anyway.
const DIFF_LINES: usize = 80;

/// The eventstream frame (1-based) holding byte `at`, and where it starts.
fn frame_at(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut start = 0;
    for n in 1.. {
        let len = bytes.get(start..start + 4)?;
        let len = u32::from_be_bytes(len.try_into().unwrap()) as usize;
        if len == 0 {
            return None;
        }
        if at < start + len {
            return Some((n, start));
        }
        start += len;
    }
    None
}

#[tokio::test]
async fn every_canned_golden_request_streams_its_exact_bytes() {
    let server = support::start_with(Config {
        deterministic: true,
        ..Config::default()
    })
    .await;
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.upstream.is_none())
        .collect();
    assert!(cases.len() >= 8, "canned golden streams present");
    let mut failures = Vec::new();
    for case in &cases {
        let body = answer(&server, case).await;
        check(case, &body, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn every_backend_golden_stream_is_translated_to_its_exact_bytes() {
    // One fake upstream for all cases, answering with whatever script is current.
    let script: Arc<Mutex<Vec<Step>>> = Arc::default();
    let upstream = FakeOpenAi::start({
        let script = script.clone();
        move |req| match req.path.as_str() {
            "/v1/chat/completions" => Reply::Sse(script.lock().unwrap().clone()),
            other => Reply::Status(
                404,
                json!({"error": format!("no route {other}")}).to_string(),
            ),
        }
    })
    .await;
    let server = support::start_with(Config {
        deterministic: true,
        backend: Some(BackendConfig {
            url: upstream.url.clone(),
            api_key: None,
            first_byte_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            ..BackendConfig::new(&upstream.url)
        }),
        ..Config::default()
    })
    .await;
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.upstream.is_some())
        .collect();
    assert!(cases.len() >= 8, "backend golden streams present");
    let mut failures = Vec::new();
    for case in &cases {
        let sse = case.upstream.as_deref().unwrap();
        let every_byte: Vec<usize> = (1..sse.len()).collect();
        let replays = [
            ("one write per event", fake::event_ends(sse)),
            ("all in one write", Vec::new()),
            ("one byte per write", every_byte),
        ];
        let mut first: Option<Vec<u8>> = None;
        for (how, cuts) in replays {
            *script.lock().unwrap() = fake::replay(sse, &cuts);
            let asked = upstream.requests().len();
            let body = answer(&server, case).await;
            let requests = upstream.requests();
            assert_eq!(requests.len(), asked + 1, "{}: one backend call", case.name);
            assert_eq!(requests[asked].body["stream"], true, "{}", case.name);
            match &first {
                None => {
                    check(case, &body, &mut failures);
                    first = Some(body);
                }
                Some(first) if *first != body => failures.push(difference(
                    &format!(
                        "{}: upstream.sse replayed {how} differs from one write per event",
                        case.name
                    ),
                    first,
                    &body,
                    case.json,
                )),
                Some(_) => {}
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn golden_frames_decode_with_the_rust_sdk_codec() {
    // The SDK's own decoder must accept every golden eventstream body frame by frame.
    use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
    for case in cases() {
        if case.json {
            continue;
        }
        let bytes = std::fs::read(case.dir.join("expected.bin")).unwrap();
        let mut buf = bytes::BytesMut::from(&bytes[..]);
        let mut decoder = MessageFrameDecoder::new();
        let mut n = 0;
        while !buf.is_empty() {
            match decoder.decode_frame(&mut buf).unwrap() {
                DecodedFrame::Complete(_) => n += 1,
                DecodedFrame::Incomplete => panic!("{}: trailing partial frame", case.name),
            }
        }
        assert!(n > 3, "{}", case.name);
    }
}
