//! `awsim frames decode`: the user-facing listing of a captured event-stream body.

use std::io::Write;
use std::process::{Command, Stdio};

fn decode(input: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_awsim"))
        .args(["frames", "decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn golden(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/golden/streams/{name}/expected.bin",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn a_captured_stream_is_listed_frame_by_frame_with_the_inner_json() {
    let (code, out, _) = decode(&golden("invoke_stream_anthropic"));
    assert_eq!(code, 0);
    assert!(out.starts_with("frame 1 at byte 0:"), "{out}");
    assert!(out.contains(":event-type:string=chunk"));
    assert!(
        out.contains("payload.bytes:"),
        "base64 chunk payloads are decoded"
    );
    assert!(out.contains("\"type\": \"message_stop\""));
    assert!(out.trim_end().ends_with("bytes"), "{out}");
}

#[test]
fn a_file_argument_works_like_stdin() {
    let path = format!(
        "{}/golden/streams/converse_stream_text/expected.bin",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_awsim"))
        .args(["frames", "decode", &path])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        decode(&golden("converse_stream_text")).1
    );
}

#[test]
fn a_broken_stream_names_the_byte_offset_and_fails() {
    let mut bytes = golden("converse_stream_text");
    let first = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
    bytes[first + 9] ^= 0xff; // corrupt the second frame's prelude CRC
    let (code, out, err) = decode(&bytes);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("frame 1 at byte 0:"),
        "the good frame is still listed"
    );
    assert!(err.contains(&format!("at byte {first}")), "{err}");

    let (code, _, err) = decode(&golden("converse_stream_text")[..first + 5]);
    assert_eq!(code, 1);
    assert!(err.contains("truncated"), "{err}");
}
