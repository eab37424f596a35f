//! The log as JSON, for `GET /_awsim/invocations` (filters `modelId`, `operation`, `limit`),
//! `GET /_awsim/invocations/{requestId}` (one call with its emitted events, frames decoded) and
//! `DELETE /_awsim/invocations`. Everything is rendered here, after the ring's lock is released.

use super::record::Summary;
use super::{shorten, End, InvocationLog, Outcome, Snapshot};
use crate::aws::time::rfc3339;
use crate::aws::ApiError;
use crate::operations::RuntimeOp;
use crate::runtime::stream::body::Format;
use base64::Engine;
use bytes::Buf;
use serde_json::{json, Map, Value};

const OFF: &str = "The invocation log is off (--invocation-log 0 or AWSIM_INVOCATION_LOG=0): awsim records no calls. Start it with --invocation-log N to keep the last N.";

/// `GET /_awsim/invocations`.
pub fn list(log: &InvocationLog, query: &[(String, String)]) -> Result<Value, ApiError> {
    let mut model = None;
    let mut operation = None;
    let mut limit = usize::MAX;
    let mut since = 0;
    for (name, value) in query {
        match name.as_str() {
            "modelId" => model = Some(value.as_str()),
            "operation" => operation = Some(operation_named(value)?),
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        ApiError::validation(format!(
                            "limit '{value}' is not a positive whole number"
                        ))
                    })?;
            }
            "since" => {
                since = value.parse::<u64>().map_err(|_| {
                    ApiError::validation(format!(
                        "since '{value}' is not a call's sequence number (a whole number, as in seq and nextSeq)"
                    ))
                })?;
            }
            other => return Err(not_a_filter(other)),
        }
    }
    if !log.enabled() {
        return Ok(json!({ "enabled": false, "capacity": 0, "message": OFF, "invocations": [] }));
    }
    let (calls, bounds) = log.snapshot_since(since, limit, |s| {
        model.is_none_or(|m| s.head.model_id == m || s.meta.resolved.as_deref() == Some(m))
            && operation.is_none_or(|op| s.head.operation == op)
    });
    let calls: Vec<Value> = calls.iter().map(|c| entry(c, false)).collect();
    Ok(json!({
        "enabled": true,
        "capacity": log.capacity(),
        "oldestSeq": bounds.oldest,
        "nextSeq": bounds.next,
        "invocations": calls,
    }))
}

/// `GET /_awsim/invocations/{requestId}`.
pub fn detail(log: &InvocationLog, request_id: &str) -> Result<Value, ApiError> {
    if !log.enabled() {
        return Err(ApiError::not_found(OFF));
    }
    let call = log.find(request_id).ok_or_else(|| {
        ApiError::not_found(format!(
            "No call with request id '{request_id}' is in the invocation log (it keeps the last {} calls; DELETE /_awsim/invocations and POST /_awsim/reset empty it).",
            log.capacity()
        ))
    })?;
    Ok(entry(&call, true))
}

/// `DELETE /_awsim/invocations`.
pub fn clear(log: &InvocationLog) -> Value {
    if !log.enabled() {
        return json!({ "cleared": 0, "enabled": false, "message": OFF });
    }
    json!({ "cleared": log.clear() })
}

fn not_a_filter(name: &str) -> ApiError {
    ApiError::validation(format!(
        "'{name}' is not a filter of the invocation log: use modelId, operation, limit or since"
    ))
}

fn operation_named(name: &str) -> Result<RuntimeOp, ApiError> {
    RuntimeOp::ALL
        .into_iter()
        .find(|op| op.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = RuntimeOp::ALL.iter().map(|op| op.name()).collect();
            ApiError::validation(format!(
                "operation '{name}' is not one of {}",
                names.join(", ")
            ))
        })
}

/// One call: what it asked, how it was answered; with `events`, what was written when.
fn entry(call: &Snapshot, events: bool) -> Value {
    let (head, meta) = (&call.head, &call.meta);
    let outcome = call.outcome.as_deref();
    let mut notes = Vec::new();
    let (request, blobs) = shorten::shown(&head.request);
    match &head.request_note {
        Some(note) => notes.push(note.clone()),
        None if blobs > 0 => notes.push(format!(
            "{blobs} base64 blob(s) of the request body are shown shortened"
        )),
        None => {}
    }
    let mut e = Map::new();
    e.insert("requestId".into(), json!(head.request_id));
    e.insert("time".into(), json!(rfc3339(head.time)));
    e.insert("operation".into(), json!(head.operation.name()));
    e.insert("modelId".into(), json!(head.model_id));
    e.insert("resolvedModelId".into(), json!(meta.resolved));
    e.insert("region".into(), json!(head.region));
    e.insert("state".into(), json!(state(outcome)));
    e.insert("status".into(), json!(meta.status));
    let error = outcome
        .and_then(|o| o.error.as_ref())
        .map(|(code, message)| {
            let mut error = json!({ "code": code, "message": message });
            // The message is the one the client saw; why awsim refused the call is said apart.
            if let Some(reason) = &meta.reason {
                error["reason"] = json!(reason);
            }
            error
        });
    e.insert("error".into(), json!(error));
    e.insert("request".into(), request);
    let answer = outcome.and_then(|o| o.answer.as_ref());
    e.insert("response".into(), json!(answer.map(response)));
    if answer.is_some_and(|a| a.shortened) {
        notes.push("the response is longer than the log keeps: its end is not shown".into());
    }
    if head.operation.is_streaming() {
        e.insert("format".into(), json!(meta.format.map(format_name)));
        e.insert("frames".into(), json!(outcome.map(|o| o.frames)));
        e.insert(
            "firstTokenMs".into(),
            json!(outcome.and_then(|o| o.first_token_us).map(ms)),
        );
    }
    e.insert("totalMs".into(), json!(outcome.map(|o| ms(o.total_us))));
    e.insert("rule".into(), json!(meta.rule));
    e.insert("backendModel".into(), json!(meta.backend_model));
    e.insert("seq".into(), json!(call.seq));
    if let Some(guardrail) = outcome.and_then(|o| o.guardrail.as_ref()) {
        e.insert("guardrail".into(), payload(guardrail));
    }
    if events {
        let (list, omitted) = match outcome {
            Some(o) => emitted(o, meta.format),
            None => (Vec::new(), 0),
        };
        if omitted > 0 {
            notes.push(format!(
                "{omitted} event(s) before the last one are not kept: a call keeps its first writes up to a limit, and its last"
            ));
        }
        e.insert("events".into(), Value::Array(list));
        e.insert("eventsOmitted".into(), json!(omitted));
    }
    if !notes.is_empty() {
        e.insert("notes".into(), json!(notes));
    }
    Value::Object(e)
}

fn state(outcome: Option<&Outcome>) -> &'static str {
    match outcome.map(|o| o.end) {
        None => "inProgress",
        Some(End::Complete) => "complete",
        Some(End::Disconnected) => "disconnected",
        Some(End::Aborted) => "aborted",
    }
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::EventStream => "eventstream",
        Format::JsonArray => "json",
    }
}

fn ms(us: u32) -> f64 {
    f64::from(us) / 1000.0
}

fn response(s: &Summary) -> Value {
    let tool_uses: Vec<Value> = s
        .tool_uses
        .iter()
        .map(|(name, input)| {
            let input = if input.trim().is_empty() {
                json!({})
            } else {
                // As the model wrote it, when that is not JSON (or was shortened).
                serde_json::from_str(input).unwrap_or_else(|_| json!(input))
            };
            json!({ "name": name, "input": input })
        })
        .collect();
    let mut usage = Map::new();
    if let Some(n) = s.input_tokens {
        usage.insert("inputTokens".into(), json!(n));
    }
    if let Some(n) = s.output_tokens {
        usage.insert("outputTokens".into(), json!(n));
    }
    let mut r = Map::new();
    r.insert("text".into(), json!(s.text));
    if !s.reasoning.is_empty() {
        r.insert("reasoning".into(), json!(s.reasoning));
    }
    r.insert("toolUses".into(), Value::Array(tool_uses));
    r.insert("stopReason".into(), json!(s.stop_reason));
    r.insert("usage".into(), Value::Object(usage));
    Value::Object(r)
}

/// The emitted events, one per frame (or JSON array element, or the one response body), each at
/// the offset of the write that carried it; and how many frames were not kept.
fn emitted(o: &Outcome, format: Option<Format>) -> (Vec<Value>, u32) {
    let mut list = Vec::new();
    for (offset, bytes) in o.events.iter() {
        let at = ms(*offset);
        match format {
            Some(Format::EventStream) => frames(at, bytes, &mut list),
            Some(Format::JsonArray) => elements(at, bytes, &mut list),
            None => list.push(json!({
                "offsetMs": at,
                "type": "response",
                "payload": payload(bytes),
            })),
        }
    }
    let shown = u32::try_from(list.len()).unwrap_or(u32::MAX);
    let omitted = match format {
        Some(_) => o.frames.saturating_sub(shown),
        None => 0,
    };
    (list, omitted)
}

/// Each event-stream frame of one write: its headers and payload, and a `chunk`'s decoded bytes.
fn frames(at: f64, bytes: &[u8], out: &mut Vec<Value>) {
    let mut buf = bytes;
    while buf.has_remaining() {
        let message = match frames::read_message_from(&mut buf) {
            Ok(message) => message,
            Err(err) => {
                out.push(
                    json!({ "offsetMs": at, "type": "undecodable", "error": err.to_string() }),
                );
                return;
            }
        };
        let mut headers = Map::new();
        for h in &message.headers {
            headers.insert(h.name.clone(), header_value(&h.value));
        }
        let message_type = message
            .header_str(frames::bedrock::MESSAGE_TYPE)
            .unwrap_or("event");
        let name = message
            .header_str(frames::bedrock::EVENT_TYPE)
            .or_else(|| message.header_str(frames::bedrock::EXCEPTION_TYPE))
            .unwrap_or("");
        let payload = payload(&message.payload);
        let mut e = Map::new();
        e.insert("offsetMs".into(), json!(at));
        e.insert("type".into(), json!(name));
        e.insert("messageType".into(), json!(message_type));
        e.insert("headers".into(), Value::Object(headers));
        if let Some(inner) = payload
            .get("bytes")
            .and_then(Value::as_str)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        {
            e.insert("chunk".into(), self::payload(&inner));
        }
        e.insert("payload".into(), payload);
        out.push(Value::Object(e));
    }
}

fn header_value(value: &frames::HeaderValue) -> Value {
    use frames::HeaderValue as H;
    match value {
        H::Bool(b) => json!(b),
        H::Byte(n) => json!(n),
        H::Int16(n) => json!(n),
        H::Int32(n) => json!(n),
        H::Int64(n) | H::Timestamp(n) => json!(n),
        H::ByteArray(b) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
        H::String(s) => json!(s),
        H::Uuid(u) => json!(format!("{u:032x}")),
    }
}

/// Each element of the JSON array in one write (`[`, `,` and `]` between them).
fn elements(at: f64, bytes: &[u8], out: &mut Vec<Value>) {
    let mut rest = bytes;
    loop {
        let skip = rest
            .iter()
            .take_while(|b| matches!(b, b'[' | b',' | b']') || b.is_ascii_whitespace())
            .count();
        rest = &rest[skip..];
        if rest.is_empty() {
            return;
        }
        let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<Value>();
        let element = match values.next() {
            Some(Ok(element)) => element,
            _ => {
                out.push(json!({ "offsetMs": at, "type": "undecodable", "payload": String::from_utf8_lossy(rest) }));
                return;
            }
        };
        let used = values.byte_offset();
        rest = &rest[used..];
        // ConverseStream: `{"<member>": {…}}`; InvokeModelWithResponseStream: a chunk
        // `{"contentType": …, "body": {…}}`, or `{"<exception>": {…}}`.
        let mut e = Map::new();
        e.insert("offsetMs".into(), json!(at));
        match element.as_object() {
            Some(o) if o.len() == 1 => {
                let (name, payload) = o
                    .iter()
                    .next()
                    .map_or(("", &Value::Null), |(k, v)| (k.as_str(), v));
                let kind = if name.ends_with("Exception") {
                    "exception"
                } else {
                    "event"
                };
                e.insert("type".into(), json!(name));
                e.insert("messageType".into(), json!(kind));
                e.insert("payload".into(), payload.clone());
            }
            Some(o) => {
                e.insert("type".into(), json!("chunk"));
                e.insert("messageType".into(), json!("event"));
                if let Some(body) = o.get("body") {
                    e.insert("chunk".into(), body.clone());
                }
                e.insert("payload".into(), element.clone());
            }
            None => {
                e.insert("type".into(), json!(""));
                e.insert("payload".into(), element.clone());
            }
        }
        out.push(Value::Object(e));
    }
}

/// A payload as JSON, or as text when it is not JSON.
fn payload(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}
