//! Amazon Nova (`amazon.nova-*`, `messages-v1`): a Converse-shaped body (`messages`, `system`,
//! `toolConfig`) with its own `inferenceConfig` spelling, and chunks that are Converse events
//! wrapped in their member name, metrics merged into the last (`metadata`) chunk.
//!
//! ```text
//! {"messageStart":{"role":"assistant"}}
//! {"contentBlockDelta":{"delta":{"text":"Hi"},"contentBlockIndex":0}}
//! {"contentBlockStop":{"contentBlockIndex":0}}
//! {"contentBlockStart":{"start":{"toolUse":{"toolUseId":"tooluse_…","name":"f"}},"contentBlockIndex":1}}
//! {"contentBlockDelta":{"delta":{"toolUse":{"input":"{\"a\":"}},"contentBlockIndex":1}}
//! {"messageStop":{"stopReason":"tool_use"}}
//! {"metadata":{"usage":{…},"metrics":{},"trace":{}},"amazon-bedrock-invocationMetrics":{…}}
//! ```

use super::converse;
use super::{invocation_metrics, Family};
use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::{Fields, Object};
use crate::runtime::read::rules::{int_in, keys, one_of, schema};
use crate::runtime::stream::answer::{tool_input, Answer, AnswerBlock};
use crate::runtime::stream::delta::Delta;
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::request::ChatRequest;
use crate::runtime::stream::shaper::{push_json_str, BlockKind, Blocks, Event, Shaper, Timing};
use serde_json::{json, Value};

pub struct Nova;

const KEYS: &[&str] = &[
    "schemaVersion",
    "system",
    "messages",
    "inferenceConfig",
    "toolConfig",
    "reasoningConfig",
];

const INFERENCE_KEYS: &[&str] = &[
    "max_new_tokens",
    "maxTokens",
    "temperature",
    "topP",
    "top_p",
    "topK",
    "top_k",
    "stopSequences",
];

const VIDEO_FORMATS: &[&str] = &[
    "mkv", "mov", "mp4", "webm", "flv", "mpeg", "mpg", "wmv", "three_gp",
];

impl Family for Nova {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<ChatRequest, ApiError> {
        let f = Fields::new(body, "");
        keys(&f, &["messages"], KEYS)?;
        one_of(&f, "schemaVersion", &["messages-v1"])?;
        // The conversation itself is Converse's shape: validate and translate it there.
        let mut conversation = Object::new();
        for key in ["system", "toolConfig"] {
            if let Some(v) = f.get(key) {
                conversation.insert(key.to_string(), v.clone());
            }
        }
        let messages = f.req_array("messages")?;
        conversation.insert(
            "messages".into(),
            Value::Array(without_video(&f, messages)?),
        );
        let (mut req, _) = converse::request::parse(&conversation)?;
        if let Some(cfg) = f.object("inferenceConfig")? {
            keys(&cfg, &[], INFERENCE_KEYS)?;
            req.max_tokens = cfg
                .u32_min("max_new_tokens", 1)?
                .or(cfg.u32_min("maxTokens", 1)?);
            req.temperature = cfg.f64_in("temperature", 0.0, 1.0)?;
            req.top_p = cfg
                .f64_in("topP", 0.0, 1.0)?
                .or(cfg.f64_in("top_p", 0.0, 1.0)?);
            req.top_k = int_in(&cfg, "topK", 0, 128)?.or(int_in(&cfg, "top_k", 0, 128)?);
            req.stop_sequences = cfg.strings("stopSequences")?;
        }
        req.reasoning = converse::request::reasoning_requested(body);
        Ok(req)
    }

    fn shaper(&self, _model: &ModelRef, _request: &ChatRequest, ids: Ids) -> Box<dyn Shaper> {
        Box::new(NovaShaper {
            blocks: Blocks::default(),
            ids,
        })
    }

    fn respond(
        &self,
        answer: &Answer,
        _model: &ModelRef,
        _request: &ChatRequest,
        ids: &mut Ids,
    ) -> Value {
        let content: Vec<Value> = answer
            .blocks
            .iter()
            .map(|b| match b {
                AnswerBlock::Text(t) => json!({"text": t}),
                AnswerBlock::Reasoning(t) => {
                    json!({"reasoningContent": {"reasoningText": {"text": t}}})
                }
                AnswerBlock::ToolUse { name, input } => json!({"toolUse": {
                    "toolUseId": ids.converse_tool(),
                    "name": name,
                    "input": tool_input(input),
                }}),
            })
            .collect();
        let u = answer.usage();
        json!({
            "output": {"message": {"content": content, "role": "assistant"}},
            "stopReason": answer.reason().as_str(),
            "usage": {
                "inputTokens": u.input_tokens,
                "outputTokens": u.output_tokens,
                "totalTokens": u.total(),
                "cacheReadInputTokenCount": 0,
                "cacheWriteInputTokenCount": 0,
            },
        })
    }
}

/// Nova reads video; the normalized request has no video block, so each one is checked here and
/// replaced by a block that carries nothing (a cache point) — the message keeps its place.
fn without_video(f: &Fields<'_>, messages: &[Value]) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let mut m = m.clone();
        if let Some(blocks) = m.get_mut("content").and_then(Value::as_array_mut) {
            for (j, block) in blocks.iter_mut().enumerate() {
                let Some(video) = block.get("video") else {
                    continue;
                };
                let path = format!("{}.{i}.content.{j}.video", f.path_of("messages"));
                let v = video
                    .as_object()
                    .ok_or_else(|| schema(&path, "expected type: JSONObject"))?;
                let v = Fields::new(v, path);
                one_of(&v, "format", VIDEO_FORMATS)?;
                v.req_str("format")?;
                let source = v.object("source")?.ok_or_else(|| v.missing("source"))?;
                if !source.has("bytes") && !source.has("s3Location") {
                    return Err(source.missing("bytes"));
                }
                *block = json!({"cachePoint": {"type": "default"}});
            }
        }
        out.push(m);
    }
    Ok(out)
}

struct NovaShaper {
    blocks: Blocks,
    ids: Ids,
}

impl NovaShaper {
    fn close(closed: Option<(BlockKind, u32)>, out: &mut Vec<Event>) {
        if let Some((_, index)) = closed {
            out.push(Event::new(
                "chunk",
                format!("{{\"contentBlockStop\":{{\"contentBlockIndex\":{index}}}}}").into_bytes(),
            ));
        }
    }

    /// `{"contentBlockDelta":{"delta":{<member><text>…},"contentBlockIndex":N}}`, hand-written:
    /// this runs once per token.
    fn delta(index: u32, member: &str, closing: &str, text: &str, out: &mut Vec<Event>) {
        let mut p = Vec::with_capacity(80 + text.len());
        p.extend_from_slice(b"{\"contentBlockDelta\":{\"delta\":{");
        p.extend_from_slice(member.as_bytes());
        push_json_str(&mut p, text);
        p.extend_from_slice(closing.as_bytes());
        p.extend_from_slice(b"},\"contentBlockIndex\":");
        p.extend_from_slice(index.to_string().as_bytes());
        p.extend_from_slice(b"}}");
        out.push(Event::new("chunk", p));
    }
}

impl Shaper for NovaShaper {
    fn on_delta(&mut self, delta: &Delta, timing: &Timing, out: &mut Vec<Event>) {
        match delta {
            Delta::Start { .. } => out.push(Event::new(
                "chunk",
                br#"{"messageStart":{"role":"assistant"}}"#.to_vec(),
            )),
            Delta::Text(t) => {
                let e = self.blocks.enter(BlockKind::Text, false);
                Self::close(e.closed, out);
                Self::delta(e.index, "\"text\":", "", t, out);
            }
            Delta::Reasoning(t) => {
                let e = self.blocks.enter(BlockKind::Reasoning, false);
                Self::close(e.closed, out);
                Self::delta(e.index, "\"reasoningContent\":{\"text\":", "}", t, out);
            }
            Delta::ToolStart { name } => {
                let e = self.blocks.enter(BlockKind::Tool, true);
                Self::close(e.closed, out);
                let id = self.ids.converse_tool();
                out.push(Event::json(
                    "chunk",
                    &json!({"contentBlockStart": {
                        "start": {"toolUse": {"toolUseId": id, "name": name}},
                        "contentBlockIndex": e.index,
                    }}),
                ));
            }
            Delta::ToolInput(fragment) => {
                if let Some((BlockKind::Tool, index)) = self.blocks.current() {
                    Self::delta(index, "\"toolUse\":{\"input\":", "}", fragment, out);
                }
            }
            Delta::Stop(stop) => {
                Self::close(self.blocks.close(), out);
                out.push(Event::json(
                    "chunk",
                    &json!({"messageStop": {"stopReason": stop.reason.as_str()}}),
                ));
                let u = stop.usage;
                out.push(Event::json(
                    "chunk",
                    &json!({
                        "metadata": {
                            "usage": {
                                "inputTokens": u.input_tokens,
                                "outputTokens": u.output_tokens,
                                "cacheReadInputTokenCount": 0,
                                "cacheWriteInputTokenCount": 0,
                            },
                            "metrics": {},
                            "trace": {},
                        },
                        "amazon-bedrock-invocationMetrics": invocation_metrics(u, timing),
                    }),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::families::testing::{parse_body, shape, stop};
    use crate::runtime::stream::delta::StopReason;
    use crate::runtime::stream::request::ToolChoice;

    fn parse(v: Value) -> Result<ChatRequest, ApiError> {
        parse_body(&Nova, "amazon.nova-lite-v1:0", v)
    }

    #[test]
    fn messages_v1_with_inference_config_and_tools() {
        let r = parse(json!({
            "schemaVersion": "messages-v1",
            "system": [{"text": "be brief"}],
            "messages": [{"role": "user", "content": [{"text": "What is AWS?"}, {"video": {"format": "mp4", "source": {"bytes": "AAAA"}}}]}],
            "inferenceConfig": {"max_new_tokens": 20, "temperature": 0.3, "topP": 0.9, "topK": 20, "stopSequences": ["x"]},
            "toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}}], "toolChoice": {"any": {}}}
        }))
        .unwrap();
        assert_eq!(r.system, ["be brief"]);
        assert_eq!(r.last_user_text(), "What is AWS?");
        assert_eq!((r.max_tokens, r.top_k), (Some(20), Some(20)));
        assert_eq!(r.tool_choice, ToolChoice::Any);
        assert_eq!(parse(json!({"messages": [{"role": "user", "content": [{"text": "x"}]}], "inferenceConfig": {"maxTokens": 7}})).unwrap().max_tokens, Some(7));
    }

    #[test]
    fn bad_bodies_name_the_field() {
        let e = parse(json!({"schemaVersion": "v2", "messages": []})).unwrap_err();
        assert!(
            e.message()
                .contains("#/schemaVersion: v2 is not a valid enum value"),
            "{e}"
        );
        let e = parse(
            json!({"messages": [{"role": "user", "content": [{"text": "x"}]}], "max_tokens": 5}),
        )
        .unwrap_err();
        assert!(e.message().contains("extraneous key [max_tokens]"), "{e}");
        let e = parse(json!({"messages": [{"role": "user", "content": [{"text": "x"}]}], "inferenceConfig": {"max_new_tokens": 0}})).unwrap_err();
        assert!(
            e.message().contains("inferenceConfig.max_new_tokens"),
            "{e}"
        );
        let e = parse(json!({"messages": [{"role": "user", "content": [{"video": {"format": "avi", "source": {"bytes": "A"}}}]}]})).unwrap_err();
        assert!(
            e.message().contains("#/messages/0/content/0/video/format"),
            "{e}"
        );
        assert!(parse(json!({"system": [{"text": "x"}]}))
            .unwrap_err()
            .message()
            .contains("[messages]"));
    }

    #[test]
    fn chunks_mirror_converse_events_with_metrics_last() {
        let mut s = NovaShaper {
            blocks: Blocks::default(),
            ids: Ids::seeded(&[b"1"]),
        };
        let chunks = shape(
            &mut s,
            [
                Delta::Start { input_tokens: 3 },
                Delta::Text("Hi".into()),
                Delta::ToolStart { name: "f".into() },
                Delta::ToolInput("{}".into()),
                stop(StopReason::ToolUse, 3, 2),
            ],
        );
        assert_eq!(chunks[0], json!({"messageStart": {"role": "assistant"}}));
        assert_eq!(
            chunks[1],
            json!({"contentBlockDelta": {"delta": {"text": "Hi"}, "contentBlockIndex": 0}})
        );
        assert_eq!(
            chunks[2],
            json!({"contentBlockStop": {"contentBlockIndex": 0}})
        );
        assert_eq!(
            chunks[3]["contentBlockStart"]["start"]["toolUse"]["name"],
            "f"
        );
        assert_eq!(
            chunks[4],
            json!({"contentBlockDelta": {"delta": {"toolUse": {"input": "{}"}}, "contentBlockIndex": 1}})
        );
        assert_eq!(
            chunks[6],
            json!({"messageStop": {"stopReason": "tool_use"}})
        );
        assert_eq!(chunks[7]["metadata"]["usage"]["outputTokens"], 2);
        assert_eq!(
            chunks[7]["amazon-bedrock-invocationMetrics"]["inputTokenCount"],
            3
        );
        assert_eq!(chunks.len(), 8);
    }
}
