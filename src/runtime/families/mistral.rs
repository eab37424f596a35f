//! Mistral AI (`mistral.*`) chat: the `messages` body (with `tools`, `tool_choice`) of Mistral Large
//! 2407 / Pixtral. The text-completion `prompt` body is `completion::MISTRAL`; the body's shape picks.
//!
//! ```text
//! text: {"outputs":[{"text":" Hi","stop_reason":null}]} … {"outputs":[{"text":"","stop_reason":"stop"}],"amazon-bedrock-invocationMetrics":{…}}
//! chat: {"choices":[{"index":0,"message":{"role":"assistant","content":" Hi"},"stop_reason":null}]} … "stop_reason":"tool_calls"
//! ```

use super::{invocation_metrics, Family};
use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::{Fields, Object};
use crate::runtime::read::openai_messages::{read_messages, read_tool_choice, read_tools};
use crate::runtime::read::rules::{int_in, keys, stop_list};
use crate::runtime::stream::answer::{Answer, AnswerBlock};
use crate::runtime::stream::delta::{Delta, StopReason};
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::request::ChatRequest;
use crate::runtime::stream::shaper::{push_json_str, Event, Shaper, Timing};
use serde_json::{json, Value};

/// `messages` bodies (the `prompt` form is [`super::prompt_completion::MISTRAL`]).
pub struct Chat;

const CHAT_KEYS: &[&str] = &[
    "messages",
    "tools",
    "tool_choice",
    "max_tokens",
    "temperature",
    "top_p",
    "stop",
    "random_seed",
    "response_format",
    "safe_prompt",
];

fn stop_reason(reason: &StopReason) -> &'static str {
    match reason {
        StopReason::MaxTokens => "length",
        StopReason::ToolUse => "tool_calls",
        _ => "stop",
    }
}

impl Family for Chat {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<ChatRequest, ApiError> {
        let f = Fields::new(body, "");
        keys(&f, &["messages"], CHAT_KEYS)?;
        let mut req = ChatRequest {
            max_tokens: int_in(&f, "max_tokens", 1, 131_072)?,
            temperature: f.f64_in("temperature", 0.0, 1.0)?,
            top_p: f.f64_in("top_p", 0.0, 1.0)?,
            stop_sequences: stop_list(&f, "stop")?,
            ..Default::default()
        };
        read_messages(&f, &mut req)?;
        req.tools = read_tools(&f)?;
        req.tool_choice = read_tool_choice(&f, &["auto", "any", "none"])?;
        Ok(req)
    }

    fn shaper(&self, _model: &ModelRef, _request: &ChatRequest, ids: Ids) -> Box<dyn Shaper> {
        Box::new(ChatShaper { ids, tools: 0 })
    }

    fn respond(&self, answer: &Answer, _: &ModelRef, _: &ChatRequest, ids: &mut Ids) -> Value {
        let calls: Vec<Value> = answer
            .blocks
            .iter()
            .filter_map(|b| match b {
                AnswerBlock::ToolUse { name, input } => Some(json!({
                    "id": ids.short(9),
                    "function": {"name": name, "arguments": arguments(input)},
                })),
                _ => None,
            })
            .collect();
        let mut message = json!({"role": "assistant", "content": answer.text()});
        if !calls.is_empty() {
            message["tool_calls"] = Value::Array(calls);
        }
        json!({"choices": [{"index": 0, "message": message, "stop_reason": stop_reason(answer.reason())}]})
    }
}

/// A tool call's arguments as the model wrote them (`{}` for none).
pub fn arguments(input: &str) -> String {
    if input.trim().is_empty() {
        "{}".to_string()
    } else {
        input.to_string()
    }
}

struct ChatShaper {
    ids: Ids,
    /// Tool calls started so far (the next call's `index`).
    tools: u32,
}

impl ChatShaper {
    /// `{"choices":[{"index":0,"message":{"role":"assistant","content":…<extra>},"stop_reason":null}]}`
    fn chunk(content: &str, extra: &[u8], out: &mut Vec<Event>) {
        let mut p = Vec::with_capacity(112 + content.len() + extra.len());
        p.extend_from_slice(
            b"{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":",
        );
        push_json_str(&mut p, content);
        p.extend_from_slice(extra);
        p.extend_from_slice(b"},\"stop_reason\":null}]}");
        out.push(Event::new("chunk", p));
    }
}

impl Shaper for ChatShaper {
    fn on_delta(&mut self, delta: &Delta, timing: &Timing, out: &mut Vec<Event>) {
        match delta {
            Delta::Text(t) => Self::chunk(t, b"", out),
            Delta::ToolStart { name } => {
                let call = json!([{
                    "index": self.tools,
                    "id": self.ids.short(9),
                    "function": {"name": name, "arguments": ""},
                }]);
                self.tools += 1;
                Self::chunk("", format!(",\"tool_calls\":{call}").as_bytes(), out);
            }
            Delta::ToolInput(fragment) => {
                let mut extra = Vec::with_capacity(64 + fragment.len());
                extra.extend_from_slice(b",\"tool_calls\":[{\"index\":");
                extra.extend_from_slice(self.tools.saturating_sub(1).to_string().as_bytes());
                extra.extend_from_slice(b",\"function\":{\"arguments\":");
                push_json_str(&mut extra, fragment);
                extra.extend_from_slice(b"}}]");
                Self::chunk("", &extra, out);
            }
            Delta::Stop(stop) => out.push(Event::json(
                "chunk",
                &json!({
                    "choices": [{
                        "index": 0,
                        "message": {"role": "assistant", "content": ""},
                        "stop_reason": stop_reason(&stop.reason),
                    }],
                    "amazon-bedrock-invocationMetrics": invocation_metrics(stop.usage, timing),
                }),
            )),
            Delta::Start { .. } | Delta::Reasoning(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::families::testing::{parse_body, shape, stop};
    use crate::runtime::stream::request::ToolChoice;

    #[test]
    fn chat_bodies_take_tools_and_mistral_tool_choice() {
        let parse = |body| parse_body(&Chat, "mistral.mistral-large-2407-v1:0", body);
        let r = parse(json!({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}], "tool_choice": "any"})).unwrap();
        assert_eq!(r.tool_choice, ToolChoice::Any);
        let e = parse(
            json!({"messages": [{"role": "user", "content": "hi"}], "tool_choice": "required"}),
        )
        .unwrap_err();
        assert!(
            e.message().contains("required is not a valid enum value"),
            "{e}"
        );
    }

    #[test]
    fn chat_chunks() {
        let mut chat = ChatShaper {
            ids: Ids::seeded(&[b"1"]),
            tools: 0,
        };
        let c = shape(
            &mut chat,
            [
                Delta::Text("Hi".into()),
                Delta::ToolStart { name: "f".into() },
                Delta::ToolInput("{\"a\":1}".into()),
                stop(StopReason::ToolUse, 5, 2),
            ],
        );
        assert_eq!(
            c[0],
            json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "stop_reason": null}]})
        );
        let call = &c[1]["choices"][0]["message"]["tool_calls"][0];
        assert_eq!(
            (call["index"].as_u64(), call["function"]["name"].as_str()),
            (Some(0), Some("f"))
        );
        assert_eq!(call["id"].as_str().unwrap().len(), 9);
        assert_eq!(
            c[2]["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
            "{\"a\":1}"
        );
        assert_eq!(c[3]["choices"][0]["stop_reason"], "tool_calls");
        assert_eq!(
            c[3]["amazon-bedrock-invocationMetrics"]["inputTokenCount"],
            5
        );
    }
}
