//! Property tests: any message within the limits survives encode → decode, through both decoders
//! and any chunking; arbitrary bytes never panic the decoders.

use std::collections::HashSet;

use bytes::Bytes;
use frames::{read_message_from, Header, HeaderValue, Message};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::support::{decode_chunked, encode};

pub fn header_value() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        any::<bool>().prop_map(HeaderValue::Bool),
        any::<i8>().prop_map(HeaderValue::Byte),
        any::<i16>().prop_map(HeaderValue::Int16),
        any::<i32>().prop_map(HeaderValue::Int32),
        any::<i64>().prop_map(HeaderValue::Int64),
        vec(any::<u8>(), 0..300).prop_map(|b| HeaderValue::ByteArray(Bytes::from(b))),
        ".{0,100}".prop_map(HeaderValue::String),
        any::<i64>().prop_map(HeaderValue::Timestamp),
        any::<u128>().prop_map(HeaderValue::Uuid),
    ]
}

/// Names of 1..=255 bytes of arbitrary UTF-8, including multi-byte characters.
pub fn header_name() -> impl Strategy<Value = String> {
    ".{1,80}".prop_map(|mut name: String| {
        while name.len() > 255 {
            name.pop();
        }
        name
    })
}

pub fn message() -> impl Strategy<Value = Message> {
    (
        vec((header_name(), header_value()), 0..12),
        vec(any::<u8>(), 0..2048),
    )
        .prop_map(|(headers, payload)| {
            let mut seen = HashSet::new();
            let headers = headers
                .into_iter()
                .filter(|(name, _)| seen.insert(name.clone()))
                .map(|(name, value)| Header { name, value })
                .collect();
            Message {
                headers,
                payload: Bytes::from(payload),
            }
        })
}

proptest! {
    #[test]
    fn encode_then_decode_is_identity(message in message()) {
        let bytes = encode(&message);
        prop_assert_eq!(bytes.len(), frames::encoded_len(&message).unwrap());
        let mut buf = &bytes[..];
        prop_assert_eq!(&read_message_from(&mut buf).unwrap(), &message);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn streams_decode_under_any_chunking(
        messages in vec(message(), 1..5),
        chunk in 1usize..64,
    ) {
        let stream: Vec<u8> = messages.iter().flat_map(encode).collect();
        let (decoded, error) = decode_chunked(&stream, chunk);
        prop_assert!(error.is_none(), "{:?}", error);
        prop_assert_eq!(decoded, messages);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..512), chunk in 1usize..32) {
        let _ = read_message_from(&mut &bytes[..]);
        let _ = decode_chunked(&bytes, chunk);
        let _ = frames::render_stream(&bytes).to_string();
    }

    #[test]
    fn corrupting_any_byte_is_detected(message in message(), at in any::<prop::sample::Index>(), xor in 1u8..) {
        let mut bytes = encode(&message);
        let at = at.index(bytes.len());
        bytes[at] ^= xor;
        prop_assert!(read_message_from(&mut &bytes[..]).is_err());
    }
}
