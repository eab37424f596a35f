//! Messages built from fuzz input go through the encoder: what it accepts decodes back to the same
//! message (whole and byte by byte) and re-encodes to the same bytes; what it refuses breaks a
//! documented limit and leaves the output untouched.
#![no_main]

use arbitrary::Arbitrary;
use bytes::{Bytes, BytesMut};
use frames::{DecodedFrame, ErrorKind, Header, HeaderValue, Message, MessageFrameDecoder};

#[derive(Debug, Arbitrary)]
struct Input {
    headers: Vec<(String, Value)>,
    payload: Vec<u8>,
}

#[derive(Debug, Arbitrary)]
enum Value {
    Bool(bool),
    Byte(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    ByteArray(Vec<u8>),
    String(String),
    Timestamp(i64),
    Uuid(u128),
}

libfuzzer_sys::fuzz_target!(|input: Input| {
    let message = Message {
        headers: input
            .headers
            .into_iter()
            .map(|(name, value)| Header::new(name, header_value(value)))
            .collect(),
        payload: Bytes::from(input.payload),
    };
    let mut out = BytesMut::from(&b"before"[..]);
    match frames::write_message_to(&message, &mut out) {
        Ok(()) => {
            let frame = out.split_off(6).freeze();
            assert_eq!(frames::encoded_len(&message).ok(), Some(frame.len()));
            let decoded = frames::read_message_from(&mut &frame[..]);
            assert_eq!(decoded.as_ref(), Ok(&message));

            let mut decoder = MessageFrameDecoder::new();
            let mut buf = BytesMut::new();
            let mut found = None;
            for byte in frame.iter() {
                buf.extend_from_slice(&[*byte]);
                if let Ok(DecodedFrame::Complete(m)) = decoder.decode_frame(&mut buf) {
                    found = Some(m);
                }
            }
            assert_eq!(found.as_ref(), Some(&message));
            assert_eq!(decoder.offset(), frame.len() as u64);

            let mut again = BytesMut::new();
            assert!(frames::write_message_to(&message, &mut again).is_ok());
            assert_eq!(again.freeze(), frame);
        }
        Err(err) => {
            assert_eq!(&out[..], b"before", "a refused message wrote bytes");
            assert!(
                matches!(
                    err.kind(),
                    ErrorKind::InvalidHeaderNameLength(_)
                        | ErrorKind::HeaderValueTooLong(_)
                        | ErrorKind::DuplicateHeader(_)
                        | ErrorKind::HeadersTooLarge(_)
                        | ErrorKind::PayloadTooLarge(_)
                ),
                "refused with {err:?}"
            );
            assert_eq!(frames::encoded_len(&message).err(), Some(err));
        }
    }
});

fn header_value(value: Value) -> HeaderValue {
    match value {
        Value::Bool(v) => HeaderValue::Bool(v),
        Value::Byte(v) => HeaderValue::Byte(v),
        Value::Int16(v) => HeaderValue::Int16(v),
        Value::Int32(v) => HeaderValue::Int32(v),
        Value::Int64(v) => HeaderValue::Int64(v),
        Value::ByteArray(v) => HeaderValue::ByteArray(Bytes::from(v)),
        Value::String(v) => HeaderValue::String(v),
        Value::Timestamp(v) => HeaderValue::Timestamp(v),
        Value::Uuid(v) => HeaderValue::Uuid(v),
    }
}
