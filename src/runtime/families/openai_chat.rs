//! OpenAI-style chat-completion bodies (AI21 Jamba, DeepSeek, OpenAI gpt-oss, Qwen and the other
//! open-weight models Bedrock serves this way), plus DeepSeek R1's `prompt` completion form.
//!
//! ```text
//! {"id":"chatcmpl-…","object":"chat.completion.chunk","created":…,"model":"…","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
//! … "delta":{"content":" Hi"} … "delta":{"reasoning_content":"…"} … "delta":{"tool_calls":[{"index":0,"function":{"arguments":"…"}}]}
//! … "choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{…},"amazon-bedrock-invocationMetrics":{…}}
//! prompt form: {"choices":[{"text":" Hi","stop_reason":null}]} … {"choices":[{"text":"","stop_reason":"stop"}],…}
//! ```

use super::mistral::arguments;
use super::{invocation_metrics, Family};
use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::{Fields, Object};
use crate::runtime::read::openai_messages::{read_messages, read_tool_choice, read_tools};
use crate::runtime::read::rules::{int_in, one_of, require, stop_list};
use crate::runtime::stream::answer::{Answer, AnswerBlock};
use crate::runtime::stream::delta::{Delta, StopReason, Usage};
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::request::ChatRequest;
use crate::runtime::stream::shaper::{push_json_str, Event, Shaper, Timing};
use serde_json::{json, Value};

/// `messages` bodies answered as `chat.completion`.
pub struct ChatCompletions;

fn finish_reason(reason: &StopReason) -> &'static str {
    match reason {
        StopReason::MaxTokens => "length",
        StopReason::ToolUse => "tool_calls",
        StopReason::ContentFiltered => "content_filter",
        _ => "stop",
    }
}

fn usage(u: Usage) -> Value {
    json!({
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.total(),
    })
}

impl Family for ChatCompletions {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<ChatRequest, ApiError> {
        // An open schema: OpenAI-compatible servers ignore what they do not use.
        let f = Fields::new(body, "");
        require(&f, &["messages"])?;
        let max = int_in(&f, "max_completion_tokens", 1, 1_000_000)?;
        let mut req = ChatRequest {
            max_tokens: max.or(int_in(&f, "max_tokens", 1, 1_000_000)?),
            temperature: f.f64_in("temperature", 0.0, 2.0)?,
            top_p: f.f64_in("top_p", 0.0, 1.0)?,
            stop_sequences: stop_list(&f, "stop")?,
            reasoning: one_of(
                &f,
                "reasoning_effort",
                &["minimal", "low", "medium", "high"],
            )?
            .is_some(),
            ..Default::default()
        };
        int_in(&f, "n", 1, 1)?;
        f.bool("stream")?;
        read_messages(&f, &mut req)?;
        req.tools = read_tools(&f)?;
        req.tool_choice = read_tool_choice(&f, &["auto", "none", "required"])?;
        Ok(req)
    }

    fn shaper(&self, model: &ModelRef, _request: &ChatRequest, mut ids: Ids) -> Box<dyn Shaper> {
        let mut prefix = Vec::with_capacity(128);
        prefix.extend_from_slice(b"{\"id\":");
        push_json_str(&mut prefix, &format!("chatcmpl-{}", ids.short(29)));
        prefix.extend_from_slice(b",\"object\":\"chat.completion.chunk\",\"created\":");
        prefix.extend_from_slice(ids.unix_seconds().to_string().as_bytes());
        prefix.extend_from_slice(b",\"model\":");
        push_json_str(&mut prefix, &model.id);
        prefix.extend_from_slice(b",\"choices\":[{\"index\":0,\"delta\":");
        Box::new(ChunkShaper {
            prefix,
            ids,
            tools: 0,
        })
    }

    fn respond(&self, answer: &Answer, model: &ModelRef, _: &ChatRequest, ids: &mut Ids) -> Value {
        let id = format!("chatcmpl-{}", ids.short(29));
        let calls: Vec<Value> = answer
            .blocks
            .iter()
            .filter_map(|b| match b {
                AnswerBlock::ToolUse { name, input } => Some(json!({
                    "id": format!("call_{}", ids.short(24)),
                    "type": "function",
                    "function": {"name": name, "arguments": arguments(input)},
                })),
                _ => None,
            })
            .collect();
        let text = answer.text();
        let mut message = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { Value::from(text) }});
        let reasoning: String = answer
            .blocks
            .iter()
            .filter_map(|b| match b {
                AnswerBlock::Reasoning(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        if !reasoning.is_empty() {
            message["reasoning_content"] = Value::from(reasoning);
        }
        if !calls.is_empty() {
            message["tool_calls"] = Value::Array(calls);
        }
        json!({
            "id": id,
            "object": "chat.completion",
            "created": ids.unix_seconds(),
            "model": model.id,
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(answer.reason())}],
            "usage": usage(answer.usage()),
        })
    }
}

struct ChunkShaper {
    /// `{"id":…,"object":…,"created":…,"model":…,"choices":[{"index":0,"delta":` — the same for
    /// every chunk of the stream.
    prefix: Vec<u8>,
    ids: Ids,
    tools: u32,
}

impl ChunkShaper {
    fn chunk(&self, delta: &[u8], out: &mut Vec<Event>) {
        let mut p = Vec::with_capacity(self.prefix.len() + delta.len() + 24);
        p.extend_from_slice(&self.prefix);
        p.extend_from_slice(delta);
        p.extend_from_slice(b",\"finish_reason\":null}]}");
        out.push(Event::new("chunk", p));
    }

    fn field(&self, name: &str, text: &str, out: &mut Vec<Event>) {
        let mut d = Vec::with_capacity(24 + text.len());
        d.extend_from_slice(format!("{{\"{name}\":").as_bytes());
        push_json_str(&mut d, text);
        d.push(b'}');
        self.chunk(&d, out);
    }
}

impl Shaper for ChunkShaper {
    fn on_delta(&mut self, delta: &Delta, timing: &Timing, out: &mut Vec<Event>) {
        match delta {
            Delta::Start { .. } => self.chunk(br#"{"role":"assistant","content":""}"#, out),
            Delta::Text(t) => self.field("content", t, out),
            Delta::Reasoning(t) => self.field("reasoning_content", t, out),
            Delta::ToolStart { name } => {
                let call = json!({"tool_calls": [{
                    "index": self.tools,
                    "id": format!("call_{}", self.ids.short(24)),
                    "type": "function",
                    "function": {"name": name, "arguments": ""},
                }]});
                self.tools += 1;
                self.chunk(call.to_string().as_bytes(), out);
            }
            Delta::ToolInput(fragment) => {
                let mut d = Vec::with_capacity(64 + fragment.len());
                d.extend_from_slice(b"{\"tool_calls\":[{\"index\":");
                d.extend_from_slice(self.tools.saturating_sub(1).to_string().as_bytes());
                d.extend_from_slice(b",\"function\":{\"arguments\":");
                push_json_str(&mut d, fragment);
                d.extend_from_slice(b"}}]}");
                self.chunk(&d, out);
            }
            Delta::Stop(stop) => {
                let mut p = self.prefix.clone();
                p.extend_from_slice(b"{},\"finish_reason\":");
                push_json_str(&mut p, finish_reason(&stop.reason));
                p.extend_from_slice(b"}],\"usage\":");
                p.extend_from_slice(usage(stop.usage).to_string().as_bytes());
                p.extend_from_slice(b",\"amazon-bedrock-invocationMetrics\":");
                // Writing plain numbers into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut p, &invocation_metrics(stop.usage, timing));
                p.push(b'}');
                out.push(Event::new("chunk", p));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::families::testing::{model, parse_body, shape, stop};
    use crate::runtime::stream::request::ToolChoice;

    const GPT_OSS: &str = "openai.gpt-oss-20b-1:0";

    fn parse(v: Value) -> Result<ChatRequest, ApiError> {
        parse_body(&ChatCompletions, GPT_OSS, v)
    }

    #[test]
    fn chat_bodies_take_openai_parameters() {
        let r = parse(json!({"messages": [{"role": "developer", "content": "terse"}, {"role": "user", "content": "hi"}], "max_completion_tokens": 9, "stop": "END", "reasoning_effort": "low", "tool_choice": "required", "tools": [{"type": "function", "function": {"name": "f"}}], "stream": false})).unwrap();
        assert_eq!((r.max_tokens, r.reasoning), (Some(9), true));
        assert_eq!(r.stop_sequences, ["END"]);
        assert_eq!(r.tool_choice, ToolChoice::Any);
        assert_eq!(r.system, ["terse"]);
        let e = parse(json!({"messages": [{"role": "user", "content": "hi"}], "temperature": 3}))
            .unwrap_err();
        assert!(e.message().contains("at 'temperature'"), "{e}");
        let e = parse(
            json!({"messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "max"}),
        )
        .unwrap_err();
        assert!(e.message().contains("#/reasoning_effort: max"), "{e}");
        assert!(parse(json!({"prompt": "x"}))
            .unwrap_err()
            .message()
            .contains("[messages]"));
    }

    #[test]
    fn chunks_open_with_the_role_and_close_with_usage() {
        let mut s = ChatCompletions.shaper(
            &model(GPT_OSS),
            &ChatRequest::default(),
            Ids::seeded(&[b"4"]),
        );
        let c = shape(
            s.as_mut(),
            [
                Delta::Start { input_tokens: 6 },
                Delta::Reasoning("hmm".into()),
                Delta::Text("Hi".into()),
                Delta::ToolStart { name: "f".into() },
                Delta::ToolInput("{}".into()),
                stop(StopReason::ToolUse, 6, 3),
            ],
        );
        assert_eq!(c[0]["object"], "chat.completion.chunk");
        assert_eq!(c[0]["model"], "openai.gpt-oss-20b-1:0");
        assert_eq!(
            c[0]["choices"][0]["delta"],
            json!({"role": "assistant", "content": ""})
        );
        assert_eq!(
            c[1]["choices"][0]["delta"],
            json!({"reasoning_content": "hmm"})
        );
        assert_eq!(c[2]["choices"][0]["delta"], json!({"content": "Hi"}));
        assert_eq!(
            c[3]["choices"][0]["delta"]["tool_calls"][0]["function"]["name"],
            "f"
        );
        assert_eq!(
            c[4]["choices"][0]["delta"],
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]})
        );
        assert_eq!(c[5]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(c[5]["usage"]["total_tokens"], 9);
        assert_eq!(
            c[5]["amazon-bedrock-invocationMetrics"]["outputTokenCount"],
            3
        );
        assert!(c.iter().all(|x| x["id"] == c[0]["id"]));
    }
}
