//! Meta Llama (`meta.llama*`): `prompt` (the chat template is the caller's), `max_gen_len`,
//! `temperature`, `top_p`, and `images` for the 3.2 vision models.
//!
//! ```text
//! {"generation":"Hello","prompt_token_count":12,"generation_token_count":1,"stop_reason":null}
//! {"generation":" there","prompt_token_count":null,"generation_token_count":2,"stop_reason":null}
//! {"generation":"","prompt_token_count":null,"generation_token_count":2,"stop_reason":"stop","amazon-bedrock-invocationMetrics":{…}}
//! ```

use super::{invocation_metrics, Family};
use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::{is_base64, Fields, Object};
use crate::runtime::read::prompt;
use crate::runtime::read::rules::{int_in, keys, schema, NOT_BASE64};
use crate::runtime::stream::answer::Answer;
use crate::runtime::stream::delta::{Delta, StopReason};
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::request::{Block, ChatRequest, Role};
use crate::runtime::stream::shaper::{push_json_str, Event, Shaper, Timing};
use serde_json::{json, Value};

pub struct Llama;

const KEYS: &[&str] = &["prompt", "max_gen_len", "temperature", "top_p", "images"];

/// `stop` for a natural end (or a stop sequence), `length` when `max_gen_len` cut it.
fn stop_reason(reason: &StopReason) -> &'static str {
    match reason {
        StopReason::MaxTokens => "length",
        _ => "stop",
    }
}

impl Family for Llama {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<ChatRequest, ApiError> {
        let f = Fields::new(body, "");
        keys(&f, &["prompt"], KEYS)?;
        let mut req = prompt::request(f.req_str("prompt")?);
        req.max_tokens = int_in(&f, "max_gen_len", 1, 8192)?;
        req.temperature = f.f64_in("temperature", 0.0, 1.0)?;
        req.top_p = f.f64_in("top_p", 0.0, 1.0)?;
        let images = f.strings("images")?;
        if !images.is_empty() {
            let Some(user) = req.messages.iter_mut().rev().find(|m| m.role == Role::User) else {
                return Err(schema("images", "images need a user turn in the prompt"));
            };
            for (i, data) in images.into_iter().enumerate() {
                if !is_base64(&data) {
                    return Err(schema(&format!("images.{i}"), NOT_BASE64));
                }
                user.content.push(Block::Image {
                    format: "png".into(),
                    data,
                });
            }
        }
        Ok(req)
    }

    fn shaper(&self, _model: &ModelRef, _request: &ChatRequest, _ids: Ids) -> Box<dyn Shaper> {
        Box::new(LlamaShaper::default())
    }

    fn respond(
        &self,
        answer: &Answer,
        _model: &ModelRef,
        _request: &ChatRequest,
        _ids: &mut Ids,
    ) -> Value {
        let u = answer.usage();
        json!({
            "generation": answer.text(),
            "prompt_token_count": u.input_tokens,
            "generation_token_count": u.output_tokens,
            "stop_reason": stop_reason(answer.reason()),
        })
    }
}

#[derive(Default)]
struct LlamaShaper {
    /// The prompt count, until the first chunk has carried it.
    prompt_tokens: Option<u32>,
    generated: u32,
}

impl Shaper for LlamaShaper {
    fn on_delta(&mut self, delta: &Delta, timing: &Timing, out: &mut Vec<Event>) {
        match delta {
            Delta::Start { input_tokens } => self.prompt_tokens = Some(*input_tokens),
            Delta::Text(t) => {
                self.generated += 1;
                let mut p = Vec::with_capacity(112 + t.len());
                p.extend_from_slice(b"{\"generation\":");
                push_json_str(&mut p, t);
                p.extend_from_slice(b",\"prompt_token_count\":");
                match self.prompt_tokens.take() {
                    Some(n) => p.extend_from_slice(n.to_string().as_bytes()),
                    None => p.extend_from_slice(b"null"),
                }
                p.extend_from_slice(b",\"generation_token_count\":");
                p.extend_from_slice(self.generated.to_string().as_bytes());
                p.extend_from_slice(b",\"stop_reason\":null}");
                out.push(Event::new("chunk", p));
            }
            Delta::Stop(stop) => out.push(Event::json(
                "chunk",
                &json!({
                    "generation": "",
                    "prompt_token_count": self.prompt_tokens.take(),
                    "generation_token_count": stop.usage.output_tokens,
                    "stop_reason": stop_reason(&stop.reason),
                    "amazon-bedrock-invocationMetrics": invocation_metrics(stop.usage, timing),
                }),
            )),
            // Llama on InvokeModel has no tool or reasoning channel.
            Delta::Reasoning(_) | Delta::ToolStart { .. } | Delta::ToolInput(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::families::testing::{parse_body, shape, stop};

    fn parse(v: Value) -> Result<ChatRequest, ApiError> {
        parse_body(&Llama, "meta.llama3-8b-instruct-v1:0", v)
    }

    #[test]
    fn prompt_limits_and_images() {
        let r = parse(json!({"prompt": "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nDescribe this<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", "max_gen_len": 64, "images": ["iVBORw0KGgo="]})).unwrap();
        assert_eq!(r.max_tokens, Some(64));
        assert_eq!(r.last_user_text(), "Describe this");
        assert!(matches!(r.messages[0].content[1], Block::Image { .. }));
        let e =
            parse(json!({"prompt": "hi", "images": ["iVBORw0KGgo=", "!!!notbase64"]})).unwrap_err();
        assert!(
            e.message()
                .contains("#/images/1: string is not valid base64"),
            "{e}"
        );
        let e = parse(json!({"max_gen_len": 5})).unwrap_err();
        assert!(e.message().contains("[prompt]"), "{e}");
        let e = parse(json!({"prompt": "hi", "max_gen_len": 0})).unwrap_err();
        assert!(e.message().contains("at 'max_gen_len'"), "{e}");
        let e = parse(json!({"prompt": "hi", "temperature": 1.5})).unwrap_err();
        assert!(e.message().contains("at 'temperature'"), "{e}");
        let e = parse(json!({"prompt": "hi", "max_tokens": 5})).unwrap_err();
        assert!(e.message().contains("extraneous key [max_tokens]"), "{e}");
    }

    #[test]
    fn only_the_first_chunk_carries_the_prompt_count() {
        let c = shape(
            &mut LlamaShaper::default(),
            [
                Delta::Start { input_tokens: 9 },
                Delta::Text("Hi".into()),
                Delta::Text(" there".into()),
                stop(StopReason::MaxTokens, 9, 2),
            ],
        );
        assert_eq!(
            c[0],
            json!({"generation": "Hi", "prompt_token_count": 9, "generation_token_count": 1, "stop_reason": null})
        );
        assert_eq!(c[1]["prompt_token_count"], Value::Null);
        assert_eq!(c[1]["generation_token_count"], 2);
        assert_eq!(c[2]["stop_reason"], "length");
        assert_eq!(
            c[2]["amazon-bedrock-invocationMetrics"]["outputTokenCount"],
            2
        );
    }
}
