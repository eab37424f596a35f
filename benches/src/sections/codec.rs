//! The event-stream codec in isolation (the `frames` crate): ns per frame and MB/s encoding one
//! Bedrock event frame, MB/s decoding a 1000-frame stream. Plain timed loops, best of five, so
//! the figures sit in the same report; `cargo bench -p awsim-bench --bench frames` measures the
//! same with criterion's statistics and against aws-smithy-eventstream.

use crate::report::{table, Report};
use bytes::{Bytes, BytesMut};
use frames::{DecodedFrame, MessageFrameDecoder};
use std::hint::black_box;
use std::time::Instant;

/// A ConverseStream `contentBlockDelta` payload (as in the criterion bench).
const CONVERSE_DELTA: &[u8] = br#"{"contentBlockIndex":0,"delta":{"text":" the quick brown fox"}}"#;
/// An InvokeModelWithResponseStream `chunk` payload with Bedrock's `p` padding.
const INVOKE_CHUNK: &[u8] = br#"{"bytes":"eyJ0eXBlIjoiY29udGVudF9ibG9ja19kZWx0YSIsImluZGV4IjowLCJkZWx0YSI6eyJ0eXBlIjoidGV4dF9kZWx0YSIsInRleHQiOiIgdGhlIHF1aWNrIGJyb3duIGZveCJ9fQ==","p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"}"#;

/// The best (shortest) of five timings of `f`, in seconds.
fn best_of_five(mut f: impl FnMut()) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

pub fn run(report: &mut Report) -> crate::Result<()> {
    eprintln!("codec: encode and decode loops");
    const FRAMES: usize = 200_000;
    let mut rows = Vec::new();
    for (label, event, payload) in [
        (
            "ConverseStream `contentBlockDelta`",
            "contentBlockDelta",
            CONVERSE_DELTA,
        ),
        (
            "InvokeModelWithResponseStream `chunk`",
            "chunk",
            INVOKE_CHUNK,
        ),
    ] {
        let mut out = BytesMut::with_capacity(64 * 1024);
        let message = frames::bedrock::event(event, Bytes::from_static(payload));
        frames::write_message_to(&message, &mut out)?;
        let frame_len = out.split().len();
        let mut failed = None;
        let secs = best_of_five(|| {
            for _ in 0..FRAMES {
                // As the body writer does: build the event's message, append it, hand it on.
                let message = frames::bedrock::event(black_box(event), Bytes::from_static(payload));
                if let Err(e) = frames::write_message_to(&message, &mut out) {
                    failed = Some(e);
                }
                black_box(out.split());
            }
        });
        if let Some(e) = failed {
            return Err(e.into());
        }
        let ns = secs * 1e9 / FRAMES as f64;
        rows.push(vec![
            format!("encode {label}"),
            format!("{frame_len} B"),
            format!("{ns:.0} ns"),
            format!("{:.0} MB/s", frame_len as f64 * FRAMES as f64 / secs / 1e6),
        ]);
    }

    // 1000 frames alternating the two events, decoded whole, 200 times.
    let mut stream = BytesMut::new();
    for i in 0..1000 {
        let (event, payload) = if i % 2 == 0 {
            ("contentBlockDelta", CONVERSE_DELTA)
        } else {
            ("chunk", INVOKE_CHUNK)
        };
        frames::write_message_to(&frames::bedrock::event(event, payload), &mut stream)?;
    }
    const ROUNDS: usize = 200;
    let mut decoded = 0usize;
    let mut failed = None;
    let secs = best_of_five(|| {
        for _ in 0..ROUNDS {
            let mut buf = BytesMut::from(&stream[..]);
            let mut decoder = MessageFrameDecoder::new();
            loop {
                match decoder.decode_frame(&mut buf) {
                    Ok(DecodedFrame::Complete(m)) => {
                        decoded += 1;
                        black_box(m);
                    }
                    Ok(DecodedFrame::Incomplete) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
        }
    });
    if let Some(e) = failed {
        return Err(e.into());
    }
    if decoded != 5 * ROUNDS * 1000 {
        return Err(format!("decoded {decoded} frames, expected {}", 5 * ROUNDS * 1000).into());
    }
    rows.push(vec![
        "decode a 1000-frame stream (both kinds)".into(),
        format!("{} B", stream.len()),
        format!("{:.0} ns/frame", secs * 1e9 / (ROUNDS * 1000) as f64),
        format!(
            "{:.0} MB/s",
            stream.len() as f64 * ROUNDS as f64 / secs / 1e6
        ),
    ]);
    let mut s = String::from("## Event-stream codec\n\nThe `frames` crate alone, in this process: best of five timed loops (200,000 Bedrock event messages built, encoded into a `BytesMut` and split off as hyper gets them; a 1000-frame stream decoded 200 times). `cargo bench -p awsim-bench --bench frames` measures the same with criterion, next to aws-smithy-eventstream.\n\n");
    s.push_str(&table(&["operation", "size", "time", "throughput"], &rows));
    report.sections.push(s);
    Ok(())
}
