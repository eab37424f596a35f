//! The HTTP face of each runtime operation: resolve the model, translate the body, open the token
//! stream, wait for its first item (an error there is an HTTP error), then collect or stream it.
//! Every call is recorded in the invocation log: its [`Recording`] begins with the call, and a
//! stream's recording rides in the body writer.

use super::embed::EmbedFamily;
use super::families::converse::{
    self,
    field_paths::{self, StreamFields},
};
use super::formats;
use super::read::fields;
use super::stream::answer::Answer;
use super::stream::body::{choose_format, stream_response, Wire};
use super::stream::delta::{truncated, Delta, TokenStream};
use super::stream::request::ChatRequest;
use super::stream::shaper::Clock;
use super::stream::tokens;
use super::Runtime;
use crate::aws::http::{error_response, full, with_type, Body};
use crate::aws::ApiError;
use crate::call::Call;
use crate::control::invocations::record::{Recording, Summary};
use crate::management::{catalog, Store};
use crate::model_ref::ModelRef;
use crate::operations::RuntimeOp;
use base64::Engine;
use bytes::Bytes;
use futures::StreamExt;
use hyper::header::HeaderValue;
use hyper::Response;
use serde_json::json;
use std::time::Instant;

/// Answers one runtime call from this serving thread's `runtime`; the model (the path's first
/// label) resolves through the control plane's `store`.
pub async fn handle(
    op: RuntimeOp,
    runtime: &Runtime,
    store: &Store,
    call: Call,
) -> Result<Response<Body>, ApiError> {
    let started = Instant::now();
    let mut rec = runtime.invocations.begin(op, &call, started);
    let answered = answer(op, runtime, store, &call, &mut rec, started).await;
    if let Err(err) = &answered {
        rec.failed(err);
    }
    answered
}

async fn answer(
    op: RuntimeOp,
    runtime: &Runtime,
    store: &Store,
    call: &Call,
    rec: &mut Recording,
    started: Instant,
) -> Result<Response<Body>, ApiError> {
    let model = store.resolve_model(&call.ctx.region, &call.ctx.account_id, call.param(0))?;
    rec.model(&model);
    if op != RuntimeOp::CountTokens {
        let embeddings = formats::embed_family_for(&model.id).is_some();
        rec.backend_model(|| runtime.source.backend_model(&model, embeddings));
    }
    match op {
        RuntimeOp::InvokeModel => invoke(runtime, call, model, started, false, rec).await,
        RuntimeOp::InvokeModelWithResponseStream => {
            invoke(runtime, call, model, started, true, rec).await
        }
        RuntimeOp::Converse => converse(runtime, call, model, started, false, rec).await,
        RuntimeOp::ConverseStream => converse(runtime, call, model, started, true, rec).await,
        RuntimeOp::CountTokens => count_tokens(call, &model, rec),
    }
}

/// A whole answer's JSON response, recorded with its body (the same bytes, not a copy).
fn respond(
    rec: &mut Recording,
    value: &impl serde::Serialize,
    summary: impl FnOnce() -> Summary,
) -> Response<Body> {
    let body = match serde_json::to_vec(value) {
        Ok(body) => Bytes::from(body),
        Err(err) => {
            let err = ApiError::InternalServer(format!("could not serialize the response: {err}"));
            rec.failed(&err);
            return error_response(&err);
        }
    };
    rec.answered(summary, 200, &body);
    with_type(200, "application/json", full(body))
}

async fn invoke(
    runtime: &Runtime,
    call: &Call,
    model: ModelRef,
    started: Instant,
    stream: bool,
    rec: &mut Recording,
) -> Result<Response<Body>, ApiError> {
    if let Some(embedder) = formats::embed_family_for(&model.id) {
        return embed(runtime, call, &model, embedder, started, stream, rec).await;
    }
    let (family, request) =
        formats::read(&model, &call.body)?.ok_or_else(|| unsupported(&model, "InvokeModel"))?;
    let mut ids = runtime.ids(&call.body, &model.id);
    let (first, rest) = open(runtime, &request, &model, stream).await?;
    let clock = Clock::new(started, runtime.deterministic);
    if stream {
        let format = choose_format(runtime.stream_format, &call.headers, call.query.as_deref())?;
        let shaper = family.shaper(&model, &request, ids);
        return Ok(stream_response(
            first,
            rest,
            shaper,
            clock,
            format,
            Wire::Invoke,
            rec.streaming(format),
        ));
    }
    let answer = Answer::collect(first, rest, clock)
        .await
        .map_err(|e| e.into_collected_error(&model.id))?;
    let value = family.respond(&answer, &model, &request, &mut ids);
    let mut resp = respond(rec, &value, || Summary::of_answer(&answer));
    let h = resp.headers_mut();
    let u = answer.usage();
    for (name, value) in [
        (
            "x-amzn-bedrock-input-token-count",
            u64::from(u.input_tokens),
        ),
        (
            "x-amzn-bedrock-output-token-count",
            u64::from(u.output_tokens),
        ),
        (
            "x-amzn-bedrock-invocation-latency",
            answer.timing.invocation_ms,
        ),
    ] {
        h.insert(name, HeaderValue::from(value));
    }
    Ok(resp)
}

/// InvokeModel on an embedding model: vectors, not a token stream (embeddings do not stream).
async fn embed(
    runtime: &Runtime,
    call: &Call,
    model: &ModelRef,
    family: &dyn EmbedFamily,
    started: Instant,
    stream: bool,
    rec: &mut Recording,
) -> Result<Response<Body>, ApiError> {
    if stream {
        return Err(ApiError::validation(
            "The model is unsupported for streaming.",
        ));
    }
    let body = fields::object(&call.body)?;
    let request = family.parse(&body, model)?;
    let embeddings = runtime
        .source
        .embed(&request, model)
        .await
        .map_err(|e| e.into_collected_error(&model.id))?;
    let mut ids = runtime.ids(&call.body, &model.id);
    let value = family.respond(&body, &request, &embeddings, &mut ids);
    let mut resp = respond(rec, &value, || {
        Summary::input_tokens(embeddings.input_tokens)
    });
    let latency = Clock::new(started, runtime.deterministic)
        .timing()
        .invocation_ms;
    let h = resp.headers_mut();
    h.insert(
        "x-amzn-bedrock-input-token-count",
        HeaderValue::from(embeddings.input_tokens),
    );
    h.insert(
        "x-amzn-bedrock-invocation-latency",
        HeaderValue::from(latency),
    );
    Ok(resp)
}

async fn converse(
    runtime: &Runtime,
    call: &Call,
    model: ModelRef,
    started: Instant,
    stream: bool,
    rec: &mut Recording,
) -> Result<Response<Body>, ApiError> {
    if !is_chat_model(&model) {
        return Err(ApiError::validation(
            "This action doesn't support the model that you provided. Try again with a supported text or chat model.",
        ));
    }
    let (request, paths) = converse::request::parse(&fields::object(&call.body)?)?;
    let mut ids = runtime.ids(&call.body, &model.id);
    // The native response that `additionalModelResponseFieldPaths` point into is the family's.
    let native = if paths.is_empty() {
        None
    } else {
        formats::converse_family(&model.id)
    };
    let (first, rest) = open(runtime, &request, &model, stream).await?;
    let clock = Clock::new(started, runtime.deterministic);
    if stream {
        let format = choose_format(runtime.stream_format, &call.headers, call.query.as_deref())?;
        let mut shaper = converse::stream::ConverseShaper::new(ids.clone());
        if let Some(family) = native {
            shaper = shaper.with_fields(StreamFields::new(paths, family, &model, &request, ids));
        }
        return Ok(stream_response(
            first,
            rest,
            Box::new(shaper),
            clock,
            format,
            Wire::Converse,
            rec.streaming(format),
        ));
    }
    let answer = Answer::collect(first, rest, clock)
        .await
        .map_err(|e| e.into_collected_error(&model.id))?;
    let fields = native
        .and_then(|family| field_paths::of_answer(&paths, family, &answer, &model, &request, &ids));
    let value = converse::stream::respond(&answer, &mut ids, fields);
    Ok(respond(rec, &value, || Summary::of_answer(&answer)))
}

/// Whether Converse can answer with this model: it writes text (not embeddings, images or video).
fn is_chat_model(model: &ModelRef) -> bool {
    catalog::find(&model.id)
        .is_some_and(|m| m.output_modalities.iter().any(|o| o == "TEXT") && !m.is_embedding())
}

/// Opens the token stream and waits for its first item, so that a failure to start is an HTTP error.
async fn open(
    runtime: &Runtime,
    request: &ChatRequest,
    model: &ModelRef,
    streamed: bool,
) -> Result<(Delta, TokenStream), ApiError> {
    let mut stream = runtime.source.chat(request, model, streamed);
    match stream.next().await {
        Some(Ok(first)) => Ok((first, stream)),
        Some(Err(err)) => Err(err),
        None => Err(truncated()),
    }
}

/// CountTokens: the input-token figure InvokeModel / Converse would report for the same input.
fn count_tokens(
    call: &Call,
    model: &ModelRef,
    rec: &mut Recording,
) -> Result<Response<Body>, ApiError> {
    let body = fields::object(&call.body)?;
    let f = fields::Fields::new(&body, "");
    let inp = f.object("input")?.ok_or_else(|| f.missing("input"))?;
    let request = if let Some(invoke) = inp.object("invokeModel")? {
        let raw = invoke.req_str("body")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|_| ApiError::validation("input.invokeModel.body must be base64-encoded"))?;
        formats::read(model, &bytes)?
            .ok_or_else(|| unsupported(model, "CountTokens"))?
            .1
    } else if let Some(conv) = inp.object("converse")? {
        converse::request::parse(conv.obj)?.0
    } else {
        return Err(ApiError::validation(
            "input must have one and only one member set: invokeModel or converse.",
        ));
    };
    let input_tokens = tokens::input_tokens(&request);
    Ok(respond(
        rec,
        &json!({ "inputTokens": input_tokens }),
        || Summary::input_tokens(input_tokens),
    ))
}

fn unsupported(model: &ModelRef, op: &str) -> ApiError {
    ApiError::validation(format!(
        "{op} does not support the model {}: awsim has no request format for it.",
        model.id
    ))
}
