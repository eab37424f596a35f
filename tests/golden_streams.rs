//! Golden streams: a request in `golden/streams/NAME/request.json` must produce exactly the bytes of
//! `expected.bin` (deterministic mode pins ids and latencies). `expected.txt` is the readable twin:
//! the frame listing, or pretty JSON for the JSON-array format. A mismatch prints both listings.
//! Regenerate only on purpose: `UPDATE_GOLDEN=1 cargo test --test tests golden`.

use crate::support;
use awsim::Config;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn golden_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/streams");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("request.json").exists())
        .collect();
    dirs.sort();
    dirs
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

#[tokio::test]
async fn every_golden_request_streams_its_exact_bytes() {
    let server = support::start_with(Config {
        deterministic: true,
        ..Config::default()
    })
    .await;
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let dirs = golden_dirs();
    assert!(dirs.len() >= 8, "golden streams present");
    let mut failures = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let request: Value =
            serde_json::from_slice(&std::fs::read(dir.join("request.json")).unwrap()).unwrap();
        let json = request["format"] == "json";
        let path = format!(
            "/model/{}/{}",
            request["modelId"].as_str().unwrap().replace(':', "%3A"),
            request["operation"].as_str().unwrap()
        );
        let resp = server
            .http()
            .post(server.at(&path))
            .header(
                "x-awsim-stream-format",
                if json { "json" } else { "eventstream" },
            )
            .body(serde_json::to_vec(&request["body"]).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{name}");
        let body = resp.bytes().await.unwrap().to_vec();
        let text = listing(&body, json);
        if update {
            std::fs::write(dir.join("expected.bin"), &body).unwrap();
            std::fs::write(dir.join("expected.txt"), &text).unwrap();
            continue;
        }
        let expected = std::fs::read(dir.join("expected.bin")).unwrap_or_else(|_| {
            panic!("{name}: no expected.bin; run with UPDATE_GOLDEN=1 to create it")
        });
        if expected != body {
            failures.push(format!(
                "=== {name}: body differs from golden ===\n--- expected ---\n{}\n--- actual ---\n{text}",
                listing(&expected, json)
            ));
        }
        let twin = std::fs::read_to_string(dir.join("expected.txt")).unwrap_or_default();
        if twin != listing(&expected, json) {
            failures.push(format!(
                "=== {name}: expected.txt is stale; regenerate with UPDATE_GOLDEN=1 ==="
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn golden_frames_decode_with_the_rust_sdk_codec() {
    // The SDK's own decoder must accept every golden eventstream body frame by frame.
    use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
    for dir in golden_dirs() {
        let request: Value =
            serde_json::from_slice(&std::fs::read(dir.join("request.json")).unwrap()).unwrap();
        if request["format"] == "json" {
            continue;
        }
        let bytes = std::fs::read(dir.join("expected.bin")).unwrap();
        let mut buf = bytes::BytesMut::from(&bytes[..]);
        let mut decoder = MessageFrameDecoder::new();
        let mut n = 0;
        while !buf.is_empty() {
            match decoder.decode_frame(&mut buf).unwrap() {
                DecodedFrame::Complete(_) => n += 1,
                DecodedFrame::Incomplete => panic!("{dir:?}: trailing partial frame"),
            }
        }
        assert!(n > 3, "{dir:?}");
    }
}
