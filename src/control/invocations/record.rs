//! Recording one call: [`Recording`] follows the request until its answer starts, then hands a
//! stream to its [`Tap`], which rides in the body writer's pull chain.
//!
//! Per token a tap appends the delta's text to its own summary (up to [`ANSWER_BYTES`]), and per
//! write it reads the clock once and keeps the written bytes by reference (a `Bytes` handle: no
//! copy) with their offset from the request's arrival, up to [`MAX_EVENTS`] writes and
//! [`EVENT_BYTES`] (then only the last write is kept besides them). Nothing is locked until the
//! stream ends: the outcome is published once, also when the client goes away mid-stream.

use super::{End, InvocationLog, Meta, Outcome};
use crate::aws::abort::Abort;
use crate::aws::ApiError;
use crate::guardrails::Guard;
use crate::model_ref::ModelRef;
use crate::runtime::stream::answer::{Answer, AnswerBlock};
use crate::runtime::stream::body::{Format, Observer};
use crate::runtime::stream::delta::{Delta, Usage};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

/// The most of an answer's text, reasoning and tool inputs a call keeps, in bytes.
pub const ANSWER_BYTES: usize = 64 << 10;
/// The most tool calls a call keeps.
pub const MAX_TOOL_USES: usize = 64;
/// The most writes of a response a call keeps with their offsets (besides the last one).
pub const MAX_EVENTS: usize = 8192;
/// The most bytes of a response's writes a call keeps (besides the last write).
pub const EVENT_BYTES: usize = 2 << 20;
/// The most bytes of a guardrail's trace a call keeps.
pub const GUARDRAIL_BYTES: usize = 64 << 10;

/// One call being recorded, until its answer starts: then [`Recording::streaming`] hands over to a
/// [`Tap`], or [`Recording::answered`] / [`Recording::failed`] complete it. Dropped before either
/// (the client went away while the request was being answered), it records the disconnection.
#[derive(Debug)]
pub struct Recording {
    live: Option<Live>,
}

#[derive(Debug)]
struct Live {
    log: Arc<InvocationLog>,
    seq: u64,
    started: Instant,
    meta: Meta,
    /// The guardrail on the call: its verdict is read once, when the call ends.
    guard: Option<Guard>,
}

impl Live {
    fn elapsed_us(&self, now: Instant) -> u32 {
        micros(now.saturating_duration_since(self.started))
    }

    fn publish(&self, outcome: Option<Outcome>) {
        self.log.publish(self.seq, &self.meta, outcome);
    }

    /// Ends a call that sent no body: an HTTP error, a cut before the first byte, or a client
    /// that went away while the request was being answered.
    fn end_without_body(self, end: End, error: Option<(&'static str, String)>) {
        let total_us = self.elapsed_us(Instant::now());
        self.publish(Some(Outcome {
            end,
            error,
            answer: None,
            frames: 0,
            first_token_us: None,
            total_us,
            events: Events::default(),
            guardrail: None,
        }));
    }

    /// The guardrail's verdict on an answer that has ended: its stop reason, when it intervened,
    /// and the record's `guardrail` (its action and trace, as JSON).
    fn guardrail(&self, summary: Option<&mut Summary>) -> Option<Bytes> {
        let guard = self.guard.as_ref()?;
        let intervened = guard.intervened();
        if let (true, Some(summary)) = (intervened, summary) {
            summary.stop_reason = Some("guardrail_intervened");
        }
        let action = if intervened { "INTERVENED" } else { "NONE" };
        let mut trace = guard.trace_value(None);
        let mut value = trace
            .get_mut("guardrail")
            .map(Value::take)
            .unwrap_or_default();
        match value.as_object_mut() {
            Some(o) => {
                o.insert("action".into(), json!(action));
            }
            None => value = json!({ "action": action }),
        }
        let bytes = serde_json::to_vec(&value).unwrap_or_default();
        if bytes.len() <= GUARDRAIL_BYTES {
            return Some(Bytes::from(bytes));
        }
        let note = format!(
            "the guardrail's trace ({} bytes) is longer than the log keeps",
            bytes.len()
        );
        let short = json!({ "action": action, "note": note });
        Some(Bytes::from(serde_json::to_vec(&short).unwrap_or_default()))
    }
}

impl Recording {
    /// A recording that records nothing (the log is off).
    pub fn off() -> Self {
        Self { live: None }
    }

    pub(super) fn new(log: Arc<InvocationLog>, seq: u64, started: Instant) -> Self {
        Self {
            live: Some(Live {
                log,
                seq,
                started,
                meta: Meta::default(),
                guard: None,
            }),
        }
    }

    /// The model the id resolved to.
    pub fn model(&mut self, model: &ModelRef) {
        if let Some(live) = &mut self.live {
            live.meta.resolved = Some(model.id.clone());
        }
    }

    /// The backend model that answers, when a backend does.
    pub fn backend_model(&mut self, name: impl FnOnce() -> Option<String>) {
        if let Some(live) = &mut self.live {
            live.meta.backend_model = name();
        }
    }

    /// What the rules decided: the rule that fired, and why a quota refused the call.
    pub fn steered(&mut self, rule: Option<&str>, reason: Option<&str>) {
        if let Some(live) = &mut self.live {
            live.meta.rule = rule.map(str::to_string);
            live.meta.reason = reason.map(str::to_string);
        }
    }

    /// The guardrail on the call, if any.
    pub fn guard(&mut self, guard: Option<&Guard>) {
        if let Some(live) = &mut self.live {
            live.guard = guard.cloned();
        }
    }

    /// The call failed before its first byte: an HTTP error.
    pub fn failed(&mut self, err: &ApiError) {
        let Some(mut live) = self.live.take() else {
            return;
        };
        live.meta.status = Some(err.status());
        live.end_without_body(
            End::Complete,
            Some((err.type_name(), err.message().to_string())),
        );
    }

    /// awsim dropped the connection before the first byte (a rule's `disconnect`).
    pub fn aborted(&mut self) {
        if let Some(live) = self.live.take() {
            live.end_without_body(End::Aborted, None);
        }
    }

    /// A whole answer (non-streaming): its summary and the response body, sent with `status`.
    pub fn answered(&mut self, summary: impl FnOnce() -> Summary, status: u16, body: &Bytes) {
        let Some(mut live) = self.live.take() else {
            return;
        };
        let mut summary = summary();
        let guardrail = live.guardrail(Some(&mut summary));
        live.meta.status = Some(status);
        let total_us = live.elapsed_us(Instant::now());
        let mut events = Events::default();
        events.push(total_us, body);
        live.publish(Some(Outcome {
            end: End::Complete,
            error: None,
            answer: Some(summary),
            frames: 0,
            first_token_us: None,
            total_us,
            events,
            guardrail,
        }));
    }

    /// The answer starts streaming in `format`: the call shows as in progress, and the returned
    /// tap (none when the log is off) records the stream as the body writer writes it. `abort`
    /// is a rule's mid-stream `disconnect`, which ends the stream without its last writes.
    pub fn streaming(
        &mut self,
        format: Format,
        abort: Option<&Abort>,
    ) -> Option<Box<dyn Observer>> {
        let mut live = self.live.take()?;
        live.meta.status = Some(200);
        live.meta.format = Some(format);
        live.publish(None);
        Some(Box::new(Tap {
            live: Some(live),
            summary: Summary::default(),
            content_pending: false,
            first_token_us: None,
            frames: 0,
            error: None,
            events: Events::default(),
            abort: abort.cloned(),
        }))
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if let Some(live) = self.live.take() {
            live.end_without_body(End::Disconnected, None);
        }
    }
}

/// Records one stream from inside the body writer; publishes once, when the stream ends or is
/// dropped (the client went away).
#[derive(Debug)]
pub struct Tap {
    live: Option<Live>,
    summary: Summary,
    /// Content has been shaped whose write is not timed yet: the next write is the first token's.
    content_pending: bool,
    first_token_us: Option<u32>,
    frames: u32,
    error: Option<(&'static str, String)>,
    events: Events,
    abort: Option<Abort>,
}

impl Tap {
    /// Whether a rule's `disconnect` has cut the stream: what the writer makes after it is never
    /// sent.
    fn cut(&self) -> bool {
        self.abort.as_ref().is_some_and(Abort::fired)
    }

    fn finish(&mut self, end: End) {
        let Some(live) = self.live.take() else {
            return;
        };
        let end = if self.cut() { End::Aborted } else { end };
        let guardrail = live.guardrail(Some(&mut self.summary));
        let total_us = self
            .events
            .last_offset()
            .filter(|_| end == End::Complete)
            .unwrap_or_else(|| live.elapsed_us(Instant::now()));
        live.publish(Some(Outcome {
            end,
            error: self.error.take(),
            answer: Some(std::mem::take(&mut self.summary)),
            frames: self.frames,
            first_token_us: self.first_token_us,
            total_us,
            events: std::mem::take(&mut self.events),
            guardrail,
        }));
    }
}

impl Observer for Tap {
    fn delta(&mut self, delta: &Delta) {
        if self.first_token_us.is_none() && !matches!(delta, Delta::Start { .. } | Delta::Stop(_)) {
            self.content_pending = true;
        }
        self.summary.push(delta);
    }

    fn wrote(&mut self, bytes: &Bytes, frames: u32) {
        let Some(live) = &self.live else { return };
        if self.cut() {
            return;
        }
        // The one clock read per write: the timeline needs each write's offset.
        let offset = live.elapsed_us(Instant::now());
        if self.content_pending {
            self.content_pending = false;
            self.first_token_us = Some(offset);
        }
        self.frames = frames;
        self.events.push(offset, bytes);
    }

    fn exception(&mut self, err: &ApiError) {
        if self.cut() {
            return;
        }
        self.error = Some((err.type_name(), err.message().to_string()));
    }

    fn ended(&mut self) {
        self.finish(End::Complete);
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.finish(End::Disconnected);
    }
}

/// What the client was told, as it would assemble it: text, reasoning, tool calls, stop, usage.
#[derive(Debug, Default)]
pub struct Summary {
    pub text: String,
    pub reasoning: String,
    /// `(name, input as the model wrote it)`.
    pub tool_uses: Vec<(String, String)>,
    pub stop_reason: Option<&'static str>,
    pub input_tokens: Option<u32>,
    pub output_tokens: Option<u32>,
    /// Some of the answer went past [`ANSWER_BYTES`] or [`MAX_TOOL_USES`] and is not kept.
    pub shortened: bool,
    kept: usize,
}

impl Summary {
    /// The summary of a collected answer.
    pub fn of_answer(answer: &Answer) -> Self {
        let mut s = Self::default();
        for block in &answer.blocks {
            match block {
                AnswerBlock::Text(t) => s.text_into(Part::Text, t),
                AnswerBlock::Reasoning(t) => s.text_into(Part::Reasoning, t),
                AnswerBlock::ToolUse { name, input } => {
                    s.tool(name);
                    s.text_into(Part::ToolInput, input);
                }
            }
        }
        s.stop_reason = Some(answer.reason().as_str());
        s.usage(answer.usage());
        s
    }

    /// An ApplyGuardrail / InvokeGuardrailChecks assessment: its outputs' text, and
    /// `guardrail_intervened` when the guardrail acted.
    pub fn of_assessment(assessment: &Value) -> Self {
        let mut s = Self::default();
        let texts = assessment["outputs"].as_array().into_iter().flatten();
        for text in texts.filter_map(|o| o["text"].as_str()) {
            s.text_into(Part::Text, text);
        }
        if assessment["action"] == "GUARDRAIL_INTERVENED" {
            s.stop_reason = Some("guardrail_intervened");
        }
        s
    }

    /// Only a token count (CountTokens, embeddings).
    pub fn input_tokens(tokens: u32) -> Self {
        Self {
            input_tokens: Some(tokens),
            ..Self::default()
        }
    }

    pub(super) fn push(&mut self, delta: &Delta) {
        match delta {
            Delta::Start { .. } => {}
            Delta::Text(t) => self.text_into(Part::Text, t),
            Delta::Reasoning(t) => self.text_into(Part::Reasoning, t),
            Delta::ToolStart { name } => self.tool(name),
            Delta::ToolInput(t) => self.text_into(Part::ToolInput, t),
            Delta::Stop(stop) => {
                self.stop_reason = Some(stop.reason.as_str());
                self.usage(stop.usage);
            }
        }
    }

    fn usage(&mut self, usage: Usage) {
        self.input_tokens = Some(usage.input_tokens);
        self.output_tokens = Some(usage.output_tokens);
    }

    fn tool(&mut self, name: &str) {
        if self.tool_uses.len() >= MAX_TOOL_USES || self.kept + name.len() > ANSWER_BYTES {
            self.shortened = true;
            return;
        }
        self.kept += name.len();
        self.tool_uses.push((name.to_string(), String::new()));
    }

    fn text_into(&mut self, part: Part, text: &str) {
        if self.kept + text.len() > ANSWER_BYTES {
            self.shortened = true;
            return;
        }
        let into = match part {
            Part::Text => &mut self.text,
            Part::Reasoning => &mut self.reasoning,
            Part::ToolInput => match self.tool_uses.last_mut() {
                // Only the input of a kept tool call is kept.
                Some((_, input)) if !self.shortened => input,
                _ => return,
            },
        };
        self.kept += text.len();
        into.push_str(text);
    }

    pub(super) fn bytes(&self) -> usize {
        self.kept
    }
}

#[derive(Clone, Copy)]
enum Part {
    Text,
    Reasoning,
    ToolInput,
}

/// A response's writes with their offsets (µs from the request's arrival), by reference.
#[derive(Debug, Default)]
pub struct Events {
    pub kept: Vec<(u32, Bytes)>,
    kept_bytes: usize,
    /// Writes past the limits, not kept: all but the last.
    pub omitted: u32,
    /// The last write past the limits.
    pub last: Option<(u32, Bytes)>,
}

impl Events {
    pub(super) fn push(&mut self, offset: u32, bytes: &Bytes) {
        if self.kept.len() < MAX_EVENTS && self.kept_bytes + bytes.len() <= EVENT_BYTES {
            self.kept_bytes += bytes.len();
            self.kept.push((offset, bytes.clone()));
        } else if self.last.replace((offset, bytes.clone())).is_some() {
            self.omitted += 1;
        }
    }

    fn last_offset(&self) -> Option<u32> {
        self.last
            .as_ref()
            .or(self.kept.last())
            .map(|(offset, _)| *offset)
    }

    pub(super) fn bytes(&self) -> usize {
        self.kept_bytes + self.last.as_ref().map_or(0, |(_, b)| b.len())
    }

    /// Every kept write in order, the last one included.
    pub fn iter(&self) -> impl Iterator<Item = &(u32, Bytes)> {
        self.kept.iter().chain(self.last.iter())
    }
}

fn micros(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}
