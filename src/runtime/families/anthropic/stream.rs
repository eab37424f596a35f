//! The Messages stream: `message_start`, per block `content_block_start` … `content_block_delta` …
//! `content_block_stop`, `message_delta` with the stop, and `message_stop` with Bedrock's metrics
//! merged in (`msg_bdrk_`/`toolu_bdrk_` ids, the bare model name, `input_json_delta` for tool input).

use crate::runtime::families::{invocation_metrics, InvocationMetrics};
use crate::runtime::stream::delta::Delta;
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::shaper::{push_json_str, BlockKind, Blocks, Event, Shaper, Timing};
use serde::Serialize;
use serde_json::{json, Value};

pub(super) struct MessagesShaper {
    model: String,
    blocks: Blocks,
    ids: Ids,
}

impl MessagesShaper {
    /// `model` is the bare name `message.model` shows.
    pub(super) fn new(model: String, ids: Ids) -> Self {
        Self {
            model,
            blocks: Blocks::default(),
            ids,
        }
    }

    fn close(&mut self, closed: Option<(BlockKind, u32)>, out: &mut Vec<Event>) {
        let Some((kind, index)) = closed else { return };
        if kind == BlockKind::Reasoning {
            let sig = self.ids.short(48);
            out.push(chunk(json!({"type": "content_block_delta", "index": index, "delta": {"type": "signature_delta", "signature": sig}})));
        }
        out.push(Event::new(
            "chunk",
            format!("{{\"type\":\"content_block_stop\",\"index\":{index}}}").into_bytes(),
        ));
    }

    fn start(
        &mut self,
        kind: BlockKind,
        fresh: bool,
        block: impl FnOnce(&mut Ids) -> BlockStart,
        out: &mut Vec<Event>,
    ) -> u32 {
        let e = self.blocks.enter(kind, fresh);
        self.close(e.closed, out);
        if e.opened {
            let content_block = block(&mut self.ids);
            out.push(Event::typed(
                "chunk",
                &Chunk::ContentBlockStart {
                    index: e.index,
                    content_block,
                },
            ));
        }
        e.index
    }
}

/// The stream's structural chunks, serialized straight from these types (`"type"` first).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Chunk<'a> {
    MessageStart {
        message: StartMessage<'a>,
    },
    ContentBlockStart {
        index: u32,
        content_block: BlockStart,
    },
    MessageDelta {
        delta: StopDelta<'a>,
        usage: OutputUsage,
    },
    MessageStop {
        #[serde(rename = "amazon-bedrock-invocationMetrics")]
        metrics: InvocationMetrics,
    },
}

#[derive(Serialize)]
struct StartMessage<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: [(); 0],
    stop_reason: Option<&'static str>,
    stop_sequence: Option<&'static str>,
    usage: StartUsage,
}

#[derive(Serialize)]
struct StartUsage {
    input_tokens: u32,
    cache_creation_input_tokens: u32,
    cache_read_input_tokens: u32,
    output_tokens: u32,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockStart {
    Text {
        text: &'static str,
    },
    Thinking {
        thinking: &'static str,
    },
    ToolUse {
        id: String,
        name: String,
        input: EmptyInput,
    },
}

/// `{}`: a tool block starts with empty input; the JSON follows as `input_json_delta`s.
#[derive(Serialize)]
struct EmptyInput {}

#[derive(Serialize)]
struct StopDelta<'a> {
    stop_reason: &'static str,
    stop_sequence: Option<&'a str>,
}

#[derive(Serialize)]
struct OutputUsage {
    output_tokens: u32,
}

fn chunk(v: Value) -> Event {
    Event::json("chunk", &v)
}

/// `{"type":"content_block_delta","index":N,"delta":{"type":"…","<field>":"…"}}` without a Value tree.
fn delta_chunk(index: u32, delta_type: &str, field: &str, text: &str) -> Event {
    let mut p = Vec::with_capacity(80 + text.len());
    p.extend_from_slice(b"{\"type\":\"content_block_delta\",\"index\":");
    p.extend_from_slice(index.to_string().as_bytes());
    p.extend_from_slice(b",\"delta\":{\"type\":\"");
    p.extend_from_slice(delta_type.as_bytes());
    p.extend_from_slice(b"\",\"");
    p.extend_from_slice(field.as_bytes());
    p.extend_from_slice(b"\":");
    push_json_str(&mut p, text);
    p.extend_from_slice(b"}}");
    Event::new("chunk", p)
}

impl Shaper for MessagesShaper {
    fn on_delta(&mut self, delta: &Delta, timing: &Timing, out: &mut Vec<Event>) {
        match delta {
            Delta::Start { input_tokens } => {
                let message = StartMessage {
                    id: self.ids.message(),
                    kind: "message",
                    role: "assistant",
                    model: &self.model,
                    content: [],
                    stop_reason: None,
                    stop_sequence: None,
                    usage: StartUsage {
                        input_tokens: *input_tokens,
                        cache_creation_input_tokens: 0,
                        cache_read_input_tokens: 0,
                        output_tokens: 1,
                    },
                };
                out.push(Event::typed("chunk", &Chunk::MessageStart { message }));
            }
            Delta::Text(t) => {
                let index = self.start(
                    BlockKind::Text,
                    false,
                    |_| BlockStart::Text { text: "" },
                    out,
                );
                out.push(delta_chunk(index, "text_delta", "text", t));
            }
            Delta::Reasoning(t) => {
                let index = self.start(
                    BlockKind::Reasoning,
                    false,
                    |_| BlockStart::Thinking { thinking: "" },
                    out,
                );
                out.push(delta_chunk(index, "thinking_delta", "thinking", t));
            }
            Delta::ToolStart { name } => {
                self.start(
                    BlockKind::Tool,
                    true,
                    |ids| BlockStart::ToolUse {
                        id: ids.anthropic_tool(),
                        name: name.clone(),
                        input: EmptyInput {},
                    },
                    out,
                );
            }
            Delta::ToolInput(fragment) => {
                if let Some((BlockKind::Tool, index)) = self.blocks.current() {
                    out.push(delta_chunk(
                        index,
                        "input_json_delta",
                        "partial_json",
                        fragment,
                    ));
                }
            }
            Delta::Stop(stop) => {
                let closed = self.blocks.close();
                self.close(closed, out);
                out.push(Event::typed(
                    "chunk",
                    &Chunk::MessageDelta {
                        delta: StopDelta {
                            stop_reason: stop.reason.as_str(),
                            stop_sequence: stop.reason.sequence(),
                        },
                        usage: OutputUsage {
                            output_tokens: stop.usage.output_tokens,
                        },
                    },
                ));
                out.push(Event::typed(
                    "chunk",
                    &Chunk::MessageStop {
                        metrics: invocation_metrics(stop.usage, timing),
                    },
                ));
            }
        }
    }
}
