//! The HTTP face of each runtime operation: resolve the model, translate the body, hold the call
//! against the rules, open the token stream, wait for its first item (an error there is an HTTP
//! error), then collect or stream it. Every call is recorded in the invocation log: its
//! [`Recording`] begins with the call, learns the rule that fired and the guardrail, and a
//! stream's recording rides in the body writer.

use super::embed::EmbedFamily;
use super::families::converse::{
    self,
    field_paths::{self, StreamFields},
};
use super::formats;
use super::read::fields;
use super::sources::scripted;
use super::stream::answer::{Answer, AnswerBlock};
use super::stream::body::{choose_format, stream_response, Format, Wire};
use super::stream::delta::{truncated, Delta, TokenStream};
use super::stream::request::ChatRequest;
use super::stream::shaper::{Clock, Shaper};
use super::stream::tokens;
use super::Runtime;
use crate::aws::http::{error_response, full, with_type, Body};
use crate::aws::ApiError;
use crate::call::Call;
use crate::control::invocations::record::{Recording, Summary};
use crate::control::matcher::{Facts, Input};
use crate::control::Steered;
use crate::guardrails::{apply, Guard};
use crate::management::{catalog, Store};
use crate::model_ref::ModelRef;
use crate::operations::RuntimeOp;
use base64::Engine;
use bytes::Bytes;
use futures::StreamExt;
use hyper::header::HeaderValue;
use hyper::Response;
use serde_json::json;

/// Answers one runtime call from this serving thread's `runtime`; the model (the path's first
/// label) resolves through the control plane's `store`.
pub async fn handle(
    op: RuntimeOp,
    runtime: &Runtime,
    store: &Store,
    call: Call,
) -> Result<Response<Body>, ApiError> {
    let mut rec = runtime.invocations.begin(op, &call);
    let answered = answer_call(op, runtime, store, &call, &mut rec).await;
    if let Err(err) = &answered {
        rec.failed(err);
    }
    answered
}

async fn answer_call(
    op: RuntimeOp,
    runtime: &Runtime,
    store: &Store,
    call: &Call,
    rec: &mut Recording,
) -> Result<Response<Body>, ApiError> {
    let model = |rec: &mut Recording| {
        let model = store.resolve_model(&call.ctx.region, &call.ctx.account_id, call.param(0))?;
        rec.model(&model);
        if op != RuntimeOp::CountTokens {
            let embeddings = formats::embed_family_for(&model.id).is_some();
            rec.backend_model(|| runtime.source.backend_model(&model, embeddings));
        }
        Ok::<_, ApiError>(model)
    };
    match op {
        RuntimeOp::InvokeModel | RuntimeOp::InvokeModelWithResponseStream => {
            invoke(runtime, store, call, model(rec)?, op, rec).await
        }
        RuntimeOp::Converse | RuntimeOp::ConverseStream => {
            converse(runtime, store, call, model(rec)?, op, rec).await
        }
        RuntimeOp::CountTokens => count_tokens(runtime, call, &model(rec)?, rec).await,
        RuntimeOp::ApplyGuardrail | RuntimeOp::InvokeGuardrailChecks => {
            // No model answers: a rule's `modelId` is held against the guardrail's identifier.
            let target = ModelRef::of_id(call.param(0));
            let steered = steer(runtime, call, op, &target, Input::Guard, rec);
            if let Some(early) = steered.before_first_byte(false, &target.id, rec).await? {
                return Ok(early);
            }
            let assessment = if op == RuntimeOp::ApplyGuardrail {
                apply::apply_guardrail(store, call, runtime.deterministic)?
            } else {
                apply::invoke_guardrail_checks(call)?
            };
            Ok(respond(rec, &assessment, || {
                Summary::of_assessment(&assessment)
            }))
        }
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
    store: &Store,
    call: &Call,
    model: ModelRef,
    op: RuntimeOp,
    rec: &mut Recording,
) -> Result<Response<Body>, ApiError> {
    let stream = op.is_streaming();
    if let Some(embedder) = formats::embed_family_for(&model.id) {
        return embed(runtime, call, &model, embedder, stream, rec).await;
    }
    let mut body = fields::object(&call.body)?;
    let (region, account) = (&call.ctx.region, &call.ctx.account_id);
    let guard = Guard::for_invoke(
        store,
        region,
        account,
        &call.headers,
        &mut body,
        runtime.deterministic,
    )?;
    let (family, mut request) =
        formats::read_object(&model, &body)?.ok_or_else(|| unsupported(&model, "InvokeModel"))?;
    let mut ids = runtime.ids(&call.body, &model.id);
    let guard = guard.map(|g| if stream { g } else { g.collected() });
    rec.guard(guard.as_ref());
    let format = stream_format(runtime, call, op)?;
    let started = match open(runtime, call, op, guard.clone(), &mut request, &model, rec).await? {
        Opened::Started(started) => started,
        Opened::Early(resp) => return Ok(resp),
    };
    if let Some(format) = format {
        let shaper = family.shaper(&model, &request, ids);
        return Ok(started.stream(shaper, guard.as_ref(), format, Wire::Invoke, rec));
    }
    let answer = started.collect(&model).await?;
    let native_ids = ids.clone();
    let mut body = family.respond(&answer, &model, &request, &mut ids);
    if let Some(g) = &guard {
        if g.input_blocked() {
            body = family.blocked_input_body(body);
        }
        let native = g.model_output().map(|text| {
            let original = with_text(&answer, text);
            family
                .respond(&original, &model, &request, &mut native_ids.clone())
                .to_string()
        });
        g.finish_invoke(&mut body, native);
    }
    let mut resp = respond(rec, &body, || Summary::of_answer(&answer));
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
    let input = Input::Embed(&request);
    let steered = steer(runtime, call, RuntimeOp::InvokeModel, model, input, rec);
    if let Some(early) = steered.before_first_byte(false, &model.id, rec).await? {
        return Ok(early);
    }
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
    let latency = Clock::new(call.arrived, runtime.deterministic)
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
    store: &Store,
    call: &Call,
    model: ModelRef,
    op: RuntimeOp,
    rec: &mut Recording,
) -> Result<Response<Body>, ApiError> {
    let stream = op.is_streaming();
    if !is_chat_model(&model) {
        return Err(ApiError::validation(
            "This action doesn't support the model that you provided. Try again with a supported text or chat model.",
        ));
    }
    let body = fields::object(&call.body)?;
    let (mut request, paths) = converse::request::parse(&body)?;
    let (region, account) = (&call.ctx.region, &call.ctx.account_id);
    let guard = Guard::for_converse(store, region, account, &body, stream, runtime.deterministic)?
        .map(|g| if stream { g } else { g.collected() });
    rec.guard(guard.as_ref());
    let mut ids = runtime.ids(&call.body, &model.id);
    // The native response that `additionalModelResponseFieldPaths` point into is the family's.
    let native = if paths.is_empty() {
        None
    } else {
        formats::converse_family(&model.id)
    };
    let format = stream_format(runtime, call, op)?;
    let started = match open(runtime, call, op, guard.clone(), &mut request, &model, rec).await? {
        Opened::Started(started) => started,
        Opened::Early(resp) => return Ok(resp),
    };
    if let Some(format) = format {
        let mut shaper = converse::stream::ConverseShaper::new(ids.clone());
        if let Some(family) = native {
            shaper = shaper.with_fields(StreamFields::new(paths, family, &model, &request, ids));
        }
        let shaper = Box::new(shaper);
        return Ok(started.stream(shaper, guard.as_ref(), format, Wire::Converse, rec));
    }
    let answer = started.collect(&model).await?;
    let fields = native
        .and_then(|family| field_paths::of_answer(&paths, family, &answer, &model, &request, &ids));
    let native_ids = ids.clone();
    let response = converse::stream::respond(&answer, &mut ids, fields);
    let summary = || Summary::of_answer(&answer);
    let Some(g) = &guard else {
        return Ok(respond(rec, &response, summary));
    };
    // The trace's `modelOutput` is the model's native response, before the guardrail acted.
    let native = g.model_output().map(|text| {
        let original = with_text(&answer, text.clone());
        formats::converse_family(&model.id).map_or(text, |family| {
            family
                .respond(&original, &model, &request, &mut native_ids.clone())
                .to_string()
        })
    });
    let mut response = serde_json::to_value(&response)?;
    g.finish_converse(&mut response, native);
    Ok(respond(rec, &response, summary))
}

/// `answer` with `text` as its text: the model's own answer, where a guardrail changed it.
fn with_text(answer: &Answer, text: String) -> Answer {
    let mut original = answer.clone();
    let mut text = Some(text);
    original.blocks.retain_mut(|b| match b {
        AnswerBlock::Text(t) => text.take().map(|own| *t = own).is_some(),
        _ => true,
    });
    if let Some(text) = text {
        original.blocks.insert(0, AnswerBlock::Text(text));
    }
    original
}

/// Whether Converse can answer with this model: it writes text (not embeddings, images or video).
fn is_chat_model(model: &ModelRef) -> bool {
    catalog::find(&model.id)
        .is_some_and(|m| m.output_modalities.iter().any(|o| o == "TEXT") && !m.is_embedding())
}

/// An answer that has started: its first item in hand, the rest to come, the rules' hold on the
/// call, and its clock.
struct Started {
    first: Delta,
    rest: TokenStream,
    steered: Steered,
    clock: Clock,
}

impl Started {
    /// The whole answer, collected: a failure before its end is the call's error.
    async fn collect(self, model: &ModelRef) -> Result<Answer, ApiError> {
        Answer::collect(self.first, self.rest, self.clock)
            .await
            .map_err(|e| e.into_collected_error(&model.id))
    }

    /// The answer streamed in `format`: shaped for its wire (and guarded when the call has a
    /// guardrail), recorded by the log.
    fn stream(
        self,
        mut shaper: Box<dyn Shaper>,
        guard: Option<&Guard>,
        format: Format,
        wire: Wire,
        rec: &mut Recording,
    ) -> Response<Body> {
        if let Some(g) = guard {
            shaper = g.shaper(shaper);
        }
        let tap = rec.streaming(format, self.steered.abort());
        let body = stream_response(self.first, self.rest, shaper, self.clock, format, wire, tap);
        self.steered.finish(body)
    }
}

/// The body format a streaming call asked for (`None` for an answer sent whole), chosen before
/// anything is opened: a bad `x-awsim-stream-format` is refused before a backend is asked for an
/// answer.
fn stream_format(
    runtime: &Runtime,
    call: &Call,
    op: RuntimeOp,
) -> Result<Option<Format>, ApiError> {
    op.is_streaming()
        .then(|| choose_format(runtime.stream_format, &call.headers, call.query.as_deref()))
        .transpose()
}

/// A call opened: its answer started, or a response a rule made in its place.
enum Opened {
    Started(Started),
    Early(Response<Body>),
}

/// Holds the call against the rules, screens its input through the guardrail, then opens the
/// token stream — a rule's scripted answer or the source, through the rule's stages and the
/// guardrail's output stage — and waits for its first item, so that a failure to start is an HTTP
/// error. A blocked input answers with the guardrail's message and never reaches the source.
async fn open(
    runtime: &Runtime,
    call: &Call,
    op: RuntimeOp,
    guard: Option<Guard>,
    request: &mut ChatRequest,
    model: &ModelRef,
    rec: &mut Recording,
) -> Result<Opened, ApiError> {
    let streamed = op.is_streaming();
    let mut steered = steer(runtime, call, op, model, Input::Chat(request), rec);
    if let Some(early) = steered.before_first_byte(streamed, &model.id, rec).await? {
        return Ok(Opened::Early(early));
    }
    let mut stream = match guard {
        Some(mut guard) => match guard.screen_input(request) {
            Some(message) => Guard::blocked_input_stream(message),
            None => guard.output(answer(runtime, &mut steered, request, model, streamed)),
        },
        None => answer(runtime, &mut steered, request, model, streamed),
    };
    match stream.next().await {
        Some(Ok(first)) => Ok(Opened::Started(Started {
            first,
            rest: stream,
            steered,
            clock: Clock::new(call.arrived, runtime.deterministic),
        })),
        Some(Err(err)) => Err(err),
        None => Err(truncated()),
    }
}

/// The answer's token stream: a rule's scripted answer or the source, through the rule's stages.
fn answer(
    runtime: &Runtime,
    steered: &mut Steered,
    request: &ChatRequest,
    model: &ModelRef,
    streamed: bool,
) -> TokenStream {
    let stream = match steered.script() {
        Some(script) => scripted::stream(script, request),
        None => runtime.source.chat(request, model, streamed),
    };
    steered.stage(stream, streamed, &model.id)
}

/// What the rules and quotas decide for this call (`src/control`), recorded.
fn steer(
    runtime: &Runtime,
    call: &Call,
    op: RuntimeOp,
    model: &ModelRef,
    input: Input,
    rec: &mut Recording,
) -> Steered {
    let facts = Facts::new(op, model, &call.ctx.region, &call.body, input);
    let steered = runtime.control.decide(&facts, call.conn_reset.clone());
    rec.steered(steered.rule_id(), steered.reason());
    if steered.rule_id().is_some() || steered.reason().is_some() {
        tracing::debug!(
            rule = steered.rule_id(),
            reason = steered.reason(),
            "steered by a rule"
        );
    }
    steered
}

/// CountTokens: the input-token figure InvokeModel / Converse would report for the same input (or
/// a rule's `usage.inputTokens`).
async fn count_tokens(
    runtime: &Runtime,
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
    let steered = steer(
        runtime,
        call,
        RuntimeOp::CountTokens,
        model,
        Input::Chat(&request),
        rec,
    );
    if let Some(early) = steered.before_first_byte(false, &model.id, rec).await? {
        return Ok(early);
    }
    let input_tokens = steered
        .script()
        .and_then(|s| s.input_tokens)
        .unwrap_or_else(|| tokens::input_tokens(&request));
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
