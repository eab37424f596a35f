//! ConverseStream's events and Converse's response. The stream follows Bedrock's event order:
//! `messageStart`, per block [`contentBlockStart` for tool use only] `contentBlockDelta`…
//! `contentBlockStop`, `messageStop`, `metadata` last; the collected answer is one document. Both
//! carry the `additionalModelResponseFields` that [`field_paths`](super::field_paths) finds.

use super::field_paths::StreamFields;
use crate::runtime::stream::answer::{tool_input, Answer, AnswerBlock};
use crate::runtime::stream::delta::Delta;
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::shaper::{push_json_str, BlockKind, Blocks, Event, Shaper, Timing};
use serde::Serialize;
use serde_json::{json, Value};

/// `{"contentBlockIndex":N`, with room for `more` bytes after it.
fn block_index(index: u32, more: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(32 + more);
    p.extend_from_slice(b"{\"contentBlockIndex\":");
    p.extend_from_slice(itoa::Buffer::new().format(index).as_bytes());
    p
}

/// ConverseStream's events, one delta at a time.
pub struct ConverseShaper {
    blocks: Blocks,
    ids: Ids,
    /// Reasoning blocks end with a signature delta, as Claude's do.
    signature: bool,
    /// The native fields `messageStop` carries, when the request asked for some.
    fields: Option<Box<StreamFields>>,
}

impl ConverseShaper {
    pub fn new(ids: Ids) -> Self {
        Self {
            blocks: Blocks::default(),
            ids,
            signature: true,
            fields: None,
        }
    }

    /// Answers `additionalModelResponseFieldPaths` in `messageStop`.
    pub fn with_fields(mut self, fields: StreamFields) -> Self {
        self.fields = Some(Box::new(fields));
        self
    }

    fn close(&mut self, closed: Option<(BlockKind, u32)>, out: &mut Vec<Event>) {
        let Some((kind, index)) = closed else { return };
        if kind == BlockKind::Reasoning && self.signature {
            let sig = self.ids.short(48);
            out.push(Event::json(
                "contentBlockDelta",
                &json!({"contentBlockIndex": index, "delta": {"reasoningContent": {"signature": sig}}}),
            ));
        }
        let mut p = block_index(index, 1);
        p.push(b'}');
        out.push(Event::new("contentBlockStop", p));
    }

    fn delta(index: u32, member: &str, inner: &str, out: &mut Vec<Event>) {
        // {"contentBlockIndex":0,"delta":{"text":"…"}} without building a Value per token.
        let mut p = block_index(index, 24 + member.len() + inner.len());
        p.extend_from_slice(b",\"delta\":{");
        p.extend_from_slice(member.as_bytes());
        push_json_str(&mut p, inner);
        p.extend_from_slice(b"}}");
        if member.contains('{') {
            p.push(b'}');
        }
        out.push(Event::new("contentBlockDelta", p));
    }
}

impl Shaper for ConverseShaper {
    fn on_delta(&mut self, delta: &Delta, timing: &Timing, out: &mut Vec<Event>) {
        match delta {
            Delta::Start { .. } => {
                if let Some(fields) = &mut self.fields {
                    fields.on_delta(delta, timing);
                }
                out.push(Event::new(
                    "messageStart",
                    br#"{"role":"assistant"}"#.to_vec(),
                ));
            }
            Delta::Text(t) => {
                let e = self.blocks.enter(BlockKind::Text, false);
                self.close(e.closed, out);
                Self::delta(e.index, "\"text\":", t, out);
            }
            Delta::Reasoning(t) => {
                let e = self.blocks.enter(BlockKind::Reasoning, false);
                self.close(e.closed, out);
                Self::delta(e.index, "\"reasoningContent\":{\"text\":", t, out);
            }
            Delta::ToolStart { name } => {
                let e = self.blocks.enter(BlockKind::Tool, true);
                self.close(e.closed, out);
                let id = self.ids.converse_tool();
                out.push(Event::typed(
                    "contentBlockStart",
                    &BlockStartEvent {
                        content_block_index: e.index,
                        start: BlockStartUnion::ToolUse {
                            tool_use_id: id,
                            name,
                        },
                    },
                ));
            }
            Delta::ToolInput(fragment) => {
                if let Some((BlockKind::Tool, index)) = self.blocks.current() {
                    Self::delta(index, "\"toolUse\":{\"input\":", fragment, out);
                }
            }
            Delta::Stop(stop) => {
                let closed = self.blocks.close();
                self.close(closed, out);
                let fields = self
                    .fields
                    .as_mut()
                    .and_then(|fields| fields.on_delta(delta, timing));
                out.push(Event::typed(
                    "messageStop",
                    &MessageStopEvent {
                        additional_model_response_fields: fields,
                        stop_reason: stop.reason.as_str(),
                    },
                ));
                let u = stop.usage;
                out.push(Event::typed(
                    "metadata",
                    &MetadataEvent {
                        usage: UsageOut {
                            input_tokens: u.input_tokens,
                            output_tokens: u.output_tokens,
                            total_tokens: u.total(),
                        },
                        metrics: Metrics {
                            latency_ms: timing.invocation_ms,
                        },
                    },
                ));
            }
        }
    }
}

/// The Converse response for a whole answer, serialized straight from the answer; `fields` answer
/// the request's `additionalModelResponseFieldPaths`.
pub fn respond<'a>(
    answer: &'a Answer,
    ids: &mut Ids,
    fields: Option<Value>,
) -> ConverseResponse<'a> {
    let content = answer
        .blocks
        .iter()
        .map(|b| match b {
            AnswerBlock::Text(t) => ContentOut::Text(t),
            AnswerBlock::Reasoning(t) => ContentOut::ReasoningContent {
                reasoning_text: ReasoningText {
                    text: t,
                    signature: ids.short(48),
                },
            },
            AnswerBlock::ToolUse { name, input } => ContentOut::ToolUse {
                tool_use_id: ids.converse_tool(),
                name,
                input: tool_input(input),
            },
        })
        .collect();
    let u = answer.usage();
    ConverseResponse {
        additional_model_response_fields: fields,
        output: Output {
            message: MessageOut {
                role: "assistant",
                content,
            },
        },
        stop_reason: answer.reason().as_str(),
        usage: UsageOut {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            total_tokens: u.total(),
        },
        metrics: Metrics {
            latency_ms: answer.timing.invocation_ms,
        },
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BlockStartEvent<'a> {
    content_block_index: u32,
    start: BlockStartUnion<'a>,
}

/// The `ContentBlockStart` union: only tool use starts a block explicitly.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum BlockStartUnion<'a> {
    #[serde(rename_all = "camelCase")]
    ToolUse { tool_use_id: String, name: &'a str },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageStopEvent {
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_model_response_fields: Option<Value>,
    stop_reason: &'static str,
}

#[derive(Serialize)]
struct MetadataEvent {
    usage: UsageOut,
    metrics: Metrics,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseResponse<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_model_response_fields: Option<Value>,
    output: Output<'a>,
    stop_reason: &'static str,
    usage: UsageOut,
    metrics: Metrics,
}

#[derive(Serialize)]
struct Output<'a> {
    message: MessageOut<'a>,
}

#[derive(Serialize)]
struct MessageOut<'a> {
    role: &'static str,
    content: Vec<ContentOut<'a>>,
}

/// A `ContentBlock` union member: serde's external tagging writes exactly one member.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum ContentOut<'a> {
    Text(&'a str),
    #[serde(rename_all = "camelCase")]
    ReasoningContent {
        reasoning_text: ReasoningText<'a>,
    },
    #[serde(rename_all = "camelCase")]
    ToolUse {
        tool_use_id: String,
        name: &'a str,
        input: Value,
    },
}

#[derive(Serialize)]
struct ReasoningText<'a> {
    text: &'a str,
    signature: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UsageOut {
    input_tokens: u32,
    output_tokens: u32,
    total_tokens: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metrics {
    latency_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::families::converse::field_paths::FieldPaths;
    use crate::runtime::families::testing::{events, model, stop};
    use crate::runtime::stream::delta::StopReason;
    use crate::runtime::stream::request::ChatRequest;

    #[test]
    fn message_stop_carries_the_native_fields_asked_for() {
        let claude = model("anthropic.claude-3-haiku-20240307-v1:0");
        let family = crate::runtime::formats::converse_family(&claude.id).unwrap();
        let paths = FieldPaths::parse(&["/delta/stop_sequence"]).unwrap();
        let message_stop = |mut s: ConverseShaper| {
            let out = events(
                &mut s,
                [
                    Delta::Start { input_tokens: 1 },
                    Delta::Text("a".into()),
                    stop(StopReason::StopSequence("END".into()), 0, 0),
                ],
            );
            let e = out.iter().find(|e| e.name == "messageStop").unwrap();
            String::from_utf8(e.payload.clone()).unwrap()
        };
        let fields = StreamFields::new(
            paths,
            family,
            &claude,
            &ChatRequest::default(),
            Ids::seeded(&[b"2"]),
        );
        assert_eq!(
            message_stop(ConverseShaper::new(Ids::seeded(&[b"1"])).with_fields(fields)),
            r#"{"additionalModelResponseFields":{"delta":{"stop_sequence":"END"}},"stopReason":"stop_sequence"}"#
        );
        assert_eq!(
            message_stop(ConverseShaper::new(Ids::seeded(&[b"1"]))),
            r#"{"stopReason":"stop_sequence"}"#
        );
    }

    #[test]
    fn stream_order_follows_bedrock() {
        let out = events(
            &mut ConverseShaper::new(Ids::seeded(&[b"1"])),
            [
                Delta::Start { input_tokens: 3 },
                Delta::Text("Hi".into()),
                Delta::Text(" there".into()),
                Delta::ToolStart { name: "f".into() },
                Delta::ToolInput("{\"a\":".into()),
                Delta::ToolInput("1}".into()),
                stop(StopReason::ToolUse, 3, 4),
            ],
        );
        let names: Vec<&str> = out.iter().map(|e| e.name).collect();
        assert_eq!(
            names,
            [
                "messageStart",
                "contentBlockDelta",
                "contentBlockDelta",
                "contentBlockStop",
                "contentBlockStart",
                "contentBlockDelta",
                "contentBlockDelta",
                "contentBlockStop",
                "messageStop",
                "metadata"
            ]
        );
        let delta: Value = serde_json::from_slice(&out[1].payload).unwrap();
        assert_eq!(
            delta,
            json!({"contentBlockIndex": 0, "delta": {"text": "Hi"}})
        );
        let tool: Value = serde_json::from_slice(&out[5].payload).unwrap();
        assert_eq!(
            tool,
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"a\":"}}})
        );
        let meta: Value = serde_json::from_slice(&out[9].payload).unwrap();
        assert_eq!(meta["usage"]["totalTokens"], 7);
        assert!(meta["metrics"]["latencyMs"].is_u64());
    }
}
