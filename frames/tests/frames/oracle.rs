//! The oracle: aws-smithy-eventstream 0.61.6 (the Rust SDK's codec) must write the same bytes as
//! we do for every golden message, and must decode what we write.

use aws_smithy_eventstream::frame as smithy;
use aws_smithy_types::event_stream as st;
use aws_smithy_types::DateTime;
use bytes::{Bytes, BytesMut};
use frames::{read_message_from, Header, HeaderValue, Message};
use proptest::prelude::*;

use crate::bedrock::builder_goldens;
use crate::support::{encode, names, vector};

fn to_smithy(message: &Message) -> st::Message {
    let headers = message
        .headers
        .iter()
        .map(|header| {
            let value = match &header.value {
                HeaderValue::Bool(v) => st::HeaderValue::Bool(*v),
                HeaderValue::Byte(v) => st::HeaderValue::Byte(*v),
                HeaderValue::Int16(v) => st::HeaderValue::Int16(*v),
                HeaderValue::Int32(v) => st::HeaderValue::Int32(*v),
                HeaderValue::Int64(v) => st::HeaderValue::Int64(*v),
                HeaderValue::ByteArray(v) => st::HeaderValue::ByteArray(v.clone()),
                HeaderValue::String(v) => st::HeaderValue::String(v.clone().into()),
                HeaderValue::Timestamp(v) => st::HeaderValue::Timestamp(DateTime::from_millis(*v)),
                HeaderValue::Uuid(v) => st::HeaderValue::Uuid(*v),
            };
            st::Header::new(header.name.clone(), value)
        })
        .collect();
    st::Message::new_from_parts(headers, message.payload.clone())
}

fn from_smithy(message: &st::Message) -> Message {
    let headers = message
        .headers()
        .iter()
        .map(|header| {
            let value = match header.value() {
                st::HeaderValue::Bool(v) => HeaderValue::Bool(*v),
                st::HeaderValue::Byte(v) => HeaderValue::Byte(*v),
                st::HeaderValue::Int16(v) => HeaderValue::Int16(*v),
                st::HeaderValue::Int32(v) => HeaderValue::Int32(*v),
                st::HeaderValue::Int64(v) => HeaderValue::Int64(*v),
                st::HeaderValue::ByteArray(v) => HeaderValue::ByteArray(v.clone()),
                st::HeaderValue::String(v) => HeaderValue::String(v.as_str().to_owned()),
                st::HeaderValue::Timestamp(v) => HeaderValue::Timestamp(v.to_millis().unwrap()),
                st::HeaderValue::Uuid(v) => HeaderValue::Uuid(*v),
                other => panic!("smithy header value with no counterpart: {other:?}"),
            };
            Header::new(header.name().as_str(), value)
        })
        .collect();
    Message {
        headers,
        payload: message.payload().clone(),
    }
}

fn smithy_encode(message: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    smithy::write_message_to(&to_smithy(message), &mut out).unwrap();
    out
}

/// Checks one message both ways; `name` labels failures.
fn check(name: &str, message: &Message) {
    let ours = encode(message);
    assert_eq!(
        smithy_encode(message),
        ours,
        "{name}: smithy wrote different bytes"
    );

    let decoded = smithy::read_message_from(&mut Bytes::from(ours.clone())).unwrap();
    assert_eq!(
        &from_smithy(&decoded),
        message,
        "{name}: smithy read_message_from"
    );

    let mut decoder = smithy::MessageFrameDecoder::new();
    let mut buf = BytesMut::from(&ours[..]);
    match decoder.decode_frame(&mut buf).unwrap() {
        smithy::DecodedFrame::Complete(decoded) => {
            assert_eq!(&from_smithy(&decoded), message, "{name}: smithy decoder")
        }
        smithy::DecodedFrame::Incomplete => panic!("{name}: smithy decoder wants more bytes"),
    }
}

#[test]
fn smithy_agrees_on_every_valid_vector() {
    for name in names("valid") {
        let message = read_message_from(&mut &vector("valid", &name)[..]).unwrap();
        check(&name, &message);
    }
}

#[test]
fn smithy_agrees_on_the_bedrock_builders() {
    for (name, message) in builder_goldens() {
        check(name, &message);
    }
}

#[test]
fn smithy_rejects_the_negative_vectors_too() {
    // smithy-rs accepts duplicate headers (documented divergence); everything else it rejects.
    for name in names("invalid") {
        let result = smithy::read_message_from(&mut Bytes::from(vector("invalid", &name)));
        assert_eq!(
            result.is_ok(),
            name == "duplicate_header",
            "{name}: {result:?}"
        );
    }
}

proptest! {
    #[test]
    fn smithy_agrees_on_arbitrary_messages(mut message in crate::roundtrip::message()) {
        // smithy's DateTime converts back to millis only within its range.
        for header in &mut message.headers {
            if let HeaderValue::Timestamp(millis) = &mut header.value {
                *millis %= 1_000_000_000_000_000;
            }
        }
        check("arbitrary", &message);
    }
}
