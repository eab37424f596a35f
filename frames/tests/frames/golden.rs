//! Golden files: each `golden/frames/{valid,invalid}/NAME.bin` has a readable twin `NAME.txt`
//! (its render listing), and the Bedrock builders' output is pinned as `valid/builder_*.bin`.
//!
//! `UPDATE_GOLDEN=1 cargo test -p frames` rewrites the twins and the builder `.bin` files;
//! without it a mismatch fails and prints both listings.

use std::path::Path;

use frames::render_stream;

use crate::bedrock::builder_goldens;
use crate::support::{encode, golden_dir, names};

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// Compares `actual` with the file at `path`, or writes it when updating. Returns a description
/// of the mismatch, listing both sides as text.
fn check_file(path: &Path, actual: &[u8], as_text: impl Fn(&[u8]) -> String) -> Option<String> {
    if updating() {
        if std::fs::read(path).ok().as_deref() != Some(actual) {
            std::fs::write(path, actual)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            eprintln!("UPDATE_GOLDEN: wrote {}", path.display());
        }
        return None;
    }
    let expected = match std::fs::read(path) {
        Ok(expected) => expected,
        Err(e) => {
            return Some(format!(
                "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
                path.display()
            ))
        }
    };
    if expected == actual {
        return None;
    }
    let (expected, actual) = (as_text(&expected), as_text(actual));
    let first_difference = expected
        .lines()
        .zip(actual.lines())
        .position(|(e, a)| e != a)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    Some(format!(
        "{} differs (first at line {}); rerun with UPDATE_GOLDEN=1 if the change is intended\n\
         --- expected ---\n{expected}--- actual ---\n{actual}",
        path.display(),
        first_difference + 1,
    ))
}

fn listing(bytes: &[u8]) -> String {
    render_stream(bytes).to_string()
}

#[test]
fn golden_files_match() {
    let mut failures = Vec::new();
    // Builder bins first: their twins are checked below.
    for (name, message) in builder_goldens() {
        let path = golden_dir().join("valid").join(format!("{name}.bin"));
        failures.extend(check_file(&path, &encode(&message), listing));
    }
    for kind in ["valid", "invalid"] {
        for name in names(kind) {
            let dir = golden_dir().join(kind);
            let bytes = std::fs::read(dir.join(format!("{name}.bin"))).unwrap();
            let text = listing(&bytes);
            let listed = render_stream(&bytes);
            assert_eq!(listed.is_ok(), kind == "valid", "{kind}/{name}:\n{text}");
            failures.extend(check_file(
                &dir.join(format!("{name}.txt")),
                text.as_bytes(),
                |b| String::from_utf8_lossy(b).into_owned(),
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_golden_bin_has_a_twin_and_every_twin_a_bin() {
    if updating() {
        return;
    }
    for kind in ["valid", "invalid"] {
        let dir = golden_dir().join(kind);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let twin = match path.extension().and_then(|e| e.to_str()) {
                Some("bin") => path.with_extension("txt"),
                Some("txt") => path.with_extension("bin"),
                _ => panic!("unexpected file {}", path.display()),
            };
            assert!(
                twin.exists(),
                "{} has no {}",
                path.display(),
                twin.display()
            );
        }
    }
}

#[test]
fn a_stream_listing_names_every_frame_and_where_it_stops() {
    let first = crate::support::vector("valid", "bedrock_converse_content_block_delta");
    let second = crate::support::vector("valid", "bedrock_invoke_chunk");
    let mut stream = [first.clone(), second.clone()].concat();
    let listed = render_stream(&stream);
    assert!(listed.is_ok());
    assert_eq!(listed.messages().count(), 2);
    let text = listed.to_string();
    assert!(
        text.contains("frame 2 at byte 151: 135 bytes (headers 75, payload 44)"),
        "{text}"
    );
    assert!(text.contains("  payload.bytes: 23 bytes of json (base64-decoded)\n    {\n      \"type\": \"message_stop\"\n    }\n"), "{text}");
    assert!(text.ends_with("ok: 2 frames, 286 bytes\n"), "{text}");

    stream.extend_from_slice(&second[..40]);
    let listed = render_stream(&stream);
    let (offset, error) = listed.error().unwrap();
    assert_eq!(offset, 286);
    assert_eq!(error.to_string(), "truncated: 40 bytes of a frame of 135");
    assert_eq!(listed.messages().count(), 2);
    let text = listed.to_string();
    assert!(
        text.ends_with(
            "error at byte 286 (frame 3): truncated: 40 bytes of a frame of 135\n  \
             prelude: 00000087 0000004b 87ea2bf3 (total length 135, headers length 75, prelude crc 0x87ea2bf3)\n\
             2 good frames, 286 of 326 bytes\n"
        ),
        "{text}"
    );

    let listed = render_stream(&stream[..290]);
    assert_eq!(listed.error().unwrap().0, 286);
    assert!(listed
        .to_string()
        .contains("truncated: 4 bytes, short of the 12-byte prelude"));
    assert_eq!(render_stream(b"").to_string(), "ok: 0 frames, 0 bytes\n");
}

#[test]
fn display_message_matches_the_listing_body() {
    let message = frames::bedrock::event("chunk", "not json");
    let text = frames::display_message(&message).to_string();
    assert_eq!(
        text,
        "  :event-type:string=chunk\n  :content-type:string=application/json\n  \
         :message-type:string=event\n  payload: 8 bytes of text\n    \"not json\"\n"
    );
    let binary = frames::Message::new(vec![0u8, 159, 146, 150]);
    assert_eq!(
        frames::display_message(&binary).to_string(),
        "  (no headers)\n  payload: 4 bytes of binary\n    00000000  00 9f 92 96                                      |....|\n"
    );
}
