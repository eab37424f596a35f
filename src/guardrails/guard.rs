//! A guardrail applied to one model call: read from Converse's `guardrailConfig` or InvokeModel's
//! `X-Amzn-Bedrock-Guardrail*` headers, it screens the request's input (masking it in place, or
//! blocking the call), then the answer as it streams ([`stage`](super::stage)), and renders the
//! trace each operation reports.

use super::assess::{evaluate, sorted, Evaluation, GroundingContext, Options, Outcome, Piece};
use super::policy::{Direction, Guardrail, NOT_FOUND};
use crate::aws::ApiError;
use crate::management::Store;
use crate::runtime::read::fields::{constraint, Fields, Object};
use crate::runtime::stream::request::{Block, ChatRequest, Role, TextAt};
use hyper::HeaderMap;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Which trace the caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trace {
    Disabled,
    Enabled,
    /// Assessments list what did not breach the configuration too.
    Full,
}

/// How a stream's output is guarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Output is held back and released chunk by chunk once evaluated.
    Sync,
    /// Output is released at once and evaluated behind it; an intervention ends the stream.
    Async,
}

/// Which body the guardrail's trace is written into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Converse,
    Invoke,
}

/// What the guardrail has done so far in one call; shared by the output stage and the shapers
/// that write the trace (they are links of the same pull chain, so it is never contended).
#[derive(Debug, Default)]
pub(super) struct Seen {
    pub input: Option<Evaluation>,
    pub outputs: Vec<Value>,
    pub output: Option<Outcome>,
    /// The model's own text, before masking.
    pub model_output: String,
}

impl Seen {
    pub fn intervened(&self) -> bool {
        let input = self.input.as_ref().map_or(Outcome::Clean, |e| e.outcome);
        input != Outcome::Clean || self.output.is_some_and(|o| o != Outcome::Clean)
    }
}

/// A guardrail on one call.
#[derive(Debug, Clone)]
pub struct Guard {
    pub(super) guardrail: Arc<Guardrail>,
    pub(super) trace: Trace,
    pub(super) mode: Mode,
    pub(super) pinned: bool,
    pub(super) api: Api,
    pub(super) grounding: Option<GroundingContext>,
    pub(super) seen: Arc<Mutex<Seen>>,
}

/// `guardrailIdentifier` as the service model allows it: an id or a guardrail ARN.
fn check_identifier(path: &str, identifier: &str) -> Result<(), ApiError> {
    let id = identifier.rsplit('/').next().unwrap_or_default();
    let arn_ok = !identifier.contains(':')
        || (identifier.starts_with("arn:aws") && identifier.contains(":guardrail/"));
    if !id.is_empty()
        && arn_ok
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && identifier.len() <= 2048
    {
        return Ok(());
    }
    Err(constraint(
        path,
        &json!(identifier),
        "Member must satisfy regular expression pattern: (|([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+))",
    ))
}

impl Guard {
    fn load(
        store: &Store,
        region: &str,
        account: &str,
        (identifier, version): (&str, &str),
        (api, trace, mode): (Api, Trace, Mode),
        pinned: bool,
    ) -> Result<Self, ApiError> {
        super::apply::check_version(version)?;
        let guardrail =
            Guardrail::load(store, region, account, identifier, version).map_err(|e| match e {
                // Inference operations report a missing guardrail as a bad request.
                ApiError::ResourceNotFound(_) => ApiError::validation(NOT_FOUND),
                other => other,
            })?;
        Ok(Self {
            guardrail: Arc::new(guardrail),
            trace,
            mode,
            pinned,
            api,
            grounding: None,
            seen: Arc::default(),
        })
    }

    /// Converse / ConverseStream's `guardrailConfig`, when the body has one naming a guardrail.
    pub fn for_converse(
        store: &Store,
        region: &str,
        account: &str,
        body: &Object,
        streamed: bool,
        pinned: bool,
    ) -> Result<Option<Self>, ApiError> {
        let f = Fields::new(body, "");
        let Some(cfg) = f.object("guardrailConfig")? else {
            return Ok(None);
        };
        let identifier = cfg.str("guardrailIdentifier")?.unwrap_or_default();
        let version = cfg.str("guardrailVersion")?.unwrap_or_default();
        let trace = match cfg.str("trace")? {
            None | Some("disabled") => Trace::Disabled,
            Some("enabled") => Trace::Enabled,
            Some("enabled_full") => Trace::Full,
            Some(other) => {
                return Err(constraint(
                    &cfg.path_of("trace"),
                    &json!(other),
                    "Member must satisfy enum value set: [enabled, disabled, enabled_full]",
                ))
            }
        };
        // Converse's configuration has no processing mode; a stream's may say async.
        let mode = match cfg.str("streamProcessingMode")? {
            Some("async") if streamed => Mode::Async,
            None | Some("sync") | Some("async") => Mode::Sync,
            Some(other) => {
                return Err(constraint(
                    &cfg.path_of("streamProcessingMode"),
                    &json!(other),
                    "Member must satisfy enum value set: [sync, async]",
                ))
            }
        };
        match (identifier.is_empty(), version.is_empty()) {
            (true, true) => return Ok(None),
            (false, false) => {}
            _ => {
                return Err(ApiError::validation(
                    "guardrailConfig must set both guardrailIdentifier and guardrailVersion.",
                ))
            }
        }
        check_identifier(&cfg.path_of("guardrailIdentifier"), identifier)?;
        Self::load(
            store,
            region,
            account,
            (identifier, version),
            (Api::Converse, trace, mode),
            pinned,
        )
        .map(Some)
    }

    /// InvokeModel / InvokeModelWithResponseStream: the `X-Amzn-Bedrock-GuardrailIdentifier`,
    /// `-GuardrailVersion` and `-Trace` headers, and the body's `amazon-bedrock-guardrailConfig`
    /// (taken out of `body`: the model never sees it).
    pub fn for_invoke(
        store: &Store,
        region: &str,
        account: &str,
        headers: &HeaderMap,
        body: &mut Object,
        pinned: bool,
    ) -> Result<Option<Self>, ApiError> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
        };
        let identifier = header("x-amzn-bedrock-guardrailidentifier");
        let version = header("x-amzn-bedrock-guardrailversion");
        let in_body = body.remove("amazon-bedrock-guardrailConfig");
        let Some(identifier) = identifier else {
            if in_body.is_some() {
                return Err(ApiError::validation(
                    "amazon-bedrock-guardrailConfig is only allowed with the X-Amzn-Bedrock-GuardrailIdentifier header.",
                ));
            }
            if version.is_some() {
                return Err(ApiError::validation(
                    "X-Amzn-Bedrock-GuardrailVersion needs X-Amzn-Bedrock-GuardrailIdentifier.",
                ));
            }
            return Ok(None);
        };
        let Some(version) = version else {
            return Err(ApiError::validation(
                "X-Amzn-Bedrock-GuardrailVersion is required with X-Amzn-Bedrock-GuardrailIdentifier.",
            ));
        };
        let trace = match header("x-amzn-bedrock-trace") {
            None | Some("DISABLED") => Trace::Disabled,
            Some("ENABLED") => Trace::Enabled,
            Some("ENABLED_FULL") => Trace::Full,
            Some(other) => {
                return Err(constraint(
                    "trace",
                    &json!(other),
                    "Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_FULL]",
                ))
            }
        };
        let mode = match in_body
            .as_ref()
            .and_then(|c| c.get("streamProcessingMode"))
            .and_then(Value::as_str)
        {
            None | Some("SYNCHRONOUS") => Mode::Sync,
            Some("ASYNCHRONOUS") => Mode::Async,
            Some(other) => {
                return Err(constraint(
                    "amazon-bedrock-guardrailConfig.streamProcessingMode",
                    &json!(other),
                    "Member must satisfy enum value set: [SYNCHRONOUS, ASYNCHRONOUS]",
                ))
            }
        };
        check_identifier("guardrailIdentifier", identifier)?;
        Self::load(
            store,
            region,
            account,
            (identifier, version),
            (Api::Invoke, trace, mode),
            pinned,
        )
        .map(Some)
    }

    /// Streams of non-streaming operations are guarded in sync mode.
    pub fn collected(mut self) -> Self {
        self.mode = Mode::Sync;
        self
    }

    pub(super) fn seen(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Evaluates the request's input — Converse: the `guardContent` blocks when messages have any
    /// (and `guardContent` in the system prompt), else every text of every message; InvokeModel:
    /// the whole prompt — and applies masks to it in place. Returns the blocked-input message
    /// when the call must not reach the model.
    pub fn screen_input(&mut self, request: &mut ChatRequest) -> Option<String> {
        let evaluable = |qualifiers: &crate::runtime::stream::request::Guarded| {
            !qualifiers.is("grounding_source") && !qualifiers.is("query")
        };
        let tagged = request
            .guarded
            .iter()
            .any(|g| matches!(g.at, TextAt::Message(..)));
        let mut places: Vec<(TextAt, bool)> = Vec::new();
        if self.api == Api::Invoke {
            places.extend((0..request.system.len()).map(|i| (TextAt::System(i), false)));
        } else {
            places.extend(
                request
                    .guarded
                    .iter()
                    .filter(|g| matches!(g.at, TextAt::System(_)) && evaluable(g))
                    .map(|g| (g.at, true)),
            );
        }
        if tagged {
            places.extend(
                request
                    .guarded
                    .iter()
                    .filter(|g| matches!(g.at, TextAt::Message(..)) && evaluable(g))
                    .map(|g| (g.at, true)),
            );
        } else {
            for (m, message) in request.messages.iter().enumerate() {
                for (b, block) in message.content.iter().enumerate() {
                    if matches!(block, Block::Text(_)) {
                        places.push((TextAt::Message(m, b), message.role == Role::User));
                    }
                }
            }
        }
        let text_at = |request: &ChatRequest, at: TextAt| -> Option<String> {
            match at {
                TextAt::System(i) => request.system.get(i).cloned(),
                TextAt::Message(m, b) => match request.messages.get(m)?.content.get(b)? {
                    Block::Text(t) => Some(t.clone()),
                    _ => None,
                },
            }
        };
        let texts: Vec<(TextAt, String, bool)> = places
            .into_iter()
            .filter_map(|(at, user)| text_at(request, at).map(|t| (at, t, user)))
            .collect();
        let total: usize = request
            .system
            .iter()
            .map(String::as_str)
            .chain(request.messages.iter().flat_map(|m| {
                m.content.iter().filter_map(|b| match b {
                    Block::Text(t) => Some(t.as_str()),
                    _ => None,
                })
            }))
            .map(|t| t.chars().count())
            .sum();
        let pieces: Vec<Piece<'_>> = texts
            .iter()
            .map(|(_, text, user)| Piece { text, user: *user })
            .collect();
        let evaluation = evaluate(
            &self.guardrail,
            &pieces,
            None,
            total,
            self.options(Direction::Input, true),
        );
        if evaluation.outcome == Outcome::Masked {
            for ((at, _, _), masked) in texts.iter().zip(&evaluation.masked) {
                match *at {
                    TextAt::System(i) => {
                        if let Some(s) = request.system.get_mut(i) {
                            s.clone_from(masked);
                        }
                    }
                    TextAt::Message(m, b) => {
                        if let Some(Block::Text(t)) = request
                            .messages
                            .get_mut(m)
                            .and_then(|msg| msg.content.get_mut(b))
                        {
                            t.clone_from(masked);
                        }
                    }
                }
            }
        }
        // The grounding source and query the answer is checked against.
        let join = |q: &str| {
            request
                .guarded
                .iter()
                .filter(|g| g.is(q))
                .filter_map(|g| text_at(request, g.at))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let source = join("grounding_source");
        if !source.is_empty() {
            self.grounding = Some(GroundingContext {
                source,
                query: join("query"),
            });
        }
        let blocked = evaluation.outcome == Outcome::Blocked;
        self.seen().input = Some(evaluation);
        blocked.then(|| self.guardrail.blocked_input.clone())
    }

    pub(super) fn options(&self, direction: Direction, mask: bool) -> Options {
        Options {
            direction,
            full: self.trace == Trace::Full,
            mask,
            pinned: self.pinned,
        }
    }

    /// Whether the input was blocked (the model never ran).
    pub fn input_blocked(&self) -> bool {
        self.seen()
            .input
            .as_ref()
            .is_some_and(|e| e.outcome == Outcome::Blocked)
    }

    /// Whether the guardrail blocked or masked anything so far.
    pub fn intervened(&self) -> bool {
        self.seen().intervened()
    }

    /// The model's own text when the guardrail acted on the output (a trace's `modelOutput`).
    pub fn model_output(&self) -> Option<String> {
        let seen = self.seen();
        seen.output
            .is_some_and(|o| o != Outcome::Clean)
            .then(|| seen.model_output.clone())
    }

    /// `actionReason`: the input's, then (when the model ran) the output's.
    fn action_reason(seen: &Seen) -> String {
        let input = seen.input.as_ref().map_or(Outcome::Clean, |e| e.outcome);
        match seen.output {
            Some(output) if input != Outcome::Blocked => {
                format!("{}\n{}", input.reason(), output.reason())
            }
            _ => input.reason().to_string(),
        }
    }

    /// The trace (`{"guardrail": …}`) when the caller asked for one. `model_output` replaces the
    /// plain text in `modelOutput` (the non-streaming operations report the model's native body).
    pub fn trace_json(&self, model_output: Option<String>) -> Option<Value> {
        if self.trace == Trace::Disabled {
            return None;
        }
        Some(self.trace_value(model_output))
    }

    /// The trace as [`Guard::trace_json`] writes it, whether or not the caller asked for one (the
    /// invocation log shows it).
    pub fn trace_value(&self, model_output: Option<String>) -> Value {
        let seen = self.seen();
        let id = self.guardrail.id.clone();
        let input = seen
            .input
            .as_ref()
            .map_or(Value::Null, |e| e.assessment.clone());
        let intervened_output = seen.output.is_some_and(|o| o != Outcome::Clean);
        let model_output = intervened_output
            .then(|| json!([model_output.unwrap_or_else(|| seen.model_output.clone())]));
        let reason = Self::action_reason(&seen);
        let mut g = serde_json::Map::new();
        match self.api {
            Api::Converse => {
                if let Some(m) = model_output {
                    g.insert("modelOutput".into(), m);
                }
                g.insert("inputAssessment".into(), json!({ &id: input }));
                if seen.output.is_some() {
                    g.insert("outputAssessments".into(), json!({ &id: seen.outputs }));
                }
                g.insert("actionReason".into(), json!(reason));
                json!({ "guardrail": sorted(Value::Object(g)) })
            }
            Api::Invoke => {
                if let Some(m) = model_output {
                    g.insert("modelOutput".into(), m);
                }
                g.insert("input".into(), json!({ &id: input }));
                if seen.output.is_some() {
                    let outputs: Vec<Value> =
                        seen.outputs.iter().map(|a| json!({ &id: a })).collect();
                    g.insert("outputs".into(), json!(outputs));
                }
                g.insert("actionReason".into(), json!(reason));
                json!({ "guardrail": g })
            }
        }
    }

    /// `amazon-bedrock-guardrailAction`: `INTERVENED` or `NONE`, as known so far.
    pub fn invoke_action(&self) -> &'static str {
        if self.intervened() {
            "INTERVENED"
        } else {
            "NONE"
        }
    }

    /// A Converse response (as JSON) completed with the guardrail's stop reason and trace.
    pub fn finish_converse(&self, response: &mut Value, model_output: Option<String>) {
        if self.intervened() {
            response["stopReason"] = json!("guardrail_intervened");
        }
        if let Some(trace) = self.trace_json(model_output) {
            response["trace"] = trace;
        }
    }

    /// An InvokeModel body completed with `amazon-bedrock-trace` and `amazon-bedrock-guardrailAction`.
    pub fn finish_invoke(&self, body: &mut Value, model_output: Option<String>) {
        if let Some(obj) = body.as_object_mut() {
            if let Some(trace) = self.trace_json(model_output) {
                obj.insert("amazon-bedrock-trace".into(), trace);
            }
            obj.insert(
                "amazon-bedrock-guardrailAction".into(),
                json!(self.invoke_action()),
            );
        }
    }
}
