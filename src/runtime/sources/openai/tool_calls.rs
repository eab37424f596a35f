//! `delta.tool_calls` fragments → tool blocks, streamed as they come.
//!
//! ```text
//! {"index":0,"id":"call_a","function":{"name":"weather","arguments":""}}   → ToolStart{weather}
//! {"index":0,"function":{"arguments":"{\"city\":"}}                         → ToolInput("{\"city\":")
//! {"index":1,"id":"call_b","function":{"name":"time","arguments":"{}"}}     → ToolStart{time}, ToolInput("{}")
//! ```
//!
//! Blocks open in the order calls start, one at a time (the shapers close the open block when the
//! next begins), so parallel calls get their own blocks. A call is known by its `index` — and by
//! its `id` too, since some servers (Ollama) number every call 0. Arguments that come before the
//! call's name are held until it arrives (or the answer ends). Servers send each call's fragments
//! contiguously; a fragment for a call whose block is already closed (interleaved parallel calls)
//! cannot go back into it, so it ends the stream with a clear error instead of a broken tool input.

use crate::aws::ApiError;
use crate::runtime::stream::delta::Delta;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct WireToolCall {
    index: Option<u32>,
    id: Option<String>,
    function: Option<WireFunction>,
}

#[derive(Debug, Default, Deserialize)]
struct WireFunction {
    name: Option<String>,
    arguments: Option<String>,
}

impl WireToolCall {
    pub fn arguments(&self) -> &str {
        self.function
            .as_ref()
            .and_then(|f| f.arguments.as_deref())
            .unwrap_or("")
    }

    fn name(&self) -> Option<&str> {
        self.function
            .as_ref()
            .and_then(|f| f.name.as_deref())
            .filter(|n| !n.is_empty())
    }
}

/// A tool call the backend has started.
#[derive(Debug)]
struct Call {
    index: u32,
    id: Option<String>,
    name: Option<String>,
    /// Arguments that arrived before the name.
    pending: String,
    opened: bool,
}

/// The tool calls of one answer.
#[derive(Debug, Default)]
pub struct ToolCalls {
    calls: Vec<Call>,
    /// Position in `calls` of the call whose block is open.
    current: Option<usize>,
}

impl ToolCalls {
    /// Routes one fragment; `position` is its place in the chunk's `tool_calls` list (the index
    /// of servers that send none).
    pub fn fragment(
        &mut self,
        wire: &WireToolCall,
        position: usize,
        out: &mut Vec<Delta>,
    ) -> Result<(), ApiError> {
        let index = wire
            .index
            .unwrap_or_else(|| u32::try_from(position).unwrap_or(u32::MAX));
        let args = wire.arguments();
        let found = self.calls.iter().rposition(|c| {
            c.index == index
                && match (&c.id, &wire.id) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        });
        let at = found.unwrap_or_else(|| {
            self.calls.push(Call {
                index,
                id: wire.id.clone(),
                name: None,
                pending: String::new(),
                opened: false,
            });
            self.calls.len() - 1
        });
        if self.calls[at].opened && self.current != Some(at) {
            if args.is_empty() {
                return Ok(()); // a no-op fragment (a repeated id or name) changes nothing
            }
            return Err(ApiError::ModelStreamError {
                message: format!(
                    "The backend sent arguments for tool call {index} after another block had started; awsim streams tool calls one at a time and cannot reopen a finished one."
                ),
                original_status_code: None,
                original_message: None,
            });
        }
        let call = &mut self.calls[at];
        if call.name.is_none() {
            call.name = wire.name().map(str::to_string);
        }
        if call.opened {
            if !args.is_empty() {
                out.push(Delta::ToolInput(args.into()));
            }
            return Ok(());
        }
        call.pending.push_str(args);
        let Some(name) = call.name.clone() else {
            return Ok(()); // no name yet: hold the arguments
        };
        call.opened = true;
        let held = std::mem::take(&mut call.pending);
        self.current = Some(at);
        out.push(Delta::ToolStart { name });
        if !held.is_empty() {
            out.push(Delta::ToolInput(held.into()));
        }
        Ok(())
    }

    /// Text or reasoning arrived: every shaper has closed the open tool block.
    pub fn interrupt(&mut self) {
        self.current = None;
    }

    /// Whether any call reached the client.
    pub fn used(&self) -> bool {
        self.calls.iter().any(|c| c.opened)
    }

    /// At the end, a call whose name never came still gets its block, so its input is not lost.
    pub fn flush_nameless(&mut self, out: &mut Vec<Delta>) {
        for call in self.calls.iter_mut().filter(|c| !c.opened) {
            call.opened = true;
            out.push(Delta::ToolStart {
                name: String::new(),
            });
            if !call.pending.is_empty() {
                out.push(Delta::ToolInput(std::mem::take(&mut call.pending).into()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn feed(calls: &mut ToolCalls, fragments: &[serde_json::Value]) -> Vec<Delta> {
        let mut out = Vec::new();
        for f in fragments {
            let wire: WireToolCall = serde_json::from_value(f.clone()).unwrap();
            calls.fragment(&wire, 0, &mut out).unwrap();
        }
        out
    }

    fn start(name: &str) -> Delta {
        Delta::ToolStart { name: name.into() }
    }

    fn input(s: &str) -> Delta {
        Delta::ToolInput(s.into())
    }

    #[test]
    fn parallel_calls_get_their_own_blocks_fragment_by_fragment() {
        let mut calls = ToolCalls::default();
        let out = feed(
            &mut calls,
            &[
                json!({"index": 0, "id": "call_a", "function": {"name": "weather", "arguments": ""}}),
                json!({"index": 0, "function": {"arguments": "{\"city\":"}}),
                json!({"index": 0, "function": {"arguments": "\"Paris\"}"}}),
                json!({"index": 1, "id": "call_b", "function": {"name": "time", "arguments": "{\"tz\":"}}),
                json!({"index": 1, "function": {"arguments": "\"CET\"}"}}),
            ],
        );
        assert_eq!(
            out,
            [
                start("weather"),
                input("{\"city\":"),
                input("\"Paris\"}"),
                start("time"),
                input("{\"tz\":"),
                input("\"CET\"}"),
            ]
        );
        assert!(calls.used());
    }

    #[test]
    fn calls_numbered_alike_are_told_apart_by_id() {
        let mut calls = ToolCalls::default();
        let out = feed(
            &mut calls,
            &[
                json!({"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}),
                json!({"index": 0, "id": "b", "function": {"name": "g", "arguments": "{\"x\":1}"}}),
            ],
        );
        assert_eq!(
            out,
            [start("f"), input("{}"), start("g"), input("{\"x\":1}")]
        );
    }

    #[test]
    fn arguments_before_the_name_are_held() {
        let mut calls = ToolCalls::default();
        let out = feed(
            &mut calls,
            &[
                json!({"index": 0, "id": "a", "function": {"arguments": "{\"k\""}}),
                json!({"index": 0, "function": {"name": "f", "arguments": ":1}"}}),
            ],
        );
        assert_eq!(out, [start("f"), input("{\"k\":1}")]);

        let mut calls = ToolCalls::default();
        assert!(feed(
            &mut calls,
            &[json!({"index": 0, "function": {"arguments": "{}"}})]
        )
        .is_empty());
        let mut out = Vec::new();
        calls.flush_nameless(&mut out);
        assert_eq!(out, [start(""), input("{}")]);
    }

    #[test]
    fn late_fragments_of_a_closed_call_are_refused_and_empty_ones_ignored() {
        let mut calls = ToolCalls::default();
        feed(
            &mut calls,
            &[
                json!({"index": 0, "id": "a", "function": {"name": "f", "arguments": "{"}}),
                json!({"index": 1, "id": "b", "function": {"name": "g", "arguments": "{"}}),
                json!({"index": 0, "function": {"arguments": ""}}),
            ],
        );
        let late: WireToolCall =
            serde_json::from_value(json!({"index": 0, "function": {"arguments": "}"}})).unwrap();
        let err = calls.fragment(&late, 0, &mut Vec::new()).unwrap_err();
        assert!(err.message().contains("tool call 0"), "{err}");

        // Text in between closes the block too.
        let mut calls = ToolCalls::default();
        feed(
            &mut calls,
            &[json!({"index": 0, "id": "a", "function": {"name": "f", "arguments": "{"}})],
        );
        calls.interrupt();
        assert!(calls.fragment(&late, 0, &mut Vec::new()).is_err());
    }
}
