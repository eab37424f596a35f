//! OpenAI chat-completion SSE events → [`Delta`]s, one event at a time. Pure and stateful per stream:
//! the I/O loop feeds it each event's type and data as they arrive and forwards the deltas at once.
//!
//! ```text
//! data: {"choices":[{"delta":{"content":"Hel"}}]}                 → Text("Hel")
//! data: {"choices":[{"delta":{"reasoning_content":"hm"}}]}        → Reasoning("hm")
//! data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{\""}}]}}]}
//!                                                                 → ToolStart{f}, ToolInput("{\"")
//! data: {"choices":[{"delta":{},"finish_reason":"stop"}]}         → (reason noted)
//! data: {"choices":[{"delta":{},"finish_reason":"stop","stop_reason":"END"}]}  → (stop sequence noted)
//! data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3}}  → complete
//! data: [DONE]                                                     → complete
//! ```
//!
//! Tool-call fragments are assembled into blocks by [`super::tool_calls`].

use super::errors::{message_of, truncate};
use super::tool_calls::{ToolCalls, WireToolCall};
use crate::aws::ApiError;
use crate::runtime::stream::delta::{Delta, Stop, StopReason, Usage};
use crate::runtime::stream::tokens;
use serde::Deserialize;
use serde_json::Value;

/// One streamed chunk, leniently: local servers omit, null or add fields freely.
#[derive(Debug, Default, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<WireUsage>,
    error: Option<Value>,
    /// llama.cpp with verbose output: its native result, which names the stop word.
    #[serde(rename = "__verbose")]
    verbose: Option<Verbose>,
}

#[derive(Debug, Default, Deserialize)]
struct Verbose {
    stopping_word: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Choice {
    index: Option<u32>,
    delta: Option<WireDelta>,
    finish_reason: Option<String>,
    /// vLLM: the stop string (or token id) that ended the answer.
    stop_reason: Option<Value>,
    /// SGLang: the same, under its own name.
    matched_stop: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct WireDelta {
    content: Option<String>,
    reasoning_content: Option<String>,
    reasoning: Option<String>,
    tool_calls: Option<Vec<WireToolCall>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct WireUsage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
}

/// The decoding state of one stream.
#[derive(Debug, Default)]
pub struct Decoder {
    stop_sequences: Vec<String>,
    input_estimate: u32,
    calls: ToolCalls,
    /// Text the answer produced (for stop-sequence detection and the fallback count).
    text_tail: String,
    counted: u32,
    finish: Option<String>,
    stop_string: Option<String>,
    usage: Option<Usage>,
    done: bool,
}

impl Decoder {
    pub fn new(stop_sequences: Vec<String>, input_estimate: u32) -> Self {
        Self {
            stop_sequences,
            input_estimate,
            ..Default::default()
        }
    }

    /// The input-token figure announced before the backend's own count arrives.
    pub fn input_estimate(&self) -> u32 {
        self.input_estimate
    }

    /// Decodes one SSE event into `out`; returns whether the answer is complete (`[DONE]`, or a
    /// finish reason together with usage).
    pub fn event(
        &mut self,
        kind: &str,
        data: &str,
        out: &mut Vec<Delta>,
    ) -> Result<bool, ApiError> {
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(self.complete());
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
            if kind == "error" {
                backend_error(&Value::String(data.to_string()))
            } else {
                ApiError::ModelStreamError {
                    message: format!(
                        "The backend sent a chunk that is not chat-completion JSON: {e}"
                    ),
                    original_status_code: None,
                    original_message: Some(truncate(data, 500)),
                }
            }
        })?;
        if let Some(err) = &chunk.error {
            return Err(backend_error(err));
        }
        if kind == "error" {
            return Err(backend_error(&Value::String(data.to_string())));
        }
        for choice in chunk.choices {
            // One answer is requested; anything else is not ours to forward.
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            if let Some(delta) = choice.delta {
                self.delta(delta, out)?;
            }
            if let Some(reason) = &choice.finish_reason {
                self.finish = Some(reason.clone());
                if let Some(Value::String(s)) = choice.stop_reason.or(choice.matched_stop) {
                    self.stop_string = Some(s);
                }
            }
        }
        // llama.cpp puts it on the first chunk of its last batch, not always the finishing one.
        if let Some(word) = chunk.verbose.and_then(|v| v.stopping_word) {
            if !word.is_empty() {
                self.stop_string = Some(word);
            }
        }
        if let Some(u) = chunk.usage {
            self.usage = Some(Usage {
                input_tokens: clamp(u.prompt_tokens.unwrap_or(u64::from(self.input_estimate))),
                output_tokens: clamp(u.completion_tokens.unwrap_or(u64::from(self.counted))),
            });
        }
        Ok(self.complete())
    }

    fn complete(&self) -> bool {
        self.done || (self.finish.is_some() && self.usage.is_some())
    }

    /// Takes the delta by value: its strings become the tokens without a copy.
    fn delta(&mut self, delta: WireDelta, out: &mut Vec<Delta>) -> Result<(), ApiError> {
        let reasoning = delta.reasoning_content.or(delta.reasoning);
        if let Some(r) = reasoning.filter(|r| !r.is_empty()) {
            // A text or reasoning delta closes the open tool block in every shaper.
            self.calls.interrupt();
            self.counted = self.counted.saturating_add(tokens::count(&r));
            out.push(Delta::Reasoning(r.into()));
        }
        if let Some(t) = delta.content.filter(|t| !t.is_empty()) {
            self.calls.interrupt();
            self.counted = self.counted.saturating_add(tokens::count(&t));
            self.note_text(&t);
            out.push(Delta::Text(t.into()));
        }
        for (position, call) in delta.tool_calls.iter().flatten().enumerate() {
            self.counted = self.counted.saturating_add(tokens::count(call.arguments()));
            self.calls.fragment(call, position, out)?;
        }
        Ok(())
    }

    /// Keeps the end of the text, enough to see whether it ends with a stop sequence.
    fn note_text(&mut self, t: &str) {
        let keep = self
            .stop_sequences
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0);
        if keep == 0 {
            return;
        }
        self.text_tail.push_str(t);
        if self.text_tail.len() > keep * 2 {
            let mut cut = self.text_tail.len() - keep;
            while !self.text_tail.is_char_boundary(cut) {
                cut -= 1;
            }
            self.text_tail.drain(..cut);
        }
    }

    /// The stop for a stream that completed.
    pub fn stop(&mut self, out: &mut Vec<Delta>) -> Stop {
        self.calls.flush_nameless(out);
        let used_tools = self.calls.used();
        let reason = match self.finish.as_deref() {
            Some("length") => StopReason::MaxTokens,
            Some("tool_calls" | "function_call") => StopReason::ToolUse,
            Some("content_filter") => StopReason::ContentFiltered,
            // Ollama reports "stop" for an answer that ends in tool calls.
            _ if used_tools => StopReason::ToolUse,
            Some("stop") | None => self.stop_sequence(),
            Some(other) => {
                tracing::debug!(
                    finish_reason = other,
                    "unknown finish_reason, taken as end_turn"
                );
                StopReason::EndTurn
            }
        };
        let usage = self.usage.unwrap_or(Usage {
            input_tokens: self.input_estimate,
            output_tokens: self.counted,
        });
        Stop { reason, usage }
    }

    /// Which stop sequence ended the answer, when the backend lets us know: vLLM names it in
    /// `stop_reason`, SGLang in `matched_stop`, llama.cpp (run verbose) in `__verbose.stopping_word`;
    /// servers that keep the sequence in the text end with it. Otherwise `end_turn`.
    fn stop_sequence(&self) -> StopReason {
        let hit = self
            .stop_sequences
            .iter()
            .find(|s| self.stop_string.as_deref() == Some(s.as_str()))
            .or_else(|| {
                self.stop_sequences
                    .iter()
                    .find(|s| !s.is_empty() && self.text_tail.ends_with(s.as_str()))
            });
        match hit {
            Some(s) => StopReason::StopSequence(s.clone()),
            None => StopReason::EndTurn,
        }
    }

    /// The end of the body: complete if a finish reason or `[DONE]` came, truncated otherwise.
    pub fn at_eof(&mut self, out: &mut Vec<Delta>) -> Result<Stop, ApiError> {
        if self.done || self.finish.is_some() {
            Ok(self.stop(out))
        } else {
            Err(crate::runtime::stream::delta::truncated())
        }
    }
}

/// A failure the backend reported inside the stream (`{"error": …}` or an `error` event).
fn backend_error(err: &Value) -> ApiError {
    let message = match err {
        Value::String(s) => s.clone(),
        other => message_of(other).unwrap_or_else(|| other.to_string()),
    };
    let code = err
        .get("code")
        .or_else(|| err.get("status"))
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(500);
    ApiError::ModelStreamError {
        message: format!("The backend failed mid-stream: {message}"),
        original_status_code: Some(code),
        original_message: Some(message),
    }
}

/// A backend's count, capped at what Bedrock's token fields carry.
fn clamp(n: u64) -> u32 {
    u32::try_from(n).map_or(Usage::MAX, |n| n.min(Usage::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn feed(d: &mut Decoder, chunks: &[Value]) -> (Vec<Delta>, bool) {
        let mut out = Vec::new();
        let mut complete = false;
        for c in chunks {
            complete = d.event("message", &c.to_string(), &mut out).unwrap();
        }
        (out, complete)
    }

    fn tc(index: u32, id: Option<&str>, name: Option<&str>, args: &str) -> Value {
        let mut call = json!({"index": index, "function": {"arguments": args}});
        if let Some(id) = id {
            call["id"] = json!(id);
        }
        if let Some(name) = name {
            call["function"]["name"] = json!(name);
        }
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]})
    }

    #[test]
    fn text_reasoning_finish_and_usage() {
        let mut d = Decoder::new(vec![], 7);
        let (out, complete) = feed(
            &mut d,
            &[
                json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
                json!({"choices": [{"delta": {"reasoning_content": "think"}}]}),
                json!({"choices": [{"delta": {"reasoning": " more"}}]}),
                json!({"choices": [{"delta": {"content": "Hel"}}]}),
                json!({"choices": [{"delta": {"content": "lo"}, "finish_reason": null}]}),
                json!({"choices": [{"delta": {}, "finish_reason": "length"}]}),
            ],
        );
        assert!(!complete);
        assert_eq!(
            out,
            [
                Delta::Reasoning("think".into()),
                Delta::Reasoning(" more".into()),
                Delta::Text("Hel".into()),
                Delta::Text("lo".into()),
            ]
        );
        let (_, complete) = feed(
            &mut d,
            &[json!({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 4}})],
        );
        assert!(complete);
        let stop = d.stop(&mut Vec::new());
        assert_eq!(stop.reason, StopReason::MaxTokens);
        assert_eq!(
            stop.usage,
            Usage {
                input_tokens: 12,
                output_tokens: 4
            }
        );
    }

    #[test]
    fn done_without_usage_counts_and_eof_without_finish_is_truncated() {
        let mut d = Decoder::new(vec![], 5);
        feed(
            &mut d,
            &[json!({"choices": [{"delta": {"content": "one two"}, "finish_reason": "stop"}]})],
        );
        assert!(d.event("message", "[DONE]", &mut Vec::new()).unwrap());
        let stop = d.stop(&mut Vec::new());
        assert_eq!(stop.reason, StopReason::EndTurn);
        assert_eq!(
            stop.usage,
            Usage {
                input_tokens: 5,
                output_tokens: 2
            }
        );

        let mut d = Decoder::new(vec![], 5);
        feed(
            &mut d,
            &[json!({"choices": [{"delta": {"content": "cut"}}]})],
        );
        let err = d.at_eof(&mut Vec::new()).unwrap_err();
        assert_eq!(err.type_name(), "ModelStreamErrorException");

        let mut d = Decoder::new(vec![], 5);
        feed(
            &mut d,
            &[json!({"choices": [{"delta": {}, "finish_reason": "content_filter"}]})],
        );
        assert_eq!(
            d.at_eof(&mut Vec::new()).unwrap().reason,
            StopReason::ContentFiltered
        );
    }

    #[test]
    fn tool_calls_end_in_tool_use_even_when_the_backend_says_stop() {
        // Ollama: whole calls in one chunk, all numbered 0, finish "stop".
        let mut d = Decoder::new(vec![], 1);
        let (out, _) = feed(
            &mut d,
            &[
                tc(0, Some("a"), Some("f"), "{}"),
                tc(0, Some("b"), Some("g"), "{\"x\":1}"),
                json!({"choices": [{"delta": {}, "finish_reason": "stop"}]}),
            ],
        );
        assert_eq!(out.len(), 4);
        assert_eq!(out[2], Delta::ToolStart { name: "g".into() });
        let stop = d.stop(&mut Vec::new());
        assert_eq!(stop.reason, StopReason::ToolUse);
        assert_eq!(stop.usage.output_tokens, 9, "counted from the arguments");
    }

    #[test]
    fn stop_sequences_are_detected_when_the_backend_shows_them() {
        let mut d = Decoder::new(vec!["END".into(), "##".into()], 1);
        feed(
            &mut d,
            &[
                json!({"choices": [{"delta": {"content": "a"}, "finish_reason": "stop", "stop_reason": "##"}]}),
            ],
        );
        assert_eq!(
            d.stop(&mut Vec::new()).reason,
            StopReason::StopSequence("##".into())
        );

        let mut d = Decoder::new(vec!["END".into()], 1);
        feed(
            &mut d,
            &[
                json!({"choices": [{"delta": {"content": "the E"}}]}),
                json!({"choices": [{"delta": {"content": "ND"}, "finish_reason": "stop"}]}),
            ],
        );
        assert_eq!(
            d.stop(&mut Vec::new()).reason,
            StopReason::StopSequence("END".into())
        );

        let mut d = Decoder::new(vec!["END".into()], 1);
        feed(
            &mut d,
            &[json!({"choices": [{"delta": {"content": "done"}, "finish_reason": "stop"}]})],
        );
        assert_eq!(d.stop(&mut Vec::new()).reason, StopReason::EndTurn);
    }

    #[test]
    fn sglang_and_verbose_llama_cpp_name_the_stop_sequence_their_own_way() {
        // SGLang: `matched_stop` beside the finish reason.
        let mut d = Decoder::new(vec!["END".into(), "##".into()], 1);
        feed(
            &mut d,
            &[
                json!({"choices": [{"delta": {"content": "a"}, "finish_reason": null, "matched_stop": null}]}),
                json!({"choices": [{"delta": {}, "finish_reason": "stop", "matched_stop": "##"}]}),
            ],
        );
        assert_eq!(
            d.stop(&mut Vec::new()).reason,
            StopReason::StopSequence("##".into())
        );
        // llama.cpp run verbose: `__verbose.stopping_word` on the first chunk of its last batch.
        let mut d = Decoder::new(vec!["END".into()], 1);
        feed(
            &mut d,
            &[
                json!({"choices": [{"delta": {"content": "a"}}], "__verbose": {"stop": false, "stopping_word": ""}}),
                json!({"choices": [{"delta": {"content": "b"}}], "__verbose": {"stop": true, "stop_type": "word", "stopping_word": "END"}}),
                json!({"choices": [{"delta": {}, "finish_reason": "stop"}]}),
            ],
        );
        assert_eq!(
            d.stop(&mut Vec::new()).reason,
            StopReason::StopSequence("END".into())
        );
        // A stop word that was not asked for is not a stop sequence of the request.
        let mut d = Decoder::new(vec!["END".into()], 1);
        feed(
            &mut d,
            &[json!({"choices": [{"delta": {}, "finish_reason": "stop", "matched_stop": 128009}]})],
        );
        assert_eq!(d.stop(&mut Vec::new()).reason, StopReason::EndTurn);
    }

    #[test]
    fn errors_in_the_stream_carry_the_backend_status_and_message() {
        let mut d = Decoder::new(vec![], 1);
        let err = d
            .event(
                "message",
                r#"{"error":{"code":503,"message":"model unloaded"}}"#,
                &mut Vec::new(),
            )
            .unwrap_err();
        assert_eq!(
            err,
            ApiError::ModelStreamError {
                message: "The backend failed mid-stream: model unloaded".into(),
                original_status_code: Some(503),
                original_message: Some("model unloaded".into()),
            }
        );
        let err = d.event("error", "boom", &mut Vec::new()).unwrap_err();
        assert_eq!(err.body()["originalMessage"], "boom");
        let err = d
            .event("message", "{not json", &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.type_name(), "ModelStreamErrorException");
    }
}
