//! Cohere Command R / R+ (`cohere.command-r*`): `message`, `chat_history` (`USER` / `CHATBOT`),
//! `preamble`, `documents`, `tools` with `parameter_definitions`, `tool_results`, `p`, `k` …
//!
//! ```text
//! {"is_finished":false,"event_type":"stream-start","generation_id":"…"}
//! {"is_finished":false,"event_type":"text-generation","text":" Hi"}
//! {"is_finished":false,"event_type":"tool-calls-chunk","tool_call_delta":{"index":0,"name":"f"}}
//! {"is_finished":false,"event_type":"tool-calls-chunk","tool_call_delta":{"index":0,"parameters":"{\"a\":"}}
//! {"is_finished":false,"event_type":"tool-calls-generation","text":"…","tool_calls":[{"name":"f","parameters":{…}}]}
//! {"is_finished":true,"event_type":"stream-end","response":{…},"finish_reason":"COMPLETE","amazon-bedrock-invocationMetrics":{…}}
//! ```

use super::cohere::finish_reason;
use super::{invocation_metrics, Family};
use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::{Fields, Object};
use crate::runtime::read::rules::{int_in, keys, one_of, schema};
use crate::runtime::stream::answer::{tool_input, Answer, AnswerBlock};
use crate::runtime::stream::delta::{Delta, StopReason, Usage};
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::request::{Block, ChatRequest, Message, Role, Tool, ToolResultContent};
use crate::runtime::stream::shaper::{push_json_str, Event, Shaper, Timing};
use serde_json::{json, Map, Value};

pub struct CommandR;

const KEYS: &[&str] = &[
    "message",
    "chat_history",
    "documents",
    "search_queries_only",
    "preamble",
    "max_tokens",
    "temperature",
    "p",
    "k",
    "prompt_truncation",
    "frequency_penalty",
    "presence_penalty",
    "seed",
    "return_prompt",
    "tools",
    "tool_results",
    "stop_sequences",
    "raw_prompting",
];

impl Family for CommandR {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<ChatRequest, ApiError> {
        let f = Fields::new(body, "");
        keys(&f, &["message"], KEYS)?;
        let mut req = ChatRequest {
            max_tokens: int_in(&f, "max_tokens", 1, 4096)?,
            temperature: f.f64_in("temperature", 0.0, 1.0)?,
            top_p: f.f64_in("p", 0.01, 0.99)?,
            top_k: f.f64_in("k", 0.0, 500.0)?.map(|k| k as u32),
            stop_sequences: f.strings("stop_sequences")?,
            ..Default::default()
        };
        one_of(&f, "prompt_truncation", &["OFF", "AUTO_PRESERVE_ORDER"])?;
        f.f64_in("frequency_penalty", 0.0, 1.0)?;
        f.f64_in("presence_penalty", 0.0, 1.0)?;
        if let Some(preamble) = f.str("preamble")? {
            req.system.push(preamble.to_string());
        }
        for (i, d) in f.array("documents")?.into_iter().flatten().enumerate() {
            let d = f.item("documents", i, d)?;
            let fields: Vec<String> = d
                .obj
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{k}: {}",
                        v.as_str().map_or_else(|| v.to_string(), str::to_string)
                    )
                })
                .collect();
            req.system
                .push(format!("Document {i}\n{}", fields.join("\n")));
        }
        for (i, turn) in f.array("chat_history")?.into_iter().flatten().enumerate() {
            let turn = f.item("chat_history", i, turn)?;
            let role = one_of(&turn, "role", &["USER", "CHATBOT", "SYSTEM", "TOOL"])?
                .ok_or_else(|| turn.missing("role"))?;
            let text = turn.str("message")?.unwrap_or_default().to_string();
            match role {
                "USER" => req.messages.push(Message::text(Role::User, text)),
                "CHATBOT" => req.messages.push(Message::text(Role::Assistant, text)),
                "SYSTEM" => req.system.push(text),
                _ => {} // TOOL turns repeat results the history already answered
            }
        }
        let message = f.req_str("message")?;
        if !message.is_empty() {
            req.messages.push(Message::text(Role::User, message));
        }
        req.tools = tools(&f)?;
        let results = f
            .array("tool_results")?
            .map(Vec::as_slice)
            .unwrap_or_default();
        if !results.is_empty() {
            let mut calls = Vec::new();
            let mut replies = Vec::new();
            for (i, r) in results.iter().enumerate() {
                let r = f.item("tool_results", i, r)?;
                let call = r.object("call")?.ok_or_else(|| r.missing("call"))?;
                let id = format!("call_{i}");
                calls.push(Block::ToolUse {
                    id: id.clone(),
                    name: call.req_str("name")?.to_string(),
                    input: call.get("parameters").cloned().unwrap_or_else(|| json!({})),
                });
                let outputs = r.req_array("outputs")?;
                replies.push(Block::ToolResult {
                    id,
                    content: outputs
                        .iter()
                        .map(|o| ToolResultContent::Json(o.clone()))
                        .collect(),
                    is_error: false,
                });
            }
            req.messages.push(Message {
                role: Role::Assistant,
                content: calls,
            });
            req.messages.push(Message {
                role: Role::User,
                content: replies,
            });
        }
        if req.messages.is_empty() {
            return Err(schema("message", "expected minLength: 1, actual: 0"));
        }
        Ok(req)
    }

    fn shaper(&self, _model: &ModelRef, request: &ChatRequest, mut ids: Ids) -> Box<dyn Shaper> {
        Box::new(CommandRShaper {
            generation_id: ids.uuid(),
            history: history(request),
            text: String::new(),
            calls: Vec::new(),
            ids,
        })
    }

    fn respond(
        &self,
        answer: &Answer,
        _: &ModelRef,
        request: &ChatRequest,
        ids: &mut Ids,
    ) -> Value {
        let calls: Vec<(String, String)> = answer
            .blocks
            .iter()
            .filter_map(|b| match b {
                AnswerBlock::ToolUse { name, input } => Some((name.clone(), input.clone())),
                _ => None,
            })
            .collect();
        let generation_id = ids.uuid();
        response(
            &answer.text(),
            &calls,
            answer.reason(),
            answer.usage(),
            history(request),
            &generation_id,
            ids,
        )
    }
}

/// `parameter_definitions` (`{name: {description, type, required}}`) → a JSON Schema object.
fn tools(f: &Fields<'_>) -> Result<Vec<Tool>, ApiError> {
    let mut out = Vec::new();
    for (i, t) in f.array("tools")?.into_iter().flatten().enumerate() {
        let t = f.item("tools", i, t)?;
        let mut properties = Map::new();
        let mut required = Vec::new();
        if let Some(defs) = t.object("parameter_definitions")? {
            for (name, def) in defs.obj {
                let def = Fields::new(
                    def.as_object()
                        .ok_or_else(|| schema(&defs.path_of(name), "expected type: JSONObject"))?,
                    defs.path_of(name),
                );
                let ty = def.req_str("type")?;
                properties.insert(name.clone(), json!({"type": json_type(ty), "description": def.str("description")?.unwrap_or_default()}));
                if def.bool("required")?.unwrap_or(false) {
                    required.push(Value::from(name.as_str()));
                }
            }
        }
        out.push(Tool {
            name: t.req_str("name")?.to_string(),
            description: t.str("description")?.map(str::to_string),
            schema: json!({"type": "object", "properties": properties, "required": required}),
        });
    }
    Ok(out)
}

/// Cohere's Python-flavoured parameter types (`str`, `int`, `List[str]` …) as JSON Schema types.
fn json_type(ty: &str) -> &'static str {
    let t = ty.to_ascii_lowercase();
    if t.starts_with("list") || t.starts_with("array") {
        "array"
    } else if t.starts_with("dict") || t == "object" {
        "object"
    } else if t == "int" || t == "integer" {
        "integer"
    } else if t == "float" || t == "number" {
        "number"
    } else if t == "bool" || t == "boolean" {
        "boolean"
    } else {
        "string"
    }
}

/// The conversation so far as Cohere's `chat_history` (text turns only).
fn history(request: &ChatRequest) -> Vec<Value> {
    request
        .messages
        .iter()
        .filter_map(|m| {
            let text: String = m
                .content
                .iter()
                .filter_map(|b| match b {
                    Block::Text(t) => Some(t.as_str()),
                    _ => None,
                })
                .collect();
            let role = if m.role == Role::User {
                "USER"
            } else {
                "CHATBOT"
            };
            (!text.is_empty()).then(|| json!({"role": role, "message": text}))
        })
        .collect()
}

fn response(
    text: &str,
    calls: &[(String, String)],
    reason: &StopReason,
    usage: Usage,
    mut history: Vec<Value>,
    generation_id: &str,
    ids: &mut Ids,
) -> Value {
    let tool_calls: Vec<Value> = calls
        .iter()
        .map(|(name, input)| json!({"name": name, "parameters": tool_input(input)}))
        .collect();
    let mut reply = json!({"role": "CHATBOT", "message": text});
    if !tool_calls.is_empty() {
        reply["tool_calls"] = Value::Array(tool_calls.clone());
    }
    history.push(reply);
    let mut out = json!({
        "response_id": ids.uuid(),
        "text": text,
        "generation_id": generation_id,
        "chat_history": history,
        "finish_reason": finish_reason(reason),
    });
    if !tool_calls.is_empty() {
        out["tool_calls"] = Value::Array(tool_calls);
    }
    out["meta"] = json!({
        "api_version": {"version": "1"},
        "billed_units": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
    });
    out
}

struct CommandRShaper {
    generation_id: String,
    history: Vec<Value>,
    text: String,
    /// Tool calls so far: name and the parameters as streamed.
    calls: Vec<(String, String)>,
    ids: Ids,
}

impl CommandRShaper {
    fn tool_chunk(index: usize, field: &str, value: &str, out: &mut Vec<Event>) {
        let mut p = Vec::with_capacity(112 + value.len());
        p.extend_from_slice(b"{\"is_finished\":false,\"event_type\":\"tool-calls-chunk\",\"tool_call_delta\":{\"index\":");
        p.extend_from_slice(index.to_string().as_bytes());
        p.extend_from_slice(format!(",\"{field}\":").as_bytes());
        push_json_str(&mut p, value);
        p.extend_from_slice(b"}}");
        out.push(Event::new("chunk", p));
    }
}

impl Shaper for CommandRShaper {
    fn on_delta(&mut self, delta: &Delta, timing: &Timing, out: &mut Vec<Event>) {
        match delta {
            Delta::Start { .. } => out.push(Event::json(
                "chunk",
                &json!({"is_finished": false, "event_type": "stream-start", "generation_id": self.generation_id}),
            )),
            Delta::Text(t) => {
                self.text.push_str(t);
                out.push(Event::text_chunk(
                    &[r#"{"is_finished":false,"event_type":"text-generation","text":"#],
                    t,
                    "}",
                ));
            }
            Delta::ToolStart { name } => {
                self.calls.push((name.clone(), String::new()));
                Self::tool_chunk(self.calls.len() - 1, "name", name, out);
            }
            Delta::ToolInput(fragment) => {
                if let Some((_, input)) = self.calls.last_mut() {
                    input.push_str(fragment);
                    Self::tool_chunk(self.calls.len() - 1, "parameters", fragment, out);
                }
            }
            Delta::Stop(stop) => {
                if !self.calls.is_empty() {
                    let tool_calls: Vec<Value> = self.calls.iter().map(|(name, input)| json!({"name": name, "parameters": tool_input(input)})).collect();
                    out.push(Event::json(
                        "chunk",
                        &json!({"is_finished": false, "event_type": "tool-calls-generation", "text": self.text, "tool_calls": tool_calls}),
                    ));
                }
                let history = std::mem::take(&mut self.history);
                let response = response(&self.text, &self.calls, &stop.reason, stop.usage, history, &self.generation_id, &mut self.ids);
                out.push(Event::json(
                    "chunk",
                    &json!({
                        "is_finished": true,
                        "event_type": "stream-end",
                        "response": response,
                        "finish_reason": finish_reason(&stop.reason),
                        "amazon-bedrock-invocationMetrics": invocation_metrics(stop.usage, timing),
                    }),
                ));
            }
            Delta::Reasoning(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::families::testing::{parse_body, shape, stop};

    fn parse(v: Value) -> Result<ChatRequest, ApiError> {
        parse_body(&CommandR, "cohere.command-r-v1:0", v)
    }

    #[test]
    fn history_preamble_documents_and_tools() {
        let r = parse(json!({
            "message": "What about Paris?",
            "preamble": "be brief",
            "chat_history": [{"role": "USER", "message": "Weather in Rome?"}, {"role": "CHATBOT", "message": "Sunny."}],
            "documents": [{"title": "guide", "snippet": "Paris is rainy"}],
            "tools": [{"name": "get_weather", "description": "d", "parameter_definitions": {"city": {"description": "c", "type": "str", "required": true}}}]
        }))
        .unwrap();
        assert_eq!(r.system[0], "be brief");
        assert!(r.system[1].contains("Paris is rainy"));
        assert_eq!(r.messages.len(), 3);
        assert_eq!(r.tools[0].schema["properties"]["city"]["type"], "string");
        assert_eq!(r.tools[0].schema["required"], json!(["city"]));
    }

    #[test]
    fn tool_results_become_a_tool_turn() {
        let r = parse(json!({"message": "", "tool_results": [{"call": {"name": "f", "parameters": {"a": 1}}, "outputs": [{"temp": 12}]}]})).unwrap();
        assert!(matches!(
            &r.messages[1].content[0],
            Block::ToolResult { .. }
        ));
    }

    #[test]
    fn bad_bodies_name_the_field() {
        assert!(parse(json!({"chat_history": []}))
            .unwrap_err()
            .message()
            .contains("[message]"));
        assert!(parse(json!({"message": "x", "stream": true}))
            .unwrap_err()
            .message()
            .contains("extraneous key [stream]"));
        assert!(
            parse(json!({"message": "x", "chat_history": [{"role": "BOT", "message": "y"}]}))
                .unwrap_err()
                .message()
                .contains("#/chat_history/0/role: BOT")
        );
        assert!(parse(json!({"message": "x", "p": 1.5}))
            .unwrap_err()
            .message()
            .contains("at 'p'"));
    }

    #[test]
    fn tool_calls_stream_as_chunks_then_a_generation_and_the_end() {
        let mut s = CommandRShaper {
            generation_id: "g".into(),
            history: vec![],
            text: String::new(),
            calls: vec![],
            ids: Ids::seeded(&[b"2"]),
        };
        let c = shape(
            &mut s,
            [
                Delta::Start { input_tokens: 3 },
                Delta::Text("I will".into()),
                Delta::ToolStart { name: "f".into() },
                Delta::ToolInput("{\"a\":".into()),
                Delta::ToolInput("1}".into()),
                stop(StopReason::ToolUse, 3, 5),
            ],
        );
        assert_eq!(
            c[0],
            json!({"is_finished": false, "event_type": "stream-start", "generation_id": "g"})
        );
        assert_eq!(c[1]["event_type"], "text-generation");
        assert_eq!(c[2]["tool_call_delta"], json!({"index": 0, "name": "f"}));
        assert_eq!(
            c[3]["tool_call_delta"],
            json!({"index": 0, "parameters": "{\"a\":"})
        );
        assert_eq!(
            c[5]["tool_calls"],
            json!([{"name": "f", "parameters": {"a": 1}}])
        );
        assert_eq!(c[6]["event_type"], "stream-end");
        assert_eq!(c[6]["finish_reason"], "COMPLETE");
        assert_eq!(c[6]["response"]["meta"]["billed_units"]["output_tokens"], 5);
    }
}
