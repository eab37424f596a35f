//! Raw bytes into the frames decoder, as an HTTP body of frames would arrive.
//!
//! Whole-buffer reads, the incremental decoder fed in pieces, and the text listing must agree on
//! which frames the bytes hold and where decoding stops; every frame decoded must re-encode to the
//! very bytes it was read from.
#![no_main]

use bytes::BytesMut;
use frames::{DecodedFrame, Message, MessageFrameDecoder};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Whole: one frame after another from the front of the buffer.
    let mut whole = Vec::new();
    let mut rest = data;
    let whole_failed = loop {
        if rest.is_empty() {
            break false;
        }
        let before = rest.len();
        match frames::read_message_from(&mut rest) {
            Ok(message) => {
                let frame = &data[data.len() - before..data.len() - rest.len()];
                assert_reencodes(&message, frame);
                whole.push(message);
            }
            Err(_) => break true,
        }
    };

    // Incremental, in pieces whose size the input's length picks.
    let step = 1 + data.len() % 7;
    let mut decoder = MessageFrameDecoder::new();
    let mut buf = BytesMut::new();
    let mut pieces = Vec::new();
    let mut failed = false;
    'feed: for piece in data.chunks(step) {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode_frame(&mut buf) {
                Ok(DecodedFrame::Complete(message)) => pieces.push(message),
                Ok(DecodedFrame::Incomplete) => break,
                Err(_) => {
                    failed = true;
                    break 'feed;
                }
            }
        }
    }
    let failed = failed || decoder.finish(&buf).is_err();
    assert_eq!(whole, pieces, "whole and incremental decoding disagree");
    assert_eq!(
        whole_failed, failed,
        "whole and incremental decoding disagree on failure"
    );

    // The listing sees the same frames, and fails where decoding failed.
    let listing = frames::render_stream(data);
    let text = listing.to_string();
    let ok = text.lines().last().is_some_and(|l| l.starts_with("ok: "));
    assert_eq!(ok, !failed, "the listing ends {:?}", text.lines().last());
    let listed = text.lines().filter(|l| l.starts_with("frame ")).count();
    assert_eq!(
        listed,
        whole.len(),
        "the listing shows another number of frames"
    );
});

fn assert_reencodes(message: &Message, frame: &[u8]) {
    let mut out = BytesMut::new();
    let encoded = frames::write_message_to(message, &mut out);
    assert!(
        encoded.is_ok(),
        "a decoded frame does not encode: {encoded:?}"
    );
    assert_eq!(&out[..], frame, "a decoded frame re-encodes differently");
}
