//! Event-stream codec benchmarks: encoding one Bedrock event frame (ours, built as the body writer
//! builds it or prebuilt, and aws-smithy-eventstream's), and decoding throughput of a 1000-frame
//! stream.
//!
//! Run with `cargo bench -p awsim-bench --bench frames`.

#![allow(
    clippy::unwrap_used,
    reason = "benchmark setup and loops: a codec failure should abort the run"
)]

use std::hint::black_box;

use aws_smithy_eventstream::frame as smithy;
use aws_smithy_types::event_stream as st;
use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use frames::bedrock;
use frames::{DecodedFrame, Message, MessageFrameDecoder};

/// A ConverseStream `contentBlockDelta` payload (63 bytes).
const CONVERSE_DELTA: &[u8] = br#"{"contentBlockIndex":0,"delta":{"text":" the quick brown fox"}}"#;

/// An InvokeModelWithResponseStream `chunk` payload with Bedrock's `p` padding (198 bytes).
const INVOKE_CHUNK: &[u8] = br#"{"bytes":"eyJ0eXBlIjoiY29udGVudF9ibG9ja19kZWx0YSIsImluZGV4IjowLCJkZWx0YSI6eyJ0eXBlIjoidGV4dF9kZWx0YSIsInRleHQiOiIgdGhlIHF1aWNrIGJyb3duIGZveCJ9fQ==","p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"}"#;

fn smithy_event(event_type: &str, payload: &'static [u8]) -> st::Message {
    st::Message::new(Bytes::from_static(payload))
        .add_header(st::Header::new(
            ":event-type",
            st::HeaderValue::String(event_type.to_owned().into()),
        ))
        .add_header(st::Header::new(
            ":content-type",
            st::HeaderValue::String("application/json".into()),
        ))
        .add_header(st::Header::new(
            ":message-type",
            st::HeaderValue::String("event".into()),
        ))
}

fn encode(c: &mut Criterion) {
    for (label, event_type, payload) in [
        ("converse_delta", "contentBlockDelta", CONVERSE_DELTA),
        ("invoke_chunk", "chunk", INVOKE_CHUNK),
    ] {
        let message = bedrock::event(event_type, Bytes::from_static(payload));
        let smithy_message = smithy_event(event_type, payload);
        let frame_len = frames::encoded_len(&message).unwrap();

        // Both must agree before their speed means anything.
        let mut ours = BytesMut::new();
        frames::write_message_to(&message, &mut ours).unwrap();
        let mut theirs = Vec::new();
        smithy::write_message_to(&smithy_message, &mut theirs).unwrap();
        assert_eq!(ours, theirs);

        let mut group = c.benchmark_group(format!("encode/{label}"));
        group.throughput(Throughput::Bytes(frame_len as u64));

        // What the body writer does per event: build the message, append it, hand the bytes on.
        let mut buf = BytesMut::with_capacity(64 * 1024);
        group.bench_function(
            "bedrock::event + write_message_to + split().freeze()",
            |b| {
                b.iter(|| {
                    let message =
                        bedrock::event(black_box(event_type), Bytes::from_static(payload));
                    frames::write_message_to(&message, &mut buf).unwrap();
                    black_box(buf.split().freeze());
                })
            },
        );
        group.bench_function("write_message_to (prebuilt Message)", |b| {
            b.iter(|| {
                buf.clear();
                frames::write_message_to(black_box(&message), &mut buf).unwrap();
                black_box(&buf);
            })
        });
        group.bench_function("bedrock::event + write_message_to", |b| {
            b.iter(|| {
                buf.clear();
                let message = bedrock::event(black_box(event_type), Bytes::from_static(payload));
                frames::write_message_to(&message, &mut buf).unwrap();
                black_box(&buf);
            })
        });
        let mut out = Vec::with_capacity(4096);
        group.bench_function("smithy write_message_to (prebuilt Message)", |b| {
            b.iter(|| {
                out.clear();
                smithy::write_message_to(black_box(&smithy_message), &mut out).unwrap();
                black_box(&out);
            })
        });
        group.bench_function("smithy build Message + write_message_to", |b| {
            b.iter(|| {
                out.clear();
                let message = smithy_event(black_box(event_type), payload);
                smithy::write_message_to(&message, &mut out).unwrap();
                black_box(&out);
            })
        });
        group.finish();
    }
}

/// 1000 frames alternating ConverseStream deltas and InvokeModel chunks.
fn stream() -> Vec<u8> {
    let mut stream = BytesMut::new();
    for i in 0..1000 {
        let (event_type, payload) = if i % 2 == 0 {
            ("contentBlockDelta", CONVERSE_DELTA)
        } else {
            ("chunk", INVOKE_CHUNK)
        };
        let message = bedrock::event(event_type, Bytes::from_static(payload));
        frames::write_message_to(&message, &mut stream).unwrap();
    }
    stream.to_vec()
}

fn decode_all(buf: &mut BytesMut, decoder: &mut MessageFrameDecoder, out: &mut Vec<Message>) {
    while let DecodedFrame::Complete(message) = decoder.decode_frame(buf).unwrap() {
        out.push(message);
    }
}

fn decode(c: &mut Criterion) {
    let stream = stream();
    let mut group = c.benchmark_group("decode/1000_frames");
    group.throughput(Throughput::Bytes(stream.len() as u64));

    group.bench_function("MessageFrameDecoder, whole buffer", |b| {
        b.iter_batched(
            || BytesMut::from(&stream[..]),
            |mut buf| {
                let mut decoder = MessageFrameDecoder::new();
                let mut messages = Vec::with_capacity(1000);
                decode_all(&mut buf, &mut decoder, &mut messages);
                assert_eq!(messages.len(), 1000);
                messages
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("MessageFrameDecoder, 4 KiB reads", |b| {
        b.iter(|| {
            let mut decoder = MessageFrameDecoder::new();
            let mut buf = BytesMut::with_capacity(8192);
            let mut messages = Vec::with_capacity(1000);
            for read in black_box(&stream[..]).chunks(4096) {
                buf.extend_from_slice(read);
                decode_all(&mut buf, &mut decoder, &mut messages);
            }
            assert_eq!(messages.len(), 1000);
            messages
        })
    });
    group.bench_function("smithy MessageFrameDecoder, whole buffer", |b| {
        b.iter_batched(
            || BytesMut::from(&stream[..]),
            |mut buf| {
                let mut decoder = smithy::MessageFrameDecoder::new();
                let mut messages = Vec::with_capacity(1000);
                while let smithy::DecodedFrame::Complete(message) =
                    decoder.decode_frame(&mut buf).unwrap()
                {
                    messages.push(message);
                }
                assert_eq!(messages.len(), 1000);
                messages
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, encode, decode);
criterion_main!(benches);
