//! Entry points for the fuzz targets in `fuzz/`: one function per target, each taking the raw fuzz
//! input, so the fuzz crate depends on nothing of the crate's internal layout. Each function runs
//! what a request or a backend answer would reach and panics only on a broken invariant (a reader
//! that panics, output that does not parse back); errors are expected outcomes.
//!
//! Not part of the supported API.

use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::families::converse::field_paths::{self, StreamFields};
use crate::runtime::families::converse::{self, stream::ConverseShaper};
use crate::runtime::formats;
use crate::runtime::read::fields;
use crate::runtime::sources::canned;
use crate::runtime::sources::openai::decode::{Decoder, Progress};
use crate::runtime::sources::openai::{errors, request::chat_body, sse};
use crate::runtime::stream::answer::{Answer, AnswerBlock};
use crate::runtime::stream::body::{encode, Format, Wire};
use crate::runtime::stream::delta::{Delta, Stop, StopReason, TokenStream, Usage};
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::request::ChatRequest;
use crate::runtime::stream::shaper::{Clock, Shaper, Timing};
use crate::runtime::stream::tokens;
use base64::Engine;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use serde_json::Value;
use std::convert::Infallible;
use std::time::Instant;

/// The models the InvokeModel target reads bodies for, picked by the input's first byte: one for
/// every chat family (Mistral and DeepSeek take two body shapes each) and every embedding family.
pub const INVOKE_MODELS: &[&str] = &[
    "anthropic.claude-3-5-sonnet-20241022-v2:0",
    "anthropic.claude-v2:1",
    "amazon.titan-text-express-v1",
    "amazon.nova-lite-v1:0",
    "meta.llama3-8b-instruct-v1:0",
    "mistral.mistral-large-2407-v1:0",
    "cohere.command-r-plus-v1:0",
    "cohere.command-text-v14",
    "deepseek.r1-v1:0",
    "openai.gpt-oss-20b-1:0",
    "amazon.titan-embed-text-v1",
    "amazon.titan-embed-text-v2:0",
    "amazon.titan-embed-image-v1",
    "cohere.embed-english-v3",
    "cohere.embed-v4:0",
];

/// A model of every chat family: the backend-stream target shapes its answers for one of them (or
/// for Converse), and the Converse target reads its field paths from one's native response.
const CHAT_MODELS: &[&str] = &[
    "anthropic.claude-3-5-sonnet-20241022-v2:0",
    "anthropic.claude-v2:1",
    "amazon.titan-text-express-v1",
    "amazon.nova-lite-v1:0",
    "meta.llama3-8b-instruct-v1:0",
    "mistral.mistral-large-2407-v1:0",
    "mistral.mistral-7b-instruct-v0:2",
    "cohere.command-r-plus-v1:0",
    "cohere.command-text-v14",
    "deepseek.r1-v1:0",
    "openai.gpt-oss-20b-1:0",
];

/// A Converse / ConverseStream body: read as the operation reads it; a request it accepts is
/// translated for the backend, counted, and shaped into a short answer, with the
/// `additionalModelResponseFieldPaths` it asks for read from a chat family's native response.
pub fn converse_request(body: &[u8]) {
    let parsed = fields::object(body).and_then(|object| converse::request::parse(&object));
    match parsed {
        Ok((request, paths)) => {
            accepted(&request);
            let ids = Ids::seeded(&[body]);
            let mut shaper = ConverseShaper::new(ids.clone());
            let model = ModelRef::of_id(CHAT_MODELS[body.len() % CHAT_MODELS.len()]);
            if let Some(family) = formats::converse_family(&model.id).filter(|_| !paths.is_empty())
            {
                let answer = short_answer();
                let _ = field_paths::of_answer(&paths, family, &answer, &model, &request, &ids);
                shaper =
                    shaper.with_fields(StreamFields::new(paths, family, &model, &request, ids));
            }
            shape_short_answer(&mut shaper, &request, true);
        }
        Err(err) => refused(&err),
    }
}

/// An InvokeModel body (the input after its first byte), read for the model that the first byte
/// picks from `INVOKE_MODELS`; a request it accepts goes on as in `converse_request`, and its
/// family renders a short answer.
pub fn invoke_request(input: &[u8]) {
    let Some((&pick, body)) = input.split_first() else {
        return;
    };
    let model = ModelRef::of_id(INVOKE_MODELS[usize::from(pick) % INVOKE_MODELS.len()]);
    if let Some(embedder) = formats::embed_family_for(&model.id) {
        let object = match fields::object(body) {
            Ok(object) => object,
            Err(err) => return refused(&err),
        };
        match embedder.parse(&object, &model) {
            Ok(request) => {
                let vectors = canned::embed::vectors(&request);
                let answer = embedder.respond(&object, &request, &vectors, &mut Ids::seeded(&[]));
                assert!(answer.is_object(), "{} answered {answer}", model.id);
            }
            Err(err) => refused(&err),
        }
        return;
    }
    match formats::read(&model, body) {
        Ok(Some((family, request))) => {
            accepted(&request);
            let mut shaper = family.shaper(&model, &request, Ids::seeded(&[body]));
            shape_short_answer(shaper.as_mut(), &request, false);
            let answer = short_answer();
            let native = family.respond(&answer, &model, &request, &mut Ids::seeded(&[body]));
            assert!(native.is_object(), "{} answered {native}", model.id);
        }
        Ok(None) => panic!("no family reads {}", model.id),
        Err(err) => refused(&err),
    }
}

/// What every accepted request goes through before a source answers it.
fn accepted(request: &ChatRequest) {
    let _ = tokens::input_tokens(request);
    match chat_body(request, "backend-model") {
        Ok(body) => {
            let parsed = serde_json::from_slice::<Value>(&body);
            assert!(parsed.is_ok(), "the backend body is not JSON: {parsed:?}");
        }
        Err(err) => refused(&err),
    }
}

/// A refusal is an AWS error a client can read: a 4xx or 5xx with a message.
fn refused(err: &ApiError) {
    let status = err.status();
    assert!((400..600).contains(&status), "status {status} for {err:?}");
    assert!(!err.message().is_empty(), "no message in {err:?}");
    let _ = err.body().to_string();
}

fn short_answer_deltas() -> Vec<Delta> {
    vec![
        Delta::Start { input_tokens: 3 },
        Delta::Text("Hello".into()),
        Delta::Stop(Stop {
            reason: StopReason::EndTurn,
            usage: Usage {
                input_tokens: 3,
                output_tokens: 1,
            },
        }),
    ]
}

fn short_answer() -> Answer {
    Answer {
        blocks: vec![AnswerBlock::Text("Hello".into())],
        stop: Stop {
            reason: StopReason::EndTurn,
            usage: Usage {
                input_tokens: 3,
                output_tokens: 1,
            },
        },
        timing: Timing::default(),
    }
}

/// Every event a shaper writes for a request-specific answer carries JSON.
fn shape_short_answer(shaper: &mut dyn Shaper, request: &ChatRequest, converse: bool) {
    let mut events = Vec::new();
    for delta in short_answer_deltas() {
        shaper.on_delta(&delta, &Timing::default(), &mut events);
    }
    for event in events {
        let parsed = serde_json::from_slice::<Value>(&event.payload);
        assert!(
            parsed.is_ok(),
            "{} event is not JSON (converse: {converse}, {} messages)",
            event.name,
            request.messages.len()
        );
    }
}

fn pinned_clock() -> Clock {
    Clock::new(Instant::now(), true)
}

/// The first delta and the rest, as a source hands them to the body writer.
fn split(items: Vec<Result<Delta, ApiError>>) -> (Delta, TokenStream) {
    let mut items = items.into_iter();
    let first = match items.next() {
        Some(Ok(delta)) => delta,
        other => panic!("a backend stream starts with a delta, not {other:?}"),
    };
    (first, Box::pin(futures::stream::iter(items)))
}

/// The backend's server-sent events parser: fed in pieces of `input[0] + 1` bytes it finds the
/// same events, and the same failure, as fed all at once (before a failure, possibly more events).
pub fn sse_parser(input: &[u8]) {
    let Some((&step, stream)) = input.split_first() else {
        return;
    };
    let (whole, whole_failure) = sse_events(stream, stream.len().max(1));
    let (pieces, pieces_failure) = sse_events(stream, usize::from(step) + 1);
    // A chunk is checked (UTF-8, size) before the parser sees it, so the events of a chunk that
    // holds a bad byte are not given: smaller pieces give more of the events before a failure,
    // never other events nor another failure.
    assert_eq!(
        whole_failure,
        pieces_failure,
        "failures differ when fed in pieces of {}",
        step + 1
    );
    if whole_failure.is_none() {
        assert_eq!(
            whole,
            pieces,
            "events differ when fed in pieces of {}",
            step + 1
        );
    } else {
        assert!(
            pieces.starts_with(&whole),
            "events differ when fed in pieces of {}: {whole:?} is not the start of {pieces:?}",
            step + 1
        );
    }
}

type Events = (Vec<(String, String)>, Option<String>);

/// The events of `stream` fed in pieces of `step` bytes, and the failure that ended them.
fn sse_events(stream: &[u8], step: usize) -> Events {
    let pieces: Vec<Result<Bytes, Infallible>> = stream
        .chunks(step)
        .map(|piece| Ok(Bytes::copy_from_slice(piece)))
        .collect();
    let parsed =
        futures::executor::block_on(sse::events(futures::stream::iter(pieces)).collect::<Vec<_>>());
    let mut events = Vec::new();
    for event in parsed {
        match event {
            Ok(event) => events.push((event.event, event.data)),
            Err(failure) => return (events, Some(failure.to_string())),
        }
    }
    (events, None)
}

/// A backend's answer, byte for byte: its server-sent events decoded into the token stream as the
/// backend source decodes them, then shaped and written as a client would receive it. `input[0]`
/// picks the operation and the body format (even: frames; odd: the JSON array; then Converse or a
/// chat family of `CHAT_MODELS`; from 128 on, a maxTokens of 8 the answer is cut at). The frames must decode back whole, the JSON array must parse, and
/// the collected answer must render as the non-streaming response.
pub fn backend_stream(input: &[u8]) {
    let Some((&pick, upstream)) = input.split_first() else {
        return;
    };
    let format = if pick % 2 == 0 {
        Format::EventStream
    } else {
        Format::JsonArray
    };
    let family_pick = usize::from(pick / 2) % (CHAT_MODELS.len() + 1);
    let request = ChatRequest {
        stop_sequences: vec!["END".into(), "\n\nHuman:".into()],
        // Half the inputs hold the backend to a small maxTokens, so answers are cut at it too.
        max_tokens: (pick >= 128).then_some(8),
        ..ChatRequest::default()
    };
    let items = upstream_deltas(upstream, &request);
    let ids = Ids::seeded(&[upstream]);
    // Converse, or InvokeModel on a chat family's model.
    let family = family_pick
        .checked_sub(1)
        .and_then(|i| CHAT_MODELS.get(i))
        .map(|id| match formats::converse_family(id) {
            Some(family) => (family, ModelRef::of_id(id)),
            None => panic!("no family speaks for {id}"),
        });
    let (wire, shaper): (Wire, Box<dyn Shaper>) = match &family {
        None => (Wire::Converse, Box::new(ConverseShaper::new(ids))),
        Some((family, model)) => (Wire::Invoke, family.shaper(model, &request, ids)),
    };

    let (first, rest) = split(items.clone());
    let body = futures::executor::block_on(
        encode(first, rest, shaper, pinned_clock(), format, wire, None).fold(
            BytesMut::new(),
            |mut body, bytes| async move {
                body.extend_from_slice(&bytes);
                body
            },
        ),
    );
    match format {
        Format::EventStream => check_frames(body, wire),
        Format::JsonArray => {
            let parsed = serde_json::from_slice::<Value>(&body);
            assert!(
                matches!(parsed, Ok(Value::Array(_))),
                "the JSON array body does not parse: {parsed:?}"
            );
        }
    }

    let (first, rest) = split(items);
    let mut ids = Ids::seeded(&[upstream]);
    match futures::executor::block_on(Answer::collect(first, rest, pinned_clock())) {
        Ok(answer) => match family {
            Some((family, model)) => {
                let _ = family
                    .respond(&answer, &model, &request, &mut ids)
                    .to_string();
            }
            None => {
                let response = converse::stream::respond(&answer, &mut ids, None);
                let written = serde_json::to_vec(&response);
                assert!(written.is_ok(), "{written:?}");
            }
        },
        Err(err) => refused(&err.into_collected_error("model")),
    }
}

/// The token stream the backend source makes of an answer's bytes (its I/O loop, without the I/O).
fn upstream_deltas(upstream: &[u8], request: &ChatRequest) -> Vec<Result<Delta, ApiError>> {
    let mut decoder = Decoder::new(
        request.stop_sequences.clone(),
        tokens::input_tokens(request),
    )
    .with_budget(request.max_tokens);
    let mut items = vec![Ok(Delta::Start {
        input_tokens: decoder.input_estimate(),
    })];
    let body = futures::stream::iter([Ok::<_, Infallible>(Bytes::copy_from_slice(upstream))]);
    let events = futures::executor::block_on(sse::events(body).collect::<Vec<_>>());
    let mut out = Vec::new();
    for event in events {
        let progress = match event {
            Ok(event) => decoder.event(&event.event, &event.data, &mut out),
            Err(failure) => {
                items.push(Err(errors::broken("backend", &failure.to_string())));
                return items;
            }
        };
        items.extend(out.drain(..).map(Ok));
        let stop = match progress {
            Err(err) => {
                items.push(Err(err));
                return items;
            }
            Ok(Progress::More) => continue,
            Ok(Progress::Complete) => decoder.stop(&mut out),
            Ok(Progress::OverBudget) => decoder.cut(&mut out),
        };
        items.extend(out.drain(..).map(Ok));
        items.push(Ok(Delta::Stop(stop)));
        return items;
    }
    let end = decoder.at_eof(&mut out);
    items.extend(out.drain(..).map(Ok));
    items.push(end.map(Delta::Stop));
    items
}

/// Every frame of a streaming body decodes, and its payload is JSON (for `chunk` events, the
/// base64 in `bytes` decodes to JSON).
fn check_frames(mut body: BytesMut, wire: Wire) {
    let mut decoder = frames::MessageFrameDecoder::new();
    let mut count = 0;
    loop {
        match decoder.decode_frame(&mut body) {
            Ok(frames::DecodedFrame::Complete(message)) => {
                count += 1;
                let payload = serde_json::from_slice::<Value>(&message.payload);
                assert!(payload.is_ok(), "frame {count}: payload is not JSON");
                let event = message.header_str(":event-type");
                if wire == Wire::Invoke && event == Some("chunk") {
                    let bytes = payload
                        .ok()
                        .and_then(|p| p.get("bytes").and_then(Value::as_str).map(str::to_owned))
                        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
                    let chunk = bytes.and_then(|b| serde_json::from_slice::<Value>(&b).ok());
                    assert!(chunk.is_some(), "frame {count}: chunk bytes are not JSON");
                }
            }
            Ok(frames::DecodedFrame::Incomplete) => break,
            Err(err) => panic!("frame {}: {err}", count + 1),
        }
    }
    assert!(body.is_empty(), "{} bytes after the last frame", body.len());
    assert!(count > 0, "no frames");
}
