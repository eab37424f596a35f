//! Where a guardrail acts on an answer: the output stage (a `TokenStream → TokenStream` link of
//! the pull chain) and the shapers that write its verdict into each operation's events.
//!
//! Sync mode holds the model's text back and releases it a chunk at a time once evaluated (masked,
//! or replaced by the blocked message, after which the model is no longer read). Async mode
//! releases text at once and evaluates the same chunks behind it; a block ends the stream. A chunk
//! is up to [`CHUNK_CHARS`] characters, cut after the last whitespace before the limit.

use super::assess::{evaluate, Outcome, Piece};
use super::guard::{Guard, Mode};
use super::policy::Direction;
use crate::runtime::stream::delta::{Delta, Stop, StopReason, TokenStream, Usage};
use crate::runtime::stream::shaper::{Event, Shaper, Timing};
use crate::runtime::stream::tokens;
use futures::StreamExt;
use serde_json::{json, Value};

/// The most characters one output evaluation covers (a policy unit).
pub const CHUNK_CHARS: usize = 1000;

/// Where to cut `buffer` for a full chunk, if it holds one: after the last whitespace within the
/// first [`CHUNK_CHARS`] characters, or at the limit when there is none.
fn chunk_end(buffer: &str) -> Option<usize> {
    let (limit, _) = buffer.char_indices().nth(CHUNK_CHARS)?;
    let head = &buffer[..limit];
    Some(match head.rfind(char::is_whitespace) {
        Some(at) if at > 0 => at + head[at..].chars().next().map_or(1, char::len_utf8),
        _ => limit,
    })
}

/// What releasing one evaluated chunk gives.
enum Released {
    Text(String),
    /// Blocked: the text to show instead (sync), if any.
    Blocked(Option<String>),
}

impl Guard {
    /// Evaluates one chunk of output and records it.
    fn release(&self, chunk: &str) -> Released {
        let mask = self.mode == Mode::Sync;
        let e = evaluate(
            &self.guardrail,
            &[Piece {
                text: chunk,
                user: false,
            }],
            self.grounding.as_ref(),
            chunk.chars().count(),
            self.options(Direction::Output, mask),
        );
        let mut seen = self.seen();
        seen.outputs.push(e.assessment.clone());
        seen.output = Some(seen.output.map_or(e.outcome, |o| o.max(e.outcome)));
        match e.outcome {
            Outcome::Blocked => Released::Blocked(
                (self.mode == Mode::Sync).then(|| self.guardrail.blocked_output.clone()),
            ),
            Outcome::Masked | Outcome::Clean => {
                Released::Text(e.masked.into_iter().next().unwrap_or_default())
            }
        }
    }

    /// The output stage: `stream` (from its first delta on) guarded chunk by chunk.
    pub fn output(&self, stream: TokenStream) -> TokenStream {
        let guard = self.clone();
        Box::pin(async_stream::stream! {
            let mut stream = stream;
            let mut buffer = String::new();
            let mut input_tokens = 0;
            let sync = guard.mode == Mode::Sync;
            // The usage of an answer cut short by a block: what was read of it.
            let cut_short = |input_tokens: u32, guard: &Guard| {
                let output = tokens::count(&guard.seen().model_output);
                Delta::Stop(Stop {
                    reason: StopReason::EndTurn,
                    usage: Usage { input_tokens, output_tokens: output },
                })
            };
            while let Some(item) = stream.next().await {
                let delta = match item {
                    Ok(delta) => delta,
                    Err(err) => {
                        yield Err(err);
                        return;
                    }
                };
                match delta {
                    Delta::Text(t) => {
                        guard.seen().model_output.push_str(&t);
                        buffer.push_str(&t);
                        if !sync {
                            yield Ok(Delta::Text(t));
                        }
                        while let Some(end) = chunk_end(&buffer) {
                            let chunk: String = buffer.drain(..end).collect();
                            match guard.release(&chunk) {
                                Released::Text(text) => if sync {
                                    yield Ok(Delta::Text(text.into()));
                                },
                                Released::Blocked(shown) => {
                                    if let Some(shown) = shown {
                                        yield Ok(Delta::Text(shown.into()));
                                    }
                                    yield Ok(cut_short(input_tokens, &guard));
                                    return;
                                }
                            }
                        }
                    }
                    Delta::Stop(stop) => {
                        // The rest of the text; an answer without text is evaluated once, empty.
                        if !buffer.is_empty() || guard.seen().output.is_none() {
                            match guard.release(&std::mem::take(&mut buffer)) {
                                Released::Text(text) => if sync && !text.is_empty() {
                                    yield Ok(Delta::Text(text.into()));
                                },
                                Released::Blocked(shown) => if let Some(shown) = shown {
                                    yield Ok(Delta::Text(shown.into()));
                                },
                            }
                        }
                        yield Ok(Delta::Stop(stop));
                        return;
                    }
                    other => {
                        if let Delta::Start { input_tokens: n } = &other {
                            input_tokens = *n;
                        }
                        // Text before a reasoning or tool block is evaluated before it.
                        if sync && !buffer.is_empty() {
                            match guard.release(&std::mem::take(&mut buffer)) {
                                Released::Text(text) => yield Ok(Delta::Text(text.into())),
                                Released::Blocked(shown) => {
                                    if let Some(shown) = shown {
                                        yield Ok(Delta::Text(shown.into()));
                                    }
                                    yield Ok(cut_short(input_tokens, &guard));
                                    return;
                                }
                            }
                        }
                        yield Ok(other);
                    }
                }
            }
            // The source ended without a stop: the writer reports the truncation.
        })
    }

    /// The deltas of an answer the model never gave: the blocked-input message.
    pub fn blocked_input_stream(message: String) -> TokenStream {
        Box::pin(futures::stream::iter(
            [
                Delta::Start { input_tokens: 0 },
                Delta::Text(message.into()),
                Delta::Stop(Stop {
                    reason: StopReason::EndTurn,
                    usage: Usage::default(),
                }),
            ]
            .into_iter()
            .map(Ok),
        ))
    }

    /// Wraps an operation's shaper so that its events carry the guardrail's verdict: ConverseStream's
    /// `messageStop` gets `guardrail_intervened` and `metadata` the trace; each
    /// InvokeModelWithResponseStream chunk gets `amazon-bedrock-guardrailAction`, and the last (the
    /// one with `amazon-bedrock-invocationMetrics`) the trace too.
    pub fn shaper(&self, inner: Box<dyn Shaper>) -> Box<dyn Shaper> {
        Box::new(GuardedShaper {
            inner,
            guard: self.clone(),
        })
    }
}

struct GuardedShaper {
    inner: Box<dyn Shaper>,
    guard: Guard,
}

impl GuardedShaper {
    fn rewrite(&self, event: &mut Event) {
        let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(&event.payload) else {
            return;
        };
        match (self.guard.api, event.name) {
            (super::guard::Api::Converse, "messageStop") => {
                if self.guard.intervened() {
                    map.insert("stopReason".into(), json!("guardrail_intervened"));
                }
            }
            (super::guard::Api::Converse, "metadata") => {
                if let Some(trace) = self.guard.trace_json(None) {
                    map.insert("trace".into(), trace);
                }
            }
            (super::guard::Api::Invoke, "chunk") => {
                let metrics = map.remove("amazon-bedrock-invocationMetrics");
                map.insert(
                    "amazon-bedrock-guardrailAction".into(),
                    json!(self.guard.invoke_action()),
                );
                if let Some(metrics) = metrics {
                    if let Some(trace) = self.guard.trace_json(None) {
                        map.insert("amazon-bedrock-trace".into(), trace);
                    }
                    map.insert("amazon-bedrock-invocationMetrics".into(), metrics);
                }
            }
            _ => return,
        }
        event.payload = serde_json::to_vec(&Value::Object(map)).unwrap_or_default();
    }
}

impl Shaper for GuardedShaper {
    fn on_delta(&mut self, delta: &Delta, timing: &Timing, out: &mut Vec<Event>) {
        let from = out.len();
        self.inner.on_delta(delta, timing, out);
        for event in &mut out[from..] {
            self.rewrite(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_after_whitespace_within_the_limit() {
        let short = "a ".repeat(100);
        assert_eq!(chunk_end(&short), None);
        let long = format!("{} tail", "x".repeat(995));
        assert_eq!(chunk_end(&format!("{long}{}", "y".repeat(10))), Some(996));
        let unbroken = "z".repeat(1500);
        assert_eq!(chunk_end(&unbroken), Some(1000));
    }
}
